//! Converting a lead (SPEC C10): `POST /api/v1/leads/{id}/convert` finds or makes the account and
//! the contact, and a deal when asked, in one step. Rules: `app::leads::convert`.

use axum::http::Method;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::*;

use super::db::Api;
use super::describe::view;
use super::openapi::{Create, Resource};
use super::support::{IdPath, JsonBody, created};
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;

const TAG: &str = "leads";

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/leads/{id}/convert", "convert_lead", convert_lead)
            .summary(
                TAG,
                "Convert a lead in one step: the account given, or the one named like the lead's company, or the one at the \
                 domain of its address (never a free-mail domain), or a new one; the account's contact with the lead's address, \
                 or a new one; a deal in the pipeline's entry stage when `create_opportunity` is true or any deal field is given \
                 (gates, history and audit apply). The lead is marked converted; a converted or disqualified lead is refused.",
            )
            .path_param(Param::id("id", "The lead's id."))
            .body("LeadConversionCreate")
            .reply(Reply::Json(201, "LeadConversion")),
    ]
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<ConversionView>().create_only(
            Create::Optional,
            &["account_id", "create_opportunity", "opportunity_name", "amount", "close_date", "pipeline_id"],
        ),
    ]
}

view! {
    /// What converting a lead found or made.
    pub struct ConversionView as "LeadConversion" {
        lead_id: i64 => Ty::Id,
        /// The account converted into (given, found or made).
        account_id: i64 => Ty::Id,
        account_created: bool => Ty::Boolean,
        contact_id: i64 => Ty::Id,
        contact_created: bool => Ty::Boolean,
        /// Whether to make a deal too (implied by any deal field).
        create_opportunity: bool => Ty::Boolean,
        opportunity_id: Option<i64> => Ty::Id,
        /// The deal's name; the account's name by default.
        opportunity_name: Option<String> => Ty::Text,
        amount: Option<String> => Ty::Money,
        close_date: Option<String> => Ty::Date,
        /// The deal's pipeline; the organisation's first by default.
        pipeline_id: Option<i64> => Ty::Id,
    }
}

async fn convert_lead(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let conversion = input::lead_conversion(LeadId(id), &body)?;
    let converted = api.write(move |tx, ctx| app::leads::convert(tx, ctx, LeadId(id), &conversion)).await?;
    let deal = converted.opportunity.as_ref();
    let view = ConversionView {
        lead_id: converted.lead.id.0,
        account_id: converted.account.id.0,
        account_created: converted.account_created,
        contact_id: converted.contact.id.0,
        contact_created: converted.contact_created,
        create_opportunity: deal.is_some(),
        opportunity_id: deal.map(|deal| deal.id.0),
        opportunity_name: deal.map(|deal| deal.name.clone()),
        amount: deal.and_then(|deal| deal.amount).map(|money| money.to_string()),
        close_date: deal.and_then(|deal| deal.close_date).map(|date| date.to_string()),
        pipeline_id: deal.map(|deal| deal.pipeline_id.0),
    };
    Ok(created(format!("/api/v1/leads/{id}"), view))
}
