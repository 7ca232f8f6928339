//! Sharing a deal with a colleague: whom it is shared with, share it, end a share. Rules:
//! `app::deals::share_opportunity` and `app::deals::unshare_opportunity` (whoever may change the deal on a
//! right of their own may share it; the user it is shared with may then see and change it).

use axum::extract::RawQuery;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::OpportunityShare;
use pipewise_core::*;

use super::db::Api;
use super::describe::view;
use super::openapi::{Create, Resource};
use super::support::{IdAndSegment, IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, path_id};
use super::views::Page;
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use pipewise_app::input;

const TAG: &str = "opportunities";

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/opportunities/{id}/shares", "list_opportunity_shares", list_opportunity_shares)
            .summary(TAG, "Whom a deal is shared with, by user id.")
            .path_param(Param::id("id", "The opportunity's id."))
            .query(vec![
                Param::range("limit", 1, 200, "Rows per page, 1 to 200 (default 50)."),
                Param::text("cursor", "The `next_cursor` of the previous page."),
            ])
            .reply(Reply::List("OpportunityShare")),
        Route::new(Method::POST, "/api/v1/opportunities/{id}/shares", "share_opportunity", share_opportunity)
            .summary(
                TAG,
                "Share a deal with a user of the organisation (not its owner), who may then see and change it. Its owner, a manager \
                 in the owner's line, ops and admins may share it; a user it is merely shared with may not. Sharing again keeps the \
                 first share.",
            )
            .path_param(Param::id("id", "The opportunity's id."))
            .body("OpportunityShareCreate")
            .reply(Reply::Json(201, "OpportunityShare")),
        Route::new(Method::DELETE, "/api/v1/opportunities/{id}/shares/{user_id}", "unshare_opportunity", unshare_opportunity)
            .summary(TAG, "End the share of a deal with a user (the same people as may share it); 404 if it is not shared with them.")
            .path_param(Param::id("id", "The opportunity's id."))
            .path_param(Param::id("user_id", "The user the deal is shared with."))
            .reply(Reply::NoContent),
    ]
}

pub fn resources() -> Vec<Resource> {
    vec![Resource::of::<ShareView>().create_only(Create::Required, &["user_id"])]
}

view! {
    /// A deal shared with a user, who may see and change it as if it were in their own book.
    pub struct ShareView as "OpportunityShare" {
        opportunity_id: i64 => Ty::Id,
        /// The user the deal is shared with.
        user_id: i64 => Ty::Id,
        /// Who shared it; `null` for the system.
        shared_by: Option<i64> => Ty::Id,
        shared_at: String => Ty::Time,
    }
}

impl From<OpportunityShare> for ShareView {
    fn from(share: OpportunityShare) -> Self {
        ShareView {
            opportunity_id: share.opportunity_id.0,
            user_id: share.user_id.0,
            shared_by: share.shared_by.map(|id| id.0),
            shared_at: share.shared_at.to_string(),
        }
    }
}

async fn list_opportunity_shares(api: Api, IdPath(id): IdPath, RawQuery(raw): RawQuery) -> Result<axum::Json<Page<ShareView>>, AppError> {
    let params = [Param::integer("limit", ""), Param::text("cursor", "")];
    let query = Query::parse(raw.as_deref(), &params)?;
    let sorts = vec![SortField { name: "user_id", key: |share: &OpportunityShare| Key::Int(share.user_id.0) }];
    let listing = Listing::parse(&query, &sorts)?;
    let shares = api
        .read(move |tx, viewer| {
            app::deals::opportunity_shares_for(tx, viewer.org, &viewer.access, OpportunityId(id))?
                .ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(listing.page(shares, &sorts, |share| share.user_id.0, ShareView::from)))
}

async fn share_opportunity(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let user = input::share(OpportunityId(id), &body)?;
    let share = api.write(move |tx, ctx| app::deals::share_opportunity(tx, ctx, OpportunityId(id), user)).await?;
    Ok(created(format!("/api/v1/opportunities/{id}/shares"), ShareView::from(share)))
}

async fn unshare_opportunity(api: Api, SharePath(id, user): SharePath) -> Result<Response, AppError> {
    let unshared = api.write(move |tx, ctx| app::deals::unshare_opportunity(tx, ctx, OpportunityId(id), UserId(user))).await;
    let removed = match unshared {
        Ok(removed) => removed,
        // The only bad input is an unknown user: no share of the deal with them exists either.
        Err(AppError::Invalid(_)) => false,
        Err(other) => return Err(other),
    };
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AppError::NotFound { kind: "share", id: format!("of opportunity {id} with user {user}") })
    }
}

/// The `{id}` and `{user_id}` of a share's path; anything but positive whole numbers is a 400.
struct SharePath(i64, i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SharePath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<SharePath, AppError> {
        let IdAndSegment(id, raw_user) = IdAndSegment::from_request_parts(parts, state).await?;
        Ok(SharePath(id, path_id("user_id", &raw_user)?))
    }
}
