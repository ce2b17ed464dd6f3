//! The rules of a PostgreSQL store, held by the database itself under writers
//! on several connections at once (issue 15). Each race runs twice: against
//! the naive triggers — SQLite's, copied as they are, which a test installs
//! here and nowhere else — to show the race is real and the test sees it, and
//! against keyward's schema, which must hold.

mod common;

use common::pg::Scratch;
use keyward_core::domain::history::{DbSession, GENESIS, HistoryRecord, Origin};
use keyward_core::store::pg::PgStore;
use keyward_core::store::pg::schema;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// Long enough for every racer to reach its statement while the first still
/// holds its transaction open.
const HOLD: Duration = Duration::from_millis(300);

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// SQLite's limit trigger, copied to PL/pgSQL as it is: it counts without
/// taking any lock first.
const NAIVE_LIMIT: &str = r#"
CREATE OR REPLACE FUNCTION keyward.keys_integration_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = keyward, pg_catalog AS $$
BEGIN
    IF NEW.status = 'active' AND (NEW.expires_at IS NULL OR NEW.expires_at > NEW.changed_at)
       AND (SELECT count(*) FROM keys k
             WHERE k.instance_id = NEW.instance_id AND k.developer_id = NEW.developer_id
               AND k.channel_id = NEW.channel_id AND k.status = 'active'
               AND (k.expires_at IS NULL OR k.expires_at > NEW.changed_at) AND k.id <> NEW.id)
           >= (SELECT max_active FROM instances WHERE id = NEW.instance_id) THEN
        PERFORM refuse('active key limit reached');
    END IF;
    IF (SELECT retired_at FROM instances WHERE id = NEW.instance_id) IS NOT NULL THEN
        PERFORM refuse('the instance is retired; it takes no new keys');
    END IF;
    RETURN NEW;
END $$;
"#;

/// SQLite's last-admin trigger, copied as it is: it counts without a lock.
const NAIVE_LAST_ADMIN: &str = r#"
CREATE OR REPLACE FUNCTION keyward.operators_keep_an_admin() RETURNS trigger
LANGUAGE plpgsql SET search_path = keyward, pg_catalog AS $$
BEGIN
    IF OLD.role = 'admin' AND (TG_OP = 'DELETE' OR NEW.role <> 'admin')
       AND (SELECT count(*) FROM operators WHERE role = 'admin') <= 1 THEN
        PERFORM refuse('the last admin cannot be removed');
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
"#;

/// A history whose sequence numbers come from a `SEQUENCE` and whose writer
/// chains to the newest row it can see, without the head's lock.
const NAIVE_CHAIN: &str = r#"
DROP TRIGGER history_in_order ON keyward.history;
CREATE SEQUENCE keyward.history_seq;
"#;

/// What the server said, or the client's error where the server said nothing.
fn message(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| e.to_string())
}

/// An instance with a limit of `max_active`, a developer and a channel: one
/// integration. Returns their ids.
fn integration(store: &mut PgStore, max_active: i64) -> (i64, i64, i64) {
    let c = store.client();
    let instance: i64 = c
        .query_one(
            "INSERT INTO instances (name, cloud, max_active, created_at)
             VALUES ('acme-prod', 'salesforce', $1, 0) RETURNING id",
            &[&max_active],
        )
        .unwrap()
        .get(0);
    let developer: i64 = c
        .query_one(
            "INSERT INTO developers (instance_id, name) VALUES ($1, 'Ben') RETURNING id",
            &[&instance],
        )
        .unwrap()
        .get(0);
    let channel: i64 = c
        .query_one(
            "INSERT INTO channels (name) VALUES ('API') RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    (instance, developer, channel)
}

const INSERT_KEY: &str = "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id,
        status, secret_hash, tail, created_at, created_by, changed_at)
     VALUES ($1, $1, $2, $3, $4, 'active', $5, 'abcd', 1, 'ana', 1)";

/// Runs `racers` copies of `race` at once, each on a connection of its own
/// to `scratch`, released together; returns what each one's commit said.
fn race<F>(scratch: &Scratch, racers: usize, race: F) -> Vec<Result<(), String>>
where
    F: Fn(usize, &mut postgres::Client) -> Result<(), postgres::Error> + Send + Sync + 'static,
{
    let race = Arc::new(race);
    let start = Arc::new(Barrier::new(racers));
    let handles: Vec<_> = (0..racers)
        .map(|i| {
            let mut client = scratch.owner();
            let race = race.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                race(i, &mut client).map_err(|e| message(&e))
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn insert_and_hold(
    ids: (i64, i64, i64),
) -> impl Fn(usize, &mut postgres::Client) -> Result<(), postgres::Error> + Send + Sync + 'static {
    move |i, c| {
        let mut tx = c.transaction()?;
        tx.execute(
            INSERT_KEY,
            &[&format!("key-{i}"), &ids.0, &ids.1, &ids.2, &HASH],
        )?;
        thread::sleep(HOLD);
        tx.commit()
    }
}

fn active_keys(scratch: &Scratch) -> i64 {
    scratch
        .owner()
        .query_one("SELECT count(*) FROM keys WHERE status = 'active'", &[])
        .unwrap()
        .get(0)
}

#[test]
fn six_writers_at_once_get_exactly_the_limits_two_active_keys() {
    // The naive trigger: every writer counts before any commits, and all get in.
    let Some((scratch, mut store)) = Scratch::store() else {
        return;
    };
    store.client().batch_execute(NAIVE_LIMIT).unwrap();
    let ids = integration(&mut store, 2);
    let results = race(&scratch, 6, insert_and_hold(ids));
    let naive = active_keys(&scratch);
    eprintln!("naive limit trigger, 6 writers, limit 2: {naive} active keys");
    assert!(
        naive > 2,
        "the naive trigger let {naive} keys in; the race did not happen, so this test proves nothing: {results:?}"
    );

    // keyward's: writers queue on the developer row, and exactly two get in.
    let Some((scratch, mut store)) = Scratch::store() else {
        return;
    };
    let ids = integration(&mut store, 2);
    let results = race(&scratch, 6, insert_and_hold(ids));
    eprintln!(
        "keyward's trigger, 6 writers, limit 2: {} active keys",
        active_keys(&scratch)
    );
    assert_eq!(active_keys(&scratch), 2, "{results:?}");
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused.len(), 4, "{results:?}");
    for message in refused {
        assert_eq!(message, "keyward: active key limit reached");
    }
}

#[test]
fn a_retirement_and_a_new_key_at_once_never_both_land() {
    for naive in [true, false] {
        let Some((scratch, mut store)) = Scratch::store() else {
            return;
        };
        if naive {
            store.client().batch_execute(NAIVE_LIMIT).unwrap();
        }
        let ids = integration(&mut store, 2);
        let results = race(&scratch, 2, move |i, c| {
            let mut tx = c.transaction()?;
            if i == 0 {
                tx.execute(INSERT_KEY, &[&"new", &ids.0, &ids.1, &ids.2, &HASH])?;
            } else {
                tx.execute(
                    "UPDATE instances SET retired_at = 5 WHERE id = $1",
                    &[&ids.0],
                )?;
            }
            thread::sleep(HOLD);
            tx.commit()
        });
        let retired: Option<i64> = scratch
            .owner()
            .query_one("SELECT retired_at FROM instances", &[])
            .unwrap()
            .get(0);
        let both = retired.is_some() && active_keys(&scratch) == 1;
        if naive {
            assert!(both, "the race did not happen: {results:?}");
        } else {
            assert!(!both, "a retired instance holds an active key: {results:?}");
            assert_eq!(
                results.iter().filter(|r| r.is_err()).count(),
                1,
                "{results:?}"
            );
        }
    }
}

#[test]
fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for naive in [true, false] {
        let Some((scratch, mut store)) = Scratch::store() else {
            return;
        };
        if naive {
            store.client().batch_execute(NAIVE_LAST_ADMIN).unwrap();
        }
        // The race is the last admin's; that each change needs its history
        // row is another rule, with a test of its own.
        store
            .client()
            .batch_execute(
                "ALTER TABLE operators DISABLE TRIGGER operators_added_recorded;
                 ALTER TABLE operators DISABLE TRIGGER operators_role_recorded;",
            )
            .unwrap();
        store
            .client()
            .batch_execute(
                "INSERT INTO operators VALUES ('ana', 'Ana', 'ana@example.org', 'admin', 0),
                                              ('bob', 'Bob', 'bob@example.org', 'admin', 0)",
            )
            .unwrap();
        let results = race(&scratch, 2, |i, c| {
            let mut tx = c.transaction()?;
            let login = ["ana", "bob"][i];
            tx.execute(
                "UPDATE operators SET role = 'viewer' WHERE login = $1",
                &[&login],
            )?;
            thread::sleep(HOLD);
            tx.commit()
        });
        let admins: i64 = scratch
            .owner()
            .query_one("SELECT count(*) FROM operators WHERE role = 'admin'", &[])
            .unwrap()
            .get(0);
        if naive {
            assert_eq!(admins, 0, "the race did not happen: {results:?}");
        } else {
            assert_eq!(admins, 1, "{results:?}");
            let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert_eq!(
                refused,
                [&"keyward: the last admin cannot be removed".to_owned()]
            );
        }
    }
}

fn record(i: usize) -> HistoryRecord {
    HistoryRecord {
        seq: 0,
        at: 1_700_000_000 + i as i64,
        action: "created".into(),
        key: Some(format!("k{i}")),
        masked: None,
        subject: Some(format!("key {i}")),
        operator: Some("Ana".into()),
        email: None,
        origin: Origin {
            login: "ana".into(),
            host: format!("bastion-{}", i % 2),
            ..Origin::default()
        },
        details: "{}".into(),
    }
}

/// Reads the whole history and counts the rows whose hash is not their
/// record's hash after the row before; also returns the sequence numbers.
fn broken_links(scratch: &Scratch) -> (usize, Vec<i64>, String) {
    let rows = scratch
        .owner()
        .query(
            "SELECT seq, at, action, key_id, masked, subject, operator, email, login, host,
                    sudo_user, ssh_client, tty, details, db_user, db_client, hash
               FROM history ORDER BY seq",
            &[],
        )
        .unwrap();
    let mut prev = GENESIS.to_owned();
    let mut broken = 0;
    let mut seqs = Vec::new();
    for r in rows {
        let record = HistoryRecord {
            seq: r.get(0),
            at: r.get(1),
            action: r.get(2),
            key: r.get(3),
            masked: r.get(4),
            subject: r.get(5),
            operator: r.get(6),
            email: r.get(7),
            origin: Origin {
                login: r.get(8),
                host: r.get(9),
                sudo_user: r.get(10),
                ssh_client: r.get(11),
                tty: r.get(12),
                db_session: DbSession::from_columns(r.get(14), r.get(15)),
            },
            details: r.get(13),
        };
        let hash: String = r.get(16);
        if record.chain_hash(&prev) != hash {
            broken += 1;
        }
        seqs.push(record.seq);
        prev = hash;
    }
    (broken, seqs, prev)
}

#[test]
fn twelve_appends_at_once_make_one_unbroken_gap_free_chain() {
    const WRITERS: usize = 12;
    // The naive way: a sequence number from a SEQUENCE, chained to the newest
    // row the writer can see. Writers that read before another commits fork.
    let Some((scratch, mut store)) = Scratch::store() else {
        return;
    };
    store.client().batch_execute(NAIVE_CHAIN).unwrap();
    let results = race(&scratch, WRITERS, |i, c| {
        let mut tx = c.transaction()?;
        let newest = tx.query_opt("SELECT hash FROM history ORDER BY seq DESC LIMIT 1", &[])?;
        let prev = newest.map_or_else(|| GENESIS.to_owned(), |r| r.get(0));
        let seq: i64 = tx.query_one("SELECT nextval('history_seq')", &[])?.get(0);
        let mut r = record(i);
        r.seq = seq;
        let hash = r.chain_hash(&prev);
        thread::sleep(HOLD);
        tx.execute(
            "INSERT INTO history (seq, at, action, key_id, subject, operator, login, host,
                                  details, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &r.seq,
                &r.at,
                &r.action,
                &r.key,
                &r.subject,
                &r.operator,
                &r.origin.login,
                &r.origin.host,
                &r.details,
                &hash,
            ],
        )?;
        tx.commit()
    });
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (broken, _, _) = broken_links(&scratch);
    eprintln!("naive chain, {WRITERS} writers: {broken} broken links");
    assert!(
        broken > 0,
        "the naive chain did not fork; the race did not happen, so this test proves nothing"
    );

    // keyward's: each writer locks the head before it hashes.
    let Some((scratch, _store)) = Scratch::store() else {
        return;
    };
    let target = scratch.target.clone();
    let start = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|i| {
            let mut store = PgStore::open(&target).unwrap();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                store.write(|tx| {
                    let head = tx.append_history(record(i))?;
                    thread::sleep(HOLD / 4);
                    Ok(head)
                })
            })
        })
        .collect();
    let heads: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    let (broken, seqs, last) = broken_links(&scratch);
    assert_eq!(broken, 0);
    assert_eq!(seqs, (1..=WRITERS as i64).collect::<Vec<_>>());
    let newest = heads.iter().max_by_key(|h| h.seq).unwrap();
    assert_eq!(newest.hash, last);
    let head: (i64, String) = {
        let row = scratch
            .owner()
            .query_one("SELECT seq, hash FROM history_head", &[])
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(head, (WRITERS as i64, last));
}

#[test]
fn the_database_stamps_each_row_with_the_session_that_wrote_it() {
    let Some((mut scratch, mut store)) = Scratch::store() else {
        return;
    };
    // Over TCP as a login role of keyward_app: the role and a loopback address.
    let app = scratch.app_login();
    let mut as_app = PgStore::open(&app).unwrap();
    let session = as_app.session().clone();
    assert_eq!(session.user, app.user());
    as_app.write(|tx| tx.append_history(record(1))).unwrap();
    // Owner's connection, whatever the test server's transport.
    store.write(|tx| tx.append_history(record(2))).unwrap();
    let rows = scratch
        .owner()
        .query("SELECT db_user, db_client FROM history ORDER BY seq", &[])
        .unwrap();
    let stamps: Vec<(Option<String>, Option<String>)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(stamps[0].0.as_deref(), Some(app.user()));
    assert_eq!(stamps[1].0.as_deref(), Some(store.session().user.as_str()));
    assert_eq!(stamps[1].1, store.session().client);
    assert_eq!(broken_links(&scratch).0, 0);

    // A row claiming another session is refused, whoever writes it.
    let mut c = app.connect().unwrap();
    c.batch_execute("SET search_path = keyward, pg_catalog")
        .unwrap();
    for (user, client) in [("postgres", None), (app.user(), Some("10.9.9.9"))] {
        let mut tx = c.transaction().unwrap();
        tx.query_one("SELECT * FROM history_head_lock()", &[])
            .unwrap();
        let err = tx
            .execute(
                "INSERT INTO history (seq, at, action, login, host, details, db_user, db_client, hash)
                 VALUES (3, 0, 'created', 'ana', 'h', '{}', $1, $2, 'x')",
                &[&user, &client],
            )
            .unwrap_err();
        assert!(
            message(&err).contains("database session that wrote it"),
            "{err:?}"
        );
    }
    // And one out of sequence.
    let mut tx = c.transaction().unwrap();
    let err = tx
        .execute(
            "INSERT INTO history (seq, at, action, login, host, details, db_user, db_client, hash)
             VALUES (7, 0, 'created', 'ana', 'h', '{}', session_user, host(inet_client_addr()), 'x')",
            &[],
        )
        .unwrap_err();
    assert!(message(&err).contains("appended in sequence"), "{err:?}");
}

#[test]
fn history_is_append_only_by_grant_and_by_trigger() {
    let Some((mut scratch, mut store)) = Scratch::store() else {
        return;
    };
    store.write(|tx| tx.append_history(record(1))).unwrap();
    let app = scratch.app_login();
    let mut c = app.connect().unwrap();
    c.batch_execute("SET search_path = keyward, pg_catalog")
        .unwrap();
    // keyward's login roles may not even try.
    for sql in [
        "UPDATE history SET details = '{}'",
        "DELETE FROM history",
        "TRUNCATE history",
        "UPDATE history_head SET seq = 0",
        "UPDATE store_state SET importing = true",
        "DELETE FROM keys",
        "DELETE FROM outbox",
        "ALTER TABLE history DISABLE TRIGGER history_no_update",
        "DROP TRIGGER history_no_delete ON history",
    ] {
        let err = c.batch_execute(sql).unwrap_err();
        let code = err.code().map(|c| c.code().to_owned());
        assert!(matches!(code.as_deref(), Some("42501")), "{sql}: {err:?}");
    }
    // And the owner, who may, is stopped by the triggers.
    let mut owner = scratch.owner();
    for sql in [
        "UPDATE history SET details = '{}'",
        "DELETE FROM history",
        "TRUNCATE history",
        "TRUNCATE keys CASCADE",
        "TRUNCATE outbox",
        "TRUNCATE reminders",
    ] {
        let err = owner.batch_execute(sql).unwrap_err();
        assert!(message(&err).starts_with("keyward: "), "{sql}: {err:?}");
    }
    let (broken, seqs, _) = broken_links(&scratch);
    assert_eq!((broken, seqs), (0, vec![1]));

    // The audit holds the schema to what keyward made: nothing to say of a
    // fresh one, and a grant that lets a login role change the history named.
    assert_eq!(
        store.read(|db| db.disagreements()).unwrap(),
        Vec::<String>::new()
    );
    owner
        .batch_execute(&format!("GRANT UPDATE ON history TO {}", app.user()))
        .unwrap();
    owner
        .batch_execute("ALTER TABLE keys DISABLE TRIGGER keys_final_statuses")
        .unwrap();
    let found = store.read(|db| db.disagreements()).unwrap();
    assert!(
        found
            .iter()
            .any(|d| d.starts_with(&format!("{} may UPDATE history", app.user()))),
        "{found:?}"
    );
    assert!(
        found.contains(&"the trigger keys_final_statuses is disabled".to_owned()),
        "{found:?}"
    );

    // A superuser with the triggers off cuts the newest row: the head still
    // names it, and the audit says so without being told the head.
    store.write(|tx| tx.append_history(record(2))).unwrap();
    owner
        .batch_execute(
            "SET session_replication_role = replica;
             DELETE FROM history WHERE seq = 2;
             SET session_replication_role = origin;",
        )
        .unwrap();
    let found = store.read(|db| db.disagreements()).unwrap();
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("the chain's head names row 2, but the history ends at row 1")),
        "{found:?}"
    );
}

#[test]
fn final_statuses_and_kept_keys_hold_as_in_sqlite() {
    let Some((scratch, mut store)) = Scratch::store() else {
        return;
    };
    let ids = integration(&mut store, 2);
    let c = store.client();
    c.execute(INSERT_KEY, &[&"a", &ids.0, &ids.1, &ids.2, &HASH])
        .unwrap();
    c.batch_execute("UPDATE keys SET status = 'deactivated' WHERE public_id = 'a'")
        .unwrap();
    let refused = |c: &mut postgres::Client, sql: &str, what: &str| {
        let err = c.batch_execute(sql).unwrap_err();
        assert_eq!(message(&err), what, "{sql}");
    };
    refused(
        c,
        "UPDATE keys SET status = 'active' WHERE public_id = 'a'",
        "keyward: a deactivated key cannot be reactivated",
    );
    c.batch_execute("UPDATE keys SET status = 'deleted' WHERE public_id = 'a'")
        .unwrap();
    refused(
        c,
        "UPDATE keys SET name = 'b' WHERE public_id = 'a'",
        "keyward: a deleted key cannot change",
    );
    refused(
        c,
        "DELETE FROM keys",
        "keyward: keys are never erased; delete marks them deleted",
    );
    // A developer of another instance.
    let other: i64 = c
        .query_one(
            "INSERT INTO instances (name, cloud, created_at) VALUES ('other', 'm365', 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let err = c
        .execute(INSERT_KEY, &[&"c", &other, &ids.1, &ids.2, &HASH])
        .unwrap_err();
    assert!(message(&err).contains("another instance"), "{err:?}");
    let _ = scratch;
}

#[test]
fn a_login_role_changes_a_secret_or_a_role_only_with_its_history_row() {
    let Some((mut scratch, mut store)) = Scratch::store() else {
        return;
    };
    let ids = integration(&mut store, 2);
    store
        .client()
        .execute(INSERT_KEY, &[&"k1", &ids.0, &ids.1, &ids.2, &HASH])
        .unwrap();
    let app = scratch.app_login();
    let mut c = app.connect().unwrap();
    c.batch_execute("SET search_path = keyward, pg_catalog")
        .unwrap();
    let other_hash = HASH.replace("c2FsdHNhbHQ", "b3RoZXJzYWx0");
    assert_ne!(other_hash, HASH);
    // Each change on its own: refused at commit, nothing of it kept.
    for (sql, what) in [
        (
            format!("UPDATE keys SET secret_hash = '{other_hash}' WHERE public_id = 'k1'"),
            "keyward: a key's secret changes only with its renewed row in the history",
        ),
        (
            format!(
                "UPDATE keys SET grace_hash = '{other_hash}', grace_until = 9 WHERE public_id = 'k1'"
            ),
            "keyward: a key's secret changes only with its renewed row in the history",
        ),
        (
            "INSERT INTO operators (login, name, email, role, created_at)
             VALUES ('mallory', 'M', 'm@example.org', 'admin', 0)"
                .to_owned(),
            "keyward: an operator is added or changes role only with its operator_added row in the history",
        ),
    ] {
        let err = c.batch_execute(&sql).unwrap_err();
        assert_eq!(message(&err), what, "{sql}");
    }
    for sql in [
        "UPDATE keys SET public_id = 'k2' WHERE public_id = 'k1'",
        "UPDATE keys SET created_by = 'mallory' WHERE public_id = 'k1'",
        "UPDATE keys SET created_at = 5 WHERE public_id = 'k1'",
    ] {
        let err = c.batch_execute(sql).unwrap_err();
        assert_eq!(
            message(&err),
            "keyward: a key's public id, instance and making never change",
            "{sql}"
        );
    }
    let hash: String = c
        .query_one("SELECT secret_hash FROM keys WHERE public_id = 'k1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(hash, HASH);

    // With its row, stamped by the session, the change commits: the history
    // says who did it (and `audit verify` judges the row's hash).
    let append =
        |tx: &mut postgres::Transaction, action: &str, key: Option<&str>, subject: Option<&str>| {
            let seq: i64 = tx
                .query_one("SELECT seq FROM history_head_lock()", &[])
                .unwrap()
                .get(0);
            tx.execute(
                "INSERT INTO history (seq, at, action, key_id, subject, login, host, details,
                 db_user, db_client, hash)
             VALUES ($1, 0, $2, $3, $4, 'mallory', 'h', '{}', session_user,
                 host(inet_client_addr()), 'x')",
                &[&(seq + 1), &action, &key, &subject],
            )
            .unwrap();
        };
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(&format!(
        "UPDATE keys SET secret_hash = '{other_hash}' WHERE public_id = 'k1'"
    ))
    .unwrap();
    append(&mut tx, "renewed", Some("k1"), None);
    tx.commit().unwrap();
    // A row naming another key does not count.
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(&format!(
        "UPDATE keys SET secret_hash = '{HASH}' WHERE public_id = 'k1'"
    ))
    .unwrap();
    append(&mut tx, "renewed", Some("k9"), None);
    let err = tx.commit().unwrap_err();
    assert!(message(&err).contains("renewed row"), "{err:?}");

    let mut tx = c.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO operators (login, name, email, role, created_at)
         VALUES ('mallory', 'M', 'm@example.org', 'viewer', 0)",
    )
    .unwrap();
    append(&mut tx, "operator_added", None, Some("mallory"));
    tx.commit().unwrap();
    let err = c
        .batch_execute("UPDATE operators SET role = 'admin' WHERE login = 'mallory'")
        .unwrap_err();
    assert!(
        message(&err).contains("operator_role_changed row"),
        "{err:?}"
    );
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("UPDATE operators SET role = 'admin' WHERE login = 'mallory'")
        .unwrap();
    append(&mut tx, "operator_role_changed", None, Some("mallory"));
    tx.commit().unwrap();
    // Other edits need no row of their own.
    c.batch_execute("UPDATE operators SET name = 'Mal' WHERE login = 'mallory'")
        .unwrap();
    c.batch_execute("UPDATE keys SET name = 'renamed', tail = 'zzzz' WHERE public_id = 'k1'")
        .unwrap();
}

#[test]
fn a_store_is_created_once_and_a_newer_schema_is_refused() {
    let Some((scratch, _store)) = Scratch::store() else {
        return;
    };
    let again = PgStore::create(&scratch.target).err().unwrap();
    assert_eq!(again.exit_code(), 5, "{again}");
    scratch
        .owner()
        .batch_execute(&format!(
            "UPDATE schema_version SET version = {}",
            schema::latest_version() + 1
        ))
        .unwrap();
    let newer = PgStore::open(&scratch.target).err().unwrap();
    assert_eq!(newer.exit_code(), 6);
    assert!(newer.to_string().contains("newer"), "{newer}");

    // A database without keyward's schema is named, with what to do.
    let Some(empty) = Scratch::new() else {
        return;
    };
    let err = PgStore::open(&empty.target).err().unwrap();
    assert_eq!(err.exit_code(), 6);
    assert!(err.to_string().contains("keyward init --db"), "{err}");
    // Two inits at once: one store, one refusal.
    let target = empty.target.clone();
    let both: Vec<_> = (0..2)
        .map(|_| {
            let target = target.clone();
            thread::spawn(move || PgStore::create(&target).map(|_| ()))
        })
        .collect();
    let results: Vec<_> = both.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
}

#[test]
fn wrong_passwords_and_missing_databases_are_one_line_exit_6_without_the_password() {
    let Some(mut scratch) = Scratch::new() else {
        return;
    };
    let app = scratch.app_login();
    let wrong = app.with_login(app.user(), "not-the-password-XYZZY");
    let err = PgStore::open(&wrong).err().unwrap();
    assert_eq!(err.exit_code(), 6);
    let text = err.to_string();
    assert!(text.contains("refused the login"), "{text}");
    assert!(!text.contains("XYZZY") && !text.contains('\n'), "{text}");
    // No password given, and a ~/.pgpass others may read passed over: the
    // error says why, and how to mend it.
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, "*:*:*:*:whatever\n").unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let url = app.shown();
    let around = keyward_core::store::pg::connect::Surroundings {
        home: Some(home.path().to_owned()),
        login: Some("nobody".into()),
        ..Default::default()
    };
    let bare = keyward_core::store::pg::connect::Target::parse(&url, &around).unwrap();
    let err = PgStore::open(&bare).err().unwrap();
    let text = err.to_string();
    assert_eq!(err.exit_code(), 6, "{text}");
    assert!(
        text.contains("none was given") && text.contains("chmod 600"),
        "{text}"
    );
    let missing = scratch.target.with_dbname("kw_no_such_database");
    let err = PgStore::open(&missing).err().unwrap();
    assert!(err.to_string().contains("no database"), "{err}");
}
