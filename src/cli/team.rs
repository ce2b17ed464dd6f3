//! `keyward team add|list`.

use super::output::{Table, write_json};
use super::{Context, Outcome, TeamCommand};
use keyward_core::safe_text::escape;
use keyward_core::service::rfc3339;
use serde_json::json;
use std::io::Write;

pub fn run(ctx: &Context, cmd: TeamCommand, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    match cmd {
        TeamCommand::Add { name } => {
            let team = service.add_team(&name)?;
            writeln!(out, "Added team {}.", escape(&team.name))?;
        }
        TeamCommand::List { json } => {
            let teams = service.list_teams()?;
            if json {
                let list: Vec<_> = teams
                    .iter()
                    .map(|t| json!({ "name": t.name, "keys": t.keys, "created_at": rfc3339(t.created_at) }))
                    .collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&["TEAM", "KEYS"]);
                for team in &teams {
                    t.row([team.name.clone(), team.keys.to_string()]);
                }
                t.write(out)?;
            }
        }
    }
    Ok(0)
}
