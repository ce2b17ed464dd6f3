//! Operators: the logins allowed to run keyward, with their roles.

use super::Db;
use super::sql::{Row, args};
use crate::domain::model::{Operator, Role};
use crate::error::{Error, Result};

const COLUMNS: &str = "login, name, email, role, created_at";

fn operator_from(row: &Row) -> Result<Operator> {
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
        self.sql().query_opt(
            &format!("SELECT {COLUMNS} FROM operators WHERE login = ?1"),
            &args![login],
            operator_from,
        )
    }

    pub fn operators(&self) -> Result<Vec<Operator>> {
        self.sql().query(
            &format!("SELECT {COLUMNS} FROM operators ORDER BY login"),
            &[],
            operator_from,
        )
    }

    pub fn notified_operators(&self) -> Result<Vec<Operator>> {
        Ok(self
            .operators()?
            .into_iter()
            .filter(|o| o.role.is_notified())
            .collect())
    }

    pub fn insert_operator(&self, op: &Operator) -> Result<()> {
        self.sql()
            .execute(
                "INSERT INTO operators (login, name, email, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &args![op.login, op.name, op.email, op.role.as_str(), op.created_at],
            )
            .map_err(|e| match e {
                Error::Conflict(_) => {
                    Error::conflict(format!("{} is already an operator", op.login))
                }
                other => other,
            })?;
        Ok(())
    }

    pub fn delete_operator(&self, login: &str) -> Result<bool> {
        let n = self
            .sql()
            .execute("DELETE FROM operators WHERE login = ?1", &args![login])?;
        Ok(n > 0)
    }

    pub fn set_operator_role(&self, login: &str, role: Role) -> Result<()> {
        self.sql().execute(
            "UPDATE operators SET role = ?2 WHERE login = ?1",
            &args![login, role.as_str()],
        )?;
        Ok(())
    }

    pub fn count_admins(&self) -> Result<u64> {
        self.sql().query_one(
            "SELECT COUNT(*) FROM operators WHERE role = 'admin'",
            &[],
            |r| r.get(0),
        )
    }
}
