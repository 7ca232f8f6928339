//! Any bytes, as a file handed to capture: mail, mbox or calendar. Nothing may panic, and every
//! item is a capture or a refusal with a reason.

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
    let text = String::from_utf8_lossy(bytes);
    let _ = pipewise_capture::charset::decode_fallback_words(&text);
    let _ = pipewise_capture::Suffixes::builtin().registrable(&text);
});
