//! Notifications (SPEC §5) end to end: the real binary and a real store send
//! to a real SMTP server on loopback (`tests/common/smtp.rs`, in the test
//! process) or through a sendmail script; retries, back-off and reminders are driven with
//! an injected clock through the library, and concurrency with two processes.

mod common;

use chrono::{DateTime, TimeDelta};
use common::smtp::{Mode, ReplyAt, SmtpOptions, SmtpServer, free_port};
use common::{Env, key_create};
use keyward_core::config::{NotifyConfig, SmtpTls};
use keyward_core::domain::Cloud;
use keyward_core::service::{InstanceSpec, NewKeyRequest, Service, Settings};
use keyward_core::testing::{FIRST_ADMIN, HandClock, TempStore, origin, start};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Through the binary
// ---------------------------------------------------------------------------------------------

/// A store with an instance, an admin (the test login), a manager `bob` and a
/// viewer `carol`, who is never notified.
fn team_env() -> Env {
    let env = Env::with_instance();
    env.add_operator("bob", "manager");
    env.add_operator("carol", "viewer");
    env
}

/// Writes the user's configuration file with this `[notify]` table — or,
/// for a store on PostgreSQL (shared by every host, so its delivery is the
/// host's), the system file the tests point `KEYWARD_SYSTEM_CONFIG` at.
fn configure(env: &Env, notify: &str) {
    let file = if env.on_postgres() {
        "etc-keyward.toml"
    } else {
        "config/keyward/config.toml"
    };
    env.write(
        file,
        &format!("[notify]\nfrom = \"keyward@example.org\"\n{notify}\n"),
    );
}

fn plain_smtp(port: u16) -> String {
    format!("smtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"none\"")
}

fn outbox(env: &Env) -> Vec<Value> {
    env.json(&["notifications", "--json"])
        .as_array()
        .expect("an array")
        .clone()
}

/// Waits until every message in the outbox satisfies `done` (a background
/// run finishing), and returns the outbox.
fn outbox_when(env: &Env, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let list = outbox(env);
        if (!list.is_empty() && list.iter().all(&done)) || start.elapsed() > PATIENCE {
            return list;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn recipients(messages: &[common::smtp::Received]) -> Vec<String> {
    let mut to: Vec<String> = messages.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    to.sort();
    to
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn a_created_key_mails_each_admin_and_manager_once_saying_who_what_and_never_the_secret() {
    let env = team_env();
    let server = SmtpServer::start(env.dir.path(), SmtpOptions::default());
    configure(&env, &plain_smtp(server.port()));
    let mut cmd = env.command();
    cmd.env("SSH_CONNECTION", "203.0.113.9 52144 10.0.0.5 22");
    let created = env
        .run_with(
            cmd,
            &key_create("billing sync", "acme", "dev1", "ci", &["--json"]),
        )
        .expect(0)
        .json();
    let id = created["id"].as_str().expect("id").to_owned();
    let secret = created["key"].as_str().expect("key").to_owned();

    // Nobody runs `notifications send`: the background run after the commit delivers.
    let got = server.wait_for(2, PATIENCE);
    assert_eq!(
        recipients(&got),
        ["admin@example.org", "bob@example.org"],
        "one message per admin and manager, none to the viewer"
    );
    let masked = env.json(&["key", "show", &id, "--json"])["masked"]
        .as_str()
        .expect("masked")
        .to_owned();
    let login = whoami();
    for m in &got {
        assert_eq!(m.rcpt_tos.len(), 1, "one recipient per message");
        assert_eq!(m.mail_from, "keyward@example.org");
        let subject = m.subject();
        assert!(
            subject.contains("created") && subject.contains("billing sync"),
            "{subject}"
        );
        assert!(subject.contains(&masked), "{subject}");
        let body = m.body();
        for needle in [
            "An API key was created",
            masked.as_str(),
            "instance acme (salesforce), developer dev1, channel ci",
            "Test Admin <admin@example.org>",
            &format!("login {login} on "),
            "SSH client 203.0.113.9",
            "When: ",
            &format!("keyward history --filter key:{id}"),
        ] {
            assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
        }
        // Neither the key nor its secret part, in any header or the body.
        let secret_part = secret.split('_').nth(2).expect("secret part");
        assert!(!m.data.contains(&secret) && !m.data.contains(secret_part));
        assert!(!body.contains(secret_part));
        assert_eq!(
            m.header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
    }
    assert_eq!(server.wait_for(3, Duration::from_millis(500)).len(), 2);

    // The outbox records the delivery; the history shows it.
    let list = outbox_when(&env, |m| m["status"] == "sent");
    assert_eq!(list.len(), 2);
    for m in &list {
        assert_eq!(m["status"], "sent", "{m}");
        assert_eq!(m["attempts"], 1);
        assert_eq!(m["via"], format!("smtp 127.0.0.1:{}", server.port()));
        assert!(!m["body"].as_str().unwrap_or("").contains(&secret));
    }
    let history = env.json(&["history", "--filter", "action:notification_sent", "--json"]);
    let rows = history.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{history}");
    assert!(rows.iter().all(|r| r["key"] == id.as_str()));
    assert!(
        env.ok(&["notifications", "--pending"])
            .contains("Nothing waits")
    );
    env.run(&["audit", "verify"]).expect(0);
}

#[test]
fn a_bulk_deactivation_is_one_message_per_recipient_listing_every_key() {
    let env = team_env();
    let ids: Vec<String> = (1..=3)
        .map(|i| env.create_key(&format!("k{i}"), &format!("dev{i}"), "ci").0)
        .collect();
    let server = SmtpServer::start(env.dir.path(), SmtpOptions::default());
    configure(&env, &plain_smtp(server.port()));
    let mut args = vec!["key", "deactivate"];
    args.extend(ids.iter().map(String::as_str));
    args.push("--yes");
    env.ok(&args);
    // 3 created + 1 deactivated, to each of two people.
    let got = server.wait_for(8, PATIENCE);
    let deactivated: Vec<_> = got
        .iter()
        .filter(|m| m.header("X-Keyward-Event").as_deref() == Some("deactivated"))
        .collect();
    assert_eq!(deactivated.len(), 2, "{got:#?}");
    for m in deactivated {
        assert!(
            m.subject().contains("3 API keys deactivated"),
            "{}",
            m.subject()
        );
        for id in &ids {
            assert!(m.body().contains(&format!("key:{id}")), "{}", m.body());
        }
    }
}

#[test]
fn a_server_that_is_down_leaves_messages_pending_and_a_later_run_delivers_them() {
    let env = team_env();
    let port = free_port();
    configure(&env, &plain_smtp(port));
    let (id, _) = env.create_key("billing sync", "dev1", "ci");

    // The background run found nobody listening: recorded, kept, not dropped.
    let list = outbox_when(&env, |m| m["attempts"].as_u64() >= Some(1));
    assert_eq!(list.len(), 2);
    for m in &list {
        assert_eq!(
            m["status"], "pending",
            "a server that is down may come back: {m}"
        );
        assert_eq!(m["attempts"], 1, "{m}");
        let error = m["last_error"].as_str().expect("an error");
        assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
        assert!(error.to_lowercase().contains("connect"), "{error}");
        assert!(m["next_attempt_at"].is_string());
    }
    let listing = env.ok(&["notifications", "--pending"]);
    assert!(listing.contains("Last errors:"), "{listing}");

    // A run within the back-off leaves them alone.
    let report = env
        .run(&["notifications", "send", "--json"])
        .expect(0)
        .json();
    assert_eq!(report["sent"], 0);
    assert_eq!(report["outbox"]["pending"], 2);
    assert!(outbox(&env).iter().all(|m| m["attempts"] == 1));

    // The server is back; a later run (here told not to wait out the
    // back-off; the wait itself is tested with a moved clock below) delivers.
    let up = env.path("up");
    std::fs::create_dir_all(&up).expect("dir");
    let server = SmtpServer::start(
        &up,
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    let out = env.run(&["notifications", "send", "--retry-now"]).expect(0);
    assert!(out.stdout.contains("Sent 2 message(s)"), "{}", out.stdout);
    assert_eq!(server.messages().len(), 2);
    for m in outbox(&env) {
        assert_eq!(m["status"], "sent");
        assert_eq!(m["attempts"], 2);
        assert!(m["last_error"].is_null());
    }
    assert_eq!(
        env.json(&[
            "history",
            "--filter",
            &format!("key:{id} action:notification_sent"),
            "--json"
        ])
        .as_array()
        .map(Vec::len),
        Some(2)
    );
}

#[test]
fn answers_4xx_and_5xx_are_retried_with_the_error_recorded_and_nothing_dropped() {
    let env = team_env();
    // Made before delivery is configured, so no background run races this test.
    env.create_key("billing sync", "dev1", "ci");
    let serve = |name: &str, port: Option<u16>, reply: Option<&str>| {
        let dir = env.path(name);
        std::fs::create_dir_all(&dir).expect("dir");
        SmtpServer::start(
            &dir,
            SmtpOptions {
                port,
                reply: reply.map(|r| (r.to_owned(), ReplyAt::Data)),
                ..SmtpOptions::default()
            },
        )
    };
    let busy = serve("busy", None, Some("451 4.3.0 mailbox busy, try later"));
    let port = busy.port();
    configure(&env, &plain_smtp(port));

    let run = env.run(&["notifications", "send"]).expect(1);
    assert!(run.stdout.contains("451"), "{}", run.stdout);
    assert!(run.stdout.contains("to be retried"), "{}", run.stdout);
    assert_eq!(busy.refusals(), 2);
    for m in outbox(&env) {
        assert_eq!(m["status"], "pending", "4xx passes: {m}");
        assert_eq!(m["attempts"], 1);
        let error = m["last_error"].as_str().expect("error");
        assert!(
            error.contains("451") && error.contains("mailbox busy"),
            "{error}"
        );
    }
    busy.stop();

    let refusing = serve("refusing", Some(port), Some("550 5.1.1 no such mailbox"));
    env.run(&["notifications", "send", "--retry-now"]).expect(1);
    assert_eq!(refusing.refusals(), 2);
    for m in outbox(&env) {
        assert_eq!(m["status"], "failed", "5xx is lasting: {m}");
        assert_eq!(m["attempts"], 2);
        assert!(
            m["last_error"].as_str().unwrap_or("").contains("550"),
            "{m}"
        );
    }
    let report = env
        .run(&["notifications", "send", "--json"])
        .expect(0)
        .json();
    assert_eq!(report["outbox"]["failed"], 2, "still kept: {report}");
    refusing.stop();

    let fine = serve("fine", Some(port), None);
    env.run(&["notifications", "send", "--retry-now"]).expect(0);
    assert_eq!(fine.messages().len(), 2);
    let list = outbox(&env);
    assert_eq!(list.len(), 2, "nothing was ever dropped");
    for m in list {
        assert_eq!(m["status"], "sent");
        assert_eq!(m["attempts"], 3);
    }
}

#[test]
fn starttls_with_a_login_whose_password_comes_from_the_environment() {
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    let server = SmtpServer::start(
        env.dir.path(),
        SmtpOptions {
            mode: Mode::Starttls,
            auth: Some(("keyward".into(), "pa ss:word".into())),
            ..SmtpOptions::default()
        },
    );
    let ca = server.ca_pem().expect("a CA").display().to_string();
    configure(
        &env,
        &format!(
            "smtp_host = \"localhost\"\nsmtp_port = {}\nsmtp_tls = \"starttls\"\n\
             smtp_user = \"keyward\"\nsmtp_password_env = \"KW_TEST_SMTP_PASSWORD\"\n\
             smtp_ca_file = \"{ca}\"",
            server.port()
        ),
    );
    // Without the variable: a lasting failure naming it, the server never bothered twice.
    let run = env.run(&["notifications", "send"]).expect(1);
    assert!(
        run.stdout.contains("KW_TEST_SMTP_PASSWORD"),
        "{}",
        run.stdout
    );
    assert!(outbox(&env).iter().all(|m| m["status"] == "failed"));

    let mut wrong = env.command();
    wrong.env("KW_TEST_SMTP_PASSWORD", "guess");
    let run = env.run_with(wrong, &["notifications", "send", "--retry-now"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("535"), "{}", run.stdout);
    assert!(server.messages().is_empty());

    let mut right = env.command();
    right.env("KW_TEST_SMTP_PASSWORD", "pa ss:word");
    env.run_with(right, &["notifications", "send", "--retry-now"])
        .expect(0);
    assert_two_delivered_over_tls_as_keyward(&server);
}

/// Both messages (admin and manager) arrived over TLS, logged in as `keyward`.
fn assert_two_delivered_over_tls_as_keyward(server: &SmtpServer) {
    let got = server.messages();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|m| m.tls && m.auth_user.as_deref() == Some("keyward"))
    );
}

#[test]
fn implicit_tls_with_a_password_file() {
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    let server = SmtpServer::start(
        env.dir.path(),
        SmtpOptions {
            mode: Mode::Tls,
            auth: Some(("keyward".into(), "from-a-file".into())),
            ..SmtpOptions::default()
        },
    );
    let pw = env.write("smtp.pw", "from-a-file\n");
    configure(
        &env,
        &format!(
            "smtp_host = \"localhost\"\nsmtp_port = {}\nsmtp_tls = \"tls\"\n\
             smtp_user = \"keyward\"\nsmtp_password_file = \"{}\"\nsmtp_ca_file = \"{}\"",
            server.port(),
            pw.display(),
            server.ca_pem().expect("CA").display()
        ),
    );
    env.run(&["notifications", "send"]).expect(0);
    assert_two_delivered_over_tls_as_keyward(&server);
}

#[test]
fn a_server_whose_certificate_is_not_trusted_is_refused_and_recorded() {
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    let server = SmtpServer::start(
        env.dir.path(),
        SmtpOptions {
            mode: Mode::Starttls,
            ..SmtpOptions::default()
        },
    );
    configure(
        &env,
        &format!("smtp_host = \"localhost\"\nsmtp_port = {}", server.port()),
    );
    let run = env.run(&["notifications", "send"]).expect(1);
    assert!(
        run.stdout.contains("invalid peer certificate"),
        "{}",
        run.stdout
    );
    assert!(server.messages().is_empty());
    assert!(outbox(&env).iter().all(|m| m["status"] == "failed"));
}

#[test]
fn a_sendmail_command_gets_each_message_on_its_standard_input() {
    let env = team_env();
    let (id, secret) = env.create_key("billing sync", "dev1", "ci");
    let spool = env.path("sendmail.out");
    let script = env.write(
        "fake-sendmail.sh",
        &format!(
            "#!/bin/sh\n{{ echo \"ARGS: $*\"; cat; echo '--- end'; }} >> '{}'\n",
            spool.display()
        ),
    );
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");

    configure(&env, &format!("sendmail = \"{} -t -i\"", script.display()));
    let out = env.run(&["notifications", "send"]).expect(0);
    assert!(
        out.stdout.contains("Sent 2 message(s) by sendmail"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&spool).expect("the script ran");
    assert_eq!(text.matches("--- end").count(), 2, "{text}");
    assert_eq!(
        text.matches("ARGS: -t -i\n").count(),
        2,
        "-t: no recipient argument\n{text}"
    );
    assert!(
        text.contains("To: \"bob name\" <bob@example.org>")
            || text.contains("To: bob name <bob@example.org>"),
        "{text}"
    );
    assert!(text.contains("Test Admin"), "{text}");
    assert!(text.contains(&format!("key:{id}")), "{text}");
    assert!(!text.contains(&secret));

    // Without -t the recipient is the last argument.
    std::fs::remove_file(&spool).expect("rm");
    configure(&env, &format!("sendmail = \"{} -i\"", script.display()));
    env.ok(&["key", "deactivate", &id, "--yes"]);
    // The background run after the deactivation sends them, or this one does.
    env.run(&["notifications", "send"]).expect(0);
    outbox_when(&env, |m| m["status"] == "sent");
    let text = std::fs::read_to_string(&spool).expect("the script ran");
    assert!(text.contains("ARGS: -i admin@example.org\n"), "{text}");
    assert!(text.contains("ARGS: -i bob@example.org\n"), "{text}");
    assert!(
        outbox(&env)
            .iter()
            .all(|m| m["status"] == "sent" && m["via"] == "sendmail")
    );
}

#[test]
fn a_failing_sendmail_command_is_recorded_and_retried() {
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    configure(&env, "sendmail = \"sh -c 'echo queue full >&2; exit 75'\"");
    let run = env.run(&["notifications", "send"]).expect(1);
    assert!(
        run.stdout.contains("exited with 75: queue full"),
        "{}",
        run.stdout
    );
    for m in outbox(&env) {
        assert_eq!(m["status"], "pending", "EX_TEMPFAIL passes: {m}");
        assert_eq!(m["attempts"], 1);
    }
}

#[test]
fn without_delivery_the_outbox_is_the_record() {
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    let out = env.ok(&["notifications", "send"]);
    assert!(out.contains("No delivery is configured"), "{out}");
    let list = outbox(&env);
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|m| m["status"] == "pending" && m["attempts"] == 0)
    );
    let listing = env.ok(&["notifications"]);
    assert!(listing.contains("the outbox is the record"), "{listing}");
}

#[test]
fn two_send_processes_at_once_remind_and_deliver_everything_exactly_once() {
    let env = team_env();
    create_keys(&env, 12, &["--expires", "3d"]);
    let server = SmtpServer::start(env.dir.path(), SmtpOptions::default());
    configure(&env, &plain_smtp(server.port()));
    let (ra, rb) = two_senders_at_once(&env);
    // Every key reminded once (7 days: the closest threshold), by one of the two.
    assert_eq!(
        ra["reminded"].as_u64().unwrap_or(0) + rb["reminded"].as_u64().unwrap_or(0),
        12
    );
    // 12 created × 2 recipients + 1 reminder listing all 12 × 2 recipients.
    assert_eq!(
        ra["sent"].as_u64().unwrap_or(0) + rb["sent"].as_u64().unwrap_or(0),
        26
    );
    let got = server.messages();
    assert_eq!(got.len(), 26, "each message once");
    let mut ids: Vec<String> = got.iter().filter_map(|m| m.header("Message-ID")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 26, "no message sent twice");
    let reminders: Vec<_> = got
        .iter()
        .filter(|m| m.header("X-Keyward-Event").as_deref() == Some("expiring"))
        .collect();
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders[0]
            .subject()
            .contains("12 API keys expire within 7 days")
    );
    // And again, from cron every minute: nothing new.
    let again = env
        .run(&["notifications", "send", "--json"])
        .expect(0)
        .json();
    assert_eq!(again["reminded"], 0);
    assert_eq!(again["sent"], 0);
    assert_eq!(server.messages().len(), 26);
}

/// `n` keys `k0`, `k1` … of acme, each for a developer of its own (`dev0` …)
/// on channel ci, made with `extra` options.
fn create_keys(env: &Env, n: usize, extra: &[&str]) {
    for i in 0..n {
        env.ok(&key_create(
            &format!("k{i}"),
            "acme",
            &format!("dev{i}"),
            "ci",
            extra,
        ));
    }
}

/// Two `notifications send` at once, as from two hosts, `--json`: their
/// reports, after both ended well.
fn two_senders_at_once(env: &Env) -> (Value, Value) {
    let spawn = || {
        env.command()
            .args(["notifications", "send", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    let report =
        |o: &std::process::Output| -> Value { serde_json::from_slice(&o.stdout).expect("json") };
    (report(&a), report(&b))
}

#[test]
fn two_senders_at_once_on_a_slow_server_send_each_message_once_and_lose_none() {
    // 15 keys, each mailed to the admin and to bob: 30 messages, which a
    // server taking 50 ms a message keeps both senders busy with at once.
    let env = team_env();
    create_keys(&env, 15, &[]);
    let server = SmtpServer::start(
        env.dir.path(),
        SmtpOptions {
            pause: Some(Duration::from_millis(50)),
            ..SmtpOptions::default()
        },
    );
    configure(&env, &plain_smtp(server.port()));
    let (a, b) = two_senders_at_once(&env);
    let sent = |r: &Value| r["sent"].as_u64().unwrap_or(0);
    let got = server.messages();
    let mut ids: Vec<String> = got.iter().filter_map(|m| m.header("Message-ID")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (got.len(), ids.len(), sent(&a) + sent(&b)),
        (30, 30, 30),
        "each message sent once, and said so once: {a} {b}"
    );
    // Both were sending: each took messages the other did not.
    assert!(
        sent(&a) > 0 && sent(&b) > 0,
        "one sender did it all: {a} {b}"
    );
    let list = outbox(&env);
    assert_eq!(list.len(), 30);
    assert!(
        list.iter()
            .all(|m| m["status"] == "sent" && m["attempts"] == 1),
        "{list:?}"
    );
    // One history row per delivery, each of another message.
    let rows = env.json(&["history", "--json"]);
    let mut delivered: Vec<i64> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["action"] == "notification_sent")
        .map(|r| r["details"]["message"].as_i64().expect("message id"))
        .collect();
    delivered.sort();
    let len = delivered.len();
    delivered.dedup();
    assert_eq!((len, delivered.len()), (30, 30), "{delivered:?}");
    eprintln!(
        "two senders at once, 50 ms a message: {} and {} of 30 sent",
        sent(&a),
        sent(&b)
    );
}

#[test]
fn a_sender_passes_over_messages_another_host_is_claiming() {
    // On a server a claim locks its rows (SELECT … FOR UPDATE SKIP LOCKED);
    // a second host's sender takes the others at once instead of waiting.
    // SQLite has one writer at a time, and no row locks to pass over.
    let env = team_env();
    let Some(mut other_host) = env.pg_client() else {
        eprintln!("skipped on SQLite: it locks the whole store, never one row");
        return;
    };
    create_keys(&env, 3, &[]);
    let server = SmtpServer::start(env.dir.path(), SmtpOptions::default());
    configure(&env, &plain_smtp(server.port()));
    // Another host is in the middle of claiming the first two messages.
    let mut claim = other_host.transaction().expect("begin");
    let held: Vec<i64> = claim
        .query("SELECT id FROM outbox ORDER BY id LIMIT 2 FOR UPDATE", &[])
        .expect("lock two messages")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let started = Instant::now();
    let report = env
        .run(&["notifications", "send", "--json"])
        .expect(0)
        .json();
    let took = started.elapsed();
    assert_eq!(report["sent"], 4, "{report}");
    assert_eq!(server.messages().len(), 4);
    // Not the keyward's lock wait (5 s) spent before passing over them.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let pending: Vec<i64> = outbox(&env)
        .iter()
        .filter(|m| m["status"] == "pending")
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(pending, held);
    // The other host lets go without sending: the next run sends them.
    claim.rollback().expect("rollback");
    let report = env
        .run(&["notifications", "send", "--json"])
        .expect(0)
        .json();
    assert_eq!(report["sent"], 2, "{report}");
    assert_eq!(server.messages().len(), 6);
}

// ---------------------------------------------------------------------------------------------
// Through the library, with a clock moved by hand
// ---------------------------------------------------------------------------------------------

/// A store made by `ana` (admin) with a manager and an instance.
fn library_store(dir: &Path, clock: Arc<HandClock>) -> Service {
    let mut s = TempStore::at(&dir.join("k.db"), clock).admin();
    s.add_operator(
        "bob",
        "Bob",
        "bob@example.org",
        keyward_core::domain::model::Role::Manager,
    )
    .expect("bob");
    s.add_instance(&InstanceSpec {
        name: "acme".into(),
        cloud: Cloud::Salesforce,
        url: None,
        max_active: Some(50),
    })
    .expect("instance");
    s
}

fn create(s: &mut Service, name: &str, expires: &str) -> String {
    s.create_key(&NewKeyRequest {
        name: name.into(),
        instance: "acme".into(),
        developer: "dev".into(),
        channel: name.into(),
        teams: vec![],
        expires: Some(expires.into()),
    })
    .expect("create")
    .key
    .public_id
}

/// The expiring messages in the outbox: (threshold subject part, key ids), per recipient once.
fn reminders(s: &mut Service) -> Vec<(String, Vec<String>)> {
    s.notifications(false)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.event == "expiring" && m.recipient_login == "ana")
        .map(|m| (m.subject, m.key_ids))
        .collect()
}

#[test]
fn each_reminder_threshold_is_crossed_once_per_key() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(HandClock::at(start()));
    let mut s = library_store(dir.path(), clock.clone());
    let far = create(&mut s, "far", "20d");
    let near = create(&mut s, "near", "10d");
    let close = create(&mut s, "close", "3d");
    create(&mut s, "forever", "never");
    let gone = create(&mut s, "gone", "5d");
    s.deactivate_keys(std::slice::from_ref(&gone))
        .expect("deactivate");

    assert_eq!(s.queue_reminders().expect("queue"), 2);
    let r = reminders(&mut s);
    assert_eq!(r.len(), 2, "one per threshold: {r:?}");
    assert!(
        r[0].0.contains("within 7 days") && r[0].1 == vec![close.clone()],
        "{r:?}"
    );
    assert!(
        r[1].0.contains("within 14 days") && r[1].1 == vec![near.clone()],
        "{r:?}"
    );
    // Every minute from cron: nothing more.
    for _ in 0..5 {
        clock.advance(TimeDelta::minutes(1));
        assert_eq!(s.queue_reminders().expect("queue"), 0);
    }

    // Walk day by day for three weeks: each key's thresholds come once each.
    for _ in 0..21 {
        clock.advance(TimeDelta::days(1));
        s.queue_reminders().expect("queue");
        s.queue_reminders().expect("queue again");
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for (subject, keys) in reminders(&mut s) {
        let threshold = ["1 day", "7 days", "14 days"]
            .into_iter()
            .find(|t| subject.contains(&format!("within {t}")))
            .expect("a threshold");
        seen.extend(keys.into_iter().map(|k| (k, threshold.to_owned())));
    }
    seen.sort();
    let mut want = vec![
        (far.clone(), "14 days".to_owned()),
        (far.clone(), "7 days".to_owned()),
        (far.clone(), "1 day".to_owned()),
        (near.clone(), "14 days".to_owned()),
        (near.clone(), "7 days".to_owned()),
        (near.clone(), "1 day".to_owned()),
        // First seen at 3 days: the 7-day reminder stands for 14 too.
        (close.clone(), "7 days".to_owned()),
        (close.clone(), "1 day".to_owned()),
    ];
    want.sort();
    assert_eq!(seen, want);

    // Each reminder went to every admin and manager: as many for bob as for ana.
    let all = s.notifications(false).expect("outbox");
    let count = |login: &str| {
        all.iter()
            .filter(|m| m.event == "expiring" && m.recipient_login == login)
            .count()
    };
    assert_eq!(count("ana"), count("bob"));
}

#[test]
fn a_renewed_key_is_reminded_again_for_its_new_expiry() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(HandClock::at(start()));
    let mut s = library_store(dir.path(), clock.clone());
    let id = create(&mut s, "rotating", "2d");
    assert_eq!(s.queue_reminders().expect("queue"), 1);
    s.renew_key(&id, None, Some("5d")).expect("renew");
    assert_eq!(s.queue_reminders().expect("queue"), 1, "a new expiry date");
    assert_eq!(s.queue_reminders().expect("queue"), 0);
}

#[test]
fn a_failed_message_waits_out_its_back_off_then_a_later_run_delivers_it() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(HandClock::at(start()));
    let mut s = library_store(dir.path(), clock.clone());
    create(&mut s, "billing", "30d");
    let port = free_port();
    let config = NotifyConfig {
        from: "keyward@example.org".into(),
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: port,
        smtp_tls: SmtpTls::None,
        smtp_user: None,
        smtp_password_env: None,
        smtp_password_file: None,
        smtp_ca_file: None,
        sendmail: None,
    };
    let mut transport = keyward_core::mail::transport(&config);

    let report = s.deliver(transport.as_mut(), false).expect("deliver");
    assert_eq!(report.sent, 0);
    assert_eq!(report.failures.len(), 2);
    assert_eq!(report.failures[0].retry_at, start().timestamp() + 60);

    clock.advance(TimeDelta::seconds(30));
    let report = s.deliver(transport.as_mut(), false).expect("deliver");
    assert!(report.failures.is_empty(), "still backing off");
    assert_eq!(report.left.pending, 2);

    clock.advance(TimeDelta::seconds(31));
    let report = s.deliver(transport.as_mut(), false).expect("deliver");
    assert_eq!(report.failures.len(), 2, "tried again after a minute");
    // The second wait is twice as long.
    assert_eq!(report.failures[0].retry_at, start().timestamp() + 61 + 120);

    let server = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    clock.advance(TimeDelta::seconds(119));
    assert_eq!(
        s.deliver(transport.as_mut(), false).expect("deliver").sent,
        0
    );
    clock.advance(TimeDelta::seconds(1));
    let report = s.deliver(transport.as_mut(), false).expect("deliver");
    assert_eq!(report.sent, 2);
    assert_eq!(report.left.waiting(), 0);
    assert_eq!(server.messages().len(), 2);
    for m in s.notifications(false).expect("outbox") {
        assert_eq!(m.status, "sent");
        assert_eq!(m.attempts, 3);
        assert_eq!(m.sent_at, Some(start().timestamp() + 181));
    }
}

/// Runs in a child process of `reminders_from_two_processes_at_once_are_written_once`
/// (and does nothing when run by itself): queues the reminders of the store in
/// `KW_CHILD_DB` at the instant in `KW_CHILD_NOW`, starting when `KW_CHILD_GO` exists.
#[test]
#[ignore = "a child process of reminders_from_two_processes_at_once_are_written_once"]
fn reminder_child_process() {
    let (Some(db), Some(now), Some(go)) = (
        std::env::var_os("KW_CHILD_DB"),
        std::env::var("KW_CHILD_NOW").ok(),
        std::env::var_os("KW_CHILD_GO"),
    ) else {
        return;
    };
    let now: i64 = now.parse().expect("seconds");
    let clock = Arc::new(HandClock::at(
        DateTime::from_timestamp(now, 0).expect("time"),
    ));
    let mut s = Service::open(
        Path::new(&db),
        origin(FIRST_ADMIN),
        clock,
        Settings::default(),
    )
    .expect("open");
    let deadline = Instant::now() + PATIENCE;
    while !Path::new(&go).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let n = s.queue_reminders().expect("queue");
    println!("REMINDED {n}");
}

#[test]
fn reminders_from_two_processes_at_once_are_written_once() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(HandClock::at(start()));
    let mut s = library_store(dir.path(), clock.clone());
    for i in 0..40 {
        create(&mut s, &format!("k{i}"), &format!("{}d", 2 + i % 12));
    }
    drop(s);
    let go = dir.path().join("go");
    let child = || {
        Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "reminder_child_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KW_CHILD_DB", dir.path().join("k.db"))
            .env("KW_CHILD_NOW", start().timestamp().to_string())
            .env("KW_CHILD_GO", &go)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child")
    };
    let (a, b) = (child(), child());
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&go, "").expect("go");
    let reminded = |c: std::process::Child| -> u64 {
        let out = c.wait_with_output().expect("child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.split_once("REMINDED ").map(|(_, n)| n))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no count in {text}"))
    };
    let (ra, rb) = (reminded(a), reminded(b));
    assert_eq!(ra + rb, 40, "every key once between the two: {ra} + {rb}");

    let mut s = Service::open(
        &dir.path().join("k.db"),
        origin(FIRST_ADMIN),
        clock,
        Settings::default(),
    )
    .expect("open");
    let ana: Vec<_> = s
        .notifications(false)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.event == "expiring" && m.recipient_login == "ana")
        .flat_map(|m| m.key_ids)
        .collect();
    let mut unique = ana.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ana.len(), 40, "no key listed twice");
    assert_eq!(unique.len(), 40);
}

#[test]
fn a_login_neither_manager_nor_the_stores_owner_may_not_send_nor_read_the_outbox() {
    if !common::is_root() {
        return; // --as, which stands in for a service user here, is root's alone
    }
    let env = team_env();
    env.create_key("billing sync", "dev1", "ci");
    let spool = env.path("sent.out");
    configure(
        &env,
        &format!("sendmail = \"sh -c 'cat >> {}'\"", spool.display()),
    );
    // Sending drains the admins' mail and writes history: a manager's work,
    // or the store owner's (the timer of assets/ runs as it), not any login's.
    let refused = env
        .run_as("keyward-cron", &["notifications", "send"])
        .expect(3);
    assert!(
        refused.stderr.contains("store's owner"),
        "{}",
        refused.stderr
    );
    assert!(outbox(&env).iter().all(|m| m["status"] == "pending"));
    assert!(!spool.exists(), "nothing was sent");
    env.run_as("keyward-cron", &["notifications"]).expect(3);
    // The store's owner (this test's login) runs it as the timer would.
    env.run(&["notifications", "send"]).expect(0);
    assert!(outbox(&env).iter().all(|m| m["status"] == "sent"));
}

#[test]
fn an_operator_name_with_a_line_break_neither_gets_in_nor_stops_the_mail() {
    let env = team_env();
    // At the door: a person's name goes into mail headers.
    for name in ["Zed\nNewline", "Zed\r\nNewline", "Zed\u{1b}[31m"] {
        let run = env
            .run(&[
                "operator",
                "add",
                "zed",
                "--name",
                name,
                "--email",
                "zed@example.org",
                "--role",
                "admin",
            ])
            .expect(2);
        assert!(run.stderr.contains("control characters"), "{}", run.stderr);
    }
    // A store from before that rule: bob's name holds a line break.
    env.bypass(
        "UPDATE operators SET name = ?1 WHERE login = 'bob'",
        &["Zed\r\nNewline"],
    )
    .expect("update");
    env.create_key("billing sync", "dev1", "ci");
    let spool = env.path("sendmail.out");
    configure(
        &env,
        &format!("sendmail = \"sh -c 'cat >> {}'\"", spool.display()),
    );
    let out = env.run(&["notifications", "send"]).expect(0);
    assert!(out.stdout.contains("Sent 2 message(s)"), "{}", out.stdout);
    let text = std::fs::read_to_string(&spool).expect("the command ran");
    // One header line, the break shown as an escape (quoted, so its
    // backslashes are doubled on the wire).
    assert!(
        text.lines()
            .any(|l| l.starts_with("To: \"Zed\\\\r\\\\nNewline\" <bob@example.org>")),
        "{text}"
    );
    assert!(outbox(&env).iter().all(|m| m["status"] == "sent"));
}

/// Delivery for a shared store is the host's: an operator's own file cannot
/// silence or redirect the admins' mail, and a viewer cannot drain the outbox.
#[test]
fn no_ones_own_configuration_silences_the_mail_of_a_shared_store() {
    use std::os::unix::fs::PermissionsExt;
    let env = team_env();
    // Shared: group read-write, as in the README's bastion setup (a store on
    // PostgreSQL is shared by its nature).
    if !env.on_postgres() {
        std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o660)).expect("chmod");
    }
    // The operator's own file says to send into the void; the key is made
    // before the host configures delivery, so nothing runs in the background.
    env.write(
        "config/keyward/config.toml",
        "[notify]\nfrom = \"keyward@example.org\"\nsendmail = \"/bin/true\"\n",
    );
    env.create_key("sneaky", "dev1", "ci");
    let host_spool = env.path("host.out");
    env.write(
        "etc-keyward.toml",
        &format!(
            "[notify]\nfrom = \"keyward@example.org\"\nsendmail = \"sh -c 'cat >> {}'\"\n",
            host_spool.display()
        ),
    );

    // A viewer may not run the delivery at all (it writes reminders, history
    // and the outbox's state): exit 3, and nothing sent.
    let refused = env.run_as("carol", &["notifications", "send"]).expect(3);
    assert!(
        refused.stderr.contains("manager role"),
        "{}",
        refused.stderr
    );
    assert!(outbox(&env).iter().all(|m| m["status"] == "pending"));

    let run = env.run(&["notifications", "send"]).expect(0);
    assert!(run.stderr.contains("is ignored"), "{}", run.stderr);
    assert!(run.stdout.contains("Sent 2 message(s)"), "{}", run.stdout);
    let mail = std::fs::read_to_string(&host_spool).expect("the host's command ran");
    assert!(mail.matches("sneaky").count() >= 2, "{mail}");
    assert!(outbox(&env).iter().all(|m| m["status"] == "sent"));

    // A personal store (0600, this login's own): the user's settings apply.
    // A server is never one.
    if env.on_postgres() {
        return;
    }
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let own_spool = env.path("own.out");
    configure(
        &env,
        &format!("sendmail = \"sh -c 'cat >> {}'\"", own_spool.display()),
    );
    env.ok(&[
        "key",
        "create",
        "--name",
        "mine",
        "--instance",
        "acme",
        "--developer",
        "dev1",
        "--channel",
        "api",
    ]);
    let run = env.run(&["notifications", "send"]).expect(0);
    assert!(!run.stderr.contains("is ignored"), "{}", run.stderr);
    outbox_when(&env, |m| m["status"] == "sent");
    let mine = std::fs::read_to_string(&own_spool).expect("the user's command ran");
    assert!(mine.contains("mine"), "{mine}");
}
