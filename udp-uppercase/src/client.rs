//! The UDP uppercase client.
//!
//! The notebook's client, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `clientSocket = socket(AF_INET, SOCK_DGRAM)` | [`shared::udp::connect_udp`] in [`run`] |
//! | `message = input("Input lowercase sentence:")` | the loop in [`run`] |
//! | `clientSocket.sendto(message.encode(), (serverName, serverPort))` | `send` in [`ask`] |
//! | `modifiedMessage, serverAddress = clientSocket.recvfrom(2048)` | `recv` in [`ask`], bounded by `--timeout` |
//! | `print(modifiedMessage.decode())` | the loop in [`run`] |
//!
//! The notebook's client waits for its reply forever: if the datagram or the reply is lost,
//! or no server runs, it hangs. This one waits `--timeout` seconds and then says so. It
//! also reads line after line until end of input (Ctrl-D), and has a `--message` one-shot.
//! (The workspace's load mode, `--clients`/`--duration`/`--count`, is in `load.rs`: the
//! `client` binary chooses it, so this file does not know it.)

use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use shared::client_errors::{no_reply_error, udp_client_error};
use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::framing::{LineError, LineReader};
use shared::text::as_text;
use shared::udp::{MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, connect_udp};

use crate::args::ClientArgs;

/// The prompt, as the notebook's `input()` shows it.
pub const PROMPT: &str = "Input lowercase sentence: ";

/// Runs the client: one `--message`, or a line-by-line session on `input`. `prompt` shows
/// [`PROMPT`] before each line (the binary passes "stdin is a terminal"). Replies go to
/// `out`. (Load mode is not here: the binary calls `load::run` for it.)
pub fn run(
    args: &ClientArgs,
    input: impl BufRead,
    prompt: bool,
    out: &mut impl Write,
) -> Result<()> {
    let server = args.address.resolve()?;

    let socket = connect_udp(server)?;
    let mut reply = vec![0u8; RECV_BUFFER_SIZE];

    if let Some(message) = &args.message {
        if message.len() > MAX_UDP_PAYLOAD {
            return Err(Error::msg(format!(
                "a message of {} bytes does not fit in one UDP datagram (at most {MAX_UDP_PAYLOAD})",
                message.len()
            )));
        }
        let len = ask(&socket, server, message.as_bytes(), &mut reply, args.timeout)?;
        return output_line(out, format_args!("{}", as_text(&reply[..len])));
    }

    // A line can be at most one datagram long; the reader refuses longer ones rather than
    // filling memory with them.
    let mut lines = LineReader::new(input, MAX_UDP_PAYLOAD);
    loop {
        if prompt {
            print_prompt(out)?;
        }
        let line = match lines.read_line() {
            Ok(Some(line)) => line,
            Ok(None) => {
                // End of input (Ctrl-D): done. After a prompt, end its line so the shell's
                // prompt starts on a fresh one.
                if prompt {
                    output_line(out, format_args!(""))?;
                }
                return Ok(());
            }
            Err(LineError::TooLong { max }) => {
                return Err(Error::msg(format!(
                    "a line longer than {max} bytes does not fit in one UDP datagram"
                )));
            }
            Err(LineError::Io(error)) => return Err(Error::io("cannot read input", error)),
        };
        match ask(&socket, server, line, &mut reply, args.timeout) {
            Ok(len) => output_line(out, format_args!("{}", as_text(&reply[..len])))?,
            // At a terminal, say it and go on: start the server and type the line again.
            // (From a pipe, the first failure ends the client: a script needs the status.)
            Err(error) if prompt && !error.is_stopped() => {
                output_line(out, format_args!("({error}; type a line to try again)"))?;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The notebook's `sendto` and `recvfrom`, with a limit on the wait: sends `message` on
/// `socket` (connected to `server`, so `send` needs no address) and waits at most
/// `timeout` for one datagram back, which lands in `reply`. Returns the reply's length.
///
/// 1. `set_read_timeout(Some(timeout))`, so the wait for the reply is bounded. It returns
///    an `io::Result`: give it a message with `.context(|| "cannot set the reply timeout")`
///    before `?` (see `shared::error::Context`).
/// 2. `send` the message; an error becomes [`udp_client_error`].
/// 3. `recv` into `reply`; an error (a timeout, or no server listening) becomes
///    [`no_reply_error`].
pub fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &[u8],
    reply: &mut [u8],
    timeout: Duration,
) -> Result<usize> {
    // BEGIN SOLUTION: send the message, then receive one datagram, waiting at most timeout (the steps are in the doc comment)
    socket.set_read_timeout(Some(timeout)).context(|| "cannot set the reply timeout")?;
    socket.send(message).map_err(|error| udp_client_error(server, error))?;
    socket.recv(reply).map_err(|error| no_reply_error(server, timeout, error))
    // END SOLUTION
}

fn print_prompt(out: &mut impl Write) -> Result<()> {
    // The prompt has no newline, so flush it by hand.
    out.write_all(PROMPT.as_bytes())
        .and_then(|()| out.flush())
        .context(|| "cannot write the prompt")
}
