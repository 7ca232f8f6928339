//! Contacts files: each line creates a contact, or updates the one an earlier import made of its
//! external id, or else the one with one of its e-mail addresses. The account it names is found
//! by name, or created with the row's website as its domain.

use std::collections::HashMap;

use pipewise_core::records::{ContactPatch, NewContact};
use pipewise_core::*;
use pipewise_import::{ContactRow, Field, Mapping};

use super::{ImportReport, Names, Rows, repeated, settled, with_known};
use crate::*;

pub(super) struct ContactRows {
    ctx: WriteCtx,
    mapping: Mapping,
    names: Names,
    system: String,
    /// The organisation's contacts by each of their addresses.
    by_email: HashMap<String, ContactId>,
    /// External ids and addresses seen in the file → the line each was first seen on.
    seen: HashMap<String, u64>,
    chunk: Vec<ContactRow>,
}

fn field_of(field: &str) -> Option<Field> {
    match field {
        "name" => Some(Field::Name),
        "emails" => Some(Field::Email),
        "phone" => Some(Field::Phone),
        "title" => Some(Field::Title),
        "account_id" => Some(Field::Account),
        _ => None,
    }
}

impl ContactRows {
    pub(super) fn new(tx: &mut Tx, ctx: &WriteCtx, mapping: Mapping, names: Names, system: &str) -> Result<ContactRows> {
        let by_email =
            tx.0.contacts(ctx.org)?
                .into_iter()
                .flat_map(|contact| contact.emails.into_iter().map(move |email| (email, contact.id)))
                .collect();
        Ok(ContactRows { ctx: *ctx, mapping, names, system: system.to_owned(), by_email, seen: HashMap::new(), chunk: Vec::new() })
    }

    fn write(&mut self, tx: &mut Tx, row: ContactRow, known: Option<ContactId>, report: &mut ImportReport) -> Result<()> {
        let account_id = match &row.account {
            Some(name) => Some(self.names.account(tx, &self.ctx, name, row.website.clone().into_iter().collect(), true, report)?),
            None => None,
        };
        let existing = match known.or_else(|| row.emails.iter().find_map(|email| self.by_email.get(email).copied())) {
            Some(id) => tx.0.contact(self.ctx.org, id)?,
            None => None,
        };
        let written = match existing {
            Some(contact) => {
                let fills = |field| self.mapping.fills(field);
                let mut emails = contact.emails.clone();
                emails.extend(row.emails.iter().filter(|email| !contact.emails.contains(email)).cloned());
                let patch = ContactPatch {
                    name: Some(row.name.clone()),
                    emails: Some(emails),
                    phone: fills(Field::Phone).then(|| row.phone.clone()),
                    title: fills(Field::Title).then(|| row.title.clone()),
                    account_id: fills(Field::Account).then_some(account_id),
                };
                match crate::records::update_contact(tx, &self.ctx, contact.id, &patch) {
                    Ok(after) => {
                        if after == contact {
                            report.unchanged += 1;
                        } else {
                            report.updated += 1;
                        }
                        Ok(after)
                    }
                    Err(error) => Err(error),
                }
            }
            None => {
                let new = NewContact {
                    name: row.name.clone(),
                    emails: row.emails.clone(),
                    phone: row.phone.clone(),
                    title: row.title.clone(),
                    account_id,
                };
                let created = crate::records::create_contact(tx, &self.ctx, new);
                if created.is_ok() {
                    report.created += 1;
                }
                created
            }
        };
        if let Some(contact) = settled(written, &self.mapping, row.line, field_of, Field::Email, report)? {
            for email in &contact.emails {
                self.by_email.insert(email.clone(), contact.id);
            }
            if let Some(external_id) = &row.external_id {
                tx.0.put_import_keys(self.ctx.org, ContactId::LABEL, &self.system, &[(external_id.as_str(), contact.id.0)])?;
            }
        }
        Ok(())
    }
}

impl Rows for ContactRows {
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport) {
        match pipewise_import::contact(&self.mapping, record) {
            Ok(row) => {
                if let Some(error) = repeated(&mut self.seen, &self.mapping, row.line, &row.emails, row.external_id.as_deref()) {
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
        for (row, record) in with_known(tx, self.ctx.org, ContactId::LABEL, &self.system, rows, |row| row.external_id.as_deref())? {
            self.write(tx, row, record.map(ContactId), report)?;
        }
        Ok(())
    }
}
