//! The key lifecycle, model-checked: random sequences of creates, renewals,
//! edits, team changes, deactivations, deletions, developer removals,
//! verifications and clock moves, each by a random role, run against the
//! service layer and against a small reference model of SPEC §1–§3. After every
//! step the two must agree on the outcome, on every key, on the active-key
//! limits, on the developer, instance and team lists and their counts, and on
//! how many history rows and notifications were written; at the end the
//! history's hash chain must verify.
//!
//! CI runs 256 cases of up to 50 steps; `PROPTEST_CASES=2000` runs more, and
//! `KEYWARD_MODEL_STEPS` makes the cases longer.

use chrono::TimeDelta;
use keyward_core::Error;
use keyward_core::domain::model::{Key, KeyStatus, Role};
use keyward_core::domain::query::{HistoryQuery, KeyQuery};
use keyward_core::domain::{Cloud, KeyToken, PublicId};
use keyward_core::service::{
    EditKey, InstanceSpec, NewKeyRequest, Service, TeamChanges, Verdict, VerifyFailure,
};
use keyward_core::testing::{HandClock, TempStore};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, contextualize_config};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------------------------------------
// The world every case starts from
// ---------------------------------------------------------------------------------------------

/// Two instances with small limits, so the limit is met often.
const INSTANCES: [(&str, u32); 2] = [("acme", 1), ("globex", 2)];
const DEVELOPERS: [&str; 2] = ["dana", "eli"];
const CHANNELS: [&str; 2] = ["api", "ci"];
const TEAMS: [&str; 3] = ["blue", "green", "red"];
const NAMES: [&str; 3] = ["export", "probe", "sync"];
/// The three operators, one per role; the admin made the store.
const LOGINS: [(&str, Role); 3] = [
    ("ana", Role::Admin),
    ("bob", Role::Manager),
    ("cy", Role::Viewer),
];
/// What `init`, two `operator add` and two `instance add` write.
const SETUP_HISTORY: u64 = 6;
/// Admins and managers each get every key notification (SPEC §5).
const NOTIFIED: u64 = 2;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const DEFAULT_EXPIRY: i64 = 90 * DAY;

fn start() -> i64 {
    keyward_core::testing::start().timestamp()
}

// ---------------------------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Manager,
    Viewer,
}

impl Who {
    fn index(self) -> usize {
        match self {
            Who::Admin => 0,
            Who::Manager => 1,
            Who::Viewer => 2,
        }
    }
}

/// A key's life as asked for at create, renew or edit.
#[derive(Clone, Copy, Debug)]
enum Life {
    Hours12,
    Day1,
    Days3,
    Never,
}

impl Life {
    fn text(self) -> &'static str {
        match self {
            Life::Hours12 => "12h",
            Life::Day1 => "1d",
            Life::Days3 => "3d",
            Life::Never => "never",
        }
    }

    fn expires_at(self, now: i64) -> Option<i64> {
        match self {
            Life::Hours12 => Some(now + 12 * HOUR),
            Life::Day1 => Some(now + DAY),
            Life::Days3 => Some(now + 3 * DAY),
            Life::Never => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Grace {
    Hour1,
    Day1,
}

impl Grace {
    fn text(self) -> &'static str {
        match self {
            Grace::Hour1 => "1h",
            Grace::Day1 => "24h",
        }
    }

    fn seconds(self) -> i64 {
        match self {
            Grace::Hour1 => HOUR,
            Grace::Day1 => DAY,
        }
    }
}

/// Which key an operation names: one made earlier (picked among those that
/// exist when the step runs, so shrinking keeps it meaningful) or an id no key has.
#[derive(Clone, Debug)]
enum Target {
    Made(Index),
    /// The key the last step that named or made one acted on, so that a case
    /// follows one key through create, renew, the clock and verify.
    Recent,
    Unknown,
}

/// Which secret verify is given.
#[derive(Clone, Copy, Debug)]
enum Secret {
    /// The secret of the last create or renew.
    Current,
    /// The one before it (the current one if the key was never renewed).
    Previous,
    /// Two renewals back (as far back as there is).
    Older,
    /// A well-formed secret for the key's id that was never issued.
    Wrong,
}

#[derive(Clone, Debug)]
enum Step {
    Create {
        who: Who,
        name: usize,
        instance: usize,
        developer: usize,
        channel: usize,
        life: Life,
        team: Option<usize>,
    },
    Renew {
        who: Who,
        key: Target,
        grace: Option<Grace>,
        life: Option<Life>,
    },
    Rename {
        who: Who,
        key: Target,
        name: usize,
    },
    /// An edit of developer and channel: another integration of the same instance.
    Move {
        who: Who,
        key: Target,
        developer: usize,
        channel: usize,
    },
    /// An edit of the expiry, which may bring an expired key back.
    Extend {
        who: Who,
        key: Target,
        life: Life,
    },
    Teams {
        who: Who,
        keys: Vec<Target>,
        add: Vec<usize>,
        remove: Vec<usize>,
    },
    Deactivate {
        who: Who,
        keys: Vec<Target>,
    },
    Delete {
        who: Who,
        keys: Vec<Target>,
    },
    Show {
        who: Who,
        key: Target,
    },
    Verify {
        who: Who,
        key: Target,
        secret: Secret,
    },
    /// Removes a developer from an instance's list, deactivating their keys
    /// first if asked.
    RemoveDeveloper {
        who: Who,
        instance: usize,
        developer: usize,
        deactivate_keys: bool,
    },
    Advance {
        hours: i64,
    },
}

// ---------------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------------

/// What the model expects of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Permission,
    NotFound,
    Conflict(Why),
    Valid,
    Invalid(VerifyFailure),
}

/// Why a change is refused as a conflict, told apart by the service's message,
/// which must explain the rule (the schema's own refusal, a backstop, does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    /// The integration has as many active keys as its instance allows.
    Limit,
    /// The key is deactivated or deleted, for good.
    Final,
    /// A developer to remove still has active keys.
    ActiveKeys,
    /// An expired key's dead secret gets no grace period on renewal.
    NoGrace,
    /// A conflict the service did not explain.
    Unexplained,
}

impl Outcome {
    fn of_error(e: &Error) -> Outcome {
        match e {
            Error::Permission(_) => Outcome::Permission,
            Error::NotFound(_) => Outcome::NotFound,
            Error::Conflict(m) if m.contains(", the limit of instance") => {
                Outcome::Conflict(Why::Limit)
            }
            Error::Conflict(m)
                if m.contains("that is final")
                    || m.contains("cannot be renewed")
                    || m.contains("as they were when it was revoked") =>
            {
                Outcome::Conflict(Why::Final)
            }
            Error::Conflict(m) if m.contains("gets no grace period") => {
                Outcome::Conflict(Why::NoGrace)
            }
            Error::Conflict(m) if m.contains("still has") && m.contains("active key") => {
                Outcome::Conflict(Why::ActiveKeys)
            }
            Error::Conflict(_) => Outcome::Conflict(Why::Unexplained),
            other => panic!("an error the model never expects: {other:?} ({other})"),
        }
    }

    fn of<T>(r: &Result<T, Error>) -> Outcome {
        match r {
            Ok(_) => Outcome::Done,
            Err(e) => Outcome::of_error(e),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stored {
    Active,
    Deactivated,
    Deleted,
}

#[derive(Clone, Debug)]
struct ModelKey {
    name: usize,
    instance: usize,
    developer: usize,
    channel: usize,
    stored: Stored,
    expires_at: Option<i64>,
    teams: BTreeSet<usize>,
    /// How many times the key was renewed: the index of its current secret.
    generation: usize,
    /// The secret that still works after a renewal with grace, and until when.
    grace: Option<(usize, i64)>,
    use_count: u64,
    last_used_at: Option<i64>,
}

impl ModelKey {
    fn status(&self, now: i64) -> KeyStatus {
        match self.stored {
            Stored::Deactivated => KeyStatus::Deactivated,
            Stored::Deleted => KeyStatus::Deleted,
            Stored::Active if self.expires_at.is_some_and(|e| e <= now) => KeyStatus::Expired,
            Stored::Active => KeyStatus::Active,
        }
    }

    fn integration(&self) -> (usize, usize, usize) {
        (self.instance, self.developer, self.channel)
    }
}

#[derive(Clone, Debug)]
struct Model {
    now: i64,
    keys: Vec<ModelKey>,
    teams: BTreeSet<usize>,
    /// The developers on each instance's list: (instance, developer).
    developers: BTreeSet<(usize, usize)>,
    history: u64,
    outbox: u64,
    /// The outcome of the last step.
    expected: Outcome,
    /// The key `Target::Recent` names.
    recent: Option<usize>,
}

impl Model {
    fn resolve(&self, target: &Target) -> Option<usize> {
        match target {
            Target::Made(i) if !self.keys.is_empty() => Some(i.index(self.keys.len())),
            Target::Recent => self.recent,
            _ => None,
        }
    }

    /// The targets in order, each once, as the service reads a list of ids.
    fn resolve_all(&self, targets: &[Target]) -> Vec<Option<usize>> {
        let mut out = Vec::new();
        for t in targets {
            let r = self.resolve(t);
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }

    fn active_in(&self, integration: (usize, usize, usize), except: Option<usize>) -> usize {
        self.keys
            .iter()
            .enumerate()
            .filter(|(i, k)| {
                Some(*i) != except
                    && k.integration() == integration
                    && k.status(self.now) == KeyStatus::Active
            })
            .count()
    }

    /// Whether one more active key fits in the integration.
    fn fits(&self, integration: (usize, usize, usize), except: Option<usize>) -> bool {
        self.active_in(integration, except) < INSTANCES[integration.0].1 as usize
    }

    /// A key names a developer: on the instance's list they are, recorded
    /// (`developer_added`) when they were not.
    fn on_list(&mut self, developer: (usize, usize)) {
        if self.developers.insert(developer) {
            self.history += 1;
        }
    }

    fn deactivate(&mut self, i: usize) {
        let key = &mut self.keys[i];
        key.stored = Stored::Deactivated;
        key.grace = None;
        self.history += 1;
    }

    /// Applies a step, returning its outcome.
    fn step(&mut self, step: &Step) -> Outcome {
        let now = self.now;
        match step {
            Step::Create {
                who,
                name,
                instance,
                developer,
                channel,
                life,
                team,
            } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                let integration = (*instance, *developer, *channel);
                if !self.fits(integration, None) {
                    return Outcome::Conflict(Why::Limit);
                }
                self.on_list((*instance, *developer));
                let mut teams = BTreeSet::new();
                if let Some(t) = team {
                    if self.teams.insert(*t) {
                        self.history += 1;
                    }
                    teams.insert(*t);
                }
                self.keys.push(ModelKey {
                    name: *name,
                    instance: *instance,
                    developer: *developer,
                    channel: *channel,
                    stored: Stored::Active,
                    expires_at: life.expires_at(now),
                    teams,
                    generation: 0,
                    grace: None,
                    use_count: 0,
                    last_used_at: None,
                });
                self.history += 1;
                self.outbox += NOTIFIED;
                Outcome::Done
            }
            Step::Renew {
                who,
                key,
                grace,
                life,
            } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                let Some(i) = self.resolve(key) else {
                    return Outcome::NotFound;
                };
                let k = &self.keys[i];
                match k.status(now) {
                    KeyStatus::Deactivated | KeyStatus::Deleted => {
                        return Outcome::Conflict(Why::Final);
                    }
                    KeyStatus::Expired if grace.is_some() => {
                        return Outcome::Conflict(Why::NoGrace);
                    }
                    KeyStatus::Expired if !self.fits(k.integration(), Some(i)) => {
                        return Outcome::Conflict(Why::Limit);
                    }
                    _ => {}
                }
                let on = (self.keys[i].instance, self.keys[i].developer);
                self.on_list(on);
                let k = &mut self.keys[i];
                k.grace = grace.map(|g| (k.generation, now + g.seconds()));
                k.generation += 1;
                k.expires_at = match life {
                    Some(l) => l.expires_at(now),
                    None => Some(now + DEFAULT_EXPIRY),
                };
                self.history += 1;
                self.outbox += NOTIFIED;
                Outcome::Done
            }
            Step::Rename { who, key, name } => self.edit(*who, key, |k| k.name = *name),
            Step::Move {
                who,
                key,
                developer,
                channel,
            } => {
                if let Some(refused) = self.revoked_record(*who, key) {
                    return refused;
                }
                let outcome = self.edit(*who, key, |k| {
                    k.developer = *developer;
                    k.channel = *channel;
                });
                // Naming a developer puts them (back) on the instance's list.
                if outcome == Outcome::Done {
                    let k = &self.keys[self.resolve(key).expect("an edited key")];
                    let on = (k.instance, k.developer);
                    self.on_list(on);
                }
                outcome
            }
            Step::Extend { who, key, life } => {
                if let Some(refused) = self.revoked_record(*who, key) {
                    return refused;
                }
                self.edit(*who, key, |k| k.expires_at = life.expires_at(now))
            }
            Step::Teams {
                who,
                keys,
                add,
                remove,
            } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                if remove.iter().any(|t| !self.teams.contains(t)) {
                    return Outcome::NotFound;
                }
                let targets = self.resolve_all(keys);
                for t in &targets {
                    match t {
                        None => return Outcome::NotFound,
                        Some(i) if self.keys[*i].stored == Stored::Deleted => {
                            return Outcome::Conflict(Why::Final);
                        }
                        _ => {}
                    }
                }
                for t in add {
                    if self.teams.insert(*t) {
                        self.history += 1;
                    }
                }
                for i in targets.into_iter().flatten() {
                    let teams = &mut self.keys[i].teams;
                    let before = teams.clone();
                    teams.extend(add.iter().copied());
                    teams.retain(|t| !remove.contains(t));
                    if *teams != before {
                        self.history += 1;
                    }
                }
                Outcome::Done
            }
            Step::Deactivate { who, keys } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                let targets = self.resolve_all(keys);
                for t in &targets {
                    match t {
                        None => return Outcome::NotFound,
                        Some(i) if self.keys[*i].stored != Stored::Active => {
                            return Outcome::Conflict(Why::Final);
                        }
                        _ => {}
                    }
                }
                for i in targets.into_iter().flatten() {
                    self.deactivate(i);
                }
                self.outbox += NOTIFIED;
                Outcome::Done
            }
            Step::Delete { who, keys } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                let targets = self.resolve_all(keys);
                for t in &targets {
                    match t {
                        None => return Outcome::NotFound,
                        Some(i) if self.keys[*i].stored == Stored::Deleted => {
                            return Outcome::Conflict(Why::Final);
                        }
                        _ => {}
                    }
                }
                for i in targets.into_iter().flatten() {
                    if self.keys[i].stored == Stored::Active {
                        self.deactivate(i);
                    }
                    self.keys[i].stored = Stored::Deleted;
                    self.history += 1;
                }
                self.outbox += NOTIFIED;
                Outcome::Done
            }
            Step::Show { key, .. } => {
                // Any operator may open a key; doing so is recorded.
                let Some(_) = self.resolve(key) else {
                    return Outcome::NotFound;
                };
                self.history += 1;
                Outcome::Done
            }
            Step::Verify { key, secret, .. } => {
                let outcome = self.verify(key, *secret);
                match outcome {
                    Outcome::Valid => {}
                    _ => self.history += 1,
                }
                outcome
            }
            Step::RemoveDeveloper {
                who,
                instance,
                developer,
                deactivate_keys,
            } => {
                if *who == Who::Viewer {
                    return Outcome::Permission;
                }
                if !self.developers.contains(&(*instance, *developer)) {
                    return Outcome::NotFound;
                }
                let active: Vec<usize> = (0..self.keys.len())
                    .filter(|i| {
                        let k = &self.keys[*i];
                        (k.instance, k.developer) == (*instance, *developer)
                            && k.status(now) == KeyStatus::Active
                    })
                    .collect();
                if !active.is_empty() && !deactivate_keys {
                    return Outcome::Conflict(Why::ActiveKeys);
                }
                for i in &active {
                    self.deactivate(*i);
                }
                if !active.is_empty() {
                    self.outbox += NOTIFIED;
                }
                self.developers.remove(&(*instance, *developer));
                self.history += 1;
                Outcome::Done
            }
            Step::Advance { hours } => {
                self.now += hours * HOUR;
                Outcome::Done
            }
        }
    }

    /// An edit: refused to viewers and for deleted keys; limit-checked when it
    /// moves a key that is active, or brings an expired one back, into an
    /// integration; recorded only when something changed.
    /// A deactivated key's developer, channel and expiry stay as they were
    /// when it was revoked: `Some(refusal)` for an edit of them.
    fn revoked_record(&self, who: Who, key: &Target) -> Option<Outcome> {
        let i = self.resolve(key)?;
        (who != Who::Viewer && self.keys[i].stored == Stored::Deactivated)
            .then_some(Outcome::Conflict(Why::Final))
    }

    fn edit(&mut self, who: Who, key: &Target, change: impl FnOnce(&mut ModelKey)) -> Outcome {
        if who == Who::Viewer {
            return Outcome::Permission;
        }
        let Some(i) = self.resolve(key) else {
            return Outcome::NotFound;
        };
        let now = self.now;
        let before = self.keys[i].clone();
        if before.stored == Stored::Deleted {
            return Outcome::Conflict(Why::Final);
        }
        let mut after = before.clone();
        change(&mut after);
        let was = before.status(now);
        let becomes_active = after.status(now) == KeyStatus::Active;
        let moves = after.integration() != before.integration();
        let revives = was == KeyStatus::Expired && becomes_active;
        if becomes_active && (moves || revives) && !self.fits(after.integration(), Some(i)) {
            return Outcome::Conflict(Why::Limit);
        }
        if after.name != before.name || moves || after.expires_at != before.expires_at {
            self.history += 1;
        }
        // A developer with an active key is on the instance's list (SPEC §2:
        // removing one is refused while they have active keys).
        if becomes_active {
            self.on_list((after.instance, after.developer));
        }
        self.keys[i] = after;
        Outcome::Done
    }

    fn verify(&mut self, key: &Target, secret: Secret) -> Outcome {
        let now = self.now;
        let Some(i) = self.resolve(key) else {
            return Outcome::Invalid(VerifyFailure::NotFound);
        };
        let k = &mut self.keys[i];
        let given = secret_generation(secret, k.generation);
        let current = given == Some(k.generation);
        let in_grace = k
            .grace
            .is_some_and(|(g, until)| given == Some(g) && until > now);
        if !current && !in_grace {
            return Outcome::Invalid(VerifyFailure::Mismatch);
        }
        match k.status(now) {
            KeyStatus::Active => {
                k.use_count += 1;
                k.last_used_at = Some(now);
                Outcome::Valid
            }
            KeyStatus::Expired => Outcome::Invalid(VerifyFailure::Expired),
            KeyStatus::Deactivated => Outcome::Invalid(VerifyFailure::Deactivated),
            KeyStatus::Deleted => Outcome::Invalid(VerifyFailure::Deleted),
        }
    }
}

/// Which issued secret of a key renewed `generation` times verify is given;
/// `None` for one never issued.
fn secret_generation(secret: Secret, generation: usize) -> Option<usize> {
    match secret {
        Secret::Current => Some(generation),
        Secret::Previous => Some(generation.saturating_sub(1)),
        Secret::Older => Some(generation.saturating_sub(2)),
        Secret::Wrong => None,
    }
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![2 => Just(Who::Admin), 3 => Just(Who::Manager), 1 => Just(Who::Viewer)]
}

fn life() -> impl Strategy<Value = Life> {
    prop_oneof![
        Just(Life::Hours12),
        Just(Life::Day1),
        Just(Life::Days3),
        Just(Life::Never)
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        5 => any::<Index>().prop_map(Target::Made),
        4 => Just(Target::Recent),
        1 => Just(Target::Unknown)
    ]
}

fn targets() -> impl Strategy<Value = Vec<Target>> {
    prop::collection::vec(target(), 1..=3)
}

/// Per team: leave it, add it, or remove it; at least one team changes.
fn team_changes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(0..3u8, TEAMS.len()).prop_map(|choice| {
        let pick = |c| {
            (0..TEAMS.len())
                .filter(|t| choice[*t] == c)
                .collect::<Vec<_>>()
        };
        let (mut add, remove) = (pick(1), pick(2));
        if add.is_empty() && remove.is_empty() {
            add.push(0);
        }
        (add, remove)
    })
}

struct LifecycleModel;

impl ReferenceStateMachine for LifecycleModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            now: start(),
            keys: Vec::new(),
            teams: BTreeSet::new(),
            developers: BTreeSet::new(),
            history: SETUP_HISTORY,
            outbox: 0,
            expected: Outcome::Done,
            recent: None,
        })
        .boxed()
    }

    // Creating, renewing and verifying hash with Argon2id (~30 ms each), so they
    // are weighted to keep a CI run within its budget.
    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let create = (
            who(),
            0..NAMES.len(),
            0..INSTANCES.len(),
            0..DEVELOPERS.len(),
            0..CHANNELS.len(),
            life(),
            prop::option::of(0..TEAMS.len()),
        )
            .prop_map(|(who, name, instance, developer, channel, life, team)| {
                Step::Create {
                    who,
                    name,
                    instance,
                    developer,
                    channel,
                    life,
                    team,
                }
            });
        let renew = (
            who(),
            target(),
            prop::option::of(prop_oneof![Just(Grace::Hour1), Just(Grace::Day1)]),
            prop::option::of(life()),
        )
            .prop_map(|(who, key, grace, life)| Step::Renew {
                who,
                key,
                grace,
                life,
            });
        let rename = (who(), target(), 0..NAMES.len()).prop_map(|(who, key, name)| Step::Rename {
            who,
            key,
            name,
        });
        let moving = (who(), target(), 0..DEVELOPERS.len(), 0..CHANNELS.len()).prop_map(
            |(who, key, developer, channel)| Step::Move {
                who,
                key,
                developer,
                channel,
            },
        );
        let extend =
            (who(), target(), life()).prop_map(|(who, key, life)| Step::Extend { who, key, life });
        let teams =
            (who(), targets(), team_changes()).prop_map(|(who, keys, (add, remove))| Step::Teams {
                who,
                keys,
                add,
                remove,
            });
        let deactivate = (who(), targets()).prop_map(|(who, keys)| Step::Deactivate { who, keys });
        let delete = (who(), targets()).prop_map(|(who, keys)| Step::Delete { who, keys });
        let show = (who(), target()).prop_map(|(who, key)| Step::Show { who, key });
        // Mostly the recent key, which a renewal or a clock move just touched.
        let verify_target = prop_oneof![
            3 => any::<Index>().prop_map(Target::Made),
            6 => Just(Target::Recent),
            1 => Just(Target::Unknown)
        ];
        let verify = (
            who(),
            verify_target,
            prop_oneof![
                3 => Just(Secret::Current),
                2 => Just(Secret::Previous),
                1 => Just(Secret::Older),
                1 => Just(Secret::Wrong)
            ],
        )
            .prop_map(|(who, key, secret)| Step::Verify { who, key, secret });
        let remove_developer = (
            who(),
            0..INSTANCES.len(),
            0..DEVELOPERS.len(),
            any::<bool>(),
        )
            .prop_map(|(who, instance, developer, deactivate_keys)| {
                Step::RemoveDeveloper {
                    who,
                    instance,
                    developer,
                    deactivate_keys,
                }
            });
        // Often exactly a grace period or a key's life, to land on the instant
        // one ends, where `<` and `<=` part.
        let advance = prop_oneof![
            2 => prop::sample::select(vec![1i64, 12, 24, 72]),
            1 => 1..=6i64,
            1 => 6..=30i64,
            1 => 30..=72i64
        ]
        .prop_map(|hours| Step::Advance { hours });
        let mut steps: Vec<(u32, BoxedStrategy<Step>)> = vec![
            (5, create.boxed()),
            (3, renew.boxed()),
            (1, rename.boxed()),
            (2, moving.boxed()),
            (2, extend.boxed()),
            (2, teams.boxed()),
            (2, deactivate.boxed()),
            (2, delete.boxed()),
            (1, show.boxed()),
            (4, verify.boxed()),
            (1, remove_developer.boxed()),
            (2, advance.boxed()),
        ];
        // And straight to the next instant a key expires or a grace period
        // ends (or to any of them), whole hours since every span is.
        let now = state.now;
        let mut ends: Vec<i64> = state
            .keys
            .iter()
            .flat_map(|k| [k.expires_at, k.grace.map(|(_, until)| until)])
            .flatten()
            .filter(|&t| t > now)
            .collect();
        ends.sort_unstable();
        ends.dedup();
        if let Some(&next) = ends.first() {
            let hours = move |t: i64| Step::Advance {
                hours: ((t - now) / HOUR).max(1),
            };
            steps.push((2, Just(hours(next)).boxed()));
            steps.push((1, prop::sample::select(ends).prop_map(hours).boxed()));
        }
        proptest::strategy::Union::new_weighted(steps).boxed()
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        let named = match step {
            Step::Renew { key, .. }
            | Step::Rename { key, .. }
            | Step::Move { key, .. }
            | Step::Extend { key, .. }
            | Step::Show { key, .. }
            | Step::Verify { key, .. } => state.resolve(key),
            Step::Teams { keys, .. }
            | Step::Deactivate { keys, .. }
            | Step::Delete { keys, .. } => keys.iter().find_map(|k| state.resolve(k)),
            Step::Create { .. } | Step::RemoveDeveloper { .. } | Step::Advance { .. } => None,
        };
        let made = state.keys.len();
        state.expected = state.step(step);
        if state.keys.len() > made {
            state.recent = Some(made);
        } else if named.is_some() {
            state.recent = named;
        }
        state
    }
}

// ---------------------------------------------------------------------------------------------
// The system under test: the service layer over a real store
// ---------------------------------------------------------------------------------------------

/// A key the service made, with every secret it was ever issued.
struct Issued {
    public_id: String,
    secrets: Vec<KeyToken>,
}

struct Keyward {
    _store: TempStore,
    clock: Arc<HandClock>,
    /// One service per operator, indexed by `Who::index`, all on one store file.
    services: Vec<Service>,
    keys: Vec<Issued>,
    /// An id no key has.
    unknown: PublicId,
    steps: u64,
}

impl Keyward {
    fn new() -> Keyward {
        let store = TempStore::new();
        // The operators before the instances, as SETUP_HISTORY counts them.
        let mut services: Vec<Service> = LOGINS
            .iter()
            .map(|(login, role)| store.service_as(login, *role))
            .collect();
        for (name, limit) in INSTANCES {
            services[Who::Admin.index()]
                .add_instance(&InstanceSpec {
                    name: name.into(),
                    cloud: Cloud::Other,
                    url: None,
                    max_active: Some(limit),
                })
                .expect("instance");
        }
        Keyward {
            clock: store.clock().clone(),
            _store: store,
            services,
            keys: Vec::new(),
            unknown: PublicId::generate(),
            steps: 0,
        }
    }

    fn as_who(&mut self, who: Who) -> &mut Service {
        &mut self.services[who.index()]
    }

    /// The id a target names; the model resolved the same target the same way.
    fn id(&self, model: &Model, target: &Target) -> String {
        match model.resolve(target) {
            Some(i) => self.keys[i].public_id.clone(),
            None => self.unknown.as_str().to_owned(),
        }
    }

    fn ids(&self, model: &Model, targets: &[Target]) -> Vec<String> {
        targets.iter().map(|t| self.id(model, t)).collect()
    }

    /// Runs a step; `model` is the model before it.
    fn run(&mut self, model: &Model, step: &Step) -> Outcome {
        match step {
            Step::Create {
                who,
                name,
                instance,
                developer,
                channel,
                life,
                team,
            } => {
                let made = self.as_who(*who).create_key(&NewKeyRequest {
                    name: NAMES[*name].into(),
                    instance: INSTANCES[*instance].0.into(),
                    developer: DEVELOPERS[*developer].into(),
                    channel: CHANNELS[*channel].into(),
                    teams: team.iter().map(|t| TEAMS[*t].to_owned()).collect(),
                    expires: Some(life.text().into()),
                });
                let outcome = Outcome::of(&made);
                if let Ok(issued) = made {
                    self.keys.push(Issued {
                        public_id: issued.key.public_id,
                        secrets: vec![issued.token],
                    });
                }
                outcome
            }
            Step::Renew {
                who,
                key,
                grace,
                life,
            } => {
                let id = self.id(model, key);
                let renewed =
                    self.as_who(*who)
                        .renew_key(&id, grace.map(Grace::text), life.map(Life::text));
                let outcome = Outcome::of(&renewed);
                if let Ok(issued) = renewed {
                    let i = model.resolve(key).expect("a renewed key was made here");
                    self.keys[i].secrets.push(issued.token);
                }
                outcome
            }
            Step::Rename { who, key, name } => {
                let edit = EditKey {
                    name: Some(NAMES[*name].into()),
                    ..EditKey::default()
                };
                self.edit(model, *who, key, &edit)
            }
            Step::Move {
                who,
                key,
                developer,
                channel,
            } => {
                let edit = EditKey {
                    developer: Some(DEVELOPERS[*developer].into()),
                    channel: Some(CHANNELS[*channel].into()),
                    ..EditKey::default()
                };
                self.edit(model, *who, key, &edit)
            }
            Step::Extend { who, key, life } => {
                let edit = EditKey {
                    expires: Some(life.text().into()),
                    ..EditKey::default()
                };
                self.edit(model, *who, key, &edit)
            }
            Step::Teams {
                who,
                keys,
                add,
                remove,
            } => {
                let ids = self.ids(model, keys);
                let names = |ts: &[usize]| ts.iter().map(|t| TEAMS[*t].to_owned()).collect();
                let changes = TeamChanges {
                    add: names(add),
                    remove: names(remove),
                };
                Outcome::of(&self.as_who(*who).change_teams(&ids, &changes))
            }
            Step::Deactivate { who, keys } => {
                let ids = self.ids(model, keys);
                let done = self.as_who(*who).deactivate_keys(&ids);
                if let Ok(keys) = &done {
                    assert!(keys.iter().all(|k| k.status == KeyStatus::Deactivated));
                }
                Outcome::of(&done)
            }
            Step::Delete { who, keys } => {
                let ids = self.ids(model, keys);
                let done = self.as_who(*who).delete_keys(&ids);
                if let Ok(keys) = &done {
                    assert!(keys.iter().all(|k| k.status == KeyStatus::Deleted));
                }
                Outcome::of(&done)
            }
            Step::Show { who, key } => {
                let id = self.id(model, key);
                Outcome::of(&self.as_who(*who).show_key(&id))
            }
            Step::Verify { who, key, secret } => {
                let token = match model.resolve(key) {
                    Some(i) => {
                        let issued = &self.keys[i];
                        let generation = issued.secrets.len() - 1;
                        match secret_generation(*secret, generation) {
                            Some(g) => issued.secrets[g].clone(),
                            None => KeyToken::generate(
                                &PublicId::parse(&issued.public_id).expect("a public id"),
                            ),
                        }
                    }
                    None => KeyToken::generate(&self.unknown),
                };
                match self.as_who(*who).verify(&token).expect("verify") {
                    Verdict::Valid(key) => {
                        assert_eq!(key.public_id, token.public_id().as_str());
                        Outcome::Valid
                    }
                    Verdict::Invalid(why) => Outcome::Invalid(why),
                }
            }
            Step::RemoveDeveloper {
                who,
                instance,
                developer,
                deactivate_keys,
            } => {
                let removed = self.as_who(*who).remove_developer(
                    DEVELOPERS[*developer],
                    INSTANCES[*instance].0,
                    *deactivate_keys,
                );
                Outcome::of(&removed)
            }
            Step::Advance { hours } => {
                self.clock.advance(TimeDelta::seconds(hours * HOUR));
                Outcome::Done
            }
        }
    }

    fn edit(&mut self, model: &Model, who: Who, key: &Target, edit: &EditKey) -> Outcome {
        let id = self.id(model, key);
        Outcome::of(&self.as_who(who).edit_key(&id, edit))
    }

    /// Every key, the limits, the history and the outbox against the model.
    fn agrees_with(&mut self, model: &Model) {
        assert_eq!(self.keys.len(), model.keys.len(), "keys made");
        let now = self.services[0].now().timestamp();
        assert_eq!(now, model.now, "the clock");
        let viewer = &mut self.services[Who::Viewer.index()];
        let all = viewer
            .list_keys(&KeyQuery::default(), true, None)
            .expect("list every key");
        let listed = viewer
            .list_keys(&KeyQuery::default(), false, None)
            .expect("list keys");
        let history = viewer
            .history(&HistoryQuery::default(), None)
            .expect("history")
            .len() as u64;
        let outbox = viewer.notifications(false).expect("outbox").len() as u64;
        // Each list with its counts of active keys and of keys not deleted.
        let developers: BTreeMap<(String, String), (u64, u64)> = viewer
            .list_developers(None)
            .expect("developers")
            .into_iter()
            .map(|d| ((d.instance, d.name), (d.active_keys, d.keys)))
            .collect();
        let instances: BTreeMap<String, (u64, u64)> = viewer
            .list_instances()
            .expect("instances")
            .into_iter()
            .map(|i| (i.name, (i.active_keys, i.keys)))
            .collect();
        let teams: BTreeMap<String, u64> = viewer
            .list_teams()
            .expect("teams")
            .into_iter()
            .map(|t| (t.name, t.keys))
            .collect();

        let by_id: BTreeMap<&str, &Key> = all.iter().map(|k| (k.public_id.as_str(), k)).collect();
        assert_eq!(by_id.len(), model.keys.len(), "keys in the store");
        let mut active: BTreeMap<(String, i64, i64), u32> = BTreeMap::new();
        for (issued, want) in self.keys.iter().zip(&model.keys) {
            let got = by_id
                .get(issued.public_id.as_str())
                .unwrap_or_else(|| panic!("key {} is missing", issued.public_id));
            let what = format!("key {} ({got:?})", issued.public_id);
            assert_eq!(got.status, want.status(now), "status of {what}");
            assert_eq!(got.name, NAMES[want.name], "name of {what}");
            assert_eq!(
                got.instance, INSTANCES[want.instance].0,
                "instance of {what}"
            );
            assert_eq!(
                got.developer, DEVELOPERS[want.developer],
                "developer of {what}"
            );
            assert_eq!(got.channel, CHANNELS[want.channel], "channel of {what}");
            let teams: Vec<&str> = want.teams.iter().map(|t| TEAMS[*t]).collect();
            assert_eq!(got.teams, teams, "teams of {what}");
            assert_eq!(got.expires_at, want.expires_at, "expiry of {what}");
            assert_eq!(got.grace_until, want.grace.map(|g| g.1), "grace of {what}");
            assert_eq!(got.use_count, want.use_count, "use count of {what}");
            assert_eq!(got.last_used_at, want.last_used_at, "last use of {what}");
            assert_eq!(got.masked(), issued.secrets[want.generation].masked());
            if got.status == KeyStatus::Active {
                assert!(
                    developers.contains_key(&(got.instance.clone(), got.developer.clone())),
                    "{what} is active but its developer is not on the instance's list"
                );
                *active
                    .entry((got.instance.clone(), got.developer_id, got.channel_id))
                    .or_default() += 1;
            }
        }
        for ((instance, developer, channel), count) in &active {
            let limit = INSTANCES
                .iter()
                .find(|(name, _)| name == instance)
                .map(|(_, limit)| *limit)
                .expect("a known instance");
            assert!(
                *count <= limit,
                "{instance} developer {developer} channel {channel} has {count} active keys, over the limit {limit}"
            );
        }
        let not_deleted = model
            .keys
            .iter()
            .filter(|k| k.stored != Stored::Deleted)
            .count();
        assert_eq!(listed.len(), not_deleted, "keys listed without --all");
        assert!(listed.iter().all(|k| k.status != KeyStatus::Deleted));
        let counts = |of: &dyn Fn(&ModelKey) -> bool| {
            let keys = model.keys.iter().filter(|k| of(k));
            let active = keys.clone().filter(|k| k.status(now) == KeyStatus::Active);
            let kept = keys.filter(|k| k.stored != Stored::Deleted);
            (active.count() as u64, kept.count() as u64)
        };
        let want: BTreeMap<(String, String), (u64, u64)> = model
            .developers
            .iter()
            .map(|&(i, d)| {
                let name = (INSTANCES[i].0.to_owned(), DEVELOPERS[d].to_owned());
                (name, counts(&|k| (k.instance, k.developer) == (i, d)))
            })
            .collect();
        assert_eq!(developers, want, "developers listed, with their keys");
        let want: BTreeMap<String, (u64, u64)> = (0..INSTANCES.len())
            .map(|i| (INSTANCES[i].0.to_owned(), counts(&|k| k.instance == i)))
            .collect();
        assert_eq!(instances, want, "instances, with their keys");
        let want: BTreeMap<String, u64> = model
            .teams
            .iter()
            .map(|&t| (TEAMS[t].to_owned(), counts(&|k| k.teams.contains(&t)).1))
            .collect();
        assert_eq!(teams, want, "teams, with their keys");
        assert_eq!(history, model.history, "history rows");
        assert_eq!(outbox, model.outbox, "notifications in the outbox");
    }
}

// ---------------------------------------------------------------------------------------------
// Tallies, printed once the configured number of cases has passed
// ---------------------------------------------------------------------------------------------

static CASES: AtomicU64 = AtomicU64::new(0);
static STEPS: AtomicU64 = AtomicU64::new(0);
/// Done, permission, not found, conflict, valid, and each verify failure.
static OUTCOMES: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
static STARTED: Mutex<Option<std::time::Instant>> = Mutex::new(None);

fn tally(outcome: Outcome) {
    let slot = match outcome {
        Outcome::Done => 0,
        Outcome::Permission => 1,
        Outcome::NotFound => 2,
        Outcome::Conflict(_) => 3,
        Outcome::Valid => 4,
        Outcome::Invalid(VerifyFailure::NotFound) => 5,
        Outcome::Invalid(VerifyFailure::Mismatch) => 6,
        Outcome::Invalid(VerifyFailure::Expired) => 7,
        Outcome::Invalid(VerifyFailure::Deactivated) => 8,
        Outcome::Invalid(VerifyFailure::Deleted | VerifyFailure::Malformed) => 9,
    };
    OUTCOMES[slot].fetch_add(1, Ordering::Relaxed);
}

fn summary() -> String {
    let n = |i: usize| OUTCOMES[i].load(Ordering::Relaxed);
    let elapsed = STARTED
        .lock()
        .expect("start time")
        .map_or(0.0, |t| t.elapsed().as_secs_f64());
    format!(
        "model: {} cases, {} steps in {elapsed:.1} s; done {}, permission {}, not_found {}, conflict {}; verify valid {}, not_found {}, mismatch {}, expired {}, deactivated {}, deleted {}",
        CASES.load(Ordering::Relaxed),
        STEPS.load(Ordering::Relaxed),
        n(0),
        n(1),
        n(2),
        n(3),
        n(4),
        n(5),
        n(6),
        n(7),
        n(8),
        n(9),
    )
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

struct Lifecycle;

impl StateMachineTest for Lifecycle {
    type SystemUnderTest = (Keyward, Model);
    type Reference = LifecycleModel;

    fn init_test(model: &Model) -> (Keyward, Model) {
        STARTED
            .lock()
            .expect("start time")
            .get_or_insert_with(std::time::Instant::now);
        let mut sut = Keyward::new();
        sut.agrees_with(model);
        (sut, model.clone())
    }

    /// `model` is the model after the step; the SUT keeps the one before it, to
    /// resolve the step's targets exactly as the model did.
    fn apply((mut sut, before): (Keyward, Model), model: &Model, step: Step) -> (Keyward, Model) {
        let got = sut.run(&before, &step);
        assert_eq!(got, model.expected, "outcome of {step:?}");
        tally(got);
        sut.steps += 1;
        sut.agrees_with(model);
        (sut, model.clone())
    }

    fn teardown((mut sut, _): (Keyward, Model), model: Model) {
        let audit = sut.services[0].audit_verify().expect("audit verify");
        assert_eq!(audit.first_bad, None, "the history's hash chain");
        assert_eq!(audit.rows, model.history, "rows audited");
        STEPS.fetch_add(sut.steps, Ordering::Relaxed);
        let cases = CASES.fetch_add(1, Ordering::Relaxed) + 1;
        if cases == u64::from(contextualize_config(config()).cases) {
            eprintln!("{}", summary());
        }
    }
}

/// 256 cases unless `PROPTEST_CASES` says otherwise; no failure file in the tree.
fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        max_shrink_iters: 4_096,
        ..Config::default()
    }
}

fn max_steps() -> usize {
    std::env::var("KEYWARD_MODEL_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn the_key_lifecycle_agrees_with_the_model(sequential 1..=max_steps() => Lifecycle);
}

// ---------------------------------------------------------------------------------------------
// What the model found, pinned down
// ---------------------------------------------------------------------------------------------

/// Removing a developer is refused while they have active keys, so a key that
/// becomes active again (renewed or extended after expiring) brings its developer
/// back to the instance's list: otherwise they could neither be seen in
/// `developer list` nor removed again while their key works.
#[test]
fn a_key_brought_back_after_expiry_brings_its_removed_developer_back() {
    let mut kw = Keyward::new();
    let make = |kw: &mut Keyward, developer: &str| {
        kw.as_who(Who::Manager)
            .create_key(&NewKeyRequest {
                name: "sync".into(),
                instance: "globex".into(),
                developer: developer.into(),
                channel: "api".into(),
                teams: vec![],
                expires: Some("12h".into()),
            })
            .expect("create")
            .key
            .public_id
    };
    let renewed = make(&mut kw, "dana");
    let extended = make(&mut kw, "eli");
    kw.clock.advance(TimeDelta::seconds(DAY));
    let listed = |kw: &mut Keyward| -> Vec<String> {
        kw.as_who(Who::Viewer)
            .list_developers(Some("globex"))
            .expect("developers")
            .into_iter()
            .map(|d| d.name)
            .collect()
    };
    for developer in ["dana", "eli"] {
        kw.as_who(Who::Manager)
            .remove_developer(developer, "globex", false)
            .expect("a developer whose keys expired can be removed");
    }
    assert!(listed(&mut kw).is_empty());

    kw.as_who(Who::Manager)
        .renew_key(&renewed, None, Some("3d"))
        .expect("renew");
    kw.as_who(Who::Manager)
        .edit_key(
            &extended,
            &EditKey {
                expires: Some("3d".into()),
                ..EditKey::default()
            },
        )
        .expect("extend");
    assert_eq!(listed(&mut kw), ["dana", "eli"]);
    // And so the rule holds again: removing one is refused while their key works.
    let err = kw
        .as_who(Who::Manager)
        .remove_developer("dana", "globex", false)
        .expect_err("dana has an active key");
    assert!(matches!(err, Error::Conflict(_)), "{err}");
}
