//! The vendored data in `data/` (see its README for sources and licences), embedded in the
//! binary and parsed at start. A row that does not parse is skipped; the unit tests below check
//! that no row is, so a bad re-derivation fails the build's tests rather than a user's demo.

use pipewise_core::money::{Currency, Decimal};
use pipewise_core::time::parse_date;
use pipewise_core::{Date, text};

use crate::names::KO_COMPANIES;

const COMPANIES_TSV: &str = include_str!("../data/companies.tsv");
const MAVEN_ACCOUNTS_TSV: &str = include_str!("../data/maven_accounts.tsv");
const MAVEN_SALES_TEAMS_TSV: &str = include_str!("../data/maven_sales_teams.tsv");
const ECB_RATES_CSV: &str = include_str!("../data/ecb_rates.csv");

/// Where a company comes from: the source decides nothing but is kept for tests and mixing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompanySource {
    /// Real listed companies (pytickersymbols, MIT).
    Listed,
    /// The made-up accounts of the Maven CRM sample (public domain).
    Maven,
    /// Made-up Korean companies written for Pipewise.
    Korean,
}

/// A company an account or a lead can be made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    pub name: &'static str,
    /// One or two lower-case domains, unique across all companies.
    pub domains: Vec<&'static str>,
    pub industry: &'static str,
    pub employees: Option<i64>,
    pub region: Region,
    /// ISO 3166 alpha-2.
    pub country: &'static str,
    pub source: CompanySource,
}

/// The sales regions accounts are grouped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    NorthAmerica,
    Europe,
    AsiaPacific,
    Korea,
    LatinAmerica,
    MiddleEastAfrica,
}

impl Region {
    pub const ALL: [Region; 6] =
        [Region::NorthAmerica, Region::Europe, Region::AsiaPacific, Region::Korea, Region::LatinAmerica, Region::MiddleEastAfrica];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::NorthAmerica => "North America",
            Region::Europe => "Europe",
            Region::AsiaPacific => "Asia-Pacific",
            Region::Korea => "Korea",
            Region::LatinAmerica => "Latin America",
            Region::MiddleEastAfrica => "Middle East & Africa",
        }
    }

    fn parse(raw: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|region| region.as_str() == raw)
    }
}

/// Every company of the three sources, in file order: listed, Maven, Korean.
pub fn companies() -> Vec<Company> {
    let mut all = parse_companies(COMPANIES_TSV, CompanySource::Listed);
    all.extend(parse_companies(MAVEN_ACCOUNTS_TSV, CompanySource::Maven));
    all.extend(KO_COMPANIES.iter().map(|&(name, domain, industry, employees)| Company {
        name,
        domains: vec![domain],
        industry,
        employees: Some(employees),
        region: Region::Korea,
        country: "KR",
        source: CompanySource::Korean,
    }));
    all
}

fn parse_companies(tsv: &'static str, source: CompanySource) -> Vec<Company> {
    tsv.lines().skip(1).filter_map(|line| parse_company(line, source)).collect()
}

fn parse_company(line: &'static str, source: CompanySource) -> Option<Company> {
    let fields: Vec<&'static str> = line.split('\t').collect();
    let [name, domains, industry, employees, region, country] = fields[..] else { return None };
    let domains: Vec<&'static str> = domains.split(' ').filter(|domain| text::domain(domain).as_deref() == Ok(*domain)).collect();
    let employees = match employees {
        "" => None,
        raw => Some(raw.parse::<i64>().ok()?),
    };
    if name.trim().is_empty() || domains.is_empty() || industry.is_empty() || country.len() != 2 {
        return None;
    }
    Some(Company { name, domains, industry, employees, region: Region::parse(region)?, country, source })
}

/// A sales agent of the Maven sample and the manager they report to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MavenAgent {
    pub name: &'static str,
    pub manager: &'static str,
    /// `Central`, `East` or `West`.
    pub office: &'static str,
}

pub fn maven_agents() -> Vec<MavenAgent> {
    MAVEN_SALES_TEAMS_TSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [name, manager, office] = fields[..] else { return None };
            (!name.is_empty() && !manager.is_empty()).then_some(MavenAgent { name, manager, office })
        })
        .collect()
}

/// One day's ECB reference rates: units of each currency per euro.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateDay {
    pub date: Date,
    pub rates: Vec<(Currency, Decimal)>,
}

/// The currencies deals use besides the euro, in `ecb_rates.csv` column order.
pub fn rate_currencies() -> Vec<Currency> {
    let header = ECB_RATES_CSV.lines().next().unwrap_or("");
    header.split(',').skip(1).filter_map(|code| Currency::from_code(code).ok()).collect()
}

/// The vendored ECB rates, oldest first. Gaps (`N/A` in the source) are left out.
pub fn ecb_rates() -> Vec<RateDay> {
    let currencies = rate_currencies();
    let mut days: Vec<RateDay> = ECB_RATES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let date = parse_date(fields.next()?).ok()?;
            let rates = currencies
                .iter()
                .zip(fields)
                .filter_map(|(currency, raw)| Some((*currency, raw.parse::<Decimal>().ok().filter(|rate| *rate > Decimal::ZERO)?)))
                .collect();
            Some(RateDay { date, rates })
        })
        .collect();
    days.sort_by_key(|day| day.date);
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn data_lines(text: &str) -> usize {
        text.lines().skip(1).filter(|line| !line.is_empty()).count()
    }

    #[test]
    fn every_vendored_row_parses() {
        let all = companies();
        let listed = all.iter().filter(|company| company.source == CompanySource::Listed).count();
        let maven = all.iter().filter(|company| company.source == CompanySource::Maven).count();
        assert_eq!(listed, data_lines(COMPANIES_TSV));
        assert_eq!(maven, data_lines(MAVEN_ACCOUNTS_TSV));
        assert_eq!((listed, maven), (600, 85));
        assert_eq!(maven_agents().len(), data_lines(MAVEN_SALES_TEAMS_TSV));
        assert_eq!(maven_agents().len(), 35);
        assert_eq!(ecb_rates().len(), data_lines(ECB_RATES_CSV));
        assert_eq!(rate_currencies().iter().map(|currency| currency.code()).collect::<Vec<_>>(), ["USD", "JPY", "GBP", "KRW"]);
    }

    #[test]
    fn companies_have_unique_domains_and_known_industries() {
        let all = companies();
        let mut domains = BTreeSet::new();
        for company in &all {
            for domain in &company.domains {
                assert!(domains.insert(*domain), "{domain} appears twice");
            }
            assert!(!company.domains.is_empty() && company.domains.len() <= 2);
        }
        let listed_industries: BTreeSet<_> =
            all.iter().filter(|company| company.source == CompanySource::Listed).map(|company| company.industry).collect();
        for company in &all {
            assert!(listed_industries.contains(company.industry), "{}: {}", company.name, company.industry);
        }
        assert!(all.iter().filter(|company| company.employees.is_some()).count() > 500);
        let regions: BTreeSet<_> = all.iter().map(|company| company.region).collect();
        assert_eq!(regions.len(), Region::ALL.len());
    }

    #[test]
    fn rates_cover_three_years_without_gaps_longer_than_a_week() {
        let days = ecb_rates();
        assert_eq!(days.first().unwrap().date.to_string(), "2023-11-01");
        assert_eq!(days.last().unwrap().date.to_string(), "2026-10-30");
        for pair in days.windows(2) {
            let gap = crate::clock::day_of_date(pair[1].date) - crate::clock::day_of_date(pair[0].date);
            assert!((1..=6).contains(&gap), "{} → {}", pair[0].date, pair[1].date);
        }
        assert!(days.iter().all(|day| day.rates.len() == 4));
        let last = days.last().unwrap();
        assert_eq!(last.rates[0], (Currency::USD, "1.1172".parse().unwrap()));
        assert_eq!(last.rates[3], (Currency::KRW, "1491.76".parse().unwrap()));
    }

    #[test]
    fn bad_rows_are_skipped_not_fatal() {
        assert_eq!(parse_company("Acme\tacme.com\tSoftware\tlots\tEurope\tDE", CompanySource::Listed), None);
        assert_eq!(parse_company("Acme\tnot a domain\tSoftware\t\tEurope\tDE", CompanySource::Listed), None);
        assert_eq!(parse_company("Acme\tacme.com\tSoftware\t\tMars\tDE", CompanySource::Listed), None);
        assert_eq!(parse_company("too\tfew", CompanySource::Listed), None);
        let acme = parse_company("Acme\tacme.com acme.de\tSoftware\t\tEurope\tDE", CompanySource::Listed).unwrap();
        assert_eq!((acme.domains, acme.employees), (vec!["acme.com", "acme.de"], None));
    }
}
