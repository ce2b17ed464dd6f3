//! Argon2id hashing of key secrets (OWASP parameters), done outside any store
//! transaction so that no write lock is held through it.

use crate::domain::KeyToken;
use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use rand::rngs::OsRng;

/// OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| Error::store(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of an Argon2id hash of the whole key, with a fresh random salt.
pub fn hash(key: &KeyToken) -> Result<String> {
    hash_bytes(key.expose().as_bytes())
}

/// Hashes arbitrary bytes; used for the discarded secret behind demo keys.
pub fn hash_bytes(secret: &[u8]) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|e| Error::store(format!("the OS random source failed: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| Error::store(format!("argon2 salt: {e}")))?;
    let phc = argon2()?
        .hash_password(secret, &salt)
        .map_err(|e| Error::store(format!("argon2: {e}")))?;
    Ok(phc.to_string())
}

/// Whether `key` matches the stored hash; the comparison is constant-time.
pub fn matches(key: &KeyToken, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // Verify with the parameters the hash was made with, whatever they were.
    Argon2::default()
        .verify_password(key.expose().as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PublicId;

    #[test]
    fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let id = PublicId::generate();
        let key = KeyToken::generate(&id);
        let phc = hash(&key).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains(key.expose()));
        assert!(matches(&key, &phc));
        assert!(!matches(&KeyToken::generate(&id), &phc));
        assert!(!matches(&key, "not a hash"));
    }

    #[test]
    fn the_same_key_hashes_differently_each_time() {
        let key = KeyToken::generate(&PublicId::generate());
        assert_ne!(hash(&key).unwrap(), hash(&key).unwrap());
    }
}
