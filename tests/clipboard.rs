//! The clipboard's three ways for real: an X server of its own (Xvfb) read back
//! with xclip, a private tmux server, and OSC 52 bytes. Nothing here touches the
//! developer's own display, tmux or terminal.
//!
//! arboard finds the X server only through the process-wide $DISPLAY, and the
//! tests of this file run as threads of one process; so the checks that need
//! $DISPLAY run in a child process (this same test binary, one ignored test
//! picked by name) whose environment the parent sets.

mod common;

use std::ffi::OsString;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

use common::tools::require;
use common::x11::Xvfb;
use keyward::clipboard::{Clipboard, Path, Via};

const SECRET: &str = "kw_3fQa9LzX_s3cr3tT0k3nP8wq7Gd2";

/// Set by a parent test on the child it starts; the child tests do nothing
/// without it, so running ignored tests by hand never touches a real display.
const CHILD_MARKER: &str = "KEYWARD_CLIPBOARD_TEST_CHILD";

// ---------------------------------------------------------------------------
// Servers that die with the test, however it ends.

/// A private tmux server on a socket in a temporary directory; killed on drop.
struct Tmux {
    dir: tempfile::TempDir,
}

impl Tmux {
    fn start() -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let tmux = Tmux { dir };
        // -f /dev/null: the developer's ~/.tmux.conf must not change the test.
        let status = tmux
            .command()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success(), "tmux new-session: {status}");
        tmux
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command
            .arg("-S")
            .arg(self.socket())
            .env_remove("TMUX")
            .stdin(Stdio::null());
        command
    }

    /// What a paste in tmux would give: the newest buffer.
    fn newest_buffer(&self) -> String {
        let out = self.command().arg("show-buffer").output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    /// Every buffer's content, newest first.
    fn all_buffers(&self) -> Vec<String> {
        let out = self
            .command()
            .args(["list-buffers", "-F", "#{buffer_name}"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|name| {
                let out = self
                    .command()
                    .args(["show-buffer", "-b", name])
                    .output()
                    .unwrap();
                String::from_utf8(out.stdout).unwrap()
            })
            .collect()
    }

    /// The admin copying something in tmux themselves; `-w` passes it on to the
    /// outer terminal as a copy in copy mode does.
    fn admin_copies(&self, text: &str) {
        let status = self
            .command()
            .args(["set-buffer", "-w", "--", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Attaches a client through `script`, standing in for the admin's terminal.
    fn attach_outer_terminal(&self) -> OuterTerminal {
        let attach = format!("tmux -S '{}' attach -t t", self.socket().display());
        let mut child = Command::new("script")
            .args(["-qfec", &attach, "/dev/null"])
            // A terminal tmux knows to have a clipboard (its default
            // terminal-features give xterm* the clipboard feature).
            .env("TERM", "xterm-256color")
            .env_remove("TMUX")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script runs (apt-get install bsdutils)");
        let mut stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let outer = OuterTerminal { child, output };
        wait_until("the client attaches", || {
            let out = self.command().arg("list-clients").output().unwrap();
            !out.stdout.is_empty()
        });
        outer
    }
}

/// A tmux client in a pseudo-terminal: what tmux passes on to the terminal's
/// clipboard (OSC 52) shows up in its output. Killed on drop.
struct OuterTerminal {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
}

impl OuterTerminal {
    /// Every text tmux told the terminal to put on its clipboard, oldest first.
    fn clipboard_writes(&self) -> Vec<String> {
        let output = self.output.lock().unwrap().clone();
        let mut writes = Vec::new();
        let mut rest = &output[..];
        while let Some(start) = find(rest, b"\x1b]52;") {
            rest = &rest[start..];
            let Some(end) = find(rest, b"\x07") else {
                break;
            };
            let sequence = &rest[..end];
            let payload = &sequence[sequence.iter().rposition(|&b| b == b';').unwrap() + 1..];
            let text = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .unwrap();
            writes.push(String::from_utf8(text).unwrap());
            rest = &rest[end..];
        }
        writes
    }

    /// Waits until the terminal's clipboard was last given `text`, and returns
    /// every write up to then.
    fn wait_for_write(&self, text: &str) -> Vec<String> {
        wait_until(&format!("the terminal is given {text:?}"), || {
            self.clipboard_writes().last().map(String::as_str) == Some(text)
        });
        self.clipboard_writes()
    }
}

impl Drop for OuterTerminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .command()
            .arg("kill-server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs the ignored test `name` of this binary in a child process with `env`
/// (and no $DISPLAY, $WAYLAND_DISPLAY or $TMUX of the developer's), and fails
/// unless exactly that one test ran and passed.
fn run_in_child(name: &str, env: &[(&str, OsString)]) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--nocapture"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("TMUX")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env(CHILD_MARKER, "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child test {name} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

fn is_child() -> bool {
    std::env::var_os(CHILD_MARKER).is_some()
}

/// The CLIPBOARD selection as another X program sees it, or None when nobody
/// offers text.
fn xclip_read(target: Option<&str>) -> Option<String> {
    let mut command = Command::new("xclip");
    command.args(["-selection", "clipboard", "-o"]);
    if let Some(target) = target {
        command.args(["-t", target]);
    }
    let out = command
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs (apt-get install xclip)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------------------
// X11

#[test]
fn x11_copy_is_served_to_other_programs_and_cleared_while_ours() {
    if !require("Xvfb", "a display of the test's own")
        || !require("xclip", "reading the X11 clipboard as another program")
    {
        return;
    }
    let xvfb = Xvfb::start();
    run_in_child(
        "x11_in_child",
        &[("DISPLAY", OsString::from(&xvfb.display))],
    );
}

#[test]
#[ignore = "run by x11_copy_is_served_to_other_programs_and_cleared_while_ours, with DISPLAY set to its Xvfb"]
fn x11_in_child() {
    if !is_child() {
        return;
    }
    let mut clipboard = Clipboard::with_fallback(Path::Display, Path::Terminal);
    let mut terminal = Vec::new();

    let via = clipboard.copy(SECRET, &mut terminal).unwrap();
    assert_eq!(via, Via::SystemClipboard);
    assert!(terminal.is_empty(), "nothing goes to the terminal");
    // Another program gets it after copy() returned: the owner thread serves it.
    assert_eq!(xclip_read(None).as_deref(), Some(SECRET));
    let targets = xclip_read(Some("TARGETS")).unwrap_or_default();
    assert!(
        targets.contains("x-kde-passwordManagerHint"),
        "marked for clipboard managers to skip; targets: {targets}"
    );

    assert!(clipboard.clear_if_ours(&mut terminal).unwrap());
    let after = xclip_read(None);
    assert_ne!(after.as_deref(), Some(SECRET));
    assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());

    // Copied again, then the admin copies something else: that stays.
    clipboard.copy(SECRET, &mut terminal).unwrap();
    let mut other = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // xclip reads its input to EOF and forks a server that lives until the
    // selection is taken from it or Xvfb goes; the process we started may
    // exit before that server has taken the selection, hence the wait.
    std::io::Write::write_all(&mut other.stdin.take().unwrap(), b"the admin's own copy").unwrap();
    assert!(other.wait().unwrap().success());
    wait_until("xclip holds the selection", || {
        xclip_read(None).as_deref() == Some("the admin's own copy")
    });
    assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());
    assert_eq!(xclip_read(None).as_deref(), Some("the admin's own copy"));
}

/// A $DISPLAY whose "server" hangs up at once: a TCP port of ours that closes
/// every connection. Not a Unix socket path: x11rb 0.13 connects such a
/// DISPLAY to /tmp/.X11-unix/X0, which may well be another test's Xvfb. Not a
/// free display number either: another Xvfb could take it meanwhile.
fn not_an_x_server() -> OsString {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(
        port > 6000,
        "X11 over TCP uses port 6000 + display; got {port}"
    );
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            drop(connection);
        }
    });
    OsString::from(format!("127.0.0.1:{}", port - 6000))
}

#[test]
fn without_a_reachable_display_the_copy_falls_back_to_tmux_or_osc52() {
    if !require("tmux", "a tmux server of the test's own") {
        return;
    }
    let tmux = Tmux::start();
    let mut tmux_var = tmux.socket().into_os_string();
    tmux_var.push(",1,0");
    run_in_child(
        "fallback_in_child",
        &[("DISPLAY", not_an_x_server()), ("TMUX", tmux_var)],
    );
    assert_ne!(tmux.newest_buffer(), SECRET, "the child cleared it");
}

#[test]
#[ignore = "run by without_a_reachable_display_the_copy_falls_back_to_tmux_or_osc52"]
fn fallback_in_child() {
    if !is_child() {
        return;
    }
    let mut terminal = Vec::new();

    let mut clipboard = Clipboard::with_fallback(Path::Display, Path::Terminal);
    assert_eq!(clipboard.copy(SECRET, &mut terminal).unwrap(), Via::Osc52);
    assert_eq!(
        terminal,
        b"\x1b]52;c;a3dfM2ZRYTlMelhfczNjcjN0VDBrM25QOHdxN0dkMg==\x07"
    );
    // Later copies do not try the display again, and still work.
    terminal.clear();
    assert_eq!(clipboard.copy(SECRET, &mut terminal).unwrap(), Via::Osc52);
    assert!(!terminal.is_empty());

    // When the fallback fails too, the message names both failures.
    let dir = tempfile::tempdir().unwrap();
    let mut clipboard = Clipboard::with_fallback(
        Path::Display,
        Path::Tmux {
            socket: Some(dir.path().join("no-server-here")),
        },
    );
    let message = clipboard
        .copy(SECRET, &mut terminal)
        .unwrap_err()
        .to_string();
    eprintln!("both failed: {message}");
    assert!(
        message.starts_with("the system clipboard failed: ")
            && message.contains("; tmux load-buffer failed: "),
        "{message}"
    );

    // Clipboard::new takes the fallback from $TMUX.
    terminal.clear();
    let mut clipboard = Clipboard::new(Path::Display);
    assert_eq!(
        clipboard.copy(SECRET, &mut terminal).unwrap(),
        Via::TmuxBuffer
    );
    assert!(terminal.is_empty());
    let tmux_var = std::env::var_os("TMUX").unwrap();
    let socket = tmux_var.to_str().unwrap().split(',').next().unwrap();
    let shown = Command::new("tmux")
        .args(["-S", socket, "show-buffer"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&shown.stdout), SECRET);
    assert!(clipboard.clear_if_ours(&mut terminal).unwrap());
}

// ---------------------------------------------------------------------------
// tmux

#[test]
fn tmux_copy_lands_in_its_buffer_and_clearing_restores_the_admins_previous_one() {
    if !require("tmux", "a tmux server of the test's own") {
        return;
    }
    let tmux = Tmux::start();
    let outer = tmux.attach_outer_terminal();
    tmux.admin_copies("an earlier copy");
    let mut clipboard = Clipboard::new(Path::Tmux {
        socket: Some(tmux.socket()),
    });
    let mut terminal = Vec::new();

    assert_eq!(
        clipboard.copy(SECRET, &mut terminal).unwrap(),
        Via::TmuxBuffer
    );
    assert!(terminal.is_empty(), "nothing goes to the terminal itself");
    assert_eq!(tmux.newest_buffer(), SECRET);
    assert_eq!(
        outer.wait_for_write(SECRET),
        ["an earlier copy", SECRET],
        "-w hands it to the outer terminal"
    );

    assert!(clipboard.clear_if_ours(&mut terminal).unwrap());
    assert_eq!(tmux.all_buffers(), ["an earlier copy"]);
    // The terminal's own clipboard is overwritten too: tmux ignores an empty
    // load-buffer, so a single space is what replaces the secret there.
    assert_eq!(outer.wait_for_write(" "), ["an earlier copy", SECRET, " "]);
    assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());
}

#[test]
fn tmux_clear_leaves_a_newer_copy_of_the_admins_alone_but_removes_the_secret() {
    if !require("tmux", "a tmux server of the test's own") {
        return;
    }
    let tmux = Tmux::start();
    let outer = tmux.attach_outer_terminal();
    let mut clipboard = Clipboard::new(Path::Tmux {
        socket: Some(tmux.socket()),
    });
    let mut terminal = Vec::new();
    clipboard.copy(SECRET, &mut terminal).unwrap();
    tmux.admin_copies("copied after");

    assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());
    assert_eq!(tmux.all_buffers(), ["copied after"]);
    // The admin's copy is still on the terminal's clipboard: after it, the
    // terminal was told nothing until this test's marker.
    tmux.admin_copies("marker");
    assert_eq!(
        outer.wait_for_write("marker"),
        [SECRET, "copied after", "marker"]
    );
}

#[test]
fn tmux_failure_is_reported_in_words() {
    if !require("tmux", "a tmux client that fails to find its server") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut clipboard = Clipboard::new(Path::Tmux {
        socket: Some(dir.path().join("no-server-here")),
    });
    let err = clipboard.copy(SECRET, &mut Vec::new()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("tmux load-buffer failed: "),
        "{message}"
    );
    assert!(!message.contains(SECRET), "{message}");
}

// ---------------------------------------------------------------------------
// OSC 52

#[test]
fn osc52_writes_the_exact_sequence_and_clears_with_an_empty_one() {
    let mut clipboard = Clipboard::new(Path::Terminal);
    let mut terminal = Vec::new();
    assert_eq!(clipboard.copy(SECRET, &mut terminal).unwrap(), Via::Osc52);
    assert_eq!(
        terminal,
        b"\x1b]52;c;a3dfM2ZRYTlMelhfczNjcjN0VDBrM25QOHdxN0dkMg==\x07"
    );
    terminal.clear();
    assert!(clipboard.clear_if_ours(&mut terminal).unwrap());
    assert_eq!(terminal, b"\x1b]52;c;\x07");
}
