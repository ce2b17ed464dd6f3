//! The notification messages of SPEC §5, written to the outbox in the same
//! transaction as the change they announce. Delivery reads them from there.

use super::{Actor, rfc3339};
use crate::domain::model::Key;
use crate::error::Result;
use crate::safe_text::escape;
use crate::store::Db;
use crate::store::outbox::OutboxMessage;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Event {
    Created,
    Renewed,
    Deactivated,
    Deleted,
}

impl Event {
    fn as_str(self) -> &'static str {
        match self {
            Event::Created => "created",
            Event::Renewed => "renewed",
            Event::Deactivated => "deactivated",
            Event::Deleted => "deleted",
        }
    }
}

/// One message per admin and manager, listing every key of the change.
pub(super) fn enqueue(db: &Db, actor: &Actor, event: Event, keys: &[Key], now: i64) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let subject = match keys {
        [key] => format!(
            "[keyward] API key {}: {} ({})",
            event.as_str(),
            escape(&key.name),
            key.masked()
        ),
        _ => format!("[keyward] {} API keys {}", keys.len(), event.as_str()),
    };
    let body = body(actor, event, keys, now);
    let key_ids: Vec<String> = keys.iter().map(|k| k.public_id.clone()).collect();
    for op in db.notified_operators()? {
        db.enqueue(&OutboxMessage {
            id: 0,
            created_at: now,
            event: event.as_str().to_owned(),
            key_ids: key_ids.clone(),
            recipient_login: op.login,
            recipient_name: op.name,
            recipient_email: op.email,
            subject: subject.clone(),
            body: body.clone(),
            status: "pending".to_owned(),
            attempts: 0,
            last_error: None,
            sent_at: None,
        })?;
    }
    Ok(())
}

fn body(actor: &Actor, event: Event, keys: &[Key], now: i64) -> String {
    let mut b = String::new();
    let what = if keys.len() == 1 {
        format!("An API key was {}", event.as_str())
    } else {
        format!("{} API keys were {}", keys.len(), event.as_str())
    };
    let _ = writeln!(b, "{what} in keyward.\n");
    for key in keys {
        let _ = writeln!(
            b,
            "  {}  {}\n    instance {} ({}), developer {}, channel {}",
            key.masked(),
            escape(&key.name),
            escape(&key.instance),
            key.cloud,
            escape(&key.developer),
            escape(&key.channel),
        );
        if let Some(exp) = key
            .expires_at
            .filter(|_| matches!(event, Event::Created | Event::Renewed))
        {
            let _ = writeln!(b, "    expires {}", rfc3339(exp));
        }
    }
    let o = &actor.origin;
    let who = match &actor.operator {
        Some(op) => format!("{} <{}>", escape(&op.name), escape(&op.email)),
        None => "an unknown operator".to_owned(),
    };
    let _ = writeln!(
        b,
        "\nBy:   {who}, login {} on {}",
        escape(&o.login),
        escape(&o.host)
    );
    if let Some(ssh) = &o.ssh_client {
        let _ = writeln!(b, "From: SSH client {}", escape(ssh));
    }
    if let Some(sudo) = &o.sudo_user {
        let _ = writeln!(b, "Via:  sudo by {}", escape(sudo));
    }
    let _ = writeln!(b, "When: {}", rfc3339(now));
    let _ = writeln!(
        b,
        "\nIf you did not expect this change, review the credential history:"
    );
    for key in keys {
        let _ = writeln!(b, "  keyward history --filter key:{}", key.public_id);
    }
    let _ = writeln!(
        b,
        "and deactivate any key you do not recognise: keyward key deactivate ID --yes"
    );
    b
}
