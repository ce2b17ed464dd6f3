//! A history row opened in full (`Enter` on the History tab): every field it
//! records, where it came from, its place in the hash chain, and what it
//! changed as `field: before → after` lines. `j`/`k` scroll a long one.

use crate::tui::kit::columns::fit_text;
use crate::tui::kit::keymap::{
    Action, Binding, DOWN, ENTER, ESC, Layer, PAGE_DOWN, PAGE_UP, UP, bind, key,
};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{local_time, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::State;
use chrono::DateTime;
use keyward_core::domain::history::HistoryRow;
use keyward_core::domain::history_details::{DetailLine, lines};
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The opened row and how far it is scrolled.
#[derive(Debug)]
pub struct RowWindow {
    pub row: HistoryRow,
    /// The first line shown.
    pub scroll: usize,
}

impl RowWindow {
    pub fn new(row: HistoryRow) -> RowWindow {
        RowWindow { row, scroll: 0 }
    }
}

static ROW: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[key('j'), DOWN], Action::Down, "scroll down", "scroll"),
    bind(&[key('k'), UP], Action::Up, "scroll up", ""),
    bind(&[PAGE_UP], Action::PageUp, "scroll a page up", ""),
    bind(&[PAGE_DOWN], Action::PageDown, "scroll a page down", ""),
    bind(&[ESC, ENTER, key('q')], Action::Close, "close", "close"),
];

pub const LAYER: Layer = Layer {
    name: "history row",
    bindings: ROW,
    takes_text: false,
    note: "",
};

/// The widest the window is drawn.
const WIDTH: u16 = 96;
/// Labels are padded to this width.
const LABEL: usize = 12;

/// The box for `count` lines on a `width`×`height` screen: at most as high as
/// the screen leaves above the footer.
fn frame_size(count: usize, width: u16, height: u16) -> (u16, u16) {
    let w = WIDTH.min(width.saturating_sub(4));
    let h = (count as u16 + 2).min(height.saturating_sub(3));
    (w, h)
}

/// Lines inside the box (its border taken away).
fn room(count: usize, width: u16, height: u16) -> usize {
    usize::from(frame_size(count, width, height).1.saturating_sub(2)).max(1)
}

impl Window for RowWindow {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        // The widest box, so the last scroll step is the same as drawn.
        let count = text(&self.row, 0).len();
        let room = room(count, cx.width, cx.height);
        let last = count.saturating_sub(room);
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = (self.scroll + 1).min(last),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(room),
            Action::PageDown => self.scroll = (self.scroll + room).min(last),
            Action::Close => cx.ask(Ask::Close),
            _ => {}
        }
    }

    fn draw(&self, state: &State, theme: &Theme, frame: &mut Frame) {
        draw_row(self, state.settings.utc_offset, theme, frame);
    }
}

/// A label and its value; an absent value as a dash.
fn field(name: &str, value: Option<&str>) -> (String, String) {
    (
        name.to_owned(),
        value.filter(|v| !v.is_empty()).map_or("—".to_owned(), safe),
    )
}

/// Every line of the window, as label and value (an empty label: a heading or
/// a change line).
fn text(row: &HistoryRow, utc_offset: i32) -> Vec<(String, String)> {
    let r = &row.record;
    let o = &r.origin;
    let utc = DateTime::from_timestamp(r.at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let hours = f64::from(utc_offset) / 3_600.0;
    let at = format!(
        "{} (local, UTC{hours:+}) · {utc}",
        local_time(r.at, utc_offset)
    );
    let seq = r.seq.to_string();
    let mut out = vec![
        field("Action", Some(r.action.as_str())),
        field("Key", r.masked.as_deref().or(r.key.as_deref())),
        field("About", r.subject.as_deref()),
        ("At".to_owned(), at),
        field("Operator", r.operator.as_deref()),
        field("Email", r.email.as_deref()),
        field("Login", Some(o.login.as_str())),
        field("Host", Some(o.host.as_str())),
        field("Sudo user", o.sudo_user.as_deref()),
        field("SSH client", o.ssh_client.as_deref()),
        field("Terminal", o.tty.as_deref()),
    ];
    // On a server, its own word on who wrote the row, which a client cannot
    // forge (the lines above are what the client said).
    if let Some(db) = &o.db_session {
        out.push(field("DB login", Some(db.user.as_str())));
        out.push(field(
            "DB client",
            Some(db.client.as_deref().unwrap_or("local socket")),
        ));
    }
    out.extend([
        field("Sequence", Some(seq.as_str())),
        // On a line of its own: all 64 digits fit at 80 columns, to be
        // copied for `audit verify --expect-head`.
        ("Hash".to_owned(), String::new()),
        (String::new(), format!("  {}", safe(&row.hash))),
        (String::new(), String::new()),
    ]);
    let details = lines(&r.action, &r.details);
    let heading = if details.iter().any(|l| l.before.is_some()) {
        "Changes (before → after)"
    } else if details.is_empty() {
        "No details recorded."
    } else {
        "Details"
    };
    out.push((String::new(), heading.to_owned()));
    out.extend(
        details
            .iter()
            .map(|l: &DetailLine| (String::new(), format!("  {l}"))),
    );
    out
}

fn draw_row(w: &RowWindow, utc_offset: i32, theme: &Theme, frame: &mut Frame) {
    let all = text(&w.row, utc_offset);
    let area = frame.area();
    let (width, height) = frame_size(all.len(), area.width, area.height);
    let inner = window(
        frame,
        width,
        height,
        format!(" History row {} ", w.row.record.seq),
    );
    let room = usize::from(inner.height).max(1);
    let start = w.scroll.min(all.len().saturating_sub(room));
    let shown: Vec<Line> = all
        .iter()
        .skip(start)
        .take(room)
        .map(|(label, value)| {
            if label.is_empty() {
                let style = if value.starts_with("  ") {
                    ratatui::style::Style::new()
                } else {
                    theme.header()
                };
                Line::styled(fit_text(value, inner.width), style)
            } else {
                let room = inner.width.saturating_sub(LABEL as u16);
                Line::from(vec![
                    Span::styled(format!("{label:<LABEL$}"), theme.header()),
                    Span::raw(fit_text(value, room)),
                ])
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
    crate::tui::kit::widgets::more_marker(frame, inner, start > 0, start + room < all.len(), "j/k");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testing::history_row;
    use keyward_core::domain::history::DbSession;

    fn labels(row: &HistoryRow) -> Vec<(String, String)> {
        text(row, 0)
            .into_iter()
            .filter(|(label, _)| label.starts_with("DB "))
            .collect()
    }

    #[test]
    fn a_servers_own_word_on_who_wrote_a_row_is_shown_where_it_has_one() {
        let mut row = history_row(7);
        assert!(labels(&row).is_empty(), "a file's rows have no such word");
        row.record.origin.db_session = Some(DbSession {
            user: "kw_bastion_a".into(),
            client: Some("10.0.0.7".into()),
        });
        assert_eq!(
            labels(&row),
            [
                ("DB login".to_owned(), "kw_bastion_a".to_owned()),
                ("DB client".to_owned(), "10.0.0.7".to_owned())
            ]
        );
        row.record.origin.db_session = Some(DbSession {
            user: "kw_bastion_b".into(),
            client: None,
        });
        assert_eq!(labels(&row)[1].1, "local socket");
    }
}
