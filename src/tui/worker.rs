//! The worker thread: carries out the effects that need the store, one at a
//! time, off the drawing thread, and sends each result back as a `Msg`. A burst
//! of outdated loads (a filter typed fast) is cut to the newest before running.
//! Between effects it looks, every `POLL_EVERY`, whether another process
//! committed to the store, and tells the screen so it never shows stale data.

use super::directory;
use super::key_form::FormChoices;
use super::state::{Effect, Msg, Runner};
use keyward_core::access::Presence;
use keyward_core::domain::history::Origin;
use keyward_core::domain::query::HistoryQuery;
use keyward_core::error::{Error, Result};
use keyward_core::export::{Column, ExportError, ExportFormat};
use keyward_core::service::demo::{DemoReport, DemoSpec};
use keyward_core::service::preferences::HISTORY_COLUMNS;
use keyward_core::service::{CancelHandle, Clock, Location, Service, Settings};
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the store thread asks SQLite whether another process committed:
/// one `PRAGMA data_version` (a read of a counter in shared memory) per poll,
/// far below a measurable cost, and soon enough that a change made from the
/// CLI shows within two seconds.
pub const POLL_EVERY: Duration = Duration::from_millis(1500);

/// What the worker needs to open or create the store.
pub struct Opening {
    /// The store: a file, or a PostgreSQL database.
    pub location: Location,
    pub origin: Origin,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    /// How to start a background delivery run; `None` when no delivery is configured.
    pub delivery: Option<BackgroundDelivery>,
}

/// What a background `keyward notifications send` needs besides the store.
#[derive(Clone, Debug, Default)]
pub struct BackgroundDelivery {
    /// The configuration file given by `--config` or `KEYWARD_CONFIG`.
    pub config: Option<PathBuf>,
    /// The login given by `--as`.
    pub act_as: Option<String>,
}

pub struct Worker {
    opening: Opening,
    service: Option<Service>,
    out: Sender<Msg>,
    loads: Arc<Loads>,
    /// The store's `data_version` when last looked at; `None` until it is open.
    seen: Option<i64>,
    /// When the next active key expires (`Some(None)`: none will): statuses
    /// on screen go stale then though nothing was committed. Read at the
    /// first poll and again after every change seen.
    next_expiry: Option<Option<i64>>,
    /// Since the connection to the store was lost: when to try again, and
    /// how long to wait after that (1, 2, 4 … 15 s).
    lost: Option<(Instant, Duration)>,
    /// Whether a thread already listens for the store's announcements.
    listening: bool,
}

/// Whether `e` means the connection to the store is gone — a server
/// restarted or unreachable, a session killed — rather than a refused change:
/// the worker then makes the connection again.
fn connection_lost(e: &Error) -> bool {
    matches!(
        e,
        Error::Store {
            cause: keyward_core::error::StoreCause::Io
                | keyward_core::error::StoreCause::CannotOpen,
            ..
        }
    )
}

/// Which list a load fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Keys,
    History,
}

/// The list load the worker is running, shared with the drawing thread so a
/// newer filter can cancel it: typing never waits behind a query it made
/// outdated (a rare word over a million history rows takes most of a second).
#[derive(Default)]
pub struct Loads {
    running: Mutex<Running>,
}

#[derive(Default)]
struct Running {
    /// Set once the store is open.
    cancel: Option<CancelHandle>,
    load: Option<(ListKind, u64)>,
    cancelled: bool,
}

impl Loads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        // The lock guards plain data that stays valid whatever a holder did.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A load of `kind` at `generation` is about to be handed to the worker:
    /// stops the one running if it is an older load of the same list. Its
    /// result is dropped; the newer load answers instead.
    pub fn supersede(&self, kind: ListKind, generation: u64) {
        let mut running = self.lock();
        if let Some((k, g)) = running.load {
            if k == kind && g < generation && !running.cancelled {
                running.cancelled = true;
                if let Some(handle) = &running.cancel {
                    handle.cancel();
                }
            }
        }
    }

    fn begin(&self, kind: ListKind, generation: u64) {
        let mut running = self.lock();
        running.load = Some((kind, generation));
        running.cancelled = false;
    }

    /// Ends the running load; whether it was cancelled meanwhile.
    fn end(&self) -> bool {
        let mut running = self.lock();
        running.load = None;
        std::mem::take(&mut running.cancelled)
    }
}

impl Worker {
    pub fn new(opening: Opening, out: Sender<Msg>) -> Worker {
        Worker {
            opening,
            service: None,
            out,
            loads: Arc::default(),
            seen: None,
            next_expiry: None,
            lost: None,
            listening: false,
        }
    }

    /// What the drawing thread uses to cancel an outdated list load.
    pub fn loads(&self) -> Arc<Loads> {
        self.loads.clone()
    }

    /// Runs until the effect channel closes (the program is leaving).
    pub fn run(mut self, effects: Receiver<Effect>) {
        let mut next_poll = Instant::now() + POLL_EVERY;
        loop {
            // A lost connection is made again, with back-off.
            if let Some(msg) = self.reconnect_if_due() {
                if self.out.send(msg).is_err() {
                    return;
                }
            }
            // Busy or not, the store is looked at every `POLL_EVERY`.
            if self.service.is_some() && Instant::now() >= next_poll {
                next_poll = Instant::now() + POLL_EVERY;
                if let Some(msg) = self.poll() {
                    if self.out.send(msg).is_err() {
                        return;
                    }
                }
            }
            // Until the store is open there is nothing to watch: wait for work
            // only (or for the next try at a lost connection).
            let received = if self.service.is_some() {
                effects.recv_timeout(next_poll.saturating_duration_since(Instant::now()))
            } else if let Some((retry, _)) = self.lost {
                effects.recv_timeout(retry.saturating_duration_since(Instant::now()))
            } else {
                effects.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            let first = match received {
                Ok(effect) => effect,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            batch.extend(effects.try_iter());
            for effect in newest_only(batch) {
                let load = list_load(&effect);
                if let Some((kind, generation)) = load {
                    self.loads.begin(kind, generation);
                }
                let msg = self.execute(effect);
                // A cancelled load's answer (rows or the interruption) is
                // outdated: the load that cancelled it is on its way.
                if load.is_some() && self.loads.end() {
                    continue;
                }
                if let Some(msg) = msg {
                    if self.out.send(msg).is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Whether another process committed to the store since the last look:
    /// `StoreChanged` if so. Costs one cached `PRAGMA data_version` and
    /// allocates nothing when nothing changed. A store that cannot be read
    /// now says so on the next load; the poll stays quiet.
    pub fn poll(&mut self) -> Option<Msg> {
        let service = self.service.as_mut()?;
        let version = match service.data_version() {
            Ok(v) => v,
            // The connection is gone (a server restarted, a session killed):
            // drop it, and make it again from the loop.
            Err(e) if connection_lost(&e) => {
                self.service = None;
                self.lost = Some((
                    Instant::now() + Duration::from_secs(1),
                    Duration::from_secs(1),
                ));
                return Some(Msg::Reconnecting(e.to_string()));
            }
            Err(_) => return None,
        };
        let before = self.seen.replace(version);
        let changed = before.is_some_and(|b| b != version);
        // A key expiring is a change of what the screen shows, with no commit.
        let expired = self
            .next_expiry
            .flatten()
            .is_some_and(|t| service.now().timestamp() >= t);
        if changed || expired || self.next_expiry.is_none() {
            self.next_expiry = service.next_expiry().ok();
        }
        (changed || expired).then_some(Msg::StoreChanged)
    }

    /// Where the store announces changes (a server), the screen hears of
    /// another host's change the moment it commits rather than at the next
    /// poll; the poll stays, for a notification lost while reconnecting.
    fn listen(&mut self, service: &Service) {
        if self.listening {
            return;
        }
        let out = self.out.clone();
        self.listening = service.watch(move || out.send(Msg::StoreChanged).is_ok());
    }

    /// Tries a lost connection again when its back-off is up; `Reconnected`
    /// is sent by `service` when it opens.
    fn reconnect_if_due(&mut self) -> Option<Msg> {
        let (retry, wait) = self.lost?;
        if Instant::now() < retry {
            return None;
        }
        match self.service() {
            Ok(_) => None,
            Err(e) => {
                let next = (wait * 2).min(Duration::from_secs(15));
                self.lost = Some((Instant::now() + wait, next));
                Some(Msg::Reconnecting(e.to_string()))
            }
        }
    }

    /// Starts `keyward notifications send` as its own process, so a slow or
    /// dead mail server never holds up the screen and a run goes on after quitting;
    /// a thread waits for it (blocked, not polling) to say when it is done.
    fn deliver_in_background(&self) {
        let Some(d) = &self.opening.delivery else {
            return;
        };
        let Ok(mut child) = keyward_core::mail::spawn_delivery(
            &self.opening.location,
            d.config.as_deref(),
            d.act_as.as_deref(),
        ) else {
            return;
        };
        let out = self.out.clone();
        let _ = std::thread::Builder::new()
            .name("keyward-delivery".into())
            .spawn(move || {
                let _ = child.wait();
                let _ = out.send(Msg::DeliveryDone);
            });
    }

    fn service(&mut self) -> Result<&mut Service> {
        if self.service.is_none() {
            let o = &self.opening;
            let mut service = Service::open_at(
                &o.location,
                o.origin.clone(),
                o.clock.clone(),
                o.settings.clone(),
            )?;
            self.loads.lock().cancel = Some(service.cancel_handle());
            self.seen = service.data_version().ok();
            self.listen(&service);
            self.service = Some(service);
            if self.lost.take().is_some() {
                let _ = self.out.send(Msg::Reconnected);
            }
        }
        self.service
            .as_mut()
            .ok_or_else(|| Error::store("the store is not open"))
    }

    /// Creates the demo store beside the real one (or adds to a demo store
    /// made earlier) and switches to it: from here on every effect works on
    /// the demo store, and the real store stays as the first run left it.
    fn open_demo(&mut self) -> Result<DemoReport> {
        let me = self.service()?.whoami()?;
        let o = &self.opening;
        let demo = o.location.demo_beside();
        let (service, report) = match demo.presence()? {
            Presence::Denied(e) => return Err(e),
            Presence::Missing => Service::create_demo_at(
                &demo,
                o.origin.clone(),
                o.clock.clone(),
                &me.name,
                &me.email,
                DemoSpec::default(),
            )?,
            Presence::Present => {
                let mut s =
                    Service::open_at(&demo, o.origin.clone(), o.clock.clone(), o.settings.clone())?;
                let report = s.demo(DemoSpec::default())?;
                (s, report)
            }
        };
        let service = service.with_settings(o.settings.clone());
        self.loads.lock().cancel = Some(service.cancel_handle());
        self.service = Some(service);
        self.opening.location = demo;
        Ok(report)
    }

    /// Runs one effect; the message that reports it, if any.
    pub fn execute(&mut self, effect: Effect) -> Option<Msg> {
        match effect.runner() {
            // The runtime carries these out itself.
            Runner::Runtime => return None,
            Runner::Background => {
                self.deliver_in_background();
                return None;
            }
            Runner::Store => {}
        }
        Some(match effect {
            Effect::CreateKey(_)
            | Effect::EditKey { .. }
            | Effect::RenewKey { .. }
            | Effect::PlanBulk { .. }
            | Effect::ApplyBulk { .. }
            | Effect::ChangeTeams { .. } => return self.change_keys(effect),
            Effect::LoadSavedFilters
            | Effect::SaveFilter { .. }
            | Effect::RenameFilter { .. }
            | Effect::DeleteFilter(_)
            | Effect::LoadHistoryColumns
            | Effect::SaveHistoryColumns(_) => return self.preferences(effect),
            Effect::LoadMe => Msg::Started(self.service().and_then(|s| s.whoami())),
            Effect::ReloadMe => Msg::Me(self.service().and_then(|s| s.whoami())),
            Effect::CreateStore { name, email } => {
                let o = &self.opening;
                let made = Service::init_at(
                    &o.location,
                    o.origin.clone(),
                    o.clock.clone(),
                    &name,
                    &email,
                )
                .map(|s| s.with_settings(o.settings.clone()));
                Msg::StoreCreated(made.and_then(|mut s| {
                    self.loads.lock().cancel = Some(s.cancel_handle());
                    self.seen = s.data_version().ok();
                    let me = s.whoami();
                    self.service = Some(s);
                    me
                }))
            }
            Effect::LoadDemo => Msg::DemoLoaded(self.open_demo()),
            Effect::LoadKeyPage {
                generation,
                query,
                from,
                limit,
                asked,
            } => Msg::KeyPage {
                generation,
                result: self
                    .service()
                    .and_then(|s| s.key_page(&query, &from, limit as u64, &asked)),
                from,
                limit,
            },
            Effect::CountKeys {
                generation,
                query,
                at,
            } => Msg::KeyCount {
                generation,
                result: self
                    .service()
                    .and_then(|s| s.count_keys(&query, at.as_ref())),
            },
            Effect::LoadAllKeyRefs { generation, query } => Msg::AllKeyRefs {
                generation,
                result: self.service().and_then(|s| s.list_key_refs(&query, false)),
            },
            Effect::LoadKeyRows { generation, ids } => {
                let service = self.service();
                let (now, result) = match service {
                    Ok(s) => (s.now().timestamp(), s.keys_by_ids(&ids)),
                    Err(e) => (0, Err(e)),
                };
                Msg::KeyRows {
                    generation,
                    now,
                    result,
                }
            }
            Effect::OpenKey(id) => Msg::KeyOpened(self.service().and_then(|s| s.show_key(&id))),
            Effect::LoadFormChoices => Msg::FormChoices(self.service().and_then(form_choices)),
            Effect::LoadTeams => Msg::Teams(self.service().and_then(|s| s.list_teams())),
            Effect::LoadDeveloperKeys { instance, name } => Msg::DeveloperKeys {
                result: self
                    .service()
                    .and_then(|s| s.active_keys_of_developer(&name, &instance)),
                instance,
                name,
            },
            Effect::LoadTeamMembership(ids) => Msg::TeamMembership {
                result: self.service().and_then(|s| s.team_membership(&ids)),
                ids,
            },
            Effect::LoadHistory {
                generation,
                query,
                page,
                limit,
            } => Msg::HistoryRows {
                generation,
                page,
                result: self
                    .service()
                    .and_then(|s| s.history_page(&query, page, limit)),
            },
            Effect::Export {
                query,
                columns,
                path,
                format,
            } => Msg::Exported(self.service().and_then(|s| {
                let rows = export(s, &query, &columns, &path, format)?;
                Ok((path, rows))
            })),
            Effect::ProposeExportPath(path) => Msg::ExportPath(free_path(&path)),
            Effect::RecordCopied { public_id, via } => Msg::CopyRecorded(
                self.service()
                    .and_then(|s| s.record_copied(&public_id, via.as_str())),
            ),
            Effect::LoadOutbox => Msg::Outbox(self.service().and_then(|s| s.outbox_counts())),
            Effect::LoadDirectory => Msg::Directory(self.service().and_then(directory_lists)),
            Effect::PreviewInstanceEdit { name, edit } => Msg::InstancePreview(
                self.service()
                    .and_then(|s| s.preview_instance_edit(&name, &edit)),
            ),
            Effect::ChangeDirectory(change) => Msg::DirectoryChanged {
                result: self.service().and_then(|s| change_directory(s, &change)),
                change,
            },
            // Sorted out by their runner above.
            // Key changes are above; the rest are sorted out by their runner.
            _ => return None,
        })
    }

    /// The operator's own saved filters and history columns.
    fn preferences(&mut self, effect: Effect) -> Option<Msg> {
        Some(match effect {
            Effect::LoadSavedFilters => {
                Msg::SavedFilters(self.service().and_then(|s| s.saved_filters()))
            }
            Effect::SaveFilter { name, query } => Msg::SavedFilters(
                self.service()
                    .and_then(|s| s.save_filter(&name, &query).and_then(|_| s.saved_filters())),
            ),
            Effect::RenameFilter { from, to } => Msg::SavedFilters(
                self.service()
                    .and_then(|s| s.rename_filter(&from, &to).and_then(|()| s.saved_filters())),
            ),
            Effect::DeleteFilter(name) => Msg::SavedFilters(
                self.service()
                    .and_then(|s| s.delete_filter(&name).and_then(|()| s.saved_filters())),
            ),
            Effect::LoadHistoryColumns => {
                Msg::HistoryColumns(self.service().and_then(|s| s.preference(HISTORY_COLUMNS)))
            }
            Effect::SaveHistoryColumns(names) => Msg::PreferenceSaved(
                self.service()
                    .and_then(|s| s.set_preference(HISTORY_COLUMNS, &names)),
            ),
            _ => return None,
        })
    }

    /// The effects that change keys; each is one service operation.
    fn change_keys(&mut self, effect: Effect) -> Option<Msg> {
        Some(match effect {
            Effect::CreateKey(req) => {
                Msg::KeyCreated(self.service().and_then(|s| s.create_key(&req)))
            }
            Effect::EditKey {
                public_id,
                edit,
                teams,
            } => Msg::KeyEdited(
                self.service()
                    .and_then(|s| s.edit_key_and_teams(&public_id, &edit, &teams)),
            ),
            Effect::RenewKey {
                public_id,
                grace,
                expires,
            } => Msg::KeyRenewed(
                self.service()
                    .and_then(|s| s.renew_key(&public_id, grace.as_deref(), expires.as_deref())),
            ),
            Effect::PlanBulk { action, ids } => {
                Msg::BulkPlanned(self.service().and_then(|s| s.plan_bulk(action, &ids)))
            }
            Effect::ApplyBulk { action, ids } => Msg::BulkApplied {
                action,
                result: self.service().and_then(|s| s.apply_bulk(action, &ids)),
            },
            Effect::ChangeTeams { ids, changes } => {
                Msg::TeamsChanged(self.service().and_then(|s| s.change_teams(&ids, &changes)))
            }
            _ => return None,
        })
    }
}

/// The list and generation of a load that a newer one may cancel.
pub fn list_load(effect: &Effect) -> Option<(ListKind, u64)> {
    match effect {
        Effect::LoadKeyPage { generation, .. }
        | Effect::CountKeys { generation, .. }
        | Effect::LoadAllKeyRefs { generation, .. } => Some((ListKind::Keys, *generation)),
        Effect::LoadHistory { generation, .. } => Some((ListKind::History, *generation)),
        _ => None,
    }
}

/// Of several loads of the same list waiting at once, only the newest matters:
/// what was asked of the key list before its newest generation is outdated.
fn newest_only(batch: Vec<Effect>) -> Vec<Effect> {
    let newest_keys = batch
        .iter()
        .filter_map(|e| match e {
            Effect::LoadKeyPage { generation, .. } => Some(*generation),
            _ => None,
        })
        .max();
    let last_history = batch
        .iter()
        .rposition(|e| matches!(e, Effect::LoadHistory { .. }));
    batch
        .into_iter()
        .enumerate()
        .filter(|(i, e)| match e {
            Effect::LoadKeyPage { generation, .. }
            | Effect::CountKeys { generation, .. }
            | Effect::LoadAllKeyRefs { generation, .. }
            | Effect::LoadKeyRows { generation, .. } => {
                newest_keys.is_none_or(|newest| *generation >= newest)
            }
            Effect::LoadHistory { .. } => Some(*i) == last_history,
            _ => true,
        })
        .map(|(_, e)| e)
        .collect()
}

fn form_choices(s: &mut Service) -> Result<FormChoices> {
    Ok(FormChoices {
        instances: s.list_instances()?,
        developers: s.list_developers(None)?,
        channels: s.list_channels()?,
        teams: s.list_teams()?,
    })
}

fn directory_lists(s: &mut Service) -> Result<directory::Lists> {
    Ok(directory::Lists {
        instances: s.list_instances()?,
        developers: s.list_developers(None)?,
        teams: s.list_teams()?,
        operators: s.list_operators()?,
    })
}

/// Saves a Directory tab change: one service operation each.
fn change_directory(s: &mut Service, change: &directory::Change) -> Result<directory::Outcome> {
    use directory::{Change, Outcome};
    Ok(match change {
        Change::AddInstance(spec) => s.add_instance(spec).map(|_| Outcome::Done)?,
        Change::EditInstance { name, edit } => {
            s.edit_instance(name, edit).map(|_| Outcome::Done)?
        }
        Change::RetireInstance(name) => s.retire_instance(name).map(|_| Outcome::Done)?,
        Change::AddDeveloper { instance, name } => {
            s.add_developer(name, instance).map(|_| Outcome::Done)?
        }
        Change::RenameDeveloper { instance, name, to } => s
            .rename_developer(name, instance, to)
            .map(|_| Outcome::Done)?,
        Change::RemoveDeveloper { instance, name } => {
            Outcome::KeysDeactivated(s.remove_developer(name, instance, true)?.len())
        }
        Change::RenameTeam { name, to } => s.rename_team(name, to).map(|_| Outcome::Done)?,
        Change::RemoveTeam(name) => Outcome::KeysLeft(s.remove_team(name)?.keys.len()),
        Change::SetRole { login, role } => {
            s.set_operator_role(login, *role).map(|_| Outcome::Done)?
        }
        Change::AddOperator {
            login,
            name,
            email,
            role,
        } => s
            .add_operator(login, name, email, *role)
            .map(|_| Outcome::Done)?,
        Change::RemoveOperator(login) => s.remove_operator(login).map(|_| Outcome::Done)?,
    })
}

/// `path` if no file has that name, or else the first of `name-2.ext`,
/// `name-3.ext`, … that is free; `path` itself when none of a hundred is.
pub fn free_path(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2..=100)
        .map(|n| path.with_file_name(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_owned())
}

/// Writes every history row the filter matches to a new file (never over an
/// existing one), streaming from the store; returns how many rows it wrote.
fn export(
    s: &mut Service,
    query: &HistoryQuery,
    columns: &[Column],
    path: &Path,
    format: ExportFormat,
) -> Result<u64> {
    write_new_file(path, |out, io| {
        s.export_history(query, columns, format, None, out)
            .map_err(|e| match e {
                ExportError::Store(e) => e,
                ExportError::Write(e) => io(e),
            })
    })
}

/// Creates `path` (never over an existing file), readable by this login
/// only, and fills it with `fill`. A fill that fails (a full disk, a store
/// error) removes the part written: a truncated export would look whole and
/// block a retry under the same name.
fn write_new_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write, &dyn Fn(std::io::Error) -> Error) -> Result<u64>,
) -> Result<u64> {
    let io = |e: std::io::Error| Error::usage(format!("cannot write {}: {e}", path.display()));
    // Readable by this login only, like the store: the history names
    // operators, their emails and every key.
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::usage(format!(
                "{} exists already; give another name (an export never writes over a file)",
                path.display()
            )),
            _ => io(e),
        })?;
    let mut out = BufWriter::new(file);
    let written = fill(&mut out, &io).and_then(|rows| {
        out.flush().map_err(io)?;
        Ok(rows)
    });
    if written.is_err() {
        drop(out);
        let _ = std::fs::remove_file(path);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::domain::history::HistoryPage;
    use keyward_core::domain::model::{KeyPage, KeyPageFrom};
    use keyward_core::domain::query::KeyQuery;

    fn load_keys(generation: u64) -> Effect {
        Effect::LoadKeyPage {
            generation,
            query: KeyQuery::default(),
            from: KeyPageFrom::Top,
            limit: 200,
            asked: vec![],
        }
    }

    #[test]
    fn a_failed_export_leaves_no_truncated_file_behind_and_a_retry_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        let failed = write_new_file(&path, |out, io| {
            out.write_all(b"seq,at\n1,").map_err(io)?;
            Err(io(std::io::Error::from_raw_os_error(28))) // ENOSPC
        });
        assert!(failed.is_err());
        assert!(!path.exists(), "the part written is gone");
        let rows = write_new_file(&path, |out, io| {
            out.write_all(b"seq,at\n").map_err(io)?;
            Ok(0)
        })
        .unwrap();
        assert_eq!(rows, 0);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        // Never over a file that is there.
        let again = write_new_file(&path, |_, _| Ok(0)).unwrap_err();
        assert!(again.to_string().contains("exists already"), "{again}");
        assert_eq!(std::fs::read(&path).unwrap(), b"seq,at\n");
    }

    #[test]
    fn a_newer_load_of_the_same_list_cancels_the_running_one_and_nothing_else() {
        let loads = Loads::default();
        loads.begin(ListKind::Keys, 4);
        loads.supersede(ListKind::History, 9);
        loads.supersede(ListKind::Keys, 3);
        loads.supersede(ListKind::Keys, 4);
        assert!(!loads.end(), "another list, or an older or the same load");
        loads.begin(ListKind::Keys, 5);
        loads.supersede(ListKind::Keys, 6);
        assert!(loads.end());
        // Nothing running: nothing to cancel, and the next load starts clean.
        loads.supersede(ListKind::Keys, 7);
        loads.begin(ListKind::Keys, 7);
        assert!(!loads.end());
    }

    #[test]
    fn only_the_newest_list_load_of_a_burst_runs() {
        let batch = vec![
            load_keys(1),
            Effect::LoadKeyRows {
                generation: 1,
                ids: vec![1],
            },
            load_keys(2),
            Effect::LoadTeams,
            Effect::CountKeys {
                generation: 2,
                query: KeyQuery::default(),
                at: None,
            },
            load_keys(3),
            Effect::LoadKeyRows {
                generation: 3,
                ids: vec![2],
            },
            Effect::CountKeys {
                generation: 3,
                query: KeyQuery::default(),
                at: None,
            },
            Effect::LoadHistory {
                generation: 1,
                query: Default::default(),
                page: HistoryPage::Newest,
                limit: 10,
            },
        ];
        let kept = newest_only(batch);
        let described: Vec<String> = kept
            .iter()
            .map(|e| match e {
                Effect::LoadKeyPage { generation, .. } => format!("page{generation}"),
                Effect::LoadKeyRows { generation, .. } => format!("rows{generation}"),
                Effect::CountKeys { generation, .. } => format!("count{generation}"),
                Effect::LoadTeams => "teams".into(),
                Effect::LoadHistory { .. } => "history".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(described, ["teams", "page3", "rows3", "count3", "history"]);
    }

    /// A worker on a new store in `dir`, made through the setup effect.
    fn worker_on_new_store(dir: &tempfile::TempDir) -> (Worker, Receiver<Msg>) {
        worker_with_clock(dir, Arc::new(keyward_core::service::SystemClock))
    }

    fn worker_with_clock(
        dir: &tempfile::TempDir,
        clock: Arc<dyn keyward_core::service::Clock>,
    ) -> (Worker, Receiver<Msg>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut worker = Worker::new(
            Opening {
                location: Location::File(dir.path().join("k.db")),
                origin: Origin {
                    login: "ana".into(),
                    host: "bastion".into(),
                    ..Origin::default()
                },
                clock,
                settings: Settings::default(),
                delivery: None,
            },
            tx,
        );
        let made = worker.execute(Effect::CreateStore {
            name: "Ana".into(),
            email: "ana@example.org".into(),
        });
        assert!(matches!(made, Some(Msg::StoreCreated(Ok(_)))), "{made:?}");
        (worker, rx)
    }

    /// Another keyward process on the same store, as the CLI would be.
    fn another_process(dir: &tempfile::TempDir) -> Service {
        Service::open(
            &dir.path().join("k.db"),
            Origin {
                login: "ana".into(),
                host: "bastion".into(),
                ..Origin::default()
            },
            Arc::new(keyward_core::service::SystemClock),
            Settings::default(),
        )
        .unwrap()
    }

    fn instance(name: &str) -> keyward_core::service::InstanceSpec {
        keyward_core::service::InstanceSpec {
            name: name.into(),
            cloud: keyward_core::domain::Cloud::Salesforce,
            url: None,
            max_active: None,
        }
    }

    #[test]
    fn another_processs_commit_is_noticed_once_and_the_workers_own_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        // Nothing happened.
        assert!(w.poll().is_none());
        assert!(w.poll().is_none());
        // The screen's own change is not news: it reloads after it anyway.
        w.service()
            .unwrap()
            .add_instance(&instance("mine"))
            .unwrap();
        assert!(w.poll().is_none());
        // Reads elsewhere are not changes.
        let mut cli = another_process(&dir);
        cli.list_instances().unwrap();
        assert!(w.poll().is_none());
        // A commit elsewhere is, once.
        cli.add_instance(&instance("theirs")).unwrap();
        assert!(matches!(w.poll(), Some(Msg::StoreChanged)));
        assert!(w.poll().is_none());
    }

    #[test]
    fn a_key_expiring_while_the_screen_is_open_is_a_change_though_nothing_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(keyward_core::testing::HandClock::at(
            keyward_core::testing::start(),
        ));
        let (mut w, _rx) = worker_with_clock(&dir, clock.clone());
        let s = w.service().unwrap();
        s.add_instance(&instance("acme")).unwrap();
        s.create_key(&keyward_core::service::NewKeyRequest {
            name: "soon".into(),
            instance: "acme".into(),
            developer: "ana".into(),
            channel: "ci".into(),
            teams: vec![],
            expires: Some("1h".into()),
        })
        .unwrap();
        assert!(w.poll().is_none());
        clock.advance(chrono::TimeDelta::minutes(59));
        assert!(w.poll().is_none());
        clock.advance(chrono::TimeDelta::minutes(2));
        assert!(matches!(w.poll(), Some(Msg::StoreChanged)));
        // Once: no other key expires.
        clock.advance(chrono::TimeDelta::days(400));
        assert!(w.poll().is_none());
    }

    #[test]
    fn the_store_thread_tells_the_screen_about_another_processs_commit_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let (w, rx) = worker_on_new_store(&dir);
        let (fx_tx, fx_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || w.run(fx_rx));
        // Idle: no message at all over more than one poll.
        assert!(rx.recv_timeout(POLL_EVERY * 2).is_err());
        another_process(&dir)
            .add_instance(&instance("theirs"))
            .unwrap();
        let told = rx.recv_timeout(POLL_EVERY * 4);
        assert!(matches!(told, Ok(Msg::StoreChanged)), "{told:?}");
        drop(fx_tx);
        thread.join().unwrap();
    }

    #[test]
    fn the_first_run_demo_is_a_store_of_its_own_and_the_real_one_stays_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        let loaded = w.execute(Effect::LoadDemo);
        assert!(
            matches!(&loaded, Some(Msg::DemoLoaded(Ok(r))) if r.keys > 0),
            "{loaded:?}"
        );
        // The worker now works on demo.db beside the real store.
        let demo_keys = w
            .service()
            .unwrap()
            .list_key_refs(&KeyQuery::default(), true)
            .unwrap();
        assert!(!demo_keys.is_empty());
        assert_eq!(
            w.opening.location.file(),
            Some(dir.path().join("demo.db").as_path())
        );
        let mut real = Service::open(
            &dir.path().join("k.db"),
            w.opening.origin.clone(),
            w.opening.clock.clone(),
            Settings::default(),
        )
        .unwrap();
        assert!(
            real.list_key_refs(&KeyQuery::default(), true)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            real.list_operators().unwrap().len(),
            1,
            "no made-up operator"
        );
    }

    #[test]
    fn a_page_of_a_long_list_is_read_from_either_end_and_counted_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        w.service()
            .unwrap()
            .sample_data_for_tests(keyward_core::service::demo::DemoSpec {
                keys: 1500,
                history: Some(0),
            })
            .unwrap();
        let all = w
            .service()
            .unwrap()
            .list_key_refs(&KeyQuery::default(), false)
            .unwrap();
        let Some(Msg::KeyPage {
            result: Ok(first), ..
        }) = w.execute(load_keys(1))
        else {
            panic!("no first page");
        };
        assert_eq!(first.refs[..], all[..200]);
        let Some(Msg::KeyPage {
            result: Ok(last), ..
        }) = w.execute(Effect::LoadKeyPage {
            generation: 2,
            query: KeyQuery::default(),
            from: KeyPageFrom::Bottom,
            limit: 200,
            asked: vec![all[0].id, all[1].id],
        })
        else {
            panic!("no last page");
        };
        assert_eq!(last.refs[..], all[all.len() - 200..]);
        assert_eq!(last.kept, vec![all[0].id, all[1].id]);
        let Some(Msg::KeyCount {
            result: Ok(count), ..
        }) = w.execute(Effect::CountKeys {
            generation: 2,
            query: KeyQuery::default(),
            at: Some(last.refs[0].clone()),
        })
        else {
            panic!("no count");
        };
        assert_eq!(
            (count.total, count.before),
            (all.len() as u64, Some(all.len() as u64 - 200))
        );
    }

    #[test]
    fn a_key_made_through_the_worker_is_listed_and_loaded_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        w.service()
            .unwrap()
            .add_instance(&keyward_core::service::InstanceSpec {
                name: "acme".into(),
                cloud: keyward_core::domain::Cloud::Salesforce,
                url: None,
                max_active: None,
            })
            .unwrap();
        let created = w.execute(Effect::CreateKey(keyward_core::service::NewKeyRequest {
            name: "bot".into(),
            instance: "acme".into(),
            developer: "Ana".into(),
            channel: "ci".into(),
            teams: vec!["payments".into()],
            expires: None,
        }));
        let Some(Msg::KeyCreated(Ok(issued))) = created else {
            panic!("{created:?}");
        };
        let Some(Msg::KeyPage {
            result: Ok(KeyPage { refs, .. }),
            ..
        }) = w.execute(load_keys(1))
        else {
            panic!("no list");
        };
        assert_eq!(refs.len(), 1);
        let Some(Msg::KeyRows {
            result: Ok(rows), ..
        }) = w.execute(Effect::LoadKeyRows {
            generation: 1,
            ids: vec![refs[0].id],
        })
        else {
            panic!("no rows");
        };
        assert_eq!(rows[0].public_id, issued.key.public_id);
        assert_eq!(rows[0].teams, ["payments"]);
        // An edit answers with the edited key and records only what changed.
        let edited = w.execute(Effect::EditKey {
            public_id: issued.key.public_id.clone(),
            edit: keyward_core::service::EditKey {
                name: Some("renamed bot".into()),
                ..Default::default()
            },
            teams: keyward_core::service::TeamChanges {
                add: vec!["ops".into()],
                remove: vec![],
            },
        });
        let Some(Msg::KeyEdited(Ok(key))) = edited else {
            panic!("{edited:?}");
        };
        assert_eq!(key.name, "renamed bot");
        assert_eq!(key.teams, ["ops", "payments"]);
        let actions: Vec<String> = w
            .service()
            .unwrap()
            .history(&Default::default(), None)
            .unwrap()
            .into_iter()
            .map(|r| r.record.action)
            .collect();
        assert_eq!(
            actions[..3],
            ["teams_changed", "team_added", "updated"],
            "{actions:?}"
        );
        assert!(!actions.contains(&"viewed".to_owned()), "{actions:?}");
    }

    #[test]
    fn an_export_writes_every_matching_row_in_the_columns_shown_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        w.execute(Effect::LoadDemo);
        let query = keyward_core::domain::query::HistoryQuery::parse("action:created").unwrap();
        let expected = w.service().unwrap().history(&query, None).unwrap().len() as u64;
        assert!(expected > 0);
        let columns = vec![Column::At, Column::Action, Column::Masked];

        let csv = dir.path().join("h.csv");
        let done = w.execute(Effect::Export {
            query: query.clone(),
            columns: columns.clone(),
            path: csv.clone(),
            format: ExportFormat::Csv,
        });
        assert!(
            matches!(done, Some(Msg::Exported(Ok((_, n)))) if n == expected),
            "{done:?}"
        );
        let text = std::fs::read_to_string(&csv).unwrap();
        // The file is this login's only, as the store is.
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&csv).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("at,action,masked"));
        assert!(
            lines
                .clone()
                .all(|l| l.split(',').nth(1) == Some("created"))
        );
        assert_eq!(lines.count() as u64, expected);

        let json = dir.path().join("h.json");
        w.execute(Effect::Export {
            query: query.clone(),
            columns: columns.clone(),
            path: json.clone(),
            format: ExportFormat::Json,
        });
        let rows: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len() as u64, expected);
        let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["at", "action", "masked"]);

        // An existing file is left as it was.
        let again = w.execute(Effect::Export {
            query,
            columns,
            path: csv.clone(),
            format: ExportFormat::Csv,
        });
        let Some(Msg::Exported(Err(e))) = again else {
            panic!("expected a refusal, got {again:?}");
        };
        let why = e.to_string();
        assert!(
            why.contains(&format!(
                "{} exists already; give another name",
                csv.display()
            )),
            "{why}"
        );
        assert!(!why.contains("os error"), "{why}");
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), text);
    }

    #[test]
    fn the_export_name_offered_is_one_no_file_has() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _rx) = worker_on_new_store(&dir);
        let asked = dir.path().join("h.csv");
        let offered = |w: &mut Worker| match w.execute(Effect::ProposeExportPath(asked.clone())) {
            Some(Msg::ExportPath(p)) => p,
            other => panic!("expected a name, got {other:?}"),
        };
        assert_eq!(offered(&mut w), asked);
        std::fs::write(&asked, "x").unwrap();
        assert_eq!(offered(&mut w), dir.path().join("h-2.csv"));
        std::fs::write(dir.path().join("h-2.csv"), "x").unwrap();
        assert_eq!(offered(&mut w), dir.path().join("h-3.csv"));
    }
}
