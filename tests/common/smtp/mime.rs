//! Reads a received message as a person's mail program would, for tests that
//! check what an admin is shown: the Subject with its RFC 2047 encoded words
//! decoded, and the text body with its transfer encoding and charset undone
//! (RFC 2045, 2046). Lenient where mail programs are, since a test should see
//! what arrived rather than a parse error; the rules are those of Python's
//! email package, which decoded messages for these tests before.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// Base64 that takes text with or without its `=` padding, as mail programs do.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The Subject, unfolded and decoded; empty if there is none.
pub(super) fn subject(raw: &[u8]) -> String {
    Part::parse(raw)
        .header("subject")
        .map(decode_words)
        .unwrap_or_default()
}

/// The text of the text/plain part (else of the text/html part), decoded;
/// empty if there is neither. Line ends are as sent.
pub(super) fn text_body(raw: &[u8]) -> String {
    let root = Part::parse(raw);
    ["plain", "html"]
        .iter()
        .find_map(|subtype| root.find_text(subtype))
        .map(|part| part.text())
        .unwrap_or_default()
}

/// A message or one part of a multipart body.
struct Part<'a> {
    /// Fields in order: names as sent, values unfolded.
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl<'a> Part<'a> {
    /// Splits the header block (up to the first empty line) from the body.
    fn parse(raw: &'a [u8]) -> Part<'a> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut at = 0;
        while at < raw.len() {
            let end = raw[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |i| at + i + 1);
            let line = String::from_utf8_lossy(&raw[at..end]);
            let text = line.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                at = end;
                break;
            }
            if text.starts_with([' ', '\t']) {
                // A continuation: unfolding drops the line break and keeps
                // the white space (RFC 5322 §2.2.3).
                if let Some((_, value)) = headers.last_mut() {
                    value.push_str(text);
                    at = end;
                    continue;
                }
            }
            let Some((name, value)) = text.split_once(':') else {
                // Not a header: the body starts here, without a blank line.
                break;
            };
            headers.push((
                name.trim_end().to_owned(),
                value.trim_start_matches([' ', '\t']).to_owned(),
            ));
            at = end;
        }
        Part {
            headers,
            body: &raw[at..],
        }
    }

    /// The first field called `name` (any case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The media type, lower case, and its parameters (names lower case);
    /// text/plain when none is given (RFC 2045 §5.2).
    fn content_type(&self) -> (String, Vec<(String, String)>) {
        let Some(value) = self.header("content-type") else {
            return ("text/plain".to_owned(), Vec::new());
        };
        let (media, params) = value.split_once(';').unwrap_or((value, ""));
        (media.trim().to_ascii_lowercase(), parameters(params))
    }

    fn param(&self, name: &str) -> Option<String> {
        self.content_type()
            .1
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn is_attachment(&self) -> bool {
        self.header("content-disposition").is_some_and(|d| {
            d.split(';')
                .next()
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("attachment"))
        })
    }

    /// The first text/`subtype` part that is not an attachment, looking into
    /// multiparts depth first; of a multipart/related, only its root part
    /// (RFC 2387: the `start` parameter, else the first part).
    fn find_text(&self, subtype: &str) -> Option<Part<'a>> {
        if self.is_attachment() {
            return None;
        }
        let (media, _) = self.content_type();
        let (main, sub) = media.split_once('/').unwrap_or((media.as_str(), ""));
        match main {
            "text" if sub == subtype => Some(Part {
                headers: self.headers.clone(),
                body: self.body,
            }),
            "multipart" => {
                let parts = self.subparts();
                if sub == "related" {
                    let start = self.param("start");
                    let root = parts
                        .iter()
                        .find(|p| start.is_some() && p.header("content-id") == start.as_deref())
                        .or_else(|| parts.first())?;
                    return root.find_text(subtype);
                }
                parts.iter().find_map(|p| p.find_text(subtype))
            }
            _ => None,
        }
    }

    /// The parts of a multipart body, between its boundary lines; the line
    /// break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
    fn subparts(&self) -> Vec<Part<'a>> {
        let Some(boundary) = self.param("boundary") else {
            return Vec::new();
        };
        let delimiter = format!("--{boundary}");
        let body = self.body;
        let mut parts = Vec::new();
        // Where the current part began, once the first boundary was seen.
        let mut start: Option<usize> = None;
        let mut at = 0;
        while at < body.len() {
            let end = body[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |i| at + i + 1);
            let line = body[at..end].trim_ascii_end();
            if let Some(rest) = line.strip_prefix(delimiter.as_bytes())
                && (rest.is_empty() || rest == b"--")
            {
                if let Some(begin) = start {
                    let mut stop = at;
                    if stop > begin && body[stop - 1] == b'\n' {
                        stop -= 1;
                        if stop > begin && body[stop - 1] == b'\r' {
                            stop -= 1;
                        }
                    }
                    parts.push(Part::parse(&body[begin..stop]));
                }
                if rest == b"--" {
                    return parts;
                }
                start = Some(end);
            }
            at = end;
        }
        parts
    }

    /// The body with its Content-Transfer-Encoding undone and its charset
    /// (us-ascii when none is given) decoded, bad bytes replaced.
    fn text(&self) -> String {
        let encoding = self
            .header("content-transfer-encoding")
            .map(|e| e.trim().to_ascii_lowercase());
        let bytes = match encoding.as_deref() {
            Some("base64") => {
                let text: Vec<u8> = self
                    .body
                    .iter()
                    .copied()
                    .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
                    .collect();
                LENIENT_BASE64
                    .decode(&text)
                    .unwrap_or_else(|_| self.body.to_vec())
            }
            Some("quoted-printable") => quoted_printable(self.body),
            _ => self.body.to_vec(),
        };
        let charset = self
            .param("charset")
            .unwrap_or_else(|| "us-ascii".to_owned());
        decode_charset(&bytes, &charset)
    }
}

/// `; name=value` parameters, values unquoted (RFC 2045 §5.1).
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        let Some(eq) = rest.find('=') else {
            return found;
        };
        let name = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut consumed = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        consumed = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[consumed..];
            value
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            let value = rest[..end].trim().to_owned();
            rest = &rest[end..];
            value
        };
        found.push((name, value));
    }
}

/// Quoted-printable undone: `=XX` is a byte, `=` at a line's end a soft break.
fn quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'=' {
            out.push(text[i]);
            i += 1;
            continue;
        }
        // Transport may leave spaces after a soft break's `=` (RFC 2045 §6.7).
        let after = &text[i + 1..];
        let blank = after
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        match &after[blank..] {
            [b'\r', b'\n', ..] => i += 1 + blank + 2,
            [b'\n', ..] => i += 1 + blank + 1,
            [] => i = text.len(),
            [h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let hex = [*h, *l];
                let byte = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(byte) => out.push(byte),
                    None => out.extend_from_slice(&text[i..i + 3]),
                }
                i += 3;
            }
            _ => {
                // Not an escape: kept as it stands.
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

/// `bytes` in `charset`: UTF-8, US-ASCII and ISO-8859-1 as such, anything
/// else as UTF-8; bytes that are not in the charset become U+FFFD.
fn decode_charset(bytes: &[u8], charset: &str) -> String {
    match charset.trim().to_ascii_lowercase().as_str() {
        "us-ascii" | "ascii" => bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
            .collect(),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" => {
            bytes.iter().map(|&b| b as char).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A piece of an unstructured header field.
enum Piece<'a> {
    Space(&'a str),
    Text(&'a str),
    /// An encoded word: its charset and its bytes.
    Encoded(String, Vec<u8>),
}

/// An unstructured field (a Subject) with its encoded words decoded. White
/// space between two encoded words goes (RFC 2047 §6.2), and neighbouring
/// words in one charset are joined before decoding, so a character split
/// across two words comes out whole.
fn decode_words(value: &str) -> String {
    let mut pieces: Vec<Piece<'_>> = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let blank = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if blank > 0 {
            pieces.push(Piece::Space(&rest[..blank]));
            rest = &rest[blank..];
            continue;
        }
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let token = &rest[..end];
        pieces.push(match encoded_word(token) {
            Some((charset, bytes)) => Piece::Encoded(charset, bytes),
            None => Piece::Text(token),
        });
        rest = &rest[end..];
    }

    let mut out = String::new();
    // Bytes of encoded words not yet decoded, and their charset.
    let mut pending: Option<(String, Vec<u8>)> = None;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Encoded(charset, bytes) => match &mut pending {
                Some((open, held)) if open.eq_ignore_ascii_case(charset) => {
                    held.extend_from_slice(bytes);
                }
                _ => {
                    if let Some((open, held)) = pending.take() {
                        out.push_str(&decode_charset(&held, &open));
                    }
                    pending = Some((charset.clone(), bytes.clone()));
                }
            },
            Piece::Space(space) => {
                let before = i.checked_sub(1).and_then(|j| pieces.get(j));
                let between_words = matches!(before, Some(Piece::Encoded(..)))
                    && matches!(pieces.get(i + 1), Some(Piece::Encoded(..)));
                if !between_words {
                    if let Some((open, held)) = pending.take() {
                        out.push_str(&decode_charset(&held, &open));
                    }
                    out.push_str(space);
                }
            }
            Piece::Text(text) => {
                if let Some((open, held)) = pending.take() {
                    out.push_str(&decode_charset(&held, &open));
                }
                out.push_str(text);
            }
        }
    }
    if let Some((open, held)) = pending.take() {
        out.push_str(&decode_charset(&held, &open));
    }
    out
}

/// `=?charset?B|Q?text?=` (RFC 2047 §2) as its charset (any language tag
/// dropped, RFC 2231 §5) and bytes; None if `token` is not one.
fn encoded_word(token: &str) -> Option<(String, Vec<u8>)> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let charset = fields.next()?;
    let encoding = fields.next()?;
    let text = fields.next()?;
    if charset.is_empty() || text.contains('?') {
        return None;
    }
    let charset = charset.split('*').next().unwrap_or(charset).to_owned();
    let bytes = match encoding {
        "B" | "b" => general_purpose::STANDARD
            .decode(text)
            .or_else(|_| LENIENT_BASE64.decode(text.trim_end_matches('=')))
            .ok()?,
        "Q" | "q" => {
            let underscored: Vec<u8> = text
                .bytes()
                .map(|b| if b == b'_' { b' ' } else { b })
                .collect();
            quoted_printable(&underscored)
        }
        _ => return None,
    };
    Some((charset, bytes))
}
