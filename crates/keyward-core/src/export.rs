//! The credential history's columns, defined once: each column's name, its
//! header, its text and its JSON value. The History tab shows them, its export
//! writes them, and `keyward history --csv/--json` prints them.

use crate::domain::history::HistoryRow;
use crate::service::rfc3339;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// One column of the credential history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Seq,
    At,
    Action,
    Key,
    Masked,
    Subject,
    Operator,
    Email,
    Login,
    Host,
    SudoUser,
    SshClient,
    Tty,
    /// The database's word on who wrote the row (PostgreSQL): its login role…
    DbUser,
    /// …and the address it connected from.
    DbClient,
    Details,
    Hash,
}

impl Column {
    /// Every column, in the order exports write them.
    pub const ALL: [Column; 17] = [
        Column::Seq,
        Column::At,
        Column::Action,
        Column::Key,
        Column::Masked,
        Column::Subject,
        Column::Operator,
        Column::Email,
        Column::Login,
        Column::Host,
        Column::SudoUser,
        Column::SshClient,
        Column::Tty,
        Column::DbUser,
        Column::DbClient,
        Column::Details,
        Column::Hash,
    ];

    /// The field name in CSV headers, JSON objects and saved preferences.
    pub fn name(self) -> &'static str {
        match self {
            Column::Seq => "seq",
            Column::At => "at",
            Column::Action => "action",
            Column::Key => "key",
            Column::Masked => "masked",
            Column::Subject => "subject",
            Column::Operator => "operator",
            Column::Email => "email",
            Column::Login => "login",
            Column::Host => "host",
            Column::SudoUser => "sudo_user",
            Column::SshClient => "ssh_client",
            Column::Tty => "tty",
            Column::DbUser => "db_user",
            Column::DbClient => "db_client",
            Column::Details => "details",
            Column::Hash => "hash",
        }
    }

    /// The header a person reads.
    pub fn title(self) -> &'static str {
        match self {
            Column::Seq => "#",
            Column::At => "Date",
            Column::Action => "Action",
            Column::Key => "Key id",
            Column::Masked => "Credential",
            Column::Subject => "Name",
            Column::Operator => "User's name",
            Column::Email => "User's email",
            Column::Login => "Login",
            Column::Host => "Host",
            Column::SudoUser => "Sudo user",
            Column::SshClient => "SSH client",
            Column::Tty => "Terminal",
            Column::DbUser => "Database role",
            Column::DbClient => "Database client",
            Column::Details => "Details",
            Column::Hash => "Hash",
        }
    }

    pub fn parse(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The raw text of the cell (not escaped: callers escape for a screen).
    /// Times are RFC 3339 UTC; the TUI formats `At` itself, in local time.
    pub fn text(self, row: &HistoryRow) -> String {
        let r = &row.record;
        let o = &r.origin;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        match self {
            Column::Seq => r.seq.to_string(),
            Column::At => rfc3339(r.at),
            Column::Action => r.action.clone(),
            Column::Key => opt(&r.key),
            Column::Masked => opt(&r.masked),
            Column::Subject => opt(&r.subject),
            Column::Operator => opt(&r.operator),
            Column::Email => opt(&r.email),
            Column::Login => o.login.clone(),
            Column::Host => o.host.clone(),
            Column::SudoUser => opt(&o.sudo_user),
            Column::SshClient => opt(&o.ssh_client),
            Column::Tty => opt(&o.tty),
            Column::DbUser => o
                .db_session
                .as_ref()
                .map(|d| d.user.clone())
                .unwrap_or_default(),
            Column::DbClient => o
                .db_session
                .as_ref()
                .and_then(|d| d.client.clone())
                .unwrap_or_default(),
            Column::Details => r.details.clone(),
            Column::Hash => row.hash.clone(),
        }
    }

    pub fn json(self, row: &HistoryRow) -> Value {
        let r = &row.record;
        let o = &r.origin;
        let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        match self {
            Column::Seq => Value::from(r.seq),
            Column::Key => opt(&r.key),
            Column::Masked => opt(&r.masked),
            Column::Subject => opt(&r.subject),
            Column::Operator => opt(&r.operator),
            Column::Email => opt(&r.email),
            Column::SudoUser => opt(&o.sudo_user),
            Column::SshClient => opt(&o.ssh_client),
            Column::Tty => opt(&o.tty),
            Column::DbUser => o
                .db_session
                .as_ref()
                .map_or(Value::Null, |d| Value::String(d.user.clone())),
            Column::DbClient => opt(&o.db_session.as_ref().and_then(|d| d.client.clone())),
            Column::Details => serde_json::from_str::<Value>(&r.details)
                .unwrap_or_else(|_| Value::String(r.details.clone())),
            other => Value::String(other.text(row)),
        }
    }
}

/// The row as one JSON object of the given columns.
pub fn row_json(row: &HistoryRow, columns: &[Column]) -> Value {
    let object: Map<String, Value> = columns
        .iter()
        .map(|c| (c.name().to_owned(), c.json(row)))
        .collect();
    Value::Object(object)
}

/// The CSV header line of the given columns.
pub fn csv_header(out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
    let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
    writeln!(out, "{}", names.join(","))
}

/// One CSV line of the row.
pub fn csv_row(out: &mut dyn Write, row: &HistoryRow, columns: &[Column]) -> io::Result<()> {
    let cells: Vec<String> = columns.iter().map(|c| csv_field(&c.text(row))).collect();
    writeln!(out, "{}", cells.join(","))
}

/// A CSV field, quoted where needed. A cell that a spreadsheet would run as a
/// formula gets a leading apostrophe, so an exported history cannot attack its
/// reader; control characters (an escape sequence in a key's name) are written
/// as `\e`, `\n`…, so a CSV printed or `cat` on a terminal cannot act on it.
/// Backslashes stay as they are: the file is data, read by programs too.
pub fn csv_field(s: &str) -> String {
    let s = crate::safe_text::escape_message(s);
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The file formats of a history export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Why an export stopped: the store, or the output it was writing to (whose
/// kind a caller keeps: a closed pipe is no failure of the command).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::error::Error),
    #[error("{0}")]
    Write(#[from] io::Error),
}

/// Writes history rows in one format, a row at a time: the CSV header or the
/// JSON array's opening first, its closing last.
pub enum RowWriter<'w> {
    Csv {
        out: &'w mut dyn Write,
        columns: &'w [Column],
    },
    Json {
        array: JsonArray<'w>,
        columns: &'w [Column],
    },
}

impl<'w> RowWriter<'w> {
    pub fn start(
        out: &'w mut dyn Write,
        format: ExportFormat,
        columns: &'w [Column],
    ) -> io::Result<RowWriter<'w>> {
        Ok(match format {
            ExportFormat::Csv => {
                csv_header(out, columns)?;
                RowWriter::Csv { out, columns }
            }
            ExportFormat::Json => RowWriter::Json {
                array: JsonArray::start(out)?,
                columns,
            },
        })
    }

    pub fn row(&mut self, row: &HistoryRow) -> io::Result<()> {
        match self {
            RowWriter::Csv { out, columns } => csv_row(*out, row, columns),
            RowWriter::Json { array, columns } => array.push(&row_json(row, columns)),
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self {
            RowWriter::Csv { out, .. } => out.flush(),
            RowWriter::Json { array, .. } => array.finish(),
        }
    }
}

/// Writes a JSON array one element at a time, so an export of a million rows
/// never holds them all.
pub struct JsonArray<'w> {
    out: &'w mut dyn Write,
    first: bool,
}

impl<'w> JsonArray<'w> {
    pub fn start(out: &'w mut dyn Write) -> io::Result<JsonArray<'w>> {
        out.write_all(b"[")?;
        Ok(JsonArray { out, first: true })
    }

    pub fn push(&mut self, value: &Value) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n  " } else { b",\n  " })?;
        self.first = false;
        serde_json::to_writer(&mut *self.out, value).map_err(io::Error::other)
    }

    pub fn finish(self) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"]\n" } else { b"\n]\n" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_round_trip() {
        for c in Column::ALL {
            assert_eq!(Column::parse(c.name()), Some(c));
        }
        assert_eq!(Column::parse("nope"), None);
    }

    #[test]
    fn csv_writes_control_characters_as_escapes_never_raw() {
        assert_eq!(csv_field("evil\u{1b}[31mRED"), "evil\\e[31mRED");
        assert_eq!(csv_field("two\nlines"), "two\\nlines");
        assert_eq!(csv_field("C:\\path"), "C:\\path");
        assert!(
            !csv_field("\u{1b}]52;c;x\u{7}")
                .chars()
                .any(char::is_control)
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn json_array_streams_valid_json() {
        let mut out = Vec::new();
        let mut a = JsonArray::start(&mut out).unwrap();
        a.push(&Value::from(1)).unwrap();
        a.push(&Value::from("x")).unwrap();
        a.finish().unwrap();
        let back: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, serde_json::json!([1, "x"]));
        let mut empty = Vec::new();
        JsonArray::start(&mut empty).unwrap().finish().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}
