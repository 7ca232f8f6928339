//! Quotas and the fiscal calendar (issue 12, point 1): a fiscal year that starts in February,
//! quotas per person and team per fiscal period, replaced and removed with audit entries, spread
//! by seasonality exactly, every bad field named at once with nothing written, set by ops and
//! admins only and read within what the viewer may see. Every case runs on both engines.

use pipewise_app as app;
use pipewise_app::{AuditFilter, QuotaSubject, StoreError};
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::money::Decimal;
use pipewise_core::records::NewTeam;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, new_user, test_org};
use pipewise_test_support::transact;

pub fn quotas_follow_the_fiscal_calendar_are_replaced_audited_and_scoped(db: &TestDb) {
    let org = test_org(db.store(), "Quota");
    let id = org.org();
    let ctx = org.ctx;
    let team = transact(db.store(), |tx| {
        app::users::create_team(tx, &ctx, NewTeam { name: "Enterprise".into(), manager_id: Some(org.manager.id) })
    })
    .unwrap();
    let mut member = new_user("member@quota.test", "Mei Member", Role::Rep, Some(org.manager.id));
    member.team_id = Some(team.id);
    let member = transact(db.store(), |tx| app::users::create_user(tx, &ctx, member)).unwrap();

    // A rep may not set quotas or the calendar.
    let by_rep = org.by_rep(at("2026-12-01T09:00:00Z"));
    let error = transact(db.store(), |tx| app::quotas::set_quota(tx, &by_rep, QuotaSubject::User(org.rep.id), "2027-Q1", "1")).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");
    let error = transact(db.store(), |tx| app::quotas::set_fiscal_year_start(tx, &by_rep, 2)).unwrap_err();
    assert!(matches!(error, StoreError::Forbidden(_)), "{error}");

    // Fiscal years from February: FY2027 Q1 is February to April 2026.
    let organisation = transact(db.store(), |tx| app::quotas::set_fiscal_year_start(tx, &ctx, 2)).unwrap();
    assert_eq!(organisation.fiscal.start_month(), 2);
    let error = transact(db.store(), |tx| app::quotas::set_fiscal_year_start(tx, &ctx, 13)).unwrap_err();
    assert_eq!(error.to_string(), format!("organisation {id}: fiscal_year_start_month: 13 is out of range (1 to 12)"));
    let quota = transact(db.store(), |tx| app::quotas::set_quota(tx, &ctx, QuotaSubject::User(org.rep.id), "2027-Q1", "120000")).unwrap();
    assert_eq!(
        (quota.first.to_string(), quota.last.to_string(), quota.amount.to_string()),
        ("2026-02-01".into(), "2026-04-30".into(), "USD 120000.00".into())
    );

    // Every bad field at once, nothing written.
    let error =
        transact(db.store(), |tx| app::quotas::set_quota(tx, &ctx, QuotaSubject::User(UserId(999_999)), "2027-Q5", "-5")).unwrap_err();
    let message = error.to_string();
    for field in ["user_id: user 999999 does not exist", "period: \"2027-Q5\" is not a fiscal period", "amount: -5 is negative"] {
        assert!(message.contains(field), "{field} in {message}");
    }

    // Set again, it replaces (an update in the audit log); a year spread by seasonality adds up.
    transact(db.store(), |tx| app::quotas::set_quota(tx, &ctx, QuotaSubject::User(org.rep.id), "2027-Q1", "150000.50")).unwrap();
    let weights: Vec<Decimal> = ["2", "3", "3", "4"].iter().map(|weight| weight.parse().unwrap()).collect();
    let quarters = transact(db.store(), |tx| {
        app::quotas::set_seasonal_quotas(tx, &ctx, QuotaSubject::Team(team.id), "2027", PeriodKind::Quarter, "1000000", &weights)
    })
    .unwrap();
    let amounts: Vec<String> = quarters.iter().map(|quota| quota.amount.amount().to_string()).collect();
    assert_eq!(amounts, ["166666.67", "250000.00", "250000.00", "333333.33"]);
    let audit = db.store().read().unwrap().audit_events(id, &AuditFilter { limit: 20, ..AuditFilter::default() }).unwrap();
    let quota_actions: Vec<&str> = audit.iter().filter(|entry| entry.record_kind == "quota").map(|entry| entry.action.as_str()).collect();
    assert_eq!(quota_actions, ["create", "create", "create", "create", "update", "create"], "newest first");

    // Read back in a later transaction, within what each viewer may see: the manager sees the
    // rep's and the team's; the rep only their own; the member their own team's.
    let year = organisation.fiscal.parse_key("2027").unwrap();
    let seen = |user: UserId| -> Vec<(QuotaSubject, String)> {
        transact(db.store(), |tx| {
            let access = app::access::access_for(tx, id, Some(user))?;
            app::quotas::quotas_in(tx, id, &access, &year)
        })
        .unwrap()
        .into_iter()
        .map(|quota| (quota.subject, format!("{} {}", quota.first, quota.amount)))
        .collect()
    };
    let manager_sees = seen(org.manager.id);
    assert_eq!(manager_sees.len(), 5, "{manager_sees:?}");
    assert!(manager_sees.contains(&(QuotaSubject::User(org.rep.id), "2026-02-01 USD 150000.50".into())));
    assert_eq!(seen(org.rep.id), [(QuotaSubject::User(org.rep.id), "2026-02-01 USD 150000.50".into())]);
    assert_eq!(seen(member.id).len(), 4, "the member's team's quarters");

    // Removed once; a second time there is nothing to remove.
    assert!(transact(db.store(), |tx| app::quotas::remove_quota(tx, &ctx, QuotaSubject::User(org.rep.id), "2027-Q1")).unwrap());
    assert!(!transact(db.store(), |tx| app::quotas::remove_quota(tx, &ctx, QuotaSubject::User(org.rep.id), "2027-Q1")).unwrap());
    assert!(seen(org.rep.id).is_empty());
}
