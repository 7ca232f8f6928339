//! The win-probability model on a history whose answer is known: owners whose weekly chance of
//! a win differs (so each owner's chance of winning a deal at all is known in closed form), and
//! buying teams where a senior contact is met more often in the deals that are won.

use std::collections::HashMap;

use pipewise_analytics::{Day, Projection, day};
use pipewise_core::records::Direction;
use pipewise_core::{OpportunityId, UserId};
use pipewise_forecast::win::{DealFacts, Factor, Refusal, Seniority, Touch, WinBasis, examples, fit_win};

use super::{LOSS, WIN, World, world, world_of};

const SKILL: [f64; 4] = [2.0, 1.0, 1.0, 0.5];

/// Facts for every deal of `world`: one outbound touch a few days in, and a touch with a senior
/// contact early on in 70% of the deals that end up won and 20% of the others.
fn facts_of(world: &World, projection: &Projection) -> HashMap<u32, DealFacts> {
    let outcome = world.projection();
    let mut facts = HashMap::new();
    for deal in 0..projection.n_deals() as u32 {
        let id = projection.deals().id[deal as usize];
        let whole = outcome.deal_index(id).and_then(|index| outcome.state_at(index, world.end)).unwrap();
        let won = outcome.stages[whole.stage as usize].kind == pipewise_core::pipeline::StageKind::Won;
        let draw = (id.0.wrapping_mul(2_654_435_761) % 100) as u32;
        let senior = draw < if won { 70 } else { 20 };
        let created = whole.created_day;
        let mut touches = vec![Touch {
            occurred: created + 2,
            logged: created + 2,
            direction: Direction::Outbound,
            contacts: vec![(id.0 * 10, Seniority::Staff)],
        }];
        if senior {
            touches.push(Touch {
                occurred: created + 3,
                logged: created + 3,
                direction: Direction::Inbound,
                contacts: vec![(id.0 * 10 + 1, Seniority::Executive)],
            });
        }
        facts.insert(deal, DealFacts { touches, company: Default::default() });
    }
    facts
}

#[test]
fn the_model_learns_owners_and_buying_teams_beats_the_stage_default_and_its_reasons_add_up() {
    let world = world_of(SKILL, 31, 6_000, day("2024-01-01"), day("2026-06-30"));
    let projection = world.projection();
    let facts = facts_of(&world, &projection);
    let examples = examples(&projection, world.end);
    assert!(examples.len() > 3_000, "{}", examples.len());
    let model = fit_win(&projection, world.end, &examples, &facts);
    assert_eq!(model.basis, WinBasis::Fitted);
    let held = &model.held_out;
    eprintln!(
        "held out {} deals: Brier {:.4} (stage default {:.4}, stage rate {:.4}), weights {:?}",
        held.deals, held.brier, held.brier_stage_default, held.brier_stage_rate, model.weights
    );
    assert!(held.deals > 500);
    assert!(held.brier < held.brier_stage_default && held.brier < held.brier_stage_rate - 0.01, "{held:?}");
    // Calibrated: across the held-out deals the predictions average what happened.
    let (predicted, observed) = held
        .reliability
        .iter()
        .fold((0.0, 0.0), |(p, o), bin| (p + bin.predicted * f64::from(bin.deals), o + bin.observed * f64::from(bin.deals)));
    assert!((predicted - observed).abs() / f64::from(held.deals) < 0.03, "{:?}", held.reliability);
    // Each well-filled tenth holds what it predicts, within three standard errors of its share
    // won and a little for the spread of predictions inside it.
    for bin in held.reliability.iter().filter(|bin| bin.deals >= 100) {
        let error = (bin.predicted * (1.0 - bin.predicted) / f64::from(bin.deals)).sqrt();
        assert!((bin.predicted - bin.observed).abs() < 3.0 * error + 0.03, "{bin:?}");
    }
    // The planted signals weigh most (the senior contact's touch is also an inbound one, so
    // recent touches carry part of it).
    let top: Vec<Factor> = model.weights.iter().take(3).map(|(factor, _)| *factor).collect();
    assert!(top[0] == Factor::SeniorContact && top.contains(&Factor::OwnerRecord), "{:?}", model.weights);

    // Every open deal's reasons add up to its score minus the base; a senior contact helps.
    let mut scored = 0;
    for deal in 0..projection.n_deals() as u32 {
        let Ok(score) = model.score(&projection, deal, world.end, &facts[&deal]) else { continue };
        scored += 1;
        let sum: f64 = score.reasons.iter().map(|reason| reason.points).sum();
        assert!((score.base + sum - score.probability).abs() < 1e-9, "{score:?}");
        assert!(score.probability > 0.0 && score.probability < 1.0);
        let senior = score.reasons.iter().find(|reason| reason.factor == Factor::SeniorContact).unwrap();
        let met = facts[&deal].touches.iter().any(|touch| touch.contacts[0].1 == Seniority::Executive && touch.occurred <= world.end);
        assert_eq!(senior.points > 0.0, met, "{score:?}");
    }
    assert!(scored > 100, "{scored}");
}

/// Each owner's chance of winning a deal at all is `w / (w + l)` of their weekly chances; the
/// model's average score of each owner's open deals recovers it within 0.1.
#[test]
fn the_model_recovers_each_owners_known_chance() {
    let world = world_of(SKILL, 37, 8_000, day("2023-06-01"), day("2026-06-30"));
    let projection = world.projection();
    let none: HashMap<u32, DealFacts> = HashMap::new();
    let model = fit_win(&projection, world.end, &examples(&projection, world.end), &none);
    for (owner, skill) in SKILL.iter().enumerate() {
        let truth = WIN * skill / (WIN * skill + LOSS);
        let owner_index = projection.owner_index(UserId(owner as i64 + 1)).unwrap();
        let scores: Vec<f64> = (0..projection.n_deals() as u32)
            .filter(|deal| projection.state_at(*deal, world.end).is_some_and(|state| state.owner == owner_index))
            .filter_map(|deal| model.score(&projection, deal, world.end, &DealFacts::default()).ok())
            .map(|score| score.probability)
            .collect();
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        eprintln!("owner {}: truth {truth:.3}, model {mean:.3} over {} open deals", owner + 1, scores.len());
        assert!((mean - truth).abs() < 0.1, "owner {}: truth {truth:.3}, model {mean:.3}", owner + 1);
    }
}

/// The fit as of a past day is the same on the full history and on a copy holding only what
/// was recorded by then: every score agrees to the bit.
#[test]
fn a_model_as_of_a_past_day_sees_only_what_was_known_then() {
    let world = world_of(SKILL, 41, 3_000, day("2024-06-01"), day("2026-06-30"));
    let full = world.projection();
    let as_of: Day = day("2026-01-15");
    let known = world.projection_until(as_of);
    let fitted = |projection: &Projection| {
        let facts = facts_until(facts_of(&world, projection), as_of);
        (fit_win(projection, as_of, &examples(projection, as_of), &facts), facts)
    };
    let (on_full, full_facts) = fitted(&full);
    let (on_known, known_facts) = fitted(&known);
    assert_eq!(on_full.basis, WinBasis::Fitted);
    assert_eq!((on_full.examples, on_full.alpha, on_full.platt), (on_known.examples, on_known.alpha, on_known.platt));
    let mut compared = 0;
    for deal in 0..known.n_deals() as u32 {
        let id: OpportunityId = known.deals().id[deal as usize];
        let full_deal = full.deal_index(id).unwrap();
        let a = on_known.score(&known, deal, as_of, &known_facts[&deal]);
        let b = on_full.score(&full, full_deal, as_of, &full_facts[&full_deal]);
        assert_eq!(a, b, "deal {id}");
        compared += u32::from(a.is_ok());
    }
    assert!(compared > 100, "{compared}");
}

/// Facts as a store holding only what was logged by `day` would give them.
fn facts_until(mut facts: HashMap<u32, DealFacts>, day: Day) -> HashMap<u32, DealFacts> {
    for deal in facts.values_mut() {
        deal.touches.retain(|touch| touch.logged <= day);
    }
    facts
}

#[test]
fn below_its_data_floor_the_model_refuses_to_score() {
    let world = world(1, 60, day("2026-03-01"), day("2026-06-30"));
    let projection = world.projection();
    let model = fit_win(&projection, world.end, &examples(&projection, world.end), &HashMap::new());
    assert_eq!(model.basis, WinBasis::BelowFloor);
    let open = (0..projection.n_deals() as u32)
        .find(|deal| projection.state_at(*deal, world.end).is_some_and(|state| projection.stages[state.stage as usize].is_open()))
        .unwrap();
    assert_eq!(
        model.score(&projection, open, world.end, &DealFacts::default()),
        Err(Refusal::BelowFloor { won: model.won, lost: model.lost })
    );
}
