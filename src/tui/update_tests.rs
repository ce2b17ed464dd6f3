//! `update` driven by hand-made messages: every action and modal path of SPEC §4,
//! with no terminal, no store and no worker. Each test builds a `State`, feeds it
//! key presses, mouse events and the results the worker would send, and checks
//! both what the screen holds and the effects `update` asks for.

use super::keymap::Layer;
use super::layout;
use super::state::*;
use super::update::{
    DEACTIVATION_WARNINGS, HISTORY_PAGE, READY_MADE, filter_at, layer, layer_under_help,
    suggestions, update,
};
use crate::clipboard::Via;
use keyward_core::domain::history::{HistoryPage, HistoryRow};
use keyward_core::domain::history::{HistoryRecord, Origin};
use keyward_core::domain::model::KeyRef;
use keyward_core::domain::model::SavedFilter;
use keyward_core::domain::model::{
    Cloud, Developer, Instance, Key, KeyStatus, Operator, Role, Team,
};
use keyward_core::domain::query::{HistoryQuery, KeyQuery};
use keyward_core::domain::{KeyToken, PublicId};
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportFormat};
use keyward_core::service::IssuedKey;
use keyward_core::service::demo::DemoReport;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use std::time::Duration;

/// 2026-05-28, the store's clock in these tests.
const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

fn operator(role: Role) -> Operator {
    Operator {
        login: "ana".to_owned(),
        name: "Ana Lima".to_owned(),
        email: "ana@example.org".to_owned(),
        role,
        created_at: NOW - 30 * DAY,
    }
}

fn public_id(id: i64) -> String {
    format!("pub{id:05}")
}

/// An active key of the `prod` instance, issued to `ana` over `ci`.
fn key(id: i64, name: &str) -> Key {
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
fn keys(n: i64) -> Vec<Key> {
    (1..=n).map(|i| key(i, &format!("key-{i:03}"))).collect()
}

fn refs_of(keys: &[Key]) -> Vec<KeyRef> {
    keys.iter()
        .map(|k| KeyRef {
            id: k.id,
            public_id: k.public_id.clone(),
            name: k.name.clone(),
        })
        .collect()
}

fn team(id: i64, name: &str) -> Team {
    Team {
        id,
        name: name.to_owned(),
        keys: 3,
        created_at: NOW - DAY,
    }
}

fn instance(id: i64, name: &str) -> Instance {
    Instance {
        id,
        name: name.to_owned(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: 2,
        created_at: NOW - DAY,
        active_keys: 0,
        keys: 0,
    }
}

fn developer(id: i64, instance: &str, name: &str) -> Developer {
    Developer {
        id,
        instance: instance.to_owned(),
        name: name.to_owned(),
        active_keys: 0,
        keys: 0,
    }
}

fn choices() -> FormChoices {
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
fn issued(id: i64, name: &str) -> IssuedKey {
    let pid = PublicId::generate();
    let mut k = key(id, name);
    k.public_id = pid.as_str().to_owned();
    IssuedKey {
        token: KeyToken::generate(&pid),
        key: k,
    }
}

fn history_row(seq: i64) -> HistoryRow {
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
fn history_rows(from: i64, n: u64) -> Vec<HistoryRow> {
    (0..n as i64).map(|i| history_row(from - i)).collect()
}

// ---------------------------------------------------------------------------------------------
// Driving
// ---------------------------------------------------------------------------------------------

fn press(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A printable key, with Shift for capitals as a terminal reports it.
fn ch(c: char) -> Msg {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Types text key by key; returns every effect asked for on the way.
fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(state, ch(c))).collect()
}

/// Ctrl-U: empties the focused line (a tui-input binding).
fn clear_line(state: &mut State) -> Vec<Effect> {
    update(state, ctrl('u'))
}

fn click(column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn wheel(kind: MouseEventKind) -> Msg {
    Msg::Mouse(MouseEvent {
        kind,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    })
}

/// A store with these keys, the first page of rows loaded, on the Keys tab.
fn main_with(role: Role, keys: Vec<Key>) -> State {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(role))));
    let generation = s.keys.generation;
    update(
        &mut s,
        Msg::KeyRefs {
            generation,
            result: Ok(refs_of(&keys)),
        },
    );
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

fn admin_with(n: i64) -> State {
    main_with(Role::Admin, keys(n))
}

fn setup_state() -> State {
    State::new(
        UiSettings::default(),
        "/tmp/k.db".into(),
        Some("ana".into()),
    )
}

// ---------------------------------------------------------------------------------------------
// Looking at the state and the effects
// ---------------------------------------------------------------------------------------------

fn setup(s: &State) -> &Setup {
    match &s.screen {
        Screen::Setup(setup) => setup,
        other => panic!("expected the setup screen, got {other:?}"),
    }
}

fn form(s: &State) -> &KeyForm {
    match &s.modal {
        Some(Modal::Form(f)) => f,
        other => panic!("expected the key form, got {other:?}"),
    }
}

fn confirm(s: &State) -> &Confirm {
    match &s.modal {
        Some(Modal::Confirm(c)) => c,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

fn renew(s: &State) -> &RenewForm {
    match &s.modal {
        Some(Modal::Renew(r)) => r,
        other => panic!("expected the renew modal, got {other:?}"),
    }
}

fn secret(s: &State) -> &NewSecret {
    match &s.modal {
        Some(Modal::NewSecret(n)) => n,
        other => panic!("expected the new-secret modal, got {other:?}"),
    }
}

fn picker(s: &State) -> &TeamPicker {
    match &s.modal {
        Some(Modal::TeamPicker(p)) => p,
        other => panic!("expected the team picker, got {other:?}"),
    }
}

fn name_prompt(s: &State) -> &NamePrompt {
    match &s.modal {
        Some(Modal::NamePrompt(p)) => p,
        other => panic!("expected a name prompt, got {other:?}"),
    }
}

fn export_prompt(s: &State) -> &ExportPrompt {
    match &s.modal {
        Some(Modal::Export(p)) => p,
        other => panic!("expected the export prompt, got {other:?}"),
    }
}

fn status_text(s: &State) -> &str {
    s.status.as_ref().map_or("", |st| st.text.as_str())
}

fn error_status(s: &State) -> bool {
    s.status.as_ref().is_some_and(|st| st.error)
}

/// Nothing but the timers that expire status messages.
fn quiet(fx: &[Effect]) -> bool {
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

fn key_ref_loads(fx: &[Effect]) -> Vec<(u64, KeyQuery)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadKeyRefs { generation, query } => Some((*generation, query.clone())),
            _ => None,
        })
        .collect()
}

fn row_loads(fx: &[Effect]) -> Vec<Vec<i64>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadKeyRows { ids, .. } => Some(ids.clone()),
            _ => None,
        })
        .collect()
}

fn history_loads(fx: &[Effect]) -> Vec<(u64, HistoryPage)> {
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
fn asks_for_main_loads(fx: &[Effect]) -> bool {
    !key_ref_loads(fx).is_empty()
        && fx.iter().any(|e| matches!(e, Effect::LoadHistoryColumns))
        && !fx.iter().any(|e| matches!(e, Effect::LoadTeams))
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

#[test]
fn an_operator_lands_on_the_keys_tab_and_everything_loads() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    assert!(matches!(s.screen, Screen::Loading));
    let fx = update(&mut s, Msg::Started(Ok(operator(Role::Manager))));
    assert!(matches!(s.screen, Screen::Main));
    assert_eq!(s.tab, Tab::Keys);
    assert_eq!(s.role(), Role::Manager);
    assert!(asks_for_main_loads(&fx), "{fx:?}");
    assert_eq!(key_ref_loads(&fx), vec![(1, KeyQuery::default())]);
    assert_eq!(s.keys.generation, 1);
    assert!(s.keys.loading);
    assert_eq!(layer(&s), Layer::Keys);
}

#[test]
fn keys_typed_while_the_store_answers_are_replayed_on_the_main_screen() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    for m in [ch('4'), ch('/'), ch('s'), ch('y'), press(KeyCode::Enter)] {
        assert!(update(&mut s, m).is_empty());
    }
    // Enter and Esc would leave the loading screen; typed ahead they wait too.
    assert!(matches!(s.screen, Screen::Loading));
    assert!(!s.quit);
    let fx = update(&mut s, Msg::Started(Ok(operator(Role::Manager))));
    assert_eq!(s.tab, Tab::History);
    assert_eq!(s.history.filter.input.value(), "sy");
    assert!(!s.history.filter.editing);
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::LoadHistory { query, .. } if query == &HistoryQuery::parse("sy").unwrap()
        )),
        "{fx:?}"
    );
    assert!(s.typed_ahead.is_empty());
}

#[test]
fn ctrl_c_leaves_while_loading_and_a_refusal_drops_what_was_typed() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, ch('q'));
    assert!(!s.quit);
    update(&mut s, ctrl('c'));
    assert!(s.quit);

    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    for _ in 0..100 {
        update(&mut s, ch('j'));
    }
    assert_eq!(s.typed_ahead.len(), 64, "bounded");
    update(
        &mut s,
        Msg::Started(Err(Error::Permission("not an operator".into()))),
    );
    assert!(s.typed_ahead.is_empty());
    assert!(matches!(s.screen, Screen::Refused(_)));
}

#[test]
fn starting_counts_the_outbox_and_delivers_what_earlier_sessions_left() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    let fx = update(&mut s, Msg::Started(Ok(operator(Role::Manager))));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadOutbox)), "{fx:?}");
    assert!(fx.iter().any(|e| matches!(e, Effect::Deliver)), "{fx:?}");
    update(
        &mut s,
        Msg::Outbox(Ok(keyward_core::domain::outbox::OutboxCounts {
            pending: 3,
            failed: 1,
        })),
    );
    assert_eq!(s.outbox.pending, 3);
    assert_eq!(s.outbox.failed, 1);
    // A run that ends asks for the counts again.
    let fx = update(&mut s, Msg::DeliveryDone);
    assert!(matches!(fx.as_slice(), [Effect::LoadOutbox]), "{fx:?}");
    // A failed count read keeps the last counts and says nothing.
    update(&mut s, Msg::Outbox(Err(Error::store("locked"))));
    assert_eq!(s.outbox.pending, 3);
    assert!(s.status.is_none());
}

#[test]
fn changes_that_notify_start_a_delivery_and_others_do_not() {
    let delivers = |fx: &[Effect]| fx.iter().any(|e| matches!(e, Effect::Deliver));
    let mut s = admin_with(3);
    let fx = update(&mut s, Msg::KeyCreated(Ok(issued(9, "new key"))));
    assert!(delivers(&fx), "created: {fx:?}");
    let fx = update(&mut s, Msg::KeysDeactivated(Ok(vec![key(1, "key-001")])));
    assert!(delivers(&fx), "deactivated: {fx:?}");
    let fx = update(&mut s, Msg::KeysDeleted(Ok(vec![key(1, "key-001")])));
    assert!(delivers(&fx), "deleted: {fx:?}");
    let fx = update(&mut s, Msg::TeamsChanged(Ok(vec![key(2, "key-002")])));
    assert!(!delivers(&fx), "teams changed: {fx:?}");
    let fx = update(
        &mut s,
        Msg::KeysDeactivated(Err(Error::conflict("already deactivated"))),
    );
    assert!(!delivers(&fx), "refused: {fx:?}");
}

#[test]
fn a_login_that_is_not_an_operator_is_refused_and_told_who_to_ask() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    let fx = update(
        &mut s,
        Msg::Started(Err(Error::Permission(
            "bob is not an operator of this store".into(),
        ))),
    );
    assert!(fx.is_empty(), "{fx:?}");
    let Screen::Refused(text) = &s.screen else {
        panic!("expected the refusal, got {:?}", s.screen);
    };
    assert!(text.contains("bob is not an operator"), "{text}");
    assert!(text.contains("Ask an admin"), "{text}");
    assert_eq!(layer(&s), Layer::NotOperator);
    assert!(!s.quit);
    update(&mut s, ch('q'));
    assert!(s.quit);
}

#[test]
fn a_store_that_cannot_be_opened_is_refused_with_the_reason() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(
        &mut s,
        Msg::Started(Err(Error::store("the store is locked by another process"))),
    );
    assert!(matches!(&s.screen, Screen::Refused(t) if t.contains("locked")));
}

#[test]
fn key_releases_are_ignored() {
    let mut s = admin_with(3);
    let mut release = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    let fx = update(&mut s, Msg::Key(release));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

// ---------------------------------------------------------------------------------------------
// First run
// ---------------------------------------------------------------------------------------------

#[test]
fn first_run_asks_name_then_email_and_creates_the_store() {
    let mut s = setup_state();
    assert_eq!(layer(&s), Layer::Setup);
    assert_eq!(setup(&s).login, "ana");
    assert!(type_text(&mut s, "Ana Lima").is_empty());
    assert_eq!(setup(&s).name.value(), "Ana Lima");
    assert!(update(&mut s, press(KeyCode::Enter)).is_empty());
    assert_eq!(setup(&s).focus, 1);
    type_text(&mut s, "ana@example.org");
    assert_eq!(setup(&s).email.value(), "ana@example.org");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CreateStore { name, email }]
            if name == "Ana Lima" && email == "ana@example.org"),
        "{fx:?}"
    );
    assert!(setup(&s).busy);
    assert!(setup(&s).error.is_none());
}

#[test]
fn first_run_letters_like_q_are_typed_not_taken_as_quit() {
    let mut s = setup_state();
    type_text(&mut s, "quinn");
    assert!(!s.quit);
    assert_eq!(setup(&s).name.value(), "quinn");
}

#[test]
fn first_run_tab_and_shift_tab_move_between_name_and_email() {
    let mut s = setup_state();
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(setup(&s).focus, 1);
    type_text(&mut s, "x@y");
    assert_eq!(setup(&s).email.value(), "x@y");
    assert_eq!(setup(&s).name.value(), "");
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(setup(&s).focus, 0);
}

#[test]
fn first_run_without_a_name_says_so_and_creates_nothing() {
    let mut s = setup_state();
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ana@example.org");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    let st = setup(&s);
    assert!(st.error.as_deref().is_some_and(|e| e.contains("name")));
    assert_eq!(st.focus, 0, "the cursor goes back to the missing name");
    assert!(!st.busy);
}

#[test]
fn first_run_with_an_email_without_an_at_sign_says_so_and_creates_nothing() {
    let mut s = setup_state();
    type_text(&mut s, "Ana");
    update(&mut s, press(KeyCode::Enter));
    type_text(&mut s, "ana.example.org");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        setup(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("email"))
    );
    assert!(!setup(&s).busy);
    // Typing again clears the error.
    type_text(&mut s, "x");
    assert!(setup(&s).error.is_none());
}

#[test]
fn a_created_store_offers_sample_data_and_yes_loads_it() {
    let mut s = setup_state();
    let fx = update(&mut s, Msg::StoreCreated(Ok(operator(Role::Admin))));
    assert!(fx.is_empty());
    assert!(matches!(s.screen, Screen::OfferDemo));
    assert_eq!(layer(&s), Layer::OfferDemo);
    assert_eq!(s.role(), Role::Admin);
    let fx = update(&mut s, ch('y'));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDemo)), "{fx:?}");
    let report = DemoReport {
        instances: 4,
        developers: 9,
        teams: 5,
        keys: 40,
        active: 30,
        expired: 4,
        deactivated: 4,
        deleted: 2,
        history: 120,
    };
    let fx = update(&mut s, Msg::DemoLoaded(Ok(report)));
    assert!(matches!(s.screen, Screen::Main));
    assert!(asks_for_main_loads(&fx), "{fx:?}");
    assert!(status_text(&s).contains("40 sample keys"), "{:?}", s.status);
}

#[test]
fn declining_sample_data_opens_the_empty_store_and_loads_it() {
    let mut s = setup_state();
    update(&mut s, Msg::StoreCreated(Ok(operator(Role::Admin))));
    let fx = update(&mut s, ch('n'));
    assert!(matches!(s.screen, Screen::Main));
    assert!(asks_for_main_loads(&fx), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::LoadDemo)));
}

#[test]
fn a_failed_store_creation_shows_why_and_keeps_what_was_typed() {
    let mut s = setup_state();
    type_text(&mut s, "Ana");
    update(&mut s, press(KeyCode::Enter));
    type_text(&mut s, "ana@example.org");
    update(&mut s, press(KeyCode::Enter));
    let fx = update(
        &mut s,
        Msg::StoreCreated(Err(Error::store("cannot write /tmp/k.db: read-only"))),
    );
    assert!(fx.is_empty());
    let st = setup(&s);
    assert!(st.error.as_deref().is_some_and(|e| e.contains("read-only")));
    assert!(!st.busy, "the operator may try again");
    assert_eq!(st.name.value(), "Ana");
    assert_eq!(st.email.value(), "ana@example.org");
}

// ---------------------------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------------------------

#[test]
fn tab_and_shift_tab_cycle_the_four_tabs_and_each_loads_what_it_shows() {
    let mut s = admin_with(3);
    let fx = update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Filters);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadSavedFilters)));
    let fx = update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Teams);
    assert!(!key_ref_loads(&fx).is_empty());
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::History);
    let fx = update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Keys);
    assert!(!key_ref_loads(&fx).is_empty());
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(s.tab, Tab::History);
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(s.tab, Tab::Teams);
}

#[test]
fn number_keys_jump_to_their_tab() {
    let mut s = admin_with(3);
    for (c, tab) in [
        ('4', Tab::History),
        ('2', Tab::Filters),
        ('3', Tab::Teams),
        ('1', Tab::Keys),
    ] {
        update(&mut s, ch(c));
        assert_eq!(s.tab, tab, "{c}");
        assert_eq!(layer(&s), layer_under_help(&s));
    }
}

#[test]
fn switching_to_history_loads_the_newest_page() {
    let mut s = admin_with(3);
    assert!(!s.history.loaded);
    let fx = update(&mut s, ch('4'));
    assert_eq!(
        history_loads(&fx),
        vec![(s.history.generation, HistoryPage::Newest)]
    );
    assert!(s.history.loading);
}

#[test]
fn a_stale_key_list_answer_is_ignored() {
    let mut s = admin_with(3);
    let old = s.keys.generation;
    update(&mut s, ch('1'));
    assert_eq!(s.keys.generation, old + 1);
    let fx = update(
        &mut s,
        Msg::KeyRefs {
            generation: old,
            result: Ok(refs_of(&keys(50))),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(
        s.keys.refs.len(),
        3,
        "the stale list did not replace the shown one"
    );
    let mut stale = key(1, "renamed long ago");
    stale.status = KeyStatus::Deactivated;
    update(
        &mut s,
        Msg::KeyRows {
            generation: old,
            now: NOW,
            result: Ok(vec![stale]),
        },
    );
    assert_eq!(s.keys.rows[&1].name, "key-001");
    // The current generation's answer is taken.
    update(
        &mut s,
        Msg::KeyRefs {
            generation: old + 1,
            result: Ok(refs_of(&keys(5))),
        },
    );
    assert_eq!(s.keys.refs.len(), 5);
    assert!(!s.keys.loading);
}

#[test]
fn a_stale_history_page_is_ignored() {
    let mut s = admin_with(1);
    update(&mut s, ch('4'));
    let first = s.history.generation;
    update(&mut s, ch('4'));
    assert_eq!(s.history.generation, first + 1);
    update(
        &mut s,
        Msg::HistoryRows {
            generation: first,
            page: HistoryPage::Newest,
            result: Ok(history_rows(10, 10)),
        },
    );
    assert!(s.history.rows.is_empty());
    assert!(s.history.loading);
    update(
        &mut s,
        Msg::HistoryRows {
            generation: first + 1,
            page: HistoryPage::Newest,
            result: Ok(history_rows(12, 12)),
        },
    );
    assert_eq!(s.history.rows.len(), 12);
    assert!(!s.history.loading);
}

// ---------------------------------------------------------------------------------------------
// Keys list
// ---------------------------------------------------------------------------------------------

#[test]
fn moving_through_the_keys_requests_only_rows_not_yet_loaded_or_asked_for() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(Role::Admin))));
    let g = s.keys.generation;
    let all = keys(100);
    let fx = update(
        &mut s,
        Msg::KeyRefs {
            generation: g,
            result: Ok(refs_of(&all)),
        },
    );
    // 80×24 shows 17 rows; a page above and below the viewport is read ahead.
    let h = layout::visible_rows(Tab::Keys, 80, 24, false) as i64;
    assert_eq!(h, 17);
    assert_eq!(row_loads(&fx), vec![(1..=2 * h).collect::<Vec<_>>()]);

    // j and k inside what is already asked for read nothing.
    let fx = update(&mut s, ch('j'));
    assert_eq!(s.keys.cursor, 1);
    assert!(row_loads(&fx).is_empty());
    let fx = update(&mut s, ch('k'));
    assert_eq!(s.keys.cursor, 0);
    assert!(row_loads(&fx).is_empty());

    // A page down moves the viewport by one row past the asked-for window.
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::PageDown));
    assert_eq!(s.keys.cursor, 18);
    assert_eq!(s.keys.offset, 2);
    assert_eq!(row_loads(&fx), vec![vec![35, 36]]);

    // Rows that arrived are not asked for again.
    update(
        &mut s,
        Msg::KeyRows {
            generation: g,
            now: NOW,
            result: Ok(all[..36].to_vec()),
        },
    );
    let fx = update(&mut s, ch('G'));
    assert_eq!(s.keys.cursor, 99);
    assert_eq!(s.keys.offset, 100 - 17);
    assert_eq!(row_loads(&fx), vec![(67..=100).collect::<Vec<_>>()]);

    let fx = update(&mut s, ch('g'));
    assert_eq!(s.keys.cursor, 0);
    assert_eq!(s.keys.offset, 0);
    assert!(row_loads(&fx).is_empty());

    // The cursor stops at both ends.
    update(&mut s, ch('k'));
    assert_eq!(s.keys.cursor, 0);
    update(&mut s, ch('G'));
    update(&mut s, ch('j'));
    assert_eq!(s.keys.cursor, 99);
}

#[test]
fn space_selects_the_key_and_moves_down_and_space_again_unselects() {
    let mut s = admin_with(5);
    update(&mut s, ch(' '));
    assert_eq!(s.keys.cursor, 1);
    assert_eq!(
        s.keys.selected.get(&1),
        Some(&(public_id(1), "key-001".to_owned()))
    );
    update(&mut s, ch(' '));
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    update(&mut s, ch('k'));
    update(&mut s, ch(' '));
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1],
        "space on a selected key unselects it"
    );
}

#[test]
fn a_selects_every_filtered_key_and_capital_a_selects_none() {
    let mut s = admin_with(7);
    let fx = update(&mut s, ch('a'));
    assert_eq!(s.keys.selected.len(), 7);
    assert!(status_text(&s).contains("7 keys selected"));
    assert!(quiet(&fx));
    update(&mut s, ch('A'));
    assert!(s.keys.selected.is_empty());
}

#[test]
fn enter_opens_the_key_and_its_detail_shows_when_it_arrives() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::OpenKey(id)] if *id == public_id(2)),
        "{fx:?}"
    );
    assert!(s.keys.detail.is_none());
    let mut opened = key(2, "key-002");
    opened.use_count = 7;
    update(&mut s, Msg::KeyOpened(Ok(opened)));
    assert_eq!(s.keys.detail.as_ref().map(|k| k.id), Some(2));
    assert_eq!(s.keys.rows[&2].use_count, 7, "the row shows what was read");
    // Moving away closes it.
    update(&mut s, ch('j'));
    assert!(s.keys.detail.is_none());
}

#[test]
fn a_detail_for_a_key_no_longer_under_the_cursor_is_not_shown() {
    let mut s = admin_with(3);
    update(&mut s, press(KeyCode::Enter));
    update(&mut s, ch('j'));
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    assert!(s.keys.detail.is_none());
}

#[test]
fn esc_closes_the_detail_first_then_clears_the_filter() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "key");
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(layer(&s), Layer::Keys);
    assert_eq!(s.keys.filter.applied, "key");
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    assert!(s.keys.detail.is_some());

    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(s.keys.detail.is_none());
    assert_eq!(s.keys.filter.input.value(), "key");
    assert!(fx.is_empty());

    let fx = update(&mut s, press(KeyCode::Esc));
    assert_eq!(s.keys.filter.input.value(), "");
    assert_eq!(s.keys.filter.applied, "");
    assert_eq!(
        key_ref_loads(&fx),
        vec![(s.keys.generation, KeyQuery::default())]
    );
}

// ---------------------------------------------------------------------------------------------
// Filter line
// ---------------------------------------------------------------------------------------------

#[test]
fn typing_a_valid_filter_reloads_the_keys_with_a_new_generation() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    assert_eq!(layer(&s), Layer::FilterLine);
    let before = s.keys.generation;
    type_text(&mut s, "status:activ");
    let fx = update(&mut s, ch('e'));
    let loads = key_ref_loads(&fx);
    assert_eq!(loads.len(), 1, "{fx:?}");
    let (generation, query) = &loads[0];
    assert!(*generation > before);
    assert_eq!(*generation, s.keys.generation);
    assert_eq!(*query, KeyQuery::parse("status:active").unwrap());
    assert_eq!(s.keys.filter.applied, "status:active");
    assert!(s.keys.filter.error.is_none());
    assert!(s.keys.loading);
}

#[test]
fn letters_typed_into_the_filter_line_are_text_not_commands() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "qnxD");
    assert!(!s.quit);
    assert!(s.modal.is_none());
    assert_eq!(s.keys.filter.input.value(), "qnxD");
}

#[test]
fn an_invalid_filter_says_at_which_column_and_loads_nothing() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "status:sleepin");
    let generation = s.keys.generation;
    let fx = update(&mut s, ch('g'));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.keys.generation, generation);
    let error = s.keys.filter.error.as_deref().unwrap_or_default();
    assert!(error.contains("column"), "{error}");
    assert_ne!(s.keys.filter.applied, "status:sleeping");
    // Enter leaves the line but applies nothing.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(!s.keys.filter.editing);
}

#[test]
fn esc_on_the_filter_line_clears_it_and_shows_every_key_again() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "status:sleeping");
    assert!(s.keys.filter.error.is_some());
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(!s.keys.filter.editing);
    assert_eq!(s.keys.filter.input.value(), "");
    assert!(s.keys.filter.error.is_none());
    assert_eq!(
        key_ref_loads(&fx),
        vec![(s.keys.generation, KeyQuery::default())]
    );
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[test]
fn a_viewer_cannot_create_edit_renew_deactivate_delete_or_change_teams() {
    let mut s = main_with(Role::Viewer, keys(3));
    for c in ['n', 'e', 'r', 'x', 'D', 't'] {
        s.status = None;
        let fx = update(&mut s, ch(c));
        assert!(s.modal.is_none(), "{c}: {:?}", s.modal);
        assert!(quiet(&fx), "{c}: {fx:?}");
        assert!(error_status(&s), "{c}");
        assert!(status_text(&s).contains("viewer"), "{c}: {:?}", s.status);
    }
    // Looking is allowed.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::OpenKey(_)]));
}

#[test]
fn a_viewer_cannot_change_teams_from_the_teams_tab_either() {
    let mut s = main_with(Role::Viewer, keys(3));
    update(&mut s, ch('3'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

// ---------------------------------------------------------------------------------------------
// New key form
// ---------------------------------------------------------------------------------------------

/// The new-key form, opened by a manager, with its choices loaded.
fn new_key_form() -> State {
    let mut s = main_with(Role::Manager, keys(3));
    update(&mut s, ch('n'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    s
}

/// Fills the new-key form through the suggestions, the way an admin would.
fn fill_new_key_form(s: &mut State) {
    type_text(s, "billing");
    update(s, press(KeyCode::Enter)); // → Instance
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // prod → Developer
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // bob → Channel
    type_text(s, "ci");
    update(s, press(KeyCode::Tab)); // → Teams
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // payments,
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // ops,
    update(s, press(KeyCode::Tab)); // → Expires
}

#[test]
fn n_opens_the_new_key_form_and_loads_its_choices() {
    let mut s = main_with(Role::Manager, keys(3));
    let fx = update(&mut s, ch('n'));
    assert!(matches!(fx.as_slice(), [Effect::LoadFormChoices]), "{fx:?}");
    assert_eq!(layer(&s), Layer::Form);
    let f = form(&s);
    assert!(matches!(f.kind, FormKind::Create));
    assert_eq!(f.focus, Field::Name);
    assert_eq!(f.value(Field::Expires), "90d", "the default expiry");
    assert!(f.choices.is_none());
    assert!(!f.is_dirty());
    update(&mut s, Msg::FormChoices(Ok(choices())));
    assert_eq!(
        form(&s).choices.as_ref().map(|c| c.instances.len()),
        Some(2)
    );
}

#[test]
fn with_no_instances_yet_saving_says_so_next_to_instance_and_sends_nothing() {
    let mut s = main_with(Role::Manager, keys(1));
    update(&mut s, ch('n'));
    update(
        &mut s,
        Msg::FormChoices(Ok(FormChoices {
            instances: Vec::new(),
            ..choices()
        })),
    );
    type_text(&mut s, "billing");
    let fx = update(&mut s, ctrl('s'));
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    let error = f.errors[Field::Instance.index()]
        .as_deref()
        .unwrap_or_default();
    assert!(error.contains("no instances yet"), "{error}");
    assert!(!f.saving);
}

#[test]
fn tab_and_shift_tab_move_through_the_form_fields_and_wrap() {
    let mut s = new_key_form();
    for want in [
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
        Field::Expires,
        Field::Name,
    ] {
        update(&mut s, press(KeyCode::Tab));
        assert_eq!(form(&s).focus, want);
    }
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(form(&s).focus, Field::Expires);
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(form(&s).focus, Field::Teams);
}

#[test]
fn down_and_enter_pick_an_instance_then_only_its_developers_are_offered() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(
        form(&s).focus,
        Field::Instance,
        "Enter moves to the next field"
    );
    assert_eq!(suggestions(form(&s)), vec!["prod", "test"]);
    update(&mut s, press(KeyCode::Down));
    assert_eq!(form(&s).choice, Some(0));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Instance), "prod");
    assert_eq!(form(&s).focus, Field::Developer);
    assert_eq!(suggestions(form(&s)), vec!["ana", "bob"], "not cy of test");
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Down));
    assert_eq!(form(&s).choice, Some(1), "the choice stops at the last one");
    update(&mut s, press(KeyCode::Up));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Developer), "bob");
    assert_eq!(form(&s).focus, Field::Channel);
}

#[test]
fn typing_narrows_the_suggestions() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "te");
    assert_eq!(suggestions(form(&s)), vec!["test"]);
}

#[test]
fn picking_a_team_appends_it_with_a_comma_and_offers_the_rest() {
    let mut s = new_key_form();
    for _ in 0..4 {
        update(&mut s, press(KeyCode::Tab));
    }
    assert_eq!(form(&s).focus, Field::Teams);
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Teams), "payments, ");
    assert_eq!(form(&s).focus, Field::Teams, "more teams may follow");
    assert_eq!(suggestions(form(&s)), vec!["ops"]);
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Teams), "payments, ops, ");
}

#[test]
fn an_invalid_expiry_is_shown_next_to_expires_and_nothing_is_saved() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    assert_eq!(form(&s).focus, Field::Expires);
    clear_line(&mut s);
    type_text(&mut s, "soon");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(f.errors[Field::Expires.index()].is_some());
    for field in [
        Field::Name,
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
    ] {
        assert!(f.errors[field.index()].is_none(), "{field:?}");
    }
    assert!(!f.saving);
    // An expiry in the past is refused too.
    clear_line(&mut s);
    type_text(&mut s, "2020-01-01");
    assert!(update(&mut s, ctrl('s')).is_empty());
    assert!(form(&s).errors[Field::Expires.index()].is_some());
}

#[test]
fn a_valid_form_asks_to_create_the_key_with_what_was_typed() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Effect::CreateKey(req)] = fx.as_slice() else {
        panic!("expected CreateKey, got {fx:?}");
    };
    assert_eq!(req.name, "billing");
    assert_eq!(req.instance, "prod");
    assert_eq!(req.developer, "bob");
    assert_eq!(req.channel, "ci");
    assert_eq!(req.teams, vec!["payments", "ops"]);
    assert_eq!(req.expires.as_deref(), Some("90d"));
    assert!(form(&s).saving);
    // A second Enter while saving sends nothing more, and Esc does not close.
    assert!(update(&mut s, ctrl('s')).is_empty());
    update(&mut s, press(KeyCode::Esc));
    assert!(matches!(s.modal, Some(Modal::Form(_))));
}

#[test]
fn an_instance_typed_in_another_case_is_saved_under_its_own_name() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "PROD");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ana");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ci");
    let fx = update(&mut s, ctrl('s'));
    assert!(
        matches!(fx.as_slice(), [Effect::CreateKey(r)] if r.instance == "prod" && r.teams.is_empty()),
        "{fx:?}"
    );
}

#[test]
fn an_unknown_instance_is_refused_next_to_instance() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "staging");
    let fx = update(&mut s, ctrl('s'));
    assert!(fx.is_empty());
    let f = form(&s);
    assert!(f.errors[Field::Instance.index()].is_some());
    assert!(
        f.errors[Field::Developer.index()].is_some(),
        "empty developer"
    );
}

#[test]
fn a_refused_create_keeps_the_form_and_its_input() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    update(&mut s, press(KeyCode::Enter));
    let fx = update(
        &mut s,
        Msg::KeyCreated(Err(Error::conflict(
            "prod/bob/ci already has 2 active keys",
        ))),
    );
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(
        f.refused
            .as_deref()
            .is_some_and(|r| r.contains("2 active keys"))
    );
    assert!(!f.saving);
    assert_eq!(f.value(Field::Name), "billing");
    assert_eq!(f.value(Field::Developer), "bob");
    assert_eq!(f.value(Field::Teams), "payments, ops, ");
    // Typing again clears the refusal.
    update(&mut s, press(KeyCode::BackTab));
    type_text(&mut s, "x");
    assert!(form(&s).refused.is_none());
}

#[test]
fn a_created_key_shows_its_secret_once_and_reloads_the_list() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    update(&mut s, press(KeyCode::Enter));
    let issued = issued(9, "billing");
    let full = issued.token.expose().to_owned();
    let generation = s.keys.generation;
    let fx = update(&mut s, Msg::KeyCreated(Ok(issued)));
    let n = secret(&s);
    assert!(!n.renewed);
    assert!(n.copied.is_none());
    assert_eq!(n.token.expose(), full);
    assert_eq!(layer(&s), Layer::NewSecret);
    assert!(status_text(&s).contains("Created billing"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
    assert!(s.keys.generation > generation);
}

#[test]
fn esc_on_a_form_with_input_asks_first_and_no_returns_to_the_same_form() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(matches!(c.pending, Pending::Discard));
    assert!(c.title.contains("Discard"));
    update(&mut s, ch('n'));
    let f = form(&s);
    assert_eq!(f.value(Field::Name), "billing");
    assert_eq!(f.focus, Field::Instance);
    assert!(f.choices.is_some(), "the loaded choices stay");
    update(&mut s, press(KeyCode::Esc));
    let fx = update(&mut s, ch('y'));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(s.modal.is_none());
    assert!(!s.quit);
}

#[test]
fn esc_on_an_untouched_form_closes_it_at_once() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn ctrl_c_on_a_form_with_input_asks_before_quitting() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, ctrl('c'));
    assert!(!s.quit);
    assert!(matches!(confirm(&s).pending, Pending::Quit));
    update(&mut s, ch('n'));
    assert_eq!(form(&s).value(Field::Name), "billing");
    update(&mut s, ctrl('c'));
    update(&mut s, ch('y'));
    assert!(s.quit);
}

#[test]
fn ctrl_c_on_an_untouched_form_quits_at_once() {
    let mut s = new_key_form();
    update(&mut s, ctrl('c'));
    assert!(s.quit);
}

// ---------------------------------------------------------------------------------------------
// Edit form
// ---------------------------------------------------------------------------------------------

fn key_with_teams() -> Key {
    let mut k = key(1, "key-001");
    k.teams = vec!["payments".to_owned(), "ops".to_owned()];
    k.expires_at = Some(1_790_000_000); // 2026-09-21
    k
}

#[test]
fn e_opens_the_form_filled_from_the_key() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    let fx = update(&mut s, ch('e'));
    assert!(matches!(fx.as_slice(), [Effect::LoadFormChoices]));
    let f = form(&s);
    assert!(matches!(&f.kind, FormKind::Edit(k) if k.public_id == public_id(1)));
    assert_eq!(f.value(Field::Name), "key-001");
    assert_eq!(f.value(Field::Instance), "prod");
    assert_eq!(f.value(Field::Developer), "ana");
    assert_eq!(f.value(Field::Channel), "ci");
    assert_eq!(f.value(Field::Teams), "payments, ops");
    assert_eq!(f.value(Field::Expires), "2026-09-21");
    assert!(!f.is_dirty());
}

#[test]
fn the_instance_of_a_key_cannot_be_changed_in_the_edit_form() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(form(&s).focus, Field::Instance);
    type_text(&mut s, "test");
    update(&mut s, press(KeyCode::Backspace));
    clear_line(&mut s);
    assert_eq!(form(&s).value(Field::Instance), "prod");
    assert!(suggestions(form(&s)).is_empty());
    assert!(!form(&s).is_dirty());
}

#[test]
fn changing_only_the_name_edits_only_the_name() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    type_text(&mut s, "-v2");
    let fx = update(&mut s, ctrl('s'));
    let [
        Effect::EditKey {
            public_id: id,
            edit,
            teams,
        },
    ] = fx.as_slice()
    else {
        panic!("expected EditKey, got {fx:?}");
    };
    assert_eq!(*id, public_id(1));
    assert_eq!(edit.name.as_deref(), Some("key-001-v2"));
    assert!(edit.developer.is_none());
    assert!(edit.channel.is_none());
    assert!(edit.expires.is_none());
    assert!(teams.add.is_empty() && teams.remove.is_empty());
}

#[test]
fn changing_the_teams_adds_and_removes_only_the_difference() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    for _ in 0..4 {
        update(&mut s, press(KeyCode::Tab));
    }
    clear_line(&mut s);
    type_text(&mut s, "ops, web");
    let fx = update(&mut s, ctrl('s'));
    let [Effect::EditKey { edit, teams, .. }] = fx.as_slice() else {
        panic!("expected EditKey, got {fx:?}");
    };
    assert!(edit.name.is_none());
    assert_eq!(teams.add, vec!["web"]);
    assert_eq!(teams.remove, vec!["payments"]);
}

#[test]
fn a_saved_edit_closes_the_form_and_a_refused_one_keeps_it() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    type_text(&mut s, "-v2");
    update(&mut s, ctrl('s'));
    update(
        &mut s,
        Msg::KeyEdited(Err(Error::conflict("the name is taken"))),
    );
    assert!(
        form(&s)
            .refused
            .as_deref()
            .is_some_and(|r| r.contains("taken"))
    );
    assert_eq!(form(&s).value(Field::Name), "key-001-v2");
    update(&mut s, ctrl('s'));
    let fx = update(&mut s, Msg::KeyEdited(Ok(key(1, "key-001-v2"))));
    assert!(s.modal.is_none());
    assert!(status_text(&s).contains("Saved key-001-v2"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn a_deleted_key_cannot_be_edited() {
    let mut k = key(1, "gone");
    k.status = KeyStatus::Deleted;
    let mut s = main_with(Role::Manager, vec![k]);
    let fx = update(&mut s, ch('e'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

// ---------------------------------------------------------------------------------------------
// Renew
// ---------------------------------------------------------------------------------------------

#[test]
fn r_opens_renew_for_the_key_with_the_default_expiry() {
    let mut s = admin_with(2);
    let fx = update(&mut s, ch('r'));
    assert!(fx.is_empty());
    let r = renew(&s);
    assert_eq!(r.key.public_id, public_id(1));
    assert_eq!(r.key.name, "key-001");
    assert_eq!(r.grace.value(), "");
    assert_eq!(r.expires.value(), "90d");
    assert_eq!(r.focus, 0);
    assert_eq!(layer(&s), Layer::Renew);
}

#[test]
fn a_bad_grace_period_is_refused_and_nothing_is_sent() {
    let mut s = admin_with(2);
    update(&mut s, ch('r'));
    type_text(&mut s, "5x");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(renew(&s).error.is_some());
    assert!(!renew(&s).saving);
}

#[test]
fn renewing_asks_for_a_new_secret_with_the_grace_and_the_expiry() {
    let mut s = admin_with(2);
    update(&mut s, ch('r'));
    type_text(&mut s, "2d");
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(renew(&s).focus, 1);
    clear_line(&mut s);
    type_text(&mut s, "30d");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::RenewKey { public_id: id, grace, expires }]
            if *id == public_id(1)
                && grace.as_deref() == Some("2d")
                && expires.as_deref() == Some("30d")),
        "{fx:?}"
    );
    assert!(renew(&s).saving);
    let fx = update(&mut s, Msg::KeyRenewed(Ok(issued(1, "key-001"))));
    assert!(secret(&s).renewed);
    assert!(status_text(&s).contains("Renewed key-001"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn renewing_without_grace_or_expiry_sends_neither() {
    let mut s = admin_with(1);
    update(&mut s, ch('r'));
    update(&mut s, press(KeyCode::Tab));
    clear_line(&mut s);
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::RenewKey {
                grace: None,
                expires: None,
                ..
            }]
        ),
        "{fx:?}"
    );
}

#[test]
fn a_refused_renewal_shows_why_in_the_renew_modal() {
    let mut s = admin_with(1);
    update(&mut s, ch('r'));
    update(&mut s, press(KeyCode::Enter));
    update(
        &mut s,
        Msg::KeyRenewed(Err(Error::conflict("the key was deactivated meanwhile"))),
    );
    let r = renew(&s);
    assert!(!r.saving);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("meanwhile")));
}

#[test]
fn a_deactivated_key_cannot_be_renewed() {
    let mut k = key(1, "old");
    k.status = KeyStatus::Deactivated;
    let mut s = main_with(Role::Admin, vec![k]);
    let fx = update(&mut s, ch('r'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
    assert!(
        status_text(&s).contains("deactivated key cannot be renewed"),
        "{:?}",
        s.status
    );
}

// ---------------------------------------------------------------------------------------------
// Deactivate and delete
// ---------------------------------------------------------------------------------------------

#[test]
fn deactivating_asks_first_and_names_the_key_with_the_three_warnings() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ch('x'));
    assert!(fx.is_empty());
    assert_eq!(layer(&s), Layer::Confirm);
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 1 key?");
    let text = c.lines.join("\n");
    assert!(text.contains("key-002"), "{text}");
    assert!(text.contains(&public_id(2)), "{text}");
    for w in DEACTIVATION_WARNINGS {
        assert!(text.contains(w), "missing {w:?} in {text}");
    }
}

#[test]
fn no_on_the_deactivation_leaves_the_key_and_sends_nothing() {
    let mut s = admin_with(3);
    update(&mut s, ch('x'));
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
    update(&mut s, ch('x'));
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn yes_deactivates_exactly_the_key_named() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    update(&mut s, ch('x'));
    let fx = update(&mut s, ch('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Deactivate(ids)] if *ids == vec![public_id(2)]),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn deactivating_a_selection_targets_every_selected_key_not_the_cursor() {
    let mut s = admin_with(6);
    update(&mut s, ch(' '));
    update(&mut s, ch('j'));
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    assert_eq!(s.keys.cursor, 4);
    update(&mut s, ch('x'));
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 3 keys?");
    assert!(!c.lines.join("\n").contains("key-005"));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::Deactivate(ids)]
            if *ids == vec![public_id(1), public_id(3), public_id(4)]),
        "{fx:?}"
    );
}

#[test]
fn more_than_five_keys_are_summed_up_as_and_n_more() {
    let mut s = admin_with(8);
    update(&mut s, ch('a'));
    update(&mut s, ch('x'));
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 8 keys?");
    let text = c.lines.join("\n");
    for i in 1..=5 {
        assert!(text.contains(&format!("key-{i:03}")), "{text}");
    }
    assert!(!text.contains("key-006"), "{text}");
    assert!(text.contains("… and 3 more"), "{text}");
}

#[test]
fn a_finished_deactivation_says_so_clears_the_selection_and_reloads() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    update(&mut s, ch('x'));
    update(&mut s, ch('y'));
    let fx = update(
        &mut s,
        Msg::KeysDeactivated(Ok(vec![key(1, "key-001"), key(2, "key-002")])),
    );
    assert!(status_text(&s).contains("Deactivated 2 keys"));
    assert!(!error_status(&s));
    assert!(s.keys.selected.is_empty());
    assert_eq!(key_ref_loads(&fx).len(), 1);
    // Team counts are read again only where they show.
    assert!(!fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
    update(&mut s, ch('3'));
    let fx = update(&mut s, Msg::KeysDeactivated(Ok(vec![key(1, "key-001")])));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
}

#[test]
fn a_failed_deactivation_says_why_and_keeps_the_selection() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    update(&mut s, ch('x'));
    update(&mut s, ch('y'));
    let fx = update(
        &mut s,
        Msg::KeysDeactivated(Err(Error::store("the store is locked"))),
    );
    assert!(error_status(&s));
    assert_eq!(s.keys.selected.len(), 1);
    assert!(quiet(&fx));
}

#[test]
fn deleting_asks_first_and_yes_deletes() {
    let mut s = admin_with(3);
    let fx = update(&mut s, ch('D'));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert_eq!(c.title, "Delete 1 key?");
    let text = c.lines.join("\n");
    assert!(text.contains("key-001"));
    assert!(text.contains("history stays"), "{text}");
    assert!(
        text.contains(DEACTIVATION_WARNINGS[0]),
        "an active key is deactivated first: {text}"
    );
    let fx = update(&mut s, ch('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Delete(ids)] if *ids == vec![public_id(1)]),
        "{fx:?}"
    );
    let fx = update(&mut s, Msg::KeysDeleted(Ok(vec![key(1, "key-001")])));
    assert!(status_text(&s).contains("Deleted key-001"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn deleting_a_deactivated_key_does_not_repeat_the_deactivation_warnings() {
    let mut k = key(1, "old");
    k.status = KeyStatus::Deactivated;
    let mut s = main_with(Role::Admin, vec![k]);
    update(&mut s, ch('D'));
    let text = confirm(&s).lines.join("\n");
    assert!(!text.contains(DEACTIVATION_WARNINGS[0]), "{text}");
}

// ---------------------------------------------------------------------------------------------
// New-secret modal and the clipboard
// ---------------------------------------------------------------------------------------------

/// The new-secret modal of a just-created key, with its full secret.
fn showing_secret() -> (State, String, String) {
    let mut s = new_key_form();
    let k = issued(9, "billing");
    let full = k.token.expose().to_owned();
    let id = k.key.public_id.clone();
    update(&mut s, Msg::KeyCreated(Ok(k)));
    (s, id, full)
}

#[test]
fn c_copies_the_full_secret() {
    let (mut s, id, full) = showing_secret();
    let fx = update(&mut s, ch('c'));
    let [Effect::Copy { public_id, secret }] = fx.as_slice() else {
        panic!("expected Copy, got {fx:?}");
    };
    assert_eq!(*public_id, id);
    assert_eq!(secret.as_str(), full);
}

#[test]
fn a_copy_that_worked_says_which_way_records_it_and_sets_the_clearing_timer() {
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id.clone(),
            result: Ok(Via::Osc52),
        },
    );
    assert_eq!(secret(&s).copied, Some(Via::Osc52));
    assert!(secret(&s).copy_error.is_none());
    assert_eq!(s.on_clipboard.as_deref(), Some(id.as_str()));
    assert!(status_text(&s).contains("OSC 52"), "{:?}", s.status);
    assert!(status_text(&s).contains("30 s"), "{:?}", s.status);
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::RecordCopied { public_id, via: Via::Osc52 }
            if *public_id == id)
        ),
        "{fx:?}"
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                after,
                timer: Timer::ClearClipboard(1)
            } if *after == Duration::from_secs(30)
        )),
        "{fx:?}"
    );
}

#[test]
fn a_copy_that_failed_keeps_the_secret_on_screen_with_the_reason() {
    let (mut s, id, full) = showing_secret();
    update(&mut s, ch('c'));
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Err("no display and not in a terminal that takes OSC 52".into()),
        },
    );
    let n = secret(&s);
    assert!(n.copied.is_none());
    assert!(
        n.copy_error
            .as_deref()
            .is_some_and(|e| e.contains("OSC 52"))
    );
    assert_eq!(n.token.expose(), full);
    assert!(error_status(&s));
    assert!(s.on_clipboard.is_none());
    assert!(quiet(&fx), "no clearing timer, nothing recorded: {fx:?}");
}

#[test]
fn leaving_an_uncopied_secret_asks_first_and_no_returns_to_the_same_secret() {
    let (mut s, id, full) = showing_secret();
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(matches!(c.pending, Pending::LeaveSecret));
    assert!(c.lines.join(" ").contains("not be shown again"));
    update(&mut s, ch('n'));
    let n = secret(&s);
    assert_eq!(n.token.expose(), full);
    assert_eq!(n.key.public_id, id);
    update(&mut s, press(KeyCode::Esc));
    let fx = update(&mut s, ch('y'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn once_copied_esc_closes_the_secret_at_once() {
    let (mut s, id, _) = showing_secret();
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::SystemClipboard),
        },
    );
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn the_clipboard_is_cleared_when_its_timer_fires_if_it_still_holds_the_key() {
    let (mut s, id, _) = showing_secret();
    // Nothing of ours on the clipboard: nothing to clear.
    assert!(update(&mut s, Msg::Timer(Timer::ClearClipboard(0))).is_empty());
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::TmuxBuffer),
        },
    );
    let fx = update(&mut s, Msg::Timer(Timer::ClearClipboard(1)));
    assert!(matches!(fx.as_slice(), [Effect::ClearClipboard]), "{fx:?}");
    update(&mut s, Msg::ClipboardCleared(Ok(true)));
    assert!(s.on_clipboard.is_none());
    assert!(status_text(&s).contains("Cleared"), "{:?}", s.status);
    assert!(update(&mut s, Msg::Timer(Timer::ClearClipboard(1))).is_empty());
}

#[test]
fn a_clipboard_that_no_longer_holds_the_key_is_left_alone_quietly() {
    let (mut s, id, _) = showing_secret();
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::SystemClipboard),
        },
    );
    s.status = None;
    let fx = update(&mut s, Msg::ClipboardCleared(Ok(false)));
    assert!(fx.is_empty());
    assert!(s.status.is_none());
    assert!(s.on_clipboard.is_none());
}

#[test]
fn a_copy_that_lands_after_the_secret_was_left_is_still_recorded_and_cleared() {
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    // The operator presses Esc before the clipboard answered…
    update(&mut s, press(KeyCode::Esc));
    // …and the copy lands while the "leave without copying?" question is up.
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id.clone(),
            result: Ok(Via::SystemClipboard),
        },
    );
    assert_eq!(s.on_clipboard.as_deref(), Some(id.as_str()));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::RecordCopied { .. })),
        "{fx:?}"
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                timer: Timer::ClearClipboard(_),
                ..
            }
        )),
        "{fx:?}"
    );
    // Going back shows it as copied.
    update(&mut s, ch('n'));
    assert_eq!(secret(&s).copied, Some(Via::SystemClipboard));

    // Even with the modal gone, a late copy is still cleared.
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, ch('y'));
    assert!(s.modal.is_none());
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::Osc52),
        },
    );
    assert!(s.on_clipboard.is_some());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: Timer::ClearClipboard(_),
            ..
        }
    )));
}

// ---------------------------------------------------------------------------------------------
// Teams
// ---------------------------------------------------------------------------------------------

#[test]
fn t_opens_the_team_picker_for_the_selection() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    let fx = update(&mut s, ch('t'));
    assert!(matches!(fx.as_slice(), [Effect::LoadTeams]), "{fx:?}");
    let p = picker(&s);
    assert_eq!(p.ids, vec![public_id(1), public_id(2)]);
    assert_eq!(p.teams, vec!["payments", "ops"]);
    assert!(p.marks.is_empty());
    assert_eq!(layer(&s), Layer::TeamPicker);
}

#[test]
fn t_without_a_selection_changes_the_key_under_the_cursor() {
    let mut s = admin_with(4);
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    update(&mut s, ch('t'));
    assert_eq!(picker(&s).ids, vec![public_id(3)]);
}

#[test]
fn enter_on_the_teams_tab_opens_the_picker_too() {
    let mut s = admin_with(4);
    update(&mut s, ch('3'));
    update(&mut s, ch('a'));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(picker(&s).ids.len(), 4);
}

#[test]
fn plus_and_minus_mark_teams_and_the_same_mark_again_unmarks() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('+'));
    assert_eq!(picker(&s).marks.get("payments"), Some(&Mark::Add));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, ch('-'));
    assert_eq!(picker(&s).marks.get("ops"), Some(&Mark::Remove));
    update(&mut s, ch('+'));
    assert_eq!(
        picker(&s).marks.get("ops"),
        Some(&Mark::Add),
        "the other mark replaces it"
    );
    update(&mut s, ch('+'));
    assert_eq!(picker(&s).marks.get("ops"), None);
    update(&mut s, press(KeyCode::Down));
    assert_eq!(picker(&s).cursor, 1, "the cursor stops at the last team");
}

#[test]
fn typing_a_new_team_adds_it_marked_to_add() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    assert_eq!(layer(&s), Layer::FilterLine);
    type_text(&mut s, "platform");
    assert_eq!(picker(&s).new_team.value(), "platform");
    update(&mut s, press(KeyCode::Enter));
    let p = picker(&s);
    assert!(!p.typing);
    assert_eq!(p.teams, vec!["payments", "ops", "platform"]);
    assert_eq!(p.marks.get("platform"), Some(&Mark::Add));
    assert_eq!(p.cursor, 2);
    assert_eq!(layer(&s), Layer::TeamPicker);
}

#[test]
fn an_empty_new_team_name_is_refused() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    update(&mut s, press(KeyCode::Enter));
    let p = picker(&s);
    assert!(p.error.is_some());
    assert!(p.typing);
    assert_eq!(p.teams.len(), 2);
}

#[test]
fn enter_asks_to_confirm_saying_how_many_keys_change_and_yes_changes_them() {
    let mut s = admin_with(3);
    update(&mut s, ch('a'));
    update(&mut s, ch('t'));
    update(&mut s, ch('-')); // payments
    update(&mut s, ch('/'));
    type_text(&mut s, "platform");
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert_eq!(c.title, "Change the teams of 3 keys?");
    let text = c.lines.join("\n");
    assert!(text.contains("Add platform to 3 keys."), "{text}");
    assert!(text.contains("Remove payments from 3 keys."), "{text}");
    let fx = update(&mut s, ch('y'));
    let [Effect::ChangeTeams { ids, changes }] = fx.as_slice() else {
        panic!("expected ChangeTeams, got {fx:?}");
    };
    assert_eq!(*ids, vec![public_id(1), public_id(2), public_id(3)]);
    assert_eq!(changes.add, vec!["platform"]);
    assert_eq!(changes.remove, vec!["payments"]);
    assert!(s.modal.is_none());
    let fx = update(&mut s, Msg::TeamsChanged(Ok(keys(3))));
    assert!(status_text(&s).contains("Changed the teams of 3 keys"));
    assert_eq!(
        s.keys.selected.len(),
        3,
        "the selection stays for more changes"
    );
    assert_eq!(key_ref_loads(&fx).len(), 1, "the list shows the new teams");
}

#[test]
fn no_on_the_team_change_returns_to_the_picker_with_its_marks() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('+'));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, ch('-'));
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    let p = picker(&s);
    assert_eq!(p.marks.get("payments"), Some(&Mark::Add));
    assert_eq!(p.marks.get("ops"), Some(&Mark::Remove));
    assert_eq!(p.cursor, 1);
}

#[test]
fn enter_with_no_team_marked_says_what_to_do() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(
        picker(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("mark"))
    );
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn teams_that_arrive_after_the_picker_opened_are_offered() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    type_text(&mut s, "platform");
    update(&mut s, press(KeyCode::Enter));
    // The LoadTeams the picker asked for comes back with a team made meanwhile.
    update(
        &mut s,
        Msg::Teams(Ok(vec![
            team(1, "payments"),
            team(2, "ops"),
            team(3, "security"),
        ])),
    );
    let p = picker(&s);
    assert!(p.teams.contains(&"security".to_owned()), "{:?}", p.teams);
    assert!(p.teams.contains(&"platform".to_owned()), "typed teams stay");
    assert_eq!(p.marks.get("platform"), Some(&Mark::Add));
    assert_eq!(s.teams.teams.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Filters tab
// ---------------------------------------------------------------------------------------------

fn mine() -> SavedFilter {
    SavedFilter {
        name: "mine".to_owned(),
        query: "developer:ana".to_owned(),
    }
}

#[test]
fn ready_made_filters_come_first_then_saved_ones() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    assert_eq!(READY_MADE.len(), 5);
    for (i, (name, _)) in READY_MADE.iter().enumerate() {
        let (shown, _, saved) = filter_at(&s, i).unwrap();
        assert_eq!(shown, *name);
        assert!(!saved);
    }
    assert!(filter_at(&s, 5).is_none());
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    assert_eq!(
        filter_at(&s, 5),
        Some(("mine".to_owned(), "developer:ana".to_owned(), true))
    );
    update(&mut s, ch('G'));
    assert_eq!(s.filters.cursor, 5);
}

#[test]
fn enter_applies_a_ready_made_filter_on_the_keys_tab() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert_eq!(s.tab, Tab::Keys);
    assert_eq!(s.keys.filter.input.value(), "status:expired");
    assert_eq!(s.keys.filter.applied, "status:expired");
    assert_eq!(
        key_ref_loads(&fx),
        vec![(
            s.keys.generation,
            KeyQuery::parse("status:expired").unwrap()
        )]
    );
}

#[test]
fn deactivated_this_month_is_computed_from_the_store_clock() {
    let mut s = admin_with(1);
    let (_, query, _) = filter_at(&s, 4).unwrap();
    assert_eq!(query, "deactivated:>=2026-05-01");
    s.now = 1_790_000_000;
    assert_eq!(filter_at(&s, 4).unwrap().1, "deactivated:>=2026-09-01");
}

#[test]
fn a_typed_query_applies_on_the_keys_tab_and_s_saves_it_under_a_name() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('/'));
    let fx = type_text(&mut s, "team:ops");
    assert!(
        key_ref_loads(&fx).is_empty(),
        "typing on Filters loads nothing"
    );
    let fx = update(&mut s, press(KeyCode::Enter));
    assert_eq!(s.tab, Tab::Keys);
    assert_eq!(s.keys.filter.applied, "team:ops");
    assert_eq!(key_ref_loads(&fx).len(), 1);
    update(&mut s, ch('2'));
    let fx = update(&mut s, ch('s'));
    assert!(quiet(&fx));
    assert_eq!(layer(&s), Layer::NamePrompt);
    assert!(matches!(
        &name_prompt(&s).purpose,
        NamePurpose::SaveFilter { query } if query == "team:ops"
    ));
    type_text(&mut s, "ops keys");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::SaveFilter { name, query }]
            if name == "ops keys" && query == "team:ops"),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn s_with_nothing_typed_saves_the_highlighted_filter_as_ones_own() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('s'));
    assert!(matches!(
        &name_prompt(&s).purpose,
        NamePurpose::SaveFilter { query } if query == "status:active expires:<30d"
    ));
}

#[test]
fn an_empty_filter_name_is_refused_in_the_prompt() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('s'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(name_prompt(&s).error.is_some());
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn capital_r_on_a_ready_made_filter_is_refused() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    let fx = update(&mut s, ch('R'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

#[test]
fn capital_r_on_a_saved_filter_renames_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    update(&mut s, ch('G'));
    update(&mut s, ch('R'));
    let p = name_prompt(&s);
    assert!(matches!(&p.purpose, NamePurpose::RenameFilter { from } if from == "mine"));
    assert_eq!(p.input.value(), "mine");
    clear_line(&mut s);
    type_text(&mut s, "ours");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::RenameFilter { from, to }] if from == "mine" && to == "ours"),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn capital_d_on_a_saved_filter_asks_then_deletes_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    update(&mut s, ch('G'));
    let fx = update(&mut s, ch('D'));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(c.lines.join(" ").contains("mine: developer:ana"));
    let fx = update(&mut s, ch('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::DeleteFilter(name)] if name == "mine"),
        "{fx:?}"
    );
    // A ready-made one cannot be deleted.
    update(&mut s, ch('g'));
    let fx = update(&mut s, ch('D'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

/// The History tab with a full newest page (sequence 1000 down to 801).
fn history_with_full_page() -> State {
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

#[test]
fn a_full_newest_page_means_there_is_older_history() {
    let s = history_with_full_page();
    assert_eq!(s.history.rows.len(), HISTORY_PAGE as usize);
    assert_eq!(s.history.rows[0].record.seq, 1000);
    assert!(s.history.more_older);
    assert!(!s.history.more_newer);
    assert!(s.history.loaded);
    assert!(!s.history.loading);
    assert_eq!(s.history.cursor, 0);
}

#[test]
fn a_short_newest_page_is_all_there_is() {
    let mut s = admin_with(1);
    update(&mut s, ch('4'));
    let generation = s.history.generation;
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page: HistoryPage::Newest,
            result: Ok(history_rows(50, 50)),
        },
    );
    assert!(!s.history.more_older);
    let fx = update(&mut s, ch('G'));
    assert!(history_loads(&fx).is_empty());
    assert_eq!(s.history.cursor, 49);
}

#[test]
fn moving_near_the_end_reads_the_next_older_page_once() {
    let mut s = history_with_full_page();
    let mut asked = Vec::new();
    let mut at = None;
    for _ in 0..190 {
        let fx = update(&mut s, ch('j'));
        let loads = history_loads(&fx);
        if !loads.is_empty() && at.is_none() {
            at = Some(s.history.cursor);
        }
        asked.extend(loads);
    }
    assert_eq!(
        at,
        Some(HISTORY_PAGE as usize - 20),
        "20 rows before the end"
    );
    assert_eq!(
        asked.len(),
        1,
        "one request while it is under way: {asked:?}"
    );
    let (generation, page) = asked[0];
    assert_eq!(page, HistoryPage::OlderThan(801));
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page,
            result: Ok(history_rows(800, HISTORY_PAGE)),
        },
    );
    assert_eq!(s.history.rows.len(), 2 * HISTORY_PAGE as usize);
    assert_eq!(s.history.rows.last().unwrap().record.seq, 601);
    assert!(s.history.more_older);
    assert_eq!(s.history.cursor, 190, "the cursor stays on its row");
}

#[test]
fn capital_g_with_older_history_jumps_to_the_oldest_page() {
    let mut s = history_with_full_page();
    let fx = update(&mut s, ch('G'));
    let loads = history_loads(&fx);
    assert_eq!(loads, vec![(s.history.generation, HistoryPage::Oldest)]);
    update(
        &mut s,
        Msg::HistoryRows {
            generation: loads[0].0,
            page: HistoryPage::Oldest,
            result: Ok(history_rows(200, HISTORY_PAGE)),
        },
    );
    assert_eq!(s.history.cursor, HISTORY_PAGE as usize - 1);
    assert!(s.history.more_newer);
    assert!(!s.history.more_older);
    // g from there reads the newest page again.
    let fx = update(&mut s, ch('g'));
    assert_eq!(history_loads(&fx)[0].1, HistoryPage::Newest);
}

#[test]
fn m_opens_the_column_menu_and_space_toggles_a_column_saved_on_close() {
    let mut s = history_with_full_page();
    update(&mut s, ch('m'));
    assert_eq!(layer(&s), Layer::Columns);
    let masked = Column::ALL
        .iter()
        .position(|c| *c == Column::Masked)
        .unwrap();
    for _ in 0..masked {
        update(&mut s, ch('j'));
    }
    let fx = update(&mut s, ch(' '));
    assert!(fx.is_empty());
    assert!(!s.history.columns.contains(&Column::Masked));
    // Showing one puts it in its place, not at the end.
    for _ in 0..masked {
        update(&mut s, ch('k'));
    }
    update(&mut s, ch(' ')); // seq
    assert_eq!(s.history.columns[0], Column::Seq);
    update(&mut s, ch(' '));
    let fx = update(&mut s, ch('m'));
    assert!(
        matches!(fx.as_slice(), [Effect::SaveHistoryColumns(names)]
            if names == "at,action,subject,operator,email"),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn closing_the_column_menu_without_a_change_saves_nothing() {
    let mut s = history_with_full_page();
    update(&mut s, ch('m'));
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn the_last_shown_column_cannot_be_hidden() {
    let mut s = history_with_full_page();
    update(&mut s, Msg::HistoryColumns(Ok(Some("at".to_owned()))));
    assert_eq!(s.history.columns, vec![Column::At]);
    update(&mut s, ch('m'));
    update(&mut s, ch('j')); // At
    update(&mut s, ch(' '));
    assert_eq!(s.history.columns, vec![Column::At]);
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "nothing changed: {fx:?}");
}

#[test]
fn saved_history_columns_are_restored_and_unknown_names_skipped() {
    let mut s = admin_with(1);
    update(&mut s, Msg::HistoryColumns(Ok(Some("at,key".to_owned()))));
    assert_eq!(s.history.columns, vec![Column::At, Column::Key]);
    update(
        &mut s,
        Msg::HistoryColumns(Ok(Some("bogus,email".to_owned()))),
    );
    assert_eq!(s.history.columns, vec![Column::Email]);
    update(&mut s, Msg::HistoryColumns(Ok(Some("bogus".to_owned()))));
    assert_eq!(
        s.history.columns,
        vec![Column::Email],
        "nothing usable changes nothing"
    );
    update(&mut s, Msg::HistoryColumns(Ok(None)));
    assert_eq!(s.history.columns, vec![Column::Email]);
}

#[test]
fn capital_e_offers_a_csv_path_tab_switches_to_json_and_enter_exports() {
    let mut s = history_with_full_page();
    update(&mut s, Msg::HistoryColumns(Ok(Some("at,key".to_owned()))));
    update(&mut s, ch('E'));
    assert_eq!(layer(&s), Layer::Export);
    let p = export_prompt(&s);
    assert_eq!(p.format, ExportFormat::Csv);
    assert!(p.path.value().ends_with(".csv"), "{}", p.path.value());
    assert!(p.path.value().contains("keyward-history-"));
    update(&mut s, press(KeyCode::Tab));
    let p = export_prompt(&s);
    assert_eq!(p.format, ExportFormat::Json);
    assert!(p.path.value().ends_with(".json"), "{}", p.path.value());
    let path = p.path.value().to_owned();
    let fx = update(&mut s, press(KeyCode::Enter));
    let [
        Effect::Export {
            columns,
            path: to,
            format,
            ..
        },
    ] = fx.as_slice()
    else {
        panic!("expected Export, got {fx:?}");
    };
    assert_eq!(*columns, vec![Column::At, Column::Key]);
    assert_eq!(to.display().to_string(), path);
    assert_eq!(*format, ExportFormat::Json);
    assert!(s.modal.is_none());
    update(&mut s, Msg::Exported(Ok((path.clone().into(), 200))));
    assert!(status_text(&s).contains("Exported 200 history rows"));
}

#[test]
fn an_export_without_a_path_is_refused() {
    let mut s = history_with_full_page();
    update(&mut s, ch('E'));
    clear_line(&mut s);
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(export_prompt(&s).error.is_some());
}

// ---------------------------------------------------------------------------------------------
// Help and quitting
// ---------------------------------------------------------------------------------------------

#[test]
fn question_mark_opens_help_for_the_screen_under_it_and_esc_closes_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('?'));
    assert!(s.help);
    assert_eq!(layer(&s), Layer::Help);
    assert_eq!(layer_under_help(&s), Layer::Keys);
    // Keys of the screen under it do nothing while help is open.
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
    assert!(s.help);
    update(&mut s, press(KeyCode::Esc));
    assert!(!s.help);
    assert_eq!(layer(&s), Layer::Keys);

    update(&mut s, ch('4'));
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), Layer::History);
    update(&mut s, ch('q'));
    assert!(!s.help);
    assert!(!s.quit, "q closes help, it does not quit");
}

#[test]
fn q_on_the_keys_tab_quits() {
    let mut s = admin_with(2);
    update(&mut s, ch('q'));
    assert!(s.quit);
}

// ---------------------------------------------------------------------------------------------
// Mouse
// ---------------------------------------------------------------------------------------------

#[test]
fn clicking_the_second_tab_title_opens_the_filters_tab() {
    let mut s = admin_with(2);
    let spans = layout::tab_spans();
    let (tab, from, to) = spans[1];
    assert_eq!(tab, Tab::Filters);
    let y = layout::frame(s.width, s.height).tabs.y;
    let fx = update(&mut s, click(to - 1, y));
    assert_eq!(s.tab, Tab::Filters);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadSavedFilters)));
    // The gap before the first title is no tab.
    update(&mut s, click(spans[0].1 - 1, y));
    assert_eq!(s.tab, Tab::Filters);
    update(&mut s, click(from, y));
    assert_eq!(s.tab, Tab::Filters);
}

#[test]
fn clicking_a_row_of_the_keys_table_moves_the_cursor_there() {
    let mut s = admin_with(30);
    let f = layout::frame(s.width, s.height);
    let b = layout::body(Tab::Keys, f.body, false);
    // Border, then the header row, then the rows.
    let first_row = b.table.y + 2;
    update(&mut s, click(b.table.x + 5, first_row + 4));
    assert_eq!(s.keys.cursor, 4);
    update(&mut s, click(b.table.x + 5, first_row));
    assert_eq!(s.keys.cursor, 0);
    // The header is no row.
    update(&mut s, ch('j'));
    update(&mut s, click(b.table.x + 5, first_row - 1));
    assert_eq!(s.keys.cursor, 1);
}

#[test]
fn clicking_a_filter_highlights_that_filter() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    let f = layout::frame(s.width, s.height);
    let b = layout::body(Tab::Filters, f.body, false);
    // The filter list has a border and no header row.
    let first_row = b.table.y + 1;
    update(&mut s, click(b.table.x + 3, first_row + 2));
    assert_eq!(s.filters.cursor, 2);
    update(&mut s, click(b.table.x + 3, first_row));
    assert_eq!(s.filters.cursor, 0);
}

#[test]
fn the_mouse_wheel_moves_three_rows() {
    let mut s = admin_with(30);
    update(&mut s, wheel(MouseEventKind::ScrollDown));
    assert_eq!(s.keys.cursor, 3);
    update(&mut s, wheel(MouseEventKind::ScrollDown));
    assert_eq!(s.keys.cursor, 6);
    update(&mut s, wheel(MouseEventKind::ScrollUp));
    assert_eq!(s.keys.cursor, 3);
}

#[test]
fn the_mouse_does_nothing_under_a_modal() {
    let mut s = admin_with(30);
    update(&mut s, ch('x'));
    update(&mut s, wheel(MouseEventKind::ScrollDown));
    assert_eq!(s.keys.cursor, 0);
    let y = layout::frame(s.width, s.height).tabs.y;
    update(&mut s, click(layout::tab_spans()[3].1, y));
    assert_eq!(s.tab, Tab::Keys);
}

// ---------------------------------------------------------------------------------------------
// Timers and the status line
// ---------------------------------------------------------------------------------------------

#[test]
fn a_status_message_is_cleared_only_by_its_own_timer() {
    let mut s = admin_with(3);
    let fx = update(&mut s, ch('a'));
    let first = s.status.as_ref().unwrap().id;
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::SetTimer { timer: Timer::ExpireStatus(id), after }
            if *id == first && *after == Duration::from_secs(6))
        ),
        "{fx:?}"
    );
    update(&mut s, ch('a'));
    let second = s.status.as_ref().unwrap().id;
    assert_ne!(first, second);
    update(&mut s, Msg::Timer(Timer::ExpireStatus(first)));
    assert_eq!(s.status.as_ref().map(|st| st.id), Some(second));
    update(&mut s, Msg::Timer(Timer::ExpireStatus(second)));
    assert!(s.status.is_none());
}

#[test]
fn a_resize_keeps_the_cursor_in_view() {
    let mut s = admin_with(30);
    update(&mut s, ch('G'));
    assert_eq!(s.keys.offset, 30 - 17);
    update(&mut s, Msg::Resize(100, 40));
    assert_eq!((s.width, s.height), (100, 40));
    let h = layout::visible_rows(Tab::Keys, 100, 40, false);
    assert!(s.keys.cursor >= s.keys.offset && s.keys.cursor < s.keys.offset + h);
}

// ---------------------------------------------------------------------------------------------
// More paths: help over windows, history paging both ways, reloads, failures
// ---------------------------------------------------------------------------------------------

#[test]
fn question_mark_over_a_window_explains_that_window_and_leaves_it_open() {
    let mut s = admin_with(3);
    update(&mut s, ch('x'));
    update(&mut s, ch('?'));
    assert!(s.help);
    assert_eq!(layer_under_help(&s), Layer::Confirm);
    // y while help is open does not confirm.
    assert!(update(&mut s, ch('y')).is_empty());
    update(&mut s, press(KeyCode::Esc));
    assert!(!s.help);
    assert!(matches!(confirm(&s).pending, Pending::Deactivate(_)));
    update(&mut s, ch('n'));

    update(&mut s, ch('t'));
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), Layer::TeamPicker);
    update(&mut s, ch('?'));
    assert!(!s.help);

    let (mut s, _, _) = showing_secret();
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), Layer::NewSecret);
    update(&mut s, ch('q'));
    assert!(!s.help);
    assert!(!s.quit);
    assert!(matches!(s.modal, Some(Modal::NewSecret(_))));
}

#[test]
fn question_mark_in_a_form_is_typed_not_help() {
    let mut s = new_key_form();
    type_text(&mut s, "what?");
    assert!(!s.help);
    assert_eq!(form(&s).value(Field::Name), "what?");
}

#[test]
fn typing_a_history_filter_reads_the_newest_matching_page() {
    let mut s = history_with_full_page();
    for _ in 0..5 {
        update(&mut s, ch('j'));
    }
    update(&mut s, ch('/'));
    assert_eq!(layer(&s), Layer::FilterLine);
    type_text(&mut s, "action:renewe");
    let fx = update(&mut s, ch('d'));
    assert_eq!(
        history_loads(&fx),
        vec![(s.history.generation, HistoryPage::Newest)]
    );
    assert_eq!(s.history.filter.applied, "action:renewed");
    assert_eq!(s.history.cursor, 0);
    // Leaving the line keeps the filter; Esc on the tab then clears it.
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(layer(&s), Layer::History);
    let fx = update(&mut s, press(KeyCode::Esc));
    assert_eq!(s.history.filter.applied, "");
    assert_eq!(history_loads(&fx).len(), 1);
}

#[test]
fn moving_near_the_top_of_the_oldest_page_reads_newer_rows() {
    let mut s = history_with_full_page();
    update(&mut s, ch('G'));
    let generation = s.history.generation;
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page: HistoryPage::Oldest,
            result: Ok(history_rows(200, HISTORY_PAGE)),
        },
    );
    let mut asked = Vec::new();
    for _ in 0..HISTORY_PAGE {
        asked.extend(history_loads(&update(&mut s, ch('k'))));
    }
    assert_eq!(asked.len(), 1, "{asked:?}");
    let (generation, page) = asked[0];
    assert_eq!(page, HistoryPage::NewerThan(200));
    let cursor = s.history.cursor;
    let seq = s.history.rows[cursor].record.seq;
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page,
            result: Ok(history_rows(400, HISTORY_PAGE)),
        },
    );
    assert_eq!(s.history.rows.len(), 2 * HISTORY_PAGE as usize);
    assert_eq!(s.history.rows[0].record.seq, 400);
    assert_eq!(
        s.history.rows[s.history.cursor].record.seq, seq,
        "the cursor stays on its row"
    );
}

#[test]
fn history_keeps_a_window_of_rows_and_drops_the_far_end() {
    let mut s = history_with_full_page();
    let mut last = 801;
    for _ in 0..5 {
        s.history.cursor = s.history.rows.len() - 1;
        let fx = update(&mut s, ch('j'));
        let loads = history_loads(&fx);
        assert_eq!(loads.len(), 1, "{fx:?}");
        let (generation, page) = loads[0];
        assert_eq!(page, HistoryPage::OlderThan(last));
        update(
            &mut s,
            Msg::HistoryRows {
                generation,
                page,
                result: Ok(history_rows(last - 1, HISTORY_PAGE)),
            },
        );
        last -= HISTORY_PAGE as i64;
    }
    assert_eq!(s.history.rows.len(), 1_000);
    assert!(s.history.more_newer, "the newest rows were dropped");
    assert!(s.history.more_older);
    assert_eq!(s.history.rows.last().unwrap().record.seq, last);
    assert!(s.history.cursor < s.history.rows.len());
}

#[test]
fn a_reloaded_list_keeps_the_cursor_on_the_same_key() {
    let mut s = admin_with(10);
    for _ in 0..4 {
        update(&mut s, ch('j'));
    }
    assert_eq!(s.keys.current().unwrap().id, 5);
    update(&mut s, ch('1'));
    // Another admin deleted key 2 meanwhile.
    let mut fewer = keys(10);
    fewer.remove(1);
    let generation = s.keys.generation;
    let fx = update(
        &mut s,
        Msg::KeyRefs {
            generation,
            result: Ok(refs_of(&fewer)),
        },
    );
    assert_eq!(s.keys.current().unwrap().id, 5);
    assert_eq!(s.keys.cursor, 3);
    assert_eq!(row_loads(&fx).len(), 1, "the rows are read again");
}

#[test]
fn escape_on_the_setup_screen_quits_without_creating_anything() {
    let mut s = setup_state();
    type_text(&mut s, "Ana");
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    assert!(s.quit);
}

#[test]
fn a_failed_sample_load_says_why_and_still_opens_the_store() {
    let mut s = setup_state();
    update(&mut s, Msg::StoreCreated(Ok(operator(Role::Admin))));
    update(&mut s, ch('y'));
    let fx = update(
        &mut s,
        Msg::DemoLoaded(Err(Error::store("the disk is full"))),
    );
    assert!(matches!(s.screen, Screen::Main));
    assert!(error_status(&s));
    assert!(status_text(&s).contains("disk is full"));
    assert!(asks_for_main_loads(&fx));
}

#[test]
fn failures_to_save_a_preference_or_record_a_copy_are_shown() {
    let mut s = admin_with(1);
    update(
        &mut s,
        Msg::PreferenceSaved(Err(Error::store("read-only store"))),
    );
    assert!(error_status(&s));
    assert!(status_text(&s).contains("read-only"));
    s.status = None;
    assert!(update(&mut s, Msg::PreferenceSaved(Ok(()))).is_empty());
    assert!(s.status.is_none());
    update(
        &mut s,
        Msg::CopyRecorded(Err(Error::store("history is locked"))),
    );
    assert!(status_text(&s).contains("history is locked"));
}

#[test]
fn only_the_newest_copys_timer_clears_the_clipboard() {
    let (mut s, id, _) = showing_secret();
    for _ in 0..2 {
        update(
            &mut s,
            Msg::Copied {
                public_id: id.clone(),
                result: Ok(Via::TmuxBuffer),
            },
        );
    }
    // The first copy's timer fires while the second copy is on the clipboard.
    assert!(update(&mut s, Msg::Timer(Timer::ClearClipboard(1))).is_empty());
    let fx = update(&mut s, Msg::Timer(Timer::ClearClipboard(2)));
    assert!(matches!(fx.as_slice(), [Effect::ClearClipboard]), "{fx:?}");
}

#[test]
fn enter_in_the_new_secret_window_does_not_close_it() {
    let (mut s, _, _) = showing_secret();
    update(&mut s, press(KeyCode::Enter));
    update(&mut s, press(KeyCode::Enter));
    assert!(matches!(s.modal, Some(Modal::NewSecret(_))));
}

#[test]
fn deactivating_leaves_out_keys_that_are_already_closed() {
    let mut list = keys(3);
    list[1].status = KeyStatus::Deactivated;
    let mut s = main_with(Role::Admin, list);
    for _ in 0..3 {
        update(&mut s, ch(' '));
    }
    update(&mut s, ch('x'));
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 2 keys?");
    assert!(!c.lines.join("\n").contains("key-002"), "{:?}", c.lines);
    update(&mut s, ch('n'));

    // Only closed keys chosen: nothing to ask, and it says why.
    let mut closed = keys(1);
    closed[0].status = KeyStatus::Deleted;
    let mut s = main_with(Role::Admin, closed);
    update(&mut s, ch('x'));
    assert!(s.modal.is_none());
    assert!(error_status(&s) && status_text(&s).contains("None of these keys is active"));
}

#[test]
fn saving_an_edit_that_changes_nothing_writes_nothing() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    let fx = update(&mut s, ctrl('s'));
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(!f.saving);
    assert!(
        f.refused
            .as_deref()
            .is_some_and(|r| r.contains("nothing to save"))
    );
}
