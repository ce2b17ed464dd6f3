//! `keyward history`: the credential history as a table, JSON or CSV.

use super::output::{Table, local_time, write_json};
use super::{Context, Failure, Outcome};
use keyward_core::domain::history_details;
use keyward_core::domain::query::HistoryQuery;
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportError, ExportFormat, row_json};
use serde_json::json;
use std::io::Write;

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
    let limit = (limit > 0).then_some(limit);
    let mut service = ctx.service()?;
    if csv {
        // Every column but the hash, which `--json` carries for auditors; the
        // same streaming export as the History tab's.
        let columns = &Column::ALL[..Column::ALL.len() - 1];
        service
            .export_history(&query, columns, ExportFormat::Csv, limit, out)
            .map_err(|e| match e {
                ExportError::Store(e) => Failure::Keyward(e),
                ExportError::Write(e) => Failure::Output(e),
            })?;
        return Ok(0);
    }
    let rows = service.history(&query, limit)?;
    if json {
        write_json(
            out,
            &json!(
                rows.iter()
                    .map(|r| row_json(r, &Column::ALL))
                    .collect::<Vec<_>>()
            ),
        )?;
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
                // As the TUI reads it: `status: active → deactivated`;
                // `--json` keeps the details as written.
                if r.details == "{}" {
                    String::new()
                } else {
                    history_details::summary(&r.action, &r.details, r.at)
                },
            ]);
        }
        if t.is_empty() {
            writeln!(out, "No history matches.")?;
        } else {
            t.write(out)?;
            if limit.is_some_and(|n| rows.len() as u64 == n) {
                writeln!(
                    out,
                    "The newest {} rows; --limit N shows more, --limit 0 all.",
                    rows.len()
                )?;
            }
        }
    }
    Ok(0)
}
