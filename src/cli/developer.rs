//! `keyward developer list|remove`.

use super::output::{Table, write_json};
use super::{Context, DeveloperCommand, Outcome};
use keyward_core::safe_text::escape;
use serde_json::json;
use std::io::Write;

pub fn run(ctx: &Context, cmd: DeveloperCommand, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    match cmd {
        DeveloperCommand::List { instance, json } => {
            let list = service.list_developers(instance.as_deref())?;
            if json {
                let list: Vec<_> = list
                    .iter()
                    .map(|d| {
                        json!({
                            "name": d.name, "instance": d.instance,
                            "active_keys": d.active_keys, "keys": d.keys,
                        })
                    })
                    .collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&["DEVELOPER", "INSTANCE", "ACTIVE", "KEYS"]);
                for d in &list {
                    t.row([
                        d.name.clone(),
                        d.instance.clone(),
                        d.active_keys.to_string(),
                        d.keys.to_string(),
                    ]);
                }
                t.write(out)?;
            }
        }
        DeveloperCommand::Remove {
            name,
            instance,
            deactivate_keys,
        } => {
            let deactivated = service.remove_developer(&name, &instance, deactivate_keys)?;
            for key in &deactivated {
                writeln!(out, "Deactivated {}  {}", key.masked(), escape(&key.name))?;
            }
            writeln!(
                out,
                "Removed developer {} from {}.",
                escape(&name),
                escape(&instance)
            )?;
        }
    }
    Ok(0)
}
