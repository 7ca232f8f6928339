//! The whole workspace section of the deal page: a tab per part with its form, problems and
//! flags, the quadrants, and the choices of the selects.

use std::collections::BTreeMap;

use pipewise_core::ContactId;
use pipewise_core::user::Locale;
use pipewise_core::workspace::{ApprovalForm, BantStatus, BuyingRole, Flag, Level, MeetingBody, PlanStep, SCALE, Side, Workspace};
use serde::Serialize;

use super::charts::{CompetitorChart, competitor_charts, stakeholder_chart};
use super::forms::PartForms;
use super::{ContactNames, FieldErrors, PARTS};
use crate::i18n::{self, t};
use crate::pages::Params;
use crate::pages::list::Choice;
use crate::pages::quadrant::QuadrantView;

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
        .map(|flag| FlagView { code: flag.code, severity: flag.severity.as_str(), message: i18n::message(locale, &flag.message) })
        .collect()
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

// ---------------------------------------------------------------------------------------------
// Choices.

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
// The section.

/// One tab.
#[derive(Clone, Debug, Serialize)]
pub struct PartTab {
    pub key: &'static str,
    pub label: String,
    pub flag_count: usize,
    pub has_errors: bool,
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
    WorkspaceView {
        parts,
        active,
        saved: input.saved.unwrap_or_default().to_owned(),
        can_edit: input.can_edit,
        forms,
        errors,
        flags,
        stakeholder_chart: stakeholder_chart(input.workspace, input.activity_by_contact, locale),
        competitor_charts: competitor_charts(input.workspace, locale),
        choices: WorkspaceChoices::new(locale, input.contacts),
    }
}
