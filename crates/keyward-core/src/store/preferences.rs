//! What each operator keeps for themselves: saved filters and screen preferences.

use super::Db;
use super::sql::args;
use crate::domain::model::SavedFilter;
use crate::error::{Error, Result};

impl Db<'_> {
    pub fn saved_filters(&self, login: &str) -> Result<Vec<SavedFilter>> {
        self.sql().query(
            "SELECT name, query FROM saved_filters WHERE login = ?1 ORDER BY name COLLATE NOCASE",
            &args![login],
            |r| {
                Ok(SavedFilter {
                    name: r.get(0)?,
                    query: r.get(1)?,
                })
            },
        )
    }

    pub fn save_filter(&self, login: &str, filter: &SavedFilter, now: i64) -> Result<()> {
        self.sql().execute(
            "INSERT INTO saved_filters (login, name, query, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (login, name) DO UPDATE SET query = excluded.query",
            &args![login, filter.name, filter.query, now],
        )?;
        Ok(())
    }

    pub fn rename_filter(&self, login: &str, from: &str, to: &str) -> Result<()> {
        let n = self
            .sql()
            .execute(
                "UPDATE saved_filters SET name = ?3 WHERE login = ?1 AND name = ?2",
                &args![login, from, to],
            )
            .map_err(|e| match e {
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
        let n = self.sql().execute(
            "DELETE FROM saved_filters WHERE login = ?1 AND name = ?2",
            &args![login, name],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("no saved filter named {name:?}")));
        }
        Ok(())
    }

    pub fn preference(&self, login: &str, name: &str) -> Result<Option<String>> {
        self.sql().query_opt(
            "SELECT value FROM preferences WHERE login = ?1 AND name = ?2",
            &args![login, name],
            |r| r.get(0),
        )
    }

    pub fn set_preference(&self, login: &str, name: &str, value: &str) -> Result<()> {
        self.sql().execute(
            "INSERT INTO preferences (login, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (login, name) DO UPDATE SET value = excluded.value",
            &args![login, name, value],
        )?;
        Ok(())
    }
}
