//! What the `update` tests of every feature share: builders of operators,
//! keys, teams and states with fixed times, key presses and mouse events, and
//! readers of the state and the effects. No terminal, no store, no worker.

pub(crate) use crate::clipboard::Via;
pub(crate) use crate::tui::filters::name_prompt::{self, NamePrompt, NamePurpose};
pub(crate) use crate::tui::filters::{Listed, READY_MADE, filter_at};
pub(crate) use crate::tui::first_run::{
    NOT_OPERATOR_LAYER, OFFER_DEMO_LAYER, SETUP_LAYER, Setup, SetupField,
};
pub(crate) use crate::tui::history::columns;
pub(crate) use crate::tui::history::export::{self, ExportPrompt};
pub(crate) use crate::tui::history::{self, HISTORY_PAGE, row};
pub(crate) use crate::tui::key_form::{self, Field, FormChoices, FormKind, KeyForm, suggestions};
pub(crate) use crate::tui::keys::keymap::KEYS_LAYER;
pub(crate) use crate::tui::kit::{help, layout, query_line};
pub(crate) use crate::tui::router::{Modal, layer, layer_under_help, update};
pub(crate) use crate::tui::state::*;
pub(crate) use crate::tui::windows::confirm::{self, Confirm, DEACTIVATION_WARNINGS, Pending};
pub(crate) use crate::tui::windows::new_secret::{self, NewSecret};
pub(crate) use crate::tui::windows::renew::{self, RenewField, RenewForm};
pub(crate) use crate::tui::windows::team_picker::{self, Mark, TeamPicker};
pub(crate) use keyward_core::domain::history::{HistoryPage, HistoryRecord, HistoryRow, Origin};
pub(crate) use keyward_core::domain::model::{
    Cloud, Developer, Instance, Key, KeyCount, KeyPage, KeyPageFrom, KeyRef, KeyStatus, Operator,
    Role, SavedFilter, Team,
};
pub(crate) use keyward_core::domain::query::{HistoryQuery, KeyQuery};
pub(crate) use keyward_core::domain::{KeyToken, PublicId};
pub(crate) use keyward_core::error::Error;
pub(crate) use keyward_core::export::{Column, ExportFormat};
pub(crate) use keyward_core::service::IssuedKey;
pub(crate) use keyward_core::service::demo::DemoReport;
pub(crate) use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
pub(crate) use std::time::Duration;

/// 2026-05-28, the store's clock in these tests.
pub(crate) const NOW: i64 = 1_780_000_000;
pub(crate) const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

pub(crate) fn operator(role: Role) -> Operator {
    Operator {
        login: "ana".to_owned(),
        name: "Ana Lima".to_owned(),
        email: "ana@example.org".to_owned(),
        role,
        created_at: NOW - 30 * DAY,
    }
}

pub(crate) fn public_id(id: i64) -> String {
    format!("pub{id:05}")
}

/// An active key of the `prod` instance, issued to `ana` over `ci`.
pub(crate) fn key(id: i64, name: &str) -> Key {
    Key {
        id,
        public_id: public_id(id),
        name: name.to_owned(),
        instance_id: 1,
        instance: "prod".to_owned(),
        cloud: Cloud::Salesforce,
        developer_id: 1,
        developer: "ana".to_owned(),
        channel_id: 1,
        channel: "ci".to_owned(),
        teams: Vec::new(),
        status: KeyStatus::Active,
        tail: "Ab12".to_owned(),
        expires_at: Some(NOW + 90 * DAY),
        created_at: NOW - DAY,
        created_by: "ana".to_owned(),
        changed_at: NOW - DAY,
        deactivated_at: None,
        deleted_at: None,
        last_used_at: None,
        use_count: 0,
        grace_until: None,
    }
}

/// Keys `key-001` … with ids 1 … n, in the store's order (by name).
pub(crate) fn keys(n: i64) -> Vec<Key> {
    (1..=n).map(|i| key(i, &format!("key-{i:03}"))).collect()
}

pub(crate) fn refs_of(keys: &[Key]) -> Vec<KeyRef> {
    keys.iter()
        .map(|k| KeyRef {
            id: k.id,
            public_id: k.public_id.clone(),
            name: k.name.clone(),
        })
        .collect()
}

pub(crate) fn team(id: i64, name: &str) -> Team {
    Team {
        id,
        name: name.to_owned(),
        keys: 3,
        created_at: NOW - DAY,
    }
}

pub(crate) fn instance(id: i64, name: &str) -> Instance {
    Instance {
        id,
        name: name.to_owned(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: 2,
        created_at: NOW - DAY,
        active_keys: 0,
        keys: 0,
        retired_at: None,
    }
}

pub(crate) fn developer(id: i64, instance: &str, name: &str) -> Developer {
    Developer {
        id,
        instance: instance.to_owned(),
        name: name.to_owned(),
        active_keys: 0,
        keys: 0,
    }
}

pub(crate) fn choices() -> FormChoices {
    FormChoices {
        instances: vec![instance(1, "prod"), instance(2, "test")],
        developers: vec![
            developer(1, "prod", "ana"),
            developer(2, "prod", "bob"),
            developer(3, "test", "cy"),
        ],
        channels: vec!["ci".to_owned(), "web".to_owned()],
        teams: vec![team(1, "payments"), team(2, "ops")],
    }
}

/// A key with a freshly drawn secret, as create and renew return it.
pub(crate) fn issued(id: i64, name: &str) -> IssuedKey {
    let pid = PublicId::generate();
    let mut k = key(id, name);
    k.public_id = pid.as_str().to_owned();
    IssuedKey {
        token: KeyToken::generate(&pid),
        key: k,
    }
}

pub(crate) fn history_row(seq: i64) -> HistoryRow {
    HistoryRow {
        record: HistoryRecord {
            seq,
            at: NOW - seq,
            action: "created".to_owned(),
            key: Some(public_id(seq)),
            masked: None,
            subject: Some(format!("key-{seq}")),
            operator: Some("Ana Lima".to_owned()),
            email: Some("ana@example.org".to_owned()),
            origin: Origin::default(),
            details: "{}".to_owned(),
        },
        hash: String::new(),
    }
}

/// Rows `from`, `from - 1`, … newest first.
pub(crate) fn history_rows(from: i64, n: u64) -> Vec<HistoryRow> {
    (0..n as i64).map(|i| history_row(from - i)).collect()
}

// ---------------------------------------------------------------------------------------------
// Driving
// ---------------------------------------------------------------------------------------------

pub(crate) fn press(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A printable key, with Shift for capitals as a terminal reports it.
pub(crate) fn ch(c: char) -> Msg {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

pub(crate) fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Types text key by key; returns every effect asked for on the way.
pub(crate) fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(state, ch(c))).collect()
}

/// Ctrl-U: empties the focused line (a tui-input binding).
pub(crate) fn clear_line(state: &mut State) -> Vec<Effect> {
    update(state, ctrl('u'))
}

pub(crate) fn click(column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

pub(crate) fn wheel(kind: MouseEventKind) -> Msg {
    Msg::Mouse(MouseEvent {
        kind,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    })
}

/// A store with these keys, the first page of rows loaded, on the Keys tab.
pub(crate) fn main_with(role: Role, keys: Vec<Key>) -> State {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(role))));
    let generation = s.keys.generation;
    let page = whole_list(&s, generation, Ok(refs_of(&keys)));
    update(&mut s, page);
    update(
        &mut s,
        Msg::KeyRows {
            generation,
            now: NOW,
            result: Ok(keys),
        },
    );
    update(
        &mut s,
        Msg::Teams(Ok(vec![team(1, "payments"), team(2, "ops")])),
    );
    s
}

pub(crate) fn admin_with(n: i64) -> State {
    main_with(Role::Admin, keys(n))
}

pub(crate) fn setup_state() -> State {
    State::new(
        UiSettings::default(),
        "/tmp/k.db".into(),
        Some("ana".into()),
    )
}

// ---------------------------------------------------------------------------------------------
// Looking at the state and the effects
// ---------------------------------------------------------------------------------------------

pub(crate) fn setup(s: &State) -> &Setup {
    match &s.screen {
        Screen::Setup(setup) => setup,
        other => panic!("expected the setup screen, got {other:?}"),
    }
}

pub(crate) fn form(s: &State) -> &KeyForm {
    match &s.modal {
        Some(Modal::Form(f)) => f,
        other => panic!("expected the key form, got {other:?}"),
    }
}

pub(crate) fn confirm(s: &State) -> &Confirm {
    match &s.modal {
        Some(Modal::Confirm(c)) => c,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

pub(crate) fn renew(s: &State) -> &RenewForm {
    match &s.modal {
        Some(Modal::Renew(r)) => r,
        other => panic!("expected the renew modal, got {other:?}"),
    }
}

pub(crate) fn secret(s: &State) -> &NewSecret {
    match &s.modal {
        Some(Modal::NewSecret(n)) => n,
        other => panic!("expected the new-secret modal, got {other:?}"),
    }
}

pub(crate) fn picker(s: &State) -> &TeamPicker {
    match &s.modal {
        Some(Modal::TeamPicker(p)) => p,
        other => panic!("expected the team picker, got {other:?}"),
    }
}

pub(crate) fn name_prompt(s: &State) -> &NamePrompt {
    match &s.modal {
        Some(Modal::NamePrompt(p)) => p,
        other => panic!("expected a name prompt, got {other:?}"),
    }
}

pub(crate) fn export_prompt(s: &State) -> &ExportPrompt {
    match &s.modal {
        Some(Modal::Export(p)) => p,
        other => panic!("expected the export prompt, got {other:?}"),
    }
}

pub(crate) fn status_text(s: &State) -> &str {
    s.status.as_ref().map_or("", |st| st.text.as_str())
}

pub(crate) fn error_status(s: &State) -> bool {
    s.status.as_ref().is_some_and(|st| st.error)
}

/// Nothing but the timers that expire status messages.
pub(crate) fn quiet(fx: &[Effect]) -> bool {
    fx.iter().all(|e| {
        matches!(
            e,
            Effect::SetTimer {
                timer: Timer::ExpireStatus(_),
                ..
            }
        )
    })
}

/// The pages of keys asked for that replace the list (not those that
/// extend it): their generation and filter.
pub(crate) fn key_ref_loads(fx: &[Effect]) -> Vec<(u64, KeyQuery)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadKeyPage {
                generation,
                query,
                from: KeyPageFrom::Top | KeyPageFrom::Bottom | KeyPageFrom::From(_),
                ..
            } => Some((*generation, query.clone())),
            _ => None,
        })
        .collect()
}

/// A filter's whole list of keys, as the store answers the page asked for
/// when the filter lists fewer keys than a page: of the selection, the keys
/// listed are kept.
pub(crate) fn whole_list(s: &State, generation: u64, result: Result<Vec<KeyRef>, Error>) -> Msg {
    let limit = result.as_ref().map_or(1, |refs| refs.len() + 1);
    Msg::KeyPage {
        generation,
        from: KeyPageFrom::Top,
        limit,
        result: result.map(|refs| KeyPage {
            kept: refs
                .iter()
                .map(|r| r.id)
                .filter(|id| s.keys.selected.contains_key(id))
                .collect(),
            refs,
        }),
    }
}

pub(crate) fn row_loads(fx: &[Effect]) -> Vec<Vec<i64>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadKeyRows { ids, .. } => Some(ids.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn history_loads(fx: &[Effect]) -> Vec<(u64, HistoryPage)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadHistory {
                generation,
                page,
                limit,
                ..
            } => {
                assert_eq!(*limit, HISTORY_PAGE);
                Some((*generation, *page))
            }
            _ => None,
        })
        .collect()
}

/// The Keys tab's list and the history columns load at once; team counts (a
/// scan of every key) and saved filters wait for their tab.
pub(crate) fn asks_for_main_loads(fx: &[Effect]) -> bool {
    !key_ref_loads(fx).is_empty()
        && fx.iter().any(|e| matches!(e, Effect::LoadHistoryColumns))
        && !fx.iter().any(|e| matches!(e, Effect::LoadTeams))
}

/// The History tab with a full newest page (sequence 1000 down to 801).
pub(crate) fn history_with_full_page() -> State {
    let mut s = admin_with(1);
    update(&mut s, ch('4'));
    let generation = s.history.generation;
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page: HistoryPage::Newest,
            result: Ok(history_rows(1000, HISTORY_PAGE)),
        },
    );
    s
}

/// The new-key form, opened by a manager, with its choices loaded.
pub(crate) fn new_key_form() -> State {
    let mut s = main_with(Role::Manager, keys(3));
    update(&mut s, ch('n'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    s
}

pub(crate) fn key_with_teams() -> Key {
    let mut k = key(1, "key-001");
    k.teams = vec!["payments".to_owned(), "ops".to_owned()];
    k.expires_at = Some(1_790_000_000); // 2026-09-21
    k
}

/// The new-secret modal of a just-created key, with its full secret.
pub(crate) fn showing_secret() -> (State, String, String) {
    let mut s = new_key_form();
    let k = issued(9, "billing");
    let full = k.token.expose().to_owned();
    let id = k.key.public_id.clone();
    update(&mut s, Msg::KeyCreated(Ok(k)));
    (s, id, full)
}

// ---------------------------------------------------------------------------------------------
// Bulk plans
// ---------------------------------------------------------------------------------------------

pub(crate) use keyward_core::service::{BulkAction, BulkOutcome, BulkPlan, PlannedKey, SkipReason};

/// The plan of the `PlanBulk` in `fx`, from the statuses of the rows the state
/// holds, by the service's own rule (`BulkAction::skips`): what the store
/// answers for keys in those statuses. Every key asked for must be loaded.
pub(crate) fn plan_from_rows(s: &State, fx: &[Effect]) -> Msg {
    let (action, ids) = fx
        .iter()
        .find_map(|e| match e {
            Effect::PlanBulk { action, ids } => Some((*action, ids.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no plan asked for in {fx:?}"));
    let mut plan = BulkPlan {
        action,
        asked: ids.len(),
        apply: Vec::new(),
        skip: Vec::new(),
    };
    for id in ids {
        let k = s
            .keys
            .rows
            .get(&id)
            .unwrap_or_else(|| panic!("key {id} is not loaded"));
        let planned = PlannedKey {
            id: k.id,
            public_id: k.public_id.clone(),
            name: k.name.clone(),
            status: k.status,
        };
        match action.skips(k.status) {
            None => plan.apply.push(planned),
            Some(reason) => plan.skip.push((planned, reason)),
        }
    }
    Msg::BulkPlanned(Ok(plan))
}

/// Presses `c` (`x` or `D`) and hands `update` the plan the store would
/// answer; returns the effects of the answer.
pub(crate) fn press_planned(s: &mut State, c: char) -> Vec<Effect> {
    let fx = update(s, ch(c));
    let plan = plan_from_rows(s, &fx);
    update(s, plan)
}

/// The keys of a bulk action the confirmation's yes applied, if it did.
pub(crate) fn applied(fx: &[Effect]) -> Option<(BulkAction, Vec<String>)> {
    fx.iter().find_map(|e| match e {
        Effect::ApplyBulk { action, ids } => Some((*action, ids.clone())),
        _ => None,
    })
}

/// What the store answers when a bulk action did exactly `done`.
pub(crate) fn applied_msg(action: BulkAction, done: Vec<Key>) -> Msg {
    Msg::BulkApplied {
        action,
        result: Ok(BulkOutcome {
            done,
            skipped: Vec::new(),
        }),
    }
}
