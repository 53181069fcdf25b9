//! The client's side of the sealed chat (`--passphrase-file`): seal what the user types,
//! open what arrives, drop replays, and tell the user about what could not be opened
//! without flooding the screen.
//!
//! The cryptography is in [`crate::seal`], the replay window in [`crate::replay_window`];
//! this file is the glue both chat modes (hub and broadcast) and load mode share.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::text::plural;

use crate::args::SealArgs;
use crate::replay_window::{ReplayTable, Verdict};
use crate::seal::{GroupKey, KdfParams, OpenError, Opened, Sealer, open_line};
use crate::text::clean_text;

/// The largest passphrase file read: a passphrase is a line, not a document.
const MAX_PASSPHRASE_FILE: u64 = 4096;

/// At most one note per kind of trouble this often (plus the totals at the end).
const NOTE_EVERY: Duration = Duration::from_secs(10);

/// The sealed chat's flags (in `src/args.rs`), turned into the key.
impl SealArgs {
    /// The group key from the passphrase file, or `None` without `--passphrase-file`; and
    /// how long the derivation took.
    pub(crate) fn key(&self) -> Result<Option<(GroupKey, Duration)>> {
        let Some(path) = &self.passphrase_file else { return Ok(None) };
        let passphrase = read_passphrase(path)?;
        let params = KdfParams { memory_kib: self.kdf_memory * 1024, passes: self.kdf_passes };
        let started = Instant::now();
        let key = GroupKey::derive(passphrase.as_bytes(), params).map_err(Error::msg)?;
        Ok(Some((key, started.elapsed())))
    }
}

/// The first line of `path`, without its line ending; an error if it is empty or the file
/// is larger than [`MAX_PASSPHRASE_FILE`].
fn read_passphrase(path: &std::path::Path) -> Result<String> {
    let file = File::open(path)
        .context(|| format!("cannot open the passphrase file {}", path.display()))?;
    let mut contents = String::new();
    file.take(MAX_PASSPHRASE_FILE + 1)
        .read_to_string(&mut contents)
        .context(|| format!("cannot read the passphrase file {} as text", path.display()))?;
    if contents.len() as u64 > MAX_PASSPHRASE_FILE {
        return Err(Error::msg(format!(
            "the passphrase file {} is larger than {MAX_PASSPHRASE_FILE} bytes: it should hold one line",
            path.display()
        )));
    }
    let passphrase = contents.lines().next().unwrap_or("").to_string();
    if passphrase.is_empty() {
        return Err(Error::msg(format!(
            "the passphrase file {} has no passphrase on its first line",
            path.display()
        )));
    }
    Ok(passphrase)
}

/// What a sealed member has seen, by kind.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Lines opened and shown.
    pub opened: u64,
    /// Lines that did not open: wrong key, or changed on the way.
    pub unopened: u64,
    /// Authentic lines seen before (or too old to tell): replays, duplicates.
    pub replayed: u64,
    /// Datagrams that are no sealed line at all: plain text, truncated, wrong version...
    pub malformed: u64,
}

/// A member's sealed chat: its sealer, the key to open others' lines, their windows.
pub(crate) struct SealedChat {
    sealer: Sealer,
    key: GroupKey,
    replays: ReplayTable,
    pub tally: Tally,
    /// When each kind of trouble was last told to the user.
    noted: HashMap<&'static str, Instant>,
}

impl SealedChat {
    /// A sealed chat with `key`: a new random sender id, empty windows.
    pub(crate) fn new(key: GroupKey, max_senders: u32) -> Result<SealedChat> {
        let sealer = Sealer::new(key.clone())
            .map_err(|error| Error::msg(format!("no random numbers for the sender id: {error}")))?;
        Ok(SealedChat {
            sealer,
            key,
            replays: ReplayTable::new(usize::try_from(max_senders).unwrap_or(usize::MAX)),
            tally: Tally::default(),
            noted: HashMap::new(),
        })
    }

    /// Derives the key (`args`), says so on `out`, and starts a sealed chat; `None` if the
    /// chat is not sealed.
    pub(crate) fn start(args: &SealArgs, out: &mut impl Write) -> Result<Option<SealedChat>> {
        let Some((key, took)) = args.key()? else { return Ok(None) };
        let chat = SealedChat::new(key, args.max_senders)?;
        output_line(
            out,
            format_args!(
                "(sealed chat: key derived in {:.2} s; you are sender {})",
                took.as_secs_f64(),
                chat.sealer.sender()
            ),
        )?;
        Ok(Some(chat))
    }

    /// Seals `text` as said by `name`.
    pub(crate) fn seal(&mut self, name: &str, text: &str) -> Result<String> {
        self.sealer.seal(&format!("{name}: {text}")).map_err(|error| Error::msg(error.to_string()))
    }

    /// Opens a sealed `line` and returns what to print, or `None` (counted, and noted on
    /// `out` at most every [`NOTE_EVERY`] per kind). `stamped` is the name the hub put on
    /// it (hub mode): if the sealed name differs, both are shown.
    pub(crate) fn open(
        &mut self,
        stamped: Option<&str>,
        line: &str,
        out: &mut impl Write,
    ) -> Result<Option<String>> {
        let Some(opened) = self.open_fresh(line, out)? else { return Ok(None) };
        let (name, text) = opened.text.split_once(": ").unwrap_or(("?", &opened.text));
        let (name, text) = (clean_text(name), clean_text(text));
        Ok(Some(match stamped {
            Some(stamped) if stamped != name => {
                format!("{name} (sent by {}): {text}", clean_text(stamped))
            }
            _ => format!("{name}: {text}"),
        }))
    }

    /// Opens a sealed `line` and passes it through its sender's replay window: the line,
    /// if it opened and is fresh; else `None` (counted, and noted on `out` at most every
    /// [`NOTE_EVERY`] per kind).
    pub(crate) fn open_fresh(
        &mut self,
        line: &str,
        out: &mut impl Write,
    ) -> Result<Option<Opened>> {
        let opened = match open_line(&self.key, line) {
            Ok(opened) => opened,
            Err(OpenError::NotAuthentic) => {
                self.tally.unopened += 1;
                let count = self.tally.unopened;
                self.note(out, "unopened", || {
                    format!(
                        "({} could not be opened so far: wrong passphrase? or changed on the way)",
                        plural(count, "line")
                    )
                })?;
                return Ok(None);
            }
            Err(error) => {
                self.tally.malformed += 1;
                self.note(out, error.kind(), || format!("(dropped a datagram: {error})"))?;
                return Ok(None);
            }
        };
        match self.replays.accept(opened.sender, opened.counter) {
            Verdict::Fresh => {}
            verdict => {
                self.tally.replayed += 1;
                let why = if verdict == Verdict::Duplicate { "seen before" } else { "too old" };
                let sender = opened.sender;
                self.note(out, "replayed", || {
                    format!("(dropped a replayed line from sender {sender}: {why})")
                })?;
                return Ok(None);
            }
        }
        self.tally.opened += 1;
        Ok(Some(opened))
    }

    /// Tells the user `what()` unless this `kind` was told less than [`NOTE_EVERY`] ago.
    fn note(
        &mut self,
        out: &mut impl Write,
        kind: &'static str,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        let now = Instant::now();
        if self.noted.get(kind).is_some_and(|last| now.duration_since(*last) < NOTE_EVERY) {
            return Ok(());
        }
        self.noted.insert(kind, now);
        output_line(out, format_args!("{}", what()))
    }

    /// The totals, for the end of the chat: `None` if nothing went wrong.
    pub(crate) fn summary(&self) -> Option<String> {
        let tally = &self.tally;
        if tally.unopened + tally.replayed + tally.malformed == 0 {
            return None;
        }
        let mut parts = vec![format!("{} opened", plural(tally.opened, "line"))];
        if tally.unopened > 0 {
            parts.push(format!(
                "{} could not be opened (wrong passphrase? or changed on the way)",
                tally.unopened
            ));
        }
        if tally.replayed > 0 {
            parts.push(format!("{} replayed dropped", tally.replayed));
        }
        if tally.malformed > 0 {
            parts.push(format!("{} malformed dropped", tally.malformed));
        }
        if self.replays.evicted > 0 {
            parts.push(format!("{} senders forgotten to make room", self.replays.evicted));
        }
        Some(format!("(sealed chat: {})", parts.join(", ")))
    }
}
