//! keyward: manage the API keys of an organisation's integrations from a
//! terminal, over a SQLite store that several admins on one host share.
//!
//! The layers, each calling only the one below: `cli` (and the TUI) → `service`
//! (roles, rules, history, outbox) → `store` (SQL) — with `domain` holding the
//! types and rules that need no I/O.

pub mod cli;
pub mod clipboard;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod identity;
pub mod mail;
pub mod paths;
pub mod safe_text;
pub mod service;
pub mod store;
pub mod tui;

pub use error::{Error, Result};
