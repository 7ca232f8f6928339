//! Imports in the web app, for ops and admins (`/admin/import`), and the organisation's export
//! for admins (`/admin/export/{kind}.csv`, streamed): choose a CSV export, see how
//! its columns map to fields (and change them), map its stage names to the pipeline's, check it
//! (a dry run listing every bad line with its column and reason), then import it all or nothing.
//!
//! The page keeps the file in the browser: each step (`POST /admin/import/run?step=…`, the
//! file as the body, CSRF in the `X-CSRF-Token` header, at most [`MAX_FILE_BYTES`]) sends it
//! again with the choices so far, and the answer is a fragment the page shows. Nothing is kept
//! on the server between steps, so any instance behind a load balancer answers any step.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::exports::ExportKind;
use pipewise_app::imports::{DateOrder, Field, ImportOptions, ImportReport, Kind, Preview};
use pipewise_core::history::Source;
use pipewise_core::user::{Locale, Role};
use serde::Serialize;

use super::{Params, SignedIn, render, respond};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// The largest file the page takes (a million-row export is about 70 MiB).
pub const MAX_FILE_BYTES: usize = 128 << 20;
/// Bad lines the page lists; the rest are counted.
const LISTED_ERRORS: usize = 200;

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct ImportPage {
    kinds: Vec<Choice>,
    max_mib: usize,
    /// The export's files, for admins.
    exports: Vec<&'static str>,
}

#[derive(Serialize)]
struct ColumnView {
    header: String,
    field: &'static str,
    samples: Vec<String>,
}

#[derive(Serialize)]
struct StageView {
    value: String,
    chosen: String,
}

#[derive(Serialize)]
struct ErrorView {
    line: u64,
    column: String,
    field: String,
    problem: String,
}

#[derive(Serialize)]
struct ReportView {
    committed: bool,
    dry_run: bool,
    summary: String,
    by_field: Vec<String>,
    errors: Vec<ErrorView>,
    more: u64,
}

#[derive(Serialize)]
struct ResultView {
    kind: &'static str,
    vendor: String,
    rows: u64,
    columns: Vec<ColumnView>,
    fields: Vec<Choice>,
    stages: Vec<StageView>,
    stage_choices: Vec<Choice>,
    pipelines: Vec<Choice>,
    pipeline: String,
    historical: String,
    default_owner: String,
    default_loss_reason: String,
    problems: Vec<String>,
    report: Option<ReportView>,
}

fn ops_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "import.ops_only").to_owned()))
    }
}

/// A field's name in the reader's language.
fn field_label(locale: Locale, field: Field) -> &'static str {
    let key = match field {
        Field::ExternalId => "import.field.external_id",
        Field::Name => "import.field.name",
        Field::Owner => "import.field.owner",
        Field::Account => "import.field.account",
        Field::Pipeline => "import.field.pipeline",
        Field::Stage => "import.field.stage",
        Field::Status => "import.field.status",
        Field::Amount => "import.field.amount",
        Field::Currency => "import.field.currency",
        Field::CloseDate => "import.field.close_date",
        Field::Created => "import.field.created",
        Field::Closed => "import.field.closed",
        Field::LossReason => "import.field.loss_reason",
        Field::NextStep => "import.field.next_step",
        Field::Product => "import.field.product",
        Field::Industry => "import.field.industry",
        Field::Employees => "import.field.employees",
        Field::Website => "import.field.website",
        Field::Region => "import.field.region",
        Field::FirstName => "import.field.first_name",
        Field::LastName => "import.field.last_name",
        Field::Email => "import.field.email",
        Field::Phone => "import.field.phone",
        Field::Title => "import.field.title",
        Field::Source => "import.field.source",
        Field::ActivityType => "import.field.type",
        Field::Direction => "import.field.direction",
        Field::Deal => "import.field.deal",
        Field::Body => "import.field.body",
    };
    t(locale, key)
}

fn kind_label(locale: Locale, kind: Kind) -> &'static str {
    match kind {
        Kind::Accounts => t(locale, "import.kind.accounts"),
        Kind::Contacts => t(locale, "import.kind.contacts"),
        Kind::Leads => t(locale, "import.kind.leads"),
        Kind::Activities => t(locale, "import.kind.activities"),
        Kind::Opportunities => t(locale, "import.kind.opportunities"),
    }
}

pub async fn show(State(_state): State<AppState>, SignedIn(viewer): SignedIn) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        ops_only(&reader)?;
        let locale = reader.user.locale;
        let kinds = [Kind::Opportunities, Kind::Accounts, Kind::Contacts, Kind::Leads, Kind::Activities]
            .into_iter()
            .map(|kind| Choice { value: kind.as_str().to_owned(), label: kind_label(locale, kind).to_owned() })
            .collect();
        let exports = if reader.user.role == Role::Admin { ExportKind::ALL.iter().map(|kind| kind.as_str()).collect() } else { Vec::new() };
        let view = ImportPage { kinds, max_mib: MAX_FILE_BYTES >> 20, exports };
        render::page(&reader, StatusCode::OK, "import.html", "import", t(locale, "import.title").to_owned(), &view)
    })
    .await;
    respond(&viewer, result)
}

/// The options the page's form carries, read from the query string.
fn options_of(params: &Params) -> Result<ImportOptions, AppError> {
    let kind = Kind::parse(params.raw("kind"))
        .ok_or_else(|| AppError::BadRequest("kind must be accounts, contacts, leads, opportunities or activities".into()))?;
    let mut options = ImportOptions::new(kind);
    options.date_order = if params.get("day_first").is_some() { DateOrder::DayFirst } else { DateOrder::MonthFirst };
    if let Some(columns) = params.0.iter().find(|(key, _)| key == "columns").map(|(_, value)| value.as_str()) {
        options.columns = Some(columns.split(',').map(Field::parse).collect());
    }
    let froms = params.0.iter().filter(|(key, _)| key == "stage_from").map(|(_, value)| value);
    let tos = params.0.iter().filter(|(key, _)| key == "stage_to").map(|(_, value)| value);
    options.stages = froms.zip(tos).filter(|(_, to)| !to.trim().is_empty()).map(|(from, to)| (from.clone(), to.clone())).collect();
    options.pipeline = params.get("pipeline").map(str::to_owned);
    options.historical = params.get("historical").map(str::to_owned);
    options.default_owner = params.get("default_owner").map(str::to_owned);
    options.default_loss_reason = params.get("default_loss_reason").map(str::to_owned);
    options.dry_run = params.raw("step") != "import";
    Ok(options)
}

/// One step of an import: `preview`, `check` (a dry run) or `import`; answers a fragment.
pub async fn run(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        ops_only(&reader)?;
        let locale = reader.user.locale;
        let options = options_of(&params)?;
        let preview = app::imports::preview(body.as_ref(), &options).map_err(AppError::from)?;
        let step = params.raw("step");
        let report = match step {
            "check" | "import" => {
                let ctx = app::WriteCtx { org: reader.org, actor_id: Some(reader.user.id), source: Source::Web, at: state.now() };
                match app::imports::import(&state.db, &ctx, body.as_ref(), &options, &mut |_| {}) {
                    Ok(report) => Some(report),
                    Err(app::StoreError::Invalid(errors)) => {
                        let problems = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect();
                        return fragment(&state, &reader, &options, &preview, problems, None);
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            _ => None,
        };
        if report.as_ref().is_some_and(|report| report.committed) {
            state.forget_insights(reader.org);
        }
        let problems = preview.problems.iter().map(|problem| i18n::problem(locale, problem)).collect();
        fragment(&state, &reader, &options, &preview, problems, report.as_ref())
    })
    .await;
    respond(&viewer, result)
}

fn fragment(
    state: &AppState,
    viewer: &Viewer,
    options: &ImportOptions,
    preview: &Preview,
    problems: Vec<String>,
    report: Option<&ImportReport>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let pipelines = app::records::pipelines(&mut tx, viewer.org)?;
    drop(tx);
    let chosen_pipeline = options
        .pipeline
        .as_deref()
        .and_then(|name| pipelines.iter().find(|pipeline| pipeline.name.eq_ignore_ascii_case(name)))
        .or_else(|| pipelines.iter().min_by_key(|pipeline| pipeline.id));
    let stage_choices = chosen_pipeline
        .map(|pipeline| {
            pipeline
                .stages
                .iter()
                .filter(|stage| !stage.is_archived())
                .map(|stage| Choice { value: stage.name_en.clone(), label: i18n::stage_name(locale, stage).to_owned() })
                .collect()
        })
        .unwrap_or_default();
    let mut fields = vec![Choice { value: String::new(), label: t(locale, "import.ignored").to_owned() }];
    fields.extend(
        options.kind.fields().iter().map(|field| Choice { value: field.key().to_owned(), label: field_label(locale, *field).to_owned() }),
    );
    let columns = preview
        .headers
        .iter()
        .enumerate()
        .map(|(at, header)| ColumnView {
            header: header.clone(),
            field: preview.columns.get(at).copied().flatten().map_or("", Field::key),
            samples: preview.samples.iter().map(|row| row.get(at).cloned().unwrap_or_default()).collect(),
        })
        .collect();
    let stages = preview
        .stages
        .iter()
        .map(|value| StageView {
            value: value.clone(),
            chosen: options.stages.iter().find(|(from, _)| from == value).map(|(_, to)| to.clone()).unwrap_or_default(),
        })
        .collect();
    let vendor = match preview.vendor {
        Some(vendor) => tf(locale, "import.vendor", &[("vendor", vendor_name(vendor))]),
        None => t(locale, "import.vendor_none").to_owned(),
    };
    let view = ResultView {
        kind: options.kind.as_str(),
        vendor,
        rows: preview.rows,
        columns,
        fields,
        stages,
        stage_choices,
        pipelines: pipelines.iter().map(|pipeline| Choice { value: pipeline.name.clone(), label: pipeline.name.clone() }).collect(),
        pipeline: chosen_pipeline.map(|pipeline| pipeline.name.clone()).unwrap_or_default(),
        historical: options.historical.clone().unwrap_or_default(),
        default_owner: options.default_owner.clone().unwrap_or_default(),
        default_loss_reason: options.default_loss_reason.clone().unwrap_or_default(),
        problems,
        report: report.map(|report| report_view(locale, report)),
    };
    let chrome = render::Chrome::new(Some(viewer), locale, "import", String::new());
    let status = if report.is_some_and(|report| report.error_count > 0) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render::html(status, render::render("import_result.html", locale, &chrome, &view)?))
}

fn vendor_name(vendor: app::imports::Vendor) -> &'static str {
    match vendor {
        app::imports::Vendor::Salesforce => "Salesforce",
        app::imports::Vendor::HubSpot => "HubSpot",
        app::imports::Vendor::Pipedrive => "Pipedrive",
    }
}

fn report_view(locale: Locale, report: &ImportReport) -> ReportView {
    let count = |value: u64| i18n::group(value as i64);
    let key = if report.committed {
        "import.summary.imported"
    } else if report.error_count == 0 {
        "import.summary.would_import"
    } else {
        "import.summary.refused"
    };
    let summary = tf(
        locale,
        key,
        &[
            ("rows", &count(report.rows)),
            ("created", &count(report.created)),
            ("updated", &count(report.updated)),
            ("unchanged", &count(report.unchanged)),
            ("accounts", &count(report.accounts_created)),
            ("undated", &count(report.undated)),
            ("problems", &count(report.error_count)),
        ],
    );
    let by_field = report
        .problems_by_field
        .iter()
        .map(|(field, problems)| {
            let field = field.map_or_else(|| t(locale, "import.whole_line"), |field| field_label(locale, field));
            tf(locale, "import.problems_in", &[("count", &count(*problems)), ("field", field)])
        })
        .collect();
    let errors = report
        .errors
        .iter()
        .take(LISTED_ERRORS)
        .map(|error| ErrorView {
            line: error.line,
            column: error.column.clone().unwrap_or_default(),
            field: error.field.map_or("", |field| field_label(locale, field)).to_owned(),
            problem: i18n::problem(locale, &error.problem),
        })
        .collect::<Vec<_>>();
    let more = report.error_count.saturating_sub(errors.len() as u64);
    ReportView { committed: report.committed, dry_run: !report.committed && report.error_count == 0, summary, by_field, errors, more }
}

/// One file of the organisation's export (`/admin/export/{kind}.csv`), for admins: streamed as
/// it is read, in constant memory, from one snapshot.
pub async fn export(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(kind) = file.strip_suffix(".csv").and_then(ExportKind::parse) else {
        return respond(&viewer, Err(AppError::NotFound { kind: "export", id: file }));
    };
    if viewer.user.role != Role::Admin {
        return respond(&viewer, Err(AppError::Forbidden(t(viewer.user.locale, "export.admin_only").to_owned())));
    }
    let ctx = app::WriteCtx { org: viewer.org, actor_id: Some(viewer.user.id), source: Source::Web, at: state.now() };
    let today = state.now().to_jiff().to_zoned(jiff::tz::TimeZone::UTC).date();
    super::download::csv(format!("{}-{today}.csv", kind.as_str()), format!("export of {}", kind.as_str()), move |out| {
        app::exports::export(&state.db, &ctx, kind, out).map(|_| ()).map_err(std::io::Error::other)
    })
}
