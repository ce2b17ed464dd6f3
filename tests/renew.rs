//! Renewing a key: with a grace period both secrets work until it ends,
//! without one the old secret stops at once, and deactivating the key ends a
//! grace period too. Checked at the service level with a clock moved by hand.

mod common;

use chrono::TimeDelta;
use common::service::{reason, request, service};
use keyward_core::service::VerifyFailure;

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
