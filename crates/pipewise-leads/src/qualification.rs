//! Qualifying a lead beyond BANT (SPEC C10): six questions about the fit between what they need
//! and what we offer, each answered yes, partly, no or not yet known; a score out of 100 and a
//! verdict. A "no" on whether they expect what we offer, or on whether they are worth our
//! resources, makes them no fit whatever the rest says.

/// A question of qualification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Criterion {
    /// What they expect matches what we offer.
    Expectations,
    /// They can succeed with it (skills, data, sponsorship).
    Success,
    /// They have the time and resources it needs.
    Resources,
    /// The relationship has a long-term outlook.
    Outlook,
    /// No outside threat (a merger, a freeze, an incumbent's contract) stands in the way.
    Threats,
    /// They are worth our resources.
    Worth,
}

impl Criterion {
    pub const ALL: [Criterion; 6] =
        [Criterion::Expectations, Criterion::Success, Criterion::Resources, Criterion::Outlook, Criterion::Threats, Criterion::Worth];

    pub fn key(self) -> &'static str {
        match self {
            Criterion::Expectations => "expectations",
            Criterion::Success => "success",
            Criterion::Resources => "resources",
            Criterion::Outlook => "outlook",
            Criterion::Threats => "threats",
            Criterion::Worth => "worth",
        }
    }

    pub fn parse(key: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|criterion| criterion.key() == key)
    }

    /// A "no" here makes the lead no fit.
    pub fn is_decisive(self) -> bool {
        matches!(self, Criterion::Expectations | Criterion::Worth)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes,
    Partly,
    No,
    Unknown,
}

impl Answer {
    pub fn key(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::Partly => "partly",
            Answer::No => "no",
            Answer::Unknown => "unknown",
        }
    }

    pub fn parse(key: &str) -> Option<Answer> {
        [Answer::Yes, Answer::Partly, Answer::No, Answer::Unknown].into_iter().find(|answer| answer.key() == key)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Qualified,
    NotAFit,
    /// Not enough known yet, or a mixed picture.
    KeepQualifying,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qualification {
    /// Yes counts 1, partly ½, of six: 0 to 100.
    pub score: u8,
    pub answered: usize,
    pub verdict: Verdict,
}

/// The score reaching which, with five questions answered and no decisive "no", qualifies.
pub const QUALIFIED_AT: u8 = 70;

pub fn judge(answers: &[(Criterion, Answer)]) -> Qualification {
    let answer =
        |criterion: Criterion| answers.iter().rev().find(|(asked, _)| *asked == criterion).map_or(Answer::Unknown, |(_, answer)| *answer);
    let halves: u32 = Criterion::ALL
        .into_iter()
        .map(|criterion| match answer(criterion) {
            Answer::Yes => 2,
            Answer::Partly => 1,
            Answer::No | Answer::Unknown => 0,
        })
        .sum();
    let score = u8::try_from((halves * 100 + 6) / 12).unwrap_or(100);
    let answered = Criterion::ALL.into_iter().filter(|criterion| answer(*criterion) != Answer::Unknown).count();
    let decisive_no = Criterion::ALL.into_iter().any(|criterion| criterion.is_decisive() && answer(criterion) == Answer::No);
    let verdict = if decisive_no || (answered == Criterion::ALL.len() && score < 40) {
        Verdict::NotAFit
    } else if score >= QUALIFIED_AT && answered >= 5 {
        Verdict::Qualified
    } else {
        Verdict::KeepQualifying
    };
    Qualification { score, answered, verdict }
}
