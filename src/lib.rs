//! keyward: manage the API keys of an organisation's integrations from a
//! terminal — what a person touches: the command line, the terminal
//! application and the clipboard, over the operations of `keyward_core`.

pub mod cli;
pub mod clipboard;
pub mod harden;
pub mod tui;
