//! Bulk actions end to end in a real terminal (tmux): select-all and deactivate
//! on a demo store of 10 000 keys takes exactly the active ones, with the
//! number of keys typed; Enter never confirms a deactivation; one key
//! deactivated offers its replacement, prefilled.

#[macro_use]
mod common;

use common::Env;
use common::tmux::{Pane, Tmux, binary};
use common::tools::require;
use serde_json::Value;
use std::collections::BTreeMap;

/// Starts keyward in a pane on `env`'s store.
fn start<'t>(tmux: &'t Tmux, env: &Env) -> Pane<'t> {
    let config = env.write("config.toml", "");
    tmux.run(&format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY '{}' --config '{}' --db '{}'; echo \"EXITED $?\"; exec sleep 120",
        binary().display(),
        config.display(),
        env.db.display()
    ))
}

/// Every key's status by public id, as `key list --all --json` has it.
fn statuses(env: &Env) -> BTreeMap<String, String> {
    let list = env.json(&["key", "list", "--all", "--json"]);
    list.as_array()
        .expect("an array of keys")
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap_or_default().to_owned(),
                k["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn count(of: &BTreeMap<String, String>, status: &str) -> usize {
    of.values().filter(|s| *s == status).count()
}

#[test]
fn select_all_then_x_on_ten_thousand_demo_keys_deactivates_exactly_the_active_ones() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::empty();
    env.ok(&["demo", "--keys", "10000"]);
    let before = statuses(&env);
    assert_eq!(before.len(), 10_000);
    let active = count(&before, "active");
    let (deactivated, expired) = (count(&before, "deactivated"), count(&before, "expired"));
    assert!(
        active > 10 && deactivated > 0 && expired > 0,
        "{active} {deactivated} {expired}"
    );
    // The Keys tab hides deleted keys: what it lists.
    let listed = 10_000 - count(&before, "deleted");

    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env);
    pane.wait_for(&format!("of {listed}"));
    pane.keys(&["a"]);
    pane.wait_for(&format!("{listed} keys selected"));
    pane.keys(&["x"]);
    let confirm = pane.wait_for(&format!("Deactivate {active} keys?"));
    assert!(
        confirm.contains(&format!("{listed} selected: {active} will be deactivated")),
        "{confirm}"
    );
    // "(final)" may wrap to the next line.
    assert!(confirm.contains("are already deactivated"), "{confirm}");
    assert!(
        confirm.contains(&format!("Type {active} to confirm")),
        "{confirm}"
    );
    // A wrong number refuses.
    pane.type_text("1");
    pane.keys(&["y"]);
    pane.wait_for("the number of keys, to confirm");
    pane.keys(&["BSpace"]);
    pane.type_text(&active.to_string());
    pane.keys(&["y"]);
    pane.wait_for(&format!("Deactivated {active} keys."));
    pane.keys(&["q"]);
    pane.wait_for("EXITED 0");

    let after = statuses(&env);
    for (id, was) in &before {
        let now = &after[id];
        if was == "active" {
            assert_eq!(now, "deactivated", "{id} was active");
        } else {
            assert_eq!(now, was, "{id} was {was} and is left so");
        }
    }
    assert_eq!(count(&after, "deactivated"), deactivated + active);
}

/// A store with one active key, made through the CLI.
fn store_with_a_key() -> (Env, String) {
    let env = Env::new();
    env.ok(&["instance", "add", "acme", "--cloud", "salesforce"]);
    let made: Value = serde_json::from_str(&env.ok(&[
        "key",
        "create",
        "--name",
        "billing sync",
        "--instance",
        "acme",
        "--developer",
        "Ana Lopez",
        "--channel",
        "ci",
        "--team",
        "payments",
        "--json",
    ]))
    .expect("key create --json");
    let id = made["id"].as_str().unwrap_or_default().to_owned();
    (env, id)
}

#[test]
fn enter_in_the_deactivate_window_does_nothing_and_y_then_offers_the_replacement() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let (env, id) = store_with_a_key();
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env);
    pane.wait_until("the row loaded", |s| {
        s.lines()
            .any(|l| l.contains("billing sync") && l.contains("active"))
    });
    pane.keys(&["x"]);
    let confirm = pane.wait_for("Deactivate 1 key?");
    assert!(confirm.contains("Enter does nothing here"), "{confirm}");
    pane.keys(&["Enter"]);
    pane.keys(&["Enter"]);
    // Keys are taken in order: once `?` shows this window's help, both
    // Enters were taken, and did nothing.
    pane.keys(&["?"]);
    let help = pane.wait_for("only y says yes");
    assert!(!help.contains("Deactivated billing sync"), "{help}");
    pane.keys(&["Escape"]);
    pane.wait_for("Deactivate 1 key?");
    assert_eq!(statuses(&env)[&id], "active");

    pane.keys(&["y"]);
    pane.wait_for("Deactivated billing sync");
    let offer = pane.wait_for("Replace billing sync?");
    assert!(offer.contains("Generate a new API key"), "{offer}");
    pane.keys(&["y"]);
    let form = pane.wait_for("New key");
    for value in ["billing sync", "acme", "Ana Lopez", "ci", "payments", "90d"] {
        assert!(form.contains(value), "{value}:\n{form}");
    }
    assert_eq!(statuses(&env)[&id], "deactivated");
}
