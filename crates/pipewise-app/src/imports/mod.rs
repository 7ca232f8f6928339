//! Imports (SPEC C11): a CSV export of accounts, contacts, leads, opportunities or activities, read through the pure rules of
//! `pipewise_import`, resolved against the organisation, and written all or nothing.
//!
//! One import is one transaction. Every line is read and checked; the first bad line stops the
//! writing but not the checking, so the report names every bad line (the first
//! [`MAX_REPORTED`] in full, the rest counted) and nothing is kept. A dry run is the same run
//! rolled back at the end: what it reports is exactly what the import would do.
//!
//! - **Who:** ops and admins ([`Access::can_import`]).
//! - **Names:** owners by e-mail or full name, accounts by name (an account a deal names that
//!   does not exist is created, and counted), pipelines and stages by name in English or Korean,
//!   with the user's own stage names first ([`ImportOptions::stages`]); `won`/`lost` (and
//!   Salesforce's `Closed Won`/`Closed Lost`) name the pipeline's won and lost stages.
//! - **History:** a deal is created when the export says (the organisation's local time), in the
//!   open stage it names (the entry stage if none), and a won or lost one is then moved to its
//!   closed stage when it closed, so reports as of any past day see it as it was. A deal with no
//!   creation date is created at the import's time, and counted.
//! - **Gates** apply to every stage a new deal passes, as they do when a rep creates one. Ops may
//!   import history that skipped them ([`ImportOptions::historical`]): the reason is recorded in
//!   the import's audit entry.
//! - **Again:** rows with an external id update the record an earlier import of the same
//!   `system` made of it; an account without one updates the account of the same name.
//!
//! The file is read record by record and written in chunks through the bulk operations, so
//! memory stays bounded whatever the file's size.

mod accounts;
mod activities;
mod contacts;
mod deals;
mod leads;

use std::collections::HashMap;
use std::io::Read;

use pipewise_core::error::{Problem, RecordRef, ValidationErrors};
use pipewise_core::records::NewAccount;
use pipewise_core::user::User;
use pipewise_core::*;
use pipewise_import::Mapping;
pub use pipewise_import::{Choice, DateOrder, Field, Kind, LineError, Vendor};
use serde_json::json;

use crate::*;

/// The bad lines a report lists in full; the rest are counted.
pub const MAX_REPORTED: usize = 1000;
/// Rows read before each write.
const CHUNK: usize = 5000;

/// What to import and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub kind: Kind,
    /// The user's column choices, over the recognised headers.
    pub choices: Vec<Choice>,
    /// Every column's field as a mapping editor set it, instead of recognition and `choices`.
    pub columns: Option<Vec<Option<Field>>>,
    pub date_order: DateOrder,
    /// Where the external ids come from; defaults to the vendor the headers show, else `csv`.
    pub system: Option<String>,
    /// The pipeline deals go to when a row names none; defaults to the organisation's first.
    pub pipeline: Option<String>,
    /// The file's stage names mapped to the pipeline's (`Engaging` → `Qualify`).
    pub stages: Vec<(String, String)>,
    /// The owner of rows that name none (e-mail or full name).
    pub default_owner: Option<String>,
    /// The reason recorded for a lost deal the file gives none (a loss needs a reason).
    pub default_loss_reason: Option<String>,
    /// Imports history that skipped the stage gates, for this reason (ops and admins only).
    pub historical: Option<String>,
    pub dry_run: bool,
}

impl ImportOptions {
    pub fn new(kind: Kind) -> ImportOptions {
        ImportOptions {
            kind,
            choices: Vec::new(),
            columns: None,
            date_order: DateOrder::MonthFirst,
            system: None,
            pipeline: None,
            stages: Vec::new(),
            default_owner: None,
            default_loss_reason: None,
            historical: None,
            dry_run: false,
        }
    }
}

/// What an import did, or (dry run, or any bad line) would have done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub kind: Kind,
    pub vendor: Option<Vendor>,
    pub system: String,
    /// Each header and the field it filled.
    pub mapping: Vec<(String, Option<Field>)>,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Accounts created because deals named them.
    pub accounts_created: u64,
    /// Deals without a creation date, created at the import's time.
    pub undated: u64,
    /// The first [`MAX_REPORTED`] bad lines' problems.
    pub errors: Vec<LineError>,
    /// Every problem found, listed or not.
    pub error_count: u64,
    /// How many problems each field had (`None`: whole lines), listed or not.
    pub problems_by_field: Vec<(Option<Field>, u64)>,
    /// Whether the records were written (false after a dry run or any problem).
    pub committed: bool,
}

impl ImportReport {
    fn push_errors(&mut self, errors: impl IntoIterator<Item = LineError>) {
        for error in errors {
            self.error_count += 1;
            match self.problems_by_field.iter_mut().find(|(field, _)| *field == error.field) {
                Some((_, count)) => *count += 1,
                None => self.problems_by_field.push((error.field, 1)),
            }
            if self.errors.len() < MAX_REPORTED {
                self.errors.push(error);
            }
        }
    }
}

/// Imports the CSV `file` for `ctx`'s actor. `progress` hears the bytes read so far.
///
/// `Err` only when nothing could be read (the actor may not import, the header line is bad, a
/// column choice names no column) or the store fails; bad lines are in the report.
pub fn import(db: &Db, ctx: &WriteCtx, file: impl Read, options: &ImportOptions, progress: &mut dyn FnMut(u64)) -> Result<ImportReport> {
    let mut tx = db.write()?;
    let access = writer_access(&mut tx, ctx)?;
    require(access.can_import(), || "only ops or an admin imports files".into())?;
    let record = RecordRef::new_record("import");
    let mut errors = ValidationErrors::default();
    let historical =
        errors.check(&record, "historical", options.historical.as_deref().map(|reason| text::required(reason, 500)).transpose());
    let loss = options.default_loss_reason.as_deref().map(|reason| text::required(reason, 500)).transpose();
    let default_loss_reason = errors.check(&record, "default_loss_reason", loss);
    let mut reader = pipewise_import::reader(file);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            errors.push(&record, "file", Problem::Invalid { value: error.to_string(), expected: "a CSV file with a header line" });
            return Err(errors.into());
        }
    };
    let header_cells: Vec<&str> = headers.iter().collect();
    let mapping = match mapping_of(&header_cells, options) {
        Ok(mapping) => Some(mapping),
        Err(problems) => {
            for problem in problems {
                errors.push(&record, "columns", problem);
            }
            None
        }
    };
    let system = options.system.clone().unwrap_or_else(|| mapping.as_ref().and_then(|m| m.vendor).map_or("csv", Vendor::as_str).to_owned());
    let system_ok = !system.is_empty() && system.len() <= 40 && system.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !system_ok {
        errors.push(&record, "system", Problem::Invalid { value: system.clone(), expected: "1 to 40 letters, digits, - or _" });
    }
    let (Some(mapping), (Some(historical), Some(default_loss_reason))) = (mapping, (historical, default_loss_reason)) else {
        return Err(errors.into());
    };
    errors.into_result(())?;
    let mut report = ImportReport {
        kind: options.kind,
        vendor: mapping.vendor,
        system: system.clone(),
        mapping: mapping.headers.iter().cloned().zip(mapping.columns.iter().copied()).collect(),
        rows: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        accounts_created: 0,
        undated: 0,
        errors: Vec::new(),
        error_count: 0,
        problems_by_field: Vec::new(),
        committed: false,
    };
    let names = Names::load(&mut tx, ctx.org)?;
    let settings = Settings { system, historical, default_loss_reason };
    let mut run: Box<dyn Rows> = match options.kind {
        Kind::Opportunities => Box::new(deals::DealRows::new(&mut tx, ctx, options, &settings, mapping, names)?),
        Kind::Accounts => Box::new(accounts::AccountRows::new(ctx, mapping, names, &settings.system)),
        Kind::Contacts => Box::new(contacts::ContactRows::new(&mut tx, ctx, mapping, names, &settings.system)?),
        Kind::Leads => Box::new(leads::LeadRows::new(&mut tx, ctx, mapping, names, &settings.system)?),
        Kind::Activities => Box::new(activities::ActivityRows::new(&mut tx, ctx, options, mapping, names, &settings.system)?),
    };
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                report.rows += 1;
                run.read(&record, &mut report);
            }
            Ok(false) => break,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                let problem = Problem::Invalid { value: error.to_string(), expected: "a CSV line (save the file as CSV UTF-8)" };
                report.push_errors([LineError { line, column: None, field: None, problem }]);
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
        if run.pending() >= CHUNK {
            run.flush(&mut tx, &mut report)?;
            progress(reader.position().byte());
        }
    }
    run.flush(&mut tx, &mut report)?;
    progress(reader.position().byte());
    report.errors.sort_by_key(|error| error.line);
    if report.error_count > 0 || options.dry_run {
        return Ok(report);
    }
    let summary = json!({
        "kind": options.kind.as_str(),
        "system": report.system,
        "vendor": report.vendor.map(Vendor::as_str),
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "accounts_created": report.accounts_created,
        "gates_skipped_because": settings.historical,
    });
    let kind = match options.kind {
        Kind::Accounts => AccountId::LABEL,
        Kind::Contacts => ContactId::LABEL,
        Kind::Leads => LeadId::LABEL,
        Kind::Opportunities => OpportunityId::LABEL,
        Kind::Activities => ActivityId::LABEL,
    };
    audit(&mut tx, ctx, kind, 0, "import", None, Some(summary))?;
    tx.commit()?;
    report.committed = true;
    Ok(report)
}

/// The file's mapping: the editor's columns if given, else the recognised headers with the
/// user's choices.
fn mapping_of(headers: &[&str], options: &ImportOptions) -> std::result::Result<Mapping, Vec<Problem>> {
    match &options.columns {
        Some(columns) => Mapping::chosen(options.kind, headers, columns),
        None => Mapping::detect(options.kind, headers, &options.choices),
    }
}

/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 5;
/// Distinct stage names a preview lists for mapping.
pub const PREVIEW_STAGES: usize = 100;

/// What a file holds before anything is checked against the organisation: its columns and the
/// field each fills, its first rows, and the stage names it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub vendor: Option<Vendor>,
    pub headers: Vec<String>,
    pub columns: Vec<Option<Field>>,
    /// The first [`PREVIEW_ROWS`] rows' cells.
    pub samples: Vec<Vec<String>>,
    /// The distinct stage cells, in the order first seen (at most [`PREVIEW_STAGES`]).
    pub stages: Vec<String>,
    pub rows: u64,
    /// What is wrong with the mapping (no column names the records, a chosen field of another
    /// kind), worded by the edge.
    pub problems: Vec<Problem>,
}

/// Reads `file` for a preview: no line is checked and nothing is written. `Err` when the
/// file has no readable header line.
pub fn preview(file: impl Read, options: &ImportOptions) -> Result<Preview> {
    let mut reader = pipewise_import::reader(file);
    let record = RecordRef::new_record("import");
    let headers = reader.headers().map_err(|error| {
        let mut errors = ValidationErrors::default();
        errors.push(&record, "file", Problem::Invalid { value: error.to_string(), expected: "a CSV file with a header line" });
        StoreError::Invalid(errors)
    })?;
    let headers: Vec<String> = headers.iter().map(|header| header.trim().to_owned()).collect();
    let cells: Vec<&str> = headers.iter().map(String::as_str).collect();
    let (mapping, problems) = match mapping_of(&cells, options) {
        Ok(mapping) => (Some(mapping), Vec::new()),
        Err(problems) => (Mapping::detect(options.kind, &cells, &[]).ok(), problems),
    };
    let columns = match (&options.columns, &mapping) {
        (Some(columns), _) if columns.len() == headers.len() => columns.clone(),
        (_, Some(mapping)) => mapping.columns.clone(),
        _ => vec![None; headers.len()],
    };
    let mut preview = Preview {
        vendor: mapping.as_ref().and_then(|m| m.vendor),
        headers,
        columns,
        samples: Vec::new(),
        stages: Vec::new(),
        rows: 0,
        problems,
    };
    let mut seen = std::collections::HashSet::new();
    let mut record = csv::StringRecord::new();
    while let Ok(true) = reader.read_record(&mut record) {
        preview.rows += 1;
        if preview.samples.len() < PREVIEW_ROWS {
            preview.samples.push(record.iter().map(|cell| cell.chars().take(80).collect()).collect());
        }
        if let Some((_, stage)) = mapping.as_ref().and_then(|mapping| mapping.cell(&record, Field::Stage))
            && preview.stages.len() < PREVIEW_STAGES
            && seen.insert(normal_name(stage))
        {
            preview.stages.push(stage.trim().to_owned());
        }
    }
    Ok(preview)
}

/// What every kind of file shares: checked once before the first line.
struct Settings {
    system: String,
    historical: Option<String>,
    default_loss_reason: Option<String>,
}

/// A kind of file's lines: read one by one, written a chunk at a time.
trait Rows {
    /// Reads one record into the chunk, or its problems into the report.
    fn read(&mut self, record: &csv::StringRecord, report: &mut ImportReport);
    fn pending(&self) -> usize;
    /// Resolves and (while no line has failed) writes the chunk read so far.
    fn flush(&mut self, tx: &mut Tx, report: &mut ImportReport) -> Result<()>;
}

/// The organisation's users and accounts by the names a file uses.
struct Names {
    /// Lower-cased e-mail → user; normalised full name → users (two of one name are ambiguous).
    users_by_email: HashMap<String, UserId>,
    users_by_name: HashMap<String, Vec<UserId>>,
    /// Normalised name → account.
    accounts: HashMap<String, AccountId>,
    /// Domain → account.
    domains: HashMap<String, AccountId>,
}

/// A 128-bit hash of an external id, for telling ids seen before in bounded memory (two
/// differently keyed SipHashes: a collision is beyond any file's reach).
fn id_hash(id: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |key: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        id.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// A name compared without case and with runs of spaces as one.
fn normal_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Names {
    fn load(tx: &mut Tx, org: OrgId) -> Result<Names> {
        let users: Vec<User> = tx.0.users(org)?;
        let mut users_by_name: HashMap<String, Vec<UserId>> = HashMap::new();
        for user in users.iter().filter(|user| user.active) {
            users_by_name.entry(normal_name(&user.name)).or_default().push(user.id);
        }
        let users_by_email = users.iter().filter(|user| user.active).map(|user| (user.email.to_lowercase(), user.id)).collect();
        let stored = tx.0.accounts(org)?;
        let accounts = stored.iter().map(|account| (normal_name(&account.name), account.id)).collect();
        let domains = stored.iter().flat_map(|account| account.domains.iter().map(|domain| (domain.clone(), account.id))).collect();
        Ok(Names { users_by_email, users_by_name, accounts, domains })
    }

    /// The account a row names, created (with `domains`, and counted) when the organisation
    /// has none of that name; while nothing is written (`writing` false), a placeholder.
    fn account(
        &mut self,
        tx: &mut Tx,
        ctx: &WriteCtx,
        name: &str,
        domains: Vec<String>,
        writing: bool,
        report: &mut ImportReport,
    ) -> Result<AccountId> {
        let key = normal_name(name);
        if let Some(id) = self.accounts.get(&key) {
            return Ok(*id);
        }
        // "Harbor & Co." and "Harbor and Co" at harborandco.example are one company.
        if let Some(id) = domains.iter().find_map(|domain| self.domains.get(domain)) {
            let id = *id;
            self.accounts.insert(key, id);
            return Ok(id);
        }
        report.accounts_created += 1;
        let id = if writing {
            let new = NewAccount {
                name: name.to_owned(),
                domains: domains.clone(),
                industry: None,
                employee_count: None,
                region: None,
                owner_id: None,
            }
            .validated()?;
            let id = tx.0.insert_account(ctx.org, &new, ctx.at)?;
            audit(
                tx,
                ctx,
                AccountId::LABEL,
                id.0,
                "create",
                None,
                Some(json!({ "name": new.name, "domains": new.domains, "by": "import" })),
            )?;
            id
        } else {
            AccountId(0)
        };
        self.accounts.insert(key, id);
        for domain in domains {
            self.domains.insert(domain, id);
        }
        Ok(id)
    }

    /// The active user a cell names by e-mail or full name.
    fn user(&self, raw: &str) -> Result<UserId, Problem> {
        if let Some(id) = self.users_by_email.get(&raw.trim().to_lowercase()) {
            return Ok(*id);
        }
        match self.users_by_name.get(&normal_name(raw)).map(Vec::as_slice) {
            Some([id]) => Ok(*id),
            Some(ids) => {
                Err(Problem::Fact(message::Message::new("import.owner_ambiguous").text("name", raw.trim()).text("count", ids.len())))
            }
            None => Err(Problem::Fact(message::Message::new("import.no_such_user").text("name", raw.trim()))),
        }
    }
}

/// The records earlier imports of `system` made of the external ids of `rows`, by external id.
fn known_records<R>(
    tx: &mut Tx,
    org: OrgId,
    kind: &'static str,
    system: &str,
    rows: &[R],
    external_id: impl Fn(&R) -> Option<&str>,
) -> Result<HashMap<String, i64>> {
    let ids: Vec<&str> = rows.iter().filter_map(external_id).collect();
    let found = tx.0.import_keys(org, kind, system, &ids)?;
    Ok(ids.iter().zip(found).filter_map(|(id, record)| record.map(|record| ((*id).to_owned(), record))).collect())
}

/// The rows of a chunk, each with the record an earlier import of `system` made of its
/// external id, if any.
fn with_known<R>(
    tx: &mut Tx,
    org: OrgId,
    kind: &'static str,
    system: &str,
    rows: Vec<R>,
    external_id: impl Fn(&R) -> Option<&str>,
) -> Result<Vec<(R, Option<i64>)>> {
    let known = known_records(tx, org, kind, system, &rows, &external_id)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let record = external_id(&row).and_then(|id| known.get(id)).copied();
            (row, record)
        })
        .collect())
}

/// The first problem of a contact's or lead's line that repeats an address or an external id
/// of an earlier line (`seen`: each key → the line it was first seen on), or `None` after
/// remembering this line's keys.
fn repeated(
    seen: &mut HashMap<String, u64>,
    mapping: &Mapping,
    line: u64,
    emails: &[String],
    external_id: Option<&str>,
) -> Option<LineError> {
    let keys: Vec<(Field, String)> = emails
        .iter()
        .map(|email| (Field::Email, email.clone()))
        .chain(external_id.map(|id| (Field::ExternalId, format!("id:{id}"))))
        .collect();
    for (field, key) in &keys {
        if let Some(first) = seen.get(key) {
            let message = match field {
                Field::Email => message::Message::new("import.duplicate_email").text("email", key).text("line", first),
                _ => message::Message::new("import.duplicate_external_id").text("id", key.trim_start_matches("id:")).text("line", first),
            };
            return Some(field_error(mapping, line, *field, Problem::Fact(message)));
        }
    }
    for (_, key) in keys {
        seen.insert(key, line);
    }
    None
}

/// A problem of a row's field, placed in the first column that fills it.
fn field_error(mapping: &Mapping, line: u64, field: Field, problem: Problem) -> LineError {
    let column = mapping.columns_of(field).next().map(|at| mapping.headers[at].clone());
    LineError { line, column, field: Some(field), problem }
}

/// A write refused because it would take what another record holds (an account's domain, a
/// contact's address), as a problem of the row's `field`.
fn conflict_error(mapping: &Mapping, line: u64, field: Field, detail: &str) -> LineError {
    field_error(mapping, line, field, Problem::Fact(message::Message::new("import.conflict").text("detail", detail)))
}

/// A row's write: the record written, or `None` with what refused it in the report (a rule
/// broken, placed by `field_of`; another record's domain or address, placed in `conflict`).
/// Any other error ends the import.
fn settled<T>(
    written: Result<T>,
    mapping: &Mapping,
    line: u64,
    field_of: impl Fn(&str) -> Option<Field>,
    conflict: Field,
    report: &mut ImportReport,
) -> Result<Option<T>> {
    match written {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::Invalid(invalid)) => {
            report.push_errors(rule_errors(mapping, line, invalid, field_of));
            Ok(None)
        }
        Err(StoreError::Conflict(detail)) => {
            report.push_errors([conflict_error(mapping, line, conflict, &detail)]);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The problems the record rules found, each placed in the field's column.
fn rule_errors(mapping: &Mapping, line: u64, errors: ValidationErrors, field_of: impl Fn(&str) -> Option<Field>) -> Vec<LineError> {
    errors
        .0
        .into_iter()
        .map(|error| match field_of(error.field) {
            Some(field) => field_error(mapping, line, field, error.problem),
            None => LineError { line, column: None, field: None, problem: error.problem },
        })
        .collect()
}
