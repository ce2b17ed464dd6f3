//! `keyward` with no subcommand: a summary of the store for this operator —
//! who you are, how many keys stand where, and which expire soon.

use super::output::{Table, local_date};
use super::{Context, Outcome};
use crate::domain::model::KeyStatus;
use crate::domain::query::KeyQuery;
use crate::error::Error;
use crate::safe_text::escape;
use std::io::Write;

pub fn run(ctx: &Context, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    let me = service.whoami()?;
    let keys = service.list_keys(&KeyQuery::default(), false, None)?;
    let count = |s: KeyStatus| keys.iter().filter(|k| k.status == s).count();
    writeln!(
        out,
        "keyward store {} — you are {} ({}).",
        service.store().path().display(),
        escape(&me.name),
        me.role
    )?;
    writeln!(
        out,
        "{} keys: {} active, {} expired, {} deactivated.",
        keys.len(),
        count(KeyStatus::Active),
        count(KeyStatus::Expired),
        count(KeyStatus::Deactivated)
    )?;
    // Keys expiring within the configured threshold are listed; 0 lists none.
    let soon_days = ctx.config.expiring_soon_days;
    let expiring = if soon_days == 0 {
        Vec::new()
    } else {
        let soon = KeyQuery::parse(&format!("status:active expires:<{soon_days}d"))
            .map_err(Error::from)?;
        service.list_keys(&soon, false, None)?
    };
    if !expiring.is_empty() {
        writeln!(out, "\nExpiring within {soon_days} days:")?;
        let mut t = Table::new(&["KEY", "NAME", "INSTANCE", "DEVELOPER", "EXPIRES"]);
        for k in &expiring {
            t.row([
                k.masked(),
                k.name.clone(),
                k.instance.clone(),
                k.developer.clone(),
                k.expires_at.map(local_date).unwrap_or_default(),
            ]);
        }
        t.write(out)?;
    }
    writeln!(out, "\nSee `keyward --help` for every command.")?;
    Ok(0)
}
