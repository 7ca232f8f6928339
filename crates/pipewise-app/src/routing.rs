//! Lead routing (SPEC C10): the organisation's ideal customer profile, pool and territories
//! (ops and admins set them; audited), applied to every lead that comes in without an owner —
//! by the API, the web app or an import — through `pipewise_leads::routing`; each lead's fit is
//! kept as it was when it came in, and the fairness report reads what each rep got.
//!
//! Loads read what routing gave each rep over the last [`WINDOW_DAYS`] (leads given an owner by
//! hand do not count against anyone's turn); the report reads every lead that came in then.

use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::records::{Lead, LeadStatus};
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_leads::Prospect;
use pipewise_leads::fairness::{self, Received, Report};
use pipewise_leads::fit::{self, Profile};
use pipewise_leads::routing::{self, Load, Member, Rules, Territory};
use pipewise_store::LeadRoute;
use serde_json::{Value, json};

use crate::*;

/// How far back loads and the fairness report look.
pub const WINDOW_DAYS: i64 = 30;
/// The most capacity one rep may have.
pub const MAX_CAPACITY: u32 = 10;
const MAX_TERRITORIES: usize = 50;
const MAX_VALUES: usize = 50;

pub use pipewise_store::LeadRoute as StoredRoute;

/// The organisation's routing rules; empty (routing off) until ops set them.
pub fn rules(tx: &mut Tx, org: OrgId) -> Result<Rules> {
    match tx.0.lead_routing(org)? {
        Some(text) => decode(&text).map_err(|problem| StoreError::Corrupt { table: "lead_routing", detail: format!("rules: {problem}") }),
        None => Ok(Rules::default()),
    }
}

/// Replaces the organisation's routing rules, after checking every part (each problem named
/// with its place). Ops and admins; audited with the rules before and after.
pub fn set_rules(tx: &mut Tx, ctx: &WriteCtx, new: &Rules) -> Result<Rules> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins set lead routing".into())?;
    let record = RecordRef::new_record("lead_routing");
    let mut errors = ValidationErrors::default();
    let users = tx.0.users(ctx.org)?;
    let mut rules = new.clone();
    clean_list(&mut errors, &record, "industries", &mut rules.profile.industries);
    clean_list(&mut errors, &record, "regions", &mut rules.profile.regions);
    clean_list(&mut errors, &record, "titles", &mut rules.profile.titles);
    check_range(&mut errors, &record, "max_employees", rules.profile.min_employees, rules.profile.max_employees);
    let mut seen = std::collections::BTreeSet::new();
    for member in &rules.pool {
        let active = users.iter().any(|user| user.id == member.user && user.active && user.role != Role::Viewer);
        if !active {
            errors.push(&record, "pool", Problem::UnknownReference { kind: UserId::LABEL, id: member.user.0 });
        }
        if member.capacity > MAX_CAPACITY {
            errors.push(&record, "pool", Problem::OutOfRange { value: member.capacity.to_string(), range: "0 to 10" });
        }
        if !seen.insert(member.user) {
            errors.push(&record, "pool", Problem::Invalid { value: member.user.to_string(), expected: "each rep once" });
        }
    }
    if rules.territories.len() > MAX_TERRITORIES {
        errors.push(&record, "territories", Problem::OutOfRange { value: rules.territories.len().to_string(), range: "at most 50" });
    }
    let mut names = std::collections::BTreeSet::new();
    for territory in &mut rules.territories {
        territory.name = territory.name.trim().to_owned();
        if territory.name.is_empty() || territory.name.chars().count() > 100 {
            errors.push(
                &record,
                "territories",
                Problem::Invalid { value: territory.name.clone(), expected: "a name of 1 to 100 characters" },
            );
        } else if !names.insert(territory.name.to_lowercase()) {
            errors.push(&record, "territories", Problem::Invalid { value: territory.name.clone(), expected: "a name used once" });
        }
        clean_list(&mut errors, &record, "territories", &mut territory.regions);
        clean_list(&mut errors, &record, "territories", &mut territory.industries);
        check_range(&mut errors, &record, "territories", territory.min_employees, territory.max_employees);
        territory.members.dedup();
        for member in &territory.members {
            if !rules.pool.iter().any(|pooled| pooled.user == *member) {
                errors.push(
                    &record,
                    "territories",
                    Problem::Invalid { value: member.to_string(), expected: "members who are in the pool" },
                );
            }
        }
        if territory.regions.is_empty()
            && territory.industries.is_empty()
            && territory.min_employees.is_none()
            && territory.max_employees.is_none()
        {
            errors.push(
                &record,
                "territories",
                Problem::Invalid { value: territory.name.clone(), expected: "a rule: regions, industries or a size" },
            );
        }
    }
    errors.into_result(())?;
    let before = tx.0.lead_routing(ctx.org)?;
    let text = encode(&rules).to_string();
    tx.0.put_lead_routing(ctx.org, &text, ctx.at)?;
    let before = before.and_then(|before| serde_json::from_str::<Value>(&before).ok());
    audit(tx, ctx, "lead_routing", ctx.org.0, "update", before, Some(encode(&rules)))?;
    Ok(rules)
}

fn clean_list(errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, values: &mut Vec<String>) {
    values.iter_mut().for_each(|value| *value = value.trim().to_owned());
    values.retain(|value| !value.is_empty());
    values.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    if values.len() > MAX_VALUES || values.iter().any(|value| value.chars().count() > 100) {
        errors.push(
            record,
            field,
            Problem::Invalid { value: values.join(", ").chars().take(100).collect(), expected: "at most 50 values of 100 characters" },
        );
    }
}

fn check_range(errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, min: Option<i64>, max: Option<i64>) {
    let bad = |count: Option<i64>| count.is_some_and(|count| !(0..=10_000_000).contains(&count));
    if bad(min) || bad(max) || min.zip(max).is_some_and(|(min, max)| min > max) {
        errors.push(record, field, Problem::OutOfRange { value: format!("{min:?} to {max:?}"), range: "0 to 10,000,000, the least first" });
    }
}

/// Every lead's fit score, by lead.
pub fn fit_scores(tx: &mut Tx, org: OrgId) -> Result<std::collections::HashMap<LeadId, i32>> {
    Ok(tx.0.lead_routes(org, Timestamp::from_micros(i64::MIN))?.into_iter().map(|route| (route.lead_id, route.fit_score)).collect())
}

/// How lead `id` was scored and routed when it came in.
pub fn route_of(tx: &mut Tx, org: OrgId, id: LeadId) -> Result<Option<LeadRoute>> {
    tx.0.lead_route(org, id)
}

/// What the rules read of `lead`.
pub fn prospect(lead: &Lead) -> Prospect<'_> {
    Prospect {
        industry: lead.industry.as_deref(),
        employee_count: lead.employee_count,
        region: lead.region.as_deref(),
        title: lead.title.as_deref(),
        business_email: lead.email.as_deref().map(|email| crate::leads::company_domain(email).is_some()),
    }
}

/// Scores a lead that just came in and, when it has no owner and routing is on, gives it one.
/// Returns the lead as it now stands. Called by `records::create_lead` inside its transaction.
pub(crate) fn on_arrival(tx: &mut Tx, ctx: &WriteCtx, lead: Lead) -> Result<Lead> {
    let rules = rules(tx, ctx.org)?;
    let fit = fit::score(&rules.profile, &prospect(&lead));
    let mut lead = lead;
    let mut route = LeadRoute { lead_id: lead.id, fit_score: i32::from(fit.score), routed_to: None, territory: None, routed_at: ctx.at };
    // Someone deactivated (or made a viewer) since the rules were saved takes no more leads.
    let mut rules = rules;
    let users = tx.0.users(ctx.org)?;
    let able = |user: UserId| users.iter().any(|found| found.id == user && found.active && found.role != Role::Viewer);
    rules.pool.retain(|member| able(member.user));
    rules.territories.iter_mut().for_each(|territory| territory.members.retain(|member| able(*member)));
    if lead.owner_id.is_none() && lead.status != LeadStatus::Converted && rules.is_on() {
        let loads = loads(tx, ctx.org, ctx.at)?;
        let chosen = routing::route(&rules, &prospect(&lead), fit.quality(), &loads);
        if let Some(owner) = chosen.owner {
            lead.owner_id = Some(owner);
            tx.0.update_lead(ctx.org, &lead)?;
            route.routed_to = Some(owner);
            route.territory = chosen.territory.clone();
            let details = json!({ "owner_id": owner.0, "territory": chosen.territory, "fit": fit.score });
            audit(tx, ctx, LeadId::LABEL, lead.id.0, "route", None, Some(details))?;
        }
    }
    tx.0.put_lead_route(ctx.org, &route)?;
    Ok(lead)
}

/// Scores a lead again after an edit (its fit follows what it now says); its routing stays.
pub(crate) fn on_edit(tx: &mut Tx, org: OrgId, lead: &Lead, at: Timestamp) -> Result<()> {
    let profile = rules(tx, org)?.profile;
    let score = i32::from(fit::score(&profile, &prospect(lead)).score);
    let route = match tx.0.lead_route(org, lead.id)? {
        Some(route) if route.fit_score == score => return Ok(()),
        Some(route) => LeadRoute { fit_score: score, ..route },
        None => LeadRoute { lead_id: lead.id, fit_score: score, routed_to: None, territory: None, routed_at: at },
    };
    tx.0.put_lead_route(org, &route)
}

/// The leads that came in over the window with their fit: `(lead, fit score)`.
fn window(tx: &mut Tx, org: OrgId, now: Timestamp) -> Result<Vec<(Lead, i32)>> {
    let since = now.plus_seconds(-WINDOW_DAYS * 86_400);
    let routes: std::collections::HashMap<LeadId, i32> =
        tx.0.lead_routes(org, since)?.into_iter().map(|route| (route.lead_id, route.fit_score)).collect();
    Ok(tx
        .0
        .leads(org)?
        .into_iter()
        .filter(|lead| lead.created_at >= since && lead.created_at <= now)
        .map(|lead| {
            let score = routes.get(&lead.id).copied().unwrap_or(50);
            (lead, score)
        })
        .collect())
}

fn quality(score: i32) -> f64 {
    fit::quality(u8::try_from(score.clamp(0, 100)).unwrap_or(0))
}

/// Each rep's load over the window: the quality of the leads routing gave them (read from the
/// routes alone, an index range, so routing an import stays linear), and when the last came.
fn loads(tx: &mut Tx, org: OrgId, now: Timestamp) -> Result<Vec<Load>> {
    let mut loads: Vec<Load> = Vec::new();
    for route in tx.0.lead_routes(org, now.plus_seconds(-WINDOW_DAYS * 86_400))? {
        let Some(owner) = route.routed_to else { continue };
        match loads.iter_mut().find(|load| load.user == owner) {
            Some(load) => {
                load.quality += quality(route.fit_score);
                load.last = load.last.max(Some(route.routed_at));
            }
            None => loads.push(Load { user: owner, quality: quality(route.fit_score), last: Some(route.routed_at) }),
        }
    }
    Ok(loads)
}

/// The fairness report over the window, with the pool as it stands: ops, admins and viewers see
/// everyone; a manager their tree; a rep is refused.
pub fn fairness_for(tx: &mut Tx, org: OrgId, access: &Access, now: Timestamp) -> Result<(Rules, Report, usize)> {
    let reach = match access {
        Access::System => None,
        Access::User(actor) => match actor.role {
            Role::Admin | Role::Ops | Role::Viewer => None,
            Role::Manager => Some(actor.tree.clone()),
            Role::Rep => return Err(StoreError::Forbidden("the lead fairness report is for managers, ops and admins".into())),
        },
    };
    let rules = rules(tx, org)?;
    let mut received: Vec<Received> = Vec::new();
    let mut unowned = 0;
    for (lead, score) in window(tx, org, now)? {
        let Some(owner) = lead.owner_id else {
            unowned += 1;
            continue;
        };
        let converted = u32::from(lead.status == LeadStatus::Converted);
        match received.iter_mut().find(|got| got.user == owner) {
            Some(got) => {
                got.leads += 1;
                got.quality += quality(score);
                got.converted += converted;
            }
            None => received.push(Received { user: owner, leads: 1, quality: quality(score), converted }),
        }
    }
    let mut report = fairness::report(&rules.pool, &received);
    if let Some(tree) = reach {
        report.shares.retain(|share| tree.contains(&share.user));
        report.flagged =
            report.shares.iter().filter(|share| matches!(share.verdict, fairness::Verdict::Over | fairness::Verdict::Under)).count();
    }
    Ok((rules, report, unowned))
}

/// The rules as stored.
pub fn encode(rules: &Rules) -> Value {
    json!({
        "profile": {
            "industries": rules.profile.industries,
            "regions": rules.profile.regions,
            "min_employees": rules.profile.min_employees,
            "max_employees": rules.profile.max_employees,
            "titles": rules.profile.titles,
        },
        "pool": rules.pool.iter().map(|member| json!({ "user_id": member.user.0, "capacity": member.capacity })).collect::<Vec<_>>(),
        "territories": rules.territories.iter().map(|territory| json!({
            "name": territory.name,
            "regions": territory.regions,
            "industries": territory.industries,
            "min_employees": territory.min_employees,
            "max_employees": territory.max_employees,
            "members": territory.members.iter().map(|user| user.0).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Reads stored rules; a problem names the part.
pub fn decode(text: &str) -> std::result::Result<Rules, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let strings = |value: &Value, name: &str| -> std::result::Result<Vec<String>, String> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                items.iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(|| format!("{name}: not text"))).collect()
            }
            Some(_) => Err(format!("{name}: not a list")),
        }
    };
    let number = |value: &Value, name: &str| -> std::result::Result<Option<i64>, String> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(number) => number.as_i64().map(Some).ok_or_else(|| format!("{name}: not a whole number")),
        }
    };
    let profile_value = value.get("profile").cloned().unwrap_or(Value::Null);
    let profile = Profile {
        industries: strings(&profile_value, "industries")?,
        regions: strings(&profile_value, "regions")?,
        min_employees: number(&profile_value, "min_employees")?,
        max_employees: number(&profile_value, "max_employees")?,
        titles: strings(&profile_value, "titles")?,
    };
    let empty = Vec::new();
    let pool = value
        .get("pool")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|member| {
            let user = member.get("user_id").and_then(Value::as_i64).ok_or("pool: a member without user_id")?;
            let capacity = member.get("capacity").and_then(Value::as_u64).ok_or("pool: a member without capacity")?;
            Ok(Member { user: UserId(user), capacity: u32::try_from(capacity).map_err(|_| "pool: capacity too large")? })
        })
        .collect::<std::result::Result<Vec<_>, &str>>()?;
    let territories = value
        .get("territories")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|territory| {
            Ok(Territory {
                name: territory.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                regions: strings(territory, "regions")?,
                industries: strings(territory, "industries")?,
                min_employees: number(territory, "min_employees")?,
                max_employees: number(territory, "max_employees")?,
                members: territory
                    .get("members")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                    .iter()
                    .filter_map(Value::as_i64)
                    .map(UserId)
                    .collect(),
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    Ok(Rules { profile, pool, territories })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_their_stored_form() {
        let rules = Rules {
            profile: Profile {
                industries: vec!["Software".into()],
                regions: vec!["KR".into(), "JP".into()],
                min_employees: Some(50),
                max_employees: None,
                titles: vec!["팀장".into()],
            },
            pool: vec![Member { user: UserId(3), capacity: 2 }, Member { user: UserId(4), capacity: 0 }],
            territories: vec![Territory {
                name: "Korea".into(),
                regions: vec!["KR".into()],
                members: vec![UserId(3)],
                ..Territory::default()
            }],
        };
        assert_eq!(decode(&encode(&rules).to_string()), Ok(rules));
        assert_eq!(decode("{}"), Ok(Rules::default()));
        assert!(decode(r#"{"pool":[{"user_id":1}]}"#).unwrap_err().contains("capacity"));
    }
}
