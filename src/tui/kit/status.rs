//! The status line under the tab: the last message (errors stand out), else the
//! store's path, and the notifications still waiting at its right end.

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
    let line = match status {
        Some(s) => {
            let style = if s.error { theme.error() } else { theme.ok() };
            let marker = if s.error { "✗ " } else { "✓ " };
            Line::from(vec![
                Span::styled(marker, style),
                Span::styled(escape(&s.text).into_owned(), style),
            ])
        }
        None => Line::from(Span::styled(format!(" {}", escape(store)), theme.dim())),
    };
    frame.render_widget(Paragraph::new(line), area);
    // Undelivered notifications, at the right end, over whatever the line says.
    let o = outbox;
    if o.waiting() > 0 {
        let text = badge(o, delivery, area.width);
        let style = if o.failed > 0 {
            theme.error()
        } else {
            theme.dim()
        };
        let width = (text.chars().count() as u16).min(area.width);
        let right = Rect {
            x: area.x + area.width - width,
            width,
            ..area
        };
        frame.render_widget(Paragraph::new(Span::styled(text, style)), right);
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
