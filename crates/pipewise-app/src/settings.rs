//! An organisation's health thresholds (SPEC C5 "configurable thresholds", issue 6): the
//! settings behind every health flag and signal (`pipewise_analytics::health`), stored per
//! organisation, changed by ops and admins, and read by every edge that computes figures.
//!
//! - **What is stored.** One row per organisation that changed anything: a JSON object of the
//!   thresholds that differ from the defaults, by name (`{"untouched_days": 10}`). A threshold
//!   left out takes the default of the running release, so a better default reaches everyone who
//!   did not choose otherwise, and "reset to defaults" stores `{}`. One JSON text column rather
//!   than a column per threshold: a threshold added or retired needs no migration, and instances
//!   of different releases sharing one PostgreSQL each read the names they know and ignore the
//!   rest. A stored value outside today's range (a range narrowed since) is clamped into it; a
//!   value that is not a whole number is a corrupt row.
//! - **Who.** Anyone in the organisation reads the thresholds (every figure uses them); only ops
//!   and admins change them ([`set_health_thresholds`]), like the pipeline design.
//! - **Validation.** [`HEALTH_THRESHOLDS`] gives each threshold's name, unit and range; a write
//!   is refused with every bad field named (`health_settings 1: going_dark_days: 50 is out of
//!   range (14 to 42 days)`), including the one rule across fields: a deal cannot be single- and
//!   multi-threaded at once, so `multi_threaded_min_contacts` exceeds
//!   `single_threaded_max_contacts`.
//! - **Audit.** A write that changes something appends `update` on `health_settings` (record id:
//!   the organisation) with the changed thresholds before and after, in the same transaction; a
//!   write that changes nothing writes nothing.

use pipewise_analytics::HealthThresholds;
use pipewise_core::access::SharedKind;
use pipewise_core::error::{FieldError, Problem, RecordRef};
use pipewise_core::*;
use serde_json::{Map, Value};

use crate::*;

/// What the audit log and validation errors call the settings; the record id is the
/// organisation's.
pub const HEALTH_SETTINGS: &str = "health_settings";

/// The catalog key of the one rule across thresholds, a [`Problem::Fact`] on
/// `multi_threaded_min_contacts`.
pub const MULTI_ABOVE_SINGLE: &str = "rule.multi_above_single";

/// What a threshold counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdUnit {
    Days,
    /// Deals, contacts, touchpoints, reps, times.
    Count,
    Percent,
    /// Hundredths of a percent: 5000 is 50 %.
    BasisPoints,
}

impl ThresholdUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdUnit::Days => "days",
            ThresholdUnit::Count => "count",
            ThresholdUnit::Percent => "percent",
            ThresholdUnit::BasisPoints => "basis_points",
        }
    }
}

/// One threshold of [`HealthThresholds`] as a setting: its name (the field's), unit, range and
/// meaning.
#[derive(Clone, Copy, Debug)]
pub struct ThresholdSetting {
    pub name: &'static str,
    pub unit: ThresholdUnit,
    pub min: i64,
    pub max: i64,
    /// The range in words, for [`Problem::OutOfRange`].
    pub range: &'static str,
    /// What the threshold decides, in English (the API documentation).
    pub description: &'static str,
    get: fn(&HealthThresholds) -> i64,
    /// Only called with a value in `min ..= max`, which fits the field's type.
    put: fn(&mut HealthThresholds, i64),
}

impl ThresholdSetting {
    pub fn get(&self, thresholds: &HealthThresholds) -> i64 {
        (self.get)(thresholds)
    }

    /// The value in [`HealthThresholds::default`].
    pub fn default_value(&self) -> i64 {
        self.get(&HealthThresholds::default())
    }

    /// Whether `value` is in this threshold's range.
    pub fn check(&self, value: i64) -> std::result::Result<(), Problem> {
        if (self.min..=self.max).contains(&value) {
            Ok(())
        } else {
            Err(Problem::OutOfRange { value: value.to_string(), range: self.range })
        }
    }

    /// Sets the threshold to `value`, or says why not (out of range).
    pub fn set(&self, thresholds: &mut HealthThresholds, value: i64) -> std::result::Result<(), Problem> {
        self.check(value)?;
        (self.put)(thresholds, value);
        Ok(())
    }
}

macro_rules! threshold {
    ($field:ident, $unit:ident, $min:literal ..= $max:literal, $range:literal, $description:literal) => {
        ThresholdSetting {
            name: stringify!($field),
            unit: ThresholdUnit::$unit,
            min: $min,
            max: $max,
            range: $range,
            description: $description,
            get: |thresholds| i64::from(thresholds.$field),
            put: |thresholds, value| thresholds.$field = value.try_into().expect("a threshold in range fits its field"),
        }
    };
}

/// Every threshold of [`HealthThresholds`], in the order of its fields.
pub static HEALTH_THRESHOLDS: [ThresholdSetting; 23] = [
    threshold!(untouched_days, Days, 1..=365, "1 to 365 days", "Untouched: no activity logged for more than this many days."),
    threshold!(
        going_dark_days,
        Days,
        14..=42,
        "14 to 42 days",
        "Going dark: nothing in from the customer for more than this many days (2 to 6 weeks)."
    ),
    threshold!(pushed_min, Count, 1..=20, "1 to 20 times", "Close date pushed: the close date moved later at least this many times."),
    threshold!(
        single_threaded_max_contacts,
        Count,
        0..=20,
        "0 to 20 contacts",
        "Single-threaded: at most this many contacts engaged on the deal."
    ),
    threshold!(
        late_update_days,
        Days,
        1..=365,
        "1 to 365 days",
        "Late updates: an activity was logged more than this many days after it happened."
    ),
    threshold!(
        moving_days,
        Days,
        1..=365,
        "1 to 365 days",
        "Moving: the deal changed stage within this many days (also the window of deals moving)."
    ),
    threshold!(
        touchpoints_healthy,
        Count,
        1..=1000,
        "1 to 1000 touchpoints",
        "Well touched: at least this many touchpoints in 30 days (also the average behind many touchpoints)."
    ),
    threshold!(
        multi_threaded_min_contacts,
        Count,
        1..=50,
        "1 to 50 contacts",
        "Multi-threaded: at least this many contacts engaged; more than the single-threaded limit."
    ),
    threshold!(
        late_stage_min_win_bp,
        BasisPoints,
        1..=10000,
        "1 to 10000 basis points",
        "An open stage is a late stage from this win probability on, in basis points (5000 = 50 %)."
    ),
    threshold!(
        rep_late_stage_max,
        Count,
        1..=100000,
        "1 to 100000 deals",
        "Too many late-stage deals: a rep holds more than this many deals in late stages."
    ),
    threshold!(
        bottleneck_share_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "Bottleneck: one stage holds more than this share of the open deals (when the usual-share rule is off or has too little history)."
    ),
    threshold!(
        bottleneck_min_deals,
        Count,
        1..=100000,
        "1 to 100000 deals",
        "Bottleneck and parked in late stages are only checked with at least this many open deals."
    ),
    threshold!(
        bottleneck_excess_pts,
        Percent,
        0..=100,
        "0 to 100 percentage points",
        "Bottleneck: a stage holds more than its usual share of the open deals (over the 13 weeks before) plus this many points; 0 uses the fixed share alone, as does too little history."
    ),
    threshold!(
        late_stage_share_max_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "Parked in late stages: more than this share of the open deals sit in late stages."
    ),
    threshold!(
        coverage_target_pct,
        Percent,
        1..=10000,
        "1 to 10000 percent",
        "Thin pipeline below this coverage, in percent (300 = 3×); also the next lever's target."
    ),
    threshold!(no_new_days, Days, 1..=365, "1 to 365 days", "No new opportunities: none created in this many days."),
    threshold!(
        stall_share_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "A rep stalls at a stage when at least this share of their open deals there are stale."
    ),
    threshold!(
        stall_min_deals,
        Count,
        1..=1000,
        "1 to 1000 deals",
        "A rep is only judged stalling at a stage with at least this many open deals there."
    ),
    threshold!(
        team_stall_reps_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "A team stalls at a stage when at least this share of its reps judged there stall."
    ),
    threshold!(
        team_stall_min_reps,
        Count,
        1..=1000,
        "1 to 1000 reps",
        "A team stalls at a stage only when at least this many of its reps stall there."
    ),
    threshold!(
        spread_max_share_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "Value spread: no stage holds more than this share of the open value."
    ),
    threshold!(
        moving_share_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "Deals moving: at least this share of the open deals changed stage within the moving days."
    ),
    threshold!(
        front_loaded_share_pct,
        Percent,
        1..=100,
        "1 to 100 percent",
        "Front-loaded: at least this share of the open deals sit in the first half of the stages."
    ),
];

/// The threshold called `name`.
pub fn threshold_setting(name: &str) -> Option<&'static ThresholdSetting> {
    HEALTH_THRESHOLDS.iter().find(|setting| setting.name == name)
}

/// Every problem of `thresholds`, each naming its field: values out of range and the rule across
/// fields.
pub fn check_health_thresholds(org: OrgId, thresholds: &HealthThresholds) -> std::result::Result<(), ValidationErrors> {
    let record = RecordRef::new(HEALTH_SETTINGS, org.0);
    let mut errors = ValidationErrors::default();
    for setting in &HEALTH_THRESHOLDS {
        if let Err(problem) = setting.check(setting.get(thresholds)) {
            errors.push(&record, setting.name, problem);
        }
    }
    if thresholds.multi_threaded_min_contacts <= thresholds.single_threaded_max_contacts {
        errors.push(&record, "multi_threaded_min_contacts", Problem::Fact(Message::new(MULTI_ABOVE_SINGLE)));
    }
    errors.into_result(())
}

/// Thresholds from `values` by name over the defaults, and every problem at once: values out of
/// range (left at their default) and the rule across fields (unless one of its fields already
/// has a problem). For edges that parse input threshold by threshold.
pub fn health_thresholds_from(
    org: OrgId,
    values: impl IntoIterator<Item = (&'static ThresholdSetting, i64)>,
) -> (HealthThresholds, ValidationErrors) {
    let record = RecordRef::new(HEALTH_SETTINGS, org.0);
    let mut thresholds = HealthThresholds::default();
    let mut errors = ValidationErrors::default();
    for (setting, value) in values {
        if let Err(problem) = setting.set(&mut thresholds, value) {
            errors.push(&record, setting.name, problem);
        }
    }
    let reported = |field: &str| errors.0.iter().any(|error| error.field == field);
    if !reported("single_threaded_max_contacts")
        && !reported("multi_threaded_min_contacts")
        && let Err(more) = check_health_thresholds(org, &thresholds)
    {
        errors.0.extend(more.0);
    }
    (thresholds, errors)
}

/// Every threshold by name, as a JSON object.
pub fn health_thresholds_json(thresholds: &HealthThresholds) -> Value {
    Value::Object(HEALTH_THRESHOLDS.iter().map(|setting| (setting.name.to_owned(), Value::from(setting.get(thresholds)))).collect())
}

/// The stored form: the thresholds that differ from the defaults.
pub(crate) fn overrides_document(thresholds: &HealthThresholds) -> String {
    let overrides: Map<String, Value> = HEALTH_THRESHOLDS
        .iter()
        .filter(|setting| setting.get(thresholds) != setting.default_value())
        .map(|setting| (setting.name.to_owned(), Value::from(setting.get(thresholds))))
        .collect();
    Value::Object(overrides).to_string()
}

/// The thresholds of a stored document: the defaults with its overrides (see the module docs).
pub(crate) fn from_document(document: &str) -> Result<HealthThresholds> {
    let corrupt = |detail: String| StoreError::Corrupt { table: HEALTH_SETTINGS, detail };
    let value: Value = serde_json::from_str(document).map_err(|error| corrupt(format!("thresholds: not JSON: {error}")))?;
    let Value::Object(overrides) = value else { return Err(corrupt(format!("thresholds: {document} is not an object"))) };
    let mut thresholds = HealthThresholds::default();
    for (name, value) in &overrides {
        let Some(setting) = threshold_setting(name) else { continue };
        let value = value.as_i64().ok_or_else(|| corrupt(format!("thresholds: {name}: {value} is not a whole number")))?;
        (setting.put)(&mut thresholds, value.clamp(setting.min, setting.max));
    }
    Ok(thresholds)
}

/// An organisation's health thresholds and their last change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    pub thresholds: HealthThresholds,
    /// `None` while the organisation uses the defaults it never changed.
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<UserId>,
}

/// The organisation's health settings (the defaults until someone changes them). Everyone in the
/// organisation may read them.
pub fn health_settings(tx: &mut Tx, org: OrgId) -> Result<HealthSettings> {
    match tx.0.health_settings(org)? {
        None => Ok(HealthSettings { thresholds: HealthThresholds::default(), updated_at: None, updated_by: None }),
        Some(stored) => Ok(HealthSettings {
            thresholds: from_document(&stored.document)?,
            updated_at: Some(stored.updated_at),
            updated_by: stored.updated_by,
        }),
    }
}

/// The thresholds every figure and flag of the organisation is computed with.
pub fn health_thresholds(tx: &mut Tx, org: OrgId) -> Result<HealthThresholds> {
    Ok(health_settings(tx, org)?.thresholds)
}

/// Replaces the organisation's thresholds (give [`HealthThresholds::default`] to reset them).
/// Ops and admins only; every problem is reported at once, each naming its field; audited.
pub fn set_health_thresholds(tx: &mut Tx, ctx: &WriteCtx, thresholds: &HealthThresholds) -> Result<HealthSettings> {
    let access = writer_access(tx, ctx)?;
    // The pipeline's design and its health rules belong to the same people.
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins change the health thresholds".into())?;
    check_health_thresholds(ctx.org, thresholds)?;
    let before = health_settings(tx, ctx.org)?;
    // Nothing changes, nothing is written (a first write of the defaults included: nothing would
    // read differently).
    if before.thresholds == *thresholds {
        return Ok(before);
    }
    let stored = StoredHealthSettings { document: overrides_document(thresholds), updated_at: ctx.at, updated_by: ctx.actor_id };
    tx.0.put_health_settings(ctx.org, &stored)?;
    audit_update(tx, ctx, HEALTH_SETTINGS, ctx.org.0, health_thresholds_json(&before.thresholds), health_thresholds_json(thresholds))?;
    Ok(HealthSettings { thresholds: *thresholds, updated_at: Some(ctx.at), updated_by: ctx.actor_id })
}

/// Sets the organisation's time zone (an IANA name such as `Asia/Seoul`): from now on its days,
/// periods, as-of bounds, gates' "today" and figures are taken in it, past days included (the
/// figures are counted again in the new zone). Ops and admins only; audited.
pub fn set_time_zone(tx: &mut Tx, ctx: &WriteCtx, raw: &str) -> Result<Organisation> {
    let access = writer_access(tx, ctx)?;
    // The calendar figures are counted in belongs to those who design the pipeline.
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins change the organisation's time zone".into())?;
    let record = RecordRef::new("organisation", ctx.org.0);
    let zone = Zone::parse(raw).map_err(|problem| FieldError { record, field: "time_zone", problem })?;
    let mut organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    if organisation.time_zone == zone {
        return Ok(organisation);
    }
    tx.0.set_organisation_time_zone(ctx.org, &zone)?;
    let before = serde_json::json!({ "time_zone": organisation.time_zone.name() });
    audit_update(tx, ctx, "organisation", ctx.org.0, before, serde_json::json!({ "time_zone": zone.name() }))?;
    organisation.time_zone = zone;
    Ok(organisation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_core::message::catalog::en_errors;

    #[test]
    fn every_field_is_listed_once_and_its_default_is_in_range() {
        let mut names: Vec<&str> = HEALTH_THRESHOLDS.iter().map(|setting| setting.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), HEALTH_THRESHOLDS.len());
        assert_eq!(check_health_thresholds(OrgId(1), &HealthThresholds::default()), Ok(()));
        // Each setting reaches its own field: setting every one to its maximum (and minimum)
        // changes exactly that field, and the value reads back.
        for setting in &HEALTH_THRESHOLDS {
            for value in [setting.min, setting.max] {
                let mut thresholds = HealthThresholds::default();
                setting.set(&mut thresholds, value).unwrap();
                assert_eq!(setting.get(&thresholds), value, "{}", setting.name);
                for other in HEALTH_THRESHOLDS.iter().filter(|other| other.name != setting.name) {
                    assert_eq!(other.get(&thresholds), other.default_value(), "{} moved {}", setting.name, other.name);
                }
            }
        }
    }

    #[test]
    fn out_of_range_values_and_the_rule_across_fields_name_their_fields() {
        let mut thresholds = HealthThresholds { going_dark_days: 50, coverage_target_pct: 0, ..HealthThresholds::default() };
        thresholds.multi_threaded_min_contacts = 1;
        let errors = check_health_thresholds(OrgId(7), &thresholds).unwrap_err();
        assert_eq!(
            en_errors(&errors),
            "health_settings 7: going_dark_days: 50 is out of range (14 to 42 days); \
             health_settings 7: coverage_target_pct: 0 is out of range (1 to 10000 percent); \
             health_settings 7: multi_threaded_min_contacts: must be more than single_threaded_max_contacts"
        );
        let setting = threshold_setting("going_dark_days").unwrap();
        assert_eq!(setting.set(&mut thresholds, 13), Err(Problem::OutOfRange { value: "13".into(), range: "14 to 42 days" }));
        // Built threshold by threshold: every problem at once, bad values left at their default.
        let input = ["untouched_days", "going_dark_days", "single_threaded_max_contacts", "multi_threaded_min_contacts"]
            .map(|name| threshold_setting(name).unwrap());
        let (built, errors) = health_thresholds_from(OrgId(7), [(input[0], 10), (input[1], 43), (input[2], 4), (input[3], 4)]);
        assert_eq!((built.untouched_days, built.going_dark_days), (10, 21));
        let fields: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
        assert_eq!(fields, ["going_dark_days", "multi_threaded_min_contacts"]);
        let (built, errors) = health_thresholds_from(OrgId(7), [(input[0], 10)]);
        assert!(errors.is_empty());
        assert_eq!(built, HealthThresholds { untouched_days: 10, ..HealthThresholds::default() });
    }

    #[test]
    fn the_document_holds_only_the_overrides_and_reads_back() {
        let thresholds = HealthThresholds { untouched_days: 10, coverage_target_pct: 250, ..HealthThresholds::default() };
        let document = overrides_document(&thresholds);
        let parsed: Value = serde_json::from_str(&document).unwrap();
        assert_eq!(parsed, serde_json::json!({ "untouched_days": 10, "coverage_target_pct": 250 }));
        assert_eq!(from_document(&document).unwrap(), thresholds);
        assert_eq!(overrides_document(&HealthThresholds::default()), "{}");
        // Names a newer release added are ignored; a value outside a narrowed range is clamped.
        let read = from_document(r#"{"untouched_days": 9, "some_future_threshold": 3, "going_dark_days": 90}"#).unwrap();
        assert_eq!(read, HealthThresholds { untouched_days: 9, going_dark_days: 42, ..HealthThresholds::default() });
        assert!(matches!(from_document(r#"{"untouched_days": "ten"}"#), Err(StoreError::Corrupt { .. })));
        assert!(matches!(from_document("[]"), Err(StoreError::Corrupt { .. })));
    }
}
