//! The screen never goes stale, end to end in a real terminal (tmux): changes
//! made from the CLI while keyward is open show on screen within three
//! seconds, with no key pressed.

#[macro_use]
mod common;

use common::Env;
use common::tmux::{Pane, Tmux, binary};
use common::tools::require;
use std::time::{Duration, Instant};

/// How soon another process's change must show (the store is polled every 1.5 s).
const SOON: Duration = Duration::from_secs(3);

/// keyward on `env`'s store with an empty configuration (no `[notify]`).
fn open_screen<'t>(tmux: &'t Tmux, env: &Env) -> Pane<'t> {
    let config = env.write("config.toml", "");
    tmux.run(&format!(
        "'{}' --config '{}' --db '{}'; echo EXITED $?; exec sleep 120",
        binary().display(),
        config.display(),
        env.db.display()
    ))
}

/// Waits for `what` to hold on screen; fails unless it did within `SOON` of `since`.
fn shows_soon(pane: &Pane, since: Instant, what: &str, done: impl Fn(&str) -> bool) -> String {
    let screen = pane.wait_until(what, done);
    let took = since.elapsed();
    eprintln!("{what} showed after {took:?}");
    assert!(took <= SOON, "{what} took {took:?}:\n{screen}");
    screen
}

fn row<'s>(screen: &'s str, name: &str) -> Option<&'s str> {
    screen.lines().find(|l| l.contains(name))
}

#[test]
fn a_change_from_the_cli_shows_in_an_open_screen_without_a_key_press() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::with_instance();
    let (id, _) = env.create_key("billing sync", "Ana Lopez", "ci");
    let tmux = Tmux::start(env.dir.path());
    let pane = open_screen(&tmux, &env);
    pane.wait_until("the row loaded", |s| {
        row(s, "billing sync").is_some_and(|l| l.contains("active"))
    });
    // What the CLI queued is delivered nowhere (no `[notify]`): the badge says so.
    pane.wait_for("queued, no delivery configured");

    // Deactivated from the CLI: the row turns, the cursor stays on it.
    env.run(&["key", "deactivate", &id, "--yes"]).expect(0);
    let at = Instant::now();
    shows_soon(&pane, at, "the deactivation", |s| {
        row(s, "billing sync").is_some_and(|l| l.contains("deact"))
    });

    // Created from the CLI: the new key joins the list and the count.
    env.create_key("crm export", "Ana Lopez", "ci");
    let at = Instant::now();
    let screen = shows_soon(&pane, at, "the new key", |s| {
        row(s, "crm export").is_some() && s.contains("Keys 1 of 2")
    });
    assert!(
        row(&screen, "billing sync").is_some_and(|l| l.contains('›')),
        "the cursor stays on the same key:\n{screen}"
    );

    // Ctrl-R reloads by hand and says so; Esc clears the message.
    pane.keys(&["C-r"]);
    pane.wait_for("Reloaded from the store.");
    pane.keys(&["Escape"]);
    pane.wait_until("the message cleared", |s| !s.contains("Reloaded"));
    pane.keys(&["q"]);
    pane.wait_for("EXITED 0");
}

/// On a server, a connection killed under an open screen (a restart, a DBA's
/// `pg_terminate_backend`) is made again: the screen says so, keeps what it
/// shows meanwhile, and goes on showing other hosts' changes.
#[test]
fn a_lost_connection_to_a_server_is_made_again_and_the_screen_says_so() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::with_instance();
    if !env.on_postgres() {
        // A file has no connection to lose; this runs in the PostgreSQL pass.
        return;
    }
    env.create_key("billing sync", "Ana Lopez", "ci");
    let tmux = Tmux::start(env.dir.path());
    let pane = open_screen(&tmux, &env);
    pane.wait_until("the row loaded", |s| row(s, "billing sync").is_some());
    // Every session of the store's database but this one: the screen's own
    // and its listener's.
    env.bypass(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )
    .expect("sessions terminated");
    let screen = pane.wait_for("Reconnected to the store.");
    assert!(row(&screen, "billing sync").is_some(), "{screen}");
    env.create_key("crm export", "Ana Lopez", "ci");
    let at = Instant::now();
    shows_soon(&pane, at, "a change after the reconnection", |s| {
        row(s, "crm export").is_some()
    });
    pane.keys(&["q"]);
    pane.wait_for("EXITED 0");
}
