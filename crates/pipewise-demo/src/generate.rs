//! Writes the planned organisation through [`pipewise_app::ops`], phase by phase, in a few
//! large transactions.
//!
//! Deals are planned twice: once when they are written with their history, and again (from
//! the same random stream, so identically) when their activities and tasks are written. That
//! keeps memory to a few ids per deal whatever the demo's size.

use pipewise_app as app;
use pipewise_app::{Db, RecordKind, Result, StoreError, Tx, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::records::{NewAccount, NewActivity, NewContact, NewLead, NewTask, NewTeam, UserPatch};
use pipewise_core::user::{Locale, NewUser};
use pipewise_core::{AccountId, ContactId, Currency, PipelineId, StageId, TeamId, Timestamp, UserId, templates};

use crate::activity::{self, ActivityInput};
use crate::clock::plus_days;

use crate::data::{self, Company};
use crate::deal::{self, DealPlan, DealSource, Outcome, StageRef};
use crate::lead::{self, LeadContext};
use crate::org::{self, AccountPlan, EmailBook, OrgPlan};
use crate::rates;
use crate::rng::{Rng, Stream, WeightedIndex};
use crate::{DemoConfig, DemoCounts, DemoSummary, Phase};

pub(crate) fn run(store: &Db, config: &DemoConfig, report: &mut dyn FnMut(Phase, u64, u64)) -> Result<DemoSummary> {
    let seed = config.seed;
    let now = config.now;
    let start = plus_days(now, -(f64::from(config.months) * 365.25 / 12.0));
    let org_created = plus_days(start, -30.0);
    let companies = data::companies();
    let plan = org::plan_org(seed, config.teams as usize, config.reps as usize, &data::maven_agents());
    let (accounts, unused_companies) = org::plan_accounts(seed, config.accounts as usize, &companies, &plan);
    let contacts = org::plan_contacts(seed, config.contacts as usize, &accounts);
    let rates = rates::demo_rates(start, now);
    let mut writer =
        Writer { store, tx: None, in_tx: 0, batch_size: config.batch_size.max(1), report, phase: Phase::Setup, done: 0, total: 0 };

    // Setup: the organisation, its people, teams, pipelines and rates.
    writer.begin(Phase::Setup, (plan.people.len() + plan.teams.len() + 3) as u64);
    let organisation = app::users::create_organisation(writer.tx()?, crate::ORGANISATION_NAME, Currency::USD, org_created)?;
    let org_id = organisation.id;
    let ctx = |at: Timestamp, actor: Option<UserId>| WriteCtx { org: org_id, actor_id: actor, source: Source::Demo, at };
    let mut user_ids: Vec<Option<UserId>> = vec![None; plan.people.len()];
    let mut team_ids: Vec<TeamId> = Vec::with_capacity(plan.teams.len());
    // People outside teams first (managers before their reports), then the teams, then reps.
    for pass in [false, true] {
        if pass {
            for team in &plan.teams {
                let new = NewTeam { name: team.name.clone(), manager_id: user_ids[team.manager] };
                let team_id = app::users::create_team(writer.tx()?, &ctx(org_created, None), new)?.id;
                // The manager was created before the team existed; now they join it.
                if let Some(manager) = user_ids[team.manager] {
                    let patch = UserPatch { team_id: Some(Some(team_id)), ..UserPatch::default() };
                    app::users::update_user(writer.tx()?, &ctx(org_created, None), manager, &patch)?;
                }
                team_ids.push(team_id);
                writer.advance(1)?;
            }
        }
        for (index, person) in plan.people.iter().enumerate().filter(|(_, person)| person.team.is_some() == pass) {
            let new = NewUser {
                email: person.email.clone(),
                name: person.name.clone(),
                role: person.role,
                manager_id: person.manager.and_then(|manager| user_ids[manager]),
                team_id: person.team.map(|team| team_ids[team]),
                time_zone: person.time_zone.to_owned(),
                locale: person.locale,
            };
            let at = org_created.plus_seconds(60 * index as i64);
            user_ids[index] = Some(app::users::create_user(writer.tx()?, &ctx(at, None), new)?.id);
            writer.advance(1)?;
        }
    }
    let user_id = |person: usize| user_ids[person].ok_or(StoreError::NotFound { kind: UserId::LABEL, id: person as i64 });
    let rep_user_ids: Vec<UserId> = plan.reps.iter().map(|rep| user_id(rep.person)).collect::<Result<_>>()?;
    let rep_manager_ids: Vec<Option<UserId>> =
        plan.reps.iter().map(|rep| plan.people[rep.person].manager.and_then(|manager| user_ids[manager])).collect();
    let b2b_pipeline = app::records::create_pipeline(writer.tx()?, &ctx(org_created, None), templates::b2b_the_model())?;
    let simple_pipeline = app::records::create_pipeline(writer.tx()?, &ctx(org_created, None), templates::simple())?;
    let b2b = Stages::of(&b2b_pipeline)?;
    let simple = Stages::of(&simple_pipeline)?;
    writer.advance(2)?;
    app::bulk::put_rates(writer.tx()?, org_id, Currency::EUR, &rates.rows)?;
    writer.advance(1)?;
    writer.commit()?;

    // Accounts, created in the weeks before the first deals.
    writer.begin(Phase::Accounts, accounts.len() as u64);
    let mut account_ids: Vec<AccountId> = Vec::with_capacity(accounts.len());
    let mut account_created: Vec<Timestamp> = Vec::with_capacity(accounts.len());
    for (index, account) in accounts.iter().enumerate() {
        let at = plus_days(org_created, 1.0 + (index % 40) as f64 * 0.5);
        let new = NewAccount {
            name: account.name.clone(),
            domains: account.domains.clone(),
            industry: Some(account.industry.to_owned()),
            employee_count: account.employees,
            region: Some(account.region.as_str().to_owned()),
            owner_id: Some(rep_user_ids[account.owner]),
        };
        let owner = Some(rep_user_ids[account.owner]);
        account_ids.push(app::records::create_account(writer.tx()?, &ctx(at, owner), new)?.id);
        account_created.push(at);
        writer.advance(1)?;
    }
    writer.commit()?;

    writer.begin(Phase::Contacts, contacts.len() as u64);
    let mut buyers: Vec<Vec<Buyer>> = vec![Vec::new(); accounts.len()];
    for (index, contact) in contacts.iter().enumerate() {
        let at = plus_days(account_created[contact.account], (index % 28) as f64 * 0.25);
        let new = NewContact {
            name: contact.name.clone(),
            emails: vec![contact.email.clone()],
            phone: contact.phone.clone(),
            title: Some(contact.title.clone()),
            account_id: Some(account_ids[contact.account]),
        };
        let owner = Some(rep_user_ids[accounts[contact.account].owner]);
        let id = app::records::create_contact(writer.tx()?, &ctx(at, owner), new)?.id;
        buyers[contact.account].push(Buyer { id, korean: contact.korean });
        writer.advance(1)?;
    }
    writer.commit()?;

    // Opportunities: each deal's creation, then its history, activities and tasks in the
    // order they happened, so every write is made by whoever owned the deal at the time.
    let world = World::new(&plan, &accounts, start, now, &rates.table, b2b.open.len(), simple.open.len());
    let n_deals = config.opportunities as usize;
    let mean_life_days = world.mean_life_days(seed, n_deals);
    let tasks_per_deal = if n_deals == 0 { 0.0 } else { f64::from(config.tasks) / n_deals as f64 };
    let mut counts = DemoCounts::default();
    writer.begin(Phase::Opportunities, n_deals as u64);
    for index in 0..n_deals {
        let (setup, deal_plan) = world.plan(seed, index);
        let stages = if setup.b2b { &b2b } else { &simple };
        let account = &accounts[setup.account];
        let owner_person = &plan.people[plan.reps[setup.rep].person];
        let account_id = account_ids[setup.account];
        let teammates = &world.team_reps[account.team];

        // Activities and tasks, planned from the deal's plan with their own random streams.
        let mut rng = Rng::stream(seed, Stream::Activities, index as u64);
        let mut buying_team: Vec<Buyer> = buyers[setup.account].clone();
        rng.shuffle(&mut buying_team);
        buying_team.truncate(1 + rng.weighted(&[3.0, 4.0, 2.0, 1.0]));
        let team_korean: Vec<bool> = buying_team.iter().map(|buyer| buyer.korean).collect();
        let factor = (0.4 + 0.6 * deal_plan.life_days() / mean_life_days) * rng.log_normal(1.0, 0.25);
        let per_deal = f64::from(config.activities_per_opportunity);
        let input = ActivityInput {
            now,
            buying_team_korean: &team_korean,
            owner_korean: owner_person.locale == Locale::Ko,
            utc_offset_hours: owner_person.utc_offset_hours,
            count: if per_deal > 0.0 { ((per_deal * factor).round() as usize).max(1) } else { 0 },
        };
        let activities = activity::plan_activities(&mut rng, &deal_plan, &input);
        let mut task_rng = Rng::stream(seed, Stream::Tasks, index as u64);
        let n_tasks = tasks_per_deal.floor() as usize + usize::from(task_rng.chance(tasks_per_deal.fract()));
        let korean = account.korean || owner_person.locale == Locale::Ko;
        let tasks = activity::plan_deal_tasks(&mut task_rng, &deal_plan, now, n_tasks, korean, owner_person.utc_offset_hours);
        let mut events: Vec<(Timestamp, Event)> = deal_plan.steps.iter().map(|step| (step.at, Event::Step(step))).collect();
        events.extend(activities.into_iter().map(|planned| (planned.occurred_at, Event::Activity(planned))));
        events.extend(tasks.into_iter().map(|task| (task.created_at, Event::Task(task))));
        events.sort_by_key(|(at, _)| *at);

        let mut owner = setup.rep;
        let new = NewOpportunity {
            name: deal_plan.name.clone(),
            account_id: Some(account_id),
            owner_id: rep_user_ids[owner],
            pipeline_id: stages.pipeline_id,
            stage_id: None,
            amount: deal_plan.amount,
            close_date: Some(deal_plan.close_date),
            forecast_category: None,
            next_step: deal_plan.next_step.clone(),
            close_reason: None,
        };
        let deal_id = app::deals::create_opportunity(writer.tx()?, &ctx(deal_plan.created_at, Some(rep_user_ids[owner])), &new)?.id;
        let mut written = 1;
        for (_, event) in events {
            let owner_id = rep_user_ids[owner];
            match event {
                Event::Step(step) => {
                    let new_owner = step
                        .reassign
                        .and_then(|slot| teammates.get(slot as usize % teammates.len().max(1)).copied())
                        .filter(|&candidate| candidate != owner);
                    let patch = OpportunityPatch {
                        owner_id: new_owner.map(|rep| rep_user_ids[rep]),
                        stage_id: step.stage.map(|stage| stages.id(stage)),
                        amount: step.amount.map(Some),
                        close_date: step.close_date.map(Some),
                        next_step: step.next_step.clone().map(Some),
                        forecast_category: step.forecast_category,
                        close_reason: step.close_reason.clone().map(Some),
                        ..OpportunityPatch::default()
                    };
                    if patch.is_empty() {
                        continue;
                    }
                    // Handing a deal to a colleague is the manager's call.
                    let actor = if new_owner.is_some() { rep_manager_ids[owner].unwrap_or(owner_id) } else { owner_id };
                    app::deals::update_opportunity(writer.tx()?, &ctx(step.at, Some(actor)), deal_id, &patch)?;
                    owner = new_owner.unwrap_or(owner);
                }
                Event::Activity(planned) => {
                    let user = if planned.by_manager { rep_manager_ids[owner].unwrap_or(owner_id) } else { owner_id };
                    let new = NewActivity {
                        kind: planned.kind,
                        direction: planned.direction,
                        occurred_at: planned.occurred_at,
                        subject: planned.subject,
                        body: planned.body,
                        source: "demo".to_owned(),
                        user_id: Some(user),
                        account_id: Some(account_id),
                        opportunity_id: Some(deal_id),
                        contact_ids: planned.contacts.iter().map(|&member| buying_team[member].id).collect(),
                    };
                    app::activities::create_activity(writer.tx()?, &ctx(planned.logged_at, Some(user)), new)?;
                }
                Event::Task(task) => {
                    let new = NewTask {
                        title: task.title,
                        owner_id,
                        due_on: Some(task.due_on),
                        completed_at: task.completed_at,
                        account_id: Some(account_id),
                        opportunity_id: Some(deal_id),
                        lead_id: None,
                    };
                    app::activities::create_task(writer.tx()?, &ctx(task.created_at, Some(owner_id)), new)?;
                }
            }
            written += 1;
        }
        match deal_plan.outcome {
            Outcome::Open => counts.open += 1,
            Outcome::Won => counts.won += 1,
            Outcome::Lost => counts.lost += 1,
            Outcome::Dropped => counts.dropped += 1,
        }
        writer.advance_by(1, written)?;
    }
    writer.commit()?;

    // Leads, mostly from companies that are not accounts yet.
    let pool: Vec<&Company> = if unused_companies.is_empty() {
        companies.iter().collect()
    } else {
        unused_companies.iter().map(|&index| &companies[index]).collect()
    };
    let rep_offsets: Vec<i64> = plan.reps.iter().map(|rep| plan.people[rep.person].utc_offset_hours).collect();
    let context = LeadContext { start, now, companies: &pool, n_reps: plan.reps.len(), rep_offsets: &rep_offsets };
    let mut lead_emails = EmailBook::default();
    writer.begin(Phase::Leads, u64::from(config.leads));
    for index in 0..config.leads {
        let planned = lead::plan_lead(&mut Rng::stream(seed, Stream::Leads, u64::from(index)), &context, &mut lead_emails);
        let owner = planned.owner.map(|rep| rep_user_ids[rep]);
        let new = NewLead {
            name: planned.name,
            company: planned.company,
            email: planned.email,
            phone: planned.phone,
            title: planned.title,
            source: Some(planned.source.to_owned()),
            status: planned.status,
            owner_id: owner,
        };
        let lead_id = app::records::create_lead(writer.tx()?, &ctx(planned.created_at, owner), new)?.id;
        if let (Some(task), Some(owner)) = (planned.task, owner) {
            let new = NewTask {
                title: task.title,
                owner_id: owner,
                due_on: Some(task.due_on),
                completed_at: task.completed_at,
                account_id: None,
                opportunity_id: None,
                lead_id: Some(lead_id),
            };
            app::activities::create_task(writer.tx()?, &ctx(task.created_at, Some(owner)), new)?;
        }
        writer.advance(1)?;
    }
    writer.commit()?;

    // The seed templates' stage gates go in once the history is written: the history shows how
    // deals moved before the gates existed, and every open deal meets the gates on its next move.
    let mut tx = store.write()?;
    let gates = templates::b2b_exit_criteria(&b2b_pipeline).into_iter().chain(templates::simple_exit_criteria(&simple_pipeline));
    for criterion in gates {
        app::gates::add_exit_criterion(&mut tx, &ctx(now, None), criterion)?;
    }
    tx.commit()?;

    let mut tx = store.read()?;
    let mut count = |kind| -> Result<u64> { Ok(app::bulk::count(&mut tx, org_id, kind)?.max(0) as u64) };
    counts.users = count(RecordKind::User)?;
    counts.teams = count(RecordKind::Team)?;
    counts.pipelines = count(RecordKind::Pipeline)?;
    counts.accounts = count(RecordKind::Account)?;
    counts.contacts = count(RecordKind::Contact)?;
    counts.opportunities = count(RecordKind::Opportunity)?;
    counts.history_events = count(RecordKind::History)?;
    counts.activities = count(RecordKind::Activity)?;
    counts.tasks = count(RecordKind::Task)?;
    counts.leads = count(RecordKind::Lead)?;
    counts.exchange_rates = count(RecordKind::ExchangeRate)?;
    drop(tx);
    let users = plan.logins.iter().map(|&person| (plan.people[person].role, plan.people[person].email.clone())).collect();
    Ok(DemoSummary { organisation: org_id, users, counts, rates_shifted_days: rates.shifted_days })
}

/// Something that happens to a deal after its creation.
enum Event<'a> {
    Step(&'a deal::Step),
    Activity(activity::ActivityPlan),
    Task(activity::TaskPlan),
}

/// A contact on an account, as activities need them.
#[derive(Clone, Copy, Debug)]
struct Buyer {
    id: ContactId,
    korean: bool,
}

/// A stored pipeline's stage ids by the plan's [`StageRef`].
pub(crate) struct Stages {
    pub(crate) pipeline_id: PipelineId,
    pub(crate) open: Vec<StageId>,
    won: StageId,
    lost: StageId,
}

impl Stages {
    pub(crate) fn of(pipeline: &Pipeline) -> Result<Stages> {
        let find = |kind: StageKind| pipeline.stages.iter().find(|stage| stage.kind == kind).map(|stage| stage.id);
        let open: Vec<StageId> = pipeline.stages.iter().filter(|stage| stage.kind == StageKind::Open).map(|stage| stage.id).collect();
        let broken =
            || StoreError::Corrupt { table: "stage", detail: format!("pipeline {} lacks an open, won or lost stage", pipeline.id) };
        let (won, lost) = (find(StageKind::Won).ok_or_else(broken)?, find(StageKind::Lost).ok_or_else(broken)?);
        if open.is_empty() {
            return Err(broken());
        }
        Ok(Stages { pipeline_id: pipeline.id, open, won, lost })
    }

    pub(crate) fn id(&self, stage: StageRef) -> StageId {
        match stage {
            StageRef::Open(level) => self.open[level.min(self.open.len() - 1)],
            StageRef::Won => self.won,
            StageRef::Lost => self.lost,
        }
    }
}

/// What a deal draws before its plan: account, owner, pipeline, currency, size, creation.
struct DealSetup {
    account: usize,
    rep: usize,
    b2b: bool,
}

/// Everything deal planning reads, built once.
struct World<'a> {
    plan: &'a OrgPlan,
    accounts: &'a [AccountPlan],
    account_weights: Option<WeightedIndex>,
    team_reps: Vec<Vec<usize>>,
    start: Timestamp,
    now: Timestamp,
    rates: &'a pipewise_core::fx::RateTable,
    b2b_levels: usize,
    simple_levels: usize,
}

impl<'a> World<'a> {
    fn new(
        plan: &'a OrgPlan,
        accounts: &'a [AccountPlan],
        start: Timestamp,
        now: Timestamp,
        rates: &'a pipewise_core::fx::RateTable,
        b2b_levels: usize,
        simple_levels: usize,
    ) -> World<'a> {
        World {
            plan,
            accounts,
            account_weights: WeightedIndex::new(accounts.iter().map(|account| account.weight)),
            team_reps: (0..plan.teams.len()).map(|team| plan.reps_of_team(team).collect()).collect(),
            start,
            now,
            rates,
            b2b_levels,
            simple_levels,
        }
    }

    /// The average time from creation to close (or now), from a sample of up to 1,000 deals
    /// spread over all of them, for sizing each deal's activity.
    fn mean_life_days(&self, seed: u64, n_deals: usize) -> f64 {
        let step = n_deals.div_ceil(1_000).max(1);
        let sample: Vec<f64> = (0..n_deals).step_by(step).map(|index| self.plan(seed, index).1.life_days()).collect();
        if sample.is_empty() { 1.0 } else { (sample.iter().sum::<f64>() / sample.len() as f64).max(1.0) }
    }

    /// Deal `index`: the same setup and plan every time it is asked for.
    fn plan(&self, seed: u64, index: usize) -> (DealSetup, DealPlan) {
        let mut rng = Rng::stream(seed, Stream::Deal, index as u64);
        let source = DealSource {
            plan: self.plan,
            accounts: self.accounts,
            account_weights: self.account_weights.as_ref(),
            team_reps: &self.team_reps,
            start: self.start,
            now: self.now,
            rates: self.rates,
            b2b_open_stages: self.b2b_levels,
            simple_open_stages: self.simple_levels,
        };
        let drawn = deal::draw_deal(&mut rng, &source);
        let plan = deal::plan_deal(&mut rng, &drawn.input);
        (DealSetup { account: drawn.account, rep: drawn.rep, b2b: drawn.input.b2b }, plan)
    }
}

/// Batches writes into transactions of about `batch_size` records and reports progress.
struct Writer<'s, 'r> {
    store: &'s Db,
    tx: Option<Tx<'s>>,
    in_tx: u64,
    batch_size: u32,
    report: &'r mut dyn FnMut(Phase, u64, u64),
    phase: Phase,
    done: u64,
    total: u64,
}

impl<'s> Writer<'s, '_> {
    fn tx(&mut self) -> Result<&mut Tx<'s>> {
        if self.tx.is_none() {
            self.tx = Some(self.store.write()?);
        }
        Ok(self.tx.as_mut().expect("opened above"))
    }

    fn commit(&mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit()?;
        }
        self.in_tx = 0;
        Ok(())
    }

    fn begin(&mut self, phase: Phase, total: u64) {
        (self.phase, self.done, self.total) = (phase, 0, total);
        (self.report)(phase, 0, total);
    }

    /// `units` of the phase's total are done, each one record.
    fn advance(&mut self, units: u64) -> Result<()> {
        self.advance_by(units, units)
    }

    /// `units` of the phase's total are done, which wrote `records` records.
    fn advance_by(&mut self, units: u64, records: u64) -> Result<()> {
        let before = self.done;
        self.done += units;
        self.in_tx += records;
        if self.in_tx >= u64::from(self.batch_size) {
            self.commit()?;
        }
        let step = (self.total / 100).max(1);
        if self.done == self.total || before / step != self.done / step {
            (self.report)(self.phase, self.done.min(self.total), self.total);
        }
        Ok(())
    }
}
