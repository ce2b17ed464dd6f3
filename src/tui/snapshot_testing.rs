//! What the snapshot tests of every feature share. Snapshots of every tab,
//! form, window and screen are drawn by `view` into a
//! `TestBackend` at 80×24 and at the smallest drawn size, 60×16. States are
//! built by hand (and modals opened through `update`, as a key press would),
//! with fixed times, no colour and UTC, so no snapshot depends on the clock,
//! the time zone or the terminal. Every render also checks that no cell holds
//! a raw control character, bidi override or zero-width character.

pub(crate) use crate::clipboard::Via;
pub(crate) use crate::tui::filters::name_prompt::{NamePrompt, NamePurpose};
pub(crate) use crate::tui::first_run::SetupField;
pub(crate) use crate::tui::history::columns::ColumnMenu;
pub(crate) use crate::tui::history::export::ExportPrompt;
pub(crate) use crate::tui::key_form::{Field, FormChoices, FormKind, KeyForm};
pub(crate) use crate::tui::kit::status::Status;
pub(crate) use crate::tui::router::{Modal, update};
pub(crate) use crate::tui::state::*;
pub(crate) use crate::tui::view::view;
pub(crate) use crate::tui::windows::new_secret::NewSecret;
pub(crate) use crate::tui::windows::team_picker::Mark;
pub(crate) use keyward_core::domain::KeyToken;
pub(crate) use keyward_core::domain::history::{HistoryRecord, HistoryRow, Origin};
pub(crate) use keyward_core::domain::model::{
    Cloud, Developer, Instance, Key, KeyRef, KeyStatus, Operator, Role, SavedFilter, Team,
};
pub(crate) use keyward_core::domain::query::{HistoryQuery, KeyQuery};
pub(crate) use keyward_core::error::Error;
pub(crate) use keyward_core::export::{Column, ExportFormat};
use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
pub(crate) use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Position;
pub(crate) use tui_input::Input;

/// 2026-03-10 12:00:00 UTC.
pub(crate) const NOW: i64 = 1_773_144_000;
pub(crate) const DAY: i64 = 86_400;

pub(crate) const ESC_RED: &str = "\u{1b}[31mred\u{1b}[0m";
pub(crate) const OSC_52: &str = "\u{1b}]52;c;aGk=\u{7}";

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Characters a terminal would obey or hide: none may reach a cell.
pub(crate) fn forbidden(c: char) -> bool {
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
pub(crate) fn render(state: &State, width: u16, height: u16) -> String {
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

/// Checks `text` against `src/tui/snapshots/<name>.snap`: one folder for the
/// screens of every feature, named by what they show, not by the module.
pub(crate) fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/src/tui/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Snapshots the state at 80×24 and 60×16, as `<name>_80x24` and `<name>_60x16`.
pub(crate) fn snap_both(name: &str, state: &mut State) {
    for (w, h) in [(80, 24), (60, 16)] {
        state.width = w;
        state.height = h;
        let text = render(state, w, h);
        snapshot(&format!("{name}_{w}x{h}"), &text);
    }
}

pub(crate) fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Presses `x` or `D` and answers with the plan the store would give for the
/// rows loaded (`testing::plan_from_rows`).
pub(crate) fn press_planned(state: &mut State, c: char) {
    let fx = update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
    let plan = crate::tui::testing::plan_from_rows(state, &fx);
    update(state, plan);
}

pub(crate) fn press_ctrl(state: &mut State, c: char) {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}

// ---------------------------------------------------------------------------------------------
// Data with fixed times
// ---------------------------------------------------------------------------------------------

pub(crate) fn settings() -> UiSettings {
    UiSettings {
        color: false,
        utc_offset: 0,
        ..UiSettings::default()
    }
}

pub(crate) fn operator(login: &str, name: &str) -> Operator {
    Operator {
        login: login.to_owned(),
        name: name.to_owned(),
        email: format!("{login}@example.org"),
        role: Role::Admin,
        created_at: NOW - 400 * DAY,
    }
}

/// A state on the main screen of `ana`, an admin, with nothing loaded.
pub(crate) fn main_state() -> State {
    let mut state = State::new(settings(), "/srv/keyward/keyward.db".to_owned(), None);
    state.screen = Screen::Main;
    state.me = Some(operator("ana", "Ana Silva"));
    state.now = NOW;
    state
}

pub(crate) fn public_id(id: i64) -> String {
    format!("kA3f{id:04}")
}

pub(crate) struct K<'a> {
    pub(crate) id: i64,
    pub(crate) name: &'a str,
    pub(crate) instance: &'a str,
    pub(crate) developer: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) teams: &'a [&'a str],
    pub(crate) status: KeyStatus,
    /// Days from now; `None` never expires.
    pub(crate) expires: Option<i64>,
    pub(crate) last_used: Option<i64>,
}

pub(crate) fn key(k: K) -> Key {
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
pub(crate) fn sample_keys() -> Vec<Key> {
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
pub(crate) fn load_keys(state: &mut State, keys: Vec<Key>) {
    for k in keys {
        state.keys.refs.push(KeyRef {
            id: k.id,
            public_id: k.public_id.clone(),
            name: k.name.clone(),
        });
        state.keys.rows.insert(k.id, k);
    }
    whole_list(state);
}

/// The keys in the list are the filter's whole list, counted.
pub(crate) fn whole_list(state: &mut State) {
    let list = &mut state.keys;
    list.at_start = true;
    list.at_end = true;
    list.before = Some(0);
    list.total = Some(list.refs.len() as u64);
}

pub(crate) fn select(state: &mut State, id: i64) {
    let r = state
        .keys
        .refs
        .iter()
        .find(|r| r.id == id)
        .expect("key in list")
        .clone();
    state.keys.selected.insert(r.id, r);
}

/// The Keys tab: the sample keys plus one not loaded yet, the cursor on the
/// expired key, the crm export and reporting bot selected.
pub(crate) fn keys_state() -> State {
    let mut state = main_state();
    load_keys(&mut state, sample_keys());
    state.keys.refs.push(KeyRef {
        id: 6,
        public_id: public_id(6),
        name: "zeta sync".to_owned(),
    });
    whole_list(&mut state);
    state.keys.cursor = 2;
    select(&mut state, 2);
    select(&mut state, 5);
    state.teams.teams = teams();
    state
}

pub(crate) fn teams() -> Vec<Team> {
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

pub(crate) fn hostile_teams() -> Vec<Team> {
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

pub(crate) fn hostile_keys() -> Vec<Key> {
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

pub(crate) fn choices() -> FormChoices {
    let instance = |id: i64, name: &str| Instance {
        id,
        name: name.to_owned(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: 2,
        created_at: NOW - 300 * DAY,
        active_keys: 2,
        keys: 3,
        retired_at: None,
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
pub(crate) fn token(id: i64) -> KeyToken {
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

pub(crate) fn secret_state(copied: Option<Via>, copy_error: Option<&str>) -> State {
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

pub(crate) fn history_row(
    seq: i64,
    days_ago: i64,
    action: &str,
    key_id: i64,
    subject: &str,
) -> HistoryRow {
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
                db_session: None,
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

pub(crate) fn history_state() -> State {
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
// Hostile text from the store
// ---------------------------------------------------------------------------------------------

pub(crate) fn hostile_state() -> State {
    let mut state = main_state();
    state.me = Some(operator("mallory\u{202e}", "Mal\u{1b}[2J"));
    load_keys(&mut state, hostile_keys());
    state.teams.teams = hostile_teams();
    state
}

pub(crate) const OSC_50: &str = "\u{1b}]50;?\u{7}";
/// C1 controls as UTF-8: CSI, NEL, OSC and ST, which some terminals obey like ESC [ and ESC ].
pub(crate) const C1: &str = "c1\u{9b}31m\u{85}x\u{9d}0;t\u{9c}";
pub(crate) const COMBINING: &str = "Z\u{336}\u{335}a\u{301}\u{302}l\u{30a}g\u{327}o";
pub(crate) const EMOJI: &str = "🔑 deploy 👩\u{200d}💻 🇫🇷 ✈\u{fe0f}";

/// The longest name there may be: 128 characters, wide ones among them.
pub(crate) fn very_long_name() -> String {
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
pub(crate) fn more_hostile_keys() -> Vec<Key> {
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

pub(crate) fn more_hostile_state() -> State {
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

// ---------------------------------------------------------------------------------------------
// The key form
// ---------------------------------------------------------------------------------------------

/// Opens the new-key form with `n`, as the admin would, and gives it its lists.
pub(crate) fn new_form_state(lists: FormChoices) -> State {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('n'));
    update(&mut state, Msg::FormChoices(Ok(lists)));
    assert!(matches!(state.modal, Some(Modal::Form(_))));
    state
}

pub(crate) fn form(state: &mut State) -> &mut KeyForm {
    match &mut state.modal {
        Some(Modal::Form(f)) => f,
        other => panic!("no form open: {other:?}"),
    }
}
