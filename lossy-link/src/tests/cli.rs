//! The command line: `--help`, the flag values and their units, per-direction overrides,
//! usage errors (exit status 2), and a runtime error as one line.

use std::time::Duration;

use clap::Parser;
use clap::error::ErrorKind;
use shared::log::Log;

use crate::args::{Args, Impairment};
use crate::relay::Relay;
use crate::units::{Rate, parse_duration, parse_percent, parse_rate};

use super::helpers::bind_loopback;

#[test]
fn help_names_the_defaults_and_the_directions() {
    use clap::CommandFactory;
    let help = Args::command().render_long_help().to_string();
    for expected in
        ["127.0.0.1:12001", "127.0.0.1:12000", "--loss-up", "--loss-down", "client -> server"]
    {
        assert!(help.contains(expected), "--help should mention {expected:?}:\n{help}");
    }
}

#[test]
fn flags_parse_percentages_durations_and_rates() {
    assert_eq!(parse_percent("20%").unwrap().fraction(), 0.2, "20% should be a fraction of 0.2");
    assert_eq!(parse_percent("20").unwrap().fraction(), 0.2, "a bare 20 should mean 20%");
    assert_eq!(
        parse_percent("0.5%").unwrap().fraction(),
        0.005,
        "0.5% should be a fraction of 0.005"
    );
    for bad in ["101%", "-1", "abc", "", "NaN"] {
        assert!(parse_percent(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(
        parse_duration("50ms").unwrap(),
        Duration::from_millis(50),
        "50ms should be 50 milliseconds"
    );
    assert_eq!(
        parse_duration("1.5s").unwrap(),
        Duration::from_millis(1500),
        "1.5s should be one and a half seconds"
    );
    assert_eq!(
        parse_duration("200us").unwrap(),
        Duration::from_micros(200),
        "200us should be 200 microseconds"
    );
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120), "2m should be two minutes");
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO, "a bare 0 should be no delay");
    for bad in ["50", "ms", "-5ms", "2h", "61m", "1e400s"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(
        parse_rate("64k").unwrap().bytes_per_second(),
        Some(64_000),
        "64k should be 64,000 bytes a second"
    );
    assert_eq!(
        parse_rate("1.5M").unwrap().bytes_per_second(),
        Some(1_500_000),
        "1.5M should be 1,500,000 bytes a second"
    );
    assert_eq!(
        parse_rate("64kB/s").unwrap().bytes_per_second(),
        Some(64_000),
        "64kB/s should be 64,000 bytes a second"
    );
    assert_eq!(parse_rate("unlimited").unwrap(), Rate::UNLIMITED, "unlimited should be no limit");
    assert!(parse_rate("fast").is_err(), "\"fast\" should be refused as a rate");
}

#[test]
fn per_direction_flags_override_the_shared_one() {
    let args = Args::try_parse_from([
        "lossy-link",
        "--loss",
        "20%",
        "--loss-down",
        "50%",
        "--delay",
        "10ms",
        "--delay-up",
        "0",
    ])
    .unwrap();
    assert_eq!(args.up().loss.fraction(), 0.2, "--loss should apply to client -> server");
    assert_eq!(
        args.down().loss.fraction(),
        0.5,
        "--loss-down should override --loss for server -> client"
    );
    assert_eq!(
        args.up().delay,
        Duration::ZERO,
        "--delay-up 0 should override --delay for client -> server"
    );
    assert_eq!(
        args.down().delay,
        Duration::from_millis(10),
        "--delay should apply to server -> client"
    );
    let plain = Args::try_parse_from(["lossy-link"]).unwrap();
    assert_eq!(
        (plain.up(), plain.down()),
        (Impairment::NONE, Impairment::NONE),
        "without flags the relay should impair neither direction"
    );
    assert_eq!(
        (plain.listen.as_str(), plain.to.as_str()),
        ("127.0.0.1:12001", "127.0.0.1:12000"),
        "by default the relay should listen on 127.0.0.1:12001 and relay to 127.0.0.1:12000"
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for argv in [
        &["lossy-link", "--loss", "120%"][..],
        &["lossy-link", "--delay", "50"],
        &["lossy-link", "--max-clients", "0"],
        &["lossy-link", "--rate", "quick"],
        &["lossy-link", "--listen", "127.0.0.1"],
        &["lossy-link", "--to", "localhost:port"],
    ] {
        let error = Args::try_parse_from(argv).err().unwrap();
        assert_eq!(
            error.kind(),
            ErrorKind::ValueValidation,
            "{argv:?} should be refused as a bad value: {error}"
        );
    }
}

#[test]
fn a_taken_port_is_a_one_line_error() {
    let taken = bind_loopback();
    let addr = taken.local_addr().unwrap().to_string();
    let args = Args::try_parse_from(["lossy-link", "--listen", &addr]).unwrap();
    let error = Relay::bind(&args, Log::capture(true).0).err().unwrap().to_string();
    assert!(
        error.starts_with(&format!("cannot bind {addr}: ")),
        "a taken port should say it cannot bind the address: {error}"
    );
    assert!(!error.contains('\n'), "the error should be one line: {error}");
}
