//! Accounts, contacts, users, teams, pipelines (read and create only), leads, activities and
//! tasks: list, get, create, patch.
//!
//! Accounts, contacts, users, teams, pipelines and leads are visible to everyone in the
//! organisation; tasks and activities follow the deals (a rep sees those of deals they may see,
//! plus their own). Lists are read whole from the store, then filtered, sorted and cut into
//! pages here.
//! FIXME: push sorting and keyset paging into SQL for these lists when they grow past a few
//! thousand rows per organisation (opportunities already page in SQL in id order).

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::{ActivityFilter, TaskFilter};
use pipewise_core::records::*;
use pipewise_core::user::{Locale, Role, User};
use pipewise_core::*;

use super::db::{read, write};
use super::openapi::{Create, Field, Resource};
use super::support::{
    IdPath, JsonBody, Key, Listing, Query, SortField, created, list_params, not_found, optional_text_key, sort_names, text_key,
};
use super::views::*;
use super::{Param, Reply, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use pipewise_app::input;

use axum::Json;

fn list_query<T>(filters: Vec<Param>, sorts: &[SortField<T>]) -> Vec<Param> {
    let mut params = filters;
    params.extend(list_params(sort_names(sorts)));
    params
}

fn id_param(what: &'static str) -> Param {
    Param::id("id", what)
}

/// The five routes of a record: list, create, get, patch (when `patch`).
#[allow(clippy::too_many_arguments)]
fn crud<L, LT, C, CT, G, GT, P, PT>(
    plural: &'static str,
    schema: &'static str,
    query: Vec<Param>,
    ids: [&'static str; 4],
    list: L,
    create: C,
    get: G,
    patch: Option<P>,
) -> Vec<Route>
where
    L: axum::handler::Handler<LT, AppState>,
    C: axum::handler::Handler<CT, AppState>,
    G: axum::handler::Handler<GT, AppState>,
    P: axum::handler::Handler<PT, AppState>,
    LT: 'static,
    CT: 'static,
    GT: 'static,
    PT: 'static,
{
    let collection: &'static str = Box::leak(format!("/api/v1/{plural}").into_boxed_str());
    let item: &'static str = Box::leak(format!("/api/v1/{plural}/{{id}}").into_boxed_str());
    let create_schema: &'static str = Box::leak(format!("{schema}Create").into_boxed_str());
    let patch_schema: &'static str = Box::leak(format!("{schema}Patch").into_boxed_str());
    let mut routes = vec![
        Route::new(Method::GET, collection, ids[0], list)
            .summary(plural, "List, filter, sort and page.")
            .query(query)
            .reply(Reply::List(schema)),
        Route::new(Method::POST, collection, ids[1], create)
            .summary(plural, "Create one.")
            .body(create_schema)
            .reply(Reply::Json(201, schema)),
        Route::new(Method::GET, item, ids[2], get)
            .summary(plural, "Get one by id.")
            .path_param(id_param("The record's id."))
            .reply(Reply::Json(200, schema)),
    ];
    if let Some(patch) = patch {
        routes.push(
            Route::new(Method::PATCH, item, ids[3], patch)
                .summary(plural, "Change some fields: absent fields stay, `null` clears a nullable field.")
                .path_param(id_param("The record's id."))
                .body(patch_schema)
                .reply(Reply::Json(200, schema)),
        );
    }
    routes
}

pub fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(crud(
        "accounts",
        "Account",
        account_query(),
        ["list_accounts", "create_account", "get_account", "update_account"],
        list_accounts,
        create_account,
        get_account,
        Some(update_account),
    ));
    routes.extend(crud(
        "contacts",
        "Contact",
        contact_query(),
        ["list_contacts", "create_contact", "get_contact", "update_contact"],
        list_contacts,
        create_contact,
        get_contact,
        Some(update_contact),
    ));
    routes.extend(crud(
        "users",
        "User",
        user_query(),
        ["list_users", "create_user", "get_user", "update_user"],
        list_users,
        create_user,
        get_user,
        Some(update_user),
    ));
    routes.extend(crud(
        "teams",
        "Team",
        team_query(),
        ["list_teams", "create_team", "get_team", "update_team"],
        list_teams,
        create_team,
        get_team,
        Some(update_team),
    ));
    routes.extend(crud(
        "pipelines",
        "Pipeline",
        pipeline_query(),
        ["list_pipelines", "create_pipeline", "get_pipeline", ""],
        list_pipelines,
        create_pipeline,
        get_pipeline,
        None::<fn() -> std::future::Ready<Response>>,
    ));
    routes.extend(crud(
        "leads",
        "Lead",
        lead_query(),
        ["list_leads", "create_lead", "get_lead", "update_lead"],
        list_leads,
        create_lead,
        get_lead,
        Some(update_lead),
    ));
    routes.extend(crud(
        "activities",
        "Activity",
        activity_query(),
        ["list_activities", "create_activity", "get_activity", ""],
        list_activities,
        create_activity,
        get_activity,
        None::<fn() -> std::future::Ready<Response>>,
    ));
    routes.extend(crud(
        "tasks",
        "Task",
        task_query(),
        ["list_tasks", "create_task", "get_task", "update_task"],
        list_tasks,
        create_task,
        get_task,
        Some(update_task),
    ));
    routes
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|value| name(*value)).collect()
}

pub fn resources() -> Vec<Resource> {
    let required_on_create = |mut field: Field| {
        field.create = Create::Required;
        field
    };
    vec![
        Resource {
            name: "Account",
            description: "A customer company.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("name", Ty::Text).required(),
                Field::read("domains", Ty::TextList).writable().doc("Lower-cased domains mail is matched by; each belongs to one account."),
                Field::read("industry", Ty::Text).nullable().writable(),
                Field::read("employee_count", Ty::Integer).nullable().writable(),
                Field::read("region", Ty::Text).nullable().writable(),
                Field::read("owner_id", Ty::Id).nullable().writable(),
                Field::read("created_at", Ty::Time),
            ],
        },
        Resource {
            name: "Contact",
            description: "A person at a customer.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("name", Ty::Text).required(),
                Field::read("emails", Ty::TextList).writable(),
                Field::read("phone", Ty::Text).nullable().writable(),
                Field::read("title", Ty::Text).nullable().writable(),
                Field::read("account_id", Ty::Id).nullable().writable(),
                Field::read("created_at", Ty::Time),
            ],
        },
        Resource {
            name: "User",
            description: "A user of Pipewise: role and place in the reporting hierarchy.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("email", Ty::Text).required(),
                Field::read("name", Ty::Text).required(),
                Field::read("role", Ty::Enum(names(&Role::ALL, Role::as_str))).required(),
                Field::read("manager_id", Ty::Id).nullable().writable(),
                Field::read("team_id", Ty::Id).nullable().writable(),
                Field::read("time_zone", Ty::Text).writable().doc("IANA name; defaults to UTC."),
                Field::read("locale", Ty::Enum(names(&[Locale::En, Locale::Ko], Locale::as_str))).writable(),
                Field::read("active", Ty::Boolean).patch_only(),
                Field::read("created_at", Ty::Time),
            ],
        },
        Resource {
            name: "Team",
            description: "A sales team.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("name", Ty::Text).required(),
                Field::read("manager_id", Ty::Id).nullable().writable(),
            ],
        },
        Resource {
            name: "Stage",
            description: "A stage of a pipeline. Patch with `PATCH /api/v1/stages/{id}`; kind and position have their own operations.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("position", Ty::Integer),
                Field::read("name_en", Ty::Text).required(),
                Field::read("name_ko", Ty::Text).writable().doc("Defaults to the English name."),
                Field::read("kind", Ty::Enum(vec!["open", "won", "lost"])).create_only(Create::Optional),
                Field::read("win_probability", Ty::Decimal).writable().doc("Percent, 0 to 100."),
                Field::read("forecast_category", Ty::Enum(vec!["pipeline", "best_case", "commit", "closed", "omitted"])).writable(),
                Field::read("counts_in_metrics", Ty::Boolean).writable(),
                Field::read("rotting_days", Ty::Integer).nullable().writable(),
                Field::read("position", Ty::Integer)
                    .create_only(Create::Optional)
                    .input_only()
                    .doc("With `POST /api/v1/pipelines/{id}/stages`: where to insert (0-based); after the last open stage by default."),
                Field::read("archived_at", Ty::Time).nullable().doc("Set when archived: the stage keeps its deals but takes no new ones."),
            ],
        },
        Resource {
            name: "Pipeline",
            description: "A pipeline with its stages in order.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("name", Ty::Text).required(),
                Field::read("entry_stage_id", Ty::Id).patch_only().doc("On patch: an open, unarchived stage of the pipeline."),
                Field::read("entry_stage", Ty::Integer)
                    .create_only(Create::Optional)
                    .input_only()
                    .doc("Index into `stages` of the entry stage; 0 by default."),
                Field::read("stages", Ty::RefList("Stage")).create_only(Create::Required).doc("On create: `StageCreate` objects."),
            ],
        },
        Resource {
            name: "Lead",
            description: "A lead in qualification.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("name", Ty::Text).required(),
                Field::read("company", Ty::Text).nullable().writable(),
                Field::read("email", Ty::Text).nullable().writable(),
                Field::read("phone", Ty::Text).nullable().writable(),
                Field::read("title", Ty::Text).nullable().writable(),
                Field::read("source", Ty::Text).nullable().writable(),
                Field::read("status", Ty::Enum(names(LeadStatus::ALL, LeadStatus::as_str))).writable(),
                Field::read("owner_id", Ty::Id).nullable().writable(),
                Field::read("created_at", Ty::Time),
            ],
        },
        Resource {
            name: "Activity",
            description: "An e-mail, meeting, call, note or task, and what it is linked to.",
            create: true,
            patch: false,
            fields: vec![
                Field::read("id", Ty::Id),
                required_on_create(Field::read("kind", Ty::Enum(names(ActivityKind::ALL, ActivityKind::as_str)))),
                required_on_create(Field::read("direction", Ty::Enum(names(Direction::ALL, Direction::as_str)))),
                required_on_create(Field::read("occurred_at", Ty::Time)),
                Field::read("logged_at", Ty::Time),
                required_on_create(Field::read("subject", Ty::Text)),
                Field::read("body", Ty::Text).nullable().create_only(Create::Optional),
                Field::read("source", Ty::Text).create_only(Create::Optional).doc("Defaults to `api`."),
                Field::read("user_id", Ty::Id).nullable().create_only(Create::Optional).doc("Defaults to the viewer."),
                Field::read("account_id", Ty::Id).nullable().create_only(Create::Optional),
                Field::read("opportunity_id", Ty::Id).nullable().create_only(Create::Optional),
                Field::read("contact_ids", Ty::IdList).create_only(Create::Optional),
            ],
        },
        Resource {
            name: "Task",
            description: "A to-do with an owner and perhaps a due date.",
            create: true,
            patch: true,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("title", Ty::Text).required(),
                Field::read("owner_id", Ty::Id).writable().doc("Defaults to the viewer."),
                Field::read("due_on", Ty::Date).nullable().writable(),
                Field::read("completed", Ty::Boolean).patch_only().doc("`true` completes the task, `false` reopens it."),
                Field::read("completed_at", Ty::Time).nullable(),
                Field::read("account_id", Ty::Id).nullable().create_only(Create::Optional),
                Field::read("opportunity_id", Ty::Id).nullable().create_only(Create::Optional),
                Field::read("lead_id", Ty::Id).nullable().create_only(Create::Optional),
                Field::read("created_at", Ty::Time),
            ],
        },
    ]
}

// Accounts.

fn account_sorts() -> Vec<SortField<Account>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "employee_count", key: |row| row.employee_count.map_or(Key::Null, Key::Int) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn account_query() -> Vec<Param> {
    list_query(vec![Param::id("owner_id", "Only accounts owned by this user.")], &account_sorts())
}

async fn list_accounts(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<AccountView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &account_query())?;
    let sorts = account_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let owner = query.id("owner_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::records::accounts(tx, viewer.org)?)).await?;
    rows.retain(|row| owner.is_none_or(|owner| row.owner_id == Some(owner)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, AccountView::from)))
}

async fn get_account(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<AccountView>, AppError> {
    let row = read(&state, move |tx| app::records::account(tx, viewer.org, AccountId(id))?.ok_or_else(|| not_found(AccountId::LABEL, id)))
        .await?;
    Ok(Json(row.into()))
}

async fn create_account(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_account(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_account(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/accounts/{}", row.id), AccountView::from(row)))
}

async fn update_account(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<AccountView>, AppError> {
    let patch = input::account_patch(AccountId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_account(tx, ctx, AccountId(id), &patch)).await?;
    Ok(Json(row.into()))
}

// Contacts.

fn contact_sorts() -> Vec<SortField<Contact>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn contact_query() -> Vec<Param> {
    list_query(vec![Param::id("account_id", "Only contacts at this account.")], &contact_sorts())
}

async fn list_contacts(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ContactView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &contact_query())?;
    let sorts = contact_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let account = query.id("account_id")?.map(AccountId);
    let mut rows = read(&state, move |tx| Ok(app::records::contacts(tx, viewer.org)?)).await?;
    rows.retain(|row| account.is_none_or(|account| row.account_id == Some(account)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, ContactView::from)))
}

async fn get_contact(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<ContactView>, AppError> {
    let row = read(&state, move |tx| app::records::contact(tx, viewer.org, ContactId(id))?.ok_or_else(|| not_found(ContactId::LABEL, id)))
        .await?;
    Ok(Json(row.into()))
}

async fn create_contact(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_contact(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_contact(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/contacts/{}", row.id), ContactView::from(row)))
}

async fn update_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<ContactView>, AppError> {
    let patch = input::contact_patch(ContactId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_contact(tx, ctx, ContactId(id), &patch)).await?;
    Ok(Json(row.into()))
}

// Users.

fn user_sorts() -> Vec<SortField<User>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "email", key: |row| text_key(&row.email) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn user_query() -> Vec<Param> {
    list_query(
        vec![
            Param::new("role", Ty::Enum(names(&Role::ALL, Role::as_str)), "Only users with this role."),
            Param::id("team_id", "Only members of this team."),
            Param::id("manager_id", "Only direct reports of this user."),
            Param::new("active", Ty::Boolean, "Only active (`true`) or deactivated (`false`) users."),
        ],
        &user_sorts(),
    )
}

async fn list_users(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<UserView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &user_query())?;
    let sorts = user_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let role = query.parsed("role", Role::parse)?;
    let team = query.id("team_id")?.map(TeamId);
    let manager = query.id("manager_id")?.map(UserId);
    let active = query.boolean("active")?;
    let mut rows = read(&state, move |tx| Ok(app::users::users(tx, viewer.org)?)).await?;
    rows.retain(|row| {
        role.is_none_or(|role| row.role == role)
            && team.is_none_or(|team| row.team_id == Some(team))
            && manager.is_none_or(|manager| row.manager_id == Some(manager))
            && active.is_none_or(|active| row.active == active)
    });
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, UserView::from)))
}

async fn get_user(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<UserView>, AppError> {
    let row = read(&state, move |tx| app::users::user(tx, viewer.org, UserId(id))?.ok_or_else(|| not_found(UserId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_user(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_user(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::create_user(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/users/{}", row.id), UserView::from(row)))
}

async fn update_user(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<UserView>, AppError> {
    let patch = input::user_patch(UserId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::update_user(tx, ctx, UserId(id), &patch)).await?;
    Ok(Json(row.into()))
}

// Teams.

fn team_sorts() -> Vec<SortField<Team>> {
    vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
}

fn team_query() -> Vec<Param> {
    list_query(vec![Param::id("manager_id", "Only teams led by this user.")], &team_sorts())
}

async fn list_teams(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<TeamView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &team_query())?;
    let sorts = team_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let manager = query.id("manager_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::users::teams(tx, viewer.org)?)).await?;
    rows.retain(|row| manager.is_none_or(|manager| row.manager_id == Some(manager)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, TeamView::from)))
}

async fn get_team(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<TeamView>, AppError> {
    let row = read(&state, move |tx| app::users::team(tx, viewer.org, TeamId(id))?.ok_or_else(|| not_found(TeamId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_team(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_team(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::create_team(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/teams/{}", row.id), TeamView::from(row)))
}

async fn update_team(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<TeamView>, AppError> {
    let patch = input::team_patch(TeamId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::update_team(tx, ctx, TeamId(id), &patch)).await?;
    Ok(Json(row.into()))
}

// Pipelines.

fn pipeline_sorts() -> Vec<SortField<pipewise_core::pipeline::Pipeline>> {
    vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
}

fn pipeline_query() -> Vec<Param> {
    list_query(Vec::new(), &pipeline_sorts())
}

async fn list_pipelines(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<PipelineView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &pipeline_query())?;
    let sorts = pipeline_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let rows = read(&state, move |tx| Ok(app::records::pipelines(tx, viewer.org)?)).await?;
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, PipelineView::from)))
}

async fn get_pipeline(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<PipelineView>, AppError> {
    let row =
        read(&state, move |tx| app::records::pipeline(tx, viewer.org, PipelineId(id))?.ok_or_else(|| not_found(PipelineId::LABEL, id)))
            .await?;
    Ok(Json(row.into()))
}

async fn create_pipeline(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_pipeline(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_pipeline(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/pipelines/{}", row.id), PipelineView::from(row)))
}

// Leads.

fn lead_sorts() -> Vec<SortField<Lead>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "status", key: |row| text_key(row.status.as_str()) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn lead_query() -> Vec<Param> {
    list_query(
        vec![
            Param::new("status", Ty::Enum(names(LeadStatus::ALL, LeadStatus::as_str)), "Only leads with this status."),
            Param::id("owner_id", "Only leads owned by this user."),
        ],
        &lead_sorts(),
    )
}

async fn list_leads(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<LeadView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &lead_query())?;
    let sorts = lead_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let status = query.parsed("status", LeadStatus::parse)?;
    let owner = query.id("owner_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::records::leads(tx, viewer.org)?)).await?;
    rows.retain(|row| status.is_none_or(|status| row.status == status) && owner.is_none_or(|owner| row.owner_id == Some(owner)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, LeadView::from)))
}

async fn get_lead(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<LeadView>, AppError> {
    let row = read(&state, move |tx| app::records::lead(tx, viewer.org, LeadId(id))?.ok_or_else(|| not_found(LeadId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_lead(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_lead(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_lead(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/leads/{}", row.id), LeadView::from(row)))
}

async fn update_lead(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<LeadView>, AppError> {
    let patch = input::lead_patch(LeadId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_lead(tx, ctx, LeadId(id), &patch)).await?;
    Ok(Json(row.into()))
}

// Activities.

fn activity_sorts() -> Vec<SortField<Activity>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "occurred_at", key: |row| Key::Int(row.occurred_at.as_micros()) },
        SortField { name: "logged_at", key: |row| Key::Int(row.logged_at.as_micros()) },
    ]
}

fn activity_query() -> Vec<Param> {
    list_query(
        vec![
            Param::id("opportunity_id", "Only activities of this deal."),
            Param::id("account_id", "Only activities of this account."),
            Param::id("user_id", "Only activities of this user."),
            Param::new("kind", Ty::Enum(names(ActivityKind::ALL, ActivityKind::as_str)), "Only activities of this kind."),
        ],
        &activity_sorts(),
    )
}

async fn list_activities(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ActivityView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &activity_query())?;
    let sorts = activity_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let filter = ActivityFilter {
        opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
        account_id: query.id("account_id")?.map(AccountId),
        user_id: query.id("user_id")?.map(UserId),
        scope: None,
    };
    let kind = query.parsed("kind", ActivityKind::parse)?;
    let mut rows = read(&state, move |tx| Ok(app::activities::activities_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    rows.retain(|row| kind.is_none_or(|kind| row.kind == kind));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, ActivityView::from)))
}

async fn get_activity(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<ActivityView>, AppError> {
    let row = read(&state, move |tx| {
        app::activities::activity_for(tx, viewer.org, &viewer.access, ActivityId(id))?.ok_or_else(|| not_found(ActivityId::LABEL, id))
    })
    .await?;
    Ok(Json(row.into()))
}

async fn create_activity(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_activity(&body, viewer.user.id)?;
    let org = viewer.org;
    let row = write(&state, &viewer, move |tx, ctx| {
        let id = app::activities::create_activity(tx, ctx, new)?;
        app::activities::activity(tx, org, id)?.ok_or(pipewise_app::StoreError::NotFound { kind: ActivityId::LABEL, id: id.0 })
    })
    .await?;
    Ok(created(format!("/api/v1/activities/{}", row.id), ActivityView::from(row)))
}

// Tasks.

fn task_sorts() -> Vec<SortField<Task>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "due_on", key: |row| optional_text_key(row.due_on.map(|date| date.to_string()).as_deref()) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        SortField { name: "title", key: |row| text_key(&row.title) },
    ]
}

fn task_query() -> Vec<Param> {
    list_query(
        vec![
            Param::id("owner_id", "Only tasks owned by this user."),
            Param::id("opportunity_id", "Only tasks of this deal."),
            Param::new("open", Ty::Boolean, "`true`: only tasks not completed; `false`: only completed ones."),
        ],
        &task_sorts(),
    )
}

async fn list_tasks(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<TaskView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &task_query())?;
    let sorts = task_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let open = query.boolean("open")?;
    let filter = TaskFilter {
        owner_id: query.id("owner_id")?.map(UserId),
        opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
        open_only: open == Some(true),
        scope: None,
    };
    let mut rows = read(&state, move |tx| Ok(app::activities::tasks_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    if open == Some(false) {
        rows.retain(|row| row.completed_at.is_some());
    }
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, TaskView::from)))
}

async fn get_task(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<TaskView>, AppError> {
    let row = read(&state, move |tx| {
        app::activities::task_for(tx, viewer.org, &viewer.access, TaskId(id))?.ok_or_else(|| not_found(TaskId::LABEL, id))
    })
    .await?;
    Ok(Json(row.into()))
}

async fn create_task(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_task(&body, viewer.user.id)?;
    let row = write(&state, &viewer, move |tx, ctx| app::activities::create_task(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/tasks/{}", row.id), TaskView::from(row)))
}

async fn update_task(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<TaskView>, AppError> {
    let patch = input::task_patch(TaskId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::activities::update_task(tx, ctx, TaskId(id), &patch)).await?;
    Ok(Json(row.into()))
}
