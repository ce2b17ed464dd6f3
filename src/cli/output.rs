//! Formatting for people and for scripts: plain tables whose every untrusted
//! cell passes through the one escape function, stable JSON, CSV, and times
//! (UTC stored, local shown; RFC 3339 UTC in JSON).

use chrono::{DateTime, Local};
use keyward_core::domain::model::Key;
use keyward_core::safe_text::escape;
use keyward_core::service::rfc3339;
use serde_json::{Value, json};
use std::io::{self, Write};
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
        self.rows.push(
            cells
                .into_iter()
                .map(|c| escape(c.as_ref()).into_owned())
                .collect(),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(w - cell.width() + 2));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
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
