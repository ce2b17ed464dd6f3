//! The outside programs some tests drive (an X server, xclip, tmux), and what
//! a test does without one: it is skipped with one visible line, so that
//! `cargo test` passes on a machine with only the Rust toolchain; except
//! under CI, which installs them all, where a missing one fails the test.
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The Debian package that installs each program, to name in the messages.
const PACKAGES: [(&str, &str); 3] = [("Xvfb", "xvfb"), ("xclip", "xclip"), ("tmux", "tmux")];

/// Whether `tool` is on PATH, for a test that cannot run without it; `why`
/// says what the test needs it for. When it is not: under CI (`CI` set and
/// not empty) this panics, naming the package to install; elsewhere it
/// prints one `SKIPPED` line to stderr, appends the same line to the file
/// named by `KEYWARD_SKIPPED_LOG` if that is set (for a wrapper to list the
/// skipped tests at the end, since cargo shows no output of a passing test),
/// and returns false, for the test to return at once.
#[track_caller]
pub fn require(tool: &str, why: &str) -> bool {
    if on_path(tool) {
        return true;
    }
    let package = PACKAGES
        .iter()
        .find(|(name, _)| *name == tool)
        .map(|(_, package)| *package)
        .unwrap_or_else(|| panic!("require({tool:?}): add its Debian package to PACKAGES"));
    skip(
        std::panic::Location::caller().file(),
        &format!("{tool} not installed (apt-get install {package})"),
        &format!(
            "{tool} is not installed, and CI runs every test: apt-get install {package} (needed for {why})"
        ),
    );
    false
}

/// Skips the running test, or fails it under CI (`CI` set and not empty):
/// `reason` is the SKIPPED line's, `under_ci` the failure's. The line goes to
/// stderr and to the file named by `KEYWARD_SKIPPED_LOG`, if set.
pub fn skip(file: &str, reason: &str, under_ci: &str) {
    // libtest runs each test on a thread named after it.
    let current = std::thread::current();
    let test = current.name().unwrap_or("(unnamed test)");
    if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
        panic!("{file} {test}: {under_ci}");
    }
    let line = format!("SKIPPED {file} {test}: {reason}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os("KEYWARD_SKIPPED_LOG") {
        // One write of a whole line in append mode: the lines of tests
        // skipping at the same time do not interleave.
        let appended = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "cannot append to KEYWARD_SKIPPED_LOG {}: {e}",
                Path::new(&log).display()
            );
        }
    }
}

/// Whether an executable file called `tool` is in one of PATH's directories,
/// as the shell would find it.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}
