//! `keyward notifications`: the outbox, where every key event's messages wait
//! for delivery (or stand as the record when none is configured).

use super::output::{Table, json_time, local_time, write_json};
use super::{Context, Outcome};
use serde_json::json;
use std::io::Write;

pub fn run(ctx: &Context, json: bool, out: &mut dyn Write) -> Outcome {
    let messages = ctx.service()?.notifications(false)?;
    if json {
        let list: Vec<_> = messages
            .iter()
            .map(|m| {
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
                    "sent_at": json_time(m.sent_at),
                })
            })
            .collect();
        write_json(out, &json!(list))?;
        return Ok(0);
    }
    let mut t = Table::new(&["#", "WHEN", "TO", "STATUS", "SUBJECT"]);
    for m in &messages {
        t.row([
            m.id.to_string(),
            local_time(m.created_at),
            m.recipient_email.clone(),
            m.status.clone(),
            m.subject.clone(),
        ]);
    }
    if t.is_empty() {
        writeln!(out, "The outbox is empty.")?;
    } else {
        t.write(out)?;
    }
    Ok(0)
}
