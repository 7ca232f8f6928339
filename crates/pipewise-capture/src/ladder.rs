//! Seed 004's ladder of activity data, and which rung a rep's data reaches:
//!
//! - **Baseline**: activities typed in by hand only;
//! - **Good**: inbound and outbound counted apart (the buyer's interest beside the rep's work),
//!   which needs both directions logged;
//! - **Better**: full content on the activities (captured messages and meetings, not just a
//!   line), and the rep's own +/- ratings;
//! - **Best**: every captured message scored automatically, with the rep's ratings retraining
//!   the vocabulary.

/// A rung of the ladder (`None`: no activity at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Baseline,
    Good,
    Better,
    Best,
}

impl Level {
    pub fn key(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Baseline => "baseline",
            Level::Good => "good",
            Level::Better => "better",
            Level::Best => "best",
        }
    }
}

/// What a rep's activities are made of, over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mix {
    pub inbound: i64,
    pub outbound: i64,
    pub internal: i64,
    /// Captured ones (source `eml`, `mbox`, `ics`, `imap` or `smtp`), not typed.
    pub captured: i64,
    /// Ones with a body.
    pub with_body: i64,
    /// The rep's +/- ratings.
    pub ratings: i64,
}

impl Mix {
    /// The rung this data reaches.
    pub fn level(&self) -> Level {
        let total = self.inbound + self.outbound + self.internal;
        if total == 0 {
            return Level::None;
        }
        let both_ways = self.inbound > 0 && self.outbound > 0;
        let content = self.captured > 0 && self.with_body > 0;
        match (both_ways, content, self.ratings > 0) {
            (true, true, true) => Level::Best,
            (true, true, _) | (true, _, true) => Level::Better,
            (true, _, _) => Level::Good,
            _ => Level::Baseline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rung_needs_the_one_below() {
        let mix = |inbound, outbound, captured, with_body, ratings| Mix { inbound, outbound, internal: 0, captured, with_body, ratings };
        assert_eq!(Mix::default().level(), Level::None);
        assert_eq!(mix(0, 5, 0, 0, 0).level(), Level::Baseline, "outbound only: no buyer signal");
        assert_eq!(mix(2, 5, 0, 0, 0).level(), Level::Good);
        assert_eq!(mix(2, 5, 0, 0, 3).level(), Level::Better, "rated by hand");
        assert_eq!(mix(2, 5, 7, 7, 0).level(), Level::Better, "captured content, not yet rated");
        assert_eq!(mix(2, 5, 7, 7, 1).level(), Level::Best);
        assert_eq!(mix(0, 5, 7, 7, 1).level(), Level::Baseline, "no inbound: the rung below is missing");
    }
}
