//! The vocabulary every other Pipewise crate speaks: ids, exact [`Money`](money::Money),
//! UTC [`Timestamp`](time::Timestamp)s, the records of SPEC C1, pipelines with their stages,
//! and the opportunity history that any past state is replayed from.
//!
//! Architecture invariant: this crate does no I/O, has no async runtime and no SQL.
//! It never reads a clock or a random number generator: time and seeds are arguments.

pub mod access;
pub mod error;
pub mod fiscal;
pub mod fx;
pub mod gates;
pub mod history;
pub mod id;
pub mod message;
pub mod money;
pub mod opportunity;
pub mod pipeline;
pub mod records;
pub mod templates;
pub mod text;
pub mod time;
pub mod user;
pub mod webhook;
pub mod workspace;

mod currency_table;
#[cfg(test)]
mod fuzz;

pub use error::{FieldError, Problem, RecordRef, ValidationErrors};
pub use id::*;
pub use message::{Arg, Message};
pub use money::{Currency, Money};
pub use time::{Date, Timestamp, Zone};
