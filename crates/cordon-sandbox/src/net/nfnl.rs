//! nf_tables over netlink: the message and attribute layouts that writing
//! the sandbox's table (`nft_install`) and reading its counters
//! (`nft_counters`) share.
//!
//! Hand-rolled, with a measured reason: the one nftables crate that speaks
//! netlink (rustables) is GPL-3.0 and generates its bindings with bindgen
//! at build time; the generic netlink crates would still leave every
//! nf_tables layout to be written here. What cordon needs is small: one
//! buffer of messages out, acknowledgements and one dump in.
//!
//! Layouts (linux/netlink.h, linux/netfilter/nfnetlink.h): a message is an
//! `nlmsghdr` (16 bytes), an `nfgenmsg` (4 bytes: family, version, resource
//! id), then attributes, each a 4-byte header (length, type) and its value,
//! padded to 4 bytes. nf_tables' numbers are big-endian unless the kernel
//! compares them as they are in memory (register data).

use std::io;

pub const NLMSG_HDRLEN: usize = 16;
pub const NFGENMSG_LEN: usize = 4;
const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` ride in an attribute's type.
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLA_F_NESTED: u16 = 0x8000;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
pub const NLMSG_ERROR: u16 = 0x2;
pub const NLMSG_DONE: u16 = 0x3;

pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
pub const NFNL_MSG_BATCH_END: u16 = 0x11;
pub const NFPROTO_UNSPEC: u8 = 0;
pub const NFPROTO_INET: u8 = 1;
const NETLINK_NETFILTER: libc::c_int = 12;

/// The netlink type of nf_tables message `msg` (`NFT_MSG_*`).
pub fn nft_type(msg: u16) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | msg
}

/// A raw netfilter netlink socket, made by the caller in the namespace whose
/// rules it writes or reads (a socket keeps the namespace it was made in).
/// Raw system calls only: it runs in forked children.
pub fn socket() -> io::Result<libc::c_int> {
    // SAFETY: a plain socket call; the caller owns the descriptor.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Netlink messages written one after another into one buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
    /// Where the message being written starts.
    message: usize,
    /// Where each open nested attribute starts.
    nests: Vec<usize>,
}

impl Writer {
    /// Start a message: its header and `nfgenmsg` (`res_id` big-endian).
    pub fn begin(&mut self, kind: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
        self.message = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(0);
        self.buf.extend_from_slice(&res_id.to_be_bytes());
    }

    /// Finish the message begun last (its length).
    pub fn end(&mut self) {
        let len = u32::try_from(self.buf.len() - self.message).unwrap_or(u32::MAX);
        self.buf[self.message..self.message + 4].copy_from_slice(&len.to_ne_bytes());
    }

    /// An attribute holding `value` as it is.
    pub fn bytes(&mut self, kind: u16, value: &[u8]) {
        let len = u16::try_from(NLA_HDRLEN + value.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(align(self.buf.len()), 0);
    }

    /// A NUL-terminated string attribute.
    pub fn str(&mut self, kind: u16, value: &str) {
        let mut v = Vec::with_capacity(value.len() + 1);
        v.extend_from_slice(value.as_bytes());
        v.push(0);
        self.bytes(kind, &v);
    }

    /// A big-endian 32-bit attribute.
    pub fn be32(&mut self, kind: u16, value: u32) {
        self.bytes(kind, &value.to_be_bytes());
    }

    /// A big-endian 64-bit attribute.
    pub fn be64(&mut self, kind: u16, value: u64) {
        self.bytes(kind, &value.to_be_bytes());
    }

    /// Open a nested attribute; [`Writer::close`] ends it.
    pub fn nest(&mut self, kind: u16) {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    }

    /// Close the nested attribute opened last.
    pub fn close(&mut self) {
        if let Some(start) = self.nests.pop() {
            let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// One received netlink message.
pub struct Message<'a> {
    pub kind: u16,
    pub seq: u32,
    /// What follows the header.
    pub payload: &'a [u8],
}

impl Message<'_> {
    /// An `NLMSG_ERROR`'s code: 0 for an acknowledgement, else `-errno`.
    pub fn error_code(&self) -> i32 {
        self.payload
            .get(0..4)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(-libc::EPROTO)
    }
}

/// The netlink messages in `buf`.
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Message<'_>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        let header = rest.get(..NLMSG_HDRLEN)?;
        let len = usize::try_from(u32::from_ne_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .ok()?;
        let kind = u16::from_ne_bytes([header[4], header[5]]);
        let seq = u32::from_ne_bytes([header[8], header[9], header[10], header[11]]);
        let payload = rest.get(NLMSG_HDRLEN..len)?;
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(Message { kind, seq, payload })
    })
}

/// The attributes in `buf`: (type without its flags, value).
pub fn attributes(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        let header = rest.get(..NLA_HDRLEN)?;
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
        let value = rest.get(NLA_HDRLEN..len)?;
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some((kind, value))
    })
}

/// A string attribute without its NUL.
pub fn c_string(value: &[u8]) -> String {
    let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_nests_carry_their_lengths() {
        let mut w = Writer::default();
        w.begin(nft_type(1), NLM_F_REQUEST, 7, NFPROTO_INET, 0);
        w.str(1, "cordon");
        w.nest(4);
        w.be32(1, 3);
        w.bytes(2, &[9]);
        w.close();
        w.end();
        let buf = w.into_bytes();
        assert_eq!(buf.len() % 4, 0);
        let all: Vec<Message> = messages(&buf).collect();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].kind, all[0].seq), (nft_type(1), 7));
        assert_eq!(&all[0].payload[..NFGENMSG_LEN], &[NFPROTO_INET, 0, 0, 0]);
        let attrs: Vec<_> = attributes(&all[0].payload[NFGENMSG_LEN..]).collect();
        assert_eq!(attrs[0], (1, &b"cordon\0"[..]));
        assert_eq!(attrs[1].0, 4);
        let inner: Vec<_> = attributes(attrs[1].1).collect();
        assert_eq!(inner, vec![(1, &[0, 0, 0, 3][..]), (2, &[9][..])]);
    }
}
