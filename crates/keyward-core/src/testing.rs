//! A keyward store for tests and benchmarks: made by a first admin, on a clock
//! the test moves by hand (or any other), with a service for any operator.
//! Compiled for the core's own tests and, through the `internals` feature, for
//! the binary's tests, the integration tests and the benchmarks, so the set-up
//! is written once.

use crate::domain::history::Origin;
use crate::domain::model::Role;
use crate::service::{Clock, Location, Service, Settings};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The login of the admin who makes every test store.
pub const FIRST_ADMIN: &str = "ana";

/// Where a hand clock starts: a fixed moment, so runs can be compared.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("a valid start date")
}

/// `login` acting from the test host, with no sudo, SSH or terminal.
pub fn origin(login: &str) -> Origin {
    Origin {
        login: login.into(),
        host: "bastion".into(),
        ..Origin::default()
    }
}

/// A clock that stands still until the test moves it: rules that depend on
/// time are checked without sleeping.
pub struct HandClock(Mutex<DateTime<Utc>>);

impl HandClock {
    pub fn at(now: DateTime<Utc>) -> HandClock {
        HandClock(Mutex::new(now))
    }

    pub fn advance(&self, by: TimeDelta) {
        *self.0.lock().expect("the hand clock") += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("the hand clock")
    }
}

/// A store made by [`FIRST_ADMIN`] (Ana, ana@example.org) on clock `C`.
/// A store made by [`TempStore::new`] or [`TempStore::with_clock`] lives in a
/// temporary directory removed when this is dropped; one made by
/// [`TempStore::at`] stays where it was put.
pub struct TempStore<C: Clock + 'static = HandClock> {
    // Held for its removal on drop.
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
    clock: Arc<C>,
    /// Where the store is: the file at `path`, or (with
    /// `KEYWARD_TEST_ENGINE=postgres`) a scratch database on the test server.
    location: Location,
    _scratch: Option<PgScratch>,
}

/// The server the tests' PostgreSQL stores go on: `KEYWARD_TEST_PG` (a URL)
/// or the `PG*` variables (`PGHOST` set).
pub fn test_server() -> Option<crate::store::pg::connect::Target> {
    use crate::store::pg::connect::{Surroundings, Target};
    let url = match std::env::var("KEYWARD_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("PGHOST").is_some_and(|h| !h.is_empty()) => "postgres://".into(),
        _ => return None,
    };
    Some(Target::parse(&url, &Surroundings::of_process()).expect("the test server's URL"))
}

/// Whether this run puts the tests' stores on PostgreSQL
/// (`KEYWARD_TEST_ENGINE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("KEYWARD_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

/// A database of its own on the test server, dropped with the test.
pub struct PgScratch {
    server: crate::store::pg::connect::Target,
    pub name: String,
}

impl PgScratch {
    /// A new empty database on the test server.
    pub fn create() -> PgScratch {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = test_server()
            .expect("KEYWARD_TEST_ENGINE=postgres needs a server: set PGHOST or KEYWARD_TEST_PG");
        let name = format!(
            "kw_core_{}_{}_{:04x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            rand::random::<u16>()
        );
        server
            .connect()
            .and_then(|mut c| {
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .map_err(crate::Error::store)
            })
            .expect("a scratch database");
        PgScratch { server, name }
    }

    pub fn target(&self) -> crate::store::pg::connect::Target {
        self.server.with_dbname(&self.name)
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        if let Ok(mut c) = self.server.connect() {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl TempStore<HandClock> {
    /// A store in a temporary directory, on a hand clock standing at [`start`].
    pub fn new() -> TempStore<HandClock> {
        TempStore::with_clock(Arc::new(HandClock::at(start())))
    }
}

impl Default for TempStore<HandClock> {
    fn default() -> Self {
        TempStore::new()
    }
}

impl<C: Clock + 'static> TempStore<C> {
    /// A store in a temporary directory, on `clock`.
    pub fn with_clock(clock: Arc<C>) -> TempStore<C> {
        if on_postgres() {
            let scratch = PgScratch::create();
            let location = Location::Postgres(Box::new(scratch.target()));
            Service::init_at(
                &location,
                origin(FIRST_ADMIN),
                clock.clone(),
                "Ana",
                "ana@example.org",
            )
            .expect("a new store with its first admin");
            return TempStore {
                _dir: None,
                path: PathBuf::from(format!("/nonexistent/{}", scratch.name)),
                clock,
                location,
                _scratch: Some(scratch),
            };
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut store = TempStore::at(&dir.path().join("keyward.db"), clock);
        store._dir = Some(dir);
        store
    }

    /// A store at `path`, which the caller keeps (and may remove or replace,
    /// or rename into place), on `clock`.
    pub fn at(path: &Path, clock: Arc<C>) -> TempStore<C> {
        Service::init(
            path,
            origin(FIRST_ADMIN),
            clock.clone(),
            "Ana",
            "ana@example.org",
        )
        .expect("a new store with its first admin");
        TempStore {
            _dir: None,
            path: path.to_owned(),
            clock,
            location: Location::File(path.to_owned()),
            _scratch: None,
        }
    }

    /// Runs `sql` straight on the store, past keyward (and, on a server, as
    /// the test's superuser role with keyward's schema on the path): what a
    /// hand with write access to the file or the database can do.
    pub fn bypass_sql(&self, sql: &str) {
        match &self._scratch {
            None => rusqlite::Connection::open(&self.path)
                .and_then(|c| c.execute_batch(sql))
                .expect("the statement runs on the file"),
            Some(scratch) => scratch
                .target()
                .connect()
                .and_then(|mut c| {
                    c.batch_execute(&format!("SET search_path = keyward, pg_catalog; {sql}"))
                        .map_err(crate::Error::store)
                })
                .expect("the statement runs on the server"),
        }
    }

    /// The store's file (a path where nothing is, for a store on PostgreSQL).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The clock every service of this store reads.
    pub fn clock(&self) -> &Arc<C> {
        &self.clock
    }

    /// A service for the first admin. It reads nothing on opening, so a test
    /// on a clock that moves when read sees only its own reads.
    pub fn admin(&self) -> Service {
        self.open_as(FIRST_ADMIN)
    }

    /// A service for `login`, who is first added as an operator with `role`
    /// (named after the login, at `login@example.org`) unless they are one.
    pub fn service_as(&self, login: &str, role: Role) -> Service {
        let mut admin = self.admin();
        let operators = admin.list_operators().expect("the operators");
        match operators.iter().find(|op| op.login == login) {
            Some(op) => assert_eq!(op.role, role, "{login} is already an operator"),
            None => {
                admin
                    .add_operator(
                        login,
                        &display_name(login),
                        &format!("{login}@example.org"),
                        role,
                    )
                    .expect("the operator added");
            }
        }
        self.open_as(login)
    }

    fn open_as(&self, login: &str) -> Service {
        Service::open_at(
            &self.location,
            origin(login),
            self.clock.clone(),
            Settings::default(),
        )
        .expect("the store opens")
    }
}

/// `bob` → `Bob`: the name an operator added by a test goes by.
fn display_name(login: &str) -> String {
    let mut chars = login.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_added_by_the_fixture_acts_with_their_role() {
        let store = TempStore::new();
        let mut bob = store.service_as("bob", Role::Manager);
        let me = bob.whoami().unwrap();
        assert_eq!((me.name.as_str(), me.role), ("Bob", Role::Manager));
        // Asked again, the same operator is not added twice.
        store.service_as("bob", Role::Manager).whoami().unwrap();
        assert_eq!(store.admin().list_operators().unwrap().len(), 2);
    }

    #[test]
    fn every_service_of_a_store_reads_its_one_hand_clock() {
        let store = TempStore::new();
        let admin = store.admin();
        store.clock().advance(TimeDelta::hours(2));
        assert_eq!(admin.now(), start() + TimeDelta::hours(2));
        assert_eq!(store.service_as("cy", Role::Viewer).now(), admin.now());
    }
}
