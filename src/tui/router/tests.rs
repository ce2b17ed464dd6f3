//! `update` tests of routing: tabs, help, quitting, the mouse, timers and the status line, and paths across features, driven by hand-made messages.

use crate::tui::testing::*;

// ---------------------------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------------------------

#[test]
fn tab_and_shift_tab_cycle_the_five_tabs_and_each_loads_what_it_shows() {
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
    assert_eq!(s.tab, Tab::Directory);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
    let fx = update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Keys);
    assert!(!key_ref_loads(&fx).is_empty());
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(s.tab, Tab::Directory);
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
        ('5', Tab::Directory),
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
    let page = whole_list(&s, old, Ok(refs_of(&keys(50))));
    let fx = update(&mut s, page);
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
    let page = whole_list(&s, old + 1, Ok(refs_of(&keys(5))));
    update(&mut s, page);
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
// Help and quitting
// ---------------------------------------------------------------------------------------------

#[test]
fn question_mark_opens_help_for_the_screen_under_it_and_esc_closes_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('?'));
    assert!(s.help);
    assert_eq!(layer(&s), help::LAYER);
    assert_eq!(layer_under_help(&s), KEYS_LAYER);
    // Keys of the screen under it do nothing while help is open.
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
    assert!(s.help);
    update(&mut s, press(KeyCode::Esc));
    assert!(!s.help);
    assert_eq!(layer(&s), KEYS_LAYER);

    update(&mut s, ch('4'));
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), history::LAYER);
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
    press_planned(&mut s, 'x');
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
    press_planned(&mut s, 'x');
    update(&mut s, ch('?'));
    assert!(s.help);
    assert_eq!(layer_under_help(&s), confirm::IRREVERSIBLE_LAYER);
    // y while help is open does not confirm.
    assert!(update(&mut s, ch('y')).is_empty());
    update(&mut s, press(KeyCode::Esc));
    assert!(!s.help);
    assert!(matches!(confirm(&s).pending, Pending::Bulk(..)));
    update(&mut s, ch('n'));

    update(&mut s, ch('t'));
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), team_picker::LAYER);
    update(&mut s, ch('?'));
    assert!(!s.help);

    let (mut s, _, _) = showing_secret();
    update(&mut s, ch('?'));
    assert_eq!(layer_under_help(&s), new_secret::LAYER);
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
    assert_eq!(layer(&s), query_line::LAYER);
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
    assert_eq!(layer(&s), history::LAYER);
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
    let page = whole_list(&s, generation, Ok(refs_of(&fewer)));
    let fx = update(&mut s, page);
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

#[test]
fn keys_do_nothing_while_the_screen_is_too_small_to_show_them_but_ctrl_c_leaves() {
    let mut s = admin_with(3);
    update(&mut s, Msg::Resize(50, 12));
    // `x` then `y` would deactivate a key whose confirmation cannot be seen.
    let fx = update(&mut s, ch('x'));
    assert!(s.modal.is_none(), "{:?}", s.modal);
    let fx2 = update(&mut s, ch('y'));
    assert!(fx.is_empty() && fx2.is_empty(), "{fx:?} {fx2:?}");
    update(&mut s, ch('/'));
    update(&mut s, ch('a'));
    assert!(!s.keys.filter.editing);
    assert_eq!(s.keys.filter.input.value(), "");
    update(&mut s, Msg::Resize(80, 24));
    press_planned(&mut s, 'x');
    assert!(
        matches!(s.modal, Some(Modal::Confirm(_))),
        "acts again once drawn"
    );
    // A window waits for a screen it can be seen on, even for Ctrl-C.
    update(&mut s, Msg::Resize(59, 16));
    update(&mut s, ctrl('c'));
    assert!(!s.quit && s.modal.is_some());
    update(&mut s, Msg::Resize(80, 24));
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, Msg::Resize(59, 16));
    update(&mut s, ctrl('c'));
    assert!(s.quit);
}

// ---------------------------------------------------------------------------------------------
// Pasting
// ---------------------------------------------------------------------------------------------

#[test]
fn a_paste_on_the_keys_tab_is_typed_into_its_filter_never_obeyed_as_keys() {
    let mut s = admin_with(3);
    // `q` would quit, `x` deactivate, `D` delete, were they keys.
    let fx = update(&mut s, Msg::Paste("kw_qxDAbcde_secret\n".into()));
    assert!(!s.quit);
    assert!(s.modal.is_none(), "{:?}", s.modal);
    assert!(s.keys.filter.editing);
    assert!(!key_ref_loads(&fx).is_empty(), "the filter runs: {fx:?}");
    // One line, as typed.
    assert_eq!(s.keys.filter.input.value(), "kw_qxDAbcde_secret");
}

#[test]
fn a_paste_into_a_confirmation_or_a_tab_without_a_filter_is_dropped() {
    let mut s = admin_with(3);
    press_planned(&mut s, 'x');
    assert!(matches!(s.modal, Some(Modal::Confirm(_))));
    let fx = update(&mut s, Msg::Paste("yyy".into()));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(s.modal, Some(Modal::Confirm(_))));
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, ch('5'));
    assert_eq!(s.tab, Tab::Directory);
    update(&mut s, Msg::Paste("q".into()));
    assert!(!s.quit);
}

#[test]
fn esc_and_a_key_at_once_cancel_a_confirmation_never_confirm_it() {
    let mut s = admin_with(3);
    for key in [KeyCode::Char('y'), KeyCode::Enter] {
        press_planned(&mut s, 'x');
        assert!(matches!(s.modal, Some(Modal::Confirm(_))));
        // Esc then the key in one read, as a terminal reports it: Alt-key.
        let fx = update(&mut s, Msg::Key(KeyEvent::new(key, KeyModifiers::ALT)));
        assert!(s.modal.is_none(), "{key:?}: {:?}", s.modal);
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::ApplyBulk { .. })),
            "{key:?} confirmed: {fx:?}"
        );
    }
}

#[test]
fn a_pasted_key_takes_the_place_of_the_filter_there_or_joins_the_one_being_typed_as_a_word() {
    let leaked = issued(9, "leaked");
    let token = leaked.token.expose().to_owned();
    let id = leaked.key.public_id.clone();
    let mut s = admin_with(3);
    // A filter left from the last search, not being typed.
    update(&mut s, ch('/'));
    type_text(&mut s, "status:active");
    update(&mut s, press(KeyCode::Enter));
    assert!(!s.keys.filter.editing);
    update(&mut s, Msg::Paste(format!("{token}\n")));
    let shown = s.keys.filter.input.value().to_owned();
    assert!(!shown.contains(&token[12..]), "the secret shows: {shown}");
    assert!(shown.contains(&id) && !shown.contains("status"), "{shown}");
    // Into a filter being typed, a word of its own.
    clear_line(&mut s);
    type_text(&mut s, "leak");
    update(&mut s, Msg::Paste(token.clone()));
    let shown = s.keys.filter.input.value().to_owned();
    assert!(!shown.contains(&token[12..]), "the secret shows: {shown}");
    assert!(shown.starts_with("leak ") && shown.contains(&id), "{shown}");
}
