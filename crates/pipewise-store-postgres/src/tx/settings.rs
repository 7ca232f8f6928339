//! [`SettingsTx`] for PostgreSQL: exchange rates and health settings.

use std::collections::BTreeMap;

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::*;
use pipewise_store::rows::{Columns, add_rate};
use pipewise_store::{Result, SettingsTx, StoreError, StoredHealthSettings, conflict, sql};

use crate::fields::{Fields, read};

use super::PgTx;

impl SettingsTx for PgTx<'_> {
    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
        if rates.is_empty() {
            return Ok(());
        }
        // A rate table has one base; rates quoted against another cannot sit beside them.
        let other_base = self.query_opt(sql::SELECT_OTHER_RATE_BASE, &[&org.0, &base.code()])?;
        if let Some(row) = other_base {
            let stored: String = Fields::new(&row, "exchange_rate").get("base")?;
            return Err(StoreError::Conflict(conflict::other_rate_base(&stored, base)));
        }
        // One statement may not upsert a key twice: the last rate given for a day wins.
        let mut latest: BTreeMap<(&str, Date), Decimal> = BTreeMap::new();
        for (currency, date, per_base) in rates {
            latest.insert((currency.code(), *date), *per_base);
        }
        let currencies: Vec<&str> = latest.keys().map(|(code, _)| *code).collect();
        let dates: Vec<Date> = latest.keys().map(|(_, date)| *date).collect();
        let per_bases: Vec<String> = latest.values().map(Decimal::to_string).collect();
        self.execute(
            "INSERT INTO exchange_rate (organisation_id, base, currency, rate_date, per_base) \
             SELECT $1::bigint, $2::text, rate.currency, rate.rate_date, rate.per_base::numeric \
             FROM unnest($3::text[], $4::date[], $5::text[]) AS rate (currency, rate_date, per_base) \
             ON CONFLICT (organisation_id, currency, rate_date) DO UPDATE SET base = excluded.base, per_base = excluded.per_base",
            &[&org.0, &base.code(), &currencies, &dates, &per_bases],
        )?;
        Ok(())
    }

    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>> {
        let rows = self.query(
            "SELECT base, currency, rate_date, per_base::text AS per_base FROM exchange_rate \
             WHERE organisation_id = $1 ORDER BY currency, rate_date",
            &[&org.0],
        )?;
        let mut table: Option<RateTable> = None;
        for row in &rows {
            add_rate(&mut table, &Fields::new(row, "exchange_rate"))?;
        }
        Ok(table)
    }

    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>> {
        self.one(sql::SELECT_HEALTH_SETTINGS, &[&org.0], read)
    }

    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()> {
        self.execute(
            sql::PUT_HEALTH_SETTINGS,
            &[&org.0, &settings.document, &settings.updated_at.to_jiff(), &settings.updated_by.map(|id| id.0)],
        )?;
        Ok(())
    }
}
