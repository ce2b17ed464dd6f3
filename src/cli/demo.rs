//! `keyward demo`: sample data for a try-out, in a store of its own: the store
//! given by `--db`, else `demo.db` beside the store keyward would use. It
//! creates that store (this login as an admin) or adds to a demo store made
//! earlier, and refuses a store with real data in it (exit 5).

use super::{Context, Outcome};
use keyward_core::access::Presence;
use keyward_core::service::Service;
use keyward_core::service::demo::{DemoReport, DemoSpec};
use std::io::Write;

pub fn run(ctx: &Context, keys: u64, history: Option<u64>, out: &mut dyn Write) -> Outcome {
    let spec = DemoSpec { keys, history };
    // The store given, else demo.db beside the file store keyward would use
    // (beside the default one when that is a server).
    let location = if ctx.db_given {
        ctx.db.clone()
    } else {
        ctx.db.demo_beside()
    };
    let r = match location.presence()? {
        Presence::Denied(e) => return Err(e.into()),
        Presence::Present => Service::open_at(
            &location,
            ctx.origin()?,
            ctx.clock.clone(),
            ctx.config.settings(),
        )?
        .demo(spec)?,
        Presence::Missing => {
            let origin = ctx.origin()?;
            let login = origin.login.clone();
            let email = format!("{login}@example.org");
            let (_, r) = Service::create_demo_at(
                &location,
                origin,
                ctx.clock.clone(),
                &login,
                &email,
                spec,
            )?;
            writeln!(
                out,
                "Created the demo store {} with {} as an admin; its history is credited to the demo's own operators.",
                keyward_core::safe_text::escape(&location.to_string()),
                keyward_core::safe_text::escape(&login)
            )?;
            r
        }
    };
    report(&r, out)?;
    // A path is untrusted text too: one with an escape sequence is shown
    // escaped (and a shell would want it quoted).
    writeln!(
        out,
        "Open it with: keyward --db {}",
        keyward_core::safe_text::escape(&location.to_string())
    )?;
    Ok(0)
}

fn report(r: &DemoReport, out: &mut dyn Write) -> std::io::Result<()> {
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
    )
}
