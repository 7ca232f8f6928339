//! Small builders for test records: an organisation with a manager, a rep, both pipeline
//! templates and an account, ready for deals.

use pipewise_app as app;
use pipewise_app::WriteCtx;
use pipewise_core::history::Source;
use pipewise_core::opportunity::NewOpportunity;
use pipewise_core::pipeline::Pipeline;
use pipewise_core::records::{Account, ActivityKind, Direction, NewAccount, NewActivity};
use pipewise_core::user::{Locale, NewUser, Role, User};
use pipewise_core::*;
use pipewise_store::Store;

/// A call on `deal` that occurred at `occurred` (RFC 3339), with `contacts`, logged by nobody
/// in particular.
pub fn call(deal: OpportunityId, direction: Direction, occurred: &str, contacts: &[ContactId]) -> NewActivity {
    NewActivity {
        kind: ActivityKind::Call,
        direction,
        occurred_at: at(occurred),
        subject: format!("Call on {occurred}"),
        body: None,
        source: "manual".into(),
        user_id: None,
        account_id: None,
        opportunity_id: Some(deal),
        contact_ids: contacts.to_vec(),
    }
}

pub fn at(text: &str) -> Timestamp {
    text.parse().expect("test timestamps are RFC 3339")
}

pub fn new_user(email: &str, name: &str, role: Role, manager_id: Option<UserId>) -> NewUser {
    NewUser { email: email.into(), name: name.into(), role, manager_id, team_id: None, time_zone: "Asia/Seoul".into(), locale: Locale::En }
}

/// An organisation ready for deals.
#[derive(Clone)]
pub struct TestOrg {
    pub ctx: WriteCtx,
    pub manager: User,
    pub rep: User,
    /// The Simple template: Prospecting, Qualification, Connecting, Closing, Won, Lost.
    pub simple: Pipeline,
    pub b2b: Pipeline,
    pub account: Account,
}

impl TestOrg {
    pub fn org(&self) -> OrgId {
        self.ctx.org
    }

    /// The context of a write by the rep at `when`.
    pub fn by_rep(&self, when: Timestamp) -> WriteCtx {
        WriteCtx { actor_id: Some(self.rep.id), at: when, ..self.ctx }
    }

    pub fn new_deal(&self, name: &str) -> NewOpportunity {
        NewOpportunity {
            name: name.into(),
            account_id: Some(self.account.id),
            owner_id: self.rep.id,
            pipeline_id: self.simple.id,
            stage_id: None,
            amount: Some("USD 12000".parse().expect("valid money")),
            close_date: Some("2026-12-15".parse().expect("valid date")),
            forecast_category: None,
            next_step: Some("Send the proposal".into()),
            close_reason: None,
        }
    }
}

/// Creates an organisation named `name` (domains are derived from it, so give each org in one
/// database its own name) in one transaction.
pub fn test_org(store: &dyn Store, name: &str) -> TestOrg {
    let created = at("2026-01-01T00:00:00Z");
    let slug: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let mut tx = app::Tx::new(store.write().expect("a write transaction starts"));
    let organisation = app::users::create_organisation(&mut tx, name, Currency::USD, created).expect("organisation");
    let ctx = WriteCtx { org: organisation.id, actor_id: None, source: Source::System, at: created };
    let manager = app::users::create_user(&mut tx, &ctx, new_user(&format!("manager@{slug}.test"), "Mina Manager", Role::Manager, None))
        .expect("manager");
    let rep = app::users::create_user(&mut tx, &ctx, new_user(&format!("rep@{slug}.test"), "Ravi Rep", Role::Rep, Some(manager.id)))
        .expect("rep");
    let simple = app::records::create_pipeline(&mut tx, &ctx, pipewise_core::templates::simple()).expect("simple pipeline");
    let b2b = app::records::create_pipeline(&mut tx, &ctx, pipewise_core::templates::b2b_the_model()).expect("b2b pipeline");
    let account = app::records::create_account(
        &mut tx,
        &ctx,
        NewAccount {
            name: format!("{name} Customer"),
            domains: vec![format!("{slug}-customer.com")],
            industry: Some("Software".into()),
            employee_count: Some(250),
            region: Some("Asia-Pacific".into()),
            owner_id: Some(rep.id),
        },
    )
    .expect("account");
    tx.commit().expect("the fixture commits");
    TestOrg { ctx, manager, rep, simple, b2b, account }
}
