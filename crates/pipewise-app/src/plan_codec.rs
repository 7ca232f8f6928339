//! The JSON form of a commission plan's definition ([`pipewise_comp::Plan`]), as stored beside the
//! plan's name and version and as the API shows and takes it, so stored rows and API bodies have
//! one shape.
//!
//! The mapping is written by hand over `serde_json::Value`: the pay crate carries no serde
//! derives. Shapes (every key always written; `null` for unset; decimals written as strings such
//! as `"0.04"`, read from a string or a number):
//!
//! - plan: `{"currency", "timing", "ties", "rounding", "gate", "cap", "draw", "clawback", "ramp",
//!   "payout", "components"}`, where
//!   `currency` is an ISO 4217 code, `timing` is `booking`, `invoice` or `cash`, `ties` is
//!   `upper_tier` or `lower_tier`, `rounding` is `half_up` or `half_even`, `gate` is a decimal
//!   fraction of attainment or `null`;
//! - `cap`: `{"amount", "carry_forward"}` or `null`; `draw`: `{"amount", "recoverable"}` or `null`;
//! - `clawback`: `{"window_days", "mode"}`: a reversal (the won deal reopened or lost) within
//!   `window_days` of its booking (`null`: whenever it comes) is clawed back by `mode`,
//!   `recompute` (the deal leaves attainment, the period is recomputed) or `reclaim` (what it
//!   paid is taken back, attainment kept); after the window the deal stays as won;
//! - `ramp`: a list of decimal fractions of quota, one for each month of a new person's tenure
//!   (counted from the first day of their first plan), the whole quota after the last; `[]` for none;
//! - `payout`: `{"currency", "days_after"}` or `null`: the statement is paid out in `currency`
//!   at the rate of the day `days_after` days after the period's last;
//! - `components`: a list, each item with a `type` and a `rule` (its name on statement lines):
//!   - `{"type": "commission", "rule", "measure"` (`revenue`, `overlay`), `"mode"` (`marginal`,
//!     `retroactive`), `"basis"` (`amount`, `attainment`), `"tiers": [{"lower", "rate"}]}`;
//!   - `{"type": "bonus", "rule", "of"` (`individual`, `team`), `"steps": [{"at", "amount"}]` or
//!     `null`, `"linear": {"from", "to", "at_from", "at_to"}` or `null`}` (exactly one of the two);
//!   - `{"type": "target_incentive", "rule", "target", "parts": [{"of", "weight"}]}`;
//!   - `{"type": "spiff", "rule", "amount", "min_amount", "first", "last"}` (dates `YYYY-MM-DD`).
//!
//! Decoding is strict about types and unknown keys. `currency` and `components` are required (the
//! list may be empty); an absent or null `timing`, `ties` or `rounding` takes the written-down
//! default (booking, upper tier, half up), an absent `gate`, `cap`, `draw` or `payout` is none, an
//! absent `clawback` is `{"window_days": null, "mode": "recompute"}` and an absent `ramp` is `[]`
//! (plans saved before these settings existed read as they always did). Every other
//! key of a component, a cap or a draw is required (a bonus's `steps` and `linear` aside: exactly
//! one of them), and a component's `rule` may not be blank. Every problem is reported at once, naming
//! the field as a dotted path (`components.tiers.rate`) and the items (`item 2: item 3: …`, the
//! component then the tier). A definition that decodes cleanly is then held to [`Plan::check`]:
//! its first broken rule is reported on `components`.

use pipewise_comp::{
    AttainmentOf, BonusCurve, Cap, Clawback, ClawbackMode, Component, Draw, Payout, Plan, Rounding, SplitKind, TieRule, Tier, TierBasis,
    TierMode, TierTable, Timing,
};
use pipewise_core::error::{Problem, RecordRef, ValidationErrors};
use pipewise_core::money::Decimal;
use pipewise_core::time::{Date, parse_date};
use pipewise_core::{Currency, Message};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// The words of each choice, shared by both directions.

const TIMINGS: &[(&str, Timing)] = &[("booking", Timing::Booking), ("invoice", Timing::Invoice), ("cash", Timing::Cash)];
const TIES: &[(&str, TieRule)] = &[("upper_tier", TieRule::UpperTier), ("lower_tier", TieRule::LowerTier)];
const ROUNDINGS: &[(&str, Rounding)] = &[("half_up", Rounding::HalfUp), ("half_even", Rounding::HalfEven)];
const MEASURES: &[(&str, SplitKind)] = &[("revenue", SplitKind::Revenue), ("overlay", SplitKind::Overlay)];
const MODES: &[(&str, TierMode)] = &[("marginal", TierMode::Marginal), ("retroactive", TierMode::Retroactive)];
const BASES: &[(&str, TierBasis)] = &[("amount", TierBasis::Amount), ("attainment", TierBasis::Attainment)];
const OFS: &[(&str, AttainmentOf)] = &[("individual", AttainmentOf::Individual), ("team", AttainmentOf::Team)];
const CLAWBACKS: &[(&str, ClawbackMode)] = &[("recompute", ClawbackMode::Recompute), ("reclaim", ClawbackMode::Reclaim)];

/// The word for `value` in `choices` (every value of each enum is listed, so never the fallback).
fn word<T: PartialEq>(choices: &[(&'static str, T)], value: &T) -> &'static str {
    choices.iter().find(|(_, candidate)| candidate == value).map_or("", |(word, _)| word)
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn decimal_json(value: Decimal) -> Value {
    Value::String(value.to_string())
}

fn component_json(component: &Component) -> Value {
    match component {
        Component::Commission { rule, measure, table } => json!({
            "type": "commission",
            "rule": rule,
            "measure": word(MEASURES, measure),
            "mode": word(MODES, &table.mode),
            "basis": word(BASES, &table.basis),
            "tiers": table.tiers.iter().map(|tier| json!({ "lower": decimal_json(tier.lower), "rate": decimal_json(tier.rate) })).collect::<Vec<_>>(),
        }),
        Component::Bonus { rule, of, curve } => {
            let (steps, linear) = match curve {
                BonusCurve::Steps(steps) => {
                    let steps: Vec<Value> =
                        steps.iter().map(|(at, amount)| json!({ "at": decimal_json(*at), "amount": decimal_json(*amount) })).collect();
                    (Value::Array(steps), Value::Null)
                }
                BonusCurve::Linear { from, to, at_from, at_to } => (
                    Value::Null,
                    json!({
                        "from": decimal_json(*from),
                        "to": decimal_json(*to),
                        "at_from": decimal_json(*at_from),
                        "at_to": decimal_json(*at_to),
                    }),
                ),
            };
            json!({ "type": "bonus", "rule": rule, "of": word(OFS, of), "steps": steps, "linear": linear })
        }
        Component::TargetIncentive { rule, target, parts } => json!({
            "type": "target_incentive",
            "rule": rule,
            "target": decimal_json(*target),
            "parts": parts.iter().map(|(of, weight)| json!({ "of": word(OFS, of), "weight": decimal_json(*weight) })).collect::<Vec<_>>(),
        }),
        Component::Spiff { rule, amount, min_amount, first, last } => json!({
            "type": "spiff",
            "rule": rule,
            "amount": decimal_json(*amount),
            "min_amount": decimal_json(*min_amount),
            "first": first.to_string(),
            "last": last.to_string(),
        }),
    }
}

/// The plan's definition as stored and as the API shows it (name and version are stored beside it, not in it).
pub fn plan_json(plan: &pipewise_comp::Plan) -> serde_json::Value {
    json!({
        "currency": plan.currency.code(),
        "timing": word(TIMINGS, &plan.timing),
        "ties": word(TIES, &plan.ties),
        "rounding": word(ROUNDINGS, &plan.rounding),
        "gate": plan.gate.map_or(Value::Null, decimal_json),
        "cap": plan.cap.as_ref().map_or(Value::Null, |cap| json!({ "amount": decimal_json(cap.amount), "carry_forward": cap.carry_forward })),
        "draw": plan.draw.as_ref().map_or(Value::Null, |draw| json!({ "amount": decimal_json(draw.amount), "recoverable": draw.recoverable })),
        "clawback": json!({ "window_days": plan.clawback.window_days, "mode": word(CLAWBACKS, &plan.clawback.mode) }),
        "ramp": plan.ramp.iter().copied().map(decimal_json).collect::<Vec<_>>(),
        "payout": plan.payout.map_or(Value::Null, |payout| json!({ "currency": payout.currency.code(), "days_after": payout.days_after })),
        "components": plan.components.iter().map(component_json).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// Decoding

const PLAN_KEYS: &[&str] = &["currency", "timing", "ties", "rounding", "gate", "cap", "draw", "clawback", "ramp", "payout", "components"];
const COMMISSION_KEYS: &[&str] = &["type", "rule", "measure", "mode", "basis", "tiers"];
const BONUS_KEYS: &[&str] = &["type", "rule", "of", "steps", "linear"];
const INCENTIVE_KEYS: &[&str] = &["type", "rule", "target", "parts"];
const SPIFF_KEYS: &[&str] = &["type", "rule", "amount", "min_amount", "first", "last"];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Commission,
    Bonus,
    TargetIncentive,
    Spiff,
}

const KINDS: &[(&str, Kind)] =
    &[("commission", Kind::Commission), ("bonus", Kind::Bonus), ("target_incentive", Kind::TargetIncentive), ("spiff", Kind::Spiff)];

struct Decoder {
    record: RecordRef,
    errors: ValidationErrors,
    /// The 1-based items being read, outermost first (a component, then its tier), for messages.
    items: Vec<usize>,
}

/// `value` for a message, cut short: a string as its text, anything else as JSON.
fn short(value: &Value) -> String {
    let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
    if text.chars().count() > 40 { format!("{}…", text.chars().take(40).collect::<String>()) } else { text }
}

/// `key` of `map`, unless absent or null.
fn present<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|value| !value.is_null())
}

impl Decoder {
    fn push(&mut self, field: &'static str, problem: Problem) {
        let problem = self.items.iter().rev().fold(problem, |problem, item| Problem::InItem { item: *item, problem: Box::new(problem) });
        self.errors.push(&self.record, field, problem);
    }

    /// Each key of `map` not in `keys`, reported on `field`.
    fn unknown_keys(&mut self, map: &Map<String, Value>, field: &'static str, keys: &[&str]) {
        for key in map.keys() {
            if !keys.contains(&key.as_str()) {
                self.push(field, Problem::Fact(Message::new("rule.unknown_field").text("field", format!("{key:?}"))));
            }
        }
    }

    /// `value` as an object whose keys are all in `keys` (unknown keys are reported and the
    /// object still read); `None` (after an error) when it is not an object.
    fn object<'v>(&mut self, value: &'v Value, field: &'static str, keys: &[&str]) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.push(field, Problem::Invalid { value: short(value), expected: "an object" });
            return None;
        };
        self.unknown_keys(map, field, keys);
        Some(map)
    }

    /// `key` of `map`; absent or null is reported as required.
    fn required<'v>(&mut self, map: &'v Map<String, Value>, key: &str, field: &'static str) -> Option<&'v Value> {
        let value = present(map, key);
        if value.is_none() {
            self.push(field, Problem::Required);
        }
        value
    }

    fn list_of<'v>(&mut self, value: &'v Value, field: &'static str) -> Option<&'v [Value]> {
        match value {
            Value::Array(items) => Some(items),
            other => {
                self.push(field, Problem::Invalid { value: short(other), expected: "a list" });
                None
            }
        }
    }

    fn decimal_of(&mut self, value: &Value, field: &'static str) -> Option<Decimal> {
        let text = match value {
            Value::String(text) => text.trim().to_owned(),
            Value::Number(number) => number.to_string(),
            _ => String::new(),
        };
        let parsed = text.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&text).ok());
        if parsed.is_none() {
            self.push(field, Problem::Invalid { value: short(value), expected: "a decimal number" });
        }
        parsed
    }

    fn choice_of<T: Copy>(&mut self, value: &Value, field: &'static str, choices: &[(&str, T)], expected: &'static str) -> Option<T> {
        let found = value.as_str().and_then(|text| choices.iter().find(|(word, _)| *word == text)).map(|(_, choice)| *choice);
        if found.is_none() {
            self.push(field, Problem::Invalid { value: short(value), expected });
        }
        found
    }

    fn decimal(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<Decimal> {
        let value = self.required(map, key, field)?;
        self.decimal_of(value, field)
    }

    fn choice<T: Copy>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        field: &'static str,
        choices: &[(&str, T)],
        expected: &'static str,
    ) -> Option<T> {
        let value = self.required(map, key, field)?;
        self.choice_of(value, field, choices, expected)
    }

    /// An absent or null choice is `T::default()`.
    fn choice_or_default<T: Copy + Default>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        field: &'static str,
        choices: &[(&str, T)],
        expected: &'static str,
    ) -> T {
        present(map, key).and_then(|value| self.choice_of(value, field, choices, expected)).unwrap_or_default()
    }

    fn boolean(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<bool> {
        let value = self.required(map, key, field)?;
        let found = value.as_bool();
        if found.is_none() {
            self.push(field, Problem::Invalid { value: short(value), expected: "true or false" });
        }
        found
    }

    fn date(&mut self, map: &Map<String, Value>, key: &str, field: &'static str) -> Option<Date> {
        let value = self.required(map, key, field)?;
        let Some(text) = value.as_str() else {
            self.push(field, Problem::Invalid { value: short(value), expected: "a date" });
            return None;
        };
        match parse_date(text) {
            Ok(date) => Some(date),
            Err(problem) => {
                self.push(field, problem);
                None
            }
        }
    }

    /// A component's name: required, text, not blank.
    fn rule(&mut self, map: &Map<String, Value>) -> Option<String> {
        let value = self.required(map, "rule", "components.rule")?;
        match value.as_str() {
            Some(text) if !text.trim().is_empty() => Some(text.to_owned()),
            Some(_) => {
                self.push("components.rule", Problem::Required);
                None
            }
            None => {
                self.push("components.rule", Problem::Invalid { value: short(value), expected: "text" });
                None
            }
        }
    }

    /// The items of the list `key` of `map` (required), each read by `read` as item `index + 1`;
    /// `None` when the list or any item has a problem.
    fn items<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        field: &'static str,
        mut read: impl FnMut(&mut Decoder, &Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        let value = self.required(map, key, field)?;
        let items = self.list_of(value, field)?;
        let mut read_items = Vec::with_capacity(items.len());
        let mut whole = true;
        for (index, item) in items.iter().enumerate() {
            self.items.push(index + 1);
            match read(self, item) {
                Some(read_item) => read_items.push(read_item),
                None => whole = false,
            }
            self.items.pop();
        }
        whole.then_some(read_items)
    }

    fn tier(&mut self, value: &Value) -> Option<Tier> {
        let map = self.object(value, "components.tiers", &["lower", "rate"])?;
        let lower = self.decimal(map, "lower", "components.tiers.lower");
        let rate = self.decimal(map, "rate", "components.tiers.rate");
        Some(Tier { lower: lower?, rate: rate? })
    }

    fn step(&mut self, value: &Value) -> Option<(Decimal, Decimal)> {
        let map = self.object(value, "components.steps", &["at", "amount"])?;
        let at = self.decimal(map, "at", "components.steps.at");
        let amount = self.decimal(map, "amount", "components.steps.amount");
        Some((at?, amount?))
    }

    fn part(&mut self, value: &Value) -> Option<(AttainmentOf, Decimal)> {
        let map = self.object(value, "components.parts", &["of", "weight"])?;
        let of = self.choice(map, "of", "components.parts.of", OFS, "one of individual, team");
        let weight = self.decimal(map, "weight", "components.parts.weight");
        Some((of?, weight?))
    }

    fn linear(&mut self, value: &Value) -> Option<BonusCurve> {
        let map = self.object(value, "components.linear", &["from", "to", "at_from", "at_to"])?;
        let from = self.decimal(map, "from", "components.linear.from");
        let to = self.decimal(map, "to", "components.linear.to");
        let at_from = self.decimal(map, "at_from", "components.linear.at_from");
        let at_to = self.decimal(map, "at_to", "components.linear.at_to");
        Some(BonusCurve::Linear { from: from?, to: to?, at_from: at_from?, at_to: at_to? })
    }

    fn bonus_curve(&mut self, map: &Map<String, Value>) -> Option<BonusCurve> {
        match (present(map, "steps"), present(map, "linear")) {
            (Some(_), None) => self.items(map, "steps", "components.steps", Decoder::step).map(BonusCurve::Steps),
            (None, Some(linear)) => self.linear(linear),
            (Some(_), Some(_)) => {
                let problem = Problem::Invalid {
                    value: "steps and linear".into(),
                    expected: "allowed: a bonus has steps or a linear curve, not both",
                };
                self.push("components.steps", problem);
                None
            }
            (None, None) => {
                let problem =
                    Problem::Invalid { value: "no steps and no linear".into(), expected: "a bonus: it needs steps or a linear curve" };
                self.push("components.steps", problem);
                None
            }
        }
    }

    fn component(&mut self, value: &Value) -> Option<Component> {
        let Some(map) = value.as_object() else {
            self.push("components", Problem::Invalid { value: short(value), expected: "an object" });
            return None;
        };
        // The type says which keys belong; without one the rest cannot be read.
        let kind = self.choice(map, "type", "components.type", KINDS, "one of commission, bonus, target_incentive, spiff")?;
        let keys = match kind {
            Kind::Commission => COMMISSION_KEYS,
            Kind::Bonus => BONUS_KEYS,
            Kind::TargetIncentive => INCENTIVE_KEYS,
            Kind::Spiff => SPIFF_KEYS,
        };
        self.unknown_keys(map, "components", keys);
        let rule = self.rule(map);
        match kind {
            Kind::Commission => {
                let measure = self.choice(map, "measure", "components.measure", MEASURES, "one of revenue, overlay");
                let mode = self.choice(map, "mode", "components.mode", MODES, "one of marginal, retroactive");
                let basis = self.choice(map, "basis", "components.basis", BASES, "one of amount, attainment");
                let tiers = self.items(map, "tiers", "components.tiers", Decoder::tier);
                Some(Component::Commission {
                    rule: rule?,
                    measure: measure?,
                    table: TierTable { mode: mode?, basis: basis?, tiers: tiers? },
                })
            }
            Kind::Bonus => {
                let of = self.choice(map, "of", "components.of", OFS, "one of individual, team");
                let curve = self.bonus_curve(map);
                Some(Component::Bonus { rule: rule?, of: of?, curve: curve? })
            }
            Kind::TargetIncentive => {
                let target = self.decimal(map, "target", "components.target");
                let parts = self.items(map, "parts", "components.parts", Decoder::part);
                Some(Component::TargetIncentive { rule: rule?, target: target?, parts: parts? })
            }
            Kind::Spiff => {
                let amount = self.decimal(map, "amount", "components.amount");
                let min_amount = self.decimal(map, "min_amount", "components.min_amount");
                let first = self.date(map, "first", "components.first");
                let last = self.date(map, "last", "components.last");
                Some(Component::Spiff { rule: rule?, amount: amount?, min_amount: min_amount?, first: first?, last: last? })
            }
        }
    }

    fn cap(&mut self, value: &Value) -> Option<Cap> {
        let map = self.object(value, "cap", &["amount", "carry_forward"])?;
        let amount = self.decimal(map, "amount", "cap.amount");
        let carry_forward = self.boolean(map, "carry_forward", "cap.carry_forward");
        Some(Cap { amount: amount?, carry_forward: carry_forward? })
    }

    fn draw(&mut self, value: &Value) -> Option<Draw> {
        let map = self.object(value, "draw", &["amount", "recoverable"])?;
        let amount = self.decimal(map, "amount", "draw.amount");
        let recoverable = self.boolean(map, "recoverable", "draw.recoverable");
        Some(Draw { amount: amount?, recoverable: recoverable? })
    }

    fn currency_of(&mut self, value: &Value, field: &'static str) -> Option<Currency> {
        match value.as_str().map(Currency::from_code) {
            Some(Ok(currency)) => Some(currency),
            Some(Err(problem)) => {
                self.push(field, problem);
                None
            }
            None => {
                self.push(field, Problem::Invalid { value: short(value), expected: "an ISO 4217 currency code" });
                None
            }
        }
    }

    /// A whole number of days from 0 to `max`, `range` saying so in a message.
    fn days_of(&mut self, value: &Value, field: &'static str, max: u32, range: &'static str) -> Option<u32> {
        let days = value.as_u64().and_then(|days| u32::try_from(days).ok()).filter(|days| *days <= max);
        if days.is_none() {
            self.push(field, Problem::OutOfRange { value: short(value), range });
        }
        days
    }

    fn clawback(&mut self, value: &Value) -> Option<Clawback> {
        let map = self.object(value, "clawback", &["window_days", "mode"])?;
        let window_days = match present(map, "window_days") {
            None => Some(None),
            Some(days) => self.days_of(days, "clawback.window_days", pipewise_comp::plan::MAX_CLAWBACK_DAYS, "0 to 3653 days").map(Some),
        };
        let mode = self.choice_or_default(map, "mode", "clawback.mode", CLAWBACKS, "one of recompute, reclaim");
        Some(Clawback { window_days: window_days?, mode })
    }

    fn payout(&mut self, value: &Value) -> Option<Payout> {
        let map = self.object(value, "payout", &["currency", "days_after"])?;
        let currency = self.required(map, "currency", "payout.currency").and_then(|value| self.currency_of(value, "payout.currency"));
        let days_after = self
            .required(map, "days_after", "payout.days_after")
            .and_then(|value| self.days_of(value, "payout.days_after", pipewise_comp::plan::MAX_PAYOUT_DAYS, "0 to 366 days"));
        Some(Payout { currency: currency?, days_after: days_after? })
    }

    /// The whole plan, or `None` after at least one error.
    fn plan(&mut self, value: &Value, name: &str, version: u32) -> Option<Plan> {
        let Some(map) = value.as_object() else {
            self.push("(body)", Problem::Invalid { value: short(value), expected: "a JSON object" });
            return None;
        };
        self.unknown_keys(map, "(body)", PLAN_KEYS);
        let currency = self.required(map, "currency", "currency").and_then(|value| self.currency_of(value, "currency"));
        let timing = self.choice_or_default(map, "timing", "timing", TIMINGS, "one of booking, invoice, cash");
        let ties = self.choice_or_default(map, "ties", "ties", TIES, "one of upper_tier, lower_tier");
        let rounding = self.choice_or_default(map, "rounding", "rounding", ROUNDINGS, "one of half_up, half_even");
        // An optional setting is `Some(None)` when unset, `None` after an error.
        let gate = match present(map, "gate") {
            None => Some(None),
            Some(value) => self.decimal_of(value, "gate").map(Some),
        };
        let cap = match present(map, "cap") {
            None => Some(None),
            Some(value) => self.cap(value).map(Some),
        };
        let draw = match present(map, "draw") {
            None => Some(None),
            Some(value) => self.draw(value).map(Some),
        };
        let clawback = match present(map, "clawback") {
            None => Some(Clawback::default()),
            Some(value) => self.clawback(value),
        };
        let ramp = match present(map, "ramp") {
            None => Some(Vec::new()),
            Some(_) => self.items(map, "ramp", "ramp", |decoder, step| decoder.decimal_of(step, "ramp")),
        };
        let payout = match present(map, "payout") {
            None => Some(None),
            Some(value) => self.payout(value).map(Some),
        };
        let components = self.items(map, "components", "components", Decoder::component);
        Some(Plan {
            name: name.to_owned(),
            version,
            currency: currency?,
            components: components?,
            gate: gate?,
            cap: cap?,
            draw: draw?,
            timing,
            ties,
            rounding,
            clawback: clawback?,
            ramp: ramp?,
            payout: payout?,
        })
    }
}

/// Decodes a definition; `name` and `version` come from the stored row. Every problem at once; then `Plan::check`.
pub fn plan_from_json(value: &serde_json::Value, name: &str, version: u32) -> Result<pipewise_comp::Plan, ValidationErrors> {
    let mut decoder = Decoder { record: RecordRef::new_record("plan"), errors: ValidationErrors::default(), items: Vec::new() };
    let plan = decoder.plan(value, name, version);
    let Some(plan) = plan.filter(|_| decoder.errors.is_empty()) else {
        if decoder.errors.is_empty() {
            // Every way to `None` reports why; this only keeps the error list from being empty.
            decoder.push("(body)", Problem::Invalid { value: short(value), expected: "a plan" });
        }
        return Err(decoder.errors);
    };
    if let Err(error) = plan.check() {
        decoder.push("components", Problem::Invalid { value: error.to_string(), expected: "a plan whose rules hold" });
    }
    decoder.errors.into_result(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_comp::{Credit, LineKind, PeriodInput, compute};
    use pipewise_core::message::catalog::en_errors;
    use pipewise_core::{OpportunityId, UserId};

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn date(text: &str) -> Date {
        parse_date(text).expect("a date")
    }

    /// Every component kind and every plan-wide setting away from its default.
    fn full_plan() -> Plan {
        let components = vec![
            Component::Commission {
                rule: "AE commission".into(),
                measure: SplitKind::Revenue,
                table: TierTable {
                    mode: TierMode::Marginal,
                    basis: TierBasis::Amount,
                    tiers: vec![Tier { lower: d("0"), rate: d("0.04") }, Tier { lower: d("150000"), rate: d("0.06") }],
                },
            },
            Component::Commission {
                rule: "SE overlay".into(),
                measure: SplitKind::Overlay,
                table: TierTable {
                    mode: TierMode::Retroactive,
                    basis: TierBasis::Attainment,
                    tiers: vec![Tier { lower: d("0"), rate: d("0.01") }, Tier { lower: d("1"), rate: d("0.02") }],
                },
            },
            Component::Bonus {
                rule: "quota club".into(),
                of: AttainmentOf::Individual,
                curve: BonusCurve::Steps(vec![(d("1"), d("2000")), (d("1.25"), d("3500"))]),
            },
            Component::Bonus {
                rule: "team kicker".into(),
                of: AttainmentOf::Team,
                curve: BonusCurve::Linear { from: d("0.8"), to: d("1.2"), at_from: d("0"), at_to: d("5000") },
            },
            Component::TargetIncentive {
                rule: "variable".into(),
                target: d("10000"),
                parts: vec![(AttainmentOf::Individual, d("0.75")), (AttainmentOf::Team, d("0.25"))],
            },
            Component::Spiff {
                rule: "Q1 new logos".into(),
                amount: d("500"),
                min_amount: d("10000"),
                first: date("2027-01-01"),
                last: date("2027-03-31"),
            },
        ];
        Plan {
            gate: Some(d("0.5")),
            cap: Some(Cap { amount: d("20000"), carry_forward: true }),
            draw: Some(Draw { amount: d("5000"), recoverable: true }),
            timing: Timing::Invoice,
            ties: TieRule::LowerTier,
            rounding: Rounding::HalfEven,
            clawback: Clawback { window_days: Some(90), mode: ClawbackMode::Reclaim },
            ramp: vec![d("0.25"), d("0.5"), d("0.75")],
            payout: Some(Payout { currency: Currency::KRW, days_after: 15 }),
            ..Plan::new("AE 2027", 4, Currency::USD, components)
        }
    }

    #[test]
    fn every_component_and_setting_round_trips_through_its_json() {
        let plan = full_plan();
        let first = plan_json(&plan);
        assert_eq!(first["timing"], "invoice");
        assert_eq!(first["gate"], "0.5");
        assert_eq!(first["clawback"], json!({ "window_days": 90, "mode": "reclaim" }));
        assert_eq!(first["ramp"], json!(["0.25", "0.5", "0.75"]));
        assert_eq!(first["payout"], json!({ "currency": "KRW", "days_after": 15 }));
        assert_eq!(first["components"][0]["tiers"][0], json!({ "lower": "0", "rate": "0.04" }));
        assert_eq!(first["components"][2]["linear"], Value::Null);
        assert_eq!(first["components"][3]["steps"], Value::Null);
        let decoded = plan_from_json(&first, "AE 2027", 4).expect("the plan decodes");
        assert_eq!(decoded, plan);
        assert_eq!(plan_json(&decoded), first);
        // Through text too, as it is stored.
        let stored: Value = serde_json::from_str(&first.to_string()).expect("JSON");
        assert_eq!(plan_from_json(&stored, "AE 2027", 4).expect("the plan decodes"), plan);
    }

    #[test]
    fn absent_settings_take_their_defaults_and_numbers_are_decimals() {
        let body = json!({
            "currency": "KRW",
            "components": [
                { "type": "commission", "rule": "bookings", "measure": "revenue", "mode": "marginal", "basis": "amount",
                  "tiers": [{ "lower": 0, "rate": 0.04 }, { "lower": "1e8", "rate": " 0.05 " }] },
            ],
        });
        let plan = plan_from_json(&body, "Korea", 1).expect("the plan decodes");
        let tiers = vec![Tier { lower: d("0"), rate: d("0.04") }, Tier { lower: d("100000000"), rate: d("0.05") }];
        let commission = Component::Commission {
            rule: "bookings".into(),
            measure: SplitKind::Revenue,
            table: TierTable { mode: TierMode::Marginal, basis: TierBasis::Amount, tiers },
        };
        assert_eq!(plan, Plan::new("Korea", 1, Currency::KRW, vec![commission]));
        let empty = plan_from_json(&json!({ "currency": "USD", "components": [], "gate": null, "timing": null }), "Empty", 2);
        assert_eq!(empty.expect("an empty plan decodes"), Plan::new("Empty", 2, Currency::USD, Vec::new()));
    }

    #[test]
    fn a_bad_clawback_ramp_or_payout_is_named() {
        let body = json!({
            "currency": "USD",
            "clawback": { "window_days": -3, "mode": "forgive" },
            "ramp": ["0.5", "lots"],
            "payout": { "currency": "EURO", "days_after": 400 },
            "components": [],
        });
        let errors = plan_from_json(&body, "Bad", 1).unwrap_err();
        let found: Vec<(&str, String)> = errors.0.iter().map(|error| (error.field, error.problem.to_string())).collect();
        let fields: Vec<&str> = found.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["clawback.window_days", "clawback.mode", "ramp", "payout.currency", "payout.days_after"], "{found:?}");
        assert!(found[2].1.contains("item 2") && found[2].1.contains("lots"), "{found:?}");
        // A ramp step above the whole quota is held to the plan's rules.
        let over = json!({ "currency": "USD", "ramp": ["0.5", "1.5"], "components": [] });
        let error = plan_from_json(&over, "Over", 1).unwrap_err();
        assert!(en_errors(&error).contains("month 2 carries 1.5"), "{}", en_errors(&error));
        // A payout currency is another than the plan's own.
        let same = json!({ "currency": "USD", "payout": { "currency": "USD", "days_after": 15 }, "components": [] });
        let error = plan_from_json(&same, "Same", 1).unwrap_err();
        assert!(en_errors(&error).contains("already pays in USD"), "{}", en_errors(&error));
    }

    #[test]
    fn bad_input_names_every_problem_at_once() {
        let body = json!({
            "colour": "red",
            "timing": "weekly",
            "cap": { "amount": "20000" },
            "components": [
                { "type": "commission", "rule": "AE", "measure": "revenue", "mode": "marginal", "basis": "amount",
                  "tiers": [{ "lower": "0", "rate": "0.04" }, { "lower": "100000", "rate": "abc" }] },
                { "type": "bonus", "rule": "club", "of": "team", "steps": [{ "at": "1", "amount": "2000" }],
                  "linear": { "from": "0.8", "to": "1.2", "at_from": "0", "at_to": "5000" } },
                { "type": "spiff", "rule": "", "amount": "500", "min_amount": "0", "first": "2027-02-30", "last": "2027-03-31", "extra": 1 },
                { "type": "kickback", "rule": "?" },
            ],
        });
        let errors = plan_from_json(&body, "AE 2027", 1).unwrap_err();
        let found: Vec<(&str, String)> = errors.0.iter().map(|error| (error.field, error.problem.to_string())).collect();
        let expected = [
            ("(body)", "rule.unknown_field(field=\"colour\")"),
            ("currency", "is required"),
            ("timing", "\"weekly\" is not one of booking, invoice, cash"),
            ("cap.carry_forward", "is required"),
            ("components.tiers.rate", "item 1: item 2: \"abc\" is not a decimal number"),
            ("components.steps", "item 2: \"steps and linear\" is not allowed: a bonus has steps or a linear curve, not both"),
            ("components", "item 3: rule.unknown_field(field=\"extra\")"),
            ("components.rule", "item 3: is required"),
            ("components.first", "item 3: \"2027-02-30\" is not a date"),
            ("components.type", "item 4: \"kickback\" is not one of commission, bonus, target_incentive, spiff"),
        ];
        let expected: Vec<(&str, String)> = expected.iter().map(|(field, problem)| (*field, (*problem).to_owned())).collect();
        assert_eq!(found, expected);
        assert!(errors.0.iter().all(|error| error.record == RecordRef::new_record("plan")));
        assert_eq!(
            en_errors(&errors).split("; ").take(2).collect::<Vec<_>>(),
            ["new plan: (body): unknown field \"colour\"", "new plan: currency: is required"]
        );
        let not_an_object = plan_from_json(&json!([1]), "AE 2027", 1).unwrap_err();
        assert_eq!(en_errors(&not_an_object), "new plan: (body): \"[1]\" is not a JSON object");
    }

    #[test]
    fn a_plan_that_decodes_is_held_to_its_rules() {
        let body = json!({
            "currency": "USD",
            "components": [
                { "type": "target_incentive", "rule": "variable", "target": "10000",
                  "parts": [{ "of": "individual", "weight": "0.75" }, { "of": "team", "weight": "0.5" }] },
            ],
        });
        let errors = plan_from_json(&body, "AE 2027", 1).unwrap_err();
        assert_eq!(
            en_errors(&errors),
            "new plan: components: \"rule \\\"variable\\\": the weights add up to 1.25, not 1\" is not a plan whose rules hold"
        );
    }

    #[test]
    fn an_accelerator_above_quota_decoded_from_json_is_held_to_the_cap() {
        // Quota 100,000: 10% up to 100%, 15% above; cap 20,000. Bookings 250,000:
        // 100,000 x 10% = 10,000 + 150,000 x 15% = 22,500 = 32,500, capped at 20,000 by -12,500.
        let body = json!({
            "currency": "USD",
            "cap": { "amount": "20000", "carry_forward": false },
            "components": [
                { "type": "commission", "rule": "quota", "measure": "revenue", "mode": "marginal", "basis": "attainment",
                  "tiers": [{ "lower": "0", "rate": "0.10" }, { "lower": "1", "rate": "0.15" }] },
            ],
        });
        let plan = plan_from_json(&body, "AE 2026", 3).expect("the plan decodes");
        let credits = [Credit {
            deal: OpportunityId(1),
            person: UserId(1),
            kind: SplitKind::Revenue,
            share: Decimal::ONE,
            amount: d("250000.00"),
            currency: Currency::USD,
            fx: None,
            booked_on: date("2026-03-31"),
            invoiced_on: None,
            paid_on: None,
            reversed_on: None,
        }];
        let input = PeriodInput {
            payee: UserId(1),
            first: date("2026-01-01"),
            last: date("2026-03-31"),
            quota: Some(d("100000")),
            team: None,
            credits: &credits,
            cap_carried_in: Decimal::ZERO,
            draw_owed_in: Decimal::ZERO,
        };
        let statement = compute(&plan, &input).expect("the plan computes");
        // Each line as pipewise-comp's golden cases write it: kind, deal, tier, base x rate = unrounded -> amount.
        let lines: Vec<String> = statement
            .lines
            .iter()
            .map(|line| {
                let deal = line.deal.map_or(String::from("-"), |deal| deal.to_string());
                let tier = line.tier.map_or(String::from("-"), |tier| tier.to_string());
                let rate = line.rate.map_or(String::from("-"), |rate| rate.normalize().to_string());
                format!(
                    "{:?} deal {deal} tier {tier}: {} x {rate} = {} -> {}",
                    line.kind,
                    line.base.normalize(),
                    line.unrounded.normalize(),
                    line.amount
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "Commission deal 1 tier 0: 100000 x 0.1 = 10000 -> 10000.00",
                "Commission deal 1 tier 1: 150000 x 0.15 = 22500 -> 22500.00",
                "Cap deal - tier -: 32500 x 20000 = -12500 -> -12500.00",
            ]
        );
        let cap_lines: Vec<Decimal> = statement.lines.iter().filter(|line| line.kind == LineKind::Cap).map(|line| line.amount).collect();
        assert_eq!(cap_lines, [d("-12500.00")]);
        assert_eq!(statement.total.to_string(), "20000.00");
        assert_eq!(statement.cap_carried_out, d("0"));
        assert_eq!((statement.plan.as_str(), statement.version), ("AE 2026", 3));
    }
}
