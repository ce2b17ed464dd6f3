//! `keyward history`: the credential history as a table, JSON or CSV.

use super::output::{Table, local_time, write_json};
use super::{Context, Outcome};
use keyward_core::domain::query::HistoryQuery;
use keyward_core::error::Error;
use keyward_core::export::{Column, csv_header, csv_row, row_json};
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
    let rows = ctx
        .service()?
        .history(&query, (limit > 0).then_some(limit))?;
    if json {
        write_json(
            out,
            &json!(
                rows.iter()
                    .map(|r| row_json(r, &Column::ALL))
                    .collect::<Vec<_>>()
            ),
        )?;
    } else if csv {
        // Every column but the hash, which `--json` carries for auditors.
        let columns = &Column::ALL[..Column::ALL.len() - 1];
        csv_header(out, columns)?;
        for row in &rows {
            csv_row(out, row, columns)?;
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
