//! The Directory tab end to end, in a real terminal (tmux): an admin edits an
//! instance and removes a developer whose keys are deactivated first, and the
//! CLI's lists agree with what the screen said.

#[macro_use]
mod common;

use common::Env;
use common::tmux::{Pane, Tmux, binary};
use common::tools::require;

/// Starts keyward in a pane on `env`'s store, with an empty configuration;
/// after it quits the pane says so.
fn start<'t>(tmux: &'t Tmux, env: &Env) -> Pane<'t> {
    let config = env.write("config.toml", "");
    tmux.run(&format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY '{}' --config '{}' --db '{}'; echo \"EXITED $?\"; exec sleep 120",
        binary().display(),
        config.display(),
        env.db.display()
    ))
}

/// Opens the Directory tab and waits for its lists.
fn open_directory(pane: &Pane) {
    pane.wait_for("Keys");
    pane.keys(&["5"]);
    pane.wait_for("Developers of acme");
}

fn quit(pane: &Pane) {
    pane.keys(&["q"]);
    let screen = pane.wait_for("EXITED 0");
    assert!(!screen.contains("panicked"), "{screen}");
}

#[test]
fn removing_a_developer_deactivates_their_keys_after_a_y() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::with_instance();
    let (first, _) = env.create_key("bob one", "Bob", "ci");
    let (second, _) = env.create_key("bob two", "Bob", "ide");
    let (kept, _) = env.create_key("ana's", "Ana", "ci");
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env);
    open_directory(&pane);
    // Developers are listed by name: Ana, then Bob.
    pane.keys(&["l", "j", "D"]);
    let confirm = pane.wait_for("Remove developer Bob?");
    for warning in [
        "Their 2 active keys are deactivated first",
        "cannot be undone",
        "Integrations using these keys stop working",
        "rely on these keys will fail",
        // Each key to be deactivated is named.
        "bob one (kw_",
        "bob two (kw_",
    ] {
        assert!(confirm.contains(warning), "{warning}:\n{confirm}");
    }
    assert!(!confirm.contains("ana's"), "{confirm}");
    // Enter does not confirm.
    pane.keys(&["Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(pane.screen().contains("Remove developer Bob?"));
    pane.keys(&["y"]);
    pane.wait_for("Removed developer Bob from acme. Deactivated 2 keys first.");
    // The list reloaded: Bob is gone.
    let screen = pane.wait_until("Bob gone", |s| !s.contains("Bob"));
    assert!(screen.contains("Ana"), "{screen}");
    quit(&pane);

    let keys = env.json(&["key", "list", "--json"]);
    let status = |id: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .map(|k| k["status"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status(&first).as_deref(), Some("deactivated"));
    assert_eq!(status(&second).as_deref(), Some("deactivated"));
    assert_eq!(status(&kept).as_deref(), Some("active"));
    let devs = env.json(&["developer", "list", "--json"]);
    let names: Vec<&str> = devs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["Ana"]);
}

#[test]
fn an_instance_edit_shows_its_effect_then_saves_the_new_limit() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::with_instance();
    env.create_key("one", "Bob", "ci");
    env.create_key("two", "Bob", "ci");
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env);
    open_directory(&pane);
    pane.keys(&["e"]);
    pane.wait_for("Edit instance acme");
    // Cloud, URL, then the limit.
    pane.keys(&["Tab", "Tab", "C-u"]);
    pane.type_text("1");
    pane.keys(&["Enter"]);
    let preview = pane.wait_for("limit: 2 → 1");
    assert!(
        preview.contains("Bob / ci: 2 active, over the new limit of 1"),
        "{preview}"
    );
    // Nothing is saved before the second Enter.
    assert_eq!(
        env.json(&["instance", "list", "--json"])[0]["max_active"],
        2
    );
    pane.keys(&["Enter"]);
    pane.wait_for("Saved instance acme.");
    quit(&pane);
    let instances = env.json(&["instance", "list", "--json"]);
    assert_eq!(instances[0]["name"], "acme");
    assert_eq!(instances[0]["max_active"], 1);
    assert_eq!(instances[0]["cloud"], "salesforce");
}
