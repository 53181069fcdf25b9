//! Tests of the instructors' tool: marker parsing and its errors, what a starter contains,
//! hidden tests, and the starter's layout, on small workspaces made in a temporary folder.
//!
//! Grouped by subject: [`starters`], [`grading`], [`instructors`]; what they stand on is in
//! [`helpers`] (the tricks a dishonest submission tries are in `tricks_tests.rs`).

mod grading;
pub(crate) mod helpers;
mod instructors;
mod starters;
