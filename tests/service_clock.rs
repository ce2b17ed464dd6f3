//! Rules that depend on time, checked at the service level with an injected
//! clock moved by hand: no sleeps, and no clock override in the binary.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::service::{reason, request, service};
use keyward_core::domain::Cloud;
use keyward_core::service::{Clock, InstanceSpec, VerifyFailure};
use keyward_core::testing::{TempStore, start};
use std::sync::{Arc, Mutex};

#[test]
fn with_a_grace_period_both_secrets_work_until_it_ends() {
    let (_store, clock, mut svc) = service();
    let old = svc.create_key(&request("sync", None)).unwrap();
    let new = svc
        .renew_key(&old.key.public_id, Some("24h"), None)
        .unwrap();
    assert_eq!(reason(svc.verify(&old.token).unwrap()), None);
    assert_eq!(reason(svc.verify(&new.token).unwrap()), None);
    clock.advance(TimeDelta::hours(23));
    assert_eq!(reason(svc.verify(&old.token).unwrap()), None);
    clock.advance(TimeDelta::hours(2));
    assert_eq!(
        reason(svc.verify(&old.token).unwrap()),
        Some(VerifyFailure::Mismatch)
    );
    assert_eq!(reason(svc.verify(&new.token).unwrap()), None);
}

#[test]
fn without_a_grace_period_the_old_secret_stops_at_once() {
    let (_store, _clock, mut svc) = service();
    let old = svc.create_key(&request("sync", None)).unwrap();
    let new = svc.renew_key(&old.key.public_id, None, None).unwrap();
    assert_eq!(
        reason(svc.verify(&old.token).unwrap()),
        Some(VerifyFailure::Mismatch)
    );
    assert_eq!(reason(svc.verify(&new.token).unwrap()), None);
}

#[test]
fn deactivation_ends_a_grace_period_too() {
    let (_store, _clock, mut svc) = service();
    let old = svc.create_key(&request("sync", None)).unwrap();
    let new = svc
        .renew_key(&old.key.public_id, Some("24h"), None)
        .unwrap();
    svc.deactivate_keys(std::slice::from_ref(&old.key.public_id))
        .unwrap();
    // Deactivation erases the grace secret: the old key is no longer this key's at all.
    assert_eq!(
        reason(svc.verify(&old.token).unwrap()),
        Some(VerifyFailure::Mismatch)
    );
    assert_eq!(
        reason(svc.verify(&new.token).unwrap()),
        Some(VerifyFailure::Deactivated)
    );
}

#[test]
fn a_key_past_its_expiry_fails_as_expired() {
    let (_store, clock, mut svc) = service();
    let key = svc.create_key(&request("sync", Some("30d"))).unwrap();
    clock.advance(TimeDelta::days(29));
    assert_eq!(reason(svc.verify(&key.token).unwrap()), None);
    clock.advance(TimeDelta::days(2));
    assert_eq!(
        reason(svc.verify(&key.token).unwrap()),
        Some(VerifyFailure::Expired)
    );
}

#[test]
fn expired_keys_do_not_count_against_the_limit() {
    let (_store, clock, mut svc) = service();
    let a = svc.create_key(&request("a", Some("1d"))).unwrap();
    svc.create_key(&request("b", Some("1d"))).unwrap();
    assert!(svc.create_key(&request("c", None)).is_err());
    clock.advance(TimeDelta::days(2));
    svc.create_key(&request("c", None)).unwrap();
    svc.create_key(&request("d", None)).unwrap();
    // Renewing an expired key brings it back, so the full integration refuses it.
    let err = svc.renew_key(&a.key.public_id, None, None).unwrap_err();
    assert_eq!(err.exit_code(), 5);
}

#[test]
fn the_default_expiry_is_ninety_days() {
    let (_store, clock, mut svc) = service();
    let key = svc.create_key(&request("sync", None)).unwrap();
    assert_eq!(
        key.key.expires_at,
        Some((clock.now() + TimeDelta::days(90)).timestamp())
    );
}

#[test]
fn copying_a_new_secret_is_recorded_with_the_way_it_went() {
    let (_store, _clock, mut svc) = service();
    let key = svc.create_key(&request("sync", None)).unwrap();
    svc.record_copied(&key.key.public_id, "osc52").unwrap();
    let query = keyward_core::domain::query::HistoryQuery::parse("action:copied").unwrap();
    let rows = svc.history(&query, None).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0].record;
    assert_eq!(row.key.as_deref(), Some(key.key.public_id.as_str()));
    assert_eq!(row.masked.as_deref(), Some(key.token.masked().as_str()));
    assert_eq!(row.details, r#"{"via":"osc52"}"#);
    assert_eq!(row.origin.login, "ana");
}

#[test]
fn an_unknown_action_in_a_history_filter_is_a_usage_error() {
    let (_store, _clock, mut svc) = service();
    let query = keyward_core::domain::query::HistoryQuery::parse("action:exploded").unwrap();
    let err = svc.history(&query, None).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("teams_changed"), "{err}");
}

/// A clock that moves on a second each time it is read, as a slow machine's
/// would between checking a request and writing it.
struct TickingClock(Mutex<DateTime<Utc>>);

impl Clock for TickingClock {
    fn now(&self) -> DateTime<Utc> {
        let mut now = self.0.lock().unwrap();
        *now += TimeDelta::seconds(1);
        *now
    }
}

#[test]
fn a_span_counts_from_the_write_so_a_key_lives_exactly_that_long() {
    let store = TempStore::with_clock(Arc::new(TickingClock(Mutex::new(start()))));
    let mut s = store.admin();
    s.add_instance(&InstanceSpec {
        name: "acme".into(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: Some(10),
    })
    .unwrap();
    let life = |k: &keyward_core::domain::model::Key| k.expires_at.unwrap() - k.created_at;
    let default = s.create_key(&request("default", None)).unwrap().key;
    assert_eq!(life(&default), 90 * 86_400);
    let month = s.create_key(&request("month", Some("30d"))).unwrap().key;
    assert_eq!(life(&month), 30 * 86_400);
    let dated = s
        .create_key(&request("dated", Some("2026-12-31")))
        .unwrap()
        .key;
    assert_eq!(
        dated.expires_at,
        Some(
            Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59)
                .unwrap()
                .timestamp()
        )
    );
    let renewed = s.renew_key(&month.public_id, None, Some("7d")).unwrap().key;
    assert_eq!(renewed.expires_at.unwrap() - renewed.changed_at, 7 * 86_400);
}
