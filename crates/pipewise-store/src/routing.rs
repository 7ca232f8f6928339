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
