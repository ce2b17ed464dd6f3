//! Where a PostgreSQL store is and how to reach it: the URL given to `--db`
//! (`KEYWARD_DB`, `store` in the configuration), filled in the way
//! PostgreSQL's own tools fill it in — `PGHOST`, `PGPORT`, `PGUSER`,
//! `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`,
//! `PGCONNECT_TIMEOUT` and `~/.pgpass` (`PGPASSFILE`) — and the TLS its
//! `sslmode` asks for. A password is held only in the client's configuration:
//! what keyward shows of a target ([`Target::shown`]) never has one.

use crate::error::{Error, Result};
use percent_encoding::percent_decode_str;
use postgres::config::{Host, SslMode as ClientSslMode};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Whether a string names a PostgreSQL store rather than a SQLite file.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Whether a string is meant to name a server, well formed or not: a URL
/// scheme `postgres:` or `postgresql:` in any case, or a libpq `key=value`
/// connection string. Such a string is never taken for a file name — a typo
/// would otherwise make a private SQLite store on one host, named after the
/// URL, password and all.
pub fn names_a_server(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres:")
        || lower.starts_with("postgresql:")
        || (["host=", "dbname=", "user=", "port="]
            .iter()
            .any(|k| lower.starts_with(k) || lower.contains(&format!(" {k}")))
            && !s.contains('/'))
}

/// Checks that `s`, which names a server, is a URL keyward takes, with
/// an error that never shows its password.
pub fn check_url(s: &str) -> Result<()> {
    if is_postgres_url(s) {
        return Ok(());
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Err(Error::usage(
            "a PostgreSQL URL starts with postgres:// or postgresql:// in lower case",
        ));
    }
    Err(Error::usage(
        "this looks like a PostgreSQL connection but is not a URL keyward takes; write it as postgres://USER@HOST:PORT/DATABASE (a password goes in PGPASSWORD or ~/.pgpass, not here)",
    ))
}

/// libpq's `sslmode`, all six of them (the client crate knows three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::usage(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the server's certificate must chain to a trusted root.
    fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// What a target is filled in from besides its URL: the process's
/// environment, home directory and login, or a test's own.
#[derive(Clone, Debug, Default)]
pub struct Surroundings {
    pub vars: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub login: Option<String>,
    /// Where the server's Unix sockets are when no host is named (Debian's).
    pub socket_dir: PathBuf,
}

impl Surroundings {
    /// This process's: its `PG*` variables, `HOME` and login.
    pub fn of_process() -> Surroundings {
        let vars = std::env::vars()
            .filter(|(k, _)| k.starts_with("PG"))
            .collect();
        let login = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.name);
        Surroundings {
            vars,
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
            login,
            socket_dir: PathBuf::from("/var/run/postgresql"),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// A PostgreSQL store's address, with everything needed to connect to it.
#[derive(Clone)]
pub struct Target {
    /// The URL as given, for a child process to be given the same (through
    /// its environment, never its command line).
    given: String,
    config: postgres::Config,
    ssl: SslMode,
    root_cert: Option<PathBuf>,
    /// A `~/.pgpass` that was passed over because others may read it.
    pgpass_refused: Option<(PathBuf, u32)>,
}

/// Never shows the password.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Target {
    /// Reads `url` (`postgres://` or `postgresql://`), filling in what it
    /// leaves out from `around` as libpq would.
    pub fn parse(url: &str, around: &Surroundings) -> Result<Target> {
        if !is_postgres_url(url) {
            return Err(Error::usage(
                "a PostgreSQL store is named by a URL starting postgres:// or postgresql://",
            ));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut ssl = None;
        let mut root_cert = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value).decode_utf8().map_err(|_| {
                Error::usage(format!("the URL's `{key}` is not UTF-8 once decoded"))
            })?;
            match key {
                "sslmode" => ssl = Some(SslMode::parse(&value)?),
                "sslrootcert" => root_cert = Some(PathBuf::from(value.as_ref())),
                // Read by PostgreSQL's tools; keyward's client has no use for them.
                "sslcert" | "sslkey" | "sslcrl" | "passfile" => {
                    return Err(Error::usage(format!(
                        "the URL's `{key}` is not supported by keyward; see docs/POSTGRES.md"
                    )));
                }
                _ => kept.push(pair),
            }
        }
        // The client fills in 5432 for a host named without a port, where
        // libpq takes PGPORT: give it PGPORT first.
        let base = match around.var("PGPORT") {
            Some(port) => with_default_port(base, port)?,
            None => base.to_owned(),
        };
        let rest = if kept.is_empty() {
            base
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = postgres::Config::from_str(&rest).map_err(|e| {
            // The client's parse errors name the option, never its value.
            Error::usage(format!("not a PostgreSQL URL keyward can use: {e}"))
        })?;

        if config.get_hosts().is_empty() {
            match around.var("PGHOST") {
                Some(hosts) => {
                    for host in hosts.split(',') {
                        if host.starts_with('/') {
                            config.host_path(host);
                        } else {
                            config.host(host);
                        }
                    }
                }
                None if around.socket_dir.is_dir() => {
                    config.host_path(&around.socket_dir);
                }
                None => {
                    config.host("localhost");
                }
            }
        }
        if let (true, Some(port)) = (config.get_ports().is_empty(), around.var("PGPORT")) {
            let port = port
                .parse::<u16>()
                .map_err(|_| Error::usage(format!("PGPORT `{port}` is not a port number")))?;
            config.port(port);
        }
        if config.get_user().is_none() {
            let user = around
                .var("PGUSER")
                .map(str::to_owned)
                .or_else(|| around.login.clone())
                .ok_or_else(|| {
                    Error::usage("no PostgreSQL user: name one in the URL or in PGUSER")
                })?;
            config.user(&user);
        }
        if config.get_dbname().is_none() {
            let db = around
                .var("PGDATABASE")
                .map(str::to_owned)
                .or_else(|| config.get_user().map(str::to_owned));
            if let Some(db) = db {
                config.dbname(&db);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name(around.var("PGAPPNAME").unwrap_or("keyward"));
        }
        if config.get_connect_timeout().is_none() {
            let secs = match around.var("PGCONNECT_TIMEOUT") {
                Some(s) => s.parse::<u64>().map_err(|_| {
                    Error::usage(format!(
                        "PGCONNECT_TIMEOUT `{s}` is not a number of seconds"
                    ))
                })?,
                None => 10,
            };
            if secs > 0 {
                config.connect_timeout(Duration::from_secs(secs.max(2)));
            }
        }
        let ssl = match ssl {
            Some(s) => s,
            None => match around.var("PGSSLMODE") {
                Some(s) => SslMode::parse(s)?,
                None => SslMode::Prefer,
            },
        };
        let root_cert = root_cert.or_else(|| around.var("PGSSLROOTCERT").map(PathBuf::from));

        let mut target = Target {
            given: url.to_owned(),
            config,
            ssl,
            root_cert,
            pgpass_refused: None,
        };
        if target.config.get_password().is_none() {
            if let Some(password) = around.var("PGPASSWORD") {
                target.config.password(password);
            } else {
                target.read_pgpass(around);
            }
        }
        Ok(target)
    }

    /// The target as keyward shows it: in `--db`'s echo, in errors and in the
    /// history. Never with a password.
    pub fn shown(&self) -> String {
        let user = self.config.get_user().unwrap_or("");
        let ports = self.config.get_ports();
        let mut tcp = Vec::new();
        let mut sockets = Vec::new();
        for (i, host) in self.config.get_hosts().iter().enumerate() {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(h) if h.contains(':') => tcp.push(format!("[{h}]:{port}")),
                Host::Tcp(h) => tcp.push(format!("{h}:{port}")),
                Host::Unix(p) => sockets.push(format!("{}", p.display())),
            }
        }
        let db = self.config.get_dbname().unwrap_or("");
        let mut shown = format!("postgres://{user}@{}/{db}", tcp.join(","));
        if !sockets.is_empty() {
            shown.push_str(&format!("?host={}", sockets.join(",")));
        }
        shown
    }

    /// The URL as given, password and all: only for a child's environment.
    pub(crate) fn given(&self) -> &str {
        &self.given
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("")
    }

    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or("")
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl
    }

    /// Whether every host is a Unix socket (no TLS: the server offers none there).
    pub(crate) fn all_sockets(&self) -> bool {
        self.config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, Host::Unix(_)))
    }

    /// The same server and user, another database: the tests' scratch
    /// databases, and `init` checking that its database exists.
    pub fn with_dbname(&self, dbname: &str) -> Target {
        let mut other = self.clone();
        other.config.dbname(dbname);
        other
    }

    /// The same server, another user and password.
    pub fn with_login(&self, user: &str, password: &str) -> Target {
        let mut other = self.clone();
        other.config.user(user);
        other.config.password(password);
        other
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<postgres::Client> {
        let mut config = self.config.clone();
        let limit = config.get_connect_timeout().copied();
        let tls = if self.ssl == SslMode::Disable || self.all_sockets() {
            config.ssl_mode(ClientSslMode::Disable);
            None
        } else {
            config.ssl_mode(match self.ssl {
                SslMode::Allow | SslMode::Prefer => ClientSslMode::Prefer,
                _ => ClientSslMode::Require,
            });
            Some(tokio_postgres_rustls::MakeRustlsConnect::new(
                self.tls_config()?,
            ))
        };
        let open = move || match tls {
            None => config.connect(postgres::NoTls),
            Some(tls) => config.connect(tls),
        };
        // The client's own timeout covers reaching the host, not a server
        // that takes the connection and never answers: the whole of
        // connecting gets the same limit, on a thread of its own.
        let client = match limit {
            None => open(),
            Some(limit) => {
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::Builder::new()
                    .name("keyward-connect".into())
                    .spawn(move || {
                        let _ = tx.send(open());
                    })
                    .map_err(|e| Error::store(format!("cannot start connecting: {e}")))?;
                match rx.recv_timeout(limit + Duration::from_millis(500)) {
                    Ok(client) => client,
                    Err(_) => {
                        return Err(Error::store_because(
                            crate::error::StoreCause::CannotOpen,
                            format!(
                                "cannot reach PostgreSQL at {}: no answer within {} s (connect_timeout, PGCONNECT_TIMEOUT); is it a PostgreSQL server, and is it up?",
                                self.shown(),
                                limit.as_secs()
                            ),
                        ));
                    }
                }
            }
        };
        client.map_err(|e| super::error::at_connect(&e, self))
    }

    /// What an authentication failure should add about `~/.pgpass`.
    pub(crate) fn pgpass_hint(&self) -> Option<String> {
        self.pgpass_refused.as_ref().map(|(path, mode)| {
            format!(
                "{} was not read: others may read it (mode {mode:04o}); as psql does, keyward reads it only when it is 0600 or stricter (`chmod 600 {}`)",
                path.display(),
                path.display()
            )
        })
    }

    fn read_pgpass(&mut self, around: &Surroundings) {
        let path = match around.var("PGPASSFILE") {
            Some(p) => PathBuf::from(p),
            None => match &around.home {
                Some(home) => home.join(".pgpass"),
                None => return,
            },
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        if !meta.is_file() {
            return;
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            self.pgpass_refused = Some((path, mode));
            return;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let ports = self.config.get_ports();
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            // libpq matches a socket connection against `localhost`.
            Some(Host::Unix(_)) | None => "localhost".to_owned(),
        };
        let port = ports.first().copied().unwrap_or(5432).to_string();
        let wanted = [host.as_str(), port.as_str(), self.dbname(), self.user()];
        if let Some(password) = pgpass_lookup(&text, wanted) {
            self.config.password(password);
        }
    }

    /// The TLS settings `sslmode` asks for. `verify-ca` and `verify-full`
    /// check the server's certificate against `sslrootcert` (a PEM file) when
    /// one is named, and only against it, as libpq does; `verify-full`
    /// without one checks against the system's roots (libpq's
    /// `sslrootcert=system`). `verify-full` also checks that the certificate
    /// names the host. `require` and `prefer` encrypt without checking, as
    /// libpq does, unless `sslrootcert` is given, when they check as `verify-ca`.
    fn tls_config(&self) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::store(format!("TLS setup failed: {e}")))?;
        let checks = self.ssl.verifies() || self.root_cert.is_some();
        let config = if checks {
            let roots = Arc::new(self.roots()?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| Error::store(format!("TLS setup failed: {e}")))?;
            if self.ssl == SslMode::VerifyFull {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
                    .with_no_client_auth()
            }
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth()
        };
        Ok(config)
    }

    /// The CAs the server's certificate must chain to: the `sslrootcert`
    /// file alone when one is named — trusting the system's roots as well
    /// would let any certificate a public CA (or a host's own snakeoil, which
    /// Debian files among them) signs for the name pass as the server —
    /// otherwise the system's roots, for `verify-full` only: checked against
    /// them without the name, any site's certificate would pass `verify-ca`.
    fn roots(&self) -> Result<RootCertStore> {
        let mut roots = RootCertStore::empty();
        let Some(path) = &self.root_cert else {
            if self.ssl != SslMode::VerifyFull {
                return Err(Error::usage(format!(
                    "sslmode={} for {} needs sslrootcert, the CA that signed the server's certificate: against the system's roots, without the host name, any site's certificate would pass; name the CA, or use sslmode=verify-full",
                    self.ssl.as_str(),
                    self.shown()
                )));
            }
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(Error::store(format!(
                    "sslmode=verify-full for {} needs a CA to check the server against: the system has no roots and no sslrootcert is set",
                    self.shown()
                )));
            }
            return Ok(roots);
        };
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| {
                Error::store(format!(
                    "cannot read the CA certificate {} (sslrootcert): {e}",
                    path.display()
                ))
            })?;
        if certs.is_empty() {
            return Err(Error::store(format!(
                "{} (sslrootcert) holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                Error::store(format!(
                    "{} (sslrootcert) holds a certificate TLS cannot use: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(roots)
    }
}

/// `url` (without its query) with `port` after each host of its authority,
/// when none of them names a port.
fn with_default_port(url: &str, port: &str) -> Result<String> {
    port.parse::<u16>()
        .map_err(|_| Error::usage(format!("PGPORT `{port}` is not a port number")))?;
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(url.to_owned());
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user, hosts) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let has_port = |h: &str| match h.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => h.contains(':'),
    };
    if hosts.is_empty() || hosts.split(',').any(has_port) {
        return Ok(url.to_owned());
    }
    let hosts: Vec<String> = hosts.split(',').map(|h| format!("{h}:{port}")).collect();
    Ok(format!("{scheme}://{user}{}{path}", hosts.join(",")))
}

/// The password `~/.pgpass` holds for `wanted` (host, port, database, user):
/// the first line whose four fields match, `*` matching anything, with `\:`
/// and `\\` escaped as PostgreSQL writes them.
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass_line(line);
        if fields.len() < 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(field, want)| field == "*" || field == want)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

/// `verify-ca`: the certificate chains to a trusted root, whatever name it carries.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a CA: encrypted, the certificate not
/// checked (libpq's behaviour), the handshake's signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The path a target's `sslrootcert` names, for messages.
pub(crate) fn root_cert_of(target: &Target) -> Option<&std::path::Path> {
    target.root_cert.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate (P-256, valid until 2126) to name as
    /// `sslrootcert`; its key was thrown away.
    const UNIT_TEST_CA: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBpjCCAUugAwIBAgIULTi3XxDyZxqvI2Ou8jT0AeWM6JMwCgYIKoZIzj0EAwIw\n\
HzEdMBsGA1UEAwwUa2V5d2FyZCB1bml0LXRlc3QgQ0EwIBcNMjYxMTMwMjE0MDM5\n\
WhgPMjEyNjExMDYyMTQwMzlaMB8xHTAbBgNVBAMMFGtleXdhcmQgdW5pdC10ZXN0\n\
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGhHBVZBEPZQu5CI5fY1lMxAL\n\
vRpNAqQaTJN61q5LbAALOBLtB30MyF91cicy2SRs0Jkr/Bx0SyJdfPjClkp4JaNj\n\
MGEwHQYDVR0OBBYEFJyhIAP79NW28XgW1s7WIFZktC2yMB8GA1UdIwQYMBaAFJyh\n\
IAP79NW28XgW1s7WIFZktC2yMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n\
AgIEMAoGCCqGSM49BAMCA0kAMEYCIQCfQXcsAoS5VlY906hpkVktZPXKZGbRIYwE\n\
RDLrlo1nsgIhAIAsnwWx3JmhKwq+wpLqtdtbLXkZKZGgEDTuWgrD9kq3\n\
-----END CERTIFICATE-----\n\
";

    fn around(vars: &[(&str, &str)]) -> Surroundings {
        Surroundings {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: None,
            login: Some("ana".into()),
            socket_dir: PathBuf::from("/nonexistent/socket/dir"),
        }
    }

    #[test]
    fn only_postgres_urls_name_a_postgres_store() {
        assert!(is_postgres_url("postgres://h/db"));
        assert!(is_postgres_url("postgresql:///db"));
        assert!(!is_postgres_url("/var/lib/keyward/keyward.db"));
        assert!(!is_postgres_url("postgres.db"));
        assert!(Target::parse("mysql://h/db", &around(&[])).is_err());
    }

    #[test]
    fn a_server_that_takes_the_connection_and_never_answers_is_given_up_on() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Takes every connection and says nothing.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                held.push(stream);
            }
        });
        for ssl in ["disable", "prefer"] {
            let t = Target::parse(
                &format!(
                    "postgres://kw:S3cr@127.0.0.1:{port}/keyward?connect_timeout=2&sslmode={ssl}"
                ),
                &around(&[]),
            )
            .unwrap();
            let started = std::time::Instant::now();
            let err = t.connect().err().unwrap();
            assert!(started.elapsed() < Duration::from_secs(10), "{ssl}");
            assert_eq!(err.exit_code(), 6);
            let text = err.to_string();
            assert!(text.contains("no answer within 2 s"), "{text}");
            assert!(!text.contains("S3cr"), "{text}");
        }
    }

    #[test]
    fn what_looks_like_a_server_is_never_taken_for_a_file_nor_echoed() {
        for s in [
            "POSTGRES://kw:S3cr@localhost/keyward",
            "PostgreSQL://h/d",
            "postgres:kw:S3cr@host",
            "host=db dbname=keyward user=kw password=S3cr",
            "dbname=keyward",
        ] {
            assert!(names_a_server(s), "{s}");
            let err = check_url(s).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{s}");
            assert!(!err.to_string().contains("S3cr"), "{err}");
        }
        for s in [
            "/srv/kw/keyward.db",
            "keyward.db",
            "postgres.db",
            "/srv/host=1/k.db",
            "./postgresdb",
        ] {
            assert!(!names_a_server(s), "{s}");
        }
        assert!(check_url("postgres://kw@db/keyward").is_ok());
    }

    #[test]
    fn the_url_comes_first_then_the_pg_variables_then_libpqs_defaults() {
        let t = Target::parse("postgres://bob@db1:6432/kw", &around(&[("PGHOST", "x")])).unwrap();
        assert_eq!(t.shown(), "postgres://bob@db1:6432/kw");
        let t = Target::parse(
            "postgresql://",
            &around(&[
                ("PGHOST", "db2"),
                ("PGPORT", "5499"),
                ("PGUSER", "carl"),
                ("PGDATABASE", "keys"),
            ]),
        )
        .unwrap();
        assert_eq!(t.shown(), "postgres://carl@db2:5499/keys");
        // Nothing named: the login, a database of its name, localhost (no socket dir here).
        let t = Target::parse("postgres://", &around(&[])).unwrap();
        assert_eq!(t.shown(), "postgres://ana@localhost:5432/ana");
        assert_eq!(t.ssl_mode(), SslMode::Prefer);
        let t = Target::parse("postgres://", &around(&[("PGSSLMODE", "verify-full")])).unwrap();
        assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
        let t = Target::parse(
            "postgres://h/d?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
            &around(&[("PGSSLMODE", "disable")]),
        )
        .unwrap();
        assert_eq!(t.ssl_mode(), SslMode::VerifyCa);
        assert_eq!(root_cert_of(&t), Some(std::path::Path::new("/etc/ca.pem")));
        assert!(Target::parse("postgres://h/d?sslmode=sometimes", &around(&[])).is_err());
        assert!(Target::parse("postgres://h/d", &around(&[("PGPORT", "http")])).is_err());
        // PGPORT for hosts named without a port, as libpq does; not over a named one.
        let t = Target::parse("postgres://kw@a,b/d", &around(&[("PGPORT", "6000")])).unwrap();
        assert_eq!(t.shown(), "postgres://kw@a:6000,b:6000/d");
        let t = Target::parse("postgres://[::1]/d", &around(&[("PGPORT", "6000")])).unwrap();
        assert_eq!(t.shown(), "postgres://ana@[::1]:6000/d");
        let t = Target::parse("postgres://h:7000/d", &around(&[("PGPORT", "6000")])).unwrap();
        assert_eq!(t.shown(), "postgres://ana@h:7000/d");
    }

    #[test]
    fn a_socket_directory_is_a_host() {
        let t = Target::parse(
            "postgresql:///kw?host=/run/postgresql",
            &around(&[("PGUSER", "kw")]),
        )
        .unwrap();
        assert_eq!(t.shown(), "postgres://kw@/kw?host=/run/postgresql");
        assert!(t.all_sockets());
        let t = Target::parse("postgres:///kw", &around(&[("PGHOST", "/tmp/pg")])).unwrap();
        assert!(t.all_sockets());
    }

    #[test]
    fn a_password_is_never_shown() {
        for url in [
            "postgres://kw:s3cr3t-pw@db/kw",
            "postgres://kw@db/kw?password=s3cr3t-pw",
            "postgresql://kw:s3cr3t%2Dpw@db:5432/kw?sslmode=require",
        ] {
            let t = Target::parse(url, &around(&[])).unwrap();
            assert!(!t.shown().contains("s3cr3t"), "{}", t.shown());
            assert!(!format!("{t:?}").contains("s3cr3t"));
            assert_eq!(t.config.get_password(), Some(&b"s3cr3t-pw"[..]));
        }
        let t = Target::parse("postgres://kw@db/kw", &around(&[("PGPASSWORD", "pw2")])).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"pw2"[..]));
        assert!(!t.shown().contains("pw2"));
        // A malformed URL's error names the option, not the value.
        let err = Target::parse("postgres://kw@db/kw?port=s3cr3t", &around(&[]))
            .err()
            .unwrap();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn pgpass_is_read_only_when_others_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:kw:kw:wrong\ndb:*:kw:kw:pa\\:ss\\\\word\n*:*:*:*:fallback\n",
        )
        .unwrap();
        let mut env = around(&[]);
        env.home = Some(dir.path().to_owned());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = Target::parse("postgres://kw@db/kw", &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"pa:ss\\word"[..]));
        assert!(t.pgpass_hint().is_none());
        let t = Target::parse("postgres://someone@elsewhere/x", &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"fallback"[..]));

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let t = Target::parse("postgres://kw@db/kw", &env).unwrap();
        assert_eq!(t.config.get_password(), None);
        let hint = t.pgpass_hint().unwrap();
        assert!(
            hint.contains("0644") && hint.contains("chmod 600"),
            "{hint}"
        );
        // PGPASSFILE names another file.
        let other = dir.path().join("pw");
        std::fs::write(&other, "*:*:*:kw:from-passfile\n").unwrap();
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
        env.vars
            .insert("PGPASSFILE".into(), other.display().to_string());
        let t = Target::parse("postgres://kw@db/kw", &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"from-passfile"[..]));
    }

    #[test]
    fn verify_modes_need_a_readable_ca_when_one_is_named() {
        let t = Target::parse(
            "postgres://h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            &around(&[]),
        )
        .unwrap();
        let err = t.tls_config().err().unwrap();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        let t = Target::parse("postgres://h/d?sslmode=require", &around(&[])).unwrap();
        assert!(t.tls_config().is_ok());
        // A named CA is the only one trusted, as in libpq: not the system's
        // roots as well, which would pass any certificate a public CA (or, on
        // Debian, the host's snakeoil) makes for the name.
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, UNIT_TEST_CA).unwrap();
        for mode in ["verify-full", "verify-ca", "require"] {
            let url = format!("postgres://h/d?sslmode={mode}&sslrootcert={}", ca.display());
            let t = Target::parse(&url, &around(&[])).unwrap();
            assert_eq!(t.roots().unwrap().len(), 1, "{mode}");
            assert!(t.tls_config().is_ok());
        }
        // verify-ca against the system's roots would pass any site's
        // certificate: it needs the CA named.
        let t = Target::parse("postgres://kw@h/d?sslmode=verify-ca", &around(&[])).unwrap();
        let err = t.tls_config().err().unwrap();
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(
            err.to_string().contains("needs sslrootcert") && err.to_string().contains(&t.shown()),
            "{err}"
        );
    }
}
