//! Stage gates in the web app: what a refused move is missing (grouped by stage, in the reader's
//! language), the current stage's gate as a checklist on the deal page, who may override a gate
//! or grow a checklist from a loss, and the forms that tick and untick checklist items.

use pipewise_core::access::Access;
use pipewise_core::gates::{self, CriterionKind, CriterionStatus, ExitCriterion, MoveCheck};
use pipewise_core::opportunity::OppField;
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::i18n::{self, t};

/// One unmet criterion of a refused move.
#[derive(Clone, Debug, Serialize)]
pub struct MissView {
    pub label: String,
    pub reason: String,
}

/// The unmet criteria of one stage's gate.
#[derive(Clone, Debug, Serialize)]
pub struct StageMissView {
    pub stage: String,
    pub items: Vec<MissView>,
}

/// A refused move, as the board dialog and the move page show it.
#[derive(Clone, Debug, Serialize)]
pub struct RefusalView {
    pub heading: String,
    pub stages: Vec<StageMissView>,
    pub count: usize,
    pub can_override: bool,
}

/// The exit criterion a path names; text that is not a number is the 404 of a criterion that
/// does not exist.
pub fn criterion_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound { kind: "exit_criterion", id: raw.to_owned() })
}

/// What `check` is missing, stage by stage in pipeline order, in `locale`.
pub fn refusal(check: &MoveCheck, locale: Locale, can_override: bool) -> RefusalView {
    let stages: Vec<StageMissView> = check
        .missing
        .iter()
        .map(|stage| StageMissView {
            stage: match locale {
                Locale::Ko if !stage.stage_name_ko.trim().is_empty() => stage.stage_name_ko.clone(),
                _ => stage.stage_name_en.clone(),
            },
            items: stage
                .unmet
                .iter()
                .map(|unmet| MissView {
                    label: match locale {
                        Locale::En => unmet.label_en.clone(),
                        Locale::Ko => unmet.label_ko.clone(),
                    },
                    reason: i18n::message(locale, &unmet.reason),
                })
                .collect(),
        })
        .collect();
    let count = stages.iter().map(|stage| stage.items.len()).sum::<usize>();
    RefusalView { heading: i18n::tf(locale, "gate.refused", &[("count", &count.to_string())]), stages, count, can_override }
}

/// The refusal in one line of text: the heading, then each stage with its unmet criteria.
pub fn refusal_text(check: &MoveCheck, locale: Locale) -> String {
    let view = refusal(check, locale, false);
    let stages: Vec<String> = view
        .stages
        .iter()
        .map(|stage| {
            format!(
                "{}: {}",
                stage.stage,
                stage.items.iter().map(|item| format!("{} ({})", item.label, item.reason)).collect::<Vec<_>>().join("; ")
            )
        })
        .collect();
    format!("{}. {}", view.heading, stages.join(" · "))
}

/// The refusal as our script receives it.
pub fn refusal_json(view: &RefusalView) -> Value {
    json!({
        "heading": view.heading,
        "can_override": view.can_override,
        "stages": view.stages.iter().map(|stage| json!({
            "stage": stage.stage,
            "items": stage.items.iter().map(|item| json!({ "label": item.label, "reason": item.reason })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Whether `access` may override the gates of a deal owned by `owner` (the server decides again
/// when it is tried; this only decides whether the form offers it).
pub fn can_override(access: &Access, owner: UserId) -> bool {
    gates::authorize_override(access, owner, "reason").is_ok()
}

/// Whether `access` may add an item to a gate from a loss review: ops, admins, and a manager
/// above the deal's owner.
pub fn can_grow_checklist(access: &Access, owner: UserId) -> bool {
    match access {
        Access::System => true,
        Access::User(actor) => match actor.role {
            Role::Admin | Role::Ops => true,
            Role::Manager => actor.user_id != owner && actor.tree.contains(&owner),
            Role::Rep | Role::Viewer => false,
        },
    }
}

/// Who ticked a checklist item, when, and on what evidence.
#[derive(Clone, Debug, Serialize)]
pub struct CheckView {
    pub who: String,
    pub when: String,
    pub evidence: String,
}

/// One criterion of the current stage's gate.
#[derive(Clone, Debug, Serialize)]
pub struct GateItemView {
    pub id: i64,
    pub label: String,
    /// `checklist`, `required_field` or `derived`.
    pub kind: &'static str,
    pub kind_label: String,
    pub met: bool,
    /// The live explanation of a derived item or a required field.
    pub reason: String,
    pub check: Option<CheckView>,
    /// For a required field: the edit form's input.
    pub field_href: Option<String>,
    pub from_loss: bool,
}

/// The gate of one stage as a checklist.
#[derive(Clone, Debug, Serialize)]
pub struct GateView {
    pub stage: String,
    pub items: Vec<GateItemView>,
    pub met: usize,
    pub total: usize,
    pub summary: String,
}

/// The input of the deal form that holds `field`, if the form has one.
pub fn form_input(field: OppField) -> Option<&'static str> {
    Some(match field {
        OppField::Name => "name",
        OppField::Account => "account_id",
        OppField::Owner => "owner_id",
        OppField::Stage => "stage_id",
        OppField::Amount => "amount",
        OppField::CloseDate => "close_date",
        OppField::ForecastCategory => "forecast_category",
        OppField::NextStep => "next_step",
        OppField::CloseReason => "close_reason",
        OppField::Pipeline | OppField::Status | OppField::ClosedAt | OppField::GateOverride => return None,
    })
}

/// The gate of `stage_name` as a checklist: each of the stage's criteria with its evaluation;
/// `user_name` names who ticked an item.
pub fn gate_view(
    stage_name: String,
    criteria: &[(ExitCriterion, CriterionStatus)],
    locale: Locale,
    time_zone: &str,
    user_name: &dyn Fn(UserId) -> String,
) -> GateView {
    let items: Vec<GateItemView> = criteria
        .iter()
        .map(|(criterion, status)| {
            let label = match locale {
                Locale::En => criterion.label_en.clone(),
                Locale::Ko => criterion.label_ko.clone(),
            };
            let reason = i18n::message(locale, &status.reason);
            let check = status.check.as_ref().map(|check| CheckView {
                who: user_name(check.checked_by),
                when: i18n::timestamp(locale, check.checked_at, time_zone),
                evidence: check.evidence.clone(),
            });
            let field_href = match &criterion.kind {
                CriterionKind::RequiredField(field) => form_input(*field).map(|input| format!("#{input}")),
                _ => None,
            };
            GateItemView {
                id: criterion.id,
                label,
                kind: criterion.kind.kind_str(),
                kind_label: t(locale, &format!("gate.kind.{}", criterion.kind.kind_str())).to_owned(),
                met: status.met,
                reason,
                check,
                field_href,
                from_loss: matches!(criterion.origin, gates::CriterionOrigin::LossReview { .. }),
            }
        })
        .collect();
    let met = items.iter().filter(|item| item.met).count();
    let total = items.len();
    GateView {
        summary: i18n::tf(locale, "gate.summary", &[("met", &met.to_string()), ("total", &total.to_string())]),
        stage: stage_name,
        items,
        met,
        total,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use pipewise_core::access::Actor;
    use pipewise_core::gates::{StageMisses, UnmetCriterion};

    use super::*;

    fn unmet(id: i64, stage: i64, label: &str) -> UnmetCriterion {
        UnmetCriterion {
            criterion_id: id,
            stage_id: StageId(stage),
            label_en: label.into(),
            label_ko: format!("{label} (ko)"),
            reason: Message::new("verdict.not_checked"),
        }
    }

    #[test]
    fn a_refusal_lists_every_unmet_criterion_grouped_by_stage_in_the_readers_language() {
        let check = MoveCheck {
            from: StageId(1),
            to: StageId(3),
            kind: gates::MoveKind::Forward,
            gates_checked: vec![StageId(1), StageId(2)],
            missing: vec![
                StageMisses {
                    stage_id: StageId(1),
                    position: 0,
                    stage_name_en: "Pre-opportunity".into(),
                    stage_name_ko: "리드 이상, 상담 미만".into(),
                    unmet: vec![unmet(1, 1, "Business issue")],
                },
                StageMisses {
                    stage_id: StageId(2),
                    position: 1,
                    stage_name_en: "Problem recognition".into(),
                    stage_name_ko: "비즈니스 과제의 인식".into(),
                    unmet: vec![unmet(3, 2, "Requirements"), unmet(4, 2, "Demo")],
                },
            ],
        };
        let english = refusal(&check, Locale::En, false);
        assert_eq!(english.count, 3);
        assert_eq!(english.heading, "Not moved: 3 exit criteria are not met");
        assert_eq!(english.stages[1].stage, "Problem recognition");
        assert_eq!(english.stages[1].items[1].label, "Demo");
        let korean = refusal(&check, Locale::Ko, true);
        assert_eq!(korean.stages[0].stage, "리드 이상, 상담 미만");
        assert_eq!(korean.stages[0].items[0].reason, "아직 확인되지 않음");
        assert!(refusal_json(&korean)["can_override"].as_bool().unwrap());
    }

    #[test]
    fn only_managers_above_the_owner_ops_and_admins_override_or_grow_checklists() {
        let actor = |role: Role, user: i64, tree: &[i64]| {
            Access::User(Actor { user_id: UserId(user), role, tree: tree.iter().copied().map(UserId).collect::<BTreeSet<_>>() })
        };
        let owner = UserId(3);
        assert!(!can_override(&actor(Role::Rep, 3, &[3]), owner));
        assert!(can_override(&actor(Role::Manager, 2, &[2, 3]), owner));
        assert!(!can_override(&actor(Role::Manager, 5, &[5, 6]), owner));
        assert!(can_override(&actor(Role::Ops, 9, &[9]), owner));
        assert!(!can_grow_checklist(&actor(Role::Rep, 3, &[3]), owner));
        assert!(can_grow_checklist(&actor(Role::Manager, 2, &[2, 3]), owner));
        assert!(can_grow_checklist(&actor(Role::Admin, 1, &[1]), owner));
    }
}
