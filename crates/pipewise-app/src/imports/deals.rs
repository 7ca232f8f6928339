//! Opportunities files: each line resolved to an owner, a pipeline, stages and an account,
//! evolved through the deal rules from its creation to its close, and written in bulk.

use std::collections::HashMap;

use pipewise_core::error::Problem;
use pipewise_core::history::{self, Change};
use pipewise_core::message::Message;
use pipewise_core::opportunity::{self, NewOpportunity, Opportunity, OpportunityPatch};
use pipewise_core::pipeline::{Pipeline, Stage, StageKind};
use pipewise_core::*;
use pipewise_import::{DealRow, Field, LineError, Mapping, Moment, Reading, RowStatus};

use super::{ImportOptions, ImportReport, Names, Rows, Settings, field_error, known_records, normal_name, rule_errors};
use crate::*;

/// The file's field a deal rule's problem belongs to.
fn field_of(field: &str) -> Option<Field> {
    match field {
        "name" => Some(Field::Name),
        "amount" => Some(Field::Amount),
        "close_date" => Some(Field::CloseDate),
        "close_reason" => Some(Field::LossReason),
        "next_step" => Some(Field::NextStep),
        "stage_id" | "gate_override_reason" => Some(Field::Stage),
        "owner_id" => Some(Field::Owner),
        "account_id" => Some(Field::Account),
        _ => None,
    }
}

/// Where a row's deal ends: in an open stage, or closed (from an open stage, if the file says
/// which).
enum Target<'p> {
    Open(&'p Stage),
    Closed { from: Option<&'p Stage>, to: &'p Stage },
}

/// A new deal, evolved, with its history.
struct NewDeal {
    deal: Opportunity,
    events: Vec<(Change, Timestamp)>,
    external_id: Option<String>,
}

pub(super) struct DealRows {
    ctx: WriteCtx,
    mapping: Mapping,
    reading: Reading,
    names: Names,
    pipelines: Vec<Pipeline>,
    default_pipeline: usize,
    /// The file's stage names (normalised) → the pipeline's (normalised).
    stage_names: HashMap<String, String>,
    default_owner: Option<UserId>,
    zone: Zone,
    today: Date,
    system: String,
    historical: Option<String>,
    default_loss_reason: Option<String>,
    gates: NewDealGates,
    /// External ids seen so far (as 128-bit hashes, 16 bytes each however long the ids) → the
    /// line each was first seen on.
    seen: HashMap<u128, u64>,
    chunk: Vec<DealRow>,
    /// False once any line failed: the rest is checked, not written.
    writing: bool,
}

impl DealRows {
    pub(super) fn new(
        tx: &mut Tx,
        ctx: &WriteCtx,
        options: &ImportOptions,
        settings: &Settings,
        mapping: Mapping,
        names: Names,
    ) -> Result<DealRows> {
        let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: ctx.org.0 })?;
        let mut pipelines = tx.0.pipelines(ctx.org)?;
        pipelines.sort_by_key(|pipeline| pipeline.id);
        let record = RecordRef::new_record("import");
        let mut errors = ValidationErrors::default();
        let default_pipeline = match &options.pipeline {
            Some(name) => pipelines.iter().position(|pipeline| normal_name(&pipeline.name) == normal_name(name)),
            None => (!pipelines.is_empty()).then_some(0),
        };
        if default_pipeline.is_none() {
            let known = pipelines.iter().map(|pipeline| pipeline.name.as_str()).collect::<Vec<_>>().join(", ");
            let name = options.pipeline.clone().unwrap_or_default();
            errors.push(
                &record,
                "pipeline",
                Problem::Fact(Message::new("import.no_such_pipeline").text("name", name).text("known", known)),
            );
        }
        let default_owner = options.default_owner.as_deref().and_then(|owner| errors.check(&record, "default_owner", names.user(owner)));
        errors.into_result(())?;
        let zone = organisation.time_zone.clone();
        Ok(DealRows {
            ctx: *ctx,
            mapping,
            reading: Reading { date_order: options.date_order, currency: organisation.reporting_currency },
            names,
            pipelines,
            default_pipeline: default_pipeline.expect("checked above"),
            stage_names: options.stages.iter().map(|(from, to)| (normal_name(from), normal_name(to))).collect(),
            default_owner,
            today: zone.date_of(ctx.at),
            zone,
            system: settings.system.clone(),
            historical: settings.historical.clone(),
            default_loss_reason: settings.default_loss_reason.clone(),
            gates: NewDealGates::default(),
            seen: HashMap::new(),
            chunk: Vec::new(),
            writing: true,
        })
    }

    fn fail(&mut self, report: &mut ImportReport, errors: Vec<LineError>) {
        self.writing = false;
        report.push_errors(errors);
    }

    /// The stage a file's stage name means in `pipeline`: the user's mapping first, then the
    /// stage's English or Korean name, then `won` / `lost` for the pipeline's closed stages.
    fn stage<'p>(&self, pipeline: &'p Pipeline, raw: &str) -> Option<&'p Stage> {
        let written = normal_name(raw);
        let name = self.stage_names.get(&written).unwrap_or(&written);
        let live = || pipeline.stages.iter().filter(|stage| !stage.is_archived());
        let by_name = live().find(|stage| normal_name(&stage.name_en) == *name || normal_name(&stage.name_ko) == *name);
        let kind = match name.as_str() {
            "won" | "closed won" | "closedwon" => Some(StageKind::Won),
            "lost" | "closed lost" | "closedlost" => Some(StageKind::Lost),
            _ => None,
        };
        by_name.or_else(|| kind.and_then(|kind| live().find(|stage| stage.kind == kind)))
    }

    /// A stage name the pipeline does not know, with the names it does.
    fn unknown_stage(&self, pipeline: &Pipeline, line: u64, raw: &str) -> LineError {
        let known = pipeline.stages.iter().filter(|stage| !stage.is_archived()).map(|stage| stage.name_en.as_str()).collect::<Vec<_>>();
        let message =
            Message::new("import.no_such_stage").text("name", raw.trim()).text("pipeline", &pipeline.name).text("known", known.join(", "));
        field_error(&self.mapping, line, Field::Stage, Problem::Fact(message))
    }

    /// Where the row's deal ends, from its stage and status cells.
    fn target<'p>(&self, pipeline: &'p Pipeline, row: &DealRow) -> std::result::Result<Target<'p>, LineError> {
        let error = |field, problem| field_error(&self.mapping, row.line, field, problem);
        let named = match &row.stage {
            Some(raw) => Some(self.stage(pipeline, raw).ok_or_else(|| self.unknown_stage(pipeline, row.line, raw))?),
            None => None,
        };
        let closed_stage = |kind: StageKind| pipeline.stages.iter().find(|stage| !stage.is_archived() && stage.kind == kind);
        let conflict = |stage: &Stage| {
            let message = Message::new("import.status_conflicts_with_stage").text("stage", &stage.name_en);
            error(Field::Status, Problem::Fact(message))
        };
        let entry = pipeline.stage(pipeline.entry_stage_id).expect("a pipeline's entry stage is one of its stages");
        Ok(match (row.status, named) {
            (None, None) => Target::Open(entry),
            (None | Some(RowStatus::Open), Some(stage)) if stage.kind == StageKind::Open => Target::Open(stage),
            (Some(RowStatus::Open), None) => Target::Open(entry),
            (Some(RowStatus::Open), Some(stage)) => return Err(conflict(stage)),
            (None, Some(stage)) => Target::Closed { from: None, to: stage },
            (Some(status), stage) => {
                let kind = if status == RowStatus::Won { StageKind::Won } else { StageKind::Lost };
                match stage {
                    Some(stage) if stage.kind == StageKind::Open => {
                        let to = closed_stage(kind).ok_or_else(|| conflict(stage))?;
                        Target::Closed { from: Some(stage), to }
                    }
                    Some(stage) if stage.kind == kind => Target::Closed { from: None, to: stage },
                    Some(stage) => return Err(conflict(stage)),
                    None => Target::Closed { from: None, to: closed_stage(kind).ok_or_else(|| conflict(entry))? },
                }
            }
        })
    }

    fn instant(&self, moment: Moment) -> Timestamp {
        self.zone.start_of(moment.date).plus_seconds(i64::from(moment.seconds.unwrap_or(0)))
    }

    /// The account a row names (see [`Names::account`]).
    fn account(&mut self, tx: &mut Tx, name: &str, report: &mut ImportReport) -> Result<AccountId> {
        self.names.account(tx, &self.ctx, name, Vec::new(), self.writing, report)
    }

    /// The row's deal, new or (re-imported) updated, or the problems that stop it.
    fn resolve(&mut self, tx: &mut Tx, row: DealRow, known: Option<i64>, report: &mut ImportReport) -> Result<Option<NewDeal>> {
        let line = row.line;
        let mut errors = Vec::new();
        let owner = match (&row.owner, self.default_owner) {
            (Some(raw), _) => {
                self.names.user(raw).map_err(|problem| errors.push(field_error(&self.mapping, line, Field::Owner, problem))).ok()
            }
            (None, Some(owner)) => Some(owner),
            (None, None) => {
                errors.push(field_error(&self.mapping, line, Field::Owner, Problem::Required));
                None
            }
        };
        let pipeline_at = match &row.pipeline {
            Some(name) => self.pipelines.iter().position(|pipeline| normal_name(&pipeline.name) == normal_name(name)).or_else(|| {
                let known = self.pipelines.iter().map(|pipeline| pipeline.name.as_str()).collect::<Vec<_>>().join(", ");
                let message = Message::new("import.no_such_pipeline").text("name", name).text("known", known);
                errors.push(field_error(&self.mapping, line, Field::Pipeline, Problem::Fact(message)));
                None
            }),
            None => Some(self.default_pipeline),
        };
        let pipeline = pipeline_at.map(|at| self.pipelines[at].clone());
        let target = pipeline.as_ref().and_then(|pipeline| self.target(pipeline, &row).map_err(|error| errors.push(error)).ok());
        let created = row.created.map(|moment| self.instant(moment));
        let in_future = |field| field_error(&self.mapping, line, field, Problem::Fact(Message::new("import.in_future")));
        if created.is_some_and(|created| created > self.ctx.at) {
            errors.push(in_future(Field::Created));
        }
        let closed = match &target {
            Some(Target::Closed { .. }) => {
                let (field, at) = match (row.closed, row.close_date) {
                    (Some(moment), _) => (Field::Closed, Some(self.instant(moment))),
                    (None, Some(date)) => (Field::CloseDate, Some(self.zone.start_of(date))),
                    (None, None) => (Field::Closed, None),
                };
                if let Some(at) = at {
                    if at > self.ctx.at {
                        errors.push(in_future(field));
                    } else if created.is_some_and(|created| at < created) {
                        errors.push(field_error(&self.mapping, line, field, Problem::Fact(Message::new("import.closed_before_created"))));
                    }
                }
                Some(at.or(created).unwrap_or(self.ctx.at))
            }
            _ => None,
        };
        let (Some(owner), Some(pipeline), Some(target), true) = (owner, pipeline.as_ref(), target, errors.is_empty()) else {
            report.push_errors(errors);
            self.writing = false;
            return Ok(None);
        };
        let account_id = match &row.account {
            Some(name) => Some(self.account(tx, name, report)?),
            None => None,
        };
        let existing = match known {
            Some(id) => tx.0.opportunity(self.ctx.org, OpportunityId(id), false)?,
            None => None,
        };
        if let Some(existing) = existing {
            self.update(tx, existing, &row, owner, account_id, pipeline, &target, report)?;
            return Ok(None);
        }
        let (open_stage, closed_stage) = match target {
            Target::Open(stage) => (stage, None),
            Target::Closed { from, to } => {
                (from.unwrap_or_else(|| pipeline.stage(pipeline.entry_stage_id).expect("entry stage")), Some(to))
            }
        };
        let created_at = created.unwrap_or_else(|| {
            report.undated += 1;
            self.ctx.at
        });
        let new = NewOpportunity {
            name: row.name.clone(),
            account_id,
            owner_id: owner,
            pipeline_id: pipeline.id,
            stage_id: Some(open_stage.id),
            amount: row.amount,
            close_date: row.close_date.or_else(|| closed.map(|at| self.zone.date_of(at))),
            forecast_category: None,
            next_step: row.next_step.clone(),
            close_reason: None,
        };
        let deal = match opportunity::create(OpportunityId(0), &new, pipeline, created_at) {
            Ok(deal) => deal,
            Err(invalid) => {
                let errors = rule_errors(&self.mapping, line, invalid, field_of);
                self.fail(report, errors);
                return Ok(None);
            }
        };
        let mut events: Vec<(Change, Timestamp)> = history::diff(None, &deal).into_iter().map(|change| (change, created_at)).collect();
        let mut gate_errors = Vec::new();
        if self.historical.is_none() {
            let mut at_entry = deal.clone();
            at_entry.stage_id = pipeline.entry_stage_id;
            let today = self.zone.date_of(created_at).min(self.today);
            if let Some(check) = self.gates.refusal(tx, self.ctx.org, &at_entry, pipeline, open_stage.id, today)? {
                gate_errors.push(self.refused(pipeline, line, &check));
            }
            if let Some(to) = closed_stage
                && let Some(check) = self.gates.refusal(tx, self.ctx.org, &deal, pipeline, to.id, today)?
            {
                gate_errors.push(self.refused(pipeline, line, &check));
            }
        }
        if !gate_errors.is_empty() {
            self.fail(report, gate_errors);
            return Ok(None);
        }
        let deal = match closed_stage {
            None => deal,
            Some(to) => {
                let at = closed.expect("a closed target has a close time");
                let reason = match to.kind {
                    StageKind::Lost => row.loss_reason.clone().or_else(|| self.default_loss_reason.clone()),
                    _ => row.loss_reason.clone(),
                };
                let patch = OpportunityPatch { stage_id: Some(to.id), close_reason: Some(reason), ..OpportunityPatch::default() };
                match opportunity::apply(&deal, &patch, pipeline, at) {
                    Ok(next) => {
                        events.extend(history::diff(Some(&deal), &next).into_iter().map(|change| (change, at)));
                        next
                    }
                    Err(invalid) => {
                        let errors = rule_errors(&self.mapping, line, invalid, field_of);
                        self.fail(report, errors);
                        return Ok(None);
                    }
                }
            }
        };
        report.created += 1;
        Ok(Some(NewDeal { deal, events, external_id: row.external_id }))
    }

    /// A gate refusal as a problem of the row's stage.
    fn refused(&self, pipeline: &Pipeline, line: u64, check: &pipewise_core::gates::MoveCheck) -> LineError {
        let stage = pipeline.stage(check.to).map_or_else(String::new, |stage| stage.name_en.clone());
        let first = check.unmet().next().map_or_else(String::new, |unmet| unmet.label_en.clone());
        let message =
            Message::new("import.gate_refused").text("stage", stage).text("count", check.unmet().count()).text("criterion", first);
        field_error(&self.mapping, line, Field::Stage, Problem::Fact(message))
    }

    /// A re-imported row: the deal an earlier import made of it takes the file's values through
    /// the ordinary update (authorised, gated, with history and audit). Gates an import may skip
    /// are skipped with a recorded override.
    // Every argument is one resolved cell of the row.
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        tx: &mut Tx,
        before: Opportunity,
        row: &DealRow,
        owner: UserId,
        account_id: Option<AccountId>,
        pipeline: &Pipeline,
        target: &Target<'_>,
        report: &mut ImportReport,
    ) -> Result<()> {
        let fills = |field| self.mapping.fills(field);
        let stage = match target {
            Target::Open(stage) | Target::Closed { to: stage, .. } => stage.id,
        };
        let patch = OpportunityPatch {
            name: fills(Field::Name).then(|| row.name.clone()),
            account_id: fills(Field::Account).then_some(account_id),
            owner_id: (fills(Field::Owner) || self.default_owner.is_some()).then_some(owner),
            pipeline_id: Some(pipeline.id),
            stage_id: (fills(Field::Stage) || fills(Field::Status)).then_some(stage),
            amount: fills(Field::Amount).then_some(row.amount),
            close_date: fills(Field::CloseDate).then_some(row.close_date),
            forecast_category: None,
            next_step: fills(Field::NextStep).then(|| row.next_step.clone()),
            close_reason: match target {
                Target::Closed { to, .. } if to.kind == StageKind::Lost => {
                    Some(row.loss_reason.clone().or_else(|| self.default_loss_reason.clone()))
                }
                _ => fills(Field::LossReason).then(|| row.loss_reason.clone()),
            },
            gate_override_reason: self.historical.clone(),
        };
        // What the file says already holds: nothing to write (the common case of a re-import).
        if opportunity::apply(&before, &patch, pipeline, self.ctx.at).is_ok_and(|after| after == before) {
            report.unchanged += 1;
            return Ok(());
        }
        match crate::deals::update_opportunity(tx, &self.ctx, before.id, &patch) {
            Ok(after) if after == before => report.unchanged += 1,
            Ok(_) => report.updated += 1,
            Err(StoreError::Invalid(invalid)) => {
                let errors = rule_errors(&self.mapping, row.line, invalid, field_of);
                self.fail(report, errors);
            }
            Err(StoreError::GateRefused(check)) => {
                let error = self.refused(pipeline, row.line, &check);
                self.fail(report, vec![error]);
            }
            Err(error) => return Err(error),
        }
        Ok(())
    }
}

impl Rows for DealRows {
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport) {
        match pipewise_import::deal(&self.mapping, &self.reading, record) {
            Ok(row) => {
                if let Some(external_id) = &row.external_id {
                    let key = super::id_hash(external_id);
                    if let Some(first) = self.seen.get(&key) {
                        let message = Message::new("import.duplicate_external_id").text("id", external_id).text("line", first);
                        let error = field_error(&self.mapping, row.line, Field::ExternalId, Problem::Fact(message));
                        self.fail(report, vec![error]);
                        return;
                    }
                    self.seen.insert(key, row.line);
                }
                self.chunk.push(row);
            }
            Err(mut errors) => {
                // The owner and the stage too, so one pass over the report fixes the line.
                let line = errors.first().map_or(0, |error| error.line);
                if let Some((_, owner)) = self.mapping.cell(record, Field::Owner)
                    && let Err(problem) = self.names.user(owner)
                {
                    errors.push(field_error(&self.mapping, line, Field::Owner, problem));
                }
                let pipeline = match self.mapping.cell(record, Field::Pipeline) {
                    Some((_, name)) => self.pipelines.iter().find(|pipeline| normal_name(&pipeline.name) == normal_name(name)),
                    None => self.pipelines.get(self.default_pipeline),
                };
                if let (Some(pipeline), Some((_, stage))) = (pipeline, self.mapping.cell(record, Field::Stage))
                    && self.stage(pipeline, stage).is_none()
                {
                    errors.push(self.unknown_stage(pipeline, line, stage));
                }
                self.fail(report, errors);
            }
        }
    }

    fn pending(&self) -> usize {
        self.chunk.len()
    }

    fn flush(&mut self, tx: &mut Tx, report: &mut ImportReport) -> Result<()> {
        let rows = std::mem::take(&mut self.chunk);
        let known = known_records(tx, self.ctx.org, OpportunityId::LABEL, &self.system, &rows, |row| row.external_id.as_deref())?;
        let mut new = Vec::new();
        for row in rows {
            let record = row.external_id.as_ref().and_then(|external_id| known.get(external_id)).copied();
            if let Some(deal) = self.resolve(tx, row, record, report)? {
                new.push(deal);
            }
        }
        if !self.writing || new.is_empty() {
            return Ok(());
        }
        let deals: Vec<Opportunity> = new.iter().map(|new| new.deal.clone()).collect();
        let ids = tx.0.bulk_insert_opportunities(self.ctx.org, &deals)?;
        let (actor_id, source) = (self.ctx.actor_id, self.ctx.source);
        let events: Vec<HistoryAppend> = new
            .iter()
            .zip(&ids)
            .flat_map(|(new, id)| {
                new.events.iter().map(move |(change, at)| HistoryAppend {
                    opportunity_id: *id,
                    change: change.clone(),
                    at: *at,
                    actor_id,
                    source,
                })
            })
            .collect();
        tx.0.bulk_append_history(self.ctx.org, &events)?;
        let keys: Vec<(&str, i64)> =
            new.iter().zip(&ids).filter_map(|(new, id)| new.external_id.as_deref().map(|external_id| (external_id, id.0))).collect();
        if !keys.is_empty() {
            tx.0.put_import_keys(self.ctx.org, OpportunityId::LABEL, &self.system, &keys)?;
        }
        Ok(())
    }
}
