//! The SMTP test server (tests/common/smtp.rs, tests/smtp_server.py) against
//! real clients: Python's smtplib and a hand-typed SMTP conversation. The
//! tests of keyward's mail rely on what these show: what a server accepts is
//! in `messages()`, a configured refusal reaches the client and is counted,
//! TLS (STARTTLS and implicit) verifies against `ca_pem()`, and AUTH takes
//! exactly the configured credentials.

mod common;

use common::smtp::{Mode, ReplyAt, SmtpOptions, SmtpServer, free_port};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;
use std::time::Duration;

/// An smtplib client driven by a JSON spec (argv[1]); prints a JSON result:
/// `{"ok": true, ...}` or `{"error": <exception class>, "code": <SMTP code>}`.
const CLIENT: &str = r#"
import json, smtplib, ssl, sys
from email.message import EmailMessage

spec = json.loads(sys.argv[1])
out = {}
try:
    # Verifying, against the system's CAs when no cafile is given (smtplib's
    # own default context verifies nothing).
    ctx = ssl.create_default_context(cafile=spec.get("cafile"))
    host = spec.get("host", "127.0.0.1")
    if spec["mode"] == "tls":
        s = smtplib.SMTP_SSL(host, spec["port"], context=ctx, timeout=10)
    else:
        s = smtplib.SMTP(host, spec["port"], timeout=10)
    with s:
        s.ehlo()
        out["features"] = sorted(s.esmtp_features)
        if spec["mode"] == "starttls":
            out["mail_before_tls"] = s.mail(spec["from"])[0]
            s.starttls(context=ctx)
            s.ehlo()
            out["features_after_tls"] = sorted(s.esmtp_features)
        if spec.get("login"):
            user, password = spec["login"]
            if spec.get("mechanism") == "LOGIN":
                s.user, s.password = user, password
                s.auth("LOGIN", s.auth_login)
            else:
                s.login(user, password)
        msg = EmailMessage()
        msg["From"] = spec["from"]
        msg["To"] = ", ".join(spec["to"])
        msg["Subject"] = spec["subject"]
        msg.set_content(spec["body"], cte=spec.get("cte", "quoted-printable"))
        s.send_message(msg, from_addr=spec["from"], to_addrs=spec["to"])
        out["ok"] = True
except smtplib.SMTPRecipientsRefused as e:
    out["error"] = type(e).__name__
    out["code"] = list(e.recipients.values())[0][0]
except smtplib.SMTPResponseException as e:
    out["error"] = type(e).__name__
    out["code"] = e.smtp_code
except Exception as e:
    out["error"] = type(e).__name__
    out["message"] = str(e)
print(json.dumps(out))
"#;

/// Sends one message with smtplib as `spec` says (see `CLIENT`); `spec` gets
/// the defaults `from`, `to`, `subject`, `body` where it has none.
fn smtplib(port: u16, mut spec: Value) -> Value {
    let defaults = json!({
        "port": port,
        "mode": "plain",
        "from": "keyward@example.org",
        "to": ["admin@example.org"],
        "subject": "Grüße ✓ from keyward: a subject long enough to need folding once encoded",
        "body": "Dear admin,\nthe key für acme expires soon. = not an escape\n",
    });
    for (k, v) in defaults.as_object().expect("an object") {
        if spec.get(k).is_none() {
            spec[k] = v.clone();
        }
    }
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let out = Command::new(python)
        .args(["-c", CLIENT, &spec.to_string()])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "smtplib client failed; stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("client printed no JSON ({e}): {stdout}"))
}

/// A hand-typed SMTP conversation.
struct Talk {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Talk {
    fn connect(port: u16) -> Talk {
        let stream =
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to the SMTP server");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set a read timeout");
        let writer = stream.try_clone().expect("clone the stream");
        let mut talk = Talk {
            reader: BufReader::new(stream),
            writer,
        };
        let banner = talk.reply();
        assert!(banner.starts_with("220"), "banner: {banner:?}");
        talk
    }

    /// The next reply, all its lines.
    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read a reply line");
            assert!(
                !line.is_empty(),
                "server closed the connection after {all:?}"
            );
            all.push_str(&line);
            // "250-..." continues; "250 ..." ends the reply.
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    /// Sends `line` (CRLF added) and returns the reply.
    fn say(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write to the SMTP server");
        self.reply()
    }
}

#[test]
fn plain_smtplib_message_arrives_decoded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    assert!(server.ca_pem().is_none());

    let result = smtplib(
        server.port(),
        json!({"to": ["admin@example.org", "second@example.org"]}),
    );
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        !result["features"]
            .as_array()
            .expect("features")
            .contains(&json!("auth")),
        "AUTH offered with no credentials configured: {result}"
    );

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "keyward@example.org");
    assert_eq!(m.rcpt_tos, ["admin@example.org", "second@example.org"]);
    assert_eq!(
        m.subject(),
        "Grüße ✓ from keyward: a subject long enough to need folding once encoded"
    );
    // smtplib sent it RFC 2047 encoded, which header() leaves alone.
    let raw = m.header("SUBJECT").expect("a Subject header");
    assert!(raw.starts_with("=?utf-8?"), "{raw}");
    assert!(!raw.contains('\n'), "unfolded: {raw:?}");
    assert_eq!(
        m.header("to").as_deref(),
        Some("admin@example.org, second@example.org")
    );
    assert_eq!(
        m.header("content-transfer-encoding").as_deref(),
        Some("quoted-printable")
    );
    assert_eq!(
        m.body(),
        "Dear admin,\nthe key für acme expires soon. = not an escape\n"
    );
    assert!(m.data.contains("=3D not an escape"), "{}", m.data);
    assert_eq!(m.auth_user, None);
    assert!(!m.tls);
    assert_eq!(server.refusals(), 0);
}

#[test]
fn raw_conversation_folded_headers_and_base64() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let mut talk = Talk::connect(server.port());
    assert!(talk.say("EHLO client.example").starts_with("250"));
    assert!(talk.say("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(talk.say("RCPT TO:<b@example.org>").starts_with("250"));
    assert!(talk.say("DATA").starts_with("354"));
    let message = "From: a@example.org\r\n\
                   To: b@example.org\r\n\
                   Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n =?utf-8?b?4pyTIGRvbmU=?=\r\n\
                   X-Folded: one\r\n\ttwo\r\n  three\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: base64\r\n\
                   \r\n\
                   aMOpbGxvCi5kb3QK\r\n\
                   .";
    assert!(talk.say(message).starts_with("250"));
    assert!(talk.say("QUIT").starts_with("221"));

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.rcpt_tos, ["b@example.org"]);
    assert_eq!(m.subject(), "Grüße✓ done");
    assert_eq!(m.header("x-folded").as_deref(), Some("one\ttwo  three"));
    assert_eq!(m.header("X-Missing"), None);
    assert_eq!(m.body(), "héllo\n.dot\n");
}

#[test]
fn reply_at_data_refuses_with_451_and_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            reply: Some(("451 4.3.0 try again later".into(), ReplyAt::Data)),
            ..SmtpOptions::default()
        },
    );
    let result = smtplib(server.port(), json!({}));
    assert_eq!(result["error"], "SMTPDataError", "{result}");
    assert_eq!(result["code"], 451, "{result}");
    assert_eq!(server.refusals(), 1);
    assert!(server.messages().is_empty());
}

#[test]
fn reply_at_rcpt_refuses_each_recipient() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            reply: Some(("550 5.1.1 no such user".into(), ReplyAt::Rcpt)),
            ..SmtpOptions::default()
        },
    );
    let result = smtplib(server.port(), json!({}));
    assert_eq!(result["error"], "SMTPRecipientsRefused", "{result}");
    assert_eq!(result["code"], 550, "{result}");
    assert_eq!(server.refusals(), 1);

    let mut talk = Talk::connect(server.port());
    talk.say("EHLO client.example");
    talk.say("MAIL FROM:<a@example.org>");
    assert_eq!(
        talk.say("RCPT TO:<b@example.org>"),
        "550 5.1.1 no such user\r\n"
    );
    assert!(talk.say("DATA").starts_with("503"));
    assert_eq!(server.refusals(), 2);
    assert!(server.messages().is_empty());
}

fn with_auth(mode: Mode) -> SmtpOptions {
    SmtpOptions {
        mode,
        auth: Some(("alice".into(), "s3cret:pass".into())),
        ..SmtpOptions::default()
    }
}

#[test]
fn starttls_with_auth_plain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Starttls));
    let ca = server
        .ca_pem()
        .expect("a CA for STARTTLS")
        .to_str()
        .expect("UTF-8 path");
    let result = smtplib(
        server.port(),
        json!({"mode": "starttls", "host": "localhost", "cafile": ca,
               "login": ["alice", "s3cret:pass"]}),
    );
    assert_eq!(result["ok"], true, "{result}");
    // Before TLS: no AUTH offered and no mail taken.
    assert_eq!(result["mail_before_tls"], 530, "{result}");
    let before = result["features"].as_array().expect("features");
    assert!(before.contains(&json!("starttls")), "{result}");
    assert!(!before.contains(&json!("auth")), "{result}");
    assert!(
        result["features_after_tls"]
            .as_array()
            .expect("features")
            .contains(&json!("auth")),
        "{result}"
    );

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(got[0].tls);
    // aiosmtpd's noise about AUTH without STARTTLS is filtered out.
    assert_eq!(server.stderr_text(), "");
}

#[test]
fn starttls_wrong_password_gets_535() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Starttls));
    let ca = server.ca_pem().expect("a CA").to_str().expect("UTF-8 path");
    for mechanism in ["PLAIN", "LOGIN"] {
        let result = smtplib(
            server.port(),
            json!({"mode": "starttls", "cafile": ca, "mechanism": mechanism,
                   "login": ["alice", "wrong"]}),
        );
        assert_eq!(result["error"], "SMTPAuthenticationError", "{result}");
        assert_eq!(result["code"], 535, "{result}");
    }
    assert!(server.messages().is_empty());
    // aiosmtpd's noise about AUTH without STARTTLS is filtered out.
    assert_eq!(server.stderr_text(), "");
}

#[test]
fn starttls_untrusted_certificate_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            mode: Mode::Starttls,
            ..SmtpOptions::default()
        },
    );
    // The system's trust store does not know the test CA.
    let result = smtplib(server.port(), json!({"mode": "starttls"}));
    assert_eq!(result["error"], "SSLCertVerificationError", "{result}");
    // The server logs the client's refusal of its certificate.
    let stderr = server.stderr_text();
    assert!(stderr.contains("TLSV1_ALERT_UNKNOWN_CA"), "{stderr}");
}

#[test]
fn implicit_tls_with_auth_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Tls));
    let ca = server
        .ca_pem()
        .expect("a CA for TLS")
        .to_str()
        .expect("UTF-8 path");
    // By IP address: the certificate names 127.0.0.1 too.
    let result = smtplib(
        server.port(),
        json!({"mode": "tls", "host": "127.0.0.1", "cafile": ca,
               "mechanism": "LOGIN", "login": ["alice", "s3cret:pass"]}),
    );
    assert_eq!(result["ok"], true, "{result}");
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(got[0].tls);
    // aiosmtpd's noise about AUTH without STARTTLS is filtered out.
    assert_eq!(server.stderr_text(), "");
}

#[test]
fn plain_with_auth_requires_it_without_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Plain));
    let result = smtplib(server.port(), json!({}));
    assert_eq!(result["error"], "SMTPSenderRefused", "{result}");
    assert_eq!(result["code"], 530, "{result}");
    let result = smtplib(server.port(), json!({"login": ["alice", "s3cret:pass"]}));
    assert_eq!(result["ok"], true, "{result}");
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(!got[0].tls);
    // aiosmtpd's noise about AUTH without STARTTLS is filtered out.
    assert_eq!(server.stderr_text(), "");
}

/// The chain is what rustls wants: a v3 CA, a leaf with subjectAltName and
/// serverAuth, valid for both names the tests connect by.
#[test]
fn certificates_verify_strictly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            mode: Mode::Tls,
            ..SmtpOptions::default()
        },
    );
    let ca = server.ca_pem().expect("a CA");
    let leaf = dir.path().join("smtp-server.pem");
    for name in [
        ["-verify_hostname", "localhost"],
        ["-verify_ip", "127.0.0.1"],
    ] {
        let out = Command::new("openssl")
            .args(["verify", "-x509_strict", "-purpose", "sslserver"])
            .args(name)
            .arg("-CAfile")
            .arg(ca)
            .arg(&leaf)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn stopped_server_and_free_port_refuse_connections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let port = server.port();
    // A client still connected does not hold up the stop, nor make noise.
    let _talk = Talk::connect(port);
    server.stop();
    let stderr = std::fs::read_to_string(dir.path().join("smtp.stderr")).expect("stderr file");
    assert_eq!(stderr, "");
    let err =
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect_err("nothing listens after stop");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);

    let err = TcpStream::connect((Ipv4Addr::LOCALHOST, free_port()))
        .expect_err("nothing listens on a free port");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn wait_for_gives_up_at_the_deadline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let start = std::time::Instant::now();
    assert!(server.wait_for(1, Duration::from_millis(200)).is_empty());
    assert!(start.elapsed() >= Duration::from_millis(200));
}
