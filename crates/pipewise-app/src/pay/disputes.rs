//! Disputes of a statement: open → in review → resolved → closed, each step by whom it belongs to.

use super::*;

/// Opens a dispute of statement `statement_id` (or of its line `line`): the payee or ops.
pub fn open_dispute(tx: &mut Tx, ctx: &WriteCtx, statement_id: i64, line: Option<u32>, note: &str) -> Result<StoredDispute> {
    let access = writer_access(tx, ctx)?;
    let stored = tx.0.statement(ctx.org, statement_id)?.filter(|stored| may_read(&access, stored.user));
    let stored = stored.ok_or(StoreError::NotFound { kind: STATEMENT, id: statement_id })?;
    require(access.user_id() == Some(stored.user) || access.can_write(SharedKind::Pipeline), || {
        "only the payee or ops open a dispute".into()
    })?;
    let record = RecordRef::new_record(DISPUTE);
    let mut errors = ValidationErrors::default();
    let note = note.trim();
    if note.is_empty() {
        errors.push(&record, "note", Problem::Required);
    } else if note.chars().count() > MAX_NOTE {
        errors.push(&record, "note", Problem::TooLong { len: note.chars().count(), max: MAX_NOTE });
    }
    let lines = decode_statement(stored.clone())?.statement.lines;
    if let Some(line) = line
        && line as usize >= lines.len()
    {
        errors.push(&record, "line", Problem::OutOfRange { value: line.to_string(), range: "a line of the statement" });
    }
    // What the line says now, kept with the dispute.
    let line_label = line.and_then(|line| lines.get(line as usize)).map(|line| {
        let deal = line.deal.map(|deal| format!(" deal {deal}")).unwrap_or_default();
        format!("{} v{} {}{deal}: {}", line.rule, line.version, kind_code(line.kind), line.amount)
    });
    errors.into_result(())?;
    let actor = ctx.actor_id.ok_or_else(|| StoreError::Forbidden("a dispute is opened by a person".into()))?;
    let mut dispute = StoredDispute {
        id: 0,
        statement_id,
        line,
        line_label,
        status: DisputeStatus::Open,
        note: note.to_owned(),
        resolution: None,
        opened_by: actor,
        opened_at: ctx.at,
        updated_at: ctx.at,
        updated_by: Some(actor),
    };
    dispute.id = tx.0.insert_dispute(ctx.org, &dispute)?;
    audit(tx, ctx, DISPUTE, dispute.id, "create", None, Some(dispute_json(&dispute)))?;
    Ok(dispute)
}

/// Moves a dispute one step: open → in review and in review → resolved (ops and admins, a
/// resolution required to resolve), resolved → closed (the payee or ops).
pub fn move_dispute(tx: &mut Tx, ctx: &WriteCtx, id: i64, to: DisputeStatus, resolution: Option<&str>) -> Result<StoredDispute> {
    let access = writer_access(tx, ctx)?;
    let found = tx.0.dispute(ctx.org, id)?;
    let statement = match &found {
        Some(dispute) => tx.0.statement(ctx.org, dispute.statement_id)?.filter(|stored| may_read(&access, stored.user)),
        None => None,
    };
    let (Some(mut dispute), Some(statement)) = (found, statement) else { return Err(StoreError::NotFound { kind: DISPUTE, id }) };
    let ops = access.can_write(SharedKind::Pipeline);
    let payee = access.user_id() == Some(statement.user);
    let record = RecordRef::new(DISPUTE, id);
    let allowed = match (dispute.status, to) {
        (DisputeStatus::Open, DisputeStatus::InReview) | (DisputeStatus::InReview, DisputeStatus::Resolved) => ops,
        (DisputeStatus::Resolved, DisputeStatus::Closed) => ops || payee,
        _ => {
            let problem =
                Problem::Invalid { value: to.code().to_owned(), expected: "the next step: open → in_review → resolved → closed" };
            return Err(FieldError { record, field: "status", problem }.into());
        }
    };
    require(allowed, || "only ops and admins review and resolve disputes; the payee or ops close them".into())?;
    let before = dispute_json(&dispute);
    if to == DisputeStatus::Resolved {
        let text = resolution.map(str::trim).unwrap_or_default();
        if text.is_empty() || text.chars().count() > MAX_NOTE {
            let problem = if text.is_empty() { Problem::Required } else { Problem::TooLong { len: text.chars().count(), max: MAX_NOTE } };
            return Err(FieldError { record, field: "resolution", problem }.into());
        }
        dispute.resolution = Some(text.to_owned());
    }
    dispute.status = to;
    dispute.updated_at = ctx.at;
    dispute.updated_by = ctx.actor_id;
    tx.0.update_dispute(ctx.org, &dispute)?;
    audit_update(tx, ctx, DISPUTE, id, before, dispute_json(&dispute))?;
    Ok(dispute)
}

/// The disputes of a statement `access` may read.
pub fn disputes(tx: &mut Tx, org: OrgId, access: &Access, statement_id: i64) -> Result<Vec<StoredDispute>> {
    match tx.0.statement(org, statement_id)? {
        Some(stored) if may_read(access, stored.user) => tx.0.disputes(org, Some(statement_id)),
        _ => Ok(Vec::new()),
    }
}

pub fn dispute_json(dispute: &StoredDispute) -> Value {
    json!({
        "id": dispute.id,
        "statement_id": dispute.statement_id,
        "line": dispute.line,
        "line_label": dispute.line_label,
        "status": dispute.status.code(),
        "note": dispute.note,
        "resolution": dispute.resolution,
        "opened_by": dispute.opened_by.0,
        "opened_at": dispute.opened_at.to_string(),
        "updated_at": dispute.updated_at.to_string(),
        "updated_by": dispute.updated_by.map(|id| id.0),
    })
}
