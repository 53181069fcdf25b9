//! The hub's protocol: small text messages, one per datagram, UTF-8.
//!
//! ```text
//! client → server                       server → client
//! JOIN <name> <padding>                 CHALLENGE <cookie>
//! HELLO <cookie> <name>                 WELCOME <secret> <name> <who is online, comma-separated>
//! SAY <text>                            <secret> CHAT <name>: <text>
//! PING                                  <secret> PONG
//! LEAVE                                 <secret> NOTICE <text>     (joins, leaves, time-outs)
//!                                       <secret> ERROR <text>      (refusals; to a stranger: ERROR <text>)
//!                                       <secret> CLOSING           (the server is shutting down)
//! ```
//!
//! Once a member is in, everything the hub sends it starts with the member's **session
//! secret**, 16 hex digits that the hub chose at random for it and told it in `WELCOME`
//! ([`seal`], [`open`]): a datagram forged with the hub's address as its source, by someone
//! who cannot see the hub's traffic, lacks it and is ignored.
//!
//! What a name may be is in [`crate::names`], what chat text may hold in [`crate::text`].

use std::fmt;

/// Broadcast mode: what a broadcast server puts in front of every datagram it relays. A
/// broadcast server never relays a datagram that starts with it: so two broadcast servers
/// on one port (each hearing the other's broadcasts) cannot relay each other's relays
/// forever, and neither can one server that hears its own. Clients print only what starts
/// with it, without it.
pub const RELAY_MARKER: &str = "RELAY ";

/// Every other client message is padded to at least this many bytes, so that the shortest
/// refusal, [`NOT_JOINED`], always fits in the size of the request it answers.
pub const MIN_REQUEST_BYTES: usize = 16;

/// The error text for a message from an address that is not a member (`ERROR not joined`
/// is exactly [`MIN_REQUEST_BYTES`] long).
pub const NOT_JOINED: &str = "not joined";

/// A `JOIN` must be at least this long (the client pads it with spaces): no longer than the
/// `CHALLENGE` it asks for, so that answering a forged `JOIN` never sends a victim more bytes
/// than the forger sent.
pub const MIN_JOIN_BYTES: usize = 64;

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    /// Asks to join under this name.
    Join(&'a str),
    /// Answers the server's challenge.
    Hello {
        /// The cookie from `CHALLENGE`.
        cookie: u64,
        /// The name again.
        name: &'a str,
    },
    /// A line of chat.
    Say(&'a str),
    /// I am still here.
    Ping,
    /// I am leaving.
    Leave,
}

/// Why a datagram is not a valid client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage(pub &'static str);

impl fmt::Display for BadMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl<'a> ClientMessage<'a> {
    /// Reads a client's datagram.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, BadMessage> {
        let text = std::str::from_utf8(datagram).map_err(|_| BadMessage("not UTF-8"))?;
        let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
        match verb {
            "JOIN" => Ok(ClientMessage::Join(rest.trim_end_matches(' '))),
            "HELLO" => {
                let (cookie, name) =
                    rest.split_once(' ').ok_or(BadMessage("HELLO needs a cookie and a name"))?;
                let cookie =
                    u64::from_str_radix(cookie, 16).map_err(|_| BadMessage("bad cookie"))?;
                Ok(ClientMessage::Hello { cookie, name })
            }
            // Padding (see MIN_REQUEST_BYTES) is not part of the text.
            "SAY" => Ok(ClientMessage::Say(rest.trim_end_matches(' '))),
            "PING" => Ok(ClientMessage::Ping),
            "LEAVE" => Ok(ClientMessage::Leave),
            _ => Err(BadMessage("unknown message")),
        }
    }
}

impl fmt::Display for ClientMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientMessage::Join(name) => {
                let join = format!("JOIN {name} ");
                // Pad to MIN_JOIN_BYTES (see there why).
                write!(f, "{join:<MIN_JOIN_BYTES$}")
            }
            ClientMessage::Hello { cookie, name } => write!(f, "HELLO {cookie:016x} {name}"),
            ClientMessage::Say(text) => write!(f, "{:<MIN_REQUEST_BYTES$}", format!("SAY {text}")),
            ClientMessage::Ping => write!(f, "{:<MIN_REQUEST_BYTES$}", "PING"),
            ClientMessage::Leave => write!(f, "{:<MIN_REQUEST_BYTES$}", "LEAVE"),
        }
    }
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// Prove you receive at your address: send this cookie back in `HELLO`.
    Challenge(u64),
    /// You are in; these members are online (you included).
    Welcome {
        /// Your session secret: everything the hub sends you from now on starts with it.
        secret: u64,
        /// Your name.
        name: String,
        /// Everyone online.
        online: Vec<String>,
    },
    /// A chat line from a member.
    Chat {
        /// Who said it (stamped by the server from the sender's address).
        from: String,
        /// What they said.
        text: String,
    },
    /// Reply to `PING`.
    Pong,
    /// Someone joined, left or timed out.
    Notice(String),
    /// Your message was refused.
    Error(String),
    /// The server is shutting down.
    Closing,
}

impl fmt::Display for ServerMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerMessage::Challenge(cookie) => write!(f, "CHALLENGE {cookie:016x}"),
            ServerMessage::Welcome { secret, name, online } => {
                write!(f, "WELCOME {secret:016x} {name} {}", online.join(","))
            }
            ServerMessage::Chat { from, text } => write!(f, "CHAT {from}: {text}"),
            ServerMessage::Pong => f.write_str("PONG"),
            ServerMessage::Notice(text) => write!(f, "NOTICE {text}"),
            ServerMessage::Error(text) => write!(f, "ERROR {text}"),
            ServerMessage::Closing => f.write_str("CLOSING"),
        }
    }
}

impl ServerMessage {
    /// Reads a server's datagram; `None` if it is not a server message.
    pub fn parse(datagram: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(datagram).ok()?;
        let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
        Some(match verb {
            "CHALLENGE" => ServerMessage::Challenge(u64::from_str_radix(rest, 16).ok()?),
            "WELCOME" => {
                let (secret, rest) = rest.split_once(' ')?;
                let secret = u64::from_str_radix(secret, 16).ok()?;
                let (name, online) = rest.split_once(' ').unwrap_or((rest, ""));
                let online =
                    online.split(',').filter(|n| !n.is_empty()).map(String::from).collect();
                ServerMessage::Welcome { secret, name: name.to_string(), online }
            }
            "CHAT" => {
                let (from, text) = rest.split_once(": ")?;
                ServerMessage::Chat { from: from.to_string(), text: text.to_string() }
            }
            "PONG" => ServerMessage::Pong,
            "NOTICE" => ServerMessage::Notice(rest.to_string()),
            "ERROR" => ServerMessage::Error(rest.to_string()),
            "CLOSING" => ServerMessage::Closing,
            _ => return None,
        })
    }
}

/// A message for a member: its session secret, a space, the message.
pub fn seal(secret: u64, message: &ServerMessage) -> String {
    format!("{secret:016x} {message}")
}

/// Reads a datagram meant for the member whose session secret is `secret`: `None` if it does
/// not start with that secret (forged, or from an earlier session) or is not a message.
pub fn open(secret: u64, datagram: &[u8]) -> Option<ServerMessage> {
    let prefix = format!("{secret:016x} ");
    ServerMessage::parse(datagram.strip_prefix(prefix.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_round_trip() {
        for message in [
            ClientMessage::Join("alice"),
            ClientMessage::Hello { cookie: 0xdead_beef, name: "alice" },
            ClientMessage::Say("hello, world: how are you?"),
            ClientMessage::Ping,
            ClientMessage::Leave,
        ] {
            let wire = message.to_string();
            assert_eq!(
                ClientMessage::parse(wire.as_bytes()),
                Ok(message),
                "a client message should parse back to itself from {wire:?}"
            );
        }
    }

    #[test]
    fn short_messages_are_padded_so_a_refusal_always_fits() {
        for message in [ClientMessage::Ping, ClientMessage::Leave, ClientMessage::Say("")] {
            assert!(
                message.to_string().len() >= MIN_REQUEST_BYTES,
                "a short message should be padded to at least {MIN_REQUEST_BYTES} bytes: {message}"
            );
        }
        assert_eq!(
            ServerMessage::Error(NOT_JOINED.into()).to_string().len(),
            MIN_REQUEST_BYTES,
            "the not-joined refusal should be exactly as long as the smallest request"
        );
        assert_eq!(
            ClientMessage::parse(ClientMessage::Say("hi").to_string().as_bytes()),
            Ok(ClientMessage::Say("hi")),
            "the padding should not change what a SAY says"
        );
    }

    #[test]
    fn a_join_is_padded_so_the_challenge_is_never_larger() {
        let join = ClientMessage::Join("a").to_string();
        assert!(
            join.len() >= MIN_JOIN_BYTES,
            "a JOIN should be padded to at least {MIN_JOIN_BYTES} bytes; it is {}",
            join.len()
        );
        assert!(
            ServerMessage::Challenge(u64::MAX).to_string().len() <= MIN_JOIN_BYTES,
            "the longest challenge should be no longer than the smallest JOIN ({MIN_JOIN_BYTES} bytes)"
        );
    }

    #[test]
    fn server_messages_round_trip() {
        for message in [
            ServerMessage::Challenge(42),
            ServerMessage::Welcome {
                secret: 0x0123_4567_89ab_cdef,
                name: "bob".into(),
                online: vec!["alice".into(), "bob".into()],
            },
            ServerMessage::Chat { from: "alice".into(), text: "hi: there".into() },
            ServerMessage::Pong,
            ServerMessage::Notice("alice joined".into()),
            ServerMessage::Error("name taken".into()),
            ServerMessage::Closing,
        ] {
            assert_eq!(
                ServerMessage::parse(message.to_string().as_bytes()),
                Some(message),
                "a server message should parse back to itself"
            );
        }
    }

    #[test]
    fn bad_datagrams_are_errors_not_panics() {
        assert_eq!(
            ClientMessage::parse(b"\xff\xfe"),
            Err(BadMessage("not UTF-8")),
            "bytes that are not UTF-8 should be refused as such"
        );
        assert_eq!(
            ClientMessage::parse(b"SHOUT hi"),
            Err(BadMessage("unknown message")),
            "an unknown command should be refused as unknown"
        );
        assert_eq!(
            ClientMessage::parse(b"HELLO zz alice"),
            Err(BadMessage("bad cookie")),
            "a cookie that is not hex should be refused as bad"
        );
        assert!(ClientMessage::parse(b"").is_err(), "an empty datagram should be refused");
        assert_eq!(
            ServerMessage::parse(b"CHALLENGE not-hex"),
            None,
            "a challenge whose cookie is not hex should not parse"
        );
    }
}
