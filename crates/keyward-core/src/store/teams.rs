//! Teams and which keys belong to them.

use super::sql::{BATCH_ROWS, SqlValue, args, value_rows};
use super::{Db, SAME_NAME};
use crate::domain::model::Team;
use crate::error::Result;

impl Db<'_> {
    pub fn team_id(&self, name: &str) -> Result<Option<i64>> {
        self.sql().query_opt(
            &format!("SELECT id FROM teams WHERE {SAME_NAME}"),
            &args![name],
            |r| r.get(0),
        )
    }

    pub fn ensure_team(&self, name: &str, now: i64) -> Result<(i64, bool)> {
        if let Some(id) = self.team_id(name)? {
            return Ok((id, false));
        }
        let id = self.sql().query_one(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) RETURNING id",
            &args![name, now],
            |r| r.get(0),
        )?;
        Ok((id, true))
    }

    pub fn teams(&self) -> Result<Vec<Team>> {
        self.sql().query(
            // Each count is kept by the changes themselves (schema V8).
            "SELECT t.id, t.name, t.created_at, t.live_keys FROM teams t ORDER BY t.name",
            &[],
            |r| {
                Ok(Team {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    keys: r.get(3)?,
                })
            },
        )
    }

    pub fn team_memberships(&self, public_ids: &[&str]) -> Result<Vec<(String, String)>> {
        let list = serde_json::to_string(public_ids).unwrap_or_else(|_| "[]".to_owned());
        self.sql().query(
            "SELECT t.name, k.public_id FROM keys k
               JOIN key_teams kt ON kt.key_id = k.id
               JOIN teams t ON t.id = kt.team_id
              WHERE k.public_id IN (SELECT value FROM json_each(?1))",
            &args![list],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    pub fn rename_team(&self, team_id: i64, name: &str) -> Result<()> {
        self.sql().execute(
            "UPDATE teams SET name = ?2 WHERE id = ?1",
            &args![team_id, name],
        )?;
        Ok(())
    }

    pub fn team_key_ids(&self, team_id: i64) -> Result<Vec<String>> {
        self.sql().query(
            "SELECT k.public_id FROM key_teams kt JOIN keys k ON k.id = kt.key_id
             WHERE kt.team_id = ?1 AND k.status <> 'deleted' ORDER BY k.id",
            &args![team_id],
            |r| r.get(0),
        )
    }

    pub fn delete_team(&self, team_id: i64) -> Result<()> {
        self.sql()
            .execute("DELETE FROM key_teams WHERE team_id = ?1", &args![team_id])?;
        self.sql()
            .execute("DELETE FROM teams WHERE id = ?1", &args![team_id])?;
        Ok(())
    }

    pub fn add_key_to_team(&self, key_id: i64, team_id: i64) -> Result<bool> {
        Ok(!self.add_keys_to_teams(&[(key_id, team_id)])?.is_empty())
    }

    /// Puts keys in teams, a thousand (key, team) pairs to a statement; the
    /// pairs that were not there already.
    pub fn add_keys_to_teams(&self, pairs: &[(i64, i64)]) -> Result<Vec<(i64, i64)>> {
        let mut added = Vec::new();
        for chunk in pairs.chunks(BATCH_ROWS) {
            let values: Vec<SqlValue> = chunk
                .iter()
                .flat_map(|&(key, team)| args![key, team])
                .collect();
            added.extend(self.sql().query(
                &format!(
                    "INSERT INTO key_teams (key_id, team_id) VALUES {}
                     ON CONFLICT DO NOTHING RETURNING key_id, team_id",
                    value_rows(chunk.len(), 2)
                ),
                &values,
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?);
        }
        Ok(added)
    }

    /// Takes keys out of teams, a thousand (key, team) pairs to a statement;
    /// the pairs that were there.
    pub fn remove_keys_from_teams(&self, pairs: &[(i64, i64)]) -> Result<Vec<(i64, i64)>> {
        let mut removed = Vec::new();
        for chunk in pairs.chunks(BATCH_ROWS) {
            let values: Vec<SqlValue> = chunk
                .iter()
                .flat_map(|&(key, team)| args![key, team])
                .collect();
            // Typed: a server reads an untyped VALUES list as text.
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    format!(
                        "(CAST(?{} AS BIGINT), CAST(?{} AS BIGINT))",
                        2 * r + 1,
                        2 * r + 2
                    )
                })
                .collect();
            removed.extend(self.sql().query(
                &format!(
                    "DELETE FROM key_teams WHERE (key_id, team_id) IN (VALUES {})
                     RETURNING key_id, team_id",
                    rows.join(", ")
                ),
                &values,
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?);
        }
        Ok(removed)
    }
}
