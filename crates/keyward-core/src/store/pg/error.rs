//! Turns PostgreSQL's failures into keyward errors an admin can act on: one
//! line each, naming the server (never with its password), exit 5 for a rule
//! the database refused and exit 6 for everything about reaching it.

use super::connect::{Target, root_cert_of};
use crate::error::{Error, StoreCause};
use postgres::error::SqlState;
use rustls::CertificateError;
use std::io::ErrorKind;

/// Maps a client error to the keyward error (and so the exit code) it means.
pub fn from_postgres(e: &postgres::Error, target: &Target) -> Error {
    let at = target.shown();
    if let Some(db) = e.as_db_error() {
        let message = db.message();
        let code = db.code();
        // Messages raised by the schema's own triggers start with "keyward: ".
        if let Some(rule) = message.strip_prefix("keyward: ") {
            return Error::conflict(rule);
        }
        if *code == SqlState::UNIQUE_VIOLATION {
            let what = db.constraint().unwrap_or(message);
            return Error::conflict(format!("that name is taken ({what})"));
        }
        if code.code().starts_with("23") {
            return Error::conflict(format!("the store refused the change: {message}"));
        }
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            let mut text = format!(
                "PostgreSQL at {at} refused the login of `{}`: {message}",
                target.user()
            );
            if let Some(hint) = target.pgpass_hint() {
                text.push_str(&format!("; {hint}"));
            }
            return Error::store_because(StoreCause::Denied, text);
        }
        if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            return Error::store_because(
                StoreCause::Denied,
                format!(
                    "PostgreSQL at {at} does not let `{}` do this ({message}); see docs/POSTGRES.md for the grants keyward needs",
                    target.user()
                ),
            );
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return Error::store(format!(
                "PostgreSQL at {at} has no database `{}`; a DBA creates it (docs/POSTGRES.md)",
                target.dbname()
            ));
        }
        if *code == SqlState::QUERY_CANCELED {
            return Error::store_because(
                StoreCause::Cancelled,
                format!(
                    "PostgreSQL at {at} stopped the statement ({message}); nothing was changed"
                ),
            );
        }
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return Error::store_because(
                StoreCause::Locked,
                format!(
                    "PostgreSQL at {at} undid the change to break a conflict with another writer ({message}); nothing was changed; try again"
                ),
            );
        }
        if *code == SqlState::LOCK_NOT_AVAILABLE {
            return Error::store_because(
                StoreCause::Locked,
                format!(
                    "the store at {at} stayed locked by another writer; nothing was changed; try again"
                ),
            );
        }
        if *code == SqlState::DISK_FULL || *code == SqlState::OUT_OF_MEMORY {
            return Error::store_because(
                StoreCause::Full,
                format!("PostgreSQL at {at} is out of room ({message}); nothing was changed"),
            );
        }
        if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            return Error::store_because(
                StoreCause::ReadOnly,
                format!("PostgreSQL at {at} is read-only (a standby?); nothing was changed"),
            );
        }
        if code.code().starts_with("57") || code.code().starts_with("08") {
            return Error::store_because(
                StoreCause::Io,
                format!(
                    "the connection to PostgreSQL at {at} ended ({message}); nothing was changed"
                ),
            );
        }
        return Error::store(format!("PostgreSQL at {at}: {message}"));
    }
    if e.is_closed() {
        return Error::store_because(
            StoreCause::Io,
            format!("the connection to PostgreSQL at {at} was lost; nothing was changed"),
        );
    }
    // The server asked for a password and none was given.
    let said = {
        let mut all = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            all.push_str(&format!(": {s}"));
            source = s.source();
        }
        all
    };
    if said.contains("password missing") {
        let mut text = format!(
            "PostgreSQL at {at} asks `{}` for a password and none was given: put it in PGPASSWORD or ~/.pgpass (0600), not in the URL, which others on this host can see in `ps`",
            target.user()
        );
        if let Some(hint) = target.pgpass_hint() {
            text.push_str(&format!("; {hint}"));
        }
        return Error::store_because(StoreCause::Denied, text);
    }
    if let Some(why) = unreachable_because(e, target) {
        return Error::store_because(
            StoreCause::CannotOpen,
            format!("cannot reach PostgreSQL at {at}: {why}"),
        );
    }
    // Connecting, TLS and I/O: the client's own words, which carry no password.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = s.source();
    }
    let text = text.replace('\n', " ");
    Error::store_because(
        StoreCause::CannotOpen,
        format!("cannot reach PostgreSQL at {at}: {text}"),
    )
}

/// A failed connection. A server that answers, but not in PostgreSQL's
/// protocol (a web server, an SSH daemon on the port), gets the client's
/// words for what it said ("invalid message length: header length < 4"),
/// which do not say what is wrong; they are said in an admin's words.
pub fn at_connect(e: &postgres::Error, target: &Target) -> Error {
    if e.as_db_error().is_none() && !speaks_postgres(e) {
        return Error::store_because(
            StoreCause::CannotOpen,
            format!(
                "cannot reach PostgreSQL at {}: what answers there is not a PostgreSQL server (it did not speak PostgreSQL's protocol); are the host and port right?",
                target.shown()
            ),
        );
    }
    from_postgres(e, target)
}

/// Whether a failed connection still heard PostgreSQL's protocol from the
/// other end: false where the client could not read what came back.
fn speaks_postgres(e: &postgres::Error) -> bool {
    let said = e.to_string();
    if said.starts_with("unexpected message from server")
        || said.starts_with("error parsing response from server")
    {
        return false;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let garbled = matches!(io.kind(), ErrorKind::InvalidData | ErrorKind::InvalidInput)
                || io.to_string().contains("bytes remaining on stream");
            if garbled && io.get_ref().is_none_or(|i| !i.is::<rustls::Error>()) {
                return false;
            }
        }
        source = s.source();
    }
    true
}

/// A failed `COMMIT`. Where the connection was lost, the server may have
/// committed the change before it went: PostgreSQL made it whole or not at
/// all, but the client cannot tell which, and must not say "nothing was
/// changed".
pub fn at_commit(e: &postgres::Error, target: &Target) -> Error {
    let lost = e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"));
    if !lost {
        return from_postgres(e, target);
    }
    Error::store_because(
        StoreCause::Io,
        format!(
            "the connection to PostgreSQL at {} was lost as the change was committed: it was made whole or not at all, and keyward cannot tell which; look before trying again",
            target.shown()
        ),
    )
}

/// Why the client could not reach the server, in an admin's words, where
/// the client's own are poor ("error performing TLS handshake: invalid peer
/// certificate: UnknownIssuer"): nothing listening, no TLS on the server, a
/// certificate keyward does not trust. `None` for anything else.
fn unreachable_because(e: &postgres::Error, target: &Target) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.to_string() == "server does not support TLS" {
            return Some(format!(
                "TLS refused: the server does not offer TLS (its `ssl` setting is off) and sslmode={} does not connect without it; turn ssl on in the server (docs/POSTGRES.md)",
                target.ssl_mode().as_str()
            ));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // An I/O error shows its inner error but does not give it as its source.
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(tls_refusal(tls, target));
            }
            match io.kind() {
                ErrorKind::ConnectionRefused => {
                    return Some(
                        "nothing is listening there (connection refused); is the server running, on that host and port?"
                            .into(),
                    );
                }
                ErrorKind::NotFound if target.all_sockets() => {
                    return Some(
                        "nothing is listening there (no server socket in that directory); is the server running, with that port?"
                            .into(),
                    );
                }
                _ => {}
            }
        }
        source = s.source();
    }
    None
}

/// What TLS refused, naming the CA or the names involved.
fn tls_refusal(tls: &rustls::Error, target: &Target) -> String {
    let rustls::Error::InvalidCertificate(cert) = tls else {
        return format!("the TLS handshake failed ({tls})");
    };
    match cert {
        CertificateError::UnknownIssuer => match root_cert_of(target) {
            Some(ca) => format!(
                "TLS refused the server's certificate: no CA in {} (sslrootcert) signed it",
                ca.display()
            ),
            None => "TLS refused the server's certificate: no CA this system trusts signed it; name the server's CA with sslrootcert".into(),
        },
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "TLS refused the server's certificate: it is for {}, not {} (sslmode=verify-full checks the host name)",
            presented
                .iter()
                .map(|n| plain_name(n))
                .collect::<Vec<_>>()
                .join(", "),
            expected.to_str()
        ),
        CertificateError::NotValidForName => {
            "TLS refused the server's certificate: it is not for this host name (sslmode=verify-full checks the host name)".into()
        }
        other => format!("TLS refused the server's certificate: {other}"),
    }
}

/// `DnsName("db.example")` or `IpAddress(10.0.0.5)`, as rustls lists a
/// certificate's names, as the names themselves.
fn plain_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}
