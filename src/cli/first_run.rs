//! First run of bare `keyward` with no store yet: asks the operator's name and
//! email on the terminal, creates the store with this login as its admin, and
//! offers sample data. Without a terminal it says how to do the same by flags.

use super::{Context, Outcome};
use crate::error::Error;
use crate::safe_text::escape;
use crate::service::demo::DemoSpec;
use std::io::{BufRead, IsTerminal, Write};

pub fn run(ctx: &Context, input: &mut dyn BufRead, out: &mut dyn Write) -> Outcome {
    if !std::io::stdin().is_terminal() {
        return Err(Error::store(format!(
            "no store at {}; create one with `keyward init --name NAME --email EMAIL` or `keyward demo`",
            ctx.db.display()
        ))
        .into());
    }
    let origin = ctx.origin()?;
    writeln!(
        out,
        "Welcome to keyward. There is no store at {} yet.",
        ctx.db.display()
    )?;
    writeln!(
        out,
        "You, {}, will be its first admin.\n",
        escape(&origin.login)
    )?;
    let name = ask(input, out, "Your name: ")?;
    let email = ask(input, out, "Your email: ")?;
    let mut service = ctx.create_store(origin, &name, &email)?;
    writeln!(out, "\nCreated the store at {}.", ctx.db.display())?;
    let demo = ask(input, out, "Load sample data to try keyward out? [y/N] ")?;
    if demo.eq_ignore_ascii_case("y") || demo.eq_ignore_ascii_case("yes") {
        let r = service.demo(DemoSpec::default())?;
        writeln!(
            out,
            "Added {} sample keys across {} instances.",
            r.keys, r.instances
        )?;
    }
    writeln!(out)?;
    Ok(0)
}

fn ask(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    prompt: &str,
) -> Result<String, super::Failure> {
    write!(out, "{prompt}")?;
    out.flush()?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Err(Error::usage("no answer given; nothing was created").into());
    }
    Ok(line.trim().to_owned())
}
