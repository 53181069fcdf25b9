//! The hub's protocol: small text messages, one per datagram, UTF-8.
//!
//! ```text
//! client → server                       server → client
//! JOIN <name> <padding>                 CHALLENGE <cookie>
//! HELLO <cookie> <name>                 WELCOME <name> <who is online, comma-separated>
//! SAY <text>                            CHAT <name>: <text>
//! PING                                  PONG
//! LEAVE                                 NOTICE <text>     (joins, leaves, time-outs)
//!                                       ERROR <text>      (refusals)
//!                                       CLOSING           (the server is shutting down)
//! ```
//!
//! A name is 1 to 32 characters, none of them white space, control characters, `:` or `,`
//! (those separate names and text on the wire). Chat text may be anything but control
//! characters: they are replaced by `�`, so that nobody can send escape sequences to other
//! members' terminals.

use std::fmt;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

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
            ServerMessage::Welcome { name, online } => {
                write!(f, "WELCOME {name} {}", online.join(","))
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
                let (name, online) = rest.split_once(' ').unwrap_or((rest, ""));
                let online =
                    online.split(',').filter(|n| !n.is_empty()).map(String::from).collect();
                ServerMessage::Welcome { name: name.to_string(), online }
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

/// Checks a name: 1 to [`MAX_NAME_CHARS`] letters or digits (any script: `Zoë` is fine),
/// `_`, `-` or `.`. Nothing else: no spaces or punctuation that the protocol uses, no
/// control characters, and no invisible or direction-changing characters (a zero-width
/// space would make `alice` and `alice\u{200B}` look the same).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("the name is empty");
    }
    if chars > MAX_NAME_CHARS {
        return Err("the name is longer than 32 characters");
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("names are letters, digits, _ - . only");
    }
    Ok(())
}

/// Two names that only differ in case are the same name.
pub fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Chat text made safe to print on anyone's terminal: control characters (escape sequences,
/// backspaces, bells, newlines) and the invisible characters that reverse the direction of
/// text (which can make a line display as something else) become `�`.
pub fn clean_text(text: &str) -> String {
    text.chars().map(|c| if is_unsafe(c) { char::REPLACEMENT_CHARACTER } else { c }).collect()
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
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
            assert_eq!(ClientMessage::parse(wire.as_bytes()), Ok(message));
        }
    }

    #[test]
    fn short_messages_are_padded_so_a_refusal_always_fits() {
        for message in [ClientMessage::Ping, ClientMessage::Leave, ClientMessage::Say("")] {
            assert!(message.to_string().len() >= MIN_REQUEST_BYTES, "{message}");
        }
        assert_eq!(ServerMessage::Error(NOT_JOINED.into()).to_string().len(), MIN_REQUEST_BYTES);
        assert_eq!(
            ClientMessage::parse(ClientMessage::Say("hi").to_string().as_bytes()),
            Ok(ClientMessage::Say("hi"))
        );
    }

    #[test]
    fn a_join_is_padded_so_the_challenge_is_never_larger() {
        let join = ClientMessage::Join("a").to_string();
        assert!(join.len() >= MIN_JOIN_BYTES);
        assert!(ServerMessage::Challenge(u64::MAX).to_string().len() <= MIN_JOIN_BYTES);
    }

    #[test]
    fn server_messages_round_trip() {
        for message in [
            ServerMessage::Challenge(42),
            ServerMessage::Welcome {
                name: "bob".into(),
                online: vec!["alice".into(), "bob".into()],
            },
            ServerMessage::Chat { from: "alice".into(), text: "hi: there".into() },
            ServerMessage::Pong,
            ServerMessage::Notice("alice joined".into()),
            ServerMessage::Error("name taken".into()),
            ServerMessage::Closing,
        ] {
            assert_eq!(ServerMessage::parse(message.to_string().as_bytes()), Some(message));
        }
    }

    #[test]
    fn bad_datagrams_are_errors_not_panics() {
        assert_eq!(ClientMessage::parse(b"\xff\xfe"), Err(BadMessage("not UTF-8")));
        assert_eq!(ClientMessage::parse(b"SHOUT hi"), Err(BadMessage("unknown message")));
        assert_eq!(ClientMessage::parse(b"HELLO zz alice"), Err(BadMessage("bad cookie")));
        assert!(ClientMessage::parse(b"").is_err());
        assert_eq!(ServerMessage::parse(b"CHALLENGE not-hex"), None);
    }

    #[test]
    fn names_are_short_and_plain() {
        assert!(check_name("alice_99").is_ok());
        assert!(check_name("Zoë").is_ok());
        assert!(check_name("j.doe-2_x").is_ok());
        for bad in [
            "",
            "a b",
            "tab\there",
            "esc\x1b[31m",
            "x:y",
            "a,b",
            &"n".repeat(33),
            "alice\u{200B}",
            "x\u{202E}gnp",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn control_characters_in_text_are_neutralised() {
        assert_eq!(clean_text("red \x1b[31m alert\x07\n"), "red �[31m alert��");
        assert_eq!(clean_text("abc\u{202E}fed"), "abc�fed");
        assert_eq!(clean_text("plain text: ok"), "plain text: ok");
    }
}
