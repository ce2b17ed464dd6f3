//! `keyward verify`: the key comes on standard input, never in argv, where any
//! user of the host could read it from the process list.

use super::key::verified_json;
use super::{Context, Outcome};
use keyward_core::domain::KeyToken;
use keyward_core::service::{Verdict, VerifyFailure};
use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Read, Write};
use zeroize::Zeroizing;

/// More than this is not a key; reading stops there.
const MAX_INPUT: u64 = 4096;

pub fn run(ctx: &Context, out: &mut dyn Write) -> Outcome {
    let stdin = std::io::stdin();
    let raw = if stdin.is_terminal() {
        read_typed_key(&stdin)?
    } else {
        read_key(&mut stdin.lock())?
    };
    answer(ctx, &raw, out)
}

/// Everything on standard input, up to one byte past the most a key can be.
fn read_key(input: &mut dyn Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut raw = Zeroizing::new(Vec::with_capacity(128));
    input.take(MAX_INPUT + 1).read_to_end(&mut raw)?;
    Ok(raw)
}

/// One line typed at a terminal, not echoed, so the key never reaches the
/// screen or its scrollback.
fn read_typed_key(stdin: &std::io::Stdin) -> std::io::Result<Zeroizing<Vec<u8>>> {
    eprint!("Key (not shown): ");
    let saved = tcgetattr(stdin).ok();
    if let Some(mut quiet) = saved.clone() {
        // Ctrl-C (or a hang-up, or `kill`) while the key is typed must not
        // leave the terminal without echo: the signal puts it back, then ends
        // the process as the signal would.
        restore_on_signal(saved.clone());
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(stdin, SetArg::TCSANOW, &quiet);
    }
    let mut raw = Zeroizing::new(Vec::with_capacity(128));
    let read = stdin.lock().take(MAX_INPUT + 1).read_until(b'\n', &mut raw);
    if let Some(original) = saved {
        let _ = tcsetattr(stdin, SetArg::TCSANOW, &original);
    }
    eprintln!();
    read.map(|_| raw)
}

/// Watches the signals that end a process from the terminal or outside; on
/// one, puts the terminal's `original` modes back and exits 128 + it. For
/// the rest of the process: a signal during the check that follows ends it
/// as before, only with the terminal whole.
fn restore_on_signal(original: Option<nix::sys::termios::Termios>) {
    use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
    ]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("keyward-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if let Some(original) = &original {
                    let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, original);
                }
                eprintln!();
                std::process::exit(128 + signal);
            }
        });
}

fn answer(ctx: &Context, raw: &[u8], out: &mut dyn Write) -> Outcome {
    let token = (raw.len() as u64 <= MAX_INPUT)
        .then(|| std::str::from_utf8(raw).ok())
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
