//! The Directory tab's keys: an admin's layer, which changes the directory, and
//! everyone else's, which only reads it (and so hints at no change).

use crate::tui::kit::keymap::{Action, LEFT, Layer, MOVE, RIGHT, TABS, bind, key, table};
use keyward_core::domain::model::Role;

table!(
    ADMIN,
    [
        bind(
            &[key('l'), RIGHT],
            Action::NextSection,
            "next section",
            "section"
        ),
        bind(
            &[key('h'), LEFT],
            Action::PrevSection,
            "previous section",
            "section"
        ),
        bind(
            &[key('n')],
            Action::New,
            "add an instance, a developer of it, an operator",
            "add"
        ),
        bind(
            &[key('e')],
            Action::Edit,
            "edit instance · rename developer, team · role",
            "edit"
        ),
        bind(
            &[key('D')],
            Action::Delete,
            "retire instance · remove developer/team/operator",
            "remove"
        ),
    ] + MOVE
        + TABS
);

table!(
    READ_ONLY,
    [
        bind(
            &[key('l'), RIGHT],
            Action::NextSection,
            "next section",
            "section"
        ),
        bind(
            &[key('h'), LEFT],
            Action::PrevSection,
            "previous section",
            "section"
        ),
    ] + MOVE
        + TABS
);

/// The order `l` walks, under the help overlay's keys.
const SECTIONS: &str = "Sections: instances → developers → teams → operators";

pub const LAYER: Layer = Layer {
    name: "Directory",
    bindings: ADMIN,
    takes_text: false,
    note: SECTIONS,
};

pub const READ_ONLY_LAYER: Layer = Layer {
    name: "Directory (read-only)",
    bindings: READ_ONLY,
    takes_text: false,
    note: SECTIONS,
};

/// The layer for this operator's role: only admins change the directory.
pub fn layer(role: Role) -> Layer {
    if role == Role::Admin {
        LAYER
    } else {
        READ_ONLY_LAYER
    }
}
