//! Lead routing on both engines: ops set the ideal customer, the pool with capacities and the
//! territories (a rep may not; every bad part is named at once; audited); a lead that comes in
//! without an owner goes to its territory's rep, else to the pool by capacity and by the
//! quality each rep already got; a lead with an owner keeps it; each lead's fit is kept and
//! follows its edits; the fairness report sets what each rep got against their capacity.

use pipewise_app as app;
use pipewise_app::{AuditFilter, StoreError, WriteCtx};
use pipewise_core::records::{LeadPatch, LeadStatus, NewLead};
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_leads::fairness::Verdict;
use pipewise_leads::fit::Profile;
use pipewise_leads::routing::{Member, Rules, Territory};
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};

fn lead(name: &str, region: Option<&str>, title: &str, email: &str) -> NewLead {
    NewLead {
        name: name.into(),
        company: Some(format!("{name} Inc")),
        email: Some(email.into()),
        phone: None,
        title: Some(title.into()),
        source: Some("web form".into()),
        industry: Some("Software".into()),
        employee_count: Some(200),
        region: region.map(str::to_owned),
        status: LeadStatus::New,
        owner_id: None,
    }
}

pub fn leads_are_routed_by_territory_then_capacity_and_the_report_weighs_quality(db: &TestDb) {
    let org = test_org(db.store(), "Lead Routing");
    let when = at("2026-12-07T09:00:00Z");
    let ops_ctx = WriteCtx { at: when, ..org.ctx };
    let (kim, lee) = pipewise_test_support::transact(db.store(), |tx| {
        let kim = app::users::create_user(tx, &ops_ctx, new_user("kim@leadrouting.test", "Kim", Role::Rep, Some(org.manager.id)))?;
        let lee = app::users::create_user(tx, &ops_ctx, new_user("lee@leadrouting.test", "Lee", Role::Rep, Some(org.manager.id)))?;
        Ok((kim.id, lee.id))
    })
    .unwrap();
    let rules = Rules {
        profile: Profile { industries: vec!["Software".into()], titles: vec!["head".into(), "팀장".into()], ..Profile::default() },
        pool: vec![Member { user: kim, capacity: 2 }, Member { user: lee, capacity: 1 }, Member { user: org.rep.id, capacity: 1 }],
        territories: vec![Territory {
            name: "Korea".into(),
            regions: vec!["KR".into()],
            members: vec![org.rep.id],
            ..Territory::default()
        }],
    };

    // A rep may not set routing; bad parts are all named.
    let by_rep = org.by_rep(when);
    let refused = pipewise_test_support::transact(db.store(), |tx| app::routing::set_rules(tx, &by_rep, &rules));
    assert!(matches!(refused, Err(StoreError::Forbidden(_))));
    let mut bad = rules.clone();
    bad.pool.push(Member { user: UserId(9_999), capacity: 11 });
    bad.territories.push(Territory { name: "korea".into(), members: vec![UserId(8_888)], ..Territory::default() });
    let Err(StoreError::Invalid(errors)) = pipewise_test_support::transact(db.store(), |tx| app::routing::set_rules(tx, &ops_ctx, &bad))
    else {
        panic!("bad rules accepted")
    };
    let fields: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
    assert_eq!(fields, vec!["pool", "pool", "territories", "territories", "territories"], "{errors:?}");
    pipewise_test_support::transact(db.store(), |tx| app::routing::set_rules(tx, &ops_ctx, &rules)).unwrap();

    // Nine leads from elsewhere, one from Korea, one with an owner already.
    let mut owners = Vec::new();
    for index in 0..9 {
        let ctx = WriteCtx { at: when.plus_seconds(index * 60), ..org.ctx };
        let new = lead(&format!("Lead {index}"), Some("US"), "Head of Ops", &format!("lead{index}@company{index}.com"));
        let created = pipewise_test_support::transact(db.store(), |tx| app::records::create_lead(tx, &ctx, new.clone())).unwrap();
        owners.push(created.owner_id);
    }
    let count = |user: UserId| owners.iter().filter(|owner| **owner == Some(user)).count();
    assert_eq!(
        (count(kim), count(lee), count(org.rep.id)),
        (5, 2, 2),
        "by capacity 2:1:1 (ties to the longest waiting, then the lower id): {owners:?}"
    );
    let ctx = WriteCtx { at: when.plus_seconds(3_600), ..org.ctx };
    let seoul = pipewise_test_support::transact(db.store(), |tx| {
        app::records::create_lead(tx, &ctx, lead("Hanbit", Some("kr"), "영업팀장", "buyer@hanbit.co.kr"))
    })
    .unwrap();
    assert_eq!(seoul.owner_id, Some(org.rep.id), "Korea's territory");
    let mut owned = lead("Owned", Some("US"), "Intern", "someone@gmail.com");
    owned.owner_id = Some(lee);
    let owned = pipewise_test_support::transact(db.store(), |tx| app::records::create_lead(tx, &ctx, owned)).unwrap();
    assert_eq!(owned.owner_id, Some(lee), "a lead with an owner keeps it");

    // Kim leaves: the rules still name her, but she takes no more leads.
    let patch = pipewise_core::records::UserPatch { active: Some(false), ..Default::default() };
    pipewise_test_support::transact(db.store(), |tx| app::users::update_user(tx, &ops_ctx, kim, &patch)).unwrap();
    let later = WriteCtx { at: when.plus_seconds(7_200), ..org.ctx };
    for index in 0..3 {
        let new = lead(&format!("After {index}"), Some("US"), "Head of Ops", &format!("after{index}@after{index}.com"));
        let after = pipewise_test_support::transact(db.store(), |tx| app::records::create_lead(tx, &later, new.clone())).unwrap();
        assert!(after.owner_id.is_some() && after.owner_id != Some(kim), "{after:?}");
    }
    pipewise_test_support::transact(db.store(), |tx| {
        app::users::update_user(tx, &ops_ctx, kim, &pipewise_core::records::UserPatch { active: Some(true), ..Default::default() })
    })
    .unwrap();

    // Fit: a head of a software company at its own domain fits fully; an intern at gmail.com
    // misses the title and the business address (industry 30 + size 25 + region 15 = 70).
    let store = db.db();
    let route = |id: LeadId| {
        let mut tx = store.read().unwrap();
        app::routing::route_of(&mut tx, org.org(), id).unwrap().unwrap()
    };
    assert_eq!((route(seoul.id).fit_score, route(seoul.id).territory.as_deref()), (100, Some("Korea")));
    assert_eq!((route(owned.id).fit_score, route(owned.id).routed_to), (70, None));
    // An edit rescoring it: now a head.
    let patch = LeadPatch { title: Some(Some("Head of IT".into())), ..LeadPatch::default() };
    pipewise_test_support::transact(db.store(), |tx| app::records::update_lead(tx, &ctx, owned.id, &patch)).unwrap();
    assert_eq!(route(owned.id).fit_score, 90);

    // Working it: a call, then the cadence asks for the second attempt a day later.
    let called = pipewise_test_support::transact(db.store(), |tx| app::cadence::log_attempt(tx, &ctx, seoul.id, "call", false)).unwrap();
    assert_eq!(called.status, LeadStatus::Working);
    let bad = pipewise_test_support::transact(db.store(), |tx| app::cadence::log_attempt(tx, &ctx, seoul.id, "fax", false));
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let mut tx = store.read().unwrap();
    let policy = app::cadence::policy(&mut tx, org.org()).unwrap();
    let cadence = app::cadence::cadence_of(&mut tx, org.org(), &called, &policy, ctx.at).unwrap();
    assert_eq!(cadence.attempts.len(), 1);
    assert_eq!(cadence.step, Some(pipewise_leads::cadence::Step::Attempt { number: 2, due: ctx.at.plus_seconds(86_400) }));
    assert_eq!(cadence.first_touch, Some((0, true)));
    drop(tx);
    let early = pipewise_test_support::transact(db.store(), |tx| app::cadence::close_out(tx, &ctx, seoul.id));
    assert!(matches!(early, Err(StoreError::Invalid(_))), "no close-out before the cadence is spent");

    // Qualified beyond BANT: kept, read back, and the lead qualified.
    let answers: Vec<(String, String)> = ["expectations", "success", "resources", "outlook", "threats", "worth"]
        .iter()
        .map(|key| ((*key).to_owned(), "yes".to_owned()))
        .collect();
    let (qualified, _) =
        pipewise_test_support::transact(db.store(), |tx| app::qualification::qualify(tx, &ctx, seoul.id, &answers)).unwrap();
    assert_eq!(qualified.status, LeadStatus::Qualified);
    let mut tx = store.read().unwrap();
    let read = app::qualification::qualification_of(&mut tx, org.org(), seoul.id).unwrap().unwrap();
    assert_eq!((read.judged.score, read.answers.len(), read.updated_at), (100, 6, ctx.at));
    drop(tx);

    // The report: by count and quality, against capacity 2:1:1.
    let mut tx = store.read().unwrap();
    let (_, report, unowned) = app::routing::fairness_for(&mut tx, org.org(), &pipewise_core::access::Access::System, ctx.at).unwrap();
    assert_eq!((report.leads, unowned), (11, 0));
    let got: Vec<(UserId, u32, Verdict)> = report.shares.iter().map(|share| (share.user, share.leads, share.verdict)).collect();
    assert_eq!(got, vec![(kim, 5, Verdict::Fair), (lee, 3, Verdict::TooFew), (org.rep.id, 3, Verdict::TooFew)]);
    let as_rep = app::access::access_for(&mut tx, org.org(), Some(org.rep.id)).unwrap();
    assert!(matches!(app::routing::fairness_for(&mut tx, org.org(), &as_rep, ctx.at), Err(StoreError::Forbidden(_))));
    let filter = AuditFilter { record_kind: Some("lead_routing".into()), limit: 10, ..AuditFilter::default() };
    assert_eq!(app::audit::audit_events_for(&mut tx, org.org(), &pipewise_core::access::Access::System, &filter).unwrap().len(), 1);
}

/// The cadence a page reads is learnt at most five minutes ago: a newly won deal changes the
/// average sales cycle for rules at once and for pages once the kept policy is that old.
pub fn the_cadence_pages_read_is_relearnt_after_five_minutes(db: &TestDb) {
    use pipewise_core::opportunity::OpportunityPatch;
    let org = test_org(db.store(), "Cycles");
    let won_stage = org.simple.stages[4].id;
    let win = |name: &str, created: &str, won: &str| {
        pipewise_test_support::transact(db.store(), |tx| {
            let deal = app::deals::create_opportunity(tx, &org.by_rep(at(created)), &org.new_deal(name))?;
            let patch = OpportunityPatch { stage_id: Some(won_stage), ..OpportunityPatch::default() };
            app::deals::update_opportunity(tx, &org.by_rep(at(won)), deal.id, &patch)
        })
        .unwrap()
    };
    win("Ten days", "2026-01-01T09:00:00Z", "2026-01-11T09:00:00Z");
    let cache = app::cadence::PolicyCache::default();
    let now = at("2026-03-01T12:00:00Z");
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(cache.get(&mut tx, org.org(), now).unwrap().cycle_days, 10);
    drop(tx);
    win("Thirty days", "2026-01-01T09:00:00Z", "2026-01-31T09:00:00Z");
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(app::cadence::policy(&mut tx, org.org()).unwrap().cycle_days, 20, "rules learn it now");
    assert_eq!(cache.get(&mut tx, org.org(), now.plus_seconds(299)).unwrap().cycle_days, 10, "pages keep it five minutes");
    assert_eq!(cache.get(&mut tx, org.org(), now.plus_seconds(300)).unwrap().cycle_days, 20, "then learn it again");
    assert_eq!(cache.get(&mut tx, org.org(), now).unwrap().cycle_days, 20, "a clock set back learns it again");
}
