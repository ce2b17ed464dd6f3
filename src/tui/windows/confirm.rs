//! The one confirmation window: every destructive or lossy step asks here
//! first, naming what it touches, and `y` (or Enter) carries it out.

use crate::tui::kit::keymap::{Action, Binding, ENTER, ESC, Layer, bind, key};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{safe, window, wrapped_height};
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::domain::model::Key;
use keyward_core::service::TeamChanges;
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Keys named one by one in a confirmation before "and N more".
const NAMED_IN_CONFIRM: usize = 5;

/// A key named in a confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBrief {
    pub public_id: String,
    pub name: String,
    /// Whether it is not yet deactivated or deleted (active or expired): the
    /// deactivation warnings apply to it.
    pub active: bool,
}

impl KeyBrief {
    pub fn of(key: &Key) -> KeyBrief {
        KeyBrief {
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            active: !key.status.is_final(),
        }
    }
}

/// A change waiting for the admin's yes: one path for every confirmation.
#[derive(Debug)]
pub enum Pending {
    Deactivate(Vec<KeyBrief>),
    Delete(Vec<KeyBrief>),
    ChangeTeams {
        ids: Vec<String>,
        changes: TeamChanges,
    },
    DeleteFilter(String),
    /// Leave the program although a form holds unsaved input.
    Quit,
    /// Close a form and lose its input.
    Discard,
    /// Close the new-secret modal although the key was never copied.
    LeaveSecret,
}

#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
    /// The modal to go back to on "no" (the form or secret it interrupted).
    pub back: Option<Box<Modal>>,
}

impl Confirm {
    /// Deactivating keys: names them, with the three warnings.
    pub fn deactivate(keys: Vec<KeyBrief>) -> Confirm {
        let mut lines = named(&keys);
        lines.push(String::new());
        lines.extend(DEACTIVATION_WARNINGS.iter().map(|w| format!("! {w}")));
        Confirm {
            title: format!("Deactivate {}?", count_keys(keys.len())),
            lines,
            pending: Pending::Deactivate(keys),
            back: None,
        }
    }

    /// Deleting keys: names them; active ones get the deactivation warnings too.
    pub fn delete(keys: Vec<KeyBrief>) -> Confirm {
        let mut lines = named(&keys);
        lines.push(String::new());
        lines.push("Deleted keys leave the list; their history stays.".to_owned());
        if keys.iter().any(|k| k.active) {
            lines.push("Active keys are deactivated first:".to_owned());
            lines.extend(DEACTIVATION_WARNINGS.iter().map(|w| format!("! {w}")));
        }
        Confirm {
            title: format!("Delete {}?", count_keys(keys.len())),
            lines,
            pending: Pending::Delete(keys),
            back: None,
        }
    }
}

/// The three warnings of the seed portal, before a key is deactivated.
pub const DEACTIVATION_WARNINGS: [&str; 3] = [
    "Deactivation cannot be undone.",
    "Integrations using the key stop working until they get a new key.",
    "Apps that rely on the key will fail.",
];

fn named(keys: &[KeyBrief]) -> Vec<String> {
    let mut lines: Vec<String> = keys
        .iter()
        .take(NAMED_IN_CONFIRM)
        .map(|k| format!("  • {} (kw_{})", k.name, k.public_id))
        .collect();
    if keys.len() > NAMED_IN_CONFIRM {
        lines.push(format!("  … and {} more", keys.len() - NAMED_IN_CONFIRM));
    }
    lines
}

pub fn count_keys(n: usize) -> String {
    if n == 1 {
        "1 key".to_owned()
    } else {
        format!("{n} keys")
    }
}

static CONFIRM: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[key('y'), ENTER], Action::Confirm, "yes, do it", "yes"),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
];

pub const LAYER: Layer = Layer {
    name: "confirmation",
    bindings: CONFIRM,
    takes_text: false,
    note: "",
};

impl Window for Confirm {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        if action != Action::Confirm {
            cx.ask(match self.back.take() {
                Some(back) => Ask::Open(*back),
                None => Ask::Close,
            });
            return;
        }
        cx.ask(Ask::Close);
        let ids = |keys: &[KeyBrief]| keys.iter().map(|k| k.public_id.clone()).collect();
        match &self.pending {
            Pending::Deactivate(keys) => cx.effect(Effect::Deactivate(ids(keys))),
            Pending::Delete(keys) => cx.effect(Effect::Delete(ids(keys))),
            Pending::ChangeTeams { ids, changes } => cx.effect(Effect::ChangeTeams {
                ids: ids.clone(),
                changes: changes.clone(),
            }),
            Pending::DeleteFilter(name) => cx.effect(Effect::DeleteFilter(name.clone())),
            Pending::Quit => cx.ask(Ask::Quit),
            Pending::Discard | Pending::LeaveSecret => {}
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_confirm(self, theme, frame);
    }
}

fn draw_confirm(c: &Confirm, theme: &Theme, frame: &mut Frame) {
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| {
            let warning = l.starts_with('!') || DEACTIVATION_WARNINGS.iter().any(|w| l.contains(w));
            Line::from(Span::styled(
                safe(l),
                if warning {
                    theme.warning()
                } else {
                    Style::new()
                },
            ))
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "y: yes, do it · n / Esc: no",
        theme.key(),
    )));
    // As tall as the text once wrapped, with a spare row under it.
    let width = 74.min(frame.area().width);
    let height = wrapped_height(&lines, width.saturating_sub(2)) + 3;
    let inner = window(frame, width, height, format!(" {} ", safe(&c.title)));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
