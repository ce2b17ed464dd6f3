//! The Filters tab: ready-made filters, the operator's saved ones (`s` save,
//! `R` rename, `D` delete) and a query line; `Enter` applies one on the Keys
//! tab. The name prompt is its window.

pub mod name_prompt;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
pub mod view;

use crate::tui::kit::keymap::{Action, ENTER, ESC, Layer, MOVE, TABS, bind, key, table};
use crate::tui::kit::paging::step;
use crate::tui::kit::query_line::{self, QueryLine};
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx};
use crate::tui::windows::confirm::{Confirm, Pending};
use chrono::{DateTime, Datelike};
use keyward_core::domain::model::SavedFilter;
use keyward_core::domain::query::KeyQuery;
use name_prompt::{NamePrompt, NamePurpose};

/// The Filters tab: a query line, ready-made and saved filters, the field help.
#[derive(Debug, Default)]
pub struct FiltersTab {
    pub query: QueryLine,
    pub saved: Vec<SavedFilter>,
    pub cursor: usize,
}

/// Ready-made filters of the Filters tab: a name and how to build its query.
pub const READY_MADE: [(&str, ReadyMade); 5] = [
    (
        "Expiring in 30 days",
        ReadyMade::Fixed("status:active expires:<30d"),
    ),
    ("Expired", ReadyMade::Fixed("status:expired")),
    ("Never used", ReadyMade::Fixed("used:never -status:deleted")),
    (
        "Active with no team",
        ReadyMade::Fixed("status:active team:none"),
    ),
    ("Deactivated this month", ReadyMade::ThisMonth),
];

#[derive(Clone, Copy, Debug)]
pub enum ReadyMade {
    Fixed(&'static str),
    /// `deactivated:>=` the first day of the current month (UTC).
    ThisMonth,
}

impl ReadyMade {
    pub fn query(self, now: i64) -> String {
        match self {
            ReadyMade::Fixed(q) => q.to_owned(),
            ReadyMade::ThisMonth => {
                // This month where the admin is: dates in filters are local days.
                let t = DateTime::from_timestamp(now, 0)
                    .unwrap_or_default()
                    .with_timezone(&chrono::Local);
                format!("deactivated:>={:04}-{:02}-01", t.year(), t.month())
            }
        }
    }
}

/// A filter in the tab's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub query: String,
    /// The operator's own (renamed and deleted here), not a ready-made one.
    pub saved: bool,
}

table!(
    FILTERS,
    [
        bind(
            &[ENTER],
            Action::Apply,
            "apply the filter on the Keys tab",
            "apply"
        ),
        bind(&[key('/')], Action::FocusFilter, "write a query", "query"),
        bind(
            &[key('s')],
            Action::Save,
            "save the query under a name",
            "save"
        ),
        bind(
            &[key('R')],
            Action::Rename,
            "rename the saved filter",
            "rename"
        ),
        bind(
            &[key('D')],
            Action::Delete,
            "delete the saved filter",
            "delete"
        ),
        bind(
            &[ESC],
            Action::Close,
            "clear the query, or the status line",
            ""
        ),
    ] + MOVE
        + TABS
);

pub const LAYER: Layer = Layer {
    name: "Filters",
    bindings: FILTERS,
    takes_text: false,
    note: "",
};

pub fn filter_count(tab: &FiltersTab) -> usize {
    READY_MADE.len() + tab.saved.len()
}

/// The filter at `i`: ready-made ones first, then saved ones.
pub fn filter_at(tab: &FiltersTab, now: i64, i: usize) -> Option<Listed> {
    if let Some((name, made)) = READY_MADE.get(i) {
        return Some(Listed {
            name: (*name).to_owned(),
            query: made.query(now),
            saved: false,
        });
    }
    tab.saved.get(i - READY_MADE.len()).map(|f| Listed {
        name: f.name.clone(),
        query: f.query.clone(),
        saved: true,
    })
}

/// The saved filters as the store has them now.
pub fn on_saved(tab: &mut FiltersTab, saved: Vec<SavedFilter>) {
    tab.saved = saved;
    tab.cursor = tab.cursor.min(filter_count(tab) - 1);
}

pub fn move_cursor(tab: &mut FiltersTab, by: isize) {
    tab.cursor = step(tab.cursor, by, filter_count(tab));
}

/// The tab's own actions: moving, the query line, applying and keeping filters.
pub fn act(tab: &mut FiltersTab, action: Action, page: isize, cx: &mut Cx) {
    let current = filter_at(tab, cx.now, tab.cursor);
    match action {
        Action::Up => move_cursor(tab, -1),
        Action::Down => move_cursor(tab, 1),
        Action::PageUp => move_cursor(tab, -page),
        Action::PageDown => move_cursor(tab, page),
        Action::Top => move_cursor(tab, isize::MIN),
        Action::Bottom => move_cursor(tab, isize::MAX),
        Action::FocusFilter => tab.query.editing = true,
        Action::Close if !tab.query.input.value().is_empty() => {
            tab.query.input.reset();
            query_changed(tab, cx);
        }
        Action::Apply => {
            if let Some(f) = current {
                cx.ask(Ask::ApplyKeyFilter(f.query));
            }
        }
        Action::Save => {
            let typed = tab.query.input.value().trim().to_owned();
            let query = if typed.is_empty() {
                current.map(|f| f.query).unwrap_or_default()
            } else {
                typed
            };
            if let Some(e) = KeyQuery::parse(&query).err() {
                cx.warn(format!("The query does not parse: {e}"));
                return;
            }
            cx.ask(Ask::Open(Modal::NamePrompt(Box::new(NamePrompt::new(
                NamePurpose::SaveFilter { query },
                String::new(),
            )))));
        }
        Action::Rename => match current {
            Some(f) if f.saved => cx.ask(Ask::Open(Modal::NamePrompt(Box::new(NamePrompt::new(
                NamePurpose::RenameFilter {
                    from: f.name.clone(),
                },
                f.name,
            ))))),
            _ => cx.warn("Only saved filters can be renamed.".into()),
        },
        Action::Delete => match current {
            Some(f) if f.saved => cx.ask(Ask::Open(Modal::Confirm(Box::new(Confirm {
                title: "Delete the saved filter?".to_owned(),
                lines: vec![format!("{}: {}", f.name, f.query)],
                pending: Pending::DeleteFilter(f.name),
                back: None,
                scroll: 0,
            })))),
            _ => cx.warn("Ready-made filters cannot be deleted.".into()),
        },
        _ => {}
    }
}

/// The query line's keys while it is being typed in: Enter applies what was
/// typed on the Keys tab, if it parses.
pub fn line_act(tab: &mut FiltersTab, action: Action, cx: &mut Cx) {
    match action {
        Action::Apply => {
            tab.query.editing = false;
            if tab.query.error.is_none() {
                cx.ask(Ask::ApplyKeyFilter(tab.query.input.value().to_owned()));
            }
        }
        Action::Cancel => {
            tab.query.editing = false;
            if !tab.query.input.value().is_empty() {
                tab.query.input.reset();
                query_changed(tab, cx);
            }
        }
        Action::Up => move_cursor(tab, -1),
        Action::Down => move_cursor(tab, 1),
        _ => {}
    }
}

/// The text of the query line changed: says whether it parses; nothing is
/// applied until Enter.
pub fn query_changed(tab: &mut FiltersTab, cx: &mut Cx) {
    // A leaked key pasted here is cut back to its public id, as on Keys.
    let text = query_line::forget_pasted_key(&mut tab.query, cx, |t| {
        KeyQuery::parse(t).ok().map(|q| q.to_string())
    });
    tab.query.error = KeyQuery::parse(&text).err().map(|e| e.to_string());
}

/// A click on the `row`-th filter of the list.
pub fn click_row(tab: &mut FiltersTab, row: usize) {
    if row < filter_count(tab) {
        tab.cursor = row;
    }
}
