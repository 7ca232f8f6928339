//! The headline figures: the tiles, pipeline by stage and the leaderboard.

use pipewise_analytics::Ratio;

use super::build::Parts;
use super::view::{LeaderRow, StageRow, Tile, count_text, days_text, percent_text, stage_label};
use crate::i18n::t;
use crate::i18n::tf;
use crate::pages::url_with;

// ---------------------------------------------------------------------------------------------
// Headline numbers.

/// The tiles, in their order on the page.
pub(super) fn tiles(parts: &Parts) -> Vec<Tile> {
    let Parts { locale, context, board, .. } = *parts;
    let won_in_period: i128 = board.leaderboard.iter().map(|row| row.won_amount).sum();
    let won_count_in_period: u64 = board.leaderboard.iter().map(|row| row.won_count).sum();
    let mut tiles = vec![
        open_tile(parts),
        coverage_tile(parts),
        won_period_tile(parts, won_in_period, won_count_in_period),
        win_rate_tile(parts),
        cycle_tile(parts),
        velocity_tile(parts),
    ];
    if board.coverage.is_none() {
        // Coverage needs a quota: keep the tile, but it links to the deals closing in the period.
        tiles[1].links.push((t(locale, "dash.figure.closing").to_owned(), context.drill_href("closing", &[])));
    }
    tiles
}

/// The open pipeline: amount, count and weighted amount.
fn open_tile(parts: &Parts) -> Tile {
    let Parts { locale, context, board, .. } = *parts;
    let pipeline = &board.pipeline;
    Tile {
        key: "open",
        label: t(locale, "dash.open_pipeline").to_owned(),
        value: parts.compact(pipeline.amount),
        detail: tf(locale, "dash.open_detail", &[("count", &count_text(pipeline.count)), ("weighted", &parts.compact(pipeline.weighted))]),
        title: tf(locale, "dash.open_title", &[("amount", &parts.money(pipeline.amount)), ("weighted", &parts.money(pipeline.weighted))]),
        href: Some(context.drill_href("open", &[])),
        links: Vec::new(),
    }
}

/// Coverage of the quota still to win by the open deals closing in the period.
fn coverage_tile(parts: &Parts) -> Tile {
    let Parts { locale, context, board, .. } = *parts;
    match &board.coverage {
        Some(coverage) => Tile {
            key: "coverage",
            label: t(locale, "dash.coverage").to_owned(),
            value: coverage.ratio.map_or_else(
                || t(locale, "dash.quota_met").to_owned(),
                |ratio| tf(locale, "dash.times", &[("value", &ratio.round(2).to_string())]),
            ),
            detail: tf(
                locale,
                "dash.coverage_detail",
                &[("open", &parts.compact(coverage.open_closing_in_period)), ("remaining", &parts.compact(coverage.remaining_quota))],
            ),
            title: tf(
                locale,
                "dash.coverage_title",
                &[
                    ("open", &parts.money(coverage.open_closing_in_period)),
                    ("quota", &parts.money(i128::from(coverage.quota))),
                    ("won", &parts.money(coverage.won_in_period)),
                    ("remaining", &parts.money(coverage.remaining_quota)),
                ],
            ),
            href: Some(context.drill_href("closing", &[])),
            links: Vec::new(),
        },
        None => Tile {
            key: "coverage",
            label: t(locale, "dash.coverage").to_owned(),
            value: "—".to_owned(),
            detail: t(locale, "dash.coverage_needs_quota").to_owned(),
            title: t(locale, "dash.quota_note").to_owned(),
            href: Some(context.drill_href("closing", &[])),
            links: Vec::new(),
        },
    }
}

/// What the subject won in the period.
fn won_period_tile(parts: &Parts, won_in_period: i128, won_count_in_period: u64) -> Tile {
    let Parts { locale, context, .. } = *parts;
    Tile {
        key: "won_period",
        label: t(locale, "dash.won_period").to_owned(),
        value: parts.compact(won_in_period),
        detail: tf(locale, "dash.won_period_detail", &[("count", &count_text(won_count_in_period))]),
        title: parts.money(won_in_period),
        href: Some(context.drill_href("won_period", &[])),
        links: Vec::new(),
    }
}

/// The win rate of the deals closed in the window, by count and by value.
fn win_rate_tile(parts: &Parts) -> Tile {
    let Parts { locale, context, board, .. } = *parts;
    let outcomes = &board.outcomes;
    Tile {
        key: "win_rate",
        label: t(locale, "dash.win_rate").to_owned(),
        value: percent_text(outcomes.win_rate_by_count()),
        detail: tf(
            locale,
            "dash.win_rate_detail",
            &[
                ("won", &count_text(outcomes.won)),
                ("lost", &count_text(outcomes.lost)),
                ("value", &percent_text(outcomes.win_rate_by_value())),
            ],
        ),
        title: t(locale, "dash.window_note").to_owned(),
        href: Some(context.drill_href("closed", &[])),
        links: vec![
            (t(locale, "dash.link.won").to_owned(), context.drill_href("won", &[])),
            (t(locale, "dash.link.lost").to_owned(), context.drill_href("lost", &[])),
        ],
    }
}

/// The average sales cycle and deal size of the deals won in the window.
fn cycle_tile(parts: &Parts) -> Tile {
    let Parts { locale, context, board, .. } = *parts;
    let outcomes = &board.outcomes;
    Tile {
        key: "cycle",
        label: t(locale, "dash.cycle").to_owned(),
        value: days_text(locale, outcomes.average_cycle_days()),
        detail: tf(
            locale,
            "dash.cycle_detail",
            &[("size", &outcomes.average_deal_size().map_or_else(|| "—".to_owned(), |size| parts.compact(size)))],
        ),
        title: t(locale, "dash.window_note").to_owned(),
        href: Some(context.drill_href("won", &[])),
        links: Vec::new(),
    }
}

/// Sales velocity: what the open pipeline is worth a day.
fn velocity_tile(parts: &Parts) -> Tile {
    let Parts { locale, context, board, .. } = *parts;
    Tile {
        key: "velocity",
        label: t(locale, "dash.velocity").to_owned(),
        value: board
            .velocity
            .map_or_else(|| "—".to_owned(), |velocity| tf(locale, "dash.per_day", &[("amount", &parts.compact(velocity.per_day))])),
        detail: t(locale, "dash.velocity_detail").to_owned(),
        title: board.velocity.map_or_else(String::new, |velocity| {
            tf(
                locale,
                "dash.velocity_title",
                &[
                    ("open", &count_text(velocity.open_deals)),
                    ("rate", &percent_text(Some(velocity.win_rate))),
                    ("size", &parts.money(velocity.average_deal_size.numerator / velocity.average_deal_size.denominator.max(1))),
                    ("cycle", &velocity.average_cycle_days.round(1).to_string()),
                    ("amount", &parts.money(velocity.per_day)),
                ],
            )
        }),
        href: Some(context.drill_href("open", &[])),
        links: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Pipeline by stage.

/// The stage table's rows and its total row.
pub(super) fn stage_table(parts: &Parts) -> (Vec<StageRow>, StageRow) {
    let Parts { locale, context, projection, board, with_pipeline, .. } = *parts;
    let pipeline = &board.pipeline;
    let stage_rows: Vec<StageRow> = pipeline
        .lines
        .iter()
        .map(|line| StageRow {
            name: stage_label(locale, projection, line.stage, with_pipeline),
            count: count_text(line.count),
            amount: parts.money(line.amount),
            weighted: parts.money(line.weighted),
            share: percent_text(Ratio::new(line.amount, pipeline.amount)),
            href: context.drill_href("stage", &[("at_stage", projection.stages[line.stage as usize].id.to_string())]),
        })
        .collect();
    let stage_total = StageRow {
        name: t(locale, "dash.total").to_owned(),
        count: count_text(pipeline.count),
        amount: parts.money(pipeline.amount),
        weighted: parts.money(pipeline.weighted),
        share: if pipeline.amount > 0 { "100%".to_owned() } else { "—".to_owned() },
        href: context.drill_href("open", &[]),
    };
    (stage_rows, stage_total)
}

// ---------------------------------------------------------------------------------------------
// Leaderboard.

/// Whether any rep has a quota (the attainment column), and the leaderboard: reps in scope only
/// (every row is someone the viewer may see).
pub(super) fn leaderboard(parts: &Parts) -> (bool, Vec<LeaderRow>) {
    let Parts { data, context, locale, board, .. } = *parts;
    let show_attainment = board.leaderboard.iter().any(|row| row.quota.is_some());
    let leaderboard: Vec<LeaderRow> = board
        .leaderboard
        .iter()
        .filter(|row| parts.owner_visible(row.owner))
        .enumerate()
        .map(|(rank, row)| {
            let rep = context.dashboard_href(&[("owner", row.user_id.to_string())]);
            let rep_drill = |figure: &str| {
                let mut pairs = vec![("figure", figure.to_owned()), ("owner", row.user_id.to_string())];
                pairs.extend(context.pairs().into_iter().filter(|(key, _)| !matches!(*key, "team" | "owner")));
                pairs.push(("status", "all".to_owned()));
                url_with("/opportunities", &pairs)
            };
            LeaderRow {
                rank: rank + 1,
                name: data.user_name(row.user_id),
                href: rep,
                won: parts.money(row.won_amount),
                won_count: count_text(row.won_count),
                won_href: rep_drill("won_period"),
                attainment: percent_text(row.attainment),
                pipeline: parts.money(row.pipeline_amount),
                pipeline_href: rep_drill("open"),
                win_rate: percent_text(row.win_rate()),
                cycle: days_text(locale, row.average_cycle_days()),
            }
        })
        .collect();
    (show_attainment, leaderboard)
}
