//! `keyward init`: create the store with this login as its first admin.

use super::{Context, Outcome};
use keyward_core::safe_text::escape;
use std::io::Write;

pub fn run(ctx: &Context, name: &str, email: &str, out: &mut dyn Write) -> Outcome {
    let origin = ctx.origin()?;
    let login = origin.login.clone();
    ctx.create_store(origin, name, email)?;
    writeln!(
        out,
        "Created the store at {}; {} is its admin.",
        escape(&ctx.db.to_string()),
        escape(&login)
    )?;
    writeln!(
        out,
        "Next: add an instance with `keyward instance add NAME --cloud CLOUD`, then keys with `keyward key create`."
    )?;
    Ok(0)
}
