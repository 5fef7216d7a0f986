//! Model 1's rule counters read from the kernel: one nf_tables rule dump
//! over netlink (`NFT_MSG_GETRULE` for the `egress` chain of `inet cordon`)
//! on a socket made inside the sandbox's network namespace.
//!
//! Hand-rolled (see `nfnl` for why), with a measured reason for netlink:
//! `nft -j list table inet cordon` (an exec of a dynamically linked program
//! that parses the whole table) took ≈ 2.6 ms more than `true` started the
//! same way, and it ran at the end of every rule-enforcing run whose
//! outcome is read — every run the SDKs start (`docs/performance.md`,
//! "What run options cost"). The dump is a few system calls.
//!
//! Layouts (linux/netfilter/nf_tables.h, nfnetlink.h; libnftnl's udata):
//! each reply is an `nlmsghdr`, an `nfgenmsg` (4 bytes), then attributes;
//! a rule holds `NFTA_RULE_CHAIN`, `NFTA_RULE_EXPRESSIONS` (a list of
//! expressions, each a name and its data; a counter's data holds
//! `NFTA_COUNTER_PACKETS`, big-endian) and `NFTA_RULE_USERDATA` (TLVs of
//! one-byte type and length; type 0 is the rule's comment, NUL-terminated).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use super::nfnl::{
    self, attributes, c_string, messages, nft_type, NFGENMSG_LEN, NFPROTO_INET, NLMSG_DONE,
    NLMSG_ERROR, NLM_F_DUMP, NLM_F_REQUEST,
};

const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_GETRULE: u16 = 7;

const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_COUNTER_PACKETS: u16 = 2;
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;

/// The table and chain whose counters are read (see `nft::table`).
const TABLE: &str = super::nft::TABLE;
const CHAIN: &str = "egress";

/// Packets counted per rule comment in the sandbox's `egress` chain, in the
/// order of the rules, read on `socket` (from [`socket`]).
pub fn read(socket: &OwnedFd) -> io::Result<Vec<(String, u64)>> {
    let request = request();
    // SAFETY: sending a buffer of the given length on our socket (the kernel
    // is a netlink socket's default destination).
    if unsafe {
        libc::send(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    let mut dump = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: receiving into a buffer of the given length.
        let got = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        let Ok(got) = usize::try_from(got) else {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        };
        if got == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let part = &buf[..got];
        let ended = messages(part).any(|m| m.kind == NLMSG_DONE || m.kind == NLMSG_ERROR);
        dump.extend_from_slice(part);
        if ended {
            return parse(&dump);
        }
    }
}

/// The dump request, filtered in the kernel to our table and chain.
fn request() -> Vec<u8> {
    let mut w = nfnl::Writer::default();
    w.begin(
        nft_type(NFT_MSG_GETRULE),
        NLM_F_REQUEST | NLM_F_DUMP,
        1,
        NFPROTO_INET,
        0,
    );
    w.str(NFTA_RULE_TABLE, TABLE);
    w.str(NFTA_RULE_CHAIN, CHAIN);
    w.end();
    w.into_bytes()
}

/// The counters in a whole dump (every reply until `NLMSG_DONE`).
pub(crate) fn parse(dump: &[u8]) -> io::Result<Vec<(String, u64)>> {
    let mut out: Vec<(String, u64)> = Vec::new();
    let rule = nft_type(NFT_MSG_NEWRULE);
    for message in messages(dump) {
        match message.kind {
            NLMSG_DONE => return Ok(out),
            NLMSG_ERROR => {
                let code = message.error_code();
                if code != 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
            }
            k if k == rule => {
                let Some(attrs) = message.payload.get(NFGENMSG_LEN..) else {
                    continue;
                };
                let Some((name, packets)) = rule_counter(attrs) else {
                    continue;
                };
                match out.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += packets,
                    None => out.push((name, packets)),
                }
            }
            _ => {}
        }
    }
    Err(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the rule dump ended without NLMSG_DONE",
    ))
}

/// A rule of our chain with a comment: its comment and its counters' packets.
fn rule_counter(attrs: &[u8]) -> Option<(String, u64)> {
    let mut chain = None;
    let mut comment = None;
    let mut packets = 0u64;
    for (kind, value) in attributes(attrs) {
        match kind {
            NFTA_RULE_CHAIN => chain = Some(c_string(value)),
            NFTA_RULE_USERDATA => comment = udata_comment(value),
            NFTA_RULE_EXPRESSIONS => {
                for (elem, expr) in attributes(value) {
                    if elem == NFTA_LIST_ELEM {
                        packets += counter_packets(expr).unwrap_or(0);
                    }
                }
            }
            _ => {}
        }
    }
    (chain? == CHAIN).then_some(())?;
    Some((comment?, packets))
}

/// The packets of a `counter` expression; `None` for any other expression.
fn counter_packets(expr: &[u8]) -> Option<u64> {
    let mut name = None;
    let mut data = None;
    for (kind, value) in attributes(expr) {
        match kind {
            NFTA_EXPR_NAME => name = Some(c_string(value)),
            NFTA_EXPR_DATA => data = Some(value),
            _ => {}
        }
    }
    (name? == "counter").then_some(())?;
    attributes(data?)
        .find(|(kind, _)| *kind == NFTA_COUNTER_PACKETS)
        .and_then(|(_, v)| v.get(0..8))
        .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

/// The comment among a rule's user data TLVs.
fn udata_comment(mut udata: &[u8]) -> Option<String> {
    while let [kind, len, rest @ ..] = udata {
        let len = usize::from(*len);
        let value = rest.get(..len)?;
        if *kind == NFTNL_UDATA_RULE_COMMENT {
            return Some(c_string(value));
        }
        udata = &rest[len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real dump of cordon's `egress` chain (kernel 6.18, the table
    /// `nft::script` wrote for `--allow-host 10.0.0.1`), after one TCP
    /// SYN to 10.0.0.1 and eight packets elsewhere; `nft -j list` said the
    /// same of it.
    const DUMP: &str = include_str!("testdata/egress-rule-dump.hex");

    fn bytes(hex: &str) -> Vec<u8> {
        let hex = hex.trim();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn a_real_dump_gives_each_commented_rules_packets() {
        let counters = parse(&bytes(DUMP)).unwrap();
        assert_eq!(
            counters,
            vec![
                ("host addresses".to_string(), 0),
                ("network.allowedHosts[0]".to_string(), 1),
                ("default".to_string(), 8),
            ]
        );
    }

    #[test]
    fn a_truncated_dump_is_an_error_not_an_empty_answer() {
        let dump = bytes(DUMP);
        assert!(parse(&dump[..dump.len() - 20]).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn an_error_reply_is_its_errno() {
        // nlmsghdr (20 bytes in all) carrying nlmsgerr's -ENOENT.
        let mut m = Vec::new();
        m.extend_from_slice(&20u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&(-libc::ENOENT).to_ne_bytes());
        let e = parse(&m).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn the_request_is_aligned_and_sized() {
        let r = request();
        assert_eq!(r.len() % 4, 0);
        assert_eq!(
            u32::from_ne_bytes(r[0..4].try_into().unwrap()) as usize,
            r.len()
        );
        let attrs: Vec<_> = attributes(&r[nfnl::NLMSG_HDRLEN + NFGENMSG_LEN..]).collect();
        assert_eq!(
            attrs,
            vec![
                (NFTA_RULE_TABLE, &b"cordon\0"[..]),
                (NFTA_RULE_CHAIN, &b"egress\0"[..])
            ]
        );
    }
}
