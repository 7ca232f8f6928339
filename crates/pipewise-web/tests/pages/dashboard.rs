//! Dashboards on a small demo organisation: the organisation, a team and a rep; every number on
//! the page equals `pipewise_analytics::dashboard` on the same book; a rep sees only their own
//! figures; drill-down links carry the subject, period and date and list exactly the deals the
//! figure counts; health as of a past day with the activities known then; Korean labels and
//! reasons; health badges on the board; charts drawn in Chromium with screenshots; render times
//! on the standard demo.

use pipewise_app as app;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use pipewise_analytics::{Dashboard, DashboardQuery, Period, Projection, Scope, dashboard, day};
use pipewise_app::WriteCtx;
use pipewise_core::money::Decimal;
use pipewise_core::records::{Team, UserPatch};
use pipewise_core::user::{Locale, Role, User};
use pipewise_core::{Currency, Money, OrgId, Timestamp};
use pipewise_demo::DemoConfig;
use pipewise_store::Store;
use pipewise_test_support::browser::{Browser, screenshot_dir};
use pipewise_test_support::fixtures::{TestOrg, at};
use pipewise_test_support::transact;
use pipewise_web::i18n;

use crate::support::{App, Session, SharedDb, between, browser_sign_in, serve, set_password, unescape};

pub(crate) const AS_OF: &str = "2026-10-30";

/// The demo organisation, small enough for page tests.
pub(crate) fn small_demo() -> DemoConfig {
    DemoConfig {
        months: 12,
        teams: 3,
        reps: 9,
        accounts: 60,
        contacts: 180,
        opportunities: 420,
        activities_per_opportunity: 4,
        tasks: 120,
        leads: 20,
        ..DemoConfig::standard(11, now())
    }
}

fn now() -> Timestamp {
    at("2026-10-30T08:00:00Z")
}

pub(crate) struct Demo {
    pub(crate) app: App,
    pub(crate) org: OrgId,
    pub(crate) users: Vec<User>,
    pub(crate) teams: Vec<Team>,
    pub(crate) admin: User,
    /// The VP of sales: a manager who leads no team.
    pub(crate) vp: User,
    /// A team's manager.
    pub(crate) manager: User,
    pub(crate) rep: User,
}

pub(crate) fn demo(config: DemoConfig) -> Demo {
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(SharedDb(db));
    let summary = pipewise_demo::generate(&pipewise_app::Db::new(store.clone()), &config, &mut |_, _, _| {}).expect("the demo");
    let org = summary.organisation;
    let users = store.read().unwrap().users(org).unwrap();
    let teams = store.read().unwrap().teams(org).unwrap();
    let email = |role: Role| summary.users.iter().find(|(candidate, _)| *candidate == role).map(|(_, email)| email.clone()).unwrap();
    let find = |role: Role| users.iter().find(|user| user.email == email(role)).unwrap().clone();
    // The demo's manager login is the VP of sales, who leads no team; take a team's manager too.
    let (admin, vp, rep) = (find(Role::Admin), find(Role::Manager), find(Role::Rep));
    let manager = teams.iter().find_map(|team| users.iter().find(|user| Some(user.id) == team.manager_id)).expect("a team manager").clone();
    let pipelines = store.read().unwrap().pipelines(org).unwrap();
    let fixture = TestOrg {
        ctx: WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now() },
        manager: manager.clone(),
        rep: rep.clone(),
        simple: pipelines[0].clone(),
        b2b: pipelines.last().unwrap().clone(),
        account: store.read().unwrap().accounts(org).unwrap()[0].clone(),
    };
    for user in &users {
        set_password(store.as_ref(), &fixture, user.id);
    }
    // Everyone reads English unless a test says otherwise.
    for user in &users {
        set_locale(store.as_ref(), org, user, Locale::En);
    }
    let app = App::with(store, fixture, admin.clone(), now());
    Demo { app, org, users, teams, admin, vp, manager, rep }
}

pub(crate) fn set_locale(store: &dyn Store, org: OrgId, user: &User, locale: Locale) {
    let system = WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now() };
    let patch = UserPatch { locale: Some(locale), ..Default::default() };
    transact(store, |tx| app::users::update_user(tx, &system, user.id, &patch)).unwrap();
}

impl Demo {
    pub(crate) fn projection<R>(&self, f: impl FnOnce(&Projection) -> R) -> R {
        let clock: Arc<dyn Fn() -> Timestamp + Send + Sync> = Arc::new(now);
        let insights = pipewise_app::insights::Insights::load_with_clock(self.app.store.clone(), self.org, clock).unwrap();
        insights.with(f)
    }

    /// The analytics' own dashboard for these owners (`None`: everyone), as of [`AS_OF`].
    fn expected(&self, owners: Option<&BTreeSet<pipewise_core::UserId>>, quota: Option<i64>) -> (Dashboard, Currency) {
        self.projection(|projection| {
            let mut query = DashboardQuery::new(day(AS_OF));
            query.scope = match owners {
                None => Scope::org(),
                Some(owners) => Scope::owners(owners.iter().filter_map(|owner| projection.owner_index(*owner))),
            };
            query.period = Period::quarter_of(day(AS_OF));
            query.quota = quota;
            (dashboard(projection, &query), projection.reporting_currency())
        })
    }

    fn team_members(&self, team: &Team) -> BTreeSet<pipewise_core::UserId> {
        self.users.iter().filter(|user| user.team_id == Some(team.id)).map(|user| user.id).collect()
    }

    fn led_team(&self) -> &Team {
        self.teams.iter().find(|team| team.manager_id == Some(self.manager.id)).expect("the demo manager leads a team")
    }
}

fn money(minor: i128, currency: Currency) -> String {
    let amount = Decimal::from_i128_with_scale(minor, u32::from(currency.minor_units()));
    i18n::money(Locale::En, Money::new(amount, currency).unwrap())
}

fn group(count: impl Into<i64>) -> String {
    i18n::group(count.into())
}

/// The HTML from `start` up to the next `end`.
fn segment<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("{start:?} is on the page"));
    let to = body[from..].find(end).map_or(body.len(), |to| from + to);
    &body[from..to]
}

/// Every `href` in `html`, unescaped.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).filter_map(|piece| piece.split('"').next()).map(unescape).collect()
}

fn query_value(href: &str, key: &str) -> Option<String> {
    let query = href.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).ok()?.into_iter().find(|(name, _)| name == key).map(|(_, value)| value)
}

/// The links of the health section's flag and signal counts, each with the count it shows.
fn flag_counts(body: &str) -> Vec<(String, i64)> {
    let health = segment(body, "class=\"flag-counts\"", "</ul>");
    let links = health.split("<a href=\"").skip(1);
    let count = |link: &str| between(link, "<span class=\"count\">", "</span>").unwrap().replace(',', "").parse().unwrap();
    links.map(|link| (unescape(link.split('"').next().unwrap()), count(link))).collect()
}

/// The row count a list page shows ("123 rows").
fn list_count(body: &str) -> i64 {
    let text = between(body, "<span class=\"muted count\">", "</span>").expect("a row count");
    text.trim_end_matches(" rows").replace(',', "").parse().unwrap_or_else(|_| panic!("a count in {text:?}"))
}

async fn dashboard_page(app: &App, session: &Session, query: &str) -> String {
    let (status, body) = app.get(&format!("/dashboard?as_of={AS_OF}{query}"), Some(session)).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

/// The headline, stage table, waterfall and leaderboard of `body` equal `expected`.
fn assert_page_matches(body: &str, expected: &Dashboard, currency: Currency, users: &[User]) {
    let pipeline = &expected.pipeline;
    // What the pipeline leaves out as Omitted is said, with its count and amount.
    match pipeline.omitted_count {
        0 => assert!(!body.contains("id=\"omitted-note\""), "nothing omitted, no note"),
        count => {
            let note = segment(body, "id=\"omitted-note\"", "</p>");
            assert!(note.contains(&format!("{count} open deals ({})", money(pipeline.omitted_amount, currency))), "{note}");
        }
    }
    let total = segment(body, "<tfoot>", "</tfoot>");
    for text in [group(pipeline.count as i64), money(pipeline.amount, currency), money(pipeline.weighted, currency)] {
        assert!(total.contains(&format!(">{text}<")), "the stage total shows {text}: {total}");
    }
    let stages = segment(body, "id=\"table-stages\"", "<tfoot>");
    assert_eq!(stages.matches("<tr><th scope=\"row\">").count(), pipeline.lines.len(), "one row per counting stage");
    for line in &pipeline.lines {
        assert!(stages.contains(&format!(">{}<", money(line.amount, currency))), "stage line {line:?}");
    }
    let waterfall = &expected.waterfall;
    assert!(waterfall.reconciles());
    let rows = pipewise_analytics::WaterfallBucket::ALL.map(|bucket| (bucket.as_str(), waterfall.bucket(bucket)));
    for (name, bucket) in rows {
        let row = segment(body, &format!("data-bucket=\"{name}\""), "</tr>");
        assert!(row.contains(&format!(">{}<", group(bucket.count.abs()))), "waterfall {name} count {}: {row}", bucket.count);
        assert!(row.contains(&format!(">{}<", money(bucket.amount, currency))), "waterfall {name} amount: {row}");
    }
    assert!(body.contains("id=\"reconciles\">Reconciles:"), "the waterfall says it reconciles");
    let win_rate = segment(body, "data-key=\"win_rate\"", "</div>");
    let rate = expected.outcomes.win_rate_by_count().map_or("—".to_owned(), |ratio| format!("{}%", ratio.percent(1)));
    assert!(win_rate.contains(&format!(">{rate}<")), "win rate {rate}: {win_rate}");
    let cycle = segment(body, "data-key=\"cycle\"", "</div>");
    let days = expected.outcomes.average_cycle_days().map_or("—".to_owned(), |ratio| format!("{} days", ratio.round(1)));
    assert!(cycle.contains(&format!(">{days}<")), "cycle {days}: {cycle}");
    let leaders = segment(body, "id=\"table-leaderboard\"", "</table>");
    let mut last = 0;
    for row in &expected.leaderboard {
        let name = &users.iter().find(|user| user.id == row.user_id).unwrap().name;
        let at = leaders.find(&format!(">{name}<")).unwrap_or_else(|| panic!("{name} is on the leaderboard"));
        assert!(at >= last, "the leaderboard keeps the analytics' order");
        last = at;
        assert!(leaders.contains(&format!(">{}<", money(row.won_amount, currency))));
    }
    assert_eq!(leaders.matches("<td>").count(), expected.leaderboard.len(), "one row per rep in scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_team_and_rep_dashboards_equal_the_analytics() {
    let demo = demo(small_demo());
    let app = &demo.app;

    // The organisation, for an admin.
    let admin = app.sign_in(&demo.admin.email).await;
    let body = dashboard_page(app, &admin, "").await;
    let (expected, currency) = demo.expected(None, None);
    assert!(expected.pipeline.count > 0 && !expected.leaderboard.is_empty(), "the demo has a pipeline");
    assert_page_matches(&body, &expected, currency, &demo.users);
    assert!(body.contains("Pipewise Demo") && body.contains("Organisation"), "the organisation's dashboard");
    // The demo's ops set every rep's quarter: the organisation's quota is their sum, and the
    // leaderboard shows each rep's attainment.
    assert!(body.contains("the sum of the quotas of") && body.contains("as set on the Quotas page"), "the page names the stored quotas");
    assert!(body.contains(">Attainment<"), "the leaderboard shows attainment");

    // A manager lands on the team they lead.
    let manager = app.sign_in(&demo.manager.email).await;
    let body = dashboard_page(app, &manager, "").await;
    let team = demo.led_team();
    let tree = pipewise_core::access::reporting_tree(demo.manager.id, &demo.users);
    let owners: BTreeSet<_> = demo.team_members(team).intersection(&tree).copied().collect();
    let (expected, _) = demo.expected(Some(&owners), None);
    assert!(body.contains(&format!("<span class=\"dash-subject\">{}</span>", team.name)), "the manager's team");
    assert_page_matches(&body, &expected, currency, &demo.users);
    for href in hrefs(&body).iter().filter(|href| href.starts_with("/opportunities?figure=") && query_value(href, "owner").is_none()) {
        assert_eq!(query_value(href, "team").as_deref(), Some(team.id.to_string().as_str()), "{href} names the team");
        assert_eq!(query_value(href, "as_of").as_deref(), Some(AS_OF), "{href} carries the date");
        assert_eq!(query_value(href, "period").as_deref(), Some("2026-Q4"), "{href} carries the period");
    }

    // A manager who leads no team (the VP) lands on their reporting line.
    let vp = app.sign_in(&demo.vp.email).await;
    let body = dashboard_page(app, &vp, "").await;
    let tree = pipewise_core::access::reporting_tree(demo.vp.id, &demo.users);
    let (expected, _) = demo.expected(Some(&tree), None);
    assert!(body.contains("<span class=\"dash-subject\">My reports</span>"), "the VP's reporting line");
    assert_page_matches(&body, &expected, currency, &demo.users);

    // A rep on themselves, with a quota: coverage and the next lever.
    let rep = app.sign_in(&demo.rep.email).await;
    let body = dashboard_page(app, &rep, "&quota=250000").await;
    let quota = 250_000 * 10_i64.pow(u32::from(currency.minor_units()));
    let (expected, _) = demo.expected(Some(&[demo.rep.id].into()), Some(quota));
    assert_page_matches(&body, &expected, currency, &demo.users);
    let coverage = expected.coverage.expect("a quota gives coverage");
    let tile = segment(&body, "data-key=\"coverage\"", "</div>");
    let shown = coverage.ratio.map_or("—".to_owned(), |ratio| format!("{}×", ratio.round(2)));
    assert!(tile.contains(&format!(">{shown}<")), "coverage {shown}: {tile}");
    let lever = expected.health.organisation.lever.expect("a quota gives a lever");
    let title = match lever.lever {
        pipewise_analytics::Lever::FillTheFunnel => "Fill the top of the funnel",
        pipewise_analytics::Lever::ConvertWhatYouHave => "Convert what you have",
    };
    assert!(segment(&body, "class=\"lever", "</section>").contains(title), "the next lever is {title}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_sees_only_their_own_figures() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let rep = app.sign_in(&demo.rep.email).await;
    let others: Vec<&User> = demo.users.iter().filter(|user| user.id != demo.rep.id && user.role == Role::Rep).collect();
    let other = others[0];
    // Another rep's dashboard, another team, and any team with the rep's own figures only.
    let (status, _) = app.get(&format!("/dashboard?owner={}", other.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another rep's dashboard");
    let other_team = demo.teams.iter().find(|team| Some(team.id) != demo.rep.team_id).unwrap();
    let (status, _) = app.get(&format!("/dashboard?team={}", other_team.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another team's dashboard");
    let (status, _) = app.get("/dashboard?owner=999999", Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a user who does not exist looks the same");
    // A drill-down into another rep's figure is refused the same way.
    let (status, _) = app.get(&format!("/opportunities?figure=open&owner={}", other.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another rep's drill-down");

    let body = dashboard_page(app, &rep, "").await;
    for href in hrefs(&body) {
        if let Some(owner) = query_value(&href, "owner") {
            assert_eq!(owner, demo.rep.id.to_string(), "{href}: only the rep's own id");
        }
        assert!(query_value(&href, "team").is_none(), "{href}: no team for a rep");
    }
    for user in &others {
        assert!(!body.contains(&user.name), "{} does not appear on {}'s dashboard", user.name, demo.rep.name);
    }
    // Their own team, asked for by id, shows their figures only.
    if let Some(team) = demo.rep.team_id {
        let body = dashboard_page(app, &rep, &format!("&team={team}")).await;
        let (expected, currency) = demo.expected(Some(&[demo.rep.id].into()), None);
        assert_page_matches(&body, &expected, currency, &demo.users);
    }
}

/// A period the page cannot show is named and replaced by the as-of quarter, never computed
/// backwards (issue 16, points 4 and 11): a quarter after the as-of day, a year out of range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_after_the_as_of_day_or_out_of_range_shows_the_as_of_quarter() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let plain = dashboard_page(app, &admin, "").await;
    let waterfall = |body: &str| segment(body, "id=\"table-waterfall\"", "</table>").to_owned();
    for (query, note) in
        [("&period=2099-Q1", "Q1 2099 starts after the as-of date"), ("&period=9999-Q4", "“9999-Q4” is not a period such as")]
    {
        let body = dashboard_page(app, &admin, query).await;
        assert!(body.contains(note), "{query}: the page says {note:?}");
        assert_eq!(waterfall(&body), waterfall(&plain), "{query}: the as-of quarter's waterfall");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drill_down_lists_the_deals_its_figure_counts() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let manager = app.sign_in(&demo.manager.email).await;
    let body = dashboard_page(app, &manager, "").await;
    let team = demo.led_team();
    let tree = pipewise_core::access::reporting_tree(demo.manager.id, &demo.users);
    let owners: BTreeSet<_> = demo.team_members(team).intersection(&tree).copied().collect();
    let (expected, _) = demo.expected(Some(&owners), None);
    let waterfall = expected.waterfall;
    let buckets = pipewise_analytics::WaterfallBucket::ALL.map(|bucket| (bucket.as_str(), waterfall.bucket(bucket)));
    let mut checked = 0;
    for (name, bucket) in buckets {
        let row = segment(&body, &format!("data-bucket=\"{name}\""), "</tr>");
        let href = hrefs(row).into_iter().next().expect("a drill-down link");
        assert_eq!(query_value(&href, "figure").as_deref(), Some(format!("wf_{name}").as_str()));
        let (status, list) = app.get(&href, Some(&manager)).await;
        assert_eq!(status, StatusCode::OK, "{href}");
        assert_eq!(list_count(&list), bucket.count.abs(), "{name}: {href}");
        assert!(list.contains("The deals behind"), "the list says what it shows");
        checked += 1;
    }
    assert_eq!(checked, 12);
    // Pipeline by stage, win rate (won + lost), and the open pipeline.
    let stage_ids: Vec<pipewise_core::StageId> = demo.projection(|projection| projection.stages.iter().map(|stage| stage.id).collect());
    let stages = segment(&body, "id=\"table-stages\"", "</table>");
    for line in &expected.pipeline.lines {
        let stage_id = stage_ids[line.stage as usize].to_string();
        let href = hrefs(stages)
            .into_iter()
            .find(|href| query_value(href, "figure").as_deref() == Some("stage") && query_value(href, "at_stage") == Some(stage_id.clone()))
            .expect("a link per stage");
        let (_, list) = app.get(&href, Some(&manager)).await;
        assert_eq!(list_count(&list), line.count as i64, "{href}");
    }
    let tile = |key: &str| hrefs(segment(&body, &format!("data-key=\"{key}\""), "</div>")).into_iter().next().unwrap();
    let (_, list) = app.get(&tile("open"), Some(&manager)).await;
    assert_eq!(list_count(&list), expected.pipeline.count as i64, "open pipeline");
    let (_, list) = app.get(&tile("win_rate"), Some(&manager)).await;
    assert_eq!(list_count(&list), (expected.outcomes.won + expected.outcomes.lost) as i64, "won and lost");
    // Sorting the drill-down keeps its filters.
    let sort = hrefs(&list).into_iter().find(|href| href.contains("sort=amount")).expect("a sort link");
    assert_eq!(query_value(&sort, "figure").as_deref(), Some("closed"), "{sort}");
    assert_eq!(query_value(&sort, "team").as_deref(), Some(team.id.to_string().as_str()), "{sort}");
    let (_, sorted) = app.get(&sort, Some(&manager)).await;
    assert_eq!(list_count(&sorted), list_count(&list));
    // Flags: each count links to exactly those deals.
    let flags = flag_counts(&body);
    for (href, count) in &flags {
        let (_, list) = app.get(href, Some(&manager)).await;
        assert_eq!(list_count(&list), *count, "{href}");
    }
    assert_eq!(flags.len(), 12, "every per-deal flag and signal");
}

/// Issue 6: health as of a past day counts only the activities and tasks known then, on the
/// page and in its flag drill-downs alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_health_reads_the_activities_known_then() {
    const PAST: &str = "2026-09-15";
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get(&format!("/dashboard?as_of={PAST}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The analytics with the activity facts of that day, and with today's (which the demo's
    // six weeks of activities since make different).
    let clock: Arc<dyn Fn() -> Timestamp + Send + Sync> = Arc::new(now);
    let insights = pipewise_app::insights::Insights::load_with_clock(app.store.clone(), demo.org, clock).unwrap();
    let (then, today) = insights
        .with_as_of(day(PAST), |projection, facts| {
            let mut query = DashboardQuery::new(day(PAST));
            query.facts = facts;
            let then = dashboard(projection, &query).health.organisation.deal_counts;
            query.facts = None;
            (then, dashboard(projection, &query).health.organisation.deal_counts)
        })
        .unwrap();
    assert_ne!(then, today, "activities logged after {PAST} change the counts if read");
    let flags = flag_counts(&body);
    for (href, count) in &flags {
        let code = query_value(href, "flag").expect("a flag link");
        let index = pipewise_analytics::FlagCode::DEAL.iter().position(|candidate| candidate.as_str() == code).unwrap();
        assert_eq!(*count, then[index] as i64, "{code} as of {PAST}");
        let (_, list) = app.get(href, Some(&admin)).await;
        assert_eq!(list_count(&list), *count, "{href}");
    }
    assert_eq!(flags.len(), 12, "every per-deal flag and signal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn korean_readers_get_korean_labels_reasons_and_dates() {
    let demo = demo(small_demo());
    let app = &demo.app;
    set_locale(app.store.as_ref(), demo.org, &demo.manager, Locale::Ko);
    let manager = app.sign_in(&demo.manager.email).await;
    let body = dashboard_page(app, &manager, "&rep_quota=500000").await;
    for text in [
        "대시보드",
        "파이프라인 워터폴",
        "단계별 파이프라인",
        "다음 레버",
        "리더보드",
        "추이",
        "정체: 프로세스 문제인가, 코칭 문제인가?",
        "2026년 10월 30일 기준",
        "2026년 4분기",
    ] {
        assert!(body.contains(text), "{text} is on the Korean page");
    }
    assert!(body.contains("퍼널 상단을 채우세요") || body.contains("가진 파이프라인을 전환하세요"), "the next lever in Korean");
    assert!(!body.contains("Pipeline waterfall") && !body.contains("Next lever"), "no English headings");
    // A health reason from the analytics, in Korean.
    let health = segment(&body, "id=\"health\"", "</section>");
    assert!(health.contains("건") || health.contains("일"), "{health}");
    // Chart data carries the locale for the script's number format.
    let data = between(&body, "id=\"dashboard-data\">", "</script>").unwrap();
    let json: serde_json::Value = serde_json::from_str(data).expect("the data block is JSON");
    assert_eq!(json["locale"], "ko");
    assert_eq!(json["text"]["win_rate"], "승률");
    // Money keeps its exact form; compact totals use 만/억.
    assert!(body.contains("만") || body.contains("억"), "compact Korean amounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_each_deals_health_badges_with_reasons() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get("/board", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let badges = body.matches("<li class=\"badge\"").count();
    assert!(badges > 0, "open deals of the demo carry flags");
    // Each badge carries its plain-language reason once (read after the label, a tooltip on
    // hover).
    let badge = segment(&body, "<li class=\"badge\"", "</li>");
    let reason = between(badge, "<span class=\"badge-reason\">", "</span>").expect("a reason");
    assert!(reason.len() > 10, "{reason}");
    assert!(!badge.contains("title="), "not twice");
    // The analytics agree: the first flagged card's flags are its deal_health flags.
    let card = &body[..body.find("<li class=\"badge\"").unwrap()];
    let id: i64 = card.rsplit("id=\"deal-").next().unwrap().split('"').next().unwrap().parse().unwrap();
    let codes: Vec<&str> = segment(&body, &format!("id=\"deal-{id}\""), "</ul>")
        .split("data-code=\"")
        .skip(1)
        .map(|piece| piece.split('"').next().unwrap())
        .collect();
    let expected: Vec<&str> = demo.projection(|projection| {
        let deal = projection.deal_index(pipewise_core::OpportunityId(id)).unwrap();
        let today = pipewise_analytics::day_of_date(pipewise_web_today());
        pipewise_analytics::health::deal_health(projection, &projection.activity, deal, today, &Default::default())
            .unwrap()
            .flags
            .iter()
            .map(|flag| flag.code.as_str())
            .collect()
    });
    assert_eq!(codes, expected, "deal {id}");
}

/// The board's "today" for the demo admin (UTC in the demo).
fn pipewise_web_today() -> pipewise_core::Date {
    now().date_utc()
}

/// Waits until every chart container has its uPlot canvas.
fn wait_for_charts(browser: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let drawn = browser.execute("return document.querySelectorAll('.chart.is-drawn canvas').length", &[]).unwrap();
        if drawn.as_u64() == Some(4) {
            return;
        }
        assert!(Instant::now() < deadline, "the four charts were not drawn ({drawn})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_charts_draw_in_a_real_browser() {
    let demo = demo(small_demo());
    set_locale(demo.app.store.as_ref(), demo.org, &demo.manager, Locale::Ko);
    let base = serve(demo.app.router.clone()).await;
    let (admin, manager) = (demo.admin.email.clone(), demo.manager.email.clone());
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 2700).unwrap();
        browser_sign_in(&browser, &base, &admin).unwrap();
        browser.goto(&format!("{base}/dashboard?as_of={AS_OF}&quota=2000000")).unwrap();
        wait_for_charts(&browser);
        browser.screenshot(screenshot_dir().join("dashboard.png")).unwrap();
        browser.delete_cookies().unwrap();
        browser_sign_in(&browser, &base, &manager).unwrap();
        browser.goto(&format!("{base}/dashboard?as_of={AS_OF}&rep_quota=400000")).unwrap();
        wait_for_charts(&browser);
        browser.screenshot(screenshot_dir().join("dashboard-ko.png")).unwrap();
        // The board with its health badges.
        browser.goto(&format!("{base}/board")).unwrap();
        browser.wait_for(".badge", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("dashboard-board-badges.png")).unwrap();
        eprintln!("screenshots in {}", screenshot_dir().display());
    })
    .await
    .unwrap();
}

/// Render times of the dashboard on the standard demo (30 reps, 2,000 deals), printed; run in
/// release with `--nocapture` for real figures. Measured twice: with the server's registry of
/// followed projections (as `pipewise serve` runs) and with a projection loaded per request
/// (the fallback without a registry). The bound is only a sanity check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_render_time_on_the_demo_organisation() {
    let started = Instant::now();
    let mut demo = demo(DemoConfig::standard(7, now()));
    eprintln!("demo generated in {:.1} s", started.elapsed().as_secs_f64());
    let mut report = Vec::new();
    for registry in [true, false] {
        let mut state = pipewise_web::AppState::new(pipewise_app::Db::new(demo.app.store.clone()));
        state.clock = Arc::new(now);
        if registry {
            let registry = pipewise_app::insights::InsightsRegistry::new(demo.app.store.clone()).with_clock(Arc::new(now));
            state.insights = Some(Arc::new(registry));
        }
        demo.app.router = pipewise_web::router(state);
        let app = &demo.app;
        let source = if registry { "registry" } else { "per request" };
        for user in [&demo.admin, &demo.manager, &demo.rep] {
            let session = app.sign_in(&user.email).await;
            for path in [
                format!("/dashboard?as_of={AS_OF}"),
                format!("/dashboard?as_of={AS_OF}&quota=5000000&rep_quota=200000"),
                format!("/opportunities?figure=wf_pushed_out&as_of={AS_OF}&status=all"),
                "/board".to_owned(),
            ] {
                let mut times = Vec::new();
                for _ in 0..7 {
                    let started = Instant::now();
                    let (status, _) = app.get(&path, Some(&session)).await;
                    times.push(started.elapsed());
                    assert_eq!(status, StatusCode::OK, "{path}");
                }
                times.sort();
                let median = times[times.len() / 2];
                report.push(format!(
                    "{source:>11} {:>8} {:<62} median {:>7.1} ms",
                    user.role.as_str(),
                    path,
                    median.as_secs_f64() * 1000.0
                ));
                assert!(median < Duration::from_secs(5), "{path} took {median:?}");
            }
        }
    }
    eprintln!("dashboard render times (in process, through the router, session check included):\n{}", report.join("\n"));
}

/// An organisation west of UTC, whose date is still yesterday there, sees on "today" what was logged
/// today: the clock's 2026-10-30T08:00Z is 10-29 22:00 in Honolulu. A call logged now on an
/// untouched deal clears its flag on the dashboard, though the end of 10-29 in UTC lies before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewers_local_today_reads_todays_activities() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let system = WriteCtx { org: demo.org, actor_id: None, source: pipewise_core::history::Source::System, at: now() };
    transact(&*app.store, |tx| app::settings::set_time_zone(tx, &system, "Pacific/Honolulu")).unwrap();
    let local_today = day("2026-10-29");
    let untouched = pipewise_analytics::FlagCode::DEAL.iter().position(|code| *code == pipewise_analytics::FlagCode::Untouched).unwrap();
    // An open deal flagged untouched as of 10-29 with the current facts.
    let deal = demo.projection(|projection| {
        (0..projection.n_deals() as u32)
            .find(|deal| {
                pipewise_analytics::health::deal_health(projection, &projection.activity, *deal, local_today, &Default::default())
                    .is_some_and(|health| health.flags.iter().any(|flag| flag.code == pipewise_analytics::FlagCode::Untouched))
            })
            .map(|deal| projection.deals().id[deal as usize])
            .expect("an untouched deal")
    });
    let call = pipewise_test_support::fixtures::call(deal, pipewise_core::records::Direction::Outbound, "2026-10-30T07:30:00Z", &[]);
    transact(&*app.store, |tx| app::activities::create_activity(tx, &system, call)).unwrap();
    let current =
        demo.projection(|projection| dashboard(projection, &DashboardQuery::new(local_today)).health.organisation.deal_counts[untouched]);
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get("/dashboard", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("2026-10-29") || body.contains("Oct 29"), "the page is as of the viewer's 10-29");
    let health = segment(&body, "class=\"flag-counts\"", "</ul>");
    let link = health.split("<a href=\"").skip(1).find(|link| link.contains("flag=untouched")).expect("the untouched count");
    let shown: u64 = between(link, "<span class=\"count\">", "</span>").unwrap().replace(',', "").parse().unwrap();
    assert_eq!(shown, current, "the count with today's facts, the new call included");
}

/// The deal page shows an open deal's health flags with their reasons, as the board's badges
/// and the dashboard count them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deal_page_shows_the_deals_health_with_reasons() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let today = day("2026-10-30");
    let (deal, reasons) = demo.projection(|projection| {
        (0..projection.n_deals() as u32)
            .find_map(|deal| {
                let health = pipewise_analytics::health::deal_health(projection, &projection.activity, deal, today, &Default::default())?;
                (health.flags.len() >= 2).then(|| {
                    let reasons: Vec<String> = health.flags.iter().map(|flag| i18n::health_reason(Locale::En, projection, flag)).collect();
                    (projection.deals().id[deal as usize], reasons)
                })
            })
            .expect("an open deal with two flags")
    });
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let card = unescape(segment(&body, "class=\"card deal-health\"", "</section>"));
    for reason in &reasons {
        assert!(card.contains(reason.as_str()), "{reason:?} in {card}");
    }
    // Not on a view as of a past day (its facts would be today's).
    let (_, past) = app.get(&format!("/opportunities/{deal}?as_of=2026-06-30"), Some(&admin)).await;
    assert!(!past.contains("deal-health"));
}

/// A head of sales over hundreds of reps gets the leaderboard's first 50 rows and a link to all
/// of them, and a rep search instead of a select of every rep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_organisation_s_dashboard_shows_the_first_rows_and_searches_reps() {
    let app = crate::support::app();
    for n in 0..210 {
        let new =
            pipewise_test_support::fixtures::new_user(&format!("closer{n:03}@pages.test"), &format!("Closer {n:03}"), Role::Rep, None);
        let user = pipewise_test_support::transact(&*app.store, |tx| app::users::create_user(tx, &app.org.ctx, new.clone())).unwrap();
        app.create_deal(&format!("Deal {n:03}"), user.id);
    }
    let admin = app.sign_in("admin@pages.test").await;
    let (status, page) = app.get("/dashboard", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let rows = |page: &str| crate::support::between(page, r#"id="table-leaderboard""#, "</table>").unwrap().matches("<tr><td>").count();
    assert_eq!(rows(&page), 50, "the first 50 reps");
    assert!(page.contains("Show all 21"), "and a link to all of them");
    assert!(page.contains(r#"data-picker-for="dash-view""#), "reps are searched");
    assert!(!page.contains("Closer 123"), "no select of every rep");
    let (status, all) = app.get("/dashboard?rows=all", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(rows(&all) >= 210, "every rep when asked: {}", rows(&all));
    assert!(!all.contains("Show all"));
    let (_, found) = app.get("/pick/users?q=closer%2012&among=reps&as=owner", Some(&admin)).await;
    assert!(found.contains(r#""value":"owner:"#) && found.contains("Closer 120"), "{found}");
}
