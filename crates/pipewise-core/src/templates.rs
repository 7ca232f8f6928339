//! The two pipeline templates a new organisation starts from, numbered and named as the seeds
//! name them: "B2B (The Model)" from seed 003 and "Simple" from seed 002.

use rust_decimal::Decimal;

use crate::gates::{ApprovalFact, CriterionKind, CriterionOrigin, ExitCriterion, NewExitCriterion, Predicate};
use crate::id::{PipelineId, StageId};
use crate::opportunity::OppField;
use crate::pipeline::{ForecastCategory, NewPipeline, NewStage, Pipeline, Stage, StageKind};
use crate::workspace::{BantItem, BantStatus, FourBoxPart};

fn stage(
    name_en: &str,
    name_ko: &str,
    kind: StageKind,
    win_probability: i64,
    forecast_category: ForecastCategory,
    counts_in_metrics: bool,
    rotting_days: Option<i32>,
) -> NewStage {
    NewStage {
        name_en: name_en.to_owned(),
        name_ko: name_ko.to_owned(),
        kind,
        win_probability: Decimal::from(win_probability),
        forecast_category,
        counts_in_metrics,
        rotting_days,
    }
}

/// Seed 003's B2B pipeline. Stage 1 sits between lead and deal: it is left out of pipeline
/// metrics and win rate. Its exit criteria come from [`b2b_exit_criteria`].
pub fn b2b_the_model() -> NewPipeline {
    use ForecastCategory::*;
    use StageKind::*;
    NewPipeline {
        name: "B2B (The Model)".to_owned(),
        stages: vec![
            stage("1 Pre-opportunity", "1 리드 이상, 상담 미만", Open, 5, Omitted, false, Some(30)),
            stage("2 Problem recognition", "2 비즈니스 과제의 인식", Open, 15, Pipeline, true, Some(45)),
            stage("3 Evaluation & selection", "3 평가와 선정", Open, 35, Pipeline, true, Some(45)),
            stage("4 Final negotiation", "4 최종 교섭과 의사 결정", Open, 65, BestCase, true, Some(30)),
            stage("5 Approval", "5 품의 결재", Open, 85, Commit, true, Some(21)),
            stage("Closed won", "수주", Won, 100, Closed, true, None),
            stage("Closed lost", "실주", Lost, 0, Omitted, true, None),
        ],
        entry_stage: 0,
    }
}

/// Seed 002's four stages plus the two outcomes.
pub fn simple() -> NewPipeline {
    use ForecastCategory::*;
    use StageKind::*;
    NewPipeline {
        name: "Simple".to_owned(),
        stages: vec![
            stage("Prospecting", "탐사", Open, 10, Pipeline, true, Some(30)),
            stage("Qualification", "자격", Open, 25, Pipeline, true, Some(30)),
            stage("Connecting", "연결", Open, 50, BestCase, true, Some(30)),
            stage("Closing", "폐쇄", Open, 80, Commit, true, Some(21)),
            stage("Won", "수주", Won, 100, Closed, true, None),
            stage("Lost", "실주", Lost, 0, Omitted, true, None),
        ],
        entry_stage: 0,
    }
}

impl NewPipeline {
    /// The pipeline as a store would hold it, with stage ids counting up from `first_stage_id`.
    /// For tests and pure computations that need a pipeline without a store.
    pub fn materialise(&self, id: PipelineId, first_stage_id: i64) -> Pipeline {
        let stages: Vec<Stage> = self
            .stages
            .iter()
            .enumerate()
            .map(|(index, new)| Stage {
                id: StageId(first_stage_id + index as i64),
                pipeline_id: id,
                position: index as i32,
                name_en: new.name_en.clone(),
                name_ko: new.name_ko.clone(),
                kind: new.kind,
                win_probability: new.win_probability,
                forecast_category: new.forecast_category,
                counts_in_metrics: new.counts_in_metrics,
                rotting_days: new.rotting_days,
                archived_at: None,
            })
            .collect();
        Pipeline { id, name: self.name.clone(), entry_stage_id: stages[self.entry_stage].id, stages }
    }
}

/// One template criterion: English label, Korean label, kind.
type TemplateCriterion = (&'static str, &'static str, CriterionKind);

/// Attaches `table[i]` to the stage at position `i` of `pipeline`; positions the pipeline does
/// not have (or that are not open) are skipped.
fn attach(pipeline: &Pipeline, table: Vec<Vec<TemplateCriterion>>) -> Vec<NewExitCriterion> {
    let mut criteria = Vec::new();
    for (position, stage_criteria) in table.into_iter().enumerate() {
        let Some(stage) = pipeline.stages.iter().find(|stage| stage.position == position as i32 && stage.kind == StageKind::Open) else {
            continue;
        };
        for (label_en, label_ko, kind) in stage_criteria {
            criteria.push(NewExitCriterion {
                stage_id: stage.id,
                label_en: label_en.to_owned(),
                label_ko: label_ko.to_owned(),
                kind,
                origin: CriterionOrigin::Template,
            });
        }
    }
    criteria
}

fn bant_at_least_partly(item: BantItem) -> Predicate {
    Predicate::Bant { item, statuses: vec![BantStatus::Partial, BantStatus::Confirmed] }
}

/// Seed 003's exit criteria (이행 판정 기준) for a pipeline materialised from [`b2b_the_model`],
/// attached by stage position (stage n at position n − 1), Korean labels in the seed's words.
///
/// 1. A business issue our product or service can solve (four-box business issue and solution
///    written); a decision needed within N days, N the team's average sales cycle.
/// 2. BANT captured (each item at least partly confirmed); detailed requirements confirmed
///    (checklist); demo or prototype verification started (checklist); comparison with
///    competitors started (a competitor scored on a criterion).
/// 3. Our product selected (checklist); an influential person identified (influence ≥ 4).
/// 4. Mutual close plan agreed with the customer; the customer starts the approval draft.
/// 5. Seed 003's approval checkpoints: real approver, purchase-order signer, approval form,
///    board or management meeting, the drafter's experience; and the amount is set.
pub fn b2b_exit_criteria(pipeline: &Pipeline) -> Vec<NewExitCriterion> {
    use CriterionKind::*;
    use Predicate as P;
    attach(
        pipeline,
        vec![
            vec![
                (
                    "A business issue our product or service can solve exists",
                    "자사 제품이나 서비스로 해결 가능한 비즈니스 과제가 있다",
                    Derived(P::All(vec![P::FourBoxFilled(FourBoxPart::BusinessIssue), P::FourBoxFilled(FourBoxPart::Solution)])),
                ),
                (
                    "A decision is needed within the team's average sales cycle",
                    "일정 기간(자사의 평균 상담 일수) 내에 의사 결정이 필요하다",
                    Derived(P::DecisionWithin { days: None }),
                ),
            ],
            vec![
                (
                    "BANT captured: budget, authority, need and timeframe",
                    "BANT 조건 확인: 예산, 결재권, 필요성, 도입 시기",
                    Derived(P::All(BantItem::ALL.iter().map(|item| bant_at_least_partly(*item)).collect())),
                ),
                ("Detailed requirements confirmed", "요건 상세 확인", Checklist),
                ("Verification by demo or prototype started", "데모, 프로토타입에 의한 검증 개시", Checklist),
                ("Comparison with competitors' products started", "타사 제품과의 비교 검토 개시", Derived(P::CompetitorAssessmentStarted)),
            ],
            vec![
                ("Our product is selected", "자사 제품이 선정된다", Checklist),
                (
                    "An influential person at the customer is identified",
                    "회사에서 영향력이 있는 사람을 특정한다",
                    Derived(P::StakeholderLinked { min_influence: 4, level: None }),
                ),
            ],
            vec![
                ("Mutual close plan agreed with the customer", "Mutual Close Plan을 고객과 상호 합의한다", Derived(P::ClosePlanAgreed)),
                (
                    "The customer's contact starts preparing the approval draft",
                    "고객 담당자가 품의 결재의 준비를 개시한다",
                    Derived(P::ApprovalDraftStarted),
                ),
            ],
            vec![
                (
                    "The real final approver is identified",
                    "실질적인 최종 승인자를 파악한다",
                    Derived(P::ApprovalKnown(ApprovalFact::RealApprover)),
                ),
                (
                    "The purchase-order signer is identified",
                    "발주서에 사인하는 사람을 파악한다",
                    Derived(P::ApprovalKnown(ApprovalFact::PoSigner)),
                ),
                (
                    "The approval form is known: electronic, paper or verbal",
                    "품의 결재 방식을 파악한다: 전자승인, 서류, 구두",
                    Derived(P::ApprovalKnown(ApprovalFact::Form)),
                ),
                (
                    "Board or management meeting: whether needed, its date and submission deadline",
                    "이사회나 경영 회의 결의 필요 여부, 개최 일시와 자료 제출 마감일을 파악한다",
                    Derived(P::ApprovalKnown(ApprovalFact::Meeting)),
                ),
                (
                    "Whether the drafter has passed this amount before is known",
                    "기안자가 과거에 같은 금액의 결재를 통과시킨 경험이 있는지 파악한다",
                    Derived(P::ApprovalKnown(ApprovalFact::DrafterExperience)),
                ),
                ("The deal's amount is set", "금액이 입력되어 있다", RequiredField(OppField::Amount)),
            ],
        ],
    )
}

/// Exit criteria for a pipeline materialised from [`simple`], from seed 002's qualification
/// questions, attached by stage position.
///
/// - Prospecting: the account is named; the customer fits our ideal customer profile.
/// - Qualification: budget and need at least partly confirmed; their expectations match what we
///   offer; they can succeed with our product, with the time and resources it takes; they are
///   worth our resources (long-term outlook, no foreseeable outside threat).
/// - Connecting: a contact at the customer is on the stakeholder map; amount and close date set.
/// - Closing: the customer's signature or order is received.
pub fn simple_exit_criteria(pipeline: &Pipeline) -> Vec<NewExitCriterion> {
    use CriterionKind::*;
    use Predicate as P;
    attach(
        pipeline,
        vec![
            vec![
                ("The customer's account is named", "고객사가 지정되어 있다", RequiredField(OppField::Account)),
                ("Fits our ideal customer profile", "이상적인 고객 프로필에 부합한다", Checklist),
            ],
            vec![
                (
                    "They have the budget and the need for our product",
                    "제품에 필요한 예산과 필요성이 있다",
                    Derived(P::All(vec![bant_at_least_partly(BantItem::Budget), bant_at_least_partly(BantItem::Need)])),
                ),
                ("Their expectations match what we offer", "그들의 기대가 우리가 제공하는 것과 일치한다", Checklist),
                (
                    "They can succeed with our product, with the time and resources it takes",
                    "필요한 시간과 자원을 들여 우리 제품으로 성공할 수 있는 위치에 있다",
                    Checklist,
                ),
                (
                    "Worth our resources: a long-term outlook and no foreseeable outside threat",
                    "장기적 전망이 있고 예측 가능한 외부 위협이 없어 우리 자원을 투자할 가치가 있다",
                    Checklist,
                ),
            ],
            vec![
                (
                    "A contact at the customer is on the stakeholder map",
                    "고객사 담당자가 이해관계자 지도에 있다",
                    Derived(P::StakeholderLinked { min_influence: 1, level: None }),
                ),
                ("The deal's amount is set", "금액이 입력되어 있다", RequiredField(OppField::Amount)),
                ("The close date is set", "예상 계약일이 입력되어 있다", RequiredField(OppField::CloseDate)),
            ],
            vec![("The customer's signature or order is received", "고객의 서명 또는 발주를 받았다", Checklist)],
        ],
    )
}

/// Gives `criteria` ids counting up from `first_id`, as a store would. For tests and pure
/// computations that need criteria without a store.
pub fn materialise_criteria(criteria: Vec<NewExitCriterion>, first_id: i64) -> Vec<ExitCriterion> {
    criteria.into_iter().enumerate().map(|(index, criterion)| criterion.with_id(first_id + index as i64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid_and_numbered_as_the_seeds() {
        let b2b = b2b_the_model().validated().unwrap();
        let names: Vec<_> = b2b.stages.iter().map(|stage| stage.name_en.as_str()).collect();
        assert_eq!(
            names[..5],
            ["1 Pre-opportunity", "2 Problem recognition", "3 Evaluation & selection", "4 Final negotiation", "5 Approval"]
        );
        assert!(!b2b.stages[0].counts_in_metrics, "stage 1 is left out of pipeline metrics");
        assert!(b2b.stages[1..].iter().all(|stage| stage.counts_in_metrics));
        assert_eq!(b2b.stages[1].name_ko, "2 비즈니스 과제의 인식");
        let simple = simple().validated().unwrap();
        assert_eq!(simple.stages.len(), 6);
    }
}
