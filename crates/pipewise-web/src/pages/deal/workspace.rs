//! The deal workspace on the deal page (now, or as of the chosen day) and saving one of its
//! parts. Every bad field is shown beside its input with every other input as typed; nothing is
//! saved.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_core::OrgId;
use pipewise_core::history::Source;
use pipewise_core::opportunity::Opportunity;
use pipewise_core::workspace::Workspace;

use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::error::AppError;
use crate::pages::form::{Refusal, refusal};
use crate::pages::workspace::{self as ws, ContactNames, FieldErrors, WorkspaceInput, WorkspaceView};
use crate::pages::{Params, SignedIn, answer, see_other};

/// The contacts the workspace may name: those of the deal's account, and everyone on its
/// stakeholder map already.
fn contact_names(tx: &mut Tx<'_>, org: OrgId, deal: &Opportunity, workspace: &Workspace) -> Result<ContactNames, AppError> {
    let mut contacts: ContactNames = match deal.account_id {
        Some(account) => {
            app::records::contacts_of_account(tx, org, account)?.into_iter().map(|contact| (contact.id, contact.name)).collect()
        }
        None => ContactNames::new(),
    };
    for person in &workspace.stakeholders {
        contacts.entry(person.contact_id).or_insert_with(|| person.name.clone());
    }
    Ok(contacts)
}

/// The workspace part: every part's form and flags, a refused part as typed, a saved part open.
pub(super) fn part(
    tx: &mut Tx<'_>,
    ctx: &DealCtx<'_>,
    rejected: Option<&(String, Params, FieldErrors)>,
    saved: Option<&str>,
) -> Result<WorkspaceView, AppError> {
    let (org, access, id) = (ctx.viewer.org, &ctx.viewer.access, ctx.id);
    let workspace = match ctx.as_of {
        Some(at) => app::workspace::workspace_as_of_for(tx, org, access, id, at)?,
        None => app::workspace::workspace_for(tx, org, access, id)?,
    }
    .unwrap_or_default();
    let flags = if ctx.as_of.is_none() {
        app::workspace::workspace_flags_for(tx, org, access, id, ctx.today)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let contacts = contact_names(tx, org, &ctx.deal, &workspace)?;
    let mut activity_by_contact = BTreeMap::new();
    if ctx.as_of.is_none() {
        for activity in app::activities::activities_of_opportunity(tx, org, id)? {
            for contact in activity.contact_ids {
                *activity_by_contact.entry(contact).or_insert(0u32) += 1;
            }
        }
    }
    let input = WorkspaceInput {
        workspace: &workspace,
        flags: &flags,
        contacts: &contacts,
        activity_by_contact: &activity_by_contact,
        can_edit: ctx.can_edit,
        rejected: rejected.map(|(part, params, errors)| (part.as_str(), params, errors.clone())),
        saved,
    };
    Ok(ws::workspace_view(input, ctx.locale))
}

/// Saves one part of the workspace.
pub async fn update_workspace(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, part)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let part = ws::PARTS
            .iter()
            .find(|known| **known == part)
            .ok_or_else(|| AppError::NotFound { kind: "workspace part", id: part.clone() })?;
        let (current, contacts) = {
            let mut tx = state.db.read()?;
            let deal = app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?
                .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?;
            let current = app::workspace::workspace_for(&mut tx, reader.org, &reader.access, id)?.unwrap_or_default();
            let contacts = contact_names(&mut tx, reader.org, &deal, &current)?;
            (current, contacts)
        };
        let rejected =
            |errors: FieldErrors| Extras { workspace_rejected: Some(((*part).to_owned(), params.clone(), errors)), ..Extras::default() };
        let value = match ws::parse(part, &params, &current, &contacts, locale) {
            Ok(value) => value,
            Err(errors) => return deal_page(&state, reader, id, None, rejected(errors)),
        };
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::workspace::update_workspace(tx, &ctx, id, value)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?workspace={part}#ws-panel-{part}"))),
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => deal_page(&state, reader, id, None, rejected(ws::domain_errors(&errors, locale))),
                other => Err(other.into()),
            },
        }
    })
    .await
}
