//! E-mail addresses of operators: the rule an address must pass before it is
//! stored, so the mailer never meets one it cannot send to.

use crate::error::{Error, Result};
use crate::safe_text::escape;

/// An operator's address as typed, trimmed, if it can take mail.
pub fn parse_email(raw: &str) -> Result<String> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        // What the mailer takes, checked at the door: `a,b@…`, `a..b@…` and
        // `a@example..org` would otherwise be stored and fail forever.
        && email.parse::<lettre::Address>().is_ok()
        // ASCII only (a server without SMTPUTF8 refuses the whole envelope)
        // and a domain name, not a literal `[127.0.0.1]` the mailer refuses.
        && email.is_ascii()
        && email
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !valid {
        return Err(Error::usage(format!(
            "{} is not an email address",
            escape(email)
        )));
    }
    Ok(email.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(parse_email("ana@example.org").is_ok());
        for bad in [
            "ana",
            "@example.org",
            "ana@localhost",
            "a b@example.org",
            "ana@.org",
            "a,b@example.org",
            "a..b@example.org",
            "a@example..org",
            ".a@example.org",
            "a.@example.org",
            "ä@example.org",
            "a@éxample.org",
            "a@[127.0.0.1]",
            "a@exa_mple.org",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
