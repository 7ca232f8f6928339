//! Leads: people who showed interest, from companies that are mostly not accounts yet, in
//! every state of qualification, a few owned by nobody (SPEC C10's "slipping through the
//! cracks"), some with follow-up tasks.

use pipewise_core::Timestamp;
use pipewise_core::records::LeadStatus;

use crate::activity::TaskPlan;
use crate::clock::{self, date_of_day, day_of, days_between, plus_days};
use crate::data::Company;
use crate::names;
use crate::org::{self, EmailBook};
use crate::phrases::{self, say};
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadPlan {
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub source: &'static str,
    /// The company's industry, size and region, as a web form asks for them (none for a
    /// personal address).
    pub industry: Option<&'static str>,
    pub employees: Option<i64>,
    pub region: Option<&'static str>,
    pub status: LeadStatus,
    /// Index into the reps; `None` when nobody owns it.
    pub owner: Option<usize>,
    pub created_at: Timestamp,
    pub korean: bool,
    pub task: Option<TaskPlan>,
}

/// What every lead is drawn from.
pub struct LeadContext<'a> {
    pub start: Timestamp,
    pub now: Timestamp,
    /// Companies to draw lead companies from.
    pub companies: &'a [&'a Company],
    pub n_reps: usize,
    /// Each rep's UTC offset, for office hours.
    pub rep_offsets: &'a [i64],
}

pub fn plan_lead(rng: &mut Rng, context: &LeadContext, emails: &mut EmailBook) -> LeadPlan {
    let span = days_between(context.start, context.now);
    let raw = plus_days(context.start, span * rng.unit().sqrt());
    let owner = (context.n_reps > 0 && rng.chance(0.88)).then(|| rng.index(context.n_reps));
    let offset = owner.and_then(|rep| context.rep_offsets.get(rep).copied()).unwrap_or(0);
    let created_at = clock::snap_to_working_time(rng, raw, offset).min(context.now);
    let company = (!context.companies.is_empty()).then(|| *rng.pick(context.companies));
    let korean = company.is_some_and(|company| company.country == "KR") || rng.chance(0.25);
    let person = if korean { org::korean_name(rng) } else { org::english_name(rng) };
    let personal = company.is_none() || rng.chance(0.1);
    let domain = match company {
        Some(company) if !personal => company.domains[0],
        _ => *rng.pick(names::FREE_MAIL),
    };
    let email = rng.chance(0.95).then(|| emails.claim(&person.email_local, domain));
    let level = rng.weighted(&[0.2, 0.35, 0.45]);
    let titles = if korean { names::KO_TITLES[level] } else { names::EN_TITLES[level] };
    let title = (!personal).then(|| (*rng.pick(titles)).to_owned());
    let country = company.map_or("US", |company| company.country);
    let phone = rng.chance(0.5).then(|| org::phone_number(rng, country, korean));
    let sources: Vec<f64> = names::LEAD_SOURCES.iter().map(|(_, weight)| *weight).collect();
    let source = names::LEAD_SOURCES[rng.weighted(&sources)].0;
    let age = days_between(created_at, context.now);
    use LeadStatus::*;
    let statuses = [New, Working, Qualified, Disqualified, Converted];
    let weights: [f64; 5] = if age < 14.0 {
        [50.0, 45.0, 0.0, 5.0, 0.0]
    } else if age < 60.0 {
        [10.0, 40.0, 20.0, 20.0, 10.0]
    } else {
        [5.0, 10.0, 15.0, 40.0, 30.0]
    };
    let status = statuses[rng.weighted(&weights)];
    let today = day_of(context.now);
    let task = match (status, owner) {
        (New | Working, Some(_)) if rng.chance(0.6) => {
            let list = phrases::LEAD_TASKS;
            let title = say(if status == New { list[0] } else { *rng.pick(&list[1..]) }, korean).to_owned();
            let due_day = (day_of(created_at) + rng.between(1, 5)).max(today - 25).min(today + 14);
            let task_created = created_at.max(clock::working_time(rng, due_day - 3, offset).min(context.now));
            let completed_at =
                (due_day < today && rng.chance(0.5)).then(|| clock::working_time(rng, due_day, offset).clamp(task_created, context.now));
            Some(TaskPlan { title, due_on: date_of_day(due_day), completed_at, created_at: task_created })
        }
        _ => None,
    };
    LeadPlan {
        name: person.display,
        company: company.map(|company| company.name.to_owned()).filter(|_| !personal),
        email,
        phone,
        title,
        source,
        industry: company.filter(|_| !personal).map(|company| company.industry),
        employees: company.filter(|_| !personal).and_then(|company| company.employees),
        region: company.filter(|_| !personal).map(|company| company.region.as_str()),
        status,
        owner,
        created_at,
        korean,
        task,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn leads_spread_over_statuses_and_some_have_no_owner() {
        let companies = crate::data::companies();
        let pool: Vec<&Company> = companies.iter().collect();
        let context = LeadContext {
            start: "2025-05-01T00:00:00Z".parse().unwrap(),
            now: "2026-11-01T00:00:00Z".parse().unwrap(),
            companies: &pool,
            n_reps: 30,
            rep_offsets: &[-5; 30],
        };
        let mut emails = EmailBook::default();
        let leads: Vec<LeadPlan> =
            (0..400).map(|index| plan_lead(&mut Rng::stream(3, Stream::Leads, index), &context, &mut emails)).collect();
        for status in LeadStatus::ALL {
            assert!(leads.iter().filter(|lead| lead.status == *status).count() > 10, "{status}");
        }
        let unowned = leads.iter().filter(|lead| lead.owner.is_none()).count();
        assert!((20..80).contains(&unowned), "{unowned}");
        for lead in &leads {
            assert!(lead.created_at >= context.start && lead.created_at <= context.now);
            if let Some(task) = &lead.task {
                assert!(task.created_at <= context.now && task.completed_at.is_none_or(|done| done >= task.created_at));
            }
            if let Some(email) = &lead.email {
                assert!(pipewise_core::text::email(email).is_ok(), "{email}");
            }
        }
    }
}
