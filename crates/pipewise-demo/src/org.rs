//! The organisation's people, teams, accounts and contacts, planned before they are written.
//!
//! Reps and managers first take the names of the Maven sample's sales agents and managers;
//! everyone else, the Korea team and every contact get names combined from [`crate::names`].

use std::collections::BTreeSet;

use pipewise_core::Currency;
use pipewise_core::user::{Locale, Role};

use crate::data::{Company, CompanySource, MavenAgent, Region};
use crate::names;
use crate::rng::{Rng, Stream, WeightedIndex};

/// The e-mail domain of every demo user.
pub const USER_DOMAIN: &str = "pipewise-demo.test";

/// A sales territory; team `i` covers `Territory::ALL[i % 4]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Territory {
    NorthAmericaEast,
    NorthAmericaWest,
    Emea,
    KoreaApac,
}

impl Territory {
    pub const ALL: [Territory; 4] = [Territory::NorthAmericaEast, Territory::NorthAmericaWest, Territory::Emea, Territory::KoreaApac];

    pub fn team_name(self) -> &'static str {
        match self {
            Territory::NorthAmericaEast => "North America East",
            Territory::NorthAmericaWest => "North America West",
            Territory::Emea => "EMEA",
            Territory::KoreaApac => "Korea & APAC",
        }
    }

    /// Time zones the team's people work in, the first the usual one, with UTC offsets in
    /// standard time (office hours only need to be about right).
    fn zones(self) -> &'static [(&'static str, i64)] {
        match self {
            Territory::NorthAmericaEast => &[("America/New_York", -5), ("America/Chicago", -6), ("America/Toronto", -5)],
            Territory::NorthAmericaWest => &[("America/Los_Angeles", -8), ("America/Denver", -7), ("America/Vancouver", -8)],
            Territory::Emea => &[("Europe/London", 0), ("Europe/Berlin", 1), ("Europe/Paris", 1), ("Europe/Madrid", 1)],
            Territory::KoreaApac => &[("Asia/Seoul", 9), ("Asia/Tokyo", 9), ("Asia/Singapore", 8)],
        }
    }

    /// The Maven regional office whose agents staff the team.
    fn maven_office(self) -> Option<&'static str> {
        match self {
            Territory::NorthAmericaEast => Some("East"),
            Territory::NorthAmericaWest => Some("West"),
            Territory::Emea => Some("Central"),
            Territory::KoreaApac => None,
        }
    }

    /// Whether accounts of `region` belong here; North America is split between East and West.
    fn covers(self, region: Region, east: bool) -> bool {
        match (self, region) {
            (Territory::NorthAmericaEast, Region::NorthAmerica) => east,
            (Territory::NorthAmericaWest, Region::NorthAmerica) => !east,
            (Territory::NorthAmericaWest, Region::LatinAmerica) => true,
            (Territory::Emea, Region::Europe | Region::MiddleEastAfrica) => true,
            (Territory::KoreaApac, Region::Korea | Region::AsiaPacific) => true,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonPlan {
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Index into [`OrgPlan::teams`].
    pub team: Option<usize>,
    /// Index into [`OrgPlan::people`]; always an earlier person.
    pub manager: Option<usize>,
    pub time_zone: &'static str,
    pub utc_offset_hours: i64,
    pub locale: Locale,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamPlan {
    pub name: String,
    pub territory: Territory,
    /// Index into [`OrgPlan::people`].
    pub manager: usize,
}

/// A rep and how they sell.
#[derive(Clone, Debug, PartialEq)]
pub struct RepProfile {
    /// Index into [`OrgPlan::people`].
    pub person: usize,
    pub team: usize,
    /// Share of accounts and deals, relative to 1.
    pub weight: f64,
    /// Added to the base win probability.
    pub win_bonus: f64,
    /// Multiplies time spent per stage (below 1 is faster).
    pub pace: f64,
    /// Multiplies deal size.
    pub deal_size: f64,
    pub top_performer: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrgPlan {
    /// In creation order: every manager comes before the people who report to them.
    pub people: Vec<PersonPlan>,
    pub teams: Vec<TeamPlan>,
    pub reps: Vec<RepProfile>,
    /// People indices of one login per role, in [`Role::ALL`] order.
    pub logins: Vec<usize>,
}

impl OrgPlan {
    pub fn reps_of_team(&self, team: usize) -> impl Iterator<Item = usize> + '_ {
        self.reps.iter().enumerate().filter(move |(_, rep)| rep.team == team).map(|(index, _)| index)
    }

    /// Rep `rep` as a person.
    pub fn rep_person(&self, rep: usize) -> &PersonPlan {
        &self.people[self.reps[rep].person]
    }

    /// One login per role, in [`Role::ALL`] order: `(role, e-mail)`.
    pub fn logins(&self) -> Vec<(Role, String)> {
        self.logins.iter().map(|&person| (self.people[person].role, self.people[person].email.clone())).collect()
    }
}

/// Hands out unique e-mail addresses.
#[derive(Default)]
pub struct EmailBook {
    taken: BTreeSet<String>,
}

impl EmailBook {
    /// `local@domain`, or `local2@domain`, `local3@domain`, … when taken.
    pub fn claim(&mut self, local: &str, domain: &str) -> String {
        let local = email_local(local);
        let local = if local.is_empty() { "contact".to_owned() } else { local };
        for n in 1u32.. {
            let candidate = if n == 1 { format!("{local}@{domain}") } else { format!("{local}{n}@{domain}") };
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("some suffix is always free")
    }
}

/// Lower-case ASCII letters, digits and dots from a name: `Müller` → `muller`, `O'Brien` → `obrien`.
pub fn email_local(name: &str) -> String {
    let mut local = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let ascii = match c {
            'à' | 'á' | 'â' | 'ä' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            ' ' | '.' | '-' => '.',
            c if c.is_ascii_alphanumeric() => c,
            _ => continue,
        };
        if !(ascii == '.' && (local.is_empty() || local.ends_with('.'))) {
            local.push(ascii);
        }
    }
    local.trim_end_matches('.').to_owned()
}

/// Puts a director (a manager reporting to the VP) over every `teams_per_director` team
/// managers, as large sales organisations have, when there are more teams than that. Directors
/// are appended to [`OrgPlan::people`], so they come after the managers who report to them:
/// create people in reporting order (managers first), not in index order.
pub fn add_directors(plan: &mut OrgPlan, seed: u64, teams_per_director: usize) {
    if teams_per_director == 0 || plan.teams.len() <= teams_per_director {
        return;
    }
    let mut rng = Rng::stream(seed, Stream::Directors, 0);
    let mut emails = EmailBook { taken: plan.people.iter().map(|person| person.email.clone()).collect() };
    let vp = plan.logins[2];
    for first_team in (0..plan.teams.len()).step_by(teams_per_director) {
        let territory = plan.teams[first_team].territory;
        let name = if territory == Territory::KoreaApac { korean_name(&mut rng) } else { english_name(&mut rng) };
        let zone = territory.zones()[0];
        plan.people.push(PersonPlan {
            email: emails.claim(&name.email_local, USER_DOMAIN),
            name: name.display,
            role: Role::Manager,
            team: None,
            manager: Some(vp),
            time_zone: zone.0,
            utc_offset_hours: zone.1,
            locale: if name.korean { Locale::Ko } else { Locale::En },
        });
        let director = plan.people.len() - 1;
        for team in first_team..(first_team + teams_per_director).min(plan.teams.len()) {
            let manager = plan.teams[team].manager;
            plan.people[manager].manager = Some(director);
        }
    }
}

/// A person's name as shown, and the local part of their e-mail address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName {
    pub display: String,
    pub email_local: String,
    pub korean: bool,
}

pub fn english_name(rng: &mut Rng) -> PersonName {
    let first = rng.pick(names::EN_FIRST);
    let last = rng.pick(names::EN_LAST);
    PersonName { display: format!("{first} {last}"), email_local: format!("{first}.{last}"), korean: false }
}

/// `김민준`, with `minjun.kim` for e-mail.
pub fn korean_name(rng: &mut Rng) -> PersonName {
    let weights: Vec<f64> = names::KO_FAMILY.iter().map(|(_, _, share)| *share).collect();
    let (family, family_roman, _) = names::KO_FAMILY[rng.weighted(&weights)];
    let (given, given_roman) = *rng.pick(names::KO_GIVEN);
    PersonName { display: format!("{family}{given}"), email_local: format!("{given_roman}.{family_roman}"), korean: true }
}

fn maven_name(name: &str) -> PersonName {
    PersonName { display: name.to_owned(), email_local: name.replace(' ', "."), korean: false }
}

/// Plans the people: admin, ops, the VP of sales, one manager per team, the reps, a viewer.
pub fn plan_org(seed: u64, n_teams: usize, n_reps: usize, maven: &[MavenAgent]) -> OrgPlan {
    let mut rng = Rng::stream(seed, Stream::People, 0);
    let mut emails = EmailBook::default();
    let mut people = Vec::new();
    let mut person = |people: &mut Vec<PersonPlan>, name: PersonName, role, team, manager, zone: (&'static str, i64)| {
        people.push(PersonPlan {
            email: emails.claim(&name.email_local, USER_DOMAIN),
            name: name.display,
            role,
            team,
            manager,
            time_zone: zone.0,
            utc_offset_hours: zone.1,
            locale: if name.korean { Locale::Ko } else { Locale::En },
        });
        people.len() - 1
    };
    let seoul = ("Asia/Seoul", 9);
    let admin = person(&mut people, korean_name(&mut rng), Role::Admin, None, None, seoul);
    let mut managers: Vec<&str> = Vec::new();
    for agent in maven {
        if !managers.contains(&agent.manager) {
            managers.push(agent.manager);
        }
    }
    let vp_name = managers.first().map_or_else(|| english_name(&mut rng), |name| maven_name(name));
    let vp = person(&mut people, vp_name, Role::Manager, None, None, ("America/New_York", -5));
    let ops = person(&mut people, english_name(&mut rng), Role::Ops, None, Some(vp), ("Europe/London", 0));

    // Team managers: a Maven manager of the team's office who is not the VP, else a new name.
    let mut teams = Vec::new();
    let mut used: BTreeSet<&str> = managers.first().copied().into_iter().collect();
    for index in 0..n_teams {
        let territory = Territory::ALL[index % Territory::ALL.len()];
        let maven_manager = territory
            .maven_office()
            .and_then(|office| maven.iter().find(|agent| agent.office == office && !used.contains(agent.manager)))
            .map(|agent| agent.manager);
        let name = match maven_manager {
            Some(name) => {
                used.insert(name);
                maven_name(name)
            }
            None if territory == Territory::KoreaApac => korean_name(&mut rng),
            None => english_name(&mut rng),
        };
        let manager = person(&mut people, name, Role::Manager, None, Some(vp), territory.zones()[0]);
        let round = index / Territory::ALL.len();
        let name = if round == 0 { territory.team_name().to_owned() } else { format!("{} {}", territory.team_name(), round + 1) };
        teams.push(TeamPlan { name, territory, manager });
    }

    // Reps: spread evenly over the teams, Maven agents of the team's office first.
    let mut reps = Vec::new();
    let mut agents_used: BTreeSet<&str> = BTreeSet::new();
    for index in 0..n_reps {
        let team = index % n_teams;
        let territory = teams[team].territory;
        let agent = territory
            .maven_office()
            .and_then(|office| maven.iter().find(|agent| agent.office == office && !agents_used.contains(agent.name)));
        let name = match agent {
            Some(agent) => {
                agents_used.insert(agent.name);
                maven_name(agent.name)
            }
            None if territory == Territory::KoreaApac => korean_name(&mut rng),
            None => english_name(&mut rng),
        };
        let zones = territory.zones();
        let zone = if rng.chance(0.7) { zones[0] } else { *rng.pick(zones) };
        let manager = teams[team].manager;
        let person = person(&mut people, name, Role::Rep, Some(team), Some(manager), zone);
        reps.push(RepProfile { person, team, weight: 1.0, win_bonus: 0.0, pace: 1.0, deal_size: 1.0, top_performer: false });
    }
    shape_performance(&mut rng, &mut reps);
    let viewer = person(&mut people, korean_name(&mut rng), Role::Viewer, None, None, seoul);
    // The rep login is the busiest rep, so the demo shows a full pipeline.
    let top_rep = reps.iter().max_by(|a, b| a.weight.total_cmp(&b.weight)).map_or(vp, |rep| rep.person);
    OrgPlan { people, teams, reps, logins: vec![admin, ops, vp, top_rep, viewer] }
}

/// A few top performers carry much of the revenue; some reps struggle (SPEC C8).
fn shape_performance(rng: &mut Rng, reps: &mut [RepProfile]) {
    let n = reps.len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let n_top = n.div_ceil(10);
    let n_low = n / 5;
    for (rank, &index) in order.iter().enumerate() {
        let rep = &mut reps[index];
        let noise = rng.log_normal(1.0, 0.2);
        if rank < n_top {
            rep.top_performer = true;
            rep.weight = 2.4 * noise;
            rep.win_bonus = 0.12;
            rep.pace = 0.8;
            rep.deal_size = 1.3;
        } else if rank < n_top + n_low {
            rep.weight = 0.6 * noise;
            rep.win_bonus = -0.1;
            rep.pace = 1.25;
            rep.deal_size = 0.8;
        } else {
            rep.weight = noise;
            rep.win_bonus = 0.04 * rng.normal();
            rep.pace = rng.log_normal(1.0, 0.1);
        }
    }
}

/// An account to create, drawn from a [`Company`].
#[derive(Clone, Debug, PartialEq)]
pub struct AccountPlan {
    /// Index into the company list.
    pub company: usize,
    pub name: String,
    pub domains: Vec<String>,
    pub industry: &'static str,
    pub employees: Option<i64>,
    pub region: Region,
    pub country: &'static str,
    pub team: usize,
    /// Index into [`OrgPlan::reps`].
    pub owner: usize,
    /// Relative share of deals.
    pub weight: f64,
    pub korean: bool,
}

impl AccountPlan {
    /// The currency a new deal with this account is quoted in.
    pub fn deal_currency(&self, rng: &mut Rng) -> Currency {
        let local = match self.country {
            "KR" => Some(("KRW", 0.8)),
            "JP" => Some(("JPY", 0.6)),
            "GB" => Some(("GBP", 0.7)),
            "DE" | "FR" | "ES" | "NL" | "FI" | "BE" | "IE" | "LU" | "IT" | "AT" | "PT" => Some(("EUR", 0.75)),
            _ => None,
        };
        match local {
            Some((code, share)) if rng.chance(share) => Currency::from_code(code).unwrap_or(Currency::USD),
            _ => Currency::USD,
        }
    }

    /// What a typical deal is worth in US dollars, by company size.
    pub fn typical_deal_usd(&self) -> f64 {
        match self.employees.unwrap_or(1_500) {
            0..500 => 14_000.0,
            500..5_000 => 42_000.0,
            5_000..50_000 => 95_000.0,
            _ => 160_000.0,
        }
    }

    /// Time in stage grows with the customer's size.
    pub fn pace(&self) -> f64 {
        match self.employees.unwrap_or(1_500) {
            0..500 => 0.75,
            500..5_000 => 1.0,
            5_000..50_000 => 1.2,
            _ => 1.4,
        }
    }
}

/// Picks `n` companies (Korean, Maven and listed ones in proportion; names get a suffix when
/// `n` exceeds the list, for large demos), gives some a second domain, and assigns each to a
/// team by region and to a rep of that team. Returns the accounts and the unused companies.
pub fn plan_accounts(seed: u64, n: usize, companies: &[Company], org: &OrgPlan) -> (Vec<AccountPlan>, Vec<usize>) {
    let mut rng = Rng::stream(seed, Stream::Accounts, 0);
    let mut by_source = |source| {
        let mut indices: Vec<usize> = (0..companies.len()).filter(|&index| companies[index].source == source).collect();
        rng.shuffle(&mut indices);
        indices
    };
    let (korean, maven, listed) = (by_source(CompanySource::Korean), by_source(CompanySource::Maven), by_source(CompanySource::Listed));
    let n_korean = korean.len().min(n * 13 / 100);
    let n_maven = maven.len().min(n * 15 / 100);
    let mut chosen: Vec<usize> = korean[..n_korean].iter().chain(&maven[..n_maven]).copied().collect();
    let rest: Vec<usize> = listed.iter().chain(&korean[n_korean..]).chain(&maven[n_maven..]).copied().collect();
    let n_rest = (n - chosen.len()).min(rest.len());
    chosen.extend(&rest[..n_rest]);
    let unused: Vec<usize> = rest[n_rest..].to_vec();
    rng.shuffle(&mut chosen);
    // Beyond the list, companies come round again as "<name> <suffix>" with numbered domains.
    let base = chosen.clone();
    while chosen.len() < n && !base.is_empty() {
        chosen.push(base[chosen.len() % base.len()]);
    }

    let mut taken: BTreeSet<String> =
        companies.iter().flat_map(|company| company.domains.iter().map(|domain| domain.to_string())).collect();
    let team_reps: Vec<Vec<usize>> = (0..org.teams.len()).map(|team| org.reps_of_team(team).collect()).collect();
    let team_weights: Vec<Option<WeightedIndex>> =
        team_reps.iter().map(|reps| WeightedIndex::new(reps.iter().map(|&rep| org.reps[rep].weight))).collect();
    let mut accounts = Vec::with_capacity(n);
    for (position, &index) in chosen.iter().enumerate() {
        let company = &companies[index];
        let round = position / base.len().max(1);
        let (name, mut domains) = if round == 0 {
            (company.name.to_owned(), company.domains.iter().map(|domain| domain.to_string()).collect::<Vec<_>>())
        } else {
            const SUFFIXES: &[&str] = &["Holdings", "Group", "International", "Solutions", "Partners", "Services", "Labs", "Digital"];
            let suffix = SUFFIXES[(round - 1) % SUFFIXES.len()];
            let name = format!("{} {suffix}", company.name);
            let domain = numbered_domain(company.domains[0], round + 1);
            (name, vec![domain])
        };
        domains.retain(|domain| round == 0 || taken.insert(domain.clone()));
        if domains.is_empty() {
            continue;
        }
        if domains.len() == 1
            && rng.chance(0.25)
            && let Some(second) = regional_domain(&domains[0], company.country)
            && taken.insert(second.clone())
        {
            domains.push(second);
        }
        let east = rng.chance(0.55);
        let candidates: Vec<usize> = (0..org.teams.len()).filter(|&team| org.teams[team].territory.covers(company.region, east)).collect();
        let mut team = if candidates.is_empty() { position % org.teams.len().max(1) } else { *rng.pick(&candidates) };
        if team_weights.get(team).is_none_or(Option::is_none) {
            // A team without reps: give the account to any team that has some.
            team = (0..team_weights.len()).find(|&team| team_weights[team].is_some()).unwrap_or(0);
        }
        let owner = match &team_weights.get(team).and_then(Option::as_ref) {
            Some(weights) => team_reps[team][weights.sample(&mut rng)],
            None => 0,
        };
        let size = company.employees.unwrap_or(1_500).max(10) as f64;
        let weight = size.sqrt().sqrt() * rng.log_normal(1.0, 0.5) * org.reps.get(owner).map_or(1.0, |rep| rep.weight).sqrt();
        accounts.push(AccountPlan {
            company: index,
            name,
            domains,
            industry: company.industry,
            employees: company.employees,
            region: company.region,
            country: company.country,
            team,
            owner,
            weight,
            korean: company.source == CompanySource::Korean,
        });
    }
    (accounts, unused)
}

/// `acme.co.kr` with `n` → `acme2.co.kr`.
fn numbered_domain(domain: &str, n: usize) -> String {
    match domain.split_once('.') {
        Some((first, rest)) => format!("{first}{n}.{rest}"),
        None => format!("{domain}{n}.com"),
    }
}

/// The same name under the company's country domain, or `.com` for one that has a country
/// domain already: `acme.com` in Germany → `acme.de`; `hanbit.co.kr` → `hanbit.com`.
fn regional_domain(domain: &str, country: &str) -> Option<String> {
    const COUNTRY_SUFFIXES: &[&str] = &[".co.kr", ".co.jp", ".co.uk", ".com.au", ".com.br"];
    let stem =
        COUNTRY_SUFFIXES.iter().find_map(|suffix| domain.strip_suffix(suffix)).or_else(|| domain.rsplit_once('.').map(|(stem, _)| stem))?;
    let second = match country {
        "US" | "CA" => format!("{stem}.com"),
        "KR" => format!("{stem}.co.kr"),
        "JP" => format!("{stem}.co.jp"),
        "GB" => format!("{stem}.co.uk"),
        "BR" => format!("{stem}.com.br"),
        other => format!("{stem}.{}", other.to_ascii_lowercase()),
    };
    let second = if second == domain { format!("{stem}.com") } else { second };
    (second != domain).then_some(second)
}

/// A contact to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactPlan {
    /// Index into the accounts.
    pub account: usize,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub title: String,
    /// 0 executive, 1 department head, 2 staff.
    pub level: usize,
    pub korean: bool,
}

/// Spreads `n` contacts over the accounts (at least two each when there are enough, the rest
/// by account weight) and names them.
pub fn plan_contacts(seed: u64, n: usize, accounts: &[AccountPlan]) -> Vec<ContactPlan> {
    let mut rng = Rng::stream(seed, Stream::Contacts, 0);
    let mut per_account = vec![0usize; accounts.len()];
    if accounts.is_empty() {
        return Vec::new();
    }
    let floor = if n >= 2 * accounts.len() { 2 } else { usize::from(n >= accounts.len()) };
    per_account.iter_mut().for_each(|count| *count = floor);
    if let Some(weights) = WeightedIndex::new(accounts.iter().map(|account| account.weight)) {
        for _ in 0..n.saturating_sub(floor * accounts.len()) {
            per_account[weights.sample(&mut rng)] += 1;
        }
    }
    let mut emails = EmailBook::default();
    let mut contacts = Vec::with_capacity(n);
    for (index, account) in accounts.iter().enumerate() {
        for _ in 0..per_account[index] {
            let korean = if account.korean { rng.chance(0.95) } else { rng.chance(0.29) };
            let name = if korean { korean_name(&mut rng) } else { english_name(&mut rng) };
            let level = rng.weighted(&[0.15, 0.35, 0.5]);
            let titles = if korean { names::KO_TITLES[level] } else { names::EN_TITLES[level] };
            let phone = rng.chance(0.75).then(|| phone_number(&mut rng, account.country, korean));
            contacts.push(ContactPlan {
                account: index,
                email: emails.claim(&name.email_local, &account.domains[0]),
                name: name.display,
                phone,
                title: (*rng.pick(titles)).to_owned(),
                level,
                korean,
            });
        }
    }
    contacts
}

/// A phone number in the country's format, from ranges set aside for fiction where one exists
/// (US 555-01xx, UK 020 7946 0xxx).
pub fn phone_number(rng: &mut Rng, country: &str, korean: bool) -> String {
    let digits = |rng: &mut Rng, n: u32| format!("{:0width$}", rng.below(10u64.pow(n)), width = n as usize);
    match country {
        "KR" => format!("+82 10-{}-{}", digits(rng, 4), digits(rng, 4)),
        _ if korean && rng.chance(0.5) => format!("+82 2-{}-{}", digits(rng, 4), digits(rng, 4)),
        "GB" => format!("+44 20 7946 0{}", digits(rng, 3)),
        "JP" => format!("+81 3-{}-{}", digits(rng, 4), digits(rng, 4)),
        "US" | "CA" => {
            let area = rng.pick(&["212", "415", "312", "617", "206", "512", "303", "404"]);
            format!("+1 {area} 555 01{}", digits(rng, 2))
        }
        _ => format!("+{} {} {}", rng.between(30, 49), digits(rng, 3), digits(rng, 4)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    #[test]
    fn email_locals_are_plain_ascii() {
        assert_eq!(email_local("Müller"), "muller");
        assert_eq!(email_local("Sean O'Brien"), "sean.obrien");
        assert_eq!(email_local("Mei-Mei Johns"), "mei.mei.johns");
        assert_eq!(email_local("  "), "");
        let mut book = EmailBook::default();
        assert_eq!(book.claim("John.Smith", "acme.com"), "john.smith@acme.com");
        assert_eq!(book.claim("John Smith", "acme.com"), "john.smith2@acme.com");
        assert_eq!(book.claim("김민준", "acme.com"), "contact@acme.com");
    }

    #[test]
    fn second_domains() {
        assert_eq!(regional_domain("acme.com", "DE").as_deref(), Some("acme.de"));
        assert_eq!(regional_domain("hanbitdata.co.kr", "KR").as_deref(), Some("hanbitdata.com"));
        assert_eq!(regional_domain("toho.co.jp", "US").as_deref(), Some("toho.com"));
        assert_eq!(regional_domain("acme.com", "US"), None);
        assert_eq!(regional_domain("bp.com", "GB").as_deref(), Some("bp.co.uk"));
        assert_eq!(numbered_domain("acme.co.kr", 2), "acme2.co.kr");
    }

    #[test]
    fn the_standard_organisation() {
        let maven = data::maven_agents();
        let org = plan_org(42, 4, 30, &maven);
        let count = |role| org.people.iter().filter(|person| person.role == role).count();
        assert_eq!([count(Role::Admin), count(Role::Ops), count(Role::Manager), count(Role::Rep), count(Role::Viewer)], [1, 1, 5, 30, 1]);
        let team_names: Vec<&str> = org.teams.iter().map(|team| team.name.as_str()).collect();
        assert_eq!(team_names, ["North America East", "North America West", "EMEA", "Korea & APAC"]);
        // Maven names staff the first managers and reps; the Korea team is Korean.
        assert_eq!(org.people[1].name, "Dustin Brinkmann");
        assert_eq!(org.people[org.teams[0].manager].name, "Cara Losch");
        let korea = &org.people[org.teams[3].manager];
        assert_eq!((korea.locale, korea.time_zone), (Locale::Ko, "Asia/Seoul"));
        for (index, person) in org.people.iter().enumerate() {
            assert!(person.manager.is_none_or(|manager| manager < index), "managers come first");
            assert!(person.email.ends_with("@pipewise-demo.test"));
            assert!(pipewise_core::text::email(&person.email).is_ok(), "{}", person.email);
        }
        for rep in &org.reps {
            let person = &org.people[rep.person];
            assert_eq!(person.manager, Some(org.teams[rep.team].manager));
        }
        let emails: BTreeSet<_> = org.people.iter().map(|person| &person.email).collect();
        assert_eq!(emails.len(), org.people.len());
        assert_eq!(org.reps.iter().filter(|rep| rep.top_performer).count(), 3);
        assert_eq!(org.logins.iter().map(|&index| org.people[index].role).collect::<Vec<_>>(), Role::ALL);
    }

    #[test]
    fn accounts_and_contacts() {
        let companies = data::companies();
        let org = plan_org(42, 4, 30, &data::maven_agents());
        let (accounts, unused) = plan_accounts(42, 300, &companies, &org);
        assert_eq!(accounts.len(), 300);
        assert_eq!(accounts.len() + unused.len(), companies.len());
        let domains: Vec<&String> = accounts.iter().flat_map(|account| &account.domains).collect();
        assert_eq!(domains.iter().collect::<BTreeSet<_>>().len(), domains.len(), "domains are unique");
        assert!(domains.len() > 330, "some accounts have two domains: {}", domains.len());
        for account in &accounts {
            assert_eq!(org.reps[account.owner].team, account.team);
        }
        let korean = accounts.iter().filter(|account| account.korean).count();
        assert_eq!(korean, 39);
        let contacts = plan_contacts(42, 1500, &accounts);
        assert_eq!(contacts.len(), 1500);
        let share_korean = contacts.iter().filter(|contact| contact.korean).count() as f64 / 1500.0;
        assert!((0.28..0.4).contains(&share_korean), "{share_korean}");
        for contact in &contacts {
            assert!(contact.email.ends_with(&format!("@{}", accounts[contact.account].domains[0])));
            assert!(pipewise_core::text::email(&contact.email).is_ok(), "{}", contact.email);
        }
        // Large demos reuse companies under new names and domains.
        let (many, _) = plan_accounts(1, 2_000, &companies, &plan_org(1, 6, 80, &data::maven_agents()));
        assert_eq!(many.len(), 2_000);
        let domains: Vec<&String> = many.iter().flat_map(|account| &account.domains).collect();
        assert_eq!(domains.iter().collect::<BTreeSet<_>>().len(), domains.len());
    }
}
