//! libFuzzer on the expiry parser: `Expiry::parse` and `parse_duration`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::expiry(data));
