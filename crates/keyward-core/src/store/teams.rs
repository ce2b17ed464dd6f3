//! Teams and which keys belong to them.

use super::{Db, SAME_NAME, from_sqlite};
use crate::domain::model::Team;
use crate::error::Result;
use rusqlite::{OptionalExtension, params};

impl Db<'_> {
    /// The team of that name, case folded as filters compare names: `DATA`
    /// is the team `data`, never a second one beside it.
    pub fn team_id(&self, name: &str) -> Result<Option<i64>> {
        self.conn()
            .prepare_cached(&format!("SELECT id FROM teams WHERE {SAME_NAME}"))
            .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
            .map_err(from_sqlite)
    }

    /// The team's id, and whether it was made now.
    pub fn ensure_team(&self, name: &str, now: i64) -> Result<(i64, bool)> {
        if let Some(id) = self.team_id(name)? {
            return Ok((id, false));
        }
        self.conn()
            .prepare_cached("INSERT INTO teams (name, created_at) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![name, now]))
            .map_err(from_sqlite)?;
        Ok((self.conn().last_insert_rowid(), true))
    }

    /// Every team with the number of keys (not deleted) in it.
    pub fn teams(&self) -> Result<Vec<Team>> {
        // The deleted keys' ids come once from the status index, and each team's
        // memberships from its own index: no key row is read. (Joining `keys`
        // to check each membership's status read the table at random: 230 ms
        // at 100 000 keys against 45 ms.)
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT t.id, t.name, t.created_at,
                    (SELECT COUNT(*) FROM key_teams kt
                      WHERE kt.team_id = t.id
                        AND kt.key_id NOT IN (SELECT id FROM keys WHERE status = 'deleted'))
                 FROM teams t ORDER BY t.name",
            )
            .map_err(from_sqlite)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Team {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    keys: r.get(3)?,
                })
            })
            .map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }

    /// `(team, public id)` for every team membership of the keys with these
    /// public ids: one query through the memberships' indexes, however many.
    pub fn team_memberships(&self, public_ids: &[&str]) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT t.name, k.public_id FROM keys k
                   JOIN key_teams kt ON kt.key_id = k.id
                   JOIN teams t ON t.id = kt.team_id
                  WHERE k.public_id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(from_sqlite)?;
        let list = serde_json::to_string(public_ids).unwrap_or_else(|_| "[]".to_owned());
        let rows = stmt
            .query_map([list], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }

    pub fn rename_team(&self, team_id: i64, name: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE teams SET name = ?2 WHERE id = ?1",
                params![team_id, name],
            )
            .map_err(from_sqlite)?;
        Ok(())
    }

    /// The public ids of the team's keys that are not deleted, in key order.
    pub fn team_key_ids(&self, team_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT k.public_id FROM key_teams kt JOIN keys k ON k.id = kt.key_id
                 WHERE kt.team_id = ?1 AND k.status <> 'deleted' ORDER BY k.id",
            )
            .map_err(from_sqlite)?;
        let rows = stmt
            .query_map([team_id], |r| r.get(0))
            .map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }

    /// Takes every key (deleted ones too) out of the team, then the team away.
    pub fn delete_team(&self, team_id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM key_teams WHERE team_id = ?1", [team_id])
            .and_then(|_| {
                self.conn()
                    .execute("DELETE FROM teams WHERE id = ?1", [team_id])
            })
            .map_err(from_sqlite)?;
        Ok(())
    }

    /// Puts the key in the team; false if it already was.
    pub fn add_key_to_team(&self, key_id: i64, team_id: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO key_teams (key_id, team_id) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![key_id, team_id]))
            .map_err(from_sqlite)?;
        Ok(n > 0)
    }

    /// Takes the key out of the team; false if it was not in it.
    pub fn remove_key_from_team(&self, key_id: i64, team_id: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached("DELETE FROM key_teams WHERE key_id = ?1 AND team_id = ?2")
            .and_then(|mut s| s.execute(params![key_id, team_id]))
            .map_err(from_sqlite)?;
        Ok(n > 0)
    }
}
