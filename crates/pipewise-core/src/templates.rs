//! The two pipeline templates a new organisation starts from, numbered and named as the seeds
//! name them: "B2B (The Model)" from seed 003 and "Simple" from seed 002.

use rust_decimal::Decimal;

use crate::id::{PipelineId, StageId};
use crate::pipeline::{ForecastCategory, NewPipeline, NewStage, Pipeline, Stage, StageKind};

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
/// metrics and win rate. Exit criteria arrive with the stage-gate layer.
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
            })
            .collect();
        Pipeline { id, name: self.name.clone(), entry_stage_id: stages[self.entry_stage].id, stages }
    }
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
