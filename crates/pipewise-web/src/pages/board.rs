//! The pipeline board: a column per open stage with its count and total, the won and lost
//! stages as drop targets with the deals closed in the last 30 days, and a card per deal.
//! Cards move by drag and drop (SortableJS), by Shift+arrow keys, or by the Move menu on each
//! card, which also works without JavaScript; all three post to `/opportunities/{id}/stage`.

use pipewise_app as app;
use pipewise_app::insights::Insights;
use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app::{OpportunityFilter, Tx};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::data::OrgData;
use super::list::Choice;
use super::{Params, SignedIn, answer, render, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

/// Cards shown per open column, soonest close first; the rest are a link to the deal list
/// filtered to the column (a board of 25 × its stages stays under 300 KB at any size).
pub const CARDS_PER_COLUMN: usize = 25;
/// Closed deals shown in the won and lost targets.
const CLOSED_CARDS: usize = 5;
const CLOSED_WINDOW_DAYS: i64 = 30;

#[derive(Serialize)]
pub struct ColumnSummary {
    pub stage_id: i64,
    pub count: usize,
    pub count_text: String,
    pub total: String,
    pub total_exact: String,
}

#[derive(Serialize)]
struct Card {
    id: i64,
    name: String,
    href: String,
    account: Option<String>,
    amount: Option<String>,
    close_date: Option<String>,
    overdue: bool,
    owner: String,
    owner_initials: String,
    last_activity: Option<String>,
    last_activity_title: Option<String>,
    stage_id: i64,
    previous_stage: Option<i64>,
    next_stage: Option<i64>,
    move_url: String,
    can_move: bool,
    /// May add a checklist item to this stage's gate when closing the deal as lost.
    can_grow: bool,
    stage_name: String,
    /// Health flags (stale, going dark, close date past, pushed N×, no amount…) with reasons.
    badges: Vec<super::dashboard::Badge>,
}

#[derive(Serialize)]
struct Column {
    summary: ColumnSummary,
    name: String,
    kind: &'static str,
    probability: String,
    cards: Vec<Card>,
    more: Option<(String, String)>,
}

#[derive(Serialize)]
struct StageOption {
    id: i64,
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct BoardView {
    pipelines: Vec<Choice>,
    pipeline_id: String,
    owners: Vec<Choice>,
    /// The owner select holds only the owner chosen; a search box finds the others.
    owner_picker: bool,
    owner: String,
    columns: Vec<Column>,
    closed: Vec<Column>,
    stages: Vec<StageOption>,
    note: Option<String>,
    deal_count: String,
}

impl BoardView {
    /// The board of an organisation without pipelines: only a note.
    fn without_pipelines(locale: Locale) -> BoardView {
        BoardView {
            pipelines: Vec::new(),
            pipeline_id: String::new(),
            owners: Vec::new(),
            owner_picker: false,
            owner: String::new(),
            columns: Vec::new(),
            closed: Vec::new(),
            stages: Vec::new(),
            note: Some(t(locale, "board.no_pipelines").to_owned()),
            deal_count: String::new(),
        }
    }
}

/// The deals a board shows: the pipeline's open deals and those closed in the last 30 days,
/// of the chosen owner, as far as the viewer may see: per stage, how many and their amounts,
/// and the first ones as cards.
pub struct BoardDeals {
    pub pipeline: Pipeline,
    stages: HashMap<StageId, StageDeals>,
}

/// One column's deals: how many, their amounts, and the cards shown (the first
/// [`card_limit`] in the board's order: open deals by close date, soonest first and undated
/// last; closed ones latest first).
#[derive(Default)]
struct StageDeals {
    count: usize,
    amounts: Vec<Money>,
    cards: Vec<Opportunity>,
}

impl BoardDeals {
    /// Reads the board: through the analytics projection when the server keeps one (`insights`,
    /// brought up to the log before `tx` was taken: a request holds one connection at a time;
    /// only the cards are read from the store), else every deal the viewer may see.
    pub fn load(
        insights: Option<&Insights>,
        tx: &mut Tx,
        viewer: &Viewer,
        data: &OrgData,
        pipeline: Option<PipelineId>,
        owner: Option<UserId>,
        now: Timestamp,
    ) -> Result<Option<BoardDeals>, AppError> {
        if let Some(insights) = insights {
            return super::board_quick::load(insights, tx, viewer, data, pipeline, owner, now);
        }
        let filter = OpportunityFilter { owner_id: owner, ..OpportunityFilter::default() };
        let deals = app::deals::opportunities_for(tx, viewer.org, &viewer.access, &filter)?;
        let mut open_counts: HashMap<PipelineId, usize> = HashMap::new();
        for deal in deals.iter().filter(|deal| deal.status == Status::Open) {
            *open_counts.entry(deal.pipeline_id).or_default() += 1;
        }
        let Some(pipeline) = chosen_pipeline(data, pipeline, &open_counts) else { return Ok(None) };
        let (first_day, zone) = (first_closed_day(data, now), &data.organisation.time_zone);
        let (mut open, mut closed) = (Vec::new(), Vec::new());
        for deal in deals.into_iter().filter(|deal| deal.pipeline_id == pipeline.id) {
            match deal.status {
                Status::Open => open.push(deal),
                _ if deal.closed_at.is_some_and(|at| pipewise_analytics::day_of_timestamp(at, zone) >= first_day) => closed.push(deal),
                _ => {}
            }
        }
        open.sort_by_key(open_order);
        closed.sort_by_key(closed_order);
        let mut stages: HashMap<StageId, StageDeals> = HashMap::new();
        for deal in open.into_iter().chain(closed) {
            let Some(stage) = pipeline.stages.iter().find(|stage| stage.id == deal.stage_id) else { continue };
            let column = stages.entry(stage.id).or_default();
            column.count += 1;
            column.amounts.extend(deal.amount);
            if column.cards.len() < card_limit(stage.kind) {
                column.cards.push(deal);
            }
        }
        Ok(Some(BoardDeals { pipeline, stages }))
    }

    /// A board from its columns: per stage, the count, amounts and cards.
    pub(super) fn from_columns(
        pipeline: Pipeline,
        columns: impl IntoIterator<Item = (StageId, usize, Vec<Money>, Vec<Opportunity>)>,
    ) -> BoardDeals {
        let stages = columns.into_iter().map(|(stage, count, amounts, cards)| (stage, StageDeals { count, amounts, cards })).collect();
        BoardDeals { pipeline, stages }
    }

    /// The cards of `stage`, in the board's order.
    fn in_stage(&self, stage: StageId) -> impl Iterator<Item = &Opportunity> {
        self.stages.get(&stage).into_iter().flat_map(|column| &column.cards)
    }

    fn count(&self, stage: StageId) -> usize {
        self.stages.get(&stage).map_or(0, |column| column.count)
    }

    /// The open deals' amounts and how many there are.
    fn open_amounts(&self) -> (usize, Vec<Money>) {
        let open = self.pipeline.stages.iter().filter(|stage| stage.kind == StageKind::Open).filter_map(|stage| self.stages.get(&stage.id));
        open.fold((0, Vec::new()), |(count, mut amounts), column| {
            amounts.extend(column.amounts.iter().copied());
            (count + column.count, amounts)
        })
    }

    /// Each stage's count and total, as the column headers show them.
    pub fn summaries(&self, data: &OrgData, locale: Locale) -> Vec<ColumnSummary> {
        self.pipeline
            .stages
            .iter()
            .map(|stage| {
                let (count, amounts) = self.stages.get(&stage.id).map_or((0, &[][..]), |column| (column.count, column.amounts.as_slice()));
                let total = data.total(amounts.to_vec());
                ColumnSummary {
                    stage_id: stage.id.0,
                    count,
                    count_text: deal_count(locale, count),
                    total: total.compact(locale),
                    total_exact: total.exact(locale),
                }
            })
            .collect()
    }
}

/// The first of the organisation's days whose closed deals the won and lost columns show: the
/// last 30 days and today.
pub(super) fn first_closed_day(data: &OrgData, now: Timestamp) -> pipewise_analytics::Day {
    pipewise_analytics::day_of_timestamp(now, &data.organisation.time_zone) - CLOSED_WINDOW_DAYS as i32
}

/// "1 deal", "12 deals", "1,200 deals" in `locale`.
fn deal_count(locale: Locale, count: usize) -> String {
    let key = if count == 1 { "board.deal_count_one" } else { "board.deal_count" };
    i18n::tf(locale, key, &[("count", &i18n::group(count as i64))])
}

/// The board's order of open deals: by close date, soonest first, undated last, then by id.
pub(super) fn open_order(deal: &Opportunity) -> (bool, Option<Date>, OpportunityId) {
    (deal.close_date.is_none(), deal.close_date, deal.id)
}

/// The order of closed deals: latest closed first.
pub(super) fn closed_order(deal: &Opportunity) -> std::cmp::Reverse<Option<Timestamp>> {
    std::cmp::Reverse(deal.closed_at)
}

/// The pipeline asked for, else the one with the most open deals the viewer can see (the first
/// one if none).
pub(super) fn chosen_pipeline(data: &OrgData, asked: Option<PipelineId>, open_counts: &HashMap<PipelineId, usize>) -> Option<Pipeline> {
    asked
        .and_then(|id| data.pipeline(id))
        .or_else(|| {
            data.pipelines
                .iter()
                .max_by_key(|pipeline| (open_counts.get(&pipeline.id).copied().unwrap_or(0), std::cmp::Reverse(pipeline.id)))
        })
        .cloned()
}

pub async fn board(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| render_board(&state, reader, &params)).await
}

/// How many cards a column shows: open stages up to [`CARDS_PER_COLUMN`], the won and lost
/// targets up to [`CLOSED_CARDS`].
pub(super) fn card_limit(kind: StageKind) -> usize {
    if kind == StageKind::Open { CARDS_PER_COLUMN } else { CLOSED_CARDS }
}

fn render_board(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let insights = state.insights.as_ref().map(|_| state.insights_for(viewer.org)).transpose()?;
    let mut tx = state.db.read()?;
    // Accounts are read for the cards shown only, below: not every account of the organisation.
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let owner = params.id("owner").map(UserId);
    let title = t(locale, "board.title").to_owned();
    let Some(board) = BoardDeals::load(insights.as_deref(), &mut tx, viewer, &data, params.id("pipeline").map(PipelineId), owner, now)?
    else {
        return render::page(viewer, StatusCode::OK, "board.html", "board", title, &BoardView::without_pipelines(locale));
    };
    let today = viewer.today(now);
    let last_activity = read_for_cards(&mut tx, viewer, &board, &mut data)?;
    // The badges read the projection: the transaction is given back first.
    drop(tx);
    let badges = open_badges(state, viewer, &board, &data, today);
    let open_stages = board.pipeline.stages.iter().filter(|stage| stage.kind == StageKind::Open).map(|stage| stage.id).collect();
    let cards = CardCtx { viewer, data: &data, open_stages, last_activity, badges, today, now };
    let view = board_view(&cards, &board, owner);
    render::page(viewer, StatusCode::OK, "board.html", "board", title, &view)
}

/// For every card shown, open or closed: reads its account into `data`, and answers the time
/// of its latest activity.
fn read_for_cards(
    tx: &mut Tx,
    viewer: &Viewer,
    board: &BoardDeals,
    data: &mut OrgData,
) -> Result<HashMap<OpportunityId, Timestamp>, AppError> {
    let cards: Vec<&Opportunity> =
        board.pipeline.stages.iter().flat_map(|stage| board.in_stage(stage.id).take(card_limit(stage.kind))).collect();
    let card_ids: Vec<OpportunityId> = cards.iter().map(|deal| deal.id).collect();
    let last_activity: HashMap<OpportunityId, Timestamp> =
        app::activities::last_activity_at(tx, viewer.org, Some(&card_ids))?.into_iter().collect();
    data.load_accounts(tx, cards.iter().filter_map(|deal| deal.account_id))?;
    Ok(last_activity)
}

/// Health badges of the open deals shown, from the analytics projection; the board still works
/// (without badges) if the projection cannot be read.
fn open_badges(
    state: &AppState,
    viewer: &Viewer,
    board: &BoardDeals,
    data: &OrgData,
    today: Date,
) -> HashMap<OpportunityId, Vec<super::dashboard::Badge>> {
    let shown: Vec<OpportunityId> = board
        .pipeline
        .stages
        .iter()
        .filter(|stage| stage.kind == StageKind::Open)
        .flat_map(|stage| board.in_stage(stage.id).take(CARDS_PER_COLUMN).map(|deal| deal.id))
        .collect();
    super::dashboard::badges(state, viewer.org, viewer.user.locale, &shown, today, &data.health_thresholds).unwrap_or_else(|error| {
        eprintln!("board: health badges unavailable: {error:?}");
        HashMap::new()
    })
}

/// What a card reads besides its deal.
struct CardCtx<'a> {
    viewer: &'a Viewer,
    data: &'a OrgData,
    /// The pipeline's open stages in order, for the keyboard moves to the neighbouring stage.
    open_stages: Vec<StageId>,
    last_activity: HashMap<OpportunityId, Timestamp>,
    badges: HashMap<OpportunityId, Vec<super::dashboard::Badge>>,
    today: Date,
    now: Timestamp,
}

impl CardCtx<'_> {
    fn card(&self, deal: &Opportunity) -> Card {
        let CardCtx { viewer, data, .. } = *self;
        let locale = viewer.user.locale;
        let position = self.open_stages.iter().position(|id| *id == deal.stage_id);
        let owner = data.user_name(deal.owner_id);
        let last_activity = self.last_activity.get(&deal.id);
        Card {
            id: deal.id.0,
            name: deal.name.clone(),
            href: format!("/opportunities/{}", deal.id),
            account: data.account_name(deal.account_id).map(str::to_owned),
            amount: deal.amount.map(|amount| i18n::money(locale, amount)),
            close_date: deal.close_date.map(|date| i18n::date(locale, date)),
            overdue: deal.status == Status::Open && deal.close_date.is_some_and(|date| date < self.today),
            owner_initials: super::initials(&owner),
            owner,
            last_activity: last_activity.map(|at| i18n::relative(locale, *at, self.now)),
            last_activity_title: last_activity.map(|at| i18n::timestamp(locale, *at, &viewer.user.time_zone)),
            stage_id: deal.stage_id.0,
            previous_stage: position.and_then(|index| index.checked_sub(1)).map(|index| self.open_stages[index].0),
            next_stage: position.and_then(|index| self.open_stages.get(index + 1)).map(|id| id.0),
            move_url: format!("/opportunities/{}/stage", deal.id),
            can_move: super::data::can_change(viewer, deal),
            can_grow: super::gates::can_grow_checklist(&viewer.access, deal.owner_id),
            stage_name: data.stage_name(locale, deal.stage_id),
            badges: self.badges.get(&deal.id).cloned().unwrap_or_default(),
        }
    }
}

/// The board's columns: the open ones, and the won and lost targets.
fn columns(cards: &CardCtx, board: &BoardDeals, owner: Option<UserId>) -> (Vec<Column>, Vec<Column>) {
    let locale = cards.viewer.user.locale;
    let mut summaries: HashMap<i64, ColumnSummary> =
        board.summaries(cards.data, locale).into_iter().map(|summary| (summary.stage_id, summary)).collect();
    let mut columns = Vec::new();
    let mut closed = Vec::new();
    for stage in &board.pipeline.stages {
        let summary = summaries.remove(&stage.id.0).expect("a summary per stage");
        let deals: Vec<&Opportunity> = board.in_stage(stage.id).collect();
        let (limit, count) = (card_limit(stage.kind), board.count(stage.id));
        let more = (count > limit).then(|| {
            let status = if stage.kind == StageKind::Open { "open" } else { stage.kind.as_str() };
            let url = url_with(
                "/opportunities",
                &[
                    ("pipeline", board.pipeline.id.to_string()),
                    ("stage", stage.id.to_string()),
                    ("status", status.to_owned()),
                    ("owner", owner.map(|id| id.to_string()).unwrap_or_default()),
                ],
            );
            (i18n::tf(locale, "board.more", &[("count", &(count - limit).to_string())]), url)
        });
        let column = Column {
            summary,
            name: i18n::stage_name(locale, stage).to_owned(),
            kind: stage.kind.as_str(),
            probability: i18n::tf(locale, "deal.probability", &[("percent", &stage.win_probability.normalize().to_string())]),
            cards: deals.into_iter().take(limit).map(|deal| cards.card(deal)).collect(),
            more,
        };
        if stage.kind == StageKind::Open { columns.push(column) } else { closed.push(column) }
    }
    (columns, closed)
}

fn board_view(cards: &CardCtx, board: &BoardDeals, owner: Option<UserId>) -> BoardView {
    let CardCtx { viewer, data, .. } = *cards;
    let locale = viewer.user.locale;
    let (columns, closed) = columns(cards, board, owner);
    let (open_count, open_amounts) = board.open_amounts();
    let converts = data.total(open_amounts).is_converted();
    let owners: Vec<Choice> = data.visible_owners(viewer).into_iter().map(Choice::user).collect();
    let chosen = owner.map(|id| id.to_string()).unwrap_or_default();
    let (owners, owner_picker) =
        if owners.len() > 1 { super::list::picker_choices(owners, &[chosen.as_str()]) } else { (Vec::new(), false) };
    BoardView {
        pipelines: data.pipelines.iter().map(|pipeline| Choice { value: pipeline.id.to_string(), label: pipeline.name.clone() }).collect(),
        pipeline_id: board.pipeline.id.to_string(),
        owner: owner.map(|id| id.to_string()).unwrap_or_default(),
        owners,
        owner_picker,
        columns,
        closed,
        stages: board
            .pipeline
            .stages
            .iter()
            .map(|stage| StageOption { id: stage.id.0, name: i18n::stage_name(locale, stage).to_owned(), kind: stage.kind.as_str() })
            .collect(),
        note: (!converts).then(|| i18n::tf(locale, "board.per_currency", &[("currency", data.organisation.reporting_currency.code())])),
        deal_count: deal_count(locale, open_count),
    }
}
