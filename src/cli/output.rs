//! Formatting for people and for scripts: plain tables whose every untrusted
//! cell passes through the one escape function, stable JSON, CSV, and times
//! (UTC stored, local shown; RFC 3339 UTC in JSON).

use super::Failure;
use chrono::{DateTime, Local};
use keyward_core::domain::model::Key;
use keyward_core::safe_text::escape;
use keyward_core::service::rfc3339;
use serde_json::{Value, json};
use std::io::{self, Write};
use std::ops::ControlFlow;
use unicode_width::UnicodeWidthStr;

/// A table of escaped cells, columns padded to their widest cell.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; every cell is escaped here, so no caller can forget.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(escaped(cells));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let widths = self.widths();
        self.write_header(out, &widths)?;
        for row in &self.rows {
            write_line(out, row, &widths)?;
        }
        Ok(())
    }

    /// Each column's width: its widest cell so far, or its header.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        widths
    }

    fn write_header(&self, out: &mut dyn Write, widths: &[usize]) -> io::Result<()> {
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        write_line(out, &header, widths)
    }
}

fn escaped<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| escape(c.as_ref()).into_owned())
        .collect()
}

/// One line of a table: cells padded to `widths`, two spaces apart; a cell
/// wider than its column pushes the rest of its own line along.
fn write_line(out: &mut dyn Write, row: &[String], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
        line.push_str(cell);
        if i + 1 < row.len() {
            line.push_str(&" ".repeat(w.saturating_sub(cell.width()) + 2));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// A table written as its rows come, for listings of any length: the first
/// [`TableStream::SIZING_ROWS`] rows are held to size the columns (a shorter
/// listing comes out exactly as [`Table`] writes it), every later row is
/// written at once in those widths, so memory stays that of one block.
pub struct TableStream<'w> {
    table: Table,
    out: &'w mut dyn Write,
    widths: Option<Vec<usize>>,
    rows: u64,
}

impl<'w> TableStream<'w> {
    pub const SIZING_ROWS: usize = 1000;

    pub fn new(header: &[&'static str], out: &'w mut dyn Write) -> TableStream<'w> {
        TableStream {
            table: Table::new(header),
            out,
            widths: None,
            rows: 0,
        }
    }

    /// Adds a row (escaped, as [`Table::row`] does), writing it out once the
    /// columns are sized.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> io::Result<()> {
        self.rows += 1;
        let row = escaped(cells);
        if let Some(widths) = &self.widths {
            return write_line(self.out, &row, widths);
        }
        self.table.rows.push(row);
        match self.table.rows.len() {
            n if n >= Self::SIZING_ROWS => {
                let widths = self.table.widths();
                self.table.write_header(self.out, &widths)?;
                for row in std::mem::take(&mut self.table.rows) {
                    write_line(self.out, &row, &widths)?;
                }
                self.widths = Some(widths);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// How many rows it was given.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes what is still held; nothing at all for a table with no rows.
    pub fn finish(self) -> io::Result<()> {
        if self.widths.is_none() && !self.table.is_empty() {
            self.table.write(self.out)?;
        }
        Ok(())
    }
}

/// Walks the store with `walk`, writing each row it hands over with `write`
/// as it comes, and stops the walk at the first row that cannot be written: a
/// listing of any length in the memory of one row. The store's error is
/// keyward's, the output's the output's (a closed pipe ends quietly).
pub fn written<T>(
    walk: impl FnOnce(
        &mut dyn FnMut(T) -> keyward_core::error::Result<ControlFlow<()>>,
    ) -> keyward_core::error::Result<()>,
    mut write: impl FnMut(T) -> io::Result<()>,
) -> Result<(), Failure> {
    let mut failed = None;
    walk(&mut |row| match write(row) {
        Ok(()) => Ok(ControlFlow::Continue(())),
        Err(e) => {
            failed = Some(e);
            Ok(ControlFlow::Break(()))
        }
    })?;
    match failed {
        Some(e) => Err(Failure::Output(e)),
        None => Ok(()),
    }
}

/// Label–value lines for one record, values escaped.
pub fn fields(out: &mut dyn Write, pairs: &[(&str, String)]) -> io::Result<()> {
    let width = pairs.iter().map(|(l, _)| l.width()).max().unwrap_or(0);
    for (label, value) in pairs {
        writeln!(out, "  {label:<width$}  {}", escape(value))?;
    }
    Ok(())
}

/// Local date and time to the minute, for people.
pub fn local_time(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn local_date(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn opt_time(ts: Option<i64>, none: &str) -> String {
    ts.map_or_else(|| none.to_owned(), local_time)
}

pub fn json_time(ts: Option<i64>) -> Value {
    ts.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

/// The JSON object of a key, as `key list --json` and `key show --json` print it.
pub fn key_json(key: &Key) -> Value {
    json!({
        "id": key.public_id,
        "masked": key.masked(),
        "name": key.name,
        "instance": key.instance,
        "cloud": key.cloud.as_str(),
        "developer": key.developer,
        "channel": key.channel,
        "teams": key.teams,
        "status": key.status.as_str(),
        "expires_at": json_time(key.expires_at),
        "created_at": json_time(Some(key.created_at)),
        "created_by": key.created_by,
        "last_used_at": json_time(key.last_used_at),
        "use_count": key.use_count,
        "changed_at": json_time(Some(key.changed_at)),
        "deactivated_at": json_time(key.deactivated_at),
        "deleted_at": json_time(key.deleted_at),
        "grace_until": json_time(key.grace_until),
    })
}

pub fn write_json(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    // Keep the kind of an output error, so a closed pipe (`| head`) ends quietly.
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_under_json_output_stays_a_broken_pipe() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = write_json(&mut Closed, &json!({"a": [1, 2, 3]})).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    fn streamed(header: &[&'static str], rows: &[Vec<String>]) -> String {
        let mut out = Vec::new();
        let mut t = TableStream::new(header, &mut out);
        for row in rows {
            t.row(row).unwrap();
        }
        assert_eq!(t.rows(), rows.len() as u64);
        t.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_streamed_table_of_one_block_is_the_table() {
        let rows: Vec<Vec<String>> = (0..TableStream::SIZING_ROWS - 1)
            .map(|i| vec![format!("k{i}"), "x".repeat(i % 17), "\u{1b}end".into()])
            .collect();
        let mut t = Table::new(&["KEY", "NAME", "NOTE"]);
        for row in &rows {
            t.row(row);
        }
        let mut whole = Vec::new();
        t.write(&mut whole).unwrap();
        assert_eq!(
            streamed(&["KEY", "NAME", "NOTE"], &rows),
            String::from_utf8(whole).unwrap()
        );
        assert_eq!(streamed(&["KEY"], &[]), "", "no rows, no header");
    }

    #[test]
    fn a_long_streamed_table_keeps_the_first_blocks_widths_and_every_row() {
        let n = TableStream::SIZING_ROWS * 3 + 7;
        let rows: Vec<Vec<String>> = (0..n)
            .map(|i| {
                // A later row wider than any in the sizing block.
                let name = if i == n - 1 {
                    "w".repeat(40)
                } else {
                    format!("n{}", i % 10)
                };
                vec![name, format!("{i}")]
            })
            .collect();
        let text = streamed(&["NAME", "N"], &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n + 1, "a header and every row, once");
        assert_eq!(lines[0], "NAME  N");
        assert_eq!(lines[1], "n0    0");
        assert_eq!(lines[n - 1], format!("n{}    {}", (n - 2) % 10, n - 2));
        // Wider than its column: pushes its own line along, two spaces on.
        assert_eq!(lines[n], format!("{}  {}", "w".repeat(40), n - 1));
        for (i, line) in lines[1..].iter().enumerate() {
            assert!(line.ends_with(&format!(" {i}")), "row {i} in order: {line}");
        }
    }

    #[test]
    fn a_walk_stops_at_the_first_row_that_cannot_be_written() {
        let mut handed = 0;
        let outcome = written(
            |visit| {
                for i in 0..10 {
                    handed += 1;
                    if visit(i)?.is_break() {
                        break;
                    }
                }
                Ok(())
            },
            |i: i32| {
                if i == 3 {
                    Err(io::ErrorKind::BrokenPipe.into())
                } else {
                    Ok(())
                }
            },
        );
        assert!(
            matches!(outcome, Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe)
        );
        assert_eq!(handed, 4, "the walk ended at the row that failed");
        let failed = written(
            |_: &mut dyn FnMut(i32) -> keyward_core::error::Result<ControlFlow<()>>| {
                Err(keyward_core::error::Error::store("gone"))
            },
            |_| Ok(()),
        );
        assert!(matches!(failed, Err(Failure::Keyward(_))));
    }

    #[test]
    fn table_cells_are_escaped_and_aligned() {
        let mut t = Table::new(&["NAME", "TEAM"]);
        t.row(["a\u{1b}[2J", "x"]);
        t.row(["longer name", "y"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'));
        assert_eq!(text, "NAME         TEAM\na\\e[2J       x\nlonger name  y\n");
    }
}
