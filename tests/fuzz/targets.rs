//! The bodies of the fuzz targets, in one place: the cargo-fuzz crate beside
//! this file (`fuzz_targets/*.rs`) calls them under libFuzzer, and
//! `tests/fuzz_corpus.rs` calls them on every committed corpus file on stable,
//! so CI replays the corpora without nightly or libFuzzer.
//!
//! Each body takes raw bytes, never panics on its own account, and asserts the
//! properties that are cheap to check: a parsed key re-serialises to what was
//! typed, a span counts from now, an accepted query reads back the same through
//! its display and runs as SQL against a real store.
#![allow(dead_code)]

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use keyward_core::domain::expiry::{format_duration, parse_duration};
use keyward_core::domain::key_format::{PREFIX, PUBLIC_ID_LEN, SECRET_LEN, TAIL_LEN, mask};
use keyward_core::domain::query::{HistoryQuery, HistoryTermKind, KeyQuery};
use keyward_core::domain::{Cloud, Expiry, KeyStatus, KeyToken, PublicId};
use keyward_core::service::demo::DemoSpec;
use keyward_core::service::{InstanceSpec, NewKeyRequest, Service};
use keyward_core::testing::{HandClock, TempStore};
use std::path::Path;
use std::sync::Arc;

/// The moment every target treats as now, so a run can be replayed.
pub fn now() -> DateTime<Utc> {
    keyward_core::testing::start()
}

/// `KeyToken::parse` (checksum included) and `PublicId::parse`.
pub fn key_token(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(id) = PublicId::parse(s) {
        let typed = s.trim();
        let typed = typed.strip_prefix(PREFIX).unwrap_or(typed);
        assert_eq!(id.as_str(), typed, "a public id is kept as typed");
        assert_eq!(id.as_str().len(), PUBLIC_ID_LEN);
    }
    let Ok(key) = KeyToken::parse(s) else {
        return;
    };
    let text = key.expose();
    // Re-serialises to exactly what was typed, less surrounding white space.
    assert_eq!(text, s.trim(), "a parsed key re-serialises as typed");
    let again = KeyToken::parse(text).expect("a parsed key parses again");
    assert_eq!(again.expose(), text);
    assert!(text.is_ascii(), "a key is base62 and underscores");
    assert!(text.len() >= PREFIX.len() + PUBLIC_ID_LEN + 1 + SECRET_LEN + 6);
    let id = key.public_id();
    assert_eq!(
        &text[PREFIX.len()..PREFIX.len() + PUBLIC_ID_LEN],
        id.as_str()
    );
    assert_eq!(PublicId::parse(id.as_str()), Some(id.clone()));
    // The masked form shows the id and checksum characters only.
    assert_eq!(key.tail(), &text[text.len() - TAIL_LEN..]);
    assert_eq!(key.masked(), mask(id.as_str(), key.tail()));
    assert!(text.len() - TAIL_LEN >= PREFIX.len() + PUBLIC_ID_LEN + 1 + SECRET_LEN);
    // Any one character changed is caught, here at a place the input picks.
    let at = data.iter().map(|&b| usize::from(b)).sum::<usize>() % text.len();
    let mut changed = text.as_bytes().to_vec();
    changed[at] = if changed[at] == b'Z' { b'Y' } else { b'Z' };
    let changed = String::from_utf8(changed).expect("ASCII stays UTF-8");
    assert!(
        KeyToken::parse(&changed).is_err(),
        "{changed} passed with one character changed"
    );
}

/// `Expiry::parse` and `parse_duration`, at a fixed now.
pub fn expiry(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let now = now();
    let parsed = Expiry::parse(s, now);
    match &parsed {
        Ok(Expiry::Never) => assert!(s.trim().eq_ignore_ascii_case("never"), "{s:?}"),
        Ok(Expiry::At(t)) => {
            assert!(*t > now, "{s:?} gave {t}, not after now");
            // An instant reads back as itself (years past 9999 have no RFC 3339 form).
            if t.timestamp() < 253_402_300_800 {
                let shown = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                assert_eq!(
                    Expiry::parse(&shown, now).ok(),
                    Some(Expiry::At(*t)),
                    "{s:?} gave {shown}"
                );
            }
        }
        Err(e) => assert_usage(s, e),
    }
    match parse_duration(s) {
        Ok(span) => {
            assert!(span > TimeDelta::zero(), "{s:?}");
            assert!(span <= TimeDelta::days(36_500), "{s:?}");
            // A span counts from now.
            assert_eq!(parsed.ok(), Some(Expiry::At(now + span)), "{s:?}");
            let shown = format_duration(span);
            assert_eq!(parse_duration(&shown).ok(), Some(span), "{s:?} as {shown}");
        }
        Err(e) => assert_usage(s, &e),
    }
}

/// A refusal is a usage error (exit 2) with a message.
fn assert_usage(s: &str, e: &keyward_core::error::Error) {
    assert_eq!(e.exit_code(), 2, "{s:?}: {e}");
    assert!(!e.to_string().is_empty(), "{s:?}");
}

/// A store at `db` with demo data and names that look like SQL and LIKE
/// patterns, for the query target to run its SQL against.
pub fn query_service(db: &Path) -> Service {
    // The clock is never moved: every query runs at [`now`].
    let mut service = TempStore::at(db, Arc::new(HandClock::at(now()))).admin();
    service
        .sample_data_for_tests(DemoSpec {
            keys: 40,
            history: Some(120),
        })
        .expect("demo data");
    service
        .add_instance(&InstanceSpec {
            name: "50%_off".into(),
            cloud: Cloud::Other,
            url: None,
            max_active: None,
        })
        .expect("add instance");
    for (name, team) in [
        ("'; DROP TABLE keys; --", "a_b"),
        ("\"quoted\" \\ back", "100%"),
    ] {
        service
            .create_key(&NewKeyRequest {
                name: name.into(),
                instance: "50%_off".into(),
                developer: "o'brien".into(),
                channel: "%".into(),
                teams: vec![team.into()],
                expires: Some("30d".into()),
            })
            .expect("create key");
    }
    service
}

/// `KeyQuery::parse` and `HistoryQuery::parse`; an accepted query reads back
/// the same through its display and runs on `service` without a store error.
pub fn query(data: &[u8], service: &mut Service) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let columns = s.chars().count() + 1;
    match KeyQuery::parse(s) {
        Ok(q) => {
            let shown = q.to_string();
            assert_eq!(
                KeyQuery::parse(&shown).as_ref(),
                Ok(&q),
                "{s:?} shown as {shown:?}"
            );
            let keys = service
                .list_keys(&q, false, Some(20))
                .unwrap_or_else(|e| panic!("{s:?} was accepted but failed: {e}"));
            if !q.mentions_deleted() {
                assert!(keys.iter().all(|k| k.status != KeyStatus::Deleted), "{s:?}");
            }
        }
        Err(e) => {
            assert!((1..=columns).contains(&e.column), "{s:?}: {e}");
            assert!(!e.message.is_empty(), "{s:?}");
        }
    }
    match HistoryQuery::parse(s) {
        Ok(q) => {
            let shown = q.to_string();
            assert_eq!(
                HistoryQuery::parse(&shown).as_ref(),
                Ok(&q),
                "{s:?} shown as {shown:?}"
            );
            if let Err(e) = service.history(&q, Some(20)) {
                // The only refusal after parsing: an action name that does not exist.
                let names_actions = q
                    .terms
                    .iter()
                    .any(|t| matches!(t.kind, HistoryTermKind::Action(_)));
                assert!(
                    e.exit_code() == 2 && names_actions,
                    "{s:?} was accepted but failed: {e}"
                );
            }
        }
        Err(e) => {
            assert!((1..=columns).contains(&e.column), "{s:?}: {e}");
            assert!(!e.message.is_empty(), "{s:?}");
        }
    }
}
