//! Snapshots of history screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn hostile_names_in_the_history() {
    let mut state = history_state();
    state.history.rows.insert(
        0,
        history_row(
            10,
            0,
            "created",
            11,
            &format!("{ESC_RED}{OSC_52}\u{202e}\u{200b}"),
        ),
    );
    snap_both("hostile_history_tab", &mut state);
}

#[test]
fn more_hostile_names_in_the_history() {
    let mut state = history_state();
    for (seq, subject) in [
        (12, C1.to_owned()),
        (
            11,
            format!("{OSC_50}{COMBINING}\u{2066}x\u{2069}\u{200c}\u{200d}"),
        ),
        (10, very_long_name()),
    ] {
        let mut row = history_row(seq, 0, "created", 21, &subject);
        row.record.details = format!("{{\"name\":\"{EMOJI}\u{1b}]50;?\u{7}\"}}");
        state.history.rows.insert(0, row);
    }
    snap_both("hostile_more_history_tab", &mut state);
    state.history.columns = vec![Column::Subject, Column::Details];
    snap_both("hostile_more_history_details_column", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("\\e]50;?\\u{7}"), "{text}");
}

#[test]
fn history_tab_default_columns() {
    let mut state = history_state();
    snap_both("history_tab", &mut state);
}

#[test]
fn history_tab_extra_columns() {
    let mut state = history_state();
    state.history.columns = vec![
        Column::Seq,
        Column::At,
        Column::Action,
        Column::Subject,
        Column::Login,
        Column::Host,
        Column::SshClient,
        Column::Details,
    ];
    snap_both("history_tab_extra_columns", &mut state);
}

#[test]
fn column_menu() {
    let mut state = history_state();
    state.modal = Some(Modal::Columns(Box::new(ColumnMenu {
        cursor: 3,
        shown: state.history.columns.clone(),
        changed: false,
    })));
    snap_both("column_menu", &mut state);
}

#[test]
fn export_prompt() {
    let mut state = history_state();
    state.modal = Some(Modal::Export(Box::new(ExportPrompt {
        path: Input::new("./keyward-history-2026-03-10.csv".to_owned()),
        format: ExportFormat::Csv,
        error: Some("./keyward-history-2026-03-10.csv exists; pick another name".to_owned()),
        query: HistoryQuery::default(),
        columns: state.history.columns.clone(),
    })));
    snap_both("export_prompt", &mut state);
}
