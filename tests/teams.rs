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
