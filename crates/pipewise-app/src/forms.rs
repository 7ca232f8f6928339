//! Web forms that create leads (SPEC C10): ops make a form (its public key goes into a web
//! page); anyone may send it, and each submission becomes a lead (scored and routed as every
//! new lead) unless it is spam (the hidden `website` field filled, as bots do), over the limit
//! (more than [`PER_ADDRESS_PER_HOUR`] from one address to the organisation's forms in an hour),
//! invalid (every problem named), or a duplicate (the same address accepted by the form in the
//! last day). Every submission is kept with its outcome; a visitor is never told it was taken
//! for spam.

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::history::Source;
use pipewise_core::records::{Lead, LeadStatus, NewLead};
use pipewise_core::*;
use pipewise_store::{FormSubmission, LeadForm};
use serde_json::json;

use crate::*;

pub use pipewise_store::LeadForm as Form;

/// Submissions one client address may send to an organisation's forms in an hour.
/// (The address is the client's as `--trusted-proxy` lets the server see it: behind a reverse
/// proxy that is not named, every visitor would share the proxy's address and this limit.)
pub const PER_ADDRESS_PER_HOUR: i64 = 20;
/// How long submissions are kept.
pub const KEPT_DAYS: i64 = 30;
/// The hidden field a person leaves empty and a bot fills.
pub const HONEYPOT: &str = "website";
/// The fields a form reads; any other is ignored.
pub const FIELDS: [&str; 8] = ["name", "email", "company", "title", "phone", "industry", "employee_count", "region"];

/// Makes a form for the organisation. Ops and admins; audited.
pub fn create_form(tx: &mut Tx, ctx: &WriteCtx, name: &str, source: &str, redirect_url: Option<&str>) -> Result<Form> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins make lead forms".into())?;
    let record = RecordRef::new_record("lead_form");
    let mut errors = ValidationErrors::default();
    let name = errors.check(&record, "name", text::required(name, 100));
    let source = match source.trim() {
        "" => Some("web form".to_owned()),
        source => errors.check(&record, "source", text::required(source, 100)),
    };
    let redirect_url = redirect_url.map(str::trim).filter(|url| !url.is_empty());
    let bad_url = |url: &str| {
        !(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > 2_000
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if redirect_url.is_some_and(bad_url) {
        errors.push(
            &record,
            "redirect_url",
            Problem::Invalid {
                value: redirect_url.unwrap_or_default().chars().take(200).collect(),
                expected: "an http:// or https:// address",
            },
        );
    }
    errors.into_result(())?;
    let mut form = LeadForm {
        id: 0,
        organisation_id: ctx.org,
        key: crate::secrets::random_hex(16)?,
        name: name.unwrap_or_default(),
        source: source.unwrap_or_default(),
        redirect_url: redirect_url.map(str::to_owned),
        active: true,
        created_at: ctx.at,
    };
    form.id = tx.0.put_lead_form(ctx.org, &form)?;
    audit(
        tx,
        ctx,
        "lead_form",
        form.id,
        "create",
        None,
        Some(json!({ "name": form.name, "source": form.source, "redirect_url": form.redirect_url })),
    )?;
    Ok(form)
}

/// Turns a form on or off (an off form refuses submissions). Ops and admins; audited.
pub fn set_form_active(tx: &mut Tx, ctx: &WriteCtx, id: i64, active: bool) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins change lead forms".into())?;
    if !tx.0.set_lead_form_active(ctx.org, id, active)? {
        return Err(StoreError::NotFound { kind: "lead_form", id });
    }
    audit(tx, ctx, "lead_form", id, if active { "resume" } else { "pause" }, None, Some(json!({ "active": active })))
}

/// A form as its page shows it, with its submissions' outcomes over the last 30 days.
#[derive(Clone, Debug)]
pub struct FormState {
    pub form: Form,
    pub outcomes: Vec<(String, i64)>,
}

/// The organisation's forms. Ops, admins and managers.
pub fn forms_for(tx: &mut Tx, org: OrgId, access: &pipewise_core::access::Access, now: Timestamp) -> Result<Vec<FormState>> {
    let allowed = match access {
        pipewise_core::access::Access::System => true,
        pipewise_core::access::Access::User(actor) => !matches!(actor.role, pipewise_core::user::Role::Rep),
    };
    require(allowed, || "lead forms are for managers, ops and admins".into())?;
    let since = now.plus_seconds(-30 * 86_400);
    tx.0.lead_forms(org)?.into_iter().map(|form| Ok(FormState { outcomes: tx.0.form_outcomes(form.id, since)?, form })).collect()
}

/// The public face of a form: its name and whether it takes submissions.
pub fn form_by_key(db: &Db, key: &str) -> Result<Option<Form>> {
    if key.len() != 32 || !key.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Ok(None);
    }
    db.read()?.0.lead_form_by_key(key)
}

/// Who a submission counts against: the address, or for IPv6 its /64 (one household or
/// server's whole block, which its owner may walk through address by address).
fn sender(client_address: &str) -> String {
    match client_address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let segments = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", segments[0], segments[1], segments[2], segments[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(String::new, |v4| v4.to_string()),
        _ => client_address.chars().take(64).collect(),
    }
}

/// What became of a submission.
#[derive(Clone, Debug, PartialEq)]
pub enum Submitted {
    /// A lead was made.
    Accepted(Box<Lead>),
    /// Taken for spam, over the limit or already sent: answered as if accepted, nothing made.
    Quietly(&'static str),
    /// Refused: every problem, for the visitor to fix.
    Invalid(ValidationErrors),
}

/// Takes one submission of form `key` from `client_address`. `NotFound` when there is no such
/// form or it is off.
pub fn submit(db: &Db, key: &str, client_address: &str, fields: &[(String, String)], at: Timestamp) -> Result<Submitted> {
    let form = form_by_key(db, key)?.ok_or(StoreError::NotFound { kind: "lead_form", id: 0 })?;
    submit_to(db, &form, client_address, fields, at)
}

/// [`submit`] to a form already read (the web edge reads it once for its page too).
pub fn submit_to(db: &Db, form: &Form, client_address: &str, fields: &[(String, String)], at: Timestamp) -> Result<Submitted> {
    if !form.active {
        return Err(StoreError::NotFound { kind: "lead_form", id: form.id });
    }
    let client_address = sender(client_address);
    let client_address = client_address.as_str();
    let org = form.organisation_id;
    let field = |name: &str| fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).filter(|value| !value.is_empty());
    let email = field("email").map(str::to_lowercase);
    let mut tx = db.write()?;
    // The organisation's write lock first, so that simultaneous sends are counted one after
    // another (on PostgreSQL a burst would otherwise all see the same count).
    tx.0.lock_history(org)?;
    let record = |outcome: &str, lead: Option<LeadId>, tx: &mut Tx| {
        let submission = FormSubmission {
            form_id: form.id,
            client_address: client_address.chars().take(64).collect(),
            outcome: outcome.to_owned(),
            email: email.clone(),
            lead_id: lead,
            at,
        };
        tx.0.put_form_submission(org, &submission)
    };
    // Submissions are kept for the page's 30 days, then forgotten (a flood must not grow the
    // table for ever); the leads they made stay.
    tx.0.prune_form_submissions(form.id, at.plus_seconds(-KEPT_DAYS * 86_400))?;
    let recent = tx.0.form_submissions_from(org, client_address, at.plus_seconds(-3_600))?;
    let quiet = if field(HONEYPOT).is_some() {
        Some("spam")
    } else if recent >= PER_ADDRESS_PER_HOUR {
        Some("limited")
    } else if let Some(email) = &email
        && tx.0.form_accepted_email(form.id, email, at.plus_seconds(-86_400))?
    {
        Some("duplicate")
    } else {
        None
    };
    if let Some(outcome) = quiet {
        record(outcome, None, &mut tx)?;
        tx.commit()?;
        return Ok(Submitted::Quietly(outcome));
    }
    let record_ref = RecordRef::new_record(LeadId::LABEL);
    let mut errors = ValidationErrors::default();
    if email.is_none() {
        errors.push(&record_ref, "email", Problem::Required);
    }
    let employee_count = match field("employee_count") {
        None => None,
        Some(raw) => raw
            .replace([',', ' '], "")
            .parse::<i64>()
            .map_err(|_| {
                errors.push(
                    &record_ref,
                    "employee_count",
                    Problem::Invalid { value: raw.chars().take(50).collect(), expected: "a whole number" },
                )
            })
            .ok(),
    };
    let new = NewLead {
        name: field("name").unwrap_or_default().to_owned(),
        company: field("company").map(str::to_owned),
        email: email.clone(),
        phone: field("phone").map(str::to_owned),
        title: field("title").map(str::to_owned),
        source: Some(form.source.clone()),
        industry: field("industry").map(str::to_owned),
        employee_count,
        region: field("region").map(str::to_owned),
        status: LeadStatus::New,
        owner_id: None,
    };
    let new = match new.validated() {
        Ok(new) if errors.0.is_empty() => new,
        Ok(_) => {
            record("invalid", None, &mut tx)?;
            tx.commit()?;
            return Ok(Submitted::Invalid(errors));
        }
        Err(more) => {
            errors.0.extend(more.0);
            record("invalid", None, &mut tx)?;
            tx.commit()?;
            return Ok(Submitted::Invalid(errors));
        }
    };
    let ctx = WriteCtx { org, actor_id: None, source: Source::Web, at };
    let lead = crate::records::create_lead(&mut tx, &ctx, new)?;
    record("accepted", Some(lead.id), &mut tx)?;
    tx.commit()?;
    Ok(Submitted::Accepted(Box::new(lead)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_senders_count_by_their_64_block() {
        assert_eq!(sender("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(sender("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(sender("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(sender("203.0.113.7"), "203.0.113.7");
        assert_eq!(sender("unknown"), "unknown");
    }
}
