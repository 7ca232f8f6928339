//! Who a message or a meeting is with: each address matched to a colleague, a contact, or an
//! account by its company domain, and the direction that follows.

use pipewise_core::records::Direction;
use pipewise_core::{AccountId, ContactId, UserId};
use std::collections::{HashMap, HashSet};

use crate::domains::{Suffixes, company_domain};
use crate::message::Party;

/// What the organisation knows of addresses, built by the application from its records.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Users by lower-cased address.
    pub colleagues: HashMap<String, UserId>,
    /// The organisation's own registrable domains (those of its users' addresses, free mail
    /// left out).
    pub own_domains: HashSet<String>,
    /// Contacts by lower-cased address, with their account.
    pub contacts: HashMap<String, (ContactId, Option<AccountId>)>,
    /// Accounts by company domain (from their websites); an account per domain.
    pub accounts: HashMap<String, AccountId>,
}

/// What a message or meeting is linked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    pub direction: Direction,
    /// The colleague it is the activity of: the sender of outbound or internal mail, the first
    /// colleague among the recipients of inbound mail.
    pub user: Option<UserId>,
    pub contacts: Vec<ContactId>,
    /// The account of the first matched contact, else of the first outside company domain.
    pub account: Option<AccountId>,
    /// Outside addresses that matched nothing (candidates for new contacts).
    pub unknown: Vec<String>,
}

impl Directory {
    /// Notes a user's address: a colleague, and (unless free mail) an own domain.
    pub fn add_colleague(&mut self, address: &str, user: UserId) {
        let address = address.trim().to_lowercase();
        if let Some(domain) = address.rsplit_once('@').and_then(|(_, domain)| company_domain(domain)) {
            self.own_domains.insert(domain);
        }
        self.colleagues.insert(address, user);
    }

    /// Notes an account's website or domain; the first account of a domain keeps it.
    pub fn add_account(&mut self, website: &str, account: AccountId) {
        let host = website.trim().trim_start_matches("https://").trim_start_matches("http://");
        let host = host.split(['/', '?', '#', ':']).next().unwrap_or(host);
        if let Some(domain) = company_domain(host) {
            self.accounts.entry(domain).or_insert(account);
        }
    }

    /// Whether `party` is one of the organisation's people.
    pub fn is_colleague(&self, party: &Party) -> bool {
        self.colleagues.contains_key(&party.address)
            || Suffixes::builtin().registrable(party.domain()).is_some_and(|domain| self.own_domains.contains(&domain))
    }

    /// Matches a message from `from` to `recipients` (or a meeting organised by `from`).
    pub fn classify(&self, from: Option<&Party>, recipients: &[Party]) -> Matched {
        let sender_inside = from.is_some_and(|from| self.is_colleague(from));
        let everyone_inside = recipients.iter().all(|party| self.is_colleague(party));
        let direction = match (sender_inside, everyone_inside) {
            (true, true) => Direction::Internal,
            (true, false) => Direction::Outbound,
            (false, _) => Direction::Inbound,
        };
        let user = match sender_inside {
            true => from.and_then(|from| self.colleagues.get(&from.address)).copied(),
            false => recipients.iter().find_map(|party| self.colleagues.get(&party.address)).copied(),
        };
        let outside: Vec<&Party> = from.into_iter().chain(recipients).filter(|party| !self.is_colleague(party)).collect();
        let mut contacts = Vec::new();
        let mut account = None;
        let mut unknown = Vec::new();
        for party in &outside {
            match self.contacts.get(&party.address) {
                Some((contact, contact_account)) => {
                    if !contacts.contains(contact) {
                        contacts.push(*contact);
                    }
                    account = account.or(*contact_account);
                }
                None => unknown.push(party.address.clone()),
            }
        }
        if account.is_none() {
            account =
                outside.iter().filter_map(|party| company_domain(party.domain())).find_map(|domain| self.accounts.get(&domain).copied());
        }
        Matched { direction, user, contacts, account, unknown }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(address: &str) -> Party {
        Party { name: None, address: address.into() }
    }

    fn directory() -> Directory {
        let mut directory = Directory::default();
        directory.add_colleague("Rep@Pipewise.test", UserId(1));
        directory.add_colleague("boss@pipewise.test", UserId(2));
        directory.add_colleague("someone@gmail.com", UserId(3));
        directory.add_account("https://www.acme.co.kr/about", AccountId(10));
        directory.add_account("naver.com", AccountId(11));
        directory.contacts.insert("minji@acme.co.kr".into(), (ContactId(100), Some(AccountId(10))));
        directory
    }

    #[test]
    fn direction_follows_the_organisation_s_domains() {
        let directory = directory();
        assert!(!directory.own_domains.contains("gmail.com"));
        let inbound = directory.classify(Some(&party("minji@acme.co.kr")), &[party("rep@pipewise.test")]);
        assert_eq!((inbound.direction, inbound.user, inbound.account), (Direction::Inbound, Some(UserId(1)), Some(AccountId(10))));
        assert_eq!(inbound.contacts, [ContactId(100)]);
        let outbound = directory.classify(Some(&party("boss@pipewise.test")), &[party("cto@sales.acme.co.kr"), party("new@pipewise.test")]);
        assert_eq!((outbound.direction, outbound.user, outbound.account), (Direction::Outbound, Some(UserId(2)), Some(AccountId(10))));
        assert_eq!(outbound.unknown, ["cto@sales.acme.co.kr"]);
        let internal = directory.classify(Some(&party("rep@pipewise.test")), &[party("boss@pipewise.test")]);
        assert_eq!(internal.direction, Direction::Internal);
    }

    #[test]
    fn free_mail_never_matches_an_account() {
        let directory = directory();
        let matched = directory.classify(Some(&party("buyer@naver.com")), &[party("rep@pipewise.test")]);
        assert_eq!((matched.direction, matched.account), (Direction::Inbound, None));
    }
}
