//! What passes between the router and a feature: `Cx`, what a feature's
//! update may touch besides its own state; `Ask`, what it asks of the router
//! and so of the other features; and `Window`, what a window over the tab is.

use super::Modal;
use crate::tui::kit::{keymap, theme};
use crate::tui::state::{Effect, Tab, UiSettings};
use crate::tui::windows::confirm::Confirm;
use keyward_core::domain::model::Role;
use keyward_core::error::Error;
use keyward_core::export::Column;

/// What a feature asks of the router: every change outside its own state. The
/// router carries them out in order once the feature returns, so features never
/// reach into each other.
#[derive(Debug)]
pub enum Ask {
    /// A message on the status line.
    Say(String),
    /// A message on the status line that stands out.
    Warn(String),
    /// Open a window over the tab (replacing the one open).
    Open(Modal),
    /// A confirmation over the window that asks it, which comes back on "no".
    AskFirst(Confirm),
    /// Close the window.
    Close,
    /// Leave keyward.
    Quit,
    /// Show this tab, with its data as the store has it now.
    GoTab(Tab),
    /// Show the History tab filtered to this key.
    ShowKeyHistory { public_id: String, name: String },
    /// Show the Keys tab with this filter applied.
    ApplyKeyFilter(String),
    /// A change was saved: the list, the team counts and the history as they are now.
    Refresh,
    /// The change queued notifications: deliver them and count what waits.
    Deliver,
    /// Forget the selection (its keys were deactivated or deleted).
    ClearSelection,
    /// The History tab shows these columns.
    ShowColumns(Vec<Column>),
}

/// A feature's view of the moment: the effects and requests it adds, and the
/// facts it reads (the store's clock, the operator's role, the screen's size).
pub struct Cx<'a> {
    pub fx: &'a mut Vec<Effect>,
    pub asks: &'a mut Vec<Ask>,
    /// The store's clock at the last load (Unix seconds).
    pub now: i64,
    pub role: Role,
    pub settings: &'a UiSettings,
    pub width: u16,
    pub height: u16,
}

impl Cx<'_> {
    pub fn effect(&mut self, effect: Effect) {
        self.fx.push(effect);
    }

    pub fn ask(&mut self, ask: Ask) {
        self.asks.push(ask);
    }

    pub fn say(&mut self, text: String) {
        self.ask(Ask::Say(text));
    }

    pub fn warn(&mut self, text: String) {
        self.ask(Ask::Warn(text));
    }

    pub fn fail(&mut self, e: &Error) {
        self.warn(e.to_string());
    }

    /// Whether the operator's role allows `what`; says why not if it does not.
    pub fn may(&mut self, role: Role, what: &str) -> bool {
        if self.role >= role {
            return true;
        }
        let text = format!("You are a {}; {what} needs the {role} role.", self.role);
        self.warn(text);
        false
    }
}

/// A window over the tab: its own state, the layer that takes its keys, what
/// its actions do and how it is drawn. The router registers each window once
/// (`windows!` in `router.rs`) and hands it its own state.
pub trait Window {
    /// Every layer this window may give keys to; the keymap tests walk them.
    fn layers() -> &'static [keymap::Layer]
    where
        Self: Sized;

    /// The layer that takes keys now.
    fn layer(&self) -> keymap::Layer;

    /// What a bound key does.
    fn act(&mut self, action: keymap::Action, cx: &mut Cx);

    /// A key no binding took, typed into the focused text field.
    fn type_text(&mut self, _event: &ratatui::crossterm::event::Event) {}

    fn draw(
        &self,
        state: &crate::tui::state::State,
        theme: &theme::Theme,
        frame: &mut ratatui::Frame,
    );
}
