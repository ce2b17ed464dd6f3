//! The History tab: the credential history, newest first, in the columns the
//! operator chose, from the window of rows loaded around the viewport.

use crate::tui::history;
use crate::tui::kit::columns::{Want, fit_either, fit_text, text_width, widths};
use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, local_time, safe};
use crate::tui::state::{State, Tab};
use keyward_core::domain::history::HistoryRow;
use keyward_core::domain::history_details;
use keyward_core::export::Column;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
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
    // Widths from what the loaded rows hold, with a minimum per column; the
    // chosen columns that do not fit even at their minimum are left out, and
    // the title says how many.
    let offset = state.settings.utc_offset;
    let wants: Vec<Want> = h
        .columns
        .iter()
        .map(|c| {
            let texts: Vec<String> = h.rows.iter().map(|r| cell(*c, r, offset)).collect();
            let widest = |form: fn(Column, &str) -> String| {
                texts
                    .iter()
                    .map(|t| text_width(&form(*c, t)))
                    .chain([text_width(c.title())])
                    .max()
                    .unwrap_or(0)
            };
            Want {
                min: min_width(*c),
                content: widest(|_, t| t.to_owned()),
                short: widest(short_form),
                rank: rank(*c),
            }
        })
        .collect();
    // Borders, the cursor column and the space after it.
    let room = b.table.width.saturating_sub(2 + 2);
    let widths = widths(&wants, room, 1);
    let shown: Vec<(Column, u16)> = h
        .columns
        .iter()
        .zip(&widths)
        .filter(|(_, w)| **w > 0)
        .map(|(c, w)| (*c, *w))
        .collect();
    let mut columns = vec![(None, 1)];
    columns.extend(shown.iter().map(|(c, w)| (Some(*c), *w)));
    let rows: Vec<Row> = h
        .rows
        .iter()
        .enumerate()
        .skip(h.offset)
        .take(visible)
        .map(|(i, r)| {
            let cells: Vec<Cell> = columns
                .iter()
                .map(|(c, w)| match c {
                    None => Cell::from(if i == h.cursor { "›" } else { " " }),
                    Some(c) => Cell::from(fitted(*c, &cell(*c, r, offset), *w)),
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
            .map(|(c, w)| c.map_or(String::new(), |c| fit_text(c.title(), *w)))
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
        let room = b.table.width.saturating_sub(4);
        let note = fit_text(&format!("✗ {}", safe(e)), room);
        outline = outline.title_bottom(Line::styled(format!(" {note} "), theme.error()));
    }
    let constraints = columns.iter().map(|(_, w)| Constraint::Length(*w));
    let table = Table::new(rows, constraints.collect::<Vec<_>>())
        .header(header)
        .flex(Flex::Start)
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
        } else if h.failed {
            "  The history could not be read (the line below says why); Ctrl-R tries again."
        } else {
            "  No history matches."
        };
        frame.render_widget(
            Paragraph::new(message).wrap(ratatui::widgets::Wrap { trim: false }),
            below_header,
        );
    }
}

/// The narrowest a column is drawn; a cell wider than its column is cut with `…`.
fn min_width(c: Column) -> u16 {
    match c {
        Column::Seq => 4,
        Column::At => 16,
        Column::Action => 11,
        Column::Masked => 13,
        Column::Details => 12,
        Column::Key | Column::Subject | Column::Operator | Column::Email | Column::Hash => 8,
        Column::SshClient => 8,
        Column::Login | Column::Host | Column::SudoUser | Column::Tty => 6,
        Column::DbUser | Column::DbClient => 8,
    }
}

/// A cell cut to its column, in its short form if the long one does not fit.
fn fitted(c: Column, text: &str, width: u16) -> String {
    fit_either(text, &short_form(c, text), width)
}

/// A masked key without its `kw_` and `_`; other cells have no short form.
fn short_form(c: Column, text: &str) -> String {
    match c {
        Column::Masked => text
            .strip_prefix("kw_")
            .map_or_else(|| text.to_owned(), |t| t.replacen("_…", "…", 1)),
        _ => text.to_owned(),
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
        // What changed says more than who's email on a narrow screen.
        Column::Details => 5,
        Column::Email => 6,
        other => 7 + Column::ALL.iter().position(|a| *a == other).unwrap_or(0) as u8,
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
