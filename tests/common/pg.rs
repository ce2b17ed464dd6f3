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

/// The URL of `target`'s database over the server's Unix socket, as the OS
/// login running the tests (peer authentication, as a bastion host's local
/// keyward would connect), with that login made a role in `keyward_app` if
/// it is none yet — or why it cannot be had: the server names no socket
/// directory, or is not on this machine (a socket that is not there).
pub fn over_socket(target: &Target) -> Result<String, String> {
    let mut admin = target.connect().map_err(|e| e.to_string())?;
    let dirs: String = admin
        .query_one("SHOW unix_socket_directories", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    let port: String = admin
        .query_one("SHOW port", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    let dir = dirs
        .split(',')
        .map(str::trim)
        .find(|d| !d.is_empty() && !d.starts_with('@'))
        .ok_or_else(|| format!("the server has no socket directory ({dirs:?})"))?
        .to_owned();
    if !std::path::Path::new(&dir)
        .join(format!(".s.PGSQL.{port}"))
        .exists()
    {
        return Err(format!("no socket {dir}/.s.PGSQL.{port} on this machine"));
    }
    let login = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .ok_or("the tests' login has no name")?;
    // Roles are the cluster's: another test may be making the same one.
    let exists = |admin: &mut postgres::Client| -> Result<bool, String> {
        admin
            .query_one(
                "SELECT count(*) FROM pg_roles WHERE rolname = $1",
                &[&login],
            )
            .map(|r| r.get::<_, i64>(0) == 1)
            .map_err(|e| e.to_string())
    };
    if !exists(&mut admin)? {
        let made = admin.batch_execute(&format!("CREATE ROLE \"{login}\" LOGIN"));
        if made.is_err() && !exists(&mut admin)? {
            return Err(format!("cannot make the role {login}: {made:?}"));
        }
    }
    admin
        .batch_execute(&format!("GRANT keyward_app TO \"{login}\""))
        .map_err(|e| e.to_string())?;
    let url = format!(
        "postgres:///{}?host={dir}&port={port}&user={login}",
        target.dbname()
    );
    // Peer authentication, or whatever the server's pg_hba says for its socket.
    Target::parse(&url, &Surroundings::of_process())
        .and_then(|t| t.connect())
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(url)
}

/// A PostgreSQL server of the test's own, which it may stop and start: a
/// throwaway cluster from `pg_virtualenv -t`, removed when this is dropped.
/// Never the shared test server, which other tests use at the same moment.
pub struct PrivateServer {
    /// The `PG*` variables that reach it (host, port, user, password).
    pub vars: std::collections::HashMap<String, String>,
    /// `pg_virtualenv`, which removes the cluster when its command ends.
    virtualenv: std::process::Child,
    /// The command it runs: a `sleep` that ends it when killed.
    sleeper: i32,
    _dir: tempfile::TempDir,
}

impl PrivateServer {
    /// Starts one, or `None` when `pg_virtualenv` is not installed (the
    /// test returns at once; under CI this fails instead).
    #[track_caller]
    pub fn start() -> Option<PrivateServer> {
        if !super::tools::on_path("pg_virtualenv") {
            super::tools::skip(
                std::panic::Location::caller().file(),
                "pg_virtualenv not installed (apt-get install postgresql-common postgresql)",
                "pg_virtualenv is not installed, and CI runs every test: apt-get install postgresql-common postgresql",
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let vars_file = dir.path().join("vars");
        let mut cmd = std::process::Command::new("pg_virtualenv");
        // Its own port, host and password: none of the shared server's.
        for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("PG")) {
            cmd.env_remove(name);
        }
        let virtualenv = cmd
            .args(["-t", "sh", "-c"])
            .arg(r#"env | grep ^PG > "$0.part" && mv "$0.part" "$0" && exec sleep 600"#)
            .arg(&vars_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start pg_virtualenv");
        let mut server = PrivateServer {
            vars: Default::default(),
            virtualenv,
            sleeper: 0,
            _dir: dir,
        };
        let started = std::time::Instant::now();
        while !vars_file.exists() {
            assert!(
                server
                    .virtualenv
                    .try_wait()
                    .expect("pg_virtualenv")
                    .is_none(),
                "pg_virtualenv ended before its server was up"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "pg_virtualenv took two minutes"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server.vars = std::fs::read_to_string(&vars_file)
            .expect("the server's variables")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // The shell became the sleep (exec), a child of pg_virtualenv.
        let children = std::fs::read_to_string(format!(
            "/proc/{pid}/task/{pid}/children",
            pid = server.virtualenv.id()
        ))
        .expect("pg_virtualenv's children");
        server.sleeper = children
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .find(|pid: &i32| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
            .expect("the sleep pg_virtualenv runs");
        Some(server)
    }

    /// The target of database `dbname` on it.
    pub fn target(&self, dbname: &str) -> Target {
        let around = Surroundings {
            vars: self.vars.clone(),
            ..Surroundings::of_process()
        };
        Target::parse("postgres://", &around)
            .expect("the private server")
            .with_dbname(dbname)
    }

    /// `pg_ctlcluster` on it: `stop` (fast: every session is ended and its
    /// transaction rolled back), `start`.
    pub fn ctl(&self, action: &str) {
        let mut cmd = std::process::Command::new("pg_ctlcluster");
        if action == "stop" {
            cmd.args(["--mode", "fast"]);
        }
        let out = cmd
            .envs(&self.vars)
            .args([&self.vars["PGVERSION"], "regress", action])
            .output()
            .expect("run pg_ctlcluster");
        assert!(
            out.status.success(),
            "pg_ctlcluster {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        // The sleep ends, and pg_virtualenv removes the cluster.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.sleeper),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.virtualenv.wait();
    }
}
