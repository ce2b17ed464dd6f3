//! The status line under the tab: the last message (errors stand out), else the
//! store's path, and the notifications still waiting at its right end.

use super::columns::{fit_text, text_width};
use super::theme::Theme;
use keyward_core::domain::outbox::OutboxCounts;
use keyward_core::safe_text::{escape, escape_message};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// A message in the status line; `error` ones stand out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub id: u64,
}

pub fn draw(
    status: Option<&Status>,
    store: &str,
    outbox: OutboxCounts,
    delivery: bool,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    // Undelivered notifications, at the right end. While a message is shown
    // the badge keeps to its count, so the message has the room to be read.
    let o = outbox;
    let badge_text = match (o.waiting(), status) {
        (0, _) => String::new(),
        (n, Some(_)) if o.failed == 0 => format!(" ✉ {n}"),
        (_, Some(_)) => format!(" ✉ {} · {} failed", o.pending, o.failed),
        (_, None) => badge(o, delivery, area.width),
    };
    let badge_width = text_width(&badge_text).min(area.width);
    let room = area.width.saturating_sub(badge_width);
    let line = match status {
        Some(s) => {
            let style = if s.error { theme.error() } else { theme.ok() };
            let marker = if s.error { "✗ " } else { "✓ " };
            // A message longer than the line is cut with `…`, never mid-word silently.
            let text = fit_text(&escape_message(&s.text), room.saturating_sub(3));
            Line::from(vec![Span::styled(marker, style), Span::styled(text, style)])
        }
        // A long path keeps its end (the file's name) and loses its start.
        None => Line::from(Span::styled(
            format!(" {}", fit_path(&escape(store), room.saturating_sub(2))),
            theme.dim(),
        )),
    };
    frame.render_widget(
        Paragraph::new(line),
        Rect {
            width: room,
            ..area
        },
    );
    if badge_width > 0 {
        let style = if o.failed > 0 {
            theme.error()
        } else {
            theme.dim()
        };
        let right = Rect {
            x: area.x + area.width - badge_width,
            width: badge_width,
            ..area
        };
        frame.render_widget(Paragraph::new(Span::styled(badge_text, style)), right);
    }
}

/// The outbox badge. With delivery configured: what is pending and what
/// failed. Without `[notify]` nothing is ever sent, so "pending" would
/// mislead: it says the messages only queue, as fully as half the line allows.
pub fn badge(o: OutboxCounts, delivery: bool, width: u16) -> String {
    let counts = match (o.pending, o.failed, delivery) {
        (p, 0, true) => format!("✉ {p} pending"),
        (0, f, _) => format!("✉ {f} failed"),
        (p, f, true) => format!("✉ {p} pending · {f} failed"),
        (p, 0, false) => format!("✉ {p} queued"),
        (p, f, false) => format!("✉ {p} queued · {f} failed"),
    };
    if delivery {
        return format!(" {counts} ");
    }
    let room = usize::from(width / 2);
    [", no delivery configured", ", no delivery", ""]
        .iter()
        .map(|why| format!(" {counts}{why} "))
        .find(|text| text.chars().count() <= room)
        .unwrap_or_else(|| format!(" {counts} "))
}

/// `path` in at most `width` cells: whole if it fits, else `…` and its end.
fn fit_path(path: &str, width: u16) -> String {
    if text_width(path) <= width {
        return path.to_owned();
    }
    let chars: Vec<char> = path.chars().collect();
    let mut start = chars.len();
    let mut used = 1;
    while start > 0 {
        let w = text_width(&chars[start - 1].to_string());
        if used + w > width {
            break;
        }
        used += w;
        start -= 1;
    }
    format!("…{}", chars[start..].iter().collect::<String>())
}

#[cfg(test)]
mod path_tests {
    use super::fit_path;

    #[test]
    fn a_long_path_keeps_its_file_name() {
        let p = "/tmp/walkhome.ZbLZ/.local/share/keyward/keyward.db";
        assert_eq!(fit_path(p, 80), p);
        assert_eq!(fit_path(p, 20), "…/keyward/keyward.db");
        assert_eq!(fit_path(p, 1), "…");
    }
}
