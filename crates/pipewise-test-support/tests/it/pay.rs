//! Pay (issue 12, point 5): plans saved by version, assigned, statements computed from the won
//! deals with every line traced to its deal, credit and rule; a locked statement is never
//! computed again and a later change is posted once, as an adjustment in the open period naming
//! the line it corrects; disputes move open → in review → resolved → closed, each step by whom
//! it belongs to; pay is read only by the payee, their managers, ops and admins. Both engines.

use std::sync::Arc;

use pipewise_app as app;
use pipewise_app::insights::{Clock, Insights};
use pipewise_app::{DisputeStatus, StatementStatus, StoreError, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::money::Decimal;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};
use pipewise_test_support::transact;
use serde_json::json;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub fn statements_trace_lock_adjust_and_are_disputed(db: &TestDb) {
    let org = test_org(db.store(), "Pay");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let outsider =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("out@pay.test", "Oli Out", Role::Rep, None))).unwrap();
    let definition = |rate: &str| {
        json!({ "currency": "USD", "components": [{ "type": "commission", "rule": "AE commission", "measure": "revenue",
            "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": rate }] }] })
    };

    // Only ops and admins save plans; every save is the next version; bad fields are named.
    let by_rep = org.by_rep(at("2026-01-02T09:00:00Z"));
    let error = transact(db.store(), |tx| app::pay::save_plan(tx, &by_rep, "AE", &definition("0.1"))).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let first = transact(db.store(), |tx| app::pay::save_plan(tx, &ctx, "AE", &definition("0.08"))).unwrap();
    let second = transact(db.store(), |tx| app::pay::save_plan(tx, &ctx, "AE", &definition("0.1"))).unwrap();
    assert_eq!((first.version, second.version), (1, 2));
    let error =
        transact(db.store(), |tx| app::pay::save_plan(tx, &ctx, "AE", &json!({ "currency": "XYZ", "components": [] }))).unwrap_err();
    assert!(error.to_string().contains("currency"), "{error}");
    let error = transact(db.store(), |tx| app::pay::assign_plan(tx, &ctx, rep, "Nope", "2026-13-01", None)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("plan:") && message.contains("first_day:"), "{message}");
    transact(db.store(), |tx| app::pay::assign_plan(tx, &ctx, rep, "AE", "2026-01-01", None)).unwrap();

    // A deal won in February: USD 5,000.
    let won_stage = org.simple.stages[4].id;
    let deal = transact(db.store(), |tx| {
        let deal = app::deals::create_opportunity(tx, &org.by_rep(at("2026-01-10T09:00:00Z")), &org.new_deal("Hanbit"))?;
        let win =
            OpportunityPatch { stage_id: Some(won_stage), amount: Some(Some("USD 5000".parse().unwrap())), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &org.by_rep(at("2026-02-10T09:00:00Z")), deal.id, &win)?;
        Ok(deal.id)
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-07-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |insights: &Insights, key: &str| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, rep, key))).unwrap()
    };

    // 10% of 5,000, traced to the deal, the credit, the rule and version 2.
    let q1 = compute(&insights, "2026-Q1");
    assert_eq!(q1.stored.total.to_string(), "USD 500.00");
    let line = &q1.statement.lines[0];
    assert_eq!((line.rule.as_str(), line.version, line.deal, line.amount), ("AE commission", 2, Some(deal), d("500.00")));
    let credit = line.credit.as_ref().unwrap();
    assert_eq!((credit.amount, credit.share, credit.booked_on.to_string()), (d("5000.00"), d("1"), "2026-02-10".to_owned()));
    assert_eq!((line.base, line.rate), (d("5000.00"), Some(d("0.1"))));
    // Without a plan for the period, or for someone else's pay, nothing.
    let error = insights
        .with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, outsider.id, "2026-Q1")))
        .unwrap_err();
    assert!(error.to_string().contains("plan:"), "{error}");

    // Locked, it is never computed again; the amount raised to 6,000 is posted once in Q2.
    let locked = transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, q1.stored.id)).unwrap();
    assert_eq!(locked.status, StatementStatus::Locked);
    transact(db.store(), |tx| {
        let raise = OpportunityPatch { amount: Some(Some("USD 6000".parse().unwrap())), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &org.by_rep(at("2026-04-20T09:00:00Z")), deal, &raise)
    })
    .unwrap();
    insights.refresh().unwrap();
    assert_eq!(compute(&insights, "2026-Q1").stored, locked, "a locked statement is never computed again");
    let q2 = compute(&insights, "2026-Q2");
    let adjustments: Vec<_> = q2.statement.lines.iter().filter(|line| line.kind == pipewise_comp::LineKind::Adjustment).collect();
    assert_eq!(adjustments.len(), 1, "{:?}", q2.statement.lines);
    let adjustment = adjustments[0];
    assert_eq!((adjustment.amount, adjustment.deal), (d("100.00"), Some(deal)));
    let corrects = adjustment.corrects.unwrap();
    assert_eq!((corrects.period_first.to_string(), corrects.index), ("2026-01-01".to_owned(), 0));
    assert_eq!(q2.stored.total.to_string(), "USD 100.00");
    // Computed again, still once; locked, the next period posts nothing more.
    assert_eq!(compute(&insights, "2026-Q2").stored.total.to_string(), "USD 100.00");
    let q2_id = compute(&insights, "2026-Q2").stored.id;
    transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, q2_id)).unwrap();
    assert_eq!(compute(&insights, "2026-Q3").stored.total.to_string(), "USD 0.00");

    // What one more deal of 20,000 would earn now.
    let what_if = insights.with(|projection| {
        transact(db.store(), |tx| {
            app::pay::what_if(tx, id, &Access::System, projection, rep, "2026-Q3", d("20000"), "2026-07-15".parse().unwrap())
        })
    });
    assert_eq!(what_if.unwrap(), Some(d("2000.00")));

    // Pay is read by the payee and their managers, not by another rep.
    let read = |access: &Access| transact(db.store(), |tx| app::pay::statement(tx, id, access, q1.stored.id)).unwrap().is_some();
    let access_of = |user: UserId| transact(db.store(), |tx| app::access::access_for(tx, id, Some(user))).unwrap();
    assert!(read(&access_of(rep)) && read(&access_of(org.manager.id)));
    assert!(!read(&access_of(outsider.id)));

    // A dispute: the payee opens it on a line; ops review and resolve; the payee closes it.
    let dispute = transact(db.store(), |tx| app::pay::open_dispute(tx, &by_rep, q1.stored.id, Some(0), "The deal was 6,000")).unwrap();
    assert_eq!(dispute.status, DisputeStatus::Open);
    // The line is kept as it read, whatever a later computation numbers it.
    assert_eq!(dispute.line_label.as_deref(), Some(format!("AE commission v2 commission deal {deal}: 500.00").as_str()));
    let error = transact(db.store(), |tx| app::pay::move_dispute(tx, &by_rep, dispute.id, DisputeStatus::InReview, None)).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let error = transact(db.store(), |tx| app::pay::move_dispute(tx, &ctx, dispute.id, DisputeStatus::Closed, None)).unwrap_err();
    assert!(error.to_string().contains("status:"), "{error}");
    transact(db.store(), |tx| app::pay::move_dispute(tx, &ctx, dispute.id, DisputeStatus::InReview, None)).unwrap();
    let error = transact(db.store(), |tx| app::pay::move_dispute(tx, &ctx, dispute.id, DisputeStatus::Resolved, None)).unwrap_err();
    assert!(error.to_string().contains("resolution: is required"), "{error}");
    transact(db.store(), |tx| app::pay::move_dispute(tx, &ctx, dispute.id, DisputeStatus::Resolved, Some("Paid in Q2's adjustment")))
        .unwrap();
    let closed = transact(db.store(), |tx| app::pay::move_dispute(tx, &by_rep, dispute.id, DisputeStatus::Closed, None)).unwrap();
    assert_eq!((closed.status, closed.resolution.as_deref()), (DisputeStatus::Closed, Some("Paid in Q2's adjustment")));
    let error = transact(db.store(), |tx| app::pay::open_dispute(tx, &by_rep, q1.stored.id, Some(9), "")).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("note: is required") && message.contains("line:"), "{message}");
}

/// Issue 12's golden split: a 100,000 deal split A 50% revenue + 20% overlay, B 50% revenue,
/// AE rate 10%, overlay 2%: A 5,000.00 + 400.00, B 5,000.00, and the team books 100,000 (a
/// team part of 1,000 at 100% of a 100,000 team quota pays each of them 1,000.00).
pub fn deal_splits_credit_each_person_and_the_team_once(db: &TestDb) {
    use pipewise_comp::SplitKind;
    use pipewise_core::records::NewTeam;
    let org = test_org(db.store(), "Split");
    let id = org.org();
    let ctx = org.ctx;
    let team = transact(db.store(), |tx| {
        app::users::create_team(tx, &ctx, NewTeam { name: "Deal team".into(), manager_id: Some(org.manager.id) })
    })
    .unwrap();
    let mut b = new_user("b@split.test", "Bea B", Role::Rep, Some(org.manager.id));
    b.team_id = Some(team.id);
    let b = transact(db.store(), |tx| app::users::create_user(tx, &ctx, b)).unwrap().id;
    let a = org.rep.id;
    transact(db.store(), |tx| {
        app::users::update_user(tx, &ctx, a, &pipewise_core::records::UserPatch { team_id: Some(Some(team.id)), ..Default::default() })
    })
    .unwrap();
    let plan = json!({ "currency": "USD", "components": [
        { "type": "commission", "rule": "AE", "measure": "revenue", "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.10" }] },
        { "type": "commission", "rule": "Overlay", "measure": "overlay", "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.02" }] },
        { "type": "target_incentive", "rule": "Team", "target": "1000", "parts": [{ "of": "team", "weight": "1" }] },
    ] });
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "Split plan", &plan)?;
        for person in [a, b] {
            app::pay::assign_plan(tx, &ctx, person, "Split plan", "2026-01-01", None)?;
        }
        app::quotas::set_quota(tx, &ctx, app::QuotaSubject::Team(team.id), "2026-Q1", "100000")?;
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    let deal = transact(db.store(), |tx| {
        let deal = app::deals::create_opportunity(tx, &org.by_rep(at("2026-01-10T09:00:00Z")), &org.new_deal("Big one"))?;
        let win = OpportunityPatch {
            stage_id: Some(won_stage),
            amount: Some(Some("USD 100000".parse().unwrap())),
            ..OpportunityPatch::default()
        };
        app::deals::update_opportunity(tx, &org.by_rep(at("2026-02-10T09:00:00Z")), deal.id, &win)?;
        Ok(deal.id)
    })
    .unwrap();

    // A rep may not split their deal; bad shares are named; nothing is written.
    let by_rep = org.by_rep(at("2026-02-11T09:00:00Z"));
    let error = transact(db.store(), |tx| app::pay::set_splits(tx, &by_rep, deal, &[(a, SplitKind::Revenue, d("1"))])).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let error = transact(db.store(), |tx| {
        app::pay::set_splits(
            tx,
            &ctx,
            deal,
            &[(a, SplitKind::Revenue, d("0.5")), (b, SplitKind::Revenue, d("0.4")), (b, SplitKind::Overlay, d("1.5"))],
        )
    })
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("share: item 3") && message.contains("share: \"0.9\" is not revenue shares that add up to 1"), "{message}");
    transact(db.store(), |tx| {
        app::pay::set_splits(
            tx,
            &ctx,
            deal,
            &[(a, SplitKind::Revenue, d("0.5")), (a, SplitKind::Overlay, d("0.2")), (b, SplitKind::Revenue, d("0.5"))],
        )
    })
    .unwrap();

    let clock: Clock = Arc::new(|| at("2026-03-31T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let statement = |person: UserId| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, person, "2026-Q1"))).unwrap()
    };
    let lines = |pay: &app::pay::PayStatement| -> Vec<(String, String)> {
        pay.statement.lines.iter().map(|line| (line.rule.clone(), line.amount.to_string())).collect()
    };
    let for_a = statement(a);
    assert_eq!(lines(&for_a), [("AE".into(), "5000.00".into()), ("Overlay".into(), "400.00".into()), ("Team".into(), "1000.00".into())]);
    let for_b = statement(b);
    assert_eq!(lines(&for_b), [("AE".into(), "5000.00".into()), ("Team".into(), "1000.00".into())]);
    // Computed together, the same.
    let all = insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statements(tx, &ctx, projection, "2026-Q1"))).unwrap();
    let totals: Vec<String> = all.iter().map(|pay| pay.stored.total.to_string()).collect();
    assert_eq!(totals, ["USD 6400.00", "USD 6000.00"]);
}

/// A late change that earns a line the locked period never had (a bonus now reached) is posted
/// once, in the first open period after it, and never taken back when that period is locked.
pub fn a_late_bonus_is_posted_once_and_kept(db: &TestDb) {
    let org = test_org(db.store(), "Late bonus");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let plan = json!({ "currency": "USD", "components": [
        { "type": "commission", "rule": "AE", "measure": "revenue", "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.1" }] },
        { "type": "bonus", "rule": "Club", "of": "individual", "steps": [{ "at": "1", "amount": "1000" }], "linear": null },
    ] });
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "AE", &plan)?;
        app::pay::assign_plan(tx, &ctx, rep, "AE", "2026-01-01", None)?;
        for quarter in ["2026-Q1", "2026-Q2", "2026-Q3"] {
            app::quotas::set_quota(tx, &ctx, app::QuotaSubject::User(rep), quarter, "10000")?;
        }
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    let deal = transact(db.store(), |tx| {
        let deal = app::deals::create_opportunity(tx, &org.by_rep(at("2026-01-10T09:00:00Z")), &org.new_deal("Late"))?;
        let win =
            OpportunityPatch { stage_id: Some(won_stage), amount: Some(Some("USD 5000".parse().unwrap())), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &org.by_rep(at("2026-02-10T09:00:00Z")), deal.id, &win)?;
        Ok(deal.id)
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-09-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |insights: &Insights, key: &str| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, rep, key))).unwrap()
    };
    let q1 = compute(&insights, "2026-Q1");
    assert_eq!(q1.stored.total.to_string(), "USD 500.00");
    transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, q1.stored.id)).unwrap();
    // Raised to 12,000: 1,200 commission (+700) and the club bonus (+1,000, a new line).
    transact(db.store(), |tx| {
        let raise = OpportunityPatch { amount: Some(Some("USD 12000".parse().unwrap())), ..OpportunityPatch::default() };
        app::deals::update_opportunity(tx, &org.by_rep(at("2026-04-20T09:00:00Z")), deal, &raise)
    })
    .unwrap();
    insights.refresh().unwrap();
    let q2 = compute(&insights, "2026-Q2");
    assert_eq!(q2.stored.total.to_string(), "USD 1700.00", "{:?}", q2.statement.lines);
    // Q3 computed while Q2 is still open: Q2 takes the correction, Q3 posts nothing.
    assert_eq!(compute(&insights, "2026-Q3").stored.total.to_string(), "USD 0.00");
    transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, q2.stored.id)).unwrap();
    // With Q2 locked, Q3 takes nothing back.
    assert_eq!(compute(&insights, "2026-Q3").stored.total.to_string(), "USD 0.00");
}

/// A deal in another currency is credited at its close date's rate, named on the credit: EUR
/// 10,000 set when EUR was 1.10 USD and won when it was 1.20 pays a USD plan on 12,000; a plan
/// paying in EUR is credited the deal's own 10,000.
pub fn a_foreign_deal_is_credited_at_its_close_dates_rate(db: &TestDb) {
    let org = test_org(db.store(), "Rates");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    {
        let mut tx = app::Tx::new(db.store().write().unwrap());
        let rates = [(Currency::USD, "2026-01-10".parse().unwrap(), d("1.10")), (Currency::USD, "2026-02-10".parse().unwrap(), d("1.20"))];
        tx.put_rates(id, Currency::EUR, &rates).unwrap();
        tx.commit().unwrap();
    }
    let plan = |currency: &str| {
        json!({ "currency": currency, "components": [{ "type": "commission", "rule": "AE", "measure": "revenue", "mode": "marginal",
            "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.1" }] }] })
    };
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "Dollars", &plan("USD"))?;
        app::pay::save_plan(tx, &ctx, "Euros", &plan("EUR"))?;
        app::pay::assign_plan(tx, &ctx, rep, "Dollars", "2026-01-01", Some("2026-03-31"))?;
        app::pay::assign_plan(tx, &ctx, rep, "Euros", "2026-04-01", None)?;
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    let win = |name: &str, created: &str, won: &str| {
        let new = pipewise_core::opportunity::NewOpportunity { amount: Some("EUR 10000".parse().unwrap()), ..org.new_deal(name) };
        transact(db.store(), |tx| {
            let deal = app::deals::create_opportunity(tx, &org.by_rep(at(created)), &new)?;
            let patch = OpportunityPatch { stage_id: Some(won_stage), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &org.by_rep(at(won)), deal.id, &patch)?;
            Ok(deal.id)
        })
        .unwrap()
    };
    win("Berlin", "2026-01-10T09:00:00Z", "2026-02-10T09:00:00Z");
    win("Paris", "2026-01-10T09:00:00Z", "2026-04-14T09:00:00Z");
    let clock: Clock = Arc::new(|| at("2026-06-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |key: &str| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, rep, key))).unwrap()
    };
    let q1 = compute("2026-Q1");
    let credit = q1.statement.lines[0].credit.clone().unwrap();
    assert_eq!((credit.amount, q1.stored.total.to_string()), (d("12000.00"), "USD 1200.00".to_owned()));
    let fx = credit.fx.unwrap();
    assert_eq!((fx.from, fx.rate, fx.on.to_string()), (Currency::EUR, d("1.2"), "2026-02-10".to_owned()));
    // Paid in euros from April: the deal's own amount, no conversion.
    let q2 = compute("2026-Q2");
    let credit = q2.statement.lines[0].credit.clone().unwrap();
    assert_eq!((credit.amount, credit.fx, q2.stored.total.to_string()), (d("10000.00"), None, "EUR 1000.00".to_owned()));
}

/// A rep who joins the plan inside a quarter carries the quota of the days they were on it: on
/// the plan from 31 January, Q1 2026's 90,000 (90 days) becomes 60,000 for their 60 days, so
/// 60,000 booked reaches the club bonus; one who leaves on 1 March carries 60/90 too (without
/// proration neither would reach it).
pub fn a_mid_period_start_or_leave_carries_the_quota_of_its_days(db: &TestDb) {
    let org = test_org(db.store(), "Prorate");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let leaver =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("leaver@prorate.test", "Lee Leaver", Role::Rep, None)))
            .unwrap();
    let returner =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("back@prorate.test", "Ria Returner", Role::Rep, None)))
            .unwrap();
    let plan = json!({ "currency": "USD", "components": [
        { "type": "bonus", "rule": "Club", "of": "individual", "steps": [{ "at": "1", "amount": "1000" }], "linear": null },
    ] });
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "AE", &plan)?;
        app::pay::assign_plan(tx, &ctx, rep, "AE", "2026-01-31", None)?;
        app::pay::assign_plan(tx, &ctx, leaver.id, "AE", "2025-10-01", Some("2026-03-01"))?;
        app::quotas::set_quota(tx, &ctx, app::QuotaSubject::User(rep), "2026-Q1", "90000")?;
        app::quotas::set_quota(tx, &ctx, app::QuotaSubject::User(leaver.id), "2026-Q1", "90000")?;
        // Away in February: January's 31 days and March's 31 carry 62/90.
        app::pay::assign_plan(tx, &ctx, returner.id, "AE", "2026-01-01", Some("2026-01-31"))?;
        app::pay::assign_plan(tx, &ctx, returner.id, "AE", "2026-03-01", None)?;
        app::quotas::set_quota(tx, &ctx, app::QuotaSubject::User(returner.id), "2026-Q1", "90000")?;
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    transact(db.store(), |tx| {
        for (owner, amount) in [(rep, "USD 60000"), (leaver.id, "USD 60000"), (returner.id, "USD 62000")] {
            let mut new = org.new_deal("Deal");
            new.owner_id = owner;
            let deal = app::deals::create_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-02-01T09:00:00Z"), ..ctx }, &new)?;
            let win =
                OpportunityPatch { stage_id: Some(won_stage), amount: Some(Some(amount.parse().unwrap())), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-02-20T09:00:00Z"), ..ctx }, deal.id, &win)?;
        }
        Ok(())
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-04-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |user: UserId| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, user, "2026-Q1"))).unwrap()
    };
    // The rep's 60,000 against 60,000: the club bonus.
    assert_eq!(compute(rep).stored.total.to_string(), "USD 1000.00");
    // The leaver's 60,000 against 60,000 (1 January to 1 March, 60 days): the bonus too.
    assert_eq!(compute(leaver.id).stored.total.to_string(), "USD 1000.00");
    // The returner's 62,000 against 62,000: the February gap carries no quota.
    assert_eq!(compute(returner.id).stored.total.to_string(), "USD 1000.00");
}

/// A won deal reversed inside the plan's clawback window is taken back, one reversed after it
/// is kept, and a won deal handed to someone else afterwards (a territory transfer) keeps its
/// credit with the rep who won it. Window 60 days, 10% of each deal, Q1 locked at 1,000.00:
/// A (5,000, won 10 February) lost on 5 April, 54 days later: -500.00 posted in Q2; B (3,000,
/// won 10 February) handed to another rep on 10 April and reopened on 20 April, 69 days after its
/// win: kept, and the winner's; C (2,000, won 1 March) handed to another rep on 2 April: still the
/// winner's. Under the reclaim option (a second rep, tiers
/// 0-8,000 at 10% and 8,000+ at 20%: D 6,000 won 10 February pays 600.00, E 4,000 won 1 March
/// pays 2,000 × 10% + 2,000 × 20% = 600.00), D lost inside the window takes back its own 600.00
/// and E's lines stand, since D still counts toward the tiers (recomputing without D would have
/// taken back 800.00).
pub fn a_reversal_is_clawed_back_inside_the_window_and_a_transfer_moves_no_credit(db: &TestDb) {
    let org = test_org(db.store(), "Clawback");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let heir =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("heir@claw.test", "Hal Heir", Role::Rep, None))).unwrap();
    let second =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("second@claw.test", "Sue Second", Role::Rep, None))).unwrap();
    let plan = |mode: &str, tiers: serde_json::Value| {
        json!({ "currency": "USD", "clawback": { "window_days": 60, "mode": mode }, "components": [{ "type": "commission",
            "rule": "AE", "measure": "revenue", "mode": "marginal", "basis": "amount", "tiers": tiers }] })
    };
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "Recompute", &plan("recompute", json!([{ "lower": "0", "rate": "0.1" }])))?;
        app::pay::save_plan(
            tx,
            &ctx,
            "Reclaim",
            &plan("reclaim", json!([{ "lower": "0", "rate": "0.1" }, { "lower": "8000", "rate": "0.2" }])),
        )?;
        app::pay::assign_plan(tx, &ctx, rep, "Recompute", "2026-01-01", None)?;
        app::pay::assign_plan(tx, &ctx, heir.id, "Recompute", "2026-01-01", None)?;
        app::pay::assign_plan(tx, &ctx, second.id, "Reclaim", "2026-01-01", None)?;
        Ok(())
    })
    .unwrap();
    let stages = &org.simple.stages;
    let by = |when: &str| WriteCtx { actor_id: None, at: at(when), ..ctx };
    let win = |owner: UserId, name: &str, amount: &str, won: &str| {
        transact(db.store(), |tx| {
            let mut new = org.new_deal(name);
            new.owner_id = owner;
            let deal = app::deals::create_opportunity(tx, &by("2026-01-05T09:00:00Z"), &new)?;
            let patch = OpportunityPatch {
                stage_id: Some(stages[4].id),
                amount: Some(Some(amount.parse().unwrap())),
                ..OpportunityPatch::default()
            };
            app::deals::update_opportunity(tx, &by(won), deal.id, &patch)?;
            Ok(deal.id)
        })
        .unwrap()
    };
    let a = win(rep, "A", "USD 5000", "2026-02-10T09:00:00Z");
    let b = win(rep, "B", "USD 3000", "2026-02-10T10:00:00Z");
    let c = win(rep, "C", "USD 2000", "2026-03-01T09:00:00Z");
    let d_deal = win(second.id, "D", "USD 6000", "2026-02-10T09:00:00Z");
    win(second.id, "E", "USD 4000", "2026-03-01T09:00:00Z");
    let clock: Clock = Arc::new(|| at("2026-06-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |user: UserId, key: &str| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, user, key))).unwrap()
    };
    for (user, total) in [(rep, "USD 1000.00"), (second.id, "USD 1200.00"), (heir.id, "USD 0.00")] {
        let q1 = compute(user, "2026-Q1");
        assert_eq!(q1.stored.total.to_string(), total);
        transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, q1.stored.id)).unwrap();
    }

    transact(db.store(), |tx| {
        let lose = OpportunityPatch { stage_id: Some(stages[5].id), close_reason: Some(Some("Churned".into())), ..Default::default() };
        app::deals::update_opportunity(tx, &by("2026-04-05T09:00:00Z"), a, &lose)?;
        app::deals::update_opportunity(tx, &by("2026-04-05T09:00:00Z"), d_deal, &lose)?;
        let hand_over = OpportunityPatch { owner_id: Some(heir.id), ..Default::default() };
        app::deals::update_opportunity(tx, &by("2026-04-02T09:00:00Z"), c, &hand_over)?;
        // B is handed over too before it is reopened: still the winner's.
        app::deals::update_opportunity(tx, &by("2026-04-10T09:00:00Z"), b, &hand_over)?;
        let reopen = OpportunityPatch { stage_id: Some(stages[3].id), ..Default::default() };
        app::deals::update_opportunity(tx, &by("2026-04-20T09:00:00Z"), b, &reopen)?;
        Ok(())
    })
    .unwrap();
    insights.refresh().unwrap();
    let posted = |pay: &app::pay::PayStatement| -> Vec<(Option<OpportunityId>, Decimal)> {
        pay.statement
            .lines
            .iter()
            .filter(|line| line.kind == pipewise_comp::LineKind::Adjustment)
            .map(|line| (line.deal, line.amount))
            .collect()
    };
    // A inside the window: taken back; B after it and C handed over: untouched.
    let q2 = compute(rep, "2026-Q2");
    assert_eq!(posted(&q2), [(Some(a), d("-500.00"))]);
    assert_eq!(q2.stored.total.to_string(), "USD -500.00");
    assert_eq!(compute(heir.id, "2026-Q2").stored.total.to_string(), "USD 0.00", "the heir is not credited with C");
    // Reclaim: D's own 600.00 back, E's lines as they were.
    let q2 = compute(second.id, "2026-Q2");
    assert_eq!(posted(&q2), [(Some(d_deal), d("-600.00"))]);
    // Q1 as recomputed for the rep: B, reopened after the window, still reads as won, its line
    // naming the reversal; C stays; A left.
    let document: serde_json::Value = serde_json::from_str(&q2_document(db, id, rep)).unwrap();
    let corrected = document["corrections"][0]["lines"].as_array().unwrap();
    let b_line = corrected.iter().find(|line| line["deal_id"] == json!(b.0)).expect("B is still in Q1");
    assert_eq!(b_line["credit"]["reversed_on"], json!("2026-04-20"));
    assert!(corrected.iter().all(|line| line["deal_id"] != json!(a.0)), "A left Q1");
}

/// The stored document of `user`'s open Q2 statement.
fn q2_document(db: &TestDb, org: OrgId, user: UserId) -> String {
    let all = transact(db.store(), |tx| app::pay::statements(tx, org, &Access::System, Some(user))).unwrap();
    all.into_iter().find(|stored| stored.first.to_string() == "2026-04-01").expect("a Q2 statement").document
}

/// A ramp carries part of the quota in a new person's first months: under a ramp of 50% in the
/// first month, a rep on the plan from 1 January carries Q1 2026's 90,000 as (31 × 0.5 + 59) /
/// 90 = 74,500, and 74,500 booked reaches the club bonus; a rep on the plan since 2025 carries
/// all 90,000 and does not. The plan pays out in EUR 15 days after the quarter: until a rate
/// on or after 15 April is held the payout names its day and waits; then 1,000.00 USD at the
/// rate in force on 15 April (1 EUR = 1.25 USD, fixed 14 April) pays EUR 800.00.
pub fn a_ramp_carries_part_of_a_new_reps_quota_and_pay_converts_on_the_payout_day(db: &TestDb) {
    let org = test_org(db.store(), "Ramp");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let veteran =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("vet@ramp.test", "Val Veteran", Role::Rep, None))).unwrap();
    let plan = json!({ "currency": "USD", "ramp": ["0.5"], "payout": { "currency": "EUR", "days_after": 15 }, "components": [
        { "type": "bonus", "rule": "Club", "of": "individual", "steps": [{ "at": "1", "amount": "1000" }], "linear": null },
    ] });
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "Ramped", &plan)?;
        app::pay::assign_plan(tx, &ctx, rep, "Ramped", "2026-01-01", None)?;
        app::pay::assign_plan(tx, &ctx, veteran.id, "Ramped", "2025-01-01", None)?;
        for person in [rep, veteran.id] {
            app::quotas::set_quota(tx, &ctx, app::QuotaSubject::User(person), "2026-Q1", "90000")?;
        }
        tx.put_rates(id, Currency::EUR, &[(Currency::USD, "2026-03-31".parse().unwrap(), d("1.20"))])?;
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    transact(db.store(), |tx| {
        for owner in [rep, veteran.id] {
            let mut new = org.new_deal("Deal");
            new.owner_id = owner;
            let deal = app::deals::create_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-02-01T09:00:00Z"), ..ctx }, &new)?;
            let win = OpportunityPatch {
                stage_id: Some(won_stage),
                amount: Some(Some("USD 74500".parse().unwrap())),
                ..OpportunityPatch::default()
            };
            app::deals::update_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-02-20T09:00:00Z"), ..ctx }, deal.id, &win)?;
        }
        Ok(())
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-04-02T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |user: UserId| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, user, "2026-Q1"))).unwrap()
    };
    let ramped = compute(rep);
    assert_eq!(ramped.statement.attainment.map(|attainment| attainment.quota), Some(d("74500")));
    assert_eq!(ramped.stored.total.to_string(), "USD 1000.00");
    assert_eq!(compute(veteran.id).stored.total.to_string(), "USD 0.00");

    // The payout waits for 15 April's rate, then converts at it.
    let payout = ramped.statement.payout.expect("a payout in EUR");
    assert_eq!((payout.currency, payout.on.to_string(), payout.rate, payout.amount), (Currency::EUR, "2026-04-15".to_owned(), None, None));
    let locked = transact(db.store(), |tx| app::pay::lock_statement(tx, &ctx, ramped.stored.id)).unwrap();
    let rates = [(Currency::USD, "2026-04-14".parse().unwrap(), d("1.25")), (Currency::USD, "2026-04-16".parse().unwrap(), d("1.30"))];
    transact(db.store(), |tx| tx.put_rates(id, Currency::EUR, &rates)).unwrap();
    let read = transact(db.store(), |tx| app::pay::statement(tx, id, &Access::System, locked.id)).unwrap().unwrap();
    let payout = read.statement.payout.expect("a payout in EUR");
    assert_eq!((payout.rate, payout.amount), (Some(d("0.8")), Some(d("800.00"))));
    assert_eq!(read.stored, locked, "the locked statement is unchanged");
}

/// A plan paid on invoice or on cash counts a credit in the period of that date and holds it until
/// the date is recorded: a 10,000 deal won on 20 March under a plan paid on invoice is held in Q1
/// (0.00, one credit held); invoiced on 5 April it pays 1,000.00 in Q2 and leaves Q1. An 8,000
/// deal won the same day under a plan paid on cash, invoiced on 25 March and paid on 10 May, pays
/// 800.00 in Q2 and nothing in Q1. Only ops and admins record the dates; a bad one is named.
pub fn a_plan_paid_on_invoice_or_cash_counts_a_credit_in_its_dates_period(db: &TestDb) {
    let org = test_org(db.store(), "Billing");
    let id = org.org();
    let ctx = org.ctx;
    let rep = org.rep.id;
    let second =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("cash@bill.test", "Cass Cash", Role::Rep, None))).unwrap();
    let plan = |timing: &str| {
        json!({ "currency": "USD", "timing": timing, "components": [{ "type": "commission", "rule": "AE", "measure": "revenue",
            "mode": "marginal", "basis": "amount", "tiers": [{ "lower": "0", "rate": "0.1" }] }] })
    };
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "On invoice", &plan("invoice"))?;
        app::pay::save_plan(tx, &ctx, "On cash", &plan("cash"))?;
        app::pay::assign_plan(tx, &ctx, rep, "On invoice", "2026-01-01", None)?;
        app::pay::assign_plan(tx, &ctx, second.id, "On cash", "2026-01-01", None)?;
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    let win = |owner: UserId, amount: &str| {
        transact(db.store(), |tx| {
            let mut new = org.new_deal("Billed");
            new.owner_id = owner;
            let deal = app::deals::create_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-02-01T09:00:00Z"), ..ctx }, &new)?;
            let patch =
                OpportunityPatch { stage_id: Some(won_stage), amount: Some(Some(amount.parse().unwrap())), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &WriteCtx { actor_id: None, at: at("2026-03-20T09:00:00Z"), ..ctx }, deal.id, &patch)?;
            Ok(deal.id)
        })
        .unwrap()
    };
    let invoiced = win(rep, "USD 10000");
    let cashed = win(second.id, "USD 8000");
    let clock: Clock = Arc::new(|| at("2026-06-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let compute = |user: UserId, key: &str| {
        insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, user, key))).unwrap()
    };
    let q1 = compute(rep, "2026-Q1");
    assert_eq!((q1.stored.total.to_string(), q1.statement.held), ("USD 0.00".to_owned(), 1), "held until invoiced");

    // Only ops and admins record the dates; a bad one is named and nothing is written.
    let by_rep = org.by_rep(at("2026-04-05T09:00:00Z"));
    let error = transact(db.store(), |tx| app::pay::set_billing(tx, &by_rep, invoiced, Some("2026-04-05"), None)).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let error = transact(db.store(), |tx| app::pay::set_billing(tx, &ctx, invoiced, Some("2026-02-30"), Some("soon"))).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("invoiced_on:") && message.contains("paid_on:"), "{message}");
    transact(db.store(), |tx| {
        app::pay::set_billing(tx, &ctx, invoiced, Some("2026-04-05"), None)?;
        app::pay::set_billing(tx, &ctx, cashed, Some("2026-03-25"), Some("2026-05-10"))
    })
    .unwrap();
    let read = transact(db.store(), |tx| app::pay::billing_of(tx, id, &Access::System, cashed)).unwrap().unwrap();
    assert_eq!(
        (read.invoiced_on.map(|day| day.to_string()), read.paid_on.map(|day| day.to_string())),
        (Some("2026-03-25".into()), Some("2026-05-10".into()))
    );

    let q1 = compute(rep, "2026-Q1");
    assert_eq!((q1.stored.total.to_string(), q1.statement.held), ("USD 0.00".to_owned(), 0), "the credit left Q1");
    let q2 = compute(rep, "2026-Q2");
    assert_eq!(q2.stored.total.to_string(), "USD 1000.00");
    assert_eq!(q2.statement.lines[0].deal, Some(invoiced));
    assert_eq!(compute(second.id, "2026-Q1").stored.total.to_string(), "USD 0.00");
    assert_eq!(compute(second.id, "2026-Q2").stored.total.to_string(), "USD 800.00");
    // Clearing both dates holds the credit again in the period it was won.
    transact(db.store(), |tx| app::pay::set_billing(tx, &ctx, invoiced, None, None)).unwrap();
    assert_eq!(compute(rep, "2026-Q1").statement.held, 1);
    assert_eq!(transact(db.store(), |tx| app::pay::billing_of(tx, id, &Access::System, invoiced)).unwrap().unwrap().invoiced_on, None);
}

/// A rep who moves team inside a period books each team by the day (issue 12 point 3, issue 16
/// point 6): A is on East from 2 January and moves to West on 15 February (put on East again and
/// then West the same day: the day's last stands). A's 10,000 won on 10 February is East's,
/// A's 20,000 won on 10 March is West's; C (East) won 1,000 and W (West) 5,000. With a target
/// incentive of 100,000 × the team's attainment of a 100,000 quota, a line pays exactly the team's
/// bookings: East 11,000.00 (C), West 25,000.00 (W, and A, on West at the quarter's end).
/// Before, every booking went to the team its owner is on now (East 1,000.00, West 35,000.00).
/// The team dashboards read the same history: East as of 14 February has A, as of 15 February
/// not.
pub fn a_rep_who_moves_team_mid_period_books_each_team_by_the_day(db: &TestDb) {
    use pipewise_core::records::{NewTeam, UserPatch};
    let org = test_org(db.store(), "Movers");
    let id = org.org();
    let ctx = org.ctx;
    let a = org.rep.id;
    let on = |when: &str| WriteCtx { at: at(when), ..ctx };
    let (east, west) = transact(db.store(), |tx| {
        let east = app::users::create_team(tx, &ctx, NewTeam { name: "East".into(), manager_id: Some(org.manager.id) })?;
        let west = app::users::create_team(tx, &ctx, NewTeam { name: "West".into(), manager_id: None })?;
        Ok((east.id, west.id))
    })
    .unwrap();
    let member = |email: &str, team: TeamId| {
        let mut new = new_user(email, email, Role::Rep, None);
        new.team_id = Some(team);
        transact(db.store(), |tx| app::users::create_user(tx, &on("2026-01-02T09:00:00Z"), new)).unwrap().id
    };
    let (c, w) = (member("c@movers.test", east), member("w@movers.test", west));
    let move_a = |when: &str, team: TeamId| {
        let patch = UserPatch { team_id: Some(Some(team)), ..UserPatch::default() };
        transact(db.store(), |tx| app::users::update_user(tx, &on(when), a, &patch)).unwrap();
    };
    move_a("2026-01-02T09:00:00Z", east);
    move_a("2026-02-15T08:00:00Z", west);
    move_a("2026-02-15T09:00:00Z", east);
    move_a("2026-02-15T10:00:00Z", west);
    let memberships = transact(db.store(), |tx| tx.memberships(id)).unwrap();
    let of_a: Vec<(String, Option<TeamId>)> =
        memberships.iter().filter(|row| row.user == a).map(|row| (row.from.to_string(), row.team)).collect();
    assert_eq!(
        of_a,
        [("2026-01-01".to_owned(), None), ("2026-01-02".to_owned(), Some(east)), ("2026-02-15".to_owned(), Some(west))],
        "one row a day, the day's last"
    );

    let plan = json!({ "currency": "USD", "components": [
        { "type": "target_incentive", "rule": "Team", "target": "100000", "parts": [{ "of": "team", "weight": "1" }] },
    ] });
    transact(db.store(), |tx| {
        app::pay::save_plan(tx, &ctx, "Team plan", &plan)?;
        for person in [a, c, w] {
            app::pay::assign_plan(tx, &ctx, person, "Team plan", "2026-01-01", None)?;
        }
        for team in [east, west] {
            app::quotas::set_quota(tx, &ctx, app::QuotaSubject::Team(team), "2026-Q1", "100000")?;
        }
        Ok(())
    })
    .unwrap();
    let won_stage = org.simple.stages[4].id;
    let win = |owner: UserId, amount: &str, when: &str| {
        transact(db.store(), |tx| {
            let mut new = org.new_deal("Moved");
            new.owner_id = owner;
            let deal = app::deals::create_opportunity(tx, &on("2026-01-05T09:00:00Z"), &new)?;
            let patch =
                OpportunityPatch { stage_id: Some(won_stage), amount: Some(Some(amount.parse().unwrap())), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &on(when), deal.id, &patch)
        })
        .unwrap();
    };
    win(a, "USD 10000", "2026-02-10T09:00:00Z");
    win(a, "USD 20000", "2026-03-10T09:00:00Z");
    win(c, "USD 1000", "2026-01-20T09:00:00Z");
    win(w, "USD 5000", "2026-03-01T09:00:00Z");

    let clock: Clock = Arc::new(|| at("2026-04-02T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let team_line = |person: UserId| {
        let pay = insights
            .with(|projection| transact(db.store(), |tx| app::pay::compute_statement(tx, &ctx, projection, person, "2026-Q1")))
            .unwrap();
        pay.statement.lines.iter().find(|line| line.rule == "Team").map(|line| line.amount.to_string())
    };
    assert_eq!(team_line(c).as_deref(), Some("11000.00"), "East: A's February deal and C's");
    assert_eq!(team_line(w).as_deref(), Some("25000.00"), "West: A's March deal and W's");
    assert_eq!(team_line(a).as_deref(), Some("25000.00"), "A is on West at the quarter's end");
    // Computed together, the same.
    let all = insights.with(|projection| transact(db.store(), |tx| app::pay::compute_statements(tx, &ctx, projection, "2026-Q1"))).unwrap();
    let mut totals: Vec<(UserId, String)> = all.iter().map(|pay| (pay.stored.user, pay.stored.total.to_string())).collect();
    totals.sort();
    let mut expected = vec![(a, "USD 25000.00".to_owned()), (c, "USD 11000.00".to_owned()), (w, "USD 25000.00".to_owned())];
    expected.sort();
    assert_eq!(totals, expected);

    // The figures' teams: the projection and the subject a dashboard resolves.
    let day = |text: &str| -> Date { text.parse().unwrap() };
    insights.with(|projection| {
        let (owner, east_index) = (projection.owner_index(a).unwrap(), projection.team_index(east).unwrap());
        assert_eq!(projection.team_on(owner, pipewise_analytics::day_of_date(day("2026-02-14"))), east_index);
        assert_eq!(projection.team_on(owner, pipewise_analytics::day_of_date(day("2026-02-15"))), projection.team_index(west).unwrap());
        assert_eq!(projection.team_on(owner, pipewise_analytics::day_of_date(day("2027-01-01"))), projection.team_index(west).unwrap());
    });
    let history = transact(db.store(), |tx| app::users::team_history(tx, id)).unwrap();
    let users = transact(db.store(), |tx| app::users::users(tx, id)).unwrap();
    let teams = transact(db.store(), |tx| app::users::teams(tx, id)).unwrap();
    let east_on = |text: &str| {
        let roster = app::visibility::Roster { users: &users, teams: &teams, history: &history, on: day(text) };
        let resolved =
            app::visibility::resolve_subject(&Access::System, &users[0], roster, None, Some(east), app::visibility::Fallback::Home)
                .unwrap();
        resolved.owners.unwrap().contains(&a)
    };
    assert!(east_on("2026-02-14") && !east_on("2026-02-15"));
}
