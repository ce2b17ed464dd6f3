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
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    for statement in [
        "DELETE FROM operators WHERE role = 'admin'",
        "UPDATE operators SET role = 'viewer' WHERE role = 'admin'",
    ] {
        let err = conn.execute(statement, []).unwrap_err();
        assert!(err.to_string().contains("last admin"), "{statement}: {err}");
    }
    let admins: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM operators WHERE role = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(admins, 1);
}
