//! A scratch PostgreSQL database per test, on the server the environment
//! names: `KEYWARD_TEST_PG` (a URL), or the `PG*` variables (`PGHOST` set),
//! as `pg_virtualenv` sets them for `.ci/test`. Without either, a test skips
//! with one visible line — except under CI, where it fails.
#![allow(dead_code)]

use keyward_core::store::pg::PgStore;
use keyward_core::store::pg::connect::{Surroundings, Target};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The test server, as the environment names it.
pub fn server() -> Option<Target> {
    let around = Surroundings::of_process();
    let url = match std::env::var("KEYWARD_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("PGHOST").is_some_and(|h| !h.is_empty()) => "postgres://".into(),
        _ => return None,
    };
    Some(Target::parse(&url, &around).expect("KEYWARD_TEST_PG or the PG variables name a server"))
}

/// A database of its own on the test server, dropped (with the login roles
/// made for it) when the test ends.
pub struct Scratch {
    /// The new database, reached as the server's test role (its owner).
    pub target: Target,
    server: Target,
    pub name: String,
    roles: Vec<String>,
}

impl Scratch {
    /// A new empty database, or `None` when no server is named (the test
    /// returns at once; under CI this fails instead).
    #[track_caller]
    pub fn new() -> Option<Scratch> {
        let Some(server) = server() else {
            super::tools::skip(
                std::panic::Location::caller().file(),
                "no PostgreSQL server (set PGHOST or KEYWARD_TEST_PG; `bash .ci/test` starts one with pg_virtualenv)",
                "no PostgreSQL server, and CI runs every test: .ci/test runs the suite under pg_virtualenv",
            );
            return None;
        };
        let name = format!(
            "kw_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            rand_suffix()
        );
        let mut admin = server.connect().expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the scratch database");
        Some(Scratch {
            target: server.with_dbname(&name),
            server,
            name,
            roles: Vec::new(),
        })
    }

    /// A new empty database with keyward's schema, created as the test role.
    #[track_caller]
    pub fn store() -> Option<(Scratch, PgStore)> {
        let scratch = Scratch::new()?;
        let store = PgStore::create(&scratch.target).expect("create the schema");
        Some((scratch, store))
    }

    /// A plain connection to the scratch database as its owner, with
    /// keyward's schema on the search path.
    pub fn owner(&self) -> postgres::Client {
        let mut c = self.target.connect().expect("connect as the owner");
        c.batch_execute("SET search_path = keyward, pg_catalog")
            .expect("search path");
        c
    }

    /// A login role of its own that is a member of `keyward_app` only, as
    /// docs/POSTGRES.md has a DBA make for each bastion host, reached over TCP.
    pub fn app_login(&mut self) -> Target {
        let role = format!("{}_app{}", self.name, self.roles.len());
        let password = rand_suffix();
        self.owner()
            .batch_execute(&format!(
                "CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE keyward_app"
            ))
            .expect("create the login role");
        self.roles.push(role.clone());
        self.target.with_login(&role, &password)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Ok(mut admin) = self.server.connect() else {
            return;
        };
        let _ = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
        for role in &self.roles {
            let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}
