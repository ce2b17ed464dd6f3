//! One SMTP conversation of the test server, on its own thread. It answers as
//! aiosmtpd 1.4 does with the settings the tests used with it (hostname
//! `localhost`, SMTPUTF8 on, AUTH only when credentials are configured), reply
//! for reply, so tests written against that server hold against this one.

use super::{Mode, Received, ReplyAt, Shared, lock};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls::{ServerConnection, StreamOwned};
use std::fmt;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// The name the server gives itself, fixed as it was (the default would ask DNS).
const HOSTNAME: &str = "localhost";

/// The message size offered in EHLO and enforced: aiosmtpd's default, 2^25.
const DATA_SIZE_LIMIT: usize = 33_554_432;

/// Longest command line, line end excluded (RFC 5321 §4.5.3.1.4).
const COMMAND_LIMIT: usize = 512;

/// `MAIL` after EHLO may carry SIZE= and SMTPUTF8 besides (RFC 1870, 6531).
const MAIL_LIMIT_EXTENDED: usize = COMMAND_LIMIT + 26 + 10;

/// Longest line at all, line end included: 998 octets, CRLF and the dot of
/// dot-stuffing (RFC 5321 §4.5.3.1.6).
const LINE_LIMIT: usize = 1001;

/// Unknown commands tolerated before the server hangs up.
const BOGUS_LIMIT: u32 = 5;

/// A client silent for this long is hung up on, as aiosmtpd's timeout does.
const IDLE: Duration = Duration::from_secs(300);

/// What may be said before STARTTLS when the server requires it (RFC 3207 §4).
const ALLOWED_BEFORE_STARTTLS: [&str; 4] = ["NOOP", "EHLO", "STARTTLS", "QUIT"];

/// The commands and their help text; `extended` is added after EHLO.
const SYNTAX: [(&str, &str, &str); 12] = [
    ("AUTH", "AUTH <mechanism>", ""),
    ("DATA", "DATA", ""),
    ("EHLO", "EHLO hostname", ""),
    ("HELO", "HELO hostname", ""),
    ("HELP", "HELP [command]", ""),
    ("MAIL", "MAIL FROM: <address>", " [SP <mail-parameters>]"),
    ("NOOP", "NOOP [ignored]", ""),
    ("QUIT", "QUIT", ""),
    ("RCPT", "RCPT TO: <address>", " [SP <mail-parameters>]"),
    ("RSET", "RSET", ""),
    ("STARTTLS", "STARTTLS", ""),
    ("VRFY", "VRFY <address>", ""),
];

/// Talks SMTP with one client until it quits or goes, then logs what went
/// wrong, if it is worth a line: a failed TLS handshake is; a client that
/// hung up, or a conversation that `stop` cut, is not.
pub(super) fn serve(shared: &Shared, tcp: TcpStream) {
    let peer = tcp
        .peer_addr()
        .map_or_else(|_| "a client".to_owned(), |a| a.to_string());
    if let Err(fault) = converse(shared, tcp)
        && !fault.is_quiet()
        && !shared.stopping.load(std::sync::atomic::Ordering::SeqCst)
    {
        shared.log(&format!("{peer}: {fault}"));
    }
}

/// Why a conversation ended early.
enum Fault {
    /// TLS could not be set up: implicit TLS, or after STARTTLS.
    Handshake(io::Error),
    /// Reading or writing failed afterwards.
    Io(io::Error),
}

impl Fault {
    /// A client that hung up or fell silent: nothing for the log.
    fn is_quiet(&self) -> bool {
        let gone = |e: &io::Error| {
            matches!(
                e.kind(),
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::WouldBlock
                    | ErrorKind::TimedOut
            )
        };
        match self {
            // A TLS error itself (a refused certificate) is not among these.
            Fault::Handshake(e) | Fault::Io(e) => gone(e),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Handshake(e) => write!(f, "TLS handshake failed: {e}"),
            Fault::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Fault {
        Fault::Io(e)
    }
}

/// The connection, in clear or in TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Does the server side of a TLS handshake on `tcp`.
fn handshake(
    config: &Arc<rustls::ServerConfig>,
    mut tcp: TcpStream,
) -> Result<Box<StreamOwned<ServerConnection, TcpStream>>, Fault> {
    let mut tls = ServerConnection::new(Arc::clone(config))
        .map_err(|e| Fault::Handshake(io::Error::other(e)))?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).map_err(Fault::Handshake)?;
    }
    Ok(Box::new(StreamOwned::new(tls, tcp)))
}

/// One line as read: with its line end, too long to keep, or none (the
/// client closed, a partial line at the end is dropped).
enum Line {
    Text(Vec<u8>),
    TooLong,
    Closed,
}

/// The connection with its read buffer.
struct Wire {
    reader: BufReader<Conn>,
}

impl Wire {
    /// Reads up to and with the next LF. A line longer than `LINE_LIMIT` is
    /// read to its end but not kept.
    fn line(&mut self) -> io::Result<Line> {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let (used, done) = {
                let buf = match self.reader.fill_buf() {
                    Ok(buf) => buf,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if buf.is_empty() {
                    return Ok(Line::Closed);
                }
                let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (&buf[..=i], true),
                    None => (buf, false),
                };
                if !too_long {
                    if line.len() + chunk.len() > LINE_LIMIT {
                        too_long = true;
                        line = Vec::new();
                    } else {
                        line.extend_from_slice(chunk);
                    }
                }
                (chunk.len(), done)
            };
            self.reader.consume(used);
            if done {
                return Ok(if too_long {
                    Line::TooLong
                } else {
                    Line::Text(line)
                });
            }
        }
    }

    /// Sends one reply line (or several, joined by the caller with CRLF).
    fn send(&mut self, reply: &str) -> io::Result<()> {
        let conn = self.reader.get_mut();
        conn.write_all(reply.as_bytes())?;
        conn.write_all(b"\r\n")?;
        conn.flush()
    }

    fn is_tls(&self) -> bool {
        matches!(self.reader.get_ref(), Conn::Tls(_))
    }

    /// Ends the connection after QUIT, with a TLS close_notify where TLS is on.
    fn close(self) {
        match self.reader.into_inner() {
            Conn::Plain(tcp) => {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
            }
            Conn::Tls(mut tls) => {
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
                let _ = tls.sock.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// What the client's session has said so far.
struct Session {
    /// The name given in HELO or EHLO.
    host_name: Option<String>,
    /// Whether that was EHLO.
    extended: bool,
    /// The login, once AUTH succeeded.
    authenticated: Option<String>,
    mail_from: Option<String>,
    rcpt_tos: Vec<String>,
    /// Unknown commands left before the server hangs up.
    bogus_left: u32,
}

impl Session {
    fn new(bogus_left: u32) -> Session {
        Session {
            host_name: None,
            extended: false,
            authenticated: None,
            mail_from: None,
            rcpt_tos: Vec::new(),
            bogus_left,
        }
    }

    /// Forgets the envelope, as RSET, HELO, EHLO and the end of DATA do.
    fn reset_envelope(&mut self) {
        self.mail_from = None;
        self.rcpt_tos.clear();
    }
}

/// How a stretch of conversation ended.
enum Turn {
    /// The client went.
    Gone,
    /// The server said goodbye (QUIT, or too many unknown commands).
    Hang,
    /// STARTTLS was accepted: the caller sets TLS up and starts afresh.
    Starttls,
}

/// The whole conversation: TLS first in `Mode::Tls`, the banner, then
/// commands, with TLS set up in between when STARTTLS is accepted.
fn converse(shared: &Shared, tcp: TcpStream) -> Result<(), Fault> {
    tcp.set_read_timeout(Some(IDLE))?;
    let conn = match (&shared.tls, shared.opts.mode) {
        (Some(config), Mode::Tls) => Conn::Tls(handshake(config, tcp)?),
        _ => Conn::Plain(tcp),
    };
    let mut wire = Wire {
        reader: BufReader::new(conn),
    };
    let mut session = Session::new(BOGUS_LIMIT);
    wire.send(&format!("220 {HOSTNAME} keyward test SMTP server"))?;
    let talk = Talk { shared };
    loop {
        match talk.turn(&mut wire, &mut session)? {
            Turn::Gone => return Ok(()),
            Turn::Hang => {
                wire.close();
                return Ok(());
            }
            Turn::Starttls => {
                // STARTTLS is only accepted in clear in `Mode::Starttls`,
                // which has a TLS side: these two cannot fail.
                let Some(config) = &shared.tls else {
                    return Ok(());
                };
                // Whatever the client sent after STARTTLS in clear is dropped
                // with the buffer: nothing from before TLS may count after it
                // (RFC 3207 §4.2, the command injection of CVE-2011-0411).
                let Conn::Plain(tcp) = wire.reader.into_inner() else {
                    return Ok(());
                };
                wire = Wire {
                    reader: BufReader::new(Conn::Tls(handshake(config, tcp)?)),
                };
                // A new session: the client must greet again.
                session = Session::new(session.bogus_left);
            }
        }
    }
}

/// The server's side of the commands.
struct Talk<'s> {
    shared: &'s Shared,
}

impl Talk<'_> {
    /// STARTTLS offered and needed for AUTH (aiosmtpd's `auth_require_tls`,
    /// which only STARTTLS satisfies; implicit TLS does not need it).
    fn auth_requires_starttls(&self) -> bool {
        self.shared.opts.mode == Mode::Starttls
    }

    /// With credentials in STARTTLS mode, nothing but the few commands of
    /// `ALLOWED_BEFORE_STARTTLS` before it.
    fn requires_starttls(&self) -> bool {
        self.shared.opts.mode == Mode::Starttls && self.shared.opts.auth.is_some()
    }

    fn offers_starttls(&self) -> bool {
        self.shared.opts.mode == Mode::Starttls
    }

    /// Answers commands until QUIT, the client's going, or STARTTLS.
    fn turn(&self, wire: &mut Wire, s: &mut Session) -> Result<Turn, Fault> {
        loop {
            let line = match wire.line()? {
                Line::Closed => return Ok(Turn::Gone),
                Line::TooLong => {
                    wire.send("500 Command line too long")?;
                    continue;
                }
                Line::Text(line) => line,
            };
            let end = line
                .iter()
                .rposition(|&b| b != b'\r' && b != b'\n')
                .map_or(0, |i| i + 1);
            let line = &line[..end];
            if line.is_empty() {
                wire.send("500 Error: bad syntax")?;
                continue;
            }
            let (command, arg) = match line.iter().position(|&b| b == b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &[][..]),
            };
            if !command.is_ascii() {
                wire.send("500 Error: bad syntax")?;
                continue;
            }
            let command = String::from_utf8_lossy(command).to_ascii_uppercase();
            let arg = String::from_utf8_lossy(arg);
            let arg = Some(arg.trim()).filter(|a| !a.is_empty());
            let limit = if s.extended && command == "MAIL" {
                MAIL_LIMIT_EXTENDED
            } else {
                COMMAND_LIMIT
            };
            if line.len() > limit {
                wire.send("500 Command line too long")?;
                continue;
            }
            if self.requires_starttls()
                && !wire.is_tls()
                && !ALLOWED_BEFORE_STARTTLS.contains(&command.as_str())
            {
                wire.send("530 Must issue a STARTTLS command first")?;
                continue;
            }
            match command.as_str() {
                "HELO" => self.helo(wire, s, arg)?,
                "EHLO" => self.ehlo(wire, s, arg)?,
                "NOOP" => wire.send("250 OK")?,
                "QUIT" => {
                    if arg.is_some() {
                        wire.send("501 Syntax: QUIT")?;
                    } else {
                        wire.send("221 Bye")?;
                        return Ok(Turn::Hang);
                    }
                }
                "STARTTLS" => {
                    if arg.is_some() {
                        wire.send("501 Syntax: STARTTLS")?;
                    } else if !self.offers_starttls() || wire.is_tls() {
                        wire.send("454 TLS not available")?;
                    } else {
                        wire.send("220 Ready to start TLS")?;
                        return Ok(Turn::Starttls);
                    }
                }
                "AUTH" => self.auth(wire, s, arg)?,
                "HELP" => self.help(wire, s, arg)?,
                "VRFY" => {
                    if !self.needs_auth(wire, s)? {
                        match arg {
                            None => wire.send("501 Syntax: VRFY <address>")?,
                            Some(arg) => match address(arg) {
                                None => wire.send(&format!("502 Could not VRFY {arg}"))?,
                                Some(_) => wire.send(
                                    "252 Cannot VRFY user, but will accept message \
                                     and attempt delivery",
                                )?,
                            },
                        }
                    }
                }
                "MAIL" => self.mail(wire, s, arg)?,
                "RCPT" => self.rcpt(wire, s, arg)?,
                "RSET" => {
                    if arg.is_some() {
                        wire.send("501 Syntax: RSET")?;
                    } else {
                        s.reset_envelope();
                        wire.send("250 OK")?;
                    }
                }
                "DATA" => self.data(wire, s, arg)?,
                "EXPN" => wire.send("502 EXPN not implemented")?,
                _ => {
                    s.bogus_left = s.bogus_left.saturating_sub(1);
                    if s.bogus_left == 0 {
                        wire.send("502 5.5.1 Too many unrecognized commands, goodbye.")?;
                        return Ok(Turn::Hang);
                    }
                    wire.send(&format!("500 Error: command \"{command}\" not recognized"))?;
                }
            }
        }
    }

    /// Answers `503` unless the client greeted; true if it did not.
    fn needs_helo(&self, wire: &mut Wire, s: &Session, helo: &str) -> io::Result<bool> {
        if s.host_name.is_some() {
            return Ok(false);
        }
        wire.send(&format!("503 Error: send {helo} first"))?;
        Ok(true)
    }

    /// Answers `530` if AUTH is required and not done; true then.
    fn needs_auth(&self, wire: &mut Wire, s: &Session) -> io::Result<bool> {
        if self.shared.opts.auth.is_none() || s.authenticated.is_some() {
            return Ok(false);
        }
        wire.send("530 5.7.0 Authentication required")?;
        Ok(true)
    }

    fn helo(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> io::Result<()> {
        let Some(hostname) = arg else {
            return wire.send("501 Syntax: HELO hostname");
        };
        s.reset_envelope();
        s.extended = false;
        s.host_name = Some(hostname.to_owned());
        wire.send(&format!("250 {HOSTNAME}"))
    }

    fn ehlo(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> io::Result<()> {
        let Some(hostname) = arg else {
            return wire.send("501 Syntax: EHLO hostname");
        };
        s.reset_envelope();
        s.extended = true;
        s.host_name = Some(hostname.to_owned());
        let mut lines = vec![
            format!("250-{HOSTNAME}"),
            format!("250-SIZE {DATA_SIZE_LIMIT}"),
            "250-8BITMIME".to_owned(),
            "250-SMTPUTF8".to_owned(),
        ];
        if self.offers_starttls() && !wire.is_tls() {
            lines.push("250-STARTTLS".to_owned());
        }
        // No credentials, no AUTH offered: offering it would invite a login
        // that cannot succeed.
        if self.shared.opts.auth.is_some() && (!self.auth_requires_starttls() || wire.is_tls()) {
            lines.push("250-AUTH LOGIN PLAIN".to_owned());
        }
        lines.push("250 HELP".to_owned());
        wire.send(&lines.join("\r\n"))
    }

    fn help(&self, wire: &mut Wire, s: &Session, arg: Option<&str>) -> io::Result<()> {
        if self.needs_auth(wire, s)? {
            return Ok(());
        }
        let available = |name: &str| name != "STARTTLS" || self.offers_starttls();
        if let Some(arg) = arg {
            let wanted = arg.to_ascii_uppercase();
            if let Some((_, syntax, extended)) = SYNTAX
                .iter()
                .find(|(name, _, _)| *name == wanted && available(name))
            {
                let extended = if s.extended { *extended } else { "" };
                return wire.send(&format!("250 Syntax: {syntax}{extended}"));
            }
        }
        let code = if arg.is_some() { 501 } else { 250 };
        let names: Vec<&str> = SYNTAX
            .iter()
            .map(|(name, _, _)| *name)
            .filter(|name| available(name))
            .collect();
        wire.send(&format!("{code} Supported commands: {}", names.join(" ")))
    }

    fn auth(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> Result<(), Fault> {
        if self.needs_helo(wire, s, "EHLO")? {
            return Ok(());
        }
        if !s.extended {
            return Ok(wire.send("500 Error: command 'AUTH' not recognized")?);
        }
        if self.auth_requires_starttls() && !wire.is_tls() {
            return Ok(
                wire.send("538 5.7.11 Encryption required for requested authentication mechanism")?
            );
        }
        if s.authenticated.is_some() {
            return Ok(wire.send("503 Already authenticated")?);
        }
        let Some(arg) = arg else {
            return Ok(wire.send("501 Not enough value")?);
        };
        let args: Vec<&str> = arg.split_whitespace().collect();
        if args.len() > 2 {
            return Ok(wire.send("501 Too many values")?);
        }
        // Matched as sent, upper case, as aiosmtpd does.
        let credentials = match args[0] {
            "PLAIN" => plain(wire, args.get(1).copied())?,
            "LOGIN" => login(wire, args.get(1).copied())?,
            _ => return Ok(wire.send("504 5.5.4 Unrecognized authentication type")?),
        };
        // None: the mechanism already answered (a bad encoding, an abort).
        let Some((user, password)) = credentials else {
            return Ok(());
        };
        match &self.shared.opts.auth {
            Some((want_user, want_password))
                if user == want_user.as_bytes() && password == want_password.as_bytes() =>
            {
                s.authenticated = Some(want_user.clone());
                Ok(wire.send("235 2.7.0 Authentication successful")?)
            }
            _ => Ok(wire.send("535 5.7.8 Authentication credentials invalid")?),
        }
    }

    fn mail(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> io::Result<()> {
        if self.needs_helo(wire, s, "HELO")? || self.needs_auth(wire, s)? {
            return Ok(());
        }
        let Some((addr, params, syntax)) = envelope(wire, s, arg, "MAIL FROM:")? else {
            return Ok(());
        };
        if s.mail_from.is_some() {
            return wire.send("503 Error: nested MAIL command");
        }
        let Some(mut params) = parameters(params) else {
            return wire.send(&syntax);
        };
        if let Some(body) = params.remove("BODY")
            && !matches!(body.as_deref(), Some("7BIT" | "8BITMIME"))
        {
            return wire.send("501 Error: BODY can only be one of 7BIT, 8BITMIME");
        }
        if let Some(Some(_)) = params.remove("SMTPUTF8") {
            return wire.send("501 Error: SMTPUTF8 takes no arguments");
        }
        if let Some(size) = params.remove("SIZE") {
            match size.as_deref().map(str::parse::<u64>) {
                Some(Ok(size)) if size > DATA_SIZE_LIMIT as u64 => {
                    return wire.send("552 Error: message size exceeds fixed maximum message size");
                }
                Some(Ok(_)) => {}
                _ => return wire.send(&syntax),
            }
        }
        if !params.is_empty() {
            return wire.send("555 MAIL FROM parameters not recognized or not implemented");
        }
        s.mail_from = Some(addr);
        wire.send("250 OK")
    }

    fn rcpt(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> io::Result<()> {
        if self.needs_helo(wire, s, "HELO")? || self.needs_auth(wire, s)? {
            return Ok(());
        }
        if s.mail_from.is_none() {
            return wire.send("503 Error: need MAIL command");
        }
        let Some((addr, params, syntax)) = envelope(wire, s, arg, "RCPT TO:")? else {
            return Ok(());
        };
        let Some(params) = parameters(params) else {
            return wire.send(&syntax);
        };
        if !params.is_empty() {
            return wire.send("555 RCPT TO parameters not recognized or not implemented");
        }
        if let Some((reply, ReplyAt::Rcpt)) = &self.shared.opts.reply {
            lock(&self.shared.refusals).push(format!("RCPT {addr}"));
            return wire.send(reply);
        }
        s.rcpt_tos.push(addr);
        wire.send("250 OK")
    }

    fn data(&self, wire: &mut Wire, s: &mut Session, arg: Option<&str>) -> Result<(), Fault> {
        if self.needs_helo(wire, s, "HELO")? || self.needs_auth(wire, s)? {
            return Ok(());
        }
        if s.rcpt_tos.is_empty() {
            return Ok(wire.send("503 Error: need RCPT command")?);
        }
        if arg.is_some() {
            return Ok(wire.send("501 Syntax: DATA")?);
        }
        wire.send("354 End data with <CR><LF>.<CR><LF>")?;
        let mut content = Vec::new();
        let mut size = 0;
        // Past a limit, the rest is still read (the client is sending it),
        // then refused as a whole.
        let mut refusal: Option<&str> = None;
        loop {
            match wire.line()? {
                // The client went in the middle of the message.
                Line::Closed => return Err(Fault::Io(ErrorKind::UnexpectedEof.into())),
                Line::TooLong => {
                    refusal.get_or_insert("500 Line too long (see RFC5321 4.5.3.1.6)");
                    content = Vec::new();
                }
                // Only CRLF . CRLF ends it: a bare LF before the dot is
                // message text (no SMTP smuggling).
                Line::Text(line) if line == b".\r\n" => break,
                Line::Text(line) => {
                    size += line.len();
                    if size > DATA_SIZE_LIMIT {
                        refusal.get_or_insert("552 Error: Too much mail data");
                        content = Vec::new();
                    }
                    if refusal.is_none() {
                        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
                        content.extend_from_slice(unstuffed);
                    }
                }
            }
        }
        let mail_from = s.mail_from.take().unwrap_or_default();
        let rcpt_tos = std::mem::take(&mut s.rcpt_tos);
        if let Some(refusal) = refusal {
            return Ok(wire.send(refusal)?);
        }
        if let Some(pause) = self.shared.opts.pause {
            std::thread::sleep(pause);
        }
        if let Some((reply, ReplyAt::Data)) = &self.shared.opts.reply {
            lock(&self.shared.refusals).push("DATA".to_owned());
            return Ok(wire.send(reply)?);
        }
        lock(&self.shared.messages).push(Received {
            mail_from,
            rcpt_tos,
            data: String::from_utf8_lossy(&content).into_owned(),
            auth_user: s.authenticated.clone(),
            tls: wire.is_tls(),
            raw: content,
        });
        Ok(wire.send("250 2.0.0 OK queued")?)
    }
}

/// `arg` without `keyword` (any case) and the spaces after it; None if it
/// does not start with it.
fn strip_keyword<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let head = arg.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| arg[keyword.len()..].trim())
}

/// The address at the start of a MAIL or RCPT argument, `<a@b>` or bare, and
/// the rest (its parameters); None if it is malformed. The null path `<>`
/// comes back as `<>`, as aiosmtpd gives it.
/// The address and parameters after `MAIL FROM:` or `RCPT TO:` (`command`),
/// with the syntax reply that later checks answer; `None` once a reply that
/// they do not parse has been sent.
fn envelope<'a>(
    wire: &mut Wire,
    s: &Session,
    arg: Option<&'a str>,
    command: &str,
) -> io::Result<Option<(String, &'a str, String)>> {
    let syntax = if s.extended {
        format!("501 Syntax: {command} <address> [SP <mail-parameters>]")
    } else {
        format!("501 Syntax: {command} <address>")
    };
    let keyword = command.split_once(' ').map_or(command, |(_, k)| k);
    let rest = arg.and_then(|a| strip_keyword(a, keyword)).unwrap_or("");
    if rest.is_empty() {
        wire.send(&syntax)?;
        return Ok(None);
    }
    let Some((addr, params)) = address(rest) else {
        wire.send("553 5.1.3 Error: malformed address")?;
        return Ok(None);
    };
    if !s.extended && !params.is_empty() {
        wire.send(&syntax)?;
        return Ok(None);
    }
    Ok(Some((addr, params, syntax)))
}

fn address(arg: &str) -> Option<(String, &str)> {
    let arg = arg.trim_start();
    let (addr, rest) = if let Some(inner) = arg.strip_prefix('<') {
        let close = inner.find('>')?;
        (&inner[..close], &inner[close + 1..])
    } else {
        let end = arg.find(char::is_whitespace).unwrap_or(arg.len());
        (&arg[..end], &arg[end..])
    };
    if addr.is_empty() {
        return arg.starts_with('<').then(|| ("<>".to_owned(), rest.trim()));
    }
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>');
    if addr.contains(bad) {
        return None;
    }
    if let Some((local, domain)) = addr.rsplit_once('@')
        && (local.is_empty() || domain.is_empty())
    {
        return None;
    }
    Some((addr.to_owned(), rest.trim()))
}

/// ESMTP parameters (`NAME` or `NAME=value`, names upper-cased); None if one
/// is not of that form (RFC 5321 §4.1.2).
fn parameters(params: &str) -> Option<std::collections::HashMap<String, Option<String>>> {
    let mut found = std::collections::HashMap::new();
    for param in params.to_ascii_uppercase().split_whitespace() {
        let (name, value) = match param.split_once('=') {
            Some((_, "")) => return None,
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (param, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        found.insert(name.to_owned(), value);
    }
    Some(found)
}

/// A login and a password, as the client sent them.
type Credentials = (Vec<u8>, Vec<u8>);

/// Credentials of AUTH PLAIN, from its initial response or a challenge:
/// `authzid NUL login NUL password` (RFC 4616).
fn plain(wire: &mut Wire, initial: Option<&str>) -> Result<Option<Credentials>, Fault> {
    let blob = match initial {
        Some(initial) => match BASE64.decode(initial) {
            Ok(blob) => blob,
            Err(_) => {
                wire.send("501 5.5.2 Can't decode base64")?;
                return Ok(None);
            }
        },
        None => match challenge(wire, b"")? {
            Some(blob) => blob,
            None => return Ok(None),
        },
    };
    let parts: Vec<&[u8]> = blob.split(|&b| b == 0).collect();
    let [_, login, password] = parts.as_slice() else {
        wire.send("501 5.5.2 Can't split auth value")?;
        return Ok(None);
    };
    Ok(Some((login.to_vec(), password.to_vec())))
}

/// Credentials of AUTH LOGIN: the login (initial response or challenge),
/// then the password by challenge. The prompts are aiosmtpd's.
fn login(wire: &mut Wire, initial: Option<&str>) -> Result<Option<Credentials>, Fault> {
    let login = match initial {
        Some(initial) => match BASE64.decode(initial) {
            Ok(login) => login,
            Err(_) => {
                wire.send("501 5.5.2 Can't decode base64")?;
                return Ok(None);
            }
        },
        None => match challenge(wire, b"User Name\0")? {
            Some(login) => login,
            None => return Ok(None),
        },
    };
    let Some(password) = challenge(wire, b"Password\0")? else {
        return Ok(None);
    };
    Ok(Some((login, password)))
}

/// Sends `334 <base64 prompt>` and decodes the answer; None (answered) if the
/// client aborted with `*` or sent no base64.
fn challenge(wire: &mut Wire, prompt: &[u8]) -> Result<Option<Vec<u8>>, Fault> {
    wire.send(&format!("334 {}", BASE64.encode(prompt)))?;
    let answer = match wire.line()? {
        Line::Text(line) => line,
        // Longer than any credentials this server takes: not worth decoding.
        Line::TooLong => {
            wire.send("501 5.5.2 Can't decode base64")?;
            return Ok(None);
        }
        Line::Closed => return Err(Fault::Io(ErrorKind::UnexpectedEof.into())),
    };
    let answer = answer.trim_ascii();
    if answer == b"*" {
        wire.send("501 5.7.0 Auth aborted")?;
        return Ok(None);
    }
    match BASE64.decode(answer) {
        Ok(decoded) => Ok(Some(decoded)),
        Err(_) => {
            wire.send("501 5.5.2 Can't decode base64")?;
            Ok(None)
        }
    }
}
