//! The ISO-8601 times of the owner scheme, as Python writes and reads them.

use chrono::{DateTime, Timelike, Utc};

/// `datetime.utcnow().isoformat() + "Z"`, the form the Python SDK signs: microseconds only when
/// they are not zero (`2025-01-01T12:00:00Z`, `2025-01-01T12:00:00.250000Z`).
pub(crate) fn format_utc(t: DateTime<Utc>) -> String {
    let micros = t.nanosecond() / 1_000 % 1_000_000;
    if micros == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{micros:06}Z", t.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// An ISO-8601 time with a UTC offset or `Z` (RFC 3339, any number of fraction digits). Times
/// without an offset are refused: the reference compares them with an aware `now` and fails.
pub(crate) fn parse_aware(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_like_python_isoformat() {
        let t = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_utc(t), "2025-01-02T03:04:05Z");
        let t = t + chrono::TimeDelta::microseconds(250_000);
        assert_eq!(format_utc(t), "2025-01-02T03:04:05.250000Z");
        let t = t + chrono::TimeDelta::nanoseconds(999);
        assert_eq!(format_utc(t), "2025-01-02T03:04:05.250000Z");
    }

    #[test]
    fn parses_offsets_and_refuses_naive_times() {
        let t = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(parse_aware("2025-01-02T03:04:05Z"), Some(t));
        assert_eq!(parse_aware("2025-01-02T05:04:05+02:00"), Some(t));
        assert_eq!(parse_aware("2025-01-02T03:04:05.000000Z"), Some(t));
        assert_eq!(parse_aware("2025-01-02T03:04:05"), None);
        assert_eq!(parse_aware("tomorrow"), None);
    }
}
