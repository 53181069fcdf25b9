//! The command line: the seed's defaults, and `--version`.

use std::thread;

use clap::Parser;

use crate::args::{ClientArgs, ServerArgs};
use crate::server::Mode;

#[test]
fn defaults_follow_the_seed() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        (args.address.host.as_str(), args.address.port),
        ("localhost", 6532),
        "the server should listen on localhost:6532 by default"
    );
    assert_eq!(
        args.mode,
        Mode::ThreadPerDatagram,
        "the default mode should be thread-per-datagram"
    );
    assert_eq!(
        (args.max_threads, args.queue, args.work_ms),
        (256, 1024, 0),
        "the defaults should be at most 256 threads, a queue of 1024 and no extra work"
    );
    assert_eq!(
        (args.queue_bytes, args.max_queue_ms),
        (16 * 1024 * 1024, 1000),
        "the pool queue should default to 16 MiB and 1000 ms of waiting"
    );
    let cores = thread::available_parallelism().unwrap().get();
    assert_eq!(args.workers as usize, cores * 4, "the pool should default to 4 workers per core");
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        (args.message.as_str(), args.address.port),
        ("Hello, Server!", 6532),
        "the client should send Hello, Server! to port 6532 by default"
    );
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-threaded");
}
