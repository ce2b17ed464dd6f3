//! Instances and their developers, and the active-key limit of an integration
//! (instance, developer, channel): from one process and from eight at once, in
//! the schema itself, and once keys have expired.

mod common;

use chrono::TimeDelta;
use common::service::{request, service};
use common::{Env, key_create};
use std::process::Stdio;

#[test]
fn third_active_key_of_an_integration_is_refused() {
    let env = Env::with_instance();
    env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    let refused = env.try_create("three", "Ana", "ci").expect(5);
    assert!(
        refused.stderr.contains("2 active keys"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stdout.is_empty(),
        "no secret is printed for a refused key"
    );
}

#[test]
fn another_channel_or_developer_is_another_integration() {
    let env = Env::with_instance();
    env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    env.create_key("other channel", "Ana", "api");
    env.create_key("other developer", "Ben", "ci");
}

#[test]
fn deactivating_a_key_makes_room_for_a_new_one() {
    let env = Env::with_instance();
    let (one, _) = env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    env.ok(&["key", "deactivate", &one, "--yes"]);
    env.create_key("three", "Ana", "ci");
}

#[test]
fn an_instance_limit_other_than_two_is_honoured() {
    let env = Env::new();
    env.ok(&[
        "instance",
        "add",
        "acme",
        "--cloud",
        "m365",
        "--max-active",
        "3",
    ]);
    for name in ["a", "b", "c"] {
        env.create_key(name, "Ana", "ci");
    }
    env.try_create("d", "Ana", "ci").expect(5);
}

#[test]
fn an_edit_that_moves_a_key_into_a_full_integration_is_refused() {
    let env = Env::with_instance();
    env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    let (other, _) = env.create_key("three", "Ana", "api");
    env.run(&["key", "edit", &other, "--channel", "ci"])
        .expect(5);
    env.run(&["key", "edit", &other, "--developer", "Ben"])
        .expect(0);
}

#[test]
fn the_schema_itself_refuses_a_third_active_key() {
    let env = Env::with_instance();
    let (one, _) = env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    // A writer that bypasses keyward: copy an active key's row under a new id.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let err = conn
        .execute(
            "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id, status,
                secret_hash, tail, expires_at, created_at, created_by, changed_at)
             SELECT 'ZZZZZZZZ', name, instance_id, developer_id, channel_id, status, secret_hash,
                tail, expires_at, created_at, created_by, changed_at FROM keys WHERE public_id = ?1",
            [&one],
        )
        .unwrap_err();
    assert!(err.to_string().contains("active key limit"), "{err}");
    // Nor can a deactivated key be brought back.
    drop(conn);
    env.ok(&["key", "deactivate", &one, "--yes"]);
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let err = conn
        .execute(
            "UPDATE keys SET status = 'active' WHERE public_id = ?1",
            [&one],
        )
        .unwrap_err();
    assert!(err.to_string().contains("cannot be reactivated"), "{err}");
}

#[test]
fn eight_processes_at_once_never_exceed_the_limit() {
    let env = Env::with_instance();
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.command()
                .args(key_create(&format!("racer {i}"), "acme", "Ana", "ci", &[]))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("database is locked"), "{stderr}");
        codes.push((out.status.code().unwrap_or(-1), stderr));
    }
    let created = codes.iter().filter(|(c, _)| *c == 0).count();
    let refused = codes.iter().filter(|(c, _)| *c == 5).count();
    assert_eq!(created, 2, "{codes:?}");
    assert_eq!(
        refused, 6,
        "every other attempt is refused by the limit: {codes:?}"
    );
    let active = env.json(&["key", "list", "--filter", "status:active", "--json"]);
    assert_eq!(active.as_array().unwrap().len(), 2);
    env.ok(&["audit", "verify"]);
}

#[test]
fn instances_developers_and_operators_are_listed() {
    let env = Env::with_instance();
    env.create_key("one", "Ana Lopez", "ci");
    let instances = env.json(&["instance", "list", "--json"]);
    assert_eq!(instances[0]["name"], "acme");
    assert_eq!(instances[0]["max_active"], 2);
    assert_eq!(instances[0]["active_keys"], 1);
    let devs = env.json(&["developer", "list", "--instance", "acme", "--json"]);
    assert_eq!(devs[0]["name"], "Ana Lopez");
    assert_eq!(devs[0]["active_keys"], 1);
    let ops = env.json(&["operator", "list", "--json"]);
    assert_eq!(ops[0]["role"], "admin");
    env.run(&["developer", "list", "--instance", "nope"])
        .expect(4);
}

#[test]
fn removing_a_developer_with_active_keys_needs_their_deactivation() {
    let env = Env::with_instance();
    let (id, key) = env.create_key("one", "Ana", "ci");
    let refused = env
        .run(&["developer", "remove", "Ana", "--instance", "acme"])
        .expect(5);
    assert!(
        refused.stderr.contains("--deactivate-keys"),
        "{}",
        refused.stderr
    );
    env.verify(&key).expect(0);
    env.ok(&[
        "developer",
        "remove",
        "Ana",
        "--instance",
        "acme",
        "--deactivate-keys",
    ]);
    assert_eq!(env.verify(&key).expect(1).json()["reason"], "deactivated");
    let devs = env.json(&["developer", "list", "--json"]);
    assert!(devs.as_array().unwrap().is_empty());
    let rows = env.json(&[
        "history",
        "--filter",
        &format!("key:{id} action:deactivated"),
        "--json",
    ]);
    assert_eq!(rows.as_array().unwrap().len(), 1);
}

#[test]
fn expired_keys_do_not_count_against_the_limit() {
    let (_store, clock, mut svc) = service();
    let a = svc.create_key(&request("a", Some("1d"))).unwrap();
    svc.create_key(&request("b", Some("1d"))).unwrap();
    assert!(svc.create_key(&request("c", None)).is_err());
    clock.advance(TimeDelta::days(2));
    svc.create_key(&request("c", None)).unwrap();
    svc.create_key(&request("d", None)).unwrap();
    // Renewing an expired key brings it back, so the full integration refuses it.
    let err = svc.renew_key(&a.key.public_id, None, None).unwrap_err();
    assert_eq!(err.exit_code(), 5);
}
