//! Turning JSON input into domain values, reporting every problem with the record and the
//! field: `opportunity 42: close_date: "2025-13-01" is not a date`. Shared by the API and the
//! CLI's `apply`. Unknown fields are refused, so a typo is never silently ignored.

use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::pipeline::ForecastCategory;
use pipewise_core::time::parse_date;
use pipewise_core::*;
use serde_json::{Map, Value};

/// Reads fields from one JSON object, collecting problems instead of stopping at the first.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    record: RecordRef,
    errors: ValidationErrors,
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, record: RecordRef, allowed: &[&str]) -> Result<Fields<'a>, ValidationErrors> {
        let Some(object) = value.as_object() else {
            let problem = Problem::Invalid { value: value.to_string(), expected: "a JSON object" };
            return Err(FieldError { record, field: "(body)", problem }.into());
        };
        let mut fields = Fields { object, record, errors: ValidationErrors::default() };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                let problem = Problem::Rule(format!("unknown field {key:?}"));
                fields.errors.push(&fields.record, "(body)", problem);
            }
        }
        Ok(fields)
    }

    /// `None`: absent. `Some(None)`: explicitly null. `Some(Some(v))`: a value.
    fn get(&self, field: &str) -> Option<Option<&'a Value>> {
        self.object.get(field).map(|value| if value.is_null() { None } else { Some(value) })
    }

    fn parse<T>(&mut self, field: &'static str, expected: &'static str, parse: impl Fn(&Value) -> Result<T, Problem>) -> Option<Option<T>> {
        match self.get(field)? {
            None => Some(None),
            Some(value) => match parse(value) {
                Ok(parsed) => Some(Some(parsed)),
                Err(problem) => {
                    let problem = match problem {
                        Problem::Invalid { expected: "", .. } => {
                            Problem::Invalid { value: value.as_str().map_or_else(|| value.to_string(), str::to_owned), expected }
                        }
                        other => other,
                    };
                    self.errors.push(&self.record, field, problem);
                    None
                }
            },
        }
    }

    fn required<T>(&mut self, field: &'static str, expected: &'static str, parse: impl Fn(&Value) -> Result<T, Problem>) -> Option<T> {
        match self.parse(field, expected, parse) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                self.errors.push(&self.record, field, Problem::Required);
                None
            }
            None if !self.object.contains_key(field) => {
                self.errors.push(&self.record, field, Problem::Required);
                None
            }
            None => None,
        }
    }
}

fn string(value: &Value) -> Result<String, Problem> {
    value.as_str().map(str::to_owned).ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn positive_id(value: &Value) -> Result<i64, Problem> {
    value.as_i64().filter(|id| *id > 0).ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn money(value: &Value) -> Result<Money, Problem> {
    value.as_str().ok_or(Problem::Invalid { value: String::new(), expected: "" })?.parse()
}

fn date(value: &Value) -> Result<Date, Problem> {
    parse_date(value.as_str().ok_or(Problem::Invalid { value: String::new(), expected: "" })?)
}

fn category(value: &Value) -> Result<ForecastCategory, Problem> {
    ForecastCategory::parse(value.as_str().ok_or(Problem::Invalid { value: String::new(), expected: "" })?)
}

const OPPORTUNITY_FIELDS: &[&str] = &[
    "name",
    "account_id",
    "owner_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "close_date",
    "forecast_category",
    "next_step",
    "close_reason",
];

pub fn new_opportunity(value: &Value) -> Result<NewOpportunity, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(OpportunityId::LABEL), OPPORTUNITY_FIELDS)?;
    let name = fields.required("name", "text", string);
    let owner_id = fields.required("owner_id", "an id", positive_id);
    let pipeline_id = fields.required("pipeline_id", "an id", positive_id);
    let account_id = fields.parse("account_id", "an id", positive_id).flatten();
    let stage_id = fields.parse("stage_id", "an id", positive_id).flatten();
    let amount = fields.parse("amount", "an amount such as \"USD 1234.50\"", money).flatten();
    let close_date = fields.parse("close_date", "a date", date).flatten();
    let forecast_category = fields.parse("forecast_category", "a forecast category", category).flatten();
    let next_step = fields.parse("next_step", "text", string).flatten();
    let close_reason = fields.parse("close_reason", "text", string).flatten();
    let errors = fields.errors;
    match (name, owner_id, pipeline_id) {
        (Some(name), Some(owner_id), Some(pipeline_id)) if errors.is_empty() => Ok(NewOpportunity {
            name,
            account_id: account_id.map(AccountId),
            owner_id: UserId(owner_id),
            pipeline_id: PipelineId(pipeline_id),
            stage_id: stage_id.map(StageId),
            amount,
            close_date,
            forecast_category,
            next_step,
            close_reason,
        }),
        _ => Err(errors),
    }
}

pub fn opportunity_patch(opportunity_id: OpportunityId, value: &Value) -> Result<OpportunityPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), OPPORTUNITY_FIELDS)?;
    let not_null = |fields: &mut Fields<'_>, field: &'static str, value: Option<Option<i64>>| match value {
        Some(None) => {
            fields.errors.push(&fields.record, field, Problem::Required);
            None
        }
        other => other.flatten(),
    };
    let name = match fields.parse("name", "text", string) {
        Some(None) => {
            fields.errors.push(&fields.record, "name", Problem::Required);
            None
        }
        other => other.flatten(),
    };
    let owner = fields.parse("owner_id", "an id", positive_id);
    let owner_id = not_null(&mut fields, "owner_id", owner);
    let pipeline = fields.parse("pipeline_id", "an id", positive_id);
    let pipeline_id = not_null(&mut fields, "pipeline_id", pipeline);
    let stage = fields.parse("stage_id", "an id", positive_id);
    let stage_id = not_null(&mut fields, "stage_id", stage);
    let forecast_category = match fields.parse("forecast_category", "a forecast category", category) {
        Some(None) => {
            fields.errors.push(&fields.record, "forecast_category", Problem::Required);
            None
        }
        other => other.flatten(),
    };
    let patch = OpportunityPatch {
        name,
        account_id: fields.parse("account_id", "an id", positive_id).map(|value| value.map(AccountId)),
        owner_id: owner_id.map(UserId),
        pipeline_id: pipeline_id.map(PipelineId),
        stage_id: stage_id.map(StageId),
        amount: fields.parse("amount", "an amount such as \"USD 1234.50\"", money),
        close_date: fields.parse("close_date", "a date", date),
        forecast_category,
        next_step: fields.parse("next_step", "text", string),
        close_reason: fields.parse("close_reason", "text", string),
    };
    fields.errors.into_result(patch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_reports_every_bad_field_by_name() {
        let body = json!({ "close_date": "2025-13-01", "amount": "KRW 10.5", "stage_id": null, "colour": "red" });
        assert_eq!(
            opportunity_patch(OpportunityId(42), &body).unwrap_err().to_string(),
            "opportunity 42: (body): unknown field \"colour\"; \
             opportunity 42: stage_id: is required; \
             opportunity 42: amount: 10.5 has 1 decimal places but KRW has 0; \
             opportunity 42: close_date: \"2025-13-01\" is not a date"
        );
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let patch = opportunity_patch(OpportunityId(1), &json!({ "amount": null, "next_step": "Call CFO" })).unwrap();
        assert_eq!(patch.amount, Some(None));
        assert_eq!(patch.next_step, Some(Some("Call CFO".into())));
        assert_eq!(patch.close_date, None);
    }

    #[test]
    fn a_new_deal_needs_its_required_fields() {
        assert_eq!(
            new_opportunity(&json!({ "name": "Acme", "pipeline_id": "one" })).unwrap_err().to_string(),
            "new opportunity: owner_id: is required; new opportunity: pipeline_id: \"one\" is not an id"
        );
        assert_eq!(new_opportunity(&json!([1, 2])).unwrap_err().to_string(), "new opportunity: (body): \"[1,2]\" is not a JSON object");
        let deal = new_opportunity(&json!({ "name": "Acme", "owner_id": 3, "pipeline_id": 1, "amount": "USD 12000" })).unwrap();
        assert_eq!(deal.amount.unwrap().to_string(), "USD 12000.00");
    }
}
