//! The whole-process and service-level targets of issue 6 on the large store
//! (100 000 keys, 1 000 000 history rows):
//!
//! 1. `key_list`: `keyward key list --filter 'status:active team:payments' --json`
//!    (or the filter of `KEYWARD_BENCH_LIST_FILTER`)
//!    against the very same statement run by the `sqlite3` shell on the same
//!    file, both as whole processes (target: keyward ≤ 1.5× sqlite3).
//! 2. `verify_valid`: `Service::verify` of a valid key against one Argon2id hash
//!    with the same parameters (target ≤ 1.2×), and `keyward verify` whole,
//!    against the hash and against the reference `argon2` command line (when
//!    installed) hashing with the same parameters as a whole process.
//! 3. `verify_malformed`: a malformed key rejected by `keyward verify` (≤ 2 ms).
//! 4. `bulk_teams`: one team added to (or removed from) 10 000 keys in one
//!    transaction through the service (≤ 500 ms), and the whole
//!    `keyward key teams` process with the 10 000 ids in argv beside it.
//! 5. `demo`: `keyward demo --keys 100000 --history 1000000` into a new store
//!    (≤ 60 s); `KEYWARD_BENCH_SKIP_DEMO=1` skips it.
//!
//! Each ratio is of the medians of the individual runs this bench timed
//! (warm-up runs included), printed to stderr when its group ends.

mod support;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use keyward_core::domain::KeyToken;
use keyward_core::domain::query::KeyQuery;
use keyward_core::service::Location;
use keyward_core::service::{NewKeyRequest, TeamChanges, Verdict, secret};
use keyward_core::store::keys::{KeyListing, listing_statement};
use keyward_core::store::sql::{SqlValue, for_postgres};
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The team of the listing target: the demo's first team, on many keys.
const LIST_TEAM: &str = "payments";
/// How many keys the bulk-teams target changes at once.
const BULK_KEYS: usize = 10_000;
/// The team the bulk-teams target adds and removes: new to the store.
const BULK_TEAM: &str = "bench-bulk";
/// A key that fails its checksum.
const MALFORMED: &str = "kw_notakey";

/// Runs `cmd` to completion with `stdin` on its standard input and its
/// standard output thrown away; how long it took and its exit code.
fn run_timed(cmd: &mut Command, stdin: Option<&[u8]>) -> (Duration, Option<i32>) {
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the command starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("the child's standard input");
        pipe.write_all(input).expect("the input written");
    }
    let status = child.wait().expect("the command ends");
    (start.elapsed(), status.code())
}

/// Times `cmd` once per iteration, keeping every run's duration in `samples`.
fn time_runs(
    iters: u64,
    samples: &RefCell<Vec<Duration>>,
    mut cmd: impl FnMut() -> Command,
    stdin: Option<&[u8]>,
    expect_code: i32,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (took, code) = run_timed(&mut cmd(), stdin);
        assert_eq!(code, Some(expect_code), "unexpected exit code");
        samples.borrow_mut().push(took);
        total += took;
    }
    total
}

/// Prints `a / b` of two medians to stderr, with the target beside it (none
/// when `target` is infinite).
fn report_ratio(what: &str, a: &[Duration], b: &[Duration], target: f64) {
    if a.is_empty() || b.is_empty() {
        return;
    }
    let (ma, mb) = (
        support::median_ms(a.to_vec()),
        support::median_ms(b.to_vec()),
    );
    let ratio = ma / mb;
    let verdict = match (target.is_finite(), ratio <= target) {
        (false, _) => "no target".to_owned(),
        (true, true) => format!("target <= {target}x: met"),
        (true, false) => format!("target <= {target}x: MISSED"),
    };
    eprintln!(
        "RATIO {what}: {ma:.3} ms / {mb:.3} ms = {ratio:.3}x ({verdict}; \
         medians of {} and {} runs)",
        a.len(),
        b.len()
    );
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The number of elements of a JSON array printed by a process; `sqlite3 -json`
/// prints nothing at all when no row matches.
fn json_rows(stdout: &[u8], who: &str) -> usize {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        return 0;
    }
    let value: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("{who} printed something that is not JSON: {e}"));
    value
        .as_array()
        .unwrap_or_else(|| panic!("{who} printed JSON that is not an array"))
        .len()
}

fn sqlite3_available() -> bool {
    Command::new("sqlite3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The `psql` program itself. Debian's `/usr/bin/psql` is a Perl wrapper
/// that picks a version and then starts the real one, which adds some 50 ms
/// to every run: `KEYWARD_BENCH_PSQL`, else the one in `pg_config --bindir`,
/// else whatever `psql` is on the PATH.
fn psql_program() -> std::path::PathBuf {
    if let Some(psql) = std::env::var_os("KEYWARD_BENCH_PSQL").filter(|p| !p.is_empty()) {
        return psql.into();
    }
    Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("psql"))
        .filter(|psql| psql.is_file())
        .unwrap_or_else(|| "psql".into())
}

fn psql_available() -> bool {
    Command::new(psql_program())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The statement with its values written in, as the `sqlite3` shell runs it;
/// none when the shell cannot run it (it calls `kw_fold`, keyward's own SQL
/// function for folding case beyond ASCII, which the shell does not have).
fn sqlite_statement(path: &Path, text: &str, params: &[SqlValue]) -> Option<String> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the store opens read-only");
    let mut stmt = match conn.prepare(text) {
        Ok(stmt) => stmt,
        Err(e) => {
            eprintln!(
                "key_list: the sqlite3 shell cannot run keyward's statement ({e}); its half of the comparison is skipped"
            );
            return None;
        }
    };
    for (i, value) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value)
            .expect("a listing parameter binds");
    }
    Some(stmt.expanded_sql().expect("the statement with its values"))
}

/// The statement as keyward sends it to PostgreSQL (`$N` for `?N`, no
/// `INDEXED BY`), with its values written in as literals for `psql`.
fn postgres_statement(text: &str, params: &[SqlValue]) -> String {
    let mut sql = for_postgres(text).into_owned();
    // From the highest number down, so `$1` never eats the start of `$12`.
    for (i, value) in params.iter().enumerate().rev() {
        let literal = match value {
            SqlValue::Null => "NULL".to_owned(),
            SqlValue::Int(n) => n.to_string(),
            SqlValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            SqlValue::Text(t) => format!("'{}'", t.replace('\'', "''")),
        };
        sql = sql.replace(&format!("${}", i + 1), &literal);
    }
    sql
}

/// Target 1: `keyward key list --filter … --json` against the engine's own
/// shell running the same statement — `sqlite3 -json` on a file, `psql` on
/// a server — both as whole processes.
fn key_list(c: &mut Criterion) {
    let store = support::large_store();
    // KEYWARD_BENCH_LIST_FILTER lists other keys (issue 16 compares
    // `status:active,expired`, about half of the store).
    let filter = std::env::var("KEYWARD_BENCH_LIST_FILTER")
        .ok()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| format!("status:active team:{LIST_TEAM}"));
    let keyward = || {
        let mut cmd = Command::new(support::keyward_bin());
        cmd.arg("--db")
            .arg(&store.db)
            .args(["key", "list", "--filter", &filter, "--json"]);
        cmd
    };

    // The statement `keyward key list` runs, with its values in place.
    let query = KeyQuery::parse(&filter).expect("the filter parses");
    let (text, params) = listing_statement(&KeyListing {
        query: &query,
        include_deleted: false,
        now: now_secs(),
        limit: None,
    });
    // The shell, its command for the statement (as an argument: standard
    // input stays empty, as it is for keyward), and how many rows it answers.
    type Shell = (&'static str, Box<dyn Fn() -> Command>, usize);
    let shell: Option<Shell> = match &store.location {
        Location::File(path) => {
            let sql = sqlite_statement(path, &text, &params).unwrap_or_default();
            let runnable = !sql.is_empty();
            let path = path.clone();
            let cmd = move || {
                let mut cmd = Command::new("sqlite3");
                cmd.arg("-json").arg(&path).arg(&sql);
                cmd
            };
            (runnable && sqlite3_available()).then(|| {
                let out = cmd().output().expect("sqlite3 runs");
                assert!(out.status.success(), "sqlite3 failed: {out:?}");
                let rows = json_rows(&out.stdout, "sqlite3");
                ("sqlite3", Box::new(cmd) as Box<dyn Fn() -> Command>, rows)
            })
        }
        Location::Postgres(_) => {
            let sql = postgres_statement(&text, &params);
            eprintln!("key_list: psql runs {sql}");
            let db = store.db.clone();
            let program = psql_program();
            eprintln!("key_list: psql is {}", program.display());
            let psql = move |sql: &str| {
                let mut cmd = Command::new(&program);
                // keyward's tables live in its own schema, as keyward's
                // sessions see them: set at connection, as keyward does.
                cmd.env("PGOPTIONS", "-c search_path=keyward,pg_catalog");
                cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(&db)
                    .arg("-c")
                    .arg(sql);
                cmd
            };
            psql_available().then(|| {
                let counted = format!("SELECT count(*) FROM ({sql}) AS listing");
                let out = psql(&counted).output().expect("psql runs");
                assert!(out.status.success(), "psql failed: {out:?}");
                let rows = String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("psql prints a count");
                let cmd = move || psql(&sql);
                ("psql", Box::new(cmd) as Box<dyn Fn() -> Command>, rows)
            })
        }
    };

    // Both must answer the same rows before their times mean anything.
    let out = keyward().output().expect("keyward runs");
    assert!(out.status.success(), "keyward key list failed: {out:?}");
    let keyward_rows = json_rows(&out.stdout, "keyward");
    eprintln!("key_list: keyward returns {keyward_rows} rows for {filter:?}");
    match &shell {
        Some((name, _, rows)) => assert_eq!(
            keyward_rows, *rows,
            "keyward and {name} disagree on the rows of {filter:?}"
        ),
        None => eprintln!(
            "key_list: no shell to compare with: sqlite3 or psql is not installed \
             (apt-get install sqlite3 postgresql-client), or cannot run the statement (above)"
        ),
    }

    let keyward_samples = RefCell::new(Vec::new());
    let shell_samples = RefCell::new(Vec::new());
    let mut group = c.benchmark_group(store.group("key_list"));
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("keyward", |b| {
        b.iter_custom(|iters| time_runs(iters, &keyward_samples, &keyward, None, 0));
    });
    if let Some((name, cmd, _)) = &shell {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| time_runs(iters, &shell_samples, cmd, None, 0));
        });
    }
    group.finish();
    report_ratio(
        &format!(
            "key_list keyward/{} ({})",
            shell.as_ref().map_or("shell", |s| s.0),
            store.engine()
        ),
        &keyward_samples.borrow(),
        &shell_samples.borrow(),
        1.5,
    );
}

/// Targets 2 and 3: verify of a valid key (service against one Argon2id hash,
/// and the whole process), and of a malformed key (whole process).
fn verify(c: &mut Criterion) {
    let store = support::large_store();
    let scratch = support::copy_of(&store);
    let mut service = support::service(&scratch.location);
    // A developer of its own, so the instance's limit of active keys per
    // integration is never in the way.
    let issued = service
        .create_key(&NewKeyRequest {
            name: "bench verify".to_owned(),
            instance: "acme-prod".to_owned(),
            developer: format!("bench-verify-{}", std::process::id()),
            channel: "bench".to_owned(),
            teams: vec![],
            expires: Some("never".to_owned()),
        })
        .expect("a key for verify");
    let key_id = issued.key.id;
    let token: KeyToken = issued.token;
    assert!(
        matches!(service.verify(&token), Ok(Verdict::Valid(_))),
        "the new key verifies"
    );
    let phc = secret::hash(&token).expect("an Argon2id hash");

    let service_samples = RefCell::new(Vec::new());
    let hash_samples = RefCell::new(Vec::new());
    let mut group = c.benchmark_group(store.group("verify_valid"));
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("service_verify", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let verdict = service.verify(black_box(&token)).expect("verify runs");
                let took = start.elapsed();
                assert!(matches!(verdict, Verdict::Valid(_)), "the key stays valid");
                service_samples.borrow_mut().push(took);
                total += took;
            }
            total
        });
    });
    group.bench_function("argon2id_hash", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                black_box(secret::hash(black_box(&token)).expect("an Argon2id hash"));
                let took = start.elapsed();
                hash_samples.borrow_mut().push(took);
                total += took;
            }
            total
        });
    });
    group.bench_function("argon2id_verify", |b| {
        b.iter(|| assert!(secret::matches(black_box(&token), black_box(&phc))));
    });
    // What verify adds to the hash, alone: its read of the key and its
    // write transaction counting the use (a durable commit, so one fsync).
    let mut store_only =
        keyward_core::store::Store::open_at(&scratch.location).expect("the store opens");
    group.bench_function("store_read_and_use_commit", |b| {
        b.iter(|| {
            let now = now_secs();
            let public_id = token.public_id();
            store_only
                .read(|db| db.key(public_id.as_str(), now))
                .expect("the key reads");
            store_only
                .write(|db| db.record_key_use(key_id, now))
                .expect("the use is counted");
        });
    });
    let keyward = || {
        let mut cmd = Command::new(support::keyward_bin());
        cmd.arg("--db").arg(&scratch.db).arg("verify");
        cmd
    };
    let process_samples = RefCell::new(Vec::new());
    let key = token.expose().as_bytes();
    group.bench_function("keyward_process", |b| {
        b.iter_custom(|iters| time_runs(iters, &process_samples, &keyward, Some(key), 0));
    });
    // One hash as a whole process too: the reference implementation's command
    // line (Debian's `argon2`) with the same parameters, so the process figure
    // has a like-for-like comparison (a new process faults in its 19 MiB).
    let reference = || {
        let mut cmd = Command::new("argon2");
        cmd.args(["keyward-bench-salt", "-id", "-r", "-l", "32", "-p", "1"])
            .args(["-t", &secret::PASSES.to_string()])
            .args(["-k", &secret::MEMORY_KIB.to_string()]);
        cmd
    };
    let reference_samples = RefCell::new(Vec::new());
    let has_reference = reference()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if has_reference {
        group.bench_function("argon2_cli_process", |b| {
            b.iter_custom(|iters| time_runs(iters, &reference_samples, &reference, Some(key), 0));
        });
    } else {
        eprintln!(
            "verify_valid: the argon2 command is not installed (apt-get install argon2); \
             the whole-process hash is skipped"
        );
    }
    group.finish();
    report_ratio(
        "verify_valid service/argon2id_hash",
        &service_samples.borrow(),
        &hash_samples.borrow(),
        1.2,
    );
    report_ratio(
        "verify_valid keyward_process/argon2id_hash",
        &process_samples.borrow(),
        &hash_samples.borrow(),
        f64::INFINITY,
    );
    report_ratio(
        "verify_valid keyward_process/argon2_cli_process",
        &process_samples.borrow(),
        &reference_samples.borrow(),
        1.2,
    );

    // Target 3: the malformed key, refused by its checksum.
    let out = {
        let mut child = keyward()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("keyward verify starts");
        child
            .stdin
            .take()
            .expect("the child's standard input")
            .write_all(MALFORMED.as_bytes())
            .expect("the key written");
        child.wait_with_output().expect("keyward verify ends")
    };
    assert_eq!(out.status.code(), Some(1), "a malformed key exits 1");
    let answer: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("keyward verify prints JSON");
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(answer["reason"], "malformed", "{answer}");
    let malformed_samples = RefCell::new(Vec::new());
    let mut group = c.benchmark_group(store.group("verify_malformed"));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("keyward_process", |b| {
        b.iter_custom(|iters| {
            time_runs(
                iters,
                &malformed_samples,
                &keyward,
                Some(MALFORMED.as_bytes()),
                1,
            )
        });
    });
    group.finish();
    if !malformed_samples.borrow().is_empty() {
        let median = support::median_ms(malformed_samples.take());
        let met = if median <= 2.0 { "met" } else { "MISSED" };
        eprintln!(
            "MEDIAN verify_malformed keyward_process: {median:.3} ms (target <= 2 ms: {met})"
        );
    }
}

/// Target 4: one team on 10 000 keys in one transaction.
fn bulk_teams(c: &mut Criterion) {
    let store = support::large_store();
    let scratch = support::copy_of(&store);
    let ids = support::live_key_ids(&scratch.location, BULK_KEYS);
    let mut service = support::service(&scratch.location);
    // Every iteration changes all the keys: add the team, then remove it, …
    // The two benchmarks share the store, so they share the toggle too.
    let adding = Cell::new(true);
    let changes = || {
        let team = vec![BULK_TEAM.to_owned()];
        let adding = adding.replace(!adding.get());
        if adding {
            TeamChanges {
                add: team,
                remove: vec![],
            }
        } else {
            TeamChanges {
                add: vec![],
                remove: team,
            }
        }
    };
    let service_samples = RefCell::new(Vec::new());
    let process_samples = RefCell::new(Vec::new());
    let mut group = c.benchmark_group(store.group("bulk_teams"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("service_10000_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let changes = changes();
                let start = Instant::now();
                let changed = service
                    .change_teams(black_box(&ids), &changes)
                    .expect("the teams change");
                let took = start.elapsed();
                assert_eq!(changed.len(), ids.len(), "every key changed");
                service_samples.borrow_mut().push(took);
                total += took;
            }
            total
        });
    });
    // The whole process: 10 000 ids in argv, the store opened and closed.
    group.bench_function("keyward_process_10000_keys", |b| {
        b.iter_custom(|iters| {
            let command = || {
                let changes = changes();
                let mut cmd = Command::new(support::keyward_bin());
                cmd.arg("--db").arg(&scratch.db).args(["key", "teams"]);
                for team in &changes.add {
                    cmd.args(["--add", team]);
                }
                for team in &changes.remove {
                    cmd.args(["--remove", team]);
                }
                cmd.args(&ids);
                cmd
            };
            time_runs(iters, &process_samples, command, None, 0)
        });
    });
    group.finish();
    for (what, samples) in [
        ("service_10000_keys", service_samples),
        ("keyward_process_10000_keys", process_samples),
    ] {
        let samples = samples.into_inner();
        if !samples.is_empty() {
            let runs = samples.len();
            let median = support::median_ms(samples);
            let met = if median <= 500.0 { "met" } else { "MISSED" };
            eprintln!(
                "MEDIAN bulk_teams {what} ({}): {median:.1} ms over {runs} runs \
                 (target <= 500 ms: {met})",
                store.engine()
            );
        }
    }
}

/// Target 5: `keyward demo` making the large store from nothing.
fn demo(c: &mut Criterion) {
    if std::env::var_os("KEYWARD_BENCH_SKIP_DEMO").is_some_and(|v| v == "1") {
        eprintln!("demo: skipped (KEYWARD_BENCH_SKIP_DEMO=1)");
        return;
    }
    let keys = std::env::var("KEYWARD_BENCH_KEYS").unwrap_or_else(|_| "100000".to_owned());
    let history = std::env::var("KEYWARD_BENCH_HISTORY").unwrap_or_else(|_| "1000000".to_owned());
    std::fs::create_dir_all(support::bench_dir()).expect("the benchmark directory");
    let mut samples = Vec::new();
    let engine = if support::on_server() { "_pg" } else { "" };
    let mut group = c.benchmark_group(format!("demo{engine}"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    // One run per sample while a run takes 20 s or more: ten runs, not twenty.
    group.measurement_time(Duration::from_secs(200));
    group.bench_function(format!("keyward_{keys}_keys_{history}_history"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let new = support::empty_store();
                let mut cmd = Command::new(support::keyward_bin());
                cmd.arg("--db")
                    .arg(&new.db)
                    .args(["demo", "--keys", &keys, "--history", &history]);
                let (took, code) = run_timed(&mut cmd, None);
                assert_eq!(code, Some(0), "keyward demo failed");
                drop(new);
                samples.push(took);
                total += took;
            }
            total
        });
    });
    group.finish();
    if !samples.is_empty() {
        let median = support::median_ms(samples) / 1000.0;
        let met = if median <= 60.0 { "met" } else { "MISSED" };
        eprintln!("MEDIAN demo keyward_process: {median:.1} s (target <= 60 s: {met})");
    }
}

criterion_group!(benches, key_list, verify, bulk_teams, demo);
criterion_main!(benches);
