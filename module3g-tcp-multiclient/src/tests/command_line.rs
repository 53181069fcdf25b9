//! The command line: the notebook's defaults, the limits' defaults, `--version`.

use super::*;

#[test]
fn defaults_follow_the_notebook_and_the_limits() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the server should listen on 127.0.0.1:12354 by default"
    );
    assert_eq!(
        (args.max_clients, args.per_host_limit(), args.idle_timeout, args.backlog),
        (10_000, 2_500, Duration::from_secs(60), 1024),
        "the defaults should be 10,000 clients, a quarter of them per host, a 60 s idle timeout and a backlog of 1024"
    );
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the client should connect to 127.0.0.1:12354 by default"
    );
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>(
        "module3g-tcp-multiclient",
    );
}
