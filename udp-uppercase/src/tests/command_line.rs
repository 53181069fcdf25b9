//! The command line: the textbook's address by default, and `--version`.

use clap::Parser;

use crate::args::{ClientArgs, ServerArgs};

#[test]
fn listens_on_the_textbook_address_by_default() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12000".parse().unwrap(),
        "the server should listen on 127.0.0.1:12000 by default"
    );
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12000".parse().unwrap(),
        "the client should send to 127.0.0.1:12000 by default"
    );
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-uppercase");
}
