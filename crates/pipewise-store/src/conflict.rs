//! The words of the conflicts ([`StoreError::Conflict`](crate::StoreError::Conflict)) both engines
//! report, written once so a conflict reads the same on either.

use pipewise_core::money::Currency;
use pipewise_core::{AccountId, UserId};

/// `new account: domains: acme.com already belongs to another account`, or `account 7: …` when
/// the account is stored already.
pub fn domain_taken(account: Option<AccountId>, domain: &str) -> String {
    match account {
        None => format!("new account: domains: {domain} already belongs to another account"),
        Some(account) => format!("account {account}: domains: {domain} already belongs to another account"),
    }
}

/// `new user: email: kim@acme.com already belongs to another user`, or `user 7: …` when the
/// user is stored already.
pub fn email_taken(user: Option<UserId>, email: &str) -> String {
    match user {
        None => format!("new user: email: {email} already belongs to another user"),
        Some(user) => format!("user {user}: email: {email} already belongs to another user"),
    }
}

/// Rates quoted against `base` where the organisation's are quoted against `stored`.
pub fn other_rate_base(stored: &str, base: Currency) -> String {
    format!("exchange rates: base: the organisation's rates are quoted against {stored}, not {base}")
}
