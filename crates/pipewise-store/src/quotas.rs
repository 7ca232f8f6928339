//! Quotas ([`QuotasTx`]): one amount per person or team per fiscal period.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;

use crate::Result;

/// Whose quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuotaSubject {
    User(UserId),
    Team(TeamId),
}

impl QuotaSubject {
    /// The `(user_id, team_id)` columns: one of them null.
    pub fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            QuotaSubject::User(user) => (Some(user.0), None),
            QuotaSubject::Team(team) => (None, Some(team.0)),
        }
    }
}

/// A quota as stored: its subject, its period (kind and days) and amount, and the last write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredQuota {
    pub subject: QuotaSubject,
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
    pub amount: Money,
    pub updated_at: Timestamp,
    pub updated_by: Option<UserId>,
}

/// A transaction's reads and writes of quotas.
pub trait QuotasTx {
    /// Creates the quota, or replaces the one of the same subject, kind and first day; returns the
    /// one it replaced.
    fn put_quota(&mut self, org: OrgId, quota: &StoredQuota) -> Result<Option<StoredQuota>>;
    /// Removes the quota of that subject, kind and first day; returns it.
    fn delete_quota(&mut self, org: OrgId, subject: QuotaSubject, kind: PeriodKind, first: Date) -> Result<Option<StoredQuota>>;
    /// Every quota whose period overlaps `first..=last`, by first day, kind and subject.
    fn quotas_overlapping(&mut self, org: OrgId, first: Date, last: Date) -> Result<Vec<StoredQuota>>;
    /// [`QuotasTx::quotas_overlapping`] of one subject.
    fn quotas_of(&mut self, org: OrgId, subject: QuotaSubject, first: Date, last: Date) -> Result<Vec<StoredQuota>>;
}
