//! The hash tables of the reply rule, looked up for every datagram a server receives.
//!
//! Their keys (source sockets, networks) are chosen by whoever sends, forged or not, so the
//! hash must be keyed: with a fixed hash, a sender could pick keys that all land in one
//! bucket and make every lookup walk the whole table. std's `HashMap` is keyed (SipHash-1-3
//! with a random key), but it cost more than the rest of the rule together: two lookups a
//! datagram were about 60 ns of the rule's 200 (see BENCHMARKS.md).
//!
//! So the tables hash with foldhash's fast variant, seeded at random per process: a few
//! nanoseconds per key, and still no way to choose colliding keys without first learning
//! the seed. What it does not promise (its documentation says so) is to hold against
//! someone who studies the server long enough to recover the seed; and should one manage,
//! the damage is bounded: every table here holds at most `--max-sources` entries, so the
//! worst lookup walks that many, not an unbounded list.

use std::collections::HashMap;

/// A `HashMap` with a fast hash seeded at random (see the module's doc).
pub(super) type Table<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
