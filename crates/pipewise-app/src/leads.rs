//! Leads (SPEC C10): converting a qualified lead into an account, a contact and (optionally) a
//! deal in one step, in one transaction.
//!
//! - **Account:** the one given; else the account named like the lead's company; else the one
//!   whose domain is the lead's address's (never a free-mail domain such as gmail.com or
//!   naver.com); else a new account named after the company, with that domain. A lead with no
//!   company and no account given cannot be converted (B2B: a deal needs a customer).
//! - **Contact:** the account's contact with the lead's address if there is one, else a new one
//!   with the lead's name, address, phone and title.
//! - **Deal:** when asked, created through [`crate::deals::create_opportunity`] (so gates,
//!   history and audit apply) in the pipeline's entry stage, owned by the lead's owner (or the
//!   converting user), named after the company unless named.
//! - **Lead:** marked converted. A converted or disqualified lead is refused.
//!
//! Who: anyone who may write accounts (every role but viewer); the deal's owner rules are the
//! deal's.

use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::message::Message;
use pipewise_core::money::Money;
use pipewise_core::opportunity::{NewOpportunity, Opportunity};
use pipewise_core::records::{Account, Contact, Lead, LeadPatch, LeadStatus, NewAccount, NewContact};
use pipewise_core::*;

use crate::*;

/// What a conversion should make besides the account and the contact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conversion {
    /// The account to convert into; found or created from the lead when `None`.
    pub account_id: Option<AccountId>,
    /// A deal too, in this pipeline (the organisation's first when `None` and a deal is asked).
    pub deal: Option<DealOfLead>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DealOfLead {
    pub name: Option<String>,
    pub amount: Option<Money>,
    pub close_date: Option<Date>,
    pub pipeline_id: Option<PipelineId>,
}

/// What a conversion made or found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    pub lead: Lead,
    pub account: Account,
    /// Whether the account was made by this conversion.
    pub account_created: bool,
    pub contact: Contact,
    pub contact_created: bool,
    pub opportunity: Option<Opportunity>,
}

/// The company domain of an address (its registrable domain under the Public Suffix List),
/// unless it is a free-mail provider's (gmail.com, naver.com, …).
pub(crate) fn company_domain(email: &str) -> Option<String> {
    pipewise_capture::domains::company_domain(&email.rsplit_once('@')?.1.to_lowercase())
}

fn same_name(a: &str, b: &str) -> bool {
    let normal = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    normal(a) == normal(b)
}

/// Converts lead `id` as the module says.
pub fn convert(tx: &mut Tx, ctx: &WriteCtx, id: LeadId, conversion: &Conversion) -> Result<Converted> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(pipewise_core::access::SharedKind::Account), || "a viewer cannot convert leads".into())?;
    let lead = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    let record = RecordRef::new(LeadId::LABEL, id.0);
    if matches!(lead.status, LeadStatus::Converted | LeadStatus::Disqualified) {
        let message = Message::new("rule.lead_not_convertible").text("status", lead.status.as_str());
        return Err(FieldError { record, field: "status", problem: Problem::Fact(message) }.into());
    }
    let accounts = tx.0.accounts(ctx.org)?;
    let domain = lead.email.as_deref().and_then(company_domain);
    let (account, account_created) = match conversion.account_id {
        Some(account_id) => {
            let account = accounts.into_iter().find(|account| account.id == account_id);
            let account = account.ok_or_else(|| {
                field_problem(&record, "account_id", Problem::UnknownReference { kind: AccountId::LABEL, id: account_id.0 })
            })?;
            (account, false)
        }
        None => {
            let by_name = lead.company.as_deref().and_then(|company| accounts.iter().find(|account| same_name(&account.name, company)));
            let by_domain = domain.as_ref().and_then(|domain| accounts.iter().find(|account| account.domains.contains(domain)));
            match by_name.or(by_domain) {
                Some(account) => (account.clone(), false),
                None => {
                    let Some(company) = lead.company.clone() else {
                        return Err(field_problem(&record, "company", Problem::Fact(Message::new("rule.lead_needs_company"))));
                    };
                    let new = NewAccount {
                        name: company,
                        domains: domain.clone().into_iter().collect(),
                        industry: None,
                        employee_count: None,
                        region: None,
                        owner_id: lead.owner_id,
                    };
                    (crate::records::create_account(tx, ctx, new)?, true)
                }
            }
        }
    };
    let existing_contact = match &lead.email {
        Some(email) => {
            tx.0.contacts(ctx.org)?.into_iter().find(|contact| contact.account_id == Some(account.id) && contact.emails.contains(email))
        }
        None => None,
    };
    let (contact, contact_created) = match existing_contact {
        Some(contact) => (contact, false),
        None => {
            let new = NewContact {
                name: lead.name.clone(),
                emails: lead.email.clone().into_iter().collect(),
                phone: lead.phone.clone(),
                title: lead.title.clone(),
                account_id: Some(account.id),
            };
            (crate::records::create_contact(tx, ctx, new)?, true)
        }
    };
    let opportunity = match &conversion.deal {
        Some(deal) => {
            let pipeline_id = match deal.pipeline_id {
                Some(pipeline) => pipeline,
                None => {
                    tx.0.pipelines(ctx.org)?
                        .iter()
                        .map(|pipeline| pipeline.id)
                        .min()
                        .ok_or_else(|| field_problem(&record, "pipeline_id", Problem::Required))?
                }
            };
            let owner_id = lead.owner_id.or(ctx.actor_id).ok_or_else(|| field_problem(&record, "owner_id", Problem::Required))?;
            let new = NewOpportunity {
                name: deal.name.clone().unwrap_or_else(|| account.name.clone()),
                account_id: Some(account.id),
                owner_id,
                pipeline_id,
                stage_id: None,
                amount: deal.amount,
                close_date: deal.close_date,
                forecast_category: None,
                next_step: None,
                close_reason: None,
            };
            Some(crate::deals::create_opportunity(tx, ctx, &new)?)
        }
        None => None,
    };
    let patch = LeadPatch { status: Some(LeadStatus::Converted), ..LeadPatch::default() };
    let lead = crate::records::update_lead(tx, ctx, id, &patch)?;
    let details = serde_json::json!({
        "account_id": account.id.0,
        "contact_id": contact.id.0,
        "opportunity_id": opportunity.as_ref().map(|deal| deal.id.0),
    });
    audit(tx, ctx, LeadId::LABEL, id.0, "convert", None, Some(details))?;
    Ok(Converted { lead, account, account_created, contact, contact_created, opportunity })
}

fn field_problem(record: &RecordRef, field: &'static str, problem: Problem) -> StoreError {
    FieldError { record: record.clone(), field, problem }.into()
}
