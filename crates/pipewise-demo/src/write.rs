//! What the standard demo ([`crate::generate()`]) and the scale set
//! ([`crate::generate_scale()`]) write alike: the organisation with its people, teams,
//! pipelines and rates, the accounts and their contacts (all through [`pipewise_app`]'s
//! operations, in batched transactions with progress), and a planned deal turned into the
//! records the store takes (its creation, its moves with who made them, its activities).

use pipewise_app as app;
use pipewise_app::{Db, RecordKind, Result, StoreError, Tx, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::records::{NewAccount, NewActivity, NewContact, NewTeam, UserPatch};
use pipewise_core::user::NewUser;
use pipewise_core::{AccountId, Currency, Date, OpportunityId, OrgId, PipelineId, StageId, TeamId, Timestamp, UserId, templates};

use crate::DemoCounts;
use crate::activity::{ActivityPlan, Buyer};
use crate::clock::plus_days;
use crate::deal::{DealPlan, Outcome, StageRef, Step};
use crate::org::{AccountPlan, ContactPlan, OrgPlan};

/// When deals start being created, `months` before `now`, and when the organisation was
/// created, a month before that.
pub(crate) fn period(now: Timestamp, months: u32) -> (Timestamp, Timestamp) {
    let start = plus_days(now, -(f64::from(months) * 365.25 / 12.0));
    (start, plus_days(start, -30.0))
}

/// Reports a phase's progress at its start, at its end and about a hundred times in between.
pub(crate) struct Progress<'r, P> {
    report: &'r mut dyn FnMut(P, u64, u64),
    phase: P,
    done: u64,
    total: u64,
}

impl<'r, P: Copy> Progress<'r, P> {
    /// Progress that starts with `phase`, once [`Progress::begin`] is called.
    pub(crate) fn new(report: &'r mut dyn FnMut(P, u64, u64), phase: P) -> Progress<'r, P> {
        Progress { report, phase, done: 0, total: 0 }
    }

    pub(crate) fn begin(&mut self, phase: P, total: u64) {
        (self.phase, self.done, self.total) = (phase, 0, total);
        (self.report)(phase, 0, total);
    }

    /// `units` more of the phase's total are done.
    pub(crate) fn advance(&mut self, units: u64) {
        let before = self.done;
        self.done += units;
        let step = (self.total / 100).max(1);
        if self.done == self.total || before / step != self.done / step {
            (self.report)(self.phase, self.done.min(self.total), self.total);
        }
    }

    /// Reports the phase done, unless that was its last report already.
    pub(crate) fn finish(&mut self) {
        if self.done != self.total || self.total == 0 {
            (self.report)(self.phase, self.total, self.total);
        }
    }
}

/// Batches writes into transactions of about `batch_size` records and reports progress.
pub(crate) struct Writer<'s, 'r, P> {
    store: &'s Db,
    tx: Option<Tx<'s>>,
    in_tx: u64,
    batch_size: u32,
    progress: Progress<'r, P>,
}

impl<'s, 'r, P: Copy> Writer<'s, 'r, P> {
    pub(crate) fn new(store: &'s Db, batch_size: u32, progress: Progress<'r, P>) -> Writer<'s, 'r, P> {
        Writer { store, tx: None, in_tx: 0, batch_size: batch_size.max(1), progress }
    }

    /// The open transaction, opened when there is none.
    pub(crate) fn tx(&mut self) -> Result<&mut Tx<'s>> {
        if self.tx.is_none() {
            self.tx = Some(self.store.write()?);
        }
        Ok(self.tx.as_mut().expect("opened above"))
    }

    pub(crate) fn commit(&mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit()?;
        }
        self.in_tx = 0;
        Ok(())
    }

    pub(crate) fn begin(&mut self, phase: P, total: u64) {
        self.progress.begin(phase, total);
    }

    /// `units` of the phase's total are done, each one record.
    pub(crate) fn advance(&mut self, units: u64) -> Result<()> {
        self.advance_by(units, units)
    }

    /// `units` of the phase's total are done, which wrote `records` records.
    pub(crate) fn advance_by(&mut self, units: u64, records: u64) -> Result<()> {
        self.in_tx += records;
        if self.in_tx >= u64::from(self.batch_size) {
            self.commit()?;
        }
        self.progress.advance(units);
        Ok(())
    }

    /// Commits what is pending and hands progress reporting on.
    pub(crate) fn finish(mut self) -> Result<Progress<'r, P>> {
        self.commit()?;
        Ok(self.progress)
    }
}

/// The reps as stored users, with their managers.
pub(crate) struct Staff {
    users: Vec<UserId>,
    managers: Vec<Option<UserId>>,
}

impl Staff {
    /// Rep `rep`'s user.
    pub(crate) fn user(&self, rep: usize) -> UserId {
        self.users[rep]
    }

    /// Who writes for rep `rep`: the rep, or with `by_manager` their manager (the rep when they
    /// have none).
    pub(crate) fn acting(&self, rep: usize, by_manager: bool) -> UserId {
        if by_manager { self.managers[rep].unwrap_or(self.users[rep]) } else { self.users[rep] }
    }
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

/// The organisation as stored by [`create_organisation`].
pub(crate) struct StoredOrg {
    pub(crate) id: OrgId,
    pub(crate) staff: Staff,
    pub(crate) b2b: Pipeline,
    pub(crate) simple: Pipeline,
    pub(crate) b2b_stages: Stages,
    pub(crate) simple_stages: Stages,
}

impl StoredOrg {
    /// A demo write in the organisation at `at` by `actor`.
    pub(crate) fn ctx(&self, at: Timestamp, actor: Option<UserId>) -> WriteCtx {
        WriteCtx { org: self.id, actor_id: actor, source: Source::Demo, at }
    }

    /// The B2B or the Simple pipeline, with its stages.
    pub(crate) fn pipeline(&self, b2b: bool) -> (&Pipeline, &Stages) {
        if b2b { (&self.b2b, &self.b2b_stages) } else { (&self.simple, &self.simple_stages) }
    }
}

/// The organisation, its people in reporting order (managers before the people who report to
/// them, whatever their index), its teams, both pipeline templates and the exchange rates, as
/// `phase`.
pub(crate) fn create_organisation<P: Copy>(
    writer: &mut Writer<'_, '_, P>,
    phase: P,
    plan: &OrgPlan,
    created: Timestamp,
    rates: &[(Currency, Date, Decimal)],
) -> Result<StoredOrg> {
    writer.begin(phase, (plan.people.len() + plan.teams.len() + 3) as u64);
    let organisation = app::users::create_organisation(writer.tx()?, crate::ORGANISATION_NAME, Currency::USD, created)?;
    let org_id = organisation.id;
    let ctx = |at: Timestamp| WriteCtx { org: org_id, actor_id: None, source: Source::Demo, at };
    let mut user_ids: Vec<Option<UserId>> = vec![None; plan.people.len()];
    let mut team_ids: Vec<TeamId> = Vec::with_capacity(plan.teams.len());
    // People outside teams first, then the teams, then their members.
    for pass in [false, true] {
        if pass {
            for team in &plan.teams {
                let new = NewTeam { name: team.name.clone(), manager_id: user_ids[team.manager] };
                let team_id = app::users::create_team(writer.tx()?, &ctx(created), new)?.id;
                // The manager was created before the team existed; now they join it.
                if let Some(manager) = user_ids[team.manager] {
                    let patch = UserPatch { team_id: Some(Some(team_id)), ..UserPatch::default() };
                    app::users::update_user(writer.tx()?, &ctx(created), manager, &patch)?;
                }
                team_ids.push(team_id);
                writer.advance(1)?;
            }
        }
        let mut pending: Vec<usize> = (0..plan.people.len()).filter(|&index| plan.people[index].team.is_some() == pass).collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut waiting = Vec::new();
            for index in pending {
                let person = &plan.people[index];
                if person.manager.is_some_and(|manager| user_ids[manager].is_none()) {
                    waiting.push(index);
                    continue;
                }
                let new = NewUser {
                    email: person.email.clone(),
                    name: person.name.clone(),
                    role: person.role,
                    manager_id: person.manager.and_then(|manager| user_ids[manager]),
                    team_id: person.team.map(|team| team_ids[team]),
                    time_zone: person.time_zone.to_owned(),
                    locale: person.locale,
                };
                let at = created.plus_seconds(60 * index as i64);
                user_ids[index] = Some(app::users::create_user(writer.tx()?, &ctx(at), new)?.id);
                writer.advance(1)?;
            }
            if waiting.len() == before {
                return Err(StoreError::Conflict("the planned reporting lines have a loop".into()));
            }
            pending = waiting;
        }
    }
    let user_id = |person: usize| user_ids[person].ok_or(StoreError::NotFound { kind: UserId::LABEL, id: person as i64 });
    let staff = Staff {
        users: plan.reps.iter().map(|rep| user_id(rep.person)).collect::<Result<_>>()?,
        managers: plan.reps.iter().map(|rep| plan.people[rep.person].manager.and_then(|manager| user_ids[manager])).collect(),
    };
    let b2b = app::records::create_pipeline(writer.tx()?, &ctx(created), templates::b2b_the_model())?;
    let simple = app::records::create_pipeline(writer.tx()?, &ctx(created), templates::simple())?;
    let (b2b_stages, simple_stages) = (Stages::of(&b2b)?, Stages::of(&simple)?);
    writer.advance(2)?;
    app::bulk::put_rates(writer.tx()?, org_id, Currency::EUR, rates)?;
    writer.advance(1)?;
    writer.commit()?;
    Ok(StoredOrg { id: org_id, staff, b2b, simple, b2b_stages, simple_stages })
}

/// When account `index` was created: in the weeks after the organisation, before the first deals.
pub(crate) fn account_created_at(org_created: Timestamp, index: usize) -> Timestamp {
    plus_days(org_created, 1.0 + (index % 40) as f64 * 0.5)
}

/// The accounts, each created by its owner, as `phase`.
pub(crate) fn create_accounts<P: Copy>(
    writer: &mut Writer<'_, '_, P>,
    phase: P,
    org: &StoredOrg,
    org_created: Timestamp,
    accounts: &[AccountPlan],
) -> Result<Vec<AccountId>> {
    writer.begin(phase, accounts.len() as u64);
    let mut ids: Vec<AccountId> = Vec::with_capacity(accounts.len());
    for (index, account) in accounts.iter().enumerate() {
        let owner = Some(org.staff.user(account.owner));
        let new = NewAccount {
            name: account.name.clone(),
            domains: account.domains.clone(),
            industry: Some(account.industry.to_owned()),
            employee_count: account.employees,
            region: Some(account.region.as_str().to_owned()),
            owner_id: owner,
        };
        ids.push(app::records::create_account(writer.tx()?, &org.ctx(account_created_at(org_created, index), owner), new)?.id);
        writer.advance(1)?;
    }
    writer.commit()?;
    Ok(ids)
}

/// The contacts, each created by its account's owner at `created_at(index, contact)`, as
/// `phase`; returns each account's contacts as buyers.
pub(crate) fn create_contacts<P: Copy>(
    writer: &mut Writer<'_, '_, P>,
    phase: P,
    org: &StoredOrg,
    accounts: &[AccountPlan],
    account_ids: &[AccountId],
    contacts: &[ContactPlan],
    created_at: impl Fn(usize, &ContactPlan) -> Timestamp,
) -> Result<Vec<Vec<Buyer>>> {
    writer.begin(phase, contacts.len() as u64);
    let mut buyers: Vec<Vec<Buyer>> = vec![Vec::new(); accounts.len()];
    for (index, contact) in contacts.iter().enumerate() {
        let new = NewContact {
            name: contact.name.clone(),
            emails: vec![contact.email.clone()],
            phone: contact.phone.clone(),
            title: Some(contact.title.clone()),
            account_id: Some(account_ids[contact.account]),
        };
        let owner = Some(org.staff.user(accounts[contact.account].owner));
        let id = app::records::create_contact(writer.tx()?, &org.ctx(created_at(index, contact), owner), new)?.id;
        buyers[contact.account].push(Buyer { id, korean: contact.korean });
        writer.advance(1)?;
    }
    writer.commit()?;
    Ok(buyers)
}

/// A deal as its plan creates it.
pub(crate) fn new_opportunity(plan: &DealPlan, account_id: AccountId, owner_id: UserId, pipeline_id: PipelineId) -> NewOpportunity {
    NewOpportunity {
        name: plan.name.clone(),
        account_id: Some(account_id),
        owner_id,
        pipeline_id,
        stage_id: None,
        amount: plan.amount,
        close_date: Some(plan.close_date),
        forecast_category: None,
        next_step: plan.next_step.clone(),
        close_reason: None,
    }
}

/// A planned step as a change to the stored deal.
pub(crate) struct Move {
    pub(crate) at: Timestamp,
    pub(crate) patch: OpportunityPatch,
    /// The owner, or their manager when the deal is handed to a colleague.
    pub(crate) actor: UserId,
    /// The rep the deal is handed to.
    pub(crate) new_owner: Option<usize>,
}

/// A deal's steps as moves, in order, for a deal first owned by rep `owner` whose account's
/// team is `teammates`; steps that change nothing are left out.
pub(crate) fn moves(steps: &[Step], mut owner: usize, teammates: &[usize], stages: &Stages, staff: &Staff) -> Vec<Move> {
    let mut moves = Vec::with_capacity(steps.len());
    for step in steps {
        let new_owner = step
            .reassign
            .and_then(|slot| teammates.get(slot as usize % teammates.len().max(1)).copied())
            .filter(|&candidate| candidate != owner);
        let patch = OpportunityPatch {
            owner_id: new_owner.map(|rep| staff.user(rep)),
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
        moves.push(Move { at: step.at, patch, actor: staff.acting(owner, new_owner.is_some()), new_owner });
        owner = new_owner.unwrap_or(owner);
    }
    moves
}

/// A planned activity logged by `user` on a deal of `account_id` whose buying team is `team`,
/// with when it was logged.
pub(crate) fn new_activity(
    planned: ActivityPlan,
    user: UserId,
    account_id: AccountId,
    opportunity_id: Option<OpportunityId>,
    team: &[Buyer],
) -> (NewActivity, Timestamp) {
    let activity = NewActivity {
        kind: planned.kind,
        direction: planned.direction,
        occurred_at: planned.occurred_at,
        subject: planned.subject,
        body: planned.body,
        source: "demo".to_owned(),
        user_id: Some(user),
        account_id: Some(account_id),
        opportunity_id,
        contact_ids: planned.contacts.iter().map(|&member| team[member].id).collect(),
    };
    (activity, planned.logged_at)
}

impl DemoCounts {
    /// Counts a deal by how it stands.
    pub(crate) fn add_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Open => self.open += 1,
            Outcome::Won => self.won += 1,
            Outcome::Lost => self.lost += 1,
            Outcome::Dropped => self.dropped += 1,
        }
    }

    /// Fills in the record counts as the store counts them.
    pub(crate) fn count_stored(&mut self, store: &Db, org: OrgId) -> Result<()> {
        let mut tx = store.read()?;
        let mut count = |kind| -> Result<u64> { Ok(app::bulk::count(&mut tx, org, kind)?.max(0) as u64) };
        self.users = count(RecordKind::User)?;
        self.teams = count(RecordKind::Team)?;
        self.pipelines = count(RecordKind::Pipeline)?;
        self.accounts = count(RecordKind::Account)?;
        self.contacts = count(RecordKind::Contact)?;
        self.opportunities = count(RecordKind::Opportunity)?;
        self.history_events = count(RecordKind::History)?;
        self.activities = count(RecordKind::Activity)?;
        self.tasks = count(RecordKind::Task)?;
        self.leads = count(RecordKind::Lead)?;
        self.exchange_rates = count(RecordKind::ExchangeRate)?;
        Ok(())
    }
}
