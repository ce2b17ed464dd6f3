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
    let err = env
        .bypass(
            "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id, status,
                secret_hash, tail, expires_at, created_at, created_by, changed_at)
             SELECT 'ZZZZZZZZ', name, instance_id, developer_id, channel_id, status, secret_hash,
                tail, expires_at, created_at, created_by, changed_at FROM keys WHERE public_id = ?1",
            &[&one],
        )
        .unwrap_err();
    assert!(err.contains("active key limit"), "{err}");
    // Nor can a deactivated key be brought back.
    env.ok(&["key", "deactivate", &one, "--yes"]);
    let err = env
        .bypass(
            "UPDATE keys SET status = 'active' WHERE public_id = ?1",
            &[&one],
        )
        .unwrap_err();
    assert!(err.contains("cannot be reactivated"), "{err}");
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

/// The details of the newest history row of `action`, with its subject.
fn last_row(env: &Env, action: &str) -> (serde_json::Value, serde_json::Value) {
    let rows = env.json(&[
        "history",
        "--filter",
        &format!("action:{action}"),
        "--limit",
        "1",
        "--json",
    ]);
    let row = rows[0].clone();
    assert_eq!(row["action"], action, "{rows}");
    (row.clone(), row["details"].clone())
}

/// The login running the tests becomes `role`, another login keeping the
/// store an admin: the refusals are then checked without `--as` (root).
fn step_down_to(env: &Env, role: &str) {
    env.add_operator("boss", "admin");
    let me = env.json(&["operator", "list", "--json"]);
    let me = me
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["login"] != "boss")
        .unwrap()["login"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["operator", "role", &me, role]);
}

#[test]
fn an_instance_edit_changes_cloud_url_and_limit_and_records_before_and_after() {
    let env = Env::with_instance();
    let (id, _) = env.create_key("one", "Ana", "ci");
    let edited = env.json(&[
        "instance",
        "edit",
        "acme",
        "--cloud",
        "servicenow",
        "--url",
        "https://acme.service-now.com",
        "--max-active",
        "3",
        "--json",
    ]);
    assert_eq!(edited["cloud"], "servicenow");
    assert_eq!(edited["url"], "https://acme.service-now.com");
    assert_eq!(edited["max_active"], 3);
    assert_eq!(edited["keys_changing_cloud"], 1);
    let key = env.json(&["key", "show", &id, "--json"]);
    assert_eq!(key["cloud"], "servicenow", "the key follows its instance");
    let (row, details) = last_row(&env, "instance_edited");
    assert_eq!(row["subject"], "acme");
    assert_eq!(
        details,
        serde_json::json!({
            "cloud": { "from": "salesforce", "to": "servicenow" },
            "url": { "from": null, "to": "https://acme.service-now.com" },
            "max_active": { "from": 2, "to": 3 },
        })
    );
    // A third key now fits; `--url ''` removes the URL.
    env.create_key("two", "Ana", "ci");
    env.create_key("three", "Ana", "ci");
    let plain = env.ok(&["instance", "edit", "acme", "--url", ""]);
    assert!(
        plain.contains("url: https://acme.service-now.com → (none)"),
        "{plain}"
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn a_lowered_limit_keeps_active_keys_names_the_integrations_over_it_and_refuses_new_keys() {
    let env = Env::with_instance();
    let (one, _) = env.create_key("one", "Ana", "ci");
    env.create_key("two", "Ana", "ci");
    env.create_key("other", "Ben", "api");
    let plain = env.ok(&["instance", "edit", "acme", "--max-active", "1"]);
    assert!(plain.contains("max active: 2 → 1"), "{plain}");
    assert!(
        plain.contains("developer Ana, channel ci: 2 active keys stay active"),
        "{plain}"
    );
    assert!(!plain.contains("Ben"), "{plain}");
    assert_eq!(
        env.json(&["instance", "list", "--json"])[0]["active_keys"],
        3
    );
    env.try_create("three", "Ana", "ci").expect(5);
    env.ok(&["key", "deactivate", &one, "--yes"]);
    env.try_create("three", "Ana", "ci").expect(5);
}

#[test]
fn instance_edits_refuse_nothing_to_change_bad_values_and_unknown_instances() {
    let env = Env::with_instance();
    env.run(&["instance", "edit", "acme"]).expect(2);
    env.run(&["instance", "edit", "acme", "--cloud", "salesforce"])
        .expect(2);
    env.run(&["instance", "edit", "acme", "--cloud", "azure"])
        .expect(2);
    env.run(&["instance", "edit", "acme", "--max-active", "0"])
        .expect(2);
    env.run(&["instance", "edit", "acme", "--url", "ftp://acme"])
        .expect(2);
    env.run(&["instance", "edit", "nope", "--max-active", "3"])
        .expect(4);
    env.run(&["instance", "retire", "nope"]).expect(4);
}

#[test]
fn an_instance_with_active_keys_is_not_retired_and_a_retired_one_takes_no_keys() {
    let env = Env::with_instance();
    let (id, _) = env.create_key("one", "Ana", "ci");
    let refused = env.run(&["instance", "retire", "acme"]).expect(5);
    assert!(
        refused.stderr.contains("1 active key"),
        "{}",
        refused.stderr
    );
    env.ok(&["key", "deactivate", &id, "--yes"]);
    let retired = env.json(&["instance", "retire", "acme", "--json"]);
    assert_eq!(retired["status"], "retired");
    assert!(retired["retired_at"].is_string(), "{retired}");
    let listed = env.json(&["instance", "list", "--json"]);
    assert_eq!(listed[0]["status"], "retired");
    assert!(env.ok(&["instance", "list"]).contains("retired"));
    let (row, details) = last_row(&env, "instance_retired");
    assert_eq!(row["subject"], "acme");
    assert_eq!(
        details,
        serde_json::json!({ "status": { "from": "active", "to": "retired" } })
    );
    let new = env.try_create("two", "Ana", "ci").expect(5);
    assert!(new.stderr.contains("retired"), "{}", new.stderr);
    env.run(&["instance", "retire", "acme"]).expect(5);
    env.run(&["instance", "edit", "acme", "--max-active", "3"])
        .expect(5);
    env.run(&["developer", "add", "Ben", "--instance", "acme"])
        .expect(5);
    env.ok(&["audit", "verify"]);
}

/// Every developer on an instance's list has the history row that put them
/// there, whether `developer add` did or a key that named someone new.
#[test]
fn a_developer_a_key_puts_on_the_list_is_recorded_as_added() {
    let env = Env::with_instance();
    let added = |env: &Env| -> Vec<String> {
        let rows = env.json(&[
            "history",
            "--filter",
            "action:developer_added",
            "--limit",
            "0",
            "--json",
        ]);
        rows.as_array()
            .expect("an array")
            .iter()
            .map(|r| {
                assert_eq!(
                    r["details"],
                    serde_json::json!({ "instance": "acme" }),
                    "{r}"
                );
                r["subject"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    };
    env.create_key("one", "Ana", "ci");
    assert_eq!(added(&env), ["Ana"]);
    // The same developer whatever the case: nobody new.
    env.create_key("two", "ana", "web");
    assert_eq!(added(&env), ["Ana"]);
    let (three, _) = env.create_key("three", "Ben", "ci");
    assert_eq!(added(&env), ["Ben", "Ana"]);
    env.ok(&["key", "edit", &three, "--developer", "Cy"]);
    assert_eq!(added(&env), ["Cy", "Ben", "Ana"]);
    // Taken off the list, then named by a key again: back on it, recorded.
    env.ok(&["developer", "remove", "Ben", "--instance", "acme"]);
    env.create_key("four", "Ben", "ops");
    assert_eq!(added(&env), ["Ben", "Cy", "Ben", "Ana"]);
    env.ok(&["audit", "verify"]);
}

#[test]
fn developers_are_added_and_renamed_and_a_taken_name_is_refused() {
    let env = Env::with_instance();
    let (id, _) = env.create_key("one", "Ana", "ci");
    let added = env.json(&["developer", "add", "Ben", "--instance", "acme", "--json"]);
    assert_eq!(
        added,
        serde_json::json!({ "name": "Ben", "instance": "acme", "active_keys": 0, "keys": 0 })
    );
    let (row, details) = last_row(&env, "developer_added");
    assert_eq!(row["subject"], "Ben");
    assert_eq!(details, serde_json::json!({ "instance": "acme" }));
    env.run(&["developer", "add", "Ben", "--instance", "acme"])
        .expect(5);
    env.run(&["developer", "add", "Ben", "--instance", "nope"])
        .expect(4);
    env.run(&[
        "developer",
        "rename",
        "Ana",
        "--instance",
        "acme",
        "--to",
        "Ben",
    ])
    .expect(5);
    env.run(&[
        "developer",
        "rename",
        "Zed",
        "--instance",
        "acme",
        "--to",
        "Zoe",
    ])
    .expect(4);
    env.run(&[
        "developer",
        "rename",
        "Ana",
        "--instance",
        "acme",
        "--to",
        " ",
    ])
    .expect(2);
    let renamed = env.json(&[
        "developer",
        "rename",
        "Ana",
        "--instance",
        "acme",
        "--to",
        "Ana López",
        "--json",
    ]);
    assert_eq!(renamed["name"], "Ana López");
    assert_eq!(renamed["active_keys"], 1);
    assert_eq!(
        env.json(&["key", "show", &id, "--json"])["developer"],
        "Ana López"
    );
    let (row, details) = last_row(&env, "developer_renamed");
    assert_eq!(row["subject"], "Ana López");
    assert_eq!(
        details,
        serde_json::json!({ "instance": "acme", "name": { "from": "Ana", "to": "Ana López" }, "keys": 1 })
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn removing_a_developer_with_their_keys_notifies_admins_and_managers() {
    let env = Env::with_instance();
    env.add_operator("mia", "manager");
    env.add_operator("vic", "viewer");
    let (a, _) = env.create_key("one", "Ana", "ci");
    let (b, _) = env.create_key("two", "Ana", "api");
    let before = env
        .json(&["notifications", "--json"])
        .as_array()
        .unwrap()
        .len();
    env.ok(&[
        "developer",
        "remove",
        "Ana",
        "--instance",
        "acme",
        "--deactivate-keys",
    ]);
    let all = env.json(&["notifications", "--json"]);
    let new: Vec<_> = all.as_array().unwrap()[before..].to_vec();
    let mut to: Vec<&str> = new
        .iter()
        .map(|m| m["recipient"]["login"].as_str().unwrap())
        .collect();
    to.sort_unstable();
    assert_eq!(to.len(), 2, "the admin and mia, not vic: {to:?}");
    assert!(to.contains(&"mia") && !to.contains(&"vic"), "{to:?}");
    for m in &new {
        assert_eq!(m["event"], "deactivated");
        assert_eq!(m["keys"], serde_json::json!([a, b]));
    }
    let (row, details) = last_row(&env, "developer_removed");
    assert_eq!(row["subject"], "Ana");
    assert_eq!(details["deactivated_keys"], serde_json::json!([a, b]));
}

#[test]
fn managers_and_viewers_cannot_change_instances_or_developers() {
    for role in ["manager", "viewer"] {
        let env = Env::with_instance();
        env.create_key("one", "Ana", "ci");
        step_down_to(&env, role);
        for args in [
            vec!["instance", "edit", "acme", "--max-active", "3"],
            vec!["instance", "retire", "acme"],
            vec!["developer", "add", "Ben", "--instance", "acme"],
            vec![
                "developer",
                "rename",
                "Ana",
                "--instance",
                "acme",
                "--to",
                "Ann",
            ],
        ] {
            let run = env.run(&args).expect(3);
            assert!(run.stderr.contains(role), "{args:?}: {}", run.stderr);
        }
        let inst = env.json(&["instance", "list", "--json"]);
        assert_eq!(inst[0]["max_active"], 2);
        assert_eq!(inst[0]["status"], "active");
    }
}
