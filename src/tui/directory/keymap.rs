//! The Directory tab's keys: an admin's layer, which changes the directory, and
//! everyone else's, which only reads it (and so hints at no change).

use super::Section;
use crate::tui::kit::keymap::{Action, Binding, LEFT, Layer, MOVE, RIGHT, TABS, bind, key, table};
use keyward_core::domain::model::Role;

/// Walking the sections, on every layer of the tab.
const SECTION_KEYS: [Binding; 2] = [
    bind(
        &[key('l'), RIGHT],
        Action::NextSection,
        "next section",
        "section",
    ),
    bind(
        &[key('h'), LEFT],
        Action::PrevSection,
        "previous section",
        "section",
    ),
];

table!(
    ADMIN,
    [
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
    ] + SECTION_KEYS
        + MOVE
        + TABS
);

table!(
    ADMIN_TEAMS,
    [
        bind(&[key('e')], Action::Edit, "rename the team", "rename"),
        bind(
            &[key('D')],
            Action::Delete,
            "remove the team from its keys",
            "remove"
        ),
    ] + SECTION_KEYS
        + MOVE
        + TABS
);

table!(READ_ONLY, [] + SECTION_KEYS + MOVE + TABS);

/// The order `l` walks, under the help overlay's keys.
const SECTIONS: &str = "Sections: instances → developers → teams → operators";

pub const LAYER: Layer = Layer {
    name: "Directory",
    bindings: ADMIN,
    takes_text: false,
    note: SECTIONS,
};

/// An admin on the Teams section: a team is made where it is picked (the
/// key form, `t` on Keys), so there is no `n` here to refuse.
pub const TEAMS_LAYER: Layer = Layer {
    name: "Directory (teams)",
    bindings: ADMIN_TEAMS,
    takes_text: false,
    note: "A team is made where it is picked: the key form, or t on Keys.",
};

pub const READ_ONLY_LAYER: Layer = Layer {
    name: "Directory (read-only)",
    bindings: READ_ONLY,
    takes_text: false,
    note: SECTIONS,
};

/// The layer for this operator's role and section: only admins change the
/// directory.
pub fn layer(role: Role, section: Section) -> Layer {
    match (role, section) {
        (Role::Admin, Section::Teams) => TEAMS_LAYER,
        (Role::Admin, _) => LAYER,
        _ => READ_ONLY_LAYER,
    }
}
