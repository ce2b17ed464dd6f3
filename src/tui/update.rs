//! `update(&mut State, Msg) -> Vec<Effect>`: the only place the state changes.
//! A key goes through the router to the current layer's keymap; the action it
//! names changes the state and may ask for effects (service calls, clipboard,
//! timers), whose results come back as messages.

use super::keymap::{Action, Layer};
use super::layout;
use super::state::*;
use chrono::{DateTime, Datelike, Utc};
use keyward_core::domain::Name;
use keyward_core::domain::expiry::{Expiry, parse_duration};
use keyward_core::domain::history::HistoryPage;
use keyward_core::domain::model::{KeyStatus, Role};
use keyward_core::domain::query::{HistoryQuery, KeyQuery};
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportFormat};
use keyward_core::service::{EditKey, NewKeyRequest, TeamChanges};
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use std::collections::BTreeSet;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use zeroize::Zeroizing;

/// History rows read per page.
pub const HISTORY_PAGE: u64 = 200;
/// History rows held at most; older or newer ones are dropped and read again on demand.
const HISTORY_WINDOW: usize = 1_000;
/// Rows from the end of the window at which the next page is read.
const HISTORY_MARGIN: usize = 20;
/// Rows a mouse wheel notch moves.
const WHEEL_ROWS: usize = 3;
/// Keys named one by one in a confirmation before "and N more".
const NAMED_IN_CONFIRM: usize = 5;

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
                let t = DateTime::from_timestamp(now, 0).unwrap_or_default();
                format!("deactivated:>={:04}-{:02}-01", t.year(), t.month())
            }
        }
    }
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(ev) if ev.kind != KeyEventKind::Release => on_key(state, ev, &mut fx),
        Msg::Key(_) => {}
        Msg::Mouse(ev) => on_mouse(state, ev, &mut fx),
        Msg::Resize(w, h) => {
            state.width = w;
            state.height = h;
            ensure_rows(state, &mut fx);
        }
        Msg::Timer(Timer::ExpireStatus(id)) => {
            if state.status.as_ref().is_some_and(|s| s.id == id) {
                state.status = None;
            }
        }
        Msg::Timer(Timer::ClearClipboard(copy)) => {
            if state.on_clipboard.is_some() && copy == state.copies {
                fx.push(Effect::ClearClipboard);
            }
        }
        Msg::Started(Ok(me)) => {
            state.me = Some(me);
            enter_main(state, &mut fx);
            for ev in std::mem::take(&mut state.typed_ahead) {
                on_key(state, ev, &mut fx);
            }
        }
        Msg::Started(Err(e)) => {
            state.typed_ahead.clear();
            state.screen = Screen::Refused(refusal(&e));
        }
        Msg::StoreCreated(Ok(me)) => {
            state.me = Some(me);
            state.screen = Screen::OfferDemo;
        }
        Msg::StoreCreated(Err(e)) => {
            if let Screen::Setup(s) = &mut state.screen {
                s.busy = false;
                s.error = Some(e.to_string());
            }
        }
        Msg::DemoLoaded(result) => {
            match result {
                Ok(r) => say(
                    state,
                    &mut fx,
                    format!(
                        "Added {} sample keys across {} instances and {} teams.",
                        r.keys, r.instances, r.teams
                    ),
                ),
                Err(e) => fail(state, &mut fx, &e),
            }
            enter_main(state, &mut fx);
        }
        Msg::KeyRefs { generation, result } => {
            if generation != state.keys.generation {
                return fx;
            }
            state.keys.loading = false;
            match result {
                Ok(refs) => {
                    let keep = state.keys.current().map(|r| r.id);
                    state.keys.refs = refs;
                    state.keys.rows.clear();
                    state.keys.requested.clear();
                    state.keys.cursor = keep
                        .and_then(|id| state.keys.refs.iter().position(|r| r.id == id))
                        .unwrap_or(state.keys.cursor)
                        .min(state.keys.refs.len().saturating_sub(1));
                    ensure_rows(state, &mut fx);
                }
                Err(e) => fail(state, &mut fx, &e),
            }
        }
        Msg::KeyRows {
            generation,
            now,
            result,
        } => {
            if generation != state.keys.generation {
                return fx;
            }
            state.now = now;
            match result {
                Ok(rows) => {
                    for key in rows {
                        state.keys.rows.insert(key.id, key);
                    }
                }
                Err(e) => fail(state, &mut fx, &e),
            }
        }
        Msg::KeyOpened(Ok(key)) => {
            if state.keys.current().is_some_and(|r| r.id == key.id) {
                state.keys.rows.insert(key.id, key.clone());
                state.keys.detail = Some(key);
            }
        }
        Msg::KeyOpened(Err(e)) => fail(state, &mut fx, &e),
        Msg::FormChoices(result) => match (result, &mut state.modal) {
            (Ok(choices), Some(Modal::Form(form))) => form.choices = Some(choices),
            (Err(e), _) => fail(state, &mut fx, &e),
            _ => {}
        },
        Msg::KeyCreated(result) | Msg::KeyRenewed(result) => on_issued(state, result, &mut fx),
        Msg::KeyEdited(Ok(key)) => {
            state.modal = None;
            say(state, &mut fx, format!("Saved {}.", key.name));
            refresh_after_change(state, &mut fx);
        }
        Msg::KeyEdited(Err(e)) => refuse_save(state, &e, &mut fx),
        Msg::KeysDeactivated(result) => on_changed(state, result, "Deactivated", &mut fx),
        Msg::KeysDeleted(result) => on_changed(state, result, "Deleted", &mut fx),
        Msg::TeamsChanged(result) => on_changed(state, result, "Changed the teams of", &mut fx),
        Msg::Teams(Ok(teams)) => {
            // The picker asked for them too: offer teams made since it opened.
            if let Some(Modal::TeamPicker(p)) = &mut state.modal {
                for t in &teams {
                    if !p.teams.contains(&t.name) {
                        p.teams.push(t.name.clone());
                    }
                }
            }
            state.teams.teams = teams;
        }
        Msg::Teams(Err(e)) => fail(state, &mut fx, &e),
        Msg::SavedFilters(Ok(saved)) => {
            state.filters.saved = saved;
            state.filters.cursor = state.filters.cursor.min(filter_count(state) - 1);
        }
        Msg::SavedFilters(Err(e)) => fail(state, &mut fx, &e),
        Msg::HistoryRows {
            generation,
            page,
            result,
        } => {
            if generation == state.history.generation {
                state.history.loading = false;
                match result {
                    Ok(rows) => on_history_page(state, page, rows),
                    Err(e) => fail(state, &mut fx, &e),
                }
            }
        }
        Msg::HistoryColumns(Ok(Some(names))) => {
            let columns: Vec<Column> = names.split(',').filter_map(Column::parse).collect();
            if !columns.is_empty() {
                state.history.columns = columns;
            }
        }
        Msg::HistoryColumns(Ok(None)) => {}
        Msg::HistoryColumns(Err(e)) | Msg::PreferenceSaved(Err(e)) => fail(state, &mut fx, &e),
        Msg::PreferenceSaved(Ok(())) | Msg::CopyRecorded(Ok(())) => {}
        Msg::CopyRecorded(Err(e)) => fail(state, &mut fx, &e),
        Msg::Outbox(Ok(counts)) => state.outbox = counts,
        // The count is a courtesy; a failure to read it is not worth a message.
        Msg::Outbox(Err(_)) => {}
        Msg::DeliveryDone => {
            fx.push(Effect::LoadOutbox);
            // Deliveries are history rows: show them, unless the admin is
            // reading further down.
            let h = &state.history;
            if state.tab == Tab::History && h.loaded && h.cursor == 0 && h.offset == 0 {
                reload_history(state, &mut fx);
            }
        }
        Msg::Exported(Ok((path, rows))) => say(
            state,
            &mut fx,
            format!("Exported {rows} history rows to {}.", path.display()),
        ),
        Msg::Exported(Err(e)) => fail(state, &mut fx, &e),
        Msg::Copied { public_id, result } => on_copied(state, public_id, result, &mut fx),
        Msg::ClipboardCleared(result) => {
            state.on_clipboard = None;
            match result {
                Ok(true) => say(state, &mut fx, "Cleared the key from the clipboard.".into()),
                Ok(false) => {}
                Err(e) => warn(
                    state,
                    &mut fx,
                    format!("Could not clear the clipboard: {e}"),
                ),
            }
        }
    }
    fx
}

/// Whether the tab on screen shows the store's data in full: its list loaded
/// and every visible row drawn from a loaded record.
pub fn is_full_frame(state: &State) -> bool {
    if !matches!(state.screen, Screen::Main) {
        return false;
    }
    match state.tab {
        Tab::Keys | Tab::Teams => {
            let list = &state.keys;
            let h = page_rows(state);
            !list.loading
                && list.refs[list.offset.min(list.refs.len())..]
                    .iter()
                    .take(h)
                    .all(|r| list.rows.contains_key(&r.id))
        }
        Tab::History => state.history.loaded && !state.history.loading,
        Tab::Filters => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

/// The layer that takes keys now.
pub fn layer(state: &State) -> Layer {
    if state.help {
        return Layer::Help;
    }
    layer_under_help(state)
}

/// The layer the help overlay explains: what takes keys once help is closed.
pub fn layer_under_help(state: &State) -> Layer {
    match &state.screen {
        Screen::Setup(_) => return Layer::Setup,
        Screen::OfferDemo => return Layer::OfferDemo,
        Screen::Refused(_) | Screen::Loading => return Layer::NotOperator,
        Screen::Main => {}
    }
    if let Some(modal) = &state.modal {
        return match modal {
            Modal::Form(_) => Layer::Form,
            Modal::Confirm(_) => Layer::Confirm,
            Modal::Renew(_) => Layer::Renew,
            Modal::NewSecret(_) => Layer::NewSecret,
            Modal::TeamPicker(p) if p.typing => Layer::FilterLine,
            Modal::TeamPicker(_) => Layer::TeamPicker,
            Modal::Columns { .. } => Layer::Columns,
            Modal::Export(_) => Layer::Export,
            Modal::NamePrompt(_) => Layer::NamePrompt,
        };
    }
    if query_line(state).editing {
        return Layer::FilterLine;
    }
    match state.tab {
        Tab::Keys => Layer::Keys,
        Tab::Filters => Layer::Filters,
        Tab::Teams => Layer::Teams,
        Tab::History => Layer::History,
    }
}

fn query_line(state: &State) -> &QueryLine {
    match state.tab {
        Tab::Keys | Tab::Teams => &state.keys.filter,
        Tab::Filters => &state.filters.query,
        Tab::History => &state.history.filter,
    }
}

fn query_line_mut(state: &mut State) -> &mut QueryLine {
    match state.tab {
        Tab::Keys | Tab::Teams => &mut state.keys.filter,
        Tab::Filters => &mut state.filters.query,
        Tab::History => &mut state.history.filter,
    }
}

/// The most keys kept while loading; more is someone leaning on the keyboard.
const TYPE_AHEAD: usize = 64;

fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    // While the store answers (a few milliseconds, or a busy store's wait),
    // keys wait for the main screen; only Ctrl-C leaves at once.
    if matches!(state.screen, Screen::Loading) && !state.help {
        let ctrl_c =
            ev.modifiers.contains(KeyModifiers::CONTROL) && matches!(ev.code, KeyCode::Char('c'));
        if !ctrl_c {
            if state.typed_ahead.len() < TYPE_AHEAD {
                state.typed_ahead.push(ev);
            }
            return;
        }
    }
    let layer = layer(state);
    match layer.action(&ev) {
        Some(action) => act(state, layer, action, fx),
        None if layer.takes_text() => type_text(state, ev, fx),
        None => {}
    }
}

fn act(state: &mut State, layer: Layer, action: Action, fx: &mut Vec<Effect>) {
    // `?` on a tab or a window without a text line: help for what is under it.
    if action == Action::Help {
        state.help = true;
        return;
    }
    match layer {
        Layer::Help => state.help = false,
        Layer::Setup => setup_action(state, action, fx),
        Layer::OfferDemo => {
            if action == Action::Confirm {
                say(state, fx, "Loading sample data…".into());
                fx.push(Effect::LoadDemo);
            } else {
                enter_main(state, fx);
            }
        }
        Layer::NotOperator => state.quit = true,
        Layer::Keys | Layer::Filters | Layer::Teams | Layer::History => {
            tab_action(state, action, fx)
        }
        Layer::FilterLine => line_action(state, action, fx),
        Layer::Form => form_action(state, action, fx),
        Layer::Confirm => confirm_action(state, action, fx),
        Layer::Renew => renew_action(state, action, fx),
        Layer::NewSecret => secret_action(state, action, fx),
        Layer::TeamPicker => picker_action(state, action, fx),
        Layer::Columns => columns_action(state, action, fx),
        Layer::Export => export_action(state, action, fx),
        Layer::NamePrompt => name_action(state, action, fx),
    }
}

/// A key no binding took, typed into the focused text field.
fn type_text(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let event = Event::Key(ev);
    if let Screen::Setup(s) = &mut state.screen {
        let input = if s.focus == 0 {
            &mut s.name
        } else {
            &mut s.email
        };
        input.handle_event(&event);
        s.error = None;
        return;
    }
    match &mut state.modal {
        Some(Modal::Form(form)) => {
            if matches!(form.kind, FormKind::Edit(_)) && form.focus == Field::Instance {
                return;
            }
            let i = form.focus.index();
            if form.inputs[i].handle_event(&event).is_some() {
                form.errors[i] = None;
                form.refused = None;
                form.choice = None;
            }
        }
        Some(Modal::Renew(r)) => {
            let input = if r.focus == 0 {
                &mut r.grace
            } else {
                &mut r.expires
            };
            input.handle_event(&event);
            r.error = None;
        }
        Some(Modal::Export(p)) => {
            p.path.handle_event(&event);
            p.error = None;
        }
        Some(Modal::NamePrompt(p)) => {
            p.input.handle_event(&event);
            p.error = None;
        }
        Some(Modal::TeamPicker(p)) if p.typing => {
            p.new_team.handle_event(&event);
            p.error = None;
        }
        Some(_) => {}
        None => {
            let line = query_line_mut(state);
            if line.input.handle_event(&event).is_some() {
                query_changed(state, fx);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------------------------

fn tab_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.help = true,
        Action::NextTab => go_tab(state, Tab::ALL[(state.tab.index() + 1) % 4], fx),
        Action::PrevTab => go_tab(state, Tab::ALL[(state.tab.index() + 3) % 4], fx),
        Action::GoKeys => go_tab(state, Tab::Keys, fx),
        Action::GoFilters => go_tab(state, Tab::Filters, fx),
        Action::GoTeams => go_tab(state, Tab::Teams, fx),
        Action::GoHistory => go_tab(state, Tab::History, fx),
        Action::Up => move_cursor(state, -1, fx),
        Action::Down => move_cursor(state, 1, fx),
        Action::PageUp => {
            let page = page_rows(state) as isize;
            move_cursor(state, -page, fx)
        }
        Action::PageDown => {
            let page = page_rows(state) as isize;
            move_cursor(state, page, fx)
        }
        Action::Top => to_end(state, false, fx),
        Action::Bottom => to_end(state, true, fx),
        Action::FocusFilter => query_line_mut(state).editing = true,
        Action::Close => {
            if state.tab == Tab::Keys && state.keys.detail.is_some() {
                state.keys.detail = None;
            } else if !query_line(state).input.value().is_empty() {
                query_line_mut(state).input.reset();
                query_changed(state, fx);
            }
        }
        _ => match state.tab {
            Tab::Keys | Tab::Teams => keys_action(state, action, fx),
            Tab::Filters => filters_action(state, action, fx),
            Tab::History => history_action(state, action),
        },
    }
}

fn go_tab(state: &mut State, tab: Tab, fx: &mut Vec<Effect>) {
    state.tab = tab;
    // Other admins work on the same store: a tab shows the store as it is now.
    match tab {
        Tab::Keys => reload_keys(state, fx),
        Tab::Teams => {
            reload_keys(state, fx);
            fx.push(Effect::LoadTeams);
        }
        Tab::Filters => fx.push(Effect::LoadSavedFilters),
        Tab::History => reload_history(state, fx),
    }
}

fn page_rows(state: &State) -> usize {
    layout::visible_rows(
        state.tab,
        state.width,
        state.height,
        state.keys.detail.is_some(),
    )
}

fn move_cursor(state: &mut State, by: isize, fx: &mut Vec<Effect>) {
    match state.tab {
        Tab::Keys | Tab::Teams => {
            let len = state.keys.refs.len();
            let before = state.keys.cursor;
            state.keys.cursor = step(before, by, len);
            if state.keys.cursor != before {
                state.keys.detail = None;
            }
            ensure_rows(state, fx);
        }
        Tab::Filters => {
            let n = filter_count(state);
            state.filters.cursor = step(state.filters.cursor, by, n);
        }
        Tab::History => {
            let len = state.history.rows.len();
            state.history.cursor = step(state.history.cursor, by, len);
            scroll_history(state, fx);
        }
    }
}

fn step(at: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    at.saturating_add_signed(by).min(len - 1)
}

fn to_end(state: &mut State, bottom: bool, fx: &mut Vec<Effect>) {
    match state.tab {
        Tab::History => {
            let h = &mut state.history;
            if bottom && h.more_older {
                load_history(state, HistoryPage::Oldest, fx);
            } else if !bottom && h.more_newer {
                load_history(state, HistoryPage::Newest, fx);
            } else {
                h.cursor = if bottom {
                    h.rows.len().saturating_sub(1)
                } else {
                    0
                };
                scroll_history(state, fx);
            }
        }
        _ => move_cursor(state, if bottom { isize::MAX } else { isize::MIN }, fx),
    }
}

// ---------------------------------------------------------------------------------------------
// Query lines
// ---------------------------------------------------------------------------------------------

fn line_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    if let Some(Modal::TeamPicker(p)) = &mut state.modal {
        match action {
            Action::Apply => add_new_team(p),
            Action::Cancel => {
                p.typing = false;
                p.new_team.reset();
            }
            _ => {}
        }
        return;
    }
    match action {
        Action::Apply => {
            query_line_mut(state).editing = false;
            if state.tab == Tab::Filters {
                let query = state.filters.query.input.value().to_owned();
                if state.filters.query.error.is_none() {
                    apply_on_keys(state, query, fx);
                }
            }
        }
        Action::Cancel => {
            let line = query_line_mut(state);
            line.editing = false;
            if !line.input.value().is_empty() {
                line.input.reset();
                query_changed(state, fx);
            }
        }
        Action::Up => move_cursor(state, -1, fx),
        Action::Down => move_cursor(state, 1, fx),
        _ => {}
    }
}

/// The text of a query line changed: check it, and show its results if it parses.
fn query_changed(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab;
    let line = query_line_mut(state);
    let text = line.input.value().to_owned();
    let parsed = match tab {
        Tab::History => HistoryQuery::parse(&text).map(drop),
        _ => KeyQuery::parse(&text).map(drop),
    };
    line.error = parsed.err().map(|e| e.to_string());
    if line.error.is_some() || tab == Tab::Filters || line.applied == text {
        return;
    }
    line.applied = text;
    match tab {
        Tab::History => reload_history(state, fx),
        _ => {
            state.keys.cursor = 0;
            state.keys.offset = 0;
            reload_keys(state, fx);
        }
    }
}

fn apply_on_keys(state: &mut State, query: String, fx: &mut Vec<Effect>) {
    let line = &mut state.keys.filter;
    line.input = Input::new(query.clone());
    line.error = None;
    line.applied = query;
    state.keys.cursor = 0;
    state.keys.offset = 0;
    state.keys.detail = None;
    state.tab = Tab::Keys;
    reload_keys(state, fx);
}

// ---------------------------------------------------------------------------------------------
// Keys and Teams tabs
// ---------------------------------------------------------------------------------------------

fn reload_keys(state: &mut State, fx: &mut Vec<Effect>) {
    let Ok(query) = KeyQuery::parse(&state.keys.filter.applied) else {
        return;
    };
    state.keys.generation += 1;
    state.keys.loading = true;
    fx.push(Effect::LoadKeyRefs {
        generation: state.keys.generation,
        query,
    });
}

/// Keeps the cursor in view and asks for the rows around the viewport that are
/// not loaded yet; forgets rows far from it.
fn ensure_rows(state: &mut State, fx: &mut Vec<Effect>) {
    let h = layout::visible_rows(
        Tab::Keys,
        state.width,
        state.height,
        state.keys.detail.is_some(),
    );
    let list = &mut state.keys;
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
        fx.push(Effect::LoadKeyRows {
            generation: list.generation,
            ids: missing,
        });
    }
}

/// The keys an action applies to: the selection, or else the key under the cursor.
fn targets(state: &State) -> Vec<KeyBrief> {
    if state.keys.selected.is_empty() {
        return state
            .keys
            .current()
            .map(|r| match state.keys.rows.get(&r.id) {
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
    state
        .keys
        .selected
        .iter()
        .map(|(id, (public_id, name))| KeyBrief {
            public_id: public_id.clone(),
            name: name.clone(),
            active: state
                .keys
                .rows
                .get(id)
                .is_none_or(|k| k.status == KeyStatus::Active),
        })
        .collect()
}

fn may(state: &mut State, role: Role, what: &str, fx: &mut Vec<Effect>) -> bool {
    if state.role() >= role {
        return true;
    }
    warn(
        state,
        fx,
        format!("You are a {}; {what} needs the {role} role.", state.role()),
    );
    false
}

fn keys_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Open if state.tab == Tab::Keys => {
            if let Some(r) = state.keys.current() {
                fx.push(Effect::OpenKey(r.public_id.clone()));
            }
        }
        Action::New if may(state, Role::Manager, "creating keys", fx) => {
            state.modal = Some(Modal::Form(Box::new(new_form(state, None))));
            fx.push(Effect::LoadFormChoices);
        }
        Action::Edit => {
            if !may(state, Role::Manager, "editing keys", fx) {
                return;
            }
            match state.keys.current_key().cloned() {
                Some(key) if key.status == KeyStatus::Deleted => {
                    warn(state, fx, "A deleted key cannot change.".into())
                }
                Some(key) => {
                    state.modal = Some(Modal::Form(Box::new(new_form(state, Some(key)))));
                    fx.push(Effect::LoadFormChoices);
                }
                None => {}
            }
        }
        Action::Renew => {
            if !may(state, Role::Manager, "renewing keys", fx) {
                return;
            }
            if let Some(key) = state.keys.current_key() {
                if key.status.is_final() {
                    let text = format!("A {} key cannot be renewed; create a new one.", key.status);
                    warn(state, fx, text);
                    return;
                }
                state.modal = Some(Modal::Renew(Box::new(RenewForm {
                    key: KeyBrief::of(key),
                    masked: key.masked(),
                    grace: Input::default(),
                    expires: Input::new(state.settings.default_expiry.clone()),
                    focus: 0,
                    error: None,
                    saving: false,
                })));
            }
        }
        Action::Deactivate if may(state, Role::Manager, "deactivating keys", fx) => {
            // Keys already deactivated, deleted or expired have nothing to stop.
            let (keys, skipped): (Vec<KeyBrief>, Vec<KeyBrief>) =
                targets(state).into_iter().partition(|k| k.active);
            if keys.is_empty() && !skipped.is_empty() {
                warn(state, fx, "None of these keys is active.".into());
            } else if !keys.is_empty() {
                state.modal = Some(confirm_deactivate(keys));
            }
        }
        Action::Delete if may(state, Role::Manager, "deleting keys", fx) => {
            let keys = targets(state);
            if !keys.is_empty() {
                state.modal = Some(confirm_delete(keys));
            }
        }
        Action::Select => {
            if let Some(r) = state.keys.current().cloned() {
                if state.keys.selected.remove(&r.id).is_none() {
                    state.keys.selected.insert(r.id, (r.public_id, r.name));
                }
                move_cursor(state, 1, fx);
            }
        }
        Action::SelectAll => {
            let list = &mut state.keys;
            for r in &list.refs {
                list.selected
                    .insert(r.id, (r.public_id.clone(), r.name.clone()));
            }
            let n = list.selected.len();
            say(state, fx, format!("{n} keys selected."));
        }
        Action::SelectNone => state.keys.selected.clear(),
        Action::ManageTeams => {
            if !may(state, Role::Manager, "changing teams", fx) {
                return;
            }
            let ids: Vec<String> = targets(state).into_iter().map(|k| k.public_id).collect();
            if ids.is_empty() {
                return;
            }
            state.modal = Some(Modal::TeamPicker(Box::new(TeamPicker {
                ids,
                teams: state.teams.teams.iter().map(|t| t.name.clone()).collect(),
                marks: Default::default(),
                cursor: 0,
                new_team: Input::default(),
                typing: false,
                error: None,
            })));
            fx.push(Effect::LoadTeams);
        }
        _ => {}
    }
}

fn named(keys: &[KeyBrief]) -> Vec<String> {
    let mut lines: Vec<String> = keys
        .iter()
        .take(NAMED_IN_CONFIRM)
        .map(|k| format!("  • {} (kw_{})", k.name, k.public_id))
        .collect();
    if keys.len() > NAMED_IN_CONFIRM {
        lines.push(format!("  … and {} more", keys.len() - NAMED_IN_CONFIRM));
    }
    lines
}

fn count_keys(n: usize) -> String {
    if n == 1 {
        "1 key".to_owned()
    } else {
        format!("{n} keys")
    }
}

/// The three warnings of the seed portal, before a key is deactivated.
pub const DEACTIVATION_WARNINGS: [&str; 3] = [
    "Deactivation cannot be undone.",
    "Integrations using the key stop working until they get a new key.",
    "Apps that rely on the key will fail.",
];

fn confirm_deactivate(keys: Vec<KeyBrief>) -> Modal {
    let mut lines = named(&keys);
    lines.push(String::new());
    lines.extend(DEACTIVATION_WARNINGS.iter().map(|w| format!("! {w}")));
    Modal::Confirm(Box::new(Confirm {
        title: format!("Deactivate {}?", count_keys(keys.len())),
        lines,
        pending: Pending::Deactivate(keys),
        back: None,
    }))
}

fn confirm_delete(keys: Vec<KeyBrief>) -> Modal {
    let mut lines = named(&keys);
    lines.push(String::new());
    lines.push("Deleted keys leave the list; their history stays.".to_owned());
    if keys.iter().any(|k| k.active) {
        lines.push("Active keys are deactivated first:".to_owned());
        lines.extend(DEACTIVATION_WARNINGS.iter().map(|w| format!("! {w}")));
    }
    Modal::Confirm(Box::new(Confirm {
        title: format!("Delete {}?", count_keys(keys.len())),
        lines,
        pending: Pending::Delete(keys),
        back: None,
    }))
}

fn on_changed(
    state: &mut State,
    result: keyward_core::Result<Vec<keyward_core::domain::model::Key>>,
    verb: &str,
    fx: &mut Vec<Effect>,
) {
    match result {
        Ok(keys) => {
            let text = match keys.as_slice() {
                [one] => format!("{verb} {}.", one.name),
                many => format!("{verb} {}.", count_keys(many.len())),
            };
            say(state, fx, text);
            if verb != "Changed the teams of" {
                state.keys.selected.clear();
                // Deactivations and deletions notify admins and managers.
                deliver_after_change(fx);
            }
            refresh_after_change(state, fx);
        }
        Err(e) => fail(state, fx, &e),
    }
}

/// After a change: the list, the team counts and the history as they are now.
/// Team counts cost a scan of every key, so only the Teams tab reads them.
fn refresh_after_change(state: &mut State, fx: &mut Vec<Effect>) {
    state.keys.detail = None;
    reload_keys(state, fx);
    if state.tab == Tab::Teams {
        fx.push(Effect::LoadTeams);
    }
    if state.history.loaded {
        reload_history(state, fx);
    }
}

// ---------------------------------------------------------------------------------------------
// Filters tab
// ---------------------------------------------------------------------------------------------

pub fn filter_count(state: &State) -> usize {
    READY_MADE.len() + state.filters.saved.len()
}

/// The name and query of the filter at `i`: ready-made ones first, then saved ones.
pub fn filter_at(state: &State, i: usize) -> Option<(String, String, bool)> {
    if let Some((name, made)) = READY_MADE.get(i) {
        return Some(((*name).to_owned(), made.query(state.now), false));
    }
    state
        .filters
        .saved
        .get(i - READY_MADE.len())
        .map(|f| (f.name.clone(), f.query.clone(), true))
}

fn filters_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let current = filter_at(state, state.filters.cursor);
    match action {
        Action::Apply => {
            if let Some((_, query, _)) = current {
                apply_on_keys(state, query, fx);
            }
        }
        Action::Save => {
            let typed = state.filters.query.input.value().trim().to_owned();
            let query = if typed.is_empty() {
                current.map(|c| c.1).unwrap_or_default()
            } else {
                typed
            };
            if let Some(e) = KeyQuery::parse(&query).err() {
                warn(state, fx, format!("The query does not parse: {e}"));
                return;
            }
            state.modal = Some(Modal::NamePrompt(NamePrompt {
                purpose: NamePurpose::SaveFilter { query },
                input: Input::default(),
                error: None,
            }));
        }
        Action::Rename => match current {
            Some((name, _, true)) => {
                state.modal = Some(Modal::NamePrompt(NamePrompt {
                    purpose: NamePurpose::RenameFilter { from: name.clone() },
                    input: Input::new(name),
                    error: None,
                }))
            }
            _ => warn(state, fx, "Only saved filters can be renamed.".into()),
        },
        Action::Delete => match current {
            Some((name, query, true)) => {
                state.modal = Some(Modal::Confirm(Box::new(Confirm {
                    title: "Delete the saved filter?".to_owned(),
                    lines: vec![format!("{name}: {query}")],
                    pending: Pending::DeleteFilter(name),
                    back: None,
                })))
            }
            _ => warn(state, fx, "Ready-made filters cannot be deleted.".into()),
        },
        _ => {}
    }
}

fn name_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::NamePrompt(p)) = &mut state.modal else {
        return;
    };
    if action == Action::Cancel {
        state.modal = None;
        return;
    }
    if let Err(e) = Name::parse("filter name", p.input.value()) {
        p.error = Some(e.to_string());
        return;
    }
    let name = p.input.value().trim().to_owned();
    fx.push(match &p.purpose {
        NamePurpose::SaveFilter { query } => Effect::SaveFilter {
            name,
            query: query.clone(),
        },
        NamePurpose::RenameFilter { from } => Effect::RenameFilter {
            from: from.clone(),
            to: name,
        },
    });
    state.modal = None;
}

// ---------------------------------------------------------------------------------------------
// History tab
// ---------------------------------------------------------------------------------------------

fn reload_history(state: &mut State, fx: &mut Vec<Effect>) {
    state.history.cursor = 0;
    state.history.offset = 0;
    load_history(state, HistoryPage::Newest, fx);
}

fn load_history(state: &mut State, page: HistoryPage, fx: &mut Vec<Effect>) {
    let Ok(query) = HistoryQuery::parse(&state.history.filter.applied) else {
        return;
    };
    let h = &mut state.history;
    // A new first or last page replaces the window; older requests are moot.
    if matches!(page, HistoryPage::Newest | HistoryPage::Oldest) || !h.loading {
        h.generation += 1;
    } else {
        return;
    }
    h.loading = true;
    fx.push(Effect::LoadHistory {
        generation: h.generation,
        query,
        page,
        limit: HISTORY_PAGE,
    });
}

fn on_history_page(
    state: &mut State,
    page: HistoryPage,
    rows: Vec<keyward_core::domain::history::HistoryRow>,
) {
    let h = &mut state.history;
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
    let visible = layout::visible_rows(Tab::History, state.width, state.height, false);
    keep_in_view(&mut h.offset, h.cursor, visible, h.rows.len());
}

fn keep_in_view(offset: &mut usize, cursor: usize, visible: usize, len: usize) {
    if cursor < *offset {
        *offset = cursor;
    } else if cursor >= *offset + visible {
        *offset = cursor + 1 - visible;
    }
    *offset = (*offset).min(len.saturating_sub(1));
}

/// Keeps the cursor in view and reads the next page when it nears either end.
fn scroll_history(state: &mut State, fx: &mut Vec<Effect>) {
    let visible = layout::visible_rows(Tab::History, state.width, state.height, false);
    let h = &mut state.history;
    keep_in_view(&mut h.offset, h.cursor, visible, h.rows.len());
    let near_end = h.cursor + HISTORY_MARGIN >= h.rows.len();
    if near_end && h.more_older {
        if let Some(last) = h.rows.last().map(|r| r.record.seq) {
            load_history(state, HistoryPage::OlderThan(last), fx);
        }
    } else if h.cursor < HISTORY_MARGIN && h.more_newer {
        if let Some(first) = h.rows.first().map(|r| r.record.seq) {
            load_history(state, HistoryPage::NewerThan(first), fx);
        }
    }
}

fn history_action(state: &mut State, action: Action) {
    match action {
        Action::Columns => {
            state.modal = Some(Modal::Columns {
                cursor: 0,
                changed: false,
            })
        }
        Action::Export => {
            let stamp = DateTime::from_timestamp(state.now, 0)
                .unwrap_or_default()
                .format("%Y%m%d-%H%M%S");
            let path = state
                .settings
                .export_dir
                .join(format!("keyward-history-{stamp}.csv"));
            state.modal = Some(Modal::Export(ExportPrompt {
                path: Input::new(path.display().to_string()),
                format: ExportFormat::Csv,
                error: None,
            }));
        }
        _ => {}
    }
}

fn columns_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::Columns { cursor, changed }) = &mut state.modal else {
        return;
    };
    let n = Column::ALL.len();
    match action {
        Action::Up => *cursor = cursor.saturating_sub(1),
        Action::Down => *cursor = (*cursor + 1).min(n - 1),
        Action::Select => {
            let column = Column::ALL[*cursor];
            let shown = &mut state.history.columns;
            if let Some(i) = shown.iter().position(|c| *c == column) {
                if shown.len() > 1 {
                    shown.remove(i);
                    *changed = true;
                }
            } else {
                shown.push(column);
                shown.sort_by_key(|c| Column::ALL.iter().position(|a| a == c));
                *changed = true;
            }
        }
        Action::Close => {
            if *changed {
                let names: Vec<&str> = state.history.columns.iter().map(|c| c.name()).collect();
                fx.push(Effect::SaveHistoryColumns(names.join(",")));
            }
            state.modal = None;
        }
        _ => {}
    }
}

fn export_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::Export(p)) = &mut state.modal else {
        return;
    };
    match action {
        Action::ToggleFormat => {
            let (from, to) = match p.format {
                ExportFormat::Csv => (ExportFormat::Csv, ExportFormat::Json),
                ExportFormat::Json => (ExportFormat::Json, ExportFormat::Csv),
            };
            p.format = to;
            let path = p.path.value();
            if let Some(stem) = path.strip_suffix(&format!(".{}", from.extension())) {
                p.path = Input::new(format!("{stem}.{}", to.extension()));
            }
        }
        Action::Confirm => {
            let path = p.path.value().trim();
            if path.is_empty() {
                p.error = Some("give a file to write".to_owned());
                return;
            }
            let Ok(query) = HistoryQuery::parse(&state.history.filter.applied) else {
                return;
            };
            fx.push(Effect::Export {
                query,
                columns: state.history.columns.clone(),
                path: path.into(),
                format: p.format,
            });
            state.modal = None;
        }
        Action::Cancel => state.modal = None,
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Key form
// ---------------------------------------------------------------------------------------------

fn new_form(state: &State, key: Option<keyward_core::domain::model::Key>) -> KeyForm {
    let values: [String; 6] = match &key {
        None => [
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            state.settings.default_expiry.clone(),
        ],
        Some(k) => [
            k.name.clone(),
            k.instance.clone(),
            k.developer.clone(),
            k.channel.clone(),
            k.teams.join(", "),
            k.expires_at.map_or("never".to_owned(), date_of),
        ],
    };
    KeyForm {
        kind: key.map_or(FormKind::Create, |k| FormKind::Edit(Box::new(k))),
        inputs: values.clone().map(Input::new),
        initial: values,
        focus: Field::Name,
        choice: None,
        errors: Default::default(),
        refused: None,
        saving: false,
        choices: None,
    }
}

/// `YYYY-MM-DD` of a stored time: the form of an expiry an admin can type back.
fn date_of(ts: i64) -> String {
    // Expiry dates are typed and stored as UTC days (valid through that day).
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The suggestions the focused field offers, filtered by what is typed.
pub fn suggestions(form: &KeyForm) -> Vec<String> {
    let Some(c) = &form.choices else {
        return Vec::new();
    };
    let typed = form.value(form.focus).trim().to_lowercase();
    let matching = |name: &str| typed.is_empty() || name.to_lowercase().contains(&typed);
    match form.focus {
        Field::Instance => {
            if matches!(form.kind, FormKind::Edit(_)) {
                return Vec::new();
            }
            c.instances
                .iter()
                .map(|i| i.name.clone())
                .filter(|n| matching(n) && !n.eq_ignore_ascii_case(&typed))
                .collect()
        }
        Field::Developer => {
            let instance = form.value(Field::Instance).trim();
            c.developers
                .iter()
                .filter(|d| d.instance.eq_ignore_ascii_case(instance))
                .map(|d| d.name.clone())
                .filter(|n| matching(n) && !n.eq_ignore_ascii_case(&typed))
                .collect()
        }
        Field::Channel => c
            .channels
            .iter()
            .filter(|n| matching(n) && !n.eq_ignore_ascii_case(&typed))
            .cloned()
            .collect(),
        Field::Teams => {
            let value = form.value(Field::Teams);
            let (done, last) = split_last_team(value);
            let last = last.trim().to_lowercase();
            c.teams
                .iter()
                .map(|t| t.name.clone())
                .filter(|n| !done.iter().any(|d| d.eq_ignore_ascii_case(n)))
                .filter(|n| last.is_empty() || n.to_lowercase().contains(&last))
                .collect()
        }
        Field::Expires => ["30d", "90d", "180d", "365d", "never"]
            .iter()
            .filter(|s| !s.eq_ignore_ascii_case(&typed))
            .map(|s| (*s).to_owned())
            .collect(),
        Field::Name => Vec::new(),
    }
}

/// The teams already typed, and the fragment being typed after the last comma.
fn split_last_team(value: &str) -> (Vec<String>, &str) {
    match value.rsplit_once(',') {
        Some((done, last)) => (team_list(done), last),
        None => (Vec::new(), value),
    }
}

fn team_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn form_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let now = state.now;
    let Some(Modal::Form(form)) = &mut state.modal else {
        return;
    };
    let n = suggestions(form).len();
    match action {
        Action::NextField | Action::PrevField => {
            let i = form.focus.index();
            let next = if action == Action::NextField {
                (i + 1) % Field::ALL.len()
            } else {
                (i + Field::ALL.len() - 1) % Field::ALL.len()
            };
            form.focus = Field::ALL[next];
            form.choice = None;
        }
        Action::Down if n > 0 => form.choice = Some(form.choice.map_or(0, |c| (c + 1).min(n - 1))),
        Action::Up => form.choice = form.choice.and_then(|c| c.checked_sub(1)),
        Action::Confirm => {
            if let Some(pick) = form.choice.and_then(|c| suggestions(form).get(c).cloned()) {
                take_suggestion(form, pick);
            } else if form.focus == Field::Expires {
                save_form(form, now, fx);
            } else {
                form.focus = Field::ALL[form.focus.index() + 1];
                form.choice = None;
            }
        }
        Action::Save => save_form(form, now, fx),
        // Quitting mid-save would lose the new secret; unsaved input asks first.
        Action::Quit if form.saving => {}
        Action::Quit if !form.is_dirty() => state.quit = true,
        Action::Quit => {
            let Some(modal) = state.modal.take() else {
                return;
            };
            state.modal = Some(Modal::Confirm(Box::new(Confirm {
                title: "Quit without saving?".to_owned(),
                lines: vec!["What you typed in the form is lost; nothing was saved.".to_owned()],
                pending: Pending::Quit,
                back: Some(Box::new(modal)),
            })));
        }
        Action::Cancel => {
            if form.saving {
                return;
            }
            if form.is_dirty() {
                let Some(Modal::Form(form)) = state.modal.take() else {
                    return;
                };
                state.modal = Some(Modal::Confirm(Box::new(Confirm {
                    title: "Discard this form?".to_owned(),
                    lines: vec!["What you typed is lost; nothing was saved.".to_owned()],
                    pending: Pending::Discard,
                    back: Some(Box::new(Modal::Form(form))),
                })));
            } else {
                state.modal = None;
            }
        }
        _ => {}
    }
}

fn take_suggestion(form: &mut KeyForm, pick: String) {
    let i = form.focus.index();
    let value = if form.focus == Field::Teams {
        let (mut done, _) = split_last_team(form.inputs[i].value());
        done.push(pick);
        format!("{}, ", done.join(", "))
    } else {
        pick
    };
    form.inputs[i] = Input::new(value);
    form.errors[i] = None;
    form.choice = None;
    if form.focus != Field::Teams {
        form.focus = Field::ALL[(i + 1).min(Field::ALL.len() - 1)];
    }
}

/// Checks every field, showing each problem next to its field; nothing is
/// written unless all pass.
fn save_form(form: &mut KeyForm, now: i64, fx: &mut Vec<Effect>) {
    if form.saving {
        return;
    }
    form.refused = None;
    let now_utc = DateTime::from_timestamp(now, 0).unwrap_or_default();
    let mut errors: [Option<String>; 6] = Default::default();
    let mut check = |field: Field, result: Result<(), Error>| {
        if let Err(e) = result {
            errors[field.index()] = Some(e.to_string());
        }
    };
    check(
        Field::Name,
        Name::parse("name", form.inputs[0].value()).map(drop),
    );
    let instance = form.inputs[1].value().trim().to_owned();
    let instances = form.choices.as_ref().map(|c| &c.instances);
    let known = instances.and_then(|l| l.iter().find(|i| i.name.eq_ignore_ascii_case(&instance)));
    let instance_error = match (instances, known) {
        (Some(l), _) if l.is_empty() => {
            Some("no instances yet: an admin adds one first (keyward instance add NAME --cloud …)")
        }
        (_, None) if matches!(form.kind, FormKind::Create) => {
            Some("pick an instance from the list")
        }
        _ => None,
    };
    check(
        Field::Instance,
        instance_error.map_or(Ok(()), |e| Err(Error::usage(e))),
    );
    let instance = known.map_or(instance, |i| i.name.clone());
    check(
        Field::Developer,
        Name::parse("developer", form.inputs[2].value()).map(drop),
    );
    check(
        Field::Channel,
        Name::parse("channel", form.inputs[3].value()).map(drop),
    );
    let teams = team_list(form.inputs[4].value());
    for t in &teams {
        check(Field::Teams, Name::parse("team", t).map(drop));
    }
    let expires = form.inputs[5].value().trim().to_owned();
    if !expires.is_empty() && expires != form.initial[5] {
        check(Field::Expires, Expiry::parse(&expires, now_utc).map(drop));
    }
    form.errors = errors;
    if form.errors.iter().any(Option::is_some) {
        return;
    }
    let changed = |i: usize| {
        let v = form.inputs[i].value();
        (v != form.initial[i]).then(|| v.trim().to_owned())
    };
    let effect = match &form.kind {
        FormKind::Create => Effect::CreateKey(NewKeyRequest {
            name: form.inputs[0].value().to_owned(),
            instance,
            developer: form.inputs[2].value().trim().to_owned(),
            channel: form.inputs[3].value().trim().to_owned(),
            teams,
            expires: (!expires.is_empty()).then_some(expires),
        }),
        FormKind::Edit(key) => {
            let before: BTreeSet<&str> = key.teams.iter().map(String::as_str).collect();
            let after: BTreeSet<&str> = teams.iter().map(String::as_str).collect();
            Effect::EditKey {
                public_id: key.public_id.clone(),
                edit: EditKey {
                    name: changed(0).map(|_| form.inputs[0].value().to_owned()),
                    developer: changed(2),
                    channel: changed(3),
                    expires: changed(5).filter(|e| !e.is_empty()),
                },
                teams: TeamChanges {
                    add: after.difference(&before).map(|t| (*t).to_owned()).collect(),
                    remove: before.difference(&after).map(|t| (*t).to_owned()).collect(),
                },
            }
        }
    };
    if let Effect::EditKey { edit, teams, .. } = &effect {
        if !edit.changes_fields() && teams.is_empty() {
            form.refused = Some("nothing to save: no field was changed".to_owned());
            return;
        }
    }
    form.saving = true;
    fx.push(effect);
}

fn refuse_save(state: &mut State, e: &Error, fx: &mut Vec<Effect>) {
    match &mut state.modal {
        Some(Modal::Form(form)) => {
            form.saving = false;
            form.refused = Some(e.to_string());
        }
        Some(Modal::Renew(r)) => {
            r.saving = false;
            r.error = Some(e.to_string());
        }
        _ => fail(state, fx, e),
    }
}

fn on_issued(
    state: &mut State,
    result: keyward_core::Result<keyward_core::service::IssuedKey>,
    fx: &mut Vec<Effect>,
) {
    match result {
        Ok(issued) => {
            let renewed = matches!(state.modal, Some(Modal::Renew(_)));
            let verb = if renewed { "Renewed" } else { "Created" };
            say(state, fx, format!("{verb} {}.", issued.key.name));
            state.modal = Some(Modal::NewSecret(Box::new(NewSecret {
                key: issued.key,
                token: issued.token,
                renewed,
                copied: None,
                copy_error: None,
            })));
            refresh_after_change(state, fx);
            deliver_after_change(fx);
        }
        Err(e) => refuse_save(state, &e, fx),
    }
}

// ---------------------------------------------------------------------------------------------
// Modals
// ---------------------------------------------------------------------------------------------

fn confirm_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::Confirm(confirm)) = state.modal.take() else {
        return;
    };
    let Confirm { pending, back, .. } = *confirm;
    if action != Action::Confirm {
        state.modal = back.map(|b| *b);
        return;
    }
    let ids = |keys: Vec<KeyBrief>| keys.into_iter().map(|k| k.public_id).collect();
    match pending {
        Pending::Deactivate(keys) => fx.push(Effect::Deactivate(ids(keys))),
        Pending::Delete(keys) => fx.push(Effect::Delete(ids(keys))),
        Pending::ChangeTeams { ids, changes } => fx.push(Effect::ChangeTeams { ids, changes }),
        Pending::DeleteFilter(name) => fx.push(Effect::DeleteFilter(name)),
        Pending::Quit => state.quit = true,
        Pending::Discard | Pending::LeaveSecret => {}
    }
}

fn renew_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let now = DateTime::from_timestamp(state.now, 0).unwrap_or_default();
    let Some(Modal::Renew(r)) = &mut state.modal else {
        return;
    };
    match action {
        Action::NextField => r.focus = 1 - r.focus,
        Action::Cancel if !r.saving => state.modal = None,
        Action::Confirm if !r.saving => {
            let grace = r.grace.value().trim().to_owned();
            let expires = r.expires.value().trim().to_owned();
            let checked = (if grace.is_empty() {
                Ok(())
            } else {
                parse_duration(&grace).map(drop)
            })
            .and_then(|()| {
                if expires.is_empty() {
                    Ok(())
                } else {
                    Expiry::parse(&expires, now).map(drop)
                }
            });
            if let Err(e) = checked {
                r.error = Some(e.to_string());
                return;
            }
            r.saving = true;
            fx.push(Effect::RenewKey {
                public_id: r.key.public_id.clone(),
                grace: (!grace.is_empty()).then_some(grace),
                expires: (!expires.is_empty()).then_some(expires),
            });
        }
        _ => {}
    }
}

fn secret_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::NewSecret(s)) = &mut state.modal else {
        return;
    };
    match action {
        Action::Copy => fx.push(Effect::Copy {
            public_id: s.key.public_id.clone(),
            secret: Zeroizing::new(s.token.expose().to_owned()),
        }),
        Action::Close if s.copied.is_some() => state.modal = None,
        Action::Close => {
            let Some(modal) = state.modal.take() else {
                return;
            };
            state.modal = Some(Modal::Confirm(Box::new(Confirm {
                title: "Leave without copying the key?".to_owned(),
                lines: vec![
                    "The key was never copied, and it will not be shown again.".to_owned(),
                    "Without it, the key must be renewed to get a new secret.".to_owned(),
                ],
                pending: Pending::LeaveSecret,
                back: Some(Box::new(modal)),
            })));
        }
        _ => {}
    }
}

fn on_copied(
    state: &mut State,
    public_id: String,
    result: Result<crate::clipboard::Via, String>,
    fx: &mut Vec<Effect>,
) {
    // The copy may land after Esc, with the secret behind the "leave?" question
    // or gone: the clipboard holds the key all the same, to record and clear.
    let secret = match &mut state.modal {
        Some(Modal::NewSecret(s)) => Some(s),
        Some(Modal::Confirm(c)) => match c.back.as_deref_mut() {
            Some(Modal::NewSecret(s)) => Some(s),
            _ => None,
        },
        _ => None,
    };
    match result {
        Ok(via) => {
            if let Some(s) = secret {
                s.copied = Some(via);
                s.copy_error = None;
            }
            state.on_clipboard = Some(public_id.clone());
            state.copies += 1;
            let secs = state.settings.clipboard_clear.as_secs();
            say(
                state,
                fx,
                format!(
                    "Copied the key to {}; it is cleared in {secs} s.",
                    via.describe()
                ),
            );
            fx.push(Effect::RecordCopied { public_id, via });
            fx.push(Effect::SetTimer {
                after: state.settings.clipboard_clear,
                timer: Timer::ClearClipboard(state.copies),
            });
        }
        Err(e) => {
            if let Some(s) = secret {
                s.copy_error = Some(e.clone());
            }
            warn(
                state,
                fx,
                format!("Could not copy ({e}); copy the key from the screen."),
            );
        }
    }
}

fn picker_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(Modal::TeamPicker(p)) = &mut state.modal else {
        return;
    };
    let n = p.teams.len();
    match action {
        Action::Up => p.cursor = p.cursor.saturating_sub(1),
        Action::Down => p.cursor = (p.cursor + 1).min(n.saturating_sub(1)),
        Action::AddMark | Action::RemoveMark => {
            let mark = if action == Action::AddMark {
                Mark::Add
            } else {
                Mark::Remove
            };
            if let Some(team) = p.teams.get(p.cursor).cloned() {
                if p.marks.get(&team) == Some(&mark) {
                    p.marks.remove(&team);
                } else {
                    p.marks.insert(team, mark);
                }
            }
        }
        Action::FocusFilter => p.typing = true,
        Action::Cancel => state.modal = None,
        Action::Apply => {
            if p.marks.is_empty() {
                p.error = Some("mark a team to add (+) or remove (-) first".to_owned());
                return;
            }
            let Some(Modal::TeamPicker(p)) = state.modal.take() else {
                return;
            };
            let of = |m: Mark| -> Vec<String> {
                p.marks
                    .iter()
                    .filter(|(_, v)| **v == m)
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            let changes = TeamChanges {
                add: of(Mark::Add),
                remove: of(Mark::Remove),
            };
            let n = count_keys(p.ids.len());
            let mut lines = Vec::new();
            if !changes.add.is_empty() {
                lines.push(format!("Add {} to {n}.", changes.add.join(", ")));
            }
            if !changes.remove.is_empty() {
                lines.push(format!("Remove {} from {n}.", changes.remove.join(", ")));
            }
            lines.push("One change, recorded in the history for every key it touches.".into());
            state.modal = Some(Modal::Confirm(Box::new(Confirm {
                title: format!("Change the teams of {n}?"),
                lines,
                pending: Pending::ChangeTeams {
                    ids: p.ids.clone(),
                    changes,
                },
                back: Some(Box::new(Modal::TeamPicker(p))),
            })));
        }
        _ => {}
    }
    let _ = fx;
}

/// The typed team name joins the list, marked to be added.
fn add_new_team(p: &mut TeamPicker) {
    match Name::parse("team", p.new_team.value()) {
        Ok(name) => {
            let name = name.into_string();
            if !p.teams.contains(&name) {
                p.teams.push(name.clone());
            }
            p.cursor = p.teams.iter().position(|t| *t == name).unwrap_or(0);
            p.marks.insert(name, Mark::Add);
            p.new_team.reset();
            p.typing = false;
        }
        Err(e) => p.error = Some(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// First run
// ---------------------------------------------------------------------------------------------

fn setup_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Screen::Setup(s) = &mut state.screen else {
        return;
    };
    match action {
        Action::Quit => state.quit = true,
        Action::NextField | Action::PrevField => s.focus = 1 - s.focus,
        Action::Confirm if s.focus == 0 => s.focus = 1,
        Action::Confirm if !s.busy => {
            let name = s.name.value().trim().to_owned();
            let email = s.email.value().trim().to_owned();
            if name.is_empty() {
                s.error = Some("your name is needed".to_owned());
                s.focus = 0;
            } else if !email.contains('@') {
                s.error = Some("an email address such as ana@example.org is needed".to_owned());
            } else {
                s.busy = true;
                s.error = None;
                fx.push(Effect::CreateStore { name, email });
            }
        }
        _ => {}
    }
}

fn enter_main(state: &mut State, fx: &mut Vec<Effect>) {
    state.screen = Screen::Main;
    // The keys first: the first frame waits for nothing else. Team counts and
    // saved filters load when their tab (or the team picker) opens.
    reload_keys(state, fx);
    fx.push(Effect::LoadHistoryColumns);
    // What earlier sessions left undelivered goes out now, in the background.
    fx.push(Effect::LoadOutbox);
    fx.push(Effect::Deliver);
}

/// A change that queued notifications: deliver them in the background and
/// count what waits.
fn deliver_after_change(fx: &mut Vec<Effect>) {
    fx.push(Effect::LoadOutbox);
    fx.push(Effect::Deliver);
}

fn refusal(e: &Error) -> String {
    match e {
        Error::Permission(m) => format!(
            "{m}\n\nAsk an admin of this store to add you; until then keyward cannot show it."
        ),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Mouse
// ---------------------------------------------------------------------------------------------

fn on_mouse(state: &mut State, ev: MouseEvent, fx: &mut Vec<Effect>) {
    if !matches!(state.screen, Screen::Main) || state.modal.is_some() || state.help {
        return;
    }
    match ev.kind {
        MouseEventKind::ScrollDown => move_cursor(state, WHEEL_ROWS as isize, fx),
        MouseEventKind::ScrollUp => move_cursor(state, -(WHEEL_ROWS as isize), fx),
        MouseEventKind::Down(MouseButton::Left) => {
            let f = layout::frame(state.width, state.height);
            if ev.row == f.tabs.y {
                if let Some((tab, _, _)) = layout::tab_spans()
                    .into_iter()
                    .find(|(_, from, to)| (*from..*to).contains(&ev.column))
                {
                    go_tab(state, tab, fx);
                }
                return;
            }
            let b = layout::body(state.tab, f.body, state.keys.detail.is_some());
            // A border, then a header row, except on the filter list (no header).
            let first_row = b.table.y + if state.tab == Tab::Filters { 1 } else { 2 };
            let inside = (b.table.x..b.table.x + b.table.width).contains(&ev.column)
                && ev.row >= first_row
                && ev.row < b.table.y + b.table.height.saturating_sub(1);
            if !inside {
                return;
            }
            let row = usize::from(ev.row - first_row);
            match state.tab {
                Tab::Keys | Tab::Teams => {
                    let at = state.keys.offset + row;
                    if at < state.keys.refs.len() {
                        let by = at as isize - state.keys.cursor as isize;
                        move_cursor(state, by, fx);
                    }
                }
                Tab::History => {
                    let at = state.history.offset + row;
                    if at < state.history.rows.len() {
                        let by = at as isize - state.history.cursor as isize;
                        move_cursor(state, by, fx);
                    }
                }
                Tab::Filters => {
                    if row < filter_count(state) {
                        state.filters.cursor = row;
                    }
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Status line
// ---------------------------------------------------------------------------------------------

fn set_status(state: &mut State, fx: &mut Vec<Effect>, text: String, error: bool) {
    let id = state.next_id;
    state.next_id += 1;
    state.status = Some(Status { text, error, id });
    fx.push(Effect::SetTimer {
        after: state.settings.status_for,
        timer: Timer::ExpireStatus(id),
    });
}

fn say(state: &mut State, fx: &mut Vec<Effect>, text: String) {
    set_status(state, fx, text, false);
}

fn warn(state: &mut State, fx: &mut Vec<Effect>, text: String) {
    set_status(state, fx, text, true);
}

fn fail(state: &mut State, fx: &mut Vec<Effect>, e: &Error) {
    warn(state, fx, e.to_string());
}
