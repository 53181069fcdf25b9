//! The relay's flag values: percentages (`20%`), durations (`50ms`, `1.5s`) and rates
//! (`64k`, `1MB/s`).
//!
//! Each parser is a clap `value_parser`: a bad value is a usage error (exit status 2) that
//! says what was expected, never a panic. Every value has an upper bound, so no flag can ask
//! for a delay of a thousand years or a probability of 300%.

use std::fmt;
use std::time::Duration;

/// The longest `--delay`, `--jitter`, `--idle-timeout` or `--reorder-hold` accepted: one hour.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A probability, given on the command line as a percentage: `20%`, `20` or `0.5%`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(f64);

impl Percent {
    /// No chance at all.
    pub const ZERO: Percent = Percent(0.0);

    /// The probability as a fraction, from 0.0 to 1.0.
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }

    /// Whether this never happens.
    pub fn is_zero(self) -> bool {
        self.0 == 0.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// `--listen` and `--to`: `HOST:PORT` (`[::1]:PORT` for IPv6), checked for its form here, so
/// that a missing port is a usage error; the host is looked up when the relay starts.
pub fn parse_host_port(text: &str) -> Result<String, String> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(text.into()),
        _ => Err("expected HOST:PORT, e.g. 127.0.0.1:12001 ([::1]:12001 for IPv6)".into()),
    }
}

/// Parses `20%`, `20` (also a percentage) or `0.5%`: from 0 to 100.
pub fn parse_percent(text: &str) -> Result<Percent, String> {
    let trimmed = text.trim();
    let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && (0.0..=100.0).contains(&value) => Ok(Percent(value)),
        _ => Err(format!("'{text}' is not a percentage from 0 to 100 (e.g. 20% or 0.5%)")),
    }
}

/// Parses a duration with its unit: `50ms`, `1.5s`, `200us`, `2m`; a bare `0` is allowed.
/// At most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let bad = || {
        format!(
            "'{text}' is not a duration: give a number and a unit, e.g. 50ms, 1.5s, 200us, 2m \
             (at most 1 hour)"
        )
    };
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(bad()),
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let duration = Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| bad())?;
    if duration > MAX_DURATION {
        return Err(bad());
    }
    Ok(duration)
}

/// Shows a duration the way the flags take it: `50ms`, `1.5s`, `0`.
pub fn show_duration(duration: Duration) -> String {
    if duration.is_zero() {
        "0".to_string()
    } else if duration < Duration::from_millis(1) {
        format!("{}us", duration.as_micros())
    } else if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_secs_f64() * 1e3)
    } else {
        format!("{}s", duration.as_secs_f64())
    }
}

/// A link's speed in bytes per second, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate(Option<u64>);

impl Rate {
    /// No rate limit: datagrams leave as fast as the relay can send them.
    pub const UNLIMITED: Rate = Rate(None);

    /// Bytes per second, if limited.
    pub fn bytes_per_second(self) -> Option<u64> {
        self.0
    }

    /// How long `bytes` take to pass a link of this rate (zero if unlimited).
    pub fn transmission_time(self, bytes: usize) -> Duration {
        match self.0 {
            None => Duration::ZERO,
            Some(rate) => {
                let nanos = (bytes as u128 * 1_000_000_000) / u128::from(rate.max(1));
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("unlimited"),
            Some(rate) => write!(f, "{rate} bytes/s"),
        }
    }
}

/// Parses a rate in bytes per second: `64000`, `64k`, `1.5M`, `64kB/s`; `unlimited` (or
/// `0`) for no limit. `k`, `M`, `G` are powers of 1000, as for link speeds.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let trimmed = text.trim();
    if trimmed == "0" || trimmed.eq_ignore_ascii_case("unlimited") {
        return Ok(Rate::UNLIMITED);
    }
    let bytes = parse_quantity(trimmed.strip_suffix("/s").unwrap_or(trimmed)).ok_or_else(|| {
        format!(
            "'{text}' is not a rate in bytes per second: e.g. 64000, 64k, 1.5M, 64kB/s, \
             or unlimited"
        )
    })?;
    Ok(Rate(Some(bytes)))
}

/// Parses a size in bytes: `65536`, `64k`, `32M` (powers of 1000); at least 1.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    parse_quantity(text.trim())
        .ok_or_else(|| format!("'{text}' is not a number of bytes: e.g. 65536, 64k, 32M"))
}

/// `number[k|M|G][B]`, from 1 to 10^15.
fn parse_quantity(text: &str) -> Option<u64> {
    let text = text.strip_suffix('B').unwrap_or(text);
    let (number, multiplier) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1e3),
        Some((at, 'M')) => (&text[..at], 1e6),
        Some((at, 'G')) => (&text[..at], 1e9),
        _ => (text, 1.0),
    };
    let value = number.trim().parse::<f64>().ok()? * multiplier;
    if !value.is_finite() || !(1.0..=1e15).contains(&value) {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the value was checked to lie between 1 and 10^15"
    )]
    Some(value.round() as u64)
}
