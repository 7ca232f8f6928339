//! Partial updates of accounts, contacts, users, teams, leads and tasks through `ops`, and the
//! scoped reads of tasks and activities: authorised, validated, audited, the same on both
//! engines.

use pipewise_app as app;
use pipewise_app::{ActivityFilter, AuditFilter, OpportunityFilter, StoreError, TaskFilter, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::records::*;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};

pub fn accounts_and_contacts_update_with_domains_and_emails_replaced(db: &TestDb) {
    let org = test_org(db.store(), "Updates");
    let ctx = WriteCtx { at: at("2026-02-01T00:00:00Z"), source: Source::Api, ..org.by_rep(org.ctx.at) };
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let other = app::records::create_account(
        &mut tx,
        &ctx,
        NewAccount {
            name: "Other".into(),
            domains: vec!["other.com".into()],
            industry: None,
            employee_count: None,
            region: None,
            owner_id: None,
        },
    )
    .unwrap();
    let patch = AccountPatch {
        name: Some(" Acme Corp ".into()),
        domains: Some(vec!["ACME.com".into(), "acme.kr".into()]),
        industry: Some(None),
        employee_count: Some(Some(300)),
        ..Default::default()
    };
    let updated = app::records::update_account(&mut tx, &ctx, org.account.id, &patch).unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.domains.clone(), updated.industry.clone(), updated.employee_count),
        ("Acme Corp", vec!["acme.com".to_owned(), "acme.kr".to_owned()], None, Some(300))
    );
    assert_eq!(tx.account(org.org(), org.account.id).unwrap().unwrap(), updated);
    // A taken domain is a conflict that leaves the account as it was, and the transaction usable.
    let taken = AccountPatch { domains: Some(vec!["other.com".into()]), name: Some("Renamed".into()), ..Default::default() };
    let error = app::records::update_account(&mut tx, &ctx, org.account.id, &taken).unwrap_err();
    assert_eq!(error.to_string(), format!("account {}: domains: other.com already belongs to another account", org.account.id));
    assert_eq!(tx.account(org.org(), org.account.id).unwrap().unwrap(), updated);
    assert_eq!(tx.account(org.org(), other.id).unwrap().unwrap().domains, ["other.com"]);
    // Every bad field is reported against the existing record.
    let bad = AccountPatch { name: Some(String::new()), employee_count: Some(Some(-5)), ..Default::default() };
    let errors = app::records::update_account(&mut tx, &ctx, org.account.id, &bad).unwrap_err().to_string();
    assert_eq!(
        errors,
        format!("account {0}: name: is required; account {0}: employee_count: -5 is out of range (0 to 10,000,000)", org.account.id)
    );
    let contact = app::records::create_contact(
        &mut tx,
        &ctx,
        NewContact { name: "Kim".into(), emails: vec!["kim@acme.com".into()], phone: None, title: None, account_id: Some(org.account.id) },
    )
    .unwrap();
    let patch = ContactPatch {
        emails: Some(vec!["kim@acme.kr".into(), "k@acme.com".into()]),
        account_id: Some(None),
        title: Some(Some("CFO".into())),
        ..Default::default()
    };
    let changed = app::records::update_contact(&mut tx, &ctx, contact.id, &patch).unwrap();
    assert_eq!(tx.contact(org.org(), contact.id).unwrap().unwrap(), changed);
    assert_eq!((changed.emails.len(), changed.account_id, changed.title.as_deref()), (2, None, Some("CFO")));
    let unknown = ContactPatch { account_id: Some(Some(AccountId(999_999))), ..Default::default() };
    assert!(matches!(app::records::update_contact(&mut tx, &ctx, contact.id, &unknown), Err(StoreError::Invalid(_))));
    // A patch that changes nothing writes nothing.
    let before = tx.count(org.org(), pipewise_store::RecordKind::AuditEvent).unwrap();
    app::records::update_contact(&mut tx, &ctx, contact.id, &ContactPatch { title: Some(Some("CFO".into())), ..Default::default() })
        .unwrap();
    assert_eq!(tx.count(org.org(), pipewise_store::RecordKind::AuditEvent).unwrap(), before);
    let audit = tx
        .audit_events(
            org.org(),
            &AuditFilter { record_kind: Some("contact".into()), record_id: Some(contact.id.0), limit: 10, ..Default::default() },
        )
        .unwrap();
    assert_eq!(audit[0].action, "update");
    assert_eq!(audit[0].before.as_deref(), Some(r#"{"account_id":1,"emails":["kim@acme.com"],"title":null}"#.replace("\"account_id\":1", &format!("\"account_id\":{}", org.account.id)).as_str()));
    assert_eq!(audit[0].source, Source::Api);
    // A viewer changes nothing.
    let viewer = app::users::create_user(&mut tx, &org.ctx, new_user("viewer@updates.test", "Vi", Role::Viewer, None)).unwrap();
    let as_viewer = WriteCtx { actor_id: Some(viewer.id), ..ctx };
    assert!(matches!(
        app::records::update_account(&mut tx, &as_viewer, org.account.id, &AccountPatch::default()),
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        app::records::update_account(&mut tx, &ctx, AccountId(999_999), &AccountPatch::default()),
        Err(StoreError::NotFound { .. })
    ));
    tx.commit().unwrap();
}

pub fn users_teams_and_leads_update(db: &TestDb) {
    let org = test_org(db.store(), "People");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let admin = app::users::create_user(&mut tx, &org.ctx, new_user("admin@people.test", "Ada", Role::Admin, None)).unwrap();
    let as_admin = WriteCtx { actor_id: Some(admin.id), ..org.ctx };
    let team = app::users::create_team(&mut tx, &as_admin, NewTeam { name: "Field".into(), manager_id: None }).unwrap();
    let patch = UserPatch {
        role: Some(Role::Manager),
        team_id: Some(Some(team.id)),
        manager_id: Some(None),
        locale: Some(pipewise_core::user::Locale::Ko),
        ..Default::default()
    };
    let rep = app::users::update_user(&mut tx, &as_admin, org.rep.id, &patch).unwrap();
    assert_eq!(tx.user(org.org(), rep.id).unwrap().unwrap(), rep);
    assert_eq!((rep.role, rep.team_id, rep.manager_id), (Role::Manager, Some(team.id), None));
    // Loops, unknown teams, a taken e-mail and locking oneself out are refused.
    let looped = UserPatch { manager_id: Some(Some(rep.id)), team_id: Some(Some(TeamId(999_999))), ..Default::default() };
    let error = app::users::update_user(
        &mut tx,
        &WriteCtx { actor_id: Some(admin.id), ..org.ctx },
        rep.id,
        &UserPatch { manager_id: Some(Some(rep.id)), ..Default::default() },
    )
    .unwrap_err();
    assert!(error.to_string().contains("manager_id"), "{error}");
    let error = app::users::update_user(&mut tx, &as_admin, org.manager.id, &looped).unwrap_err().to_string();
    assert!(error.contains("team_id: team 999999 does not exist"), "{error}");
    let taken = UserPatch { email: Some(org.manager.email.to_uppercase()), ..Default::default() };
    assert!(matches!(app::users::update_user(&mut tx, &as_admin, rep.id, &taken), Err(StoreError::Conflict(_))));
    let lockout = UserPatch { active: Some(false), ..Default::default() };
    assert!(matches!(app::users::update_user(&mut tx, &as_admin, admin.id, &lockout), Err(StoreError::Invalid(_))));
    // Users change their own name; only admins the rest.
    let as_manager = WriteCtx { actor_id: Some(org.manager.id), ..org.ctx };
    app::users::update_user(&mut tx, &as_manager, org.manager.id, &UserPatch { name: Some("Mina M.".into()), ..Default::default() })
        .unwrap();
    assert!(matches!(
        app::users::update_user(&mut tx, &as_manager, org.manager.id, &UserPatch { role: Some(Role::Admin), ..Default::default() }),
        Err(StoreError::Forbidden(_))
    ));
    let deactivated = app::users::update_user(&mut tx, &as_admin, org.manager.id, &lockout).unwrap();
    assert!(!deactivated.active && !tx.user(org.org(), org.manager.id).unwrap().unwrap().active);
    let renamed = app::users::update_team(
        &mut tx,
        &as_admin,
        team.id,
        &TeamPatch { name: Some("Enterprise".into()), manager_id: Some(Some(rep.id)) },
    )
    .unwrap();
    assert_eq!(tx.team(org.org(), team.id).unwrap().unwrap(), renamed);
    assert!(matches!(app::users::update_team(&mut tx, &as_manager, team.id, &TeamPatch::default()), Err(StoreError::Forbidden(_))));
    let lead = app::records::create_lead(
        &mut tx,
        &as_admin,
        NewLead {
            name: "Lee".into(),
            company: Some("Initech".into()),
            email: None,
            phone: None,
            title: None,
            source: None,
            industry: None,
            employee_count: None,
            region: None,
            status: LeadStatus::New,
            owner_id: None,
        },
    )
    .unwrap();
    let patch = LeadPatch {
        status: Some(LeadStatus::Working),
        company: Some(None),
        email: Some(Some("LEE@initech.com".into())),
        owner_id: Some(Some(rep.id)),
        ..Default::default()
    };
    let worked = app::records::update_lead(&mut tx, &as_admin, lead.id, &patch).unwrap();
    assert_eq!(tx.lead(org.org(), lead.id).unwrap().unwrap(), worked);
    assert_eq!((worked.status, worked.company.clone(), worked.email.as_deref()), (LeadStatus::Working, None, Some("lee@initech.com")));
    tx.commit().unwrap();
}

pub fn tasks_and_activities_are_scoped_and_tasks_complete(db: &TestDb) {
    let org = test_org(db.store(), "Scoped");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let boss = app::users::create_user(&mut tx, &org.ctx, new_user("boss@scoped.test", "Bo", Role::Manager, None)).unwrap();
    let outsider = app::users::create_user(&mut tx, &org.ctx, new_user("out@scoped.test", "Oli", Role::Rep, Some(boss.id))).unwrap();
    let as_rep = org.by_rep(at("2026-02-01T00:00:00Z"));
    let as_outsider = WriteCtx { actor_id: Some(outsider.id), ..as_rep };
    let deal = app::deals::create_opportunity(&mut tx, &as_rep, &org.new_deal("Scoped deal")).unwrap();
    let new_task = |title: &str, owner: UserId, opportunity_id| NewTask {
        title: title.into(),
        owner_id: owner,
        due_on: None,
        completed_at: None,
        account_id: None,
        opportunity_id,
        lead_id: None,
    };
    let on_deal = app::activities::create_task(&mut tx, &as_rep, new_task("On the deal", org.rep.id, Some(deal.id))).unwrap();
    let own = app::activities::create_task(&mut tx, &as_outsider, new_task("Own", outsider.id, None)).unwrap();
    let activity = |subject: &str, user, opportunity_id| NewActivity {
        kind: ActivityKind::Call,
        direction: Direction::Outbound,
        occurred_at: at("2026-02-01T10:00:00Z"),
        subject: subject.into(),
        body: None,
        source: "test".into(),
        user_id: Some(user),
        account_id: None,
        opportunity_id,
        contact_ids: Vec::new(),
    };
    let deal_call = app::activities::create_activity(&mut tx, &as_rep, activity("Deal call", org.rep.id, Some(deal.id))).unwrap();
    let own_call = app::activities::create_activity(&mut tx, &as_outsider, activity("Own call", outsider.id, None)).unwrap();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let access = |tx: &mut app::Tx, user| app::access::access_for(tx, org.org(), Some(user)).unwrap();
    let task_ids = |tasks: Vec<Task>| tasks.into_iter().map(|task| task.id).collect::<Vec<_>>();
    let activity_ids = |activities: Vec<Activity>| activities.into_iter().map(|activity| activity.id).collect::<Vec<_>>();
    for (user, tasks, activities) in [
        (org.rep.id, vec![on_deal.id], vec![deal_call]),
        (org.manager.id, vec![on_deal.id], vec![deal_call]),
        (outsider.id, vec![own.id], vec![own_call]),
        (boss.id, vec![own.id], vec![own_call]),
    ] {
        let reader = access(&mut tx, user);
        assert_eq!(
            task_ids(app::activities::tasks_for(&mut tx, org.org(), &reader, &TaskFilter::default()).unwrap()),
            tasks,
            "tasks of user {user}"
        );
        assert_eq!(
            activity_ids(app::activities::activities_for(&mut tx, org.org(), &reader, &ActivityFilter::default()).unwrap()),
            activities,
            "activities of user {user}"
        );
    }
    let everyone = pipewise_core::access::Access::System;
    assert_eq!(task_ids(app::activities::tasks_for(&mut tx, org.org(), &everyone, &TaskFilter::default()).unwrap()).len(), 2);
    let of_deal = ActivityFilter { opportunity_id: Some(deal.id), ..Default::default() };
    assert_eq!(activity_ids(tx.activities(org.org(), &of_deal).unwrap()), [deal_call]);
    let by_user = ActivityFilter { user_id: Some(outsider.id), ..Default::default() };
    assert_eq!(activity_ids(tx.activities(org.org(), &by_user).unwrap()), [own_call]);
    let reader = access(&mut tx, outsider.id);
    assert_eq!(app::activities::task_for(&mut tx, org.org(), &reader, on_deal.id).unwrap(), None);
    assert_eq!(app::activities::activity_for(&mut tx, org.org(), &reader, deal_call).unwrap(), None);
    let stage = org.simple.stages[1].id;
    assert_eq!(tx.opportunities(org.org(), &OpportunityFilter { stage_id: Some(stage), ..Default::default() }).unwrap(), []);
    assert_eq!(
        tx.opportunities(org.org(), &OpportunityFilter { stage_id: Some(deal.stage_id), ..Default::default() }).unwrap(),
        std::slice::from_ref(&deal)
    );
    drop(tx);
    // Completing stamps the time of the write; reopening clears it; the outsider may not touch it.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let later = org.by_rep(at("2026-02-03T00:00:00Z"));
    let done = app::activities::update_task(
        &mut tx,
        &later,
        on_deal.id,
        &TaskPatch { completed: Some(true), due_on: Some(Some("2026-02-10".parse().unwrap())), ..Default::default() },
    )
    .unwrap();
    assert_eq!(done.completed_at, Some(later.at));
    assert_eq!(tx.task(org.org(), on_deal.id).unwrap().unwrap(), done);
    let open = TaskFilter { open_only: true, ..Default::default() };
    assert_eq!(task_ids(tx.tasks(org.org(), &open).unwrap()), [own.id]);
    let reopened =
        app::activities::update_task(&mut tx, &later, on_deal.id, &TaskPatch { completed: Some(false), ..Default::default() }).unwrap();
    assert_eq!(reopened.completed_at, None);
    let error =
        app::activities::update_task(&mut tx, &as_outsider, on_deal.id, &TaskPatch { title: Some("Mine".into()), ..Default::default() })
            .unwrap_err();
    assert!(matches!(error, StoreError::NotFound { kind: "task", .. }), "{error}");
    let error = app::activities::update_task(&mut tx, &later, on_deal.id, &TaskPatch { owner_id: Some(outsider.id), ..Default::default() })
        .unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    tx.commit().unwrap();
}
