//! The records `app::records` serves, each a [`Record`] for `api::crud`: accounts, contacts,
//! pipelines (read and create only; the designer's operations, `api::designer`, change them) and
//! leads. All of them are visible to everyone in the organisation.

use pipewise_app::{self as app, Tx, WriteCtx, input};
use pipewise_core::pipeline::{NewPipeline, Pipeline};
use pipewise_core::records::{Account, AccountPatch, Contact, ContactPatch, Lead, LeadPatch, LeadStatus, NewAccount, NewContact, NewLead};
use pipewise_core::{AccountId, ContactId, LeadId, PipelineId, UserId, ValidationErrors};
use serde_json::Value;

use super::crud::{Patchable, Record};
use super::openapi::{Create, Field, Resource};
use super::support::{Key, Query, SortField, names, text_key};
use super::views::{AccountView, ContactView, LeadView, PipelineView, StageView};
use super::{Param, Ty};
use crate::auth::Viewer;
use crate::error::AppError;

/// Accounts (customer companies): list, get, create, patch.
pub struct Accounts;

impl Record for Accounts {
    type Row = Account;
    type View = AccountView;
    type Id = AccountId;
    /// `owner_id`.
    type Filter = Option<UserId>;
    type New = NewAccount;

    const PLURAL: &'static str = "accounts";
    const LABEL: &'static str = AccountId::LABEL;
    const ID: fn(i64) -> AccountId = AccountId;

    fn resources() -> Vec<Resource> {
        vec![Resource::of::<AccountView>().required(&["name"]).writable(&["domains", "industry", "employee_count", "region", "owner_id"])]
    }

    fn id(row: &Account) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Account>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "name", key: |row| text_key(&row.name) },
            SortField { name: "employee_count", key: |row| row.employee_count.map_or(Key::Null, Key::Int) },
            SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![Param::id("owner_id", "Only accounts owned by this user.")]
    }

    fn filter(query: &Query) -> Result<Option<UserId>, AppError> {
        Ok(query.id("owner_id")?.map(UserId))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _owner: &Option<UserId>) -> app::Result<Vec<Account>> {
        app::records::accounts(tx, viewer.org)
    }

    fn keep(owner: &Option<UserId>, row: &Account) -> bool {
        owner.is_none_or(|owner| row.owner_id == Some(owner))
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: AccountId) -> app::Result<Option<Account>> {
        app::records::account(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewAccount, ValidationErrors> {
        input::new_account(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewAccount) -> app::Result<Account> {
        app::records::create_account(tx, ctx, new)
    }
}

impl Patchable for Accounts {
    type Patch = AccountPatch;

    fn parse_patch(id: AccountId, body: &Value) -> Result<AccountPatch, ValidationErrors> {
        input::account_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: AccountId, patch: &AccountPatch) -> app::Result<Account> {
        app::records::update_account(tx, ctx, id, patch)
    }
}

/// Contacts (people at customers): list, get, create, patch.
pub struct Contacts;

impl Record for Contacts {
    type Row = Contact;
    type View = ContactView;
    type Id = ContactId;
    /// `account_id`.
    type Filter = Option<AccountId>;
    type New = NewContact;

    const PLURAL: &'static str = "contacts";
    const LABEL: &'static str = ContactId::LABEL;
    const ID: fn(i64) -> ContactId = ContactId;

    fn resources() -> Vec<Resource> {
        vec![Resource::of::<ContactView>().required(&["name"]).writable(&["emails", "phone", "title", "account_id"])]
    }

    fn id(row: &Contact) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Contact>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "name", key: |row| text_key(&row.name) },
            SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![Param::id("account_id", "Only contacts at this account.")]
    }

    fn filter(query: &Query) -> Result<Option<AccountId>, AppError> {
        Ok(query.id("account_id")?.map(AccountId))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _account: &Option<AccountId>) -> app::Result<Vec<Contact>> {
        app::records::contacts(tx, viewer.org)
    }

    fn keep(account: &Option<AccountId>, row: &Contact) -> bool {
        account.is_none_or(|account| row.account_id == Some(account))
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: ContactId) -> app::Result<Option<Contact>> {
        app::records::contact(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewContact, ValidationErrors> {
        input::new_contact(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewContact) -> app::Result<Contact> {
        app::records::create_contact(tx, ctx, new)
    }
}

impl Patchable for Contacts {
    type Patch = ContactPatch;

    fn parse_patch(id: ContactId, body: &Value) -> Result<ContactPatch, ValidationErrors> {
        input::contact_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: ContactId, patch: &ContactPatch) -> app::Result<Contact> {
        app::records::update_contact(tx, ctx, id, patch)
    }
}

/// Pipelines with their stages: list, get, create.
pub struct Pipelines;

impl Record for Pipelines {
    type Row = Pipeline;
    type View = PipelineView;
    type Id = PipelineId;
    type Filter = ();
    type New = NewPipeline;

    const PLURAL: &'static str = "pipelines";
    const LABEL: &'static str = PipelineId::LABEL;
    const ID: fn(i64) -> PipelineId = PipelineId;

    /// `Stage`, then `Pipeline`.
    fn resources() -> Vec<Resource> {
        let stage = Resource::of::<StageView>()
            .required(&["name_en"])
            .writable(&["name_ko", "win_probability", "forecast_category", "counts_in_metrics", "rotting_days"])
            .create_only(Create::Optional, &["kind"])
            .input(
                Field::read("position", Ty::Integer)
                    .create_only(Create::Optional)
                    .doc("With `POST /api/v1/pipelines/{id}/stages`: where to insert (0-based); after the last open stage by default."),
            );
        let pipeline = Resource::of::<PipelineView>()
            .required(&["name"])
            .patch_only(&["entry_stage_id"])
            .create_only(Create::Required, &["stages"])
            .input(
                Field::read("entry_stage", Ty::Integer)
                    .create_only(Create::Optional)
                    .doc("Index into `stages` of the entry stage; 0 by default."),
            );
        vec![stage, pipeline]
    }

    fn id(row: &Pipeline) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Pipeline>> {
        vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
    }

    fn filters() -> Vec<Param> {
        Vec::new()
    }

    fn filter(_query: &Query) -> Result<(), AppError> {
        Ok(())
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _filter: &()) -> app::Result<Vec<Pipeline>> {
        app::records::pipelines(tx, viewer.org)
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: PipelineId) -> app::Result<Option<Pipeline>> {
        app::records::pipeline(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewPipeline, ValidationErrors> {
        input::new_pipeline(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewPipeline) -> app::Result<Pipeline> {
        app::records::create_pipeline(tx, ctx, new)
    }
}

/// Leads in qualification: list, get, create, patch.
pub struct Leads;

impl Record for Leads {
    type Row = Lead;
    type View = LeadView;
    type Id = LeadId;
    /// `status` and `owner_id`.
    type Filter = (Option<LeadStatus>, Option<UserId>);
    type New = NewLead;

    const PLURAL: &'static str = "leads";
    const LABEL: &'static str = LeadId::LABEL;
    const ID: fn(i64) -> LeadId = LeadId;

    fn resources() -> Vec<Resource> {
        vec![Resource::of::<LeadView>().required(&["name"]).writable(&[
            "company",
            "email",
            "phone",
            "title",
            "source",
            "industry",
            "employee_count",
            "region",
            "status",
            "owner_id",
        ])]
    }

    fn id(row: &Lead) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Lead>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "name", key: |row| text_key(&row.name) },
            SortField { name: "status", key: |row| text_key(row.status.as_str()) },
            SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![
            Param::new("status", Ty::Enum(names(LeadStatus::ALL, LeadStatus::as_str)), "Only leads with this status."),
            Param::id("owner_id", "Only leads owned by this user."),
        ]
    }

    fn filter(query: &Query) -> Result<Self::Filter, AppError> {
        Ok((query.parsed("status", LeadStatus::parse)?, query.id("owner_id")?.map(UserId)))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, _filter: &Self::Filter) -> app::Result<Vec<Lead>> {
        app::records::leads(tx, viewer.org)
    }

    fn keep((status, owner): &Self::Filter, row: &Lead) -> bool {
        status.is_none_or(|status| row.status == status) && owner.is_none_or(|owner| row.owner_id == Some(owner))
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: LeadId) -> app::Result<Option<Lead>> {
        app::records::lead(tx, viewer.org, id)
    }

    fn parse_new(body: &Value, _viewer: &Viewer) -> Result<NewLead, ValidationErrors> {
        input::new_lead(body)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewLead) -> app::Result<Lead> {
        app::records::create_lead(tx, ctx, new)
    }
}

impl Patchable for Leads {
    type Patch = LeadPatch;

    fn parse_patch(id: LeadId, body: &Value) -> Result<LeadPatch, ValidationErrors> {
        input::lead_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: LeadId, patch: &LeadPatch) -> app::Result<Lead> {
        app::records::update_lead(tx, ctx, id, patch)
    }
}
