//! The relay's own suite: the real relay, in this process, between real loopback sockets.
//!
//! The test plays both ends: a client socket that sends through the relay, and a "server"
//! socket behind it (a sink that records what arrives, or an echo). Every wait has a
//! deadline, and timing is only ever checked from below ("at least the delay"), so a loaded
//! machine makes a test slower, never wrong.
//!
//! Sending thousands of datagrams at once could overflow a socket's receive buffer and lose
//! datagrams the relay never chose to lose, so the bulk tests send in batches and wait for
//! the relay to have received each batch ([`helpers::send_paced`]), and check that the sink
//! got exactly what the relay says it forwarded.
//!
//! By subject: [`faults`] (what the bad network does), [`relaying`] (clients, their sockets
//! and replies, the table, the summary), [`queues`] (full queues and the stop), [`hostile`]
//! (forged sources, loops, amplification, bounded sockets), [`cli`] (flags and errors),
//! [`wire`] (`--capture` and `--diagram`, read back by real readers). The helpers are in
//! [`helpers`].

mod cli;
mod faults;
mod helpers;
mod hostile;
mod queues;
mod relaying;
mod wire;
