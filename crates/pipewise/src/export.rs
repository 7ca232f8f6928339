//! `pipewise export`: the whole organisation as CSV files in a folder (see
//! `pipewise_app::exports`), one per kind of record, each written as it is read. The
//! opportunities file imports again with `pipewise import opportunities`.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pipewise_app as app;
use pipewise_app::WriteCtx;
use pipewise_app::exports::ExportKind;
use pipewise_core::Timestamp;
use pipewise_core::history::Source;

pub fn run(db: &str, org: Option<i64>, actor: Option<&str>, dir: &Path, kinds: &[String]) -> Result<()> {
    let kinds: Vec<ExportKind> = if kinds.is_empty() {
        ExportKind::ALL.to_vec()
    } else {
        kinds
            .iter()
            .map(|kind| {
                ExportKind::parse(kind).with_context(|| {
                    let known: Vec<&str> = ExportKind::ALL.iter().map(|kind| kind.as_str()).collect();
                    format!("cannot export {kind:?}: choose among {}", known.join(", "))
                })
            })
            .collect::<Result<_>>()?
    };
    let store = crate::db::open(db)?;
    let org = crate::init::pick_organisation(&store, org)?;
    let actor_id = crate::init::actor_of(&store, org, actor)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ctx = WriteCtx { org, actor_id, source: Source::Cli, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    for kind in kinds {
        let path = dir.join(format!("{}.csv", kind.as_str()));
        let started = Instant::now();
        let file = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let rows = match app::exports::export(&store, &ctx, kind, &mut out) {
            Ok(rows) => rows,
            Err(app::StoreError::Forbidden(reason)) => bail!("not allowed: {reason}"),
            Err(error) => return Err(error.into()),
        };
        out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}: {rows} rows in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    }
    Ok(())
}
