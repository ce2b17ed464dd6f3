//! A key's secret is shown once, in the create or renew output, and never again:
//! not in any later output, not in the store file, its WAL or its shared memory.
//! And the store's files are only for its owner (and group, in a shared directory).

mod common;

use common::{Env, Run, key_create};
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

impl Lifecycle {
    /// A store made by `init` in `env`, with an instance `acme` and a manager `mia`.
    fn started(env: Env) -> Lifecycle {
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
        life
    }
}

/// A connection held open on the store: while it is, keyward's last close
/// cannot checkpoint the WAL away, so every page written stays in the -wal
/// file to be read.
fn hold_wal(db: &Path) -> Connection {
    let holder = Connection::open(db).expect("open the store");
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM history", [], |r| r.get(0))
        .expect("read the store");
    holder
}

#[test]
fn a_secret_never_appears_after_its_one_showing() {
    let mut env = Env::empty();
    let dir = env.path("vault");
    env.db = dir.join("keyward.db");
    let mut life = Lifecycle::started(env);
    let holder = hold_wal(&life.env.db);

    let created = life.issue(&key_create(
        "billing sync",
        "acme",
        "ana",
        "ci",
        &["--team", "payments", "--json"],
    ));
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

/// A group-writable directory without setgid gives a new file the creator's
/// own group, not the directory's: the store stays 0600 rather than being
/// shared with everyone in the creator's primary group.
#[test]
fn in_a_group_writable_directory_of_another_group_without_setgid_a_new_store_is_0600() {
    if !common::is_root() {
        return; // giving the directory another group needs root
    }
    let mut env = Env::empty();
    let dir = env.path("theirs");
    fs::create_dir(&dir).unwrap();
    nix::unistd::chown(&dir, None, Some(nix::unistd::Gid::from_raw(65534))).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o770)).unwrap();
    env.db = dir.join("keyward.db");
    env.init().expect(0);
    for file in common::store_files(&env.db) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// `/tmp` and its like (1777, or any directory others may write) are shared
/// with everyone, not with a group: the store stays 0600 there.
#[test]
fn in_a_world_writable_directory_a_new_store_is_0600() {
    for dir_mode in [0o1777, 0o777, 0o2777] {
        let mut env = Env::empty();
        let open = env.path("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(dir_mode)).unwrap();
        assert_eq!(mode(&open), dir_mode, "the test's own chmod");
        env.db = open.join("keyward.db");
        env.init().expect(0);
        env.ok(&["instance", "add", "acme", "--cloud", "other"]);
        for file in common::store_files(&env.db) {
            assert_eq!(
                mode(&file),
                0o600,
                "{} in a {dir_mode:o} directory",
                file.display()
            );
        }
    }
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

// ---------------------------------------------------------------------------
// Every byte written, in a lifecycle with mail delivery and the TUI.
// ---------------------------------------------------------------------------

/// The strings that must never be found for one secret: the key, the secret
/// part, its halves (a secret split over two writes), and the key in base64
/// (as an OSC 52 copy would carry it).
fn needles(label: &str, key: &str) -> Vec<(String, Vec<u8>)> {
    use base64::Engine as _;
    let secret = secret_of(key);
    vec![
        (format!("{label}: the key"), key.as_bytes().to_vec()),
        (format!("{label}: the secret"), secret.as_bytes().to_vec()),
        (
            format!("{label}: the secret's first half"),
            secret.as_bytes()[..16].to_vec(),
        ),
        (
            format!("{label}: the secret's second half"),
            secret.as_bytes()[16..].to_vec(),
        ),
        (
            format!("{label}: the key in base64"),
            base64::engine::general_purpose::STANDARD
                .encode(key)
                .into_bytes(),
        ),
    ]
}

/// Which of `needles` (each at least 8 bytes) occur in `hay`, in one pass: a
/// candidate must start with one of the needles' first 8 bytes, which a sorted
/// list of them answers fast even in a debug build, for the megabytes of WAL
/// copies this test reads.
fn found_in<'n>(hay: &[u8], needles: &'n [(String, Vec<u8>, bool)]) -> Vec<&'n str> {
    let prefix = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let mut starts: Vec<u64> = needles.iter().map(|(_, n, _)| prefix(n)).collect();
    starts.sort_unstable();
    let mut found = Vec::new();
    for i in 0..hay.len().saturating_sub(7) {
        if starts.binary_search(&prefix(&hay[i..])).is_ok() {
            for (what, needle, _) in needles {
                if hay[i..].starts_with(needle) {
                    found.push(what.as_str());
                }
            }
        }
    }
    found
}

/// Every regular file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            let meta = fs::symlink_metadata(&path).expect("stat");
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The outbox, once every message in it has been handed to sendmail: the
/// background deliveries after each change may still be running.
fn all_sent(env: &Env) -> Vec<serde_json::Value> {
    for _ in 0..600 {
        env.run(&["notifications", "send"]).expect(0);
        let outbox = env.json(&["notifications", "--json"]);
        let messages = outbox.as_array().expect("array").clone();
        if messages.iter().all(|m| m["status"] == "sent") {
            return messages;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the outbox never emptied: {}", env.ok(&["notifications"]));
}

/// The TUI part: make a key on screen, copy it, export the history as CSV and
/// JSON, quit. Every byte the TUI writes to its terminal goes to `recording`.
/// Returns the key shown, or `None` when tmux is not installed.
fn tui_session(env: &Env, exports: &Path, recording: &Path) -> Option<String> {
    use common::tmux::{Tmux, binary, secret_on};
    if !common::tools::require("tmux", "the TUI part of this test") {
        return None;
    }
    fs::create_dir_all(exports).expect("exports dir");
    let go = env.path("tui.go");
    let tmux = Tmux::start(env.dir.path());
    // The program waits for `go`, so the recording starts before its first byte.
    let pane = tmux.run(&format!(
        "cd '{exports}' && while [ ! -e '{go}' ]; do sleep 0.05; done; \
         env -u DISPLAY -u WAYLAND_DISPLAY -u KEYWARD_DB -u KEYWARD_CONFIG \
         HOME='{home}' XDG_DATA_HOME='{home}/data' XDG_CONFIG_HOME='{home}/config' \
         '{bin}' --db '{db}'; echo \"EXITED $?\"; exec sleep 120",
        exports = exports.display(),
        go = go.display(),
        home = env.dir.path().display(),
        bin = binary().display(),
        db = env.db.display(),
    ));
    pane.record_output(recording);
    fs::write(&go, b"").expect("go");

    pane.wait_for("crm import");
    pane.keys(&["n"]);
    pane.wait_for("New key");
    pane.wait_for("A name that says");
    pane.type_text("tui key");
    pane.keys(&["Tab"]);
    pane.type_text("acme");
    pane.keys(&["Tab"]);
    pane.type_text("tina");
    pane.keys(&["Tab"]);
    pane.type_text("ide");
    pane.keys(&["Tab"]);
    pane.type_text("payments");
    pane.keys(&["Tab", "Enter"]);
    let screen = pane.wait_for("Key created");
    let key = secret_on(&screen).unwrap_or_else(|| panic!("no key on screen:\n{screen}"));
    pane.keys(&["c"]);
    pane.wait_for("Copied");
    pane.keys(&["Escape"]);
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));

    pane.keys(&["4"]);
    pane.wait_for("Credential history");
    pane.wait_for("copied");
    pane.keys(&["E"]);
    pane.wait_for("Export the history shown");
    pane.keys(&["Enter"]);
    pane.wait_for("Exported");
    pane.keys(&["E"]);
    pane.wait_for("Export the history shown");
    pane.keys(&["Tab", "Enter"]);
    // The status line still says "Exported" from the CSV: wait for the whole file.
    pane.wait_until("the JSON export", |_| {
        files_under(exports).iter().any(|f| {
            f.extension().is_some_and(|e| e == "json")
                && fs::read(f)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|v| v.as_array().is_some_and(|rows| !rows.is_empty()))
        })
    });
    pane.keys(&["q"]);
    pane.wait_for("EXITED 0");
    let written = files_under(exports);
    assert_eq!(written.len(), 2, "a CSV and a JSON export: {written:?}");
    Some(key)
}

#[test]
fn every_byte_written_in_a_lifecycle_with_mail_and_the_tui_is_free_of_every_secret() {
    let mut env = Env::empty();
    let vault = env.path("vault");
    env.db = vault.join("keyward.db");
    let spool = env.path("sent-mail.txt");
    let script = env.write(
        "fake-sendmail.sh",
        &format!(
            "#!/bin/sh\n{{ echo \"ARGS: $*\"; cat; echo '--- end'; }} >> '{}'\n",
            spool.display()
        ),
    );
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    env.write(
        "config/keyward/config.toml",
        &format!(
            "[notify]\nfrom = \"keyward@example.org\"\nsendmail = \"{} -t -i\"\n",
            script.display()
        ),
    );
    let mut life = Lifecycle::started(env);
    let holder = hold_wal(&life.env.db);

    let mut keys: Vec<(String, String)> = Vec::new();
    let created = life.issue(&key_create(
        "billing sync",
        "acme",
        "ana",
        "ci",
        &["--team", "payments", "--json"],
    ));
    let id = created["id"].as_str().expect("id").to_owned();
    keys.push(("key 1".into(), created["key"].as_str().expect("key").into()));
    let other = life.issue(&key_create("crm import", "acme", "ben", "api", &["--json"]));
    let other_id = other["id"].as_str().expect("id").to_owned();
    keys.push(("key 2".into(), other["key"].as_str().expect("key").into()));

    life.verify(&keys[0].1, "key 1", 0);
    life.run(&["key", "show", &id], 0);
    life.run(&["key", "show", &id, "--json"], 0);
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
    life.run(&["key", "teams", &id, &other_id, "--add", "finance"], 0);
    life.run(&["key", "teams", &id, "--remove", "payments"], 0);
    let renewed = life.issue(&["key", "renew", &id, "--grace", "1h", "--json"]);
    keys.push((
        "key 1 renewed".into(),
        renewed["key"].as_str().expect("key").into(),
    ));
    let renewed = life.issue(&["key", "renew", &other_id, "--json"]);
    keys.push((
        "key 2 renewed".into(),
        renewed["key"].as_str().expect("key").into(),
    ));
    life.verify(&keys[0].1, "key 1 in its grace period", 0);
    life.verify(&keys[2].1, "key 1 renewed", 0);
    life.verify(&keys[1].1, "key 2 after renewal without grace", 1);
    let wrong = keyward_core::domain::KeyToken::generate(
        &keyward_core::domain::PublicId::parse(&id).expect("id"),
    );
    life.verify(wrong.expose(), "a wrong secret for key 1", 1);
    life.run(&["key", "deactivate", &id, "--yes"], 0);
    life.verify(&keys[2].1, "key 1 renewed, deactivated", 1);
    life.run(&["key", "delete", &id, "--yes"], 0);
    life.run(
        &[
            "developer",
            "remove",
            "ben",
            "--instance",
            "acme",
            "--deactivate-keys",
        ],
        0,
    );
    for args in [
        &["key", "list", "--all"][..],
        &["key", "list", "--all", "--json"],
        &["history"],
        &["history", "--limit", "0", "--json"],
        &["history", "--limit", "0", "--csv"],
        &["notifications"],
        &["notifications", "--json"],
        &["audit", "verify"],
        &["team", "list", "--json"],
        &["developer", "list", "--json"],
    ] {
        life.run(args, 0);
    }

    let exports = life.env.path("exports");
    let recording = life.env.path("tui-terminal.bin");
    let tui_key = tui_session(&life.env, &exports, &recording);
    life.snapshot("the TUI session");

    let messages = all_sent(&life.env);
    life.run(&["notifications", "--json"], 0);
    life.run(&["history", "--limit", "0", "--json"], 0);
    life.snapshot("delivery");
    let mail = fs::read(&spool).expect("the sendmail script ran");
    assert_eq!(
        String::from_utf8_lossy(&mail).matches("--- end").count(),
        messages.len(),
        "every message reached the script"
    );
    // Controls for the search: what these files do hold is found in them.
    assert!(contains(&mail, id.as_bytes()), "key 1's id is in the mail");
    let wal_seen = life
        .copies
        .iter()
        .any(|(what, b)| what.contains("-wal after") && contains(b, other_id.as_bytes()));
    assert!(wal_seen, "key 2's id is in a WAL copy: the WAL was read");
    let files = common::store_files(&life.env.db);
    assert_eq!(files.len(), 3, "store, -wal and -shm while held: {files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&vault), 0o700, "the directory keyward made");

    // Everything on disk under the test's directory, read while the store is
    // held open (so the WAL is there), and again after the last close.
    let mut scanned: Vec<(String, Vec<u8>)> = Vec::new();
    let root = life.env.dir.path().to_owned();
    let read_all = |scanned: &mut Vec<(String, Vec<u8>)>, when: &str| {
        for file in files_under(&root) {
            if let Some(bytes) = read_from_another_process(&file) {
                scanned.push((format!("{} ({when})", file.display()), bytes));
            }
        }
    };
    read_all(&mut scanned, "held open");
    drop(holder);
    life.run(&["audit", "verify"], 0);
    read_all(&mut scanned, "at the end");
    assert_eq!(
        common::store_files(&life.env.db).len(),
        1,
        "the WAL is gone"
    );
    for (what, bytes) in &life.copies {
        scanned.push((what.clone(), bytes.clone()));
    }
    for (what, text) in &life.outputs {
        scanned.push((what.clone(), text.clone().into_bytes()));
    }

    let mut all: Vec<(String, Vec<u8>, bool)> = Vec::new();
    for (label, key) in &keys {
        for (what, needle) in needles(label, key) {
            all.push((what, needle, false));
        }
    }
    if let Some(key) = &tui_key {
        // Its one showing is on the TUI's own terminal, so the recording of that
        // terminal is the one place it may be.
        for (what, needle) in needles("the TUI's key", key) {
            all.push((what, needle, true));
        }
        assert!(
            contains(&fs::read(&recording).expect("recording"), key.as_bytes()),
            "control: the recording holds the one showing"
        );
    }
    assert!(
        !found_in(
            &fs::read(&spool).expect("mail"),
            &[("id".into(), format!("kw_{id}_").into_bytes(), false)]
        )
        .is_empty(),
        "control: the fast search finds what is there"
    );
    let not_shown: Vec<_> = all.iter().filter(|(_, _, shown)| !shown).cloned().collect();
    let mut bytes_scanned = 0;
    for (place, bytes) in &scanned {
        bytes_scanned += bytes.len();
        let looked_for = if place.contains("tui-terminal.bin") {
            &not_shown
        } else {
            &all
        };
        let found = found_in(bytes, looked_for);
        assert!(found.is_empty(), "{found:?} in {place}");
    }
    eprintln!(
        "secrets: {} secrets ({} strings) looked for in {bytes_scanned} bytes: {} files and copies, {} outputs, {} mails",
        keys.len() + usize::from(tui_key.is_some()),
        all.len(),
        scanned.len() - life.outputs.len(),
        life.outputs.len(),
        messages.len()
    );
}

// ---------------------------------------------------------------------------
// Comparisons of secrets.
// ---------------------------------------------------------------------------

/// Lines of `src/` outside its tests, with their file and line number.
fn source_lines() -> Vec<(String, usize, String)> {
    let mut lines = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for file in files_under(&src) {
        let name = file.display().to_string();
        if !name.ends_with(".rs") || name.ends_with("_tests.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read source");
        for (i, line) in text.lines().enumerate() {
            // A file's unit tests come last, after `#[cfg(test)]`.
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            lines.push((name.clone(), i + 1, line.to_owned()));
        }
    }
    lines
}

#[test]
fn keyward_never_compares_a_secret_or_a_hash_of_one_with_eq() {
    // Secrets are checked by argon2's verify_password, which compares the hash
    // output in constant time, and held clipboard content by `subtle`. A plain
    // `==` or `!=` stops at the first differing byte and so tells by its timing
    // how much of a guess was right. The comparisons below were reviewed: the
    // audit compares the public hashes of the history chain, and the key parser
    // a CRC of the text it was given, which the presenter can compute himself.
    let words = [
        "secret", "expose()", "token", "phc", "_hash", "held", "password",
    ];
    let reviewed = [
        "row.record.chain_hash(&report.head) != row.hash",
        "checksum(body) != sum.as_bytes()",
    ];
    let mut suspects = Vec::new();
    let mut looked_at = 0;
    for (file, n, line) in source_lines() {
        let code = line.split("//").next().unwrap_or_default();
        if !(code.contains("==") || code.contains("!=")) {
            continue;
        }
        looked_at += 1;
        let lower = code.to_lowercase();
        if words.iter().any(|w| lower.contains(w)) && !reviewed.iter().any(|r| code.contains(r)) {
            suspects.push(format!("{file}:{n}: {}", line.trim()));
        }
    }
    assert!(
        looked_at > 50,
        "only {looked_at} comparisons in src: is the path right?"
    );
    assert!(
        suspects.is_empty(),
        "secrets compared with ==:\n{}",
        suspects.join("\n")
    );
}

/// A secret typed to `verify` (or shown by the TUI) is never in a core file:
/// the process asks for none, as soon as it starts.
#[test]
fn a_process_holding_a_secret_writes_no_core_file() {
    let env = Env::with_instance();
    let mut child = env
        .command()
        .arg("verify")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("verify starts");
    // Waiting on its standard input for the key.
    let limits = format!("/proc/{}/limits", child.id());
    let mut line = String::new();
    for _ in 0..100 {
        let text = fs::read_to_string(&limits).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.starts_with("Max core file size")) {
            line = l.to_owned();
            let both: Vec<&str> = line.split_whitespace().skip(4).take(2).collect();
            if both == ["0", "0"] {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{line}");
}

/// Ctrl-C at `verify`'s prompt (the key not echoed) gives the terminal back
/// with echo on, under dash as under bash.
#[test]
fn ctrl_c_at_the_verify_prompt_leaves_echo_on() {
    if !common::tools::require("tmux", "a terminal for the prompt") {
        return;
    }
    let env = Env::with_instance();
    let tmux = common::tmux::Tmux::start(env.dir.path());
    let shell = if std::path::Path::new("/bin/dash").exists() {
        "/bin/dash"
    } else {
        "/bin/sh"
    };
    let line = format!(
        "{shell} -c \"trap 'echo' INT; '{}' --db '{}' verify; echo CODE \\$?; stty -a | grep -oE -- '-?echo\\b' | head -1 | sed 's/^/MODE /'; exec sleep 60\"",
        common::tmux::binary().display(),
        env.db.display()
    );
    let pane = tmux.run(&line);
    pane.wait_for("Key (not shown):");
    pane.type_text("kw_abc");
    pane.keys(&["C-c"]);
    let screen = pane.wait_for("MODE ");
    assert!(screen.contains("CODE 130"), "{screen}");
    assert!(
        screen.lines().any(|l| l.trim() == "MODE echo"),
        "echo left off:\n{screen}"
    );
}

/// Every way the one showing of a secret can fail to be written (a full
/// disk, a reader that went away) says the key changed and its secret is
/// lost, exit 1: never success, never silence.
#[test]
fn a_secret_that_cannot_be_written_is_never_taken_for_success() {
    let env = Env::with_instance();
    // A full disk.
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let made = env
        .command()
        .args(key_create("lost", "acme", "ana", "ci", &["--json"]))
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(made.status.code(), Some(1));
    let said = String::from_utf8_lossy(&made.stderr);
    assert!(
        said.contains("was created, but its secret could not be written"),
        "{said}"
    );
    let id = said
        .split("key kw_")
        .nth(1)
        .and_then(|r| r.get(..8))
        .expect("the message names the key")
        .to_owned();
    let listed = env.json(&["key", "list", "--json"]);
    assert!(listed.to_string().contains(&id), "the key exists: {listed}");
    // A closed standard output (`>&-`) is reopened on /dev/null before
    // keyward runs: the secret would go nowhere, and that is said too.
    let nowhere = env
        .command()
        .args(key_create("nowhere", "acme", "ana", "api", &[]))
        .stdout(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(nowhere.status.code(), Some(1));
    let said = String::from_utf8_lossy(&nowhere.stderr);
    assert!(said.contains("/dev/null"), "{said}");
    // A reader that went away, as `| (exec 0<&-; sleep 1)` does.
    for args in [
        vec!["key", "renew", id.as_str()],
        vec!["key", "renew", id.as_str(), "--json"],
    ] {
        let mut child = env
            .command()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waits");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("was renewed, but its secret could not be written"),
            "{said}"
        );
        assert!(
            said.contains(&format!("keyward key renew kw_{id}")),
            "{said}"
        );
    }
}
