//! [`SettingsTx`] for SQLite: exchange rates and health settings.

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::*;
use pipewise_store::rows::{Columns, add_rate};
use pipewise_store::{Result, SettingsTx, StoreError, StoredHealthSettings, conflict, sql};
use rusqlite::params;

use crate::rows::{Fields, read};

use super::{SqliteTx, db_err};

impl SettingsTx for SqliteTx<'_> {
    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
        let stored = self
            .one(sql::SELECT_OTHER_RATE_BASE, params![org.0, base.code()], |row| Fields::new(row, "exchange_rate").get::<String>("base"))?;
        if let Some(stored) = stored {
            return Err(StoreError::Conflict(conflict::other_rate_base(&stored, base)));
        }
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT OR REPLACE INTO exchange_rate (organisation_id, base, currency, rate_date, per_base) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db_err)?;
        for (currency, date, per_base) in rates {
            statement.execute(params![org.0, base.code(), currency.code(), date.to_string(), per_base.to_string()]).map_err(db_err)?;
        }
        Ok(())
    }

    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>> {
        let mut table: Option<RateTable> = None;
        self.collect(
            "SELECT base, currency, rate_date, per_base FROM exchange_rate WHERE organisation_id = ?1 ORDER BY currency, rate_date",
            [org.0],
            |row| add_rate(&mut table, &Fields::new(row, "exchange_rate")),
        )?;
        Ok(table)
    }

    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>> {
        self.one(sql::SELECT_HEALTH_SETTINGS, [org.0], read)
    }

    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()> {
        self.execute(
            sql::PUT_HEALTH_SETTINGS,
            params![org.0, settings.document, settings.updated_at.as_micros(), settings.updated_by.map(|id| id.0)],
        )?;
        Ok(())
    }
}
