//! Exports (SPEC C11): the whole organisation as CSV files, one per kind of record, for admins.
//!
//! Each file is read from one snapshot (a read transaction) in pages, so memory stays bounded
//! however large the organisation, and written as it is read. The opportunities file uses the
//! headers `pipewise import` recognises, times in the organisation's local time as imports read
//! them, so an export imports again (into another organisation, or the same one: its `id`
//! column makes a re-import update instead of duplicating). History and activities carry exact
//! instants (RFC 3339, UTC). Every export is audited (who, which file, how many rows).

use std::collections::HashMap;
use std::io::Write;

use pipewise_core::*;
use serde_json::json;

use crate::*;

/// Rows read per page.
const PAGE: u32 = 10_000;

/// A file of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Users,
    Accounts,
    Contacts,
    Opportunities,
    History,
    Activities,
}

impl ExportKind {
    pub const ALL: [ExportKind; 6] = [
        ExportKind::Users,
        ExportKind::Accounts,
        ExportKind::Contacts,
        ExportKind::Opportunities,
        ExportKind::History,
        ExportKind::Activities,
    ];

    /// The file's stem: `opportunities` → `opportunities.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Users => "users",
            ExportKind::Accounts => "accounts",
            ExportKind::Contacts => "contacts",
            ExportKind::Opportunities => "opportunities",
            ExportKind::History => "history",
            ExportKind::Activities => "activities",
        }
    }

    pub fn parse(raw: &str) -> Option<ExportKind> {
        ExportKind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

fn io_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("writing the export failed: {error}").into())
}

/// Writes the organisation's `kind` as CSV to `out` for `ctx`'s actor (an admin, or the system);
/// returns the rows written (the header line not counted).
pub fn export(db: &Db, ctx: &WriteCtx, kind: ExportKind, out: &mut dyn Write) -> Result<u64> {
    let mut tx = db.read()?;
    let access = access_for(&mut tx, ctx.org, ctx.actor_id)?;
    require(access.can_read_audit(), || "only an admin exports the whole organisation".into())?;
    let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: ctx.org.0 })?;
    let users = tx.0.users(ctx.org)?;
    let emails: HashMap<UserId, &str> = users.iter().map(|user| (user.id, user.email.as_str())).collect();
    let email = |id: Option<UserId>| id.and_then(|id| emails.get(&id).copied()).unwrap_or_default().to_owned();
    let mut csv = csv::WriterBuilder::new().from_writer(out);
    let mut rows = 0u64;
    let mut write = |csv: &mut csv::Writer<&mut dyn Write>, record: &[String]| -> Result<()> {
        csv.write_record(record).map_err(io_error)?;
        rows += 1;
        Ok(())
    };
    let header = |csv: &mut csv::Writer<&mut dyn Write>, names: &[&str]| csv.write_record(names).map_err(io_error);
    let zone = organisation.time_zone.clone();
    let local = |at: Timestamp| zone.local_time(at);
    let instant = |at: Timestamp| at.to_jiff().to_string();
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    match kind {
        ExportKind::Users => {
            let teams: HashMap<TeamId, String> = tx.0.teams(ctx.org)?.into_iter().map(|team| (team.id, team.name)).collect();
            header(&mut csv, &["id", "email", "name", "role", "manager", "team", "time_zone", "locale", "active"])?;
            for user in &users {
                write(
                    &mut csv,
                    &[
                        user.id.to_string(),
                        user.email.clone(),
                        user.name.clone(),
                        user.role.as_str().to_owned(),
                        email(user.manager_id),
                        user.team_id.and_then(|team| teams.get(&team).cloned()).unwrap_or_default(),
                        user.time_zone.clone(),
                        user.locale.as_str().to_owned(),
                        user.active.to_string(),
                    ],
                )?;
            }
        }
        ExportKind::Accounts => {
            header(&mut csv, &["id", "name", "website", "industry", "employees", "region", "owner", "created"])?;
            for account in tx.0.accounts(ctx.org)? {
                write(
                    &mut csv,
                    &[
                        account.id.to_string(),
                        account.name.clone(),
                        account.domains.join(" "),
                        text(&account.industry),
                        account.employee_count.map(|count| count.to_string()).unwrap_or_default(),
                        text(&account.region),
                        email(account.owner_id),
                        local(account.created_at),
                    ],
                )?;
            }
        }
        ExportKind::Contacts => {
            let accounts: HashMap<AccountId, String> =
                tx.0.accounts(ctx.org)?.into_iter().map(|account| (account.id, account.name)).collect();
            header(&mut csv, &["id", "name", "emails", "phone", "title", "account", "created"])?;
            for contact in tx.0.contacts(ctx.org)? {
                write(
                    &mut csv,
                    &[
                        contact.id.to_string(),
                        contact.name.clone(),
                        contact.emails.join(" "),
                        text(&contact.phone),
                        text(&contact.title),
                        contact.account_id.and_then(|id| accounts.get(&id).cloned()).unwrap_or_default(),
                        local(contact.created_at),
                    ],
                )?;
            }
        }
        ExportKind::Opportunities => {
            let accounts: HashMap<AccountId, String> =
                tx.0.accounts(ctx.org)?.into_iter().map(|account| (account.id, account.name)).collect();
            let pipelines = tx.0.pipelines(ctx.org)?;
            let pipeline_names: HashMap<PipelineId, &str> =
                pipelines.iter().map(|pipeline| (pipeline.id, pipeline.name.as_str())).collect();
            let stage_names: HashMap<StageId, &str> =
                pipelines.iter().flat_map(|pipeline| pipeline.stages.iter().map(|stage| (stage.id, stage.name_en.as_str()))).collect();
            header(
                &mut csv,
                &[
                    "id",
                    "name",
                    "owner",
                    "account",
                    "pipeline",
                    "stage",
                    "status",
                    "amount",
                    "currency",
                    "close_date",
                    "next_step",
                    "created",
                    "closed",
                    "close_reason",
                ],
            )?;
            let mut after = None;
            loop {
                let filter = OpportunityFilter { after_id: after, limit: Some(PAGE), ..OpportunityFilter::default() };
                let page = tx.0.opportunities(ctx.org, &filter)?;
                for deal in &page {
                    write(
                        &mut csv,
                        &[
                            deal.id.to_string(),
                            deal.name.clone(),
                            email(Some(deal.owner_id)),
                            deal.account_id.and_then(|id| accounts.get(&id).cloned()).unwrap_or_default(),
                            pipeline_names.get(&deal.pipeline_id).copied().unwrap_or_default().to_owned(),
                            stage_names.get(&deal.stage_id).copied().unwrap_or_default().to_owned(),
                            deal.status.as_str().to_owned(),
                            deal.amount.map(|money| money.amount().to_string()).unwrap_or_default(),
                            deal.amount.map(|money| money.currency().code().to_owned()).unwrap_or_default(),
                            deal.close_date.map(|date| date.to_string()).unwrap_or_default(),
                            text(&deal.next_step),
                            local(deal.created_at),
                            deal.closed_at.map(local).unwrap_or_default(),
                            text(&deal.close_reason),
                        ],
                    )?;
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = Some(last.id),
                    _ => break,
                }
            }
        }
        ExportKind::History => {
            header(&mut csv, &["seq", "opportunity_id", "field", "old_value", "new_value", "at", "actor", "source"])?;
            let mut after = 0;
            loop {
                let page = tx.0.history_since(ctx.org, after, PAGE)?;
                for event in &page {
                    write(
                        &mut csv,
                        &[
                            event.seq.to_string(),
                            event.opportunity_id.to_string(),
                            event.field.as_str().to_owned(),
                            text(&event.old),
                            text(&event.new),
                            instant(event.at),
                            email(event.actor_id),
                            event.source.as_str().to_owned(),
                        ],
                    )?;
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = last.seq,
                    _ => break,
                }
            }
        }
        ExportKind::Activities => {
            header(
                &mut csv,
                &[
                    "id",
                    "kind",
                    "direction",
                    "occurred_at",
                    "logged_at",
                    "subject",
                    "body",
                    "user",
                    "account_id",
                    "opportunity_id",
                    "contact_ids",
                    "source",
                ],
            )?;
            let mut after = ActivityId(0);
            loop {
                let filter = ActivityFilter { after_id: Some(after), limit: Some(PAGE), ..ActivityFilter::default() };
                let page = tx.0.activities(ctx.org, &filter)?;
                for activity in &page {
                    write(
                        &mut csv,
                        &[
                            activity.id.to_string(),
                            activity.kind.as_str().to_owned(),
                            activity.direction.as_str().to_owned(),
                            instant(activity.occurred_at),
                            instant(activity.logged_at),
                            activity.subject.clone(),
                            text(&activity.body),
                            email(activity.user_id),
                            activity.account_id.map(|id| id.to_string()).unwrap_or_default(),
                            activity.opportunity_id.map(|id| id.to_string()).unwrap_or_default(),
                            activity.contact_ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                            activity.source.clone(),
                        ],
                    )?;
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = last.id,
                    _ => break,
                }
            }
        }
    }
    csv.flush().map_err(io_error)?;
    drop(csv);
    drop(tx);
    db.transact(|tx| {
        let details = json!({ "file": format!("{}.csv", kind.as_str()), "rows": rows });
        audit(tx, ctx, "organisation", ctx.org.0, "export", None, Some(details))
    })?;
    Ok(rows)
}
