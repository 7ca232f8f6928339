//! Digests on both engines: a manager's digest of a day is claimed by one sender only; a failed
//! one is claimed again until it has been tried `MAX_ATTEMPTS` times; one left `sending` (a crash
//! midway) is claimed again once stale; a sent or empty one never again. Who gets one, and when
//! the day's are due, in the organisation's time zone.

use pipewise_app as app;
use pipewise_app::digests::{MAX_ATTEMPTS, Outcome, STALE_MINUTES};
use pipewise_core::access::Access;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};

pub fn a_digest_goes_out_once_and_a_failed_one_is_tried_again(db: &TestDb) {
    let org = test_org(db.store(), "Digest Claims");
    let store = db.db();
    let id = org.org();
    let mut tx = store.read().unwrap();
    let recipients: Vec<UserId> = app::digests::recipients(&mut tx, id).unwrap().into_iter().map(|user| user.id).collect();
    assert_eq!(recipients, vec![org.manager.id], "the manager, who has a report; not the rep");
    drop(tx);
    pipewise_test_support::transact(db.store(), |tx| app::settings::set_time_zone(tx, &org.ctx, "Asia/Seoul")).unwrap();
    let mut tx = store.read().unwrap();
    // 22:59 UTC on 6 December is 07:59 on the 7th in Seoul: that day's, not yet due.
    let (day, due) = app::digests::day_at(&mut tx, id, at("2026-12-06T22:59:00Z")).unwrap();
    assert_eq!((day.to_string(), due), ("2026-12-07".to_owned(), false));
    let (day, due) = app::digests::day_at(&mut tx, id, at("2026-12-06T23:00:00Z")).unwrap();
    assert_eq!((day.to_string(), due), ("2026-12-07".to_owned(), true));
    drop(tx);

    let now = at("2026-12-07T00:00:00Z");
    let (manager, rep) = (org.manager.id, org.rep.id);
    assert_eq!(app::digests::claim(&store, id, manager, day, now).unwrap(), Some(1));
    assert_eq!(app::digests::claim(&store, id, manager, day, now).unwrap(), None, "being sent by another");
    let later = now.plus_seconds(STALE_MINUTES * 60 + 1);
    assert_eq!(app::digests::claim(&store, id, manager, day, later).unwrap(), Some(2), "a send that crashed midway, once stale");
    for attempt in 2..=MAX_ATTEMPTS {
        app::digests::finish(&store, id, manager, day, Outcome::Failed { deals: 3, error: "unreachable: 10.0.0.9:587" }, later).unwrap();
        if attempt < MAX_ATTEMPTS {
            assert_eq!(app::digests::claim(&store, id, manager, day, later).unwrap(), Some(attempt + 1));
        }
    }
    assert_eq!(app::digests::claim(&store, id, manager, day, later).unwrap(), None, "given up after {MAX_ATTEMPTS} attempts");
    let next_day = day.tomorrow().unwrap();
    assert_eq!(app::digests::claim(&store, id, manager, next_day, later).unwrap(), Some(1), "a new day, a new digest");
    app::digests::finish(&store, id, manager, next_day, Outcome::Sent { deals: 2 }, later).unwrap();
    assert_eq!(app::digests::claim(&store, id, manager, next_day, later.plus_seconds(86_400)).unwrap(), None, "sent: never again");
    assert_eq!(app::digests::claim(&store, id, rep, next_day, later).unwrap(), Some(1));
    app::digests::finish(&store, id, rep, next_day, Outcome::Empty, later).unwrap();
    assert_eq!(app::digests::claim(&store, id, rep, next_day, later).unwrap(), None, "empty: nothing to send again");

    let mut tx = store.read().unwrap();
    let log = app::digests::digests_for(&mut tx, id, &Access::System, day).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].deals), ("failed", MAX_ATTEMPTS, 3));
    assert_eq!(log[0].last_error.as_deref(), Some("unreachable: 10.0.0.9:587"));
    let sent: Vec<(UserId, String)> = app::digests::digests_for(&mut tx, id, &Access::System, next_day)
        .unwrap()
        .into_iter()
        .map(|digest| (digest.user_id, digest.status))
        .collect();
    assert_eq!(
        sent,
        vec![
            (manager.min(rep), if manager < rep { "sent" } else { "empty" }.to_owned()),
            (manager.max(rep), if manager < rep { "empty" } else { "sent" }.to_owned())
        ]
    );
    let as_rep = app::access::access_for(&mut tx, id, Some(rep)).unwrap();
    assert!(app::digests::digests_for(&mut tx, id, &as_rep, day).is_err(), "admins only");
}
