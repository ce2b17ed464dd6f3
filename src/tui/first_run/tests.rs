//! `update` tests of the start of the program and the first run, driven by hand-made messages.

use crate::tui::testing::*;

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
    assert_eq!(layer(&s), KEYS_LAYER);
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
    let fx = update(
        &mut s,
        applied_msg(BulkAction::Deactivate, vec![key(1, "key-001")]),
    );
    assert!(delivers(&fx), "deactivated: {fx:?}");
    let fx = update(
        &mut s,
        applied_msg(BulkAction::Delete, vec![key(1, "key-001")]),
    );
    assert!(delivers(&fx), "deleted: {fx:?}");
    let fx = update(&mut s, Msg::TeamsChanged(Ok(vec![key(2, "key-002")])));
    assert!(!delivers(&fx), "teams changed: {fx:?}");
    let fx = update(
        &mut s,
        Msg::BulkApplied {
            action: BulkAction::Deactivate,
            result: Err(Error::store("the store is locked")),
        },
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
    assert_eq!(layer(&s), NOT_OPERATOR_LAYER);
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
    assert_eq!(layer(&s), SETUP_LAYER);
    assert_eq!(setup(&s).login, "ana");
    assert!(type_text(&mut s, "Ana Lima").is_empty());
    assert_eq!(setup(&s).name.value(), "Ana Lima");
    assert!(update(&mut s, press(KeyCode::Enter)).is_empty());
    assert_eq!(setup(&s).focus, SetupField::Email);
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
    assert_eq!(setup(&s).focus, SetupField::Email);
    type_text(&mut s, "x@y");
    assert_eq!(setup(&s).email.value(), "x@y");
    assert_eq!(setup(&s).name.value(), "");
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(setup(&s).focus, SetupField::Name);
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
    assert_eq!(
        st.focus,
        SetupField::Name,
        "the cursor goes back to the missing name"
    );
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
    assert_eq!(layer(&s), OFFER_DEMO_LAYER);
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
// The demo is a store of its own; refusals name the store
// ---------------------------------------------------------------------------------------------

#[test]
fn the_demo_opens_as_its_own_store_named_on_screen_and_the_real_one_is_left_empty() {
    let mut s = setup_state();
    s.demo_store = Some("/tmp/demo.db".into());
    update(&mut s, Msg::StoreCreated(Ok(operator(Role::Admin))));
    let fx = update(&mut s, ch('y'));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDemo)), "{fx:?}");
    assert!(status_text(&s).contains("demo store"), "{:?}", s.status);
    update(&mut s, Msg::DemoLoaded(Ok(DemoReport::default())));
    assert_eq!(s.store, "/tmp/demo.db (demo)");
    let said = status_text(&s);
    assert!(said.contains("/tmp/demo.db"), "{said}");
    assert!(said.contains("/tmp/k.db stays empty"), "{said}");
}

#[test]
fn a_failed_demo_keeps_the_real_store_named() {
    let mut s = setup_state();
    s.demo_store = Some("/tmp/demo.db".into());
    update(&mut s, Msg::StoreCreated(Ok(operator(Role::Admin))));
    update(&mut s, ch('y'));
    update(
        &mut s,
        Msg::DemoLoaded(Err(Error::conflict("/tmp/demo.db holds real data"))),
    );
    assert_eq!(s.store, "/tmp/k.db");
    assert!(status_text(&s).contains("holds real data"));
}

#[test]
fn a_refusal_names_the_store_and_the_file_that_chose_it() {
    let store = "/srv/kw/k.db (set by /etc/keyward/config.toml)";
    let mut s = State::new(UiSettings::default(), store.into(), None);
    update(
        &mut s,
        Msg::Started(Err(Error::Permission(
            "bo is not a keyward operator of this store".into(),
        ))),
    );
    let Screen::Refused(text) = &s.screen else {
        panic!("{:?}", s.screen);
    };
    assert!(text.contains(&format!("Store: {store}")), "{text}");
}

#[test]
fn an_unreadable_store_is_refused_with_its_permissions_never_offered_creation() {
    let denial = keyward_core::access::denial_message(
        std::path::Path::new("/srv/kw/k.db"),
        "root",
        "adm",
        Some(0o600),
        1001,
        &["1001".into(), "adm".into()],
    );
    let mut s = State::new(UiSettings::default(), "/srv/kw/k.db".into(), None);
    update(&mut s, Msg::Started(Err(Error::store(denial))));
    let Screen::Refused(text) = &s.screen else {
        panic!("{:?}", s.screen);
    };
    assert!(
        text.contains("permission denied on /srv/kw/k.db (owner root, group adm, mode 0600)"),
        "{text}"
    );
    assert!(!text.contains("no keyward store"), "{text}");
}
