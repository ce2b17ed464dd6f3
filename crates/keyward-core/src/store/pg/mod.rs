//! The PostgreSQL engine: a store shared by several bastion hosts (issue 15).
//! [`connect`] finds the server, [`schema`] holds every rule in it under
//! concurrent writers, and [`PgStore`] opens a store, creates its schema and
//! runs the store's statements ([`super::sql`]) in its transactions.

pub mod connect;
pub mod error;
pub mod schema;

use super::Db;
use super::sql::{Conn, PgRun, Produce, SqlValue, for_postgres};
use crate::domain::history::DbSession;
use crate::error::{Error, Result};
use connect::Target;
use postgres::{Client, IsolationLevel, Statement, Transaction};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Prepared statements kept per connection; past this many (filters make
/// new texts) the cache starts over.
const STATEMENT_CACHE: usize = 256;

/// An open PostgreSQL store: one connection, and what the server says of it.
pub struct PgStore {
    client: Client,
    target: Target,
    /// This connection's session, as the server stamps history rows with it.
    session: DbSession,
    statements: HashMap<String, Statement>,
    /// A cancel was asked for (see [`PgCancel`]) and no statement has been
    /// stopped by it yet.
    cancel_pending: Arc<AtomicBool>,
    /// What signals this session's server process, shared by every handle.
    signaller: Arc<Signaller>,
}

/// Stops the statement a [`PgStore`] is running, from another thread.
///
/// PostgreSQL's cancel stops whatever the session runs when the server gets
/// to it, not a given statement: one sent as a statement ends lands on the
/// next (the screen's reload after a revocation, which then said it failed).
/// So a cancel is made synchronous: `pg_cancel_backend` on a connection of
/// the handle's own has signalled the session when it returns, and a session
/// that is waiting for its next command ignores the signal. Where that
/// connection cannot be had, the protocol's cancel request goes instead,
/// which the server acts on later: the store notes it, and one no statement
/// was stopped by is drawn out by a moment's sleep before the next
/// transaction.
#[derive(Clone)]
pub struct PgCancel {
    token: postgres::CancelToken,
    pending: Arc<AtomicBool>,
    signaller: Arc<Signaller>,
}

/// What sends `pg_cancel_backend` for a session: the session's server
/// process (`pg_backend_pid()`), where it is, and a connection of its own,
/// made at the first cancel.
struct Signaller {
    pid: i32,
    target: Target,
    client: std::sync::Mutex<Option<Client>>,
}

impl PgCancel {
    pub fn cancel(&self) {
        if self.signal().is_ok() {
            return;
        }
        self.pending.store(true, Ordering::SeqCst);
        // Reaching the server to cancel can fail; the statement then runs to
        // its end, which is only slower.
        let _ = self.token.cancel_query(postgres::NoTls);
    }

    /// Signals the session through `pg_cancel_backend`, returning once the
    /// server has; a connection that failed is dropped, to be made anew.
    fn signal(&self) -> Result<()> {
        let Signaller {
            pid,
            target,
            client,
        } = &*self.signaller;
        let mut client = client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let connected = match &mut *client {
            Some(connected) => connected,
            empty => empty.insert(target.connect()?),
        };
        match connected.execute("SELECT pg_cancel_backend($1)", &[pid]) {
            Ok(_) => Ok(()),
            Err(e) => {
                *client = None;
                Err(error::from_postgres(&e, target))
            }
        }
    }
}

/// How long a cancel that stopped nothing is given to arrive: the server has
/// had it since [`PgCancel::cancel`] returned and signals the session at once.
const STRAY_CANCEL_WAIT: &str = "SELECT pg_sleep(0.1)";

impl PgStore {
    /// Whether keyward's schema is in the database at `target`.
    pub fn presence(target: &Target) -> Result<crate::access::Presence> {
        let mut client = target.connect()?;
        let found = read_version(&mut client).map_err(|e| error::from_postgres(&e, target))?;
        Ok(match found {
            Some(_) => crate::access::Presence::Present,
            None => crate::access::Presence::Missing,
        })
    }

    /// Opens the store at `target`, refusing a database without keyward's
    /// schema or with a newer one than this build knows.
    pub fn open(target: &Target) -> Result<PgStore> {
        let mut store = PgStore::connect(target)?;
        match store.version()? {
            None => Err(Error::store(format!(
                "no keyward store in {}; create one with `keyward init --db {} --name NAME --email EMAIL`",
                target.shown(),
                target.shown()
            ))),
            Some(v) if v > schema::latest_version() => Err(newer(target, v)),
            Some(v) if v < schema::latest_version() => {
                // Brought up to date on its first open by this build, which
                // only the role owning the schema may do.
                store.migrate(false, |_| Ok(())).map_err(|e| {
                    let cause = match &e {
                        Error::Store { cause, .. } => *cause,
                        _ => crate::error::StoreCause::Other,
                    };
                    Error::store_because(
                        cause,
                        format!(
                            "{e}; the store at {} has schema version {v}, which this keyward brings to {} on its first open: run any keyward command once as the role that owns the store (the one that ran `keyward init`)",
                            target.shown(),
                            schema::latest_version()
                        ),
                    )
                })?;
                Ok(store)
            }
            Some(_) => Ok(store),
        }
    }

    #[cfg(any(test, feature = "internals"))]
    /// Creates keyward's schema in the database at `target`, as the role
    /// that will own it.
    pub fn create(target: &Target) -> Result<PgStore> {
        PgStore::create_with(target, |_| Ok(()))
    }

    /// Creates keyward's schema and the first rows `seed` writes (the first
    /// admin) in one transaction: a failure anywhere leaves the database as
    /// it was. A database that already holds a store is refused, even one
    /// another `init` made at the same moment.
    pub fn create_with(target: &Target, seed: impl FnOnce(&Db) -> Result<()>) -> Result<PgStore> {
        let mut store = PgStore::connect(target)?;
        store.migrate(true, seed)?;
        Ok(store)
    }

    fn connect(target: &Target) -> Result<PgStore> {
        let mut client = target.connect()?;
        let fail = |e: postgres::Error| error::from_postgres(&e, target);
        let row = client
            .query_one(
                "SELECT session_user::text, host(inet_client_addr()), pg_backend_pid()",
                &[],
            )
            .map_err(fail)?;
        let session = DbSession {
            user: row.try_get(0).map_err(fail)?,
            client: row.try_get(1).map_err(fail)?,
        };
        let pid = row.try_get(2).map_err(fail)?;
        // Every statement names keyward's objects unqualified; a lock held
        // past this long by another writer is reported, not waited out.
        client
            .batch_execute("SET search_path = keyward, pg_catalog; SET lock_timeout = '5s'")
            .map_err(fail)?;
        Ok(PgStore {
            client,
            target: target.clone(),
            session,
            statements: HashMap::new(),
            cancel_pending: Arc::default(),
            signaller: Arc::new(Signaller {
                pid,
                target: target.clone(),
                client: std::sync::Mutex::new(None),
            }),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    #[cfg(any(test, feature = "internals"))]
    /// The session the server stamps this connection's history rows with.
    pub fn session(&self) -> &DbSession {
        &self.session
    }

    /// Stops the statement this connection runs, from another thread.
    pub fn cancel_handle(&self) -> PgCancel {
        PgCancel {
            token: self.client.cancel_token(),
            pending: self.cancel_pending.clone(),
            signaller: self.signaller.clone(),
        }
    }

    /// Before a transaction: a cancel asked for that stopped no statement
    /// stops this sleep instead of the transaction's first statement.
    fn absorb_stray_cancel(&mut self) {
        if self.cancel_pending.swap(false, Ordering::SeqCst) {
            // Stopped or not, the sleep has done its work.
            let _ = self.client.batch_execute(STRAY_CANCEL_WAIT);
        }
    }

    /// After a transaction: one stopped by a cancel used the cancel up.
    fn note_cancel<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(Error::Store {
            cause: crate::error::StoreCause::Cancelled,
            ..
        }) = &result
        {
            self.cancel_pending.store(false, Ordering::SeqCst);
        }
        result
    }

    /// The chain head's sequence number: it moves with every change another
    /// host makes (each writes a history row), so a screen polling it knows
    /// when to reload.
    pub fn data_version(&mut self) -> Result<i64> {
        let target = &self.target;
        self.client
            .query_one("SELECT seq FROM history_head", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| error::from_postgres(&e, target))
    }

    /// How long a statement waits for another writer's lock before it fails.
    pub fn set_lock_timeout(&mut self, timeout: Duration) -> Result<()> {
        let ms = timeout.as_millis().max(1);
        let target = &self.target;
        self.client
            .batch_execute(&format!("SET lock_timeout = {ms}"))
            .map_err(|e| error::from_postgres(&e, target))
    }

    /// The schema version, or `None` where keyward's schema is not.
    fn version(&mut self) -> Result<Option<i64>> {
        let target = &self.target;
        read_version(&mut self.client).map_err(|e| error::from_postgres(&e, target))
    }

    /// Brings the schema up to this build's version and runs `seed`, in one
    /// transaction; concurrent migrations queue on an advisory lock and the
    /// later ones find the work done. `fresh` (`init`) refuses a schema
    /// already there, even one another `init` made while this one waited.
    fn migrate(&mut self, fresh: bool, seed: impl FnOnce(&Db) -> Result<()>) -> Result<()> {
        let target = self.target.clone();
        let fail = |e: postgres::Error| error::from_postgres(&e, &target);
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )
        .map_err(fail)?;
        let current = read_version(&mut tx).map_err(fail)?;
        if fresh && current.is_some() {
            return Err(Error::conflict(format!(
                "a store already exists at {}",
                target.shown()
            )));
        }
        let current = current.unwrap_or(0);
        if current > schema::latest_version() {
            return Err(newer(&target, current));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(sql).map_err(fail)?;
            let next = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.execute("UPDATE keyward.schema_version SET version = $1", &[&next])
                .map_err(fail)?;
        }
        let conn = RefCell::new(PgConn {
            tx,
            statements: &mut self.statements,
            target: &target,
            session: &self.session,
        });
        seed(&Db::new(Conn::Pg(&conn)))?;
        conn.into_inner()
            .tx
            .commit()
            .map_err(|e| error::at_commit(&e, &target))
    }

    /// Runs `f` in a read-only transaction on one snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.absorb_stray_cancel();
        let result = self.read_now(f);
        self.note_cancel(result)
    }

    fn read_now<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let target = &self.target;
        let tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| error::from_postgres(&e, target))?;
        run(tx, &mut self.statements, target, &self.session, f)
    }

    /// Runs `f` in a write transaction that first takes the store's write
    /// lock — the chain's head, which every change locks to append its
    /// history row — as SQLite's `BEGIN IMMEDIATE` does: what `f` reads is
    /// what was committed before it, and no other keyward writer changes it
    /// until this one ends. Writers queue rather than deadlock on each
    /// other's rows (the service reads a key, then changes it, then appends),
    /// and a reading-then-writing change never acts on a status another host
    /// changed in between. The schema's triggers still hold each rule for
    /// any other writer. It commits only if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.absorb_stray_cancel();
        let result = self.write_now(f);
        self.note_cancel(result)
    }

    fn write_now<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let target = &self.target;
        let fail = |e: postgres::Error| error::from_postgres(&e, target);
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute("SELECT 1 FROM history_head_lock()", &[])
            .map_err(fail)?;
        run(tx, &mut self.statements, target, &self.session, f)
    }

    #[cfg(any(test, feature = "internals"))]
    /// The connection, for the tests that act behind the store's back.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Runs `f` on `tx` and commits if it succeeds; a failure rolls back.
fn run<T>(
    tx: Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    target: &Target,
    session: &DbSession,
    f: impl FnOnce(&Db) -> Result<T>,
) -> Result<T> {
    let conn = RefCell::new(PgConn {
        tx,
        statements,
        target,
        session,
    });
    let value = f(&Db::new(Conn::Pg(&conn)))?;
    conn.into_inner()
        .tx
        .commit()
        .map_err(|e| error::at_commit(&e, target))?;
    Ok(value)
}

fn read_version(client: &mut impl postgres::GenericClient) -> Result<Option<i64>, postgres::Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('keyward.schema_version') IS NOT NULL",
            &[],
        )?
        .try_get(0)?;
    if !exists {
        return Ok(None);
    }
    let version: i32 = client
        .query_one("SELECT version FROM keyward.schema_version", &[])?
        .try_get(0)?;
    Ok(Some(i64::from(version)))
}

/// A transaction's statements, translated and prepared once per connection.
struct PgConn<'t> {
    tx: Transaction<'t>,
    statements: &'t mut HashMap<String, Statement>,
    target: &'t Target,
    session: &'t DbSession,
}

impl PgConn<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self
            .tx
            .prepare(&for_postgres(sql))
            .map_err(|e| error::from_postgres(&e, self.target))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

fn bound(args: &[SqlValue]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    args.iter()
        .map(|a| a as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl PgRun for PgConn<'_> {
    fn each(
        &mut self,
        sql: &str,
        args: &[SqlValue],
        f: &mut dyn FnMut(&postgres::Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let statement = self.statement(sql)?;
        let target = self.target;
        let mut rows = self
            .tx
            .query_raw(&statement, bound(args))
            .map_err(|e| error::from_postgres(&e, target))?;
        while let Some(row) = rows.next().map_err(|e| error::from_postgres(&e, target))? {
            if f(&row)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, args: &[SqlValue]) -> Result<u64> {
        let statement = self.statement(sql)?;
        self.tx
            .execute(&statement, &bound(args))
            .map_err(|e| error::from_postgres(&e, self.target))
    }

    fn copy_rows(&mut self, table: &str, columns: &[&str], produce: &mut Produce) -> Result<u64> {
        use postgres::binary_copy::BinaryCopyInWriter;
        let columns = columns.join(", ");
        // The columns' types, as the binary format needs them: from a
        // statement that reads them (prepared once, like any other).
        let types: Vec<postgres::types::Type> = self
            .statement(&format!("SELECT {columns} FROM {table} LIMIT 0"))?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let target = self.target;
        let fail = |e: postgres::Error| error::from_postgres(&e, target);
        let sink = self
            .tx
            .copy_in(&format!(
                "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .map_err(fail)?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        produce(&mut |row| writer.write(&bound(row)).map_err(fail))?;
        writer.finish().map_err(fail)
    }

    fn session(&self) -> DbSession {
        self.session.clone()
    }
}

/// Listens for history appends on `target` (each sends `pg_notify` with its
/// sequence number) and calls `changed` for each batch of them, on a thread
/// of its own with a connection of its own, until `changed` returns false. A
/// lost connection is made again, after 1, 2, 4 … up to 30 seconds; a
/// notification missed meanwhile is the poll's to notice.
pub fn watch(
    target: &Target,
    mut changed: impl FnMut() -> bool + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use postgres::fallible_iterator::FallibleIterator;
    let target = target.clone();
    std::thread::Builder::new()
        .name("keyward-listen".into())
        .spawn(move || {
            let mut wait = Duration::from_secs(1);
            loop {
                let listening = target.connect().and_then(|mut client| {
                    client
                        .batch_execute("LISTEN keyward_history")
                        .map_err(|e| error::from_postgres(&e, &target))?;
                    Ok(client)
                });
                if let Ok(mut client) = listening {
                    wait = Duration::from_secs(1);
                    loop {
                        // Wakes at least every few seconds to see whether
                        // the screen is still there.
                        let next = client
                            .notifications()
                            .timeout_iter(Duration::from_secs(5))
                            .next();
                        match next {
                            Ok(Some(_)) => {
                                // The rest of a burst is one change to show.
                                while let Ok(Some(_)) = client.notifications().iter().next() {}
                                if !changed() {
                                    return;
                                }
                            }
                            Ok(None) => {
                                if client.is_closed() {
                                    break;
                                }
                                // Nothing arrived: still wanted?
                                if client.simple_query("SELECT 1").is_err() {
                                    break;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        })
}

fn newer(target: &Target, version: i64) -> Error {
    Error::store(format!(
        "the store at {} has schema version {version}, newer than this keyward knows ({}); upgrade keyward",
        target.shown(),
        schema::latest_version()
    ))
}
