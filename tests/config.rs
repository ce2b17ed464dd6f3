//! The configuration file (SPEC §8) as the real binary reads it: where the
//! store comes from, the default expiry, and how a bad file is reported.
//! Every run has its own HOME and XDG_CONFIG_HOME, never the developer's.

mod common;

use chrono::{DateTime, TimeDelta};
use common::{Env, key_create};
use serde_json::Value;

/// The ids of the keys `key list --json` printed.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A store with one key in it; returns the env and the key's id.
fn store_with_a_key() -> (Env, String) {
    let env = Env::with_instance();
    let (id, _) = env.create_key("billing sync", "Ana", "ci");
    (env, id)
}

/// Writes a configuration file at `file` (in the env's directory) naming the
/// env's store, and checks that keyward, given no `--db`, lists `id` from it.
fn finds_the_store_through(env: &Env, file: &str, id: &str) {
    env.write(file, &format!("store = {:?}\n", env.db.to_str().unwrap()));
    let list = env
        .run_with(env.command_without_db(), &["key", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(ids(&list), [id]);
}

/// `expires_at - created_at` of a key in `key list --json`.
fn lifetime(env: &Env, extra: &[&str], id: &str) -> TimeDelta {
    let mut args = extra.to_vec();
    args.extend(["key", "list", "--json"]);
    let list = env.json(&args);
    let key = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {list}"));
    let at = |field: &str| DateTime::parse_from_rfc3339(key[field].as_str().unwrap()).unwrap();
    at("expires_at") - at("created_at")
}

/// The system file each test's environment points `KEYWARD_SYSTEM_CONFIG` at
/// is read as the system configuration: so no test reads the host's
/// `/etc/keyward/config.toml`, and the user's file still wins over it.
#[test]
fn the_system_file_is_the_one_the_environment_names_and_the_users_file_wins() {
    let (env, id) = store_with_a_key();
    finds_the_store_through(&env, "etc-keyward.toml", &id);

    let elsewhere = env.path("elsewhere.db");
    let user = env.write(
        "user.toml",
        &format!("store = {:?}\n", elsewhere.to_str().unwrap()),
    );
    env.run_with(
        env.command_without_db(),
        &["--config", user.to_str().unwrap(), "key", "list"],
    )
    .expect(6);
}

#[test]
fn the_configured_store_is_used_when_no_db_is_given() {
    let (env, id) = store_with_a_key();
    // Without configuration, keyward looks in the default store, which is not there.
    env.run_with(env.command_without_db(), &["key", "list"])
        .expect(6);

    let config = env.write(
        "keyward.toml",
        &format!("store = {:?}\n", env.db.to_str().unwrap()),
    );
    let list = env
        .run_with(
            env.command_without_db(),
            &[
                "--config",
                config.to_str().unwrap(),
                "key",
                "list",
                "--json",
            ],
        )
        .expect(0)
        .json();
    assert_eq!(ids(&list), [id]);
}

#[test]
fn db_and_keyward_db_beat_the_configured_store() {
    let (env, id) = store_with_a_key();
    let elsewhere = env.path("elsewhere.db");
    let config = env.write(
        "keyward.toml",
        &format!("store = {:?}\n", elsewhere.to_str().unwrap()),
    );
    let config = config.to_str().unwrap();

    // The configured store does not exist: used, it fails.
    env.run_with(
        env.command_without_db(),
        &["--config", config, "key", "list"],
    )
    .expect(6);

    let by_flag = env.json(&["--config", config, "key", "list", "--json"]);
    assert_eq!(ids(&by_flag), [id.as_str()]);

    let mut cmd = env.command_without_db();
    cmd.env("KEYWARD_DB", &env.db);
    let by_env = env
        .run_with(cmd, &["--config", config, "key", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(ids(&by_env), [id.as_str()]);
    assert!(!elsewhere.exists(), "the configured store was not created");

    // An empty variable is as good as unset: not "a value is required for --db".
    let mut cmd = env.command();
    cmd.env("KEYWARD_DB", "").env("KEYWARD_CONFIG", "");
    let with_empty = env
        .run_with(cmd, &["key", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(ids(&with_empty), [id.as_str()]);
}

#[test]
fn keyward_config_names_the_file() {
    let (env, id) = store_with_a_key();
    let config = env.write(
        "elsewhere/keyward.toml",
        &format!("store = {:?}\n", env.db.to_str().unwrap()),
    );
    let mut cmd = env.command_without_db();
    cmd.env("KEYWARD_CONFIG", &config);
    let list = env
        .run_with(cmd, &["key", "list", "--json"])
        .expect(0)
        .json();
    assert_eq!(ids(&list), [id]);

    // A file named this way must exist.
    let mut cmd = env.command_without_db();
    cmd.env("KEYWARD_CONFIG", env.path("missing.toml"));
    let run = env.run_with(cmd, &["key", "list"]).expect(2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

#[test]
fn the_file_in_xdg_config_home_is_read_by_default() {
    let (env, id) = store_with_a_key();
    finds_the_store_through(&env, "config/keyward/config.toml", &id);
}

#[test]
fn default_expiry_sets_the_life_of_a_key_made_without_expires() {
    let env = Env::with_instance();
    let config = env.write("keyward.toml", "default_expiry = \"7d\"\n");
    let config = config.to_str().unwrap();

    let made = env.json(
        &[
            &["--config", config][..],
            &key_create("weekly", "acme", "Ana", "ci", &["--json"]),
        ]
        .concat(),
    );
    let weekly = made["id"].as_str().unwrap();
    assert_eq!(lifetime(&env, &[], weekly), TimeDelta::days(7));

    // Without the file, the default of 90 days holds.
    let (usual, _) = env.create_key("usual", "Ben", "ci");
    assert_eq!(lifetime(&env, &[], &usual), TimeDelta::days(90));

    // An explicit --expires still wins over the file.
    let made = env.json(
        &[
            &["--config", config][..],
            &key_create(
                "monthly",
                "acme",
                "Cleo",
                "ci",
                &["--expires", "30d", "--json"],
            ),
        ]
        .concat(),
    );
    let monthly = made["id"].as_str().unwrap();
    assert_eq!(lifetime(&env, &[], monthly), TimeDelta::days(30));
}

#[test]
fn an_invalid_file_exits_2_naming_the_file_line_and_setting() {
    let env = Env::new();
    let config = env.write(
        "keyward.toml",
        "# keyward\ncolor = \"auto\"\ndefault_expiry = \"9x\"\n",
    );
    let run = env
        .run(&["--config", config.to_str().unwrap(), "key", "list"])
        .expect(2);
    let line = run.stderr.trim_end();
    assert!(
        line.starts_with(&format!(
            "keyward: {} line 3: default_expiry: ",
            config.display()
        )),
        "{line}"
    );
    assert!(line.contains("\"9x\""), "{line}");
}

#[test]
fn a_typo_in_a_setting_is_named() {
    let env = Env::new();
    let config = env.write("keyward.toml", "\nclipboard_clear_second = 30\n");
    let run = env
        .run(&["--config", config.to_str().unwrap(), "key", "list"])
        .expect(2);
    assert!(
        run.stderr
            .contains("line 2: unknown setting `clipboard_clear_second`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_invalid_default_file_fails_every_command_but_help() {
    let env = Env::new();
    env.write("config/keyward/config.toml", "color = \"blue\"\n");
    let run = env.run(&["key", "list"]).expect(2);
    assert!(run.stderr.contains("line 1: color: "), "{}", run.stderr);
    env.run(&["--help"]).expect(0);
}

/// A system file that chose a store this login is not an operator of: the
/// refusal names the store and the file that chose it.
#[test]
fn a_refusal_names_the_store_and_the_file_that_chose_it() {
    if !common::is_root() {
        eprintln!("skipped: needs root to act as another login with --as");
        return;
    }
    let (env, _) = store_with_a_key();
    let system = env.write(
        "etc-keyward.toml",
        &format!("store = {:?}\n", env.db.to_str().unwrap()),
    );
    let run = env
        .run_with(env.command_without_db(), &["--as", "nobody", "key", "list"])
        .expect(3);
    let named = format!("store {} (set by {})", env.db.display(), system.display());
    assert!(
        run.stderr.contains("not a keyward operator"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&named), "{}", run.stderr);
}

/// A store given by --db was chosen by no file, and none is named.
#[test]
fn a_store_given_by_db_names_no_file() {
    let env = Env::empty();
    env.write("etc-keyward.toml", "store = \"/srv/none/k.db\"\n");
    let run = env.run(&["key", "list"]).expect(6);
    assert!(!run.stderr.contains("set by"), "{}", run.stderr);
    let run = env
        .run_with(env.command_without_db(), &["key", "list"])
        .expect(6);
    assert!(
        run.stderr.contains("store /srv/none/k.db (set by ")
            && run.stderr.contains("etc-keyward.toml)"),
        "{}",
        run.stderr
    );
}

/// Runs keyward as `nobody` (uid 65534, no extra groups) through setpriv;
/// `None` (after a SKIPPED line) where that cannot be done.
fn run_as_nobody(env: &Env, args: &[&str]) -> Option<common::Run> {
    if !common::is_root() {
        eprintln!("SKIPPED: needs root to run keyward as nobody with setpriv");
        return None;
    }
    if !common::tools::require("setpriv", "running keyward as a login without permission") {
        return None;
    }
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .env_remove("KEYWARD_DB")
        .env_remove("KEYWARD_CONFIG")
        .env("KEYWARD_SYSTEM_CONFIG", env.path("etc-keyward.toml"))
        .env("HOME", env.dir.path())
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .env("XDG_CONFIG_HOME", env.dir.path().join("config"))
        .stdin(std::process::Stdio::null());
    let out = cmd.output().expect("run setpriv");
    Some(common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// A store this login may not read is never "no store here": the error names
/// the file or directory that refused, its owner and mode, and who is asking,
/// and never offers to create a store.
#[test]
fn an_unreadable_store_names_what_refused_and_who_asks() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    // The temp directory must be reachable by nobody for the file itself to be the refusal.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = env.db.to_str().unwrap().to_owned();
    let Some(run) = run_as_nobody(&env, &["--db", &db, "key", "list"]) else {
        return;
    };
    assert_eq!(run.code, 6, "{}", run.stderr);
    let expected = format!(
        "permission denied on {db} (owner root, group root, mode 0600); you are uid 65534 (groups "
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(!run.stderr.contains("no store"), "{}", run.stderr);

    // A directory on the path that refuses: it is the one named.
    let locked = env.path("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let inner = locked.join("k.db");
    let inner = inner.to_str().unwrap();
    for args in [
        vec!["--db", inner, "key", "list"],
        vec![
            "--db",
            inner,
            "init",
            "--name",
            "N",
            "--email",
            "n@example.org",
        ],
        vec!["--db", inner, "demo", "--keys", "5"],
    ] {
        let Some(run) = run_as_nobody(&env, &args) else {
            return;
        };
        assert_eq!(run.code, 6, "{args:?}: {}", run.stderr);
        let expected = format!(
            "permission denied on {} (owner root, group root, mode 0700); you are uid 65534",
            locked.display()
        );
        assert!(run.stderr.contains(&expected), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("no store"), "{}", run.stderr);
    }

    // Chosen by the system file: the error names that file too.
    let system = env.write("etc-keyward.toml", &format!("store = {db:?}\n"));
    std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o644)).unwrap();
    let Some(run) = run_as_nobody(&env, &["key", "list"]) else {
        return;
    };
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("store {db} (set by {})", system.display())),
        "{}",
        run.stderr
    );
}

/// A configuration file others may change could make every admin run their
/// command (`sendmail`): refused, as ssh refuses such files.
#[test]
fn a_configuration_file_others_may_change_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let (env, _) = store_with_a_key();
    let config = env.write("loose.toml", "clipboard_clear_seconds = 5\n");
    for mode in [0o666, 0o664, 0o646] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let run = env
            .run(&["--config", config.to_str().unwrap(), "key", "list"])
            .expect(2);
        assert!(
            run.stderr.contains("is not trusted"),
            "{mode:o}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("lets others change it"),
            "{}",
            run.stderr
        );
    }
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.run(&["--config", config.to_str().unwrap(), "key", "list"])
        .expect(0);
    // The system file too.
    let system = env.write("etc-keyward.toml", "expiring_soon_days = 3\n");
    std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = env.run(&["key", "list"]).expect(2);
    assert!(run.stderr.contains("etc-keyward.toml"), "{}", run.stderr);
}

/// KEYWARD_SYSTEM_CONFIG names a file, not an authority: a login's own file
/// given as the "system" one does not deliver (or silence) a shared store's
/// mail; only a system file root owns does.
#[test]
fn a_system_file_root_does_not_own_does_not_deliver_a_shared_stores_mail() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::empty();
    if !common::is_root() {
        eprintln!("SKIPPED: needs root to run keyward as nobody with setpriv");
        return;
    }
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared = env.path("shared");
    std::fs::create_dir(&shared).unwrap();
    let nobody = Some(nix::unistd::Uid::from_raw(65534));
    let nogroup = Some(nix::unistd::Gid::from_raw(65534));
    nix::unistd::chown(&shared, nobody, nogroup).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o2770)).unwrap();
    let db = shared.join("k.db");
    let db = db.to_str().unwrap();
    let as_nobody = |args: &[&str]| {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        run_as_nobody(&env, &all)
    };
    let Some(run) = as_nobody(&["init", "--name", "No Body", "--email", "nobody@example.org"])
    else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.stderr);
    as_nobody(&["instance", "add", "acme", "--cloud", "other"])
        .unwrap()
        .expect(0);
    as_nobody(&key_create("quiet", "acme", "ana", "ci", &[]))
        .unwrap()
        .expect(0);
    // nobody's own file, given as the system one, says to send into the void.
    let own = env.write(
        "etc-keyward.toml",
        "[notify]\nfrom = \"keyward@example.org\"\nsendmail = \"/bin/true\"\n",
    );
    nix::unistd::chown(&own, nobody, nogroup).unwrap();
    let run = as_nobody(&["notifications", "send"]).unwrap().expect(0);
    assert!(run.stderr.contains("is ignored"), "{}", run.stderr);
    let outbox = as_nobody(&["notifications", "--json"])
        .unwrap()
        .expect(0)
        .json();
    let messages = outbox.as_array().unwrap();
    assert!(!messages.is_empty());
    assert!(
        messages.iter().all(|m| m["status"] == "pending"),
        "{outbox}"
    );
}
