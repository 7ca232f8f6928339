//! The head of the deal page: the path through the stages and the facts list.

use pipewise_core::opportunity::Status;
use pipewise_core::pipeline::StageKind;
use serde::Serialize;

use super::DealCtx;
use crate::i18n::{self, t};
use crate::pages::data::label;

#[derive(Serialize)]
pub(super) struct StepView {
    name: String,
    state: &'static str,
}

#[derive(Serialize)]
pub(super) struct FieldView {
    label: String,
    value: String,
    href: Option<String>,
    class: Option<&'static str>,
    /// Whether the edit form shows this field (so the facts list leaves it out).
    in_form: bool,
}

impl FieldView {
    fn new(label: &str, value: String, in_form: bool) -> FieldView {
        FieldView { label: label.to_owned(), value, href: None, class: None, in_form }
    }
}

/// The path through the open stages, then the outcome.
pub(super) fn steps(ctx: &DealCtx<'_>) -> Vec<StepView> {
    let deal = &ctx.deal;
    let current_position = ctx.pipeline.stage(deal.stage_id).map_or(-1, |stage| stage.position);
    ctx.pipeline
        .stages
        .iter()
        .filter(|step| step.kind == StageKind::Open || step.id == deal.stage_id)
        .map(|step| StepView {
            name: i18n::stage_name(ctx.locale, step).to_owned(),
            state: match (step.kind, step.id == deal.stage_id) {
                (StageKind::Won, _) => "won",
                (StageKind::Lost, _) => "lost",
                (_, true) => "current",
                _ if deal.status != Status::Open && deal.status == Status::Won => "done",
                _ if step.position < current_position => "done",
                _ => "todo",
            },
        })
        .collect()
}

/// The facts of the shown deal, in words.
pub(super) fn fields(ctx: &DealCtx<'_>) -> Vec<FieldView> {
    let (deal, data, locale, zone) = (&ctx.deal, &ctx.data, ctx.locale, ctx.zone);
    let none = || t(locale, "common.none").to_owned();
    let overdue = deal.status == Status::Open && deal.close_date.is_some_and(|date| date < ctx.today);
    let mut fields = vec![
        FieldView {
            href: deal.account_id.filter(|id| data.accounts.contains_key(id)).map(|id| format!("/accounts/{id}")),
            ..FieldView::new(
                t(locale, "field.account_id"),
                data.account_name(deal.account_id).map_or_else(|| t(locale, "deal.no_account").to_owned(), str::to_owned),
                true,
            )
        },
        FieldView::new(t(locale, "field.owner_id"), data.user_name(deal.owner_id), true),
        FieldView::new(t(locale, "field.pipeline_id"), ctx.pipeline.name.clone(), false),
        FieldView::new(t(locale, "field.stage_id"), data.stage_name(locale, deal.stage_id), true),
        FieldView::new(
            t(locale, "field.amount"),
            deal.amount.map_or_else(|| t(locale, "deal.no_amount").to_owned(), |amount| i18n::money(locale, amount)),
            true,
        ),
        FieldView {
            class: overdue.then_some("overdue"),
            ..FieldView::new(t(locale, "field.close_date"), deal.close_date.map_or_else(none, |date| i18n::date(locale, date)), true)
        },
        FieldView::new(t(locale, "field.forecast_category"), label(locale, "forecast", deal.forecast_category.as_str()), true),
        FieldView::new(t(locale, "field.next_step"), deal.next_step.clone().unwrap_or_else(none), true),
        FieldView::new(t(locale, "field.created_at"), i18n::timestamp(locale, deal.created_at, zone), false),
    ];
    if deal.status != Status::Open {
        let closed_at = deal.closed_at.map_or_else(String::new, |at| i18n::timestamp(locale, at, zone));
        fields.push(FieldView::new(t(locale, "field.closed_at"), closed_at, false));
        fields.push(FieldView::new(t(locale, "field.close_reason"), deal.close_reason.clone().unwrap_or_else(none), true));
    }
    fields
}
