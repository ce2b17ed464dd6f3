//! Turns the typed smart-filter queries of `domain::query` into SQL conditions
//! with bound parameters: no value from a query is ever pasted into SQL text.

use super::sql::SqlValue;
use crate::domain::query::{
    Facing, HistoryQuery, HistoryTermKind, KeyQuery, Pattern, TeamMatch, TermKind, TimeBound,
    fold_case,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

/// The SQL name of [`fold_case`]: SQLite's own `lower()`, `NOCASE` and `LIKE` fold ASCII only,
/// so `developer:élodie` would miss "Élodie". Both sides of every name comparison go through
/// the same Rust function, the query's values when they are bound and the stored names here.
pub const FOLD: &str = "kw_fold";

/// Makes [`FOLD`] available on a connection. Deterministic and innocuous, so SQLite may use it
/// anywhere, even with `trusted_schema` off.
pub fn register_fold(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        FOLD,
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            // Names are text; other values fold as the text SQLite would give them.
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                    Some(fold_case(&String::from_utf8_lossy(bytes)))
                }
                ValueRef::Integer(n) => Some(n.to_string()),
                ValueRef::Real(x) => Some(x.to_string()),
                ValueRef::Null => None,
            })
        },
    )
}

/// A condition under construction, `?` placeholders bound in order.
#[derive(Default)]
pub struct Sql {
    conditions: Vec<String>,
    params: Vec<SqlValue>,
}

impl Sql {
    pub fn and(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    /// Binds `v` to the next placeholder, which it returns to put in the
    /// condition: conditions take their values in the order they are added.
    pub fn bind(&mut self, v: impl super::sql::Arg) -> &'static str {
        self.params.push(v.value());
        "?"
    }

    /// The conditions joined with AND; `TRUE` when there are none.
    pub fn condition(&self) -> String {
        if self.conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            self.conditions.join(" AND ")
        }
    }

    pub fn params(&self) -> impl Iterator<Item = &SqlValue> {
        self.params.iter()
    }

    /// `column` matches one of the name patterns, case folded with Unicode rules.
    fn names(&mut self, column: &str, patterns: &[Pattern]) -> String {
        let alternatives: Vec<String> = patterns
            .iter()
            .map(|p| match p {
                Pattern::Exact(_) => format!("{FOLD}({column}) = {}", self.bind(p.folded())),
                Pattern::Prefix(_) => self.begins(column, p),
            })
            .collect();
        or(alternatives)
    }

    /// `column` begins with the pattern's text, case folded with Unicode rules.
    fn begins(&mut self, column: &str, p: &Pattern) -> String {
        format!(
            "{FOLD}({column}) LIKE {} ESCAPE '\\'",
            self.bind(format!("{}%", like_escape(&p.folded())))
        )
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

    /// `column` contains `text`, case folded with Unicode rules.
    fn contains(&mut self, column: &str, text: &str) -> String {
        format!(
            "{FOLD}({column}) LIKE {} ESCAPE '\\'",
            self.bind(format!("%{}%", like_escape(&fold_case(text))))
        )
    }

    /// Negation treats an unknown (NULL) comparison as "does not match".
    fn push_term(&mut self, negated: bool, condition: String) {
        if negated {
            self.and(format!("NOT COALESCE(({condition}), FALSE)"));
        } else {
            self.and(condition);
        }
    }
}

fn or(alternatives: Vec<String>) -> String {
    if alternatives.is_empty() {
        "FALSE".to_owned()
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
            // Every id value is a beginning (`id:5O9U`), as the README's examples use it.
            // Public ids are case-sensitive base62: the beginning is compared as it
            // is (LIKE would fold case in SQLite), and a value with anything else in
            // it matches nothing.
            TermKind::Id(patterns) => or(patterns
                .iter()
                .map(|p| {
                    let v = p.text();
                    if v.chars().all(|c| c.is_ascii_alphanumeric()) {
                        format!(
                            "substr(k.public_id, 1, {}) = {}",
                            v.len(),
                            sql.bind(v.to_owned())
                        )
                    } else {
                        "FALSE".to_owned()
                    }
                })
                .collect()),
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

/// How free-text history search finds its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    /// From SQLite's `history_words` trigram index, then checked row by row.
    Indexed,
    /// From the condition alone: PostgreSQL plans it over its own trigram
    /// index of the folded columns.
    Planned,
}

/// The most trigrams a search asks the index for: more would narrow a
/// result that the word itself is checked against anyway.
const MOST_TRIGRAMS: usize = 16;

/// The FTS5 query for the rows of `history_words` holding every trigram of
/// `folded` (or an even spread of sixteen of them); `None` where the text
/// is shorter than a trigram, so no index can help.
pub fn trigram_match(folded: &str) -> Option<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut trigrams: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        // A NUL cannot be bound inside an FTS5 string; leaving its trigrams
        // out only widens the rows checked.
        let trigram: String = window.iter().collect();
        if !trigram.contains('\0') && !trigrams.contains(&trigram) {
            trigrams.push(trigram);
        }
    }
    if trigrams.is_empty() {
        return None;
    }
    let n = trigrams.len();
    let picked: Vec<String> = (0..n.min(MOST_TRIGRAMS))
        .map(|i| &trigrams[i * n / n.min(MOST_TRIGRAMS)])
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    Some(picked.join(" AND "))
}

/// Adds the conditions of a history query; the history table is aliased `h`.
pub fn history_filter(sql: &mut Sql, query: &HistoryQuery, now: i64, words: Words) {
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
            // A login or a name, or its beginning: `operator:ana` finds `ana.lopez`.
            HistoryTermKind::Operator(patterns) => {
                let alternatives = patterns
                    .iter()
                    .flat_map(|p| [sql.begins("h.login", p), sql.begins("h.operator", p)])
                    .collect();
                or(alternatives)
            }
            HistoryTermKind::At(bound) => sql.time("h.at", bound, now_dt, Facing::Past),
            HistoryTermKind::Text(text) => {
                // Bound first: the index's condition comes first in the text.
                let indexed = trigram_match(&fold_case(text))
                    .filter(|_| words == Words::Indexed)
                    .map(|found| sql.bind(found));
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
                let exact = or(parts);
                match indexed {
                    // The index finds the few rows that may hold the word;
                    // the word itself is checked on those rows only.
                    Some(found) => format!(
                        "(h.seq IN (SELECT rowid FROM history_words WHERE history_words MATCH {found}) AND {exact})"
                    ),
                    None => exact,
                }
            }
        };
        sql.push_term(term.negated, condition);
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::Role;
    use crate::domain::query::{HistoryQuery, KeyQuery};
    use crate::service::{InstanceSpec, NewKeyRequest, Service};
    use crate::testing::TempStore;

    fn key(service: &mut Service, name: &str, developer: &str, channel: &str, team: &str) {
        service
            .create_key(&NewKeyRequest {
                name: name.into(),
                instance: "Ærø-prod".into(),
                developer: developer.into(),
                channel: channel.into(),
                teams: vec![team.into()],
                expires: None,
            })
            .unwrap();
    }

    /// A store whose names need more than ASCII case folding.
    fn unicode_store() -> (TempStore, Service) {
        let store = TempStore::new();
        let mut service = store.admin();
        service
            .add_instance(&InstanceSpec {
                name: "Ærø-prod".into(),
                cloud: crate::domain::Cloud::Other,
                url: None,
                max_active: None,
            })
            .unwrap();
        key(&mut service, "Straße Sync", "Élodie Dubois", "ÇI", "æro");
        key(&mut service, "plain", "ben", "api", "ΟΜΑΔΑ");
        (store, service)
    }

    fn names(service: &mut Service, filter: &str) -> Vec<String> {
        let query = KeyQuery::parse(filter).unwrap();
        let mut names: Vec<String> = service
            .list_keys(&query, false, None)
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn names_fold_case_with_unicode_rules_in_the_store() {
        let (_store, mut service) = unicode_store();
        let sync = vec!["Straße Sync".to_string()];
        assert_eq!(names(&mut service, "developer:\"élodie dubois\""), sync);
        assert_eq!(names(&mut service, "developer:ÉLODIE*"), sync);
        assert_eq!(names(&mut service, "team:ÆRO"), sync);
        assert_eq!(names(&mut service, "team:Æ*"), sync);
        assert_eq!(names(&mut service, "channel:çi"), sync);
        assert_eq!(names(&mut service, "instance:ærø-PROD").len(), 2);
        assert_eq!(names(&mut service, "team:ομαδα"), vec!["plain".to_string()]);
        // Free text folds on both sides too.
        assert_eq!(names(&mut service, "STRASSE"), Vec::<String>::new());
        assert_eq!(names(&mut service, "straße"), sync);
        assert_eq!(names(&mut service, "éLODIE"), sync);
        assert_eq!(names(&mut service, "-team:ÆRO"), vec!["plain".to_string()]);
    }

    #[test]
    fn ids_match_by_their_beginning_with_alternatives() {
        let (_store, mut service) = unicode_store();
        let keys = service
            .list_keys(&KeyQuery::default(), false, None)
            .unwrap();
        let (a, b) = (&keys[0].public_id, &keys[1].public_id);
        let by_id = |service: &mut Service, filter: String| {
            let query = KeyQuery::parse(&filter).unwrap();
            let mut ids: Vec<String> = service
                .list_keys(&query, false, None)
                .unwrap()
                .into_iter()
                .map(|k| k.public_id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(
            by_id(&mut service, format!("id:{}", &a[..4])),
            vec![a.clone()]
        );
        assert_eq!(by_id(&mut service, format!("id:kw_{a}")), vec![a.clone()]);
        let mut both = vec![a.clone(), b.clone()];
        both.sort();
        assert_eq!(
            by_id(&mut service, format!("id:{},kw_{}", &a[..5], &b[..3])),
            both
        );
        // Public ids keep their case.
        let flipped: String = a[..4]
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        if flipped != a[..4] {
            assert!(!by_id(&mut service, format!("id:{flipped}")).contains(a));
        }
    }

    #[test]
    fn a_pasted_key_finds_its_key() {
        let store = TempStore::new();
        let mut service = store.admin();
        service
            .add_instance(&InstanceSpec {
                name: "acme".into(),
                cloud: crate::domain::Cloud::Other,
                url: None,
                max_active: None,
            })
            .unwrap();
        let issued = service
            .create_key(&NewKeyRequest {
                name: "leaked".into(),
                instance: "acme".into(),
                developer: "ana".into(),
                channel: "ci".into(),
                teams: vec![],
                expires: None,
            })
            .unwrap();
        let query = KeyQuery::parse(issued.token.expose()).unwrap();
        let found = service.list_keys(&query, false, None).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].public_id, issued.key.public_id);
    }

    #[test]
    fn operator_matches_the_beginning_of_a_login_or_a_name_folded() {
        let store = TempStore::new();
        let mut admin = store.admin();
        admin
            .add_instance(&InstanceSpec {
                name: "acme".into(),
                cloud: crate::domain::Cloud::Other,
                url: None,
                max_active: None,
            })
            .unwrap();
        admin
            .add_operator("lodie.d", "Élodie Dubois", "e@example.org", Role::Manager)
            .unwrap();
        let mut elodie = store.service_as("lodie.d", Role::Manager);
        elodie
            .create_key(&NewKeyRequest {
                name: "by élodie".into(),
                instance: "acme".into(),
                developer: "x".into(),
                channel: "ci".into(),
                teams: vec![],
                expires: None,
            })
            .unwrap();
        let mut logins = |filter: &str| {
            let query = HistoryQuery::parse(filter).unwrap();
            let mut logins: Vec<String> = admin
                .history(&query, None)
                .unwrap()
                .into_iter()
                .map(|r| r.record.origin.login)
                .collect();
            logins.sort();
            logins.dedup();
            logins
        };
        // By the beginning of the login ("ana" for the first admin, Ana)...
        assert_eq!(logins("operator:an"), vec!["ana".to_string()]);
        assert_eq!(logins("operator:LODIE"), vec!["lodie.d".to_string()]);
        // ...or of the name, folded with Unicode rules: "élodie" is not a login prefix.
        assert_eq!(logins("operator:élodie"), vec!["lodie.d".to_string()]);
        assert_eq!(logins("operator:ÉLODIE*"), vec!["lodie.d".to_string()]);
        assert_eq!(
            logins("operator:an,élo"),
            vec!["ana".to_string(), "lodie.d".to_string()]
        );
        assert!(logins("operator:b").is_empty());
    }

    #[test]
    fn a_word_asks_the_index_for_its_distinct_trigrams_quoted() {
        use super::trigram_match;
        assert_eq!(trigram_match("ab"), None);
        assert_eq!(trigram_match(""), None);
        assert_eq!(trigram_match("abc").as_deref(), Some("\"abc\""));
        assert_eq!(
            trigram_match("aaaa").as_deref(),
            Some("\"aaa\""),
            "each trigram once"
        );
        assert_eq!(
            trigram_match("a\"b c").as_deref(),
            Some("\"a\"\"b\" AND \"\"\"b \" AND \"b c\""),
            "a quote is doubled inside the FTS5 string"
        );
        assert_eq!(trigram_match("é\0ab"), None, "no trigram without its NUL");
        let long = trigram_match(&"abcdefghijklmnopqrstuvwxyz".repeat(2)).unwrap();
        assert_eq!(long.matches(" AND ").count() + 1, super::MOST_TRIGRAMS);
        // An even spread, from the first on.
        assert!(
            long.starts_with("\"abc\" AND \"bcd\" AND \"def\""),
            "{long}"
        );
    }

    /// Every free-text search finds exactly the rows whose five searched
    /// columns hold the word, folded: the index only narrows the rows read.
    #[test]
    fn a_word_finds_the_rows_a_reading_of_every_row_finds() {
        use crate::domain::query::fold_case;
        use crate::service::EditKey;
        let (_store, mut service) = unicode_store();
        key(&mut service, "ΟΔΟΣ gateway", "İlkay Öz", "api", "ops");
        key(&mut service, "say \"hi\" relay", "dana", "api", "ops");
        key(&mut service, "wifi", "ab", "api", "ops");
        let id = service
            .list_keys(&KeyQuery::parse("wifi").unwrap(), false, None)
            .unwrap()[0]
            .public_id
            .clone();
        service
            .edit_key(
                &id,
                &EditKey {
                    name: Some("οδος wifi".into()),
                    ..EditKey::default()
                },
            )
            .unwrap();
        let all = service.history(&HistoryQuery::default(), None).unwrap();
        for word in [
            "straße",
            "STRASSE",
            "οδος",
            "ΟΔΟΣ",
            "odos",
            "ilkay",
            "i\u{307}lkay",
            "İlkay",
            "lkay",
            "\"hi\"",
            "\"hi\" r",
            "ab",
            "wif",
            "wifi",
            "WiFi",
            "dana",
            "nowhere-at-all",
            "ær",
            "\"name\"",
            "admin",
            "ærø",
        ] {
            let folded = fold_case(word);
            let mut expected: Vec<i64> = all
                .iter()
                .filter(|r| {
                    let rec = &r.record;
                    [
                        rec.subject.as_deref(),
                        rec.masked.as_deref(),
                        Some(rec.details.as_str()),
                        rec.operator.as_deref(),
                        Some(rec.origin.login.as_str()),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|text| fold_case(text).contains(&folded))
                })
                .map(|r| r.record.seq)
                .collect();
            expected.sort();
            let quoted = format!("\"{}\"", word.replace('"', "\\\""));
            let query = HistoryQuery::parse(&quoted).unwrap();
            let mut found: Vec<i64> = service
                .history(&query, None)
                .unwrap()
                .iter()
                .map(|r| r.record.seq)
                .collect();
            found.sort();
            assert_eq!(found, expected, "{word}");
            // And the rows without it, the rest.
            let without = HistoryQuery::parse(&format!("-{quoted}")).unwrap();
            let rest = service.history(&without, None).unwrap().len();
            assert_eq!(rest + expected.len(), all.len(), "-{word}");
        }
    }

    /// A store made before the index gets it whole when it is next opened,
    /// and a word is found through it rather than by reading every row.
    #[test]
    fn an_older_store_gets_its_history_words_and_a_search_reads_them() {
        if crate::testing::on_postgres() {
            return;
        }
        let (store, mut service) = unicode_store();
        let word = HistoryQuery::parse("élodie").unwrap();
        let before = service.history(&word, None).unwrap();
        assert!(!before.is_empty());
        drop(service);
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.execute_batch(
            // What versions 7 and on made, gone: a store of version 6.
            "DROP TRIGGER history_words_append; DROP TABLE history_words;
             DROP TRIGGER teams_count_joined; DROP TRIGGER teams_count_left;
             DROP TRIGGER teams_count_moved; DROP TRIGGER teams_count_deleted;
             ALTER TABLE teams DROP COLUMN live_keys; PRAGMA user_version = 6;",
        )
        .unwrap();
        drop(conn);
        let mut service = store.admin();
        let found = service.history(&word, None).unwrap();
        assert_eq!(found, before, "found through the rows backfilled");
        // And the teams' counts, counted once on the way.
        let teams = service.list_teams().unwrap();
        assert!(teams.iter().any(|t| t.keys == 1), "{teams:?}");
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        super::register_fold(&conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, crate::store::schema::latest_version());
        let mut sql = super::Sql::default();
        super::history_filter(
            &mut sql,
            &HistoryQuery::parse("élodie").unwrap(),
            0,
            super::Words::Indexed,
        );
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT seq FROM history h WHERE {} ORDER BY h.seq DESC LIMIT 50",
                sql.condition()
            ))
            .unwrap()
            .query_map(rusqlite::params_from_iter(sql.params().map(|p| match p {
                super::SqlValue::Text(t) => t.clone(),
                other => format!("{other:?}"),
            })), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("VIRTUAL TABLE"), "{plan}");
        assert!(
            plan.contains("SEARCH h USING INTEGER PRIMARY KEY"),
            "{plan}"
        );
        assert!(
            !plan
                .lines()
                .any(|l| l.starts_with("SCAN h ") || l == "SCAN h"),
            "no row is read but those the index finds:\n{plan}"
        );
    }
}
