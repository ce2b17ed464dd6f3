//! libFuzzer on the key parser: structure, checksum and public id.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::key_token(data));
