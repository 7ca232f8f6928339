//! Lead forms on both engines: ops make one (a rep may not); a submission becomes a lead with
//! the form's source, scored and routed; the hidden field filled, a send over one address's hourly limit
//! in an hour and the same address again in a day make nothing and are kept with their
//! outcome; a submission without an address or with a bad size is refused, every problem named;
//! an unknown or switched-off form is not found.

use pipewise_app as app;
use pipewise_app::forms::Submitted;
use pipewise_app::{StoreError, WriteCtx};
use pipewise_core::access::Access;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}

pub fn a_web_form_makes_leads_and_keeps_out_spam_floods_and_repeats(db: &TestDb) {
    let org = test_org(db.store(), "Lead Forms");
    let when = at("2026-12-07T09:00:00Z");
    let by_rep = org.by_rep(when);
    let refused = pipewise_test_support::transact(db.store(), |tx| app::forms::create_form(tx, &by_rep, "Contact", "", None));
    assert!(matches!(refused, Err(StoreError::Forbidden(_))));
    let ops = WriteCtx { at: when, ..org.ctx };
    let bad = pipewise_test_support::transact(db.store(), |tx| app::forms::create_form(tx, &ops, " ", "", Some("javascript:alert(1)")));
    let Err(StoreError::Invalid(errors)) = bad else { panic!("{bad:?}") };
    assert_eq!(errors.0.iter().map(|error| error.field).collect::<Vec<_>>(), vec!["name", "redirect_url"]);
    let form = pipewise_test_support::transact(db.store(), |tx| app::forms::create_form(tx, &ops, "Contact sales", "", None)).unwrap();
    assert_eq!((form.source.as_str(), form.key.len()), ("web form", 32));
    let store = db.db();

    let good =
        fields(&[("name", "Ana Lima"), ("email", "Ana@LimaFreight.example"), ("company", "Lima Freight"), ("employee_count", "1,200")]);
    let Submitted::Accepted(lead) = app::forms::submit(&store, &form.key, "203.0.113.7", &good, when).unwrap() else { panic!() };
    assert_eq!(
        (lead.email.as_deref(), lead.source.as_deref(), lead.employee_count),
        (Some("ana@limafreight.example"), Some("web form"), Some(1_200))
    );
    let mut tx = store.read().unwrap();
    assert!(app::routing::route_of(&mut tx, org.org(), lead.id).unwrap().is_some(), "scored as it came in");
    drop(tx);
    let again = app::forms::submit(&store, &form.key, "203.0.113.8", &good, when.plus_seconds(60)).unwrap();
    assert_eq!(again, Submitted::Quietly("duplicate"));
    let bot = fields(&[("name", "Cheap pills"), ("email", "bot@spam.example"), ("website", "http://spam.example")]);
    assert_eq!(app::forms::submit(&store, &form.key, "198.51.100.1", &bot, when).unwrap(), Submitted::Quietly("spam"));
    let missing = fields(&[("name", ""), ("employee_count", "lots")]);
    let Submitted::Invalid(errors) = app::forms::submit(&store, &form.key, "192.0.2.5", &missing, when).unwrap() else { panic!() };
    let mut named: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
    named.sort_unstable();
    assert_eq!(named, vec!["email", "employee_count", "name"]);
    // One address: the sends of the hour (one above, refused) and then nothing.
    for index in 0..app::forms::PER_ADDRESS_PER_HOUR - 1 {
        let one = fields(&[("name", "Flood"), ("email", &format!("flood{index}@flood.example"))]);
        assert!(matches!(
            app::forms::submit(&store, &form.key, "192.0.2.5", &one, when.plus_seconds(index)).unwrap(),
            Submitted::Accepted(_)
        ));
    }
    let over = fields(&[("name", "Flood"), ("email", "flood-last@flood.example")]);
    assert_eq!(app::forms::submit(&store, &form.key, "192.0.2.5", &over, when.plus_seconds(60)).unwrap(), Submitted::Quietly("limited"));
    assert!(
        matches!(app::forms::submit(&store, &form.key, "192.0.2.5", &over, when.plus_seconds(7_200)).unwrap(), Submitted::Accepted(_)),
        "two hours later"
    );

    let mut tx = store.read().unwrap();
    let states = app::forms::forms_for(&mut tx, org.org(), &Access::System, when.plus_seconds(7_200)).unwrap();
    let outcomes: Vec<(String, i64)> = states[0].outcomes.clone();
    assert_eq!(
        outcomes,
        vec![
            ("accepted".into(), app::forms::PER_ADDRESS_PER_HOUR + 1),
            ("duplicate".into(), 1),
            ("invalid".into(), 1),
            ("limited".into(), 1),
            ("spam".into(), 1)
        ]
    );
    drop(tx);
    // A month later the old submissions are forgotten (their leads stay).
    let month_later = when.plus_seconds(31 * 86_400);
    let again = fields(&[("name", "Ana Lima"), ("email", "ana@limafreight.example")]);
    assert!(matches!(app::forms::submit(&store, &form.key, "203.0.113.7", &again, month_later).unwrap(), Submitted::Accepted(_)));
    let mut tx = store.read().unwrap();
    let states = app::forms::forms_for(&mut tx, org.org(), &Access::System, month_later).unwrap();
    assert_eq!(states[0].outcomes, vec![("accepted".to_owned(), 1)]);
    drop(tx);
    assert!(matches!(app::forms::submit(&store, "0123456789abcdef0123456789abcdef", "x", &good, when), Err(StoreError::NotFound { .. })));
    assert!(matches!(app::forms::submit(&store, "../../etc", "x", &good, when), Err(StoreError::NotFound { .. })));
    pipewise_test_support::transact(db.store(), |tx| app::forms::set_form_active(tx, &ops, form.id, false)).unwrap();
    assert!(matches!(app::forms::submit(&store, &form.key, "x", &good, when), Err(StoreError::NotFound { .. })), "a form switched off");
}
