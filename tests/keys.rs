//! Keys as an admin makes, finds and changes them: the whole lifecycle through
//! the real binary (init → instance → create → verify → renew → deactivate →
//! delete), the list and its fields, filters, edits and what they record, the
//! notifications key events send, the list read a screen at a time as the TUI
//! reads it, and a copied secret recorded in the history.

mod common;

use common::service::{demo_service, request, service};
use common::{Env, key_create};
use keyward_core::domain::query::KeyQuery;

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

#[test]
fn key_handles_follow_the_listing_order_for_any_filter() {
    let (_store, mut service) = demo_service(120, 0);
    for filter in [
        "",
        "status:active",
        "-status:active team:none",
        "expires:<30d",
        "a",
    ] {
        let query = KeyQuery::parse(filter).unwrap();
        let keys = service.list_keys(&query, false, None).unwrap();
        let refs = service.list_key_refs(&query, false).unwrap();
        let ids: Vec<&str> = keys.iter().map(|k| k.public_id.as_str()).collect();
        let ref_ids: Vec<&str> = refs.iter().map(|r| r.public_id.as_str()).collect();
        assert_eq!(ids, ref_ids, "filter {filter:?}");
    }
}

#[test]
fn rows_load_by_id_in_the_order_asked() {
    let (_store, mut service) = demo_service(40, 0);
    let refs = service.list_key_refs(&KeyQuery::default(), true).unwrap();
    let mut wanted: Vec<i64> = refs.iter().map(|r| r.id).take(10).collect();
    wanted.reverse();
    wanted.push(i64::MAX); // gone: skipped, not an error
    let keys = service.keys_by_ids(&wanted).unwrap();
    let got: Vec<i64> = keys.iter().map(|k| k.id).collect();
    assert_eq!(got, wanted[..10]);
}

#[test]
fn copying_a_new_secret_is_recorded_with_the_way_it_went() {
    let (_store, _clock, mut svc) = service();
    let key = svc.create_key(&request("sync", None)).unwrap();
    svc.record_copied(&key.key.public_id, "osc52").unwrap();
    let query = keyward_core::domain::query::HistoryQuery::parse("action:copied").unwrap();
    let rows = svc.history(&query, None).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0].record;
    assert_eq!(row.key.as_deref(), Some(key.key.public_id.as_str()));
    assert_eq!(row.masked.as_deref(), Some(key.token.masked().as_str()));
    assert_eq!(row.details, r#"{"via":"osc52"}"#);
    assert_eq!(row.origin.login, "ana");
}

/// `key list` and `history` write rows as they read them: past the block
/// that sizes a table's columns, every row still comes out once, in order,
/// and JSON stays one array.
#[test]
fn listings_longer_than_a_block_come_out_whole_and_in_order() {
    let env = Env::empty();
    env.ok(&["demo", "--keys", "2500", "--history", "3000"]);
    let keys = env.count("SELECT COUNT(*) FROM keys") as usize;
    let rows = env.count("SELECT COUNT(*) FROM history") as usize;
    assert!(keys >= 2500 && rows >= 3000, "{keys} keys, {rows} rows");

    let listed = env.json(&["key", "list", "--all", "--json"]);
    let listed = listed.as_array().expect("one JSON array");
    assert_eq!(listed.len(), keys);
    let ids: std::collections::HashSet<&str> =
        listed.iter().filter_map(|k| k["id"].as_str()).collect();
    assert_eq!(ids.len(), keys, "every key once");
    let table = env.ok(&["key", "list", "--all"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), keys + 1, "a header and a line a key");
    assert!(lines[0].starts_with("KEY "), "{}", lines[0]);
    for (line, key) in lines[1..].iter().zip(listed) {
        let masked = key["masked"].as_str().unwrap_or_default();
        assert!(line.starts_with(masked), "same order: {line} / {masked}");
    }

    let history = env.json(&["history", "--limit", "0", "--json"]);
    let history = history.as_array().expect("one JSON array");
    assert_eq!(history.len(), rows);
    let seqs: Vec<i64> = history.iter().filter_map(|r| r["seq"].as_i64()).collect();
    assert_eq!(seqs.len(), rows);
    assert!(
        seqs.windows(2).all(|w| w[0] == w[1] + 1),
        "newest first, none missing"
    );
    assert_eq!(
        env.ok(&["history", "--limit", "0"]).lines().count(),
        rows + 1
    );
    let newest = env.ok(&["history", "--limit", "1200"]);
    let lines: Vec<&str> = newest.lines().collect();
    assert_eq!(lines.len(), 1 + 1200 + 1, "header, rows, the footer");
    assert!(lines[1].starts_with(&seqs[0].to_string()), "{}", lines[1]);
    assert!(
        lines[1201].starts_with("The newest 1200 rows"),
        "{}",
        lines[1201]
    );
    assert_eq!(
        env.json(&["history", "--limit", "2", "--json"]),
        serde_json::Value::Array(history[..2].to_vec())
    );
}
