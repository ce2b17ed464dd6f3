//! Turns SQLite's failures into keyward errors an admin can act on.

use crate::error::Error;
use rusqlite::ErrorCode;

/// Maps a rusqlite error to the keyward error (and so the exit code) it means.
pub fn from_sqlite(e: rusqlite::Error) -> Error {
    let rusqlite::Error::SqliteFailure(failure, message) = &e else {
        return Error::store(format!("store error: {e}"));
    };
    let detail = message.clone().unwrap_or_else(|| failure.to_string());
    match failure.code {
        ErrorCode::ConstraintViolation => {
            // Messages raised by the schema's own triggers start with "keyward: ".
            let text = detail.strip_prefix("keyward: ").unwrap_or(&detail);
            if detail.starts_with("UNIQUE constraint failed") {
                Error::conflict(format!("that name is taken ({detail})"))
            } else {
                Error::conflict(text)
            }
        }
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::store(
            "the store is locked by another keyward process and stayed locked past the wait; try again",
        ),
        ErrorCode::ReadOnly => Error::store("the store is read-only; nothing was changed"),
        ErrorCode::DiskFull => {
            Error::store("the disk holding the store is full; nothing was changed")
        }
        ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
            Error::store("the store is corrupt or not a SQLite file")
        }
        ErrorCode::CannotOpen => Error::store("cannot open the store"),
        ErrorCode::PermissionDenied => Error::store("no permission to use the store"),
        ErrorCode::SystemIoFailure => Error::store(format!(
            "the store could not be read or written ({detail}); nothing was changed"
        )),
        _ => Error::store(format!("store error: {detail}")),
    }
}
