//! One shape for every list page (deals, accounts, contacts, tasks, users, audit): filters,
//! sortable columns, pages of 100 rows, and `?format=csv`, which exports exactly the columns and
//! cell texts the page shows, for every matching row, in the same order.
//!
//! CSV follows RFC 4180 (fields with a comma, quote or line break are quoted, quotes doubled,
//! CRLF line ends) and starts with a UTF-8 byte-order mark so spreadsheet programs read Korean
//! correctly. A cell starting with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet
//! shows it as text instead of running it as a formula.

use std::cmp::Ordering;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_core::money::Decimal;
use pipewise_core::pipeline::{ForecastCategory, Stage};
use pipewise_core::user::{Locale, User};
use serde::Serialize;

use super::data::label;
use super::{Params, answer, render, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub const PAGE_SIZE: usize = 100;

/// How a cell sorts.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKey {
    Text(String),
    Number(Decimal),
    /// Microseconds, or days for dates.
    Time(i64),
    /// Always last, whatever the direction.
    Missing,
}

impl SortKey {
    pub fn text(text: &str) -> SortKey {
        if text.is_empty() { SortKey::Missing } else { SortKey::Text(text.to_lowercase()) }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub label: String,
    pub numeric: bool,
}

impl Column {
    pub fn new(locale: Locale, key: &'static str, label_key: &str) -> Column {
        Column { key, label: t(locale, label_key).to_owned(), numeric: false }
    }

    pub fn numeric(mut self) -> Column {
        self.numeric = true;
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    /// A CSS class, e.g. `overdue`.
    pub class: Option<&'static str>,
    /// A longer text shown on hover.
    pub title: Option<String>,
    #[serde(skip)]
    pub sort: SortKey,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        let sort = SortKey::text(&text);
        Cell { text, href: None, class: None, title: None, sort }
    }

    pub fn link(text: impl Into<String>, href: String) -> Cell {
        Cell { href: Some(href), ..Cell::text(text) }
    }

    pub fn sort(mut self, sort: SortKey) -> Cell {
        self.sort = sort;
        self
    }

    pub fn class(mut self, class: &'static str) -> Cell {
        self.class = Some(class);
        self
    }

    pub fn title(mut self, title: String) -> Cell {
        self.title = Some(title);
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub class: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    /// A user, by name.
    pub fn user(user: &User) -> Choice {
        Choice { value: user.id.to_string(), label: user.name.clone() }
    }

    /// A stage, by its name in `locale`.
    pub fn stage(locale: Locale, stage: &Stage) -> Choice {
        Choice { value: stage.id.to_string(), label: i18n::stage_name(locale, stage).to_owned() }
    }

    /// Every forecast category, in order, by its name in `locale`.
    pub fn forecast_categories(locale: Locale) -> Vec<Choice> {
        ForecastCategory::ALL
            .iter()
            .map(|category| Choice { value: category.as_str().to_owned(), label: label(locale, "forecast", category.as_str()) })
            .collect()
    }
}

/// A select with more choices than this becomes a type-ahead picker: it holds only the chosen
/// ones, and a search box beside it finds the rest (2,000 people would weigh 100 KB a select).
pub const PICKER_AT: usize = 200;

/// `choices` as a select offers them: all of them, or past [`PICKER_AT`] only those in `keep`
/// (the chosen ones); and whether a picker must search the rest.
pub fn picker_choices(mut choices: Vec<Choice>, keep: &[&str]) -> (Vec<Choice>, bool) {
    if choices.len() <= PICKER_AT {
        return (choices, false);
    }
    choices.retain(|choice| keep.contains(&choice.value.as_str()));
    (choices, true)
}

#[derive(Clone, Debug, Serialize)]
pub struct Filter {
    pub name: &'static str,
    pub label: String,
    /// `text`, `select`, `date`, or `hidden` (kept in links and the form, not shown).
    pub kind: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
    /// A select over a large set: its choices are the one chosen, and a search box beside it
    /// asks this address (`?q=`) for the rest as the reader types. With its placeholder.
    pub picker: Option<(&'static str, String)>,
}

impl Filter {
    pub fn text(name: &'static str, label: String, params: &Params) -> Filter {
        Filter { name, label, kind: "text", value: params.raw(name).trim().to_owned(), choices: Vec::new(), picker: None }
    }

    /// A select whose first choice, `Any`, is the empty value.
    pub fn select(locale: Locale, name: &'static str, label: String, value: String, choices: Vec<Choice>) -> Filter {
        let mut all = vec![Choice { value: String::new(), label: t(locale, "list.any").to_owned() }];
        all.extend(choices);
        Filter { name, label, kind: "select", value, choices: all, picker: None }
    }

    /// Makes the select a type-ahead picker searching `source` (see [`Filter::picker`]).
    pub fn picker(mut self, source: &'static str, placeholder: String) -> Filter {
        self.picker = Some((source, placeholder));
        self
    }

    /// A select without an `Any` choice.
    pub fn select_exact(name: &'static str, label: String, value: String, choices: Vec<Choice>) -> Filter {
        Filter { name, label, kind: "select", value, choices, picker: None }
    }
}

/// A list before sorting and paging.
pub struct List {
    pub title: String,
    pub nav: &'static str,
    pub path: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub filters: Vec<Filter>,
    /// The default sort column and whether it is descending.
    pub default_sort: (&'static str, bool),
    /// Pager links when the list pages itself (the audit log pages by cursor); `None` pages by
    /// number.
    pub cursor_pager: Option<(Option<String>, Option<String>)>,
    /// A file name stem for the CSV.
    pub csv_name: &'static str,
    /// Text above the table.
    pub note: Option<String>,
    /// A page beside the list, in its toolbar: its label and address.
    pub link: Option<(String, &'static str)>,
    /// `Some(total)` when the builder sorted and paged itself (see [`sort_of`] and
    /// [`page_number`]): `rows` are the page asked for, in order, of `total` matching rows.
    pub presorted: Option<usize>,
}

/// The column a list is sorted by (`?sort=`, else the default) and whether descending
/// (`?dir=`, else the default's direction for the default column, else ascending).
pub fn sort_of<'a>(columns: &[Column], default_sort: (&'static str, bool), params: &'a Params) -> (&'a str, bool) {
    let sort_key = params.get("sort").filter(|key| columns.iter().any(|column| column.key == *key)).unwrap_or(default_sort.0);
    let descending = match params.get("dir") {
        Some("desc") => true,
        Some("asc") => false,
        _ if sort_key == default_sort.0 => default_sort.1,
        _ => false,
    };
    (sort_key, descending)
}

/// The page asked for (`?page=N`, from 1), within the pages `total` rows fill.
pub fn page_number(params: &Params, total: usize) -> usize {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    params.get("page").and_then(|page| page.parse::<usize>().ok()).unwrap_or(1).clamp(1, pages)
}

#[derive(Serialize)]
struct ColumnView<'a> {
    column: &'a Column,
    sort_url: String,
    /// `ascending` or `descending` when the list is sorted by this column.
    sorted: Option<&'static str>,
}

#[derive(Serialize)]
struct Pager {
    previous: Option<String>,
    next: Option<String>,
    label: Option<String>,
}

#[derive(Serialize)]
struct ListView<'a> {
    title: &'a str,
    path: &'a str,
    filters: &'a [Filter],
    /// Filters that are set, as hidden fields the sort links keep.
    columns: Vec<ColumnView<'a>>,
    rows: &'a [Row],
    count: String,
    csv_url: String,
    reset_url: &'a str,
    pager: Pager,
    note: Option<&'a str>,
    link: Option<&'a (String, &'static str)>,
    sort: &'a str,
    dir: &'a str,
}

impl List {
    /// Sorts by `?sort=<column>&dir=asc|desc`, then answers the page (`?page=N`) or, with
    /// `?format=csv`, every row as CSV.
    pub fn respond(mut self, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
        let locale = viewer.user.locale;
        let (sort_key, descending) = self.sort(params);
        if params.get("format") == Some("csv") {
            return Ok(self.csv_response(viewer));
        }
        let dir = if descending { "desc" } else { "asc" };
        let links = Links::new(self.path, &self.filters, params);
        let sort_pairs = [("sort", sort_key.to_owned()), ("dir", dir.to_owned())];
        let total = self.presorted.unwrap_or(self.rows.len());
        let cursor_pager = self.cursor_pager.take();
        let (shown, pager) = page_of(&self.rows, total, self.presorted.is_some(), cursor_pager, locale, params, |number| {
            let mut extra = sort_pairs.to_vec();
            extra.push(("page", number.to_string()));
            links.with(&extra)
        });
        let mut csv_pairs = sort_pairs.to_vec();
        csv_pairs.push(("format", "csv".to_owned()));
        let view = ListView {
            title: &self.title,
            path: self.path,
            filters: &self.filters,
            columns: column_views(&self.columns, sort_key, descending, &links),
            rows: shown,
            count: i18n::tf(locale, "list.count", &[("count", &total.to_string())]),
            csv_url: links.with(&csv_pairs),
            reset_url: self.path,
            pager,
            note: self.note.as_deref(),
            link: self.link.as_ref(),
            sort: sort_key,
            dir,
        };
        render::page(viewer, StatusCode::OK, "list.html", self.nav, self.title.clone(), &view)
    }

    /// Sorts the rows as `?sort=<column>&dir=asc|desc` asks (the default sort otherwise), and
    /// says by which column and whether descending.
    fn sort<'a>(&mut self, params: &'a Params) -> (&'a str, bool) {
        let (sort_key, descending) = sort_of(&self.columns, self.default_sort, params);
        if self.presorted.is_some() {
            return (sort_key, descending);
        }
        if let Some(index) = self.columns.iter().position(|column| column.key == sort_key) {
            self.rows.sort_by(|left, right| compare(&left.cells[index].sort, &right.cells[index].sort, descending));
        }
        (sort_key, descending)
    }

    /// Every row as a CSV download named after the list and the reader's today.
    fn csv_response(&self, viewer: &Viewer) -> Response {
        let body = csv(&self.columns, &self.rows);
        let today = viewer_today(viewer);
        let disposition = format!("attachment; filename=\"{}-{today}.csv\"", self.csv_name);
        (StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
            .into_response()
    }
}

/// The list's own links: its path with the filters that are set (and the audit log's cursor)
/// kept.
struct Links<'a> {
    path: &'a str,
    kept: Vec<(&'a str, String)>,
}

impl<'a> Links<'a> {
    fn new(path: &'a str, filters: &'a [Filter], params: &'a Params) -> Links<'a> {
        let mut kept: Vec<(&str, String)> =
            filters.iter().filter(|filter| !filter.value.is_empty()).map(|filter| (filter.name, filter.value.clone())).collect();
        kept.extend(params.get("before").map(|before| ("before", before.to_owned())));
        Links { path, kept }
    }

    /// The list's address with `extra` pairs after the kept ones.
    fn with(&self, extra: &[(&str, String)]) -> String {
        let mut pairs = self.kept.clone();
        pairs.extend(extra.iter().cloned());
        url_with(self.path, &pairs)
    }
}

/// The rows shown and the pager: the list's own cursor links when it pages itself, else page
/// `?page=N` of [`PAGE_SIZE`] rows of `total` with `link(N)` to the neighbours (`rows` are that
/// page already when `paged`).
fn page_of<'r>(
    rows: &'r [Row],
    total: usize,
    paged: bool,
    cursor_pager: Option<(Option<String>, Option<String>)>,
    locale: Locale,
    params: &Params,
    link: impl Fn(usize) -> String,
) -> (&'r [Row], Pager) {
    if let Some((previous, next)) = cursor_pager {
        return (rows, Pager { previous, next, label: None });
    }
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page_number(params, total);
    let (start, end) = if paged { (0, rows.len()) } else { ((page - 1) * PAGE_SIZE, ((page - 1) * PAGE_SIZE + PAGE_SIZE).min(total)) };
    let pager = Pager {
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        label: (pages > 1).then(|| i18n::tf(locale, "list.page", &[("page", &page.to_string()), ("pages", &pages.to_string())])),
    };
    (&rows[start..end], pager)
}

/// The column headers: each links to sorting by it (ascending first, then the other way).
fn column_views<'a>(columns: &'a [Column], sort_key: &str, descending: bool, links: &Links) -> Vec<ColumnView<'a>> {
    columns
        .iter()
        .map(|column| {
            let sorted = (column.key == sort_key).then_some(if descending { "descending" } else { "ascending" });
            let next_dir = if column.key == sort_key && !descending { "desc" } else { "asc" };
            ColumnView { column, sort_url: links.with(&[("sort", column.key.to_owned()), ("dir", next_dir.to_owned())]), sorted }
        })
        .collect()
}

/// A list page: `build` makes the list for the reader, which answers the query (sort, page or
/// CSV).
pub async fn list_page(
    state: AppState,
    viewer: Viewer,
    query: Option<String>,
    build: fn(&AppState, &Viewer, &Params) -> Result<List, AppError>,
) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| build(&state, reader, &params)?.respond(reader, &params)).await
}

fn viewer_today(viewer: &Viewer) -> String {
    let zone = jiff::tz::TimeZone::get(&viewer.user.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(zone).date().to_string()
}

pub fn compare(left: &SortKey, right: &SortKey, descending: bool) -> Ordering {
    let ordering = match (left, right) {
        (SortKey::Missing, SortKey::Missing) => return Ordering::Equal,
        (SortKey::Missing, _) => return Ordering::Greater,
        (_, SortKey::Missing) => return Ordering::Less,
        (SortKey::Text(left), SortKey::Text(right)) => left.cmp(right),
        (SortKey::Number(left), SortKey::Number(right)) => left.cmp(right),
        (SortKey::Time(left), SortKey::Time(right)) => left.cmp(right),
        // Mixed kinds do not happen within a column; keep them stable.
        _ => Ordering::Equal,
    };
    if descending { ordering.reverse() } else { ordering }
}

/// The CSV of `columns` and `rows`.
pub fn csv(columns: &[Column], rows: &[Row]) -> String {
    let mut out = String::from('\u{feff}');
    let header: Vec<&str> = columns.iter().map(|column| column.label.as_str()).collect();
    write_record(&mut out, header.into_iter());
    out.push_str(&csv_rows(rows));
    out
}

/// The CSV lines of `rows` (what follows [`csv`]'s header in a file written a part at a time).
pub fn csv_rows(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        write_record(&mut out, row.cells.iter().map(|cell| cell.text.as_str()));
    }
    out
}

fn write_record<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (index, field) in fields.enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(field));
    }
    out.push_str("\r\n");
}

/// One CSV field, quoted when needed and guarded against formula injection.
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_guards_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-5"), "'-5");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        let columns =
            [Column { key: "a", label: "Name".into(), numeric: false }, Column { key: "b", label: "Amount".into(), numeric: true }];
        let rows = [Row { cells: vec![Cell::text("Acme, Inc."), Cell::text("USD 1,000.00")], class: None }];
        assert_eq!(csv(&columns, &rows), "\u{feff}Name,Amount\r\n\"Acme, Inc.\",\"USD 1,000.00\"\r\n");
    }

    #[test]
    fn missing_values_sort_last_both_ways() {
        let keys = [SortKey::Time(2), SortKey::Missing, SortKey::Time(1)];
        let mut ascending = keys.to_vec();
        ascending.sort_by(|a, b| compare(a, b, false));
        assert_eq!(ascending, [SortKey::Time(1), SortKey::Time(2), SortKey::Missing]);
        let mut descending = keys.to_vec();
        descending.sort_by(|a, b| compare(a, b, true));
        assert_eq!(descending, [SortKey::Time(2), SortKey::Time(1), SortKey::Missing]);
    }
}
