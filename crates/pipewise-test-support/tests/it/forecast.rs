//! Forecast calls on both engines: kept unchanged with what the caller saw, rolled up to the
//! manager, read within visibility, refused with every bad field named, and audited.

use std::sync::Arc;

use pipewise_app as app;
use pipewise_app::forecast::CallInput;
use pipewise_app::insights::{Clock, Insights};
use pipewise_app::{AuditFilter, StoreError, WriteCtx};
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};
use pipewise_test_support::transact;

use crate::worded;

fn input(period: &str, commit: &str, best_case: &str, note: &str) -> CallInput {
    CallInput { period: period.into(), commit: commit.into(), best_case: best_case.into(), note: note.into() }
}

pub fn calls_are_kept_with_what_the_caller_saw_rolled_up_scoped_and_audited(db: &TestDb) {
    let org = test_org(db.store(), "Calls");
    let id = org.org();
    let ctx = org.ctx;
    let stage = |position: usize| org.simple.stages[position].id;
    // The rep's Q3: a deal in Closing (Commit) due in August, USD 8,000; one in Connecting (Best
    // case) due in September, USD 5,000; one won in July, USD 2,000.
    transact(db.store(), |tx| {
        let mut deal = |name: &str, position: usize, amount: &str, close: &str| -> app::Result<OpportunityId> {
            let mut new = org.new_deal(name);
            new.amount = Some(amount.parse().unwrap());
            new.close_date = Some(close.parse().unwrap());
            let deal = app::deals::create_opportunity(tx, &org.by_rep(at("2026-06-01T09:00:00Z")), &new)?;
            let patch = OpportunityPatch { stage_id: Some(stage(position)), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &org.by_rep(at("2026-07-02T09:00:00Z")), deal.id, &patch)?;
            Ok(deal.id)
        };
        deal("Commit", 3, "USD 8000", "2026-08-20")?;
        deal("Best case", 2, "USD 5000", "2026-09-10")?;
        deal("Won", 4, "USD 2000", "2026-07-02")?;
        Ok(())
    })
    .unwrap();
    let clock: Clock = Arc::new(|| at("2026-07-15T12:00:00Z"));
    let insights = Insights::load_with_clock(db.shared(), id, Arc::clone(&clock)).unwrap();
    let when = at("2026-07-15T12:00:00Z");
    let by = |user: UserId| WriteCtx { actor_id: Some(user), at: when, ..ctx };

    // The rep calls, twice: two rows, the first unchanged.
    let first = transact(db.store(), |tx| {
        app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q3", "9000", "14000", "Hanbit in August"))
    })
    .unwrap();
    assert_eq!((first.commit, first.best_case, first.note.as_str()), (900_000, 1_400_000, "Hanbit in August"));
    assert_eq!((first.closed, first.system_commit, first.system_best_case, first.pipeline), (200_000, 1_000_000, 1_500_000, 0));
    assert_eq!(first.rollup, None, "the rep has no reports");
    assert_eq!(first.model, None, "three deals are below the model's data floor");
    let second = transact(db.store(), |tx| {
        app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q3", "10000", "15000.00", "Signed early"))
    })
    .unwrap();
    assert!(second.id > first.id);

    // The manager sees the rep's latest call rolled up, and calls with an adjustment.
    let managers = transact(db.store(), |tx| {
        app::forecast::submit_call(tx, &by(org.manager.id), &insights, &input("2026-Q3", "8000", "15000", "Best case is a stretch"))
    })
    .unwrap();
    assert_eq!(managers.rollup, Some((1_000_000, 1_500_000)));

    // Read back within visibility: the manager sees all three calls; the rep their own two; a rep
    // elsewhere none of them.
    let outsider =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("out@calls.test", "Oli Out", Role::Rep, None))).unwrap();
    let seen = |user: UserId| {
        transact(db.store(), |tx| {
            let access = app::access::access_for(tx, id, Some(user))?;
            app::forecast::calls_in(tx, id, &access, "2026-Q3")
        })
        .unwrap()
    };
    let book = seen(org.manager.id);
    assert_eq!(book.calls, [first.clone(), second.clone(), managers.clone()], "kept exactly as submitted, oldest first");
    assert_eq!(book.latest(org.rep.id), Some(&second));
    assert_eq!(book.history(org.rep.id), [&second, &first]);
    assert_eq!(seen(org.rep.id).calls, [first.clone(), second.clone()]);
    assert!(seen(outsider.id).calls.is_empty());

    // Refused with every bad field named, nothing kept.
    let error = transact(db.store(), |tx| {
        app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q1", "-10", "5", &"x".repeat(2_001)))
    })
    .unwrap_err();
    let message = worded(&error);
    for field in ["period", "commit", "note"] {
        assert!(message.contains(&format!("forecast_call: {field}:")), "{field} is named: {message}");
    }
    let error = transact(db.store(), |tx| app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q3", "10", "5", "")))
        .unwrap_err();
    assert!(worded(&error).contains("forecast_call: best_case:"), "{}", worded(&error));
    let viewer =
        transact(db.store(), |tx| app::users::create_user(tx, &ctx, new_user("view@calls.test", "Vic Viewer", Role::Viewer, None)))
            .unwrap();
    let error = transact(db.store(), |tx| app::forecast::submit_call(tx, &by(viewer.id), &insights, &input("2026-Q3", "10", "15", "")))
        .unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    assert_eq!(seen(org.manager.id).calls.len(), 3);

    // Every call is audited.
    let filter = AuditFilter { record_kind: Some("forecast_call".into()), limit: 20, ..AuditFilter::default() };
    let audit = db.store().read().unwrap().audit_events(id, &filter).unwrap();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|entry| entry.action == "create"));

    // Ten calls a person and period in a day, then a refusal naming the period.
    for _ in 0..8 {
        transact(db.store(), |tx| app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q3", "10", "15", ""))).unwrap();
    }
    let error = transact(db.store(), |tx| app::forecast::submit_call(tx, &by(org.rep.id), &insights, &input("2026-Q3", "10", "15", "")))
        .unwrap_err();
    assert!(worded(&error).contains("forecast_call: period:"), "{}", worded(&error));
    // A day later it is taken again.
    let later = WriteCtx { actor_id: Some(org.rep.id), at: at("2026-07-16T12:30:00Z"), ..ctx };
    transact(db.store(), |tx| app::forecast::submit_call(tx, &later, &insights, &input("2026-Q3", "10", "15", ""))).unwrap();
}

/// The history of [`a_past_forecast_is_the_same_on_a_copy_holding_only_what_was_known_then`]:
/// a deal a day from 2 January 2026, moved to Closing 20 days later and closed 30 days after
/// that (every third lost), its amount raised on the way; everything stamped after `until` left
/// out. Returns the organisation.
fn scripted_history(db: &TestDb, until: Option<Timestamp>) -> OrgId {
    let org = test_org(db.store(), "Backtest");
    let noon = |day: i32| Timestamp::from_micros((i64::from(day) * 86_400 + 43_200) * 1_000_000);
    let start = pipewise_analytics::day("2026-01-02");
    let mut actions: Vec<(i32, usize, u8)> = Vec::new();
    for deal in 0..200usize {
        let created = start + deal as i32;
        actions.extend([(created, deal, 0), (created + 20, deal, 1), (created + 35, deal, 2), (created + 50, deal, 3)]);
    }
    actions.sort();
    let mut ids: Vec<Option<OpportunityId>> = vec![None; 200];
    for (day, deal, step) in actions {
        let at = noon(day);
        if until.is_some_and(|until| at > until) {
            continue;
        }
        let ctx = org.by_rep(at);
        transact(db.store(), |tx| {
            let stage = |position: usize| org.simple.stages[position].id;
            match step {
                0 => {
                    let mut new = org.new_deal(&format!("Deal {deal}"));
                    new.amount = Some(format!("USD {}", 5_000 + 250 * (deal % 17)).parse().unwrap());
                    new.close_date = Some(pipewise_analytics::date_of_day(day + 50));
                    ids[deal] = Some(app::deals::create_opportunity(tx, &ctx, &new)?.id);
                }
                1 => {
                    let patch = OpportunityPatch { stage_id: Some(stage(3)), ..OpportunityPatch::default() };
                    app::deals::update_opportunity(tx, &ctx, ids[deal].unwrap(), &patch)?;
                }
                2 => {
                    let patch = OpportunityPatch {
                        amount: Some(Some(format!("USD {}", 6_000 + 300 * (deal % 11)).parse().unwrap())),
                        ..OpportunityPatch::default()
                    };
                    app::deals::update_opportunity(tx, &ctx, ids[deal].unwrap(), &patch)?;
                }
                _ => {
                    let lost = deal % 3 == 0;
                    let patch = OpportunityPatch {
                        stage_id: Some(stage(if lost { 5 } else { 4 })),
                        close_reason: lost.then(|| Some("No budget".to_owned())),
                        ..OpportunityPatch::default()
                    };
                    app::deals::update_opportunity(tx, &ctx, ids[deal].unwrap(), &patch)?;
                }
            }
            Ok(())
        })
        .unwrap();
    }
    org.org()
}

/// Issue 13, point 5, on the real engines: a forecast as of 31 May is bit-identical on the full
/// database and on a copy that holds only what had been recorded by the end of that day.
pub fn a_past_forecast_is_the_same_on_a_copy_holding_only_what_was_known_then(db: &TestDb) {
    let copy = match db.engine() {
        "sqlite" => pipewise_test_support::sqlite(),
        _ => pipewise_test_support::postgres().expect("a second schema on the same server"),
    };
    let as_of = pipewise_analytics::day("2026-05-31");
    let end_of_day = at("2026-05-31T23:59:59Z");
    let full = scripted_history(db, None);
    let known = scripted_history(&copy, Some(end_of_day));
    let q2 = pipewise_analytics::Period::new(pipewise_analytics::day("2026-04-01"), pipewise_analytics::day("2026-06-30"));
    let forecast_on = |store: &TestDb, org: OrgId| {
        let clock: Clock = Arc::new(|| at("2026-08-31T12:00:00Z"));
        let insights = Insights::load_with_clock(store.shared(), org, clock).unwrap();
        insights.with(|projection| {
            let scope = pipewise_analytics::Scope::org();
            let forecast = insights.forecast_models().forecast(projection, as_of, q2, &scope, app::forecast::TRIALS, 10);
            (forecast, app::forecast::categories(projection, &scope, as_of, q2))
        })
    };
    let (on_full, categories_full) = forecast_on(db, full);
    let (on_copy, categories_copy) = forecast_on(&copy, known);
    assert_eq!(on_full.basis, app::forecast::Basis::Statistical, "{:?}", on_full.evidence);
    assert!(on_full.open_deals > 0 && on_full.won > 0);
    assert_eq!(*on_full, *on_copy, "the same forecast, bit for bit");
    assert_eq!(categories_full, categories_copy);
}

/// The model's daily forecasts are kept as made: one per scope, period and day (a second
/// instance recording the same day stores nothing), read back unchanged by day then scope, and
/// never seen by another organisation.
pub fn model_forecasts_are_kept_once_a_day_per_scope(db: &TestDb) {
    use pipewise_app::{ForecastScope, StoredModelForecast};
    use pipewise_core::fiscal::PeriodKind;
    let org = test_org(db.store(), "Model forecasts");
    let other = test_org(db.store(), "Model forecasts elsewhere");
    let date = |text: &str| text.parse::<Date>().unwrap();
    let made = |scope, as_of: &str, expected: i64, range: Option<[i64; 3]>| StoredModelForecast {
        id: 0,
        scope,
        kind: PeriodKind::Quarter,
        first: date("2026-07-01"),
        last: date("2026-09-30"),
        as_of: date(as_of),
        currency: Currency::USD,
        statistical: range.is_some(),
        expected,
        range,
        won: 1_000,
        stage_weighted: 900,
        recorded_at: at("2026-08-02T00:05:00Z"),
    };
    let manager = ForecastScope::User(org.manager.id);
    let first = [
        made(ForecastScope::Organisation, "2026-08-01", 50_000, Some([40_000, 49_000, 61_000])),
        made(ForecastScope::User(org.rep.id), "2026-08-01", 7_000, None),
        made(manager, "2026-08-01", 20_000, Some([15_000, 19_500, 26_000])),
    ];
    let mut tx = app::Tx::new(db.store().write().unwrap());
    assert_eq!(tx.insert_model_forecasts(org.org(), &first).unwrap(), 3);
    // The same day again (another instance), with other figures, and a new day.
    let again = [
        made(ForecastScope::Organisation, "2026-08-01", 1, None),
        made(ForecastScope::Organisation, "2026-08-02", 52_000, Some([41_000, 51_000, 63_000])),
    ];
    assert_eq!(tx.insert_model_forecasts(org.org(), &again).unwrap(), 1);
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let kept = tx.model_forecasts(org.org(), PeriodKind::Quarter, date("2026-07-01")).unwrap();
    let summary: Vec<_> = kept.iter().map(|forecast| (forecast.as_of.to_string(), forecast.scope, forecast.expected)).collect();
    let mut expected_first: Vec<_> = first.iter().map(|forecast| ("2026-08-01".to_owned(), forecast.scope, forecast.expected)).collect();
    expected_first.sort_by_key(|(_, scope, _)| scope.columns());
    expected_first.push(("2026-08-02".to_owned(), ForecastScope::Organisation, 52_000));
    assert_eq!(summary, expected_first);
    let organisation = kept.iter().find(|forecast| forecast.scope == ForecastScope::Organisation).unwrap();
    assert_eq!(StoredModelForecast { id: 0, ..organisation.clone() }, first[0]);
    let user = kept.iter().find(|forecast| forecast.scope == ForecastScope::User(org.rep.id)).unwrap();
    assert_eq!((user.statistical, user.range), (false, None));
    assert!(tx.model_forecasts(other.org(), PeriodKind::Quarter, date("2026-07-01")).unwrap().is_empty());
    assert!(tx.model_forecasts(org.org(), PeriodKind::Quarter, date("2026-04-01")).unwrap().is_empty());
}

/// Once a day Pipewise records the model's forecast of the running quarter as of the day
/// before, for the organisation and each owner with something to forecast: the figures are the
/// model's, a second run the same day stores nothing, the write is audited, and no person may
/// record them.
pub fn the_models_forecasts_are_recorded_once_a_day(db: &TestDb) {
    use pipewise_analytics::{Period, Scope, day};
    use pipewise_app::ForecastScope;
    use pipewise_core::fiscal::PeriodKind;
    let org = test_org(db.store(), "Recorded forecasts");
    let id = org.org();
    transact(db.store(), |tx| {
        let mut new = org.new_deal("Hanbit");
        new.amount = Some("USD 8000".parse().unwrap());
        new.close_date = Some("2026-08-20".parse().unwrap());
        app::deals::create_opportunity(tx, &org.by_rep(at("2026-06-01T09:00:00Z")), &new)?;
        Ok(())
    })
    .unwrap();
    let now = at("2026-07-15T12:00:00Z");
    let insights = Insights::load_with_clock(db.shared(), id, Arc::new(move || now)).unwrap();
    assert!(app::forecast::record_due(&insights, now).unwrap() >= 2, "the organisation and the rep");
    assert_eq!(app::forecast::record_due(&insights, now).unwrap(), 0, "once a day on this instance");
    // Another instance the same day: nothing more.
    let other = Insights::load_with_clock(db.shared(), id, Arc::new(move || now)).unwrap();
    assert_eq!(app::forecast::record_due(&other, now).unwrap(), 0);

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let kept = tx.model_forecasts(id, PeriodKind::Quarter, "2026-07-01".parse().unwrap()).unwrap();
    let quarter = Period::new(day("2026-07-01"), day("2026-09-30"));
    let expected = insights.with(|projection| {
        insights.forecast_models().forecast(projection, day("2026-07-14"), quarter, &Scope::org(), app::forecast::TRIALS, 0)
    });
    let organisation = kept.iter().find(|forecast| forecast.scope == ForecastScope::Organisation).expect("the organisation's");
    assert_eq!(organisation.as_of.to_string(), "2026-07-14", "as of the end of the day before");
    assert_eq!(
        (organisation.expected, organisation.range, organisation.stage_weighted),
        (expected.expected, expected.range, expected.stage_weighted)
    );
    assert!(kept.iter().any(|forecast| forecast.scope == ForecastScope::User(org.rep.id)), "the rep's");
    assert!(!kept.iter().any(|forecast| forecast.scope == ForecastScope::User(org.manager.id)), "nothing to say for the manager");
    let filter = AuditFilter { record_kind: Some("model_forecast".into()), limit: 5, ..AuditFilter::default() };
    let audit = db.store().read().unwrap().audit_events(id, &filter).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, None, "Pipewise's own write");
    drop(tx);

    // A person may not record them.
    let by_manager = WriteCtx { actor_id: Some(org.manager.id), at: now, ..org.ctx };
    let error = transact(db.store(), |tx| app::forecast::record_model_forecasts(tx, &by_manager, &kept)).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
}
