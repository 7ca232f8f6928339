//! Accounts, contacts, leads and pipelines: created and partly updated, every bad field named.

use pipewise_core::access::SharedKind;
use pipewise_core::error::RecordRef;
use pipewise_core::pipeline::{NewPipeline, Pipeline};
use pipewise_core::records::*;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

pub fn create_account(tx: &mut Tx, ctx: &WriteCtx, new: NewAccount) -> Result<Account> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot create accounts".into())?;
    let new = new.validated()?;
    if let Some(owner) = new.owner_id {
        must_exist(tx.0.user(ctx.org, owner)?.is_some(), &RecordRef::new_record(AccountId::LABEL), "owner_id", UserId::LABEL, owner.0)?;
    }
    let id = tx.0.insert_account(ctx.org, &new, ctx.at)?;
    let account = tx.0.account(ctx.org, id)?.ok_or(StoreError::NotFound { kind: AccountId::LABEL, id: id.0 })?;
    audit(tx, ctx, AccountId::LABEL, id.0, "create", None, Some(account_json(&account)))?;
    Ok(account)
}

pub fn create_contact(tx: &mut Tx, ctx: &WriteCtx, new: NewContact) -> Result<Contact> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot create contacts".into())?;
    let new = new.validated()?;
    if let Some(account) = new.account_id {
        must_exist(
            tx.0.account(ctx.org, account)?.is_some(),
            &RecordRef::new_record(ContactId::LABEL),
            "account_id",
            AccountId::LABEL,
            account.0,
        )?;
    }
    let id = tx.0.insert_contact(ctx.org, &new, ctx.at)?;
    let contact = tx.0.contact(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ContactId::LABEL, id: id.0 })?;
    let after = json!({ "name": contact.name, "emails": contact.emails, "phone": contact.phone, "title": contact.title, "account_id": contact.account_id.map(|id| id.0) });
    audit(tx, ctx, ContactId::LABEL, id.0, "create", None, Some(after))?;
    Ok(contact)
}

pub fn create_pipeline(tx: &mut Tx, ctx: &WriteCtx, new: NewPipeline) -> Result<Pipeline> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins design pipelines".into())?;
    let new = new.validated()?;
    let id = tx.0.insert_pipeline(ctx.org, &new)?;
    let pipeline = tx.0.pipeline(ctx.org, id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: id.0 })?;
    let stages: Vec<Value> =
        pipeline.stages.iter().map(|stage| json!({ "id": stage.id.0, "name_en": stage.name_en, "kind": stage.kind.as_str() })).collect();
    audit(tx, ctx, PipelineId::LABEL, id.0, "create", None, Some(json!({ "name": pipeline.name, "stages": stages })))?;
    Ok(pipeline)
}

pub fn create_lead(tx: &mut Tx, ctx: &WriteCtx, new: NewLead) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot create leads".into())?;
    let new = new.validated()?;
    if let Some(owner) = new.owner_id {
        must_exist(tx.0.user(ctx.org, owner)?.is_some(), &RecordRef::new_record(LeadId::LABEL), "owner_id", UserId::LABEL, owner.0)?;
    }
    let id = tx.0.insert_lead(ctx.org, &new, ctx.at)?;
    let lead = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    audit(tx, ctx, LeadId::LABEL, id.0, "create", None, Some(lead_json(&lead)))?;
    // Scored, and given an owner by the organisation's routing when it came without one.
    crate::routing::on_arrival(tx, ctx, lead)
}

pub(crate) fn account_json(account: &Account) -> Value {
    json!({
        "name": account.name, "domains": account.domains, "industry": account.industry, "employee_count": account.employee_count,
        "region": account.region, "owner_id": account.owner_id.map(|id| id.0),
    })
}

// Partial updates and scoped reads, for the JSON API and every other edge.

pub fn update_account(tx: &mut Tx, ctx: &WriteCtx, id: AccountId, patch: &AccountPatch) -> Result<Account> {
    let access = writer_access(tx, ctx)?;
    let current = tx.0.account(ctx.org, id)?.ok_or(StoreError::NotFound { kind: AccountId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot change accounts".into())?;
    let next = patch.apply(&current)?;
    if let Some(owner) = next.owner_id.filter(|owner| Some(*owner) != current.owner_id) {
        must_exist(tx.0.user(ctx.org, owner)?.is_some(), &RecordRef::new(AccountId::LABEL, id.0), "owner_id", UserId::LABEL, owner.0)?;
    }
    if next != current {
        tx.0.update_account(ctx.org, &next)?;
        audit_update(tx, ctx, AccountId::LABEL, id.0, account_json(&current), account_json(&next))?;
    }
    Ok(next)
}

pub(crate) fn contact_json(contact: &Contact) -> Value {
    json!({ "name": contact.name, "emails": contact.emails, "phone": contact.phone, "title": contact.title, "account_id": contact.account_id.map(|id| id.0) })
}

pub fn update_contact(tx: &mut Tx, ctx: &WriteCtx, id: ContactId, patch: &ContactPatch) -> Result<Contact> {
    let access = writer_access(tx, ctx)?;
    let current = tx.0.contact(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ContactId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot change contacts".into())?;
    let next = patch.apply(&current)?;
    if let Some(account) = next.account_id.filter(|account| Some(*account) != current.account_id) {
        let mut errors = ValidationErrors::default();
        let record = RecordRef::new(ContactId::LABEL, id.0);
        exists(tx.0.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
        errors.into_result(())?;
    }
    if next != current {
        tx.0.update_contact(ctx.org, &next)?;
        audit_update(tx, ctx, ContactId::LABEL, id.0, contact_json(&current), contact_json(&next))?;
    }
    Ok(next)
}

pub(crate) fn lead_json(lead: &Lead) -> Value {
    json!({
        "name": lead.name, "company": lead.company, "email": lead.email, "phone": lead.phone, "title": lead.title,
        "source": lead.source, "industry": lead.industry, "employee_count": lead.employee_count, "region": lead.region,
        "status": lead.status.as_str(), "owner_id": lead.owner_id.map(|id| id.0),
    })
}

pub fn update_lead(tx: &mut Tx, ctx: &WriteCtx, id: LeadId, patch: &LeadPatch) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    let current = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot change leads".into())?;
    let next = patch.apply(&current)?;
    if let Some(owner) = next.owner_id.filter(|owner| Some(*owner) != current.owner_id) {
        let mut errors = ValidationErrors::default();
        exists(tx.0.user(ctx.org, owner)?.is_some(), &mut errors, &RecordRef::new(LeadId::LABEL, id.0), "owner_id", UserId::LABEL, owner.0);
        errors.into_result(())?;
    }
    if next != current {
        tx.0.update_lead(ctx.org, &next)?;
        audit_update(tx, ctx, LeadId::LABEL, id.0, lead_json(&current), lead_json(&next))?;
        crate::routing::on_edit(tx, ctx.org, &next, ctx.at)?;
    }
    Ok(next)
}

// Reads. Accounts, contacts, leads and pipelines are shared records: everyone in the
// organisation sees them.

pub fn account(tx: &mut Tx, org: OrgId, id: AccountId) -> Result<Option<Account>> {
    tx.0.account(org, id)
}

pub fn accounts(tx: &mut Tx, org: OrgId) -> Result<Vec<Account>> {
    tx.0.accounts(org)
}

/// How many accounts the organisation has.
pub fn account_count(tx: &mut Tx, org: OrgId) -> Result<i64> {
    tx.0.count(org, crate::RecordKind::Account)
}

/// The accounts among `ids` (a page's), in id order.
pub fn accounts_by_ids(tx: &mut Tx, org: OrgId, ids: &[AccountId]) -> Result<Vec<Account>> {
    tx.0.accounts_by_ids(org, ids)
}

/// The most characters a picker's search may hold, and the most accounts it offers.
pub const MAX_SEARCH_CHARS: usize = 100;
pub const MAX_SEARCH_RESULTS: u32 = 50;

/// Accounts whose name holds `query` (ignoring case; those starting with it first), at most
/// `limit` of [`MAX_SEARCH_RESULTS`]; the query is trimmed and cut to [`MAX_SEARCH_CHARS`].
pub fn search_accounts(tx: &mut Tx, org: OrgId, query: &str, limit: u32) -> Result<Vec<Account>> {
    let query: String = query.trim().chars().take(MAX_SEARCH_CHARS).collect();
    tx.0.search_accounts(org, &query, limit.clamp(1, MAX_SEARCH_RESULTS))
}

/// A page of the accounts `filter` lets through, in name order (ignoring case, then id), with
/// how many match: read through an index, whatever the number of accounts. A search text is
/// trimmed and cut to [`MAX_SEARCH_CHARS`]; blank is none.
pub fn account_page(tx: &mut Tx, org: OrgId, filter: &AccountFilter, order: NameOrder) -> Result<NamePage<AccountId>> {
    let filter = AccountFilter { text: search_text(filter.text.as_deref()), name: search_text(filter.name.as_deref()), ..filter.clone() };
    tx.0.account_page(org, &filter, order)
}

/// The distinct industries and regions of the organisation's accounts.
pub fn account_facets(tx: &mut Tx, org: OrgId) -> Result<pipewise_store::AccountFacets> {
    tx.0.account_facets(org)
}

/// As [`account_page`], for contacts.
pub fn contact_page(tx: &mut Tx, org: OrgId, filter: &ContactFilter, order: NameOrder) -> Result<NamePage<ContactId>> {
    let filter = ContactFilter { text: search_text(filter.text.as_deref()), ..filter.clone() };
    tx.0.contact_page(org, &filter, order)
}

/// A list's search text as the store takes it: trimmed, at most [`MAX_SEARCH_CHARS`], blank is
/// none.
fn search_text(text: Option<&str>) -> Option<String> {
    text.map(|text| text.trim().chars().take(MAX_SEARCH_CHARS).collect::<String>()).filter(|text| !text.is_empty())
}

pub fn contacts_by_ids(tx: &mut Tx, org: OrgId, ids: &[ContactId]) -> Result<Vec<Contact>> {
    tx.0.contacts_by_ids(org, ids)
}

pub fn contacts_of_account(tx: &mut Tx, org: OrgId, account: AccountId) -> Result<Vec<Contact>> {
    tx.0.contacts_of_account(org, account)
}

pub fn contact(tx: &mut Tx, org: OrgId, id: ContactId) -> Result<Option<Contact>> {
    tx.0.contact(org, id)
}

pub fn contacts(tx: &mut Tx, org: OrgId) -> Result<Vec<Contact>> {
    tx.0.contacts(org)
}

pub fn lead(tx: &mut Tx, org: OrgId, id: LeadId) -> Result<Option<Lead>> {
    tx.0.lead(org, id)
}

pub fn leads(tx: &mut Tx, org: OrgId) -> Result<Vec<Lead>> {
    tx.0.leads(org)
}

pub fn pipeline(tx: &mut Tx, org: OrgId, id: PipelineId) -> Result<Option<Pipeline>> {
    tx.0.pipeline(org, id)
}

pub fn pipelines(tx: &mut Tx, org: OrgId) -> Result<Vec<Pipeline>> {
    tx.0.pipelines(org)
}

/// The organisation's exchange rates (`None` when it has none).
pub fn rate_table(tx: &mut Tx, org: OrgId) -> Result<Option<pipewise_core::fx::RateTable>> {
    tx.0.rate_table(org)
}
