//! `keyward demo`: realistic sample data for a try-out — instances across
//! clouds, developers, channels, teams, keys in every status with varied expiry
//! and use, and the history that led there.
//!
//! Demo data never mixes with real data: it lives only in a store of its own,
//! marked as a demo store by its first history row (`store_created` with
//! `{"demo": true}`), written when the demo creates the store. Every demo row
//! is credited to the demo's own made-up operators, never to the login
//! running it, and no row is ever dated before the newest one already there.
//!
//! Demo secrets are never shown, so hashing one per key would only burn CPU:
//! every demo key shares one Argon2id hash of a random secret that is discarded
//! at once, so no demo key can ever verify. Keys made by `key create` or
//! `key renew` each get their own hash.

use super::{Actor, Clock, Service, rfc3339, secret, with_details};
use crate::domain::history::{Action, HistoryRecord};
use crate::domain::model::{Cloud, Integration, Operator, Role};
use crate::error::{Error, Result};
use crate::store::instances::NewInstance;
use crate::store::keys::NewKey;
use crate::store::{Db, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// How much sample data to add.
#[derive(Clone, Copy, Debug)]
pub struct DemoSpec {
    pub keys: u64,
    /// At least this many history rows in all; the keys' own events count.
    pub history: Option<u64>,
}

impl Default for DemoSpec {
    fn default() -> DemoSpec {
        DemoSpec {
            keys: 200,
            history: None,
        }
    }
}

/// What the demo added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub instances: u64,
    pub developers: u64,
    pub teams: u64,
    pub keys: u64,
    pub active: u64,
    pub expired: u64,
    pub deactivated: u64,
    pub deleted: u64,
    pub history: u64,
}

const INSTANCES: &[(&str, Cloud, Option<&str>, u32)] = &[
    (
        "acme-prod",
        Cloud::Salesforce,
        Some("https://acme.my.salesforce.com"),
        2,
    ),
    (
        "acme-uat",
        Cloud::Salesforce,
        Some("https://acme--uat.sandbox.my.salesforce.com"),
        2,
    ),
    (
        "itsm-prod",
        Cloud::Servicenow,
        Some("https://acme.service-now.com"),
        2,
    ),
    (
        "itsm-dev",
        Cloud::Servicenow,
        Some("https://acmedev.service-now.com"),
        3,
    ),
    (
        "m365-tenant",
        Cloud::M365,
        Some("https://acme.sharepoint.com"),
        2,
    ),
    (
        "cx-surveys",
        Cloud::Qualtrics,
        Some("https://acme.qualtrics.com"),
        2,
    ),
    ("data-lake", Cloud::Other, None, 2),
];

const CHANNELS: &[&str] = &[
    "api",
    "ci",
    "ide",
    "live-check",
    "cli",
    "etl",
    "webhook",
    "scheduler",
];

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustavo", "Hana", "Ines", "Jonas", "Kai",
    "Leila", "Mateo", "Nadia", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Aiko", "Bruno", "Carmen", "Deepak", "Elif", "Farid",
];
const LAST: &[&str] = &[
    "Lopez",
    "Okafor",
    "Martin",
    "Ivanov",
    "Nwosu",
    "Haddad",
    "Pereira",
    "Sato",
    "García",
    "Berg",
    "Müller",
    "Rahimi",
    "Rossi",
    "Novak",
    "Adeyemi",
    "Sharma",
    "Dubois",
    "Silva",
    "Larsen",
    "Costa",
    "Patel",
    "Kowalski",
    "Zhang",
    "Hernández",
    "Yilmaz",
    "Nakamura",
    "Fischer",
    "Reyes",
    "Singh",
];

const TEAMS: &[&str] = &[
    "payments",
    "platform",
    "data",
    "identity",
    "support",
    "growth",
    "mobile",
    "security",
    "finance",
    "hr-systems",
    "marketing-ops",
    "sales-ops",
    "integrations",
    "analytics",
    "devops",
    "qa",
    "service-desk",
    "procurement",
    "legal-tech",
    "customer-success",
];

const PURPOSES: &[&str] = &[
    "billing sync",
    "nightly export",
    "deploy pipeline",
    "lead import",
    "case escalation",
    "survey import",
    "incident bridge",
    "CMDB refresh",
    "metadata backup",
    "report pull",
    "user provisioning",
    "quality scan",
    "release check",
    "contract sync",
    "NPS dashboard",
    "ticket triage bot",
    "org health check",
    "audit export",
    "sandbox refresh",
    "data quality job",
];

/// The demo's own operators, who are credited with all its history: (login,
/// name, role). The first is the demo's admin.
const OPERATORS: &[(&str, &str, Role)] = &[
    ("sam.rivera", "Sam Rivera", Role::Admin),
    ("ana.lopez", "Ana López", Role::Manager),
    ("ben.okafor", "Ben Okafor", Role::Manager),
    ("chloe.martin", "Chloé Martin", Role::Viewer),
];

const DAY: i64 = 86_400;

/// One key as generated, until it is written.
struct DemoKey {
    kept: Kept,
    integration: Integration,
    status: &'static str,
    last_used_at: Option<i64>,
    use_count: u64,
}

/// What the history needs of a key once it is written: a few dozen bytes
/// (names are indexes into the demo's lists), so a million keys take tens
/// of megabytes.
#[derive(Clone, Copy)]
struct Kept {
    public_id: [u8; 8],
    tail: [u8; 4],
    purpose: u16,
    instance: u8,
    channel: u8,
    developer: u32,
    teams: [u16; 3],
    team_count: u8,
    deleted: bool,
    /// Who made it: an index into the demo's actors.
    by: u8,
    created_at: i64,
    expires_at: Option<i64>,
    closed_at: Option<i64>,
}

impl Kept {
    fn public_id(&self) -> &str {
        std::str::from_utf8(&self.public_id).unwrap_or_default()
    }

    fn tail(&self) -> &str {
        std::str::from_utf8(&self.tail).unwrap_or_default()
    }

    fn name(&self) -> &'static str {
        PURPOSES[self.purpose as usize]
    }

    fn teams(&self) -> &[u16] {
        &self.teams[..self.team_count as usize]
    }

    /// The rows its life left: made, then closed, then deleted an hour on
    /// (by `end` at the latest).
    fn events(&self, end: i64) -> impl Iterator<Item = (i64, Action)> + use<> {
        let created = (self.created_at, Action::Created);
        let closed = self.closed_at.map(|at| (at, Action::Deactivated));
        let deleted = self
            .closed_at
            .filter(|_| self.deleted)
            .map(|at| ((at + 3600).min(end), Action::Deleted));
        std::iter::once(created).chain(closed).chain(deleted)
    }
}

/// Keys written to a statement.
const KEY_BATCH: usize = 1000;

/// A history event to write, in time order once sorted.
#[derive(Clone, Copy)]
struct DemoEvent {
    at: i64,
    action: Action,
    /// Index into the keys, or the subject index for non-key events.
    target: u32,
    actor: u8,
}

/// What kind of store the demo fills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// A store the demo is creating, with this login as an admin to open it.
    New,
    /// A demo store made earlier: rows go after its newest one.
    DemoStore { after: i64 },
    /// Any store, its rows dated over the last two years whatever is there:
    /// for test and benchmark fixtures only.
    #[cfg(any(test, feature = "internals"))]
    Fixture,
}

fn shared_hash() -> Result<String> {
    let mut discarded = zeroize::Zeroizing::new([0u8; 32]);
    rand::rng().fill(&mut discarded[..]);
    secret::hash_bytes(&discarded[..])
}

/// Whether the store was made by the demo: its first history row says so.
fn is_demo_store(db: &Db) -> Result<bool> {
    let Some(first) = db.first_history_row()? else {
        return Ok(false);
    };
    let details: serde_json::Value = serde_json::from_str(&first.details).unwrap_or_default();
    Ok(first.action == Action::StoreCreated.as_str() && details["demo"] == json!(true))
}

impl Service {
    /// Creates a demo store at `path`, filled with sample data in the same
    /// transaction that makes it, with the login of `origin` (named `name`,
    /// `email`) as an admin so it can open it. The real store is never touched.
    pub fn create_demo(
        path: &Path,
        origin: crate::domain::history::Origin,
        clock: Arc<dyn Clock>,
        name: &str,
        email: &str,
        spec: DemoSpec,
    ) -> Result<(Service, DemoReport)> {
        let location = crate::store::Location::File(path.to_owned());
        Service::create_demo_at(&location, origin, clock, name, email, spec)
    }

    /// [`Service::create_demo`] at `location`: a file or a PostgreSQL database.
    pub fn create_demo_at(
        location: &crate::store::Location,
        origin: crate::domain::history::Origin,
        clock: Arc<dyn Clock>,
        name: &str,
        email: &str,
        spec: DemoSpec,
    ) -> Result<(Service, DemoReport)> {
        let name = super::admin::person_name(name)?;
        let email = crate::domain::email::parse_email(email)?;
        super::admin::check_login(&origin.login)?;
        let now = clock.now().timestamp();
        let login = Operator {
            login: origin.login.clone(),
            name: name.into_string(),
            email,
            role: Role::Admin,
            created_at: now,
        };
        let hash = shared_hash()?;
        let mut rng = StdRng::from_os_rng();
        let mut report = DemoReport::default();
        let store = Store::create_at(location, |db| {
            db.insert_operator(&login)?;
            let template = Actor {
                operator: None,
                origin: origin.clone(),
            };
            report = fill(
                db,
                &template,
                Some(&login),
                now,
                spec,
                &hash,
                &mut rng,
                Fill::New,
            )?;
            Ok(())
        })?;
        Ok((Service::new(store, origin, clock), report))
    }

    /// Adds sample data to a demo store in one transaction; needs the admin
    /// role. A store that is not a demo store is refused (exit 5): demo data
    /// must never mix with real data.
    pub fn demo(&mut self, spec: DemoSpec) -> Result<DemoReport> {
        self.precheck(Role::Admin)?;
        let hash = shared_hash()?;
        let mut rng = StdRng::from_os_rng();
        // Random public ids land all over their index: keep it in memory while loading.
        self.store.set_cache_size_kib(256 * 1024)?;
        let location = self.store.location();
        let beside = match location.file() {
            Some(path) => crate::paths::demo_store_beside(path),
            None => std::path::PathBuf::from("demo.db"),
        };
        self.write(Role::Admin, |db, actor, now| {
            if !is_demo_store(db)? {
                return Err(Error::conflict(format!(
                    "{location} holds real data, not a store made by `keyward demo`; demo data never mixes with real data: try the demo in a store of its own, such as `keyward --db {} demo`",
                    beside.display()
                )));
            }
            let after = db.last_history_at()?.unwrap_or(now);
            fill(db, actor, None, now, spec, &hash, &mut rng, Fill::DemoStore { after })
        })
    }

    /// Sample data in any store, dated over the last two years — behind rows
    /// already there. For test and benchmark fixtures only; `keyward demo`
    /// goes through [`Service::demo`] and [`Service::create_demo`].
    #[cfg(any(test, feature = "internals"))]
    pub fn sample_data_for_tests(&mut self, spec: DemoSpec) -> Result<DemoReport> {
        let hash = shared_hash()?;
        let mut rng = StdRng::from_os_rng();
        self.store.set_cache_size_kib(256 * 1024)?;
        self.write(Role::Admin, |db, actor, now| {
            fill(db, actor, None, now, spec, &hash, &mut rng, Fill::Fixture)
        })
    }
}

/// A random time in `lo..hi`, or `lo` when the span is empty (a demo store
/// filled again a moment after its newest row).
fn between(rng: &mut StdRng, lo: i64, hi: i64) -> i64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// Writes the sample data. `template` gives the host and terminal the demo's
/// made-up operators seem to work from; `login` is the login running a demo
/// that creates its store, added last as an admin by the demo's admin.
#[allow(clippy::too_many_arguments)]
fn fill(
    db: &Db,
    template: &Actor,
    login: Option<&Operator>,
    now: i64,
    spec: DemoSpec,
    shared_hash: &str,
    rng: &mut StdRng,
    into: Fill,
) -> Result<DemoReport> {
    let mut report = DemoReport::default();
    // Never before the newest row already there, so the history stays in time order.
    let start = match into {
        Fill::DemoStore { after } => (now - 730 * DAY).max(after),
        _ => now - 730 * DAY,
    };
    let end = now.max(start);
    let margin = (end - start).min(3 * DAY) / 3;

    // People: the demo's own admin, managers and viewer; history is theirs alone.
    let mut actors: Vec<Actor> = Vec::new();
    let mut setup: Vec<DemoEvent> = Vec::new();
    if into == Fill::New {
        setup.push(DemoEvent {
            at: start,
            action: Action::StoreCreated,
            target: 0,
            actor: 0,
        });
    }
    for (i, (login, name, role)) in OPERATORS.iter().enumerate() {
        let op = match db.operator(login)? {
            Some(op) => op,
            None => {
                let op = Operator {
                    login: (*login).to_owned(),
                    name: (*name).to_owned(),
                    email: format!("{login}@example.org"),
                    role: *role,
                    created_at: start,
                };
                db.insert_operator(&op)?;
                setup.push(DemoEvent {
                    at: (start + i as i64 * 60).min(end),
                    action: Action::OperatorAdded,
                    target: i as u32,
                    actor: 0,
                });
                op
            }
        };
        let mut origin = template.origin.clone();
        origin.login = op.login.clone();
        origin.ssh_client = Some(format!("192.0.2.{}", 10 + i));
        origin.tty = Some(format!("/dev/pts/{}", i + 1));
        actors.push(Actor {
            operator: Some(op),
            origin,
        });
    }
    // Who changes keys: everyone but the viewer.
    let writers: Vec<usize> = actors
        .iter()
        .enumerate()
        .filter(|(_, a)| a.operator.as_ref().is_some_and(|o| o.role >= Role::Manager))
        .map(|(i, _)| i)
        .collect();

    // Instances, developers, channels and teams, scaled to the number of keys.
    let mut instance_ids = Vec::with_capacity(INSTANCES.len());
    let mut limits = Vec::with_capacity(INSTANCES.len());
    for (i, (name, cloud, url, max_active)) in INSTANCES.iter().enumerate() {
        let existing = db.instance_by_name(name, now)?;
        let (id, limit) = match existing {
            Some(inst) => (inst.id, inst.max_active),
            None => {
                let id = db.insert_instance(&NewInstance {
                    name,
                    cloud: *cloud,
                    url: *url,
                    max_active: *max_active,
                    created_at: start,
                })?;
                report.instances += 1;
                setup.push(DemoEvent {
                    at: (start + 3600 + i as i64 * 60).min(end),
                    action: Action::InstanceAdded,
                    target: i as u32,
                    actor: 0,
                });
                (id, *max_active)
            }
        };
        instance_ids.push(id);
        limits.push(limit);
    }
    let developers_per_instance = (spec.keys as usize / INSTANCES.len() / 20).max(6);
    let developer_names = person_names(developers_per_instance);
    let mut developer_ids: Vec<Vec<i64>> = Vec::with_capacity(INSTANCES.len());
    for &instance_id in &instance_ids {
        let mut ids = Vec::with_capacity(developer_names.len());
        for name in &developer_names {
            ids.push(db.ensure_developer(instance_id, name)?.0);
        }
        report.developers += ids.len() as u64;
        developer_ids.push(ids);
    }
    let mut channel_ids = Vec::with_capacity(CHANNELS.len());
    for name in CHANNELS {
        channel_ids.push(db.ensure_channel(name)?);
    }
    let team_count = (spec.keys as usize / 500).clamp(8, 200);
    let team_names: Vec<String> = (0..team_count)
        .map(|i| match i / TEAMS.len() {
            0 => TEAMS[i].to_owned(),
            n => format!("{}-{}", TEAMS[i % TEAMS.len()], n + 1),
        })
        .collect();
    let mut team_ids = Vec::with_capacity(team_count);
    for (i, name) in team_names.iter().enumerate() {
        let (id, made) = db.ensure_team(name, start)?;
        if made {
            report.teams += 1;
            setup.push(DemoEvent {
                at: (start + 7200 + i as i64).min(end),
                action: Action::TeamAdded,
                target: i as u32,
                actor: 0,
            });
        }
        team_ids.push(id);
    }

    // Keys, keeping every integration within its instance's limit, counting
    // the keys already active in a store the demo adds to.
    let mut active: HashMap<(i64, i64, i64), u32> = db
        .active_key_counts(now)?
        .into_iter()
        .map(|(i, n)| ((i.instance_id, i.developer_id, i.channel_id), n))
        .collect();
    let mut keys: Vec<Kept> = Vec::with_capacity(spec.keys as usize);
    let mut batch: Vec<DemoKey> = Vec::with_capacity(KEY_BATCH);
    // Public ids of the batch: one statement must not name an id twice (the
    // store drops one it holds already, and another is made in its place).
    let mut made: HashSet<[u8; 8]> = HashSet::with_capacity(KEY_BATCH);
    let mut lifecycle = 0usize;
    while (keys.len() as u64) < spec.keys {
        let wanted = (spec.keys - keys.len() as u64).min(KEY_BATCH as u64) as usize;
        made.clear();
        while batch.len() < wanted {
            let instance = rng.random_range(0..INSTANCES.len());
            let developer = rng.random_range(0..developer_names.len());
            let channel = rng.random_range(0..CHANNELS.len());
            let created_at = between(rng, start + margin, end - margin);
            let roll = rng.random_range(0..100);
            let public_id = base62(rng);
            if !made.insert(public_id) {
                continue;
            }
            let integration = Integration {
                instance_id: instance_ids[instance],
                developer_id: developer_ids[instance][developer],
                channel_id: channel_ids[channel],
            };
            let mut key = DemoKey {
                kept: Kept {
                    public_id,
                    tail: base62(rng),
                    purpose: rng.random_range(0..PURPOSES.len()) as u16,
                    instance: instance as u8,
                    channel: channel as u8,
                    developer: developer as u32,
                    teams: [0; 3],
                    team_count: 0,
                    deleted: false,
                    // The key's creator and its `created` row name the same operator.
                    by: writers[rng.random_range(0..writers.len())] as u8,
                    created_at,
                    expires_at: None,
                    closed_at: None,
                },
                integration,
                status: "active",
                last_used_at: None,
                use_count: 0,
            };
            let slot = (
                integration.instance_id,
                integration.developer_id,
                integration.channel_id,
            );
            let full = active.get(&slot).copied().unwrap_or(0) >= limits[instance];
            let kept = &mut key.kept;
            // About a third active (5 000 per instance at 100 000 keys, once rolls
            // that find their integration full are closed instead: the size of a
            // large organisation's store), the rest expired or closed over two years.
            match roll {
                // Active, most for months, some soon to expire, a few never.
                0..=37 if !full => {
                    kept.expires_at = match roll {
                        0..=2 => None,
                        3..=9 => Some(now + rng.random_range(3600..14 * DAY)),
                        _ => Some(now + rng.random_range(15 * DAY..365 * DAY)),
                    };
                    *active.entry(slot).or_default() += 1;
                }
                38..=49 => kept.expires_at = Some(between(rng, created_at + 1, now).min(now)),
                50..=85 | 0..=37 => {
                    key.status = "deactivated";
                    kept.closed_at = Some(between(rng, created_at, end));
                }
                _ => {
                    key.status = "deleted";
                    kept.deleted = true;
                    kept.closed_at = Some(between(rng, created_at, end));
                }
            }
            if kept.expires_at.is_none() && key.status != "active" {
                kept.expires_at = Some(created_at + 90 * DAY);
            }
            if rng.random_bool(0.8) {
                let n = rng.random_range(1..=3);
                let mut teams: Vec<u16> = (0..n)
                    .map(|_| rng.random_range(0..team_count) as u16)
                    .collect();
                teams.sort_unstable();
                teams.dedup();
                kept.team_count = teams.len() as u8;
                kept.teams[..teams.len()].copy_from_slice(&teams);
            }
            let used_until = kept
                .closed_at
                .unwrap_or(now)
                .min(kept.expires_at.unwrap_or(now));
            if rng.random_bool(0.75) && used_until > created_at {
                key.last_used_at = Some(rng.random_range(created_at..used_until));
                key.use_count = rng.random_range(1..50_000);
            }
            batch.push(key);
        }
        let rows: Vec<NewKey> = batch
            .iter()
            .map(|key| NewKey {
                public_id: key.kept.public_id(),
                name: key.kept.name(),
                integration: key.integration,
                secret_hash: shared_hash,
                tail: key.kept.tail(),
                expires_at: key.kept.expires_at,
                created_by: &actors[key.kept.by as usize].origin.login,
                created_at: key.kept.created_at,
                now,
                status: key.status,
                closed_at: key.kept.closed_at,
                last_used_at: key.last_used_at,
                use_count: key.use_count,
            })
            .collect();
        let ids = db.insert_keys(&rows)?;
        drop(rows);
        let mut memberships = Vec::new();
        // A key whose id the store holds already is dropped; another is made in its place.
        for (key, id) in batch.drain(..).zip(ids) {
            let Some(key_id) = id else { continue };
            memberships.extend(
                key.kept
                    .teams()
                    .iter()
                    .map(|&team| (key_id, team_ids[team as usize])),
            );
            match (key.status, key.kept.expires_at) {
                ("active", Some(e)) if e <= now => report.expired += 1,
                ("active", _) => report.active += 1,
                ("deactivated", _) => report.deactivated += 1,
                _ => report.deleted += 1,
            }
            lifecycle += key.kept.events(end).count();
            keys.push(key.kept);
        }
        db.add_keys_to_teams(&memberships)?;
    }
    report.keys = keys.len() as u64;

    // More history where asked: the everyday traffic of views, copies, edits and failed verifications.
    // Without a number, a few rows per key: enough that the History tab shows
    // every kind of row (an edit's before → after, a renewal, team changes).
    let so_far = setup.len() + lifecycle;
    let wanted = spec.history.map_or(so_far + keys.len() * 2, |h| h as usize);
    let traffic = Traffic {
        seed: rng.random(),
        events: if keys.is_empty() {
            0
        } else {
            wanted.saturating_sub(so_far)
        },
        actors: actors.len(),
        end,
    };
    // The history is written in time order, a span of time at a time: each
    // span's events are gathered (the traffic drawn again from its seed),
    // sorted and written, so no more than a span's are ever held.
    let total = so_far + traffic.events;
    let spans = Spans {
        start,
        end,
        count: total.div_ceil(SPAN_EVENTS).max(1),
    };
    let head = db.history_head()?;
    let events =
        (0..spans.count).flat_map(|span| {
            let mut events: Vec<DemoEvent> = setup
                .iter()
                .copied()
                .filter(|e| spans.of(e.at) == span)
                .collect();
            for (index, key) in keys.iter().enumerate() {
                events.extend(key.events(end).filter(|e| spans.of(e.0) == span).map(
                    |(at, action)| DemoEvent {
                        at,
                        action,
                        target: index as u32,
                        actor: key.by,
                    },
                ));
            }
            events.extend(traffic.draw(&keys).filter(|e| spans.of(e.at) == span));
            // Stable: the store's first row stays first.
            events.sort_by_key(|e| e.at);
            events
        });
    // Made as they are written, a thousand at a time: never all at once.
    let records = events
        .map(|e| {
            let actor = &actors[e.actor as usize];
            let target = e.target as usize;
            match e.action {
                Action::StoreCreated => {
                    with_details(actor.record(e.at, e.action, None), json!({ "demo": true }))
                }
                Action::OperatorAdded => {
                    let (login, name, role) = OPERATORS[target];
                    with_details(
                        actor.record(e.at, e.action, Some(login)),
                        json!({ "name": name, "email": format!("{login}@example.org"), "role": role.as_str() }),
                    )
                }
                Action::InstanceAdded => {
                    let (name, cloud, url, max_active) = INSTANCES[target];
                    with_details(
                        actor.record(e.at, e.action, Some(name)),
                        json!({ "cloud": cloud.as_str(), "url": url, "max_active": max_active }),
                    )
                }
                Action::TeamAdded => actor.record(e.at, e.action, Some(&team_names[target])),
                action => key_event(actor, action, &keys[target], &team_names, &developer_names, e.at),
            }
        })
        // The login running a demo that made its store: an admin, so it can
        // open it; added last, by the demo's admin.
        .chain(login.map(|op| {
            with_details(
                actors[0].record(end, Action::OperatorAdded, Some(&op.login)),
                json!({ "name": op.name, "email": op.email, "role": "admin" }),
            )
        }));
    db.append_history_batch(&head, records)?;
    report.history = (total + usize::from(login.is_some())) as u64;
    Ok(report)
}

/// The most history events gathered at once before they are sorted and
/// written (a span of time holds about this many).
/// (A few hundred in unit tests, so that they write many spans.)
const SPAN_EVENTS: usize = if cfg!(test) { 400 } else { 250_000 };

/// The demo's time cut into `count` equal spans, oldest first.
struct Spans {
    start: i64,
    end: i64,
    count: usize,
}

impl Spans {
    /// The span `at` falls in; times outside the demo's go to the nearest.
    fn of(&self, at: i64) -> usize {
        let width = i128::from(self.end - self.start) + 1;
        let into = i128::from(at.clamp(self.start, self.end) - self.start);
        (into * self.count as i128 / width) as usize
    }
}

/// The everyday traffic: `events` draws of a key, an action, an actor and
/// a time in the key's life, the same ones each time from `seed`.
struct Traffic {
    seed: u64,
    events: usize,
    actors: usize,
    end: i64,
}

impl Traffic {
    fn draw<'k>(&self, keys: &'k [Kept]) -> impl Iterator<Item = DemoEvent> + use<'k> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (actors, end) = (self.actors, self.end);
        (0..self.events).map(move |_| {
            let target = rng.random_range(0..keys.len());
            let key = &keys[target];
            let until = key.closed_at.unwrap_or(end).max(key.created_at + 1);
            let action = match rng.random_range(0..100) {
                0..=39 => Action::Viewed,
                40..=54 => Action::VerifyFailed,
                55..=64 => Action::Copied,
                65..=79 => Action::Updated,
                80..=89 => Action::Renewed,
                _ => Action::TeamsChanged,
            };
            let actor = rng.random_range(0..actors) as u8;
            DemoEvent {
                at: between(&mut rng, key.created_at, until),
                action,
                target: target as u32,
                actor,
            }
        })
    }
}

fn key_event(
    actor: &Actor,
    action: Action,
    key: &Kept,
    teams: &[String],
    developers: &[String],
    at: i64,
) -> HistoryRecord {
    let name = key.name();
    let record = HistoryRecord {
        key: Some(key.public_id().to_owned()),
        masked: Some(crate::domain::key_format::mask(key.public_id(), key.tail())),
        ..actor.record(at, action, Some(name))
    };
    let team_names: Vec<&str> = key
        .teams()
        .iter()
        .map(|&t| teams[t as usize].as_str())
        .collect();
    let developer = &developers[key.developer as usize];
    let details = match action {
        Action::Created => json!({
            "instance": INSTANCES[key.instance as usize].0,
            "developer": developer,
            "channel": CHANNELS[key.channel as usize],
            "teams": team_names,
            "expires_at": key.expires_at.map(rfc3339),
        }),
        Action::Deactivated => json!({ "was": "active" }),
        Action::VerifyFailed => json!({ "reason": "mismatch" }),
        Action::Copied => json!({ "via": "osc52" }),
        // Edits of each kind, by when they happened: a rename, a developer
        // handed over, an expiry moved.
        Action::Updated => match at % 3 {
            0 => json!({ "name": { "from": format!("{name} (old)"), "to": name } }),
            1 => json!({ "developer": { "from": "Former Owner", "to": developer } }),
            _ => json!({ "expires_at": {
                "from": rfc3339(at + 30 * 86_400),
                "to": rfc3339(at + 90 * 86_400),
            } }),
        },
        Action::Renewed => json!({
            "previous": crate::domain::key_format::mask(key.public_id(), "AAAA"),
            "expires_at": { "from": rfc3339(at + 7 * 86_400), "to": rfc3339(at + 97 * 86_400) },
            "grace_until": (at % 2 == 0).then(|| rfc3339(at + 86_400)),
        }),
        Action::TeamsChanged => json!({ "added": team_names, "removed": [], "teams": team_names }),
        _ => json!({}),
    };
    with_details(record, details)
}

/// `n` distinct "First Last" names, numbered once the combinations run out.
fn person_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            // (4a + b) mod 29 is one-to-one in a for each b, so pairs stay distinct.
            let (a, b) = (i / FIRST.len(), i % FIRST.len());
            let first = FIRST[b];
            let last = LAST[(a * FIRST.len() + b + a) % LAST.len()];
            match i / (FIRST.len() * LAST.len()) {
                0 => format!("{first} {last}"),
                round => format!("{first} {last} {}", round + 1),
            }
        })
        .collect()
}

fn base62<const N: usize>(rng: &mut StdRng) -> [u8; N] {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::array::from_fn(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::query::HistoryQuery;
    use crate::testing::{FIRST_ADMIN, HandClock, TempStore, origin, start};

    fn small() -> DemoSpec {
        DemoSpec {
            keys: 30,
            history: Some(120),
        }
    }

    /// Oldest first.
    fn rows(service: &mut Service) -> Vec<crate::domain::history::HistoryRecord> {
        let mut rows: Vec<_> = service
            .history(&HistoryQuery::default(), None)
            .unwrap()
            .into_iter()
            .map(|r| r.record)
            .collect();
        rows.reverse();
        rows
    }

    #[test]
    fn a_store_with_real_data_is_refused_and_left_as_it_was() {
        let store = TempStore::new();
        let mut admin = store.admin();
        let before = rows(&mut admin).len();
        let err = admin.demo(small()).unwrap_err();
        assert_eq!(err.exit_code(), 5, "{err}");
        assert!(err.to_string().contains("holds real data"), "{err}");
        assert_eq!(rows(&mut admin).len(), before);
    }

    #[test]
    fn a_demo_store_is_credited_to_demo_operators_in_time_order_run_after_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let clock = Arc::new(HandClock::at(start()));
        let (mut demo, _) = Service::create_demo(
            &path,
            origin(FIRST_ADMIN),
            clock.clone(),
            "Ana",
            "ana@example.org",
            small(),
        )
        .unwrap();
        let first = rows(&mut demo);
        assert_eq!(first[0].action, "store_created");
        assert_eq!(first[0].details, r#"{"demo":true}"#);
        assert_eq!(first.last().unwrap().subject.as_deref(), Some(FIRST_ADMIN));
        // A second run a minute later: nothing dated before the newest row.
        clock.advance(chrono::TimeDelta::minutes(1));
        demo.demo(small()).unwrap();
        let all = rows(&mut demo);
        assert!(all.len() > first.len());
        assert!(all.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
        assert!(
            all[first.len()..]
                .iter()
                .all(|r| r.at >= first.last().unwrap().at)
        );
        assert!(
            all.iter().all(|r| r.origin.login != FIRST_ADMIN),
            "no demo row is the login's"
        );
    }

    #[test]
    fn person_names_are_distinct() {
        let names = person_names(2000);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 2000);
    }

    /// Written a span of time at a time (many spans here), the history is
    /// one chain in time order: each key made once, before anything else
    /// happens to it, and as many rows as the report says.
    #[test]
    fn a_history_written_span_by_span_is_whole_and_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let spec = DemoSpec {
            keys: 400,
            history: Some(6000),
        };
        let (mut demo, report) = Service::create_demo(
            &dir.path().join("demo.db"),
            origin(FIRST_ADMIN),
            Arc::new(HandClock::at(start())),
            "Ana",
            "ana@example.org",
            spec,
        )
        .unwrap();
        let all = rows(&mut demo);
        assert!(report.history as usize >= 6000 && SPAN_EVENTS * 10 < 6000);
        assert_eq!(all.len() as u64, report.history);
        assert!(all.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
        assert!(all.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        assert_eq!(all[0].action, "store_created");
        assert_eq!(all.last().unwrap().subject.as_deref(), Some(FIRST_ADMIN));
        let mut made: HashMap<&str, i64> = HashMap::new();
        for row in &all {
            let Some(key) = row.key.as_deref() else {
                continue;
            };
            if row.action == "created" {
                assert!(made.insert(key, row.seq).is_none(), "{key} made twice");
            } else {
                assert!(
                    made.contains_key(key),
                    "{} of {key} before it was made",
                    row.action
                );
            }
        }
        assert_eq!(made.len() as u64, report.keys);
        for action in ["viewed", "updated", "renewed", "teams_changed", "deleted"] {
            assert!(all.iter().any(|r| r.action == action), "{action}");
        }
        let audit = demo.audit_verify().unwrap();
        assert_eq!(
            (audit.rows, audit.first_bad, audit.disagreements),
            (report.history, None, vec![])
        );
    }
}
