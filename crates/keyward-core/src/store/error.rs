//! Turns SQLite's failures into keyward errors an admin can act on.

use crate::error::{Error, StoreCause};
use nix::sys::statvfs::{FsFlags, statvfs};
use rusqlite::ErrorCode;
use std::path::Path;

const CANNOT_OPEN: &str = "cannot open the store";
const IO_FAILURE: &str = "the store could not be read or written";
const FULL: &str = "the disk holding the store is full; nothing was changed";
/// Less free space than this, and an I/O failure is the disk being full: SQLite
/// grows the shared-memory file a reader needs by 32 KiB at a time.
const NEARLY_FULL_BYTES: u64 = 64 * 1024;

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
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::store_because(
            StoreCause::Locked,
            "the store is locked by another process (keyward, or any program using SQLite on it) and stayed locked past the 5-second wait; try again",
        ),
        ErrorCode::ReadOnly => Error::store_because(
            StoreCause::ReadOnly,
            "the store is read-only for this login (even reading it writes SQLite's shared-memory file beside it); nothing was changed",
        ),
        ErrorCode::DiskFull => Error::store_because(StoreCause::Full, FULL),
        ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => Error::store_because(
            StoreCause::Corrupt,
            "the store is corrupt or not a SQLite file",
        ),
        ErrorCode::CannotOpen => Error::store_because(StoreCause::CannotOpen, CANNOT_OPEN),
        ErrorCode::PermissionDenied => {
            Error::store_because(StoreCause::CannotOpen, "no permission to use the store")
        }
        ErrorCode::SystemIoFailure => Error::store_because(
            StoreCause::Io,
            format!("{IO_FAILURE} ({detail}); nothing was changed"),
        ),
        ErrorCode::OperationInterrupted => {
            Error::store_because(StoreCause::Cancelled, format!("store error: {detail}"))
        }
        _ => Error::store(format!("store error: {detail}")),
    }
}

/// Says what a failure to open, read or write the store comes from when the
/// file system shows it: SQLite calls a read-only mount "unable to open
/// database file", and a disk too full to grow the store's -shm file a plain
/// "disk I/O error".
pub(super) fn in_light_of_file_system(e: Error, path: &Path) -> Error {
    if !matches!(
        e,
        Error::Store {
            cause: StoreCause::CannotOpen | StoreCause::Io,
            ..
        }
    ) {
        return e;
    }
    let on = if path.exists() {
        path
    } else {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    };
    let Ok(fs) = statvfs(on) else {
        return e;
    };
    if fs.flags().contains(FsFlags::ST_RDONLY) {
        return Error::store_because(
            StoreCause::ReadOnly,
            "the store is on a read-only file system; nothing was changed",
        );
    }
    // Root may use the blocks reserved for it; others only the available ones.
    let blocks = if nix::unistd::geteuid().is_root() {
        fs.blocks_free()
    } else {
        fs.blocks_available()
    };
    // The widths of these counts differ between platforms; u64 holds them all.
    #[allow(clippy::useless_conversion)]
    let free = u64::from(blocks).saturating_mul(u64::from(fs.fragment_size()));
    if free < NEARLY_FULL_BYTES {
        return Error::store_because(StoreCause::Full, FULL);
    }
    e
}
