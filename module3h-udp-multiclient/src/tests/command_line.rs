//! The command line: the notebook's address by default, and `--version`.

use clap::Parser;

use crate::args::{ClientArgs, ServerArgs};

#[test]
fn listens_on_the_notebook_address_by_default() {
    let server = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        server.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the server should listen on 127.0.0.1:12354 by default"
    );
    assert_eq!(server.max_clients, 1024, "the client table should hold 1024 clients by default");
    let client = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        client.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the client should send to 127.0.0.1:12354 by default"
    );
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>(
        "module3h-udp-multiclient",
    );
}
