//! Invariants over random books: the projection replays exactly what `pipewise_core::history`
//! replays, the waterfall reconciles to the cent against a naive reference, and editing the
//! future never changes a figure of the past.

use pipewise_analytics::health::deal_flag_counts;
use pipewise_analytics::metrics::{conversion, outcomes, pipeline_and_outcomes_trend, pipeline_by_stage, time_in_stage, waterfall};
use pipewise_analytics::projection::{DealState, NO_AMOUNT, NO_STAGE, forecast_index};
use pipewise_analytics::{
    Dashboard, DashboardQuery, Day, NO_DAY, Period, Projection, Scope, dashboard, day, day_of_date, day_of_timestamp,
};
use pipewise_core::history::{HistoryEvent, as_of, book_as_of};
use pipewise_core::opportunity::{OppField, OpportunityPatch};
use pipewise_core::pipeline::StageKind;
use pipewise_core::{Money, OpportunityId, PipelineId, Timestamp, UserId, Zone};
use proptest::prelude::*;

use crate::support::{LogBuilder, noon_of, pipelines};

/// One random step: which deal, days since the previous step, what to change, a value.
type Op = (u8, u8, u8, u32);

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec((0u8..8, 0u8..9, 0u8..6, any::<u32>()), 1..70)
}

fn first_day() -> Day {
    day("2026-01-01")
}

fn cents(value: u32) -> Money {
    Money::new(rust_decimal::Decimal::new(i64::from(value % 5_000_000), 2), pipewise_core::Currency::USD).unwrap()
}

/// Plays `ops` into a log through the real opportunity rules (refused changes are skipped).
fn book(ops: &[Op]) -> LogBuilder {
    let mut book = LogBuilder::new(pipelines());
    let mut today = first_day();
    for &(deal, gap, kind, value) in ops {
        today += i32::from(gap);
        let at = noon_of(today);
        let id = i64::from(deal) + 1;
        let close = |offset: u32| pipewise_analytics::date_of_day(today + (offset % 200) as i32 - 40).to_string();
        let Some(current) = book.deals.get(&id).cloned() else {
            let pipeline = 1 + i64::from(value % 4 == 0);
            let open_stages = if pipeline == 1 { 5 } else { 4 };
            let amount = (value % 5 != 0).then(|| cents(value / 7));
            let close_date = (value % 6 != 0).then(|| close(value / 11));
            book.create(id, 1 + i64::from(value % 3), pipeline, (value / 13 % open_stages) as usize, amount, close_date.as_deref(), at);
            continue;
        };
        let pipeline = book.pipelines.iter().find(|pipeline| pipeline.id == current.pipeline_id).unwrap().clone();
        let patch = match kind {
            0 | 1 => {
                let stage = &pipeline.stages[value as usize % pipeline.stages.len()];
                let reason = (stage.kind == StageKind::Lost).then(|| Some("lost".to_owned()));
                OpportunityPatch { stage_id: Some(stage.id), close_reason: reason, ..Default::default() }
            }
            2 => OpportunityPatch { amount: Some((value % 7 != 0).then(|| cents(value))), ..Default::default() },
            3 => OpportunityPatch { close_date: Some((value % 9 != 0).then(|| close(value).parse().unwrap())), ..Default::default() },
            4 => OpportunityPatch { owner_id: Some(UserId(1 + i64::from(value % 3))), ..Default::default() },
            _ => {
                let other = if current.pipeline_id == PipelineId(1) { PipelineId(2) } else { PipelineId(1) };
                let reason = (current.status != pipewise_core::opportunity::Status::Open).then_some(None);
                OpportunityPatch { pipeline_id: Some(other), close_reason: reason, ..Default::default() }
            }
        };
        book.try_update(id, patch, at);
    }
    book
}

fn end_of_day(day: Day) -> Timestamp {
    pipewise_analytics::end_of_day(day, &Zone::utc())
}

/// The reference: `history::as_of` for the fields, a plain scan for the derived ones.
fn expected_state(projection: &Projection, events: &[&HistoryEvent], day: Day) -> Option<DealState> {
    let owned: Vec<HistoryEvent> = events.iter().map(|event| (*event).clone()).collect();
    let deal = as_of(&owned, end_of_day(day)).unwrap()?;
    let mut stage_entered_day = day_of_timestamp(deal.created_at, &Zone::utc());
    let mut stage_before = NO_STAGE;
    let mut push_count = 0;
    // A push is a close date later than the last one the deal had, even if cleared between.
    let mut last_close: Option<String> = None;
    for event in owned.iter().filter(|event| event.at <= end_of_day(day)) {
        if event.at == deal.created_at {
            if event.field == OppField::CloseDate && event.new.is_some() {
                last_close = event.new.clone();
            }
            continue;
        }
        match event.field {
            OppField::Stage => {
                stage_entered_day = day_of_timestamp(event.at, &Zone::utc());
                let old = event.old.as_deref().unwrap().parse().unwrap();
                stage_before = projection.stage_index(pipewise_core::StageId(old)).unwrap();
            }
            OppField::CloseDate => {
                if let (Some(last), Some(new)) = (&last_close, &event.new)
                    && new > last
                {
                    push_count += 1;
                }
                if event.new.is_some() {
                    last_close = event.new.clone();
                }
            }
            _ => {}
        }
    }
    Some(DealState {
        owner: projection.owner_index(deal.owner_id).unwrap(),
        stage: projection.stage_index(deal.stage_id).unwrap(),
        forecast: forecast_index(deal.forecast_category),
        amount: deal.amount.map_or(NO_AMOUNT, |money| money.amount().mantissa() as i64),
        close_day: deal.close_date.map_or(NO_DAY, day_of_date),
        created_day: day_of_timestamp(deal.created_at, &Zone::utc()),
        closed_day: deal.closed_at.map_or(NO_DAY, |at| day_of_timestamp(at, &Zone::utc())),
        stage_entered_day,
        stage_before,
        push_count,
    })
}

/// The naive pipeline of `period` as of `day`: rebuild every deal, sum the open counting ones.
fn naive_pipeline(book: &LogBuilder, period: Period, day: Day) -> (i64, i128) {
    let deals = book_as_of(&book.log, end_of_day(day)).unwrap();
    let mut result = (0, 0);
    for deal in deals.values() {
        let pipeline = book.pipelines.iter().find(|pipeline| pipeline.id == deal.pipeline_id).unwrap();
        let stage = pipeline.stage(deal.stage_id).unwrap();
        let close_in_period = deal.close_date.is_some_and(|date| period.contains(day_of_date(date)));
        if stage.kind == StageKind::Open && stage.counts_in_metrics && close_in_period {
            result.0 += 1;
            result.1 += deal.amount.map_or(0, |money| money.amount().mantissa());
        }
    }
    result
}

/// Every figure as of `day`, for comparing two projections.
fn figures(projection: &Projection, day: Day) -> (Dashboard, Vec<String>) {
    let mut query = DashboardQuery::new(day);
    query.quota = Some(100_000_00);
    let board = dashboard(projection, &query);
    let window = Period::trailing(day, 120);
    let extra = vec![
        format!("{:?}", conversion(projection, &Scope::org(), 0, day, window)),
        format!("{:?}", conversion(projection, &Scope::org(), 1, day, window)),
        format!("{:?}", time_in_stage(projection, &Scope::org(), day, window)),
        format!("{:?}", waterfall(projection, &Scope::org(), Period::quarter_of(day), day - 45, day)),
    ];
    (board, extra)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The deals open on a day, found among the candidates of that day, are those a scan of
    /// every deal finds open then.
    #[test]
    fn the_deals_open_on_a_day_are_every_deal_open_then(ops in ops(), probes in proptest::collection::vec(0i32..400, 1..8)) {
        let book = book(&ops);
        let projection = book.projection();
        for offset in probes {
            let day = first_day() - 5 + offset;
            let mut found = projection.open_on(day);
            found.sort();
            let mut expected: Vec<OpportunityId> = (0..projection.n_deals() as u32)
                .filter(|deal| projection.state_at(*deal, day).is_some_and(|state| projection.stages[usize::from(state.stage)].is_open()))
                .map(|deal| projection.deals().id[deal as usize])
                .collect();
            expected.sort();
            prop_assert_eq!(found, expected, "open on {}", day);
        }
    }

    /// A projection written as a snapshot part way through the log, read back and then
    /// following the rest of the log is the projection that followed it all, part for part.
    #[test]
    fn a_snapshot_followed_to_the_end_is_the_projection_followed_all_along(ops in ops(), cut in 0usize..200) {
        let book = book(&ops);
        let cut = cut.min(book.log.len());
        let rates = pipewise_core::fx::RateTable::new(pipewise_core::Currency::USD);
        let mut followed = Projection::build(pipewise_core::Currency::USD, rates.clone(), &book.pipelines, &book.log[..cut]).unwrap();
        let mut restored = Projection::from_snapshot(&followed.to_snapshot(), rates).unwrap();
        for event in &book.log[cut..] {
            followed.apply(event).unwrap();
            restored.apply(event).unwrap();
        }
        prop_assert_eq!(restored.last_seq(), followed.last_seq());
        prop_assert!(restored.to_snapshot() == followed.to_snapshot(), "the two differ after the cut at {}", cut);
        followed.compact();
        restored.compact();
        prop_assert!(restored.to_snapshot() == followed.to_snapshot(), "the two differ once compacted");
    }

    #[test]
    fn state_at_equals_the_replay_of_history(ops in ops(), probes in proptest::collection::vec(0i32..400, 1..12)) {
        let book = book(&ops);
        let projection = book.projection();
        for &id in book.deals.keys() {
            let events: Vec<&HistoryEvent> = book.log.iter().filter(|event| event.opportunity_id == OpportunityId(id)).collect();
            let deal = projection.deal_index(OpportunityId(id)).unwrap();
            for &offset in &probes {
                let day = first_day() - 5 + offset;
                prop_assert_eq!(projection.state_at(deal, day), expected_state(&projection, &events, day), "deal {} as of {}", id, day);
            }
        }
    }

    #[test]
    fn the_waterfall_reconciles_to_the_cent(ops in ops(), a in 0i32..400, b in 0i32..400, owners in 0u32..8) {
        let book = book(&ops);
        let projection = book.projection();
        let (from, to) = (first_day() + a.min(b) - 5, first_day() + a.max(b) - 5);
        let period = Period::quarter_of(to);
        let flow = waterfall(&projection, &Scope::org(), period, from, to);
        prop_assert!(flow.reconciles(), "{:?}", flow);
        prop_assert_eq!((flow.start.count, flow.start.amount), naive_pipeline(&book, period, from));
        prop_assert_eq!((flow.end.count, flow.end.amount), naive_pipeline(&book, period, to));
        // Any scope reconciles too, including deals moving between reps and pipelines.
        let scope = Scope::owners((0..3).filter(|owner| owners >> owner & 1 == 1)).in_pipeline((owners % 2) as u16);
        prop_assert!(waterfall(&projection, &scope, period, from, to).reconciles());
    }

    #[test]
    fn the_reps_waterfalls_add_up_to_the_whole_bucket_by_bucket(ops in ops(), a in 0i32..400, b in 0i32..400, pipeline in 0u16..3) {
        // Deals change owner (and pipeline) along the way; each move is attributed to one owner.
        let book = book(&ops);
        let projection = book.projection();
        let (from, to) = (first_day() + a.min(b) - 5, first_day() + a.max(b) - 5);
        let period = Period::quarter_of(to);
        let narrow = |scope: Scope| if pipeline < 2 { scope.in_pipeline(pipeline) } else { scope };
        let whole = waterfall(&projection, &narrow(Scope::org()), period, from, to);
        for bucket in pipewise_analytics::WaterfallBucket::ALL {
            let (mut count, mut amount) = (0, 0);
            for owner in 0..projection.n_owners() as u32 {
                let part = waterfall(&projection, &narrow(Scope::owners([owner])), period, from, to).bucket(bucket);
                count += part.count;
                amount += part.amount;
            }
            prop_assert_eq!((count, amount), (whole.bucket(bucket).count, whole.bucket(bucket).amount), "{}", bucket.as_str());
        }
    }

    #[test]
    fn editing_the_future_does_not_change_the_past(ops in ops(), cut in 0i32..300) {
        let book = book(&ops);
        let t = first_day() + cut;
        let known: Vec<HistoryEvent> = book.log.iter().filter(|event| event.at <= end_of_day(t)).cloned().collect();
        let later = &book.log[known.len()..];
        prop_assert!(later.iter().all(|event| event.at > end_of_day(t)));
        let past = Projection::build(pipewise_core::Currency::USD, pipewise_core::fx::RateTable::new(pipewise_core::Currency::USD), &book.pipelines, &known).unwrap();
        let mut followed = past.clone();
        for event in later {
            followed.apply(event).unwrap();
        }
        let full = book.projection();
        let then = figures(&past, t);
        prop_assert_eq!(&figures(&followed, t), &then);
        prop_assert_eq!(&figures(&full, t), &then);
        // And today's figures do not depend on how the log was read (followed or rebuilt).
        let today = first_day() + 400;
        prop_assert_eq!(figures(&followed, today), figures(&full, today));
    }

    #[test]
    fn skipping_deals_that_cannot_matter_changes_no_figure(ops in ops(), cut in 0i32..300, probes in proptest::collection::vec(0i32..420, 1..6)) {
        // Compacted part-way (as a loaded projection is), then followed: the deals closed long
        // before a figure's horizon are skipped, those changed or added since are not.
        let book = book(&ops);
        let t = first_day() + cut;
        let known: Vec<HistoryEvent> = book.log.iter().filter(|event| event.at <= end_of_day(t)).cloned().collect();
        let mut followed = Projection::build(pipewise_core::Currency::USD, pipewise_core::fx::RateTable::new(pipewise_core::Currency::USD), &book.pipelines, &known).unwrap();
        for event in &book.log[known.len()..] {
            followed.apply(event).unwrap();
        }
        let mut full = followed.clone();
        full.set_full_scan(true);
        for &offset in &probes {
            let day = first_day() - 5 + offset;
            let (board, extra) = figures(&followed, day);
            prop_assert_eq!(&(board.clone(), extra), &figures(&full, day), "as of {}", day);
            // The health counts alone (open deals only) equal the full report's.
            let counts = deal_flag_counts(&followed, &DashboardQuery::new(day));
            let org = &board.health.organisation;
            prop_assert_eq!((counts.open_deals, counts.flagged_deals, counts.deal_counts), (org.open_deals, org.flagged_deals, org.deal_counts));
        }
    }

    #[test]
    fn a_trend_in_one_pass_equals_each_day_alone(ops in ops(), cut in 0i32..300, days in proptest::collection::vec(0i32..420, 1..8)) {
        let book = book(&ops);
        let t = first_day() + cut;
        let known: Vec<HistoryEvent> = book.log.iter().filter(|event| event.at <= end_of_day(t)).cloned().collect();
        let mut projection = Projection::build(pipewise_core::Currency::USD, pipewise_core::fx::RateTable::new(pipewise_core::Currency::USD), &book.pipelines, &known).unwrap();
        for event in &book.log[known.len()..] {
            projection.apply(event).unwrap();
        }
        let mut days: Vec<Day> = days.iter().map(|offset| first_day() - 5 + offset).collect();
        days.sort_unstable();
        days.dedup();
        for scope in [Scope::org(), Scope::owners([0, 2]).in_pipeline(1)] {
            let points = pipeline_and_outcomes_trend(&projection, &scope, &days, 90);
            prop_assert_eq!(points.iter().map(|point| point.day).collect::<Vec<_>>(), days.clone());
            for point in &points {
                prop_assert_eq!(&point.value.0, &pipeline_by_stage(&projection, &scope, point.day, None), "pipeline as of {}", point.day);
                prop_assert_eq!(point.value.1, outcomes(&projection, &scope, point.day, Period::trailing(point.day, 90)), "outcomes as of {}", point.day);
            }
        }
    }

    #[test]
    fn a_conversion_depends_on_the_stored_data_not_on_when_it_was_applied(
        ops in ops(),
        lag in 0i32..3,
        withheld in 0i32..400,
        compact_at in 0usize..70,
    ) {
        // Amounts in USD, EUR and KRW; the follower applies each event before that day's
        // fixing is published (and KRW's rates not at all until `withheld`), compacting once
        // on the way; then the whole table arrives. It must agree with a rebuild to the cent.
        let book = book(&ops);
        let log = in_currencies(&book.log);
        let full = rate_table(Day::MAX, Day::MAX);
        let mut followed = pipewise_analytics::Projection::new(pipewise_core::Currency::USD, rate_table(first_day() - 30, first_day() - 30));
        for pipeline in &book.pipelines {
            followed.add_pipeline(pipeline);
        }
        for (index, event) in log.iter().enumerate() {
            let today = day_of_timestamp(event.at, &Zone::utc());
            followed.set_rates(rate_table(today - lag, first_day() + withheld));
            let _ = followed.apply(event); // An amount with no rate yet is applied and reported.
            if index == compact_at {
                followed.compact();
            }
        }
        followed.set_rates(full.clone());
        let rebuilt = Projection::build(pipewise_core::Currency::USD, full, &book.pipelines, &log).unwrap();
        for offset in [0, 30, 90, 200, 400] {
            let day = first_day() + offset;
            prop_assert_eq!(figures(&followed, day), figures(&rebuilt, day), "as of {}", day);
        }
    }
}

/// The log with each amount in USD, EUR or KRW (chosen by the amount, so a change's old and new
/// values agree), KRW amounts in whole won.
fn in_currencies(log: &[HistoryEvent]) -> Vec<HistoryEvent> {
    let relabel = |value: &Option<String>| {
        value.as_deref().map(|raw| {
            let money: Money = raw.parse().unwrap();
            let minor = money.amount().mantissa();
            match minor % 3 {
                0 => money.to_string(),
                1 => format!("EUR {}", money.amount()),
                _ => format!("KRW {minor}"),
            }
        })
    };
    log.iter()
        .map(|event| {
            let mut event = event.clone();
            if event.field == OppField::Amount {
                event.old = relabel(&event.old);
                event.new = relabel(&event.new);
            }
            event
        })
        .collect()
}

/// ECB-style rates (EUR base) for USD and KRW on four weekdays of five from 30 days before the
/// first day on: those published before `until`, KRW's only before `krw_until` too.
fn rate_table(until: Day, krw_until: Day) -> pipewise_core::fx::RateTable {
    let mut table = pipewise_core::fx::RateTable::new(pipewise_core::Currency::EUR);
    for offset in 0..700 {
        let day = first_day() - 30 + offset;
        if day >= until || offset % 5 == 4 {
            continue;
        }
        let date = pipewise_analytics::date_of_day(day);
        table.insert(pipewise_core::Currency::USD, date, rust_decimal::Decimal::new(10_800 + i64::from(offset % 97) * 7, 4));
        if day < krw_until {
            table.insert(pipewise_core::Currency::KRW, date, rust_decimal::Decimal::new(1_450_00 + i64::from(offset % 89) * 31, 2));
        }
    }
    table
}
