//! A small book worked by hand: ten deals of three reps over the first half of 2026, B2B
//! pipeline (stage 1 does not count), USD. Every figure and flag is checked against the
//! arithmetic in the comments.
//!
//! Reps: A = user 1 and B = user 2 in team 10, C = user 3 in team 20.
//! B2B positions: 0 = "1 Pre-opportunity" (5 %, not counting, rots after 30 days),
//! 1 = "2 Problem recognition" (15 %, 45), 2 = "3 Evaluation" (35 %, 45),
//! 3 = "4 Final negotiation" (65 %, 30), 4 = "5 Approval" (85 %, 21), 5 = won, 6 = lost.
//!
//! | deal | rep | story |
//! |------|-----|-------|
//! | D1 | A | 01-05 pos 1, $10,000, close 03-31; pos 2 on 01-20, pos 3 on 02-10, won 03-15 |
//! | D2 | A | 01-10 pos 1, $20,000, close 03-31; lost 03-01 |
//! | D3 | B | 01-15 pos 0 (pre-opportunity), no amount; dropped (lost) 02-01: not a loss |
//! | D4 | B | 02-01 pos 1, $30,000, close 05-15; pos 2 on 03-01; $36,000 on 04-10; close → 06-20 on 05-10, → 07-31 on 06-15 |
//! | D5 | C | 03-10 pos 1, $8,000, close 06-30; pos 3 on 04-15 (a jump); won 06-05 |
//! | D6 | C | 04-02 pos 1, $12,000, close 06-20; stays |
//! | D7 | A | 02-20 pos 1, $5,000, close 08-31; close → 06-25 on 05-01; pos 4 on 06-10 |
//! | D8 | B | 03-20 pos 1, $15,000, close 06-15; $9,000 on 04-20; lost 06-01 |
//! | D9 | C | 05-05 pos 1, $7,000, close 06-30; pos 2 on 05-20 |
//! | D10 | A | 06-01 pos 0, no amount, no close date |

use pipewise_analytics::health::{Subject, deal_health, health, next_lever};
use pipewise_analytics::metrics::{
    conversion, coverage, days_every, outcomes, pipeline_by_stage, time_in_stage, trend, velocity, waterfall,
};
use pipewise_analytics::{
    DashboardQuery, DealActivity, FlagCode, HealthThresholds, Lever, Period, Projection, Ratio, Scope, WaterfallBucket, dashboard, day,
    leaderboard,
};
use pipewise_core::{OpportunityId, TeamId, UserId};

use crate::support::{LogBuilder, noon, pipelines, usd};

fn book() -> LogBuilder {
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some(usd("10000")), Some("2026-03-31"), noon("2026-01-05"));
    book.create(2, 1, 1, 1, Some(usd("20000")), Some("2026-03-31"), noon("2026-01-10"));
    book.create(3, 2, 1, 0, None, None, noon("2026-01-15"));
    book.stage(1, 2, noon("2026-01-20"));
    book.stage(3, 6, noon("2026-02-01"));
    book.create(4, 2, 1, 1, Some(usd("30000")), Some("2026-05-15"), noon("2026-02-01"));
    book.stage(1, 3, noon("2026-02-10"));
    book.create(7, 1, 1, 1, Some(usd("5000")), Some("2026-08-31"), noon("2026-02-20"));
    book.stage(2, 6, noon("2026-03-01"));
    book.stage(4, 2, noon("2026-03-01"));
    book.create(5, 3, 1, 1, Some(usd("8000")), Some("2026-06-30"), noon("2026-03-10"));
    book.stage(1, 5, noon("2026-03-15"));
    book.create(8, 2, 1, 1, Some(usd("15000")), Some("2026-06-15"), noon("2026-03-20"));
    book.create(6, 3, 1, 1, Some(usd("12000")), Some("2026-06-20"), noon("2026-04-02"));
    book.amount(4, usd("36000"), noon("2026-04-10"));
    book.stage(5, 3, noon("2026-04-15"));
    book.amount(8, usd("9000"), noon("2026-04-20"));
    book.close_date(7, "2026-06-25", noon("2026-05-01"));
    book.create(9, 3, 1, 1, Some(usd("7000")), Some("2026-06-30"), noon("2026-05-05"));
    book.close_date(4, "2026-06-20", noon("2026-05-10"));
    book.stage(9, 2, noon("2026-05-20"));
    book.stage(8, 6, noon("2026-06-01"));
    book.create(10, 1, 1, 0, None, None, noon("2026-06-01"));
    book.stage(5, 5, noon("2026-06-05"));
    book.stage(7, 4, noon("2026-06-10"));
    book.close_date(4, "2026-07-31", noon("2026-06-15"));
    book
}

fn projection() -> Projection {
    let mut projection = book().projection();
    projection.set_team(UserId(1), Some(TeamId(10)));
    projection.set_team(UserId(2), Some(TeamId(10)));
    projection.set_team(UserId(3), Some(TeamId(20)));
    let mut facts = |deal: i64, facts: DealActivity| {
        let index = projection.deal_index(OpportunityId(deal)).unwrap();
        projection.activity.set(index, facts);
    };
    facts(
        4,
        DealActivity {
            last_activity: Some(day("2026-06-28")),
            last_inbound: Some(day("2026-06-01")),
            touchpoints_30d: 3,
            contacts_engaged: 1,
            overdue_tasks: 0,
            max_log_lag_days: 2,
        },
    );
    facts(6, DealActivity { overdue_tasks: 2, ..DealActivity::default() });
    facts(
        7,
        DealActivity {
            last_activity: Some(day("2026-06-29")),
            last_inbound: Some(day("2026-06-25")),
            touchpoints_30d: 8,
            contacts_engaged: 4,
            overdue_tasks: 0,
            max_log_lag_days: 10,
        },
    );
    facts(
        9,
        DealActivity {
            last_activity: Some(day("2026-06-20")),
            last_inbound: Some(day("2026-06-20")),
            touchpoints_30d: 6,
            contacts_engaged: 2,
            overdue_tasks: 0,
            max_log_lag_days: 0,
        },
    );
    facts(10, DealActivity { last_activity: Some(day("2026-06-05")), ..DealActivity::default() });
    projection
}

fn june_30() -> DashboardQuery {
    let mut query = DashboardQuery::new(day("2026-06-30"));
    query.window = Period::new(day("2026-01-01"), day("2026-06-30"));
    query.quota = Some(50_000_00);
    query
}

fn ratio(value: Option<Ratio>) -> String {
    value.map_or("undefined".to_owned(), |ratio| format!("{}/{} = {}%", ratio.numerator, ratio.denominator, ratio.percent(2)))
}

fn check(actual: String, expected: &str) {
    assert_eq!(actual.trim(), expected.trim(), "\n--- actual ---\n{actual}");
}

fn dollars(cents: i128) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

#[test]
fn pipeline_by_stage_leaves_out_stage_1_and_weights_by_stage_probability() {
    let projection = projection();
    let render = |as_of: &str| {
        let pipeline = pipeline_by_stage(&projection, &Scope::org().in_pipeline(0), day(as_of), None);
        let mut text = String::new();
        for line in &pipeline.lines {
            let name = &projection.stages[line.stage as usize].name_en;
            text += &format!("{name}: {} deals, {} weighted {}\n", line.count, dollars(line.amount), dollars(line.weighted));
        }
        text + &format!("total: {} deals, {} weighted {}", pipeline.count, dollars(pipeline.amount), dollars(pipeline.weighted))
    };
    // As of 06-30 the open deals are D4 (pos 2, $36,000), D6 (pos 1, $12,000), D7 (pos 4,
    // $5,000), D9 (pos 2, $7,000); D10 sits in stage 1 and is left out.
    // Weighted: 12,000 × 15 % = 1,800; 43,000 × 35 % = 15,050; 5,000 × 85 % = 4,250.
    check(
        render("2026-06-30"),
        "
2 Problem recognition: 1 deals, 12000.00 weighted 1800.00
3 Evaluation & selection: 2 deals, 43000.00 weighted 15050.00
4 Final negotiation: 0 deals, 0.00 weighted 0.00
5 Approval: 1 deals, 5000.00 weighted 4250.00
total: 4 deals, 60000.00 weighted 21100.00",
    );
    // As of 03-31: D5 ($8,000), D7 ($5,000), D8 ($15,000) at pos 1; D4 at pos 2 with its
    // amount then, $30,000. Weighted: 28,000 × 15 % = 4,200; 30,000 × 35 % = 10,500.
    check(
        render("2026-03-31"),
        "
2 Problem recognition: 3 deals, 28000.00 weighted 4200.00
3 Evaluation & selection: 1 deals, 30000.00 weighted 10500.00
4 Final negotiation: 0 deals, 0.00 weighted 0.00
5 Approval: 0 deals, 0.00 weighted 0.00
total: 4 deals, 58000.00 weighted 14700.00",
    );
}

#[test]
fn outcomes_velocity_and_coverage() {
    let projection = projection();
    let query = june_30();
    let result = outcomes(&projection, &Scope::org(), query.as_of, query.window);
    // Won: D1 ($10,000, 01-05 → 03-15 = 69 days) and D5 ($8,000, 03-10 → 06-05 = 87 days).
    // Lost: D2 ($20,000) and D8 (its amount when lost, $9,000). D3 was dropped from stage 1.
    assert_eq!((result.won, result.lost, result.dropped), (2, 2, 1));
    assert_eq!((result.won_amount, result.lost_amount, result.won_cycle_days), (18_000_00, 29_000_00, 156));
    check(ratio(result.win_rate_by_count()), "2/4 = 50.00%");
    // 18,000 / 47,000 = 0.382978…
    check(ratio(result.win_rate_by_value()), "1800000/4700000 = 38.30%");
    // (69 + 87) / 2 = 78 days; 18,000 / 2 = 9,000.
    assert_eq!(result.average_cycle_days().unwrap().round(1).to_string(), "78.0");
    assert_eq!(result.average_deal_size(), Some(9_000_00));
    // Velocity = 4 open × 50 % × $9,000 / 78 days = $230.769… = 23,077 cents a day, i.e.
    // 4 × 1,800,000 × 2 / (4 × 156) = 14,400,000 / 624 = 23,076.92 → 23,077.
    let speed = velocity(&projection, &Scope::org(), query.as_of, query.window).unwrap();
    assert_eq!((speed.open_deals, speed.per_day), (4, 23_077));
    // Coverage of Q2 with a $50,000 quota: won in Q2 is D5's $8,000, so $42,000 remain; open
    // deals closing in Q2 are D6 (06-20, $12,000), D7 (06-25, $5,000), D9 (06-30, $7,000);
    // D4 was pushed to 07-31. 24,000 / 42,000 = 4/7 = 57.14 %.
    let cover = coverage(&projection, &Scope::org(), query.as_of, query.period, 50_000_00);
    assert_eq!((cover.open_closing_in_period, cover.won_in_period, cover.remaining_quota), (24_000_00, 8_000_00, 42_000_00));
    check(ratio(cover.ratio), "2400000/4200000 = 57.14%");
    // With the quota met, coverage is undefined rather than infinite.
    assert_eq!(coverage(&projection, &Scope::org(), query.as_of, query.period, 8_000_00).ratio, None);
    // Per rep: C (user 3) won D5 and has D6 + D9 open.
    let rep_c = Scope::owners([projection.owner_index(UserId(3)).unwrap()]);
    let cover_c = coverage(&projection, &rep_c, query.as_of, query.period, 10_000_00);
    check(ratio(cover_c.ratio), "1900000/200000 = 950.00%");
}

#[test]
fn waterfall_of_the_second_quarter() {
    let projection = projection();
    let q2 = Period::new(day("2026-04-01"), day("2026-06-30"));
    let flow = waterfall(&projection, &Scope::org(), q2, day("2026-03-31"), day("2026-06-30"));
    // Start (as of 03-31, open, counting, closing in Q2): D4 $30,000 (05-15), D5 $8,000
    // (06-30), D8 $15,000 (06-15) = $53,000 in 3 deals. D7 closed 08-31 then: outside.
    // D4: +6,000 increased, then pushed out at its end amount −36,000.
    // D5: won −8,000. D8: decreased −6,000 (15,000 → 9,000), then lost −9,000.
    // D6 and D9 are new: +12,000 + 7,000. D7's close date moved into Q2: pulled in +5,000.
    // End: D6 + D7 + D9 = $24,000 in 3 deals.
    // 53,000 + 19,000 + 6,000 − 6,000 + 5,000 − 36,000 − 8,000 − 9,000 = 24,000.
    let mut text = format!("start {} ({})\n", dollars(flow.start.amount), flow.start.count);
    for (name, bucket) in flow.movements() {
        text += &format!("{} {} ({})\n", name.as_str(), dollars(bucket.amount), bucket.count);
    }
    text += &format!("end {} ({})", dollars(flow.end.amount), flow.end.count);
    check(
        text,
        "
start 53000.00 (3)
new 19000.00 (2)
increased 6000.00 (1)
decreased -6000.00 (1)
pulled_in 5000.00 (1)
pushed_out -36000.00 (-1)
won -8000.00 (-1)
lost -9000.00 (-1)
removed 0.00 (0)
transferred_in 0.00 (0)
transferred_out 0.00 (0)
end 24000.00 (3)",
    );
    assert!(flow.reconciles());
    // A deal created and closed inside the interval enters and leaves: from 03-09, D5 (created
    // 03-10, won 06-05) is new +8,000 and won −8,000; D8 (created 03-20, lost 06-01 at
    // $9,000) is new +9,000 and lost −9,000. New = 8,000 + 9,000 + 12,000 (D6) + 7,000 (D9).
    let flow = waterfall(&projection, &Scope::org(), q2, day("2026-03-09"), day("2026-06-30"));
    assert_eq!((flow.new.amount, flow.won.amount, flow.lost.amount), (36_000_00, -8_000_00, -9_000_00));
    assert!(flow.reconciles());
}

#[test]
fn conversion_and_time_in_stage() {
    let projection = projection();
    let query = june_30();
    // Resolved in H1: D1 won, D2 lost from pos 1, D5 won (it jumped pos 1 → 3: a win passes
    // every gate), D8 lost from pos 1; D3 (dropped in stage 1) is not in the cohort.
    // Reached pos 1: all four ($10,000 + 20,000 + 8,000 + 9,000 = 47,000); pos 2, 3, 4: the
    // two won deals ($18,000).
    let lines = conversion(&projection, &Scope::org(), 0, query.as_of, query.window);
    let text: Vec<String> = lines
        .iter()
        .map(|line| {
            format!(
                "{}: reached {} ({}), next {} by value {}, won {}",
                projection.stages[line.stage as usize].name_en,
                line.reached,
                dollars(line.reached_amount),
                ratio(line.to_next_by_count()),
                ratio(line.to_next_by_value()),
                ratio(line.to_won_by_count())
            )
        })
        .collect();
    check(
        text.join("\n"),
        "
2 Problem recognition: reached 4 (47000.00), next 2/4 = 50.00% by value 1800000/4700000 = 38.30%, won 2/4 = 50.00%
3 Evaluation & selection: reached 2 (18000.00), next 2/2 = 100.00% by value 1800000/1800000 = 100.00%, won 2/2 = 100.00%
4 Final negotiation: reached 2 (18000.00), next 2/2 = 100.00% by value 1800000/1800000 = 100.00%, won 2/2 = 100.00%
5 Approval: reached 2 (18000.00), next 2/2 = 100.00% by value 1800000/1800000 = 100.00%, won 2/2 = 100.00%",
    );
    // Completed stays in H1: pos 1: D1 15 (01-05 → 01-20), D2 50, D4 28, D5 36, D7 110,
    // D8 73, D9 15 = 327 days over 7 stays; pos 2: D1 21; pos 3: D1 33, D5 51 = 84 over 2;
    // stage 1: D3 17. Still there on 06-30: pos 2 holds D4 (since 03-01, 121 days) and D9
    // (since 05-20, 41 days) = 162 over 2; pos 1 holds D6 (89); pos 4 D7 (20); stage 1 D10 (29).
    let times = time_in_stage(&projection, &Scope::org(), query.as_of, query.window);
    let summary: Vec<String> = (0..5)
        .map(|position| {
            let time = times[projection.stage_index(crate::support::stage_id(&pipelines(), 0, position)).unwrap() as usize];
            format!(
                "{position}: {} stays {} days, {} now {} days",
                time.completed_stays, time.completed_days, time.current_deals, time.current_days
            )
        })
        .collect();
    check(
        summary.join("\n"),
        "
0: 1 stays 17 days, 1 now 29 days
1: 7 stays 327 days, 1 now 89 days
2: 1 stays 21 days, 2 now 162 days
3: 2 stays 84 days, 0 now 0 days
4: 0 stays 0 days, 1 now 20 days",
    );
}

#[test]
fn deal_flags_with_their_numbers_and_reasons() {
    let projection = projection();
    let as_of = day("2026-06-30");
    let thresholds = HealthThresholds::default();
    let render = |deal: i64| {
        let health =
            deal_health(&projection, &projection.activity, projection.deal_index(OpportunityId(deal)).unwrap(), as_of, &thresholds)
                .unwrap();
        let flags: Vec<String> = health
            .flags
            .iter()
            .chain(&health.signals)
            .map(|flag| format!("{}({},{})", flag.code.as_str(), flag.value, flag.limit))
            .collect();
        flags.join(" ")
    };
    // D4: in pos 2 since 03-01 = 121 days > 45; last inbound 06-01 = 29 days > 21; pushed twice
    // (05-15 → 06-20 → 07-31); one contact.
    check(render(4), "stale(121,45) going_dark(29,21) close_date_pushed(2,2) single_threaded(1,1)");
    // D6: no activity at all since creation 04-02 = 89 days; close date 06-20 passed 10 days
    // ago; two overdue tasks; no contact.
    check(render(6), "stale(89,45) untouched(89,14) going_dark(89,21) past_close_date(10,0) overdue_tasks(2,0) single_threaded(0,1)");
    // D7: in pos 4 for 20 days (≤ 21); its close date 06-25 passed 5 days ago; an activity
    // logged 10 days late; 8 touchpoints, 4 contacts.
    check(render(7), "past_close_date(5,0) late_updates(10,7) well_touched(8,6) multi_threaded(4,3)");
    check(render(9), "well_touched(6,6)");
    // D10 sits in stage 1: follow-up flags only (no amount or contact flags): last activity
    // 06-05 = 25 days; never inbound since creation 06-01 = 29 days.
    check(render(10), "untouched(25,14) going_dark(29,21)");
    // Closed deals carry no flags.
    check(render(1), "");
    let health =
        deal_health(&projection, &projection.activity, projection.deal_index(OpportunityId(6)).unwrap(), as_of, &thresholds).unwrap();
    // What an edge words the reasons with (pipewise-web's i18n tests word these very numbers):
    // the stage a flag names, by index into the projection's stages.
    let stale = health.flags[0];
    assert_eq!((stale.code, stale.stage, stale.value, stale.limit, stale.total), (FlagCode::Stale, Some(1), 89, 45, 0));
    assert_eq!(
        (projection.stages[1].name_en.as_str(), projection.stages[1].name_ko.as_str()),
        ("2 Problem recognition", "2 비즈니스 과제의 인식")
    );
    let past = health.flags[3];
    assert_eq!((past.code, past.stage, past.value, past.limit, past.total), (FlagCode::PastCloseDate, Some(1), 10, 0, 0));
    // Going dark is clamped to 14–42 days.
    let loose = HealthThresholds { going_dark_days: 90, ..HealthThresholds::default() };
    assert_eq!(loose.going_dark(), 42);
}

#[test]
fn group_health_counts_flags_and_recommends_the_lever() {
    let projection = projection();
    let query = june_30();
    let overview = health(&projection, &query);
    let org = &overview.organisation;
    // Per code, over the open deals of counting stages (D10 sits in stage 1, which counts in no
    // metric: its own flags are on its page, not in the counts): stale D4 D6; untouched D6; going
    // dark D4 D6; past close D6 D7; pushed D4; overdue D6; single-threaded D4 D6; no amount
    // none; late updates D7; moving none; well touched D7 D9; multi-threaded D7.
    assert_eq!(org.deal_counts, [2, 1, 2, 2, 1, 1, 2, 0, 1, 0, 2, 1]);
    // Flagged are D4, D6 and D7 of the same 4 open deals (D9 has a healthy signal only).
    assert_eq!((org.open_deals, org.flagged_deals), (4, 3));
    let counts = pipewise_analytics::health::deal_flag_counts(&projection, &query);
    assert_eq!((counts.open_deals, counts.flagged_deals, counts.deal_counts), (4, 3, org.deal_counts));
    // 4 open counting deals (< 10): no bottleneck. Coverage 57 % < 300 %: thin. Newest deal
    // 06-01 is 29 days old (≤ 30). Early stages (pos 1 and 2 of 4) hold D4, D6, D9 = 3 of 4.
    let codes: Vec<String> = org
        .flags
        .iter()
        .chain(&org.signals)
        .map(|flag| format!("{}({},{},{})", flag.code.as_str(), flag.value, flag.limit, flag.total))
        .collect();
    check(codes.join(" "), "thin_pipeline(57,300,0) front_loaded(3,50,4)");
    // C = 4/7, W = 18/47 by value: C × W = 72/329 < 1 and C < 3: fill the top of the funnel.
    let lever = org.lever.unwrap();
    assert_eq!(lever.lever, Lever::FillTheFunnel);
    // The numbers an edge words the advice with: coverage 0.57× against 3.00×, a win rate of
    // 38.3 % by value closing 22 % of the remaining quota.
    let shown = (
        lever.coverage.round(2).to_string(),
        lever.coverage_target_pct,
        lever.win_rate_by_value.map(|rate| rate.percent(1).to_string()),
        lever.expected().map(|expected| expected.percent(0).to_string()),
    );
    assert_eq!(shown, ("0.57".to_owned(), 300, Some("38.3".to_owned()), Some("22".to_owned())));
    let equals = |ratio: Ratio, numerator: i128, denominator: i128| ratio.numerator * denominator == numerator * ratio.denominator;
    assert!(equals(lever.coverage, 4, 7) && lever.win_rate_by_value.is_some_and(|rate| equals(rate, 18, 47)), "{lever:?}");
    // The lever rule's other branches.
    let r = |n, d| Ratio::new(n, d);
    assert_eq!(next_lever(r(2, 1), r(1, 2), 300).unwrap().lever, Lever::ConvertWhatYouHave, "2× at 50 %: covered, convert");
    assert_eq!(next_lever(r(4, 1), r(1, 5), 300).unwrap().lever, Lever::ConvertWhatYouHave, "4× ≥ 3× but 4 × 20 % < 1: convert");
    assert_eq!(next_lever(r(2, 1), None, 300).unwrap().lever, Lever::FillTheFunnel, "no win history, 2× < 3×");
    assert_eq!(next_lever(None, r(1, 2), 300), None, "nothing remains");
    // Reps and teams: every rep with deals has a report.
    let subjects: Vec<Subject> = overview.reps.iter().map(|report| report.subject).collect();
    assert_eq!(subjects.len(), 3);
    assert_eq!(overview.teams.len(), 2);
}

#[test]
fn a_team_stalling_is_a_process_problem_one_rep_stalling_a_coaching_matter() {
    // Team 10 (reps 1 and 2) and rep 3 of team 20 each have three deals parked in pos 1 since
    // 01-05: 176 days as of 06-30 > 45, all stale. Rep 4 of team 20 has three moving deals.
    // Nobody created a deal since 01-05 (176 days > 30): every group lacks new opportunities.
    let mut book = LogBuilder::new(pipelines());
    let mut id = 0;
    for owner in 1..=4 {
        for _ in 0..3 {
            id += 1;
            book.create(id, owner, 1, 1, Some(usd("1000")), Some("2026-09-30"), noon("2026-01-05"));
            if owner == 4 {
                book.stage(id, 2, noon("2026-06-25"));
            }
        }
    }
    let mut projection = book.projection();
    for (user, team) in [(1, 10), (2, 10), (3, 20), (4, 20)] {
        projection.set_team(UserId(user), Some(TeamId(team)));
    }
    let mut query = DashboardQuery::new(day("2026-06-30"));
    query.thresholds.rep_late_stage_max = 2;
    query.thresholds.bottleneck_min_deals = 3;
    // The seed's fixed-share bottleneck (the usual-share rule has its own test).
    query.thresholds.bottleneck_excess_pts = 0;
    let overview = health(&projection, &query);
    let flags = |subject: Subject| {
        let report = overview.organisation.clone();
        let report = match subject {
            Subject::Organisation => report,
            Subject::Team(_) => overview.teams.iter().find(|report| report.subject == subject).unwrap().clone(),
            Subject::Rep(_) => overview.reps.iter().find(|report| report.subject == subject).unwrap().clone(),
        };
        report.flags.iter().map(|flag| format!("{}({}/{})", flag.code.as_str(), flag.value, flag.total)).collect::<Vec<_>>().join(" ")
    };
    let team = |id| Subject::Team(projection.team_index(TeamId(id)).unwrap());
    let rep = |id| Subject::Rep(projection.owner_index(UserId(id)).unwrap());
    // Team 10: both reps stall at pos 1 (2 of 2 ≥ 50 %, at least 2 reps): the team's flag;
    // the reps get none. All 6 of its deals sit in one stage: a bottleneck.
    check(flags(team(10)), "bottleneck(6/6) no_new_opportunities(176/0) team_stalling(2/2)");
    check(flags(rep(1)), "bottleneck(3/3) no_new_opportunities(176/0)");
    check(flags(rep(2)), "bottleneck(3/3) no_new_opportunities(176/0)");
    // Team 20: only rep 3 stalls (1 of 2 reps): a coaching matter for rep 3. Its six deals
    // split 3 / 3 over pos 1 and 2: 50 % > 40 % is a bottleneck too (the earlier stage named).
    check(flags(team(20)), "bottleneck(3/6) no_new_opportunities(176/0)");
    check(flags(rep(3)), "bottleneck(3/3) no_new_opportunities(176/0) rep_stalling(3/3)");
    // Rep 4's three deals sit in pos 2 (35 %): not late. With a late-stage limit of 2, moving
    // them to pos 3 (65 %) would flag them; here none.
    check(flags(rep(4)), "bottleneck(3/3) no_new_opportunities(176/0)");
    let report = overview.teams.iter().find(|report| report.subject == team(10)).unwrap();
    let stall = report.flags.iter().find(|flag| flag.code == FlagCode::TeamStalling).unwrap();
    // The stage the flag names: pos 1, "2 Problem recognition".
    assert_eq!((stall.stage, stall.value, stall.limit, stall.total), (Some(1), 2, 50, 2));
    assert_eq!(projection.stages[1].name_en, "2 Problem recognition");
    // Too many late-stage deals: move rep 4's deals to pos 3 (65 % ≥ 50 %).
    for deal in 10..=12 {
        book.stage(deal, 3, noon("2026-06-26"));
    }
    let mut projection = book.projection();
    for (user, team) in [(1, 10), (2, 10), (3, 20), (4, 20)] {
        projection.set_team(UserId(user), Some(TeamId(team)));
    }
    let overview = health(&projection, &query);
    let rep4 = overview.reps.iter().find(|report| report.subject == Subject::Rep(projection.owner_index(UserId(4)).unwrap())).unwrap();
    let codes: Vec<&str> = rep4.flags.iter().map(|flag| flag.code.as_str()).collect();
    assert_eq!(codes, ["bottleneck", "parked_in_late_stages", "no_new_opportunities", "too_many_late_stage"]);
}

#[test]
fn leaderboard_and_dashboard_agree_with_the_single_figures() {
    let projection = projection();
    let mut query = june_30();
    query.rep_quotas = vec![None; projection.n_owners()];
    for (user, quota) in [(1, 20_000_00), (2, 20_000_00), (3, 10_000_00)] {
        query.rep_quotas[projection.owner_index(UserId(user)).unwrap() as usize] = Some(quota);
    }
    let rows = leaderboard(&projection, &query);
    // C won D5 ($8,000) in Q2: 80 % of $10,000. A and B won nothing in Q2; B's open pipeline
    // (D4, $36,000) ranks above A's (D7, $5,000). A's H1: D1 won, D2 lost.
    let text: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "user {}: won {} ({}), attainment {}, pipeline {} ({} deals), win rate {}",
                row.user_id,
                dollars(row.won_amount),
                row.won_count,
                ratio(row.attainment),
                dollars(row.pipeline_amount),
                row.open_deals,
                ratio(row.win_rate())
            )
        })
        .collect();
    check(
        text.join("\n"),
        "
user 3: won 8000.00 (1), attainment 800000/1000000 = 80.00%, pipeline 19000.00 (2 deals), win rate 1/1 = 100.00%
user 2: won 0.00 (0), attainment 0/2000000 = 0.00%, pipeline 36000.00 (1 deals), win rate 0/1 = 0.00%
user 1: won 0.00 (0), attainment 0/2000000 = 0.00%, pipeline 5000.00 (1 deals), win rate 1/2 = 50.00%",
    );
    let board = dashboard(&projection, &query);
    assert_eq!(board.pipeline, pipeline_by_stage(&projection, &Scope::org(), query.as_of, None));
    assert_eq!(board.outcomes, outcomes(&projection, &Scope::org(), query.as_of, query.window));
    assert_eq!(board.coverage, Some(coverage(&projection, &Scope::org(), query.as_of, query.period, 50_000_00)));
    assert_eq!(board.velocity, velocity(&projection, &Scope::org(), query.as_of, query.window));
    let (from, to) = query.waterfall_span();
    assert_eq!(board.waterfall, waterfall(&projection, &Scope::org(), query.period, from, to));
    assert_eq!(board.health, health(&projection, &query));
    assert_eq!(board.leaderboard, rows);
    // One thread or two: the same numbers.
    let mut single = projection.clone();
    single.set_threads(1);
    assert_eq!(dashboard(&single, &query), board);
}

#[test]
fn trend_of_the_win_rate() {
    let projection = projection();
    // Trailing 365 days as of each month end: 03-31 sees D1 won, D2 lost (D3 dropped);
    // 06-30 adds D5 won and D8 lost.
    let days = days_every(day("2026-01-31"), day("2026-06-30"), 30);
    let points = trend(days, |as_of| outcomes(&projection, &Scope::org(), as_of, Period::trailing(as_of, 365)).win_rate_by_count());
    let text: Vec<String> =
        points.iter().map(|point| format!("{}: {}", pipewise_analytics::date_of_day(point.day), ratio(point.value))).collect();
    check(
        text.join("\n"),
        "
2026-01-31: undefined
2026-03-02: 0/1 = 0.00%
2026-04-01: 1/2 = 50.00%
2026-05-01: 1/2 = 50.00%
2026-05-31: 1/2 = 50.00%
2026-06-30: 2/4 = 50.00%",
    );
}

/// Days are the organisation's: a Seoul team's second quarter ends at midnight in Seoul (15:00
/// UTC), and a Los Angeles team's year at midnight there (08:00 UTC the next day).
#[test]
fn quarters_end_at_midnight_in_the_organisations_zone() {
    use pipewise_analytics::metrics::outcomes;
    use pipewise_core::fx::RateTable;
    use pipewise_core::{Currency, Zone};

    let at = |raw: &str| raw.parse::<pipewise_core::Timestamp>().unwrap();
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some(usd("10000")), Some("2026-06-30"), at("2026-05-04T01:00:00Z"));
    book.create(2, 1, 1, 1, Some(usd("20000")), Some("2026-06-30"), at("2026-05-04T01:00:00Z"));
    book.create(3, 1, 1, 1, Some(usd("40000")), Some("2026-12-31"), at("2026-11-02T18:00:00Z"));
    // 08:30 on 1 July in Seoul (23:30 on 30 June in UTC).
    book.stage(1, 5, at("2026-06-30T23:30:00Z"));
    // 23:30 on 30 June in Seoul.
    book.stage(2, 5, at("2026-06-30T14:30:00Z"));
    // 21:00 on 31 December in Los Angeles (05:00 on 1 January in UTC).
    book.stage(3, 5, at("2027-01-01T05:00:00Z"));
    let in_zone = |zone: &str| {
        let zone = Zone::parse(zone).unwrap();
        Projection::build_in(zone, Currency::USD, RateTable::new(Currency::USD), &book.pipelines, &book.log).unwrap()
    };
    let won = |projection: &Projection, first: &str, last: &str| {
        let result = outcomes(projection, &Scope::org(), day("2027-03-31"), Period::new(day(first), day(last)));
        (result.won, result.won_amount)
    };
    let seoul = in_zone("Asia/Seoul");
    assert_eq!(won(&seoul, "2026-04-01", "2026-06-30"), (1, 20_000_00), "only deal 2 is won in Seoul's Q2");
    assert_eq!(won(&seoul, "2026-07-01", "2026-09-30"), (1, 10_000_00), "deal 1 is won on 1 July in Seoul");
    let la = in_zone("America/Los_Angeles");
    assert_eq!(won(&la, "2026-10-01", "2026-12-31"), (1, 40_000_00), "deal 3 is won on 31 December in Los Angeles");
    assert_eq!(won(&la, "2027-01-01", "2027-03-31"), (0, 0));
    // In UTC the same log counts deal 1 in Q2 and deal 3 in the next year.
    let utc = book.projection();
    assert_eq!(won(&utc, "2026-04-01", "2026-06-30"), (2, 30_000_00));
    assert_eq!(won(&utc, "2027-01-01", "2027-03-31"), (1, 40_000_00));
    // "As of" a day reads to its end there: on 30 June in Seoul deal 1 is still open.
    let open_on = |projection: &Projection, date: &str| {
        let index = projection.deal_index(OpportunityId(1)).unwrap();
        projection.state_at(index, day(date)).map(|state| projection.stages[state.stage as usize].is_open())
    };
    assert_eq!(open_on(&seoul, "2026-06-30"), Some(true));
    assert_eq!(open_on(&seoul, "2026-07-01"), Some(false));
    assert_eq!(open_on(&utc, "2026-06-30"), Some(false));
}

/// Issue 16, point 4: a deal that changed owner, a deal demoted and then lost, a close date
/// cleared and set later, and a period that starts after the as-of day.
///
/// | deal | rep | story |
/// |------|-----|-------|
/// | E1 | A → B | 03-10 pos 1, $10,000, close 06-15; to B and $12,000 on 05-01 |
/// | E2 | A | 03-10 pos 2, $20,000, close 06-20; demoted to pos 0 on 04-10, lost 05-10 |
/// | E3 | B | 03-10 pos 1, $5,000, close 05-31; cleared 04-15, set to 06-30 on 04-20 |
#[test]
fn transfers_demotions_and_cleared_close_dates() {
    use pipewise_core::opportunity::OpportunityPatch;
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some(usd("10000")), Some("2026-06-15"), noon("2026-03-10"));
    book.create(2, 1, 1, 2, Some(usd("20000")), Some("2026-06-20"), noon("2026-03-10"));
    book.create(3, 2, 1, 1, Some(usd("5000")), Some("2026-05-31"), noon("2026-03-10"));
    let patch = OpportunityPatch { owner_id: Some(UserId(2)), amount: Some(Some(usd("12000"))), ..Default::default() };
    book.update(1, patch, noon("2026-05-01"));
    book.stage(2, 0, noon("2026-04-10"));
    book.stage(2, 6, noon("2026-05-10"));
    book.update(3, OpportunityPatch { close_date: Some(None), ..Default::default() }, noon("2026-04-15"));
    book.close_date(3, "2026-06-30", noon("2026-04-20"));
    let projection = book.projection();
    let q2 = Period::new(day("2026-04-01"), day("2026-06-30"));
    let (a, b) = (projection.owner_index(UserId(1)).unwrap(), projection.owner_index(UserId(2)).unwrap());
    let text = |scope: &Scope| {
        let flow = waterfall(&projection, scope, q2, day("2026-03-31"), day("2026-06-30"));
        assert!(flow.reconciles(), "{flow:?}");
        WaterfallBucket::ALL
            .iter()
            .filter(|bucket| flow.bucket(**bucket) != Default::default())
            .map(|bucket| format!("{} {} ({})", bucket.as_str(), dollars(flow.bucket(*bucket).amount), flow.bucket(*bucket).count))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Organisation: start E1 + E2 + E3 = $35,000 in 3. E1 leaves A (−10,000 out) and reaches B
    // (+10,000 in), then grows by 2,000. E2 was lost from a non-counting stage: no loss for the
    // win rate, so removed −20,000, not lost. E3 stays. End E1 + E3 = $17,000 in 2.
    check(
        text(&Scope::org()),
        "
start 35000.00 (3)
increased 2000.00 (1)
removed -20000.00 (-1)
transferred_in 10000.00 (1)
transferred_out -10000.00 (-1)
end 17000.00 (2)",
    );
    // A keeps E1's start and its transfer out; B takes the rest. Their sums are the whole's.
    check(
        text(&Scope::owners([a])),
        "
start 30000.00 (2)
removed -20000.00 (-1)
transferred_out -10000.00 (-1)",
    );
    check(
        text(&Scope::owners([b])),
        "
start 5000.00 (1)
increased 2000.00 (1)
transferred_in 10000.00 (1)
end 17000.00 (2)",
    );
    // The win rate does not count E2 either.
    let closed = outcomes(&projection, &Scope::org(), day("2026-06-30"), q2);
    assert_eq!((closed.won, closed.lost, closed.dropped), (0, 0, 1));
    // E3's close date, cleared and set later than before, was pushed once.
    let e3 = projection.deal_index(OpportunityId(3)).unwrap();
    assert_eq!(projection.state_at(e3, day("2026-04-19")).unwrap().push_count, 0);
    assert_eq!(projection.state_at(e3, day("2026-06-30")).unwrap().push_count, 1);

    // A dashboard as of 03-20 asked for Q2 is not computed backwards (from 03-31 to 03-20): its
    // waterfall is the Q2 pipeline as of 03-20, unmoved.
    let mut query = DashboardQuery::new(day("2026-03-20"));
    query.period = q2;
    assert!(query.period_after_as_of());
    let flow = dashboard(&projection, &query).waterfall;
    assert_eq!((flow.from, flow.to), (day("2026-03-20"), day("2026-03-20")));
    assert_eq!((flow.start.amount, flow.end.amount, flow.start.count), (35_000_00, 35_000_00, 3));
    assert!(flow.movements().iter().all(|(_, bucket)| *bucket == Default::default()));
}

/// Issue 16, point 5: a deal forecast as Omitted is left out of the pipeline, coverage and
/// velocity (as Salesforce and Clari do), and the pipeline says what it left out. On the
/// hand-worked book as of 06-30: D6 ($12,000, C) is marked Omitted on 06-20.
#[test]
fn omitted_deals_are_left_out_and_said_to_be() {
    use pipewise_core::opportunity::OpportunityPatch;
    use pipewise_core::pipeline::ForecastCategory;
    let mut book = book();
    let omit = OpportunityPatch { forecast_category: Some(ForecastCategory::Omitted), ..Default::default() };
    book.update(6, omit, noon("2026-06-20"));
    let projection = book.projection();
    let before = crate::golden::book().projection();
    let q2 = Period::new(day("2026-04-01"), day("2026-06-30"));
    let as_of = day("2026-06-30");
    let (was, now) = (pipeline_by_stage(&before, &Scope::org(), as_of, None), pipeline_by_stage(&projection, &Scope::org(), as_of, None));
    assert_eq!((now.count, now.amount), (was.count - 1, was.amount - 12_000_00));
    assert_eq!((was.omitted_count, now.omitted_count, now.omitted_amount), (0, 1, 12_000_00));
    let (was, now) = (coverage(&before, &Scope::org(), as_of, q2, 50_000_00), coverage(&projection, &Scope::org(), as_of, q2, 50_000_00));
    assert_eq!(now.open_closing_in_period, was.open_closing_in_period - 12_000_00);
    let window = Period::new(day("2026-01-01"), as_of);
    let (was, now) =
        (velocity(&before, &Scope::org(), as_of, window).unwrap(), velocity(&projection, &Scope::org(), as_of, window).unwrap());
    assert_eq!(now.open_deals, was.open_deals - 1);
    // The dashboard's figures agree, and as of the day before, nothing was left out.
    let board = dashboard(&projection, &june_30());
    let pipeline = pipeline_by_stage(&projection, &Scope::org(), as_of, None);
    assert_eq!((board.pipeline.omitted_count, board.pipeline.amount), (1, pipeline.amount));
    assert_eq!(pipeline_by_stage(&projection, &Scope::org(), day("2026-06-19"), None).omitted_count, 0);
}

/// The open deals of each account now (what the account list shows): a deal counts for the
/// account it has now, moved or cleared, through a compaction too; closed deals and deals
/// without an account are left out, and a list can ask for some accounts only.
#[test]
fn open_deals_by_account() {
    use pipewise_analytics::{DealGroup, ListFilter};
    use pipewise_core::AccountId;
    use pipewise_core::opportunity::OpportunityPatch;
    use pipewise_core::pipeline::StageKind;
    let mut book = book();
    let account = |id: i64| OpportunityPatch { account_id: Some(Some(AccountId(id))), ..Default::default() };
    book.update(4, account(70), noon("2026-06-20"));
    book.update(9, account(70), noon("2026-06-20"));
    book.update(7, account(80), noon("2026-06-20"));
    book.update(6, account(80), noon("2026-06-21"));
    book.update(6, account(90), noon("2026-06-22"));
    book.update(1, account(90), noon("2026-06-22"));
    book.update(9, OpportunityPatch { account_id: Some(None), ..Default::default() }, noon("2026-06-23"));
    let projection = book.projection();
    let open = projection.list_matching(&ListFilter { kind: Some(StageKind::Open), ..ListFilter::default() });
    let groups = projection.by_account(&open, None);
    let group = |amounts: &[&str]| DealGroup { count: amounts.len(), amounts: amounts.iter().map(|amount| usd(amount)).collect() };
    // Deal 9 left account 70; deal 6 moved from 80 to 90; deal 1 (won) does not count.
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert_eq!(groups[&AccountId(70)], group(&["36000"]));
    assert_eq!(groups[&AccountId(80)], group(&["5000"]));
    assert_eq!(groups[&AccountId(90)], group(&["12000"]));
    let some: std::collections::HashSet<AccountId> = [AccountId(80)].into_iter().collect();
    assert_eq!(projection.by_account(&open, Some(&some)).keys().collect::<Vec<_>>(), [&AccountId(80)]);
}

/// Deals found by what their names hold, ignoring case (Unicode's): by their name now, through
/// a rename and a compaction; a text that runs from one name into the next is in neither.
#[test]
fn deals_found_by_their_names() {
    use pipewise_core::opportunity::OpportunityPatch;
    let mut book = book();
    let rename = |name: &str| OpportunityPatch { name: Some(name.to_owned()), ..Default::default() };
    book.update(4, rename("ÉCOLE Renewal"), noon("2026-06-20"));
    book.update(7, rename("Alpha"), noon("2026-06-20"));
    book.update(7, rename("Beta renewal"), noon("2026-06-21"));
    let found = |projection: &pipewise_analytics::Projection, text: &str| {
        let names = projection.names_holding(text);
        let mut ids: Vec<i64> =
            (0..projection.n_deals()).filter(|index| names.holds(*index)).map(|index| projection.deals().id[index].0).collect();
        ids.sort_unstable();
        ids
    };
    for projection in [book.projection(), {
        let mut projection = book.projection();
        projection.compact();
        projection
    }] {
        assert_eq!(found(&projection, "RENEWAL"), [4, 7]);
        assert_eq!(found(&projection, "école"), [4], "Unicode's case");
        assert!(found(&projection, "alpha").is_empty(), "the name it had before");
        assert_eq!(found(&projection, "deal 1"), [1, 10], "Deal 1 and Deal 10");
        assert!(found(&projection, "1deal").is_empty(), "not across two names");
        assert_eq!(found(&projection, "").len(), 10, "an empty text is in every name");
    }
}

/// The bottleneck against the organisation's usual share (issue 16 point 6): 12 deals in
/// "2 Problem recognition" and 4 in "3 Evaluation" since January, a funnel always front-loaded
/// (75 % and 25 % at the end of each of the 13 weeks before 30 April). As of 30 April that is
/// no bottleneck (excess 0 points), where the seed's fixed rule (40 %) flags 12 of 16. Five
/// deals moved on to evaluation on 29 April: 9 of 16 = 56.25 % there against a usual 25 %, 31.25
/// points over (more than 15): a bottleneck with the limit 25 + 15 = 40 %. A stage never below
/// an even split of the four counting stages: 4 of 16 moved to "4 Final negotiation", usually
/// empty, is 25 %, no more than its even part (limit 25 %, not 15 %); 5 of 16 (31.25 %) is a
/// bottleneck. With under 4 weeks of history (as of 20 January), the fixed rule applies.
#[test]
fn a_bottleneck_is_a_stage_fuller_than_it_usually_is() {
    let build_moving = |moved: i64, to: usize| {
        let mut book = LogBuilder::new(pipelines());
        for deal in 1..=16 {
            let position = if deal <= 12 { 1 } else { 2 };
            book.create(deal, 1 + deal % 3, 1, position, Some(usd("1000")), Some("2026-09-30"), noon("2026-01-05"));
        }
        for deal in 1..=moved {
            book.stage(deal, to, noon("2026-04-29"));
        }
        book.projection()
    };
    let build = |moved: bool| build_moving(if moved { 5 } else { 0 }, 2);
    let bottleneck = |projection: &Projection, as_of: &str, excess: u32| {
        let mut query = DashboardQuery::new(day(as_of));
        query.thresholds.bottleneck_excess_pts = excess;
        let org = health(projection, &query).organisation;
        org.flags.iter().find(|flag| flag.code == FlagCode::Bottleneck).map(|flag| {
            let stage = &projection.stages[flag.stage.unwrap() as usize].name_en;
            format!("{stage}: {} of {}, limit {}%", flag.value, flag.total, flag.limit)
        })
    };
    let steady = build(false);
    let usual = pipewise_analytics::health::usual_stage_shares(&steady, None, day("2026-04-30"), 10);
    let evaluation = steady.stages.iter().position(|stage| stage.name_en == "3 Evaluation & selection").unwrap();
    assert_eq!((usual[evaluation - 1], usual[evaluation]), (7_500, 2_500));
    assert_eq!(bottleneck(&steady, "2026-04-30", 15), None, "always front-loaded: no bottleneck");
    assert_eq!(bottleneck(&steady, "2026-04-30", 0).as_deref(), Some("2 Problem recognition: 12 of 16, limit 40%"), "the fixed rule");
    let moved = build(true);
    assert_eq!(bottleneck(&moved, "2026-04-30", 15).as_deref(), Some("3 Evaluation & selection: 9 of 16, limit 40%"));
    assert_eq!(bottleneck(&moved, "2026-04-30", 35), None, "31.25 points over is not more than 35");
    assert_eq!(bottleneck(&build_moving(4, 3), "2026-04-30", 15), None, "4 of 16: an even part");
    assert_eq!(bottleneck(&build_moving(5, 3), "2026-04-30", 15).as_deref(), Some("4 Final negotiation: 5 of 16, limit 25%"));
    assert!(pipewise_analytics::health::usual_stage_shares(&steady, None, day("2026-01-20"), 10).is_empty(), "two weeks of history");
    assert_eq!(bottleneck(&steady, "2026-01-20", 15).as_deref(), Some("2 Problem recognition: 12 of 16, limit 40%"));
}
