//! The Teams tab: the keys with checkboxes on the left (the same list and
//! selection as the Keys tab), the teams with their key counts on the right.

use super::view as keys;
use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, safe};
use crate::tui::state::{State, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};

pub fn tab(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let b = layout::body(Tab::Teams, area, false);
    query_line::draw(&state.keys.filter, "/", theme, frame, b.line);
    keys::table(state, theme, frame, b.table);
    let rows: Vec<Row> = state
        .teams
        .teams
        .iter()
        .map(|t| Row::new(vec![safe(&t.name), t.keys.to_string()]))
        .collect();
    // Short enough for the narrow panel; the keys' title counts the selection
    // and the footer names `t`.
    let title = format!(" Teams ({}) ", state.teams.teams.len());
    let table = Table::new(rows, [Constraint::Min(10), Constraint::Length(6)])
        .header(Row::new(vec!["Team", "Keys"]).style(theme.header()))
        .block(block(title));
    frame.render_widget(table, b.side);
}
