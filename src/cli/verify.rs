//! `keyward verify`: the key comes on standard input, never in argv, where any
//! user of the host could read it from the process list.

use super::key::verified_json;
use super::{Context, Outcome};
use crate::domain::KeyToken;
use crate::service::{Verdict, VerifyFailure};
use serde_json::json;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// More than this is not a key; reading stops there.
const MAX_INPUT: u64 = 4096;

pub fn run(ctx: &Context, input: &mut dyn Read, out: &mut dyn Write) -> Outcome {
    let mut raw = Zeroizing::new(Vec::with_capacity(128));
    input.take(MAX_INPUT + 1).read_to_end(&mut raw)?;
    let token = (raw.len() as u64 <= MAX_INPUT)
        .then(|| std::str::from_utf8(&raw).ok())
        .flatten()
        .and_then(|s| KeyToken::parse(s).ok());
    // A malformed key is rejected by its checksum without opening the store.
    let verdict = match token {
        None => Verdict::Invalid(VerifyFailure::Malformed),
        Some(token) => ctx.service()?.verify(&token)?,
    };
    match verdict {
        Verdict::Valid(key) => {
            writeln!(out, "{}", verified_json(&key))?;
            Ok(0)
        }
        Verdict::Invalid(failure) => {
            writeln!(
                out,
                "{}",
                json!({ "valid": false, "reason": failure.as_str() })
            )?;
            Ok(1)
        }
    }
}
