//! `keyward instance add|list|edit|retire`.

use super::output::{Table, write_json};
use super::{Context, InstanceCommand, Outcome};
use keyward_core::domain::model::Instance;
use keyward_core::safe_text::escape;
use keyward_core::service::{InstanceEdit, InstanceEditEffect, InstanceSpec, rfc3339};
use serde_json::{Value, json};
use std::io::Write;

pub fn run(ctx: &Context, cmd: InstanceCommand, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    match cmd {
        InstanceCommand::Add {
            name,
            cloud,
            url,
            max_active,
        } => {
            let inst = service.add_instance(&InstanceSpec {
                name,
                cloud,
                url,
                max_active,
            })?;
            writeln!(
                out,
                "Added instance {} ({}); up to {} active keys per integration.",
                escape(&inst.name),
                inst.cloud,
                inst.max_active
            )?;
        }
        InstanceCommand::List { json } => {
            let list = service.list_instances()?;
            if json {
                let list: Vec<_> = list.iter().map(instance_json).collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&[
                    "NAME",
                    "CLOUD",
                    "URL",
                    "MAX ACTIVE",
                    "ACTIVE",
                    "KEYS",
                    "STATUS",
                ]);
                for i in &list {
                    t.row([
                        i.name.clone(),
                        i.cloud.to_string(),
                        i.url.clone().unwrap_or_default(),
                        i.max_active.to_string(),
                        i.active_keys.to_string(),
                        i.keys.to_string(),
                        status(i).to_owned(),
                    ]);
                }
                t.write(out)?;
            }
        }
        InstanceCommand::Edit {
            name,
            cloud,
            url,
            max_active,
            json,
        } => {
            let effect = service.edit_instance(
                &name,
                &InstanceEdit {
                    cloud,
                    url,
                    max_active,
                },
            )?;
            if json {
                let mut object = instance_json(&effect.after);
                object["changes"] = Value::Object(effect.changes());
                object["keys_changing_cloud"] = json!(effect.keys_changing_cloud);
                object["over_limit"] = json!(
                    effect
                        .over_limit
                        .iter()
                        .map(|l| json!({
                            "developer": l.developer, "channel": l.channel,
                            "active_keys": l.active_keys,
                        }))
                        .collect::<Vec<_>>()
                );
                write_json(out, &object)?;
            } else {
                write_effect(out, &effect)?;
            }
        }
        InstanceCommand::Retire { name, json } => {
            let inst = service.retire_instance(&name)?;
            if json {
                write_json(out, &instance_json(&inst))?;
            } else {
                writeln!(
                    out,
                    "Retired instance {}; it takes no new keys.",
                    escape(&inst.name)
                )?;
            }
        }
    }
    Ok(0)
}

fn status(i: &Instance) -> &'static str {
    if i.is_retired() { "retired" } else { "active" }
}

/// An instance as `instance list --json` prints it.
fn instance_json(i: &Instance) -> Value {
    json!({
        "name": i.name, "cloud": i.cloud.as_str(), "url": i.url,
        "max_active": i.max_active, "active_keys": i.active_keys,
        "keys": i.keys, "created_at": rfc3339(i.created_at),
        "status": status(i), "retired_at": i.retired_at.map(rfc3339),
    })
}

/// What an edit changed, and what that means for the instance's keys.
fn write_effect(out: &mut dyn Write, effect: &InstanceEditEffect) -> std::io::Result<()> {
    let (before, after) = (&effect.before, &effect.after);
    writeln!(out, "Edited instance {}.", escape(&after.name))?;
    if before.cloud != after.cloud {
        writeln!(
            out,
            "  cloud: {} → {} ({} key(s) change cloud)",
            before.cloud, after.cloud, effect.keys_changing_cloud
        )?;
    }
    if before.url != after.url {
        let shown = |u: &Option<String>| {
            u.as_deref()
                .map_or("(none)".to_owned(), |u| escape(u).into_owned())
        };
        writeln!(out, "  url: {} → {}", shown(&before.url), shown(&after.url))?;
    }
    if before.max_active != after.max_active {
        writeln!(
            out,
            "  max active: {} → {}",
            before.max_active, after.max_active
        )?;
    }
    for load in &effect.over_limit {
        writeln!(
            out,
            "  over the new limit: developer {}, channel {}: {} active keys stay active; no new key until fewer than {}",
            escape(&load.developer),
            escape(&load.channel),
            load.active_keys,
            after.max_active
        )?;
    }
    Ok(())
}
