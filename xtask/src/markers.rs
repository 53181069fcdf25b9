//! Finding the code students write, and taking it out.
//!
//! In the reference solution, the body of each function a student is to write is framed by
//! two comment lines:
//!
//! ```text
//! pub fn reply_to(socket: &UdpSocket, message: &[u8], client: SocketAddr) -> io::Result<Vec<u8>> {
//!     // BEGIN SOLUTION: uppercase the message and send it back to the client
//!     let reply = uppercase(message);
//!     socket.send_to(&reply, client)?;
//!     Ok(reply)
//!     // END SOLUTION
//! }
//! ```
//!
//! A region is always a whole function body, so replacing it with `todo!("<hint>")` still
//! compiles (`todo!()` has every type). A test module whose line before it reads
//! `// HIDDEN TESTS` is the instructor's: it stays in the reference and is left out of a
//! starter.

use std::fmt;

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
const HIDDEN: &str = "// HIDDEN TESTS";

/// The hint used when a marker gives none.
pub const DEFAULT_HINT: &str = "write this function";

/// One marked region of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Line of `// BEGIN SOLUTION`, counting from 1.
    pub begin: usize,
    /// Line of `// END SOLUTION`.
    pub end: usize,
    /// What the student is to write, from the `BEGIN` line.
    pub hint: String,
    /// The `BEGIN` line's indentation, for the `todo!()`.
    pub indent: String,
}

/// A marker mistake, naming the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    /// The file, as given.
    pub file: String,
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: &'static str,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.problem)
    }
}

/// Finds the marked regions of `text` (the contents of `file`).
pub fn find_regions(file: &str, text: &str) -> Result<Vec<Region>, MarkerError> {
    let error = |line, problem| MarkerError { file: file.to_string(), line, problem };
    let lines: Vec<&str> = text.lines().collect();
    let mut regions = Vec::new();
    let mut open: Option<Region> = None;
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(BEGIN) {
            if open.is_some() {
                return Err(error(
                    number,
                    "BEGIN SOLUTION inside another region (regions cannot nest)",
                ));
            }
            if !previous_code_line(&lines, index).is_some_and(|l| l.trim_end().ends_with('{')) {
                return Err(error(
                    number,
                    "BEGIN SOLUTION must open a function body (the line before ends with '{')",
                ));
            }
            let hint = rest.trim_start_matches(':').trim();
            let indent = line[..line.len() - line.trim_start().len()].to_string();
            let hint = if hint.is_empty() { DEFAULT_HINT.to_string() } else { hint.to_string() };
            open = Some(Region { begin: number, end: 0, hint, indent });
        } else if trimmed.starts_with(END) {
            let Some(mut region) = open.take() else {
                return Err(error(number, "END SOLUTION without a BEGIN SOLUTION"));
            };
            if !next_code_line(&lines, index).is_some_and(|l| l.trim_start().starts_with('}')) {
                return Err(error(
                    number,
                    "END SOLUTION must close a function body (the next line starts with '}')",
                ));
            }
            region.end = number;
            regions.push(region);
        }
    }
    match open {
        Some(region) => Err(error(region.begin, "BEGIN SOLUTION is never closed by END SOLUTION")),
        None => Ok(regions),
    }
}

fn previous_code_line<'a>(lines: &[&'a str], index: usize) -> Option<&'a str> {
    lines[..index]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.trim().starts_with("//"))
        .copied()
}

fn next_code_line<'a>(lines: &[&'a str], index: usize) -> Option<&'a str> {
    lines[index + 1..].iter().find(|l| !l.trim().is_empty() && !l.trim().starts_with("//")).copied()
}

/// `text` with each of `regions` (found in it) replaced by `todo!("<hint>")`.
pub fn strip_regions(text: &str, regions: &[Region]) -> String {
    let none: Vec<Vec<String>> = vec![Vec::new(); regions.len()];
    strip_regions_using(text, regions, &none)
}

/// The lines that stand in for a region: the parameters used (so that the starter has no
/// unused-variable warning and no `_name` to undo), then `todo!("<hint>")`, laid out as
/// rustfmt would (100 columns).
pub fn stub(indent: &str, hint: &str, params: &[String]) -> String {
    let mut out = String::new();
    match params {
        [] => {}
        [one] => out.push_str(&format!("{indent}let _ = {one}; // yours to use\n")),
        many => out.push_str(&format!("{indent}let _ = ({}); // yours to use\n", many.join(", "))),
    }
    // `todo!` takes a format string: braces in the hint are doubled.
    let literal = format!("{:?}", hint.replace('{', "{{").replace('}', "}}"));
    let one_line = format!("{indent}todo!({literal})");
    if one_line.chars().count() <= 100 {
        out.push_str(&one_line);
        out.push('\n');
    } else {
        out.push_str(&format!("{indent}todo!(\n{indent}    {literal}\n{indent})\n"));
    }
    out
}

/// [`strip_regions`], each region's stub using the parameters in `params` (one list per
/// region).
pub fn strip_regions_using(text: &str, regions: &[Region], params: &[Vec<String>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut regions = regions.iter().zip(params).peekable();
    let mut skipping_until = 0;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if number <= skipping_until {
            continue;
        }
        if let Some((region, params)) = regions.next_if(|(region, _)| region.begin == number) {
            out.push_str(&stub(&region.indent, &region.hint, params));
            skipping_until = region.end;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The names of the hidden items of `text` (the identifier after `mod` on the first code
/// line following each `// HIDDEN TESTS` line).
pub fn hidden_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut names = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.trim() != HIDDEN {
            continue;
        }
        let item = lines[index + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#["));
        if let Some(rest) = item
            .and_then(|l| l.strip_prefix("pub ").or(Some(l)))
            .and_then(|l| l.strip_prefix("mod "))
        {
            let name: String =
                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// `text` without the item that follows each `// HIDDEN TESTS` line (a `mod ... { ... }`,
/// found by counting braces; braces inside strings or comments in that item would confuse
/// it, so keep hidden test modules plain).
pub fn strip_hidden_tests(file: &str, text: &str) -> Result<String, MarkerError> {
    let mut out = String::with_capacity(text.len());
    let mut stripped = false;
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        if line.trim() != HIDDEN {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Skip the hidden item: through the line where its braces balance again.
        let mut depth = 0i64;
        let mut opened = false;
        loop {
            let Some((_, item_line)) = lines.next() else {
                return Err(MarkerError {
                    file: file.to_string(),
                    line: index + 1,
                    problem: "HIDDEN TESTS: the item after it never closes its braces",
                });
            };
            for c in item_line.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                break;
            }
        }
        stripped = true;
    }
    if stripped {
        // The blank line that stood before a hidden module at the end of the file.
        let kept = out.trim_end().len();
        out.truncate(kept);
        out.push('\n');
    }
    Ok(out)
}

/// The lines of a region worth looking for in a starter (to prove the solution is gone):
/// code lines long enough not to appear by chance, and found nowhere else in the file (a
/// line the region shares with code that stays proves nothing).
pub fn distinctive_lines<'a>(text: &'a str, region: &Region) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let inside = region.begin..region.end - 1; // 0-based indices of the region's own lines
    let outside =
        |line: &str| lines.iter().enumerate().any(|(i, l)| !inside.contains(&i) && *l == line);
    lines[inside.clone()]
        .iter()
        .copied()
        .filter(|line| line.len() >= 30 && !line.starts_with("//") && !outside(line))
        .collect()
}
