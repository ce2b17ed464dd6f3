//! One way to run a statement on either engine. The store's statements are
//! written once, in the SQL both engines take (`?N` placeholders, `ON
//! CONFLICT`, `RETURNING`, `IS DISTINCT FROM`, `COUNT(*) FILTER`, `TRUE`);
//! this module binds their values, reads their rows and turns their failures
//! into keyward errors, whichever engine runs them. What PostgreSQL spells
//! differently is mended in [`for_postgres`]: numbered `$N` placeholders,
//! and SQLite's `INDEXED BY` hints dropped.

use super::from_sqlite;
use crate::domain::history::DbSession;
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::ControlFlow;

/// A value bound to a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// What can be bound: integers of any width (as 64-bit), text, booleans and
/// their `Option`s (`None` is NULL).
pub trait Arg {
    fn value(&self) -> SqlValue;
}

impl Arg for SqlValue {
    fn value(&self) -> SqlValue {
        self.clone()
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn value(&self) -> SqlValue {
                SqlValue::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_arg!(i64, i32, u32, u64, usize);

impl Arg for bool {
    fn value(&self) -> SqlValue {
        SqlValue::Bool(*self)
    }
}

impl Arg for str {
    fn value(&self) -> SqlValue {
        SqlValue::Text(self.to_owned())
    }
}

impl Arg for String {
    fn value(&self) -> SqlValue {
        SqlValue::Text(self.clone())
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> SqlValue {
        (**self).value()
    }
}

impl<T: Arg> Arg for Option<T> {
    fn value(&self) -> SqlValue {
        self.as_ref().map_or(SqlValue::Null, Arg::value)
    }
}

/// The values of a statement's placeholders, in order: `args![a, b]`.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        [$($crate::store::sql::Arg::value(&$a)),*]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            SqlValue::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            SqlValue::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// PostgreSQL types each parameter from the statement; a value goes in as
/// whatever integer width, text or boolean the server asked for.
impl postgres::types::ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        let int =
            |n: i64,
             out: &mut bytes::BytesMut|
             -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
                match *ty {
                    Type::INT8 => n.to_sql(ty, out),
                    Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                    Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                    Type::BOOL => (n != 0).to_sql(ty, out),
                    _ => n.to_string().as_str().to_sql(ty, out),
                }
            };
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(n) => int(*n, out),
            SqlValue::Bool(b) if *ty == Type::BOOL => b.to_sql(ty, out),
            SqlValue::Bool(b) => int(i64::from(*b), out),
            SqlValue::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A row being read, from either engine.
pub enum Row<'r> {
    Lite(&'r rusqlite::Row<'r>),
    Pg(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        match self {
            Row::Lite(r) => T::lite(r, i),
            Row::Pg(r) => T::pg(r, i),
        }
    }
}

/// A type a column can be read as.
pub trait Column: Sized {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self>;
    fn pg(r: &postgres::Row, i: usize) -> Result<Self>;
}

fn unexpected(i: usize, e: impl std::fmt::Display) -> Error {
    Error::store(format!(
        "the store holds a value keyward did not write (column {i}): {e}"
    ))
}

/// An integer column of PostgreSQL, whatever its width; booleans as 0 and 1.
fn pg_int(r: &postgres::Row, i: usize) -> Result<Option<i64>> {
    use postgres::types::Type;
    let ty = r
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| unexpected(i, "no such column"))?;
    let v = match ty {
        Type::INT8 => r.try_get::<_, Option<i64>>(i),
        Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
        Type::INT2 => r.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
        Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
        other => return Err(unexpected(i, format!("{other} where a number belongs"))),
    };
    v.map_err(|e| unexpected(i, e))
}

impl Column for Option<i64> {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        r.get(i).map_err(from_sqlite)
    }
    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        pg_int(r, i)
    }
}

impl Column for i64 {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        r.get(i).map_err(from_sqlite)
    }
    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        pg_int(r, i)?.ok_or_else(|| unexpected(i, "NULL where a number belongs"))
    }
}

macro_rules! narrow_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
                r.get(i).map_err(from_sqlite)
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                let n = i64::pg(r, i)?;
                <$t>::try_from(n).map_err(|e| unexpected(i, e))
            }
        }
        impl Column for Option<$t> {
            fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
                r.get(i).map_err(from_sqlite)
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                pg_int(r, i)?
                    .map(|n| <$t>::try_from(n).map_err(|e| unexpected(i, e)))
                    .transpose()
            }
        }
    )*};
}
narrow_column!(u32, u64, i32);

impl Column for bool {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        r.get(i).map_err(from_sqlite)
    }
    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(i64::pg(r, i)? != 0)
    }
}

impl Column for String {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        r.get(i).map_err(from_sqlite)
    }
    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        r.try_get(i).map_err(|e| unexpected(i, e))
    }
}

impl Column for Option<String> {
    fn lite(r: &rusqlite::Row, i: usize) -> Result<Self> {
        r.get(i).map_err(from_sqlite)
    }
    fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
        r.try_get(i).map_err(|e| unexpected(i, e))
    }
}

/// A PostgreSQL transaction as the store's statements see it: they are
/// translated, prepared once per connection, and run.
pub trait PgRun {
    /// Reads the rows one at a time, until `f` breaks: a million-row export
    /// is never held at once.
    fn each(
        &mut self,
        sql: &str,
        args: &[SqlValue],
        f: &mut dyn FnMut(&postgres::Row) -> Result<ControlFlow<()>>,
    ) -> Result<()>;
    fn execute(&mut self, sql: &str, args: &[SqlValue]) -> Result<u64>;
    /// Streams the rows `produce` makes into `table` by one `COPY`.
    fn copy_rows(&mut self, table: &str, columns: &[&str], produce: &mut Produce) -> Result<u64>;
    /// This connection's session, as the server stamps history rows with it.
    fn session(&self) -> DbSession;
}

/// Makes the rows of [`Conn::copy_rows`]: hands each row's values, in the
/// columns' order, to the function it is given.
pub type Produce<'p> = dyn FnMut(&mut dyn FnMut(&[SqlValue]) -> Result<()>) -> Result<()> + 'p;

/// Rows to a multi-row `INSERT`: a million rows are a thousand statements.
pub const BATCH_ROWS: usize = 1000;

/// `(?1, ?2), (?3, ?4)`: the placeholders of `rows` rows of `width` values.
pub fn value_rows(rows: usize, width: usize) -> String {
    let mut out = String::with_capacity(rows * width * 7);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=width {
            if c > 1 {
                out.push_str(", ");
            }
            out.push('?');
            out.push_str(&(r * width + c).to_string());
        }
        out.push(')');
    }
    out
}

/// The connection a transaction's statements run on.
#[derive(Clone, Copy)]
pub enum Conn<'c> {
    Lite(&'c rusqlite::Connection),
    Pg(&'c RefCell<dyn PgRun + 'c>),
}

/// A statement in SQLite's spelling, as PostgreSQL takes it: `?N` (and a bare
/// `?`, numbered as SQLite numbers it: one past the highest so far) becomes
/// `$N`, and `INDEXED BY name` goes. Text in quotes is left alone.
pub fn for_postgres(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') && !sql.contains("INDEXED BY") {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut highest = 0u32;
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((at, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => highest + 1,
                };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            'I' if sql[at..].starts_with("INDEXED BY ") => {
                // Skip the hint and the index's name.
                for _ in 0.."INDEXED BY ".len() - 1 {
                    chars.next();
                }
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl Conn<'_> {
    /// Whether the store is a PostgreSQL server: for the few statements the
    /// engines spell differently (locking the chain's head, `SKIP LOCKED`).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// The database's word on who writes through this connection, where the
    /// engine has one (a server); a SQLite file has none.
    pub fn session(&self) -> Option<DbSession> {
        match self {
            Conn::Lite(_) => None,
            Conn::Pg(p) => Some(p.borrow().session()),
        }
    }

    /// Reads the rows of a query one at a time until `f` breaks.
    pub fn each(
        &self,
        sql: &str,
        args: &[SqlValue],
        f: &mut dyn FnMut(&Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        match self {
            Conn::Lite(c) => {
                let mut stmt = c.prepare_cached(sql).map_err(from_sqlite)?;
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(args))
                    .map_err(from_sqlite)?;
                while let Some(r) = rows.next().map_err(from_sqlite)? {
                    if f(&Row::Lite(r))?.is_break() {
                        break;
                    }
                }
                Ok(())
            }
            Conn::Pg(p) => p.borrow_mut().each(sql, args, &mut |r| f(&Row::Pg(r))),
        }
    }

    /// Runs a query and reads each row with `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        args: &[SqlValue],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, args, &mut |r| {
            out.push(f(r)?);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    /// Runs a query and reads its first row with `f`, if it has one.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        args: &[SqlValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut first = None;
        // Every row is read (a statement's rows end it; for the one-row
        // statements this serves, there is no other), the first one kept.
        self.each(sql, args, &mut |r| {
            if let Some(f) = f.take() {
                first = Some(f(r)?);
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(first)
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one<T>(
        &self,
        sql: &str,
        args: &[SqlValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, args, f)?
            .ok_or_else(|| Error::store("the store returned no row where one was due"))
    }

    /// Inserts `values` into `table`, `columns.len()` to a row, a thousand
    /// rows to a statement; how many rows it wrote.
    pub fn insert_values(&self, table: &str, columns: &[&str], values: &[SqlValue]) -> Result<u64> {
        let width = columns.len();
        let mut n = 0;
        for chunk in values.chunks(BATCH_ROWS * width) {
            n += self.execute(
                &format!(
                    "INSERT INTO {table} ({}) VALUES {}",
                    columns.join(", "),
                    value_rows(chunk.len() / width, width)
                ),
                chunk,
            )?;
        }
        Ok(n)
    }

    /// Appends the rows `produce` makes to `table`; how many. `many` rows
    /// (thousands: a load, a copy) go to a server by one `COPY`, which takes
    /// them while the next ones are being made; otherwise, and to a file,
    /// they go by an `INSERT` per thousand rows.
    pub fn append_rows(
        &self,
        table: &str,
        columns: &[&str],
        many: bool,
        produce: &mut Produce,
    ) -> Result<u64> {
        if let (Conn::Pg(p), true) = (self, many) {
            return p.borrow_mut().copy_rows(table, columns, produce);
        }
        let mut batch = Vec::with_capacity(BATCH_ROWS.min(64) * columns.len());
        let mut n = 0;
        produce(&mut |row| {
            batch.extend_from_slice(row);
            if batch.len() >= BATCH_ROWS * columns.len() {
                n += self.insert_values(table, columns, &batch)?;
                batch.clear();
            }
            Ok(())
        })?;
        Ok(n + self.insert_values(table, columns, &batch)?)
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, args: &[SqlValue]) -> Result<u64> {
        match self {
            Conn::Lite(c) => c
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(args)))
                .map(|n| n as u64)
                .map_err(from_sqlite),
            Conn::Pg(p) => p.borrow_mut().execute(sql, args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(for_postgres("SELECT 1"), "SELECT 1");
        assert_eq!(
            for_postgres("SELECT a FROM t WHERE a = ?1 AND b = ?2 OR c = ?1"),
            "SELECT a FROM t WHERE a = $1 AND b = $2 OR c = $1"
        );
        assert_eq!(
            for_postgres("WHERE a = ? AND b = ? AND c = ?7 AND d = ?"),
            "WHERE a = $1 AND b = $2 AND c = $7 AND d = $8"
        );
        assert_eq!(
            for_postgres("WHERE a = '?' AND b LIKE ? ESCAPE '\\' AND \"c?\" = ?"),
            "WHERE a = '?' AND b LIKE $1 ESCAPE '\\' AND \"c?\" = $2"
        );
        assert_eq!(
            for_postgres("SELECT k.id FROM keys k INDEXED BY keys_listing WHERE k.id = ?1"),
            "SELECT k.id FROM keys k  WHERE k.id = $1"
        );
    }

    #[test]
    fn value_rows_number_each_rows_placeholders_on() {
        assert_eq!(value_rows(1, 1), "(?1)");
        assert_eq!(value_rows(2, 3), "(?1, ?2, ?3), (?4, ?5, ?6)");
        assert_eq!(value_rows(0, 3), "");
    }

    #[test]
    fn args_bind_integers_text_booleans_and_nulls() {
        let none: Option<&str> = None;
        let values = args![1i64, 2u32, "x", String::from("y"), true, none, Some(3i64)];
        assert_eq!(
            values,
            [
                SqlValue::Int(1),
                SqlValue::Int(2),
                SqlValue::Text("x".into()),
                SqlValue::Text("y".into()),
                SqlValue::Bool(true),
                SqlValue::Null,
                SqlValue::Int(3)
            ]
        );
    }
}
