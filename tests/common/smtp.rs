//! A real SMTP server on loopback for tests of sending mail: `tests/smtp_server.py`
//! (aiosmtpd) in its own process, its files in the test's directory. Tests
//! read what it accepted from its spool, one JSON line per message, and what it
//! refused from a file of one line per refusal. Waiting is by polling files
//! against a deadline, never by timing.
#![allow(dead_code)]

use serde_json::Value;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to start listening before the test fails.
const STARTUP: Duration = Duration::from_secs(20);

/// How long between looks at a file the server writes.
const POLL: Duration = Duration::from_millis(20);

/// The server script, next to this crate's other tests.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");

/// How the server speaks on its port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Cleartext only; no STARTTLS offered.
    #[default]
    Plain,
    /// Cleartext that offers STARTTLS (port 587 style); with `auth`, every
    /// command but EHLO, NOOP and QUIT needs STARTTLS first.
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
    /// AUTH (PLAIN and LOGIN) required with this login (no `:` in it) and
    /// password. Wrong credentials get `535 5.7.8`. Offered without TLS only
    /// in `Mode::Plain`; without it, no AUTH is offered at all.
    pub auth: Option<(String, String)>,
    /// Refuse instead of accepting: the full reply line, such as
    /// `451 4.3.0 try again later`, and the command it answers.
    pub reply: Option<(String, ReplyAt)>,
    /// Listen on this port (a server coming back where one was down);
    /// `None` lets the kernel pick one.
    pub port: Option<u16>,
}

/// A running server; killed when dropped.
pub struct SmtpServer {
    child: Option<Child>,
    port: u16,
    spool: PathBuf,
    refusals: PathBuf,
    stderr: PathBuf,
    ca: Option<PathBuf>,
}

impl SmtpServer {
    /// Starts a server whose files (port, spool, refusals, stderr, and for the
    /// TLS modes the certificates) go under `dir`, and waits until it listens.
    /// Panics with the server's stderr if it exits or takes over 20 s.
    /// One server per directory: the file names are fixed.
    pub fn start(dir: &Path, opts: SmtpOptions) -> SmtpServer {
        let port_file = dir.join("smtp.port");
        let spool = dir.join("smtp.spool.jsonl");
        let refusals = dir.join("smtp.refusals");
        let stderr = dir.join("smtp.stderr");

        let mut cmd = Command::new(python());
        cmd.arg(SCRIPT)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--spool")
            .arg(&spool)
            .arg("--refusals")
            .arg(&refusals);
        let ca = match opts.mode {
            Mode::Plain => None,
            Mode::Starttls | Mode::Tls => {
                let certs = make_certificates(dir);
                let mode = if opts.mode == Mode::Tls {
                    "tls"
                } else {
                    "starttls"
                };
                cmd.args(["--mode", mode])
                    .arg("--tls-cert")
                    .arg(&certs.server_cert)
                    .arg("--tls-key")
                    .arg(&certs.server_key);
                Some(certs.ca_cert)
            }
        };
        if let Some(port) = opts.port {
            cmd.arg("--port").arg(port.to_string());
        }
        if let Some((user, password)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if let Some((reply, at)) = &opts.reply {
            let at = match at {
                ReplyAt::Rcpt => "rcpt",
                ReplyAt::Data => "data",
            };
            cmd.args(["--reply", reply, "--reply-at", at]);
        }
        // stderr to a file, not a pipe: nobody reads it until something fails,
        // and a full pipe would stall the server.
        let err_file = File::create(&stderr).expect("create the SMTP server's stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .expect("python3 runs (apt-get install python3-aiosmtpd)");

        let mut server = SmtpServer {
            child: Some(child),
            port: 0,
            spool,
            refusals,
            stderr,
            ca,
        };
        let start = Instant::now();
        loop {
            // The script renames the port file into place once it listens, so
            // a file that exists is complete.
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                server.port = text
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("SMTP server wrote {text:?} as its port"));
                return server;
            }
            let child = server.child.as_mut().expect("the server process");
            if let Some(status) = child.try_wait().expect("look at the SMTP server") {
                panic!(
                    "SMTP server exited ({status}) before listening; stderr:\n{}",
                    server.stderr_text()
                );
            }
            if start.elapsed() > STARTUP {
                panic!(
                    "SMTP server not listening after {STARTUP:?}; stderr:\n{}",
                    server.stderr_text()
                );
            }
            std::thread::sleep(POLL);
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
        let Ok(text) = std::fs::read_to_string(&self.spool) else {
            return Vec::new();
        };
        // Only whole lines: the server may be halfway through writing the last.
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        whole
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("spool line is not JSON ({e}): {line}"));
                Received::from_json(&v)
                    .unwrap_or_else(|| panic!("spool line lacks a field: {line}"))
            })
            .collect()
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
        std::fs::read_to_string(&self.refusals)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }

    /// What the server wrote to stderr so far (warnings, tracebacks).
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Stops the server (SIGTERM, which it handles by closing its port and
    /// exiting 0) and waits for it; afterwards nothing listens on `port()`.
    /// Panics if it does not exit cleanly within the startup patience.
    pub fn stop(mut self) {
        let mut child = self.child.take().expect("the server process");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM the SMTP server: {status}");
        let start = Instant::now();
        let exit: ExitStatus = loop {
            if let Some(exit) = child.try_wait().expect("look at the SMTP server") {
                break exit;
            }
            if start.elapsed() > STARTUP {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "SMTP server ignored SIGTERM for {STARTUP:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(POLL);
        };
        assert!(
            exit.success(),
            "SMTP server exited {exit} on SIGTERM; stderr:\n{}",
            self.stderr_text()
        );
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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
    subject: String,
    body: String,
}

impl Received {
    fn from_json(v: &Value) -> Option<Received> {
        let text = |key: &str| v[key].as_str().map(str::to_owned);
        Some(Received {
            mail_from: text("mail_from")?,
            rcpt_tos: v["rcpt_tos"]
                .as_array()?
                .iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            data: text("data")?,
            auth_user: text("auth_user"),
            tls: v["tls"].as_bool()?,
            subject: text("subject")?,
            body: text("body")?,
        })
    }

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
    /// charset decoded; LF line ends. Decoded by Python's email package.
    pub fn body(&self) -> String {
        self.body.clone()
    }

    /// The Subject with RFC 2047 encoded words decoded, unfolded; empty if
    /// there is none. Decoded by Python's email package.
    pub fn subject(&self) -> String {
        self.subject.clone()
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

/// Debian's python3, where apt installs python3-aiosmtpd; else whatever
/// `python3` is on PATH.
fn python() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("python3")
    }
}

struct Certificates {
    ca_cert: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

/// A CA and a server certificate it signs, for `localhost` and `127.0.0.1`,
/// made by the openssl CLI in `dir`. rustls accepts no self-signed end-entity
/// certificate, so this is a real chain: an X.509 v3 CA (basicConstraints
/// CA:TRUE, keyCertSign) and a v3 leaf with subjectAltName and the serverAuth
/// extended key usage. P-256 keys, as they are made in milliseconds.
fn make_certificates(dir: &Path) -> Certificates {
    let path = |name: &str| dir.join(name);
    std::fs::write(
        path("smtp-ca.cnf"),
        "[req]\n\
         distinguished_name = dn\n\
         prompt = no\n\
         x509_extensions = ca_ext\n\
         [dn]\n\
         CN = keyward test CA\n\
         [ca_ext]\n\
         basicConstraints = critical, CA:TRUE\n\
         keyUsage = critical, keyCertSign, cRLSign\n\
         subjectKeyIdentifier = hash\n",
    )
    .expect("write the CA's openssl config");
    std::fs::write(
        path("smtp-server.ext"),
        "basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:localhost, IP:127.0.0.1\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n",
    )
    .expect("write the server certificate's extensions");
    let certs = Certificates {
        ca_cert: path("smtp-ca.pem"),
        server_cert: path("smtp-server.pem"),
        server_key: path("smtp-server.key"),
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    openssl(
        Command::new("openssl")
            .args(["req", "-x509", "-config"])
            .arg(path("smtp-ca.cnf"))
            .args(ec)
            .args(["-noenc", "-days", "2", "-keyout"])
            .arg(path("smtp-ca.key"))
            .arg("-out")
            .arg(&certs.ca_cert),
    );
    openssl(
        Command::new("openssl")
            .args(["req", "-new", "-subj", "/CN=localhost"])
            .args(ec)
            .args(["-noenc", "-keyout"])
            .arg(&certs.server_key)
            .arg("-out")
            .arg(path("smtp-server.csr")),
    );
    openssl(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-in"])
            .arg(path("smtp-server.csr"))
            .arg("-CA")
            .arg(&certs.ca_cert)
            .arg("-CAkey")
            .arg(path("smtp-ca.key"))
            .arg("-CAcreateserial")
            .arg("-CAserial")
            .arg(path("smtp-ca.srl"))
            .arg("-extfile")
            .arg(path("smtp-server.ext"))
            .arg("-out")
            .arg(&certs.server_cert),
    );
    certs
}

fn openssl(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
