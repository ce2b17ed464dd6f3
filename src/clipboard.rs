//! Copies a new secret to wherever the admin can paste it, and clears it again
//! (SPEC §4, Clipboard): the system clipboard through arboard when there is a
//! display, tmux's buffer inside tmux, the terminal's OSC 52 sequence otherwise.
//!
//! Called from the TUI's main thread. The TUI keeps one clear deadline, restarted
//! by every copy, and calls [`Clipboard::clear_if_ours`] when it passes.
//!
//! arboard is built without its `wayland-data-control` feature, so it speaks X11
//! only: a Wayland session reaches it through XWayland's $DISPLAY, and one
//! without XWayland falls back to tmux or OSC 52 like a session with no display.
//! The secret is kept in `Zeroizing` here, but arboard and the pipes to tmux
//! hold copies of their own that this module cannot wipe.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

/// The way a copy went; the TUI's status line shows `describe()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    SystemClipboard,
    TmuxBuffer,
    Osc52,
}

impl Via {
    /// Where the secret went, to end "Copied to …" on the status line.
    pub fn describe(self) -> &'static str {
        match self {
            Via::SystemClipboard => "the system clipboard",
            Via::TmuxBuffer => "tmux's buffer (and through it the terminal's clipboard)",
            Via::Osc52 => "the terminal (OSC 52)",
        }
    }

    /// The short name recorded in a key's history.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::SystemClipboard => "system",
            Via::TmuxBuffer => "tmux",
            Via::Osc52 => "osc52",
        }
    }
}

/// Which path the environment offers, decided once at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// An X11 or Wayland display: the system clipboard.
    Display,
    /// Inside tmux; `socket` is the server's socket, or `None` to let tmux find it.
    Tmux { socket: Option<PathBuf> },
    /// Only a terminal (as over SSH to a bastion host): OSC 52.
    Terminal,
}

impl Path {
    /// DISPLAY or WAYLAND_DISPLAY set and non-empty → Display; else TMUX set →
    /// Tmux (socket = first comma-separated field of $TMUX); else Terminal.
    pub fn from_env() -> Path {
        let display = std::env::var_os("DISPLAY");
        let wayland = std::env::var_os("WAYLAND_DISPLAY");
        let tmux = std::env::var_os("TMUX");
        let lossy =
            |v: &Option<std::ffi::OsString>| v.as_ref().map(|v| v.to_string_lossy().into_owned());
        match Path::detect(
            lossy(&display).as_deref(),
            lossy(&wayland).as_deref(),
            lossy(&tmux).as_deref(),
        ) {
            // A socket path that is not UTF-8 would be mangled by the lossy
            // conversion; without -S, tmux reads $TMUX itself and gets it right.
            Path::Tmux { .. } if tmux.as_ref().is_some_and(|v| v.to_str().is_none()) => {
                Path::Tmux { socket: None }
            }
            path => path,
        }
    }

    /// The decision of [`Path::from_env`] from the variables' values.
    pub fn detect(display: Option<&str>, wayland: Option<&str>, tmux: Option<&str>) -> Path {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
        if set(display) || set(wayland) {
            return Path::Display;
        }
        match tmux {
            // tmux, too, takes an empty $TMUX for "not inside tmux".
            Some(tmux) if !tmux.is_empty() => {
                let socket = tmux.split(',').next().unwrap_or_default();
                Path::Tmux {
                    socket: (!socket.is_empty()).then(|| PathBuf::from(socket)),
                }
            }
            _ => Path::Terminal,
        }
    }
}

/// Why a copy or a clear did not happen. The TUI shows the message on its
/// status line (escaped: parts of it come from tmux's stderr).
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    #[error("could not run tmux: {0}")]
    TmuxNotRun(#[source] io::Error),
    #[error("tmux {command} failed: {message}")]
    Tmux {
        command: &'static str,
        message: String,
    },
    #[error("could not write to the terminal: {0}")]
    Terminal(#[source] io::Error),
    #[error("the system clipboard failed: {0}")]
    System(String),
    #[error("the system clipboard did not answer within {} seconds", .0.as_secs())]
    SystemUnresponsive(Duration),
    /// The system clipboard failed, and so did the way tried after it.
    #[error("{display}; {fallback}")]
    NoneWorked {
        display: Box<ClipboardError>,
        fallback: Box<ClipboardError>,
    },
}

/// How long the main thread waits for the clipboard owner thread. arboard's own
/// read timeout is 4 s per text format when another program owns the clipboard
/// and does not answer; the TUI must not freeze that long.
const OWNER_TIMEOUT: Duration = Duration::from_secs(3);

/// The name of the tmux buffer keyward loads, so that clearing touches only
/// ours and never a buffer the admin copied in tmux.
const TMUX_BUFFER: &str = "keyward";

/// Copies secrets and clears them again; see the module documentation.
///
/// Dropping it (keyward quitting) ends the system clipboard's owner thread; on
/// X11 the copy then disappears with it, since a secret marked to stay out of
/// history is not handed to a clipboard manager. What went to tmux or OSC 52
/// stays until something replaces it.
pub struct Clipboard {
    path: Path,
    /// Where a copy goes when the system clipboard fails: tmux or the terminal.
    fallback: Path,
    /// The thread that owns the system clipboard, started on the first copy.
    owner: Option<Owner>,
    /// Set once arboard could not reach a display: later copies go straight to
    /// the fallback instead of waiting for it to fail again.
    display_failed: bool,
    /// The last secret copied and the way it went, until it is cleared.
    copied: Option<(Via, Zeroizing<String>)>,
}

impl Clipboard {
    /// A clipboard for `path` that falls back to tmux when $TMUX is set, else to
    /// OSC 52, should the system clipboard fail.
    pub fn new(path: Path) -> Clipboard {
        let tmux = std::env::var("TMUX").ok();
        Clipboard::with_fallback(path, Path::detect(None, None, tmux.as_deref()))
    }

    /// As [`Clipboard::new`] with the fallback given rather than read from $TMUX.
    /// A `fallback` of `Display` means `Terminal`: it is what failed.
    pub fn with_fallback(path: Path, fallback: Path) -> Clipboard {
        let fallback = match fallback {
            Path::Display => Path::Terminal,
            other => other,
        };
        Clipboard {
            path,
            fallback,
            owner: None,
            display_failed: false,
            copied: None,
        }
    }

    /// Copies `text`; `terminal` is where OSC 52 bytes go (the TUI passes its
    /// terminal writer so bytes never interleave with a frame).
    pub fn copy(&mut self, text: &str, terminal: &mut dyn Write) -> Result<Via, ClipboardError> {
        let secret = Zeroizing::new(text.to_owned());
        let via = match self.path.clone() {
            Path::Display if !self.display_failed => match self.copy_to_display(&secret) {
                Ok(()) => Via::SystemClipboard,
                Err(display) => {
                    let fallback = self.fallback.clone();
                    copy_without_display(&fallback, &secret, terminal).map_err(|fallback| {
                        ClipboardError::NoneWorked {
                            display: Box::new(display),
                            fallback: Box::new(fallback),
                        }
                    })?
                }
            },
            Path::Display => {
                let fallback = self.fallback.clone();
                copy_without_display(&fallback, &secret, terminal)?
            }
            path => copy_without_display(&path, &secret, terminal)?,
        };
        self.copied = Some((via, secret));
        Ok(via)
    }

    /// Called when the clear timer fires: clears the clipboard if it still holds
    /// what we copied; returns whether it cleared.
    pub fn clear_if_ours(&mut self, terminal: &mut dyn Write) -> Result<bool, ClipboardError> {
        let Some((via, secret)) = &self.copied else {
            return Ok(false);
        };
        let cleared = match via {
            Via::SystemClipboard => match &self.owner {
                Some(owner) => owner.clear_if_equals(secret)?,
                None => false,
            },
            Via::TmuxBuffer => {
                let socket = match (&self.path, &self.fallback) {
                    (Path::Tmux { socket }, _) | (_, Path::Tmux { socket }) => socket.clone(),
                    _ => None,
                };
                tmux_clear_if_equals(socket.as_deref(), secret)?
            }
            // A terminal cannot be asked reliably what its clipboard holds (most
            // refuse OSC 52 reads), so this cannot know whether the admin copied
            // something else since; it clears because what we copied last has
            // not been cleared yet, and may wipe a later copy of the admin's own.
            Via::Osc52 => {
                write_osc52(terminal, "")?;
                true
            }
        };
        // Dropping the Zeroizing wipes the secret. On an error above it is kept,
        // so that the next call can try again.
        self.copied = None;
        Ok(cleared)
    }

    /// Hands `secret` to the owner thread, starting it on the first copy.
    fn copy_to_display(&mut self, secret: &Zeroizing<String>) -> Result<(), ClipboardError> {
        let owner = match self.owner.take() {
            Some(owner) => owner,
            None => match Owner::start() {
                Ok(owner) => owner,
                Err(e) => {
                    self.display_failed = true;
                    return Err(e);
                }
            },
        };
        let result = owner.set(secret);
        self.owner = Some(owner);
        result
    }
}

fn copy_without_display(
    path: &Path,
    secret: &str,
    terminal: &mut dyn Write,
) -> Result<Via, ClipboardError> {
    match path {
        Path::Tmux { socket } => {
            tmux_load(socket.as_deref(), secret)?;
            Ok(Via::TmuxBuffer)
        }
        Path::Display | Path::Terminal => {
            write_osc52(terminal, secret)?;
            Ok(Via::Osc52)
        }
    }
}

// ---------------------------------------------------------------------------
// The system clipboard: one thread owns the arboard::Clipboard for as long as
// keyward's Clipboard lives, because on X11 the program that copied must keep
// answering paste requests; a short-lived arboard::Clipboard would take the
// content with it when dropped.

enum Request {
    Set {
        text: Zeroizing<String>,
        reply: mpsc::SyncSender<Result<(), arboard::Error>>,
    },
    ClearIfEquals {
        text: Zeroizing<String>,
        reply: mpsc::SyncSender<Result<bool, arboard::Error>>,
    },
}

/// The main thread's end of the owner thread. Dropping it closes the channel,
/// which ends the thread; it is not joined, so that quitting never waits on a
/// clipboard read stuck on an unresponsive program.
struct Owner {
    requests: mpsc::Sender<Request>,
}

impl Owner {
    fn start() -> Result<Owner, ClipboardError> {
        let (requests, receiver) = mpsc::channel();
        let (ready_tx, ready) = mpsc::sync_channel(1);
        thread::Builder::new()
            .name("keyward-clipboard".into())
            .spawn(move || serve(receiver, ready_tx))
            .map_err(|e| ClipboardError::System(format!("could not start its thread: {e}")))?;
        match ready.recv_timeout(OWNER_TIMEOUT) {
            Ok(Ok(())) => Ok(Owner { requests }),
            Ok(Err(e)) => Err(ClipboardError::System(e.to_string())),
            Err(_) => Err(ClipboardError::SystemUnresponsive(OWNER_TIMEOUT)),
        }
    }

    fn set(&self, text: &Zeroizing<String>) -> Result<(), ClipboardError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.ask(
            Request::Set {
                text: text.clone(),
                reply,
            },
            answer,
        )
    }

    fn clear_if_equals(&self, text: &Zeroizing<String>) -> Result<bool, ClipboardError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.ask(
            Request::ClearIfEquals {
                text: text.clone(),
                reply,
            },
            answer,
        )
    }

    fn ask<T>(
        &self,
        request: Request,
        answer: mpsc::Receiver<Result<T, arboard::Error>>,
    ) -> Result<T, ClipboardError> {
        self.requests
            .send(request)
            .map_err(|_| ClipboardError::System("its thread has stopped".into()))?;
        match answer.recv_timeout(OWNER_TIMEOUT) {
            Ok(result) => result.map_err(|e| ClipboardError::System(e.to_string())),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(ClipboardError::SystemUnresponsive(OWNER_TIMEOUT))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(ClipboardError::System("its thread has stopped".into()))
            }
        }
    }
}

#[cfg(target_os = "macos")]
use arboard::SetExtApple as _;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))
))]
use arboard::SetExtLinux as _;
#[cfg(windows)]
use arboard::SetExtWindows as _;

/// The owner thread's loop: runs until the main thread drops its `Owner`.
/// Replies are sent with `let _`: a main thread that stopped waiting (timeout)
/// has dropped its receiver, and there is nobody left to tell.
fn serve(requests: mpsc::Receiver<Request>, ready: mpsc::SyncSender<Result<(), arboard::Error>>) {
    let mut clipboard = match arboard::Clipboard::new() {
        Ok(clipboard) => {
            let _ = ready.send(Ok(()));
            clipboard
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    for request in requests {
        match request {
            Request::Set { text, reply } => {
                // Marked so that clipboard managers (Klipper and those that
                // honour the same hint) keep it out of their history.
                let result = clipboard.set().exclude_from_history().text(text.as_str());
                let _ = reply.send(result);
            }
            Request::ClearIfEquals { text, reply } => {
                let result = match clipboard.get_text().map(Zeroizing::new) {
                    Ok(held) if same_secret(held.as_bytes(), text.as_bytes()) => {
                        clipboard.clear().map(|()| true)
                    }
                    Ok(_) => Ok(false),
                    // Empty, or not text: someone else's content, not ours.
                    Err(arboard::Error::ContentNotAvailable) => Ok(false),
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
            }
        }
    }
}

/// Whether what a clipboard holds is the secret, compared in constant time
/// (whatever else is there may be anyone's), never with `==` on the bytes.
fn same_secret(held: &[u8], secret: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    held.ct_eq(secret).into()
}

// ---------------------------------------------------------------------------
// tmux. Its default `set-clipboard external` ignores OSC 52 from programs, but
// `load-buffer -w` passes the buffer on to the outer terminal's clipboard.
//
// keyward loads a named buffer, so that clearing can tell ours from the admin's
// own tmux copies. Clearing: if our buffer is still the newest (what a paste
// gives), it is first replaced by a single space with `-w`, the only way to
// overwrite the outer terminal's copy — tmux silently ignores an empty
// load-buffer (exit 0, no buffer, nothing sent on) — and then deleted, so that
// tmux's paste falls back to the admin's previous buffer. If something newer
// was copied in tmux, the outer clipboard holds that and is left alone, but our
// buffer is still deleted so the secret does not linger in `choose-buffer`.

fn tmux(socket: Option<&std::path::Path>) -> Command {
    let mut command = Command::new("tmux");
    if let Some(socket) = socket {
        command.arg("-S").arg(socket);
    }
    // Never let tmux write on the TUI's screen.
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn tmux_failed(command: &'static str, stderr: &[u8]) -> ClipboardError {
    let message = String::from_utf8_lossy(stderr).trim().to_owned();
    ClipboardError::Tmux {
        command,
        message: if message.is_empty() {
            "no reason given".into()
        } else {
            message
        },
    }
}

fn tmux_load(socket: Option<&std::path::Path>, text: &str) -> Result<(), ClipboardError> {
    let mut child = tmux(socket)
        .args(["load-buffer", "-b", TMUX_BUFFER, "-w", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(ClipboardError::TmuxNotRun)?;
    let written = match child.stdin.take() {
        // Dropping stdin at the end of this arm closes it: tmux reads to EOF.
        Some(mut stdin) => stdin.write_all(text.as_bytes()),
        None => Ok(()),
    };
    let output = child
        .wait_with_output()
        .map_err(ClipboardError::TmuxNotRun)?;
    if !output.status.success() {
        return Err(tmux_failed("load-buffer", &output.stderr));
    }
    written.map_err(|e| ClipboardError::Tmux {
        command: "load-buffer",
        message: format!("could not send it the text: {e}"),
    })
}

/// A tmux buffer's content, or `None` when there is no such buffer (or none
/// at all, when `name` is `None`).
fn tmux_show(
    socket: Option<&std::path::Path>,
    name: Option<&str>,
) -> Result<Option<Zeroizing<Vec<u8>>>, ClipboardError> {
    let mut command = tmux(socket);
    command.arg("show-buffer").stdout(Stdio::piped());
    if let Some(name) = name {
        command.args(["-b", name]);
    }
    let output = command.output().map_err(ClipboardError::TmuxNotRun)?;
    let content = Zeroizing::new(output.stdout);
    if output.status.success() {
        Ok(Some(content))
    } else if String::from_utf8_lossy(&output.stderr).contains("no buffer") {
        // "no buffers" or "no buffer keyward": nothing there, which is no error.
        Ok(None)
    } else {
        Err(tmux_failed("show-buffer", &output.stderr))
    }
}

fn tmux_clear_if_equals(
    socket: Option<&std::path::Path>,
    secret: &str,
) -> Result<bool, ClipboardError> {
    let ours = |content: &Option<Zeroizing<Vec<u8>>>| {
        content
            .as_ref()
            .is_some_and(|c| same_secret(c.as_slice(), secret.as_bytes()))
    };
    if !ours(&tmux_show(socket, Some(TMUX_BUFFER))?) {
        return Ok(false);
    }
    let newest_is_ours = ours(&tmux_show(socket, None)?);
    if newest_is_ours {
        tmux_load(socket, " ")?;
    }
    let output = tmux(socket)
        .args(["delete-buffer", "-b", TMUX_BUFFER])
        .output()
        .map_err(ClipboardError::TmuxNotRun)?;
    if !output.status.success() {
        return Err(tmux_failed("delete-buffer", &output.stderr));
    }
    Ok(newest_is_ours)
}

// ---------------------------------------------------------------------------
// OSC 52: `ESC ] 52 ; c ; <base64> BEL`. BEL rather than ST (`ESC \`) ends it
// because every terminal that implements OSC 52 accepts BEL, some older ones
// and GNU screen only BEL, and it is what tmux itself sends for OSC 52. An empty
// payload clears: an empty base64 text is empty data.

fn write_osc52(terminal: &mut dyn Write, text: &str) -> Result<(), ClipboardError> {
    let mut sequence = Zeroizing::new(String::with_capacity(text.len() * 4 / 3 + 12));
    sequence.push_str("\x1b]52;c;");
    base64::engine::general_purpose::STANDARD.encode_string(text, &mut sequence);
    sequence.push('\x07');
    terminal
        .write_all(sequence.as_bytes())
        .and_then(|()| terminal.flush())
        .map_err(ClipboardError::Terminal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_recognised_only_when_every_byte_matches() {
        let secret = b"kw_3fQa9LzX_0123456789abcdefghijABCDEFGHIJKLmnopqr";
        assert!(same_secret(secret, secret));
        let mut other = *secret;
        other[20] ^= 1;
        assert!(!same_secret(&other, secret));
        assert!(!same_secret(&secret[..49], secret));
        assert!(!same_secret(b"", secret));
    }

    #[test]
    fn a_display_wins_over_tmux() {
        assert_eq!(
            Path::detect(Some(":0"), None, Some("/tmp/s,1,0")),
            Path::Display
        );
        assert_eq!(Path::detect(None, Some("wayland-0"), None), Path::Display);
    }

    #[test]
    fn an_empty_display_counts_as_none() {
        assert_eq!(Path::detect(Some(""), Some(""), None), Path::Terminal);
    }

    #[test]
    fn inside_tmux_the_socket_is_the_first_field_of_tmux() {
        assert_eq!(
            Path::detect(Some(""), None, Some("/tmp/tmux-1000/default,4242,0")),
            Path::Tmux {
                socket: Some(PathBuf::from("/tmp/tmux-1000/default"))
            }
        );
        assert_eq!(
            Path::detect(None, None, Some(",1,0")),
            Path::Tmux { socket: None }
        );
    }

    #[test]
    fn without_display_or_tmux_only_the_terminal_is_left() {
        assert_eq!(Path::detect(None, None, None), Path::Terminal);
        assert_eq!(Path::detect(None, None, Some("")), Path::Terminal);
    }

    #[test]
    fn osc52_bytes_for_a_known_secret() {
        let mut clipboard = Clipboard::new(Path::Terminal);
        let mut terminal = Vec::new();
        let via = clipboard.copy("kw_3fQa9LzX_secret", &mut terminal).unwrap();
        assert_eq!(via, Via::Osc52);
        assert_eq!(terminal, b"\x1b]52;c;a3dfM2ZRYTlMelhfc2VjcmV0\x07");
    }

    #[test]
    fn clearing_over_osc52_sends_an_empty_payload_once() {
        let mut clipboard = Clipboard::new(Path::Terminal);
        let mut terminal = Vec::new();
        clipboard.copy("x", &mut terminal).unwrap();
        terminal.clear();
        assert!(clipboard.clear_if_ours(&mut terminal).unwrap());
        assert_eq!(terminal, b"\x1b]52;c;\x07");
        // Nothing of ours is left: a second timer must not wipe a later copy.
        terminal.clear();
        assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());
        assert!(terminal.is_empty());
    }

    #[test]
    fn nothing_copied_means_nothing_to_clear() {
        let mut clipboard = Clipboard::new(Path::Display);
        let mut terminal = Vec::new();
        assert!(!clipboard.clear_if_ours(&mut terminal).unwrap());
        assert!(terminal.is_empty());
    }

    #[test]
    fn via_words_for_the_status_line_and_history() {
        assert_eq!(Via::SystemClipboard.as_str(), "system");
        assert_eq!(Via::TmuxBuffer.as_str(), "tmux");
        assert_eq!(Via::Osc52.as_str(), "osc52");
        assert_eq!(Via::SystemClipboard.describe(), "the system clipboard");
        assert_eq!(
            Via::TmuxBuffer.describe(),
            "tmux's buffer (and through it the terminal's clipboard)"
        );
        assert_eq!(Via::Osc52.describe(), "the terminal (OSC 52)");
    }

    #[test]
    fn a_failed_terminal_write_is_an_error() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut clipboard = Clipboard::new(Path::Terminal);
        let err = clipboard.copy("x", &mut Broken).unwrap_err();
        assert_eq!(err.to_string(), "could not write to the terminal: gone");
    }
}
