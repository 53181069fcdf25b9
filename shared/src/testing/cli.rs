//! The programs' command lines, as every module's suite checks them.

/// Fails the test unless `--version` of the server (`S`) and the client (`C`) names
/// `module`: every module's programs are called `server` and `client`.
#[allow(clippy::panic, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn assert_version_names_the_module<S: clap::CommandFactory, C: clap::CommandFactory>(
    module: &str,
) {
    for (program, version) in
        [("server", S::command().render_version()), ("client", C::command().render_version())]
    {
        let expected = format!("{module} {program} ");
        if !version.starts_with(&expected) {
            panic!("the {program}'s --version should start with {expected:?}: {version:?}");
        }
    }
}
