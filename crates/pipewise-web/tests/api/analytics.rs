//! Analytics through the API: the figures equal `pipewise_analytics` on the same book, a rep
//! sees only their own figures, and editing the future (history, activities, tasks) does not
//! change the past.

use pipewise_analytics::metrics::{pipeline_by_stage, waterfall};
use pipewise_analytics::{DashboardQuery, Projection, Scope, dashboard, day};
use pipewise_app as app;
use pipewise_app::{QuotaSubject, WriteCtx};
use pipewise_core::fx::RateTable;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::{Currency, OpportunityId, UserId};
use pipewise_test_support::fixtures::at;
use pipewise_test_support::transact;
use serde_json::{Value, json};

use crate::harness::{App, Shared};

/// A small book: besides the fixture's deal (rep, Prospecting, USD 12,000, created
/// 2026-01-01), the rep has a deal won in February and one lost; the outsider has two open deals.
fn seed(app: &App) -> Vec<OpportunityId> {
    let simple = &app.org.simple;
    let stage = |name: &str| simple.stages.iter().find(|stage| stage.name_en == name).unwrap().id;
    let ctx = |when: &str| WriteCtx { at: at(when), ..app.org.ctx };
    let mut ids = Vec::new();
    transact(&*app.store, |tx| {
        let mut deal = |owner: UserId, name: &str, amount: &str, created: &str| {
            let mut new = app.org.new_deal(name);
            new.owner_id = owner;
            new.amount = Some(amount.parse().unwrap());
            new.close_date = Some("2026-03-20".parse().unwrap());
            let id = app::deals::create_opportunity(tx, &ctx(created), &new).unwrap().id;
            ids.push(id);
            id
        };
        let won = deal(app.org.rep.id, "Won deal", "USD 5000", "2026-01-10T10:00:00Z");
        let lost = deal(app.org.rep.id, "Lost deal", "USD 3000", "2026-01-12T10:00:00Z");
        deal(app.outsider, "Outsider one", "USD 7000", "2026-01-15T10:00:00Z");
        deal(app.outsider, "Outsider two", "USD 9000.50", "2026-02-03T10:00:00Z");
        let closing = OpportunityPatch { stage_id: Some(stage("Closing")), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &ctx("2026-01-20T10:00:00Z"), won, &closing)?;
        app::deals::update_opportunity(
            tx,
            &ctx("2026-02-10T10:00:00Z"),
            won,
            &OpportunityPatch { stage_id: Some(stage("Won")), ..OpportunityPatch::default() },
        )?;
        let lose = OpportunityPatch {
            stage_id: Some(stage("Lost")),
            close_reason: Some(Some("Went with a competitor".into())),
            ..OpportunityPatch::default()
        };
        app::deals::update_opportunity(tx, &ctx("2026-02-12T10:00:00Z"), lost, &lose)?;
        Ok(())
    })
    .unwrap();
    ids
}

/// The projection of the whole log, built directly (no `Insights`).
fn rebuilt(app: &App) -> Projection {
    let mut tx = app::Tx::new(app.store.read().unwrap());
    let events = tx.history_since(app.org.org(), 0, 1_000_000).unwrap();
    let pipelines = tx.pipelines(app.org.org()).unwrap();
    let mut projection = Projection::build(Currency::USD, RateTable::new(Currency::USD), &pipelines, &events).unwrap();
    for user in tx.users(app.org.org()).unwrap() {
        projection.set_team(user.id, user.team_id);
    }
    projection
}

fn usd(cents: i128) -> Value {
    json!(format!("USD {}", pipewise_core::money::Decimal::from_i128_with_scale(cents, 2)))
}

fn bucket<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["waterfall"]["buckets"].as_array().unwrap().iter().find(|bucket| bucket["bucket"] == name).unwrap()
}

pub async fn figures_equal_the_analytics_core(app: Shared) {
    app.blocking(|| seed(&app));
    let projection = app.blocking(|| rebuilt(&app));
    let as_of = day("2026-03-01");
    let expected = dashboard(&projection, &DashboardQuery::new(as_of));
    let body = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(body["as_of"], "2026-03-01");
    assert_eq!(body["period"], json!({ "start": "2026-01-01", "end": "2026-03-31", "key": "2026-Q1" }));
    // Open pipeline: 12,000 (rep) + 7,000 + 9,000.50 (outsider) = 28,000.50 in 3 deals.
    assert_eq!(body["pipeline"]["count"], 3);
    assert_eq!(body["pipeline"]["amount"], "USD 28000.50");
    assert_eq!(body["pipeline"]["count"], expected.pipeline.count);
    assert_eq!(body["pipeline"]["amount"], usd(expected.pipeline.amount));
    assert_eq!(body["pipeline"]["weighted_amount"], usd(expected.pipeline.weighted));
    // One won (5,000), one lost (3,000): win rate 1/2, by value 5,000 / 8,000 = 0.625.
    assert_eq!(body["outcomes"]["won"], 1);
    assert_eq!(body["outcomes"]["lost"], 1);
    assert_eq!(body["outcomes"]["win_rate"], "0.5000");
    assert_eq!(body["outcomes"]["win_rate_by_value"], "0.6250");
    // Cycle: created 2026-01-10, won 2026-02-10 = 31 days.
    assert_eq!(body["outcomes"]["average_cycle_days"], "31.0000");
    assert_eq!(expected.outcomes.won_cycle_days, 31);
    let wf = expected.waterfall;
    for (name, expected_bucket) in [("start", wf.start), ("new", wf.new), ("won", wf.won), ("lost", wf.lost), ("end", wf.end)] {
        assert_eq!(bucket(&body, name)["count"], expected_bucket.count, "{name}");
        assert_eq!(bucket(&body, name)["amount"], usd(expected_bucket.amount), "{name}");
    }
    assert_eq!(body["waterfall"]["reconciles"], true);
    assert_eq!(body["leaderboard"].as_array().unwrap().len(), expected.leaderboard.len());
    assert_eq!(body["health"]["summary"]["open_deals"], expected.health.organisation.open_deals);
    // Drill-down: the ids behind each stage line add up to its count.
    for line in body["pipeline"]["lines"].as_array().unwrap() {
        assert_eq!(line["deal_ids"].as_array().unwrap().len() as u64, line["count"].as_u64().unwrap(), "{line}");
    }
    // The waterfall endpoint lists the deals of each bucket, as many as it counts.
    let falls = app.get("/api/v1/analytics/waterfall?from=2025-12-31&to=2026-03-01", "admin").await.expect(200).body;
    let direct = waterfall(&projection, &Scope::org(), pipewise_analytics::Period::quarter_of(as_of), day("2025-12-31"), as_of);
    assert_eq!(bucket(&falls, "end")["count"], direct.end.count);
    for bucket in falls["waterfall"]["buckets"].as_array().unwrap() {
        assert_eq!(bucket["deal_ids"].as_array().unwrap().len() as i64, bucket["count"].as_i64().unwrap().abs(), "{bucket}");
    }
    // The pipeline endpoint and a trend agree with the core too.
    let pipeline = app.get("/api/v1/analytics/pipeline?as_of=2026-03-01", "ops").await.expect(200).body;
    assert_eq!(pipeline["pipeline"]["amount"], usd(pipeline_by_stage(&projection, &Scope::org(), as_of, None).amount));
    let trend =
        app.get("/api/v1/analytics/trend?metric=pipeline_count&from=2026-01-02&to=2026-03-01&every=29", "viewer").await.expect(200).body;
    let points: Vec<(String, i64)> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| (point["day"].as_str().unwrap().to_owned(), point["value"].as_i64().unwrap()))
        .collect();
    // Every 29 days back from `to`: on 2026-01-02 only the fixture deal exists; on 2026-01-31
    // the rep's three and the outsider's first are open; on 2026-03-01 three are.
    assert_eq!(points, [("2026-01-02".to_owned(), 1), ("2026-01-31".to_owned(), 4), ("2026-03-01".to_owned(), 3)]);
    let health = app.get("/api/v1/analytics/health?as_of=2026-03-01&lang=ko", "admin").await.expect(200).body;
    assert_eq!(health["summary"]["open_deals"], 3);
    let board = app.get("/api/v1/analytics/leaderboard?as_of=2026-03-01&rep_quota=USD%2010000", "admin").await.expect(200).body;
    let top = &board["leaderboard"][0];
    assert_eq!(
        (top["user_id"].as_i64(), top["won_amount"].clone(), top["attainment"].clone()),
        (Some(app.org.rep.id.0), json!("USD 5000.00"), json!("0.5000"))
    );
    // Bad input is a 400 naming the parameter.
    let bad = app.get("/api/v1/analytics/trend?metric=magic", "admin").await.expect(400);
    assert!(bad.body["detail"].as_str().unwrap().starts_with("query parameter metric"), "{}", bad.body);
    app.get("/api/v1/analytics/dashboard?quota=EUR%20100", "admin").await.expect(400);
    app.get("/api/v1/analytics/dashboard", "").await.expect(401);
    // A period starting after the as-of day is refused, not computed backwards.
    let after =
        app.get("/api/v1/analytics/waterfall?as_of=2026-03-01&period_start=2026-04-01&period_end=2026-06-30", "admin").await.expect(400);
    assert_eq!(after.body["detail"], "query parameter period_start: it is after as_of");
}

pub async fn a_rep_sees_only_their_own_figures(app: Shared) {
    let ids = app.blocking(|| seed(&app));
    let reps_deals = [app.deal.0, ids[0].0, ids[1].0];
    let count = |body: &Value| body["pipeline"]["count"].as_u64().unwrap();
    let rep = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "rep").await.expect(200).body;
    // The rep's open deal only: 12,000; their won and lost deals are their outcomes.
    assert_eq!((count(&rep), rep["pipeline"]["amount"].clone()), (1, json!("USD 12000.00")));
    assert_eq!(rep["leaderboard"].as_array().unwrap().len(), 1);
    assert_eq!(rep["leaderboard"][0]["user_id"], app.org.rep.id.0);
    let outsider = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "outsider").await.expect(200).body;
    assert_eq!((count(&outsider), outsider["pipeline"]["amount"].clone()), (2, json!("USD 16000.50")));
    assert_eq!(outsider["outcomes"]["won"], 0);
    // The manager sees the tree (the rep), not the outsider; ops and viewers see everything.
    assert_eq!(count(&app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "manager").await.expect(200).body), 1);
    assert_eq!(count(&app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "viewer").await.expect(200).body), 3);
    // A filter never widens, and what lies outside the viewer's scope is not found, exactly as
    // on the pages: the rep asking for the outsider's figures, or the manager for a team none of
    // whose members they see.
    let sneaky =
        app.get(&format!("/api/v1/analytics/dashboard?as_of=2026-03-01&owner_id={}", app.outsider.0), "rep").await.expect(404).body;
    assert_eq!(sneaky["code"], "not_found");
    app.get(&format!("/api/v1/analytics/pipeline?as_of=2026-03-01&owner_id={}", app.outsider.0), "rep").await.expect(404);
    app.get("/api/v1/analytics/dashboard?as_of=2026-03-01&team_id=999999", "manager").await.expect(404);
    // Within the scope, an owner filter narrows: the manager asking for the rep's figures.
    let narrowed =
        app.get(&format!("/api/v1/analytics/dashboard?as_of=2026-03-01&owner_id={}", app.org.rep.id.0), "manager").await.expect(200).body;
    assert_eq!(count(&narrowed), 1);
    let health = app.get("/api/v1/analytics/health?as_of=2026-03-01", "rep").await.expect(200).body;
    assert_eq!(health["reps"].as_array().unwrap().len(), 1);
    assert!(health["flagged_deals"].as_array().unwrap().iter().all(|deal| reps_deals.contains(&deal["opportunity_id"].as_i64().unwrap())));
    // A deal's health is as visible as the deal.
    app.get(&format!("/api/v1/opportunities/{}/health", app.deal.0), "rep").await.expect(200);
    app.get(&format!("/api/v1/opportunities/{}/health", app.deal.0), "outsider").await.expect(404);
}

pub async fn editing_the_future_does_not_change_the_past(app: Shared) {
    let ids = app.blocking(|| seed(&app));
    let past = "/api/v1/analytics/dashboard?as_of=2026-02-15";
    let before = app.get(past, "admin").await.expect(200).body;
    let deal_health_before =
        app.get(&format!("/api/v1/opportunities/{}/health?as_of=2026-02-15", app.deal.0), "admin").await.expect(200).body;
    // Today is 2026-03-01 by the test clock: the rep doubles their deal, and an admin pushes
    // the outsider's first deal (USD 7,000, closing 2026-03-20) out of the quarter.
    let path = format!("/api/v1/opportunities/{}", app.deal.0);
    app.patch(&path, "rep", json!({ "amount": "USD 24000" })).await.expect(200);
    app.patch(&format!("/api/v1/opportunities/{}", ids[2].0), "admin", json!({ "close_date": "2026-06-30" })).await.expect(200);
    let after = app.get(past, "admin").await.expect(200).body;
    assert_eq!(after, before, "a figure as of 2026-02-15 changed after a write on 2026-03-01");
    let deal_health_after =
        app.get(&format!("/api/v1/opportunities/{}/health?as_of=2026-02-15", app.deal.0), "admin").await.expect(200).body;
    assert_eq!(deal_health_after, deal_health_before);
    // Today's figures see the write at once (the API refreshes before answering).
    let now = app.get("/api/v1/analytics/dashboard", "admin").await.expect(200).body;
    assert_eq!(now["pipeline"]["amount"], "USD 40000.50");
    // The quarter's pipeline at the end lost the outsider's deal: 9,000.50 is left of 16,000.50.
    assert_eq!(bucket(&now, "end")["amount"], "USD 9000.50");
    // From 2026-02-05 (when it was in the quarter's pipeline) to today it was pushed out.
    let falls = app.get("/api/v1/analytics/waterfall?from=2026-02-05&to=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(bucket(&falls, "pushed_out")["count"], -1);
    assert_eq!(bucket(&falls, "pushed_out")["amount"], "USD -7000.00");
    assert_eq!(bucket(&falls, "pushed_out")["deal_ids"], json!([ids[2].0]));
    // As of 2026-02-05 itself nothing had moved yet.
    let then = app.get("/api/v1/analytics/waterfall?from=2026-02-05&to=2026-02-05", "admin").await.expect(200).body;
    assert_eq!(bucket(&then, "pushed_out")["count"], 0);
}

/// Issue 6: health as of a past day reads the activities and tasks known then, not today's.
pub async fn logging_activities_today_does_not_change_past_health(app: Shared) {
    // A task on the rep's deal, created 2026-02-01 and due 02-10: open and overdue on 02-15.
    let task = app.blocking(|| {
        let ctx = app.org.by_rep(at("2026-02-01T09:00:00Z"));
        let new = pipewise_core::records::NewTask {
            title: "Send the terms".into(),
            owner_id: app.org.rep.id,
            due_on: Some("2026-02-10".parse().unwrap()),
            completed_at: None,
            account_id: None,
            opportunity_id: Some(app.deal),
            lead_id: None,
        };
        transact(&*app.store, |tx| app::activities::create_task(tx, &ctx, new)).unwrap().id
    });
    let paths = [
        "/api/v1/analytics/health?as_of=2026-02-15".to_owned(),
        "/api/v1/analytics/dashboard?as_of=2026-02-15".to_owned(),
        format!("/api/v1/opportunities/{}/health?as_of=2026-02-15", app.deal.0),
    ];
    let mut before = Vec::new();
    for path in &paths {
        before.push(app.get(path, "admin").await.expect(200).body);
    }
    let codes = |health: &Value| -> Vec<String> {
        health["flags"].as_array().unwrap().iter().map(|flag| flag["code"].as_str().unwrap().to_owned()).collect()
    };
    // Created 2026-01-01 and never touched: untouched for 45 days on 02-15, one task overdue.
    assert!(codes(&before[2]).contains(&"untouched".to_owned()), "{}", before[2]);
    assert!(codes(&before[2]).contains(&"overdue_tasks".to_owned()), "{}", before[2]);

    // Today (2026-03-01, the test clock) the rep logs a call of 02-10 late and one of 02-27,
    // and completes the task.
    for occurred_at in ["2026-02-10T10:00:00Z", "2026-02-27T10:00:00Z"] {
        let activity = json!({
            "kind": "call", "direction": "inbound", "occurred_at": occurred_at, "subject": "Call", "opportunity_id": app.deal.0,
        });
        app.post("/api/v1/activities", "rep", activity).await.expect(201);
    }
    app.patch(&format!("/api/v1/tasks/{}", task.0), "rep", json!({ "completed": true })).await.expect(200);
    // Activity facts are recomputed every 30 s; recompute them now.
    app.blocking(|| app.insights.get(app.org.org()).unwrap().refresh_facts().unwrap());

    for (path, before) in paths.iter().zip(&before) {
        let after = app.get(path, "admin").await.expect(200).body;
        assert_eq!(&after, before, "{path} changed after activities and a task completion logged on 2026-03-01");
    }
    // Today's health sees them: touched on 02-27, nothing overdue, a call logged 19 days late.
    let today = app.get(&format!("/api/v1/opportunities/{}/health", app.deal.0), "admin").await.expect(200).body;
    let today = codes(&today);
    assert!(!today.contains(&"untouched".to_owned()) && !today.contains(&"overdue_tasks".to_owned()), "{today:?}");
    assert!(today.contains(&"late_updates".to_owned()), "{today:?}");
}

/// Issue 16, point 10: a drill-down lists only deals the viewer may see now. The rep's deal
/// (open, USD 12,000, closing 2026-12-15) is handed to the outsider today (2026-03-01): it still
/// counts in the rep's figures as of a day before, and leaves the rep's waterfall through
/// "transferred out", but its id is in none of the rep's or their manager's lists, until the
/// outsider shares it with the rep.
pub async fn drill_downs_list_only_deals_the_viewer_may_see(app: Shared) {
    let deal = app.deal.0;
    let past = "/api/v1/analytics/pipeline?as_of=2026-02-28";
    let dashboard = "/api/v1/analytics/dashboard?as_of=2026-02-28";
    let health = "/api/v1/analytics/health?as_of=2026-02-28";
    let falls = "/api/v1/analytics/waterfall?period_start=2026-01-01&period_end=2026-12-31&from=2026-02-27&to=2026-03-01";
    let line_ids = |body: &Value| -> Vec<i64> {
        body["pipeline"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|line| line["deal_ids"].as_array().unwrap().clone())
            .map(|id| id.as_i64().unwrap())
            .collect()
    };
    let flagged = |body: &Value| -> Vec<i64> {
        body["flagged_deals"].as_array().unwrap().iter().map(|deal| deal["opportunity_id"].as_i64().unwrap()).collect()
    };
    assert_eq!(line_ids(&app.get(past, "rep").await.expect(200).body), [deal], "the rep's own deal, before the handoff");
    app.patch(&format!("/api/v1/opportunities/{deal}"), "admin", json!({ "owner_id": app.outsider.0 })).await.expect(200);
    app.get(&format!("/api/v1/opportunities/{deal}"), "rep").await.expect(404);
    for who in ["rep", "manager"] {
        // As of 2026-02-28 the deal was the rep's: it counts, but it is not listed.
        let pipeline = app.get(past, who).await.expect(200).body;
        assert_eq!(pipeline["pipeline"]["count"], 1, "{who}");
        assert_eq!(line_ids(&pipeline), Vec::<i64>::new(), "{who}: {pipeline}");
        let board = app.get(dashboard, who).await.expect(200).body;
        assert_eq!(line_ids(&board), Vec::<i64>::new(), "{who}: {board}");
        let flags = app.get(health, who).await.expect(200).body;
        assert!(!flagged(&flags).contains(&deal), "{who}: {flags}");
        // The waterfall starts with it and transfers it out, without naming it.
        let waterfall = app.get(falls, who).await.expect(200).body;
        for (name, count) in [("start", 1), ("transferred_out", -1)] {
            assert_eq!(bucket(&waterfall, name)["count"], count, "{who} {name}");
            assert_eq!(bucket(&waterfall, name)["deal_ids"], json!([]), "{who} {name}");
        }
    }
    // Those who may see the deal still find it behind the same figures.
    assert_eq!(line_ids(&app.get(past, "admin").await.expect(200).body), [deal]);
    assert!(flagged(&app.get(health, "admin").await.expect(200).body).contains(&deal), "an untouched deal is flagged");
    let waterfall = app.get(falls, "viewer").await.expect(200).body;
    assert_eq!(bucket(&waterfall, "transferred_out")["deal_ids"], json!([deal]));
    // Shared with the rep, the deal is one the rep may see again, and is listed again.
    app.post(&format!("/api/v1/opportunities/{deal}/shares"), "outsider", json!({ "user_id": app.org.rep.id.0 })).await.expect(201);
    assert_eq!(line_ids(&app.get(past, "rep").await.expect(200).body), [deal]);
    assert_eq!(bucket(&app.get(falls, "rep").await.expect(200).body, "start")["deal_ids"], json!([deal]));
    assert!(flagged(&app.get(health, "rep").await.expect(200).body).contains(&deal));
    // The manager still may not: a share is the rep's alone.
    assert_eq!(line_ids(&app.get(past, "manager").await.expect(200).body), Vec::<i64>::new());
}

pub async fn stored_quotas_and_the_fiscal_calendar_shape_the_figures(app: Shared) {
    app.blocking(|| seed(&app));
    let (rep, outsider) = (QuotaSubject::User(app.org.rep.id), QuotaSubject::User(app.outsider));
    app.blocking(|| {
        transact(&*app.store, |tx| {
            app::quotas::set_quota(tx, &app.org.ctx, rep, "2026-Q1", "10000")?;
            // The outsider's quarter comes from its three months.
            for month in ["2026-M01", "2026-M02", "2026-M03"] {
                app::quotas::set_quota(tx, &app.org.ctx, outsider, month, "4000")?;
            }
            Ok(())
        })
        .unwrap()
    });
    let quota_of = |body: &Value, user: UserId| {
        let row = body["leaderboard"].as_array().unwrap().iter().find(|row| row["user_id"] == user.0).unwrap().clone();
        (row["quota"].clone(), row["attainment"].clone())
    };
    let board = app.get("/api/v1/analytics/leaderboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(board["period"], json!({ "start": "2026-01-01", "end": "2026-03-31", "key": "2026-Q1" }));
    // The rep won 5,000 of 10,000; the outsider won nothing of 3 × 4,000.
    assert_eq!(quota_of(&board, app.org.rep.id), (json!("USD 10000.00"), json!("0.5000")));
    assert_eq!(quota_of(&board, app.outsider), (json!("USD 12000.00"), json!("0.0000")));
    // The organisation's quota is the sum of its reps': coverage of 22,000.
    let dashboard = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(dashboard["coverage"]["quota"], "USD 22000.00", "{}", dashboard["coverage"]);
    // A quota in the request replaces the stored one.
    let typed = app.get("/api/v1/analytics/dashboard?as_of=2026-03-01&quota=USD%205000", "admin").await.expect(200).body;
    assert_eq!(typed["coverage"]["quota"], "USD 5000.00");
    // A year with no quota of its own and no quarters that tile it has none.
    let year = app.get("/api/v1/analytics/leaderboard?as_of=2026-03-01&period=2026", "admin").await.expect(200).body;
    assert_eq!(quota_of(&year, app.org.rep.id), (Value::Null, Value::Null));
    // Fiscal years from April: January to March is the fourth quarter of FY2026; the stored
    // quarter keeps its days, so it is still that period's quota.
    app.blocking(|| transact(&*app.store, |tx| app::quotas::set_fiscal_year_start(tx, &app.org.ctx, 4).map(drop)).unwrap());
    let fiscal = app.get("/api/v1/analytics/leaderboard?as_of=2026-03-01", "admin").await.expect(200).body;
    assert_eq!(fiscal["period"], json!({ "start": "2026-01-01", "end": "2026-03-31", "key": "2026-Q4" }));
    assert_eq!(quota_of(&fiscal, app.org.rep.id), (json!("USD 10000.00"), json!("0.5000")));
    let fy = app.get("/api/v1/analytics/waterfall?as_of=2026-03-01&period=2026", "admin").await.expect(200).body;
    assert_eq!(fy["period"], json!({ "start": "2025-04-01", "end": "2026-03-31", "key": "2026" }));
    // Bad or clashing periods are refused, naming the parameter.
    let bad = app.get("/api/v1/analytics/dashboard?period=2026-Q9", "admin").await.expect(400);
    assert!(bad.body["detail"].as_str().unwrap().starts_with("query parameter period:"), "{}", bad.body);
    app.get("/api/v1/analytics/dashboard?period=2026-Q1&period_start=2026-01-01&period_end=2026-01-31", "admin").await.expect(400);
    // FY2027 starts on 2026-04-01, after the as-of day: not computed backwards.
    app.get("/api/v1/analytics/dashboard?as_of=2026-03-01&period=2027-Q1", "admin").await.expect(400);
}

/// The forecast through the API: below the data floor it says so and gives the stage-weighted
/// pipeline (the won deal, plus 10 % of each Prospecting deal due in the quarter), each viewer's
/// own scope, and the gap to a typed quota.
pub async fn the_forecast_says_when_it_is_below_its_data_floor(app: Shared) {
    app.blocking(|| seed(&app));
    let body = app.get("/api/v1/analytics/forecast?as_of=2026-03-01", "admin").await.expect(200).body;
    let forecast = &body["forecast"];
    assert_eq!(body["period"]["key"], "2026-Q1");
    assert_eq!(forecast["basis"], "stage_weighted");
    assert_eq!(forecast["range"], Value::Null);
    assert_eq!(forecast["won"], usd(500_000));
    assert_eq!(forecast["evidence"]["won_deals"], 1);
    assert_eq!(forecast["evidence"]["floor"]["won_deals"], 20);
    let due = forecast["due"]["amount"].as_str().unwrap().trim_start_matches("USD ").parse::<pipewise_core::money::Decimal>().unwrap();
    let weighted = (due * pipewise_core::money::Decimal::new(10, 2)).round_dp(2);
    assert_eq!(forecast["stage_weighted"], json!(format!("USD {}", pipewise_core::money::Decimal::new(5000, 0) + weighted)));
    assert_eq!(forecast["expected"], forecast["stage_weighted"]);
    assert_eq!(forecast["movers"], json!([]));
    assert_eq!(forecast["gap_to_quota"], Value::Null);
    // The rep's forecast holds their own deals only; the outsider's are not in it.
    let rep = app.get("/api/v1/analytics/forecast?as_of=2026-03-01", "rep").await.expect(200).body;
    assert_eq!(rep["forecast"]["won"], usd(500_000));
    assert!(rep["forecast"]["open"]["deals"].as_u64() < forecast["open"]["deals"].as_u64());
    let outsider = app.get(&format!("/api/v1/analytics/forecast?as_of=2026-03-01&owner_id={}", app.outsider.0), "rep").await;
    outsider.expect(404);
    let typed = app.get("/api/v1/analytics/forecast?as_of=2026-03-01&quota=USD%2010000", "admin").await.expect(200).body;
    let gap = pipewise_core::money::Decimal::new(10_000, 0) - (pipewise_core::money::Decimal::new(5000, 0) + weighted);
    assert_eq!(typed["forecast"]["gap_to_quota"], json!(format!("USD {gap}")));
    app.get("/api/v1/analytics/forecast", "").await.expect(401);
}

/// Forecast calls through the API: a rep calls, the manager reads it rolled up and calls with an
/// adjustment, bad fields are named, a viewer may not call, and each reads within visibility.
pub async fn forecast_calls_are_kept_and_read_within_visibility(app: Shared) {
    app.blocking(|| seed(&app));
    let body = json!({ "period": "2026-Q4", "commit": "5000", "best_case": 7000, "note": "Two renewals" });
    let rep = app.post("/api/v1/forecast/calls", "rep", body.clone()).await.expect(201).body;
    assert_eq!(
        (rep["commit"].as_str(), rep["best_case"].as_str(), rep["note"].as_str()),
        (Some("5000.00"), Some("7000.00"), Some("Two renewals"))
    );
    assert_eq!(rep["rollup"], Value::Null);
    let manager = app
        .post(
            "/api/v1/forecast/calls",
            "manager",
            json!({ "period": "2026-Q4", "commit": "4500", "best_case": "7000", "note": "Haircut on renewals" }),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(manager["rollup"], json!({ "commit": "5000.00", "best_case": "7000.00" }));
    // Bad fields are named; a viewer does not call; nothing is kept.
    let bad = app.post("/api/v1/forecast/calls", "rep", json!({ "period": "2026-Q9", "commit": "9", "best_case": "1", "extra": 1 })).await;
    let detail = bad.expect(422).body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(detail.contains("period") || detail.contains("extra"), "{detail}");
    let low = app.post("/api/v1/forecast/calls", "rep", json!({ "period": "2026-Q4", "commit": "9", "best_case": "1" })).await;
    assert!(low.expect(422).body["detail"].as_str().unwrap_or_default().contains("best_case"));
    app.post("/api/v1/forecast/calls", "viewer", body.clone()).await.expect(403);
    // The manager reads both calls, the rep their own, the outsider's view has neither.
    for (role, calls) in [("manager", 2), ("rep", 1), ("outsider", 0)] {
        let listed = app.get("/api/v1/forecast/calls?period=2026-Q4", role).await.expect(200).body;
        assert_eq!(listed["data"].as_array().unwrap().len(), calls, "{role}");
    }
}

/// The ledger and the symptoms through the API: a rep's call made while Q1 ran is scored once
/// it closed, and each reader sees only the people they may see.
pub async fn the_ledger_scores_closed_quarters_and_symptoms_are_scoped(app: Shared) {
    app.blocking(|| seed(&app));
    // The rep called Q4 2025 while it ran (USD 5,000 commit); nothing of theirs was won then.
    let rep = app.org.rep.id;
    app.blocking(|| {
        let insights = app.insights.get(app.org.org()).unwrap();
        let ctx = WriteCtx { actor_id: Some(rep), at: at("2025-11-15T09:00:00Z"), ..app.org.ctx };
        let input =
            app::forecast::CallInput { period: "2025-Q4".into(), commit: "5000".into(), best_case: "6000".into(), note: String::new() };
        transact(&*app.store, |tx| app::forecast::submit_call(tx, &ctx, &insights, &input)).unwrap();
    });
    let ledger = app.get("/api/v1/forecast/ledger?quarters=2", "manager").await.expect(200).body;
    assert_eq!(ledger["quarters"], json!(["2025-Q4", "2025-Q3"]));
    assert_eq!(ledger["scored"][0]["commit"], "5000.00");
    assert_eq!(ledger["scored"][0]["actual"], "0.00");
    assert_eq!(ledger["scored"][0]["error"], "1.0000", "a call of 5,000 for nothing is wholly wrong");
    assert_eq!(ledger["callers"][0]["label"], "too_few_periods");
    app.get("/api/v1/forecast/ledger?quarters=13", "manager").await.expect(400);
    let outsider = app.get("/api/v1/forecast/ledger", "outsider").await.expect(200).body;
    assert_eq!(outsider["scored"], json!([]));
    // Symptoms: the manager sees themselves and the rep; the rep only themselves.
    let people =
        |body: &Value| body["data"].as_array().unwrap().iter().map(|person| person["user_id"].as_i64().unwrap()).collect::<Vec<_>>();
    let manager = app.get("/api/v1/forecast/symptoms?quarters=2", "manager").await.expect(200).body;
    assert!(people(&manager).contains(&app.org.rep.id.0) && people(&manager).contains(&app.org.manager.id.0));
    let mine = app.get("/api/v1/forecast/symptoms?quarters=2", "rep").await.expect(200).body;
    assert_eq!(people(&mine), [app.org.rep.id.0]);
    let quarters = mine["data"][0]["quarters"].as_array().unwrap();
    assert_eq!(quarters.len(), 3);
    assert_eq!((quarters[2]["period"].as_str(), quarters[2]["running"].as_bool()), (Some("2026-Q1"), Some(true)));
    assert_eq!(quarters[1]["calls_missing"], "0.0000", "the rep called 2025-Q4");
}

/// The model's forecasts recorded for the day, read through the API within visibility: the
/// organisation's by those who see every deal, the rep's by the rep and their manager, none by
/// someone who sees neither.
pub async fn the_models_recorded_forecasts_are_read_within_visibility(app: Shared) {
    app.blocking(|| seed(&app));
    let now = at("2026-03-01T12:00:00Z");
    let stored = app.blocking(|| {
        let insights = app.insights.get(app.org.org()).unwrap();
        app::forecast::record_due(&insights, now).unwrap()
    });
    assert!(stored >= 2, "{stored}");
    let admin = app.get("/api/v1/forecast/model?period=2026-Q1", "admin").await.expect(200).body;
    let scopes = |body: &Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|row| row["scope"]["kind"].as_str().unwrap().to_owned()).collect()
    };
    assert!(scopes(&admin).contains(&"organisation".to_owned()));
    assert_eq!(admin["data"][0]["as_of"], "2026-02-28", "as of the end of the day before");
    assert_eq!(admin["period"]["key"], "2026-Q1");
    let rep = app.get("/api/v1/forecast/model", "rep").await.expect(200).body;
    assert_eq!(scopes(&rep), ["user"], "the rep reads their own");
    assert_eq!(rep["data"][0]["scope"]["id"], app.org.rep.id.0);
    let manager = app.get("/api/v1/forecast/model", "manager").await.expect(200).body;
    assert!(!scopes(&manager).contains(&"organisation".to_owned()));
    assert!(manager["data"].as_array().unwrap().iter().any(|row| row["scope"]["id"] == app.org.rep.id.0), "the manager reads the rep's");
    let outsider = app.get("/api/v1/forecast/model", "outsider").await.expect(200).body;
    assert!(outsider["data"].as_array().unwrap().iter().all(|row| row["scope"]["id"] != app.org.rep.id.0));
    app.get("/api/v1/forecast/model?period=2026-Q9", "admin").await.expect(400);

    // Recorded on the first day of 2025-Q4 (as of its eve), that quarter's opening forecasts
    // are scored in the ledger once it closed: the model's own record, within visibility.
    let then = at("2025-10-01T12:00:00Z");
    app.blocking(|| {
        let insights = app.insights.get(app.org.org()).unwrap();
        assert!(app::forecast::record_due(&insights, then).unwrap() >= 1);
    });
    let ledger = app.get("/api/v1/forecast/ledger?quarters=2", "admin").await.expect(200).body;
    let rows = ledger["model_scored"].as_array().unwrap();
    let organisation = rows.iter().find(|row| row["scope"]["kind"] == "organisation").expect("the organisation's opening forecast");
    assert_eq!((organisation["period"].as_str(), organisation["as_of"].as_str()), (Some("2025-Q4"), Some("2025-09-30")));
    assert!(ledger["model_record"]["forecasts"].as_u64().unwrap() >= 1);
    let rep = app.get("/api/v1/forecast/ledger?quarters=2", "rep").await.expect(200).body;
    assert!(
        rep["model_scored"].as_array().unwrap().iter().all(|row| row["scope"]["kind"] == "user" && row["scope"]["id"] == app.org.rep.id.0)
    );
}
