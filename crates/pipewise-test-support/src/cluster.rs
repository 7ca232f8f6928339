//! The PostgreSQL server tests run against.
//!
//! `PIPEWISE_TEST_PG` names one (e.g. `postgres://postgres@127.0.0.1:5432/postgres`). Without
//! it, the first test that asks starts a throwaway cluster: `initdb` into a temp directory
//! (as the `postgres` user when running as root, since initdb refuses root), `pg_ctl start` on a
//! free loopback port with `fsync=off`. A watchdog process stops the cluster and removes the
//! directory when this test process exits, however it exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Cluster {
    pub url: String,
    pub data_dir: PathBuf,
    pub pg_ctl: PathBuf,
    run_as_postgres: bool,
}

/// The test server's URL, starting a throwaway cluster on first use. `None` after a loud skip
/// when neither `PIPEWISE_TEST_PG` nor the PostgreSQL programs exist (a panic under `CI`).
pub fn postgres_server_url() -> Option<String> {
    if let Ok(url) = std::env::var("PIPEWISE_TEST_PG")
        && !url.is_empty()
    {
        return Some(url);
    }
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| match Cluster::start(true) {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            crate::skip_or_fail(&format!("PostgreSQL (set PIPEWISE_TEST_PG, or put initdb and pg_ctl on PATH): {reason}"));
            None
        }
    });
    cluster.as_ref().map(|cluster| cluster.url.clone())
}

/// `initdb` and `pg_ctl`: on PATH, else in Debian's versioned directory.
fn postgres_programs() -> Option<(PathBuf, PathBuf)> {
    if let (Some(initdb), Some(pg_ctl)) = (crate::find_program("initdb"), crate::find_program("pg_ctl")) {
        return Some((initdb, pg_ctl));
    }
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|entry| Some(entry.ok()?.path().join("bin"))).collect();
    versions.sort();
    let bin = versions.into_iter().rev().find(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())?;
    Some((bin.join("initdb"), bin.join("pg_ctl")))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

impl Cluster {
    /// Starts a throwaway cluster. With `watchdog`, it is stopped when this process exits;
    /// without, the caller stops it with [`Cluster::stop`].
    pub fn start(watchdog: bool) -> Result<Cluster, String> {
        let (initdb, pg_ctl) = postgres_programs().ok_or("initdb and pg_ctl were not found")?;
        let run_as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "pipewise-pg-{}-{}",
            std::process::id(),
            std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        if run_as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        let data_dir = dir.join("data");
        let cluster = Cluster { url: String::new(), data_dir: data_dir.clone(), pg_ctl: pg_ctl.clone(), run_as_postgres };
        run(cluster
            .command(&initdb)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C", "-D"])
            .arg(&data_dir))?;
        let port = free_port()?;
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", dir.display());
        let log = dir.join("log");
        run(cluster.command(&pg_ctl).arg("-D").arg(&data_dir).arg("-l").arg(&log).args(["-w", "-t", "60", "start", "-o", &options]))?;
        if watchdog {
            cluster.spawn_watchdog(&dir)?;
        }
        Ok(Cluster { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), ..cluster })
    }

    /// Stops the cluster at once and removes its files.
    pub fn stop(&self) -> Result<(), String> {
        run(self.command(&self.pg_ctl).arg("-D").arg(&self.data_dir).args(["-m", "immediate", "-w", "stop"]))?;
        if let Some(dir) = self.data_dir.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    fn command(&self, program: &Path) -> Command {
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// A shell loop that waits for this process to end, then stops the cluster.
    fn spawn_watchdog(&self, dir: &Path) -> Result<(), String> {
        let stop = format!(
            "{}{} -D {} -m immediate -w stop >/dev/null 2>&1",
            if self.run_as_postgres { "runuser -u postgres -- " } else { "" },
            self.pg_ctl.display(),
            self.data_dir.display()
        );
        let script = format!("while kill -0 {} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {}", std::process::id(), dir.display());
        let mut command = Command::new("sh");
        command.args(["-c", &script]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.spawn().map_err(|error| format!("cannot start the cluster watchdog: {error}"))?;
        Ok(())
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener.local_addr().map(|address| address.port()).map_err(|error| error.to_string())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output().map_err(|error| format!("{command:?}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}
