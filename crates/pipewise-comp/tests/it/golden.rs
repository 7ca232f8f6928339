//! Issue 12's golden cases, one `check` per plan, each line written out as the statement shows it.

use pipewise_comp::plan::AttainmentOf;
use pipewise_comp::{
    Attainment, Cap, Clawback, ClawbackMode, Component, Draw, Payout, PeriodInput, Plan, Rounding, Split, SplitKind, Statement, TieRule,
    Tier, TierBasis, TierMode, TierTable, adjustments, compute, paid_out, reclaim, split_deal, what_if,
};
use pipewise_core::{Currency, Date, OpportunityId, UserId};

use crate::{Q1_FIRST, Q1_LAST, credit, d, quarter};

fn table(mode: TierMode, basis: TierBasis, tiers: &[(&str, &str)]) -> TierTable {
    TierTable { mode, basis, tiers: tiers.iter().map(|(lower, rate)| Tier { lower: d(lower), rate: d(rate) }).collect() }
}

fn commission(rule: &str, measure: SplitKind, table: TierTable) -> Component {
    Component::Commission { rule: rule.to_owned(), measure, table }
}

/// The statement as text: one line a line (kind, deal, tier, base × rate = unrounded → amount),
/// then the total.
fn render(statement: &Statement) -> String {
    let mut text = String::new();
    for line in &statement.lines {
        let deal = line.deal.map_or(String::from("-"), |deal| deal.to_string());
        let tier = line.tier.map_or(String::from("-"), |tier| tier.to_string());
        let rate = line.rate.map_or(String::from("-"), |rate| rate.normalize().to_string());
        text += &format!(
            "{:?} deal {deal} tier {tier}: {} x {rate} = {} -> {}\n",
            line.kind,
            line.base.normalize(),
            line.unrounded.normalize(),
            line.amount
        );
    }
    text + &format!("total {}", statement.total)
}

fn check(plan: &Plan, input: &PeriodInput<'_>, expected: &str) -> Statement {
    let statement = compute(plan, input).expect("the plan computes");
    assert_eq!(render(&statement), expected.trim(), "\n{}", render(&statement));
    statement
}

fn us_plan(components: Vec<Component>) -> Plan {
    Plan::new("AE 2026", 3, Currency::USD, components)
}

#[test]
fn marginal_tiers_pay_each_slice_at_its_own_rate() {
    // 0-150,000 at 4%, 150,000-250,000 at 6%, 250,000+ at 8%. Prior bookings 145,000 take the
    // first tier to 145,000: 5,000 of the new 20,000 at 4% = 200.00, the other 15,000 at 6% = 900.00.
    let plan = us_plan(vec![commission(
        "bookings",
        SplitKind::Revenue,
        table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.04"), ("150000", "0.06"), ("250000", "0.08")]),
    )]);
    let credits = [credit(1, "145000.00", Q1_FIRST), credit(2, "20000.00", Q1_LAST)];
    check(
        &plan,
        &quarter(&credits, None),
        "
Commission deal 1 tier 0: 145000 x 0.04 = 5800 -> 5800.00
Commission deal 2 tier 0: 5000 x 0.04 = 200 -> 200.00
Commission deal 2 tier 1: 15000 x 0.06 = 900 -> 900.00
total 6900.00",
    );
    // What the new deal earned: 6,900.00 - 5,800.00 = 1,100.00, which is also what it adds.
    assert_eq!(what_if(&plan, &quarter(&credits[..1], None), credit(2, "20000.00", Q1_LAST)).unwrap(), d("1100.00"));
}

#[test]
fn the_same_bookings_pay_more_retroactive_than_marginal() {
    // ARR 220,000 under 0-150k 4% / 150-250k 8% / 250k+ 12%.
    // Retroactive: all 220,000 at 8% = 17,600.00. Marginal: 150,000 x 4% + 70,000 x 8% = 6,000 + 5,600 = 11,600.00.
    let tiers = [("0", "0.04"), ("150000", "0.08"), ("250000", "0.12")];
    let credits = [credit(1, "220000.00", Q1_FIRST)];
    let retroactive = us_plan(vec![commission("arr", SplitKind::Revenue, table(TierMode::Retroactive, TierBasis::Amount, &tiers))]);
    check(&retroactive, &quarter(&credits, None), "Commission deal 1 tier 1: 220000 x 0.08 = 17600 -> 17600.00\ntotal 17600.00");
    let marginal = us_plan(vec![commission("arr", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &tiers))]);
    check(
        &marginal,
        &quarter(&credits, None),
        "
Commission deal 1 tier 0: 150000 x 0.04 = 6000 -> 6000.00
Commission deal 1 tier 1: 70000 x 0.08 = 5600 -> 5600.00
total 11600.00",
    );
    // Reached in two deals, the retroactive plan pays the 4-point difference on the first 100,000
    // when the second crosses 150,000: 100,000 x 4% + 120,000 x 8% + 100,000 x 4% = 4,000 + 9,600 + 4,000.
    let two = [credit(1, "100000.00", Q1_FIRST), credit(2, "120000.00", Q1_LAST)];
    check(
        &retroactive,
        &quarter(&two, None),
        "
Commission deal 1 tier 0: 100000 x 0.04 = 4000 -> 4000.00
Commission deal 2 tier 1: 120000 x 0.08 = 9600 -> 9600.00
RetroactiveUplift deal 2 tier 1: 100000 x 0.04 = 4000 -> 4000.00
total 17600.00",
    );
}

#[test]
fn an_accelerator_above_quota_is_held_to_the_cap_by_one_cap_line() {
    // Quota 100,000: 10% up to 100%, 15% above; cap 20,000. Bookings 250,000:
    // 100,000 x 10% = 10,000 + 150,000 x 15% = 22,500 = 32,500, capped at 20,000 by -12,500.
    let mut plan = us_plan(vec![commission(
        "quota",
        SplitKind::Revenue,
        table(TierMode::Marginal, TierBasis::Attainment, &[("0", "0.10"), ("1", "0.15")]),
    )]);
    plan.cap = Some(Cap { amount: d("20000"), carry_forward: false });
    let credits = [credit(1, "250000.00", Q1_LAST)];
    let statement = check(
        &plan,
        &quarter(&credits, Some("100000")),
        "
Commission deal 1 tier 0: 100000 x 0.1 = 10000 -> 10000.00
Commission deal 1 tier 1: 150000 x 0.15 = 22500 -> 22500.00
Cap deal - tier -: 32500 x 20000 = -12500 -> -12500.00
total 20000.00",
    );
    assert_eq!(statement.cap_carried_out, d("0"));
    assert_eq!(statement.attainment.and_then(Attainment::fraction), Some(d("2.5")));

    // Carried forward instead, the 12,500 is paid next quarter as far as its cap allows:
    // next quarter earns 10,000 (100,000 at 10%), so 10,000 of the 12,500 fits; 2,500 goes on.
    plan.cap = Some(Cap { amount: d("20000"), carry_forward: true });
    let carried = compute(&plan, &quarter(&credits, Some("100000"))).unwrap().cap_carried_out;
    assert_eq!(carried, d("12500.00"));
    let next = [credit(2, "100000.00", Q1_FIRST)];
    let statement = check(
        &plan,
        &PeriodInput { cap_carried_in: carried, ..quarter(&next, Some("100000")) },
        "
Commission deal 2 tier 0: 100000 x 0.1 = 10000 -> 10000.00
CapCarriedIn deal - tier -: 12500 x 20000 = 10000 -> 10000.00
total 20000.00",
    );
    assert_eq!(statement.cap_carried_out, d("2500.00"));
}

#[test]
fn reaching_exactly_100_percent_earns_the_upper_tier_unless_ties_go_lower() {
    // Retroactive on attainment: 0-100% at 10%, 100%+ at 15%. Exactly 100,000 of 100,000.
    let mut plan = us_plan(vec![commission(
        "quota",
        SplitKind::Revenue,
        table(TierMode::Retroactive, TierBasis::Attainment, &[("0", "0.10"), ("1", "0.15")]),
    )]);
    let credits = [credit(1, "100000.00", Q1_LAST)];
    check(&plan, &quarter(&credits, Some("100000")), "Commission deal 1 tier 1: 100000 x 0.15 = 15000 -> 15000.00\ntotal 15000.00");
    plan.ties = TieRule::LowerTier;
    check(&plan, &quarter(&credits, Some("100000")), "Commission deal 1 tier 0: 100000 x 0.1 = 10000 -> 10000.00\ntotal 10000.00");
}

#[test]
fn split_deals_credit_revenue_once_and_overlay_on_top() {
    // 100,000 deal: A 50% revenue + 20% overlay, B 50% revenue. AE rate 10%, overlay 2%.
    // A: 50,000 x 10% = 5,000.00 and 20,000 x 2% = 400.00. B: 50,000 x 10% = 5,000.00.
    let (a, b) = (UserId(1), UserId(2));
    let splits = [
        Split { person: a, kind: SplitKind::Revenue, share: d("0.5") },
        Split { person: a, kind: SplitKind::Overlay, share: d("0.2") },
        Split { person: b, kind: SplitKind::Revenue, share: d("0.5") },
    ];
    let credits = split_deal(OpportunityId(9), d("100000.00"), Currency::USD, Q1_LAST, &splits).unwrap();
    let plan = us_plan(vec![
        commission("ae", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.10")])),
        commission("overlay", SplitKind::Overlay, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.02")])),
    ]);
    let of = |person: UserId| credits.iter().filter(|credit| credit.person == person).cloned().collect::<Vec<_>>();
    let a_credits = of(a);
    check(
        &plan,
        &quarter(&a_credits, None),
        "
Commission deal 9 tier 0: 50000 x 0.1 = 5000 -> 5000.00
Commission deal 9 tier 0: 20000 x 0.02 = 400 -> 400.00
total 5400.00",
    );
    let b_credits = of(b);
    let b_statement = PeriodInput { payee: b, ..quarter(&b_credits, None) };
    check(&plan, &b_statement, "Commission deal 9 tier 0: 50000 x 0.1 = 5000 -> 5000.00\ntotal 5000.00");
    // Team bookings count revenue credits only: 100,000, not 120,000.
    let team_bookings: rust_decimal::Decimal =
        credits.iter().filter(|credit| credit.kind == SplitKind::Revenue).map(|credit| credit.amount).sum();
    assert_eq!(team_bookings, d("100000.00"));
}

#[test]
fn variable_pay_split_75_25_between_individual_and_team_attainment() {
    // Variable 10,000: 75% on individual attainment (80%), 25% on the team's (120%).
    // 10,000 x 0.75 x 0.8 = 6,000.00 + 10,000 x 0.25 x 1.2 = 3,000.00 = 9,000.00.
    let plan = us_plan(vec![Component::TargetIncentive {
        rule: "variable".into(),
        target: d("10000"),
        parts: vec![(AttainmentOf::Individual, d("0.75")), (AttainmentOf::Team, d("0.25"))],
    }]);
    let credits = [credit(1, "80000.00", Q1_FIRST)];
    let team = Some(Attainment { bookings: d("1200000"), quota: d("1000000") });
    check(
        &plan,
        &PeriodInput { team, ..quarter(&credits, Some("100000")) },
        "
Incentive deal - tier -: 0.8 x 0.75 = 6000 -> 6000.00
Incentive deal - tier -: 1.2 x 0.25 = 3000 -> 3000.00
total 9000.00",
    );
}

#[test]
fn a_non_recoverable_draw_tops_up_and_a_recoverable_one_is_paid_back_above_the_floor() {
    // Draw 5,000 against 3,200 earned (32,000 at 10%): a top-up of 1,800.00.
    let mut plan = us_plan(vec![commission("ae", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.10")]))]);
    plan.draw = Some(Draw { amount: d("5000"), recoverable: false });
    let credits = [credit(1, "32000.00", Q1_FIRST)];
    let statement = check(
        &plan,
        &quarter(&credits, None),
        "
Commission deal 1 tier 0: 32000 x 0.1 = 3200 -> 3200.00
DrawTopUp deal - tier -: 3200 x 5000 = 1800 -> 1800.00
total 5000.00",
    );
    assert_eq!(statement.draw_owed_out, d("0"));

    // Recoverable: the 1,800 is owed. Next quarter earns 6,000: only the 1,000 above the
    // 5,000 floor is recovered, 800 stays owed.
    plan.draw = Some(Draw { amount: d("5000"), recoverable: true });
    let owed = compute(&plan, &quarter(&credits, None)).unwrap().draw_owed_out;
    assert_eq!(owed, d("1800.00"));
    let next = [credit(2, "60000.00", Q1_FIRST)];
    let statement = check(
        &plan,
        &PeriodInput { draw_owed_in: owed, ..quarter(&next, None) },
        "
Commission deal 2 tier 0: 60000 x 0.1 = 6000 -> 6000.00
DrawRecovery deal - tier -: 1800 x 5000 = -1000 -> -1000.00
total 5000.00",
    );
    assert_eq!(statement.draw_owed_out, d("800.00"));
}

#[test]
fn bonuses_gates_and_spiffs() {
    // Steps: 1,000 at 100%, 3,000 at 120% (not added). Linear: 0 below 80%, 500 at 80% rising
    // to 2,500 at 120%. At 110%: step 1,000; linear 500 + 2,000 x (0.3 / 0.4) = 2,000.
    // SPIFF 250 a deal of at least 50,000 booked in March: deal 2 only. Gate at 50%.
    let mut plan = us_plan(vec![
        Component::Bonus {
            rule: "steps".into(),
            of: AttainmentOf::Individual,
            curve: pipewise_comp::BonusCurve::Steps(vec![(d("1"), d("1000")), (d("1.2"), d("3000"))]),
        },
        Component::Bonus {
            rule: "linear".into(),
            of: AttainmentOf::Individual,
            curve: pipewise_comp::BonusCurve::Linear { from: d("0.8"), to: d("1.2"), at_from: d("500"), at_to: d("2500") },
        },
        Component::Spiff {
            rule: "march".into(),
            amount: d("250"),
            min_amount: d("50000"),
            first: pipewise_core::Date::constant(2026, 3, 1),
            last: Q1_LAST,
        },
    ]);
    plan.gate = Some(d("0.5"));
    let credits = [credit(1, "50000.00", Q1_FIRST), credit(2, "60000.00", Q1_LAST)];
    check(
        &plan,
        &quarter(&credits, Some("100000")),
        "
Bonus deal - tier -: 1.1 x - = 1000 -> 1000.00
Bonus deal - tier -: 1.1 x - = 2000 -> 2000.00
Spiff deal 2 tier -: 60000 x - = 250 -> 250.00
total 3250.00",
    );
    // Below the gate (110% against a gate of 150%) one gate line withholds the bonuses; the SPIFF still pays.
    let mut higher_gate = plan.clone();
    higher_gate.gate = Some(d("1.5"));
    check(
        &higher_gate,
        &quarter(&credits, Some("100000")),
        "
Bonus deal - tier -: 1.1 x - = 1000 -> 1000.00
Bonus deal - tier -: 1.1 x - = 2000 -> 2000.00
Spiff deal 2 tier -: 60000 x - = 250 -> 250.00
Gate deal - tier -: 1.1 x 1.5 = -3000 -> -3000.00
total 250.00",
    );
}

#[test]
fn a_clawback_is_posted_in_the_open_period_and_the_locked_statement_stays() {
    // Q1 locked with deals 1 (40,000) and 2 (80,000) under 0-100k 5%, 100k+ 10% marginal:
    // 40,000 x 5% = 2,000; 60,000 x 5% = 3,000 and 20,000 x 10% = 2,000: 7,000.00.
    let plan = us_plan(vec![commission(
        "ae",
        SplitKind::Revenue,
        table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.05"), ("100000", "0.10")]),
    )]);
    let credits = [credit(1, "40000.00", Q1_FIRST), credit(2, "80000.00", Q1_LAST)];
    let locked = compute(&plan, &quarter(&credits, None)).unwrap();
    assert_eq!(locked.total, d("7000.00"));
    // Deal 1 is clawed back. Default: it leaves attainment and Q1 is recomputed: deal 2 alone,
    // 80,000 x 5% = 4,000. The difference goes in the open period, naming the lines it corrects.
    let recomputed = compute(&plan, &quarter(&credits[1..], None)).unwrap();
    let posted = adjustments(&locked, &recomputed);
    let rendered: Vec<String> = posted
        .iter()
        .map(|line| {
            format!("{:?} {:?} tier {:?}: {} corrects {:?}", line.deal, line.kind, line.tier, line.amount, line.corrects.map(|at| at.index))
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "Some(OpportunityId(1)) Adjustment tier Some(0): -2000.00 corrects Some(0)",
            "Some(OpportunityId(2)) Adjustment tier Some(0): 1000.00 corrects Some(1)",
            "Some(OpportunityId(2)) Adjustment tier Some(1): -2000.00 corrects Some(2)",
        ]
    );
    let posted_total: rust_decimal::Decimal = posted.iter().map(|line| line.amount).sum();
    assert_eq!(posted_total, recomputed.total - locked.total);
    // The option: reclaim what deal 1 paid and keep attainment.
    let reclaimed = reclaim(&locked, OpportunityId(1));
    assert_eq!(reclaimed.iter().map(|line| line.amount).collect::<Vec<_>>(), [d("-2000.00")]);
    assert_eq!(locked, compute(&plan, &quarter(&credits, None)).unwrap(), "a locked period computes the same every time");
}

#[test]
fn a_reversal_inside_the_window_is_clawed_back_and_one_after_it_is_kept() {
    // The same Q1 as above: deal 1 (40,000, booked 1 January) and deal 2 (80,000, 31 March) under
    // 0-100k 5%, 100k+ 10% marginal: 7,000.00 with both.
    let mut plan = us_plan(vec![commission(
        "ae",
        SplitKind::Revenue,
        table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.05"), ("100000", "0.10")]),
    )]);
    plan.clawback = Clawback { window_days: Some(90), mode: ClawbackMode::Recompute };
    let reversed_after = |days: i64| {
        let mut credits = [credit(1, "40000.00", Q1_FIRST), credit(2, "80000.00", Q1_LAST)];
        credits[0].reversed_on = pipewise_core::time::plus_days(Q1_FIRST, days);
        credits
    };
    // Lost on day 90 after its booking (1 April): inside the window. Q1 without it: 80,000 x 5%.
    let inside = reversed_after(90);
    check(&plan, &quarter(&inside, None), "Commission deal 2 tier 0: 80000 x 0.05 = 4000 -> 4000.00\ntotal 4000.00");
    // Lost on day 91: after the window, the deal stays as it was won, and its line says when it was reversed.
    let after = reversed_after(91);
    let kept = check(
        &plan,
        &quarter(&after, None),
        "
Commission deal 1 tier 0: 40000 x 0.05 = 2000 -> 2000.00
Commission deal 2 tier 0: 60000 x 0.05 = 3000 -> 3000.00
Commission deal 2 tier 1: 20000 x 0.1 = 2000 -> 2000.00
total 7000.00",
    );
    assert_eq!(kept.lines[0].credit.as_ref().and_then(|credit| credit.reversed_on), Some(Date::constant(2026, 4, 2)));
    // Without a window every reversal is clawed back.
    plan.clawback.window_days = None;
    assert_eq!(compute(&plan, &quarter(&reversed_after(3_000), None)).unwrap().total, d("4000.00"));

    // The reclaim option: deal 1 pays nothing but keeps its 40,000 in attainment, so deal 2's
    // slices stay where they were (60,000 at 5% and 20,000 at 10%): 5,000.00, and what the
    // locked Q1 posts against it is exactly what `reclaim` takes back: -2,000.00 on deal 1.
    plan.clawback = Clawback { window_days: Some(90), mode: ClawbackMode::Reclaim };
    let quota_input = |credits| PeriodInput { quota: Some(d("100000")), ..quarter(credits, None) };
    let reclaimed = check(
        &plan,
        &quota_input(&inside),
        "
Commission deal 2 tier 0: 60000 x 0.05 = 3000 -> 3000.00
Commission deal 2 tier 1: 20000 x 0.1 = 2000 -> 2000.00
total 5000.00",
    );
    assert_eq!(reclaimed.attainment.map(|attainment| attainment.bookings), Some(d("120000.00")), "attainment kept");
    let won = [credit(1, "40000.00", Q1_FIRST), credit(2, "80000.00", Q1_LAST)];
    let locked = compute(&plan, &quota_input(&won)).unwrap();
    let posted: Vec<_> = adjustments(&locked, &reclaimed).iter().map(|line| (line.deal, line.amount)).collect();
    let taken: Vec<_> = reclaim(&locked, OpportunityId(1)).iter().map(|line| (line.deal, line.amount)).collect();
    assert_eq!(posted, [(Some(OpportunityId(1)), d("-2000.00"))]);
    assert_eq!(posted, taken);
}

#[test]
fn a_plan_paid_out_in_another_currency_converts_its_total_on_the_payout_day() {
    // A USD plan paid out in KRW 15 days after the quarter: 7,000.00 USD x 1,385.456 = 9,698,192
    // KRW (no minor units: 9,698,192.0 exactly); the day is 15 April.
    let mut plan = us_plan(vec![commission("ae", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.05")]))]);
    assert_eq!(paid_out(&plan, Q1_LAST, d("7000.00"), Some(d("1385.456"))).unwrap(), None, "paid in its own currency");
    plan.payout = Some(Payout { currency: Currency::KRW, days_after: 15 });
    assert_eq!(plan.payout_day(Q1_LAST), Some(Date::constant(2026, 4, 15)));
    let paid = paid_out(&plan, Q1_LAST, d("7000.00"), Some(d("1385.456"))).unwrap().expect("a payout");
    assert_eq!((paid.currency, paid.on, paid.amount), (Currency::KRW, Date::constant(2026, 4, 15), Some(d("9698192"))));
    // Rounded once, half up: 0.01 USD x 1,385.5 = 13.855 KRW -> 14.
    assert_eq!(paid_out(&plan, Q1_LAST, d("0.01"), Some(d("1385.5"))).unwrap().and_then(|paid| paid.amount), Some(d("14")));
    // Before the day's rate is known the payout names its day and waits.
    let waiting = paid_out(&plan, Q1_LAST, d("7000.00"), None).unwrap().expect("a payout");
    assert_eq!((waiting.rate, waiting.amount), (None, None));
}

#[test]
fn half_even_rounding_and_payment_timing() {
    // 0.125 at 10% = 0.0125: half up 0.01 either way; 0.25 at 10% = 0.025 → 0.03 half up, 0.02 half even.
    let mut plan = us_plan(vec![commission("ae", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.10")]))]);
    let credits = [credit(1, "0.25", Q1_FIRST)];
    assert_eq!(compute(&plan, &quarter(&credits, None)).unwrap().total, d("0.03"));
    plan.rounding = Rounding::HalfEven;
    assert_eq!(compute(&plan, &quarter(&credits, None)).unwrap().total, d("0.02"));
    // Paid on cash: a credit without a payment date is held, one paid in April is next quarter's.
    plan.timing = pipewise_comp::Timing::Cash;
    let mut paid_in_april = credit(2, "1000.00", Q1_FIRST);
    paid_in_april.paid_on = Some(pipewise_core::Date::constant(2026, 4, 2));
    let statement = compute(&plan, &quarter(&[credit(1, "0.25", Q1_FIRST), paid_in_april], None)).unwrap();
    assert_eq!((statement.lines.len(), statement.held), (0, 1));
}

#[test]
fn a_plan_or_split_that_cannot_pay_says_which_rule_or_deal() {
    let plan = us_plan(vec![commission("quota", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Attainment, &[("0", "0.1")]))]);
    let error = compute(&plan, &quarter(&[credit(1, "10.00", Q1_FIRST)], None)).unwrap_err();
    assert_eq!(error.to_string(), "rule \"quota\": its tiers are in attainment but the period has no quota");
    let bad =
        us_plan(vec![commission("ae", SplitKind::Revenue, table(TierMode::Marginal, TierBasis::Amount, &[("0", "0.1"), ("0", "0.2")]))]);
    assert_eq!(
        compute(&bad, &quarter(&[], None)).unwrap_err().to_string(),
        "rule \"ae\": tier 1 starts at 0, not above the tier before it"
    );
    let mut won = credit(5, "10", Q1_FIRST);
    won.currency = Currency::EUR;
    assert_eq!(
        compute(&plan, &quarter(&[won], Some("1"))).unwrap_err().to_string(),
        "opportunity 5: credited in EUR, but the plan pays in USD"
    );
}
