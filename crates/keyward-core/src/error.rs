//! The one error type of keyward: every failure an admin can meet, each with a
//! message they can act on and the exit code of SPEC §6.

use std::fmt;

/// What went wrong, in the product's terms. The variant decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command's words are off, or an input value is invalid (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Unknown login, or a role too low for the action (exit 3).
    #[error("{0}")]
    Permission(String),
    /// A key, instance, team, developer or operator that does not exist (exit 4).
    #[error("{0}")]
    NotFound(String),
    /// A rule refused the change: active-key limit, final status, name taken,
    /// store already exists (exit 5).
    #[error("{0}")]
    Conflict(String),
    /// The store is missing, locked, read-only, full, corrupt or too new (exit 6).
    #[error("{0}")]
    Store(String),
}

/// keyward's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit code for this error (SPEC §6).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Permission(_) => 3,
            Error::NotFound(_) => 4,
            Error::Conflict(_) => 5,
            Error::Store(_) => 6,
        }
    }

    pub fn usage(msg: impl fmt::Display) -> Error {
        Error::Usage(msg.to_string())
    }

    pub fn not_found(msg: impl fmt::Display) -> Error {
        Error::NotFound(msg.to_string())
    }

    pub fn conflict(msg: impl fmt::Display) -> Error {
        Error::Conflict(msg.to_string())
    }

    pub fn store(msg: impl fmt::Display) -> Error {
        Error::Store(msg.to_string())
    }
}

impl From<crate::domain::query::QueryError> for Error {
    fn from(e: crate::domain::query::QueryError) -> Error {
        Error::Usage(format!("filter: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_spec_exit_code() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::Permission("x".into()).exit_code(), 3);
        assert_eq!(Error::not_found("x").exit_code(), 4);
        assert_eq!(Error::conflict("x").exit_code(), 5);
        assert_eq!(Error::store("x").exit_code(), 6);
    }
}
