//! `pipewise bench start`: how long `pipewise serve` takes from its start until it answers the
//! dashboard, and its resident memory then, loading the projection from the store (replaying
//! the whole history log, the reference) and then from the snapshot the first run wrote, on the
//! demo and the scale data set side by side. Each run is a real `pipewise serve` process (this
//! binary) on loopback, asked for the dashboard every 20 ms by a signed-in admin.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pipewise_app::{self as app, Db};
use pipewise_core::Timestamp;
use pipewise_core::user::Role;

use crate::bench_pages::DataSets;

pub struct StartBenchOptions {
    pub sets: DataSets,
}

/// One start: until the dashboard answered, and the server's resident memory then.
struct Start {
    seconds: f64,
    resident_mib: f64,
}

pub fn start_bench(options: &StartBenchOptions) -> Result<()> {
    let binary = std::env::current_exe().context("this program's path")?;
    let mut rows = Vec::new();
    for (label, db) in options.sets.prepared()? {
        eprintln!("{label}: {}", crate::db::redact(&db));
        let store = crate::db::open(&db)?;
        let cookie = admin_cookie(&store)?;
        let dir = PathBuf::from(format!("target/bench-start-{}.snapshots", label.split_whitespace().next().unwrap_or("set")));
        let _ = std::fs::remove_dir_all(&dir);
        let from_store = start_once(&binary, &db, &dir, &cookie, true)?;
        let snapshot = std::fs::read_dir(&dir)
            .ok()
            .and_then(|mut entries| entries.find_map(|entry| entry.ok()))
            .and_then(|entry| entry.metadata().ok())
            .map_or(0, |metadata| metadata.len());
        let from_snapshot = start_once(&binary, &db, &dir, &cookie, false)?;
        rows.push((label, from_store, from_snapshot, snapshot));
    }
    println!("\n{:<18} | {:>26} | {:>26} | {:>10}", "data set", "from the store (log replay)", "from the snapshot", "snapshot");
    println!("{:<18} | {:>12} {:>13} | {:>12} {:>13} | {:>10}", "", "to dashboard", "resident", "to dashboard", "resident", "MB");
    for (label, store, snapshot, bytes) in rows {
        println!(
            "{label:<18} | {:>10.2} s {:>9.0} MiB | {:>10.2} s {:>9.0} MiB | {:>10.1}",
            store.seconds,
            store.resident_mib,
            snapshot.seconds,
            snapshot.resident_mib,
            bytes as f64 / 1e6
        );
    }
    println!("\nbudget: the dashboard within 3 s of the start, resident memory under 300 MiB after the load");
    Ok(())
}

/// A session cookie for the organisation's first active admin.
fn admin_cookie(store: &Db) -> Result<String> {
    let org = app::users::organisations(&mut store.read()?)?.first().map(|org| org.id).context("the data set holds no organisation")?;
    let users = app::users::users(&mut store.read()?, org)?;
    let admin = users.iter().find(|user| user.active && user.role == Role::Admin).context("the organisation has no admin")?;
    crate::bench_pages::session_for(store, org, admin, Timestamp::from_jiff(jiff::Timestamp::now()))
}

/// Kills the server when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `pipewise serve` on `db` keeping snapshots in `dir`, times it until the dashboard
/// answers; with `wait_for_snapshot`, waits for the snapshot the server writes after loading
/// from the store before stopping it.
fn start_once(binary: &Path, db: &str, dir: &Path, cookie: &str, wait_for_snapshot: bool) -> Result<Start> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let started = Instant::now();
    let child = Command::new(binary)
        .args(["serve", "--db", db, "--addr", &format!("127.0.0.1:{port}"), "--snapshots"])
        .arg(dir)
        .env("PIPEWISE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting pipewise serve")?;
    let server = Server(child);
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().into();
    let url = format!("http://127.0.0.1:{port}/dashboard");
    let seconds = loop {
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the server did not answer the dashboard within 300 s");
        }
        match agent.get(&url).header("Cookie", cookie).call() {
            Ok(mut response) if response.status().as_u16() == 200 => {
                let _ = response.body_mut().read_to_vec();
                break started.elapsed().as_secs_f64();
            }
            Ok(response) => bail!("the dashboard answered {}", response.status()),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let resident_mib = resident_kib(server.0.id()) as f64 / 1024.0;
    eprintln!(
        "  {}: the dashboard in {seconds:.2} s, {resident_mib:.0} MiB resident",
        if wait_for_snapshot { "from the store" } else { "from the snapshot" }
    );
    if wait_for_snapshot {
        let waited = Instant::now();
        while std::fs::read_dir(dir).map_or(true, |entries| {
            !entries.filter_map(|entry| entry.ok()).any(|entry| entry.path().extension().is_some_and(|extension| extension == "snapshot"))
        }) {
            if waited.elapsed() > Duration::from_secs(120) {
                bail!("the server wrote no snapshot in {}", dir.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    drop(server);
    Ok(Start { seconds, resident_mib })
}

/// A process's resident memory in KiB (Linux; 0 elsewhere).
fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| line.strip_prefix("VmRSS:").map(|rest| rest.trim().trim_end_matches(" kB").to_owned()))
        })
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or(0)
}
