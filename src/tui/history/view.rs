//! The History tab: the credential history, newest first, in the columns the
//! operator chose, from the window of rows loaded around the viewport.

use crate::tui::history;
use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, fit, local_time, safe};
use crate::tui::state::{State, Tab};
use keyward_core::domain::history::HistoryRow;
use keyward_core::domain::history_details;
use keyward_core::export::Column;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

pub fn tab(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let h = &state.history;
    let b = layout::body(Tab::History, area, false);
    match history::shown_key(h) {
        Some(name) => {
            // Says whose history this is, beside the filter that shows it.
            let note = format!("history of key {} · Esc shows all ", safe(name));
            let [line, right] = Layout::horizontal([
                Constraint::Min(10),
                Constraint::Length(note.chars().count() as u16),
            ])
            .areas(b.line);
            query_line::draw(&h.filter, "/", theme, frame, line);
            frame.render_widget(Paragraph::new(Line::styled(note, theme.dim())), right);
        }
        None => query_line::draw(&h.filter, "/", theme, frame, b.line),
    }
    let visible = usize::from(b.table.height.saturating_sub(3));
    // Only the chosen columns that fit at their width, so none is squeezed
    // unreadable; the title says how many are left out.
    // As wide as the longest action loaded (notification_sent), no wider.
    let action = h
        .rows
        .iter()
        .map(|r| r.record.action.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 17) as u16;
    let minimums: Vec<(u16, u8)> = h
        .columns
        .iter()
        .map(|c| (min_width(*c, action), rank(*c)))
        .collect();
    // Borders, the cursor column and a space after each column.
    let room = b.table.width.saturating_sub(2 + 1);
    let shown: Vec<Column> = fit(&minimums, room)
        .into_iter()
        .map(|i| h.columns[i])
        .collect();
    let mut columns = vec![(None, Constraint::Length(1))];
    columns.extend(shown.iter().map(|c| (Some(*c), width(*c, action))));
    let rows: Vec<Row> = h
        .rows
        .iter()
        .enumerate()
        .skip(h.offset)
        .take(visible)
        .map(|(i, r)| {
            let cells: Vec<Cell> = columns
                .iter()
                .map(|(c, _)| match c {
                    None => Cell::from(if i == h.cursor { "›" } else { " " }),
                    Some(c) => Cell::from(cell(*c, r, state.settings.utc_offset)),
                })
                .collect();
            let row = Row::new(cells);
            if i == h.cursor {
                row.style(theme.cursor())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(
        columns
            .iter()
            .map(|(c, _)| c.map_or("", |c| c.title()))
            .collect::<Vec<_>>(),
    )
    .style(theme.header());
    let mut title = format!(" Credential history · {} columns (m) ", h.columns.len());
    if shown.len() < h.columns.len() {
        title.push_str(&format!("· {} hidden ", h.columns.len() - shown.len()));
    }
    if h.loading {
        title.push_str("· loading ");
    }
    let mut outline = block(title);
    if let Some(e) = &h.filter.error {
        // The filter line cuts a long parse error short; the border has room for it.
        outline = outline.title_bottom(Line::styled(format!(" ✗ {} ", safe(e)), theme.error()));
    }
    let table = Table::new(rows, columns.iter().map(|(_, w)| *w).collect::<Vec<_>>())
        .header(header)
        .column_spacing(1)
        .block(outline);
    frame.render_widget(table, b.table);
    if h.rows.is_empty() && !h.loading {
        // Across the table under its header, not squeezed into one column.
        let below_header = Rect {
            x: b.table.x + 1,
            y: b.table.y + 2,
            width: b.table.width.saturating_sub(2),
            height: b.table.height.saturating_sub(3),
        };
        let message = if h.filter.error.is_some() {
            "  No rows shown: the filter is invalid (see below). Fix it, or Esc clears it."
        } else {
            "  No history matches."
        };
        frame.render_widget(
            Paragraph::new(message).wrap(ratatui::widgets::Wrap { trim: false }),
            below_header,
        );
    }
}

/// The narrowest a column is drawn.
fn min_width(c: Column, action: u16) -> u16 {
    match width(c, action) {
        Constraint::Length(n) | Constraint::Min(n) => n,
        _ => 10,
    }
}

/// Which columns stay when the table is narrow: lower ranks are kept first.
fn rank(c: Column) -> u8 {
    match c {
        Column::At => 0,
        Column::Action => 1,
        Column::Subject => 2,
        Column::Masked => 3,
        Column::Operator => 4,
        Column::Email => 5,
        other => 6 + Column::ALL.iter().position(|a| *a == other).unwrap_or(0) as u8,
    }
}

/// A column's width; `action` is the Action column's, from the rows loaded.
fn width(c: Column, action: u16) -> Constraint {
    match c {
        Column::Seq => Constraint::Length(7),
        Column::At => Constraint::Length(16),
        Column::Action => Constraint::Length(action),
        Column::Key => Constraint::Length(11),
        Column::Masked => Constraint::Length(17),
        Column::Subject | Column::Operator | Column::Email => Constraint::Min(10),
        Column::Login | Column::Host | Column::SudoUser | Column::Tty => Constraint::Length(10),
        Column::SshClient => Constraint::Length(15),
        Column::Details => Constraint::Min(16),
        Column::Hash => Constraint::Length(16),
    }
}

/// A cell's text: times in local time, details as a one-line summary, all escaped.
pub fn cell(c: Column, row: &HistoryRow, utc_offset: i32) -> String {
    let r = &row.record;
    match c {
        Column::At => local_time(r.at, utc_offset),
        // Escaped by the summary itself, value by value.
        Column::Details => history_details::summary(&r.action, &r.details, r.at),
        other => safe(&other.text(row)),
    }
}
