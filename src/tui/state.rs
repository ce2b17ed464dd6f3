//! Everything the screen shows, as plain data: the `State`, the `Msg`s that
//! change it (keys, mouse, results of work done), and the `Effect`s that `update`
//! asks the runtime to carry out. No I/O here, so the state machine is tested
//! without a terminal or a store.

use crate::clipboard::Via;
use keyward_core::domain::KeyToken;
use keyward_core::domain::history::{HistoryPage, HistoryRow};
use keyward_core::domain::model::KeyRef;
use keyward_core::domain::model::SavedFilter;
use keyward_core::domain::model::{Developer, Instance, Key, Operator, Role, Team};
use keyward_core::domain::outbox::OutboxCounts;
use keyward_core::domain::query::{HistoryQuery, KeyQuery};
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportFormat};
use keyward_core::service::demo::DemoReport;
use keyward_core::service::{EditKey, IssuedKey, NewKeyRequest, TeamChanges};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use tui_input::Input;
use zeroize::Zeroizing;

/// The four tabs of SPEC §4, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Keys,
    Filters,
    Teams,
    History,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Keys, Tab::Filters, Tab::Teams, Tab::History];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Keys => "Keys",
            Tab::Filters => "Filters",
            Tab::Teams => "Teams",
            Tab::History => "History",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Settings the screen reads (SPEC §8), fixed for the session.
#[derive(Clone, Debug)]
pub struct UiSettings {
    pub color: bool,
    pub expiring_soon_days: u32,
    pub clipboard_clear: Duration,
    /// The default expiry offered by the new-key form, as typed (`90d`).
    pub default_expiry: String,
    /// Where an export goes by default.
    pub export_dir: PathBuf,
    /// Local time's offset from UTC, in seconds (times are stored in UTC, shown local).
    pub utc_offset: i32,
    /// How long a status message stays.
    pub status_for: Duration,
}

impl Default for UiSettings {
    fn default() -> UiSettings {
        UiSettings {
            color: true,
            expiring_soon_days: 14,
            clipboard_clear: Duration::from_secs(30),
            default_expiry: "90d".to_owned(),
            export_dir: PathBuf::from("."),
            utc_offset: 0,
            status_for: Duration::from_secs(6),
        }
    }
}

/// What fills the whole screen.
#[derive(Debug)]
pub enum Screen {
    /// Waiting for the operator's record.
    Loading,
    /// No store yet: name and email for the first admin.
    Setup(Box<Setup>),
    /// The store was made; sample data may be added.
    OfferDemo,
    /// This login may not use the store, or it cannot be opened: says why and who to ask.
    Refused(String),
    Main,
}

#[derive(Debug)]
pub struct Setup {
    pub login: String,
    pub store: String,
    pub name: Input,
    pub email: Input,
    /// 0 = name, 1 = email.
    pub focus: usize,
    pub error: Option<String>,
    pub busy: bool,
}

/// A message in the status line; `error` ones stand out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub id: u64,
}

/// A line the user types a query into, with the last parse error.
#[derive(Debug, Default)]
pub struct QueryLine {
    pub input: Input,
    pub editing: bool,
    pub error: Option<String>,
    /// The query whose results are on screen.
    pub applied: String,
}

/// The keys the filter selects: every handle in order, rows loaded near the
/// viewport only, so a hundred thousand keys cost a few megabytes.
#[derive(Debug, Default)]
pub struct KeyList {
    pub filter: QueryLine,
    pub generation: u64,
    pub loading: bool,
    pub refs: Vec<KeyRef>,
    pub rows: HashMap<i64, Key>,
    pub requested: HashSet<i64>,
    pub cursor: usize,
    pub offset: usize,
    /// Selected keys by row id, with their public id and name.
    pub selected: BTreeMap<i64, (String, String)>,
    /// The key whose details are open (opening was recorded as viewed).
    pub detail: Option<Key>,
}

impl KeyList {
    pub fn current(&self) -> Option<&KeyRef> {
        self.refs.get(self.cursor)
    }

    pub fn current_key(&self) -> Option<&Key> {
        self.current().and_then(|r| self.rows.get(&r.id))
    }
}

/// The Filters tab: a query line, ready-made and saved filters, the field help.
#[derive(Debug, Default)]
pub struct FiltersTab {
    pub query: QueryLine,
    pub saved: Vec<SavedFilter>,
    pub cursor: usize,
}

/// The Teams tab: the teams with their key counts (the keys share `KeyList`).
#[derive(Debug, Default)]
pub struct TeamsTab {
    pub teams: Vec<Team>,
}

/// The History tab: a window of rows around the viewport, paged by sequence.
#[derive(Debug)]
pub struct HistoryTab {
    pub filter: QueryLine,
    pub generation: u64,
    pub loading: bool,
    pub loaded: bool,
    /// Newest first.
    pub rows: Vec<HistoryRow>,
    pub more_newer: bool,
    pub more_older: bool,
    pub cursor: usize,
    pub offset: usize,
    pub columns: Vec<Column>,
}

/// The seed portal's history table: action, credential, date, user's name and email.
pub const DEFAULT_HISTORY_COLUMNS: [Column; 6] = [
    Column::At,
    Column::Action,
    Column::Masked,
    Column::Subject,
    Column::Operator,
    Column::Email,
];

impl Default for HistoryTab {
    fn default() -> HistoryTab {
        HistoryTab {
            filter: QueryLine::default(),
            generation: 0,
            loading: false,
            loaded: false,
            rows: Vec::new(),
            more_newer: false,
            more_older: false,
            cursor: 0,
            offset: 0,
            columns: DEFAULT_HISTORY_COLUMNS.to_vec(),
        }
    }
}

/// What a form field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Instance,
    Developer,
    Channel,
    Teams,
    Expires,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Name,
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
        Field::Expires,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Instance => "Instance",
            Field::Developer => "Developer",
            Field::Channel => "Channel",
            Field::Teams => "Teams",
            Field::Expires => "Expires",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The lists a key form picks from.
#[derive(Clone, Debug, Default)]
pub struct FormChoices {
    pub instances: Vec<Instance>,
    pub developers: Vec<Developer>,
    pub channels: Vec<String>,
    pub teams: Vec<Team>,
}

#[derive(Debug)]
pub enum FormKind {
    Create,
    Edit(Box<Key>),
}

/// The new-key and edit-key form.
#[derive(Debug)]
pub struct KeyForm {
    pub kind: FormKind,
    pub inputs: [Input; 6],
    /// What the inputs held when the form opened, to tell unsaved input.
    pub initial: [String; 6],
    pub focus: Field,
    /// The highlighted suggestion of the focused field.
    pub choice: Option<usize>,
    pub errors: [Option<String>; 6],
    /// The service's refusal of the last save (limit reached, role…).
    pub refused: Option<String>,
    pub saving: bool,
    /// None while loading.
    pub choices: Option<FormChoices>,
}

impl KeyForm {
    pub fn value(&self, field: Field) -> &str {
        self.inputs[field.index()].value()
    }

    pub fn is_dirty(&self) -> bool {
        self.inputs
            .iter()
            .zip(&self.initial)
            .any(|(i, v)| i.value() != v)
    }
}

/// A key named in a confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBrief {
    pub public_id: String,
    pub name: String,
    /// Whether it is not yet deactivated or deleted (active or expired): the
    /// deactivation warnings apply to it.
    pub active: bool,
}

/// A change waiting for the admin's yes: one path for every confirmation.
#[derive(Debug)]
pub enum Pending {
    Deactivate(Vec<KeyBrief>),
    Delete(Vec<KeyBrief>),
    ChangeTeams {
        ids: Vec<String>,
        changes: TeamChanges,
    },
    DeleteFilter(String),
    /// Leave the program although a form holds unsaved input.
    Quit,
    /// Close a form and lose its input.
    Discard,
    /// Close the new-secret modal although the key was never copied.
    LeaveSecret,
}

#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
    /// The modal to go back to on "no" (the form or secret it interrupted).
    pub back: Option<Box<Modal>>,
}

/// Renewing: optional grace period and new expiry; the modal is its own confirmation.
#[derive(Debug)]
pub struct RenewForm {
    pub key: KeyBrief,
    pub masked: String,
    pub grace: Input,
    pub expires: Input,
    /// 0 = grace, 1 = expires.
    pub focus: usize,
    pub error: Option<String>,
    pub saving: bool,
}

/// The one showing of a new secret.
#[derive(Debug)]
pub struct NewSecret {
    pub key: Key,
    pub token: KeyToken,
    pub renewed: bool,
    pub copied: Option<Via>,
    pub copy_error: Option<String>,
}

/// Whether the team picker adds or removes a team for the whole selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Add,
    Remove,
}

#[derive(Debug)]
pub struct TeamPicker {
    /// Public ids of the keys that change.
    pub ids: Vec<String>,
    pub teams: Vec<String>,
    pub marks: BTreeMap<String, Mark>,
    pub cursor: usize,
    pub new_team: Input,
    pub typing: bool,
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct ExportPrompt {
    pub path: Input,
    pub format: ExportFormat,
    pub error: Option<String>,
}

#[derive(Debug)]
pub enum NamePurpose {
    SaveFilter { query: String },
    RenameFilter { from: String },
}

#[derive(Debug)]
pub struct NamePrompt {
    pub purpose: NamePurpose,
    pub input: Input,
    pub error: Option<String>,
}

/// A window over the tab, taking the keys while it is open.
#[derive(Debug)]
pub enum Modal {
    Form(Box<KeyForm>),
    Confirm(Box<Confirm>),
    Renew(Box<RenewForm>),
    NewSecret(Box<NewSecret>),
    TeamPicker(Box<TeamPicker>),
    Columns { cursor: usize, changed: bool },
    Export(ExportPrompt),
    NamePrompt(NamePrompt),
}

/// The whole state of the screen.
#[derive(Debug)]
pub struct State {
    pub screen: Screen,
    pub tab: Tab,
    pub me: Option<Operator>,
    pub store: String,
    pub keys: KeyList,
    pub filters: FiltersTab,
    pub teams: TeamsTab,
    pub history: HistoryTab,
    pub modal: Option<Modal>,
    pub help: bool,
    pub status: Option<Status>,
    /// Notifications waiting in the outbox, shown on the status line.
    pub outbox: OutboxCounts,
    pub width: u16,
    pub height: u16,
    pub settings: UiSettings,
    /// The store's clock at the last load (Unix seconds), for "expires in".
    pub now: i64,
    /// The public id of the key whose secret we put on the clipboard.
    pub on_clipboard: Option<String>,
    /// Counts copies, so only the newest copy's timer clears the clipboard.
    pub copies: u64,
    pub quit: bool,
    pub next_id: u64,
    /// Keys pressed while the store was still answering, replayed in order once
    /// the main screen is up: a `4` or a filter typed at start is not lost.
    pub typed_ahead: Vec<KeyEvent>,
}

impl State {
    /// The state at start: loading the operator of an existing store, or the setup screen.
    pub fn new(settings: UiSettings, store: String, setup_login: Option<String>) -> State {
        let screen = match setup_login {
            Some(login) => Screen::Setup(Box::new(Setup {
                login,
                store: store.clone(),
                name: Input::default(),
                email: Input::default(),
                focus: 0,
                error: None,
                busy: false,
            })),
            None => Screen::Loading,
        };
        State {
            screen,
            tab: Tab::Keys,
            me: None,
            store,
            keys: KeyList::default(),
            filters: FiltersTab::default(),
            teams: TeamsTab::default(),
            history: HistoryTab::default(),
            modal: None,
            help: false,
            status: None,
            outbox: OutboxCounts::default(),
            width: 80,
            height: 24,
            settings,
            now: 0,
            on_clipboard: None,
            copies: 0,
            quit: false,
            next_id: 1,
            typed_ahead: Vec::new(),
        }
    }

    pub fn role(&self) -> Role {
        self.me.as_ref().map_or(Role::Viewer, |m| m.role)
    }
}

/// Timers the runtime sets for `update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Clears the copy with this number, unless a newer copy replaced it.
    ClearClipboard(u64),
    ExpireStatus(u64),
}

/// Something that happened: input, or the result of an effect.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Timer(Timer),
    Started(Result<Operator, Error>),
    StoreCreated(Result<Operator, Error>),
    DemoLoaded(Result<DemoReport, Error>),
    KeyRefs {
        generation: u64,
        result: Result<Vec<KeyRef>, Error>,
    },
    KeyRows {
        generation: u64,
        now: i64,
        result: Result<Vec<Key>, Error>,
    },
    KeyOpened(Result<Key, Error>),
    FormChoices(Result<FormChoices, Error>),
    KeyCreated(Result<IssuedKey, Error>),
    KeyEdited(Result<Key, Error>),
    KeyRenewed(Result<IssuedKey, Error>),
    KeysDeactivated(Result<Vec<Key>, Error>),
    KeysDeleted(Result<Vec<Key>, Error>),
    TeamsChanged(Result<Vec<Key>, Error>),
    Teams(Result<Vec<Team>, Error>),
    SavedFilters(Result<Vec<SavedFilter>, Error>),
    HistoryRows {
        generation: u64,
        page: HistoryPage,
        result: Result<Vec<HistoryRow>, Error>,
    },
    HistoryColumns(Result<Option<String>, Error>),
    Exported(Result<(PathBuf, u64), Error>),
    Copied {
        public_id: String,
        result: Result<Via, String>,
    },
    ClipboardCleared(Result<bool, String>),
    /// A preference was written (or why not).
    PreferenceSaved(Result<(), Error>),
    /// The copy was recorded in history (or why not).
    CopyRecorded(Result<(), Error>),
    /// The outbox's counts, read after a change or a delivery run.
    Outbox(Result<OutboxCounts, Error>),
    /// A background delivery run ended.
    DeliveryDone,
}

/// Work for the runtime: service calls, the clipboard, timers.
#[derive(Debug)]
pub enum Effect {
    LoadMe,
    CreateStore {
        name: String,
        email: String,
    },
    LoadDemo,
    LoadKeyRefs {
        generation: u64,
        query: KeyQuery,
    },
    LoadKeyRows {
        generation: u64,
        ids: Vec<i64>,
    },
    OpenKey(String),
    LoadFormChoices,
    CreateKey(NewKeyRequest),
    EditKey {
        public_id: String,
        edit: EditKey,
        teams: TeamChanges,
    },
    RenewKey {
        public_id: String,
        grace: Option<String>,
        expires: Option<String>,
    },
    Deactivate(Vec<String>),
    Delete(Vec<String>),
    ChangeTeams {
        ids: Vec<String>,
        changes: TeamChanges,
    },
    LoadTeams,
    LoadSavedFilters,
    SaveFilter {
        name: String,
        query: String,
    },
    RenameFilter {
        from: String,
        to: String,
    },
    DeleteFilter(String),
    LoadHistory {
        generation: u64,
        query: HistoryQuery,
        page: HistoryPage,
        limit: u64,
    },
    LoadHistoryColumns,
    SaveHistoryColumns(String),
    Export {
        query: HistoryQuery,
        columns: Vec<Column>,
        path: PathBuf,
        format: ExportFormat,
    },
    Copy {
        public_id: String,
        secret: Zeroizing<String>,
    },
    RecordCopied {
        public_id: String,
        via: Via,
    },
    ClearClipboard,
    /// Reads the outbox's counts for the status line.
    LoadOutbox,
    /// Starts a delivery run in the background, when delivery is configured.
    Deliver,
    SetTimer {
        after: Duration,
        timer: Timer,
    },
}

impl KeyBrief {
    pub fn of(key: &Key) -> KeyBrief {
        KeyBrief {
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            active: !key.status.is_final(),
        }
    }
}
