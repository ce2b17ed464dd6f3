//! Verification of a presented key: the checksum, the record, the Argon2id
//! hash (outside any lock), the status; then use is counted or the failure
//! recorded in the credential history.

use super::{Actor, Service, secret, with_details};
use crate::domain::KeyToken;
use crate::domain::history::{Action, HistoryRecord};
use crate::domain::model::{Key, KeyStatus};
use crate::error::Result;
use serde_json::json;

/// Why a key is not valid; the names are the `reason` of `keyward verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFailure {
    Malformed,
    NotFound,
    Mismatch,
    Expired,
    Deactivated,
    Deleted,
}

impl VerifyFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyFailure::Malformed => "malformed",
            VerifyFailure::NotFound => "not_found",
            VerifyFailure::Mismatch => "mismatch",
            VerifyFailure::Expired => "expired",
            VerifyFailure::Deactivated => "deactivated",
            VerifyFailure::Deleted => "deleted",
        }
    }

    fn of_status(status: KeyStatus) -> Option<VerifyFailure> {
        match status {
            KeyStatus::Active => None,
            KeyStatus::Expired => Some(VerifyFailure::Expired),
            KeyStatus::Deactivated => Some(VerifyFailure::Deactivated),
            KeyStatus::Deleted => Some(VerifyFailure::Deleted),
        }
    }
}

/// The answer of verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid(Box<Key>),
    Invalid(VerifyFailure),
}

impl Service {
    /// Verifies a key that has passed its checksum. Any login that can open the
    /// store may verify: integrations and scripts call this.
    pub fn verify(&mut self, token: &KeyToken) -> Result<Verdict> {
        let public_id = token.public_id();
        let now = self.now().timestamp();
        let found = self
            .store
            .read(|db| match db.key(public_id.as_str(), now)? {
                Some(key) => {
                    let secrets = db.key_secrets(key.id)?;
                    Ok(Some((key, secrets)))
                }
                None => Ok(None),
            })?;
        let verdict = match found {
            None => Verdict::Invalid(VerifyFailure::NotFound),
            Some((key, secrets)) => {
                let current = secret::matches(token, &secrets.secret_hash);
                let in_grace = !current
                    && secrets.grace_until.is_some_and(|until| until > now)
                    && secrets
                        .grace_hash
                        .as_deref()
                        .is_some_and(|h| secret::matches(token, h));
                if !current && !in_grace {
                    Verdict::Invalid(VerifyFailure::Mismatch)
                } else {
                    match VerifyFailure::of_status(key.status) {
                        Some(failure) => Verdict::Invalid(failure),
                        None => Verdict::Valid(Box::new(key)),
                    }
                }
            }
        };

        let origin = self.origin.clone();
        self.store.write(|db| {
            let actor = Actor {
                operator: db.operator(&origin.login)?,
                origin,
            };
            let verdict = match verdict {
                // The key may have been deactivated while its hash was computed.
                Verdict::Valid(key) => match db.key(&key.public_id, now)? {
                    Some(mut fresh) if fresh.status == KeyStatus::Active => {
                        db.record_key_use(fresh.id, now)?;
                        // The answer shows the use just counted, without reading the row again.
                        fresh.last_used_at = Some(now);
                        fresh.use_count += 1;
                        Verdict::Valid(Box::new(fresh))
                    }
                    Some(fresh) => Verdict::Invalid(
                        VerifyFailure::of_status(fresh.status).unwrap_or(VerifyFailure::NotFound),
                    ),
                    None => Verdict::Invalid(VerifyFailure::NotFound),
                },
                invalid => invalid,
            };
            if let Verdict::Invalid(failure) = verdict {
                let subject = db.key(public_id.as_str(), now)?.map(|k| k.name);
                let record = HistoryRecord {
                    key: Some(public_id.as_str().to_owned()),
                    masked: Some(token.masked()),
                    ..actor.record(now, Action::VerifyFailed, subject.as_deref())
                };
                db.append_history(with_details(record, json!({ "reason": failure.as_str() })))?;
            }
            Ok(verdict)
        })
    }
}
