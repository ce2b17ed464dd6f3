//! `keyward history`: the credential history as a table, JSON or CSV.

use super::output::{TableStream, local_time, written};
use super::{Context, Failure, Outcome};
use keyward_core::domain::history::HistoryRow;
use keyward_core::domain::history_details;
use keyward_core::domain::query::HistoryQuery;
use keyward_core::error::Error;
use keyward_core::export::{Column, ExportError, ExportFormat, JsonArray, row_json};
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
    // Written as read, a row at a time: the whole history of a large store
    // takes the memory of one row.
    let each = |visit: &mut dyn FnMut(HistoryRow) -> keyward_core::error::Result<_>| {
        service.each_history(&query, limit, visit)
    };
    if json {
        let mut array = JsonArray::start(out)?;
        written(each, |row| array.push(&row_json(&row, &Column::ALL)))?;
        array.finish()?;
        return Ok(0);
    }
    let mut table = TableStream::new(
        &[
            "#",
            "WHEN",
            "ACTION",
            "KEY",
            "NAME",
            "OPERATOR",
            "LOGIN@HOST",
            "DETAILS",
        ],
        out,
    );
    written(each, |row| {
        let r = &row.record;
        table.row([
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
        ])
    })?;
    let rows = table.rows();
    table.finish()?;
    if rows == 0 {
        writeln!(out, "No history matches.")?;
    } else if limit.is_some_and(|n| rows == n) {
        writeln!(
            out,
            "The newest {rows} rows; --limit N shows more, --limit 0 all."
        )?;
    }
    Ok(0)
}
