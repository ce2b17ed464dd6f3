//! Where each part of the screen goes, computed from the terminal's size alone.
//! The view draws into these areas and `update` uses the same ones to page by
//! the visible height and to find what a mouse click hit.

use crate::tui::state::Tab;
use ratatui::layout::{Constraint, Layout, Rect};

/// Below this size the screen says it is too small instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Rows of the detail pane under the keys table.
pub const DETAIL_HEIGHT: u16 = 8;

pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// The frame: tab bar, body, status line, footer hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    pub tabs: Rect,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn frame(width: u16, height: u16) -> Frame {
    let area = Rect::new(0, 0, width, height);
    let [tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Frame {
        tabs,
        body,
        status,
        footer,
    }
}

/// A tab's body: its query line and the table under it (with its header row),
/// and on the Keys tab the detail pane, beside it on Teams the teams list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Body {
    pub line: Rect,
    pub table: Rect,
    pub side: Rect,
}

pub fn body(tab: Tab, area: Rect, detail_open: bool) -> Body {
    let [line, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    match tab {
        Tab::Keys if detail_open => {
            let [table, side] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(DETAIL_HEIGHT)])
                    .areas(rest);
            Body { line, table, side }
        }
        Tab::Teams => {
            let [table, side] =
                Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                    .areas(rest);
            Body { line, table, side }
        }
        Tab::Filters => {
            let [table, side] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(rest);
            Body { line, table, side }
        }
        _ => Body {
            line,
            table: rest,
            side: Rect::default(),
        },
    }
}

/// How many data rows the tab's table shows (its header and border take the rest).
pub fn visible_rows(tab: Tab, width: u16, height: u16, detail_open: bool) -> usize {
    let f = frame(width, height);
    let b = body(tab, f.body, detail_open);
    // One border line above and below, one header row.
    usize::from(b.table.height.saturating_sub(3)).max(1)
}

/// The tab titles' columns in the tab bar, for mouse clicks.
pub fn tab_spans() -> Vec<(Tab, u16, u16)> {
    let mut x = 1u16;
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let w = (format!(" {} {} ", i + 1, t.title()).len()) as u16;
            let span = (*t, x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_fewer_rows_with_the_detail_pane_open() {
        let closed = visible_rows(Tab::Keys, 80, 24, false);
        let open = visible_rows(Tab::Keys, 80, 24, true);
        assert_eq!(closed, 24 - 3 - 1 - 3);
        assert_eq!(open, closed - usize::from(DETAIL_HEIGHT));
    }

    #[test]
    fn tab_titles_do_not_overlap() {
        let spans = tab_spans();
        for w in spans.windows(2) {
            assert!(w[0].2 < w[1].1);
        }
    }

    #[test]
    fn sixty_by_sixteen_is_the_smallest_drawn() {
        assert!(!too_small(60, 16));
        assert!(too_small(59, 16));
        assert!(too_small(60, 15));
    }
}
