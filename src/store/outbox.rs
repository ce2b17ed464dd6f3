//! The notification outbox: messages written in the same transaction as the
//! change they announce, so none is lost; delivery reads them from here.

use super::{Db, from_sqlite};
use crate::error::Result;
use rusqlite::params;

/// A message to be delivered to one operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: i64,
    /// `created`, `renewed`, `deactivated` or `deleted`.
    pub event: String,
    /// Public ids of the keys the message is about.
    pub key_ids: Vec<String>,
    pub recipient_login: String,
    pub recipient_name: String,
    pub recipient_email: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

impl Db<'_> {
    pub fn enqueue(&self, m: &OutboxMessage) -> Result<()> {
        let key_ids = serde_json::to_string(&m.key_ids).unwrap_or_else(|_| "[]".to_owned());
        self.conn()
            .prepare_cached(
                "INSERT INTO outbox (created_at, event, key_ids, recipient_login, recipient_name,
                    recipient_email, subject, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    m.created_at,
                    m.event,
                    key_ids,
                    m.recipient_login,
                    m.recipient_name,
                    m.recipient_email,
                    m.subject,
                    m.body
                ])
            })
            .map_err(from_sqlite)?;
        Ok(())
    }

    /// The outbox, oldest first; only messages not yet sent when `pending_only`.
    pub fn outbox(&self, pending_only: bool) -> Result<Vec<OutboxMessage>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, created_at, event, key_ids, recipient_login, recipient_name,
                    recipient_email, subject, body, status, attempts, last_error, sent_at
                 FROM outbox WHERE (?1 = 0 OR status <> 'sent') ORDER BY id",
            )
            .map_err(from_sqlite)?;
        let rows = stmt
            .query_map([pending_only], |r| {
                let key_ids: String = r.get(3)?;
                Ok(OutboxMessage {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    event: r.get(2)?,
                    key_ids: serde_json::from_str(&key_ids).unwrap_or_default(),
                    recipient_login: r.get(4)?,
                    recipient_name: r.get(5)?,
                    recipient_email: r.get(6)?,
                    subject: r.get(7)?,
                    body: r.get(8)?,
                    status: r.get(9)?,
                    attempts: r.get(10)?,
                    last_error: r.get(11)?,
                    sent_at: r.get(12)?,
                })
            })
            .map_err(from_sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(from_sqlite)
    }
}
