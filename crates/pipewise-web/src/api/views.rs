//! What the API sends: one serde type per record, built from the domain types (which carry no
//! serde derives). Conventions: snake_case names; ids are numbers; money is one string, the ISO
//! 4217 code and the exact decimal amount at the currency's scale (`"USD 1234.50"`, the same
//! form the API accepts); times are RFC 3339 in UTC; dates are `YYYY-MM-DD`; an unset value is
//! `null`, never absent.

use pipewise_app::{ApiToken, AuditEvent};
use pipewise_core::history::HistoryEvent;
use pipewise_core::opportunity::Opportunity;
use pipewise_core::pipeline::{Pipeline, Stage};
use pipewise_core::records::*;
use pipewise_core::user::User;
use serde::Serialize;

/// One page of a list: `next_cursor` is `null` on the last page.
#[derive(Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
pub struct OpportunityView {
    pub id: i64,
    pub name: String,
    pub account_id: Option<i64>,
    pub owner_id: i64,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub amount: Option<String>,
    pub close_date: Option<String>,
    pub forecast_category: &'static str,
    pub next_step: Option<String>,
    pub status: &'static str,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
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

#[derive(Serialize)]
pub struct HistoryEventView {
    pub seq: i64,
    pub opportunity_id: i64,
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
    pub at: String,
    pub actor_id: Option<i64>,
    pub source: &'static str,
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

#[derive(Serialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub manager_id: Option<i64>,
    pub team_id: Option<i64>,
    pub time_zone: String,
    pub locale: &'static str,
    pub active: bool,
    pub created_at: String,
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

#[derive(Serialize)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    pub manager_id: Option<i64>,
}

impl From<Team> for TeamView {
    fn from(team: Team) -> Self {
        TeamView { id: team.id.0, name: team.name, manager_id: team.manager_id.map(|id| id.0) }
    }
}

#[derive(Serialize)]
pub struct AccountView {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub region: Option<String>,
    pub owner_id: Option<i64>,
    pub created_at: String,
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

#[derive(Serialize)]
pub struct ContactView {
    pub id: i64,
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<i64>,
    pub created_at: String,
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

#[derive(Serialize)]
pub struct StageView {
    pub id: i64,
    pub position: i32,
    pub name_en: String,
    pub name_ko: String,
    pub kind: &'static str,
    /// Percent as an exact decimal string.
    pub win_probability: String,
    pub forecast_category: &'static str,
    pub counts_in_metrics: bool,
    pub rotting_days: Option<i32>,
    /// Set when the stage is archived: it keeps its deals but takes no new ones.
    pub archived_at: Option<String>,
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

#[derive(Serialize)]
pub struct PipelineView {
    pub id: i64,
    pub name: String,
    pub entry_stage_id: i64,
    pub stages: Vec<StageView>,
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

#[derive(Serialize)]
pub struct LeadView {
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub source: Option<String>,
    pub status: &'static str,
    pub owner_id: Option<i64>,
    pub created_at: String,
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
            status: lead.status.as_str(),
            owner_id: lead.owner_id.map(|id| id.0),
            created_at: lead.created_at.to_string(),
        }
    }
}

#[derive(Serialize)]
pub struct ActivityView {
    pub id: i64,
    pub kind: &'static str,
    pub direction: &'static str,
    pub occurred_at: String,
    pub logged_at: String,
    pub subject: String,
    pub body: Option<String>,
    pub source: String,
    pub user_id: Option<i64>,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub contact_ids: Vec<i64>,
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

#[derive(Serialize)]
pub struct TaskView {
    pub id: i64,
    pub title: String,
    pub owner_id: i64,
    pub due_on: Option<String>,
    pub completed: bool,
    pub completed_at: Option<String>,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub created_at: String,
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

/// An API token as its owner sees it later: never the secret, nor its hash.
#[derive(Serialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
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

/// A token just created: the only time its secret is shown.
#[derive(Serialize)]
pub struct NewTokenView {
    #[serde(flatten)]
    pub token: TokenView,
    pub secret: String,
}

#[derive(Serialize)]
pub struct AuditEventView {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub source: &'static str,
    pub record_kind: String,
    pub record_id: i64,
    pub action: String,
    /// The changed fields before and after, as JSON objects.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
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

/// Who is asking.
#[derive(Serialize)]
pub struct MeView {
    pub organisation_id: i64,
    pub user: UserView,
    /// `session` or `token`.
    pub authenticated_by: &'static str,
}
