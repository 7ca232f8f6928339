//! Every part's form read back gives the value it was filled with; bad fields are named beside
//! their inputs.

use std::collections::BTreeMap;

use pipewise_core::ContactId;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{
    ApprovalChecklist, ApprovalForm, ApprovalMeeting, ApprovalPerson, Bant, BantEntry, BantStatus, BuyingRole, ClosePlan, ClosePlanItem,
    CompetitiveCriterion, CompetitorAssessment, FourBox, Level, MeetingBody, PlanStep, Side, Stakeholder, Workspace, WorkspacePart,
};

use super::forms::PartForms;
use super::{ContactNames, parse};
use crate::pages::Params;

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect())
}

fn contacts() -> ContactNames {
    BTreeMap::from([(ContactId(7), "김민준".to_owned()), (ContactId(8), "Lee".to_owned())])
}

/// A workspace with something in every part.
fn sample_workspace() -> Workspace {
    Workspace {
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
    }
}

/// Each form's inputs exactly as shown, as they are posted back.
fn posted_bant(forms: &PartForms) -> Vec<(String, String)> {
    let mut bant = Vec::new();
    for row in &forms.bant {
        bant.push((format!("{}_status", row.item), row.status.clone()));
        bant.push((format!("{}_note", row.item), row.note.clone()));
    }
    bant
}

fn posted_four_box(forms: &PartForms) -> Vec<(String, String)> {
    vec![
        ("business_issue".to_owned(), forms.four_box.business_issue.clone()),
        ("problem".into(), String::new()),
        ("solution".into(), String::new()),
        ("benefit_quantitative".into(), String::new()),
        ("benefit_qualitative".into(), String::new()),
    ]
}

fn posted_stakeholders(forms: &PartForms) -> Vec<(String, String)> {
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
    stakeholders
}

fn posted_competitors(forms: &PartForms) -> Vec<(String, String)> {
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
    competitors
}

fn posted_close_plan(forms: &PartForms) -> Vec<(String, String)> {
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
    plan
}

fn posted_approval(forms: &PartForms) -> Vec<(String, String)> {
    let a = &forms.approval;
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
    approval
}

#[test]
fn every_part_round_trips_through_its_form() {
    let workspace = sample_workspace();
    let forms = PartForms::from_workspace(&workspace, Locale::En);
    let a = &forms.approval;
    assert_eq!(a.calendar.len(), 4, "two meetings and two blank rows");
    assert_eq!((a.calendar[0].papers_due.as_str(), a.calendar[1].papers_due.as_str()), ("2026-08-05", "2026-09-02"));
    // Post each form back exactly as shown: the same value comes out.
    let mut rebuilt = Workspace::default();
    for (part, pairs) in [
        ("bant", posted_bant(&forms)),
        ("four_box", posted_four_box(&forms)),
        ("stakeholders", posted_stakeholders(&forms)),
        ("competitors", posted_competitors(&forms)),
        ("close_plan", posted_close_plan(&forms)),
        ("approval", posted_approval(&forms)),
    ] {
        let value = parse(part, &Params(pairs), &workspace, &contacts(), Locale::En).unwrap_or_else(|errors| panic!("{part}: {errors:?}"));
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
    let plan =
        params(&[("p0_title", "Board approval"), ("p0_side", "us"), ("p0_target", "2026-13-01"), ("p1_title", ""), ("p1_owner", "Kim")]);
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
