//! `keyward store copy --to STORE`: the whole store, every table and the
//! history chain with the hashes it was written with, into a new store on
//! either engine — a SQLite file moving to PostgreSQL when a second bastion
//! host arrives, or a server's store brought back to a file.

use super::{Context, Outcome};
use keyward_core::safe_text::escape;
use keyward_core::service::Location;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub fn copy(ctx: &Context, to: PathBuf, out: &mut dyn Write) -> Outcome {
    let to = Location::from_path(to)?;
    // On a terminal, where the copy has got to (a million history rows take
    // minutes): one line, rewritten, gone when the copy ends.
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |table: &str, rows: u64| {
        if terminal {
            eprint!("\r\x1b[Kcopying {table}: {rows} rows");
        }
    };
    let copied = ctx.service()?.copy_store(&to, &mut progress);
    if terminal {
        eprint!("\r\x1b[K");
    }
    let report = copied?;
    let count = |table: &str| {
        report
            .rows
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    };
    writeln!(
        out,
        "Copied {} to {}: {} keys, {} instances, {} operators, {} history rows, {} notifications.",
        escape(&ctx.db.to_string()),
        escape(&to.to_string()),
        count("keys"),
        count("instances"),
        count("operators"),
        count("history"),
        count("outbox"),
    )?;
    match &report.head {
        Some(head) => writeln!(
            out,
            "head {head} (the same in both; `keyward --db {} audit verify --expect-head {head}` checks the copy)",
            escape(&to.to_string())
        )?,
        None => writeln!(out, "The history is empty.")?,
    }
    Ok(0)
}
