//! An iCalendar (`.ics`, RFC 5545) file read into meetings ([`Meeting`]), each event that cannot
//! be one refused with its reason ([`EventRefusal`]).
//!
//! Times: `…Z` is UTC; a `TZID` names an IANA zone (Outlook's and Mozilla's prefixed forms too);
//! an unknown `TZID` falls back to the calendar's `X-WR-TIMEZONE`, then to the organisation's
//! zone, as do floating times; an all-day event starts at the start of its day. A recurring
//! event is one meeting, its first occurrence; a moved occurrence (`RECURRENCE-ID`) is another.

use jiff::civil;
use jiff::tz::TimeZone;
use pipewise_core::Timestamp;
use pipewise_core::message::Message;

use crate::message::{MAX_BODY_CHARS, MAX_PARTIES, MAX_SUBJECT_CHARS, Party};
use crate::text::{clean_line, clean_text};

/// The largest calendar file read.
pub const MAX_CALENDAR_BYTES: usize = 16 << 20;

/// A meeting as capture reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meeting {
    pub uid: Option<String>,
    pub recurrence_id: Option<String>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub all_day: bool,
    pub recurring: bool,
    pub summary: Option<String>,
    pub description: String,
    pub location: Option<String>,
    pub organizer: Option<Party>,
    /// Each attendee once, the organizer left out.
    pub attendees: Vec<Party>,
}

/// Why an event does not become a meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventProblem {
    NoStart,
    BadTime {
        property: &'static str,
        value: String,
    },
    Cancelled,
    /// `BEGIN:VEVENT` without its `END:VEVENT`.
    Unterminated,
}

/// An event refused: its place in the file, its UID when it has one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRefusal {
    /// 1-based among the file's events.
    pub number: usize,
    /// The line of its `BEGIN:VEVENT`.
    pub line: usize,
    pub uid: Option<String>,
    pub problem: EventProblem,
}

impl EventProblem {
    /// The reason in the reader's words (catalog keys `capture.*`).
    pub fn message(&self) -> Message {
        match self {
            EventProblem::NoStart => Message::new("capture.no_start"),
            EventProblem::BadTime { property, value } => Message::new("capture.bad_time").text("property", property).text("value", value),
            EventProblem::Cancelled => Message::new("capture.cancelled"),
            EventProblem::Unterminated => Message::new("capture.unterminated"),
        }
    }
}

/// Why a whole file is not a calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarRefusal {
    TooLarge {
        bytes: usize,
    },
    NotACalendar,
    /// A calendar with no event (only to-dos, journals, free/busy or time zones).
    NoEvents,
}

impl CalendarRefusal {
    /// The reason in the reader's words (catalog keys `capture.*`).
    pub fn message(&self) -> Message {
        match self {
            CalendarRefusal::TooLarge { bytes } => Message::new("capture.too_large").text("bytes", bytes).text("limit", MAX_CALENDAR_BYTES),
            CalendarRefusal::NotACalendar => Message::new("capture.not_a_calendar"),
            CalendarRefusal::NoEvents => Message::new("capture.no_events"),
        }
    }
}

/// One content line: its name (upper case), parameters and raw value.
struct Property<'a> {
    name: String,
    params: Vec<(String, String)>,
    value: &'a str,
}

impl Property<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Reads the events of a calendar file, in order; `zone` places floating and all-day times.
pub fn read(bytes: &[u8], zone: &TimeZone) -> Result<Vec<Result<Meeting, EventRefusal>>, CalendarRefusal> {
    if bytes.len() > MAX_CALENDAR_BYTES {
        return Err(CalendarRefusal::TooLarge { bytes: bytes.len() });
    }
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes));
    let lines = unfold(&text);
    if !lines.iter().any(|(_, line)| line.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err(CalendarRefusal::NotACalendar);
    }
    let calendar_zone = lines
        .iter()
        .filter_map(|(_, line)| property(line))
        .find(|property| property.name == "X-WR-TIMEZONE")
        .and_then(|property| zone_named(property.value.trim()));
    let cancelled_calendar =
        lines.iter().filter_map(|(_, line)| property(line)).any(|p| p.name == "METHOD" && p.value.trim().eq_ignore_ascii_case("CANCEL"));
    let zone = calendar_zone.as_ref().unwrap_or(zone);
    let mut events = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut current: Option<(usize, Vec<Property<'_>>)> = None;
    for (line_number, line) in &lines {
        let Some(property) = property(line) else { continue };
        match property.name.as_str() {
            "BEGIN" => {
                let component = property.value.trim().to_ascii_uppercase();
                if component == "VEVENT" {
                    if let Some((start_line, properties)) = current.take() {
                        events.push(Err(refusal(events.len() + 1, start_line, &properties, EventProblem::Unterminated)));
                    }
                    current = Some((*line_number, Vec::new()));
                }
                stack.push(component);
            }
            "END" => {
                let component = property.value.trim().to_ascii_uppercase();
                if let Some(at) = stack.iter().rposition(|open| *open == component) {
                    stack.truncate(at);
                }
                if component == "VEVENT"
                    && let Some((start_line, properties)) = current.take()
                {
                    let number = events.len() + 1;
                    events.push(
                        meeting(&properties, zone, cancelled_calendar).map_err(|problem| refusal(number, start_line, &properties, problem)),
                    );
                }
            }
            _ if stack.last().is_some_and(|open| open == "VEVENT") => {
                if let Some((_, properties)) = current.as_mut() {
                    properties.push(property);
                }
            }
            _ => {}
        }
    }
    if let Some((start_line, properties)) = current.take() {
        events.push(Err(refusal(events.len() + 1, start_line, &properties, EventProblem::Unterminated)));
    }
    if events.is_empty() {
        return Err(CalendarRefusal::NoEvents);
    }
    Ok(events)
}

fn refusal(number: usize, line: usize, properties: &[Property<'_>], problem: EventProblem) -> EventRefusal {
    let uid = properties.iter().find(|property| property.name == "UID").map(|property| clean_line(&unescape(property.value), 255));
    EventRefusal { number, line, uid, problem }
}

/// Logical lines (folded continuations joined), each with the physical line it starts on.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, last))) => last.push_str(rest),
            _ => lines.push((index + 1, line.to_owned())),
        }
    }
    lines
}

/// Splits `NAME;P=v;Q="w:x":value`; `None` for a line with no `:`.
fn property(line: &str) -> Option<Property<'_>> {
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(at, c)| {
        if c == '"' {
            quoted = !quoted;
        }
        (c == ':' && !quoted).then_some(at)
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.trim().to_ascii_uppercase(), value.trim().trim_matches('"').to_owned()))
        .collect();
    Some(Property { name, params, value })
}

/// TEXT value escapes: `\n`, `\,`, `\;`, `\\`.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn meeting(properties: &[Property<'_>], zone: &TimeZone, cancelled_calendar: bool) -> Result<Meeting, EventProblem> {
    let find = |name: &str| properties.iter().find(|property| property.name == name);
    let text =
        |name: &str, max: usize| find(name).map(|property| clean_line(&unescape(property.value), max)).filter(|text| !text.is_empty());
    let cancelled = find("STATUS").is_some_and(|status| status.value.trim().eq_ignore_ascii_case("CANCELLED"));
    if cancelled || cancelled_calendar {
        return Err(EventProblem::Cancelled);
    }
    let start_property = find("DTSTART").ok_or(EventProblem::NoStart)?;
    let (start, all_day) = time(start_property, zone).ok_or_else(|| bad("DTSTART", start_property))?;
    let end = match (find("DTEND"), find("DURATION")) {
        (Some(end), _) => Some(time(end, zone).ok_or_else(|| bad("DTEND", end))?.0),
        (None, Some(duration)) => Some(start.plus_seconds(seconds(duration.value.trim()).ok_or_else(|| bad("DURATION", duration))?)),
        (None, None) => None,
    };
    let party = |property: &Property<'_>| {
        let value = property.value.trim();
        let address = value.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("mailto:")).map_or(value, |_| &value[7..]);
        let address = pipewise_core::text::email(address).ok()?;
        let name = property.param("CN").map(|name| clean_line(name, 200)).filter(|name| !name.is_empty() && *name != address);
        Some(Party { name, address })
    };
    let organizer = find("ORGANIZER").and_then(party);
    let mut attendees: Vec<Party> = Vec::new();
    for attendee in properties.iter().filter(|property| property.name == "ATTENDEE").filter_map(party) {
        let known = organizer.as_ref().is_some_and(|organizer| organizer.address == attendee.address)
            || attendees.iter().any(|seen| seen.address == attendee.address);
        if !known && attendees.len() < MAX_PARTIES {
            attendees.push(attendee);
        }
    }
    Ok(Meeting {
        uid: text("UID", 255),
        recurrence_id: text("RECURRENCE-ID", 64),
        start,
        end: end.filter(|end| *end >= start),
        all_day,
        recurring: find("RRULE").is_some() || find("RDATE").is_some(),
        summary: text("SUMMARY", MAX_SUBJECT_CHARS),
        description: find("DESCRIPTION").map(|property| clean_text(&unescape(property.value), MAX_BODY_CHARS).0).unwrap_or_default(),
        location: text("LOCATION", 500),
        organizer,
        attendees,
    })
}

fn bad(property: &'static str, found: &Property<'_>) -> EventProblem {
    EventProblem::BadTime { property, value: clean_line(found.value, 80) }
}

/// A DATE or DATE-TIME property as an instant, and whether it was a date.
fn time(property: &Property<'_>, zone: &TimeZone) -> Option<(Timestamp, bool)> {
    let value = property.value.trim();
    let digits = |range: std::ops::Range<usize>| value.get(range)?.parse::<i16>().ok();
    let date = civil::Date::new(digits(0..4)?, digits(4..6)? as i8, digits(6..8)? as i8).ok()?;
    if value.len() == 8 {
        let at = date.to_zoned(zone.clone()).ok()?.timestamp();
        return Some((Timestamp::from_jiff(at), true));
    }
    if value.as_bytes().get(8) != Some(&b'T') {
        return None;
    }
    let clock = civil::Time::new(digits(9..11)? as i8, digits(11..13)? as i8, digits(13..15)?.min(59) as i8, 0).ok()?;
    let local = date.to_datetime(clock);
    let at = match &value[15..] {
        "Z" | "z" => local.to_zoned(TimeZone::UTC).ok()?,
        "" => {
            let named = property.param("TZID").and_then(zone_named);
            local.to_zoned(named.unwrap_or_else(|| zone.clone())).ok()?
        }
        _ => return None,
    };
    Some((Timestamp::from_jiff(at.timestamp()), false))
}

/// An IANA zone from a TZID as calendars write it: `Asia/Seoul`, `/mozilla.org/…/Asia/Seoul`,
/// `/Europe/Berlin`.
fn zone_named(tzid: &str) -> Option<TimeZone> {
    let tzid = tzid.trim().trim_matches('"');
    if let Ok(zone) = TimeZone::get(tzid.trim_start_matches('/')) {
        return Some(zone);
    }
    let parts: Vec<&str> = tzid.split('/').filter(|part| !part.is_empty()).collect();
    (1..parts.len()).find_map(|from| TimeZone::get(&parts[from..].join("/")).ok())
}

/// An RFC 5545 DURATION (`PT1H30M`, `P1D`, `-P2W`) in seconds.
fn seconds(raw: &str) -> Option<i64> {
    let (sign, rest) = match raw.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' if number.len() < 9 => number.push(c),
            'T' if number.is_empty() => in_time = true,
            unit @ ('W' | 'D' | 'H' | 'M' | 'S') => {
                let value: i64 = number.parse().ok()?;
                number.clear();
                let scale = match (unit, in_time) {
                    ('W', false) => 604_800,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total += value * scale;
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Asia/Seoul\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n\
UID:42@acme\r\nSUMMARY:Pricing review\\, round 2\r\nDTSTART;TZID=Asia/Seoul:20261208T100000\r\nDURATION:PT1H30M\r\n\
ORGANIZER;CN=\"Kim, Minji\":mailto:Minji@acme.co.kr\r\nATTENDEE;CN=Rep:mailto:rep@pipewise.test\r\nATTENDEE:MAILTO:minji@acme.co.kr\r\n\
DESCRIPTION:Agenda:\\nprice\\nterms\r\n  and more\r\nBEGIN:VALARM\r\nSUMMARY:not this\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:43@acme\r\nSTATUS:CANCELLED\r\nDTSTART:20261209\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn reads_an_invite_and_refuses_what_is_not_a_meeting() {
        let events = read(INVITE.as_bytes(), &TimeZone::UTC).unwrap();
        let meeting = events[0].as_ref().unwrap();
        assert_eq!(meeting.summary.as_deref(), Some("Pricing review, round 2"));
        assert_eq!(meeting.start.to_string(), "2026-12-08T01:00:00Z");
        assert_eq!(meeting.end.unwrap().to_string(), "2026-12-08T02:30:00Z");
        assert_eq!(meeting.organizer, Some(Party { name: Some("Kim, Minji".into()), address: "minji@acme.co.kr".into() }));
        assert_eq!(meeting.attendees, [Party { name: Some("Rep".into()), address: "rep@pipewise.test".into() }]);
        assert_eq!(meeting.description, "Agenda:\nprice\nterms and more");
        assert_eq!(events[1].as_ref().unwrap_err().problem, EventProblem::Cancelled);
        let no_start = events[2].as_ref().unwrap_err();
        assert_eq!((no_start.number, no_start.line, &no_start.problem), (3, 25, &EventProblem::NoStart));
    }

    #[test]
    fn times_durations_and_files() {
        assert_eq!(seconds("PT1H30M"), Some(5_400));
        assert_eq!(seconds("-P1W2D"), Some(-777_600));
        assert_eq!(seconds("P1H"), None);
        assert_eq!(
            zone_named("/mozilla.org/20050126_1/America/New_York").map(|zone| zone.iana_name().map(str::to_owned)),
            Some(Some("America/New_York".into()))
        );
        assert_eq!(read(b"hello", &TimeZone::UTC), Err(CalendarRefusal::NotACalendar));
        assert_eq!(read(b"BEGIN:VCALENDAR\nBEGIN:VTODO\nEND:VTODO\nEND:VCALENDAR\n", &TimeZone::UTC), Err(CalendarRefusal::NoEvents));
    }
}
