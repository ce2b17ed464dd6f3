//! Bad input of every kind gets the exit code of SPEC §6 and one `keyward: `
//! line on stderr, never a panic, and never a change it should not make.

mod common;

use common::{BIN, Env, Run, key_create};
use serde_json::{Value, json};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Deterministic bytes that look random (xorshift), so a failure can be replayed.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// The JSON answer of `verify`, with nothing on stderr.
fn verdict(run: Run, code: i32) -> Value {
    let run = run.expect(code);
    assert_eq!(run.stderr, "", "verify wrote to stderr");
    run.json()
}

fn malformed() -> Value {
    json!({ "valid": false, "reason": "malformed" })
}

fn key_status(env: &Env, id: &str) -> String {
    let list = env.json(&["key", "list", "--all", "--json"]);
    let key = list
        .as_array()
        .expect("array")
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"));
    key["status"].as_str().expect("status").to_owned()
}

fn has_setpriv() -> bool {
    Command::new("setpriv")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The uid and gid of `nobody`, the unprivileged user the read-only tests run as.
fn nobody() -> (u32, u32) {
    let user = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("a `nobody` user");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// Whether `nobody` can reach files in `dir`: every ancestor searchable by others.
fn reachable_by_others(dir: &Path) -> bool {
    dir.ancestors()
        .skip(1)
        .all(|d| fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Runs keyward as `nobody` (no groups) through setpriv, on the store of `env`.
fn run_as_nobody(env: &Env, args: &[&str]) -> Run {
    let (uid, gid) = nobody();
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(BIN)
        .arg("--db")
        .arg(&env.db)
        .args(args)
        .env_remove("KEYWARD_DB")
        .env_remove("SUDO_USER")
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT")
        .env("HOME", env.dir.path())
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .stdin(Stdio::null())
        .output()
        .expect("run setpriv");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether a read-only test can run here; says why not when it cannot.
fn can_drop_to_nobody(env: &Env) -> bool {
    if !common::is_root() {
        eprintln!("skipped: needs root to run keyward as nobody with setpriv");
        return false;
    }
    if !has_setpriv() {
        eprintln!("skipped: setpriv (util-linux) is not installed");
        return false;
    }
    if !reachable_by_others(env.dir.path()) {
        eprintln!("skipped: nobody cannot reach the temp directory");
        return false;
    }
    true
}

// ---------------------------------------------------------------------------
// The store: missing, in a missing directory, corrupt, empty, read-only, twice.
// ---------------------------------------------------------------------------

#[test]
fn a_missing_store_is_exit_6_with_one_line_and_is_not_created() {
    let env = Env::empty();
    let create = key_create("k", "acme", "d", "c", &[]);
    let commands: &[&[&str]] = &[
        &[],
        &["key", "list"],
        &["key", "show", "abcdefgh"],
        &create,
        &["instance", "add", "acme", "--cloud", "other"],
        &["instance", "list"],
        &["operator", "list"],
        &["team", "add", "payments"],
        &["team", "list"],
        &["developer", "list"],
        &["history"],
        &["audit", "verify"],
        &["notifications"],
    ];
    for args in commands {
        let run = env.run(args).expect(6);
        assert!(
            run.stderr.contains("init"),
            "{args:?} should say how to create a store: {}",
            run.stderr
        );
        assert!(
            common::store_files(&env.db).is_empty(),
            "{args:?} created a store"
        );
    }
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        0,
        "nothing at all is left in the directory"
    );
}

#[test]
fn a_store_in_a_missing_directory_is_exit_6_for_key_list_and_init_creates_it_0700() {
    let mut env = Env::empty();
    let outer = env.path("vault");
    let inner = outer.join("keys");
    env.db = inner.join("keyward.db");

    env.run(&["key", "list"]).expect(6);
    assert!(!outer.exists(), "key list must not create the directory");

    env.init().expect(0);
    assert_eq!(mode(&outer), 0o700, "{}", outer.display());
    assert_eq!(mode(&inner), 0o700, "{}", inner.display());
    assert_eq!(mode(&env.db), 0o600);
    env.run(&["key", "list"]).expect(0);
}

#[test]
fn a_corrupt_store_is_exit_6_says_corrupt_and_is_left_as_it_was() {
    let env = Env::empty();
    let junk = noise(16 * 1024, 0x9e37_79b9_7f4a_7c15);
    fs::write(&env.db, &junk).unwrap();
    for args in [
        &["key", "list"][..],
        &["instance", "add", "acme", "--cloud", "other"],
        &["audit", "verify"],
    ] {
        let run = env.run(args).expect(6);
        assert!(run.stderr.contains("corrupt"), "{args:?}: {}", run.stderr);
    }
    assert_eq!(fs::read(&env.db).unwrap(), junk, "the file was changed");
}

#[test]
fn an_empty_file_is_not_turned_into_a_store_by_a_read() {
    // SPEC §6: subcommands other than init and demo never create a store, so an
    // empty file at the path is refused as it is, not migrated into a store with
    // no admin (which `init` would then refuse as existing: a dead end).
    let env = Env::empty();
    fs::write(&env.db, b"").unwrap();
    env.run(&["key", "list"]).expect(6);
    assert_eq!(
        fs::metadata(&env.db).unwrap().len(),
        0,
        "the file was written"
    );
}

#[test]
fn a_read_only_store_refuses_a_write_with_exit_6_and_changes_nothing() {
    let env = Env::with_instance();
    if !can_drop_to_nobody(&env) {
        return;
    }
    env.add_operator("nobody", "admin");
    let before = env.json(&["instance", "list", "--json"]);
    let bytes_before = fs::read(&env.db).unwrap();
    assert!(
        common::store_files(&env.db).len() == 1,
        "the WAL and shared memory are gone after the last close"
    );
    // nobody may read the directory and the file, but write neither.
    chmod(env.dir.path(), 0o755);
    chmod(&env.db, 0o644);

    assert_nobody_cannot_write(&env, &bytes_before, &before);
}

#[test]
fn a_read_of_a_read_only_store_in_a_read_only_directory_is_exit_6_read_only() {
    // SQLite cannot read a WAL-mode database unless its -wal and -shm files exist or
    // can be created (https://sqlite.org/wal.html#readonly): the readers share the WAL
    // index in -shm. Keyward removes both on its last close, so with neither the file
    // nor the directory writable even a read cannot open the store. What we assert
    // is that it says so cleanly (exit 6, "read-only"), with no panic and no change.
    // The next test shows that a read works when only the file is read-only.
    let env = Env::with_instance();
    if !can_drop_to_nobody(&env) {
        return;
    }
    env.add_operator("nobody", "admin");
    let bytes_before = fs::read(&env.db).unwrap();
    chmod(env.dir.path(), 0o755);
    chmod(&env.db, 0o644);

    let run = run_as_nobody(&env, &["key", "list"]).expect(6);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(fs::read(&env.db).unwrap(), bytes_before);
    assert_eq!(
        common::store_files(&env.db).len(),
        1,
        "no -wal or -shm was made"
    );
}

#[test]
fn a_read_only_store_file_in_a_writable_directory_can_be_read_but_not_written() {
    let env = Env::with_instance();
    if !can_drop_to_nobody(&env) {
        return;
    }
    env.create_key("ci key", "ana", "ci");
    env.add_operator("nobody", "admin");
    let before = env.json(&["instance", "list", "--json"]);
    let bytes_before = fs::read(&env.db).unwrap();
    // The directory lets nobody make the -wal and -shm files; the store file does not
    // let nobody write.
    chmod(env.dir.path(), 0o777);
    chmod(&env.db, 0o644);

    let run = run_as_nobody(&env, &["key", "list"]).expect(0);
    assert!(run.stdout.contains("ci key"), "{}", run.stdout);
    assert_nobody_cannot_write(&env, &bytes_before, &before);
}

/// A write by nobody is refused as read-only, and the store is left as it was.
fn assert_nobody_cannot_write(env: &Env, bytes_before: &[u8], before: &serde_json::Value) {
    let run = run_as_nobody(env, &["instance", "add", "zeta", "--cloud", "other"]).expect(6);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(
        fs::read(&env.db).unwrap(),
        bytes_before,
        "the file was changed"
    );
    assert_eq!(&env.json(&["instance", "list", "--json"]), before);
}

#[test]
fn init_twice_is_exit_5_and_keeps_the_first_store() {
    let env = Env::with_instance();
    let before = env.json(&["instance", "list", "--json"]);
    let run = env
        .run(&["init", "--name", "Other", "--email", "other@example.org"])
        .expect(5);
    assert!(run.stderr.contains("exists"), "{}", run.stderr);
    assert_eq!(env.json(&["instance", "list", "--json"]), before);
    env.run(&["audit", "verify"]).expect(0);
}

// ---------------------------------------------------------------------------
// Things that do not exist, and ids that cannot exist.
// ---------------------------------------------------------------------------

#[test]
fn an_unknown_instance_on_key_create_is_exit_4() {
    let env = Env::with_instance();
    let run = env
        .run(&key_create("k", "nope", "ana", "ci", &[]))
        .expect(4);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    assert_eq!(env.json(&["key", "list", "--all", "--json"]), json!([]));
}

#[test]
fn an_unknown_key_id_is_exit_4_for_every_key_command() {
    let env = Env::with_instance();
    env.create_key("real", "ana", "ci");
    for args in [
        &["key", "show", "abcdefgh"][..],
        &["key", "show", "kw_abcdefgh"],
        &["key", "renew", "abcdefgh"],
        &["key", "deactivate", "abcdefgh", "--yes"],
        &["key", "delete", "abcdefgh", "--yes"],
        &["key", "edit", "abcdefgh", "--name", "x"],
        &["key", "teams", "abcdefgh", "--add", "payments"],
    ] {
        let run = env.run(args).expect(4);
        assert!(run.stderr.contains("abcdefgh"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_malformed_key_id_is_exit_2() {
    let env = Env::with_instance();
    for args in [
        &["key", "show", "nope!"][..],
        &["key", "show", "abc"],
        &["key", "renew", "abcdefgh9"],
        &["key", "deactivate", "a_b_c_d_", "--yes"],
    ] {
        env.run(args).expect(2);
    }
}

// ---------------------------------------------------------------------------
// Names.
// ---------------------------------------------------------------------------

#[test]
fn an_empty_or_blank_name_is_exit_2() {
    let env = Env::with_instance();
    for name in ["", "   ", "\t \n"] {
        let run = env.try_create(name, "ana", "ci").expect(2);
        assert!(run.stderr.contains("empty"), "{name:?}: {}", run.stderr);
    }
    env.run(&["instance", "add", " ", "--cloud", "other"])
        .expect(2);
    env.run(&["team", "add", ""]).expect(2);
    assert_eq!(env.json(&["key", "list", "--all", "--json"]), json!([]));
}

#[test]
fn a_10000_character_name_is_exit_2() {
    let env = Env::with_instance();
    let long = "n".repeat(10_000);
    let run = env.try_create(&long, "ana", "ci").expect(2);
    assert!(run.stderr.contains("128"), "{}", run.stderr);
    assert!(run.stderr.len() < 1000, "the message repeats the name");
    assert_eq!(env.json(&["key", "list", "--all", "--json"]), json!([]));
}

#[test]
fn a_129_character_name_is_exit_2_while_128_works() {
    let env = Env::with_instance();
    env.try_create(&"x".repeat(129), "ana", "ci").expect(2);
    // Characters, not bytes: 128 two-byte characters are a valid name too.
    for name in ["x".repeat(128), "é".repeat(128)] {
        let v = env.try_create(&name, "ana", "ci").expect(0).json();
        assert_eq!(v["name"], name.as_str());
    }
    env.try_create(&"é".repeat(129), "ana", "ci").expect(2);
    // Surrounding white space does not count.
    let padded = format!("  {}  ", "y".repeat(128));
    env.try_create(&padded, "ana", "ide").expect(0);
}

const HOSTILE: &str = "\u{1b}[31mred\u{1b}]52;c;aGk=\u{7} \u{202e}gnp.exe\u{200b}end";

/// Sequences a terminal would obey or hide.
fn assert_no_raw_controls(what: &str, out: &str) {
    for (bad, label) in [
        ("\u{1b}", "ESC"),
        ("\u{7}", "BEL"),
        ("\u{202e}", "U+202E"),
        ("\u{200b}", "U+200B"),
    ] {
        assert!(!out.contains(bad), "{what} printed a raw {label}: {out:?}");
    }
}

#[test]
fn a_name_with_escape_sequences_is_stored_exactly_and_shown_escaped() {
    let env = Env::with_instance();
    let plain_create = env
        .run(&key_create(
            HOSTILE,
            "acme",
            "ana",
            "ci",
            &["--team", HOSTILE],
        ))
        .expect(0);
    assert_no_raw_controls("key create", &plain_create.stdout);

    let list = env.json(&["key", "list", "--json"]);
    let key = &list[0];
    let id = key["id"].as_str().expect("id").to_owned();
    assert_eq!(key["name"].as_str().unwrap().as_bytes(), HOSTILE.as_bytes());
    assert_eq!(key["teams"], json!([HOSTILE]));
    let shown = env.json(&["key", "show", &id, "--json"]);
    assert_eq!(
        shown["name"].as_str().unwrap().as_bytes(),
        HOSTILE.as_bytes()
    );

    for args in [
        &["key", "list"][..],
        &["key", "show", &id],
        &["history"],
        &["history", "--limit", "0"],
        &["team", "list"],
    ] {
        let out = env.ok(args);
        assert_no_raw_controls(&args.join(" "), &out);
    }
    let list = env.ok(&["key", "list"]);
    assert!(list.contains("\\e[31mred"), "{list}");
    assert!(list.contains("\\u{202e}"), "{list}");
    assert!(list.contains("\\u{200b}"), "{list}");
    let show = env.ok(&["key", "show", &id]);
    assert!(show.contains("\\e]52;c;aGk=\\u{7}"), "{show}");
    let history = env.ok(&["history"]);
    assert!(history.contains("\\e[31mred"), "{history}");
}

// ---------------------------------------------------------------------------
// Filters.
// ---------------------------------------------------------------------------

#[test]
fn a_malformed_filter_is_exit_2_for_key_list_and_history() {
    let env = Env::with_instance();
    env.create_key("k", "ana", "ci");
    for filter in ["stauts:active", "expires:<30x", "\"unterminated"] {
        let run = env.run(&["key", "list", "--filter", filter]).expect(2);
        assert!(run.stderr.contains("filter"), "{filter}: {}", run.stderr);
        let run = env.run(&["history", "--filter", filter]).expect(2);
        assert!(run.stderr.contains("filter"), "{filter}: {}", run.stderr);
        env.run(&["key", "list", "--filter", filter, "--json"])
            .expect(2);
        env.run(&["history", "--filter", filter, "--json"])
            .expect(2);
    }
}

// ---------------------------------------------------------------------------
// verify.
// ---------------------------------------------------------------------------

fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty input", Vec::new()),
        ("a newline", b"\n".to_vec()),
        ("random text", b"hello, is this the key?\n".to_vec()),
        ("10 KB of a", vec![b'a'; 10 * 1024]),
        (
            "invalid UTF-8",
            vec![0xff, 0xfe, 0x80, b'k', b'w', b'_', 0xc3, 0x28],
        ),
        ("random bytes", noise(300, 42)),
        (
            "a key-shaped string with a wrong checksum",
            b"kw_abcdefgh_0123456789ABCDEFGHIJKLMNOPQRSTUV000000".to_vec(),
        ),
    ]
}

#[test]
fn garbage_on_verify_stdin_is_malformed_with_exit_1() {
    let env = Env::with_instance();
    for (what, input) in garbage() {
        let v = verdict(env.run_stdin(&["verify"], &input), 1);
        assert_eq!(v, malformed(), "{what}");
    }
}

#[test]
fn a_key_with_any_one_character_changed_is_malformed() {
    let env = Env::with_instance();
    let (_, key) = env.create_key("k", "ana", "ci");
    verdict(env.verify(&key), 0);
    for i in 0..key.len() {
        let mut bytes = key.clone().into_bytes();
        bytes[i] = if bytes[i] == b'Z' { b'Y' } else { b'Z' };
        let changed = String::from_utf8(bytes).unwrap();
        let v = verdict(env.verify(&changed), 1);
        assert_eq!(v, malformed(), "changed at {i}: {changed}");
    }
    verdict(env.verify(&key), 0);
}

#[test]
fn verify_of_a_malformed_key_does_not_open_the_store() {
    let other = Env::with_instance();
    let (_, key) = other.create_key("k", "ana", "ci");
    let mut changed = key.clone().into_bytes();
    changed[20] = if changed[20] == b'a' { b'b' } else { b'a' };

    // No store at this path: opening it would be exit 6.
    let env = Env::empty();
    let mut inputs = garbage();
    inputs.push(("a key with one character changed", changed));
    for (what, input) in inputs {
        let v = verdict(env.run_stdin(&["verify"], &input), 1);
        assert_eq!(v, malformed(), "{what}");
    }
    assert!(common::store_files(&env.db).is_empty());
    // A well-formed key does need the store.
    env.verify(&key).expect(6);
}

#[test]
fn a_well_formed_key_with_an_unknown_id_is_not_found() {
    let env = Env::with_instance();
    env.create_key("mine", "ana", "ci");
    let other = Env::with_instance();
    let (_, foreign) = other.create_key("theirs", "ana", "ci");
    let v = verdict(env.verify(&foreign), 1);
    assert_eq!(v, json!({ "valid": false, "reason": "not_found" }));
}

// ---------------------------------------------------------------------------
// Usage errors.
// ---------------------------------------------------------------------------

#[test]
fn clap_usage_errors_are_exit_2_with_one_line() {
    let env = Env::with_instance();
    let cases: &[&[&str]] = &[
        &["frobnicate"],
        &["key", "frobnicate"],
        &["key", "list", "--bogus"],
        &["--bogus", "key", "list"],
        &["key", "create", "--name", "k"],
        &[
            "operator",
            "add",
            "bob",
            "--name",
            "B",
            "--email",
            "b@example.org",
        ],
        &[
            "operator",
            "add",
            "bob",
            "--name",
            "B",
            "--email",
            "b@example.org",
            "--role",
            "boss",
        ],
        &["instance", "add", "x", "--cloud", "aws"],
        &[
            "instance",
            "add",
            "x",
            "--cloud",
            "other",
            "--max-active",
            "many",
        ],
        &["history", "--limit", "-1"],
        // Past what SQLite's LIMIT takes: a usage error, not "datatype mismatch".
        &["history", "--limit", "9223372036854775808"],
        &["history", "--json", "--csv"],
        // The demo's caps: a typo never fills the disk for an hour.
        &["demo", "--keys", "99999999999999"],
        &["demo", "--keys", "100000000"],
        &["demo", "--history", "99999999999"],
        &["key", "deactivate", "--yes"],
    ];
    for args in cases {
        let run = env.run(args).expect(2);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    let run = env
        .run(&key_create("k", "acme", "ana", "ci", &["--expires", "30x"]))
        .expect(2);
    assert!(run.stderr.contains("30x"), "{}", run.stderr);
    assert_eq!(env.json(&["key", "list", "--all", "--json"]), json!([]));
    assert_eq!(
        env.json(&["instance", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_missing_required_flag_is_named_in_the_one_line() {
    // clap names the missing flags on the lines after its first; they must
    // survive the folding into one line.
    let env = Env::with_instance();
    let run = env.run(&["key", "create", "--name", "k"]).expect(2);
    assert!(run.stderr.contains("--instance"), "{}", run.stderr);
}

#[test]
fn deactivate_and_delete_without_yes_are_exit_2_and_change_nothing() {
    let env = Env::with_instance();
    let (id, key) = env.create_key("k", "ana", "ci");
    let run = env.run(&["key", "deactivate", &id]).expect(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let run = env.run(&["key", "delete", &id]).expect(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(key_status(&env, &id), "active");
    verdict(env.verify(&key), 0);
}

// ---------------------------------------------------------------------------
// Identity.
// ---------------------------------------------------------------------------

#[test]
fn acting_as_another_login_without_root_is_exit_3() {
    let env = Env::with_instance();
    if common::is_root() {
        // Root may use --as; drop to nobody to be someone who may not.
        if !can_drop_to_nobody(&env) {
            return;
        }
        chmod(env.dir.path(), 0o755);
        chmod(&env.db, 0o644);
        let run = run_as_nobody(&env, &["--as", "root", "key", "list"]).expect(3);
        assert!(run.stderr.contains("--as"), "{}", run.stderr);
    } else {
        let run = env.run_as("someone", &["key", "list"]).expect(3);
        assert!(run.stderr.contains("--as"), "{}", run.stderr);
    }
}

#[test]
fn a_login_that_is_not_an_operator_is_told_how_an_admin_adds_it() {
    require_root!();
    let env = Env::with_instance();
    for args in [
        &["key", "list"][..],
        &["instance", "add", "x", "--cloud", "other"],
    ] {
        let run = env.run_as("stranger", args).expect(3);
        assert!(run.stderr.contains("stranger"), "{}", run.stderr);
        assert!(run.stderr.contains("operator add"), "{}", run.stderr);
    }
}
