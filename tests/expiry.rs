//! When a key expires: ninety days unless told, a span counted from the write,
//! and verification failing once it has passed. Checked at the service level
//! with an injected clock moved by hand: no sleeps, and no clock override in
//! the binary.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::service::{reason, request, service};
use common::{Env, key_create};
use keyward_core::domain::Cloud;
use keyward_core::service::{Clock, InstanceSpec, VerifyFailure};
use keyward_core::testing::{TempStore, start};
use std::sync::{Arc, Mutex};

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
fn the_default_expiry_is_ninety_days() {
    let (_store, clock, mut svc) = service();
    let key = svc.create_key(&request("sync", None)).unwrap();
    assert_eq!(
        key.key.expires_at,
        Some((clock.now() + TimeDelta::days(90)).timestamp())
    );
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

/// Dates are typed as they are shown: in the host's local zone. In Tokyo a
/// key made to expire on 2026-12-05 lasts through 23:59:59 there, and
/// `history --filter at:DAY` finds the rows shown on that day.
#[test]
fn dates_are_read_in_the_zone_they_are_shown_in() {
    let env = Env::with_instance();
    // A POSIX zone (no tz database needed): UTC+9.
    let tokyo = |args: &[&str]| {
        let mut cmd = env.command();
        cmd.env("TZ", "JST-9");
        env.run_with(cmd, args)
    };
    let made = tokyo(&key_create(
        "tokyo",
        "acme",
        "ana",
        "ci",
        &["--expires", "2099-12-05", "--json"],
    ))
    .expect(0)
    .json();
    assert_eq!(made["expires_at"], "2099-12-05T14:59:59Z", "{made}");
    let shown = tokyo(&["key", "show", made["id"].as_str().unwrap()])
        .expect(0)
        .stdout;
    assert!(shown.contains("2099-12-05 23:59"), "{shown}");

    // The row of that creation, on the local day it is shown on.
    let rows = tokyo(&["history", "--limit", "0", "--json"])
        .expect(0)
        .json();
    let created = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "created")
        .expect("a created row");
    let at = chrono::DateTime::parse_from_rfc3339(created["at"].as_str().unwrap()).unwrap();
    let local_day = (at.to_utc() + chrono::TimeDelta::hours(9))
        .format("%Y-%m-%d")
        .to_string();
    let found = tokyo(&[
        "history",
        "--filter",
        &format!("action:created at:{local_day}"),
        "--json",
    ])
    .expect(0)
    .json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
}
