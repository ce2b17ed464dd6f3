//! Delivery of the outbox and the expiry reminders (SPEC §5). Anyone who can
//! open the store may run them, as cron or a systemd timer does; what they write
//! names the login that ran them.
//!
//! A deliverer claims a few due messages at a time in a write transaction, so two
//! deliverers never send the same message; it sends them with no transaction
//! open, then records each attempt. A failed message is tried again after a
//! back-off that doubles up to six hours, for as long as it takes: nothing is
//! dropped. A claim lasts `LEASE`, so a deliverer that dies lets go of its
//! messages (which may then go out twice: delivery is at least once, and every
//! attempt carries the same Message-ID).

use super::{Actor, Service, notice, with_details};
use crate::domain::history::Action;
use crate::domain::model::Key;
use crate::domain::outbox::{OutboxCounts, OutboxMessage};
use crate::error::Result;
use crate::mail::{SendError, Transport};
use crate::store::outbox::AttemptResult;
use rand::Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Days before expiry at which admins and managers are reminded, soonest first.
pub const REMINDER_DAYS: [u32; 3] = [1, 7, 14];

/// How long a claimed message is held for its deliverer.
const LEASE_SECONDS: i64 = 15 * 60;
/// Messages claimed at once.
const BATCH: u32 = 20;
/// The first retry waits this long; each further one twice as long as the last,
/// up to `MAX_BACKOFF_SECONDS`.
const FIRST_BACKOFF_SECONDS: i64 = 60;
const MAX_BACKOFF_SECONDS: i64 = 6 * 3_600;

/// When to try a message again after its `attempts`-th attempt failed.
pub fn retry_at(now: i64, attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(20);
    now + (FIRST_BACKOFF_SECONDS << doublings).min(MAX_BACKOFF_SECONDS)
}

/// What one delivery run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages delivered.
    pub sent: u64,
    /// Messages tried and not delivered, with why.
    pub failures: Vec<Failure>,
    /// What waits in the outbox afterwards.
    pub left: OutboxCounts,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub id: i64,
    pub recipient_email: String,
    pub error: String,
    pub lasting: bool,
    pub retry_at: i64,
}

impl Service {
    /// Writes into the outbox a reminder for each active key whose expiry is
    /// 14, 7 or 1 days away or closer and that has not been reminded at that
    /// threshold for this expiry date: one message per admin and manager per
    /// threshold, listing its keys. A key first seen past several thresholds is
    /// reminded once, at the closest, and the others count as crossed. Answers
    /// how many keys were reminded.
    ///
    /// The check and the writes are one write transaction, and the reminders
    /// table's primary key refuses a second record, so processes running this at
    /// once never remind a key twice.
    pub fn queue_reminders(&mut self) -> Result<usize> {
        let now = self.now().timestamp();
        let horizon = now + i64::from(REMINDER_DAYS[REMINDER_DAYS.len() - 1]) * 86_400;
        self.store.write(|db| {
            let ids = db.keys_expiring_between(now, horizon)?;
            let mut due: BTreeMap<u32, Vec<Key>> = BTreeMap::new();
            for key in db.keys_by_ids(&ids, now)? {
                let Some(expires_at) = key.expires_at else {
                    continue;
                };
                let left = expires_at - now;
                let Some(threshold) = REMINDER_DAYS
                    .into_iter()
                    .find(|&days| left <= i64::from(days) * 86_400)
                else {
                    continue;
                };
                let fresh = db.record_reminder(key.id, threshold, expires_at, now)?;
                for later in REMINDER_DAYS.into_iter().filter(|&d| d > threshold) {
                    db.record_reminder(key.id, later, expires_at, now)?;
                }
                if fresh {
                    due.entry(threshold).or_default().push(key);
                }
            }
            let mut reminded = 0;
            for (threshold, keys) in &due {
                notice::enqueue_reminder(db, *threshold, keys, now)?;
                reminded += keys.len();
            }
            Ok(reminded)
        })
    }

    /// Sends every message that is due, through `transport`; with
    /// `ignore_backoff`, failed messages still waiting out their back-off too.
    /// Each attempt is recorded on its message; each delivery also in the
    /// credential history (`notification_sent`). After a failure that is about
    /// the server rather than the message (unreachable, a refused login, a bad
    /// configuration), the rest of the run is recorded as failed the same way
    /// without contacting it again, so a dead server costs one timeout.
    pub fn deliver(
        &mut self,
        transport: &mut dyn Transport,
        ignore_backoff: bool,
    ) -> Result<DeliveryReport> {
        let claim = format!("{:032x}", rand::rng().random::<u128>());
        let result = self.deliver_claimed(transport, ignore_backoff, &claim);
        if result.is_err() {
            // Let go of what this run still holds, so another can send it now.
            let _ = self.store.write(|db| db.release_claim(&claim));
        }
        let mut report = result?;
        report.left = self.store.read(|db| db.outbox_counts())?;
        Ok(report)
    }

    fn deliver_claimed(
        &mut self,
        transport: &mut dyn Transport,
        ignore_backoff: bool,
        claim: &str,
    ) -> Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        let mut after = 0;
        let mut server_down: Option<SendError> = None;
        loop {
            let now = self.now().timestamp();
            let batch = self.store.write(|db| {
                db.claim_due(
                    claim,
                    now,
                    now + LEASE_SECONDS,
                    after,
                    BATCH,
                    ignore_backoff,
                )
            })?;
            if batch.is_empty() {
                return Ok(report);
            }
            for message in batch {
                after = message.id;
                let sent = match &server_down {
                    Some(e) => Err(e.clone()),
                    None => {
                        let at = self.now().timestamp();
                        transport.send(&message, system_time(at))
                    }
                };
                let now = self.now().timestamp();
                let attempt = match sent {
                    Ok(()) => AttemptResult::Sent {
                        via: transport.via(),
                    },
                    Err(e) => {
                        if e.server_wide {
                            server_down = Some(e.clone());
                        }
                        let retry_at = retry_at(now, message.attempts + 1);
                        report.failures.push(Failure {
                            id: message.id,
                            recipient_email: message.recipient_email.clone(),
                            error: e.message.clone(),
                            lasting: e.lasting,
                            retry_at,
                        });
                        AttemptResult::Failed {
                            error: e.message,
                            lasting: e.lasting,
                            retry_at,
                        }
                    }
                };
                if self.record(&message, claim, now, &attempt)? {
                    if let AttemptResult::Sent { .. } = attempt {
                        report.sent += 1;
                    }
                }
            }
        }
    }

    /// Records one attempt, and a delivery in the credential history too.
    fn record(
        &mut self,
        message: &OutboxMessage,
        claim: &str,
        now: i64,
        attempt: &AttemptResult,
    ) -> Result<bool> {
        let origin = self.origin.clone();
        self.store.write(|db| {
            if !db.record_attempt(message.id, claim, now, attempt)? {
                return Ok(false);
            }
            let AttemptResult::Sent { via } = attempt else {
                return Ok(true);
            };
            let actor = Actor {
                operator: db.operator(&origin.login)?,
                origin,
            };
            let key = match message.key_ids.as_slice() {
                [one] => db.key(one, now)?,
                _ => None,
            };
            let record = match &key {
                Some(key) => actor.key_record(now, Action::NotificationSent, key),
                None => actor.record(now, Action::NotificationSent, None),
            };
            db.append_history(with_details(
                record,
                json!({
                    "message": message.id,
                    "event": message.event,
                    "keys": message.key_ids,
                    "to": message.recipient_email,
                    "recipient": message.recipient_login,
                    "via": via,
                    "attempts": message.attempts + 1,
                }),
            ))?;
            Ok(true)
        })
    }

    /// How many messages wait for delivery, pending and failed. Like delivery,
    /// open to any login that can open the store: a count says nothing secret.
    pub fn outbox_counts(&mut self) -> Result<OutboxCounts> {
        self.store.read(|db| db.outbox_counts())
    }
}

fn system_time(unix: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_a_minute_up_to_six_hours() {
        assert_eq!(retry_at(1_000, 1), 1_060);
        assert_eq!(retry_at(1_000, 2), 1_120);
        assert_eq!(retry_at(1_000, 3), 1_240);
        assert_eq!(retry_at(1_000, 9), 1_000 + 60 * 256);
        assert_eq!(retry_at(1_000, 10), 1_000 + 6 * 3_600);
        assert_eq!(retry_at(1_000, u32::MAX), 1_000 + 6 * 3_600);
    }
}
