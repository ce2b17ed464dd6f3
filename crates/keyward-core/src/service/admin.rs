//! Store set-up and administration: the first admin, operators, instances,
//! developers and teams.

use super::keys::{deactivate, ensure_team};
use super::notice::{self, Event};
use super::{Actor, Clock, Service, with_details};
use crate::domain::Name;
use crate::domain::email::parse_email;
use crate::domain::history::{Action, Origin};
use crate::domain::model::{Cloud, DEFAULT_MAX_ACTIVE, Developer, Instance, Operator, Role, Team};
use crate::error::{Error, Result};
use crate::safe_text::escape;
use crate::store::instances::NewInstance;
use crate::store::{Location, Store};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// The most keys of one integration an instance may allow at once.
pub const MAX_ACTIVE_LIMIT: u32 = 100;

/// What an admin gives to add an instance.
#[derive(Clone, Debug)]
pub struct InstanceSpec {
    pub name: String,
    pub cloud: Cloud,
    pub url: Option<String>,
    pub max_active: Option<u32>,
}

impl Service {
    /// Creates a store at `path` and makes the login of `origin` its first admin.
    pub fn init(
        path: &Path,
        origin: Origin,
        clock: Arc<dyn Clock>,
        name: &str,
        email: &str,
    ) -> Result<Service> {
        Service::init_at(&Location::File(path.to_owned()), origin, clock, name, email)
    }

    /// Creates a store at `location` — a SQLite file, or keyward's schema in
    /// a PostgreSQL database — and makes the login of `origin` its first admin.
    pub fn init_at(
        location: &Location,
        origin: Origin,
        clock: Arc<dyn Clock>,
        name: &str,
        email: &str,
    ) -> Result<Service> {
        let name = person_name(name)?;
        let email = parse_email(email)?;
        check_login(&origin.login)?;
        let now = clock.now().timestamp();
        super::check_clock(now)?;
        let admin = Operator {
            login: origin.login.clone(),
            name: name.into_string(),
            email,
            role: Role::Admin,
            created_at: now,
        };
        // The admin and the first rows are part of making the store: a store
        // without its admin is never left behind, even by a killed process.
        let store = Store::create_at(location, |db| {
            db.insert_operator(&admin)?;
            let actor = Actor {
                operator: Some(admin.clone()),
                origin: origin.clone(),
            };
            db.append_history(actor.record(now, Action::StoreCreated, None))?;
            db.append_history(with_details(
                actor.record(now, Action::OperatorAdded, Some(&admin.login)),
                json!({ "name": admin.name, "email": admin.email, "role": "admin" }),
            ))?;
            Ok(())
        })?;
        Ok(Service::new(store, origin, clock))
    }

    pub fn add_operator(
        &mut self,
        login: &str,
        name: &str,
        email: &str,
        role: Role,
    ) -> Result<Operator> {
        // Who may comes first: a viewer hears that they may not, not that
        // the address they typed is off.
        self.precheck(Role::Admin)?;
        check_login(login)?;
        let name = person_name(name)?;
        let email = parse_email(email)?;
        self.write(Role::Admin, |db, actor, now| {
            let op = Operator {
                login: login.to_owned(),
                name: name.into_string(),
                email,
                role,
                created_at: now,
            };
            db.insert_operator(&op)?;
            db.append_history(with_details(
                actor.record(now, Action::OperatorAdded, Some(login)),
                json!({ "name": op.name, "email": op.email, "role": role.as_str() }),
            ))?;
            Ok(op)
        })
    }

    pub fn list_operators(&mut self) -> Result<Vec<Operator>> {
        self.read(|db, _, _| db.operators())
    }

    /// Removes an operator; the last admin stays, so the store is never left unmanaged.
    pub fn remove_operator(&mut self, login: &str) -> Result<Operator> {
        self.write(Role::Admin, |db, actor, now| {
            let op = db
                .operator(login)?
                .ok_or_else(|| Error::not_found(format!("{} is not an operator", escape(login))))?;
            if op.role == Role::Admin && db.count_admins()? <= 1 {
                return Err(Error::conflict(format!(
                    "{} is the last admin; add another admin first",
                    escape(login)
                )));
            }
            db.delete_operator(login)?;
            db.append_history(with_details(
                actor.record(now, Action::OperatorRemoved, Some(login)),
                json!({ "name": op.name, "email": op.email, "role": op.role.as_str() }),
            ))?;
            Ok(op)
        })
    }

    pub fn add_instance(&mut self, spec: &InstanceSpec) -> Result<Instance> {
        let name = Name::parse("instance name", &spec.name)?;
        let url = spec.url.as_deref().map(parse_url).transpose()?;
        let max_active = spec.max_active.unwrap_or(DEFAULT_MAX_ACTIVE);
        check_max_active(max_active)?;
        self.write(Role::Admin, |db, actor, now| {
            // Names compare case folded, as filters do: `ACME-PROD` is taken
            // by `acme-prod`.
            if let Some(known) = db.instance_by_name(name.as_str(), now)? {
                return Err(Error::conflict(format!(
                    "an instance named {} exists already",
                    escape(&known.name)
                )));
            }
            db.insert_instance(&NewInstance {
                name: name.as_str(),
                cloud: spec.cloud,
                url: url.as_deref(),
                max_active,
                created_at: now,
            })?;
            db.append_history(with_details(
                actor.record(now, Action::InstanceAdded, Some(name.as_str())),
                json!({ "cloud": spec.cloud.as_str(), "url": url, "max_active": max_active }),
            ))?;
            db.instance_by_name(name.as_str(), now)?
                .ok_or_else(|| Error::store("the new instance vanished"))
        })
    }

    pub fn list_instances(&mut self) -> Result<Vec<Instance>> {
        self.read(|db, _, now| db.instances(now))
    }

    pub fn list_developers(&mut self, instance: Option<&str>) -> Result<Vec<Developer>> {
        // Names are stored trimmed (SPEC §2), so they are looked up trimmed too.
        let instance = instance.map(str::trim);
        self.read(|db, _, now| {
            let instance_id = match instance {
                Some(name) => Some(
                    db.instance_by_name(name, now)?
                        .ok_or_else(|| {
                            Error::not_found(format!("no instance named {}", escape(name)))
                        })?
                        .id,
                ),
                None => None,
            };
            db.developers(instance_id, now)
        })
    }

    /// Removes a developer from an instance's list. Refused while the developer
    /// has active keys, unless `deactivate_keys` asks to deactivate them all first.
    /// Returns the keys that were deactivated.
    pub fn remove_developer(
        &mut self,
        name: &str,
        instance: &str,
        deactivate_keys: bool,
    ) -> Result<Vec<crate::domain::model::Key>> {
        let (name, instance) = (name.trim(), instance.trim());
        self.write(Role::Manager, |db, actor, now| {
            let inst = db
                .instance_by_name(instance, now)?
                .ok_or_else(|| Error::not_found(format!("no instance named {}", escape(instance))))?;
            let developer_id = db.developer_id(inst.id, name)?.ok_or_else(|| {
                Error::not_found(format!(
                    "no developer named {} on instance {}",
                    escape(name),
                    escape(instance)
                ))
            })?;
            let active = db.active_keys_of_developer(developer_id, now)?;
            if !active.is_empty() && !deactivate_keys {
                let ids: Vec<String> = active.iter().map(|k| k.masked()).collect();
                return Err(Error::conflict(format!(
                    "{} still has {} active key(s): {}. Deactivating them cannot be undone, and the integrations using them stop working until given new keys; to do so, run again with --deactivate-keys",
                    escape(name),
                    active.len(),
                    ids.join(", ")
                )));
            }
            let mut deactivated = Vec::with_capacity(active.len());
            for key in &active {
                deactivated.push(deactivate(db, actor, key, now)?);
            }
            notice::enqueue(db, actor, Event::Deactivated, &deactivated, now)?;
            db.mark_developer_removed(developer_id, now)?;
            db.append_history(with_details(
                actor.record(now, Action::DeveloperRemoved, Some(name)),
                json!({ "instance": inst.name, "deactivated_keys": deactivated.iter().map(|k| &k.public_id).collect::<Vec<_>>() }),
            ))?;
            Ok(deactivated)
        })
    }

    /// Every channel in use, for picking one.
    pub fn list_channels(&mut self) -> Result<Vec<String>> {
        self.read(|db, _, _| db.channels())
    }

    pub fn add_team(&mut self, name: &str) -> Result<Team> {
        let name = Name::parse("team", name)?;
        self.write(Role::Manager, |db, actor, now| {
            if db.team_id(name.as_str())?.is_some() {
                return Err(Error::conflict(format!(
                    "a team named {} exists already",
                    escape(name.as_str())
                )));
            }
            let id = ensure_team(db, actor, name.as_str(), now)?;
            Ok(Team {
                id,
                name: name.into_string(),
                keys: 0,
                created_at: now,
            })
        })
    }

    pub fn list_teams(&mut self) -> Result<Vec<Team>> {
        self.read(|db, _, _| db.teams())
    }
}

/// A person's name, which goes into every mail header addressed to them:
/// one line, no control characters (a line break there made every message
/// unwritable). Key and team names may hold anything; they are escaped.
pub(crate) fn person_name(raw: &str) -> Result<Name> {
    let name = Name::parse("name", raw)?;
    if let Some(c) = name.as_str().chars().find(|c| c.is_control()) {
        return Err(Error::usage(format!(
            "a person's name cannot contain control characters such as U+{:04X} (a line break, an escape); it goes into mail headers",
            u32::from(c)
        )));
    }
    Ok(name)
}

/// A login as the OS knows it: no white space or control characters.
pub(super) fn check_login(login: &str) -> Result<()> {
    if login.is_empty()
        || login.len() > 64
        || login
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
    {
        return Err(Error::usage(format!(
            "{} is not a login name",
            escape(login)
        )));
    }
    Ok(())
}

pub(super) fn check_max_active(max_active: u32) -> Result<()> {
    if !(1..=MAX_ACTIVE_LIMIT).contains(&max_active) {
        return Err(Error::usage(format!(
            "--max-active must be between 1 and {MAX_ACTIVE_LIMIT}"
        )));
    }
    Ok(())
}

pub(super) fn parse_url(raw: &str) -> Result<String> {
    let url = raw.trim();
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(Error::usage(format!(
            "{} is not a URL; give one like https://acme.my.salesforce.com",
            escape(url)
        )));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https() {
        assert!(parse_url("https://acme.my.salesforce.com").is_ok());
        assert!(parse_url("javascript:alert(1)").is_err());
        assert!(parse_url("https://a b").is_err());
    }

    #[test]
    fn logins_have_no_white_space() {
        assert!(check_login("ana.lopez").is_ok());
        assert!(check_login("ana lopez").is_err());
        assert!(check_login("").is_err());
    }
}
