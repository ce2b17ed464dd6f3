//! Faults of a network engine, at the store's level (issue 15): nothing
//! listening, the connection killed mid-transaction, a statement the server
//! stops, a client killed with SIGKILL while it holds a transaction open.
//! Each is one line with exit 6 that names the server and never a password,
//! and leaves nothing half-written: a change is committed whole or not at
//! all. (A refused login is in pg_rules.rs.)
//!
//! A server stopped and started again under a loop of commands is the
//! test's own (pg_virtualenv), never the shared test server.
//!
//! The SIGKILL test runs its client in a child process: this test binary
//! again, running only the ignored test `held_open_by_a_child_process`,
//! which `HOLD_DB` tells which scratch database to write to.

mod common;

use common::Env;
use common::pg::{PrivateServer, Scratch, server};
use keyward_core::domain::history::{HistoryRecord, Origin};
use keyward_core::error::Error;
use keyward_core::store::Db;
use keyward_core::store::pg::PgStore;
use keyward_core::store::pg::connect::{Surroundings, Target};
use keyward_core::store::sql::SqlValue;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Names the scratch database the child process writes to.
const HOLD_DB: &str = "KEYWARD_TEST_PG_HOLD_DB";

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// A statement in `tx` and the first column of its first row (0 when it
/// has none), its failure as the store reports it.
fn run(tx: &Db, sql: &str, params: &[SqlValue]) -> Result<i64, Error> {
    Ok(tx
        .sql()
        .query_opt(sql, params, |r| r.get::<i64>(0))?
        .unwrap_or(0))
}

/// One change as keyward makes it: a new instance, developer and channel, a
/// key in them, and the history row that records it — five rows, all in
/// `tx`. Always the same rows: a second copy collides with the first (the
/// names are unique, and the history row takes the head's next number).
fn change(tx: &Db) -> Result<(), Error> {
    let instance = run(
        tx,
        "INSERT INTO instances (name, cloud, created_at)
         VALUES ('acme-prod', 'salesforce', 0) RETURNING id",
        &[],
    )?;
    let developer = run(
        tx,
        "INSERT INTO developers (instance_id, name) VALUES ($1, 'Ben') RETURNING id",
        &[SqlValue::Int(instance)],
    )?;
    let channel = run(
        tx,
        "INSERT INTO channels (name) VALUES ('API') RETURNING id",
        &[],
    )?;
    run(
        tx,
        "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id, status,
                           secret_hash, tail, created_at, created_by, changed_at)
         VALUES ('kw_fault', 'fault', $1, $2, $3, 'active', $4, 'abcd', 1, 'ana', 1)",
        &[
            SqlValue::Int(instance),
            SqlValue::Int(developer),
            SqlValue::Int(channel),
            SqlValue::Text(HASH.into()),
        ],
    )?;
    tx.append_history(HistoryRecord {
        seq: 0,
        at: 1_700_000_000,
        action: "created".into(),
        key: Some("kw_fault".into()),
        masked: None,
        subject: Some("fault".into()),
        operator: Some("Ana".into()),
        email: None,
        origin: Origin {
            login: "ana".into(),
            host: "bastion-1".into(),
            ..Origin::default()
        },
        details: "{}".into(),
    })?;
    Ok(())
}

/// How many of `change`'s rows the store holds, and where the chain's head is.
fn rows(scratch: &Scratch) -> (i64, i64, i64, i64, i64, i64) {
    let r = scratch
        .owner()
        .query_one(
            "SELECT (SELECT count(*) FROM instances), (SELECT count(*) FROM developers),
                    (SELECT count(*) FROM channels), (SELECT count(*) FROM keys),
                    (SELECT count(*) FROM history), (SELECT seq FROM history_head)",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
}

const NOTHING: (i64, i64, i64, i64, i64, i64) = (0, 0, 0, 0, 0, 0);
const ONE_CHANGE: (i64, i64, i64, i64, i64, i64) = (1, 1, 1, 1, 1, 1);

/// Checks that `err` is a store fault as an admin should see it: exit 6,
/// one line, naming `target` as keyward shows it, without `password`.
#[track_caller]
fn one_line_exit_6(err: &Error, target: &Target, password: Option<&str>) -> String {
    let text = err.to_string();
    assert_eq!(err.exit_code(), 6, "{text}");
    assert!(!text.contains('\n'), "more than one line: {text}");
    assert!(
        text.contains(&target.shown()),
        "the server ({}) is not named: {text}",
        target.shown()
    );
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        assert!(!text.contains(password), "the password shows: {text}");
    }
    eprintln!("{text}");
    text
}

/// The test server's password, where the environment gives one.
fn env_password() -> Option<String> {
    std::env::var("PGPASSWORD").ok()
}

#[test]
fn nothing_listening_is_refused_at_once() {
    // A port on the loopback address that was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let empty = tempfile::tempdir().unwrap();
    let around = Surroundings {
        socket_dir: PathBuf::from("/nonexistent"),
        ..Surroundings::default()
    };
    for url in [
        format!("postgres://kw:Down-Pw-XYZZY@127.0.0.1:{port}/kw"),
        format!("postgres://kw:Down-Pw-XYZZY@127.0.0.1:{port}/kw?sslmode=verify-full"),
        format!(
            "postgresql://kw:Down-Pw-XYZZY@/kw?host={}&port={port}",
            empty.path().display()
        ),
    ] {
        let target = Target::parse(&url, &around).unwrap();
        let started = Instant::now();
        let err = PgStore::open(&target).err().unwrap();
        let took = started.elapsed();
        let text = one_line_exit_6(&err, &target, Some("Down-Pw-XYZZY"));
        assert!(
            took < Duration::from_secs(3),
            "{url}: refused after {took:?}, near the 10 s connect timeout: {text}"
        );
        assert!(text.contains("nothing is listening"), "{url}: {text}");
    }
}

#[test]
fn something_other_than_postgresql_on_the_port_is_said_to_be_so() {
    // What answers: a web server, a daemon that closes at once, and noise.
    for answer in [
        &b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"[..],
        &b"SSH-2.0-OpenSSH_9.2\r\n"[..],
        &[0u8, 0, 0, 1, 9, 9, 9][..],
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Ok((mut peer, _)) = listener.accept() {
                // The client's whole startup message, then the answer, then
                // the rest until it hangs up: nothing left unread, so the
                // client reads the answer rather than a reset.
                let mut startup = [0u8; 1024];
                let _ = peer.read(&mut startup);
                let _ = peer.write_all(answer);
                let _ = peer.shutdown(std::net::Shutdown::Write);
                let _ = std::io::copy(&mut peer, &mut std::io::sink());
            }
        });
        let url = format!("postgres://kw:Odd-Pw-XYZZY@127.0.0.1:{port}/kw?sslmode=disable");
        let target = Target::parse(&url, &Surroundings::default()).unwrap();
        let err = PgStore::open(&target).err().unwrap();
        let text = one_line_exit_6(&err, &target, Some("Odd-Pw-XYZZY"));
        assert!(
            text.contains("is not a PostgreSQL server"),
            "{answer:?}: {text}"
        );
        server.join().unwrap();
    }
}

#[test]
fn a_connection_killed_mid_write_leaves_nothing_and_the_next_open_works() {
    let Some((scratch, _store)) = Scratch::store() else {
        return;
    };
    let password = env_password();
    let mut killer = scratch.owner();
    // Killed between two statements, and killed with every statement done
    // but before the commit.
    for at_commit in [false, true] {
        let mut store = PgStore::open(&scratch.target).unwrap();
        let err = store
            .write(|tx| {
                change(tx)?;
                let pid = i32::try_from(run(tx, "SELECT pg_backend_pid()", &[])?).unwrap();
                // Waits (up to 10 s) until the backend has exited.
                let gone: bool = killer
                    .query_one("SELECT pg_terminate_backend($1, 10000)", &[&pid])
                    .unwrap()
                    .get(0);
                assert!(gone, "the backend did not end");
                if !at_commit {
                    run(tx, "INSERT INTO channels (name) VALUES ('more')", &[])?;
                }
                Ok(())
            })
            .err()
            .unwrap_or_else(|| panic!("the write succeeded (at_commit {at_commit})"));
        let text = one_line_exit_6(&err, &scratch.target, password.as_deref());
        // Lost at the commit, the client cannot know whether the server
        // committed before it went, and must not say it did not.
        let said = if at_commit {
            "keyward cannot tell which"
        } else {
            "nothing was changed"
        };
        assert!(text.contains(said), "at_commit {at_commit}: {text}");
        assert_eq!(rows(&scratch), NOTHING, "at_commit {at_commit}: {text}");
    }
    // The next open works, and the same change goes in whole.
    let mut store = PgStore::open(&scratch.target).unwrap();
    store.write(change).unwrap();
    assert_eq!(rows(&scratch), ONE_CHANGE);
}

#[test]
fn a_statement_the_server_stops_is_exit_6_and_undone() {
    let Some((scratch, mut store)) = Scratch::store() else {
        return;
    };
    store
        .client()
        .batch_execute("SET statement_timeout = '200ms'")
        .unwrap();
    let err = store
        .write(|tx| {
            change(tx)?;
            run(tx, "SELECT pg_sleep(60)", &[])?;
            Ok(())
        })
        .err()
        .unwrap();
    let text = one_line_exit_6(&err, &scratch.target, env_password().as_deref());
    assert!(text.contains("stopped the statement"), "{text}");
    assert!(text.contains("statement timeout"), "{text}");
    assert_eq!(rows(&scratch), NOTHING, "{text}");
    // The connection is still good, and the change goes in whole.
    store
        .client()
        .batch_execute("RESET statement_timeout")
        .unwrap();
    store.write(change).unwrap();
    assert_eq!(rows(&scratch), ONE_CHANGE);
}

#[test]
fn a_cancel_that_stopped_nothing_never_stops_the_next_transaction() {
    let Some((_scratch, mut store)) = Scratch::store() else {
        return;
    };
    let cancel = store.cancel_handle();
    // A running statement is stopped, and its transaction fails as cancelled.
    let stopper = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        })
    };
    let err = store
        .read(|tx| run(tx, "SELECT pg_sleep(30)", &[]).map(drop))
        .err()
        .unwrap();
    stopper.join().unwrap();
    assert!(err.to_string().contains("stopped the statement"), "{err}");
    // A cancel asked for as the statement it was meant for ended (the screen
    // superseding a list load that had just finished) reaches the server
    // after it: the transactions after it run whole, each time.
    for round in 0..5 {
        cancel.cancel();
        store
            .read(|tx| run(tx, "SELECT 1 FROM pg_sleep(0.3)", &[]).map(drop))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        cancel.cancel();
        store
            .write(|tx| run(tx, "SELECT 1 FROM pg_sleep(0.3)", &[]).map(drop))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
}

/// The child, killed with SIGKILL before it ends.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_client_killed_mid_transaction_leaves_nothing_and_holds_no_lock() {
    let Some((scratch, _store)) = Scratch::store() else {
        return;
    };
    let mut child = Holder(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "held_open_by_a_child_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLD_DB, &scratch.name)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // The child says when its change is written and its transaction open.
    let stdout = child.0.stdout.take().unwrap();
    let mut said = String::new();
    let pid = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            said.push_str(&line);
            said.push('\n');
            // libtest writes the test's name first, on the same line.
            line.split_once("HOLDING ")
                .and_then(|(_, pid)| pid.trim().parse::<i32>().ok())
        })
        .unwrap_or_else(|| panic!("the child ended without holding a transaction:\n{said}"));

    // While it holds it, its rows are invisible and their locks are real: the
    // same change from another session waits, then gives up.
    assert_eq!(rows(&scratch), NOTHING);
    let mut other = PgStore::open(&scratch.target).unwrap();
    other
        .client()
        .batch_execute("SET lock_timeout = '200ms'")
        .unwrap();
    let err = other.write(change).err().unwrap();
    let text = one_line_exit_6(&err, &scratch.target, env_password().as_deref());
    assert!(text.contains("locked by another writer"), "{text}");

    // SIGKILL: the kernel closes the client's socket, the server ends the
    // session and rolls its transaction back.
    child.0.kill().unwrap();
    child.0.wait().unwrap();

    // At once, the same change goes in whole from a fresh connection: the
    // lock timeout is long enough for the server to notice the closed
    // socket, far too short for a lock that is never released.
    let mut fresh = PgStore::open(&scratch.target).unwrap();
    fresh
        .client()
        .batch_execute("SET lock_timeout = '5s'")
        .unwrap();
    fresh.write(change).unwrap();
    assert_eq!(rows(&scratch), ONE_CHANGE);
    let left: i64 = scratch
        .owner()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE pid = $1)
                  + (SELECT count(*) FROM pg_locks WHERE pid = $1)",
            &[&pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        left, 0,
        "the killed client's session or locks are still there"
    );
}

/// The child of the test above: writes `change` in a transaction, says so
/// with its backend's pid and holds the transaction open until killed (or
/// gives up after two minutes, should its parent be gone).
#[test]
#[ignore = "run by a_client_killed_mid_transaction_leaves_nothing_and_holds_no_lock"]
fn held_open_by_a_child_process() {
    let Ok(db) = std::env::var(HOLD_DB) else {
        return;
    };
    let target = server()
        .expect("the parent's server, named by the environment")
        .with_dbname(&db);
    let mut store = PgStore::open(&target).unwrap();
    store
        .write::<()>(|tx| {
            change(tx)?;
            let pid = i32::try_from(run(tx, "SELECT pg_backend_pid()", &[])?).unwrap();
            let mut out = std::io::stdout();
            writeln!(out, "HOLDING {pid}").unwrap();
            out.flush().unwrap();
            std::thread::sleep(Duration::from_secs(120));
            panic!("held for two minutes and never killed");
        })
        .unwrap()
}

/// One `key create` of the loop below, as it ended.
struct Attempt {
    name: String,
    code: i32,
    stderr: String,
    /// While the server was down (stopped, or not yet started again).
    while_down: bool,
}

/// Tells the loops to end when dropped.
struct EndLoops<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for EndLoops<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_server_restarted_under_a_loop_of_commands_loses_nothing_and_serves_again() {
    // A server of the test's own: the shared one serves every other test.
    let Some(server) = PrivateServer::start() else {
        return;
    };
    let target = server.target("kw");
    server
        .target("postgres")
        .connect()
        .unwrap()
        .batch_execute("CREATE DATABASE kw")
        .unwrap();
    let env = Env::at(&target.shown());
    let run = |args: &[&str]| {
        let mut cmd = env.command();
        cmd.envs(&server.vars);
        env.run_with(cmd, args)
    };
    run(&[
        "init",
        "--name",
        "Test Admin",
        "--email",
        "admin@example.org",
    ])
    .expect(0);
    run(&["instance", "add", "acme", "--cloud", "salesforce"]).expect(0);

    // Two admins create keys one after another (each key an integration of
    // its own, so the limit never refuses one) while the server is stopped
    // and started again under them.
    let down = std::sync::atomic::AtomicBool::new(false);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let done = std::sync::Mutex::new(Vec::<Attempt>::new());
    let count = |f: &dyn Fn(&Attempt) -> bool| done.lock().unwrap().iter().filter(|a| f(a)).count();
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !f() {
            assert!(started.elapsed() < Duration::from_secs(60), "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    std::thread::scope(|scope| {
        for admin in 0..2 {
            let (run, down, stop, done) = (&run, &down, &stop, &done);
            scope.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let name = format!("a{admin}-k{i}");
                    let developer = format!("dev-{name}");
                    let was_down = down.load(Ordering::SeqCst);
                    let out = run(&common::key_create(
                        &name,
                        "acme",
                        &developer,
                        "ci",
                        &["--json"],
                    ));
                    done.lock().unwrap().push(Attempt {
                        name,
                        code: out.code,
                        stderr: out.stderr,
                        while_down: was_down || down.load(Ordering::SeqCst),
                    });
                }
            });
        }
        // The loops end with the scope, also when a wait below fails.
        let _end_loops = EndLoops(&stop);
        wait_for("keys are created before the stop", &|| {
            count(&|a| a.code == 0) >= 4
        });
        down.store(true, Ordering::SeqCst);
        server.ctl("stop");
        // Each admin is refused at least once while it is down.
        wait_for("commands are refused while the server is down", &|| {
            (0..2).all(|admin| {
                count(&|a| a.name.starts_with(&format!("a{admin}-")) && a.code == 6 && a.while_down)
                    >= 1
            })
        });
        server.ctl("start");
        down.store(false, Ordering::SeqCst);
        let before = count(&|a| a.code == 0);
        wait_for("keys are created after the start", &|| {
            count(&|a| a.code == 0) >= before + 4
        });
    });

    let done = done.into_inner().unwrap();
    let mut owner = target.connect().unwrap();
    owner
        .batch_execute("SET search_path = keyward, pg_catalog")
        .unwrap();
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    for a in &done {
        let left: Vec<i64> = owner
            .query_one(
                "SELECT (SELECT count(*) FROM keys WHERE name = $1),
                        (SELECT count(*) FROM history h JOIN keys k ON k.public_id = h.key_id
                          WHERE k.name = $1 AND h.action = 'created'),
                        (SELECT count(*) FROM outbox o JOIN keys k ON o.key_ids LIKE '%' || k.public_id || '%'
                          WHERE k.name = $1 AND o.event = 'created')",
                &[&a.name],
            )
            .map(|r| (0..3).map(|i| r.get(i)).collect())
            .unwrap();
        // All of the change (a key, its created row, its notification) or none.
        let whole = match left.as_slice() {
            [0, 0, 0] => false,
            [1, 1, n] if *n >= 1 => true,
            other => panic!("{}: exit {}, left {other:?}: {}", a.name, a.code, a.stderr),
        };
        let what = match a.code {
            0 => {
                assert!(whole, "{}: reported done, but not there", a.name);
                "done"
            }
            6 => {
                assert!(
                    a.stderr.starts_with("keyward: ")
                        && a.stderr.trim_end().lines().count() == 1
                        && !a.stderr.contains("panicked"),
                    "{}: not one line: {:?}",
                    a.name,
                    a.stderr
                );
                assert!(
                    !a.stderr.contains(&server.vars["PGPASSWORD"]),
                    "{}: the password shows: {}",
                    a.name,
                    a.stderr
                );
                // Refused while the server was up is a failure of its own.
                assert!(
                    a.while_down,
                    "{}: exit 6 with the server up: {}",
                    a.name, a.stderr
                );
                if whole {
                    // Only a connection lost at the commit may have committed.
                    assert!(
                        a.stderr.contains("keyward cannot tell which"),
                        "{}: refused, yet its key is there: {}",
                        a.name,
                        a.stderr
                    );
                    "exit 6, committed (lost at the commit)"
                } else {
                    "exit 6, nothing written"
                }
            }
            code => panic!("{}: exit {code}: {}", a.name, a.stderr),
        };
        *tally.entry(what.to_owned()).or_default() += 1;
    }
    let reasons: std::collections::BTreeSet<String> = done
        .iter()
        .filter(|a| a.code == 6)
        .map(|a| a.stderr.trim_end().to_owned())
        .collect();
    for reason in &reasons {
        eprintln!("{reason}");
    }
    // The chain is whole after the restart, and the store serves every command.
    run(&["audit", "verify"]).expect(0);
    run(&["key", "list", "--json"]).expect(0);
    eprintln!("a server restarted under two loops of key create: {tally:?}");
}
