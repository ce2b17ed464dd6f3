//! Reading the credential history, and `audit verify`, which walks it in order
//! and recomputes the hash chain, naming the first row that does not match.

use super::Service;
use crate::domain::history::{Action, GENESIS};
use crate::domain::history::{HistoryPage, HistoryRow};
use crate::domain::outbox::OutboxMessage;
use crate::domain::query::HistoryQuery;
use crate::error::{Error, Result};
use crate::export::{Column, ExportError, ExportFormat, RowWriter};
use std::io::Write;
use std::ops::ControlFlow;

/// What the audit found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    /// Rows checked (up to and including the first bad one).
    pub rows: u64,
    /// The hash of the newest good row: anchor it elsewhere to catch truncation.
    pub head: String,
    /// The first row that breaks the chain, and why.
    pub first_bad: Option<(i64, String)>,
    /// Where the store disagrees with keyward's schema or with its own
    /// history (a key's status, an operator's role): what a writer of the
    /// file could change without touching the chain.
    pub disagreements: Vec<String>,
}

impl Service {
    /// History rows matching the filter, newest first.
    pub fn history(&mut self, query: &HistoryQuery, limit: Option<u64>) -> Result<Vec<HistoryRow>> {
        check_actions(query)?;
        self.read(|db, _, now| db.history(query, now, limit))
    }

    /// One page of history rows matching the filter, newest first.
    pub fn history_page(
        &mut self,
        query: &HistoryQuery,
        page: HistoryPage,
        limit: u64,
    ) -> Result<Vec<HistoryRow>> {
        check_actions(query)?;
        self.read(|db, _, now| db.history_page(query, now, page, limit))
    }

    /// Hands the rows matching the filter (at most `limit`) to `visit`, newest
    /// first, from one snapshot; an export writes them out as they come.
    pub fn each_history(
        &mut self,
        query: &HistoryQuery,
        limit: Option<u64>,
        visit: impl FnMut(HistoryRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        check_actions(query)?;
        self.read(|db, _, now| db.each_history(query, now, limit, visit))
    }

    /// Writes the rows the filter matches (at most `limit`), newest first and
    /// in `columns`, to `out` as they come from one snapshot: an export of a
    /// million rows never holds them all. Returns how many rows it wrote.
    pub fn export_history(
        &mut self,
        query: &HistoryQuery,
        columns: &[Column],
        format: ExportFormat,
        limit: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<u64, ExportError> {
        let mut writer = RowWriter::start(out, format, columns)?;
        let mut rows = 0u64;
        let mut failed = None;
        self.each_history(query, limit, |row| {
            if let Err(e) = writer.row(&row) {
                failed = Some(e);
                return Ok(ControlFlow::Break(()));
            }
            rows += 1;
            Ok(ControlFlow::Continue(()))
        })?;
        if let Some(e) = failed {
            return Err(ExportError::Write(e));
        }
        writer.finish()?;
        Ok(rows)
    }

    /// The notification outbox, oldest first.
    pub fn notifications(&mut self, pending_only: bool) -> Result<Vec<OutboxMessage>> {
        self.read(|db, _, _| db.outbox(pending_only))
    }

    pub fn audit_verify(&mut self) -> Result<AuditReport> {
        self.read(|db, _, _| {
            let mut report = AuditReport {
                rows: 0,
                head: GENESIS.to_owned(),
                first_bad: None,
                disagreements: db.disagreements()?,
            };
            let mut expected_seq = 1;
            db.walk_history(|row| {
                report.rows += 1;
                let row = match row {
                    Ok(row) => row,
                    Err(bad) => {
                        report.first_bad = Some((
                            bad.seq,
                            format!(
                                "its values are not of the kinds keyward writes ({})",
                                bad.reason
                            ),
                        ));
                        return ControlFlow::Break(());
                    }
                };
                let seq = row.record.seq;
                let problem = if seq != expected_seq {
                    Some(match seq - expected_seq {
                        1 => format!("row {expected_seq} before it is missing"),
                        n if n > 1 => {
                            format!("rows {expected_seq} to {} before it are missing", seq - 1)
                        }
                        _ => format!("row {seq} appears out of order"),
                    })
                } else if row.record.chain_hash(&report.head) != row.hash {
                    Some("its hash does not match its contents and the row before it".to_owned())
                } else {
                    None
                };
                match problem {
                    Some(why) => {
                        report.first_bad = Some((seq, why));
                        ControlFlow::Break(())
                    }
                    None => {
                        report.head = row.hash;
                        expected_seq += 1;
                        ControlFlow::Continue(())
                    }
                }
            })?;
            Ok(report)
        })
    }
}

/// Refuses a filter naming an action that does not exist, rather than showing nothing.
fn check_actions(query: &HistoryQuery) -> Result<()> {
    match Action::unknown_in(query) {
        Some(why) => Err(Error::usage(format!("filter: {why}"))),
        None => Ok(()),
    }
}
