//! keyward-core: the keys of an organisation's integrations, their rules and
//! their credential history, with no terminal, clipboard or screen in sight.
//!
//! The layers, each calling only the one below: `service` (roles, rules,
//! history, outbox; its own types are all that leaves this crate) → `store`
//! (the only module that speaks SQL) — with `domain` holding the types and
//! rules that need no I/O, `mail` delivering the outbox, and `config` reading
//! the configuration files.

pub mod access;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod identity;
pub mod mail;
pub mod paths;
pub mod safe_text;
pub mod service;
// A store with a first admin and a hand-moved clock, for tests and benchmarks
// here and in the keyward package (whose tests turn `internals` on).
#[cfg(any(test, feature = "internals"))]
pub mod testing;

// The store is the service's own business: the binary reaches the data through
// the service alone. Tests and benchmarks that check the store itself (its
// schema, its faults, its SQL against sqlite3) turn on the `internals` feature.
#[cfg(feature = "internals")]
pub mod store;
#[cfg(not(feature = "internals"))]
mod store;

pub use error::{Error, Result};
