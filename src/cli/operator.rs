//! `keyward operator add|list|remove|role`.

use super::output::{Table, local_time, write_json};
use super::{Context, OperatorCommand, Outcome};
use keyward_core::domain::model::Operator;
use keyward_core::safe_text::escape;
use keyward_core::service::rfc3339;
use serde_json::{Value, json};
use std::io::Write;

pub fn run(ctx: &Context, cmd: OperatorCommand, out: &mut dyn Write) -> Outcome {
    let mut service = ctx.service()?;
    match cmd {
        OperatorCommand::Add {
            login,
            name,
            email,
            role,
        } => {
            let op = service.add_operator(&login, &name, &email, role)?;
            writeln!(out, "Added {} as {}.", escape(&op.login), op.role)?;
        }
        OperatorCommand::List { json } => {
            let ops = service.list_operators()?;
            if json {
                let list: Vec<_> = ops.iter().map(operator_json).collect();
                write_json(out, &json!(list))?;
            } else {
                let mut t = Table::new(&["LOGIN", "NAME", "EMAIL", "ROLE", "SINCE"]);
                for o in &ops {
                    t.row([
                        o.login.clone(),
                        o.name.clone(),
                        o.email.clone(),
                        o.role.to_string(),
                        local_time(o.created_at),
                    ]);
                }
                t.write(out)?;
            }
        }
        OperatorCommand::Remove { login } => {
            let op = service.remove_operator(&login)?;
            writeln!(out, "Removed operator {} ({}).", escape(&op.login), op.role)?;
        }
        OperatorCommand::Role { login, role, json } => {
            let op = service.set_operator_role(&login, role)?;
            if json {
                write_json(out, &operator_json(&op))?;
            } else {
                writeln!(out, "{} is now {}.", escape(&op.login), op.role)?;
            }
        }
    }
    Ok(0)
}

fn operator_json(o: &Operator) -> Value {
    json!({
        "login": o.login, "name": o.name, "email": o.email,
        "role": o.role.as_str(), "created_at": rfc3339(o.created_at),
    })
}
