//! The Korean charsets the message parser leaves undecoded: ISO-2022-KR (RFC 1557), a 7-bit
//! form of KS X 1001 that old Korean mail clients sent, and CP949 under the labels Windows
//! writes (`cp949`, `ms949`, `uhc`), which are not WHATWG labels. EUC-KR and `ks_c_5601-1987`
//! are decoded by the parser itself (through `encoding_rs`).

use encoding_rs::EUC_KR;

const ESCAPE: u8 = 0x1b;
const SHIFT_OUT: u8 = 0x0e;
const SHIFT_IN: u8 = 0x0f;

/// The decoder for a charset label the message parser does not know, if it is one of these.
pub fn fallback(label: &str) -> Option<fn(&[u8]) -> String> {
    let label = label.trim().trim_matches('"').to_ascii_lowercase().replace('_', "-");
    match label.as_str() {
        "iso-2022-kr" | "csiso2022kr" => Some(decode_iso_2022_kr),
        // encoding_rs's EUC-KR is Windows code page 949 (unified Hangul code), a superset.
        "cp949" | "ms949" | "uhc" | "x-windows-949" | "windows-949" | "x-uhc" => Some(decode_cp949),
        _ => None,
    }
}

fn decode_cp949(bytes: &[u8]) -> String {
    EUC_KR.decode_without_bom_handling(bytes).0.into_owned()
}

/// Decodes ISO-2022-KR: the designation `ESC $ ) C` is dropped, `SO` … `SI` runs are KS X 1001
/// pairs (read as EUC-KR with the high bit set), a line end returns to ASCII. Malformed
/// sequences become U+FFFD, never a panic.
pub fn decode_iso_2022_kr(bytes: &[u8]) -> String {
    let mut euc = Vec::with_capacity(bytes.len());
    let mut shifted = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            ESCAPE if bytes[index..].starts_with(b"\x1b$)C") => index += 3,
            SHIFT_OUT => shifted = true,
            SHIFT_IN => shifted = false,
            b'\r' | b'\n' => {
                shifted = false;
                euc.push(byte);
            }
            0x21..=0x7e if shifted => euc.push(byte | 0x80),
            // Not ISO-2022-KR: a byte EUC-KR cannot start a character with, so U+FFFD.
            0x80.. => euc.push(0xff),
            _ => euc.push(byte),
        }
        index += 1;
    }
    let (text, _) = EUC_KR.decode_without_bom_handling(&euc);
    text.into_owned()
}

/// Decodes the RFC 2047 encoded words of a raw header value when one of them is in a
/// [`fallback`] charset (`=?iso-2022-kr?B?…?=`, `=?cp949?Q?…?=`), leaving other text as it is;
/// `None` when none is.
pub fn decode_fallback_words(raw: &str) -> Option<String> {
    let has_fallback = raw.split("=?").skip(1).any(|word| word.split_once('?').is_some_and(|(charset, _)| fallback(charset).is_some()));
    if !has_fallback {
        return None;
    }
    let mut out = String::new();
    let mut rest = raw;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, word) = rest.split_at(start);
        let Some((text, after)) = encoded_word(word) else {
            out.push_str(&before.replace(['\r', '\n'], ""));
            out.push_str("=?");
            rest = &word[2..];
            last_was_word = false;
            continue;
        };
        // Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(&before.replace(['\r', '\n'], ""));
        }
        out.push_str(&text);
        rest = after;
        last_was_word = true;
    }
    out.push_str(&rest.replace(['\r', '\n'], ""));
    Some(out.trim().to_owned())
}

/// One encoded word at the start of `word`: its decoded text and what follows it.
fn encoded_word(word: &str) -> Option<(String, &str)> {
    let body = word.strip_prefix("=?")?;
    let (charset, body) = body.split_once('?')?;
    let (encoding, body) = body.split_once('?')?;
    let end = body.find("?=")?;
    let (payload, after) = (&body[..end], &body[end + 2..]);
    let bytes = match encoding {
        "B" | "b" => mail_parser::decoders::base64::base64_decode(payload.as_bytes())?,
        "Q" | "q" => mail_parser::decoders::quoted_printable::quoted_printable_decode(payload.replace('_', " ").as_bytes())?,
        _ => return None,
    };
    let charset = charset.split('*').next().unwrap_or(charset);
    let text = match fallback(charset) {
        Some(decode) => decode(&bytes),
        None => match mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()) {
            Some(decoder) => decoder(&bytes),
            None => String::from_utf8_lossy(&bytes).into_owned(),
        },
    };
    Some((text, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_designation_and_shifts() {
        // "안녕" in KS X 1001 is BE C8 B3 E7; ISO-2022-KR writes it 3E 48 33 67 between SO and SI.
        assert_eq!(decode_iso_2022_kr(b"\x1b$)C\x0e\x3e\x48\x33\x67\x0f hi\n"), "안녕 hi\n");
        assert_eq!(decode_iso_2022_kr(b"plain"), "plain");
        assert!(decode_iso_2022_kr(b"\x0e\xff\x21").contains('\u{fffd}'));
    }

    #[test]
    fn decodes_encoded_words_in_a_header() {
        // base64 of ESC $ ) C SO 3E 48 33 67 SI
        let raw = "=?ISO-2022-KR?B?GyQpQw4+SDNnDw==?= =?iso-2022-kr?Q?_there?=";
        assert_eq!(decode_fallback_words(raw).unwrap(), "안녕 there");
        assert_eq!(decode_fallback_words("=?utf-8?B?7JWI?="), None);
        // "안녕" in CP949 is BE C8 B3 E7.
        assert_eq!(decode_fallback_words("=?cp949?Q?=BE=C8=B3=E7?=").unwrap(), "안녕");
    }
}
