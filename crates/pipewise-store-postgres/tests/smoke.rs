//! A short story on a real server, for this engine's own confidence: migrate a fresh schema,
//! write records through `ops`, replay a deal's history, and watch the database refuse to
//! rewrite history, on the test server of `pipewise-test-support` (`PIPEWISE_TEST_PG` or a
//! throwaway cluster), and then the sign-in, sharing and audit records of `0002_platform`.
//! The shared contract suite for both engines lives there too.

use pipewise_app as app;
use pipewise_app::{ApiToken, AuditEntry, AuditFilter, OpportunityFilter, RecordKind, Session, StoreError, WriteCtx};
use pipewise_core::OpportunityId;
use pipewise_core::UserId;
use pipewise_core::access::DealScope;
use pipewise_core::history::Source;
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::records::NewAccount;
use pipewise_core::time::parse_date;
use pipewise_core::user::{Locale, NewUser, Role};
use pipewise_core::{Currency, Money, Timestamp, templates};
use pipewise_store::Store;
use pipewise_store_postgres::PgStore;

/// What `migrate` applies to an empty schema, in order.
const EVERY_MIGRATION: [&str; 29] = [
    "0001_records",
    "0002_platform",
    "0003_gates",
    "0004_handoffs",
    "0005_activity_latest",
    "0006_health_settings",
    "0007_activity_facts",
    "0008_organisation_time_zone",
    "0009_quotas",
    "0010_pay",
    "0011_deal_splits",
    "0012_dispute_line",
    "0013_forecast_calls",
    "0014_model_forecasts",
    "0015_import_keys",
    "0016_sentiment",
    "0017_mailbox",
    "0018_quarantine",
    "0019_webhooks",
    "0020_mailbox_security",
    "0021_digests",
    "0022_lead_routing",
    "0023_lead_forms",
    "0024_lead_attempts",
    "0025_lead_qualification",
    "0026_name_keys",
    "0027_deal_billing",
    "0028_team_membership",
    "0029_stage_settings",
];

/// The test server's URL, a connection to it that creates and drops schemas, and the empty
/// schema `{prefix}_{process id}`; `None` without a server.
fn server_with_schema(prefix: &str) -> Option<(String, postgres::Client, String)> {
    let url = pipewise_test_support::postgres_server_url()?;
    let schema = format!("{prefix}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    empty_schema(&mut admin, &schema);
    Some((url, admin, schema))
}

/// Creates `schema` afresh, dropping whatever it held.
fn empty_schema(admin: &mut postgres::Client, schema: &str) {
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
}

#[test]
fn a_deal_is_written_replayed_and_its_history_cannot_change() {
    let Some((url, mut admin, schema)) = server_with_schema("smoke") else { return };

    let store = PgStore::connect_with_schema(&url, &schema).unwrap();
    assert_eq!(store.migrate().unwrap(), EVERY_MIGRATION);
    assert!(store.migrate().unwrap().is_empty(), "a second run applies nothing");
    if let Some(rest) = url.strip_prefix("postgres://postgres@") {
        let with_password = PgStore::connect_with_schema(&format!("postgres://postgres:hunter2@{rest}"), &schema).unwrap();
        assert!(!format!("{with_password:?}").contains("hunter2"), "{with_password:?}");
    }

    // Microseconds that a float would lose, and a time near the end of the accepted range.
    let created_at = Timestamp::from_micros(1_794_000_000_123_457);
    let updated_at = Timestamp::from_micros(1_795_000_000_000_001);
    let far_future = Timestamp::from_micros(7_258_118_399_999_999);

    let mut tx = app::Tx::new(store.write().unwrap());
    let org = app::users::create_organisation(&mut tx, "Acme Sales", Currency::USD, created_at).unwrap();
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
    let rep = app::users::create_user(&mut tx, &ctx, rep).unwrap();
    let pipeline = app::records::create_pipeline(&mut tx, &ctx, templates::simple()).unwrap();
    let new_account = |name: &str| NewAccount {
        name: name.into(),
        domains: vec!["acme.com".into()],
        industry: None,
        employee_count: Some(120),
        region: None,
        owner_id: Some(rep.id),
    };
    let account = app::records::create_account(&mut tx, &ctx, new_account("Acme")).unwrap();
    assert_eq!(account.domains, ["acme.com"]);
    let taken = app::records::create_account(&mut tx, &ctx, new_account("Acme again")).unwrap_err();
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
    let created = app::deals::create_opportunity(&mut tx, &ctx, &new_deal).unwrap();
    tx.commit().unwrap();

    let mut tx = app::Tx::new(store.write().unwrap());
    let patch = OpportunityPatch {
        stage_id: Some(pipeline.stages[1].id),
        amount: Some(Some("USD 15000.5".parse().unwrap())),
        ..OpportunityPatch::default()
    };
    let updated = app::deals::update_opportunity(&mut tx, &WriteCtx { at: updated_at, ..ctx }, created.id, &patch).unwrap();
    let far = tx.insert_organisation("Far future", Currency::KRW, far_future).unwrap();
    tx.commit().unwrap();

    let mut dropped = app::Tx::new(store.write().unwrap());
    dropped.insert_organisation("Rolled back", Currency::EUR, created_at).unwrap();
    drop(dropped);

    let mut tx = app::Tx::new(store.read().unwrap());
    let stored = tx.opportunity(org.id, created.id, true).unwrap().unwrap();
    assert_eq!(stored, updated);
    assert_eq!(stored.amount, Some(Money::parse_amount("15000.50", Currency::USD).unwrap()));
    assert_eq!(app::deals::opportunity_as_of(&mut tx, org.id, created.id, created_at).unwrap(), Some(created.clone()));
    assert_eq!(app::deals::opportunity_as_of(&mut tx, org.id, created.id, updated_at).unwrap(), Some(updated.clone()));
    assert_eq!(
        app::deals::opportunity_as_of(&mut tx, org.id, created.id, Timestamp::from_micros(created_at.as_micros() - 1)).unwrap(),
        None
    );
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
    empty_schema(&mut admin, &racing);
    let applied: Vec<Vec<String>> = std::thread::scope(|scope| {
        let runs: Vec<_> =
            (0..2).map(|_| scope.spawn(|| PgStore::connect_with_schema(&url, &racing).unwrap().migrate().unwrap())).collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(applied.concat(), EVERY_MIGRATION);
    admin.batch_execute(&format!("DROP SCHEMA {racing} CASCADE")).unwrap();
}

/// Sign-in records, sharing and the audit log on a real server: what each new primitive
/// writes reads back exactly, the scope filter sees owned and shared deals, and the database
/// refuses to rewrite the audit log.
#[test]
fn sessions_tokens_shares_and_the_audit_log() {
    let Some((url, mut admin, schema)) = server_with_schema("smoke_platform") else { return };
    let store = PgStore::connect_with_schema(&url, &schema).unwrap();
    store.migrate().unwrap();

    let org = pipewise_test_support::fixtures::test_org(&store, "Platform Smoke");
    let other = pipewise_test_support::fixtures::test_org(&store, "Platform Other");
    let at = pipewise_test_support::fixtures::at;
    let t0 = at("2026-03-01T09:00:00.000001Z");
    let t1 = at("2026-03-01T09:05:00Z");
    let t2 = at("2026-03-01T10:00:00Z");

    let mut tx = app::Tx::new(store.write().unwrap());
    // Users by e-mail, across organisations, ignoring case and surrounding blanks.
    let found = tx.users_by_email_everywhere("  REP@platformsmoke.TEST ").unwrap();
    assert_eq!(found, [(org.org(), org.rep.clone())]);
    assert!(tx.users_by_email_everywhere("nobody@platformsmoke.test").unwrap().is_empty());
    assert_eq!(tx.password_hash(org.org(), org.rep.id).unwrap(), None);
    tx.set_password_hash(org.org(), org.rep.id, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
    assert_eq!(tx.password_hash(org.org(), org.rep.id).unwrap().as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
    assert_eq!(tx.password_hash(other.org(), org.rep.id).unwrap(), None, "another organisation's user");

    // Sessions: round trip, touch, and ending all but the current one.
    let session = |hash: &str| Session {
        token_hash: hash.into(),
        org: org.org(),
        user_id: org.rep.id,
        csrf_token: format!("csrf-{hash}"),
        created_at: t0,
        last_seen_at: t0,
        expires_at: t2,
        client_address: Some("203.0.113.7".into()),
    };
    for hash in ["aaa", "bbb", "ccc"] {
        tx.insert_session(&session(hash)).unwrap();
    }
    assert_eq!(tx.session("aaa").unwrap(), Some(session("aaa")));
    assert_eq!(tx.session("zzz").unwrap(), None);
    tx.touch_session("aaa", t1, t2).unwrap();
    assert_eq!(tx.session("aaa").unwrap().unwrap().last_seen_at, t1);
    tx.delete_user_sessions(org.org(), org.rep.id, Some("aaa")).unwrap();
    assert!(tx.session("aaa").unwrap().is_some() && tx.session("bbb").unwrap().is_none() && tx.session("ccc").unwrap().is_none());
    tx.delete_session("aaa").unwrap();
    tx.insert_session(&session("ddd")).unwrap();
    tx.delete_user_sessions(org.org(), org.rep.id, None).unwrap();
    assert_eq!(tx.session("ddd").unwrap(), None);

    // API tokens: listed in id order, touched, revoked once.
    let token = |name: &str, hash: &str| ApiToken {
        id: 0,
        org: org.org(),
        user_id: org.rep.id,
        name: name.into(),
        token_hash: hash.into(),
        prefix: "pw_abc".into(),
        created_at: t0,
        last_used_at: None,
        revoked_at: None,
    };
    let first = tx.insert_api_token(&token("laptop", "h1")).unwrap();
    let second = tx.insert_api_token(&token("ci", "h2")).unwrap();
    tx.touch_api_token(first, t1).unwrap();
    assert_eq!(tx.api_token("h1").unwrap(), Some(ApiToken { id: first, last_used_at: Some(t1), ..token("laptop", "h1") }));
    assert!(!tx.revoke_api_token(other.org(), org.rep.id, second, t2).unwrap(), "another organisation");
    assert!(!tx.revoke_api_token(org.org(), org.manager.id, second, t2).unwrap(), "another user's token");
    assert!(tx.revoke_api_token(org.org(), org.rep.id, second, t2).unwrap());
    assert!(!tx.revoke_api_token(org.org(), org.rep.id, second, t2).unwrap(), "already revoked");
    let tokens = tx.api_tokens(org.org(), org.rep.id).unwrap();
    assert_eq!(tokens.iter().map(|token| (token.id, token.revoked_at)).collect::<Vec<_>>(), [(first, None), (second, Some(t2))]);
    let duplicate = tx.insert_api_token(&token("again", "h1")).unwrap_err();
    assert_eq!(duplicate.to_string(), "new API token: token_hash: is already in use");
    drop(tx);

    let mut tx = app::Tx::new(store.write().unwrap());
    // Failed sign-ins since a time, by e-mail (ignoring case) and by client address.
    tx.record_login_attempt("Rep@PlatformSmoke.test", "203.0.113.7", t0, false).unwrap();
    tx.record_login_attempt("rep@platformsmoke.test", "198.51.100.1", t1, false).unwrap();
    tx.record_login_attempt("other@platformsmoke.test", "203.0.113.7", t1, false).unwrap();
    tx.record_login_attempt("rep@platformsmoke.test", "203.0.113.7", t1, true).unwrap();
    assert_eq!(tx.failed_logins_since("REP@platformsmoke.test", "203.0.113.7", t0).unwrap(), (2, 2));
    assert_eq!(tx.failed_logins_since("rep@platformsmoke.test", "203.0.113.7", t1).unwrap(), (1, 1));
    assert_eq!(tx.failed_logins_since("rep@platformsmoke.test", "203.0.113.7", t2).unwrap(), (0, 0));

    // Sharing and the deal scope: a rep sees their own deals and those shared with them.
    let ctx = org.ctx;
    let colleague = app::users::create_user(
        &mut tx,
        &ctx,
        pipewise_test_support::fixtures::new_user("colleague@platformsmoke.test", "Cleo", Role::Rep, Some(org.manager.id)),
    )
    .unwrap();
    let own = app::deals::create_opportunity(&mut tx, &ctx, &org.new_deal("Own deal")).unwrap();
    let theirs =
        app::deals::create_opportunity(&mut tx, &ctx, &NewOpportunity { owner_id: colleague.id, ..org.new_deal("Their deal") }).unwrap();
    let scoped = |owners: Vec<UserId>| OpportunityFilter {
        scope: Some(DealScope::Owners { owners: owners.into_iter().collect(), shared_with: org.rep.id }),
        ..OpportunityFilter::default()
    };
    let ids = |deals: Vec<pipewise_core::opportunity::Opportunity>| deals.into_iter().map(|deal| deal.id).collect::<Vec<_>>();
    assert_eq!(ids(tx.opportunities(org.org(), &scoped(vec![org.rep.id])).unwrap()), [own.id]);
    assert_eq!(ids(tx.opportunities(org.org(), &scoped(vec![])).unwrap()), Vec::<OpportunityId>::new());
    assert!(!tx.is_opportunity_shared_with(org.org(), theirs.id, org.rep.id).unwrap());
    tx.share_opportunity(org.org(), theirs.id, org.rep.id, Some(org.manager.id), t1).unwrap();
    tx.share_opportunity(org.org(), theirs.id, org.rep.id, None, t2).unwrap();
    assert!(tx.is_opportunity_shared_with(org.org(), theirs.id, org.rep.id).unwrap());
    assert!(!tx.is_opportunity_shared_with(other.org(), theirs.id, org.rep.id).unwrap());
    assert_eq!(ids(tx.opportunities(org.org(), &scoped(vec![org.rep.id])).unwrap()), [own.id, theirs.id]);
    assert_eq!(ids(tx.opportunities(org.org(), &scoped(vec![])).unwrap()), [theirs.id]);
    let filtered = OpportunityFilter { owner_id: Some(colleague.id), ..scoped(vec![org.rep.id]) };
    assert_eq!(ids(tx.opportunities(org.org(), &filtered).unwrap()), [theirs.id], "the other filters still hold");
    let all = OpportunityFilter { scope: Some(DealScope::All), ..OpportunityFilter::default() };
    assert_eq!(ids(tx.opportunities(org.org(), &all).unwrap()), [own.id, theirs.id]);
    tx.commit().unwrap();

    // The audit log: newest first, filtered, limited, paged backwards.
    let mut tx = app::Tx::new(store.write().unwrap());
    let before = tx.count(org.org(), RecordKind::AuditEvent).unwrap();
    assert!(before > 0, "ops audits every write");
    let entry = |record_id: i64, action: &'static str| AuditEntry {
        at: t2,
        actor_id: Some(org.rep.id),
        source: Source::Api,
        record_kind: "session",
        record_id,
        action,
        before: None,
        after: Some(r#"{"b": 1,  "a": [2]}"#.into()),
    };
    for (record_id, action) in [(1, "sign_in"), (2, "sign_in"), (1, "sign_out")] {
        tx.append_audit(org.org(), &entry(record_id, action)).unwrap();
    }
    assert_eq!(tx.count(org.org(), RecordKind::AuditEvent).unwrap(), before + 3);
    let sessions = AuditFilter { record_kind: Some("session".into()), limit: 10, ..AuditFilter::default() };
    let events = tx.audit_events(org.org(), &sessions).unwrap();
    assert_eq!(
        events.iter().map(|event| (event.record_id, event.action.as_str())).collect::<Vec<_>>(),
        [(1, "sign_out"), (2, "sign_in"), (1, "sign_in")]
    );
    assert_eq!(events[0].after.as_deref(), Some(r#"{"b": 1,  "a": [2]}"#), "the JSON reads back byte for byte");
    assert_eq!((events[0].at, events[0].actor_id, events[0].source), (t2, Some(org.rep.id), Source::Api));
    let one_record = AuditFilter { record_id: Some(1), ..sessions.clone() };
    assert_eq!(tx.audit_events(org.org(), &one_record).unwrap().len(), 2);
    let page = AuditFilter { before_id: Some(events[0].id), limit: 1, ..sessions.clone() };
    assert_eq!(tx.audit_events(org.org(), &page).unwrap(), events[1..2]);
    let by_manager = AuditFilter { actor_id: Some(org.manager.id), ..sessions.clone() };
    assert!(tx.audit_events(org.org(), &by_manager).unwrap().is_empty());
    assert!(tx.audit_events(other.org(), &sessions).unwrap().is_empty(), "organisations do not see each other");
    tx.commit().unwrap();

    for change in ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event"] {
        let error = admin.batch_execute(&format!("SET search_path = {schema}; {change}")).unwrap_err();
        assert_eq!(error.as_db_error().unwrap().message(), "audit_event is append-only", "{change}");
    }
    // Unreadable content is an error that names the table, never a panic.
    admin
        .batch_execute(&format!(
            "SET search_path = {schema}; INSERT INTO audit_event (organisation_id, at, source, record_kind, record_id, action) \
             VALUES ({}, now(), 'carrier pigeon', 'session', 9, 'sign_in')",
            org.org().0
        ))
        .unwrap();
    let error = store.read().unwrap().audit_events(org.org(), &sessions).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { table: "audit_event", .. }), "{error}");
    drop(store);
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}
