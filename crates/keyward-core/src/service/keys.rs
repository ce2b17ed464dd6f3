//! Key operations: create, show, list, edit, bulk teams, renew, deactivate,
//! delete, and recording that a new secret was copied.

use super::notice::{self, Event};
use super::{Actor, Service, rfc3339, secret, with_details};
use crate::domain::history::Action;
use crate::domain::model::{
    Integration, Key, KeyCount, KeyPage, KeyPageFrom, KeyRef, KeyStatus, Role,
};
use crate::domain::query::KeyQuery;
use crate::domain::{Expiry, KeyToken, Name, PublicId, expiry};
use crate::error::{Error, Result};
use crate::safe_text::escape;
use crate::store::Db;
use crate::store::keys::{KeyFields, KeyListing, NewKey, NewSecret};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::ControlFlow;

/// Which teams the keys of a selection are in: for each team, the public ids
/// of the selected keys in it. From it a picker shows whether all, some or
/// none of a selection of any size has a team, and how many keys a change
/// would touch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamMembership {
    pub teams: BTreeMap<String, HashSet<String>>,
}

impl TeamMembership {
    /// How many of the selected keys are in `team`.
    pub fn count(&self, team: &str) -> usize {
        self.teams.get(team).map_or(0, HashSet::len)
    }

    /// How many of the keys `ids` the change would touch: those missing a team
    /// to add or holding a team to remove. The others stay as they are.
    pub fn changed_by(&self, ids: &[String], changes: &TeamChanges) -> usize {
        let has = |team: &String, id: &String| self.teams.get(team).is_some_and(|s| s.contains(id));
        let unique: BTreeSet<&String> = ids.iter().collect();
        unique
            .into_iter()
            .filter(|id| {
                changes.add.iter().any(|t| !has(t, id)) || changes.remove.iter().any(|t| has(t, id))
            })
            .count()
    }
}

/// What an admin fills in to make a key.
#[derive(Clone, Debug, Default)]
pub struct NewKeyRequest {
    pub name: String,
    pub instance: String,
    pub developer: String,
    pub channel: String,
    pub teams: Vec<String>,
    /// `30d`, `2027-01-31`, `never`; the default expiry when absent.
    pub expires: Option<String>,
}

/// The fields an edit changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct EditKey {
    pub name: Option<String>,
    pub developer: Option<String>,
    pub channel: Option<String>,
    pub expires: Option<String>,
}

impl EditKey {
    /// Whether the edit touches any field.
    pub fn changes_fields(&self) -> bool {
        self.name.is_some()
            || self.developer.is_some()
            || self.channel.is_some()
            || self.expires.is_some()
    }
}

/// Teams to add to and remove from a selection of keys.
#[derive(Clone, Debug, Default)]
pub struct TeamChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl TeamChanges {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// A key with its secret, as made by create or renew: the one time it is shown.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: Key,
    pub token: KeyToken,
}

/// How many times to draw a new public id if the drawn one is taken (1 in 10¹⁴ odds).
const PUBLIC_ID_ATTEMPTS: usize = 4;

/// From this many keys on, a change gets `BULK_CACHE_KIB` of page cache.
pub(super) const BULK_KEYS: usize = 500;
pub(super) const BULK_CACHE_KIB: u32 = 64 * 1024;

impl Service {
    pub fn create_key(&mut self, req: &NewKeyRequest) -> Result<IssuedKey> {
        let name = Name::parse("key name", &req.name)?;
        let instance = Name::parse("instance", &req.instance)?;
        let developer = Name::parse("developer", &req.developer)?;
        let channel = Name::parse("channel", &req.channel)?;
        let teams = team_names(&req.teams)?;
        let expires = self.expiry(req.expires.as_deref())?;
        self.precheck(Role::Manager)?;

        for _ in 0..PUBLIC_ID_ATTEMPTS {
            let public_id = PublicId::generate();
            let token = KeyToken::generate(&public_id);
            let hash = secret::hash(&token)?;
            let issued = self.write(Role::Manager, |db, actor, now| {
                let instance_id = db
                    .instance_id(instance.as_str())?
                    .ok_or_else(|| no_instance(instance.as_str()))?;
                let integration = Integration {
                    instance_id,
                    developer_id: developer_on_list(
                        db,
                        actor,
                        now,
                        (instance_id, instance.as_str()),
                        developer.as_str(),
                    )?,
                    channel_id: db.ensure_channel(channel.as_str())?,
                };
                check_limit(db, integration, now, None)?;
                let Some(key_id) = db.insert_key(&NewKey {
                    public_id: public_id.as_str(),
                    name: name.as_str(),
                    integration,
                    secret_hash: &hash,
                    tail: token.tail(),
                    expires_at: expires.at(now),
                    created_by: &actor.origin.login,
                    created_at: now,
                    now,
                    status: "active",
                    closed_at: None,
                    last_used_at: None,
                    use_count: 0,
                })?
                else {
                    return Ok(None);
                };
                for team in &teams {
                    let team_id = ensure_team(db, actor, team.as_str(), now)?;
                    db.add_key_to_team(key_id, team_id)?;
                }
                let key = load(db, public_id.as_str(), now)?;
                db.append_history(with_details(
                    actor.key_record(now, Action::Created, &key),
                    json!({
                        "instance": key.instance,
                        "developer": key.developer,
                        "channel": key.channel,
                        "teams": key.teams,
                        "expires_at": key.expires_at.map(rfc3339),
                    }),
                ))?;
                notice::enqueue(db, actor, Event::Created, std::slice::from_ref(&key), now)?;
                Ok(Some(key))
            })?;
            if let Some(key) = issued {
                return Ok(IssuedKey { key, token });
            }
        }
        Err(Error::conflict(
            "could not draw an unused public id; try again",
        ))
    }

    /// A key's details; opening them is recorded as `viewed`.
    pub fn show_key(&mut self, id: &str) -> Result<Key> {
        let public_id = parse_id(id)?;
        self.write(Role::Viewer, |db, actor, now| {
            let key = load(db, public_id.as_str(), now)?;
            db.append_history(actor.key_record(now, Action::Viewed, &key))?;
            Ok(key)
        })
    }

    /// Keys matching the smart filter; deleted ones only with `include_deleted`
    /// or when the filter asks for them.
    pub fn list_keys(
        &mut self,
        query: &KeyQuery,
        include_deleted: bool,
        limit: Option<u64>,
    ) -> Result<Vec<Key>> {
        self.read(|db, _, now| {
            db.keys(&KeyListing {
                query,
                include_deleted,
                now,
                limit,
            })
        })
    }

    /// Hands the keys `list_keys` would return to `visit` one at a time, in
    /// the same order and from one snapshot, until it breaks: a listing
    /// written out as it is read, in constant memory whatever its length.
    pub fn each_key(
        &mut self,
        query: &KeyQuery,
        include_deleted: bool,
        visit: impl FnMut(Key) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.read(|db, _, now| {
            db.each_key(
                &KeyListing {
                    query,
                    include_deleted,
                    now,
                    limit: None,
                },
                visit,
            )
        })
    }

    /// The handles of the keys `list_keys` would return, in the same order.
    pub fn list_key_refs(
        &mut self,
        query: &KeyQuery,
        include_deleted: bool,
    ) -> Result<Vec<KeyRef>> {
        self.read(|db, _, now| {
            db.key_refs(&KeyListing {
                query,
                include_deleted,
                now,
                limit: None,
            })
        })
    }

    /// A page of at most `limit` keys the filter lists (no deleted ones
    /// unless it asks for them), from `from`; and of the keys `asked` (a
    /// selection), those it still lists. One snapshot.
    pub fn key_page(
        &mut self,
        query: &KeyQuery,
        from: &KeyPageFrom,
        limit: u64,
        asked: &[i64],
    ) -> Result<KeyPage> {
        self.read(|db, _, now| db.key_page(&KeyListing::shown(query, now), from, limit, asked))
    }

    /// How many keys the filter lists, and how many come before `at`.
    pub fn count_keys(&mut self, query: &KeyQuery, at: Option<&KeyRef>) -> Result<KeyCount> {
        self.read(|db, _, now| db.count_keys(&KeyListing::shown(query, now), at))
    }

    /// The keys with these row ids, in the order given (a screen's visible rows).
    pub fn keys_by_ids(&mut self, ids: &[i64]) -> Result<Vec<Key>> {
        self.read(|db, _, now| db.keys_by_ids(ids, now))
    }

    /// Records that the new secret of a key was copied to the clipboard.
    pub fn record_copied(&mut self, id: &str, via: &str) -> Result<()> {
        let public_id = parse_id(id)?;
        self.write(Role::Viewer, |db, actor, now| {
            let key = load(db, public_id.as_str(), now)?;
            db.append_history(with_details(
                actor.key_record(now, Action::Copied, &key),
                json!({ "via": via }),
            ))?;
            Ok(())
        })
    }

    pub fn edit_key(&mut self, id: &str, edit: &EditKey) -> Result<Key> {
        let public_id = parse_id(id)?;
        let fields = FieldEdit::parse(edit, self.now())?;
        if fields.is_empty() {
            return Err(Error::usage(
                "nothing to change; give --name, --developer, --channel or --expires",
            ));
        }
        self.write(Role::Manager, |db, actor, now| {
            edit_fields(db, actor, now, public_id.as_str(), &fields)
        })
    }

    /// Edits a key's fields and its teams in one transaction: both are saved,
    /// or neither. Returns the key as the edit left it.
    pub fn edit_key_and_teams(
        &mut self,
        id: &str,
        edit: &EditKey,
        teams: &TeamChanges,
    ) -> Result<Key> {
        let public_id = parse_id(id)?;
        let fields = FieldEdit::parse(edit, self.now())?;
        let teams = TeamEdit::parse(teams)?;
        if fields.is_empty() && teams.is_empty() {
            return Err(Error::usage("nothing to change: no field was changed"));
        }
        self.write(Role::Manager, |db, actor, now| {
            let mut key = if fields.is_empty() {
                load(db, public_id.as_str(), now)?
            } else {
                edit_fields(db, actor, now, public_id.as_str(), &fields)?
            };
            if !teams.is_empty() {
                let resolved = teams.resolve(db, actor, now)?;
                if let Some(changed) = resolved.apply(db, actor, now, vec![key.clone()])?.pop() {
                    key = changed;
                }
            }
            Ok(key)
        })
    }

    /// Adds and removes teams on every key of the selection, in one transaction.
    /// Returns the keys that changed.
    /// Which teams the keys `ids` are in, read from the store by id, so the
    /// answer holds for keys the caller never loaded.
    pub fn team_membership(&mut self, ids: &[String]) -> Result<TeamMembership> {
        let ids = parse_ids(ids)?;
        let ids: Vec<&str> = ids.iter().map(PublicId::as_str).collect();
        let pairs = self.read(|db, _, _| db.team_memberships(&ids))?;
        let mut membership = TeamMembership::default();
        for (team, id) in pairs {
            membership.teams.entry(team).or_default().insert(id);
        }
        Ok(membership)
    }

    pub fn change_teams(&mut self, ids: &[String], changes: &TeamChanges) -> Result<Vec<Key>> {
        let ids = parse_ids(ids)?;
        let teams = TeamEdit::parse(changes)?;
        if teams.is_empty() {
            return Err(Error::usage(
                "nothing to change; give --add TEAM or --remove TEAM",
            ));
        }
        // Thousands of keys touch pages all over the keys and the history: a
        // larger page cache for this one transaction keeps SQLite from spilling
        // changed pages to the log half-way and reading them back.
        let bulk = ids.len() >= BULK_KEYS;
        if bulk {
            self.store.set_cache_size_kib(BULK_CACHE_KIB)?;
        }
        let changed = self.write(Role::Manager, |db, actor, now| {
            let resolved = teams.resolve(db, actor, now)?;
            let wanted: Vec<&str> = ids.iter().map(PublicId::as_str).collect();
            let mut found = db.keys_by_public_ids(&wanted, now)?;
            // Refused for the first key in the order given that cannot
            // change: missing, or deleted.
            let keys = wanted
                .iter()
                .map(|id| match found.remove(*id) {
                    None => Err(Error::not_found(format!("no key with id {id}"))),
                    Some(key) if key.status == KeyStatus::Deleted => Err(final_status(&key)),
                    Some(key) => Ok(key),
                })
                .collect::<Result<Vec<Key>>>()?;
            resolved.apply(db, actor, now, keys)
        });
        if bulk {
            // Back to SQLite's default; a failure here only leaves memory in use.
            let _ = self
                .store
                .set_cache_size_kib(crate::store::DEFAULT_CACHE_KIB);
        }
        changed
    }

    /// A new secret for the same key record, with a new expiry. The old secret
    /// stops working at once, or when `grace` ends.
    pub fn renew_key(
        &mut self,
        id: &str,
        grace: Option<&str>,
        expires: Option<&str>,
    ) -> Result<IssuedKey> {
        let public_id = parse_id(id)?;
        let grace = grace.map(expiry::parse_duration).transpose()?;
        let expires = self.expiry(expires)?;
        self.precheck(Role::Manager)?;
        let token = KeyToken::generate(&public_id);
        let hash = secret::hash(&token)?;
        let key = self.write(Role::Manager, |db, actor, now| {
            let before = load(db, public_id.as_str(), now)?;
            if before.status.is_final() {
                return Err(Error::conflict(format!(
                    "key {} ({}) is {}; a {} key cannot be renewed — create a new key instead",
                    before.masked(),
                    escape(&before.name),
                    before.status,
                    before.status
                )));
            }
            if before.status == KeyStatus::Expired {
                // An expired secret stopped working; a grace would bring it
                // back to life (it may have expired because it was abandoned
                // or exposed).
                if grace.is_some() {
                    return Err(Error::conflict(format!(
                        "key {} ({}) has expired: its secret no longer works, so it gets no grace period; renew it without one",
                        before.masked(),
                        escape(&before.name)
                    )));
                }
                check_limit(db, before.integration(), now, Some(before.id))?;
                // Active again, so its developer is back on the instance's list:
                // one with an active key can be neither hidden nor removed.
                own_developer_on_list(db, actor, now, &before)?;
            }
            let grace_until = grace.map(|g| now + g.num_seconds());
            let old_hash = match grace_until {
                Some(_) => Some(db.key_secrets(before.id)?.secret_hash),
                None => None,
            };
            db.set_key_secret(
                before.id,
                &NewSecret {
                    secret_hash: &hash,
                    tail: token.tail(),
                    grace_hash: old_hash.as_deref(),
                    grace_until,
                    expires_at: expires.at(now),
                },
                now,
            )?;
            let after = load(db, public_id.as_str(), now)?;
            db.append_history(with_details(
                actor.key_record(now, Action::Renewed, &after),
                json!({
                    "previous": before.masked(),
                    "expires_at": { "from": before.expires_at.map(rfc3339), "to": after.expires_at.map(rfc3339) },
                    "grace_until": grace_until.map(rfc3339),
                }),
            ))?;
            notice::enqueue(db, actor, Event::Renewed, std::slice::from_ref(&after), now)?;
            Ok(after)
        })?;
        Ok(IssuedKey { key, token })
    }

    /// Deactivates (revokes) keys, for good: every one or none.
    pub fn deactivate_keys(&mut self, ids: &[String]) -> Result<Vec<Key>> {
        let ids = parse_ids(ids)?;
        self.write(Role::Manager, |db, actor, now| {
            let mut done = Vec::with_capacity(ids.len());
            for public_id in &ids {
                let key = load(db, public_id.as_str(), now)?;
                if key.status.is_final() {
                    return Err(final_status(&key));
                }
                done.push(deactivate(db, actor, &key, now)?);
            }
            notice::enqueue(db, actor, Event::Deactivated, &done, now)?;
            Ok(done)
        })
    }

    /// Deletes keys from the list, deactivating the active ones first; their
    /// history stays.
    pub fn delete_keys(&mut self, ids: &[String]) -> Result<Vec<Key>> {
        let ids = parse_ids(ids)?;
        self.write(Role::Manager, |db, actor, now| {
            let mut done = Vec::with_capacity(ids.len());
            for public_id in &ids {
                let mut key = load(db, public_id.as_str(), now)?;
                if key.status == KeyStatus::Deleted {
                    return Err(final_status(&key));
                }
                if key.status != KeyStatus::Deactivated {
                    key = deactivate(db, actor, &key, now)?;
                }
                db.set_key_status(key.id, KeyStatus::Deleted, now)?;
                let key = load(db, public_id.as_str(), now)?;
                db.append_history(actor.key_record(now, Action::Deleted, &key))?;
                done.push(key);
            }
            notice::enqueue(db, actor, Event::Deleted, &done, now)?;
            Ok(done)
        })
    }

    /// The expiry asked for, checked now, before the slow work (hashing) that
    /// comes ahead of the write.
    fn expiry(&self, given: Option<&str>) -> Result<AskedExpiry> {
        let anchor = self.now();
        let expiry = match given {
            Some(e) => Expiry::parse(e, anchor)?,
            None => Expiry::At(anchor + self.settings.default_expiry),
        };
        Ok(AskedExpiry {
            expiry,
            relative: given.is_none_or(|g| expiry::parse_duration(g.trim()).is_ok()),
            anchor: anchor.timestamp(),
        })
    }
}

/// An expiry as asked for. A span (`30d`, or the default) counts from the
/// moment of the write, so a key lives exactly that long however long the
/// hashing before it took; a date stays that date.
struct AskedExpiry {
    expiry: Expiry,
    relative: bool,
    anchor: i64,
}

impl AskedExpiry {
    fn at(&self, now: i64) -> Option<i64> {
        let t = self.expiry.timestamp()?;
        Some(if self.relative {
            t + (now - self.anchor)
        } else {
            t
        })
    }
}

/// Deactivates one key inside a transaction and records it.
pub(super) fn deactivate(db: &Db, actor: &Actor, key: &Key, now: i64) -> Result<Key> {
    db.set_key_status(key.id, KeyStatus::Deactivated, now)?;
    let after = load(db, &key.public_id, now)?;
    db.append_history(with_details(
        actor.key_record(now, Action::Deactivated, &after),
        json!({ "was": key.status.as_str() }),
    ))?;
    Ok(after)
}

pub(super) fn load(db: &Db, public_id: &str, now: i64) -> Result<Key> {
    db.key(public_id, now)?
        .ok_or_else(|| Error::not_found(format!("no key with id {public_id}")))
}

pub(super) fn parse_id(id: &str) -> Result<PublicId> {
    // A whole key pasted where an id goes (a leak being handled): its public
    // id is the id, and the secret is never echoed back in an error.
    if let Some(public) = crate::domain::query::pasted_key_id(id.trim()) {
        return PublicId::parse(public)
            .ok_or_else(|| Error::usage("that whole key has no valid key id (not shown)"));
    }
    PublicId::parse(id).ok_or_else(|| {
        // Something long may be a secret mistyped: only its start is echoed.
        let shown: String = if id.chars().count() > 16 {
            format!(
                "{}… (the rest not shown)",
                id.chars().take(12).collect::<String>()
            )
        } else {
            id.to_owned()
        };
        Error::usage(format!(
            "{} is not a key id; an id is 8 letters and digits, as in kw_3fQa9LzX",
            escape(&shown)
        ))
    })
}

/// An edit's fields, checked: `None` leaves a field as it is.
struct FieldEdit {
    name: Option<Name>,
    developer: Option<Name>,
    channel: Option<Name>,
    expires: Option<Expiry>,
}

impl FieldEdit {
    fn parse(edit: &EditKey, now: DateTime<Utc>) -> Result<FieldEdit> {
        let name = |what: &str, raw: &Option<String>| {
            raw.as_deref().map(|n| Name::parse(what, n)).transpose()
        };
        Ok(FieldEdit {
            name: name("key name", &edit.name)?,
            developer: name("developer", &edit.developer)?,
            channel: name("channel", &edit.channel)?,
            expires: edit
                .expires
                .as_deref()
                .map(|e| Expiry::parse(e, now))
                .transpose()?,
        })
    }

    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.developer.is_none()
            && self.channel.is_none()
            && self.expires.is_none()
    }
}

/// Changes a key's fields inside the caller's transaction, with its history row.
fn edit_fields(
    db: &Db,
    actor: &Actor,
    now: i64,
    public_id: &str,
    fields: &FieldEdit,
) -> Result<Key> {
    let before = load(db, public_id, now)?;
    if before.status == KeyStatus::Deleted {
        return Err(final_status(&before));
    }
    // A revoked key's record (whose integration it served, when it would
    // have expired) is what an investigation reads: only its name changes.
    if before.status == KeyStatus::Deactivated
        && (fields.developer.is_some() || fields.channel.is_some() || fields.expires.is_some())
    {
        return Err(Error::conflict(format!(
            "key {} ({}) is deactivated: its developer, channel and expiry stay as they were when it was revoked; only its name can change",
            before.masked(),
            escape(&before.name)
        )));
    }
    let developer_id = match &fields.developer {
        Some(d) => developer_on_list(
            db,
            actor,
            now,
            (before.instance_id, &before.instance),
            d.as_str(),
        )?,
        None => before.developer_id,
    };
    let channel_id = match &fields.channel {
        Some(c) => db.ensure_channel(c.as_str())?,
        None => before.channel_id,
    };
    let row = KeyFields {
        name: fields.name.as_ref().map_or(&before.name, |n| n.as_str()),
        developer_id,
        channel_id,
        expires_at: fields.expires.map_or(before.expires_at, Expiry::timestamp),
    };
    let moves = developer_id != before.developer_id || channel_id != before.channel_id;
    let revives = before.status == KeyStatus::Expired && row.expires_at.is_none_or(|e| e > now);
    if before.status != KeyStatus::Deactivated && (moves || revives) {
        let integration = Integration {
            instance_id: before.instance_id,
            developer_id,
            channel_id,
        };
        let becomes_active = before.status == KeyStatus::Active || revives;
        if becomes_active {
            check_limit(db, integration, now, Some(before.id))?;
        }
    }
    if revives && fields.developer.is_none() {
        // As in renew: a key active again brings its developer back to the list.
        own_developer_on_list(db, actor, now, &before)?;
    }
    db.update_key_fields(before.id, &row, now)?;
    let after = load(db, public_id, now)?;
    let changes = changed_fields(&before, &after);
    if !changes.is_empty() {
        db.append_history(with_details(
            actor.key_record(now, Action::Updated, &after),
            serde_json::Value::Object(changes),
        ))?;
    }
    Ok(after)
}

/// Team changes, checked: names valid, none both added and removed.
struct TeamEdit {
    add: Vec<Name>,
    remove: Vec<Name>,
}

impl TeamEdit {
    fn parse(changes: &TeamChanges) -> Result<TeamEdit> {
        let add = team_names(&changes.add)?;
        let remove = team_names(&changes.remove)?;
        if let Some(both) = add.iter().find(|t| remove.contains(t)) {
            return Err(Error::usage(format!(
                "team {} is both added and removed",
                escape(both.as_str())
            )));
        }
        Ok(TeamEdit { add, remove })
    }

    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// The teams' row ids, making the added ones that do not exist yet.
    fn resolve<'a>(&'a self, db: &Db, actor: &Actor, now: i64) -> Result<ResolvedTeams<'a>> {
        let mut adds = Vec::with_capacity(self.add.len());
        for team in &self.add {
            adds.push((ensure_team(db, actor, team.as_str(), now)?, team));
        }
        let mut removes = Vec::with_capacity(self.remove.len());
        for team in &self.remove {
            let id = db.team_id(team.as_str())?.ok_or_else(|| {
                Error::not_found(format!("no team named {}", escape(team.as_str())))
            })?;
            removes.push((id, team));
        }
        Ok(ResolvedTeams { adds, removes })
    }
}

/// Team changes with the teams' row ids, ready to apply key by key.
struct ResolvedTeams<'a> {
    adds: Vec<(i64, &'a Name)>,
    removes: Vec<(i64, &'a Name)>,
}

impl ResolvedTeams<'_> {
    /// Applies the changes to `keys` in a few statements whatever their
    /// number (thousands of keys are a handful of round trips to a server),
    /// each key's teams worked out from what changed rather than read back,
    /// and a history row for each key that changed, in the order given. The
    /// keys that changed, as they are now. A deleted key refuses them all.
    fn apply(&self, db: &Db, actor: &Actor, now: i64, keys: Vec<Key>) -> Result<Vec<Key>> {
        if let Some(deleted) = keys.iter().find(|k| k.status == KeyStatus::Deleted) {
            return Err(final_status(deleted));
        }
        let pairs = |teams: &[(i64, &Name)]| -> Vec<(i64, i64)> {
            keys.iter()
                .flat_map(|k| teams.iter().map(move |(team, _)| (k.id, *team)))
                .collect()
        };
        let added: HashSet<(i64, i64)> = db
            .add_keys_to_teams(&pairs(&self.adds))?
            .into_iter()
            .collect();
        let removed: HashSet<(i64, i64)> = db
            .remove_keys_from_teams(&pairs(&self.removes))?
            .into_iter()
            .collect();
        let mut changed = Vec::new();
        let mut records = Vec::new();
        for mut key in keys {
            let names = |teams: &[(i64, &Name)], done: &HashSet<(i64, i64)>| -> Vec<String> {
                teams
                    .iter()
                    .filter(|(team, _)| done.contains(&(key.id, *team)))
                    .map(|(_, name)| name.as_str().to_owned())
                    .collect()
            };
            let (added, removed) = (names(&self.adds, &added), names(&self.removes, &removed));
            if added.is_empty() && removed.is_empty() {
                continue;
            }
            key.teams.retain(|t| !removed.contains(t));
            key.teams.extend(added.iter().cloned());
            // The order the store lists a key's teams in (by name, bytewise).
            key.teams.sort_unstable();
            records.push(with_details(
                actor.key_record(now, Action::TeamsChanged, &key),
                json!({ "added": added, "removed": removed, "teams": key.teams }),
            ));
            changed.push(key);
        }
        let head = db.history_head()?;
        db.append_history_batch(&head, records)?;
        Ok(changed)
    }
}

/// Ids in the order given, each once.
pub(super) fn parse_ids(ids: &[String]) -> Result<Vec<PublicId>> {
    if ids.is_empty() {
        return Err(Error::usage("name at least one key id"));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = parse_id(id)?;
        if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    Ok(out)
}

fn team_names(raw: &[String]) -> Result<Vec<Name>> {
    let mut out: Vec<Name> = Vec::with_capacity(raw.len());
    for t in raw {
        let name = Name::parse("team", t)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// The team's id, making the team (and recording that) if it is new.
pub(super) fn ensure_team(db: &Db, actor: &Actor, name: &str, now: i64) -> Result<i64> {
    let (id, made) = db.ensure_team(name, now)?;
    if made {
        db.append_history(actor.record(now, Action::TeamAdded, Some(name)))?;
    }
    Ok(id)
}

/// The developer's id on the instance (row id, name), put on its list when a
/// key names someone new (or removed): recorded as `developer add` records
/// it, so every developer on the list has the history row that put them there.
fn developer_on_list(
    db: &Db,
    actor: &Actor,
    now: i64,
    (instance_id, instance): (i64, &str),
    name: &str,
) -> Result<i64> {
    let (id, added) = db.ensure_developer(instance_id, name)?;
    if added {
        db.append_history(with_details(
            actor.record(now, Action::DeveloperAdded, Some(name)),
            json!({ "instance": instance }),
        ))?;
    }
    Ok(id)
}

/// A key's own developer, back on its instance's list (the key is active again).
fn own_developer_on_list(db: &Db, actor: &Actor, now: i64, key: &Key) -> Result<i64> {
    developer_on_list(
        db,
        actor,
        now,
        (key.instance_id, &key.instance),
        &key.developer,
    )
}

/// Refuses, with a message that says what to do, a key that would exceed the
/// integration's limit. The schema enforces the same rule; this explains it.
fn check_limit(db: &Db, integration: Integration, now: i64, except: Option<i64>) -> Result<()> {
    let active = db.active_key_count(integration, now, except)?;
    let (instance, max_active) = db.instance_limit(integration.instance_id)?;
    if active >= u64::from(max_active) {
        return Err(Error::conflict(format!(
            "this integration already has {active} active {}, the limit of instance {}; deactivate one first (rotate: make the new key, move the integration over, deactivate the old one)",
            if active == 1 { "key" } else { "keys" },
            escape(&instance)
        )));
    }
    Ok(())
}

fn no_instance(name: &str) -> Error {
    Error::not_found(format!(
        "no instance named {}; an admin adds it first with `keyward instance add NAME --cloud CLOUD`",
        escape(name)
    ))
}

fn final_status(key: &Key) -> Error {
    Error::conflict(format!(
        "key {} ({}) is already {}; that is final",
        key.masked(),
        escape(&key.name),
        key.status
    ))
}

/// `{"field": {"from": …, "to": …}}` for every field an edit changed.
fn changed_fields(before: &Key, after: &Key) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            out.insert(field.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    note("name", json!(before.name), json!(after.name));
    note("developer", json!(before.developer), json!(after.developer));
    note("channel", json!(before.channel), json!(after.channel));
    note(
        "expires_at",
        json!(before.expires_at.map(rfc3339)),
        json!(after.expires_at.map(rfc3339)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Cloud;
    use crate::domain::query::HistoryQuery;
    use crate::service::InstanceSpec;
    use crate::testing::TempStore;

    fn store_with_a_key() -> (TempStore, IssuedKey) {
        store_with_a_key_expiring(None)
    }

    fn store_with_a_key_expiring(expires: Option<&str>) -> (TempStore, IssuedKey) {
        let store = TempStore::new();
        let mut ana = store.admin();
        ana.add_instance(&InstanceSpec {
            name: "acme".into(),
            cloud: Cloud::Salesforce,
            url: None,
            max_active: None,
        })
        .unwrap();
        let issued = ana
            .create_key(&NewKeyRequest {
                name: "billing sync".into(),
                instance: "acme".into(),
                developer: "ana".into(),
                channel: "ci".into(),
                teams: vec!["payments".into()],
                expires: expires.map(str::to_owned),
            })
            .unwrap();
        (store, issued)
    }

    #[test]
    fn a_whole_key_given_as_an_id_means_its_public_id_and_is_never_echoed() {
        let (store, issued) = store_with_a_key();
        let mut ana = store.admin();
        let whole = issued.token.expose().to_owned();
        let shown = ana.show_key(&whole).unwrap();
        assert_eq!(shown.public_id, issued.key.public_id);
        // A mangled secret after a real id still names the key, never the text.
        let mangled = format!("kw_{}_{}", issued.key.public_id, "A".repeat(38));
        assert_eq!(
            ana.show_key(&mangled).unwrap().public_id,
            issued.key.public_id
        );
        let e = parse_id("kw_zz!zzzzz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap_err();
        assert!(!e.to_string().contains("AAAAAAAA"), "{e}");
    }

    #[test]
    fn a_deactivated_key_keeps_its_developer_channel_and_expiry_but_may_be_renamed() {
        let (store, issued) = store_with_a_key();
        let mut ana = store.admin();
        let id = issued.key.public_id.clone();
        ana.deactivate_keys(std::slice::from_ref(&id)).unwrap();
        for edit in [
            EditKey {
                developer: Some("ben".into()),
                ..EditKey::default()
            },
            EditKey {
                channel: Some("ide".into()),
                ..EditKey::default()
            },
            EditKey {
                expires: Some("30d".into()),
                ..EditKey::default()
            },
        ] {
            let e = ana.edit_key(&id, &edit).unwrap_err();
            assert!(e.to_string().contains("is deactivated"), "{e}");
        }
        let renamed = ana
            .edit_key(
                &id,
                &EditKey {
                    name: Some("billing sync (leaked)".into()),
                    ..EditKey::default()
                },
            )
            .unwrap();
        assert_eq!(renamed.name, "billing sync (leaked)");
        assert_eq!(renamed.developer, "ana");
    }

    #[test]
    fn an_expired_key_renewed_gets_no_grace_so_its_dead_secret_stays_dead() {
        use crate::service::Verdict;
        let (store, issued) = store_with_a_key_expiring(Some("1m"));
        let mut ana = store.admin();
        store.clock().advance(chrono::TimeDelta::minutes(2));
        assert!(!matches!(
            ana.verify(&issued.token).unwrap(),
            Verdict::Valid(_)
        ));
        let id = &issued.key.public_id;
        let e = ana.renew_key(id, Some("24h"), None).unwrap_err();
        assert!(e.to_string().contains("gets no grace period"), "{e}");
        // Refused whole: the key still has its old, dead secret.
        assert!(!matches!(
            ana.verify(&issued.token).unwrap(),
            Verdict::Valid(_)
        ));
        let renewed = ana.renew_key(id, None, None).unwrap();
        assert!(matches!(
            ana.verify(&renewed.token).unwrap(),
            Verdict::Valid(_)
        ));
        assert!(!matches!(
            ana.verify(&issued.token).unwrap(),
            Verdict::Valid(_)
        ));
        assert_eq!(renewed.key.grace_until, None);
    }

    fn history_len(s: &mut Service) -> usize {
        s.history(&HistoryQuery::default(), None).unwrap().len()
    }

    #[test]
    fn team_membership_counts_the_teams_of_keys_by_id_and_what_a_change_touches() {
        let (store, first) = store_with_a_key();
        let mut ana = store.admin();
        let mut ids = vec![first.key.public_id.clone()];
        for (name, teams) in [("b", vec!["payments", "ops"]), ("c", vec![])] {
            let issued = ana
                .create_key(&NewKeyRequest {
                    name: name.into(),
                    instance: "acme".into(),
                    developer: format!("dev-{name}"),
                    channel: "ci".into(),
                    teams: teams.into_iter().map(String::from).collect(),
                    expires: None,
                })
                .unwrap();
            ids.push(issued.key.public_id);
        }
        let m = ana.team_membership(&ids).unwrap();
        assert_eq!(m.count("payments"), 2);
        assert_eq!(m.count("ops"), 1);
        assert_eq!(m.count("nobody"), 0);
        let add = |t: &str| TeamChanges {
            add: vec![t.into()],
            remove: Vec::new(),
        };
        // Only the keys without payments change when it is added to all three.
        assert_eq!(m.changed_by(&ids, &add("payments")), 1);
        assert_eq!(m.changed_by(&ids, &add("new")), 3);
        let remove_ops = TeamChanges {
            add: Vec::new(),
            remove: vec!["ops".into()],
        };
        assert_eq!(m.changed_by(&ids, &remove_ops), 1);
        // And the service agrees: it changes exactly the keys counted, and
        // says what each changed key is now, as a key's own read says it.
        let changed = ana.change_teams(&ids, &add("payments")).unwrap();
        assert_eq!(changed.len(), 1);
        for key in &changed {
            let read = ana.show_key(&key.public_id).unwrap();
            assert_eq!(key.teams, read.teams);
            assert_eq!((&key.name, key.status), (&read.name, read.status));
        }
        let all = ana.change_teams(&ids, &add("zeta")).unwrap();
        for key in &all {
            assert_eq!(key.teams, ana.show_key(&key.public_id).unwrap().teams);
        }
        // A selection of one key counts only that key's teams.
        let one = ana.team_membership(&ids[2..]).unwrap();
        assert_eq!(one.count("payments"), 1);
        assert_eq!(one.count("ops"), 0);
    }

    #[test]
    fn team_changes_are_refused_for_the_first_key_in_order_that_cannot_change() {
        let (store, issued) = store_with_a_key();
        let mut ana = store.admin();
        let id = issued.key.public_id.clone();
        ana.delete_keys(std::slice::from_ref(&id)).unwrap();
        let unknown = "zzzzzzzz".to_owned();
        let add = TeamChanges {
            add: vec!["payments".into()],
            remove: Vec::new(),
        };
        let err = ana
            .change_teams(&[id.clone(), unknown.clone()], &add)
            .unwrap_err();
        assert_eq!(err.exit_code(), 5, "the deleted key first: {err}");
        let err = ana.change_teams(&[unknown, id], &add).unwrap_err();
        assert_eq!(err.exit_code(), 4, "the unknown key first: {err}");
    }

    #[test]
    fn an_edit_whose_team_change_is_refused_changes_nothing() {
        let (store, issued) = store_with_a_key();
        let mut ana = store.admin();
        let before = history_len(&mut ana);
        let edit = EditKey {
            name: Some("renamed".into()),
            ..EditKey::default()
        };
        let teams = TeamChanges {
            add: Vec::new(),
            remove: vec!["no such team".into()],
        };
        let refused = ana.edit_key_and_teams(&issued.key.public_id, &edit, &teams);
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
        let key = ana
            .list_keys(&KeyQuery::default(), false, None)
            .unwrap()
            .remove(0);
        assert_eq!(key.name, "billing sync", "the name is not saved alone");
        assert_eq!(history_len(&mut ana), before, "no history row either");
    }

    #[test]
    fn an_edit_of_fields_and_teams_is_saved_whole_with_a_row_for_each() {
        let (store, issued) = store_with_a_key();
        let mut ana = store.admin();
        let before = history_len(&mut ana);
        let edit = EditKey {
            channel: Some("api".into()),
            ..EditKey::default()
        };
        let teams = TeamChanges {
            add: vec!["ops".into()],
            remove: vec!["payments".into()],
        };
        let key = ana
            .edit_key_and_teams(&issued.key.public_id, &edit, &teams)
            .unwrap();
        assert_eq!(key.channel, "api");
        assert_eq!(key.teams, ["ops"]);
        // The edit, the new team and the key's team change.
        assert_eq!(history_len(&mut ana), before + 3);
        let nothing = ana.edit_key_and_teams(
            &issued.key.public_id,
            &EditKey::default(),
            &TeamChanges::default(),
        );
        assert!(matches!(nothing, Err(Error::Usage(_))), "{nothing:?}");
    }

    /// Walked a page at a time from the top, or from the bottom, the pages
    /// of a listing are the whole listing once each, in order, names equal
    /// but for case included (their age decides); the count says where a
    /// key stands; a selection keeps only the keys the filter still lists.
    #[test]
    fn pages_from_either_end_are_the_listing_once_in_order() {
        let (store, _) = store_with_a_key();
        let mut ana = store.admin();
        let names = [
            "alpha", "Alpha", "ALPHA", "beta", "Émile", "emile", "zed", "Zed", "äb", "b", "alpha",
            "c", "C", "delta",
        ];
        for (i, name) in names.iter().enumerate() {
            ana.create_key(&NewKeyRequest {
                name: (*name).into(),
                instance: "acme".into(),
                developer: format!("dev {i}"),
                channel: "ci".into(),
                teams: vec![],
                expires: None,
            })
            .unwrap();
        }
        let all = ana.list_key_refs(&KeyQuery::default(), false).unwrap();
        assert_eq!(all.len(), names.len() + 1);
        let query = KeyQuery::default();
        for limit in [1, 2, 3, 5, 100] {
            let mut walked: Vec<KeyRef> = Vec::new();
            let mut from = KeyPageFrom::Top;
            loop {
                let page = ana.key_page(&query, &from, limit, &[]).unwrap();
                walked.extend(page.refs.iter().cloned());
                match page.refs.last() {
                    Some(last) if page.refs.len() as u64 == limit => {
                        from = KeyPageFrom::After(last.clone())
                    }
                    _ => break,
                }
            }
            assert_eq!(walked, all, "down, {limit} a page");
            let mut walked: Vec<KeyRef> = Vec::new();
            let mut from = KeyPageFrom::Bottom;
            loop {
                let page = ana.key_page(&query, &from, limit, &[]).unwrap();
                let mut next = page.refs.clone();
                next.extend(walked);
                walked = next;
                match page.refs.first() {
                    Some(first) if page.refs.len() as u64 == limit => {
                        from = KeyPageFrom::Before(first.clone())
                    }
                    _ => break,
                }
            }
            assert_eq!(walked, all, "up, {limit} a page");
        }
        for (i, k) in all.iter().enumerate() {
            let count = ana.count_keys(&query, Some(k)).unwrap();
            assert_eq!(
                (count.total, count.before),
                (all.len() as u64, Some(i as u64))
            );
            let from = ana
                .key_page(&query, &KeyPageFrom::From(k.clone()), 2, &[])
                .unwrap();
            assert_eq!(from.refs[..], all[i..(i + 2).min(all.len())]);
        }
        // A selection of every key, through a filter that lists some of them.
        let zed = KeyQuery::parse("zed").unwrap();
        let ids: Vec<i64> = all.iter().map(|k| k.id).collect();
        let page = ana.key_page(&zed, &KeyPageFrom::Top, 10, &ids).unwrap();
        let mut kept = page.kept.clone();
        kept.sort_unstable();
        let mut zeds: Vec<i64> = page.refs.iter().map(|k| k.id).collect();
        zeds.sort_unstable();
        assert_eq!((page.refs.len(), kept), (2, zeds));
    }
}
