//! Snapshots of history screens at 80×24 and 60×16, and of rows opened in
//! full at 80×24 and 120×34 (`snapshot_testing` says how).

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
        edited: true,
        writing: false,
    })));
    snap_both("export_prompt", &mut state);
}

/// Snapshots the state at 80×24 and 120×34.
fn snap_wide(name: &str, state: &mut State) {
    for (w, h) in [(80, 24), (120, 34)] {
        state.width = w;
        state.height = h;
        let text = render(state, w, h);
        snapshot(&format!("{name}_{w}x{h}"), &text);
    }
}

/// 2026-05-28 plus `days`, as the service writes dates.
fn date(days: i64) -> String {
    chrono::DateTime::from_timestamp(NOW + days * DAY, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// 2026-05-28 plus `days`, as the row window shows a date in full.
fn utc(days: i64) -> String {
    chrono::DateTime::from_timestamp(NOW + days * DAY, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn utc_seconds(days: i64) -> String {
    chrono::DateTime::from_timestamp(NOW + days * DAY, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// History with the details each action writes.
fn detailed_state() -> State {
    let mut state = history_state();
    let details = [
        (
            "updated",
            format!(
                r#"{{"developer":{{"from":"Ana","to":"Ben"}},"expires_at":{{"from":"{}","to":"{}"}}}}"#,
                date(30),
                date(60)
            ),
        ),
        (
            "renewed",
            format!(
                r#"{{"previous":"kw_pub00001_…Zz99","expires_at":{{"from":"{}","to":"{}"}},"grace_until":"{}"}}"#,
                date(10),
                date(100),
                date(1)
            ),
        ),
        (
            "teams_changed",
            r#"{"added":["payments"],"removed":["ops"],"teams":["payments","web"]}"#.to_owned(),
        ),
        ("deactivated", r#"{"was":"active"}"#.to_owned()),
        ("verify_failed", r#"{"reason":"mismatch"}"#.to_owned()),
        (
            "created",
            format!(
                r#"{{"instance":"prod","developer":"Ana","channel":"ci","teams":["ops"],"expires_at":"{}"}}"#,
                date(90)
            ),
        ),
        (
            "instance_edited",
            r#"{"max_active":{"from":2,"to":3}}"#.to_owned(),
        ),
    ];
    for (row, (action, d)) in state.history.rows.iter_mut().zip(details) {
        row.record.action = action.to_owned();
        row.record.at = NOW;
        row.record.details = d;
    }
    state.history.columns = vec![Column::At, Column::Action, Column::Subject, Column::Details];
    state.history.cursor = 0;
    state
}

#[test]
fn the_details_column_reads_as_a_summary() {
    let mut state = detailed_state();
    snap_wide("history_details_summary", &mut state);
    let text = render(&state, 120, 34);
    assert!(
        text.contains("developer: Ana → Ben, expires: +30 d"),
        "{text}"
    );
    assert!(text.contains("teams: +payments −ops"), "{text}");
    assert!(!text.contains("{\""), "no raw JSON: {text}");
}

#[test]
fn a_history_row_opened_in_full() {
    let mut state = detailed_state();
    state.history.rows[0].record.origin.sudo_user = Some("root".to_owned());
    press(&mut state, KeyCode::Enter);
    snap_wide("history_row_window", &mut state);
    let text = render(&state, 120, 34);
    for want in [
        "developer: Ana → Ben".to_owned(),
        format!("expires: {} → {}", utc(30), utc(60)),
        "bastion-1".to_owned(),
        "root".to_owned(),
        "10.0.4.17 51234 22".to_owned(),
        "/dev/pts/3".to_owned(),
        format!("{} UTC", utc_seconds(0)),
    ] {
        assert!(text.contains(&want), "{want} missing: {text}");
    }
}

#[test]
fn a_long_history_row_scrolls() {
    let mut state = detailed_state();
    let fields: Vec<String> = (0..20)
        .map(|i| format!("\"field{i:02}\":{{\"from\":\"old {i}\",\"to\":\"new {i}\"}}"))
        .collect();
    state.history.rows[0].record.details = format!("{{{}}}", fields.join(","));
    state.width = 80;
    state.height = 24;
    press(&mut state, KeyCode::Enter);
    for _ in 0..5 {
        press(&mut state, KeyCode::Char('j'));
    }
    let text = render(&state, 80, 24);
    snapshot("history_row_window_scrolled_80x24", &text);
    assert!(text.contains("↑↓ more"), "{text}");
}

#[test]
fn h_on_a_key_shows_its_history_and_says_whose() {
    let mut state = keys_state();
    state.history.rows = history_state().history.rows;
    let billing = public_id(1);
    state.keys.cursor = state
        .keys
        .refs
        .iter()
        .position(|r| r.public_id == billing)
        .unwrap_or_default();
    press(&mut state, KeyCode::Char('h'));
    assert_eq!(state.history.filter.applied, format!("key:{billing}"));
    // The rows as the store would answer.
    let generation = state.history.generation;
    let rows: Vec<HistoryRow> = history_state()
        .history
        .rows
        .into_iter()
        .filter(|r| r.record.key.as_deref() == Some(billing.as_str()))
        .collect();
    assert_eq!(rows.len(), 3);
    update(
        &mut state,
        Msg::HistoryRows {
            generation,
            page: keyward_core::domain::history::HistoryPage::Newest,
            result: Ok(rows),
        },
    );
    snap_wide("history_of_one_key", &mut state);
}

#[test]
fn an_invalid_history_filter_shows_no_rows_and_why() {
    // The filter of the report: an action that does not exist.
    let mut state = history_state();
    press(&mut state, KeyCode::Char('/'));
    for c in "action:bogus".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    snap_both("history_invalid_filter", &mut state);
    press(&mut state, KeyCode::Char('E'));
    snap_both("history_export_refused_invalid_filter", &mut state);
}

#[test]
fn an_export_clash_keeps_the_prompt_open() {
    let mut state = history_state();
    press(&mut state, KeyCode::Char('E'));
    press(&mut state, KeyCode::Enter);
    update(
        &mut state,
        Msg::Exported(Err(Error::usage(
            "./keyward-history-20260310-120000.csv exists already; give another name (an export never writes over a file)",
        ))),
    );
    snap_both("export_clash", &mut state);
}
