//! Operators and their roles. Roles are checked in the service layer, so the
//! CLI enforces them: a viewer changes nothing, a manager handles keys and
//! teams but not operators or instances. Acting as other logins needs root
//! (`--as`).

#[macro_use]
mod common;

use common::{Env, key_create};

fn store_with_roles() -> (Env, String) {
    let env = Env::with_instance();
    env.add_operator("mia", "manager");
    env.add_operator("vic", "viewer");
    let (id, _) = env.create_key("one", "Ana", "ci");
    (env, id)
}

#[test]
fn a_viewer_gets_exit_3_for_every_change() {
    require_root!();
    let (env, id) = store_with_roles();
    let changes: Vec<Vec<&str>> = vec![
        key_create("x", "acme", "Vic", "ci", &[]),
        vec!["key", "edit", &id, "--name", "y"],
        vec!["key", "teams", &id, "--add", "t"],
        vec!["key", "renew", &id],
        vec!["key", "deactivate", &id, "--yes"],
        vec!["key", "delete", &id, "--yes"],
        vec!["team", "add", "t"],
        vec![
            "developer",
            "remove",
            "Ana",
            "--instance",
            "acme",
            "--deactivate-keys",
        ],
        vec!["instance", "add", "other", "--cloud", "other"],
        vec![
            "operator",
            "add",
            "eve",
            "--name",
            "Eve",
            "--email",
            "eve@example.org",
            "--role",
            "admin",
        ],
        vec!["operator", "remove", "mia"],
        // Refused for the role before the values are looked at.
        vec![
            "operator", "add", "eve", "--name", "Eve", "--email", "e@x", "--role", "admin",
        ],
    ];
    let before = env
        .json(&["history", "--limit", "0", "--json"])
        .as_array()
        .unwrap()
        .len();
    for args in &changes {
        let run = env.run_as("vic", args).expect(3);
        assert!(run.stderr.contains("viewer"), "{args:?}: {}", run.stderr);
    }
    let after = env
        .json(&["history", "--limit", "0", "--json"])
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        before, after,
        "a refused change leaves no trace but the refusal"
    );
    assert_eq!(
        env.json(&["key", "show", &id, "--json"])["status"],
        "active"
    );
}

#[test]
fn a_viewer_reads_keys_and_history() {
    require_root!();
    let (env, id) = store_with_roles();
    for args in [
        vec!["key", "list"],
        vec!["key", "show", id.as_str()],
        vec!["history"],
        vec!["audit", "verify"],
        vec!["team", "list"],
        vec!["instance", "list"],
        vec!["operator", "list"],
        vec!["notifications"],
    ] {
        env.run_as("vic", &args).expect(0);
    }
    let viewed = env.json(&["history", "--filter", "action:viewed", "--json"]);
    assert_eq!(viewed[0]["login"], "vic");
    assert_eq!(viewed[0]["operator"], "vic name");
}

#[test]
fn a_manager_handles_keys_but_not_operators_or_instances() {
    require_root!();
    let (env, id) = store_with_roles();
    env.run_as(
        "mia",
        &[
            "operator",
            "add",
            "eve",
            "--name",
            "Eve",
            "--email",
            "eve@example.org",
            "--role",
            "viewer",
        ],
    )
    .expect(3);
    env.run_as("mia", &["operator", "remove", "vic"]).expect(3);
    env.run_as("mia", &["instance", "add", "other", "--cloud", "other"])
        .expect(3);
    env.run_as("mia", &key_create("m", "acme", "Mia", "ci", &[]))
        .expect(0);
    env.run_as("mia", &["key", "renew", &id]).expect(0);
    env.run_as("mia", &["key", "teams", &id, "--add", "payments"])
        .expect(0);
    env.run_as("mia", &["team", "add", "data"]).expect(0);
    env.run_as("mia", &["key", "deactivate", &id, "--yes"])
        .expect(0);
    let created = env.json(&[
        "history",
        "--filter",
        "action:created operator:mia",
        "--json",
    ]);
    assert_eq!(created[0]["email"], "mia@example.org");
}

#[test]
fn an_unknown_login_is_refused_with_how_to_be_added() {
    require_root!();
    let env = Env::with_instance();
    let run = env.run_as("stranger", &["key", "list"]).expect(3);
    assert!(
        run.stderr.contains("keyward operator add stranger"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_last_admin_cannot_be_removed() {
    require_root!();
    let (env, _) = store_with_roles();
    let me = env.json(&["operator", "list", "--json"]);
    let admin = me
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["role"] == "admin")
        .unwrap()["login"]
        .as_str()
        .unwrap()
        .to_owned();
    env.run(&["operator", "remove", &admin]).expect(5);
    env.ok(&["operator", "remove", "vic"]);
    env.run_as("vic", &["key", "list"]).expect(3);
}

#[test]
fn a_role_taken_away_no_longer_counts() {
    require_root!();
    let (env, id) = store_with_roles();
    env.run_as("mia", &["key", "edit", &id, "--name", "renamed"])
        .expect(0);
    env.ok(&["operator", "remove", "mia"]);
    env.run_as("mia", &["key", "edit", &id, "--name", "again"])
        .expect(3);
}

#[test]
fn the_store_itself_keeps_an_admin() {
    let env = Env::new();
    for statement in [
        "DELETE FROM operators WHERE role = 'admin'",
        "UPDATE operators SET role = 'viewer' WHERE role = 'admin'",
    ] {
        let err = env.bypass(statement, &[]).unwrap_err();
        assert!(err.contains("last admin"), "{statement}: {err}");
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM operators WHERE role = 'admin'"),
        1
    );
}

/// The login running the tests, the store's first admin.
fn me(env: &Env) -> String {
    let ops = env.json(&["operator", "list", "--json"]);
    ops.as_array()
        .unwrap()
        .iter()
        .find(|o| o["role"] == "admin")
        .unwrap()["login"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_admin_changes_a_role_and_the_history_records_before_and_after() {
    let env = Env::new();
    env.add_operator("mia", "manager");
    let op = env.json(&["operator", "role", "mia", "admin", "--json"]);
    assert_eq!(op["login"], "mia");
    assert_eq!(op["role"], "admin");
    let ops = env.json(&["operator", "list", "--json"]);
    let mia = ops
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["login"] == "mia")
        .unwrap();
    assert_eq!(mia["role"], "admin");
    let rows = env.json(&[
        "history",
        "--filter",
        "action:operator_role_changed",
        "--json",
    ]);
    assert_eq!(rows[0]["subject"], "mia");
    assert_eq!(
        rows[0]["details"],
        serde_json::json!({ "role": { "from": "manager", "to": "admin" } })
    );
    let plain = env.ok(&["operator", "role", "mia", "viewer"]);
    assert_eq!(plain.trim(), "mia is now viewer.");
    env.ok(&["audit", "verify"]);
}

#[test]
fn a_role_change_refuses_the_last_admin_unknown_logins_and_bad_roles() {
    let env = Env::new();
    let me = me(&env);
    let last = env.run(&["operator", "role", &me, "manager"]).expect(5);
    assert!(last.stderr.contains("last admin"), "{}", last.stderr);
    env.run(&["operator", "role", "nobody", "viewer"]).expect(4);
    env.run(&["operator", "role", &me, "owner"]).expect(2);
    env.run(&["operator", "role", &me, "admin"]).expect(2);
    // With a second admin, the first may step down; the second is then the last.
    env.add_operator("ada", "admin");
    env.ok(&["operator", "role", &me, "manager"]);
    let refused = env.run(&["operator", "role", "ada", "viewer"]).expect(3);
    assert!(refused.stderr.contains("manager"), "{}", refused.stderr);
    env.run(&["operator", "remove", "ada"]).expect(3);
}

#[test]
fn the_last_admin_is_never_demoted_even_by_another_admin() {
    require_root!();
    let env = Env::new();
    let me = me(&env);
    env.add_operator("ada", "admin");
    env.run_as("ada", &["operator", "role", &me, "viewer"])
        .expect(0);
    env.run_as("ada", &["operator", "role", "ada", "manager"])
        .expect(5);
    env.run_as("ada", &["operator", "remove", "ada"]).expect(5);
}

#[test]
fn managers_and_viewers_cannot_change_roles() {
    require_root!();
    let (env, _) = store_with_roles();
    env.run_as("mia", &["operator", "role", "vic", "manager"])
        .expect(3);
    env.run_as("vic", &["operator", "role", "vic", "admin"])
        .expect(3);
    env.run_as("mia", &["operator", "role", "mia", "admin"])
        .expect(3);
    let ops = env.json(&["operator", "list", "--json"]);
    let role = |login: &str| {
        ops.as_array()
            .unwrap()
            .iter()
            .find(|o| o["login"] == login)
            .unwrap()["role"]
            .clone()
    };
    assert_eq!(role("mia"), "manager");
    assert_eq!(role("vic"), "viewer");
}

/// Root acting as another login (`--as`) writes that login's rows, with the
/// login behind it where a sudo's invoking user goes: such a row never reads
/// as the other login's own.
#[test]
fn a_row_written_as_another_login_names_the_login_behind_it() {
    if !common::is_root() {
        eprintln!("skipped: only root may act as another login");
        return;
    }
    let env = Env::with_instance();
    env.add_operator("vera", "manager");
    env.run_as("vera", &["team", "add", "vera-team"]).expect(0);
    let last = |env: &Env| env.json(&["history", "--limit", "1", "--json"])[0].clone();
    let row = last(&env);
    assert_eq!(row["action"], "team_added", "{row}");
    assert_eq!(row["login"], "vera", "{row}");
    assert_eq!(row["sudo_user"], "root", "{row}");
    // Not acting as anyone: root's own row, no one behind it.
    env.ok(&["team", "add", "root-team"]);
    let row = last(&env);
    assert_eq!(row["login"], "root", "{row}");
    assert_eq!(row["sudo_user"], serde_json::Value::Null, "{row}");
}
