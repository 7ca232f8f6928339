//! Accounts and contacts: their lists and pages. Both are visible to everyone in the
//! organisation; the deals shown with them are only those the reader may see.

use pipewise_app as app;
use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_app::{OpportunityFilter, Tx};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::records::Account;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::data::{OrgData, label};
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey, list_page};
use super::{Params, SignedIn, answer, path_id, render};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

/// `GET /pick/accounts?q=…`: the accounts a type-ahead picker offers for what was typed, as
/// `{"items": [{"value": "12", "label": "Acme"}]}`. Accounts are shared records: every signed-in
/// reader may find them.
pub async fn pick_accounts(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| {
        let typed = params.get("q").unwrap_or_default();
        let items: Vec<Choice> = if typed.trim().is_empty() {
            Vec::new()
        } else {
            let mut tx = state.db.read()?;
            app::records::search_accounts(&mut tx, reader.org, typed, 20)?
                .into_iter()
                .map(|account| Choice { value: account.id.to_string(), label: account.name })
                .collect()
        };
        Ok(([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "items": items }))).into_response())
    })
    .await
}

/// `GET /pick/users?q=…[&among=assignable|reps|visible|shareable|handoff][&deal=ID][&as=owner]`:
/// the active people whose name or e-mail address holds what was typed (those starting with it
/// first, then by name), at most 20, as [`pick_accounts`] answers; `among` narrows them as the
/// select it fills would: those the reader may make a deal's owner, the reps and managers whose
/// figures they may see, everyone whose deals they may see, or whom deal `deal` (one the reader
/// may see) may be shared with or handed to. The form they fill checks the choice again.
pub async fn pick_users(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| {
        let typed: String =
            params.get("q").unwrap_or_default().trim().chars().take(app::records::MAX_SEARCH_CHARS).collect::<String>().to_lowercase();
        let mut items: Vec<(bool, String, Choice)> = Vec::new();
        if !typed.is_empty() {
            let mut tx = state.db.read()?;
            let data = OrgData::load_without_accounts(&mut tx, reader.org, state.now())?;
            let people: Vec<&pipewise_core::user::User> = match params.get("among") {
                Some("assignable") => data.assignable_owners(reader),
                // The reps and managers whose figures the reader may see (a dashboard's subject).
                Some("reps") => data
                    .visible_owners(reader)
                    .into_iter()
                    .filter(|user| matches!(user.role, pipewise_core::user::Role::Rep | pipewise_core::user::Role::Manager))
                    .collect(),
                // Everyone whose deals the reader may see (a board's owner).
                Some("visible") => data.visible_owners(reader),
                // Whom deal `deal` may be shared with (active, not its owner, not shared with
                // yet) or handed to, by the same rules as its page's selects.
                Some(among @ ("shareable" | "handoff")) => {
                    let id = pipewise_core::OpportunityId(params.id("deal").unwrap_or(0));
                    let deal = app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?
                        .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?;
                    if among == "shareable" {
                        let shares = app::deals::opportunity_shares_for(&mut tx, reader.org, &reader.access, id)?.unwrap_or_default();
                        data.users
                            .iter()
                            .filter(|user| user.active && user.id != deal.owner_id && !shares.iter().any(|share| share.user_id == user.id))
                            .collect()
                    } else {
                        let inside_sales = app::handoffs::is_inside_sales_case(&mut tx, reader.org, &deal)?;
                        data.users
                            .iter()
                            .filter(|user| user.active && app::handoffs::may_hand_off_to(&reader.access, &deal, inside_sales, user))
                            .collect()
                    }
                }
                _ => data.users.iter().filter(|user| user.active).collect(),
            };
            // `as=owner`: values as the dashboard's subject picker names a rep (`owner:12`).
            let prefix = if params.get("as") == Some("owner") { "owner:" } else { "" };
            for user in people {
                let name = user.name.to_lowercase();
                if name.contains(&typed) || user.email.to_lowercase().contains(&typed) {
                    let choice = Choice { value: format!("{prefix}{}", user.id), label: user.name.clone() };
                    items.push((!name.starts_with(&typed), name, choice));
                }
            }
        }
        items.sort_by(|left, right| (left.0, &left.1).cmp(&(right.0, &right.1)));
        let items: Vec<Choice> = items.into_iter().take(20).map(|(_, _, choice)| choice).collect();
        Ok(([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "items": items }))).into_response())
    })
    .await
}

pub async fn accounts(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, account_list).await
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<Choice> {
    let mut values: Vec<String> = values.collect();
    values.sort_by_key(|value| value.to_lowercase());
    values.dedup();
    values.into_iter().map(|value| Choice { label: value.clone(), value }).collect()
}

/// The open deals the reader may see, by account: how many, and their amounts.
#[derive(Default)]
struct OpenDeals {
    amounts: HashMap<AccountId, Vec<Money>>,
    counts: HashMap<AccountId, usize>,
}

impl OpenDeals {
    fn load(tx: &mut Tx, viewer: &Viewer) -> Result<OpenDeals, AppError> {
        let open = OpportunityFilter { status: Some(Status::Open), ..OpportunityFilter::default() };
        let mut deals = OpenDeals::default();
        for deal in app::deals::opportunities_for(tx, viewer.org, &viewer.access, &open)? {
            if let Some(account) = deal.account_id {
                *deals.counts.entry(account).or_default() += 1;
                deals.amounts.entry(account).or_default().extend(deal.amount);
            }
        }
        Ok(deals)
    }
}

fn account_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let data = OrgData::load(&mut tx, viewer.org, state.now())?;
    let open = OpenDeals::load(&mut tx, viewer)?;
    Ok(List {
        title: t(locale, "accounts.title").to_owned(),
        nav: "accounts",
        path: "/accounts",
        columns: account_columns(locale),
        rows: matching_accounts(&data, params).into_iter().map(|account| account_row(&data, locale, &open, account)).collect(),
        filters: account_filters(&data, locale, params),
        default_sort: ("name", false),
        cursor_pager: None,
        presorted: None,
        csv_name: "accounts",
        note: None,
        link: None,
    })
}

/// The accounts the filters (`q`, `industry`, `region`, `owner`) let through.
fn matching_accounts<'a>(data: &'a OrgData, params: &Params) -> Vec<&'a Account> {
    let query = params.get("q").map(str::to_lowercase);
    let industry = params.get("industry");
    let region = params.get("region");
    let owner = params.id("owner").map(UserId);
    let mut accounts: Vec<_> = data.accounts.values().collect();
    accounts.retain(|account| {
        query.as_ref().is_none_or(|query| {
            account.name.to_lowercase().contains(query) || account.domains.iter().any(|domain| domain.contains(query.as_str()))
        }) && industry.is_none_or(|industry| account.industry.as_deref() == Some(industry))
            && region.is_none_or(|region| account.region.as_deref() == Some(region))
            && owner.is_none_or(|owner| account.owner_id == Some(owner))
    });
    accounts
}

fn account_columns(locale: Locale) -> Vec<Column> {
    vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "domains", "field.domains"),
        Column::new(locale, "industry", "field.industry"),
        Column::new(locale, "region", "field.region"),
        Column::new(locale, "employees", "field.employee_count").numeric(),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "open_deals", "field.open_deals").numeric(),
        Column::new(locale, "open_amount", "field.open_amount").numeric(),
    ]
}

/// One account's row, each cell with its sort key.
fn account_row(data: &OrgData, locale: Locale, open: &OpenDeals, account: &Account) -> Row {
    let amounts = open.amounts.get(&account.id).cloned().unwrap_or_default();
    let total = data.total(amounts.clone());
    let count = open.counts.get(&account.id).copied().unwrap_or(0);
    Row {
        cells: vec![
            Cell::link(account.name.clone(), format!("/accounts/{}", account.id)),
            Cell::text(account.domains.join(", ")),
            Cell::text(account.industry.clone().unwrap_or_default()),
            Cell::text(account.region.clone().unwrap_or_default()),
            Cell::text(account.employee_count.map(i18n::group).unwrap_or_default())
                .sort(account.employee_count.map_or(SortKey::Missing, |count| SortKey::Number(count.into()))),
            Cell::text(account.owner_id.map(|id| data.user_name(id)).unwrap_or_default()),
            Cell::text(count.to_string()).sort(SortKey::Number(count.into())),
            Cell::text(if amounts.is_empty() { String::new() } else { total.exact(locale) }).sort(if amounts.is_empty() {
                SortKey::Missing
            } else {
                SortKey::Number(total.sort_value())
            }),
        ],
        class: None,
    }
}

/// Search, industry and region (the values accounts have) and owner.
fn account_filters(data: &OrgData, locale: Locale, params: &Params) -> Vec<Filter> {
    let all: Vec<_> = data.accounts.values().collect();
    let owner_choices = data.users.iter().map(Choice::user).collect();
    vec![
        Filter::text("q", t(locale, "list.search").to_owned(), params),
        Filter::select(
            locale,
            "industry",
            t(locale, "field.industry").to_owned(),
            params.get("industry").unwrap_or_default().to_owned(),
            distinct(all.iter().filter_map(|account| account.industry.clone())),
        ),
        Filter::select(
            locale,
            "region",
            t(locale, "field.region").to_owned(),
            params.get("region").unwrap_or_default().to_owned(),
            distinct(all.iter().filter_map(|account| account.region.clone())),
        ),
        Filter::select(locale, "owner", t(locale, "field.owner_id").to_owned(), params.raw("owner").trim().to_owned(), owner_choices),
    ]
}

pub async fn contacts(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, contact_list).await
}

fn contact_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let mut contacts = app::records::contacts(&mut tx, viewer.org)?;
    let query = params.get("q").map(str::to_lowercase);
    let account = params.id("account").map(AccountId);
    contacts.retain(|contact| {
        query.as_ref().is_none_or(|query| {
            contact.name.to_lowercase().contains(query)
                || contact.emails.iter().any(|email| email.contains(query.as_str()))
                || contact.title.as_ref().is_some_and(|title| title.to_lowercase().contains(query))
        }) && account.is_none_or(|account| contact.account_id == Some(account))
    });
    data.load_accounts(&mut tx, contacts.iter().filter_map(|contact| contact.account_id).chain(account))?;
    let columns = vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "title", "field.title"),
        Column::new(locale, "account", "field.account_id"),
        Column::new(locale, "email", "field.email"),
        Column::new(locale, "phone", "field.phone"),
    ];
    let rows = contacts
        .iter()
        .map(|contact| Row {
            cells: vec![
                Cell::link(contact.name.clone(), format!("/contacts/{}", contact.id)),
                Cell::text(contact.title.clone().unwrap_or_default()),
                match (contact.account_id, data.account_name(contact.account_id)) {
                    (Some(id), Some(name)) => Cell::link(name, format!("/accounts/{id}")),
                    _ => Cell::text(""),
                },
                Cell::text(contact.emails.join(", ")),
                Cell::text(contact.phone.clone().unwrap_or_default()),
            ],
            class: None,
        })
        .collect();
    // The account filter offers every account of a small organisation; past `PICKER_AT`, the
    // one chosen, and a search box finds the others.
    data.load_accounts_for_select(&mut tx)?;
    let mut account_choices: Vec<Choice> = if data.every_account {
        data.accounts.values().map(|account| Choice { value: account.id.to_string(), label: account.name.clone() }).collect()
    } else {
        account
            .and_then(|id| data.accounts.get(&id))
            .map(|account| Choice { value: account.id.to_string(), label: account.name.clone() })
            .into_iter()
            .collect()
    };
    account_choices.sort_by_key(|choice| choice.label.to_lowercase());
    let account_filter = Filter::select(
        locale,
        "account",
        t(locale, "field.account_id").to_owned(),
        params.raw("account").trim().to_owned(),
        account_choices,
    );
    let account_filter =
        if data.every_account { account_filter } else { account_filter.picker("/pick/accounts", t(locale, "picker.accounts").to_owned()) };
    Ok(List {
        title: t(locale, "contacts.title").to_owned(),
        nav: "contacts",
        path: "/contacts",
        columns,
        rows,
        filters: vec![Filter::text("q", t(locale, "list.search").to_owned(), params), account_filter],
        default_sort: ("name", false),
        cursor_pager: None,
        presorted: None,
        csv_name: "contacts",
        note: None,
        link: None,
    })
}

#[derive(Serialize)]
struct DealLine {
    href: String,
    name: String,
    stage: String,
    status: &'static str,
    status_label: String,
    amount: String,
    close_date: String,
    owner: String,
}

#[derive(Serialize)]
struct ContactLine {
    href: String,
    name: String,
    title: String,
    emails: String,
    phone: String,
}

#[derive(Serialize)]
struct FieldLine {
    label: String,
    value: String,
    href: Option<String>,
}

impl FieldLine {
    /// A fact without a link, labelled by the catalog's `label_key`.
    fn new(locale: Locale, label_key: &str, value: String) -> FieldLine {
        FieldLine { label: t(locale, label_key).to_owned(), value, href: None }
    }
}

#[derive(Serialize)]
struct RecordView {
    name: String,
    fields: Vec<FieldLine>,
    domains: Vec<String>,
    contacts: Vec<ContactLine>,
    deals: Vec<DealLine>,
    deals_title: String,
    deals_url: Option<String>,
}

fn deal_lines(data: &OrgData, viewer: &Viewer, deals: &[Opportunity]) -> Vec<DealLine> {
    let locale = viewer.user.locale;
    let mut deals: Vec<&Opportunity> = deals.iter().collect();
    deals.sort_by_key(|deal| (deal.status != Status::Open, std::cmp::Reverse(deal.created_at)));
    deals
        .into_iter()
        .map(|deal| DealLine {
            href: format!("/opportunities/{}", deal.id),
            name: deal.name.clone(),
            stage: data.stage_name(locale, deal.stage_id),
            status: deal.status.as_str(),
            status_label: label(locale, "status", deal.status.as_str()),
            amount: deal.amount.map(|amount| i18n::money(locale, amount)).unwrap_or_default(),
            close_date: deal.close_date.map(|date| i18n::date(locale, date)).unwrap_or_default(),
            owner: data.user_name(deal.owner_id),
        })
        .collect()
}

pub async fn account(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>) -> Response {
    answer(viewer, move |reader| {
        let locale = reader.user.locale;
        let id = AccountId(path_id(&id, "account")?);
        let mut tx = state.db.read()?;
        let mut data = OrgData::load_without_accounts(&mut tx, reader.org, state.now())?;
        data.load_accounts(&mut tx, [id])?;
        let account = data.accounts.get(&id).ok_or_else(|| AppError::NotFound { kind: "account", id: id.to_string() })?;
        let mut contacts = app::records::contacts_of_account(&mut tx, reader.org, id)?;
        contacts.sort_by_key(|contact| contact.name.to_lowercase());
        let filter = OpportunityFilter { account_id: Some(id), ..OpportunityFilter::default() };
        let deals = app::deals::opportunities_for(&mut tx, reader.org, &reader.access, &filter)?;
        let none = || t(locale, "common.none").to_owned();
        let view = RecordView {
            name: account.name.clone(),
            fields: vec![
                FieldLine::new(locale, "field.industry", account.industry.clone().unwrap_or_else(none)),
                FieldLine::new(locale, "field.region", account.region.clone().unwrap_or_else(none)),
                FieldLine::new(locale, "field.employee_count", account.employee_count.map_or_else(none, i18n::group)),
                FieldLine::new(locale, "field.owner_id", account.owner_id.map_or_else(none, |owner| data.user_name(owner))),
                FieldLine::new(locale, "field.created_at", i18n::timestamp(locale, account.created_at, &reader.user.time_zone)),
            ],
            domains: account.domains.clone(),
            contacts: contacts
                .into_iter()
                .map(|contact| ContactLine {
                    href: format!("/contacts/{}", contact.id),
                    name: contact.name,
                    title: contact.title.unwrap_or_default(),
                    emails: contact.emails.join(", "),
                    phone: contact.phone.unwrap_or_default(),
                })
                .collect(),
            deals: deal_lines(&data, reader, &deals),
            deals_title: t(locale, "accounts.deals").to_owned(),
            deals_url: None,
        };
        render::page(reader, StatusCode::OK, "account_detail.html", "accounts", account.name.clone(), &view)
    })
    .await
}

pub async fn contact(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>) -> Response {
    answer(viewer, move |reader| {
        let locale = reader.user.locale;
        let id = ContactId(path_id(&id, "contact")?);
        let mut tx = state.db.read()?;
        let contact =
            app::records::contact(&mut tx, reader.org, id)?.ok_or_else(|| AppError::NotFound { kind: "contact", id: id.to_string() })?;
        let mut data = OrgData::load_without_accounts(&mut tx, reader.org, state.now())?;
        data.load_accounts(&mut tx, contact.account_id)?;
        let deals = match contact.account_id {
            Some(account) => {
                let filter = OpportunityFilter { account_id: Some(account), ..OpportunityFilter::default() };
                app::deals::opportunities_for(&mut tx, reader.org, &reader.access, &filter)?
            }
            None => Vec::new(),
        };
        let none = || t(locale, "common.none").to_owned();
        let view = RecordView {
            name: contact.name.clone(),
            fields: vec![
                FieldLine::new(locale, "field.title", contact.title.clone().unwrap_or_else(none)),
                FieldLine {
                    href: contact.account_id.map(|account| format!("/accounts/{account}")),
                    ..FieldLine::new(locale, "field.account_id", data.account_name(contact.account_id).map_or_else(none, str::to_owned))
                },
                FieldLine::new(locale, "field.email", if contact.emails.is_empty() { none() } else { contact.emails.join(", ") }),
                FieldLine::new(locale, "field.phone", contact.phone.clone().unwrap_or_else(none)),
                FieldLine::new(locale, "field.created_at", i18n::timestamp(locale, contact.created_at, &reader.user.time_zone)),
            ],
            domains: Vec::new(),
            contacts: Vec::new(),
            deals: deal_lines(&data, reader, &deals),
            deals_title: t(locale, "contacts.account_deals").to_owned(),
            deals_url: None,
        };
        render::page(reader, StatusCode::OK, "contact_detail.html", "contacts", contact.name.clone(), &view)
    })
    .await
}
