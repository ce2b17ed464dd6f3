//! The notification messages of SPEC §5, written to the outbox in the same
//! transaction as the change they announce. Delivery reads them from there.

use super::{Actor, rfc3339};
use crate::domain::model::Key;
use crate::domain::outbox::OutboxMessage;
use crate::error::Result;
use crate::safe_text::escape;
use crate::store::Db;
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
    to_notified(db, now, event.as_str(), keys, &subject, &body)
}

/// Queues the message for every admin and manager.
fn to_notified(
    db: &Db,
    now: i64,
    event: &str,
    keys: &[Key],
    subject: &str,
    body: &str,
) -> Result<()> {
    let key_ids: Vec<String> = keys.iter().map(|k| k.public_id.clone()).collect();
    for op in db.notified_operators()? {
        db.enqueue(&OutboxMessage::new(
            now,
            event,
            key_ids.clone(),
            &op,
            subject.to_owned(),
            body.to_owned(),
        ))?;
    }
    Ok(())
}

/// A key as messages show it: masked, named, and where it connects.
fn key_lines(b: &mut String, key: &Key) {
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
}

/// One command line per key: `keyward history --filter key:ID`, say.
fn per_key(b: &mut String, keys: &[Key], command: &str) {
    for key in keys {
        let _ = writeln!(b, "  {command}{}", key.public_id);
    }
}

/// One reminder message per admin and manager for the keys that crossed
/// `threshold_days` before their expiry.
pub(super) fn enqueue_reminder(db: &Db, threshold_days: u32, keys: &[Key], now: i64) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let within = match threshold_days {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    };
    let subject = match keys {
        [key] => format!(
            "[keyward] API key expires within {within}: {} ({})",
            escape(&key.name),
            key.masked()
        ),
        _ => format!("[keyward] {} API keys expire within {within}", keys.len()),
    };
    let mut b = String::new();
    let what = if keys.len() == 1 {
        format!("An API key expires within {within}")
    } else {
        format!("{} API keys expire within {within}", keys.len())
    };
    let _ = writeln!(b, "{what} in keyward.\n");
    for key in keys {
        key_lines(&mut b, key);
        if let Some(exp) = key.expires_at {
            let left = time_left(exp - now);
            let _ = writeln!(b, "    expires {} (in {left})", rfc3339(exp));
        }
    }
    let _ = writeln!(
        b,
        "\nRenew a key before it expires, so the integrations using it keep working:"
    );
    per_key(&mut b, keys, "keyward key renew ");
    let _ = writeln!(
        b,
        "or select it on the Keys tab of keyward and press r. Its credential history:"
    );
    per_key(&mut b, keys, "keyward history --filter key:");
    let _ = writeln!(
        b,
        "\nkeyward reminds admins and managers of each key once, 14 days, 7 days and 1 day before it expires."
    );
    to_notified(db, now, "expiring", keys, &subject, &b)
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
        key_lines(&mut b, key);
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
    per_key(&mut b, keys, "keyward history --filter key:");
    let _ = writeln!(
        b,
        "and deactivate any key you do not recognise: keyward key deactivate ID --yes"
    );
    b
}

/// "6 days 23 hours", "5 hours", "12 minutes": how long until an expiry.
fn time_left(seconds: i64) -> String {
    let unit = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours) {
        (0, 0) => unit(minutes.max(1), "minute"),
        (0, h) => unit(h, "hour"),
        (d, 0) => unit(d, "day"),
        (d, h) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

#[cfg(test)]
mod tests {
    use super::time_left;

    #[test]
    fn time_left_reads_as_days_and_hours() {
        assert_eq!(time_left(6 * 86_400 + 23 * 3_600 + 59), "6 days 23 hours");
        assert_eq!(time_left(86_400), "1 day");
        assert_eq!(time_left(3_600 * 5 + 10), "5 hours");
        assert_eq!(time_left(61), "1 minute");
        assert_eq!(time_left(5), "1 minute");
    }
}
