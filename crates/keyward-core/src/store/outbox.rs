//! The notification outbox: messages written in the same transaction as the
//! change they announce, so none is lost; delivery claims them from here, and
//! records each attempt on the message. Expiry reminders are recorded per key,
//! threshold and expiry date, so each is written once however often it is asked for.

use super::Db;
use super::sql::{Row, args};
use crate::domain::outbox::{OutboxCounts, OutboxMessage};
use crate::error::Result;

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Not delivered yet: never tried, or the last try failed for a passing
    /// reason (the server was down or answered 4xx). Retried.
    Pending,
    /// Delivered.
    Sent,
    /// The last try failed for a lasting reason (a 5xx answer, a refused
    /// login, a bad configuration); retried all the same, but an admin should look.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// Delivered, by the way named (`smtp mail.example.org:587`, `sendmail`).
    Sent { via: String },
    /// Not delivered; `lasting` when retrying alone will not help.
    Failed {
        error: String,
        lasting: bool,
        retry_at: i64,
    },
}

const OUTBOX_SELECT: &str =
    "SELECT id, created_at, event, key_ids, recipient_login, recipient_name,
    recipient_email, subject, body, status, attempts, last_error, sent_at, next_attempt_at,
    last_attempt_at, via
 FROM outbox";

impl OutboxMessage {
    /// A new message for the outbox.
    pub fn new(
        created_at: i64,
        event: &str,
        key_ids: Vec<String>,
        recipient: &crate::domain::model::Operator,
        subject: String,
        body: String,
    ) -> OutboxMessage {
        OutboxMessage {
            id: 0,
            created_at,
            event: event.to_owned(),
            key_ids,
            recipient_login: recipient.login.clone(),
            recipient_name: recipient.name.clone(),
            recipient_email: recipient.email.clone(),
            subject,
            body,
            status: OutboxStatus::Pending.as_str().to_owned(),
            attempts: 0,
            last_error: None,
            sent_at: None,
            next_attempt_at: created_at,
            last_attempt_at: None,
            via: None,
        }
    }
}

fn message_from(r: &Row) -> Result<OutboxMessage> {
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
        next_attempt_at: r.get(13)?,
        last_attempt_at: r.get(14)?,
        via: r.get(15)?,
    })
}

impl Db<'_> {
    pub fn enqueue(&self, m: &OutboxMessage) -> Result<()> {
        let key_ids = serde_json::to_string(&m.key_ids).unwrap_or_else(|_| "[]".to_owned());
        self.sql().execute(
            "INSERT INTO outbox (created_at, event, key_ids, recipient_login, recipient_name,
                recipient_email, subject, body, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1)",
            &args![
                m.created_at,
                m.event,
                key_ids,
                m.recipient_login,
                m.recipient_name,
                m.recipient_email,
                m.subject,
                m.body
            ],
        )?;
        Ok(())
    }

    /// The outbox, oldest first; only messages not yet sent when `pending_only`.
    pub fn outbox(&self, pending_only: bool) -> Result<Vec<OutboxMessage>> {
        self.sql().query(
            &format!("{OUTBOX_SELECT} WHERE (NOT ?1 OR status <> 'sent') ORDER BY id"),
            &args![pending_only],
            message_from,
        )
    }

    /// One message by id.
    pub fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>> {
        self.sql().query_opt(
            &format!("{OUTBOX_SELECT} WHERE id = ?1"),
            &args![id],
            message_from,
        )
    }

    /// Messages not yet sent, pending and failed.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.sql().query_one(
            "SELECT COUNT(*) FILTER (WHERE status = 'pending'),
                    COUNT(*) FILTER (WHERE status = 'failed')
             FROM outbox WHERE status IN ('pending', 'failed')",
            &[],
            |r| {
                Ok(OutboxCounts {
                    pending: r.get(0)?,
                    failed: r.get(1)?,
                })
            },
        )
    }

    /// Claims up to `limit` messages that are due at `now` and not held by another
    /// deliverer, with ids above `after`, until `until`; `ignore_backoff` takes
    /// failed messages whose back-off has not run out too. Run inside a write
    /// transaction, so two deliverers never claim the same message: SQLite has
    /// one writer at a time; on a server, a deliverer passes over the messages
    /// another is claiming (`SKIP LOCKED`), and the claim is checked again on
    /// the row it changes.
    pub fn claim_due(
        &self,
        claim: &str,
        now: i64,
        until: i64,
        after: i64,
        limit: u32,
        ignore_backoff: bool,
    ) -> Result<Vec<OutboxMessage>> {
        let skip_locked = if self.sql().is_postgres() {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // The batch is chosen once (MATERIALIZED): PostgreSQL may otherwise
        // run `id IN (… LIMIT n FOR UPDATE SKIP LOCKED)` again for each row
        // it updates, each run passing over the rows this statement has
        // just claimed and reaching further, so one claim took every due
        // message and a second deliverer found none.
        self.sql().execute(
            &format!(
                "WITH batch AS MATERIALIZED (
                     SELECT id FROM outbox
                     WHERE status IN ('pending', 'failed') AND id > ?3
                       AND (?4 OR next_attempt_at <= ?5)
                       AND (claimed_until IS NULL OR claimed_until <= ?5)
                     ORDER BY id LIMIT ?6 {skip_locked})
                 UPDATE outbox SET claim = ?1, claimed_until = ?2
                 WHERE id IN (SELECT id FROM batch)
                   AND status IN ('pending', 'failed')
                   AND (claimed_until IS NULL OR claimed_until <= ?5)"
            ),
            &args![claim, until, after, ignore_backoff, now, limit],
        )?;
        self.sql().query(
            &format!("{OUTBOX_SELECT} WHERE claim = ?1 ORDER BY id"),
            &args![claim],
            message_from,
        )
    }

    /// Records an attempt on a message this deliverer claimed, and lets go of it.
    /// False when the claim was lost (it ran out and another deliverer took the
    /// message), in which case nothing is written.
    pub fn record_attempt(
        &self,
        id: i64,
        claim: &str,
        now: i64,
        result: &AttemptResult,
    ) -> Result<bool> {
        let changed = match result {
            AttemptResult::Sent { via } => self.sql().execute(
                "UPDATE outbox SET status = ?5, sent_at = ?3, last_attempt_at = ?3,
                    attempts = attempts + 1, last_error = NULL, via = ?4,
                    claim = NULL, claimed_until = NULL
                 WHERE id = ?1 AND claim = ?2",
                &args![id, claim, now, via, OutboxStatus::Sent.as_str()],
            ),
            AttemptResult::Failed {
                error,
                lasting,
                retry_at,
            } => {
                let status = if *lasting {
                    OutboxStatus::Failed
                } else {
                    OutboxStatus::Pending
                };
                self.sql().execute(
                    "UPDATE outbox SET status = ?3, last_attempt_at = ?4, attempts = attempts + 1,
                        last_error = ?5, next_attempt_at = ?6, claim = NULL, claimed_until = NULL
                     WHERE id = ?1 AND claim = ?2",
                    &args![id, claim, status.as_str(), now, error, retry_at],
                )
            }
        }?;
        Ok(changed == 1)
    }

    /// Lets go of every message still held under `claim`, untried (a deliverer
    /// that stops early).
    pub fn release_claim(&self, claim: &str) -> Result<()> {
        self.sql().execute(
            "UPDATE outbox SET claim = NULL, claimed_until = NULL WHERE claim = ?1",
            &args![claim],
        )?;
        Ok(())
    }

    /// Row ids of active keys whose expiry falls in `(now, until]`, soonest first.
    pub fn keys_expiring_between(&self, now: i64, until: i64) -> Result<Vec<i64>> {
        self.sql().query(
            "SELECT id FROM keys
             WHERE status = 'active' AND expires_at > ?1 AND expires_at <= ?2
             ORDER BY expires_at, id",
            &args![now, until],
            |r| r.get(0),
        )
    }

    /// Records that the key was reminded at `threshold_days` before `expires_at`;
    /// false when it already was.
    pub fn record_reminder(
        &self,
        key_id: i64,
        threshold_days: u32,
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        let n = self.sql().execute(
            "INSERT INTO reminders (key_id, threshold_days, expires_at, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            &args![key_id, threshold_days, expires_at, now],
        )?;
        Ok(n == 1)
    }

    /// Whether the key was already reminded at `threshold_days` before `expires_at`.
    pub fn reminded(&self, key_id: i64, threshold_days: u32, expires_at: i64) -> Result<bool> {
        Ok(self
            .sql()
            .query_opt(
                "SELECT 1 FROM reminders WHERE key_id = ?1 AND threshold_days = ?2 AND expires_at = ?3",
                &args![key_id, threshold_days, expires_at],
                |_| Ok(()),
            )?
            .is_some())
    }
}
