//! Capture on both engines: real mailing-list mail (patchew's qemu-devel threads, mbox files
//! with and without `From ` lines) logged on the account its company domain names and on that
//! account's open deal, each message once however many files hold it; Korean mail decoded;
//! every message or event not logged named with its file and reason; viewers refused.

use std::path::PathBuf;

use pipewise_app as app;
use pipewise_app::capture::{CaptureFile, CaptureOptions, CaptureReport};
use pipewise_app::{ActivityFilter, AuditFilter, StoreError, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::records::{ActivityKind, Direction, NewAccount, NewContact};
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(path)
}

/// The files of a folder of the shared corpus (licences left out), sorted.
fn folder(path: &str) -> Vec<CaptureFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(shared(path)).unwrap().flatten().map(|entry| entry.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with("LICENSE"))
        .map(|path| CaptureFile { name: path.file_name().unwrap().to_string_lossy().into_owned(), bytes: std::fs::read(&path).unwrap() })
        .collect()
}

fn file(path: &str) -> CaptureFile {
    CaptureFile { name: path.to_owned(), bytes: std::fs::read(shared(path)).unwrap() }
}

fn capture(db: &TestDb, ctx: &WriteCtx, files: &[CaptureFile], options: &CaptureOptions) -> app::Result<CaptureReport> {
    app::capture::capture(&db.db(), ctx, files, options)
}

fn activities(db: &TestDb, org: OrgId) -> Vec<pipewise_core::records::Activity> {
    pipewise_test_support::transact(db.store(), |tx| tx.activities(org, &ActivityFilter::default())).unwrap()
}

/// Red Hat as an account (by its domain), Paolo Bonzini as its contact, and an open deal of the
/// rep's on it.
fn red_hat(db: &TestDb, org: &TestOrg) -> (AccountId, ContactId, OpportunityId) {
    pipewise_test_support::transact(db.store(), |tx| {
        let account = app::records::create_account(
            tx,
            &org.ctx,
            NewAccount {
                name: "Red Hat".into(),
                domains: vec!["redhat.com".into()],
                industry: None,
                employee_count: None,
                region: None,
                owner_id: Some(org.rep.id),
            },
        )?;
        let contact = app::records::create_contact(
            tx,
            &org.ctx,
            NewContact {
                name: "Paolo Bonzini".into(),
                emails: vec!["PBonzini@redhat.com".into()],
                phone: None,
                title: None,
                account_id: Some(account.id),
            },
        )?;
        let deal = app::deals::create_opportunity(
            tx,
            &org.ctx,
            &pipewise_core::opportunity::NewOpportunity { account_id: Some(account.id), ..org.new_deal("Red Hat renewal") },
        )?;
        Ok((account.id, contact.id, deal.id))
    })
    .unwrap()
}

pub fn mailing_list_mail_lands_on_its_account_and_deal_once(db: &TestDb) {
    let org = test_org(db.store(), "Capture");
    let (account, contact, deal) = red_hat(db, &org);
    let ctx = org.by_rep(at("2026-12-07T09:00:00Z"));
    let files = folder("email/patchew_mbox");
    assert_eq!(files.len(), 34);

    let dry = capture(db, &ctx, &files, &CaptureOptions { dry_run: true, ..CaptureOptions::default() }).unwrap();
    assert!(!dry.committed);
    assert!(activities(db, org.org()).is_empty(), "a dry run writes nothing");

    let report = capture(db, &ctx, &files, &CaptureOptions::default()).unwrap();
    assert!(report.committed);
    // Python's mailbox and email modules count 51 messages in the 34 files, 45 of them with a
    // redhat.com address on From, To or Cc: 38 distinct by Message-ID, sender, date, subject and
    // body (patchew's fixtures reuse 3 Message-IDs for other versions of a patch, which are other
    // messages), 32 distinct Message-IDs; 9 name pbonzini@redhat.com.
    assert_eq!(report.items, 51);
    assert_eq!((report.emails, report.duplicates), (38, 7), "{report:#?}");
    assert_eq!((report.with_account, report.with_deal, report.with_contacts), (38, 38, 9));
    assert_eq!(report.refused_count, 51 - 45, "the six without a Red Hat address: {:#?}", report.refused);
    for refusal in &report.refused {
        assert!(refusal.file.ends_with(".mbox"));
        assert_eq!(refusal.reason.key, "capture.unmatched", "{refusal:?}");
    }

    let logged = activities(db, org.org());
    assert_eq!(logged.len(), 38);
    for activity in &logged {
        assert_eq!((activity.kind, activity.account_id, activity.opportunity_id), (ActivityKind::Email, Some(account), Some(deal)));
        assert_eq!(activity.direction, Direction::Inbound, "nobody at capture.test wrote to qemu-devel");
        assert_eq!(activity.user_id, Some(org.rep.id), "inbound mail without a colleague on it is the capturer's");
        assert!(["mbox", "eml"].contains(&activity.source.as_str()));
    }
    assert_eq!(logged.iter().filter(|activity| activity.contact_ids == [contact]).count(), 9);
    // Each file's activities are written in batches, each audited once with its file and ids.
    let audit = pipewise_test_support::transact(db.store(), |tx| {
        tx.audit_events(org.org(), &AuditFilter { record_kind: Some("activity".into()), limit: 100, ..AuditFilter::default() })
    })
    .unwrap();
    let audited: i64 = audit
        .iter()
        .filter(|event| event.action == "capture" && event.actor_id == Some(org.rep.id))
        .map(|event| serde_json::from_str::<serde_json::Value>(event.after.as_deref().unwrap()).unwrap()["activities"].as_i64().unwrap())
        .sum();
    assert_eq!(audited, 38);

    let again = capture(db, &ctx, &files, &CaptureOptions::default()).unwrap();
    assert_eq!((again.emails, again.duplicates), (0, 45), "a second capture of the same files logs nothing new");
    assert_eq!(activities(db, org.org()).len(), 38);
}

pub fn korean_mail_and_meetings_are_read_and_refusals_say_why(db: &TestDb) {
    let org = test_org(db.store(), "Capture Korean");
    let ctx = org.by_rep(at("2026-12-07T09:00:00Z"));
    let files = [
        file("email/php_imap/ks_c_5601-1987_headers.eml"),
        file("email/imap_tools/plain_emails/raw_email.eml"),
        file("calendar/ical_rs/o365_meeting.ics"),
        file("email/php_imap/missing_from.eml"),
        file("calendar/icalendar/todos/example.ics"),
    ];
    let unmatched = capture(db, &ctx, &files, &CaptureOptions { dry_run: true, ..CaptureOptions::default() }).unwrap();
    assert_eq!((unmatched.emails, unmatched.meetings), (0, 0), "nothing matches a contact or an account: {unmatched:#?}");

    let report = capture(db, &ctx, &files, &CaptureOptions { keep_unmatched: true, ..CaptureOptions::default() }).unwrap();
    assert_eq!((report.emails, report.meetings), (2, 1), "{report:#?}");
    let reasons: Vec<(&str, &str)> = report.refused.iter().map(|refusal| (refusal.file.as_str(), refusal.reason.key.as_str())).collect();
    assert_eq!(reasons[0], ("email/php_imap/missing_from.eml", "capture.no_sender"));
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let hangul = |text: &str| text.chars().any(|c| ('가'..='힣').contains(&c));
    let logged = activities(db, org.org());
    assert_eq!(
        logged.iter().filter(|activity| hangul(&activity.subject)).count(),
        2,
        "{:?}",
        logged.iter().map(|a| &a.subject).collect::<Vec<_>>()
    );
    let meeting = logged.iter().find(|activity| activity.kind == ActivityKind::Meeting).unwrap();
    assert_eq!(meeting.source, "ics");
}

pub fn viewers_cannot_capture(db: &TestDb) {
    let org = test_org(db.store(), "Capture Viewer");
    let viewer = pipewise_test_support::transact(db.store(), |tx| {
        app::users::create_user(tx, &org.ctx, new_user("viewer@capture-viewer.test", "Vera Viewer", Role::Viewer, None))
    })
    .unwrap();
    let ctx = WriteCtx { org: org.org(), actor_id: Some(viewer.id), source: Source::Import, at: at("2026-12-07T09:00:00Z") };
    let refused = capture(db, &ctx, &[file("email/php_imap/ks_c_5601-1987_headers.eml")], &CaptureOptions::default());
    assert!(matches!(refused, Err(StoreError::Refused(_) | StoreError::Forbidden(_))), "{refused:?}");
}

fn message(subject: &str, body: &str, day: u32) -> CaptureFile {
    let text = format!(
        "From: Buyer <buyer@capturesentiment-customer.com>\r\nTo: rep@capturesentiment.test\r\nDate: Mon, {day} Nov 2026 10:00:00 +0000\r\n\
         Subject: {subject}\r\n\r\n{body}\r\n"
    );
    CaptureFile { name: format!("{day}.eml"), bytes: text.into_bytes() }
}

pub fn a_rep_s_rating_retrains_the_vocabulary_and_negative_mail_warns(db: &TestDb) {
    let org = test_org(db.store(), "Capture Sentiment");
    let ctx = org.by_rep(at("2026-12-07T09:00:00Z"));
    let first = message("Timeline", "We have to postpone the rollout until the budget review.", 2);
    let report = capture(db, &ctx, &[first], &CaptureOptions::default()).unwrap();
    assert_eq!(report.emails, 1, "{report:#?}");
    let rated = activities(db, org.org())[0].id;
    let seed_score = |text: &str| pipewise_capture::sentiment::Vocabulary::seed().score(text).milli();

    // The rep reads it as bad news and says so.
    pipewise_test_support::transact(db.store(), |tx| app::capture::rate_activity(tx, &ctx, rated, -1)).unwrap();
    let second_text = "We have to postpone the pilot as well.";
    capture(db, &ctx, &[message("Pilot", second_text, 3)], &CaptureOptions::default()).unwrap();
    let second = activities(db, org.org()).into_iter().map(|activity| activity.id).max().unwrap();
    let scores =
        pipewise_test_support::transact(db.store(), |tx| app::capture::sentiments(tx, org.org(), &[rated, second], org.rep.id)).unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(scores[0].rating, Some(-1), "the reader sees their own rating");
    assert!(
        scores[1].score < seed_score(&format!("Pilot\n{second_text}")),
        "after the rating, \"postpone\" weighs more: {} against the seed's {}",
        scores[1].score,
        seed_score(&format!("Pilot\n{second_text}"))
    );

    // An angry reply is an early warning for the rep, not for another team.
    capture(
        db,
        &ctx,
        &[message("Very disappointed", "This is unacceptable. The delays are a serious problem and we are cancelling.", 4)],
        &CaptureOptions::default(),
    )
    .unwrap();
    let warnings = pipewise_test_support::transact(db.store(), |tx| {
        let access = app::access::access_for(tx, org.org(), Some(org.rep.id))?;
        app::capture::warnings(tx, org.org(), &access, at("2026-11-01T00:00:00Z"), 10)
    })
    .unwrap();
    assert_eq!(warnings.iter().map(|warning| warning.subject.as_str()).collect::<Vec<_>>(), ["Very disappointed"]);

    // The ladder's inputs: three captured inbound messages with bodies, one rating.
    let ladder = pipewise_test_support::transact(db.store(), |tx| {
        let access = app::access::access_for(tx, org.org(), Some(org.rep.id))?;
        app::capture::ladder(tx, org.org(), &access, at("2026-11-01T00:00:00Z"))
    })
    .unwrap();
    let mix = pipewise_capture::ladder::Mix { inbound: 3, outbound: 0, internal: 0, captured: 3, with_body: 3, ratings: 1 };
    assert_eq!(ladder, [(org.rep.id, mix)]);
    assert_eq!(mix.level(), pipewise_capture::ladder::Level::Baseline, "no outbound yet: the buyer's side alone");

    let viewer = pipewise_test_support::transact(db.store(), |tx| {
        app::users::create_user(tx, &org.ctx, new_user("viewer@capturesentiment.test", "Vera Viewer", Role::Viewer, None))
    })
    .unwrap();
    let stranger = pipewise_test_support::transact(db.store(), |tx| {
        app::users::create_user(tx, &org.ctx, new_user("other@capturesentiment.test", "Otto Other", Role::Rep, None))
    })
    .unwrap();
    let by_stranger = WriteCtx { actor_id: Some(stranger.id), ..ctx };
    let hidden = pipewise_test_support::transact(db.store(), |tx| app::capture::rate_activity(tx, &by_stranger, rated, -1));
    assert!(matches!(hidden, Err(StoreError::NotFound { .. })), "another rep's activity is as if it did not exist: {hidden:?}");
    let by_viewer = WriteCtx { actor_id: Some(viewer.id), ..ctx };
    let refused = pipewise_test_support::transact(db.store(), |tx| app::capture::rate_activity(tx, &by_viewer, rated, 1));
    assert!(matches!(refused, Err(StoreError::Forbidden(_) | StoreError::Refused(_))), "{refused:?}");
}

fn sent(from: &str, body: &str, day: u32) -> CaptureFile {
    let text = format!(
        "From: {from}\r\nTo: buyer@capturecommands-customer.com\r\nDate: Tue, {day} Dec 2026 10:00:00 +0000\r\nSubject: Quote\r\n\r\n{body}\r\n"
    );
    CaptureFile { name: format!("sent-{day}.eml"), bytes: text.into_bytes() }
}

pub fn commands_in_the_rep_s_own_mail_update_the_deal_and_bad_ones_change_nothing(db: &TestDb) {
    let org = test_org(db.store(), "Capture Commands");
    let deal =
        pipewise_test_support::transact(db.store(), |tx| app::deals::create_opportunity(tx, &org.ctx, &org.new_deal("Commands deal")))
            .unwrap();
    let ctx = org.by_rep(at("2026-12-07T09:00:00Z"));
    let deal_now = || pipewise_test_support::transact(db.store(), |tx| tx.opportunity(org.org(), deal.id, false)).unwrap().unwrap();

    let good =
        sent("rep@capturecommands.test", "Next step: send the revised quote\n마감일: 2026-12-20\n\nHi, the revised quote follows.", 1);
    let report = capture(db, &ctx, &[good], &CaptureOptions::default()).unwrap();
    assert_eq!((report.emails, report.commands_applied), (1, 2), "{report:#?}");
    let updated = deal_now();
    assert_eq!(updated.next_step.as_deref(), Some("send the revised quote"));
    assert_eq!(updated.close_date, Some("2026-12-20".parse().unwrap()));

    // A bad line, or a stage the pipeline lacks: the message is logged, nothing changes.
    let bad = sent("rep@capturecommands.test", "next step: call the CFO\nclose date: next friday\n\nHi.", 2);
    let report = capture(db, &ctx, &[bad], &CaptureOptions::default()).unwrap();
    assert_eq!((report.emails, report.commands_applied), (1, 0));
    assert_eq!(report.command_errors.len(), 1);
    assert_eq!((report.command_errors[0].line, report.command_errors[0].reason.key.as_str()), (2, "capture.command_line"));
    let nowhere = sent("rep@capturecommands.test", "stage: Nowhere\nnext step: call the CFO\n\nHi.", 3);
    let report = capture(db, &ctx, &[nowhere], &CaptureOptions::default()).unwrap();
    assert_eq!(report.command_errors[0].reason.key, "capture.command_no_stage");
    assert_eq!(deal_now().next_step.as_deref(), Some("send the revised quote"), "a message's commands apply whole or not at all");

    // The stage, by its Korean name too, when the gates allow.
    let stage = sent("rep@capturecommands.test", "단계: Qualification\n\nHi.", 4);
    let report = capture(db, &ctx, &[stage], &CaptureOptions::default()).unwrap();
    assert_eq!(report.commands_applied, 1, "{report:#?}");
    assert_eq!(deal_now().stage_id, org.simple.stages[1].id);

    // Someone else's mail, uploaded by the manager: logged, its commands ignored.
    let by_manager = WriteCtx { actor_id: Some(org.manager.id), ..ctx };
    let theirs = sent("rep@capturecommands.test", "next step: give it away\n\nHi.", 5);
    let report = capture(db, &by_manager, &[theirs], &CaptureOptions::default()).unwrap();
    assert_eq!((report.emails, report.commands_applied, report.command_errors.len()), (1, 0, 0));
    assert_eq!(deal_now().next_step.as_deref(), Some("send the revised quote"));
}

pub fn a_mailbox_its_sync_state_and_its_quarantine_are_kept(db: &TestDb) {
    let org = test_org(db.store(), "Capture Mailbox");
    let key = app::mailboxes::SecretKey::from_hex(&"ab".repeat(32)).unwrap();
    let ctx = org.by_rep(at("2026-12-07T09:00:00Z"));
    let settings = app::mailboxes::MailboxSettings {
        host: "IMAP.Example.com".into(),
        port: 143,
        username: "rep".into(),
        password: "app-pass".into(),
        folder: None,
        security: None,
    };
    let id = pipewise_test_support::transact(db.store(), |tx| app::mailboxes::connect_mailbox(tx, &ctx, &key, &settings)).unwrap();
    // Connecting the same mailbox again replaces its password and starts its sync again.
    let again = pipewise_test_support::transact(db.store(), |tx| app::mailboxes::connect_mailbox(tx, &ctx, &key, &settings)).unwrap();
    assert_eq!(id, again);
    let stored = app::mailboxes::mailboxes_to_sync(&db.db()).unwrap();
    assert_eq!(stored.len(), 1);
    let mailbox = &stored[0];
    assert_eq!(
        (mailbox.host.as_str(), mailbox.folder.as_str(), mailbox.security.as_str(), mailbox.last_uid),
        ("imap.example.com", "INBOX", "starttls", 0),
        "STARTTLS off port 993"
    );
    assert_eq!(app::mailboxes::open(&key, mailbox).as_deref(), Some("app-pass"));

    let at_sync = at("2026-12-07T09:05:00Z");
    app::mailboxes::record_attempt(&db.db(), mailbox, Some(77), 12, at_sync, None).unwrap();
    app::mailboxes::record_attempt(&db.db(), mailbox, Some(77), 12, at("2026-12-07T09:10:00Z"), Some("unreachable: 10.0.0.9:143")).unwrap();
    let after = &app::mailboxes::mailboxes_to_sync(&db.db()).unwrap()[0];
    assert_eq!((after.uidvalidity, after.last_uid, after.failures), (Some(77), 12, 1));
    assert_eq!(
        (after.synced_at, after.last_error.as_deref()),
        (Some(at_sync), Some("unreachable: 10.0.0.9:143")),
        "the last success is kept"
    );

    pipewise_test_support::transact(db.store(), |tx| {
        let kept = pipewise_store::Quarantined {
            id: 0,
            user_id: org.rep.id,
            mailbox_id: Some(id),
            place: "imap.example.com/INBOX UID 13".into(),
            message_id: None,
            reason: pipewise_core::message::Message::new("capture.too_large").text("bytes", 30_000_000).text("limit", 26_214_400),
            at: at_sync,
        };
        tx.put_quarantined(org.org(), &[kept])
    })
    .unwrap();
    let listed = pipewise_test_support::transact(db.store(), |tx| {
        let access = app::access::access_for(tx, org.org(), Some(org.rep.id))?;
        app::mailboxes::quarantine_for(tx, org.org(), &access, 10)
    })
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason.args.len(), 2, "the reason keeps its arguments");
    let manager_sees = pipewise_test_support::transact(db.store(), |tx| {
        let access = app::access::access_for(tx, org.org(), Some(org.manager.id))?;
        app::mailboxes::quarantine_for(tx, org.org(), &access, 10)
    })
    .unwrap();
    assert!(manager_sees.is_empty());
}
