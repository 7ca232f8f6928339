//! `pipewise apply`: edits as JSON Lines on stdin, each committed in its own transaction and
//! acknowledged on stdout only after the commit returned, so every acknowledged edit is durable.
//! A bad line is reported (naming the line, record and field) and the rest go on; the exit
//! status is non-zero if any line failed.

use pipewise_app as app;
use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use pipewise_app::{Db, StoreError, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::user::Locale;
use pipewise_core::{OpportunityId, Timestamp, ValidationErrors};
use pipewise_web::error::AppError;
use pipewise_web::i18n;
use serde_json::{Value, json};

pub fn run(db_url: &str, org: Option<i64>, actor: Option<&str>) -> Result<()> {
    let store = crate::db::open(db_url)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let actor_id = crate::init::actor_of(&store, org, actor)?;
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut failed = 0;
    for (index, line) in stdin.lock().lines().enumerate() {
        let line_number = index + 1;
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let ctx = WriteCtx { org, actor_id, source: Source::Cli, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
        let ack = match apply_line(&store, &ctx, &line) {
            Ok(id) => json!({ "line": line_number, "ok": true, "id": id.0 }),
            Err(error) => {
                failed += 1;
                json!({ "line": line_number, "ok": false, "error": format!("line {line_number}: {error}") })
            }
        };
        writeln!(stdout, "{ack}").and_then(|()| stdout.flush()).context("cannot write to stdout")?;
    }
    if failed > 0 {
        bail!("{failed} line(s) were not applied");
    }
    Ok(())
}

/// Applies one line in its own transaction; returns the id of the deal it wrote.
fn apply_line(store: &Db, ctx: &WriteCtx, line: &str) -> Result<OpportunityId, String> {
    let mut value: Value = serde_json::from_str(line).map_err(|error| format!("not JSON: {error}"))?;
    let object = value.as_object_mut().ok_or("not a JSON object")?;
    let op = object.remove("op").ok_or("missing \"op\"")?;
    let result = match op.as_str() {
        Some("create_opportunity") => {
            let new = pipewise_app::input::new_opportunity(&value).map_err(invalid)?;
            store.transact(|tx| app::deals::create_opportunity(tx, ctx, &new).map(|deal| deal.id))
        }
        Some("update_opportunity") => {
            let id =
                value.as_object_mut().and_then(|object| object.remove("id")).and_then(|id| id.as_i64()).ok_or("missing numeric \"id\"")?;
            let id = OpportunityId(id);
            let patch = pipewise_app::input::opportunity_patch(id, &value).map_err(invalid)?;
            store.transact(|tx| app::deals::update_opportunity(tx, ctx, id, &patch).map(|deal| deal.id))
        }
        _ => return Err(format!("unknown op {op}; expected \"create_opportunity\" or \"update_opportunity\"")),
    };
    result.map_err(|error| match error {
        StoreError::Invalid(errors) => invalid(errors),
        StoreError::Refused(reason) => format!("not allowed: {}", i18n::message(Locale::En, &reason)),
        other => other.to_string(),
    })
}

/// Every problem of a refused line in English, worded as the API words them.
fn invalid(errors: ValidationErrors) -> String {
    AppError::Invalid(errors).detail()
}
