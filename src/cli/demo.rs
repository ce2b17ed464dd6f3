//! `keyward demo`: sample data for a try-out, creating the store if needed.

use super::{Context, Outcome};
use keyward_core::service::demo::DemoSpec;
use std::io::Write;

pub fn run(ctx: &Context, keys: u64, history: Option<u64>, out: &mut dyn Write) -> Outcome {
    let mut service = if ctx.db.exists() {
        ctx.service()?
    } else {
        let origin = ctx.origin()?;
        let name = origin.login.clone();
        let email = format!("{}@example.org", origin.login);
        writeln!(
            out,
            "Creating a store at {} with {} as admin.",
            ctx.db.display(),
            origin.login
        )?;
        ctx.create_store(origin, &name, &email)?
    };
    let r = service.demo(DemoSpec { keys, history })?;
    writeln!(
        out,
        "Added {} keys ({} active, {} expired, {} deactivated, {} deleted), {} instances, {} developers, {} teams and {} history rows.",
        r.keys,
        r.active,
        r.expired,
        r.deactivated,
        r.deleted,
        r.instances,
        r.developers,
        r.teams,
        r.history
    )?;
    writeln!(
        out,
        "Demo keys share one hash of a discarded secret: none of them can verify."
    )?;
    Ok(0)
}
