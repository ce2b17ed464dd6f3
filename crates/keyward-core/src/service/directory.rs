//! The Directory's operations (SPEC §4, tab 5): editing and retiring instances,
//! adding and renaming developers, renaming and removing teams, and changing an
//! operator's role. Each records one history row whose details give every
//! changed field as `{"field": {"from": …, "to": …}}`, the shape key edits use.

use super::keys::load;
use super::{Service, with_details};
use crate::domain::Name;
use crate::domain::history::Action;
use crate::domain::model::{Cloud, Developer, Instance, Key, Operator, Role, Team};
use crate::domain::query::fold_case;
use crate::error::{Error, Result};
use crate::safe_text::escape;
use crate::store::Db;
use crate::store::instances::InstanceFields;
use serde_json::{Map, Value, json};

pub use crate::store::instances::IntegrationLoad;

/// What an instance edit changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceEdit {
    pub cloud: Option<Cloud>,
    /// The new URL; an empty (or blank) one removes it.
    pub url: Option<String>,
    pub max_active: Option<u32>,
}

/// An instance edit and its effect on the keys of the instance, worked out
/// before saving (by [`Service::preview_instance_edit`]) and again as saved
/// (by [`Service::edit_instance`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceEditEffect {
    pub before: Instance,
    /// The instance as the edit leaves it (its key counts unchanged).
    pub after: Instance,
    /// Keys of the instance (not deleted) whose cloud changes: all of them
    /// when the cloud does, none otherwise.
    pub keys_changing_cloud: u64,
    /// Integrations with more active keys than the new limit: their keys stay
    /// active, but no new key is made for them until they are under it.
    pub over_limit: Vec<IntegrationLoad>,
}

impl InstanceEditEffect {
    /// Whether the edit changes anything.
    pub fn changes_anything(&self) -> bool {
        !self.changes().is_empty()
    }

    /// `{"field": {"from": …, "to": …}}` for every changed field.
    pub fn changes(&self) -> Map<String, Value> {
        let (b, a) = (&self.before, &self.after);
        let mut out = Map::new();
        note(
            &mut out,
            "cloud",
            json!(b.cloud.as_str()),
            json!(a.cloud.as_str()),
        );
        note(&mut out, "url", json!(b.url), json!(a.url));
        note(
            &mut out,
            "max_active",
            json!(b.max_active),
            json!(a.max_active),
        );
        out
    }
}

/// A team removed, and how many keys (not deleted) it left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedTeam {
    pub team: Team,
    /// The public ids of the keys that lost the team.
    pub keys: Vec<String>,
}

impl Service {
    /// One instance by name, with its key counts.
    pub fn instance(&mut self, name: &str) -> Result<Instance> {
        let name = name.trim();
        self.read(|db, _, now| find_instance(db, name, now))
    }

    /// What an instance edit would do, without saving it: the instance before
    /// and after, how many keys change cloud, and which integrations would be
    /// over a lowered limit. Refuses what [`Service::edit_instance`] refuses
    /// (but the role: anyone may look).
    pub fn preview_instance_edit(
        &mut self,
        name: &str,
        edit: &InstanceEdit,
    ) -> Result<InstanceEditEffect> {
        let name = name.trim();
        let fields = CheckedEdit::parse(edit)?;
        self.read(|db, _, now| effect(db, name, &fields, now))
    }

    /// Changes an instance's cloud, URL or active-key limit (admin). A lowered
    /// limit leaves active keys active; it refuses new keys of integrations
    /// over it. Returns the effect as saved.
    pub fn edit_instance(&mut self, name: &str, edit: &InstanceEdit) -> Result<InstanceEditEffect> {
        let name = name.trim();
        let fields = CheckedEdit::parse(edit)?;
        self.write(Role::Admin, |db, actor, now| {
            let effect = effect(db, name, &fields, now)?;
            let changes = effect.changes();
            if changes.is_empty() {
                return Err(Error::usage(format!(
                    "nothing to change: instance {} already has these settings",
                    escape(name)
                )));
            }
            let after = &effect.after;
            db.update_instance(
                after.id,
                &InstanceFields {
                    cloud: after.cloud,
                    url: after.url.as_deref(),
                    max_active: after.max_active,
                },
            )?;
            db.append_history(with_details(
                actor.record(now, Action::InstanceEdited, Some(&after.name)),
                Value::Object(changes),
            ))?;
            Ok(effect)
        })
    }

    /// Retires an instance (admin): refused while any of its keys is active.
    /// A retired instance takes no new keys and no longer changes.
    pub fn retire_instance(&mut self, name: &str) -> Result<Instance> {
        let name = name.trim();
        self.write(Role::Admin, |db, actor, now| {
            let inst = find_instance(db, name, now)?;
            if inst.is_retired() {
                return Err(already_retired(&inst));
            }
            if inst.active_keys > 0 {
                return Err(Error::conflict(format!(
                    "instance {} still has {} active key(s); deactivate them first (`keyward key list --filter 'instance:\"{}\" status:active'`)",
                    escape(name),
                    inst.active_keys,
                    escape(name)
                )));
            }
            db.retire_instance(inst.id, now)?;
            db.append_history(with_details(
                actor.record(now, Action::InstanceRetired, Some(&inst.name)),
                json!({ "status": { "from": "active", "to": "retired" } }),
            ))?;
            find_instance(db, name, now)
        })
    }

    /// Adds a developer to an instance's list (admin); a removed one comes back.
    pub fn add_developer(&mut self, name: &str, instance: &str) -> Result<Developer> {
        let name = Name::parse("developer", name)?;
        let instance = instance.trim();
        self.write(Role::Admin, |db, actor, now| {
            let inst = open_instance(db, instance, now)?;
            if db.developer_id(inst.id, name.as_str())?.is_some() {
                return Err(Error::conflict(format!(
                    "instance {} already has a developer named {}",
                    escape(instance),
                    escape(name.as_str())
                )));
            }
            let (id, _) = db.ensure_developer(inst.id, name.as_str())?;
            db.append_history(with_details(
                actor.record(now, Action::DeveloperAdded, Some(name.as_str())),
                json!({ "instance": inst.name }),
            ))?;
            find_developer(db, inst.id, id, now)
        })
    }

    /// Renames a developer of an instance (admin); their keys follow. Refused
    /// when the instance has (or had) a developer of the new name.
    pub fn rename_developer(&mut self, name: &str, instance: &str, to: &str) -> Result<Developer> {
        let name = name.trim();
        let to = Name::parse("developer", to)?;
        let instance = instance.trim();
        self.write(Role::Admin, |db, actor, now| {
            let inst = open_instance(db, instance, now)?;
            let id = developer_id(db, &inst, name)?;
            let current = find_developer(db, inst.id, id, now)?.name;
            if to.as_str() == current {
                return Err(Error::usage(format!(
                    "nothing to change: the developer is named {} already",
                    escape(name)
                )));
            }
            // A change of case only (`ana` → `Ana`) keeps the same developer.
            let recased = fold_case(to.as_str()) == fold_case(&current);
            if !recased && db.developer_name_used(inst.id, to.as_str())? {
                return Err(Error::conflict(format!(
                    "the name {} is taken on instance {} (by a current or a removed developer)",
                    escape(to.as_str()),
                    escape(instance)
                )));
            }
            db.rename_developer(id, to.as_str())?;
            let renamed = find_developer(db, inst.id, id, now)?;
            db.append_history(with_details(
                actor.record(now, Action::DeveloperRenamed, Some(to.as_str())),
                json!({
                    "instance": inst.name,
                    "name": { "from": current, "to": to.as_str() },
                    "keys": renamed.keys,
                }),
            ))?;
            Ok(renamed)
        })
    }

    /// The developer's keys active now: what removing them would deactivate.
    pub fn active_keys_of_developer(&mut self, name: &str, instance: &str) -> Result<Vec<Key>> {
        let (name, instance) = (name.trim(), instance.trim());
        self.read(|db, _, now| {
            let inst = find_instance(db, instance, now)?;
            let id = developer_id(db, &inst, name)?;
            db.active_keys_of_developer(id, now)
        })
    }

    /// One team by name, with its key count.
    pub fn team(&mut self, name: &str) -> Result<Team> {
        let name = name.trim();
        self.read(|db, _, _| find_team(db, name))
    }

    /// Renames a team (manager, as making one); refused when the name is taken.
    pub fn rename_team(&mut self, name: &str, to: &str) -> Result<Team> {
        let name = name.trim();
        let to = Name::parse("team", to)?;
        self.write(Role::Manager, |db, actor, now| {
            let team = find_team(db, name)?;
            if to.as_str() == team.name {
                return Err(Error::usage(format!(
                    "nothing to change: the team is named {} already",
                    escape(name)
                )));
            }
            // Names compare case folded: `DATA` is taken by `data`, but a
            // team may change its own case.
            if db
                .team_id(to.as_str())?
                .is_some_and(|other| other != team.id)
            {
                return Err(Error::conflict(format!(
                    "a team named {} exists already",
                    escape(to.as_str())
                )));
            }
            db.rename_team(team.id, to.as_str())?;
            db.append_history(with_details(
                actor.record(now, Action::TeamRenamed, Some(to.as_str())),
                json!({ "name": { "from": team.name, "to": to.as_str() }, "keys": team.keys }),
            ))?;
            find_team(db, to.as_str())
        })
    }

    /// Removes a team (manager): its keys lose it, each with a `teams_changed`
    /// row, and the team's own `team_removed` row says how many it left.
    pub fn remove_team(&mut self, name: &str) -> Result<RemovedTeam> {
        let name = name.trim();
        self.write(Role::Manager, |db, actor, now| {
            let team = find_team(db, name)?;
            let ids = db.team_key_ids(team.id)?;
            let mut keys = Vec::with_capacity(ids.len());
            for id in &ids {
                keys.push(load(db, id, now)?);
            }
            db.delete_team(team.id)?;
            let mut head = db.append_history(with_details(
                actor.record(now, Action::TeamRemoved, Some(&team.name)),
                json!({ "name": { "from": team.name, "to": null }, "keys": ids.len() }),
            ))?;
            for key in &mut keys {
                key.teams.retain(|t| *t != team.name);
                head = db.append_history_after(
                    &head,
                    with_details(
                        actor.key_record(now, Action::TeamsChanged, key),
                        json!({ "added": [], "removed": [team.name], "teams": key.teams }),
                    ),
                )?;
            }
            Ok(RemovedTeam { team, keys: ids })
        })
    }

    /// Changes an operator's role (admin); the last admin stays an admin.
    pub fn set_operator_role(&mut self, login: &str, role: Role) -> Result<Operator> {
        self.write(Role::Admin, |db, actor, now| {
            let op = db
                .operator(login)?
                .ok_or_else(|| Error::not_found(format!("{} is not an operator", escape(login))))?;
            if op.role == role {
                return Err(Error::usage(format!(
                    "nothing to change: {} is a {} already",
                    escape(login),
                    role
                )));
            }
            if op.role == Role::Admin && db.count_admins()? <= 1 {
                return Err(Error::conflict(format!(
                    "{} is the last admin; make another operator admin first",
                    escape(login)
                )));
            }
            db.set_operator_role(login, role)?;
            db.append_history(with_details(
                actor.record(now, Action::OperatorRoleChanged, Some(login)),
                json!({ "role": { "from": op.role.as_str(), "to": role.as_str() } }),
            ))?;
            Ok(Operator { role, ..op })
        })
    }
}

/// An instance edit with its values checked.
struct CheckedEdit {
    cloud: Option<Cloud>,
    /// `Some(None)` removes the URL.
    url: Option<Option<String>>,
    max_active: Option<u32>,
}

impl CheckedEdit {
    fn parse(edit: &InstanceEdit) -> Result<CheckedEdit> {
        let url = match edit.url.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(url) => Some(Some(super::admin::parse_url(url)?)),
        };
        if let Some(n) = edit.max_active {
            super::admin::check_max_active(n)?;
        }
        if edit.cloud.is_none() && url.is_none() && edit.max_active.is_none() {
            return Err(Error::usage(
                "nothing to change; give --cloud, --url or --max-active",
            ));
        }
        Ok(CheckedEdit {
            cloud: edit.cloud,
            url,
            max_active: edit.max_active,
        })
    }
}

/// The effect of `fields` on the instance named `name`, as of `now`.
fn effect(db: &Db, name: &str, fields: &CheckedEdit, now: i64) -> Result<InstanceEditEffect> {
    let before = open_instance(db, name, now)?;
    let after = Instance {
        cloud: fields.cloud.unwrap_or(before.cloud),
        url: fields.url.clone().unwrap_or_else(|| before.url.clone()),
        max_active: fields.max_active.unwrap_or(before.max_active),
        ..before.clone()
    };
    let keys_changing_cloud = if after.cloud == before.cloud {
        0
    } else {
        before.keys
    };
    let over_limit = if after.max_active < before.max_active {
        db.integrations_over(before.id, after.max_active, now)?
    } else {
        Vec::new()
    };
    Ok(InstanceEditEffect {
        before,
        after,
        keys_changing_cloud,
        over_limit,
    })
}

fn note(out: &mut Map<String, Value>, field: &str, from: Value, to: Value) {
    if from != to {
        out.insert(field.to_owned(), json!({ "from": from, "to": to }));
    }
}

fn find_instance(db: &Db, name: &str, now: i64) -> Result<Instance> {
    db.instance_by_name(name, now)?
        .ok_or_else(|| Error::not_found(format!("no instance named {}", escape(name))))
}

/// The instance, refusing a retired one: it no longer changes.
fn open_instance(db: &Db, name: &str, now: i64) -> Result<Instance> {
    let inst = find_instance(db, name, now)?;
    if inst.is_retired() {
        return Err(already_retired(&inst));
    }
    Ok(inst)
}

fn already_retired(inst: &Instance) -> Error {
    Error::conflict(format!(
        "instance {} is retired; a retired instance takes no new keys and does not change",
        escape(&inst.name)
    ))
}

fn developer_id(db: &Db, inst: &Instance, name: &str) -> Result<i64> {
    db.developer_id(inst.id, name)?.ok_or_else(|| {
        Error::not_found(format!(
            "no developer named {} on instance {}",
            escape(name),
            escape(&inst.name)
        ))
    })
}

fn find_developer(db: &Db, instance_id: i64, id: i64, now: i64) -> Result<Developer> {
    db.developers(Some(instance_id), now)?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| Error::store("the developer vanished"))
}

fn find_team(db: &Db, name: &str) -> Result<Team> {
    db.teams()?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::not_found(format!("no team named {}", escape(name))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::HistoryQuery;
    use crate::service::{InstanceSpec, NewKeyRequest};
    use crate::testing::TempStore;
    use chrono::TimeDelta;

    fn store_with_instance() -> TempStore {
        let store = TempStore::new();
        store
            .admin()
            .add_instance(&InstanceSpec {
                name: "acme".into(),
                cloud: Cloud::Salesforce,
                url: None,
                max_active: Some(3),
            })
            .unwrap();
        store
    }

    fn key(s: &mut Service, name: &str, developer: &str, channel: &str, teams: &[&str]) -> Key {
        s.create_key(&NewKeyRequest {
            name: name.into(),
            instance: "acme".into(),
            developer: developer.into(),
            channel: channel.into(),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            expires: Some("30d".into()),
        })
        .unwrap()
        .key
    }

    /// The newest history row of `action`, as (subject, details).
    fn last_row(s: &mut Service, action: Action) -> (Option<String>, Value) {
        let rows = s.history(&HistoryQuery::default(), None).unwrap();
        let row = rows
            .into_iter()
            .find(|r| r.record.action == action.as_str())
            .unwrap_or_else(|| panic!("no {action} row"));
        let details = serde_json::from_str(&row.record.details).unwrap();
        (row.record.subject, details)
    }

    fn audit_passes(s: &mut Service) {
        assert_eq!(s.audit_verify().unwrap().first_bad, None);
    }

    #[test]
    fn an_instance_edit_saves_cloud_url_and_limit_with_before_and_after() {
        let store = store_with_instance();
        let mut ana = store.admin();
        key(&mut ana, "sync", "dev", "ci", &[]);
        let edit = InstanceEdit {
            cloud: Some(Cloud::Servicenow),
            url: Some("https://acme.service-now.com".into()),
            max_active: Some(4),
        };
        let effect = ana.edit_instance("acme", &edit).unwrap();
        assert_eq!(effect.keys_changing_cloud, 1);
        let inst = ana.instance("acme").unwrap();
        assert_eq!(inst.cloud, Cloud::Servicenow);
        assert_eq!(inst.url.as_deref(), Some("https://acme.service-now.com"));
        assert_eq!(inst.max_active, 4);
        let keys = ana.list_keys(&Default::default(), false, None).unwrap();
        assert_eq!(
            keys[0].cloud,
            Cloud::Servicenow,
            "the key follows its instance"
        );
        let (subject, details) = last_row(&mut ana, Action::InstanceEdited);
        assert_eq!(subject.as_deref(), Some("acme"));
        assert_eq!(
            details,
            json!({
                "cloud": { "from": "salesforce", "to": "servicenow" },
                "url": { "from": null, "to": "https://acme.service-now.com" },
                "max_active": { "from": 3, "to": 4 },
            })
        );
        // An empty URL removes it; only what changed is recorded.
        let cleared = InstanceEdit {
            url: Some(String::new()),
            ..InstanceEdit::default()
        };
        ana.edit_instance("acme", &cleared).unwrap();
        let (_, details) = last_row(&mut ana, Action::InstanceEdited);
        assert_eq!(
            details,
            json!({ "url": { "from": "https://acme.service-now.com", "to": null } })
        );
        audit_passes(&mut ana);
    }

    #[test]
    fn the_preview_names_integrations_over_a_lowered_limit_and_saves_nothing() {
        let store = store_with_instance();
        let mut ana = store.admin();
        for name in ["a", "b", "c"] {
            key(&mut ana, name, "dev", "ci", &[]);
        }
        key(&mut ana, "d", "dev", "api", &[]);
        let edit = InstanceEdit {
            max_active: Some(1),
            ..InstanceEdit::default()
        };
        let rows = ana.history(&HistoryQuery::default(), None).unwrap().len();
        let preview = ana.preview_instance_edit("acme", &edit).unwrap();
        assert_eq!(preview.before.active_keys, 4);
        assert_eq!(preview.keys_changing_cloud, 0);
        assert_eq!(
            preview.over_limit,
            [IntegrationLoad {
                developer: "dev".into(),
                channel: "ci".into(),
                active_keys: 3,
            }]
        );
        assert_eq!(ana.instance("acme").unwrap().max_active, 3);
        assert_eq!(
            ana.history(&HistoryQuery::default(), None).unwrap().len(),
            rows
        );
        // Saved, the limit leaves the active keys active and refuses a new one.
        assert_eq!(ana.edit_instance("acme", &edit).unwrap(), preview);
        assert_eq!(ana.instance("acme").unwrap().active_keys, 4);
        let refused = ana.create_key(&NewKeyRequest {
            name: "e".into(),
            instance: "acme".into(),
            developer: "dev".into(),
            channel: "ci".into(),
            ..NewKeyRequest::default()
        });
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    }

    #[test]
    fn instance_edits_are_checked_before_the_role_and_the_store() {
        let store = store_with_instance();
        let mut ana = store.admin();
        let none = ana.edit_instance("acme", &InstanceEdit::default());
        assert!(matches!(none, Err(Error::Usage(_))), "{none:?}");
        let same = InstanceEdit {
            cloud: Some(Cloud::Salesforce),
            ..InstanceEdit::default()
        };
        assert!(matches!(
            ana.edit_instance("acme", &same),
            Err(Error::Usage(_))
        ));
        let zero = InstanceEdit {
            max_active: Some(0),
            ..InstanceEdit::default()
        };
        assert!(matches!(
            ana.edit_instance("acme", &zero),
            Err(Error::Usage(_))
        ));
        let bad_url = InstanceEdit {
            url: Some("ftp://x".into()),
            ..InstanceEdit::default()
        };
        assert!(matches!(
            ana.edit_instance("acme", &bad_url),
            Err(Error::Usage(_))
        ));
        let edit = InstanceEdit {
            max_active: Some(5),
            ..InstanceEdit::default()
        };
        assert!(matches!(
            ana.edit_instance("nope", &edit),
            Err(Error::NotFound(_))
        ));
        let mut bob = store.service_as("bob", Role::Manager);
        assert!(matches!(
            bob.edit_instance("acme", &edit),
            Err(Error::Permission(_))
        ));
        // Anyone may look at the effect.
        assert!(bob.preview_instance_edit("acme", &edit).is_ok());
    }

    #[test]
    fn an_instance_with_an_active_key_is_not_retired() {
        let store = store_with_instance();
        let mut ana = store.admin();
        let k = key(&mut ana, "sync", "dev", "ci", &[]);
        let refused = ana.retire_instance("acme");
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
        assert!(!ana.instance("acme").unwrap().is_retired());
        let mut bob = store.service_as("bob", Role::Manager);
        bob.deactivate_keys(&[k.public_id]).unwrap();
        assert!(matches!(
            bob.retire_instance("acme"),
            Err(Error::Permission(_))
        ));
        let retired = ana.retire_instance("acme").unwrap();
        assert_eq!(retired.retired_at, Some(ana.now().timestamp()));
        let (subject, details) = last_row(&mut ana, Action::InstanceRetired);
        assert_eq!(subject.as_deref(), Some("acme"));
        assert_eq!(
            details,
            json!({ "status": { "from": "active", "to": "retired" } })
        );
        audit_passes(&mut ana);
    }

    #[test]
    fn a_retired_instance_takes_no_keys_and_no_changes() {
        let store = store_with_instance();
        let mut ana = store.admin();
        let k = key(&mut ana, "sync", "dev", "ci", &[]);
        store.clock().advance(TimeDelta::days(31));
        // Expired keys do not hold the instance back.
        ana.retire_instance("acme").unwrap();
        // The schema refuses these; the service does not check them itself.
        let new = ana.create_key(&NewKeyRequest {
            name: "again".into(),
            instance: "acme".into(),
            developer: "dev".into(),
            channel: "ci".into(),
            ..NewKeyRequest::default()
        });
        assert!(
            matches!(new, Err(Error::Conflict(ref m)) if m.contains("retired")),
            "{new:?}"
        );
        let renewed = ana.renew_key(&k.public_id, None, Some("30d"));
        assert!(
            matches!(renewed, Err(Error::Conflict(ref m)) if m.contains("retired")),
            "{renewed:?}"
        );
        let edit = InstanceEdit {
            max_active: Some(5),
            ..InstanceEdit::default()
        };
        assert!(matches!(
            ana.edit_instance("acme", &edit),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            ana.retire_instance("acme"),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            ana.add_developer("new", "acme"),
            Err(Error::Conflict(_))
        ));
        let listed = ana.list_instances().unwrap();
        assert!(listed[0].is_retired());
    }

    #[test]
    fn developers_are_added_and_renamed_by_admins_only_and_never_onto_a_taken_name() {
        let store = store_with_instance();
        let mut ana = store.admin();
        let k = key(&mut ana, "sync", "Ana", "ci", &[]);
        let added = ana.add_developer("  Ben ", "acme").unwrap();
        assert_eq!((added.name.as_str(), added.keys), ("Ben", 0));
        let (subject, details) = last_row(&mut ana, Action::DeveloperAdded);
        assert_eq!(subject.as_deref(), Some("Ben"));
        assert_eq!(details, json!({ "instance": "acme" }));
        assert!(matches!(
            ana.add_developer("Ben", "acme"),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            ana.add_developer("Ben", "nope"),
            Err(Error::NotFound(_))
        ));

        let taken = ana.rename_developer("Ana", "acme", "Ben");
        assert!(matches!(taken, Err(Error::Conflict(_))), "{taken:?}");
        assert!(matches!(
            ana.rename_developer("Zed", "acme", "Zoe"),
            Err(Error::NotFound(_))
        ));
        let mut bob = store.service_as("bob", Role::Manager);
        assert!(matches!(
            bob.add_developer("Cy", "acme"),
            Err(Error::Permission(_))
        ));
        assert!(matches!(
            bob.rename_developer("Ana", "acme", "Ann"),
            Err(Error::Permission(_))
        ));
        let renamed = ana.rename_developer("Ana", "acme", "Ana López").unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.active_keys),
            ("Ana López", 1)
        );
        let shown = ana.show_key(&k.public_id).unwrap();
        assert_eq!(shown.developer, "Ana López", "the keys follow");
        let (subject, details) = last_row(&mut ana, Action::DeveloperRenamed);
        assert_eq!(subject.as_deref(), Some("Ana López"));
        assert_eq!(
            details,
            json!({ "instance": "acme", "name": { "from": "Ana", "to": "Ana López" }, "keys": 1 })
        );
        assert_eq!(
            ana.active_keys_of_developer("Ana López", "acme").unwrap()[0].public_id,
            k.public_id
        );
        audit_passes(&mut ana);
    }

    #[test]
    fn a_renamed_team_keeps_its_keys_and_a_taken_name_is_refused() {
        let store = store_with_instance();
        let mut ana = store.admin();
        key(&mut ana, "sync", "dev", "ci", &["payments", "ops"]);
        let mut bob = store.service_as("bob", Role::Manager);
        assert!(matches!(
            bob.rename_team("payments", "ops"),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            bob.rename_team("nope", "x"),
            Err(Error::NotFound(_))
        ));
        let mut cy = store.service_as("cy", Role::Viewer);
        assert!(matches!(
            cy.rename_team("payments", "pay"),
            Err(Error::Permission(_))
        ));
        let team = bob.rename_team("payments", "billing").unwrap();
        assert_eq!((team.name.as_str(), team.keys), ("billing", 1));
        let (subject, details) = last_row(&mut bob, Action::TeamRenamed);
        assert_eq!(subject.as_deref(), Some("billing"));
        assert_eq!(
            details,
            json!({ "name": { "from": "payments", "to": "billing" }, "keys": 1 })
        );
        let keys = bob.list_keys(&Default::default(), false, None).unwrap();
        assert_eq!(keys[0].teams, ["billing", "ops"]);
    }

    #[test]
    fn a_removed_team_leaves_its_keys_with_a_row_for_each() {
        let store = store_with_instance();
        let mut ana = store.admin();
        let a = key(&mut ana, "a", "dev", "ci", &["payments", "ops"]);
        let b = key(&mut ana, "b", "dev", "api", &["payments"]);
        let mut cy = store.service_as("cy", Role::Viewer);
        assert!(matches!(
            cy.remove_team("payments"),
            Err(Error::Permission(_))
        ));
        let mut bob = store.service_as("bob", Role::Manager);
        let removed = bob.remove_team("payments").unwrap();
        assert_eq!(removed.team.keys, 2);
        assert_eq!(removed.keys, [a.public_id.clone(), b.public_id.clone()]);
        assert!(matches!(bob.team("payments"), Err(Error::NotFound(_))));
        assert_eq!(bob.show_key(&a.public_id).unwrap().teams, ["ops"]);
        assert!(bob.show_key(&b.public_id).unwrap().teams.is_empty());
        let (subject, details) = last_row(&mut bob, Action::TeamRemoved);
        assert_eq!(subject.as_deref(), Some("payments"));
        assert_eq!(
            details,
            json!({ "name": { "from": "payments", "to": null }, "keys": 2 })
        );
        let query = HistoryQuery::parse(&format!("key:{}", a.public_id)).unwrap();
        let rows = bob.history(&query, None).unwrap();
        let change = rows
            .iter()
            .find(|r| r.record.action == "teams_changed")
            .expect("the key's own row");
        let details: Value = serde_json::from_str(&change.record.details).unwrap();
        assert_eq!(
            details,
            json!({ "added": [], "removed": ["payments"], "teams": ["ops"] })
        );
        // The name is free again.
        bob.add_team("payments").unwrap();
        audit_passes(&mut bob);
    }

    #[test]
    fn roles_change_by_admins_and_the_last_admin_stays() {
        let store = TempStore::new();
        let mut ana = store.admin();
        let mut bob = store.service_as("bob", Role::Manager);
        assert!(matches!(
            bob.set_operator_role("bob", Role::Admin),
            Err(Error::Permission(_))
        ));
        let last = ana.set_operator_role("ana", Role::Manager);
        assert!(matches!(last, Err(Error::Conflict(_))), "{last:?}");
        assert!(matches!(
            ana.set_operator_role("zed", Role::Viewer),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            ana.set_operator_role("bob", Role::Manager),
            Err(Error::Usage(_))
        ));
        let op = ana.set_operator_role("bob", Role::Admin).unwrap();
        assert_eq!(op.role, Role::Admin);
        let (subject, details) = last_row(&mut ana, Action::OperatorRoleChanged);
        assert_eq!(subject.as_deref(), Some("bob"));
        assert_eq!(
            details,
            json!({ "role": { "from": "manager", "to": "admin" } })
        );
        // With two admins, either may step down; then the other is the last.
        ana.set_operator_role("ana", Role::Viewer).unwrap();
        assert!(matches!(
            bob.set_operator_role("bob", Role::Manager),
            Err(Error::Conflict(_))
        ));
        audit_passes(&mut bob);
    }

    /// Each team's count is kept by every change that moves a key in or out
    /// of it (made with teams, teams changed, deleted, a team removed) and
    /// always equals a count of its memberships; a count changed by hand
    /// shows in `audit verify`.
    #[test]
    fn team_counts_follow_every_change_and_a_forged_one_is_named() {
        use crate::service::TeamChanges;
        let store = store_with_instance();
        let mut s = store.admin();
        let a = key(&mut s, "a", "dana", "api", &["ops", "web"]);
        let b = key(&mut s, "b", "dana", "cli", &["ops"]);
        let c = key(&mut s, "c", "eli", "api", &[]);
        let counts = |s: &mut Service| -> Vec<(String, i64)> {
            s.list_teams()
                .unwrap()
                .into_iter()
                .map(|t| (t.name, t.keys as i64))
                .collect()
        };
        let pairs = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
            v.iter().map(|(n, k)| ((*n).to_owned(), *k)).collect()
        };
        assert_eq!(counts(&mut s), pairs(&[("ops", 2), ("web", 1)]));
        let ids =
            |keys: &[&Key]| -> Vec<String> { keys.iter().map(|k| k.public_id.clone()).collect() };
        s.change_teams(
            &ids(&[&a, &b, &c]),
            &TeamChanges {
                add: vec!["web".into(), "data".into()],
                remove: vec!["ops".into()],
            },
        )
        .unwrap();
        assert_eq!(
            counts(&mut s),
            pairs(&[("data", 3), ("ops", 0), ("web", 3)])
        );
        s.deactivate_keys(&ids(&[&a])).unwrap();
        assert_eq!(
            counts(&mut s),
            pairs(&[("data", 3), ("ops", 0), ("web", 3)])
        );
        s.delete_keys(&ids(&[&a])).unwrap();
        assert_eq!(
            counts(&mut s),
            pairs(&[("data", 2), ("ops", 0), ("web", 2)])
        );
        s.remove_team("data").unwrap();
        assert_eq!(counts(&mut s), pairs(&[("ops", 0), ("web", 2)]));
        assert!(s.audit_verify().unwrap().disagreements.is_empty());
        store.bypass_sql("UPDATE teams SET live_keys = 7 WHERE name = 'web'");
        let found = s.audit_verify().unwrap().disagreements;
        assert_eq!(
            found,
            vec!["team web counts 7 keys, but 2 keys not deleted are in it".to_owned()]
        );
    }
}

#[cfg(test)]
mod folded_names {
    use super::*;
    use crate::service::{InstanceSpec, NewKeyRequest};
    use crate::testing::TempStore;

    fn request(developer: &str, channel: &str, teams: &[&str]) -> NewKeyRequest {
        NewKeyRequest {
            name: format!("{developer} {channel}"),
            instance: "ACME".into(),
            developer: developer.into(),
            channel: channel.into(),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            expires: Some("30d".into()),
        }
    }

    #[test]
    fn names_differing_only_in_case_are_one_developer_channel_team_and_instance() {
        let store = TempStore::new();
        let mut admin = store.admin();
        admin
            .add_instance(&InstanceSpec {
                name: "acme".into(),
                cloud: Cloud::Salesforce,
                url: None,
                max_active: Some(1),
            })
            .unwrap();
        let e = admin
            .add_instance(&InstanceSpec {
                name: "ACME".into(),
                cloud: Cloud::Other,
                url: None,
                max_active: None,
            })
            .unwrap_err();
        assert!(e.to_string().contains("exists already"), "{e}");
        // The limit of 1 holds for what anyone reads as the same integration.
        let first = admin
            .create_key(&request("Ben Okafor", "api", &["data"]))
            .unwrap();
        assert_eq!(first.key.instance, "acme");
        let e = admin
            .create_key(&request("ben okafor", "API", &[]))
            .unwrap_err();
        assert!(e.to_string().contains("already has 1 active key,"), "{e}");
        let developers = admin.list_developers(Some("acme")).unwrap();
        assert_eq!(developers.len(), 1);
        assert_eq!(admin.list_channels().unwrap(), ["api"]);
        // A team typed in another case is the team that exists.
        let other = admin.create_key(&request("Ana", "ci", &["DATA"])).unwrap();
        assert_eq!(other.key.teams, ["data"]);
        assert!(
            admin
                .add_team("Data")
                .unwrap_err()
                .to_string()
                .contains("exists already")
        );
        admin.add_team("ops").unwrap();
        assert!(
            admin
                .rename_team("ops", "DATA")
                .unwrap_err()
                .to_string()
                .contains("exists already")
        );
        // A change of case only is a rename of the same team or developer.
        assert_eq!(admin.rename_team("data", "Data").unwrap().name, "Data");
        assert_eq!(
            admin
                .rename_developer("ben okafor", "acme", "BEN OKAFOR")
                .unwrap()
                .name,
            "BEN OKAFOR"
        );
        assert!(
            admin
                .add_developer("ana", "acme")
                .unwrap_err()
                .to_string()
                .contains("already has a developer")
        );
    }
}
