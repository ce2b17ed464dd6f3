//! The outbox as the service hands it out: messages waiting to be delivered to
//! operators, and how many wait.

/// Messages not delivered yet, by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub failed: u64,
}

impl OutboxCounts {
    /// Every message not delivered yet.
    pub fn waiting(self) -> u64 {
        self.pending + self.failed
    }
}

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
    /// Not tried again before this time (the back-off after a failure).
    pub next_attempt_at: i64,
    pub last_attempt_at: Option<i64>,
    /// How it was delivered, once sent.
    pub via: Option<String>,
}
