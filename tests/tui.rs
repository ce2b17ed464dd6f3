//! The terminal application end to end, in a real terminal (tmux): make a key
//! through the form, copy it, deactivate it through the modal, find all three
//! in the History tab, quit, and find the terminal as it was.

#[macro_use]
mod common;

use common::Env;
use common::tmux::{Pane, Tmux, binary, secret_on};
use common::tools::require;
use common::x11::{self, Xvfb};
use std::path::Path;

/// Starts keyward in a pane on `env`'s store, with `vars` set (or unset with a
/// leading `-`); after it quits the pane prints its exit code and the tty modes.
fn start<'t>(tmux: &'t Tmux, env: &Env, vars: &[&str]) -> Pane<'t> {
    start_with(tmux, env, vars, "")
}

/// As `start`, with `config` (TOML) as keyward's configuration file.
fn start_with<'t>(tmux: &'t Tmux, env: &Env, vars: &[&str], config: &str) -> Pane<'t> {
    let file = env.write("config.toml", config);
    let mut line = String::from("env");
    for v in vars {
        match v.strip_prefix('-') {
            Some(unset) => line.push_str(&format!(" -u {unset}")),
            None => line.push_str(&format!(" '{v}'")),
        }
    }
    line.push_str(&format!(
        " '{}' --config '{}' --db '{}'; code=$?; echo MODES $(stty -a | grep -oE -- '-?(icanon|echo|opost|icrnl)\\b' | tr '\\n' ' '); echo \"EXITED $code\"; exec sleep 120",
        binary().display(),
        file.display(),
        env.db.display()
    ));
    tmux.run(&line)
}

/// A store with an instance, made through the CLI.
fn store_with_instance() -> Env {
    let env = Env::new();
    env.run(&["instance", "add", "acme", "--cloud", "salesforce"])
        .expect(0);
    env
}

/// Fills the new-key form and saves it; returns the secret from the one showing.
fn create_key(pane: &Pane, name: &str) -> String {
    pane.wait_for("Keys 0 of 0");
    pane.keys(&["n"]);
    pane.wait_for("New key");
    // The lists are loaded when the hint under the fields shows.
    pane.wait_for("A name that says");
    pane.type_text(name);
    pane.keys(&["Tab"]);
    pane.type_text("acme");
    pane.keys(&["Tab"]);
    pane.type_text("Ana Lopez");
    pane.keys(&["Tab"]);
    pane.type_text("ci");
    pane.keys(&["Tab"]);
    pane.type_text("payments");
    pane.keys(&["Tab", "Enter"]);
    let screen = pane.wait_for("Key created");
    assert!(screen.contains("will not be shown again"), "{screen}");
    secret_on(&screen).unwrap_or_else(|| panic!("no key on screen:\n{screen}"))
}

fn history_shows(pane: &Pane, actions: &[&str]) {
    pane.keys(&["4"]);
    pane.wait_for("Credential history");
    let screen = pane.wait_until("the actions", |s| actions.iter().all(|a| s.contains(a)));
    for a in actions {
        assert!(screen.contains(a), "{a} missing:\n{screen}");
    }
}

fn quit_and_check_terminal(pane: &Pane) {
    pane.keys(&["q"]);
    let screen = pane.wait_for("EXITED 0");
    // Back on the normal screen, cursor shown, and the tty in cooked mode again.
    assert_eq!(pane.format("#{alternate_on}"), "0");
    assert_eq!(pane.format("#{cursor_flag}"), "1");
    let modes = screen
        .lines()
        .find(|l| l.starts_with("MODES"))
        .unwrap_or_default();
    for mode in ["icanon", "echo", "icrnl", "opost"] {
        assert!(
            modes.split_whitespace().any(|m| m == mode),
            "{mode} not restored: {modes}"
        );
    }
    assert!(!screen.contains("panicked"), "{screen}");
}

#[test]
fn a_key_made_copied_and_deactivated_through_the_screens_is_in_the_history() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &["-DISPLAY", "-WAYLAND_DISPLAY"]);
    let secret = create_key(&pane, "rotation bot");

    // Inside tmux the key goes to tmux's buffer (and from there to the terminal).
    pane.keys(&["c"]);
    pane.wait_for("Copied");
    let buffer = tmux.cmd(&["show-buffer"]);
    assert_eq!(String::from_utf8_lossy(&buffer.stdout), secret);

    pane.keys(&["Escape"]);
    pane.wait_for("rotation bot");
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));
    pane.keys(&["x"]);
    let confirm = pane.wait_for("Deactivate 1 key?");
    for warning in [
        "cannot be undone",
        "Integrations using the key stop working",
        "rely on the key will fail",
        "rotation bot",
    ] {
        assert!(confirm.contains(warning), "{warning}:\n{confirm}");
    }
    pane.keys(&["y"]);
    pane.wait_for("Deactivated rotation bot");
    // The offer of a replacement (tests/tui_bulk.rs follows it); not now.
    pane.wait_for("Replace rotation bot?");
    pane.keys(&["n"]);

    history_shows(&pane, &["created", "copied", "deactivated"]);
    quit_and_check_terminal(&pane);

    // The store agrees with the screen.
    let keys = env.json(&["key", "list", "--json"]);
    assert_eq!(keys[0]["status"], "deactivated");
    assert_eq!(keys[0]["teams"][0], "payments");
    let history = env.json(&["history", "--json"]);
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    for a in ["created", "copied", "deactivated"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    assert!(
        !std::fs::read(&env.db)
            .unwrap()
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the secret reached the store"
    );
}

#[test]
fn without_a_display_or_tmux_the_key_goes_out_as_osc_52() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &["-DISPLAY", "-WAYLAND_DISPLAY", "-TMUX"]);
    let raw = env.dir.path().join("pane-output");
    pane.record_output(&raw);
    let secret = create_key(&pane, "osc bot");
    pane.keys(&["c"]);
    let screen = pane.wait_for("Sent to the terminal");
    assert!(screen.contains("OSC 52"), "{screen}");
    let expected = format!("\u{1b}]52;c;{}", base64_of(&secret));
    let bytes = wait_for_bytes(&raw, expected.as_bytes());
    assert!(
        bytes
            .windows(expected.len())
            .any(|w| w == expected.as_bytes()),
        "no OSC 52 sequence with the key in the terminal output"
    );
    pane.keys(&["Escape"]);
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));
    quit_and_check_terminal(&pane);
}

#[test]
fn leaving_the_secret_uncopied_asks_first() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &["-DISPLAY", "-WAYLAND_DISPLAY"]);
    create_key(&pane, "never copied");
    pane.keys(&["Escape"]);
    pane.wait_for("Leave without copying the key?");
    pane.keys(&["n"]);
    pane.wait_for("Key created");
    pane.keys(&["Escape"]);
    pane.wait_for("Leave without copying the key?");
    pane.keys(&["y"]);
    pane.wait_until("the modal closed", |s| !s.contains("Leave without"));
    quit_and_check_terminal(&pane);
}

#[test]
fn first_run_makes_the_store_and_this_login_its_admin() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = Env::empty();
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &[]);
    pane.wait_for("Welcome to keyward");
    pane.type_text("Ana Lopez");
    pane.keys(&["Enter"]);
    pane.type_text("ana@example.org");
    pane.keys(&["Enter"]);
    pane.wait_for("separate demo store");
    pane.keys(&["y"]);
    pane.wait_until("the demo store's keys", |s| {
        s.contains("sample keys") && !s.contains("Keys 0 of 0")
    });
    quit_and_check_terminal(&pane);
    let ops = env.json(&["operator", "list", "--json"]);
    let me = ops
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Ana Lopez")
        .unwrap_or_else(|| panic!("no operator named Ana Lopez: {ops}"));
    assert_eq!(me["role"], "admin");
    // The real store stays empty; the sample keys went into demo.db beside it.
    let real = env.json(&["key", "list", "--all", "--json"]);
    assert_eq!(real.as_array().map(Vec::len), Some(0), "{real}");
    let demo = env.dir.path().join("demo.db");
    let demo = demo.to_str().unwrap();
    let sample = env
        .run_with(
            env.command_without_db(),
            &["--db", demo, "key", "list", "--json"],
        )
        .expect(0)
        .json();
    assert!(!sample.as_array().unwrap().is_empty(), "{sample}");
}

#[test]
fn a_login_that_is_not_an_operator_is_told_who_to_ask() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    require_root!();
    let env = Env::empty();
    // A store whose only admin is someone else.
    env.run(&[
        "--as",
        "someone",
        "init",
        "--name",
        "Some One",
        "--email",
        "s@example.org",
    ])
    .expect(0);
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &[]);
    let screen = pane.wait_for("cannot open this store for you");
    assert!(screen.contains("operator add"), "{screen}");
    quit_and_check_terminal(&pane);
}

fn wait_for_bytes(file: &Path, needle: &[u8]) -> Vec<u8> {
    let start = std::time::Instant::now();
    loop {
        let bytes = std::fs::read(file).unwrap_or_default();
        if bytes.windows(needle.len()).any(|w| w == needle)
            || start.elapsed() > std::time::Duration::from_secs(10)
        {
            return bytes;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Standard base64, as OSC 52 carries the text.
fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn the_clipboard_is_cleared_after_the_configured_delay() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    let tmux = Tmux::start(env.dir.path());
    let pane = start_with(
        &tmux,
        &env,
        &["-DISPLAY", "-WAYLAND_DISPLAY"],
        "clipboard_clear_seconds = 1\n",
    );
    let secret = create_key(&pane, "short lived");
    pane.keys(&["c"]);
    pane.wait_for("cleared after 1 s");
    assert_eq!(
        String::from_utf8_lossy(&tmux.cmd(&["show-buffer"]).stdout),
        secret
    );
    pane.wait_for("Cleared the key from the clipboard");
    let after = String::from_utf8_lossy(&tmux.cmd(&["show-buffer"]).stdout).into_owned();
    assert!(!after.contains(&secret), "still in tmux's buffer: {after}");
    pane.keys(&["Escape"]);
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));
    quit_and_check_terminal(&pane);
}

#[test]
fn keys_typed_before_the_store_answers_are_not_lost() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    env.try_create("early bird", "Ana", "ci").expect(0);
    // Another connection holds the store exclusively, so keyward waits on its
    // loading screen (in raw mode, drawn) until the lock goes.
    let holder = rusqlite::Connection::open(&env.db).expect("open the store");
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
        .expect("hold the store");
    let tmux = Tmux::start(env.dir.path());
    let pane = start(&tmux, &env, &[]);
    pane.wait_for("Opening");
    pane.keys(&["4", "/"]);
    pane.type_text("action:created");
    pane.keys(&["Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(pane.screen().contains("Opening"), "{}", pane.screen());
    drop(holder);
    let screen = pane.wait_until("the filtered history", |s| {
        s.contains("Credential history")
            && s.contains("action:created")
            && s.lines()
                .any(|l| l.contains("created") && l.contains("early bird"))
    });
    assert!(!screen.contains("store_created"), "{screen}");
    quit_and_check_terminal(&pane);
}

#[test]
fn the_expiring_soon_threshold_comes_from_the_configuration() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    let env = store_with_instance();
    env.try_create_with("soon gone", "Ana", "ci", &["--expires", "5d"])
        .expect(0);
    for (days, marked) in [(3, false), (10, true)] {
        let dir = env.dir.path().join(format!("run{days}"));
        std::fs::create_dir_all(&dir).unwrap();
        let tmux = Tmux::start(&dir);
        let pane = start_with(&tmux, &env, &[], &format!("expiring_soon_days = {days}\n"));
        // The name shows first, from the key list; the rest when its row loads.
        let screen = pane.wait_until("the row loaded", |s| {
            s.lines()
                .any(|l| l.contains("soon gone") && l.contains("active"))
        });
        let row = screen
            .lines()
            .find(|l| l.contains("soon gone"))
            .unwrap_or_default();
        assert_eq!(row.contains(" !"), marked, "{days} days: {row}");
        quit_and_check_terminal(&pane);
    }
}

#[test]
fn with_a_display_the_key_goes_to_the_x11_clipboard_until_cleared() {
    if !require("Xvfb", "a display for the X11 clipboard")
        || !require("xclip", "reading the X11 clipboard back")
        || !require("tmux", "a terminal to run keyward in")
    {
        return;
    }
    let xvfb = Xvfb::start();
    let env = store_with_instance();
    let tmux = Tmux::start(env.dir.path());
    let display = format!("DISPLAY={}", xvfb.display);
    let pane = start_with(&tmux, &env, &[&display], "clipboard_clear_seconds = 2\n");
    let secret = create_key(&pane, "x11 bot");
    pane.keys(&["c"]);
    let screen = pane.wait_for("Copied");
    assert!(screen.contains("system clipboard"), "{screen}");
    assert_eq!(
        x11::clipboard_text(&xvfb.display).as_deref(),
        Some(secret.as_str())
    );
    pane.wait_for("Cleared the key from the clipboard");
    let after = x11::clipboard_text(&xvfb.display).unwrap_or_default();
    assert!(!after.contains(&secret), "still on the X11 clipboard");
    pane.keys(&["Escape"]);
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));
    quit_and_check_terminal(&pane);
}

#[test]
fn a_key_made_on_screen_is_mailed_in_the_background_and_undelivered_mail_is_counted() {
    if !require("tmux", "a terminal to run keyward in") {
        return;
    }
    use common::smtp::{SmtpOptions, SmtpServer, free_port};
    let env = store_with_instance();
    let mail = env.dir.path().join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let server = SmtpServer::start(&mail, SmtpOptions::default());
    let notify = |port: u16| {
        format!(
            "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {port}\nsmtp_tls = \"none\"\n"
        )
    };
    let tmux = Tmux::start(env.dir.path());
    let pane = start_with(&tmux, &env, &[], &notify(server.port()));
    let secret = create_key(&pane, "mailed bot");
    // Delivered by the background run, while the secret is still on screen.
    let got = server.wait_for(1, std::time::Duration::from_secs(60));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, ["admin@example.org"]);
    assert!(got[0].subject().contains("mailed bot"));
    assert!(!got[0].data.contains(&secret));
    pane.keys(&["c"]);
    pane.wait_for("Copied");
    pane.keys(&["Escape"]);
    pane.wait_until("the modal closed", |s| !s.contains("Key created"));
    // Cut to the Action column at 100 columns: `notification_s…`.
    history_shows(&pane, &["notification_s", "created"]);
    let screen = pane.screen();
    assert!(!screen.contains('✉'), "nothing waits:\n{screen}");
    quit_and_check_terminal(&pane);

    // With the server gone, the deactivation's message waits, and the status line says so.
    let again = env.dir.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    let tmux = Tmux::start(&again);
    let pane = start_with(&tmux, &env, &[], &notify(free_port()));
    pane.wait_until("the row loaded", |s| {
        s.lines()
            .any(|l| l.contains("mailed bot") && l.contains("active"))
    });
    pane.keys(&["x"]);
    pane.wait_for("Deactivate 1 key?");
    pane.keys(&["y"]);
    pane.wait_for("Deactivated mailed bot");
    pane.wait_for("✉ 1 pending");
    pane.wait_for("Replace mailed bot?");
    pane.keys(&["n"]);
    quit_and_check_terminal(&pane);
    let outbox = env.json(&["notifications", "--pending", "--json"]);
    let waiting = outbox.as_array().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["event"], "deactivated");
}

/// The pid of the keyward running in the pane (the pane's shell's child).
fn keyward_pid(pane: &Pane) -> String {
    let shell = pane.format("#{pane_pid}");
    let out = std::process::Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep runs");
    let pids = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !pids.is_empty() && !pids.contains('\n'),
        "one child of {shell}: {pids:?}"
    );
    pids
}

#[test]
fn a_hang_up_or_a_kill_clears_the_copied_key_and_gives_the_terminal_back() {
    if !require("tmux", "a terminal to run keyward in")
        || !require("pgrep", "finding keyward's pid")
    {
        return;
    }
    // SIGHUP is what an SSH connection dropping sends; SIGTERM is `kill`.
    for (signal, code) in [
        ("HUP", 129),
        ("TERM", 143),
        ("INT", 130),
        ("USR1", 138),
        ("ALRM", 142),
    ] {
        let env = store_with_instance();
        let tmux = Tmux::start(env.dir.path());
        let pane = start(&tmux, &env, &["-DISPLAY", "-WAYLAND_DISPLAY"]);
        let secret = create_key(&pane, "signal bot");
        pane.keys(&["c"]);
        pane.wait_for("Copied");
        let buffer = tmux.cmd(&["show-buffer"]);
        assert_eq!(String::from_utf8_lossy(&buffer.stdout), secret);
        let pid = keyward_pid(&pane);
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let screen = pane.wait_for(&format!("EXITED {code}"));
        // The secret left tmux's buffer, and the terminal is as it was.
        let buffers = tmux.cmd(&["list-buffers"]);
        assert!(
            !String::from_utf8_lossy(&buffers.stdout).contains(&secret[..12]),
            "SIG{signal}: the key is still in tmux: {}",
            String::from_utf8_lossy(&buffers.stdout)
        );
        assert_eq!(pane.format("#{alternate_on}"), "0", "SIG{signal}");
        assert_eq!(pane.format("#{cursor_flag}"), "1", "SIG{signal}");
        let modes = screen
            .lines()
            .find(|l| l.starts_with("MODES"))
            .unwrap_or_default();
        for mode in ["icanon", "echo"] {
            assert!(
                modes.split_whitespace().any(|m| m == mode),
                "SIG{signal}: {mode} not restored: {modes}"
            );
        }
    }
}
