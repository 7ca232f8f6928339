//! `pipewise bench pages`: every page a team opens, timed through the real server on loopback
//! (warm, release), for an admin and for the manager of the largest tree below the top, on the
//! demo and on the scale data set (and PostgreSQL with `--pg`), side by side: p50, p95 and
//! the bytes of HTML each answers. A past day's dashboard is timed the first time it is asked,
//! before it is warm, since that is what its first reader waits for.

use pipewise_app as app;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pipewise_app::{Db, Session};
use pipewise_core::opportunity::Status;
use pipewise_core::user::{Role, User};
use pipewise_core::{OrgId, Timestamp, UserId};
use pipewise_store::Store;
use pipewise_web::AppState;

/// The data sets the page and API benchmarks run on, side by side.
#[derive(clap::Args, Clone, Debug)]
pub struct DataSets {
    /// The scale data set (made by `pipewise bench dashboard`): a SQLite path or postgres:// URL.
    #[arg(long, default_value = "target/bench-dashboard.db")]
    pub db: String,
    /// The demo's SQLite file (generated when missing).
    #[arg(long, default_value = "target/bench-pages-demo.db")]
    pub demo: String,
    /// A PostgreSQL URL holding the scale data set too.
    #[arg(long)]
    pub pg: Option<String>,
    /// Leave out the demo.
    #[arg(long)]
    pub skip_demo: bool,
}

impl DataSets {
    /// Each data set's label and database, the demo generated first when missing.
    pub fn prepared(&self) -> Result<Vec<(&'static str, String)>> {
        let mut sets = Vec::new();
        if !self.skip_demo {
            if !std::path::Path::new(&self.demo).exists() {
                eprintln!("generating the demo into {} …", self.demo);
                crate::demo::run(&self.demo, 42, None, "", true)?;
            }
            sets.push(("demo (SQLite)", self.demo.clone()));
        }
        let engine = if crate::db::sqlite_path(&self.db).is_some() { "scale (SQLite)" } else { "scale (PostgreSQL)" };
        sets.push((engine, self.db.clone()));
        if let Some(pg) = &self.pg {
            sets.push(("scale (PostgreSQL)", pg.clone()));
        }
        Ok(sets)
    }
}

/// The server on loopback in this process, as `pipewise serve` runs it (the projection loaded
/// and following the log): its runtime (dropping it stops the server) and its address.
pub fn serve_here(store: &Db, org: OrgId) -> Result<(tokio::runtime::Runtime, String)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let started = Instant::now();
    let insights = Arc::new(store.following_insights(Duration::from_millis(100)));
    insights.get(org).context("loading the projection")?;
    eprintln!("  projection loaded in {:.1} s", started.elapsed().as_secs_f64());
    let state = AppState { insights: Some(insights), ..AppState::new(store.clone()) };
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    runtime.spawn(async move {
        let _ = pipewise_web::serve(listener, state).await;
    });
    Ok((runtime, base))
}

pub struct PagesBenchOptions {
    pub sets: DataSets,
    pub runs: usize,
    /// Only the pages whose name contains this.
    pub only: Option<String>,
    /// A folder to write each page's HTML into (to see what makes a page heavy).
    pub dump: Option<std::path::PathBuf>,
}

/// One page's figures for one reader.
struct Timing {
    p50: f64,
    p95: f64,
    bytes: usize,
    status: u16,
}

pub fn pages_bench(options: &PagesBenchOptions) -> Result<()> {
    let sets = options.sets.prepared()?;
    let mut columns: Vec<(String, HashMap<String, Timing>)> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    for (label, db) in sets {
        eprintln!("{label}: {}", crate::db::redact(&db));
        let figures = bench_one(&db, options, &mut order).with_context(|| format!("benchmarking the pages of {label}"))?;
        columns.push((label.to_owned(), figures));
    }
    print_table(&columns, &order);
    Ok(())
}

/// The pages of one data set, each read `runs` times after a warm-up by both readers.
fn bench_one(db: &str, options: &PagesBenchOptions, order: &mut Vec<String>) -> Result<HashMap<String, Timing>> {
    let runs = options.runs.max(2);
    let raw: Arc<dyn Store> = Arc::from(crate::db::open_store(db)?);
    let store = Db::new(raw);
    let org = match app::users::organisations(&mut store.read()?)?.first() {
        Some(org) => org.id,
        None => bail!("{} holds no organisation: generate it first (`pipewise bench dashboard --db …`)", crate::db::redact(db)),
    };
    let users = app::users::users(&mut store.read()?, org)?;
    let admin = users.iter().find(|user| user.active && user.role == Role::Admin).context("the organisation has no admin")?.clone();
    let manager = largest_tree(&users, admin.id).context("the organisation has no manager")?;
    let tree = tree_of(&users, manager.id);
    eprintln!("  readers: admin {} and manager {} ({} people below)", admin.email, manager.email, tree.len() - 1);

    let (_server, base) = serve_here(&store, org)?;

    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let admin_cookie = session_for(&store, org, &admin, now)?;
    let manager_cookie = session_for(&store, org, &manager, now)?;
    let mut pages = pages_for(&store, org, &tree)?;
    if let Some(only) = &options.only {
        pages.paths.retain(|(name, _)| name.contains(only.as_str()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let fetch = |path: &str, cookie: &str| -> Result<(f64, usize, u16)> {
        let timer = Instant::now();
        let mut response = agent.get(format!("{base}{path}")).header("Cookie", cookie).call()?;
        let body = response.body_mut().with_config().limit(200 * 1024 * 1024).read_to_vec()?;
        Ok((timer.elapsed().as_secs_f64() * 1e3, body.len(), response.status().as_u16()))
    };

    let mut figures = HashMap::new();
    // A past day's dashboard, cold: the first reader's wait.
    let past = format!("/dashboard?as_of={}", pages.past_day);
    if options.only.as_ref().is_none_or(|only| "dashboard".contains(only.as_str())) {
        let (first, bytes, status) = fetch(&past, &admin_cookie)?;
        let key = "dashboard, a past day, first time · admin".to_owned();
        figures.insert(key.clone(), Timing { p50: first, p95: first, bytes, status });
        if !order.contains(&key) {
            order.push(key);
        }
    }
    // Every deal as CSV, streamed: how soon it starts, how long the whole file takes, and what
    // the server's memory does meanwhile.
    if options.only.as_ref().is_none_or(|only| "deals as CSV".contains(only.as_str())) {
        let resident = resident_kib();
        let timer = Instant::now();
        let mut response = agent.get(format!("{base}/opportunities?status=all&format=csv")).header("Cookie", &admin_cookie).call()?;
        let status = response.status().as_u16();
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut reader, &mut first)?;
        let first_ms = timer.elapsed().as_secs_f64() * 1e3;
        let bytes = 1 + std::io::copy(&mut reader, &mut std::io::sink())? as usize;
        let whole_ms = timer.elapsed().as_secs_f64() * 1e3;
        let grown = resident_kib().saturating_sub(resident);
        eprintln!(
            "  deals as CSV, every deal: first byte {first_ms:.1} ms, whole {:.1} s, {:.1} MB; the server's resident memory grew {:.1} MiB",
            whole_ms / 1e3,
            bytes as f64 / 1e6,
            grown as f64 / 1024.0
        );
        for (key, ms) in [("deals as CSV, every deal: first byte · admin", first_ms), ("deals as CSV, every deal: whole · admin", whole_ms)]
        {
            figures.insert(key.to_owned(), Timing { p50: ms, p95: ms, bytes, status });
            if !order.iter().any(|known| known == key) {
                order.push(key.to_owned());
            }
        }
    }
    for (reader, cookie) in [("admin", &admin_cookie), ("manager", &manager_cookie)] {
        for (name, path) in &pages.paths {
            fetch(path, cookie)?; // warm
            let mut times = Vec::with_capacity(runs);
            let (mut bytes, mut status) = (0, 0);
            for _ in 0..runs {
                let (ms, size, code) = fetch(path, cookie)?;
                times.push(ms);
                (bytes, status) = (size, code);
            }
            if let Some(dir) = &options.dump {
                let mut response = agent.get(format!("{base}{path}")).header("Cookie", cookie.as_str()).call()?;
                let body = response.body_mut().with_config().limit(200 * 1024 * 1024).read_to_vec()?;
                std::fs::create_dir_all(dir)?;
                std::fs::write(dir.join(format!("{}-{reader}.html", name.replace([' ', ',', ':', '/'], "_"))), body)?;
            }
            times.sort_by(f64::total_cmp);
            let p50 = times[times.len() / 2];
            let p95 = times[((times.len() as f64 * 0.95).ceil() as usize).clamp(1, times.len()) - 1];
            let key = format!("{name} · {reader}");
            eprintln!("  {key:<44} {p50:>9.1} ms {:>9.1} KB  {status}", bytes as f64 / 1024.0);
            if !order.contains(&key) {
                order.push(key.clone());
            }
            figures.insert(key, Timing { p50, p95, bytes, status });
        }
    }
    Ok(figures)
}

/// This process's resident anonymous memory (its heap, not the database pages it maps) in KiB
/// (Linux; 0 elsewhere): the benchmark serves in-process.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| line.strip_prefix("RssAnon:").map(|rest| rest.trim().trim_end_matches(" kB").to_owned()))
        })
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or(0)
}

/// The pages timed, with the ids they name picked from the data set: a pipeline, an open deal
/// and its account inside the manager's tree, an owner, a past day.
struct Pages {
    paths: Vec<(&'static str, String)>,
    past_day: String,
}

fn pages_for(store: &Db, org: OrgId, tree: &[UserId]) -> Result<Pages> {
    let mut tx = store.read()?;
    let pipeline = app::records::pipelines(&mut tx, org)?.first().map(|pipeline| pipeline.id).context("no pipeline")?;
    let filter = app::OpportunityFilter {
        owner_id: tree.last().copied(),
        status: Some(Status::Open),
        limit: Some(1),
        ..app::OpportunityFilter::default()
    };
    let deal = app::deals::opportunities_for(&mut tx, org, &pipewise_core::access::Access::System, &filter)?
        .into_iter()
        .next()
        .context("no open deal in the manager's tree")?;
    let account = deal.account_id.map_or_else(|| "1".to_owned(), |id| id.to_string());
    let organisation = app::users::organisation(&mut tx, org)?.context("no organisation")?;
    let today = organisation.time_zone.date_of(Timestamp::from_jiff(jiff::Timestamp::now()));
    let past_day = today.checked_sub(jiff::Span::new().days(100)).unwrap_or(today).to_string();
    let owner = deal.owner_id;
    let paths = vec![
        ("dashboard", "/dashboard".to_owned()),
        ("drill-down: open pipeline", "/opportunities?figure=open".to_owned()),
        ("board", format!("/board?pipeline={pipeline}")),
        ("deals", "/opportunities".to_owned()),
        ("deals by amount, page 50", "/opportunities?sort=amount&dir=desc&page=50".to_owned()),
        ("deals of one owner, all", format!("/opportunities?owner={owner}&status=all")),
        ("deals searched", "/opportunities?q=renewal".to_owned()),
        ("a deal", format!("/opportunities/{}", deal.id)),
        ("accounts", "/accounts".to_owned()),
        ("accounts searched, page 2", "/accounts?q=inc&page=2".to_owned()),
        ("accounts by open amount", "/accounts?sort=open_amount&dir=desc".to_owned()),
        ("an account", format!("/accounts/{account}")),
        ("contacts", "/contacts".to_owned()),
        ("contacts searched", "/contacts?q=director".to_owned()),
        ("contacts by account", "/contacts?sort=account".to_owned()),
        ("tasks, everyone's", "/tasks?owner=all".to_owned()),
        ("leads", "/leads".to_owned()),
        ("today", "/today".to_owned()),
    ];
    Ok(Pages { paths, past_day })
}

/// The manager (not the admin) with the most people below them short of half the organisation
/// (a director of some teams, not the head of sales who sees everything).
fn largest_tree(users: &[User], admin: UserId) -> Option<User> {
    let limit = (users.len() / 2).max(2);
    users
        .iter()
        .filter(|user| user.active && user.id != admin && matches!(user.role, Role::Manager))
        .map(|user| (tree_of(users, user.id).len(), user))
        .filter(|(size, _)| *size <= limit)
        .max_by_key(|(size, user)| (*size, std::cmp::Reverse(user.id)))
        .map(|(_, user)| user.clone())
}

/// `top` and everyone reporting to them, directly or not.
fn tree_of(users: &[User], top: UserId) -> Vec<UserId> {
    let mut tree = vec![top];
    let mut index = 0;
    while index < tree.len() {
        let boss = tree[index];
        tree.extend(users.iter().filter(|user| user.manager_id == Some(boss)).map(|user| user.id));
        index += 1;
    }
    tree
}

/// A session for `user`, recorded as a sign-in would be; answers its cookie.
pub fn session_for(store: &Db, org: OrgId, user: &User, now: Timestamp) -> Result<String> {
    let secret = pipewise_web::auth::new_secret("pws_").map_err(|error| anyhow::anyhow!("{error:?}"))?;
    let session = Session {
        token_hash: pipewise_web::auth::sha256_hex(&secret),
        org,
        user_id: user.id,
        csrf_token: pipewise_web::auth::new_secret("").map_err(|error| anyhow::anyhow!("{error:?}"))?,
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_seconds(86_400),
        client_address: Some("127.0.0.1".to_owned()),
    };
    store.transact(|tx| app::auth::record_sign_in(tx, &session, &user.email, "127.0.0.1"))?;
    Ok(format!("{}={secret}", pipewise_web::auth::SESSION_COOKIE))
}

fn print_table(columns: &[(String, HashMap<String, Timing>)], order: &[String]) {
    let mut header = format!("{:<46}", "page · reader");
    for (label, _) in columns {
        header.push_str(&format!(" | {label:^34}"));
    }
    println!("\n{header}");
    let mut sub = format!("{:<46}", "");
    for _ in columns {
        sub.push_str(&format!(" | {:>10} {:>10} {:>12}", "p50 ms", "p95 ms", "KB"));
    }
    println!("{sub}");
    for key in order {
        let mut line = format!("{key:<46}");
        for (_, figures) in columns {
            match figures.get(key) {
                Some(timing) => {
                    let flag = if timing.status == 200 { String::new() } else { format!(" ({})", timing.status) };
                    line.push_str(&format!(
                        " | {:>10.1} {:>10.1} {:>12}",
                        timing.p50,
                        timing.p95,
                        format!("{:.1}{flag}", timing.bytes as f64 / 1024.0)
                    ));
                }
                None => line.push_str(&format!(" | {:>34}", "—")),
            }
        }
        println!("{line}");
    }
    println!("\nbudget: every page under 100 ms and 300 KB; a past day's dashboard under 1 s the first time");
}
