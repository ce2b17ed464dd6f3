//! The key format of SPEC §2: `kw_` + 8-character public id + `_` + a base62
//! secret of at least 32 characters + a 6-character base62 CRC32 checksum of
//! everything before it. The checksum lets `verify` and secret scanners reject a
//! mistyped or random string without touching the store.

use rand::TryRngCore;
use rand::rngs::OsRng;
use std::fmt;
use zeroize::Zeroizing;

pub const PREFIX: &str = "kw_";
pub const PUBLIC_ID_LEN: usize = 8;
/// 32 base62 characters carry 32 × log2(62) ≈ 190.5 bits.
pub const SECRET_LEN: usize = 32;
/// Longer secrets are accepted so the format can grow; nothing longer is a key.
pub const MAX_SECRET_LEN: usize = 128;
pub const CHECKSUM_LEN: usize = 6;
/// How many trailing characters the masked form shows; all belong to the checksum.
pub const TAIL_LEN: usize = 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `n` base62 characters drawn uniformly from the OS random source.
fn random_base62(n: usize) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(n));
    let mut rng = OsRng.unwrap_err();
    while out.len() < n {
        // Rejection sampling keeps every character equally likely: 62 × 4 = 248.
        let byte = (rand::RngCore::next_u32(&mut rng) & 0xff) as u8;
        if byte < 248 {
            out.push(BASE62[usize::from(byte % 62)] as char);
        }
    }
    out
}

/// The CRC32 of `body` as exactly six base62 digits (62⁶ > 2³²).
fn checksum(body: &str) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// A key's look-up handle: 8 base62 characters, shown with or without `kw_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicId(String);

impl PublicId {
    pub fn generate() -> PublicId {
        PublicId(random_base62(PUBLIC_ID_LEN).to_string())
    }

    /// Reads an id as an admin types it: `3fQa9LzX` or `kw_3fQa9LzX`.
    pub fn parse(s: &str) -> Option<PublicId> {
        let s = s.trim();
        let s = s.strip_prefix(PREFIX).unwrap_or(s);
        (s.len() == PUBLIC_ID_LEN && s.bytes().all(is_base62)).then(|| PublicId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The masked form shown everywhere after the one showing: `kw_3fQa9LzX_…7Gd2`.
pub fn mask(public_id: &str, tail: &str) -> String {
    format!("{PREFIX}{public_id}_…{tail}")
}

/// Why a string is not a key; it never says which part of a near-miss was right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a keyward key")]
pub struct Malformed;

/// A full key, secret included. Wiped from memory when dropped; its `Debug`
/// shows only the masked form.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct KeyToken {
    text: Zeroizing<String>,
}

impl KeyToken {
    /// A new key with a fresh secret for the given public id.
    pub fn generate(public_id: &PublicId) -> KeyToken {
        let secret = random_base62(SECRET_LEN);
        let mut text = Zeroizing::new(String::with_capacity(
            PREFIX.len() + PUBLIC_ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN,
        ));
        text.push_str(PREFIX);
        text.push_str(public_id.as_str());
        text.push('_');
        text.push_str(&secret);
        let sum = checksum(&text);
        text.extend(sum.iter().map(|&b| b as char));
        KeyToken { text }
    }

    /// Checks the structure and the checksum; touches nothing else.
    pub fn parse(s: &str) -> Result<KeyToken, Malformed> {
        let s = s.trim();
        let rest = s.strip_prefix(PREFIX).ok_or(Malformed)?;
        let bytes = rest.as_bytes();
        if bytes.len() <= PUBLIC_ID_LEN || bytes[PUBLIC_ID_LEN] != b'_' {
            return Err(Malformed);
        }
        let tail = &rest[PUBLIC_ID_LEN + 1..];
        let secret_len = tail.len().checked_sub(CHECKSUM_LEN).ok_or(Malformed)?;
        if !(SECRET_LEN..=MAX_SECRET_LEN).contains(&secret_len)
            || !bytes[..PUBLIC_ID_LEN].iter().copied().all(is_base62)
            || !tail.bytes().all(is_base62)
        {
            return Err(Malformed);
        }
        let (body, sum) = s.split_at(s.len() - CHECKSUM_LEN);
        if checksum(body) != sum.as_bytes() {
            return Err(Malformed);
        }
        Ok(KeyToken {
            text: Zeroizing::new(s.to_owned()),
        })
    }

    pub fn public_id(&self) -> PublicId {
        PublicId(self.text[PREFIX.len()..PREFIX.len() + PUBLIC_ID_LEN].to_owned())
    }

    /// The last characters, all from the checksum, that the masked form shows.
    pub fn tail(&self) -> &str {
        &self.text[self.text.len() - TAIL_LEN..]
    }

    pub fn masked(&self) -> String {
        mask(self.public_id().as_str(), self.tail())
    }

    /// The full key. Call only to show it once, or to hash it.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for KeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyToken({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KeyToken {
        KeyToken::generate(&PublicId::parse("3fQa9LzX").unwrap())
    }

    #[test]
    fn a_generated_key_has_the_documented_shape() {
        let key = sample();
        let s = key.expose();
        assert_eq!(s.len(), 3 + 8 + 1 + 32 + 6);
        assert!(s.starts_with("kw_3fQa9LzX_"));
        assert!(s[12..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(KeyToken::parse(s).unwrap().expose(), s);
    }

    #[test]
    fn a_key_token_is_wiped_when_dropped() {
        // Compiles only while KeyToken wipes itself on drop.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<KeyToken>();
        // What drop calls: the text's bytes are overwritten and it is emptied.
        let mut key = sample();
        zeroize::Zeroize::zeroize(&mut key.text);
        assert!(key.text.is_empty());
    }

    #[test]
    fn two_generated_secrets_differ() {
        assert_ne!(sample().expose(), sample().expose());
        assert_ne!(PublicId::generate(), PublicId::generate());
    }

    #[test]
    fn checksum_catches_any_single_character_change() {
        for _ in 0..20 {
            let key = sample();
            let s = key.expose();
            for (i, original) in s.char_indices() {
                for replacement in BASE62.iter().map(|&b| b as char).chain(['_', '-']) {
                    if replacement == original {
                        continue;
                    }
                    let mut changed = s.to_owned();
                    changed.replace_range(i..i + 1, &replacement.to_string());
                    assert_eq!(
                        KeyToken::parse(&changed).err(),
                        Some(Malformed),
                        "{changed} passed"
                    );
                }
            }
        }
    }

    #[test]
    fn truncated_extended_and_foreign_strings_are_malformed() {
        let s = sample().expose().to_owned();
        for bad in [
            "",
            "kw_",
            "kw_3fQa9LzX_",
            &s[..s.len() - 1],
            &format!("{s}0"),
            &s.replace("kw_", "kx_"),
            "kw_3fQa9Lz__aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "kw_3fQa9LzX_ééééééééééééééééééééééééééééééééé",
            &"kw_".repeat(1000),
        ] {
            assert!(KeyToken::parse(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn surrounding_white_space_is_ignored() {
        let s = sample().expose().to_owned();
        assert!(KeyToken::parse(&format!("  {s}\n")).is_ok());
    }

    #[test]
    fn masked_form_shows_no_secret_character() {
        let key = sample();
        let masked = key.masked();
        assert_eq!(masked, format!("kw_3fQa9LzX_…{}", &key.expose()[46..]));
        // The tail lies wholly inside the checksum, after the 32 secret characters.
        assert!(key.expose().len() - TAIL_LEN >= 12 + SECRET_LEN);
        assert_eq!(format!("{key:?}"), format!("KeyToken({masked})"));
    }

    #[test]
    fn public_ids_parse_with_or_without_prefix() {
        assert_eq!(PublicId::parse("kw_3fQa9LzX").unwrap().as_str(), "3fQa9LzX");
        assert_eq!(PublicId::parse("3fQa9LzX").unwrap().as_str(), "3fQa9LzX");
        assert!(PublicId::parse("3fQa9Lz").is_none());
        assert!(PublicId::parse("3fQa9Lz!").is_none());
    }
}
