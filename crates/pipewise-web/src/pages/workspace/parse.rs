//! Reading one part back from its form: the part's new value, or every problem by input name.

use pipewise_core::error::Problem;
use pipewise_core::time::parse_date;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{
    ApprovalChecklist, ApprovalForm, ApprovalMeeting, ApprovalPerson, Bant, BantEntry, BantItem, BantStatus, BuyingRole, ClosePlan,
    ClosePlanItem, CompetitiveCriterion, CompetitorAssessment, FourBox, Level, MeetingBody, PlanStep, SCALE, Side, Stakeholder, Workspace,
    WorkspacePart,
};
use pipewise_core::{ContactId, Date, Message};

use super::{ContactNames, FieldErrors, row_count};
use crate::i18n::{self, t};
use crate::pages::{Params, form};

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
        "bant" => WorkspacePart::Bant(reader.bant()),
        "four_box" => WorkspacePart::FourBox(reader.four_box()),
        "stakeholders" => WorkspacePart::Stakeholders(reader.stakeholders(contacts)),
        "competitors" => WorkspacePart::Competitors(reader.competitors()),
        "close_plan" => WorkspacePart::ClosePlan(reader.close_plan()),
        "approval" => WorkspacePart::Approval(reader.approval(&current.approval)),
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

/// A form being read: its inputs, and the problems found so far by input name.
struct Reader<'a> {
    locale: Locale,
    errors: FieldErrors,
    params: &'a Params,
}

// ---------------------------------------------------------------------------------------------
// One input.

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

// ---------------------------------------------------------------------------------------------
// BANT, the four-box story, the stakeholder map.

impl Reader<'_> {
    fn bant(&mut self) -> Bant {
        let mut bant = Bant::default();
        for item in BantItem::ALL {
            let status = self.choice(&format!("{}_status", item.as_str()), BantStatus::parse).unwrap_or_default();
            let note = self.text(&format!("{}_note", item.as_str()));
            *bant.entry_mut(*item) = BantEntry { status, note };
        }
        bant
    }

    fn four_box(&mut self) -> FourBox {
        FourBox {
            business_issue: self.text("business_issue"),
            problem: self.text("problem"),
            solution: self.text("solution"),
            benefit_quantitative: self.text("benefit_quantitative"),
            benefit_qualitative: self.text("benefit_qualitative"),
        }
    }

    fn stakeholders(&mut self, contacts: &ContactNames) -> Vec<Stakeholder> {
        let mut people = Vec::new();
        for index in 0..row_count(self.params, "s", "_contact") {
            if let Some(person) = self.stakeholder(index, contacts, &people) {
                people.push(person);
            }
        }
        people
    }

    /// Row `index` of the map; `None` when blank, removed or naming no contact of the account.
    fn stakeholder(&mut self, index: usize, contacts: &ContactNames, people: &[Stakeholder]) -> Option<Stakeholder> {
        let name = |field: &str| format!("s{index}_{field}");
        let contact = self.text(&name("contact"));
        if contact.is_empty() || self.is_on(&name("remove")) {
            return None;
        }
        let Some(contact_id) = contact.parse::<i64>().ok().map(ContactId).filter(|id| contacts.contains_key(id)) else {
            self.push(&name("contact"), &Problem::Invalid { value: contact, expected: "a contact of this account" });
            return None;
        };
        if people.iter().any(|person| person.contact_id == contact_id) {
            self.push(&name("contact"), &Problem::Fact(Message::new("rule.contact_twice")));
        }
        let buying_role = self.choice(&name("role"), BuyingRole::parse).unwrap_or(BuyingRole::Other);
        let level = self.choice(&name("level"), Level::parse).unwrap_or(Level::Staff);
        let rank = self.scale(&name("rank"));
        let influence = self.scale(&name("influence"));
        Some(Stakeholder {
            contact_id,
            name: contacts.get(&contact_id).cloned().unwrap_or_default(),
            buying_role,
            level,
            rank,
            influence,
            influence_evidence: self.text(&name("evidence")),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The competitive assessment.

impl Reader<'_> {
    fn competitors(&mut self) -> Vec<CompetitorAssessment> {
        let mut assessments = Vec::new();
        for index in 0..row_count(self.params, "c", "_name") {
            if let Some(assessment) = self.competitor(index) {
                assessments.push(assessment);
            }
        }
        assessments
    }

    /// Competitor `index`; `None` when removed, or blank with no criterion typed.
    fn competitor(&mut self, index: usize) -> Option<CompetitorAssessment> {
        let name = self.text(&format!("c{index}_name"));
        let rows = row_count(self.params, &format!("c{index}_k"), "_label");
        let any_criterion = (0..rows).any(|row| !self.text(&format!("c{index}_k{row}_label")).is_empty());
        if self.is_on(&format!("c{index}_remove")) || (name.is_empty() && !any_criterion) {
            return None;
        }
        if name.is_empty() {
            self.push(&format!("c{index}_name"), &Problem::Required);
        }
        let mut criteria = Vec::new();
        for row in 0..rows {
            if let Some(criterion) = self.criterion(index, row) {
                criteria.push(criterion);
            }
        }
        let key_person = Some(self.text(&format!("c{index}_key_person"))).filter(|text| !text.is_empty());
        Some(CompetitorAssessment { competitor: name, key_person, criteria })
    }

    /// Criterion `row` of competitor `index`; `None` when removed, or blank with nothing scored.
    fn criterion(&mut self, index: usize, row: usize) -> Option<CompetitiveCriterion> {
        let field = |field: &str| format!("c{index}_k{row}_{field}");
        let label = self.text(&field("label"));
        let scores_typed = ["importance", "ours", "theirs", "note"].iter().any(|part| !self.text(&field(part)).is_empty());
        if self.is_on(&field("remove")) || (label.is_empty() && !scores_typed) {
            return None;
        }
        if label.is_empty() {
            self.push(&field("label"), &Problem::Required);
        }
        Some(CompetitiveCriterion {
            label,
            importance: self.scale(&field("importance")),
            ours: self.scale(&field("ours")),
            theirs: self.scale(&field("theirs")),
            note: self.text(&field("note")),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The mutual close plan.

impl Reader<'_> {
    /// The items in the order of their positions (ties in the order typed).
    fn close_plan(&mut self) -> ClosePlan {
        let mut items: Vec<(i64, usize, ClosePlanItem)> = Vec::new();
        for index in 0..row_count(self.params, "p", "_title") {
            if let Some(item) = self.plan_item(index) {
                items.push(item);
            }
        }
        items.sort_by_key(|(position, index, _)| (*position, *index));
        ClosePlan {
            items: items.into_iter().map(|(_, _, item)| item).collect(),
            first_shared_on: self.date("first_shared_on"),
            agreed_on: self.date("agreed_on"),
        }
    }

    /// Row `index` with its position and index; `None` when removed, or blank.
    fn plan_item(&mut self, index: usize) -> Option<(i64, usize, ClosePlanItem)> {
        let name = |field: &str| format!("p{index}_{field}");
        let title = self.text(&name("title"));
        let typed = ["owner", "target", "done"].iter().any(|field| !self.text(&name(field)).is_empty());
        if self.is_on(&name("remove")) || (title.is_empty() && !typed) {
            return None;
        }
        if title.is_empty() {
            self.push(&name("title"), &Problem::Required);
        }
        let position = self.plan_position(index);
        let item = ClosePlanItem {
            side: self.choice(&name("side"), Side::parse).unwrap_or(Side::Customer),
            owner: self.text(&name("owner")),
            title,
            target_date: self.date(&name("target")),
            done_on: self.date(&name("done")),
            step: self.optional_choice(&name("step"), PlanStep::parse).unwrap_or(PlanStep::Task),
        };
        Some((position, index, item))
    }

    /// The position typed on row `index`; the row's own place when blank or not a number.
    fn plan_position(&mut self, index: usize) -> i64 {
        let name = format!("p{index}_position");
        let position_text = self.text(&name);
        if position_text.is_empty() {
            return index as i64 + 1;
        }
        match position_text.parse::<i64>() {
            Ok(position) => position,
            Err(_) => {
                self.push(&name, &Problem::Invalid { value: position_text, expected: "a whole number" });
                index as i64 + 1
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The approval checklist.

impl Reader<'_> {
    fn approval(&mut self, before: &ApprovalChecklist) -> ApprovalChecklist {
        let meeting = self.approval_meeting();
        let meeting_calendar = self.meeting_calendar();
        ApprovalChecklist {
            named_approver: self.person("named_approver", &before.named_approver),
            real_approver: self.person("real_approver", &before.real_approver),
            po_signer: self.person("po_signer", &before.po_signer),
            departments_with_power: self
                .text("departments")
                .split(['\n', ','])
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
            form: self.optional_choice("form", ApprovalForm::parse),
            meeting_needed: self.yes_no("meeting_needed"),
            meeting,
            meeting_calendar,
            drafter: self.person("drafter", &before.drafter),
            drafter_passed_amount_before: self.yes_no("drafter_passed"),
            draft_started_on: self.date("draft_started_on"),
        }
    }

    /// A person named in input `name`, keeping the contact link of `before` when the name did
    /// not change.
    fn person(&self, name: &str, before: &Option<ApprovalPerson>) -> Option<ApprovalPerson> {
        let text = self.text(name);
        (!text.is_empty()).then(|| ApprovalPerson {
            contact_id: before.as_ref().filter(|person| person.name == text).and_then(|person| person.contact_id),
            name: text,
        })
    }

    /// The planned meeting: its date and submission deadline go together.
    fn approval_meeting(&mut self) -> Option<ApprovalMeeting> {
        let meeting_date = self.date("meeting_date");
        let deadline = self.date("submission_deadline");
        let submitted_on = self.date("submitted_on");
        let body = self.optional_choice("meeting_body", MeetingBody::parse).unwrap_or(MeetingBody::Board);
        match (meeting_date, deadline) {
            (Some(date), Some(submission_deadline)) => Some(ApprovalMeeting { body, date, submission_deadline, submitted_on }),
            (Some(_), None) if !self.errors.contains_key("submission_deadline") => {
                self.push("submission_deadline", &Problem::Required);
                None
            }
            (None, Some(_)) if !self.errors.contains_key("meeting_date") => {
                self.push("meeting_date", &Problem::Required);
                None
            }
            _ => None,
        }
    }

    /// The approval body's regular meetings: blank and removed rows left out.
    fn meeting_calendar(&mut self) -> Vec<Date> {
        let mut meeting_calendar = Vec::new();
        for index in 0..row_count(self.params, "m", "_date") {
            let name = format!("m{index}_date");
            if self.is_on(&format!("m{index}_remove")) {
                continue;
            }
            if let Some(date) = self.date(&name) {
                meeting_calendar.push(date);
            }
        }
        meeting_calendar
    }
}
