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
use crate::tui::kit::query_line::{self, QueryLine};
use crate::tui::kit::widgets::safe;
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx};
use crate::tui::state::{Effect, Tab};
use crate::tui::windows::confirm::{Confirm, count_keys};
use crate::tui::windows::renew::RenewForm;
use crate::tui::windows::team_picker::TeamPicker;
use keyward_core::domain::model::{Key, KeyRef, KeyStatus, Role, Team};
use keyward_core::domain::query::{KeyQuery, integration_filter};
use keyward_core::error::Error;
use keyward_core::service::{BulkAction, BulkOutcome, BulkPlan};
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
    /// The filter the keys on screen were listed for, and the one a load
    /// under way lists: they differ while a new filter's keys are coming.
    pub shown_query: String,
    pub loading_query: String,
    /// Only the list's first keys are here; the rest are coming.
    pub partial: bool,
}

impl KeyList {
    /// Whether the keys on screen belong to another filter than the one on
    /// the line (its keys are still coming): `a` and the changes wait, or
    /// they would act on the last filter's keys.
    pub fn stale(&self) -> bool {
        self.partial || self.shown_query != self.filter.applied
    }

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
    TeamsChanged,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::TeamsChanged => "Changed the teams of",
        }
    }
}

/// Reads the list again under the filter applied.
pub fn reload(list: &mut KeyList, cx: &mut Cx) {
    let Ok(query) = KeyQuery::parse(&list.filter.applied) else {
        return;
    };
    list.generation += 1;
    list.loading = true;
    list.loading_query = list.filter.applied.clone();
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
    list.partial = false;
    match result {
        Ok(refs) => {
            let keep = list.current().map(|r| r.id);
            list.refs = refs;
            list.shown_query = list.loading_query.clone();
            unselect_hidden(list, cx);
            list.rows.clear();
            list.requested.clear();
            list.cursor = keep
                .and_then(|id| list.refs.iter().position(|r| r.id == id))
                .unwrap_or(list.cursor)
                .min(list.refs.len().saturating_sub(1));
            // Details of a key that left the list (deleted elsewhere) close.
            if list.detail.as_ref().map(|d| d.id) != list.current().map(|r| r.id) {
                list.detail = None;
            }
            ensure_rows(list, cx);
        }
        Err(e) => cx.fail(&e),
    }
}

/// The first keys of the session's first list, while the rest come: shown
/// at once where nothing is shown yet. The whole list replaces them (the
/// cursor stays on its key); until then the list counts as stale, so `a` and
/// the changes wait for it.
pub fn on_first_refs(list: &mut KeyList, generation: u64, refs: Vec<KeyRef>, cx: &mut Cx) {
    if generation != list.generation || !list.refs.is_empty() || !list.selected.is_empty() {
        return;
    }
    list.refs = refs;
    list.partial = true;
    list.shown_query = list.loading_query.clone();
    list.rows.clear();
    list.requested.clear();
    list.cursor = 0;
    ensure_rows(list, cx);
}

/// Keys that left the filter (a change, another filter) leave the selection,
/// so an action never targets a key the screen does not show. Says so.
fn unselect_hidden(list: &mut KeyList, cx: &mut Cx) {
    if list.selected.is_empty() {
        return;
    }
    let shown: HashSet<i64> = list.refs.iter().map(|r| r.id).collect();
    let before = list.selected.len();
    list.selected.retain(|id, _| shown.contains(id));
    let hidden = before - list.selected.len();
    if hidden > 0 {
        cx.say(format!(
            "Unselected {} no longer in the filter; {} selected.",
            count_keys(hidden),
            list.selected.len()
        ));
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
                // The open details follow the store (a reload after a change
                // made elsewhere) without opening the key again.
                if let Some(detail) = list.detail.as_mut().filter(|d| d.id == key.id) {
                    *detail = key.clone();
                }
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

/// A change of teams ended: say what it did, and show the store as it is now.
pub fn on_changed(change: Change, result: Result<Vec<Key>, Error>, cx: &mut Cx) {
    match result {
        Ok(keys) => {
            let verb = change.verb();
            cx.say(match keys.as_slice() {
                [one] => format!("{verb} {}.", one.name),
                many => format!("{verb} {}.", count_keys(many.len())),
            });
            cx.ask(Ask::Refresh);
        }
        Err(e) => cx.fail(&e),
    }
}

/// The service planned a bulk action: the confirmation lists exactly its
/// keys and those it skips; with nothing to apply to, it says why instead.
pub fn on_planned(result: Result<BulkPlan, Error>, cx: &mut Cx) {
    match result {
        Ok(plan) if plan.apply.is_empty() => cx.warn(nothing_to_do(&plan)),
        Ok(plan) => cx.ask(Ask::Open(Modal::Confirm(Box::new(Confirm::bulk(plan))))),
        Err(e) => cx.fail(&e),
    }
}

/// Why a plan that applies to no key does nothing.
pub fn nothing_to_do(plan: &BulkPlan) -> String {
    let why = match plan.skip.as_slice() {
        [(_, reason)] => reason.describe().to_owned(),
        _ => "each is already final, expired or gone".to_owned(),
    };
    format!(
        "Nothing to do: none of these keys can be {} ({why}).",
        plan.action.participle()
    )
}

/// A bulk action ended: what it did, which keys it skipped because they
/// changed meanwhile, and the store as it is now. One key deactivated gets
/// the offer of its replacement.
pub fn on_applied(action: BulkAction, result: Result<BulkOutcome, Error>, cx: &mut Cx) {
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            cx.fail(&e);
            return;
        }
    };
    let verb = match action {
        BulkAction::Deactivate => "Deactivated",
        BulkAction::Delete => "Deleted",
    };
    let mut text = match outcome.done.as_slice() {
        [one] => format!("{verb} {}.", one.name),
        many => format!("{verb} {}.", count_keys(many.len())),
    };
    if let Some((first, reason)) = outcome.skipped.first() {
        text.push_str(&format!(
            " Skipped {} that changed meanwhile ({} {}",
            count_keys(outcome.skipped.len()),
            first.masked(),
            reason.describe()
        ));
        if outcome.skipped.len() > 1 {
            text.push_str(", …");
        }
        text.push_str(").");
    }
    if outcome.skipped.is_empty() {
        cx.say(text);
    } else {
        cx.warn(text);
    }
    cx.ask(Ask::ClearSelection);
    if !outcome.done.is_empty() {
        cx.ask(Ask::Deliver);
    }
    cx.ask(Ask::Refresh);
    if let (BulkAction::Deactivate, [one]) = (action, outcome.done.as_slice()) {
        let offer = Confirm::replacement(one.clone(), &cx.settings.default_expiry);
        cx.ask(Ask::Open(Modal::Confirm(Box::new(offer))));
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

/// The keys an action applies to: the selection, or else the key under the
/// cursor. The selection holds only keys the filter shows (see `unselect_hidden`).
fn targets(list: &KeyList) -> Vec<&KeyRef> {
    if list.selected.is_empty() {
        return list.current().into_iter().collect();
    }
    list.selected.values().collect()
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
        // A leaked key's siblings: every key of its integration, to select
        // (`a`) and revoke (`x`) together.
        Action::Integration if tab == Tab::Keys => match list.current_key().cloned() {
            Some(k) => {
                let query = integration_filter(&k.instance, &k.developer, &k.channel);
                apply_filter(list, query, cx);
                cx.say(format!(
                    "The keys of {} / {} / {}: a selects them all, x deactivates the selection.",
                    safe(&k.instance),
                    safe(&k.developer),
                    safe(&k.channel)
                ));
            }
            None => cx.warn("No key here (or it is still loading).".to_owned()),
        },
        Action::Select => {
            if let Some(r) = list.current().cloned() {
                if list.selected.remove(&r.id).is_none() {
                    list.selected.insert(r.id, r);
                }
                move_cursor(list, 1, cx);
            }
        }
        Action::SelectAll if list.stale() => cx.warn(STILL_LOADING.to_owned()),
        Action::SelectAll => {
            // Every handle the service gave for the filter, loaded rows or not;
            // a list still loading trims the selection to its keys when it comes.
            if list.refs.is_empty() {
                cx.warn("No keys here to select: the filter shows none.".to_owned());
                return;
            }
            for r in &list.refs {
                list.selected.insert(r.id, r.clone());
            }
            cx.say(format!("{} selected.", count_keys(list.selected.len())));
        }
        Action::SelectNone => list.selected.clear(),
        _ => change_action(list, teams, action, cx),
    }
}

const STILL_LOADING: &str = "The keys of this filter are still loading: nothing was selected or changed; try again once they show.";

/// The actions that open a window to change keys, each for the manager role.
fn change_action(list: &KeyList, teams: &TeamsTab, action: Action, cx: &mut Cx) {
    let open = |cx: &mut Cx, modal: Modal| cx.ask(Ask::Open(modal));
    // An action on "the key here" with no key here says so, rather than
    // nothing at all.
    let on_a_key = matches!(
        action,
        Action::Edit | Action::Renew | Action::Deactivate | Action::Delete | Action::ManageTeams
    );
    // Typed ahead of a filter's keys, a change would act on the last
    // filter's: it waits for them.
    if on_a_key && list.stale() {
        cx.warn(STILL_LOADING.to_owned());
        return;
    }
    if on_a_key && list.refs.is_empty() && list.selected.is_empty() {
        cx.warn("No key here: the filter shows none (Esc clears it).".to_owned());
        return;
    }
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
        // The service, not the rows on screen, says which keys an action
        // applies to: the confirmation opens with its plan.
        Action::Deactivate if cx.may(Role::Manager, "deactivating keys") => {
            plan(list, BulkAction::Deactivate, cx)
        }
        Action::Delete if cx.may(Role::Manager, "deleting keys") => {
            plan(list, BulkAction::Delete, cx)
        }
        Action::ManageTeams if cx.may(Role::Manager, "changing teams") => {
            let keys = targets(list);
            let ids: Vec<String> = keys.iter().map(|k| k.public_id.clone()).collect();
            if ids.is_empty() {
                return;
            }
            let mut picker = TeamPicker::new(ids.clone(), &teams.teams);
            if list.selected.is_empty() {
                picker.one = keys.first().map(|k| k.name.clone());
            }
            cx.effect(Effect::LoadTeamMembership(ids));
            open(cx, Modal::TeamPicker(Box::new(picker)));
            cx.effect(Effect::LoadTeams);
        }
        _ => {}
    }
}

/// Asks the service which of the target keys `action` applies to.
fn plan(list: &KeyList, action: BulkAction, cx: &mut Cx) {
    let ids: Vec<i64> = targets(list).into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return;
    }
    if ids.len() > 1 {
        cx.say(format!("Checking {}…", count_keys(ids.len())));
    }
    cx.effect(Effect::PlanBulk { action, ids });
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
    let text = query_line::forget_pasted_key(&mut list.filter, cx, |t| {
        KeyQuery::parse(t).ok().map(|q| q.to_string())
    });
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
        // The empty list is this (invalid) filter's own.
        list.shown_query = list.filter.applied.clone();
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
/// The first keys of a long list count: the page shows the rows it will
/// show once the whole list is in, only its count is not known yet.
pub fn is_full(list: &KeyList, visible: usize) -> bool {
    (!list.loading || list.partial)
        && list.refs[list.offset.min(list.refs.len())..]
            .iter()
            .take(visible)
            .all(|r| list.rows.contains_key(&r.id))
}
