//! Message times: float seconds on the wire, ISO strings in some API forms.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Splits float seconds into whole seconds and microseconds the way CPython's
/// `datetime.fromtimestamp` does: the fraction is scaled to microseconds and rounded half-even.
pub(crate) fn split_micros(t: f64) -> Option<(i64, u32)> {
    if !t.is_finite() {
        return None;
    }
    let mut int = t.trunc();
    let mut us = ((t - int) * 1e6).round_ties_even();
    if us >= 1e6 {
        us -= 1e6;
        int += 1.0;
    } else if us < 0.0 {
        us += 1e6;
        int -= 1.0;
    }
    if int.abs() > 1e15 {
        return None;
    }
    Some((int as i64, us as u32))
}

/// The UTC datetime of float seconds, rounded to the microsecond as the reference node does.
pub(crate) fn datetime_of(t: f64) -> Option<DateTime<Utc>> {
    let (secs, us) = split_micros(t)?;
    DateTime::<Utc>::from_timestamp(secs, us * 1000)
}

/// Formats float seconds as RFC 3339 with microseconds and a `Z` suffix
/// (`2026-05-11T10:08:17.772651Z`), the form of `reception_time` in API answers.
pub fn time_to_rfc3339(t: f64) -> Option<String> {
    Some(datetime_of(t)?.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Reads a time that is a JSON number of seconds or an ISO-8601 string (with an offset, `Z`, or
/// naive UTC), as API forms of messages carry either.
pub fn parse_time_value(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_iso(s),
        _ => None,
    }
}

fn parse_iso(s: &str) -> Option<f64> {
    let dt = match DateTime::parse_from_rfc3339(s) {
        Ok(dt) => dt.with_timezone(&Utc),
        Err(_) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()?.and_utc(),
    };
    Some(dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_micros()) / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_even_to_the_microsecond() {
        assert_eq!(split_micros(1663944079.0289996), Some((1663944079, 29000)));
        assert_eq!(split_micros(1661451074.86), Some((1661451074, 860000)));
        assert_eq!(split_micros(-0.5), Some((-1, 500000)));
    }

    #[test]
    fn iso_forms() {
        let v = serde_json::json!("2024-11-20T16:02:43.214390+00:00");
        assert_eq!(parse_time_value(&v), Some(1732118563.21439));
        let v = serde_json::json!("2022-10-06T11:15:54.517756Z");
        assert_eq!(parse_time_value(&v), Some(1665054954.517756));
        assert_eq!(time_to_rfc3339(1665054954.517756).unwrap(), "2022-10-06T11:15:54.517756Z");
        assert_eq!(parse_time_value(&serde_json::json!(12)), Some(12.0));
        assert_eq!(parse_time_value(&serde_json::json!(null)), None);
    }
}
