//! Everything the screen shows, as plain data: the `State` (each feature's own
//! state, side by side), the `Msg`s that change it (keys, mouse, results of
//! work done), and the `Effect`s that `update` asks for, each saying who runs
//! it. No I/O here, so the state machine is tested without a terminal or a store.

use super::directory::{self, DirectoryTab};
use super::filters::FiltersTab;
use super::first_run::Setup;
use super::history::HistoryTab;
use super::key_form::FormChoices;
use super::keys::{KeyList, TeamsTab};
use super::kit::status::Status;
use super::router::Modal;
use crate::clipboard::Via;
use keyward_core::domain::history::{HistoryPage, HistoryRow};
use keyward_core::domain::model::{
    Key, KeyCount, KeyPage, KeyPageFrom, KeyRef, Operator, Role, SavedFilter, Team,
};
use keyward_core::domain::outbox::OutboxCounts;
use keyward_core::domain::query::{HistoryQuery, KeyQuery};
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportFormat};
use keyward_core::service::demo::DemoReport;
use keyward_core::service::{
    BulkAction, BulkOutcome, BulkPlan, EditKey, IssuedKey, NewKeyRequest, TeamChanges,
    TeamMembership,
};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// The five tabs of SPEC §4, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Keys,
    Filters,
    Teams,
    History,
    Directory,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Keys,
        Tab::Filters,
        Tab::Teams,
        Tab::History,
        Tab::Directory,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Keys => "Keys",
            Tab::Filters => "Filters",
            Tab::Teams => "Teams",
            Tab::History => "History",
            Tab::Directory => "Directory",
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
    /// Whether notifications are delivered (`[notify]` is configured); without
    /// it the outbox badge says they only queue.
    pub delivery: bool,
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
            delivery: false,
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

/// The whole state of the screen.
#[derive(Debug)]
pub struct State {
    pub screen: Screen,
    pub tab: Tab,
    pub me: Option<Operator>,
    pub store: String,
    /// Where the first run offers the demo: a store of its own beside the
    /// real one, so demo data never mixes with real data.
    pub demo_store: Option<String>,
    pub keys: KeyList,
    pub filters: FiltersTab,
    pub teams: TeamsTab,
    pub history: HistoryTab,
    pub directory: DirectoryTab,
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
    /// The signal that ended the session, if one did: the process exits
    /// with 128 + it once the terminal and the clipboard are put back.
    pub ended_by: Option<i32>,
    pub next_id: u64,
    /// Keys pressed while the store was still answering, replayed in order once
    /// the main screen is up: a `4` or a filter typed at start is not lost.
    pub typed_ahead: Vec<KeyEvent>,
}

impl State {
    /// The state at start: loading the operator of an existing store, or the setup screen.
    pub fn new(settings: UiSettings, store: String, setup_login: Option<String>) -> State {
        let screen = match setup_login {
            Some(login) => Screen::Setup(Box::new(Setup::new(login, store.clone()))),
            None => Screen::Loading,
        };
        State {
            screen,
            tab: Tab::Keys,
            me: None,
            store,
            demo_store: None,
            keys: KeyList::default(),
            filters: FiltersTab::default(),
            teams: TeamsTab::default(),
            history: HistoryTab::default(),
            directory: DirectoryTab::default(),
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
            ended_by: None,
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
    /// Text the terminal says was pasted (bracketed paste), as one piece.
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// A signal that ends the session (SIGHUP, SIGTERM, SIGINT, SIGQUIT).
    Signal(i32),
    Timer(Timer),
    Started(Result<Operator, Error>),
    StoreCreated(Result<Operator, Error>),
    DemoLoaded(Result<DemoReport, Error>),
    /// A page of the key list, as asked for (`from`, at most `limit` keys).
    KeyPage {
        generation: u64,
        from: KeyPageFrom,
        limit: usize,
        result: Result<KeyPage, Error>,
    },
    /// How many keys the filter lists, and how many come before the first
    /// key shown.
    KeyCount {
        generation: u64,
        result: Result<KeyCount, Error>,
    },
    /// Every key the filter lists, for `a` (select all).
    AllKeyRefs {
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
    /// The service's plan of a bulk action over the keys asked for.
    BulkPlanned(Result<BulkPlan, Error>),
    /// A bulk action (deactivate, delete) was applied, or why not.
    BulkApplied {
        action: BulkAction,
        result: Result<BulkOutcome, Error>,
    },
    TeamsChanged(Result<Vec<Key>, Error>),
    Teams(Result<Vec<Team>, Error>),
    /// This login's operator as the store has it now (after `ReloadMe`).
    Me(Result<Operator, Error>),
    /// A developer's active keys, for the removal's confirmation.
    DeveloperKeys {
        instance: String,
        name: String,
        result: Result<Vec<Key>, Error>,
    },
    /// Which teams the keys `ids` are in, for the team picker that asked.
    TeamMembership {
        ids: Vec<String>,
        result: Result<TeamMembership, Error>,
    },
    SavedFilters(Result<Vec<SavedFilter>, Error>),
    HistoryRows {
        generation: u64,
        page: HistoryPage,
        result: Result<Vec<HistoryRow>, Error>,
    },
    HistoryColumns(Result<Option<String>, Error>),
    Exported(Result<(PathBuf, u64), Error>),
    /// A name for the export that no file has yet.
    ExportPath(PathBuf),
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
    /// Another process committed to the store: what is on screen may be stale.
    StoreChanged,
    /// The connection to the store was lost (why); the worker is making it
    /// again, with back-off, and the screen keeps what it shows meanwhile.
    Reconnecting(String),
    /// The store is reachable again: what is on screen is reloaded.
    Reconnected,
    /// The Directory tab's lists.
    Directory(Result<directory::Lists, Error>),
    /// What an instance edit would do, before it is saved.
    InstancePreview(Result<keyward_core::service::InstanceEditEffect, Error>),
    /// A change on the Directory tab was saved (or why not).
    DirectoryChanged {
        change: directory::Change,
        result: Result<directory::Outcome, Error>,
    },
}

/// Work for the runtime: service calls, the clipboard, timers.
#[derive(Debug)]
pub enum Effect {
    LoadMe,
    /// Who this login is in the store now: another admin may have changed
    /// its role or removed it while the screen was open.
    ReloadMe,
    CreateStore {
        name: String,
        email: String,
    },
    LoadDemo,
    /// A page of the keys `query` lists, from `from`; of the keys `asked`
    /// (the selection), the page says which the filter still lists.
    LoadKeyPage {
        generation: u64,
        query: KeyQuery,
        from: KeyPageFrom,
        limit: usize,
        asked: Vec<i64>,
    },
    CountKeys {
        generation: u64,
        query: KeyQuery,
        at: Option<KeyRef>,
    },
    LoadAllKeyRefs {
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
    /// Plans a bulk action over keys by row id: which it applies to, which it skips.
    PlanBulk {
        action: BulkAction,
        ids: Vec<i64>,
    },
    /// Applies a planned bulk action to these keys (by public id), skipping
    /// any that changed meanwhile.
    ApplyBulk {
        action: BulkAction,
        ids: Vec<String>,
    },
    ChangeTeams {
        ids: Vec<String>,
        changes: TeamChanges,
    },
    LoadTeams,
    /// Which teams the keys are in, read by id (the selection may hold keys
    /// never loaded).
    LoadTeamMembership(Vec<String>),
    /// A developer's active keys, before asking to remove them.
    LoadDeveloperKeys {
        instance: String,
        name: String,
    },
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
    /// Finds a name near this one that no file has, for the export prompt.
    ProposeExportPath(PathBuf),
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
    /// Reads the Directory tab's lists.
    LoadDirectory,
    /// Works out what an instance edit would do, saving nothing.
    PreviewInstanceEdit {
        name: String,
        edit: keyward_core::service::InstanceEdit,
    },
    /// Saves a change made on the Directory tab.
    ChangeDirectory(directory::Change),
    /// Starts a delivery run in the background, when delivery is configured.
    Deliver,
    SetTimer {
        after: Duration,
        timer: Timer,
    },
}

/// Who carries out an effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// The runtime itself, on the drawing thread: timers and the clipboard,
    /// which needs the terminal.
    Runtime,
    /// The store thread, through the service; its answer comes back as a `Msg`.
    Store,
    /// The store thread starts it and it goes on in the background (delivery).
    Background,
}

impl Effect {
    /// Who runs this effect: the one place the runtime, the worker and the
    /// headless screen read it from.
    pub fn runner(&self) -> Runner {
        match self {
            Effect::SetTimer { .. } | Effect::Copy { .. } | Effect::ClearClipboard => {
                Runner::Runtime
            }
            Effect::Deliver => Runner::Background,
            _ => Runner::Store,
        }
    }
}
