//! Snapshots of every tab, form, modal and screen, drawn by `view` into a
//! `TestBackend` at 80×24 and at the smallest drawn size, 60×16. States are
//! built by hand (and modals opened through `update`, as a key press would),
//! with fixed times, no colour and UTC, so no snapshot depends on the clock,
//! the time zone or the terminal. Every render also checks that no cell holds
//! a raw control character, bidi override or zero-width character.

use super::view;
use crate::clipboard::Via;
use crate::tui::state::*;
use crate::tui::update::update;
use keyward_core::domain::KeyToken;
use keyward_core::domain::history::HistoryRow;
use keyward_core::domain::history::{HistoryRecord, Origin};
use keyward_core::domain::model::KeyRef;
use keyward_core::domain::model::SavedFilter;
use keyward_core::domain::model::{
    Cloud, Developer, Instance, Key, KeyStatus, Operator, Role, Team,
};
use keyward_core::domain::query::KeyQuery;
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportFormat};
use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Position;
use tui_input::Input;

/// 2026-03-10 12:00:00 UTC.
const NOW: i64 = 1_773_144_000;
const DAY: i64 = 86_400;

const ESC_RED: &str = "\u{1b}[31mred\u{1b}[0m";
const OSC_52: &str = "\u{1b}]52;c;aGk=\u{7}";

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Characters a terminal would obey or hide: none may reach a cell.
fn forbidden(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c,
            '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
        )
}

/// Draws the state into a `width`×`height` test terminal and returns the
/// screen as text, one quoted line per row, and where the text cursor is.
fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| view(state, f)).expect("draw");
    let backend = terminal.backend_mut();
    for (i, cell) in backend.buffer().content.iter().enumerate() {
        let sym = cell.symbol();
        assert!(
            !sym.chars().any(forbidden),
            "raw {sym:?} in cell ({}, {}) of the {width}×{height} screen",
            i % usize::from(width),
            i / usize::from(width),
        );
    }
    let mut text = backend.to_string();
    let at = backend.get_cursor_position().expect("cursor position");
    if at != Position::ORIGIN {
        text.push_str(&format!("text cursor at column {}, row {}\n", at.x, at.y));
    }
    text
}

/// Snapshots the state at 80×24 and 60×16, as `<name>_80x24` and `<name>_60x16`.
fn snap_both(name: &str, state: &mut State) {
    for (w, h) in [(80, 24), (60, 16)] {
        state.width = w;
        state.height = h;
        let text = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
    }
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn press_ctrl(state: &mut State, c: char) {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}

// ---------------------------------------------------------------------------------------------
// Data with fixed times
// ---------------------------------------------------------------------------------------------

fn settings() -> UiSettings {
    UiSettings {
        color: false,
        utc_offset: 0,
        ..UiSettings::default()
    }
}

fn operator(login: &str, name: &str) -> Operator {
    Operator {
        login: login.to_owned(),
        name: name.to_owned(),
        email: format!("{login}@example.org"),
        role: Role::Admin,
        created_at: NOW - 400 * DAY,
    }
}

/// A state on the main screen of `ana`, an admin, with nothing loaded.
fn main_state() -> State {
    let mut state = State::new(settings(), "/srv/keyward/keyward.db".to_owned(), None);
    state.screen = Screen::Main;
    state.me = Some(operator("ana", "Ana Silva"));
    state.now = NOW;
    state
}

fn public_id(id: i64) -> String {
    format!("kA3f{id:04}")
}

struct K<'a> {
    id: i64,
    name: &'a str,
    instance: &'a str,
    developer: &'a str,
    channel: &'a str,
    teams: &'a [&'a str],
    status: KeyStatus,
    /// Days from now; `None` never expires.
    expires: Option<i64>,
    last_used: Option<i64>,
}

fn key(k: K) -> Key {
    let closed = (k.status == KeyStatus::Deactivated).then_some(NOW - 20 * DAY);
    Key {
        id: k.id,
        public_id: public_id(k.id),
        name: k.name.to_owned(),
        instance_id: 1,
        instance: k.instance.to_owned(),
        cloud: Cloud::Salesforce,
        developer_id: 1,
        developer: k.developer.to_owned(),
        channel_id: 1,
        channel: k.channel.to_owned(),
        teams: k.teams.iter().map(|t| (*t).to_owned()).collect(),
        status: k.status,
        tail: "7Gd2".to_owned(),
        expires_at: k.expires.map(|d| NOW + d * DAY),
        created_at: NOW - 200 * DAY,
        created_by: "ana".to_owned(),
        changed_at: NOW - 30 * DAY,
        deactivated_at: closed,
        deleted_at: None,
        last_used_at: k.last_used.map(|d| NOW - d * DAY),
        use_count: if k.last_used.is_some() { 1_204 } else { 0 },
        grace_until: None,
    }
}

/// Five keys in every state the table marks, and one whose row is not loaded yet.
fn sample_keys() -> Vec<Key> {
    vec![
        key(K {
            id: 1,
            name: "billing sync",
            instance: "acme-prod",
            developer: "ana.silva",
            channel: "ci",
            teams: &["payments"],
            status: KeyStatus::Active,
            expires: Some(9),
            last_used: Some(1),
        }),
        key(K {
            id: 2,
            name: "crm export",
            instance: "acme-prod",
            developer: "integration-bot",
            channel: "zapier",
            teams: &["payments", "platform"],
            status: KeyStatus::Active,
            expires: Some(120),
            last_used: None,
        }),
        key(K {
            id: 3,
            name: "legacy webhook",
            instance: "acme-sandbox",
            developer: "bo.chen",
            channel: "webhook",
            teams: &[],
            status: KeyStatus::Expired,
            expires: Some(-3),
            last_used: Some(40),
        }),
        key(K {
            id: 4,
            name: "old importer",
            instance: "acme-sandbox",
            developer: "bo.chen",
            channel: "cron",
            teams: &["platform"],
            status: KeyStatus::Deactivated,
            expires: Some(60),
            last_used: Some(25),
        }),
        key(K {
            id: 5,
            name: "reporting bot",
            instance: "acme-prod",
            developer: "integration-bot",
            channel: "ci",
            teams: &["data"],
            status: KeyStatus::Active,
            expires: None,
            last_used: Some(0),
        }),
    ]
}

/// Puts the keys in the list, in order, with their rows loaded.
fn load_keys(state: &mut State, keys: Vec<Key>) {
    for k in keys {
        state.keys.refs.push(KeyRef {
            id: k.id,
            public_id: k.public_id.clone(),
            name: k.name.clone(),
        });
        state.keys.rows.insert(k.id, k);
    }
}

fn select(state: &mut State, id: i64) {
    let r = state
        .keys
        .refs
        .iter()
        .find(|r| r.id == id)
        .expect("key in list")
        .clone();
    state.keys.selected.insert(r.id, (r.public_id, r.name));
}

/// The Keys tab: the sample keys plus one not loaded yet, the cursor on the
/// expired key, the crm export and reporting bot selected.
fn keys_state() -> State {
    let mut state = main_state();
    load_keys(&mut state, sample_keys());
    state.keys.refs.push(KeyRef {
        id: 6,
        public_id: public_id(6),
        name: "zeta sync".to_owned(),
    });
    state.keys.cursor = 2;
    select(&mut state, 2);
    select(&mut state, 5);
    state.teams.teams = teams();
    state
}

fn teams() -> Vec<Team> {
    ["data", "payments", "platform"]
        .iter()
        .zip([1, 2, 2])
        .enumerate()
        .map(|(i, (name, keys))| Team {
            id: i as i64 + 1,
            name: (*name).to_owned(),
            keys,
            created_at: NOW - 300 * DAY,
        })
        .collect()
}

fn hostile_teams() -> Vec<Team> {
    let mut t = teams();
    t.push(Team {
        id: 9,
        name: format!("ops{OSC_52}"),
        keys: 1,
        created_at: NOW - DAY,
    });
    t.push(Team {
        id: 10,
        name: "pay\u{200b}ments".to_owned(),
        keys: 1,
        created_at: NOW - DAY,
    });
    t
}

fn hostile_keys() -> Vec<Key> {
    vec![
        key(K {
            id: 11,
            name: ESC_RED,
            instance: "acme-prod",
            developer: "eve\u{202e}nimda",
            channel: "ci",
            teams: &["payments"],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 12,
            name: OSC_52,
            instance: "acme\u{200b}-prod",
            developer: "ana.silva",
            channel: "c\u{1b}[2Ji",
            teams: &["ops\u{1b}]52;c;aGk=\u{7}"],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 13,
            name: "invoice\u{202e}fdp.exe",
            instance: "acme-prod",
            developer: "ana.silva",
            channel: "ci",
            teams: &[],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 14,
            name: "pay\u{200b}roll",
            instance: "acme-prod",
            developer: "zero\u{200b}width",
            channel: "ci",
            teams: &["pay\u{200b}ments"],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
    ]
}

fn choices() -> FormChoices {
    let instance = |id: i64, name: &str| Instance {
        id,
        name: name.to_owned(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: 2,
        created_at: NOW - 300 * DAY,
        active_keys: 2,
        keys: 3,
    };
    let developer = |id: i64, name: &str| Developer {
        id,
        instance: "acme-prod".to_owned(),
        name: name.to_owned(),
        active_keys: 1,
        keys: 2,
    };
    FormChoices {
        instances: vec![instance(1, "acme-prod"), instance(2, "acme-sandbox")],
        developers: vec![
            developer(1, "ana.silva"),
            developer(2, "bo.chen"),
            developer(3, "integration-bot"),
        ],
        channels: vec![
            "ci".into(),
            "cron".into(),
            "webhook".into(),
            "zapier".into(),
        ],
        teams: teams(),
    }
}

/// A valid key for the new-secret modal: fixed secret, real checksum.
fn token(id: i64) -> KeyToken {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let body = format!("kw_{}_Zq81TbW4pLx0Vn6RcYe2Hs9MkJd3Ga7F", public_id(id));
    let mut n = crc32fast::hash(body.as_bytes());
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let text = format!("{body}{}", std::str::from_utf8(&sum).expect("ascii"));
    KeyToken::parse(&text).expect("a valid key")
}

fn secret_state(copied: Option<Via>, copy_error: Option<&str>) -> State {
    let mut state = keys_state();
    let mut k = state.keys.rows[&1].clone();
    k.expires_at = Some(NOW + 90 * DAY);
    state.modal = Some(Modal::NewSecret(Box::new(NewSecret {
        key: k,
        token: token(1),
        renewed: false,
        copied,
        copy_error: copy_error.map(str::to_owned),
    })));
    state
}

fn history_row(seq: i64, days_ago: i64, action: &str, key_id: i64, subject: &str) -> HistoryRow {
    HistoryRow {
        record: HistoryRecord {
            seq,
            at: NOW - days_ago * DAY - 3_600 * seq,
            action: action.to_owned(),
            key: Some(public_id(key_id)),
            masked: Some(format!("kw_{}_…7Gd2", public_id(key_id))),
            subject: Some(subject.to_owned()),
            operator: Some("Ana Silva".to_owned()),
            email: Some("ana@example.org".to_owned()),
            origin: Origin {
                login: "ana".to_owned(),
                host: "bastion-1".to_owned(),
                sudo_user: None,
                ssh_client: Some("10.0.4.17 51234 22".to_owned()),
                tty: Some("/dev/pts/3".to_owned()),
            },
            details: if action == "renewed" {
                r#"{"grace":"7d"}"#.to_owned()
            } else {
                "{}".to_owned()
            },
        },
        hash: format!("{seq:064x}"),
    }
}

fn history_state() -> State {
    let mut state = main_state();
    state.tab = Tab::History;
    state.history.loaded = true;
    state.history.rows = vec![
        history_row(9, 0, "viewed", 1, "billing sync"),
        history_row(8, 1, "renewed", 1, "billing sync"),
        history_row(7, 2, "copied", 2, "crm export"),
        history_row(6, 3, "deactivated", 4, "old importer"),
        history_row(5, 5, "teams_changed", 2, "crm export"),
        history_row(4, 8, "created", 5, "reporting bot"),
        history_row(3, 20, "created", 2, "crm export"),
        history_row(2, 30, "created", 4, "old importer"),
        history_row(1, 40, "created", 1, "billing sync"),
    ];
    state.history.cursor = 1;
    state
}

// ---------------------------------------------------------------------------------------------
// Keys tab
// ---------------------------------------------------------------------------------------------

#[test]
fn status_line_counts_undelivered_notifications() {
    let mut state = keys_state();
    state.outbox = keyward_core::domain::outbox::OutboxCounts {
        pending: 2,
        failed: 1,
    };
    let text = render(&state, 80, 24);
    assert!(text.contains("✉ 2 pending · 1 failed"), "{text}");
    state.outbox.failed = 0;
    assert!(render(&state, 80, 24).contains("✉ 2 pending "));
    state.outbox.pending = 0;
    assert!(!render(&state, 80, 24).contains('✉'));
    state.outbox.failed = 4;
    snap_both("status_line_failed_notifications", &mut state);
}

#[test]
fn keys_tab() {
    let mut state = keys_state();
    snap_both("keys_tab", &mut state);
}

#[test]
fn keys_tab_with_query_error() {
    let mut state = keys_state();
    let typed = "stauts:active expires:<30d";
    state.keys.filter.input = Input::new(typed.to_owned());
    state.keys.filter.editing = true;
    state.keys.filter.error = Some(
        KeyQuery::parse(typed)
            .expect_err("stauts is no field")
            .to_string(),
    );
    snap_both("keys_tab_query_error", &mut state);
}

#[test]
fn keys_tab_with_detail_pane() {
    let mut state = keys_state();
    state.keys.cursor = 0;
    let mut k = state.keys.rows[&1].clone();
    k.grace_until = Some(NOW + 2 * DAY);
    state.keys.detail = Some(k);
    snap_both("keys_tab_detail", &mut state);
}

#[test]
fn keys_tab_empty() {
    let mut state = main_state();
    state.keys.filter.input = Input::new("team:nobody".to_owned());
    state.keys.filter.applied = "team:nobody".to_owned();
    state.status = Some(Status {
        text: "You are a viewer; creating keys needs the manager role.".to_owned(),
        error: true,
        id: 1,
    });
    snap_both("keys_tab_empty", &mut state);
}

#[test]
fn keys_tab_help_overlay() {
    let mut state = keys_state();
    state.help = true;
    snap_both("keys_tab_help", &mut state);
}

// ---------------------------------------------------------------------------------------------
// Hostile text from the store
// ---------------------------------------------------------------------------------------------

fn hostile_state() -> State {
    let mut state = main_state();
    state.me = Some(operator("mallory\u{202e}", "Mal\u{1b}[2J"));
    load_keys(&mut state, hostile_keys());
    state.teams.teams = hostile_teams();
    state
}

#[test]
fn hostile_names_on_the_keys_tab() {
    let mut state = hostile_state();
    snap_both("hostile_keys_tab", &mut state);
    let text = render(&state, 80, 24);
    // The name column is narrow at 80 columns: the OSC 52 name shows cut short
    // here, whole in the detail pane.
    for shown in [
        "\\e[31mred\\e[0m",
        "\\e]52;c;aGk=",
        "\\u{202e}",
        "\\u{200b}",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn hostile_names_in_the_detail_pane() {
    let mut state = hostile_state();
    state.keys.cursor = 1;
    state.keys.detail = Some(state.keys.rows[&12].clone());
    snap_both("hostile_detail", &mut state);
    let text = render(&state, 80, 24);
    for shown in ["\\e]52;c;aGk=\\u{7}", "acme\\u{200b}-prod", "c\\e[2Ji"] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn hostile_names_on_the_teams_tab() {
    let mut state = hostile_state();
    state.tab = Tab::Teams;
    select(&mut state, 14);
    snap_both("hostile_teams_tab", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("pay\\u{200b}ments"), "{text}");
}

#[test]
fn hostile_names_in_a_confirmation() {
    let mut state = hostile_state();
    select(&mut state, 11);
    select(&mut state, 12);
    select(&mut state, 13);
    press(&mut state, KeyCode::Char('x'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("hostile_deactivate_confirm", &mut state);
}

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

const OSC_50: &str = "\u{1b}]50;?\u{7}";
/// C1 controls as UTF-8: CSI, NEL, OSC and ST, which some terminals obey like ESC [ and ESC ].
const C1: &str = "c1\u{9b}31m\u{85}x\u{9d}0;t\u{9c}";
const COMBINING: &str = "Z\u{336}\u{335}a\u{301}\u{302}l\u{30a}g\u{327}o";
const EMOJI: &str = "🔑 deploy 👩\u{200d}💻 🇫🇷 ✈\u{fe0f}";

/// The longest name there may be: 128 characters, wide ones among them.
fn very_long_name() -> String {
    let name = format!(
        "{}{}",
        "nightly-ledger-reconciliation-".repeat(3),
        "鍵".repeat(38)
    );
    assert_eq!(name.chars().count(), 128);
    name
}

/// More hostile text: C1 controls, OSC 50, bidi isolates, zero-width (non-)joiners,
/// combining marks, emoji, separators and a name as long as names go.
fn more_hostile_keys() -> Vec<Key> {
    let mut long = key(K {
        id: 25,
        name: "",
        instance: "acme-prod",
        developer: "ana.silva",
        channel: "ci",
        teams: &[],
        status: KeyStatus::Active,
        expires: Some(30),
        last_used: None,
    });
    long.name = very_long_name();
    long.teams = vec![very_long_name()];
    vec![
        key(K {
            id: 21,
            name: C1,
            instance: &format!("acme{OSC_50}"),
            developer: "iso\u{2066}la\u{2067}t\u{2068}e\u{2069}d",
            channel: "z\u{200c}w\u{200d}j",
            teams: &["ops\u{9d}52;c;aGk=\u{9c}"],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 22,
            name: COMBINING,
            instance: "acme-prod",
            developer: "\u{301}\u{308}lead",
            channel: "ci",
            teams: &[],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 23,
            name: EMOJI,
            instance: "東京",
            developer: "ana.silva",
            channel: "🚀",
            teams: &["🔑 keys"],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        key(K {
            id: 24,
            name: "line\u{2028}sep\u{2029}para\u{feff}bom\u{61c}alm\rcr",
            instance: "acme-prod",
            developer: "ana.silva",
            channel: "ci\u{7f}\u{8}",
            teams: &[],
            status: KeyStatus::Active,
            expires: Some(30),
            last_used: None,
        }),
        long,
    ]
}

fn more_hostile_state() -> State {
    let mut state = main_state();
    load_keys(&mut state, more_hostile_keys());
    let mut teams = teams();
    for (i, name) in [
        "ops\u{9d}52;c;aGk=\u{9c}".to_owned(),
        "🔑 keys".to_owned(),
        very_long_name(),
        format!("font{OSC_50}"),
        "a\u{2066}b\u{2069}c\u{200d}d".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        teams.push(Team {
            id: 20 + i as i64,
            name,
            keys: 1,
            created_at: NOW - DAY,
        });
    }
    state.teams.teams = teams;
    state
}

#[test]
fn more_hostile_names_on_the_keys_tab() {
    let mut state = more_hostile_state();
    snap_both("hostile_more_keys_tab", &mut state);
    let text = render(&state, 80, 24);
    // Narrow columns cut the names short: the detail pane shows more.
    for shown in [
        "c1\\u{9b}",
        "acme\\e]50;?\\",
        "Z\u{336}\u{335}a\u{301}\u{302}l\u{30a}g\u{327}o",
        "🔑 deploy 👩\\u{2",
        "line\\u{2028}sep",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn more_hostile_names_in_the_detail_pane() {
    let mut state = more_hostile_state();
    state.keys.detail = Some(state.keys.rows[&21].clone());
    snap_both("hostile_more_detail", &mut state);
    let text = render(&state, 80, 24);
    for shown in [
        "c1\\u{9b}31m\\u{85}x",
        "acme\\e]50;?\\u{7}",
        "iso\\u{2066}la\\u{2067}t",
        "z\\u{200c}w\\u{200d}j",
        "ops\\u{9d}52;c;aGk=",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn separators_and_marks_in_the_detail_pane() {
    let mut state = more_hostile_state();
    state.keys.cursor = 3;
    state.keys.detail = Some(state.keys.rows[&24].clone());
    snap_both("hostile_separators_detail", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("line\\u{2028}sep\\u{2029}"), "{text}");
}

#[test]
fn a_name_as_long_as_names_go_in_the_detail_pane_and_a_confirmation() {
    let mut state = more_hostile_state();
    state.keys.cursor = 4;
    state.keys.detail = Some(state.keys.rows[&25].clone());
    snap_both("hostile_long_name_detail", &mut state);
    select(&mut state, 25);
    select(&mut state, 21);
    press(&mut state, KeyCode::Char('x'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("hostile_long_name_confirm", &mut state);
}

#[test]
fn more_hostile_names_on_the_teams_tab() {
    let mut state = more_hostile_state();
    state.tab = Tab::Teams;
    select(&mut state, 23);
    snap_both("hostile_more_teams_tab", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("font\\e]50;?\\u{7}"), "{text}");
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

// ---------------------------------------------------------------------------------------------
// Filters, Teams and History tabs
// ---------------------------------------------------------------------------------------------

#[test]
fn filters_tab() {
    let mut state = main_state();
    state.tab = Tab::Filters;
    state.filters.saved = vec![
        SavedFilter {
            name: "payments, expiring".to_owned(),
            query: "team:payments expires:<30d".to_owned(),
        },
        SavedFilter {
            name: "prod bots".to_owned(),
            query: "instance:acme-prod developer:integration-bot".to_owned(),
        },
    ];
    state.filters.cursor = 5;
    snap_both("filters_tab", &mut state);
}

#[test]
fn teams_tab() {
    let mut state = keys_state();
    state.tab = Tab::Teams;
    snap_both("teams_tab", &mut state);
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

// ---------------------------------------------------------------------------------------------
// The key form
// ---------------------------------------------------------------------------------------------

/// Opens the new-key form with `n`, as the admin would, and gives it its lists.
fn new_form_state(lists: FormChoices) -> State {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('n'));
    update(&mut state, Msg::FormChoices(Ok(lists)));
    assert!(matches!(state.modal, Some(Modal::Form(_))));
    state
}

fn form(state: &mut State) -> &mut KeyForm {
    match &mut state.modal {
        Some(Modal::Form(f)) => f,
        other => panic!("no form open: {other:?}"),
    }
}

#[test]
fn new_key_form_without_instances() {
    let mut state = new_form_state(FormChoices::default());
    snap_both("new_key_form_no_instances", &mut state);
}

#[test]
fn new_key_form_with_a_highlighted_suggestion() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    f.inputs[0] = Input::new("billing sync".to_owned());
    f.inputs[1] = Input::new("acme-prod".to_owned());
    f.focus = Field::Developer;
    f.inputs[2] = Input::new("b".to_owned());
    f.choice = Some(1);
    snap_both("new_key_form_suggestion", &mut state);
}

#[test]
fn new_key_form_with_validation_errors() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    f.inputs[1] = Input::new("acme-staging".to_owned());
    f.inputs[2] = Input::new("ana.silva".to_owned());
    f.inputs[3] = Input::new("ci".to_owned());
    f.inputs[5] = Input::new("soon".to_owned());
    press_ctrl(&mut state, 's');
    assert!(form(&mut state).errors.iter().any(Option::is_some));
    snap_both("new_key_form_errors", &mut state);
}

#[test]
fn new_key_form_refused() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    for (i, v) in [
        "billing sync 2",
        "acme-prod",
        "ana.silva",
        "ci",
        "payments",
        "90d",
    ]
    .iter()
    .enumerate()
    {
        f.inputs[i] = Input::new((*v).to_owned());
    }
    f.focus = Field::Expires;
    f.refused = Some(
        Error::Conflict(
            "this integration already has 2 active keys, the limit of instance acme-prod; \
             deactivate one first (rotate: make the new key, move the integration over, \
             deactivate the old one)"
                .to_owned(),
        )
        .to_string(),
    );
    snap_both("new_key_form_refused", &mut state);
}

#[test]
fn edit_key_form() {
    let mut state = keys_state();
    state.keys.cursor = 1;
    press(&mut state, KeyCode::Char('e'));
    update(&mut state, Msg::FormChoices(Ok(choices())));
    assert!(matches!(
        &state.modal,
        Some(Modal::Form(f)) if matches!(f.kind, FormKind::Edit(_))
    ));
    snap_both("edit_key_form", &mut state);
}

// ---------------------------------------------------------------------------------------------
// Confirmations, renew, the new secret
// ---------------------------------------------------------------------------------------------

#[test]
fn renew_modal() {
    let mut state = keys_state();
    state.keys.cursor = 0;
    press(&mut state, KeyCode::Char('r'));
    assert!(matches!(state.modal, Some(Modal::Renew(_))));
    snap_both("renew_modal", &mut state);
}

#[test]
fn deactivate_confirmation() {
    let mut state = keys_state();
    state.keys.selected.clear();
    state.keys.cursor = 0;
    press(&mut state, KeyCode::Char('x'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("deactivate_confirm", &mut state);
}

#[test]
fn delete_confirmation() {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('D'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("delete_confirm", &mut state);
}

#[test]
fn delete_confirmation_of_many_keys() {
    let mut state = keys_state();
    state.keys.rows.insert(
        6,
        key(K {
            id: 6,
            name: "zeta sync",
            instance: "acme-prod",
            developer: "ana.silva",
            channel: "cron",
            teams: &[],
            status: KeyStatus::Active,
            expires: Some(200),
            last_used: None,
        }),
    );
    press(&mut state, KeyCode::Char('a'));
    press(&mut state, KeyCode::Char('D'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("delete_confirm_many", &mut state);
}

#[test]
fn new_secret_before_copy() {
    let mut state = secret_state(None, None);
    snap_both("new_secret", &mut state);
}

#[test]
fn new_secret_copied_through_osc52() {
    let mut state = secret_state(Some(Via::Osc52), None);
    state.status = Some(Status {
        text: "Copied the key to the terminal (OSC 52); it is cleared in 30 s.".to_owned(),
        error: false,
        id: 1,
    });
    snap_both("new_secret_copied_osc52", &mut state);
}

#[test]
fn new_secret_copy_failed() {
    let mut state = secret_state(
        None,
        Some("no display, not in tmux, and stdout is no terminal"),
    );
    snap_both("new_secret_copy_error", &mut state);
}

#[test]
fn leave_without_copying() {
    let mut state = secret_state(None, None);
    press(&mut state, KeyCode::Esc);
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("leave_without_copying", &mut state);
}

// ---------------------------------------------------------------------------------------------
// Team picker, columns, prompts
// ---------------------------------------------------------------------------------------------

#[test]
fn team_picker() {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('t'));
    let Some(Modal::TeamPicker(p)) = &mut state.modal else {
        panic!("no team picker");
    };
    p.marks.insert("payments".to_owned(), Mark::Add);
    p.marks.insert("platform".to_owned(), Mark::Remove);
    p.cursor = 1;
    p.new_team = Input::new("billing-ops".to_owned());
    p.typing = true;
    snap_both("team_picker", &mut state);
}

#[test]
fn column_menu() {
    let mut state = history_state();
    state.modal = Some(Modal::Columns {
        cursor: 3,
        changed: false,
    });
    snap_both("column_menu", &mut state);
}

#[test]
fn export_prompt() {
    let mut state = history_state();
    state.modal = Some(Modal::Export(ExportPrompt {
        path: Input::new("./keyward-history-2026-03-10.csv".to_owned()),
        format: ExportFormat::Csv,
        error: Some("./keyward-history-2026-03-10.csv exists; pick another name".to_owned()),
    }));
    snap_both("export_prompt", &mut state);
}

#[test]
fn filter_name_prompt() {
    let mut state = main_state();
    state.tab = Tab::Filters;
    state.modal = Some(Modal::NamePrompt(NamePrompt {
        purpose: NamePurpose::SaveFilter {
            query: "status:active team:payments expires:<30d instance:acme-prod \
                    developer:integration-bot"
                .to_owned(),
        },
        input: Input::new("payments, expiring".to_owned()),
        error: Some("a filter named payments, expiring exists already".to_owned()),
    }));
    snap_both("filter_name_prompt", &mut state);
}

// ---------------------------------------------------------------------------------------------
// Whole screens
// ---------------------------------------------------------------------------------------------

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
        s.focus = 1;
        s.error = Some("an email address such as ana@example.org is needed".to_owned());
    }
    snap_both("setup_error", &mut state);
}

#[test]
fn sample_data_offer() {
    let mut state = main_state();
    state.screen = Screen::OfferDemo;
    snap_both("offer_demo", &mut state);
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
        insta::assert_snapshot!(format!("too_small_{w}x{h}"), text);
    }
}
