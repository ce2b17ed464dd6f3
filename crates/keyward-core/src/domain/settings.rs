//! The organisation's choices that the operations follow, as the
//! configuration file (SPEC §8) states them: read by the service, built by
//! `config`, neither depending on the other.

use chrono::TimeDelta;

/// Settings the operations read; SPEC §8 names them in the configuration file.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a key lives when no expiry is given.
    pub default_expiry: TimeDelta,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            default_expiry: TimeDelta::days(90),
        }
    }
}
