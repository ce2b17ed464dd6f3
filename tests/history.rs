//! The credential history: read a page at a time and exported, each giving
//! exactly what one full listing gives; filtered by action; append-only in the
//! store itself, with a hash chain that lets `keyward audit verify` prove it
//! untouched or name the first row that is not. The tampering goes straight at
//! the SQLite file, as an attacker with the file would.

mod common;

use common::service::{demo_service, service};
use common::{Env, Run};
use keyward_core::domain::history::HistoryPage;
use keyward_core::domain::query::HistoryQuery;
use rusqlite::Connection;
use rusqlite::types::Value as Sql;

/// A store with a real history: every kind of key action, some teams and instances.
fn busy_store() -> Env {
    let env = Env::with_instance(); // rows 1-3: store_created, operator_added, instance_added
    // Rows 4 and 5: developer ana put on the list, the key; 6 and 7 for ben.
    let (id, key) = env.create_key("billing sync", "ana", "ci");
    env.create_key("crm import", "ben", "api");
    env.ok(&["key", "show", &id]);
    env.ok(&["key", "edit", &id, "--name", "billing sync v2"]);
    env.ok(&["key", "teams", &id, "--add", "payments"]);
    env.ok(&["team", "add", "finance"]);
    env.ok(&["instance", "add", "globex", "--cloud", "servicenow"]);
    let renewed = env.json(&["key", "renew", &id, "--json"]);
    assert_ne!(renewed["key"].as_str(), Some(key.as_str()));
    env.verify(&key).expect(1); // the old secret: a verify failure is recorded
    env.ok(&["key", "deactivate", &id, "--yes"]);
    env.ok(&["key", "delete", &id, "--yes"]);
    assert!(
        history_len(&env) >= 10,
        "a history of {}",
        history_len(&env)
    );
    env
}

fn history_len(env: &Env) -> usize {
    env.json(&["history", "--limit", "0", "--json"])
        .as_array()
        .expect("array")
        .len()
}

fn open(env: &Env) -> Connection {
    common::raw_sqlite(&env.db).expect("open the store with rusqlite")
}

fn sql(env: &Env, statements: &str) {
    open(env)
        .execute_batch(statements)
        .unwrap_or_else(|e| panic!("{statements}: {e}"));
}

/// Every history row, every column, in order.
fn rows(env: &Env) -> Vec<Vec<Sql>> {
    let conn = open(env);
    let mut stmt = conn.prepare("SELECT * FROM history ORDER BY seq").unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn audit(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    env.run(&all)
}

/// The `head <64 hex>` line of a passing audit.
fn head(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("head "))
        .unwrap_or_else(|| panic!("no head line: {}", run.stdout));
    assert_eq!(line.len(), 64, "{line}");
    assert!(
        line.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{line}"
    );
    line.to_owned()
}

/// Whether `out` names history row `n` (and not, say, row 40).
fn names_row(out: &str, n: i64) -> bool {
    let row = format!("row {n}");
    out.match_indices(&row).any(|(i, _)| {
        !out[i + row.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// `audit verify` fails, names row `n`, and says nothing on stderr.
fn assert_tampered_at(env: &Env, n: i64) -> Run {
    let run = audit(env, &[]).expect(1);
    assert!(
        names_row(&run.stdout, n),
        "should name row {n}: {}",
        run.stdout
    );
    assert!(run.stdout.contains("TAMPERED"), "{}", run.stdout);
    assert_eq!(run.stderr, "");
    run
}

/// The hashes are checked in batches on other threads than the walk: a bad
/// row deep in a long history is named, and of two the first, wherever
/// their batches end up.
#[test]
fn the_first_bad_row_of_a_long_history_is_named_whatever_batch_it_is_in() {
    let env = Env::empty();
    env.ok(&["demo", "--keys", "50", "--history", "9000"]);
    let n = history_len(&env) as i64;
    assert!(n > 9000, "{n}");
    let clean = audit(&env, &[]).expect(0);
    assert!(
        clean.stdout.contains(&format!("OK: {n} history rows")),
        "{}",
        clean.stdout
    );
    let forge = |seq: i64| {
        sql(
            &env,
            &format!(
                "DROP TRIGGER IF EXISTS history_no_update;
                 UPDATE history SET details = '{{\"forged\":{seq}}}' WHERE seq = {seq};"
            ),
        )
    };
    forge(n - 1);
    let run = assert_tampered_at(&env, n - 1);
    assert!(
        run.stdout
            .contains(&format!("{} rows before it are intact", n - 2)),
        "{}",
        run.stdout
    );
    forge(6001);
    assert_tampered_at(&env, 6001);
    forge(2049);
    let run = assert_tampered_at(&env, 2049);
    assert!(
        run.stdout.contains("2048 rows before it are intact"),
        "{}",
        run.stdout
    );
}

/// A store whose history was changed is not copied: the copy would verify
/// exactly as badly, with nothing to say the change came before it.
#[test]
fn a_store_that_fails_the_audit_is_not_copied() {
    let env = busy_store();
    let clean = env.path("clean.db");
    let copied = env.ok(&["store", "copy", "--to", clean.to_str().unwrap()]);
    assert!(copied.contains("Copied"), "{copied}");
    sql(
        &env,
        "DROP TRIGGER history_no_update; UPDATE history SET login = 'mallory' WHERE seq = 6;",
    );
    let target = env.path("copy.db");
    let run = env
        .run(&["store", "copy", "--to", target.to_str().unwrap()])
        .expect(5);
    assert!(
        run.stderr.contains("fails `keyward audit verify`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("history row 6"), "{}", run.stderr);
    assert!(!target.exists(), "nothing was made at the target");
}

#[test]
fn audit_verify_on_a_real_history_passes_and_prints_the_row_count_and_head() {
    let env = busy_store();
    let n = history_len(&env);
    let run = audit(&env, &[]).expect(0);
    assert!(
        run.stdout.contains(&format!("{n} history rows")),
        "{n} rows: {}",
        run.stdout
    );
    let head = head(&run);
    // The head is the newest row's hash, as the history shows it.
    let newest = env.json(&["history", "--limit", "1", "--json"]);
    assert_eq!(newest[0]["hash"].as_str(), Some(head.as_str()));
    // Verifying reads only: a second run gives the same answer.
    assert_eq!(audit(&env, &[]).expect(0).stdout, run.stdout);
}

/// Each statement is refused by the store's guard triggers, and nothing changes.
fn assert_refused(statements: &[&str]) {
    let env = busy_store();
    let before = rows(&env);
    let conn = open(&env);
    for statement in statements {
        let err = conn
            .execute(statement, [])
            .expect_err("the store let a history row change or go");
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    drop(conn);
    assert_eq!(rows(&env), before);
    audit(&env, &[]).expect(0);
}

#[test]
fn a_plain_update_of_a_history_row_is_refused_by_the_store() {
    assert_refused(&[
        "UPDATE history SET details = '{\"forged\":true}' WHERE seq = 4",
        "UPDATE history SET login = 'mallory'",
        "UPDATE history SET hash = hash",
    ]);
}

#[test]
fn a_plain_delete_of_a_history_row_is_refused_by_the_store() {
    assert_refused(&[
        "DELETE FROM history WHERE seq = 3",
        "DELETE FROM history WHERE seq = (SELECT MAX(seq) FROM history)",
        "DELETE FROM history",
    ]);
}

#[test]
fn a_row_out_of_sequence_cannot_be_inserted() {
    let env = busy_store();
    let before = rows(&env);
    let err = open(&env)
        .execute(
            "INSERT INTO history (seq, at, action, login, host, details, hash)
             VALUES (1000, 0, 'created', 'x', 'h', '{}', 'x')",
            [],
        )
        .expect_err("a gap in the history");
    assert!(err.to_string().contains("sequence"), "{err}");
    assert_eq!(rows(&env), before);
}

#[test]
fn changing_one_field_of_row_4_is_caught_at_row_4() {
    for change in [
        "details = '{\"instance\":\"acme\",\"forged\":true}'",
        "login = 'mallory'",
        "host = 'elsewhere'",
        "operator = 'Someone Else'",
        "masked = 'kw_forged…0000'",
        "at = at - 3600",
        "action = 'viewed'",
    ] {
        let env = busy_store();
        let before = rows(&env);
        sql(
            &env,
            &format!("DROP TRIGGER history_no_update; UPDATE history SET {change} WHERE seq = 4;"),
        );
        let after = rows(&env);
        assert_ne!(after[3], before[3], "{change} changed nothing");
        assert_eq!(after[..3], before[..3]);
        assert_tampered_at(&env, 4);
    }
}

#[test]
fn a_field_changed_to_another_type_is_still_caught_at_its_row() {
    // SQLite lets a tamperer store text in the integer `at` column; the audit must
    // still give its verdict (exit 1, naming row 4), not fail with a store error.
    let env = busy_store();
    sql(
        &env,
        "DROP TRIGGER history_no_update; UPDATE history SET at = 'yesterday' WHERE seq = 4;",
    );
    assert_tampered_at(&env, 4);
}

#[test]
fn deleting_row_3_is_named_as_missing() {
    let env = busy_store();
    sql(
        &env,
        "DROP TRIGGER history_no_delete; DELETE FROM history WHERE seq = 3;",
    );
    let run = audit(&env, &[]).expect(1);
    assert!(
        names_row(&run.stdout, 3) || names_row(&run.stdout, 4),
        "should name row 3 or 4: {}",
        run.stdout
    );
    assert!(run.stdout.contains("missing"), "{}", run.stdout);
}

#[test]
fn swapping_the_contents_of_two_rows_is_caught_at_the_first() {
    let env = busy_store();
    let before = rows(&env);
    // Everything but the sequence number moves: row 4 gets row 6's contents and hash.
    sql(
        &env,
        "DROP TRIGGER history_no_update;
         CREATE TEMP TABLE pair AS SELECT * FROM history WHERE seq IN (4, 6);
         UPDATE history SET
             (at, action, key_id, masked, subject, operator, email, login, host,
              sudo_user, ssh_client, tty, details, hash) =
             (SELECT at, action, key_id, masked, subject, operator, email, login, host,
                     sudo_user, ssh_client, tty, details, hash
              FROM temp.pair p WHERE p.seq = 10 - history.seq)
         WHERE seq IN (4, 6);",
    );
    let after = rows(&env);
    assert_eq!(after[3][1..], before[5][1..]);
    assert_eq!(after[5][1..], before[3][1..]);
    assert_tampered_at(&env, 4);
}

#[test]
fn a_forged_row_appended_with_a_wrong_hash_is_caught() {
    let env = busy_store();
    let n = history_len(&env) as i64;
    // No trigger is dropped: appending is what keyward itself does.
    sql(
        &env,
        &format!(
            "INSERT INTO history (seq, at, action, key_id, masked, subject, operator, email,
                                  login, host, sudo_user, ssh_client, tty, details, hash)
             SELECT seq + 1, at, 'created', key_id, masked, 'forged key', operator, email,
                    login, host, sudo_user, ssh_client, tty, '{{}}', '{}'
             FROM history WHERE seq = {n};",
            "ab".repeat(32)
        ),
    );
    assert_eq!(history_len(&env) as i64, n + 1);
    assert_tampered_at(&env, n + 1);
}

#[test]
fn cutting_off_the_newest_rows_passes_the_chain_but_not_the_expected_head() {
    let env = busy_store();
    // The newest rows say nothing about a key's status or an operator's role,
    // and the cut puts the trigger back exactly: nothing but the head shows it.
    env.ok(&["team", "add", "cut-one"]);
    env.ok(&["team", "add", "cut-two"]);
    let n = history_len(&env);
    let kept_head = head(&audit(&env, &[]).expect(0));
    let trigger: String = rusqlite::Connection::open(&env.db)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'history_no_delete'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    sql(
        &env,
        &format!(
            "DROP TRIGGER history_no_delete; DELETE FROM history WHERE seq > {}; {trigger};",
            n - 2
        ),
    );
    assert_eq!(history_len(&env), n - 2);
    // What is left is a perfectly good chain: no hash inside the log can show that
    // rows after the last one existed. Only a head kept elsewhere can.
    let run = audit(&env, &[]).expect(0);
    assert!(
        run.stdout.contains(&format!("{} history rows", n - 2)),
        "{}",
        run.stdout
    );
    assert_ne!(head(&run), kept_head);
    let run = audit(&env, &["--expect-head", &kept_head]).expect(1);
    assert!(run.stdout.contains("TAMPERED"), "{}", run.stdout);
    assert!(run.stdout.contains(&kept_head), "{}", run.stdout);
}

#[test]
fn expect_head_with_the_right_head_passes() {
    let env = busy_store();
    let run = audit(&env, &[]).expect(0);
    let head = head(&run);
    let checked = audit(&env, &["--expect-head", &head]).expect(0);
    assert_eq!(checked.stdout, run.stdout);
    // A head kept from before later actions no longer matches.
    env.ok(&["team", "add", "later"]);
    audit(&env, &["--expect-head", &head]).expect(1);
    let newer = head_of(&env);
    assert_ne!(newer, head);
    audit(&env, &["--expect-head", &newer]).expect(0);
    // As copied: upper case, a trailing newline.
    audit(
        &env,
        &["--expect-head", &format!("{}\n", newer.to_uppercase())],
    )
    .expect(0);
}

#[test]
fn a_head_that_is_not_one_is_a_usage_error_not_tampering() {
    let env = busy_store();
    let head = head_of(&env);
    for bad in [
        "0000",
        &head[..63],
        &format!("{}z", &head[..63]),
        "",
        &format!("{head}0"),
    ] {
        let run = audit(&env, &["--expect-head", bad]).expect(2);
        assert!(!run.stdout.contains("TAMPERED"), "{bad:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("64 hexadecimal digits"),
            "{bad:?}: {}",
            run.stderr
        );
    }
}

fn head_of(env: &Env) -> String {
    head(&audit(env, &[]).expect(0))
}

#[test]
fn history_pages_walked_both_ways_give_the_full_history() {
    let (_store, mut service) = demo_service(30, 500);
    for filter in ["", "action:viewed,copied", "-action:viewed"] {
        let query = HistoryQuery::parse(filter).unwrap();
        let all = service.history(&query, None).unwrap();
        let mut down = service
            .history_page(&query, HistoryPage::Newest, 37)
            .unwrap();
        while let Some(last) = down.last().map(|r| r.record.seq) {
            let page = service
                .history_page(&query, HistoryPage::OlderThan(last), 37)
                .unwrap();
            if page.is_empty() {
                break;
            }
            down.extend(page);
        }
        assert_eq!(down, all, "filter {filter:?} walked from the newest");

        let mut up = service
            .history_page(&query, HistoryPage::Oldest, 37)
            .unwrap();
        while let Some(first) = up.first().map(|r| r.record.seq) {
            let mut page = service
                .history_page(&query, HistoryPage::NewerThan(first), 37)
                .unwrap();
            if page.is_empty() {
                break;
            }
            page.extend(up);
            up = page;
        }
        assert_eq!(up, all, "filter {filter:?} walked from the oldest");
    }
}

#[test]
fn export_visits_every_matching_row_newest_first() {
    let (_store, mut service) = demo_service(20, 200);
    let query = HistoryQuery::parse("action:created").unwrap();
    let all = service.history(&query, None).unwrap();
    let mut seen = Vec::new();
    service
        .each_history(&query, None, |row| {
            seen.push(row);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(seen, all);
    assert!(!seen.is_empty());
    let mut newest = Vec::new();
    service
        .each_history(&query, Some(3), |row| {
            newest.push(row);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(newest, all[..3]);
}

#[test]
fn an_unknown_action_in_a_history_filter_is_a_usage_error() {
    let (_store, _clock, mut svc) = service();
    let query = keyward_core::domain::query::HistoryQuery::parse("action:exploded").unwrap();
    let err = svc.history(&query, None).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("teams_changed"), "{err}");
}

/// What a writer of the file could change without touching the chain is
/// caught too: a trigger dropped or added, a key brought back, an operator
/// promoted (the README's 2770 group setup lets any member write the file).
#[test]
fn the_schema_the_statuses_and_the_roles_must_agree_with_keyward_and_the_history() {
    for (label, tamper, says) in [
        (
            "a trigger dropped",
            "DROP TRIGGER history_no_delete;",
            "keyward's trigger history_no_delete is missing",
        ),
        (
            "a trigger added",
            "CREATE TRIGGER mine AFTER INSERT ON teams BEGIN SELECT 1; END;",
            "the trigger mine is not keyward's",
        ),
        (
            "a viewer promoted",
            "UPDATE operators SET role = 'admin' WHERE login = 'viewer1';",
            "operator viewer1 is admin, but the history says viewer",
        ),
        (
            "a key written behind keyward's back",
            "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id, status,
                secret_hash, tail, created_at, created_by, changed_at)
             SELECT 'ZZZZZZZZ', 'planted', instance_id, developer_id, channel_id, 'deactivated',
                secret_hash, tail, created_at, created_by, changed_at FROM keys LIMIT 1;",
            "key kw_ZZZZZZZZ has no `created` row in the history",
        ),
        (
            "an operator added with a made-up history row",
            "INSERT INTO operators (login, name, email, role, created_at)
             VALUES ('mallory', 'M', 'm@example.org', 'admin', 0);
             INSERT INTO history (seq, at, action, subject, login, host, details, hash)
             SELECT MAX(seq) + 1, MAX(at), 'operator_added', 'mallory', 'mallory', 'h', '{}', 'x'
               FROM history;",
            "operator mallory is admin, but the history row that gave their role names none",
        ),
    ] {
        let env = busy_store();
        env.add_operator("viewer1", "viewer");
        audit(&env, &[]).expect(0);
        sql(&env, tamper);
        let run = audit(&env, &[]).expect(1);
        assert!(run.stdout.contains("TAMPERED"), "{label}: {}", run.stdout);
        assert!(run.stdout.contains(says), "{label}: {}", run.stdout);
    }
    // A deactivated key made active again, past its trigger.
    let env = busy_store();
    let (id, _) = env.create_key("revoked", "dev9", "ci");
    env.ok(&["key", "deactivate", &id, "--yes"]);
    // The keys table's triggers: each name and SQL, to drop and put back.
    let triggers: Vec<(String, String)> = {
        let c = rusqlite::Connection::open(&env.db).unwrap();
        let mut st = c
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'keys'",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut script: String = triggers
        .iter()
        .map(|(n, _)| format!("DROP TRIGGER {n};"))
        .collect();
    script.push_str(&format!(
        "UPDATE keys SET status = 'active', deactivated_at = NULL WHERE public_id = '{id}';"
    ));
    for (_, t) in &triggers {
        script.push_str(&format!("{t};"));
    }
    sql(&env, &script);
    let run = audit(&env, &[]).expect(1);
    assert!(
        run.stdout.contains(&format!(
            "key kw_{id} is active, but its history says deactivated"
        )),
        "{}",
        run.stdout
    );
}

/// The sudo user and the SSH address come from the environment, which anyone
/// can set: what no `sudo` or `sshd` among the process's ancestors vouches
/// for is recorded as claimed, in the history and its JSON alike.
#[test]
fn a_sudo_user_or_ssh_address_no_ancestor_vouches_for_is_recorded_as_claimed() {
    let env = Env::with_instance();
    let mut cmd = env.command();
    cmd.env("SUDO_USER", "pat")
        .env("SSH_CLIENT", "198.51.100.7 40000 22");
    env.run_with(cmd, &["team", "add", "from-nowhere"])
        .expect(0);
    let rows = env.json(&["history", "--filter", "action:team_added", "--json"]);
    let row = &rows.as_array().unwrap()[0];
    assert_eq!(row["sudo_user"], "pat (claimed)", "{row}");
    assert_eq!(row["ssh_client"], "198.51.100.7 (claimed)", "{row}");
}
