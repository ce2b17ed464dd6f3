//! The Filters tab: a query line, the ready-made and saved filters, and the
//! help panel listing every field of the query language.

use super::{FiltersTab, READY_MADE, filter_at, filter_count};
use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, safe};
use crate::tui::state::Tab;
use keyward_core::domain::query::KEY_FIELDS;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

pub fn tab(tab: &FiltersTab, now: i64, theme: &Theme, frame: &mut Frame, area: Rect) {
    let b = layout::body(Tab::Filters, area, false);
    query_line::draw(&tab.query, "query", theme, frame, b.line);
    let rows: Vec<Row> = (0..filter_count(tab))
        .filter_map(|i| filter_at(tab, now, i).map(|f| (i, f)))
        .map(|(i, f)| {
            let kind = if f.saved { "saved" } else { "ready" };
            let row = Row::new(vec![
                Cell::from(if i == tab.cursor { "›" } else { " " }),
                Cell::from(safe(&f.name)),
                Cell::from(Span::styled(kind, theme.dim())),
            ]);
            if i == tab.cursor {
                row.style(theme.cursor())
            } else {
                row
            }
        })
        .collect();
    let current = filter_at(tab, now, tab.cursor)
        .map(|f| format!(" {} ", safe(&f.query)))
        .unwrap_or_default();
    // On a narrow list the names need the room more than the ready/saved
    // column (saved filters come after the ready-made ones, as the title counts).
    let kind_width = if b.table.width < 34 { 0 } else { 5 };
    let list = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Min(10),
            Constraint::Length(kind_width),
        ],
    )
    .block(
        block(format!(
            " Filters: {} ready-made, {} saved ",
            READY_MADE.len(),
            tab.saved.len()
        ))
        .title_bottom(Line::from(current)),
    );
    frame.render_widget(list, b.table);

    let panel = block(" Query language: field:value ".to_owned());
    let inner = panel.inner(b.side);
    let (lines, all_shown) = reference(inner.width, inner.height, theme);
    let panel = if all_shown {
        panel
    } else {
        panel.title_bottom(Line::from(Span::styled(
            " a larger window shows what each means ",
            theme.dim(),
        )))
    };
    frame.render_widget(Paragraph::new(lines).block(panel), b.side);
}

/// Width of the field-name column of the query reference: the longest name and a space.
const FIELD_WIDTH: usize = 12;

/// The query reference reflowed to `width`: every field with its values and, where
/// `height` leaves room for them, what they mean, wrapped under the values rather than cut.
/// Returns the lines, and whether the meanings are among them.
fn reference(width: u16, height: u16, theme: &Theme) -> (Vec<Line<'static>>, bool) {
    let text_width = usize::from(width).saturating_sub(FIELD_WIDTH).max(8);
    let build = |with_meaning: bool| -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        for f in KEY_FIELDS {
            for (i, chunk) in wrap(f.values, text_width).into_iter().enumerate() {
                let label = if i == 0 { f.field } else { "" };
                lines.push(Line::from(vec![
                    Span::styled(format!("{label:<FIELD_WIDTH$}"), theme.key()),
                    Span::raw(chunk),
                ]));
            }
            if with_meaning {
                for chunk in wrap(f.meaning, text_width) {
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(FIELD_WIDTH)),
                        Span::styled(chunk, theme.dim()),
                    ]));
                }
            }
        }
        lines
    };
    let full = build(true);
    if full.len() <= usize::from(height) {
        (full, true)
    } else {
        (build(false), false)
    }
}

/// Splits `text` into lines of at most `width` characters at spaces; a word longer than a
/// line is cut into pieces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let room = if used == 0 {
                width
            } else {
                width.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_only_overlong_words() {
        assert_eq!(
            wrap("active, expired, deleted", 16),
            vec!["active, expired,", "deleted"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a b", 10), vec!["a b"]);
    }
}
