//! `--tamper`: someone on the path changes a datagram's bytes, and the receiver cannot tell.
//!
//! The UDP checksum is no defence: it is a sum anyone can compute, there to catch noise on
//! a wire, not people. Whoever changes a datagram (a router, a Wi-Fi access point, anyone
//! on a shared LAN with ARP spoofing) sends it on with a correct checksum, as this relay
//! does: it changes the payload and hands it to its own socket, and the kernel computes a
//! fresh checksum. Only a check keyed by a secret the changer lacks (a MAC, an AEAD's tag)
//! catches a change.
//!
//! The change is aimed, as an attacker who knows the protocol would aim it: the case of
//! the *last letter* of the payload is swapped. In a text protocol that is the end of the
//! text, so the message still parses and arrives, visibly changed (`hello bob` becomes
//! `hello boB`), and nothing says it was changed. A real attacker rewrites whatever they
//! like; one letter is enough to see that nothing stops them.

/// `data` with the case of its last ASCII letter swapped; with no letter, the lowest bit of
/// its last byte flipped; an empty datagram stays empty.
pub fn tamper(data: &[u8]) -> Vec<u8> {
    let mut changed = data.to_vec();
    if let Some(letter) = changed.iter_mut().rev().find(|byte| byte.is_ascii_alphabetic()) {
        *letter ^= 0x20; // ASCII's upper and lower case differ in this one bit
    } else if let Some(last) = changed.last_mut() {
        *last ^= 0x01;
    }
    changed
}
