//! The daily digest of at-risk deals a manager gets by mail (SPEC C11, issue 14 point 6): the
//! open deals of their tree with a health flag that asks for something today (the flags and
//! reasons of `/today` and the board), most pressing first, grouped by owner, in the manager's
//! language. `pipewise_app::digests` says who is due; the binary sends.

use std::collections::BTreeMap;

use pipewise_app as app;
use pipewise_app::OpportunityFilter;
use pipewise_core::opportunity::Status;
use pipewise_core::user::User;
use pipewise_core::*;

use super::dashboard::badges;
use super::data::OrgData;
use super::today::ACTION_FLAGS;
use crate::AppState;
use crate::error::AppError;
use crate::i18n::{self, t, tf};

/// Deals listed at most; the rest are counted.
const LISTED: usize = 60;

/// An at-risk deal: its most pressing flag's rank, larger deals first, and its flags.
type AtRisk<'a> = (usize, std::cmp::Reverse<Option<money::Decimal>>, &'a opportunity::Opportunity, Vec<&'a super::dashboard::Badge>);

/// One manager's digest, worded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub to: String,
    pub name: String,
    pub subject: String,
    /// Plain text, lines ending in `\n`.
    pub text: String,
    /// Deals at risk (listed or not); none means nothing is sent.
    pub deals: usize,
}

/// The digest `manager` gets on `today`; links start with `base_url` when the server knows its
/// public address.
pub fn compose(state: &AppState, org: OrgId, manager: &User, today: Date, base_url: Option<&str>) -> Result<Digest, AppError> {
    let locale = manager.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let access = app::access::access_for(&mut tx, org, Some(manager.id))?;
    let data = OrgData::load_without_accounts(&mut tx, org, now)?;
    let filter = OpportunityFilter { status: Some(Status::Open), ..OpportunityFilter::default() };
    let open = app::deals::opportunities_for(&mut tx, org, &access, &filter)?;
    let account_ids: Vec<AccountId> =
        open.iter().filter_map(|deal| deal.account_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let accounts: BTreeMap<AccountId, String> =
        app::records::accounts_by_ids(&mut tx, org, &account_ids)?.into_iter().map(|account| (account.id, account.name)).collect();
    drop(tx);
    let ids: Vec<OpportunityId> = open.iter().map(|deal| deal.id).collect();
    let flagged = badges(state, org, locale, &ids, today, &data.health_thresholds)?;
    let mut at_risk: Vec<AtRisk<'_>> = open
        .iter()
        .filter_map(|deal| {
            let shown: Vec<_> = flagged.get(&deal.id).into_iter().flatten().filter(|badge| ACTION_FLAGS.contains(&badge.code)).collect();
            let rank = shown.iter().filter_map(|badge| ACTION_FLAGS.iter().position(|code| *code == badge.code)).min()?;
            Some((rank, std::cmp::Reverse(deal.amount.map(|money| money.amount())), deal, shown))
        })
        .collect();
    at_risk.sort_by_key(|(rank, larger_first, deal, _)| (*rank, *larger_first, deal.id));
    let count = at_risk.len();

    // Grouped by owner: the owner with the most pressing deal first.
    let names: BTreeMap<UserId, &str> = data.users.iter().map(|user| (user.id, user.name.as_str())).collect();
    let mut owners: Vec<(UserId, Vec<_>)> = Vec::new();
    for entry in at_risk.into_iter().take(LISTED) {
        match owners.iter_mut().find(|(owner, _)| *owner == entry.2.owner_id) {
            Some((_, deals)) => deals.push(entry),
            None => owners.push((entry.2.owner_id, vec![entry])),
        }
    }
    let link = |path: String| base_url.map(|base| format!("{}{path}", base.trim_end_matches('/')));
    let mut text = String::new();
    let mut line = |value: String| {
        text.push_str(&value);
        text.push('\n');
    };
    line(tf(locale, "digest.greeting", &[("name", &manager.name)]));
    line(String::new());
    line(tf(locale, "digest.intro", &[("date", &i18n::date(locale, today)), ("count", &count.to_string())]));
    for (owner, deals) in &owners {
        line(String::new());
        line(tf(locale, "digest.owner", &[("name", names.get(owner).copied().unwrap_or("?")), ("count", &deals.len().to_string())]));
        for (_, _, deal, shown) in deals {
            let mut parts = vec![deal.name.clone()];
            parts.extend(deal.account_id.and_then(|id| accounts.get(&id).cloned()));
            parts.extend(deal.amount.map(|money| i18n::money(locale, money)));
            parts.extend(deal.close_date.map(|date| tf(locale, "digest.closes", &[("date", &i18n::date(locale, date))])));
            line(format!("  • {}", parts.join(" · ")));
            for badge in shown {
                // A reason may already start with its flag's name ("Going dark: nothing inbound…").
                if badge.reason.starts_with(&badge.label) {
                    line(format!("    {}", badge.reason));
                } else {
                    line(format!("    {}: {}", badge.label, badge.reason));
                }
            }
            if let Some(url) = link(format!("/opportunities/{}", deal.id.0)) {
                line(format!("    {url}"));
            }
        }
        if let Some(url) = link(format!("/today?user={}", owner.0)) {
            line(tf(locale, "digest.their_day", &[("url", &url)]));
        }
    }
    if count > LISTED {
        line(String::new());
        line(tf(locale, "digest.more", &[("count", &(count - LISTED).to_string())]));
    }
    line(String::new());
    line("-- ".to_owned());
    line(t(locale, "digest.footer").to_owned());
    Ok(Digest {
        to: manager.email.clone(),
        name: manager.name.clone(),
        subject: tf(locale, "digest.subject", &[("count", &count.to_string()), ("date", &i18n::date(locale, today))]),
        text,
        deals: count,
    })
}
