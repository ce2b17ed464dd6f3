//! The smart-filter language of the key list and the credential history: turns what an admin
//! types (`status:active team:payments expires:<30d`) into a typed query for the SQL layer.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::domain::model::{Cloud, KeyStatus};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// A filter over the key list: every term must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyQuery {
    pub terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub kind: TermKind,
}

/// What one term of a key query asks for; a `Vec` holds alternatives, any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    Status(Vec<KeyStatus>),
    Team(TeamMatch),
    Instance(Vec<Pattern>),
    Developer(Vec<Pattern>),
    Channel(Vec<Pattern>),
    Cloud(Vec<Cloud>),
    /// Future-facing.
    Expires(TimeBound),
    /// Past-facing.
    Created(TimeBound),
    /// Last use; past-facing.
    Used(TimeBound),
    /// Past-facing.
    Deactivated(TimeBound),
    /// Public ids without their `kw_` prefix, any of which may match. Each value matches the
    /// ids that begin with it (`id:5O9U` finds `5O9UxyZ1`), so a trailing `*` changes nothing;
    /// it is kept only so the query reads back as typed. A full key pasted as a value or as
    /// free text becomes its public id here, and the secret is dropped.
    Id(Vec<Pattern>),
    /// Free text, kept as typed.
    Text(String),
}

/// A name as typed: `pay*` is `Prefix("pay")`, anything else is `Exact`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    pub fn text(&self) -> &str {
        match self {
            Pattern::Exact(s) | Pattern::Prefix(s) => s,
        }
    }

    /// The text with its case folded by [`fold_case`], as the store compares names.
    pub fn folded(&self) -> String {
        fold_case(self.text())
    }

    pub fn is_prefix(&self) -> bool {
        matches!(self, Pattern::Prefix(_))
    }
}

/// `team:none,payments` is one term ("no team, or payments"), so both halves live together.
/// A parsed query always has `no_team` set or at least one name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TeamMatch {
    /// The unquoted keyword `none`: the key has no team.
    pub no_team: bool,
    pub names: Vec<Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    Never,
    Cmp(Cmp, When),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A span measured from now, forwards or backwards depending on the field's [`Facing`].
    Span(TimeDelta),
    /// A whole UTC day.
    Date(NaiveDate),
}

/// Whether a field's spans count forwards (`expires:<30d`: within the next 30 days) or
/// backwards (`created:<7d`: less than 7 days ago).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facing {
    Future,
    Past,
}

/// A half-open range of Unix seconds (UTC); a missing end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    /// Inclusive.
    pub from: Option<i64>,
    /// Exclusive.
    pub until: Option<i64>,
}

impl Range {
    pub fn contains(&self, t: i64) -> bool {
        self.from.is_none_or(|from| t >= from) && self.until.is_none_or(|until| t < until)
    }
}

const DAY_SECONDS: i64 = 86_400;

impl TimeBound {
    /// The instants this bound accepts, or `None` for [`TimeBound::Never`] (the SQL layer
    /// matches a missing timestamp instead).
    ///
    /// An `=` with a span never comes out of the parser; should one be built by hand it
    /// resolves to the single second it names.
    pub fn range(&self, now: DateTime<Utc>, facing: Facing) -> Option<Range> {
        let TimeBound::Cmp(cmp, when) = *self else {
            return None;
        };
        let from = |t: i64| Range {
            from: Some(t),
            until: None,
        };
        let until = |t: i64| Range {
            from: None,
            until: Some(t),
        };
        let second = |t: i64| Range {
            from: Some(t),
            until: Some(t.saturating_add(1)),
        };
        Some(match when {
            When::Date(date) => {
                // The local day: what a date shown on screen means.
                let start = super::local_day::start(date);
                let next = super::local_day::end(date);
                match cmp {
                    Cmp::Lt => until(start),
                    Cmp::Le => until(next),
                    Cmp::Gt => from(next),
                    Cmp::Ge => from(start),
                    Cmp::Eq => Range {
                        from: Some(start),
                        until: Some(next),
                    },
                }
            }
            When::Span(span) => {
                let now = now.timestamp();
                let span = span.num_seconds();
                match facing {
                    // "Within the next 30 days" starts now: a key that expired
                    // last year does not expire within 30 days.
                    Facing::Future => {
                        let t = now.saturating_add(span);
                        let ahead = |end: i64| Range {
                            from: Some(now),
                            until: Some(end),
                        };
                        match cmp {
                            Cmp::Lt => ahead(t),
                            Cmp::Le => ahead(t.saturating_add(1)),
                            Cmp::Gt => from(t.saturating_add(1)),
                            Cmp::Ge => from(t),
                            Cmp::Eq => second(t),
                        }
                    }
                    // "Less than 7 days ago" is the recent side of now-7d, so the operators
                    // flip relative to the future-facing case.
                    Facing::Past => {
                        let t = now.saturating_sub(span);
                        match cmp {
                            Cmp::Lt => from(t.saturating_add(1)),
                            Cmp::Le => from(t),
                            Cmp::Gt => until(t),
                            Cmp::Ge => until(t.saturating_add(1)),
                            Cmp::Eq => second(t),
                        }
                    }
                }
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    /// 1-based column, in characters, where the offending term starts.
    pub column: usize,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for QueryError {}

fn error(column: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        message: message.into(),
        column,
    }
}

/// One row of the field reference shown by the help panel and `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldHelp {
    pub field: &'static str,
    pub values: &'static str,
    pub meaning: &'static str,
}

pub const KEY_FIELDS: &[FieldHelp] = &[
    FieldHelp {
        field: "status",
        values: "active, expired, deactivated (revoked), deleted",
        meaning: "key status; naming deleted shows deleted keys without --all",
    },
    FieldHelp {
        field: "team",
        values: "payments, pay*, none, \"data platform\"",
        meaning: "owning team; none = no team, \"none\" = a team named none",
    },
    FieldHelp {
        field: "instance",
        values: "name, prefix*",
        meaning: "instance the key belongs to",
    },
    FieldHelp {
        field: "developer",
        values: "name, prefix*",
        meaning: "developer the key was issued to",
    },
    FieldHelp {
        field: "channel",
        values: "name, prefix*",
        meaning: "channel the key is used on",
    },
    FieldHelp {
        field: "cloud",
        values: "salesforce, servicenow, m365, qualtrics, other",
        meaning: "cloud of the key's instance",
    },
    FieldHelp {
        field: "expires",
        values: "never, <30d, >=2027-01-31",
        meaning: "expiry; <30d = within the next 30 days (not already expired)",
    },
    FieldHelp {
        field: "created",
        values: "<7d, >90d, 2026-03-15",
        meaning: "creation; <7d = less than 7 days ago",
    },
    FieldHelp {
        field: "used",
        values: "never, <7d, >90d",
        meaning: "last use; >90d = not used for over 90 days",
    },
    FieldHelp {
        field: "deactivated",
        values: "<7d, >=2026-01-01",
        meaning: "when the key was deactivated",
    },
    FieldHelp {
        field: "id",
        values: "kw_3fQa9LzX, 3fQa, a pasted key",
        meaning: "public id or its beginning; a pasted key finds its id",
    },
    FieldHelp {
        field: "free text",
        values: "billing, \"billing sync\"",
        meaning: "a word or quoted phrase found in the key's details",
    },
    FieldHelp {
        field: "-term",
        values: "-team:payments, -\"legacy\"",
        meaning: "excludes what the term matches",
    },
];

pub const HISTORY_FIELDS: &[FieldHelp] = &[
    FieldHelp {
        field: "action",
        values: "created, renewed, ...",
        meaning: "what happened; commas list alternatives",
    },
    FieldHelp {
        field: "key",
        values: "kw_3fQa9LzX, 3fQa9LzX",
        meaning: "the key's public id",
    },
    FieldHelp {
        field: "operator",
        values: "ana, ana.lopez, \"Ana Lopez\"",
        meaning: "who did it: a login or name, or its beginning",
    },
    FieldHelp {
        field: "at",
        values: "<7d, >=2026-11-01, 2026-11-05",
        meaning: "when; <7d = less than 7 days ago",
    },
    FieldHelp {
        field: "free text",
        values: "rotation, \"billing sync\"",
        meaning: "a word or quoted phrase found in the entry",
    },
    FieldHelp {
        field: "-term",
        values: "-action:renewed, -\"test\"",
        meaning: "excludes what the term matches",
    },
];

// ---------------------------------------------------------------------------------------------
// Case folding and pasted keys
// ---------------------------------------------------------------------------------------------

/// Folds case with Unicode rules, one character at a time, so that `Élodie` and `élodie`, or
/// `ÆRO` and `æro`, compare equal. Context-free on purpose: the store applies the same function
/// to every stored name, and a name must fold the same wherever it stands. The final sigma is
/// folded to σ, so `ΟΔΟΣ` and `οδος` meet too.
pub fn fold_case(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        for lower in c.to_lowercase() {
            out.push(if lower == 'ς' { 'σ' } else { lower });
        }
    }
    out
}

/// The public id of a full key (`kw_<id>_<secret><checksum>`) pasted into a filter, by its
/// shape alone: a key with a mistyped checksum still carries a secret that must not be kept.
pub fn pasted_key_id(word: &str) -> Option<&str> {
    use crate::domain::key_format::{CHECKSUM_LEN, PUBLIC_ID_LEN, SECRET_LEN};
    let rest = word.strip_prefix(PUBLIC_ID_PREFIX)?;
    let id = rest.get(..PUBLIC_ID_LEN)?;
    let tail = rest.get(PUBLIC_ID_LEN..)?.strip_prefix('_')?;
    let shaped = id.bytes().all(|b| b.is_ascii_alphanumeric())
        && tail.len() >= SECRET_LEN + CHECKSUM_LEN
        && tail.bytes().all(|b| b.is_ascii_alphanumeric());
    shaped.then_some(id)
}

/// Whether typed filter text holds a full key anywhere, so a screen knows to show the query's
/// canonical text (where the key is only its public id) instead of what was pasted.
pub fn holds_pasted_key(input: &str) -> bool {
    input
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| {
            // A key may stand anywhere in a word, as in `"kw_…"` or `id:kw_…`.
            word.match_indices(PUBLIC_ID_PREFIX)
                .any(|(i, _)| pasted_key_id(&word[i..]).is_some())
        })
}

/// `input` with every full key in it cut back to `kw_<public id>`, for a line that must not
/// keep showing a pasted secret even while the rest of it does not parse.
pub fn redact_pasted_keys(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find(PUBLIC_ID_PREFIX) {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(candidate.len());
        match pasted_key_id(&candidate[..end]) {
            Some(id) => {
                out.push_str(PUBLIC_ID_PREFIX);
                out.push_str(id);
                rest = &candidate[end..];
            }
            None => {
                out.push_str(PUBLIC_ID_PREFIX);
                rest = &candidate[PUBLIC_ID_PREFIX.len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text a query line shows once a full key was pasted into it: the query's canonical
/// text, where the key is only `id:<public id>`, or, while the query does not parse, what
/// was typed with the key cut back to its public id. `None` when no key was pasted.
pub fn without_pasted_key(input: &str, canonical: Option<String>) -> Option<String> {
    holds_pasted_key(input).then(|| {
        // A key run into another word (`channel:leakkw_…`) parses as that
        // word, secret and all: then the text, cut back, is shown instead.
        canonical
            .filter(|c| !holds_pasted_key(c))
            .unwrap_or_else(|| redact_pasted_keys(input))
    })
}

// ---------------------------------------------------------------------------------------------
// Key query
// ---------------------------------------------------------------------------------------------

const KEY_FIELD_NAMES: &str =
    "status, team, instance, developer, channel, cloud, expires, created, used, deactivated, id";

impl KeyQuery {
    pub fn parse(s: &str) -> Result<KeyQuery, QueryError> {
        let terms = tokenize(s)?
            .into_iter()
            .map(|raw| {
                let kind = match raw.body {
                    RawBody::Text(text) => match pasted_key_id(text.trim()) {
                        Some(id) => TermKind::Id(vec![Pattern::Exact(id.to_string())]),
                        None => TermKind::Text(text),
                    },
                    RawBody::Field { name, items } => key_field(&name, &items, raw.column)?,
                };
                Ok(Term {
                    negated: raw.negated,
                    kind,
                })
            })
            .collect::<Result<_, QueryError>>()?;
        Ok(KeyQuery { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// true when a non-negated status term names Deleted: the list then shows deleted keys
    /// without --all.
    pub fn mentions_deleted(&self) -> bool {
        self.terms.iter().any(|t| {
            !t.negated && matches!(&t.kind, TermKind::Status(s) if s.contains(&KeyStatus::Deleted))
        })
    }
}

impl FromStr for KeyQuery {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyQuery::parse(s)
    }
}

fn key_field(name: &str, items: &[Item], column: usize) -> Result<TermKind, QueryError> {
    let field = name.to_ascii_lowercase();
    let field = field.as_str();
    let known = KEY_FIELD_NAMES.split(", ").any(|f| f == field);
    if !known {
        return Err(unknown_field(name, KEY_FIELD_NAMES, column));
    }
    check_items(field, items, column)?;
    Ok(match field {
        "status" => TermKind::Status(
            items
                .iter()
                .map(|item| {
                    let typed = item.as_typed();
                    KeyStatus::parse(&typed.to_ascii_lowercase()).ok_or_else(|| {
                        error(
                            column,
                            format!(
                                "unknown status {}; use active, expired, deactivated (revoked) or deleted",
                                show(&typed)
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "cloud" => TermKind::Cloud(
            items
                .iter()
                .map(|item| {
                    let typed = item.as_typed();
                    Cloud::parse(&typed.to_ascii_lowercase()).ok_or_else(|| {
                        let names: Vec<&str> = Cloud::ALL.iter().map(|c| c.as_str()).collect();
                        error(
                            column,
                            format!("unknown cloud {}; use {}", show(&typed), or_list(&names)),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "team" => {
            let mut team = TeamMatch::default();
            for item in items {
                // Only the bare word is the keyword, so a team really named "none" stays reachable.
                if !item.quoted && !item.star && item.text.eq_ignore_ascii_case("none") {
                    team.no_team = true;
                } else {
                    team.names.push(pattern(field, item, column)?);
                }
            }
            TermKind::Team(team)
        }
        "instance" => TermKind::Instance(patterns(field, items, column)?),
        "developer" => TermKind::Developer(patterns(field, items, column)?),
        "channel" => TermKind::Channel(patterns(field, items, column)?),
        "expires" => TermKind::Expires(time_bound(field, items, NEVER_OK, column)?),
        "used" => TermKind::Used(time_bound(field, items, NEVER_OK, column)?),
        "created" => TermKind::Created(time_bound(field, items, NEVER_KEY_FIELD, column)?),
        "deactivated" => {
            TermKind::Deactivated(time_bound(field, items, NEVER_KEY_FIELD, column)?)
        }
        _ => {
            // "id": the only field left in KEY_FIELD_NAMES.
            let ids = items
                .iter()
                .map(|item| {
                    let text = match pasted_key_id(item.text.trim()) {
                        Some(id) => id,
                        None => strip_public_prefix(&item.text),
                    };
                    if text.is_empty() && !item.star {
                        return Err(error(column, "id: needs the public id after kw_"));
                    }
                    let stripped = Item {
                        text: text.to_string(),
                        quoted: item.quoted,
                        star: item.star,
                    };
                    pattern(field, &stripped, column)
                })
                .collect::<Result<_, _>>()?;
            TermKind::Id(ids)
        }
    })
}

impl fmt::Display for KeyQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_terms(f, &self.terms)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('-')?;
        }
        match &self.kind {
            TermKind::Status(list) => {
                f.write_str("status:")?;
                write_words(f, list.iter().map(|s| s.as_str()))
            }
            TermKind::Cloud(list) => {
                f.write_str("cloud:")?;
                write_words(f, list.iter().map(|c| c.as_str()))
            }
            TermKind::Team(team) => {
                f.write_str("team:")?;
                let mut first = true;
                if team.no_team {
                    f.write_str("none")?;
                    first = false;
                }
                for p in &team.names {
                    if !first {
                        f.write_char(',')?;
                    }
                    first = false;
                    let keyword_lookalike = !p.is_prefix() && p.text().eq_ignore_ascii_case("none");
                    write_value(f, p.text(), p.is_prefix(), keyword_lookalike)?;
                }
                Ok(())
            }
            TermKind::Instance(ps) => write_patterns(f, "instance", ps),
            TermKind::Developer(ps) => write_patterns(f, "developer", ps),
            TermKind::Channel(ps) => write_patterns(f, "channel", ps),
            TermKind::Expires(b) => write!(f, "expires:{b}"),
            TermKind::Created(b) => write!(f, "created:{b}"),
            TermKind::Used(b) => write!(f, "used:{b}"),
            TermKind::Deactivated(b) => write!(f, "deactivated:{b}"),
            TermKind::Id(ps) => {
                f.write_str("id:")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_value(f, &with_public_prefix_kept(p.text()), p.is_prefix(), false)?;
                }
                Ok(())
            }
            TermKind::Text(text) => write_text(f, text),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// History query
// ---------------------------------------------------------------------------------------------

const HISTORY_FIELD_NAMES: &str = "action, key, operator, at";

/// A filter over the credential history: every term must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryQuery {
    pub terms: Vec<HistoryTerm>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTerm {
    pub negated: bool,
    pub kind: HistoryTermKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryTermKind {
    /// Lowercased action names, each `[a-z_]+`; the caller checks them against its list.
    Action(Vec<String>),
    /// Public id without its `kw_` prefix.
    Key(String),
    /// Operator login or name; each value matches the logins and names that begin with it
    /// (`operator:ana` finds `ana.lopez`), so a trailing `*` changes nothing.
    Operator(Vec<Pattern>),
    /// Past-facing.
    At(TimeBound),
    Text(String),
}

impl HistoryQuery {
    pub fn parse(s: &str) -> Result<HistoryQuery, QueryError> {
        let terms = tokenize(s)?
            .into_iter()
            .map(|raw| {
                let kind = match raw.body {
                    RawBody::Text(text) => match pasted_key_id(text.trim()) {
                        Some(id) => HistoryTermKind::Key(id.to_string()),
                        None => HistoryTermKind::Text(text),
                    },
                    RawBody::Field { name, items } => history_field(&name, &items, raw.column)?,
                };
                Ok(HistoryTerm {
                    negated: raw.negated,
                    kind,
                })
            })
            .collect::<Result<_, QueryError>>()?;
        Ok(HistoryQuery { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

impl FromStr for HistoryQuery {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HistoryQuery::parse(s)
    }
}

fn history_field(name: &str, items: &[Item], column: usize) -> Result<HistoryTermKind, QueryError> {
    let field = name.to_ascii_lowercase();
    let field = field.as_str();
    if !HISTORY_FIELD_NAMES.split(", ").any(|f| f == field) {
        return Err(unknown_field(name, HISTORY_FIELD_NAMES, column));
    }
    check_items(field, items, column)?;
    Ok(match field {
        "action" => HistoryTermKind::Action(
            items
                .iter()
                .map(|item| {
                    let typed = item.as_typed();
                    let action = typed.to_ascii_lowercase();
                    if action.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        Ok(action)
                    } else {
                        Err(error(
                            column,
                            format!(
                                "{} is not an action name; actions are words like created or renewed",
                                show(&typed)
                            ),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        ),
        "key" => {
            let item = single(field, items, column)?;
            if item.star {
                return Err(error(
                    column,
                    "key: takes a whole public id; * is not allowed here",
                ));
            }
            let id = pasted_key_id(item.text.trim())
                .unwrap_or_else(|| strip_public_prefix(&item.text));
            if id.is_empty() {
                return Err(error(column, "key: needs the public id after kw_"));
            }
            HistoryTermKind::Key(id.to_string())
        }
        "operator" => HistoryTermKind::Operator(patterns(field, items, column)?),
        _ => HistoryTermKind::At(time_bound(field, items, NEVER_HISTORY, column)?),
    })
}

impl fmt::Display for HistoryQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_terms(f, &self.terms)
    }
}

impl fmt::Display for HistoryTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('-')?;
        }
        match &self.kind {
            HistoryTermKind::Action(names) => {
                f.write_str("action:")?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_value(f, name, false, false)?;
                }
                Ok(())
            }
            HistoryTermKind::Key(id) => {
                f.write_str("key:")?;
                write_value(f, &with_public_prefix_kept(id), false, false)
            }
            HistoryTermKind::Operator(ps) => write_patterns(f, "operator", ps),
            HistoryTermKind::At(b) => write!(f, "at:{b}"),
            HistoryTermKind::Text(text) => write_text(f, text),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer, shared by both languages
// ---------------------------------------------------------------------------------------------

/// One comma-separated alternative of a field value, before the field gives it a meaning.
struct Item {
    text: String,
    quoted: bool,
    /// A `*` ended the item (outside any quotes); it is not part of `text`.
    star: bool,
}

impl Item {
    /// The item as the admin wrote it, for fields where `*` and quotes carry no meaning.
    fn as_typed(&self) -> String {
        if self.star {
            format!("{}*", self.text)
        } else {
            self.text.clone()
        }
    }
}

enum RawBody {
    Text(String),
    Field { name: String, items: Vec<Item> },
}

struct RawTerm {
    column: usize,
    negated: bool,
    body: RawBody,
}

const MISPLACED_QUOTE: &str =
    "a quote may only open a term or a value, as in \"billing sync\" or team:\"data platform\"";

/// The most values (free-text terms and comma-separated alternatives, all terms together) one
/// query may hold, and the longest value. Far beyond anything typed, these keep the SQL a query
/// becomes inside SQLite's limits (expression depth 1000, LIKE patterns of 50 000 bytes), so an
/// accepted query always runs; and being counted on the parsed values, not the typed text, they
/// hold for a query's canonical display as well.
pub const MAX_VALUES: usize = 256;
pub const MAX_VALUE_CHARS: usize = 1000;

fn tokenize(input: &str) -> Result<Vec<RawTerm>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut terms = Vec::new();
    let mut values = 0;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else {
            let (term, next) = read_term(&chars, i)?;
            values += check_size(&term)?;
            if values > MAX_VALUES {
                return Err(error(
                    term.column,
                    format!(
                        "a filter holds at most {MAX_VALUES} values; use fewer terms or a prefix such as team:pay*"
                    ),
                ));
            }
            terms.push(term);
            i = next;
        }
    }
    Ok(terms)
}

/// How many values the term holds, or an error when one is longer than [`MAX_VALUE_CHARS`].
fn check_size(term: &RawTerm) -> Result<usize, QueryError> {
    let texts: Vec<&str> = match &term.body {
        RawBody::Text(text) => vec![text],
        RawBody::Field { items, .. } => items.iter().map(|item| item.text.as_str()).collect(),
    };
    if texts.iter().any(|t| t.chars().count() > MAX_VALUE_CHARS) {
        return Err(error(
            term.column,
            format!("a value in a filter is at most {MAX_VALUE_CHARS} characters"),
        ));
    }
    Ok(texts.len().max(1))
}

/// Reads the term starting at `start` (a non-whitespace char); returns it and the index after it.
fn read_term(chars: &[char], start: usize) -> Result<(RawTerm, usize), QueryError> {
    let column = start + 1;
    let mut i = start;
    let negated = chars.get(i) == Some(&'-');
    if negated {
        i += 1;
        if chars.get(i).is_none_or(|c| c.is_whitespace()) {
            return Err(error(
                column,
                "a lone - excludes nothing; put it right before a term, as in -team:payments",
            ));
        }
    }

    if chars.get(i) == Some(&'"') {
        let (text, next) =
            read_quoted(chars, i + 1).ok_or_else(|| error(column, "unterminated quote"))?;
        if chars.get(next).is_some_and(|c| !c.is_whitespace()) {
            return Err(error(column, "put a space after the closing quote"));
        }
        if text.is_empty() {
            return Err(error(
                column,
                "empty quotes; put the text to look for between them",
            ));
        }
        let body = RawBody::Text(text);
        return Ok((
            RawTerm {
                column,
                negated,
                body,
            },
            next,
        ));
    }

    let word_start = i;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() || c == '"' || c == ':' {
            break;
        }
        i += 1;
    }
    let word: String = chars[word_start..i].iter().collect();
    match chars.get(i) {
        Some(&':') => {
            if word.is_empty() {
                return Err(error(
                    column,
                    "nothing before the colon; write field:value, or quote text that contains a colon",
                ));
            }
            let (items, next) = read_value(chars, i + 1, column)?;
            let body = RawBody::Field { name: word, items };
            Ok((
                RawTerm {
                    column,
                    negated,
                    body,
                },
                next,
            ))
        }
        Some(&'"') => Err(error(column, MISPLACED_QUOTE)),
        _ => Ok((
            RawTerm {
                column,
                negated,
                body: RawBody::Text(word),
            },
            i,
        )),
    }
}

/// Reads the comma-separated items of a field value starting at `i`, just after the colon.
fn read_value(
    chars: &[char],
    mut i: usize,
    column: usize,
) -> Result<(Vec<Item>, usize), QueryError> {
    let mut items = Vec::new();
    loop {
        if chars.get(i) == Some(&'"') {
            let (text, next) =
                read_quoted(chars, i + 1).ok_or_else(|| error(column, "unterminated quote"))?;
            i = next;
            let star = chars.get(i) == Some(&'*');
            if star {
                i += 1;
            }
            items.push(Item {
                text,
                quoted: true,
                star,
            });
        } else {
            let item_start = i;
            while let Some(&c) = chars.get(i) {
                if c.is_whitespace() || c == ',' || c == '"' {
                    break;
                }
                i += 1;
            }
            if chars.get(i) == Some(&'"') {
                return Err(error(column, MISPLACED_QUOTE));
            }
            let mut text: String = chars[item_start..i].iter().collect();
            let star = text.ends_with('*');
            if star {
                text.pop();
            }
            items.push(Item {
                text,
                quoted: false,
                star,
            });
        }
        match chars.get(i) {
            Some(&',') => i += 1,
            Some(c) if !c.is_whitespace() => {
                return Err(error(
                    column,
                    "put a space or a comma after the closing quote",
                ));
            }
            _ => return Ok((items, i)),
        }
    }
}

/// Reads a quoted string whose opening quote is just before `i`; `None` when it never closes.
/// Only `\"` and `\\` are escapes, so a Windows path or a regex-looking word survives as typed.
fn read_quoted(chars: &[char], mut i: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => return Some((text, i + 1)),
            '\\' => match chars.get(i + 1) {
                Some(&escaped @ ('"' | '\\')) => {
                    text.push(escaped);
                    i += 2;
                }
                Some(_) => {
                    text.push('\\');
                    i += 1;
                }
                None => return None,
            },
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Field values, shared by both languages
// ---------------------------------------------------------------------------------------------

fn unknown_field(name: &str, fields: &str, column: usize) -> QueryError {
    error(
        column,
        format!(
            "unknown field {}; fields are {fields}; quote text that contains a colon",
            show(name)
        ),
    )
}

/// Rejects empty values and empty alternatives before any field reads them.
fn check_items(field: &str, items: &[Item], column: usize) -> Result<(), QueryError> {
    let blank = |item: &Item| !item.quoted && !item.star && item.text.is_empty();
    if items.len() == 1 && blank(&items[0]) {
        return Err(error(
            column,
            format!("{field}: needs a value after the colon"),
        ));
    }
    for item in items {
        if blank(item) {
            return Err(error(
                column,
                format!("empty alternative in {field}:; remove the extra comma"),
            ));
        }
        if item.quoted && item.text.is_empty() {
            return Err(error(
                column,
                format!("empty quotes in {field}:; put a value between them"),
            ));
        }
    }
    Ok(())
}

fn single<'a>(field: &str, items: &'a [Item], column: usize) -> Result<&'a Item, QueryError> {
    match items {
        [item] => Ok(item),
        _ => Err(error(
            column,
            format!("{field}: takes a single value, without commas"),
        )),
    }
}

fn pattern(field: &str, item: &Item, column: usize) -> Result<Pattern, QueryError> {
    if !item.star {
        return Ok(Pattern::Exact(item.text.clone()));
    }
    if item.text.is_empty() {
        return Err(error(
            column,
            format!("{field}:* would match everything; put the beginning of a name before the *"),
        ));
    }
    Ok(Pattern::Prefix(item.text.clone()))
}

fn patterns(field: &str, items: &[Item], column: usize) -> Result<Vec<Pattern>, QueryError> {
    items
        .iter()
        .map(|item| pattern(field, item, column))
        .collect()
}

/// `None` when `never` is allowed, else the message explaining why it is not.
type NeverRule = Option<&'static str>;
const NEVER_OK: NeverRule = None;
const NEVER_KEY_FIELD: NeverRule =
    Some("never applies only to expires and used; use a comparison such as <7d or >=2026-01-01");
const NEVER_HISTORY: NeverRule =
    Some("every history entry has a time, so at: has no never; use e.g. at:<7d");

/// Spans longer than this are almost certainly typos, and bounding them keeps arithmetic safe.
const MAX_SPAN_MINUTES: u64 = 36_500 * 24 * 60;

fn time_bound(
    field: &str,
    items: &[Item],
    never: NeverRule,
    column: usize,
) -> Result<TimeBound, QueryError> {
    let typed = single(field, items, column)?.as_typed();
    if typed.eq_ignore_ascii_case("never") {
        return match never {
            None => Ok(TimeBound::Never),
            Some(message) => Err(error(column, message)),
        };
    }
    let (cmp, rest) = split_operator(&typed);
    if rest.is_empty() {
        return Err(error(
            column,
            format!(
                "{field}:{typed} needs a duration or date after the operator, e.g. {field}:<30d"
            ),
        ));
    }
    let when = parse_when(rest).map_err(|message| error(column, message))?;
    if cmp == Cmp::Eq && matches!(when, When::Span(_)) {
        return Err(error(
            column,
            format!(
                "use < or > with a duration, as in {field}:<{rest} or {field}:>{rest}; = and a bare value take a date"
            ),
        ));
    }
    Ok(TimeBound::Cmp(cmp, when))
}

fn split_operator(s: &str) -> (Cmp, &str) {
    for (prefix, cmp) in [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
        ("=", Cmp::Eq),
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return (cmp, rest);
        }
    }
    (Cmp::Eq, s)
}

fn parse_when(s: &str) -> Result<When, String> {
    let generic = || {
        format!(
            "{} is not a duration or date; use e.g. 30d, 12h, 2w or 2027-01-31",
            show(s)
        )
    };
    if let Some(date) = parse_date(s) {
        return date
            .map(When::Date)
            .ok_or_else(|| format!("{} is not a real date", show(s)));
    }
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    if !number.is_empty() && !unit.is_empty() {
        // Capital M is left out on purpose: it reads as months, which the language lacks.
        let minutes_per_unit: u64 = match unit {
            "m" => 1,
            "h" | "H" => 60,
            "d" | "D" => 24 * 60,
            "w" | "W" => 7 * 24 * 60,
            _ => return Err(generic()),
        };
        // All digits, so parsing fails only on overflow, which is over the limit anyway.
        let count: u64 = number.parse().unwrap_or(u64::MAX);
        if count == 0 {
            return Err(format!(
                "{} is not a positive duration; use at least 1, e.g. 1{unit}",
                show(s)
            ));
        }
        let minutes = count
            .checked_mul(minutes_per_unit)
            .filter(|&m| m <= MAX_SPAN_MINUTES)
            .ok_or_else(|| format!("{} is longer than 36500 days; use a date instead", show(s)))?;
        let minutes = i64::try_from(minutes).map_err(|_| generic())?;
        return TimeDelta::try_minutes(minutes)
            .map(When::Span)
            .ok_or_else(generic);
    }
    Err(generic())
}

/// `None` when `s` is not shaped like `YYYY-MM-DD`; `Some(None)` when it is but names no day.
fn parse_date(s: &str) -> Option<Option<NaiveDate>> {
    let bytes = s.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let month: u32 = s.get(5..7)?.parse().ok()?;
    let day: u32 = s.get(8..10)?.parse().ok()?;
    Some(NaiveDate::from_ymd_opt(year, month, day))
}

const PUBLIC_ID_PREFIX: &str = "kw_";

fn strip_public_prefix(s: &str) -> &str {
    s.strip_prefix(PUBLIC_ID_PREFIX).unwrap_or(s)
}

/// An id that itself starts with `kw_` would lose it on re-parse, so it gets a second one.
fn with_public_prefix_kept(id: &str) -> String {
    if id.starts_with(PUBLIC_ID_PREFIX) {
        format!("{PUBLIC_ID_PREFIX}{id}")
    } else {
        id.to_string()
    }
}

/// A user-supplied string for an error message: quoted, escaped and cut short, since the
/// input may be anything up to a pasted novel.
fn show(s: &str) -> String {
    const LIMIT: usize = 40;
    if holds_pasted_key(s) {
        return "(a full key, not shown)".to_string();
    }
    if s.chars().count() > LIMIT {
        let cut: String = s.chars().take(LIMIT).collect();
        format!("{:?}…", cut)
    } else {
        format!("{s:?}")
    }
}

fn or_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical text
// ---------------------------------------------------------------------------------------------

impl fmt::Display for TimeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeBound::Never => f.write_str("never"),
            TimeBound::Cmp(cmp, When::Date(date)) => {
                let op = if *cmp == Cmp::Eq { "" } else { cmp.as_str() };
                write!(f, "{op}{}", date.format("%Y-%m-%d"))
            }
            TimeBound::Cmp(cmp, When::Span(span)) => {
                f.write_str(cmp.as_str())?;
                // Days read best in a list of keys (14d rather than 2w); the parser only makes
                // whole minutes, so the minute fallback is exact for anything it produced.
                let seconds = span.num_seconds();
                if seconds % DAY_SECONDS == 0 {
                    write!(f, "{}d", seconds / DAY_SECONDS)
                } else if seconds % 3600 == 0 {
                    write!(f, "{}h", seconds / 3600)
                } else {
                    write!(f, "{}m", seconds / 60)
                }
            }
        }
    }
}

fn write_terms<T: fmt::Display>(f: &mut fmt::Formatter<'_>, terms: &[T]) -> fmt::Result {
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            f.write_char(' ')?;
        }
        write!(f, "{term}")?;
    }
    Ok(())
}

fn write_words<'a>(
    f: &mut fmt::Formatter<'_>,
    words: impl Iterator<Item = &'a str>,
) -> fmt::Result {
    for (i, word) in words.enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        f.write_str(word)?;
    }
    Ok(())
}

fn write_patterns(f: &mut fmt::Formatter<'_>, field: &str, ps: &[Pattern]) -> fmt::Result {
    f.write_str(field)?;
    f.write_char(':')?;
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_value(f, p.text(), p.is_prefix(), false)?;
    }
    Ok(())
}

/// The filter that finds every key of one integration (instance, developer,
/// channel), each value quoted where it must be: a leaked key's siblings.
pub fn integration_filter(instance: &str, developer: &str, channel: &str) -> String {
    struct Value<'a>(&'a str);
    impl fmt::Display for Value<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_value(f, self.0, false, false)
        }
    }
    format!(
        "instance:{} developer:{} channel:{}",
        Value(instance),
        Value(developer),
        Value(channel)
    )
}

/// Writes one value item bare when that reads back the same, else quoted.
fn write_value(
    f: &mut fmt::Formatter<'_>,
    text: &str,
    prefix: bool,
    force_quotes: bool,
) -> fmt::Result {
    let bare = !force_quotes
        && !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != ',')
        // A bare trailing * would turn an exact value into a prefix.
        && (prefix || !text.ends_with('*'));
    if bare {
        f.write_str(text)?;
    } else {
        write_quoted(f, text)?;
    }
    if prefix {
        f.write_char('*')?;
    }
    Ok(())
}

fn write_text(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let bare = !text.is_empty()
        && !text.starts_with('-')
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != ':');
    if bare {
        f.write_str(text)
    } else {
        write_quoted(f, text)
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

impl From<QueryError> for crate::error::Error {
    fn from(e: QueryError) -> crate::error::Error {
        crate::error::Error::Usage(format!("filter: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn parse(s: &str) -> KeyQuery {
        match KeyQuery::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?} should parse, got {e}"),
        }
    }

    fn parse_err(s: &str) -> QueryError {
        match KeyQuery::parse(s) {
            Ok(q) => panic!("{s:?} should fail, parsed as {q:?}"),
            Err(e) => e,
        }
    }

    fn history(s: &str) -> HistoryQuery {
        match HistoryQuery::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?} should parse, got {e}"),
        }
    }

    fn history_err(s: &str) -> QueryError {
        match HistoryQuery::parse(s) {
            Ok(q) => panic!("{s:?} should fail, parsed as {q:?}"),
            Err(e) => e,
        }
    }

    /// The kind of a one-term query.
    fn kind(s: &str) -> TermKind {
        let q = parse(s);
        assert_eq!(q.terms.len(), 1, "{s:?} gave {q:?}");
        assert!(!q.terms[0].negated);
        q.terms[0].kind.clone()
    }

    fn history_kind(s: &str) -> HistoryTermKind {
        let q = history(s);
        assert_eq!(q.terms.len(), 1, "{s:?} gave {q:?}");
        q.terms[0].kind.clone()
    }

    fn exact(s: &str) -> Pattern {
        Pattern::Exact(s.to_string())
    }

    fn prefix(s: &str) -> Pattern {
        Pattern::Prefix(s.to_string())
    }

    fn days(n: i64) -> When {
        When::Span(TimeDelta::days(n))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 30, 15).unwrap()
    }

    fn range_of(field_value: &str, facing: Facing) -> Range {
        let bound = match kind(field_value) {
            TermKind::Expires(b) | TermKind::Created(b) | TermKind::Used(b) => b,
            TermKind::Deactivated(b) => b,
            other => panic!("{field_value:?} is not a time term: {other:?}"),
        };
        bound.range(now(), facing).unwrap()
    }

    fn from(t: i64) -> Range {
        Range {
            from: Some(t),
            until: None,
        }
    }

    fn until(t: i64) -> Range {
        Range {
            from: None,
            until: Some(t),
        }
    }

    const DAY: i64 = 86_400;

    // --- the empty query ---------------------------------------------------------------------

    #[test]
    fn empty_or_blank_query_matches_everything() {
        for s in ["", " ", "\t \n  ", "\u{3000}"] {
            let q = parse(s);
            assert!(q.is_empty());
            assert_eq!(q, KeyQuery::default());
            assert_eq!(q.to_string(), "");
            assert!(history(s).is_empty());
        }
    }

    // --- status ------------------------------------------------------------------------------

    #[test]
    fn status_names_one_status() {
        assert_eq!(
            kind("status:active"),
            TermKind::Status(vec![KeyStatus::Active])
        );
        assert_eq!(
            kind("status:deleted"),
            TermKind::Status(vec![KeyStatus::Deleted])
        );
    }

    #[test]
    fn status_with_alternatives_is_an_or() {
        assert_eq!(
            kind("status:active,expired"),
            TermKind::Status(vec![KeyStatus::Active, KeyStatus::Expired])
        );
    }

    #[test]
    fn revoked_is_an_alias_of_deactivated() {
        assert_eq!(
            kind("status:revoked"),
            TermKind::Status(vec![KeyStatus::Deactivated])
        );
        assert_eq!(parse("status:revoked").to_string(), "status:deactivated");
    }

    #[test]
    fn field_names_and_keywords_ignore_case() {
        assert_eq!(
            kind("STATUS:Active,EXPIRED"),
            TermKind::Status(vec![KeyStatus::Active, KeyStatus::Expired])
        );
        assert_eq!(kind("Cloud:M365"), TermKind::Cloud(vec![Cloud::M365]));
        assert_eq!(kind("Expires:NEVER"), TermKind::Expires(TimeBound::Never));
    }

    #[test]
    fn unknown_status_lists_the_statuses() {
        let e = parse_err("status:actve");
        assert_eq!(
            e.message,
            "unknown status \"actve\"; use active, expired, deactivated (revoked) or deleted"
        );
        assert_eq!(e.column, 1);
    }

    #[test]
    fn deleted_status_is_noticed_only_when_not_negated() {
        assert!(parse("team:x status:active,deleted").mentions_deleted());
        assert!(!parse("-status:deleted").mentions_deleted());
        assert!(!parse("status:active deleted").mentions_deleted());
        assert!(!parse("").mentions_deleted());
    }

    // --- team --------------------------------------------------------------------------------

    #[test]
    fn team_matches_names_and_prefixes() {
        assert_eq!(
            kind("team:payments,data*"),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![exact("payments"), prefix("data")],
            })
        );
    }

    #[test]
    fn team_none_keyword_differs_from_quoted_none() {
        assert_eq!(
            kind("team:none"),
            TermKind::Team(TeamMatch {
                no_team: true,
                names: vec![],
            })
        );
        assert_eq!(kind("team:NONE"), kind("team:none"));
        assert_eq!(
            kind("team:\"none\""),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![exact("none")],
            })
        );
        assert_eq!(
            kind("team:none*"),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![prefix("none")],
            })
        );
    }

    #[test]
    fn team_none_combines_with_names() {
        assert_eq!(
            kind("team:payments,none"),
            TermKind::Team(TeamMatch {
                no_team: true,
                names: vec![exact("payments")],
            })
        );
        assert_eq!(
            parse("team:payments,none").to_string(),
            "team:none,payments"
        );
        assert_eq!(parse("team:\"None\"").to_string(), "team:\"None\"");
    }

    #[test]
    fn quoted_value_keeps_spaces() {
        assert_eq!(
            kind("team:\"data platform\""),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![exact("data platform")],
            })
        );
    }

    #[test]
    fn quoted_value_may_be_a_prefix_and_one_alternative_among_several() {
        assert_eq!(
            kind("team:\"data plat\"*,payments,\"a,b\""),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![prefix("data plat"), exact("payments"), exact("a,b")],
            })
        );
    }

    #[test]
    fn star_inside_quotes_is_literal() {
        assert_eq!(
            kind("instance:\"a*\""),
            TermKind::Instance(vec![exact("a*")])
        );
        assert_eq!(parse("instance:\"a*\"").to_string(), "instance:\"a*\"");
    }

    #[test]
    fn only_the_last_star_makes_a_prefix() {
        assert_eq!(kind("instance:a**"), TermKind::Instance(vec![prefix("a*")]));
        assert_eq!(kind("instance:a*b"), TermKind::Instance(vec![exact("a*b")]));
    }

    // --- instance, developer, channel, cloud -------------------------------------------------

    #[test]
    fn instance_developer_and_channel_take_patterns() {
        assert_eq!(
            kind("instance:prod-eu,test*"),
            TermKind::Instance(vec![exact("prod-eu"), prefix("test")])
        );
        assert_eq!(
            kind("developer:alice"),
            TermKind::Developer(vec![exact("alice")])
        );
        assert_eq!(
            kind("channel:\"web shop\",api*"),
            TermKind::Channel(vec![exact("web shop"), prefix("api")])
        );
    }

    #[test]
    fn value_keeps_its_case_and_further_colons() {
        assert_eq!(
            kind("instance:Prod:EU"),
            TermKind::Instance(vec![exact("Prod:EU")])
        );
    }

    #[test]
    fn cloud_names_clouds() {
        assert_eq!(
            kind("cloud:salesforce,servicenow,m365,qualtrics,other"),
            TermKind::Cloud(Cloud::ALL.to_vec())
        );
    }

    #[test]
    fn unknown_cloud_lists_the_clouds() {
        assert_eq!(
            parse_err("cloud:aws").message,
            "unknown cloud \"aws\"; use salesforce, servicenow, m365, qualtrics or other"
        );
    }

    // --- case folding ------------------------------------------------------------------------

    #[test]
    fn case_folds_with_unicode_rules() {
        assert_eq!(fold_case("Élodie"), "élodie");
        assert_eq!(fold_case("ÆRO"), "æro");
        assert_eq!(fold_case("ÆRO"), fold_case("æro"));
        assert_eq!(fold_case("ΟΔΟΣ"), fold_case("οδος"));
        assert_eq!(fold_case("Ana.Lopez"), "ana.lopez");
        assert_eq!(fold_case("日本"), "日本");
        // Kelvin sign: not ASCII, yet it folds to an ASCII k.
        assert_eq!(fold_case("\u{212a}ey"), "key");
    }

    #[test]
    fn patterns_fold_their_text_but_display_it_as_typed() {
        let TermKind::Developer(ps) = kind("developer:Élodie,ÆR*") else {
            panic!()
        };
        assert_eq!(ps[0].folded(), "élodie");
        assert_eq!(ps[1].folded(), "ær");
        assert_eq!(
            parse("developer:Élodie,ÆR*").to_string(),
            "developer:Élodie,ÆR*"
        );
    }

    // --- id ----------------------------------------------------------------------------------

    #[test]
    fn id_strips_the_public_prefix() {
        assert_eq!(
            kind("id:kw_3fQa9LzX"),
            TermKind::Id(vec![exact("3fQa9LzX")])
        );
        assert_eq!(kind("id:3fQa9LzX"), TermKind::Id(vec![exact("3fQa9LzX")]));
        assert_eq!(kind("id:kw_3fQa*"), TermKind::Id(vec![prefix("3fQa")]));
        assert_eq!(kind("id:3f*"), TermKind::Id(vec![prefix("3f")]));
    }

    #[test]
    fn id_takes_comma_alternatives() {
        assert_eq!(
            kind("id:5O9U,kw_3fQa9LzX,ab*"),
            TermKind::Id(vec![exact("5O9U"), exact("3fQa9LzX"), prefix("ab")])
        );
        assert_eq!(parse("id:5O9U,kw_3fQa").to_string(), "id:5O9U,3fQa");
        let e = parse_err("status:active id:a,,b");
        assert_eq!(
            e.message,
            "empty alternative in id:; remove the extra comma"
        );
        assert_eq!(e.column, 15);
    }

    /// A full key as an admin pastes it when a key has leaked.
    fn leaked_key() -> crate::domain::KeyToken {
        let id = crate::domain::PublicId::parse("5O9UxyZ1").unwrap();
        crate::domain::KeyToken::generate(&id)
    }

    #[test]
    fn a_pasted_key_becomes_its_public_id_and_drops_the_secret() {
        let key = leaked_key();
        let secret = &key.expose()[12..44];
        for typed in [
            key.expose().to_string(),
            format!("\"{}\"", key.expose()),
            format!("id:{}", key.expose()),
            format!("  {}  ", key.expose()),
        ] {
            let q = parse(&typed);
            assert_eq!(
                q.terms[0].kind,
                TermKind::Id(vec![exact("5O9UxyZ1")]),
                "{typed:?}"
            );
            assert_eq!(q.to_string(), "id:5O9UxyZ1");
            assert!(!format!("{q:?}").contains(secret));
            assert!(holds_pasted_key(&typed), "{typed:?}");
        }
        let negated = parse(&format!("-{} status:active", key.expose()));
        assert!(negated.terms[0].negated);
        assert_eq!(negated.to_string(), "-id:5O9UxyZ1 status:active");
        let h = history(key.expose());
        assert_eq!(h.terms[0].kind, HistoryTermKind::Key("5O9UxyZ1".into()));
        assert_eq!(
            history_kind(&format!("key:{}", key.expose())),
            HistoryTermKind::Key("5O9UxyZ1".into())
        );
    }

    #[test]
    fn a_key_with_a_mistyped_checksum_is_still_taken_for_a_key() {
        let key = leaked_key();
        let mut typo = key.expose().to_string();
        typo.pop();
        typo.push(if key.expose().ends_with('x') {
            'y'
        } else {
            'x'
        });
        assert_eq!(parse(&typo).to_string(), "id:5O9UxyZ1");
    }

    #[test]
    fn an_error_never_echoes_a_pasted_key() {
        let key = leaked_key();
        let e = parse_err(&format!("status:{}", key.expose()));
        assert!(!e.message.contains(&key.expose()[12..]), "{}", e.message);
        assert!(e.message.contains("a full key, not shown"), "{}", e.message);
    }

    #[test]
    fn a_line_holding_a_pasted_key_shows_only_its_public_id() {
        let key = leaked_key();
        let typed = format!("status:active {}", key.expose());
        let canonical = KeyQuery::parse(&typed).ok().map(|q| q.to_string());
        assert_eq!(
            without_pasted_key(&typed, canonical).as_deref(),
            Some("status:active id:5O9UxyZ1")
        );
        let broken = format!("status:bogus \"{}\" kw_x", key.expose());
        assert_eq!(
            without_pasted_key(&broken, None).as_deref(),
            Some("status:bogus \"kw_5O9UxyZ1\" kw_x")
        );
        assert_eq!(without_pasted_key("status:active kw_3fQa", None), None);
        // Run into another word, the key parses as that word: the secret
        // must not come back through the canonical text.
        let run_in = format!("channel:leak{}", key.expose());
        let canonical = KeyQuery::parse(&run_in).ok().map(|q| q.to_string());
        let shown = without_pasted_key(&run_in, canonical).unwrap_or_default();
        assert!(!shown.contains(&key.expose()[12..]), "{shown}");
        assert_eq!(shown, "channel:leakkw_5O9UxyZ1");
    }

    #[test]
    fn words_that_only_look_like_a_key_are_free_text() {
        assert!(!holds_pasted_key("kw_3fQa9LzX"));
        assert!(!holds_pasted_key("kw_3fQa9LzX_…7Gd2"));
        assert!(!holds_pasted_key("kw_3fQa9LzX_short"));
        assert_eq!(
            kind("kw_3fQa9LzX_short"),
            TermKind::Text("kw_3fQa9LzX_short".into())
        );
        assert_eq!(pasted_key_id("kw_3fQa9LzX"), None);
    }

    #[test]
    fn id_needs_something_after_the_prefix() {
        assert_eq!(
            parse_err("id:kw_").message,
            "id: needs the public id after kw_"
        );
        assert!(parse_err("id:kw_*").message.contains("match everything"));
    }

    #[test]
    fn id_that_itself_starts_with_the_prefix_survives_display() {
        let q = parse("id:kw_kw_x");
        assert_eq!(q.terms[0].kind, TermKind::Id(vec![exact("kw_x")]));
        assert_eq!(q.to_string(), "id:kw_kw_x");
        assert_eq!(parse(&q.to_string()), q);
    }

    // --- time fields -------------------------------------------------------------------------

    #[test]
    fn expires_takes_never_or_a_comparison() {
        assert_eq!(kind("expires:never"), TermKind::Expires(TimeBound::Never));
        assert_eq!(
            kind("expires:<30d"),
            TermKind::Expires(TimeBound::Cmp(Cmp::Lt, days(30)))
        );
        assert_eq!(
            kind("expires:>=2027-01-31"),
            TermKind::Expires(TimeBound::Cmp(Cmp::Ge, When::Date(date(2027, 1, 31))))
        );
    }

    #[test]
    fn used_takes_never_or_a_comparison() {
        assert_eq!(kind("used:never"), TermKind::Used(TimeBound::Never));
        assert_eq!(
            kind("used:>90d"),
            TermKind::Used(TimeBound::Cmp(Cmp::Gt, days(90)))
        );
    }

    #[test]
    fn created_and_deactivated_take_comparisons() {
        assert_eq!(
            kind("created:<=7d"),
            TermKind::Created(TimeBound::Cmp(Cmp::Le, days(7)))
        );
        assert_eq!(
            kind("deactivated:2026-03-15"),
            TermKind::Deactivated(TimeBound::Cmp(Cmp::Eq, When::Date(date(2026, 3, 15))))
        );
        assert_eq!(
            kind("deactivated:=2026-03-15"),
            kind("deactivated:2026-03-15")
        );
    }

    #[test]
    fn every_operator_is_understood() {
        for (text, cmp) in [
            ("<", Cmp::Lt),
            ("<=", Cmp::Le),
            (">", Cmp::Gt),
            (">=", Cmp::Ge),
            ("=", Cmp::Eq),
            ("", Cmp::Eq),
        ] {
            assert_eq!(
                kind(&format!("created:{text}2026-01-02")),
                TermKind::Created(TimeBound::Cmp(cmp, When::Date(date(2026, 1, 2))))
            );
        }
    }

    #[test]
    fn duration_units_are_minutes_hours_days_and_weeks() {
        let span = |s: &str| match kind(&format!("created:<{s}")) {
            TermKind::Created(TimeBound::Cmp(Cmp::Lt, When::Span(d))) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(span("45m"), TimeDelta::minutes(45));
        assert_eq!(span("12h"), TimeDelta::hours(12));
        assert_eq!(span("3d"), TimeDelta::days(3));
        assert_eq!(span("2w"), TimeDelta::weeks(2));
        assert_eq!(span("2W"), TimeDelta::weeks(2));
        assert_eq!(span("36500d"), TimeDelta::days(36_500));
        assert_eq!(span("5214w"), TimeDelta::weeks(5214));
    }

    #[test]
    fn a_duration_beyond_a_hundred_years_is_an_error() {
        assert!(
            parse_err("created:<36501d")
                .message
                .contains("longer than 36500 days")
        );
        assert!(
            parse_err("created:<5215w")
                .message
                .contains("longer than 36500 days")
        );
        assert!(
            parse_err("created:<99999999999999999999999d")
                .message
                .contains("longer than 36500 days")
        );
    }

    #[test]
    fn a_zero_duration_is_an_error() {
        assert_eq!(
            parse_err("created:<0d").message,
            "\"0d\" is not a positive duration; use at least 1, e.g. 1d"
        );
    }

    #[test]
    fn a_bad_duration_or_date_suggests_the_forms() {
        let e = parse_err("expires:<30x");
        assert_eq!(
            e.message,
            "\"30x\" is not a duration or date; use e.g. 30d, 12h, 2w or 2027-01-31"
        );
        for bad in [
            "expires:<30M",
            "expires:<d",
            "expires:<-3d",
            "expires:soon",
            "expires:<30dd",
        ] {
            assert!(
                parse_err(bad).message.contains("is not a duration or date"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_impossible_date_is_an_error() {
        assert_eq!(
            parse_err("created:2026-02-30").message,
            "\"2026-02-30\" is not a real date"
        );
        assert!(
            parse_err("created:2026-1-3")
                .message
                .contains("not a duration or date")
        );
    }

    #[test]
    fn equals_with_a_duration_is_an_error() {
        let e = parse_err("created:7d");
        assert!(
            e.message.starts_with("use < or > with a duration"),
            "{}",
            e.message
        );
        assert!(e.message.contains("created:<7d"));
        assert!(
            parse_err("expires:=30d")
                .message
                .starts_with("use < or > with a duration")
        );
    }

    #[test]
    fn an_operator_needs_something_after_it() {
        assert_eq!(
            parse_err("expires:<=").message,
            "expires:<= needs a duration or date after the operator, e.g. expires:<30d"
        );
    }

    #[test]
    fn never_only_applies_to_expires_and_used() {
        for s in ["created:never", "deactivated:never"] {
            assert!(
                parse_err(s)
                    .message
                    .starts_with("never applies only to expires and used"),
                "{s}"
            );
        }
    }

    #[test]
    fn a_time_field_takes_one_comparison() {
        assert_eq!(
            parse_err("expires:<30d,>60d").message,
            "expires: takes a single value, without commas"
        );
    }

    // --- ranges: future-facing spans ---------------------------------------------------------

    #[test]
    fn expires_within_a_span_ends_at_now_plus_span() {
        let n = now().timestamp();
        assert_eq!(
            range_of("expires:<30d", Facing::Future),
            Range {
                from: Some(n),
                until: Some(n + 30 * DAY)
            }
        );
    }

    #[test]
    fn expires_within_or_at_a_span_includes_its_last_second() {
        let n = now().timestamp();
        assert_eq!(
            range_of("expires:<=30d", Facing::Future),
            Range {
                from: Some(n),
                until: Some(n + 30 * DAY + 1)
            }
        );
    }

    #[test]
    fn expires_beyond_a_span_starts_after_now_plus_span() {
        let n = now().timestamp();
        assert_eq!(
            range_of("expires:>30d", Facing::Future),
            from(n + 30 * DAY + 1)
        );
    }

    #[test]
    fn expires_at_or_beyond_a_span_starts_at_now_plus_span() {
        let n = now().timestamp();
        assert_eq!(
            range_of("expires:>=30d", Facing::Future),
            from(n + 30 * DAY)
        );
    }

    #[test]
    fn expires_within_a_span_leaves_out_keys_that_expired_already() {
        // An admin asking what expires in the next 30 days does not mean last
        // year's expired keys; those are `status:expired`.
        let n = now().timestamp();
        let r = range_of("expires:<30d", Facing::Future);
        assert!(!r.contains(n - 365 * DAY));
        assert!(!r.contains(n - 1));
        assert!(r.contains(n));
        assert!(r.contains(n + 29 * DAY));
    }

    // --- ranges: past-facing spans -----------------------------------------------------------

    #[test]
    fn created_less_than_a_span_ago_starts_just_after_now_minus_span() {
        let n = now().timestamp();
        assert_eq!(range_of("created:<7d", Facing::Past), from(n - 7 * DAY + 1));
    }

    #[test]
    fn created_at_most_a_span_ago_starts_at_now_minus_span() {
        let n = now().timestamp();
        assert_eq!(range_of("created:<=7d", Facing::Past), from(n - 7 * DAY));
    }

    #[test]
    fn created_more_than_a_span_ago_ends_at_now_minus_span() {
        let n = now().timestamp();
        assert_eq!(range_of("created:>7d", Facing::Past), until(n - 7 * DAY));
    }

    #[test]
    fn created_at_least_a_span_ago_ends_just_after_now_minus_span() {
        let n = now().timestamp();
        assert_eq!(
            range_of("created:>=7d", Facing::Past),
            until(n - 7 * DAY + 1)
        );
    }

    #[test]
    fn used_and_deactivated_spans_face_the_past_too() {
        let n = now().timestamp();
        assert_eq!(range_of("used:>90d", Facing::Past), until(n - 90 * DAY));
        assert_eq!(
            range_of("deactivated:<12h", Facing::Past),
            from(n - 12 * 3600 + 1)
        );
        assert_eq!(range_of("used:<=45m", Facing::Past), from(n - 45 * 60));
    }

    #[test]
    fn past_and_future_ranges_of_a_span_are_disjoint_at_their_edge() {
        let n = now().timestamp();
        let less = range_of("created:<7d", Facing::Past);
        let at_least = range_of("created:>=7d", Facing::Past);
        for t in (n - 7 * DAY - 2)..(n - 7 * DAY + 3) {
            assert!(less.contains(t) != at_least.contains(t), "{t}");
        }
        let within = range_of("expires:<=30d", Facing::Future);
        let beyond = range_of("expires:>30d", Facing::Future);
        for t in (n + 30 * DAY - 2)..(n + 30 * DAY + 3) {
            assert!(within.contains(t) != beyond.contains(t), "{t}");
        }
    }

    // --- ranges: dates -----------------------------------------------------------------------

    /// 2027-01-31 00:00:00 UTC.
    const D: i64 = 1_801_353_600;
    const D1: i64 = D + DAY;

    #[test]
    fn the_test_date_constant_is_midnight_utc() {
        let midnight = Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(midnight.timestamp(), D);
    }

    #[test]
    fn before_a_date_ends_at_its_midnight() {
        for facing in [Facing::Future, Facing::Past] {
            assert_eq!(range_of("expires:<2027-01-31", facing), until(D));
        }
    }

    #[test]
    fn on_or_before_a_date_ends_at_the_next_midnight() {
        for facing in [Facing::Future, Facing::Past] {
            assert_eq!(range_of("created:<=2027-01-31", facing), until(D1));
        }
    }

    #[test]
    fn after_a_date_starts_at_the_next_midnight() {
        for facing in [Facing::Future, Facing::Past] {
            assert_eq!(range_of("used:>2027-01-31", facing), from(D1));
        }
    }

    #[test]
    fn on_or_after_a_date_starts_at_its_midnight() {
        for facing in [Facing::Future, Facing::Past] {
            assert_eq!(range_of("deactivated:>=2027-01-31", facing), from(D));
        }
    }

    #[test]
    fn on_a_date_is_that_whole_day() {
        let day = Range {
            from: Some(D),
            until: Some(D1),
        };
        for facing in [Facing::Future, Facing::Past] {
            assert_eq!(range_of("expires:=2027-01-31", facing), day);
            assert_eq!(range_of("expires:2027-01-31", facing), day);
        }
        assert!(day.contains(D) && day.contains(D1 - 1));
        assert!(!day.contains(D - 1) && !day.contains(D1));
    }

    #[test]
    fn never_has_no_range() {
        assert_eq!(TimeBound::Never.range(now(), Facing::Future), None);
        assert_eq!(TimeBound::Never.range(now(), Facing::Past), None);
    }

    #[test]
    fn a_hand_built_equal_span_is_one_second() {
        let n = now().timestamp();
        let b = TimeBound::Cmp(Cmp::Eq, days(1));
        assert_eq!(
            b.range(now(), Facing::Future),
            Some(Range {
                from: Some(n + DAY),
                until: Some(n + DAY + 1)
            })
        );
        assert_eq!(
            b.range(now(), Facing::Past),
            Some(Range {
                from: Some(n - DAY),
                until: Some(n - DAY + 1)
            })
        );
    }

    #[test]
    fn an_unbounded_range_contains_everything() {
        assert!(Range::default().contains(i64::MIN));
        assert!(Range::default().contains(i64::MAX));
    }

    // --- free text, negation, quoting --------------------------------------------------------

    #[test]
    fn a_word_without_a_colon_is_free_text_kept_as_typed() {
        assert_eq!(kind("Billing"), TermKind::Text("Billing".into()));
        assert_eq!(kind("a,b*"), TermKind::Text("a,b*".into()));
    }

    #[test]
    fn quoted_text_keeps_spaces_and_colons() {
        assert_eq!(
            kind("\"billing sync\""),
            TermKind::Text("billing sync".into())
        );
        assert_eq!(
            kind("\"https://example.test\""),
            TermKind::Text("https://example.test".into())
        );
        assert_eq!(
            kind("\"status:active\""),
            TermKind::Text("status:active".into())
        );
    }

    #[test]
    fn escapes_inside_quotes() {
        assert_eq!(kind(r#""say \"hi\"""#), TermKind::Text("say \"hi\"".into()));
        assert_eq!(kind(r#""a\\b""#), TermKind::Text("a\\b".into()));
        // Any other backslash is kept, so paths need no doubling.
        assert_eq!(kind(r#""C:\temp""#), TermKind::Text("C:\\temp".into()));
        assert_eq!(
            kind(r#"team:"R\"D""#),
            TermKind::Team(TeamMatch {
                no_team: false,
                names: vec![exact("R\"D")],
            })
        );
    }

    #[test]
    fn a_leading_dash_negates_a_term() {
        let q = parse("-team:payments -\"legacy\" -old status:active");
        let negated: Vec<bool> = q.terms.iter().map(|t| t.negated).collect();
        assert_eq!(negated, [true, true, true, false]);
        assert_eq!(q.terms[1].kind, TermKind::Text("legacy".into()));
        assert_eq!(q.terms[2].kind, TermKind::Text("old".into()));
    }

    #[test]
    fn only_the_first_dash_negates() {
        let q = parse("--x");
        assert!(q.terms[0].negated);
        assert_eq!(q.terms[0].kind, TermKind::Text("-x".into()));
        assert_eq!(q.to_string(), "-\"-x\"");
    }

    #[test]
    fn several_terms_are_all_kept_in_order() {
        let q = parse("  status:active   team:payments\tbilling\n");
        assert_eq!(q.terms.len(), 3);
        assert_eq!(q.to_string(), "status:active team:payments billing");
    }

    // --- errors and their columns ------------------------------------------------------------

    #[test]
    fn unknown_field_is_an_error_naming_the_fields() {
        let e = parse_err("team:x stauts:active");
        assert_eq!(e.column, 8);
        assert!(e.message.starts_with(
            "unknown field \"stauts\"; fields are status, team, instance, developer, channel, cloud, expires, created, used, deactivated, id"
        ));
        assert_eq!(e.to_string(), format!("column 8: {}", e.message));
    }

    #[test]
    fn text_with_a_colon_must_be_quoted() {
        assert!(
            parse_err("https://example.test")
                .message
                .starts_with("unknown field \"https\"")
        );
    }

    #[test]
    fn unterminated_quote_is_an_error_at_its_term() {
        let e = parse_err("status:active \"billing");
        assert_eq!(e.message, "unterminated quote");
        assert_eq!(e.column, 15);
        let e = parse_err("team:\"data");
        assert_eq!((e.message.as_str(), e.column), ("unterminated quote", 1));
        assert_eq!(
            parse_err("\"ends in backslash\\").message,
            "unterminated quote"
        );
    }

    #[test]
    fn column_counts_characters_not_bytes() {
        let e = parse_err("équipe  日本 bad:x");
        assert_eq!(e.column, 12);
    }

    #[test]
    fn column_points_at_the_dash_of_a_negated_term() {
        assert_eq!(parse_err("a -nope:x").column, 3);
    }

    #[test]
    fn empty_value_is_an_error() {
        let e = parse_err("status:active team:");
        assert_eq!(e.message, "team: needs a value after the colon");
        assert_eq!(e.column, 15);
        assert_eq!(
            parse_err("team:\"\"").message,
            "empty quotes in team:; put a value between them"
        );
    }

    #[test]
    fn empty_alternative_is_an_error() {
        for s in ["status:active,", "status:,active", "team:a,,b"] {
            assert!(parse_err(s).message.starts_with("empty alternative"), "{s}");
        }
    }

    #[test]
    fn star_alone_is_an_error() {
        let e = parse_err("team:*");
        assert_eq!(
            e.message,
            "team:* would match everything; put the beginning of a name before the *"
        );
        assert!(
            parse_err("developer:a,*")
                .message
                .contains("match everything")
        );
    }

    #[test]
    fn a_lone_dash_is_an_error() {
        let e = parse_err("team:x - y");
        assert_eq!(e.column, 8);
        assert!(e.message.starts_with("a lone - excludes nothing"));
        assert_eq!(parse_err("-").column, 1);
    }

    #[test]
    fn a_colon_with_no_field_is_an_error() {
        for s in [":", "::", ":x", "-:x"] {
            assert!(
                parse_err(s).message.starts_with("nothing before the colon"),
                "{s}"
            );
        }
    }

    #[test]
    fn a_quote_in_the_middle_of_a_word_is_an_error() {
        for s in [
            "ab\"c\"",
            "team:ab\"c\"",
            "team:\"a\"b",
            "\"a\"b",
            "team:\"a\"\"b\"",
        ] {
            let e = parse_err(s);
            assert_eq!(e.column, 1, "{s}");
        }
        assert!(
            parse_err("O\"Brien")
                .message
                .starts_with("a quote may only open")
        );
        assert_eq!(
            parse_err("\"a\"b").message,
            "put a space after the closing quote"
        );
    }

    #[test]
    fn empty_quoted_text_is_an_error() {
        assert!(parse_err("\"\"").message.starts_with("empty quotes"));
    }

    #[test]
    fn a_query_holds_at_most_256_values_of_at_most_1000_characters() {
        let terms = |n: usize| vec!["a"; n].join(" ");
        assert_eq!(parse(&terms(MAX_VALUES)).terms.len(), MAX_VALUES);
        let e = parse_err(&terms(MAX_VALUES + 1));
        assert_eq!(e.column, 2 * MAX_VALUES + 1, "the term past the limit");
        assert!(e.message.contains("256 values"), "{}", e.message);
        let alternatives = |n: usize| format!("instance:{}", vec!["a"; n].join(","));
        parse(&alternatives(MAX_VALUES));
        parse_err(&alternatives(MAX_VALUES + 1));
        parse_err(&format!("a {}", alternatives(MAX_VALUES)));
        assert!(HistoryQuery::parse(&terms(MAX_VALUES)).is_ok());
        assert!(HistoryQuery::parse(&format!("operator:{}", vec!["x"; 257].join(","))).is_err());

        let long = "é".repeat(MAX_VALUE_CHARS);
        let longer = "é".repeat(MAX_VALUE_CHARS + 1);
        for ok in [long.clone(), format!("\"{long}\""), format!("team:{long}*")] {
            parse(&ok);
        }
        for bad in [
            longer.clone(),
            format!("x \"{longer}\""),
            format!("team:a,{longer}*"),
        ] {
            let e = parse_err(&bad);
            assert!(e.message.contains("1000 characters"), "{}", e.message);
        }
        let e = HistoryQuery::parse(&format!("key:{longer}")).unwrap_err();
        assert!(e.message.contains("1000 characters"), "{}", e.message);
    }

    #[test]
    fn error_display_names_the_column() {
        let e = parse_err("status:nope");
        assert_eq!(
            e.to_string(),
            "column 1: unknown status \"nope\"; use active, expired, deactivated (revoked) or deleted"
        );
        let _: &dyn std::error::Error = &e;
    }

    #[test]
    fn error_messages_cut_long_input_short() {
        let long = "x".repeat(500);
        let e = parse_err(&format!("{long}:y"));
        assert!(e.message.len() < 300, "{}", e.message);
        assert!(e.message.contains('…'));
    }

    // --- history -----------------------------------------------------------------------------

    #[test]
    fn history_action_is_lowercased_and_may_list_alternatives() {
        assert_eq!(
            history_kind("action:Created,renewed,key_rotated"),
            HistoryTermKind::Action(vec![
                "created".into(),
                "renewed".into(),
                "key_rotated".into()
            ])
        );
    }

    #[test]
    fn history_action_must_be_a_plain_word() {
        let e = history_err("action:re-newed");
        assert_eq!(
            e.message,
            "\"re-newed\" is not an action name; actions are words like created or renewed"
        );
        assert!(
            history_err("action:creat*")
                .message
                .contains("not an action name")
        );
        assert!(
            history_err("action:\"é\"")
                .message
                .contains("not an action name")
        );
    }

    #[test]
    fn history_key_strips_the_public_prefix() {
        assert_eq!(
            history_kind("key:kw_3fQa9LzX"),
            HistoryTermKind::Key("3fQa9LzX".into())
        );
        assert_eq!(
            history_kind("key:3fQa9LzX"),
            HistoryTermKind::Key("3fQa9LzX".into())
        );
    }

    #[test]
    fn history_key_takes_one_whole_id() {
        assert!(history_err("key:a,b").message.contains("single value"));
        assert!(history_err("key:3fQa*").message.contains("whole public id"));
        assert!(history_err("key:kw_").message.contains("after kw_"));
        assert_eq!(history("key:kw_kw_x").to_string(), "key:kw_kw_x");
    }

    #[test]
    fn history_operator_takes_patterns() {
        assert_eq!(
            history_kind("operator:alice,\"Bob Smith\",adm*"),
            HistoryTermKind::Operator(vec![exact("alice"), exact("Bob Smith"), prefix("adm")])
        );
    }

    #[test]
    fn history_at_faces_the_past_and_has_no_never() {
        let n = now().timestamp();
        let HistoryTermKind::At(b) = history_kind("at:<7d") else {
            panic!()
        };
        assert_eq!(b.range(now(), Facing::Past), Some(from(n - 7 * DAY + 1)));
        assert_eq!(
            history_kind("at:>=2026-11-01"),
            HistoryTermKind::At(TimeBound::Cmp(Cmp::Ge, When::Date(date(2026, 11, 1))))
        );
        assert!(history_err("at:never").message.contains("has no never"));
        assert!(
            history_err("at:7d")
                .message
                .starts_with("use < or > with a duration")
        );
    }

    #[test]
    fn history_free_text_and_negation() {
        let q = history("-action:renewed \"billing sync\" -test");
        assert_eq!(q.terms.len(), 3);
        assert!(q.terms[0].negated && !q.terms[1].negated && q.terms[2].negated);
        assert_eq!(
            q.terms[1].kind,
            HistoryTermKind::Text("billing sync".into())
        );
    }

    #[test]
    fn history_fields_are_not_key_fields() {
        let e = history_err("status:active");
        assert!(
            e.message
                .starts_with("unknown field \"status\"; fields are action, key, operator, at")
        );
        assert!(
            parse_err("action:created")
                .message
                .starts_with("unknown field \"action\"")
        );
    }

    // --- help data ---------------------------------------------------------------------------

    #[test]
    fn help_has_a_row_for_every_field_plus_text_and_negation() {
        let fields: Vec<&str> = KEY_FIELDS.iter().map(|h| h.field).collect();
        let mut expected: Vec<&str> = KEY_FIELD_NAMES.split(", ").collect();
        expected.extend(["free text", "-term"]);
        assert_eq!(fields, expected);
        let fields: Vec<&str> = HISTORY_FIELDS.iter().map(|h| h.field).collect();
        let mut expected: Vec<&str> = HISTORY_FIELD_NAMES.split(", ").collect();
        expected.extend(["free text", "-term"]);
        assert_eq!(fields, expected);
    }

    // --- display round-trip ------------------------------------------------------------------

    #[test]
    fn display_round_trips_varied_queries() {
        let cases = [
            "status:active,expired team:\"data platform\" -cloud:m365",
            "team:none,pay* instance:\"prod eu\"* developer:alice channel:api",
            "expires:never used:>90d created:<=2026-01-01 deactivated:2026-03-15",
            "expires:<2w used:<12h created:>=90m",
            "id:kw_3fQa* -id:x \"billing sync\" -\"legacy\" plain",
            "team:\"none\" team:\"a,b\" team:\"x*\" team:\"q\\\"uote\"",
            "\"back\\\\slash\" \"tab\there\" \"日本 語\" \"-dash\" \"a:b\"",
            "status:revoked,deleted",
        ];
        for s in cases {
            let q = parse(s);
            let shown = q.to_string();
            assert_eq!(parse(&shown), q, "{s:?} displayed as {shown:?}");
            assert_eq!(parse(&shown).to_string(), shown);
        }
        for s in [
            "action:created,renewed key:kw_abc operator:\"Bob S\",adm* at:<7d -\"x y\"",
            "at:2026-11-05 -key:abc operator:x*",
        ] {
            let q = history(s);
            assert_eq!(history(&q.to_string()), q, "{s:?}");
        }
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(
            parse("STATUS:Active Team:Payments EXPIRES:<=2w created:=2026-01-02 id:KW_x")
                .to_string(),
            "status:active team:Payments expires:<=14d created:2026-01-02 id:KW_x"
        );
        assert_eq!(parse("used:<90m").to_string(), "used:<90m");
        assert_eq!(parse("used:<120m").to_string(), "used:<2h");
        assert_eq!(parse("used:<48h").to_string(), "used:<2d");
    }

    /// A small deterministic generator, so the property tests need no extra crate.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, one_in: usize) -> bool {
            self.below(one_in) == 0
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len())]
        }

        fn string(&mut self) -> String {
            const PIECES: &[&str] = &[
                "a", "Z", "0", "-", "_", "*", ",", ":", " ", "\"", "\\", "é", "日", "\t", "\u{1}",
                "none", "kw_", "never", "<", "=",
            ];
            let len = 1 + self.below(5);
            (0..len).map(|_| self.pick(PIECES)).collect()
        }

        fn pattern(&mut self) -> Pattern {
            let text = self.string();
            if self.chance(2) {
                Pattern::Prefix(text)
            } else {
                Pattern::Exact(text)
            }
        }

        fn patterns(&mut self) -> Vec<Pattern> {
            (0..1 + self.below(3)).map(|_| self.pattern()).collect()
        }

        fn bound(&mut self, never_allowed: bool) -> TimeBound {
            if never_allowed && self.chance(5) {
                return TimeBound::Never;
            }
            let cmp = self.pick(&[Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge, Cmp::Eq]);
            if cmp != Cmp::Eq && self.chance(2) {
                let unit = self.pick(&[1, 60, 1440, 10080]);
                let count = 1 + self.below((MAX_SPAN_MINUTES / unit) as usize) as u64;
                TimeBound::Cmp(cmp, When::Span(TimeDelta::minutes((count * unit) as i64)))
            } else {
                let d = NaiveDate::from_ymd_opt(
                    1970 + self.below(130) as i32,
                    1 + self.below(12) as u32,
                    1 + self.below(28) as u32,
                )
                .unwrap();
                TimeBound::Cmp(cmp, When::Date(d))
            }
        }

        fn key_term(&mut self) -> Term {
            let kind = match self.below(12) {
                0 => TermKind::Status(
                    (0..1 + self.below(3))
                        .map(|_| self.pick(&KeyStatus::ALL))
                        .collect(),
                ),
                1 => {
                    let no_team = self.chance(2);
                    let names = if no_team && self.chance(2) {
                        vec![]
                    } else {
                        self.patterns()
                    };
                    TermKind::Team(TeamMatch { no_team, names })
                }
                2 => TermKind::Instance(self.patterns()),
                3 => TermKind::Developer(self.patterns()),
                4 => TermKind::Channel(self.patterns()),
                5 => TermKind::Cloud(
                    (0..1 + self.below(3))
                        .map(|_| self.pick(&Cloud::ALL))
                        .collect(),
                ),
                6 => TermKind::Expires(self.bound(true)),
                7 => TermKind::Created(self.bound(false)),
                8 => TermKind::Used(self.bound(true)),
                9 => TermKind::Deactivated(self.bound(false)),
                10 => TermKind::Id(self.patterns()),
                _ => TermKind::Text(self.string()),
            };
            Term {
                negated: self.chance(3),
                kind,
            }
        }

        fn history_term(&mut self) -> HistoryTerm {
            let kind = match self.below(5) {
                0 => HistoryTermKind::Action(
                    (0..1 + self.below(3))
                        .map(|_| {
                            (0..1 + self.below(8))
                                .map(|_| self.pick(&['a', 'e', 'z', '_']))
                                .collect()
                        })
                        .collect(),
                ),
                1 => HistoryTermKind::Key(self.string()),
                2 => HistoryTermKind::Operator(self.patterns()),
                3 => HistoryTermKind::At(self.bound(false)),
                _ => HistoryTermKind::Text(self.string()),
            };
            HistoryTerm {
                negated: self.chance(3),
                kind,
            }
        }
    }

    #[test]
    fn generated_key_queries_round_trip_through_display() {
        let mut rng = Lcg(7);
        for _ in 0..500 {
            let q = KeyQuery {
                terms: (0..rng.below(5)).map(|_| rng.key_term()).collect(),
            };
            let shown = q.to_string();
            match KeyQuery::parse(&shown) {
                Ok(back) => assert_eq!(back, q, "{shown:?}"),
                Err(e) => panic!("{q:?} displayed as {shown:?} does not parse: {e}"),
            }
        }
    }

    #[test]
    fn generated_history_queries_round_trip_through_display() {
        let mut rng = Lcg(11);
        for _ in 0..500 {
            let q = HistoryQuery {
                terms: (0..rng.below(5)).map(|_| rng.history_term()).collect(),
            };
            let shown = q.to_string();
            match HistoryQuery::parse(&shown) {
                Ok(back) => assert_eq!(back, q, "{shown:?}"),
                Err(e) => panic!("{q:?} displayed as {shown:?} does not parse: {e}"),
            }
        }
    }

    #[test]
    fn generated_text_that_parses_keeps_its_meaning_through_display() {
        const PIECES: &[&str] = &[
            "status:",
            "team:",
            "expires:",
            "used:",
            "id:",
            "at:",
            "action:",
            "key:",
            "operator:",
            "active",
            "deleted",
            "none",
            "never",
            "\"",
            "\\",
            ",",
            "*",
            "-",
            ":",
            " ",
            " ",
            " ",
            "<",
            ">=",
            "30d",
            "2027-01-31",
            "x",
            "é",
            "日",
            "kw_",
            "\t",
        ];
        let mut rng = Lcg(3);
        let (mut parsed, mut parsed_history) = (0, 0);
        for _ in 0..3000 {
            let s: String = (0..1 + rng.below(8)).map(|_| rng.pick(PIECES)).collect();
            if let Ok(q) = KeyQuery::parse(&s) {
                parsed += 1;
                let shown = q.to_string();
                assert_eq!(
                    KeyQuery::parse(&shown).as_ref(),
                    Ok(&q),
                    "{s:?} -> {shown:?}"
                );
            }
            if let Ok(q) = HistoryQuery::parse(&s) {
                parsed_history += 1;
                let shown = q.to_string();
                assert_eq!(
                    HistoryQuery::parse(&shown).as_ref(),
                    Ok(&q),
                    "{s:?} -> {shown:?}"
                );
            }
        }
        // The generator is only useful if a fair share of its output is valid.
        assert!(parsed > 300, "only {parsed} parsed");
        assert!(parsed_history > 300, "only {parsed_history} parsed");
    }

    #[test]
    fn parsing_never_panics_on_hostile_input() {
        let long_word = "a".repeat(100_000);
        let long_quote = format!("\"{}", "b ".repeat(50_000));
        let long_commas = format!("status:{}", ",".repeat(100_000));
        let long_dashes = "-".repeat(100_000);
        let long_colons = ":".repeat(100_000);
        let long_mixed = "\"\\日-:,* é\u{0}".repeat(10_000);
        let mut inputs: Vec<String> = [
            "\u{0}",
            "\u{7}\u{1b}[2J",
            "\"",
            "\"\"\"",
            "\\",
            "\\\"",
            "-",
            "--",
            "- -",
            ":",
            "::",
            "-:",
            "a:",
            "a::b",
            "\"a\":b",
            "team:\"",
            "team:\"\\",
            "team:,",
            "team:*,*",
            "expires:<",
            "expires:<<",
            "expires:<=>",
            "expires:99999999999999999999999999m",
            "expires:<9223372036854775807w",
            "created:0000-00-00",
            "created:9999-12-31",
            "created:<2027-01-31*",
            "日本語:値",
            "ünïcödé",
            "👩‍👩‍👧",
            "\u{202e}rtl",
            "\r\n\t",
            "id:kw_",
            "id:\"\"*",
            "team:\"\"*",
            "key:\"kw_\"",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.extend([
            long_word,
            long_quote,
            long_commas,
            long_dashes,
            long_colons,
            long_mixed,
        ]);
        for s in &inputs {
            let _ = KeyQuery::parse(s);
            let _ = HistoryQuery::parse(s);
            if let Ok(q) = KeyQuery::parse(s) {
                assert_eq!(KeyQuery::parse(&q.to_string()), Ok(q));
            }
        }
        // Every cut of a tricky query, including cuts inside quotes and operators.
        let tricky = "-team:\"da\\\"ta\"*,none status:revoked expires:<=2027-01-31 \"日本\" -x";
        for (i, _) in tricky.char_indices() {
            let _ = KeyQuery::parse(&tricky[..i]);
            let _ = HistoryQuery::parse(&tricky[i..]);
        }
        // A pasted novel is refused whole, not searched for: SQLite would not take it.
        assert_eq!(
            KeyQuery::parse(&"a".repeat(100_000)).map_err(|e| e.column),
            Err(1)
        );
    }

    #[test]
    fn ranges_saturate_rather_than_overflow() {
        let far = TimeBound::Cmp(Cmp::Le, When::Span(TimeDelta::MAX));
        let _ = far.range(now(), Facing::Future);
        let _ = far.range(now(), Facing::Past);
        let max_date = TimeBound::Cmp(Cmp::Gt, When::Date(NaiveDate::MAX));
        assert!(max_date.range(now(), Facing::Future).is_some());
    }
}

#[cfg(test)]
mod integration_filter_tests {
    use super::*;

    #[test]
    fn an_integrations_filter_reads_back_to_its_three_names_however_written() {
        for (i, d, c) in [
            ("acme-prod", "Ana", "ci"),
            ("acme prod", "Fatima Haddad", "web hook"),
            ("x,y", "say \"hi\"", "end*"),
        ] {
            let text = integration_filter(i, d, c);
            let q = KeyQuery::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let names: Vec<String> = q
                .terms
                .iter()
                .filter_map(|t| match &t.kind {
                    TermKind::Instance(p) | TermKind::Developer(p) | TermKind::Channel(p) => {
                        Some(p[0].text().to_owned())
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(names, [i, d, c], "{text}");
        }
    }
}
