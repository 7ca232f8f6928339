//! Commands in mail: lines at the top of a message a rep BCCs or forwards to Pipewise that
//! update the deal it lands on, in English or Korean:
//!
//! ```text
//! next step: send the revised quote          다음 단계: 수정 견적 발송
//! close date: 2026-12-20                     마감일: 2026-12-20
//! stage: Negotiation                         단계: 협상
//! ```
//!
//! The block is the first lines of the body that look like `key: value` with a known key; it
//! ends at the first line that does not. A line with a known key and a bad value is an error,
//! and a message with any error applies none of its commands.

use pipewise_core::Date;
use pipewise_core::message::Message;
use pipewise_core::time::parse_date;

use crate::text::clean_line;

/// One update a message asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    NextStep(String),
    CloseDate(Date),
    /// A stage's name as the rep wrote it; the application finds it in the deal's pipeline.
    Stage(String),
}

/// A command line that cannot be applied: its line in the body (1-based), what it said, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    pub line: usize,
    pub text: String,
    pub problem: Message,
}

/// The commands at the top of `body`, or every error among them.
pub fn parse(body: &str) -> Result<Vec<Command>, Vec<CommandError>> {
    let mut commands = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in body.lines().enumerate().take(20) {
        let trimmed = line.trim();
        if trimmed.is_empty() && commands.is_empty() && errors.is_empty() {
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else { break };
        let key = key.trim().to_lowercase();
        let value = value.trim();
        let error = |problem: Message| CommandError { line: index + 1, text: clean_line(trimmed, 200), problem };
        match key.as_str() {
            "next step" | "next-step" | "다음 단계" | "다음단계" => match clean_line(value, 500) {
                step if step.is_empty() => errors.push(error(Message::new("capture.command_empty").text("key", &key))),
                step => commands.push(Command::NextStep(step)),
            },
            "close date" | "close-date" | "마감일" | "종료일" | "계약 예정일" => match parse_date(value) {
                Ok(date) => commands.push(Command::CloseDate(date)),
                Err(_) => errors.push(error(Message::new("capture.command_date").text("value", clean_line(value, 40)))),
            },
            "stage" | "단계" => match clean_line(value, 100) {
                stage if stage.is_empty() => errors.push(error(Message::new("capture.command_empty").text("key", &key))),
                stage => commands.push(Command::Stage(stage)),
            },
            _ => break,
        }
    }
    if errors.is_empty() { Ok(commands) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_block_is_read_in_english_and_korean() {
        let body = "Next step: send the revised quote\nclose date: 2026-12-20\n단계: 협상\n\nHi Minji, stage: not a command here";
        assert_eq!(
            parse(body).unwrap(),
            [
                Command::NextStep("send the revised quote".into()),
                Command::CloseDate("2026-12-20".parse().unwrap()),
                Command::Stage("협상".into())
            ]
        );
        assert_eq!(parse("Hi Minji,\nnext step: this is prose").unwrap(), []);
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn a_bad_value_is_an_error_naming_its_line() {
        let errors = parse("stage: Proposal\nclose date: next friday").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].problem.key.as_str()), (2, "capture.command_date"));
        assert_eq!(errors[0].text, "close date: next friday");
    }
}
