//! Parsing flag values, with errors that say the rule in words.
//!
//! clap's own range check says `0 is not in 1..18446744073709551615`; a student learns more
//! from `give a whole number, at least 1`. Every parser here says what a right value is.

use std::time::Duration;

/// The most seconds any duration flag takes: an hour. Every wait and every run is bounded.
pub const MAX_SECONDS: f64 = 3600.0;

/// Parses a number of seconds such as `5` or `0.25`: more than 0, at most an hour.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds = parse_number_of_seconds(text)?;
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(format!("{text} s is out of range: give more than 0 and at most 3600"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a number of seconds that may be 0 (a pause): 0 or more, at most an hour.
pub fn parse_seconds_or_zero(text: &str) -> Result<Duration, String> {
    let seconds = parse_number_of_seconds(text)?;
    if !(0.0..=MAX_SECONDS).contains(&seconds) {
        return Err(format!("{text} s is out of range: give 0 or more, at most 3600"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_number_of_seconds(text: &str) -> Result<f64, String> {
    text.trim().parse().map_err(|_| format!("'{text}' is not a number of seconds (try 5 or 0.5)"))
}

/// Parses a count of things to do (`--count`): a whole number, at least 1.
pub fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("0 is too few: give a whole number, at least 1".to_string()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("'{text}' is not a count: give a whole number, at least 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_whole_and_fractional() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn seconds_must_be_positive_finite_and_at_most_an_hour() {
        for bad in ["0", "-1", "NaN", "inf", "3601", "five", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse_seconds("0"),
            Err("0 s is out of range: give more than 0 and at most 3600".to_string())
        );
    }

    #[test]
    fn pauses_may_be_zero_seconds_and_say_so_when_refused() {
        assert_eq!(parse_seconds_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seconds_or_zero("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_seconds_or_zero("-1"),
            Err("-1 s is out of range: give 0 or more, at most 3600".to_string())
        );
        assert!(parse_seconds_or_zero("NaN").is_err());
    }

    #[test]
    fn counts_are_whole_numbers_from_one_and_say_so() {
        assert_eq!(parse_count("5"), Ok(5));
        assert_eq!(parse_count("0"), Err("0 is too few: give a whole number, at least 1".into()));
        assert!(parse_count("-1").unwrap_err().contains("at least 1"));
        assert!(parse_count("2.5").unwrap_err().contains("whole number"));
    }
}
