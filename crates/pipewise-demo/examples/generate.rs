//! Generates a demo into a SQLite file and reports how long it took, for measuring:
//!
//! ```text
//! cargo run --release -p pipewise-demo --example generate -- /tmp/demo.db [seed] [YYYY-MM-DD]
//! ```

use std::time::Instant;

use pipewise_core::Timestamp;
use pipewise_demo::{DemoConfig, generate};
use pipewise_store::Store;
use pipewise_store_sqlite::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: generate DB [SEED] [YYYY-MM-DD]")?;
    let seed: u64 = args.next().map_or(Ok(42), |raw| raw.parse())?;
    let today = args.next().unwrap_or_else(|| "2026-11-22".to_owned());
    let now: Timestamp = format!("{today}T18:00:00Z").parse()?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let started = Instant::now();
    let store = SqliteStore::open(&path)?;
    store.migrate()?;
    let summary =
        generate(&pipewise_app::Db::new(std::sync::Arc::new(store)), &DemoConfig::standard(seed, now), &mut |phase, done, total| {
            if done == total {
                eprintln!("{:>14} {done}/{total} at {:.2?}", phase.label(), started.elapsed());
            }
        })?;
    eprintln!("generated in {:.2?}", started.elapsed());
    println!("{summary:#?}");
    Ok(())
}
