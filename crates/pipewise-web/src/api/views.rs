//! What the API sends: one serde type per record, built from the domain types (which carry no
//! serde derives), each declared with [`view!`] so it is also the record's OpenAPI schema.
//! Conventions: snake_case names; ids are numbers; money is one string, the ISO 4217 code and
//! the exact decimal amount at the currency's scale (`"USD 1234.50"`, the same form the API
//! accepts); times are RFC 3339 in UTC; dates are `YYYY-MM-DD`; an unset value is `null`, never
//! absent.

use pipewise_app::{ApiToken, AuditEvent};
use pipewise_core::history::{HistoryEvent, Source};
use pipewise_core::opportunity::{OppField, Opportunity, Status};
use pipewise_core::pipeline::{ForecastCategory, Pipeline, Stage};
use pipewise_core::records::*;
use pipewise_core::user::{Locale, Role, User};
use serde::Serialize;

use super::Ty;
use super::describe::view;
use super::support::names;

/// One page of a list: `next_cursor` is `null` on the last page.
#[derive(Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

view! {
    /// A deal.
    pub struct OpportunityView as "Opportunity" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        account_id: Option<i64> => Ty::Id,
        owner_id: i64 => Ty::Id,
        pipeline_id: i64 => Ty::Id,
        /// Defaults to the pipeline's entry stage.
        stage_id: i64 => Ty::Id,
        amount: Option<String> => Ty::Money,
        close_date: Option<String> => Ty::Date,
        /// Follows the stage unless set.
        forecast_category: &'static str => Ty::Enum(ForecastCategory::ALL.iter().map(|category| category.as_str()).collect()),
        next_step: Option<String> => Ty::Text,
        /// Follows the stage.
        status: &'static str => Ty::Enum(Status::ALL.iter().map(|status| status.as_str()).collect()),
        created_at: String => Ty::Time,
        closed_at: Option<String> => Ty::Time,
        /// Required for a loss.
        close_reason: Option<String> => Ty::Text,
    }
}

impl From<Opportunity> for OpportunityView {
    fn from(deal: Opportunity) -> Self {
        OpportunityView {
            id: deal.id.0,
            name: deal.name,
            account_id: deal.account_id.map(|id| id.0),
            owner_id: deal.owner_id.0,
            pipeline_id: deal.pipeline_id.0,
            stage_id: deal.stage_id.0,
            amount: deal.amount.map(|money| money.to_string()),
            close_date: deal.close_date.map(|date| date.to_string()),
            forecast_category: deal.forecast_category.as_str(),
            next_step: deal.next_step,
            status: deal.status.as_str(),
            created_at: deal.created_at.to_string(),
            closed_at: deal.closed_at.map(|at| at.to_string()),
            close_reason: deal.close_reason,
        }
    }
}

view! {
    /// One changed field of a deal. Values are in the field's canonical text.
    pub struct HistoryEventView as "HistoryEvent" {
        seq: i64 => Ty::Integer,
        opportunity_id: i64 => Ty::Id,
        field: &'static str => Ty::Enum(OppField::ALL.iter().map(|field| field.as_str()).collect()),
        old: Option<String> => Ty::Text,
        new: Option<String> => Ty::Text,
        at: String => Ty::Time,
        actor_id: Option<i64> => Ty::Id,
        source: &'static str => Ty::Enum(Source::ALL.iter().map(|source| source.as_str()).collect()),
    }
}

impl From<HistoryEvent> for HistoryEventView {
    fn from(event: HistoryEvent) -> Self {
        HistoryEventView {
            seq: event.seq,
            opportunity_id: event.opportunity_id.0,
            field: event.field.as_str(),
            old: event.old,
            new: event.new,
            at: event.at.to_string(),
            actor_id: event.actor_id.map(|id| id.0),
            source: event.source.as_str(),
        }
    }
}

view! {
    /// A user of Pipewise: role and place in the reporting hierarchy.
    pub struct UserView as "User" {
        id: i64 => Ty::Id,
        email: String => Ty::Text,
        name: String => Ty::Text,
        role: &'static str => Ty::Enum(names(&Role::ALL, Role::as_str)),
        manager_id: Option<i64> => Ty::Id,
        team_id: Option<i64> => Ty::Id,
        /// IANA name; defaults to UTC.
        time_zone: String => Ty::Text,
        locale: &'static str => Ty::Enum(names(&[Locale::En, Locale::Ko], Locale::as_str)),
        active: bool => Ty::Boolean,
        created_at: String => Ty::Time,
    }
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id.0,
            email: user.email,
            name: user.name,
            role: user.role.as_str(),
            manager_id: user.manager_id.map(|id| id.0),
            team_id: user.team_id.map(|id| id.0),
            time_zone: user.time_zone,
            locale: user.locale.as_str(),
            active: user.active,
            created_at: user.created_at.to_string(),
        }
    }
}

view! {
    /// A sales team.
    pub struct TeamView as "Team" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        manager_id: Option<i64> => Ty::Id,
    }
}

impl From<Team> for TeamView {
    fn from(team: Team) -> Self {
        TeamView { id: team.id.0, name: team.name, manager_id: team.manager_id.map(|id| id.0) }
    }
}

view! {
    /// A customer company.
    pub struct AccountView as "Account" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        /// Lower-cased domains mail is matched by; each belongs to one account.
        domains: Vec<String> => Ty::TextList,
        industry: Option<String> => Ty::Text,
        employee_count: Option<i64> => Ty::Range(0, 10_000_000),
        region: Option<String> => Ty::Text,
        owner_id: Option<i64> => Ty::Id,
        created_at: String => Ty::Time,
    }
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            id: account.id.0,
            name: account.name,
            domains: account.domains,
            industry: account.industry,
            employee_count: account.employee_count,
            region: account.region,
            owner_id: account.owner_id.map(|id| id.0),
            created_at: account.created_at.to_string(),
        }
    }
}

view! {
    /// A person at a customer.
    pub struct ContactView as "Contact" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        emails: Vec<String> => Ty::TextList,
        phone: Option<String> => Ty::Text,
        title: Option<String> => Ty::Text,
        account_id: Option<i64> => Ty::Id,
        created_at: String => Ty::Time,
    }
}

impl From<Contact> for ContactView {
    fn from(contact: Contact) -> Self {
        ContactView {
            id: contact.id.0,
            name: contact.name,
            emails: contact.emails,
            phone: contact.phone,
            title: contact.title,
            account_id: contact.account_id.map(|id| id.0),
            created_at: contact.created_at.to_string(),
        }
    }
}

view! {
    /// A stage of a pipeline. Patch with `PATCH /api/v1/stages/{id}`; kind and position have their own operations.
    pub struct StageView as "Stage" {
        id: i64 => Ty::Id,
        position: i32 => Ty::Integer,
        name_en: String => Ty::Text,
        /// Defaults to the English name.
        name_ko: String => Ty::Text,
        kind: &'static str => Ty::Enum(vec!["open", "won", "lost"]),
        /// Percent, 0 to 100.
        win_probability: String => Ty::Decimal,
        forecast_category: &'static str => Ty::Enum(vec!["pipeline", "best_case", "commit", "closed", "omitted"]),
        counts_in_metrics: bool => Ty::Boolean,
        rotting_days: Option<i32> => Ty::Range(1, 3650),
        /// Set when archived: the stage keeps its deals but takes no new ones.
        archived_at: Option<String> => Ty::Time,
    }
}

impl From<Stage> for StageView {
    fn from(stage: Stage) -> Self {
        StageView {
            id: stage.id.0,
            position: stage.position,
            name_en: stage.name_en,
            name_ko: stage.name_ko,
            kind: stage.kind.as_str(),
            win_probability: stage.win_probability.to_string(),
            forecast_category: stage.forecast_category.as_str(),
            counts_in_metrics: stage.counts_in_metrics,
            rotting_days: stage.rotting_days,
            archived_at: stage.archived_at.map(|at| at.to_string()),
        }
    }
}

view! {
    /// A pipeline with its stages in order.
    pub struct PipelineView as "Pipeline" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        /// On patch: an open, unarchived stage of the pipeline.
        entry_stage_id: i64 => Ty::Id,
        /// On create: `StageCreate` objects.
        stages: Vec<StageView> => Ty::RefList("Stage"),
    }
}

impl From<Pipeline> for PipelineView {
    fn from(pipeline: Pipeline) -> Self {
        PipelineView {
            id: pipeline.id.0,
            name: pipeline.name,
            entry_stage_id: pipeline.entry_stage_id.0,
            stages: pipeline.stages.into_iter().map(StageView::from).collect(),
        }
    }
}

view! {
    /// A lead in qualification.
    pub struct LeadView as "Lead" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        company: Option<String> => Ty::Text,
        email: Option<String> => Ty::Text,
        phone: Option<String> => Ty::Text,
        title: Option<String> => Ty::Text,
        source: Option<String> => Ty::Text,
        /// The company's industry, size and region (lead routing's territories and the
        /// ideal-customer fit read them).
        industry: Option<String> => Ty::Text,
        employee_count: Option<i64> => Ty::Range(0, 10_000_000),
        region: Option<String> => Ty::Text,
        status: &'static str => Ty::Enum(names(LeadStatus::ALL, LeadStatus::as_str)),
        owner_id: Option<i64> => Ty::Id,
        created_at: String => Ty::Time,
    }
}

impl From<Lead> for LeadView {
    fn from(lead: Lead) -> Self {
        LeadView {
            id: lead.id.0,
            name: lead.name,
            company: lead.company,
            email: lead.email,
            phone: lead.phone,
            title: lead.title,
            source: lead.source,
            industry: lead.industry,
            employee_count: lead.employee_count,
            region: lead.region,
            status: lead.status.as_str(),
            owner_id: lead.owner_id.map(|id| id.0),
            created_at: lead.created_at.to_string(),
        }
    }
}

view! {
    /// An e-mail, meeting, call, note or task, and what it is linked to.
    pub struct ActivityView as "Activity" {
        id: i64 => Ty::Id,
        kind: &'static str => Ty::Enum(names(ActivityKind::ALL, ActivityKind::as_str)),
        direction: &'static str => Ty::Enum(names(Direction::ALL, Direction::as_str)),
        occurred_at: String => Ty::Time,
        logged_at: String => Ty::Time,
        subject: String => Ty::Text,
        body: Option<String> => Ty::Text,
        /// Defaults to `api`.
        source: String => Ty::Text,
        /// Defaults to the viewer.
        user_id: Option<i64> => Ty::Id,
        account_id: Option<i64> => Ty::Id,
        opportunity_id: Option<i64> => Ty::Id,
        contact_ids: Vec<i64> => Ty::IdList,
    }
}

impl From<Activity> for ActivityView {
    fn from(activity: Activity) -> Self {
        ActivityView {
            id: activity.id.0,
            kind: activity.kind.as_str(),
            direction: activity.direction.as_str(),
            occurred_at: activity.occurred_at.to_string(),
            logged_at: activity.logged_at.to_string(),
            subject: activity.subject,
            body: activity.body,
            source: activity.source,
            user_id: activity.user_id.map(|id| id.0),
            account_id: activity.account_id.map(|id| id.0),
            opportunity_id: activity.opportunity_id.map(|id| id.0),
            contact_ids: activity.contact_ids.into_iter().map(|id| id.0).collect(),
        }
    }
}

view! {
    /// A to-do with an owner and perhaps a due date.
    pub struct TaskView as "Task" {
        id: i64 => Ty::Id,
        title: String => Ty::Text,
        /// Defaults to the viewer.
        owner_id: i64 => Ty::Id,
        due_on: Option<String> => Ty::Date,
        /// `true` completes the task, `false` reopens it.
        completed: bool => Ty::Boolean,
        completed_at: Option<String> => Ty::Time,
        account_id: Option<i64> => Ty::Id,
        opportunity_id: Option<i64> => Ty::Id,
        lead_id: Option<i64> => Ty::Id,
        created_at: String => Ty::Time,
    }
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        TaskView {
            id: task.id.0,
            title: task.title,
            owner_id: task.owner_id.0,
            due_on: task.due_on.map(|date| date.to_string()),
            completed: task.completed_at.is_some(),
            completed_at: task.completed_at.map(|at| at.to_string()),
            account_id: task.account_id.map(|id| id.0),
            opportunity_id: task.opportunity_id.map(|id| id.0),
            lead_id: task.lead_id.map(|id| id.0),
            created_at: task.created_at.to_string(),
        }
    }
}

// As its owner sees it later: never the secret, nor its hash.
view! {
    /// An API token.
    pub struct TokenView as "Token" {
        id: i64 => Ty::Id,
        name: String => Ty::Text,
        /// The first characters of the secret, to tell tokens apart.
        prefix: String => Ty::Text,
        created_at: String => Ty::Time,
        last_used_at: Option<String> => Ty::Time,
        revoked_at: Option<String> => Ty::Time,
    }
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at.to_string(),
            last_used_at: token.last_used_at.map(|at| at.to_string()),
            revoked_at: token.revoked_at.map(|at| at.to_string()),
        }
    }
}

view! {
    /// An API token just created, with its secret.
    pub struct NewTokenView as "NewToken" {
        #[serde(flatten)]
        token: TokenView,
        /// The token itself, `pwt_…`: shown once, store it now.
        secret: String => Ty::Text,
    }
}

view! {
    /// One write: who, when, through which edge, which record, and the changed fields before and after.
    pub struct AuditEventView as "AuditEvent" {
        id: i64 => Ty::Id,
        at: String => Ty::Time,
        actor_id: Option<i64> => Ty::Id,
        source: &'static str => Ty::Text,
        record_kind: String => Ty::Text,
        record_id: i64 => Ty::Integer,
        action: String => Ty::Text,
        before: Option<serde_json::Value> => Ty::Object,
        after: Option<serde_json::Value> => Ty::Object,
    }
}

impl From<AuditEvent> for AuditEventView {
    fn from(event: AuditEvent) -> Self {
        let parse = |text: Option<String>| text.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)));
        AuditEventView {
            id: event.id,
            at: event.at.to_string(),
            actor_id: event.actor_id.map(|id| id.0),
            source: event.source.as_str(),
            record_kind: event.record_kind,
            record_id: event.record_id,
            action: event.action,
            before: parse(event.before),
            after: parse(event.after),
        }
    }
}

view! {
    /// The viewer.
    pub struct MeView as "Me" {
        organisation_id: i64 => Ty::Id,
        user: UserView => Ty::Ref("User"),
        authenticated_by: &'static str => Ty::Enum(vec!["session", "token"]),
    }
}
