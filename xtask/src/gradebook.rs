//! `gradebook.csv`: the batch's points for an LMS gradebook import, one row per student, a
//! column per module and a total: `student,udp-uppercase,module3g-tcp-multiclient,total`.
//!
//! `grades.csv` has a row per student *and module*; a gradebook wants a row per student.
//! The `student` column is the submission's folder name: name the folders by the LMS's
//! user identifier (a username or an e-mail address) and map that column to it on import
//! (Moodle's "Import grades: CSV file" maps any column to a user field). Canvas wants its own
//! columns too (`Student`, `ID`, `SIS User ID`, `Section`), which only its export holds: add
//! the points there by student.

use std::path::{Path, PathBuf};

use serde_json::Value;
use shared::error::{Context, Result};

/// Writes `gradebook.csv` into `out` from a batch's `grades.json` data.
pub fn write(out: &Path, grades: &Value) -> Result<PathBuf> {
    let path = out.join("gradebook.csv");
    std::fs::write(&path, table(grades)).context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The CSV text: a header (`student`, each module, `total`), then one row per student in
/// `grades.json`'s order; a module a student was not graded for is left empty.
pub fn table(grades: &Value) -> String {
    let empty = Vec::new();
    let modules: Vec<&str> = grades["modules"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter_map(|m| m["module"].as_str())
        .collect();
    let all = grades["grades"].as_array().unwrap_or(&empty);
    let mut students: Vec<&str> = Vec::new();
    for student in all.iter().filter_map(|g| g["student"].as_str()) {
        if !students.contains(&student) {
            students.push(student);
        }
    }
    let mut text = String::from("student");
    for module in &modules {
        text.push(',');
        text.push_str(&cell(module));
    }
    text.push_str(",total\n");
    for student in students {
        text.push_str(&cell(student));
        let mut total = 0;
        for module in &modules {
            text.push(',');
            let points = all
                .iter()
                .find(|g| g["student"] == student && g["module"] == *module)
                .and_then(|g| g["points"].as_u64());
            if let Some(points) = points {
                total += points;
                text.push_str(&points.to_string());
            }
        }
        text.push_str(&format!(",{total}\n"));
    }
    text
}

/// One CSV cell: quoted if it holds a comma, a quote or a line break; a name a spreadsheet
/// would take for a formula (`=`, `+`, `-`, `@` first) gets a `'` before it, so that a
/// student's folder name is shown, never evaluated.
pub fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
