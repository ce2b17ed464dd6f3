//! Where the store lives when no `--db` or `KEYWARD_DB` says otherwise:
//! `$XDG_DATA_HOME/keyward/keyward.db`, or `~/.local/share/keyward/keyward.db`.

use std::path::PathBuf;

pub fn default_store() -> PathBuf {
    data_home().join("keyward").join("keyward.db")
}

fn data_home() -> PathBuf {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(dir) = from_env("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return dir;
    }
    from_env("HOME")
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".local")
        .join("share")
}
