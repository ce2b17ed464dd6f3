//! keyward killed with SIGKILL at random moments while it writes: during a
//! `keyward demo` load (one long transaction), during a loop of `key create` and
//! `key renew`, and while `init` or `demo` makes a new store. After every kill
//! the store opens, SQLite finds it intact, the audit passes, no integration is
//! above its limit, every change reported done is there with its history row,
//! and the killed command left either all of its change or none of it.
//!
//! On PostgreSQL (`KEYWARD_TEST_ENGINE=postgres`) the same, with the server's
//! checks for SQLite's: after every kill the killed client's session goes and
//! no session is left holding a lock in the store's database
//! (`pg_stat_activity`, `pg_locks`), and "during the commit" is once the
//! killed client's transaction has written (it has a transaction id). The
//! demo there is smaller (a PostgreSQL demo takes longer), and a new store is
//! keyward's schema made in an empty database.
//!
//! `KEYWARD_CRASH_KILLS` sets the kills of the demo and create/renew tests
//! together (60 by default: two fifths demo, three fifths create/renew); the
//! store-creation test kills a quarter of that number again.
//! The delays are drawn from a seeded generator, scaled by how long an unkilled
//! run of the same command took on this machine.

mod common;

use common::rng::{Rng, count_from_env};
use common::{Env, key_create};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The killed demo's keys and history rows: (on SQLite, on PostgreSQL).
const DEMO_KEYS: (u64, u64) = (3000, 600);
const DEMO_HISTORY: (u64, u64) = (6000, 1200);

/// Of a (SQLite, PostgreSQL) pair, this run's.
fn this_engine(pair: (u64, u64)) -> u64 {
    if keyward_core::testing::on_postgres() {
        pair.1
    } else {
        pair.0
    }
}

/// How long a killed client's session may take to go; one that stays is a
/// failure (on a busy machine the server notices a closed socket at once
/// between statements, and at the end of the statement it is running).
const SESSION_GONE: Duration = Duration::from_secs(30);

fn kills() -> usize {
    count_from_env("KEYWARD_CRASH_KILLS", 60)
}

/// keyward at this env's store with its directories, its history rows tagged
/// `tag` (recorded as the SSH client), as is its session on a server (its
/// application name).
fn command(env: &Env, tag: &str, args: &[&str]) -> Command {
    let mut cmd = env.command_without_db();
    cmd.arg("--db")
        .arg(&env.db)
        .args(args)
        .env("SSH_CONNECTION", format!("{tag} 50000 192.0.2.1 22"))
        .env("PGAPPNAME", tag)
        .env_remove("SSH_CLIENT")
        .env_remove("KEYWARD_TEST_WEAKEN_WRITES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// How a command ended: killed by us, or on its own with its output.
struct Ended {
    killed: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// From the start to the end or the kill.
    took: Duration,
}

/// When to send SIGKILL.
#[derive(Clone, Debug)]
enum Kill {
    Never,
    /// This long after the start.
    After(Duration),
    /// This long after the process starts writing: on SQLite once the store's
    /// WAL file first changes (its commit); on PostgreSQL once its session's
    /// transaction has written (has a transaction id), in the middle of it.
    AtWrite(Duration),
}

/// Whether a write has begun since the watch was set.
enum Watch {
    /// The WAL file's state when the watch was set.
    Wal(PathBuf, Option<(u64, std::time::SystemTime)>),
    /// A connection to the server, and the application name of the session.
    Session(Box<postgres::Client>, String),
}

impl Watch {
    fn new(env: &Env, tag: &str) -> Watch {
        match env.pg_client() {
            Some(client) => Watch::Session(Box::new(client), tag.to_owned()),
            None => {
                let wal = wal_of(&env.db);
                let before = wal_state(&wal);
                Watch::Wal(wal, before)
            }
        }
    }

    fn writing(&mut self) -> bool {
        match self {
            Watch::Wal(wal, before) => {
                let now = wal_state(wal);
                now.is_some() && now != *before
            }
            Watch::Session(client, tag) => {
                client
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity
                      WHERE application_name = $1 AND backend_xid IS NOT NULL",
                        &[tag],
                    )
                    .expect("the sessions")
                    .get::<_, i64>(0)
                    > 0
            }
        }
    }
}

/// The WAL file's length and modification time, when it holds anything.
fn wal_state(wal: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(wal).ok().filter(|m| m.len() > 0)?;
    Some((meta.len(), meta.modified().ok()?))
}

fn wal_of(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Runs keyward with `args` as `tag` (see [`command`]) and kills it as
/// `kill` says, unless it ended before. After a kill on PostgreSQL, waits
/// until the killed client's session is gone and no session holds a lock in
/// the store's database, and fails the test if that does not come.
fn run_and_kill(env: &Env, tag: &str, args: &[&str], kill: Kill) -> Ended {
    let mut watch = matches!(kill, Kill::AtWrite(_)).then(|| Watch::new(env, tag));
    let started = Instant::now();
    let mut child: Child = command(env, tag, args).spawn().expect("spawn keyward");
    let mut deadline = match kill {
        Kill::Never => None,
        Kill::After(delay) => Some(started + delay),
        Kill::AtWrite(..) => None,
    };
    while !matches!(kill, Kill::Never) && child.try_wait().expect("try_wait").is_none() {
        if let (None, Kill::AtWrite(then), Some(watch)) = (deadline, &kill, &mut watch) {
            if watch.writing() {
                deadline = Some(Instant::now() + *then);
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            child.kill().expect("kill keyward");
            break;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let out = child.wait_with_output().expect("wait for keyward");
    let took = started.elapsed();
    let status: ExitStatus = out.status;
    if status.signal() == Some(9) {
        nothing_left_by(env, tag);
    }
    Ended {
        killed: status.signal() == Some(9),
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    }
}

/// How long the unkilled runs of a command took; kills are timed against
/// their median, which one slow run on a busy machine does not move much.
#[derive(Default)]
struct Took(Vec<Duration>);

impl Took {
    fn add(&mut self, d: Duration) {
        self.0.push(d);
        self.0.sort();
    }

    fn typical(&self) -> Duration {
        self.0.get(self.0.len() / 2).copied().unwrap_or_default()
    }
}

/// On PostgreSQL, waits until the session of the client killed as `tag` is
/// gone and no other session holds a lock in the store's database (the test's
/// own checks hold none between their queries); fails if that takes longer
/// than [`SESSION_GONE`].
fn nothing_left_by(env: &Env, tag: &str) {
    let Some(mut client) = env.pg_client() else {
        return;
    };
    let started = Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name = $1),
                        (SELECT count(*) FROM pg_locks l
                           JOIN pg_database d ON d.oid = l.database
                           JOIN pg_stat_activity a ON a.pid = l.pid
                          WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()
                            AND a.backend_type = 'client backend'),
                        (SELECT string_agg(a.application_name || ' ' || a.state || ': ' || a.query, '; ')
                           FROM pg_stat_activity a
                          WHERE a.datname = current_database() AND a.pid <> pg_backend_pid())",
                &[&tag],
            )
            .expect("the sessions and locks");
        let (sessions, locks): (i64, i64) = (row.get(0), row.get(1));
        if sessions == 0 && locks == 0 {
            return;
        }
        assert!(
            started.elapsed() < SESSION_GONE,
            "{tag}: killed, yet after {SESSION_GONE:?} {sessions} session(s) of it and {locks} lock(s) in the store's database are left: {:?}",
            row.get::<_, Option<String>>(2)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What must hold after every kill, whatever the killed process was doing.
fn check_store(env: &Env, label: &str) {
    if !env.on_postgres() {
        let integrity = env.select("PRAGMA integrity_check");
        assert_eq!(integrity, [[Value::from("ok")]], "{label}: integrity_check");
        assert_eq!(
            env.count("SELECT COUNT(*) FROM pragma_foreign_key_check"),
            0,
            "{label}: foreign keys"
        );
    }
    // No integration above its instance's limit among active, unexpired keys.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let over = env.select(&format!(
        "SELECT i.name, k.developer_id, k.channel_id, COUNT(*), i.max_active
           FROM keys k JOIN instances i ON i.id = k.instance_id
          WHERE k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > {now})
          GROUP BY i.name, i.max_active, k.instance_id, k.developer_id, k.channel_id
         HAVING COUNT(*) > i.max_active"
    ));
    assert!(
        over.is_empty(),
        "{label}: integrations above their limit: {over:?}"
    );
    // Every key has exactly one `created` row: no key without its history.
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM keys k LEFT JOIN
               (SELECT key_id, COUNT(*) AS n FROM history WHERE action = 'created' GROUP BY key_id) c
               ON c.key_id = k.public_id WHERE COALESCE(c.n, 0) <> 1"
        ),
        0,
        "{label}: keys without exactly one created row"
    );
    let audit = run_and_kill(env, "check", &["audit", "verify"], Kill::Never);
    assert_eq!(
        audit.code,
        Some(0),
        "{label}: audit verify: {}{}",
        audit.stdout,
        audit.stderr
    );
}

/// The table sizes a demo adds to.
fn sizes(env: &Env) -> [i64; 7] {
    [
        "keys",
        "history",
        "instances",
        "developers",
        "channels",
        "teams",
        "key_teams",
    ]
    .map(|t| env.count(&format!("SELECT COUNT(*) FROM {t}")))
}

/// The numbers of a demo's closing line: "Added N keys (…), I instances, D
/// developers, T teams and H history rows."
fn demo_report(stdout: &str) -> Option<(i64, i64, i64)> {
    let line = stdout.lines().find(|l| l.starts_with("Added "))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let before = |word: &str| -> Option<i64> {
        let i = words
            .iter()
            .position(|w| w.trim_end_matches([',', '.']) == word)?;
        words.get(i.checked_sub(1)?)?.parse().ok()
    };
    Some((
        words.get(1)?.parse().ok()?,
        before("instances")?,
        before("history")?,
    ))
}

#[test]
fn a_killed_demo_leaves_its_whole_transaction_or_nothing() {
    let target = (kills() * 2).div_ceil(5);
    // The demo adds only to a store it made.
    let env = Env::empty();
    env.ok(&["demo", "--keys", "1"]);
    env.ok(&["instance", "add", "acme", "--cloud", "salesforce"]);
    let reported: Vec<(String, String)> = (0..2)
        .map(|i| env.create_key(&format!("before {i}"), "Ana", "ci"))
        .collect();
    let (demo_keys, demo_history) = (this_engine(DEMO_KEYS), this_engine(DEMO_HISTORY));
    let demo = [
        "demo",
        "--keys",
        &demo_keys.to_string(),
        "--history",
        &demo_history.to_string(),
    ]
    .map(str::to_owned);
    let demo: Vec<&str> = demo.iter().map(String::as_str).collect();

    // An unkilled run: how long a whole demo takes here.
    let first = run_and_kill(&env, "demo-0", &demo, Kill::Never);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let mut took = Took::default();
    took.add(first.took);

    let mut rng = Rng::new(0xdead_beef);
    let (mut killed, mut finished) = (0, 0);
    // (when, what it left) of every kill.
    let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut round = 0;
    while killed < target {
        round += 1;
        assert!(round < target * 10, "too few runs were killed");
        let label = format!("demo kill round {round}");
        let before = sizes(&env);
        // Two runs in three at a random moment; one in three during its commit.
        let kill = match rng.below(3) {
            0 => Kill::AtWrite(took.typical().mul_f64(rng.unit() * 0.2)),
            _ => Kill::After(took.typical().mul_f64(rng.unit() * 1.2)),
        };
        let at_write = matches!(kill, Kill::AtWrite(..));
        let tag = format!("demo-{round}");
        let end = run_and_kill(&env, &tag, &demo, kill);
        check_store(&env, &label);
        let after = sizes(&env);
        let delta: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        // All of the transaction or none of it: never some of its keys or rows.
        if delta[0] == 0 {
            assert!(
                delta.iter().all(|&d| d == 0),
                "{label}: no keys added, yet {delta:?} (keys, history, instances, developers, channels, teams, key teams)"
            );
        } else {
            assert_eq!(delta[0], demo_keys as i64, "{label}: {delta:?}");
            assert!(
                delta[1] >= demo_history as i64,
                "{label}: {} history rows for a whole demo",
                delta[1]
            );
        }
        // What the demo reported is exactly what is there.
        if let Some((keys, instances, history)) = demo_report(&end.stdout) {
            assert_eq!(
                (delta[0], delta[2], delta[1]),
                (keys, instances, history),
                "{label}: reported {}",
                end.stdout
            );
        }
        if end.killed {
            killed += 1;
            let when = if at_write {
                "during the commit"
            } else {
                "at a random moment"
            };
            let left = if delta[0] == 0 {
                "nothing"
            } else {
                "the whole demo"
            };
            *tally.entry((when, left)).or_default() += 1;
        } else {
            assert_eq!(end.code, Some(0), "{label}: {}", end.stderr);
            assert_eq!(delta[0], demo_keys as i64, "{label}: reported done");
            finished += 1;
            took.add(end.took);
        }
    }
    // The keys made before the demos are all still there.
    for (id, _) in &reported {
        let n = env.count(&format!(
            "SELECT COUNT(*) FROM keys k JOIN history h ON h.key_id = k.public_id
              WHERE k.public_id = '{id}' AND h.action = 'created'"
        ));
        assert_eq!(n, 1, "key {id} made before the demos");
    }
    eprintln!(
        "demo ({demo_keys} keys, {demo_history} history rows, one transaction; a whole run took {} ms, median): \
         {round} runs, {killed} killed (killed when, left what: {tally:?}), {finished} finished before the kill; \
         checked after each: integrity_check, foreign keys, audit verify, limits, every key's created row, all-or-nothing",
        took.typical().as_millis(),
    );
}

/// A key made by an unkilled `key create`, as the loop knows it.
struct Made {
    id: String,
    /// Its latest secret, unless a killed renew may have replaced it.
    secret: Option<String>,
}

#[test]
fn killed_creates_and_renews_lose_nothing_reported_done() {
    let target = kills() - (kills() * 2).div_ceil(5);
    let env = Env::new();
    env.ok(&["instance", "add", "acme", "--cloud", "salesforce"]);
    let mut rng = Rng::new(0x00c0_ffee);
    let mut made: Vec<Made> = Vec::new();
    // (tag, action, key id) of every change reported done.
    let mut reported: Vec<(String, &str, String)> = Vec::new();
    let mut took = Took::default();
    let (mut rounds, mut killed, mut refused) = (0usize, 0usize, 0usize);
    // (what, when, committed) of every kill.
    let mut tally: BTreeMap<(&str, &str, bool), usize> = BTreeMap::new();
    while killed < target {
        rounds += 1;
        assert!(rounds < target * 10, "too few runs were killed");
        let tag = format!("crash-r{rounds}");
        let label = format!("create/renew round {rounds}");
        // Renew a known key a third of the time; else create, a fifth of the
        // time into one integration, so that the limit refuses some.
        let renew = (!made.is_empty() && rng.below(3) == 0).then(|| rng.below(made.len()));
        let developer = match rng.below(5) {
            0 => "dev0".to_owned(),
            _ => format!("dev{}", 1 + rng.below(60)),
        };
        let channel = ["ci", "api"][rng.below(2)];
        let args: Vec<&str> = match renew {
            Some(i) => vec!["key", "renew", &made[i].id, "--json"],
            None => key_create(&tag, "acme", &developer, channel, &["--json"]),
        };
        let hash_before = renew.map(|i| secret_hash(&env, &made[i].id));
        // Half the runs are not killed (the first ones tell how long a command
        // takes); of the others, half at a random moment, half during the commit.
        let kill = match (rounds > 3, rng.below(4)) {
            (true, 0) => Kill::After(took.typical().mul_f64(rng.unit() * 1.2)),
            // SQLite writes its commit at the end; a server's transaction
            // begins with the first write, and takes round trips to end.
            (true, 1) if env.on_postgres() => {
                Kill::AtWrite(took.typical().mul_f64(rng.unit() * 0.25))
            }
            (true, 1) => Kill::AtWrite(Duration::from_micros(rng.below(2000) as u64)),
            _ => Kill::Never,
        };
        let at_write = matches!(kill, Kill::AtWrite(..));
        let end = run_and_kill(&env, &tag, &args, kill);
        if !end.killed {
            took.add(end.took);
        }
        let mut rows = tagged_rows(&env, &tag);
        // A developer new to the instance is recorded with the key that
        // names them: the two rows together, or neither (a lone one stays
        // and is reported below as a change left half-written).
        if rows.len() > 1 && rows[0].0 == "developer_added" {
            rows.remove(0);
        }
        match (end.killed, end.code) {
            (false, Some(0)) => {
                let v: Value = serde_json::from_str(&end.stdout).expect("--json output");
                let id = v["id"].as_str().expect("id").to_owned();
                let secret = v["key"].as_str().expect("key").to_owned();
                match renew {
                    Some(i) => {
                        made[i].secret = Some(secret);
                        reported.push((tag.clone(), "renewed", id));
                    }
                    None => {
                        made.push(Made {
                            id: id.clone(),
                            secret: Some(secret),
                        });
                        reported.push((tag.clone(), "created", id));
                    }
                }
            }
            (false, Some(5)) if renew.is_none() => {
                assert!(
                    end.stderr.contains("the limit of instance"),
                    "{label}: {}",
                    end.stderr
                );
                assert!(rows.is_empty(), "{label}: refused but wrote {rows:?}");
                refused += 1;
            }
            (false, code) => panic!("{label}: exited {code:?}: {}", end.stderr),
            (true, _) => {
                killed += 1;
                let when = if at_write {
                    "during the commit"
                } else {
                    "at a random moment"
                };
                // All of the change or none of it.
                match renew {
                    None => {
                        let key = key_named(&env, &tag);
                        let outbox = key
                            .as_ref()
                            .map_or(0, |id| outbox_rows(&env, "created", id));
                        let whole = match (&key, rows.as_slice()) {
                            (None, []) => false,
                            (Some(id), [(action, row_key)]) => {
                                assert_eq!((action.as_str(), row_key), ("created", id), "{label}");
                                assert_eq!(outbox, 1, "{label}: the notification of {id}");
                                true
                            }
                            other => panic!("{label}: killed create left {other:?}"),
                        };
                        *tally.entry(("create", when, whole)).or_default() += 1;
                    }
                    Some(i) => {
                        let changed = secret_hash(&env, &made[i].id)
                            != hash_before.clone().unwrap_or_default();
                        let whole = match rows.as_slice() {
                            [] => false,
                            [(action, row_key)] => {
                                assert_eq!(
                                    (action.as_str(), row_key),
                                    ("renewed", &made[i].id),
                                    "{label}"
                                );
                                true
                            }
                            other => panic!("{label}: killed renew left {other:?}"),
                        };
                        assert_eq!(
                            changed, whole,
                            "{label}: secret changed {changed}, renewed row {whole}"
                        );
                        if whole {
                            // Its new secret was never shown: it is lost, as the admin would see.
                            made[i].secret = None;
                        }
                        *tally.entry(("renew", when, whole)).or_default() += 1;
                    }
                }
                check_store(&env, &label);
                // Every change reported done so far is there with its history row.
                let all = all_tagged_rows(&env);
                for (tag, action, id) in &reported {
                    assert!(
                        all.contains(&(tag.clone(), action.to_string(), id.clone())),
                        "{label}: the {action} of {id} reported done by {tag} is missing"
                    );
                }
            }
        }
    }
    check_store(&env, "after the loop");
    // Every secret reported and not replaced since still verifies.
    let mut verified = 0;
    for key in &made {
        if let Some(secret) = &key.secret {
            let out = env.verify(secret);
            assert_eq!(out.code, 0, "key {}: {}{}", key.id, out.stdout, out.stderr);
            verified += 1;
        }
    }
    eprintln!(
        "create/renew: {rounds} commands, {killed} killed (what, when, committed: {tally:?}), \
         {} finished and reported done, {refused} refused by the limit; a command took {} ms (median); \
         after each kill: integrity_check, foreign keys, audit verify, limits, every key's created row and notification, \
         the killed change all or nothing, all {} changes reported done so far present; at the end {verified} reported secrets verified",
        reported.len(),
        took.typical().as_millis(),
        reported.len()
    );
}

fn secret_hash(env: &Env, id: &str) -> String {
    let rows = env.select(&format!(
        "SELECT secret_hash FROM keys WHERE public_id = '{id}'"
    ));
    rows[0][0].as_str().expect("secret hash").to_owned()
}

fn key_named(env: &Env, name: &str) -> Option<String> {
    env.select(&format!("SELECT public_id FROM keys WHERE name = '{name}'"))
        .first()
        .map(|r| r[0].as_str().expect("public id").to_owned())
}

fn outbox_rows(env: &Env, event: &str, id: &str) -> i64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM outbox WHERE event = '{event}' AND key_ids LIKE '%{id}%'"
    ))
}

/// (action, key id) of the history rows written by the command tagged `tag`.
fn tagged_rows(env: &Env, tag: &str) -> Vec<(String, String)> {
    // Not from a real sshd, the address is recorded as claimed.
    env.select(&format!(
        "SELECT action, COALESCE(key_id, '') FROM history
         WHERE ssh_client IN ('{tag}', '{tag} (claimed)') ORDER BY seq"
    ))
    .into_iter()
    .map(|r| (text(&r[0]), text(&r[1])))
    .collect()
}

/// (tag, action, key id) of every history row a tagged command wrote.
fn all_tagged_rows(env: &Env) -> HashSet<(String, String, String)> {
    env.select(
        "SELECT replace(ssh_client, ' (claimed)', ''), action, COALESCE(key_id, '')
         FROM history WHERE ssh_client LIKE 'crash-%'",
    )
    .into_iter()
    .map(|r| (text(&r[0]), text(&r[1]), text(&r[2])))
    .collect()
}

fn text(v: &Value) -> String {
    v.as_str().expect("a text column").to_owned()
}

#[test]
fn a_killed_init_or_first_demo_leaves_a_whole_store_or_none() {
    let target = kills().div_ceil(4);
    let env = Env::empty();
    let mut rng = Rng::new(0x0001_0175);
    let commands: [&[&str]; 2] = [
        &[
            "init",
            "--name",
            "Test Admin",
            "--email",
            "admin@example.org",
        ],
        &["demo", "--keys", "50"],
    ];
    let init = commands[0];
    // How long each takes unkilled.
    let mut took = [Took::default(), Took::default()];
    for _ in 0..3 {
        for (i, args) in commands.iter().enumerate() {
            let end = run_and_kill(&env, "calibrate", args, Kill::Never);
            assert_eq!(end.code, Some(0), "{}", end.stderr);
            took[i].add(end.took);
            remove_store(&env);
        }
    }
    let (mut killed, mut none_left, mut whole_left, mut finished) = (0, 0, 0, 0);
    let mut round = 0;
    while killed < target {
        round += 1;
        assert!(round < target * 10, "too few runs were killed");
        let which = rng.below(2);
        let label = format!("store creation round {round} ({})", commands[which][0]);
        let delay = took[which].typical().mul_f64(rng.unit() * 1.2);
        let end = run_and_kill(
            &env,
            &format!("create-{round}"),
            commands[which],
            Kill::After(delay),
        );
        if end.killed {
            killed += 1;
        } else {
            assert_eq!(end.code, Some(0), "{label}: {}", end.stderr);
            finished += 1;
            took[which].add(end.took);
        }
        if store_exists(&env) {
            // A store is whole: it opens, passes the audit, and has its admin.
            check_store(&env, &label);
            let ops = run_and_kill(&env, "check", &["operator", "list", "--json"], Kill::Never);
            assert_eq!(ops.code, Some(0), "{label}: {}", ops.stderr);
            let ops: Value = serde_json::from_str(&ops.stdout).expect("operators");
            assert!(
                ops.as_array()
                    .is_some_and(|a| a.iter().any(|o| o["role"] == "admin")),
                "{label}: no admin in {ops}"
            );
            let again = run_and_kill(&env, "check", init, Kill::Never);
            assert_eq!(
                again.code,
                Some(5),
                "{label}: init over it: {}",
                again.stderr
            );
            whole_left += usize::from(end.killed);
        } else {
            // No store: nothing stands in the way of making one.
            let again = run_and_kill(&env, "check", init, Kill::Never);
            assert_eq!(
                again.code,
                Some(0),
                "{label}: init after the kill: {}",
                again.stderr
            );
            check_store(&env, &label);
            none_left += 1;
        }
        remove_store(&env);
    }
    // What a killed creation left beside the store goes with the next one.
    let last = run_and_kill(&env, "check", init, Kill::Never);
    assert_eq!(last.code, Some(0), "{}", last.stderr);
    let strays: Vec<String> = std::fs::read_dir(env.dir.path())
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".keyward.db"))
        .collect();
    assert!(strays.is_empty(), "left beside the store: {strays:?}");
    eprintln!(
        "store creation (init {} ms, demo --keys 50 {} ms unkilled, median): {round} runs, {killed} killed \
         ({none_left} left no store, {whole_left} a whole one), {finished} finished before the kill; \
         after each: no store and init works, or a whole store (integrity_check, audit verify, an admin, init refused); no stray file left",
        took[0].typical().as_millis(),
        took[1].typical().as_millis()
    );
}

/// Whether there is a store: its file, or keyward's schema in the database.
fn store_exists(env: &Env) -> bool {
    match env.pg_client() {
        None => env.db.exists(),
        Some(mut c) => {
            c.query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'keyward'",
                &[],
            )
            .expect("the schemas")
            .get::<_, i64>(0)
                == 1
        }
    }
}

/// Removes a store — its file and WAL files, or keyward's schema — to make it again.
fn remove_store(env: &Env) {
    match env.pg_client() {
        None => {
            for file in common::store_files(&env.db) {
                std::fs::remove_file(&file).expect("remove a store file");
            }
        }
        Some(mut c) => c
            .batch_execute("DROP SCHEMA keyward CASCADE")
            .expect("drop keyward's schema"),
    }
}
