//! Lines counted by their `\n`, across reads: what the notebook's `numLines` should count.
//!
//! TCP does not keep the sender's boundaries: one `recv` may return half a line, or several
//! lines at once. The notebook counts `recv` calls, which matches lines only when the network
//! delivers one line per segment; a connection thread feeds every read to a [`LineCount`]
//! instead.

/// Lines counted by their `\n`, however the stream was cut into reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LineCount {
    /// Complete lines (each ended by a `\n`).
    pub lines: u64,
    /// Whether bytes have come since the last `\n`: a line still open.
    pub open_line: bool,
}

impl LineCount {
    /// Counts the lines that `bytes`, the next piece of the stream, completes.
    pub fn add(&mut self, bytes: &[u8]) {
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        self.lines += newlines;
        if let Some(&last) = bytes.last() {
            self.open_line = last != b'\n';
        }
    }

    /// The lines of a stream that has ended: a last line without its `\n` counts too.
    pub fn at_end(&self) -> u64 {
        self.lines + u64::from(self.open_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_by_their_newlines_across_reads() {
        let mut count = LineCount::default();
        count.add(b"hel");
        assert_eq!(count.lines, 0, "half a line is no line yet");
        count.add(b"lo\nwor");
        assert_eq!(count.lines, 1);
        count.add(b"ld\none\ntwo\n");
        assert_eq!(count.lines, 4, "three lines in one read are three lines");
        assert_eq!(count.at_end(), 4);
    }

    #[test]
    fn a_last_line_without_a_newline_counts_at_the_end() {
        let mut count = LineCount::default();
        count.add(b"Hello, world (27556)");
        count.add(b"Hello, world (27556)");
        assert_eq!(count.lines, 0);
        assert_eq!(count.at_end(), 1, "text with no newline at all is one line");
        assert_eq!(LineCount::default().at_end(), 0, "no bytes, no line");
    }
}
