//! The application layer: every operation the edges (web, API, CLI, demo, and later import and
//! mail capture) perform, validated, authorised and audited once for both storage engines.
//!
//! Each write:
//! 1. works out what the actor may do ([`access_for`]: `ctx.actor_id = None` is the system);
//! 2. checks its input, reporting every problem with record and field, and that referenced
//!    records exist in the same organisation;
//! 3. writes, appending the opportunity history and an audit entry (before → after, as JSON)
//!    in the same transaction.
//!
//! Reads that edges serve to users go through the `*_for` functions, which apply row
//! visibility: a deal the reader may not see is reported exactly like one that does not exist.
//!
//! One module per area. Edges hold a [`Db`] and the [`Tx`] it opens; neither lets them reach the
//! storage contract's rows, so an edge can only write through these operations.

pub mod access;
pub mod activities;
pub mod audit;
pub mod auth;
/// Row-moving bulk loads for trusted loaders only (the demo generator, the binary): behind a
/// feature the web edge does not enable, so CI's build of the web crate alone proves no request
/// reaches them.
#[cfg(feature = "bulk")]
pub mod bulk;
pub mod cadence;
pub mod capture;
pub mod deals;
pub mod designer;
pub mod digests;
pub mod exports;
pub mod forecast;
pub mod forms;
pub mod gates;
pub mod handoffs;
pub mod imports;
pub mod input;
pub mod insights;
pub mod leads;
pub mod mailboxes;
pub mod pay;
pub mod performance;
pub mod plan_codec;
pub mod qualification;
pub mod quotas;
pub mod records;
pub mod routing;
pub mod secrets;
pub mod settings;
pub mod users;
pub mod visibility;
pub mod webhooks;
pub mod workspace;
pub mod workspace_codec;

mod db;

pub use db::{Db, Tx};
pub use pipewise_store::{
    AccountFacets, AccountFilter, ActivityAggregate, ActivityFilter, ApiToken, AuditEntry, AuditEvent, AuditFilter, CheckEntry,
    ContactFilter, DealCompany, DealTouch, DisputeStatus, ForecastScope, Handoff, HistoryAppend, NameOrder, NamePage, OpportunityFilter,
    OpportunityMarks, OpportunityShare, Organisation, PlanAssignment, QuotaSubject, RecordKind, Result, Session, StatementStatus,
    StoreError, StoredBilling, StoredCall, StoredDispute, StoredHealthSettings, StoredModelForecast, StoredOverride, StoredPlan,
    StoredQuota, StoredSplit, StoredStatement, TaskFilter, WorkspaceChange, WriteCtx, codec,
};

// Every module sees every other's items by name (`crate::writable_deal`); the public paths are
// the modules' (`pipewise_app::deals::update_opportunity`).
pub(crate) use access::*;
pub(crate) use audit::*;
pub(crate) use deals::*;
pub(crate) use gates::*;
pub(crate) use records::*;
