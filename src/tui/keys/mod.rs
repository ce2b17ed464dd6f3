//! The Keys and Teams tabs: one list of keys (a window of the filter's keys
//! around the cursor, paged from the listing index as the cursor moves, rows
//! loaded near the viewport only) and one selection, shown as the key table
//! with its detail pane, or with the teams and their counts beside it.

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
use keyward_core::domain::model::{
    Key, KeyCount, KeyPage, KeyPageFrom, KeyRef, KeyStatus, Role, Team,
};
use keyward_core::domain::query::{KeyQuery, integration_filter};
use keyward_core::error::Error;
use keyward_core::service::{BulkAction, BulkOutcome, BulkPlan};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tui_input::Input;

/// Keys asked for at a time, as the cursor nears the window's edge.
pub const PAGE: usize = 200;

/// The most keys the window holds: it lets go of the far end beyond this.
const WINDOW: usize = 6 * PAGE;

/// Where the cursor lands once a page that replaces the window comes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Landing {
    /// On the key it was on, if the page holds it (a reload).
    #[default]
    Stay,
    /// On the first key (`g`, a new filter).
    First,
    /// On the last key (`G`).
    Last,
}

/// The keys the filter selects, a window of them around the cursor: pages
/// come from the listing index as the cursor nears an edge of the window,
/// and rows load near the viewport only, so what the screen holds and
/// reads depends on the screen, not on the number of keys in the store.
#[derive(Debug, Default)]
pub struct KeyList {
    pub filter: QueryLine,
    pub generation: u64,
    /// A page that replaces the window is on its way.
    pub loading: bool,
    /// The window: consecutive keys of the filter, in listing order.
    pub refs: Vec<KeyRef>,
    /// The window starts at the filter's first key, ends at its last.
    pub at_start: bool,
    pub at_end: bool,
    /// How many of the filter's keys come before the window, where known.
    pub before: Option<u64>,
    /// How many keys the filter lists, once counted.
    pub total: Option<u64>,
    /// The key a page that extends the window is asked after (or before).
    pub extending: Option<i64>,
    pub landing: Landing,
    /// The key a count on its way counts the keys before.
    counted_at: Option<i64>,
    /// `a` waits for every key of the filter.
    pub selecting_all: bool,
    /// The selection when the page replacing the window was asked for: the
    /// page says which of them the filter still lists.
    asked: HashSet<i64>,
    pub rows: HashMap<i64, Key>,
    pub requested: HashSet<i64>,
    /// The cursor and the first row shown, as places in the window.
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
}

impl KeyList {
    /// Whether the keys on screen belong to another filter than the one on
    /// the line (its keys are still coming): `a` and the changes wait, or
    /// they would act on the last filter's keys.
    pub fn stale(&self) -> bool {
        self.shown_query != self.filter.applied
    }

    pub fn current(&self) -> Option<&KeyRef> {
        self.refs.get(self.cursor)
    }

    pub fn current_key(&self) -> Option<&Key> {
        self.current().and_then(|r| self.rows.get(&r.id))
    }

    /// Where the cursor stands among the filter's keys (from 1), where known.
    pub fn position(&self) -> Option<u64> {
        self.before.map(|b| b + self.cursor as u64 + 1)
    }

    /// The whole filter is in the window.
    fn whole(&self) -> bool {
        self.at_start && self.at_end
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

/// Reads the list again under the filter applied: the window where it
/// stands for the same filter (another process may have changed it), from
/// the top for a new one.
pub fn reload(list: &mut KeyList, cx: &mut Cx) {
    let same = !list.stale() && !list.refs.is_empty();
    let from = match list.refs.first() {
        Some(first) if same && !list.at_start => KeyPageFrom::From(first.clone()),
        _ => KeyPageFrom::Top,
    };
    let limit = if same {
        list.refs.len().max(PAGE)
    } else {
        PAGE
    };
    replace_window(list, from, limit, Landing::Stay, cx);
}

/// Asks for a page that replaces the window; pages asked before it are
/// dropped on arrival.
fn replace_window(
    list: &mut KeyList,
    from: KeyPageFrom,
    limit: usize,
    landing: Landing,
    cx: &mut Cx,
) {
    let Ok(query) = KeyQuery::parse(&list.filter.applied) else {
        return;
    };
    list.generation += 1;
    list.loading = true;
    list.extending = None;
    list.selecting_all = false;
    list.landing = landing;
    list.loading_query = list.filter.applied.clone();
    list.asked = list.selected.keys().copied().collect();
    cx.effect(Effect::LoadKeyPage {
        generation: list.generation,
        query,
        from,
        limit,
        asked: list.asked.iter().copied().collect(),
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
/// not loaded yet; forgets rows far from it. Near an edge of the window it
/// asks for the page beyond.
pub fn ensure_rows(list: &mut KeyList, cx: &mut Cx) {
    let h = visible_rows(list, Tab::Keys, cx);
    if list.cursor < list.offset {
        list.offset = list.cursor;
    } else if list.cursor >= list.offset + h {
        list.offset = list.cursor + 1 - h;
    }
    let len = list.refs.len();
    // Keys gone from the end (deleted elsewhere) leave no blank rows under
    // the last one while there are keys above to show.
    list.offset = list.offset.min(len.saturating_sub(h));
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
    extend_window(list, h, cx);
}

/// Asks for the page beyond the window's edge the cursor nears (one page
/// at a time, none while the window is being replaced).
fn extend_window(list: &mut KeyList, h: usize, cx: &mut Cx) {
    if list.loading || list.extending.is_some() || list.stale() {
        return;
    }
    let near = (PAGE / 2).max(2 * h);
    let from = if !list.at_end && list.refs.len().saturating_sub(list.cursor) <= near {
        list.refs.last().map(|k| KeyPageFrom::After(k.clone()))
    } else if !list.at_start && list.cursor < near {
        list.refs.first().map(|k| KeyPageFrom::Before(k.clone()))
    } else {
        None
    };
    let (Some(from), Ok(query)) = (from, KeyQuery::parse(&list.filter.applied)) else {
        return;
    };
    list.extending = match &from {
        KeyPageFrom::After(k) | KeyPageFrom::Before(k) => Some(k.id),
        _ => None,
    };
    cx.effect(Effect::LoadKeyPage {
        generation: list.generation,
        query,
        from,
        limit: PAGE,
        asked: Vec::new(),
    });
}

/// A page of the list; an outdated answer is dropped.
pub fn on_page(
    list: &mut KeyList,
    generation: u64,
    from: KeyPageFrom,
    limit: usize,
    result: Result<KeyPage, Error>,
    cx: &mut Cx,
) {
    if generation != list.generation {
        return;
    }
    let page = match result {
        Ok(page) => page,
        Err(e) => {
            list.loading = false;
            list.extending = None;
            cx.fail(&e);
            return;
        }
    };
    let full = page.refs.len() >= limit;
    match from {
        KeyPageFrom::After(anchor) => {
            if list.extending != Some(anchor.id) || list.refs.last() != Some(&anchor) {
                return;
            }
            list.extending = None;
            list.at_end = !full;
            list.refs.extend(page.refs);
            // Let go of the far start, never of what is on screen.
            let drop = list
                .refs
                .len()
                .saturating_sub(WINDOW)
                .min(list.offset.saturating_sub(PAGE));
            if drop > 0 {
                list.refs.drain(..drop);
                list.cursor -= drop;
                list.offset -= drop;
                list.at_start = false;
                list.before = list.before.map(|b| b + drop as u64);
            }
        }
        KeyPageFrom::Before(anchor) => {
            if list.extending != Some(anchor.id) || list.refs.first() != Some(&anchor) {
                return;
            }
            list.extending = None;
            let n = page.refs.len();
            list.at_start = !full;
            list.before = if list.at_start {
                Some(0)
            } else {
                list.before.map(|b| b.saturating_sub(n as u64))
            };
            list.refs.splice(0..0, page.refs);
            list.cursor += n;
            list.offset += n;
            let h = visible_rows(list, Tab::Keys, cx);
            let keep = WINDOW.max(list.offset + 2 * h + PAGE);
            if list.refs.len() > keep {
                list.refs.truncate(keep);
                list.at_end = false;
            }
        }
        from @ (KeyPageFrom::Top | KeyPageFrom::Bottom | KeyPageFrom::From(_)) => {
            list.loading = false;
            // Every key after where the window stood is gone: show the end.
            if page.refs.is_empty() && matches!(from, KeyPageFrom::From(_)) {
                replace_window(list, KeyPageFrom::Bottom, PAGE, Landing::Last, cx);
                return;
            }
            let keep = list.current().map(|r| r.id);
            list.refs = page.refs;
            if list.shown_query != list.loading_query {
                // Another filter's count is not this one's.
                list.total = None;
            }
            list.shown_query = list.loading_query.clone();
            unselect_hidden(list, &page.kept, cx);
            list.rows.clear();
            list.requested.clear();
            let last = list.refs.len().saturating_sub(1);
            let (at_start, at_end) = match from {
                KeyPageFrom::Top => (true, !full),
                KeyPageFrom::Bottom => (!full, true),
                _ => (false, !full),
            };
            list.at_start = at_start;
            list.at_end = at_end;
            list.before = match from {
                KeyPageFrom::Top => Some(0),
                KeyPageFrom::Bottom if at_start => Some(0),
                KeyPageFrom::Bottom => list.total.map(|t| t.saturating_sub(list.refs.len() as u64)),
                _ => list.before,
            };
            list.cursor = match list.landing {
                Landing::First => 0,
                Landing::Last => last,
                Landing::Stay => keep
                    .and_then(|id| list.refs.iter().position(|r| r.id == id))
                    .unwrap_or(list.cursor)
                    .min(last),
            };
            if list.landing == Landing::Last {
                let h = visible_rows(list, Tab::Keys, cx);
                list.offset = list.refs.len().saturating_sub(h);
            }
            list.landing = Landing::Stay;
            // Details of a key that left the list (deleted elsewhere) close.
            if list.detail.as_ref().map(|d| d.id) != list.current().map(|r| r.id) {
                list.detail = None;
            }
            if list.whole() {
                list.total = Some(list.refs.len() as u64);
            } else if let Ok(query) = KeyQuery::parse(&list.shown_query) {
                // Counted after the rows on screen are read: the page shows
                // before its count.
                ensure_rows(list, cx);
                let at = list.refs.first().cloned().filter(|_| !list.at_start);
                list.counted_at = at.as_ref().map(|k| k.id);
                cx.effect(Effect::CountKeys {
                    generation,
                    query,
                    at,
                });
                return;
            }
        }
    }
    ensure_rows(list, cx);
}

/// How many keys the filter lists, and where the window stands among them.
pub fn on_count(list: &mut KeyList, generation: u64, result: Result<KeyCount, Error>, cx: &mut Cx) {
    if generation != list.generation {
        return;
    }
    match result {
        Ok(count) => {
            list.total = Some(count.total);
            // Counted before the window's first key when it was asked; a page
            // that came meanwhile moved the window's start, so the key's
            // place in the window now says where the window starts.
            let counted = std::mem::take(&mut list.counted_at)
                .and_then(|id| list.refs.iter().position(|r| r.id == id));
            if let (Some(before), Some(at)) = (count.before, counted) {
                list.before = Some(before.saturating_sub(at as u64));
            }
            if list.at_start {
                list.before = Some(0);
            } else if list.at_end {
                list.before = Some(count.total.saturating_sub(list.refs.len() as u64));
            }
        }
        Err(e) => cx.fail(&e),
    }
}

/// Every key of the filter, for `a`.
pub fn on_all_refs(
    list: &mut KeyList,
    generation: u64,
    result: Result<Vec<KeyRef>, Error>,
    cx: &mut Cx,
) {
    if generation != list.generation || !std::mem::take(&mut list.selecting_all) {
        return;
    }
    match result {
        Ok(refs) => select_all(list, refs, cx),
        Err(e) => cx.fail(&e),
    }
}

fn select_all(list: &mut KeyList, refs: Vec<KeyRef>, cx: &mut Cx) {
    if refs.is_empty() {
        cx.warn("No keys here to select: the filter shows none.".to_owned());
        return;
    }
    for r in refs {
        list.selected.insert(r.id, r);
    }
    cx.say(format!("{} selected.", count_keys(list.selected.len())));
}

/// Keys that left the filter (a change, another filter) leave the selection,
/// so an action never targets a key the screen does not show. Says so.
/// `kept` are those of the selection the store says the filter lists.
fn unselect_hidden(list: &mut KeyList, kept: &[i64], cx: &mut Cx) {
    if list.selected.is_empty() {
        return;
    }
    let mut kept: HashSet<i64> = kept.iter().copied().collect();
    // A key selected since the page was asked for stays where the page
    // shows it; the store was not asked about it.
    let asked = std::mem::take(&mut list.asked);
    kept.extend(
        list.refs
            .iter()
            .map(|r| r.id)
            .filter(|id| !asked.contains(id)),
    );
    let before = list.selected.len();
    list.selected.retain(|id, _| kept.contains(id));
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
    // The far ends lie beyond the window: a page from there replaces it.
    if by == isize::MIN && !list.at_start {
        list.detail = None;
        replace_window(list, KeyPageFrom::Top, PAGE, Landing::First, cx);
        return;
    }
    if by == isize::MAX && !list.at_end {
        list.detail = None;
        replace_window(list, KeyPageFrom::Bottom, PAGE, Landing::Last, cx);
        return;
    }
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
            // Every key the filter lists, loaded rows or not: those in the
            // window when it holds them all, else asked of the store.
            if list.whole() {
                let refs = list.refs.clone();
                select_all(list, refs, cx);
                return;
            }
            let Ok(query) = KeyQuery::parse(&list.filter.applied) else {
                return;
            };
            list.selecting_all = true;
            cx.say("Selecting every key of the filter…".to_owned());
            cx.effect(Effect::LoadAllKeyRefs {
                generation: list.generation,
                query,
            });
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
        list.at_start = true;
        list.at_end = true;
        list.before = Some(0);
        list.total = Some(0);
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

/// Whether the list is loaded and every row on screen drawn from a loaded
/// record (its count may still be coming).
pub fn is_full(list: &KeyList, visible: usize) -> bool {
    !list.loading
        && list.refs[list.offset.min(list.refs.len())..]
            .iter()
            .take(visible)
            .all(|r| list.rows.contains_key(&r.id))
}
