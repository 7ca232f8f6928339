//! The plan builder (issue 12 point 7): ops build and edit a commission plan in a form instead of
//! its JSON. Percentages are typed as percentages (a rate of `10` is 10%, a tier from `100` on an
//! attainment basis starts at 100% of quota); the form becomes the plan's JSON definition here,
//! at the edge, and is saved through `app::pay::save_plan` like the JSON editor's, so every bad
//! field is named the same way (the component and the tier by number) and the form comes back as
//! it was typed.
//!
//! - `GET /pay/plans/build?plan=NAME`: the form, filled from the plan's latest version (empty
//!   with one commission component without a name).
//! - `POST /pay/plans/build`: `add=commission|bonus|target_incentive|spiff` shows the form again
//!   with one more component, nothing saved; otherwise saves the next version. A component with
//!   `remove` ticked is left out; rows of tiers, steps and parts left blank are ignored.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app::pay;
use pipewise_comp::{AttainmentOf, BonusCurve, ClawbackMode, Component, Plan, SplitKind, TierBasis, TierMode};
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::user::Role;
use serde::Serialize;
use serde_json::{Value, json};

use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

/// The most components a plan built here may have, and the most rows of a table (a plan saved as
/// JSON with more is edited as JSON: the form says so rather than drop any).
const MAX_COMPONENTS: usize = 30;
const MAX_ROWS: usize = 30;
/// Blank rows offered under a table's filled ones.
const BLANK_ROWS: usize = 2;
const KINDS: [&str; 4] = ["commission", "bonus", "target_incentive", "spiff"];

/// A row of a small table: a tier (from, rate %), a step (at %, amount) or a part (of, weight %).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Row {
    a: String,
    b: String,
}

impl Row {
    fn blank(&self) -> bool {
        self.a.trim().is_empty() && self.b.trim().is_empty()
    }
}

impl Draft {
    /// Whether the plan has more components or table rows than the form holds.
    fn too_large(&self) -> bool {
        self.components.len() > MAX_COMPONENTS
            || self
                .components
                .iter()
                .any(|component| [&component.tiers, &component.steps, &component.parts].iter().any(|rows| rows.len() > MAX_ROWS))
    }
}

/// One component as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct ComponentDraft {
    kind: String,
    rule: String,
    measure: String,
    mode: String,
    basis: String,
    tiers: Vec<Row>,
    of: String,
    curve: String,
    steps: Vec<Row>,
    from: String,
    to: String,
    at_from: String,
    at_to: String,
    target: String,
    parts: Vec<Row>,
    amount: String,
    min_amount: String,
    first: String,
    last: String,
}

impl ComponentDraft {
    fn new(kind: &str) -> ComponentDraft {
        ComponentDraft {
            kind: kind.to_owned(),
            measure: "revenue".into(),
            mode: "marginal".into(),
            basis: "attainment".into(),
            of: "individual".into(),
            curve: "steps".into(),
            ..ComponentDraft::default()
        }
    }
}

/// The whole plan as typed: every field a string, as the form holds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Draft {
    name: String,
    currency: String,
    timing: String,
    ties: String,
    rounding: String,
    gate: String,
    cap_amount: String,
    cap_carry: bool,
    draw_amount: String,
    draw_recoverable: bool,
    clawback_window: String,
    clawback_mode: String,
    ramp: String,
    payout_currency: String,
    payout_days: String,
    components: Vec<ComponentDraft>,
}

/// `value` × 100 as typed in a percentage field: `0.1` → `10` (a value too large for that is
/// shown as the largest decimal, which saving refuses by the plan's own rules or keeps as typed).
fn percent(value: Decimal) -> String {
    value.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(Decimal::MAX).normalize().to_string()
}

fn plain(value: Decimal) -> String {
    value.normalize().to_string()
}

fn row(a: String, b: String) -> Row {
    Row { a, b }
}

impl Draft {
    /// A new plan: paid in `currency`, one commission component to fill in.
    fn empty(currency: &str) -> Draft {
        Draft {
            currency: currency.to_owned(),
            timing: "booking".into(),
            ties: "upper_tier".into(),
            rounding: "half_up".into(),
            clawback_mode: "recompute".into(),
            components: vec![ComponentDraft::new("commission")],
            ..Draft::default()
        }
    }

    /// The form of a saved plan.
    fn of(plan: &Plan) -> Draft {
        let choice = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let json = pipewise_app::plan_codec::plan_json(plan);
        let components = plan
            .components
            .iter()
            .map(|component| match component {
                Component::Commission { rule, measure, table } => {
                    let attainment = table.basis == TierBasis::Attainment;
                    ComponentDraft {
                        rule: rule.clone(),
                        measure: if *measure == SplitKind::Overlay { "overlay" } else { "revenue" }.into(),
                        mode: if table.mode == TierMode::Retroactive { "retroactive" } else { "marginal" }.into(),
                        basis: if attainment { "attainment" } else { "amount" }.into(),
                        tiers: table
                            .tiers
                            .iter()
                            .map(|tier| row(if attainment { percent(tier.lower) } else { plain(tier.lower) }, percent(tier.rate)))
                            .collect(),
                        ..ComponentDraft::new("commission")
                    }
                }
                Component::Bonus { rule, of, curve } => {
                    let mut draft = ComponentDraft { rule: rule.clone(), of: of_word(*of).into(), ..ComponentDraft::new("bonus") };
                    match curve {
                        BonusCurve::Steps(steps) => {
                            draft.steps = steps.iter().map(|(at, amount)| row(percent(*at), plain(*amount))).collect()
                        }
                        BonusCurve::Linear { from, to, at_from, at_to } => {
                            draft.curve = "linear".into();
                            (draft.from, draft.to, draft.at_from, draft.at_to) =
                                (percent(*from), percent(*to), plain(*at_from), plain(*at_to));
                        }
                    }
                    draft
                }
                Component::TargetIncentive { rule, target, parts } => ComponentDraft {
                    rule: rule.clone(),
                    target: plain(*target),
                    parts: parts.iter().map(|(of, weight)| row(of_word(*of).into(), percent(*weight))).collect(),
                    ..ComponentDraft::new("target_incentive")
                },
                Component::Spiff { rule, amount, min_amount, first, last } => ComponentDraft {
                    rule: rule.clone(),
                    amount: plain(*amount),
                    min_amount: plain(*min_amount),
                    first: first.to_string(),
                    last: last.to_string(),
                    ..ComponentDraft::new("spiff")
                },
            })
            .collect();
        Draft {
            name: plan.name.clone(),
            currency: plan.currency.code().to_owned(),
            timing: choice(&json["timing"]),
            ties: choice(&json["ties"]),
            rounding: choice(&json["rounding"]),
            gate: plan.gate.map(percent).unwrap_or_default(),
            cap_amount: plan.cap.as_ref().map(|cap| plain(cap.amount)).unwrap_or_default(),
            cap_carry: plan.cap.as_ref().is_some_and(|cap| cap.carry_forward),
            draw_amount: plan.draw.as_ref().map(|draw| plain(draw.amount)).unwrap_or_default(),
            draw_recoverable: plan.draw.as_ref().is_some_and(|draw| draw.recoverable),
            clawback_window: plan.clawback.window_days.map(|days| days.to_string()).unwrap_or_default(),
            clawback_mode: if plan.clawback.mode == ClawbackMode::Reclaim { "reclaim" } else { "recompute" }.into(),
            ramp: plan.ramp.iter().map(|fraction| percent(*fraction)).collect::<Vec<_>>().join(", "),
            payout_currency: plan.payout.map(|payout| payout.currency.code().to_owned()).unwrap_or_default(),
            payout_days: plan.payout.map(|payout| payout.days_after.to_string()).unwrap_or_default(),
            components,
        }
    }

    /// The form as posted: components in order (those ticked `remove` left out), blank rows dropped.
    fn from_form(form: &Params) -> Draft {
        let text = |name: &str| form.raw(name).trim().to_owned();
        let count = form.get("components").and_then(|raw| raw.parse::<usize>().ok()).unwrap_or(0).min(MAX_COMPONENTS);
        let rows = |prefix: &str| -> Vec<Row> {
            (0..MAX_ROWS + BLANK_ROWS)
                .map(|index| row(text(&format!("{prefix}{index}_a")), text(&format!("{prefix}{index}_b"))))
                .filter(|row| !row.blank())
                .take(MAX_ROWS)
                .collect()
        };
        let components = (0..count)
            .filter(|index| form.get(&format!("c{index}_remove")).is_none())
            .filter_map(|index| {
                let field = |name: &str| text(&format!("c{index}_{name}"));
                let kind = field("kind");
                KINDS.contains(&kind.as_str()).then(|| ComponentDraft {
                    kind,
                    rule: field("rule"),
                    measure: field("measure"),
                    mode: field("mode"),
                    basis: field("basis"),
                    tiers: rows(&format!("c{index}_t")),
                    of: field("of"),
                    curve: field("curve"),
                    steps: rows(&format!("c{index}_s")),
                    from: field("from"),
                    to: field("to"),
                    at_from: field("at_from"),
                    at_to: field("at_to"),
                    target: field("target"),
                    parts: rows(&format!("c{index}_p")),
                    amount: field("amount"),
                    min_amount: field("min_amount"),
                    first: field("first"),
                    last: field("last"),
                })
            })
            .collect();
        Draft {
            name: text("name"),
            currency: text("currency"),
            timing: text("timing"),
            ties: text("ties"),
            rounding: text("rounding"),
            gate: text("gate"),
            cap_amount: text("cap_amount"),
            cap_carry: form.get("cap_carry").is_some(),
            draw_amount: text("draw_amount"),
            draw_recoverable: form.get("draw_recoverable").is_some(),
            clawback_window: text("clawback_window"),
            clawback_mode: text("clawback_mode"),
            ramp: text("ramp"),
            payout_currency: text("payout_currency"),
            payout_days: text("payout_days"),
            components,
        }
    }

    /// The plan's JSON definition (`plan_codec`'s shape). A number that does not read is passed on
    /// as typed, so the codec names it with its component and row.
    fn definition(&self) -> Value {
        let components: Vec<Value> = self.components.iter().map(ComponentDraft::definition).collect();
        let optional = |raw: &str, value: Value| if raw.is_empty() { Value::Null } else { value };
        let ramp: Vec<Value> =
            self.ramp.split(|c: char| c == ',' || c.is_whitespace()).filter(|step| !step.is_empty()).map(from_percent).collect();
        json!({
            "currency": self.currency,
            "timing": self.timing,
            "ties": self.ties,
            "rounding": self.rounding,
            "gate": optional(&self.gate, from_percent(&self.gate)),
            "cap": optional(&self.cap_amount, json!({ "amount": self.cap_amount, "carry_forward": self.cap_carry })),
            "draw": optional(&self.draw_amount, json!({ "amount": self.draw_amount, "recoverable": self.draw_recoverable })),
            "clawback": { "window_days": optional(&self.clawback_window, whole(&self.clawback_window)), "mode": self.clawback_mode },
            "ramp": ramp,
            "payout": optional(&self.payout_currency, json!({ "currency": self.payout_currency, "days_after": whole(&self.payout_days) })),
            "components": components,
        })
    }

    /// Blank rows under each table, for typing more.
    fn padded(mut self) -> Draft {
        for component in &mut self.components {
            for rows in [&mut component.tiers, &mut component.steps, &mut component.parts] {
                let room = MAX_ROWS.saturating_sub(rows.len()).min(BLANK_ROWS);
                rows.extend(std::iter::repeat_n(Row::default(), room));
            }
        }
        self
    }
}

impl ComponentDraft {
    fn definition(&self) -> Value {
        let rows = |rows: &[Row], a: fn(&str) -> Value, b: fn(&str) -> Value, keys: (&str, &str)| -> Vec<Value> {
            rows.iter().filter(|row| !row.blank()).map(|row| json!({ keys.0: a(&row.a), keys.1: b(&row.b) })).collect()
        };
        match self.kind.as_str() {
            "commission" => {
                let lower: fn(&str) -> Value = if self.basis == "attainment" { from_percent } else { as_typed };
                json!({ "type": "commission", "rule": self.rule, "measure": self.measure, "mode": self.mode, "basis": self.basis,
                    "tiers": rows(&self.tiers, lower, from_percent, ("lower", "rate")) })
            }
            "bonus" if self.curve == "linear" => json!({ "type": "bonus", "rule": self.rule, "of": self.of, "steps": null,
                "linear": { "from": from_percent(&self.from), "to": from_percent(&self.to), "at_from": self.at_from, "at_to": self.at_to } }),
            "bonus" => json!({ "type": "bonus", "rule": self.rule, "of": self.of, "linear": null,
                "steps": rows(&self.steps, from_percent, as_typed, ("at", "amount")) }),
            "target_incentive" => json!({ "type": "target_incentive", "rule": self.rule, "target": self.target,
                "parts": rows(&self.parts, as_typed, from_percent, ("of", "weight")) }),
            _ => json!({ "type": "spiff", "rule": self.rule, "amount": self.amount, "min_amount": self.min_amount,
                "first": self.first, "last": self.last }),
        }
    }
}

fn of_word(of: AttainmentOf) -> &'static str {
    if of == AttainmentOf::Team { "team" } else { "individual" }
}

fn as_typed(raw: &str) -> Value {
    Value::String(raw.trim().to_owned())
}

/// A percentage as the decimal fraction the plan holds (`12.5` or `12.5%` → `"0.125"`); text that
/// is not a number is passed on as typed.
fn from_percent(raw: &str) -> Value {
    let trimmed = raw.trim().trim_end_matches('%').trim();
    match trimmed.parse::<Decimal>() {
        Ok(value) => Value::String((value / Decimal::ONE_HUNDRED).normalize().to_string()),
        Err(_) => as_typed(raw),
    }
}

/// A whole number of days, or the text as typed (the codec says what it expected).
fn whole(raw: &str) -> Value {
    raw.trim().parse::<u64>().map_or_else(|_| as_typed(raw), Value::from)
}

#[derive(Serialize)]
struct BuilderView {
    draft: Draft,
    /// The number of components the form holds (the posted `components`).
    count: usize,
    problems: Vec<String>,
    kinds: Vec<(&'static str, String)>,
    room: bool,
}

fn require_ops(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "pay.builder_ops_only").to_owned()))
    }
}

fn builder(viewer: &Viewer, status: StatusCode, draft: Draft, problems: Vec<String>) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let draft = draft.padded();
    let view = BuilderView {
        count: draft.components.len(),
        room: draft.components.len() < MAX_COMPONENTS,
        draft,
        problems,
        kinds: KINDS.iter().map(|kind| (*kind, t(locale, &format!("pay.builder.kind.{kind}")).to_owned())).collect(),
    };
    let title = t(locale, "pay.builder.title").to_owned();
    render::page(viewer, status, "pay_plan.html", "pay", title, &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        require_ops(&reader)?;
        let mut tx = state.db.read()?;
        let organisation = pipewise_app::users::organisation(&mut tx, reader.org)?
            .ok_or(AppError::NotFound { kind: "organisation", id: reader.org.to_string() })?;
        let draft = match params.get("plan") {
            None => Draft::empty(organisation.reporting_currency.code()),
            Some(name) => {
                let latest = pay::plans(&mut tx, reader.org)?.into_iter().filter(|plan| plan.name == name).max_by_key(|plan| plan.version);
                let stored = latest.ok_or_else(|| AppError::NotFound { kind: "plan", id: name.to_owned() })?;
                let value: Value = serde_json::from_str(&stored.definition).unwrap_or(Value::Null);
                let plan = pipewise_app::plan_codec::plan_from_json(&value, &stored.name, stored.version)
                    .map_err(|errors| AppError::from(pipewise_app::StoreError::from(errors)))?;
                Draft::of(&plan)
            }
        };
        if draft.too_large() {
            let problem = t(reader.user.locale, "pay.builder.too_large").to_owned();
            return Err(AppError::BadRequest(problem));
        }
        builder(&reader, StatusCode::OK, draft, Vec::new())
    })
    .await;
    respond(&viewer, result)
}

pub async fn save(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        require_ops(&reader)?;
        let mut draft = Draft::from_form(&form);
        if let Some(kind) = form.get("add").filter(|kind| KINDS.contains(kind)) {
            if draft.components.len() < MAX_COMPONENTS {
                draft.components.push(ComponentDraft::new(kind));
            }
            return builder(&reader, StatusCode::OK, draft, Vec::new());
        }
        let definition = draft.definition();
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| pay::save_plan(tx, &ctx, &draft.name, &definition)) {
            Ok(_) => Ok(see_other("/pay?done=plan_saved")),
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => {
                    let problems = errors
                        .0
                        .iter()
                        .map(|error| format!("{}: {}", error.field, i18n::problem(reader.user.locale, &error.problem)))
                        .collect();
                    builder(&reader, StatusCode::UNPROCESSABLE_ENTITY, draft, problems)
                }
                other => Err(other.into()),
            },
        }
    })
    .await;
    respond(&viewer, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn percentages_are_typed_as_percentages_and_anything_else_is_passed_on() {
        assert_eq!(from_percent("12.5"), json!("0.125"));
        assert_eq!(from_percent(" 10% "), json!("0.1"));
        assert_eq!(from_percent("150"), json!("1.5"));
        assert_eq!(from_percent("ten"), json!("ten"));
        assert_eq!(percent(d("0.125")), "12.5");
        assert_eq!(whole("15"), json!(15));
        assert_eq!(whole("-3"), json!("-3"));
    }

    /// Every setting and component kind through the form and back: the form of a plan gives the
    /// plan's own definition, and posting that form unchanged gives it again.
    #[test]
    fn a_plan_round_trips_through_its_form() {
        let definition = json!({
            "currency": "USD", "timing": "invoice", "ties": "lower_tier", "rounding": "half_even", "gate": "0.5",
            "cap": { "amount": "20000", "carry_forward": true }, "draw": { "amount": "5000", "recoverable": false },
            "clawback": { "window_days": 90, "mode": "reclaim" }, "ramp": ["0.25", "0.5"],
            "payout": { "currency": "KRW", "days_after": 15 },
            "components": [
                { "type": "commission", "rule": "AE", "measure": "revenue", "mode": "marginal", "basis": "attainment",
                  "tiers": [{ "lower": "0", "rate": "0.1" }, { "lower": "1", "rate": "0.15" }] },
                { "type": "commission", "rule": "Overlay", "measure": "overlay", "mode": "retroactive", "basis": "amount",
                  "tiers": [{ "lower": "0", "rate": "0.02" }, { "lower": "150000", "rate": "0.03" }] },
                { "type": "bonus", "rule": "Club", "of": "individual", "steps": [{ "at": "1", "amount": "2500" }], "linear": null },
                { "type": "bonus", "rule": "Kicker", "of": "team", "steps": null,
                  "linear": { "from": "0.8", "to": "1.2", "at_from": "0", "at_to": "5000" } },
                { "type": "target_incentive", "rule": "Variable", "target": "10000",
                  "parts": [{ "of": "individual", "weight": "0.75" }, { "of": "team", "weight": "0.25" }] },
                { "type": "spiff", "rule": "New logos", "amount": "500", "min_amount": "10000", "first": "2027-01-01", "last": "2027-03-31" },
            ],
        });
        let plan = pipewise_app::plan_codec::plan_from_json(&definition, "AE 2027", 3).unwrap();
        let draft = Draft::of(&plan);
        assert_eq!(draft.components[0].tiers[1], row("100".into(), "15".into()), "attainment tiers in percent");
        assert_eq!(draft.components[1].tiers[1], row("150000".into(), "3".into()), "amount tiers as amounts");
        assert_eq!(draft.ramp, "25, 50");
        let decode = |value: &Value| pipewise_app::plan_codec::plan_from_json(value, "AE 2027", 3).unwrap();
        assert_eq!(decode(&draft.definition()), plan);

        // The form as a browser posts it (with the blank rows), read back.
        let padded = draft.clone().padded();
        let mut fields: Vec<(String, String)> = vec![("components".into(), padded.components.len().to_string())];
        let mut put = |name: String, value: &str| fields.push((name, value.to_owned()));
        for (name, value) in [
            ("name", &padded.name),
            ("currency", &padded.currency),
            ("timing", &padded.timing),
            ("ties", &padded.ties),
            ("rounding", &padded.rounding),
            ("gate", &padded.gate),
            ("cap_amount", &padded.cap_amount),
            ("draw_amount", &padded.draw_amount),
            ("clawback_window", &padded.clawback_window),
            ("clawback_mode", &padded.clawback_mode),
            ("ramp", &padded.ramp),
            ("payout_currency", &padded.payout_currency),
            ("payout_days", &padded.payout_days),
        ] {
            put(name.into(), value);
        }
        put("cap_carry".into(), "on");
        for (index, component) in padded.components.iter().enumerate() {
            for (name, value) in [
                ("kind", &component.kind),
                ("rule", &component.rule),
                ("measure", &component.measure),
                ("mode", &component.mode),
                ("basis", &component.basis),
                ("of", &component.of),
                ("curve", &component.curve),
                ("from", &component.from),
                ("to", &component.to),
                ("at_from", &component.at_from),
                ("at_to", &component.at_to),
                ("target", &component.target),
                ("amount", &component.amount),
                ("min_amount", &component.min_amount),
                ("first", &component.first),
                ("last", &component.last),
            ] {
                put(format!("c{index}_{name}"), value);
            }
            for (letter, rows) in [("t", &component.tiers), ("s", &component.steps), ("p", &component.parts)] {
                for (row_index, row) in rows.iter().enumerate() {
                    put(format!("c{index}_{letter}{row_index}_a"), &row.a);
                    put(format!("c{index}_{letter}{row_index}_b"), &row.b);
                }
            }
        }
        let posted = Draft::from_form(&Params(fields.clone()));
        assert_eq!(posted, draft);
        assert_eq!(decode(&posted.definition()), plan);

        // Ticking `remove` leaves a component out.
        fields.push(("c1_remove".into(), "on".into()));
        let removed = Draft::from_form(&Params(fields));
        assert_eq!(removed.components.len(), 5);
        assert_eq!(removed.components[1].rule, "Club");
    }
}
