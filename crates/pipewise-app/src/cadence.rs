//! Working leads (SPEC C10): contact attempts logged on a lead (any writer; a first attempt
//! moves a new lead to working; audited), the speed to lead, and the cadence of
//! `pipewise_leads::cadence` with its limit learnt from the organisation's converted leads and
//! its close-out waiting for the organisation's average sales cycle (its won deals' mean days
//! from creation to close). Closing out is refused until the cadence says so. Qualifying is
//! [`crate::qualification`]'s.

use std::collections::HashMap;

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::opportunity::Status;
use pipewise_core::records::{Lead, LeadPatch, LeadStatus};
use pipewise_core::*;
use pipewise_leads::cadence::{self, Attempt, Limit, Policy, Step};
use pipewise_store::LeadAttempt;
use serde_json::json;

use crate::*;

pub use pipewise_store::LeadAttempt as StoredAttempt;

/// The kinds of attempt a rep logs.
pub const KINDS: [&str; 4] = ["call", "email", "message", "last_chance"];
/// The sales cycle assumed before any deal is won.
pub const DEFAULT_CYCLE_DAYS: i64 = 30;

/// Logs an attempt to reach lead `id`. A new lead becomes working.
pub fn log_attempt(tx: &mut Tx, ctx: &WriteCtx, id: LeadId, kind: &str, reached: bool) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot log attempts".into())?;
    let lead = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    let record = RecordRef::new(LeadId::LABEL, id.0);
    if !KINDS.contains(&kind) {
        return Err(FieldError {
            record,
            field: "kind",
            problem: Problem::Invalid { value: kind.chars().take(50).collect(), expected: "call, email, message or last_chance" },
        }
        .into());
    }
    if !matches!(lead.status, LeadStatus::New | LeadStatus::Working) {
        return Err(FieldError {
            record,
            field: "status",
            problem: Problem::Invalid { value: lead.status.as_str().into(), expected: "a lead still new or being worked" },
        }
        .into());
    }
    let attempt = LeadAttempt { id: 0, lead_id: id, user_id: ctx.actor_id, kind: kind.to_owned(), reached, at: ctx.at };
    tx.0.put_lead_attempt(ctx.org, &attempt)?;
    audit(tx, ctx, LeadId::LABEL, id.0, "attempt", None, Some(json!({ "kind": kind, "reached": reached })))?;
    if lead.status == LeadStatus::New {
        let patch = LeadPatch { status: Some(LeadStatus::Working), ..LeadPatch::default() };
        return crate::records::update_lead(tx, ctx, id, &patch);
    }
    Ok(lead)
}

/// The organisation's cadence, learnt now: the limit from its converted leads, and its sales
/// cycle. Rules (closing a lead out) use this; pages use a [`PolicyCache`].
pub fn policy(tx: &mut Tx, org: OrgId) -> Result<Policy> {
    let attempts = tx.0.lead_attempts(org, None)?;
    learnt_policy(tx, org, &attempts)
}

/// Each organisation's cadence as learnt at most [`PolicyCache::KEEP_SECONDS`] ago. Learning it
/// reads every lead, attempt and won deal of the organisation (250,000 won deals in the scale
/// data set), which no page can afford on every request; a learnt limit and an average cycle
/// that are a few minutes old say the same. An edge holds one per process and database.
#[derive(Debug, Default)]
pub struct PolicyCache {
    by_org: std::sync::Mutex<HashMap<OrgId, (Timestamp, Policy)>>,
}

impl PolicyCache {
    pub const KEEP_SECONDS: i64 = 300;

    /// The organisation's policy, learnt again when the one kept is older than the limit (or
    /// from the future: a clock set back).
    pub fn get(&self, tx: &mut Tx, org: OrgId, now: Timestamp) -> Result<Policy> {
        let fresh = |learnt: Timestamp| learnt <= now && now.as_micros() - learnt.as_micros() < Self::KEEP_SECONDS * 1_000_000;
        if let Some((learnt, policy)) = self.by_org.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&org)
            && fresh(*learnt)
        {
            return Ok(*policy);
        }
        let policy = policy(tx, org)?;
        self.by_org.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(org, (now, policy));
        Ok(policy)
    }
}

fn learnt_policy(tx: &mut Tx, org: OrgId, attempts: &[LeadAttempt]) -> Result<Policy> {
    let converted: std::collections::HashSet<LeadId> =
        tx.0.leads(org)?.into_iter().filter(|lead| lead.status == LeadStatus::Converted).map(|lead| lead.id).collect();
    let mut by_lead: HashMap<LeadId, Vec<&LeadAttempt>> = HashMap::new();
    for attempt in attempts.iter().filter(|attempt| converted.contains(&attempt.lead_id) && attempt.kind != "last_chance") {
        by_lead.entry(attempt.lead_id).or_default().push(attempt);
    }
    let reached_after: Vec<u32> = by_lead
        .values()
        .map(|tries| tries.iter().position(|attempt| attempt.reached).map_or(tries.len(), |index| index + 1) as u32)
        .collect();
    let won = tx.0.opportunities(org, &OpportunityFilter { status: Some(Status::Won), ..OpportunityFilter::default() })?;
    let cycles: Vec<i64> = won
        .iter()
        .filter_map(|deal| deal.closed_at.map(|closed| (closed.as_micros() - deal.created_at.as_micros()) / 86_400_000_000))
        .collect();
    let cycle = if cycles.is_empty() { DEFAULT_CYCLE_DAYS } else { cycles.iter().sum::<i64>() / cycles.len() as i64 };
    Ok(Policy::new(cadence::learn_limit(&reached_after), cycle))
}

fn as_attempts(attempts: &[&LeadAttempt]) -> Vec<Attempt> {
    attempts
        .iter()
        .map(|attempt| Attempt { at: attempt.at, reached: attempt.reached, last_chance: attempt.kind == "last_chance" })
        .collect()
}

/// A lead's cadence as its page shows it.
#[derive(Clone, Debug)]
pub struct LeadCadence {
    pub attempts: Vec<LeadAttempt>,
    /// `None` for a lead no longer worked (qualified, converted, disqualified).
    pub step: Option<Step>,
    /// Minutes to the first attempt, and whether inside the window.
    pub first_touch: Option<(i64, bool)>,
    pub limit: Limit,
    pub cycle_days: i64,
    pub first_touch_hours: i64,
}

/// Lead `lead`'s cadence under `policy` (see [`policy`] and [`PolicyCache`]).
pub fn cadence_of(tx: &mut Tx, org: OrgId, lead: &Lead, policy: &Policy, now: Timestamp) -> Result<LeadCadence> {
    let policy = *policy;
    let attempts: Vec<LeadAttempt> = tx.0.lead_attempts(org, Some(lead.id))?;
    let borrowed: Vec<&LeadAttempt> = attempts.iter().collect();
    let tries = as_attempts(&borrowed);
    let worked = matches!(lead.status, LeadStatus::New | LeadStatus::Working);
    Ok(LeadCadence {
        step: worked.then(|| cadence::next_step(lead.created_at, &tries, &policy, now)),
        first_touch: cadence::first_touch(lead.created_at, &tries, &policy),
        attempts,
        limit: policy.limit,
        cycle_days: policy.cycle_days,
        first_touch_hours: policy.first_touch_hours,
    })
}

/// Every worked lead's next step (for lists and the rep's day).
pub fn steps(tx: &mut Tx, org: OrgId, leads: &[Lead], policy: &Policy, now: Timestamp) -> Result<HashMap<LeadId, Step>> {
    let every = tx.0.lead_attempts(org, None)?;
    let mut by_lead: HashMap<LeadId, Vec<&LeadAttempt>> = HashMap::new();
    for attempt in &every {
        by_lead.entry(attempt.lead_id).or_default().push(attempt);
    }
    Ok(leads
        .iter()
        .filter(|lead| matches!(lead.status, LeadStatus::New | LeadStatus::Working))
        .map(|lead| {
            let tries = as_attempts(by_lead.get(&lead.id).map(Vec::as_slice).unwrap_or_default());
            (lead.id, cadence::next_step(lead.created_at, &tries, policy, now))
        })
        .collect())
}

/// Closes lead `id` out (disqualified), only when its cadence says so. Audited.
pub fn close_out(tx: &mut Tx, ctx: &WriteCtx, id: LeadId) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot close leads out".into())?;
    let lead = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    let policy = policy(tx, ctx.org)?;
    let cadence = cadence_of(tx, ctx.org, &lead, &policy, ctx.at)?;
    if cadence.step != Some(Step::CloseOut) {
        let problem = Problem::Invalid {
            value: "close out".into(),
            expected: "a lead past its attempts, its last-chance message and the average sales cycle",
        };
        return Err(FieldError { record: RecordRef::new(LeadId::LABEL, id.0), field: "status", problem }.into());
    }
    let patch = LeadPatch { status: Some(LeadStatus::Disqualified), ..LeadPatch::default() };
    let closed = crate::records::update_lead(tx, ctx, id, &patch)?;
    audit(tx, ctx, LeadId::LABEL, id.0, "close_out", None, Some(json!({ "attempts": cadence.attempts.len() })))?;
    Ok(closed)
}
