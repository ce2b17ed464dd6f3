//! Turns the typed smart-filter queries of `domain::query` into SQL conditions
//! with bound parameters: no value from a query is ever pasted into SQL text.

use crate::domain::query::{
    Facing, HistoryQuery, HistoryTermKind, KeyQuery, Pattern, TeamMatch, TermKind, TimeBound,
};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;

/// A condition under construction, `?` placeholders bound in order.
#[derive(Default)]
pub struct Sql {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Sql {
    pub fn and(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    fn bind(&mut self, v: impl Into<Value>) -> &'static str {
        self.params.push(v.into());
        "?"
    }

    /// The conditions joined with AND; `1` when there are none.
    pub fn condition(&self) -> String {
        if self.conditions.is_empty() {
            "1".to_owned()
        } else {
            self.conditions.join(" AND ")
        }
    }

    pub fn params(&self) -> impl Iterator<Item = &Value> {
        self.params.iter()
    }

    /// `column` matches one of the name patterns (ASCII case-insensitive).
    fn names(&mut self, column: &str, patterns: &[Pattern]) -> String {
        let alternatives: Vec<String> = patterns
            .iter()
            .map(|p| match p {
                Pattern::Exact(v) => format!("{column} = {} COLLATE NOCASE", self.bind(v.clone())),
                Pattern::Prefix(v) => format!(
                    "{column} LIKE {} ESCAPE '\\'",
                    self.bind(format!("{}%", like_escape(v)))
                ),
            })
            .collect();
        or(alternatives)
    }

    /// `column` lies in the bound's range; `never` means NULL.
    fn time(
        &mut self,
        column: &str,
        bound: &TimeBound,
        now: DateTime<Utc>,
        facing: Facing,
    ) -> String {
        let Some(range) = bound.range(now, facing) else {
            return format!("{column} IS NULL");
        };
        let mut parts = vec![format!("{column} IS NOT NULL")];
        if let Some(from) = range.from {
            parts.push(format!("{column} >= {}", self.bind(from)));
        }
        if let Some(until) = range.until {
            parts.push(format!("{column} < {}", self.bind(until)));
        }
        format!("({})", parts.join(" AND "))
    }

    /// `column` contains `text` (ASCII case-insensitive).
    fn contains(&mut self, column: &str, text: &str) -> String {
        format!(
            "{column} LIKE {} ESCAPE '\\'",
            self.bind(format!("%{}%", like_escape(text)))
        )
    }

    /// Negation treats an unknown (NULL) comparison as "does not match".
    fn push_term(&mut self, negated: bool, condition: String) {
        if negated {
            self.and(format!("NOT COALESCE(({condition}), 0)"));
        } else {
            self.and(condition);
        }
    }
}

fn or(alternatives: Vec<String>) -> String {
    if alternatives.is_empty() {
        "0".to_owned()
    } else {
        format!("({})", alternatives.join(" OR "))
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Adds the conditions of a key query; the key table is aliased `k`.
pub fn key_filter(sql: &mut Sql, query: &KeyQuery, now: i64) {
    let now_dt = DateTime::from_timestamp(now, 0).unwrap_or_default();
    for term in &query.terms {
        let condition = match &term.kind {
            TermKind::Status(statuses) => {
                let alternatives = statuses
                    .iter()
                    .map(|s| match s {
                        crate::domain::KeyStatus::Active => format!(
                            "(k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > {}))",
                            sql.bind(now)
                        ),
                        crate::domain::KeyStatus::Expired => format!(
                            "(k.status = 'active' AND k.expires_at <= {})",
                            sql.bind(now)
                        ),
                        crate::domain::KeyStatus::Deactivated => {
                            "k.status = 'deactivated'".to_owned()
                        }
                        crate::domain::KeyStatus::Deleted => "k.status = 'deleted'".to_owned(),
                    })
                    .collect();
                or(alternatives)
            }
            TermKind::Team(TeamMatch { no_team, names }) => {
                let mut alternatives = Vec::new();
                if *no_team {
                    alternatives.push(
                        "NOT EXISTS (SELECT 1 FROM key_teams kt WHERE kt.key_id = k.id)".to_owned(),
                    );
                }
                if !names.is_empty() {
                    let names = sql.names("t.name", names);
                    alternatives.push(format!(
                        "k.id IN (SELECT kt.key_id FROM key_teams kt JOIN teams t ON t.id = kt.team_id WHERE {names})"
                    ));
                }
                or(alternatives)
            }
            TermKind::Instance(patterns) => {
                let names = sql.names("name", patterns);
                format!("k.instance_id IN (SELECT id FROM instances WHERE {names})")
            }
            TermKind::Developer(patterns) => {
                let names = sql.names("name", patterns);
                format!("k.developer_id IN (SELECT id FROM developers WHERE {names})")
            }
            TermKind::Channel(patterns) => {
                let names = sql.names("name", patterns);
                format!("k.channel_id IN (SELECT id FROM channels WHERE {names})")
            }
            TermKind::Cloud(clouds) => {
                let alternatives = clouds
                    .iter()
                    .map(|c| format!("cloud = {}", sql.bind(c.as_str().to_owned())))
                    .collect();
                format!(
                    "k.instance_id IN (SELECT id FROM instances WHERE {})",
                    or(alternatives)
                )
            }
            TermKind::Expires(bound) => sql.time("k.expires_at", bound, now_dt, Facing::Future),
            TermKind::Created(bound) => sql.time("k.created_at", bound, now_dt, Facing::Past),
            TermKind::Used(bound) => sql.time("k.last_used_at", bound, now_dt, Facing::Past),
            TermKind::Deactivated(bound) => {
                sql.time("k.deactivated_at", bound, now_dt, Facing::Past)
            }
            TermKind::Id(pattern) => match pattern {
                Pattern::Exact(v) => format!("k.public_id = {}", sql.bind(v.clone())),
                // Public ids are case-sensitive base62: GLOB keeps case, and a
                // pattern with glob characters matches nothing.
                Pattern::Prefix(v) if v.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    format!("k.public_id GLOB {}", sql.bind(format!("{v}*")))
                }
                Pattern::Prefix(_) => "0".to_owned(),
            },
            TermKind::Text(text) => {
                let parts = vec![
                    sql.contains("k.name", text),
                    sql.contains("k.public_id", text),
                    format!(
                        "k.instance_id IN (SELECT id FROM instances WHERE {})",
                        sql.contains("name", text)
                    ),
                    format!(
                        "k.developer_id IN (SELECT id FROM developers WHERE {})",
                        sql.contains("name", text)
                    ),
                    format!(
                        "k.channel_id IN (SELECT id FROM channels WHERE {})",
                        sql.contains("name", text)
                    ),
                    format!(
                        "k.id IN (SELECT kt.key_id FROM key_teams kt JOIN teams t ON t.id = kt.team_id WHERE {})",
                        sql.contains("t.name", text)
                    ),
                ];
                or(parts)
            }
        };
        sql.push_term(term.negated, condition);
    }
}

/// Adds the conditions of a history query; the history table is aliased `h`.
pub fn history_filter(sql: &mut Sql, query: &HistoryQuery, now: i64) {
    let now_dt = DateTime::from_timestamp(now, 0).unwrap_or_default();
    for term in &query.terms {
        let condition = match &term.kind {
            HistoryTermKind::Action(actions) => {
                let alternatives = actions
                    .iter()
                    .map(|a| format!("h.action = {}", sql.bind(a.clone())))
                    .collect();
                or(alternatives)
            }
            HistoryTermKind::Key(id) => format!("h.key_id = {}", sql.bind(id.clone())),
            HistoryTermKind::Operator(patterns) => {
                let login = sql.names("h.login", patterns);
                let name = sql.names("h.operator", patterns);
                format!("({login} OR {name})")
            }
            HistoryTermKind::At(bound) => sql.time("h.at", bound, now_dt, Facing::Past),
            HistoryTermKind::Text(text) => {
                let parts = [
                    "h.subject",
                    "h.masked",
                    "h.details",
                    "h.operator",
                    "h.login",
                ]
                .iter()
                .map(|c| sql.contains(c, text))
                .collect();
                or(parts)
            }
        };
        sql.push_term(term.negated, condition);
    }
}
