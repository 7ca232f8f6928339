//! Crash safety: a real `pipewise apply` process commits a stream of edits and is killed with
//! SIGKILL mid-stream. Every acknowledged edit must be in the database afterwards, history must
//! still replay to the current state, and the next process must carry on.

use pipewise_app as app;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use pipewise_app::RecordKind;
use pipewise_core::history;
use pipewise_core::opportunity::OppField;
use pipewise_store::Store;
use pipewise_store_sqlite::SqliteStore;
use pipewise_test_support::TempDir;

use crate::{database_with_org, pipewise};

const DEALS: i64 = 5;
const LINES: usize = 5_000;
const KILL_AFTER_ACKS: usize = 300;

/// Edit `line` (1-based, after the creations) sets deal `(line % DEALS) + 1`'s next step to
/// `step {line}`.
fn edit(line: usize) -> String {
    let deal = (line as i64 % DEALS) + 1;
    serde_json::json!({ "op": "update_opportunity", "id": deal, "next_step": format!("step {line}") }).to_string()
}

#[test]
fn kill_9_mid_stream_loses_no_acknowledged_write() {
    let dir = TempDir::new("crash");
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Crash");

    let mut child =
        pipewise().arg("apply").arg("--db").arg(&db).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let creations: Vec<String> = (0..DEALS)
        .map(|i| serde_json::json!({ "op": "create_opportunity", "name": format!("Deal {i}"), "owner_id": org.rep.id.0, "pipeline_id": org.simple.id.0 }).to_string())
        .collect();
    let writer = std::thread::spawn(move || {
        for line in creations.into_iter().chain((1..=LINES).map(edit)) {
            // The process dies mid-stream; writing then fails, which ends the writer.
            if writeln!(stdin, "{line}").is_err() {
                break;
            }
        }
    });
    let mut acknowledged = Vec::new();
    for ack in BufReader::new(child.stdout.take().unwrap()).lines() {
        let ack: serde_json::Value = serde_json::from_str(&ack.unwrap()).unwrap();
        assert_eq!(ack["ok"], true, "{ack}");
        acknowledged.push(ack["line"].as_u64().unwrap() as usize);
        if acknowledged.len() == KILL_AFTER_ACKS {
            // SIGKILL: no destructor, no flush, no chance to finish the transaction in flight.
            child.kill().unwrap();
        }
    }
    child.wait().unwrap();
    writer.join().unwrap();
    // Acks already on their way when the signal landed are still read, so a few more than
    // KILL_AFTER_ACKS may arrive; fewer than all of them proves the kill came mid-stream.
    assert!(
        acknowledged.len() >= KILL_AFTER_ACKS && acknowledged.len() < LINES + DEALS as usize,
        "killed mid-stream after {} acks",
        acknowledged.len()
    );

    let store = SqliteStore::open(&db).unwrap();
    store.migrate().unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    let log = tx.history_since(org.org(), 0, 1_000_000).unwrap();
    let recorded: std::collections::HashSet<&str> =
        log.iter().filter(|event| event.field == OppField::NextStep).filter_map(|event| event.new.as_deref()).collect();
    for line in acknowledged.iter().filter(|line| **line > DEALS as usize) {
        let edit_number = line - DEALS as usize;
        assert!(recorded.contains(format!("step {edit_number}").as_str()), "acknowledged edit {edit_number} was lost");
    }
    assert!(log.iter().enumerate().all(|(index, event)| event.seq == index as i64 + 1), "no gap in the history sequence");
    for deal in tx.opportunities(org.org(), &Default::default()).unwrap() {
        let events = tx.history(org.org(), deal.id).unwrap();
        assert_eq!(history::replay(&events).unwrap(), Some(deal), "history replays to the current state");
    }
    let committed_before_restart = tx.count(org.org(), RecordKind::History).unwrap();
    drop(tx);
    drop(store);

    // The next process starts on the same file and carries on.
    let mut child =
        pipewise().arg("apply").arg("--db").arg(&db).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", edit(LINES + 1)).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.read().unwrap().count(org.org(), RecordKind::History).unwrap(), committed_before_restart + 1);
    let connection = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}
