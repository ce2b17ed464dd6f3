//! Bare `keyward` until the TUI lands: a first run that creates the store on a
//! terminal, and an overview of an existing store.

mod common;

use common::{BIN, Env};
use std::process::{Command, Stdio};

#[test]
fn without_a_store_or_a_terminal_it_says_how_to_make_one() {
    let env = Env::empty();
    let run = env.run(&[]).expect(6);
    assert!(run.stderr.contains("keyward init"), "{}", run.stderr);
    assert!(!env.db.exists());
}

#[test]
fn the_overview_shows_who_you_are_and_what_expires_soon() {
    let env = Env::with_instance();
    env.ok(&[
        "key",
        "create",
        "--name",
        "soon gone",
        "--instance",
        "acme",
        "--developer",
        "Ana",
        "--channel",
        "ci",
        "--expires",
        "5d",
    ]);
    env.create_key("long lived", "Ben", "ci");
    let out = env.ok(&[]);
    assert!(out.contains("you are Test Admin (admin)"), "{out}");
    assert!(out.contains("2 keys: 2 active"), "{out}");
    assert!(out.contains("soon gone"), "{out}");
    assert!(!out.contains("long lived"), "{out}");
}

/// Runs bare keyward on a pseudo-terminal (util-linux `script`), typing `answers`.
fn first_run(env: &Env, answers: &str) -> String {
    let command = format!("{BIN} --db '{}'", env.db.display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", env.dir.path())
        .env_remove("KEYWARD_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(answers.as_bytes())?;
            child.wait_with_output()
        })
        .expect("script runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_first_run_on_a_terminal_creates_the_store_with_this_login_as_admin() {
    let env = Env::empty();
    let screen = first_run(&env, "Ada Admin\nada@example.org\nn\n");
    assert!(screen.contains("Your name:"), "{screen}");
    assert!(screen.contains("Created the store"), "{screen}");
    let ops = env.json(&["operator", "list", "--json"]);
    assert_eq!(ops[0]["name"], "Ada Admin");
    assert_eq!(ops[0]["role"], "admin");
    assert!(
        env.json(&["key", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_first_run_can_load_sample_data() {
    let env = Env::empty();
    first_run(&env, "Ada Admin\nada@example.org\ny\n");
    let keys = env.json(&["key", "list", "--all", "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 200);
}
