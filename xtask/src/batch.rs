//! Grading a batch: every submission folder graded against each reference, `parallel`
//! submissions at a time (one builds while another's tests wait on sockets), progress said
//! as it comes; then the results written: `feedback/<student>.md`, `grades.csv`,
//! `grades.json`, and from it the class report and the gradebook.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use shared::error::{Context, Error, Result};

use crate::config::Options;
use crate::grade::Bodies;
use crate::reference::Reference;
use crate::results::Grade;
use crate::usage::usage;

/// One row of `grades.csv`.
pub fn csv_row(grade: &Grade) -> String {
    format!(
        "{},{},{},{}\n",
        csv_field(&grade.student),
        csv_field(&grade.module),
        grade.points,
        grade.max
    )
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Grades every subfolder of `submissions` for each of `references`, writing
/// `grades.csv`, `grades.json` and `feedback/<student>.md` into `out`. Returns the grades.
pub fn grade_all(
    references: &[Reference],
    submissions: &Path,
    out: &Path,
    say: &mut dyn FnMut(String),
) -> Result<Vec<Grade>> {
    let started = Instant::now();
    let mut students: Vec<(String, PathBuf)> = Vec::new();
    let entries =
        fs::read_dir(submissions).context(|| format!("cannot list {}", submissions.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("cannot list {}", submissions.display()))?;
        let path = entry.path();
        // A student's folder must be a folder, not a link to one (which could be anywhere).
        let is_folder = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_folder && !path.starts_with(out) && path != out {
            students.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    students.sort();
    if students.is_empty() {
        return Err(usage(format!("{} holds no submission folders", submissions.display())));
    }
    fs::create_dir_all(out.join("feedback"))
        .context(|| format!("cannot create {}", out.display()))?;
    // Submissions are graded `parallel` at a time: one builds while another's tests (which
    // mostly wait on sockets) run.
    let parallel = references.first().map_or(1, |r| r.options.parallel.max(1));
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<Option<Result<Vec<Grade>>>>> =
        Mutex::new((0..students.len()).map(|_| None).collect());
    let said: Mutex<Vec<String>> = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next =
                            next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some((student, path)) = students.get(index) else { break };
                    let graded: Result<Vec<Grade>> = references
                        .iter()
                        .map(|reference| reference.grade(student, Bodies::Submission(path)))
                        .collect();
                    if let Ok(grades) = &graded {
                        let mut said =
                            said.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        for grade in grades {
                            said.push(format!(
                                "{student}: {} ({:.0} s)",
                                grade.score_line(),
                                grade.seconds
                            ));
                        }
                    }
                    done.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[index] =
                        Some(graded);
                }
            });
        }
        // Progress, as it comes.
        loop {
            let finished = done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .all(Option::is_some);
            for line in said.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
                say(line);
            }
            if finished {
                break;
            }
            thread::sleep(Duration::from_millis(200));
        }
    });
    let mut grades = Vec::new();
    let done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    for ((student, _), graded) in students.iter().zip(done) {
        let graded =
            graded.unwrap_or_else(|| Err(Error::msg(format!("{student} was not graded"))))?;
        let mut feedback = format!("# Grading feedback: {student}\n\n");
        for grade in &graded {
            feedback.push_str(&grade.feedback());
            feedback.push('\n');
        }
        feedback.push_str(
            "Only the bodies of the functions you were asked to write are graded, inside a fresh copy \
             of the course's reference (its tests, its other code). Helpers written elsewhere are \
             not seen: write them as closures or inner functions inside those bodies. A failed \
             test shows the course's test's message first; lines under `your code printed` are \
             what your own code printed while it ran (the first few).\n",
        );
        let file = out.join("feedback").join(format!("{student}.md"));
        fs::write(&file, feedback).context(|| format!("cannot write {}", file.display()))?;
        grades.extend(graded);
    }
    let mut csv = String::from("student,module,points,max\n");
    for grade in &grades {
        csv.push_str(&csv_row(grade));
    }
    let path = out.join("grades.csv");
    fs::write(&path, csv).context(|| format!("cannot write {}", path.display()))?;
    let json = serde_json::json!({
        "modules": references.iter().map(|r| serde_json::json!({
            "module": r.module,
            "max": r.max_points(),
            "exercises": r.exercises,
            "tests": r.tests,
        })).collect::<Vec<_>>(),
        "grades": grades,
        "grading": references.first().map(|r| grading(&r.options, started.elapsed())),
    });
    let path = out.join("grades.json");
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::msg(e.to_string()))?;
    fs::write(&path, text + "\n").context(|| format!("cannot write {}", path.display()))?;
    crate::report::write(out, &json)?;
    crate::gradebook::write(out, &json)?;
    Ok(grades)
}

/// The `grading` part of `grades.json`: the limits the batch was graded with, how long it
/// took and when it ended (Unix seconds).
pub fn grading(options: &Options, took: Duration) -> Value {
    json!({
        "test_limit": options.test_limit.map(|d| d.as_secs_f64()),
        "test_multiple": options.test_multiple,
        "test_floor": options.test_floor.as_secs_f64(),
        "submission_limit": options.submission_limit.as_secs_f64(),
        "build_limit": options.build_limit.as_secs_f64(),
        "patience": options.patience_secs,
        "jobs": options.jobs,
        "parallel": options.parallel,
        "seconds": took.as_secs_f64(),
        "finished": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    })
}
