//! Accounts and contacts: their lists and pages. Both are visible to everyone in the
//! organisation; the deals shown with them are only those the reader may see.

use pipewise_app as app;
use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_analytics::{DealGroup, ListFilter};
use pipewise_app::insights::Insights;
use pipewise_app::{AccountFacets, AccountFilter, ContactFilter, NameOrder, NamePage, OpportunityFilter, Tx};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::pipeline::StageKind;
use pipewise_core::records::{Account, Contact};
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::data::{OrgData, label};
use super::list::{Cell, Choice, Column, Filter, List, PAGE_SIZE, Row, SortKey, compare, list_page, page_number, sort_of};
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

/// The distinct values, in the order a list sorts text (ignoring case).
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Choice> {
    let mut values: Vec<&str> = values.collect::<HashSet<&str>>().into_iter().collect();
    values.sort_by_cached_key(|value| (value.to_lowercase(), *value));
    values.into_iter().map(|value| Choice { label: value.to_owned(), value: value.to_owned() }).collect()
}

/// The open deals the reader may see, by account: how many, and their amounts. Read from the
/// analytics projection when the server keeps one (current as of this request), else from the
/// store.
struct OpenDeals(HashMap<AccountId, DealGroup>);

impl OpenDeals {
    /// The open deals of the accounts `among` (every account's when `None`), from `insights`
    /// when the server keeps them (brought up to the log before `tx` was taken).
    fn load(insights: Option<&Insights>, tx: &mut Tx, viewer: &Viewer, among: Option<&HashSet<AccountId>>) -> Result<OpenDeals, AppError> {
        if let Some(insights) = insights {
            let filter =
                ListFilter { kind: Some(StageKind::Open), visible: super::deals_quick::visible(tx, viewer)?, ..ListFilter::default() };
            return Ok(OpenDeals(insights.with(|projection| projection.by_account(&projection.list_matching(&filter), among))));
        }
        let open = OpportunityFilter { status: Some(Status::Open), ..OpportunityFilter::default() };
        let mut groups: HashMap<AccountId, DealGroup> = HashMap::new();
        for deal in app::deals::opportunities_for(tx, viewer.org, &viewer.access, &open)? {
            if let Some(account) = deal.account_id.filter(|account| among.is_none_or(|among| among.contains(account))) {
                let group = groups.entry(account).or_default();
                group.count += 1;
                group.amounts.extend(deal.amount);
            }
        }
        Ok(OpenDeals(groups))
    }
}

/// Which rows of a records list are read, and in which order.
enum Shown<Id> {
    /// The page shown (ids in order) of `total` matching, found in name order through the
    /// store's index: the list's default order, whatever the number of records.
    Page(NamePage<Id>),
    /// Every matching record (to be read whole and ordered by another column, or written as CSV).
    All(Vec<Id>),
}

impl<Id> Shown<Id> {
    /// What the list's query asks: a page in name order is found by the store; another order
    /// or a CSV needs every matching record. `page` reads the ids the filters keep in name
    /// order, from where and as many as the order says.
    fn of(
        columns: &[Column],
        default_sort: (&'static str, bool),
        params: &Params,
        mut page: impl FnMut(NameOrder) -> Result<NamePage<Id>, AppError>,
    ) -> Result<Shown<Id>, AppError> {
        let (sort, descending) = sort_of(columns, default_sort, params);
        if params.get("format") == Some("csv") || sort != "name" {
            return Ok(Shown::All(page(NameOrder::default())?.ids));
        }
        let at =
            |number: usize| NameOrder { descending, offset: (number - 1).saturating_mul(PAGE_SIZE) as u64, limit: Some(PAGE_SIZE as u64) };
        let asked = params.get("page").and_then(|page| page.parse::<usize>().ok()).unwrap_or(1).max(1);
        let found = page(at(asked))?;
        // A page past the end shows the last one, as a list read whole does.
        let within = page_number(params, usize::try_from(found.total).unwrap_or(usize::MAX));
        Ok(Shown::Page(if within == asked { found } else { page(at(within))? }))
    }
}

/// Orders `records` (in id order) by their cells in the sort column and keeps the page asked
/// for, as [`List::respond`] would: the cells of one column are worked out for every record,
/// the others only for the page's. Answers the page's records, in order.
fn order_and_page<'a, T>(
    records: &'a [T],
    columns: &[Column],
    default_sort: (&'static str, bool),
    params: &Params,
    cell: impl Fn(&str, &T) -> Cell,
) -> Vec<&'a T> {
    let (sort, descending) = sort_of(columns, default_sort, params);
    let keys: Vec<SortKey> = records.iter().map(|record| cell(sort, record).sort).collect();
    let mut order: Vec<usize> = (0..records.len()).collect();
    // `records` are in id order: ties keep it, as the whole list's stable sort does.
    order.sort_by(|left, right| compare(&keys[*left], &keys[*right], descending));
    let start = (page_number(params, records.len()) - 1) * PAGE_SIZE;
    order.into_iter().skip(start).take(PAGE_SIZE).map(|position| &records[position]).collect()
}

/// The account list: the accounts the filters keep (`q`, `industry`, `region`, `owner`), found
/// by the store; in name order only the page shown is read, in another order every matching
/// account is read and ordered by that column's keys alone, and only the page shown is worded.
fn account_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    // The projection brought up to the log before the request's transaction is taken.
    let insights = state.insights.as_ref().map(|_| state.insights_for(viewer.org)).transpose()?;
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let columns = account_columns(locale);
    let default_sort = ("name", false);
    let filter = AccountFilter {
        text: params.get("q").map(str::to_owned),
        industry: params.get("industry").map(str::to_owned),
        region: params.get("region").map(str::to_owned),
        owner_id: params.id("owner").map(UserId),
        ..AccountFilter::default()
    };
    let shown = Shown::of(&columns, default_sort, params, |order| Ok(app::records::account_page(&mut tx, viewer.org, &filter, order)?))?;
    // Only the page's accounts' deals matter when the store found the page.
    let among: Option<HashSet<AccountId>> = match &shown {
        Shown::Page(page) => Some(page.ids.iter().copied().collect()),
        Shown::All(_) => None,
    };
    let open = OpenDeals::load(insights.as_deref(), &mut tx, viewer, among.as_ref())?;
    let owners: HashMap<UserId, &str> = data.users.iter().map(|user| (user.id, user.name.as_str())).collect();
    let cells = AccountCells { data: &data, locale, open: &open, owners: &owners };
    let (rows, presorted) = match shown {
        Shown::Page(page) => {
            let mut accounts = app::records::accounts_by_ids(&mut tx, viewer.org, &page.ids)?;
            accounts.sort_by_key(|account| page.ids.iter().position(|id| *id == account.id));
            (accounts.iter().map(|account| cells.row(&columns, account)).collect(), Some(page.total as usize))
        }
        Shown::All(mut ids) => {
            ids.sort_unstable();
            let (sort, _) = sort_of(&columns, default_sort, params);
            if params.get("format") == Some("csv") {
                // `List::respond` orders the whole list for the file.
                let accounts = app::records::accounts_by_ids(&mut tx, viewer.org, &ids)?;
                (accounts.iter().map(|account| cells.row(&columns, account)).collect(), None)
            } else if matches!(sort, "open_deals" | "open_amount") {
                // Ordered by their deals alone: only the page's accounts are read.
                let page: Vec<AccountId> = order_and_page(&ids, &columns, default_sort, params, |key, id| cells.open_cell(key, *id))
                    .into_iter()
                    .copied()
                    .collect();
                let mut accounts = app::records::accounts_by_ids(&mut tx, viewer.org, &page)?;
                accounts.sort_by_key(|account| page.iter().position(|id| *id == account.id));
                (accounts.iter().map(|account| cells.row(&columns, account)).collect(), Some(ids.len()))
            } else {
                let accounts = app::records::accounts_by_ids(&mut tx, viewer.org, &ids)?;
                let page = order_and_page(&accounts, &columns, default_sort, params, |key, account| cells.cell(key, account));
                (page.into_iter().map(|account| cells.row(&columns, account)).collect(), Some(accounts.len()))
            }
        }
    };
    let facets = app::records::account_facets(&mut tx, viewer.org)?;
    Ok(List {
        title: t(locale, "accounts.title").to_owned(),
        nav: "accounts",
        path: "/accounts",
        columns,
        rows,
        filters: account_filters(&data, &facets, locale, params),
        default_sort,
        cursor_pager: None,
        presorted,
        csv_name: "accounts",
        note: None,
        link: None,
    })
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

/// What an account's cells are worded from.
struct AccountCells<'a> {
    data: &'a OrgData,
    locale: Locale,
    open: &'a OpenDeals,
    owners: &'a HashMap<UserId, &'a str>,
}

impl AccountCells<'_> {
    /// One account's row: a cell per column.
    fn row(&self, columns: &[Column], account: &Account) -> Row {
        Row { cells: columns.iter().map(|column| self.cell(column.key, account)).collect(), class: None }
    }

    /// One account's cell in column `key`, with its sort key: the page's cells and the order of
    /// the whole list both come from here.
    fn cell(&self, key: &str, account: &Account) -> Cell {
        match key {
            "name" => Cell::link(account.name.clone(), format!("/accounts/{}", account.id)),
            "domains" => Cell::text(account.domains.join(", ")),
            "industry" => Cell::text(account.industry.clone().unwrap_or_default()),
            "region" => Cell::text(account.region.clone().unwrap_or_default()),
            "employees" => Cell::text(account.employee_count.map(i18n::group).unwrap_or_default())
                .sort(account.employee_count.map_or(SortKey::Missing, |count| SortKey::Number(count.into()))),
            "owner" => Cell::text(
                account
                    .owner_id
                    .map(|id| self.owners.get(&id).map_or_else(|| format!("#{id}"), |name| (*name).to_owned()))
                    .unwrap_or_default(),
            ),
            "open_deals" | "open_amount" => self.open_cell(key, account.id),
            _ => Cell::text(""),
        }
    }

    /// The cell of an account's open deals: how many (`open_deals`) or their total
    /// (`open_amount`).
    fn open_cell(&self, key: &str, account: AccountId) -> Cell {
        let group = self.open.0.get(&account);
        if key == "open_deals" {
            let count = group.map_or(0, |group| group.count);
            return Cell::text(count.to_string()).sort(SortKey::Number(count.into()));
        }
        match group.filter(|group| !group.amounts.is_empty()) {
            None => Cell::text("").sort(SortKey::Missing),
            Some(group) => {
                let total = self.data.total(group.amounts.iter().copied());
                Cell::text(total.exact(self.locale)).sort(SortKey::Number(total.sort_value()))
            }
        }
    }
}

/// Search, industry and region (the values accounts have) and owner.
fn account_filters(data: &OrgData, facets: &AccountFacets, locale: Locale, params: &Params) -> Vec<Filter> {
    let owner_choices = data.users.iter().map(Choice::user).collect();
    vec![
        Filter::text("q", t(locale, "list.search").to_owned(), params),
        Filter::select(
            locale,
            "industry",
            t(locale, "field.industry").to_owned(),
            params.get("industry").unwrap_or_default().to_owned(),
            distinct(facets.industries.iter().map(String::as_str)),
        ),
        Filter::select(
            locale,
            "region",
            t(locale, "field.region").to_owned(),
            params.get("region").unwrap_or_default().to_owned(),
            distinct(facets.regions.iter().map(String::as_str)),
        ),
        Filter::select(locale, "owner", t(locale, "field.owner_id").to_owned(), params.raw("owner").trim().to_owned(), owner_choices),
    ]
}

pub async fn contacts(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, contact_list).await
}

/// The contact list: the contacts the filters keep (`q`, `account`), found by the store and
/// read as [`account_list`] reads accounts.
fn contact_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let account = params.id("account").map(AccountId);
    let columns = vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "title", "field.title"),
        Column::new(locale, "account", "field.account_id"),
        Column::new(locale, "email", "field.email"),
        Column::new(locale, "phone", "field.phone"),
    ];
    let default_sort = ("name", false);
    let filter = ContactFilter { text: params.get("q").map(str::to_owned), account_id: account };
    let shown = Shown::of(&columns, default_sort, params, |order| Ok(app::records::contact_page(&mut tx, viewer.org, &filter, order)?))?;
    // `every`: every matching contact was read (another order than the name's, or a CSV).
    let (contacts, every, total) = match shown {
        Shown::Page(page) => {
            let mut contacts = app::records::contacts_by_ids(&mut tx, viewer.org, &page.ids)?;
            contacts.sort_by_key(|contact| page.ids.iter().position(|id| *id == contact.id));
            (contacts, false, page.total as usize)
        }
        Shown::All(mut ids) => {
            ids.sort_unstable();
            let total = ids.len();
            (app::records::contacts_by_ids(&mut tx, viewer.org, &ids)?, true, total)
        }
    };
    data.load_accounts(&mut tx, contacts.iter().filter_map(|contact| contact.account_id).chain(account))?;
    let cell = |key: &str, contact: &Contact| -> Cell {
        match key {
            "name" => Cell::link(contact.name.clone(), format!("/contacts/{}", contact.id)),
            "title" => Cell::text(contact.title.clone().unwrap_or_default()),
            "account" => match (contact.account_id, data.account_name(contact.account_id)) {
                (Some(id), Some(name)) => Cell::link(name, format!("/accounts/{id}")),
                _ => Cell::text(""),
            },
            "email" => Cell::text(contact.emails.join(", ")),
            "phone" => Cell::text(contact.phone.clone().unwrap_or_default()),
            _ => Cell::text(""),
        }
    };
    let row = |contact: &Contact| Row { cells: columns.iter().map(|column| cell(column.key, contact)).collect(), class: None };
    let (rows, presorted) = if !every {
        // The page, in name order.
        (contacts.iter().map(row).collect(), Some(total))
    } else if params.get("format") == Some("csv") {
        // `List::respond` orders the whole list for the file.
        (contacts.iter().map(row).collect(), None)
    } else {
        (order_and_page(&contacts, &columns, default_sort, params, cell).into_iter().map(row).collect(), Some(total))
    };
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
        default_sort,
        cursor_pager: None,
        presorted,
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
