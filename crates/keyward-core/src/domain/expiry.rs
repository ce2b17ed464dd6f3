//! Expiry and grace periods as admins type them: a span (`30d`, `24h`, `2w`,
//! `90m`), a date (`2027-01-31`, valid through that day, UTC), an RFC 3339
//! instant, or `never`.

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// The longest span accepted, so that no date arithmetic can overflow.
const MAX_DAYS: i64 = 36_500;

/// When a key stops working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Never,
    At(DateTime<Utc>),
}

impl Expiry {
    /// Reads an expiry relative to `now`; a moment that is not in the future is refused.
    pub fn parse(s: &str, now: DateTime<Utc>) -> Result<Expiry> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("never") {
            return Ok(Expiry::Never);
        }
        let at = if let Some(span) = parse_span(s) {
            now + span?
        } else if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            // Valid through that day where the admin reads dates: its last
            // second in local time.
            DateTime::from_timestamp(super::local_day::end(date) - 1, 0).ok_or_else(|| bad(s))?
        } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            t.with_timezone(&Utc)
        } else {
            return Err(bad(s));
        };
        if at <= now {
            return Err(Error::usage(format!(
                "expiry {s} is not in the future; give a later date, a span such as 30d, or never"
            )));
        }
        Ok(Expiry::At(at))
    }

    /// As the store holds it: Unix seconds, or nothing for never.
    pub fn timestamp(self) -> Option<i64> {
        match self {
            Expiry::Never => None,
            Expiry::At(t) => Some(t.timestamp()),
        }
    }
}

/// Reads a span such as a grace period: `24h`, `30m`, `7d`, `2w`.
pub fn parse_duration(s: &str) -> Result<TimeDelta> {
    parse_span(s.trim()).unwrap_or_else(|| {
        Err(Error::usage(format!(
            "{s:?} is not a span of time; use e.g. 30m, 24h, 7d or 2w"
        )))
    })
}

/// `None` when `s` does not look like a span at all; `Some(Err)` when it does but is out of range.
/// A span in the largest unit that divides it, as an admin would type it back:
/// `90d`, `2w`, `36h`, `45m`.
pub fn format_duration(span: TimeDelta) -> String {
    let s = span.num_seconds();
    for (unit, size) in [('w', 7 * 86_400), ('d', 86_400), ('h', 3_600), ('m', 60)] {
        if s >= size && s % size == 0 {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{}m", (s / 60).max(1))
}

fn parse_span(s: &str) -> Option<Result<TimeDelta>> {
    let unit = s.chars().last()?;
    let digits = &s[..s.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds_per_unit: i64 = match unit {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    let too_long = || Error::usage(format!("{s} is too long; the most is {MAX_DAYS} days"));
    let n: i64 = match digits.parse() {
        Ok(n) => n,
        Err(_) => return Some(Err(too_long())),
    };
    let seconds = n.checked_mul(seconds_per_unit)?;
    if seconds > MAX_DAYS * 86_400 {
        return Some(Err(too_long()));
    }
    if seconds == 0 {
        return Some(Err(Error::usage(format!("{s} is an empty span of time"))));
    }
    Some(Ok(TimeDelta::seconds(seconds)))
}

fn bad(s: &str) -> Error {
    Error::usage(format!(
        "{s:?} is not an expiry; use a span (30d, 24h, 2w), a date (2027-01-31) or never"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    #[test]
    fn spans_count_from_now() {
        assert_eq!(
            Expiry::parse("30d", now()).unwrap(),
            Expiry::At(now() + TimeDelta::days(30))
        );
        assert_eq!(
            Expiry::parse("24h", now()).unwrap(),
            Expiry::At(now() + TimeDelta::hours(24))
        );
        assert_eq!(
            Expiry::parse("2w", now()).unwrap(),
            Expiry::At(now() + TimeDelta::days(14))
        );
        assert_eq!(
            Expiry::parse("90m", now()).unwrap(),
            Expiry::At(now() + TimeDelta::minutes(90))
        );
    }

    #[test]
    fn a_date_is_valid_through_that_day() {
        assert_eq!(
            Expiry::parse("2027-01-31", now()).unwrap(),
            Expiry::At(Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 59).unwrap())
        );
    }

    #[test]
    fn never_and_instants_are_understood() {
        assert_eq!(Expiry::parse("NEVER", now()).unwrap(), Expiry::Never);
        assert_eq!(Expiry::Never.timestamp(), None);
        assert_eq!(
            Expiry::parse("2027-01-01T10:00:00+02:00", now()).unwrap(),
            Expiry::At(Utc.with_ymd_and_hms(2027, 1, 1, 8, 0, 0).unwrap())
        );
    }

    #[test]
    fn past_dates_and_garbage_are_refused() {
        for bad in [
            "2020-01-01",
            "2026-11-21",
            "0d",
            "30",
            "d",
            "30y",
            "-5d",
            "3 0d",
            "",
            "99999999999999999999d",
            "36501d",
            "tomorrow",
        ] {
            let err = Expiry::parse(bad, now()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn grace_periods_are_spans() {
        assert_eq!(parse_duration("24h").unwrap(), TimeDelta::hours(24));
        assert_eq!(parse_duration(" 30m ").unwrap(), TimeDelta::minutes(30));
        assert!(parse_duration("2027-01-01").is_err());
        assert!(parse_duration("never").is_err());
    }

    #[test]
    fn a_span_prints_in_the_unit_it_was_typed_in_or_larger() {
        for typed in ["90d", "2w", "36h", "45m", "1d"] {
            let span = parse_duration(typed).unwrap();
            assert_eq!(parse_duration(&format_duration(span)).unwrap(), span);
        }
        assert_eq!(format_duration(parse_duration("90d").unwrap()), "90d");
        assert_eq!(format_duration(parse_duration("14d").unwrap()), "2w");
    }
}
