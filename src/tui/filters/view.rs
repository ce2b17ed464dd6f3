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
use ratatui::widgets::{Cell, Row, Table};

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

    let help: Vec<Row> = KEY_FIELDS
        .iter()
        .map(|f| {
            // Two lines a field: the values, then what they mean, so neither is cut.
            Row::new(vec![
                Cell::from(Span::styled(f.field, theme.key())),
                Cell::from(vec![
                    Line::from(Span::raw(f.values)),
                    Line::from(Span::styled(f.meaning, theme.dim())),
                ]),
            ])
            .height(2)
        })
        .collect();
    let panel = Table::new(help, [Constraint::Length(11), Constraint::Min(10)])
        .block(block(" Query language: field:value ".to_owned()));
    frame.render_widget(panel, b.side);
}
