//! Instances, the developers known on each, and channels.

use super::query_sql::FOLD;
use super::sql::{Row, args};
use super::{Db, SAME_NAME};
use crate::domain::model::{Cloud, Developer, Instance};
use crate::error::{Error, Result};

/// Counts keys per instance; `?1` is now.
const INSTANCE_SELECT: &str = "
SELECT i.id, i.name, i.cloud, i.url, i.max_active, i.created_at, i.retired_at,
       (SELECT COUNT(*) FROM keys k WHERE k.instance_id = i.id AND k.status = 'active'
           AND (k.expires_at IS NULL OR k.expires_at > ?1)),
       (SELECT COUNT(*) FROM keys k WHERE k.instance_id = i.id AND k.status <> 'deleted')
FROM instances i";

fn instance_from(row: &Row) -> Result<Instance> {
    let cloud: String = row.get(2)?;
    Ok(Instance {
        id: row.get(0)?,
        name: row.get(1)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Other),
        url: row.get(3)?,
        max_active: row.get(4)?,
        created_at: row.get(5)?,
        retired_at: row.get(6)?,
        active_keys: row.get(7)?,
        keys: row.get(8)?,
    })
}

/// The fields of an instance an edit may change.
pub struct InstanceFields<'a> {
    pub cloud: Cloud,
    pub url: Option<&'a str>,
    pub max_active: u32,
}

/// An integration of one instance as the Directory shows it: names, not ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationLoad {
    pub developer: String,
    pub channel: String,
    /// Its keys active now.
    pub active_keys: u64,
}

/// The fields of a new instance.
pub struct NewInstance<'a> {
    pub name: &'a str,
    pub cloud: Cloud,
    pub url: Option<&'a str>,
    pub max_active: u32,
    pub created_at: i64,
}

impl Db<'_> {
    pub fn insert_instance(&self, new: &NewInstance) -> Result<i64> {
        self.sql()
            .query_one(
                "INSERT INTO instances (name, cloud, url, max_active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                &args![
                    new.name,
                    new.cloud.as_str(),
                    new.url,
                    new.max_active,
                    new.created_at
                ],
                |r| r.get(0),
            )
            .map_err(|e| match e {
                Error::Conflict(_) => {
                    Error::conflict(format!("an instance named {} exists already", new.name))
                }
                other => other,
            })
    }

    pub fn instance_by_name(&self, name: &str, now: i64) -> Result<Option<Instance>> {
        self.sql().query_opt(
            &format!(
                "{INSTANCE_SELECT} WHERE i.name = ?2 OR {FOLD}(i.name) = {FOLD}(?2)
                 ORDER BY i.name = ?2 DESC LIMIT 1"
            ),
            &args![now, name],
            instance_from,
        )
    }

    /// The id of the instance of that name, without counting its keys.
    pub fn instance_id(&self, name: &str) -> Result<Option<i64>> {
        self.sql().query_opt(
            &format!("SELECT id FROM instances WHERE {SAME_NAME}"),
            &args![name],
            |r| r.get(0),
        )
    }

    /// An instance's name and its active-key limit per integration.
    pub fn instance_limit(&self, instance_id: i64) -> Result<(String, u32)> {
        self.sql().query_one(
            "SELECT name, max_active FROM instances WHERE id = ?1",
            &args![instance_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    pub fn instances(&self, now: i64) -> Result<Vec<Instance>> {
        self.sql().query(
            &format!("{INSTANCE_SELECT} ORDER BY i.name"),
            &args![now],
            instance_from,
        )
    }

    pub fn update_instance(&self, instance_id: i64, fields: &InstanceFields) -> Result<()> {
        self.sql().execute(
            "UPDATE instances SET cloud = ?2, url = ?3, max_active = ?4 WHERE id = ?1",
            &args![
                instance_id,
                fields.cloud.as_str(),
                fields.url,
                fields.max_active
            ],
        )?;
        Ok(())
    }

    /// Marks the instance retired; the schema refuses while a key of it is active.
    pub fn retire_instance(&self, instance_id: i64, now: i64) -> Result<()> {
        self.sql().execute(
            "UPDATE instances SET retired_at = ?2 WHERE id = ?1",
            &args![instance_id, now],
        )?;
        Ok(())
    }

    /// The instance's integrations with more than `limit` keys active at `now`,
    /// most loaded first.
    pub fn integrations_over(
        &self,
        instance_id: i64,
        limit: u32,
        now: i64,
    ) -> Result<Vec<IntegrationLoad>> {
        self.sql().query(
            "SELECT d.name, c.name, COUNT(*) AS n FROM keys k
               JOIN developers d ON d.id = k.developer_id
               JOIN channels c ON c.id = k.channel_id
             WHERE k.instance_id = ?1 AND k.status = 'active'
               AND (k.expires_at IS NULL OR k.expires_at > ?2)
             GROUP BY d.id, c.id
             HAVING COUNT(*) > ?3
             ORDER BY n DESC, d.name, c.name",
            &args![instance_id, now, limit],
            |r| {
                Ok(IntegrationLoad {
                    developer: r.get(0)?,
                    channel: r.get(1)?,
                    active_keys: r.get(2)?,
                })
            },
        )
    }

    /// Whether the instance has a developer of that name, current or removed:
    /// the names a rename may not take.
    pub fn developer_name_used(&self, instance_id: i64, name: &str) -> Result<bool> {
        Ok(self.find_developer(instance_id, name, true)?.is_some())
    }

    /// The developer of `name` on the instance, case folded as filters
    /// compare names; `removed_too` counts one removed from the list.
    fn find_developer(
        &self,
        instance_id: i64,
        name: &str,
        removed_too: bool,
    ) -> Result<Option<i64>> {
        self.sql().query_opt(
            &format!(
                "SELECT id FROM developers WHERE instance_id = ?1 AND (?3 OR removed_at IS NULL) AND {}",
                SAME_NAME.replace("?1", "?2")
            ),
            &args![instance_id, name, removed_too],
            |r| r.get(0),
        )
    }

    pub fn rename_developer(&self, developer_id: i64, name: &str) -> Result<()> {
        self.sql().execute(
            "UPDATE developers SET name = ?2 WHERE id = ?1",
            &args![developer_id, name],
        )?;
        Ok(())
    }

    /// The developer of that name on the instance, if known and not removed.
    pub fn developer_id(&self, instance_id: i64, name: &str) -> Result<Option<i64>> {
        self.find_developer(instance_id, name, false)
    }

    /// The developer's id, adding the developer to the instance's list if new
    /// (or back to it if removed before).
    /// The developer's id on the instance, added to its list when new and put
    /// back when removed; and whether it was either (not on the list before).
    pub fn ensure_developer(&self, instance_id: i64, name: &str) -> Result<(i64, bool)> {
        // `ben okafor` is the developer `Ben Okafor`: one integration, one limit.
        let known = self.find_developer(instance_id, name, true)?;
        if let Some(id) = known {
            let restored = self.sql().execute(
                "UPDATE developers SET removed_at = NULL WHERE id = ?1 AND removed_at IS NOT NULL",
                &args![id],
            )?;
            return Ok((id, restored > 0));
        }
        let id = self.sql().query_one(
            "INSERT INTO developers (instance_id, name) VALUES (?1, ?2)
             ON CONFLICT (instance_id, name) DO UPDATE SET removed_at = NULL
             RETURNING id",
            &args![instance_id, name],
            |r| r.get(0),
        )?;
        Ok((id, true))
    }

    pub fn mark_developer_removed(&self, developer_id: i64, now: i64) -> Result<()> {
        self.sql().execute(
            "UPDATE developers SET removed_at = ?2 WHERE id = ?1",
            &args![developer_id, now],
        )?;
        Ok(())
    }

    /// Known developers, optionally of one instance, with their key counts.
    pub fn developers(&self, instance_id: Option<i64>, now: i64) -> Result<Vec<Developer>> {
        self.sql().query(
            "SELECT d.id, i.name, d.name,
                (SELECT COUNT(*) FROM keys k WHERE k.developer_id = d.id AND k.status = 'active'
                    AND (k.expires_at IS NULL OR k.expires_at > ?2)),
                (SELECT COUNT(*) FROM keys k WHERE k.developer_id = d.id AND k.status <> 'deleted')
             FROM developers d JOIN instances i ON i.id = d.instance_id
             WHERE d.removed_at IS NULL AND (CAST(?1 AS BIGINT) IS NULL OR d.instance_id = ?1)
             ORDER BY i.name, d.name",
            &args![instance_id, now],
            |r| {
                Ok(Developer {
                    id: r.get(0)?,
                    instance: r.get(1)?,
                    name: r.get(2)?,
                    active_keys: r.get(3)?,
                    keys: r.get(4)?,
                })
            },
        )
    }

    /// The channel's id, adding it to the list if new.
    pub fn ensure_channel(&self, name: &str) -> Result<i64> {
        // `API` is the channel `api`: the integration and its limit are one.
        let known: Option<i64> = self.sql().query_opt(
            &format!("SELECT id FROM channels WHERE {SAME_NAME}"),
            &args![name],
            |r| r.get(0),
        )?;
        if let Some(id) = known {
            return Ok(id);
        }
        self.sql().query_one(
            "INSERT INTO channels (name) VALUES (?1)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name
             RETURNING id",
            &args![name],
            |r| r.get(0),
        )
    }

    /// Every channel name in use, for picking one in a form.
    pub fn channels(&self) -> Result<Vec<String>> {
        self.sql().query(
            "SELECT name FROM channels ORDER BY name COLLATE NOCASE",
            &[],
            |r| r.get(0),
        )
    }
}
