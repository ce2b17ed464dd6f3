//! The PostgreSQL engine: a store shared by several bastion hosts (issue 15).
//! [`connect`] finds the server, [`schema`] holds every rule in it under
//! concurrent writers, and [`PgStore`] opens a store, creates its schema and
//! appends to its history chain.

pub mod connect;
pub mod error;
pub mod schema;

use crate::domain::history::{DbSession, HistoryRecord};
use crate::error::{Error, Result};
use crate::store::history::ChainHead;
use connect::Target;
use postgres::{Client, Transaction};

/// An open PostgreSQL store: one connection, and what the server says of it.
pub struct PgStore {
    client: Client,
    target: Target,
    /// This connection's session, as the server stamps history rows with it.
    session: DbSession,
}

impl PgStore {
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
                store.migrate(false)?;
                Ok(store)
            }
            Some(_) => Ok(store),
        }
    }

    /// Creates keyward's schema in the database at `target`, as the role
    /// that will own it: every migration in one transaction. A database that
    /// already holds a store is refused.
    pub fn create(target: &Target) -> Result<PgStore> {
        let mut store = PgStore::connect(target)?;
        if store.version()?.is_some() {
            return Err(Error::conflict(format!(
                "a store already exists at {}",
                target.shown()
            )));
        }
        store.migrate(true)?;
        Ok(store)
    }

    fn connect(target: &Target) -> Result<PgStore> {
        let mut client = target.connect()?;
        let row = client
            .query_one("SELECT session_user::text, host(inet_client_addr())", &[])
            .map_err(|e| error::from_postgres(&e, target))?;
        let session = DbSession {
            user: row.get(0),
            client: row.get(1),
        };
        // Every statement names keyward's objects unqualified.
        client
            .batch_execute("SET search_path = keyward, pg_catalog")
            .map_err(|e| error::from_postgres(&e, target))?;
        Ok(PgStore {
            client,
            target: target.clone(),
            session,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The session the server stamps this connection's history rows with.
    pub fn session(&self) -> &DbSession {
        &self.session
    }

    /// The schema version, or `None` where keyward's schema is not.
    fn version(&mut self) -> Result<Option<i64>> {
        let target = self.target.clone();
        let fail = |e: postgres::Error| error::from_postgres(&e, &target);
        let exists: bool = self
            .client
            .query_one(
                "SELECT to_regclass('keyward.schema_version') IS NOT NULL",
                &[],
            )
            .map_err(fail)?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let version: i32 = self
            .client
            .query_one("SELECT version FROM keyward.schema_version", &[])
            .map_err(fail)?
            .get(0);
        Ok(Some(i64::from(version)))
    }

    /// Brings the schema up to this build's version in one transaction;
    /// concurrent migrations queue on an advisory lock and the later ones
    /// find the work done. `fresh` (`init`) refuses a schema already there,
    /// even one another `init` made while this one waited.
    fn migrate(&mut self, fresh: bool) -> Result<()> {
        let target = self.target.clone();
        let fail = |e: postgres::Error| error::from_postgres(&e, &target);
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )
        .map_err(fail)?;
        let exists: bool = tx
            .query_one(
                "SELECT to_regclass('keyward.schema_version') IS NOT NULL",
                &[],
            )
            .map_err(fail)?
            .get(0);
        if fresh && exists {
            return Err(Error::conflict(format!(
                "a store already exists at {}",
                target.shown()
            )));
        }
        let current = if exists {
            let v: i32 = tx
                .query_one("SELECT version FROM keyward.schema_version", &[])
                .map_err(fail)?
                .get(0);
            i64::from(v)
        } else {
            0
        };
        if current > schema::latest_version() {
            return Err(newer(&target, current));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(sql).map_err(fail)?;
            let next = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.execute("UPDATE keyward.schema_version SET version = $1", &[&next])
                .map_err(fail)?;
        }
        tx.commit().map_err(|e| error::at_commit(&e, &target))
    }

    /// Runs `f` in a transaction (READ COMMITTED: the schema's triggers take
    /// the locks their rules need); it commits only if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut PgTx<'_, '_>) -> Result<T>) -> Result<T> {
        let target = self.target.clone();
        let fail = |e: postgres::Error| error::from_postgres(&e, &target);
        let tx = self.client.transaction().map_err(fail)?;
        let mut db = PgTx {
            tx,
            target: &target,
            session: &self.session,
        };
        let value = f(&mut db)?;
        db.tx.commit().map_err(|e| error::at_commit(&e, &target))?;
        Ok(value)
    }

    /// The connection, for the statements the store has not grown a method for yet.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// A transaction on a PostgreSQL store.
pub struct PgTx<'c, 'a> {
    tx: Transaction<'c>,
    target: &'a Target,
    session: &'a DbSession,
}

impl<'c> PgTx<'c, '_> {
    /// The keyward error a statement's failure means.
    pub fn fail(&self, e: postgres::Error) -> Error {
        error::from_postgres(&e, self.target)
    }

    /// The transaction, for the statements the store has not grown a method for yet.
    pub fn transaction(&mut self) -> &mut Transaction<'c> {
        &mut self.tx
    }

    /// Appends `record` at the end of the history chain: locks the chain's
    /// head for the rest of this transaction, stamps the row with this
    /// session as the server knows it, hashes it after the head and inserts
    /// it; the schema's trigger checks the sequence and the stamp and moves
    /// the head on. Concurrent appenders queue on the head, so the chain never
    /// forks and the sequence has no gap.
    pub fn append_history(&mut self, mut record: HistoryRecord) -> Result<ChainHead> {
        let head = self
            .tx
            .query_one("SELECT seq, hash FROM history_head_lock()", &[])
            .map_err(|e| error::from_postgres(&e, self.target))?;
        let head = ChainHead {
            seq: head.get(0),
            hash: head.get(1),
        };
        record.seq = head.seq + 1;
        record.origin.db_session = Some(self.session.clone());
        let hash = record.chain_hash(&head.hash);
        let o = &record.origin;
        let db = o.db_session.as_ref();
        self.tx
            .execute(
                "INSERT INTO history (seq, at, action, key_id, masked, subject, operator, email,
                    login, host, sudo_user, ssh_client, tty, details, db_user, db_client, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                &[
                    &record.seq,
                    &record.at,
                    &record.action,
                    &record.key,
                    &record.masked,
                    &record.subject,
                    &record.operator,
                    &record.email,
                    &o.login,
                    &o.host,
                    &o.sudo_user,
                    &o.ssh_client,
                    &o.tty,
                    &record.details,
                    &db.map(|d| d.user.as_str()),
                    &db.and_then(|d| d.client.as_deref()),
                    &hash,
                ],
            )
            .map_err(|e| error::from_postgres(&e, self.target))?;
        Ok(ChainHead {
            seq: record.seq,
            hash,
        })
    }
}

fn newer(target: &Target, version: i64) -> Error {
    Error::store(format!(
        "the store at {} has schema version {version}, newer than this keyward knows ({}); upgrade keyward",
        target.shown(),
        schema::latest_version()
    ))
}
