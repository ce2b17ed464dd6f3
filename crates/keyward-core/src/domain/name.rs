//! Names of keys, instances, developers, channels and teams: 1–128 characters
//! after trimming, any Unicode kept as given (SPEC §2).

use crate::error::{Error, Result};
use std::fmt;

pub const MAX_NAME_CHARS: usize = 128;

/// A validated name. The text is kept exactly as given, less surrounding white space.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    /// Validates `raw` as the name of a `what` ("key name", "team", …).
    pub fn parse(what: &str, raw: &str) -> Result<Name> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::usage(format!("{what} cannot be empty")));
        }
        let chars = trimmed.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(Error::usage(format!(
                "{what} is {chars} characters long; the most is {MAX_NAME_CHARS}"
            )));
        }
        // NUL cannot pass through argv and is cut short by too many tools to be kept.
        if trimmed.contains('\0') {
            return Err(Error::usage(format!(
                "{what} cannot contain a NUL character"
            )));
        }
        // A leaked key pasted into the wrong field: a name is listed,
        // recorded in the history and mailed to every admin.
        if crate::domain::query::holds_pasted_key(trimmed) {
            return Err(Error::usage(format!(
                "{what} holds a whole key (not shown): names are listed, recorded and mailed, never secret; to find a key, paste it into a filter"
            )));
        }
        Ok(Name(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrounding_white_space_is_trimmed_and_the_rest_kept() {
        let n = Name::parse("key name", "  billing \u{202e}sync\t").unwrap();
        assert_eq!(n.as_str(), "billing \u{202e}sync");
    }

    #[test]
    fn a_whole_key_in_a_name_is_refused_without_showing_it() {
        let id = crate::domain::PublicId::parse("5O9UxyZ1").unwrap();
        let key = crate::domain::KeyToken::generate(&id);
        for raw in [
            key.expose().to_owned(),
            format!("billing {} sync", key.expose()),
        ] {
            let err = Name::parse("key name", &raw).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(!err.to_string().contains(&key.expose()[12..]), "{err}");
            assert!(err.to_string().contains("holds a whole key"), "{err}");
        }
        // Only its public id, or words shaped a little like one, are names.
        assert!(Name::parse("key name", "kw_5O9UxyZ1 rotation").is_ok());
    }

    #[test]
    fn empty_and_blank_names_are_refused() {
        assert!(Name::parse("team", "").is_err());
        assert!(Name::parse("team", "   \n").is_err());
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(Name::parse("team", &"é".repeat(128)).is_ok());
        let err = Name::parse("team", &"é".repeat(129)).unwrap_err();
        assert!(err.to_string().contains("129 characters"));
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn nul_is_refused() {
        assert!(Name::parse("team", "a\0b").is_err());
    }
}
