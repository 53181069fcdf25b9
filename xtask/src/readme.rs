//! A starter's Markdown: the parts of a README a starter leaves out ([`REFERENCE_ONLY`], the
//! [`MODULE_ONLY`] parts of modules not assigned), and the root README cut to what a student
//! needs. `cargo xtask check-exercises` checks the markers are used where they must be.

use crate::workspace::support_crates;

/// Marks, on a line of its own, the start of a part of a Markdown file that a starter leaves
/// out: what needs files a starter does not have (the examples, `bench/`, `BENCHMARKS.md`,
/// `cargo xtask`). [`SECTION_END`] ends it.
pub const REFERENCE_ONLY: &str = "<!-- reference only -->";

/// Marks, on a line of its own, the start of a part about one module
/// (`<!-- module: udp-uppercase -->`), which a starter keeps only if it has that module.
pub const MODULE_ONLY: &str = "<!-- module: ";

/// Ends a [`REFERENCE_ONLY`] or [`MODULE_ONLY`] part.
pub const SECTION_END: &str = "<!-- end -->";

/// A Markdown file as a starter for `modules` has it: without its [`REFERENCE_ONLY`] parts
/// and the [`MODULE_ONLY`] parts of other modules, and without the markers. A marker left
/// open, or an end without a start, is an error (naming the line).
pub fn strip_readme_sections(text: &str, modules: &[String]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    // The line where the open part began, and whether it is kept.
    let mut open: Option<(usize, bool)> = None;
    // Right after a part left out: a blank line there would double the one before it.
    let mut after_a_cut = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let marker = line.trim();
        let starts = if marker == REFERENCE_ONLY {
            Some(false)
        } else if let Some(rest) = marker.strip_prefix(MODULE_ONLY) {
            let module = rest.strip_suffix("-->").map(str::trim).unwrap_or_default();
            if module.is_empty() {
                return Err(format!("line {number}: write the marker as {MODULE_ONLY}NAME -->"));
            }
            Some(modules.iter().any(|m| m == module))
        } else {
            None
        };
        match (starts, open) {
            (Some(_), Some((began, _))) => {
                return Err(format!(
                    "line {number}: a part starts inside the part of line {began}"
                ));
            }
            (Some(kept), None) => open = Some((number, kept)),
            (None, _) if marker == SECTION_END => match open.take() {
                Some((_, kept)) => after_a_cut = !kept,
                None => {
                    return Err(format!("line {number}: {SECTION_END} without a part to end"));
                }
            },
            (None, Some((_, false))) => {}
            (None, _)
                if after_a_cut
                    && marker.is_empty()
                    && (out.is_empty() || out.ends_with("\n\n")) => {}
            (None, _) => {
                after_a_cut = false;
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    match open {
        Some((began, _)) => Err(format!("line {began}: this part has no {SECTION_END}")),
        None => Ok(out),
    }
}

/// The root README for students: without the instructors' and maintainers' sections, and
/// without lines about modules not assigned.
pub(crate) fn starter_root_readme(text: &str, modules: &[String]) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            skipping = title.starts_with("For instructors") || title.starts_with("For maintainers");
        }
        let other_module = line.contains("](") && !line.contains("](shared/") && {
            let linked: Vec<&str> = line.split("](").skip(1).collect();
            linked.iter().any(|l| {
                l.contains("/README.md")
                    && !modules.iter().any(|m| l.starts_with(m.as_str()))
                    && !support_crates().any(|tool| l.starts_with(tool))
            })
        };
        if !skipping && !other_module {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
