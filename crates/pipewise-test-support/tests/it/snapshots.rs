//! The projection kept on disk between starts: a restart reads the snapshot and follows the log
//! from where it stopped, with the same figures as a load from the store; a snapshot that is
//! damaged, of another organisation, of a log that no longer holds its last event, or in
//! another time zone is refused and the projection built from the store.

use pipewise_app as app;
use std::sync::Arc;

use pipewise_analytics::metrics::pipeline_by_stage;
use pipewise_analytics::{Scope, day};
use pipewise_app::insights::{Clock, Insights, Loaded};
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};
use pipewise_test_support::transact;

pub fn a_restart_reads_the_snapshot_and_refuses_a_wrong_one(db: &TestDb) {
    let org = test_org(db.store(), "Snapshots");
    let other = test_org(db.store(), "Other snapshots");
    let clock: Clock = Arc::new(|| at("2026-03-01T12:00:00Z"));
    let deal = |name: &str, when: &str| {
        transact(db.store(), |tx| app::deals::create_opportunity(tx, &org.by_rep(at(when)), &org.new_deal(name))).unwrap();
    };
    deal("Before one", "2026-02-01T09:00:00Z");
    deal("Before two", "2026-02-02T09:00:00Z");
    let dir = std::env::temp_dir().join(format!("pipewise-snapshots-{}-{}", std::process::id(), db.engine()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = app::insights::snapshot_path(&dir, org.org());
    let _ = std::fs::remove_file(&path);
    let load = || Insights::load_or_restore(db.shared(), org.org(), Arc::clone(&clock), &path).unwrap();
    let figures = |insights: &Insights| {
        insights.with(|projection| {
            let stages = pipeline_by_stage(projection, &Scope::org(), day("2026-03-01"), None);
            (projection.n_deals(), projection.last_seq(), format!("{stages:?}"))
        })
    };

    let (first, how) = load();
    assert_eq!(how, Loaded::Store { snapshot_refused: None }, "no snapshot yet");
    assert!(first.write_snapshot(&path).unwrap() > 0);
    // The log advances after the snapshot.
    deal("After", "2026-02-20T09:00:00Z");
    let (restored, how) = load();
    assert!(matches!(how, Loaded::Snapshot { events_after } if events_after > 0), "{how:?}");
    let rebuilt = Insights::load_with_clock(db.shared(), org.org(), Arc::clone(&clock)).unwrap();
    assert_eq!(figures(&restored), figures(&rebuilt), "the snapshot and the log after it are the store's projection");
    assert_eq!(figures(&restored).0, 3);

    let refused = |expected: &str| {
        let (insights, how) = load();
        match how {
            Loaded::Store { snapshot_refused: Some(reason) } => assert!(reason.contains(expected), "{reason}"),
            other => panic!("the snapshot was used ({other:?}), expected a refusal for {expected:?}"),
        }
        assert_eq!(figures(&insights), figures(&rebuilt), "built from the store");
    };
    // A byte changed in the projection.
    restored.write_snapshot(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let mut damaged = good.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    std::fs::write(&path, &damaged).unwrap();
    refused("checksum");
    // Cut short.
    std::fs::write(&path, &good[..good.len() - 3]).unwrap();
    refused("");
    // Another organisation's.
    std::fs::write(app::insights::snapshot_path(&dir, other.org()), &good).unwrap();
    let (_, how) =
        Insights::load_or_restore(db.shared(), other.org(), Arc::clone(&clock), &app::insights::snapshot_path(&dir, other.org())).unwrap();
    assert!(matches!(&how, Loaded::Store { snapshot_refused: Some(reason) } if reason.contains("organisation")), "{how:?}");
    // Its last event is not the log's (another database, or one restored from an older backup).
    let text = String::from_utf8_lossy(&good).into_owned();
    let header_end = good.iter().enumerate().filter(|(_, byte)| **byte == b'\n').nth(1).unwrap().0;
    let header = &text[..header_end];
    let changed = header.replace("\"last_event\":\"", "\"last_event\":\"9");
    let mut forged = changed.into_bytes();
    forged.extend_from_slice(&good[header_end..]);
    std::fs::write(&path, &forged).unwrap();
    refused("is not the one it applied");
    // Written in another time zone than the organisation's now.
    let forged = String::from_utf8_lossy(&good[..header_end]).replace("\"zone\":\"UTC\"", "\"zone\":\"Asia/Seoul\"");
    let mut bytes = forged.into_bytes();
    bytes.extend_from_slice(&good[header_end..]);
    std::fs::write(&path, &bytes).unwrap();
    refused("counts days in Asia/Seoul");
    // The good one is used again.
    std::fs::write(&path, &good).unwrap();
    assert_eq!(load().1, Loaded::Snapshot { events_after: 0 });
    let _ = std::fs::remove_dir_all(&dir);
}
