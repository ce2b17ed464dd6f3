//! The operations of keyward. Each checks the operator's role, runs as one
//! store transaction, and writes the change together with its history row (and
//! for key events the outbox messages). The CLI and the TUI call only this.

mod admin;
pub mod bulk;
pub mod delivery;
pub mod demo;
mod directory;
pub mod history;
mod keys;
mod notice;
pub mod preferences;
pub mod secret;
mod verify;

pub use admin::InstanceSpec;
pub use bulk::{BulkAction, BulkOutcome, BulkPlan, PlannedKey, SkipReason};
pub use delivery::{DeliveryReport, REMINDER_DAYS};
pub use directory::{InstanceEdit, InstanceEditEffect, IntegrationLoad, RemovedTeam};
pub use history::AuditReport;
pub use keys::{EditKey, IssuedKey, NewKeyRequest, TeamChanges, TeamMembership};
pub use verify::{Verdict, VerifyFailure};
// The configuration file builds them; the service reads them.
pub use crate::domain::settings::Settings;

use crate::domain::history::{Action, HistoryRecord, Origin};
use crate::domain::model::{Key, Operator, Role};
use crate::error::{Error, Result};
pub use crate::store::Location;
pub use crate::store::copy::CopyReport;
use crate::store::{Db, Store};
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::Arc;

/// Where the service reads the time; tests inject a clock they move by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Refuses to write history dated before 1970: a clock that far wrong (a
/// dead RTC battery, a bad NTP answer) would date every row nonsense and
/// break the history's order. Said plainly, not as an internal error.
pub(crate) fn check_clock(now: i64) -> Result<()> {
    if now < 0 {
        let shown = DateTime::from_timestamp(now, 0).map_or_else(
            || now.to_string(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        );
        return Err(Error::store(format!(
            "this host's clock says {shown}, before 1970; nothing was changed: set the clock (timedatectl, NTP) and try again"
        )));
    }
    Ok(())
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // chrono's `Utc::now` panics on a clock before 1970; such a clock is
        // answered as the time it says, for `check_clock` to refuse in words.
        utc_of(std::time::SystemTime::now())
    }
}

/// A system time as UTC, before 1970 too (chrono's own conversion panics).
fn utc_of(t: std::time::SystemTime) -> DateTime<Utc> {
    let seconds = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX) - 1,
    };
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// keyward's operations, on one store, for the login running them.
pub struct Service {
    store: Store,
    origin: Origin,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

impl Service {
    pub fn new(store: Store, origin: Origin, clock: Arc<dyn Clock>) -> Service {
        Service {
            store,
            origin,
            clock,
            settings: Settings::default(),
        }
    }

    /// The same service reading `settings` (from the configuration file)
    /// instead of the defaults.
    pub fn with_settings(mut self, settings: Settings) -> Service {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Opens the existing store at `path` (never creates one) for `origin`'s
    /// login, reading `settings`.
    pub fn open(
        path: &Path,
        origin: Origin,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Service> {
        Ok(Service::new(Store::open(path)?, origin, clock).with_settings(settings))
    }

    /// Opens the existing store at `location` — a SQLite file or a
    /// PostgreSQL database — (never creates one) for `origin`'s login.
    pub fn open_at(
        location: &Location,
        origin: Origin,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Service> {
        Ok(Service::new(Store::open_at(location)?, origin, clock).with_settings(settings))
    }

    /// Where the store is.
    pub fn location(&self) -> Location {
        self.store.location()
    }

    /// Calls `changed` as soon as another process's change is announced,
    /// where the store announces changes (a PostgreSQL server); false where
    /// it does not (a file: poll `data_version`). `changed` returning false
    /// stops the watching.
    pub fn watch(&self, changed: impl FnMut() -> bool + Send + 'static) -> bool {
        self.store.watch(changed)
    }

    /// Copies the whole store — every table, the history chain with the
    /// hashes it was written with — into a new store at `to`, on either
    /// engine (`keyward store copy`); admins only. A store already at `to` is
    /// refused; the copy is made whole or not at all, and its history ends
    /// at the same head hash as this one's; `progress` hears of each table's
    /// rows as they go.
    pub fn copy_store(
        &mut self,
        to: &Location,
        progress: &mut dyn FnMut(&str, u64),
    ) -> Result<CopyReport> {
        self.precheck(Role::Admin)?;
        // A copy carries every row and hash over as they are, so a history
        // someone changed would verify in the copy exactly as badly, with
        // nothing to say it was so before: the source is audited first.
        let audit = self.audit_verify()?;
        let found = match (&audit.first_bad, audit.disagreements.first()) {
            (Some((seq, why)), _) => {
                Some(format!("history row {seq} is not as it was written: {why}"))
            }
            (None, Some(disagreement)) => Some(format!(
                "the store disagrees with keyward's schema or its own history: {disagreement}"
            )),
            (None, None) => None,
        };
        if let Some(found) = found {
            return Err(Error::conflict(format!(
                "this store fails `keyward audit verify` ({found}); it is not copied, so that the copy never passes for a clean one. Find out what changed first (`keyward audit verify` says all it found)"
            )));
        }
        crate::store::copy::copy(&mut self.store, to, progress)
    }

    /// What another thread uses to stop the query this service is running.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.store.cancel_handle())
    }

    /// A number that changes when another process commits to the store (and
    /// not when this service does): the screen polls it to notice changes made
    /// elsewhere, at the cost of one tiny query. Needs no role: it says nothing
    /// but "something changed".
    pub fn data_version(&mut self) -> Result<i64> {
        self.store.data_version()
    }

    /// The store under the service, for tests and benchmarks of the store itself.
    #[cfg(feature = "internals")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The operator running keyward, refusing a login that is not one.
    /// When the next active key expires after now: the moment a screen's
    /// statuses go stale without any commit. One step down an index.
    pub fn next_expiry(&mut self) -> Result<Option<i64>> {
        let now = self.clock.now().timestamp();
        self.store.read(|db| db.next_expiry(now))
    }

    pub fn whoami(&mut self) -> Result<Operator> {
        let login = self.origin.login.clone();
        self.store
            .read(|db| operator_with(db, &login, Role::Viewer))
    }

    /// Reads under the viewer role.
    fn read<T>(&mut self, f: impl FnOnce(&Db, &Operator, i64) -> Result<T>) -> Result<T> {
        let login = self.origin.login.clone();
        let now = self.clock.now().timestamp();
        self.store.read(|db| {
            let op = operator_with(db, &login, Role::Viewer)?;
            f(db, &op, now)
        })
    }

    /// Writes under `role`, checked inside the transaction so a role taken away
    /// a moment ago no longer counts.
    fn write<T>(&mut self, role: Role, f: impl FnOnce(&Db, &Actor, i64) -> Result<T>) -> Result<T> {
        let now = self.clock.now().timestamp();
        check_clock(now)?;
        let origin = self.origin.clone();
        self.store.write(|db| {
            let operator = operator_with(db, &origin.login, role)?;
            let actor = Actor {
                operator: Some(operator),
                origin,
            };
            f(db, &actor, now)
        })
    }

    /// Refuses early, before costly work such as hashing, when the role is too low.
    fn precheck(&mut self, role: Role) -> Result<()> {
        let login = self.origin.login.clone();
        self.store
            .read(|db| operator_with(db, &login, role).map(drop))
    }
}

/// Stops the query a service is running, from another thread: a list load that
/// a newer filter made outdated. The interrupted call fails (its answer was
/// outdated anyway); the service stays usable.
pub struct CancelHandle(crate::store::Cancel);

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// Who did it: the operator (if the login is one) and where from.
pub(crate) struct Actor {
    pub operator: Option<Operator>,
    pub origin: Origin,
}

impl Actor {
    /// A history row by this actor; the store fills in its sequence and hash.
    pub fn record(&self, at: i64, action: Action, subject: Option<&str>) -> HistoryRecord {
        HistoryRecord {
            seq: 0,
            at,
            action: action.as_str().to_owned(),
            key: None,
            masked: None,
            subject: subject.map(str::to_owned),
            operator: self.operator.as_ref().map(|o| o.name.clone()),
            email: self.operator.as_ref().map(|o| o.email.clone()),
            origin: self.origin.clone(),
            details: "{}".to_owned(),
        }
    }

    /// A history row about one key.
    pub fn key_record(&self, at: i64, action: Action, key: &Key) -> HistoryRecord {
        HistoryRecord {
            key: Some(key.public_id.clone()),
            masked: Some(key.masked()),
            ..self.record(at, action, Some(&key.name))
        }
    }
}

/// Sets a record's details from a JSON value.
pub(crate) fn with_details(mut record: HistoryRecord, details: serde_json::Value) -> HistoryRecord {
    record.details = details.to_string();
    record
}

/// The operator for `login`, if their role is at least `role`.
fn operator_with(db: &Db, login: &str, role: Role) -> Result<Operator> {
    let Some(op) = db.operator(login)? else {
        return Err(Error::Permission(format!(
            "{} is not a keyward operator of this store; an admin can add it with `keyward operator add {} --name NAME --email EMAIL --role viewer|manager|admin`",
            crate::safe_text::escape(login),
            crate::safe_text::escape(login)
        )));
    };
    if op.role < role {
        return Err(Error::Permission(format!(
            "{} is a {}; this needs the {} role",
            crate::safe_text::escape(login),
            op.role,
            role
        )));
    }
    Ok(op)
}

/// The RFC 3339 form used in details and JSON output.
pub fn rfc3339(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod clock_tests {
    use crate::domain::Cloud;
    use crate::service::{Clock, InstanceSpec};
    use crate::testing::{HandClock, TempStore, origin};
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    #[test]
    fn a_system_clock_before_1970_is_read_not_panicked_on() {
        let day = std::time::Duration::from_secs(86_400);
        let t = super::utc_of(std::time::UNIX_EPOCH - day);
        assert!(t.timestamp() < 0 && t.timestamp() >= -86_401, "{t}");
        assert!(super::check_clock(t.timestamp()).is_err());
        let t = super::utc_of(std::time::UNIX_EPOCH + day);
        assert_eq!(t.timestamp(), 86_400);
    }

    #[test]
    fn a_clock_before_1970_changes_nothing_and_says_so() {
        let store = TempStore::new();
        let moon = Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 0).unwrap();
        store.clock().advance(moon - store.clock().now());
        let e = store
            .admin()
            .add_instance(&InstanceSpec {
                name: "acme".into(),
                cloud: Cloud::Other,
                url: None,
                max_active: None,
            })
            .unwrap_err();
        assert!(e.to_string().contains("before 1970"), "{e}");
        assert!(store.admin().list_instances().unwrap().is_empty());
        // Making a store, too.
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(HandClock::at(
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap(),
        ));
        let e = crate::service::Service::init(
            &dir.path().join("k.db"),
            origin("ana"),
            clock,
            "Ana",
            "ana@example.org",
        )
        .err()
        .expect("refused");
        assert!(e.to_string().contains("before 1970"), "{e}");
    }
}
