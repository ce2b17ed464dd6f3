//! Replays every committed fuzz corpus file (tests/fuzz/corpus/<target>/)
//! through the same target bodies the cargo-fuzz crate runs, so CI checks the
//! corpora on stable without libFuzzer. The bodies are in tests/fuzz/targets.rs.
//!
//! Each target then gets `KEYWARD_FUZZ_MUTATIONS` (default 1000) inputs made by
//! mutating the corpus with a fixed seed (`KEYWARD_FUZZ_SEED`, default 1): a
//! blind fuzzer on stable, to run longer locally with a larger count.

#[path = "fuzz/targets.rs"]
mod targets;

use std::fs;
use std::path::{Path, PathBuf};

/// Every file of one target's corpus, sorted so a failure names the same file each run.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{target}: only {} corpus files in {}",
        files.len(),
        dir.display()
    );
    files
}

/// Runs `body` on every corpus file, naming the file that fails.
fn replay(target: &str, body: &mut impl FnMut(&[u8])) -> usize {
    let files = corpus(target);
    for file in &files {
        let data = fs::read(file).expect("read a corpus file");
        let name = file.display().to_string();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&data)));
        if let Err(panic) = outcome {
            eprintln!("{target}: {name} fails");
            std::panic::resume_unwind(panic);
        }
    }
    files.len()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic xorshift, so a failing mutation can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that mean something to one parser or another.
const TOKENS: &[&[u8]] = &[
    b"kw_",
    b"_",
    b":",
    b",",
    b"\"",
    b"\\",
    b"-",
    b"*",
    b"<",
    b"<=",
    b">",
    b">=",
    b"=",
    b" ",
    b"never",
    b"none",
    b"d",
    b"w",
    b"h",
    b"m",
    b"T",
    b"Z",
    b"+02:00",
    b"9999",
    b"2027-01-31",
    b"status:",
    b"team:",
    b"expires:",
    b"action:",
    b"id:",
    b"\xc3\xa9",
    b"\xe2\x80\xae",
    b"\x1b[",
    b"\0",
    b"\xff",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(data.len());
                data.drain(at.min(end)..end);
            }
            2 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                let to = (from + rng.below(16)).min(other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
        }
    }
    data
}

/// Replays the corpus, then feeds mutations of it; returns how many inputs ran.
fn run_target(target: &str, mut body: impl FnMut(&[u8])) -> u64 {
    let replayed = replay(target, &mut body) as u64;
    let corpus: Vec<Vec<u8>> = corpus(target)
        .iter()
        .map(|f| fs::read(f).expect("read a corpus file"))
        .collect();
    let mutations = env_number("KEYWARD_FUZZ_MUTATIONS", 1000);
    let seed = env_number("KEYWARD_FUZZ_SEED", 1);
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for i in 0..mutations {
        let data = mutate(&mut rng, &corpus);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&data)));
        if let Err(panic) = outcome {
            eprintln!("{target}: mutation {i} of seed {seed} fails: {data:?}");
            std::panic::resume_unwind(panic);
        }
    }
    eprintln!("{target}: {replayed} corpus inputs and {mutations} mutations (seed {seed})");
    replayed + mutations
}

#[test]
fn the_key_parser_corpus_passes() {
    run_target("key_token", targets::key_token);
}

#[test]
fn the_expiry_parser_corpus_passes() {
    run_target("expiry", targets::expiry);
}

#[test]
fn the_query_parser_corpus_passes_and_its_queries_run_as_sql() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = targets::query_service(&dir.path().join("keyward.db"));
    run_target("query", |data| targets::query(data, &mut service));
}

#[test]
fn sql_fragments_in_names_are_matched_literally_by_filters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = targets::query_service(&dir.path().join("keyward.db"));
    targets::query(
        b"status:active team:a_b \"'; DROP TABLE keys; --\"",
        &mut service,
    );
    let keys = service
        .list_keys(
            &keyward_core::domain::query::KeyQuery::parse("team:a_b").expect("a query"),
            false,
            None,
        )
        .expect("list");
    assert_eq!(
        keys.len(),
        1,
        "team:a_b matches the one key, not a LIKE pattern"
    );
    assert_eq!(keys[0].name, "'; DROP TABLE keys; --");
    let keys = service
        .list_keys(
            &keyward_core::domain::query::KeyQuery::parse("100%").expect("a query"),
            false,
            None,
        )
        .expect("list");
    assert_eq!(keys.len(), 1, "free text 100% is literal");
}
