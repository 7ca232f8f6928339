//! Stage gates (SPEC C2, seed 003's 이행 판정 기준): the exit criteria of a stage, how they are
//! evaluated against what is known about a deal, and whether a stage move may happen.
//!
//! A criterion is one of three kinds ([`CriterionKind`]):
//! - a checklist item a person ticks, saying who, when and on what evidence ([`CriterionCheck`]);
//! - a required field of the opportunity ([`OppField`]);
//! - a [`Predicate`] derived from the deal and its workspace, evaluated with an explanation in
//!   English and Korean ("no stakeholder with influence ≥ 4 is linked (highest: 3, 김민준)").
//!
//! Move rules ([`check_move`]):
//! - Moving back, or to the same stage, is always allowed; so is moving to a lost stage, and
//!   reopening a won deal into an open stage.
//! - Moving forward checks the gate of every stage left on the way: the current stage and each
//!   open stage after it, up to but not including the target.
//!   The gate of an archived stage is skipped on the way past it (the current stage's gate is
//!   always checked). A jump of several stages reports
//!   every unmet criterion of every gate, grouped by stage in pipeline order.
//! - Moving to won checks the gates of the current stage and every open stage after it.
//! - A lost deal resumes from the stage it was lost from ([`DealFacts::lost_from`]; the entry
//!   stage when it was created lost): reopened into that stage or an earlier one it needs no
//!   check; reopened further, or won outright, it checks every gate on the way from there,
//!   exactly as a forward move from that stage does. Losing a deal is never a way round a gate.
//!
//! A refused move may be overridden by a manager in the owner's reporting line, ops or an admin,
//! with a reason ([`authorize_override`], [`GateOverride`]); never by a rep or a viewer.
//!
//! Stage 1 of The Model sits between lead and deal: it is left out of metrics, a deal dropped
//! there is not a loss ([`counts_as_loss`]), and leaving it marks the deal SQL
//! ([`qualifies_as_sql`]). Checklists grow from failures: [`criterion_from_loss_review`] turns a
//! loss review's lesson into a new checklist item on the stage where the deal was lost.
//!
//! Nothing here reads a clock: `today` arrives in [`GateContext`].

use std::fmt;

use crate::access::Access;
use crate::error::{FieldError, Problem, RecordRef, ValidationErrors};
use crate::id::{OpportunityId, StageId, UserId};
use crate::message::{Arg, Message};
use crate::money::Money;
use crate::opportunity::{OppField, Opportunity};
use crate::pipeline::{ForecastCategory, Pipeline, Stage, StageKind};
use crate::records::text_enum;
use crate::text;
use crate::time::{Date, Timestamp};
use crate::user::Role;
use crate::workspace::{BantItem, BantStatus, FourBoxPart, Level, Workspace, days_between};

/// What an exit criterion is called in error messages.
pub const CRITERION_LABEL: &str = "exit_criterion";

/// The decision window of stage 1 when neither the criterion nor the team says otherwise.
pub const DEFAULT_DECISION_WINDOW_DAYS: u32 = 90;

/// How deeply predicates may nest; deeper ones are refused when stored or parsed.
pub const MAX_PREDICATE_DEPTH: usize = 16;

// ---------------------------------------------------------------------------------------------
// Criteria

/// What a criterion checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CriterionKind {
    /// A person ticks it, with evidence.
    Checklist,
    /// The opportunity's field must be set.
    RequiredField(OppField),
    /// Derived from data.
    Derived(Predicate),
}

impl CriterionKind {
    /// `checklist`, `required_field` or `derived`: the discriminant a store keeps in a column.
    pub fn kind_str(&self) -> &'static str {
        match self {
            CriterionKind::Checklist => "checklist",
            CriterionKind::RequiredField(_) => "required_field",
            CriterionKind::Derived(_) => "derived",
        }
    }

    /// The kind's argument as text: the field name, the encoded predicate, or `None`.
    pub fn argument(&self) -> Option<String> {
        match self {
            CriterionKind::Checklist => None,
            CriterionKind::RequiredField(field) => Some(field.as_str().to_owned()),
            CriterionKind::Derived(predicate) => Some(predicate.encode()),
        }
    }

    /// Rebuilds a kind from [`CriterionKind::kind_str`] and [`CriterionKind::argument`].
    pub fn decode(kind: &str, argument: Option<&str>) -> Result<CriterionKind, Problem> {
        let missing = || Problem::Invalid { value: String::new(), expected: "an argument for this kind" };
        match kind {
            "checklist" => Ok(CriterionKind::Checklist),
            "required_field" => {
                let raw = argument.ok_or_else(missing)?;
                OppField::parse(raw)
                    .map(CriterionKind::RequiredField)
                    .ok_or_else(|| Problem::Invalid { value: raw.to_owned(), expected: "an opportunity field" })
            }
            "derived" => Predicate::parse(argument.ok_or_else(missing)?).map(CriterionKind::Derived),
            other => Err(Problem::Invalid { value: other.to_owned(), expected: "one of checklist, required_field, derived" }),
        }
    }
}

/// Where a criterion came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CriterionOrigin {
    /// Shipped with a pipeline template.
    Template,
    /// Added by ops.
    Ops,
    /// Grown from the loss review of this deal ("a checklist grown from failures is an asset").
    /// Always `Some` as stored; `None` when the criterion is read by someone who may not see
    /// that deal (`pipewise_app` withholds it: a deal a reader may not see is never named).
    LossReview { opportunity_id: Option<OpportunityId> },
}

/// One exit criterion of one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitCriterion {
    pub id: i64,
    pub stage_id: StageId,
    pub label_en: String,
    pub label_ko: String,
    pub kind: CriterionKind,
    pub origin: CriterionOrigin,
}

/// A criterion before a store gives it an id. Within a stage, criteria keep the order they were
/// added in (stores hand them back in id order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewExitCriterion {
    pub stage_id: StageId,
    pub label_en: String,
    pub label_ko: String,
    pub kind: CriterionKind,
    pub origin: CriterionOrigin,
}

impl NewExitCriterion {
    /// Checks the labels (Korean defaults to English), that the stage is an open stage of
    /// `pipeline` (won and lost stages have no gate), and that a predicate is well formed.
    pub fn validated(mut self, pipeline: &Pipeline) -> Result<NewExitCriterion, ValidationErrors> {
        let record = RecordRef::new_record(CRITERION_LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "label_en", &mut self.label_en, 200);
        errors.korean_text(&record, "label_ko", &mut self.label_ko, &self.label_en, 200);
        match pipeline.stage(self.stage_id) {
            None => errors.push(
                &record,
                "stage_id",
                Problem::Fact(
                    Message::new("rule.stage_not_in_pipeline")
                        .text("stage", self.stage_id)
                        .text("pipeline", pipeline.id)
                        .text("name", &pipeline.name),
                ),
            ),
            Some(stage) if stage.kind != StageKind::Open => errors.push(
                &record,
                "stage_id",
                Problem::Fact(
                    Message::new("rule.closed_stage_criteria")
                        .text("stage", stage.id)
                        .text("name", &stage.name_en)
                        .term("kind", term("stage_kind", stage.kind.as_str())),
                ),
            ),
            Some(_) => {}
        }
        if let CriterionKind::Derived(predicate) = &self.kind {
            for problem in predicate.problems() {
                errors.push(&record, "kind", Problem::Fact(problem));
            }
        }
        errors.into_result(self)
    }

    /// The criterion as a store would hold it, with id `id`.
    pub fn with_id(self, id: i64) -> ExitCriterion {
        ExitCriterion {
            id,
            stage_id: self.stage_id,
            label_en: self.label_en,
            label_ko: self.label_ko,
            kind: self.kind,
            origin: self.origin,
        }
    }
}

/// A person's tick on a checklist criterion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionCheck {
    pub criterion_id: i64,
    pub checked_by: UserId,
    pub checked_at: Timestamp,
    /// What shows it is true ("PoC kick-off held 3 March, minutes in the drive").
    pub evidence: String,
}

impl CriterionCheck {
    /// A tick on `criterion`, which must be a checklist item, with non-empty evidence.
    pub fn new(criterion: &ExitCriterion, by: UserId, at: Timestamp, evidence: &str) -> Result<CriterionCheck, ValidationErrors> {
        let record = RecordRef::new(CRITERION_LABEL, criterion.id);
        let mut errors = ValidationErrors::default();
        let from_data = match criterion.kind {
            CriterionKind::Checklist => None,
            CriterionKind::RequiredField(_) => Some("rule.criterion_read"),
            CriterionKind::Derived(_) => Some("rule.criterion_derived"),
        };
        if let Some(key) = from_data {
            errors.push(&record, "kind", Problem::Fact(Message::new(key).text("label", &criterion.label_en)));
        }
        let evidence = errors.check(&record, "evidence", text::required(evidence, 2000));
        errors.into_result(())?;
        Ok(CriterionCheck { criterion_id: criterion.id, checked_by: by, checked_at: at, evidence: evidence.unwrap_or_default() })
    }
}

/// What gates are evaluated with besides the deal: today, and the team's average sales cycle
/// (the default decision window of stage 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateContext {
    pub team_average_cycle_days: Option<u32>,
    pub today: Date,
}

/// Everything criteria are evaluated against.
#[derive(Clone, Copy, Debug)]
pub struct DealFacts<'a> {
    pub opportunity: &'a Opportunity,
    pub workspace: &'a Workspace,
    /// The checklist ticks made so far on this deal, any stage.
    pub checks: &'a [CriterionCheck],
    /// For a lost deal, the open stage it was lost from (the stage before its last move into a
    /// lost stage); `None` when it is not lost or was created lost. See [`check_move`].
    pub lost_from: Option<StageId>,
}

// ---------------------------------------------------------------------------------------------
// Predicates

text_enum! {
    /// The facts of the approval checklist a gate can ask for.
    ApprovalFact {
        RealApprover => "real_approver",
        PoSigner => "po_signer",
        Form => "form",
        Meeting => "meeting",
        DrafterExperience => "drafter_experience",
    }
    expected "one of real_approver, po_signer, form, meeting, drafter_experience"
}

/// A condition on a deal, derived from data. Combine with `All`, `Any` and `Not`.
///
/// Every predicate has one text form ([`Predicate::encode`], [`Predicate::parse`]) for storage:
/// `all(bant(budget, partial|confirmed), stakeholder(4, executive), not(set(next_step)))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    /// Every one holds. `all(p, q)`.
    All(Vec<Predicate>),
    /// At least one holds. `any(p, q)`.
    Any(Vec<Predicate>),
    /// `not(p)`.
    Not(Box<Predicate>),
    /// The opportunity's field is set. `set(amount)`.
    FieldSet(OppField),
    /// The amount is at least this, in the same currency (no conversion: a deal in another
    /// currency does not meet it). `amount_at_least(USD 50000.00)`.
    AmountAtLeast(Money),
    /// The close date is today or within this many days after. `close_date_within(30)`.
    CloseDateWithinDays(u32),
    /// The forecast category is one of these. `forecast_category_in(best_case|commit)`.
    ForecastCategoryIn(Vec<ForecastCategory>),
    /// The BANT item's status is one of these. `bant(budget, partial|confirmed)`.
    Bant { item: BantItem, statuses: Vec<BantStatus> },
    /// A stakeholder on the map has at least this influence (1–5) and, when given, this level.
    /// `stakeholder(4)`, `stakeholder(3, executive)`.
    StakeholderLinked { min_influence: u8, level: Option<Level> },
    /// The customer agreed to the mutual close plan, which was shared and has items.
    /// `close_plan_agreed()`.
    ClosePlanAgreed,
    /// Some competitor has at least one scored criterion. `competitor_assessment_started()`.
    CompetitorAssessmentStarted,
    /// The customer started preparing the approval draft. `approval_draft_started()`.
    ApprovalDraftStarted,
    /// A decision is needed within N days: the close date is today or within N days, where N
    /// is given or else the team's average sales cycle (else [`DEFAULT_DECISION_WINDOW_DAYS`]).
    /// `decision_within(team)`, `decision_within(60)`.
    DecisionWithin { days: Option<u32> },
    /// The four-box part is written. `four_box(business_issue)`.
    FourBoxFilled(FourBoxPart),
    /// The approval checklist answers this question. `approval_known(real_approver)`.
    ApprovalKnown(ApprovalFact),
}

/// Whether a predicate holds, and why: a [`Message`] under `verdict.`, worded by the edges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub holds: bool,
    pub reason: Message,
}

impl Verdict {
    fn new(holds: bool, reason: Message) -> Verdict {
        Verdict { holds, reason }
    }
}

/// The catalog entry of a term: `term.bant.budget`, worded inside sentences.
pub fn term(kind: &str, code: &str) -> String {
    format!("term.{kind}.{code}")
}

impl Predicate {
    /// Evaluates against the deal, explaining the facts either way.
    pub fn evaluate(&self, facts: &DealFacts<'_>, ctx: &GateContext) -> Verdict {
        let opportunity = facts.opportunity;
        let workspace = facts.workspace;
        match self {
            Predicate::All(parts) => {
                let verdicts: Vec<Verdict> = parts.iter().map(|part| part.evaluate(facts, ctx)).collect();
                let holds = verdicts.iter().all(|verdict| verdict.holds);
                let shown = verdicts.into_iter().filter(|verdict| holds || !verdict.holds).map(|verdict| verdict.reason).collect();
                Verdict::new(holds, Message::new("verdict.reasons").messages("reasons", shown, "list.semicolon"))
            }
            Predicate::Any(parts) => {
                let verdicts: Vec<Verdict> = parts.iter().map(|part| part.evaluate(facts, ctx)).collect();
                match verdicts.iter().position(|verdict| verdict.holds) {
                    Some(index) => verdicts.into_iter().nth(index).expect("found above"),
                    None => {
                        let all = verdicts.into_iter().map(|verdict| verdict.reason).collect();
                        Verdict::new(false, Message::new("verdict.none_holds").messages("reasons", all, "list.semicolon"))
                    }
                }
            }
            Predicate::Not(part) => {
                let verdict = part.evaluate(facts, ctx);
                if verdict.holds {
                    Verdict::new(false, Message::new("verdict.must_not").message("reason", verdict.reason))
                } else {
                    Verdict::new(true, verdict.reason)
                }
            }
            Predicate::FieldSet(field) => {
                let label = term("field", field.as_str());
                match field.encode(opportunity) {
                    Some(value) => Verdict::new(true, Message::new("verdict.field_set").term("field", label).text("value", value)),
                    None => Verdict::new(false, Message::new("verdict.field_unset").term("field", label)),
                }
            }
            Predicate::AmountAtLeast(minimum) => {
                let message = |key: &str| Message::new(key).text("minimum", minimum);
                match opportunity.amount {
                    None => Verdict::new(false, message("verdict.amount_unset")),
                    Some(amount) if amount.currency() != minimum.currency() => Verdict::new(
                        false,
                        message("verdict.amount_other_currency").text("amount", amount).text("currency", minimum.currency()),
                    ),
                    Some(amount) if amount.amount() < minimum.amount() => {
                        Verdict::new(false, message("verdict.amount_below").text("amount", amount))
                    }
                    Some(amount) => Verdict::new(true, message("verdict.amount_at_least").text("amount", amount)),
                }
            }
            Predicate::CloseDateWithinDays(days) => {
                close_date_within(opportunity, ctx.today, *days, Message::new("verdict.window.days").text("days", days))
            }
            Predicate::DecisionWithin { days } => {
                let (window, source) = match (days, ctx.team_average_cycle_days) {
                    (Some(days), _) => (*days, Message::new("verdict.window.days").text("days", days)),
                    (None, Some(team)) => (team, Message::new("verdict.window.team").text("days", team)),
                    (None, None) => {
                        (DEFAULT_DECISION_WINDOW_DAYS, Message::new("verdict.window.default").text("days", DEFAULT_DECISION_WINDOW_DAYS))
                    }
                };
                let verdict = close_date_within(opportunity, ctx.today, window, source);
                Verdict::new(verdict.holds, Message::new("verdict.decision").message("reason", verdict.reason))
            }
            Predicate::ForecastCategoryIn(categories) => {
                let current = opportunity.forecast_category;
                if categories.contains(&current) {
                    Verdict::new(true, Message::new("verdict.forecast_is").text("current", current))
                } else {
                    let wanted: Vec<&str> = categories.iter().map(|category| category.as_str()).collect();
                    Verdict::new(false, Message::new("verdict.forecast_not_in").text("current", current).text("wanted", wanted.join(", ")))
                }
            }
            Predicate::Bant { item, statuses } => {
                let status = workspace.bant.entry(*item).status;
                let message = |key: &str| {
                    Message::new(key).term("item", term("bant", item.as_str())).term("status", term("bant_status", status.as_str()))
                };
                if statuses.contains(&status) {
                    Verdict::new(true, message("verdict.bant_is"))
                } else {
                    let needs = statuses.iter().map(|status| Arg::Term(term("bant_status", status.as_str()))).collect();
                    Verdict::new(false, message("verdict.bant_needs").arg("needs", Arg::List { items: needs, separator: "list.or".into() }))
                }
            }
            Predicate::StakeholderLinked { min_influence, level } => stakeholder_linked(workspace, *min_influence, *level),
            Predicate::ClosePlanAgreed => {
                let plan = &workspace.close_plan;
                match (plan.items.len(), plan.first_shared_on, plan.agreed_on) {
                    (0, ..) => Verdict::new(false, Message::new("verdict.plan_empty")),
                    (_, None, _) => Verdict::new(false, Message::new("verdict.plan_not_shared")),
                    (_, Some(shared), None) => Verdict::new(false, Message::new("verdict.plan_not_agreed").text("shared", shared)),
                    (n_items, Some(_), Some(agreed)) => {
                        Verdict::new(true, Message::new("verdict.plan_agreed").text("items", n_items).text("agreed", agreed))
                    }
                }
            }
            Predicate::CompetitorAssessmentStarted => {
                let assessed: Vec<&str> = workspace
                    .competitors
                    .iter()
                    .filter(|assessment| !assessment.criteria.is_empty())
                    .map(|assessment| assessment.competitor.as_str())
                    .collect();
                if assessed.is_empty() {
                    Verdict::new(false, Message::new("verdict.competitors_none").text("named", workspace.competitors.len()))
                } else {
                    Verdict::new(true, Message::new("verdict.competitors_compared").text("names", assessed.join(", ")))
                }
            }
            Predicate::ApprovalDraftStarted => match workspace.approval.draft_started_on {
                Some(started) => Verdict::new(true, Message::new("verdict.draft_started").text("started", started)),
                None => Verdict::new(false, Message::new("verdict.draft_not_started")),
            },
            Predicate::FourBoxFilled(part) => {
                let filled = workspace.four_box.is_filled(*part);
                let key = if filled { "verdict.four_box_written" } else { "verdict.four_box_empty" };
                Verdict::new(filled, Message::new(key).term("part", term("four_box", part.as_str())))
            }
            Predicate::ApprovalKnown(fact) => approval_known(workspace, *fact),
        }
    }
    /// The canonical text form, parsed back by [`Predicate::parse`].
    pub fn encode(&self) -> String {
        let list = |parts: &[Predicate]| parts.iter().map(Predicate::encode).collect::<Vec<_>>().join(", ");
        match self {
            Predicate::All(parts) => format!("all({})", list(parts)),
            Predicate::Any(parts) => format!("any({})", list(parts)),
            Predicate::Not(part) => format!("not({})", part.encode()),
            Predicate::FieldSet(field) => format!("set({field})"),
            Predicate::AmountAtLeast(money) => format!("amount_at_least({money})"),
            Predicate::CloseDateWithinDays(days) => format!("close_date_within({days})"),
            Predicate::ForecastCategoryIn(categories) => {
                format!("forecast_category_in({})", categories.iter().map(|category| category.as_str()).collect::<Vec<_>>().join("|"))
            }
            Predicate::Bant { item, statuses } => {
                format!("bant({item}, {})", statuses.iter().map(|status| status.as_str()).collect::<Vec<_>>().join("|"))
            }
            Predicate::StakeholderLinked { min_influence, level: None } => format!("stakeholder({min_influence})"),
            Predicate::StakeholderLinked { min_influence, level: Some(level) } => format!("stakeholder({min_influence}, {level})"),
            Predicate::ClosePlanAgreed => "close_plan_agreed()".to_owned(),
            Predicate::CompetitorAssessmentStarted => "competitor_assessment_started()".to_owned(),
            Predicate::ApprovalDraftStarted => "approval_draft_started()".to_owned(),
            Predicate::DecisionWithin { days: None } => "decision_within(team)".to_owned(),
            Predicate::DecisionWithin { days: Some(days) } => format!("decision_within({days})"),
            Predicate::FourBoxFilled(part) => format!("four_box({part})"),
            Predicate::ApprovalKnown(fact) => format!("approval_known({fact})"),
        }
    }

    /// Parses the text form of [`Predicate::encode`]; whitespace around names and arguments is
    /// ignored. Refuses nesting deeper than [`MAX_PREDICATE_DEPTH`].
    pub fn parse(raw: &str) -> Result<Predicate, Problem> {
        parse_predicate(raw, 0)
    }

    /// What is wrong with the predicate's shape: empty `all`/`any`, an influence outside 1–5, a
    /// window of zero days or more than ten years, an empty list of statuses or categories, a
    /// negative amount, nesting deeper than [`MAX_PREDICATE_DEPTH`].
    pub fn problems(&self) -> Vec<Message> {
        let mut problems = Vec::new();
        self.collect_problems(1, &mut problems);
        problems
    }

    fn collect_problems(&self, depth: usize, problems: &mut Vec<Message>) {
        if depth > MAX_PREDICATE_DEPTH {
            problems.push(too_deep());
            return;
        }
        let window = |days: u32, problems: &mut Vec<Message>| {
            if !(1..=3650).contains(&days) {
                problems.push(Message::new("rule.window_out_of_range").text("days", days));
            }
        };
        match self {
            Predicate::All(parts) | Predicate::Any(parts) => {
                if parts.is_empty() {
                    problems.push(Message::new("rule.empty_all_any"));
                }
                for part in parts {
                    part.collect_problems(depth + 1, problems);
                }
            }
            Predicate::Not(part) => part.collect_problems(depth + 1, problems),
            Predicate::AmountAtLeast(money) if money.is_negative() => {
                problems.push(Message::new("rule.negative_threshold").text("amount", money))
            }
            Predicate::CloseDateWithinDays(days) | Predicate::DecisionWithin { days: Some(days) } => window(*days, problems),
            Predicate::ForecastCategoryIn(categories) if categories.is_empty() => problems.push(Message::new("rule.no_forecast_category")),
            Predicate::Bant { statuses, .. } if statuses.is_empty() => problems.push(Message::new("rule.no_bant_status")),
            Predicate::StakeholderLinked { min_influence, .. } if !crate::workspace::SCALE.contains(min_influence) => {
                problems.push(Message::new("rule.influence_out_of_range").text("influence", min_influence))
            }
            _ => {}
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

fn stakeholder_linked(workspace: &Workspace, min_influence: u8, level: Option<Level>) -> Verdict {
    let candidates: Vec<_> =
        workspace.stakeholders.iter().filter(|stakeholder| level.is_none_or(|level| stakeholder.level == level)).collect();
    // A sentence names the level when the criterion has one: the second key of each pair.
    let keyed = |(plain, with_level): (&str, &str)| match level {
        Some(level) => Message::new(with_level).term("level", term("level", level.as_str())),
        None => Message::new(plain),
    };
    if let Some(found) = candidates.iter().find(|stakeholder| stakeholder.influence >= min_influence) {
        let linked = keyed(("verdict.stakeholder_linked", "verdict.stakeholder_linked_level"));
        return Verdict::new(true, linked.text("name", &found.name).text("influence", found.influence));
    }
    // The first of the most influential, for the explanation.
    let highest = candidates.iter().fold(None, |best: Option<&&crate::workspace::Stakeholder>, stakeholder| match best {
        Some(best) if best.influence >= stakeholder.influence => Some(best),
        _ => Some(stakeholder),
    });
    let detail = match highest {
        Some(highest) => Message::new("verdict.stakeholder_highest").text("influence", highest.influence).text("name", &highest.name),
        None => keyed(("verdict.stakeholder_map_empty", "verdict.stakeholder_none_level")),
    };
    let missing = keyed(("verdict.stakeholder_missing", "verdict.stakeholder_missing_level"));
    Verdict::new(false, missing.text("minimum", min_influence).message("detail", detail))
}

fn close_date_within(opportunity: &Opportunity, today: Date, window: u32, source: Message) -> Verdict {
    let Some(close) = opportunity.close_date else {
        return Verdict::new(false, Message::new("verdict.close_date_unset"));
    };
    let days_away = days_between(today, close);
    let message = |key: &str, days: i64| Message::new(key).text("close", close).text("days", days);
    if days_away < 0 {
        Verdict::new(false, message("verdict.close_date_past", -days_away))
    } else if days_away > i64::from(window) {
        Verdict::new(false, message("verdict.close_date_beyond", days_away).message("window", source))
    } else {
        Verdict::new(true, message("verdict.close_date_within", days_away).message("window", source))
    }
}

fn approval_known(workspace: &Workspace, fact: ApprovalFact) -> Verdict {
    let approval = &workspace.approval;
    let known = |key: &str| Verdict::new(true, Message::new(key));
    let unknown = |key: &str| Verdict::new(false, Message::new(key));
    match fact {
        ApprovalFact::RealApprover => match &approval.real_approver {
            Some(person) => Verdict::new(true, Message::new("verdict.real_approver").text("name", &person.name)),
            None => unknown("verdict.real_approver_unknown"),
        },
        ApprovalFact::PoSigner => match &approval.po_signer {
            Some(person) => Verdict::new(true, Message::new("verdict.po_signer").text("name", &person.name)),
            None => unknown("verdict.po_signer_unknown"),
        },
        ApprovalFact::Form => match approval.form {
            Some(form) => Verdict::new(true, Message::new("verdict.approval_form").text("form", form)),
            None => unknown("verdict.approval_form_unknown"),
        },
        ApprovalFact::Meeting => match (approval.meeting_needed, &approval.meeting) {
            (Some(false), _) => known("verdict.meeting_not_needed"),
            (_, Some(meeting)) => Verdict::new(
                true,
                Message::new("verdict.meeting")
                    .term("body", term("meeting_body", meeting.body.as_str()))
                    .text("date", meeting.date)
                    .text("deadline", meeting.submission_deadline),
            ),
            (Some(true), None) => unknown("verdict.meeting_unscheduled"),
            (None, None) => unknown("verdict.meeting_unknown"),
        },
        ApprovalFact::DrafterExperience => match approval.drafter_passed_amount_before {
            Some(true) => known("verdict.drafter_passed"),
            Some(false) => known("verdict.drafter_not_passed"),
            None => unknown("verdict.drafter_unknown"),
        },
    }
}

/// Why a predicate nests too deep.
fn too_deep() -> Message {
    Message::new("rule.predicate_too_deep").text("max", MAX_PREDICATE_DEPTH)
}

// The text form's parser: `name(arg, arg)`, arguments split on top-level commas.

fn parse_predicate(raw: &str, depth: usize) -> Result<Predicate, Problem> {
    let invalid = |expected: &'static str| Problem::Invalid { value: raw.to_owned(), expected };
    if depth >= MAX_PREDICATE_DEPTH {
        return Err(Problem::Fact(too_deep()));
    }
    let trimmed = raw.trim();
    let (name, rest) = trimmed.split_once('(').ok_or_else(|| invalid("a condition such as set(amount)"))?;
    let inner = rest.strip_suffix(')').ok_or_else(|| invalid("a condition ending in )"))?;
    let args = split_arguments(inner).ok_or_else(|| invalid("balanced parentheses"))?;
    let one = |args: &[&str]| -> Result<String, Problem> {
        match args {
            [only] if !only.is_empty() => Ok((*only).to_owned()),
            _ => Err(invalid("exactly one argument")),
        }
    };
    let none = |args: &[&str], predicate: Predicate| if args.is_empty() { Ok(predicate) } else { Err(invalid("no arguments")) };
    let number = |text: &str| text.parse::<u32>().map_err(|_| Problem::Invalid { value: text.to_owned(), expected: "a whole number" });
    let nested = |args: &[&str]| args.iter().map(|arg| parse_predicate(arg, depth + 1)).collect::<Result<Vec<_>, _>>();
    match name.trim() {
        "all" => Ok(Predicate::All(nested(&args)?)),
        "any" => Ok(Predicate::Any(nested(&args)?)),
        "not" => Ok(Predicate::Not(Box::new(parse_predicate(&one(&args)?, depth + 1)?))),
        "set" => {
            let field = one(&args)?;
            OppField::parse(&field).map(Predicate::FieldSet).ok_or(Problem::Invalid { value: field, expected: "an opportunity field" })
        }
        "amount_at_least" => Ok(Predicate::AmountAtLeast(one(&args)?.parse()?)),
        "close_date_within" => Ok(Predicate::CloseDateWithinDays(number(&one(&args)?)?)),
        "forecast_category_in" => {
            let categories = one(&args)?.split('|').map(ForecastCategory::parse).collect::<Result<Vec<_>, _>>()?;
            Ok(Predicate::ForecastCategoryIn(categories))
        }
        "bant" => match args.as_slice() {
            [item, statuses] => Ok(Predicate::Bant {
                item: BantItem::parse(item)?,
                statuses: statuses.split('|').map(BantStatus::parse).collect::<Result<Vec<_>, _>>()?,
            }),
            _ => Err(invalid("bant(item, status|status)")),
        },
        "stakeholder" => {
            let influence =
                |text: &str| u8::try_from(number(text)?).map_err(|_| Problem::OutOfRange { value: text.to_owned(), range: "1 to 5" });
            match args.as_slice() {
                [min] => Ok(Predicate::StakeholderLinked { min_influence: influence(min)?, level: None }),
                [min, level] => Ok(Predicate::StakeholderLinked { min_influence: influence(min)?, level: Some(Level::parse(level)?) }),
                _ => Err(invalid("stakeholder(influence) or stakeholder(influence, level)")),
            }
        }
        "close_plan_agreed" => none(&args, Predicate::ClosePlanAgreed),
        "competitor_assessment_started" => none(&args, Predicate::CompetitorAssessmentStarted),
        "approval_draft_started" => none(&args, Predicate::ApprovalDraftStarted),
        "decision_within" => match one(&args)?.as_str() {
            "team" => Ok(Predicate::DecisionWithin { days: None }),
            days => Ok(Predicate::DecisionWithin { days: Some(number(days)?) }),
        },
        "four_box" => Ok(Predicate::FourBoxFilled(FourBoxPart::parse(&one(&args)?)?)),
        "approval_known" => Ok(Predicate::ApprovalKnown(ApprovalFact::parse(&one(&args)?)?)),
        _ => Err(invalid("a known condition name")),
    }
}

/// Splits on commas outside parentheses and trims; `None` when parentheses do not balance.
fn split_arguments(inner: &str) -> Option<Vec<&str>> {
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                args.push(inner[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    args.push(inner[start..].trim());
    Some(args)
}

// ---------------------------------------------------------------------------------------------
// Evaluating criteria

/// A criterion that does not hold, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmetCriterion {
    pub criterion_id: i64,
    pub stage_id: StageId,
    pub label_en: String,
    pub label_ko: String,
    pub reason: Message,
}

/// One criterion's state, for showing a gate as a checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionStatus {
    pub criterion_id: i64,
    pub met: bool,
    pub reason: Message,
    /// The latest tick, for a checklist item that has one.
    pub check: Option<CriterionCheck>,
}

/// Evaluates one criterion: a checklist item holds when ticked, a required field when set, a
/// derived criterion when its predicate holds.
pub fn evaluate_criterion(criterion: &ExitCriterion, facts: &DealFacts<'_>, ctx: &GateContext) -> CriterionStatus {
    let status =
        |met: bool, reason: Message, check: Option<CriterionCheck>| CriterionStatus { criterion_id: criterion.id, met, reason, check };
    match &criterion.kind {
        CriterionKind::Checklist => {
            let latest = facts.checks.iter().filter(|check| check.criterion_id == criterion.id).max_by_key(|check| check.checked_at);
            match latest {
                Some(check) => status(
                    true,
                    Message::new("verdict.checked")
                        .text("user", check.checked_by)
                        .text("at", check.checked_at)
                        .text("evidence", &check.evidence),
                    Some(check.clone()),
                ),
                None => status(false, Message::new("verdict.not_checked"), None),
            }
        }
        CriterionKind::RequiredField(field) => {
            let verdict = Predicate::FieldSet(*field).evaluate(facts, ctx);
            status(verdict.holds, verdict.reason, None)
        }
        CriterionKind::Derived(predicate) => {
            let verdict = predicate.evaluate(facts, ctx);
            status(verdict.holds, verdict.reason, None)
        }
    }
}

/// Every criterion of `stage_id`'s gate with its state, in the order of `criteria`.
pub fn gate_status(criteria: &[ExitCriterion], stage_id: StageId, facts: &DealFacts<'_>, ctx: &GateContext) -> Vec<CriterionStatus> {
    criteria.iter().filter(|criterion| criterion.stage_id == stage_id).map(|criterion| evaluate_criterion(criterion, facts, ctx)).collect()
}

/// The unmet criteria of one stage's gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageMisses {
    pub stage_id: StageId,
    pub position: i32,
    pub stage_name_en: String,
    pub stage_name_ko: String,
    pub unmet: Vec<UnmetCriterion>,
}

/// What kind of move a stage change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveKind {
    Unchanged,
    Backward,
    Forward,
    ToWon,
    ToLost,
    /// From a won or lost stage back into an open one.
    Reopen,
    /// The current or target stage is not a stage of the pipeline.
    NotInPipeline,
}

/// The answer of [`check_move`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveCheck {
    pub from: StageId,
    pub to: StageId,
    pub kind: MoveKind,
    /// The stages whose gates were checked, in pipeline order.
    pub gates_checked: Vec<StageId>,
    /// Every unmet criterion, grouped by stage in pipeline order; empty when the move may happen.
    pub missing: Vec<StageMisses>,
}

impl MoveCheck {
    pub fn is_allowed(&self) -> bool {
        self.kind != MoveKind::NotInPipeline && self.missing.is_empty()
    }

    /// Every unmet criterion, stage by stage.
    pub fn unmet(&self) -> impl Iterator<Item = &UnmetCriterion> + '_ {
        self.missing.iter().flat_map(|stage| &stage.unmet)
    }

    /// Why the move cannot happen when a stage is not of the pipeline.
    pub fn not_in_pipeline(&self) -> Message {
        Message::new("verdict.not_in_pipeline").text("from", self.from).text("to", self.to)
    }

    /// The refusal as validation errors on `stage_id`, one per unmet criterion, for `ops` to
    /// return. Empty when the move is allowed.
    pub fn to_errors(&self, opportunity: OpportunityId) -> ValidationErrors {
        let record = RecordRef::new(OpportunityId::LABEL, opportunity.0);
        let mut errors = ValidationErrors::default();
        if self.kind == MoveKind::NotInPipeline {
            errors.push(&record, "stage_id", Problem::Fact(self.not_in_pipeline()));
        }
        for stage in &self.missing {
            for unmet in &stage.unmet {
                errors.0.push(FieldError {
                    record: record.clone(),
                    field: "stage_id",
                    problem: Problem::Fact(
                        Message::new("verdict.unmet")
                            .text("stage", &stage.stage_name_en)
                            .text("criterion", &unmet.label_en)
                            .message("reason", unmet.reason.clone()),
                    ),
                });
            }
        }
        errors
    }
}

/// Whether the deal in `facts` may move to stage `to`; see the module documentation for the
/// rules. Criteria of other stages and other pipelines in `criteria` are ignored.
pub fn check_move(pipeline: &Pipeline, criteria: &[ExitCriterion], facts: &DealFacts<'_>, ctx: &GateContext, to: StageId) -> MoveCheck {
    let from = facts.opportunity.stage_id;
    let mut check = MoveCheck { from, to, kind: MoveKind::NotInPipeline, gates_checked: Vec::new(), missing: Vec::new() };
    let (Some(current), Some(target)) = (pipeline.stage(from), pipeline.stage(to)) else {
        return check;
    };
    // The open stages whose gates a deal leaving `leaving` for `below` (`None`: a won stage)
    // passes. An archived stage's gate is not checked on the way past it; the gate of the stage
    // left is, archived or not.
    let gates_from = |leaving: &Stage, below: Option<i32>| -> Vec<&Stage> {
        pipeline
            .stages
            .iter()
            .filter(|stage| {
                stage.kind == StageKind::Open && stage.position >= leaving.position && below.is_none_or(|below| stage.position < below)
            })
            .filter(|stage| !stage.is_archived() || stage.id == leaving.id)
            .collect()
    };
    // A lost deal resumes where it was lost; one created lost, at the entry stage.
    let resumed = || {
        facts.lost_from.and_then(|id| pipeline.stage(id)).filter(|stage| stage.kind == StageKind::Open).unwrap_or(pipeline.entry_stage())
    };
    let (kind, gates) = match (current.kind, target.kind) {
        _ if from == to => (MoveKind::Unchanged, Vec::new()),
        (_, StageKind::Lost) => (MoveKind::ToLost, Vec::new()),
        (StageKind::Open, StageKind::Open) if target.position < current.position => (MoveKind::Backward, Vec::new()),
        (StageKind::Open, StageKind::Open) => (MoveKind::Forward, gates_from(current, Some(target.position))),
        (StageKind::Open, StageKind::Won) => (MoveKind::ToWon, gates_from(current, None)),
        (StageKind::Won, StageKind::Open) => (MoveKind::Reopen, Vec::new()),
        (StageKind::Lost, StageKind::Open) => (MoveKind::Reopen, gates_from(resumed(), Some(target.position))),
        (StageKind::Lost, StageKind::Won) => (MoveKind::ToWon, gates_from(resumed(), None)),
        (StageKind::Won, StageKind::Won) => (MoveKind::ToWon, Vec::new()),
    };
    check.kind = kind;
    for stage in gates {
        check.gates_checked.push(stage.id);
        let unmet: Vec<UnmetCriterion> = criteria
            .iter()
            .filter(|criterion| criterion.stage_id == stage.id)
            .filter_map(|criterion| {
                let status = evaluate_criterion(criterion, facts, ctx);
                (!status.met).then(|| UnmetCriterion {
                    criterion_id: criterion.id,
                    stage_id: stage.id,
                    label_en: criterion.label_en.clone(),
                    label_ko: criterion.label_ko.clone(),
                    reason: status.reason,
                })
            })
            .collect();
        if !unmet.is_empty() {
            check.missing.push(StageMisses {
                stage_id: stage.id,
                position: stage.position,
                stage_name_en: stage.name_en.clone(),
                stage_name_ko: stage.name_ko.clone(),
                unmet,
            });
        }
    }
    check
}

// ---------------------------------------------------------------------------------------------
// Overrides

/// Whether `access` may push a deal owned by `owner` past unmet gates, with `reason`: they may
/// ([`may_override`]), and the reason is non-empty text of at most 1000 characters.
pub fn authorize_override(access: &Access, owner: UserId, reason: &str) -> Result<(), Problem> {
    may_override(access, owner).map_err(Problem::Fact)?;
    text::required(reason, 1000).map(|_| ())
}

/// Whether `access` may push a deal owned by `owner` past unmet gates, or why not.
///
/// Allowed: admin, ops, the system, and a manager with `owner` in their reporting tree who is not
/// the owner (a manager's own deal needs their manager). Refused: reps (the owner included),
/// viewers, managers of other teams.
pub fn may_override(access: &Access, owner: UserId) -> Result<(), Message> {
    if let Access::User(actor) = access {
        match actor.role {
            Role::Admin | Role::Ops => {}
            Role::Manager if actor.user_id == owner => return Err(Message::new("rule.manager_own_deal_override")),
            Role::Manager if actor.tree.contains(&owner) => {}
            Role::Manager => return Err(Message::new("rule.override_outside_line").text("user", owner)),
            Role::Rep => return Err(Message::new("rule.rep_cannot_override")),
            Role::Viewer => return Err(Message::new("rule.viewer_cannot_override")),
        }
    }
    Ok(())
}

/// A recorded override: who pushed which move past which unmet criteria, when, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateOverride {
    /// `None` for the system.
    pub by: Option<UserId>,
    pub at: Timestamp,
    pub reason: String,
    pub from_stage_id: StageId,
    pub to_stage_id: StageId,
    pub unmet: Vec<UnmetCriterion>,
}

impl GateOverride {
    /// Authorises and builds the override of a refused `check`. Refuses a move that needs no
    /// override and one to a stage outside the pipeline.
    pub fn new(access: &Access, owner: UserId, check: &MoveCheck, reason: &str, at: Timestamp) -> Result<GateOverride, Problem> {
        if check.kind == MoveKind::NotInPipeline {
            return Err(Problem::Fact(check.not_in_pipeline()));
        }
        if check.is_allowed() {
            return Err(Problem::Fact(Message::new("rule.nothing_to_override")));
        }
        authorize_override(access, owner, reason)?;
        Ok(GateOverride {
            by: access.user_id(),
            at,
            reason: reason.trim().to_owned(),
            from_stage_id: check.from,
            to_stage_id: check.to,
            unmet: check.unmet().cloned().collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Stage 1 of The Model

/// A reason to drop a deal that never became a real opportunity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropReason {
    pub code: &'static str,
    pub en: &'static str,
    pub ko: &'static str,
}

pub const DROP_CANNOT_SERVE: DropReason =
    DropReason {
        code: "cannot_serve", en: "we can't serve this", ko: "방문해보니 자사의 제품과 서비스로 대응할 수 없음"
    };

pub const DROP_NO_BUDGET_THIS_QUARTER: DropReason =
    DropReason {
        code: "no_budget_this_quarter", en: "no budget this quarter", ko: "가능성은 있지만 예산 관계로 이번 분기는 어려움"
    };

pub const DROP_PERSONAL_INTEREST_ONLY: DropReason = DropReason {
    code: "personal_interest_only",
    en: "personal interest only, the company isn't evaluating",
    ko: "담당자는 개인적으로 검토를 원하지만 회사의 검토 단계에는 없음",
};

/// Seed 003's three common reasons a stage-1 case is not a deal.
pub const STAGE_1_DROP_REASONS: [DropReason; 3] = [DROP_CANNOT_SERVE, DROP_NO_BUDGET_THIS_QUARTER, DROP_PERSONAL_INTEREST_ONLY];

/// Whether deals in `stage` are left out of pipeline metrics and win rate (stage 1 of The Model).
pub fn excluded_from_metrics(stage: &Stage) -> bool {
    !stage.counts_in_metrics
}

/// Whether dropping a deal from `stage` counts as a loss in win rate: not from a stage left
/// out of metrics, since such a case was never a real opportunity.
pub fn counts_as_loss(stage: &Stage) -> bool {
    stage.counts_in_metrics
}

/// Whether moving from `from` to `to` makes the deal a sales-qualified lead: it leaves a stage
/// left out of metrics for an open or won stage that counts. Callers stamp the time.
pub fn qualifies_as_sql(pipeline: &Pipeline, from: StageId, to: StageId) -> bool {
    match (pipeline.stage(from), pipeline.stage(to)) {
        (Some(from), Some(to)) => {
            from.kind == StageKind::Open && !from.counts_in_metrics && to.kind != StageKind::Lost && to.counts_in_metrics
        }
        _ => false,
    }
}

/// Whether a deal in stage `current` has reached the stage at `position` (0-based): it is in
/// an open or won stage at that position or later. Stage n of The Model is at position n − 1, so
/// "past stage 2" is `has_reached(pipeline, current, 2)`.
pub fn has_reached(pipeline: &Pipeline, current: StageId, position: i32) -> bool {
    pipeline.stage(current).is_some_and(|stage| stage.kind != StageKind::Lost && stage.position >= position)
}

// ---------------------------------------------------------------------------------------------
// From loss to checklist

/// A new checklist item for the gate of `stage_id`, the stage a deal was lost from, taught by
/// the loss review of `lost_deal`. The stage must be an open stage of `pipeline` (pass the stage
/// the deal was in before it was lost, not the lost stage).
pub fn criterion_from_loss_review(
    pipeline: &Pipeline,
    lost_deal: OpportunityId,
    stage_id: StageId,
    label_en: &str,
    label_ko: &str,
) -> Result<NewExitCriterion, ValidationErrors> {
    NewExitCriterion {
        stage_id,
        label_en: label_en.to_owned(),
        label_ko: label_ko.to_owned(),
        kind: CriterionKind::Checklist,
        origin: CriterionOrigin::LossReview { opportunity_id: Some(lost_deal) },
    }
    .validated(pipeline)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::access::tests::access;
    use crate::id::{AccountId, PipelineId};
    use crate::message::catalog::{en, en_errors, en_problem, ko};
    use crate::opportunity::Status;
    use crate::templates;
    use crate::user::Locale;
    use crate::workspace::tests::{date, stakeholder};
    use crate::workspace::{
        ApprovalForm, ApprovalMeeting, ApprovalPerson, BantEntry, ClosePlanItem, CompetitiveCriterion, CompetitorAssessment, MeetingBody,
        PlanStep, Side,
    };

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// A fresh deal owned by user 3, with no amount and no close date.
    fn deal(pipeline: &Pipeline, stage_id: StageId) -> Opportunity {
        Opportunity {
            id: OpportunityId(42),
            name: "Hanbit Logistics CRM".into(),
            account_id: Some(AccountId(7)),
            owner_id: UserId(3),
            pipeline_id: pipeline.id,
            stage_id,
            amount: None,
            close_date: None,
            forecast_category: ForecastCategory::Omitted,
            next_step: None,
            status: Status::Open,
            created_at: at("2026-02-01T00:00:00Z"),
            closed_at: None,
            close_reason: None,
        }
    }

    /// A deal, its workspace and checks, and the gates of its pipeline. Today is 2026-03-02 and
    /// the team's average sales cycle is 60 days.
    struct Scenario {
        pipeline: Pipeline,
        criteria: Vec<ExitCriterion>,
        deal: Opportunity,
        workspace: Workspace,
        checks: Vec<CriterionCheck>,
        ctx: GateContext,
        lost_from: Option<StageId>,
    }

    impl Scenario {
        /// B2B stages 11 (1 Pre-opportunity) … 15 (5 Approval), 16 won, 17 lost. Criteria ids:
        /// stage 1: 101–102; stage 2: 103–106; stage 3: 107–108; stage 4: 109–110; stage 5: 111–116.
        fn b2b() -> Scenario {
            let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
            let criteria = templates::materialise_criteria(templates::b2b_exit_criteria(&pipeline), 101);
            Scenario::new(pipeline, criteria)
        }

        /// Simple stages 1 (Prospecting) … 4 (Closing), 5 won, 6 lost. Criteria ids:
        /// Prospecting 201–202; Qualification 203–206; Connecting 207–209; Closing 210.
        fn simple() -> Scenario {
            let pipeline = templates::simple().materialise(PipelineId(1), 1);
            let criteria = templates::materialise_criteria(templates::simple_exit_criteria(&pipeline), 201);
            Scenario::new(pipeline, criteria)
        }

        fn new(pipeline: Pipeline, criteria: Vec<ExitCriterion>) -> Scenario {
            let deal = deal(&pipeline, pipeline.entry_stage_id);
            let ctx = GateContext { team_average_cycle_days: Some(60), today: date("2026-03-02") };
            Scenario { pipeline, criteria, deal, workspace: Workspace::default(), checks: Vec::new(), ctx, lost_from: None }
        }

        fn facts(&self) -> DealFacts<'_> {
            DealFacts { opportunity: &self.deal, workspace: &self.workspace, checks: &self.checks, lost_from: self.lost_from }
        }

        fn check_move(&self, to: i64) -> MoveCheck {
            check_move(&self.pipeline, &self.criteria, &self.facts(), &self.ctx, StageId(to))
        }

        /// The move's outcome as text: `allowed (Forward)` or one line per unmet criterion.
        fn try_move(&self, to: i64) -> String {
            let check = self.check_move(to);
            if check.is_allowed() { format!("allowed ({:?})", check.kind) } else { describe(&check, Locale::En) }
        }

        fn tick(&mut self, criterion_id: i64, evidence: &str) {
            let criterion = self.criteria.iter().find(|criterion| criterion.id == criterion_id).unwrap();
            self.checks.push(CriterionCheck::new(criterion, UserId(3), at("2026-03-01T10:00:00Z"), evidence).unwrap());
        }
    }

    /// One line per unmet criterion, as the deal page words a refusal:
    /// `2 Problem recognition: Detailed requirements confirmed: not checked yet`.
    fn describe(check: &MoveCheck, locale: Locale) -> String {
        let mut lines = Vec::new();
        for stage in &check.missing {
            for unmet in &stage.unmet {
                lines.push(match locale {
                    Locale::En => format!("{}: {}: {}", stage.stage_name_en, unmet.label_en, en(&unmet.reason)),
                    Locale::Ko => format!("{}: {}: {}", stage.stage_name_ko, unmet.label_ko, ko(&unmet.reason)),
                });
            }
        }
        lines.join("\n")
    }

    /// The errors as the API words them in English.
    fn worded(errors: &ValidationErrors) -> String {
        let problem = |problem: &Problem| match problem {
            Problem::Fact(message) => en(message),
            other => other.to_string(),
        };
        let lines: Vec<String> =
            errors.0.iter().map(|error| format!("{}: {}: {}", error.record, error.field, problem(&error.problem))).collect();
        lines.join("; ")
    }

    /// Trims each line of an expected block and drops blank ones.
    fn lines(text: &str) -> String {
        text.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn b2b_stage_1_gate() {
        let mut scenario = Scenario::b2b();
        assert_eq!(
            scenario.try_move(12),
            lines(
                "1 Pre-opportunity: A business issue our product or service can solve exists: the four-box business issue is empty; the four-box solution is empty
                 1 Pre-opportunity: A decision is needed within the team's average sales cycle: decision: close date is not set"
            )
        );
        assert_eq!(
            describe(&scenario.check_move(12), Locale::Ko),
            lines(
                "1 리드 이상, 상담 미만: 자사 제품이나 서비스로 해결 가능한 비즈니스 과제가 있다: 4박스의 비즈니스 이슈: 비어 있음; 4박스의 솔루션: 비어 있음
                 1 리드 이상, 상담 미만: 일정 기간(자사의 평균 상담 일수) 내에 의사 결정이 필요하다: 의사 결정: 예상 계약일이 입력되지 않음"
            )
        );
        // Business issue written, solution not; close date 2026-06-30 is 29 (rest of March) +
        // 30 + 31 + 30 = 120 days after 2026-03-02, beyond the team's 60.
        scenario.workspace.four_box.business_issue = "double revenue in three years; losing share to the rival".into();
        scenario.deal.close_date = Some(date("2026-06-30"));
        assert_eq!(
            scenario.try_move(12),
            lines(
                "1 Pre-opportunity: A business issue our product or service can solve exists: the four-box solution is empty
                 1 Pre-opportunity: A decision is needed within the team's average sales cycle: decision: close date 2026-06-30 is 120 days away, beyond the team's average sales cycle of 60 days"
            )
        );
        // Without a team average, the window is 90 days: still too far.
        scenario.ctx.team_average_cycle_days = None;
        assert_eq!(
            en(&scenario.check_move(12).unmet().nth(1).unwrap().reason),
            "decision: close date 2026-06-30 is 120 days away, beyond 90 days (the default: the team has no average sales cycle yet)"
        );
        // A close date in the past does not show a decision is coming.
        scenario.deal.close_date = Some(date("2026-02-20"));
        assert_eq!(
            en(&scenario.check_move(12).unmet().nth(1).unwrap().reason),
            "decision: close date 2026-02-20 is in the past (10 days ago)"
        );
        // 2026-04-15 is 29 + 15 = 44 days away, within 60.
        scenario.ctx.team_average_cycle_days = Some(60);
        scenario.deal.close_date = Some(date("2026-04-15"));
        scenario.workspace.four_box.solution = "alerts when a target company visits the website".into();
        assert_eq!(scenario.try_move(12), "allowed (Forward)");
        assert!(qualifies_as_sql(&scenario.pipeline, StageId(11), StageId(12)), "passing stage 1 makes the deal SQL");
    }

    fn fill_stage_1(scenario: &mut Scenario) {
        scenario.workspace.four_box.business_issue = "double revenue in three years".into();
        scenario.workspace.four_box.solution = "alerts when a target company visits the website".into();
        scenario.deal.close_date = Some(date("2026-04-15"));
    }

    #[test]
    fn b2b_stage_2_gate_and_a_jump_across_two_gates() {
        let mut scenario = Scenario::b2b();
        scenario.deal.close_date = Some(date("2026-04-15"));
        // From stage 1 to stage 3: stage 1's gate and stage 2's gate, in that order.
        assert_eq!(
            scenario.try_move(13),
            lines(
                "1 Pre-opportunity: A business issue our product or service can solve exists: the four-box business issue is empty; the four-box solution is empty
                 2 Problem recognition: BANT captured: budget, authority, need and timeframe: budget is unknown (needs partly confirmed or confirmed); authority is unknown (needs partly confirmed or confirmed); need is unknown (needs partly confirmed or confirmed); timeframe is unknown (needs partly confirmed or confirmed)
                 2 Problem recognition: Detailed requirements confirmed: not checked yet
                 2 Problem recognition: Verification by demo or prototype started: not checked yet
                 2 Problem recognition: Comparison with competitors' products started: no competitor has been compared on any criterion (0 named)"
            )
        );
        let check = scenario.check_move(13);
        assert_eq!(check.gates_checked, [StageId(11), StageId(12)]);
        assert_eq!(check.missing.iter().map(|stage| stage.stage_id).collect::<Vec<_>>(), [StageId(11), StageId(12)]);
        assert_eq!(check.unmet().map(|unmet| unmet.criterion_id).collect::<Vec<_>>(), [101, 103, 104, 105, 106]);

        fill_stage_1(&mut scenario);
        scenario.deal.stage_id = StageId(12);
        scenario.workspace.bant.budget = BantEntry { status: BantStatus::Confirmed, note: "KRW 120M in the 2026 IT budget".into() };
        scenario.workspace.bant.authority.status = BantStatus::Partial;
        scenario.workspace.bant.need.status = BantStatus::Confirmed;
        scenario.workspace.bant.timeframe.status = BantStatus::NotAFit;
        scenario.workspace.competitors.push(CompetitorAssessment { competitor: "Rival CRM".into(), key_person: None, criteria: vec![] });
        scenario.tick(104, "requirements workshop on 2026-02-25, minutes shared");
        assert_eq!(
            scenario.try_move(13),
            lines(
                "2 Problem recognition: BANT captured: budget, authority, need and timeframe: timeframe is not a fit (needs partly confirmed or confirmed)
                 2 Problem recognition: Verification by demo or prototype started: not checked yet
                 2 Problem recognition: Comparison with competitors' products started: no competitor has been compared on any criterion (1 named)"
            )
        );
        scenario.workspace.bant.timeframe.status = BantStatus::Partial;
        scenario.tick(105, "PoC environment opened 2026-02-27");
        scenario.workspace.competitors[0].criteria.push(CompetitiveCriterion {
            label: "API freedom".into(),
            importance: 5,
            ours: 4,
            theirs: 2,
            note: String::new(),
        });
        assert_eq!(scenario.try_move(13), "allowed (Forward)");
    }

    #[test]
    fn b2b_stage_3_gate() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(13);
        scenario.workspace.stakeholders = vec![
            stakeholder(1, "김민준", Level::Staff, 1, 3),
            stakeholder(2, "박서연", Level::Executive, 5, 2),
            stakeholder(3, "이도윤", Level::DepartmentHead, 3, 3),
        ];
        // Highest influence is 3, first held by 김민준.
        assert_eq!(
            scenario.try_move(14),
            lines(
                "3 Evaluation & selection: Our product is selected: not checked yet
                 3 Evaluation & selection: An influential person at the customer is identified: no stakeholder with influence ≥ 4 is linked (highest: 3, 김민준)"
            )
        );
        assert_eq!(
            ko(&scenario.check_move(14).unmet().nth(1).unwrap().reason),
            "영향력 4 이상인 이해관계자가 연결되어 있지 않음 (최고: 3, 김민준)"
        );
        scenario.workspace.stakeholders[2].influence = 4;
        scenario.tick(107, "selection mail from the division head, 2026-03-01");
        assert_eq!(scenario.try_move(14), "allowed (Forward)");
    }

    fn plan_item(side: Side, title: &str, target: &str, step: PlanStep) -> ClosePlanItem {
        ClosePlanItem { side, owner: "정하늘".into(), title: title.into(), target_date: Some(date(target)), done_on: None, step }
    }

    #[test]
    fn b2b_stage_4_gate() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(14);
        assert_eq!(
            scenario.try_move(15),
            lines(
                "4 Final negotiation: Mutual close plan agreed with the customer: the mutual close plan has no items
                 4 Final negotiation: The customer's contact starts preparing the approval draft: the customer has not started the approval draft"
            )
        );
        scenario.workspace.close_plan.items = vec![
            plan_item(Side::Customer, "본부장 승인", "2026-03-20", PlanStep::Task),
            plan_item(Side::Customer, "구매 부서 발주", "2026-04-10", PlanStep::Signing),
            plan_item(Side::Us, "Project kick-off", "2026-05-01", PlanStep::ProjectStart),
        ];
        assert_eq!(
            en(&scenario.check_move(15).unmet().next().unwrap().reason),
            "the mutual close plan has not been shared with the customer"
        );
        scenario.workspace.close_plan.first_shared_on = Some(date("2026-02-20"));
        assert_eq!(
            en(&scenario.check_move(15).unmet().next().unwrap().reason),
            "the customer has not agreed to the mutual close plan (shared 2026-02-20)"
        );
        scenario.workspace.close_plan.agreed_on = Some(date("2026-02-27"));
        scenario.workspace.approval.draft_started_on = Some(date("2026-03-01"));
        assert_eq!(scenario.try_move(15), "allowed (Forward)");
    }

    #[test]
    fn b2b_stage_5_gate_to_won() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(15);
        scenario.workspace.approval.meeting_needed = Some(true);
        assert_eq!(
            scenario.try_move(16),
            lines(
                "5 Approval: The real final approver is identified: the real final approver is not identified
                 5 Approval: The purchase-order signer is identified: the purchase-order signer is not identified
                 5 Approval: The approval form is known: electronic, paper or verbal: the approval form (electronic, paper or verbal) is not known
                 5 Approval: Board or management meeting: whether needed, its date and submission deadline: a board or management meeting is needed but its date and submission deadline are not known
                 5 Approval: Whether the drafter has passed this amount before is known: whether the drafter has passed this amount before is not known
                 5 Approval: The deal's amount is set: amount is not set"
            )
        );
        let person = |name: &str| Some(ApprovalPerson { contact_id: None, name: name.into() });
        let approval = &mut scenario.workspace.approval;
        approval.real_approver = person("정 부장");
        approval.po_signer = person("구매팀 한 과장");
        approval.form = Some(ApprovalForm::Electronic);
        approval.meeting = Some(ApprovalMeeting {
            body: MeetingBody::Board,
            date: date("2026-03-17"),
            submission_deadline: date("2026-03-10"),
            submitted_on: None,
        });
        approval.drafter_passed_amount_before = Some(false);
        scenario.deal.amount = Some("KRW 120000000".parse().unwrap());
        // A drafter without experience is a risk flag, not a missing answer.
        assert_eq!(scenario.try_move(16), "allowed (ToWon)");
    }

    #[test]
    fn moving_to_won_checks_every_open_stage_from_the_current_one() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(13);
        let check = scenario.check_move(16);
        assert_eq!(check.kind, MoveKind::ToWon);
        assert_eq!(check.gates_checked, [StageId(13), StageId(14), StageId(15)]);
        assert_eq!(check.missing.iter().map(|stage| stage.position).collect::<Vec<_>>(), [2, 3, 4]);
        // A lost deal won outright answers for every gate from where it was lost: from the
        // entry stage when it was created lost.
        scenario.deal.stage_id = StageId(17);
        assert_eq!(scenario.check_move(16).gates_checked, [StageId(11), StageId(12), StageId(13), StageId(14), StageId(15)]);
        scenario.lost_from = Some(StageId(14));
        assert_eq!(scenario.check_move(16).gates_checked, [StageId(14), StageId(15)]);
    }

    #[test]
    fn a_lost_deal_reopens_freely_only_as_far_as_it_was_lost_from() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(17);
        scenario.lost_from = Some(StageId(12));
        // Back to where it was, or earlier: no gate.
        for to in [11, 12] {
            let check = scenario.check_move(to);
            assert_eq!((check.kind, check.gates_checked.len()), (MoveKind::Reopen, 0), "to {to}");
        }
        // Further: every gate on the way from stage 2, exactly as a forward move from stage 2.
        let reopened = scenario.check_move(15);
        assert_eq!(reopened.kind, MoveKind::Reopen);
        assert_eq!(reopened.gates_checked, [StageId(12), StageId(13), StageId(14)]);
        scenario.deal.stage_id = StageId(12);
        let forward = scenario.check_move(15);
        assert_eq!((forward.gates_checked, forward.missing), (reopened.gates_checked.clone(), reopened.missing.clone()));
        assert!(!reopened.is_allowed());
        // Created lost: it resumes at the entry stage, so stage 2 already needs gate 1.
        scenario.deal.stage_id = StageId(17);
        scenario.lost_from = None;
        assert_eq!(scenario.check_move(11).gates_checked, []);
        assert_eq!(scenario.check_move(12).gates_checked, [StageId(11)]);
        // A stage that is not open (or not of this pipeline) is not a place to resume from.
        scenario.lost_from = Some(StageId(16));
        assert_eq!(scenario.check_move(12).gates_checked, [StageId(11)]);
        // A won deal passed every gate: reopening it anywhere needs none.
        scenario.deal.stage_id = StageId(16);
        assert_eq!(scenario.check_move(15).gates_checked, []);
    }

    #[test]
    fn back_lost_reopen_unchanged_and_foreign_stages() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(13);
        assert_eq!(scenario.try_move(11), "allowed (Backward)");
        assert_eq!(scenario.try_move(13), "allowed (Unchanged)");
        assert_eq!(scenario.try_move(17), "allowed (ToLost)");
        scenario.deal.stage_id = StageId(11);
        assert_eq!(scenario.try_move(17), "allowed (ToLost)", "dropping a stage-1 case needs no gate");
        scenario.deal.stage_id = StageId(17);
        scenario.lost_from = Some(StageId(14));
        assert_eq!(scenario.try_move(14), "allowed (Reopen)", "back to the stage it was lost from");
        let foreign = scenario.check_move(3);
        assert_eq!(foreign.kind, MoveKind::NotInPipeline);
        assert!(!foreign.is_allowed());
        assert_eq!(
            worded(&foreign.to_errors(OpportunityId(42))),
            "opportunity 42: stage_id: stage 17 or 3 is not a stage of this pipeline"
        );
    }

    #[test]
    fn a_refusal_becomes_validation_errors_on_the_stage() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(14);
        assert_eq!(
            worded(&scenario.check_move(15).to_errors(OpportunityId(42))),
            "opportunity 42: stage_id: gate of 4 Final negotiation: Mutual close plan agreed with the customer: the mutual close plan has no items; \
             opportunity 42: stage_id: gate of 4 Final negotiation: The customer's contact starts preparing the approval draft: \
             the customer has not started the approval draft"
        );
        assert!(scenario.check_move(13).to_errors(OpportunityId(42)).is_empty());
    }

    #[test]
    fn simple_gates() {
        let mut scenario = Scenario::simple();
        scenario.deal.account_id = None;
        assert_eq!(
            scenario.try_move(2),
            lines(
                "Prospecting: The customer's account is named: account_id is not set
                 Prospecting: Fits our ideal customer profile: not checked yet"
            )
        );
        scenario.deal.account_id = Some(AccountId(7));
        scenario.tick(202, "logistics, 500-2000 staff, Korea: our ICP");
        assert_eq!(scenario.try_move(2), "allowed (Forward)");

        scenario.deal.stage_id = StageId(2);
        scenario.workspace.bant.need.status = BantStatus::Confirmed;
        assert_eq!(
            scenario.try_move(3),
            lines(
                "Qualification: They have the budget and the need for our product: budget is unknown (needs partly confirmed or confirmed)
                 Qualification: Their expectations match what we offer: not checked yet
                 Qualification: They can succeed with our product, with the time and resources it takes: not checked yet
                 Qualification: Worth our resources: a long-term outlook and no foreseeable outside threat: not checked yet"
            )
        );
        scenario.workspace.bant.budget.status = BantStatus::Partial;
        for id in [204, 205, 206] {
            scenario.tick(id, "discovery call notes");
        }
        assert_eq!(scenario.try_move(3), "allowed (Forward)");

        scenario.deal.stage_id = StageId(3);
        assert_eq!(
            scenario.try_move(4),
            lines(
                "Connecting: A contact at the customer is on the stakeholder map: no stakeholder with influence ≥ 1 is linked (nobody is on the stakeholder map)
                 Connecting: The deal's amount is set: amount is not set
                 Connecting: The close date is set: close_date is not set"
            )
        );
        scenario.workspace.stakeholders.push(stakeholder(1, "김민준", Level::Staff, 1, 2));
        scenario.deal.amount = Some("USD 24000".parse().unwrap());
        scenario.deal.close_date = Some(date("2026-05-29"));
        assert_eq!(scenario.try_move(4), "allowed (Forward)");

        scenario.deal.stage_id = StageId(4);
        assert_eq!(scenario.try_move(5), "Closing: The customer's signature or order is received: not checked yet");
        scenario.tick(210, "signed order form received 2026-03-01");
        assert_eq!(scenario.try_move(5), "allowed (ToWon)");
    }

    // Overrides, by the users of `access::tests::access`: 1 VP ← 2 manager ← {3, 4} reps;
    // 5 manager ← 6 rep; 7 viewer; 8 ops; 9 admin.

    #[test]
    fn who_may_override_a_gate() {
        let owner = UserId(3);
        let reason = "the customer's CFO confirmed the budget by phone; BANT form follows";
        assert_eq!(authorize_override(&access(2), owner, reason), Ok(()), "the owner's manager");
        assert_eq!(authorize_override(&access(1), owner, reason), Ok(()), "the manager's manager");
        assert_eq!(authorize_override(&access(8), owner, reason), Ok(()), "ops");
        assert_eq!(authorize_override(&access(9), owner, reason), Ok(()), "admin");
        assert_eq!(authorize_override(&Access::System, owner, reason), Ok(()));
        assert_eq!(
            en_problem(&authorize_override(&access(3), owner, reason).unwrap_err()),
            "a rep cannot override a stage gate, even on their own deal; ask a manager"
        );
        assert_eq!(
            en_problem(&authorize_override(&access(5), owner, reason).unwrap_err()),
            "user 3 is not in your reporting line; only their managers, ops or an admin can override their gates"
        );
        assert!(authorize_override(&access(7), owner, reason).is_err(), "a viewer");
        assert!(authorize_override(&access(2), UserId(2), reason).is_err(), "a manager's own deal");
        assert_eq!(authorize_override(&access(2), owner, "   "), Err(Problem::Required), "an empty reason");
    }

    #[test]
    fn an_override_records_what_it_pushed_past() {
        let mut scenario = Scenario::b2b();
        scenario.deal.stage_id = StageId(14);
        let check = scenario.check_move(15);
        let now = at("2026-03-02T09:30:00Z");
        let recorded = GateOverride::new(&access(2), UserId(3), &check, "  board meets Thursday; plan agreed verbally  ", now).unwrap();
        assert_eq!(recorded.by, Some(UserId(2)));
        assert_eq!(recorded.reason, "board meets Thursday; plan agreed verbally");
        assert_eq!((recorded.from_stage_id, recorded.to_stage_id), (StageId(14), StageId(15)));
        assert_eq!(recorded.unmet.iter().map(|unmet| unmet.criterion_id).collect::<Vec<_>>(), [109, 110]);
        assert!(GateOverride::new(&access(3), UserId(3), &check, "trust me", now).is_err());
        let allowed = scenario.check_move(13);
        assert_eq!(
            en_problem(&GateOverride::new(&access(2), UserId(3), &allowed, "why not", now).unwrap_err()),
            "the move meets every gate; there is nothing to override"
        );
    }

    #[test]
    fn stage_1_is_not_a_deal_yet() {
        let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
        let stage = |id: i64| pipeline.stage(StageId(id)).unwrap();
        assert!(excluded_from_metrics(stage(11)));
        assert!(!excluded_from_metrics(stage(12)));
        assert!(!counts_as_loss(stage(11)), "dropping a stage-1 case is not a loss");
        assert!(counts_as_loss(stage(13)));
        assert!(!qualifies_as_sql(&pipeline, StageId(12), StageId(13)));
        assert!(!qualifies_as_sql(&pipeline, StageId(11), StageId(17)), "dropped, not qualified");
        assert!(qualifies_as_sql(&pipeline, StageId(11), StageId(14)));
        assert_eq!(STAGE_1_DROP_REASONS.map(|reason| reason.code), ["cannot_serve", "no_budget_this_quarter", "personal_interest_only"]);
        assert_eq!(DROP_PERSONAL_INTEREST_ONLY.en, "personal interest only, the company isn't evaluating");
        assert!(has_reached(&pipeline, StageId(13), 2), "stage 3 is past stage 2");
        assert!(!has_reached(&pipeline, StageId(12), 2));
        assert!(!has_reached(&pipeline, StageId(17), 2), "a lost deal reaches nothing");
    }

    #[test]
    fn a_loss_review_grows_the_checklist() {
        let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
        let grown = criterion_from_loss_review(
            &pipeline,
            OpportunityId(42),
            StageId(15),
            "  Submission deadline of the board meeting confirmed in writing ",
            "",
        )
        .unwrap();
        assert_eq!(grown.label_en, "Submission deadline of the board meeting confirmed in writing");
        assert_eq!(grown.label_ko, grown.label_en, "Korean falls back to English");
        assert_eq!(grown.kind, CriterionKind::Checklist);
        assert_eq!(grown.origin, CriterionOrigin::LossReview { opportunity_id: Some(OpportunityId(42)) });
        assert_eq!(
            en_errors(&criterion_from_loss_review(&pipeline, OpportunityId(42), StageId(17), "", "").unwrap_err()),
            "new exit_criterion: label_en: is required; \
             new exit_criterion: stage_id: stage 17 (Closed lost) is a lost stage; only open stages have exit criteria"
        );
        assert!(criterion_from_loss_review(&pipeline, OpportunityId(42), StageId(3), "x", "x").is_err(), "not this pipeline's stage");
        // The grown item joins its gate, after the template's.
        let mut criteria = templates::materialise_criteria(templates::b2b_exit_criteria(&pipeline), 101);
        criteria.push(grown.with_id(200));
        let mut scenario = Scenario::b2b();
        scenario.criteria = criteria;
        scenario.deal.stage_id = StageId(15);
        let ids: Vec<i64> = scenario.check_move(16).unmet().map(|unmet| unmet.criterion_id).collect();
        assert_eq!(ids, [111, 112, 113, 114, 115, 116, 200]);
    }

    #[test]
    fn checks_need_a_checklist_item_and_evidence() {
        let scenario = Scenario::b2b();
        let derived = scenario.criteria.iter().find(|criterion| criterion.id == 101).unwrap();
        assert_eq!(
            en_errors(&CriterionCheck::new(derived, UserId(3), at("2026-03-01T00:00:00Z"), " ").unwrap_err()),
            "exit_criterion 101: kind: \"A business issue our product or service can solve exists\" is derived from data, not ticked by a person; \
             exit_criterion 101: evidence: is required"
        );
        let statuses = gate_status(&scenario.criteria, StageId(12), &scenario.facts(), &scenario.ctx);
        assert_eq!(
            statuses.iter().map(|status| (status.criterion_id, status.met)).collect::<Vec<_>>(),
            [(103, false), (104, false), (105, false), (106, false)]
        );
        let mut scenario = scenario;
        scenario.tick(104, "workshop minutes");
        let status = evaluate_criterion(&scenario.criteria[3], &scenario.facts(), &scenario.ctx);
        assert_eq!(en(&status.reason), "checked by user 3 at 2026-03-01T10:00:00Z: workshop minutes");
        assert_eq!(status.check.unwrap().evidence, "workshop minutes");
    }

    #[test]
    fn each_predicate_explains_itself() {
        let mut scenario = Scenario::b2b();
        scenario.deal.amount = Some("USD 30000".parse().unwrap());
        scenario.deal.close_date = Some(date("2026-03-20"));
        scenario.deal.forecast_category = ForecastCategory::BestCase;
        scenario.workspace.bant.budget.status = BantStatus::Confirmed;
        scenario.workspace.stakeholders =
            vec![stakeholder(1, "김민준", Level::Staff, 1, 4), stakeholder(2, "박서연", Level::Executive, 5, 3)];
        scenario.workspace.four_box.business_issue = "falling win rate against the rival".into();
        let cases: Vec<(&str, bool, &str)> = vec![
            ("set(amount)", true, "amount is set (USD 30000.00)"),
            ("set(next_step)", false, "next_step is not set"),
            ("amount_at_least(USD 50000)", false, "amount USD 30000.00 is below USD 50000.00"),
            ("amount_at_least(USD 30000)", true, "amount USD 30000.00 is at least USD 30000.00"),
            ("amount_at_least(EUR 1)", false, "amount USD 30000.00 is not in EUR, the currency of the threshold EUR 1.00"),
            // 2026-03-02 to 2026-03-20 is 18 days.
            ("close_date_within(30)", true, "close date 2026-03-20 is 18 days away, within 30 days"),
            ("close_date_within(7)", false, "close date 2026-03-20 is 18 days away, beyond 7 days"),
            ("forecast_category_in(commit)", false, "forecast category is best_case, not one of commit"),
            ("bant(budget, confirmed)", true, "budget is confirmed"),
            ("bant(authority, partial|confirmed)", false, "authority is unknown (needs partly confirmed or confirmed)"),
            ("stakeholder(4)", true, "김민준 (influence 4) is linked"),
            ("stakeholder(4, executive)", false, "no executive stakeholder with influence ≥ 4 is linked (highest: 3, 박서연)"),
            (
                "stakeholder(2, department_head)",
                false,
                "no department head stakeholder with influence ≥ 2 is linked (no department head on the map)",
            ),
            ("close_plan_agreed()", false, "the mutual close plan has no items"),
            ("competitor_assessment_started()", false, "no competitor has been compared on any criterion (0 named)"),
            ("approval_draft_started()", false, "the customer has not started the approval draft"),
            (
                "decision_within(team)",
                true,
                "decision: close date 2026-03-20 is 18 days away, within the team's average sales cycle of 60 days",
            ),
            ("decision_within(10)", false, "decision: close date 2026-03-20 is 18 days away, beyond 10 days"),
            ("four_box(business_issue)", true, "the four-box business issue is written"),
            ("approval_known(po_signer)", false, "the purchase-order signer is not identified"),
            ("not(set(next_step))", true, "next_step is not set"),
            ("not(set(amount))", false, "amount is set (USD 30000.00), which must not be so"),
            ("any(set(next_step), bant(budget, confirmed))", true, "budget is confirmed"),
            (
                "any(set(next_step), approval_draft_started())",
                false,
                "none of these holds: next_step is not set; the customer has not started the approval draft",
            ),
            ("all(set(amount), set(next_step), four_box(problem))", false, "next_step is not set; the four-box problem is empty"),
        ];
        for (text, holds, explanation) in cases {
            let predicate = Predicate::parse(text).unwrap();
            let verdict = predicate.evaluate(&scenario.facts(), &scenario.ctx);
            assert_eq!((verdict.holds, en(&verdict.reason).as_str()), (holds, explanation), "{text}");
            assert_eq!(Predicate::parse(&predicate.encode()).unwrap(), predicate, "{text} round-trips");
        }
    }

    #[test]
    fn bad_predicates_are_clear_errors() {
        for bad in [
            "",
            "set",
            "set(amount",
            "set(nothing)",
            "all(set(amount), )x",
            "bant(budget)",
            "stakeholder(300)",
            "frobnicate()",
            "close_plan_agreed(1)",
            "not()",
        ] {
            assert!(Predicate::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}set(amount){}", "not(".repeat(40), ")".repeat(40));
        assert!(Predicate::parse(&deep).is_err(), "nesting is bounded");
        let problems = |raw: &str| Predicate::parse(raw).unwrap().problems().iter().map(en).collect::<Vec<_>>();
        assert_eq!(problems("all()"), ["all(…) and any(…) need at least one condition"]);
        assert_eq!(problems("stakeholder(9)"), ["influence 9 is out of range (1 to 5)"]);
        assert_eq!(problems("close_date_within(0)"), ["a window of 0 days is out of range (1 to 3650 days)"]);
    }

    #[test]
    fn template_criteria_validate_and_round_trip_through_storage_text() {
        for (pipeline, criteria, per_stage) in [
            {
                let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
                let criteria = templates::b2b_exit_criteria(&pipeline);
                (pipeline, criteria, vec![2, 4, 2, 2, 6, 0, 0])
            },
            {
                let pipeline = templates::simple().materialise(PipelineId(1), 1);
                let criteria = templates::simple_exit_criteria(&pipeline);
                (pipeline, criteria, vec![2, 4, 3, 1, 0, 0])
            },
        ] {
            let counts: Vec<usize> =
                pipeline.stages.iter().map(|stage| criteria.iter().filter(|criterion| criterion.stage_id == stage.id).count()).collect();
            assert_eq!(counts, per_stage, "{}", pipeline.name);
            for criterion in criteria {
                let decoded = CriterionKind::decode(criterion.kind.kind_str(), criterion.kind.argument().as_deref()).unwrap();
                assert_eq!(decoded, criterion.kind);
                assert_eq!(criterion.clone().validated(&pipeline).unwrap(), criterion);
            }
        }
        let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
        let encoded: Vec<String> = templates::b2b_exit_criteria(&pipeline)
            .iter()
            .filter_map(|criterion| criterion.kind.argument().map(|argument| format!("{} {argument}", criterion.kind.kind_str())))
            .collect();
        assert_eq!(
            encoded[..4],
            [
                "derived all(four_box(business_issue), four_box(solution))",
                "derived decision_within(team)",
                "derived all(bant(budget, partial|confirmed), bant(authority, partial|confirmed), bant(need, partial|confirmed), bant(timeframe, partial|confirmed))",
                "derived competitor_assessment_started()",
            ]
        );
    }

    // Property: forward to stage k refuses iff some criterion of stages current..k-1 is unmet,
    // and lists exactly those, in stage order then criterion order.

    /// A generated criterion: 0 checklist, 1 derived always true, 2 derived always false,
    /// 3 required amount; and whether a checklist item is ticked.
    fn arbitrary_gates() -> impl Strategy<Value = Vec<Vec<(u8, bool)>>> {
        prop::collection::vec(prop::collection::vec((0u8..4, any::<bool>()), 0..4), 5)
    }

    proptest! {
        #[test]
        fn refusal_lists_exactly_the_unmet_criteria_on_the_way(
            gates in arbitrary_gates(),
            amount_set in any::<bool>(),
            current in 0usize..5,
            target in 0usize..7,
        ) {
            let pipeline = templates::b2b_the_model().materialise(PipelineId(2), 11);
            let mut criteria = Vec::new();
            let mut checks = Vec::new();
            let mut next_id = 1;
            for (position, gate) in gates.iter().enumerate() {
                for (kind, ticked) in gate {
                    let kind_value = match kind {
                        0 => CriterionKind::Checklist,
                        1 => CriterionKind::Derived(Predicate::FieldSet(OppField::Name)),
                        2 => CriterionKind::Derived(Predicate::Not(Box::new(Predicate::FieldSet(OppField::Name)))),
                        _ => CriterionKind::RequiredField(OppField::Amount),
                    };
                    if *kind == 0 && *ticked {
                        checks.push(CriterionCheck { criterion_id: next_id, checked_by: UserId(3), checked_at: Timestamp::from_micros(0), evidence: "e".into() });
                    }
                    criteria.push(ExitCriterion {
                        id: next_id,
                        stage_id: pipeline.stages[position].id,
                        label_en: format!("c{next_id}"),
                        label_ko: format!("c{next_id}"),
                        kind: kind_value,
                        origin: CriterionOrigin::Ops,
                    });
                    next_id += 1;
                }
            }
            let mut opportunity = deal(&pipeline, pipeline.stages[current].id);
            opportunity.amount = amount_set.then(|| "USD 1".parse().unwrap());
            let workspace = Workspace::default();
            let facts = DealFacts { opportunity: &opportunity, workspace: &workspace, checks: &checks, lost_from: None };
            let ctx = GateContext { team_average_cycle_days: None, today: date("2026-03-02") };
            let check = check_move(&pipeline, &criteria, &facts, &ctx, pipeline.stages[target].id);

            // The naive reference: which positions are gates, and which criteria are unmet.
            let gate_positions: Vec<usize> = match pipeline.stages[target].kind {
                StageKind::Lost => vec![],
                StageKind::Won => (current..5).collect(),
                StageKind::Open if target > current => (current..target).collect(),
                StageKind::Open => vec![],
            };
            let mut expected = Vec::new();
            let mut id = 1;
            for (position, gate) in gates.iter().enumerate() {
                for (kind, ticked) in gate {
                    let met = match kind {
                        0 => *ticked,
                        1 => true,
                        2 => false,
                        _ => amount_set,
                    };
                    if gate_positions.contains(&position) && !met {
                        expected.push(id);
                    }
                    id += 1;
                }
            }
            let unmet: Vec<i64> = check.unmet().map(|unmet| unmet.criterion_id).collect();
            prop_assert_eq!(&unmet, &expected);
            prop_assert_eq!(check.is_allowed(), expected.is_empty());
            let checked: Vec<StageId> = gate_positions.iter().map(|position| pipeline.stages[*position].id).collect();
            prop_assert_eq!(check.gates_checked, checked);
        }

        #[test]
        fn predicates_round_trip_through_text(predicate in arbitrary_predicate()) {
            prop_assert_eq!(Predicate::parse(&predicate.encode()), Ok(predicate));
        }
    }

    fn arbitrary_predicate() -> impl Strategy<Value = Predicate> {
        let leaf = prop_oneof![
            prop::sample::select(OppField::ALL.to_vec()).prop_map(Predicate::FieldSet),
            (0i64..1_000_000).prop_map(|amount| Predicate::AmountAtLeast(Money::new(amount.into(), crate::Currency::KRW).unwrap())),
            (1u32..400).prop_map(Predicate::CloseDateWithinDays),
            prop::sample::subsequence(ForecastCategory::ALL.to_vec(), 1..3).prop_map(Predicate::ForecastCategoryIn),
            (prop::sample::select(BantItem::ALL.to_vec()), prop::sample::subsequence(BantStatus::ALL.to_vec(), 1..4))
                .prop_map(|(item, statuses)| Predicate::Bant { item, statuses }),
            (1u8..=5, prop::option::of(prop::sample::select(Level::ALL.to_vec())))
                .prop_map(|(min_influence, level)| Predicate::StakeholderLinked { min_influence, level }),
            Just(Predicate::ClosePlanAgreed),
            Just(Predicate::CompetitorAssessmentStarted),
            Just(Predicate::ApprovalDraftStarted),
            prop::option::of(1u32..400).prop_map(|days| Predicate::DecisionWithin { days }),
            prop::sample::select(FourBoxPart::ALL.to_vec()).prop_map(Predicate::FourBoxFilled),
            prop::sample::select(ApprovalFact::ALL.to_vec()).prop_map(Predicate::ApprovalKnown),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Predicate::All),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Predicate::Any),
                inner.prop_map(|predicate| Predicate::Not(Box::new(predicate))),
            ]
        })
    }
}
