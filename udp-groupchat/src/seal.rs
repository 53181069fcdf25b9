//! The sealed chat: every line encrypted and authenticated end to end, members to members.
//!
//! The plain chat can be read, replayed, changed and forged by anyone who sees its datagrams
//! (the README shows each attack). Sealing closes all four for whoever lacks the group's key:
//!
//! - **The key** comes from the group's passphrase through Argon2id ([`GroupKey::derive`]), a
//!   key-derivation function that is slow and needs a lot of memory on purpose: one captured
//!   datagram lets an eavesdropper test passphrases offline, as fast as their hardware
//!   allows, and Argon2id makes each guess cost what a member pays once per start.
//! - **Each line** is sealed with XChaCha20-Poly1305, an AEAD (authenticated encryption with
//!   associated data): the text is encrypted, and a 16-byte tag over the text *and* the
//!   clear header proves that someone with the key wrote exactly these bytes. One changed
//!   bit anywhere and [`open_line`] refuses the whole datagram.
//! - **The nonce** (the "number used once" that makes each encryption different) is the
//!   sender's random 16-byte id and its counter of lines sent, both in the clear header. A
//!   stream cipher XORs the text with a keystream fixed by key and nonce: two lines sealed
//!   with the same nonce give away the XOR of the two texts (and the Poly1305 key, so
//!   forgeries). The counter never repeats within one run; the random id (2^128 of them)
//!   makes two members, or one member's two runs, collide with a chance no one will see.
//! - **Replays** (a captured datagram sent again) open fine, so they are caught after
//!   opening, by the counter: see [`crate::replay_window`].
//!
//! On the wire a sealed line is text, so the hub relays it as any line (`SAY <sealed>`), and
//! cannot read it:
//!
//! ```text
//! base64( version (1 byte) | sender id (16) | counter (8, big-endian) | ciphertext | tag (16) )
//!         └──────────── the clear header: authenticated, not encrypted ──────────┘
//! ```
//!
//! The plaintext is `name: text`, as in the seed's broadcast chat: the name travels sealed,
//! so a member can tell who wrote a line even in broadcast mode, where nobody stamps it.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

/// The format's version, the header's first byte: a later format gets another number, and
/// an old member refuses it instead of misreading it.
pub const VERSION: u8 = 1;

/// Base64 without padding. Decoding ignores the unused low bits of the last character (the
/// strict default refuses them): a change there decodes to the very same bytes, so it is no
/// change to what was sealed, and any change that alters a byte is left for the tag to catch
/// ("cannot be opened"), not reported as "not base64".
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Bytes of a sender id.
pub const SENDER_ID_LEN: usize = 16;

/// Bytes of the clear header: version, sender id, counter.
pub const HEADER_LEN: usize = 1 + SENDER_ID_LEN + 8;

/// Bytes of the authentication tag Poly1305 appends.
pub const TAG_LEN: usize = 16;

/// The longest sealed line [`open_line`] decodes, in characters: a longer one is refused
/// before any work (the hub relays at most 16 KiB; base64 takes 4 characters per 3 bytes).
pub const MAX_SEALED_CHARS: usize = 16 * 1024 * 4 / 3 + 4;

/// The counter no line may carry: [`Sealer`] stops below it, and [`open_line`] refuses it,
/// so a counter cannot wrap around to a used nonce.
pub const EXHAUSTED: u64 = u64::MAX;

/// Argon2id's salt. Members must derive the same key from the same passphrase, so the salt
/// cannot be random per member; it is fixed for this program and format. (An attacker can
/// therefore precompute guesses once for every group that uses this program: a real design
/// hands out a random salt with the group, or a random key instead of a passphrase.)
const SALT: &[u8] = b"udp-groupchat sealed chat, format 1";

/// Who sealed a line: 16 random bytes a member picks at each start ([`SenderId::random`]).
/// Not a name: anyone with the key can use any id (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SenderId(pub [u8; SENDER_ID_LEN]);

impl SenderId {
    /// A fresh id from the operating system's random numbers.
    pub fn random() -> Result<SenderId, getrandom::Error> {
        let mut id = [0; SENDER_ID_LEN];
        getrandom::fill(&mut id)?;
        Ok(SenderId(id))
    }
}

impl fmt::Display for SenderId {
    /// The first 4 bytes in hex: enough to tell senders apart in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0[..4].iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// How much Argon2id works for one key. Every member of a group must use the same values
/// (they are part of what makes the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB (at least 8).
    pub memory_kib: u32,
    /// Passes over that memory (at least 1).
    pub passes: u32,
}

impl KdfParams {
    /// The chat's default: 64 MiB, 3 passes, one lane (RFC 9106's second recommended set,
    /// with one lane since a client has no use for more threads).
    pub const DEFAULT: KdfParams = KdfParams { memory_kib: 64 * 1024, passes: 3 };
    /// For tests only: as cheap as Argon2 allows. A real group never uses it.
    pub const CHEAPEST: KdfParams = KdfParams { memory_kib: 8, passes: 1 };
}

/// The group's key, ready to seal and open lines. Its `Debug` shows no key bytes.
#[derive(Clone)]
pub struct GroupKey {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupKey(..)")
    }
}

impl GroupKey {
    /// The key for `passphrase`: 32 bytes from Argon2id with `params` and the program's salt.
    pub fn derive(passphrase: &[u8], params: KdfParams) -> Result<GroupKey, String> {
        let params = Params::new(params.memory_kib, params.passes, 1, Some(32))
            .map_err(|error| format!("bad key-derivation settings: {error}"))?;
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, SALT, &mut key)
            .map_err(|error| format!("cannot derive the key: {error}"))?;
        Ok(GroupKey::from_bytes(key))
    }

    /// A key given as its 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> GroupKey {
        GroupKey { cipher: XChaCha20Poly1305::new(&key.into()) }
    }
}

/// A line opened: who sealed it, its counter, and its text (`name: text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The sender's id, from the header.
    pub sender: SenderId,
    /// The sender's counter, from the header: for the replay window.
    pub counter: u64,
    /// The plaintext.
    pub text: String,
}

/// Why a line could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// The counter reached [`EXHAUSTED`]: sealing more would reuse nonces. Restart the
    /// client (a new sender id).
    CounterExhausted,
    /// The cipher refused (a text far beyond any datagram).
    TooLong,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SealError::CounterExhausted => {
                "this member has sealed all the lines its counter allows: restart it"
            }
            SealError::TooLong => "the line is too long to seal",
        })
    }
}

impl std::error::Error for SealError {}

/// Why a datagram is not a line this member can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Longer than [`MAX_SEALED_CHARS`].
    TooLong,
    /// Not base64: not a sealed line at all (a plain line, or noise).
    NotBase64,
    /// Shorter than a header and a tag.
    TooShort,
    /// A version this member does not speak.
    WrongVersion(u8),
    /// The counter is [`EXHAUSTED`], which no sender uses.
    CounterExhausted,
    /// The tag does not match: sealed with another key (wrong passphrase?), or changed on
    /// the way, or made up.
    NotAuthentic,
    /// Authentic, but not UTF-8 text: only a key holder could have sealed it.
    NotText,
}

impl OpenError {
    /// One word for counting and logging each kind.
    pub fn kind(self) -> &'static str {
        match self {
            OpenError::TooLong => "too long",
            OpenError::NotBase64 => "not sealed",
            OpenError::TooShort => "truncated",
            OpenError::WrongVersion(_) => "wrong version",
            OpenError::CounterExhausted => "counter at its maximum",
            OpenError::NotAuthentic => "cannot be opened",
            OpenError::NotText => "not text",
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::WrongVersion(version) => write!(f, "wrong version ({version})"),
            OpenError::NotAuthentic => {
                f.write_str("cannot be opened (wrong passphrase? or changed on the way)")
            }
            OpenError::NotBase64 => {
                f.write_str("not sealed (plain text: forged, or a member without the passphrase)")
            }
            other => f.write_str(other.kind()),
        }
    }
}

/// The clear header of a line: version, sender id, counter (big-endian).
fn header(sender: SenderId, counter: u64) -> [u8; HEADER_LEN] {
    let mut header = [0; HEADER_LEN];
    header[0] = VERSION;
    header[1..=SENDER_ID_LEN].copy_from_slice(&sender.0);
    header[1 + SENDER_ID_LEN..].copy_from_slice(&counter.to_be_bytes());
    header
}

/// The nonce of a line: sender id then counter, 24 bytes, never the same twice (see the
/// module's doc).
fn nonce(sender: SenderId, counter: u64) -> XNonce {
    let mut nonce = XNonce::default();
    nonce[..SENDER_ID_LEN].copy_from_slice(&sender.0);
    nonce[SENDER_ID_LEN..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

/// Seals `text` as line number `counter` of `sender`: the header in the clear, the text
/// encrypted, a tag over both, all in base64. The steps:
///
/// 1. Refuse `counter` [`EXHAUSTED`] ([`SealError::CounterExhausted`]).
/// 2. Build the header (`header(sender, counter)`) and the nonce (`nonce(sender, counter)`).
/// 3. Put the text's bytes in a `Vec`, and encrypt it in place with
///    `key.cipher.encrypt_in_place(&nonce, &header, &mut buffer)` (the header is the
///    associated data: authenticated, not encrypted); an error is [`SealError::TooLong`].
/// 4. Return `BASE64.encode` of the header followed by the buffer (ciphertext and tag).
pub fn seal_line(
    key: &GroupKey,
    sender: SenderId,
    counter: u64,
    text: &str,
) -> Result<String, SealError> {
    // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
    if counter == EXHAUSTED {
        return Err(SealError::CounterExhausted);
    }
    let header = header(sender, counter);
    let mut sealed = text.as_bytes().to_vec();
    key.cipher
        .encrypt_in_place(&nonce(sender, counter), &header, &mut sealed)
        .map_err(|_| SealError::TooLong)?;
    let mut datagram = Vec::with_capacity(HEADER_LEN + sealed.len());
    datagram.extend_from_slice(&header);
    datagram.extend_from_slice(&sealed);
    Ok(BASE64.encode(datagram))
    // END SOLUTION
}

/// Opens a sealed line: checks it, then its tag, and returns who sealed it, its counter and
/// its text. Cheap checks first, so that junk costs no decryption. The steps:
///
/// 1. Longer than [`MAX_SEALED_CHARS`]: [`OpenError::TooLong`]. `BASE64.decode` it, or
///    [`OpenError::NotBase64`].
/// 2. Fewer bytes than [`HEADER_LEN`] + [`TAG_LEN`]: [`OpenError::TooShort`]. First byte not
///    [`VERSION`]: [`OpenError::WrongVersion`].
/// 3. Read the sender id (the next [`SENDER_ID_LEN`] bytes) and the counter (8 bytes,
///    big-endian); [`EXHAUSTED`]: [`OpenError::CounterExhausted`].
/// 4. Split the rest into the ciphertext and the tag (its last [`TAG_LEN`] bytes), and
///    decrypt in place with `key.cipher.decrypt_in_place_detached(&nonce, header,
///    ciphertext, Tag::from_slice(tag))`; an error (the tag does not match) is
///    [`OpenError::NotAuthentic`].
/// 5. The plaintext must be UTF-8 ([`OpenError::NotText`]).
pub fn open_line(key: &GroupKey, line: &str) -> Result<Opened, OpenError> {
    // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
    if line.len() > MAX_SEALED_CHARS {
        return Err(OpenError::TooLong);
    }
    let mut datagram = BASE64.decode(line).map_err(|_| OpenError::NotBase64)?;
    if datagram.len() < HEADER_LEN + TAG_LEN {
        return Err(OpenError::TooShort);
    }
    if datagram[0] != VERSION {
        return Err(OpenError::WrongVersion(datagram[0]));
    }
    let mut id = [0; SENDER_ID_LEN];
    id.copy_from_slice(&datagram[1..=SENDER_ID_LEN]);
    let sender = SenderId(id);
    let mut counter_bytes = [0; 8];
    counter_bytes.copy_from_slice(&datagram[1 + SENDER_ID_LEN..HEADER_LEN]);
    let counter = u64::from_be_bytes(counter_bytes);
    if counter == EXHAUSTED {
        return Err(OpenError::CounterExhausted);
    }
    // Decrypted where it lies: no copy of the line but the String at the end.
    let text_end = datagram.len() - TAG_LEN;
    let (header, rest) = datagram.split_at_mut(HEADER_LEN);
    let (ciphertext, tag) = rest.split_at_mut(text_end - HEADER_LEN);
    key.cipher
        .decrypt_in_place_detached(
            &nonce(sender, counter),
            header,
            ciphertext,
            Tag::from_slice(tag),
        )
        .map_err(|_| OpenError::NotAuthentic)?;
    datagram.truncate(text_end);
    datagram.drain(..HEADER_LEN);
    let text = String::from_utf8(datagram).map_err(|_| OpenError::NotText)?;
    Ok(Opened { sender, counter, text })
    // END SOLUTION
}

/// One member's sealing side: its key, its random id for this run, and its counter.
#[derive(Debug)]
pub struct Sealer {
    key: GroupKey,
    sender: SenderId,
    next: u64,
}

impl Sealer {
    /// A sealer with a fresh random sender id, counting from 0.
    pub fn new(key: GroupKey) -> Result<Sealer, getrandom::Error> {
        Ok(Sealer { key, sender: SenderId::random()?, next: 0 })
    }

    /// A sealer with a given id and first counter (tests).
    pub fn with_id(key: GroupKey, sender: SenderId, next: u64) -> Sealer {
        Sealer { key, sender, next }
    }

    /// This run's sender id.
    pub fn sender(&self) -> SenderId {
        self.sender
    }

    /// Seals the next line: each call uses the next counter, never one twice.
    pub fn seal(&mut self, text: &str) -> Result<String, SealError> {
        let sealed = seal_line(&self.key, self.sender, self.next, text)?;
        self.next += 1; // cannot overflow: seal_line refused EXHAUSTED = u64::MAX
        Ok(sealed)
    }
}
