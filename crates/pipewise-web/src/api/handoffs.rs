//! Inside-sales handoffs (SPEC C2): hand a deal to another user, list a deal's handoffs, and the
//! report of handed deals that became SQL, per handing user. Rules: `app::handoffs::hand_off`.

use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Handoff;
use pipewise_core::history::Source;
use pipewise_core::*;

use super::db::Api;
use super::describe::view;
use super::openapi::{Create, Resource};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found};
use super::views::Page;
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use pipewise_app::input;

const TAG: &str = "handoffs";

fn report_query() -> Vec<Param> {
    vec![
        Param::new("from", Ty::Date, "Count handoffs from this day (in the organisation's time zone), included; all of them by default."),
        Param::new("to", Ty::Date, "Count handoffs up to this day (in the organisation's time zone), included; no end by default."),
    ]
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/opportunities/{id}/handoff", "hand_off_opportunity", hand_off_opportunity)
            .summary(
                TAG,
                "Hand a deal to another user (inside sales to field sales): the owner changes in history and the handoff is recorded \
                 with who handed it over. A rep may hand a deal they own in the entry stage to any active rep; otherwise the usual \
                 owner-change rights apply.",
            )
            .path_param(Param::id("id", "The opportunity's id."))
            .body("HandoffCreate")
            .reply(Reply::Json(201, "Handoff")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/handoffs", "list_opportunity_handoffs", list_opportunity_handoffs)
            .summary(TAG, "A deal's handoffs, oldest first.")
            .path_param(Param::id("id", "The opportunity's id."))
            .query(vec![
                Param::range("limit", 1, 200, "Rows per page, 1 to 200 (default 50)."),
                Param::text("cursor", "The `next_cursor` of the previous page."),
            ])
            .reply(Reply::List("Handoff")),
        Route::new(Method::GET, "/api/v1/handoffs/report", "get_handoff_report", get_handoff_report)
            .summary(
                TAG,
                "Per handing user: deals handed over, how many passed gate 1 (became SQL), that share, and how many are won. A rep sees \
                 their own line, a manager their tree's, ops, admins and viewers every line.",
            )
            .query(report_query())
            .reply(Reply::Json(200, "HandoffReport")),
    ]
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<HandoffView>().create_only(Create::Required, &["to_user_id"]).create_only(Create::Optional, &["note"]),
        Resource::of::<SourceView>(),
        Resource::of::<ReportView>(),
    ]
}

view! {
    /// One handoff of a deal from one user to another. Append-only.
    pub struct HandoffView as "Handoff" {
        id: i64 => Ty::Id,
        opportunity_id: i64 => Ty::Id,
        /// Who handed the deal over: its owner before the handoff.
        from_user_id: i64 => Ty::Id,
        /// The new owner.
        to_user_id: i64 => Ty::Id,
        /// Who performed the handoff (the owner, a manager, ops or an admin).
        actor_id: Option<i64> => Ty::Id,
        /// The stage the deal was in when handed over.
        stage_id: i64 => Ty::Id,
        at: String => Ty::Time,
        source: &'static str => Ty::Enum(Source::ALL.iter().map(|source| source.as_str()).collect()),
        note: Option<String> => Ty::Text,
    }
}

impl From<Handoff> for HandoffView {
    fn from(handoff: Handoff) -> Self {
        HandoffView {
            id: handoff.id,
            opportunity_id: handoff.opportunity_id.0,
            from_user_id: handoff.from_user_id.0,
            to_user_id: handoff.to_user_id.0,
            actor_id: handoff.actor_id.map(|id| id.0),
            stage_id: handoff.stage_id.0,
            at: handoff.at.to_string(),
            source: handoff.source.as_str(),
            note: handoff.note,
        }
    }
}

view! {
    /// One handing user's line of the handoff report.
    struct SourceView as "HandoffSource" {
        user_id: i64 => Ty::Id,
        /// Distinct deals handed over in the period.
        handed_over: u32 => Ty::Integer,
        /// Of those, deals that passed gate 1 (`sql_at` set).
        became_sql: u32 => Ty::Integer,
        /// became_sql / handed_over, to four places.
        sql_share: String => Ty::Decimal,
        /// Of those, deals won.
        won: u32 => Ty::Integer,
    }
}

view! {
    /// Handed deals that became SQL, per handing user.
    struct ReportView as "HandoffReport" {
        from: Option<String> => Ty::Date,
        to: Option<String> => Ty::Date,
        sources: Vec<SourceView> => Ty::RefList("HandoffSource"),
    }
}

async fn hand_off_opportunity(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (to_user, note) = input::handoff(OpportunityId(id), &body)?;
    let handoff = api.write(move |tx, ctx| app::handoffs::hand_off(tx, ctx, OpportunityId(id), to_user, note.as_deref())).await?;
    Ok(created(format!("/api/v1/opportunities/{id}/handoffs"), HandoffView::from(handoff)))
}

async fn list_opportunity_handoffs(
    api: Api,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Page<HandoffView>>, AppError> {
    let params = [Param::integer("limit", ""), Param::text("cursor", "")];
    let query = Query::parse(raw.as_deref(), &params)?;
    let sorts = vec![SortField { name: "id", key: |handoff: &Handoff| Key::Int(handoff.id) }];
    let listing = Listing::parse(&query, &sorts)?;
    let handoffs = api
        .read(move |tx, viewer| {
            app::handoffs::handoffs_for(tx, viewer.org, &viewer.access, OpportunityId(id))?
                .ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(listing.page(handoffs, &sorts, |handoff| handoff.id, HandoffView::from)))
}

async fn get_handoff_report(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<ReportView>, AppError> {
    let query = Query::parse(raw.as_deref(), &report_query())?;
    let from = query.parsed("from", pipewise_core::time::parse_date)?;
    let to = query.parsed("to", pipewise_core::time::parse_date)?;
    let since = from.unwrap_or_else(|| "1900-01-01".parse().expect("a valid date"));
    let lines = api.read(move |tx, viewer| Ok(app::handoffs::handoff_report_for(tx, viewer.org, &viewer.access, since, to)?)).await?;
    let sources = lines
        .into_iter()
        .map(|line| SourceView {
            user_id: line.user_id.0,
            handed_over: line.handed_over,
            became_sql: line.became_sql,
            sql_share: format!("{:.4}", line.sql_share().unwrap_or(0.0)),
            won: line.won,
        })
        .collect();
    Ok(axum::Json(ReportView { from: from.map(|date| date.to_string()), to: to.map(|date| date.to_string()), sources }))
}
