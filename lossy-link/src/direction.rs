//! Which way a datagram goes: "up" is client → server, "down" is server → client. Every
//! impairment, count and queue of the relay exists once per direction.

/// Which way a datagram is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a client to the server.
    Up,
    /// From the server back to a client.
    Down,
}

impl Direction {
    /// How the log names it.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "client -> server",
            Direction::Down => "server -> client",
        }
    }

    /// 0 for up, 1 for down: its place in anything kept per direction.
    pub(crate) fn index(self) -> usize {
        match self {
            Direction::Up => 0,
            Direction::Down => 1,
        }
    }
}
