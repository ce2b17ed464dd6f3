//! What every benchmark shares: the large store of issue 6, built once by
//! `keyward demo` (in process, through the service) and kept under Cargo's
//! target directory, and a service opened on it as the login running the bench.
//!
//! The size defaults to the 100 000 keys and 1 000 000 history rows;
//! `KEYWARD_BENCH_KEYS` and `KEYWARD_BENCH_HISTORY` make a smaller one for a
//! quick look. A store is built under a temporary name and renamed into place,
//! so an interrupted build is never taken for a finished one.
//!
//! `KEYWARD_BENCH_STORE` names another store to measure, as `--db` does: a
//! file, or a `postgres://` URL (issue 15). A PostgreSQL database without
//! keyward's schema is filled once by `store copy` from the file store of the
//! same size, so both engines are measured on the very same rows; it takes
//! about four minutes at full size and is kept for the next run.

#![allow(dead_code)]

use keyward_core::domain::history::Origin;
use keyward_core::domain::model::Role;
use keyward_core::service::demo::DemoSpec;
use keyward_core::service::{Location, Service, Settings, SystemClock};
use keyward_core::store::pg::connect::Target;
use keyward_core::testing::TempStore;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// The store the benchmarks read, and its size.
pub struct BenchStore {
    pub location: Location,
    /// `--db`'s value naming it to a keyward process.
    pub db: OsString,
    pub keys: u64,
    pub history: u64,
}

impl BenchStore {
    /// The engine's name, for what a benchmark prints.
    pub fn engine(&self) -> &'static str {
        match self.location {
            Location::File(_) => "sqlite",
            Location::Postgres(_) => "postgres",
        }
    }

    /// `group` for criterion: the file store keeps the names of issue 6, a
    /// server's groups end in `_pg` so the two engines' baselines never mix.
    pub fn group(&self, group: &str) -> String {
        match self.location {
            Location::File(_) => group.to_owned(),
            Location::Postgres(_) => format!("{group}_pg"),
        }
    }

    /// The PostgreSQL database, when the store is one.
    pub fn server(&self) -> Option<&Target> {
        match &self.location {
            Location::File(_) => None,
            Location::Postgres(target) => Some(target),
        }
    }
}

fn size(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The directory benchmarks keep their stores in.
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyward-bench")
}

/// The login running the benchmark, as keyward itself sees it.
pub fn origin() -> Origin {
    keyward_core::identity::current(None).expect("the login running the benchmark")
}

/// The large store: `KEYWARD_BENCH_STORE` when set, else the file store of
/// the size asked for, built on first use (about 25 s at full size on 2 cores).
pub fn large_store() -> BenchStore {
    let keys = size("KEYWARD_BENCH_KEYS", 100_000);
    let history = size("KEYWARD_BENCH_HISTORY", 1_000_000);
    let (location, db) = match chosen() {
        Some(chosen) => chosen,
        None => {
            let path = file_store(keys, history);
            (Location::File(path.clone()), path.into_os_string())
        }
    };
    if let Location::Postgres(target) = &location {
        fill_server(target, keys, history);
    }
    BenchStore {
        location,
        db,
        keys,
        history,
    }
}

/// The store `KEYWARD_BENCH_STORE` names, if it is set.
fn chosen() -> Option<(Location, OsString)> {
    match std::env::var("KEYWARD_BENCH_STORE") {
        Ok(given) if !given.is_empty() => Some((
            Location::parse(&given).expect("KEYWARD_BENCH_STORE names a store"),
            OsString::from(given),
        )),
        _ => None,
    }
}

/// Whether `KEYWARD_BENCH_STORE` names a PostgreSQL database.
pub fn on_server() -> bool {
    matches!(chosen(), Some((Location::Postgres(_), _)))
}

/// Where a new store can be made, on the engine being measured: a file
/// name in a scratch directory, or an empty database on the server of
/// `KEYWARD_BENCH_STORE`; removed when dropped.
pub fn empty_store() -> Scratch {
    std::fs::create_dir_all(bench_dir()).expect("the benchmark directory");
    match chosen() {
        Some((Location::Postgres(target), db)) => {
            let name = format!("{}_new_{}", target.dbname(), std::process::id());
            let server = target.with_dbname("postgres");
            run_on(
                &server,
                &[
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    &format!("CREATE DATABASE {name}"),
                ],
            );
            let url = db
                .to_str()
                .and_then(|url| with_database(url, &name))
                .expect("KEYWARD_BENCH_STORE is a URL with a database: postgres://…/DATABASE");
            Scratch {
                location: Location::parse(&url).expect("the new database's URL"),
                db: url.into(),
                _dir: None,
                database: Some((server, name)),
            }
        }
        _ => {
            let dir = tempfile::tempdir_in(bench_dir()).expect("a scratch directory");
            let path = dir.path().join("demo.db");
            Scratch {
                db: path.clone().into_os_string(),
                location: Location::File(path),
                _dir: Some(dir),
                database: None,
            }
        }
    }
}

/// The file store of `keys` keys and `history` rows, built if missing.
fn file_store(keys: u64, history: u64) -> PathBuf {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("the benchmark directory");
    let path = dir.join(format!("store-{keys}-keys-{history}-history.db"));
    if !path.exists() {
        let building = dir.join(format!(".building-{}.db", std::process::id()));
        eprintln!(
            "building the benchmark store ({keys} keys, {history} history rows) at {}",
            path.display()
        );
        // The login running the bench is an admin too, for the keyward commands
        // the benchmarks run on the store.
        let mut service = TempStore::at(&building, Arc::new(SystemClock))
            .service_as(&origin().login, Role::Admin);
        service
            .sample_data_for_tests(DemoSpec {
                keys,
                history: Some(history),
            })
            .expect("the demo data");
        drop(service);
        std::fs::rename(&building, &path).expect("the store moved into place");
    }
    path
}

/// Copies the file store of the same size into `target` unless keyward's
/// schema is there already (then it is measured as it is).
fn fill_server(target: &Target, keys: u64, history: u64) {
    let location = Location::Postgres(Box::new(target.clone()));
    match location.presence().expect("the benchmark server answers") {
        keyward_core::access::Presence::Missing => {}
        _ => return,
    }
    let file = file_store(keys, history);
    eprintln!(
        "copying the benchmark store {} into {location} (store copy, about 4 min at full size)",
        file.display()
    );
    service(&Location::File(file))
        .copy_store(&location, &mut |_, _| {})
        .expect("the benchmark store copied to the server");
    // Fresh statistics, as autovacuum would gather them a little later.
    run_on(target, &["VACUUM ANALYZE"]);
}

/// Ends the listeners of screens the benchmark has dropped. A screen on a
/// server listens for other hosts' changes on a connection of its own,
/// whose thread ends only when a notification finds the screen gone; the
/// program has one screen, but a benchmark opens hundreds, which would
/// otherwise each keep a connection until the server refuses more. A
/// notification with no row behind it makes every listener look: the
/// screens still open reload, the dropped ones' listeners end.
pub fn release_listeners(store: &BenchStore) {
    if let Some(target) = store.server() {
        let _ = target.connect().and_then(|mut c| {
            c.batch_execute("NOTIFY keyward_history")
                .map_err(keyward_core::Error::store)
        });
    }
}

/// Runs `statements` on `target`, each on its own (CREATE DATABASE and
/// VACUUM refuse to share a transaction); the server's word if one fails.
fn run_on(target: &Target, statements: &[&str]) {
    let mut client = target.connect().expect("the benchmark server answers");
    for sql in statements {
        if let Err(e) = client.batch_execute(sql) {
            let why = e
                .as_db_error()
                .map_or(e.to_string(), |d| d.message().to_owned());
            panic!("{sql}: {why}");
        }
    }
}

/// A service on `location` for the login running the benchmark.
pub fn service(location: &Location) -> Service {
    Service::open_at(
        location,
        origin(),
        Arc::new(SystemClock),
        Settings::default(),
    )
    .expect("the benchmark store opens")
}

/// A private copy of the store, for benchmarks that write; removed when dropped.
pub struct Scratch {
    pub location: Location,
    pub db: OsString,
    _dir: Option<tempfile::TempDir>,
    database: Option<(Target, String)>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.database
            && let Ok(mut c) = server.connect()
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl Scratch {
    /// The database's name, on a server.
    pub fn database(&self) -> Option<&str> {
        self.database.as_ref().map(|(_, name)| name.as_str())
    }
}

/// A private copy of the store, for benchmarks that write: a copy of the file,
/// or on PostgreSQL a database made from the store's as a template (nobody
/// may be connected to it meanwhile).
pub fn copy_of(store: &BenchStore) -> Scratch {
    match &store.location {
        Location::File(file) => {
            let dir = tempfile::tempdir_in(bench_dir()).expect("a scratch directory");
            let path = dir.path().join("copy.db");
            std::fs::copy(file, &path).expect("the store copied");
            Scratch {
                db: path.clone().into_os_string(),
                location: Location::File(path),
                _dir: Some(dir),
                database: None,
            }
        }
        Location::Postgres(target) => {
            let name = format!("{}_bench_{}", target.dbname(), std::process::id());
            // Connected to the server's own database, not the template.
            let server = target.with_dbname("postgres");
            run_on(
                &server,
                &[
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    &format!(
                        "CREATE DATABASE {name} TEMPLATE {} STRATEGY FILE_COPY",
                        target.dbname()
                    ),
                ],
            );
            let url = store
                .db
                .to_str()
                .and_then(|url| with_database(url, &name))
                .expect("KEYWARD_BENCH_STORE is a URL with a database: postgres://…/DATABASE");
            Scratch {
                location: Location::parse(&url).expect("the scratch database's URL"),
                db: url.into(),
                _dir: None,
                database: Some((server, name)),
            }
        }
    }
}

/// `url` naming database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> Option<String> {
    let after_scheme = url.find("://")? + 3;
    let path = after_scheme + url[after_scheme..].find('/')?;
    let end = url[path..].find('?').map_or(url.len(), |q| path + q);
    Some(format!("{}/{name}{}", &url[..path], &url[end..]))
}

/// The public ids of the first `n` keys that are not deleted.
pub fn live_key_ids(location: &Location, n: usize) -> Vec<String> {
    const SQL: &str = "SELECT public_id FROM keys WHERE status <> 'deleted' ORDER BY id LIMIT ";
    let ids = match location {
        Location::File(path) => {
            let conn = rusqlite::Connection::open(path).expect("the store opens");
            let mut stmt = conn
                .prepare(&format!("{SQL}{n}"))
                .expect("the id query prepares");
            stmt.query_map([], |row| row.get::<_, String>(0))
                .expect("the id query runs")
                .collect::<Result<Vec<_>, _>>()
                .expect("the ids read")
        }
        Location::Postgres(target) => target
            .connect()
            .and_then(|mut c| {
                c.batch_execute("SET search_path = keyward, pg_catalog")
                    .and_then(|()| c.query(&format!("{SQL}{n}"), &[]))
                    .map_err(keyward_core::Error::store)
            })
            .expect("the id query runs")
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect(),
    };
    assert_eq!(ids.len(), n, "the store has {n} keys that are not deleted");
    ids
}

/// The keyward binary Cargo built for the benchmarks (release settings).
pub fn keyward_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keyward"))
}

/// The median of some durations, in milliseconds.
pub fn median_ms(mut samples: Vec<std::time::Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
