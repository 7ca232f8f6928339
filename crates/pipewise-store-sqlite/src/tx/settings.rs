//! [`SettingsTx`] for SQLite: exchange rates and health settings.

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::*;
use pipewise_store::{Result, SettingsTx, StoreError, StoredHealthSettings};
use rusqlite::{OptionalExtension, params};

use crate::rows::{corrupt, date, decimal, parsed, timestamp};

use super::{SqliteTx, db_err, identity};

impl SettingsTx for SqliteTx<'_> {
    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
        let stored: Option<String> = self
            .db()
            .prepare_cached("SELECT base FROM exchange_rate WHERE organisation_id = ?1 AND base <> ?2 LIMIT 1")
            .and_then(|mut statement| statement.query_row(params![org.0, base.code()], |row| row.get(0)).optional())
            .map_err(db_err)?;
        if let Some(stored) = stored {
            return Err(StoreError::Conflict(format!(
                "exchange rates: base: the organisation's rates are quoted against {stored}, not {base}"
            )));
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
        let rows = self.collect(
            "SELECT base, currency, rate_date, per_base FROM exchange_rate WHERE organisation_id = ?1 ORDER BY currency, rate_date",
            [org.0],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?)),
            identity,
        )?;
        let mut table: Option<RateTable> = None;
        for (base, currency, rate_date, per_base) in rows {
            let base = parsed("exchange_rate", &base, Currency::from_code)?;
            let table = table.get_or_insert_with(|| RateTable::new(base));
            if table.base() != base {
                return Err(corrupt("exchange_rate", format!("rates quoted against both {} and {base}", table.base())));
            }
            let currency = parsed("exchange_rate", &currency, Currency::from_code)?;
            let rate_date = date("exchange_rate", Some(rate_date))?.expect("a date was given");
            table.insert(currency, rate_date, decimal("exchange_rate", &per_base)?);
        }
        Ok(table)
    }

    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>> {
        self.one(
            "SELECT thresholds, updated_at, updated_by FROM health_settings WHERE organisation_id = ?1",
            params![org.0],
            |row| {
                Ok(StoredHealthSettings {
                    document: row.get(0)?,
                    updated_at: timestamp(row.get(1)?),
                    updated_by: row.get::<_, Option<i64>>(2)?.map(UserId),
                })
            },
            identity,
        )
    }

    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO health_settings (organisation_id, thresholds, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (organisation_id) DO UPDATE
                 SET thresholds = excluded.thresholds, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .and_then(|mut statement| {
                statement.execute(params![org.0, settings.document, settings.updated_at.as_micros(), settings.updated_by.map(|id| id.0)])
            })
            .map_err(db_err)?;
        Ok(())
    }
}
