//! Drives the real keyward binary against a store in a fresh temporary
//! directory, so every test has its own store and nothing from outside leaks in.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod pg;
pub mod rng;
pub mod service;
pub mod smtp;
pub mod tmux;
pub mod tools;
pub mod x11;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyward");

/// One command's result.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Asserts the exit code, and for a failure that stderr is one `keyward: ` line.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code; stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        if code >= 2 {
            assert!(
                self.stderr.starts_with("keyward: "),
                "stderr: {:?}",
                self.stderr
            );
            assert_eq!(
                self.stderr.trim_end().lines().count(),
                1,
                "stderr: {:?}",
                self.stderr
            );
            assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        }
        self
    }
}

/// A temporary directory with a store path in it — or, when the suite runs
/// on PostgreSQL (`KEYWARD_TEST_ENGINE=postgres`), a scratch database whose
/// URL is `db` (its password, if any, from `PGPASSWORD` or `~/.pgpass`).
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    _pg: Option<keyward_core::testing::PgScratch>,
}

impl Env {
    /// A directory with no store yet.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        if keyward_core::testing::on_postgres() {
            let scratch = keyward_core::testing::PgScratch::create();
            let db = PathBuf::from(scratch.target().shown());
            return Env {
                dir,
                db,
                _pg: Some(scratch),
            };
        }
        let db = dir.path().join("keyward.db");
        Env { dir, db, _pg: None }
    }

    /// A directory of its own for a store at `db` that the test looks after
    /// (a server of its own, say): no store is made there, nor dropped.
    pub fn at(db: &str) -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            db: PathBuf::from(db),
            _pg: None,
        }
    }

    /// Runs `sql` (SQLite's spelling; `?N` are `args`, as text) straight on
    /// the store, as a writer that bypasses keyward would: on the file, or on
    /// the server as the test role. The database's own answer: rows changed,
    /// or its refusal.
    pub fn bypass(&self, sql: &str, args: &[&str]) -> Result<u64, String> {
        match &self._pg {
            None => raw_sqlite(&self.db)
                .and_then(|c| c.execute(sql, rusqlite::params_from_iter(args)))
                .map(|n| n as u64)
                .map_err(|e| e.to_string()),
            Some(scratch) => {
                let mut c = scratch.target().connect().map_err(|e| e.to_string())?;
                c.batch_execute("SET search_path = keyward, pg_catalog")
                    .map_err(|e| e.to_string())?;
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args
                    .iter()
                    .map(|a| a as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                c.execute(
                    keyward_core::store::sql::for_postgres(sql).as_ref(),
                    &params,
                )
                .map_err(|e| {
                    e.as_db_error()
                        .map(|d| d.message().to_owned())
                        .unwrap_or_else(|| e.to_string())
                })
            }
        }
    }

    /// The rows of a query straight on the store (see [`Env::bypass`]),
    /// each column as JSON: a number, a string, a boolean or null.
    pub fn select(&self, sql: &str) -> Vec<Vec<Value>> {
        match &self._pg {
            None => {
                use rusqlite::types::ValueRef;
                let conn = rusqlite::Connection::open(&self.db).expect("open the store");
                let mut stmt = conn.prepare(sql).expect("the query prepares");
                let width = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..width)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                ValueRef::Null => Value::Null,
                                ValueRef::Integer(n) => Value::from(n),
                                ValueRef::Real(x) => Value::from(x),
                                ValueRef::Text(t) | ValueRef::Blob(t) => {
                                    Value::from(String::from_utf8_lossy(t).into_owned())
                                }
                            })
                        })
                        .collect()
                })
                .expect("the query runs")
                .collect::<Result<_, _>>()
                .expect("the rows")
            }
            Some(scratch) => {
                use postgres::types::Type;
                let mut c = scratch.target().connect().expect("connect");
                c.batch_execute("SET search_path = keyward, pg_catalog")
                    .expect("search path");
                let sql = keyward_core::store::sql::for_postgres(sql);
                let rows = c.query(sql.as_ref(), &[]).expect("the query runs");
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| match *r.columns()[i].type_() {
                                Type::INT8 => {
                                    r.get::<_, Option<i64>>(i).map_or(Value::Null, Value::from)
                                }
                                Type::INT4 => {
                                    r.get::<_, Option<i32>>(i).map_or(Value::Null, Value::from)
                                }
                                Type::BOOL => {
                                    r.get::<_, Option<bool>>(i).map_or(Value::Null, Value::from)
                                }
                                _ => r
                                    .get::<_, Option<String>>(i)
                                    .map_or(Value::Null, Value::from),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// A number from a query straight on the store (see [`Env::bypass`]).
    pub fn count(&self, sql: &str) -> i64 {
        match &self._pg {
            None => rusqlite::Connection::open(&self.db)
                .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                .expect("the count"),
            Some(scratch) => {
                let mut c = scratch.target().connect().expect("connect");
                c.batch_execute("SET search_path = keyward, pg_catalog")
                    .expect("search path");
                c.query_one(sql, &[]).expect("the count").get(0)
            }
        }
    }

    /// Whether this env's store is on PostgreSQL: a test of the SQLite file
    /// itself has nothing to look at there (it runs in the SQLite pass).
    pub fn on_postgres(&self) -> bool {
        self._pg.is_some()
    }

    /// The scratch database of a store on PostgreSQL, reached as the
    /// server's test role (a superuser under pg_virtualenv).
    pub fn pg_target(&self) -> Option<keyward_core::store::pg::connect::Target> {
        self._pg.as_ref().map(|scratch| scratch.target())
    }

    /// A plain connection to the scratch database as the test role, with
    /// keyward's schema on the search path; `None` on SQLite.
    pub fn pg_client(&self) -> Option<postgres::Client> {
        let mut c = self
            .pg_target()?
            .connect()
            .expect("connect to the scratch database");
        c.batch_execute("SET search_path = keyward, pg_catalog")
            .expect("search path");
        Some(c)
    }

    /// A store whose admin is the login running the tests.
    pub fn new() -> Env {
        let env = Env::empty();
        env.init().expect(0);
        env
    }

    /// Runs `init` at this env's store path, the login running the tests as admin.
    pub fn init(&self) -> Run {
        self.run(&[
            "init",
            "--name",
            "Test Admin",
            "--email",
            "admin@example.org",
        ])
    }

    /// A store with an instance `acme` (salesforce, limit 2).
    pub fn with_instance() -> Env {
        let env = Env::new();
        env.ok(&["instance", "add", "acme", "--cloud", "salesforce"]);
        env
    }

    /// keyward at this env's store (`--db`).
    pub fn command(&self) -> Command {
        let mut cmd = self.command_without_db();
        cmd.arg("--db").arg(&self.db);
        cmd
    }

    /// keyward with this env's home, data and configuration directories but
    /// no `--db`, to see where it finds a store by itself. The developer's own
    /// configuration (`KEYWARD_CONFIG`, `~/.config`) never leaks in.
    pub fn command_without_db(&self) -> Command {
        self.surround(Command::new(BIN))
    }

    /// As [`Env::command_without_db`], on a host of its own called `host`:
    /// keyward runs in a UTS namespace whose host name is set first, as on
    /// another bastion host. Needs root (`unshare --uts`).
    pub fn command_on_host(&self, host: &str) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--uts",
            "sh",
            "-c",
            r#"hostname "$1" && shift && exec "$@""#,
            "sh",
            host,
            BIN,
        ]);
        self.surround(cmd)
    }

    /// `cmd` with this env's home, data and configuration directories.
    fn surround(&self, mut cmd: Command) -> Command {
        cmd.env_remove("KEYWARD_DB")
            .env_remove("KEYWARD_CONFIG")
            // The host's /etc/keyward/config.toml never reaches a test.
            .env(
                "KEYWARD_SYSTEM_CONFIG",
                self.dir.path().join("etc-keyward.toml"),
            )
            .env_remove("SUDO_USER")
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT")
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, b"")
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        run_command(self.command(), args, stdin)
    }

    /// Runs `cmd` (from `command` or `command_without_db`, with any extra
    /// environment) with `args`.
    pub fn run_with(&self, cmd: Command, args: &[&str]) -> Run {
        run_command(cmd, args, b"")
    }

    /// Runs as another login; only root may (`--as`).
    pub fn run_as(&self, login: &str, args: &[&str]) -> Run {
        let mut all = vec!["--as", login];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).expect(0).stdout
    }

    pub fn json(&self, args: &[&str]) -> Value {
        self.run(args).expect(0).json()
    }

    /// Adds an operator `login` with the given role (an admin's act).
    pub fn add_operator(&self, login: &str, role: &str) {
        let name = format!("{login} name");
        let email = format!("{login}@example.org");
        self.ok(&[
            "operator", "add", login, "--name", &name, "--email", &email, "--role", role,
        ]);
    }

    /// Tries to create a key for `acme`, asserting nothing.
    pub fn try_create(&self, name: &str, developer: &str, channel: &str) -> Run {
        self.try_create_with(name, developer, channel, &[])
    }

    /// As `try_create`, with `more` arguments (`--expires 5d`, `--team ops`).
    pub fn try_create_with(
        &self,
        name: &str,
        developer: &str,
        channel: &str,
        more: &[&str],
    ) -> Run {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(more);
        self.run(&key_create(name, "acme", developer, channel, &with_json))
    }

    /// Creates a key for `acme` and returns (public id, full key).
    pub fn create_key(&self, name: &str, developer: &str, channel: &str) -> (String, String) {
        let v = self.try_create(name, developer, channel).expect(0).json();
        (
            v["id"].as_str().expect("id").to_owned(),
            v["key"].as_str().expect("key").to_owned(),
        )
    }

    pub fn verify(&self, key: &str) -> Run {
        self.run_stdin(&["verify"], format!("{key}\n").as_bytes())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to the file `name` in this env's directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create dir");
        }
        std::fs::write(&path, text).expect("write file");
        // Whatever the umask: keyward refuses configuration files others may
        // change, and a test's file is its owner's alone to change.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .expect("chmod");
        path
    }
}

/// The arguments of `key create`, the one place tests spell them: a key `name`
/// of `instance` for `developer` over `channel`, then `more` (`--json`,
/// `--team ops`, `--expires 5d`). For a command line run some other way than
/// `Env::try_create_with`: as another login, behind `--config`, by a process
/// the test kills, or as one of a list of commands.
pub fn key_create<'a>(
    name: &'a str,
    instance: &'a str,
    developer: &'a str,
    channel: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "key",
        "create",
        "--name",
        name,
        "--instance",
        instance,
        "--developer",
        developer,
        "--channel",
        channel,
    ];
    args.extend_from_slice(more);
    args
}

fn run_command(mut cmd: Command, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyward");
    if let Some(mut input) = child.stdin.take() {
        // A command that does not read its input may close it first.
        let _ = input.write_all(stdin);
    }
    Run::from(child.wait_with_output().expect("wait for keyward"))
}

/// Whether the tests run as root, which `--as` (acting as another login) needs.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skips a test that needs root, saying so.
#[macro_export]
macro_rules! require_root {
    () => {
        if !common::is_root() {
            eprintln!("skipped: needs root to act as other logins with --as");
            return;
        }
    };
}

/// Every file of the store: the database, its WAL and shared memory.
pub fn store_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| {
            let mut p = db.as_os_str().to_owned();
            p.push(s);
            PathBuf::from(p)
        })
        .filter(|p| p.exists())
        .collect()
}

/// The store's file opened straight with SQLite, as a writer who bypasses
/// keyward would, knowing its source: with keyward's case folding defined,
/// which the history's word index calls on each row appended (without it,
/// SQLite refuses the append before any rule of the history is reached).
pub fn raw_sqlite(db: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(db)?;
    keyward_core::store::query_sql::register_fold(&conn)?;
    Ok(conn)
}
