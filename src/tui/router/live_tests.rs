//! `update` tests of a screen that never goes stale: another process's commit
//! (`StoreChanged`), `Ctrl-R`, a refusal because a key changed underneath,
//! `Esc` on the status line, and the outbox badge's wording.

use crate::tui::kit::status::badge;
use crate::tui::testing::*;
use keyward_core::domain::outbox::OutboxCounts;

fn outbox_loads(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::LoadOutbox))
        .count()
}

/// Answers the newest key load with `keys` (handles and rows).
fn answer_keys(s: &mut State, keys: Vec<Key>) -> Vec<Effect> {
    let generation = s.keys.generation;
    let page = whole_list(s, generation, Ok(refs_of(&keys)));
    let mut fx = update(s, page);
    fx.extend(update(
        s,
        Msg::KeyRows {
            generation,
            now: NOW,
            result: Ok(keys),
        },
    ));
    fx
}

#[test]
fn another_processs_change_reloads_the_keys_and_keeps_the_cursor_on_the_same_key() {
    let mut s = admin_with(5);
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    assert_eq!(s.keys.current().map(|r| r.id), Some(3));
    let before = s.keys.generation;

    let fx = update(&mut s, Msg::StoreChanged);
    let loads = key_ref_loads(&fx);
    assert_eq!(loads.len(), 1, "{fx:?}");
    assert!(loads[0].0 > before);
    assert_eq!(outbox_loads(&fx), 1, "the badge is read again too");

    // Elsewhere key-001 was deleted (it left the list) and key-003 deactivated.
    let mut now: Vec<Key> = keys(5).into_iter().skip(1).collect();
    now[1].status = KeyStatus::Deactivated;
    answer_keys(&mut s, now);
    assert_eq!(s.keys.refs.len(), 4);
    assert_eq!(
        s.keys.current().map(|r| r.id),
        Some(3),
        "same key, new place"
    );
    assert_eq!(
        s.keys.current_key().map(|k| k.status),
        Some(KeyStatus::Deactivated)
    );
}

#[test]
fn when_the_key_under_the_cursor_is_gone_the_cursor_stays_in_place() {
    let mut s = admin_with(3);
    update(&mut s, ch('G'));
    update(&mut s, Msg::StoreChanged);
    answer_keys(&mut s, keys(2));
    assert_eq!(s.keys.cursor, 1);
    assert_eq!(s.keys.current().map(|r| r.id), Some(2));
}

#[test]
fn open_details_follow_the_store_and_close_when_their_key_is_gone() {
    let mut s = admin_with(2);
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    assert!(s.keys.detail.is_some());
    update(&mut s, Msg::StoreChanged);
    let mut changed = keys(2);
    changed[0].name = "renamed elsewhere".to_owned();
    let fx = answer_keys(&mut s, changed);
    // Not opened again: that would write a "viewed" row for a reload.
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::OpenKey(_))),
        "{fx:?}"
    );
    assert_eq!(
        s.keys.detail.as_ref().map(|k| k.name.as_str()),
        Some("renamed elsewhere")
    );
    update(&mut s, Msg::StoreChanged);
    answer_keys(&mut s, vec![key(2, "key-002")]);
    assert!(s.keys.detail.is_none());
}

#[test]
fn a_reload_under_an_open_form_keeps_what_is_typed() {
    let mut s = new_key_form();
    type_text(&mut s, "billing sync");
    let fx = update(&mut s, Msg::StoreChanged);
    assert_eq!(
        key_ref_loads(&fx).len(),
        1,
        "the list under it is read again"
    );
    assert_eq!(form(&s).value(Field::Name), "billing sync");
    answer_keys(&mut s, keys(4));
    assert_eq!(form(&s).value(Field::Name), "billing sync");
    assert_eq!(s.keys.refs.len(), 4);
}

#[test]
fn the_teams_tab_reloads_its_counts_and_the_filters_tab_its_filters() {
    let mut s = admin_with(2);
    update(&mut s, ch('3'));
    let fx = update(&mut s, Msg::StoreChanged);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadTeams)), "{fx:?}");
    assert_eq!(key_ref_loads(&fx).len(), 1);

    update(&mut s, ch('2'));
    let fx = update(&mut s, Msg::StoreChanged);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadSavedFilters)),
        "{fx:?}"
    );
    // The Keys list is not on screen: it reloads when its tab opens.
    assert!(key_ref_loads(&fx).is_empty());
    assert!(!fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
}

#[test]
fn the_history_tab_shows_new_rows_at_the_top_and_keeps_a_reader_in_place() {
    let mut s = history_with_full_page();
    let fx = update(&mut s, Msg::StoreChanged);
    assert_eq!(
        history_loads(&fx),
        [(s.history.generation, HistoryPage::Newest)]
    );

    let mut s = history_with_full_page();
    for _ in 0..30 {
        update(&mut s, ch('j'));
    }
    let cursor = s.history.cursor;
    let fx = update(&mut s, Msg::StoreChanged);
    assert!(history_loads(&fx).is_empty(), "{fx:?}");
    assert_eq!(s.history.cursor, cursor);
    assert!(s.history.more_newer, "scrolling up reads the new rows");
}

#[test]
fn a_change_elsewhere_before_the_main_screen_does_nothing() {
    let mut s = setup_state();
    assert!(update(&mut s, Msg::StoreChanged).is_empty());
}

#[test]
fn ctrl_r_reloads_by_hand_and_says_so() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ctrl('r'));
    assert_eq!(key_ref_loads(&fx).len(), 1, "{fx:?}");
    assert_eq!(outbox_loads(&fx), 1);
    assert_eq!(status_text(&s), "Reloaded from the store.");
    answer_keys(&mut s, keys(3));
    assert_eq!(s.keys.current().map(|r| r.id), Some(2));
    // It is in the help of every tab, read from the same table.
    for layer in [
        crate::tui::keys::keymap::KEYS_LAYER,
        crate::tui::keys::keymap::TEAMS_LAYER,
        crate::tui::filters::LAYER,
        crate::tui::history::LAYER,
    ] {
        let bound = layer.bindings.iter().any(|b| {
            b.keys.iter().any(|k| k.label() == "Ctrl-r")
                && b.action == crate::tui::kit::keymap::Action::Reload
        });
        assert!(bound, "{}", layer.name);
    }
}

#[test]
fn a_refusal_because_the_key_changed_elsewhere_reloads_and_says_what_changed() {
    // Bulk deactivate and delete skip and name keys that changed meanwhile
    // (keys tests); the other key actions are refused, and reload.
    let mut s = admin_with(2);
    let refused = Error::conflict("key kw_…Ab12 (key-001) is already deleted; that is final");
    let fx = update(&mut s, Msg::TeamsChanged(Err(refused)));
    assert!(error_status(&s));
    let said = status_text(&s);
    assert!(said.contains("already deleted"), "{said}");
    assert!(said.contains("changed elsewhere"), "{said}");
    assert_eq!(key_ref_loads(&fx).len(), 1, "{fx:?}");

    let gone = Error::not_found("no key with id pub00002");
    let fx = update(&mut s, Msg::KeyOpened(Err(gone)));
    assert!(status_text(&s).contains("no key with id pub00002"));
    assert_eq!(key_ref_loads(&fx).len(), 1, "{fx:?}");

    // A store that failed is not a change elsewhere: nothing to reload.
    let fx = update(
        &mut s,
        Msg::TeamsChanged(Err(Error::store("disk I/O error"))),
    );
    assert!(key_ref_loads(&fx).is_empty(), "{fx:?}");
    assert!(!status_text(&s).contains("changed elsewhere"));
}

#[test]
fn an_edit_refused_because_the_key_changed_reloads_the_list_and_keeps_the_form() {
    let mut s = main_with(Role::Manager, keys(2));
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    let typed = form(&s).value(Field::Name).to_owned();
    let refused = Error::conflict("key kw_…Ab12 (key-001) is already deleted; that is final");
    let fx = update(&mut s, Msg::KeyEdited(Err(refused)));
    assert_eq!(key_ref_loads(&fx).len(), 1, "{fx:?}");
    assert_eq!(form(&s).value(Field::Name), typed);
    assert!(
        form(&s)
            .refused
            .as_deref()
            .is_some_and(|e| e.contains("already deleted"))
    );
}

#[test]
fn esc_clears_the_status_line_when_nothing_else_takes_it() {
    let mut s = admin_with(3);
    update(&mut s, ch('a'));
    assert_eq!(status_text(&s), "3 keys selected.");
    update(&mut s, press(KeyCode::Esc));
    assert!(s.status.is_none());
    assert_eq!(s.keys.selected.len(), 3, "only the message goes");

    // Open details close first; the message stays until the next Esc.
    update(&mut s, ch('a'));
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    update(&mut s, press(KeyCode::Esc));
    assert!(s.keys.detail.is_none());
    assert!(s.status.is_some());
    update(&mut s, press(KeyCode::Esc));
    assert!(s.status.is_none());

    // On every tab.
    for tab in ['2', '3', '4'] {
        update(&mut s, ch(tab));
        update(&mut s, ctrl('r'));
        assert!(s.status.is_some());
        update(&mut s, press(KeyCode::Esc));
        assert!(s.status.is_none(), "tab {tab}");
    }
}

#[test]
fn esc_in_a_window_is_the_windows_and_the_status_line_stays() {
    let mut s = admin_with(2);
    update(&mut s, ch('a'));
    update(&mut s, ch('r'));
    assert!(s.modal.is_some());
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
    assert_eq!(status_text(&s), "2 keys selected.");
}

#[test]
fn the_badge_says_queued_without_delivery_and_pending_with_it() {
    let waiting = OutboxCounts {
        pending: 46,
        failed: 0,
    };
    assert_eq!(badge(waiting, true, 80), " ✉ 46 pending ");
    assert_eq!(
        badge(waiting, false, 80),
        " ✉ 46 queued, no delivery configured "
    );
    assert_eq!(badge(waiting, false, 60), " ✉ 46 queued, no delivery ");
    assert_eq!(badge(waiting, false, 20), " ✉ 46 queued ");
    assert_eq!(badge(waiting, false, 4), " ✉ 46 queued ");
    let both = OutboxCounts {
        pending: 2,
        failed: 1,
    };
    assert_eq!(badge(both, true, 80), " ✉ 2 pending · 1 failed ");
    assert_eq!(
        badge(both, false, 100),
        " ✉ 2 queued · 1 failed, no delivery configured "
    );
}

#[test]
fn a_role_changed_elsewhere_is_followed_at_once_and_a_removal_clears_the_screen() {
    let mut s = main_with(Role::Manager, keys(3));
    let fx = update(&mut s, Msg::StoreChanged);
    assert!(fx.iter().any(|e| matches!(e, Effect::ReloadMe)), "{fx:?}");
    // Lowered to viewer while a new-key form is open: the form goes (it could
    // not be saved), and the status line says why.
    update(&mut s, ch('n'));
    assert!(s.modal.is_some());
    let mut me = s.me.clone().unwrap();
    me.role = Role::Viewer;
    update(&mut s, Msg::Me(Ok(me)));
    assert_eq!(s.role(), Role::Viewer);
    assert!(s.modal.is_none());
    assert!(
        status_text(&s).contains("Your role is now viewer"),
        "{}",
        status_text(&s)
    );
    // Removed: nothing of the store stays on screen.
    update(
        &mut s,
        Msg::Me(Err(keyward_core::error::Error::Permission(
            "ana is not a keyward operator of this store".into(),
        ))),
    );
    assert!(matches!(s.screen, Screen::Refused(_)), "{:?}", s.screen);
}

#[test]
fn an_open_deactivation_is_checked_again_when_the_store_changes() {
    let mut s = admin_with(3);
    update(&mut s, ch('a'));
    press_planned(&mut s, 'x');
    assert_eq!(confirm(&s).title, "Deactivate 3 keys?");
    // Another admin deactivates key 2 meanwhile.
    if let Some(k) = s.keys.rows.get_mut(&2) {
        k.status = KeyStatus::Deactivated;
    }
    let fx = update(&mut s, Msg::StoreChanged);
    let replan = plan_from_rows(&s, &fx);
    update(&mut s, replan);
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 2 keys?");
    assert!(
        c.lines.join("\n").contains("1 is already deactivated"),
        "{:?}",
        c.lines
    );
    assert!(
        status_text(&s).contains("store changed"),
        "{}",
        status_text(&s)
    );
    let fx = update(&mut s, ch('y'));
    assert_eq!(
        applied(&fx),
        Some((BulkAction::Deactivate, vec![public_id(1), public_id(3)]))
    );
}

#[test]
fn an_open_deactivation_with_nothing_left_to_do_goes_and_says_why() {
    let mut s = admin_with(3);
    press_planned(&mut s, 'x');
    assert_eq!(confirm(&s).title, "Deactivate 1 key?");
    // Another admin deactivates it meanwhile: no yes is left to give.
    if let Some(k) = s.keys.rows.get_mut(&1) {
        k.status = KeyStatus::Deactivated;
    }
    let fx = update(&mut s, Msg::StoreChanged);
    let replan = plan_from_rows(&s, &fx);
    update(&mut s, replan);
    assert!(s.modal.is_none(), "{:?}", s.modal);
    let status = status_text(&s);
    assert!(status.contains("store changed"), "{status}");
    assert!(status.contains("Nothing to do"), "{status}");
    assert!(status.contains("already deactivated"), "{status}");
    // A y now is a key on the Keys tab, not a deactivation of no key.
    let fx = update(&mut s, ch('y'));
    assert_eq!(applied(&fx), None);
}

#[test]
fn a_refusal_stays_on_the_tab_it_was_made_on() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    // Ready-made filters cannot be deleted.
    update(&mut s, ch('D'));
    assert!(
        status_text(&s).contains("cannot be deleted"),
        "{}",
        status_text(&s)
    );
    update(&mut s, ch('1'));
    assert!(s.status.is_none(), "{:?}", s.status);
}

#[test]
fn a_signal_ends_the_session_through_the_same_door_as_q() {
    let mut s = admin_with(2);
    update(&mut s, ch('n'));
    assert!(s.modal.is_some());
    update(&mut s, Msg::Signal(1));
    assert!(s.quit);
    assert_eq!(s.ended_by, Some(1));
}

#[test]
fn a_lost_connection_is_said_kept_on_screen_and_a_reconnection_reloads() {
    let mut s = admin_with(3);
    let before = s.keys.generation;
    let fx = update(
        &mut s,
        Msg::Reconnecting(
            "the connection to PostgreSQL at postgres://kw@db:5432/keyward was lost".into(),
        ),
    );
    assert!(key_ref_loads(&fx).is_empty(), "nothing is read meanwhile");
    let said = status_text(&s);
    assert!(said.starts_with("reconnecting to the store…"), "{said}");
    assert!(said.contains("was lost"), "{said}");
    assert_eq!(s.keys.refs.len(), 3, "the keys shown stay");

    let fx = update(&mut s, Msg::Reconnected);
    assert_eq!(status_text(&s), "Reconnected to the store.");
    let loads = key_ref_loads(&fx);
    assert_eq!(loads.len(), 1, "{fx:?}");
    assert!(loads[0].0 > before);
}

#[test]
fn a_store_out_of_reach_for_a_moment_is_no_refusal_of_this_login() {
    let mut s = admin_with(2);
    update(
        &mut s,
        Msg::Me(Err(Error::store_because(
            keyward_core::error::StoreCause::Io,
            "the connection to PostgreSQL at postgres://kw@db:5432/keyward was lost; nothing was changed",
        ))),
    );
    assert!(matches!(s.screen, Screen::Main), "the screen stays");
    assert!(status_text(&s).contains("was lost"));
    // A removal is one.
    update(
        &mut s,
        Msg::Me(Err(Error::Permission(
            "ana is not a keyward operator".into(),
        ))),
    );
    assert!(matches!(s.screen, Screen::Refused(_)));
}
