//! The screen without a terminal: the runtime's `update`, `view` and worker,
//! run on one thread and drawn into a ratatui `TestBackend`. The benchmarks
//! time the screen's own work with it (a first frame, a keystroke, a page of
//! scrolling) on a real store, with no terminal or tmux in the measurement.
//!
//! The one difference from the runtime: effects run as they come, in order,
//! instead of on the store thread, so a step here is the sum of the work the
//! two threads do for it. Timers, the clipboard and background delivery are
//! left out; they are not part of drawing the store's data. What the worker
//! sends on its own (a server's notice of another host's change) waits until
//! [`Headless::receive`] takes it.

use super::router::{is_full_frame, update};
use super::state::{Effect, Msg, Runner, State, UiSettings};
use super::view::view;
use super::worker::{Opening, Worker};
use keyward_core::error::{Error, Result};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

pub struct Headless {
    pub state: State,
    worker: Worker,
    terminal: Terminal<TestBackend>,
    /// What the worker sends on its own: another host's change heard from a
    /// server (nothing from a file, whose poll is the runtime's).
    from_worker: Receiver<Msg>,
}

impl Headless {
    /// A screen of `width` × `height` on the store of `opening`, which must exist;
    /// nothing is loaded until `start`.
    pub fn new(opening: Opening, ui: UiSettings, width: u16, height: u16) -> Result<Headless> {
        let mut state = State::new(ui, opening.location.to_string(), None);
        state.width = width;
        state.height = height;
        let (tx, rx) = mpsc::channel();
        let terminal = Terminal::new(TestBackend::new(width, height))
            .map_err(|e| Error::usage(format!("cannot make a test terminal: {e}")))?;
        Ok(Headless {
            state,
            worker: Worker::new(opening, tx),
            terminal,
            from_worker: rx,
        })
    }

    /// Opens the store and loads what the first frame shows, as the program does at start.
    pub fn start(&mut self) {
        self.run(vec![Effect::LoadMe]);
    }

    /// Hands a message to `update` and returns the effects it asks for, not yet run.
    pub fn send(&mut self, msg: Msg) -> Vec<Effect> {
        update(&mut self.state, msg)
    }

    /// A key press, without modifiers; its effects are returned, not run.
    pub fn press(&mut self, code: KeyCode) -> Vec<Effect> {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// Types each character of `text`, running the effects of each.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let fx = self.press(KeyCode::Char(c));
            self.run(fx);
        }
    }

    /// Runs effects, and the effects of their results, until none is left.
    pub fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            if effect.runner() != Runner::Store {
                continue;
            }
            if let Some(msg) = self.worker.execute(effect) {
                queue.extend(update(&mut self.state, msg));
            }
        }
    }

    /// Waits up to `timeout` for a message the worker sends on its own, and
    /// hands it to `update`, running its effects; false if none came.
    pub fn receive(&mut self, timeout: Duration) -> bool {
        match self.from_worker.recv_timeout(timeout) {
            Ok(msg) => {
                let fx = update(&mut self.state, msg);
                self.run(fx);
                true
            }
            Err(_) => false,
        }
    }

    /// Draws a frame of the current state.
    pub fn draw(&mut self) -> Result<&Buffer> {
        let state = &self.state;
        let frame = self
            .terminal
            .draw(|f| view(state, f))
            .map_err(|e| Error::usage(format!("cannot draw: {e}")))?;
        Ok(frame.buffer)
    }

    /// Whether the tab on screen shows the store's data in full (the runtime's
    /// frame log uses the same test).
    pub fn is_full_frame(&self) -> bool {
        is_full_frame(&self.state)
    }

    /// The last frame drawn as text, one quoted line per row (ratatui's own
    /// rendering of the test terminal).
    pub fn text(&self) -> String {
        self.terminal.backend().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::service::demo::DemoSpec;
    use keyward_core::service::{Settings, SystemClock};
    use keyward_core::testing::{FIRST_ADMIN, TempStore, origin};
    use std::sync::Arc;

    /// A demo store of `spec` made by ana on the real clock, and how to open it.
    fn opening(store: &TempStore<SystemClock>, spec: DemoSpec) -> Opening {
        store.admin().sample_data_for_tests(spec).unwrap();
        Opening {
            location: keyward_core::service::Location::File(store.path().to_path_buf()),
            origin: origin(FIRST_ADMIN),
            clock: store.clock().clone(),
            settings: Settings::default(),
            delivery: None,
        }
    }

    /// The public ids in a drawn frame, top to bottom (`kw_` and eight
    /// characters, as the Key column shows them at this width).
    fn ids_on_screen(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|line| {
                let at = line.find("kw_")?;
                let id: String = line[at + 3..].chars().take(8).collect();
                (id.len() == 8 && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
            })
            .collect()
    }

    /// Walks a 50 000-key store a page at a time from `g` to `G` and back,
    /// drawing each page: every key of the list is seen, each once, in the
    /// list's order, both ways.
    #[test]
    fn paging_a_large_store_end_to_end_and_back_shows_every_key_once() {
        let store = TempStore::with_clock(Arc::new(SystemClock));
        let opening = opening(
            &store,
            DemoSpec {
                keys: 50_000,
                history: Some(60_000),
            },
        );
        let expected: Vec<String> = store
            .admin()
            .list_key_refs(&keyward_core::domain::query::KeyQuery::default(), false)
            .unwrap()
            .into_iter()
            .map(|r| r.public_id)
            .collect();
        assert!(expected.len() > 40_000, "{}", expected.len());
        let mut h = Headless::new(opening, UiSettings::default(), 200, 50).unwrap();
        h.start();
        assert!(h.is_full_frame());
        assert_eq!(h.state.keys.total, Some(expected.len() as u64));
        assert!(
            h.state.keys.refs.len() < 2_000,
            "a window of the list, not the whole list: {}",
            h.state.keys.refs.len()
        );

        // Each key in the order first seen, the frames walked with `key`
        // (going up, the list's order backwards).
        let walk = |h: &mut Headless, start: char, key: KeyCode| -> Vec<String> {
            let fx = h.press(KeyCode::Char(start));
            h.run(fx);
            let mut seen = std::collections::HashSet::new();
            let mut order = Vec::new();
            let mut last_key = None;
            loop {
                h.draw().unwrap();
                assert!(h.is_full_frame(), "every row drawn in full");
                let mut ids = ids_on_screen(&h.text());
                // Going up, a page's rows are new from the bottom.
                if key == KeyCode::PageUp {
                    ids.reverse();
                }
                for id in ids {
                    if seen.insert(id.clone()) {
                        order.push(id);
                    }
                }
                // The window moves under the cursor: the key it is on says
                // whether it moved.
                let here = h.state.keys.current().map(|r| r.id);
                if here == last_key {
                    return order;
                }
                assert!(
                    h.state.keys.refs.len() <= 2_000,
                    "the window stays a window"
                );
                last_key = here;
                let fx = h.press(key);
                h.run(fx);
            }
        };
        let down = walk(&mut h, 'g', KeyCode::PageDown);
        assert_eq!(down.len(), expected.len(), "every key seen going down");
        assert!(down == expected, "in the list's order, each once");
        let mut up = walk(&mut h, 'G', KeyCode::PageUp);
        up.reverse();
        assert_eq!(up.len(), expected.len(), "every key seen going up");
        assert!(up == expected, "in the list's order, each once");
        assert_eq!(h.state.keys.position(), Some(1), "back at the top");
    }

    #[test]
    fn start_fills_the_keys_tab_and_keys_move_through_the_real_store() {
        let store = TempStore::with_clock(Arc::new(SystemClock));
        let spec = DemoSpec {
            keys: 300,
            history: Some(2000),
        };
        let mut h = Headless::new(opening(&store, spec), UiSettings::default(), 120, 30).unwrap();
        assert!(!h.is_full_frame());
        h.start();
        assert!(h.is_full_frame());
        assert!(h.state.keys.total > Some(200), "{:?}", h.state.keys.total);
        h.draw().unwrap();
        let first = h.state.keys.current_key().unwrap().name.clone();
        assert!(h.text().contains(&first), "{}", h.text());

        // A page down shows rows that were loaded for it.
        let fx = h.press(KeyCode::PageDown);
        h.run(fx);
        assert!(h.state.keys.cursor > 0);
        assert!(h.is_full_frame());

        // A filter typed on the Keys tab narrows the list from the store.
        let all = h.state.keys.total;
        let fx = h.press(KeyCode::Char('/'));
        h.run(fx);
        h.type_text("status:deactivated");
        assert!(h.state.keys.total < all);
        let fx = h.press(KeyCode::Enter);
        h.run(fx);
        h.draw().unwrap();
        assert!(h.text().contains("deactivated"), "{}", h.text());

        // The History tab's first page.
        let fx = h.press(KeyCode::Char('4'));
        h.run(fx);
        assert!(h.is_full_frame());
        assert!(!h.state.history.rows.is_empty());
    }
}
