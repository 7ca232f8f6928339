//! Sentences for people, as facts: a catalog key and the arguments it is worded with.
//!
//! Pure crates explain themselves with a [`Message`] (why a gate criterion holds, what a
//! workspace flag warns about) and never choose the words: the edges word a message in the
//! reader's language from their catalogs (`en.ftl`, `ko.ftl`), where the key names an entry and
//! each argument fills its `{ $name }`. A message can be stored (a recorded gate override keeps
//! the reasons it overrode) and worded again later, in any language.

use std::fmt;

/// A catalog key and its named arguments, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Dotted, lower case: `verdict.amount_below`.
    pub key: String,
    pub args: Vec<(String, Arg)>,
}

/// One argument of a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Shown as it is, in every language: a name, a date, an amount, a number, a code.
    Text(String),
    /// Another catalog entry, worded in the reader's language: a field's name, a status.
    Term(String),
    /// A sentence within the sentence.
    Message(Message),
    /// Several arguments, each worded, joined by the catalog entry `separator` (`list.or`).
    List { items: Vec<Arg>, separator: String },
}

impl Message {
    pub fn new(key: impl Into<String>) -> Message {
        Message { key: key.into(), args: Vec::new() }
    }

    /// Adds `name`, shown as `value` displays.
    pub fn text(self, name: &str, value: impl fmt::Display) -> Message {
        self.arg(name, Arg::Text(value.to_string()))
    }

    /// Adds `name`, worded from the catalog entry `key`.
    pub fn term(self, name: &str, key: impl Into<String>) -> Message {
        self.arg(name, Arg::Term(key.into()))
    }

    /// Adds `name`, the sentence `message`.
    pub fn message(self, name: &str, message: Message) -> Message {
        self.arg(name, Arg::Message(message))
    }

    /// Adds `name`, the sentences `messages` joined by the catalog entry `separator`.
    pub fn messages(self, name: &str, messages: Vec<Message>, separator: &str) -> Message {
        self.arg(name, Arg::List { items: messages.into_iter().map(Arg::Message).collect(), separator: separator.to_owned() })
    }

    pub fn arg(mut self, name: &str, arg: Arg) -> Message {
        self.args.push((name.to_owned(), arg));
        self
    }
}

/// The unworded form, for logs and debugging: `verdict.amount_below(amount=USD 5.00, …)`. People
/// read messages worded by an edge.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)?;
        if self.args.is_empty() {
            return Ok(());
        }
        f.write_str("(")?;
        for (index, (name, arg)) in self.args.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={arg}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Text(text) => f.write_str(text),
            Arg::Term(key) => write!(f, "[{key}]"),
            Arg::Message(message) => message.fmt(f),
            Arg::List { items, .. } => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str("; ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// The real catalogs, read the simplest way, so that golden tests can say what a person reads:
/// this crate's, and with the `test-support` feature other crates' (an error's text as the API
/// words it in English: `en_errors`). The edges have the full reader.
#[cfg(any(test, feature = "test-support"))]
pub mod catalog {
    use std::collections::HashMap;
    use std::sync::LazyLock;

    use super::{Arg, Message};
    use crate::error::{Problem, ValidationErrors};

    static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| parse(include_str!("../../pipewise-web/locales/en.ftl")));
    static KO: LazyLock<HashMap<String, String>> = LazyLock::new(|| parse(include_str!("../../pipewise-web/locales/ko.ftl")));

    fn parse(source: &str) -> HashMap<String, String> {
        source
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| line.split_once(" = "))
            .map(|(id, value)| (id.replace('-', "."), value.replace("{\" \"}", " ")))
            .collect()
    }

    fn word(catalog: &HashMap<String, String>, message: &Message) -> String {
        let mut text = catalog.get(&message.key).unwrap_or_else(|| panic!("no catalog entry {}", message.key)).clone();
        for (name, arg) in &message.args {
            text = text.replace(&format!("{{ ${name} }}"), &word_arg(catalog, arg));
        }
        text
    }

    fn word_arg(catalog: &HashMap<String, String>, arg: &Arg) -> String {
        match arg {
            Arg::Text(text) => text.clone(),
            Arg::Term(key) => catalog.get(key).unwrap_or_else(|| panic!("no catalog entry {key}")).clone(),
            Arg::Message(message) => word(catalog, message),
            Arg::List { items, separator } => {
                let items: Vec<String> = items.iter().map(|item| word_arg(catalog, item)).collect();
                items.join(&catalog[separator])
            }
        }
    }

    pub fn en(message: &Message) -> String {
        word(&EN, message)
    }

    pub fn ko(message: &Message) -> String {
        word(&KO, message)
    }

    /// A problem in English as the web words it: a fact from the catalog, a problem in an item
    /// around its own words, any other problem as it displays (which is its English wording).
    pub fn en_problem(problem: &Problem) -> String {
        match problem {
            Problem::Fact(message) => en(message),
            Problem::InItem { item, problem } => {
                en(&Message::new("problem.in_item").text("item", item).text("problem", en_problem(problem)))
            }
            other => other.to_string(),
        }
    }

    /// Every problem of `errors` in English, as the API's `detail` words them:
    /// `opportunity 42: close_date: "2025-13-01" is not a date; …`.
    pub fn en_errors(errors: &ValidationErrors) -> String {
        let lines: Vec<String> =
            errors.0.iter().map(|error| format!("{}: {}: {}", error.record, error.field, en_problem(&error.problem))).collect();
        lines.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_displays_unworded() {
        let inner = Message::new("verdict.bant_is").term("item", "term.bant.budget").text("note", "Q3");
        let message = Message::new("verdict.none_holds").messages(
            "reasons",
            vec![inner.clone(), Message::new("verdict.plan_empty")],
            "list.semicolon",
        );
        assert_eq!(
            message.to_string(),
            "verdict.none_holds(reasons=[verdict.bant_is(item=[term.bant.budget], note=Q3); verdict.plan_empty])"
        );
    }
}
