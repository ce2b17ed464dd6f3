//! The Keys and Teams tabs: one list of keys (every handle the filter selects,
//! rows loaded near the viewport only) and one selection, shown as the key
//! table with its detail pane, or with the teams and their counts beside it.

pub mod keymap;
#[cfg(test)]
mod snapshot_tests;
pub mod teams_view;
#[cfg(test)]
mod tests;
pub mod view;

use crate::tui::key_form::new_form;
use crate::tui::kit::keymap::Action;
use crate::tui::kit::layout;
use crate::tui::kit::paging::step;
use crate::tui::kit::query_line::QueryLine;
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx};
use crate::tui::state::{Effect, Tab};
use crate::tui::windows::confirm::{Confirm, KeyBrief, count_keys};
use crate::tui::windows::renew::RenewForm;
use crate::tui::windows::team_picker::TeamPicker;
use keyward_core::domain::model::{Key, KeyRef, KeyStatus, Role, Team};
use keyward_core::domain::query::KeyQuery;
use keyward_core::error::Error;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tui_input::Input;

/// The keys the filter selects: every handle in order, rows loaded near the
/// viewport only, so a hundred thousand keys cost a few megabytes.
#[derive(Debug, Default)]
pub struct KeyList {
    pub filter: QueryLine,
    pub generation: u64,
    pub loading: bool,
    pub refs: Vec<KeyRef>,
    pub rows: HashMap<i64, Key>,
    pub requested: HashSet<i64>,
    pub cursor: usize,
    pub offset: usize,
    /// Selected keys by row id.
    pub selected: BTreeMap<i64, KeyRef>,
    /// The key whose details are open (opening was recorded as viewed).
    pub detail: Option<Key>,
}

impl KeyList {
    pub fn current(&self) -> Option<&KeyRef> {
        self.refs.get(self.cursor)
    }

    pub fn current_key(&self) -> Option<&Key> {
        self.current().and_then(|r| self.rows.get(&r.id))
    }
}

/// The Teams tab: the teams with their key counts (the keys share `KeyList`).
#[derive(Debug, Default)]
pub struct TeamsTab {
    pub teams: Vec<Team>,
}

/// A change to keys that the store carried out, as its result names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Deactivated,
    Deleted,
    TeamsChanged,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Deactivated => "Deactivated",
            Change::Deleted => "Deleted",
            Change::TeamsChanged => "Changed the teams of",
        }
    }

    /// Deactivated and deleted keys leave the selection, and their
    /// notifications go out to admins and managers.
    fn ends_keys(self) -> bool {
        matches!(self, Change::Deactivated | Change::Deleted)
    }
}

/// Reads the list again under the filter applied.
pub fn reload(list: &mut KeyList, cx: &mut Cx) {
    let Ok(query) = KeyQuery::parse(&list.filter.applied) else {
        return;
    };
    list.generation += 1;
    list.loading = true;
    cx.effect(Effect::LoadKeyRefs {
        generation: list.generation,
        query,
    });
}

/// Shows the keys `query` selects, from the top.
pub fn apply_filter(list: &mut KeyList, query: String, cx: &mut Cx) {
    let line = &mut list.filter;
    line.input = Input::new(query.clone());
    line.error = None;
    line.applied = query;
    list.cursor = 0;
    list.offset = 0;
    list.detail = None;
    reload(list, cx);
}

fn visible_rows(list: &KeyList, tab: Tab, cx: &Cx) -> usize {
    layout::visible_rows(tab, cx.width, cx.height, list.detail.is_some())
}

/// Keeps the cursor in view and asks for the rows around the viewport that are
/// not loaded yet; forgets rows far from it.
pub fn ensure_rows(list: &mut KeyList, cx: &mut Cx) {
    let h = visible_rows(list, Tab::Keys, cx);
    if list.cursor < list.offset {
        list.offset = list.cursor;
    } else if list.cursor >= list.offset + h {
        list.offset = list.cursor + 1 - h;
    }
    let len = list.refs.len();
    list.offset = list.offset.min(len.saturating_sub(1));
    let from = list.offset.saturating_sub(h);
    let to = (list.offset + 2 * h).min(len);
    let missing: Vec<i64> = list.refs[from.min(to)..to]
        .iter()
        .map(|r| r.id)
        .filter(|id| !list.rows.contains_key(id) && !list.requested.contains(id))
        .collect();
    if list.rows.len() > 8 * h {
        let keep: BTreeSet<i64> = list.refs
            [list.offset.saturating_sub(3 * h)..(list.offset + 4 * h).min(len)]
            .iter()
            .map(|r| r.id)
            .collect();
        list.rows.retain(|id, _| keep.contains(id));
        list.requested.retain(|id| keep.contains(id));
    }
    if !missing.is_empty() {
        list.requested.extend(&missing);
        cx.effect(Effect::LoadKeyRows {
            generation: list.generation,
            ids: missing,
        });
    }
}

/// The handles the filter selects; an outdated answer is dropped.
pub fn on_refs(
    list: &mut KeyList,
    generation: u64,
    result: Result<Vec<KeyRef>, Error>,
    cx: &mut Cx,
) {
    if generation != list.generation {
        return;
    }
    list.loading = false;
    match result {
        Ok(refs) => {
            let keep = list.current().map(|r| r.id);
            list.refs = refs;
            list.rows.clear();
            list.requested.clear();
            list.cursor = keep
                .and_then(|id| list.refs.iter().position(|r| r.id == id))
                .unwrap_or(list.cursor)
                .min(list.refs.len().saturating_sub(1));
            ensure_rows(list, cx);
        }
        Err(e) => cx.fail(&e),
    }
}

/// Rows loaded near the viewport; an outdated answer is dropped.
pub fn on_rows(list: &mut KeyList, generation: u64, result: Result<Vec<Key>, Error>, cx: &mut Cx) {
    if generation != list.generation {
        return;
    }
    match result {
        Ok(rows) => {
            for key in rows {
                list.rows.insert(key.id, key);
            }
        }
        Err(e) => cx.fail(&e),
    }
}

/// The details of the key under the cursor, if it is still there.
pub fn on_opened(list: &mut KeyList, key: Key) {
    if list.current().is_some_and(|r| r.id == key.id) {
        list.rows.insert(key.id, key.clone());
        list.detail = Some(key);
    }
}

/// A change to keys ended: say what it did, and show the store as it is now.
pub fn on_changed(change: Change, result: Result<Vec<Key>, Error>, cx: &mut Cx) {
    match result {
        Ok(keys) => {
            let verb = change.verb();
            cx.say(match keys.as_slice() {
                [one] => format!("{verb} {}.", one.name),
                many => format!("{verb} {}.", count_keys(many.len())),
            });
            if change.ends_keys() {
                cx.ask(Ask::ClearSelection);
                cx.ask(Ask::Deliver);
            }
            cx.ask(Ask::Refresh);
        }
        Err(e) => cx.fail(&e),
    }
}

pub fn move_cursor(list: &mut KeyList, by: isize, cx: &mut Cx) {
    let before = list.cursor;
    list.cursor = step(before, by, list.refs.len());
    if list.cursor != before {
        list.detail = None;
    }
    ensure_rows(list, cx);
}

/// The keys an action applies to: the selection, or else the key under the cursor.
fn targets(list: &KeyList) -> Vec<KeyBrief> {
    if list.selected.is_empty() {
        return list
            .current()
            .map(|r| match list.rows.get(&r.id) {
                Some(k) => KeyBrief::of(k),
                None => KeyBrief {
                    public_id: r.public_id.clone(),
                    name: r.name.clone(),
                    active: true,
                },
            })
            .into_iter()
            .collect();
    }
    list.selected
        .iter()
        .map(|(id, r)| KeyBrief {
            public_id: r.public_id.clone(),
            name: r.name.clone(),
            active: list
                .rows
                .get(id)
                .is_none_or(|k| k.status == KeyStatus::Active),
        })
        .collect()
}

/// The actions of the Keys tab (`tab` Keys) or the Teams tab (`tab` Teams),
/// which share the list.
pub fn act(list: &mut KeyList, teams: &TeamsTab, tab: Tab, action: Action, cx: &mut Cx) {
    let page = visible_rows(list, tab, cx) as isize;
    match action {
        Action::Up => move_cursor(list, -1, cx),
        Action::Down => move_cursor(list, 1, cx),
        Action::PageUp => move_cursor(list, -page, cx),
        Action::PageDown => move_cursor(list, page, cx),
        Action::Top => move_cursor(list, isize::MIN, cx),
        Action::Bottom => move_cursor(list, isize::MAX, cx),
        Action::FocusFilter => list.filter.editing = true,
        Action::Close => {
            if tab == Tab::Keys && list.detail.is_some() {
                list.detail = None;
            } else if !list.filter.input.value().is_empty() {
                list.filter.input.reset();
                query_changed(list, cx);
            }
        }
        Action::Open if tab == Tab::Keys => {
            if let Some(r) = list.current() {
                cx.effect(Effect::OpenKey(r.public_id.clone()));
            }
        }
        Action::KeyHistory if tab == Tab::Keys => {
            if let Some(r) = list.current() {
                cx.ask(Ask::ShowKeyHistory {
                    public_id: r.public_id.clone(),
                    name: r.name.clone(),
                });
            }
        }
        Action::Select => {
            if let Some(r) = list.current().cloned() {
                if list.selected.remove(&r.id).is_none() {
                    list.selected.insert(r.id, r);
                }
                move_cursor(list, 1, cx);
            }
        }
        Action::SelectAll => {
            for r in &list.refs {
                list.selected.insert(r.id, r.clone());
            }
            cx.say(format!("{} keys selected.", list.selected.len()));
        }
        Action::SelectNone => list.selected.clear(),
        _ => change_action(list, teams, action, cx),
    }
}

/// The actions that open a window to change keys, each for the manager role.
fn change_action(list: &KeyList, teams: &TeamsTab, action: Action, cx: &mut Cx) {
    let open = |cx: &mut Cx, modal: Modal| cx.ask(Ask::Open(modal));
    match action {
        Action::New if cx.may(Role::Manager, "creating keys") => {
            let form = new_form(None, &cx.settings.default_expiry);
            open(cx, Modal::Form(Box::new(form)));
            cx.effect(Effect::LoadFormChoices);
        }
        Action::Edit if cx.may(Role::Manager, "editing keys") => match list.current_key() {
            Some(key) if key.status == KeyStatus::Deleted => {
                cx.warn("A deleted key cannot change.".into())
            }
            Some(key) => {
                let form = new_form(Some(key.clone()), &cx.settings.default_expiry);
                open(cx, Modal::Form(Box::new(form)));
                cx.effect(Effect::LoadFormChoices);
            }
            None => {}
        },
        Action::Renew if cx.may(Role::Manager, "renewing keys") => {
            let Some(key) = list.current_key() else {
                return;
            };
            if key.status.is_final() {
                cx.warn(format!(
                    "A {} key cannot be renewed; create a new one.",
                    key.status
                ));
                return;
            }
            let renew = RenewForm::new(key, cx.settings.default_expiry.clone());
            open(cx, Modal::Renew(Box::new(renew)));
        }
        Action::Deactivate if cx.may(Role::Manager, "deactivating keys") => {
            // Keys already deactivated, deleted or expired have nothing to stop.
            let (keys, skipped): (Vec<KeyBrief>, Vec<KeyBrief>) =
                targets(list).into_iter().partition(|k| k.active);
            if keys.is_empty() && !skipped.is_empty() {
                cx.warn("None of these keys is active.".into());
            } else if !keys.is_empty() {
                open(cx, Modal::Confirm(Box::new(Confirm::deactivate(keys))));
            }
        }
        Action::Delete if cx.may(Role::Manager, "deleting keys") => {
            let keys = targets(list);
            if !keys.is_empty() {
                open(cx, Modal::Confirm(Box::new(Confirm::delete(keys))));
            }
        }
        Action::ManageTeams if cx.may(Role::Manager, "changing teams") => {
            let ids: Vec<String> = targets(list).into_iter().map(|k| k.public_id).collect();
            if ids.is_empty() {
                return;
            }
            open(
                cx,
                Modal::TeamPicker(Box::new(TeamPicker::new(ids, &teams.teams))),
            );
            cx.effect(Effect::LoadTeams);
        }
        _ => {}
    }
}

/// The query line's keys while it is being typed in.
pub fn line_act(list: &mut KeyList, action: Action, cx: &mut Cx) {
    match action {
        Action::Apply => list.filter.editing = false,
        Action::Cancel => {
            list.filter.editing = false;
            if !list.filter.input.value().is_empty() {
                list.filter.input.reset();
                query_changed(list, cx);
            }
        }
        Action::Up => move_cursor(list, -1, cx),
        Action::Down => move_cursor(list, 1, cx),
        _ => {}
    }
}

/// The text of the query line changed: check it, and show its results if it parses.
pub fn query_changed(list: &mut KeyList, cx: &mut Cx) {
    let text = list.filter.input.value().to_owned();
    list.filter.error = KeyQuery::parse(&text).err().map(|e| e.to_string());
    if list.filter.applied == text {
        return;
    }
    list.filter.applied = text;
    list.cursor = 0;
    list.offset = 0;
    if list.filter.error.is_some() {
        // An invalid filter shows no keys, rather than the last valid filter's
        // as if they were its; what was asked for is dropped on arrival.
        list.generation += 1;
        list.loading = false;
        list.refs.clear();
        list.rows.clear();
        list.requested.clear();
        list.detail = None;
        return;
    }
    reload(list, cx);
}

/// A click on the `row`-th row shown.
pub fn click_row(list: &mut KeyList, row: usize, cx: &mut Cx) {
    let at = list.offset + row;
    if at < list.refs.len() {
        let by = at as isize - list.cursor as isize;
        move_cursor(list, by, cx);
    }
}

/// Whether the list is loaded and every row on screen drawn from a loaded record.
pub fn is_full(list: &KeyList, visible: usize) -> bool {
    !list.loading
        && list.refs[list.offset.min(list.refs.len())..]
            .iter()
            .take(visible)
            .all(|r| list.rows.contains_key(&r.id))
}
