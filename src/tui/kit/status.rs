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
        let text = match (o.pending, o.failed) {
            (p, 0) => format!(" ✉ {p} pending "),
            (0, f) => format!(" ✉ {f} failed "),
            (p, f) => format!(" ✉ {p} pending · {f} failed "),
        };
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
