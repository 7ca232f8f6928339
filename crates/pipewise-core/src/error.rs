//! Validation errors that name the record and the field, and say what is wrong in words a user
//! can act on: `opportunity 42: close_date: "2025-13-01" is not a date`.
//!
//! A check that can find several problems reports all of them ([`ValidationErrors`]).

use std::fmt;

use crate::message::Message;
use crate::text;

/// Which record an error is about: an existing one by id, or one being created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef {
    pub kind: &'static str,
    /// `None` for a record that is being created and has no id yet.
    pub id: Option<i64>,
}

impl RecordRef {
    pub fn new(kind: &'static str, id: i64) -> RecordRef {
        RecordRef { kind, id: Some(id) }
    }
    pub fn new_record(kind: &'static str) -> RecordRef {
        RecordRef { kind, id: None }
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "{} {id}", self.kind),
            None => write!(f, "new {}", self.kind),
        }
    }
}

/// What is wrong with one field's value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is required")]
    Required,
    #[error("{value:?} is not {expected}")]
    Invalid { value: String, expected: &'static str },
    #[error("is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains a control character")]
    ControlCharacter,
    #[error("{value:?} is not an ISO 4217 currency code (three capital letters, such as USD)")]
    UnknownCurrency { value: String },
    #[error("{amount} has {scale} decimal places but {currency} has {minor_units}")]
    TooPrecise { amount: String, currency: &'static str, scale: u32, minor_units: u8 },
    #[error("{value} is negative")]
    Negative { value: String },
    #[error("{value} is out of range ({range})")]
    OutOfRange { value: String, range: &'static str },
    #[error("{kind} {id} does not exist")]
    UnknownReference { kind: &'static str, id: i64 },
    /// A rule broken, as a [`Message`] for the edges to word (its `Display` is unworded).
    #[error("{0}")]
    Fact(Message),
    /// `problem` in item `item` (1-based) of a list.
    #[error("item {item}: {problem}")]
    InItem { item: usize, problem: Box<Problem> },
}

/// One field of one record, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub record: RecordRef,
    pub field: &'static str,
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.record, self.field, self.problem)
    }
}

impl std::error::Error for FieldError {}

/// Every problem found in one write. Never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, record: &RecordRef, field: &'static str, problem: Problem) {
        self.0.push(FieldError { record: record.clone(), field, problem });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(value)` when nothing was found, else every problem.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }
    /// Records the error of `result`, if any, and gives back its value.
    pub fn check<T>(&mut self, record: &RecordRef, field: &'static str, result: Result<T, Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(record, field, problem);
                None
            }
        }
    }
}

// Steps the checks of new records and patches share: each checks one field of `record` with the
// rules of [`text`], records the problem if there is one, and otherwise stores the normalised
// value in place. A value with a problem may be left as it was, since the whole check then fails.
impl ValidationErrors {
    /// Trims required text in place ([`text::required`]).
    pub(crate) fn required_text(&mut self, record: &RecordRef, field: &'static str, value: &mut String, max: usize) {
        if let Some(text) = self.check(record, field, text::required(value, max)) {
            *value = text;
        }
    }

    /// Trims optional single-line text in place ([`text::optional`]); blank text becomes `None`.
    pub(crate) fn optional_text(&mut self, record: &RecordRef, field: &'static str, value: &mut Option<String>, max: usize) {
        *value = self.check(record, field, text::optional(value.as_deref().unwrap_or(""), max, false)).flatten();
    }

    /// Trims a Korean name or label in place; left blank, it takes the English one, `english`.
    pub(crate) fn korean_text(&mut self, record: &RecordRef, field: &'static str, value: &mut String, english: &str, max: usize) {
        match self.check(record, field, text::optional(value, max, false)) {
            Some(Some(text)) => *value = text,
            Some(None) => *value = english.to_owned(),
            None => {}
        }
    }

    /// Parses every item of a list in place with `parse` (such as [`text::email`]), keeping each
    /// value once, in the order first given.
    pub(crate) fn distinct_values(
        &mut self,
        record: &RecordRef,
        field: &'static str,
        values: &mut Vec<String>,
        parse: fn(&str) -> Result<String, Problem>,
    ) {
        let mut distinct = Vec::new();
        for raw in values.iter() {
            if let Some(value) = self.check(record, field, parse(raw))
                && !distinct.contains(&value)
            {
                distinct.push(value);
            }
        }
        *values = distinct;
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        ValidationErrors(vec![error])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            error.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
