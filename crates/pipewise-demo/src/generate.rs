//! Writes the planned organisation through [`pipewise_app::ops`], phase by phase, in a few
//! large transactions: the organisation, accounts and contacts as the scale set does (see
//! [`crate::write`]), then every deal with its history, activities and tasks, then leads.
//!
//! Deals are planned twice: once when they are written with their history, and again (from
//! the same random stream, so identically) when their activities and tasks are written. That
//! keeps memory to a few ids per deal whatever the demo's size.

use pipewise_app as app;
use pipewise_app::{Db, Result};
use pipewise_core::records::{NewLead, NewTask};
use pipewise_core::user::Locale;
use pipewise_core::{AccountId, LeadId, OpportunityId, Timestamp, UserId, templates};

use crate::activity::{self, TaskPlan};
use crate::clock::plus_days;
use crate::data::{self, Company};
use crate::deal::{self, DealPlan, DealSetup, DealSource};
use crate::lead::{self, LeadContext};
use crate::org::{self, EmailBook};
use crate::rates;
use crate::rng::{Rng, Stream};
use crate::write::{self, Move, Progress, Writer};
use crate::{DemoConfig, DemoCounts, DemoSummary, Phase};

pub(crate) fn run(store: &Db, config: &DemoConfig, report: &mut dyn FnMut(Phase, u64, u64)) -> Result<DemoSummary> {
    let seed = config.seed;
    let now = config.now;
    let (start, org_created) = write::period(now, config.months);
    let companies = data::companies();
    let plan = org::plan_org(seed, config.teams as usize, config.reps as usize, &data::maven_agents());
    let (accounts, unused_companies) = org::plan_accounts(seed, config.accounts as usize, &companies, &plan);
    let contacts = org::plan_contacts(seed, config.contacts as usize, &accounts);
    let rates = rates::demo_rates(start, now);
    let mut writer = Writer::new(store, config.batch_size, Progress::new(report, Phase::Setup));

    // Setup: the organisation, its people, teams, pipelines and rates; then the accounts, and
    // their contacts in the days after each account.
    let org = write::create_organisation(&mut writer, Phase::Setup, &plan, org_created, &rates.rows)?;
    let account_ids = write::create_accounts(&mut writer, Phase::Accounts, &org, org_created, &accounts)?;
    let buyers = write::create_contacts(&mut writer, Phase::Contacts, &org, &accounts, &account_ids, &contacts, |index, contact| {
        plus_days(write::account_created_at(org_created, contact.account), (index % 28) as f64 * 0.25)
    })?;

    // Opportunities: each deal's creation, then its history, activities and tasks in the
    // order they happened, so every write is made by whoever owned the deal at the time.
    let deals = DealSource::new(&plan, &accounts, start, now, &rates.table, org.b2b_stages.open.len(), org.simple_stages.open.len());
    let n_deals = config.opportunities as usize;
    let mean_life_days = mean_life_days(&deals, seed, n_deals);
    let tasks_per_deal = if n_deals == 0 { 0.0 } else { f64::from(config.tasks) / n_deals as f64 };
    let mut counts = DemoCounts::default();
    writer.begin(Phase::Opportunities, n_deals as u64);
    for index in 0..n_deals {
        let (setup, deal_plan) = plan_deal(&deals, seed, index);
        let (_, stages) = org.pipeline(setup.b2b);
        let account = &accounts[setup.account];
        let owner_person = plan.rep_person(setup.rep);
        let account_id = account_ids[setup.account];

        // Activities and tasks, planned from the deal's plan with their own random streams.
        let mut rng = Rng::stream(seed, Stream::Activities, index as u64);
        let buying_team = activity::draw_buying_team(&mut rng, &buyers[setup.account], |rng| 1 + rng.weighted(&[3.0, 4.0, 2.0, 1.0]));
        let factor = activity::activity_weight(&mut rng, &deal_plan, mean_life_days);
        let per_deal = f64::from(config.activities_per_opportunity);
        let count = if per_deal > 0.0 { ((per_deal * factor).round() as usize).max(1) } else { 0 };
        let activities = activity::plan_team_activities(&mut rng, &deal_plan, now, &buying_team, owner_person, count);
        let mut task_rng = Rng::stream(seed, Stream::Tasks, index as u64);
        let n_tasks = tasks_per_deal.floor() as usize + usize::from(task_rng.chance(tasks_per_deal.fract()));
        let korean = account.korean || owner_person.locale == Locale::Ko;
        let tasks = activity::plan_deal_tasks(&mut task_rng, &deal_plan, now, n_tasks, korean, owner_person.utc_offset_hours);
        let moves = write::moves(&deal_plan.steps, setup.rep, deals.teammates(setup.account), stages, &org.staff);
        let mut events: Vec<(Timestamp, Event)> = moves.iter().map(|step| (step.at, Event::Move(step))).collect();
        events.extend(activities.into_iter().map(|planned| (planned.occurred_at, Event::Activity(planned))));
        events.extend(tasks.into_iter().map(|task| (task.created_at, Event::Task(task))));
        events.sort_by_key(|(at, _)| *at);

        let mut owner = setup.rep;
        let new = write::new_opportunity(&deal_plan, account_id, org.staff.user(owner), stages.pipeline_id);
        let deal_id = app::deals::create_opportunity(writer.tx()?, &org.ctx(deal_plan.created_at, Some(org.staff.user(owner))), &new)?.id;
        let mut written = 1;
        for (_, event) in events {
            match event {
                Event::Move(step) => {
                    app::deals::update_opportunity(writer.tx()?, &org.ctx(step.at, Some(step.actor)), deal_id, &step.patch)?;
                    owner = step.new_owner.unwrap_or(owner);
                }
                Event::Activity(planned) => {
                    let user = org.staff.acting(owner, planned.by_manager);
                    let (new, logged_at) = write::new_activity(planned, user, account_id, Some(deal_id), &buying_team);
                    app::activities::create_activity(writer.tx()?, &org.ctx(logged_at, Some(user)), new)?;
                }
                Event::Task(task) => {
                    let owner_id = org.staff.user(owner);
                    let (new, created_at) = new_task(task, owner_id, Some(account_id), Some(deal_id), None);
                    app::activities::create_task(writer.tx()?, &org.ctx(created_at, Some(owner_id)), new)?;
                }
            }
            written += 1;
        }
        counts.add_outcome(deal_plan.outcome);
        writer.advance_by(1, written)?;
    }
    writer.commit()?;

    // Leads, mostly from companies that are not accounts yet.
    let pool: Vec<&Company> = if unused_companies.is_empty() {
        companies.iter().collect()
    } else {
        unused_companies.iter().map(|&index| &companies[index]).collect()
    };
    let rep_offsets: Vec<i64> = (0..plan.reps.len()).map(|rep| plan.rep_person(rep).utc_offset_hours).collect();
    let context = LeadContext { start, now, companies: &pool, n_reps: plan.reps.len(), rep_offsets: &rep_offsets };
    let mut lead_emails = EmailBook::default();
    // The ideal customer scores every lead as it comes in; the pool (each rep's capacity) is set
    // once the leads are in, so the demo's leads keep the owners it planned and routing applies
    // to the leads that come after.
    let rules = demo_routing(&org, &rep_offsets);
    let profile_only = pipewise_leads::routing::Rules { profile: rules.profile.clone(), ..Default::default() };
    app::routing::set_rules(writer.tx()?, &org.ctx(start, None), &profile_only)?;
    writer.begin(Phase::Leads, u64::from(config.leads));
    for index in 0..config.leads {
        let planned = lead::plan_lead(&mut Rng::stream(seed, Stream::Leads, u64::from(index)), &context, &mut lead_emails);
        let owner = planned.owner.map(|rep| org.staff.user(rep));
        let new = NewLead {
            name: planned.name,
            company: planned.company,
            email: planned.email,
            phone: planned.phone,
            title: planned.title,
            source: Some(planned.source.to_owned()),
            industry: planned.industry.map(str::to_owned),
            employee_count: planned.employees,
            region: planned.region.map(str::to_owned),
            status: planned.status,
            owner_id: owner,
        };
        let lead_id = app::records::create_lead(writer.tx()?, &org.ctx(planned.created_at, owner), new)?.id;
        if let (Some(task), Some(owner)) = (planned.task, owner) {
            let (new, created_at) = new_task(task, owner, None, None, Some(lead_id));
            app::activities::create_task(writer.tx()?, &org.ctx(created_at, Some(owner)), new)?;
        }
        writer.advance(1)?;
    }
    app::routing::set_rules(writer.tx()?, &org.ctx(now, None), &rules)?;
    writer.commit()?;

    // The seed templates' stage gates go in once the history is written: the history shows how
    // deals moved before the gates existed, and every open deal meets the gates on its next move.
    let mut tx = store.write()?;
    let gates = templates::b2b_exit_criteria(&org.b2b).into_iter().chain(templates::simple_exit_criteria(&org.simple));
    for criterion in gates {
        app::gates::add_exit_criterion(&mut tx, &org.ctx(now, None), criterion)?;
    }
    tx.commit()?;
    crate::quotas::set_quotas(store, org.id, start.date_utc(), now)?;
    crate::quotas::set_pay(store, org.id, now)?;
    crate::calls::make_calls(store, org.id, now)?;

    counts.count_stored(store, org.id)?;
    Ok(DemoSummary { organisation: org.id, users: plan.logins(), counts, rates_shifted_days: rates.shifted_days })
}

/// Something that happens to a deal after its creation.
enum Event<'a> {
    Move(&'a Move),
    Activity(activity::ActivityPlan),
    Task(TaskPlan),
}

/// A planned task owned by `owner_id` on a deal or a lead, with when it was created.
fn new_task(
    task: TaskPlan,
    owner_id: UserId,
    account_id: Option<AccountId>,
    opportunity_id: Option<OpportunityId>,
    lead_id: Option<LeadId>,
) -> (NewTask, Timestamp) {
    let new = NewTask {
        title: task.title,
        owner_id,
        due_on: Some(task.due_on),
        completed_at: task.completed_at,
        account_id,
        opportunity_id,
        lead_id,
    };
    (new, task.created_at)
}

/// The average time from creation to close (or now), from a sample of up to 1,000 deals
/// spread over all of them, for sizing each deal's activity.
fn mean_life_days(deals: &DealSource, seed: u64, n_deals: usize) -> f64 {
    let step = n_deals.div_ceil(1_000).max(1);
    let sample: Vec<f64> = (0..n_deals).step_by(step).map(|index| plan_deal(deals, seed, index).1.life_days()).collect();
    if sample.is_empty() { 1.0 } else { (sample.iter().sum::<f64>() / sample.len() as f64).max(1.0) }
}

/// Deal `index`: the same setup and plan every time it is asked for.
fn plan_deal(deals: &DealSource, seed: u64, index: usize) -> (DealSetup, DealPlan) {
    deals.plan(&mut Rng::stream(seed, Stream::Deal, index as u64), deal::plan_deal)
}

/// The demo's lead routing: software, technology and medical companies of 50 to 5,000 people,
/// bought by chiefs, VPs, heads and directors (팀장, 본부장, 이사 in Korean titles); every rep in
/// the pool, the first two with double capacity; Korea's leads to the reps who work Korea.
fn demo_routing(org: &crate::write::StoredOrg, rep_offsets: &[i64]) -> pipewise_leads::routing::Rules {
    use pipewise_leads::fit::Profile;
    use pipewise_leads::routing::{Member, Rules, Territory};
    let words = |list: &[&str]| list.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>();
    let reps = rep_offsets.len();
    let pool: Vec<Member> = (0..reps).map(|rep| Member { user: org.staff.user(rep), capacity: if rep < 2 { 2 } else { 1 } }).collect();
    // The reps on Seoul time work Korea.
    let korea: Vec<_> = (0..reps).filter(|rep| rep_offsets[*rep] == 9).map(|rep| org.staff.user(rep)).collect();
    let territories = if korea.is_empty() {
        Vec::new()
    } else {
        vec![Territory { name: "Korea".into(), regions: words(&["Korea"]), members: korea, ..Territory::default() }]
    };
    Rules {
        profile: Profile {
            industries: words(&["software", "technolgy", "medical"]),
            regions: Vec::new(),
            min_employees: Some(50),
            max_employees: Some(5_000),
            titles: words(&["chief", "vp", "head", "director", "팀장", "본부장", "이사", "대표"]),
        },
        pool,
        territories,
    }
}
