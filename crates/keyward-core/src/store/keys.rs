//! Keys: their records, secrets (as Argon2id hashes only), statuses and use.

use super::Db;
use super::query_sql::{Sql, key_filter};
use super::sql::{Row, SqlValue, args};
use crate::domain::model::{
    Cloud, Integration, Key, KeyCount, KeyPage, KeyPageFrom, KeyRef, KeyStatus,
};
use crate::domain::query::KeyQuery;
use crate::error::{Error, Result};
use std::ops::ControlFlow;

/// A key's columns as `key_from` reads them, with `$teams` the expression
/// of its teams (a JSON array of names, in name order).
macro_rules! key_select {
    ($teams:literal) => {
        concat!(
            "SELECT k.id, k.public_id, k.name, k.instance_id, i.name, i.cloud, k.developer_id,
                    d.name, k.channel_id, c.name, ",
            $teams,
            ", k.status, k.tail, k.expires_at, k.created_at, k.created_by, k.changed_at,
               k.deactivated_at, k.deleted_at, k.last_used_at, k.use_count, k.grace_until
             FROM keys k
             JOIN instances i ON i.id = k.instance_id
             JOIN developers d ON d.id = k.developer_id
             JOIN channels c ON c.id = k.channel_id"
        )
    };
}

const KEY_SELECT: &str = key_select!(
    "(SELECT json_group_array(name) FROM
         (SELECT t.name FROM key_teams kt JOIN teams t ON t.id = kt.team_id
           WHERE kt.key_id = k.id ORDER BY t.name) AS key_team_names)"
);

/// The same, teams left empty: for many keys at once, whose teams one join
/// reads (a sub-select per key is 10 000 of them).
const KEY_SELECT_NO_TEAMS: &str = key_select!("'[]'");

fn key_from(row: &Row, now: i64) -> Result<Key> {
    let cloud: String = row.get(5)?;
    let teams: String = row.get(10)?;
    let stored: String = row.get(11)?;
    let expires_at: Option<i64> = row.get(13)?;
    Ok(Key {
        id: row.get(0)?,
        public_id: row.get(1)?,
        name: row.get(2)?,
        instance_id: row.get(3)?,
        instance: row.get(4)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Other),
        developer_id: row.get(6)?,
        developer: row.get(7)?,
        channel_id: row.get(8)?,
        channel: row.get(9)?,
        teams: serde_json::from_str(&teams).unwrap_or_default(),
        status: KeyStatus::derive(&stored, expires_at, now),
        tail: row.get(12)?,
        expires_at,
        created_at: row.get(14)?,
        created_by: row.get(15)?,
        changed_at: row.get(16)?,
        deactivated_at: row.get(17)?,
        deleted_at: row.get(18)?,
        last_used_at: row.get(19)?,
        use_count: row.get(20)?,
        grace_until: row.get(21)?,
    })
}

/// A key about to be written; `secret_hash` is an Argon2id PHC string.
pub struct NewKey<'a> {
    pub public_id: &'a str,
    pub name: &'a str,
    pub integration: Integration,
    pub secret_hash: &'a str,
    pub tail: &'a str,
    pub expires_at: Option<i64>,
    pub created_by: &'a str,
    pub created_at: i64,
    /// The time of this write; the limit trigger judges expiry against it.
    pub now: i64,
    /// Stored status: `active`, or for sample data `deactivated`/`deleted`.
    pub status: &'a str,
    /// When a key inserted as deactivated or deleted was closed.
    pub closed_at: Option<i64>,
    /// Usage carried over (sample data); a new key has none.
    pub last_used_at: Option<i64>,
    pub use_count: u64,
}

/// What verify compares a presented key against.
pub struct KeySecrets {
    pub secret_hash: String,
    pub grace_hash: Option<String>,
    pub grace_until: Option<i64>,
}

/// The new secret of a renewed key.
pub struct NewSecret<'a> {
    pub secret_hash: &'a str,
    pub tail: &'a str,
    /// The previous secret's hash, kept while a grace period runs.
    pub grace_hash: Option<&'a str>,
    pub grace_until: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The editable fields of a key.
pub struct KeyFields<'a> {
    pub name: &'a str,
    pub developer_id: i64,
    pub channel_id: i64,
    pub expires_at: Option<i64>,
}

/// The order of every key listing: by name, then by age.
const KEY_ORDER: &str = "k.name COLLATE NOCASE, k.id";

fn listing_condition(listing: &KeyListing) -> (String, Sql) {
    let sql = listing_sql(listing);
    (sql.condition(), sql)
}

fn listing_sql(listing: &KeyListing) -> Sql {
    let mut sql = Sql::default();
    listing_filter(&mut sql, listing);
    sql
}

fn listing_filter(sql: &mut Sql, listing: &KeyListing) {
    key_filter(sql, listing.query, listing.now);
    if !listing.include_deleted && !listing.query.mentions_deleted() {
        sql.and("k.status <> 'deleted'");
    }
}

/// Keeps the keys placed `op` (`<`, `>`, `>=`) the key `k` in listing
/// order: a range of the listing index. The name alone bounds the range
/// too, which SQLite seeks to (it walks a comparison of row values from
/// the index's start).
fn and_placed(sql: &mut Sql, op: &str, k: &KeyRef) {
    let bound = if op.starts_with('<') { "<=" } else { ">=" };
    let name = sql.bind(k.name.as_str());
    sql.and(format!("k.name COLLATE NOCASE {bound} {name}"));
    let name = sql.bind(k.name.as_str());
    let id = sql.bind(k.id);
    sql.and(format!("(k.name COLLATE NOCASE, k.id) {op} ({name}, {id})"));
}

/// The statement `Db::keys` runs for a listing, and its parameters in order:
/// public so a benchmark can hand the very same query to the `sqlite3` shell.
pub fn listing_statement(listing: &KeyListing) -> (String, Vec<SqlValue>) {
    let (condition, sql) = listing_condition(listing);
    let mut text = format!("{KEY_SELECT} WHERE {condition} ORDER BY {KEY_ORDER}");
    if let Some(limit) = listing.limit {
        text.push_str(&format!(" LIMIT {limit}"));
    }
    (text, sql.params().cloned().collect())
}

/// Which keys a listing returns.
pub struct KeyListing<'a> {
    pub query: &'a KeyQuery,
    pub include_deleted: bool,
    pub now: i64,
    pub limit: Option<u64>,
}

impl<'a> KeyListing<'a> {
    /// The keys a screen shows for `query`: no deleted ones unless it asks
    /// for them, as many as there are.
    pub fn shown(query: &'a KeyQuery, now: i64) -> KeyListing<'a> {
        KeyListing {
            query,
            include_deleted: false,
            now,
            limit: None,
        }
    }
}

impl Db<'_> {
    /// The soonest expiry of an active key after `now` (`keys_status_expires`).
    pub fn next_expiry(&self, now: i64) -> Result<Option<i64>> {
        self.sql().query_one(
            "SELECT MIN(expires_at) FROM keys WHERE status = 'active' AND expires_at > ?1",
            &args![now],
            |r| r.get(0),
        )
    }

    /// Writes a new key; `None` when its public id is taken (the caller draws another).
    /// Writes a key; `None` where its public id is taken already.
    pub fn insert_key(&self, new: &NewKey) -> Result<Option<i64>> {
        Ok(self.insert_keys(std::slice::from_ref(new))?.pop().flatten())
    }

    /// Writes keys, a thousand to a statement; each one's id, in order, or
    /// `None` where its public id is taken already.
    pub fn insert_keys(&self, keys: &[NewKey]) -> Result<Vec<Option<i64>>> {
        const ROWS: usize = 1000;
        const COLUMNS: usize = 15;
        let mut ids = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p = |c: usize| format!("?{}", r * COLUMNS + c);
                    format!(
                        "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
                          CASE WHEN {s} <> 'active' THEN COALESCE(CAST({c} AS BIGINT), {n}) END,
                          CASE WHEN {s} = 'deleted' THEN COALESCE(CAST({c} AS BIGINT), {n}) END,
                          {}, {})",
                        p(1),
                        p(2),
                        p(3),
                        p(4),
                        p(5),
                        p(6),
                        p(7),
                        p(8),
                        p(9),
                        p(10),
                        p(11),
                        p(12),
                        p(14),
                        p(15),
                        s = p(6),
                        c = p(13),
                        n = p(12),
                    )
                })
                .collect();
            let mut values = Vec::with_capacity(chunk.len() * COLUMNS);
            for new in chunk {
                values.extend(args![
                    new.public_id,
                    new.name,
                    new.integration.instance_id,
                    new.integration.developer_id,
                    new.integration.channel_id,
                    new.status,
                    new.secret_hash,
                    new.tail,
                    new.expires_at,
                    new.created_at,
                    new.created_by,
                    new.now,
                    new.closed_at,
                    new.last_used_at,
                    new.use_count,
                ]);
            }
            let written: std::collections::HashMap<String, i64> = self
                .sql()
                .query(
                    &format!(
                        "INSERT INTO keys (public_id, name, instance_id, developer_id, channel_id,
                            status, secret_hash, tail, expires_at, created_at, created_by,
                            changed_at, deactivated_at, deleted_at, last_used_at, use_count)
                         VALUES {}
                         ON CONFLICT (public_id) DO NOTHING
                         RETURNING public_id, id",
                        rows.join(", ")
                    ),
                    &values,
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .into_iter()
                .collect();
            ids.extend(chunk.iter().map(|new| written.get(new.public_id).copied()));
            self.count_keys_written(written.len() as u64)?;
        }
        Ok(ids)
    }

    /// Counts keys this transaction wrote. A store filled in the transaction
    /// that made it (`demo`, `store copy`) has no statistics yet, and a
    /// server plans the limit trigger's count for an empty table: by the
    /// channel's index, which reads a quarter of all keys for each new one.
    /// Fresh statistics at 1 000 keys and at each doubling after replan it,
    /// a few times in all. SQLite's statements name their index.
    fn count_keys_written(&self, n: u64) -> Result<()> {
        let before = self.keys_written.get();
        let after = before + n;
        self.keys_written.set(after);
        if self.sql().is_postgres()
            && after >= 1000
            && (before < 1000 || before.ilog2() < after.ilog2())
        {
            self.sql().execute("ANALYZE keys", &[])?;
        }
        Ok(())
    }

    pub fn key(&self, public_id: &str, now: i64) -> Result<Option<Key>> {
        self.sql().query_opt(
            &format!("{KEY_SELECT} WHERE k.public_id = ?1"),
            &args![public_id],
            |r| key_from(r, now),
        )
    }

    pub fn public_id_taken(&self, public_id: &str) -> Result<bool> {
        Ok(self
            .sql()
            .query_opt(
                "SELECT 1 FROM keys WHERE public_id = ?1",
                &args![public_id],
                |_| Ok(()),
            )?
            .is_some())
    }

    pub fn key_secrets(&self, key_id: i64) -> Result<KeySecrets> {
        self.sql().query_one(
            "SELECT secret_hash, grace_hash, grace_until FROM keys WHERE id = ?1",
            &args![key_id],
            |r| {
                Ok(KeySecrets {
                    secret_hash: r.get(0)?,
                    grace_hash: r.get(1)?,
                    grace_until: r.get(2)?,
                })
            },
        )
    }

    /// Keys matching a smart filter, by name.
    pub fn keys(&self, listing: &KeyListing) -> Result<Vec<Key>> {
        let mut keys = Vec::new();
        self.each_key(listing, |key| {
            keys.push(key);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(keys)
    }

    /// Hands the keys of a listing to `visit` one at a time, in its order,
    /// until it breaks: a listing of a million keys never holds them all.
    pub fn each_key(
        &self,
        listing: &KeyListing,
        mut visit: impl FnMut(Key) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let (text, params) = listing_statement(listing);
        let now = listing.now;
        self.sql()
            .each(&text, &params, &mut |r| visit(key_from(r, now)?))
    }

    /// The handles of the keys a listing would return, in its order: a few bytes
    /// a key, so a screen can hold a whole filtered list and load rows on sight.
    pub fn key_refs(&self, listing: &KeyListing) -> Result<Vec<KeyRef>> {
        let (condition, sql) = listing_condition(listing);
        // The listing index holds the order and every column a filter reads:
        // named, so the walk stays index-only whatever the planner's statistics.
        let mut text = format!(
            "SELECT k.id, k.public_id, k.name FROM keys k INDEXED BY keys_listing
             WHERE {condition} ORDER BY {KEY_ORDER}"
        );
        if let Some(limit) = listing.limit {
            text.push_str(&format!(" LIMIT {limit}"));
        }
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        self.sql().query(&text, &params, |r| {
            Ok(KeyRef {
                id: r.get(0)?,
                public_id: r.get(1)?,
                name: r.get(2)?,
            })
        })
    }

    /// A page of `limit` keys of the listing from `from`, in listing order,
    /// walked over the listing index from a key's place in it; and of the
    /// keys `asked`, those the listing holds.
    pub fn key_page(
        &self,
        listing: &KeyListing,
        from: &KeyPageFrom,
        limit: u64,
        asked: &[i64],
    ) -> Result<KeyPage> {
        let mut sql = listing_sql(listing);
        // Backwards from the bottom or from a key, then turned around.
        let descending = matches!(from, KeyPageFrom::Bottom | KeyPageFrom::Before(_));
        match from {
            KeyPageFrom::Top | KeyPageFrom::Bottom => {}
            KeyPageFrom::After(k) => and_placed(&mut sql, ">", k),
            KeyPageFrom::Before(k) => and_placed(&mut sql, "<", k),
            KeyPageFrom::From(k) => and_placed(&mut sql, ">=", k),
        }
        let order = if descending {
            "k.name COLLATE NOCASE DESC, k.id DESC"
        } else {
            KEY_ORDER
        };
        let text = format!(
            "SELECT k.id, k.public_id, k.name FROM keys k INDEXED BY keys_listing
             WHERE {} ORDER BY {order} LIMIT {limit}",
            sql.condition()
        );
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        let mut refs = self.sql().query(&text, &params, |r| {
            Ok(KeyRef {
                id: r.get(0)?,
                public_id: r.get(1)?,
                name: r.get(2)?,
            })
        })?;
        if descending {
            refs.reverse();
        }
        let kept = if asked.is_empty() {
            Vec::new()
        } else {
            let mut sql = listing_sql(listing);
            let list = serde_json::to_string(asked).unwrap_or_else(|_| "[]".to_owned());
            let ids = sql.bind(list);
            sql.and(format!(
                "k.id IN (SELECT CAST(value AS BIGINT) FROM json_each({ids}))"
            ));
            let params: Vec<SqlValue> = sql.params().cloned().collect();
            self.sql().query(
                &format!("SELECT k.id FROM keys k WHERE {}", sql.condition()),
                &params,
                |r| r.get(0),
            )?
        };
        Ok(KeyPage { refs, kept })
    }

    /// How many keys the listing holds, and how many of them come before
    /// `at` where one is given.
    pub fn count_keys(&self, listing: &KeyListing, at: Option<&KeyRef>) -> Result<KeyCount> {
        // One walk counts both. The key's values are bound first: its
        // comparison stands before the filter's in the statement.
        let mut sql = Sql::default();
        let before = match at {
            Some(k) => {
                let name = sql.bind(k.name.as_str());
                let id = sql.bind(k.id);
                format!("(k.name COLLATE NOCASE, k.id) < ({name}, {id})")
            }
            None => "FALSE".to_owned(),
        };
        listing_filter(&mut sql, listing);
        let params: Vec<SqlValue> = sql.params().cloned().collect();
        let (total, counted): (u64, u64) = self.sql().query_one(
            &format!(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE {before}) FROM keys k WHERE {}",
                sql.condition()
            ),
            &params,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(KeyCount {
            total,
            before: at.map(|_| counted),
        })
    }

    /// The keys with these row ids, in the order given; ids no longer present are skipped.
    pub fn keys_by_ids(&self, ids: &[i64], now: i64) -> Result<Vec<Key>> {
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        let rows = self.sql().query(
            &format!(
                "{KEY_SELECT} WHERE k.id IN (SELECT CAST(value AS BIGINT) FROM json_each(?1))"
            ),
            &args![list],
            |r| key_from(r, now),
        )?;
        let mut found: std::collections::HashMap<i64, Key> =
            rows.into_iter().map(|k| (k.id, k)).collect();
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The keys with these public ids, by public id; ids not present are left out.
    pub fn keys_by_public_ids(
        &self,
        ids: &[&str],
        now: i64,
    ) -> Result<std::collections::HashMap<String, Key>> {
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        let wanted = "k.public_id IN (SELECT value FROM json_each(?1))";
        let mut keys: std::collections::HashMap<i64, Key> = self
            .sql()
            .query(
                &format!("{KEY_SELECT_NO_TEAMS} WHERE {wanted}"),
                &args![list],
                |r| key_from(r, now),
            )?
            .into_iter()
            .map(|k| (k.id, k))
            .collect();
        // By the row ids just read: the memberships' own index, no second
        // walk of the keys.
        let key_ids: Vec<i64> = keys.keys().copied().collect();
        let key_ids = serde_json::to_string(&key_ids).unwrap_or_else(|_| "[]".to_owned());
        let teams: Vec<(i64, String)> = self.sql().query(
            "SELECT kt.key_id, t.name FROM key_teams kt
               JOIN teams t ON t.id = kt.team_id
              WHERE kt.key_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?1))
              ORDER BY t.name",
            &args![key_ids],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (key_id, team) in teams {
            if let Some(key) = keys.get_mut(&key_id) {
                key.teams.push(team);
            }
        }
        Ok(keys
            .into_values()
            .map(|k| (k.public_id.clone(), k))
            .collect())
    }

    /// How many keys of the integration are active at `now`, not counting `except`.
    pub fn active_key_count(
        &self,
        integration: Integration,
        now: i64,
        except: Option<i64>,
    ) -> Result<u64> {
        self.sql().query_one(
            "SELECT COUNT(*) FROM keys
             WHERE instance_id = ?1 AND developer_id = ?2 AND channel_id = ?3
               AND status = 'active' AND (expires_at IS NULL OR expires_at > ?4)
               AND id IS DISTINCT FROM ?5",
            &args![
                integration.instance_id,
                integration.developer_id,
                integration.channel_id,
                now,
                except
            ],
            |r| r.get(0),
        )
    }

    /// How many keys each integration has active at `now` (integrations with none left out).
    pub fn active_key_counts(&self, now: i64) -> Result<Vec<(Integration, u32)>> {
        self.sql().query(
            "SELECT instance_id, developer_id, channel_id, COUNT(*) FROM keys
             WHERE status = 'active' AND (expires_at IS NULL OR expires_at > ?1)
             GROUP BY instance_id, developer_id, channel_id",
            &args![now],
            |r| {
                Ok((
                    Integration {
                        instance_id: r.get(0)?,
                        developer_id: r.get(1)?,
                        channel_id: r.get(2)?,
                    },
                    r.get(3)?,
                ))
            },
        )
    }

    /// The developer's keys that are active at `now`.
    pub fn active_keys_of_developer(&self, developer_id: i64, now: i64) -> Result<Vec<Key>> {
        self.sql().query(
            &format!(
                "{KEY_SELECT} WHERE k.developer_id = ?1 AND k.status = 'active'
                   AND (k.expires_at IS NULL OR k.expires_at > ?2) ORDER BY k.id"
            ),
            &args![developer_id, now],
            |r| key_from(r, now),
        )
    }

    pub fn update_key_fields(&self, key_id: i64, fields: &KeyFields, now: i64) -> Result<()> {
        self.sql().execute(
            "UPDATE keys SET name = ?2, developer_id = ?3, channel_id = ?4, expires_at = ?5,
                changed_at = ?6 WHERE id = ?1",
            &args![
                key_id,
                fields.name,
                fields.developer_id,
                fields.channel_id,
                fields.expires_at,
                now
            ],
        )?;
        Ok(())
    }

    /// Moves the key to `deactivated` or `deleted`; the schema refuses any way back.
    pub fn set_key_status(&self, key_id: i64, status: KeyStatus, now: i64) -> Result<()> {
        let stored = match status {
            KeyStatus::Deactivated => "deactivated",
            KeyStatus::Deleted => "deleted",
            other => {
                return Err(Error::conflict(format!(
                    "a key cannot be set to {other}; renew it instead"
                )));
            }
        };
        self.sql().execute(
            "UPDATE keys SET status = ?2, changed_at = ?3,
                deactivated_at = COALESCE(deactivated_at, ?3),
                deleted_at = CASE WHEN ?2 = 'deleted' THEN ?3 ELSE deleted_at END,
                grace_hash = NULL, grace_until = NULL
             WHERE id = ?1",
            &args![key_id, stored, now],
        )?;
        Ok(())
    }

    pub fn set_key_secret(&self, key_id: i64, secret: &NewSecret, now: i64) -> Result<()> {
        self.sql().execute(
            "UPDATE keys SET secret_hash = ?2, tail = ?3, grace_hash = ?4, grace_until = ?5,
                expires_at = ?6, changed_at = ?7 WHERE id = ?1",
            &args![
                key_id,
                secret.secret_hash,
                secret.tail,
                secret.grace_hash,
                secret.grace_until,
                secret.expires_at,
                now
            ],
        )?;
        Ok(())
    }

    /// Counts a successful verification.
    pub fn record_key_use(&self, key_id: i64, now: i64) -> Result<()> {
        self.sql().execute(
            "UPDATE keys SET last_used_at = ?2, use_count = use_count + 1 WHERE id = ?1",
            &args![key_id, now],
        )?;
        Ok(())
    }
}
