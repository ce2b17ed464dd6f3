//! The SMTP test server (tests/common/smtp.rs) against real clients: an SMTP
//! client over rustls sending messages that lettre's builder encodes, and a
//! hand-typed SMTP conversation. The tests of keyward's mail rely on what
//! these show: what a server accepts is in `messages()`, a configured refusal
//! reaches the client and is counted, TLS (STARTTLS and implicit) verifies
//! against `ca_pem()`, and AUTH takes exactly the configured credentials.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::smtp::{Mode, ReplyAt, SmtpOptions, SmtpServer, free_port};
use lettre::message::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SUBJECT: &str = "Grüße ✓ from keyward: a subject long enough to need folding once encoded";
const BODY: &str = "Dear admin,\nthe key für acme expires soon. = not an escape\n";

/// The connection of a client, in clear or in TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A client's TLS side: trusting `ca` only, or without it the system's
/// roots, as a mail program would.
fn client_tls(ca: Option<&Path>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(ca) => {
            for cert in CertificateDer::pem_file_iter(ca).expect("read the CA file") {
                roots
                    .add(cert.expect("a PEM certificate"))
                    .expect("a CA certificate rustls takes");
            }
        }
        None => {
            // A machine without a CA bundle has no roots: the test CA is
            // unknown all the same.
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("rustls's default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    Arc::new(config)
}

/// The client side of a TLS handshake with the server called `host`; the
/// rustls error if it fails.
fn handshake(
    config: &Arc<ClientConfig>,
    host: &str,
    mut tcp: TcpStream,
) -> Result<Stream, rustls::Error> {
    let name = ServerName::try_from(host.to_owned()).expect("a server name");
    let mut tls = ClientConnection::new(Arc::clone(config), name)?;
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut tcp) {
            let rustls_error = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .cloned();
            return Err(rustls_error.unwrap_or_else(|| panic!("TLS handshake: {e}")));
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(tls, tcp))))
}

/// An SMTP conversation, typed by hand or driven by `send`.
struct Talk {
    reader: BufReader<Stream>,
}

impl Talk {
    fn tcp(port: u16) -> TcpStream {
        let stream =
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to the SMTP server");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set a read timeout");
        stream
    }

    fn over(stream: Stream) -> Talk {
        let mut talk = Talk {
            reader: BufReader::new(stream),
        };
        let banner = talk.reply();
        assert!(banner.starts_with("220"), "banner: {banner:?}");
        talk
    }

    /// A conversation in clear, past the server's banner.
    fn connect(port: u16) -> Talk {
        Talk::over(Stream::Plain(Talk::tcp(port)))
    }

    /// A conversation in TLS from the first byte, past the banner.
    fn connect_tls(port: u16, host: &str, tls: &Arc<ClientConfig>) -> Result<Talk, rustls::Error> {
        Ok(Talk::over(handshake(tls, host, Talk::tcp(port))?))
    }

    /// TLS set up after the server's `220` to STARTTLS.
    fn starttls(self, host: &str, tls: &Arc<ClientConfig>) -> Result<Talk, rustls::Error> {
        // A BufReader holding bytes the server sent in clear after its 220
        // would be a server error this drops on the floor: none are expected.
        assert!(
            self.reader.buffer().is_empty(),
            "the server spoke after 220"
        );
        let Stream::Plain(tcp) = self.reader.into_inner() else {
            panic!("STARTTLS inside TLS");
        };
        Ok(Talk {
            reader: BufReader::new(handshake(tls, host, tcp)?),
        })
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
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write to the SMTP server");
        stream.flush().expect("write to the SMTP server");
        self.reply()
    }

    /// Sends `line` and returns the reply's code.
    fn code(&mut self, line: &str) -> u16 {
        reply_code(&self.say(line))
    }
}

fn reply_code(reply: &str) -> u16 {
    reply
        .get(..3)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an SMTP reply: {reply:?}"))
}

/// The ESMTP keywords of an EHLO reply, lower case and sorted, as a client
/// sees what the server offers.
fn features(ehlo: &str) -> Vec<String> {
    let mut found: Vec<String> = ehlo
        .lines()
        .skip(1)
        .filter_map(|line| line.get(4..)?.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect();
    found.sort();
    found
}

/// The AUTH mechanism a client uses: PLAIN with its initial response, or
/// LOGIN answering the server's two challenges.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mechanism {
    Plain,
    Login,
}

/// What a client is to do: `Spec::default()` sends in clear to 127.0.0.1 as
/// `keyward@example.org` to `admin@example.org`, without AUTH.
struct Spec<'a> {
    mode: Mode,
    /// Connected to and verified as.
    host: &'a str,
    /// The CA to trust; without it, the system's roots.
    ca: Option<&'a Path>,
    login: Option<(&'a str, &'a str)>,
    mechanism: Mechanism,
    to: &'a [&'a str],
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            mode: Mode::Plain,
            host: "127.0.0.1",
            ca: None,
            login: None,
            mechanism: Mechanism::Plain,
            to: &["admin@example.org"],
        }
    }
}

/// How a client's attempt ended.
#[derive(Debug, PartialEq)]
enum Failure {
    /// The server answered this command with this code.
    Refused { at: &'static str, code: u16 },
    /// TLS could not be set up.
    Tls(rustls::Error),
}

/// What the client saw.
#[derive(Debug)]
struct Outcome {
    /// What the first EHLO offered.
    features: Vec<String>,
    /// In STARTTLS mode, the answer to MAIL before STARTTLS.
    mail_before_tls: Option<u16>,
    /// What EHLO offered after STARTTLS.
    features_after_tls: Vec<String>,
    result: Result<(), Failure>,
}

/// The message a client sends: the subject and body above, the body
/// quoted-printable, encoded by lettre's builder as keyward's are.
fn message(from: &str, to: &[&str]) -> Vec<u8> {
    let mut builder = Message::builder()
        .from(from.parse().expect("a From address"))
        .subject(SUBJECT)
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable);
    for to in to {
        builder = builder.to(to.parse().expect("a To address"));
    }
    builder
        .body(BODY.to_owned())
        .expect("a message")
        .formatted()
}

/// Sends one message to the server on `port` as `spec` says, as a mail
/// program would: EHLO; in STARTTLS mode a MAIL in clear first (to see what
/// the server says to it), then STARTTLS and EHLO again; AUTH if a login is
/// given; MAIL, RCPT for each recipient, DATA, QUIT. Stops at the first
/// refusal; a refused RCPT fails only when every recipient was.
fn send(port: u16, spec: Spec<'_>) -> Outcome {
    let from = "keyward@example.org";
    let tls = client_tls(spec.ca);
    let mut outcome = Outcome {
        features: Vec::new(),
        mail_before_tls: None,
        features_after_tls: Vec::new(),
        result: Ok(()),
    };
    let mut talk = match spec.mode {
        Mode::Tls => match Talk::connect_tls(port, spec.host, &tls) {
            Ok(talk) => talk,
            Err(e) => {
                outcome.result = Err(Failure::Tls(e));
                return outcome;
            }
        },
        Mode::Plain | Mode::Starttls => Talk::connect(port),
    };
    let ehlo = talk.say("EHLO client.example");
    assert_eq!(reply_code(&ehlo), 250, "{ehlo}");
    outcome.features = features(&ehlo);
    if spec.mode == Mode::Starttls {
        outcome.mail_before_tls = Some(talk.code(&format!("MAIL FROM:<{from}>")));
        let reply = talk.say("STARTTLS");
        assert_eq!(reply_code(&reply), 220, "{reply}");
        talk = match talk.starttls(spec.host, &tls) {
            Ok(talk) => talk,
            Err(e) => {
                outcome.result = Err(Failure::Tls(e));
                return outcome;
            }
        };
        let ehlo = talk.say("EHLO client.example");
        assert_eq!(reply_code(&ehlo), 250, "{ehlo}");
        outcome.features_after_tls = features(&ehlo);
    }
    outcome.result = transaction(&mut talk, &spec, from);
    // Whatever happened, the client says goodbye.
    talk.say("QUIT");
    outcome
}

/// AUTH if asked, then one mail transaction.
fn transaction(talk: &mut Talk, spec: &Spec<'_>, from: &str) -> Result<(), Failure> {
    let refused = |at, code| Err(Failure::Refused { at, code });
    if let Some((user, password)) = spec.login {
        let code = match spec.mechanism {
            Mechanism::Plain => {
                let blob = BASE64.encode(format!("\0{user}\0{password}"));
                talk.code(&format!("AUTH PLAIN {blob}"))
            }
            Mechanism::Login => {
                let reply = talk.say("AUTH LOGIN");
                assert_eq!(reply.trim_end(), "334 VXNlciBOYW1lAA==", "user prompt");
                let reply = talk.say(&BASE64.encode(user));
                assert_eq!(reply.trim_end(), "334 UGFzc3dvcmQA", "password prompt");
                talk.code(&BASE64.encode(password))
            }
        };
        if code != 235 {
            return refused("AUTH", code);
        }
    }
    let code = talk.code(&format!("MAIL FROM:<{from}>"));
    if code != 250 {
        return refused("MAIL", code);
    }
    let mut first_refusal = None;
    for to in spec.to {
        let code = talk.code(&format!("RCPT TO:<{to}>"));
        if code != 250 {
            first_refusal.get_or_insert(code);
        }
    }
    if let Some(code) = first_refusal {
        talk.code("RSET");
        return refused("RCPT", code);
    }
    let code = talk.code("DATA");
    if code != 354 {
        return refused("DATA", code);
    }
    let mut data = Vec::new();
    for line in message(from, spec.to).split_inclusive(|&b| b == b'\n') {
        // Dot-stuffing (RFC 5321 §4.5.2).
        if line.starts_with(b".") {
            data.push(b'.');
        }
        data.extend_from_slice(line);
    }
    if !data.ends_with(b"\r\n") {
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    let stream = talk.reader.get_mut();
    stream.write_all(&data).expect("send the message");
    stream.flush().expect("send the message");
    let code = reply_code(&talk.reply());
    if code != 250 {
        return refused("DATA", code);
    }
    Ok(())
}

#[test]
fn plain_message_arrives_decoded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    assert!(server.ca_pem().is_none());

    let outcome = send(
        server.port(),
        Spec {
            to: &["admin@example.org", "second@example.org"],
            ..Spec::default()
        },
    );
    assert_eq!(outcome.result, Ok(()), "{outcome:?}");
    assert!(
        !outcome.features.contains(&"auth".to_owned()),
        "AUTH offered with no credentials configured: {outcome:?}"
    );

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "keyward@example.org");
    assert_eq!(m.rcpt_tos, ["admin@example.org", "second@example.org"]);
    assert_eq!(m.subject(), SUBJECT);
    // lettre sent it RFC 2047 encoded, which header() leaves alone.
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
    assert_eq!(m.body(), BODY);
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
    let outcome = send(server.port(), Spec::default());
    assert_eq!(
        outcome.result,
        Err(Failure::Refused {
            at: "DATA",
            code: 451
        }),
        "{outcome:?}"
    );
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
    let outcome = send(server.port(), Spec::default());
    assert_eq!(
        outcome.result,
        Err(Failure::Refused {
            at: "RCPT",
            code: 550
        }),
        "{outcome:?}"
    );
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

/// Commands out of order, malformed or unknown get the answers aiosmtpd gave,
/// and none of them leaves a message or a refusal behind.
#[test]
fn commands_out_of_turn_get_the_usual_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let mut talk = Talk::connect(server.port());
    assert_eq!(
        talk.say("MAIL FROM:<a@example.org>"),
        "503 Error: send HELO first\r\n"
    );
    assert_eq!(talk.say(""), "500 Error: bad syntax\r\n");
    assert_eq!(talk.say("EHLO"), "501 Syntax: EHLO hostname\r\n");
    assert_eq!(
        features(&talk.say("EHLO client.example")),
        ["8bitmime", "help", "size", "smtputf8"]
    );
    assert_eq!(talk.say("NOOP"), "250 OK\r\n");
    assert_eq!(
        talk.say("RCPT TO:<b@example.org>"),
        "503 Error: need MAIL command\r\n"
    );
    assert_eq!(talk.say("DATA"), "503 Error: need RCPT command\r\n");
    assert_eq!(
        talk.say("MAIL FROM:<a@example.org"),
        "553 5.1.3 Error: malformed address\r\n"
    );
    assert_eq!(
        talk.say("MAIL TO:<a@example.org>"),
        "501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]\r\n"
    );
    assert_eq!(
        talk.say("MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8 SIZE=100"),
        "250 OK\r\n"
    );
    assert_eq!(
        talk.say("MAIL FROM:<a@example.org>"),
        "503 Error: nested MAIL command\r\n"
    );
    assert_eq!(
        talk.say("RCPT TO:<b@example.org> NOTIFY=NEVER"),
        "555 RCPT TO parameters not recognized or not implemented\r\n"
    );
    assert_eq!(talk.say("RSET"), "250 OK\r\n");
    assert_eq!(
        talk.say("RCPT TO:<b@example.org>"),
        "503 Error: need MAIL command\r\n"
    );
    assert_eq!(talk.say("STARTTLS"), "454 TLS not available\r\n");
    // Without credentials configured, no login succeeds.
    assert_eq!(
        talk.say(&format!("AUTH PLAIN {}", BASE64.encode("\0alice\0s3cret"))),
        "535 5.7.8 Authentication credentials invalid\r\n"
    );
    assert_eq!(
        talk.say("VRFY b@example.org"),
        "252 Cannot VRFY user, but will accept message and attempt delivery\r\n"
    );
    assert_eq!(
        talk.say("HELP"),
        "250 Supported commands: AUTH DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET VRFY\r\n"
    );
    assert_eq!(
        talk.say("HELP rcpt"),
        "250 Syntax: RCPT TO: <address> [SP <mail-parameters>]\r\n"
    );
    assert_eq!(talk.say("EXPN staff"), "502 EXPN not implemented\r\n");
    let long = format!("NOOP {}", "x".repeat(600));
    assert_eq!(talk.say(&long), "500 Command line too long\r\n");
    for _ in 0..4 {
        assert_eq!(
            talk.say("XYZZY"),
            "500 Error: command \"XYZZY\" not recognized\r\n"
        );
    }
    assert_eq!(
        talk.say("XYZZY"),
        "502 5.5.1 Too many unrecognized commands, goodbye.\r\n"
    );
    assert!(server.messages().is_empty());
    assert_eq!(server.refusals(), 0);
    assert_eq!(server.log_text(), "");
}

/// AUTH LOGIN and PLAIN by challenge, the client's `*` abort and bad base64;
/// in STARTTLS mode with credentials, nothing but EHLO, NOOP, STARTTLS and
/// QUIT before TLS, and a fresh session after it.
#[test]
fn auth_exchanges_and_the_starttls_gate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Starttls));
    let tls = client_tls(server.ca_pem());
    let mut talk = Talk::connect(server.port());
    assert_eq!(
        talk.say("HELO client.example"),
        "530 Must issue a STARTTLS command first\r\n"
    );
    assert_eq!(
        talk.say("AUTH LOGIN"),
        "530 Must issue a STARTTLS command first\r\n"
    );
    assert_eq!(talk.say("NOOP"), "250 OK\r\n");
    let ehlo = talk.say("EHLO client.example");
    assert_eq!(
        features(&ehlo),
        ["8bitmime", "help", "size", "smtputf8", "starttls"]
    );
    assert_eq!(talk.say("STARTTLS"), "220 Ready to start TLS\r\n");
    let mut talk = talk
        .starttls("localhost", &tls)
        .expect("TLS after STARTTLS");
    // The greeting before TLS does not count after it (RFC 3207 §4.2).
    assert_eq!(talk.say("AUTH PLAIN"), "503 Error: send EHLO first\r\n");
    let ehlo = talk.say("EHLO client.example");
    assert_eq!(
        features(&ehlo),
        ["8bitmime", "auth", "help", "size", "smtputf8"]
    );
    assert!(ehlo.contains("250-AUTH LOGIN PLAIN\r\n"), "{ehlo}");
    assert_eq!(talk.say("STARTTLS"), "454 TLS not available\r\n");
    assert_eq!(
        talk.say("MAIL FROM:<a@example.org>"),
        "530 5.7.0 Authentication required\r\n"
    );
    assert_eq!(
        talk.say("AUTH CRAM-MD5"),
        "504 5.5.4 Unrecognized authentication type\r\n"
    );
    assert_eq!(talk.say("AUTH LOGIN"), "334 VXNlciBOYW1lAA==\r\n");
    assert_eq!(talk.say("*"), "501 5.7.0 Auth aborted\r\n");
    assert_eq!(talk.say("AUTH PLAIN"), "334 \r\n");
    assert_eq!(talk.say("not base64!"), "501 5.5.2 Can't decode base64\r\n");
    assert_eq!(
        talk.say(&format!(
            "AUTH PLAIN {}",
            BASE64.encode("alice s3cret:pass")
        )),
        "501 5.5.2 Can't split auth value\r\n"
    );
    assert_eq!(talk.say("AUTH PLAIN"), "334 \r\n");
    assert_eq!(
        talk.say(&BASE64.encode("\0alice\0s3cret:pass")),
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(talk.say("AUTH PLAIN"), "503 Already authenticated\r\n");
    assert!(talk.say("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(talk.say("RCPT TO:<b@example.org>").starts_with("250"));
    assert!(talk.say("DATA").starts_with("354"));
    // Dot-stuffing undone. A dot alone before a bare LF does not end the
    // message (only CRLF . CRLF does): it is text, its dot taken as stuffing.
    let reply = talk.say("Subject: dots\r\n\r\n..leading dot\r\n.\nstill text\r\n.");
    assert_eq!(reply, "250 2.0.0 OK queued\r\n");
    assert_eq!(talk.say("QUIT"), "221 Bye\r\n");

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].data,
        "Subject: dots\r\n\r\n.leading dot\r\n\nstill text\r\n"
    );
    assert_eq!(got[0].body(), ".leading dot\n\nstill text\n");
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(got[0].tls);
    assert_eq!(server.log_text(), "");
}

/// The text body of a multipart message is its text/plain part, decoded,
/// wherever it is; a text/html part only stands in when there is none.
#[test]
fn multipart_message_gives_its_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let mut talk = Talk::connect(server.port());
    talk.say("EHLO client.example");
    let messages = [
        "Subject: =?ISO-8859-1?Q?caf=E9?= time\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
         \r\n\
         preamble\r\n\
         --outer\r\n\
         Content-Type: multipart/alternative; boundary=inner\r\n\
         \r\n\
         --inner\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         \r\n\
         <p>html</p>\r\n\
         --inner\r\n\
         Content-Type: text/plain; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         caf=E9 au =\r\n\
         lait\r\n\
         --inner--\r\n\
         --outer\r\n\
         Content-Type: text/plain\r\n\
         Content-Disposition: attachment; filename=notes.txt\r\n\
         \r\n\
         not the body\r\n\
         --outer--\r\n\
         epilogue\r\n",
        "Subject: only html\r\n\
         Content-Type: multipart/alternative; boundary=b\r\n\
         \r\n\
         --b\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         PHA+aMOpPC9wPg==\r\n\
         --b--\r\n",
    ];
    for message in messages {
        assert!(talk.say("MAIL FROM:<a@example.org>").starts_with("250"));
        assert!(talk.say("RCPT TO:<b@example.org>").starts_with("250"));
        assert!(talk.say("DATA").starts_with("354"));
        assert!(talk.say(&format!("{message}.")).starts_with("250"));
    }
    let got = server.wait_for(2, Duration::from_secs(5));
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].subject(), "café time");
    assert_eq!(got[0].body(), "café au lait");
    assert_eq!(got[1].subject(), "only html");
    assert_eq!(got[1].body(), "<p>hé</p>");
}

/// A server stopped and started again on its port takes connections there
/// again, as keyward's retries after an outage expect.
#[test]
fn a_server_comes_back_on_its_port() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = SmtpServer::start(dir.path(), SmtpOptions::default());
    let port = first.port();
    let mut talk = Talk::connect(port);
    assert_eq!(talk.say("QUIT"), "221 Bye\r\n");
    first.stop();
    let again = tempfile::tempdir().expect("temp dir");
    let second = SmtpServer::start(
        again.path(),
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    assert_eq!(second.port(), port);
    assert_eq!(send(port, Spec::default()).result, Ok(()));
    assert_eq!(second.wait_for(1, Duration::from_secs(5)).len(), 1);
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
    let ca = server.ca_pem().expect("a CA for STARTTLS");
    let outcome = send(
        server.port(),
        Spec {
            mode: Mode::Starttls,
            host: "localhost",
            ca: Some(ca),
            login: Some(("alice", "s3cret:pass")),
            ..Spec::default()
        },
    );
    assert_eq!(outcome.result, Ok(()), "{outcome:?}");
    // Before TLS: no AUTH offered and no mail taken.
    assert_eq!(outcome.mail_before_tls, Some(530), "{outcome:?}");
    assert!(
        outcome.features.contains(&"starttls".to_owned()),
        "{outcome:?}"
    );
    assert!(
        !outcome.features.contains(&"auth".to_owned()),
        "{outcome:?}"
    );
    assert!(
        outcome.features_after_tls.contains(&"auth".to_owned()),
        "{outcome:?}"
    );

    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(got[0].tls);
    // A conversation that went as SMTP says leaves nothing in the log.
    assert_eq!(server.log_text(), "");
}

#[test]
fn starttls_wrong_password_gets_535() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Starttls));
    let ca = server.ca_pem().expect("a CA");
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let outcome = send(
            server.port(),
            Spec {
                mode: Mode::Starttls,
                host: "localhost",
                ca: Some(ca),
                mechanism,
                login: Some(("alice", "wrong")),
                ..Spec::default()
            },
        );
        assert_eq!(
            outcome.result,
            Err(Failure::Refused {
                at: "AUTH",
                code: 535
            }),
            "{mechanism:?}: {outcome:?}"
        );
    }
    assert!(server.messages().is_empty());
    // A refused login is an answer, not a fault: nothing in the log.
    assert_eq!(server.log_text(), "");
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
    let outcome = send(
        server.port(),
        Spec {
            mode: Mode::Starttls,
            host: "localhost",
            ..Spec::default()
        },
    );
    assert_eq!(
        outcome.result,
        Err(Failure::Tls(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))),
        "{outcome:?}"
    );
    // The server logs the client's refusal of its certificate: the
    // unknown_ca alert (RFC 8446 §6.2), in rustls's words. Its thread reads
    // the alert after the client has gone, so it may take a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut log = server.log_text();
    while !log.contains("received fatal alert: UnknownCA") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        log = server.log_text();
    }
    assert!(log.contains("received fatal alert: UnknownCA"), "{log}");
}

#[test]
fn implicit_tls_with_auth_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Tls));
    let ca = server.ca_pem().expect("a CA for TLS");
    // By IP address: the certificate names 127.0.0.1 too.
    let outcome = send(
        server.port(),
        Spec {
            mode: Mode::Tls,
            host: "127.0.0.1",
            ca: Some(ca),
            mechanism: Mechanism::Login,
            login: Some(("alice", "s3cret:pass")),
            ..Spec::default()
        },
    );
    assert_eq!(outcome.result, Ok(()), "{outcome:?}");
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(got[0].tls);
    assert_eq!(server.log_text(), "");
}

#[test]
fn plain_with_auth_requires_it_without_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), with_auth(Mode::Plain));
    let outcome = send(server.port(), Spec::default());
    assert_eq!(
        outcome.result,
        Err(Failure::Refused {
            at: "MAIL",
            code: 530
        }),
        "{outcome:?}"
    );
    let outcome = send(
        server.port(),
        Spec {
            login: Some(("alice", "s3cret:pass")),
            ..Spec::default()
        },
    );
    assert_eq!(outcome.result, Ok(()), "{outcome:?}");
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].auth_user.as_deref(), Some("alice"));
    assert!(!got[0].tls);
    assert_eq!(server.log_text(), "");
}

/// The chain is what rustls wants: a v3 CA, a leaf with subjectAltName and
/// serverAuth, valid for both names the tests connect by. Checked by the
/// verifier rustls clients (keyward's among them) use, then by handshakes.
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
    let leaf = CertificateDer::from_pem_file(dir.path().join("smtp-server.pem"))
        .expect("the server's certificate");
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).expect("the CA certificate"))
        .expect("a CA certificate rustls takes");
    let roots = Arc::new(roots);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    )
    .build()
    .expect("a server verifier");
    let localhost = ServerName::try_from("localhost").expect("a name");
    let loopback = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    for name in [&localhost, &loopback] {
        verifier
            .verify_server_cert(&leaf, &[], name, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("the certificate as {name:?}: {e}"));
    }
    // Not for any name but those two.
    let other = ServerName::try_from("mail.example.org").expect("a name");
    assert!(matches!(
        verifier.verify_server_cert(&leaf, &[], &other, &[], UnixTime::now()),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ))
    ));
    // The extended key usage is there and says server, not client: as a
    // client certificate it is refused for its purpose.
    let client_verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
            .build()
            .expect("a client verifier");
    assert!(matches!(
        client_verifier.verify_client_cert(&leaf, &[], UnixTime::now()),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }
        ))
    ));
    // And a real handshake by each name.
    let tls = client_tls(Some(ca));
    for host in ["localhost", "127.0.0.1"] {
        let mut talk = Talk::connect_tls(server.port(), host, &tls)
            .unwrap_or_else(|e| panic!("TLS as {host}: {e}"));
        assert!(talk.say("QUIT").starts_with("221"));
    }
    assert_eq!(server.log_text(), "");
}

#[test]
fn stopped_server_and_free_port_refuse_connections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = SmtpServer::start(dir.path(), SmtpOptions::default());
    let port = server.port();
    // A client still connected does not hold up the stop, nor make noise.
    let _talk = Talk::connect(port);
    server.stop();
    let log = std::fs::read_to_string(dir.path().join("smtp.log")).expect("log file");
    assert_eq!(log, "");
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
    let start = Instant::now();
    assert!(server.wait_for(1, Duration::from_millis(200)).is_empty());
    assert!(start.elapsed() >= Duration::from_millis(200));
}
