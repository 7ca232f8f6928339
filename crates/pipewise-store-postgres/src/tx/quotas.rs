//! [`QuotasTx`] for PostgreSQL.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{QuotaSubject, QuotasTx, Result, StoredQuota, sql};

use crate::fields::read;

use super::PgTx;

impl QuotasTx for PgTx<'_> {
    fn put_quota(&mut self, org: OrgId, quota: &StoredQuota) -> Result<Option<StoredQuota>> {
        let replaced = self.delete_quota(org, quota.subject, quota.kind, quota.first)?;
        let (user, team) = quota.subject.columns();
        self.execute(
            "INSERT INTO quota (organisation_id, period_kind, period_first, user_id, team_id, period_last, amount, currency, \
             updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9, $10)",
            &[
                &org.0,
                &quota.kind.code(),
                &quota.first,
                &user,
                &team,
                &quota.last,
                &quota.amount.amount().to_string(),
                &quota.amount.currency().code(),
                &quota.updated_at.to_jiff(),
                &quota.updated_by.map(|id| id.0),
            ],
        )?;
        Ok(replaced)
    }

    fn delete_quota(&mut self, org: OrgId, subject: QuotaSubject, kind: PeriodKind, first: Date) -> Result<Option<StoredQuota>> {
        let (user, team) = subject.columns();
        let found = self.one(sql::SELECT_QUOTA_POSTGRES, &[&org.0, &kind.code(), &first, &user, &team], read)?;
        if found.is_some() {
            self.execute(sql::DELETE_QUOTA, &[&org.0, &kind.code(), &first, &user, &team])?;
        }
        Ok(found)
    }

    fn quotas_overlapping(&mut self, org: OrgId, first: Date, last: Date) -> Result<Vec<StoredQuota>> {
        self.collect(sql::SELECT_QUOTAS_OVERLAPPING_POSTGRES, &[&org.0, &first, &last], read)
    }

    fn quotas_of(&mut self, org: OrgId, subject: QuotaSubject, first: Date, last: Date) -> Result<Vec<StoredQuota>> {
        let (user, team) = subject.columns();
        self.collect(sql::SELECT_QUOTAS_OF_POSTGRES, &[&org.0, &user, &team, &first, &last], read)
    }
}
