//! Durations and moments as administrators type them, the same in a
//! `simul` command's arguments and a console form.

use chrono::{DateTime, Utc};

/// A duration such as `120m`, `2h`, `90s`, `1d` or `500ms`; a bare number
/// is minutes (as WebSphere counts).
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 120m, 2h, 90s or 1d"))?;
    let unit_ms = match unit {
        "" | "m" | "min" => 60_000,
        "ms" => 1,
        "s" => 1000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s, m, h or d)"));
        }
    };
    number.checked_mul(unit_ms).ok_or_else(|| format!("{text:?} is too long"))
}

/// A moment (RFC 3339, `2026-12-01T00:00:00Z`) or a duration before
/// `now` (`90m`, `24h`, `7d`), as ms since the Unix epoch: the `since` of
/// `simul audit` and of the console's audit filter.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<i64, String> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Ok(moment.timestamp_millis());
    }
    let ago = parse_duration_ms(text)
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor a duration like 24h"))?;
    Ok(now.timestamp_millis().saturating_sub(ago))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ms("120m"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("120"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert!(parse_duration_ms("2 weeks").is_err());
        assert!(parse_duration_ms("m").is_err());
    }

    #[test]
    fn since_is_a_moment_or_a_duration_ago() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().to_utc();
        assert_eq!(
            parse_since("2026-12-07T09:00:00Z", now),
            Ok(now.timestamp_millis() - 3_600_000)
        );
        assert_eq!(parse_since("1h", now), Ok(now.timestamp_millis() - 3_600_000));
        assert!(parse_since("yesterday", now).unwrap_err().contains("RFC 3339"));
    }
}
