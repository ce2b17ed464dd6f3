//! The screens before the tabs: the first run's setup (name and email of the
//! first admin), the offer of sample data, a login that may not use the
//! store, and the moment before the operator is known.

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
pub mod view;

use crate::tui::kit::keymap::{
    Action, BACKTAB, Binding, DOWN, ENTER, ESC, Layer, TAB, UP, bind, ctrl, key,
};
use crate::tui::router::{Ask, Cx};
use crate::tui::state::Effect;
use keyward_core::error::Error;
use ratatui::crossterm::event::Event;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// The setup screen's two inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupField {
    Name,
    Email,
}

impl SetupField {
    fn other(self) -> SetupField {
        match self {
            SetupField::Name => SetupField::Email,
            SetupField::Email => SetupField::Name,
        }
    }
}

#[derive(Debug)]
pub struct Setup {
    pub login: String,
    pub store: String,
    pub name: Input,
    pub email: Input,
    pub focus: SetupField,
    pub error: Option<String>,
    pub busy: bool,
}

impl Setup {
    /// The setup of a new store at `store` for `login`.
    pub fn new(login: String, store: String) -> Setup {
        Setup {
            login,
            store,
            name: Input::default(),
            email: Input::default(),
            focus: SetupField::Name,
            error: None,
            busy: false,
        }
    }

    /// The store could not be made: why, on the same screen.
    pub fn refused(&mut self, e: &Error) {
        self.busy = false;
        self.error = Some(e.to_string());
    }
}

static SETUP: &[Binding] = &[
    bind(&[TAB, DOWN], Action::NextField, "next field", "next"),
    bind(&[BACKTAB, UP], Action::PrevField, "previous field", ""),
    bind(
        &[ENTER],
        Action::Confirm,
        "next, or create the store",
        "next",
    ),
    bind(
        &[ESC, ctrl('c')],
        Action::Quit,
        "quit without creating anything",
        "quit",
    ),
];

static OFFER_DEMO: &[Binding] = &[
    bind(
        &[key('y')],
        Action::Confirm,
        "create and open a separate demo store with sample data",
        "demo store",
    ),
    bind(
        &[key('n'), ESC, ENTER],
        Action::Cancel,
        "open your store, empty",
        "my store",
    ),
];

static NOT_OPERATOR: &[Binding] = &[bind(
    &[key('q'), ESC, ENTER, ctrl('c')],
    Action::Quit,
    "quit",
    "quit",
)];

pub const SETUP_LAYER: Layer = Layer {
    name: "first run",
    bindings: SETUP,
    takes_text: true,
    note: "",
};

pub const OFFER_DEMO_LAYER: Layer = Layer {
    name: "sample data",
    bindings: OFFER_DEMO,
    takes_text: false,
    note: "",
};

pub const NOT_OPERATOR_LAYER: Layer = Layer {
    name: "keyward",
    bindings: NOT_OPERATOR,
    takes_text: false,
    note: "",
};

pub fn setup_act(s: &mut Setup, action: Action, cx: &mut Cx) {
    match action {
        Action::Quit => cx.ask(Ask::Quit),
        Action::NextField | Action::PrevField => s.focus = s.focus.other(),
        Action::Confirm if s.focus == SetupField::Name => s.focus = SetupField::Email,
        Action::Confirm if !s.busy => {
            let name = s.name.value().trim().to_owned();
            let email = s.email.value().trim().to_owned();
            if name.is_empty() {
                s.error = Some("your name is needed".to_owned());
                s.focus = SetupField::Name;
            } else if !email.contains('@') {
                s.error = Some("an email address such as ana@example.org is needed".to_owned());
            } else {
                s.busy = true;
                s.error = None;
                cx.effect(Effect::CreateStore { name, email });
            }
        }
        _ => {}
    }
}

/// A key no binding took, typed into the focused input.
pub fn setup_type(s: &mut Setup, event: &Event) {
    let input = match s.focus {
        SetupField::Name => &mut s.name,
        SetupField::Email => &mut s.email,
    };
    input.handle_event(event);
    s.error = None;
}

/// The admin's answer to the offer of sample data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Sample data is loading; the tabs open once it is in.
    Taken,
    /// The tabs open on the empty store now.
    Declined,
}

/// `y` loads sample data; anything else starts with the empty store.
pub fn offer_act(action: Action, cx: &mut Cx) -> Offer {
    if action == Action::Confirm {
        cx.say("Creating the demo store…".into());
        cx.effect(Effect::LoadDemo);
        return Offer::Taken;
    }
    Offer::Declined
}

/// Why this login may not use the store (named as `store`: its path and the
/// configuration file that chose it), and who to ask.
pub fn refusal(e: &Error, store: &str) -> String {
    match e {
        Error::Permission(m) => format!(
            "{m}\n\nStore: {store}\n\nAsk an admin of this store to add you; until then keyward cannot show it."
        ),
        other => format!("{other}\n\nStore: {store}"),
    }
}
