//! Lines to the terminal that never panic: a notice, and a client's output.
//!
//! `println!` panics when stdout is a closed pipe (`client | head`); a program must not die
//! because whoever read its output went away. A server's own lines go through its
//! [`Log`](crate::log::Log), and the error that ends a program through
//! [`print_error`](crate::error::print_error); these are for the lines around them.

use std::fmt;
use std::io::{self, Write};

/// Writes one line; a closed or full output is not the program's problem, so errors are
/// dropped on purpose.
pub(crate) fn write_line(out: &mut impl Write, line: fmt::Arguments<'_>) {
    let _ = writeln!(out, "{line}");
}

/// Writes a line on stdout, ignoring a closed stdout (a notice such as Ctrl-C's `Stopping...`).
pub fn print_line(line: fmt::Arguments<'_>) {
    write_line(&mut io::stdout().lock(), line);
}

/// Writes a client's line (a reply, a summary) to `out`, usually stdout. Unlike a server's
/// log, a client's output is its result, so failing to write it is an error.
pub fn output_line(out: &mut impl Write, line: fmt::Arguments<'_>) -> crate::Result<()> {
    writeln!(out, "{line}").map_err(|e| crate::Error::io("cannot write the output", e))
}
