//! `keyward history`: the credential history as a table, JSON or CSV.

use super::output::{Table, csv_field, json_time, local_time, write_json};
use super::{Context, Outcome};
use crate::domain::query::HistoryQuery;
use crate::error::Error;
use crate::store::history::HistoryRow;
use serde_json::{Value, json};
use std::io::Write;

const CSV_COLUMNS: &[&str] = &[
    "seq",
    "at",
    "action",
    "key",
    "masked",
    "subject",
    "operator",
    "email",
    "login",
    "host",
    "sudo_user",
    "ssh_client",
    "tty",
    "details",
];

pub fn run(
    ctx: &Context,
    filter: Option<&str>,
    limit: u64,
    json: bool,
    csv: bool,
    out: &mut dyn Write,
) -> Outcome {
    let query = match filter {
        Some(f) => HistoryQuery::parse(f).map_err(Error::from)?,
        None => HistoryQuery::default(),
    };
    let rows = ctx
        .service()?
        .history(&query, (limit > 0).then_some(limit))?;
    if json {
        write_json(out, &json!(rows.iter().map(row_json).collect::<Vec<_>>()))?;
    } else if csv {
        writeln!(out, "{}", CSV_COLUMNS.join(","))?;
        for row in &rows {
            let r = &row.record;
            let o = &r.origin;
            let cells = [
                r.seq.to_string(),
                crate::service::rfc3339(r.at),
                r.action.clone(),
                r.key.clone().unwrap_or_default(),
                r.masked.clone().unwrap_or_default(),
                r.subject.clone().unwrap_or_default(),
                r.operator.clone().unwrap_or_default(),
                r.email.clone().unwrap_or_default(),
                o.login.clone(),
                o.host.clone(),
                o.sudo_user.clone().unwrap_or_default(),
                o.ssh_client.clone().unwrap_or_default(),
                o.tty.clone().unwrap_or_default(),
                r.details.clone(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
            writeln!(out, "{}", line.join(","))?;
        }
    } else {
        let mut t = Table::new(&[
            "#",
            "WHEN",
            "ACTION",
            "KEY",
            "NAME",
            "OPERATOR",
            "LOGIN@HOST",
            "DETAILS",
        ]);
        for row in &rows {
            let r = &row.record;
            t.row([
                r.seq.to_string(),
                local_time(r.at),
                r.action.clone(),
                r.masked.clone().unwrap_or_default(),
                r.subject.clone().unwrap_or_default(),
                r.operator.clone().unwrap_or_default(),
                format!("{}@{}", r.origin.login, r.origin.host),
                if r.details == "{}" {
                    String::new()
                } else {
                    r.details.clone()
                },
            ]);
        }
        if t.is_empty() {
            writeln!(out, "No history matches.")?;
        } else {
            t.write(out)?;
        }
    }
    Ok(0)
}

fn row_json(row: &HistoryRow) -> Value {
    let r = &row.record;
    let o = &r.origin;
    json!({
        "seq": r.seq,
        "at": json_time(Some(r.at)),
        "action": r.action,
        "key": r.key,
        "masked": r.masked,
        "subject": r.subject,
        "operator": r.operator,
        "email": r.email,
        "login": o.login,
        "host": o.host,
        "sudo_user": o.sudo_user,
        "ssh_client": o.ssh_client,
        "tty": o.tty,
        "details": serde_json::from_str::<Value>(&r.details).unwrap_or(Value::String(r.details.clone())),
        "hash": row.hash,
    })
}
