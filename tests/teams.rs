//! Teams of keys, changed for many keys at once through the real binary.

mod common;

use common::Env;

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

/// The newest history rows of `action`, newest first.
fn rows(env: &Env, action: &str) -> Vec<serde_json::Value> {
    env.json(&[
        "history",
        "--filter",
        &format!("action:{action}"),
        "--limit",
        "0",
        "--json",
    ])
    .as_array()
    .unwrap()
    .clone()
}

#[test]
fn a_renamed_team_keeps_its_keys_and_a_taken_name_is_refused() {
    let env = Env::with_instance();
    let (a, _) = env.create_key("a", "Ana", "ci");
    env.ok(&["key", "teams", &a, "--add", "payments", "--add", "ops"]);
    env.run(&["team", "rename", "payments", "--to", "ops"])
        .expect(5);
    env.run(&["team", "rename", "nope", "--to", "x"]).expect(4);
    env.run(&["team", "rename", "payments", "--to", ""])
        .expect(2);
    let team = env.json(&["team", "rename", "payments", "--to", "billing", "--json"]);
    assert_eq!(team["name"], "billing");
    assert_eq!(team["keys"], 1);
    assert_eq!(
        env.json(&["key", "show", &a, "--json"])["teams"],
        serde_json::json!(["billing", "ops"])
    );
    let row = &rows(&env, "team_renamed")[0];
    assert_eq!(row["subject"], "billing");
    assert_eq!(
        row["details"],
        serde_json::json!({ "name": { "from": "payments", "to": "billing" }, "keys": 1 })
    );
    env.ok(&["audit", "verify"]);
}

#[test]
fn a_removed_team_says_how_many_keys_it_leaves_and_each_key_records_it() {
    let env = Env::with_instance();
    let (a, _) = env.create_key("a", "Ana", "ci");
    let (b, _) = env.create_key("b", "Ben", "ci");
    let (c, _) = env.create_key("c", "Cleo", "ci");
    env.ok(&["key", "teams", &a, &b, &c, "--add", "payments"]);
    env.ok(&["key", "teams", &a, "--add", "ops"]);
    env.ok(&["key", "delete", &c, "--yes"]);
    let plain = env.ok(&["team", "remove", "payments"]);
    assert!(plain.contains("2 key(s) left it"), "{plain}");
    env.run(&["team", "remove", "payments"]).expect(4);
    let teams = env.json(&["team", "list", "--json"]);
    assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
    assert_eq!(
        env.json(&["key", "show", &a, "--json"])["teams"],
        serde_json::json!(["ops"])
    );
    let row = &rows(&env, "team_removed")[0];
    assert_eq!(row["subject"], "payments");
    assert_eq!(
        row["details"],
        serde_json::json!({ "name": { "from": "payments", "to": null }, "keys": 2 })
    );
    let b_rows = env.json(&[
        "history",
        "--filter",
        &format!("key:{b} action:teams_changed"),
        "--json",
    ]);
    assert_eq!(
        b_rows[0]["details"],
        serde_json::json!({ "added": [], "removed": ["payments"], "teams": [] })
    );
    // The name is free again, and --json names the keys that left.
    env.ok(&["key", "teams", &a, "--add", "payments"]);
    let removed = env.json(&["team", "remove", "payments", "--json"]);
    assert_eq!(removed["removed_from"], serde_json::json!([a]));
    env.ok(&["audit", "verify"]);
}

#[test]
fn a_manager_renames_and_removes_teams_and_a_viewer_cannot() {
    for (role, code) in [("manager", 0), ("viewer", 3)] {
        let env = Env::with_instance();
        let (a, _) = env.create_key("a", "Ana", "ci");
        env.ok(&["key", "teams", &a, "--add", "payments", "--add", "ops"]);
        env.add_operator("boss", "admin");
        let ops = env.json(&["operator", "list", "--json"]);
        let me = ops
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["login"] != "boss")
            .unwrap()["login"]
            .as_str()
            .unwrap()
            .to_owned();
        env.ok(&["operator", "role", &me, role]);
        env.run(&["team", "rename", "payments", "--to", "billing"])
            .expect(code);
        env.run(&["team", "remove", "ops"]).expect(code);
        let teams = env.json(&["team", "list", "--json"]).to_string();
        assert_eq!(teams.contains("billing"), code == 0, "{role}: {teams}");
        assert_eq!(teams.contains("ops"), code != 0, "{role}: {teams}");
    }
}
