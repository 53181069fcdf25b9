//! Latency percentiles without keeping every latency.

use std::time::Duration;

/// Latencies, counted in buckets so that memory stays small however long the run.
///
/// Values are microseconds. Below 32 µs each value has its own bucket; above, every power
/// of two (32–63, 64–127, ...) is split into 32 equal buckets, so a value is known to
/// within about 3%: plenty for "p99 is 0.8 ms". (This is the idea of HdrHistogram.)
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_micros: u64,
}

/// log2 of the number of buckets per power of two.
const SUB_BUCKET_BITS: u32 = 5;
const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;

impl Histogram {
    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let index = bucket_of(micros);
        if index >= self.counts.len() {
            // Grow only as far as the largest latency seen: a few hundred buckets at most.
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
        self.total += 1;
        self.max_micros = self.max_micros.max(micros);
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_micros = self.max_micros.max(other.max_micros);
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency that a fraction `q` (0.5 for the median) of the values do not exceed,
    /// to within a bucket; `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        // The value we want is the first one with at least a fraction `q` of all values at
        // or below it (and at least one value).
        let wanted = (q.clamp(0.0, 1.0) * self.total as f64).max(1.0);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen as f64 >= wanted {
                // Report the bucket's highest value, but never more than the true maximum.
                let micros = highest_in_bucket(index).min(self.max_micros);
                return Some(Duration::from_micros(micros));
            }
        }
        self.max()
    }

    /// Each bucket that counted something: its lowest and highest value (microseconds)
    /// and its count, lowest first (for a chart of the distribution).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, count)| **count > 0).map(|(index, &count)| {
            let low = if index == 0 { 0 } else { highest_in_bucket(index - 1) + 1 };
            (low, highest_in_bucket(index), count)
        })
    }

    /// The largest latency recorded, exactly.
    pub fn max(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(self.max_micros))
    }
}

/// The bucket that counts `micros`.
#[allow(clippy::cast_possible_truncation, reason = "bucket numbers are below 2,000")]
pub(super) fn bucket_of(micros: u64) -> usize {
    if micros < SUB_BUCKETS {
        return micros as usize;
    }
    // `magnitude` is the position of the highest set bit (≥ 5 here); dropping `shift` low
    // bits leaves a number in 32..64, whose offset from 32 picks the sub-bucket.
    let magnitude = 63 - micros.leading_zeros();
    let shift = magnitude - SUB_BUCKET_BITS;
    let sub_bucket = (micros >> shift) - SUB_BUCKETS;
    ((u64::from(shift) + 1) * SUB_BUCKETS + sub_bucket) as usize
}

/// The largest value that falls in bucket `index` (the inverse of [`bucket_of`]).
pub(super) fn highest_in_bucket(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return index;
    }
    let shift = index / SUB_BUCKETS - 1;
    let sub_bucket = index % SUB_BUCKETS;
    ((SUB_BUCKETS + sub_bucket + 1) << shift) - 1
}
