//! Snapshots of first run screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn first_run_setup_with_error() {
    let mut state = State::new(
        settings(),
        "/home/ana/.local/share/keyward/keyward.db".to_owned(),
        Some("ana".to_owned()),
    );
    state.now = NOW;
    if let Screen::Setup(s) = &mut state.screen {
        s.name = Input::new("Ana Silva".to_owned());
        s.email = Input::new("ana.example.org".to_owned());
        s.focus = SetupField::Email;
        s.error = Some("an email address such as ana@example.org is needed".to_owned());
    }
    snap_both("setup_error", &mut state);
}

#[test]
fn sample_data_offer() {
    let mut state = main_state();
    state.store = "/home/ana/.local/share/keyward/keyward.db".to_owned();
    state.demo_store = Some("/home/ana/.local/share/keyward/demo.db".to_owned());
    state.screen = Screen::OfferDemo;
    snap_both("offer_demo", &mut state);
}

#[test]
fn refused_permission_denied_names_the_store_and_the_file_that_chose_it() {
    let store = "/srv/kw/k.db (set by /etc/keyward/config.toml)";
    let mut state = State::new(settings(), store.to_owned(), None);
    let denial = keyward_core::access::denial_message(
        std::path::Path::new("/srv/kw/k.db"),
        "root",
        "adm",
        Some(0o600),
        1001,
        &["1001".to_owned(), "adm".to_owned()],
    );
    state.screen = Screen::Refused(crate::tui::first_run::refusal(
        &keyward_core::error::Error::store(denial),
        store,
    ));
    snap_both("refused_permission_denied", &mut state);
}

#[test]
fn refused_not_an_operator() {
    let mut state = State::new(settings(), "/srv/keyward/keyward.db".to_owned(), None);
    state.screen = Screen::Refused(
        "bo is not a keyward operator of this store; an admin can add it with \
         `keyward operator add bo --name NAME --email EMAIL --role viewer|manager|admin`\n\n\
         Ask an admin of this store to add you; until then keyward cannot show it."
            .to_owned(),
    );
    snap_both("refused", &mut state);
}

#[test]
fn terminal_too_small() {
    let state = keys_state();
    for (w, h) in [(59, 16), (80, 15)] {
        let text = render(&state, w, h);
        assert!(text.contains("too small"), "{text}");
        snapshot(&format!("too_small_{w}x{h}"), &text);
    }
}
