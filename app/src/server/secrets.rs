//! Secrets at rest: tokens, keys and client secrets are sealed with XChaCha20-Poly1305 under a
//! key derived from `SLIPWAY_SECRET_KEY` (HKDF-SHA256). Each sealed value is bound to its purpose
//! (which entity and field it belongs to) as associated data, so a value copied into another
//! row does not open there. Nothing here ever prints a secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// Sealed values start with the format version, so the scheme can change without guessing.
const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Keys [`SecretBox::fingerprint`]: derived apart from the encryption key.
    fingerprint_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the stored secret is not in a format this Slipway understands")]
    Format,
    /// Wrong key (SLIPWAY_SECRET_KEY changed), wrong purpose, or tampering: indistinguishable.
    #[error("the stored secret cannot be opened with this server's SLIPWAY_SECRET_KEY")]
    Open,
}

impl SecretBox {
    /// Derives the encryption key from the server secret; the same secret gives the same key on
    /// every replica.
    pub fn from_server_secret(server_secret: &str) -> SecretBox {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"slipway"), server_secret.as_bytes());
        let mut key = [0u8; 32];
        hkdf.expand(b"slipway secrets at rest v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let mut fingerprint_key = [0u8; 32];
        hkdf.expand(b"slipway secret fingerprints v1", &mut fingerprint_key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        SecretBox {
            cipher: XChaCha20Poly1305::new(&key.into()),
            fingerprint_key,
        }
    }

    /// A short, keyed fingerprint of a secret for `purpose`: tells whether a secret changed
    /// (where it was written, say a webhook's address) without revealing it — without the
    /// server's key it cannot be checked against a guess. 12 hex digits.
    pub fn fingerprint(&self, purpose: &str, secret: &str) -> String {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.fingerprint_key)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..6])
    }

    /// Seals `plaintext` for `purpose` (e.g. `integration:42:token`) under a fresh random nonce.
    pub fn seal(&self, purpose: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory input");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SecretError::Format)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SecretError::Format)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SecretError::Format);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Format)?;
        let plaintext = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plaintext).map_err(|_| SecretError::Format)
    }
}

/// The `sha256=<hex>` HMAC-SHA256 under `secret` of `parts`, one after the other: how Slipway
/// signs what it sends (notification webhooks), as [`signed_sha256`] checks what it receives.
pub fn sign_sha256(secret: &[u8], parts: &[&[u8]]) -> String {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `signature` (`sha256=<hex>`, as GitHub and Slipway's build notifications send it) is
/// the HMAC-SHA256 under `secret` of `parts`, one after the other; compared in constant time. The
/// one signature check of every webhook.
pub fn signed_sha256(secret: &[u8], parts: &[&[u8]], signature: &str) -> bool {
    use hmac::Mac;
    let Some(expected) = signature
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_purpose() {
        let secrets = SecretBox::from_server_secret(SERVER_SECRET);
        let sealed = secrets.seal("integration:7:token", "ghp_supersecret");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("supersecret"));
        assert_eq!(
            secrets.open("integration:7:token", &sealed).as_deref(),
            Ok("ghp_supersecret")
        );
        // Another replica with the same SLIPWAY_SECRET_KEY opens it too.
        let replica = SecretBox::from_server_secret(SERVER_SECRET);
        assert_eq!(
            replica.open("integration:7:token", &sealed).as_deref(),
            Ok("ghp_supersecret")
        );
        // Copied into another row or field, it does not open.
        assert_eq!(
            secrets.open("integration:8:token", &sealed),
            Err(SecretError::Open)
        );
        // Under another server secret, it does not open.
        let other = SecretBox::from_server_secret("another-server-secret-of-32-chars!!");
        assert_eq!(
            other.open("integration:7:token", &sealed),
            Err(SecretError::Open)
        );
    }

    #[test]
    fn fingerprints_tell_secrets_apart_only_with_the_servers_key() {
        let secrets = SecretBox::from_server_secret(SERVER_SECRET);
        let print = secrets.fingerprint("github webhook", "whsec-1");
        assert_eq!(print.len(), 12);
        assert!(print.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            print,
            secrets.fingerprint("github webhook", "whsec-1"),
            "the same on every replica"
        );
        assert_ne!(print, secrets.fingerprint("github webhook", "whsec-2"));
        assert_ne!(print, secrets.fingerprint("other purpose", "whsec-1"));
        let other = SecretBox::from_server_secret("another-server-secret-of-32-characters!");
        assert_ne!(print, other.fingerprint("github webhook", "whsec-1"));
        assert!(!print.contains("whsec"));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce_and_tampering_is_detected() {
        let secrets = SecretBox::from_server_secret(SERVER_SECRET);
        let a = secrets.seal("p", "same");
        let b = secrets.seal("p", "same");
        assert_ne!(a, b);
        let mut bytes = URL_SAFE_NO_PAD.decode(&a[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("v1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(secrets.open("p", &tampered), Err(SecretError::Open));
        assert_eq!(secrets.open("p", "plaintext"), Err(SecretError::Format));
        assert_eq!(secrets.open("p", "v1.AAAA"), Err(SecretError::Format));
        assert_eq!(format!("{secrets:?}"), "SecretBox(…)");
    }
}
