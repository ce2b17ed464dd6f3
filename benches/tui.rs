//! The screen's targets of issue 6, on the large store (100 000 keys, 1 000 000
//! history rows), through `keyward::tui::headless`: the program's own `update`,
//! `view` and store worker on one thread, drawing into a 160×48 test terminal.
//!
//! - `first_frame/keys`, `first_frame/history`: from opening the store to the
//!   first frame that shows the tab full of data (≤ 100 ms). The whole process
//!   in a real terminal is timed by `benches/large_store.sh`.
//! - `filter_keystroke/<filter>/redraw`: one keystroke in the filter line to the
//!   redrawn frame, the query running off the draw path as in the program
//!   (≤ 16 ms median, ≤ 33 ms p99); `…/results`: the same keystroke until the
//!   frame shows the new list, query included (reported, no target).
//! - `scroll_page/keys`, `scroll_page/history`: a page down to its frame, with
//!   any rows it needs loaded (≤ 5 ms).
//!
//! Criterion reports the mean and median; each group also prints its median
//! and 99th percentile from every timed step, since the keystroke target is
//! set on the p99.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::tui::headless::Headless;
use keyward::tui::state::UiSettings;
use keyward::tui::worker::Opening;
use keyward_core::service::{Settings, SystemClock};
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

fn screen(path: &Path) -> Headless {
    let opening = Opening {
        location: keyward_core::service::Location::File(path.to_owned()),
        origin: support::origin(),
        clock: Arc::new(SystemClock),
        settings: Settings::default(),
        delivery: None,
    };
    Headless::new(opening, UiSettings::default(), WIDTH, HEIGHT).expect("a test terminal")
}

/// A screen on the Keys tab with its first frame drawn.
fn started(path: &Path) -> Headless {
    let mut h = screen(path);
    h.start();
    h.draw().expect("a frame");
    assert!(
        h.is_full_frame(),
        "the Keys tab did not fill:\n{}",
        h.text()
    );
    h
}

fn press(h: &mut Headless, code: KeyCode) {
    let fx = h.press(code);
    h.run(fx);
}

/// Median and 99th percentile of every step a bench timed, printed after it.
struct Steps {
    name: String,
    times: Vec<Duration>,
}

impl Steps {
    fn new(name: impl Into<String>) -> Steps {
        Steps {
            name: name.into(),
            times: Vec::new(),
        }
    }

    fn report(mut self) {
        self.times.sort();
        let at = |q: f64| {
            let i = ((self.times.len() as f64 - 1.0) * q).round() as usize;
            self.times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        eprintln!(
            "  {}: median {:.3} ms, p99 {:.3} ms over {} steps",
            self.name,
            at(0.5),
            at(0.99),
            self.times.len()
        );
    }
}

fn first_frames(c: &mut Criterion) {
    let store = support::large_store();
    let mut group = c.benchmark_group("first_frame");
    group.sample_size(30);
    let mut keys = Steps::new("first_frame/keys");
    group.bench_function("keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let h = started(&store.path);
                let took = start.elapsed();
                keys.times.push(took);
                total += took;
                drop(h);
            }
            total
        })
    });
    let mut history = Steps::new("first_frame/history");
    group.bench_function("history", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                // The program opens on the Keys tab; `4` is the first key pressed.
                let mut h = screen(&store.path);
                h.start();
                press(&mut h, KeyCode::Char('4'));
                h.draw().expect("a frame");
                let took = start.elapsed();
                assert!(h.is_full_frame(), "the History tab did not fill");
                history.times.push(took);
                total += took;
            }
            total
        })
    });
    group.finish();
    keys.report();
    history.report();
}

/// Key filters of every kind the query language has. Each is typed whole, then
/// a space after it is typed and taken back in turn: the line's text changes
/// at every step, so every step runs the whole query again.
const KEY_FILTERS: &[(&str, &str)] = &[
    ("keys_free_text", "sync"),
    ("keys_status", "status:active"),
    ("keys_team", "team:payments"),
    ("keys_status_team", "status:active team:payments"),
    ("keys_instance", "instance:acme-prod"),
    ("keys_developer", "developer:ana*"),
    ("keys_channel", "channel:ci"),
    ("keys_cloud", "cloud:salesforce"),
    ("keys_expires", "expires:<30d"),
    ("keys_used", "used:>90d"),
    ("keys_id", "id:A*"),
    ("keys_negated", "-team:payments"),
    ("keys_rare_text", "zzqx"),
];

const HISTORY_FILTERS: &[(&str, &str)] = &[
    ("history_action", "action:copied"),
    ("history_operator", "operator:ana.lopez"),
    ("history_at", "at:<7d"),
    ("history_free_text", "sync"),
    ("history_rare_text", "zzqx"),
];

fn filter_keystrokes(c: &mut Criterion) {
    let store = support::large_store();
    let mut group = c.benchmark_group("filter_keystroke");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    let filters = KEY_FILTERS
        .iter()
        .map(|f| (false, f))
        .chain(HISTORY_FILTERS.iter().map(|f| (true, f)));
    for (history, (name, query)) in filters {
        let mut h = started(&store.path);
        if history {
            press(&mut h, KeyCode::Char('4'));
        }
        press(&mut h, KeyCode::Char('/'));
        h.type_text(query);
        let mut typed = false;
        for results in [false, true] {
            let step = if results { "results" } else { "redraw" };
            let mut steps = Steps::new(format!("filter_keystroke/{name}/{step}"));
            group.bench_function(format!("{name}/{step}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let key = if typed {
                            KeyCode::Backspace
                        } else {
                            KeyCode::Char(' ')
                        };
                        typed = !typed;
                        let start = Instant::now();
                        let fx = h.press(key);
                        if results {
                            h.run(fx);
                            h.draw().expect("a frame");
                        } else {
                            // The program draws before the worker answers.
                            h.draw().expect("a frame");
                            let took = start.elapsed();
                            steps.times.push(took);
                            total += took;
                            h.run(fx);
                            continue;
                        }
                        let took = start.elapsed();
                        steps.times.push(took);
                        total += took;
                    }
                    total
                })
            });
            steps.report();
        }
    }
    group.finish();
}

fn scroll_pages(c: &mut Criterion) {
    let store = support::large_store();
    let mut group = c.benchmark_group("scroll_page");
    group.sample_size(50);
    for tab in ["keys", "history"] {
        let mut h = started(&store.path);
        if tab == "history" {
            press(&mut h, KeyCode::Char('4'));
        }
        let mut steps = Steps::new(format!("scroll_page/{tab}"));
        group.bench_function(tab, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let before = (h.state.keys.cursor, h.state.history.cursor);
                    let start = Instant::now();
                    let fx = h.press(KeyCode::PageDown);
                    h.run(fx);
                    h.draw().expect("a frame");
                    let took = start.elapsed();
                    assert!(h.is_full_frame(), "a page down left rows unloaded");
                    steps.times.push(took);
                    total += took;
                    if (h.state.keys.cursor, h.state.history.cursor) == before {
                        // At the bottom: back to the top, untimed.
                        press(&mut h, KeyCode::Char('g'));
                    }
                }
                total
            })
        });
        steps.report();
    }
    group.finish();
}

criterion_group!(benches, first_frames, filter_keystrokes, scroll_pages);
criterion_main!(benches);
