//! SQL text both engines run unchanged: the statements that read the same on SQLite and on
//! PostgreSQL, written once, and the column lists of the rows both engines decode by name.
//!
//! Placeholders are PostgreSQL's `$1`, `$2`, …. SQLite reads `$1` as a *named* parameter and
//! numbers named parameters in the order they first appear in the text, so a statement here binds
//! by position on both engines only if its placeholders first appear in ascending order (`$1 … $2
//! … $1 … $3` is fine, `SET x = $3 WHERE id = $1` is not: an `UPDATE` here numbers the values it
//! sets first and its keys after them). SQLite also reads `$1::type` and
//! `$1(…)` as one parameter name. A statement that breaks either rule, or that needs an engine's
//! own syntax (casts, arrays, `FOR UPDATE`, `INSERT OR IGNORE`, `IS DISTINCT FROM`, `INDEXED BY`,
//! date arithmetic, a different `ON CONFLICT`), stays in its engine; the test below checks the
//! placeholder rules for every statement here.
//!
//! Every `INSERT` that creates a row with an id ends in `RETURNING <id>`, which both engines
//! support and read the same way: the new id in the first column.

use crate::{RecordKind, Result};

/// The column lists, as macros so the statements below can be built with `concat!`.
macro_rules! organisation_columns {
    () => {
        "organisation_id, name, reporting_currency, time_zone, fiscal_year_start_month, created_at"
    };
}
macro_rules! user_columns {
    () => {
        "user_id, email, name, role, manager_id, team_id, time_zone, locale, active, created_at"
    };
}
macro_rules! team_columns {
    () => {
        "team_id, name, manager_id"
    };
}
macro_rules! account_columns {
    () => {
        "account_id, name, industry, employee_count, region, owner_id, created_at"
    };
}
macro_rules! contact_columns {
    () => {
        "contact_id, name, phone, title, account_id, created_at"
    };
}
macro_rules! lead_columns {
    () => {
        "lead_id, name, company, email, phone, title, source, industry, employee_count, region, status, owner_id, created_at"
    };
}
macro_rules! task_columns {
    () => {
        "task_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at"
    };
}
macro_rules! pipeline_columns {
    () => {
        "pipeline_id, name, entry_stage_id"
    };
}
macro_rules! history_columns {
    () => {
        "seq, opportunity_id, field, old_value, new_value, at, actor_id, source"
    };
}
macro_rules! share_columns {
    () => {
        "opportunity_id, user_id, shared_by, shared_at"
    };
}
macro_rules! activity_columns {
    () => {
        "activity_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id"
    };
}
macro_rules! session_columns {
    () => {
        "token_hash, organisation_id, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address"
    };
}
macro_rules! api_token_columns {
    () => {
        "api_token_id, organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at"
    };
}
macro_rules! audit_event_columns {
    () => {
        "audit_event_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json"
    };
}
macro_rules! criterion_columns {
    () => {
        "exit_criterion_id, stage_id, label_en, label_ko, kind, argument, origin, origin_opportunity_id, archived_at"
    };
}
macro_rules! criterion_check_columns {
    () => {
        "criterion_check_id, opportunity_id, exit_criterion_id, checked, evidence, at, actor_id, source"
    };
}
macro_rules! gate_override_columns {
    () => {
        "gate_override_id, opportunity_id, actor_id, at, reason, from_stage_id, to_stage_id, unmet_json, source"
    };
}
macro_rules! handoff_columns {
    () => {
        "handoff_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, source, note"
    };
}
macro_rules! workspace_change_columns {
    () => {
        "workspace_history_id, opportunity_id, part, old_json, new_json, at, actor_id, source"
    };
}

// Column lists, for the statements an engine assembles itself (filters, scopes, locks).

pub const USER_COLUMNS: &str = user_columns!();
pub const TASK_COLUMNS: &str = task_columns!();
pub const HISTORY_COLUMNS: &str = history_columns!();
pub const ACTIVITY_COLUMNS: &str = activity_columns!();
pub const AUDIT_EVENT_COLUMNS: &str = audit_event_columns!();

// Migrations.

pub const INSERT_SCHEMA_MIGRATION: &str = "INSERT INTO schema_migration (version, name) VALUES ($1, $2)";

// Savepoints.

/// Runs `work` in savepoint `name` of a transaction whose engine runs statement text with `run`:
/// the savepoint is released when `work` succeeds and rolled back to (and released) when it
/// fails, so a failure leaves nothing of `work` behind in a transaction that goes on.
pub fn in_savepoint<X: ?Sized, T>(
    tx: &mut X,
    name: &str,
    run: impl Fn(&mut X, &str) -> Result<()>,
    work: impl FnOnce(&mut X) -> Result<T>,
) -> Result<T> {
    run(tx, &format!("SAVEPOINT {name}"))?;
    let result = work(tx);
    let end = match result {
        Ok(_) => format!("RELEASE SAVEPOINT {name}"),
        Err(_) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
    };
    run(tx, &end)?;
    result
}

// Organisations, users and teams.

pub const INSERT_ORGANISATION: &str =
    "INSERT INTO organisation (name, reporting_currency, created_at) VALUES ($1, $2, $3) RETURNING organisation_id";
pub const SELECT_ORGANISATION: &str = concat!("SELECT ", organisation_columns!(), " FROM organisation WHERE organisation_id = $1");
pub const UPDATE_ORGANISATION_TIME_ZONE: &str = "UPDATE organisation SET time_zone = $1 WHERE organisation_id = $2";
pub const UPDATE_ORGANISATION_FISCAL_YEAR_START: &str = "UPDATE organisation SET fiscal_year_start_month = $1 WHERE organisation_id = $2";

/// The quota columns; PostgreSQL hands `amount` over as text.
macro_rules! quota_columns {
    ($amount:literal) => {
        concat!("user_id, team_id, period_kind, period_first, period_last, ", $amount, ", currency, updated_at, updated_by")
    };
}
/// The quota of one subject, kind and first day (one of `$4` user and `$5` team is null).
macro_rules! quota_key {
    () => {
        "organisation_id = $1 AND period_kind = $2 AND period_first = $3 AND (user_id = $4 OR team_id = $5)"
    };
}
pub const SELECT_QUOTA_SQLITE: &str = concat!("SELECT ", quota_columns!("amount"), " FROM quota WHERE ", quota_key!());
pub const SELECT_QUOTA_POSTGRES: &str = concat!("SELECT ", quota_columns!("amount::text AS amount"), " FROM quota WHERE ", quota_key!());
pub const DELETE_QUOTA: &str = concat!("DELETE FROM quota WHERE ", quota_key!());
/// Quotas overlapping `$2..=$3`.
macro_rules! quotas_overlapping {
    ($amount:literal) => {
        concat!(
            "SELECT ",
            quota_columns!($amount),
            " FROM quota WHERE organisation_id = $1 AND period_last >= $2 AND period_first <= $3 ",
            "ORDER BY period_first, period_kind, user_id, team_id"
        )
    };
}
pub const SELECT_QUOTAS_OVERLAPPING_SQLITE: &str = quotas_overlapping!("amount");
/// One subject's quotas overlapping `$4..=$5` (one of `$2` user and `$3` team is null).
macro_rules! quotas_of {
    ($amount:literal) => {
        concat!(
            "SELECT ",
            quota_columns!($amount),
            " FROM quota WHERE organisation_id = $1 AND (user_id = $2 OR team_id = $3) AND period_last >= $4 AND period_first <= $5 ",
            "ORDER BY period_first, period_kind"
        )
    };
}
pub const SELECT_QUOTAS_OF_SQLITE: &str = quotas_of!("amount");
pub const SELECT_QUOTAS_OF_POSTGRES: &str = quotas_of!("amount::text AS amount");
pub const SELECT_QUOTAS_OVERLAPPING_POSTGRES: &str = quotas_overlapping!("amount::text AS amount");
/// The forecast call columns.
macro_rules! call_columns {
    () => {
        "forecast_call_id, user_id, period_kind, period_first, period_last, currency, commit_minor, best_case_minor, note, \
         rollup_commit_minor, rollup_best_case_minor, closed_minor, system_commit_minor, system_best_case_minor, pipeline_minor, \
         model_expected_minor, model_p10_minor, model_p90_minor, submitted_at"
    };
}
pub const INSERT_CALL: &str = concat!(
    "INSERT INTO forecast_call (organisation_id, user_id, period_kind, period_first, period_last, currency, commit_minor, ",
    "best_case_minor, note, rollup_commit_minor, rollup_best_case_minor, closed_minor, system_commit_minor, system_best_case_minor, ",
    "pipeline_minor, model_expected_minor, model_p10_minor, model_p90_minor, submitted_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING forecast_call_id"
);
/// A period's calls, everyone's or `$4`'s, oldest first.
pub const SELECT_CALLS: &str = concat!(
    "SELECT ",
    call_columns!(),
    " FROM forecast_call WHERE organisation_id = $1 AND period_kind = $2 AND period_first = $3 ",
    "AND (CAST($4 AS BIGINT) IS NULL OR user_id = $4) ORDER BY submitted_at, forecast_call_id"
);
/// A model forecast; an existing one for the same scope, period and day stays.
pub const INSERT_MODEL_FORECAST: &str = concat!(
    "INSERT INTO model_forecast (organisation_id, scope_kind, scope_id, period_kind, period_first, period_last, as_of, currency, ",
    "basis, expected_minor, p10_minor, p50_minor, p90_minor, won_minor, stage_weighted_minor, recorded_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ",
    "ON CONFLICT (organisation_id, period_kind, period_first, scope_kind, scope_id, as_of) DO NOTHING"
);
/// The record an import made of an external id.
pub const SELECT_IMPORT_KEY: &str =
    "SELECT record_id FROM import_key WHERE organisation_id = $1 AND record_kind = $2 AND system = $3 AND external_id = $4";
/// Records (or replaces) the record an import made of an external id.
pub const PUT_IMPORT_KEY: &str = concat!(
    "INSERT INTO import_key (organisation_id, record_kind, system, external_id, record_id) VALUES ($1, $2, $3, $4, $5) ",
    "ON CONFLICT (organisation_id, record_kind, system, external_id) DO UPDATE SET record_id = excluded.record_id"
);
/// A period's model forecasts, by day and scope.
pub const SELECT_MODEL_FORECASTS: &str = concat!(
    "SELECT model_forecast_id, scope_kind, scope_id, period_kind, period_first, period_last, as_of, currency, basis, ",
    "expected_minor, p10_minor, p50_minor, p90_minor, won_minor, stage_weighted_minor, recorded_at ",
    "FROM model_forecast WHERE organisation_id = $1 AND period_kind = $2 AND period_first = $3 ",
    "ORDER BY as_of, scope_kind, scope_id"
);
/// The plan columns.
macro_rules! plan_columns {
    () => {
        "name, version, definition, created_at, created_by"
    };
}
pub const INSERT_PLAN_VERSION: &str = "INSERT INTO comp_plan (organisation_id, name, version, definition, created_at, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING comp_plan_id";
pub const SELECT_PLAN_VERSIONS: &str =
    concat!("SELECT ", plan_columns!(), " FROM comp_plan WHERE organisation_id = $1 ORDER BY name, version");
macro_rules! assignment_columns {
    () => {
        "user_id, plan_name, first_day, last_day"
    };
}
pub const SELECT_ASSIGNMENT: &str =
    concat!("SELECT ", assignment_columns!(), " FROM comp_assignment WHERE organisation_id = $1 AND user_id = $2 AND first_day = $3");
pub const DELETE_ASSIGNMENT: &str = "DELETE FROM comp_assignment WHERE organisation_id = $1 AND user_id = $2 AND first_day = $3";
pub const INSERT_ASSIGNMENT: &str =
    "INSERT INTO comp_assignment (organisation_id, user_id, first_day, plan_name, last_day) VALUES ($1, $2, $3, $4, $5)";
pub const SELECT_ASSIGNMENTS: &str =
    concat!("SELECT ", assignment_columns!(), " FROM comp_assignment WHERE organisation_id = $1 ORDER BY user_id, first_day");
/// The statement columns; PostgreSQL hands `total` over as text.
macro_rules! statement_columns {
    ($total:literal) => {
        concat!(
            "pay_statement_id, user_id, period_kind, period_first, period_last, plan_name, plan_version, ",
            $total,
            ", currency, document, status, computed_at, locked_at, locked_by"
        )
    };
}
pub const SELECT_STATEMENT_SQLITE: &str =
    concat!("SELECT ", statement_columns!("total"), " FROM pay_statement WHERE organisation_id = $1 AND pay_statement_id = $2");
pub const SELECT_STATEMENT_POSTGRES: &str = concat!(
    "SELECT ",
    statement_columns!("total::text AS total"),
    " FROM pay_statement WHERE organisation_id = $1 AND pay_statement_id = $2"
);
macro_rules! statement_of {
    () => {
        " FROM pay_statement WHERE organisation_id = $1 AND user_id = $2 AND period_kind = $3 AND period_first = $4"
    };
}
pub const SELECT_STATEMENT_OF_SQLITE: &str = concat!("SELECT ", statement_columns!("total"), statement_of!());
pub const SELECT_STATEMENT_OF_POSTGRES: &str = concat!("SELECT ", statement_columns!("total::text AS total"), statement_of!());
/// Creates the statement of `$2` for `$3` starting `$4`, or replaces it keeping its id (disputes
/// point at it) unless it is locked: then no row comes back, and the write fails rather than
/// unlock it (the application never asks, having read it under the organisation's lock); PostgreSQL casts `$8`, the total, from text (so its statement is left out of the
/// SQLite placeholder checks below, like the engines' own inserts of amounts).
macro_rules! put_statement {
    ($total:literal) => {
        concat!(
            "INSERT INTO pay_statement (organisation_id, user_id, period_kind, period_first, period_last, plan_name, plan_version, ",
            "total, currency, document, status, computed_at, locked_at, locked_by) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, ",
            $total,
            ", $9, $10, $11, $12, $13, $14) ",
            "ON CONFLICT (organisation_id, user_id, period_kind, period_first) DO UPDATE SET period_last = excluded.period_last, ",
            "plan_name = excluded.plan_name, plan_version = excluded.plan_version, total = excluded.total, currency = excluded.currency, ",
            "document = excluded.document, status = excluded.status, computed_at = excluded.computed_at, ",
            "locked_at = excluded.locked_at, locked_by = excluded.locked_by WHERE pay_statement.status <> 'locked' ",
            "RETURNING pay_statement_id"
        )
    };
}
pub const PUT_STATEMENT_SQLITE: &str = put_statement!("$8");
pub const PUT_STATEMENT_POSTGRES: &str = put_statement!("$8::text::numeric");
/// `$2`: a person, or null for everyone.
macro_rules! statements_of {
    () => {
        " FROM pay_statement WHERE organisation_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR user_id = $2) ORDER BY period_first, user_id, period_kind"
    };
}
pub const SELECT_STATEMENTS_SQLITE: &str = concat!("SELECT ", statement_columns!("total"), statements_of!());
pub const SELECT_STATEMENTS_POSTGRES: &str = concat!("SELECT ", statement_columns!("total::text AS total"), statements_of!());
macro_rules! dispute_columns {
    () => {
        "pay_dispute_id, pay_statement_id, line_index, line_label, status, note, resolution, opened_by, opened_at, updated_at, updated_by"
    };
}
pub const UPDATE_DISPUTE: &str = "UPDATE pay_dispute SET status = $1, resolution = $2, updated_at = $3, updated_by = $4 WHERE organisation_id = $5 AND pay_dispute_id = $6";
pub const SELECT_DISPUTE: &str =
    concat!("SELECT ", dispute_columns!(), " FROM pay_dispute WHERE organisation_id = $1 AND pay_dispute_id = $2");
/// `$2`: a statement, or null for every one.
pub const SELECT_DISPUTES: &str = concat!(
    "SELECT ",
    dispute_columns!(),
    " FROM pay_dispute WHERE organisation_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR pay_statement_id = $2) ORDER BY pay_dispute_id"
);
pub const DELETE_STAGE_SETTINGS: &str = "DELETE FROM stage_settings WHERE organisation_id = $1 AND stage_id = $2 AND from_day = $3";
pub const DELETE_MEMBERSHIP: &str = "DELETE FROM team_membership WHERE organisation_id = $1 AND user_id = $2 AND from_day = $3";
pub const INSERT_MEMBERSHIP: &str = "INSERT INTO team_membership (organisation_id, user_id, from_day, team_id) VALUES ($1, $2, $3, $4)";
pub const SELECT_MEMBERSHIPS: &str =
    "SELECT user_id, from_day, team_id FROM team_membership WHERE organisation_id = $1 ORDER BY user_id, from_day";
pub const DELETE_BILLING: &str = "DELETE FROM deal_billing WHERE organisation_id = $1 AND opportunity_id = $2";
pub const INSERT_BILLING: &str = "INSERT INTO deal_billing (organisation_id, opportunity_id, invoiced_on, paid_on) VALUES ($1, $2, $3, $4)";
/// `$2`: a deal, or null for every one.
pub const SELECT_BILLING: &str = concat!(
    "SELECT opportunity_id, invoiced_on, paid_on FROM deal_billing ",
    "WHERE organisation_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR opportunity_id = $2) ORDER BY opportunity_id"
);
pub const DELETE_SPLITS: &str = "DELETE FROM deal_split WHERE organisation_id = $1 AND opportunity_id = $2";
/// `$2`: a deal, or null for every one. PostgreSQL hands `share` over as text.
macro_rules! splits {
    ($share:literal) => {
        concat!(
            "SELECT opportunity_id, user_id, kind, ",
            $share,
            " FROM deal_split WHERE organisation_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR opportunity_id = $2) ",
            "ORDER BY opportunity_id, kind DESC, deal_split_id"
        )
    };
}
pub const SELECT_SPLITS_SQLITE: &str = splits!("share");
pub const SELECT_SPLITS_POSTGRES: &str = splits!("share::text AS share");
/// Every organisation: the one statement not keyed by an organisation, as it lists them.
pub const SELECT_ORGANISATIONS: &str = concat!("SELECT ", organisation_columns!(), " FROM organisation ORDER BY organisation_id");
pub const SELECT_USER: &str = concat!("SELECT ", user_columns!(), " FROM app_user WHERE organisation_id = $1 AND user_id = $2");
/// `$2` is lower-cased: addresses are stored lower-cased, so a lookup ignores case.
pub const SELECT_USER_BY_EMAIL: &str = concat!("SELECT ", user_columns!(), " FROM app_user WHERE organisation_id = $1 AND email = $2");
pub const SELECT_USERS: &str = concat!("SELECT ", user_columns!(), " FROM app_user WHERE organisation_id = $1 ORDER BY user_id");
/// Returns no row when the e-mail address is taken in the organisation: a conflict that leaves the
/// transaction usable (on PostgreSQL, a unique violation would abort it).
pub const INSERT_USER: &str = "INSERT INTO app_user (organisation_id, email, name, role, manager_id, team_id, time_zone, locale, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (organisation_id, email) DO NOTHING RETURNING user_id";
pub const INSERT_TEAM: &str = "INSERT INTO team (organisation_id, name, manager_id) VALUES ($1, $2, $3) RETURNING team_id";
pub const SELECT_TEAM: &str = concat!("SELECT ", team_columns!(), " FROM team WHERE organisation_id = $1 AND team_id = $2");
pub const SELECT_TEAMS: &str = concat!("SELECT ", team_columns!(), " FROM team WHERE organisation_id = $1 ORDER BY team_id");
pub const SET_USER_MANAGER: &str = "UPDATE app_user SET manager_id = $1 WHERE organisation_id = $2 AND user_id = $3";
pub const UPDATE_USER: &str = "UPDATE app_user SET email = $1, name = $2, role = $3, manager_id = $4, team_id = $5, time_zone = $6, \
     locale = $7, active = $8 WHERE organisation_id = $9 AND user_id = $10";
pub const UPDATE_TEAM: &str = "UPDATE team SET name = $1, manager_id = $2 WHERE organisation_id = $3 AND team_id = $4";

// Accounts, contacts, leads and tasks.

pub const INSERT_ACCOUNT: &str = "INSERT INTO account (organisation_id, name, industry, employee_count, region, owner_id, created_at, name_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING account_id";
pub const SELECT_ACCOUNT: &str = concat!("SELECT ", account_columns!(), " FROM account WHERE organisation_id = $1 AND account_id = $2");
pub const SELECT_ACCOUNTS: &str = concat!("SELECT ", account_columns!(), " FROM account WHERE organisation_id = $1 ORDER BY account_id");
/// The domains of every account of the organisation, by account and position.
pub const SELECT_ACCOUNT_DOMAINS: &str =
    "SELECT account_id, domain FROM account_domain WHERE organisation_id = $1 ORDER BY account_id, position";
/// The domains of account `$2`, by position.
pub const SELECT_DOMAINS_OF_ACCOUNT: &str =
    "SELECT account_id, domain FROM account_domain WHERE organisation_id = $1 AND account_id = $2 ORDER BY position";
pub const UPDATE_ACCOUNT: &str = "UPDATE account SET name = $1, industry = $2, employee_count = $3, region = $4, owner_id = $5, \
     name_key = $6 WHERE organisation_id = $7 AND account_id = $8";
pub const DELETE_ACCOUNT_DOMAINS: &str = "DELETE FROM account_domain WHERE organisation_id = $1 AND account_id = $2";
pub const INSERT_CONTACT: &str = "INSERT INTO contact (organisation_id, name, phone, title, account_id, created_at, name_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING contact_id";
pub const SELECT_CONTACT: &str = concat!("SELECT ", contact_columns!(), " FROM contact WHERE organisation_id = $1 AND contact_id = $2");
pub const SELECT_CONTACTS: &str = concat!("SELECT ", contact_columns!(), " FROM contact WHERE organisation_id = $1 ORDER BY contact_id");
/// An account row's columns, for statements an engine writes its own way.
pub const ACCOUNT_COLUMNS: &str = account_columns!();
/// The rows whose name key (see [`crate::name_key`]) is not written yet (those of a database
/// made before keys were kept), each table's: the statement reading their ids and names, and the
/// one writing a key (`$1`) to a row (`$2`). Run after the migrations, until none is left.
pub const UNKEYED_NAMES: [(&str, &str); 2] = [
    ("SELECT account_id, name FROM account WHERE name_key IS NULL", "UPDATE account SET name_key = $1 WHERE account_id = $2"),
    ("SELECT contact_id, name FROM contact WHERE name_key IS NULL", "UPDATE contact SET name_key = $1 WHERE contact_id = $2"),
];
/// The distinct industries of the organisation's accounts (`value`).
pub const SELECT_ACCOUNT_INDUSTRIES: &str =
    "SELECT DISTINCT industry AS value FROM account WHERE organisation_id = $1 AND industry IS NOT NULL";
/// The distinct regions of the organisation's accounts (`value`).
pub const SELECT_ACCOUNT_REGIONS: &str = "SELECT DISTINCT region AS value FROM account WHERE organisation_id = $1 AND region IS NOT NULL";
/// A contact row's columns, for statements an engine writes its own way.
pub const CONTACT_COLUMNS: &str = contact_columns!();
/// The contacts of account `$2`.
pub const SELECT_CONTACTS_OF_ACCOUNT: &str =
    concat!("SELECT ", contact_columns!(), " FROM contact WHERE organisation_id = $1 AND account_id = $2 ORDER BY contact_id");
/// The e-mail addresses of the contacts of account `$2`, by contact and position.
pub const SELECT_EMAILS_OF_ACCOUNT_CONTACTS: &str = "SELECT e.contact_id, e.email FROM contact_email e \
     JOIN contact c ON c.contact_id = e.contact_id WHERE c.organisation_id = $1 AND c.account_id = $2 ORDER BY e.contact_id, e.position";
/// The e-mail addresses of every contact of the organisation, by contact and position.
pub const SELECT_CONTACT_EMAILS: &str =
    "SELECT contact_id, email FROM contact_email WHERE organisation_id = $1 ORDER BY contact_id, position";
pub const UPDATE_CONTACT: &str = "UPDATE contact SET name = $1, phone = $2, title = $3, account_id = $4, name_key = $5 \
     WHERE organisation_id = $6 AND contact_id = $7";
pub const DELETE_CONTACT_EMAILS: &str = "DELETE FROM contact_email WHERE organisation_id = $1 AND contact_id = $2";
pub const INSERT_LEAD: &str = "INSERT INTO lead (organisation_id, name, company, email, phone, title, source, status, owner_id, created_at, \
     industry, employee_count, region) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING lead_id";
pub const SELECT_LEAD: &str = concat!("SELECT ", lead_columns!(), " FROM lead WHERE organisation_id = $1 AND lead_id = $2");
pub const SELECT_LEADS: &str = concat!("SELECT ", lead_columns!(), " FROM lead WHERE organisation_id = $1 ORDER BY lead_id");
pub const UPDATE_LEAD: &str = "UPDATE lead SET name = $1, company = $2, email = $3, phone = $4, title = $5, source = $6, status = $7, \
     owner_id = $8, industry = $9, employee_count = $10, region = $11 WHERE organisation_id = $12 AND lead_id = $13";
pub const INSERT_TASK: &str = "INSERT INTO task (organisation_id, title, owner_id, due_on, completed_at, account_id, opportunity_id, lead_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING task_id";
pub const SELECT_TASK: &str = concat!("SELECT ", task_columns!(), " FROM task WHERE organisation_id = $1 AND task_id = $2");
pub const UPDATE_TASK: &str =
    "UPDATE task SET title = $1, owner_id = $2, due_on = $3, completed_at = $4 WHERE organisation_id = $5 AND task_id = $6";

/// How many rows of `kind` the organisation has, as `n`.
pub fn select_count(kind: RecordKind) -> String {
    format!("SELECT count(*) AS n FROM {} WHERE organisation_id = $1", kind.table())
}

// Pipelines and stages.

pub const INSERT_PIPELINE: &str = "INSERT INTO pipeline (organisation_id, name) VALUES ($1, $2) RETURNING pipeline_id";
pub const SELECT_PIPELINE: &str = concat!("SELECT ", pipeline_columns!(), " FROM pipeline WHERE organisation_id = $1 AND pipeline_id = $2");
pub const SELECT_PIPELINES: &str =
    concat!("SELECT ", pipeline_columns!(), " FROM pipeline WHERE organisation_id = $1 ORDER BY pipeline_id");
/// Positions are unique per pipeline: a reorder first parks every stage of pipeline `$2` on a
/// negative position.
pub const PARK_STAGES: &str = "UPDATE stage SET position = -1 - position WHERE organisation_id = $1 AND pipeline_id = $2";
pub const SET_STAGE_POSITION: &str = "UPDATE stage SET position = $1 WHERE organisation_id = $2 AND pipeline_id = $3 AND stage_id = $4";
/// A new pipeline's entry stage, once its stages are written.
pub const SET_ENTRY_STAGE: &str = "UPDATE pipeline SET entry_stage_id = $1 WHERE organisation_id = $2 AND pipeline_id = $3";
pub const UPDATE_PIPELINE: &str = "UPDATE pipeline SET name = $1, entry_stage_id = $2 WHERE organisation_id = $3 AND pipeline_id = $4";

// Opportunity history, shares and gate marks.

/// The history after sequence number `$2`, at most `$3` events.
pub const SELECT_HISTORY_SINCE: &str =
    concat!("SELECT ", history_columns!(), " FROM opportunity_history WHERE organisation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
/// The history up to and including time `$2`.
pub const SELECT_HISTORY_UNTIL: &str =
    concat!("SELECT ", history_columns!(), " FROM opportunity_history WHERE organisation_id = $1 AND at <= $2 ORDER BY seq");
pub const SELECT_IS_SHARED: &str = "SELECT EXISTS (SELECT 1 FROM opportunity_share WHERE organisation_id = $1 AND opportunity_id = $2 \
     AND user_id = $3) AS shared";
pub const SELECT_SHARES: &str =
    concat!("SELECT ", share_columns!(), " FROM opportunity_share WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY user_id");
/// Every share with user `$2`, in deal id order.
pub const SELECT_SHARES_WITH: &str =
    concat!("SELECT ", share_columns!(), " FROM opportunity_share WHERE organisation_id = $1 AND user_id = $2 ORDER BY opportunity_id");
pub const DELETE_SHARE: &str = "DELETE FROM opportunity_share WHERE organisation_id = $1 AND opportunity_id = $2 AND user_id = $3";
/// Takes the next `$1` history sequence numbers of organisation `$2` and returns the last of them
/// (`history_seq`).
pub const RESERVE_HISTORY_SEQ: &str =
    "UPDATE organisation SET history_seq = history_seq + $1 WHERE organisation_id = $2 RETURNING history_seq";
pub const SELECT_MARKS: &str = "SELECT sql_at, dropped_at, drop_reason FROM opportunity WHERE organisation_id = $1 AND opportunity_id = $2";
pub const SET_MARKS: &str =
    "UPDATE opportunity SET sql_at = $1, dropped_at = $2, drop_reason = $3 WHERE organisation_id = $4 AND opportunity_id = $5";

// Activities.

pub const INSERT_ACTIVITY: &str = "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, \
     user_id, account_id, opportunity_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING activity_id";
pub const SELECT_ACTIVITY: &str = concat!("SELECT ", activity_columns!(), " FROM activity WHERE organisation_id = $1 AND activity_id = $2");
/// A deal's activities, latest first.
pub const SELECT_ACTIVITIES_OF_OPPORTUNITY: &str = concat!(
    "SELECT ",
    activity_columns!(),
    " FROM activity WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY occurred_at DESC, activity_id DESC"
);
/// The time of each deal's latest activity (`last_at`), for deals that have one, in opportunity order.
pub const SELECT_LAST_ACTIVITY_AT: &str = "SELECT opportunity_id, max(occurred_at) AS last_at FROM activity \
     WHERE organisation_id = $1 AND opportunity_id IS NOT NULL GROUP BY opportunity_id ORDER BY opportunity_id";
/// The highest activity id of the whole database (`top` is NULL when there is none).
pub const SELECT_MAX_ACTIVITY_ID: &str = "SELECT max(activity_id) AS top FROM activity";

// Sign-in: password hashes, sessions, API tokens and sign-in attempts.

pub const SELECT_PASSWORD_HASH: &str = "SELECT user_id, password_hash FROM app_user WHERE organisation_id = $1 AND user_id = $2";
pub const SET_PASSWORD_HASH: &str = "UPDATE app_user SET password_hash = $1 WHERE organisation_id = $2 AND user_id = $3";
/// The users with e-mail address `$1` (lower-cased) in every organisation, with their organisation.
pub const SELECT_USERS_BY_EMAIL_EVERYWHERE: &str =
    concat!("SELECT ", user_columns!(), ", organisation_id FROM app_user WHERE email = $1 ORDER BY organisation_id, user_id");
pub const INSERT_SESSION: &str = concat!("INSERT INTO session (", session_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
pub const SELECT_SESSION: &str = concat!("SELECT ", session_columns!(), " FROM session WHERE token_hash = $1");
pub const TOUCH_SESSION: &str = "UPDATE session SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3";
pub const DELETE_SESSION: &str = "DELETE FROM session WHERE token_hash = $1";
pub const INSERT_API_TOKEN: &str = "INSERT INTO api_token (organisation_id, user_id, name, token_hash, prefix, created_at, last_used_at, \
     revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING api_token_id";
pub const SELECT_API_TOKEN: &str = concat!("SELECT ", api_token_columns!(), " FROM api_token WHERE token_hash = $1");
pub const SELECT_API_TOKENS: &str =
    concat!("SELECT ", api_token_columns!(), " FROM api_token WHERE organisation_id = $1 AND user_id = $2 ORDER BY api_token_id");
pub const TOUCH_API_TOKEN: &str = "UPDATE api_token SET last_used_at = $1 WHERE api_token_id = $2";
/// Revokes token `$4` of user `$3` if it is still live.
pub const REVOKE_API_TOKEN: &str = "UPDATE api_token SET revoked_at = $1 \
     WHERE organisation_id = $2 AND user_id = $3 AND api_token_id = $4 AND revoked_at IS NULL";
pub const SELECT_FAILURES_FROM: &str = "SELECT count(*) AS n, max(at) AS last_at FROM login_attempt \
     WHERE email = $1 AND client_address = $2 AND at >= $3 AND NOT succeeded";

pub const INSERT_LOGIN_ATTEMPT: &str = "INSERT INTO login_attempt (email, client_address, at, succeeded) VALUES ($1, $2, $3, $4)";

// The audit log.

pub const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_event (organisation_id, at, actor_id, source, record_kind, record_id, action, \
     before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

// Exit criteria, checks, gate overrides, handoffs and team cycle days.

pub const INSERT_EXIT_CRITERION: &str = "INSERT INTO exit_criterion (organisation_id, stage_id, label_en, label_ko, kind, argument, \
     origin, origin_opportunity_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING exit_criterion_id";
pub const SELECT_EXIT_CRITERION: &str =
    concat!("SELECT ", criterion_columns!(), " FROM exit_criterion WHERE organisation_id = $1 AND exit_criterion_id = $2");
/// The criteria in force (not archived) on the stages of pipeline `$2`.
pub const SELECT_EXIT_CRITERIA: &str = concat!(
    "SELECT ",
    criterion_columns!(),
    " FROM exit_criterion WHERE organisation_id = $1 AND archived_at IS NULL \
     AND stage_id IN (SELECT stage_id FROM stage WHERE organisation_id = $1 AND pipeline_id = $2) ORDER BY exit_criterion_id"
);
pub const ARCHIVE_EXIT_CRITERION: &str = "UPDATE exit_criterion SET archived_at = $1 WHERE organisation_id = $2 AND exit_criterion_id = $3";
pub const INSERT_CRITERION_CHECK: &str = "INSERT INTO criterion_check (organisation_id, opportunity_id, exit_criterion_id, checked, \
     evidence, at, actor_id, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING criterion_check_id";
pub const SELECT_CRITERION_CHECKS: &str = concat!(
    "SELECT ",
    criterion_check_columns!(),
    " FROM criterion_check WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY criterion_check_id"
);
pub const INSERT_GATE_OVERRIDE: &str = "INSERT INTO gate_override (organisation_id, opportunity_id, actor_id, at, reason, from_stage_id, \
     to_stage_id, unmet_json, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING gate_override_id";
pub const SELECT_GATE_OVERRIDES: &str = concat!(
    "SELECT ",
    gate_override_columns!(),
    " FROM gate_override WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY gate_override_id"
);
pub const INSERT_HANDOFF: &str = "INSERT INTO handoff (organisation_id, opportunity_id, from_user_id, to_user_id, actor_id, stage_id, at, \
     source, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING handoff_id";
pub const SELECT_HANDOFFS_OF_OPPORTUNITY: &str =
    concat!("SELECT ", handoff_columns!(), " FROM handoff WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY handoff_id");
pub const SELECT_HANDOFFS: &str = concat!("SELECT ", handoff_columns!(), " FROM handoff WHERE organisation_id = $1 ORDER BY handoff_id");
pub const SELECT_TEAM_CYCLE_DAYS: &str = "SELECT average_cycle_days FROM team WHERE organisation_id = $1 AND team_id = $2";
pub const SET_TEAM_CYCLE_DAYS: &str = "UPDATE team SET average_cycle_days = $1 WHERE organisation_id = $2 AND team_id = $3";

// Deal workspaces.

pub const SELECT_WORKSPACE_DOCUMENT: &str = "SELECT document FROM deal_workspace WHERE organisation_id = $1 AND opportunity_id = $2";
pub const SELECT_WORKSPACE_DOCUMENTS: &str =
    "SELECT opportunity_id, document FROM deal_workspace WHERE organisation_id = $1 ORDER BY opportunity_id";
/// Writes deal `$1`'s document; `$2` is the organisation, and a deal of another organisation is
/// left alone.
pub const PUT_WORKSPACE_DOCUMENT: &str = "INSERT INTO deal_workspace (opportunity_id, organisation_id, document, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (opportunity_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at \
     WHERE deal_workspace.organisation_id = excluded.organisation_id";
pub const INSERT_WORKSPACE_CHANGE: &str = "INSERT INTO workspace_history (organisation_id, opportunity_id, part, old_json, new_json, at, \
     actor_id, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING workspace_history_id";
pub const SELECT_WORKSPACE_CHANGES: &str = concat!(
    "SELECT ",
    workspace_change_columns!(),
    " FROM workspace_history WHERE organisation_id = $1 AND opportunity_id = $2 ORDER BY workspace_history_id"
);

// Exchange rates and health settings.

/// A base the organisation's rates are quoted against other than `$2`, if any.
pub const SELECT_OTHER_RATE_BASE: &str = "SELECT base FROM exchange_rate WHERE organisation_id = $1 AND base <> $2 LIMIT 1";
pub const SELECT_HEALTH_SETTINGS: &str = "SELECT thresholds, updated_at, updated_by FROM health_settings WHERE organisation_id = $1";
pub const PUT_HEALTH_SETTINGS: &str = "INSERT INTO health_settings (organisation_id, thresholds, updated_at, updated_by) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (organisation_id) DO UPDATE \
     SET thresholds = excluded.thresholds, updated_at = excluded.updated_at, updated_by = excluded.updated_by";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement above.
    const STATEMENTS: &[&str] = &[
        INSERT_SCHEMA_MIGRATION,
        INSERT_ORGANISATION,
        SELECT_ORGANISATION,
        SELECT_ORGANISATIONS,
        SELECT_USER,
        SELECT_USER_BY_EMAIL,
        SELECT_USERS,
        INSERT_USER,
        INSERT_TEAM,
        SELECT_TEAM,
        SELECT_TEAMS,
        SET_USER_MANAGER,
        UPDATE_USER,
        UPDATE_TEAM,
        INSERT_ACCOUNT,
        SELECT_ACCOUNT,
        SELECT_ACCOUNTS,
        SELECT_ACCOUNT_DOMAINS,
        SELECT_DOMAINS_OF_ACCOUNT,
        UPDATE_ACCOUNT,
        DELETE_ACCOUNT_DOMAINS,
        INSERT_CONTACT,
        SELECT_ACCOUNT_INDUSTRIES,
        SELECT_ACCOUNT_REGIONS,
        SELECT_CONTACT,
        SELECT_CONTACTS,
        SELECT_CONTACT_EMAILS,
        SELECT_CONTACTS_OF_ACCOUNT,
        SELECT_EMAILS_OF_ACCOUNT_CONTACTS,
        UPDATE_CONTACT,
        DELETE_CONTACT_EMAILS,
        INSERT_LEAD,
        SELECT_LEAD,
        SELECT_LEADS,
        UPDATE_LEAD,
        INSERT_TASK,
        SELECT_TASK,
        UPDATE_TASK,
        INSERT_PIPELINE,
        SELECT_PIPELINE,
        SELECT_PIPELINES,
        PARK_STAGES,
        SET_STAGE_POSITION,
        SET_ENTRY_STAGE,
        UPDATE_PIPELINE,
        SELECT_HISTORY_SINCE,
        SELECT_HISTORY_UNTIL,
        SELECT_IS_SHARED,
        SELECT_SHARES,
        SELECT_SHARES_WITH,
        DELETE_SHARE,
        RESERVE_HISTORY_SEQ,
        SELECT_MARKS,
        SET_MARKS,
        INSERT_ACTIVITY,
        SELECT_ACTIVITY,
        SELECT_ACTIVITIES_OF_OPPORTUNITY,
        SELECT_LAST_ACTIVITY_AT,
        SELECT_MAX_ACTIVITY_ID,
        SELECT_PASSWORD_HASH,
        SET_PASSWORD_HASH,
        SELECT_USERS_BY_EMAIL_EVERYWHERE,
        INSERT_SESSION,
        SELECT_SESSION,
        TOUCH_SESSION,
        DELETE_SESSION,
        INSERT_API_TOKEN,
        SELECT_API_TOKEN,
        SELECT_API_TOKENS,
        TOUCH_API_TOKEN,
        REVOKE_API_TOKEN,
        INSERT_LOGIN_ATTEMPT,
        SELECT_FAILURES_FROM,
        UPDATE_ORGANISATION_FISCAL_YEAR_START,
        SELECT_QUOTA_SQLITE,
        SELECT_QUOTA_POSTGRES,
        DELETE_QUOTA,
        SELECT_QUOTAS_OVERLAPPING_SQLITE,
        SELECT_QUOTAS_OVERLAPPING_POSTGRES,
        SELECT_QUOTAS_OF_SQLITE,
        SELECT_QUOTAS_OF_POSTGRES,
        INSERT_PLAN_VERSION,
        SELECT_PLAN_VERSIONS,
        SELECT_ASSIGNMENT,
        DELETE_ASSIGNMENT,
        INSERT_ASSIGNMENT,
        SELECT_ASSIGNMENTS,
        SELECT_STATEMENT_SQLITE,
        SELECT_STATEMENT_POSTGRES,
        SELECT_STATEMENT_OF_SQLITE,
        SELECT_STATEMENT_OF_POSTGRES,
        PUT_STATEMENT_SQLITE,
        SELECT_STATEMENTS_SQLITE,
        SELECT_STATEMENTS_POSTGRES,
        INSERT_CALL,
        SELECT_CALLS,
        INSERT_MODEL_FORECAST,
        SELECT_MODEL_FORECASTS,
        SELECT_IMPORT_KEY,
        PUT_IMPORT_KEY,
        UPDATE_DISPUTE,
        SELECT_DISPUTE,
        SELECT_DISPUTES,
        DELETE_SPLITS,
        SELECT_SPLITS_SQLITE,
        SELECT_SPLITS_POSTGRES,
        INSERT_AUDIT_EVENT,
        INSERT_EXIT_CRITERION,
        SELECT_EXIT_CRITERION,
        SELECT_EXIT_CRITERIA,
        ARCHIVE_EXIT_CRITERION,
        INSERT_CRITERION_CHECK,
        SELECT_CRITERION_CHECKS,
        INSERT_GATE_OVERRIDE,
        SELECT_GATE_OVERRIDES,
        INSERT_HANDOFF,
        SELECT_HANDOFFS_OF_OPPORTUNITY,
        SELECT_HANDOFFS,
        SELECT_TEAM_CYCLE_DAYS,
        SET_TEAM_CYCLE_DAYS,
        SELECT_WORKSPACE_DOCUMENT,
        SELECT_WORKSPACE_DOCUMENTS,
        PUT_WORKSPACE_DOCUMENT,
        INSERT_WORKSPACE_CHANGE,
        SELECT_WORKSPACE_CHANGES,
        SELECT_OTHER_RATE_BASE,
        SELECT_HEALTH_SETTINGS,
        PUT_HEALTH_SETTINGS,
    ];

    /// Every statement above, and a count (the counts differ only in their table).
    fn statements() -> Vec<String> {
        STATEMENTS.iter().map(|sql| (*sql).to_owned()).chain([select_count(RecordKind::Task)]).collect()
    }

    /// The placeholders of `sql` in the order they appear, with the character after each.
    fn placeholders(sql: &str) -> Vec<(usize, Option<char>)> {
        let mut found = Vec::new();
        let mut rest = sql;
        while let Some(start) = rest.find('$') {
            let after = &rest[start + 1..];
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            assert!(digits > 0, "a bare $ in {sql:?}");
            found.push((after[..digits].parse().unwrap(), after[digits..].chars().next()));
            rest = &after[digits..];
        }
        found
    }

    #[test]
    fn placeholders_first_appear_in_ascending_order() {
        for sql in &statements() {
            let mut highest = 0;
            for (number, _) in placeholders(sql) {
                assert!(number <= highest + 1, "${number} appears before ${} in {sql:?}", highest + 1);
                highest = highest.max(number);
            }
        }
    }

    #[test]
    fn no_placeholder_runs_into_a_cast_or_a_name() {
        for sql in &statements() {
            for (number, next) in placeholders(sql) {
                let joins = next.is_some_and(|c| c == ':' || c == '(' || c == '_' || c.is_alphanumeric());
                assert!(!joins, "${number} in {sql:?} would be part of a longer SQLite parameter name");
            }
        }
    }
}
