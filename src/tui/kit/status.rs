//! The status line under the tab: the last message (errors stand out), else the
//! store's path, and the notifications still waiting at its right end.

use super::columns::{fit_text, text_width};
use super::theme::Theme;
use keyward_core::domain::outbox::OutboxCounts;
use keyward_core::safe_text::escape;
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
            let text = fit_text(&escape(&s.text), room.saturating_sub(3));
            Line::from(vec![Span::styled(marker, style), Span::styled(text, style)])
        }
        None => Line::from(Span::styled(format!(" {}", escape(store)), theme.dim())),
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
