//! A line the admin types a query into above a list (the Keys, Teams, Filters
//! and History tabs each have one): its state and how it is drawn.

use super::keymap::{Action, Binding, DOWN, ENTER, ESC, Layer, UP, bind};
use super::theme::Theme;
use super::widgets::{byte_at, safe};
use crate::tui::kit::columns::fit_text;
use crate::tui::router::Cx;
use keyward_core::domain::query::without_pasted_key;
use keyward_core::safe_text::escape;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_input::Input;

/// A line the user types a query into, with the last parse error.
#[derive(Debug, Default)]
pub struct QueryLine {
    pub input: Input,
    pub editing: bool,
    pub error: Option<String>,
    /// The query whose results are on screen.
    pub applied: String,
}

/// The query line above a table: the text being typed, with the cursor, and a
/// parse error beside it naming the column.
pub fn draw(line: &QueryLine, label: &str, theme: &Theme, frame: &mut Frame, area: Rect) {
    let value = line.input.value();
    let mut spans = vec![Span::styled(format!(" {label} "), theme.key())];
    if value.is_empty() && !line.editing {
        spans.push(Span::styled("(none: press / to filter)", theme.dim()));
    } else {
        spans.push(Span::raw(safe(value)));
    }
    if let Some(e) = &line.error {
        // What room is left beside the query; cut with `…` (the table's
        // bottom border says it again, with more room).
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let room = usize::from(area.width).saturating_sub(used + 2);
        if room >= 4 {
            spans.push(Span::styled(
                format!("  {}", fit_text(&format!("✗ {}", safe(e)), room as u16)),
                theme.error(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if line.editing {
        let prefix = label.chars().count() as u16 + 2;
        let x = area.x
            + prefix
            + escape(&value[..byte_at(value, line.input.cursor())])
                .chars()
                .count() as u16;
        frame.set_cursor_position((x.min(area.x + area.width.saturating_sub(1)), area.y));
    }
}

/// The "a key leaked, find it" path: a full key pasted into the line is cut back at once to
/// its public id (`canonical` gives the query's own text, where it reads `id:<public id>`),
/// so the secret is never drawn again, and the status line says so. Returns the line's text.
pub fn forget_pasted_key(
    line: &mut QueryLine,
    cx: &mut Cx,
    canonical: impl FnOnce(&str) -> Option<String>,
) -> String {
    let text = line.input.value().to_owned();
    let Some(shown) = without_pasted_key(&text, canonical(&text)) else {
        return text;
    };
    line.input = Input::new(shown.clone());
    cx.say(
        "a full key was pasted: the filter keeps only its public id, never the secret".to_owned(),
    );
    shown
}

static LINE: &[Binding] = &[
    bind(&[ENTER], Action::Apply, "apply and leave the line", "apply"),
    bind(&[ESC], Action::Cancel, "clear the line", "clear"),
    bind(&[UP], Action::Up, "move in the list", ""),
    bind(&[DOWN], Action::Down, "move in the list", ""),
];

/// Typing in a query line: Enter applies it, Esc clears it.
pub const LAYER: Layer = Layer {
    name: "typing a query",
    bindings: LINE,
    takes_text: true,
    note: "",
};
