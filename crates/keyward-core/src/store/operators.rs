//! Operators: the logins allowed to run keyward, with their roles.

use super::{Db, from_sqlite};
use crate::domain::model::{Operator, Role};
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, Row, params};

const COLUMNS: &str = "login, name, email, role, created_at";

fn operator_from(row: &Row) -> rusqlite::Result<Operator> {
    let role: String = row.get(3)?;
    Ok(Operator {
        login: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        // The schema's CHECK admits only the three roles.
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_at: row.get(4)?,
    })
}

impl Db<'_> {
    pub fn operator(&self, login: &str) -> Result<Option<Operator>> {
        self.conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM operators WHERE login = ?1"))
            .and_then(|mut s| s.query_row([login], operator_from).optional())
            .map_err(from_sqlite)
    }

    pub fn operators(&self) -> Result<Vec<Operator>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM operators ORDER BY login"))
            .map_err(from_sqlite)?;
        let rows = stmt.query_map([], operator_from).map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }

    /// The operators told of key events: admins and managers.
    pub fn notified_operators(&self) -> Result<Vec<Operator>> {
        Ok(self
            .operators()?
            .into_iter()
            .filter(|o| o.role.is_notified())
            .collect())
    }

    pub fn insert_operator(&self, op: &Operator) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO operators (login, name, email, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![op.login, op.name, op.email, op.role.as_str(), op.created_at])
            })
            .map_err(|e| match from_sqlite(e) {
                Error::Conflict(_) => {
                    Error::conflict(format!("{} is already an operator", op.login))
                }
                other => other,
            })?;
        Ok(())
    }

    pub fn delete_operator(&self, login: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM operators WHERE login = ?1", [login])
            .map_err(from_sqlite)?;
        Ok(n > 0)
    }

    /// Changes an operator's role; the schema keeps the last admin an admin.
    pub fn set_operator_role(&self, login: &str, role: Role) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE operators SET role = ?2 WHERE login = ?1",
                params![login, role.as_str()],
            )
            .map_err(from_sqlite)?;
        Ok(())
    }

    pub fn count_admins(&self) -> Result<u64> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM operators WHERE role = 'admin'",
                [],
                |r| r.get(0),
            )
            .map_err(from_sqlite)
    }
}
