//! Mailbox sync against a real Dovecot started by the test (../shared/MACHINE.md): the first
//! sync logs what the mailbox holds, the next only what arrived since (by UID), a UIDVALIDITY
//! change reads the folder again without logging anything twice, and a refused login is
//! recorded on the mailbox with its reason. Then over TLS, from the first byte and by STARTTLS,
//! with a certificate from a test authority that is refused until `PIPEWISE_TLS_CA` names it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use pipewise_app as app;
use pipewise_test_support::TempDir;

use crate::{database_with_org, pipewise};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct Dovecot {
    child: Child,
    /// Plain IMAP (STARTTLS offered when TLS is set up).
    port: u16,
    /// IMAP over TLS from the first byte, when TLS is set up.
    tls_port: u16,
    mail: PathBuf,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dovecot on a free loopback port with one user, rep@mailhub.test / secret; `None` (loudly)
/// when it is not installed, which fails under CI.
fn dovecot(dir: &Path) -> Option<Dovecot> {
    dovecot_with(dir, None)
}

/// Dovecot as [`dovecot`]; with `tls` (a certificate and key file), TLS on both listeners and
/// no password accepted without it.
fn dovecot_with(dir: &Path, tls: Option<(&Path, &Path)>) -> Option<Dovecot> {
    let binary = ["/usr/sbin/dovecot", "/usr/bin/dovecot"].into_iter().find(|path| Path::new(path).exists());
    let Some(binary) = binary else {
        assert!(std::env::var_os("CI").is_none(), "dovecot is missing under CI (.ci/run installs dovecot-imapd)");
        eprintln!("SKIPPED: dovecot is not installed; the IMAP sync test needs it");
        return None;
    };
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, tls_port) = (free(), if tls.is_some() { free() } else { 0 });
    let ssl = match tls {
        Some((certificate, key)) => {
            format!("ssl = required\nssl_cert = <{}\nssl_key = <{}\ndisable_plaintext_auth = yes\n", certificate.display(), key.display())
        }
        None => "ssl = no\ndisable_plaintext_auth = no\n".to_owned(),
    };
    let root = dir.join("dovecot");
    let mail = root.join("mail");
    for sub in [&root, &mail, &root.join("run")] {
        std::fs::create_dir_all(sub).unwrap();
    }
    set_mode(&mail, 0o1777);
    std::fs::write(root.join("users"), "rep@mailhub.test:{PLAIN}secret\n").unwrap();
    let d = root.display();
    let config = format!(
        "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/run\nlog_path = {d}/dovecot.log\n{ssl}\
         auth_mechanisms = plain login\nmail_location = maildir:{d}/mail/%u\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
         userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/mail/%u\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n"
    );
    let conf = root.join("dovecot.conf");
    std::fs::write(&conf, config).unwrap();
    let child = Command::new(binary).args(["-F", "-c"]).arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Owned at once, so that it is stopped (and waited for) however the test ends.
    let dovecot = Dovecot { child, port, tls_port, mail: mail.join("rep@mailhub.test") };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(dovecot);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("dovecot did not listen: {}", std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Delivers a message into the user's Maildir (it becomes the next UID).
fn deliver(dovecot: &Dovecot, name: &str, subject: &str, day: u32) {
    for sub in ["", "new", "cur", "tmp"] {
        let path = dovecot.mail.join(sub);
        if !path.exists() {
            std::fs::create_dir_all(&path).unwrap();
            set_mode(&path, 0o1777);
        }
    }
    let text = format!(
        "From: Buyer <buyer@mailhub-customer.com>\r\nTo: rep@mailhub.test\r\nDate: Mon, {day} Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{name}@mailhub-customer.com>\r\nSubject: {subject}\r\n\r\nAbout the renewal.\r\n"
    );
    let path = dovecot.mail.join("new").join(format!("{name}.test:2,"));
    std::fs::write(&path, text).unwrap();
    set_mode(&path, 0o666);
}

fn run(command: &mut Command, stdin: Option<&str>) -> (bool, String) {
    command.env("PIPEWISE_SECRET_KEY", KEY).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

fn subjects(db: &Path, org: pipewise_core::OrgId) -> Vec<String> {
    use pipewise_store::Store;
    let store = pipewise_store_sqlite::SqliteStore::open(db).unwrap();
    let mut tx = app::Tx::new(store.read().unwrap());
    let mut subjects: Vec<String> =
        tx.activities(org, &app::ActivityFilter::default()).unwrap().into_iter().map(|activity| activity.subject).collect();
    subjects.sort();
    subjects
}

#[test]
fn a_mailbox_syncs_incrementally_from_a_real_dovecot() {
    let dir = TempDir::new("cli-imap");
    let Some(dovecot) = dovecot(dir.path()) else { return };
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Mailhub");
    deliver(&dovecot, "one", "Renewal terms", 2);
    deliver(&dovecot, "two", "Renewal price", 3);

    let connect = |password: &str| {
        run(
            pipewise()
                .args(["mailbox", "connect", "--as", "rep@mailhub.test", "--host", "127.0.0.1", "--user", "rep@mailhub.test"])
                .args(["--port", &dovecot.port.to_string(), "--db", db.to_str().unwrap()]),
            Some(&format!("{password}\n")),
        )
    };
    let sync = || run(pipewise().args(["mailbox", "sync", "--db", db.to_str().unwrap()]), None);
    let (ok, said) = connect("secret");
    assert!(ok && said.contains("connected"), "{said}");
    let (ok, said) = sync();
    assert!(ok && said.contains(": 2 new, 0 already logged"), "{said}");
    assert_eq!(subjects(&db, org.org()), ["Renewal price", "Renewal terms"]);

    deliver(&dovecot, "three", "Signed order", 4);
    let (_, said) = sync();
    assert!(said.contains(": 1 new, 0 already logged"), "only what arrived since the last UID: {said}");
    // A message with no sender cannot be read: kept in quarantine with its reason.
    let broken = dovecot.mail.join("new").join("broken.test:2,");
    std::fs::write(&broken, "To: rep@mailhub.test\r\nSubject: no sender\r\nDate: Mon, 5 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n").unwrap();
    set_mode(&broken, 0o666);
    let (_, said) = sync();
    assert!(said.contains(": 0 new, 0 already logged, 1 refused"), "{said}");
    let (_, listed) = run(pipewise().args(["mailbox", "list", "--db", db.to_str().unwrap()]), None);
    assert!(listed.contains("quarantined: 127.0.0.1/INBOX UID 4: neither From nor Sender holds an e-mail address"), "{listed}");
    let (_, said) = sync();
    assert!(said.contains(": 0 new, 0 already logged"), "{said}");

    // A new UIDVALIDITY (the folder rebuilt): read again from the start, nothing logged twice.
    // Dovecot takes a new UIDVALIDITY from the clock in seconds, so let one pass first.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    for entry in std::fs::read_dir(&dovecot.mail).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("dovecot") && entry.path().is_file() {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let (_, said) = sync();
    assert!(said.contains(": 0 new, 3 already logged, 1 refused") && said.contains("UIDVALIDITY changed"), "{said}");
    assert_eq!(subjects(&db, org.org()).len(), 3);
    let (_, listed) = run(pipewise().args(["mailbox", "list", "--db", db.to_str().unwrap()]), None);
    assert!(listed.contains("synced") && listed.contains("up to UID 4"), "{listed}");

    // The password changed on the server: the attempt fails, says why, and is recorded.
    let (ok, said) = connect("wrong");
    assert!(ok, "{said}");
    let (_, said) = sync();
    assert!(said.contains("failed: login refused"), "{said}");
    let (_, listed) = run(pipewise().args(["mailbox", "list", "--db", db.to_str().unwrap()]), None);
    assert!(listed.contains("failing (1 in a row): login refused"), "{listed}");
    let log = BufReader::new(std::fs::File::open(dir.path().join("dovecot/dovecot.log")).unwrap());
    assert!(log.lines().map_while(Result::ok).any(|line| line.contains("Login: user=<rep@mailhub.test>")), "Dovecot saw the logins");
}

/// A test certificate authority and a certificate it signed for 127.0.0.1, made with the
/// openssl command: `(authority, certificate, key)`.
fn test_authority(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs (it comes with dovecot)");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Pipewise Test CA"]].concat(),
    );
    openssl(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[test]
fn a_mailbox_syncs_over_tls_with_the_certificate_checked() {
    let dir = TempDir::new("cli-imaps");
    let (authority, certificate, key) = test_authority(dir.path());
    let Some(dovecot) = dovecot_with(dir.path(), Some((&certificate, &key))) else { return };
    let db = dir.path().join("pipewise.db");
    let org = database_with_org(&db, "Mailhub");
    deliver(&dovecot, "one", "Renewal terms", 2);
    let connect = |port: u16, security: &str| {
        run(
            pipewise()
                .args(["mailbox", "connect", "--as", "rep@mailhub.test", "--host", "127.0.0.1", "--user", "rep@mailhub.test"])
                .args(["--port", &port.to_string(), "--security", security, "--db", db.to_str().unwrap()]),
            Some("secret\n"),
        )
    };
    let sync = |trusted: bool| {
        let mut command = pipewise();
        command.args(["mailbox", "sync", "--db", db.to_str().unwrap()]);
        if trusted {
            command.env("PIPEWISE_TLS_CA", &authority);
        }
        run(&mut command, None)
    };

    // TLS from the first byte: a certificate from an authority nobody trusts is refused.
    let (ok, said) = connect(dovecot.tls_port, "tls");
    assert!(ok, "{said}");
    let (_, said) = sync(false);
    assert!(said.contains("failed: TLS: the server's certificate is not trusted (UnknownIssuer)"), "{said}");
    assert!(subjects(&db, org.org()).is_empty());
    let (_, said) = sync(true);
    assert!(said.contains(": 1 new, 0 already logged"), "{said}");

    // STARTTLS on the plain port (where Dovecot refuses a password in the clear).
    let (ok, said) = connect(dovecot.port, "starttls");
    assert!(ok, "{said}");
    deliver(&dovecot, "two", "Renewal price", 3);
    let (_, said) = sync(true);
    assert!(said.contains(": 1 new, 1 already logged"), "{said}");
    assert_eq!(subjects(&db, org.org()), ["Renewal price", "Renewal terms"]);

    let log = std::fs::read_to_string(dir.path().join("dovecot/dovecot.log")).unwrap();
    let logins: Vec<&str> = log.lines().filter(|line| line.contains("Login: user=<rep@mailhub.test>")).collect();
    assert_eq!(logins.len(), 2, "{log}");
    assert!(logins.iter().all(|line| line.contains(", TLS")), "every login over TLS: {logins:?}");
}
