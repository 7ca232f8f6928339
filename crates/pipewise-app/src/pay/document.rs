//! A statement's JSON document (its lines with their trace, what it carried out, the
//! corrections it posted) as stored and as the API shows it, and reading it back.

use super::*;

pub(super) fn statement_summary(stored: &StoredStatement) -> Value {
    json!({
        "user_id": stored.user.0,
        "period_first": stored.first.to_string(),
        "period_last": stored.last.to_string(),
        "plan": stored.plan,
        "version": stored.version,
        "total": stored.total.amount().to_string(),
        "currency": stored.total.currency().code(),
        "status": stored.status.code(),
    })
}

/// A statement as the API shows it: its summary and every line with its trace.
pub fn statement_json(pay: &PayStatement) -> Value {
    let mut value = statement_summary(&pay.stored);
    value["id"] = json!(pay.stored.id);
    value["kind"] = json!(pay.stored.kind.code());
    value["computed_at"] = json!(pay.stored.computed_at.to_string());
    value["locked_at"] = json!(pay.stored.locked_at.map(|at| at.to_string()));
    value["attainment"] = attainment_json(pay.statement.attainment);
    value["lines"] = Value::Array(pay.statement.lines.iter().map(line_json).collect());
    value["held"] = json!(pay.statement.held);
    value["payout"] = payout_json(pay.statement.payout);
    value
}

/// A statement's payout in another currency: its day, rate and amount (`null` until the day's
/// rate is known), or `null` for a plan paid in its own currency.
pub(super) fn payout_json(payout: Option<PaidOut>) -> Value {
    payout.map_or(Value::Null, |payout| {
        json!({
            "currency": payout.currency.code(),
            "on": payout.on.to_string(),
            "rate": payout.rate.map(|rate| rate.to_string()),
            "amount": payout.amount.map(|amount| amount.to_string()),
        })
    })
}

fn payout_from(value: &Value) -> std::result::Result<Option<PaidOut>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let decimal = |key: &str| match &value[key] {
        Value::Null => Ok(None),
        found => found.as_str().and_then(|text| text.parse::<Decimal>().ok()).map(Some).ok_or(format!("payout.{key}")),
    };
    Ok(Some(PaidOut {
        currency: value["currency"].as_str().and_then(|code| Currency::from_code(code).ok()).ok_or("payout.currency")?,
        on: value["on"].as_str().and_then(|text| text.parse::<Date>().ok()).ok_or("payout.on")?,
        rate: decimal("rate")?,
        amount: decimal("amount")?,
    }))
}

pub(super) fn attainment_json(attainment: Option<Attainment>) -> Value {
    attainment.map_or(Value::Null, |attainment| {
        json!({ "bookings": attainment.bookings.to_string(), "quota": attainment.quota.to_string(), "fraction": attainment.fraction().map(|fraction| fraction.round_dp(4).to_string()) })
    })
}

pub(super) fn document(statement: &Statement, corrections: &[Statement]) -> Value {
    json!({
        "attainment": attainment_json(statement.attainment),
        "lines": statement.lines.iter().map(line_json).collect::<Vec<_>>(),
        "cap_carried_out": statement.cap_carried_out.to_string(),
        "draw_owed_out": statement.draw_owed_out.to_string(),
        "held": statement.held,
        "payout": payout_json(statement.payout),
        "corrections": corrections.iter().map(|correction| json!({
            "first": correction.first.to_string(),
            "lines": correction.lines.iter().map(line_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A line kind's code, as statements, the API and the catalogs (`pay.kind.…`) name it.
pub fn kind_code(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Commission => "commission",
        LineKind::RetroactiveUplift => "retroactive_uplift",
        LineKind::Bonus => "bonus",
        LineKind::Incentive => "incentive",
        LineKind::Spiff => "spiff",
        LineKind::Gate => "gate",
        LineKind::Cap => "cap",
        LineKind::CapCarriedIn => "cap_carried_in",
        LineKind::DrawTopUp => "draw_top_up",
        LineKind::DrawRecovery => "draw_recovery",
        LineKind::Adjustment => "adjustment",
        LineKind::Reclaim => "reclaim",
    }
}

pub(super) const LINE_KINDS: [LineKind; 12] = [
    LineKind::Commission,
    LineKind::RetroactiveUplift,
    LineKind::Bonus,
    LineKind::Incentive,
    LineKind::Spiff,
    LineKind::Gate,
    LineKind::Cap,
    LineKind::CapCarriedIn,
    LineKind::DrawTopUp,
    LineKind::DrawRecovery,
    LineKind::Adjustment,
    LineKind::Reclaim,
];

pub fn line_json(line: &Line) -> Value {
    json!({
        "rule": line.rule,
        "version": line.version,
        "kind": kind_code(line.kind),
        "deal_id": line.deal.map(|id| id.0),
        "credit": line.credit.as_ref().map(|credit| json!({
            "split": match credit.kind { SplitKind::Revenue => "revenue", SplitKind::Overlay => "overlay" },
            "share": credit.share.to_string(),
            "amount": credit.amount.to_string(),
            "booked_on": credit.booked_on.to_string(),
            "fx": credit.fx.map(|fx| json!({ "from": fx.from.code(), "rate": fx.rate.to_string(), "on": fx.on.to_string() })),
            "reversed_on": credit.reversed_on.map(|day| day.to_string()),
        })),
        "tier": line.tier,
        "base": line.base.to_string(),
        "rate": line.rate.map(|rate| rate.to_string()),
        "unrounded": line.unrounded.to_string(),
        "amount": line.amount.to_string(),
        "corrects": line.corrects.map(|corrects| json!({ "period_first": corrects.period_first.to_string(), "index": corrects.index })),
    })
}

pub(super) fn decimal_of(value: &Value) -> Decimal {
    value.as_str().and_then(|text| text.parse().ok()).unwrap_or_default()
}

pub(super) fn line_from(value: &Value) -> std::result::Result<Line, String> {
    let text = |key: &str| value[key].as_str().ok_or_else(|| format!("line.{key} is missing"));
    let decimal = |key: &str| text(key)?.parse::<Decimal>().map_err(|error| format!("line.{key}: {error}"));
    let date = |value: &Value, key: &str| {
        value[key].as_str().and_then(|text| text.parse::<Date>().ok()).ok_or_else(|| format!("line.{key} is not a date"))
    };
    let kind = LINE_KINDS.into_iter().find(|kind| Some(kind_code(*kind)) == value["kind"].as_str()).ok_or("line.kind is unknown")?;
    let credit = match &value["credit"] {
        Value::Null => None,
        credit => Some(CreditFacts {
            kind: if credit["split"] == "overlay" { SplitKind::Overlay } else { SplitKind::Revenue },
            share: credit["share"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.share")?,
            amount: credit["amount"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.amount")?,
            booked_on: date(credit, "booked_on")?,
            reversed_on: match &credit["reversed_on"] {
                Value::Null => None,
                _ => Some(date(credit, "reversed_on")?),
            },
            fx: match &credit["fx"] {
                Value::Null => None,
                fx => Some(FxUsed {
                    from: fx["from"].as_str().and_then(|code| Currency::from_code(code).ok()).ok_or("credit.fx.from")?,
                    rate: fx["rate"].as_str().and_then(|text| text.parse().ok()).ok_or("credit.fx.rate")?,
                    on: date(fx, "on")?,
                }),
            },
        }),
    };
    Ok(Line {
        rule: text("rule")?.to_owned(),
        version: value["version"].as_u64().and_then(|version| u32::try_from(version).ok()).ok_or("line.version")?,
        kind,
        deal: value["deal_id"].as_i64().map(OpportunityId),
        credit,
        tier: value["tier"].as_u64().map(|tier| tier as usize),
        base: decimal("base")?,
        rate: value["rate"].as_str().map(|text| text.parse::<Decimal>()).transpose().map_err(|error| format!("line.rate: {error}"))?,
        unrounded: decimal("unrounded")?,
        amount: decimal("amount")?,
        corrects: match &value["corrects"] {
            Value::Null => None,
            corrects => Some(LineRef {
                period_first: date(corrects, "period_first")?,
                index: corrects["index"].as_u64().ok_or("corrects.index")? as usize,
            }),
        },
    })
}

pub(super) fn lines_from(value: &Value) -> std::result::Result<Vec<Line>, String> {
    value.as_array().ok_or("lines is not a list")?.iter().map(line_from).collect()
}

pub(super) fn corrupt(stored: &StoredStatement, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { table: "pay_statement", detail: format!("statement {}: {detail}", stored.id) }
}

pub(super) fn parse_document(stored: &StoredStatement) -> Result<Value> {
    serde_json::from_str(&stored.document).map_err(|error| corrupt(stored, error))
}

/// A stored statement with its lines read back.
pub fn decode_statement(stored: StoredStatement) -> Result<PayStatement> {
    let value = parse_document(&stored)?;
    statement_from(stored, &value)
}

pub(super) fn statement_from(stored: StoredStatement, value: &Value) -> Result<PayStatement> {
    let lines = lines_from(&value["lines"]).map_err(|detail| corrupt(&stored, detail))?;
    let attainment = match &value["attainment"] {
        Value::Null => None,
        attainment => Some(Attainment { bookings: decimal_of(&attainment["bookings"]), quota: decimal_of(&attainment["quota"]) }),
    };
    let statement = Statement {
        payee: stored.user,
        first: stored.first,
        last: stored.last,
        plan: stored.plan.clone(),
        version: stored.version,
        currency: stored.total.currency(),
        attainment,
        lines,
        total: stored.total.amount(),
        cap_carried_out: decimal_of(&value["cap_carried_out"]),
        draw_owed_out: decimal_of(&value["draw_owed_out"]),
        held: value["held"].as_u64().unwrap_or(0) as usize,
        payout: payout_from(&value["payout"]).map_err(|detail| corrupt(&stored, detail))?,
    };
    Ok(PayStatement { stored, statement })
}
