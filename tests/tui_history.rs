//! The History tab end to end, in a real terminal (tmux): `h` on the Keys tab
//! shows one key's history, and `Enter` opens the row of an edit made through
//! the CLI with its change as before → after.

#[macro_use]
mod common;

use common::Env;
use common::tmux::{Tmux, binary};
use common::tools::require;

#[test]
fn enter_on_a_history_row_shows_the_edit_before_and_after() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::with_instance();
    let (id, _) = env.create_key("billing sync", "Ana", "ci");
    env.ok(&["key", "edit", &id, "--name", "billing sync v2"]);
    env.create_key("other key", "Ben", "web");
    let tmux = Tmux::start(env.dir.path());
    let pane = tmux.run(&format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY '{}' --db '{}'; exec sleep 120",
        binary().display(),
        env.db.display()
    ));
    // `h` on the edited key: its history only, and the filter line says whose.
    pane.wait_for("other key");
    pane.keys(&["/"]);
    pane.type_text("billing");
    pane.keys(&["Enter"]);
    pane.wait_until("the filter applied", |s| !s.contains("other key"));
    pane.keys(&["h"]);
    let screen = pane.wait_for("history of key billing sync v2");
    assert!(screen.contains(&format!("key:{id}")), "{screen}");
    pane.wait_for("updated");

    // The newest row is the edit: Enter opens it.
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("Changes (before → after)");
    assert!(screen.contains("History row"), "{screen}");
    assert!(screen.contains("updated"), "{screen}");
    assert!(
        screen.contains("  name: billing sync → billing sync v2"),
        "{screen}"
    );
    pane.keys(&["Escape"]);
    pane.wait_until("the row closed", |s| !s.contains("Changes (before"));
    pane.keys(&["q"]);
}
