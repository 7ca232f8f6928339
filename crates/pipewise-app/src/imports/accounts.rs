//! Accounts files: each line creates an account, or updates the one an earlier import made of
//! its external id, or else the one of the same name.

use std::collections::HashMap;

use pipewise_core::error::Problem;
use pipewise_core::message::Message;
use pipewise_core::records::{AccountPatch, NewAccount};
use pipewise_core::*;
use pipewise_import::{AccountRow, Field, Mapping};

use super::{ImportReport, Names, Rows, field_error, normal_name, settled, with_known};
use crate::*;

pub(super) struct AccountRows {
    ctx: WriteCtx,
    mapping: Mapping,
    names: Names,
    system: String,
    /// External id or normalised name → the line it was first seen on.
    seen: HashMap<String, u64>,
    chunk: Vec<AccountRow>,
}

fn field_of(field: &str) -> Option<Field> {
    match field {
        "name" => Some(Field::Name),
        "industry" => Some(Field::Industry),
        "employee_count" => Some(Field::Employees),
        "domains" => Some(Field::Website),
        "region" => Some(Field::Region),
        "owner_id" => Some(Field::Owner),
        _ => None,
    }
}

impl AccountRows {
    pub(super) fn new(ctx: &WriteCtx, mapping: Mapping, names: Names, system: &str) -> AccountRows {
        AccountRows { ctx: *ctx, mapping, names, system: system.to_owned(), seen: HashMap::new(), chunk: Vec::new() }
    }

    fn write(&mut self, tx: &mut Tx, row: AccountRow, known: Option<AccountId>, report: &mut ImportReport) -> Result<()> {
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
        let key = normal_name(&row.name);
        let existing = match known.or_else(|| self.names.accounts.get(&key).copied()) {
            Some(id) => tx.0.account(self.ctx.org, id)?,
            None => None,
        };
        let written = match existing {
            Some(account) => {
                let fills = |field| self.mapping.fills(field);
                let patch = AccountPatch {
                    name: Some(row.name.clone()),
                    domains: fills(Field::Website).then(|| row.domains.clone()),
                    industry: fills(Field::Industry).then(|| row.industry.clone()),
                    employee_count: fills(Field::Employees).then_some(row.employee_count),
                    region: fills(Field::Region).then(|| row.region.clone()),
                    owner_id: fills(Field::Owner).then_some(owner_id),
                };
                match crate::records::update_account(tx, &self.ctx, account.id, &patch) {
                    Ok(after) if after == account => {
                        report.unchanged += 1;
                        Ok(after.id)
                    }
                    Ok(after) => {
                        report.updated += 1;
                        Ok(after.id)
                    }
                    Err(error) => Err(error),
                }
            }
            None => {
                let new = NewAccount {
                    name: row.name.clone(),
                    domains: row.domains.clone(),
                    industry: row.industry.clone(),
                    employee_count: row.employee_count,
                    region: row.region.clone(),
                    owner_id,
                };
                let created = crate::records::create_account(tx, &self.ctx, new);
                if created.is_ok() {
                    report.created += 1;
                }
                created.map(|account| account.id)
            }
        };
        if let Some(id) = settled(written, &self.mapping, row.line, field_of, Field::Website, report)? {
            self.names.accounts.insert(key, id);
            if let Some(external_id) = &row.external_id {
                tx.0.put_import_keys(self.ctx.org, AccountId::LABEL, &self.system, &[(external_id.as_str(), id.0)])?;
            }
        }
        Ok(())
    }
}

impl Rows for AccountRows {
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport) {
        match pipewise_import::account(&self.mapping, record) {
            Ok(row) => {
                let key = row.external_id.clone().unwrap_or_else(|| normal_name(&row.name));
                if let Some(first) = self.seen.get(&key) {
                    let (field, message) = match &row.external_id {
                        Some(id) => (Field::ExternalId, Message::new("import.duplicate_external_id").text("id", id).text("line", first)),
                        None => (Field::Name, Message::new("import.duplicate_name").text("name", &row.name).text("line", first)),
                    };
                    report.push_errors([field_error(&self.mapping, row.line, field, Problem::Fact(message))]);
                    return;
                }
                self.seen.insert(key, row.line);
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
        for (row, record) in with_known(tx, self.ctx.org, AccountId::LABEL, &self.system, rows, |row| row.external_id.as_deref())? {
            self.write(tx, row, record.map(AccountId), report)?;
        }
        Ok(())
    }
}
