//! Fit against the ideal customer profile: five criteria, each worth a fixed share of 100. A
//! criterion the profile leaves open counts in full; one the lead leaves unknown counts half
//! (neither rewarded nor punished much); a miss counts nothing.

use crate::{Prospect, one_of, within};

/// The organisation's ideal customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub industries: Vec<String>,
    pub regions: Vec<String>,
    pub min_employees: Option<i64>,
    pub max_employees: Option<i64>,
    /// Words in a title that mark someone who can buy (`head`, `director`, `vp`, `팀장`, …).
    pub titles: Vec<String>,
}

/// A criterion of fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Criterion {
    Industry,
    Size,
    Region,
    Title,
    BusinessEmail,
}

impl Criterion {
    pub const ALL: [Criterion; 5] = [Criterion::Industry, Criterion::Size, Criterion::Region, Criterion::Title, Criterion::BusinessEmail];

    /// Its share of the 100 points.
    pub fn weight(self) -> u8 {
        match self {
            Criterion::Industry => 30,
            Criterion::Size => 25,
            Criterion::Region => 15,
            Criterion::Title => 20,
            Criterion::BusinessEmail => 10,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Criterion::Industry => "industry",
            Criterion::Size => "size",
            Criterion::Region => "region",
            Criterion::Title => "title",
            Criterion::BusinessEmail => "business_email",
        }
    }
}

/// How a lead fared on one criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Miss,
    /// The lead did not say.
    Unknown,
    /// The profile does not ask.
    Open,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub criterion: Criterion,
    pub verdict: Verdict,
    pub points: u8,
}

/// A lead's fit: 0 to 100, the sum of its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fit {
    pub score: u8,
    pub parts: Vec<Part>,
}

impl Fit {
    /// The lead's quality as routing and fairness weigh it: 0.5 for no fit to 1.5 for a
    /// perfect one, so a perfect lead counts three times a hopeless one.
    pub fn quality(&self) -> f64 {
        quality(self.score)
    }
}

/// [`Fit::quality`] of a stored score.
pub fn quality(score: u8) -> f64 {
    0.5 + f64::from(score.min(100)) / 100.0
}

/// How `prospect` fits `profile`.
pub fn score(profile: &Profile, prospect: &Prospect<'_>) -> Fit {
    let parts: Vec<Part> = Criterion::ALL
        .into_iter()
        .map(|criterion| {
            let verdict = match criterion {
                Criterion::Industry if profile.industries.is_empty() => Verdict::Open,
                Criterion::Industry => match text(prospect.industry) {
                    None => Verdict::Unknown,
                    Some(industry) => yes(one_of(industry, &profile.industries)),
                },
                Criterion::Size if profile.min_employees.is_none() && profile.max_employees.is_none() => Verdict::Open,
                Criterion::Size => match prospect.employee_count {
                    None => Verdict::Unknown,
                    Some(count) => yes(within(count, profile.min_employees, profile.max_employees)),
                },
                Criterion::Region if profile.regions.is_empty() => Verdict::Open,
                Criterion::Region => match text(prospect.region) {
                    None => Verdict::Unknown,
                    Some(region) => yes(one_of(region, &profile.regions)),
                },
                Criterion::Title if profile.titles.is_empty() => Verdict::Open,
                Criterion::Title => match text(prospect.title) {
                    None => Verdict::Unknown,
                    Some(title) => yes(title_says(title, &profile.titles)),
                },
                Criterion::BusinessEmail => match prospect.business_email {
                    None => Verdict::Unknown,
                    Some(business) => yes(business),
                },
            };
            let weight = criterion.weight();
            let points = match verdict {
                Verdict::Match | Verdict::Open => weight,
                Verdict::Unknown => weight / 2,
                Verdict::Miss => 0,
            };
            Part { criterion, verdict, points }
        })
        .collect();
    Fit { score: parts.iter().map(|part| part.points).sum(), parts }
}

/// A given text, trimmed; none when empty.
fn text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

fn yes(matched: bool) -> Verdict {
    if matched { Verdict::Match } else { Verdict::Miss }
}

/// Whether a title holds one of the words (a word of the title starting with it, so `director`
/// finds "Directora"; Korean titles are matched anywhere, as they are written without spaces).
fn title_says(title: &str, words: &[String]) -> bool {
    let title = title.to_lowercase();
    words.iter().map(|word| word.trim().to_lowercase()).filter(|word| !word.is_empty()).any(|word| {
        if word.is_ascii() {
            title.split(|c: char| !c.is_alphanumeric()).any(|part| part.starts_with(&word))
        } else {
            title.contains(&word)
        }
    })
}
