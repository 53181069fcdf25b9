//! Tests of the instructors' tool, on small workspaces made in a temporary folder, grouped by
//! subject: [`starters`] (markers, hidden tests, what a starter holds), [`grading`] (one
//! submission and a batch), [`tricks`] (dishonest and hostile submissions, the box),
//! [`instructors`] (the class report, the gradebook, Classroom and Gradescope); what they
//! stand on is in [`helpers`].

mod grading;
mod helpers;
mod instructors;
mod starters;
mod tricks;
