//! The small shared kit below the features: keymap types, layout, theme,
//! drawing widgets, the query line, the status line, paging and help. It knows
//! no feature and no router.

pub mod columns;
pub mod help;
pub mod keymap;
pub mod layout;
pub mod paging;
pub mod query_line;
pub mod status;
pub mod theme;
pub mod widgets;
