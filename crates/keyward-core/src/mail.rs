//! Mail delivery of the outbox (SPEC §5, §8): SMTP through lettre, with
//! STARTTLS or TLS and AUTH, or a sendmail-compatible command. A transport
//! sends one message and says how it failed: for a passing reason (the server
//! is down, a 4xx answer), or a lasting one that an admin should look at.

use crate::config::{NotifyConfig, SmtpTls};
use crate::domain::outbox::OutboxMessage;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, SmtpTransport, Transport as _};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use zeroize::Zeroizing;

/// How long one SMTP conversation or one sendmail run may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message did not go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// Retrying alone will not help: a 5xx answer, a refused login, a bad
    /// configuration. It is retried all the same, since nothing is dropped.
    pub lasting: bool,
    /// About the server or the configuration, not this message: the next
    /// message would fail the same way.
    pub server_wide: bool,
}

impl SendError {
    /// A lasting failure of this message alone.
    fn lasting(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            lasting: true,
            server_wide: false,
        }
    }

    /// A lasting failure of the configuration, which every message meets.
    fn setup(message: impl Into<String>) -> SendError {
        SendError {
            server_wide: true,
            ..SendError::lasting(message)
        }
    }

    fn passing(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            lasting: false,
            server_wide: false,
        }
    }
}

/// A way of sending the outbox's messages.
pub trait Transport: Send {
    /// How messages go out, recorded on each message sent: `smtp HOST:PORT`
    /// or `sendmail`.
    fn via(&self) -> String;

    /// Sends one message, dated `now`.
    fn send(&mut self, message: &OutboxMessage, now: SystemTime) -> Result<(), SendError>;
}

/// The transport the configuration describes.
pub fn transport(config: &NotifyConfig) -> Box<dyn Transport> {
    match (&config.sendmail, &config.smtp_host) {
        (Some(command), _) => Box::new(Sendmail {
            from: config.from.clone(),
            command: command.clone(),
            deadline: SEND_TIMEOUT,
        }),
        (None, Some(host)) => Box::new(Smtp {
            config: config.clone(),
            host: host.clone(),
            transport: None,
        }),
        // The configuration refuses a [notify] table with neither.
        (None, None) => Box::new(Sendmail {
            from: config.from.clone(),
            command: String::new(),
            deadline: SEND_TIMEOUT,
        }),
    }
}

/// The message as it goes on the wire: headers, and the body as UTF-8 text.
pub fn compose(from: &str, m: &OutboxMessage, now: SystemTime) -> Result<Message, SendError> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| SendError::lasting(format!("the from address {from:?}: {e}")))?;
    let address: Address = m.recipient_email.parse().map_err(|e| {
        SendError::lasting(format!(
            "the address {:?} of {}: {e}",
            m.recipient_email, m.recipient_login
        ))
    })?;
    let domain = from.email.domain().to_owned();
    // A header holds one line: a name or subject with a line break (or any
    // control character) would make the message unwritable and stop every
    // message queued behind it. Such characters go in as visible escapes.
    let header = |s: &str| crate::safe_text::escape_message(s).into_owned();
    Message::builder()
        .from(from)
        .to(Mailbox::new(Some(header(&m.recipient_name)), address))
        .subject(header(&m.subject))
        .date(now)
        // The same id on every attempt, so a message delivered twice after a
        // crash can be recognised as one.
        .message_id(Some(format!(
            "<keyward.{}.{}@{domain}>",
            m.created_at, m.id
        )))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Keyward-Event"),
            m.event.clone(),
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| SendError::lasting(format!("the message cannot be built: {e}")))
}

struct Smtp {
    config: NotifyConfig,
    host: String,
    /// Built on first use, so a bad password source or CA file is recorded on
    /// the messages rather than stopping the run.
    transport: Option<SmtpTransport>,
}

impl Smtp {
    fn build(&self) -> Result<SmtpTransport, SendError> {
        let c = &self.config;
        let mut tls = TlsParameters::builder(self.host.clone());
        if let Some(path) = &c.smtp_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                SendError::setup(format!("cannot read smtp_ca_file {}: {e}", path.display()))
            })?;
            let certs = pem_certificates(&pem);
            if certs.is_empty() {
                return Err(SendError::setup(format!(
                    "smtp_ca_file {} holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                let cert = Certificate::from_pem(&cert).map_err(|e| {
                    SendError::setup(format!("smtp_ca_file {}: {e}", path.display()))
                })?;
                tls = tls.add_root_certificate(cert);
            }
        }
        let params = || {
            tls.clone()
                .build_rustls()
                .map_err(|e| SendError::setup(format!("TLS setup: {e}")))
        };
        let mode = match c.smtp_tls {
            SmtpTls::Starttls => Tls::Required(params()?),
            SmtpTls::Tls => Tls::Wrapper(params()?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = SmtpTransport::builder_dangerous(self.host.clone())
            .port(c.smtp_port)
            .tls(mode)
            .timeout(Some(SEND_TIMEOUT));
        if let Some(user) = &c.smtp_user {
            // A password in clear text crosses only this host.
            if c.smtp_tls == SmtpTls::None && !is_loopback(&self.host) {
                return Err(SendError::setup(format!(
                    "smtp_tls = \"none\" with smtp_user would send the password in clear text to {}; use starttls or tls (clear text is allowed to this host only)",
                    self.host
                )));
            }
            let password = smtp_password(c)?;
            builder = builder.credentials(Credentials::new(user.clone(), password.to_string()));
        }
        Ok(builder.build())
    }
}

impl Transport for Smtp {
    fn via(&self) -> String {
        format!("smtp {}:{}", self.host, self.config.smtp_port)
    }

    fn send(&mut self, message: &OutboxMessage, now: SystemTime) -> Result<(), SendError> {
        let email = compose(&self.config.from, message, now)?;
        if self.transport.is_none() {
            self.transport = Some(self.build()?);
        }
        let Some(transport) = &self.transport else {
            return Err(SendError::setup("the SMTP transport could not be built"));
        };
        let via = self.via();
        let sent = transport.send(&email);
        if sent.is_err() {
            // A refused message may leave the connection in a state that
            // fails every message after it: the next one starts afresh.
            self.transport = None;
        }
        sent.map(drop).map_err(|e| {
            // A 4xx answer, a timeout or a closed connection may pass; a 5xx
            // answer, a TLS failure or a refused login will not by itself.
            let lasting = e.is_permanent() || e.is_tls() || e.is_client() || tls_refused(&e);
            // No reply code: the server could not be reached or spoken to. And
            // these codes refuse the session, not the message: 421 closing,
            // 454 TLS or auth unavailable, 530 auth required, 534/535 auth refused.
            let code = e.status().map(|c| c.to_string());
            let server_wide = code
                .as_deref()
                .is_none_or(|c| matches!(c, "421" | "454" | "530" | "534" | "535"));
            // A read timeout reaches lettre as EAGAIN: say what it means.
            let message = if timed_out(&e) {
                format!(
                    "{via}: no answer within {} s (timed out)",
                    SEND_TIMEOUT.as_secs()
                )
            } else {
                format!("{via}: {e}")
            };
            SendError {
                message,
                lasting,
                server_wide,
            }
        })
    }
}

/// Whether the server stopped answering: a timeout, or the EAGAIN a socket
/// read timeout gives.
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return true;
            }
        }
        cause = c.source();
    }
    e.is_timeout()
}

/// Whether the TLS handshake failed (an untrusted or mismatched certificate, a
/// protocol the server does not speak): lettre reports it as a network error,
/// with rustls's error inside the I/O error it carries.
fn tls_refused(e: &lettre::transport::smtp::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if inner.is::<rustls::Error>() {
                return true;
            }
        }
        cause = c.source();
    }
    false
}

/// The most a password file may hold.
const MAX_PASSWORD_FILE: u64 = 1024;

/// Whether `host` is this host: `localhost`, or a loopback address.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The password from the environment variable or the file the configuration
/// names, read when mail is sent and wiped when dropped.
fn smtp_password(c: &NotifyConfig) -> Result<Zeroizing<String>, SendError> {
    if let Some(var) = &c.smtp_password_env {
        return match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(Zeroizing::new(p)),
            _ => Err(SendError::setup(format!(
                "the SMTP password variable {var} (smtp_password_env) is not set"
            ))),
        };
    }
    if let Some(path) = &c.smtp_password_file {
        // A password file is one short line, its owner's alone to change:
        // `/etc/shadow` or a file others may edit is never sent as a password.
        let meta = std::fs::metadata(path).map_err(|e| {
            SendError::setup(format!(
                "cannot read the SMTP password file {} (smtp_password_file): {e}",
                path.display()
            ))
        })?;
        let refused = |why: String| {
            SendError::setup(format!(
                "the SMTP password file {} (smtp_password_file) is refused: {why}",
                path.display()
            ))
        };
        if !meta.is_file() || meta.len() > MAX_PASSWORD_FILE {
            return Err(refused(format!(
                "it must be a file of one line, at most {MAX_PASSWORD_FILE} bytes"
            )));
        }
        if let Some(why) = crate::access::untrusted(&meta) {
            return Err(refused(why));
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            SendError::setup(format!(
                "cannot read the SMTP password file {} (smtp_password_file): {e}",
                path.display()
            ))
        })?);
        let password = text.trim_end_matches(['\n', '\r']);
        if password.contains(['\n', '\r']) {
            return Err(refused("it holds more than one line".to_owned()));
        }
        if password.is_empty() {
            return Err(SendError::setup(format!(
                "the SMTP password file {} is empty",
                path.display()
            )));
        }
        return Ok(Zeroizing::new(password.to_owned()));
    }
    Err(SendError::setup(
        "smtp_user is set but no password source is",
    ))
}

/// Each `-----BEGIN CERTIFICATE-----` block of a PEM bundle.
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        out.push(format!("{}\n", &rest[start..end]).into_bytes());
        rest = &rest[end..];
    }
    out
}

/// A sendmail-compatible command: the message on standard input; the
/// recipient from the To: header with `-t`, else as the last argument.
struct Sendmail {
    from: String,
    command: String,
    /// How long one message may take, from start to finish: writing it,
    /// the command's run and its error output.
    deadline: Duration,
}

impl Transport for Sendmail {
    fn via(&self) -> String {
        "sendmail".to_owned()
    }

    fn send(&mut self, message: &OutboxMessage, now: SystemTime) -> Result<(), SendError> {
        let email = compose(&self.from, message, now)?;
        let mut words = shell_words::split(&self.command)
            .map_err(|e| SendError::setup(format!("the sendmail command: {e}")))?;
        if words.is_empty() {
            return Err(SendError::setup("the sendmail command is empty"));
        }
        if !words.iter().any(|w| w == "-t") {
            // Checked by lettre's address parser, but an address is never
            // allowed to look like an option.
            if message.recipient_email.starts_with('-') {
                return Err(SendError::lasting(format!(
                    "the address {:?} cannot be given to a command",
                    message.recipient_email
                )));
            }
            words.push(message.recipient_email.clone());
        }
        let program = words.remove(0);
        // In a process group of its own, so the deadline ends everything it
        // started: a grandchild holding the pipes open made the "deadline"
        // as long as the grandchild lived.
        let mut child = Command::new(&program)
            .args(&words)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| SendError::setup(format!("sendmail: cannot run {program}: {e}")))?;
        let until = Instant::now() + self.deadline;
        // The message is written, and the errors read, beside the wait: a
        // command that reads neither could otherwise hang the run forever.
        let body = email.formatted();
        let writer = child
            .stdin
            .take()
            .map(|mut stdin| std::thread::spawn(move || stdin.write_all(&body)));
        let (said_tx, said_rx) = std::sync::mpsc::channel();
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = err.take(64 * 1024).read_to_string(&mut text);
                let _ = said_tx.send(text);
            });
        }
        let status = wait_until(&mut child, until)
            .map_err(|e| SendError::passing(format!("sendmail: {program}: {e}")))?;
        // What the command said: at once once it ended (its pipes close),
        // however long a leftover holds them, never past the deadline.
        let grace = until
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(1));
        let stderr = said_rx.recv_timeout(grace).unwrap_or_default();
        let written = match writer {
            Some(w) if w.is_finished() => w.join().unwrap_or(Ok(())),
            Some(_) => Err(std::io::Error::other("it did not read the whole message")),
            None => Ok(()),
        };
        let said = crate::safe_text::escape(stderr.trim());
        let said: String = said.chars().take(300).collect();
        match status {
            Some(status) if status.success() => match written {
                Ok(()) => Ok(()),
                Err(e) => Err(SendError::passing(format!(
                    "sendmail: {program} did not read the message: {e}"
                ))),
            },
            Some(status) => {
                // sysexits.h: 75 is EX_TEMPFAIL, "try again later".
                let passing = status.code() == Some(75);
                let text = match status.code() {
                    Some(code) => format!("sendmail: {program} exited with {code}"),
                    None => format!("sendmail: {program} was killed by a signal"),
                };
                let text = if said.is_empty() {
                    text
                } else {
                    format!("{text}: {said}")
                };
                Err(SendError {
                    message: text,
                    lasting: !passing,
                    server_wide: false,
                })
            }
            None => Err(SendError::passing(format!(
                "sendmail: {program} did not finish within {} s and was stopped",
                self.deadline.as_secs()
            ))),
        }
    }
}

/// Waits for `child` until `until`; past it, kills its whole process group
/// (it leads one) and answers `None`.
fn wait_until(
    child: &mut std::process::Child,
    until: Instant,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= until {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `keyward notifications send --quiet` for the store at `db`, with
/// the same configuration file and login, in its own process group with no
/// terminal, so it neither delays nor disturbs the program that started it and
/// goes on if that one ends. The caller may wait for the child to learn when it
/// is done, or drop it.
pub fn spawn_delivery(
    db: &crate::store::Location,
    config: Option<&std::path::Path>,
    act_as: Option<&str>,
) -> std::io::Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    db.for_child(&mut cmd);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    if let Some(login) = act_as {
        cmd.arg("--as").arg(login);
    }
    cmd.args(["notifications", "send", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> OutboxMessage {
        let op = crate::domain::model::Operator {
            login: "ana".into(),
            name: "Ana Lima".into(),
            email: "ana@example.org".into(),
            role: crate::domain::model::Role::Admin,
            created_at: 0,
        };
        let mut m = OutboxMessage::new(
            1_700_000_000,
            "created",
            vec!["3fQa9LzX".into()],
            &op,
            "[keyward] API key created: café".into(),
            "A key was made.\n".into(),
        );
        m.id = 42;
        m
    }

    #[test]
    fn every_control_character_in_a_name_or_subject_still_makes_a_writable_message() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_100);
        let controls = (0u32..0x20)
            .chain([0x7f])
            .chain(0x80..0xa0)
            .chain([0x2028, 0x2029, 0x202e])
            .filter_map(char::from_u32);
        for c in controls {
            let mut m = message();
            m.recipient_name = format!("Zed{c}Newline\r\n");
            m.subject = format!("[keyward] API key created: a{c}b");
            let email = compose("keyward@example.org", &m, now)
                .unwrap_or_else(|e| panic!("U+{:04X}: {e:?}", u32::from(c)));
            let text = String::from_utf8(email.formatted()).unwrap();
            let (headers, _) = text.split_once("\r\n\r\n").unwrap();
            for line in headers.split("\r\n") {
                assert!(
                    !line.chars().any(|h| h.is_control() && h != '\t'),
                    "U+{:04X} reached a header raw: {line:?}",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn a_composed_message_has_the_recipient_a_stable_id_and_the_body() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_100);
        let email = compose("keyward@example.org", &message(), now).unwrap();
        let text = String::from_utf8(email.formatted()).unwrap();
        assert!(
            text.contains("To: \"Ana Lima\" <ana@example.org>"),
            "{text}"
        );
        assert!(text.contains("From: keyward@example.org"), "{text}");
        assert!(
            text.contains("Message-ID: <keyward.1700000000.42@example.org>"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
        assert!(text.contains("X-Keyward-Event: created"), "{text}");
        assert!(text.contains("A key was made."), "{text}");
        assert_eq!(email.envelope().to(), ["ana@example.org".parse().unwrap()]);
    }

    #[test]
    fn a_bad_address_is_a_lasting_failure() {
        let mut m = message();
        m.recipient_email = "not an address".into();
        let err = compose("keyward@example.org", &m, SystemTime::UNIX_EPOCH).unwrap_err();
        assert!(err.lasting);
        assert!(err.message.contains("not an address"), "{}", err.message);
    }

    #[test]
    fn a_pem_bundle_splits_into_its_certificates() {
        let pem = b"junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
        let certs = pem_certificates(pem);
        assert_eq!(certs.len(), 2);
        assert!(String::from_utf8_lossy(&certs[1]).contains("BBBB"));
        assert!(pem_certificates(b"no certificates").is_empty());
    }

    #[test]
    fn the_password_comes_from_the_named_variable_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let mut c = NotifyConfig {
            from: "keyward@example.org".into(),
            smtp_host: Some("localhost".into()),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_user: Some("kw".into()),
            smtp_password_env: None,
            smtp_password_file: Some(file.clone()),
            smtp_ca_file: None,
            sendmail: None,
        };
        assert_eq!(smtp_password(&c).unwrap().as_str(), "s3cret");
        std::fs::write(&file, "\n").unwrap();
        assert!(smtp_password(&c).unwrap_err().message.contains("empty"));
        c.smtp_password_file = None;
        c.smtp_password_env = Some("KEYWARD_TEST_SURELY_UNSET_PASSWORD".into());
        let err = smtp_password(&c).unwrap_err();
        assert!(err.lasting && err.message.contains("KEYWARD_TEST_SURELY_UNSET_PASSWORD"));
    }

    #[test]
    fn a_password_file_is_one_short_line_only_its_owner_may_change() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        let c = NotifyConfig {
            from: "keyward@example.org".into(),
            smtp_host: Some("localhost".into()),
            smtp_port: 25,
            smtp_tls: SmtpTls::Starttls,
            smtp_user: Some("kw".into()),
            smtp_password_env: None,
            smtp_password_file: Some(file.clone()),
            smtp_ca_file: None,
            sendmail: None,
        };
        // Like /etc/shadow: many lines.
        std::fs::write(&file, "root:x:1:\nana:y:2:\n").unwrap();
        let e = smtp_password(&c).unwrap_err();
        assert!(e.message.contains("more than one line"), "{}", e.message);
        std::fs::write(&file, "x".repeat(5000)).unwrap();
        let e = smtp_password(&c).unwrap_err();
        assert!(e.message.contains("at most 1024 bytes"), "{}", e.message);
        std::fs::write(&file, "s3cret\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = smtp_password(&c).unwrap_err();
        assert!(e.message.contains("lets others change it"), "{}", e.message);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(smtp_password(&c).unwrap().as_str(), "s3cret");
    }

    #[test]
    fn a_password_goes_in_clear_text_only_to_this_host() {
        let c = |host: &str| Smtp {
            config: NotifyConfig {
                from: "keyward@example.org".into(),
                smtp_host: Some(host.into()),
                smtp_port: 25,
                smtp_tls: SmtpTls::None,
                smtp_user: Some("kw".into()),
                smtp_password_env: Some("KEYWARD_TEST_PW_FOR_CLEAR_TEXT".into()),
                smtp_password_file: None,
                smtp_ca_file: None,
                sendmail: None,
            },
            host: host.into(),
            transport: None,
        };
        let e = c("mail.example.org").build().unwrap_err();
        assert!(e.message.contains("clear text"), "{}", e.message);
        for local in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            // Past the clear-text rule: what stops it now is the unset variable.
            let e = c(local).build().unwrap_err();
            assert!(
                e.message.contains("KEYWARD_TEST_PW_FOR_CLEAR_TEXT"),
                "{local}: {}",
                e.message
            );
        }
    }

    /// Every way a command can outlast its deadline ends at the deadline: a
    /// grandchild holding the error pipe, a command that sleeps, and one that
    /// never reads a message larger than a pipe holds.
    #[test]
    fn the_sendmail_deadline_is_a_deadline() {
        let deadline = Duration::from_secs(1);
        let mut big = message();
        big.body = "x".repeat(300 * 1024);
        for (command, m, ok) in [
            ("sh -c 'sleep 20 >&2 & cat >/dev/null'", message(), true),
            ("sh -c 'sleep 20'", message(), false),
            ("sh -c 'sleep 20 & sleep 20'", message(), false),
            ("sh -c 'sleep 20'", big, false),
        ] {
            let mut t = Sendmail {
                from: "keyward@example.org".into(),
                command: command.into(),
                deadline,
            };
            let start = Instant::now();
            let result = t.send(&m, SystemTime::UNIX_EPOCH);
            let took = start.elapsed();
            assert!(
                took < deadline + Duration::from_secs(3),
                "{command}: {took:?}"
            );
            assert_eq!(result.is_ok(), ok, "{command}: {result:?}");
            if let Err(e) = result {
                assert!(!e.lasting, "{command}: a timeout passes: {e:?}");
            }
        }
    }

    #[test]
    fn a_sendmail_command_that_exits_75_is_retried_as_passing() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Sendmail {
            from: "keyward@example.org".into(),
            command: "sh -c 'cat >/dev/null; echo busy >&2; exit 75' sendmail".into(),
            deadline: SEND_TIMEOUT,
        };
        let err = t.send(&message(), SystemTime::UNIX_EPOCH).unwrap_err();
        assert!(!err.lasting, "{err:?}");
        assert!(err.message.contains("exited with 75: busy"), "{err:?}");
        let out = dir.path().join("got");
        let mut t = Sendmail {
            from: "keyward@example.org".into(),
            command: format!(
                "sh -c 'cat >\"$0\"; echo \"$1\" >>\"$0\"' {}",
                out.display()
            ),
            deadline: SEND_TIMEOUT,
        };
        t.send(&message(), SystemTime::UNIX_EPOCH).unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(got.contains("Subject:"), "{got}");
        assert!(got.trim_end().ends_with("ana@example.org"), "{got}");
        let mut missing = Sendmail {
            from: "keyward@example.org".into(),
            command: "/nonexistent/sendmail -t".into(),
            deadline: SEND_TIMEOUT,
        };
        let err = missing
            .send(&message(), SystemTime::UNIX_EPOCH)
            .unwrap_err();
        assert!(err.lasting && err.message.contains("/nonexistent/sendmail"));
    }
}
