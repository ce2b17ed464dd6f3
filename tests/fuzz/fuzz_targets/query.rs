//! libFuzzer on the smart-filter parsers, whose accepted queries run as SQL on
//! a store made once per process under this crate's target directory.
#![no_main]

#[path = "../targets.rs"]
mod targets;

use keyward_core::service::Service;
use std::cell::RefCell;
use std::path::PathBuf;

thread_local! {
    static SERVICE: RefCell<Service> = RefCell::new({
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(format!("query-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        targets::query_service(&dir.join("keyward.db"))
    });
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    SERVICE.with(|service| targets::query(data, &mut service.borrow_mut()));
});
