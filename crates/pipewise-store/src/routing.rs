//! Lead routing ([`LeadRoutingTx`]): an organisation's routing rules (JSON the application layer
//! writes and reads) and how each lead was scored and given an owner when it came in.

use pipewise_core::*;

use crate::Result;
use crate::rows::{Columns, FromRow};

/// How a lead was scored and routed when it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadRoute {
    pub lead_id: LeadId,
    /// Its fit against the ideal customer profile then, 0 to 100.
    pub fit_score: i32,
    /// Who routing gave it to; none when nobody could take it or it came with an owner.
    pub routed_to: Option<UserId>,
    /// The territory whose rule sent it; none for the pool.
    pub territory: Option<String>,
    pub routed_at: Timestamp,
}

/// A transaction's reads and writes of lead routing.
pub trait LeadRoutingTx {
    /// The organisation's routing rules as stored (JSON), if it has any.
    fn lead_routing(&mut self, org: OrgId) -> Result<Option<String>>;
    /// Creates or replaces the organisation's routing rules.
    fn put_lead_routing(&mut self, org: OrgId, rules: &str, at: Timestamp) -> Result<()>;
    /// Records (or replaces) how a lead was scored and routed.
    fn put_lead_route(&mut self, org: OrgId, route: &LeadRoute) -> Result<()>;
    /// The routes of leads that came in at or after `since`, in lead order.
    fn lead_routes(&mut self, org: OrgId, since: Timestamp) -> Result<Vec<LeadRoute>>;
    fn lead_route(&mut self, org: OrgId, lead: LeadId) -> Result<Option<LeadRoute>>;
    /// Records a contact attempt (`id` ignored).
    fn put_lead_attempt(&mut self, org: OrgId, attempt: &LeadAttempt) -> Result<()>;
    /// The attempts on `lead` (every lead's with `None`), by lead then time.
    fn lead_attempts(&mut self, org: OrgId, lead: Option<LeadId>) -> Result<Vec<LeadAttempt>>;
    /// Creates or replaces a lead's qualification.
    fn put_lead_qualification(&mut self, org: OrgId, qualification: &StoredQualification) -> Result<()>;
    fn lead_qualification(&mut self, org: OrgId, lead: LeadId) -> Result<Option<StoredQualification>>;
}

/// A lead's qualification as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredQualification {
    pub lead_id: LeadId,
    /// JSON: each question's key and its answer's.
    pub answers: String,
    pub score: i32,
    /// `qualified`, `not_a_fit` or `keep_qualifying`.
    pub verdict: String,
    pub updated_by: Option<UserId>,
    pub updated_at: Timestamp,
}

/// A row of the `lead_qualification` table (every column but the organisation).
impl FromRow for StoredQualification {
    const TABLE: &'static str = "lead_qualification";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(StoredQualification {
            lead_id: LeadId(fields.key("lead_id")?),
            answers: fields.get("answers")?,
            score: fields.get("score")?,
            verdict: fields.get("verdict")?,
            updated_by: fields.get::<Option<i64>>("updated_by")?.map(UserId),
            updated_at: fields.get("updated_at")?,
        })
    }
}

/// A contact attempt on a lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadAttempt {
    pub id: i64,
    pub lead_id: LeadId,
    pub user_id: Option<UserId>,
    /// `call`, `email`, `message` or `last_chance`.
    pub kind: String,
    pub reached: bool,
    pub at: Timestamp,
}

/// A row of the `lead_attempt` table (every column but the organisation).
impl FromRow for LeadAttempt {
    const TABLE: &'static str = "lead_attempt";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(LeadAttempt {
            id: fields.key("attempt_id")?,
            lead_id: LeadId(fields.get("lead_id")?),
            user_id: fields.get::<Option<i64>>("user_id")?.map(UserId),
            kind: fields.get("kind")?,
            reached: fields.get("reached")?,
            at: fields.get("attempted_at")?,
        })
    }
}

/// A row of the `lead_route` table (every column but the organisation).
impl FromRow for LeadRoute {
    const TABLE: &'static str = "lead_route";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(LeadRoute {
            lead_id: LeadId(fields.key("lead_id")?),
            fit_score: fields.get("fit_score")?,
            routed_to: fields.get::<Option<i64>>("routed_to")?.map(UserId),
            territory: fields.get("territory")?,
            routed_at: fields.get("routed_at")?,
        })
    }
}

/// A web form that creates leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadForm {
    pub id: i64,
    pub organisation_id: OrgId,
    /// Public: it is written into the web page the form is on.
    pub key: String,
    pub name: String,
    /// The source its leads get.
    pub source: String,
    /// Where the visitor goes after sending; a thank-you page when none.
    pub redirect_url: Option<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// One submission of a form and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormSubmission {
    pub form_id: i64,
    pub client_address: String,
    /// `accepted`, `spam`, `limited`, `invalid` or `duplicate`.
    pub outcome: String,
    pub email: Option<String>,
    pub lead_id: Option<LeadId>,
    pub at: Timestamp,
}

/// A transaction's reads and writes of lead forms.
pub trait LeadFormTx {
    /// Stores a new form and returns its id.
    fn put_lead_form(&mut self, org: OrgId, form: &LeadForm) -> Result<i64>;
    /// The organisation's forms in id order.
    fn lead_forms(&mut self, org: OrgId) -> Result<Vec<LeadForm>>;
    /// The form with this public key, whichever organisation's.
    fn lead_form_by_key(&mut self, key: &str) -> Result<Option<LeadForm>>;
    fn set_lead_form_active(&mut self, org: OrgId, id: i64, active: bool) -> Result<bool>;
    fn put_form_submission(&mut self, org: OrgId, submission: &FormSubmission) -> Result<()>;
    /// How many submissions to the organisation's forms came from `client_address` since `since`.
    fn form_submissions_from(&mut self, org: OrgId, client_address: &str, since: Timestamp) -> Result<i64>;
    /// Whether a submission with `email` was accepted by form `form` since `since`.
    fn form_accepted_email(&mut self, form: i64, email: &str, since: Timestamp) -> Result<bool>;
    /// Each outcome's count of form `form`'s submissions since `since`.
    fn form_outcomes(&mut self, form: i64, since: Timestamp) -> Result<Vec<(String, i64)>>;
    /// Forgets form `form`'s submissions before `before` (the leads they made stay).
    fn prune_form_submissions(&mut self, form: i64, before: Timestamp) -> Result<()>;
}

/// A row of the `lead_form` table (every column).
impl FromRow for LeadForm {
    const TABLE: &'static str = "lead_form";
    fn from_row(fields: &mut impl Columns) -> Result<Self> {
        Ok(LeadForm {
            id: fields.key("form_id")?,
            organisation_id: OrgId(fields.get("organisation_id")?),
            key: fields.get("form_key")?,
            name: fields.get("name")?,
            source: fields.get("source")?,
            redirect_url: fields.get("redirect_url")?,
            active: fields.get("active")?,
            created_at: fields.get("created_at")?,
        })
    }
}
