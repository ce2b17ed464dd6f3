//! The domain: keyward's types and rules with no I/O — keys and their format,
//! instances, operators and roles, expiry and the smart-filter query language.

pub mod email;
pub mod expiry;
pub mod history;
pub mod history_details;
pub mod key_format;
pub mod local_day;
pub mod model;
pub mod name;
pub mod outbox;
pub mod query;
pub mod settings;

pub use expiry::Expiry;
pub use history::Action;
pub use key_format::{KeyToken, PublicId};
pub use model::{Cloud, Integration, KeyStatus, Role};
pub use name::Name;
