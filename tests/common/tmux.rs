//! The whole program in a real terminal: a private tmux server per test runs
//! keyward in a pane; tests type with `send-keys` and read the screen with
//! `capture-pane`. Waiting is by polling the screen for text, never by timing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long to wait for the screen to show something before failing.
const PATIENCE: Duration = Duration::from_secs(20);

/// The binary under test: `KEYWARD_E2E_BIN` (CI points it at the release build)
/// or the one cargo built for this test run.
pub fn binary() -> PathBuf {
    std::env::var_os("KEYWARD_E2E_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(super::BIN))
}

/// A tmux server of this test's own, killed when dropped.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    pub fn start(dir: &Path) -> Tmux {
        Tmux {
            socket: dir.join("tmux.sock"),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            // The server (and every keyward in its panes) never reads the
            // host's /etc/keyward/config.toml.
            .env(
                "KEYWARD_SYSTEM_CONFIG",
                self.socket.with_file_name("etc-keyward.toml"),
            )
            .output()
            .expect("tmux runs")
    }

    /// Runs `command` (a shell line) in a new 100×30 pane.
    pub fn run(&self, command: &str) -> Pane<'_> {
        let out = self.cmd(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "kw",
            "-x",
            "100",
            "-y",
            "30",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after the program ends so its last screen can be read.
        self.cmd(&["set-option", "-t", "kw", "remain-on-exit", "on"]);
        Pane { tmux: self }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

pub struct Pane<'t> {
    tmux: &'t Tmux,
}

impl Pane<'_> {
    pub fn screen(&self) -> String {
        let out = self.tmux.cmd(&["capture-pane", "-p", "-t", "kw"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types keys: tmux key names (`Enter`, `Escape`, `Tab`, `C-s`) or literal text.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.tmux.cmd(&["send-keys", "-t", "kw", k]);
            assert!(out.status.success(), "send-keys {k}");
        }
    }

    /// Types text literally (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        let out = self.tmux.cmd(&["send-keys", "-t", "kw", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text}");
    }

    /// Waits until the screen shows `text`; returns that screen.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    pub fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                panic!("waited {PATIENCE:?} for {what:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A tmux format value of the pane, such as `#{alternate_on}`.
    pub fn format(&self, format: &str) -> String {
        let out = self
            .tmux
            .cmd(&["display-message", "-p", "-t", "kw", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Records every byte the program writes to the terminal into `file`.
    pub fn record_output(&self, file: &Path) {
        let command = format!("cat >> '{}'", file.display());
        let out = self.tmux.cmd(&["pipe-pane", "-o", "-t", "kw", &command]);
        assert!(out.status.success(), "pipe-pane");
    }
}

/// The full key shown on screen (`kw_` + 8 + `_` + secret + checksum), if any.
pub fn secret_on(screen: &str) -> Option<String> {
    screen.match_indices("kw_").find_map(|(i, _)| {
        let candidate: String = screen[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (candidate.len() >= 50 && !candidate.contains('…')).then_some(candidate)
    })
}
