//! `keyward key …`: the key lifecycle from a shell.

use super::output::{
    TableStream, fields, key_json, local_date, local_time, opt_time, write_json, written,
};
use super::{Context, CreateArgs, Failure, KeyCommand, Outcome};
use keyward_core::domain::model::Key;
use keyward_core::domain::query::KeyQuery;
use keyward_core::error::Error;
use keyward_core::export::JsonArray;
use keyward_core::safe_text::escape;
use keyward_core::service::{EditKey, IssuedKey, NewKeyRequest, TeamChanges};
use serde_json::json;
use std::io::Write;

pub fn run(ctx: &Context, cmd: KeyCommand, out: &mut dyn Write) -> Outcome {
    // Confirmation and filter syntax are checked before the store is opened.
    let query = match &cmd {
        KeyCommand::List {
            filter: Some(f), ..
        } => KeyQuery::parse(f).map_err(Error::from)?,
        _ => KeyQuery::default(),
    };
    match &cmd {
        KeyCommand::Deactivate { ids, yes: false } => {
            return Err(unconfirmed(ids, "deactivating", "").into());
        }
        KeyCommand::Delete { ids, yes: false } => {
            return Err(unconfirmed(
                ids,
                "deleting",
                " (deleted keys leave the list, active ones are deactivated first)",
            )
            .into());
        }
        _ => {}
    }
    let mut service = ctx.service()?;
    match cmd {
        KeyCommand::Create(CreateArgs {
            name,
            instance,
            developer,
            channel,
            teams,
            expires,
            json,
        }) => {
            let issued = service.create_key(&NewKeyRequest {
                name,
                instance,
                developer,
                channel,
                teams,
                expires,
            })?;
            show_once(out, &issued, "created", json)?;
        }
        KeyCommand::List { all, json, .. } => {
            // Written as read, one key at a time: a million keys take the
            // memory of one.
            let each = |visit: &mut dyn FnMut(Key) -> keyward_core::error::Result<_>| {
                service.each_key(&query, all, visit)
            };
            if json {
                let mut array = JsonArray::start(out)?;
                written(each, |key| array.push(&key_json(&key)))?;
                array.finish()?;
            } else {
                let mut table = TableStream::new(LIST_COLUMNS, out);
                written(each, |key| table.row(list_cells(&key)))?;
                let empty = table.rows() == 0;
                table.finish()?;
                if empty {
                    writeln!(out, "No keys match.")?;
                }
            }
        }
        KeyCommand::Show { id, json } => {
            let key = service.show_key(&id)?;
            if json {
                write_json(out, &key_json(&key))?;
            } else {
                print_key(out, &key)?;
            }
        }
        KeyCommand::Edit {
            id,
            name,
            developer,
            channel,
            expires,
        } => {
            let key = service.edit_key(
                &id,
                &EditKey {
                    name,
                    developer,
                    channel,
                    expires,
                },
            )?;
            writeln!(out, "Updated {}.", key.masked())?;
            print_key(out, &key)?;
        }
        KeyCommand::Teams { ids, add, remove } => {
            let changed = service.change_teams(&ids, &TeamChanges { add, remove })?;
            for key in &changed {
                writeln!(
                    out,
                    "{}  {}  teams: {}",
                    key.masked(),
                    escape(&key.name),
                    escape(&key.teams.join(", "))
                )?;
            }
            writeln!(out, "{} of {} keys changed.", changed.len(), ids.len())?;
        }
        KeyCommand::Renew {
            id,
            grace,
            expires,
            json,
        } => {
            let issued = service.renew_key(&id, grace.as_deref(), expires.as_deref())?;
            show_once(out, &issued, "renewed", json)?;
        }
        KeyCommand::Deactivate { ids, .. } => {
            for key in service.deactivate_keys(&ids)? {
                writeln!(out, "Deactivated {}  {}", key.masked(), escape(&key.name))?;
            }
        }
        KeyCommand::Delete { ids, .. } => {
            for key in service.delete_keys(&ids)? {
                writeln!(out, "Deleted {}  {}", key.masked(), escape(&key.name))?;
            }
        }
    }
    Ok(0)
}

/// The refusal of a destructive action without `--yes`, saying what it would do.
fn unconfirmed(ids: &[String], doing: &str, also: &str) -> Error {
    let shown: Vec<String> = ids.iter().map(|i| escape(i).into_owned()).collect();
    let (keys, it) = match shown.as_slice() {
        [one] => (format!("key {one}"), "it"),
        _ => (format!("keys {}", shown.join(", ")), "them"),
    };
    Error::usage(format!(
        "{doing} {keys} cannot be undone{also}: integrations using {it} stop working until given a new key, and apps relying on {it} will fail; add --yes to confirm"
    ))
}

/// The one showing of a new secret, written through to the output at once:
/// if it cannot be, the key still changed, and the failure says so.
fn show_once(
    out: &mut dyn Write,
    issued: &IssuedKey,
    verb: &'static str,
    json: bool,
) -> Result<(), Failure> {
    // A closed standard output is reopened on /dev/null before main runs:
    // writing there "succeeds" and the secret is gone. Said, never taken
    // for success, as a full disk or a closed pipe is.
    let discarded = || {
        if stdout_is_null() {
            Err(std::io::Error::other(
                "standard output is /dev/null, closed or thrown away",
            ))
        } else {
            Ok(())
        }
    };
    discarded()
        .and_then(|()| print_issued(out, issued, verb, json))
        .and_then(|()| out.flush())
        .map_err(|cause| Failure::SecretLost {
            id: issued.key.public_id.clone(),
            verb,
            cause,
        })
}

/// Whether this process's standard output is the null device.
fn stdout_is_null() -> bool {
    use std::os::unix::fs::MetadataExt;
    let null = std::fs::metadata("/dev/null").map(|m| m.rdev());
    let out = nix::sys::stat::fstat(std::io::stdout()).map(|s| s.st_rdev);
    let char_device = nix::sys::stat::fstat(std::io::stdout())
        .is_ok_and(|s| s.st_mode & nix::libc::S_IFMT == nix::libc::S_IFCHR);
    matches!((null, out), (Ok(n), Ok(o)) if char_device && n == o)
}

/// The one showing of a new secret.
fn print_issued(
    out: &mut dyn Write,
    issued: &IssuedKey,
    verb: &str,
    json: bool,
) -> std::io::Result<()> {
    let key = &issued.key;
    if json {
        let mut value = key_json(key);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("key".to_owned(), json!(issued.token.expose()));
        }
        return write_json(out, &value);
    }
    writeln!(
        out,
        "Key {verb}. Copy it now: it will not be shown again.\n"
    )?;
    writeln!(out, "  {}\n", issued.token.expose())?;
    print_key(out, key)?;
    if let Some(until) = key.grace_until {
        writeln!(
            out,
            "\nThe previous secret keeps working until {}.",
            local_time(until)
        )?;
    }
    Ok(())
}

fn print_key(out: &mut dyn Write, key: &Key) -> std::io::Result<()> {
    fields(
        out,
        &[
            ("id", format!("kw_{}", key.public_id)),
            ("masked", key.masked()),
            ("name", key.name.clone()),
            ("instance", format!("{} ({})", key.instance, key.cloud)),
            ("developer", key.developer.clone()),
            ("channel", key.channel.clone()),
            ("teams", key.teams.join(", ")),
            ("status", key.status.to_string()),
            ("expires", opt_time(key.expires_at, "never")),
            (
                "created",
                format!("{} by {}", local_time(key.created_at), key.created_by),
            ),
            ("last used", opt_time(key.last_used_at, "never")),
            ("use count", key.use_count.to_string()),
        ],
    )
}

const LIST_COLUMNS: &[&str] = &[
    "KEY",
    "NAME",
    "INSTANCE",
    "DEVELOPER",
    "CHANNEL",
    "TEAMS",
    "EXPIRES",
    "STATUS",
    "LAST USED",
];

/// A key's cells in `key list`, in [`LIST_COLUMNS`]' order.
fn list_cells(k: &Key) -> [String; 9] {
    [
        k.masked(),
        k.name.clone(),
        k.instance.clone(),
        k.developer.clone(),
        k.channel.clone(),
        k.teams.join(","),
        k.expires_at.map_or_else(|| "never".to_owned(), local_date),
        k.status.to_string(),
        opt_time(k.last_used_at, "never"),
    ]
}

/// The verify answer: `"valid": true` and the key as `key show --json` has it.
pub fn verified_json(key: &Key) -> serde_json::Value {
    let mut answer = serde_json::Map::new();
    answer.insert("valid".to_owned(), json!(true));
    if let serde_json::Value::Object(fields) = key_json(key) {
        answer.extend(fields);
    }
    serde_json::Value::Object(answer)
}
