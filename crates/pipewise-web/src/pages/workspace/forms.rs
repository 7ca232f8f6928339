//! Every part's form as text: filled from the stored workspace ([`PartForms::from_workspace`]),
//! with blank rows to add to, or as typed into a refused form ([`PartForms::take_typed`]).

use pipewise_core::Date;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{
    ApprovalChecklist, ApprovalPerson, Bant, BantItem, ClosePlan, CompetitorAssessment, FourBox, Stakeholder, Workspace, add_days,
    days_between,
};
use serde::Serialize;

use super::{BLANK_ROWS, row_count};
use crate::i18n::t;
use crate::pages::Params;

#[derive(Clone, Debug, Default, Serialize)]
pub struct BantRow {
    pub item: &'static str,
    pub label: String,
    pub status: String,
    pub note: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FourBoxForm {
    pub business_issue: String,
    pub problem: String,
    pub solution: String,
    pub benefit_quantitative: String,
    pub benefit_qualitative: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StakeholderRow {
    pub contact_id: String,
    pub buying_role: String,
    pub level: String,
    pub rank: String,
    pub influence: String,
    pub evidence: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CriterionRow {
    pub label: String,
    pub importance: String,
    pub ours: String,
    pub theirs: String,
    pub note: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CompetitorForm {
    pub name: String,
    pub key_person: String,
    pub criteria: Vec<CriterionRow>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PlanRow {
    pub position: String,
    pub title: String,
    pub side: String,
    pub owner: String,
    pub target: String,
    pub done: String,
    pub step: String,
    /// The row comes after the signing milestone (the plan runs on to project start).
    pub after_signing: bool,
}

/// Marks the rows after the first signing milestone.
fn mark_after_signing(rows: &mut [PlanRow]) {
    let mut signed = false;
    for row in rows {
        row.after_signing = signed && !row.title.trim().is_empty();
        if row.step == "signing" {
            signed = true;
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ClosePlanForm {
    pub rows: Vec<PlanRow>,
    pub first_shared_on: String,
    pub agreed_on: String,
}

/// One meeting of the approval body's calendar.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CalendarRow {
    pub date: String,
    /// When its papers are due, as many days before it as the planned meeting's; shown, not
    /// typed. Empty while no meeting is planned (or for a row as typed).
    pub papers_due: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ApprovalFormView {
    pub named_approver: String,
    pub real_approver: String,
    pub po_signer: String,
    pub departments: String,
    pub form: String,
    pub meeting_needed: String,
    pub meeting_body: String,
    pub meeting_date: String,
    pub submission_deadline: String,
    pub submitted_on: String,
    /// The body's regular meetings, with blank rows to add to.
    pub calendar: Vec<CalendarRow>,
    pub drafter: String,
    pub drafter_passed: String,
    pub draft_started_on: String,
}

/// Every part's form as typed (or as stored).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PartForms {
    pub bant: Vec<BantRow>,
    pub four_box: FourBoxForm,
    pub stakeholders: Vec<StakeholderRow>,
    pub competitors: Vec<CompetitorForm>,
    pub close_plan: ClosePlanForm,
    pub approval: ApprovalFormView,
}

fn date_text(date: Option<Date>) -> String {
    date.map(|date| date.to_string()).unwrap_or_default()
}

fn yes_no(value: Option<bool>) -> String {
    match value {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

fn bant_label(locale: Locale, item: BantItem) -> String {
    t(locale, &format!("bant.{}", item.as_str())).to_owned()
}

impl PartForms {
    /// The forms filled with `workspace`, with blank rows to add to each list.
    pub fn from_workspace(workspace: &Workspace, locale: Locale) -> PartForms {
        PartForms {
            bant: stored_bant(&workspace.bant, locale),
            four_box: stored_four_box(&workspace.four_box),
            stakeholders: stored_stakeholders(&workspace.stakeholders),
            competitors: stored_competitors(&workspace.competitors),
            close_plan: stored_close_plan(&workspace.close_plan),
            approval: stored_approval(&workspace.approval),
        }
    }

    /// Replaces `part`'s form with what `params` hold, as typed.
    pub fn take_typed(&mut self, part: &str, params: &Params, locale: Locale) {
        match part {
            "bant" => self.bant = typed_bant(params, locale),
            "four_box" => self.four_box = typed_four_box(params),
            "stakeholders" => self.stakeholders = typed_stakeholders(params),
            "competitors" => self.competitors = typed_competitors(params),
            "close_plan" => self.close_plan = typed_close_plan(params),
            "approval" => self.approval = typed_approval(params),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// As stored.

fn stored_bant(bant: &Bant, locale: Locale) -> Vec<BantRow> {
    BantItem::ALL
        .iter()
        .map(|item| {
            let entry = bant.entry(*item);
            BantRow {
                item: item.as_str(),
                label: bant_label(locale, *item),
                status: entry.status.as_str().into(),
                note: entry.note.clone(),
            }
        })
        .collect()
}

fn stored_four_box(four_box: &FourBox) -> FourBoxForm {
    FourBoxForm {
        business_issue: four_box.business_issue.clone(),
        problem: four_box.problem.clone(),
        solution: four_box.solution.clone(),
        benefit_quantitative: four_box.benefit_quantitative.clone(),
        benefit_qualitative: four_box.benefit_qualitative.clone(),
    }
}

fn stored_stakeholders(stakeholders: &[Stakeholder]) -> Vec<StakeholderRow> {
    let mut rows: Vec<StakeholderRow> = stakeholders
        .iter()
        .map(|person| StakeholderRow {
            contact_id: person.contact_id.to_string(),
            buying_role: person.buying_role.as_str().into(),
            level: person.level.as_str().into(),
            rank: person.rank.to_string(),
            influence: person.influence.to_string(),
            evidence: person.influence_evidence.clone(),
        })
        .collect();
    rows.extend((0..BLANK_ROWS).map(|_| StakeholderRow::default()));
    rows
}

/// Each competitor with blank criteria rows to add to, then a blank competitor with three.
fn stored_competitors(competitors: &[CompetitorAssessment]) -> Vec<CompetitorForm> {
    let mut forms: Vec<CompetitorForm> = competitors
        .iter()
        .map(|assessment| {
            let mut criteria: Vec<CriterionRow> = assessment
                .criteria
                .iter()
                .map(|criterion| CriterionRow {
                    label: criterion.label.clone(),
                    importance: criterion.importance.to_string(),
                    ours: criterion.ours.to_string(),
                    theirs: criterion.theirs.to_string(),
                    note: criterion.note.clone(),
                })
                .collect();
            criteria.extend((0..BLANK_ROWS).map(|_| CriterionRow::default()));
            CompetitorForm { name: assessment.competitor.clone(), key_person: assessment.key_person.clone().unwrap_or_default(), criteria }
        })
        .collect();
    forms.push(CompetitorForm { criteria: (0..3).map(|_| CriterionRow::default()).collect(), ..CompetitorForm::default() });
    forms
}

fn stored_close_plan(plan: &ClosePlan) -> ClosePlanForm {
    let mut rows: Vec<PlanRow> = plan
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| PlanRow {
            position: (index + 1).to_string(),
            title: item.title.clone(),
            side: item.side.as_str().into(),
            owner: item.owner.clone(),
            target: date_text(item.target_date),
            done: date_text(item.done_on),
            step: item.step.as_str().into(),
            after_signing: false,
        })
        .collect();
    mark_after_signing(&mut rows);
    let next = rows.len();
    rows.extend((0..BLANK_ROWS).map(|offset| PlanRow {
        position: (next + offset + 1).to_string(),
        side: "customer".into(),
        step: "task".into(),
        ..PlanRow::default()
    }));
    ClosePlanForm { rows, first_shared_on: date_text(plan.first_shared_on), agreed_on: date_text(plan.agreed_on) }
}

fn stored_approval(approval: &ApprovalChecklist) -> ApprovalFormView {
    let person = |person: &Option<ApprovalPerson>| person.as_ref().map(|person| person.name.clone()).unwrap_or_default();
    let meeting = approval.meeting.as_ref();
    let lead_days = meeting.map(|meeting| days_between(meeting.submission_deadline, meeting.date).max(0));
    let mut calendar: Vec<CalendarRow> = approval
        .meeting_calendar
        .iter()
        .map(|date| CalendarRow {
            date: date.to_string(),
            papers_due: lead_days.map(|lead| add_days(*date, -lead).to_string()).unwrap_or_default(),
        })
        .collect();
    calendar.extend((0..BLANK_ROWS).map(|_| CalendarRow::default()));
    ApprovalFormView {
        named_approver: person(&approval.named_approver),
        real_approver: person(&approval.real_approver),
        po_signer: person(&approval.po_signer),
        departments: approval.departments_with_power.join("\n"),
        form: approval.form.map(|form| form.as_str().to_owned()).unwrap_or_default(),
        meeting_needed: yes_no(approval.meeting_needed),
        meeting_body: meeting.map_or("board", |meeting| meeting.body.as_str()).to_owned(),
        meeting_date: date_text(meeting.map(|meeting| meeting.date)),
        submission_deadline: date_text(meeting.map(|meeting| meeting.submission_deadline)),
        submitted_on: date_text(meeting.and_then(|meeting| meeting.submitted_on)),
        calendar,
        drafter: person(&approval.drafter),
        drafter_passed: yes_no(approval.drafter_passed_amount_before),
        draft_started_on: date_text(approval.draft_started_on),
    }
}

// ---------------------------------------------------------------------------------------------
// As typed.

fn typed_bant(params: &Params, locale: Locale) -> Vec<BantRow> {
    let raw = |name: &str| params.raw(name).to_owned();
    BantItem::ALL
        .iter()
        .map(|item| BantRow {
            item: item.as_str(),
            label: bant_label(locale, *item),
            status: raw(&format!("{}_status", item.as_str())),
            note: raw(&format!("{}_note", item.as_str())),
        })
        .collect()
}

fn typed_four_box(params: &Params) -> FourBoxForm {
    let raw = |name: &str| params.raw(name).to_owned();
    FourBoxForm {
        business_issue: raw("business_issue"),
        problem: raw("problem"),
        solution: raw("solution"),
        benefit_quantitative: raw("benefit_quantitative"),
        benefit_qualitative: raw("benefit_qualitative"),
    }
}

fn typed_stakeholders(params: &Params) -> Vec<StakeholderRow> {
    (0..row_count(params, "s", "_contact"))
        .map(|index| {
            let field = |name: &str| params.raw(&format!("s{index}_{name}")).to_owned();
            StakeholderRow {
                contact_id: field("contact"),
                buying_role: field("role"),
                level: field("level"),
                rank: field("rank"),
                influence: field("influence"),
                evidence: field("evidence"),
            }
        })
        .collect()
}

fn typed_competitors(params: &Params) -> Vec<CompetitorForm> {
    let raw = |name: &str| params.raw(name).to_owned();
    (0..row_count(params, "c", "_name"))
        .map(|index| CompetitorForm {
            name: raw(&format!("c{index}_name")),
            key_person: raw(&format!("c{index}_key_person")),
            criteria: (0..row_count(params, &format!("c{index}_k"), "_label"))
                .map(|row| {
                    let field = |name: &str| raw(&format!("c{index}_k{row}_{name}"));
                    CriterionRow {
                        label: field("label"),
                        importance: field("importance"),
                        ours: field("ours"),
                        theirs: field("theirs"),
                        note: field("note"),
                    }
                })
                .collect(),
        })
        .collect()
}

fn typed_close_plan(params: &Params) -> ClosePlanForm {
    let raw = |name: &str| params.raw(name).to_owned();
    let mut form = ClosePlanForm {
        rows: (0..row_count(params, "p", "_title"))
            .map(|index| {
                let field = |name: &str| raw(&format!("p{index}_{name}"));
                PlanRow {
                    position: field("position"),
                    title: field("title"),
                    side: field("side"),
                    owner: field("owner"),
                    target: field("target"),
                    done: field("done"),
                    step: field("step"),
                    after_signing: false,
                }
            })
            .collect(),
        first_shared_on: raw("first_shared_on"),
        agreed_on: raw("agreed_on"),
    };
    mark_after_signing(&mut form.rows);
    form
}

fn typed_approval(params: &Params) -> ApprovalFormView {
    let raw = |name: &str| params.raw(name).to_owned();
    ApprovalFormView {
        named_approver: raw("named_approver"),
        real_approver: raw("real_approver"),
        po_signer: raw("po_signer"),
        departments: raw("departments"),
        form: raw("form"),
        meeting_needed: raw("meeting_needed"),
        meeting_body: raw("meeting_body"),
        meeting_date: raw("meeting_date"),
        submission_deadline: raw("submission_deadline"),
        submitted_on: raw("submitted_on"),
        calendar: (0..row_count(params, "m", "_date"))
            .map(|index| CalendarRow { date: raw(&format!("m{index}_date")), papers_due: String::new() })
            .collect(),
        drafter: raw("drafter"),
        drafter_passed: raw("drafter_passed"),
        draft_started_on: raw("draft_started_on"),
    }
}
