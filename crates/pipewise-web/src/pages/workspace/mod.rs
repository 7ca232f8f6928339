//! The deal workspace (SPEC C3) on the deal page: one form per part (BANT, four-box story,
//! stakeholder map, competitive assessment, mutual close plan, approval checklist), each read
//! back from what was typed with every bad field named beside its input, and the flags and
//! quadrants of each part.
//!
//! Forms keep what was typed as text (`forms::PartForms`); [`parse`] turns one part's text into
//! the domain value or a map from input name to message. Lists (stakeholders, competitors and
//! their criteria, close-plan items, the approval body's meeting calendar) are numbered rows
//! (`s0_rank`, `c1_k2_ours`, `p3_title`, `m0_date`) with a few
//! blank rows to add to; a row left blank is ignored and a row marked "remove" is dropped.
//!
//! - `forms`: the forms as typed or as stored;
//! - `parse`: reading a part back from its form;
//! - `view`: the whole workspace section, with flags and the choices of the selects;
//! - `charts`: the stakeholder map and the competitive quadrants.

mod charts;
mod forms;
mod parse;
mod view;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use pipewise_core::ContactId;

use super::Params;

pub use parse::{domain_errors, parse};
pub use view::{WorkspaceInput, WorkspaceView, workspace_view};

/// Blank rows offered under each list for adding.
const BLANK_ROWS: usize = 2;
/// The most rows of one list a form may send.
const MAX_ROWS: usize = 100;

/// The six parts, in the seed's order; each is one form posted to
/// `/opportunities/{id}/workspace/{part}`.
pub const PARTS: [&str; 6] = ["bant", "four_box", "stakeholders", "competitors", "close_plan", "approval"];

/// Problems of one form, by input name, in the reader's language.
pub type FieldErrors = HashMap<String, String>;

/// What a stakeholder row may name: the contacts of the deal's account and anyone already on
/// the map, by id with their names.
pub type ContactNames = BTreeMap<ContactId, String>;

/// How many numbered rows `prefix{n}{suffix}` the form sent (one past the highest index).
fn row_count(params: &Params, prefix: &str, suffix: &str) -> usize {
    params
        .0
        .iter()
        .filter_map(|(key, _)| key.strip_prefix(prefix)?.strip_suffix(suffix)?.parse::<usize>().ok())
        .filter(|index| *index < MAX_ROWS)
        .map(|index| index + 1)
        .max()
        .unwrap_or(0)
}
