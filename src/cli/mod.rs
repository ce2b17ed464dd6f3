//! The command line of SPEC §6: argument parsing (clap), and one file per
//! subcommand that calls the service and formats its answer for a person or,
//! with `--json`, for a script.

mod audit;
mod demo;
mod developer;
mod history;
mod init;
mod instance;
mod key;
mod notifications;
mod operator;
pub mod output;
mod store;
mod team;
mod verify;

use clap::{Args, Parser, Subcommand};
use keyward_core::config::{Config, NotifyConfig};
use keyward_core::domain::history::Origin;
use keyward_core::domain::model::{Cloud, Role};
use keyward_core::error::Error;
use keyward_core::service::{Clock, Location, Service, SystemClock};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Manage the API keys of your organisation's integrations",
    long_about = "Manage the API keys of your organisation's integrations: create, copy once, \
edit, bulk-assign teams, renew, deactivate, delete and verify keys, with a tamper-evident \
credential history, over a SQLite store that several admins on one host can share, or a \
PostgreSQL database (--db postgres://…) that admins on several hosts share.",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The store: a SQLite file, or a postgres:// URL; also KEYWARD_DB (default: the
    /// configuration's store, else $XDG_DATA_HOME/keyward/keyward.db)
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// The configuration file, also KEYWARD_CONFIG, read after
    /// /etc/keyward/config.toml (default: $XDG_CONFIG_HOME/keyward/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Act as another operator's login (root only)
    #[arg(long = "as", global = true, value_name = "LOGIN")]
    pub act_as: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The most rows a listing may be asked for: what SQLite's LIMIT takes.
const MAX_ROWS: u64 = i64::MAX as u64;
/// The demo's caps: ten times the largest store the benchmarks measure keeps
/// a typo (`--keys 99999999999999`) from filling the disk for an hour.
const MAX_DEMO_KEYS: u64 = 2_000_000;
const MAX_DEMO_HISTORY: u64 = 20_000_000;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store; this login becomes its first admin
    Init {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// Operators: the logins allowed to use keyward, and their roles
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Platform instances keys connect to
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Developers known on each instance
    #[command(subcommand)]
    Developer(DeveloperCommand),
    /// Teams of keys
    #[command(subcommand)]
    Team(TeamCommand),
    /// API keys: create, list, show, edit, teams, renew, deactivate, delete
    #[command(subcommand)]
    Key(KeyCommand),
    /// Verify the key given on standard input; prints JSON, exits 0 if valid, 1 if not
    Verify,
    /// The credential history, newest first
    History {
        /// Fields: action: key: operator: at:<7d at:>=2026-11-01, and free text
        #[arg(long, value_name = "QUERY", allow_hyphen_values = true)]
        filter: Option<String>,
        /// At most this many rows; 0 for all
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=MAX_ROWS))]
        limit: u64,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
    /// The store as a whole: copy it to a new store on either engine
    #[command(subcommand)]
    Store(StoreCommand),
    /// Prove the credential history untouched
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The notification outbox: every message, its status, attempts and last error
    #[command(args_conflicts_with_subcommands = true)]
    Notifications {
        #[command(subcommand)]
        command: Option<NotificationsCommand>,
        #[arg(long)]
        json: bool,
        /// Only messages not yet delivered
        #[arg(long)]
        pending: bool,
    },
    /// Fill a demo store of its own with realistic sample data, creating it if needed
    #[command(
        long_about = "Fill the store with realistic sample data for a try-out: instances across \
clouds, developers, channels, teams, keys in every status with varied expiry and use, and their \
history. The demo never touches a real store: it works on the store given by --db (or \
KEYWARD_DB), else on demo.db beside the store keyward would use; it creates that store with this \
login as an admin, adds to a demo store made earlier, and refuses (exit 5) a store it did not \
make. Its history is credited to the demo's own made-up operators and is never dated before a \
row already there.\n\n\
Demo secrets are never shown, so hashing one per key would only burn CPU: all demo keys share one \
Argon2id hash of a random secret that is discarded at once, so no demo key can ever verify. Keys \
made with `key create` or `key renew` each get their own hash."
    )]
    Demo {
        /// How many keys to add (at most 2 000 000)
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=MAX_DEMO_KEYS))]
        keys: u64,
        /// At least this many history rows in all, the keys' own events
        /// counted (at most 20 000 000)
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=MAX_DEMO_HISTORY))]
        history: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Queue the expiry reminders that are due, then deliver what is due
    #[command(
        long_about = "Queue the expiry reminders that are due (each active key once at 14, 7 and 1 \
days before it expires, to every admin and manager), then deliver every message that is due \
through the [notify] settings of the configuration file. A failed message is recorded (attempts, \
last error) and retried by a later run after a back-off that doubles from 1 minute to 6 hours; \
nothing is dropped. Safe to run every minute from cron or a systemd timer, and from several \
processes at once: no reminder and no message goes out twice.\n\n\
Exits 0 when every message tried was delivered, 1 when some were not."
    )]
    Send {
        /// Also retry failed messages still waiting out their back-off
        #[arg(long)]
        retry_now: bool,
        /// Print only failures (for cron)
        #[arg(long, conflicts_with = "json")]
        quiet: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Allow a login to use keyward
    Add {
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// The operators: login, name, email, role and since when
    List {
        #[arg(long)]
        json: bool,
    },
    /// Take a login's access away; the last admin cannot be removed
    Remove { login: String },
    /// Change an operator's role; the last admin stays an admin
    Role {
        login: String,
        #[arg(value_parser = parse_role, value_name = "admin|manager|viewer")]
        role: Role,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Add an instance; keys can be made for it from then on
    Add {
        name: String,
        #[arg(long, value_parser = parse_cloud)]
        cloud: Cloud,
        #[arg(long)]
        url: Option<String>,
        /// Keys of one integration that may be active at once
        #[arg(long, value_name = "N")]
        max_active: Option<u32>,
    },
    /// The instances: cloud, URL, active-key limit, status and key counts
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change an instance's cloud, URL or active-key limit (`--url ''` removes the URL)
    Edit {
        name: String,
        #[arg(long, value_parser = parse_cloud)]
        cloud: Option<Cloud>,
        #[arg(long)]
        url: Option<String>,
        /// Keys of one integration that may be active at once; active keys
        /// over a lowered limit stay active
        #[arg(long, value_name = "N")]
        max_active: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Retire an instance with no active keys: it takes no new keys from then on
    Retire {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeveloperCommand {
    /// The developers on each instance's list, with their active and total keys
    List {
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a developer from an instance; refused while they have active keys
    Remove {
        name: String,
        #[arg(long, value_name = "NAME")]
        instance: String,
        /// Deactivate the developer's active keys first (cannot be undone)
        #[arg(long)]
        deactivate_keys: bool,
    },
    /// Add a developer to an instance's list
    Add {
        name: String,
        #[arg(long, value_name = "NAME")]
        instance: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename a developer of an instance; their keys follow
    Rename {
        name: String,
        #[arg(long, value_name = "NAME")]
        instance: String,
        #[arg(long, value_name = "NEW")]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team (a key's team is also made when first named)
    Add { name: String },
    /// The teams, with how many keys each holds
    List {
        #[arg(long)]
        json: bool,
    },
    /// Rename a team; its keys keep it
    Rename {
        name: String,
        #[arg(long, value_name = "NEW")]
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a team; its keys lose it (each change is in the history)
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key; its secret is printed this once
    Create(CreateArgs),
    /// The keys a filter keeps, by name (deleted ones only with --all)
    List {
        /// status: team: instance: developer: channel: cloud: expires:<30d used:never id:, free text
        #[arg(long, value_name = "QUERY", allow_hyphen_values = true)]
        filter: Option<String>,
        /// Include deleted keys
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// A key's details (recorded as viewed)
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a key's name, developer, channel or expiry; the key stays the same
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        developer: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, value_name = "30d|2027-01-31|never")]
        expires: Option<String>,
    },
    /// Add or remove teams on several keys at once, in one transaction
    Teams {
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long = "add", value_name = "TEAM")]
        add: Vec<String>,
        #[arg(long = "remove", value_name = "TEAM")]
        remove: Vec<String>,
    },
    /// A new secret for the key; the old one stops working now or after --grace
    Renew {
        id: String,
        #[arg(long, value_name = "24h")]
        grace: Option<String>,
        #[arg(long, value_name = "30d|2027-01-31|never")]
        expires: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Deactivate (revoke) keys: cannot be undone
    Deactivate {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Confirm: integrations using these keys stop working
        #[arg(long)]
        yes: bool,
    },
    /// Delete keys from the list, deactivating active ones first; history stays
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub instance: String,
    #[arg(long)]
    pub developer: String,
    #[arg(long)]
    pub channel: String,
    #[arg(long = "team", value_name = "NAME")]
    pub teams: Vec<String>,
    /// Default: default_expiry of the configuration, 90d unless set
    #[arg(long, value_name = "30d|2027-01-31|never")]
    pub expires: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every table and the whole history chain into a new store: a SQLite file to PostgreSQL
    /// (`--to postgres://…`) or back to a file. A store already at the destination is refused; the
    /// copy is made whole or not at all, and `audit verify` prints the same head hash on both
    Copy {
        /// The new store: a file path, or a postgres:// URL (a database without keyward's schema)
        #[arg(long, value_name = "STORE")]
        to: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the history's hash chain; exit 1 naming the first bad row
    Verify {
        /// Also check that the newest row's hash is this one (catches truncation)
        #[arg(long, value_name = "HASH", value_parser = parse_head)]
        expect_head: Option<String>,
    },
}

/// A head hash as `audit verify` prints it: 64 hexadecimal digits. Anything
/// else is a mistyped or cut-off copy, a usage error, not a sign of tampering.
fn parse_head(s: &str) -> Result<String, String> {
    let head = s.trim();
    if head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(head.to_ascii_lowercase())
    } else {
        Err(format!(
            "a head is the 64 hexadecimal digits `audit verify` prints after 'head'; this is {} characters long{}",
            head.chars().count(),
            if head.chars().all(|c| c.is_ascii_hexdigit()) {
                ""
            } else {
                " and not all hexadecimal"
            }
        ))
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "use admin, manager or viewer".to_owned())
}

fn parse_cloud(s: &str) -> Result<Cloud, String> {
    Cloud::parse(s).ok_or_else(|| "use salesforce, servicenow, m365, qualtrics or other".to_owned())
}

/// Why a command stopped: a keyward error, or standard output went away.
#[derive(Debug)]
pub enum Failure {
    Keyward(Error),
    Output(io::Error),
    /// A key was made or renewed, but its one showing could not be written
    /// (a full disk, a reader gone): the change stands and the secret is
    /// lost, which must be said, never taken for success.
    SecretLost {
        id: String,
        verb: &'static str,
        cause: io::Error,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Keyward(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

/// A command's result: the exit code to leave with.
pub type Outcome = Result<i32, Failure>;

/// What every command needs: where the store is, who is asking, and the
/// configuration (SPEC §8) for what the service does not read itself.
pub struct Context {
    pub db: Location,
    /// The configuration file that chose `db`, when one did (no `--db`).
    pub store_set_by: Option<PathBuf>,
    /// Whether `--db` or `KEYWARD_DB` named the store.
    pub db_given: bool,
    /// The configuration file named by `--config` or `KEYWARD_CONFIG`.
    pub config_path: Option<PathBuf>,
    pub act_as: Option<String>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
}

impl Context {
    /// How the outbox is delivered for this store, and why a user file's
    /// `[notify]` was left out if it was. Delivery for a shared store is the
    /// host's (the system file's): a user's file could otherwise redirect or
    /// silence the other admins' mail. For a personal store (this login's
    /// own, 0600 or tighter) the user's settings apply.
    pub fn delivery(&self) -> (Option<&NotifyConfig>, Option<String>) {
        let c = &self.config;
        if self.db.file().is_some_and(personal_store) {
            return (c.notify.as_ref(), None);
        }
        let ignored = c
            .user_notify_file
            .as_ref()
            .or(c.system_notify_not_roots.as_ref());
        let note = ignored.map(|file| {
            format!(
                "the [notify] of {} is ignored: {} is shared, and its delivery is the host's (a system file root owns)",
                file.display(),
                self.db,
            )
        });
        (c.host_notify.as_ref(), note)
    }

    /// The store as an admin should see it named: with the configuration file
    /// that chose it, if one did — "/srv/kw/k.db (set by /etc/keyward/config.toml)".
    pub fn store_label(&self) -> String {
        store_label(&self.db, self.store_set_by.as_deref())
    }

    /// An error about the store or about this login's place in it names the
    /// store and the file that chose it, so the admin knows which to fix.
    fn naming_the_store(&self, e: Error) -> Error {
        let Some(file) = &self.store_set_by else {
            return e;
        };
        let named = format!("store {} (set by {})", self.db, file.display());
        match e {
            Error::Permission(m) => Error::Permission(format!("{m}; {named}")),
            Error::Store { cause, message } => Error::Store {
                cause,
                message: format!("{message}; {named}"),
            },
            other => other,
        }
    }

    pub fn origin(&self) -> keyward_core::Result<Origin> {
        keyward_core::identity::current(self.act_as.as_deref())
    }

    /// The service over the existing store; never creates one.
    pub fn service(&self) -> keyward_core::Result<Service> {
        Service::open_at(
            &self.db,
            self.origin()?,
            self.clock.clone(),
            self.config.settings(),
        )
    }

    /// Creates the store with `origin`'s login as its first admin, and the
    /// service over it.
    pub fn create_store(
        &self,
        origin: Origin,
        name: &str,
        email: &str,
    ) -> keyward_core::Result<Service> {
        let service = Service::init_at(&self.db, origin, self.clock.clone(), name, email)?;
        Ok(service.with_settings(self.config.settings()))
    }
}

/// A path from the environment; an empty variable (`KEYWARD_DB=`) is as
/// good as unset, not a missing command-line value.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Runs a parsed command line, writing to `out`.
pub fn run(mut cli: Cli, out: &mut dyn Write) -> Outcome {
    // The flags beat the environment.
    cli.db = cli.db.or_else(|| env_path("KEYWARD_DB"));
    cli.config = cli.config.or_else(|| env_path("KEYWARD_CONFIG"));
    let config = Config::load(cli.config.as_deref())?;
    // --db and KEYWARD_DB (both in cli.db) beat the file; the file beats the default.
    let (db, store_set_by) = match (&cli.db, &config.store) {
        (Some(db), _) => (db.clone(), None),
        (None, Some(store)) => (store.clone(), config.store_set_by.clone()),
        (None, None) => (keyward_core::paths::default_store(), None),
    };
    // A `postgres://` URL names a server; anything else is a file.
    let db = Location::from_path(db)?;
    let ctx = Context {
        db,
        store_set_by,
        db_given: cli.db.is_some(),
        config_path: cli.config.clone(),
        act_as: cli.act_as.clone(),
        clock: Arc::new(SystemClock),
        config,
    };
    // Key events queue messages; the background run delivers them.
    let notifies = matches!(
        cli.command,
        Some(Command::Key(
            KeyCommand::Create(_)
                | KeyCommand::Renew { .. }
                | KeyCommand::Deactivate { .. }
                | KeyCommand::Delete { .. }
        )) | Some(Command::Developer(DeveloperCommand::Remove { .. }))
    );
    let outcome = match cli.command {
        None => screen(&ctx),
        Some(Command::Init { name, email }) => init::run(&ctx, &name, &email, out),
        Some(Command::Operator(cmd)) => operator::run(&ctx, cmd, out),
        Some(Command::Instance(cmd)) => instance::run(&ctx, cmd, out),
        Some(Command::Developer(cmd)) => developer::run(&ctx, cmd, out),
        Some(Command::Team(cmd)) => team::run(&ctx, cmd, out),
        Some(Command::Key(cmd)) => key::run(&ctx, cmd, out),
        Some(Command::Verify) => verify::run(&ctx, out),
        Some(Command::History {
            filter,
            limit,
            json,
            csv,
        }) => history::run(&ctx, filter.as_deref(), limit, json, csv, out),
        Some(Command::Store(StoreCommand::Copy { to })) => store::copy(&ctx, to, out),
        Some(Command::Audit(AuditCommand::Verify { expect_head })) => {
            audit::run(&ctx, expect_head.as_deref(), out)
        }
        Some(Command::Notifications {
            command: None,
            json,
            pending,
        }) => notifications::list(&ctx, json, pending, out),
        Some(Command::Notifications {
            command:
                Some(NotificationsCommand::Send {
                    retry_now,
                    quiet,
                    json,
                }),
            ..
        }) => notifications::send(&ctx, retry_now, quiet, json, out),
        Some(Command::Demo { keys, history }) => demo::run(&ctx, keys, history, out),
    };
    let done = matches!(outcome, Ok(0) | Err(Failure::SecretLost { .. }));
    if notifies && done {
        // Never delays the admin, and never turns a done change into an error.
        let _ = notifications::deliver_in_background(&ctx);
    }
    outcome.map_err(|f| match f {
        Failure::Keyward(e) => Failure::Keyward(ctx.naming_the_store(e)),
        other => other,
    })
}

/// Whether the store is this login's own and no one else's: owned by the
/// effective user, with no group or other permission bits.
pub fn personal_store(db: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    owns_store(db) && std::fs::metadata(db).is_ok_and(|m| m.mode() & 0o077 == 0)
}

/// Whether the effective user owns the store file.
pub fn owns_store(db: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(db).is_ok_and(|m| m.uid() == nix::unistd::geteuid().as_raw())
}

/// "PATH", or "PATH (set by FILE)" when a configuration file chose it; a
/// server's URL without its password.
pub fn store_label(db: &Location, set_by: Option<&std::path::Path>) -> String {
    match set_by {
        Some(file) => format!("{db} (set by {})", file.display()),
        None => db.to_string(),
    }
}

/// Bare `keyward`: the terminal application, on the first-run screen when there
/// is no store yet.
fn screen(ctx: &Context) -> Outcome {
    let config = &ctx.config;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ui = crate::tui::state::UiSettings {
        color: config.color.enabled(true, no_color),
        expiring_soon_days: config.expiring_soon_days,
        clipboard_clear: config.clipboard_clear(),
        default_expiry: keyward_core::domain::expiry::format_duration(config.default_expiry),
        // From the service's clock, which reads a clock before 1970 without
        // panicking as `Local::now` would.
        utc_offset: chrono::TimeZone::offset_from_utc_datetime(
            &chrono::Local,
            &SystemClock.now().naive_utc(),
        )
        .local_minus_utc(),
        export_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        delivery: ctx.delivery().0.is_some(),
        ..Default::default()
    };
    crate::tui::run(crate::tui::Options {
        db: ctx.db.clone(),
        store_label: ctx.store_label(),
        origin: ctx.origin()?,
        clock: ctx.clock.clone(),
        settings: config.settings(),
        ui,
        delivery: ctx
            .delivery()
            .0
            .map(|_| crate::tui::worker::BackgroundDelivery {
                config: ctx.config_path.clone(),
                act_as: ctx.act_as.clone(),
            }),
    })?;
    Ok(0)
}
