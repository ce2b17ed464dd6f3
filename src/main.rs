//! The keyward binary: parse the command line, run it, and leave with the exit
//! code of SPEC §6 — an error is one line on stderr, never a panic or backtrace.

use clap::Parser;
use clap::error::ErrorKind;
use keyward::cli::{self, Cli, Failure};
use keyward_core::safe_text::escape_message;
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything can hold a secret. A kernel that refuses is no reason
    // not to run: the store and the screen work the same.
    let _ = keyward::harden::keep_secrets_out_of_dumps();
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        eprintln!("keyward: internal error{location}: {message}");
    }));

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                return ExitCode::from(2);
            }
            _ => {
                // clap quotes the offending value as typed: bidi, C1 and zero-width
                // characters must not reach the terminal raw.
                let message = one_line(&e.to_string());
                eprintln!("keyward: {} (see --help)", escape_message(&message));
                return ExitCode::from(2);
            }
        },
    };

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = cli::run(cli, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => ExitCode::from(code as u8),
        // A reader that went away (`keyward key list | head`) is not an error.
        // Whatever the cause, a closed pipe included: the key changed and its
        // only showing is gone.
        Err(Failure::SecretLost { id, verb, cause }) => {
            eprintln!(
                "keyward: key kw_{id} was {verb}, but its secret could not be written ({cause}); it is never shown again: renew it (keyward key renew kw_{id}) to get a new one"
            );
            ExitCode::from(1)
        }
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("keyward: cannot write output: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Keyward(e)) => {
            let _ = out.flush();
            let message = e.to_string().replace(['\n', '\r'], " ");
            eprintln!("keyward: {}", escape_message(&message));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// clap's message spread over lines — the error, what it is about (such as the
/// missing flags), tips, usage — folded into the one line the contract allows.
fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect();
    let text = parts.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    if text.is_empty() {
        "invalid arguments".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn missing_flags_are_named_on_the_one_line() {
        let clap = "error: the following required arguments were not provided:\n  --instance <INSTANCE>\n  --channel <CHANNEL>\n\nUsage: keyward key create --name <NAME>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(clap),
            "the following required arguments were not provided: --instance <INSTANCE> --channel <CHANNEL>"
        );
    }
}
