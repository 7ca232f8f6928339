//! The command line: help, migrations, errors with hints, `apply`, and `serve`'s health check.

use pipewise_app as app;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

use pipewise_test_support::TempDir;

use crate::{database_with_org, pipewise};

fn output(command: &mut std::process::Command) -> (bool, String, String) {
    let output = command.output().unwrap();
    (output.status.success(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

#[test]
fn every_subcommand_has_help() {
    for subcommand in ["serve", "migrate", "demo", "apply", "import", "export", "capture", "init", "password"] {
        let (ok, stdout, _) = output(pipewise().args([subcommand, "--help"]));
        assert!(ok, "{subcommand} --help");
        assert!(stdout.contains("Usage: pipewise"), "{subcommand}: {stdout}");
    }
    let (ok, stdout, _) = output(pipewise().arg("--help"));
    assert!(ok);
    for subcommand in ["serve", "migrate", "demo", "apply", "import", "export", "capture", "init", "password"] {
        assert!(stdout.contains(subcommand), "{stdout}");
    }
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let dir = TempDir::new("cli-migrate");
    let db = dir.path().join("pipewise.db");
    let (ok, stdout, _) = output(pipewise().arg("migrate").arg("--db").arg(&db));
    assert!(ok);
    let applied: Vec<&str> = stdout.lines().collect();
    assert_eq!(applied[..2], ["applied 0001_records", "applied 0002_platform"], "{stdout}");
    assert!(applied.iter().all(|line| line.starts_with("applied 00")), "{stdout}");
    let (ok, stdout, _) = output(pipewise().arg("migrate").arg("--db").arg(&db));
    assert!(ok);
    assert_eq!(stdout, "the database is up to date\n");
}

#[test]
fn an_unknown_database_scheme_is_an_error_with_a_hint() {
    let (ok, stdout, stderr) = output(pipewise().args(["migrate", "--db", "mysql://root@localhost/crm"]));
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: unsupported database URL scheme \"mysql\"\nhint: use a SQLite file path (e.g. pipewise.db) or a postgres:// URL\n"
    );
}

#[test]
fn apply_acknowledges_good_lines_and_names_the_field_of_bad_ones() {
    let dir = TempDir::new("cli-apply");
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Apply");
    let lines = format!(
        "{}\n{}\n{}\n{}\nnot json\n",
        serde_json::json!({ "op": "create_opportunity", "name": "Acme", "owner_id": org.rep.id.0, "pipeline_id": org.simple.id.0, "amount": "KRW 15000000" }),
        serde_json::json!({ "op": "update_opportunity", "id": 1, "close_date": "2025-13-01", "amount": "KRW 10.5" }),
        serde_json::json!({ "op": "update_opportunity", "id": 1, "stage_id": org.simple.stages[1].id.0 }),
        serde_json::json!({ "op": "update_opportunity", "id": 1, "colour": "red" }),
    );
    let mut child = pipewise()
        .arg("apply")
        .arg("--db")
        .arg(&db)
        .args(["--as", "rep@apply.test"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let result = child.wait_with_output().unwrap();
    assert!(!result.status.success(), "a failed line makes the exit status non-zero");
    let acks: Vec<serde_json::Value> =
        String::from_utf8(result.stdout).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(acks[0], serde_json::json!({ "line": 1, "ok": true, "id": 1 }));
    assert_eq!(
        acks[1]["error"],
        "line 2: opportunity 1: amount: 10.5 has 1 decimal places but KRW has 0; opportunity 1: close_date: \"2025-13-01\" is not a date"
    );
    assert_eq!(acks[2], serde_json::json!({ "line": 3, "ok": true, "id": 1 }));
    // A broken rule reads in English, as the API words it.
    assert_eq!(acks[3]["error"], "line 4: opportunity 1: (body): unknown field \"colour\"");
    assert!(acks[4]["error"].as_str().unwrap().starts_with("line 5: not JSON"), "{}", acks[4]);
    assert_eq!(String::from_utf8(result.stderr).unwrap(), "error: 3 line(s) were not applied\n");
    // The edits were made as the rep, through the CLI.
    let connection = rusqlite::Connection::open(&db).unwrap();
    let (actor, source): (i64, String) = connection
        .query_row("SELECT actor_id, source FROM opportunity_history WHERE field = 'stage_id' ORDER BY seq DESC LIMIT 1", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!((actor, source.as_str()), (org.rep.id.0, "cli"));
}

#[test]
fn serve_answers_health_checks() {
    let dir = TempDir::new("cli-serve");
    let db = dir.path().join("pipewise.db");
    let mut child = pipewise()
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let address = first_line.split("http://").nth(1).and_then(|rest| rest.split('/').next()).unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");
}

/// `serve --log-format json` writes one JSON object per request (its id, method, route
/// pattern, status and time), the reply carries the id back, and `/metrics` answers the metrics
/// token (only) with the request counts and latencies per route; a bad log level is refused.
#[test]
fn serve_logs_each_request_as_json_and_serves_metrics_with_the_token() {
    let dir = TempDir::new("cli-observe");
    let db = dir.path().join("pipewise.db");
    let mut child = pipewise()
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .args(["--addr", "127.0.0.1:0", "--log-format", "json"])
        .env("PIPEWISE_LOG", "info")
        .env("PIPEWISE_METRICS_TOKEN", "scrape-me")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let address = first_line.split("http://").nth(1).and_then(|rest| rest.split('/').next()).unwrap().to_owned();
    let get = |path: &str, extra: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let health = get("/healthz", "X-Request-Id: trace-me-42\r\n");
    assert!(health.to_ascii_lowercase().contains("x-request-id: trace-me-42"), "{health}");
    let missing = get("/opportunities/77", "X-Request-Id: <script>\r\n");
    let id =
        missing.lines().find_map(|line| line.to_ascii_lowercase().strip_prefix("x-request-id: ").map(str::to_owned)).expect("a request id");
    assert_eq!(id.len(), 16, "a bad id is replaced by a new one: {id}");
    let refused = get("/metrics", "");
    assert!(refused.starts_with("HTTP/1.1 403"), "without the token, not even from this machine: {refused}");
    let metrics = get("/metrics", "Authorization: Bearer scrape-me\r\n");
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    assert!(metrics.contains(r#"pipewise_http_requests_total{method="GET",route="/healthz",status="2xx"} 1"#), "{metrics}");
    assert!(
        metrics.contains(
            r#"pipewise_http_request_duration_seconds_bucket{method="GET",route="/opportunities/{id}",status="3xx",le="+Inf"} 1"#
        ),
        "a route is labelled by its pattern: {metrics}"
    );
    assert!(metrics.contains("# TYPE pipewise_projection_lag_events gauge"), "{metrics}");
    let wrong = get("/metrics", "Authorization: Bearer scrape-you\r\n");
    assert!(wrong.starts_with("HTTP/1.1 403"), "{wrong}");
    child.kill().unwrap();
    let finished = child.wait_with_output().unwrap();
    let log = String::from_utf8(finished.stderr).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().filter(|line| line.contains("\"request_id\"")).map(|line| serde_json::from_str(line).expect(line)).collect();
    let traced = lines.iter().find(|line| line["request_id"] == "trace-me-42").expect(&log);
    assert_eq!(
        (traced["method"].as_str(), traced["route"].as_str(), traced["status"].as_u64()),
        (Some("GET"), Some("/healthz"), Some(200))
    );
    assert!(traced["ms"].as_f64().is_some(), "{traced}");
    assert_eq!(traced["level"], "INFO");

    let (ok, _, stderr) = output(pipewise().arg("serve").arg("--db").arg(&db).args(["--addr", "127.0.0.1:0"]).env("PIPEWISE_LOG", "loud"));
    assert!(!ok);
    assert!(
        stderr.contains("PIPEWISE_LOG=\"loud\" is not a log level") && stderr.contains("hint: use off, error, warn, info, debug or trace"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_a_trusted_proxy_that_is_not_an_address_or_range() {
    let dir = TempDir::new("cli-trusted-proxy");
    let db = dir.path().join("pipewise.db");
    let hint = "hint: give each reverse proxy as an IP address (10.0.0.7, ::1) or a CIDR range (10.0.0.0/8, fd00::/8), with \
                --trusted-proxy (repeatable) or PIPEWISE_TRUSTED_PROXIES (comma-separated)\n";
    let (ok, stdout, stderr) = output(pipewise().arg("serve").arg("--db").arg(&db).args([
        "--addr",
        "127.0.0.1:0",
        "--trusted-proxy",
        "::1",
        "--trusted-proxy",
        "10.0.0.0/33",
    ]));
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "error: --trusted-proxy \"10.0.0.0/33\" is not an IP address or CIDR range: the prefix length \"33\" is not a number from 0 to 32\n{hint}"
        )
    );
    // The variable is a comma-separated list, checked the same way.
    let (ok, _, stderr) = output(
        pipewise()
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .args(["--addr", "127.0.0.1:0"])
            .env("PIPEWISE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
    );
    assert!(!ok);
    assert!(stderr.starts_with("error: --trusted-proxy \"proxy.internal\" is not an IP address or CIDR range"), "{stderr}");
    assert!(!db.exists(), "nothing starts before the settings are checked");
}

#[test]
fn init_creates_an_organisation_its_admin_and_pipelines_and_password_lets_them_in_again() {
    use pipewise_store::Store;
    let dir = TempDir::new("cli-init");
    let db = dir.path().join("pipewise.db");
    let init = |name: &str| {
        pipewise()
            .arg("init")
            .arg("--db")
            .arg(&db)
            .args([
                "--organisation",
                name,
                "--currency",
                "krw",
                "--admin-email",
                "Boss@Acme.test",
                "--locale",
                "ko",
                "--time-zone",
                "Asia/Seoul",
            ])
            .env("PIPEWISE_ADMIN_PASSWORD", "correct horse battery")
            .output()
            .unwrap()
    };
    let created = init("Acme Korea");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let again = init("Acme Korea");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let store = pipewise_store_sqlite::SqliteStore::open(&db).unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    let organisation = tx.organisations().unwrap().pop().unwrap();
    assert_eq!((organisation.name.as_str(), organisation.reporting_currency.code()), ("Acme Korea", "KRW"));
    let admin = tx.user_by_email(organisation.id, "boss@acme.test").unwrap().unwrap();
    assert_eq!((admin.role, admin.time_zone.as_str()), (pipewise_core::user::Role::Admin, "Asia/Seoul"));
    let names: Vec<String> = tx.pipelines(organisation.id).unwrap().into_iter().map(|pipeline| pipeline.name).collect();
    assert_eq!(names, ["B2B (The Model)", "Simple"]);
    let hash = tx.password_hash(organisation.id, admin.id).unwrap().unwrap();
    assert!(pipewise_app::auth::verify_password("correct horse battery", &hash));
    drop(tx);

    let mut reset = pipewise()
        .arg("password")
        .arg("--db")
        .arg(&db)
        .args(["--email", "boss@acme.test"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    reset.stdin.take().unwrap().write_all(b"a brand new passphrase\n").unwrap();
    let reset = reset.wait_with_output().unwrap();
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    let hash = store.read().unwrap().password_hash(organisation.id, admin.id).unwrap().unwrap();
    assert!(pipewise_app::auth::verify_password("a brand new passphrase", &hash));
    let too_short = pipewise()
        .arg("password")
        .arg("--db")
        .arg(&db)
        .args(["--email", "boss@acme.test"])
        .env("PIPEWISE_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!too_short.status.success());
    assert!(String::from_utf8_lossy(&too_short.stderr).contains("at least 10 characters"));
}

/// Issue 14: a HubSpot export imported from the command line: a dry run names every bad line by
/// line, column and reason and writes nothing; the fixed file imports; a rep may not import.
#[test]
fn import_reports_bad_lines_then_imports_all_or_nothing() {
    let dir = TempDir::new("cli-import");
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Hub");
    let ops_email = "ops@hub.test";
    {
        use pipewise_store::Store;
        let store = pipewise_store_sqlite::SqliteStore::open(&db).unwrap();
        let mut tx = app::Tx::new(store.write().unwrap());
        let ops = pipewise_test_support::fixtures::new_user(ops_email, "Olga Ops", pipewise_core::user::Role::Ops, None);
        app::users::create_user(&mut tx, &org.ctx, ops).unwrap();
        tx.commit().unwrap();
    }
    let file = dir.path().join("deals.csv");
    let hubspot = |third: &str| {
        format!(
            "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Associated Company\n\
             101,Acme expansion,Prospecting,\"24,000\",2026-09-30,2026-01-15,Ravi Rep,Acme\n\
             102,Globex renewal,Prospecting,\"8,500.50\",10/15/2026,2/1/2026,rep@hub.test,Globex\n\
             {third}\n"
        )
    };
    std::fs::write(&file, hubspot("103,Initech pilot,Prospecting,lots,2026-13-01,2026-02-10,Nobody,Initech")).unwrap();
    let import = |extra: &[&str]| {
        output(pipewise().args(["import", "opportunities"]).arg(&file).arg("--db").arg(&db).args(["--as", ops_email]).args(extra))
    };
    let (ok, stdout, stderr) = import(&["--dry-run"]);
    assert!(!ok, "{stdout}");
    assert!(stdout.contains("headers look like hubspot"), "{stdout}");
    assert!(stdout.contains("3 problems (1 in amount, 1 in close_date, 1 in owner); nothing was written"), "{stdout}");
    assert!(stdout.contains("line 4, column \"Amount\" (amount): \"lots\" is not an amount"), "{stdout}");
    assert!(stdout.contains("line 4, column \"Deal owner\" (owner): no active user has the e-mail address or name Nobody"), "{stdout}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    std::fs::write(&file, hubspot("103,Initech pilot,Prospecting,\"$3,000\",2026-11-01,2026-02-10,Ravi Rep,Initech")).unwrap();
    let (ok, stdout, _) = import(&["--dry-run"]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("3 rows would import") && stdout.contains("3 created") && stdout.contains("3 new accounts"), "{stdout}");
    let (ok, stdout, stderr) =
        output(pipewise().args(["import", "opportunities"]).arg(&file).arg("--db").arg(&db).args(["--as", "rep@hub.test"]));
    assert!(!ok && stderr.contains("not allowed: only ops or an admin imports files"), "{stdout} {stderr}");
    let (ok, stdout, _) = import(&["--json"]);
    assert!(ok, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (report["committed"].as_bool(), report["created"].as_u64(), report["vendor"].as_str()),
        (Some(true), Some(3), Some("hubspot"))
    );
    let (ok, stdout, _) = import(&["--json"]);
    assert!(ok, "{stdout}");
    let again: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)), "a re-import duplicates nothing");

    // The whole organisation out again: one file per kind; ops may not.
    let out = dir.path().join("export");
    let (ok, _, stderr) = output(pipewise().arg("export").arg("--dir").arg(&out).arg("--db").arg(&db).args(["--as", ops_email]));
    assert!(!ok && stderr.contains("not allowed: only an admin exports the whole organisation"), "{stderr}");
    let (ok, stdout, stderr) = output(pipewise().arg("export").arg("--dir").arg(&out).arg("--db").arg(&db));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("opportunities.csv: 3 rows"), "{stdout}");
    let exported = std::fs::read_to_string(out.join("opportunities.csv")).unwrap();
    assert!(exported.contains(",Acme expansion,rep@hub.test,Acme,"), "{exported}");
    for kind in ["users", "accounts", "contacts", "history", "activities"] {
        assert!(out.join(format!("{kind}.csv")).exists(), "{kind}");
    }
}

#[test]
fn capture_logs_mail_and_meetings_once_and_names_what_it_refuses() {
    let dir = TempDir::new("cli-capture");
    let db = dir.path().join("pipewise.db");
    database_with_org(&db, "Mailhub");
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    std::fs::write(
        mail.join("question.eml"),
        "From: Buyer <buyer@sales.mailhub-customer.com>\r\nTo: rep@mailhub.test\r\nDate: Mon, 30 Nov 2026 10:00:00 +0900\r\n\
         Message-ID: <q1@mailhub-customer.com>\r\nSubject: =?UTF-8?B?6rCA6rKpIOusuOydmA==?=\r\n\r\nCould you send the price list?\r\n",
    )
    .unwrap();
    std::fs::write(
        mail.join("sent.mbox"),
        "From rep@mailhub.test Tue Dec  1 09:00:00 2026\nFrom: rep@mailhub.test\nTo: buyer@mailhub-customer.com\n\
         Date: Tue, 1 Dec 2026 09:00:00 +0900\nSubject: Re: price\n\nAttached.\n\n\
         From rep@mailhub.test Tue Dec  1 10:00:00 2026\nFrom: rep@mailhub.test\nTo: buyer@mailhub-customer.com\nSubject: undated\n\nx\n",
    )
    .unwrap();
    std::fs::write(
        mail.join("demo.ics"),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:demo-1@mailhub.test\r\nDTSTART:20261203T020000Z\r\nDTEND:20261203T030000Z\r\n\
         SUMMARY:Product demo\r\nORGANIZER:mailto:rep@mailhub.test\r\nATTENDEE;CN=Buyer:mailto:buyer@mailhub-customer.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let capture =
        |extra: &[&str]| output(pipewise().arg("capture").arg(&mail).arg("--db").arg(&db).args(["--as", "rep@mailhub.test"]).args(extra));
    let (ok, stdout, stderr) = capture(&["--dry-run"]);
    assert!(ok, "{stdout} {stderr}");
    assert!(stdout.contains("3 files, 4 messages and events read"), "{stdout}");
    assert!(
        stdout.contains("would log 2 e-mails and 1 meeting (0 with contacts, 3 with an account, 0 on a deal); 0 duplicates; 1 refused"),
        "{stdout}"
    );
    assert!(stdout.contains("sent.mbox #2 (line 10): neither the Date header nor any Received line gives a date"), "{stdout}");
    assert!(stdout.contains("dry run: nothing was written"), "{stdout}");

    let (ok, stdout, _) = capture(&["--json"]);
    assert!(ok, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((report["committed"].as_bool(), report["emails"].as_u64(), report["meetings"].as_u64()), (Some(true), Some(2), Some(1)));
    let (ok, stdout, _) = capture(&["--json"]);
    assert!(ok, "{stdout}");
    let again: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((again["emails"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)), "the same files again log nothing");
}

/// The drop box with a real SMTP client (Python's smtplib): a rep's forward is logged as the
/// customer's message on the deal, the command on top of it moves the deal, a stranger and an
/// oversized message are refused.
#[test]
fn the_drop_box_takes_a_rep_s_forward_from_a_real_smtp_client() {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "python3 (for smtplib) is missing under CI");
        eprintln!("SKIPPED: python3 is missing, so the drop box test has no SMTP client");
        return;
    }
    let dir = TempDir::new("cli-smtp");
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Mailhub");
    let deal = {
        use pipewise_store::Store;
        let store = pipewise_store_sqlite::SqliteStore::open(&db).unwrap();
        let mut tx = app::Tx::new(store.write().unwrap());
        let deal = app::deals::create_opportunity(&mut tx, &org.ctx, &org.new_deal("Mailhub renewal")).unwrap();
        tx.commit().unwrap();
        deal
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = pipewise()
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .args(["--addr", "127.0.0.1:0", "--smtp", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("drop box is listening") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the server ended before listening for mail");
    }
    let script = r#"
import smtplib, sys
from email.message import EmailMessage
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
m = EmailMessage()
m['From'] = 'Ravi Rep <rep@mailhub.test>'
m['To'] = 'capture@pipewise'
m['Subject'] = 'Fwd: Pricing'
m['Date'] = 'Tue, 01 Dec 2026 09:00:00 +0900'
m.set_content('next step: send the quote\n\n---------- Forwarded message ---------\nFrom: Buyer <buyer@mailhub-customer.com>\nDate: Mon, 30 Nov 2026 10:00:00 +0900\nSubject: Pricing\nTo: rep@mailhub.test\n\nCould you send the price list?\n')
print('forward', s.send_message(m, from_addr='rep@mailhub.test', to_addrs=['capture@pipewise']))
try:
    s.send_message(m, from_addr='stranger@else.test', to_addrs=['capture@pipewise'])
    print('stranger accepted')
except smtplib.SMTPSenderRefused as e:
    print('stranger refused', e.smtp_code)
big = EmailMessage()
big['From'] = 'rep@mailhub.test'
big['Subject'] = 'big'
big.set_content('x' * (26 * 1024 * 1024))
try:
    s.send_message(big, from_addr='rep@mailhub.test', to_addrs=['capture@pipewise'])
    print('big accepted')
except smtplib.SMTPSenderRefused as e:
    print('big refused', e.smtp_code)
s.quit()
"#;
    let output = std::process::Command::new("python3").args(["-c", script, &port.to_string()]).output().unwrap();
    let _ = child.kill();
    child.wait().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("forward {}"), "{said}");
    assert!(said.contains("stranger refused 550"), "{said}");
    assert!(said.contains("big refused 552"), "{said}");

    use pipewise_store::Store;
    let store = pipewise_store_sqlite::SqliteStore::open(&db).unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    let activities = tx.activities(org.org(), &app::ActivityFilter::default()).unwrap();
    assert_eq!(activities.len(), 1);
    let logged = &activities[0];
    assert_eq!((logged.subject.as_str(), logged.source.as_str()), ("Pricing", "smtp"));
    assert_eq!(logged.direction, pipewise_core::records::Direction::Inbound, "the customer's message, not the rep's forward");
    assert_eq!((logged.opportunity_id, logged.user_id), (Some(deal.id), Some(org.rep.id)));
    let after = tx.opportunity(org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(after.next_step.as_deref(), Some("send the quote"), "the rep's command on the forward");
}
