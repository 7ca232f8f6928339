use pipewise_core::{Timestamp, UserId};
use proptest::prelude::*;

use crate::Prospect;
use crate::cadence::{self, Attempt, Limit, Policy, Step};
use crate::fairness::{self, Received, Verdict as Judged};
use crate::fit::{self, Criterion, Profile, Verdict};
use crate::qualification::{self, Answer, Criterion as Question, Verdict as Qualified};
use crate::routing::{self, Load, Member, Rules, Territory};

fn profile() -> Profile {
    Profile {
        industries: vec!["Software".into(), "Manufacturing".into()],
        regions: vec!["KR".into(), "JP".into()],
        min_employees: Some(50),
        max_employees: Some(5_000),
        titles: vec!["head".into(), "director".into(), "vp".into(), "팀장".into()],
    }
}

fn prospect<'a>(industry: &'a str, employees: i64, region: &'a str, title: &'a str) -> Prospect<'a> {
    Prospect {
        industry: Some(industry),
        employee_count: Some(employees),
        region: Some(region),
        title: Some(title),
        business_email: Some(true),
    }
}

#[test]
fn fit_adds_each_criterion_s_points_by_hand() {
    let perfect = fit::score(&profile(), &prospect("software", 300, "kr", "Head of Sales"));
    assert_eq!(perfect.score, 100);
    // Industry miss (0 of 30), size too big (0 of 25), region unknown (7 of 15), a 영업팀장 (20 of
    // 20), a free-mail address (0 of 10): 27.
    let mixed = Prospect { region: None, business_email: Some(false), ..prospect("Retail", 20_000, "", "영업팀장") };
    let fit = fit::score(&profile(), &mixed);
    assert_eq!(fit.score, 27);
    let verdicts: Vec<(Criterion, Verdict)> = fit.parts.iter().map(|part| (part.criterion, part.verdict)).collect();
    assert_eq!(
        verdicts,
        vec![
            (Criterion::Industry, Verdict::Miss),
            (Criterion::Size, Verdict::Miss),
            (Criterion::Region, Verdict::Unknown),
            (Criterion::Title, Verdict::Match),
            (Criterion::BusinessEmail, Verdict::Miss)
        ]
    );
    // Nothing known: half of every criterion, rounded down: 15 + 12 + 7 + 10 + 5.
    assert_eq!(fit::score(&profile(), &Prospect::default()).score, 49);
    // An empty profile asks nothing: every lead with a business address fits fully.
    assert_eq!(fit::score(&Profile::default(), &Prospect { business_email: Some(true), ..Prospect::default() }).score, 100);
    // "Directora" starts with "director"; "Administrator" does not hold "director" as a word start.
    assert_eq!(fit::score(&profile(), &prospect("software", 300, "kr", "Directora Comercial")).score, 100);
    assert_eq!(fit::score(&profile(), &prospect("software", 300, "kr", "Administrator")).score, 80);
    assert_eq!((fit::quality(0), fit::quality(100)), (0.5, 1.5));
}

fn user(id: i64) -> UserId {
    UserId(id)
}

/// Routes `qualities` one after another, as leads arriving; the owners in order.
fn run(rules: &Rules, prospects: &[Prospect<'_>], qualities: &[f64]) -> (Vec<Option<UserId>>, Vec<Load>) {
    let mut loads: Vec<Load> = Vec::new();
    let mut owners = Vec::new();
    for (index, quality) in qualities.iter().enumerate() {
        let prospect = prospects.get(index).copied().unwrap_or_default();
        let route = routing::route(rules, &prospect, *quality, &loads);
        if let Some(owner) = route.owner {
            let at = Some(Timestamp::from_micros(index as i64));
            match loads.iter_mut().find(|load| load.user == owner) {
                Some(load) => {
                    load.quality += quality;
                    load.last = at;
                }
                None => loads.push(Load { user: owner, quality: *quality, last: at }),
            }
        }
        owners.push(route.owner);
    }
    (owners, loads)
}

#[test]
fn capacity_weighs_the_round_robin() {
    let rules = Rules { pool: vec![Member { user: user(1), capacity: 2 }, Member { user: user(2), capacity: 1 }], ..Rules::default() };
    let (owners, _) = run(&rules, &[], &[1.0; 30]);
    let count = |id| owners.iter().filter(|owner| **owner == Some(user(id))).count();
    assert_eq!((count(1), count(2)), (20, 10));
    assert_eq!(&owners[..6], &[Some(user(1)), Some(user(2)), Some(user(1)), Some(user(1)), Some(user(2)), Some(user(1))]);
}

#[test]
fn good_leads_are_spread_not_collected() {
    // Two equal reps; leads alternate 1.5 and 0.5. Plain alternation would give one rep every
    // good lead; balancing on quality gives each half of the good ones.
    let rules = Rules { pool: vec![Member { user: user(1), capacity: 1 }, Member { user: user(2), capacity: 1 }], ..Rules::default() };
    let qualities: Vec<f64> = (0..40).map(|index| if index % 2 == 0 { 1.5 } else { 0.5 }).collect();
    let (owners, loads) = run(&rules, &[], &qualities);
    let good = |id| owners.iter().zip(&qualities).filter(|(owner, quality)| **owner == Some(user(id)) && **quality > 1.0).count();
    assert_eq!((good(1), good(2)), (10, 10));
    assert!((loads[0].quality - loads[1].quality).abs() <= 1.5);
}

#[test]
fn territories_come_first_and_fall_back_to_the_pool() {
    let korea = Territory { name: "Korea".into(), regions: vec!["KR".into()], members: vec![user(3)], ..Territory::default() };
    let big = Territory { name: "Enterprise".into(), min_employees: Some(1_000), members: vec![user(4)], ..Territory::default() };
    let mut rules = Rules {
        pool: vec![Member { user: user(1), capacity: 1 }, Member { user: user(3), capacity: 1 }, Member { user: user(4), capacity: 1 }],
        territories: vec![korea, big],
        ..Rules::default()
    };
    let seoul = Prospect { region: Some("kr"), employee_count: Some(5_000), ..Prospect::default() };
    let route = routing::route(&rules, &seoul, 1.0, &[]);
    assert_eq!((route.owner, route.territory.as_deref()), (Some(user(3)), Some("Korea")), "the first matching territory");
    let tokyo = Prospect { region: Some("JP"), employee_count: Some(5_000), ..Prospect::default() };
    assert_eq!(routing::route(&rules, &tokyo, 1.0, &[]).territory.as_deref(), Some("Enterprise"));
    let unknown_size = Prospect { region: Some("JP"), ..Prospect::default() };
    assert_eq!(routing::route(&rules, &unknown_size, 1.0, &[]).territory, None, "an unknown size matches no size rule");
    rules.pool[1].capacity = 0;
    assert_eq!(routing::route(&rules, &seoul, 1.0, &[]).territory.as_deref(), Some("Enterprise"), "Korea's only rep is out: the next");
    rules.pool.iter_mut().for_each(|member| member.capacity = 0);
    let nobody = routing::route(&rules, &seoul, 1.0, &[]);
    assert_eq!(nobody.owner, None);
    assert!(!rules.is_on());
}

#[test]
fn the_fairness_report_sees_quality_that_counts_hide() {
    let pool = [Member { user: user(1), capacity: 1 }, Member { user: user(2), capacity: 1 }, Member { user: user(3), capacity: 2 }];
    // Twenty leads each for reps 1 and 2, forty for rep 3 (fair by count), but rep 1 got the good
    // ones: quality 30 against 10 and 40.
    let received = [
        Received { user: user(1), leads: 20, quality: 30.0, converted: 6 },
        Received { user: user(2), leads: 20, quality: 10.0, converted: 1 },
        Received { user: user(3), leads: 40, quality: 40.0, converted: 5 },
        Received { user: user(9), leads: 2, quality: 2.0, converted: 0 },
    ];
    let report = fairness::report(&pool, &received);
    assert_eq!((report.leads, report.quality), (82, 82.0));
    let verdicts: Vec<(i64, Judged)> = report.shares.iter().map(|share| (share.user.0, share.verdict)).collect();
    assert_eq!(verdicts, vec![(1, Judged::Over), (2, Judged::Under), (3, Judged::Fair), (9, Judged::OutOfPool)]);
    // Fair quality: 82 × 1/4 = 20.5 for rep 1, who got 30: ×1.46.
    assert!((report.shares[0].fair_quality - 20.5).abs() < 1e-9);
    assert!((report.shares[0].ratio().unwrap() - 30.0 / 20.5).abs() < 1e-9);
    assert_eq!(report.shares[0].mean_fit, Some(100.0));
    assert_eq!(report.flagged, 2);
    let few = fairness::report(&pool, &[Received { user: user(1), leads: 3, quality: 3.0, converted: 0 }]);
    assert!(few.shares.iter().all(|share| share.verdict == Judged::TooFew));
}

proptest! {
    /// However the qualities come, balancing keeps every rep's load per capacity within one
    /// lead's worth (the largest quality over the smallest capacity) of every other's.
    #[test]
    fn routing_keeps_loads_per_capacity_within_one_lead(
        capacities in prop::collection::vec(1u32..=4, 2..6),
        qualities in prop::collection::vec(0.5f64..=1.5, 1..200),
    ) {
        let pool: Vec<Member> = capacities.iter().enumerate().map(|(index, capacity)| Member { user: UserId(index as i64 + 1), capacity: *capacity }).collect();
        let rules = Rules { pool, ..Rules::default() };
        let (owners, loads) = run(&rules, &[], &qualities);
        prop_assert!(owners.iter().all(Option::is_some));
        let share = |user: UserId| loads.iter().find(|load| load.user == user).map_or(0.0, |load| load.quality) / f64::from(rules.capacity(user));
        let shares: Vec<f64> = rules.pool.iter().map(|member| share(member.user)).collect();
        let spread = shares.iter().cloned().fold(f64::MIN, f64::max) - shares.iter().cloned().fold(f64::MAX, f64::min);
        let bound = 1.5 / f64::from(*capacities.iter().min().unwrap());
        prop_assert!(spread <= bound + 1e-9, "spread {} over {}", spread, bound);
        // The same arrivals give the same owners.
        prop_assert_eq!(run(&rules, &[], &qualities).0, owners);
    }
}

fn day(n: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000 + n * 86_400_000_000)
}

fn tried(days: &[i64]) -> Vec<Attempt> {
    days.iter().map(|day_number| Attempt { at: day(*day_number), reached: false, last_chance: false }).collect()
}

#[test]
fn the_attempt_limit_is_learnt_from_the_leads_that_converted() {
    assert_eq!(cadence::learn_limit(&[1, 2, 3]), Limit { attempts: 6, basis: 3 }, "too few: the default");
    // Twenty conversions: 90% were reached within 5 attempts.
    let reached: Vec<u32> = [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 8, 9].to_vec();
    assert_eq!(cadence::learn_limit(&reached), Limit { attempts: 5, basis: 20 });
    assert_eq!(cadence::learn_limit(&[1; 12]).attempts, 3, "never below 3");
    assert_eq!(cadence::learn_limit(&[30; 12]).attempts, 12, "never above 12");
}

#[test]
fn the_close_out_follows_the_seed_s_order() {
    let policy = Policy::new(Limit { attempts: 3, basis: 0 }, 45);
    let created = day(0);
    // Nothing yet: the first touch is due within a day, late after.
    assert_eq!(cadence::next_step(created, &[], &policy, day(0)), Step::FirstTouch { due: day(1), late: false });
    assert!(matches!(cadence::next_step(created, &[], &policy, day(2)), Step::FirstTouch { late: true, .. }));
    // Attempts spaced 1, then 2 days.
    assert_eq!(cadence::next_step(created, &tried(&[0]), &policy, day(0)), Step::Attempt { number: 2, due: day(1) });
    assert_eq!(cadence::next_step(created, &tried(&[0, 1]), &policy, day(1)), Step::Attempt { number: 3, due: day(3) });
    // The limit without an answer: the last-chance message first, never a close-out.
    assert_eq!(cadence::next_step(created, &tried(&[0, 1, 3]), &policy, day(60)), Step::LastChance);
    // Sent on day 4: wait until past the average cycle (45 days), not just the 3-day wait.
    let mut with_last = tried(&[0, 1, 3]);
    with_last.push(Attempt { at: day(4), reached: false, last_chance: true });
    assert_eq!(cadence::next_step(created, &with_last, &policy, day(10)), Step::Wait { until: day(45) });
    assert_eq!(cadence::next_step(created, &with_last, &policy, day(45)), Step::CloseOut);
    // An old lead: the wait after the message is what remains.
    let mut late = tried(&[0, 1, 3]);
    late.push(Attempt { at: day(50), reached: false, last_chance: true });
    assert_eq!(cadence::next_step(created, &late, &policy, day(51)), Step::Wait { until: day(53) });
    // An answer ends the cadence.
    let mut answered = tried(&[0, 1]);
    answered[1].reached = true;
    assert_eq!(cadence::next_step(created, &answered, &policy, day(60)), Step::Engaged);
    // Speed to lead.
    let hours = |hours: i64| Attempt { at: created.plus_seconds(hours * 3_600), reached: false, last_chance: false };
    assert_eq!(cadence::first_touch(created, &[hours(3)], &policy), Some((180, true)));
    assert_eq!(cadence::first_touch(created, &[hours(30), hours(2)], &policy), Some((120, true)), "the earliest attempt");
    assert_eq!(cadence::first_touch(created, &[hours(25)], &policy), Some((1_500, false)));
    assert_eq!(cadence::first_touch(created, &[], &policy), None);
}

#[test]
fn qualification_scores_six_questions_and_two_of_them_decide() {
    use Answer::*;
    let all = |answers: [Answer; 6]| -> Vec<(Question, Answer)> { Question::ALL.into_iter().zip(answers).collect() };
    // Five yes and one partly: 11 halves of 12, 92.
    let strong = qualification::judge(&all([Yes, Yes, Yes, Yes, Partly, Yes]));
    assert_eq!((strong.score, strong.answered, strong.verdict), (92, 6, Qualified::Qualified));
    // The same, but not worth our resources: no fit.
    assert_eq!(qualification::judge(&all([Yes, Yes, Yes, Yes, Partly, No])).verdict, Qualified::NotAFit);
    // Four yes, two unknown: 67 and only four answered, keep qualifying.
    let thin = qualification::judge(&all([Yes, Yes, Yes, Yes, Unknown, Unknown]));
    assert_eq!((thin.score, thin.verdict), (67, Qualified::KeepQualifying));
    // Everything answered, mostly no (none decisive): 4 halves of 12, 33, no fit.
    assert_eq!(qualification::judge(&all([Partly, No, No, No, Partly, Yes])).verdict, Qualified::NotAFit);
    // The last answer to a question counts.
    let changed = qualification::judge(&[(Question::Worth, No), (Question::Worth, Yes)]);
    assert_eq!((changed.score, changed.verdict), (17, Qualified::KeepQualifying));
    assert_eq!(Question::parse("outlook"), Some(Question::Outlook));
}
