//! How rows encode the domain values that have no column of their own: a criterion's origin and
//! a gate override's unmet criteria. Both engines store them the same way, so the encoding is
//! part of the contract.

use pipewise_core::OpportunityId;
use pipewise_core::StageId;
use pipewise_core::gates::{CriterionOrigin, UnmetCriterion};
use pipewise_core::{Arg, Message};
use serde_json::{Value, json};

/// The origin as a store keeps it: `template`, `ops` or `loss_review` with the deal (which a
/// stored criterion always names; `None` only in what a reader who may not see it is given).
pub fn origin_parts(origin: CriterionOrigin) -> (&'static str, Option<OpportunityId>) {
    match origin {
        CriterionOrigin::Template => ("template", None),
        CriterionOrigin::Ops => ("ops", None),
        CriterionOrigin::LossReview { opportunity_id } => ("loss_review", opportunity_id),
    }
}

/// Rebuilds an origin from [`origin_parts`].
pub fn origin_from_parts(origin: &str, opportunity: Option<OpportunityId>) -> std::result::Result<CriterionOrigin, String> {
    match (origin, opportunity) {
        ("template", None) => Ok(CriterionOrigin::Template),
        ("ops", None) => Ok(CriterionOrigin::Ops),
        ("loss_review", Some(opportunity_id)) => Ok(CriterionOrigin::LossReview { opportunity_id: Some(opportunity_id) }),
        (origin, opportunity) => Err(format!("origin {origin:?} with opportunity {opportunity:?}")),
    }
}

/// A gate override's unmet criteria as one JSON array:
/// `[{"criterion_id", "stage_id", "label_en", "label_ko", "reason"}]`, the reason a message
/// ([`message_to_json`]). Overrides stored before reasons were messages carry `reason_en` and
/// `reason_ko` instead; they read back as `gate.recorded` with the English text.
pub fn unmet_to_json(unmet: &[UnmetCriterion]) -> String {
    let items: Vec<Value> = unmet
        .iter()
        .map(|item| {
            json!({
                "criterion_id": item.criterion_id, "stage_id": item.stage_id.0, "label_en": item.label_en,
                "label_ko": item.label_ko, "reason": message_to_json(&item.reason),
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
            let reason = match item.get("reason") {
                Some(reason) => message_from_json(reason, 0)?,
                None => Message::new("verdict.recorded").text("text", text("reason_en")?),
            };
            Ok(UnmetCriterion {
                criterion_id: number("criterion_id")?,
                stage_id: StageId(number("stage_id")?),
                label_en: text("label_en")?,
                label_ko: text("label_ko")?,
                reason,
            })
        })
        .collect()
}

/// How deeply stored messages may nest; deeper ones are refused as corrupt.
const MAX_MESSAGE_DEPTH: usize = 64;

/// A message as JSON: `{"key": …, "args": [[name, arg], …]}`, an argument one of `{"text": …}`,
/// `{"term": key}`, `{"message": {…}}` and `{"list": [arg, …], "separator": key}`.
pub fn message_to_json(message: &Message) -> Value {
    let args: Vec<Value> = message.args.iter().map(|(name, arg)| json!([name, arg_to_json(arg)])).collect();
    json!({ "key": message.key, "args": args })
}

fn arg_to_json(arg: &Arg) -> Value {
    match arg {
        Arg::Text(text) => json!({ "text": text }),
        Arg::Term(key) => json!({ "term": key }),
        Arg::Message(message) => json!({ "message": message_to_json(message) }),
        Arg::List { items, separator } => json!({ "list": items.iter().map(arg_to_json).collect::<Vec<_>>(), "separator": separator }),
    }
}

/// A message as JSON text ([`message_to_json`]), for a text column.
pub fn message_to_text(message: &Message) -> String {
    message_to_json(message).to_string()
}

/// Reads [`message_to_text`] back.
pub fn message_from_text(text: &str) -> Result<Message, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    message_from_json(&value, 0)
}

/// Reads [`message_to_json`] back; `depth` is how deep the value already sits.
pub fn message_from_json(value: &Value, depth: usize) -> Result<Message, String> {
    if depth > MAX_MESSAGE_DEPTH {
        return Err(format!("a message nests more than {MAX_MESSAGE_DEPTH} deep"));
    }
    let key = value.get("key").and_then(Value::as_str).ok_or("a message has no key")?;
    let args = value.get("args").and_then(Value::as_array).ok_or("a message has no args")?;
    let mut message = Message::new(key);
    for pair in args {
        match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(name), arg]) => message = message.arg(name, arg_from_json(arg, depth + 1)?),
            _ => return Err(format!("message {key}: an argument is not a [name, value] pair")),
        }
    }
    Ok(message)
}

fn arg_from_json(value: &Value, depth: usize) -> Result<Arg, String> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(text) = text("text") {
        Ok(Arg::Text(text))
    } else if let Some(key) = text("term") {
        Ok(Arg::Term(key))
    } else if let Some(message) = value.get("message") {
        Ok(Arg::Message(message_from_json(message, depth + 1)?))
    } else if let (Some(items), Some(separator)) = (value.get("list").and_then(Value::as_array), text("separator")) {
        let items = items.iter().map(|item| arg_from_json(item, depth + 1)).collect::<Result<Vec<_>, _>>()?;
        Ok(Arg::List { items, separator })
    } else {
        Err(format!("{value} is not a message argument"))
    }
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
            reason: Message::new("verdict.none_holds").messages(
                "reasons",
                vec![
                    Message::new("verdict.not_checked"),
                    Message::new("verdict.bant_needs").term("item", "term.bant.budget").arg(
                        "needs",
                        Arg::List {
                            items: vec![Arg::Term("term.bant_status.confirmed".into()), Arg::Text("x".into())],
                            separator: "list.or".into(),
                        },
                    ),
                ],
                "list.semicolon",
            ),
        }];
        assert_eq!(unmet_from_json(&unmet_to_json(&unmet)).unwrap(), unmet);
    }

    #[test]
    fn an_override_stored_with_words_reads_back_as_recorded() {
        let stored = r#"[{"criterion_id": 4, "stage_id": 12, "label_en": "L", "label_ko": "L", "reason_en": "not checked yet", "reason_ko": "아직"}]"#;
        let unmet = unmet_from_json(stored).unwrap();
        assert_eq!(unmet[0].reason, Message::new("verdict.recorded").text("text", "not checked yet"));
    }

    #[test]
    fn a_message_nested_too_deep_is_refused() {
        let mut message = Message::new("verdict.reasons");
        for _ in 0..40 {
            message = Message::new("verdict.must_not").message("reason", message);
        }
        assert!(message_from_json(&message_to_json(&message), 0).unwrap_err().contains("nests more than"));
    }
}
