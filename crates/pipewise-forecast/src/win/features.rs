//! What the win-probability model reads of one deal on one day: the facts the store supplies
//! (activities, contacts' titles, the company) and the columns made of them and the projection.

use pipewise_analytics::Day;
use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, NO_AMOUNT};
use pipewise_core::records::Direction;

/// How senior a contact is, read from their job title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seniority {
    /// Chief officers, presidents, vice presidents, founders; 대표, 사장, 전무, 상무, 이사, 본부장.
    Executive,
    /// Directors and heads of a department; 팀장, 부장, 실장.
    Head,
    Staff,
    /// No title.
    Unknown,
}

/// Words that mark a title as an executive's or a department head's. English words are
/// matched whole (`director` but not `directory`); Korean ones anywhere in the title.
const EXECUTIVE_WORDS: [&str; 11] = ["chief", "ceo", "cfo", "cio", "cto", "coo", "cro", "president", "vp", "founder", "owner"];
const EXECUTIVE_KO: [&str; 7] = ["대표", "사장", "전무", "상무", "이사", "본부장", "임원"];
const HEAD_WORDS: [&str; 3] = ["director", "head", "svp"];
const HEAD_KO: [&str; 4] = ["팀장", "부장", "실장", "센터장"];

/// The seniority a job title says.
pub fn seniority(title: Option<&str>) -> Seniority {
    let Some(title) = title.map(str::trim).filter(|title| !title.is_empty()) else { return Seniority::Unknown };
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).collect();
    let has_word = |list: &[&str]| words.iter().any(|word| list.contains(word));
    let has_text = |list: &[&str]| list.iter().any(|text| title.contains(text));
    if has_word(&EXECUTIVE_WORDS) || lower.contains("vice president") || has_text(&EXECUTIVE_KO) {
        Seniority::Executive
    } else if has_word(&HEAD_WORDS) || has_text(&HEAD_KO) {
        Seniority::Head
    } else {
        Seniority::Staff
    }
}

/// One activity of a deal: when it happened and was logged (days in the organisation's zone),
/// its direction and the contacts it names with their seniority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touch {
    pub occurred: Day,
    pub logged: Day,
    pub direction: Direction,
    pub contacts: Vec<(i64, Seniority)>,
}

/// The deal's company, as the account holds it now (accounts keep no history).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Company {
    pub employees: Option<i64>,
    pub industry: Option<String>,
}

/// What the store knows of one deal beyond its history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DealFacts {
    pub touches: Vec<Touch>,
    pub company: Company,
}

/// The four data families of seed 004.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Activity,
    Opportunity,
    BuyingTeam,
    Company,
}

/// A reason a score moves: one factor, made of one or more columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Factor {
    Stage,
    TimeInStage,
    DealAge,
    Amount,
    CloseDate,
    OwnerRecord,
    RecentTouches,
    BuyerSilence,
    TouchTrend,
    Contacts,
    SeniorContact,
    CompanySize,
    Industry,
}

impl Factor {
    pub const ALL: [Factor; 13] = [
        Factor::Stage,
        Factor::TimeInStage,
        Factor::DealAge,
        Factor::Amount,
        Factor::CloseDate,
        Factor::OwnerRecord,
        Factor::RecentTouches,
        Factor::BuyerSilence,
        Factor::TouchTrend,
        Factor::Contacts,
        Factor::SeniorContact,
        Factor::CompanySize,
        Factor::Industry,
    ];

    /// How many columns the factor has (stage and industry: one per value listed).
    fn columns(self) -> usize {
        match self {
            // The amount and "no amount"; overdue and pushes; ln employees and "unknown".
            Factor::Amount | Factor::CloseDate | Factor::CompanySize => 2,
            _ => 1,
        }
    }

    /// A stable name (API field values, message keys).
    pub fn key(self) -> &'static str {
        match self {
            Factor::Stage => "stage",
            Factor::TimeInStage => "time_in_stage",
            Factor::DealAge => "deal_age",
            Factor::Amount => "amount",
            Factor::CloseDate => "close_date",
            Factor::OwnerRecord => "owner_record",
            Factor::RecentTouches => "recent_touches",
            Factor::BuyerSilence => "buyer_silence",
            Factor::TouchTrend => "touch_trend",
            Factor::Contacts => "contacts",
            Factor::SeniorContact => "senior_contact",
            Factor::CompanySize => "company_size",
            Factor::Industry => "industry",
        }
    }

    /// The sign a factor's effect must have, where it is known: a senior contact engaged and a
    /// better owner record help; a longer silence from the buyer hurts. The number of touches
    /// and of contacts has no fixed sign: a rep chasing a buyer gone dark touches the deal
    /// often, and long deals that drift gather contacts.
    pub fn direction(self) -> Option<f64> {
        match self {
            Factor::SeniorContact | Factor::OwnerRecord => Some(1.0),
            Factor::BuyerSilence => Some(-1.0),
            _ => None,
        }
    }

    pub fn family(self) -> Family {
        match self {
            Factor::RecentTouches | Factor::BuyerSilence | Factor::TouchTrend => Family::Activity,
            Factor::Contacts | Factor::SeniorContact => Family::BuyingTeam,
            Factor::CompanySize | Factor::Industry => Family::Company,
            _ => Family::Opportunity,
        }
    }
}

/// Days counted as "recent" for touches; the trend compares them with the four weeks before.
pub const RECENT_DAYS: i32 = 14;
/// Silence longer than this counts as this long (and a buyer never heard from, too).
pub const SILENCE_CAP_DAYS: i32 = 120;
/// Owner records borrow this many deals at the organisation's win rate.
const OWNER_SHRINK: f64 = 10.0;

/// What a factor showed for one deal, for the reader of a reason.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Stage(u16),
    Days(i32),
    /// Reporting-currency minor units.
    Amount(i64),
    Count(u32),
    /// A share in `[0, 1]`.
    Rate(f64),
    Yes(bool),
    Text(String),
    Unknown,
}

/// The columns, fixed when a model is fitted: which stages and industries have one of their own.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub stages: Vec<u16>,
    pub industries: Vec<String>,
    pub factors: Vec<Factor>,
}

/// Everything a row reads besides the deal's own facts: the stages and each owner's closed
/// deals by day (for the owner's record as it stood on the reference day).
pub(crate) struct Context<'a> {
    pub view: View<'a>,
    /// By owner index: `(closed day, won)` of their deals with an outcome, by day.
    pub closed_by_owner: &'a [Vec<(Day, bool)>],
    /// The same for everyone.
    pub closed_all: &'a [(Day, bool)],
}

impl Context<'_> {
    /// Wins and outcomes among `closed` strictly before `day`.
    fn record(closed: &[(Day, bool)], day: Day) -> (f64, f64) {
        let before = &closed[..closed.partition_point(|(closed, _)| *closed < day)];
        (before.iter().filter(|(_, won)| *won).count() as f64, before.len() as f64)
    }

    /// The owner's win rate before `day`, shrunk toward everyone's.
    pub fn owner_rate(&self, owner: u32, day: Day) -> f64 {
        let (all_won, all_n) = Self::record(self.closed_all, day);
        let prior = (all_won + 1.0) / (all_n + 2.0);
        let (won, n) = self.closed_by_owner.get(owner as usize).map_or((0.0, 0.0), |closed| Self::record(closed, day));
        (won + OWNER_SHRINK * prior) / (n + OWNER_SHRINK)
    }
}

/// The activity facts of `facts` known at the end of `day`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Activity {
    pub recent: u32,
    pub previous: u32,
    pub silence: i32,
    pub contacts: u32,
    pub senior: bool,
}

pub(crate) fn activity(facts: &DealFacts, day: Day) -> Activity {
    let mut out = Activity { silence: SILENCE_CAP_DAYS, ..Activity::default() };
    let mut contacts: Vec<i64> = Vec::new();
    for touch in facts.touches.iter().filter(|touch| touch.occurred <= day && touch.logged <= day) {
        let ago = day - touch.occurred;
        if touch.direction != Direction::Internal {
            if ago < RECENT_DAYS {
                out.recent += 1;
            } else if ago < RECENT_DAYS + 28 {
                out.previous += 1;
            }
        }
        if touch.direction == Direction::Inbound {
            out.silence = out.silence.min(ago.min(SILENCE_CAP_DAYS));
        }
        for (contact, level) in &touch.contacts {
            contacts.push(*contact);
            out.senior |= *level == Seniority::Executive || *level == Seniority::Head;
        }
    }
    contacts.sort_unstable();
    contacts.dedup();
    out.contacts = contacts.len() as u32;
    out
}

fn ln1p_days(days: i32) -> f64 {
    f64::from(days.max(0)).ln_1p()
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

impl Layout {
    /// Builds the layout: a column per listed stage and industry, and one or two per other factor
    /// ([`Factor::columns`]), in [`Factor::ALL`]'s order, which [`Layout::row`] writes in.
    pub fn new(stages: Vec<u16>, industries: Vec<String>) -> Layout {
        let factors = Factor::ALL
            .iter()
            .flat_map(|factor| {
                let columns = match factor {
                    Factor::Stage => stages.len(),
                    Factor::Industry => industries.len(),
                    other => other.columns(),
                };
                std::iter::repeat_n(*factor, columns)
            })
            .collect();
        Layout { stages, industries, factors }
    }

    pub fn width(&self) -> usize {
        self.factors.len()
    }

    /// Appends the deal's row as of the end of `day` to `out`, in [`Layout::factors`] order.
    pub fn row(&self, context: &Context, state: &DealState, day: Day, facts: &DealFacts, out: &mut Vec<f64>) {
        out.extend(self.stages.iter().map(|stage| f64::from(u8::from(*stage == state.stage))));
        out.push(ln1p_days(day - state.stage_entered_day));
        out.push(ln1p_days(day - state.created_day));
        let has_amount = state.amount != NO_AMOUNT && state.amount > 0;
        out.push(if has_amount { (state.amount as f64).ln_1p() } else { 0.0 });
        out.push(f64::from(u8::from(!has_amount)));
        let overdue = state.close_day != pipewise_analytics::NO_DAY && state.close_day < day;
        out.push(f64::from(u8::from(overdue)));
        out.push(f64::from(state.push_count).ln_1p());
        out.push(logit(context.owner_rate(state.owner, day)));
        let activity = activity(facts, day);
        out.push(f64::from(activity.recent).ln_1p());
        out.push(ln1p_days(activity.silence));
        out.push(f64::from(activity.recent).ln_1p() - (f64::from(activity.previous) / 2.0).ln_1p());
        out.push(f64::from(activity.contacts).ln_1p());
        out.push(f64::from(u8::from(activity.senior)));
        let employees = facts.company.employees.filter(|count| *count > 0);
        out.push(employees.map_or(0.0, |count| (count as f64).ln()));
        out.push(f64::from(u8::from(employees.is_none())));
        let industry = facts.company.industry.as_deref();
        out.extend(self.industries.iter().map(|name| f64::from(u8::from(industry == Some(name.as_str())))));
    }

    /// What `factor` showed for the deal, for a reason's reader.
    /// `activity` is [`activity`] of the deal that day, worked out once for all its factors.
    pub fn shown(&self, factor: Factor, context: &Context, state: &DealState, day: Day, facts: &DealFacts, activity: &Activity) -> Shown {
        match factor {
            Factor::Stage => Shown::Stage(state.stage),
            Factor::TimeInStage => Shown::Days(day - state.stage_entered_day),
            Factor::DealAge => Shown::Days(day - state.created_day),
            Factor::Amount if state.amount == NO_AMOUNT => Shown::Unknown,
            Factor::Amount => Shown::Amount(state.amount),
            Factor::CloseDate if state.close_day == pipewise_analytics::NO_DAY => Shown::Unknown,
            Factor::CloseDate => Shown::Days(state.close_day - day),
            Factor::OwnerRecord => Shown::Rate(context.owner_rate(state.owner, day)),
            Factor::RecentTouches => Shown::Count(activity.recent),
            Factor::BuyerSilence => Shown::Days(activity.silence),
            Factor::TouchTrend => Shown::Count(activity.previous),
            Factor::Contacts => Shown::Count(activity.contacts),
            Factor::SeniorContact => Shown::Yes(activity.senior),
            Factor::CompanySize => {
                facts.company.employees.map_or(Shown::Unknown, |count| Shown::Count(count.clamp(0, i64::from(u32::MAX)) as u32))
            }
            Factor::Industry => facts.company.industry.clone().map_or(Shown::Unknown, Shown::Text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_as_people_read_them() {
        assert_eq!(seniority(Some("Chief Revenue Officer")), Seniority::Executive);
        assert_eq!(seniority(Some("VP of Sales")), Seniority::Executive);
        assert_eq!(seniority(Some("대표이사")), Seniority::Executive);
        assert_eq!(seniority(Some("영업본부장")), Seniority::Executive);
        assert_eq!(seniority(Some("IT Director")), Seniority::Head);
        assert_eq!(seniority(Some("Head of Finance")), Seniority::Head);
        assert_eq!(seniority(Some("재무팀 부장")), Seniority::Head);
        assert_eq!(seniority(Some("Procurement Manager")), Seniority::Staff);
        assert_eq!(seniority(Some("Directory Services Engineer")), Seniority::Staff);
        assert_eq!(seniority(Some("구매팀 과장")), Seniority::Staff);
        assert_eq!(seniority(Some("  ")), Seniority::Unknown);
        assert_eq!(seniority(None), Seniority::Unknown);
    }

    #[test]
    fn activity_counts_only_what_was_known_that_day() {
        let touch = |occurred: Day, logged: Day, direction: Direction, contact: i64| Touch {
            occurred,
            logged,
            direction,
            contacts: vec![(contact, if contact == 9 { Seniority::Executive } else { Seniority::Staff })],
        };
        let facts = DealFacts {
            touches: vec![
                touch(100, 100, Direction::Inbound, 1),
                touch(95, 95, Direction::Outbound, 2),
                touch(80, 80, Direction::Outbound, 1),
                touch(99, 120, Direction::Inbound, 9),
                touch(98, 98, Direction::Internal, 3),
            ],
            company: Company::default(),
        };
        let seen = activity(&facts, 110);
        assert_eq!((seen.recent, seen.previous, seen.silence, seen.contacts, seen.senior), (1, 2, 10, 3, false));
        let later = activity(&facts, 120);
        assert_eq!((later.recent, later.previous, later.silence, later.contacts, later.senior), (0, 4, 20, 4, true));
        assert_eq!(activity(&DealFacts::default(), 5).silence, SILENCE_CAP_DAYS);
    }
}
