//! Where keyward looks for things when nothing says otherwise: the store at
//! `$XDG_DATA_HOME/keyward/keyward.db` (or `~/.local/share/keyward/keyward.db`),
//! the configuration at `/etc/keyward/config.toml` (`KEYWARD_SYSTEM_CONFIG`) and then
//! `$XDG_CONFIG_HOME/keyward/config.toml` (or `~/.config/keyward/config.toml`).

use std::path::{Path, PathBuf};

/// The system-wide configuration, read first when present (SPEC §8).
pub const SYSTEM_CONFIG: &str = "/etc/keyward/config.toml";

pub fn default_store() -> PathBuf {
    data_home().join("keyward").join("keyward.db")
}

/// The user's configuration file, if there is a home to find it in.
pub fn user_config() -> Option<PathBuf> {
    // XDG says a relative XDG_*_HOME is invalid and must be ignored.
    if let Some(dir) = from_env("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Some(dir.join("keyward").join("config.toml"));
    }
    // Unlike the store, never fall back to the working directory: a file that
    // happens to lie there must not silently configure keyward.
    let home = from_env("HOME")?;
    Some(home.join(".config").join("keyward").join("config.toml"))
}

/// The system-wide configuration file: `KEYWARD_SYSTEM_CONFIG` when set (the
/// tests point it into their own directory, so a host's `/etc/keyward` never
/// leaks into them), else `/etc/keyward/config.toml`.
pub fn system_config() -> PathBuf {
    from_env("KEYWARD_SYSTEM_CONFIG").unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG))
}

/// Where a try-out's demo store goes: `demo.db` beside `store`, so that demo
/// data never lands in the real store.
pub fn demo_store_beside(store: &Path) -> PathBuf {
    store.with_file_name("demo.db")
}

fn data_home() -> PathBuf {
    if let Some(dir) = from_env("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return dir;
    }
    from_env("HOME")
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".local")
        .join("share")
}

fn from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}
