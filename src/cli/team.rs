//! `keyward team add|list|rename|remove`.

use super::output::{Table, write_json};
use super::{Context, Outcome, TeamCommand};
use keyward_core::domain::model::Team;
use keyward_core::safe_text::escape;
use keyward_core::service::rfc3339;
use serde_json::{Value, json};
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
                let list: Vec<_> = teams.iter().map(team_json).collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&["TEAM", "KEYS"]);
                for team in &teams {
                    t.row([team.name.clone(), team.keys.to_string()]);
                }
                t.write(out)?;
            }
        }
        TeamCommand::Rename { name, to, json } => {
            let team = service.rename_team(&name, &to)?;
            if json {
                write_json(out, &team_json(&team))?;
            } else {
                writeln!(
                    out,
                    "Renamed team {} to {}; its {} key(s) keep it.",
                    escape(name.trim()),
                    escape(&team.name),
                    team.keys
                )?;
            }
        }
        TeamCommand::Remove { name, json } => {
            let removed = service.remove_team(&name)?;
            if json {
                let mut object = team_json(&removed.team);
                object["removed_from"] = json!(removed.keys);
                write_json(out, &object)?;
            } else {
                writeln!(
                    out,
                    "Removed team {}; {} key(s) left it.",
                    escape(&removed.team.name),
                    removed.keys.len()
                )?;
            }
        }
    }
    Ok(0)
}

fn team_json(t: &Team) -> Value {
    json!({ "name": t.name, "keys": t.keys, "created_at": rfc3339(t.created_at) })
}
