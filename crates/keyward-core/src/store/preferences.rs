//! What each operator keeps for themselves: saved filters and screen preferences.

use super::{Db, from_sqlite};
use crate::domain::model::SavedFilter;
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, params};

impl Db<'_> {
    /// The operator's saved filters, by name.
    pub fn saved_filters(&self, login: &str) -> Result<Vec<SavedFilter>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT name, query FROM saved_filters WHERE login = ?1 ORDER BY name COLLATE NOCASE",
            )
            .map_err(from_sqlite)?;
        let rows = stmt
            .query_map([login], |r| {
                Ok(SavedFilter {
                    name: r.get(0)?,
                    query: r.get(1)?,
                })
            })
            .map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }

    /// Saves a filter under a new name, or replaces the query of one of that name.
    pub fn save_filter(&self, login: &str, filter: &SavedFilter, now: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO saved_filters (login, name, query, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (login, name) DO UPDATE SET query = excluded.query",
            )
            .and_then(|mut s| s.execute(params![login, filter.name, filter.query, now]))
            .map_err(from_sqlite)?;
        Ok(())
    }

    pub fn rename_filter(&self, login: &str, from: &str, to: &str) -> Result<()> {
        let n = self
            .conn()
            .prepare_cached("UPDATE saved_filters SET name = ?3 WHERE login = ?1 AND name = ?2")
            .and_then(|mut s| s.execute(params![login, from, to]))
            .map_err(|e| match from_sqlite(e) {
                Error::Conflict(_) => {
                    Error::conflict(format!("you already have a filter named {to:?}"))
                }
                other => other,
            })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no saved filter named {from:?}")));
        }
        Ok(())
    }

    pub fn delete_filter(&self, login: &str, name: &str) -> Result<()> {
        let n = self
            .conn()
            .prepare_cached("DELETE FROM saved_filters WHERE login = ?1 AND name = ?2")
            .and_then(|mut s| s.execute(params![login, name]))
            .map_err(from_sqlite)?;
        if n == 0 {
            return Err(Error::NotFound(format!("no saved filter named {name:?}")));
        }
        Ok(())
    }

    pub fn preference(&self, login: &str, name: &str) -> Result<Option<String>> {
        self.conn()
            .prepare_cached("SELECT value FROM preferences WHERE login = ?1 AND name = ?2")
            .and_then(|mut s| s.query_row([login, name], |r| r.get(0)).optional())
            .map_err(from_sqlite)
    }

    pub fn set_preference(&self, login: &str, name: &str, value: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO preferences (login, name, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (login, name) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![login, name, value]))
            .map_err(from_sqlite)?;
        Ok(())
    }
}
