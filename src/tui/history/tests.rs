//! `update` tests of the History tab, its column menu and its export prompt, driven by hand-made messages.

use crate::tui::testing::*;

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

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
fn esc_and_a_key_read_as_one_alt_key_close_the_menu_then_act_as_the_key() {
    let mut s = history_with_full_page();
    update(&mut s, ch('m'));
    assert_eq!(layer(&s), columns::LAYER);
    // Esc then `/` at once, as a terminal reports it: Alt-/.
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::ALT)),
    );
    assert!(s.modal.is_none());
    assert!(layer(&s).takes_text, "the filter line takes what follows");
}

#[test]
fn m_opens_the_column_menu_and_space_toggles_a_column_saved_on_close() {
    let mut s = history_with_full_page();
    update(&mut s, ch('m'));
    assert_eq!(layer(&s), columns::LAYER);
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
            if names == "at,action,subject,operator,email,details"),
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
    assert_eq!(layer(&s), export::LAYER);
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
    update(&mut s, Msg::Exported(Ok((path.clone().into(), 200))));
    assert!(s.modal.is_none());
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
// A row opened in full
// ---------------------------------------------------------------------------------------------

fn opened(s: &State) -> &row::RowWindow {
    match &s.modal {
        Some(Modal::HistoryRow(w)) => w,
        other => panic!("expected a history row, got {other:?}"),
    }
}

#[test]
fn enter_opens_the_row_under_the_cursor_and_esc_closes_it() {
    let mut s = history_with_full_page();
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "opening reads nothing more: {fx:?}");
    assert_eq!(layer(&s), row::LAYER);
    assert_eq!(opened(&s).row.record.seq, 998);
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
    assert_eq!(s.history.cursor, 2, "the cursor stays where it was");
}

#[test]
fn enter_on_an_empty_history_opens_nothing() {
    let mut s = admin_with(1);
    update(&mut s, ch('4'));
    update(&mut s, press(KeyCode::Enter));
    assert!(s.modal.is_none());
}

#[test]
fn j_and_k_scroll_a_long_row_and_stop_at_its_last_line() {
    let mut s = history_with_full_page();
    // Many changes: more lines than a short screen shows.
    let fields: Vec<String> = (0..30)
        .map(|i| format!("\"f{i:02}\":{{\"from\":\"a{i}\",\"to\":\"b{i}\"}}"))
        .collect();
    s.history.rows[0].record.details = format!("{{{}}}", fields.join(","));
    update(&mut s, press(KeyCode::Enter));
    update(&mut s, ch('k'));
    assert_eq!(opened(&s).scroll, 0);
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    assert_eq!(opened(&s).scroll, 2);
    update(&mut s, ch('k'));
    assert_eq!(opened(&s).scroll, 1);
    for _ in 0..100 {
        update(&mut s, ch('j'));
    }
    let last = opened(&s).scroll;
    // 14 field lines (the hash on a line of its own), a blank, a heading and
    // 30 changes; the box is 24 - 3 - 2 high.
    assert_eq!(last, 14 + 2 + 30 - (24 - 3 - 2));
    update(&mut s, press(KeyCode::PageUp));
    assert_eq!(opened(&s).scroll, last - (24 - 3 - 2));
}

// ---------------------------------------------------------------------------------------------
// h on the Keys tab
// ---------------------------------------------------------------------------------------------

#[test]
fn h_on_a_key_opens_the_history_filtered_to_that_key_and_says_so() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ch('h'));
    assert_eq!(s.tab, Tab::History);
    assert_eq!(s.history.filter.input.value(), "key:pub00002");
    assert_eq!(s.history.filter.applied, "key:pub00002");
    assert_eq!(history::shown_key(&s.history), Some("key-002"));
    let [
        Effect::LoadHistory {
            query,
            page: HistoryPage::Newest,
            ..
        },
    ] = fx.as_slice()
    else {
        panic!("expected one history load, got {fx:?}");
    };
    assert_eq!(*query, HistoryQuery::parse("key:pub00002").unwrap());
    // Esc clears the filter, and the note with it.
    update(&mut s, press(KeyCode::Esc));
    assert_eq!(s.history.filter.input.value(), "");
    assert_eq!(history::shown_key(&s.history), None);
}

#[test]
fn h_with_no_keys_stays_on_the_keys_tab() {
    let mut s = admin_with(0);
    let fx = update(&mut s, ch('h'));
    assert_eq!(s.tab, Tab::Keys);
    assert!(history_loads(&fx).is_empty());
}

// ---------------------------------------------------------------------------------------------
// An invalid filter
// ---------------------------------------------------------------------------------------------

#[test]
fn an_invalid_history_filter_clears_the_rows_and_drops_a_late_page() {
    let mut s = history_with_full_page();
    update(&mut s, ch('/'));
    type_text(&mut s, "action:created");
    assert!(s.history.filter.error.is_none());
    let before = s.history.generation;
    // Not an action: refused by the filter itself, not by the store.
    type_text(&mut s, "x");
    assert!(s.history.filter.error.is_some());
    assert!(
        s.history.rows.is_empty(),
        "no stale rows under an invalid filter"
    );
    assert!(s.history.generation > before);
    // A page asked for under the valid filter arrives late: dropped.
    update(
        &mut s,
        Msg::HistoryRows {
            generation: before,
            page: HistoryPage::Newest,
            result: Ok(history_rows(1000, 5)),
        },
    );
    assert!(s.history.rows.is_empty());
    assert!(
        history::is_full(&s.history),
        "an empty list is the whole answer"
    );
}

#[test]
fn going_back_to_the_last_valid_filter_reads_it_again() {
    let mut s = history_with_full_page();
    update(&mut s, ch('/'));
    type_text(&mut s, "action:created");
    type_text(&mut s, "x");
    assert!(s.history.rows.is_empty());
    let fx = update(&mut s, press(KeyCode::Backspace));
    assert_eq!(history_loads(&fx).len(), 1, "{fx:?}");
}

#[test]
fn capital_e_refuses_to_export_while_the_filter_is_invalid_and_says_why() {
    let mut s = history_with_full_page();
    update(&mut s, ch('/'));
    type_text(&mut s, "action:bogus");
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, ch('E'));
    assert!(s.modal.is_none(), "no prompt for a header-only file");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Export { .. })));
    assert!(error_status(&s));
    assert!(
        status_text(&s).contains("the filter is invalid") && status_text(&s).contains("bogus"),
        "{}",
        status_text(&s)
    );
}

// ---------------------------------------------------------------------------------------------
// Export names
// ---------------------------------------------------------------------------------------------

#[test]
fn an_export_clash_keeps_the_prompt_open_and_asks_for_another_name() {
    let mut s = history_with_full_page();
    update(&mut s, ch('E'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.iter().any(|e| matches!(e, Effect::Export { .. })));
    assert!(export_prompt(&s).writing, "waits for the answer");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "one export at a time: {fx:?}");
    let why = "./h.csv exists already; give another name";
    update(&mut s, Msg::Exported(Err(Error::usage(why))));
    let p = export_prompt(&s);
    assert_eq!(p.error.as_deref(), Some(why));
    assert!(!p.writing);
    // Another name, and it goes through.
    clear_line(&mut s);
    type_text(&mut s, "other.csv");
    assert!(export_prompt(&s).error.is_none());
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::Export { path, .. }] if path.to_str() == Some("other.csv")),
        "{fx:?}"
    );
    update(&mut s, Msg::Exported(Ok(("other.csv".into(), 200))));
    assert!(s.modal.is_none());
    assert!(status_text(&s).contains("Exported 200 history rows to other.csv"));
}

#[test]
fn the_export_prompt_asks_for_a_free_name_and_offers_it_unless_one_was_typed() {
    let mut s = history_with_full_page();
    let fx = update(&mut s, ch('E'));
    let [Effect::ProposeExportPath(asked)] = fx.as_slice() else {
        panic!("expected a free-name request, got {fx:?}");
    };
    assert_eq!(asked.display().to_string(), export_prompt(&s).path.value());
    let free = asked.with_file_name("keyward-history-x-2.csv");
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, Msg::ExportPath(free.clone()));
    assert!(
        export_prompt(&s)
            .path
            .value()
            .ends_with("keyward-history-x-2.json"),
        "the format chosen stays: {}",
        export_prompt(&s).path.value()
    );
    // Typed over: a late answer leaves the admin's name alone.
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, ch('E'));
    type_text(&mut s, "-mine");
    let typed = export_prompt(&s).path.value().to_owned();
    update(&mut s, Msg::ExportPath(free));
    assert_eq!(export_prompt(&s).path.value(), typed);
}

#[test]
fn a_leaked_key_pasted_into_the_history_filter_keeps_only_its_public_id() {
    let mut s = history_with_full_page();
    let leaked = issued(9, "leaked");
    let token = leaked.token.expose().to_owned();
    update(&mut s, ch('/'));
    for c in token.chars() {
        update(&mut s, ch(c));
    }
    let shown = s.history.filter.input.value().to_owned();
    assert!(shown.contains(&leaked.key.public_id), "{shown}");
    let secret = &token[12..44];
    assert!(!format!("{:?}", s.history.filter).contains(secret));
    assert!(
        s.history.filter.error.is_none(),
        "{:?}",
        s.history.filter.error
    );
    assert!(status_text(&s).contains("keeps only its public id"));
}

#[test]
fn g_and_capital_g_jump_to_the_first_and_last_column_in_the_menu() {
    let mut s = history_with_full_page();
    update(&mut s, ch('m'));
    update(&mut s, ch('G'));
    let last = Column::ALL.len() - 1;
    assert!(
        matches!(&s.modal, Some(Modal::Columns(m)) if m.cursor == last),
        "{:?}",
        s.modal
    );
    update(&mut s, ch('g'));
    assert!(matches!(&s.modal, Some(Modal::Columns(m)) if m.cursor == 0));
}

#[test]
fn a_history_that_could_not_be_read_is_not_called_empty() {
    let mut s = admin_with(1);
    update(&mut s, ch('4'));
    let generation = s.history.generation;
    update(
        &mut s,
        Msg::HistoryRows {
            generation,
            page: HistoryPage::Newest,
            result: Err(Error::store_because(
                keyward_core::error::StoreCause::Io,
                "the connection to PostgreSQL at postgres://kw@db:5432/keyward was lost",
            )),
        },
    );
    assert!(s.history.failed);
    let screen = crate::tui::snapshot_testing::render(&s, 80, 24);
    assert!(screen.contains("could not be read"), "{screen}");
    assert!(!screen.contains("No history matches"), "{screen}");
}
