//! A small, seedable random number generator: SplitMix64.
//!
//! The relay's "bad network" is a dice roll per datagram. A seeded generator makes a run
//! reproducible: the same `--seed` and the same datagrams give the same losses, duplicates
//! and delays, so a student can show a classmate exactly what went wrong.
//!
//! SplitMix64 (Steele, Lea and Flood, 2014; the seeder of Java's `SplittableRandom` and of
//! the xoshiro generators) is ten lines, passes the usual statistical tests, and needs no
//! crate. It is not for cryptography, and it does not need to be.

use std::time::{SystemTime, UNIX_EPOCH};

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator that starts from `seed`; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`, with 53 random bits (all an `f64` holds).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (0 never, 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A number in `[0, n)`, without the bias of `% n` (Lemire's multiply-and-shift);
    /// 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }
}

/// Mixes `seed` with a stream number, for independent generators from one seed (one per
/// client and direction, so one client's traffic does not change another's dice).
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    SplitMix64::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

/// A seed for a run without `--seed`: the clock, mixed with the process id.
pub fn fresh_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let low = u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or(0);
    stream_seed(low, u64::from(std::process::id())) % 1_000_000
}
