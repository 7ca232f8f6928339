//! What statements read and how a person's statement is worked out from it: the won deals and
//! quotas of a span of days gathered once ([`Facts`]), each period's credits (splits shared exactly,
//! foreign deals at the close date's rate), what the period before carried, and what a locked
//! period was last settled as.

use super::*;

/// What was last settled for `earlier`: the recomputation posted by the latest locked statement
/// that corrected it, else its own lines, less the corrections of other periods it carried.
pub(super) fn settled_as(
    locked: &[StoredStatement],
    earlier: &StoredStatement,
    documents: &std::collections::BTreeMap<i64, Value>,
) -> Result<Statement> {
    let document = |stored: &StoredStatement| documents.get(&stored.id).ok_or_else(|| corrupt(stored, "its document was not read"));
    let mut settled = statement_from(earlier.clone(), document(earlier)?)?.statement;
    // A locked statement's own lines; its adjustment lines corrected other periods (a new line
    // of one names nothing it corrects, so the kind tells them apart, not `corrects`).
    settled.lines.retain(|line| !matches!(line.kind, LineKind::Adjustment | LineKind::Reclaim));
    for later in locked.iter().filter(|later| later.first > earlier.first) {
        if let Some(corrections) = document(later)?["corrections"].as_array() {
            for correction in corrections.iter().filter(|correction| correction["first"].as_str() == Some(&earlier.first.to_string())) {
                settled.lines = lines_from(&correction["lines"]).map_err(|detail| corrupt(later, detail))?;
            }
        }
    }
    Ok(settled)
}

/// What the period before carried into a period: the cap's excess and the draw still owed.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Carried {
    cap: Decimal,
    draw: Decimal,
}

impl Carried {
    fn from_document(value: &Value) -> Carried {
        Carried { cap: decimal_of(&value["cap_carried_out"]), draw: decimal_of(&value["draw_owed_out"]) }
    }

    /// What the statement of the period before `period`, among `statements` (with their parsed
    /// `documents`), carried out.
    pub(super) fn into_period(
        period: &FiscalPeriod,
        statements: &[StoredStatement],
        documents: &std::collections::BTreeMap<i64, Value>,
    ) -> Carried {
        // The statement that ended the day before: found by its days, so a change of calendar
        // does not lose what it carried.
        let before = period.first.yesterday().ok();
        statements
            .iter()
            .find(|stored| stored.kind == period.kind && Some(stored.last) == before)
            .and_then(|stored| documents.get(&stored.id))
            .map_or_else(Carried::default, Carried::from_document)
    }
}

/// What the facts cover: the days (every period computed, and the locked ones re-checked), and
/// whether deals reopened or lost since they were won are read (only a plan with a clawback
/// window or the reclaim option keeps or counts them).
#[derive(Clone, Copy, Debug)]
pub(super) struct Reach {
    pub first: Date,
    pub last: Date,
    pub reversals: bool,
    /// Whether some plan pays on invoice or cash (else the deals' billing dates are not read).
    pub billed: bool,
}

/// A period's first and last day, a plan's currency and its timing: what a period's credits
/// are worked out for.
type CreditsKey = (Date, Date, Currency, Timing);

/// What statements read, gathered once for a span of days that covers every period computed:
/// the won deals by owner (one pass over the projection), each period's quotas (read once a
/// period), the organisation's people and calendar.
pub(super) struct Facts {
    span: Period,
    won: Vec<Vec<WonDeal>>,
    books: std::collections::BTreeMap<(Date, Date), crate::quotas::QuotaBook>,
    /// For one person's statements: the quotas over the span of the person, their team and its
    /// members, read once (`None`: everyone's, read a period at a time).
    scoped: Option<Vec<StoredQuota>>,
    /// Every deal's invoice and cash dates, as recorded.
    billing: std::collections::BTreeMap<OpportunityId, StoredBilling>,
    /// Every deal's splits (a deal without any credits its owner with all of it).
    splits: std::collections::BTreeMap<OpportunityId, Vec<pipewise_comp::Split>>,
    /// Each period's credits by person in a plan's currency under a plan's timing, worked out
    /// once a period, currency and timing.
    credits: std::collections::BTreeMap<CreditsKey, std::collections::BTreeMap<UserId, Vec<Credit>>>,
    /// The organisation's exchange rates: a credit is converted at its close date's rate.
    rates: Option<pipewise_core::fx::RateTable>,
    /// Who was on which team on which day: a team books its members' credits by the team each
    /// was on at the credit's payable day.
    teams: pipewise_core::user::TeamHistory,
    /// Each period's crews by team ([`pipewise_core::user::TeamHistory::crews`]), worked out once
    /// a period.
    crews: std::collections::BTreeMap<(Date, Date), std::collections::BTreeMap<TeamId, pipewise_core::user::Crew>>,
    /// Each person's plan assignments, oldest first: the days they were on a plan.
    assignments: std::collections::BTreeMap<UserId, Vec<(Date, Option<Date>)>>,
}

impl Facts {
    /// `quota` for the days of `period` that `user` was on a plan, ramped by `ramp` from the
    /// first day of their first plan (`pipewise_comp::carried`): each of their assignments that
    /// overlaps the period carries its days' share (a start on day 31 of a 90-day quarter: 60/90;
    /// a gap between two plans is not paid a quota for; a day two plans cover counts once), each
    /// day at its month of tenure's fraction.
    fn carried(&self, user: UserId, period: &FiscalPeriod, quota: Decimal, ramp: &[Decimal]) -> Decimal {
        let Some(spans) = self.assignments.get(&user) else { return quota };
        let started = spans.first().map(|(first, _)| *first);
        pipewise_comp::carried(quota, period.first, period.last, spans, ramp, started)
    }

    /// `plan`'s payout of a statement totalling `total` for `period`, at the payout day's rate
    /// once that rate is final (`pipewise_core::fx::RateTable::settled`), else naming the day
    /// and waiting for it.
    pub(super) fn payout(&self, plan: &Plan, period_last: Date, total: Decimal) -> Result<Option<PaidOut>> {
        payout_at(self.rates.as_ref(), plan, period_last, total)
    }
}

/// [`Facts::payout`] with `rates` (the organisation's).
pub(super) fn payout_at(
    rates: Option<&pipewise_core::fx::RateTable>,
    plan: &Plan,
    period_last: Date,
    total: Decimal,
) -> Result<Option<PaidOut>> {
    let rate = match (plan.payout, plan.payout_day(period_last), rates) {
        (Some(payout), Some(day), Some(rates)) if rates.settled(plan.currency, day) && rates.settled(payout.currency, day) => {
            match (rates.rate(plan.currency, day), rates.rate(payout.currency, day)) {
                (Ok(from), Ok(to)) => to.checked_div(from).map(|rate| rate.round_dp(10).normalize()),
                _ => None,
            }
        }
        _ => None,
    };
    pipewise_comp::paid_out(plan, period_last, total, rate).map_err(|error| {
        FieldError {
            record: RecordRef::new_record(STATEMENT),
            field: "payout",
            problem: Problem::Invalid { value: error.to_string(), expected: "a payout that converts" },
        }
        .into()
    })
}

impl Facts {
    /// Everyone's facts over `first..=last`.
    pub(super) fn gather(tx: &mut Tx, org: OrgId, projection: &Projection, reach: Reach, assignments: &[PlanAssignment]) -> Result<Facts> {
        Facts::gather_for(tx, org, projection, reach, assignments, None)
    }

    /// With `person`, only what their statements read: their won deals and their team's, and
    /// those people's quotas (a handful of indexed reads instead of everyone's).
    /// `assignments` are the organisation's plan assignments (read once by the caller).
    pub(super) fn gather_for(
        tx: &mut Tx,
        org: OrgId,
        projection: &Projection,
        reach: Reach,
        assignments: &[PlanAssignment],
        person: Option<UserId>,
    ) -> Result<Facts> {
        let Reach { first, last, reversals, billed } = reach;
        let span = Period::new(pipewise_analytics::day_of_date(first), pipewise_analytics::day_of_date(last));
        let teams = crate::users::team_history(tx, org)?;
        let mut splits: std::collections::BTreeMap<OpportunityId, Vec<pipewise_comp::Split>> = std::collections::BTreeMap::new();
        for split in tx.0.splits(org, None)? {
            let kind = if split.overlay { SplitKind::Overlay } else { SplitKind::Revenue };
            splits.entry(split.deal).or_default().push(pipewise_comp::Split { person: split.user, kind, share: split.share });
        }
        let (won, scoped) = match person {
            None => (won_by_owner(projection, span, reversals, |_, _| true), None),
            Some(person) => {
                // Their teams in the span, and everyone on one of them on some day of it.
                let their_teams = teams.teams_during(person, first, last);
                let mut people: BTreeSet<UserId> = [person].into();
                for team in &their_teams {
                    people.extend(teams.members_during(*team, first, last));
                }
                let people: Vec<UserId> = people.into_iter().collect();
                let owners: BTreeSet<u32> = people.iter().filter_map(|user| projection.owner_index(*user)).collect();
                // The deals split with these people, whoever won them.
                let split_with: BTreeSet<OpportunityId> = splits
                    .iter()
                    .filter(|(_, parts)| parts.iter().any(|part| people.contains(&part.person)))
                    .map(|(deal, _)| *deal)
                    .collect();
                let mut subjects: Vec<QuotaSubject> = people.iter().map(|user| QuotaSubject::User(*user)).collect();
                subjects.extend(their_teams.iter().copied().map(QuotaSubject::Team));
                let mut quotas = Vec::new();
                for subject in subjects {
                    quotas.extend(tx.0.quotas_of(org, subject, first, last)?);
                }
                (
                    won_by_owner(projection, span, reversals, |owner, deal| owners.contains(&owner) || split_with.contains(&deal)),
                    Some(quotas),
                )
            }
        };
        let rates = tx.0.rate_table(org)?;
        let billing = match billed {
            true => tx.0.billing(org, None)?.into_iter().map(|billing| (billing.deal, billing)).collect(),
            false => Default::default(),
        };
        let mut spans: std::collections::BTreeMap<UserId, Vec<(Date, Option<Date>)>> = std::collections::BTreeMap::new();
        for assignment in assignments {
            spans.entry(assignment.user).or_default().push((assignment.first, assignment.last));
        }
        let mut assignments = spans;
        assignments.values_mut().for_each(|spans| spans.sort());
        Ok(Facts {
            span,
            won,
            books: Default::default(),
            scoped,
            billing,
            splits,
            credits: Default::default(),
            rates,
            teams,
            crews: Default::default(),
            assignments,
        })
    }

    /// Reads `period`'s quotas, once.
    fn load_book(&mut self, tx: &mut Tx, org: OrgId, period: &FiscalPeriod) -> Result<()> {
        if let std::collections::btree_map::Entry::Vacant(entry) = self.books.entry((period.first, period.last)) {
            let book = match &self.scoped {
                None => crate::quotas::quota_book(tx, org, &Access::System, period.first, period.last)?,
                Some(quotas) => crate::quotas::book_of(quotas, period.first, period.last),
            };
            entry.insert(book);
        }
        Ok(())
    }

    /// Works out `period`'s credits by person under `timing`, once: each won deal that falls in
    /// it shared by its splits (revenue shares adding up to the deal exactly, overlay on top),
    /// else all to its owner. On booking a deal falls in the period it closed in; on invoice or
    /// cash, in the period of that date, and a deal closed in the period without the date yet is
    /// listed too (the statement counts it as held).
    fn load_credits(&mut self, projection: &Projection, period: &FiscalPeriod, currency: Currency, timing: Timing) -> Result<()> {
        let key = (period.first, period.last, currency, timing);
        if self.credits.contains_key(&key) {
            return Ok(());
        }
        let days = Period::from(period);
        debug_assert!(days.first >= self.span.first && days.last <= self.span.last, "the facts cover the period");
        let billing = &self.billing;
        let falls_in = |deal: &WonDeal| {
            let dates = billing.get(&deal.id);
            let payable = match timing {
                Timing::Booking => return days.contains(deal.closed_day),
                Timing::Invoice => dates.and_then(|dates| dates.invoiced_on),
                Timing::Cash => dates.and_then(|dates| dates.paid_on),
            };
            // Never payable before it was won (`pipewise_comp::payable_on`).
            match payable.map(|day| day.max(date_of_day(deal.closed_day))) {
                Some(day) => day >= period.first && day <= period.last,
                None => days.contains(deal.closed_day),
            }
        };
        let mut by_person: std::collections::BTreeMap<UserId, Vec<Credit>> = std::collections::BTreeMap::new();
        for (owner, deals) in self.won.iter().enumerate() {
            for deal in deals.iter().filter(|deal| falls_in(deal)) {
                let owner_id = projection.owner_ids[owner];
                let mut whole = credit(deal, owner_id, currency, self.rates.as_ref(), projection)?;
                if let Some(billing) = self.billing.get(&deal.id) {
                    (whole.invoiced_on, whole.paid_on) = (billing.invoiced_on, billing.paid_on);
                }
                match self.splits.get(&deal.id) {
                    None => by_person.entry(owner_id).or_default().push(whole),
                    Some(splits) => {
                        let shared =
                            pipewise_comp::split_deal(deal.id, whole.amount, whole.currency, whole.booked_on, splits).map_err(|error| {
                                FieldError {
                                    record: RecordRef::new(DEAL_SPLIT, deal.id.0),
                                    field: "share",
                                    problem: Problem::Invalid {
                                        value: error.to_string(),
                                        expected: "splits whose revenue shares add up to 100%",
                                    },
                                }
                            })?;
                        for part in shared {
                            by_person.entry(part.person).or_default().push(Credit {
                                fx: whole.fx,
                                reversed_on: whole.reversed_on,
                                invoiced_on: whole.invoiced_on,
                                paid_on: whole.paid_on,
                                ..part
                            });
                        }
                    }
                }
            }
        }
        self.credits.insert(key, by_person);
        Ok(())
    }
}

/// The statement `plan` gives `user` for the facts' period from the projection's won deals.
#[allow(clippy::too_many_arguments)]
pub(super) fn statement_for(
    tx: &mut Tx,
    org: OrgId,
    projection: &Projection,
    facts: &mut Facts,
    period: &FiscalPeriod,
    plan: &Plan,
    user: UserId,
    carried: Carried,
    extra: Option<Credit>,
) -> Result<Statement> {
    facts.load_book(tx, org, period)?;
    facts.load_credits(projection, period, plan.currency, plan.timing)?;
    if !facts.crews.contains_key(&(period.first, period.last)) {
        let crews = facts.teams.crews(period.first, period.last);
        facts.crews.insert((period.first, period.last), crews);
    }
    let facts = &*facts;
    let crews = &facts.crews[&(period.first, period.last)];
    let book = &facts.books[&(period.first, period.last)];
    let by_person = &facts.credits[&(period.first, period.last, plan.currency, plan.timing)];
    let mut credits: Vec<Credit> = by_person.get(&user).cloned().unwrap_or_default();
    // A what-if deal is the person's revenue, and so their team's.
    let extra_revenue = extra.as_ref().filter(|credit| credit.kind == SplitKind::Revenue).map_or(Decimal::ZERO, |credit| credit.amount);
    credits.extend(extra);
    // The team's bookings and quota, for team parts and bonuses.
    // The person's team is the one they are on at the end of the period.
    let team = facts.teams.team_on(user, period.last);
    let team_attainment = match team {
        None => None,
        Some(team) => {
            // A team books the revenue credits payable in the period, by the plan's timing and
            // clawback rule as each statement counts them, of whoever was on it on the credit's
            // payable day (a rep who moved team mid-period books the old team before the move
            // and the new one after); a deal split inside the team counts once.
            let books_here = |member: UserId, credit: &Credit| {
                pipewise_comp::payable_on(credit, plan.timing)
                    .is_some_and(|day| day >= period.first && day <= period.last && facts.teams.team_on(member, day) == Some(team))
            };
            let nobody = pipewise_core::user::Crew::default();
            let crew = crews.get(&team).unwrap_or(&nobody);
            let bookings: Decimal = crew
                .during
                .iter()
                .copied()
                .filter_map(|member| Some((member, by_person.get(&member)?)))
                .flat_map(|(member, credits)| credits.iter().map(move |credit| (member, credit)))
                .filter(|(member, credit)| {
                    credit.kind == SplitKind::Revenue
                        && plan.counting(credit) != pipewise_comp::Counting::Out
                        && books_here(*member, credit)
                })
                .map(|(_, credit)| credit.amount)
                .sum::<Decimal>()
                + extra_revenue;
            let quota = book.teams.get(&team).copied().or_else(|| {
                let (sum, count) = book.sum_of(crew.at_end.iter());
                (count > 0).then_some(sum)
            });
            quota.map(|quota| Attainment { bookings, quota })
        }
    };
    let Carried { cap: cap_carried_in, draw: draw_owed_in } = carried;
    // A person who joins or leaves the plan inside the period carries the quota of the days
    // they were on it (a start on day 31 of a 90-day quarter: 60/90 of it), ramped in their
    // first months when the plan says so.
    let quota = book.users.get(&user).map(|quota| facts.carried(user, period, *quota, &plan.ramp));
    let input = PeriodInput {
        payee: user,
        first: period.first,
        last: period.last,
        quota,
        team: team_attainment,
        credits: &credits,
        cap_carried_in,
        draw_owed_in,
    };
    pipewise_comp::compute(plan, &input).map_err(|error| {
        FieldError {
            record: RecordRef::new_record(STATEMENT),
            field: "plan",
            problem: Problem::Invalid { value: error.to_string(), expected: "a plan that computes" },
        }
        .into()
    })
}

/// `person`'s whole credit for a won deal in `currency` (the plan's): the deal's own amount when
/// it is in that currency, else converted at the rate of its close date, the rate named on the
/// credit. Without a rate for that day, the projection's reporting amount (converted at the rate
/// of the day it was set) is used when the plan pays in the reporting currency, and named as
/// such; otherwise the statement cannot be computed and says why.
pub(super) fn credit(
    deal: &WonDeal,
    person: UserId,
    currency: Currency,
    rates: Option<&pipewise_core::fx::RateTable>,
    projection: &Projection,
) -> Result<Credit> {
    let booked_on = date_of_day(deal.closed_day);
    let native_minor = u32::from(deal.currency.minor_units());
    let native = Money::new(Decimal::new(deal.amount_native, native_minor), deal.currency).map_err(|problem| FieldError {
        record: RecordRef::new(OpportunityId::LABEL, deal.id.0),
        field: "amount",
        problem,
    })?;
    let (amount, fx) = if deal.currency == currency {
        (native.amount(), None)
    } else {
        match rates.map(|rates| rates.convert(native, currency, booked_on)) {
            Some(Ok(converted)) if !native.amount().is_zero() => {
                let rate = (converted.amount() / native.amount()).round_dp(6);
                (converted.amount(), Some(FxUsed { from: deal.currency, rate, on: booked_on }))
            }
            Some(Ok(converted)) => (converted.amount(), None),
            _ if currency == projection.reporting_currency() => {
                let amount = currency.amount_of(deal.amount);
                let rate = if native.amount().is_zero() { Decimal::ZERO } else { (amount / native.amount()).round_dp(6) };
                (amount, Some(FxUsed { from: deal.currency, rate, on: booked_on }))
            }
            _ => {
                let problem = Problem::Invalid {
                    value: format!("{} on {booked_on}", deal.currency.code()),
                    expected: "a currency with an exchange rate on the close date",
                };
                return Err(FieldError { record: RecordRef::new(OpportunityId::LABEL, deal.id.0), field: "currency", problem }.into());
            }
        }
    };
    Ok(Credit {
        deal: deal.id,
        person,
        kind: SplitKind::Revenue,
        share: Decimal::ONE,
        amount,
        currency,
        fx,
        booked_on,
        invoiced_on: None,
        paid_on: None,
        reversed_on: (deal.reversed_day != pipewise_analytics::NO_DAY).then(|| date_of_day(deal.reversed_day)),
    })
}
