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
    /// The hash of the newest row when the chain is intact (the genesis hash
    /// when it is not): anchor it elsewhere to catch truncation.
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
            let disagreements = db.disagreements()?;
            let chain = ChainCheck::new();
            // Rows go to the hashers in batches, a few batches at most in
            // flight: memory stays that of the batches whatever the length.
            let (batches, inbox) = std::sync::mpsc::sync_channel::<Vec<Link>>(HASHERS * 2);
            let inbox = std::sync::Mutex::new(inbox);
            let walked = std::thread::scope(|scope| {
                for _ in 0..HASHERS {
                    scope.spawn(|| {
                        // The lock is held only to take the next batch.
                        while let Some(batch) = inbox.lock().ok().and_then(|rx| rx.recv().ok()) {
                            chain.check(&batch);
                        }
                    });
                }
                let walked = chain.walk(db, &batches);
                // The hashers end once the last batch is taken.
                drop(batches);
                walked
            })?;
            Ok(chain.report(walked, disagreements))
        })
    }
}

/// Rows hashed by other threads than the one reading the history: the
/// reading (and the order of the sequence numbers) is one walk, the hashes,
/// each needing only its row and the hash stored in the row before it, are
/// checked in parallel.
const HASHERS: usize = 2;
/// Rows handed to a hasher at a time.
const LINK_BATCH: usize = 2048;

/// A row with the hash stored in the row before it: all its hash needs.
struct Link {
    row: HistoryRow,
    prev: String,
}

/// `audit verify`'s walk: the sequence checked in order as rows are read,
/// their hashes checked by the hashers, and the first bad row of either kind.
struct ChainCheck {
    /// The lowest sequence number a hasher found a wrong hash at.
    bad_hash: std::sync::atomic::AtomicI64,
}

/// What the walk itself found: rows read, the newest row's hash, and the
/// first row that is unreadable, out of order or has rows missing before it.
struct Walked {
    rows: u64,
    head: String,
    first_bad: Option<(i64, String)>,
}

impl ChainCheck {
    fn new() -> ChainCheck {
        ChainCheck {
            bad_hash: std::sync::atomic::AtomicI64::new(i64::MAX),
        }
    }

    /// Reads the history in order, checking its sequence and handing each
    /// row to the hashers; stops at a bad row, or once a hasher found one.
    fn walk(
        &self,
        db: &crate::store::Db,
        hashers: &std::sync::mpsc::SyncSender<Vec<Link>>,
    ) -> Result<Walked> {
        use std::sync::atomic::Ordering;
        let mut rows = 0u64;
        let mut head = GENESIS.to_owned();
        let mut first_bad = None;
        let mut expected_seq = 1;
        let mut batch = Vec::with_capacity(LINK_BATCH);
        db.walk_history(|row| {
            rows += 1;
            let row = match row {
                Ok(row) => row,
                Err(bad) => {
                    first_bad = Some((
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
            if seq != expected_seq {
                let why = match seq - expected_seq {
                    1 => format!("row {expected_seq} before it is missing"),
                    n if n > 1 => {
                        format!("rows {expected_seq} to {} before it are missing", seq - 1)
                    }
                    _ => format!("row {seq} appears out of order"),
                };
                first_bad = Some((seq, why));
                return ControlFlow::Break(());
            }
            expected_seq += 1;
            let prev = std::mem::replace(&mut head, row.hash.clone());
            batch.push(Link { row, prev });
            if batch.len() == LINK_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(LINK_BATCH));
                // A hasher found a bad row already: what follows cannot matter.
                if hashers.send(full).is_err() || self.bad_hash.load(Ordering::Relaxed) < seq {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })?;
        if !batch.is_empty() {
            // The hashers are gone only if one panicked, which the scope reports.
            let _ = hashers.send(batch);
        }
        Ok(Walked {
            rows,
            head,
            first_bad,
        })
    }

    /// Checks each row's hash against its contents and the row before it,
    /// noting the first that does not match.
    fn check(&self, batch: &[Link]) {
        use std::sync::atomic::Ordering;
        if let Some(bad) = batch
            .iter()
            .find(|l| l.row.record.chain_hash(&l.prev) != l.row.hash)
        {
            self.bad_hash
                .fetch_min(bad.row.record.seq, Ordering::Relaxed);
        }
    }

    /// The first bad row, of whichever kind came first in the sequence.
    fn report(self, walked: Walked, disagreements: Vec<String>) -> AuditReport {
        let bad_hash = self.bad_hash.into_inner();
        let Walked {
            rows,
            head,
            first_bad: walked_bad,
        } = walked;
        // A wrong hash counts the rows up to it (1 to its sequence number, in
        // order, or the walk would have stopped first); the walk's own find
        // counts the rows it read.
        let hash_bad = (bad_hash != i64::MAX).then(|| {
            (
                bad_hash,
                "its hash does not match its contents and the row before it".to_owned(),
                u64::try_from(bad_hash).unwrap_or(rows),
            )
        });
        let walked_bad = walked_bad.map(|(seq, why)| (seq, why, rows));
        let first_bad = match (walked_bad, hash_bad) {
            (Some(w), Some(h)) => Some(if h.0 < w.0 { h } else { w }),
            (w, h) => w.or(h),
        };
        match first_bad {
            Some((seq, why, rows)) => AuditReport {
                rows,
                head: GENESIS.to_owned(),
                first_bad: Some((seq, why)),
                disagreements,
            },
            None => AuditReport {
                rows,
                head,
                first_bad: None,
                disagreements,
            },
        }
    }
}

/// Refuses a filter naming an action that does not exist, rather than showing nothing.
fn check_actions(query: &HistoryQuery) -> Result<()> {
    match Action::unknown_in(query) {
        Some(why) => Err(Error::usage(format!("filter: {why}"))),
        None => Ok(()),
    }
}
