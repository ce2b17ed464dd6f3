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
    #[error("{message}")]
    Store { cause: StoreCause, message: String },
}

/// Why the store failed, for code that reacts to the cause; the message says it
/// to the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreCause {
    /// The file could not be opened (SQLite's "unable to open database file").
    CannotOpen,
    /// The file, or a directory on its path, refuses this login (EACCES).
    Denied,
    /// A read or write failed below SQLite.
    Io,
    /// The disk is full.
    Full,
    /// Another process held the lock past the wait.
    Locked,
    /// The file, the directory or the file system is read-only.
    ReadOnly,
    /// Not a SQLite file, or a damaged one.
    Corrupt,
    /// The query was stopped through a cancel handle.
    Cancelled,
    /// Anything else: missing, too new, replaced while open, an unexpected answer.
    Other,
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
            Error::Store { .. } => 6,
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
        Error::store_because(StoreCause::Other, msg)
    }

    pub fn store_because(cause: StoreCause, msg: impl fmt::Display) -> Error {
        Error::Store {
            cause,
            message: msg.to_string(),
        }
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
