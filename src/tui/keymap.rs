//! Key bindings as data: one table per layer (a tab, a modal, a text line). The
//! router picks the layer, the layer's table turns a key into an `Action`, and
//! the help overlay and the footer hint line are drawn from the same tables, so
//! help can never drift from the keys.

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
}

/// A key with its modifiers; letters match whatever the Shift state says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

const fn code(code: KeyCode) -> Chord {
    Chord { code, ctrl: false }
}

const ENTER: Chord = code(KeyCode::Enter);
const ESC: Chord = code(KeyCode::Esc);
const TAB: Chord = code(KeyCode::Tab);
const BACKTAB: Chord = code(KeyCode::BackTab);
const UP: Chord = code(KeyCode::Up);
const DOWN: Chord = code(KeyCode::Down);
const PAGE_UP: Chord = code(KeyCode::PageUp);
const PAGE_DOWN: Chord = code(KeyCode::PageDown);
const HOME: Chord = code(KeyCode::Home);
const END: Chord = code(KeyCode::End);

impl Chord {
    fn matches(&self, ev: &KeyEvent) -> bool {
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

const fn bind(
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

/// Where keys go at this moment; the router in `update` picks one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Keys,
    Filters,
    Teams,
    History,
    /// A filter or query line being typed in.
    FilterLine,
    Form,
    Confirm,
    Renew,
    NewSecret,
    TeamPicker,
    Columns,
    Export,
    NamePrompt,
    Help,
    Setup,
    OfferDemo,
    NotOperator,
}

const MOVE: [Binding; 6] = [
    bind(&[key('k'), UP], Action::Up, "move up", ""),
    bind(&[key('j'), DOWN], Action::Down, "move down", ""),
    bind(&[PAGE_UP, ctrl('b')], Action::PageUp, "page up", ""),
    bind(&[PAGE_DOWN, ctrl('f')], Action::PageDown, "page down", ""),
    bind(&[key('g'), HOME], Action::Top, "go to the top", ""),
    bind(&[key('G'), END], Action::Bottom, "go to the bottom", ""),
];

const TABS: [Binding; 8] = [
    bind(&[TAB], Action::NextTab, "next tab", ""),
    bind(&[BACKTAB], Action::PrevTab, "previous tab", ""),
    bind(&[key('1')], Action::GoKeys, "Keys tab", ""),
    bind(&[key('2')], Action::GoFilters, "Filters tab", ""),
    bind(&[key('3')], Action::GoTeams, "Teams tab", ""),
    bind(&[key('4')], Action::GoHistory, "History tab", ""),
    bind(&[key('?')], Action::Help, "help for this screen", "help"),
    bind(&[key('q'), ctrl('c')], Action::Quit, "quit", "quit"),
];

macro_rules! table {
    ($name:ident, [$($own:expr),* $(,)?] $(+ $shared:ident)*) => {
        pub static $name: &[Binding] = &{
            const OWN: &[Binding] = &[$($own),*];
            const SHARED: &[&[Binding]] = &[$(&$shared),*];
            const N: usize = OWN.len() $(+ $shared.len())*;
            let mut out = [bind(&[], Action::Quit, "", ""); N];
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

table!(
    KEYS,
    [
        bind(
            &[key('/')],
            Action::FocusFilter,
            "filter the keys (query language)",
            "filter"
        ),
        bind(
            &[ENTER],
            Action::Open,
            "open the key's details (recorded as viewed)",
            "details"
        ),
        bind(&[key('n')], Action::New, "new key", "new"),
        bind(&[key('e')], Action::Edit, "edit the key", "edit"),
        bind(
            &[key('r')],
            Action::Renew,
            "renew the key (new secret)",
            "renew"
        ),
        bind(
            &[key('x')],
            Action::Deactivate,
            "deactivate (revoke) the selected keys",
            "deactivate"
        ),
        bind(
            &[key('D')],
            Action::Delete,
            "delete the selected keys",
            "delete"
        ),
        bind(
            &[key(' ')],
            Action::Select,
            "select or unselect the key",
            "select"
        ),
        bind(
            &[key('a')],
            Action::SelectAll,
            "select every key the filter shows",
            ""
        ),
        bind(&[key('A')], Action::SelectNone, "select none", ""),
        bind(
            &[key('t')],
            Action::ManageTeams,
            "add or remove teams of the selection",
            "teams"
        ),
        bind(
            &[ESC],
            Action::Close,
            "close the details, or clear the filter",
            ""
        ),
    ] + MOVE
        + TABS
);

table!(
    FILTERS,
    [
        bind(
            &[ENTER],
            Action::Apply,
            "apply the filter on the Keys tab",
            "apply"
        ),
        bind(&[key('/')], Action::FocusFilter, "write a query", "query"),
        bind(
            &[key('s')],
            Action::Save,
            "save the query under a name",
            "save"
        ),
        bind(
            &[key('R')],
            Action::Rename,
            "rename the saved filter",
            "rename"
        ),
        bind(
            &[key('D')],
            Action::Delete,
            "delete the saved filter",
            "delete"
        ),
    ] + MOVE
        + TABS
);

table!(
    TEAMS,
    [
        bind(
            &[key(' ')],
            Action::Select,
            "select or unselect the key",
            "select"
        ),
        bind(
            &[key('a')],
            Action::SelectAll,
            "select every key the filter shows",
            "all"
        ),
        bind(&[key('A')], Action::SelectNone, "select none", "none"),
        bind(
            &[key('t'), ENTER],
            Action::ManageTeams,
            "add or remove teams of the selection",
            "teams"
        ),
        bind(
            &[key('/')],
            Action::FocusFilter,
            "filter the keys",
            "filter"
        ),
        bind(&[ESC], Action::Close, "clear the filter", ""),
    ] + MOVE
        + TABS
);

table!(
    HISTORY,
    [
        bind(
            &[key('/')],
            Action::FocusFilter,
            "filter: action, key, operator, at (dates)",
            "filter"
        ),
        bind(
            &[key('m')],
            Action::Columns,
            "show or hide columns",
            "columns"
        ),
        bind(
            &[key('E')],
            Action::Export,
            "export what is shown to CSV or JSON",
            "export"
        ),
        bind(&[ESC], Action::Close, "clear the filter", ""),
    ] + MOVE
        + TABS
);

pub static FILTER_LINE: &[Binding] = &[
    bind(&[ENTER], Action::Apply, "apply and leave the line", "apply"),
    bind(&[ESC], Action::Cancel, "clear the line", "clear"),
    bind(&[UP], Action::Up, "move in the list", ""),
    bind(&[DOWN], Action::Down, "move in the list", ""),
];

pub static FORM: &[Binding] = &[
    bind(&[TAB], Action::NextField, "next field", "next"),
    bind(&[BACKTAB], Action::PrevField, "previous field", "previous"),
    bind(&[UP], Action::Up, "previous choice in the list", "choice"),
    bind(&[DOWN], Action::Down, "next choice in the list", "choice"),
    bind(
        &[ENTER],
        Action::Confirm,
        "take the choice, or save on the last field",
        "pick",
    ),
    bind(&[ctrl('s')], Action::Save, "save", "save"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
    bind(
        &[ctrl('c')],
        Action::Quit,
        "quit (asks first if something was typed)",
        "",
    ),
];

pub static CONFIRM: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[key('y'), ENTER], Action::Confirm, "yes, do it", "yes"),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
];

pub static RENEW: &[Binding] = &[
    bind(&[TAB, BACKTAB], Action::NextField, "switch field", "field"),
    bind(&[ENTER], Action::Confirm, "renew", "renew"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub static NEW_SECRET: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(
        &[key('c')],
        Action::Copy,
        "copy the key to the clipboard",
        "copy",
    ),
    // Not Enter: Enter is "yes" in the leave-without-copying question that
    // follows, and two Enters must never throw a secret away.
    bind(
        &[ESC, key('q')],
        Action::Close,
        "close (the key is not shown again)",
        "close",
    ),
];

pub static TEAM_PICKER: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[UP], Action::Up, "previous team", ""),
    bind(&[DOWN], Action::Down, "next team", ""),
    bind(
        &[key('+'), key(' ')],
        Action::AddMark,
        "add the team to the selection",
        "add",
    ),
    bind(
        &[key('-')],
        Action::RemoveMark,
        "remove the team from the selection",
        "remove",
    ),
    bind(
        &[key('/'), TAB],
        Action::FocusFilter,
        "type a new team's name",
        "new team",
    ),
    bind(&[ENTER], Action::Apply, "apply (asks to confirm)", "apply"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub static COLUMNS: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[UP, key('k')], Action::Up, "previous column", ""),
    bind(&[DOWN, key('j')], Action::Down, "next column", ""),
    bind(
        &[key(' ')],
        Action::Select,
        "show or hide the column",
        "toggle",
    ),
    bind(&[ESC, ENTER, key('m')], Action::Close, "close", "close"),
];

pub static EXPORT: &[Binding] = &[
    bind(
        &[TAB],
        Action::ToggleFormat,
        "switch between CSV and JSON",
        "format",
    ),
    bind(&[ENTER], Action::Confirm, "export", "export"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub static NAME_PROMPT: &[Binding] = &[
    bind(&[ENTER], Action::Confirm, "save", "save"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub static HELP: &[Binding] = &[bind(
    &[ESC, key('?'), key('q')],
    Action::Close,
    "close help",
    "close",
)];

pub static SETUP: &[Binding] = &[
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

pub static OFFER_DEMO: &[Binding] = &[
    bind(
        &[key('y')],
        Action::Confirm,
        "load sample data",
        "sample data",
    ),
    bind(
        &[key('n'), ESC, ENTER],
        Action::Cancel,
        "start with an empty store",
        "empty store",
    ),
];

pub static NOT_OPERATOR: &[Binding] = &[bind(
    &[key('q'), ESC, ENTER, ctrl('c')],
    Action::Quit,
    "quit",
    "quit",
)];

impl Layer {
    pub fn bindings(self) -> &'static [Binding] {
        match self {
            Layer::Keys => KEYS,
            Layer::Filters => FILTERS,
            Layer::Teams => TEAMS,
            Layer::History => HISTORY,
            Layer::FilterLine => FILTER_LINE,
            Layer::Form => FORM,
            Layer::Confirm => CONFIRM,
            Layer::Renew => RENEW,
            Layer::NewSecret => NEW_SECRET,
            Layer::TeamPicker => TEAM_PICKER,
            Layer::Columns => COLUMNS,
            Layer::Export => EXPORT,
            Layer::NamePrompt => NAME_PROMPT,
            Layer::Help => HELP,
            Layer::Setup => SETUP,
            Layer::OfferDemo => OFFER_DEMO,
            Layer::NotOperator => NOT_OPERATOR,
        }
    }

    /// The action this layer binds to the key, if any.
    pub fn action(self, ev: &KeyEvent) -> Option<Action> {
        self.bindings()
            .iter()
            .find(|b| b.keys.iter().any(|c| c.matches(ev)))
            .map(|b| b.action)
    }

    /// Whether unbound keys are typed into a text field in this layer.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Layer::FilterLine
                | Layer::Form
                | Layer::Renew
                | Layer::Export
                | Layer::NamePrompt
                | Layer::Setup
        )
    }

    /// The footer hint line: `key label` pairs of the bindings marked for it.
    pub fn hints(self) -> Vec<(String, &'static str)> {
        self.bindings()
            .iter()
            .filter(|b| !b.hint.is_empty())
            .map(|b| (b.keys[0].label(), b.hint))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: ratatui::crossterm::event::KeyEventState::NONE,
        }
    }

    const ALL: [Layer; 17] = [
        Layer::Keys,
        Layer::Filters,
        Layer::Teams,
        Layer::History,
        Layer::FilterLine,
        Layer::Form,
        Layer::Confirm,
        Layer::Renew,
        Layer::NewSecret,
        Layer::TeamPicker,
        Layer::Columns,
        Layer::Export,
        Layer::NamePrompt,
        Layer::Help,
        Layer::Setup,
        Layer::OfferDemo,
        Layer::NotOperator,
    ];

    #[test]
    fn no_key_is_bound_twice_in_one_layer() {
        for layer in ALL {
            let mut seen: Vec<Chord> = Vec::new();
            for b in layer.bindings() {
                for c in b.keys {
                    assert!(!seen.contains(c), "{layer:?}: {} bound twice", c.label());
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
                Layer::Keys.action(&press(KeyCode::Char(c), shift)),
                Some(action),
                "{c}"
            );
        }
        assert_eq!(
            Layer::Keys.action(&press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Open)
        );
    }

    #[test]
    fn letters_typed_into_a_line_are_not_taken_as_commands() {
        for layer in ALL.into_iter().filter(|l| l.takes_text()) {
            for b in layer.bindings() {
                for c in b.keys {
                    assert!(
                        c.ctrl || !matches!(c.code, KeyCode::Char(_)),
                        "{layer:?} binds the printable key {}",
                        c.label()
                    );
                }
            }
        }
    }

    #[test]
    fn every_layer_says_something_in_its_footer() {
        for layer in ALL {
            assert!(!layer.hints().is_empty(), "{layer:?}");
        }
        let hints = Layer::Keys.hints();
        assert!(hints.iter().any(|(k, _)| k == "n"));
    }
}
