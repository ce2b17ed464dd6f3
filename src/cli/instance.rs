//! `keyward instance add|list`.

use super::output::{Table, write_json};
use super::{Context, InstanceCommand, Outcome};
use keyward_core::safe_text::escape;
use keyward_core::service::{InstanceSpec, rfc3339};
use serde_json::json;
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
                let list: Vec<_> = list
                    .iter()
                    .map(|i| {
                        json!({
                            "name": i.name, "cloud": i.cloud.as_str(), "url": i.url,
                            "max_active": i.max_active, "active_keys": i.active_keys,
                            "keys": i.keys, "created_at": rfc3339(i.created_at),
                        })
                    })
                    .collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&["NAME", "CLOUD", "URL", "MAX ACTIVE", "ACTIVE", "KEYS"]);
                for i in &list {
                    t.row([
                        i.name.clone(),
                        i.cloud.to_string(),
                        i.url.clone().unwrap_or_default(),
                        i.max_active.to_string(),
                        i.active_keys.to_string(),
                        i.keys.to_string(),
                    ]);
                }
                t.write(out)?;
            }
        }
    }
    Ok(0)
}
