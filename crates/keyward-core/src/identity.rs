//! Who runs keyward and from where: the OS login (never an environment variable
//! anyone could set), the host, and — for the history — the sudo user, the SSH
//! client address and the terminal. The sudo user and the SSH address come
//! from the environment, which anyone can set: each is checked against the
//! process's ancestors (a `sudo` run by that user; an `sshd` whose connection
//! comes from that address) and, where that cannot be shown, recorded as
//! `NAME (claimed)`, in the history, the mail and `--json` alike.

use crate::domain::history::Origin;
use crate::error::{Error, Result};
use nix::unistd::{Uid, User, geteuid, gethostname, getuid, ttyname};

/// The origin of this process's actions. `act_as` is honoured only for root.
/// Under `--as`, the login behind the one acted as is kept where a sudo's
/// invoking user is (`sudo_user`): whoever ran `sudo` to become root, else
/// the root login itself, so a row written by root as `vera` never reads as
/// vera's own.
pub fn current(act_as: Option<&str>) -> Result<Origin> {
    let sudo_user = non_empty_env("SUDO_USER").map(|u| label(u, sudo_verified));
    let (login, sudo_user) = match act_as {
        Some(other) if geteuid().is_root() => (
            other.to_owned(),
            Some(sudo_user.unwrap_or_else(|| login_of(getuid()))),
        ),
        Some(_) => {
            return Err(Error::Permission(
                "only root may act as another login (--as)".to_owned(),
            ));
        }
        None => (login_of(getuid()), sudo_user),
    };
    Ok(Origin {
        login,
        host: gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown-host".to_owned()),
        sudo_user,
        ssh_client: ssh_client().map(|a| label(a, ssh_verified)),
        tty: ttyname(std::io::stdin())
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
        // The store fills it in: only the database can say it.
        db_session: None,
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

/// `value` as it is when `verified` says so, else marked as only claimed.
fn label(value: String, verified: fn(&str) -> bool) -> String {
    if verified(&value) {
        value
    } else {
        format!("{value} (claimed)")
    }
}

/// The process's ancestors, parent first, as (pid, name, real uid), read
/// from `/proc` as far as it lets this process see.
fn ancestors() -> Vec<(u32, String, u32)> {
    let mut out = Vec::new();
    let mut pid = std::process::id();
    for _ in 0..64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            break;
        };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            break;
        };
        if ppid == 0 {
            break;
        }
        let name = std::fs::read_to_string(format!("/proc/{ppid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let uid = std::fs::read_to_string(format!("/proc/{ppid}/status"))
            .ok()
            .and_then(|s| real_uid(&s))
            .unwrap_or(u32::MAX);
        out.push((ppid, name, uid));
        pid = ppid;
    }
    out
}

/// The real uid from a `/proc/PID/status` text (`Uid: real effective …`).
fn real_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.parse().ok())
}

/// A `sudo` among the ancestors, run by the user named: sudo runs as root
/// but keeps the invoking user as its real uid.
fn sudo_verified(user: &str) -> bool {
    let Ok(Some(named)) = User::from_name(user) else {
        return false;
    };
    ancestors()
        .iter()
        .any(|(_, name, uid)| name == "sudo" && *uid == named.uid.as_raw())
}

/// An `sshd` among the ancestors holding a TCP connection whose far end is
/// `address`.
fn ssh_verified(address: &str) -> bool {
    let Ok(claimed) = address.parse::<std::net::IpAddr>() else {
        return false;
    };
    let sockets: Vec<u64> = ancestors()
        .iter()
        .filter(|(_, name, _)| name == "sshd" || name.starts_with("sshd-"))
        .flat_map(|(pid, _, _)| socket_inodes(*pid))
        .collect();
    if sockets.is_empty() {
        return false;
    }
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| {
            tcp_peers(&text)
                .into_iter()
                .any(|(inode, peer)| sockets.contains(&inode) && same_host(peer, claimed))
        })
    })
}

/// The socket inodes among a process's open files.
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
        })
        .collect()
}

/// (inode, remote address) of each connection in a `/proc/net/tcp{,6}` text.
fn tcp_peers(text: &str) -> Vec<(u64, std::net::IpAddr)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let remote = cols.get(2)?.split(':').next()?;
            let inode = cols.get(9)?.parse().ok()?;
            Some((inode, proc_address(remote)?))
        })
        .collect()
}

/// An address as `/proc/net/tcp` writes it: IPv4 as one little-endian
/// 32-bit word, IPv6 as four.
fn proc_address(hex: &str) -> Option<std::net::IpAddr> {
    let word = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::swap_bytes);
    match hex.len() {
        8 => Some(std::net::Ipv4Addr::from(word(hex)?).into()),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(hex.get(i * 8..i * 8 + 8)?)?.to_be_bytes());
            }
            Some(std::net::Ipv6Addr::from(bytes).into())
        }
        _ => None,
    }
}

/// The same host, an IPv4 address and its IPv6-mapped form alike.
fn same_host(a: std::net::IpAddr, b: std::net::IpAddr) -> bool {
    let canonical = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_addresses_read_back_in_both_families() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:0016 0700A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1\n";
        assert_eq!(tcp_peers(text), [(4242, "192.168.0.7".parse().unwrap())]);
        // ::ffff:198.51.100.7 as the kernel writes it.
        let v6 = proc_address("0000000000000000FFFF0000076433C6").unwrap();
        assert!(same_host(v6, "198.51.100.7".parse().unwrap()), "{v6}");
        assert_eq!(proc_address("zz"), None);
    }

    #[test]
    fn the_real_uid_is_the_first_of_the_uid_line() {
        assert_eq!(real_uid("Name:\tsudo\nUid:\t1000\t0\t0\t0\n"), Some(1000));
        assert_eq!(real_uid("Name:\tx\n"), None);
    }

    #[test]
    fn what_cannot_be_shown_is_labelled_claimed() {
        // No sudo among this test's ancestors, no sshd connection from there.
        assert_eq!(label("pat".into(), sudo_verified), "pat (claimed)");
        assert_eq!(
            label("198.51.100.7".into(), ssh_verified),
            "198.51.100.7 (claimed)"
        );
        assert_eq!(label("ok".into(), |_| true), "ok");
    }
}
