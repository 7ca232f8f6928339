//! The one mapping from a refused write to the form that asked for it.
//!
//! [`refusal`] decides which errors a form shows again (bad input, a forbidden or conflicting
//! write, a stage move refused at a gate) and which are the error page's (a missing record, an
//! internal error…); the functions below put a refusal's problems in the reader's language,
//! as one line ([`error_message`], [`problems`], [`named_problems`]) or beside each input
//! ([`by_field`], [`add`]).

use std::collections::HashMap;
use std::hash::Hash;

use pipewise_core::ValidationErrors;
use pipewise_core::gates::MoveCheck;
use pipewise_core::user::Locale;

use crate::error::AppError;
use crate::i18n;

/// A write refused for a reason the reader can act on, shown on the form again.
pub enum Refusal {
    /// Problems with what was typed.
    Invalid(ValidationErrors),
    /// Not the reader's to do: the reason.
    Forbidden(String),
    /// At odds with what is stored (a duplicate, a stage still in use): the reason.
    Conflict(String),
    /// A stage move past unmet exit criteria.
    Gate(Box<MoveCheck>),
}

/// A write's error as its form sees it: a refusal to show on the form again, or the error itself
/// for the error page.
pub fn refusal(error: impl Into<AppError>) -> Result<Refusal, AppError> {
    match error.into() {
        AppError::Invalid(errors) => Ok(Refusal::Invalid(errors)),
        AppError::Forbidden(reason) => Ok(Refusal::Forbidden(reason)),
        AppError::Conflict(reason) => Ok(Refusal::Conflict(reason)),
        AppError::GateRefused(check) => Ok(Refusal::Gate(check)),
        other => Err(other),
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> AppError {
        match refusal {
            Refusal::Invalid(errors) => AppError::Invalid(errors),
            Refusal::Forbidden(reason) => AppError::Forbidden(reason),
            Refusal::Conflict(reason) => AppError::Conflict(reason),
            Refusal::Gate(check) => AppError::GateRefused(check),
        }
    }
}

/// The line a form shows for a refused write: bad input as its [`problems`], and a forbidden
/// write as `forbidden` where the form has words for it. Any other error is returned, for the
/// error page.
pub fn error_message(locale: Locale, error: impl Into<AppError>, forbidden: Option<&str>) -> Result<String, AppError> {
    match (refusal(error)?, forbidden) {
        (Refusal::Invalid(errors), _) => Ok(problems(locale, &errors)),
        (Refusal::Forbidden(_), Some(forbidden)) => Ok(forbidden.to_owned()),
        (other, _) => Err(other.into()),
    }
}

/// Every problem of `errors` in the reader's language, joined with "; ".
pub fn problems(locale: Locale, errors: &ValidationErrors) -> String {
    errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect::<Vec<_>>().join("; ")
}

/// Every problem of `errors` after the name `name` gives its field (`Close reason: …`), joined
/// with "; ".
pub fn named_problems(locale: Locale, errors: &ValidationErrors, name: impl Fn(&'static str) -> String) -> String {
    errors.0.iter().map(|error| format!("{}: {}", name(error.field), i18n::problem(locale, &error.problem))).collect::<Vec<_>>().join("; ")
}

/// Each problem of `errors` beside the input `input` names for its field; the problems of one
/// input are joined with "; " in order.
pub fn by_field<K: Eq + Hash>(locale: Locale, errors: &ValidationErrors, input: impl Fn(&'static str) -> K) -> HashMap<K, String> {
    let mut messages = HashMap::new();
    for error in &errors.0 {
        add(&mut messages, input(error.field), i18n::problem(locale, &error.problem));
    }
    messages
}

/// Adds `message` beside the input `key`, after any message there already ("; " between).
pub fn add<K: Eq + Hash>(messages: &mut HashMap<K, String>, key: K, message: String) {
    messages.entry(key).and_modify(|existing| *existing = format!("{existing}; {message}")).or_insert(message);
}
