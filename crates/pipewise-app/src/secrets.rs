//! Secrets the server keeps for others (mailbox passwords, webhook signing secrets), sealed with
//! the server's key: ChaCha20-Poly1305 with a fresh random nonce each time, so nothing is stored
//! in the clear and an altered value does not open.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use pipewise_core::error::Problem;

use crate::{Result, StoreError};

/// The server's key (32 bytes, from its configuration `PIPEWISE_SECRET_KEY`).
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Reads a key written as 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> std::result::Result<SecretKey, Problem> {
        let text = text.trim();
        let invalid = || Problem::Invalid { value: format!("{} characters", text.len()), expected: "64 hexadecimal digits (32 bytes)" };
        if text.len() != 64 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let mut key = [0u8; 32];
        for (index, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).map_err(|_| invalid())?;
        }
        Ok(SecretKey(key))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Seals `secret`: hex of a random 12-byte nonce followed by the ciphertext and its tag.
pub(crate) fn seal(key: &SecretKey, secret: &str) -> Result<String> {
    let mut nonce = [0u8; 12];
    fill_random(&mut nonce)?;
    let sealed = key
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
        .map_err(|_| StoreError::database(std::io::Error::other("the secret could not be sealed")))?;
    Ok(nonce.iter().chain(&sealed).map(|byte| format!("{byte:02x}")).collect())
}

/// Opens a sealed secret; `None` when the key is not the one it was sealed with (or the stored
/// value was altered).
pub(crate) fn open(key: &SecretKey, sealed: &str) -> Option<String> {
    let bytes: Vec<u8> =
        (0..sealed.len() / 2).map(|index| u8::from_str_radix(sealed.get(index * 2..index * 2 + 2)?, 16).ok()).collect::<Option<_>>()?;
    if bytes.len() < 12 + 16 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    let plain = key.cipher().decrypt(Nonce::from_slice(nonce), sealed).ok()?;
    String::from_utf8(plain).ok()
}

/// `bytes` random bytes as hexadecimal digits.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    fill_random(&mut buffer)?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn fill_random(buffer: &mut [u8]) -> Result<()> {
    getrandom::fill(buffer).map_err(|error| StoreError::database(std::io::Error::other(error.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_password_opens_only_with_its_key_and_is_never_stored_plain() {
        let key = SecretKey::from_hex(&"ab".repeat(32)).unwrap();
        let sealed = seal(&key, "app-password-1").unwrap();
        assert!(!sealed.contains("app-password"));
        assert_ne!(sealed, seal(&key, "app-password-1").unwrap(), "a fresh nonce each time");
        assert_eq!(open(&key, &sealed).as_deref(), Some("app-password-1"));
        let other = SecretKey::from_hex(&"cd".repeat(32)).unwrap();
        assert_eq!(open(&other, &sealed), None);
        let mut altered = sealed.into_bytes();
        altered[40] = if altered[40] == b'0' { b'1' } else { b'0' };
        assert_eq!(open(&key, &String::from_utf8(altered).unwrap()), None, "an altered secret does not open");
        assert!(SecretKey::from_hex("short").is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
    }
}
