//! The chat client, in the seed's order: first the seed's broadcast client (this file,
//! `broadcast_chat`), then the hub's client (`hub`, in `src/client/hub.rs`), the default.
//! (Load mode, `--clients N`, is not this file's: `src/bin/client.rs` runs `crate::load`
//! instead.)
//!
//! The seed's client has two threads: one blocks in `input()` waiting for the user, the other
//! blocks in `recvfrom` waiting for the network. Neither can wait for both. Here the keyboard
//! gets its own thread too (`read_lines_on_a_thread`, in `src/client/keyboard.rs`), which
//! only passes each line into a channel; the broadcast client then looks at that channel
//! between two short `recv_from` waits, and the hub's client waits on the keyboard and the
//! network at once with crossbeam-channel's `select!`.
//!
//! When stdin is a terminal, the line the user typed is erased after sending (`\x1b[F`, as in
//! the seed, then "clear line"), because the server sends it back as `alice: ...` and it
//! would otherwise show twice. When stdin is a pipe, nothing is erased.

mod hub;
mod keyboard;
pub(crate) mod sealed;

pub(crate) use hub::join_session;
pub use hub::{Session, join};

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use shared::client_errors::udp_client_error;
use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::io_errors::is_timeout_or_interrupt;
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::udp::RECV_BUFFER_SIZE;

use crate::args::ClientArgs;
use crate::names::check_name;
use crate::port_sharing::bind_shared_port;
use crate::protocol::RELAY_MARKER;
use crate::text::clean_text;
use keyboard::{ERASE_TYPED_LINE, Input, read_lines_on_a_thread};
use sealed::SealedChat;

/// The prompt, as the seed's `input()` shows it.
pub const PROMPT: &str = "Input username: ";

/// Runs the client: asks for the name (from `input`), joins, then chats until `/quit`, the
/// end of `input`, Ctrl-C (`shutdown`: the client leaves politely, then returns
/// [`Error::stopped`], exit 130) or the server closing. `terminal` says whether `input`
/// is a terminal (prompt, erase typed lines). What the user would see goes to `out`.
pub fn run(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead + Send + 'static,
    terminal: bool,
    out: &mut impl Write,
) -> Result<()> {
    let server = args.address.resolve()?;
    let lines = read_lines_on_a_thread(input);
    let name = match &args.username {
        Some(name) => name.clone(),
        None => {
            if terminal {
                out.write_all(PROMPT.as_bytes())
                    .and_then(|()| out.flush())
                    .context(|| "cannot write the prompt")?;
            }
            // Wait for the name, but not past a Ctrl-C: then there is nothing to leave.
            loop {
                match lines.recv_timeout(POLL_INTERVAL) {
                    Ok(Input::Line(name)) => break name.trim().to_string(),
                    Err(RecvTimeoutError::Timeout) if !shutdown.is_requested() => {}
                    Err(RecvTimeoutError::Timeout) => return Err(Error::stopped()),
                    _ => return Err(Error::msg("no username given")),
                }
            }
        }
    };
    check_name(&name).map_err(|why| Error::msg(format!("invalid username: {why}")))?;
    if args.broadcast {
        return broadcast_chat(args, server, &name, &lines, terminal, shutdown, out);
    }
    hub::chat(args, server, &name, &lines, terminal, shutdown, out)
}

/// The seed's broadcast chat: listen on the shared chat port, send `name: text` to the
/// server, print whatever arrives (from anyone: that is the design's flaw).
fn broadcast_chat(
    args: &ClientArgs,
    server: SocketAddr,
    name: &str,
    lines: &Receiver<Input>,
    terminal: bool,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    let listen: SocketAddr = (std::net::Ipv4Addr::UNSPECIFIED, server.port()).into();
    let socket = bind_shared_port(listen).map_err(|error| {
        if error.io_kind() == Some(io::ErrorKind::AddrInUse) {
            // A hub holds its port alone; the seed's broadcast server shares it.
            Error::msg(format!(
                "{error}: something holds the chat port without sharing it; if it is the chat \
                 server in hub mode (the default), start the client without --broadcast"
            ))
        } else {
            error
        }
    })?;
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    let mut sealed = SealedChat::start(&args.seal, out)?;
    output_line(
        out,
        format_args!("Welcome to WhatsUDP Messenger! (broadcast chat on port {})", server.port()),
    )?;
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let mut input_ended: Option<Instant> = None;
    while !shutdown.is_requested() && input_ended.is_none_or(|ended| ended.elapsed() < args.timeout)
    {
        match lines.try_recv() {
            Ok(Input::Line(line)) if line.trim() == "/quit" => break,
            Ok(Input::Line(line)) => {
                if terminal {
                    // As the seed does: the broadcast brings the line back, name and all.
                    out.write_all(ERASE_TYPED_LINE.as_bytes())
                        .context(|| "cannot write to the terminal")?;
                }
                let message = match &mut sealed {
                    Some(sealed) => sealed.seal(name, &line)?,
                    None => format!("{name}: {line}"),
                };
                socket
                    .send_to(message.as_bytes(), server)
                    .map_err(|e| udp_client_error(server, e))?;
            }
            Ok(Input::Skipped) => {
                output_line(out, format_args!("(that line is too long: not sent)"))?;
            }
            Ok(Input::End) => {
                input_ended.get_or_insert_with(Instant::now);
            }
            Err(_) => {}
        }
        match socket.recv_from(&mut buffer) {
            // Only what a broadcast server relayed: a client's message to the server that the
            // kernel handed to this socket instead (all share the port) is not the chat.
            Ok((len, _)) => {
                if let Some(relayed) = buffer[..len].strip_prefix(RELAY_MARKER.as_bytes()) {
                    let text = clean_text(&String::from_utf8_lossy(relayed));
                    let shown = match &mut sealed {
                        Some(sealed) => sealed.open(None, &text, out)?,
                        None => Some(text),
                    };
                    if let Some(shown) = shown {
                        output_line(out, format_args!("{shown}"))?;
                    }
                }
            }
            Err(error) if is_timeout_or_interrupt(&error) => {}
            Err(error) => return Err(Error::io("cannot receive", error)),
        }
    }
    if let Some(summary) = sealed.as_ref().and_then(SealedChat::summary) {
        output_line(out, format_args!("{summary}"))?;
    }
    if shutdown.is_requested() {
        return Err(Error::stopped()); // Ctrl-C: exit 130, quietly
    }
    Ok(())
}
