//! What every benchmark shares: the large store of issue 6, built once by
//! `keyward demo` (in process, through the service) and kept under Cargo's
//! target directory, and a service opened on it as the login running the bench.
//!
//! The size defaults to the 100 000 keys and 1 000 000 history rows;
//! `KEYWARD_BENCH_KEYS` and `KEYWARD_BENCH_HISTORY` make a smaller one for a
//! quick look. A store is built under a temporary name and renamed into place,
//! so an interrupted build is never taken for a finished one.

#![allow(dead_code)]

use keyward_core::domain::history::Origin;
use keyward_core::domain::model::Role;
use keyward_core::service::demo::DemoSpec;
use keyward_core::service::{Service, Settings, SystemClock};
use keyward_core::testing::TempStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The store the benchmarks read, and its size.
pub struct BenchStore {
    pub path: PathBuf,
    pub keys: u64,
    pub history: u64,
}

fn size(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The directory benchmarks keep their stores in.
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keyward-bench")
}

/// The login running the benchmark, as keyward itself sees it.
pub fn origin() -> Origin {
    keyward_core::identity::current(None).expect("the login running the benchmark")
}

/// The large store, built on first use (about 25 s at full size on 2 cores).
pub fn large_store() -> BenchStore {
    let keys = size("KEYWARD_BENCH_KEYS", 100_000);
    let history = size("KEYWARD_BENCH_HISTORY", 1_000_000);
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("the benchmark directory");
    let path = dir.join(format!("store-{keys}-keys-{history}-history.db"));
    if !path.exists() {
        let building = dir.join(format!(".building-{}.db", std::process::id()));
        eprintln!(
            "building the benchmark store ({keys} keys, {history} history rows) at {}",
            path.display()
        );
        // The login running the bench is an admin too, for the keyward commands
        // the benchmarks run on the store.
        let mut service = TempStore::at(&building, Arc::new(SystemClock))
            .service_as(&origin().login, Role::Admin);
        service
            .sample_data_for_tests(DemoSpec {
                keys,
                history: Some(history),
            })
            .expect("the demo data");
        drop(service);
        std::fs::rename(&building, &path).expect("the store moved into place");
    }
    BenchStore {
        path,
        keys,
        history,
    }
}

/// A service on `path` for the login running the benchmark.
pub fn service(path: &Path) -> Service {
    Service::open(path, origin(), Arc::new(SystemClock), Settings::default())
        .expect("the benchmark store opens")
}

/// A private copy of the store, for benchmarks that write.
pub fn copy_of(store: &BenchStore) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(bench_dir()).expect("a scratch directory");
    let path = dir.path().join("copy.db");
    std::fs::copy(&store.path, &path).expect("the store copied");
    (dir, path)
}

/// The keyward binary Cargo built for the benchmarks (release settings).
pub fn keyward_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keyward"))
}

/// The median of some durations, in milliseconds.
pub fn median_ms(mut samples: Vec<std::time::Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
