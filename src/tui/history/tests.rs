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
