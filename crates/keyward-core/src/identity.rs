//! Who runs keyward and from where: the OS login (never an environment variable
//! anyone could set), the host, and — for the history — the sudo user, the SSH
//! client address and the terminal.

use crate::domain::history::Origin;
use crate::error::{Error, Result};
use nix::unistd::{Uid, User, geteuid, gethostname, getuid, ttyname};

/// The origin of this process's actions. `act_as` is honoured only for root.
pub fn current(act_as: Option<&str>) -> Result<Origin> {
    let login = match act_as {
        Some(other) if geteuid().is_root() => other.to_owned(),
        Some(_) => {
            return Err(Error::Permission(
                "only root may act as another login (--as)".to_owned(),
            ));
        }
        None => login_of(getuid()),
    };
    Ok(Origin {
        login,
        host: gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown-host".to_owned()),
        sudo_user: non_empty_env("SUDO_USER"),
        ssh_client: ssh_client(),
        tty: ttyname(std::io::stdin())
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
    })
}

/// The login name of a user id, or `uid<N>` for a user with no passwd entry.
fn login_of(uid: Uid) -> String {
    match User::from_uid(uid) {
        Ok(Some(user)) => user.name,
        _ => format!("uid{uid}"),
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The SSH client's address, from `SSH_CONNECTION` or `SSH_CLIENT`.
fn ssh_client() -> Option<String> {
    ["SSH_CONNECTION", "SSH_CLIENT"]
        .into_iter()
        .filter_map(non_empty_env)
        .find_map(|v| v.split_whitespace().next().map(str::to_owned))
}
