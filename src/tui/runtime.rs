//! The runtime: puts the terminal in raw mode on the alternate screen (and
//! always puts it back: on exit, on error and on panic), turns terminal events
//! into messages, runs `update`, hands effects to the worker thread, the
//! clipboard or the timer list, and draws. Between events it sleeps in one
//! blocking wait — on input, a worker's result or the next timer — so an idle
//! keyward uses no CPU.

use super::router::update;
use super::state::{Effect, Msg, Runner, State, Timer};
use super::view::view;
use super::worker::{Loads, Opening, Worker, list_load};
use crate::clipboard::{Clipboard, Path as ClipboardPath};
use keyward_core::error::{Error, Result};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use std::collections::VecDeque;
use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Instant;

type Term = Terminal<CrosstermBackend<Stdout>>;

/// Runs the screen until the operator quits.
pub fn run(mut state: State, opening: Opening, start: Vec<Effect>) -> Result<()> {
    let mut terminal = enter().map_err(terminal_error)?;
    let restore_on_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Restore first, so the report lands on a usable terminal; then leave,
        // since a panic on the store or input thread would leave the screen stuck.
        leave();
        restore_on_panic(info);
        std::process::exit(101);
    }));
    let result = event_loop(&mut terminal, &mut state, opening, start);
    leave();
    // Ended by a signal: exit as a process killed by it would report, now that
    // the clipboard and the terminal are put back.
    if let Some(signal) = state.ended_by {
        std::process::exit(128 + signal);
    }
    result
}

fn terminal_error(e: io::Error) -> Error {
    Error::usage(format!("cannot use the terminal: {e}"))
}

fn enter() -> io::Result<Term> {
    enable_raw_mode()?;
    let mut stdout = io::stdout();
    if let Err(e) = execute!(
        stdout,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    ) {
        leave();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(stdout)).inspect_err(|_| leave())
}

/// Gives the terminal back as it was; safe to call more than once.
fn leave() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

fn event_loop(
    terminal: &mut Term,
    state: &mut State,
    opening: Opening,
    start: Vec<Effect>,
) -> Result<()> {
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (fx_tx, fx_rx) = mpsc::channel::<Effect>();
    let worker = Worker::new(opening, msg_tx.clone());
    let loads = worker.loads();
    std::thread::Builder::new()
        .name("keyward-store".into())
        .spawn(move || worker.run(fx_rx))
        .map_err(|e| Error::store(format!("cannot start the store thread: {e}")))?;
    spawn_signals(msg_tx.clone())?;
    spawn_input(msg_tx)?;

    let size = terminal.size().map_err(terminal_error)?;
    state.width = size.width;
    state.height = size.height;
    let mut runtime = Runtime {
        fx_tx,
        loads,
        timers: Vec::new(),
        clipboard: Clipboard::new(ClipboardPath::from_env()),
        local: VecDeque::new(),
    };
    for effect in start {
        runtime.dispatch(effect, terminal);
    }
    let result = run_loop(terminal, state, &mut runtime, &msg_rx);
    if state.on_clipboard.is_some() {
        // The secret must not outlive the session on a clipboard that persists
        // (tmux), however the session ends: quit, a signal, a dead terminal.
        let _ = runtime.clipboard.clear_if_ours(terminal.backend_mut());
    }
    result
}

fn run_loop(
    terminal: &mut Term,
    state: &mut State,
    runtime: &mut Runtime,
    msg_rx: &mpsc::Receiver<Msg>,
) -> Result<()> {
    let mut frame_log = FrameLog::from_env();
    loop {
        runtime.settle(state, terminal);
        // Before drawing: after a hang-up there is no terminal to draw on.
        if state.quit {
            break;
        }
        terminal.draw(|f| view(state, f)).map_err(terminal_error)?;
        frame_log.drawn(state);
        // The one place the program waits: for input, a result, or a timer.
        let first = match runtime.next_deadline() {
            Some(at) => match msg_rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match msg_rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            },
        };
        runtime.local.extend(first);
        runtime.fire_timers();
        // Whatever else arrived meanwhile is handled before the next frame.
        runtime.local.extend(msg_rx.try_iter());
    }
    Ok(())
}

struct Runtime {
    fx_tx: Sender<Effect>,
    /// Cancels a list load on the worker that a newer one makes outdated.
    loads: Arc<Loads>,
    timers: Vec<(Instant, Timer)>,
    clipboard: Clipboard,
    /// Messages produced here (clipboard results, timers) or already received.
    local: VecDeque<Msg>,
}

impl Runtime {
    /// Runs `update` on every waiting message, and their effects, until none is left.
    fn settle(&mut self, state: &mut State, terminal: &mut Term) {
        while let Some(msg) = self.local.pop_front() {
            for effect in update(state, msg) {
                self.dispatch(effect, terminal);
            }
        }
    }

    fn dispatch(&mut self, effect: Effect, terminal: &mut Term) {
        if effect.runner() != Runner::Runtime {
            if let Some((kind, generation)) = list_load(&effect) {
                self.loads.supersede(kind, generation);
            }
            // The worker only stops when this side is gone.
            let _ = self.fx_tx.send(effect);
            return;
        }
        match effect {
            Effect::SetTimer { after, timer } => {
                self.timers.push((Instant::now() + after, timer));
            }
            Effect::Copy { public_id, secret } => {
                let result = self
                    .clipboard
                    .copy(&secret, terminal.backend_mut())
                    .map_err(|e| e.to_string());
                self.local.push_back(Msg::Copied { public_id, result });
            }
            Effect::ClearClipboard => {
                let result = self
                    .clipboard
                    .clear_if_ours(terminal.backend_mut())
                    .map_err(|e| e.to_string());
                self.local.push_back(Msg::ClipboardCleared(result));
            }
            // Only the runtime's own effects reach this point.
            _ => {}
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timers.iter().map(|(at, _)| *at).min()
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = self.timers.drain(..).partition(|(at, _)| *at <= now);
        self.timers = later;
        self.local
            .extend(due.into_iter().map(|(_, timer)| Msg::Timer(timer)));
    }
}

/// Turns the signals that end a session (a hang-up when the SSH connection
/// drops, `kill`, `kill -INT`, `kill -QUIT`) into a message, so the session
/// ends through the same door as `q`.
fn spawn_signals(tx: Sender<Msg>) -> Result<()> {
    use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    // Every signal whose default ends the process without a core.
    let mut signals = signal_hook::iterator::Signals::new([
        SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
    ])
    .map_err(|e| Error::store(format!("cannot watch for signals: {e}")))?;
    std::thread::Builder::new()
        .name("keyward-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(Msg::Signal(signal)).is_err() {
                    break;
                }
            }
        })
        .map(drop)
        .map_err(|e| Error::store(format!("cannot start the signal thread: {e}")))
}

/// Reads terminal events on their own thread, blocking in `event::read`.
fn spawn_input(tx: Sender<Msg>) -> Result<()> {
    std::thread::Builder::new()
        .name("keyward-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                let msg = match ev {
                    Event::Key(k) => Msg::Key(k),
                    Event::Paste(text) => Msg::Paste(text),
                    Event::Mouse(m) => Msg::Mouse(m),
                    Event::Resize(w, h) => Msg::Resize(w, h),
                    _ => continue,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })
        .map(drop)
        .map_err(|e| Error::store(format!("cannot start the input thread: {e}")))
}

/// With `KEYWARD_FRAME_LOG=FILE`, appends the wall-clock time (Unix nanoseconds)
/// of the first frame that shows each tab filled with the store's data, so a
/// script can time start-up, and a tab's first load, from the outside without
/// screen scraping.
struct FrameLog {
    file: Option<std::path::PathBuf>,
    logged: Vec<super::state::Tab>,
}

impl FrameLog {
    fn from_env() -> FrameLog {
        FrameLog {
            file: std::env::var_os("KEYWARD_FRAME_LOG").map(Into::into),
            logged: Vec::new(),
        }
    }

    fn drawn(&mut self, state: &State) {
        let Some(file) = &self.file else {
            return;
        };
        if self.logged.contains(&state.tab) || !super::router::is_full_frame(state) {
            return;
        }
        self.logged.push(state.tab);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let line = format!("first-full-frame {} {nanos}\n", state.tab.title());
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
    }
}
