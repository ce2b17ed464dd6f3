//! Random tampering with a copy of a real store's credential history: every
//! mutation that changes, removes, reorders or forges a row is caught by
//! `keyward audit verify`, which names the first row that is not as written;
//! cutting rows off the end is caught by `--expect-head`. The mutations are
//! drawn from a seeded generator, so a failure replays exactly.
//!
//! On PostgreSQL (`KEYWARD_TEST_ENGINE=postgres`) the tamperer is a superuser
//! with the triggers switched off for its session (`session_replication_role
//! = replica`), who changes the store in place; after each mutation the
//! history is put back as it was, and checked to be. A column there takes only
//! values of its type, so the edits that store a value of another type (a
//! BLOB, text in `at`) are SQLite's alone.
//!
//! `KEYWARD_TAMPER_MUTATIONS` (default 200; 90 on PostgreSQL) and `KEYWARD_TAMPER_SEED` run more
//! or other mutations locally.

mod common;

use common::{Env, Run};
use keyward_core::domain::history::{DbSession, HistoryRecord, Origin};
use keyward_core::domain::{KeyToken, PublicId};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The history table's columns, in the order `SELECT *` gives them.
use keyward_core::store::history::HISTORY_COLUMNS as COLUMNS;
/// Columns the schema lets be NULL.
const NULLABLE: [&str; 10] = [
    "key_id",
    "masked",
    "subject",
    "operator",
    "email",
    "sudo_user",
    "ssh_client",
    "tty",
    "db_user",
    "db_client",
];

/// Deterministic pseudo-random numbers (xorshift64), so a run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "{lo}..={hi}");
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit((self.next() % 16) as u32, 16).expect("hex digit"))
            .collect()
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// A store with a realistic history: demo data, then changes of every kind
/// through the command line. The WAL is checkpointed into the file, so copying
/// the file alone copies the whole store.
struct Base {
    env: Env,
    rows: Vec<Vec<Sql>>,
    head: String,
}

fn base_store() -> Base {
    let env = Env::empty();
    env.ok(&["demo", "--keys", "30", "--history", "200"]);
    env.ok(&["instance", "add", "acme", "--cloud", "salesforce"]);
    env.add_operator("mia", "manager");
    let (id, key) = env.create_key("billing sync", "ana", "ci");
    let (other, _) = env.create_key("crm import", "ben", "api");
    env.ok(&["key", "show", &id]);
    env.ok(&["key", "edit", &id, "--name", "billing sync v2"]);
    env.ok(&["key", "teams", &id, &other, "--add", "payments"]);
    env.ok(&["key", "renew", &id, "--grace", "1h", "--json"]);
    env.ok(&["team", "add", "finance"]);
    // A wrong secret for a real key: a verify failure in the history.
    let wrong = KeyToken::generate(&PublicId::parse(&id).expect("id"));
    env.verify(wrong.expose()).expect(1);
    env.verify(&key).expect(0);
    env.ok(&["key", "deactivate", &other, "--yes"]);
    env.ok(&["key", "delete", &other, "--yes"]);
    env.ok(&[
        "developer",
        "remove",
        "ana",
        "--instance",
        "acme",
        "--deactivate-keys",
    ]);

    let rows = if env.on_postgres() {
        pg_rows(&env)
    } else {
        let conn = common::raw_sqlite(&env.db).expect("open the base store");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        let rows = rows_of(&conn);
        drop(conn);
        assert!(
            common::store_files(&env.db).len() == 1,
            "the WAL is gone after the last close"
        );
        rows
    };
    let run = audit_at(&env, &env.db, &[]).expect(0);
    let head = head_of(&run);
    assert_eq!(
        Some(&Sql::Text(head.clone())),
        rows.last().map(|r| &r[14]),
        "the head is the newest row's hash"
    );
    Base { env, rows, head }
}

fn rows_of(conn: &Connection) -> Vec<Vec<Sql>> {
    let mut stmt = conn
        .prepare("SELECT * FROM history ORDER BY seq")
        .expect("select history");
    assert_eq!(stmt.column_names(), COLUMNS, "the history table's columns");
    stmt.query_map([], |r| (0..COLUMNS.len()).map(|i| r.get(i)).collect())
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// The history rows on a server, as [`rows_of`] reads them from a file.
fn pg_rows(env: &Env) -> Vec<Vec<Sql>> {
    let mut c = env.pg_client().expect("a store on PostgreSQL");
    c.query(
        &format!("SELECT {} FROM history ORDER BY seq", COLUMNS.join(", ")),
        &[],
    )
    .expect("the history")
    .iter()
    .map(|r| {
        COLUMNS
            .iter()
            .enumerate()
            .map(|(i, column)| match *column {
                "seq" | "at" => Sql::Integer(r.get(i)),
                _ => r.get::<_, Option<String>>(i).map_or(Sql::Null, Sql::Text),
            })
            .collect()
    })
    .collect()
}

/// `sql` with its `?N` replaced by `params` as SQL literals, for a server.
fn inlined(sql: &str, params: &[Sql]) -> String {
    let mut out = sql.to_owned();
    // ?17 before ?1.
    for (i, p) in params.iter().enumerate().rev() {
        let literal = match p {
            Sql::Null => "NULL".to_owned(),
            Sql::Integer(n) => n.to_string(),
            Sql::Text(t) => format!("'{}'", t.replace('\'', "''")),
            other => panic!("no such value on a server: {other:?}"),
        };
        out = out.replace(&format!("?{}", i + 1), &literal);
    }
    out
}

/// Runs `statements` on the server as a superuser with the history's
/// triggers off, in one transaction; each must change a row.
fn tamper_on_server(env: &Env, what: &str, statements: &[(String, Vec<Sql>)]) {
    let mut c = env.pg_client().expect("a store on PostgreSQL");
    let mut tx = c.transaction().expect("begin");
    tx.batch_execute("SET LOCAL session_replication_role = replica")
        .expect("the triggers off (a superuser)");
    for (statement, params) in statements {
        let sql = inlined(statement, params);
        let changed = tx
            .execute(sql.as_str(), &[])
            .unwrap_or_else(|e| panic!("{what}: {sql}: {e}"));
        assert!(changed > 0, "{what}: {sql} changed nothing");
    }
    tx.commit().expect("commit");
}

/// Puts the server's history back to `rows`, and checks that it is.
fn restore_on_server(env: &Env, rows: &[Vec<Sql>]) {
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    let mut statements = vec![("DELETE FROM history".to_owned(), vec![])];
    for row in rows {
        statements.push((
            format!(
                "INSERT INTO history ({}) VALUES ({})",
                COLUMNS.join(", "),
                marks.join(", ")
            ),
            row.clone(),
        ));
    }
    tamper_on_server(env, "restore", &statements);
    assert!(pg_rows(env) == rows, "the history is not back as it was");
}

/// `keyward audit verify` on the store at `db`, run from `env`'s directory.
fn audit_at(env: &Env, db: &Path, args: &[&str]) -> Run {
    let mut cmd = env.command_without_db();
    cmd.arg("--db").arg(db);
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    env.run_with(cmd, &all)
}

fn head_of(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("head "))
        .unwrap_or_else(|| panic!("no head line: {}", run.stdout))
        .to_owned()
}

/// The row `audit verify` reports (`history row N is not as it was written`).
fn reported_row(out: &str) -> Option<i64> {
    let rest = out.split("TAMPERED: history row ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Draws one mutation of a kind from the rows of the base store; the number
/// says how many of this kind were drawn before.
type MakeMutation = fn(&mut Rng, &[Vec<Sql>], u64) -> Mutation;

/// What one mutation did, and what the audit must say about it.
struct Mutation {
    kind: &'static str,
    /// The sub-kind counted in the report: the column edited, where a row was forged.
    variant: String,
    what: String,
    /// The SQL that makes it, run on the copy with the guard triggers dropped.
    sql: Vec<(String, Vec<Sql>)>,
    verdict: Verdict,
}

enum Verdict {
    /// Exit 1 naming this row, with this in the reason.
    Tampered { row: i64, reason: &'static str },
    /// The chain holds `rows` rows ending in `head`; only the old head shows the loss.
    Truncated { rows: usize, head: String },
}

fn text(v: &Sql) -> Option<&str> {
    match v {
        Sql::Text(s) => Some(s),
        _ => None,
    }
}

fn int(v: &Sql) -> i64 {
    match v {
        Sql::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// A value for `column` different from `old`, in the style an editor of the file
/// might choose: a changed character, another row's value, NULL, another type.
fn other_value(rng: &mut Rng, column: &str, old: &Sql, rows: &[Vec<Sql>]) -> Sql {
    let idx = COLUMNS.iter().position(|c| *c == column).expect("column");
    loop {
        let candidate = match (column, rng.range(0, 4)) {
            ("at", 0) => Sql::Text("yesterday".into()),
            ("at", _) => {
                let delta = rng.range(1, 86_400 * 30) * if rng.next() % 2 == 0 { 1 } else { -1 };
                Sql::Integer(int(old) + delta)
            }
            ("hash", _) => {
                let mut h: Vec<char> = text(old).expect("hash").chars().collect();
                let i = rng.range(0, h.len() as i64 - 1) as usize;
                let d = h[i].to_digit(16).expect("hex");
                h[i] = char::from_digit((d + 1 + (rng.next() % 15) as u32) % 16, 16).expect("hex");
                Sql::Text(h.into_iter().collect())
            }
            (_, 0) if NULLABLE.contains(&column) => Sql::Null,
            (_, 1) => rng.pick(rows)[idx].clone(),
            // The same bytes as a BLOB: TEXT affinity would turn a number back
            // into text, but a BLOB is stored as given.
            (_, 2) => match old {
                Sql::Text(t) => Sql::Blob(t.clone().into_bytes()),
                _ => Sql::Blob(b"forged".to_vec()),
            },
            _ => match old {
                Sql::Text(s) if !s.is_empty() => {
                    let mut chars: Vec<char> = s.chars().collect();
                    let i = rng.range(0, chars.len() as i64 - 1) as usize;
                    chars[i] = if chars[i] == 'Z' { 'Q' } else { 'Z' };
                    Sql::Text(chars.into_iter().collect())
                }
                _ => Sql::Text(format!("forged {}", rng.hex(4))),
            },
        };
        // A server's column takes only values of its type.
        let typed = keyward_core::testing::on_postgres();
        let fits = match &candidate {
            Sql::Blob(_) => false,
            Sql::Text(_) => column != "at",
            _ => true,
        };
        if &candidate != old && (fits || !typed) {
            return candidate;
        }
    }
}

fn edit(rng: &mut Rng, rows: &[Vec<Sql>], turn: u64) -> Mutation {
    let n = rows.len() as i64;
    let k = rng.range(1, n);
    // Columns take turns, so every one is edited.
    let column = COLUMNS[(turn % COLUMNS.len() as u64) as usize];
    if column == "seq" {
        // The row moves past the end: the audit finds a gap where it was.
        return Mutation {
            kind: "edit",
            variant: "seq".into(),
            what: format!("row {k}: seq -> {}", n + 1),
            sql: vec![(
                "UPDATE history SET seq = ?1 WHERE seq = ?2".into(),
                vec![Sql::Integer(n + 1), Sql::Integer(k)],
            )],
            verdict: Verdict::Tampered {
                row: if k < n { k + 1 } else { n + 1 },
                reason: "before it is missing",
            },
        };
    }
    let old = &rows[(k - 1) as usize][COLUMNS.iter().position(|c| *c == column).expect("col")];
    let new = other_value(rng, column, old, rows);
    // A value of a type keyward never writes there is reported as such.
    let wrong_type = match new {
        Sql::Text(_) => column == "at",
        Sql::Blob(_) => true,
        _ => false,
    };
    Mutation {
        kind: "edit",
        variant: format!("{column}{}", if wrong_type { " (type)" } else { "" }),
        what: format!("row {k}: {column} {old:?} -> {new:?}"),
        sql: vec![(
            format!("UPDATE history SET {column} = ?1 WHERE seq = ?2"),
            vec![new, Sql::Integer(k)],
        )],
        verdict: Verdict::Tampered {
            row: k,
            reason: if wrong_type {
                "not of the kinds keyward writes"
            } else {
                "hash does not match"
            },
        },
    }
}

fn delete(rng: &mut Rng, rows: &[Vec<Sql>], _: u64) -> Mutation {
    let n = rows.len() as i64;
    // The newest row alone is a truncation (below).
    let k = if rng.next() % 8 == 0 {
        1
    } else {
        rng.range(1, n - 1)
    };
    Mutation {
        kind: "delete",
        variant: if k == 1 { "first" } else { "inner" }.into(),
        what: format!("row {k} deleted"),
        sql: vec![(
            "DELETE FROM history WHERE seq = ?1".into(),
            vec![Sql::Integer(k)],
        )],
        verdict: Verdict::Tampered {
            row: k + 1,
            reason: "before it is missing",
        },
    }
}

fn swap(rng: &mut Rng, rows: &[Vec<Sql>], _: u64) -> Mutation {
    let n = rows.len() as i64;
    let i = rng.range(1, n - 1);
    let j = if rng.next() % 4 == 0 {
        i + 1
    } else {
        rng.range(i + 1, n)
    };
    let mut sql = Vec::new();
    // Everything but the sequence number changes places, hashes included.
    for (to, from) in [(i, j), (j, i)] {
        let source = &rows[(from - 1) as usize];
        let sets: Vec<String> = COLUMNS[1..]
            .iter()
            .enumerate()
            .map(|(c, name)| format!("{name} = ?{}", c + 1))
            .collect();
        let mut params: Vec<Sql> = source[1..].to_vec();
        params.push(Sql::Integer(to));
        sql.push((
            format!(
                "UPDATE history SET {} WHERE seq = ?{}",
                sets.join(", "),
                COLUMNS.len()
            ),
            params,
        ));
    }
    Mutation {
        kind: "swap",
        variant: if j == i + 1 { "adjacent" } else { "apart" }.into(),
        what: format!("rows {i} and {j} swapped"),
        sql,
        verdict: Verdict::Tampered {
            row: i,
            reason: "hash does not match",
        },
    }
}

fn truncate(rng: &mut Rng, rows: &[Vec<Sql>], _: u64) -> Mutation {
    let n = rows.len() as i64;
    let cut = rng.range(1, 10.min(n - 1));
    let kept = (n - cut) as usize;
    Mutation {
        kind: "truncate",
        variant: if cut == 1 {
            "newest row"
        } else {
            "newest 2-10 rows"
        }
        .into(),
        what: format!("newest {cut} rows deleted"),
        sql: vec![(
            "DELETE FROM history WHERE seq > ?1".into(),
            vec![Sql::Integer(kept as i64)],
        )],
        verdict: Verdict::Truncated {
            rows: kept,
            head: text(&rows[kept - 1][14]).expect("hash").to_owned(),
        },
    }
}

/// The record a row holds, for computing a chain hash as a forger who knows
/// the algorithm would.
fn record_of(row: &[Sql]) -> HistoryRecord {
    let t = |i: usize| text(&row[i]).map(str::to_owned);
    HistoryRecord {
        seq: int(&row[0]),
        at: int(&row[1]),
        action: t(2).expect("action"),
        key: t(3),
        masked: t(4),
        subject: t(5),
        operator: t(6),
        email: t(7),
        origin: Origin {
            login: t(8).expect("login"),
            host: t(9).expect("host"),
            sudo_user: t(10),
            ssh_client: t(11),
            tty: t(12),
            db_session: DbSession::from_columns(t(15), t(16)),
        },
        details: t(13).expect("details"),
    }
}

fn forge(rng: &mut Rng, rows: &[Vec<Sql>], _: u64) -> Mutation {
    let n = rows.len() as i64;
    // Where the forged row goes: appended (n + 1) or pushed in before row k.
    let (at, chained) = match rng.next() % 3 {
        0 => (n + 1, false),
        1 => (rng.range(1, n), false),
        _ => (rng.range(1, n), true),
    };
    let mut row = rng.pick(rows).clone();
    row[0] = Sql::Integer(at);
    row[2] = Sql::Text(
        rng.pick(&["created", "deleted", "operator_added"])
            .to_string(),
    );
    row[5] = Sql::Text(format!("forged {}", rng.hex(6)));
    row[13] = Sql::Text("{\"forged\":true}".into());
    if at > 1 {
        row[1] = rows[(at - 2) as usize][1].clone();
    }
    row[14] = if chained {
        // A correct hash: the forged row itself passes, the one after it cannot.
        let prev = if at == 1 {
            keyward_core::domain::history::GENESIS.to_owned()
        } else {
            text(&rows[(at - 2) as usize][14]).expect("hash").to_owned()
        };
        Sql::Text(record_of(&row).chain_hash(&prev))
    } else {
        Sql::Text(rng.hex(64))
    };
    let mut sql = Vec::new();
    if at <= n {
        sql.push((
            "UPDATE history SET seq = -seq WHERE seq >= ?1".into(),
            vec![Sql::Integer(at)],
        ));
        sql.push((
            "UPDATE history SET seq = 1 - seq WHERE seq < 0".into(),
            vec![],
        ));
    }
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    sql.push((
        format!(
            "INSERT INTO history ({}) VALUES ({})",
            COLUMNS.join(", "),
            marks.join(", ")
        ),
        row,
    ));
    Mutation {
        kind: "forge",
        variant: match (at > n, chained) {
            (true, _) => "appended, made-up hash",
            (false, false) => "inserted, made-up hash",
            (false, true) => "inserted, chained hash",
        }
        .into(),
        what: format!(
            "forged row inserted as row {at} with a {} hash",
            if chained {
                "correctly chained"
            } else {
                "made-up"
            }
        ),
        sql,
        verdict: Verdict::Tampered {
            row: if chained { at + 1 } else { at },
            reason: "hash does not match",
        },
    }
}

/// The SQL of the history's guard triggers, to put back after a forgery.
fn history_triggers(conn: &Connection) -> Vec<String> {
    let mut st = conn
        // The guards a forger drops; the word index's trigger stays and
        // indexes what the forger writes.
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'history'
             AND name IN ('history_no_update', 'history_no_delete', 'history_in_order')",
        )
        .expect("triggers");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .map(|t| t.expect("sql"))
        .collect()
}

/// Copies the base store's file to `copy`, applies the mutation there with the
/// guard triggers dropped, and closes it (which checkpoints its WAL away).
fn apply(base: &Base, copy: &Path, m: &Mutation) {
    if base.env.on_postgres() {
        tamper_on_server(&base.env, &m.what, &m.sql);
        return;
    }
    let base = base.env.db.as_path();
    for file in common::store_files(copy) {
        fs::remove_file(&file).expect("remove the previous copy");
    }
    fs::copy(base, copy).expect("copy the store");
    let mut conn = common::raw_sqlite(copy).expect("open the copy");
    // A careful forger puts the guard triggers back as they were, so only
    // the history itself (and what it says of keys and operators) can tell.
    let triggers = history_triggers(&conn);
    let tx = conn.transaction().expect("begin");
    tx.execute_batch(
        "DROP TRIGGER history_no_update; DROP TRIGGER history_no_delete;
         DROP TRIGGER history_in_order;",
    )
    .expect("drop the guard triggers");
    for (statement, params) in &m.sql {
        let changed = tx
            .execute(statement, rusqlite::params_from_iter(params.iter()))
            .unwrap_or_else(|e| panic!("{}: {statement}: {e}", m.what));
        assert!(changed > 0, "{}: {statement} changed nothing", m.what);
    }
    for t in &triggers {
        tx.execute_batch(t).expect("the trigger back");
    }
    tx.commit().expect("commit");
    drop(conn);
    assert_eq!(common::store_files(copy).len(), 1, "{}", m.what);
}

fn check(copy: &Path, base: &Base, m: &Mutation) {
    match &m.verdict {
        Verdict::Tampered { row, reason } => {
            let run = audit_at(&base.env, copy, &[]);
            assert_eq!(run.code, 1, "{}: {run:?}", m.what);
            assert_eq!(run.stderr, "", "{}", m.what);
            assert_eq!(
                reported_row(&run.stdout),
                Some(*row),
                "{}: should name row {row}: {}",
                m.what,
                run.stdout
            );
            assert!(
                run.stdout.contains(reason),
                "{}: should say {reason:?}: {}",
                m.what,
                run.stdout
            );
            // Whatever the chain says, the head kept elsewhere does not match either.
            audit_at(&base.env, copy, &["--expect-head", &base.head]).expect(1);
        }
        Verdict::Truncated { rows, head } => {
            let run = audit_at(&base.env, copy, &[]);
            if run.code == 1 {
                // The rows cut off said something the store still shows (a
                // key deactivated, an operator added): caught that way.
                assert!(
                    run.stdout
                        .starts_with("TAMPERED: the store disagrees with keyward's schema or with its own history"),
                    "{}: {}",
                    m.what,
                    run.stdout
                );
            } else {
                let run = run.expect(0);
                assert!(
                    run.stdout.contains(&format!("OK: {rows} history rows")),
                    "{}: {}",
                    m.what,
                    run.stdout
                );
                assert_eq!(&head_of(&run), head, "{}", m.what);
            }
            let run = audit_at(&base.env, copy, &["--expect-head", &base.head]).expect(1);
            assert!(
                run.stdout.contains("TAMPERED") && run.stdout.contains(&base.head),
                "{}: {}",
                m.what,
                run.stdout
            );
        }
    }
}

#[test]
fn two_hundred_random_mutations_of_the_history_are_each_caught_at_the_right_row() {
    // A server's mutation is an audit over the network and a put-back: 90
    // there still edit every column.
    let default = if keyward_core::testing::on_postgres() {
        90
    } else {
        200
    };
    let count = env_number("KEYWARD_TAMPER_MUTATIONS", default);
    let seed = env_number("KEYWARD_TAMPER_SEED", 0x5eed_7a3e_u64).max(1);
    let base = base_store();
    assert!(base.rows.len() > 150, "{} rows", base.rows.len());
    // A copy of the file; on a server, the store itself, put back after each.
    let copy = if base.env.on_postgres() {
        base.env.db.clone()
    } else {
        base.env.path("tampered/keyward.db")
    };
    if let Some(dir) = copy.parent().filter(|_| !base.env.on_postgres()) {
        fs::create_dir_all(dir).expect("mkdir");
    }

    let mut rng = Rng(seed);
    let makers: [MakeMutation; 5] = [edit, delete, swap, truncate, forge];
    let mut caught: BTreeMap<&str, u64> = BTreeMap::new();
    let mut variants: BTreeMap<(&str, String), u64> = BTreeMap::new();
    for i in 0..count {
        // Kinds take turns, so every kind is drawn as often.
        let m = makers[(i % 5) as usize](&mut rng, &base.rows, i / 5);
        apply(&base, &copy, &m);
        check(&copy, &base, &m);
        if base.env.on_postgres() {
            restore_on_server(&base.env, &base.rows);
        }
        *caught.entry(m.kind).or_default() += 1;
        *variants.entry((m.kind, m.variant)).or_default() += 1;
    }
    eprintln!(
        "tamper: {count} mutations (seed {seed:#x}) of a {}-row history, all caught: {caught:?}",
        base.rows.len()
    );
    for ((kind, variant), n) in &variants {
        eprintln!("tamper:   {kind:8} {variant:28} {n}");
    }
    if count >= 10 {
        assert_eq!(caught.len(), 5, "{caught:?}");
    }
    if count >= 75 {
        let edited = variants.keys().filter(|(k, _)| *k == "edit");
        let columns: std::collections::BTreeSet<&str> =
            edited.map(|(_, v)| v.trim_end_matches(" (type)")).collect();
        assert_eq!(columns.len(), COLUMNS.len(), "{columns:?}");
        // Every edit of a value's type, where a column can hold another type.
        if !base.env.on_postgres() {
            assert!(
                variants.keys().any(|(_, v)| v.ends_with(" (type)")),
                "{variants:?}"
            );
        }
    }
}

#[test]
fn rewriting_the_chain_from_a_row_on_is_caught_only_by_the_expected_head() {
    // The chain is a plain SHA-256 chain, with no secret key: someone who can
    // write the file and knows the algorithm can change a row and recompute
    // every hash after it, or append a row with a correct hash. A forger who
    // puts the triggers back and changes nothing a key's status or an
    // operator's role depends on leaves no check inside the file to tell;
    // only a head kept elsewhere (`--expect-head`) can.
    let base = base_store();
    let n = base.rows.len();
    let copy = base.env.path("rechained.db");
    for rewrite in ["edit row 5 and rechain", "append a chained row"] {
        let mut rows = base.rows.clone();
        // The host a row came from: a field no key status or operator role
        // depends on, so the store still agrees with its history.
        if rewrite.starts_with("edit") {
            rows[4][9] = Sql::Text("forged".into());
        } else {
            let mut row = rows[n - 1].clone();
            row[0] = Sql::Integer(n as i64 + 1);
            row[9] = Sql::Text("forged".into());
            rows.push(row);
        }
        let mut prev = keyward_core::domain::history::GENESIS.to_owned();
        for row in &mut rows {
            let hash = record_of(row).chain_hash(&prev);
            row[14] = Sql::Text(hash.clone());
            prev = hash;
        }
        if base.env.on_postgres() {
            let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
            let mut statements = vec![("DELETE FROM history".to_owned(), vec![])];
            statements.extend(rows.iter().map(|row| {
                (
                    format!(
                        "INSERT INTO history ({}) VALUES ({})",
                        COLUMNS.join(", "),
                        marks.join(", ")
                    ),
                    row.clone(),
                )
            }));
            // And moves the chain's head to the forged end, as the audit
            // holds the head to the history's newest row.
            let last = rows.last().expect("rows");
            statements.push((
                "UPDATE history_head SET seq = ?1, hash = ?2".to_owned(),
                vec![last[0].clone(), last[14].clone()],
            ));
            tamper_on_server(&base.env, rewrite, &statements);
            let run = audit_at(&base.env, &base.env.db, &[]).expect(0);
            assert!(
                run.stdout.contains("hash chain intact"),
                "{rewrite}: {}",
                run.stdout
            );
            assert_ne!(head_of(&run), base.head, "{rewrite}");
            let run = audit_at(&base.env, &base.env.db, &["--expect-head", &base.head]).expect(1);
            assert!(run.stdout.contains("TAMPERED"), "{rewrite}: {}", run.stdout);
            restore_on_server(&base.env, &base.rows);
            let newest = &base.rows[n - 1];
            tamper_on_server(
                &base.env,
                "the head put back",
                &[(
                    "UPDATE history_head SET seq = ?1, hash = ?2".to_owned(),
                    vec![newest[0].clone(), newest[14].clone()],
                )],
            );
            continue;
        }
        fs::copy(&base.env.db, &copy).expect("copy");
        let mut conn = common::raw_sqlite(&copy).expect("open the copy");
        // A careful forger puts the triggers back as they were.
        let triggers = history_triggers(&conn);
        let tx = conn.transaction().expect("begin");
        tx.execute_batch(
            "DROP TRIGGER history_no_update; DROP TRIGGER history_no_delete;
             DROP TRIGGER history_in_order; DELETE FROM history;",
        )
        .expect("clear");
        for row in &rows {
            tx.execute(
                "INSERT INTO history VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                rusqlite::params_from_iter(row.iter()),
            )
            .expect("insert");
        }
        for t in &triggers {
            tx.execute_batch(t).expect("the trigger back");
        }
        tx.commit().expect("commit");
        drop(conn);
        let run = audit_at(&base.env, &copy, &[]).expect(0);
        assert!(
            run.stdout.contains("hash chain intact"),
            "{rewrite}: {}",
            run.stdout
        );
        assert_ne!(head_of(&run), base.head, "{rewrite}");
        let run = audit_at(&base.env, &copy, &["--expect-head", &base.head]).expect(1);
        assert!(run.stdout.contains("TAMPERED"), "{rewrite}: {}", run.stdout);
        fs::remove_file(&copy).expect("rm");
    }
}
