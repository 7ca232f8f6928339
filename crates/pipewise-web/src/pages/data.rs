//! What most pages read besides their own records: the organisation, its users, accounts,
//! pipelines and exchange rates, with the helpers that turn ids into names and amounts into
//! totals.

use pipewise_app as app;
use std::collections::BTreeMap;

use pipewise_analytics::HealthThresholds;
use pipewise_app::{Organisation, Tx};
use pipewise_core::access::DealScope;
use pipewise_core::fx::RateTable;
use pipewise_core::money::{Decimal, MoneyBag};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::pipeline::{Pipeline, Stage};
use pipewise_core::records::Account;
use pipewise_core::user::{Locale, User};
use pipewise_core::*;

use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub struct OrgData {
    pub organisation: Organisation,
    pub rates: RateTable,
    /// In name order.
    pub users: Vec<User>,
    /// By id, so that a list whose sort column ties comes out the same on every request.
    pub accounts: BTreeMap<AccountId, Account>,
    /// Whether `accounts` holds every account of the organisation (else only those a page
    /// names, and an account select is a type-ahead picker).
    pub every_account: bool,
    pub pipelines: Vec<Pipeline>,
    /// Today, for exchange rates.
    pub today: Date,
    /// The organisation's health thresholds (its settings, else the defaults): every health
    /// figure and badge of a page uses them.
    pub health_thresholds: HealthThresholds,
}

impl OrgData {
    /// The organisation, its users, pipelines, rates and health thresholds; `accounts` stays
    /// empty (a page adds those it names, [`OrgData::load_accounts`]), which spares reading every
    /// account (100,000 of them at the scale data set's size) on every request.
    pub fn load_without_accounts(tx: &mut Tx, org: OrgId, now: Timestamp) -> Result<OrgData, AppError> {
        let organisation = app::users::organisation(tx, org)?.ok_or(AppError::NotFound { kind: "organisation", id: org.to_string() })?;
        let rates = app::records::rate_table(tx, org)?.unwrap_or_else(|| RateTable::new(organisation.reporting_currency));
        let mut users = app::users::users(tx, org)?;
        users.sort_by_key(|user| user.name.to_lowercase());
        let pipelines = app::records::pipelines(tx, org)?;
        let health_thresholds = app::settings::health_thresholds(tx, org)?;
        let today = organisation.time_zone.date_of(now);
        Ok(OrgData { organisation, rates, users, accounts: BTreeMap::new(), every_account: false, pipelines, today, health_thresholds })
    }

    /// For a page with an account select: every account when the organisation has at most
    /// [`PICKER_AT`](super::list::PICKER_AT) (the select offers them all), else none more (the
    /// select is a type-ahead picker); see `every_account`.
    pub fn load_accounts_for_select(&mut self, tx: &mut Tx) -> Result<(), AppError> {
        if self.every_account {
            return Ok(());
        }
        let count = app::records::account_count(tx, self.organisation.id)?;
        if count <= super::list::PICKER_AT as i64 {
            self.accounts = app::records::accounts(tx, self.organisation.id)?.into_iter().map(|account| (account.id, account)).collect();
            self.every_account = true;
        }
        Ok(())
    }

    /// Adds the accounts among `ids` that are not loaded yet: what the rows of a page name.
    pub fn load_accounts(&mut self, tx: &mut Tx, ids: impl IntoIterator<Item = AccountId>) -> Result<(), AppError> {
        let wanted: Vec<AccountId> =
            ids.into_iter().filter(|id| !self.accounts.contains_key(id)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for account in app::records::accounts_by_ids(tx, self.organisation.id, &wanted)? {
            self.accounts.insert(account.id, account);
        }
        Ok(())
    }

    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    pub fn user_name(&self, id: UserId) -> String {
        self.user(id).map_or_else(|| format!("#{id}"), |user| user.name.clone())
    }

    pub fn account_name(&self, id: Option<AccountId>) -> Option<&str> {
        id.and_then(|id| self.accounts.get(&id)).map(|account| account.name.as_str())
    }

    pub fn pipeline(&self, id: PipelineId) -> Option<&Pipeline> {
        self.pipelines.iter().find(|pipeline| pipeline.id == id)
    }

    pub fn stage(&self, id: StageId) -> Option<&Stage> {
        self.pipelines.iter().flat_map(|pipeline| &pipeline.stages).find(|stage| stage.id == id)
    }

    pub fn stage_name(&self, locale: Locale, id: StageId) -> String {
        self.stage(id).map_or_else(|| format!("#{id}"), |stage| i18n::stage_name(locale, stage).to_owned())
    }

    /// `amount` in the reporting currency today, if a rate allows.
    pub fn converted(&self, amount: Money) -> Option<Money> {
        self.rates.convert(amount, self.organisation.reporting_currency, self.today).ok()
    }

    /// The total of `amounts`: in the reporting currency when every amount converts today,
    /// else per currency, never summed raw.
    pub fn total(&self, amounts: impl IntoIterator<Item = Money> + Clone) -> Total {
        match self.rates.total(amounts.clone(), self.organisation.reporting_currency, self.today) {
            Ok(total) => Total::Converted(total),
            Err(_) => {
                let mut bag = MoneyBag::default();
                amounts.into_iter().for_each(|amount| bag.add(amount));
                Total::PerCurrency(bag)
            }
        }
    }

    /// The users whose deals the viewer may see, in name order (for owner filters).
    pub fn visible_owners(&self, viewer: &Viewer) -> Vec<&User> {
        match viewer.access.deal_scope() {
            DealScope::All => self.users.iter().filter(|user| user.active).collect(),
            DealScope::Owners { owners, .. } => self.users.iter().filter(|user| owners.contains(&user.id)).collect(),
        }
    }

    /// The users a deal may be given to by the viewer.
    pub fn assignable_owners(&self, viewer: &Viewer) -> Vec<&User> {
        self.users.iter().filter(|user| user.active && viewer.access.can_assign_deal_to(user.id)).collect()
    }
}

pub enum Total {
    Converted(Money),
    PerCurrency(MoneyBag),
}

impl Total {
    /// The exact text.
    pub fn exact(&self, locale: Locale) -> String {
        match self {
            Total::Converted(money) => i18n::money(locale, *money),
            Total::PerCurrency(bag) => i18n::money_bag(locale, bag),
        }
    }

    /// A short text for headers: compact when converted, per currency otherwise.
    pub fn compact(&self, locale: Locale) -> String {
        match self {
            Total::Converted(money) => i18n::money_compact(locale, *money),
            Total::PerCurrency(bag) => bag.totals().map(|money| i18n::money_compact(locale, money)).collect::<Vec<_>>().join(" + "),
        }
    }

    /// A number to sort by: the converted amount, or the largest per-currency figure.
    pub fn sort_value(&self) -> Decimal {
        match self {
            Total::Converted(money) => money.amount(),
            Total::PerCurrency(bag) => bag.totals().map(Money::amount).max().unwrap_or_default(),
        }
    }

    pub fn is_converted(&self) -> bool {
        matches!(self, Total::Converted(_))
    }
}

/// The label of an enum-like value: `t("status.open")`.
pub fn label(locale: Locale, prefix: &str, value: &str) -> String {
    let key = format!("{prefix}.{value}");
    if i18n::has(&key) { t(locale, &key).to_owned() } else { value.to_owned() }
}

/// Whether the viewer may change `deal` (they can see it: it is theirs, their team's, or shared
/// with them).
pub fn can_change(viewer: &Viewer, deal: &Opportunity) -> bool {
    let shared = !viewer.access.can_read_deal(deal.owner_id, false);
    viewer.access.can_write_deal(deal.owner_id, shared)
}
