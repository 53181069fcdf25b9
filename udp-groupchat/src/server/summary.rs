//! What the server did, counted while it runs and printed as one line when it stops.

use std::fmt;

use shared::text::plural;

/// What the server did, printed when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Whether this was the broadcaster (its summary only counts messages).
    pub broadcast: bool,
    /// Members admitted (after answering the challenge).
    pub members_seen: u64,
    /// Chat lines relayed.
    pub messages: u64,
    /// Datagrams sent to members (each line and notice, once per member).
    pub deliveries: u64,
    /// Challenges sent.
    pub challenges: u64,
    /// Requests refused.
    pub refused: u64,
    /// Members dropped for silence.
    pub timeouts: u64,
    /// Datagrams left unanswered because they looked like another server's reply (hub), or
    /// were relays of a broadcast server (broadcast mode).
    pub ignored: u64,
    /// Hub: datagrams not acted on because of the reply rule (a refused source, or over
    /// `--reply-rate`).
    pub not_answered: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broadcast {
            return write!(f, "Broadcast {}.", plural(self.messages, "message"));
        }
        write!(
            f,
            "Chat closed: {} seen, {} relayed ({}); {} refused, {} timed out, {} not answered.",
            plural(self.members_seen, "member"),
            plural(self.messages, "message"),
            if self.deliveries == 1 {
                "1 delivery".to_string()
            } else {
                format!("{} deliveries", self.deliveries)
            },
            self.refused,
            self.timeouts,
            self.not_answered,
        )
    }
}
