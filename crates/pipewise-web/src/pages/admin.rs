//! Admin pages: the users of the organisation and the audit log. Admins only; anyone else gets
//! a 403 page.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::{AuditEvent, AuditFilter};
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;
use serde_json::Value;

use super::data::{OrgData, label};
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey, list_page};
use super::{Params, SignedIn, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

/// Entries per page of the audit log.
const AUDIT_PAGE: u32 = 50;
/// The most entries one CSV export of the audit log holds.
const AUDIT_EXPORT: u32 = 10_000;

fn admin_only(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.user.role == Role::Admin && viewer.access.can_read_audit() {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "error.admin_only").to_owned()))
    }
}

pub async fn users(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, |state, viewer, params| {
        admin_only(viewer)?;
        user_list(state, viewer, params)
    })
    .await
}

fn user_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let zone = viewer.user.time_zone.as_str();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let teams = app::users::teams(&mut tx, viewer.org)?;
    let query = params.get("q").map(str::to_lowercase);
    let role = params.get("role").and_then(|raw| Role::parse(raw).ok());
    let active = params.get("active");
    let users: Vec<_> = data
        .users
        .iter()
        .filter(|user| {
            query.as_ref().is_none_or(|query| user.name.to_lowercase().contains(query) || user.email.contains(query.as_str()))
                && role.is_none_or(|role| user.role == role)
                && match active {
                    Some("yes") => user.active,
                    Some("no") => !user.active,
                    _ => true,
                }
        })
        .collect();
    let yes_no = |value: bool| t(locale, if value { "common.yes" } else { "common.no" }).to_owned();
    let columns = vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "email", "field.email"),
        Column::new(locale, "role", "field.role"),
        Column::new(locale, "manager", "field.manager_id"),
        Column::new(locale, "team", "field.team"),
        Column::new(locale, "time_zone", "field.time_zone"),
        Column::new(locale, "locale", "field.locale"),
        Column::new(locale, "active", "field.active"),
        Column::new(locale, "created", "field.created_at"),
    ];
    let rows = users
        .iter()
        .map(|user| Row {
            cells: vec![
                Cell::text(user.name.clone()),
                Cell::text(user.email.clone()),
                Cell::text(label(locale, "role", user.role.as_str())).sort(SortKey::Number((user.role as i64).into())),
                Cell::text(user.manager_id.map(|id| data.user_name(id)).unwrap_or_default()),
                Cell::text(
                    user.team_id.and_then(|id| teams.iter().find(|team| team.id == id)).map(|team| team.name.clone()).unwrap_or_default(),
                ),
                Cell::text(user.time_zone.clone()),
                Cell::text(label(locale, "locale", user.locale.as_str())),
                Cell::text(yes_no(user.active)),
                Cell::text(i18n::timestamp(locale, user.created_at, zone)).sort(SortKey::Time(user.created_at.as_micros())),
            ],
            class: (!user.active).then_some("inactive"),
        })
        .collect();
    let role_choices =
        Role::ALL.iter().map(|role| Choice { value: role.as_str().to_owned(), label: label(locale, "role", role.as_str()) }).collect();
    let active_choices = vec![Choice { value: "yes".into(), label: yes_no(true) }, Choice { value: "no".into(), label: yes_no(false) }];
    Ok(List {
        title: t(locale, "users.title").to_owned(),
        nav: "users",
        path: "/admin/users",
        columns,
        rows,
        filters: vec![
            Filter::text("q", t(locale, "list.search").to_owned(), params),
            Filter::select(locale, "role", t(locale, "field.role").to_owned(), params.raw("role").trim().to_owned(), role_choices),
            Filter::select(locale, "active", t(locale, "field.active").to_owned(), active.unwrap_or_default().to_owned(), active_choices),
        ],
        default_sort: ("name", false),
        cursor_pager: None,
        presorted: None,
        csv_name: "users",
        note: None,
        link: None,
    })
}

pub async fn audit(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, |state, viewer, params| {
        admin_only(viewer)?;
        audit_list(state, viewer, params)
    })
    .await
}

/// `{"amount": "USD 1"}` and `{"amount": "USD 2"}` → `amount: USD 1 → USD 2`.
fn changes(before: Option<&str>, after: Option<&str>) -> String {
    let parse = |text: Option<&str>| text.and_then(|text| serde_json::from_str::<Value>(text).ok());
    let (before, after) = (parse(before), parse(after));
    let show = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "∅".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let mut keys: Vec<&String> = Vec::new();
    for object in [&before, &after].into_iter().flatten().filter_map(Value::as_object) {
        keys.extend(object.keys().filter(|key| !keys.contains(key)).collect::<Vec<_>>());
    }
    let parts: Vec<String> = keys
        .into_iter()
        .map(|key| {
            let old = before.as_ref().and_then(|value| value.get(key));
            let new = after.as_ref().and_then(|value| value.get(key));
            if before.is_some() { format!("{key}: {} → {}", show(old), show(new)) } else { format!("{key}: {}", show(new)) }
        })
        .collect();
    let text = parts.join("; ");
    if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text }
}

fn audit_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let zone = viewer.user.time_zone.as_str();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let csv = params.get("format") == Some("csv");
    let filter = AuditFilter {
        actor_id: params.id("actor").map(UserId),
        record_kind: params.get("kind").map(str::to_owned),
        record_id: params.get("record").and_then(|raw| raw.parse().ok()),
        before_id: params.id("before"),
        limit: if csv { AUDIT_EXPORT } else { AUDIT_PAGE + 1 },
    };
    let mut events = app::audit::audit_events_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    let has_more = !csv && events.len() > AUDIT_PAGE as usize;
    events.truncate(if csv { AUDIT_EXPORT as usize } else { AUDIT_PAGE as usize });
    // Newer entries (back to the newest) and older ones, with the same filters.
    let page_url = |before: Option<i64>| {
        url_with(
            "/admin/audit",
            &[
                ("actor", params.raw("actor").trim().to_owned()),
                ("kind", params.raw("kind").trim().to_owned()),
                ("record", params.raw("record").trim().to_owned()),
                ("before", before.map(|id| id.to_string()).unwrap_or_default()),
            ],
        )
    };
    let next = has_more.then(|| events.last().map(|event| page_url(Some(event.id)))).flatten();
    let newest = filter.before_id.map(|_| page_url(None));
    Ok(List {
        title: t(locale, "audit.title").to_owned(),
        nav: "audit",
        path: "/admin/audit",
        columns: audit_columns(locale),
        rows: events.iter().map(|event| audit_row(&data, locale, zone, event)).collect(),
        filters: audit_filters(&data, locale, params),
        default_sort: ("at", true),
        cursor_pager: Some((newest, next)),
        presorted: None,
        csv_name: "audit",
        note: None,
        link: None,
    })
}

fn audit_columns(locale: Locale) -> Vec<Column> {
    vec![
        Column::new(locale, "at", "field.at"),
        Column::new(locale, "actor", "field.actor"),
        Column::new(locale, "source", "field.source"),
        Column::new(locale, "kind", "field.record_kind"),
        Column::new(locale, "record", "field.record_id").numeric(),
        Column::new(locale, "action", "field.action"),
        Column::new(locale, "changes", "field.changes"),
    ]
}

/// One entry's row; the record links to its page when it has one.
fn audit_row(data: &OrgData, locale: Locale, zone: &str, event: &AuditEvent) -> Row {
    let record_href = match event.record_kind.as_str() {
        "opportunity" => Some(format!("/opportunities/{}", event.record_id)),
        "account" => Some(format!("/accounts/{}", event.record_id)),
        "contact" => Some(format!("/contacts/{}", event.record_id)),
        _ => None,
    };
    let record = Cell::text(event.record_id.to_string()).sort(SortKey::Number(event.record_id.into()));
    Row {
        cells: vec![
            Cell::text(i18n::timestamp(locale, event.at, zone)).sort(SortKey::Time(event.id)),
            Cell::text(event.actor_id.map_or_else(|| t(locale, "common.system").to_owned(), |id| data.user_name(id))),
            Cell::text(label(locale, "source", event.source.as_str())),
            Cell::text(event.record_kind.clone()),
            Cell { href: record_href, ..record },
            Cell::text(event.action.clone()),
            Cell::text(changes(event.before.as_deref(), event.after.as_deref())),
        ],
        class: None,
    }
}

/// Who, what kind of record, and which record.
fn audit_filters(data: &OrgData, locale: Locale, params: &Params) -> Vec<Filter> {
    let actor_choices = data.users.iter().map(Choice::user).collect();
    let kinds =
        ["opportunity", "account", "contact", "lead", "activity", "task", "user", "team", "pipeline", "api_token", "health_settings"];
    let kind_choices = kinds.into_iter().map(|kind| Choice { value: kind.to_owned(), label: kind.to_owned() }).collect();
    vec![
        Filter::select(locale, "actor", t(locale, "field.actor").to_owned(), params.raw("actor").trim().to_owned(), actor_choices),
        Filter::select(locale, "kind", t(locale, "field.record_kind").to_owned(), params.raw("kind").trim().to_owned(), kind_choices),
        Filter::text("record", t(locale, "field.record_id").to_owned(), params),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_changes_read_as_before_and_after() {
        assert_eq!(changes(Some(r#"{"amount":"USD 1.00"}"#), Some(r#"{"amount":"USD 2.00"}"#)), "amount: USD 1.00 → USD 2.00");
        assert_eq!(changes(None, Some(r#"{"name":"Acme","owner_id":3}"#)), "name: Acme; owner_id: 3");
        assert_eq!(changes(None, None), "");
    }
}
