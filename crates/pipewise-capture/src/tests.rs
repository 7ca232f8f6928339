//! The shared corpus of real and broken mail and calendars, the Korean charset oracles, and
//! inputs of any shape: every item is read or refused with a reason, and nothing panics.

use super::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn shared(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(folder)
}

/// Every file under `dir` that is a message, an mbox or a calendar (licences and the parser
/// expectations beside them left out).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display())).flatten().collect();
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
        if path.is_dir() {
            files(&path, out);
        } else if ["license", "copying", "copyright", "notice", "readme", "apache-2.0", "mit."].iter().all(|skip| !name.starts_with(skip))
            && !name.ends_with(".json")
            && !name.ends_with(".py")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_message_of_the_mail_corpus_is_read_or_refused_with_a_reason() {
    let mut paths = Vec::new();
    for folder in [
        "cpython_test_email",
        "enmime",
        "stalwart_mail_parser",
        "imap_tools",
        "php_imap",
        "patchew_mbox",
        "hyperkitty",
        "spamscope_mail_parser",
        "talon_replies",
        "spamassassin_samples",
    ] {
        files(&shared(&format!("email/{folder}")), &mut paths);
    }
    let (mut read, mut refused, mut korean) = (0, 0, 0);
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        for (_, _, item) in read_file(&bytes, &TimeZone::UTC) {
            match item {
                Ok(Capture::Mail(mail)) => {
                    read += 1;
                    assert!(!mail.from.address.is_empty());
                    let hangul = |text: &str| text.chars().any(|c| ('가'..='힣').contains(&c));
                    korean += usize::from(mail.subject.as_deref().is_some_and(hangul) || hangul(&mail.body));
                }
                Ok(Capture::Meeting(_)) => panic!("{} read as a calendar", path.display()),
                Err(refusal) => {
                    refused += 1;
                    assert_eq!(refusal.reason.key.split_once('.').map(|(namespace, _)| namespace), Some("capture"));
                    if std::env::var_os("CAPTURE_VERBOSE").is_some() {
                        eprintln!("{} #{} line {}: {}", path.display(), refusal.number, refusal.line, refusal.reason.key);
                    }
                }
            }
        }
    }
    eprintln!("{} files: {read} messages read, {refused} refused, {korean} with Korean text", paths.len());
    assert!(read + refused >= 457, "the corpus holds 457 messages, read {read} + refused {refused}");
    assert!(read > refused * 2, "most of the corpus is real mail: {read} read, {refused} refused");
    assert!(korean >= 5, "the Korean messages decode: {korean}");
}

#[test]
fn every_event_of_the_calendar_corpus_is_read_or_refused_with_a_reason() {
    let mut paths = Vec::new();
    files(&shared("calendar"), &mut paths);
    let (mut meetings, mut refused_events, mut refused_files) = (0, 0, 0);
    for path in paths.iter().filter(|path| path.extension().is_some_and(|ext| ext == "ics")) {
        let bytes = std::fs::read(path).unwrap();
        for (number, _, item) in read_file(&bytes, &TimeZone::get("Asia/Seoul").unwrap()) {
            match item {
                Ok(Capture::Meeting(_)) => meetings += 1,
                Ok(Capture::Mail(_)) => panic!("{} read as mail", path.display()),
                Err(refusal) if number == 0 => {
                    refused_files += 1;
                    assert_eq!(refusal.reason.key.split_once('.').map(|(namespace, _)| namespace), Some("capture"));
                }
                Err(_) => refused_events += 1,
            }
        }
    }
    eprintln!("{meetings} meetings, {refused_events} events refused, {refused_files} files refused");
    assert!(meetings + refused_events >= 1_000, "the corpus holds 1,424 VEVENTs");
    assert!(meetings > refused_events * 5);
}

/// CPython's raw Korean text beside its UTF-8, sent as a message body in that charset.
#[test]
fn korean_charsets_decode_like_the_oracle() {
    for (file, charset) in [("euc_kr", "euc-kr"), ("cp949", "cp949"), ("euc_kr", "ks_c_5601-1987"), ("iso2022_kr", "iso-2022-kr")] {
        let raw = std::fs::read(shared(&format!("email/cpython_cjkencodings/{file}.txt"))).unwrap();
        let expected = std::fs::read_to_string(shared(&format!("email/cpython_cjkencodings/{file}-utf8.txt"))).unwrap();
        let mut message = format!("From: a@acme.co.kr\nDate: Mon, 7 Dec 2026 09:00:00 +0900\nSubject: x\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit\n\n").into_bytes();
        message.extend_from_slice(&raw);
        let mail = message::read(&message).unwrap();
        // The oracle's last line of euc_kr is CPython's own extension (KS X 1001 annex 3's
        // 8-byte syllable compositions, "☆첫가끝"), which mail clients do not send and the
        // WHATWG decoder keeps as separate jamo: compared up to it.
        let composed = |text: &str| text.lines().take_while(|line| !line.contains("☆첫가끝")).collect::<Vec<_>>().join("\n");
        let expected = text::clean_text(&expected, usize::MAX).0;
        assert!(composed(&expected).chars().count() > 100);
        assert_eq!(composed(&mail.body), composed(&expected), "{charset}");
    }
}

#[test]
fn the_same_message_has_the_same_key_and_a_reused_message_id_another() {
    let one = b"From: a@acme.co.kr\nDate: Mon, 7 Dec 2026 09:00:00 +0900\nMessage-ID: <1@acme>\nSubject: hi\n\nbody\n";
    let relayed = b"Received: from x by y; Mon, 7 Dec 2026 09:00:01 +0900\nFrom: a@acme.co.kr\nDate: Mon, 7 Dec 2026 09:00:00 +0900\nMessage-ID: <1@acme>\nSubject: hi\n\nbody\n";
    let reused = b"From: a@acme.co.kr\nDate: Mon, 7 Dec 2026 09:00:00 +0900\nMessage-ID: <1@acme>\nSubject: other\n\nbody\n";
    let key = |bytes: &[u8]| Capture::Mail(message::read(bytes).unwrap()).key();
    assert_eq!(key(one), key(relayed));
    assert_ne!(key(one), key(reused));
    assert_eq!(key(one).len(), 32);
}

/// What the coverage-guided fuzzer found (`fuzz/run`): each input is read or refused again,
/// in this debug build too.
#[test]
fn fuzz_regressions_are_read_or_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions");
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten().filter(|entry| entry.path().extension().is_some_and(|ext| ext != "md")) {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(!read_file(&bytes, &TimeZone::UTC).is_empty());
        inputs += 1;
    }
    assert!(inputs >= 1);
}

fn corpus_sample() -> Vec<u8> {
    std::fs::read(shared("email/imap_tools/plain_emails/raw_email.eml")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = read_file(&bytes, &TimeZone::UTC);
        let mut calendar = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n".to_vec();
        calendar.extend_from_slice(&bytes);
        let _ = read_file(&calendar, &TimeZone::UTC);
        let _ = charset::decode_iso_2022_kr(&bytes);
        let _ = charset::decode_fallback_words(&String::from_utf8_lossy(&bytes));
        let _ = Suffixes::builtin().registrable(&String::from_utf8_lossy(&bytes));
        let _ = imap::literal_length(&bytes);
        let _ = imap::fetched(&bytes);
        let _ = imap::search(&bytes);
        let _ = imap::tagged(&bytes, "a1");
        let _ = imap::response_code(&bytes, "UIDVALIDITY");
    }

    #[test]
    fn no_damaged_message_panics(cut in 0usize..4_000, flips in proptest::collection::vec((0usize..4_000, any::<u8>()), 0..20)) {
        let mut bytes = corpus_sample();
        for (at, byte) in flips {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = read_file(&bytes, &TimeZone::UTC);
        let mut mbox = b"From x@y Mon Jan  1 00:00:00 2024\n".to_vec();
        mbox.extend_from_slice(&bytes);
        let _ = read_file(&mbox, &TimeZone::UTC);
    }

    #[test]
    fn no_smtp_conversation_panics(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..30), allow in any::<bool>()) {
        let mut session = smtp::Session::new("drop.test", 200);
        let _ = session.greeting();
        for line in lines {
            match session.line(&line) {
                smtp::Step::CheckSender(_) => { let _ = session.sender_checked(allow); }
                smtp::Step::Deliver(envelope) => {
                    assert!(envelope.data.len() <= 200);
                    let _ = session.delivered(Ok(String::new()));
                }
                _ => {}
            }
        }
        let mut scripted = smtp::Session::new("drop.test", 200);
        for line in [&b"EHLO x"[..], b"MAIL FROM:<a@b.test>", b"RCPT TO:<c@d.test>", b"DATA"] {
            if let smtp::Step::CheckSender(_) = scripted.line(line) { let _ = scripted.sender_checked(true); }
        }
        assert!(scripted.in_data());
    }

    #[test]
    fn calendar_lines_never_panic(line in "[A-Z;=:\"/a-z0-9TZ+-]{0,60}") {
        let calendar = format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART{line}\nDTEND{line}\nDURATION:{line}\nORGANIZER{line}\nEND:VEVENT\nEND:VCALENDAR\n");
        let _ = read_file(calendar.as_bytes(), &TimeZone::UTC);
    }
}

/// The Public Suffix List's own test vectors (`checkPublicSuffix(domain, registrable)`); the
/// punycode (`xn--`) ones are left out, since mail domains are compared in the form written.
#[test]
fn registrable_domains_pass_the_list_s_own_vectors() {
    let vectors = std::fs::read_to_string(shared("reference/public_suffix_list/test_psl.txt")).unwrap();
    let mut checked = 0;
    for line in vectors.lines().filter(|line| line.starts_with("checkPublicSuffix(")) {
        let args = line.trim_start_matches("checkPublicSuffix(").trim_end_matches(");");
        let (domain, expected) = args.split_once(", ").unwrap();
        let unquote = |value: &str| (value != "null").then(|| value.trim_matches('\'').to_owned());
        let Some(domain) = unquote(domain) else { continue };
        if domain.contains("xn--") {
            continue;
        }
        assert_eq!(Suffixes::builtin().registrable(&domain), unquote(expected), "{line}");
        checked += 1;
    }
    assert!(checked > 60, "{checked}");
}

/// Pearson's correlation of two equally long series.
fn correlation(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let (vx, vy): (f64, f64) = (xs.iter().map(|x| (x - mx).powi(2)).sum(), ys.iter().map(|y| (y - my).powi(2)).sum());
    cov / (vx * vy).sqrt()
}

/// VADER's human-rated sentences (each the mean of 20 or more people's ratings): the seed
/// vocabulary agrees with people, and ratings of half of a set (the sign of the people's mean,
/// as a rep's +/− would be) make the other half agree better.
#[test]
fn scores_follow_human_ratings_and_ratings_make_them_follow_closer() {
    let mut gains = Vec::new();
    for (file, floor) in
        [("tweets_GroundTruth.txt", 0.6), ("amazonReviewSnippets_GroundTruth.txt", 0.4), ("nytEditorialSnippets_GroundTruth.txt", 0.3)]
    {
        let text = std::fs::read_to_string(shared(&format!("lexicon/vader/ground_truth_icwsm2014/{file}"))).unwrap();
        let rows: Vec<(f64, &str)> = text
            .lines()
            .filter_map(|line| {
                let mut cells = line.splitn(3, '\t');
                let _id = cells.next()?;
                Some((cells.next()?.trim().parse().ok()?, cells.next()?))
            })
            .collect();
        assert!(rows.len() > 3_000, "{file}: {}", rows.len());
        let (train, test): (Vec<_>, Vec<_>) = rows.iter().enumerate().partition(|(index, _)| index % 2 == 0);
        let humans: Vec<f64> = test.iter().map(|(_, (human, _))| *human).collect();
        let seed = sentiment::Vocabulary::seed();
        let before: Vec<f64> = test.iter().map(|(_, (_, text))| seed.score(text).value).collect();
        let ratings =
            train.iter().filter(|(_, (human, _))| human.abs() >= 1.0).map(|(_, (human, text))| (*text, if *human > 0.0 { 1 } else { -1 }));
        let trained = sentiment::Vocabulary::train(ratings);
        let after: Vec<f64> = test.iter().map(|(_, (_, text))| trained.score(text).value).collect();
        let (r_before, r_after) = (correlation(&before, &humans), correlation(&after, &humans));
        eprintln!("{file}: correlation with people {r_before:.3} with the seed, {r_after:.3} after rating the other half");
        assert!(r_before > floor, "{file}: {r_before}");
        assert!(r_after >= r_before - 0.002, "{file}: ratings made it worse: {r_before} → {r_after}");
        gains.push(r_after - r_before);
    }
    // The tweets are near the lexicon's own ceiling; reviews and editorials gain.
    assert!(gains[1] > 0.03 && gains[2] > 0.005, "{gains:?}");
}
