//! When a won deal was invoiced and its cash received: the dates a plan paid on invoice or on cash
//! counts a credit by (until its date is known the credit is held), as ops record them from the
//! finance system.

use super::*;

/// Sets deal `deal`'s invoice and cash dates (`YYYY-MM-DD`; `None` clears one, both cleared
/// removes them). Ops and admins; audited. A bad date is named and nothing is written.
pub fn set_billing(
    tx: &mut Tx,
    ctx: &WriteCtx,
    deal: OpportunityId,
    invoiced_on: Option<&str>,
    paid_on: Option<&str>,
) -> Result<StoredBilling> {
    let access = pay_writer(tx, ctx, "record invoice and cash dates")?;
    if crate::deals::opportunity_for(tx, ctx.org, &access, deal)?.is_none() {
        return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: deal.0 });
    }
    let record = RecordRef::new(DEAL_BILLING, deal.0);
    let mut errors = ValidationErrors::default();
    let mut day = |field: &'static str, raw: Option<&str>| match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Some(None),
        Some(raw) => errors.check(&record, field, parse_date(raw)).map(Some),
    };
    let (invoiced_on, paid_on) = (day("invoiced_on", invoiced_on), day("paid_on", paid_on));
    let (Some(invoiced_on), Some(paid_on)) = (invoiced_on, paid_on) else { return Err(errors.into()) };
    let billing = StoredBilling { deal, invoiced_on, paid_on };
    let before = tx.0.set_billing(ctx.org, &billing)?;
    let unset = StoredBilling { deal, invoiced_on: None, paid_on: None };
    audit_update(tx, ctx, DEAL_BILLING, deal.0, billing_json(before.as_ref().unwrap_or(&unset)), billing_json(&billing))?;
    Ok(billing)
}

/// A deal's billing dates (none set: both `None`), if `access` may see the deal.
pub fn billing_of(tx: &mut Tx, org: OrgId, access: &Access, deal: OpportunityId) -> Result<Option<StoredBilling>> {
    if crate::deals::opportunity_for(tx, org, access, deal)?.is_none() {
        return Ok(None);
    }
    let unset = StoredBilling { deal, invoiced_on: None, paid_on: None };
    Ok(Some(tx.0.billing(org, Some(deal))?.pop().unwrap_or(unset)))
}

pub fn billing_json(billing: &StoredBilling) -> Value {
    json!({
        "opportunity_id": billing.deal.0,
        "invoiced_on": billing.invoiced_on.map(|day| day.to_string()),
        "paid_on": billing.paid_on.map(|day| day.to_string()),
    })
}
