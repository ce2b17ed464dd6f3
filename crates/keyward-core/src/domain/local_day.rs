//! Calendar days as the admin reads them: in the host's local time zone (`TZ`),
//! the zone every date on screen and in the CLI is shown in. A date typed
//! (`--expires 2026-12-05`, `at:2026-12-01`) means that local day, so what is
//! typed and what is shown agree in Tokyo as in UTC.

use chrono::{Local, NaiveDate, NaiveTime, TimeZone};

/// The first second of `date` in local time, as Unix seconds. A day that
/// begins in a daylight-saving gap starts at its first second that exists.
pub fn start(date: NaiveDate) -> i64 {
    let midnight = date.and_time(NaiveTime::MIN);
    match Local.from_local_datetime(&midnight).earliest() {
        Some(t) => t.timestamp(),
        // No local midnight (a gap): the first whole hour after it.
        None => (1..=3)
            .find_map(|h| {
                Local
                    .from_local_datetime(&(midnight + chrono::TimeDelta::hours(h)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc().timestamp(), |t| t.timestamp()),
    }
}

/// The first second after `date` in local time.
pub fn end(date: NaiveDate) -> i64 {
    date.succ_opt().map_or(i64::MAX, start)
}
