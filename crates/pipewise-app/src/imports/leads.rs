//! Leads files: each line creates a lead (source `import` when the file names none), or updates
//! the one an earlier import made of its external id, or else the one with its address.

use std::collections::HashMap;

use pipewise_core::records::{LeadPatch, LeadStatus, NewLead};
use pipewise_core::*;
use pipewise_import::{Field, LeadRow, LeadStage, Mapping};

use super::{ImportReport, Names, Rows, field_error, repeated, settled, with_known};
use crate::*;

pub(super) struct LeadRows {
    ctx: WriteCtx,
    mapping: Mapping,
    names: Names,
    system: String,
    /// The organisation's leads by address.
    by_email: HashMap<String, LeadId>,
    /// External ids and addresses seen in the file → the line each was first seen on.
    seen: HashMap<String, u64>,
    chunk: Vec<LeadRow>,
}

fn field_of(field: &str) -> Option<Field> {
    match field {
        "name" => Some(Field::Name),
        "email" => Some(Field::Email),
        "phone" => Some(Field::Phone),
        "title" => Some(Field::Title),
        "company" => Some(Field::Account),
        "source" => Some(Field::Source),
        "owner_id" => Some(Field::Owner),
        _ => None,
    }
}

fn status(stage: LeadStage) -> LeadStatus {
    match stage {
        LeadStage::New => LeadStatus::New,
        LeadStage::Working => LeadStatus::Working,
        LeadStage::Qualified => LeadStatus::Qualified,
        LeadStage::Disqualified => LeadStatus::Disqualified,
        LeadStage::Converted => LeadStatus::Converted,
    }
}

impl LeadRows {
    pub(super) fn new(tx: &mut Tx, ctx: &WriteCtx, mapping: Mapping, names: Names, system: &str) -> Result<LeadRows> {
        let by_email = tx.0.leads(ctx.org)?.into_iter().filter_map(|lead| lead.email.map(|email| (email, lead.id))).collect();
        Ok(LeadRows { ctx: *ctx, mapping, names, system: system.to_owned(), by_email, seen: HashMap::new(), chunk: Vec::new() })
    }

    fn write(&mut self, tx: &mut Tx, row: LeadRow, known: Option<LeadId>, report: &mut ImportReport) -> Result<()> {
        let owner_id = match &row.owner {
            Some(raw) => match self.names.user(raw) {
                Ok(owner) => Some(owner),
                Err(problem) => {
                    report.push_errors([field_error(&self.mapping, row.line, Field::Owner, problem)]);
                    return Ok(());
                }
            },
            None => None,
        };
        let existing = match known.or_else(|| row.email.as_ref().and_then(|email| self.by_email.get(email).copied())) {
            Some(id) => tx.0.lead(self.ctx.org, id)?,
            None => None,
        };
        let written = match existing {
            Some(lead) => {
                let fills = |field| self.mapping.fills(field);
                let patch = LeadPatch {
                    name: Some(row.name.clone()),
                    company: fills(Field::Account).then(|| row.company.clone()),
                    email: row.email.clone().map(Some),
                    phone: fills(Field::Phone).then(|| row.phone.clone()),
                    title: fills(Field::Title).then(|| row.title.clone()),
                    source: fills(Field::Source).then(|| row.source.clone()),
                    industry: fills(Field::Industry).then(|| row.industry.clone()),
                    employee_count: fills(Field::Employees).then_some(row.employee_count),
                    region: fills(Field::Region).then(|| row.region.clone()),
                    status: row.status.map(status),
                    owner_id: fills(Field::Owner).then_some(owner_id),
                };
                crate::records::update_lead(tx, &self.ctx, lead.id, &patch).inspect(|after| {
                    if *after == lead {
                        report.unchanged += 1;
                    } else {
                        report.updated += 1;
                    }
                })
            }
            None => {
                let new = NewLead {
                    name: row.name.clone(),
                    company: row.company.clone(),
                    email: row.email.clone(),
                    phone: row.phone.clone(),
                    title: row.title.clone(),
                    source: row.source.clone().or_else(|| Some("import".to_owned())),
                    industry: row.industry.clone(),
                    employee_count: row.employee_count,
                    region: row.region.clone(),
                    status: row.status.map_or(LeadStatus::New, status),
                    owner_id,
                };
                crate::records::create_lead(tx, &self.ctx, new).inspect(|_| report.created += 1)
            }
        };
        if let Some(lead) = settled(written, &self.mapping, row.line, field_of, Field::Email, report)? {
            if let Some(email) = &lead.email {
                self.by_email.insert(email.clone(), lead.id);
            }
            if let Some(external_id) = &row.external_id {
                tx.0.put_import_keys(self.ctx.org, LeadId::LABEL, &self.system, &[(external_id.as_str(), lead.id.0)])?;
            }
        }
        Ok(())
    }
}

impl Rows for LeadRows {
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport) {
        match pipewise_import::lead(&self.mapping, record) {
            Ok(row) => {
                let emails: Vec<String> = row.email.iter().cloned().collect();
                if let Some(error) = repeated(&mut self.seen, &self.mapping, row.line, &emails, row.external_id.as_deref()) {
                    report.push_errors([error]);
                    return;
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
        for (row, record) in with_known(tx, self.ctx.org, LeadId::LABEL, &self.system, rows, |row| row.external_id.as_deref())? {
            self.write(tx, row, record.map(LeadId), report)?;
        }
        Ok(())
    }
}
