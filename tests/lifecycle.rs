//! The whole key lifecycle through the real binary: init → instance → create →
//! verify → renew → deactivate → delete.

mod common;

use common::{Env, key_create};

#[test]
fn a_key_lives_its_whole_life_through_the_cli() {
    let env = Env::with_instance();

    // Create: the secret is printed once, in full.
    let created = env
        .try_create_with(
            "billing sync",
            "Ana Lopez",
            "ci",
            &[
                "--team",
                "payments",
                "--team",
                "platform",
                "--expires",
                "30d",
            ],
        )
        .expect(0)
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let first = created["key"].as_str().unwrap().to_owned();
    assert!(first.starts_with(&format!("kw_{id}_")));
    for field in [
        "name",
        "instance",
        "developer",
        "channel",
        "teams",
        "status",
        "expires_at",
    ] {
        assert!(!created[field].is_null(), "{field} missing from {created}");
    }
    assert_eq!(created["status"], "active");
    assert_eq!(
        created["teams"],
        serde_json::json!(["payments", "platform"])
    );

    // Verify: valid, with the key's metadata, and its use counted.
    let ok = env.verify(&first).expect(0).json();
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["id"], id.as_str());
    assert_eq!(ok["name"], "billing sync");
    assert_eq!(ok["instance"], "acme");
    assert_eq!(ok["developer"], "Ana Lopez");
    assert_eq!(ok["channel"], "ci");
    let shown = env.json(&["key", "show", &id, "--json"]);
    assert_eq!(shown["use_count"], 1);
    assert_eq!(ok["use_count"], 1, "verify answers with the use it counted");
    let again = env.verify(&first).expect(0).json();
    assert_eq!(again["use_count"], 2);
    assert_eq!(
        env.json(&["key", "show", &id, "--json"])["use_count"],
        2,
        "the answer and the store agree"
    );
    assert!(shown["last_used_at"].is_string());

    // Renew: the old secret fails at once, the new one works; the id stays.
    let renewed = env.json(&["key", "renew", &format!("kw_{id}"), "--json"]);
    let second = renewed["key"].as_str().unwrap().to_owned();
    assert_eq!(renewed["id"], id.as_str());
    assert_ne!(first, second);
    let old = env.verify(&first).expect(1).json();
    assert_eq!(old["reason"], "mismatch");
    env.verify(&second).expect(0);

    // Deactivate: final, and verify says why.
    let out = env.ok(&["key", "deactivate", &id, "--yes"]);
    assert!(out.contains("Deactivated"), "{out}");
    assert_eq!(
        env.verify(&second).expect(1).json()["reason"],
        "deactivated"
    );
    env.run(&["key", "renew", &id]).expect(5);
    env.run(&["key", "deactivate", &id, "--yes"]).expect(5);

    // Delete: hidden from the list, shown with --all, and verify says deleted.
    env.ok(&["key", "delete", &id, "--yes"]);
    let listed = env.json(&["key", "list", "--json"]);
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    let all = env.json(&["key", "list", "--all", "--json"]);
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(all[0]["status"], "deleted");
    assert_eq!(env.verify(&second).expect(1).json()["reason"], "deleted");

    // The history tells the story, newest first.
    let history = env.json(&["history", "--filter", &format!("key:{id}"), "--json"]);
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "verify_failed", // deleted
            "deleted",
            "verify_failed", // deactivated
            "deactivated",
            "verify_failed", // mismatch of the old secret
            "renewed",
            "viewed", // after the second verification
            "viewed",
            "created"
        ]
    );
    for row in history.as_array().unwrap() {
        for field in [
            "at", "action", "key", "masked", "operator", "email", "login", "host", "details",
        ] {
            assert!(row.get(field).is_some(), "{field} missing from {row}");
        }
        assert_eq!(row["operator"], "Test Admin");
        assert_eq!(row["email"], "admin@example.org");
    }
    env.ok(&["audit", "verify"]);
}

#[test]
fn key_list_json_has_every_documented_field() {
    let env = Env::with_instance();
    env.create_key("one", "Ana", "ci");
    let list = env.json(&["key", "list", "--json"]);
    let key = &list[0];
    for field in [
        "id",
        "masked",
        "name",
        "instance",
        "cloud",
        "developer",
        "channel",
        "teams",
        "status",
        "expires_at",
        "created_at",
        "created_by",
        "last_used_at",
        "use_count",
    ] {
        assert!(key.get(field).is_some(), "{field} missing from {key}");
    }
    assert_eq!(key["cloud"], "salesforce");
    let masked = key["masked"].as_str().unwrap();
    assert!(masked.starts_with(&format!("kw_{}_…", key["id"].as_str().unwrap())));
    assert_eq!(masked.chars().count(), 3 + 8 + 1 + 1 + 4);
}

#[test]
fn edit_records_what_changed_before_and_after() {
    let env = Env::with_instance();
    let (id, key) = env.create_key("old name", "Ana", "ci");
    env.ok(&[
        "key",
        "edit",
        &id,
        "--name",
        "new name",
        "--channel",
        "api",
        "--expires",
        "never",
    ]);
    let shown = env.json(&["key", "show", &id, "--json"]);
    assert_eq!(shown["name"], "new name");
    assert_eq!(shown["channel"], "api");
    assert!(shown["expires_at"].is_null());
    let rows = env.json(&["history", "--filter", "action:updated", "--json"]);
    let details = &rows[0]["details"];
    assert_eq!(details["name"]["from"], "old name");
    assert_eq!(details["name"]["to"], "new name");
    assert_eq!(details["channel"]["from"], "ci");
    assert_eq!(details["channel"]["to"], "api");
    assert!(
        details.get("developer").is_none(),
        "unchanged fields are not recorded"
    );
    // The secret is not an editable field: the same key still verifies.
    env.verify(&key).expect(0);
    env.run(&["key", "edit", &id]).expect(2);
}

#[test]
fn bulk_teams_change_every_selected_key_in_one_go() {
    let env = Env::with_instance();
    let (a, _) = env.create_key("a", "Ana", "ci");
    let (b, _) = env.create_key("b", "Ben", "ci");
    let (c, _) = env.create_key("c", "Cleo", "ci");
    env.ok(&[
        "key",
        "teams",
        &a,
        &b,
        &c,
        "--add",
        "payments",
        "--add",
        "data platform",
    ]);
    env.ok(&["key", "teams", &b, "--remove", "payments"]);
    let in_payments = env.json(&["key", "list", "--filter", "team:payments", "--json"]);
    let ids: Vec<&str> = in_payments
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a.as_str()) && ids.contains(&c.as_str()));
    let teams = env.json(&["team", "list", "--json"]);
    let count = |name: &str| {
        teams
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["keys"].clone())
    };
    assert_eq!(count("payments"), Some(serde_json::json!(2)));
    assert_eq!(count("data platform"), Some(serde_json::json!(3)));
    // One unknown key refuses the whole change.
    env.run(&["key", "teams", &a, "kw_00000000", "--add", "late"])
        .expect(4);
    let late = env.json(&["key", "list", "--filter", "team:late", "--json"]);
    assert!(late.as_array().unwrap().is_empty());
}

#[test]
fn filters_select_keys_by_field_and_free_text() {
    let env = Env::with_instance();
    env.ok(&[
        "instance",
        "add",
        "itsm",
        "--cloud",
        "servicenow",
        "--max-active",
        "3",
    ]);
    env.create_key("billing sync", "Ana", "ci");
    env.ok(&key_create(
        "ticket bot",
        "itsm",
        "Ben",
        "api",
        &["--team", "support", "--expires", "10d"],
    ));
    let names = |filter: &str| -> Vec<String> {
        env.json(&["key", "list", "--filter", filter, "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("cloud:servicenow"), ["ticket bot"]);
    assert_eq!(names("instance:acme"), ["billing sync"]);
    assert_eq!(names("developer:ben"), ["ticket bot"]);
    assert_eq!(names("channel:ci"), ["billing sync"]);
    assert_eq!(names("team:support"), ["ticket bot"]);
    assert_eq!(names("team:none"), ["billing sync"]);
    assert_eq!(names("expires:<30d"), ["ticket bot"]);
    assert_eq!(
        names("status:active used:never"),
        ["billing sync", "ticket bot"]
    );
    assert_eq!(names("billing"), ["billing sync"]);
    assert_eq!(names("-team:support"), ["billing sync"]);
    assert!(names("status:deactivated").is_empty());
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
fn create_renew_and_deactivate_notify_every_admin_and_manager() {
    let env = Env::with_instance();
    if common::is_root() {
        env.add_operator("mia", "manager");
        env.add_operator("vic", "viewer");
    }
    let (a, _) = env.create_key("a", "Ana", "ci");
    let (b, _) = env.create_key("b", "Ben", "ci");
    env.ok(&["key", "renew", &a]);
    env.ok(&["key", "deactivate", &a, &b, "--yes"]);
    let outbox = env.json(&["notifications", "--json"]);
    let recipients = if common::is_root() { 2 } else { 1 };
    let events: Vec<&str> = outbox
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["event"].as_str().unwrap())
        .collect();
    // Two creates, one renewal, and one message for the two deactivations, per recipient.
    assert_eq!(events.len(), 4 * recipients, "{events:?}");
    let bulk: Vec<_> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["event"] == "deactivated")
        .collect();
    assert_eq!(bulk.len(), recipients);
    assert_eq!(bulk[0]["keys"].as_array().unwrap().len(), 2);
    let body = bulk[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("keyward history --filter key:{a}")),
        "{body}"
    );
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["recipient"]["email"] != "vic@example.org")
    );
}
