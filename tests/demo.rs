//! `keyward demo`: realistic sample data in every status, within every rule.

mod common;

use common::Env;
use keyward_core::domain::{KeyToken, PublicId};
use std::collections::HashMap;

#[test]
fn demo_creates_a_store_with_keys_in_every_status_within_every_limit() {
    let env = Env::empty();
    env.ok(&["demo", "--keys", "300", "--history", "2000"]);

    let ops = env.json(&["operator", "list", "--json"]);
    let roles: Vec<&str> = ops
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"admin") && roles.contains(&"manager") && roles.contains(&"viewer"),
        "{roles:?}"
    );

    let keys = env.json(&["key", "list", "--all", "--json"]);
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 300);
    for status in ["active", "expired", "deactivated", "deleted"] {
        assert!(
            keys.iter().any(|k| k["status"] == status),
            "no {status} key"
        );
    }
    let clouds: std::collections::HashSet<&str> =
        keys.iter().map(|k| k["cloud"].as_str().unwrap()).collect();
    assert_eq!(clouds.len(), 5, "{clouds:?}");
    assert!(
        keys.iter().any(|k| k["expires_at"].is_null()),
        "some keys never expire"
    );
    assert!(
        keys.iter()
            .any(|k| k["teams"].as_array().unwrap().is_empty())
    );
    assert!(
        keys.iter()
            .any(|k| k["teams"].as_array().unwrap().len() > 1)
    );

    // No integration holds more active keys than its instance allows.
    let limits: HashMap<String, u64> = env
        .json(&["instance", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_owned(),
                i["max_active"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut active: HashMap<(String, String, String), u64> = HashMap::new();
    for k in keys.iter().filter(|k| k["status"] == "active") {
        let slot = (
            k["instance"].to_string(),
            k["developer"].to_string(),
            k["channel"].to_string(),
        );
        *active.entry(slot).or_default() += 1;
    }
    for ((instance, _, _), n) in &active {
        assert!(
            *n <= limits[instance.trim_matches('"')],
            "{instance}: {n} active"
        );
    }

    let history = env.json(&["history", "--limit", "0", "--json"]);
    assert!(history.as_array().unwrap().len() >= 2000);
    env.ok(&["audit", "verify"]);
}

#[test]
fn no_demo_key_can_verify() {
    let env = Env::empty();
    // Enough keys that some are active whatever the demo's dice say (20 left
    // none active once in a while).
    env.ok(&["demo", "--keys", "200"]);
    let keys = env.json(&["key", "list", "--filter", "status:active", "--json"]);
    let id = keys[0]["id"].as_str().unwrap();
    // A well-formed key with a demo key's id: the shared hash belongs to a discarded secret.
    let guess = KeyToken::generate(&PublicId::parse(id).unwrap());
    let answer = env.verify(guess.expose()).expect(1).json();
    assert_eq!(answer["reason"], "mismatch");
}

#[test]
fn demo_adds_to_its_own_store_and_needs_an_admin() {
    let env = Env::empty();
    // Each run counts the keys earlier runs left active: with 400 keys over a
    // few hundred integrations, a run that did not would break a limit.
    for _ in 0..3 {
        env.ok(&["demo", "--keys", "400"]);
    }
    let keys = env.json(&["key", "list", "--all", "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 1200);
    env.ok(&["audit", "verify"]);
    if common::is_root() {
        env.add_operator("mia", "manager");
        env.run_as("mia", &["demo", "--keys", "5"]).expect(3);
    }
}

#[test]
fn demo_refuses_a_store_with_real_data_and_changes_nothing() {
    let env = Env::with_instance();
    let before = env.json(&["history", "--limit", "0", "--json"]);
    let run = env.run(&["demo", "--keys", "5"]).expect(5);
    assert!(run.stderr.contains("holds real data"), "{}", run.stderr);
    assert!(run.stderr.contains("demo.db"), "{}", run.stderr);
    assert_eq!(env.json(&["history", "--limit", "0", "--json"]), before);
    assert!(
        env.json(&["key", "list", "--all", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let ops = env.json(&["operator", "list", "--json"]);
    assert_eq!(
        ops.as_array().unwrap().len(),
        1,
        "no made-up operator: {ops}"
    );
}

#[test]
fn demo_without_db_makes_demo_db_beside_the_real_store_and_leaves_it_alone() {
    let env = Env::empty();
    let real = env
        .dir
        .path()
        .join("data")
        .join("keyward")
        .join("keyward.db");
    let demo = real.with_file_name("demo.db");
    let out = env
        .run_with(env.command_without_db(), &["demo", "--keys", "10"])
        .expect(0)
        .stdout;
    assert!(out.contains(&demo.display().to_string()), "{out}");
    assert!(demo.exists());
    assert!(!real.exists(), "the real store is never made by the demo");
}

/// The login running the demo is credited with no demo row; each key's
/// creator is the operator of its `created` row; and a second run dates no row
/// before the newest one already there.
#[test]
fn demo_history_is_the_demo_operators_own_in_time_order_and_agrees_with_keys() {
    let env = Env::empty();
    env.ok(&["demo", "--keys", "60", "--history", "300"]);
    let first = env.json(&["history", "--limit", "0", "--json"]);
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .name;
    let rows = first.as_array().unwrap();
    // Newest first: the newest row is the login's own addition, by the demo's admin.
    for row in rows {
        assert_ne!(
            row["login"],
            me.as_str(),
            "a demo row credited to the login: {row}"
        );
    }
    assert_eq!(rows[0]["action"], "operator_added");
    assert_eq!(rows.last().unwrap()["action"], "store_created");
    let newest_before = rows[0]["at"].as_str().unwrap().to_owned();

    let keys = env.json(&["key", "list", "--all", "--json"]);
    let created: HashMap<&str, &str> = rows
        .iter()
        .filter(|r| r["action"] == "created")
        .map(|r| (r["key"].as_str().unwrap(), r["login"].as_str().unwrap()))
        .collect();
    for k in keys.as_array().unwrap() {
        let id = k["id"].as_str().unwrap();
        assert_eq!(
            Some(&k["created_by"].as_str().unwrap()),
            created.get(id),
            "{id}"
        );
    }

    env.ok(&["demo", "--keys", "30", "--history", "100"]);
    let all = env.json(&["history", "--limit", "0", "--json"]);
    let ats: Vec<chrono::DateTime<chrono::FixedOffset>> = all
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        ats.windows(2).all(|w| w[0] <= w[1]),
        "history goes back in time"
    );
    let added = all.as_array().unwrap().len() - rows.len();
    assert!(added > 0);
    let cut = chrono::DateTime::parse_from_rfc3339(&newest_before).unwrap();
    assert!(ats[rows.len()..].iter().all(|at| *at >= cut));
    env.ok(&["audit", "verify"]);
}

#[test]
fn demo_help_says_demo_keys_share_one_discarded_hash() {
    let help = Env::empty().ok(&["demo", "--help"]);
    assert!(help.contains("share one"), "{help}");
    assert!(help.contains("can ever verify"), "{help}");
}
