//! A real SMTP server on loopback for tests of sending mail, running on threads
//! of the test process: it listens on 127.0.0.1, speaks SMTP as aiosmtpd does
//! (the server these tests used before, so what they check did not change),
//! with STARTTLS or implicit TLS through rustls and a CA that rcgen makes, and
//! keeps what it accepted and refused for the test to read. Its log and the
//! CA certificate go to files in the test's directory. Waiting is by polling
//! against a deadline, never by timing.
#![allow(dead_code)]

mod conversation;
mod mime;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long between looks at what the server received.
const POLL: Duration = Duration::from_millis(20);

/// How the server speaks on its port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Cleartext only; no STARTTLS offered.
    #[default]
    Plain,
    /// Cleartext that offers STARTTLS (port 587 style); with `auth`, every
    /// command but EHLO, NOOP, STARTTLS and QUIT needs STARTTLS first.
    Starttls,
    /// TLS from the first byte (port 465 style).
    Tls,
}

/// The command a configured refusal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyAt {
    /// Every `RCPT TO`, so no recipient is accepted.
    Rcpt,
    /// Every end of `DATA`, after the whole message was sent.
    Data,
}

/// What kind of server to start; `Default` is plain, no AUTH, accepting all.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    pub mode: Mode,
    /// AUTH (PLAIN and LOGIN) required with this login and password. Wrong
    /// credentials get `535 5.7.8`. Offered without TLS in `Mode::Plain` and
    /// `Mode::Tls`, only after STARTTLS in `Mode::Starttls`; without it, no
    /// AUTH is offered at all (and any attempt gets `535`).
    pub auth: Option<(String, String)>,
    /// Refuse instead of accepting: the full reply line, such as
    /// `451 4.3.0 try again later`, and the command it answers.
    pub reply: Option<(String, ReplyAt)>,
    /// Listen on this port (a server coming back where one was down);
    /// `None` lets the kernel pick one.
    pub port: Option<u16>,
    /// Wait this long before answering each end of `DATA`: a slow server,
    /// under which two senders are surely sending at the same time.
    pub pause: Option<Duration>,
}

/// What the conversations share with the test: the settings, and what the
/// server received.
struct Shared {
    opts: SmtpOptions,
    /// The TLS side for the two TLS modes.
    tls: Option<Arc<rustls::ServerConfig>>,
    messages: Mutex<Vec<Received>>,
    /// One line per refused command: `RCPT <address>` or `DATA`.
    refusals: Mutex<Vec<String>>,
    log: Mutex<File>,
    /// Set by `stop`: the acceptor ends, and conversations cut short by it
    /// are not failures worth a log line.
    stopping: AtomicBool,
    /// A handle on every open connection, so `stop` can cut them: a client
    /// that never says QUIT must not hold the server up.
    open: Mutex<HashMap<u64, TcpStream>>,
}

impl Shared {
    /// Adds a line to the server's log, the file tests read on failure.
    fn log(&self, line: &str) {
        // Nowhere better to say that the log cannot be written.
        let _ = writeln!(lock(&self.log), "smtp: {line}");
    }
}

/// A lock that a panicked conversation did not poison for the others: what
/// it guards is appended to whole, never left half-changed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running server; stopped when dropped.
pub struct SmtpServer {
    port: u16,
    ca: Option<PathBuf>,
    log: PathBuf,
    shared: Arc<Shared>,
    /// The accepting thread, which hands back its conversations' threads.
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl SmtpServer {
    /// Starts a server listening on 127.0.0.1, whose files (its log
    /// `smtp.log`, and for the TLS modes the CA `smtp-ca.pem` and server
    /// certificate `smtp-server.pem`) go under `dir`. It listens when this
    /// returns. Panics if the port cannot be had or the options make no sense.
    /// One server per directory: the file names are fixed.
    pub fn start(dir: &Path, opts: SmtpOptions) -> SmtpServer {
        if let Some((reply, _)) = &opts.reply {
            let b = reply.as_bytes();
            assert!(
                b.len() >= 3
                    && (b'2'..=b'5').contains(&b[0])
                    && b[1..3].iter().all(u8::is_ascii_digit)
                    && (b.len() == 3 || b[3] == b' '),
                "the reply is a reply line, such as '451 4.3.0 try again later': {reply:?}"
            );
        }
        let (ca, tls) = match opts.mode {
            Mode::Plain => (None, None),
            Mode::Starttls | Mode::Tls => {
                let (ca, config) = make_certificates(dir);
                (Some(ca), Some(Arc::new(config)))
            }
        };
        let log = dir.join("smtp.log");
        let log_file = File::create(&log).expect("create the SMTP server's log file");
        // std sets SO_REUSEADDR on Unix: a fixed port may still be in
        // TIME_WAIT from the server that had it before.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port.unwrap_or(0)))
            .unwrap_or_else(|e| panic!("SMTP server cannot listen on {:?}: {e}", opts.port));
        let port = listener
            .local_addr()
            .expect("the SMTP server's own address")
            .port();
        let shared = Arc::new(Shared {
            opts,
            tls,
            messages: Mutex::new(Vec::new()),
            refusals: Mutex::new(Vec::new()),
            log: Mutex::new(log_file),
            stopping: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("smtp-accept-{port}"))
                .spawn(move || accept(&shared, &listener))
                .expect("start the SMTP server's thread")
        };
        SmtpServer {
            port,
            ca,
            log,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The loopback port it listens on (at 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// For `Mode::Starttls` and `Mode::Tls`: the CA certificate (PEM) a client
    /// must trust to accept the server as `localhost` or `127.0.0.1`.
    pub fn ca_pem(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.shared.messages).clone()
    }

    /// Waits until at least `n` messages were accepted or `deadline` passes,
    /// then returns them all (so the caller asserts on what arrived).
    pub fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n || start.elapsed() > deadline {
                return messages;
            }
            std::thread::sleep(POLL);
        }
    }

    /// How many commands were refused with the configured reply, which shows
    /// the server was contacted even though it accepted nothing.
    pub fn refusals(&self) -> usize {
        lock(&self.shared.refusals).len()
    }

    /// What the server logged so far: failed TLS handshakes, broken
    /// connections. A conversation that went as SMTP says logs nothing.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server: closes its port, cuts the connections still open and
    /// waits for their threads; afterwards nothing listens on `port()`.
    /// Panics if one of its threads panicked.
    pub fn stop(mut self) {
        if let Err(why) = self.shut_down() {
            panic!("{why}; the SMTP server's log:\n{}", self.log_text());
        }
    }

    fn shut_down(&mut self) -> Result<(), String> {
        let Some(acceptor) = self.acceptor.take() else {
            return Ok(());
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The acceptor waits in accept(): a connection of our own wakes it to
        // see the flag. If none can be made, it is not listening anyway.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(5),
        );
        let conversations = acceptor
            .join()
            .map_err(|_| "the SMTP server's accepting thread panicked".to_owned())?;
        // The acceptor is gone, so no connection is added after this look.
        for (_, stream) in lock(&self.shared.open).drain() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        let mut panicked = 0;
        for conversation in conversations {
            if conversation.join().is_err() {
                panicked += 1;
            }
        }
        if panicked > 0 {
            return Err(format!("{panicked} SMTP conversation thread(s) panicked"));
        }
        Ok(())
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // A test that failed is already unwinding; one that passed asked for
        // nothing more than that the port be closed.
        let _ = self.shut_down();
    }
}

/// Accepts connections until `stop`, one thread per conversation; returns
/// all those threads (a test makes few), for `stop` to see none panicked.
fn accept(shared: &Arc<Shared>, listener: &TcpListener) -> Vec<JoinHandle<()>> {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) if shared.stopping.load(Ordering::SeqCst) => break,
            Err(e) => {
                shared.log(&format!("accept: {e}"));
                // Out of descriptors, say: give the conversations time to end.
                std::thread::sleep(POLL);
                continue;
            }
        };
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        match stream.try_clone() {
            Ok(handle) => {
                lock(&shared.open).insert(id, handle);
            }
            Err(e) => {
                shared.log(&format!("keep a handle on a connection: {e}"));
                continue;
            }
        }
        let conversation = {
            let shared = Arc::clone(shared);
            std::thread::Builder::new()
                .name(format!("smtp-conversation-{id}"))
                .spawn(move || {
                    conversation::serve(&shared, stream);
                    lock(&shared.open).remove(&id);
                })
        };
        match conversation {
            Ok(thread) => threads.push(thread),
            Err(e) => {
                shared.log(&format!("start a conversation's thread: {e}"));
                lock(&shared.open).remove(&id);
            }
        }
    }
    threads
}

/// One accepted message, as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub rcpt_tos: Vec<String>,
    /// The whole message, headers and body, as sent (CRLF line ends, dot
    /// stuffing undone), decoded as UTF-8 with bad bytes replaced.
    pub data: String,
    /// The login it authenticated as, if it did.
    pub auth_user: Option<String>,
    /// Whether the message came over TLS (implicit or after STARTTLS).
    pub tls: bool,
    /// The message's bytes, which the decoding of `subject` and `body` reads.
    raw: Vec<u8>,
}

impl Received {
    /// The first header called `name` (any case), unfolded (continuation
    /// lines joined, as RFC 5322 says) and trimmed, but not otherwise decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for line in self.data.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((field, value)) = line.split_once(':')
                && field.trim_end().eq_ignore_ascii_case(name)
            {
                found = Some(value.to_owned());
            }
        }
        found.map(|value| value.trim().to_owned())
    }

    /// The text body: the text/plain part (or else text/html) with its
    /// Content-Transfer-Encoding (quoted-printable, base64) undone and its
    /// charset decoded; LF line ends.
    pub fn body(&self) -> String {
        mime::text_body(&self.raw).replace("\r\n", "\n")
    }

    /// The Subject with RFC 2047 encoded words decoded, unfolded; empty if
    /// there is none.
    pub fn subject(&self) -> String {
        mime::subject(&self.raw)
    }
}

/// A loopback port nothing listens on, for "the server is down" tests: the
/// kernel picks a free one, which is released again at once.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// A CA and a server certificate it signs, for `localhost` and `127.0.0.1`:
/// writes the CA (`smtp-ca.pem`, for clients to trust) and the server's
/// certificate (`smtp-server.pem`) to `dir`, and returns the CA's path and
/// the server's TLS side. rustls accepts no self-signed end-entity
/// certificate, so this is a real chain: an X.509 v3 CA (basicConstraints
/// CA:TRUE, keyCertSign) and a v3 leaf with subjectAltName and the serverAuth
/// extended key usage. P-256 keys, as they are made in milliseconds.
fn make_certificates(dir: &Path) -> (PathBuf, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().expect("make the test CA's key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "keyward test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("sign the test CA");

    let server_key = KeyPair::generate().expect("make the server's key");
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into().expect("an IA5 name")),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ];
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let issuer = Issuer::new(ca, ca_key);
    let server_cert = leaf
        .signed_by(&server_key, &issuer)
        .expect("sign the server's certificate");

    let ca_path = dir.join("smtp-ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).expect("write the test CA");
    std::fs::write(dir.join("smtp-server.pem"), server_cert.pem())
        .expect("write the server's certificate");

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("rustls's default protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![server_cert.der().clone()], key)
    .expect("the server's certificate and key go together");
    (ca_path, config)
}
