//! A short story on a real server, for this engine's own confidence: migrate a fresh schema,
//! write records through `ops`, replay a deal's history, and watch the database refuse to
//! rewrite history, on the test server of `pipewise-test-support` (`PIPEWISE_TEST_PG` or a
//! throwaway cluster). The shared contract suite for both engines lives there too.

use pipewise_core::history::Source;
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::records::NewAccount;
use pipewise_core::time::parse_date;
use pipewise_core::user::{Locale, NewUser, Role};
use pipewise_core::{Currency, Money, Timestamp, templates};
use pipewise_store::{OpportunityFilter, RecordKind, Store, StoreError, WriteCtx, ops};
use pipewise_store_postgres::PgStore;

#[test]
fn a_deal_is_written_replayed_and_its_history_cannot_change() {
    let Some(url) = pipewise_test_support::postgres_server_url() else { return };
    let schema = format!("smoke_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();

    let store = PgStore::connect_with_schema(&url, &schema).unwrap();
    assert_eq!(store.migrate().unwrap(), ["0001_records", "0002_platform"]);
    assert!(store.migrate().unwrap().is_empty(), "a second run applies nothing");
    if let Some(rest) = url.strip_prefix("postgres://postgres@") {
        let with_password = PgStore::connect_with_schema(&format!("postgres://postgres:hunter2@{rest}"), &schema).unwrap();
        assert!(!format!("{with_password:?}").contains("hunter2"), "{with_password:?}");
    }

    // Microseconds that a float would lose, and a time near the end of the accepted range.
    let created_at = Timestamp::from_micros(1_794_000_000_123_457);
    let updated_at = Timestamp::from_micros(1_795_000_000_000_001);
    let far_future = Timestamp::from_micros(7_258_118_399_999_999);

    let mut tx = store.write().unwrap();
    let org = ops::create_organisation(tx.as_mut(), "Acme Sales", Currency::USD, created_at).unwrap();
    let ctx = WriteCtx { org: org.id, actor_id: None, source: Source::Cli, at: created_at };
    let rep = NewUser {
        email: "kim@example.com".into(),
        name: "Kim".into(),
        role: Role::Rep,
        manager_id: None,
        team_id: None,
        time_zone: "Asia/Seoul".into(),
        locale: Locale::Ko,
    };
    let rep = ops::create_user(tx.as_mut(), &ctx, rep).unwrap();
    let pipeline = ops::create_pipeline(tx.as_mut(), &ctx, templates::simple()).unwrap();
    let new_account = |name: &str| NewAccount {
        name: name.into(),
        domains: vec!["acme.com".into()],
        industry: None,
        employee_count: Some(120),
        region: None,
        owner_id: Some(rep.id),
    };
    let account = ops::create_account(tx.as_mut(), &ctx, new_account("Acme")).unwrap();
    assert_eq!(account.domains, ["acme.com"]);
    let taken = ops::create_account(tx.as_mut(), &ctx, new_account("Acme again")).unwrap_err();
    assert_eq!(taken.to_string(), "new account: domains: acme.com already belongs to another account");
    assert_eq!(tx.count(org.id, RecordKind::Account).unwrap(), 1, "the refused account left no row and the transaction goes on");
    let new_deal = NewOpportunity {
        name: "Acme renewal".into(),
        account_id: Some(account.id),
        owner_id: rep.id,
        pipeline_id: pipeline.id,
        stage_id: None,
        amount: Some("USD 12000".parse().unwrap()),
        close_date: Some(parse_date("2026-12-15").unwrap()),
        forecast_category: None,
        next_step: Some("Send the proposal".into()),
        close_reason: None,
    };
    let created = ops::create_opportunity(tx.as_mut(), &ctx, &new_deal).unwrap();
    tx.commit().unwrap();

    let mut tx = store.write().unwrap();
    let patch = OpportunityPatch {
        stage_id: Some(pipeline.stages[1].id),
        amount: Some(Some("USD 15000.5".parse().unwrap())),
        ..OpportunityPatch::default()
    };
    let updated = ops::update_opportunity(tx.as_mut(), &WriteCtx { at: updated_at, ..ctx }, created.id, &patch).unwrap();
    let far = tx.insert_organisation("Far future", Currency::KRW, far_future).unwrap();
    tx.commit().unwrap();

    let mut dropped = store.write().unwrap();
    dropped.insert_organisation("Rolled back", Currency::EUR, created_at).unwrap();
    drop(dropped);

    let mut tx = store.read().unwrap();
    let stored = tx.opportunity(org.id, created.id, true).unwrap().unwrap();
    assert_eq!(stored, updated);
    assert_eq!(stored.amount, Some(Money::parse_amount("15000.50", Currency::USD).unwrap()));
    assert_eq!(ops::opportunity_as_of(tx.as_mut(), org.id, created.id, created_at).unwrap(), Some(created.clone()));
    assert_eq!(ops::opportunity_as_of(tx.as_mut(), org.id, created.id, updated_at).unwrap(), Some(updated.clone()));
    assert_eq!(ops::opportunity_as_of(tx.as_mut(), org.id, created.id, Timestamp::from_micros(created_at.as_micros() - 1)).unwrap(), None);
    let history = tx.history(org.id, created.id).unwrap();
    assert_eq!(history.iter().map(|event| event.seq).collect::<Vec<_>>(), (1..=history.len() as i64).collect::<Vec<_>>());
    assert_eq!(tx.history_since(org.id, 2, 1000).unwrap(), history[2..]);
    assert_eq!(tx.history_until(org.id, created_at).unwrap().len(), history.len() - 2, "stage and amount changed later");
    assert_eq!(tx.last_history_at(org.id, created.id).unwrap(), Some(updated_at));
    assert_eq!(tx.count(org.id, RecordKind::History).unwrap(), history.len() as i64);
    assert_eq!(tx.opportunities(org.id, &OpportunityFilter { owner_id: Some(rep.id), ..Default::default() }).unwrap(), [updated]);
    assert_eq!(tx.organisation(far).unwrap().unwrap().created_at, far_future);
    assert_eq!(tx.organisations().unwrap().len(), 2, "the dropped transaction rolled back");
    assert!(matches!(tx.insert_organisation("Read only", Currency::EUR, created_at), Err(StoreError::Database(_))));
    drop(tx);

    for change in ["UPDATE opportunity_history SET field = 'name'", "DELETE FROM opportunity_history", "TRUNCATE opportunity_history"] {
        let error = admin.batch_execute(&format!("SET search_path = {schema}; {change}")).unwrap_err();
        let message = error.as_db_error().unwrap().message();
        assert_eq!(message, "opportunity_history is append-only", "{change}");
    }
    // Unreadable content is an error that names the table, never a panic.
    admin.batch_execute(&format!("SET search_path = {schema}; UPDATE opportunity SET amount = 'NaN'")).unwrap();
    let error = store.read().unwrap().opportunity(org.id, created.id, false).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { table: "opportunity", .. }), "{error}");
    drop(store);
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();

    // Two instances starting at once: one migrates, the other waits and finds nothing to do.
    let racing = format!("{schema}_race");
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {racing} CASCADE; CREATE SCHEMA {racing}")).unwrap();
    let applied: Vec<Vec<String>> = std::thread::scope(|scope| {
        let runs: Vec<_> =
            (0..2).map(|_| scope.spawn(|| PgStore::connect_with_schema(&url, &racing).unwrap().migrate().unwrap())).collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(applied.concat(), ["0001_records", "0002_platform"]);
    admin.batch_execute(&format!("DROP SCHEMA {racing} CASCADE")).unwrap();
}
