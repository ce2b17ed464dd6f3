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

use keyward_core::access::Presence;
use keyward_core::domain::history::Origin;
use keyward_core::error::{Error, Result};
use keyward_core::service::{Clock, Location, Settings};
use state::{Effect, State, UiSettings};
use std::io::IsTerminal;
use std::sync::Arc;

/// What the screen needs to start.
pub struct Options {
    pub db: Location,
    /// The store as shown: its path, and the configuration file that chose it.
    pub store_label: String,
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
    // A store this login may not read is not a missing one: it is never
    // offered to be created again, and the refusal names what refused.
    let (exists, denied) = match options.db.presence()? {
        Presence::Missing => (false, None),
        Presence::Present => (true, None),
        Presence::Denied(e) => (true, Some(e)),
    };
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        if let Some(e) = denied {
            return Err(e);
        }
        return Err(if exists {
            Error::usage(
                "keyward's screen needs a terminal; for scripts use the subcommands (keyward --help)",
            )
        } else {
            Error::store(format!(
                "no store at {}; create one with `keyward init --name NAME --email EMAIL` or `keyward demo`",
                options.db
            ))
        });
    }
    let setup_login = (!exists).then(|| options.origin.login.clone());
    let mut state = State::new(options.ui, options.store_label, setup_login);
    if !exists {
        state.demo_store = Some(options.db.demo_beside().to_string());
    }
    if let Some(e) = &denied {
        state.screen = state::Screen::Refused(first_run::refusal(e, &state.store));
    }
    let start = if exists && denied.is_none() {
        vec![Effect::LoadMe]
    } else {
        Vec::new()
    };
    let opening = worker::Opening {
        location: options.db,
        origin: options.origin,
        clock: options.clock,
        settings: options.settings,
        delivery: options.delivery,
    };
    runtime::run(state, opening, start)
}
