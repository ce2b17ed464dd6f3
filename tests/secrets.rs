//! A key's secret is shown once, in the create or renew output, and never again:
//! not in any later output, not in the store file, its WAL or its shared memory.
//! And the store's files are only for its owner (and group, in a shared directory).

mod common;

use common::{Env, Run};
use rusqlite::Connection;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The 32-character secret of `kw_XXXXXXXX_<secret><checksum>`.
fn secret_of(key: &str) -> &str {
    assert_eq!(key.len(), 50, "{key}");
    &key[12..44]
}

/// The bytes of `file`, read by `cat`. Opening and closing the store's files in
/// this process would drop the POSIX locks of the connection this process holds
/// open on them (all of a process's locks on a file go with any close of it), and
/// with them the hold that keeps keyward from removing the WAL.
fn read_from_another_process(file: &Path) -> Option<Vec<u8>> {
    let out = Command::new("cat").arg(file).output().expect("run cat");
    out.status.success().then_some(out.stdout)
}

/// Runs the lifecycle, keeping every output and a copy of every store file after
/// every command, so the secrets can be looked for in all of them at the end.
struct Lifecycle {
    env: Env,
    /// (what, text) of every stdout and stderr that must not hold a secret.
    outputs: Vec<(String, String)>,
    /// (what, bytes) of every copy of the store's files.
    copies: Vec<(String, Vec<u8>)>,
}

impl Lifecycle {
    fn record(&mut self, what: &str, run: &Run) {
        self.outputs
            .push((format!("{what}: stdout"), run.stdout.clone()));
        self.outputs
            .push((format!("{what}: stderr"), run.stderr.clone()));
        self.snapshot(what);
    }

    fn snapshot(&mut self, what: &str) {
        for file in common::store_files(&self.env.db) {
            // A file SQLite removes between the listing and the read is simply gone.
            if let Some(bytes) = read_from_another_process(&file) {
                self.copies
                    .push((format!("{} after {what}", file.display()), bytes));
            }
        }
        self.check_modes(what);
    }

    fn check_modes(&self, what: &str) {
        for file in common::store_files(&self.env.db) {
            if let Ok(m) = fs::metadata(&file) {
                assert_eq!(
                    m.permissions().mode() & 0o777,
                    0o600,
                    "{} after {what}",
                    file.display()
                );
            }
        }
    }

    /// Runs a command that does not print a secret, expecting `code`.
    fn run(&mut self, args: &[&str], code: i32) -> Run {
        let run = self.env.run(args).expect(code);
        self.record(&args.join(" "), &run);
        run
    }

    fn verify(&mut self, key: &str, what: &str, code: i32) -> Run {
        let run = self.env.verify(key).expect(code);
        self.record(&format!("verify {what}"), &run);
        run
    }

    /// Runs a command that prints a new secret: its output is the one showing, so
    /// it is not kept, but the store files after it are.
    fn issue(&mut self, args: &[&str]) -> serde_json::Value {
        let run = self.env.run(args).expect(0);
        assert_eq!(run.stderr, "", "{args:?}");
        self.snapshot(&args.join(" "));
        run.json()
    }
}

#[test]
fn a_secret_never_appears_after_its_one_showing() {
    let mut env = Env::empty();
    let dir = env.path("vault");
    env.db = dir.join("keyward.db");
    let mut life = Lifecycle {
        env,
        outputs: Vec::new(),
        copies: Vec::new(),
    };
    life.run(
        &[
            "init",
            "--name",
            "Test Admin",
            "--email",
            "admin@example.org",
        ],
        0,
    );
    life.run(&["instance", "add", "acme", "--cloud", "salesforce"], 0);
    life.run(
        &[
            "operator",
            "add",
            "mia",
            "--name",
            "Mia",
            "--email",
            "mia@example.org",
            "--role",
            "manager",
        ],
        0,
    );

    // While this connection is open, keyward's last close cannot checkpoint and
    // remove the WAL, so every page written stays in the -wal file to be scanned.
    let holder = Connection::open(&life.env.db).expect("open the store");
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM history", [], |r| r.get(0))
        .unwrap();

    let created = life.issue(&[
        "key",
        "create",
        "--name",
        "billing sync",
        "--instance",
        "acme",
        "--developer",
        "ana",
        "--channel",
        "ci",
        "--team",
        "payments",
        "--json",
    ]);
    let id = created["id"].as_str().expect("id").to_owned();
    let first = created["key"].as_str().expect("key").to_owned();
    assert!(first.starts_with(&format!("kw_{id}_")), "{first}");
    secret_of(&first);

    life.verify(&first, "the first key", 0);
    life.run(&["key", "show", &id], 0);
    life.run(&["key", "show", &format!("kw_{id}"), "--json"], 0);
    life.run(&["key", "list"], 0);
    life.run(&["key", "list", "--json"], 0);
    life.run(
        &[
            "key",
            "edit",
            &id,
            "--name",
            "billing sync v2",
            "--expires",
            "30d",
        ],
        0,
    );
    life.run(
        &[
            "key", "teams", &id, "--add", "finance", "--remove", "payments",
        ],
        0,
    );

    let renewed = life.issue(&["key", "renew", &id, "--grace", "1h", "--json"]);
    let second = renewed["key"].as_str().expect("key").to_owned();
    assert_ne!(first, second);
    assert!(second.starts_with(&format!("kw_{id}_")), "{second}");
    secret_of(&second);

    life.verify(&first, "the first key in its grace period", 0);
    life.verify(&second, "the renewed key", 0);
    let last = if first.ends_with('x') { 'y' } else { 'x' };
    life.verify(&format!("{}{last}", &first[..49]), "a mangled key", 1);
    life.run(&["key", "list", "--filter", "status:active", "--json"], 0);
    life.run(&["key", "deactivate", &id, "--yes"], 0);
    life.verify(&first, "the first key, deactivated", 1);
    life.verify(&second, "the renewed key, deactivated", 1);
    life.run(&["key", "delete", &id, "--yes"], 0);
    life.run(&["key", "list", "--all"], 0);
    life.run(&["key", "list", "--all", "--json"], 0);
    life.run(&["history"], 0);
    life.run(&["history", "--json"], 0);
    life.run(&["history", "--csv"], 0);
    life.run(&["history", "--limit", "0"], 0);
    life.run(&["history", "--limit", "0", "--json"], 0);
    life.run(&["history", "--limit", "0", "--csv"], 0);
    life.run(&["notifications"], 0);
    life.run(&["notifications", "--json"], 0);
    life.run(&["audit", "verify"], 0);
    life.run(&["operator", "list"], 0);
    life.run(&["operator", "list", "--json"], 0);
    life.run(&["team", "list"], 0);
    life.run(&["team", "list", "--json"], 0);
    life.run(&["instance", "list", "--json"], 0);
    life.run(&["developer", "list", "--json"], 0);

    // The WAL held everything written since the holder opened.
    let wal = life
        .copies
        .iter()
        .filter(|(what, _)| what.contains("-wal after"))
        .map(|(_, b)| b.len())
        .max()
        .unwrap_or(0);
    assert!(wal > 0, "no WAL was ever seen, so none was scanned");
    // A control for the search: what the WAL does hold, the key's public id, is found.
    assert!(
        life.copies
            .iter()
            .any(|(what, b)| what.contains("-wal after") && contains(b, id.as_bytes())),
        "the key's id is not in any WAL copy: the scan would miss the secret too"
    );
    let db = life.env.db.clone();
    let dir_mode = mode(&dir);
    let present: Vec<_> = common::store_files(&db);
    assert_eq!(
        present.len(),
        3,
        "store, -wal and -shm while in use: {present:?}"
    );

    // The last close checkpoints the WAL into the file and removes it.
    drop(holder);
    life.run(&["audit", "verify"], 0);

    let secrets = [
        ("the first key", first.clone()),
        ("the first secret", secret_of(&first).to_owned()),
        (
            "the first secret's first half",
            secret_of(&first)[..16].to_owned(),
        ),
        (
            "the first secret's second half",
            secret_of(&first)[16..].to_owned(),
        ),
        ("the renewed key", second.clone()),
        ("the renewed secret", secret_of(&second).to_owned()),
        (
            "the renewed secret's first half",
            secret_of(&second)[..16].to_owned(),
        ),
        (
            "the renewed secret's second half",
            secret_of(&second)[16..].to_owned(),
        ),
    ];
    for (what, text) in &life.outputs {
        for (label, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{label} appears in {what}:\n{text}"
            );
        }
    }
    for file in common::store_files(&db) {
        life.copies.push((
            format!("{} at the end", file.display()),
            fs::read(&file).unwrap(),
        ));
    }
    assert!(life.copies.len() > 40, "{} copies", life.copies.len());
    for (what, bytes) in &life.copies {
        for (label, secret) in &secrets {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{label} appears in {what}"
            );
        }
    }
    // Masked forms are what the outputs do carry.
    let masked_tail = &second[46..];
    assert!(
        life.outputs
            .iter()
            .any(|(_, t)| t.contains(&format!("kw_{id}_…{masked_tail}"))),
        "the renewed key is shown masked somewhere"
    );

    assert_eq!(dir_mode, 0o700, "the directory keyward created");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&db), 0o600);
}

#[test]
fn the_store_and_its_wal_and_shm_are_owner_only() {
    let env = Env::with_instance();
    assert_eq!(mode(&env.db), 0o600);
    let holder = Connection::open(&env.db).expect("open the store");
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    env.create_key("k", "ana", "ci");
    let files = common::store_files(&env.db);
    assert_eq!(files.len(), 3, "{files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

fn store_in_shared_dir(dir_mode: u32) {
    let mut env = Env::empty();
    let shared = env.path("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(dir_mode)).unwrap();
    assert_eq!(mode(&shared), dir_mode, "the test's own chmod");
    env.db = shared.join("keyward.db");
    env.init().expect(0);
    assert_eq!(mode(&env.db), 0o660, "store in a {dir_mode:o} directory");

    let holder = Connection::open(&env.db).expect("open the store");
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    env.ok(&["instance", "add", "acme", "--cloud", "other"]);
    for file in common::store_files(&env.db) {
        assert_eq!(mode(&file), 0o660, "{}", file.display());
    }
    assert_eq!(mode(&shared), dir_mode, "keyward left the directory alone");
}

#[test]
fn in_a_setgid_group_shared_directory_a_new_store_is_0660() {
    store_in_shared_dir(0o2770);
}

#[test]
fn in_a_group_writable_directory_a_new_store_is_0660() {
    store_in_shared_dir(0o770);
}

#[test]
fn in_a_setgid_directory_without_group_write_a_new_store_is_0660() {
    store_in_shared_dir(0o2750);
}
