//! `update(&mut State, Msg) -> Vec<Effect>`: the only place the state changes.
//! The router matches the screen, the window or the tab once and hands the
//! feature its own state; what a feature asks of the others comes back as
//! `Ask`s, which the router carries out in order.

mod cx;
#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod tests;

use crate::tui::windows::confirm::Pending;
pub use cx::{Ask, Cx, Window};

use super::directory;
use super::filters;
use super::first_run::{self, Offer};
use super::history;
use super::keys::{self, Change};
use super::kit::keymap::{Action, Layer};
use super::kit::query_line::{self, QueryLine};
use super::kit::status::Status;
use super::kit::{help, layout};
use super::state::{Effect, Msg, Screen, State, Tab, Timer};
use super::windows::new_secret::NewSecret;
use crate::clipboard::Via;
use keyward_core::domain::model::Role;
use keyward_core::error::Error;
use keyward_core::service::IssuedKey;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use tui_input::backend::crossterm::EventHandler;

/// The windows that open over the tabs: each line names a window and its
/// state, which implements `Window`. A new window is its folder and one line here.
macro_rules! windows {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// A window over the tab, taking the keys while it is open.
        #[derive(Debug)]
        pub enum Modal {
            $($variant(Box<$ty>),)*
        }

        impl Modal {
            /// Every layer a window may give keys to.
            pub fn layers() -> Vec<&'static [Layer]> {
                vec![$(<$ty as Window>::layers(),)*]
            }

            fn window(&self) -> &dyn Window {
                match self {
                    $(Modal::$variant(w) => w.as_ref(),)*
                }
            }

            fn window_mut(&mut self) -> &mut dyn Window {
                match self {
                    $(Modal::$variant(w) => w.as_mut(),)*
                }
            }
        }
    };
}

windows! {
    Form(super::key_form::KeyForm),
    Confirm(super::windows::confirm::Confirm),
    Renew(super::windows::renew::RenewForm),
    NewSecret(super::windows::new_secret::NewSecret),
    TeamPicker(super::windows::team_picker::TeamPicker),
    Columns(super::history::columns::ColumnMenu),
    Export(super::history::export::ExportPrompt),
    HistoryRow(super::history::row::RowWindow),
    NamePrompt(super::filters::name_prompt::NamePrompt),
    DirectoryForm(super::directory::form::DirectoryForm),
}

impl Modal {
    pub fn layer(&self) -> Layer {
        self.window().layer()
    }

    pub fn draw(
        &self,
        state: &State,
        theme: &super::kit::theme::Theme,
        frame: &mut ratatui::Frame,
    ) {
        self.window().draw(state, theme, frame)
    }
}

/// Every layer there is, for the keymap tests: the screens', the tabs', the
/// query line's, help's and every window's.
pub fn all_layers() -> Vec<Layer> {
    let mut all = vec![
        first_run::SETUP_LAYER,
        first_run::OFFER_DEMO_LAYER,
        first_run::NOT_OPERATOR_LAYER,
        keys::keymap::KEYS_LAYER,
        keys::keymap::TEAMS_LAYER,
        filters::LAYER,
        history::LAYER,
        directory::keymap::LAYER,
        directory::keymap::TEAMS_LAYER,
        directory::keymap::READ_ONLY_LAYER,
        query_line::LAYER,
        help::LAYER,
    ];
    for layers in Modal::layers() {
        for layer in layers {
            if !all.contains(layer) {
                all.push(*layer);
            }
        }
    }
    all
}

/// Rows a mouse wheel notch moves.
const WHEEL_ROWS: isize = 3;
/// The most keys kept while loading; more is someone leaning on the keyboard.
const TYPE_AHEAD: usize = 64;

/// Runs `f` with a `Cx` of this moment over the given parts of the state, then
/// carries out what it asked of the router.
macro_rules! with_cx {
    ($state:ident, $fx:ident, |$cx:ident| $body:expr) => {{
        let mut asks = Vec::new();
        // Fields, not methods: a feature may hold another field of the state.
        let role = $state.me.as_ref().map_or(Role::Viewer, |m| m.role);
        let result = {
            let mut $cx = Cx {
                fx: &mut *$fx,
                asks: &mut asks,
                now: $state.now,
                role,
                settings: &$state.settings,
                width: $state.width,
                height: $state.height,
            };
            $body
        };
        settle($state, asks, $fx);
        result
    }};
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    let fx = &mut fx;
    match msg {
        Msg::Key(ev) if ev.kind != KeyEventKind::Release => on_key(state, ev, fx),
        Msg::Key(_) => {}
        Msg::Paste(text) => on_paste(state, &text, fx),
        Msg::Mouse(ev) => on_mouse(state, ev, fx),
        // Ended from outside: quit as `q` would, whatever is open (a form's
        // input is lost; the secret's clipboard is cleared on the way out).
        Msg::Signal(signal) => {
            state.ended_by = Some(signal);
            state.quit = true;
        }
        Msg::Resize(w, h) => {
            state.width = w;
            state.height = h;
            with_cx!(state, fx, |cx| keys::ensure_rows(&mut state.keys, &mut cx));
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
        Msg::Copied { public_id, result } => on_copied(state, public_id, result, fx),
        Msg::ClipboardCleared(result) => {
            state.on_clipboard = None;
            match result {
                Ok(true) => say(state, fx, "Cleared the key from the clipboard.".into()),
                Ok(false) => {}
                Err(e) => warn(state, fx, format!("Could not clear the clipboard: {e}")),
            }
        }
        other => on_result(state, other, fx),
    }
    std::mem::take(fx)
}

/// The answers of the store thread, each handed to the feature it is for.
fn on_result(state: &mut State, msg: Msg, fx: &mut Vec<Effect>) {
    match msg {
        Msg::Started(Ok(me)) => {
            state.me = Some(me);
            enter_main(state, fx);
            for ev in std::mem::take(&mut state.typed_ahead) {
                on_key(state, ev, fx);
            }
        }
        Msg::Started(Err(e)) => {
            state.typed_ahead.clear();
            state.screen = Screen::Refused(first_run::refusal(&e, &state.store));
        }
        Msg::StoreCreated(Ok(me)) => {
            state.me = Some(me);
            state.screen = Screen::OfferDemo;
        }
        Msg::StoreCreated(Err(e)) => {
            if let Screen::Setup(s) = &mut state.screen {
                s.refused(&e);
            }
        }
        Msg::DemoLoaded(result) => {
            match result {
                Ok(r) => {
                    let real = std::mem::take(&mut state.store);
                    let demo = state.demo_store.clone().unwrap_or_default();
                    state.store = format!("{demo} (demo)");
                    say(
                        state,
                        fx,
                        format!(
                            "Demo store {demo}: {} sample keys across {} instances and {} teams. Your store {real} stays empty; `keyward` opens it next time, `keyward --db {demo}` the demo.",
                            r.keys, r.instances, r.teams
                        ),
                    )
                }
                Err(e) => fail(state, fx, &e),
            }
            enter_main(state, fx);
        }
        Msg::KeyPage {
            generation,
            from,
            limit,
            result,
        } => with_cx!(state, fx, |cx| {
            keys::on_page(&mut state.keys, generation, from, limit, result, &mut cx)
        }),
        Msg::KeyCount { generation, result } => with_cx!(state, fx, |cx| {
            keys::on_count(&mut state.keys, generation, result, &mut cx)
        }),
        Msg::AllKeyRefs { generation, result } => with_cx!(state, fx, |cx| {
            keys::on_all_refs(&mut state.keys, generation, result, &mut cx)
        }),
        Msg::KeyRows {
            generation,
            now,
            result,
        } => {
            if generation == state.keys.generation {
                state.now = now;
            }
            with_cx!(state, fx, |cx| {
                keys::on_rows(&mut state.keys, generation, result, &mut cx)
            })
        }
        Msg::KeyOpened(Ok(key)) => keys::on_opened(&mut state.keys, key),
        Msg::Reconnecting(why) => {
            warn(
                state,
                fx,
                format!("reconnecting to the store… ({why}); the screen shows what it last read"),
            );
        }
        Msg::Reconnected => {
            say(state, fx, "Reconnected to the store.".to_owned());
            on_result(state, Msg::StoreChanged, fx);
        }
        Msg::StoreChanged => {
            if matches!(state.screen, Screen::Main) {
                reload_screen(state, fx);
                fx.push(Effect::ReloadMe);
                // A key form's lists follow too (a developer added elsewhere
                // is no "new developer"); what was typed stays.
                match &state.modal {
                    Some(Modal::Form(_)) => fx.push(Effect::LoadFormChoices),
                    // The team picker's teams and counts follow too.
                    Some(Modal::TeamPicker(p)) => {
                        fx.push(Effect::LoadTeams);
                        fx.push(Effect::LoadTeamMembership(p.ids.clone()));
                    }
                    _ => {}
                }
                // An open deactivation or deletion is checked again, so it
                // never asks about keys as they were.
                if let Some(Modal::Confirm(c)) = &state.modal {
                    if let Pending::Bulk(plan, _) = &c.pending {
                        fx.push(Effect::PlanBulk {
                            action: plan.action,
                            ids: plan.asked_ids(),
                        });
                    }
                }
            }
        }
        // Another admin changed this login's role: the screen follows at once
        // rather than refusing after a whole form was typed.
        Msg::Me(Ok(me)) => {
            let before = state.me.as_ref().map(|m| m.role);
            if before != Some(me.role) {
                let text = format!(
                    "Your role is now {} (changed in the store by an admin).",
                    me.role
                );
                // A lowered role closes what it may no longer save; a secret
                // on screen stays until copied.
                let lowered = before.is_some_and(|b| me.role < b);
                state.me = Some(me);
                if lowered && !matches!(&state.modal, Some(Modal::NewSecret(_))) {
                    state.modal = None;
                }
                warn(state, fx, text);
            } else {
                state.me = Some(me);
            }
        }
        // Removed as an operator (or the store became unreadable): nothing
        // stays on screen that this login may no longer read.
        Msg::Me(Err(e)) if !refuses_this_login(&e) => {
            // The store could not be asked (a connection lost, a lock held):
            // that says nothing of this login; the screen stays.
            if matches!(state.screen, Screen::Main) {
                fail(state, fx, &e);
            }
        }
        Msg::Me(Err(e)) => {
            if matches!(state.screen, Screen::Main) {
                state.modal = None;
                state.screen = Screen::Refused(first_run::refusal(&e, &state.store));
            }
        }
        // Refused because the keys are not what the screen showed: another
        // process changed them. Say so, and show them as they are now.
        Msg::TeamsChanged(Err(e)) | Msg::KeyOpened(Err(e)) if changed_elsewhere(&e) => {
            warn(
                state,
                fx,
                format!("{e} — changed elsewhere since shown; reloaded."),
            );
            reload_screen(state, fx);
        }
        // A plan that comes back over another window (help aside) is dropped:
        // the admin moved on.
        // The plan's answer ends its "Checking N keys…".
        Msg::BulkPlanned(Ok(plan)) if matches!(&state.modal, Some(Modal::Confirm(c)) if matches!(c.pending, Pending::Bulk(..))) =>
        {
            // Nothing is left to do (another session did it): the question
            // goes, rather than a yes that would act on no key.
            if plan.apply.is_empty() {
                state.modal = None;
                let text = format!(
                    "The store changed while you were asked. {}",
                    keys::nothing_to_do(&plan)
                );
                warn(state, fx, text);
                return;
            }
            let changed = match &mut state.modal {
                Some(Modal::Confirm(c)) => c.replan(plan),
                _ => false,
            };
            if changed {
                warn(
                    state,
                    fx,
                    "The store changed while you were asked: the list now says what holds."
                        .to_owned(),
                );
            }
        }
        Msg::BulkPlanned(_) if state.modal.is_some() => state.status = None,
        Msg::BulkPlanned(result) => {
            state.status = None;
            with_cx!(state, fx, |cx| keys::on_planned(result, &mut cx))
        }
        Msg::BulkApplied { action, result } => {
            with_cx!(state, fx, |cx| keys::on_applied(action, result, &mut cx))
        }
        Msg::TeamsChanged(result) => {
            with_cx!(state, fx, |cx| keys::on_changed(
                Change::TeamsChanged,
                result,
                &mut cx
            ))
        }
        Msg::Teams(Ok(teams)) => {
            // The picker asked for them too: offer teams made since it opened.
            if let Some(Modal::TeamPicker(p)) = &mut state.modal {
                p.offer(&teams);
            }
            state.teams.teams = teams;
        }
        Msg::DeveloperKeys {
            instance,
            name,
            result,
        } => with_cx!(state, fx, |cx| directory::on_developer_keys(
            &state.directory,
            &instance,
            &name,
            result,
            &mut cx
        )),
        Msg::TeamMembership { ids, result } => match result {
            Ok(membership) => {
                if let Some(Modal::TeamPicker(p)) = &mut state.modal {
                    p.know(&ids, membership);
                }
            }
            Err(e) => with_cx!(state, fx, |cx| cx.fail(&e)),
        },
        other => on_form_result(state, other, fx),
    }
}

/// Answers for the key form, renew, the Filters and History tabs and the outbox.
fn on_form_result(state: &mut State, msg: Msg, fx: &mut Vec<Effect>) {
    match msg {
        Msg::FormChoices(Ok(choices)) => {
            if let Some(Modal::Form(form)) = &mut state.modal {
                form.choices = Some(choices);
            }
        }
        Msg::KeyCreated(result) => on_issued(state, result, Issued::Created, fx),
        Msg::KeyRenewed(result) => on_issued(state, result, Issued::Renewed, fx),
        Msg::KeyEdited(Ok(key)) => {
            state.modal = None;
            say(state, fx, format!("Saved {}.", key.name));
            refresh_after_change(state, fx);
        }
        Msg::KeyEdited(Err(e)) => {
            // The form keeps what was typed; the list under it is read again.
            if changed_elsewhere(&e) {
                reload_screen(state, fx);
            }
            refuse_save(state, &e, fx);
        }
        Msg::SavedFilters(Ok(saved)) => filters::on_saved(&mut state.filters, saved),
        Msg::HistoryRows {
            generation,
            page,
            result,
        } => with_cx!(state, fx, |cx| {
            history::on_rows(&mut state.history, generation, page, result, &mut cx)
        }),
        Msg::HistoryColumns(Ok(names)) => history::on_columns(&mut state.history, names),
        Msg::Directory(result) => with_cx!(state, fx, |cx| directory::on_lists(
            &mut state.directory,
            result,
            &mut cx
        )),
        Msg::InstancePreview(result) => directory::on_preview(&mut state.modal, result),
        Msg::DirectoryChanged { change, result } => {
            let modal = &mut state.modal;
            with_cx!(state, fx, |cx| directory::on_changed(
                modal, change, result, &mut cx
            ))
        }
        Msg::PreferenceSaved(Ok(())) | Msg::CopyRecorded(Ok(())) => {}
        Msg::Outbox(Ok(counts)) => state.outbox = counts,
        // The count is a courtesy; a failure to read it is not worth a message.
        Msg::Outbox(Err(_)) => {}
        Msg::DeliveryDone => {
            fx.push(Effect::LoadOutbox);
            let on_screen = state.tab == Tab::History;
            with_cx!(state, fx, |cx| {
                history::on_delivered(&mut state.history, on_screen, &mut cx)
            })
        }
        Msg::Exported(Ok((path, rows))) => {
            if matches!(state.modal, Some(Modal::Export(_))) {
                state.modal = None;
            }
            say(
                state,
                fx,
                format!("Exported {rows} history rows to {}.", path.display()),
            )
        }
        // The prompt stays open and says why, so another name can be typed.
        Msg::Exported(Err(e)) if matches!(state.modal, Some(Modal::Export(_))) => {
            if let Some(Modal::Export(p)) = &mut state.modal {
                p.refused(&e);
            }
        }
        Msg::ExportPath(path) => {
            if let Some(Modal::Export(p)) = &mut state.modal {
                p.propose(path);
            }
        }
        Msg::KeyOpened(Err(e))
        | Msg::FormChoices(Err(e))
        | Msg::Teams(Err(e))
        | Msg::SavedFilters(Err(e))
        | Msg::HistoryColumns(Err(e))
        | Msg::PreferenceSaved(Err(e))
        | Msg::CopyRecorded(Err(e))
        | Msg::Exported(Err(e)) => fail(state, fx, &e),
        // Input and the answers above are routed before this point.
        _ => {}
    }
}

/// Whether the tab on screen shows the store's data in full: its list loaded
/// and every visible row drawn from a loaded record.
pub fn is_full_frame(state: &State) -> bool {
    if !matches!(state.screen, Screen::Main) {
        return false;
    }
    match state.tab {
        Tab::Keys | Tab::Teams => keys::is_full(&state.keys, page_rows(state)),
        Tab::History => history::is_full(&state.history),
        Tab::Filters => true,
        Tab::Directory => state.directory.loaded,
    }
}

/// The layer that takes keys now.
pub fn layer(state: &State) -> Layer {
    if state.help {
        return help::LAYER;
    }
    layer_under_help(state)
}

/// The layer the help overlay explains: what takes keys once help is closed.
pub fn layer_under_help(state: &State) -> Layer {
    match &state.screen {
        Screen::Setup(_) => return first_run::SETUP_LAYER,
        Screen::OfferDemo => return first_run::OFFER_DEMO_LAYER,
        Screen::Refused(_) | Screen::Loading => return first_run::NOT_OPERATOR_LAYER,
        Screen::Main => {}
    }
    if let Some(modal) = &state.modal {
        return modal.layer();
    }
    if query_line(state).is_some_and(|l| l.editing) {
        return query_line::LAYER;
    }
    match state.tab {
        Tab::Keys => keys::keymap::KEYS_LAYER,
        Tab::Filters => filters::LAYER,
        Tab::Teams => keys::keymap::TEAMS_LAYER,
        Tab::History => history::LAYER,
        Tab::Directory => directory::keymap::layer(state.role(), state.directory.section),
    }
}

fn query_line(state: &State) -> Option<&QueryLine> {
    match state.tab {
        Tab::Keys | Tab::Teams => Some(&state.keys.filter),
        Tab::Filters => Some(&state.filters.query),
        Tab::History => Some(&state.history.filter),
        Tab::Directory => None,
    }
}

fn query_line_mut(state: &mut State) -> Option<&mut QueryLine> {
    match state.tab {
        Tab::Keys | Tab::Teams => Some(&mut state.keys.filter),
        Tab::Filters => Some(&mut state.filters.query),
        Tab::History => Some(&mut state.history.filter),
        Tab::Directory => None,
    }
}

fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl_c =
        ev.modifiers.contains(KeyModifiers::CONTROL) && matches!(ev.code, KeyCode::Char('c'));
    // A screen too small to draw shows no window, no confirmation and no line
    // being typed in: keys would act unseen (an `x` then `y` deactivating a
    // key whose confirmation never showed). Only Ctrl-C acts, and leaves —
    // unless a window is open (a secret not yet copied, a form with input),
    // which waits for a screen it can be seen on.
    if layout::too_small(state.width, state.height) {
        if ctrl_c && state.modal.is_none() {
            state.quit = true;
        }
        return;
    }
    // While the store answers (a few milliseconds, or a busy store's wait),
    // keys wait for the main screen; only Ctrl-C leaves at once.
    if matches!(state.screen, Screen::Loading) && !state.help && !ctrl_c {
        if state.typed_ahead.len() < TYPE_AHEAD {
            state.typed_ahead.push(ev);
        }
        return;
    }
    // A terminal sends Esc and a key typed right after it (a fast typist, a
    // slow SSH link) as one Alt-key. keyward binds no Alt-key, so it is the
    // two keys, everywhere: Esc cancels first. Read as the key alone, Esc
    // then `y` confirmed the deactivation Esc was meant to cancel.
    if ev.modifiers.contains(KeyModifiers::ALT) && !ev.modifiers.contains(KeyModifiers::CONTROL) {
        on_key(state, KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), fx);
        on_key(
            state,
            KeyEvent::new(ev.code, ev.modifiers - KeyModifiers::ALT),
            fx,
        );
        return;
    }
    let layer = layer(state);
    match layer.action(&ev) {
        Some(action) => act(state, layer, action, fx),
        None if layer.takes_text => type_text(state, &Event::Key(ev), fx),
        None => {}
    }
}

/// Pasted text is typed, never obeyed as keys: into the line being typed
/// in, or — on a tab with a filter — as its filter, in place of the one
/// there, so a leaked key pasted anywhere on the Keys tab finds it. Anywhere
/// else (a menu, a confirmation, the help) it is dropped: a paste never
/// presses `y` or `q`. One line: its line breaks and tabs become spaces.
/// Into a filter being typed it goes as a word of its own: run into the word
/// before it, a key would be part of that word and find nothing.
fn on_paste(state: &mut State, text: &str, fx: &mut Vec<Effect>) {
    if layout::too_small(state.width, state.height) || matches!(state.screen, Screen::Loading) {
        return;
    }
    let mut under = layer(state);
    let mut text = text.trim().to_owned();
    let filtering = state.modal.is_none() && !state.help && under == query_line::LAYER;
    if let (true, Some(line)) = (filtering, query_line(state)) {
        if line.input.value().ends_with(|c: char| !c.is_whitespace()) {
            text.insert(0, ' ');
        }
    }
    if !under.takes_text {
        let focus = KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE);
        if state.help
            || state.modal.is_some()
            || query_line(state).is_none()
            || under.action(&focus) != Some(Action::FocusFilter)
        {
            return;
        }
        act(state, under, Action::FocusFilter, fx);
        under = layer(state);
        if !under.takes_text {
            return;
        }
        if let Some(line) = query_line_mut(state) {
            line.input = tui_input::Input::default();
        }
    }
    let line = text.replace(['\n', '\r', '\t'], " ");
    for c in line.chars().filter(|c| !c.is_control()) {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        type_text(state, &Event::Key(key), fx);
    }
}

fn act(state: &mut State, layer: Layer, action: Action, fx: &mut Vec<Effect>) {
    // `?` on a tab or a window without a text line: help for what is under it.
    if action == Action::Help {
        state.help = true;
        return;
    }
    if layer == help::LAYER {
        state.help = false;
        return;
    }
    match &mut state.screen {
        Screen::Setup(s) => {
            with_cx!(state, fx, |cx| first_run::setup_act(s, action, &mut cx));
            return;
        }
        Screen::OfferDemo => {
            if with_cx!(state, fx, |cx| first_run::offer_act(action, &mut cx)) == Offer::Declined {
                enter_main(state, fx);
            }
            return;
        }
        Screen::Refused(_) | Screen::Loading => {
            state.quit = true;
            return;
        }
        Screen::Main => {}
    }
    if let Some(modal) = &mut state.modal {
        with_cx!(state, fx, |cx| modal.window_mut().act(action, &mut cx));
    } else if layer == query_line::LAYER {
        line_action(state, action, fx);
    } else {
        tab_action(state, action, fx);
    }
}

/// A key no binding took, typed into the focused text field.
fn type_text(state: &mut State, event: &Event, fx: &mut Vec<Effect>) {
    if let Screen::Setup(s) = &mut state.screen {
        first_run::setup_type(s, event);
        return;
    }
    if let Some(modal) = &mut state.modal {
        modal.window_mut().type_text(event);
        return;
    }
    let tab = state.tab;
    with_cx!(state, fx, |cx| match tab {
        Tab::Keys | Tab::Teams => {
            if state.keys.filter.input.handle_event(event).is_some() {
                keys::query_changed(&mut state.keys, &mut cx);
            }
        }
        Tab::Filters => {
            if state.filters.query.input.handle_event(event).is_some() {
                filters::query_changed(&mut state.filters, &mut cx);
            }
        }
        Tab::History => {
            if state.history.filter.input.handle_event(event).is_some() {
                history::query_changed(&mut state.history, &mut cx);
            }
        }
        // No text line on this tab.
        Tab::Directory => {}
    })
}

fn tab_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let next = match action {
        Action::Quit => {
            state.quit = true;
            return;
        }
        Action::Reload => {
            reload_screen(state, fx);
            say(state, fx, "Reloaded from the store.".into());
            return;
        }
        Action::Close if esc_is_free(state) => {
            state.status = None;
            return;
        }
        Action::NextTab => Tab::ALL[(state.tab.index() + 1) % Tab::ALL.len()],
        Action::PrevTab => Tab::ALL[(state.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
        Action::GoKeys => Tab::Keys,
        Action::GoFilters => Tab::Filters,
        Action::GoTeams => Tab::Teams,
        Action::GoHistory => Tab::History,
        Action::GoDirectory => Tab::Directory,
        _ => {
            let (tab, page) = (state.tab, page_rows(state) as isize);
            with_cx!(state, fx, |cx| match tab {
                Tab::Keys | Tab::Teams =>
                    keys::act(&mut state.keys, &state.teams, tab, action, &mut cx),
                Tab::Filters => filters::act(&mut state.filters, action, page, &mut cx),
                Tab::History => history::act(&mut state.history, action, &mut cx),
                Tab::Directory => directory::act(&mut state.directory, action, &mut cx),
            });
            return;
        }
    };
    // A refusal belongs to the tab it was made on: it does not follow the
    // admin to the next one ("Ready-made filters cannot be deleted" on Keys).
    if state.status.as_ref().is_some_and(|s| s.error) {
        state.status = None;
    }
    go_tab(state, next, fx);
}

fn line_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let tab = state.tab;
    with_cx!(state, fx, |cx| match tab {
        Tab::Keys | Tab::Teams => keys::line_act(&mut state.keys, action, &mut cx),
        Tab::Filters => filters::line_act(&mut state.filters, action, &mut cx),
        Tab::History => history::line_act(&mut state.history, action, &mut cx),
        Tab::Directory => {}
    })
}

fn go_tab(state: &mut State, tab: Tab, fx: &mut Vec<Effect>) {
    state.tab = tab;
    // Other admins work on the same store: a tab shows the store as it is now.
    match tab {
        Tab::Keys => with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx)),
        Tab::Teams => {
            with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx));
            fx.push(Effect::LoadTeams);
        }
        Tab::Filters => fx.push(Effect::LoadSavedFilters),
        Tab::History => with_cx!(state, fx, |cx| history::reload(&mut state.history, &mut cx)),
        Tab::Directory => fx.push(Effect::LoadDirectory),
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

/// Carries out what the features asked, in order.
fn settle(state: &mut State, asks: Vec<Ask>, fx: &mut Vec<Effect>) {
    for ask in asks {
        match ask {
            Ask::Say(text) => say(state, fx, text),
            Ask::Warn(text) => warn(state, fx, text),
            Ask::Open(modal) => state.modal = Some(modal),
            Ask::AskFirst(mut confirm) => {
                confirm.back = state.modal.take().map(Box::new);
                state.modal = Some(Modal::Confirm(Box::new(confirm)));
            }
            Ask::Close => state.modal = None,
            Ask::Quit => state.quit = true,
            Ask::GoTab(tab) => go_tab(state, tab, fx),
            Ask::ApplyKeyFilter(query) => {
                state.tab = Tab::Keys;
                with_cx!(state, fx, |cx| keys::apply_filter(
                    &mut state.keys,
                    query,
                    &mut cx
                ));
            }
            Ask::ShowKeyHistory { public_id, name } => {
                state.tab = Tab::History;
                with_cx!(state, fx, |cx| history::show_key(
                    &mut state.history,
                    &public_id,
                    name,
                    &mut cx
                ));
            }
            Ask::Refresh => refresh_after_change(state, fx),
            Ask::Deliver => deliver_after_change(fx),
            Ask::ClearSelection => state.keys.selected.clear(),
            Ask::ShowColumns(columns) => state.history.columns = columns,
        }
    }
}

/// Whether `Esc` has nothing else to do on the tab (no details to close, no
/// filter to clear), so it clears the status line.
fn esc_is_free(state: &State) -> bool {
    match state.tab {
        Tab::Keys => state.keys.detail.is_none() && state.keys.filter.input.value().is_empty(),
        Tab::Teams => state.keys.filter.input.value().is_empty(),
        Tab::Filters => state.filters.query.input.value().is_empty(),
        Tab::History => state.history.filter.input.value().is_empty(),
        Tab::Directory => true,
    }
}

/// Whether a refusal means the store no longer holds what the screen showed:
/// a key gone, or already in a final status.
fn changed_elsewhere(e: &Error) -> bool {
    matches!(e, Error::Conflict(_) | Error::NotFound(_))
}

/// Another process committed, a refusal showed the screen stale, or Ctrl-R:
/// what the tab shows is read again — the keys (the cursor stays on the same
/// key), the team counts on the Teams tab, the saved filters, the history
/// when its newest rows are in view, and the outbox badge. Open windows keep
/// what is typed in them: they hold their own copies, and the details pane
/// takes the key's fresh row when it comes.
fn reload_screen(state: &mut State, fx: &mut Vec<Effect>) {
    match state.tab {
        Tab::Keys => with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx)),
        Tab::Teams => {
            with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx));
            fx.push(Effect::LoadTeams);
        }
        Tab::Filters => fx.push(Effect::LoadSavedFilters),
        Tab::History => with_cx!(state, fx, |cx| history::on_store_changed(
            &mut state.history,
            &mut cx
        )),
        Tab::Directory => fx.push(Effect::LoadDirectory),
    }
    fx.push(Effect::LoadOutbox);
}

/// After a change: the list, the team counts and the history as they are now.
/// Team counts cost a scan of every key, so only the Teams tab reads them.
fn refresh_after_change(state: &mut State, fx: &mut Vec<Effect>) {
    state.keys.detail = None;
    with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx));
    if state.tab == Tab::Teams {
        fx.push(Effect::LoadTeams);
    }
    if state.history.loaded {
        with_cx!(state, fx, |cx| history::reload(&mut state.history, &mut cx));
    }
    if state.tab == Tab::Directory {
        fx.push(Effect::LoadDirectory);
    }
}

/// A change that queued notifications: deliver them in the background and
/// count what waits.
fn deliver_after_change(fx: &mut Vec<Effect>) {
    fx.push(Effect::LoadOutbox);
    fx.push(Effect::Deliver);
}

fn enter_main(state: &mut State, fx: &mut Vec<Effect>) {
    state.screen = Screen::Main;
    // The keys first: the first frame waits for nothing else. Team counts and
    // saved filters load when their tab (or the team picker) opens.
    with_cx!(state, fx, |cx| keys::reload(&mut state.keys, &mut cx));
    fx.push(Effect::LoadHistoryColumns);
    // What earlier sessions left undelivered goes out now, in the background.
    fx.push(Effect::LoadOutbox);
    fx.push(Effect::Deliver);
}

/// How a new secret came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Issued {
    Created,
    Renewed,
}

fn on_issued(
    state: &mut State,
    result: keyward_core::Result<IssuedKey>,
    how: Issued,
    fx: &mut Vec<Effect>,
) {
    match result {
        Ok(issued) => {
            let verb = match how {
                Issued::Created => "Created",
                Issued::Renewed => "Renewed",
            };
            say(state, fx, format!("{verb} {}.", issued.key.name));
            state.modal = Some(Modal::NewSecret(Box::new(NewSecret {
                key: issued.key,
                token: issued.token,
                renewed: how == Issued::Renewed,
                copied: None,
                copy_error: None,
            })));
            refresh_after_change(state, fx);
            deliver_after_change(fx);
        }
        Err(e) => refuse_save(state, &e, fx),
    }
}

/// A refused save shows in the window that asked for it, keeping what was typed.
fn refuse_save(state: &mut State, e: &Error, fx: &mut Vec<Effect>) {
    match &mut state.modal {
        Some(Modal::Form(form)) => form.refuse(e),
        Some(Modal::Renew(r)) => {
            r.saving = false;
            r.error = Some(e.to_string());
        }
        _ => fail(state, fx, e),
    }
}

fn on_copied(
    state: &mut State,
    public_id: String,
    result: Result<Via, String>,
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
    if let Some(s) = secret {
        s.copied(&result);
    }
    match result {
        Ok(via) => {
            state.on_clipboard = Some(public_id.clone());
            state.copies += 1;
            let secs = state.settings.clipboard_clear.as_secs();
            let text = match via {
                Via::Osc52 => format!(
                    "Sent the key to the terminal (OSC 52); paste to check it arrived. Cleared in {secs} s."
                ),
                _ => format!(
                    "Copied the key to {}; it is cleared in {secs} s.",
                    via.describe()
                ),
            };
            say(state, fx, text);
            fx.push(Effect::RecordCopied { public_id, via });
            fx.push(Effect::SetTimer {
                after: state.settings.clipboard_clear,
                timer: Timer::ClearClipboard(state.copies),
            });
        }
        Err(e) => warn(
            state,
            fx,
            format!("Could not copy ({e}); copy the key from the screen."),
        ),
    }
}

fn on_mouse(state: &mut State, ev: MouseEvent, fx: &mut Vec<Effect>) {
    if !matches!(state.screen, Screen::Main) || state.modal.is_some() || state.help {
        return;
    }
    match ev.kind {
        MouseEventKind::ScrollDown => scroll(state, WHEEL_ROWS, fx),
        MouseEventKind::ScrollUp => scroll(state, -WHEEL_ROWS, fx),
        MouseEventKind::Down(MouseButton::Left) => click(state, ev, fx),
        _ => {}
    }
}

fn scroll(state: &mut State, by: isize, fx: &mut Vec<Effect>) {
    let tab = state.tab;
    with_cx!(state, fx, |cx| match tab {
        Tab::Keys | Tab::Teams => keys::move_cursor(&mut state.keys, by, &mut cx),
        Tab::Filters => filters::move_cursor(&mut state.filters, by),
        Tab::History => history::move_cursor(&mut state.history, by, &mut cx),
        Tab::Directory => directory::move_cursor(&mut state.directory, by),
    })
}

fn click(state: &mut State, ev: MouseEvent, fx: &mut Vec<Effect>) {
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
    let tab = state.tab;
    with_cx!(state, fx, |cx| match tab {
        Tab::Keys | Tab::Teams => keys::click_row(&mut state.keys, row, &mut cx),
        Tab::History => history::click_row(&mut state.history, row, &mut cx),
        Tab::Filters => filters::click_row(&mut state.filters, row),
        // Its sections are reached with the keys; a click does not pick one.
        Tab::Directory => {}
    })
}

fn set_status(state: &mut State, fx: &mut Vec<Effect>, text: String, error: bool) {
    let id = state.next_id;
    state.next_id += 1;
    state.status = Some(Status { text, error, id });
    fx.push(Effect::SetTimer {
        after: state.settings.status_for,
        timer: Timer::ExpireStatus(id),
    });
}

/// Whether a failure to read this login's operator means the login may no
/// longer see the store (removed, or the store closed to it) rather than the
/// store being out of reach for a moment.
fn refuses_this_login(e: &Error) -> bool {
    matches!(
        e,
        Error::Permission(_)
            | Error::NotFound(_)
            | Error::Store {
                cause: keyward_core::error::StoreCause::Denied,
                ..
            }
    )
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
