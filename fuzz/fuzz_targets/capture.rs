//! Any bytes, as a file handed to capture (mail, mbox or calendar) and as a conversation with
//! the SMTP drop box. Nothing may panic, and every item is a capture or a refusal with a reason.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let zone = jiff::tz::TimeZone::get("Asia/Seoul").unwrap_or(jiff::tz::TimeZone::UTC);
    for (_, _, item) in pipewise_capture::read_file(bytes, &zone) {
        match item {
            Ok(capture) => {
                let _ = capture.key();
            }
            Err(refused) => assert!(!refused.reason.key.is_empty()),
        }
    }
    // The drop box's conversation, fed the same bytes as lines.
    let mut session = pipewise_capture::smtp::Session::new("fuzz", 4096);
    for line in bytes.split(|byte| *byte == b'\n') {
        match session.line(line.strip_suffix(b"\r").unwrap_or(line)) {
            pipewise_capture::smtp::Step::CheckSender(_) => {
                let _ = session.sender_checked(true);
            }
            pipewise_capture::smtp::Step::Deliver(envelope) => {
                assert!(envelope.data.len() <= 4096);
                let _ = pipewise_capture::read_file(&envelope.data, &zone);
                let _ = session.delivered(Ok(String::new()));
            }
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = pipewise_capture::charset::decode_fallback_words(&text);
    let _ = pipewise_capture::Suffixes::builtin().registrable(&text);
});
