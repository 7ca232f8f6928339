//! The daily digest through a real local SMTP server (aiosmtpd from PyPI, with a login): each
//! manager gets the at-risk deals of their tree in their language, once a day; the server's
//! temporary refusal is retried on the next pass; a wrong login is said. Python's `email`
//! module reads what was sent, so the headers' and body's encoding is checked by another
//! implementation.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use pipewise_app as app;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::TempDir;
use pipewise_test_support::fixtures::new_user;

use crate::{database_with_org, pipewise};

/// Accepts mail for a login of digest / s3cret, answering the first `fail` messages with a
/// temporary refusal, and appends each accepted one, decoded, to the log as a JSON line.
const SERVER: &str = r#"
import json, sys, time
from email import message_from_bytes, policy
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
port, log, fail = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
seen = [0]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        seen[0] += 1
        if seen[0] <= fail:
            return '451 4.3.0 try again later'
        message = message_from_bytes(envelope.content, policy=policy.default)
        with open(log, 'a') as out:
            out.write(json.dumps({'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'to_header': str(message['to']),
                                  'subject': str(message['subject']), 'body': message.get_body(('plain',)).get_content(),
                                  'authenticated': bool(session.authenticated)}, ensure_ascii=False) + '\n')
        return '250 OK'
def login(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b'digest' and data.password == b's3cret'
    return AuthResult(success=ok, handled=False)
import warnings
warnings.simplefilter('ignore')
controller = Controller(Handler(), hostname='127.0.0.1', port=port, authenticator=login, auth_required=True, auth_require_tls=False)
controller.start()
print('ready', flush=True)
while True:
    time.sleep(3600)
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Python that has aiosmtpd (`PIPEWISE_TEST_PYTHON`, set by CI, else python3); `None`
/// (loudly) when there is none, which fails under CI.
fn python() -> Option<String> {
    let python = std::env::var("PIPEWISE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python).args(["-c", "import aiosmtpd"]).output().is_ok_and(|output| output.status.success());
    if !has {
        assert!(std::env::var_os("CI").is_none(), "aiosmtpd (PyPI) is missing under CI: .ci/run installs it in target/ci-venv");
        eprintln!("SKIPPED: no Python with aiosmtpd (set PIPEWISE_TEST_PYTHON); the digest test needs a local SMTP server");
        return None;
    }
    Some(python)
}

#[test]
fn each_manager_gets_their_team_s_at_risk_deals_once_a_day_in_their_language() {
    let Some(python) = python() else { return };
    let dir = TempDir::new("cli-digest");
    let db = dir.path().join("pipewise.db");
    let log = dir.path().join("mail.jsonl");
    let org = database_with_org(&db, "Digests");
    // Mina (English) manages Ravi; 김팀장 (Korean) manages 이영업. Each rep has a deal whose
    // close date has passed, and one that is fine.
    let (korean_deal, english_deal) = {
        use pipewise_store::Store;
        let store = pipewise_store_sqlite::SqliteStore::open(&db).unwrap();
        let mut tx = app::Tx::new(store.write().unwrap());
        let mut boss = new_user("boss@digests.test", "김팀장", Role::Manager, None);
        boss.locale = Locale::Ko;
        let boss = app::users::create_user(&mut tx, &org.ctx, boss).unwrap();
        let seller =
            app::users::create_user(&mut tx, &org.ctx, new_user("seller@digests.test", "이영업", Role::Rep, Some(boss.id))).unwrap();
        let mut deal = |name: &str, owner, close: &str| {
            let mut new = org.new_deal(name);
            new.owner_id = owner;
            new.close_date = Some(close.parse().unwrap());
            new.amount = Some("USD 12000".parse().unwrap());
            let today = app::WriteCtx { at: pipewise_core::Timestamp::from_jiff(jiff::Timestamp::now()), ..org.ctx };
            app::deals::create_opportunity(&mut tx, &today, &new).unwrap()
        };
        let late = deal("Hanbit renewal", org.rep.id, "2026-01-15");
        deal("Fine deal", org.rep.id, "2099-01-15");
        let korean = deal("서울 확장", seller.id, "2026-02-01");
        tx.commit().unwrap();
        (korean, late)
    };

    // A dry run prints both, sends and records nothing.
    let output = pipewise().args(["digest", "--now", "--dry-run", "--db"]).arg(&db).output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("To: Mina Manager <manager@digests.test>") && printed.contains("Hanbit renewal"), "{printed}");
    assert!(!printed.contains("Fine deal"), "only deals at risk: {printed}");
    assert!(printed.contains("To: 김팀장 <boss@digests.test>") && printed.contains("서울 확장"), "{printed}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(&python)
        .args(["-c", SERVER, &port.to_string()])
        .arg(&log)
        .arg("1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    let _server = Server(child);
    assert_eq!(ready.trim(), "ready");
    let send = |login: &str| {
        let output = pipewise()
            .args(["digest", "--now", "--db"])
            .arg(&db)
            .env("PIPEWISE_SMTP", format!("smtp://{login}@127.0.0.1:{port}"))
            .env("PIPEWISE_MAIL_FROM", "pipewise@digests.test")
            .env("PIPEWISE_PUBLIC_URL", "https://pipewise.digests.test/")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{text}{}", String::from_utf8_lossy(&output.stderr));
        text
    };

    // A wrong login is said and recorded as a failure; the right one sends, the server refusing
    // the first message once (it is tried again on the next pass).
    let said = send("digest:wrong");
    assert!(said.contains("failed (attempt 1 of 5): login refused"), "{said}");
    let said = send("digest:s3cret");
    assert!(said.contains("failed (attempt 2 of 5): the message: the server answered 451 4.3.0 try again later"), "{said}");
    assert!(said.contains("sent (1 deals at risk)"), "{said}");
    let said = send("digest:s3cret");
    assert!(said.contains("sent (1 deals at risk)") && !said.contains("failed"), "{said}");
    assert_eq!(send("digest:s3cret"), "", "once a day");

    let mail: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(mail.len(), 2, "{mail:?}");
    let to = |address: &str| mail.iter().find(|message| message["to"][0] == address).unwrap_or_else(|| panic!("{address}: {mail:?}"));
    let english = to("manager@digests.test");
    assert_eq!((english["from"].as_str(), english["authenticated"].as_bool()), (Some("pipewise@digests.test"), Some(true)));
    assert!(english["subject"].as_str().unwrap().starts_with("Deals needing something today: 1 ("), "{english}");
    let body = english["body"].as_str().unwrap().replace("\r\n", "\n");
    assert!(body.starts_with("Hello Mina Manager,\n"), "{body}");
    assert!(body.contains("Ravi Rep: 1\n  • Hanbit renewal · "), "{body}");
    assert!(body.contains(&format!("https://pipewise.digests.test/opportunities/{}\n", english_deal.id.0)), "{body}");
    assert!(!body.contains("서울"), "a manager sees their own tree only: {body}");
    let korean = to("boss@digests.test");
    assert_eq!(korean["to_header"], "김팀장 <boss@digests.test>");
    assert!(korean["subject"].as_str().unwrap().starts_with("오늘 손봐야 할 딜: 1건("), "{korean}");
    let body = korean["body"].as_str().unwrap().replace("\r\n", "\n");
    assert!(body.starts_with("김팀장님, 안녕하세요.\n") && body.contains("이영업: 1건\n  • 서울 확장"), "{body}");
    assert!(body.contains(&format!("/opportunities/{}", korean_deal.id.0)) && !body.contains("Hanbit"), "{body}");
}
