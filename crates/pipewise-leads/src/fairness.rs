//! Were the leads shared fairly? Counts alone hide it: one rep may get as many leads as the
//! others but all the good ones. So each rep's share of the window's lead *quality* (and of its
//! count) is set against their share of the pool's capacity; a rep well over or under (a quarter
//! either way, once they should have had a handful) is flagged.

use pipewise_core::UserId;

use crate::routing::Member;

/// What one rep got in the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Received {
    pub user: UserId,
    pub leads: u32,
    /// Summed quality of those leads.
    pub quality: f64,
    /// How many became customers (converted).
    pub converted: u32,
}

/// Below this many fair leads a rep's share is too small to judge.
pub const MIN_FAIR_LEADS: f64 = 5.0;
/// A share this far above or below fair is flagged (×1.25, ×0.8).
pub const OVER: f64 = 1.25;
pub const UNDER: f64 = 0.8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fair,
    Over,
    Under,
    /// Too few leads to judge yet.
    TooFew,
    /// Not in the pool now (left, or capacity 0), yet got leads in the window.
    OutOfPool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub user: UserId,
    pub capacity: u32,
    pub leads: u32,
    pub fair_leads: f64,
    pub quality: f64,
    pub fair_quality: f64,
    /// The mean fit (0–100) of their leads; none without leads.
    pub mean_fit: Option<f64>,
    pub converted: u32,
    pub verdict: Verdict,
}

impl Share {
    /// Quality received against fair (1.0 is exactly fair); none when nothing was fair.
    pub fn ratio(&self) -> Option<f64> {
        (self.fair_quality > 0.0).then(|| self.quality / self.fair_quality)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The pool's members first (in pool order), then anyone else who got leads.
    pub shares: Vec<Share>,
    pub leads: u32,
    pub quality: f64,
    /// Shares flagged over or under.
    pub flagged: usize,
}

pub fn report(pool: &[Member], received: &[Received]) -> Report {
    let leads: u32 = received.iter().map(|got| got.leads).sum();
    let quality: f64 = received.iter().map(|got| got.quality).sum();
    let capacity: u32 = pool.iter().map(|member| member.capacity).sum();
    let got = |user: UserId| received.iter().find(|got| got.user == user);
    let mut users: Vec<(UserId, u32)> = pool.iter().map(|member| (member.user, member.capacity)).collect();
    for extra in received {
        if extra.leads > 0 && !users.iter().any(|(user, _)| *user == extra.user) {
            users.push((extra.user, 0));
        }
    }
    let shares: Vec<Share> = users
        .into_iter()
        .map(|(user, member_capacity)| {
            let part = if capacity == 0 { 0.0 } else { f64::from(member_capacity) / f64::from(capacity) };
            let (fair_leads, fair_quality) = (f64::from(leads) * part, quality * part);
            let (own_leads, own_quality, converted) = got(user).map_or((0, 0.0, 0), |got| (got.leads, got.quality, got.converted));
            let ratio = if fair_quality > 0.0 { own_quality / fair_quality } else { 0.0 };
            let verdict = if member_capacity == 0 {
                Verdict::OutOfPool
            } else if fair_leads < MIN_FAIR_LEADS {
                Verdict::TooFew
            } else if ratio > OVER {
                Verdict::Over
            } else if ratio < UNDER {
                Verdict::Under
            } else {
                Verdict::Fair
            };
            Share {
                user,
                capacity: member_capacity,
                leads: own_leads,
                fair_leads,
                quality: own_quality,
                fair_quality,
                mean_fit: (own_leads > 0).then(|| (own_quality / f64::from(own_leads) - 0.5) * 100.0),
                converted,
                verdict,
            }
        })
        .collect();
    let flagged = shares.iter().filter(|share| matches!(share.verdict, Verdict::Over | Verdict::Under)).count();
    Report { shares, leads, quality, flagged }
}
