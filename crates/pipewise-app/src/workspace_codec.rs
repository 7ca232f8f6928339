//! The JSON form of the deal workspace (SPEC C3) and of a gate override's unmet criteria, shared
//! by both engines (the `deal_workspace` document, `workspace_history` rows, `gate_override`
//! rows) and by the JSON API, so stored documents and API bodies have one shape.
//!
//! The mapping is written by hand over `serde_json::Value`: the domain types in
//! `pipewise-core` carry no serde derives. Shapes (every key always written; `null` for unset):
//!
//! - workspace: `{"bant", "four_box", "stakeholders", "competitors", "close_plan", "approval"}`;
//! - `bant`: `{"budget": {"status", "note"}, "authority": …, "need": …, "timeframe": …}`;
//! - `four_box`: `{"business_issue", "problem", "solution", "benefit_quantitative", "benefit_qualitative"}`;
//! - `stakeholders`: `[{"contact_id", "name", "buying_role", "level", "rank", "influence", "influence_evidence"}]`;
//! - `competitors`: `[{"competitor", "key_person", "criteria": [{"label", "importance", "ours", "theirs", "note"}]}]`;
//! - `close_plan`: `{"items": [{"side", "owner", "title", "target_date", "done_on", "step"}], "first_shared_on", "agreed_on"}`;
//! - `approval`: `{"named_approver", "real_approver", "po_signer", "drafter"` (each `{"contact_id", "name"}` or
//!   `null`), `"departments_with_power", "form", "meeting_needed", "meeting"` (`{"body", "date",
//!   "submission_deadline", "submitted_on"}` or `null`), `"meeting_calendar"` (the body's regular meeting
//!   dates, `["YYYY-MM-DD", …]`; absent in documents written before it existed, which decode with
//!   an empty calendar), `"drafter_passed_amount_before", "draft_started_on"}`.
//!
//! Decoding is strict about types and unknown keys and lenient about absent ones: an absent
//! text is empty, an absent optional value unset, an absent list empty, an absent BANT status
//! `unknown`; scores (rank, influence, importance, ours, theirs) and a stakeholder's contact are
//! required. It reports every problem at once, naming the field (`stakeholders.rank`) and the
//! item (`item 2: …`). Range rules are [`Workspace::validated`]'s business, not the codec's.

use pipewise_core::error::{Problem, RecordRef, ValidationErrors};
use pipewise_core::time::{Date, parse_date};
use pipewise_core::workspace::*;
use pipewise_core::{ContactId, Message};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Encoding

fn date_json(date: Option<Date>) -> Value {
    date.map_or(Value::Null, |date| json!(date.to_string()))
}

fn bant_json(bant: &Bant) -> Value {
    let entry = |entry: &BantEntry| json!({ "status": entry.status.as_str(), "note": entry.note });
    json!({
        "budget": entry(&bant.budget),
        "authority": entry(&bant.authority),
        "need": entry(&bant.need),
        "timeframe": entry(&bant.timeframe),
    })
}

fn four_box_json(four_box: &FourBox) -> Value {
    json!({
        "business_issue": four_box.business_issue,
        "problem": four_box.problem,
        "solution": four_box.solution,
        "benefit_quantitative": four_box.benefit_quantitative,
        "benefit_qualitative": four_box.benefit_qualitative,
    })
}

fn stakeholders_json(stakeholders: &[Stakeholder]) -> Value {
    stakeholders
        .iter()
        .map(|person| {
            json!({
                "contact_id": person.contact_id.0,
                "name": person.name,
                "buying_role": person.buying_role.as_str(),
                "level": person.level.as_str(),
                "rank": person.rank,
                "influence": person.influence,
                "influence_evidence": person.influence_evidence,
            })
        })
        .collect()
}

fn competitors_json(competitors: &[CompetitorAssessment]) -> Value {
    competitors
        .iter()
        .map(|assessment| {
            let criteria: Vec<Value> = assessment
                .criteria
                .iter()
                .map(|criterion| {
                    json!({
                        "label": criterion.label,
                        "importance": criterion.importance,
                        "ours": criterion.ours,
                        "theirs": criterion.theirs,
                        "note": criterion.note,
                    })
                })
                .collect();
            json!({ "competitor": assessment.competitor, "key_person": assessment.key_person, "criteria": criteria })
        })
        .collect()
}

fn close_plan_json(plan: &ClosePlan) -> Value {
    let items: Vec<Value> = plan
        .items
        .iter()
        .map(|item| {
            json!({
                "side": item.side.as_str(),
                "owner": item.owner,
                "title": item.title,
                "target_date": date_json(item.target_date),
                "done_on": date_json(item.done_on),
                "step": item.step.as_str(),
            })
        })
        .collect();
    json!({ "items": items, "first_shared_on": date_json(plan.first_shared_on), "agreed_on": date_json(plan.agreed_on) })
}

fn person_json(person: &Option<ApprovalPerson>) -> Value {
    match person {
        Some(person) => json!({ "contact_id": person.contact_id.map(|id| id.0), "name": person.name }),
        None => Value::Null,
    }
}

fn approval_json(approval: &ApprovalChecklist) -> Value {
    let meeting = match &approval.meeting {
        Some(meeting) => json!({
            "body": meeting.body.as_str(),
            "date": meeting.date.to_string(),
            "submission_deadline": meeting.submission_deadline.to_string(),
            "submitted_on": date_json(meeting.submitted_on),
        }),
        None => Value::Null,
    };
    json!({
        "named_approver": person_json(&approval.named_approver),
        "real_approver": person_json(&approval.real_approver),
        "po_signer": person_json(&approval.po_signer),
        "departments_with_power": approval.departments_with_power,
        "form": approval.form.map(|form| form.as_str()),
        "meeting_needed": approval.meeting_needed,
        "meeting": meeting,
        "meeting_calendar": approval.meeting_calendar.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "drafter": person_json(&approval.drafter),
        "drafter_passed_amount_before": approval.drafter_passed_amount_before,
        "draft_started_on": date_json(approval.draft_started_on),
    })
}

/// One part as JSON.
pub fn part_to_json(part: &WorkspacePart) -> Value {
    match part {
        WorkspacePart::Bant(bant) => bant_json(bant),
        WorkspacePart::FourBox(four_box) => four_box_json(four_box),
        WorkspacePart::Stakeholders(stakeholders) => stakeholders_json(stakeholders),
        WorkspacePart::Competitors(competitors) => competitors_json(competitors),
        WorkspacePart::ClosePlan(plan) => close_plan_json(plan),
        WorkspacePart::Approval(approval) => approval_json(approval),
    }
}

/// The whole workspace as JSON.
pub fn to_json(workspace: &Workspace) -> Value {
    let mut object = Map::new();
    for name in WorkspacePartName::ALL {
        object.insert(name.as_str().to_owned(), part_to_json(&WorkspacePart::of(workspace, *name)));
    }
    Value::Object(object)
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Decoder {
    record: RecordRef,
    errors: ValidationErrors,
    /// The 0-based index of the list item being read, for messages.
    item: Option<usize>,
}

impl Decoder {
    fn push(&mut self, field: &'static str, problem: Problem) {
        let problem = match self.item {
            Some(index) => Problem::InItem { item: index + 1, problem: Box::new(problem) },
            None => problem,
        };
        self.errors.push(&self.record, field, problem);
    }

    /// `value` as an object whose keys are all in `keys`; `None` (after an error) otherwise.
    fn object<'v>(&mut self, value: &'v Value, field: &'static str, keys: &[&str]) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.push(field, Problem::Invalid { value: short(value), expected: "an object" });
            return None;
        };
        for key in map.keys() {
            if !keys.contains(&key.as_str()) {
                let message =
                    Message::new("rule.unknown_field_expected").text("field", format!("{key:?}")).text("expected", keys.join(", "));
                self.push(field, Problem::Fact(message));
            }
        }
        Some(map)
    }

    fn list<'v>(&mut self, value: Option<&'v Value>, field: &'static str) -> &'v [Value] {
        match value {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.push(field, Problem::Invalid { value: short(other), expected: "a list" });
                &[]
            }
        }
    }

    fn text(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> String {
        self.optional_text(map, key, field).unwrap_or_default()
    }

    fn optional_text(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                self.push(field, Problem::Invalid { value: short(other), expected: "text" });
                None
            }
        }
    }

    fn score(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> u8 {
        match map.get(key) {
            None | Some(Value::Null) => {
                self.push(field, Problem::Required);
                0
            }
            Some(value) => match value.as_u64().and_then(|number| u8::try_from(number).ok()) {
                Some(score) => score,
                None => {
                    self.push(field, Problem::Invalid { value: short(value), expected: "a whole number from 1 to 5" });
                    0
                }
            },
        }
    }

    fn id(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<i64> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_i64().filter(|id| *id > 0) {
                Some(id) => Some(id),
                None => {
                    self.push(field, Problem::Invalid { value: short(value), expected: "an id" });
                    None
                }
            },
        }
    }

    fn boolean(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<bool> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(other) => {
                self.push(field, Problem::Invalid { value: short(other), expected: "true, false or null" });
                None
            }
        }
    }

    fn date(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<Date> {
        let raw = self.optional_text(map, key, field)?;
        match parse_date(&raw) {
            Ok(date) => Some(date),
            Err(problem) => {
                self.push(field, problem);
                None
            }
        }
    }

    fn enumerated<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        field: &'static str,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        let raw = self.optional_text(map, key, field)?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(field, problem);
                None
            }
        }
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 { format!("{}…", text.chars().take(40).collect::<String>()) } else { text }
}

const BANT_KEYS: [&str; 4] = ["budget", "authority", "need", "timeframe"];

fn decode_bant(decoder: &mut Decoder, value: &Value) -> Bant {
    let mut bant = Bant::default();
    let Some(map) = decoder.object(value, "bant", &BANT_KEYS) else { return bant };
    for item in BantItem::ALL {
        let Some(entry_value) = map.get(item.as_str()) else { continue };
        if entry_value.is_null() {
            continue;
        }
        let Some(entry) = decoder.object(entry_value, "bant", &["status", "note"]) else { continue };
        let status = decoder.enumerated(entry, "status", "bant.status", BantStatus::parse).unwrap_or_default();
        let note = decoder.text(entry, "note", "bant.note");
        *bant.entry_mut(*item) = BantEntry { status, note };
    }
    bant
}

fn decode_four_box(decoder: &mut Decoder, value: &Value) -> FourBox {
    let keys = ["business_issue", "problem", "solution", "benefit_quantitative", "benefit_qualitative"];
    let Some(map) = decoder.object(value, "four_box", &keys) else { return FourBox::default() };
    FourBox {
        business_issue: decoder.text(map, "business_issue", "four_box.business_issue"),
        problem: decoder.text(map, "problem", "four_box.problem"),
        solution: decoder.text(map, "solution", "four_box.solution"),
        benefit_quantitative: decoder.text(map, "benefit_quantitative", "four_box.benefit_quantitative"),
        benefit_qualitative: decoder.text(map, "benefit_qualitative", "four_box.benefit_qualitative"),
    }
}

fn decode_stakeholders(decoder: &mut Decoder, value: &Value) -> Vec<Stakeholder> {
    let keys = ["contact_id", "name", "buying_role", "level", "rank", "influence", "influence_evidence"];
    let mut stakeholders = Vec::new();
    for (index, item) in decoder.list(Some(value), "stakeholders").iter().enumerate() {
        decoder.item = Some(index);
        if let Some(map) = decoder.object(item, "stakeholders", &keys) {
            let contact_id = decoder.id(map, "contact_id", "stakeholders.contact_id");
            if contact_id.is_none() && map.get("contact_id").is_none_or(Value::is_null) {
                decoder.push("stakeholders.contact_id", Problem::Required);
            }
            let person = Stakeholder {
                contact_id: ContactId(contact_id.unwrap_or(0)),
                name: decoder.text(map, "name", "stakeholders.name"),
                buying_role: decoder
                    .enumerated(map, "buying_role", "stakeholders.buying_role", BuyingRole::parse)
                    .unwrap_or(BuyingRole::Other),
                level: decoder.enumerated(map, "level", "stakeholders.level", Level::parse).unwrap_or(Level::Staff),
                rank: decoder.score(map, "rank", "stakeholders.rank"),
                influence: decoder.score(map, "influence", "stakeholders.influence"),
                influence_evidence: decoder.text(map, "influence_evidence", "stakeholders.influence_evidence"),
            };
            stakeholders.push(person);
        }
    }
    decoder.item = None;
    stakeholders
}

fn decode_competitors(decoder: &mut Decoder, value: &Value) -> Vec<CompetitorAssessment> {
    let mut competitors = Vec::new();
    for (index, item) in decoder.list(Some(value), "competitors").iter().enumerate() {
        decoder.item = Some(index);
        let Some(map) = decoder.object(item, "competitors", &["competitor", "key_person", "criteria"]) else { continue };
        let competitor = decoder.text(map, "competitor", "competitors.competitor");
        let key_person = decoder.optional_text(map, "key_person", "competitors.key_person");
        let mut criteria = Vec::new();
        for criterion in decoder.list(map.get("criteria"), "competitors.criteria") {
            let Some(criterion) = decoder.object(criterion, "competitors.criteria", &["label", "importance", "ours", "theirs", "note"])
            else {
                continue;
            };
            criteria.push(CompetitiveCriterion {
                label: decoder.text(criterion, "label", "competitors.criteria.label"),
                importance: decoder.score(criterion, "importance", "competitors.criteria.importance"),
                ours: decoder.score(criterion, "ours", "competitors.criteria.ours"),
                theirs: decoder.score(criterion, "theirs", "competitors.criteria.theirs"),
                note: decoder.text(criterion, "note", "competitors.criteria.note"),
            });
        }
        competitors.push(CompetitorAssessment { competitor, key_person, criteria });
    }
    decoder.item = None;
    competitors
}

fn decode_close_plan(decoder: &mut Decoder, value: &Value) -> ClosePlan {
    let Some(map) = decoder.object(value, "close_plan", &["items", "first_shared_on", "agreed_on"]) else { return ClosePlan::default() };
    let mut plan = ClosePlan {
        items: Vec::new(),
        first_shared_on: decoder.date(map, "first_shared_on", "close_plan.first_shared_on"),
        agreed_on: decoder.date(map, "agreed_on", "close_plan.agreed_on"),
    };
    for (index, item) in decoder.list(map.get("items"), "close_plan.items").iter().enumerate() {
        decoder.item = Some(index);
        let keys = ["side", "owner", "title", "target_date", "done_on", "step"];
        let Some(item) = decoder.object(item, "close_plan.items", &keys) else { continue };
        plan.items.push(ClosePlanItem {
            side: decoder.enumerated(item, "side", "close_plan.side", Side::parse).unwrap_or(Side::Us),
            owner: decoder.text(item, "owner", "close_plan.owner"),
            title: decoder.text(item, "title", "close_plan.title"),
            target_date: decoder.date(item, "target_date", "close_plan.target_date"),
            done_on: decoder.date(item, "done_on", "close_plan.done_on"),
            step: decoder.enumerated(item, "step", "close_plan.step", PlanStep::parse).unwrap_or(PlanStep::Task),
        });
    }
    decoder.item = None;
    plan
}

fn decode_person(decoder: &mut Decoder, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<ApprovalPerson> {
    let value = map.get(key)?;
    if value.is_null() {
        return None;
    }
    let person = decoder.object(value, field, &["contact_id", "name"])?;
    Some(ApprovalPerson { contact_id: decoder.id(person, "contact_id", field).map(ContactId), name: decoder.text(person, "name", field) })
}

fn decode_approval(decoder: &mut Decoder, value: &Value) -> ApprovalChecklist {
    let keys = [
        "named_approver",
        "real_approver",
        "po_signer",
        "departments_with_power",
        "form",
        "meeting_needed",
        "meeting",
        "meeting_calendar",
        "drafter",
        "drafter_passed_amount_before",
        "draft_started_on",
    ];
    let Some(map) = decoder.object(value, "approval", &keys) else { return ApprovalChecklist::default() };
    let mut departments = Vec::new();
    for department in decoder.list(map.get("departments_with_power"), "approval.departments_with_power") {
        match department.as_str() {
            Some(name) => departments.push(name.to_owned()),
            None => decoder.push("approval.departments_with_power", Problem::Invalid { value: short(department), expected: "text" }),
        }
    }
    let mut meeting_calendar = Vec::new();
    for (index, day) in decoder.list(map.get("meeting_calendar"), "approval.meeting_calendar").iter().enumerate() {
        decoder.item = Some(index);
        match day.as_str() {
            Some(text) => match parse_date(text) {
                Ok(date) => meeting_calendar.push(date),
                Err(problem) => decoder.push("approval.meeting_calendar", problem),
            },
            None => decoder.push("approval.meeting_calendar", Problem::Invalid { value: short(day), expected: "a date (YYYY-MM-DD)" }),
        }
    }
    decoder.item = None;
    let meeting = match map.get("meeting") {
        None | Some(Value::Null) => None,
        Some(value) => {
            decoder.object(value, "approval.meeting", &["body", "date", "submission_deadline", "submitted_on"]).and_then(|meeting| {
                let body = decoder.enumerated(meeting, "body", "approval.meeting.body", MeetingBody::parse);
                let date = decoder.date(meeting, "date", "approval.meeting.date");
                let deadline = decoder.date(meeting, "submission_deadline", "approval.meeting.submission_deadline");
                let submitted_on = decoder.date(meeting, "submitted_on", "approval.meeting.submitted_on");
                for (field, missing) in [
                    ("approval.meeting.body", body.is_none() && meeting.get("body").is_none_or(Value::is_null)),
                    ("approval.meeting.date", date.is_none() && meeting.get("date").is_none_or(Value::is_null)),
                    (
                        "approval.meeting.submission_deadline",
                        deadline.is_none() && meeting.get("submission_deadline").is_none_or(Value::is_null),
                    ),
                ] {
                    if missing {
                        decoder.push(field, Problem::Required);
                    }
                }
                Some(ApprovalMeeting { body: body?, date: date?, submission_deadline: deadline?, submitted_on })
            })
        }
    };
    ApprovalChecklist {
        named_approver: decode_person(decoder, map, "named_approver", "approval.named_approver"),
        real_approver: decode_person(decoder, map, "real_approver", "approval.real_approver"),
        po_signer: decode_person(decoder, map, "po_signer", "approval.po_signer"),
        departments_with_power: departments,
        form: decoder.enumerated(map, "form", "approval.form", ApprovalForm::parse),
        meeting_needed: decoder.boolean(map, "meeting_needed", "approval.meeting_needed"),
        meeting,
        meeting_calendar,
        drafter: decode_person(decoder, map, "drafter", "approval.drafter"),
        drafter_passed_amount_before: decoder.boolean(map, "drafter_passed_amount_before", "approval.drafter_passed_amount_before"),
        draft_started_on: decoder.date(map, "draft_started_on", "approval.draft_started_on"),
    }
}

fn decode_into(decoder: &mut Decoder, name: WorkspacePartName, value: &Value) -> WorkspacePart {
    match name {
        WorkspacePartName::Bant => WorkspacePart::Bant(decode_bant(decoder, value)),
        WorkspacePartName::FourBox => WorkspacePart::FourBox(decode_four_box(decoder, value)),
        WorkspacePartName::Stakeholders => WorkspacePart::Stakeholders(decode_stakeholders(decoder, value)),
        WorkspacePartName::Competitors => WorkspacePart::Competitors(decode_competitors(decoder, value)),
        WorkspacePartName::ClosePlan => WorkspacePart::ClosePlan(decode_close_plan(decoder, value)),
        WorkspacePartName::Approval => WorkspacePart::Approval(decode_approval(decoder, value)),
    }
}

/// Reads part `name` from its JSON; every problem is reported against `record`.
pub fn part_from_json(record: &RecordRef, name: WorkspacePartName, value: &Value) -> Result<WorkspacePart, ValidationErrors> {
    let mut decoder = Decoder { record: record.clone(), errors: ValidationErrors::default(), item: None };
    let part = decode_into(&mut decoder, name, value);
    decoder.errors.into_result(part)
}

/// Reads a whole workspace; absent parts are empty.
pub fn from_json(record: &RecordRef, value: &Value) -> Result<Workspace, ValidationErrors> {
    let mut decoder = Decoder { record: record.clone(), errors: ValidationErrors::default(), item: None };
    let keys: Vec<&str> = WorkspacePartName::ALL.iter().map(|name| name.as_str()).collect();
    let mut workspace = Workspace::default();
    if let Some(map) = decoder.object(value, "workspace", &keys) {
        for name in WorkspacePartName::ALL {
            if let Some(part) = map.get(name.as_str()).filter(|part| !part.is_null()) {
                decode_into(&mut decoder, *name, part).apply_to(&mut workspace);
            }
        }
    }
    decoder.errors.into_result(workspace)
}

/// Reads a stored document; a document that does not decode is reported as text for
/// [`crate::StoreError::Corrupt`].
pub fn decode_document(text: &str) -> Result<Workspace, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    from_json(&RecordRef::new_record("deal_workspace"), &value).map_err(|errors| errors.to_string())
}

/// Reads a stored part.
pub fn decode_part(name: WorkspacePartName, text: &str) -> Result<WorkspacePart, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    part_from_json(&RecordRef::new_record("workspace_history"), name, &value).map_err(|errors| errors.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_core::message::catalog::en_errors;
    use proptest::prelude::*;

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-z 가-힣]{1,12}", "\\PC{0,8}"]
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1990i16..2100, 1i8..=12, 1i8..=28).prop_map(|(year, month, day)| Date::new(year, month, day).unwrap())
    }

    fn pick<T: Copy + std::fmt::Debug + 'static>(values: &'static [T]) -> impl Strategy<Value = T> {
        prop::sample::select(values)
    }

    fn any_person() -> impl Strategy<Value = Option<ApprovalPerson>> {
        prop::option::of(
            (prop::option::of(1i64..1000), any_text()).prop_map(|(id, name)| ApprovalPerson { contact_id: id.map(ContactId), name }),
        )
    }

    fn any_workspace() -> impl Strategy<Value = Workspace> {
        let entry = || (pick(BantStatus::ALL), any_text()).prop_map(|(status, note)| BantEntry { status, note });
        let bant = (entry(), entry(), entry(), entry()).prop_map(|(budget, authority, need, timeframe)| Bant {
            budget,
            authority,
            need,
            timeframe,
        });
        let four_box = (any_text(), any_text(), any_text(), any_text(), any_text()).prop_map(|(a, b, c, d, e)| FourBox {
            business_issue: a,
            problem: b,
            solution: c,
            benefit_quantitative: d,
            benefit_qualitative: e,
        });
        let stakeholder = (1i64..10_000, any_text(), pick(BuyingRole::ALL), pick(Level::ALL), 0u8..=9, 0u8..=9, any_text()).prop_map(
            |(id, name, buying_role, level, rank, influence, influence_evidence)| Stakeholder {
                contact_id: ContactId(id),
                name,
                buying_role,
                level,
                rank,
                influence,
                influence_evidence,
            },
        );
        let criterion = (any_text(), 0u8..=9, 0u8..=9, 0u8..=9, any_text())
            .prop_map(|(label, importance, ours, theirs, note)| CompetitiveCriterion { label, importance, ours, theirs, note });
        let competitor = (any_text(), prop::option::of(any_text()), prop::collection::vec(criterion, 0..3))
            .prop_map(|(competitor, key_person, criteria)| CompetitorAssessment { competitor, key_person, criteria });
        let item =
            (pick(Side::ALL), any_text(), any_text(), prop::option::of(any_date()), prop::option::of(any_date()), pick(PlanStep::ALL))
                .prop_map(|(side, owner, title, target_date, done_on, step)| ClosePlanItem {
                    side,
                    owner,
                    title,
                    target_date,
                    done_on,
                    step,
                });
        let plan = (prop::collection::vec(item, 0..4), prop::option::of(any_date()), prop::option::of(any_date()))
            .prop_map(|(items, first_shared_on, agreed_on)| ClosePlan { items, first_shared_on, agreed_on });
        let meeting = (pick(MeetingBody::ALL), any_date(), any_date(), prop::option::of(any_date()))
            .prop_map(|(body, date, submission_deadline, submitted_on)| ApprovalMeeting { body, date, submission_deadline, submitted_on });
        let approval = (
            (any_person(), any_person(), any_person(), any_person()),
            prop::collection::vec(any_text(), 0..3),
            prop::option::of(pick(ApprovalForm::ALL)),
            prop::option::of(any::<bool>()),
            (prop::option::of(meeting), prop::collection::vec(any_date(), 0..4)),
            prop::option::of(any::<bool>()),
            prop::option::of(any_date()),
        )
            .prop_map(|((named, real, po, drafter), departments, form, needed, (meeting, meeting_calendar), passed, started)| {
                ApprovalChecklist {
                    named_approver: named,
                    real_approver: real,
                    po_signer: po,
                    departments_with_power: departments,
                    form,
                    meeting_needed: needed,
                    meeting,
                    meeting_calendar,
                    drafter,
                    drafter_passed_amount_before: passed,
                    draft_started_on: started,
                }
            });
        (bant, four_box, prop::collection::vec(stakeholder, 0..4), prop::collection::vec(competitor, 0..3), plan, approval).prop_map(
            |(bant, four_box, stakeholders, competitors, close_plan, approval)| Workspace {
                bant,
                four_box,
                stakeholders,
                competitors,
                close_plan,
                approval,
            },
        )
    }

    proptest! {
        #[test]
        fn every_workspace_round_trips_through_its_json(workspace in any_workspace()) {
            let text = to_json(&workspace).to_string();
            prop_assert_eq!(decode_document(&text).unwrap(), workspace.clone());
            for name in WorkspacePartName::ALL {
                let part = WorkspacePart::of(&workspace, *name);
                let text = part_to_json(&part).to_string();
                prop_assert_eq!(decode_part(*name, &text).unwrap(), part);
            }
        }
    }

    #[test]
    fn decoding_reports_every_problem_with_field_and_item() {
        let record = RecordRef::new("opportunity", 7);
        let body = json!([
            { "contact_id": 3, "name": "Kim", "buying_role": "champion", "level": "executive", "rank": 5, "influence": 4 },
            { "name": "Lee", "level": "boss", "rank": "high", "influence": 2, "mood": "happy" },
        ]);
        let errors = part_from_json(&record, WorkspacePartName::Stakeholders, &body).unwrap_err();
        assert_eq!(
            en_errors(&errors),
            "opportunity 7: stakeholders: item 2: unknown field \"mood\"; expected contact_id, name, buying_role, level, rank, influence, \
             influence_evidence; opportunity 7: stakeholders.contact_id: item 2: is required; \
             opportunity 7: stakeholders.level: item 2: \"boss\" is not one of executive, department_head, staff; \
             opportunity 7: stakeholders.rank: item 2: \"\\\"high\\\"\" is not a whole number from 1 to 5"
        );
        // Absent keys take their empty values.
        let bant = part_from_json(&record, WorkspacePartName::Bant, &json!({ "budget": { "status": "confirmed" } })).unwrap();
        let WorkspacePart::Bant(bant) = bant else { panic!("a BANT part") };
        assert_eq!((bant.budget.status, bant.need.status), (BantStatus::Confirmed, BantStatus::Unknown));
    }

    #[test]
    fn the_meeting_calendar_is_optional_and_its_dates_are_checked() {
        let record = RecordRef::new("opportunity", 7);
        // A document written before the calendar existed decodes with an empty one.
        let old =
            json!({ "meeting_needed": true, "meeting": { "body": "board", "date": "2026-03-17", "submission_deadline": "2026-03-10" } });
        let WorkspacePart::Approval(approval) = part_from_json(&record, WorkspacePartName::Approval, &old).unwrap() else {
            panic!("an approval part")
        };
        assert!(approval.meeting_calendar.is_empty());
        assert!(approval.meeting.is_some());
        let stored = decode_document(r#"{"approval": {"meeting_needed": false}}"#).unwrap();
        assert!(stored.approval.meeting_calendar.is_empty());
        // Dates are read in order; a bad one is named with its item.
        let body = json!({ "meeting_calendar": ["2026-04-21", "2026-05-19"] });
        let WorkspacePart::Approval(approval) = part_from_json(&record, WorkspacePartName::Approval, &body).unwrap() else {
            panic!("an approval part")
        };
        assert_eq!(approval.meeting_calendar, ["2026-04-21".parse::<Date>().unwrap(), "2026-05-19".parse().unwrap()]);
        let errors = part_from_json(&record, WorkspacePartName::Approval, &json!({ "meeting_calendar": ["2026-04-21", 5] })).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "approval.meeting_calendar");
        assert!(errors.to_string().contains("item 2"), "{errors}");
    }
}
