//! The Directory tab's confirmations: retiring an instance, removing a
//! developer (whose keys are deactivated first, each named), a team or an
//! operator. They are the one confirmation window's (`windows::confirm`):
//! these cannot be taken back, so only `y` confirms, and a long list scrolls.

use super::Change;
use crate::tui::windows::confirm::{Confirm, NAMED_IN_CONFIRM, Pending, count_keys, warnings};
use keyward_core::domain::model::{Developer, Instance, Key, Operator, Team};

fn confirm(title: String, lines: Vec<String>, change: Change) -> Confirm {
    Confirm::new(title, lines, Pending::Directory(change))
}

/// Removing a developer: `keys` are their active keys, read from the store
/// when the admin asked; each is named, with the deactivation warnings.
pub fn remove_developer(instance: &Instance, dev: &Developer, keys: &[Key]) -> Confirm {
    let mut lines = vec![format!(
        "{} leaves the developers of {}; their keys' history stays.",
        dev.name, instance.name
    )];
    if keys.is_empty() {
        lines.push("They have no active key.".to_owned());
    } else {
        lines.push(format!(
            "Their {} deactivated first:",
            if keys.len() == 1 {
                "active key is".to_owned()
            } else {
                format!("{} active keys are", keys.len())
            }
        ));
        lines.extend(warnings(keys.len()));
        lines.push(String::new());
        lines.extend(
            keys.iter()
                .take(NAMED_IN_CONFIRM)
                .map(|k| format!("  • {} (kw_{}, {})", k.name, k.public_id, k.channel)),
        );
        if keys.len() > NAMED_IN_CONFIRM {
            lines.push(format!("  … and {} more", keys.len() - NAMED_IN_CONFIRM));
        }
    }
    confirm(
        format!("Remove developer {}?", dev.name),
        lines,
        Change::RemoveDeveloper {
            instance: instance.name.clone(),
            name: dev.name.clone(),
        },
    )
}

/// Retiring an instance with no active key (the tab refuses one with any).
pub fn retire_instance(inst: &Instance) -> Confirm {
    confirm(
        format!("Retire instance {}?", inst.name),
        vec![
            format!(
                "{} takes no new keys once retired, and cannot be changed again.",
                inst.name
            ),
            format!(
                "None of its {} is active; their history stays.",
                count_keys(inst.keys as usize)
            ),
        ],
        Change::RetireInstance(inst.name.clone()),
    )
}

/// Removing a team: says how many keys it leaves without it.
pub fn remove_team(team: &Team) -> Confirm {
    confirm(
        format!("Remove team {}?", team.name),
        vec![
            format!(
                "{} leave{} the team; the keys themselves stay as they are.",
                count_keys(team.keys as usize),
                if team.keys == 1 { "s" } else { "" }
            ),
            "Each key's history records the change.".to_owned(),
        ],
        Change::RemoveTeam(team.name.clone()),
    )
}

pub fn remove_operator(op: &Operator) -> Confirm {
    confirm(
        format!("Remove operator {}?", op.login),
        vec![
            format!(
                "{} ({}, {}) can no longer use keyward on this store.",
                op.name, op.email, op.role
            ),
            "Their history stays.".to_owned(),
        ],
        Change::RemoveOperator(op.login.clone()),
    )
}
