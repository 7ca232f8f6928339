//! Pins what a fixed seed and "today" generate, at demo size and for a small scale set: a hash
//! of the fields the generators write, of every record read back. A refactoring of the
//! generators must keep these hashes; only a deliberate change of the generated data updates
//! them. Fields are named one by one (not `Debug` of whole records), so that a field added to
//! a record type elsewhere does not move the pins.

use pipewise_app as app;
use std::fmt::Debug;

use pipewise_app::{AuditFilter, OpportunityFilter};
use pipewise_core::{Currency, OrgId, Timestamp};
use pipewise_demo::{DemoConfig, ScaleConfig, generate, generate_scale};
use pipewise_store::{ActivityFilter, Store, TaskFilter};

/// FNV-1a over one line per record: stable across Rust releases, unlike `DefaultHasher`.
struct Fingerprint {
    hash: u64,
    records: usize,
}

impl Fingerprint {
    fn add(&mut self, records: impl IntoIterator<Item = impl Debug>) {
        for record in records {
            for byte in format!("{record:?}\n").bytes() {
                self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
            self.records += 1;
        }
    }
}

/// Adds each record's `fields`, in order.
macro_rules! add_fields {
    ($print:ident, $records:expr; $($field:ident),+ $(,)?) => {
        $print.add($records.iter().map(|record| [$(format!("{:?}", record.$field)),+]))
    };
}

/// Every record of `org` that the generators write, kind by kind, as `(hash, records)`.
fn fingerprint(store: &dyn Store, org: OrgId, now: Timestamp) -> (u64, usize) {
    let mut tx = app::Tx::new(store.read().unwrap());
    let mut print = Fingerprint { hash: 0xcbf2_9ce4_8422_2325, records: 0 };
    add_fields!(print, tx.users(org).unwrap(); id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at);
    add_fields!(print, tx.teams(org).unwrap(); id, name, manager_id);
    let pipelines = tx.pipelines(org).unwrap();
    add_fields!(print, pipelines; id, name, entry_stage_id);
    for pipeline in &pipelines {
        add_fields!(print, tx.exit_criteria(org, pipeline.id).unwrap(); id, stage_id, label_en, kind);
    }
    let rates = tx.rate_table(org).unwrap().unwrap();
    for code in ["USD", "EUR", "KRW", "GBP", "JPY"] {
        let currency = Currency::from_code(code).unwrap();
        print.add((0..40).map(|week| format!("{:?}", rates.rate(currency, now.plus_seconds(-week * 7 * 86_400).date_utc()))));
    }
    add_fields!(print, tx.accounts(org).unwrap(); id, name, domains, industry, employee_count, region, owner_id, created_at);
    add_fields!(print, tx.contacts(org).unwrap(); id, name, emails, phone, title, account_id, created_at);
    let deals = tx.opportunities(org, &OpportunityFilter::default()).unwrap();
    add_fields!(print, deals; id, name, account_id, owner_id, pipeline_id, stage_id, amount, close_date, forecast_category,
        next_step, status, created_at, closed_at, close_reason);
    add_fields!(print, tx.history_since(org, 0, u32::MAX).unwrap(); seq, opportunity_id, field, old, new, at, actor_id, source);
    let activities = tx.activities(org, &ActivityFilter::default()).unwrap();
    add_fields!(print, activities; id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id,
        opportunity_id, contact_ids);
    add_fields!(print, tx.tasks(org, &TaskFilter::default()).unwrap(); id, title, owner_id, due_on, completed_at, account_id,
        opportunity_id, lead_id, created_at);
    add_fields!(print, tx.leads(org).unwrap(); id, name, company, email, phone, title, source, industry, employee_count, region, status,
        owner_id, created_at);
    let (first, last) = (pipewise_core::Date::constant(1900, 1, 1), pipewise_core::Date::constant(2200, 12, 31));
    add_fields!(print, tx.quotas_overlapping(org, first, last).unwrap(); subject, kind, first, last, amount, updated_by);
    add_fields!(print, tx.plan_versions(org).unwrap(); name, version, definition, created_by);
    add_fields!(print, tx.assignments(org).unwrap(); user, plan, first, last);
    add_fields!(print, tx.statements(org, None).unwrap(); user, kind, first, last, plan, version, total, document, status);
    let audit = tx.audit_events(org, &AuditFilter { limit: u32::MAX, ..AuditFilter::default() }).unwrap();
    add_fields!(print, audit; id, at, actor_id, source, record_kind, record_id, action);
    (print.hash, print.records)
}

fn assert_pinned(what: &str, actual: (u64, usize), pinned: (u64, usize)) {
    assert!(
        actual == pinned,
        "{what} is no longer what its seed and today generated before: (0x{:016x}, {}) instead of (0x{:016x}, {}). A refactoring \
         must not change the generated data; update the pin only when the data is meant to change.",
        actual.0,
        actual.1,
        pinned.0,
        pinned.1
    );
}

fn now() -> Timestamp {
    "2026-11-22T18:00:00Z".parse().unwrap()
}

#[test]
fn the_demo_for_a_fixed_seed_and_today_is_pinned() {
    let db = pipewise_test_support::sqlite();
    let summary = generate(&db.db(), &DemoConfig::standard(7, now()), &mut |_, _, _| {}).unwrap();
    assert_pinned("the standard demo (seed 7)", fingerprint(db.store(), summary.organisation, now()), (0x00e7_3a27_4ec6_5556, 111_732));
}

#[test]
fn the_scale_set_for_a_fixed_seed_and_today_is_pinned() {
    let db = pipewise_test_support::sqlite();
    // Enough teams for directors, and chunks that do not divide the deals.
    let mut config = ScaleConfig::new(11, now(), 90, 1_500, Some(40_000), 15_000);
    config.chunk_deals = 333;
    let summary = generate_scale(&db.db(), &config, &mut |_, _, _| {}).unwrap();
    assert_pinned("the scale set (seed 11)", fingerprint(db.store(), summary.organisation, now()), (0xdb89_3063_d120_2eb1, 83_702));
}
