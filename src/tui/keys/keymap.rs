//! The keys of the Keys and Teams tabs.

use crate::tui::kit::keymap::{Action, ENTER, ESC, Layer, MOVE, TABS, bind, key, table};
use keyward_core::domain::model::Role;

/// The role an action of the keys' tabs needs: changing keys needs a
/// manager; reading them, anyone (the service holds the rule, this only
/// keeps a viewer's footer to what a viewer can do).
pub fn needs(action: Action) -> Role {
    match action {
        Action::New
        | Action::Edit
        | Action::Renew
        | Action::Deactivate
        | Action::Delete
        | Action::ManageTeams
        // A selection is for those changes.
        | Action::Select
        | Action::SelectAll
        | Action::SelectNone => Role::Manager,
        _ => Role::Viewer,
    }
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
        bind(
            &[key('h')],
            Action::KeyHistory,
            "the key's history (the History tab, filtered to it)",
            ""
        ),
        bind(
            &[key('i')],
            Action::Integration,
            "the keys of its integration (a leaked key's siblings)",
            ""
        ),
        bind(&[key('n')], Action::New, "new key", "new"),
        bind(&[key('e')], Action::Edit, "edit the key", "edit"),
        bind(&[key('r')], Action::Renew, "renew (new secret)", "renew"),
        bind(
            &[key('x')],
            Action::Deactivate,
            "deactivate selection",
            "deactivate"
        ),
        bind(&[key('D')], Action::Delete, "delete selection", "delete"),
        bind(&[key(' ')], Action::Select, "select, move down", "select"),
        bind(&[key('a')], Action::SelectAll, "select all shown", ""),
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
            "close details, clear the filter or status line",
            ""
        ),
    ] + MOVE
        + TABS
);

table!(
    TEAMS,
    [
        bind(&[key(' ')], Action::Select, "select, move down", "select"),
        bind(&[key('a')], Action::SelectAll, "select all shown", "all"),
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
        bind(
            &[ESC],
            Action::Close,
            "clear the filter, or the status line",
            ""
        ),
    ] + MOVE
        + TABS
);

/// The marks the keys table uses, under the help overlay's keys.
const MARKS: &str = "Marks: ! expires within the soon threshold, [x] selected";

pub const KEYS_LAYER: Layer = Layer {
    name: "Keys",
    bindings: KEYS,
    takes_text: false,
    note: MARKS,
};

pub const TEAMS_LAYER: Layer = Layer {
    name: "Teams",
    bindings: TEAMS,
    takes_text: false,
    note: MARKS,
};
