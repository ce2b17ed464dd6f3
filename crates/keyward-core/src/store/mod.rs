//! The repository: the only module that speaks SQL. It opens and creates the
//! SQLite store, migrates its schema, and runs every change in a transaction
//! that takes the write lock up front, so several keyward processes on one host
//! can share the file.

pub mod copy;
mod error;
pub mod history;
pub mod instances;
pub mod keys;
pub mod operators;
pub mod outbox;
pub mod pg;
pub mod preferences;
pub mod query_sql;
pub mod schema;
pub mod sql;
pub mod teams;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sql::Conn;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::from_sqlite;

/// How long a process waits for another one's write lock before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open keyward store, on either engine.
pub struct Store {
    engine: Engine,
}

enum Engine {
    Lite(LiteStore),
    Pg(Box<pg::PgStore>),
}

/// An open SQLite store.
pub struct LiteStore {
    conn: Connection,
    path: PathBuf,
    /// The device and inode of the file opened: SQLite goes on writing to a
    /// file removed or replaced under it, and those writes are lost, so each
    /// transaction first checks that the path still names this file.
    file: (u64, u64),
}

/// A transaction's view of the store; the table families add their methods to it.
pub struct Db<'c> {
    conn: Conn<'c>,
    /// Keys this transaction has written (see `Db::insert_keys`).
    keys_written: std::cell::Cell<u64>,
}

impl LiteStore {
    /// Opens an existing store, migrating its schema if this build is newer.
    pub fn open(path: &Path) -> Result<LiteStore> {
        match crate::access::presence(path) {
            crate::access::Presence::Missing => {
                return Err(Error::store(format!(
                    "no store at {}; create one with `keyward init --name NAME --email EMAIL` or `keyward demo`",
                    path.display()
                )));
            }
            crate::access::Presence::Denied(e) => return Err(e),
            crate::access::Presence::Present => {}
        }
        not_a_file(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| describe(from_sqlite(e), path))?;
        let mut store = LiteStore {
            conn,
            path: path.to_owned(),
            file: file_identity(path)?,
        };
        store.set_busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
        // Before anything writes to it: an unmarked file is left exactly as it is.
        store.ensure_marked()?;
        store.configure(true)?;
        store.migrate()?;
        Ok(store)
    }

    /// Creates a new store at `path`: its directory 0700 if keyward makes it, the
    /// file 0600 (0660 in a group-shared directory), then the schema.
    #[cfg(test)]
    pub fn create(path: &Path) -> Result<LiteStore> {
        LiteStore::create_with(path, |_| Ok(()))
    }

    /// Creates a new store at `path` with the first rows `seed` writes (the
    /// first admin). The store is built whole under a temporary name in the
    /// same directory and linked into place only once complete, so a process
    /// killed at any moment leaves either no store at `path` or a whole one —
    /// never an empty file or a store without its admin, which would block
    /// `init` — at worst a stray `.NAME.new-PID` file beside it, which the next
    /// `create` of that store removes.
    pub fn create_with(path: &Path, seed: impl FnOnce(&Db) -> Result<()>) -> Result<LiteStore> {
        if let crate::access::Presence::Denied(e) = crate::access::presence(path) {
            return Err(e);
        }
        not_a_file(path)?;
        if path.exists() {
            return Err(Error::conflict(format!(
                "a store already exists at {}",
                path.display()
            )));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        if let Some(e) = crate::access::denial_to_create_in(&dir) {
            return Err(e);
        }
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| {
                    Error::store(format!("cannot create directory {}: {e}", dir.display()))
                })?;
        }
        let Some(name) = path.file_name() else {
            return Err(Error::store(format!(
                "{} does not name a file",
                path.display()
            )));
        };
        let temp = dir.join(format!(
            ".{}.new-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        remove_strays(&dir, &name.to_string_lossy());
        let built = LiteStore::build(&temp, file_mode_for(&dir), seed)
            .and_then(|()| place(&temp, path, &dir));
        remove_with_journal(&temp);
        built?;
        LiteStore::open(path)
    }

    /// Writes a complete store at `temp`, in rollback-journal mode so that the
    /// one file holds all of it once closed.
    fn build(temp: &Path, mode: u32, seed: impl FnOnce(&Db) -> Result<()>) -> Result<()> {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(temp)
            .and_then(|f| f.set_permissions(fs::Permissions::from_mode(mode)))
            .map_err(|e| Error::store(format!("cannot create {}: {e}", temp.display())))?;
        let conn = Connection::open_with_flags(
            temp,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| describe(from_sqlite(e), temp))?;
        let mut store = LiteStore {
            conn,
            path: temp.to_owned(),
            file: file_identity(temp)?,
        };
        store.set_busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
        store.configure(false)?;
        store
            .conn
            .pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(|e| store.describe_sqlite(e))?;
        store.migrate()?;
        store.write(seed)?;
        store
            .conn
            .close()
            .map_err(|(_, e)| describe(from_sqlite(e), temp))
    }

    /// A handle another thread can use to stop the statement this connection is
    /// running (SQLite's `sqlite3_interrupt`): the screen cancels a list load
    /// that a newer filter made outdated. The statement fails, its read
    /// transaction rolls back, and the next statement runs as usual.
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// SQLite's `data_version`: a number that changes when another connection
    /// (another keyward process) commits to the store, and only then; this
    /// connection's own commits leave it as it was. Read outside a transaction
    /// through a cached statement, so polling it costs one tiny query and no
    /// allocation.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(|e| self.describe_sqlite(e))
    }

    /// Sets how long to wait for another process's write lock.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| self.describe_sqlite(e))
    }

    /// Lets a bulk load keep more of the store in memory (SQLite's page cache);
    /// `DEFAULT_CACHE_KIB` puts it back and frees what is over.
    pub fn set_cache_size_kib(&self, kib: u32) -> Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(kib))
            .map_err(|e| self.describe_sqlite(e))
    }

    /// Sets up the connection; `wal` switches the store to WAL, which every
    /// store in place uses (a store being built stays in one file).
    fn configure(&mut self, wal: bool) -> Result<()> {
        let conn = &self.conn;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "foreign_keys", true)?;
            conn.pragma_update(None, "trusted_schema", false)?;
            // Read the header now, so a file that is not a database says so here.
            let _: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
            let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            if wal && !mode.eq_ignore_ascii_case("wal") {
                let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            }
            // WAL with FULL sync: a committed change survives a crash and a power cut.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.set_prepared_statement_cache_capacity(64);
            query_sql::register_fold(conn)?;
            Ok(())
        };
        setup().map_err(|e| self.describe_sqlite(e))
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let (_, version) = self.versions()?;
        let latest = schema::latest_version();
        if version > latest {
            return Err(Error::store(format!(
                "the store at {} has schema version {version}, newer than this keyward knows ({latest}); upgrade keyward",
                path.display()
            )));
        }
        if version == latest {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| describe(from_sqlite(e), &path))?;
        // Another process may have migrated while this one waited for the lock.
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| describe(from_sqlite(e), &path))?;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", i as i64 + 1))
                .map_err(|e| describe(from_sqlite(e), &path))?;
        }
        tx.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .and_then(|()| tx.commit())
            .map_err(|e| describe(from_sqlite(e), &path))
    }

    /// Only `create` makes a store: it marks the file before migrating it, so an
    /// unmarked file — empty, or another program's database — is never taken over.
    fn ensure_marked(&self) -> Result<()> {
        let (app_id, _) = self.versions()?;
        if app_id == schema::APPLICATION_ID {
            return Ok(());
        }
        let what = if self.is_empty()? {
            "an empty file"
        } else {
            "another program's database"
        };
        Err(Error::store(format!(
            "{} is not a keyward store ({what}); check the path (--db, KEYWARD_DB, `store` in the configuration) — it is left as it is",
            self.path.display()
        )))
    }

    fn versions(&self) -> Result<(i32, i64)> {
        let read = || -> rusqlite::Result<(i32, i64)> {
            let app: i32 = self
                .conn
                .query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let ver: i64 = self
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((app, ver))
        };
        read().map_err(|e| self.describe_sqlite(e))
    }

    fn is_empty(&self) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| self.describe_sqlite(e))?;
        Ok(n == 0)
    }

    /// Runs `f` in a read transaction: one consistent snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.transact(TransactionBehavior::Deferred, f)
    }

    /// Runs `f` in a write transaction that holds the write lock from its first
    /// statement; it commits only if `f` succeeds, so no change is ever half-made.
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.transact(write_behavior(), f)
    }

    fn transact<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Db) -> Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(behavior)
            .map_err(|e| describe(from_sqlite(e), &path))?;
        // Checked inside the transaction, so a write holds the lock while it looks.
        if file_identity(&path).ok() != Some(self.file) {
            return Err(moved(&path));
        }
        let value = f(&Db::new(Conn::Lite(&tx))).map_err(|e| describe(e, &path))?;
        tx.commit().map_err(|e| describe(from_sqlite(e), &path))?;
        Ok(value)
    }

    fn describe_sqlite(&self, e: rusqlite::Error) -> Error {
        describe(from_sqlite(e), &self.path)
    }
}

/// Write transactions take the write lock up front (`BEGIN IMMEDIATE`).
///
/// In debug builds only, `KEYWARD_TEST_WEAKEN_WRITES=deferred` makes them
/// `BEGIN DEFERRED`: a transaction that reads before it writes then fails to
/// upgrade its lock ("database is locked") when another process committed in
/// between. It exists only so that tests/load.rs can prove its checks catch a
/// store that does not take the lock up front; release builds have no such switch.
fn write_behavior() -> TransactionBehavior {
    #[cfg(debug_assertions)]
    if std::env::var_os("KEYWARD_TEST_WEAKEN_WRITES").is_some_and(|v| v == "deferred") {
        return TransactionBehavior::Deferred;
    }
    TransactionBehavior::Immediate
}

/// The device and inode of the file at `path`.
fn file_identity(path: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path)
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| Error::store(format!("cannot read {}: {e}", path.display())))
}

/// The refusal when the path no longer names the file opened.
fn moved(path: &Path) -> Error {
    let what = if path.exists() {
        "replaced by another file"
    } else {
        "removed"
    };
    Error::store(format!(
        "the store at {} was {what} while keyward had it open; nothing was changed; start keyward again",
        path.display()
    ))
}

/// Store errors name the file they are about.
fn describe(e: Error, path: &Path) -> Error {
    match error::in_light_of_file_system(e, path) {
        Error::Store { cause, message } if !message.contains(&*path.to_string_lossy()) => {
            Error::store_because(cause, format!("{message} ({})", path.display()))
        }
        other => other,
    }
}

/// Puts the finished store at `temp` in place at `path`, refusing to replace
/// one that appeared meanwhile; the directory is synced so the name lasts.
fn place(temp: &Path, path: &Path, dir: &Path) -> Result<()> {
    let exists = || Error::conflict(format!("a store already exists at {}", path.display()));
    match fs::hard_link(temp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
        // A file system without hard links: rename, looking first, since
        // rename would replace a store made in the meantime.
        Err(_) if path.exists() => return Err(exists()),
        Err(_) => fs::rename(temp, path)
            .map_err(|e| Error::store(format!("cannot create {}: {e}", path.display())))?,
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes what a killed `create` of the store `name` left in `dir`: its
/// `.NAME.new-PID` files whose process is gone (or is this one, by reuse).
fn remove_strays(dir: &Path, name: &str) {
    // Without /proc every process would look gone, and a store being made by
    // another process would be pulled from under it.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.new-");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .map(|rest| rest.trim_end_matches("-journal"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Refuses a path that names something other than a file (a directory,
/// `/dev/null`, a pipe) for what it is, rather than as an empty file, another
/// program's database or a store that exists already.
fn not_a_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = fs::metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_fifo() {
        "a pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    let hint = if t.is_dir() {
        format!(
            "; a store is a file, such as {}",
            path.join("keyward.db").display()
        )
    } else {
        String::new()
    };
    Err(Error::store(format!(
        "{} is {what}, not a store{hint}; check the path (--db, KEYWARD_DB, `store` in the configuration)",
        path.display()
    )))
}

/// Removes a file and its rollback journal, if there.
fn remove_with_journal(file: &Path) {
    for suffix in ["", "-journal"] {
        let mut p = file.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

/// 0660 where the directory is shared with a group (group-writable or
/// setgid), else 0600. A directory everyone may write (`/tmp`, 1777) is
/// shared with no group in particular: anyone in the creator's primary group
/// would get the store, so it stays 0600.
fn file_mode_for(dir: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(dir) else {
        return 0o600;
    };
    let mode = meta.mode();
    // The file's group: the directory's when it is setgid, else the
    // creator's own. Shared with the group only when that is the directory's
    // group: a group-writable directory without setgid would otherwise give
    // the store to everyone in the creator's primary group.
    let setgid = mode & 0o2000 != 0;
    let gets_dirs_group = setgid || meta.gid() == nix::unistd::getegid().as_raw();
    if mode & 0o002 == 0 && mode & 0o2020 != 0 && gets_dirs_group {
        0o660
    } else {
        0o600
    }
}

/// SQLite's own default page cache, 2 000 KiB per connection.
pub const DEFAULT_CACHE_KIB: u32 = 2000;

/// The end of a lookup by `name` = `?1` as filters compare names: case folded
/// in any alphabet ([`query_sql::FOLD`]), an exact match first (a store made
/// before names were folded may hold both spellings).
pub(crate) const SAME_NAME: &str =
    "(name = ?1 OR kw_fold(name) = kw_fold(?1)) ORDER BY name = ?1 DESC LIMIT 1";

impl<'c> Db<'c> {
    /// The connection this transaction's statements run on.
    /// The transaction `conn` runs, for the store's methods.
    pub(crate) fn new(conn: Conn<'c>) -> Db<'c> {
        Db {
            conn,
            keys_written: std::cell::Cell::new(0),
        }
    }

    pub fn sql(&self) -> Conn<'c> {
        self.conn
    }
}

#[cfg(test)]
impl<'c> Db<'c> {
    /// The SQLite connection, for tests of a SQLite store.
    fn lite(&self) -> &'c Connection {
        match self.conn {
            Conn::Lite(c) => c,
            Conn::Pg(_) => panic!("a test of a SQLite store got a PostgreSQL one"),
        }
    }
}

/// Stops the statement a store's connection is running, from another thread.
pub enum Cancel {
    Lite(rusqlite::InterruptHandle),
    Pg(pg::PgCancel),
}

impl Cancel {
    /// Asks the running statement to stop; it fails as cancelled, its
    /// transaction rolls back, and the connection goes on.
    pub fn cancel(&self) {
        match self {
            Cancel::Lite(handle) => handle.interrupt(),
            Cancel::Pg(cancel) => cancel.cancel(),
        }
    }
}

/// Where a store is: a SQLite file, or a PostgreSQL database named by URL.
#[derive(Clone, Debug)]
pub enum Location {
    File(PathBuf),
    Postgres(Box<pg::connect::Target>),
}

impl Location {
    /// `--db`'s value (`KEYWARD_DB`, `store` in the configuration): a
    /// `postgres://` or `postgresql://` URL names a server, anything else a file.
    pub fn parse(text: &str) -> Result<Location> {
        if pg::connect::is_postgres_url(text) {
            let target =
                pg::connect::Target::parse(text, &pg::connect::Surroundings::of_process())?;
            Ok(Location::Postgres(Box::new(target)))
        } else {
            Ok(Location::File(PathBuf::from(text)))
        }
    }

    /// `--db`'s value as the command line gave it (a path need not be UTF-8).
    pub fn from_path(given: PathBuf) -> Result<Location> {
        match given.to_str() {
            Some(text) if pg::connect::names_a_server(text) => {
                pg::connect::check_url(text)?;
                Location::parse(text)
            }
            _ => Ok(Location::File(given)),
        }
    }

    /// Whether a store is there, without opening it: for a file, a look at
    /// it; on a server, whether keyward's schema is in the database (a server
    /// that cannot be reached is an error, not a missing store).
    pub fn presence(&self) -> Result<crate::access::Presence> {
        match self {
            Location::File(path) => Ok(crate::access::presence(path)),
            Location::Postgres(target) => pg::PgStore::presence(target),
        }
    }

    /// How a child process of this one (the background delivery) is told
    /// the store: a file by `--db`, a server through `KEYWARD_DB` in its
    /// environment, so a password in the URL is never on a command line
    /// others can see.
    pub fn for_child(&self, cmd: &mut std::process::Command) {
        match self {
            Location::File(path) => {
                cmd.arg("--db").arg(path);
            }
            Location::Postgres(target) => {
                cmd.env("KEYWARD_DB", target.given());
            }
        }
    }

    /// Where sample data goes for a try-out: `demo.db` beside a file store,
    /// or beside the default file store for a server (sample data never goes
    /// into a shared server).
    pub fn demo_beside(&self) -> Location {
        let beside = match self {
            Location::File(path) => path.clone(),
            Location::Postgres(_) => crate::paths::default_store(),
        };
        Location::File(crate::paths::demo_store_beside(&beside))
    }

    /// The file, for a SQLite store.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

/// As keyward shows it: the file's path, or the server's URL without a password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(t) => f.write_str(&t.shown()),
        }
    }
}

impl Store {
    /// Opens the SQLite store at `path`, migrating its schema if this build is newer.
    pub fn open(path: &Path) -> Result<Store> {
        LiteStore::open(path).map(Store::lite)
    }

    /// Opens the store at `location`.
    pub fn open_at(location: &Location) -> Result<Store> {
        match location {
            Location::File(path) => Store::open(path),
            Location::Postgres(target) => pg::PgStore::open(target).map(Store::pg),
        }
    }

    /// Creates a new SQLite store at `path` (see [`LiteStore::create_with`]).
    pub fn create(path: &Path) -> Result<Store> {
        Store::create_with(path, |_| Ok(()))
    }

    pub fn create_with(path: &Path, seed: impl FnOnce(&Db) -> Result<()>) -> Result<Store> {
        LiteStore::create_with(path, seed).map(Store::lite)
    }

    /// Creates a new store at `location` with the first rows `seed` writes:
    /// whole or not at all, on either engine.
    pub fn create_at(location: &Location, seed: impl FnOnce(&Db) -> Result<()>) -> Result<Store> {
        match location {
            Location::File(path) => Store::create_with(path, seed),
            Location::Postgres(target) => pg::PgStore::create_with(target, seed).map(Store::pg),
        }
    }

    fn lite(store: LiteStore) -> Store {
        Store {
            engine: Engine::Lite(store),
        }
    }

    fn pg(store: pg::PgStore) -> Store {
        Store {
            engine: Engine::Pg(Box::new(store)),
        }
    }

    /// Where the store is.
    pub fn location(&self) -> Location {
        match &self.engine {
            Engine::Lite(s) => Location::File(s.path.clone()),
            Engine::Pg(s) => Location::Postgres(Box::new(s.target().clone())),
        }
    }

    /// The SQLite file, if the store is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Lite(s) => Some(&s.path),
            Engine::Pg(_) => None,
        }
    }

    /// Calls `changed` whenever another process commits a change, as soon as
    /// the engine can tell: a server announces each history row (`LISTEN`),
    /// so a thread waits for that; a file says nothing, and `data_version`
    /// polled is how it is noticed (then this starts nothing and says false).
    pub fn watch(&self, changed: impl FnMut() -> bool + Send + 'static) -> bool {
        match &self.engine {
            Engine::Lite(_) => false,
            Engine::Pg(s) => pg::watch(s.target(), changed).is_ok(),
        }
    }

    /// A handle another thread can use to stop the statement this store is
    /// running: the screen cancels a list load a newer filter made outdated.
    pub fn cancel_handle(&self) -> Cancel {
        match &self.engine {
            Engine::Lite(s) => Cancel::Lite(s.interrupt_handle()),
            Engine::Pg(s) => Cancel::Pg(s.cancel_handle()),
        }
    }

    /// A number that changes when another process commits to the store (see
    /// [`LiteStore::data_version`] and [`pg::PgStore::data_version`]).
    pub fn data_version(&mut self) -> Result<i64> {
        match &mut self.engine {
            Engine::Lite(s) => s.data_version(),
            Engine::Pg(s) => s.data_version(),
        }
    }

    /// How long to wait for another writer's lock.
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<()> {
        match &mut self.engine {
            Engine::Lite(s) => s.set_busy_timeout(timeout),
            Engine::Pg(s) => s.set_lock_timeout(timeout),
        }
    }

    /// Lets a bulk load keep more of a SQLite store in memory; a server
    /// manages its own memory, so there this changes nothing.
    pub fn set_cache_size_kib(&self, kib: u32) -> Result<()> {
        match &self.engine {
            Engine::Lite(s) => s.set_cache_size_kib(kib),
            Engine::Pg(_) => Ok(()),
        }
    }

    /// Runs `f` in a read transaction: one consistent snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        match &mut self.engine {
            Engine::Lite(s) => s.read(f),
            Engine::Pg(s) => s.read(f),
        }
    }

    /// Runs `f` in a write transaction; it commits only if `f` succeeds, so
    /// no change is ever half-made.
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        match &mut self.engine {
            Engine::Lite(s) => s.write(f),
            Engine::Pg(s) => s.write(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (tempfile::TempDir, LiteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LiteStore::create(&dir.path().join("k.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_new_store_is_wal_and_owner_only() {
        let (dir, store) = temp_store();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let meta = fs::metadata(dir.path().join("k.db")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn data_version_changes_after_another_connections_commit_only() {
        let (dir, mut store) = temp_store();
        let mut other = LiteStore::open(&dir.path().join("k.db")).unwrap();
        let first = store.data_version().unwrap();
        // Nothing happened, and reads (ours or theirs) are not commits.
        assert_eq!(store.data_version().unwrap(), first);
        other.read(|_| Ok(())).unwrap();
        assert_eq!(store.data_version().unwrap(), first);
        // Our own commit does not count: this screen already knows about it.
        store
            .write(|db| {
                db.lite()
                    .execute_batch("CREATE TABLE mine(x)")
                    .map_err(from_sqlite)
            })
            .unwrap();
        assert_eq!(store.data_version().unwrap(), first);
        // Another connection's commit does.
        other
            .write(|db| {
                db.lite()
                    .execute_batch("CREATE TABLE theirs(x)")
                    .map_err(from_sqlite)
            })
            .unwrap();
        let second = store.data_version().unwrap();
        assert_ne!(second, first);
        assert_eq!(store.data_version().unwrap(), second);
    }

    #[test]
    fn an_interrupted_read_fails_alone_and_the_connection_goes_on() {
        let (_dir, mut store) = temp_store();
        let handle = store.interrupt_handle();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        // Until the read gives up: an interrupt that comes before the statement
        // starts does nothing, so the canceller keeps trying.
        let canceller = std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(20));
                handle.interrupt();
            }
        });
        // Counts forever unless interrupted.
        let endless = store.read(|db| {
            db.lite()
                .query_row(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
                     SELECT count(*) FROM c",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(from_sqlite)
        });
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        canceller.join().unwrap();
        let err = endless.unwrap_err();
        assert!(err.to_string().contains("interrupt"), "{err}");
        // The read transaction rolled back: a write runs as usual afterwards.
        store
            .write(|db| {
                db.lite()
                    .execute("PRAGMA user_version = user_version", [])
                    .map_err(from_sqlite)
            })
            .unwrap();
        assert!(store.conn.is_autocommit());
    }

    #[test]
    fn opening_a_missing_store_does_not_create_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db");
        let err = Store::open(&path).err().unwrap();
        assert_eq!(err.exit_code(), 6);
        assert!(!path.exists());
    }

    #[test]
    fn a_store_whose_first_rows_fail_is_never_put_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let made = Store::create_with(&path, |_| Err(Error::conflict("refused")));
        assert!(made.is_err());
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temporary file left"
        );
    }

    #[test]
    fn what_a_killed_create_left_goes_with_the_next_create() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this id (the kernel's limit is far below it).
        let stray = dir.path().join(".k.db.new-4294967294");
        fs::write(&stray, b"half a store").unwrap();
        let other = dir.path().join(".other.db.new-4294967294");
        fs::write(&other, b"another store's").unwrap();
        Store::create(&dir.path().join("k.db")).unwrap();
        assert!(!stray.exists());
        assert!(other.exists(), "only this store's leftovers are removed");
    }

    #[test]
    fn creating_over_an_existing_store_is_a_conflict() {
        let (dir, _store) = temp_store();
        let err = Store::create(&dir.path().join("k.db")).err().unwrap();
        assert_eq!(err.exit_code(), 5);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (dir, store) = temp_store();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let err = Store::open(&dir.path().join("k.db")).err().unwrap();
        assert_eq!(err.exit_code(), 6);
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[test]
    fn a_foreign_sqlite_file_is_not_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(err.to_string().contains("not a keyward store"), "{err}");
    }

    #[test]
    fn garbage_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert_eq!(err.exit_code(), 6);
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn a_failed_write_commits_nothing() {
        let (_dir, mut store) = temp_store();
        let r: Result<()> = store.write(|db| {
            db.lite()
                .execute("INSERT INTO channels (name) VALUES ('ci')", [])
                .map_err(from_sqlite)?;
            Err(Error::conflict("refused"))
        });
        assert!(r.is_err());
        let n: i64 = store
            .read(|db| {
                db.lite()
                    .query_row("SELECT COUNT(*) FROM channels", [], |r| r.get(0))
                    .map_err(from_sqlite)
            })
            .unwrap();
        assert_eq!(n, 0);
    }
}
