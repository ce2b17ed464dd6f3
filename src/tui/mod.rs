//! keyward's terminal application (SPEC §4): five tabs over the service layer.
//!
//! Data flows one way: key event → keymap → `Msg` → `router::update` → the
//! feature's update → `Effect` → worker (service → store) → result `Msg` →
//! `update` → `view`. One folder per feature (`keys/`, `filters/`,
//! `history/`, `directory/`, `key_form/`, `windows/`, `first_run/`), each with its state,
//! update, view and keymap table, over the shared `kit/`.

pub mod directory;
pub mod filters;
pub mod first_run;
pub mod headless;
pub mod history;
pub mod key_form;
pub mod keys;
pub mod kit;
pub mod router;
pub mod runtime;
#[cfg(test)]
pub(crate) mod snapshot_testing;
pub mod state;
#[cfg(test)]
pub(crate) mod testing;
pub mod view;
pub mod windows;
pub mod worker;

use keyward_core::domain::history::Origin;
use keyward_core::error::{Error, Result};
use keyward_core::service::{Clock, Settings};
use state::{Effect, State, UiSettings};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// What the screen needs to start.
pub struct Options {
    pub db: PathBuf,
    pub origin: Origin,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub ui: UiSettings,
    /// How to deliver notifications in the background; `None` when no
    /// delivery is configured.
    pub delivery: Option<worker::BackgroundDelivery>,
}

/// Runs the terminal application until the operator quits. With no store yet it
/// opens on the first-run setup screen.
pub fn run(options: Options) -> Result<()> {
    let exists = options.db.exists();
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(if exists {
            Error::usage(
                "keyward's screen needs a terminal; for scripts use the subcommands (keyward --help)",
            )
        } else {
            Error::store(format!(
                "no store at {}; create one with `keyward init --name NAME --email EMAIL` or `keyward demo`",
                options.db.display()
            ))
        });
    }
    let setup_login = (!exists).then(|| options.origin.login.clone());
    let state = State::new(options.ui, options.db.display().to_string(), setup_login);
    let start = if exists {
        vec![Effect::LoadMe]
    } else {
        Vec::new()
    };
    let opening = worker::Opening {
        path: options.db,
        origin: options.origin,
        clock: options.clock,
        settings: options.settings,
        delivery: options.delivery,
    };
    runtime::run(state, opening, start)
}
