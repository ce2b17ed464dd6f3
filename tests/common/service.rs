//! keyward's service on a test store, for the rules checked without the
//! binary: a store with the instance acme on a clock moved by hand, a key
//! request for acme, the reason a verification failed, and a store of demo data.

use keyward_core::domain::Cloud;
use keyward_core::service::demo::DemoSpec;
use keyward_core::service::{
    InstanceSpec, NewKeyRequest, Service, SystemClock, Verdict, VerifyFailure,
};
use keyward_core::testing::{HandClock, TempStore};
use std::sync::Arc;

pub fn service() -> (TempStore, Arc<HandClock>, Service) {
    let store = TempStore::new();
    let clock = store.clock().clone();
    let mut service = store.admin();
    service
        .add_instance(&InstanceSpec {
            name: "acme".into(),
            cloud: Cloud::Salesforce,
            url: None,
            max_active: None,
        })
        .unwrap();
    (store, clock, service)
}

pub fn request(name: &str, expires: Option<&str>) -> NewKeyRequest {
    NewKeyRequest {
        name: name.into(),
        instance: "acme".into(),
        developer: "Ana".into(),
        channel: "ci".into(),
        teams: vec![],
        expires: expires.map(str::to_owned),
    }
}

pub fn reason(v: Verdict) -> Option<VerifyFailure> {
    match v {
        Verdict::Valid(_) => None,
        Verdict::Invalid(f) => Some(f),
    }
}

pub fn demo_service(keys: u64, history: u64) -> (TempStore<SystemClock>, Service) {
    let store = TempStore::with_clock(Arc::new(SystemClock));
    let mut service = store.admin();
    service
        .sample_data_for_tests(DemoSpec {
            keys,
            history: Some(history),
        })
        .unwrap();
    (store, service)
}
