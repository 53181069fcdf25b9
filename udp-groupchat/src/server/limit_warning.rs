//! The hub's warnings about its member limits, printed at most once every [`WARN_EVERY`]:
//! a flood of refused joins must not flood the log too.

use std::fmt;
use std::time::{Duration, Instant};

use shared::log::Log;
use shared::throttle::Throttle;

/// How often a warning of one kind may be printed; the ones held back are counted.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A warning of one kind, printed at most once every [`WARN_EVERY`] (`shared`'s
/// [`Throttle`]); the next one printed says how many were held back in between.
pub(super) struct LimitWarning(Throttle);

impl Default for LimitWarning {
    fn default() -> Self {
        LimitWarning(Throttle::new(1, WARN_EVERY))
    }
}

impl LimitWarning {
    /// Prints `line` as a warning, unless one was printed less than [`WARN_EVERY`] ago.
    pub(super) fn warn(&mut self, log: &Log, line: fmt::Arguments<'_>) {
        match self.0.admit(Instant::now()) {
            None => {}
            Some(0) => log.warn(line),
            Some(held_back) => log.warn(format_args!("{line} (and {held_back} more like it)")),
        }
    }
}
