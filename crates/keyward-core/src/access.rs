//! Whether this login can reach a store path, and if not, exactly which file or
//! directory refused it — so a store that is there but unreadable for this
//! login (a bastion's group permissions wrong) is never taken for a missing
//! one and answered with "no store here yet".

use crate::error::{Error, StoreCause};
use nix::unistd::{AccessFlags, Gid, Group, Uid, User, access};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What is at a store path, as seen by this login.
#[derive(Debug)]
pub enum Presence {
    /// Nothing: keyward may offer to create a store there.
    Missing,
    /// A file this login can read (whether it is a store, and whether it may
    /// be written, is for the store to say: a read-only store is still read).
    Present,
    /// Something on the path refused this login; the error names it.
    Denied(Error),
}

/// Looks at `path` without opening it.
pub fn presence(path: &Path) -> Presence {
    match std::fs::metadata(path) {
        Ok(_) => match denial(path) {
            Some(e) => Presence::Denied(e),
            None => Presence::Present,
        },
        Err(e) if e.kind() == ErrorKind::PermissionDenied => match denial(path) {
            Some(e) => Presence::Denied(e),
            // Refused, but not by a permission this login can see: say so plainly.
            None => Presence::Denied(Error::store_because(
                StoreCause::Denied,
                format!("permission denied on {}: {e}", path.display()),
            )),
        },
        Err(_) => Presence::Missing,
    }
}

/// The first thing on `path` this login may not pass: a directory it cannot
/// search, or the file itself if it cannot read it. A file it can read but
/// not write is a read-only store, which the store reports on a write.
pub fn denial(path: &Path) -> Option<Error> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    first_unsearchable(&absolute).or_else(|| {
        (absolute.exists() && refused(&absolute, AccessFlags::R_OK))
            .then(|| denied_error(&absolute))
    })
}

/// The outermost directory above `path` this login cannot search.
fn first_unsearchable(path: &Path) -> Option<Error> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut dirs: Vec<PathBuf> = absolute
        .ancestors()
        .skip(1)
        .map(Path::to_path_buf)
        .collect();
    dirs.reverse();
    dirs.into_iter()
        .find(|dir| refused(dir, AccessFlags::X_OK))
        .map(|dir| denied_error(&dir))
}

/// Why this login cannot make a file in `dir`, if it cannot: a new store
/// needs to write there.
pub fn denial_to_create_in(dir: &Path) -> Option<Error> {
    if !dir.exists() {
        return None;
    }
    // A file in `dir` has `dir` itself among the directories to search.
    first_unsearchable(&dir.join("new"))
        .or_else(|| refused(dir, AccessFlags::W_OK).then(|| denied_error(dir)))
}

/// Only a permission refusal counts: a read-only file system (EROFS) has its
/// own message, and a missing file is not refused.
fn refused(path: &Path, mode: AccessFlags) -> bool {
    matches!(access(path, mode), Err(nix::errno::Errno::EACCES))
}

fn denied_error(refused: &Path) -> Error {
    let (owner, group, mode) = match std::fs::metadata(refused) {
        Ok(m) => (
            user_name(m.uid()),
            group_name(m.gid()),
            Some(m.permissions().mode()),
        ),
        Err(_) => ("unknown".to_owned(), "unknown".to_owned(), None),
    };
    let uid = Uid::current().as_raw();
    let mut gids = vec![Gid::current()];
    if let Ok(more) = nix::unistd::getgroups() {
        for g in more {
            if !gids.contains(&g) {
                gids.push(g);
            }
        }
    }
    let groups: Vec<String> = gids.iter().map(|g| group_name(g.as_raw())).collect();
    Error::store_because(
        StoreCause::Denied,
        denial_message(refused, &owner, &group, mode, uid, &groups),
    )
}

/// "permission denied on /srv/kw/k.db (owner root, group adm, mode 0600); you
/// are uid 1001 (groups 1001 adm)": the path that refused, whose it is, and
/// who is asking, which is all an admin needs to fix it.
pub fn denial_message(
    refused: &Path,
    owner: &str,
    group: &str,
    mode: Option<u32>,
    uid: u32,
    groups: &[String],
) -> String {
    let mode = mode.map_or_else(|| "unknown".to_owned(), |m| format!("{:04o}", m & 0o7777));
    let groups = if groups.is_empty() {
        "none".to_owned()
    } else {
        groups.join(" ")
    };
    format!(
        "permission denied on {} (owner {owner}, group {group}, mode {mode}); you are uid {uid} (groups {groups}); an admin of the host can fix the permissions or add you to the group",
        refused.display()
    )
}

/// The user's name, or the number when no name is known.
fn user_name(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => uid.to_string(),
    }
}

/// The group's name, or the number when no name is known.
fn group_name(gid: u32) -> String {
    match Group::from_gid(Gid::from_raw(gid)) {
        Ok(Some(g)) => g.name,
        _ => gid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_path_its_owner_and_mode_and_the_caller() {
        let m = denial_message(
            Path::new("/srv/kw/k.db"),
            "root",
            "adm",
            Some(0o100600),
            1001,
            &["1001".to_owned(), "adm".to_owned()],
        );
        assert!(
            m.starts_with(
                "permission denied on /srv/kw/k.db (owner root, group adm, mode 0600); you are uid 1001 (groups 1001 adm)"
            ),
            "{m}"
        );
        assert!(!m.contains("no store"), "{m}");
    }

    #[test]
    fn a_directory_that_refused_is_named_with_its_own_mode() {
        let m = denial_message(
            Path::new("/srv/kw"),
            "root",
            "root",
            Some(0o40750),
            1001,
            &[],
        );
        assert!(
            m.contains("on /srv/kw (owner root, group root, mode 0750)"),
            "{m}"
        );
        assert!(m.contains("(groups none)"), "{m}");
    }

    #[test]
    fn a_missing_path_is_missing_and_a_file_is_present() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        assert!(matches!(presence(&path), Presence::Missing));
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(presence(&path), Presence::Present));
    }

    #[test]
    fn a_path_under_a_missing_directory_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no").join("such").join("k.db");
        assert!(matches!(presence(&path), Presence::Missing));
    }
}

/// Why a file that configures keyward (a configuration file, an SMTP
/// password file) must not be trusted: writable by a group or by others, or
/// owned by a user other than root and this process's, as ssh judges its
/// files. `None` when it may be read.
pub fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != me {
        return Some(format!(
            "it is owned by uid {}, neither root nor you (uid {me})",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Some(format!(
            "its mode {mode:04o} lets others change it (chmod go-w)"
        ));
    }
    None
}

#[cfg(test)]
mod trust_tests {
    use super::untrusted;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_file_others_may_write_is_untrusted_and_one_only_its_owner_may_is_trusted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("config.toml");
        std::fs::write(&f, "").expect("write");
        for (mode, trusted) in [
            (0o644, true),
            (0o600, true),
            (0o664, false),
            (0o666, false),
            (0o646, false),
        ] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let meta = std::fs::metadata(&f).expect("stat");
            assert_eq!(untrusted(&meta).is_none(), trusted, "{mode:o}");
        }
    }
}
