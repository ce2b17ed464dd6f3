//! Key bindings as data: the types of the keymap tables that each feature keeps
//! beside its update. The router picks the layer, the layer's table turns a key
//! into an `Action`, and the help overlay and the footer hint line are drawn
//! from the same tables, so help can never drift from the keys.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for; `update` gives it a meaning in the current layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextTab,
    PrevTab,
    GoKeys,
    GoFilters,
    GoTeams,
    GoHistory,
    GoDirectory,
    /// The next or previous part of a tab (the Directory's sections).
    NextSection,
    PrevSection,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusFilter,
    Open,
    Close,
    New,
    Edit,
    Renew,
    Deactivate,
    Delete,
    Select,
    SelectAll,
    SelectNone,
    ManageTeams,
    Copy,
    Confirm,
    Cancel,
    Save,
    NextField,
    PrevField,
    Columns,
    Export,
    Rename,
    Apply,
    AddMark,
    RemoveMark,
    ToggleFormat,
    Reload,
    /// The History tab filtered to the key under the cursor.
    KeyHistory,
    /// The keys of the same integration as the one under the cursor.
    Integration,
}

/// A key with its modifiers; letters match whatever the Shift state says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
}

pub const fn key(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

pub const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub const fn code(code: KeyCode) -> Chord {
    Chord { code, ctrl: false }
}

pub const ENTER: Chord = code(KeyCode::Enter);
pub const ESC: Chord = code(KeyCode::Esc);
pub const TAB: Chord = code(KeyCode::Tab);
pub const BACKTAB: Chord = code(KeyCode::BackTab);
pub const UP: Chord = code(KeyCode::Up);
pub const DOWN: Chord = code(KeyCode::Down);
pub const LEFT: Chord = code(KeyCode::Left);
pub const RIGHT: Chord = code(KeyCode::Right);
pub const PAGE_UP: Chord = code(KeyCode::PageUp);
pub const PAGE_DOWN: Chord = code(KeyCode::PageDown);
pub const HOME: Chord = code(KeyCode::Home);
pub const END: Chord = code(KeyCode::End);

impl Chord {
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        ctrl == self.ctrl && self.code == ev.code
    }

    /// How the help overlay writes the key.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::BackTab => "Shift-Tab".to_owned(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::Left => "←".to_owned(),
            KeyCode::Right => "→".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// One row of a keymap table.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub keys: &'static [Chord],
    pub action: Action,
    /// What the help overlay says the key does.
    pub does: &'static str,
    /// The word for it in the footer hint line; empty keeps it out of the footer.
    pub hint: &'static str,
}

pub const fn bind(
    keys: &'static [Chord],
    action: Action,
    does: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        keys,
        action,
        does,
        hint,
    }
}

/// Where keys go at this moment: a tab, a window, a text line. Each feature
/// declares its layers beside its keymap table; the router picks one.
#[derive(Clone, Copy, Debug)]
pub struct Layer {
    /// What the help overlay's title calls it.
    pub name: &'static str,
    pub bindings: &'static [Binding],
    /// Whether unbound keys are typed into a text field in this layer.
    pub takes_text: bool,
    /// A line the help overlay shows under the keys (the marks a table uses).
    pub note: &'static str,
}

/// Layers are told apart by name: each names itself once (a test checks), and a
/// table's address is not stable across uses of a constant.
impl PartialEq for Layer {
    fn eq(&self, other: &Layer) -> bool {
        self.name == other.name
    }
}

impl Eq for Layer {}

impl Layer {
    /// The action this layer binds to the key, if any.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.keys.iter().any(|c| c.matches(ev)))
            .map(|b| b.action)
    }

    /// The footer hint line: `key label` pairs of the bindings marked for it.
    pub fn hints(&self) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| !b.hint.is_empty())
            .map(|b| (b.keys[0].label(), b.hint))
            .collect()
    }
}

/// Moving in a list: every tab has these.
pub const MOVE: [Binding; 6] = [
    bind(&[key('k'), UP], Action::Up, "move up", ""),
    bind(&[key('j'), DOWN], Action::Down, "move down", ""),
    bind(&[PAGE_UP, ctrl('b')], Action::PageUp, "page up", ""),
    bind(&[PAGE_DOWN, ctrl('f')], Action::PageDown, "page down", ""),
    bind(&[key('g'), HOME], Action::Top, "go to the top", ""),
    bind(&[key('G'), END], Action::Bottom, "go to the bottom", ""),
];

/// Switching tabs, reloading, help and quitting: every tab has these.
pub const TABS: [Binding; 10] = [
    bind(&[TAB], Action::NextTab, "next tab", ""),
    bind(&[BACKTAB], Action::PrevTab, "previous tab", ""),
    bind(&[key('1')], Action::GoKeys, "Keys tab", ""),
    bind(&[key('2')], Action::GoFilters, "Filters tab", ""),
    bind(&[key('3')], Action::GoTeams, "Teams tab", ""),
    bind(&[key('4')], Action::GoHistory, "History tab", ""),
    bind(&[key('5')], Action::GoDirectory, "Directory tab", ""),
    bind(
        &[ctrl('r')],
        Action::Reload,
        "reload now (others' changes also show within 2 s)",
        "",
    ),
    bind(&[key('?')], Action::Help, "help for this screen", "help"),
    bind(&[key('q'), ctrl('c')], Action::Quit, "quit", "quit"),
];

/// A keymap table: its own rows, then shared ones (`+ MOVE + TABS`).
macro_rules! table {
    ($name:ident, [$($own:expr),* $(,)?] $(+ $shared:ident)*) => {
        pub static $name: &[$crate::tui::kit::keymap::Binding] = &{
            const OWN: &[$crate::tui::kit::keymap::Binding] = &[$($own),*];
            const SHARED: &[&[$crate::tui::kit::keymap::Binding]] = &[$(&$shared),*];
            const N: usize = OWN.len() $(+ $shared.len())*;
            let mut out = [$crate::tui::kit::keymap::bind(
                &[],
                $crate::tui::kit::keymap::Action::Quit,
                "",
                "",
            ); N];
            let mut i = 0;
            while i < OWN.len() {
                out[i] = OWN[i];
                i += 1;
            }
            let mut s = 0;
            while s < SHARED.len() {
                let mut j = 0;
                while j < SHARED[s].len() {
                    out[i] = SHARED[s][j];
                    i += 1;
                    j += 1;
                }
                s += 1;
            }
            out
        };
    };
}

pub(crate) use table;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::keymap::KEYS_LAYER;
    use crate::tui::router::all_layers;
    use ratatui::crossterm::event::KeyEventKind;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: ratatui::crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_layer() {
        let all = all_layers();
        // Every screen, tab and window is there, each under a name of its own.
        assert_eq!(all.len(), 24);
        let mut names: Vec<&str> = all.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for layer in all {
            let mut seen: Vec<Chord> = Vec::new();
            for b in layer.bindings {
                for c in b.keys {
                    assert!(
                        !seen.contains(c),
                        "{}: {} bound twice",
                        layer.name,
                        c.label()
                    );
                    seen.push(*c);
                }
            }
        }
    }

    #[test]
    fn spec_keys_are_bound_on_the_keys_tab() {
        let want = [
            ('n', Action::New),
            ('e', Action::Edit),
            ('r', Action::Renew),
            ('x', Action::Deactivate),
            ('D', Action::Delete),
            (' ', Action::Select),
            ('a', Action::SelectAll),
            ('t', Action::ManageTeams),
            ('/', Action::FocusFilter),
            ('?', Action::Help),
            ('q', Action::Quit),
            ('g', Action::Top),
            ('G', Action::Bottom),
            ('j', Action::Down),
            ('k', Action::Up),
        ];
        for (c, action) in want {
            let shift = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            assert_eq!(
                KEYS_LAYER.action(&press(KeyCode::Char(c), shift)),
                Some(action),
                "{c}"
            );
        }
        assert_eq!(
            KEYS_LAYER.action(&press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Open)
        );
    }

    #[test]
    fn letters_typed_into_a_line_are_not_taken_as_commands() {
        // The count a large deactivation asks for takes digits only: y and n
        // stay its answers.
        let digits_only = crate::tui::windows::confirm::TYPED_LAYER;
        for layer in all_layers()
            .into_iter()
            .filter(|l| l.takes_text && *l != digits_only)
        {
            for b in layer.bindings {
                for c in b.keys {
                    assert!(
                        c.ctrl || !matches!(c.code, KeyCode::Char(_)),
                        "{} binds the printable key {}",
                        layer.name,
                        c.label()
                    );
                }
            }
        }
    }

    #[test]
    fn every_layer_says_something_in_its_footer() {
        for layer in all_layers() {
            assert!(!layer.hints().is_empty(), "{}", layer.name);
        }
        let hints = KEYS_LAYER.hints();
        assert!(hints.iter().any(|(k, _)| k == "n"));
    }
}
