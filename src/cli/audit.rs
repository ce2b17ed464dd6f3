//! `keyward audit verify`: prove the credential history untouched, or name the
//! first row that is not. The head hash it prints can be kept elsewhere and
//! checked with `--expect-head`, which also catches the newest rows cut off.

use super::{Context, Outcome};
use keyward_core::safe_text::escape;
use std::io::Write;

pub fn run(ctx: &Context, expect_head: Option<&str>, out: &mut dyn Write) -> Outcome {
    let report = ctx.service()?.audit_verify()?;
    if let Some((seq, why)) = &report.first_bad {
        writeln!(
            out,
            "TAMPERED: history row {seq} is not as it was written: {why}. {} rows before it are intact.",
            report.rows.saturating_sub(1)
        )?;
        return Ok(1);
    }
    if let Some(expected) = expect_head {
        let expected = expected.trim();
        if !expected.eq_ignore_ascii_case(&report.head) {
            writeln!(
                out,
                "TAMPERED: the newest row's hash is {}, not the expected {}: rows were removed from the end or the expected head is from another store.",
                report.head,
                escape(expected)
            )?;
            return Ok(1);
        }
    }
    writeln!(out, "OK: {} history rows, hash chain intact.", report.rows)?;
    writeln!(out, "head {}", report.head)?;
    Ok(0)
}
