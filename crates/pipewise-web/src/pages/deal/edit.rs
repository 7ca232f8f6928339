//! The deal's edit form: its fields as typed, the choices it offers, and saving it. A problem in
//! any field shows the form again with every problem next to its field and every input as
//! typed; nothing is saved. Closing a deal as lost may grow the left stage's checklist.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::gates::MoveCheck;
use pipewise_core::history::Source;
use pipewise_core::opportunity::{Opportunity, OpportunityPatch, Status};
use pipewise_core::pipeline::ForecastCategory;
use pipewise_core::time::parse_date;
use pipewise_core::*;
use serde::Serialize;

use super::gate::LossItemView;
use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};
use crate::pages::data::label;
use crate::pages::form::{Refusal, by_field, refusal};
use crate::pages::gates::{self, RefusalView};
use crate::pages::list::{Choice, picker_choices};
use crate::pages::{Params, SignedIn, respond, see_other};

/// The edit form's fields as typed.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct DealForm {
    name: String,
    account_id: String,
    owner_id: String,
    stage_id: String,
    currency: String,
    amount: String,
    close_date: String,
    forecast_category: String,
    next_step: String,
    close_reason: String,
    gate_override_reason: String,
    add_criterion: bool,
    criterion_label_en: String,
    criterion_label_ko: String,
}

/// A form that failed: what was typed and what is wrong.
pub(super) struct Rejected {
    form: DealForm,
    errors: ValidationErrors,
    /// A stage move refused at a gate.
    refusal: Option<MoveCheck>,
}

impl Rejected {
    /// The account the refused form chose, if it names one.
    pub(super) fn chosen_account(&self) -> Option<pipewise_core::AccountId> {
        self.form.account_id.trim().parse().ok().map(pipewise_core::AccountId)
    }
}

impl DealForm {
    fn from_deal(deal: &Opportunity, reporting: Currency) -> DealForm {
        DealForm {
            name: deal.name.clone(),
            account_id: deal.account_id.map(|id| id.to_string()).unwrap_or_default(),
            owner_id: deal.owner_id.to_string(),
            stage_id: deal.stage_id.to_string(),
            currency: deal.amount.map_or(reporting, Money::currency).code().to_owned(),
            amount: deal.amount.map(|amount| amount.amount().to_string()).unwrap_or_default(),
            close_date: deal.close_date.map(|date| date.to_string()).unwrap_or_default(),
            forecast_category: deal.forecast_category.as_str().to_owned(),
            next_step: deal.next_step.clone().unwrap_or_default(),
            close_reason: deal.close_reason.clone().unwrap_or_default(),
            ..DealForm::default()
        }
    }

    fn from_params(params: &Params) -> DealForm {
        let field = |name: &str| params.raw(name).to_owned();
        DealForm {
            name: field("name"),
            account_id: field("account_id"),
            owner_id: field("owner_id"),
            stage_id: field("stage_id"),
            currency: field("currency"),
            amount: field("amount"),
            close_date: field("close_date"),
            forecast_category: field("forecast_category"),
            next_step: field("next_step"),
            close_reason: field("close_reason"),
            gate_override_reason: field("gate_override_reason"),
            add_criterion: params.get("add_criterion").is_some(),
            criterion_label_en: field("criterion_label_en"),
            criterion_label_ko: field("criterion_label_ko"),
        }
    }

    /// The change the form asks for (only fields that differ from `current`), and every
    /// problem found in reading it.
    fn patch(&self, current: &Opportunity) -> (OpportunityPatch, ValidationErrors) {
        let record = RecordRef::new(OpportunityId::LABEL, current.id.0);
        let mut errors = ValidationErrors::default();
        let mut patch = OpportunityPatch::default();
        if self.name.trim() != current.name {
            patch.name = Some(self.name.clone());
        }
        if let Some(account) = read_id(&record, "account_id", &self.account_id, &mut errors) {
            let account = account.map(AccountId);
            if account != current.account_id {
                patch.account_id = Some(account);
            }
        }
        match read_id(&record, "owner_id", &self.owner_id, &mut errors) {
            Some(Some(owner)) if UserId(owner) != current.owner_id => patch.owner_id = Some(UserId(owner)),
            Some(None) => errors.push(&record, "owner_id", Problem::Required),
            _ => {}
        }
        match read_id(&record, "stage_id", &self.stage_id, &mut errors) {
            Some(Some(stage)) if StageId(stage) != current.stage_id => patch.stage_id = Some(StageId(stage)),
            Some(None) => errors.push(&record, "stage_id", Problem::Required),
            _ => {}
        }
        if let Some(amount) = self.amount(&record, &mut errors).filter(|amount| *amount != current.amount) {
            patch.amount = Some(amount);
        }
        if let Some(close_date) = self.close_date(&record, &mut errors).filter(|date| *date != current.close_date) {
            patch.close_date = Some(close_date);
        }
        match ForecastCategory::parse(&self.forecast_category) {
            Ok(category) if category != current.forecast_category => patch.forecast_category = Some(category),
            Ok(_) => {}
            Err(problem) => errors.push(&record, "forecast_category", problem),
        }
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        if optional(&self.next_step) != current.next_step {
            patch.next_step = Some(optional(&self.next_step));
        }
        if optional(&self.close_reason) != current.close_reason {
            patch.close_reason = Some(optional(&self.close_reason));
        }
        patch.gate_override_reason = optional(&self.gate_override_reason);
        (patch, errors)
    }

    /// The amount as typed (`Some(None)`: none), or `None` with its problem in `errors`.
    fn amount(&self, record: &RecordRef, errors: &mut ValidationErrors) -> Option<Option<Money>> {
        let amount_text: String = self.amount.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
        if amount_text.is_empty() {
            return Some(None);
        }
        let code = self.currency.trim().to_ascii_uppercase();
        match Currency::from_code(&code).and_then(|currency| Money::parse_amount(&amount_text, currency)) {
            Ok(money) => Some(Some(money)),
            Err(problem) => {
                errors.push(record, "amount", problem);
                None
            }
        }
    }

    /// The close date as typed (`Some(None)`: none), or `None` with its problem in `errors`.
    fn close_date(&self, record: &RecordRef, errors: &mut ValidationErrors) -> Option<Option<Date>> {
        if self.close_date.trim().is_empty() {
            return Some(None);
        }
        match parse_date(&self.close_date) {
            Ok(date) => Some(Some(date)),
            Err(problem) => {
                errors.push(record, "close_date", problem);
                None
            }
        }
    }
}

/// An id input: `Some(None)` when empty, `Some(Some(id))` when valid, else `None` with its
/// problem in `errors`.
fn read_id(record: &RecordRef, field: &'static str, raw: &str, errors: &mut ValidationErrors) -> Option<Option<i64>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(None);
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Some(Some(id)),
        _ => {
            errors.push(record, field, Problem::Invalid { value: raw.to_owned(), expected: "an id" });
            None
        }
    }
}

/// The edit form on the deal page: its fields (as typed when refused), the problems beside
/// them, the choices it offers, and a gate refusal or the offer to grow a checklist from a loss.
pub(super) struct EditPart {
    pub(super) form: DealForm,
    pub(super) errors: HashMap<&'static str, String>,
    pub(super) error_banner: Option<String>,
    /// The page's status: 422 when any form on it was refused.
    pub(super) status: StatusCode,
    pub(super) accounts: Vec<Choice>,
    pub(super) owners: Vec<Choice>,
    /// The owner select holds only the owner; a search box finds the rest.
    pub(super) owner_picker: bool,
    pub(super) stages: Vec<Choice>,
    pub(super) categories: Vec<Choice>,
    pub(super) refusal: Option<RefusalView>,
    pub(super) override_reason: String,
    pub(super) loss_item: Option<LossItemView>,
}

/// The edit form part; `other_form_rejected`: another form of the page was refused.
pub(super) fn part(ctx: &DealCtx<'_>, rejected: Option<Rejected>, other_form_rejected: bool) -> EditPart {
    let locale = ctx.locale;
    let (form, errors, error_banner, status, refusal_check) = match rejected {
        Some(rejected) => {
            let errors = by_field(locale, &rejected.errors, |field| if field == "pipeline_id" { "stage_id" } else { field });
            (rejected.form, errors, Some(t(locale, "deal.errors").to_owned()), StatusCode::UNPROCESSABLE_ENTITY, rejected.refusal)
        }
        None => {
            let status = if other_form_rejected { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (DealForm::from_deal(&ctx.current, ctx.data.organisation.reporting_currency), HashMap::new(), None, status, None)
        }
    };
    let (access, owner) = (&ctx.viewer.access, ctx.current.owner_id);
    let refusal = refusal_check.as_ref().map(|check| gates::refusal(check, locale, gates::can_override(access, owner)));
    let loss_item = (ctx.can_edit && gates::can_grow_checklist(access, owner) && ctx.deal.status == Status::Open).then(|| {
        let stage = ctx.data.stage_name(locale, ctx.deal.stage_id);
        LossItemView::new(locale, &stage, form.add_criterion, &form.criterion_label_en, &form.criterion_label_ko)
    });
    let (owners, owner_picker) = picker_choices(owner_choices(ctx), &[form.owner_id.as_str()]);
    EditPart {
        override_reason: form.gate_override_reason.clone(),
        form,
        errors,
        error_banner,
        status,
        accounts: account_choices(ctx),
        owners,
        owner_picker,
        stages: ctx
            .pipeline
            .stages
            .iter()
            .map(|stage| Choice { value: stage.id.to_string(), label: i18n::stage_name(locale, stage).to_owned() })
            .collect(),
        categories: ForecastCategory::ALL
            .iter()
            .map(|category| Choice { value: category.as_str().to_owned(), label: label(locale, "forecast", category.as_str()) })
            .collect(),
        refusal,
        loss_item,
    }
}

/// Every account, by name.
fn account_choices(ctx: &DealCtx<'_>) -> Vec<Choice> {
    let mut accounts: Vec<Choice> =
        ctx.data.accounts.values().map(|account| Choice { value: account.id.to_string(), label: account.name.clone() }).collect();
    accounts.sort_by_key(|choice| choice.label.to_lowercase());
    accounts
}

/// Whom the viewer may make the owner, and the owner now.
fn owner_choices(ctx: &DealCtx<'_>) -> Vec<Choice> {
    let (data, current) = (&ctx.data, &ctx.current);
    let mut owners: Vec<Choice> = data
        .assignable_owners(ctx.viewer)
        .into_iter()
        .map(|user| Choice { value: user.id.to_string(), label: user.name.clone() })
        .collect();
    if !owners.iter().any(|choice| choice.value == current.owner_id.to_string()) {
        owners.push(Choice { value: current.owner_id.to_string(), label: data.user_name(current.owner_id) });
    }
    owners
}

/// Saves the edit form.
pub async fn update(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let form = DealForm::from_params(&Params::from_body(&body));
    let reader = viewer.clone();
    let result = blocking(move || save(&state, &reader, &id, &form)).await;
    respond(&viewer, result)
}

/// Applies the form in one transaction, kept only when neither the form nor the write found a
/// problem; else the deal page again with the form as typed.
fn save(state: &AppState, viewer: &Viewer, id: &str, form: &DealForm) -> Result<Response, AppError> {
    let id = deal_id(id)?;
    let current = {
        let mut tx = state.db.read()?;
        app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)?
            .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?
    };
    let (patch, mut errors) = form.patch(&current);
    if form.add_criterion && form.criterion_label_en.trim().is_empty() {
        errors.push(&RecordRef::new(OpportunityId::LABEL, id.0), "criterion_label_en", Problem::Required);
    }
    let ctx = viewer.ctx(Source::Web, state.now());
    let mut tx = state.db.write()?;
    let outcome = app::deals::update_opportunity(&mut tx, &ctx, id, &patch).and_then(|deal| {
        if deal.status == Status::Lost && current.status == Status::Open && form.add_criterion && errors.0.is_empty() {
            app::gates::criterion_from_loss(&mut tx, &ctx, id, current.stage_id, &form.criterion_label_en, &form.criterion_label_ko)
                .map_err(|error| match error {
                    pipewise_app::StoreError::Invalid(mut found) => {
                        for error in &mut found.0 {
                            error.field = if error.field == "label_ko" { "criterion_label_ko" } else { "criterion_label_en" };
                        }
                        pipewise_app::StoreError::Invalid(found)
                    }
                    other => other,
                })?;
        }
        Ok(deal)
    });
    let rejected = |errors, refusal| Extras { rejected: Some(Rejected { form: form.clone(), errors, refusal }), ..Extras::default() };
    match outcome {
        Ok(_) if errors.0.is_empty() => {
            tx.commit()?;
            Ok(see_other(&format!("/opportunities/{id}?saved=1")))
        }
        // A problem only this form found: nothing is kept (the transaction is dropped).
        Ok(_) => {
            drop(tx);
            deal_page(state, viewer, id, None, rejected(errors, None))
        }
        Err(error) => {
            drop(tx);
            match refusal(error)? {
                Refusal::Invalid(found) => {
                    errors.0.extend(found.0);
                    deal_page(state, viewer, id, None, rejected(errors, None))
                }
                Refusal::Gate(check) => {
                    let message = Problem::Fact(Message::new("gate.refused_intro"));
                    errors.push(&RecordRef::new(OpportunityId::LABEL, id.0), "stage_id", message);
                    deal_page(state, viewer, id, None, rejected(errors, Some(*check)))
                }
                other => Err(other.into()),
            }
        }
    }
}
