//! Qualifying leads (SPEC C10): the six questions beyond BANT answered on a lead (any writer;
//! audited; answers that qualify move a new or worked lead to qualified), and each lead source's
//! yield, flagging "many leads but few qualified" for marketing.

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::records::{Lead, LeadPatch, LeadStatus};
use pipewise_core::*;
use serde_json::json;

use crate::*;

/// A lead's qualification beyond BANT, as answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadQualification {
    pub answers: Vec<(pipewise_leads::qualification::Criterion, pipewise_leads::qualification::Answer)>,
    pub judged: pipewise_leads::qualification::Qualification,
    pub updated_by: Option<UserId>,
    pub updated_at: Timestamp,
}

fn verdict_key(verdict: pipewise_leads::qualification::Verdict) -> &'static str {
    match verdict {
        pipewise_leads::qualification::Verdict::Qualified => "qualified",
        pipewise_leads::qualification::Verdict::NotAFit => "not_a_fit",
        pipewise_leads::qualification::Verdict::KeepQualifying => "keep_qualifying",
    }
}

/// Records the answers to the qualification questions (`(question key, answer key)`; every
/// unknown key named). A lead new or being worked that the answers qualify becomes qualified.
/// Any writer; audited.
pub fn qualify(tx: &mut Tx, ctx: &WriteCtx, id: LeadId, answers: &[(String, String)]) -> Result<(Lead, LeadQualification)> {
    use pipewise_leads::qualification::{self, Answer, Criterion, Verdict};
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot qualify leads".into())?;
    let lead = tx.0.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    let record = RecordRef::new(LeadId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    let mut parsed = Vec::new();
    for (question, answer) in answers {
        match (Criterion::parse(question), Answer::parse(answer)) {
            (Some(criterion), Some(answer)) => parsed.push((criterion, answer)),
            (None, _) => errors.push(
                &record,
                "qualification",
                Problem::Invalid {
                    value: question.chars().take(50).collect(),
                    expected: "expectations, success, resources, outlook, threats or worth",
                },
            ),
            (_, None) => errors.push(
                &record,
                "qualification",
                Problem::Invalid { value: answer.chars().take(50).collect(), expected: "yes, partly, no or unknown" },
            ),
        }
    }
    errors.into_result(())?;
    let judged = qualification::judge(&parsed);
    let text =
        serde_json::Value::Object(parsed.iter().map(|(criterion, answer)| (criterion.key().to_owned(), json!(answer.key()))).collect())
            .to_string();
    let stored = pipewise_store::StoredQualification {
        lead_id: id,
        answers: text.clone(),
        score: i32::from(judged.score),
        verdict: verdict_key(judged.verdict).to_owned(),
        updated_by: ctx.actor_id,
        updated_at: ctx.at,
    };
    tx.0.put_lead_qualification(ctx.org, &stored)?;
    audit(
        tx,
        ctx,
        LeadId::LABEL,
        id.0,
        "qualify",
        None,
        Some(json!({ "answers": serde_json::from_str::<serde_json::Value>(&text).ok(), "score": judged.score, "verdict": stored.verdict })),
    )?;
    let lead = if judged.verdict == Verdict::Qualified && matches!(lead.status, LeadStatus::New | LeadStatus::Working) {
        crate::records::update_lead(tx, ctx, id, &LeadPatch { status: Some(LeadStatus::Qualified), ..LeadPatch::default() })?
    } else {
        lead
    };
    Ok((lead, LeadQualification { answers: parsed, judged, updated_by: ctx.actor_id, updated_at: ctx.at }))
}

/// A lead's qualification, if anyone has answered.
pub fn qualification_of(tx: &mut Tx, org: OrgId, id: LeadId) -> Result<Option<LeadQualification>> {
    use pipewise_leads::qualification::{self, Answer, Criterion};
    let Some(stored) = tx.0.lead_qualification(org, id)? else { return Ok(None) };
    let value: serde_json::Value = serde_json::from_str(&stored.answers)
        .map_err(|error| StoreError::Corrupt { table: "lead_qualification", detail: error.to_string() })?;
    let answers: Vec<(Criterion, Answer)> = value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(question, answer)| Some((Criterion::parse(question)?, Answer::parse(answer.as_str()?)?)))
        .collect();
    Ok(Some(LeadQualification {
        judged: qualification::judge(&answers),
        answers,
        updated_by: stored.updated_by,
        updated_at: stored.updated_at,
    }))
}

/// One lead source's yield: "many leads but few qualified" is a red flag for marketing.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceYield {
    pub source: String,
    pub leads: usize,
    /// Qualified or converted.
    pub qualified: usize,
    pub flagged: bool,
}

/// Below this many leads a source is not judged.
pub const SOURCE_MIN_LEADS: usize = 20;

/// Each source's leads over the last `days` and how many qualified; a source is flagged when it
/// brought at least [`SOURCE_MIN_LEADS`] and qualified under half the organisation's rate, or
/// under one in ten.
pub fn source_yields(tx: &mut Tx, org: OrgId, now: Timestamp, days: i64) -> Result<Vec<SourceYield>> {
    let since = now.plus_seconds(-days * 86_400);
    let mut yields: Vec<SourceYield> = Vec::new();
    for lead in tx.0.leads(org)?.into_iter().filter(|lead| lead.created_at >= since && lead.created_at <= now) {
        let source = lead.source.clone().unwrap_or_default();
        let good = matches!(lead.status, LeadStatus::Qualified | LeadStatus::Converted);
        match yields.iter_mut().find(|found| found.source == source) {
            Some(found) => {
                found.leads += 1;
                found.qualified += usize::from(good);
            }
            None => yields.push(SourceYield { source, leads: 1, qualified: usize::from(good), flagged: false }),
        }
    }
    let (all, good): (usize, usize) = yields.iter().fold((0, 0), |(all, good), found| (all + found.leads, good + found.qualified));
    let rate = if all == 0 { 0.0 } else { good as f64 / all as f64 };
    for found in &mut yields {
        let share = found.qualified as f64 / found.leads as f64;
        found.flagged = found.leads >= SOURCE_MIN_LEADS && (share < rate / 2.0 || share < 0.1);
    }
    yields.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));
    Ok(yields)
}
