//! `keyward developer list|remove|add|rename`.

use super::output::{Table, write_json};
use super::{Context, DeveloperCommand, Outcome};
use keyward_core::domain::model::Developer;
use keyward_core::safe_text::escape;
use serde_json::{Value, json};
use std::io::Write;

pub fn run(ctx: &Context, cmd: DeveloperCommand, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    match cmd {
        DeveloperCommand::List { instance, json } => {
            let list = service.list_developers(instance.as_deref())?;
            if json {
                let list: Vec<_> = list.iter().map(developer_json).collect();
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
        DeveloperCommand::Add {
            name,
            instance,
            json,
        } => {
            let dev = service.add_developer(&name, &instance)?;
            if json {
                write_json(out, &developer_json(&dev))?;
            } else {
                writeln!(
                    out,
                    "Added developer {} to {}.",
                    escape(&dev.name),
                    escape(&dev.instance)
                )?;
            }
        }
        DeveloperCommand::Rename {
            name,
            instance,
            to,
            json,
        } => {
            let dev = service.rename_developer(&name, &instance, &to)?;
            if json {
                write_json(out, &developer_json(&dev))?;
            } else {
                writeln!(
                    out,
                    "Renamed developer {} of {} to {}; their {} key(s) follow.",
                    escape(name.trim()),
                    escape(&dev.instance),
                    escape(&dev.name),
                    dev.keys
                )?;
            }
        }
    }
    Ok(0)
}

fn developer_json(d: &Developer) -> Value {
    json!({
        "name": d.name, "instance": d.instance,
        "active_keys": d.active_keys, "keys": d.keys,
    })
}
