//! The README's query examples, read from README.md itself: each must parse, and each whose
//! meaning is plain must find exactly what it says on a store shaped like the examples (an
//! instance `prod`, a developer `ana`, a team `payments`, an operator `ana.lopez`…), checked
//! against the keys and history rows filtered by hand. An example the README gains later is
//! parsed and run without any change here.

use chrono::{NaiveDate, TimeDelta};
use keyward_core::domain::model::{Cloud, Key, Role};
use keyward_core::domain::query::{HistoryQuery, KeyQuery, fold_case};
use keyward_core::service::{InstanceSpec, NewKeyRequest, Service};
use keyward_core::testing::{HandClock, TempStore};
use std::sync::Arc;

fn readme() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The code spans between `from` and the next `to` (or the paragraph's end), a span broken
/// over two lines joined with a space.
fn spans(text: &str, from: &str, to: &str) -> Vec<String> {
    // Paragraphs end at a blank line; within one, a line break is a space, wherever the
    // README's lines happen to wrap.
    let text = text.replace("\n\n", "\u{0}").replace('\n', " ");
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("the README no longer says {from:?}"))
        + from.len();
    let rest = &text[start..];
    let end = [rest.find(to), rest.find('\u{0}')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        // What the prose says of `-`, `*` or a field (`id:`) on its own is not a query.
        .filter(|s| s.contains(':') && !s.ends_with(':'))
        .collect()
}

/// Every key-filter example of the README.
fn key_examples(text: &str) -> Vec<String> {
    spans(
        text,
        "**Filters** (`key list --filter`):",
        "History filters:",
    )
}

/// Every history-filter example of the README: the command-line list and the History tab.
fn history_examples(text: &str) -> Vec<String> {
    let mut examples = spans(text, "History filters:", "**Exit codes**");
    examples.extend(spans(text, "`/` filters by", "`m` shows"));
    examples
}

#[test]
fn the_readme_still_has_query_examples_to_check() {
    let text = readme();
    let keys = key_examples(&text);
    let history = history_examples(&text);
    assert!(keys.len() >= 5, "{keys:?}");
    assert!(history.len() >= 2, "{history:?}");
    // The long example names every field of the language, so none goes unchecked.
    let all = keys.join(" ");
    for field in [
        "status:",
        "team:",
        "instance:",
        "developer:",
        "channel:",
        "cloud:",
        "expires:",
        "used:",
        "created:",
        "deactivated:",
        "id:",
    ] {
        assert!(all.contains(field), "no README example of {field}");
    }
    let all = history.join(" ");
    for field in ["action:", "key:", "operator:", "at:"] {
        assert!(all.contains(field), "no README example of {field}");
    }
}

const DAY: i64 = 86_400;

/// A store with what the README's examples name, built on a hand clock over most of 2026.
struct Shaped {
    _store: TempStore,
    clock: Arc<HandClock>,
    admin: Service,
    /// A key's public id, standing in for the README's made-up `3fQa9LzX`.
    some_id: String,
}

fn key(
    name: &str,
    instance: &str,
    developer: &str,
    channel: &str,
    teams: &[&str],
    expires: &str,
) -> NewKeyRequest {
    NewKeyRequest {
        name: name.into(),
        instance: instance.into(),
        developer: developer.into(),
        channel: channel.into(),
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        expires: Some(expires.into()),
    }
}

fn shaped_store() -> Shaped {
    let store = TempStore::new(); // 2026-03-01, the first admin is login "ana"
    let clock = store.clock().clone();
    let mut admin = store.admin();
    for (name, cloud) in [
        ("prod", Cloud::Salesforce),
        ("acme-prod", Cloud::Servicenow),
    ] {
        admin
            .add_instance(&InstanceSpec {
                name: name.into(),
                cloud,
                url: None,
                max_active: None,
            })
            .unwrap();
    }
    admin
        .add_operator(
            "ana.lopez",
            "Ana López",
            "ana.lopez@example.org",
            Role::Manager,
        )
        .unwrap();
    let mut ana_lopez = store.service_as("ana.lopez", Role::Manager);
    let billing = ana_lopez
        .create_key(&key(
            "billing sync",
            "prod",
            "ana",
            "ci",
            &["payments"],
            "never",
        ))
        .unwrap();
    ana_lopez
        .create_key(&key("crm import", "prod", "Ana López", "api", &[], "90d"))
        .unwrap();
    let old = ana_lopez
        .create_key(&key(
            "old export",
            "acme-prod",
            "ben",
            "ci",
            &["payments", "data"],
            "never",
        ))
        .unwrap();
    clock.advance(TimeDelta::days(4));
    admin
        .deactivate_keys(std::slice::from_ref(&old.key.public_id))
        .unwrap();
    clock.advance(TimeDelta::days(248)); // 2026-11-08
    let deploy = ana_lopez
        .create_key(&key("deploy", "prod", "Anabel", "ci", &[], "10d"))
        .unwrap();
    let lead = ana_lopez
        .create_key(&key(
            "lead import",
            "acme-prod",
            "ana",
            "ide",
            &["growth"],
            "60d",
        ))
        .unwrap();
    clock.advance(TimeDelta::days(2)); // 2026-11-10
    admin.verify(&billing.token).unwrap();
    admin
        .deactivate_keys(std::slice::from_ref(&lead.key.public_id))
        .unwrap();
    admin.renew_key(&deploy.key.public_id, None, None).unwrap();
    // Expires within the next 30 days, as `expires:<30d` asks.
    ana_lopez
        .create_key(&key("trial", "acme-prod", "ana", "ci", &[], "20d"))
        .unwrap();
    Shaped {
        _store: store,
        clock,
        admin,
        some_id: billing.key.public_id.clone(),
    }
}

impl Shaped {
    fn now(&self) -> i64 {
        use keyward_core::service::Clock;
        self.clock.now().timestamp()
    }
}

fn day(s: &str) -> i64 {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// What a key-filter term says, written out by hand; `None` for a term whose meaning
/// this test does not spell out (it is still parsed and run).
fn key_term_holds(term: &str, k: &Key, now: i64) -> Option<bool> {
    let (negated, term) = match term.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, term),
    };
    let (field, value) = term.split_once(':')?;
    let is = |a: &str, b: &str| fold_case(a) == fold_case(b);
    let holds = match field {
        "status" => value.split(',').any(|v| k.status.as_str() == v),
        "team" if value == "none" => k.teams.is_empty(),
        "team" => k.teams.iter().any(|t| is(t, value)),
        "instance" => is(&k.instance, value),
        "developer" => match value.strip_suffix('*') {
            Some(p) => fold_case(&k.developer).starts_with(&fold_case(p)),
            None => is(&k.developer, value),
        },
        "channel" => is(&k.channel, value),
        "cloud" => k.cloud.as_str() == value,
        "id" => k.public_id.starts_with(value),
        "used" if value == "never" => k.last_used_at.is_none(),
        "expires" if value == "<30d" => {
            k.expires_at.is_some_and(|t| t >= now && t < now + 30 * DAY)
        }
        "created" if value == "<7d" => k.created_at > now - 7 * DAY,
        "deactivated" => {
            let date = value.strip_prefix(">=")?;
            k.deactivated_at.is_some_and(|t| t >= day(date))
        }
        _ => return None,
    };
    Some(holds != negated)
}

/// The README's `id:3fQa` and `key:3fQa9LzX` name a key no store has: each id is swapped
/// for the same length of a real key's id.
fn with_real_ids(example: &str, real: &str) -> String {
    example
        .split(' ')
        .map(|term| {
            for field in ["id:", "key:"] {
                if let Some(v) = term.strip_prefix(field) {
                    let v = v.strip_prefix("kw_").unwrap_or(v);
                    return format!("{field}{}", &real[..v.len().min(real.len())]);
                }
            }
            term.to_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_readme_key_filter_parses_and_finds_what_it_says() {
    let mut shaped = shaped_store();
    let now = shaped.now();
    let every: Vec<Key> = shaped
        .admin
        .list_keys(&KeyQuery::default(), true, None)
        .unwrap();
    assert_eq!(every.len(), 6);
    let mut checked = 0;
    for example in key_examples(&readme()) {
        KeyQuery::parse(&example).unwrap_or_else(|e| panic!("README example {example:?}: {e}"));
        // The whole example, then each of its terms on its own.
        let mut queries = vec![with_real_ids(&example, &shaped.some_id)];
        if example.contains(' ') {
            queries.extend(
                example
                    .split(' ')
                    .map(|t| with_real_ids(t, &shaped.some_id)),
            );
        }
        for q in queries {
            let query = KeyQuery::parse(&q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
            let found: Vec<String> = shaped
                .admin
                .list_keys(&query, true, None)
                .unwrap_or_else(|e| panic!("{q:?} does not run: {e}"))
                .into_iter()
                .map(|k| k.name)
                .collect();
            let expected: Option<Vec<String>> = every
                .iter()
                .map(|k| {
                    q.split(' ')
                        .map(|t| key_term_holds(t, k, now))
                        .try_fold(true, |all, t| t.map(|t| all && t))
                        .map(|keep| keep.then(|| k.name.clone()))
                })
                .collect::<Option<Vec<_>>>()
                .map(|names| names.into_iter().flatten().collect());
            if let Some(mut expected) = expected {
                let mut found = found;
                found.sort();
                expected.sort();
                assert_eq!(found, expected, "README example {q:?}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 12,
        "only {checked} examples had their meaning checked"
    );
}

#[test]
fn the_readme_examples_find_keys_on_this_store_at_all() {
    // The hand-written meanings above would agree on an empty answer too: make sure the
    // plain examples find something here, so the comparison is worth making.
    let mut shaped = shaped_store();
    for (q, at_least) in [
        ("instance:prod", 3),
        ("instance:acme-prod", 2),
        ("developer:ana", 2),
        ("developer:ana*", 4),
        ("team:payments", 2),
        ("-team:payments", 3),
        ("team:none", 2),
        ("status:active,expired", 3),
        ("expires:<30d", 1),
        ("deactivated:>=2026-11-01", 1),
        ("created:<7d", 2),
        ("used:never", 4),
    ] {
        let n = shaped
            .admin
            .list_keys(&KeyQuery::parse(q).unwrap(), true, None)
            .unwrap()
            .len();
        assert!(n >= at_least, "{q} found {n}");
    }
    let id = &shaped.some_id[..4];
    let found = shaped
        .admin
        .list_keys(&KeyQuery::parse(&format!("id:{id}")).unwrap(), true, None)
        .unwrap();
    assert!(
        found.iter().any(|k| k.name == "billing sync"),
        "id:{id} is a prefix"
    );
}

#[test]
fn every_readme_history_filter_parses_and_finds_what_it_says() {
    let mut shaped = shaped_store();
    let now = shaped.now();
    let every = shaped
        .admin
        .history(&HistoryQuery::default(), None)
        .unwrap();
    let mut checked = 0;
    for example in history_examples(&readme()) {
        HistoryQuery::parse(&example).unwrap_or_else(|e| panic!("README example {example:?}: {e}"));
        let mut queries = vec![with_real_ids(&example, &shaped.some_id)];
        queries.extend(
            example
                .split(' ')
                .map(|t| with_real_ids(t, &shaped.some_id)),
        );
        for q in queries {
            let query = HistoryQuery::parse(&q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
            let found: Vec<i64> = shaped
                .admin
                .history(&query, None)
                .unwrap_or_else(|e| panic!("{q:?} does not run: {e}"))
                .into_iter()
                .map(|r| r.record.seq)
                .collect();
            let holds = |term: &str, r: &keyward_core::domain::history::HistoryRow| {
                let (field, value) = term.split_once(':')?;
                let rec = &r.record;
                Some(match field {
                    "action" => value.split(',').any(|a| a == rec.action),
                    "key" => rec.key.as_deref() == Some(value),
                    // A login or a name, or its beginning.
                    "operator" => [Some(rec.origin.login.as_str()), rec.operator.as_deref()]
                        .into_iter()
                        .flatten()
                        .any(|s| fold_case(s).starts_with(&fold_case(value))),
                    "at" if value == "<7d" => rec.at > now - 7 * DAY,
                    "at" => rec.at >= day(value.strip_prefix(">=")?),
                    _ => return None,
                })
            };
            let expected: Option<Vec<i64>> = every
                .iter()
                .map(|r| {
                    q.split(' ')
                        .map(|t| holds(t, r))
                        .try_fold(true, |all, t| t.map(|t| all && t))
                        .map(|keep| keep.then_some(r.record.seq))
                })
                .collect::<Option<Vec<_>>>()
                .map(|seqs| seqs.into_iter().flatten().collect());
            if let Some(expected) = expected {
                assert_eq!(found, expected, "README example {q:?}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} examples had their meaning checked"
    );
    // The README's own promise: `operator:ana` finds what login ana.lopez did.
    let by_ana = shaped
        .admin
        .history(&HistoryQuery::parse("operator:ana").unwrap(), None)
        .unwrap();
    assert!(by_ana.iter().any(|r| r.record.origin.login == "ana.lopez"));
}
