//! `keyward notifications`: the outbox, where every key event's messages wait
//! for delivery (or stand as the record when none is configured), and
//! `notifications send`, which queues the expiry reminders that are due and
//! delivers what is due: from cron, a systemd timer, or in the background after
//! each change.

use super::output::{Table, json_time, local_time, write_json};
use super::{Context, Outcome};
use keyward_core::domain::model::Role;
use keyward_core::domain::outbox::OutboxMessage;
use keyward_core::error::Error;
use keyward_core::safe_text::escape;
use serde_json::json;
use std::io::Write;

pub fn list(ctx: &Context, json: bool, pending: bool, out: &mut dyn Write) -> Outcome {
    let messages = ctx.service()?.notifications(pending)?;
    if json {
        let list: Vec<_> = messages.iter().map(message_json).collect();
        write_json(out, &json!(list))?;
        return Ok(0);
    }
    let mut t = Table::new(&["#", "WHEN", "EVENT", "TO", "STATUS", "TRIES", "SUBJECT"]);
    let mut errors = Vec::new();
    for m in &messages {
        t.row([
            m.id.to_string(),
            local_time(m.created_at),
            m.event.clone(),
            m.recipient_email.clone(),
            m.status.clone(),
            m.attempts.to_string(),
            m.subject.clone(),
        ]);
        if m.status != "sent" {
            if let Some(e) = &m.last_error {
                errors.push(format!(
                    "#{}: {} (next try {})",
                    m.id,
                    escape(e),
                    local_time(m.next_attempt_at)
                ));
            }
        }
    }
    if t.is_empty() {
        let what = if pending {
            "Nothing waits in the outbox."
        } else {
            "The outbox is empty."
        };
        writeln!(out, "{what}")?;
        return Ok(0);
    }
    t.write(out)?;
    if !errors.is_empty() {
        writeln!(out, "\nLast errors:")?;
        for e in errors {
            writeln!(out, "  {e}")?;
        }
    }
    if ctx.delivery().0.is_none() {
        writeln!(
            out,
            "\nNo delivery is configured ([notify] in the configuration file): the outbox is the record."
        )?;
    }
    Ok(0)
}

fn message_json(m: &OutboxMessage) -> serde_json::Value {
    json!({
        "id": m.id,
        "created_at": json_time(Some(m.created_at)),
        "event": m.event,
        "keys": m.key_ids,
        "recipient": { "login": m.recipient_login, "name": m.recipient_name, "email": m.recipient_email },
        "subject": m.subject,
        "body": m.body,
        "status": m.status,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "last_attempt_at": json_time(m.last_attempt_at),
        "next_attempt_at": (m.status != "sent").then(|| json_time(Some(m.next_attempt_at))),
        "sent_at": json_time(m.sent_at),
        "via": m.via,
    })
}

/// Queues the reminders that are due and delivers what is due. Exits 1 when
/// some message tried was not delivered.
pub fn send(
    ctx: &Context,
    retry_now: bool,
    quiet: bool,
    json: bool,
    out: &mut dyn Write,
) -> Outcome {
    let mut service = ctx.service()?;
    // Sending writes reminders and history and drains the admins' mail: a
    // manager's work, or the store owner's (the timer of assets/ runs as it).
    let manager = service.whoami().is_ok_and(|me| me.role >= Role::Manager);
    let owner = ctx.act_as.is_none() && ctx.db.file().is_some_and(super::owns_store);
    if !manager && !owner {
        return Err(Error::Permission(
            "sending notifications needs the manager role (or the store's owner, as a timer runs it)"
                .to_owned(),
        )
        .into());
    }
    let (delivery, note) = ctx.delivery();
    if let (Some(note), false) = (note, quiet) {
        eprintln!("keyward: {note}");
    }
    let reminded = service.queue_reminders()?;
    let Some(notify) = delivery else {
        let left = service.outbox_counts()?;
        if json {
            write_json(
                out,
                &json!({
                    "delivery": null, "reminded": reminded, "sent": 0, "failed": [],
                    "outbox": { "pending": left.pending, "failed": left.failed },
                }),
            )?;
        } else if !quiet {
            if reminded > 0 {
                writeln!(out, "Reminders queued for {reminded} expiring key(s).")?;
            }
            writeln!(
                out,
                "No delivery is configured ([notify] in the configuration file): {} message(s) wait in the outbox, which is the record.",
                left.waiting()
            )?;
        }
        return Ok(0);
    };
    let mut transport = keyward_core::mail::transport(notify);
    let report = service.deliver(transport.as_mut(), retry_now)?;
    let code = if report.failures.is_empty() { 0 } else { 1 };
    if json {
        let failed: Vec<_> = report
            .failures
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "to": f.recipient_email, "error": f.error,
                    "lasting": f.lasting, "retry_at": json_time(Some(f.retry_at)),
                })
            })
            .collect();
        write_json(
            out,
            &json!({
                "delivery": transport.via(), "reminded": reminded, "sent": report.sent,
                "failed": failed,
                "outbox": { "pending": report.left.pending, "failed": report.left.failed },
            }),
        )?;
        return Ok(code);
    }
    if !quiet {
        if reminded > 0 {
            writeln!(out, "Reminders queued for {reminded} expiring key(s).")?;
        }
        writeln!(
            out,
            "Sent {} message(s) by {}.",
            report.sent,
            escape(&transport.via())
        )?;
    }
    if !report.failures.is_empty() {
        writeln!(out, "Not delivered, to be retried:")?;
        for f in &report.failures {
            writeln!(
                out,
                "  #{} to {}: {} (next try {})",
                f.id,
                escape(&f.recipient_email),
                escape(&f.error),
                local_time(f.retry_at)
            )?;
        }
    }
    if !quiet || !report.failures.is_empty() {
        let left = report.left;
        if left.waiting() > 0 {
            writeln!(
                out,
                "{} message(s) wait in the outbox: {} pending, {} failed for a lasting reason; see `keyward notifications --pending`.",
                left.waiting(),
                left.pending,
                left.failed
            )?;
        }
    }
    Ok(code)
}

/// Starts `keyward notifications send --quiet` on the same store and
/// configuration, detached, so that what a change just queued goes out without
/// the admin waiting for it. Only when delivery is configured.
pub fn deliver_in_background(ctx: &Context) -> std::io::Result<()> {
    if ctx.delivery().0.is_none() {
        return Ok(());
    }
    keyward_core::mail::spawn_delivery(&ctx.db, ctx.config_path.as_deref(), ctx.act_as.as_deref())
        .map(drop)
}
