//! `pipewise bench api`: the JSON API under a fixed rate of mixed calls (of ten: three deal
//! lists, three deals, one history, two pipeline figures, one PATCH), on the demo and the
//! scale data set, through the real server on loopback with an API token.
//!
//! Pipewise's own load is open-loop, as wrk2 does it: call `i` is due at `start + i / rate`,
//! whether or not earlier calls have answered, and its latency counts from when it was due,
//! so a server that falls behind shows it in the tail instead of slowing the load down. wrk
//! (a Debian package; its script is `crates/pipewise/bench/api.lua`) then drives the same mix
//! as fast as 16 connections go, beside it in the table: its throughput is the ceiling, its
//! latencies are closed-loop.

use pipewise_app as app;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pipewise_app::{ApiToken, Db, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::opportunity::Status;
use pipewise_core::user::Role;
use pipewise_core::{OrgId, Timestamp};
use pipewise_store::Store;

pub struct ApiBenchOptions {
    pub sets: crate::bench_pages::DataSets,
    /// Requests per second to hold, each for `seconds`.
    pub rates: Vec<u32>,
    pub seconds: u32,
}

/// What one run measured.
struct Outcome {
    label: String,
    /// Per kind of call (list, deal, history, pipeline, patch): its p50 in ms.
    kinds: Vec<(&'static str, f64)>,
    sent: u64,
    errors: u64,
    achieved: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

pub fn api_bench(options: &ApiBenchOptions) -> Result<()> {
    let sets = options.sets.prepared()?;
    let mut outcomes = Vec::new();
    for (label, db) in sets {
        eprintln!("{label}: {}", crate::db::redact(&db));
        outcomes.extend(bench_one(label, &db, options).with_context(|| format!("benchmarking the API on {label}"))?);
    }
    println!("\n{:<44} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9}", "data set · load", "sent", "per s", "errors", "p50 ms", "p99 ms", "max ms");
    for outcome in &outcomes {
        println!(
            "{:<44} {:>9} {:>9.0} {:>7} {:>9.2} {:>9.2} {:>9.1}",
            outcome.label, outcome.sent, outcome.achieved, outcome.errors, outcome.p50_ms, outcome.p99_ms, outcome.max_ms
        );
    }
    println!("\ntarget: p99 under 5 ms at 5,000 requests/s with no error (the brief: 10 ms at 2,000)");
    Ok(())
}

fn bench_one(label: &str, db: &str, options: &ApiBenchOptions) -> Result<Vec<Outcome>> {
    let raw: Arc<dyn Store> = Arc::from(crate::db::open_store(db)?);
    let store = Db::new(raw);
    let Some(org) = app::users::organisations(&mut store.read()?)?.first().map(|org| org.id) else {
        bail!("{} holds no organisation: generate it first", crate::db::redact(db))
    };
    let users = app::users::users(&mut store.read()?, org)?;
    let admin = users.iter().find(|user| user.active && user.role == Role::Admin).context("the organisation has no admin")?.clone();
    let token = token_for(&store, org, &admin)?;
    let filter = app::OpportunityFilter { status: Some(Status::Open), limit: Some(200), ..app::OpportunityFilter::default() };
    let ids: Vec<i64> = app::deals::opportunities_for(&mut store.read()?, org, &pipewise_core::access::Access::System, &filter)?
        .into_iter()
        .map(|deal| deal.id.0)
        .collect();
    if ids.is_empty() {
        bail!("no open deal to call");
    }

    let (server, base) = crate::bench_pages::serve_here(&store, org)?;

    // Warm: every kind of call once.
    fixed_rate(&base, &token, &ids, 200, 1)?;
    let mut outcomes = Vec::new();
    for rate in &options.rates {
        let mut outcome = fixed_rate(&base, &token, &ids, *rate, options.seconds)?;
        outcome.label = format!("{label} · Pipewise at {rate}/s");
        let kinds: Vec<String> = outcome.kinds.iter().map(|(kind, p50)| format!("{kind} {p50:.2}")).collect();
        eprintln!(
            "  {:<40} p50 {:.2} ms, p99 {:.2} ms, {} errors; p50 by call (ms): {}",
            outcome.label,
            outcome.p50_ms,
            outcome.p99_ms,
            outcome.errors,
            kinds.join(", ")
        );
        outcomes.push(outcome);
    }
    match wrk(&base, &token, &ids, options.seconds) {
        Ok(Some(mut outcome)) => {
            outcome.label = format!("{label} · wrk -t2 -c16, as fast as it goes");
            outcomes.push(outcome);
        }
        Ok(None) => eprintln!("  wrk is not installed (apt-get install wrk): its column is left out"),
        Err(error) => eprintln!("  wrk failed: {error:#}"),
    }
    drop(server);
    Ok(outcomes)
}

/// An API token for `user`, stored hashed as `pipewise` would make one.
fn token_for(store: &Db, org: OrgId, user: &pipewise_core::user::User) -> Result<String> {
    let secret = pipewise_web::auth::new_secret("pwt_").map_err(|error| anyhow::anyhow!("{error:?}"))?;
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let token = ApiToken {
        id: 0,
        org,
        user_id: user.id,
        name: "pipewise bench api".to_owned(),
        token_hash: pipewise_web::auth::sha256_hex(&secret),
        prefix: secret[..12].to_owned(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let ctx = WriteCtx { org, actor_id: Some(user.id), source: Source::Api, at: now };
    store.transact(|tx| app::auth::create_api_token(tx, &ctx, &token))?;
    Ok(secret)
}

/// Holds `rate` calls a second for `seconds`, open-loop (see the module documentation).
fn fixed_rate(base: &str, token: &str, ids: &[i64], rate: u32, seconds: u32) -> Result<Outcome> {
    let total = u64::from(rate) * u64::from(seconds);
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let threads = (rate as usize / 40).clamp(4, 96);
    let start = Instant::now() + Duration::from_millis(50);
    let interval = 1.0 / f64::from(rate);
    let mut workers = Vec::new();
    for _ in 0..threads {
        let (next, errors, base, token, ids) = (next.clone(), errors.clone(), base.to_owned(), token.to_owned(), ids.to_vec());
        workers.push(std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
            let mut latencies: Vec<(u8, u32)> = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    break;
                }
                let due = start + Duration::from_secs_f64(index as f64 * interval);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let ok = call(&agent, &base, &token, ids[(index as usize / 10) % ids.len()], index);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push((kind_of(index), u32::try_from(due.elapsed().as_micros()).unwrap_or(u32::MAX)));
            }
            latencies
        }));
    }
    let mut tagged: Vec<(u8, u32)> = Vec::with_capacity(total as usize);
    for worker in workers {
        tagged.extend(worker.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let kinds = KINDS
        .iter()
        .enumerate()
        .map(|(kind, name)| {
            let mut own: Vec<u32> = tagged.iter().filter(|(tag, _)| usize::from(*tag) == kind).map(|(_, micros)| *micros).collect();
            own.sort_unstable();
            (*name, own.get(own.len() / 2).map_or(0.0, |micros| f64::from(*micros) / 1e3))
        })
        .collect();
    let mut latencies: Vec<u32> = tagged.into_iter().map(|(_, micros)| micros).collect();
    latencies.sort_unstable();
    let at = |share: f64| latencies.get(((latencies.len() as f64 * share).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0);
    Ok(Outcome {
        label: String::new(),
        kinds,
        sent: latencies.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        achieved: latencies.len() as f64 / elapsed,
        p50_ms: f64::from(at(0.50)) / 1e3,
        p99_ms: f64::from(at(0.99)) / 1e3,
        max_ms: f64::from(latencies.last().copied().unwrap_or(0)) / 1e3,
    })
}

/// The kinds of call, as [`kind_of`] numbers them.
const KINDS: [&str; 5] = ["list", "deal", "history", "pipeline", "patch"];

/// Which kind call `index` is (see [`call`]).
fn kind_of(index: u64) -> u8 {
    match index % 10 {
        0..=2 => 0,
        3..=5 => 1,
        6 => 2,
        7 | 8 => 3,
        _ => 4,
    }
}

/// One call of the mix (call `index` of ten: 0–2 a deal list, 3–5 a deal, 6 its history, 7–8
/// the pipeline figures, 9 a PATCH); whether it succeeded.
fn call(agent: &ureq::Agent, base: &str, token: &str, id: i64, index: u64) -> bool {
    let bearer = format!("Bearer {token}");
    let result = match index % 10 {
        0..=2 => agent.get(format!("{base}/api/v1/opportunities?limit=50")).header("Authorization", &bearer).call(),
        3..=5 => agent.get(format!("{base}/api/v1/opportunities/{id}")).header("Authorization", &bearer).call(),
        6 => agent.get(format!("{base}/api/v1/opportunities/{id}/history")).header("Authorization", &bearer).call(),
        7 | 8 => agent.get(format!("{base}/api/v1/analytics/pipeline")).header("Authorization", &bearer).call(),
        _ => agent
            .patch(format!("{base}/api/v1/opportunities/{id}"))
            .header("Authorization", &bearer)
            .header("Content-Type", "application/json")
            .send(format!("{{\"next_step\":\"bench {index}\"}}")),
    };
    match result {
        Ok(mut response) => {
            let ok = response.status().is_success();
            let _ = response.body_mut().read_to_vec();
            ok
        }
        Err(_) => false,
    }
}

/// wrk on the same mix for `seconds`, when it is installed.
fn wrk(base: &str, token: &str, ids: &[i64], seconds: u32) -> Result<Option<Outcome>> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/api.lua");
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let output = match Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(&script)
        .arg(base)
        .env("PIPEWISE_BENCH_TOKEN", token)
        .env("PIPEWISE_BENCH_IDS", ids.join(","))
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let figure = |name: &str| -> Result<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .with_context(|| format!("wrk printed no {name}: {text}"))
    };
    let requests = figure("wrk-requests")?;
    Ok(Some(Outcome {
        label: String::new(),
        kinds: Vec::new(),
        sent: requests as u64,
        errors: figure("wrk-errors")? as u64,
        achieved: requests / figure("wrk-seconds")?,
        p50_ms: figure("wrk-p50-us")? / 1e3,
        p99_ms: figure("wrk-p99-us")? / 1e3,
        max_ms: figure("wrk-max-us")? / 1e3,
    }))
}
