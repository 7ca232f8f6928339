//! How rows encode the domain values that have no column of their own: a criterion's origin and
//! a gate override's unmet criteria. Both engines store them the same way, so the encoding is
//! part of the contract.

use pipewise_core::OpportunityId;
use pipewise_core::StageId;
use pipewise_core::gates::{CriterionOrigin, UnmetCriterion};
use serde_json::{Value, json};

/// The origin as a store keeps it: `template`, `ops` or `loss_review` with the deal.
pub fn origin_parts(origin: CriterionOrigin) -> (&'static str, Option<OpportunityId>) {
    match origin {
        CriterionOrigin::Template => ("template", None),
        CriterionOrigin::Ops => ("ops", None),
        CriterionOrigin::LossReview { opportunity_id } => ("loss_review", Some(opportunity_id)),
    }
}

/// Rebuilds an origin from [`origin_parts`].
pub fn origin_from_parts(origin: &str, opportunity: Option<OpportunityId>) -> std::result::Result<CriterionOrigin, String> {
    match (origin, opportunity) {
        ("template", None) => Ok(CriterionOrigin::Template),
        ("ops", None) => Ok(CriterionOrigin::Ops),
        ("loss_review", Some(opportunity_id)) => Ok(CriterionOrigin::LossReview { opportunity_id }),
        (origin, opportunity) => Err(format!("origin {origin:?} with opportunity {opportunity:?}")),
    }
}

/// A gate override's unmet criteria as one JSON array:
/// `[{"criterion_id", "stage_id", "label_en", "label_ko", "reason_en", "reason_ko"}]`.
pub fn unmet_to_json(unmet: &[UnmetCriterion]) -> String {
    let items: Vec<Value> = unmet
        .iter()
        .map(|item| {
            json!({
                "criterion_id": item.criterion_id, "stage_id": item.stage_id.0, "label_en": item.label_en,
                "label_ko": item.label_ko, "reason_en": item.reason_en, "reason_ko": item.reason_ko,
            })
        })
        .collect();
    Value::Array(items).to_string()
}

pub fn unmet_from_json(text: &str) -> Result<Vec<UnmetCriterion>, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let items = value.as_array().ok_or("the unmet list is not a JSON array")?;
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned).ok_or(format!("{key} is missing"));
            let number = |key: &str| item.get(key).and_then(Value::as_i64).ok_or(format!("{key} is missing"));
            Ok(UnmetCriterion {
                criterion_id: number("criterion_id")?,
                stage_id: StageId(number("stage_id")?),
                label_en: text("label_en")?,
                label_ko: text("label_ko")?,
                reason_en: text("reason_en")?,
                reason_ko: text("reason_ko")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmet_criteria_round_trip() {
        let unmet = vec![UnmetCriterion {
            criterion_id: 4,
            stage_id: StageId(12),
            label_en: "Detailed requirements confirmed".into(),
            label_ko: "요건 상세 확인".into(),
            reason_en: "not checked yet".into(),
            reason_ko: "아직 확인되지 않음".into(),
        }];
        assert_eq!(unmet_from_json(&unmet_to_json(&unmet)).unwrap(), unmet);
    }
}
