//! A history row's details (a JSON object) as people read them: a one-line
//! summary for a table cell (`developer: Ana → Ben, expires: +30 d`) and one
//! `field: before → after` line per change for a row opened in full. Every
//! string from the store is escaped here, so the result is safe to draw.

use crate::safe_text::escape;
use chrono::DateTime;
use serde_json::{Map, Value};

/// One line of an opened row: a field and its value, or what it was before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailLine {
    pub field: String,
    /// The value before the action, when the action changed the field.
    pub before: Option<String>,
    pub after: String,
}

impl DetailLine {
    fn value(field: &str, after: String) -> DetailLine {
        DetailLine {
            field: field.to_owned(),
            before: None,
            after,
        }
    }

    fn change(field: &str, before: String, after: String) -> DetailLine {
        DetailLine {
            field: field.to_owned(),
            before: Some(before),
            after,
        }
    }
}

impl std::fmt::Display for DetailLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.before {
            Some(before) => write!(f, "{}: {before} → {}", self.field, self.after),
            None => write!(f, "{}: {}", self.field, self.after),
        }
    }
}

/// What a field is called on screen: `expires_at` reads `expires`.
fn label(field: &str) -> String {
    let short = match field {
        "expires_at" => "expires",
        "grace_until" => "grace until",
        "max_active" => "limit",
        "deactivated_keys" => "keys deactivated",
        other => other,
    };
    escape(short).into_owned()
}

/// A value in full, escaped: strings bare, `null` as a dash, dates as dates.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.to_utc().format("%Y-%m-%d %H:%M UTC").to_string(),
            Err(_) => escape(s).into_owned(),
        },
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        Value::Object(_) => escape(&v.to_string()).into_owned(),
        other => other.to_string(),
    }
}

/// A date value as Unix seconds.
fn instant(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp())
}

/// A span of seconds the short way: `30 d`, `24h`, `45 min`.
fn span(secs: i64) -> String {
    let a = secs.abs();
    if a >= 2 * 86_400 {
        format!("{} d", (a + 43_200) / 86_400)
    } else if a >= 3_600 {
        format!("{}h", (a + 1_800) / 3_600)
    } else {
        format!("{} min", (a + 30) / 60)
    }
}

/// `{"from": x, "to": y}`, the shape every change is written in.
fn from_to(v: &Value) -> Option<(&Value, &Value)> {
    let o = v.as_object()?;
    if o.len() == 2 {
        Some((o.get("from")?, o.get("to")?))
    } else {
        None
    }
}

/// A change in one line: dates as how far they moved, the rest as before → after.
fn short_change(field: &str, from: &Value, to: &Value) -> String {
    match (instant(from), instant(to)) {
        (Some(a), Some(b)) if a != b => {
            let sign = if b > a { '+' } else { '−' };
            format!("{}: {sign}{}", label(field), span(b - a))
        }
        _ => format!("{}: {} → {}", label(field), show(from), show(to)),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|items| items.iter().map(show).collect())
        .unwrap_or_default()
}

/// `+payments −ops`: teams added and removed.
fn team_moves(o: &Map<String, Value>) -> String {
    let added = strings(o.get("added")).into_iter().map(|t| format!("+{t}"));
    let removed = strings(o.get("removed"))
        .into_iter()
        .map(|t| format!("−{t}"));
    added.chain(removed).collect::<Vec<_>>().join(" ")
}

/// The one-line summary of a row's details; `at` is when the row was written
/// (a grace period is said as its length from then). Unknown shapes fall back
/// to `field: value` pairs, and `{"field":{"from":…,"to":…}}` to the change.
pub fn summary(action: &str, details: &str, at: i64) -> String {
    let Ok(value) = serde_json::from_str::<Value>(details) else {
        return escape(details).into_owned();
    };
    let Value::Object(o) = value else {
        return show(&value);
    };
    let get = |k: &str| o.get(k).map(show).unwrap_or_default();
    match action {
        "created" if o.contains_key("developer") => {
            let mut parts = vec![
                format!("{} / {}", get("developer"), get("channel")),
                format!("on {}", get("instance")),
            ];
            let teams = strings(o.get("teams"));
            if !teams.is_empty() {
                parts.push(format!("teams: {}", teams.join(", ")));
            }
            parts.push(match o.get("expires_at").and_then(instant) {
                Some(t) => format!("expires: +{}", span(t - at)),
                None => "never expires".to_owned(),
            });
            parts.join(", ")
        }
        "renewed" if o.contains_key("grace_until") || o.contains_key("expires_at") => {
            let mut parts = vec!["renewed".to_owned()];
            // The new expiry as a date: a change "+188 d" read as "expires in
            // 188 days" for a key renewed long after it had expired.
            if let Some((from, to)) = o.get("expires_at").and_then(from_to) {
                if from != to {
                    parts.push(
                        match to
                            .as_str()
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        {
                            Some(t) => format!("expires {}", t.to_utc().format("%Y-%m-%d")),
                            None => "never expires".to_owned(),
                        },
                    );
                }
            }
            parts.push(match o.get("grace_until").and_then(instant) {
                Some(until) => format!("grace {}", span(until - at)),
                None => "no grace".to_owned(),
            });
            parts.join(", ")
        }
        "teams_changed" if o.contains_key("added") || o.contains_key("removed") => {
            format!("teams: {}", team_moves(&o))
        }
        "deactivated" if o.contains_key("was") => format!("status: {} → deactivated", get("was")),
        "verify_failed" if o.contains_key("reason") => format!("reason: {}", get("reason")),
        "copied" if o.contains_key("via") => format!("via {}", get("via")),
        "operator_added" | "operator_removed" if o.contains_key("role") => {
            format!("{} <{}>, {}", get("name"), get("email"), get("role"))
        }
        "instance_added" if o.contains_key("cloud") => {
            let url = o.get("url").filter(|u| !u.is_null()).map(show);
            let mut s = get("cloud");
            if let Some(url) = url {
                s.push_str(&format!(" {url}"));
            }
            format!("{s}, limit {}", get("max_active"))
        }
        "developer_removed" if o.contains_key("deactivated_keys") => {
            let n = strings(o.get("deactivated_keys")).len();
            format!("on {}, {n} keys deactivated", get("instance"))
        }
        "notification_sent" if o.contains_key("event") => {
            format!("{} to {} via {}", get("event"), get("to"), get("via"))
        }
        _ => generic(&o),
    }
}

/// Any object: changes as `field: before → after`, other fields as `field: value`.
fn generic(o: &Map<String, Value>) -> String {
    o.iter()
        .map(|(k, v)| match from_to(v) {
            Some((from, to)) => short_change(k, from, to),
            None => format!("{}: {}", label(k), show(v)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every field of a row's details, one line each; a change keeps its before
/// and after in full. Team changes say the teams before and after.
pub fn lines(action: &str, details: &str) -> Vec<DetailLine> {
    let Ok(value) = serde_json::from_str::<Value>(details) else {
        return vec![DetailLine::value("details", escape(details).into_owned())];
    };
    let Value::Object(o) = value else {
        return vec![DetailLine::value("details", show(&value))];
    };
    if action == "teams_changed" && o.contains_key("teams") {
        let after = strings(o.get("teams"));
        let added = strings(o.get("added"));
        let removed = strings(o.get("removed"));
        let mut before: Vec<String> = after
            .iter()
            .filter(|t| !added.contains(t))
            .cloned()
            .chain(removed)
            .collect();
        before.sort();
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(", ")
            }
        };
        return vec![
            DetailLine::change("teams", list(&before), list(&after)),
            DetailLine::value("added", list(&added)),
        ];
    }
    if action == "deactivated" && o.len() == 1 {
        if let Some(was) = o.get("was") {
            return vec![DetailLine::change(
                "status",
                show(was),
                "deactivated".to_owned(),
            )];
        }
    }
    o.iter()
        .map(|(k, v)| match from_to(v) {
            Some((from, to)) => DetailLine::change(&label(k), show(from), show(to)),
            None => DetailLine::value(&label(k), show(v)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-05-28 00:00 UTC.
    const AT: i64 = 1_779_926_400;

    #[test]
    fn an_edit_reads_as_before_and_after_and_a_moved_expiry_as_days() {
        let d = r#"{"developer":{"from":"Ana","to":"Ben"},"expires_at":{"from":"2026-06-01T00:00:00Z","to":"2026-07-01T00:00:00Z"}}"#;
        assert_eq!(
            summary("updated", d, AT),
            "developer: Ana → Ben, expires: +30 d"
        );
        let lines: Vec<String> = lines("updated", d).iter().map(|l| l.to_string()).collect();
        assert_eq!(
            lines,
            [
                "developer: Ana → Ben",
                "expires: 2026-06-01 00:00 UTC → 2026-07-01 00:00 UTC"
            ]
        );
    }

    #[test]
    fn an_expiry_set_or_cleared_names_both_ends() {
        let d = r#"{"expires_at":{"from":null,"to":"2026-07-01T00:00:00Z"}}"#;
        assert_eq!(
            summary("updated", d, AT),
            "expires: — → 2026-07-01 00:00 UTC"
        );
        let d = r#"{"expires_at":{"from":"2026-07-01T00:00:00Z","to":"2026-06-01T00:00:00Z"}}"#;
        assert_eq!(summary("updated", d, AT), "expires: −30 d");
    }

    #[test]
    fn a_deactivation_reads_as_a_status_change() {
        let d = r#"{"was":"active"}"#;
        assert_eq!(
            summary("deactivated", d, AT),
            "status: active → deactivated"
        );
        let l = lines("deactivated", d);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].to_string(), "status: active → deactivated");
    }

    #[test]
    fn a_renewal_says_its_grace_and_new_expiry() {
        let d = r#"{"previous":"kw_x_…AAAA","expires_at":{"from":"2026-06-01T00:00:00Z","to":"2026-08-26T00:00:00Z"},"grace_until":"2026-05-29T00:00:00Z"}"#;
        assert_eq!(
            summary("renewed", d, AT),
            "renewed, expires 2026-08-26, grace 24h"
        );
        let d =
            r#"{"previous":"kw_x_…AAAA","expires_at":{"from":null,"to":null},"grace_until":null}"#;
        assert_eq!(summary("renewed", d, AT), "renewed, no grace");
        let l = lines("renewed", d);
        assert_eq!(l[0].to_string(), "previous: kw_x_…AAAA");
    }

    #[test]
    fn team_changes_read_as_plus_and_minus_and_open_as_before_and_after() {
        let d = r#"{"added":["payments"],"removed":["ops"],"teams":["payments","web"]}"#;
        assert_eq!(summary("teams_changed", d, AT), "teams: +payments −ops");
        assert_eq!(
            lines("teams_changed", d)[0].to_string(),
            "teams: ops, web → payments, web"
        );
        let d = r#"{"added":["a"],"removed":[],"teams":["a"]}"#;
        assert_eq!(lines("teams_changed", d)[0].to_string(), "teams: none → a");
    }

    #[test]
    fn a_created_key_says_who_where_and_for_how_long() {
        let d = r#"{"instance":"prod","developer":"Ana","channel":"ci","teams":["ops"],"expires_at":"2026-08-26T00:00:00Z"}"#;
        assert_eq!(
            summary("created", d, AT),
            "Ana / ci, on prod, teams: ops, expires: +90 d"
        );
        let d =
            r#"{"instance":"prod","developer":"Ana","channel":"ci","teams":[],"expires_at":null}"#;
        assert_eq!(
            summary("created", d, AT),
            "Ana / ci, on prod, never expires"
        );
    }

    #[test]
    fn every_other_shape_the_service_writes_has_its_summary() {
        for (action, d, want) in [
            (
                "deactivated",
                r#"{"was":"active"}"#,
                "status: active → deactivated",
            ),
            (
                "verify_failed",
                r#"{"reason":"mismatch"}"#,
                "reason: mismatch",
            ),
            ("copied", r#"{"via":"osc52"}"#, "via osc52"),
            (
                "operator_added",
                r#"{"name":"Ana","email":"ana@x.org","role":"admin"}"#,
                "Ana <ana@x.org>, admin",
            ),
            (
                "operator_removed",
                r#"{"name":"Bo","email":"bo@x.org","role":"viewer"}"#,
                "Bo <bo@x.org>, viewer",
            ),
            (
                "instance_added",
                r#"{"cloud":"salesforce","url":"https://x.my.salesforce.com","max_active":2}"#,
                "salesforce https://x.my.salesforce.com, limit 2",
            ),
            (
                "instance_added",
                r#"{"cloud":"salesforce","url":null,"max_active":2}"#,
                "salesforce, limit 2",
            ),
            (
                "developer_removed",
                r#"{"instance":"prod","deactivated_keys":["a","b"]}"#,
                "on prod, 2 keys deactivated",
            ),
            (
                "notification_sent",
                r#"{"message":4,"event":"created","keys":["a"],"to":"m@x.org","recipient":"m","via":"smtp","attempts":1}"#,
                "created to m@x.org via smtp",
            ),
            ("viewed", "{}", ""),
            ("deleted", "{}", ""),
            ("store_created", "{}", ""),
            ("team_added", "{}", ""),
        ] {
            assert_eq!(summary(action, d, AT), want, "{action} {d}");
        }
    }

    #[test]
    fn unknown_shapes_fall_back_to_fields_and_generic_changes() {
        // What Directory operations write: {"field":{"from":…,"to":…}}.
        let d = r#"{"url":{"from":"https://a","to":"https://b"},"max_active":{"from":2,"to":3}}"#;
        assert_eq!(
            summary("instance_edited", d, AT),
            "url: https://a → https://b, limit: 2 → 3"
        );
        assert_eq!(
            lines("instance_edited", d)[1],
            DetailLine::change("limit", "2".into(), "3".into())
        );
        assert_eq!(
            summary("team_renamed", r#"{"name":{"from":"ops","to":"sre"}}"#, AT),
            "name: ops → sre"
        );
        assert_eq!(
            summary(
                "something_new",
                r#"{"count":3,"ok":true,"who":["a","b"]}"#,
                AT
            ),
            "count: 3, ok: true, who: a, b"
        );
        // A known action with a shape it did not use to have.
        assert_eq!(summary("deactivated", r#"{"why":"leak"}"#, AT), "why: leak");
        assert_eq!(summary("renewed", r#"{"grace":"7d"}"#, AT), "grace: 7d");
        assert_eq!(summary("x", "not json", AT), "not json");
        assert_eq!(summary("x", "[1,2]", AT), "1, 2");
    }

    #[test]
    fn strings_from_the_store_are_escaped() {
        let d = "{\"developer\":{\"from\":\"\\u001b[31mAna\",\"to\":\"B\\u202eob\"}}";
        let s = summary("updated", d, AT);
        assert_eq!(s, "developer: \\e[31mAna → B\\u{202e}ob");
        assert!(!s.contains('\u{1b}'));
        let l = lines("updated", d);
        assert_eq!(l[0].before.as_deref(), Some("\\e[31mAna"));
        assert_eq!(summary("x", "\u{1b}]52;c;x\u{7}", AT), "\\e]52;c;x\\u{7}");
        assert_eq!(
            summary("x", "{\"na\\u001bme\":1}", AT),
            "na\\eme: 1",
            "field names too"
        );
    }
}
