//! Turning JSON input into domain values, reporting every problem with the record and the
//! field: `opportunity 42: close_date: "2025-13-01" is not a date`. Shared by the API and the
//! CLI's `apply`. Unknown fields are refused, so a typo is never silently ignored.

use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::opportunity::{NewOpportunity, OpportunityPatch};
use pipewise_core::pipeline::ForecastCategory;
use pipewise_core::records::*;
use pipewise_core::time::parse_date;
use pipewise_core::*;
use serde_json::{Map, Value};

/// Reads fields from one JSON object, collecting problems instead of stopping at the first.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    record: RecordRef,
    errors: ValidationErrors,
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, record: RecordRef, allowed: &[&str]) -> Result<Fields<'a>, ValidationErrors> {
        let Some(object) = value.as_object() else {
            let problem = Problem::Invalid { value: value.to_string(), expected: "a JSON object" };
            return Err(FieldError { record, field: "(body)", problem }.into());
        };
        let mut fields = Fields { object, record, errors: ValidationErrors::default() };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                let problem = Problem::Fact(Message::new("rule.unknown_field").text("field", format!("{key:?}")));
                fields.errors.push(&fields.record, "(body)", problem);
            }
        }
        Ok(fields)
    }

    /// `None`: absent. `Some(None)`: explicitly null. `Some(Some(v))`: a value.
    fn get(&self, field: &str) -> Option<Option<&'a Value>> {
        self.object.get(field).map(|value| if value.is_null() { None } else { Some(value) })
    }

    fn parse<T>(&mut self, field: &'static str, expected: &'static str, parse: impl Fn(&Value) -> Result<T, Problem>) -> Option<Option<T>> {
        match self.get(field)? {
            None => Some(None),
            Some(value) => match parse(value) {
                Ok(parsed) => Some(Some(parsed)),
                Err(problem) => {
                    let problem = match problem {
                        Problem::Invalid { expected: "", .. } => {
                            Problem::Invalid { value: value.as_str().map_or_else(|| value.to_string(), str::to_owned), expected }
                        }
                        other => other,
                    };
                    self.errors.push(&self.record, field, problem);
                    None
                }
            },
        }
    }

    /// A patch field that may be absent but not null.
    fn not_null<T>(&mut self, field: &'static str, expected: &'static str, parse: impl Fn(&Value) -> Result<T, Problem>) -> Option<T> {
        match self.parse(field, expected, parse) {
            Some(None) => {
                self.errors.push(&self.record, field, Problem::Required);
                None
            }
            other => other.flatten(),
        }
    }

    fn required<T>(&mut self, field: &'static str, expected: &'static str, parse: impl Fn(&Value) -> Result<T, Problem>) -> Option<T> {
        match self.parse(field, expected, parse) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                self.errors.push(&self.record, field, Problem::Required);
                None
            }
            None if !self.object.contains_key(field) => {
                self.errors.push(&self.record, field, Problem::Required);
                None
            }
            None => None,
        }
    }
}

fn string(value: &Value) -> Result<String, Problem> {
    value.as_str().map(str::to_owned).ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn positive_id(value: &Value) -> Result<i64, Problem> {
    value.as_i64().filter(|id| *id > 0).ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn money(value: &Value) -> Result<Money, Problem> {
    text_of(value)?.parse()
}

fn date(value: &Value) -> Result<Date, Problem> {
    parse_date(text_of(value)?)
}

fn category(value: &Value) -> Result<ForecastCategory, Problem> {
    ForecastCategory::parse(text_of(value)?)
}

/// The fields of a deal. A patch takes them all; a new deal all but the last,
/// `gate_override_reason`, which pushes a stage move past unmet exit criteria.
const OPPORTUNITY_FIELDS: &[&str] = &[
    "name",
    "account_id",
    "owner_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "close_date",
    "forecast_category",
    "next_step",
    "close_reason",
    "gate_override_reason",
];

pub fn new_opportunity(value: &Value) -> Result<NewOpportunity, ValidationErrors> {
    let allowed = &OPPORTUNITY_FIELDS[..OPPORTUNITY_FIELDS.len() - 1];
    let mut fields = Fields::new(value, RecordRef::new_record(OpportunityId::LABEL), allowed)?;
    let name = fields.required("name", "text", string);
    let owner_id = fields.required("owner_id", "an id", positive_id);
    let pipeline_id = fields.required("pipeline_id", "an id", positive_id);
    let account_id = fields.parse("account_id", "an id", positive_id).flatten();
    let stage_id = fields.parse("stage_id", "an id", positive_id).flatten();
    let amount = fields.parse("amount", "an amount such as \"USD 1234.50\"", money).flatten();
    let close_date = fields.parse("close_date", "a date", date).flatten();
    let forecast_category = fields.parse("forecast_category", "a forecast category", category).flatten();
    let next_step = fields.parse("next_step", "text", string).flatten();
    let close_reason = fields.parse("close_reason", "text", string).flatten();
    let errors = fields.errors;
    match (name, owner_id, pipeline_id) {
        (Some(name), Some(owner_id), Some(pipeline_id)) if errors.is_empty() => Ok(NewOpportunity {
            name,
            account_id: account_id.map(AccountId),
            owner_id: UserId(owner_id),
            pipeline_id: PipelineId(pipeline_id),
            stage_id: stage_id.map(StageId),
            amount,
            close_date,
            forecast_category,
            next_step,
            close_reason,
        }),
        _ => Err(errors),
    }
}

pub fn opportunity_patch(opportunity_id: OpportunityId, value: &Value) -> Result<OpportunityPatch, ValidationErrors> {
    let (patch, errors) = opportunity_patch_in_part(opportunity_id, value)?;
    errors.into_result(patch)
}

/// [`opportunity_patch`] that keeps going: the patch of the fields that parsed, and the problems
/// of those that did not, so the caller can check the rest too and name every bad field at once
/// ([`with_rule_errors`]). `Err` only when the body is not a patch at all.
pub fn opportunity_patch_in_part(
    opportunity_id: OpportunityId,
    value: &Value,
) -> Result<(OpportunityPatch, ValidationErrors), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), OPPORTUNITY_FIELDS)?;
    let name = fields.not_null("name", "text", string);
    let owner_id = fields.not_null("owner_id", "an id", positive_id);
    let pipeline_id = fields.not_null("pipeline_id", "an id", positive_id);
    let stage_id = fields.not_null("stage_id", "an id", positive_id);
    let forecast_category = fields.not_null("forecast_category", "a forecast category", category);
    let patch = OpportunityPatch {
        name,
        account_id: fields.parse("account_id", "an id", positive_id).map(|value| value.map(AccountId)),
        owner_id: owner_id.map(UserId),
        pipeline_id: pipeline_id.map(PipelineId),
        stage_id: stage_id.map(StageId),
        amount: fields.parse("amount", "an amount such as \"USD 1234.50\"", money),
        close_date: fields.parse("close_date", "a date", date),
        forecast_category,
        next_step: fields.parse("next_step", "text", string),
        close_reason: fields.parse("close_reason", "text", string),
        gate_override_reason: fields.parse("gate_override_reason", "text", string).flatten(),
    };
    Ok((patch, fields.errors))
}

/// Every bad field at once: the problems input parsing found (`parsed`) and those the record's
/// rules found in what did parse (`rules`, when the write was refused as invalid), each field
/// named once, parsing first.
pub fn with_rule_errors(mut parsed: ValidationErrors, rules: Option<ValidationErrors>) -> ValidationErrors {
    for error in rules.map(|rules| rules.0).unwrap_or_default() {
        if !parsed.0.iter().any(|known| known.field == error.field) {
            parsed.0.push(error);
        }
    }
    parsed
}

fn text_of(value: &Value) -> Result<&str, Problem> {
    value.as_str().ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn integer(value: &Value) -> Result<i64, Problem> {
    value.as_i64().ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn boolean(value: &Value) -> Result<bool, Problem> {
    value.as_bool().ok_or(Problem::Invalid { value: String::new(), expected: "" })
}

fn strings(value: &Value) -> Result<Vec<String>, Problem> {
    let items = value.as_array().ok_or(Problem::Invalid { value: String::new(), expected: "" })?;
    items.iter().map(|item| item.as_str().map(str::to_owned).ok_or(Problem::Invalid { value: String::new(), expected: "" })).collect()
}

fn ids(value: &Value) -> Result<Vec<i64>, Problem> {
    let items = value.as_array().ok_or(Problem::Invalid { value: String::new(), expected: "" })?;
    items.iter().map(positive_id).collect()
}

fn timestamp(value: &Value) -> Result<Timestamp, Problem> {
    text_of(value)?.parse()
}

fn decimal(value: &Value) -> Result<pipewise_core::money::Decimal, Problem> {
    use std::str::FromStr;
    let invalid =
        || Problem::Invalid { value: value.as_str().map_or_else(|| value.to_string(), str::to_owned), expected: "a decimal number" };
    match value {
        Value::String(text) => pipewise_core::money::Decimal::from_str(text.trim()).map_err(|_| invalid()),
        Value::Number(number) => pipewise_core::money::Decimal::from_str(&number.to_string()).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// Keeps the value only when every field was good.
fn finish<T>(errors: ValidationErrors, value: Option<T>) -> Result<T, ValidationErrors> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(errors),
    }
}

const TEAM_FIELDS: &[&str] = &["name", "manager_id"];

pub fn new_team(value: &Value) -> Result<NewTeam, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(TeamId::LABEL), TEAM_FIELDS)?;
    let name = fields.required("name", "text", string);
    let manager_id = fields.parse("manager_id", "an id", positive_id).flatten().map(UserId);
    finish(fields.errors, name.map(|name| NewTeam { name, manager_id }))
}

pub fn team_patch(id: TeamId, value: &Value) -> Result<TeamPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(TeamId::LABEL, id.0), TEAM_FIELDS)?;
    let patch = TeamPatch {
        name: fields.not_null("name", "text", string),
        manager_id: fields.parse("manager_id", "an id", positive_id).map(|id| id.map(UserId)),
    };
    fields.errors.into_result(patch)
}

const ACCOUNT_FIELDS: &[&str] = &["name", "domains", "industry", "employee_count", "region", "owner_id"];

pub fn new_account(value: &Value) -> Result<NewAccount, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(AccountId::LABEL), ACCOUNT_FIELDS)?;
    let name = fields.required("name", "text", string);
    let domains = fields.parse("domains", "a list of domain names", strings).flatten().unwrap_or_default();
    let industry = fields.parse("industry", "text", string).flatten();
    let employee_count = fields.parse("employee_count", "a whole number", integer).flatten();
    let region = fields.parse("region", "text", string).flatten();
    let owner_id = fields.parse("owner_id", "an id", positive_id).flatten().map(UserId);
    finish(fields.errors, name.map(|name| NewAccount { name, domains, industry, employee_count, region, owner_id }))
}

pub fn account_patch(id: AccountId, value: &Value) -> Result<AccountPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(AccountId::LABEL, id.0), ACCOUNT_FIELDS)?;
    let patch = AccountPatch {
        name: fields.not_null("name", "text", string),
        domains: fields.parse("domains", "a list of domain names", strings).map(Option::unwrap_or_default),
        industry: fields.parse("industry", "text", string),
        employee_count: fields.parse("employee_count", "a whole number", integer),
        region: fields.parse("region", "text", string),
        owner_id: fields.parse("owner_id", "an id", positive_id).map(|id| id.map(UserId)),
    };
    fields.errors.into_result(patch)
}

const CONTACT_FIELDS: &[&str] = &["name", "emails", "phone", "title", "account_id"];

pub fn new_contact(value: &Value) -> Result<NewContact, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(ContactId::LABEL), CONTACT_FIELDS)?;
    let name = fields.required("name", "text", string);
    let emails = fields.parse("emails", "a list of e-mail addresses", strings).flatten().unwrap_or_default();
    let phone = fields.parse("phone", "text", string).flatten();
    let title = fields.parse("title", "text", string).flatten();
    let account_id = fields.parse("account_id", "an id", positive_id).flatten().map(AccountId);
    finish(fields.errors, name.map(|name| NewContact { name, emails, phone, title, account_id }))
}

pub fn contact_patch(id: ContactId, value: &Value) -> Result<ContactPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(ContactId::LABEL, id.0), CONTACT_FIELDS)?;
    let patch = ContactPatch {
        name: fields.not_null("name", "text", string),
        emails: fields.parse("emails", "a list of e-mail addresses", strings).map(Option::unwrap_or_default),
        phone: fields.parse("phone", "text", string),
        title: fields.parse("title", "text", string),
        account_id: fields.parse("account_id", "an id", positive_id).map(|id| id.map(AccountId)),
    };
    fields.errors.into_result(patch)
}

fn role(value: &Value) -> Result<pipewise_core::user::Role, Problem> {
    pipewise_core::user::Role::parse(text_of(value)?)
}

fn locale(value: &Value) -> Result<pipewise_core::user::Locale, Problem> {
    pipewise_core::user::Locale::parse(text_of(value)?)
}

const USER_FIELDS: &[&str] = &["email", "name", "role", "manager_id", "team_id", "time_zone", "locale", "active"];

/// A new user; the time zone defaults to UTC and the locale to English.
pub fn new_user(value: &Value) -> Result<pipewise_core::user::NewUser, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(UserId::LABEL), &USER_FIELDS[..7])?;
    let email = fields.required("email", "an e-mail address", string);
    let name = fields.required("name", "text", string);
    let role = fields.required("role", "a role", role);
    let manager_id = fields.parse("manager_id", "an id", positive_id).flatten().map(UserId);
    let team_id = fields.parse("team_id", "an id", positive_id).flatten().map(TeamId);
    let time_zone = fields.parse("time_zone", "an IANA time zone", string).flatten().unwrap_or_else(|| "UTC".to_owned());
    let locale = fields.parse("locale", "en or ko", locale).flatten().unwrap_or(pipewise_core::user::Locale::En);
    let user = match (email, name, role) {
        (Some(email), Some(name), Some(role)) => {
            Some(pipewise_core::user::NewUser { email, name, role, manager_id, team_id, time_zone, locale })
        }
        _ => None,
    };
    finish(fields.errors, user)
}

pub fn user_patch(id: UserId, value: &Value) -> Result<UserPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(UserId::LABEL, id.0), USER_FIELDS)?;
    let patch = UserPatch {
        email: fields.not_null("email", "an e-mail address", string),
        name: fields.not_null("name", "text", string),
        role: fields.not_null("role", "a role", role),
        manager_id: fields.parse("manager_id", "an id", positive_id).map(|id| id.map(UserId)),
        team_id: fields.parse("team_id", "an id", positive_id).map(|id| id.map(TeamId)),
        time_zone: fields.not_null("time_zone", "an IANA time zone", string),
        locale: fields.not_null("locale", "en or ko", locale),
        active: fields.not_null("active", "true or false", boolean),
    };
    fields.errors.into_result(patch)
}

fn lead_status(value: &Value) -> Result<LeadStatus, Problem> {
    LeadStatus::parse(text_of(value)?)
}

const LEAD_FIELDS: &[&str] =
    &["name", "company", "email", "phone", "title", "source", "industry", "employee_count", "region", "status", "owner_id"];

/// A new lead; the status defaults to `new`.
pub fn new_lead(value: &Value) -> Result<NewLead, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(LeadId::LABEL), LEAD_FIELDS)?;
    let name = fields.required("name", "text", string);
    let company = fields.parse("company", "text", string).flatten();
    let email = fields.parse("email", "an e-mail address", string).flatten();
    let phone = fields.parse("phone", "text", string).flatten();
    let title = fields.parse("title", "text", string).flatten();
    let source = fields.parse("source", "text", string).flatten();
    let industry = fields.parse("industry", "text", string).flatten();
    let employee_count = fields.parse("employee_count", "a whole number", integer).flatten();
    let region = fields.parse("region", "text", string).flatten();
    let status = fields.parse("status", "a lead status", lead_status).flatten().unwrap_or(LeadStatus::New);
    let owner_id = fields.parse("owner_id", "an id", positive_id).flatten().map(UserId);
    finish(
        fields.errors,
        name.map(|name| NewLead { name, company, email, phone, title, source, industry, employee_count, region, status, owner_id }),
    )
}

pub fn lead_patch(id: LeadId, value: &Value) -> Result<LeadPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(LeadId::LABEL, id.0), LEAD_FIELDS)?;
    let patch = LeadPatch {
        name: fields.not_null("name", "text", string),
        company: fields.parse("company", "text", string),
        email: fields.parse("email", "an e-mail address", string),
        phone: fields.parse("phone", "text", string),
        title: fields.parse("title", "text", string),
        source: fields.parse("source", "text", string),
        industry: fields.parse("industry", "text", string),
        employee_count: fields.parse("employee_count", "a whole number", integer),
        region: fields.parse("region", "text", string),
        status: fields.not_null("status", "a lead status", lead_status),
        owner_id: fields.parse("owner_id", "an id", positive_id).map(|id| id.map(UserId)),
    };
    fields.errors.into_result(patch)
}

const ACTIVITY_FIELDS: &[&str] =
    &["kind", "direction", "occurred_at", "subject", "body", "source", "user_id", "account_id", "opportunity_id", "contact_ids"];

/// A new activity; `user_id` defaults to `logged_by`, the source to `api`.
pub fn new_activity(value: &Value, logged_by: UserId) -> Result<NewActivity, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(ActivityId::LABEL), ACTIVITY_FIELDS)?;
    let kind = fields.required("kind", "an activity kind", |value| ActivityKind::parse(text_of(value)?));
    let direction = fields.required("direction", "a direction", |value| Direction::parse(text_of(value)?));
    let occurred_at = fields.required("occurred_at", "an RFC 3339 time with an offset", timestamp);
    let subject = fields.required("subject", "text", string);
    let body = fields.parse("body", "text", string).flatten();
    let source = fields.parse("source", "text", string).flatten().unwrap_or_else(|| "api".to_owned());
    let user_id = fields.parse("user_id", "an id", positive_id).flatten().map_or(logged_by, UserId);
    let account_id = fields.parse("account_id", "an id", positive_id).flatten().map(AccountId);
    let opportunity_id = fields.parse("opportunity_id", "an id", positive_id).flatten().map(OpportunityId);
    let contact_ids = fields.parse("contact_ids", "a list of ids", ids).flatten().unwrap_or_default().into_iter().map(ContactId).collect();
    let activity = match (kind, direction, occurred_at, subject) {
        (Some(kind), Some(direction), Some(occurred_at), Some(subject)) => Some(NewActivity {
            kind,
            direction,
            occurred_at,
            subject,
            body,
            source,
            user_id: Some(user_id),
            account_id,
            opportunity_id,
            contact_ids,
        }),
        _ => None,
    };
    finish(fields.errors, activity)
}

const TASK_FIELDS: &[&str] = &["title", "owner_id", "due_on", "completed", "account_id", "opportunity_id", "lead_id"];

/// A new task; the owner defaults to `created_by`.
pub fn new_task(value: &Value, created_by: UserId) -> Result<NewTask, ValidationErrors> {
    let allowed = [TASK_FIELDS[0], TASK_FIELDS[1], TASK_FIELDS[2], TASK_FIELDS[4], TASK_FIELDS[5], TASK_FIELDS[6]];
    let mut fields = Fields::new(value, RecordRef::new_record(TaskId::LABEL), &allowed)?;
    let title = fields.required("title", "text", string);
    let owner_id = fields.parse("owner_id", "an id", positive_id).flatten().map_or(created_by, UserId);
    let due_on = fields.parse("due_on", "a date", date).flatten();
    let account_id = fields.parse("account_id", "an id", positive_id).flatten().map(AccountId);
    let opportunity_id = fields.parse("opportunity_id", "an id", positive_id).flatten().map(OpportunityId);
    let lead_id = fields.parse("lead_id", "an id", positive_id).flatten().map(LeadId);
    let task = title.map(|title| NewTask { title, owner_id, due_on, completed_at: None, account_id, opportunity_id, lead_id });
    finish(fields.errors, task)
}

pub fn task_patch(id: TaskId, value: &Value) -> Result<TaskPatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(TaskId::LABEL, id.0), &TASK_FIELDS[..4])?;
    let patch = TaskPatch {
        title: fields.not_null("title", "text", string),
        owner_id: fields.not_null("owner_id", "an id", positive_id).map(UserId),
        due_on: fields.parse("due_on", "a date", date),
        completed: fields.not_null("completed", "true or false", boolean),
    };
    fields.errors.into_result(patch)
}

const PIPELINE_FIELDS: &[&str] = &["name", "stages", "entry_stage"];
const STAGE_FIELDS: &[&str] = &["name_en", "name_ko", "kind", "win_probability", "forecast_category", "counts_in_metrics", "rotting_days"];

/// A new pipeline with its stages in order; `entry_stage` (an index into `stages`) defaults to
/// the first. Problems inside a stage are named `stages.<field>`.
pub fn new_pipeline(value: &Value) -> Result<pipewise_core::pipeline::NewPipeline, ValidationErrors> {
    use pipewise_core::pipeline::{NewPipeline, NewStage, StageKind};
    let record = RecordRef::new_record(PipelineId::LABEL);
    let mut fields = Fields::new(value, record.clone(), PIPELINE_FIELDS)?;
    let name = fields.required("name", "text", string);
    let entry_stage = fields.parse("entry_stage", "a stage index", integer).flatten().unwrap_or(0);
    let raw_stages = fields.required("stages", "a list of stages", |value| {
        value.as_array().cloned().ok_or(Problem::Invalid { value: String::new(), expected: "" })
    });
    let mut errors = fields.errors;
    let mut stages = Vec::new();
    for raw in raw_stages.iter().flatten() {
        let mut stage = match Fields::new(raw, record.clone(), STAGE_FIELDS) {
            Ok(stage) => stage,
            Err(problems) => {
                errors.0.extend(problems.0.into_iter().map(|error| FieldError { field: "stages", ..error }));
                continue;
            }
        };
        let name_en = stage.required("name_en", "text", string);
        let name_ko = stage.parse("name_ko", "text", string).flatten().unwrap_or_default();
        let kind =
            stage.parse("kind", "one of open, won, lost", |value| StageKind::parse(text_of(value)?)).flatten().unwrap_or(StageKind::Open);
        let win_probability = stage.parse("win_probability", "a decimal number", decimal).flatten().unwrap_or_default();
        let forecast_category =
            stage.parse("forecast_category", "a forecast category", category).flatten().unwrap_or(ForecastCategory::Pipeline);
        let counts_in_metrics = stage.parse("counts_in_metrics", "true or false", boolean).flatten().unwrap_or(true);
        let rotting_days = stage.parse("rotting_days", "a whole number of days", integer).flatten();
        errors.0.extend(stage.errors.0.into_iter().map(|error| FieldError { field: stage_field(error.field), ..error }));
        let rotting_days = match rotting_days.map(i32::try_from) {
            Some(Ok(days)) => Some(days),
            Some(Err(_)) => {
                errors.push(
                    &record,
                    "stages.rotting_days",
                    Problem::OutOfRange { value: format!("{rotting_days:?}"), range: "1 to 3650 days" },
                );
                None
            }
            None => None,
        };
        if let Some(name_en) = name_en {
            stages.push(NewStage { name_en, name_ko, kind, win_probability, forecast_category, counts_in_metrics, rotting_days });
        }
    }
    let entry_stage = usize::try_from(entry_stage).unwrap_or(usize::MAX);
    finish(errors, name.map(|name| NewPipeline { name, stages, entry_stage }))
}

fn stage_field(field: &'static str) -> &'static str {
    match field {
        "name_en" => "stages.name_en",
        "name_ko" => "stages.name_ko",
        "kind" => "stages.kind",
        "win_probability" => "stages.win_probability",
        "forecast_category" => "stages.forecast_category",
        "counts_in_metrics" => "stages.counts_in_metrics",
        "rotting_days" => "stages.rotting_days",
        _ => "stages",
    }
}

/// The name of the API token to create.
/// A new API token: its `name` and the owner's `password`, given again.
pub fn new_token(value: &Value) -> Result<(String, String), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record("api token"), &["name", "password"])?;
    let name = fields.required("name", "text", string);
    let password = fields.required("password", "text", string);
    finish(fields.errors, name.zip(password))
}

// Stage gates, the deal workspace and the pipeline designer.

/// A new exit criterion added by ops: `stage_id`, `label_en`, `label_ko` (defaults to English),
/// `kind` (`checklist`, `required_field`, `derived`) and its `argument` (the field's name, or
/// the predicate's text form such as `all(bant(budget, confirmed), stakeholder(4))`).
pub fn new_exit_criterion(value: &Value) -> Result<pipewise_core::gates::NewExitCriterion, ValidationErrors> {
    use pipewise_core::gates::{CriterionKind, CriterionOrigin, NewExitCriterion};
    let mut fields = Fields::new(
        value,
        RecordRef::new_record(pipewise_core::gates::CRITERION_LABEL),
        &["stage_id", "label_en", "label_ko", "kind", "argument"],
    )?;
    let stage_id = fields.required("stage_id", "an id", positive_id);
    let label_en = fields.required("label_en", "text", string);
    let label_ko = fields.parse("label_ko", "text", string).flatten().unwrap_or_default();
    let kind = fields.required("kind", "one of checklist, required_field, derived", string);
    let argument = fields.parse("argument", "text", string).flatten();
    let kind = kind.and_then(|kind| match CriterionKind::decode(&kind, argument.as_deref()) {
        Ok(kind) => Some(kind),
        Err(problem) => {
            let field = if ["checklist", "required_field", "derived"].contains(&kind.as_str()) { "argument" } else { "kind" };
            fields.errors.push(&fields.record, field, problem);
            None
        }
    });
    let new = match (stage_id, label_en, kind) {
        (Some(stage_id), Some(label_en), Some(kind)) => {
            Some(NewExitCriterion { stage_id: StageId(stage_id), label_en, label_ko, kind, origin: CriterionOrigin::Ops })
        }
        _ => None,
    };
    finish(fields.errors, new)
}

/// A tick (`checked`: true, the default, with `evidence`) or an uncheck of a checklist item.
pub struct CheckInput {
    pub criterion_id: i64,
    pub checked: bool,
    pub evidence: String,
}

pub fn criterion_check(opportunity_id: OpportunityId, value: &Value) -> Result<CheckInput, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), &["criterion_id", "checked", "evidence"])?;
    let criterion_id = fields.required("criterion_id", "an id", positive_id);
    let checked = fields.parse("checked", "true or false", boolean).flatten().unwrap_or(true);
    let evidence = fields.parse("evidence", "text", string).flatten().unwrap_or_default();
    finish(fields.errors, criterion_id.map(|criterion_id| CheckInput { criterion_id, checked, evidence }))
}

/// A loss review's lesson: `label_en`, `label_ko`, and the gate's `stage_id` (by default the
/// stage the deal was lost from).
pub fn loss_review(opportunity_id: OpportunityId, value: &Value) -> Result<(Option<StageId>, String, String), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), &["stage_id", "label_en", "label_ko"])?;
    let stage_id = fields.parse("stage_id", "an id", positive_id).flatten().map(StageId);
    let label_en = fields.required("label_en", "text", string);
    let label_ko = fields.parse("label_ko", "text", string).flatten().unwrap_or_default();
    finish(fields.errors, label_en.map(|label_en| (stage_id, label_en, label_ko)))
}

/// `{"template": "b2b_the_model" | "simple"}`.
pub fn pipeline_template(value: &Value) -> Result<crate::designer::PipelineTemplate, ValidationErrors> {
    use crate::designer::PipelineTemplate;
    let mut fields = Fields::new(value, RecordRef::new_record(PipelineId::LABEL), &["template"])?;
    let template = fields.required("template", "b2b_the_model or simple", |value| PipelineTemplate::parse(text_of(value)?));
    finish(fields.errors, template)
}

/// A change to a pipeline's name or entry stage.
pub fn pipeline_patch(pipeline_id: PipelineId, value: &Value) -> Result<pipewise_core::pipeline::PipelinePatch, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(PipelineId::LABEL, pipeline_id.0), &["name", "entry_stage_id"])?;
    let name = fields.not_null("name", "text", string);
    let entry_stage_id = fields.not_null("entry_stage_id", "an id", positive_id).map(StageId);
    finish(fields.errors, Some(pipewise_core::pipeline::PipelinePatch { name, entry_stage_id }))
}

/// A change to a stage's names, probability, forecast category, metrics flag or rotting age
/// (`null` clears it).
pub fn stage_patch(stage_id: StageId, value: &Value) -> Result<pipewise_core::pipeline::StagePatch, ValidationErrors> {
    use pipewise_core::pipeline::StagePatch;
    let mut fields = Fields::new(
        value,
        RecordRef::new(StageId::LABEL, stage_id.0),
        &["name_en", "name_ko", "win_probability", "forecast_category", "counts_in_metrics", "rotting_days"],
    )?;
    let patch = StagePatch {
        name_en: fields.not_null("name_en", "text", string),
        name_ko: fields.parse("name_ko", "text", string).map(Option::unwrap_or_default),
        win_probability: fields.not_null("win_probability", "a decimal number", decimal),
        forecast_category: fields.not_null("forecast_category", "a forecast category", category),
        counts_in_metrics: fields.not_null("counts_in_metrics", "true or false", boolean),
        rotting_days: fields.parse("rotting_days", "a whole number of days", whole_days),
    };
    finish(fields.errors, Some(patch))
}

fn whole_days(value: &Value) -> Result<i32, Problem> {
    let days = integer(value)?;
    i32::try_from(days).map_err(|_| Problem::OutOfRange { value: days.to_string(), range: "1 to 3650 days" })
}

/// A new stage for an existing pipeline, and where to put it (`position`, 0-based; by default
/// after the last open stage for an open stage, else at the end).
pub fn new_stage(pipeline_id: PipelineId, value: &Value) -> Result<(pipewise_core::pipeline::NewStage, Option<usize>), ValidationErrors> {
    use pipewise_core::pipeline::{NewStage, StageKind};
    let mut fields = Fields::new(
        value,
        RecordRef::new(PipelineId::LABEL, pipeline_id.0),
        &["name_en", "name_ko", "kind", "win_probability", "forecast_category", "counts_in_metrics", "rotting_days", "position"],
    )?;
    let name_en = fields.required("name_en", "text", string);
    let name_ko = fields.parse("name_ko", "text", string).flatten().unwrap_or_default();
    let kind =
        fields.parse("kind", "one of open, won, lost", |value| StageKind::parse(text_of(value)?)).flatten().unwrap_or(StageKind::Open);
    let win_probability = fields.parse("win_probability", "a decimal number", decimal).flatten().unwrap_or_default();
    let forecast_category =
        fields.parse("forecast_category", "a forecast category", category).flatten().unwrap_or(ForecastCategory::Pipeline);
    let counts_in_metrics = fields.parse("counts_in_metrics", "true or false", boolean).flatten().unwrap_or(true);
    let rotting_days = fields.parse("rotting_days", "a whole number of days", whole_days).flatten();
    let position = fields
        .parse("position", "a position from 0", |value| {
            value
                .as_u64()
                .and_then(|position| usize::try_from(position).ok())
                .ok_or(Problem::Invalid { value: String::new(), expected: "" })
        })
        .flatten();
    let stage =
        name_en.map(|name_en| NewStage { name_en, name_ko, kind, win_probability, forecast_category, counts_in_metrics, rotting_days });
    finish(fields.errors, stage.map(|stage| (stage, position)))
}

/// `{"stage_ids": [...]}`: every stage of the pipeline in its new order.
pub fn stage_order(pipeline_id: PipelineId, value: &Value) -> Result<Vec<StageId>, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(PipelineId::LABEL, pipeline_id.0), &["stage_ids"])?;
    let ids = fields.required("stage_ids", "a list of stage ids", ids);
    finish(fields.errors, ids.map(|ids| ids.into_iter().map(StageId).collect()))
}

/// `{"average_cycle_days": n | null}`: a team's own average sales cycle, or `null` to compute it
/// from the team's won deals.
pub fn team_cycle(team_id: TeamId, value: &Value) -> Result<Option<u32>, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(TeamId::LABEL, team_id.0), &["average_cycle_days"])?;
    let days = fields.required_nullable("average_cycle_days", "a whole number of days from 1 to 3650", |value| {
        value.as_u64().and_then(|days| u32::try_from(days).ok()).ok_or(Problem::Invalid { value: String::new(), expected: "" })
    });
    finish(fields.errors, days)
}

impl Fields<'_> {
    /// A field that must be present and may be `null`.
    fn required_nullable<T>(
        &mut self,
        field: &'static str,
        expected: &'static str,
        parse: impl Fn(&Value) -> Result<T, Problem>,
    ) -> Option<Option<T>> {
        if !self.object.contains_key(field) {
            self.errors.push(&self.record, field, Problem::Required);
            return None;
        }
        self.parse(field, expected, parse)
    }
}

/// `{"to_user_id": id, "note": text?}`: a handoff of a deal to another user.
pub fn handoff(opportunity_id: OpportunityId, value: &Value) -> Result<(UserId, Option<String>), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), &["to_user_id", "note"])?;
    let to_user = fields.required("to_user_id", "an id", positive_id).map(UserId);
    let note = fields.parse("note", "text", string).flatten();
    finish(fields.errors, to_user.map(|to_user| (to_user, note)))
}

/// `{"user_id": id}`: the user to share a deal with.
pub fn share(opportunity_id: OpportunityId, value: &Value) -> Result<UserId, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(OpportunityId::LABEL, opportunity_id.0), &["user_id"])?;
    let user = fields.required("user_id", "an id", positive_id).map(UserId);
    finish(fields.errors, user)
}

/// The organisation's health thresholds (`PUT /api/v1/settings/health`): whole numbers by name
/// (`crate::settings::HEALTH_THRESHOLDS`); one left out, or `null`, takes its default.
/// Reports every bad field at once: unknown names, non-numbers, values out of range and the rule
/// across fields.
pub fn health_thresholds(org: OrgId, value: &Value) -> Result<pipewise_analytics::HealthThresholds, ValidationErrors> {
    use crate::settings::{HEALTH_SETTINGS, HEALTH_THRESHOLDS, health_thresholds_from};
    let names: Vec<&str> = HEALTH_THRESHOLDS.iter().map(|setting| setting.name).collect();
    let mut fields = Fields::new(value, RecordRef::new(HEALTH_SETTINGS, org.0), &names)?;
    let mut values = Vec::new();
    for setting in &HEALTH_THRESHOLDS {
        if let Some(Some(number)) = fields.parse(setting.name, "a whole number", integer) {
            values.push((setting, number));
        }
    }
    let (thresholds, problems) = health_thresholds_from(org, values);
    fields.errors.0.extend(problems.0);
    fields.errors.into_result(thresholds)
}

/// What the organisation settings body changes: its time zone, the month its fiscal years start in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganisationSettings {
    pub time_zone: Option<String>,
    pub fiscal_year_start_month: Option<u8>,
}

/// The organisation settings body `{"time_zone": "Asia/Seoul", "fiscal_year_start_month": 4}`:
/// either field or both.
pub fn organisation_settings(org: OrgId, value: &Value) -> Result<OrganisationSettings, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new("organisation", org.0), &["time_zone", "fiscal_year_start_month"])?;
    let time_zone = fields.not_null("time_zone", "text", string);
    let month = fields.not_null("fiscal_year_start_month", "a month from 1 to 12", |value| {
        integer(value)?
            .try_into()
            .ok()
            .filter(|month| (1..=12).contains(month))
            .ok_or(Problem::Invalid { value: value.to_string(), expected: "a month from 1 to 12" })
    });
    if fields.errors.is_empty() && time_zone.is_none() && month.is_none() {
        fields.errors.push(
            &fields.record,
            "(body)",
            Problem::Invalid { value: value.to_string(), expected: "time_zone or fiscal_year_start_month" },
        );
    }
    finish(fields.errors, Some(OrganisationSettings { time_zone, fiscal_year_start_month: month }))
}

/// A quota body `{"amount": "120000"}`: the amount as a decimal in the reporting currency (text
/// or number).
pub fn quota_amount(value: &Value) -> Result<String, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::quotas::QUOTA), &["amount"])?;
    let amount = fields.required("amount", "a decimal amount", |value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(Problem::Invalid { value: String::new(), expected: "" }),
    });
    finish(fields.errors, amount)
}

/// A forecast call `{"period": "2027-Q1", "commit": "120000", "best_case": "150000", "note": "…"}`:
/// amounts as decimals in the reporting currency (text or number), the note optional.
pub fn forecast_call(value: &Value) -> Result<crate::forecast::CallInput, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::forecast::calls::CALL), &["period", "commit", "best_case", "note"])?;
    let amount = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(Problem::Invalid { value: String::new(), expected: "" }),
    };
    let period = fields.required("period", "a fiscal period such as 2027-Q1", string);
    let commit = fields.required("commit", "a decimal amount", amount);
    let best_case = fields.required("best_case", "a decimal amount", amount);
    let note = fields.parse("note", "text", string).flatten().unwrap_or_default();
    let call = match (period, commit, best_case) {
        (Some(period), Some(commit), Some(best_case)) => Some(crate::forecast::CallInput { period, commit, best_case, note }),
        _ => None,
    };
    finish(fields.errors, call)
}

/// A seasonal spread: `{"subject": "user", "id": 3, "year": "2027", "kind": "quarter",
/// "amount": "1000000", "weights": [2, 3, 3, 4]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeasonalQuotas {
    pub subject: crate::QuotaSubject,
    pub year: String,
    pub kind: pipewise_core::fiscal::PeriodKind,
    pub amount: String,
    pub weights: Vec<pipewise_core::money::Decimal>,
}

pub fn seasonal_quotas(value: &Value) -> Result<SeasonalQuotas, ValidationErrors> {
    let mut fields =
        Fields::new(value, RecordRef::new_record(crate::quotas::QUOTA), &["subject", "id", "year", "kind", "amount", "weights"])?;
    let subject = fields.required("subject", "user or team", string);
    let id = fields.required("id", "an id", positive_id);
    let year = fields.required("year", "a fiscal year such as 2027", string);
    let kind = fields.required("kind", "quarter or month", |value| pipewise_core::fiscal::PeriodKind::from_code(text_of(value)?));
    let amount = fields.required("amount", "a decimal amount", |value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(Problem::Invalid { value: String::new(), expected: "" }),
    });
    let weights = fields.required("weights", "a list of decimal weights", |value| {
        let items = value.as_array().ok_or(Problem::Invalid { value: String::new(), expected: "" })?;
        items.iter().map(decimal).collect::<Result<Vec<_>, _>>()
    });
    let subject = match (subject.as_deref(), id) {
        (Some("user"), Some(id)) => Some(crate::QuotaSubject::User(UserId(id))),
        (Some("team"), Some(id)) => Some(crate::QuotaSubject::Team(TeamId(id))),
        (Some(other), _) if other != "user" && other != "team" => {
            fields.errors.push(&fields.record, "subject", Problem::Invalid { value: other.to_owned(), expected: "user or team" });
            None
        }
        _ => None,
    };
    let parsed = match (subject, year, kind, amount, weights) {
        (Some(subject), Some(year), Some(kind), Some(amount), Some(weights)) => {
            Some(SeasonalQuotas { subject, year, kind, amount, weights })
        }
        _ => None,
    };
    finish(fields.errors, parsed)
}

/// A plan body `{"name": "AE 2027", "definition": {…}}`.
pub fn plan(value: &Value) -> Result<(String, Value), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::pay::PLAN), &["name", "definition"])?;
    let name = fields.required("name", "text", string);
    let definition = fields.required("definition", "a plan definition (an object)", |value| {
        value.is_object().then(|| value.clone()).ok_or(Problem::Invalid { value: String::new(), expected: "" })
    });
    let parsed = match (name, definition) {
        (Some(name), Some(definition)) => Some((name, definition)),
        _ => None,
    };
    finish(fields.errors, parsed)
}

/// An assignment body `{"user_id": 3, "plan": "AE 2027", "first_day": "2027-01-01", "last_day": null}`.
pub fn plan_assignment(value: &Value) -> Result<(UserId, String, String, Option<String>), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::pay::ASSIGNMENT), &["user_id", "plan", "first_day", "last_day"])?;
    let user = fields.required("user_id", "an id", positive_id);
    let plan = fields.required("plan", "text", string);
    let first = fields.required("first_day", "a date", string);
    let last = fields.parse("last_day", "a date", string).flatten();
    let parsed = match (user, plan, first) {
        (Some(user), Some(plan), Some(first)) => Some((UserId(user), plan, first, last)),
        _ => None,
    };
    finish(fields.errors, parsed)
}

/// A statement body `{"user_id": 3, "period": "2027-Q1"}`.
pub fn statement_request(value: &Value) -> Result<(UserId, String), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::pay::STATEMENT), &["user_id", "period"])?;
    let user = fields.required("user_id", "an id", positive_id);
    let period = fields.required("period", "a fiscal period such as 2027-Q1", string);
    let parsed = match (user, period) {
        (Some(user), Some(period)) => Some((UserId(user), period)),
        _ => None,
    };
    finish(fields.errors, parsed)
}

/// A dispute body `{"line": 2, "note": "…"}`: `line` is 1-based, absent or null for the whole statement.
pub fn dispute(value: &Value) -> Result<(Option<u32>, String), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new_record(crate::pay::DISPUTE), &["line", "note"])?;
    let line = fields.parse("line", "a line number from 1", |value| {
        value
            .as_u64()
            .filter(|line| *line >= 1)
            .and_then(|line| u32::try_from(line - 1).ok())
            .ok_or(Problem::Invalid { value: String::new(), expected: "" })
    });
    let note = fields.required("note", "text", string);
    finish(fields.errors, note.map(|note| (line.flatten(), note)))
}

/// A dispute step body `{"status": "in_review", "resolution": null}`.
pub fn dispute_step(id: i64, value: &Value) -> Result<(crate::DisputeStatus, Option<String>), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(crate::pay::DISPUTE, id), &["status", "resolution"])?;
    let status = fields.required("status", "in_review, resolved or closed", |value| crate::DisputeStatus::parse(text_of(value)?));
    let resolution = fields.parse("resolution", "text", string).flatten();
    finish(fields.errors, status.map(|status| (status, resolution)))
}

/// A deal's billing body `{"invoiced_on": "2026-04-02", "paid_on": null}`: each a `YYYY-MM-DD`
/// date, null or absent for none (the dates themselves are checked where they are set).
pub fn deal_billing(deal: OpportunityId, value: &Value) -> Result<(Option<String>, Option<String>), ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(crate::pay::DEAL_BILLING, deal.0), &["invoiced_on", "paid_on"])?;
    let invoiced_on = fields.parse("invoiced_on", "a date", string).flatten();
    let paid_on = fields.parse("paid_on", "a date", string).flatten();
    finish(fields.errors, Some((invoiced_on, paid_on)))
}

/// A deal's splits body `{"splits": [{"user_id": 3, "kind": "revenue", "share": "0.5"}]}`.
pub fn deal_splits(
    deal: OpportunityId,
    value: &Value,
) -> Result<Vec<(UserId, pipewise_comp::SplitKind, pipewise_core::money::Decimal)>, ValidationErrors> {
    let mut fields = Fields::new(value, RecordRef::new(crate::pay::DEAL_SPLIT, deal.0), &["splits"])?;
    let splits = fields.required("splits", "a list of splits", |value| {
        let items = value.as_array().ok_or(Problem::Invalid { value: String::new(), expected: "" })?;
        if items.len() > 50 {
            return Err(Problem::OutOfRange { value: items.len().to_string(), range: "at most 50 splits" });
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let in_item = |problem: Problem| Problem::InItem { item: index + 1, problem: Box::new(problem) };
                let object = item.as_object().ok_or_else(|| {
                    in_item(Problem::Invalid { value: item.to_string(), expected: "an object with user_id, kind and share" })
                })?;
                if let Some(key) = object.keys().find(|key| !["user_id", "kind", "share"].contains(&key.as_str())) {
                    return Err(in_item(Problem::Fact(Message::new("rule.unknown_field").text("field", format!("{key:?}")))));
                }
                let user =
                    object.get("user_id").and_then(Value::as_i64).filter(|id| *id > 0).ok_or_else(|| {
                        in_item(Problem::Invalid { value: format!("{:?}", object.get("user_id")), expected: "a user id" })
                    })?;
                let kind = match object.get("kind").and_then(Value::as_str) {
                    Some("revenue") => pipewise_comp::SplitKind::Revenue,
                    Some("overlay") => pipewise_comp::SplitKind::Overlay,
                    other => return Err(in_item(Problem::Invalid { value: format!("{other:?}"), expected: "revenue or overlay" })),
                };
                let share = object.get("share").map(decimal).transpose().map_err(in_item)?.ok_or_else(|| in_item(Problem::Required))?;
                Ok((UserId(user), kind, share))
            })
            .collect()
    });
    finish(fields.errors, splits)
}

/// `POST /api/v1/leads/{id}/convert`: `{"account_id"?, "create_opportunity"?, "opportunity_name"?,
/// "amount"?, "close_date"?, "pipeline_id"?}`. A deal is made when `create_opportunity` is true or
/// any deal field is given.
pub fn lead_conversion(id: LeadId, value: &Value) -> Result<crate::leads::Conversion, ValidationErrors> {
    let names = ["account_id", "create_opportunity", "opportunity_name", "amount", "close_date", "pipeline_id"];
    let mut fields = Fields::new(value, RecordRef::new(LeadId::LABEL, id.0), &names)?;
    let account_id = fields.parse("account_id", "an id", positive_id).flatten().map(AccountId);
    let create = fields.parse("create_opportunity", "true or false", boolean).flatten().unwrap_or(false);
    let name = fields.parse("opportunity_name", "text", string).flatten();
    let amount = fields.parse("amount", "an amount such as \"USD 1234.50\"", money).flatten();
    let close_date = fields.parse("close_date", "a date", date).flatten();
    let pipeline_id = fields.parse("pipeline_id", "an id", positive_id).flatten().map(PipelineId);
    let wanted = create || name.is_some() || amount.is_some() || close_date.is_some() || pipeline_id.is_some();
    let deal = wanted.then_some(crate::leads::DealOfLead { name, amount, close_date, pipeline_id });
    finish(fields.errors, Some(crate::leads::Conversion { account_id, deal }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_core::message::catalog::en_errors;
    use serde_json::json;

    #[test]
    fn health_thresholds_take_defaults_for_what_is_left_out_and_name_every_bad_field() {
        let thresholds = health_thresholds(OrgId(3), &json!({ "untouched_days": 10, "no_new_days": null })).unwrap();
        assert_eq!(thresholds, pipewise_analytics::HealthThresholds { untouched_days: 10, ..Default::default() });
        let body = json!({ "going_dark_days": 7, "pushed_min": "2", "multi_threaded_min_contacts": 1, "colour": 1 });
        assert_eq!(
            en_errors(&health_thresholds(OrgId(3), &body).unwrap_err()),
            "health_settings 3: (body): unknown field \"colour\"; \
             health_settings 3: pushed_min: \"2\" is not a whole number; \
             health_settings 3: going_dark_days: 7 is out of range (14 to 42 days); \
             health_settings 3: multi_threaded_min_contacts: must be more than single_threaded_max_contacts"
        );
    }

    #[test]
    fn a_patch_reports_every_bad_field_by_name() {
        let body = json!({ "close_date": "2025-13-01", "amount": "KRW 10.5", "stage_id": null, "colour": "red" });
        assert_eq!(
            en_errors(&opportunity_patch(OpportunityId(42), &body).unwrap_err()),
            "opportunity 42: (body): unknown field \"colour\"; \
             opportunity 42: stage_id: is required; \
             opportunity 42: amount: 10.5 has 1 decimal places but KRW has 0; \
             opportunity 42: close_date: \"2025-13-01\" is not a date"
        );
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let patch = opportunity_patch(OpportunityId(1), &json!({ "amount": null, "next_step": "Call CFO" })).unwrap();
        assert_eq!(patch.amount, Some(None));
        assert_eq!(patch.next_step, Some(Some("Call CFO".into())));
        assert_eq!(patch.close_date, None);
    }

    #[test]
    fn a_new_deal_needs_its_required_fields() {
        assert_eq!(
            new_opportunity(&json!({ "name": "Acme", "pipeline_id": "one" })).unwrap_err().to_string(),
            "new opportunity: owner_id: is required; new opportunity: pipeline_id: \"one\" is not an id"
        );
        assert_eq!(new_opportunity(&json!([1, 2])).unwrap_err().to_string(), "new opportunity: (body): \"[1,2]\" is not a JSON object");
        let deal = new_opportunity(&json!({ "name": "Acme", "owner_id": 3, "pipeline_id": 1, "amount": "USD 12000" })).unwrap();
        assert_eq!(deal.amount.unwrap().to_string(), "USD 12000.00");
    }
}
