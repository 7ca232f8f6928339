//! Quotas and the fiscal calendar (SPEC C8, issue 12).
//!
//! - **The calendar.** An organisation's fiscal years start in a month ops choose
//!   ([`set_fiscal_year_start`]); periods are named by keys such as `2027-Q1`
//!   (`pipewise_core::fiscal`).
//! - **Quotas.** One amount in the reporting currency per person or team per fiscal period
//!   ([`set_quota`]); a year's quota can be spread over its quarters or months by seasonality
//!   weights ([`set_seasonal_quotas`], exact to the minor unit). Setting a quota again replaces it.
//! - **Who.** Ops and admins set and remove quotas, like the pipeline design; a viewer reads the
//!   quotas of the people whose deals they may see and of the teams those people are in.
//! - **Audit.** Every change appends `create`, `update` or `delete` on `quota` (record id: the
//!   person or team) with the subject, period and amount, in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{FieldError, Problem, RecordRef, ValidationErrors};
use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use pipewise_core::money::Decimal;
use pipewise_core::records::Team;
use pipewise_core::user::User;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

/// What the audit log and validation errors call a quota.
pub const QUOTA: &str = "quota";

/// Sets the month the organisation's fiscal years start in (1 is January). Ops and admins only;
/// audited. Stored quotas keep their days.
pub fn set_fiscal_year_start(tx: &mut Tx, ctx: &WriteCtx, month: u8) -> Result<Organisation> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins change the organisation's fiscal year".into())?;
    let record = RecordRef::new("organisation", ctx.org.0);
    let calendar = FiscalCalendar::new(month).map_err(|problem| FieldError { record, field: "fiscal_year_start_month", problem })?;
    let mut organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    if organisation.fiscal == calendar {
        return Ok(organisation);
    }
    tx.0.set_organisation_fiscal_year_start(ctx.org, calendar)?;
    let json = |calendar: FiscalCalendar| json!({ "fiscal_year_start_month": calendar.start_month() });
    audit_update(tx, ctx, "organisation", ctx.org.0, json(organisation.fiscal), json(calendar))?;
    organisation.fiscal = calendar;
    Ok(organisation)
}

/// Sets `subject`'s quota for the fiscal period `period_key` (`2027-Q1`) to `amount` (a decimal in
/// the reporting currency), replacing any. Every bad field is named at once.
pub fn set_quota(tx: &mut Tx, ctx: &WriteCtx, subject: QuotaSubject, period_key: &str, amount: &str) -> Result<StoredQuota> {
    let (organisation, record) = quota_writer(tx, ctx)?;
    let mut errors = ValidationErrors::default();
    check_subject(tx, ctx.org, subject, &record, &mut errors)?;
    let period = errors.check(&record, "period", organisation.fiscal.parse_key(period_key));
    let money = errors.check(&record, "amount", quota_amount(amount, organisation.reporting_currency));
    let (Some(period), Some(money)) = (period, money) else { return Err(errors.into()) };
    errors.into_result(())?;
    put(tx, ctx, &organisation.fiscal, subject, &period, money)
}

/// Spreads `amount` for the fiscal year `year_key` (`2027`) over its quarters or months by
/// seasonality `weights` (one a period: 4 or 12 non-negative numbers), exact to the minor unit,
/// and sets each period's quota.
pub fn set_seasonal_quotas(
    tx: &mut Tx,
    ctx: &WriteCtx,
    subject: QuotaSubject,
    year_key: &str,
    kind: PeriodKind,
    amount: &str,
    weights: &[Decimal],
) -> Result<Vec<StoredQuota>> {
    let (organisation, record) = quota_writer(tx, ctx)?;
    let mut errors = ValidationErrors::default();
    check_subject(tx, ctx.org, subject, &record, &mut errors)?;
    let year = errors.check(
        &record,
        "year",
        organisation.fiscal.parse_key(year_key).and_then(|period| match period.kind {
            PeriodKind::Year => Ok(period),
            _ => Err(Problem::Invalid { value: year_key.to_owned(), expected: "a fiscal year such as 2027" }),
        }),
    );
    let money = errors.check(&record, "amount", quota_amount(amount, organisation.reporting_currency));
    let periods = year.map(|year| organisation.fiscal.periods_in(kind, &year)).unwrap_or_default();
    let expected = match kind {
        PeriodKind::Quarter => 4,
        PeriodKind::Month => 12,
        _ => 0,
    };
    if expected == 0 {
        errors.push(&record, "kind", Problem::Invalid { value: kind.code().to_owned(), expected: "quarter or month" });
    } else if weights.len() != expected {
        errors.push(
            &record,
            "weights",
            Problem::OutOfRange { value: weights.len().to_string(), range: "one weight a period: 4 quarters or 12 months" },
        );
    }
    let (Some(_), Some(money)) = (year, money) else { return Err(errors.into()) };
    errors.into_result(())?;
    let parts = pipewise_comp::seasonal(money.amount(), weights, money.currency()).map_err(|error| FieldError {
        record: record.clone(),
        field: "weights",
        problem: Problem::Invalid { value: error.to_string(), expected: "non-negative weights, not all zero" },
    })?;
    let mut stored = Vec::with_capacity(periods.len());
    for (period, part) in periods.iter().zip(parts) {
        let part = Money::new(part, money.currency()).map_err(|problem| FieldError { record: record.clone(), field: "amount", problem })?;
        stored.push(put(tx, ctx, &organisation.fiscal, subject, period, part)?);
    }
    Ok(stored)
}

/// Removes `subject`'s quota for `period_key`; `false` when there was none.
pub fn remove_quota(tx: &mut Tx, ctx: &WriteCtx, subject: QuotaSubject, period_key: &str) -> Result<bool> {
    let (organisation, record) = quota_writer(tx, ctx)?;
    let period = organisation.fiscal.parse_key(period_key).map_err(|problem| FieldError { record, field: "period", problem })?;
    let Some(removed) = tx.0.delete_quota(ctx.org, subject, period.kind, period.first)? else { return Ok(false) };
    audit(tx, ctx, QUOTA, subject_id(subject), "delete", Some(quota_json(&removed, &organisation.fiscal)), None)?;
    Ok(true)
}

/// The quotas overlapping `period` that `access` may read, by first day, kind and subject.
pub fn quotas_in(tx: &mut Tx, org: OrgId, access: &Access, period: &FiscalPeriod) -> Result<Vec<StoredQuota>> {
    quotas_between(tx, org, access, period.first, period.last)
}

/// Everyone's quota for exactly the days `first..=last` that `access` may read: a quota set for
/// those days, else the finer ones that tile them (`pipewise_comp::quota_for`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuotaBook {
    pub users: BTreeMap<UserId, Decimal>,
    pub teams: BTreeMap<TeamId, Decimal>,
}

impl QuotaBook {
    /// The sum of the quotas of `users` that have one, and how many have one.
    /// (A sum beyond what a decimal holds stays at the largest one rather than overflowing.)
    pub fn sum_of<'a>(&self, users: impl IntoIterator<Item = &'a UserId>) -> (Decimal, usize) {
        users
            .into_iter()
            .filter_map(|user| self.users.get(user))
            .fold((Decimal::ZERO, 0), |(sum, n), quota| (sum.saturating_add(*quota), n + 1))
    }
}

/// The [`QuotaBook`] of the days `first..=last`.
pub fn quota_book(tx: &mut Tx, org: OrgId, access: &Access, first: Date, last: Date) -> Result<QuotaBook> {
    Ok(book_of(&quotas_between(tx, org, access, first, last)?, first, last))
}

/// The [`QuotaBook`] of the days `first..=last` from `quotas` already read (any that do not
/// bear on those days are ignored).
pub(crate) fn book_of(quotas: &[StoredQuota], first: Date, last: Date) -> QuotaBook {
    let mut spans: BTreeMap<QuotaSubject, Vec<pipewise_comp::QuotaSpan>> = BTreeMap::new();
    for quota in quotas.iter().filter(|quota| quota.last >= first && quota.first <= last) {
        let span = pipewise_comp::QuotaSpan { kind: quota.kind, first: quota.first, last: quota.last, amount: quota.amount.amount() };
        spans.entry(quota.subject).or_default().push(span);
    }
    let mut book = QuotaBook::default();
    for (subject, spans) in spans {
        let Some(amount) = pipewise_comp::quota_for(first, last, &spans) else { continue };
        match subject {
            QuotaSubject::User(user) => book.users.insert(user, amount),
            QuotaSubject::Team(team) => book.teams.insert(team, amount),
        };
    }
    book
}

fn quotas_between(tx: &mut Tx, org: OrgId, access: &Access, first: Date, last: Date) -> Result<Vec<StoredQuota>> {
    let quotas = tx.0.quotas_overlapping(org, first, last)?;
    let Some(owners) = crate::visibility::visible_owners(access) else { return Ok(quotas) };
    // The teams of the people the viewer may see, from one read of the organisation's users.
    let teams: BTreeSet<TeamId> =
        tx.0.users(org)?.into_iter().filter(|user| owners.contains(&user.id)).filter_map(|user| user.team_id).collect();
    Ok(quotas
        .into_iter()
        .filter(|quota| match quota.subject {
            QuotaSubject::User(user) => owners.contains(&user),
            QuotaSubject::Team(team) => teams.contains(&team),
        })
        .collect())
}

/// The quota as the audit log and the API show it.
pub fn quota_json(quota: &StoredQuota, calendar: &FiscalCalendar) -> Value {
    let (subject, id) = match quota.subject {
        QuotaSubject::User(user) => ("user", user.0),
        QuotaSubject::Team(team) => ("team", team.0),
    };
    let period = calendar.period_of(quota.kind, quota.first);
    // A quota set under an earlier calendar keeps its days; its key is then its first day.
    let key = if period.first == quota.first && period.last == quota.last { period.key() } else { quota.first.to_string() };
    json!({
        "subject": subject,
        "id": id,
        "period": key,
        "kind": quota.kind.code(),
        "first_day": quota.first.to_string(),
        "last_day": quota.last.to_string(),
        "amount": quota.amount.amount().to_string(),
        "currency": quota.amount.currency().code(),
    })
}

fn quota_writer(tx: &mut Tx, ctx: &WriteCtx) -> Result<(Organisation, RecordRef)> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins set quotas".into())?;
    let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    Ok((organisation, RecordRef::new_record(QUOTA)))
}

fn check_subject(tx: &mut Tx, org: OrgId, subject: QuotaSubject, record: &RecordRef, errors: &mut ValidationErrors) -> Result<()> {
    match subject {
        QuotaSubject::User(user) => exists(tx.0.user(org, user)?.is_some(), errors, record, "user_id", UserId::LABEL, user.0),
        QuotaSubject::Team(team) => exists(tx.0.team(org, team)?.is_some(), errors, record, "team_id", TeamId::LABEL, team.0),
    }
    Ok(())
}

fn quota_amount(raw: &str, currency: Currency) -> Result<Money, Problem> {
    let money = Money::parse_amount(raw, currency)?;
    if money.is_negative() {
        return Err(Problem::Negative { value: raw.trim().to_owned() });
    }
    Ok(money)
}

fn subject_id(subject: QuotaSubject) -> i64 {
    match subject {
        QuotaSubject::User(user) => user.0,
        QuotaSubject::Team(team) => team.0,
    }
}

fn put(
    tx: &mut Tx,
    ctx: &WriteCtx,
    calendar: &FiscalCalendar,
    subject: QuotaSubject,
    period: &FiscalPeriod,
    amount: Money,
) -> Result<StoredQuota> {
    let quota = StoredQuota {
        subject,
        kind: period.kind,
        first: period.first,
        last: period.last,
        amount,
        updated_at: ctx.at,
        updated_by: ctx.actor_id,
    };
    let replaced = tx.0.put_quota(ctx.org, &quota)?;
    match replaced {
        Some(before) => {
            audit_update(tx, ctx, QUOTA, subject_id(subject), quota_json(&before, calendar), quota_json(&quota, calendar))?;
        }
        None => audit(tx, ctx, QUOTA, subject_id(subject), "create", None, Some(quota_json(&quota, calendar)))?,
    }
    Ok(quota)
}

// ---------------------------------------------------------------------------------------------
// CSV in and out.

/// The columns of a quota file, as [`export_csv`] writes them. [`import_csv`] needs `subject`,
/// `who`, `period` and `amount`, in any order; it reads `currency` when present and ignores the
/// rest, so an exported file edited in a spreadsheet imports as it is.
pub const CSV_COLUMNS: [&str; 8] = ["subject", "who", "name", "period", "first_day", "last_day", "amount", "currency"];
/// The largest quota file read, in bytes, and the most rows.
pub const CSV_MAX_BYTES: usize = 2 * 1024 * 1024;
pub const CSV_MAX_ROWS: usize = 20_000;

/// What a CSV import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvImport {
    pub set: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// The quotas overlapping `period` that `access` may read, as a CSV file of [`CSV_COLUMNS`]: a
/// person is named by email, a team by name.
pub fn export_csv(tx: &mut Tx, org: OrgId, access: &Access, period: &FiscalPeriod) -> Result<String> {
    let organisation = tx.0.organisation(org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let users: BTreeMap<UserId, User> = tx.0.users(org)?.into_iter().map(|user| (user.id, user)).collect();
    let teams: BTreeMap<TeamId, String> = tx.0.teams(org)?.into_iter().map(|team| (team.id, team.name)).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = StoreError::database;
    writer.write_record(CSV_COLUMNS).map_err(failed)?;
    for quota in quotas_in(tx, org, access, period)? {
        let (subject, who, name) = match quota.subject {
            QuotaSubject::User(user) => {
                let user = users.get(&user);
                ("user", user.map(|user| user.email.clone()).unwrap_or_default(), user.map(|user| user.name.clone()).unwrap_or_default())
            }
            QuotaSubject::Team(team) => {
                let name = teams.get(&team).cloned().unwrap_or_default();
                ("team", name.clone(), name)
            }
        };
        // A name opened in a spreadsheet is text, never a formula.
        let guard = |text: String| if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text };
        let (who, name) = (guard(who), guard(name));
        let json = quota_json(&quota, &organisation.fiscal);
        let key = json["period"].as_str().unwrap_or_default().to_owned();
        let (first, last, amount) = (quota.first.to_string(), quota.last.to_string(), quota.amount.amount().to_string());
        writer.write_record([subject, &who, &name, &key, &first, &last, &amount, quota.amount.currency().code()]).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|error| StoreError::database(error.into_error()))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}

/// Sets (or, with an empty amount, removes) the quota of every row of the CSV `text`, all or
/// nothing: every bad row is named by its line and column at once and nothing is written. A
/// person is named by email, a team by name (or either by id). Ops and admins only; each change
/// is audited as [`set_quota`] audits it.
pub fn import_csv(tx: &mut Tx, ctx: &WriteCtx, text: &str) -> Result<CsvImport> {
    let (organisation, _) = quota_writer(tx, ctx)?;
    let file = RecordRef::new_record("quota file");
    if text.len() > CSV_MAX_BYTES {
        let problem = Problem::OutOfRange { value: format!("{} bytes", text.len()), range: "at most 2 MiB" };
        return Err(FieldError { record: file, field: "file", problem }.into());
    }
    let users = tx.0.users(ctx.org)?;
    let teams = tx.0.teams(ctx.org)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|header| header.trim_start_matches('\u{feff}').to_lowercase()).collect(),
        Err(error) => return Err(FieldError { record: file, field: "file", problem: csv_problem(&error) }.into()),
    };
    let column = |name: &str| headers.iter().position(|header| header == name);
    let mut errors = ValidationErrors::default();
    for name in ["subject", "who", "period", "amount"] {
        if column(name).is_none() {
            errors.push(
                &file,
                "header",
                Problem::Invalid { value: name.to_owned(), expected: "a column of the file (subject, who, period, amount)" },
            );
        }
    }
    std::mem::take(&mut errors).into_result(())?;
    let at = |name: &str| column(name).expect("checked above");
    let (subject_at, who_at, period_at, amount_at, currency_at) =
        (at("subject"), at("who"), at("period"), at("amount"), column("currency"));

    let mut rows: Vec<(QuotaSubject, FiscalPeriod, Option<Money>)> = Vec::new();
    let mut seen: BTreeMap<(QuotaSubject, PeriodKind, Date), u64> = BTreeMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 2;
        let record_ref = RecordRef::new("line", line as i64);
        if index >= CSV_MAX_ROWS {
            errors.push(
                &file,
                "file",
                Problem::OutOfRange { value: format!("more than {CSV_MAX_ROWS} rows"), range: "at most 20,000 rows" },
            );
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(&record_ref, "file", csv_problem(&error));
                continue;
            }
        };
        let cell = |at: usize| record.get(at).unwrap_or("");
        let subject = errors.check(&record_ref, "who", find_subject(cell(subject_at), cell(who_at), &users, &teams));
        let period = errors.check(&record_ref, "period", organisation.fiscal.parse_key(cell(period_at)));
        if let Some(code) = currency_at.map(cell).filter(|code| !code.is_empty())
            && code != organisation.reporting_currency.code()
        {
            errors.push(&record_ref, "currency", Problem::Invalid { value: code.to_owned(), expected: "the reporting currency" });
        }
        let amount = match cell(amount_at) {
            "" => Some(None),
            raw => errors.check(&record_ref, "amount", quota_amount(&raw.replace(',', ""), organisation.reporting_currency)).map(Some),
        };
        let (Some(subject), Some(period), Some(amount)) = (subject, period, amount) else { continue };
        if let Some(first) = seen.insert((subject, period.kind, period.first), line) {
            let expected = if first == line { "given once" } else { "given once for a person or team (an earlier line has it)" };
            errors.push(&record_ref, "period", Problem::Invalid { value: period.key(), expected });
            continue;
        }
        rows.push((subject, period, amount));
    }
    errors.into_result(())?;

    let mut outcome = CsvImport::default();
    for (subject, period, amount) in rows {
        match amount {
            Some(amount) => {
                let current =
                    tx.0.quotas_overlapping(ctx.org, period.first, period.last)?
                        .into_iter()
                        .find(|quota| quota.subject == subject && quota.kind == period.kind && quota.first == period.first);
                if current.is_some_and(|current| current.amount == amount && current.last == period.last) {
                    outcome.unchanged += 1;
                } else {
                    put(tx, ctx, &organisation.fiscal, subject, &period, amount)?;
                    outcome.set += 1;
                }
            }
            None => match tx.0.delete_quota(ctx.org, subject, period.kind, period.first)? {
                Some(removed) => {
                    audit(tx, ctx, QUOTA, subject_id(subject), "delete", Some(quota_json(&removed, &organisation.fiscal)), None)?;
                    outcome.removed += 1;
                }
                None => outcome.unchanged += 1,
            },
        }
    }
    Ok(outcome)
}

/// `user` + an email or id, or `team` + a name or id.
fn find_subject(kind: &str, who: &str, users: &[User], teams: &[Team]) -> std::result::Result<QuotaSubject, Problem> {
    let id = who.parse::<i64>().ok();
    match kind.to_lowercase().as_str() {
        "user" => users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(who) || Some(user.id.0) == id)
            .map(|user| QuotaSubject::User(user.id))
            .ok_or_else(|| Problem::Invalid { value: who.to_owned(), expected: "the email or id of a user of the organisation" }),
        "team" => teams
            .iter()
            .find(|team| team.name.eq_ignore_ascii_case(who) || Some(team.id.0) == id)
            .map(|team| QuotaSubject::Team(team.id))
            .ok_or_else(|| Problem::Invalid { value: who.to_owned(), expected: "the name or id of a team of the organisation" }),
        _ => Err(Problem::Invalid { value: kind.to_owned(), expected: "user or team (the subject column)" }),
    }
}

fn csv_problem(error: &csv::Error) -> Problem {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => Problem::Invalid { value: "the file".into(), expected: "UTF-8 text" },
        _ => Problem::Invalid { value: error.to_string(), expected: "a CSV file with a header line" },
    }
}
