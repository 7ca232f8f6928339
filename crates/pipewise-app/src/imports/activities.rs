//! Activities files: each line logs an activity on the deal it names (by the external id an
//! earlier import of the same system gave it, or by its name when one deal has it), the account
//! it names, and the contacts of its addresses, as the user it names. Logged now, occurred when
//! the file says; an external id makes a re-import skip what an earlier one logged.

use std::collections::HashMap;

use pipewise_core::error::Problem;
use pipewise_core::message::Message;
use pipewise_core::records::NewActivity;
use pipewise_core::*;
use pipewise_import::{ActivityRow, Field, Mapping, Reading};

use super::{ImportOptions, ImportReport, Names, Rows, field_error, known_records, normal_name, settled};
use crate::*;

pub(super) struct ActivityRows {
    ctx: WriteCtx,
    mapping: Mapping,
    reading: Reading,
    names: Names,
    system: String,
    zone: Zone,
    /// Deals by normalised name (only read when the file names deals).
    deals_by_name: HashMap<String, Vec<OpportunityId>>,
    /// Contacts by address.
    contacts: HashMap<String, ContactId>,
    seen: HashMap<String, u64>,
    chunk: Vec<ActivityRow>,
}

fn field_of(field: &str) -> Option<Field> {
    match field {
        "subject" => Some(Field::Name),
        "body" => Some(Field::Body),
        "opportunity_id" => Some(Field::Deal),
        "account_id" => Some(Field::Account),
        "user_id" => Some(Field::Owner),
        _ => None,
    }
}

impl ActivityRows {
    pub(super) fn new(
        tx: &mut Tx,
        ctx: &WriteCtx,
        options: &ImportOptions,
        mapping: Mapping,
        names: Names,
        system: &str,
    ) -> Result<ActivityRows> {
        let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: ctx.org.0 })?;
        let mut deals_by_name: HashMap<String, Vec<OpportunityId>> = HashMap::new();
        if mapping.fills(Field::Deal) {
            for deal in tx.0.opportunities(ctx.org, &OpportunityFilter::default())? {
                deals_by_name.entry(normal_name(&deal.name)).or_default().push(deal.id);
            }
        }
        let contacts =
            tx.0.contacts(ctx.org)?
                .into_iter()
                .flat_map(|contact| contact.emails.into_iter().map(move |email| (email, contact.id)))
                .collect();
        Ok(ActivityRows {
            ctx: *ctx,
            mapping,
            reading: pipewise_import::Reading { date_order: options.date_order, currency: organisation.reporting_currency },
            names,
            system: system.to_owned(),
            zone: organisation.time_zone,
            deals_by_name,
            contacts,
            seen: HashMap::new(),
            chunk: Vec::new(),
        })
    }

    fn write(&mut self, tx: &mut Tx, row: ActivityRow, deal_by_id: Option<OpportunityId>, report: &mut ImportReport) -> Result<()> {
        let line = row.line;
        let mut problems = Vec::new();
        let user_id = match &row.owner {
            Some(raw) => {
                self.names.user(raw).map_err(|problem| problems.push(field_error(&self.mapping, line, Field::Owner, problem))).ok()
            }
            None => None,
        };
        let opportunity_id = match (&row.deal, deal_by_id) {
            (_, Some(id)) => Some(id),
            (Some(name), None) => match self.deals_by_name.get(&normal_name(name)).map(Vec::as_slice) {
                Some([id]) => Some(*id),
                Some(ids) => {
                    let message = Message::new("import.deal_ambiguous").text("name", name).text("count", ids.len());
                    problems.push(field_error(&self.mapping, line, Field::Deal, Problem::Fact(message)));
                    None
                }
                None => {
                    problems.push(field_error(
                        &self.mapping,
                        line,
                        Field::Deal,
                        Problem::Fact(Message::new("import.no_such_deal").text("name", name)),
                    ));
                    None
                }
            },
            (None, None) => None,
        };
        let account_id = match &row.account {
            Some(name) => match self.names.accounts.get(&normal_name(name)) {
                Some(id) => Some(*id),
                None => {
                    problems.push(field_error(
                        &self.mapping,
                        line,
                        Field::Account,
                        Problem::Fact(Message::new("import.no_such_account").text("name", name)),
                    ));
                    None
                }
            },
            None => None,
        };
        let mut contact_ids = Vec::new();
        for email in &row.emails {
            match self.contacts.get(email) {
                Some(id) => contact_ids.push(*id),
                None => problems.push(field_error(
                    &self.mapping,
                    line,
                    Field::Email,
                    Problem::Fact(Message::new("import.no_such_contact").text("email", email)),
                )),
            }
        }
        let occurred_at = self.zone.start_of(row.occurred.date).plus_seconds(i64::from(row.occurred.seconds.unwrap_or(0)));
        if occurred_at > self.ctx.at {
            problems.push(field_error(&self.mapping, line, Field::Created, Problem::Fact(Message::new("import.in_future"))));
        }
        if !problems.is_empty() {
            report.push_errors(problems);
            return Ok(());
        }
        let new = NewActivity {
            kind: row.kind,
            direction: row.direction,
            occurred_at,
            subject: row.subject.clone(),
            body: row.body.clone(),
            source: "import".to_owned(),
            user_id,
            account_id,
            opportunity_id,
            contact_ids,
        };
        let written = crate::activities::create_activity(tx, &self.ctx, new);
        if let Some(id) = settled(written, &self.mapping, line, field_of, Field::Deal, report)? {
            report.created += 1;
            if let Some(external_id) = &row.external_id {
                tx.0.put_import_keys(self.ctx.org, ActivityId::LABEL, &self.system, &[(external_id.as_str(), id.0)])?;
            }
        }
        Ok(())
    }
}

impl Rows for ActivityRows {
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport) {
        match pipewise_import::activity(&self.mapping, &self.reading, record) {
            Ok(row) => {
                if let Some(id) = &row.external_id {
                    if let Some(first) = self.seen.get(id) {
                        let message = Message::new("import.duplicate_external_id").text("id", id).text("line", first);
                        report.push_errors([field_error(&self.mapping, row.line, Field::ExternalId, Problem::Fact(message))]);
                        return;
                    }
                    self.seen.insert(id.clone(), row.line);
                }
                self.chunk.push(row);
            }
            Err(errors) => report.push_errors(errors),
        }
    }

    fn pending(&self) -> usize {
        self.chunk.len()
    }

    fn flush(&mut self, tx: &mut Tx, report: &mut ImportReport) -> Result<()> {
        let rows = std::mem::take(&mut self.chunk);
        let logged = known_records(tx, self.ctx.org, ActivityId::LABEL, &self.system, &rows, |row| row.external_id.as_deref())?;
        let deals = known_records(tx, self.ctx.org, OpportunityId::LABEL, &self.system, &rows, |row| row.deal.as_deref())?;
        for row in rows {
            if row.external_id.as_ref().is_some_and(|id| logged.contains_key(id)) {
                report.unchanged += 1;
                continue;
            }
            let deal = row.deal.as_ref().and_then(|deal| deals.get(deal)).map(|id| OpportunityId(*id));
            self.write(tx, row, deal, report)?;
        }
        Ok(())
    }
}
