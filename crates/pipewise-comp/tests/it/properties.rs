//! Invariants over random plans and credits: totals are the sum of their lines, revenue splits
//! sum to the deal, marginal pay does not depend on how bookings are cut into deals, a cap holds,
//! and adjustments bring a locked statement exactly to its recomputation.

use pipewise_comp::{Cap, Component, Plan, Split, SplitKind, Tier, TierBasis, TierMode, TierTable, adjustments, compute, split_deal};
use pipewise_core::{Currency, OpportunityId, UserId};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::{Q1_FIRST, Q1_LAST, credit, quarter};

fn cents(value: i64) -> Decimal {
    Decimal::new(value, 2)
}

fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    // Up to four tiers: ascending bounds from 0, rates 0-20% in basis points.
    (prop::collection::vec(1_i64..5_000_000, 0..3), prop::collection::vec(0_i64..2_000, 4)).prop_map(|(mut steps, rates)| {
        steps.sort_unstable();
        steps.dedup();
        let mut lowers = vec![Decimal::ZERO];
        lowers.extend(steps.into_iter().map(cents));
        lowers.into_iter().zip(rates).map(|(lower, rate)| Tier { lower, rate: Decimal::new(rate, 4) }).collect()
    })
}

fn plan(mode: TierMode, tiers: Vec<Tier>, cap: Option<i64>) -> Plan {
    let mut plan = Plan::new(
        "p",
        1,
        Currency::USD,
        vec![Component::Commission {
            rule: "c".into(),
            measure: SplitKind::Revenue,
            table: TierTable { mode, basis: TierBasis::Amount, tiers },
        }],
    );
    plan.cap = cap.map(|amount| Cap { amount: cents(amount), carry_forward: false });
    plan
}

fn mode() -> impl Strategy<Value = TierMode> {
    prop_oneof![Just(TierMode::Marginal), Just(TierMode::Retroactive)]
}

proptest! {
    #[test]
    fn a_statements_total_is_the_sum_of_its_lines_and_a_cap_holds(
        mode in mode(),
        tiers in tiers(),
        amounts in prop::collection::vec(1_i64..10_000_000, 0..12),
        cap in prop::option::of(0_i64..10_000_000),
    ) {
        let credits: Vec<_> = amounts.iter().enumerate().map(|(deal, amount)| credit(deal as i64, &cents(*amount).to_string(), Q1_FIRST)).collect();
        let plan = plan(mode, tiers, cap);
        let statement = compute(&plan, &quarter(&credits, None)).unwrap();
        prop_assert_eq!(statement.total, statement.lines.iter().map(|line| line.amount).sum::<Decimal>());
        for line in &statement.lines {
            prop_assert_eq!(line.amount, line.amount.round_dp(2), "every line is money");
        }
        if let Some(cap) = cap {
            prop_assert!(statement.total <= cents(cap));
        }
        prop_assert_eq!(&statement, &compute(&plan, &quarter(&credits, None)).unwrap(), "the same input gives the same statement");
    }

    #[test]
    fn marginal_pay_does_not_depend_on_how_the_bookings_are_cut_into_deals(
        tiers in tiers(),
        amounts in prop::collection::vec(1_i64..10_000_000, 1..12),
    ) {
        // Unrounded, marginal pay is a function of the total alone; one deal of the total pays the same.
        let credits: Vec<_> = amounts.iter().enumerate().map(|(deal, amount)| credit(deal as i64, &cents(*amount).to_string(), Q1_FIRST)).collect();
        let whole = [credit(99, &cents(amounts.iter().sum()).to_string(), Q1_FIRST)];
        let plan = plan(TierMode::Marginal, tiers.clone(), None);
        let unrounded = |credits: &[pipewise_comp::Credit]| -> Decimal {
            compute(&plan, &quarter(credits, None)).unwrap().lines.iter().map(|line| line.unrounded).sum()
        };
        prop_assert_eq!(unrounded(&credits), unrounded(&whole));
        // And so does the retroactive plan, uplifts included.
        let retro = self::plan(TierMode::Retroactive, tiers, None);
        let retro_unrounded = |credits: &[pipewise_comp::Credit]| -> Decimal {
            compute(&retro, &quarter(credits, None)).unwrap().lines.iter().map(|line| line.unrounded).sum()
        };
        prop_assert_eq!(retro_unrounded(&credits), retro_unrounded(&whole));
    }

    #[test]
    fn revenue_splits_add_up_to_the_deal_to_the_cent(
        amount in -10_000_000_000_i64..10_000_000_000,
        weights in prop::collection::vec(1_u32..1_000, 1..7),
    ) {
        // Shares w / Σw, cut to 10 places with the rounding left on the last so they sum to 1.
        let sum: u32 = weights.iter().sum();
        let mut shares: Vec<Decimal> = weights.iter().map(|weight| (Decimal::from(*weight) / Decimal::from(sum)).round_dp(10)).collect();
        let last = shares.len() - 1;
        shares[last] = Decimal::ONE - shares[..last].iter().sum::<Decimal>();
        prop_assume!(shares.iter().all(|share| *share > Decimal::ZERO));
        let splits: Vec<Split> = shares.iter().enumerate().map(|(person, share)| Split { person: UserId(person as i64), kind: SplitKind::Revenue, share: *share }).collect();
        let credits = split_deal(OpportunityId(1), cents(amount), Currency::USD, Q1_LAST, &splits).unwrap();
        prop_assert_eq!(credits.iter().map(|credit| credit.amount).sum::<Decimal>(), cents(amount));
        for (credit, share) in credits.iter().zip(&shares) {
            // Each is within one cent of its exact share.
            prop_assert!((credit.amount - cents(amount) * share).abs() < cents(1));
        }
    }

    #[test]
    fn adjustments_bring_a_locked_statement_exactly_to_its_recomputation(
        mode in mode(),
        tiers in tiers(),
        amounts in prop::collection::vec(1_i64..10_000_000, 1..10),
        removed in any::<prop::sample::Index>(),
    ) {
        let credits: Vec<_> = amounts.iter().enumerate().map(|(deal, amount)| credit(deal as i64, &cents(*amount).to_string(), Q1_FIRST)).collect();
        let plan = plan(mode, tiers, None);
        let locked = compute(&plan, &quarter(&credits, None)).unwrap();
        let mut clawed = credits.clone();
        clawed.remove(removed.index(credits.len()));
        let recomputed = compute(&plan, &quarter(&clawed, None)).unwrap();
        let posted = adjustments(&locked, &recomputed);
        prop_assert_eq!(posted.iter().map(|line| line.amount).sum::<Decimal>(), recomputed.total - locked.total);
        prop_assert!(posted.iter().all(|line| line.corrects.is_none_or(|at| at.index < locked.lines.len())));
    }
}
