//! The deal workspace (SPEC C3) on the deal page: one form per part (BANT, four-box story,
//! stakeholder map, competitive assessment, mutual close plan, approval checklist), each read
//! back from what was typed with every bad field named beside its input, and the flags and
//! quadrants of each part.
//!
//! Forms keep what was typed as text ([`PartForms`]); [`parse`] turns one part's text into the
//! domain value or a map from input name to message. Lists (stakeholders, competitors and their
//! criteria, close-plan items, the approval body's meeting calendar) are numbered rows
//! (`s0_rank`, `c1_k2_ours`, `p3_title`, `m0_date`) with a few
//! blank rows to add to; a row left blank is ignored and a row marked "remove" is dropped.

use std::collections::{BTreeMap, HashMap};

use pipewise_core::error::Problem;
use pipewise_core::time::parse_date;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{
    ApprovalChecklist, ApprovalForm, ApprovalMeeting, ApprovalPerson, Bant, BantEntry, BantItem, BantStatus, BuyingRole, ClosePlan,
    ClosePlanItem, CompetitiveCriterion, CompetitorAssessment, Flag, FourBox, Level, MeetingBody, PlanStep, SCALE, Side, Stakeholder,
    Workspace, WorkspacePart, add_days, days_between,
};
use pipewise_core::{ContactId, Date};
use serde::Serialize;

use super::Params;
use super::form;
use super::list::Choice;
use super::quadrant::{self, QuadrantView};
use crate::i18n::{self, t};

/// Blank rows offered under each list for adding.
const BLANK_ROWS: usize = 2;
/// The most rows of one list a form may send.
const MAX_ROWS: usize = 100;

/// The six parts, in the seed's order; each is one form posted to
/// `/opportunities/{id}/workspace/{part}`.
pub const PARTS: [&str; 6] = ["bant", "four_box", "stakeholders", "competitors", "close_plan", "approval"];

/// Problems of one form, by input name, in the reader's language.
pub type FieldErrors = HashMap<String, String>;

// ---------------------------------------------------------------------------------------------
// What was typed.

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
        let bant = BantItem::ALL
            .iter()
            .map(|item| {
                let entry = workspace.bant.entry(*item);
                BantRow {
                    item: item.as_str(),
                    label: bant_label(locale, *item),
                    status: entry.status.as_str().into(),
                    note: entry.note.clone(),
                }
            })
            .collect();
        let four_box = FourBoxForm {
            business_issue: workspace.four_box.business_issue.clone(),
            problem: workspace.four_box.problem.clone(),
            solution: workspace.four_box.solution.clone(),
            benefit_quantitative: workspace.four_box.benefit_quantitative.clone(),
            benefit_qualitative: workspace.four_box.benefit_qualitative.clone(),
        };
        let mut stakeholders: Vec<StakeholderRow> = workspace
            .stakeholders
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
        stakeholders.extend((0..BLANK_ROWS).map(|_| StakeholderRow::default()));
        let mut competitors: Vec<CompetitorForm> = workspace
            .competitors
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
                CompetitorForm {
                    name: assessment.competitor.clone(),
                    key_person: assessment.key_person.clone().unwrap_or_default(),
                    criteria,
                }
            })
            .collect();
        competitors.push(CompetitorForm { criteria: (0..3).map(|_| CriterionRow::default()).collect(), ..CompetitorForm::default() });
        let plan = &workspace.close_plan;
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
        let approval = &workspace.approval;
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
        PartForms {
            bant,
            four_box,
            stakeholders,
            competitors,
            close_plan: ClosePlanForm { rows, first_shared_on: date_text(plan.first_shared_on), agreed_on: date_text(plan.agreed_on) },
            approval: ApprovalFormView {
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
            },
        }
    }

    /// Replaces `part`'s form with what `params` hold, as typed.
    pub fn take_typed(&mut self, part: &str, params: &Params, locale: Locale) {
        let raw = |name: &str| params.raw(name).to_owned();
        match part {
            "bant" => {
                self.bant = BantItem::ALL
                    .iter()
                    .map(|item| BantRow {
                        item: item.as_str(),
                        label: bant_label(locale, *item),
                        status: raw(&format!("{}_status", item.as_str())),
                        note: raw(&format!("{}_note", item.as_str())),
                    })
                    .collect();
            }
            "four_box" => {
                self.four_box = FourBoxForm {
                    business_issue: raw("business_issue"),
                    problem: raw("problem"),
                    solution: raw("solution"),
                    benefit_quantitative: raw("benefit_quantitative"),
                    benefit_qualitative: raw("benefit_qualitative"),
                };
            }
            "stakeholders" => {
                self.stakeholders = (0..row_count(params, "s", "_contact"))
                    .map(|index| {
                        let field = |name: &str| raw(&format!("s{index}_{name}"));
                        StakeholderRow {
                            contact_id: field("contact"),
                            buying_role: field("role"),
                            level: field("level"),
                            rank: field("rank"),
                            influence: field("influence"),
                            evidence: field("evidence"),
                        }
                    })
                    .collect();
            }
            "competitors" => {
                self.competitors = (0..row_count(params, "c", "_name"))
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
                    .collect();
            }
            "close_plan" => {
                self.close_plan = ClosePlanForm {
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
                mark_after_signing(&mut self.close_plan.rows);
            }
            "approval" => {
                self.approval = ApprovalFormView {
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
                };
            }
            _ => {}
        }
    }
}

/// How many numbered rows `prefix{n}{suffix}` the form sent (one past the highest index).
fn row_count(params: &Params, prefix: &str, suffix: &str) -> usize {
    params
        .0
        .iter()
        .filter_map(|(key, _)| key.strip_prefix(prefix)?.strip_suffix(suffix)?.parse::<usize>().ok())
        .filter(|index| *index < MAX_ROWS)
        .map(|index| index + 1)
        .max()
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Reading a part.

struct Reader<'a> {
    locale: Locale,
    errors: FieldErrors,
    params: &'a Params,
}

impl Reader<'_> {
    fn push(&mut self, name: &str, problem: &Problem) {
        form::add(&mut self.errors, name.to_owned(), i18n::problem(self.locale, problem));
    }

    fn text(&self, name: &str) -> String {
        self.params.raw(name).trim().to_owned()
    }

    fn is_on(&self, name: &str) -> bool {
        self.params.get(name).is_some()
    }

    fn date(&mut self, name: &str) -> Option<Date> {
        let raw = self.text(name);
        if raw.is_empty() {
            return None;
        }
        match parse_date(&raw) {
            Ok(date) => Some(date),
            Err(problem) => {
                self.push(name, &problem);
                None
            }
        }
    }

    fn scale(&mut self, name: &str) -> u8 {
        let raw = self.text(name);
        if raw.is_empty() {
            self.push(name, &Problem::Required);
            return 0;
        }
        match raw.parse::<u8>() {
            Ok(value) if SCALE.contains(&value) => value,
            _ => {
                self.push(name, &Problem::OutOfRange { value: raw, range: "1 to 5" });
                0
            }
        }
    }

    fn choice<T: Copy>(&mut self, name: &str, parse: fn(&str) -> Result<T, Problem>) -> Option<T> {
        let raw = self.text(name);
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(name, &problem);
                None
            }
        }
    }

    fn optional_choice<T: Copy>(&mut self, name: &str, parse: fn(&str) -> Result<T, Problem>) -> Option<T> {
        if self.text(name).is_empty() { None } else { self.choice(name, parse) }
    }

    fn yes_no(&mut self, name: &str) -> Option<bool> {
        match self.text(name).as_str() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            other => {
                self.push(name, &Problem::Invalid { value: other.to_owned(), expected: "yes or no" });
                None
            }
        }
    }
}

/// What a stakeholder row may name: the contacts of the deal's account and anyone already on
/// the map, by id with their names.
pub type ContactNames = BTreeMap<ContactId, String>;

/// Reads `part` from `params`: the part's new value, or every problem by input name. `current`
/// keeps the contact links of approval people whose names did not change.
pub fn parse(
    part: &str,
    params: &Params,
    current: &Workspace,
    contacts: &ContactNames,
    locale: Locale,
) -> Result<WorkspacePart, FieldErrors> {
    let mut reader = Reader { locale, errors: FieldErrors::new(), params };
    let value = match part {
        "bant" => {
            let mut bant = Bant::default();
            for item in BantItem::ALL {
                let status = reader.choice(&format!("{}_status", item.as_str()), BantStatus::parse).unwrap_or_default();
                let note = reader.text(&format!("{}_note", item.as_str()));
                *bant.entry_mut(*item) = BantEntry { status, note };
            }
            WorkspacePart::Bant(bant)
        }
        "four_box" => WorkspacePart::FourBox(FourBox {
            business_issue: reader.text("business_issue"),
            problem: reader.text("problem"),
            solution: reader.text("solution"),
            benefit_quantitative: reader.text("benefit_quantitative"),
            benefit_qualitative: reader.text("benefit_qualitative"),
        }),
        "stakeholders" => {
            let mut people = Vec::new();
            for index in 0..row_count(params, "s", "_contact") {
                let name = |field: &str| format!("s{index}_{field}");
                let contact = reader.text(&name("contact"));
                if contact.is_empty() || reader.is_on(&name("remove")) {
                    continue;
                }
                let contact_id = match contact.parse::<i64>().ok().map(ContactId).filter(|id| contacts.contains_key(id)) {
                    Some(id) => id,
                    None => {
                        reader.push(&name("contact"), &Problem::Invalid { value: contact, expected: "a contact of this account" });
                        continue;
                    }
                };
                if people.iter().any(|person: &Stakeholder| person.contact_id == contact_id) {
                    reader.push(&name("contact"), &Problem::Rule("this contact is on the stakeholder map twice".to_owned()));
                }
                let buying_role = reader.choice(&name("role"), BuyingRole::parse).unwrap_or(BuyingRole::Other);
                let level = reader.choice(&name("level"), Level::parse).unwrap_or(Level::Staff);
                let rank = reader.scale(&name("rank"));
                let influence = reader.scale(&name("influence"));
                people.push(Stakeholder {
                    contact_id,
                    name: contacts.get(&contact_id).cloned().unwrap_or_default(),
                    buying_role,
                    level,
                    rank,
                    influence,
                    influence_evidence: reader.text(&name("evidence")),
                });
            }
            WorkspacePart::Stakeholders(people)
        }
        "competitors" => {
            let mut assessments = Vec::new();
            for index in 0..row_count(params, "c", "_name") {
                let name = reader.text(&format!("c{index}_name"));
                let rows = row_count(params, &format!("c{index}_k"), "_label");
                let any_criterion = (0..rows).any(|row| !reader.text(&format!("c{index}_k{row}_label")).is_empty());
                if reader.is_on(&format!("c{index}_remove")) || (name.is_empty() && !any_criterion) {
                    continue;
                }
                if name.is_empty() {
                    reader.push(&format!("c{index}_name"), &Problem::Required);
                }
                let mut criteria = Vec::new();
                for row in 0..rows {
                    let field = |field: &str| format!("c{index}_k{row}_{field}");
                    let label = reader.text(&field("label"));
                    let scores_typed = ["importance", "ours", "theirs", "note"].iter().any(|part| !reader.text(&field(part)).is_empty());
                    if reader.is_on(&field("remove")) || (label.is_empty() && !scores_typed) {
                        continue;
                    }
                    if label.is_empty() {
                        reader.push(&field("label"), &Problem::Required);
                    }
                    criteria.push(CompetitiveCriterion {
                        label,
                        importance: reader.scale(&field("importance")),
                        ours: reader.scale(&field("ours")),
                        theirs: reader.scale(&field("theirs")),
                        note: reader.text(&field("note")),
                    });
                }
                let key_person = Some(reader.text(&format!("c{index}_key_person"))).filter(|text| !text.is_empty());
                assessments.push(CompetitorAssessment { competitor: name, key_person, criteria });
            }
            WorkspacePart::Competitors(assessments)
        }
        "close_plan" => {
            let mut items: Vec<(i64, usize, ClosePlanItem)> = Vec::new();
            for index in 0..row_count(params, "p", "_title") {
                let name = |field: &str| format!("p{index}_{field}");
                let title = reader.text(&name("title"));
                let typed = ["owner", "target", "done"].iter().any(|field| !reader.text(&name(field)).is_empty());
                if reader.is_on(&name("remove")) || (title.is_empty() && !typed) {
                    continue;
                }
                if title.is_empty() {
                    reader.push(&name("title"), &Problem::Required);
                }
                let position_text = reader.text(&name("position"));
                let position = if position_text.is_empty() {
                    index as i64 + 1
                } else {
                    match position_text.parse::<i64>() {
                        Ok(position) => position,
                        Err(_) => {
                            reader.push(&name("position"), &Problem::Invalid { value: position_text, expected: "a whole number" });
                            index as i64 + 1
                        }
                    }
                };
                let item = ClosePlanItem {
                    side: reader.choice(&name("side"), Side::parse).unwrap_or(Side::Customer),
                    owner: reader.text(&name("owner")),
                    title,
                    target_date: reader.date(&name("target")),
                    done_on: reader.date(&name("done")),
                    step: reader.optional_choice(&name("step"), PlanStep::parse).unwrap_or(PlanStep::Task),
                };
                items.push((position, index, item));
            }
            items.sort_by_key(|(position, index, _)| (*position, *index));
            WorkspacePart::ClosePlan(ClosePlan {
                items: items.into_iter().map(|(_, _, item)| item).collect(),
                first_shared_on: reader.date("first_shared_on"),
                agreed_on: reader.date("agreed_on"),
            })
        }
        "approval" => {
            let person = |reader: &Reader<'_>, name: &str, before: &Option<ApprovalPerson>| {
                let text = reader.text(name);
                (!text.is_empty()).then(|| ApprovalPerson {
                    contact_id: before.as_ref().filter(|person| person.name == text).and_then(|person| person.contact_id),
                    name: text,
                })
            };
            let before = &current.approval;
            let meeting_date = reader.date("meeting_date");
            let deadline = reader.date("submission_deadline");
            let submitted_on = reader.date("submitted_on");
            let body = reader.optional_choice("meeting_body", MeetingBody::parse).unwrap_or(MeetingBody::Board);
            let meeting = match (meeting_date, deadline) {
                (Some(date), Some(submission_deadline)) => Some(ApprovalMeeting { body, date, submission_deadline, submitted_on }),
                (Some(_), None) if !reader.errors.contains_key("submission_deadline") => {
                    reader.push("submission_deadline", &Problem::Required);
                    None
                }
                (None, Some(_)) if !reader.errors.contains_key("meeting_date") => {
                    reader.push("meeting_date", &Problem::Required);
                    None
                }
                _ => None,
            };
            let mut meeting_calendar = Vec::new();
            for index in 0..row_count(params, "m", "_date") {
                let name = format!("m{index}_date");
                if reader.is_on(&format!("m{index}_remove")) {
                    continue;
                }
                if let Some(date) = reader.date(&name) {
                    meeting_calendar.push(date);
                }
            }
            WorkspacePart::Approval(ApprovalChecklist {
                named_approver: person(&reader, "named_approver", &before.named_approver),
                real_approver: person(&reader, "real_approver", &before.real_approver),
                po_signer: person(&reader, "po_signer", &before.po_signer),
                departments_with_power: reader
                    .text("departments")
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect(),
                form: reader.optional_choice("form", ApprovalForm::parse),
                meeting_needed: reader.yes_no("meeting_needed"),
                meeting,
                meeting_calendar,
                drafter: person(&reader, "drafter", &before.drafter),
                drafter_passed_amount_before: reader.yes_no("drafter_passed"),
                draft_started_on: reader.date("draft_started_on"),
            })
        }
        _ => return Err(FieldErrors::from([(String::new(), t(locale, "error.not_found").to_owned())])),
    };
    if reader.errors.is_empty() { Ok(value) } else { Err(reader.errors) }
}

/// Domain problems of a whole workspace (core's `Workspace::validated`), placed on the part's
/// form: a field core names is shown at the form's head, in words.
pub fn domain_errors(errors: &pipewise_core::ValidationErrors, locale: Locale) -> FieldErrors {
    let mut messages = FieldErrors::new();
    if !errors.0.is_empty() {
        messages.insert(String::new(), form::named_problems(locale, errors, |field| field.to_owned()));
    }
    messages
}

// ---------------------------------------------------------------------------------------------
// Flags.

#[derive(Clone, Debug, Serialize)]
pub struct FlagView {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
}

/// `flags` whose code starts with `prefix` (`bant.`, `four_box.`, `stakeholders.`,
/// `competition.`, `close_plan.`, `approval.`), in `locale`.
pub fn flag_views(flags: &[Flag], prefix: &str, locale: Locale) -> Vec<FlagView> {
    flags
        .iter()
        .filter(|flag| flag.code.starts_with(prefix))
        .map(|flag| FlagView {
            code: flag.code,
            severity: flag.severity.as_str(),
            message: match locale {
                Locale::En => flag.message_en.clone(),
                Locale::Ko => flag.message_ko.clone(),
            },
        })
        .collect()
}

/// The choices of the workspace's selects, in `locale`.
#[derive(Clone, Debug, Serialize)]
pub struct WorkspaceChoices {
    pub bant_statuses: Vec<Choice>,
    pub buying_roles: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub scale: Vec<Choice>,
    pub sides: Vec<Choice>,
    pub steps: Vec<Choice>,
    pub approval_forms: Vec<Choice>,
    pub meeting_bodies: Vec<Choice>,
    pub yes_no: Vec<Choice>,
    pub contacts: Vec<Choice>,
}

fn choices(locale: Locale, prefix: &str, values: &[&str]) -> Vec<Choice> {
    values.iter().map(|value| Choice { value: (*value).to_owned(), label: t(locale, &format!("{prefix}.{value}")).to_owned() }).collect()
}

impl WorkspaceChoices {
    pub fn new(locale: Locale, contacts: &ContactNames) -> WorkspaceChoices {
        let names = |all: &[&'static str]| all.to_vec();
        WorkspaceChoices {
            bant_statuses: choices(locale, "bant_status", &names(&BantStatus::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>())),
            buying_roles: choices(locale, "buying_role", &BuyingRole::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            levels: choices(locale, "level", &Level::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            scale: SCALE.map(|value| Choice { value: value.to_string(), label: value.to_string() }).collect(),
            sides: choices(locale, "side", &Side::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            steps: choices(locale, "plan_step", &PlanStep::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            approval_forms: choices(locale, "approval_form", &ApprovalForm::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            meeting_bodies: choices(locale, "meeting_body", &MeetingBody::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>()),
            yes_no: vec![
                Choice { value: "yes".into(), label: t(locale, "common.yes").to_owned() },
                Choice { value: "no".into(), label: t(locale, "common.no").to_owned() },
            ],
            contacts: contacts.iter().map(|(id, name)| Choice { value: id.to_string(), label: name.clone() }).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The whole workspace section of the deal page.

/// One tab.
#[derive(Clone, Debug, Serialize)]
pub struct PartTab {
    pub key: &'static str,
    pub label: String,
    pub flag_count: usize,
    pub has_errors: bool,
}

/// One competitor's quadrant with the criteria to propose.
#[derive(Clone, Debug, Serialize)]
pub struct CompetitorChart {
    pub chart: QuadrantView,
    pub proposed: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkspaceView {
    pub parts: Vec<PartTab>,
    /// The tab shown first: the one just saved or refused, else the first.
    pub active: String,
    pub saved: String,
    pub can_edit: bool,
    pub forms: PartForms,
    /// Every part, with an empty map when it has no problems.
    pub errors: BTreeMap<&'static str, FieldErrors>,
    pub flags: BTreeMap<&'static str, Vec<FlagView>>,
    pub stakeholder_chart: Option<QuadrantView>,
    pub competitor_charts: Vec<CompetitorChart>,
    pub choices: WorkspaceChoices,
}

/// The code prefix of each part's flags.
fn flag_prefix(part: &str) -> &'static str {
    match part {
        "bant" => "bant.",
        "four_box" => "four_box.",
        "stakeholders" => "stakeholders.",
        "competitors" => "competition.",
        "close_plan" => "close_plan.",
        _ => "approval.",
    }
}

/// What the workspace section shows.
pub struct WorkspaceInput<'a> {
    pub workspace: &'a Workspace,
    pub flags: &'a [Flag],
    pub contacts: &'a ContactNames,
    pub activity_by_contact: &'a BTreeMap<ContactId, u32>,
    pub can_edit: bool,
    /// A refused form: its part, what was typed, and the problems.
    pub rejected: Option<(&'a str, &'a Params, FieldErrors)>,
    pub saved: Option<&'a str>,
}

pub fn workspace_view(input: WorkspaceInput<'_>, locale: Locale) -> WorkspaceView {
    let mut forms = PartForms::from_workspace(input.workspace, locale);
    let mut errors: BTreeMap<&'static str, FieldErrors> = PARTS.iter().map(|part| (*part, FieldErrors::new())).collect();
    let mut active = input.saved.unwrap_or(PARTS[0]).to_owned();
    if let Some((part, params, part_errors)) = input.rejected
        && let Some(key) = PARTS.iter().find(|key| **key == part)
    {
        forms.take_typed(key, params, locale);
        errors.insert(key, part_errors);
        active = (*key).to_owned();
    }
    let flags: BTreeMap<&'static str, Vec<FlagView>> =
        PARTS.iter().map(|part| (*part, flag_views(input.flags, flag_prefix(part), locale))).collect();
    let parts = PARTS
        .iter()
        .map(|key| PartTab {
            key,
            label: t(locale, &format!("workspace.tab.{key}")).to_owned(),
            flag_count: flags[key].iter().filter(|flag| flag.severity == "warning").count(),
            has_errors: !errors[key].is_empty(),
        })
        .collect();
    let stakeholder_chart = (!input.workspace.stakeholders.is_empty()).then(|| {
        let chart = pipewise_core::workspace::stakeholder_quadrant(&input.workspace.stakeholders, input.activity_by_contact);
        quadrant::layout(&chart, quadrant::Kind::Stakeholders, "stakeholder-map", t(locale, "stakeholders.chart").to_owned(), locale)
    });
    let competitor_charts = input
        .workspace
        .competitors
        .iter()
        .enumerate()
        .filter(|(_, assessment)| !assessment.criteria.is_empty())
        .map(|(index, assessment)| {
            let chart = pipewise_core::workspace::competitive_quadrant(assessment);
            let title = i18n::tf(locale, "competitors.chart", &[("name", &assessment.competitor)]);
            CompetitorChart {
                chart: quadrant::layout(&chart, quadrant::Kind::Competitive, &format!("competitor-{index}"), title, locale),
                proposed: pipewise_core::workspace::proposed_selection_criteria(assessment)
                    .into_iter()
                    .map(|criterion| criterion.label.clone())
                    .collect(),
            }
        })
        .collect();
    WorkspaceView {
        parts,
        active,
        saved: input.saved.unwrap_or_default().to_owned(),
        can_edit: input.can_edit,
        forms,
        errors,
        flags,
        stakeholder_chart,
        competitor_charts,
        choices: WorkspaceChoices::new(locale, input.contacts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect())
    }

    fn contacts() -> ContactNames {
        BTreeMap::from([(ContactId(7), "김민준".to_owned()), (ContactId(8), "Lee".to_owned())])
    }

    #[test]
    fn every_part_round_trips_through_its_form() {
        let workspace = Workspace {
            bant: Bant { budget: BantEntry { status: BantStatus::Confirmed, note: "KRW 300M".into() }, ..Bant::default() },
            four_box: FourBox { business_issue: "Double revenue in 3 years".into(), ..FourBox::default() },
            stakeholders: vec![Stakeholder {
                contact_id: ContactId(7),
                name: "김민준".into(),
                buying_role: BuyingRole::Champion,
                level: Level::DepartmentHead,
                rank: 3,
                influence: 5,
                influence_evidence: "speaks up in front of the executives".into(),
            }],
            competitors: vec![CompetitorAssessment {
                competitor: "Rival".into(),
                key_person: Some("CIO".into()),
                criteria: vec![CompetitiveCriterion { label: "Speed".into(), importance: 5, ours: 4, theirs: 2, note: String::new() }],
            }],
            close_plan: ClosePlan {
                items: vec![ClosePlanItem {
                    side: Side::Customer,
                    owner: "CFO".into(),
                    title: "Board approval".into(),
                    target_date: Some("2026-07-01".parse().unwrap()),
                    done_on: None,
                    step: PlanStep::Signing,
                }],
                first_shared_on: Some("2026-06-01".parse().unwrap()),
                agreed_on: None,
            },
            approval: ApprovalChecklist {
                real_approver: Some(ApprovalPerson { contact_id: Some(ContactId(7)), name: "김민준".into() }),
                departments_with_power: vec!["IT".into(), "Legal".into()],
                form: Some(ApprovalForm::Paper),
                meeting_needed: Some(true),
                meeting: Some(ApprovalMeeting {
                    body: MeetingBody::Board,
                    date: "2026-07-10".parse().unwrap(),
                    submission_deadline: "2026-07-01".parse().unwrap(),
                    submitted_on: None,
                }),
                meeting_calendar: vec!["2026-08-14".parse().unwrap(), "2026-09-11".parse().unwrap()],
                drafter_passed_amount_before: Some(false),
                ..ApprovalChecklist::default()
            },
        };
        let forms = PartForms::from_workspace(&workspace, Locale::En);
        // Post each form back exactly as shown: the same value comes out.
        let as_params = |pairs: Vec<(String, String)>| Params(pairs);
        let mut bant = Vec::new();
        for row in &forms.bant {
            bant.push((format!("{}_status", row.item), row.status.clone()));
            bant.push((format!("{}_note", row.item), row.note.clone()));
        }
        let mut stakeholders = Vec::new();
        for (index, row) in forms.stakeholders.iter().enumerate() {
            for (field, value) in [
                ("contact", &row.contact_id),
                ("role", &row.buying_role),
                ("level", &row.level),
                ("rank", &row.rank),
                ("influence", &row.influence),
                ("evidence", &row.evidence),
            ] {
                stakeholders.push((format!("s{index}_{field}"), value.clone()));
            }
        }
        let mut competitors = Vec::new();
        for (index, competitor) in forms.competitors.iter().enumerate() {
            competitors.push((format!("c{index}_name"), competitor.name.clone()));
            competitors.push((format!("c{index}_key_person"), competitor.key_person.clone()));
            for (row, criterion) in competitor.criteria.iter().enumerate() {
                for (field, value) in [
                    ("label", &criterion.label),
                    ("importance", &criterion.importance),
                    ("ours", &criterion.ours),
                    ("theirs", &criterion.theirs),
                    ("note", &criterion.note),
                ] {
                    competitors.push((format!("c{index}_k{row}_{field}"), value.clone()));
                }
            }
        }
        let mut plan = vec![
            ("first_shared_on".to_owned(), forms.close_plan.first_shared_on.clone()),
            ("agreed_on".into(), forms.close_plan.agreed_on.clone()),
        ];
        for (index, row) in forms.close_plan.rows.iter().enumerate() {
            for (field, value) in [
                ("position", &row.position),
                ("title", &row.title),
                ("side", &row.side),
                ("owner", &row.owner),
                ("target", &row.target),
                ("done", &row.done),
                ("step", &row.step),
            ] {
                plan.push((format!("p{index}_{field}"), value.clone()));
            }
        }
        let a = &forms.approval;
        assert_eq!(a.calendar.len(), 4, "two meetings and two blank rows");
        assert_eq!((a.calendar[0].papers_due.as_str(), a.calendar[1].papers_due.as_str()), ("2026-08-05", "2026-09-02"));
        let mut approval: Vec<(String, String)> = [
            ("named_approver", &a.named_approver),
            ("real_approver", &a.real_approver),
            ("po_signer", &a.po_signer),
            ("departments", &a.departments),
            ("form", &a.form),
            ("meeting_needed", &a.meeting_needed),
            ("meeting_body", &a.meeting_body),
            ("meeting_date", &a.meeting_date),
            ("submission_deadline", &a.submission_deadline),
            ("submitted_on", &a.submitted_on),
            ("drafter", &a.drafter),
            ("drafter_passed", &a.drafter_passed),
            ("draft_started_on", &a.draft_started_on),
        ]
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).clone()))
        .collect();
        approval.extend(a.calendar.iter().enumerate().map(|(index, row)| (format!("m{index}_date"), row.date.clone())));
        let four_box = vec![
            ("business_issue".to_owned(), forms.four_box.business_issue.clone()),
            ("problem".into(), String::new()),
            ("solution".into(), String::new()),
            ("benefit_quantitative".into(), String::new()),
            ("benefit_qualitative".into(), String::new()),
        ];
        let mut rebuilt = Workspace::default();
        for (part, pairs) in [
            ("bant", bant),
            ("four_box", four_box),
            ("stakeholders", stakeholders),
            ("competitors", competitors),
            ("close_plan", plan),
            ("approval", approval),
        ] {
            let value =
                parse(part, &as_params(pairs), &workspace, &contacts(), Locale::En).unwrap_or_else(|errors| panic!("{part}: {errors:?}"));
            value.apply_to(&mut rebuilt);
        }
        assert_eq!(rebuilt, workspace);
    }

    #[test]
    fn every_bad_field_is_named_beside_its_input() {
        let bad = params(&[
            ("s0_contact", "7"),
            ("s0_role", "champion"),
            ("s0_level", "staff"),
            ("s0_rank", "9"),
            ("s0_influence", ""),
            ("s1_contact", "99"),
            ("s2_contact", ""),
        ]);
        let errors = parse("stakeholders", &bad, &Workspace::default(), &contacts(), Locale::En).unwrap_err();
        assert_eq!(errors["s0_rank"], "9 is out of range (1 to 5)");
        assert_eq!(errors["s0_influence"], "is required");
        assert!(errors["s1_contact"].contains("\"99\" is not a contact of this account"), "{errors:?}");
        assert_eq!(errors.len(), 3);
        let plan = params(&[
            ("p0_title", "Board approval"),
            ("p0_side", "us"),
            ("p0_target", "2026-13-01"),
            ("p1_title", ""),
            ("p1_owner", "Kim"),
        ]);
        let errors = parse("close_plan", &plan, &Workspace::default(), &contacts(), Locale::Ko).unwrap_err();
        assert!(errors["p0_target"].contains("2026-13-01"), "{errors:?}");
        assert_eq!(errors["p1_title"], "필수 항목입니다");
        let approval =
            params(&[("m0_date", "2026-08-14"), ("m1_date", "next Tuesday"), ("m2_date", ""), ("m3_date", "bad"), ("m3_remove", "1")]);
        let errors = parse("approval", &approval, &Workspace::default(), &contacts(), Locale::En).unwrap_err();
        assert!(errors["m1_date"].contains("next Tuesday"), "{errors:?}");
        assert_eq!(errors.len(), 1, "a blank row is ignored and a removed one dropped");
    }

    #[test]
    fn close_plan_rows_follow_their_positions_and_removed_rows_go() {
        let plan = params(&[
            ("p0_position", "2"),
            ("p0_title", "Purchasing places the order"),
            ("p0_side", "customer"),
            ("p1_position", "1"),
            ("p1_title", "Board approval"),
            ("p1_side", "customer"),
            ("p2_title", "Security review"),
            ("p2_side", "us"),
            ("p2_remove", "1"),
        ]);
        let WorkspacePart::ClosePlan(plan) = parse("close_plan", &plan, &Workspace::default(), &contacts(), Locale::En).unwrap() else {
            panic!()
        };
        let titles: Vec<&str> = plan.items.iter().map(|item| item.title.as_str()).collect();
        assert_eq!(titles, ["Board approval", "Purchasing places the order"]);
    }
}
