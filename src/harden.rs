//! Keeps the process's secrets out of core dumps: a key shown once, a secret
//! typed to `verify` or held on the way to the clipboard would otherwise be in
//! the file a crash writes, readable by whoever reads the dump.

use nix::sys::prctl;
use nix::sys::resource::{Resource, setrlimit};

/// No core file (`RLIMIT_CORE` 0, soft and hard) and not dumpable
/// (`PR_SET_DUMPABLE` 0: no core, and no `ptrace` or `/proc/PID/mem` for
/// other processes of the same user). Set once, at start, for the life of
/// the process: every command may come to hold a secret.
pub fn keep_secrets_out_of_dumps() -> nix::Result<()> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    prctl::set_dumpable(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::resource::getrlimit;

    #[test]
    fn the_process_writes_no_core_and_is_not_dumpable() {
        keep_secrets_out_of_dumps().expect("allowed to lower its own limits");
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).expect("getrlimit"), (0, 0));
        assert!(!prctl::get_dumpable().expect("prctl"));
    }
}
