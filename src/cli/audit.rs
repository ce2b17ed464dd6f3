//! `keyward audit verify`: prove the credential history untouched, or name the
//! first row that is not. The head hash it prints can be kept elsewhere and
//! checked with `--expect-head`, which also catches the newest rows cut off.
//! It also holds the store to keyward's own schema and to what its history
//! says of each key's status and each operator's role.

use super::{Context, Outcome};
use keyward_core::safe_text::escape;
use std::io::Write;

pub fn run(ctx: &Context, expect_head: Option<&str>, out: &mut dyn Write) -> Outcome {
    let report = ctx.service()?.audit_verify()?;
    let mut tampered = false;
    if let Some((seq, why)) = &report.first_bad {
        tampered = true;
        writeln!(
            out,
            "TAMPERED: history row {seq} is not as it was written: {why}. {} rows before it are intact.",
            report.rows.saturating_sub(1)
        )?;
    }
    if !report.disagreements.is_empty() {
        tampered = true;
        writeln!(
            out,
            "TAMPERED: the store disagrees with keyward's schema or with its own history:"
        )?;
        for d in &report.disagreements {
            writeln!(out, "  {d}")?;
        }
    }
    if let Some(expected) = expect_head {
        if report.first_bad.is_none() && expected != report.head {
            tampered = true;
            writeln!(
                out,
                "TAMPERED: the newest row's hash is {}, not the expected {}: rows were removed from the end or the expected head is from another store.",
                report.head,
                escape(expected)
            )?;
        }
    }
    if tampered {
        return Ok(1);
    }
    writeln!(out, "OK: {} history rows, hash chain intact.", report.rows)?;
    writeln!(out, "head {}", report.head)?;
    Ok(0)
}
