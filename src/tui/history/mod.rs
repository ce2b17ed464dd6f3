//! The History tab: the credential history, newest first, read from the store
//! a page at a time around the viewport, filtered by its query line; with the
//! column menu (`m`), the export prompt (`E`) and a row opened in full
//! (`Enter`) as its windows.

pub mod columns;
pub mod export;
pub mod row;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
pub mod view;

use crate::tui::kit::keymap::{Action, ENTER, ESC, Layer, MOVE, TABS, bind, key, table};
use crate::tui::kit::layout;
use crate::tui::kit::paging::{keep_in_view, step};
use crate::tui::kit::query_line::{self, QueryLine};
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx};
use crate::tui::state::{Effect, Tab};
use chrono::DateTime;
use keyward_core::domain::history::Action as HistoryAction;
use keyward_core::domain::history::{HistoryPage, HistoryRow};
use keyward_core::domain::query::HistoryQuery;
use keyward_core::error::Error;
use keyward_core::export::Column;

/// History rows read per page.
pub const HISTORY_PAGE: u64 = 200;
/// History rows held at most; older or newer ones are dropped and read again on demand.
const HISTORY_WINDOW: usize = 1_000;
/// Rows from the end of the window at which the next page is read.
const HISTORY_MARGIN: usize = 20;

/// The History tab: a window of rows around the viewport, paged by sequence.
#[derive(Debug)]
pub struct HistoryTab {
    pub filter: QueryLine,
    pub generation: u64,
    pub loading: bool,
    /// The last page asked for could not be read (the status line says why).
    pub failed: bool,
    pub loaded: bool,
    /// Newest first.
    pub rows: Vec<HistoryRow>,
    pub more_newer: bool,
    pub more_older: bool,
    pub cursor: usize,
    pub offset: usize,
    pub columns: Vec<Column>,
    /// The filter `h` set from the Keys tab and the key's name, said beside
    /// the filter line while that filter stands.
    pub for_key: Option<(String, String)>,
}

/// The seed portal's history table (action, credential, date, user's name and
/// email) and what changed, in one line: an edit's before → after is the
/// first thing asked of a history row.
pub const DEFAULT_HISTORY_COLUMNS: [Column; 7] = [
    Column::At,
    Column::Action,
    Column::Masked,
    Column::Subject,
    Column::Operator,
    Column::Email,
    Column::Details,
];

impl Default for HistoryTab {
    fn default() -> HistoryTab {
        HistoryTab {
            filter: QueryLine::default(),
            generation: 0,
            loading: false,
            failed: false,
            loaded: false,
            rows: Vec::new(),
            more_newer: false,
            more_older: false,
            cursor: 0,
            offset: 0,
            columns: DEFAULT_HISTORY_COLUMNS.to_vec(),
            for_key: None,
        }
    }
}

table!(
    HISTORY,
    [
        bind(
            &[key('/')],
            Action::FocusFilter,
            "filter: action, key, operator, at (dates)",
            "filter"
        ),
        bind(
            &[ENTER],
            Action::Open,
            "open the row: every field, and what changed (before → after)",
            "open"
        ),
        bind(
            &[key('m')],
            Action::Columns,
            "show or hide columns",
            "columns"
        ),
        bind(
            &[key('E')],
            Action::Export,
            "export what is shown to CSV or JSON",
            "export"
        ),
        bind(
            &[ESC],
            Action::Close,
            "clear the filter, or the status line",
            ""
        ),
    ] + MOVE
        + TABS
);

pub const LAYER: Layer = Layer {
    name: "History",
    bindings: HISTORY,
    takes_text: false,
    note: "",
};

/// Reads the newest page again, with the cursor at the top.
pub fn reload(h: &mut HistoryTab, cx: &mut Cx) {
    h.cursor = 0;
    h.offset = 0;
    load(h, HistoryPage::Newest, cx);
}

fn load(h: &mut HistoryTab, page: HistoryPage, cx: &mut Cx) {
    let Ok(query) = checked(&h.filter.applied) else {
        return;
    };
    // A new first or last page replaces the window; older requests are moot.
    if matches!(page, HistoryPage::Newest | HistoryPage::Oldest) || !h.loading {
        h.generation += 1;
    } else {
        return;
    }
    h.loading = true;
    cx.effect(Effect::LoadHistory {
        generation: h.generation,
        query,
        page,
        limit: HISTORY_PAGE,
    });
}

/// A page the store read; an outdated one (an older generation) is dropped.
pub fn on_rows(
    h: &mut HistoryTab,
    generation: u64,
    page: HistoryPage,
    result: Result<Vec<HistoryRow>, Error>,
    cx: &mut Cx,
) {
    if generation != h.generation {
        return;
    }
    h.loading = false;
    h.failed = result.is_err();
    match result {
        Ok(rows) => on_page(h, page, rows, cx),
        Err(e) => cx.fail(&e),
    }
}

/// The operator's saved choice of columns, if any.
pub fn on_columns(h: &mut HistoryTab, names: Option<String>) {
    let Some(names) = names else {
        return;
    };
    let columns: Vec<Column> = names.split(',').filter_map(Column::parse).collect();
    if !columns.is_empty() {
        h.columns = columns;
    }
}

/// A background delivery wrote history rows: show them when the tab is on
/// screen, unless the admin is reading further down.
pub fn on_delivered(h: &mut HistoryTab, on_screen: bool, cx: &mut Cx) {
    if on_screen && h.loaded && h.cursor == 0 && h.offset == 0 {
        reload(h, cx);
    }
}

/// Another process wrote to the store while the tab is on screen: the newest
/// rows show at once when they are in view; further down the admin keeps the
/// place, and scrolling up reads them.
pub fn on_store_changed(h: &mut HistoryTab, cx: &mut Cx) {
    if !h.loaded {
        return;
    }
    if h.cursor == 0 && h.offset == 0 {
        reload(h, cx);
    } else {
        h.more_newer = true;
    }
}

fn on_page(h: &mut HistoryTab, page: HistoryPage, rows: Vec<HistoryRow>, cx: &Cx) {
    let full = rows.len() as u64 == HISTORY_PAGE;
    h.loaded = true;
    match page {
        HistoryPage::Newest => {
            h.rows = rows;
            h.more_newer = false;
            h.more_older = full;
            h.cursor = 0;
            h.offset = 0;
        }
        HistoryPage::Oldest => {
            h.rows = rows;
            h.more_older = false;
            h.more_newer = full;
            h.cursor = h.rows.len().saturating_sub(1);
        }
        HistoryPage::OlderThan(_) => {
            h.more_older = full;
            h.rows.extend(rows);
            if h.rows.len() > HISTORY_WINDOW {
                let drop = h.rows.len() - HISTORY_WINDOW;
                h.rows.drain(..drop);
                h.cursor = h.cursor.saturating_sub(drop);
                h.offset = h.offset.saturating_sub(drop);
                h.more_newer = true;
            }
        }
        HistoryPage::NewerThan(_) => {
            h.more_newer = full;
            let n = rows.len();
            h.rows.splice(0..0, rows);
            h.cursor += n;
            h.offset += n;
            if h.rows.len() > HISTORY_WINDOW {
                h.rows.truncate(HISTORY_WINDOW);
                h.more_older = true;
            }
        }
    }
    keep_in_view(&mut h.offset, h.cursor, visible_rows(cx), h.rows.len());
}

fn visible_rows(cx: &Cx) -> usize {
    layout::visible_rows(Tab::History, cx.width, cx.height, false)
}

/// Keeps the cursor in view and reads the next page when it nears either end.
fn scroll(h: &mut HistoryTab, cx: &mut Cx) {
    keep_in_view(&mut h.offset, h.cursor, visible_rows(cx), h.rows.len());
    let near_end = h.cursor + HISTORY_MARGIN >= h.rows.len();
    if near_end && h.more_older {
        if let Some(last) = h.rows.last().map(|r| r.record.seq) {
            load(h, HistoryPage::OlderThan(last), cx);
        }
    } else if h.cursor < HISTORY_MARGIN && h.more_newer {
        if let Some(first) = h.rows.first().map(|r| r.record.seq) {
            load(h, HistoryPage::NewerThan(first), cx);
        }
    }
}

pub fn move_cursor(h: &mut HistoryTab, by: isize, cx: &mut Cx) {
    h.cursor = step(h.cursor, by, h.rows.len());
    scroll(h, cx);
}

fn to_end(h: &mut HistoryTab, bottom: bool, cx: &mut Cx) {
    if bottom && h.more_older {
        load(h, HistoryPage::Oldest, cx);
    } else if !bottom && h.more_newer {
        load(h, HistoryPage::Newest, cx);
    } else {
        h.cursor = if bottom {
            h.rows.len().saturating_sub(1)
        } else {
            0
        };
        scroll(h, cx);
    }
}

/// The tab's own actions: moving, the query line, its windows.
pub fn act(h: &mut HistoryTab, action: Action, cx: &mut Cx) {
    let page = visible_rows(cx) as isize;
    match action {
        Action::Up => move_cursor(h, -1, cx),
        Action::Down => move_cursor(h, 1, cx),
        Action::PageUp => move_cursor(h, -page, cx),
        Action::PageDown => move_cursor(h, page, cx),
        Action::Top => to_end(h, false, cx),
        Action::Bottom => to_end(h, true, cx),
        Action::FocusFilter => h.filter.editing = true,
        Action::Close if !h.filter.input.value().is_empty() => {
            h.filter.input.reset();
            query_changed(h, cx);
        }
        Action::Open => {
            if let Some(row) = h.rows.get(h.cursor) {
                cx.ask(Ask::Open(Modal::HistoryRow(Box::new(row::RowWindow::new(
                    row.clone(),
                )))));
            }
        }
        Action::Columns => cx.ask(Ask::Open(Modal::Columns(Box::new(
            columns::ColumnMenu::new(h.columns.clone()),
        )))),
        Action::Export => {
            let query = match checked(&h.filter.applied) {
                Ok(query) => query,
                Err(e) => {
                    cx.warn(format!(
                        "Nothing exported: the filter is invalid; fix it, or Esc clears it ({e})."
                    ));
                    return;
                }
            };
            let stamp = DateTime::from_timestamp(cx.now, 0)
                .unwrap_or_default()
                .format("%Y%m%d-%H%M%S");
            let path = cx
                .settings
                .export_dir
                .join(format!("keyward-history-{stamp}.csv"));
            cx.ask(Ask::Open(Modal::Export(Box::new(
                export::ExportPrompt::new(path.display().to_string(), query, h.columns.clone()),
            ))));
            // A file of that name may be there from an earlier export.
            cx.effect(Effect::ProposeExportPath(path));
        }
        _ => {}
    }
}

/// The query line's keys while it is being typed in.
pub fn line_act(h: &mut HistoryTab, action: Action, cx: &mut Cx) {
    match action {
        Action::Apply => h.filter.editing = false,
        Action::Cancel => {
            h.filter.editing = false;
            if !h.filter.input.value().is_empty() {
                h.filter.input.reset();
                query_changed(h, cx);
            }
        }
        Action::Up => move_cursor(h, -1, cx),
        Action::Down => move_cursor(h, 1, cx),
        _ => {}
    }
}

/// The query in `text`, or why it cannot be one: a parse error, or an action
/// that does not exist (which the store would refuse after the fact, leaving
/// the rows of the filter before on screen as if they were this one's).
pub fn checked(text: &str) -> Result<HistoryQuery, String> {
    let query = HistoryQuery::parse(text).map_err(|e| e.to_string())?;
    match HistoryAction::unknown_in(&query) {
        Some(why) => Err(why),
        None => Ok(query),
    }
}

/// The text of the query line changed: check it, and show its results if it parses.
pub fn query_changed(h: &mut HistoryTab, cx: &mut Cx) {
    // A leaked key pasted here is cut back to its public id, as on Keys.
    let text = query_line::forget_pasted_key(&mut h.filter, cx, |t| {
        HistoryQuery::parse(t).ok().map(|q| q.to_string())
    });
    h.filter.error = checked(&text).err();
    if h.filter.applied == text {
        return;
    }
    h.filter.applied = text;
    if h.filter.error.is_some() {
        // An invalid filter shows no rows, rather than the last valid filter's
        // as if they were its; what was asked for is dropped on arrival.
        h.generation += 1;
        h.loading = false;
        h.loaded = true;
        h.rows.clear();
        h.more_newer = false;
        h.more_older = false;
        h.cursor = 0;
        h.offset = 0;
        return;
    }
    reload(h, cx);
}

/// The history of one key (`h` on the Keys tab): the filter `key:ID`, from the top.
pub fn show_key(h: &mut HistoryTab, public_id: &str, name: String, cx: &mut Cx) {
    let query = format!("key:{public_id}");
    h.filter.input = tui_input::Input::new(query.clone());
    h.filter.editing = false;
    h.filter.error = None;
    h.filter.applied = query.clone();
    h.for_key = Some((query, name));
    reload(h, cx);
}

/// The key whose history the filter shows, while the filter `h` set stands.
pub fn shown_key(h: &HistoryTab) -> Option<&str> {
    h.for_key
        .as_ref()
        .filter(|(query, _)| *query == h.filter.input.value())
        .map(|(_, name)| name.as_str())
}

/// A click on the `row`-th row shown.
pub fn click_row(h: &mut HistoryTab, row: usize, cx: &mut Cx) {
    let at = h.offset + row;
    if at < h.rows.len() {
        let by = at as isize - h.cursor as isize;
        move_cursor(h, by, cx);
    }
}

/// Whether the rows on screen are the store's, loaded in full.
pub fn is_full(h: &HistoryTab) -> bool {
    h.loaded && !h.loading
}
