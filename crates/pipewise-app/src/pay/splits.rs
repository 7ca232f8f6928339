//! Deal splits: who is credited with a deal, and how much.

use super::*;

/// Replaces deal `deal`'s splits (empty: its owner is credited with all of it): revenue shares
/// add up to 100%, overlay shares are on top, each share more than 0 and at most 100%, a person
/// once per kind. Ops, admins and the managers in the owner's line; audited.
pub fn set_splits(tx: &mut Tx, ctx: &WriteCtx, deal: OpportunityId, splits: &[(UserId, SplitKind, Decimal)]) -> Result<Vec<StoredSplit>> {
    let access = writer_access(tx, ctx)?;
    let opportunity = crate::deals::opportunity_for(tx, ctx.org, &access, deal)?
        .ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: deal.0 })?;
    let manager_of_owner = matches!(&access, Access::User(actor) if actor.role == Role::Manager && actor.tree.contains(&opportunity.owner_id) && actor.user_id != opportunity.owner_id);
    // A manager credits the people of their reporting line, never themselves.
    let may_credit = |user: UserId| match &access {
        Access::User(actor) if actor.role == Role::Manager => actor.tree.contains(&user) && user != actor.user_id,
        _ => true,
    };
    require(access.can_write(SharedKind::Pipeline) || manager_of_owner, || {
        "only ops, admins and the owner's managers split a deal".into()
    })?;
    let record = RecordRef::new(DEAL_SPLIT, deal.0);
    let mut errors = ValidationErrors::default();
    let mut seen = BTreeSet::new();
    for (item, (user, kind, share)) in splits.iter().enumerate() {
        let in_item = |problem: Problem| Problem::InItem { item: item + 1, problem: Box::new(problem) };
        if tx.0.user(ctx.org, *user)?.is_none() {
            errors.push(&record, "user_id", in_item(Problem::UnknownReference { kind: UserId::LABEL, id: user.0 }));
        }
        if !may_credit(*user) {
            errors.push(
                &record,
                "user_id",
                in_item(Problem::Invalid { value: user.to_string(), expected: "someone in your reporting line other than you" }),
            );
        }
        if *share <= Decimal::ZERO || *share > Decimal::ONE {
            errors.push(
                &record,
                "share",
                in_item(Problem::OutOfRange { value: share.to_string(), range: "more than 0, at most 1 (100%)" }),
            );
        }
        if !seen.insert((*user, *kind == SplitKind::Overlay)) {
            errors.push(
                &record,
                "user_id",
                in_item(Problem::Invalid { value: user.to_string(), expected: "a person listed once per kind" }),
            );
        }
    }
    let revenue: Decimal = splits.iter().filter(|(_, kind, _)| *kind == SplitKind::Revenue).map(|(_, _, share)| *share).sum();
    if !splits.is_empty() && revenue != Decimal::ONE {
        errors.push(&record, "share", Problem::Invalid { value: revenue.to_string(), expected: "revenue shares that add up to 1 (100%)" });
    }
    errors.into_result(())?;
    let stored: Vec<StoredSplit> = splits
        .iter()
        .map(|(user, kind, share)| StoredSplit { deal, user: *user, overlay: *kind == SplitKind::Overlay, share: share.normalize() })
        .collect();
    let before: Vec<Value> = tx.0.splits(ctx.org, Some(deal))?.iter().map(split_json).collect();
    tx.0.set_splits(ctx.org, deal, &stored)?;
    audit_update(
        tx,
        ctx,
        DEAL_SPLIT,
        deal.0,
        json!({ "splits": before }),
        json!({ "splits": stored.iter().map(split_json).collect::<Vec<_>>() }),
    )?;
    Ok(stored)
}

/// A deal's splits, if `access` may see the deal.
pub fn splits_of(tx: &mut Tx, org: OrgId, access: &Access, deal: OpportunityId) -> Result<Option<Vec<StoredSplit>>> {
    if crate::deals::opportunity_for(tx, org, access, deal)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.splits(org, Some(deal))?))
}

pub fn split_json(split: &StoredSplit) -> Value {
    json!({ "user_id": split.user.0, "kind": if split.overlay { "overlay" } else { "revenue" }, "share": split.share.to_string() })
}
