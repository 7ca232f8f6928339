//! The deal workspace of SPEC C3 (seed 003): what a rep writes down about one opportunity, and
//! the flags each part raises, as pure functions of the workspace and a few inputs.
//!
//! The parts, in the order the seed works through them:
//! - [`Bant`]: budget, authority, need and timeframe, each with a [`BantStatus`] and a note.
//! - [`FourBox`]: the story of business issue → problem → solution → benefit.
//!   Weak reps jump from problem to solution; a story with no business issue is flagged.
//! - The stakeholder map ([`Stakeholder`]): buying role, level, rank and influence with its
//!   evidence, drawn as a rank × influence quadrant ([`stakeholder_quadrant`]).
//!   Rank and influence do not coincide in a company; the seed's most dangerous person is the
//!   low-rank, low-influence one who is easy to meet, so a deal worked mostly through such people
//!   is flagged, and so is a deal that reaches the end of stage 2 without meeting an executive.
//! - The competitive assessment ([`CompetitorAssessment`]), per competitor as the customer's
//!   key person sees it, drawn as an importance × advantage quadrant; the upper-right criteria
//!   are proposed as the selection criteria to set with the customer.
//! - The mutual close plan ([`ClosePlan`]): ordered items with a side, an owner, a concrete
//!   title, a target date and a done date, running past signing to project start.
//! - The approval checklist ([`ApprovalChecklist`]): named and real approver, purchase-order
//!   signer, departments with power, the approval form, the board or management meeting with
//!   its submission deadline, the body's meeting calendar (where a missed deadline slips the
//!   approval to), and whether the drafter has passed this amount before.
//!
//! Every flag is a [`Flag`]: a stable code, an English and a Korean message, and the figures
//! behind it. Nothing here reads a clock: `today` is an argument.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rust_decimal::Decimal;

use crate::error::{Problem, RecordRef, ValidationErrors};
use crate::gates::term;
use crate::id::{ContactId, OpportunityId};
use crate::message::Message;
use crate::money::Money;
use crate::records::text_enum;
use crate::text;
use crate::time::{Date, Timestamp};

// ---------------------------------------------------------------------------------------------
// Flags

text_enum! {
    /// How loud a flag is. `Warning` asks for action; `Info` is worth knowing.
    Severity { Info => "info", Warning => "warning" }
    expected "one of info, warning"
}

/// One number (or date, or name) behind a flag, for the UI and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    Days(i64),
    /// A share in percent, rounded half-to-even to one decimal place.
    Percent(Decimal),
    Date(Date),
    Money(Money),
    Text(String),
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Count(count) => write!(f, "{count}"),
            Figure::Days(days) => write!(f, "{days} days"),
            Figure::Percent(percent) => write!(f, "{percent}%"),
            Figure::Date(date) => write!(f, "{date}"),
            Figure::Money(money) => write!(f, "{money}"),
            Figure::Text(text) => f.write_str(text),
        }
    }
}

/// A warning about one part of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// Stable, dotted, lower case: `close_plan.late_item`. Clients key on it.
    pub code: &'static str,
    pub severity: Severity,
    /// What the flag says, under `flag.`, for the edges to word.
    pub message: Message,
    /// The numbers behind the message, by name.
    pub figures: Vec<(&'static str, Figure)>,
}

impl Flag {
    fn warning(code: &'static str, message: Message, figures: Vec<(&'static str, Figure)>) -> Flag {
        Flag { code, severity: Severity::Warning, message, figures }
    }

    fn info(code: &'static str, message: Message, figures: Vec<(&'static str, Figure)>) -> Flag {
        Flag { code, severity: Severity::Info, message, figures }
    }

    /// The figure called `name`, if the flag has one.
    pub fn figure(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|(figure_name, _)| *figure_name == name).map(|(_, figure)| figure)
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    (Timestamp::start_of_day(to).as_micros() - Timestamp::start_of_day(from).as_micros()) / 86_400_000_000
}

/// `date` moved by `days` (negative moves back); saturates at the ends of the calendar.
pub fn add_days(date: Date, days: i64) -> Date {
    jiff::Span::new().try_days(days).ok().and_then(|span| date.checked_add(span).ok()).unwrap_or(if days < 0 {
        Date::MIN
    } else {
        Date::MAX
    })
}

/// `part` of `whole` in percent, rounded to one decimal place; zero when `whole` is zero.
fn percent(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::ZERO;
    }
    let mut share = (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(1);
    share.rescale(1);
    share
}

// ---------------------------------------------------------------------------------------------
// BANT

text_enum! {
    /// The four BANT conditions of a deal (seed 003, stage 2).
    BantItem { Budget => "budget", Authority => "authority", Need => "need", Timeframe => "timeframe" }
    expected "one of budget, authority, need, timeframe"
}

text_enum! {
    /// How far one BANT condition is known. `NotAFit` means the answer is known and rules the
    /// deal out (no budget, nobody who can sign, no real need, no time frame).
    BantStatus { Unknown => "unknown", Partial => "partial", Confirmed => "confirmed", NotAFit => "not_a_fit" }
    expected "one of unknown, partial, confirmed, not_a_fit"
}

// The enum comes from `text_enum!`, which cannot mark a default variant.
#[allow(clippy::derivable_impls)]
impl Default for BantStatus {
    fn default() -> BantStatus {
        BantStatus::Unknown
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BantEntry {
    pub status: BantStatus,
    pub note: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bant {
    pub budget: BantEntry,
    pub authority: BantEntry,
    pub need: BantEntry,
    pub timeframe: BantEntry,
}

impl Bant {
    pub fn entry(&self, item: BantItem) -> &BantEntry {
        match item {
            BantItem::Budget => &self.budget,
            BantItem::Authority => &self.authority,
            BantItem::Need => &self.need,
            BantItem::Timeframe => &self.timeframe,
        }
    }

    pub fn entry_mut(&mut self, item: BantItem) -> &mut BantEntry {
        match item {
            BantItem::Budget => &mut self.budget,
            BantItem::Authority => &mut self.authority,
            BantItem::Need => &mut self.need,
            BantItem::Timeframe => &mut self.timeframe,
        }
    }
}

/// One `bant.not_a_fit` flag per condition known to rule the deal out.
pub fn bant_flags(bant: &Bant) -> Vec<Flag> {
    BantItem::ALL
        .iter()
        .filter(|item| bant.entry(**item).status == BantStatus::NotAFit)
        .map(|item| {
            let note = &bant.entry(*item).note;
            let message = if note.is_empty() {
                Message::new("flag.bant.not_a_fit")
            } else {
                Message::new("flag.bant.not_a_fit_noted").text("note", note)
            };
            Flag::warning(
                "bant.not_a_fit",
                message.term("item", term("bant", item.as_str())),
                vec![("item", Figure::Text(item.as_str().to_owned()))],
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Four-box story

text_enum! {
    /// The four boxes of seed 003: 비즈니스 이슈, 문제점, 솔루션, 베네핏.
    FourBoxPart { BusinessIssue => "business_issue", Problem => "problem", Solution => "solution", Benefit => "benefit" }
    expected "one of business_issue, problem, solution, benefit"
}

/// The customer's story. Empty text means not captured yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FourBox {
    /// What stands between the company and its goal ("double revenue in three years").
    pub business_issue: String,
    /// What people on the ground feel every day.
    pub problem: String,
    /// What our product or service does about it.
    pub solution: String,
    /// The return, in numbers.
    pub benefit_quantitative: String,
    /// The return, in words.
    pub benefit_qualitative: String,
}

impl FourBox {
    /// Whether `part` is captured; the benefit counts when either half is.
    pub fn is_filled(&self, part: FourBoxPart) -> bool {
        let filled = |text: &str| !text.trim().is_empty();
        match part {
            FourBoxPart::BusinessIssue => filled(&self.business_issue),
            FourBoxPart::Problem => filled(&self.problem),
            FourBoxPart::Solution => filled(&self.solution),
            FourBoxPart::Benefit => filled(&self.benefit_quantitative) || filled(&self.benefit_qualitative),
        }
    }
}

/// `four_box.empty` when the deal is past stage 1 (`past_stage_1`) and nothing of its story is
/// written; `four_box.no_business_issue` when problem or solution is written but the business
/// issue is not (the rep jumped from problem to solution); `four_box.no_benefit` when a solution
/// has no benefit, in numbers or words.
pub fn four_box_flags(four_box: &FourBox, past_stage_1: bool) -> Vec<Flag> {
    let mut flags = Vec::new();
    let parts = [FourBoxPart::BusinessIssue, FourBoxPart::Problem, FourBoxPart::Solution, FourBoxPart::Benefit];
    if past_stage_1 && !parts.iter().any(|part| four_box.is_filled(*part)) {
        flags.push(Flag::warning("four_box.empty", Message::new("flag.four_box.empty"), vec![]));
    }
    let problem_or_solution = four_box.is_filled(FourBoxPart::Problem) || four_box.is_filled(FourBoxPart::Solution);
    if problem_or_solution && !four_box.is_filled(FourBoxPart::BusinessIssue) {
        flags.push(Flag::warning("four_box.no_business_issue", Message::new("flag.four_box.no_business_issue"), vec![]));
    }
    if four_box.is_filled(FourBoxPart::Solution) && !four_box.is_filled(FourBoxPart::Benefit) {
        flags.push(Flag::warning("four_box.no_benefit", Message::new("flag.four_box.no_benefit"), vec![]));
    }
    flags
}

// ---------------------------------------------------------------------------------------------
// Quadrant charts

/// One axis of a quadrant chart. Values are whole numbers from `min` to `max`; a value at or
/// above `high_from` falls in the high half (right or upper).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The catalog entry that names the axis (`term.axis.rank`).
    pub label: &'static str,
    pub min: i32,
    pub max: i32,
    pub high_from: i32,
}

impl Axis {
    pub fn is_high(&self, value: i32) -> bool {
        value >= self.high_from
    }
}

text_enum! {
    /// The four cells of a quadrant chart.
    Cell { UpperRight => "upper_right", UpperLeft => "upper_left", LowerRight => "lower_right", LowerLeft => "lower_left" }
    expected "one of upper_right, upper_left, lower_right, lower_left"
}

/// One point of a quadrant chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuadrantPoint {
    /// What the point stands for: a contact id on the stakeholder map, a criterion's index in
    /// the competitive assessment.
    pub key: i64,
    pub label: String,
    pub x: i32,
    pub y: i32,
    /// Size of the dot: activity count on the stakeholder map, importance in the assessment.
    pub weight: u32,
    pub cell: Cell,
}

/// A quadrant as data: an SVG renderer draws the axes, the split lines between `high_from - 1`
/// and `high_from`, and the points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuadrantChart {
    pub x_axis: Axis,
    pub y_axis: Axis,
    pub points: Vec<QuadrantPoint>,
}

fn cell(x_axis: &Axis, y_axis: &Axis, x: i32, y: i32) -> Cell {
    match (x_axis.is_high(x), y_axis.is_high(y)) {
        (true, true) => Cell::UpperRight,
        (false, true) => Cell::UpperLeft,
        (true, false) => Cell::LowerRight,
        (false, false) => Cell::LowerLeft,
    }
}

// ---------------------------------------------------------------------------------------------
// Stakeholder map

text_enum! {
    /// What a person does in the purchase.
    BuyingRole {
        DecisionMaker => "decision_maker",
        EconomicBuyer => "economic_buyer",
        Champion => "champion",
        Influencer => "influencer",
        Evaluator => "evaluator",
        User => "user",
        Gatekeeper => "gatekeeper",
        Blocker => "blocker",
        Other => "other",
    }
    expected "one of decision_maker, economic_buyer, champion, influencer, evaluator, user, gatekeeper, blocker, other"
}

text_enum! {
    /// Seed 003's three levels: 경영진 (executive), 부서장 (department head), 담당자 (staff).
    Level { Executive => "executive", DepartmentHead => "department_head", Staff => "staff" }
    expected "one of executive, department_head, staff"
}

/// The lowest and highest value of every 1–5 scale in the workspace (rank, influence,
/// importance, strength).
pub const SCALE: std::ops::RangeInclusive<u8> = 1..=5;

/// On the rank × influence quadrant, 1 and 2 are low; 3 to 5 are high.
pub const STAKEHOLDER_HIGH_FROM: i32 = 3;

/// A deal is "worked through low-power people" when more than this share of the activity with
/// people on the map is with low-rank, low-influence people.
pub const LOW_POWER_ACTIVITY_SHARE_PERCENT: u32 = 60;

/// A person at the customer, as the rep judges them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stakeholder {
    pub contact_id: ContactId,
    /// The contact's name, for messages and charts.
    pub name: String,
    pub buying_role: BuyingRole,
    pub level: Level,
    /// Rank in their company on a 1–5 scale: 1 staff, 5 the top of the company.
    pub rank: u8,
    /// Real power over this purchase, 1–5, whatever the rank.
    pub influence: u8,
    /// Why the rep believes the influence score ("speaks up in front of the executives").
    pub influence_evidence: String,
}

impl Stakeholder {
    /// Whether the person sits in the lower-left cell: low rank and low influence.
    pub fn is_low_power(&self) -> bool {
        i32::from(self.rank) < STAKEHOLDER_HIGH_FROM && i32::from(self.influence) < STAKEHOLDER_HIGH_FROM
    }
}

/// The rank × influence quadrant: x = rank, y = influence, weight = activity with the person.
pub fn stakeholder_quadrant(stakeholders: &[Stakeholder], activity_by_contact: &BTreeMap<ContactId, u32>) -> QuadrantChart {
    let x_axis = Axis { label: "term.axis.rank", min: 1, max: 5, high_from: STAKEHOLDER_HIGH_FROM };
    let y_axis = Axis { label: "term.axis.influence", min: 1, max: 5, high_from: STAKEHOLDER_HIGH_FROM };
    let points = stakeholders
        .iter()
        .map(|stakeholder| {
            let (x, y) = (i32::from(stakeholder.rank), i32::from(stakeholder.influence));
            QuadrantPoint {
                key: stakeholder.contact_id.0,
                label: stakeholder.name.clone(),
                x,
                y,
                weight: activity_by_contact.get(&stakeholder.contact_id).copied().unwrap_or(0),
                cell: cell(&x_axis, &y_axis, x, y),
            }
        })
        .collect();
    QuadrantChart { x_axis, y_axis, points }
}

/// The stakeholder map's flags.
///
/// - `stakeholders.low_power_activity`: more than [`LOW_POWER_ACTIVITY_SHARE_PERCENT`] of the
///   activity with people on the map is with low-rank, low-influence people. Activity with
///   contacts not on the map is left out of both sides of the share (it is reported as
///   `unmapped_activity`), since nobody has judged those people yet.
/// - `stakeholders.only_low_power`: before any activity with people on the map, everyone on it is
///   low-rank and low-influence: the map itself says the deal is being worked from below.
/// - `stakeholders.no_executive_met`: `stage_2_ended` (the deal is leaving or past stage 2) and
///   no executive on the map is in `contacts_met` (contacts the deal has had a meeting with).
pub fn stakeholder_flags(
    stakeholders: &[Stakeholder],
    activity_by_contact: &BTreeMap<ContactId, u32>,
    contacts_met: &BTreeSet<ContactId>,
    stage_2_ended: bool,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    let on_map: BTreeSet<ContactId> = stakeholders.iter().map(|stakeholder| stakeholder.contact_id).collect();
    let activity = |stakeholder: &Stakeholder| u64::from(activity_by_contact.get(&stakeholder.contact_id).copied().unwrap_or(0));
    let mapped_activity: u64 = stakeholders.iter().map(activity).sum();
    let low_power_activity: u64 = stakeholders.iter().filter(|stakeholder| stakeholder.is_low_power()).map(activity).sum();
    let unmapped_activity: u64 =
        activity_by_contact.iter().filter(|(contact, _)| !on_map.contains(contact)).map(|(_, count)| u64::from(*count)).sum();
    if mapped_activity > 0 && low_power_activity * 100 > u64::from(LOW_POWER_ACTIVITY_SHARE_PERCENT) * mapped_activity {
        let share = percent(low_power_activity, mapped_activity);
        let names: Vec<&str> = stakeholders
            .iter()
            .filter(|stakeholder| stakeholder.is_low_power() && activity(stakeholder) > 0)
            .map(|stakeholder| stakeholder.name.as_str())
            .collect();
        let names = names.join(", ");
        flags.push(Flag::warning(
            "stakeholders.low_power_activity",
            Message::new("flag.stakeholders.low_power_activity")
                .text("share", share)
                .text("low", low_power_activity)
                .text("mapped", mapped_activity)
                .text("names", names)
                .text("threshold", LOW_POWER_ACTIVITY_SHARE_PERCENT),
            vec![
                ("low_power_activity", Figure::Count(low_power_activity as i64)),
                ("mapped_activity", Figure::Count(mapped_activity as i64)),
                ("unmapped_activity", Figure::Count(unmapped_activity as i64)),
                ("share_percent", Figure::Percent(share)),
                ("threshold_percent", Figure::Percent(Decimal::from(LOW_POWER_ACTIVITY_SHARE_PERCENT))),
            ],
        ));
    }
    if mapped_activity == 0 && !stakeholders.is_empty() && stakeholders.iter().all(Stakeholder::is_low_power) {
        let names: Vec<&str> = stakeholders.iter().map(|stakeholder| stakeholder.name.as_str()).collect();
        flags.push(Flag::warning(
            "stakeholders.only_low_power",
            Message::new("flag.stakeholders.only_low_power").text("count", stakeholders.len()).text("names", names.join(", ")),
            vec![("on_map", Figure::Count(stakeholders.len() as i64))],
        ));
    }
    let executives: Vec<&Stakeholder> = stakeholders.iter().filter(|stakeholder| stakeholder.level == Level::Executive).collect();
    let executives_met = executives.iter().filter(|executive| contacts_met.contains(&executive.contact_id)).count();
    if stage_2_ended && executives_met == 0 {
        let detail = if executives.is_empty() {
            Message::new("flag.stakeholders.no_executive_on_map")
        } else {
            let names: Vec<&str> = executives.iter().map(|executive| executive.name.as_str()).collect();
            Message::new("flag.stakeholders.executives_not_met").text("names", names.join(", "))
        };
        flags.push(Flag::warning(
            "stakeholders.no_executive_met",
            Message::new("flag.stakeholders.no_executive_met").message("detail", detail),
            vec![("executives_on_map", Figure::Count(executives.len() as i64)), ("executives_met", Figure::Count(0))],
        ));
    }
    flags
}

// ---------------------------------------------------------------------------------------------
// Competitive assessment

/// On the competitive quadrant, importance 4 and 5 are "matters to this customer".
pub const IMPORTANCE_HIGH_FROM: i32 = 4;

/// On the competitive quadrant, an advantage of 1 or more (ours stronger than theirs) is high.
pub const ADVANTAGE_HIGH_FROM: i32 = 1;

/// One criterion the customer's key person judges vendors on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompetitiveCriterion {
    pub label: String,
    /// How much it matters to this customer, 1–5.
    pub importance: u8,
    /// Our strength on it, 1–5, as the key person sees it.
    pub ours: u8,
    /// The competitor's strength on it, 1–5, as the key person sees it.
    pub theirs: u8,
    pub note: String,
}

impl CompetitiveCriterion {
    /// Ours minus theirs, from -4 to 4.
    pub fn advantage(&self) -> i32 {
        i32::from(self.ours) - i32::from(self.theirs)
    }

    /// Upper-right: important to the customer and stronger on our side.
    pub fn is_differentiator(&self) -> bool {
        i32::from(self.importance) >= IMPORTANCE_HIGH_FROM && self.advantage() >= ADVANTAGE_HIGH_FROM
    }
}

/// Us against one competitor, as the customer's key person sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompetitorAssessment {
    pub competitor: String,
    /// Whose view the scores are: the person at the customer who selects.
    pub key_person: Option<String>,
    pub criteria: Vec<CompetitiveCriterion>,
}

/// The importance × advantage quadrant: x = importance, y = ours − theirs; each point's key is
/// the criterion's index in the assessment.
pub fn competitive_quadrant(assessment: &CompetitorAssessment) -> QuadrantChart {
    let x_axis = Axis { label: "term.axis.importance", min: 1, max: 5, high_from: IMPORTANCE_HIGH_FROM };
    let y_axis = Axis { label: "term.axis.advantage", min: -4, max: 4, high_from: ADVANTAGE_HIGH_FROM };
    let points = assessment
        .criteria
        .iter()
        .enumerate()
        .map(|(index, criterion)| {
            let (x, y) = (i32::from(criterion.importance), criterion.advantage());
            QuadrantPoint {
                key: index as i64,
                label: criterion.label.clone(),
                x,
                y,
                weight: u32::from(criterion.importance),
                cell: cell(&x_axis, &y_axis, x, y),
            }
        })
        .collect();
    QuadrantChart { x_axis, y_axis, points }
}

/// The upper-right criteria, proposed as the selection criteria to agree with the customer:
/// most important first, then largest advantage, then the assessment's order.
pub fn proposed_selection_criteria(assessment: &CompetitorAssessment) -> Vec<&CompetitiveCriterion> {
    let mut proposed: Vec<&CompetitiveCriterion> = assessment.criteria.iter().filter(|criterion| criterion.is_differentiator()).collect();
    proposed.sort_by_key(|criterion| (std::cmp::Reverse(criterion.importance), std::cmp::Reverse(criterion.advantage())));
    proposed
}

/// `competition.no_differentiator` for every assessed competitor (one with criteria) against
/// whom no criterion is upper-right.
pub fn competition_flags(assessments: &[CompetitorAssessment]) -> Vec<Flag> {
    assessments
        .iter()
        .filter(|assessment| !assessment.criteria.is_empty() && proposed_selection_criteria(assessment).is_empty())
        .map(|assessment| {
            let name = &assessment.competitor;
            let n_criteria = assessment.criteria.len();
            Flag::warning(
                "competition.no_differentiator",
                Message::new("flag.competition.no_differentiator").text("name", name).text("criteria", n_criteria),
                vec![("competitor", Figure::Text(name.clone())), ("criteria", Figure::Count(n_criteria as i64))],
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Mutual close plan

text_enum! {
    /// Who carries a close-plan item: our side or the customer's.
    Side { Us => "us", Customer => "customer" }
    expected "us or customer"
}

text_enum! {
    /// Marks the two milestones a plan must show: signing, and project start after it.
    PlanStep { Task => "task", Signing => "signing", ProjectStart => "project_start" }
    expected "one of task, signing, project_start"
}

/// One line of the mutual close plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePlanItem {
    pub side: Side,
    /// The person who carries it.
    pub owner: String,
    /// Concrete: "board approval", "division-head approval", "purchasing places the order".
    pub title: String,
    pub target_date: Option<Date>,
    pub done_on: Option<Date>,
    pub step: PlanStep,
}

/// The mutual close plan: every task on both sides up to contract and on to project start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClosePlan {
    /// In time order.
    pub items: Vec<ClosePlanItem>,
    /// When the plan was first shown to the customer.
    pub first_shared_on: Option<Date>,
    /// When the customer agreed to it.
    pub agreed_on: Option<Date>,
}

/// Titles shorter than this many characters (not counting spaces) are flagged as vague.
pub const MIN_TITLE_CHARS: usize = 4;

/// Words and phrases that say nothing about who does what. A title made only of these (and of
/// [`FILLER_WORDS`]) is vague: "decision", "final approval", "최종 결정".
pub const VAGUE_WORDS_EN: &[&str] = &[
    "decision",
    "decide",
    "decision making",
    "tbd",
    "tba",
    "todo",
    "to do",
    "follow up",
    "followup",
    "next step",
    "next steps",
    "approval",
    "approve",
    "sign",
    "signing",
    "sign off",
    "signoff",
    "close",
    "closing",
    "review",
    "discuss",
    "discussion",
    "meeting",
    "call",
    "check",
    "check in",
    "sync",
    "misc",
    "other",
    "etc",
    "pending",
    "wait",
    "waiting",
    "process",
    "paperwork",
    "contract",
    "agreement",
];

/// Korean words and phrases that say nothing about who does what (the seed's '의사결정').
pub const VAGUE_WORDS_KO: &[&str] = &[
    "결정",
    "의사결정",
    "의사 결정",
    "결재",
    "승인",
    "검토",
    "논의",
    "협의",
    "회의",
    "미팅",
    "확인",
    "진행",
    "처리",
    "미정",
    "추후",
    "후속",
    "후속 조치",
    "팔로업",
    "팔로우업",
    "기타",
    "계약",
    "클로징",
    "마무리",
    "대기",
];

/// Words that add nothing concrete on their own: "final decision" is as vague as "decision".
pub const FILLER_WORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "final",
    "customer",
    "client",
    "our",
    "their",
    "and",
    "of",
    "for",
    "with",
    "to",
    "on",
    "최종",
    "고객",
    "고객사",
    "및",
    "건",
];

/// Why a close-plan title is vague.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VagueTitle {
    /// Only vague and filler words, such as "decision" or "최종 결정".
    OnlyVagueWords,
    /// Fewer than [`MIN_TITLE_CHARS`] characters besides spaces.
    TooShort { chars: usize },
}

/// Whether a close-plan title says too little: only vague and filler words (checked first), or
/// too short. Matching ignores case and punctuation; phrases match whole words, longest first.
pub fn vague_title(title: &str) -> Option<VagueTitle> {
    let normalised: String = title.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    let words: Vec<&str> = normalised.split_whitespace().collect();
    let phrases: Vec<Vec<&str>> =
        VAGUE_WORDS_EN.iter().chain(VAGUE_WORDS_KO).chain(FILLER_WORDS).map(|phrase| phrase.split_whitespace().collect()).collect();
    let mut at = 0;
    while at < words.len() {
        match phrases.iter().filter(|phrase| words[at..].starts_with(phrase)).map(Vec::len).max() {
            Some(len) => at += len,
            None => break,
        }
    }
    if !words.is_empty() && at == words.len() {
        return Some(VagueTitle::OnlyVagueWords);
    }
    let chars = title.chars().filter(|c| !c.is_whitespace()).count();
    (chars < MIN_TITLE_CHARS).then_some(VagueTitle::TooShort { chars })
}

/// The close plan's flags.
///
/// - `close_plan.late_item`: an item whose target date is before `today` and is not done.
/// - `close_plan.vague_title`: see [`vague_title`].
/// - `close_plan.no_target_date`: an open item without a target date.
/// - `close_plan.not_shared`: `reached_final_negotiation` (the deal is in stage 4 or later) and
///   the plan has not been shared with the customer.
/// - `close_plan.no_project_start`: the plan has items but none marks project start, so it
///   stops at signing.
pub fn close_plan_flags(plan: &ClosePlan, today: Date, reached_final_negotiation: bool) -> Vec<Flag> {
    let mut flags = Vec::new();
    for (index, item) in plan.items.iter().enumerate() {
        let number = index as i64 + 1;
        let title = &item.title;
        if let (Some(target), None) = (item.target_date, item.done_on)
            && target < today
        {
            let days_late = days_between(target, today);
            flags.push(Flag::warning(
                "close_plan.late_item",
                Message::new("flag.close_plan.late_item")
                    .text("number", number)
                    .text("title", title)
                    .term("side", term("side", item.side.as_str()))
                    .text("owner", &item.owner)
                    .text("target", target)
                    .text("days", days_late),
                vec![
                    ("item", Figure::Count(number)),
                    ("target_date", Figure::Date(target)),
                    ("today", Figure::Date(today)),
                    ("days_late", Figure::Days(days_late)),
                ],
            ));
        }
        if let Some(vague) = vague_title(title) {
            let why = match vague {
                VagueTitle::OnlyVagueWords => Message::new("flag.close_plan.says_nothing"),
                VagueTitle::TooShort { chars } => Message::new("flag.close_plan.too_short").text("chars", chars),
            };
            flags.push(Flag::warning(
                "close_plan.vague_title",
                Message::new("flag.close_plan.vague_title").text("number", number).text("title", title).message("why", why),
                vec![("item", Figure::Count(number)), ("title", Figure::Text(title.clone()))],
            ));
        }
        if item.target_date.is_none() && item.done_on.is_none() {
            flags.push(Flag::warning(
                "close_plan.no_target_date",
                Message::new("flag.close_plan.no_target_date").text("number", number).text("title", title),
                vec![("item", Figure::Count(number))],
            ));
        }
    }
    if reached_final_negotiation && plan.first_shared_on.is_none() {
        let n_items = plan.items.len() as i64;
        flags.push(Flag::warning(
            "close_plan.not_shared",
            Message::new("flag.close_plan.not_shared").text("items", n_items),
            vec![("items", Figure::Count(n_items))],
        ));
    }
    if !plan.items.is_empty() && !plan.items.iter().any(|item| item.step == PlanStep::ProjectStart) {
        let signing = plan.items.iter().any(|item| item.step == PlanStep::Signing);
        flags.push(Flag::warning(
            "close_plan.no_project_start",
            Message::new(if signing { "flag.close_plan.stops_at_signing" } else { "flag.close_plan.no_signing_nor_start" }),
            vec![("items", Figure::Count(plan.items.len() as i64))],
        ));
    }
    flags
}

// ---------------------------------------------------------------------------------------------
// Approval checklist

text_enum! {
    /// How the customer's approval (품의 결재) travels.
    ApprovalForm { Electronic => "electronic", Paper => "paper", Verbal => "verbal" }
    expected "one of electronic, paper, verbal"
}

text_enum! {
    /// The body whose resolution the purchase needs.
    MeetingBody { Board => "board", Management => "management" }
    expected "board or management"
}

/// A person in the approval chain; linked to a contact when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalPerson {
    pub contact_id: Option<ContactId>,
    pub name: String,
}

/// The meeting whose resolution the deal needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalMeeting {
    pub body: MeetingBody,
    pub date: Date,
    /// The last day the papers may be submitted for `date`.
    pub submission_deadline: Date,
    /// When the papers went in, once they have.
    pub submitted_on: Option<Date>,
}

/// Seed 003's stage-5 checkpoints. `None` means not found out yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApprovalChecklist {
    /// Who the customer says approves.
    pub named_approver: Option<ApprovalPerson>,
    /// Who really decides (an executive may sign whatever the department head decided).
    pub real_approver: Option<ApprovalPerson>,
    /// Who signs the purchase order; may differ from the approver.
    pub po_signer: Option<ApprovalPerson>,
    /// Departments other than the budget holder that hold power over the purchase.
    pub departments_with_power: Vec<String>,
    pub form: Option<ApprovalForm>,
    /// Whether a board or management resolution is needed.
    pub meeting_needed: Option<bool>,
    pub meeting: Option<ApprovalMeeting>,
    /// The customer's calendar of the body's regular meetings (dates only: each one's papers
    /// are due as many days before it as the planned meeting's). A missed deadline slips the
    /// approval to the first of these that can still take the papers; see [`approval_outlook`].
    /// [`Workspace::validated`] sorts it and drops repeats.
    pub meeting_calendar: Vec<Date>,
    /// Who writes the approval draft (기안자).
    pub drafter: Option<ApprovalPerson>,
    /// Whether the drafter has passed an approval of this amount before.
    pub drafter_passed_amount_before: Option<bool>,
    /// When the customer started preparing the approval draft (stage 4's exit).
    pub draft_started_on: Option<Date>,
}

/// When the approval can happen, given the submission deadline and the meeting calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalOutlook {
    /// The papers went in after the deadline, or are not in and the deadline has passed.
    pub deadline_missed: bool,
    /// The first meeting that can approve the deal, with the day its papers are due; `None`
    /// when the calendar has no such meeting.
    pub earliest_meeting: Option<(Date, Date)>,
}

/// Works out the earliest meeting that can approve the deal.
///
/// Rule: the papers count as submitted on `submitted_on`, or today when they are not in yet.
/// The planned meeting can approve when that day is on or before its deadline. Otherwise the
/// approval slips to the first later meeting in `calendar` (the body's regular meeting dates,
/// any order) whose deadline, taken as the same number of days before the meeting as the planned
/// one's, is on or after that day. `None` when no meeting is planned.
pub fn approval_outlook(checklist: &ApprovalChecklist, today: Date, calendar: &[Date]) -> Option<ApprovalOutlook> {
    let meeting = checklist.meeting.as_ref()?;
    let lead_days = days_between(meeting.submission_deadline, meeting.date).max(0);
    let submission = meeting.submitted_on.unwrap_or(today);
    let deadline_missed = submission > meeting.submission_deadline;
    if !deadline_missed {
        return Some(ApprovalOutlook { deadline_missed, earliest_meeting: Some((meeting.date, meeting.submission_deadline)) });
    }
    let mut later: Vec<Date> = calendar.iter().copied().filter(|date| *date > meeting.date).collect();
    later.sort();
    later.dedup();
    let earliest_meeting = later.into_iter().map(|date| (date, add_days(date, -lead_days))).find(|(_, deadline)| *deadline >= submission);
    Some(ApprovalOutlook { deadline_missed, earliest_meeting })
}

fn same_person(a: &ApprovalPerson, b: &ApprovalPerson) -> bool {
    match (a.contact_id, b.contact_id) {
        (Some(a), Some(b)) => a == b,
        _ => a.name.trim().to_lowercase() == b.name.trim().to_lowercase(),
    }
}

/// The approval checklist's flags.
///
/// - `approval.deadline_missed`: see [`approval_outlook`]; says where the approval slips to,
///   or that no later meeting is in the calendar.
/// - `approval.close_date_before_meeting`: the close date is before the earliest meeting that
///   can approve the deal.
/// - `approval.drafter_first_time`: the drafter has not passed this amount before.
/// - `approval.real_approver_differs` (info): the named approver is not the real one.
pub fn approval_flags(checklist: &ApprovalChecklist, close_date: Option<Date>, today: Date, calendar: &[Date]) -> Vec<Flag> {
    let mut flags = Vec::new();
    if let (Some(meeting), Some(outlook)) = (&checklist.meeting, approval_outlook(checklist, today, calendar)) {
        let body = term("meeting_body", meeting.body.as_str());
        if outlook.deadline_missed {
            let deadline = meeting.submission_deadline;
            let date = meeting.date;
            let when = match meeting.submitted_on {
                Some(submitted) => Message::new("flag.approval.submitted_on").text("date", submitted),
                None => Message::new("flag.approval.not_submitted").text("today", today),
            };
            let next = match outlook.earliest_meeting {
                Some((next, submit_by)) => {
                    Message::new("flag.approval.slips_to").term("body", &body).text("date", next).text("deadline", submit_by)
                }
                None => Message::new("flag.approval.no_later_meeting").term("body", &body),
            };
            let mut figures = vec![("submission_deadline", Figure::Date(deadline)), ("meeting_date", Figure::Date(date))];
            if let Some((next, submit_by)) = outlook.earliest_meeting {
                figures.push(("next_meeting", Figure::Date(next)));
                figures.push(("next_submission_deadline", Figure::Date(submit_by)));
            }
            flags.push(Flag::warning(
                "approval.deadline_missed",
                Message::new("flag.approval.deadline_missed")
                    .text("deadline", deadline)
                    .term("body", &body)
                    .text("date", date)
                    .message("when", when)
                    .message("next", next),
                figures,
            ));
        }
        if let (Some(close), Some((earliest, _))) = (close_date, outlook.earliest_meeting)
            && close < earliest
        {
            let days_short = days_between(close, earliest);
            flags.push(Flag::warning(
                "approval.close_date_before_meeting",
                Message::new("flag.approval.close_date_before_meeting")
                    .text("close", close)
                    .text("days", days_short)
                    .term("body", &body)
                    .text("earliest", earliest),
                vec![
                    ("close_date", Figure::Date(close)),
                    ("earliest_meeting", Figure::Date(earliest)),
                    ("days_short", Figure::Days(days_short)),
                ],
            ));
        }
    }
    if checklist.drafter_passed_amount_before == Some(false) {
        let (message, name) = match &checklist.drafter {
            Some(drafter) => (Message::new("flag.approval.drafter_first_time").text("name", &drafter.name), drafter.name.as_str()),
            None => (Message::new("flag.approval.unnamed_drafter_first_time"), "the drafter"),
        };
        flags.push(Flag::warning("approval.drafter_first_time", message, vec![("drafter", Figure::Text(name.to_owned()))]));
    }
    if let (Some(named), Some(real)) = (&checklist.named_approver, &checklist.real_approver)
        && !same_person(named, real)
    {
        flags.push(Flag::info(
            "approval.real_approver_differs",
            Message::new("flag.approval.real_approver_differs").text("named", &named.name).text("real", &real.name),
            vec![("named_approver", Figure::Text(named.name.clone())), ("real_approver", Figure::Text(real.name.clone()))],
        ));
    }
    flags
}

// ---------------------------------------------------------------------------------------------
// The whole workspace

/// Everything SPEC C3 keeps on one opportunity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workspace {
    pub bant: Bant,
    pub four_box: FourBox,
    pub stakeholders: Vec<Stakeholder>,
    pub competitors: Vec<CompetitorAssessment>,
    pub close_plan: ClosePlan,
    pub approval: ApprovalChecklist,
}

/// What the flags need besides the workspace; all of it is computed by callers from stored data.
#[derive(Clone, Debug)]
pub struct FlagInputs<'a> {
    pub today: Date,
    pub close_date: Option<Date>,
    /// Activities per contact on this deal.
    pub activity_by_contact: &'a BTreeMap<ContactId, u32>,
    /// Contacts the deal has had at least one meeting with.
    pub contacts_met: &'a BTreeSet<ContactId>,
    /// The deal is past stage 1 (see `gates::has_reached`).
    pub past_stage_1: bool,
    /// The deal is leaving or past stage 2 (see `gates::has_reached`).
    pub stage_2_ended: bool,
    /// The deal is in stage 4 (final negotiation) or later.
    pub reached_final_negotiation: bool,
    /// The dates of the approval body's regular meetings; callers pass the checklist's
    /// stored [`ApprovalChecklist::meeting_calendar`].
    pub meeting_calendar: &'a [Date],
}

/// Every flag of every part, in the order of the parts.
pub fn workspace_flags(workspace: &Workspace, inputs: &FlagInputs<'_>) -> Vec<Flag> {
    let mut flags = bant_flags(&workspace.bant);
    flags.extend(four_box_flags(&workspace.four_box, inputs.past_stage_1));
    flags.extend(stakeholder_flags(&workspace.stakeholders, inputs.activity_by_contact, inputs.contacts_met, inputs.stage_2_ended));
    flags.extend(competition_flags(&workspace.competitors));
    flags.extend(close_plan_flags(&workspace.close_plan, inputs.today, inputs.reached_final_negotiation));
    flags.extend(approval_flags(&workspace.approval, inputs.close_date, inputs.today, inputs.meeting_calendar));
    flags
}

text_enum! {
    /// The parts of the workspace, each edited and tracked in history on its own.
    WorkspacePartName {
        Bant => "bant",
        FourBox => "four_box",
        Stakeholders => "stakeholders",
        Competitors => "competitors",
        ClosePlan => "close_plan",
        Approval => "approval",
    }
    expected "one of bant, four_box, stakeholders, competitors, close_plan, approval"
}

/// A new value for one part of the workspace: what one edit writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkspacePart {
    Bant(Bant),
    FourBox(FourBox),
    Stakeholders(Vec<Stakeholder>),
    Competitors(Vec<CompetitorAssessment>),
    ClosePlan(ClosePlan),
    Approval(ApprovalChecklist),
}

impl WorkspacePart {
    pub fn name(&self) -> WorkspacePartName {
        match self {
            WorkspacePart::Bant(_) => WorkspacePartName::Bant,
            WorkspacePart::FourBox(_) => WorkspacePartName::FourBox,
            WorkspacePart::Stakeholders(_) => WorkspacePartName::Stakeholders,
            WorkspacePart::Competitors(_) => WorkspacePartName::Competitors,
            WorkspacePart::ClosePlan(_) => WorkspacePartName::ClosePlan,
            WorkspacePart::Approval(_) => WorkspacePartName::Approval,
        }
    }

    /// The part `name` of `workspace`, as an edit would write it.
    pub fn of(workspace: &Workspace, name: WorkspacePartName) -> WorkspacePart {
        match name {
            WorkspacePartName::Bant => WorkspacePart::Bant(workspace.bant.clone()),
            WorkspacePartName::FourBox => WorkspacePart::FourBox(workspace.four_box.clone()),
            WorkspacePartName::Stakeholders => WorkspacePart::Stakeholders(workspace.stakeholders.clone()),
            WorkspacePartName::Competitors => WorkspacePart::Competitors(workspace.competitors.clone()),
            WorkspacePartName::ClosePlan => WorkspacePart::ClosePlan(workspace.close_plan.clone()),
            WorkspacePartName::Approval => WorkspacePart::Approval(workspace.approval.clone()),
        }
    }

    /// Replaces the part in `workspace`.
    pub fn apply_to(self, workspace: &mut Workspace) {
        match self {
            WorkspacePart::Bant(bant) => workspace.bant = bant,
            WorkspacePart::FourBox(four_box) => workspace.four_box = four_box,
            WorkspacePart::Stakeholders(stakeholders) => workspace.stakeholders = stakeholders,
            WorkspacePart::Competitors(competitors) => workspace.competitors = competitors,
            WorkspacePart::ClosePlan(close_plan) => workspace.close_plan = close_plan,
            WorkspacePart::Approval(approval) => workspace.approval = approval,
        }
    }
}

impl Workspace {
    /// Trims text and checks every limit and rule, reporting all problems against
    /// `opportunity`: texts are bounded and free of control characters, scales are 1–5, a
    /// contact is on the map once, a close plan is agreed only after it is shared, a meeting's
    /// deadline is not after the meeting. The meeting calendar comes back sorted, without repeats.
    pub fn validated(mut self, opportunity: OpportunityId) -> Result<Workspace, ValidationErrors> {
        let record = RecordRef::new(OpportunityId::LABEL, opportunity.0);
        let mut errors = ValidationErrors::default();
        let note = |errors: &mut ValidationErrors, field: &'static str, value: &mut String, max: usize| {
            if let Some(checked) = errors.check(&record, field, text::optional(value, max, true)) {
                *value = checked.unwrap_or_default();
            }
        };
        let scale = |errors: &mut ValidationErrors, field: &'static str, value: u8| {
            if !SCALE.contains(&value) {
                errors.push(&record, field, Problem::OutOfRange { value: value.to_string(), range: "1 to 5" });
            }
        };
        for item in BantItem::ALL {
            note(&mut errors, "bant.note", &mut self.bant.entry_mut(*item).note, 2000);
        }
        note(&mut errors, "four_box.business_issue", &mut self.four_box.business_issue, 4000);
        note(&mut errors, "four_box.problem", &mut self.four_box.problem, 4000);
        note(&mut errors, "four_box.solution", &mut self.four_box.solution, 4000);
        note(&mut errors, "four_box.benefit_quantitative", &mut self.four_box.benefit_quantitative, 4000);
        note(&mut errors, "four_box.benefit_qualitative", &mut self.four_box.benefit_qualitative, 4000);
        let mut seen = BTreeSet::new();
        for stakeholder in &mut self.stakeholders {
            if !seen.insert(stakeholder.contact_id) {
                errors.push(
                    &record,
                    "stakeholders.contact_id",
                    Problem::Fact(Message::new("rule.stakeholder_twice").text("contact", stakeholder.contact_id)),
                );
            }
            if let Some(name) = errors.check(&record, "stakeholders.name", text::required(&stakeholder.name, 200)) {
                stakeholder.name = name;
            }
            scale(&mut errors, "stakeholders.rank", stakeholder.rank);
            scale(&mut errors, "stakeholders.influence", stakeholder.influence);
            note(&mut errors, "stakeholders.influence_evidence", &mut stakeholder.influence_evidence, 2000);
        }
        for assessment in &mut self.competitors {
            if let Some(name) = errors.check(&record, "competitors.competitor", text::required(&assessment.competitor, 200)) {
                assessment.competitor = name;
            }
            if let Some(key_person) = &assessment.key_person {
                assessment.key_person = errors.check(&record, "competitors.key_person", text::optional(key_person, 200, false)).flatten();
            }
            for criterion in &mut assessment.criteria {
                if let Some(label) = errors.check(&record, "competitors.criteria.label", text::required(&criterion.label, 200)) {
                    criterion.label = label;
                }
                scale(&mut errors, "competitors.criteria.importance", criterion.importance);
                scale(&mut errors, "competitors.criteria.ours", criterion.ours);
                scale(&mut errors, "competitors.criteria.theirs", criterion.theirs);
                note(&mut errors, "competitors.criteria.note", &mut criterion.note, 2000);
            }
        }
        for item in &mut self.close_plan.items {
            if let Some(title) = errors.check(&record, "close_plan.title", text::required(&item.title, 200)) {
                item.title = title;
            }
            note(&mut errors, "close_plan.owner", &mut item.owner, 200);
        }
        match (self.close_plan.first_shared_on, self.close_plan.agreed_on) {
            (None, Some(_)) => errors.push(&record, "close_plan.agreed_on", Problem::Fact(Message::new("rule.plan_never_shared"))),
            (Some(shared), Some(agreed)) if agreed < shared => errors.push(
                &record,
                "close_plan.agreed_on",
                Problem::Fact(Message::new("rule.plan_agreed_before_shared").text("agreed", agreed).text("shared", shared)),
            ),
            _ => {}
        }
        let approval = &mut self.approval;
        for (field, person) in [
            ("approval.named_approver", &mut approval.named_approver),
            ("approval.real_approver", &mut approval.real_approver),
            ("approval.po_signer", &mut approval.po_signer),
            ("approval.drafter", &mut approval.drafter),
        ] {
            if let Some(person) = person
                && let Some(name) = errors.check(&record, field, text::required(&person.name, 200))
            {
                person.name = name;
            }
        }
        for department in &mut approval.departments_with_power {
            if let Some(name) = errors.check(&record, "approval.departments_with_power", text::required(department, 200)) {
                *department = name;
            }
        }
        approval.meeting_calendar.sort();
        approval.meeting_calendar.dedup();
        if let Some(meeting) = &approval.meeting {
            if meeting.submission_deadline > meeting.date {
                errors.push(
                    &record,
                    "approval.meeting.submission_deadline",
                    Problem::Fact(
                        Message::new("rule.deadline_after_meeting")
                            .text("deadline", meeting.submission_deadline)
                            .text("meeting", meeting.date),
                    ),
                );
            }
            if approval.meeting_needed == Some(false) {
                errors.push(&record, "approval.meeting", Problem::Fact(Message::new("rule.meeting_not_needed")));
            }
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::message::catalog::{en, en_errors, ko};

    pub(crate) fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    pub(crate) fn stakeholder(id: i64, name: &str, level: Level, rank: u8, influence: u8) -> Stakeholder {
        Stakeholder {
            contact_id: ContactId(id),
            name: name.into(),
            buying_role: BuyingRole::Influencer,
            level,
            rank,
            influence,
            influence_evidence: String::new(),
        }
    }

    fn codes(flags: &[Flag]) -> Vec<&'static str> {
        flags.iter().map(|flag| flag.code).collect()
    }

    #[test]
    fn four_box_flags_a_story_without_business_issue() {
        let mut story = FourBox { problem: "no battle cards".into(), solution: "web-visit alerts".into(), ..Default::default() };
        assert_eq!(codes(&four_box_flags(&story, true)), ["four_box.no_business_issue", "four_box.no_benefit"]);
        story.business_issue = "win rate against the rival is falling".into();
        story.benefit_qualitative = "reps reach visitors first".into();
        assert!(four_box_flags(&story, true).is_empty());
        assert!(four_box_flags(&FourBox::default(), false).is_empty(), "an empty story in stage 1 is not yet a jump to the solution");
        // Past stage 1 with nothing written: the story is missing.
        let empty = four_box_flags(&FourBox::default(), true);
        assert_eq!(codes(&empty), ["four_box.empty"]);
        assert_eq!(
            en(&empty[0].message),
            "the deal is past stage 1 and its four-box is empty: write down the customer's business issue, problem, solution and benefit"
        );
    }

    #[test]
    fn bant_not_a_fit_is_flagged() {
        let mut bant = Bant::default();
        assert!(bant_flags(&bant).is_empty());
        bant.budget = BantEntry { status: BantStatus::NotAFit, note: "no budget this year".into() };
        let flags = bant_flags(&bant);
        assert_eq!(en(&flags[0].message), "BANT budget is not a fit (no budget this year): drop or requalify the deal");
        assert_eq!(ko(&flags[0].message), "BANT 예산: 부적합 (no budget this year) — 안건을 정리하거나 다시 검증하세요");
    }

    #[test]
    fn stakeholder_quadrant_places_people_by_rank_and_influence() {
        let map = [
            stakeholder(1, "김민준", Level::Staff, 1, 2),
            stakeholder(2, "박서연", Level::Executive, 5, 2),
            stakeholder(3, "이도윤", Level::Staff, 2, 4),
            stakeholder(4, "최지우", Level::DepartmentHead, 3, 3),
        ];
        let activity = BTreeMap::from([(ContactId(1), 7), (ContactId(3), 2)]);
        let chart = stakeholder_quadrant(&map, &activity);
        let cells: Vec<(i32, i32, u32, Cell)> = chart.points.iter().map(|point| (point.x, point.y, point.weight, point.cell)).collect();
        // 3 is the first high value on both axes, so (3, 3) is upper-right.
        assert_eq!(
            cells,
            [(1, 2, 7, Cell::LowerLeft), (5, 2, 0, Cell::LowerRight), (2, 4, 2, Cell::UpperLeft), (3, 3, 0, Cell::UpperRight)]
        );
        assert_eq!(ko(&Message::new(chart.x_axis.label)), "직급");
    }

    #[test]
    fn low_power_activity_share() {
        let map = [stakeholder(1, "김민준", Level::Staff, 1, 2), stakeholder(2, "박서연", Level::Executive, 5, 4)];
        let none = BTreeSet::new();
        // 7 of 10 mapped activities with 김민준 (lower-left): 70% > 60%. The 5 with contact 9,
        // who is not on the map, count in neither side.
        let activity = BTreeMap::from([(ContactId(1), 7), (ContactId(2), 3), (ContactId(9), 5)]);
        let flags = stakeholder_flags(&map, &activity, &none, false);
        assert_eq!(codes(&flags), ["stakeholders.low_power_activity"]);
        assert_eq!(
            en(&flags[0].message),
            "70.0% of the activity (7 of 10) is with low-rank, low-influence people (김민준); more than 60%: reach the people with power"
        );
        assert_eq!(flags[0].figure("unmapped_activity"), Some(&Figure::Count(5)));
        // 6 of 10 is exactly 60%: not more than the threshold, no flag.
        let activity = BTreeMap::from([(ContactId(1), 6), (ContactId(2), 4)]);
        assert!(stakeholder_flags(&map, &activity, &none, false).is_empty());
        // No activity at all: nothing to judge, as the map has someone with power on it.
        assert!(stakeholder_flags(&map, &BTreeMap::new(), &none, false).is_empty());
        // A map of low-rank, low-influence people alone warns before any activity is logged.
        let low = [stakeholder(1, "김민준", Level::Staff, 1, 2), stakeholder(3, "이서준", Level::Staff, 2, 1)];
        let flags = stakeholder_flags(&low, &BTreeMap::new(), &none, false);
        assert_eq!(codes(&flags), ["stakeholders.only_low_power"]);
        assert_eq!(
            en(&flags[0].message),
            "everyone on the map (2: 김민준, 이서준) is low-rank and low-influence: find the people with power before the work starts"
        );
        assert_eq!(
            ko(&flags[0].message),
            "관계도의 2명(김민준, 이서준) 모두 직급과 영향력이 낮음: 본격적인 활동 전에 영향력 있는 사람을 찾으세요"
        );
        // Once activity is logged, the share rule judges instead.
        let activity = BTreeMap::from([(ContactId(1), 1)]);
        assert_eq!(codes(&stakeholder_flags(&low, &activity, &none, false)), ["stakeholders.low_power_activity"]);
    }

    #[test]
    fn no_executive_met_by_the_end_of_stage_2() {
        let map = [stakeholder(1, "김민준", Level::Staff, 1, 2), stakeholder(2, "박서연", Level::Executive, 5, 4)];
        let activity = BTreeMap::new();
        let met_staff = BTreeSet::from([ContactId(1)]);
        let flags = stakeholder_flags(&map, &activity, &met_staff, true);
        assert_eq!(codes(&flags), ["stakeholders.no_executive_met"]);
        assert_eq!(
            en(&flags[0].message),
            "no executive has been met by the end of stage 2 (executives on the map, none met: 박서연): \
             meet management early, not at the final negotiation"
        );
        // Still in stage 2: too early to flag.
        assert!(stakeholder_flags(&map, &activity, &met_staff, false).is_empty());
        // The executive was met.
        assert!(stakeholder_flags(&map, &activity, &BTreeSet::from([ContactId(2)]), true).is_empty());
        // No executive on the map at all.
        let flags = stakeholder_flags(&map[..1], &activity, &met_staff, true);
        // (A map of one staff member, with no activity yet, is also all low power.)
        assert_eq!(codes(&flags), ["stakeholders.only_low_power", "stakeholders.no_executive_met"]);
        assert_eq!(flags[1].figure("executives_on_map"), Some(&Figure::Count(0)));
    }

    fn criterion(label: &str, importance: u8, ours: u8, theirs: u8) -> CompetitiveCriterion {
        CompetitiveCriterion { label: label.into(), importance, ours, theirs, note: String::new() }
    }

    #[test]
    fn competitive_quadrant_and_selection_criteria() {
        let assessment = CompetitorAssessment {
            competitor: "Rival CRM".into(),
            key_person: Some("이도윤".into()),
            criteria: vec![
                criterion("ease of use", 2, 5, 3),       // (2, +2): upper-left, strong where it does not matter
                criterion("API freedom", 5, 4, 2),       // (5, +2): upper-right
                criterion("price", 4, 2, 4),             // (4, -2): lower-right, their ground
                criterion("Korean support", 4, 5, 2),    // (4, +3): upper-right
                criterion("on-premise option", 5, 3, 3), // (5, 0): a tie is not an advantage
            ],
        };
        let chart = competitive_quadrant(&assessment);
        let cells: Vec<(i32, i32, Cell)> = chart.points.iter().map(|point| (point.x, point.y, point.cell)).collect();
        assert_eq!(
            cells,
            [
                (2, 2, Cell::UpperLeft),
                (5, 2, Cell::UpperRight),
                (4, -2, Cell::LowerRight),
                (4, 3, Cell::UpperRight),
                (5, 0, Cell::LowerRight)
            ]
        );
        // Importance first (5 before 4), then advantage.
        let proposed: Vec<&str> = proposed_selection_criteria(&assessment).iter().map(|criterion| criterion.label.as_str()).collect();
        assert_eq!(proposed, ["API freedom", "Korean support"]);
        assert!(competition_flags(std::slice::from_ref(&assessment)).is_empty());

        let weak = CompetitorAssessment {
            competitor: "Big Suite".into(),
            key_person: None,
            criteria: vec![criterion("ease of use", 2, 5, 3), criterion("price", 5, 2, 4)],
        };
        let flags = competition_flags(&[assessment, weak]);
        assert_eq!(codes(&flags), ["competition.no_differentiator"]);
        assert_eq!(
            en(&flags[0].message),
            "against Big Suite, none of the 2 criteria is both important to the customer (4 or 5) and stronger on our side: \
             there is no selection criterion to propose"
        );
        let unscored = CompetitorAssessment { competitor: "Newcomer".into(), key_person: None, criteria: vec![] };
        assert!(competition_flags(&[unscored]).is_empty(), "a competitor with no criteria is not assessed yet");
    }

    #[test]
    fn vague_titles() {
        for vague in [
            "Decision",
            "final decision",
            "TBD",
            "follow-up",
            "Follow up",
            "최종 결정",
            "의사결정",
            "의사 결정",
            "Customer approval",
            "next steps",
        ] {
            assert_eq!(vague_title(vague), Some(VagueTitle::OnlyVagueWords), "{vague}");
        }
        assert_eq!(vague_title("PO"), Some(VagueTitle::TooShort { chars: 2 }));
        assert_eq!(vague_title("발주"), Some(VagueTitle::TooShort { chars: 2 }));
        for concrete in
            ["Board approval", "이사회 승인", "본부장 승인", "구매 부서 발주", "Purchasing places the order", "Security review by IT"]
        {
            assert_eq!(vague_title(concrete), None, "{concrete}");
        }
    }

    fn item(side: Side, title: &str, target: Option<&str>, done: Option<&str>, step: PlanStep) -> ClosePlanItem {
        ClosePlanItem { side, owner: "정하늘".into(), title: title.into(), target_date: target.map(date), done_on: done.map(date), step }
    }

    #[test]
    fn close_plan_flags_each_with_a_case_that_does_not() {
        let today = date("2026-03-20");
        let good = ClosePlan {
            items: vec![
                item(Side::Us, "Proposal to division head", Some("2026-03-01"), Some("2026-03-02"), PlanStep::Task),
                item(Side::Customer, "본부장 승인", Some("2026-03-25"), None, PlanStep::Task),
                item(Side::Customer, "Purchasing places the order", Some("2026-04-10"), None, PlanStep::Signing),
                item(Side::Us, "Project kick-off", Some("2026-05-01"), None, PlanStep::ProjectStart),
            ],
            first_shared_on: Some(date("2026-02-20")),
            agreed_on: Some(date("2026-02-27")),
        };
        assert!(close_plan_flags(&good, today, true).is_empty());

        let bad = ClosePlan {
            items: vec![
                // Due 2026-03-12, not done, today 2026-03-20: 8 days late.
                item(Side::Customer, "이사회 승인", Some("2026-03-12"), None, PlanStep::Task),
                item(Side::Customer, "Decision", None, None, PlanStep::Signing),
            ],
            first_shared_on: None,
            agreed_on: None,
        };
        let flags = close_plan_flags(&bad, today, true);
        assert_eq!(
            codes(&flags),
            [
                "close_plan.late_item",
                "close_plan.vague_title",
                "close_plan.no_target_date",
                "close_plan.not_shared",
                "close_plan.no_project_start"
            ]
        );
        assert_eq!(en(&flags[0].message), "close-plan item 1 \"이사회 승인\" (customer, 정하늘) was due 2026-03-12 and is 8 days late");
        assert_eq!(ko(&flags[0].message), "클로즈 플랜 1번 \"이사회 승인\" (고객, 정하늘) 목표일 2026-03-12에서 8일 지연");
        assert_eq!(flags[0].figure("days_late"), Some(&Figure::Days(8)));
        assert_eq!(
            en(&flags[1].message),
            "close-plan item 2 \"Decision\" says nothing concrete: name the step, e.g. \"board approval\" or \"purchasing places the order\""
        );
        assert_eq!(en(&flags[4].message), "the close plan stops at signing: carry it on to project start");
        // Before stage 4 an unshared plan is not yet a problem; a done item is never late.
        let mut early = bad.clone();
        early.items[0].done_on = Some(date("2026-03-13"));
        assert_eq!(
            codes(&close_plan_flags(&early, today, false)),
            ["close_plan.vague_title", "close_plan.no_target_date", "close_plan.no_project_start"]
        );
        // Due today is not late.
        let mut due_today = good.clone();
        due_today.items[1].target_date = Some(today);
        assert!(close_plan_flags(&due_today, today, true).is_empty());
        // An empty plan raises only "not shared" once the deal is in stage 4.
        assert_eq!(codes(&close_plan_flags(&ClosePlan::default(), today, true)), ["close_plan.not_shared"]);
    }

    fn board(date_text: &str, deadline: &str, submitted: Option<&str>) -> ApprovalChecklist {
        ApprovalChecklist {
            meeting_needed: Some(true),
            meeting: Some(ApprovalMeeting {
                body: MeetingBody::Board,
                date: date(date_text),
                submission_deadline: date(deadline),
                submitted_on: submitted.map(date),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn missed_deadline_slips_to_the_next_meeting() {
        // Board meets on the third Tuesday; papers are due 7 days before.
        let calendar = [date("2026-03-17"), date("2026-04-21"), date("2026-05-19")];
        let checklist = board("2026-03-17", "2026-03-10", None);
        // Today 2026-03-12, nothing submitted: the 03-10 deadline is missed; the April meeting's
        // papers are due 2026-04-21 - 7 = 2026-04-14, still ahead.
        let flags = approval_flags(&checklist, None, date("2026-03-12"), &calendar);
        assert_eq!(codes(&flags), ["approval.deadline_missed"]);
        assert_eq!(
            en(&flags[0].message),
            "the submission deadline 2026-03-10 for the board meeting on 2026-03-17 was missed (the papers are not in as of 2026-03-12); \
             approval slips to the next board meeting on 2026-04-21 (papers due 2026-04-14)"
        );
        assert_eq!(
            ko(&flags[0].message),
            "2026-03-17 이사회의 자료 제출 마감 2026-03-10을 놓침 (2026-03-12 현재 미제출); 승인이 다음 이사회(2026-04-21, 제출 마감 2026-04-14)로 넘어감"
        );
        // Submitted on the deadline day: in time, no flag.
        assert!(approval_flags(&board("2026-03-17", "2026-03-10", Some("2026-03-10")), None, date("2026-03-12"), &calendar).is_empty());
        // Submitted 2026-04-15, a day after April's deadline too: slips to May.
        let outlook = approval_outlook(&board("2026-03-17", "2026-03-10", Some("2026-04-15")), date("2026-04-16"), &calendar).unwrap();
        assert_eq!(outlook.earliest_meeting, Some((date("2026-05-19"), date("2026-05-12"))));
        // Nothing later in the calendar.
        let flags = approval_flags(&checklist, None, date("2026-05-20"), &calendar);
        assert!(en(&flags[0].message).ends_with(
            "no later board meeting is in the calendar: ask whether an extraordinary meeting or an individual briefing can decide"
        ));
    }

    #[test]
    fn close_date_must_fit_the_meeting_calendar() {
        let calendar = [date("2026-03-17"), date("2026-04-21")];
        let checklist = board("2026-03-17", "2026-03-10", None);
        // In time for March: a close date of 2026-03-31 fits.
        assert!(approval_flags(&checklist, Some(date("2026-03-31")), date("2026-03-01"), &calendar).is_empty());
        // A close date of 2026-03-16 is the day before the meeting that approves it.
        let flags = approval_flags(&checklist, Some(date("2026-03-16")), date("2026-03-01"), &calendar);
        assert_eq!(codes(&flags), ["approval.close_date_before_meeting"]);
        assert_eq!(flags[0].figure("days_short"), Some(&Figure::Days(1)));
        // Missed March: approval in April, so 2026-03-31 no longer fits (21 days short).
        let flags = approval_flags(&checklist, Some(date("2026-03-31")), date("2026-03-11"), &calendar);
        assert_eq!(codes(&flags), ["approval.deadline_missed", "approval.close_date_before_meeting"]);
        assert_eq!(
            en(&flags[1].message),
            "the close date 2026-03-31 is 21 days before the earliest board meeting that can approve the deal (2026-04-21): \
             the close date does not fit the meeting calendar"
        );
    }

    #[test]
    fn the_stored_meeting_calendar_decides_where_a_missed_deadline_slips() {
        // The calendar is stored on the checklist, out of order and with a repeat; validation
        // tidies it and the flags read it through `FlagInputs`.
        let mut approval = board("2026-03-17", "2026-03-10", None);
        approval.meeting_calendar = vec![date("2026-05-19"), date("2026-04-21"), date("2026-04-21")];
        let workspace = Workspace { approval, ..Default::default() }.validated(OpportunityId(1)).unwrap();
        assert_eq!(workspace.approval.meeting_calendar, [date("2026-04-21"), date("2026-05-19")]);
        let (activity, met) = (BTreeMap::new(), BTreeSet::new());
        let flags_for = |close_date: &str, today: &str| {
            let inputs = FlagInputs {
                today: date(today),
                close_date: Some(date(close_date)),
                activity_by_contact: &activity,
                contacts_met: &met,
                past_stage_1: false,
                stage_2_ended: false,
                reached_final_negotiation: false,
                meeting_calendar: &workspace.approval.meeting_calendar,
            };
            workspace_flags(&workspace, &inputs)
        };
        // Missed March's deadline: approval slips to the next stored meeting (April 21, papers
        // due April 14), and a close date of April 20 is a day before it.
        let flags = flags_for("2026-04-20", "2026-03-12");
        assert_eq!(codes(&flags), ["approval.deadline_missed", "approval.close_date_before_meeting"]);
        assert_eq!(flags[0].figure("next_meeting"), Some(&Figure::Date(date("2026-04-21"))));
        assert_eq!(flags[0].figure("next_submission_deadline"), Some(&Figure::Date(date("2026-04-14"))));
        assert_eq!(flags[1].figure("earliest_meeting"), Some(&Figure::Date(date("2026-04-21"))));
        assert_eq!(flags[1].figure("days_short"), Some(&Figure::Days(1)));
        // A close date after April's meeting fits: only the slip itself is flagged.
        assert_eq!(codes(&flags_for("2026-04-30", "2026-03-12")), ["approval.deadline_missed"]);
        // Without a stored calendar there is nowhere to slip to, and nothing to judge the close date by.
        let bare = Workspace { approval: board("2026-03-17", "2026-03-10", None), ..Default::default() };
        let inputs = FlagInputs {
            today: date("2026-03-12"),
            close_date: Some(date("2026-04-20")),
            activity_by_contact: &activity,
            contacts_met: &met,
            past_stage_1: false,
            stage_2_ended: false,
            reached_final_negotiation: false,
            meeting_calendar: &bare.approval.meeting_calendar,
        };
        let flags = workspace_flags(&bare, &inputs);
        assert_eq!(codes(&flags), ["approval.deadline_missed"]);
        assert!(en(&flags[0].message).ends_with(
            "no later board meeting is in the calendar: ask whether an extraordinary meeting or an individual briefing can decide"
        ));
    }

    #[test]
    fn drafter_and_real_approver() {
        let person = |name: &str| Some(ApprovalPerson { contact_id: None, name: name.into() });
        let mut checklist = ApprovalChecklist {
            drafter: person("이지훈"),
            drafter_passed_amount_before: Some(false),
            named_approver: person("최 전무"),
            real_approver: person("정 부장"),
            ..Default::default()
        };
        let flags = approval_flags(&checklist, None, date("2026-03-01"), &[]);
        assert_eq!(codes(&flags), ["approval.drafter_first_time", "approval.real_approver_differs"]);
        assert_eq!(ko(&flags[0].message), "기안자(이지훈)가 같은 금액의 결재를 통과시킨 경험이 없음: 결재 프로세스를 함께 확인하세요");
        assert_eq!(flags[1].severity, Severity::Info);
        checklist.drafter_passed_amount_before = Some(true);
        checklist.real_approver = person(" 최 전무 ");
        assert!(approval_flags(&checklist, None, date("2026-03-01"), &[]).is_empty());
        checklist.drafter_passed_amount_before = None;
        assert!(approval_flags(&checklist, None, date("2026-03-01"), &[]).is_empty(), "unknown is asked by the gate, not flagged");
    }

    #[test]
    fn validation_reports_every_problem() {
        let mut workspace = Workspace {
            stakeholders: vec![stakeholder(1, " 김민준 ", Level::Staff, 0, 6), stakeholder(1, "김민준", Level::Staff, 1, 1)],
            close_plan: ClosePlan { agreed_on: Some(date("2026-03-01")), ..Default::default() },
            approval: board("2026-03-17", "2026-03-20", None),
            ..Default::default()
        };
        let errors = workspace.clone().validated(OpportunityId(9)).unwrap_err();
        assert_eq!(
            en_errors(&errors),
            "opportunity 9: stakeholders.rank: 0 is out of range (1 to 5); \
             opportunity 9: stakeholders.influence: 6 is out of range (1 to 5); \
             opportunity 9: stakeholders.contact_id: contact 1 is on the stakeholder map twice; \
             opportunity 9: close_plan.agreed_on: the customer cannot agree to a close plan that was never shared; \
             opportunity 9: approval.meeting.submission_deadline: the deadline 2026-03-20 is after the meeting on 2026-03-17"
        );
        workspace.stakeholders.truncate(1);
        workspace.stakeholders[0].rank = 1;
        workspace.stakeholders[0].influence = 2;
        workspace.close_plan.first_shared_on = Some(date("2026-02-01"));
        workspace.approval = board("2026-03-17", "2026-03-10", None);
        let valid = workspace.validated(OpportunityId(9)).unwrap();
        assert_eq!(valid.stakeholders[0].name, "김민준");
    }

    #[test]
    fn day_arithmetic() {
        assert_eq!(days_between(date("2026-02-27"), date("2026-03-02")), 3);
        assert_eq!(days_between(date("2026-03-02"), date("2026-02-27")), -3);
        assert_eq!(add_days(date("2026-04-21"), -7), date("2026-04-14"));
        assert_eq!(add_days(date("2028-02-28"), 1), date("2028-02-29"));
    }
}
