//! Model 1's packet filter written to the kernel: the [`Table`] as one
//! nf_tables batch (all of it or nothing) on a netlink socket made inside
//! the sandbox's network namespace, and the host's new addresses added to
//! its sets later.
//!
//! Measured reason for not running `nft -f` (which did this until
//! 2026-12-05): starting nft in a fresh namespace cost ≈ 2 ms more than
//! `true` started the same way (`bench/paired.py 100 'true=unshare -n
//! true' 'nft=unshare -n nft -f SCRIPT'`), on the critical path of every
//! rule-enforcing start; a batch is two system calls. The expressions
//! are the ones nft writes for the same script, so `nft list table inet
//! cordon` shows the same table either way (a test installs both and
//! compares). Layouts: linux/netfilter/nf_tables.h; set and rule user
//! data as libnftnl writes them.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use super::nfnl::{
    messages, nft_type, Writer, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES,
    NFPROTO_INET, NFPROTO_UNSPEC, NLMSG_ERROR, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE,
    NLM_F_REQUEST,
};
use super::nft::{Action, AddressSet, Chain, Hook, Match, Rule, Table, TABLE};

const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_NEWSET: u16 = 9;
const NFT_MSG_NEWSETELEM: u16 = 12;

const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_FLAGS: u16 = 2;

const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NF_INET_LOCAL_IN: u32 = 1;
const NF_INET_LOCAL_OUT: u32 = 3;

const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;
/// nft's limit on a comment (libnftnl's NFTNL_UDATA_COMMENT_MAXLEN, with
/// its NUL).
const COMMENT_MAX: usize = 128;

const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_FLAGS: u16 = 3;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_DESC: u16 = 9;
const NFTA_SET_ID: u16 = 10;
const NFTA_SET_USERDATA: u16 = 13;
const NFTA_SET_DESC_SIZE: u16 = 1;
const NFT_SET_ANONYMOUS: u32 = 0x1;
const NFT_SET_CONSTANT: u32 = 0x2;
/// The name the kernel numbers (`__set0`, …) for an anonymous set.
const ANONYMOUS_SET: &str = "__set%d";
/// A set's user data: its key's byte order (NFTNL_UDATA_SET_KEYBYTEORDER,
/// a host-order u32: 2 is big-endian), as nft writes for address sets.
const KEY_BIG_ENDIAN: [u8; 6] = {
    let order = 2u32.to_ne_bytes();
    [0, 4, order[0], order[1], order[2], order[3]]
};
/// nft's data types (its `enum datatypes`), which `nft list` prints by.
const TYPE_IPADDR: u32 = 7;
const TYPE_IP6ADDR: u32 = 8;
const TYPE_INET_PROTOCOL: u32 = 12;
const TYPE_ICMP6_TYPE: u32 = 29;

const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
/// NFT_GOTO, -4 as the kernel reads it.
const NFT_GOTO: u32 = (-4i32).cast_unsigned();

const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
/// The verdict register and the first data register.
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NFT_META_IIF: u32 = 4;
const NFT_META_OIF: u32 = 5;
const NFT_META_NFPROTO: u32 = 15;
const NFT_META_L4PROTO: u32 = 16;
const NFT_CT_STATE: u32 = 0;
/// Conntrack state bits (NF_CT_STATE_BIT): established, related.
const CT_ESTABLISHED_RELATED: u32 = 2 | 4;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_CMP_LTE: u32 = 3;
const NFT_CMP_GTE: u32 = 5;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_REJECT_TCP_RST: u32 = 1;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
/// The loopback device's index: 1 in every network namespace.
const LOOPBACK_IFINDEX: u32 = 1;

/// Write `table` into the namespace of `socket` (from
/// [`super::nfnl::socket`]), as one batch.
pub fn install(socket: &OwnedFd, table: &Table) -> Result<(), String> {
    let mut batch = Batch::new();
    batch.table(table)?;
    batch.send(socket)
}

/// Add `sets`' addresses (set name, addresses of its family) to the
/// installed table's sets.
pub fn add_elements(socket: &OwnedFd, sets: &[(&str, Vec<IpAddr>)]) -> Result<(), String> {
    let mut batch = Batch::new();
    for (set, addrs) in sets {
        batch.elements(set, None, addrs.iter().map(|a| address_bytes(*a)));
    }
    batch.send(socket)
}

/// One nf_tables batch being written, and what each message is (by its
/// sequence number) for error messages.
struct Batch {
    w: Writer,
    seq: u32,
    what: Vec<(u32, String)>,
    /// The last set ID given (sets made in this batch are referred to by it).
    set_id: u32,
    /// The IDs of this batch's named sets.
    named: Vec<(&'static str, u32)>,
}

impl Batch {
    fn new() -> Self {
        let mut batch = Batch {
            w: Writer::default(),
            seq: 0,
            what: Vec::new(),
            set_id: 0,
            named: Vec::new(),
        };
        batch.control(NFNL_MSG_BATCH_BEGIN, "the batch's beginning");
        batch
    }

    fn control(&mut self, kind: u16, what: &str) {
        self.seq += 1;
        self.what.push((self.seq, what.to_string()));
        self.w.begin(
            kind,
            NLM_F_REQUEST,
            self.seq,
            NFPROTO_UNSPEC,
            NFNL_SUBSYS_NFTABLES,
        );
        self.w.end();
    }

    /// Begin an nf_tables message (finished with `self.w.end()`).
    fn message(&mut self, msg: u16, flags: u16, what: String) {
        self.seq += 1;
        self.what.push((self.seq, what));
        self.w.begin(
            nft_type(msg),
            NLM_F_REQUEST | NLM_F_CREATE | flags,
            self.seq,
            NFPROTO_INET,
            0,
        );
    }

    fn table(&mut self, table: &Table) -> Result<(), String> {
        self.message(NFT_MSG_NEWTABLE, 0, format!("table inet {TABLE}"));
        self.w.str(NFTA_TABLE_NAME, TABLE);
        self.w.be32(NFTA_TABLE_FLAGS, 0);
        self.w.end();
        for set in &table.sets {
            self.named_set(set);
        }
        for chain in &table.chains {
            self.chain(chain);
        }
        for chain in &table.chains {
            for (i, rule) in chain.rules.iter().enumerate() {
                self.rule(chain.name, i, rule)?;
            }
        }
        Ok(())
    }

    fn named_set(&mut self, set: &AddressSet) {
        self.set_id += 1;
        let id = self.set_id;
        self.named.push((set.name, id));
        self.message(NFT_MSG_NEWSET, 0, format!("set {}", set.name));
        self.w.str(NFTA_SET_TABLE, TABLE);
        self.w.str(NFTA_SET_NAME, set.name);
        self.w.be32(NFTA_SET_FLAGS, 0);
        let (kind, len) = if set.v4 {
            (TYPE_IPADDR, 4)
        } else {
            (TYPE_IP6ADDR, 16)
        };
        self.w.be32(NFTA_SET_KEY_TYPE, kind);
        self.w.be32(NFTA_SET_KEY_LEN, len);
        self.w.be32(NFTA_SET_ID, id);
        self.w.bytes(NFTA_SET_USERDATA, &KEY_BIG_ENDIAN);
        self.w.end();
        if !set.elements.is_empty() {
            let keys = set.elements.iter().map(|a| address_bytes(*a));
            self.elements(set.name, Some(id), keys);
        }
    }

    /// An anonymous constant set of one-byte keys of nft type `kind`, for
    /// the rule described by `what`; its ID.
    fn anonymous_set(&mut self, kind: u32, keys: &[u8], what: &str) -> u32 {
        self.set_id += 1;
        let id = self.set_id;
        self.message(NFT_MSG_NEWSET, 0, format!("the set of {what}"));
        self.w.str(NFTA_SET_TABLE, TABLE);
        self.w.str(NFTA_SET_NAME, ANONYMOUS_SET);
        self.w
            .be32(NFTA_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
        self.w.be32(NFTA_SET_KEY_TYPE, kind);
        self.w.be32(NFTA_SET_KEY_LEN, 1);
        self.w.be32(NFTA_SET_ID, id);
        self.w.nest(NFTA_SET_DESC);
        self.w
            .be32(NFTA_SET_DESC_SIZE, u32::try_from(keys.len()).unwrap_or(0));
        self.w.close();
        self.w.end();
        self.elements(ANONYMOUS_SET, Some(id), keys.iter().map(|k| vec![*k]));
        id
    }

    /// Add `keys` to `set` (made in this batch when `id` is given).
    fn elements(&mut self, set: &str, id: Option<u32>, keys: impl Iterator<Item = Vec<u8>>) {
        self.message(NFT_MSG_NEWSETELEM, 0, format!("the elements of set {set}"));
        self.w.str(NFTA_SET_ELEM_LIST_TABLE, TABLE);
        self.w.str(NFTA_SET_ELEM_LIST_SET, set);
        if let Some(id) = id {
            self.w.be32(NFTA_SET_ELEM_LIST_SET_ID, id);
        }
        self.w.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
        for key in keys {
            self.w.nest(NFTA_LIST_ELEM);
            self.w.nest(NFTA_SET_ELEM_KEY);
            self.w.bytes(NFTA_DATA_VALUE, &key);
            self.w.close();
            self.w.close();
        }
        self.w.close();
        self.w.end();
    }

    fn chain(&mut self, chain: &Chain) {
        self.message(NFT_MSG_NEWCHAIN, 0, format!("chain {}", chain.name));
        self.w.str(NFTA_CHAIN_TABLE, TABLE);
        self.w.str(NFTA_CHAIN_NAME, chain.name);
        if let Some(hook) = chain.hook {
            self.w.str(NFTA_CHAIN_TYPE, "filter");
            self.w.be32(NFTA_CHAIN_POLICY, NF_DROP);
            self.w.nest(NFTA_CHAIN_HOOK);
            let num = match hook {
                Hook::Output => NF_INET_LOCAL_OUT,
                Hook::Input => NF_INET_LOCAL_IN,
            };
            self.w.be32(NFTA_HOOK_HOOKNUM, num);
            self.w.be32(NFTA_HOOK_PRIORITY, 0);
            self.w.close();
        }
        self.w.end();
    }

    fn rule(&mut self, chain: &str, index: usize, rule: &Rule) -> Result<(), String> {
        let what = match &rule.comment {
            Some(c) => format!("rule {index} of chain {chain} (\"{c}\")"),
            None => format!("rule {index} of chain {chain}"),
        };
        let userdata = match &rule.comment {
            Some(c) => Some(comment_udata(c).map_err(|e| format!("{what}: {e}"))?),
            None => None,
        };
        // Anonymous sets go before the rule that looks them up.
        let mut set_ids = Vec::new();
        for m in &rule.matches {
            match m {
                Match::L4Proto(protos) if protos.len() > 1 => {
                    let keys: Vec<u8> = protos.iter().map(|p| p.number()).collect();
                    set_ids.push(self.anonymous_set(TYPE_INET_PROTOCOL, &keys, &what));
                }
                Match::Icmpv6Type(types) => {
                    let keys: Vec<u8> = types.iter().map(|t| t.code()).collect();
                    set_ids.push(self.anonymous_set(TYPE_ICMP6_TYPE, &keys, &what));
                }
                _ => {}
            }
        }
        self.message(NFT_MSG_NEWRULE, NLM_F_APPEND, what);
        self.w.str(NFTA_RULE_TABLE, TABLE);
        self.w.str(NFTA_RULE_CHAIN, chain);
        self.w.nest(NFTA_RULE_EXPRESSIONS);
        let mut family = None;
        let mut set_ids = set_ids.into_iter();
        for m in &rule.matches {
            self.matcher(m, &mut family, &mut set_ids);
        }
        if rule.counter {
            self.expr("counter", |w| {
                w.be64(1, 0); // NFTA_COUNTER_BYTES
                w.be64(2, 0); // NFTA_COUNTER_PACKETS
            });
        }
        match rule.action {
            Action::Accept => self.verdict(NF_ACCEPT, None),
            Action::Drop => self.verdict(NF_DROP, None),
            Action::Goto(target) => self.verdict(NFT_GOTO, Some(target)),
            Action::RejectTcpReset => self.expr("reject", |w| {
                w.be32(1, NFT_REJECT_TCP_RST); // NFTA_REJECT_TYPE
                w.bytes(2, &[0]); // NFTA_REJECT_ICMP_CODE
            }),
        }
        self.w.close();
        if let Some(udata) = userdata {
            self.w.bytes(NFTA_RULE_USERDATA, &udata);
        }
        self.w.end();
        Ok(())
    }

    /// The expressions of one match. `family` is the `meta nfproto` this
    /// rule has already required (nft requires it once per rule).
    fn matcher(
        &mut self,
        m: &Match,
        family: &mut Option<u8>,
        set_ids: &mut impl Iterator<Item = u32>,
    ) {
        match m {
            Match::Loopback { output } => {
                self.meta(if *output { NFT_META_OIF } else { NFT_META_IIF });
                self.cmp(NFT_CMP_EQ, &LOOPBACK_IFINDEX.to_ne_bytes());
            }
            Match::EstablishedOrRelated => {
                self.expr("ct", |w| {
                    w.be32(1, NFT_REG_1); // NFTA_CT_DREG
                    w.be32(2, NFT_CT_STATE); // NFTA_CT_KEY
                });
                self.bitwise(&CT_ESTABLISHED_RELATED.to_ne_bytes());
                self.cmp(NFT_CMP_NEQ, &0u32.to_ne_bytes());
            }
            Match::Icmpv6Type(_) => {
                self.nfproto(NFPROTO_IPV6, family);
                self.meta(NFT_META_L4PROTO);
                self.cmp(NFT_CMP_EQ, &[super::nft::L4Proto::Icmpv6.number()]);
                self.payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
                self.lookup(ANONYMOUS_SET, set_ids.next());
            }
            Match::DaddrInSet { v4, set } => {
                let (proto, offset, len) = daddr(*v4);
                self.nfproto(proto, family);
                self.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len);
                let id = self.named.iter().find(|(n, _)| n == set).map(|(_, id)| *id);
                self.lookup(set, id);
            }
            Match::Daddr { net, negated } => {
                let (proto, offset, full) = daddr(net.addr().is_ipv4());
                self.nfproto(proto, family);
                let op = if *negated { NFT_CMP_NEQ } else { NFT_CMP_EQ };
                let (network, mask) = (address_bytes(net.network()), address_bytes(net.netmask()));
                let prefix = u32::from(net.prefix_len());
                if prefix > 0 && prefix % 8 == 0 {
                    // Whole bytes: compare only those.
                    let bytes = prefix / 8;
                    self.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, bytes);
                    self.cmp(op, &network[..bytes as usize]);
                } else {
                    self.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, full);
                    self.bitwise(&mask);
                    self.cmp(op, &network);
                }
            }
            Match::L4Proto(protos) => {
                self.meta(NFT_META_L4PROTO);
                match protos.as_slice() {
                    [one] => self.cmp(NFT_CMP_EQ, &[one.number()]),
                    _ => self.lookup(ANONYMOUS_SET, set_ids.next()),
                }
            }
            Match::Dport(lo, hi) => {
                self.payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
                if lo == hi {
                    self.cmp(NFT_CMP_EQ, &lo.to_be_bytes());
                } else {
                    self.cmp(NFT_CMP_GTE, &lo.to_be_bytes());
                    self.cmp(NFT_CMP_LTE, &hi.to_be_bytes());
                }
            }
        }
    }

    /// One expression: its name and data (`data` writes the attributes).
    fn expr(&mut self, name: &str, data: impl FnOnce(&mut Writer)) {
        self.w.nest(NFTA_LIST_ELEM);
        self.w.str(NFTA_EXPR_NAME, name);
        self.w.nest(NFTA_EXPR_DATA);
        data(&mut self.w);
        self.w.close();
        self.w.close();
    }

    fn meta(&mut self, key: u32) {
        self.expr("meta", |w| {
            w.be32(2, key); // NFTA_META_KEY
            w.be32(1, NFT_REG_1); // NFTA_META_DREG
        });
    }

    /// Require the packet's family, unless the rule already did.
    fn nfproto(&mut self, proto: u8, family: &mut Option<u8>) {
        if *family != Some(proto) {
            self.meta(NFT_META_NFPROTO);
            self.cmp(NFT_CMP_EQ, &[proto]);
            *family = Some(proto);
        }
    }

    fn cmp(&mut self, op: u32, data: &[u8]) {
        self.expr("cmp", |w| {
            w.be32(1, NFT_REG_1); // NFTA_CMP_SREG
            w.be32(2, op); // NFTA_CMP_OP
            w.nest(3); // NFTA_CMP_DATA
            w.bytes(NFTA_DATA_VALUE, data);
            w.close();
        });
    }

    fn payload(&mut self, base: u32, offset: u32, len: u32) {
        self.expr("payload", |w| {
            w.be32(1, NFT_REG_1); // NFTA_PAYLOAD_DREG
            w.be32(2, base); // NFTA_PAYLOAD_BASE
            w.be32(3, offset); // NFTA_PAYLOAD_OFFSET
            w.be32(4, len); // NFTA_PAYLOAD_LEN
        });
    }

    /// `reg = reg & mask` (xor 0) over the mask's length.
    fn bitwise(&mut self, mask: &[u8]) {
        let len = u32::try_from(mask.len()).unwrap_or(0);
        self.expr("bitwise", |w| {
            w.be32(1, NFT_REG_1); // NFTA_BITWISE_SREG
            w.be32(2, NFT_REG_1); // NFTA_BITWISE_DREG
            w.be32(3, len); // NFTA_BITWISE_LEN
            w.nest(4); // NFTA_BITWISE_MASK
            w.bytes(NFTA_DATA_VALUE, mask);
            w.close();
            w.nest(5); // NFTA_BITWISE_XOR
            w.bytes(NFTA_DATA_VALUE, &vec![0; mask.len()]);
            w.close();
        });
    }

    fn lookup(&mut self, set: &str, id: Option<u32>) {
        self.expr("lookup", |w| {
            w.be32(2, NFT_REG_1); // NFTA_LOOKUP_SREG
            w.str(1, set); // NFTA_LOOKUP_SET
            if let Some(id) = id {
                w.be32(4, id); // NFTA_LOOKUP_SET_ID
            }
        });
    }

    fn verdict(&mut self, code: u32, chain: Option<&str>) {
        self.expr("immediate", |w| {
            w.be32(1, NFT_REG_VERDICT); // NFTA_IMMEDIATE_DREG
            w.nest(2); // NFTA_IMMEDIATE_DATA
            w.nest(NFTA_DATA_VERDICT);
            w.be32(NFTA_VERDICT_CODE, code);
            if let Some(chain) = chain {
                w.str(NFTA_VERDICT_CHAIN, chain);
            }
            w.close();
            w.close();
        });
    }

    /// End the batch, send it, and wait for the kernel's answer: every
    /// error it reports, then the table (asked for after the batch, so that
    /// its answer comes after every error).
    fn send(mut self, socket: &OwnedFd) -> Result<(), String> {
        self.control(NFNL_MSG_BATCH_END, "the batch's end");
        let confirm = self.seq + 1;
        let batch = std::mem::take(&mut self.w).into_bytes();
        let mut ask = Writer::default();
        ask.begin(
            nft_type(NFT_MSG_GETTABLE),
            NLM_F_REQUEST | NLM_F_ACK,
            confirm,
            NFPROTO_INET,
            0,
        );
        ask.str(NFTA_TABLE_NAME, TABLE);
        ask.end();
        let fd = socket.as_raw_fd();
        set_buffers(socket, batch.len());
        send_all(fd, &batch).map_err(|e| {
            if e.raw_os_error() == Some(libc::EMSGSIZE) {
                format!(
                    "the packet rules take {} bytes of netlink messages, more than the \
                     kernel takes in one batch here; use fewer rules or networks",
                    batch.len()
                )
            } else {
                format!("sending the packet rules to nf_tables: {e}")
            }
        })?;
        send_all(fd, &ask.into_bytes())
            .map_err(|e| format!("asking nf_tables for the table: {e}"))?;
        let mut refused: Option<String> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: receiving into a buffer of the given length.
            let got = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            let Ok(got) = usize::try_from(got) else {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("reading nf_tables' answer: {e}"));
            };
            if got == 0 {
                return Err("nf_tables closed the socket without answering".into());
            }
            for m in messages(&buf[..got]) {
                if m.kind != NLMSG_ERROR {
                    continue;
                }
                let code = m.error_code();
                if m.seq == confirm {
                    return match (refused, code) {
                        (Some(e), _) => Err(e),
                        (None, 0) => Ok(()),
                        (None, code) => Err(format!(
                            "nf_tables has no table {TABLE} after the batch: {}",
                            std::io::Error::from_raw_os_error(-code)
                        )),
                    };
                }
                if code != 0 && refused.is_none() {
                    let what = self
                        .what
                        .iter()
                        .find(|(seq, _)| *seq == m.seq)
                        .map(|(_, what)| what.as_str())
                        .unwrap_or("the batch");
                    refused = Some(format!(
                        "nf_tables refused {what}: {}",
                        std::io::Error::from_raw_os_error(-code)
                    ));
                }
            }
        }
    }
}

/// The payload offset and length of the destination address, and the
/// family that must be required first.
fn daddr(v4: bool) -> (u8, u32, u32) {
    if v4 {
        (NFPROTO_IPV4, 16, 4)
    } else {
        (NFPROTO_IPV6, 24, 16)
    }
}

fn address_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A rule's user data holding `comment` (one TLV, NUL-terminated).
fn comment_udata(comment: &str) -> Result<Vec<u8>, String> {
    if comment.len() + 1 > COMMENT_MAX || comment.contains('\0') {
        return Err(format!(
            "the comment {comment:?} is longer than nf_tables keeps ({} bytes) or holds a NUL",
            COMMENT_MAX - 1
        ));
    }
    let len = u8::try_from(comment.len() + 1).map_err(|e| e.to_string())?;
    let mut out = vec![NFTNL_UDATA_RULE_COMMENT, len];
    out.extend_from_slice(comment.as_bytes());
    out.push(0);
    Ok(out)
}

/// Room for the batch in the socket's send buffer (the kernel takes a batch
/// in one message, up to the buffer's size), and a time limit on waiting
/// for the answer (the kernel answers at once; never wait forever). A
/// failure leaves the defaults: too small a buffer shows as EMSGSIZE.
fn set_buffers(socket: &OwnedFd, len: usize) {
    use nix::sys::socket::{setsockopt, sockopt};
    if len > 64 * 1024 {
        let _ = setsockopt(socket, sockopt::SndBuf, &len);
    }
    let limit = nix::sys::time::TimeVal::new(10, 0);
    let _ = setsockopt(socket, sockopt::ReceiveTimeout, &limit);
}

/// Send one netlink message buffer (the kernel takes it whole or not at all).
fn send_all(fd: libc::c_int, buf: &[u8]) -> std::io::Result<()> {
    // SAFETY: sending a buffer of the given length on our socket (the kernel
    // is a netlink socket's default destination).
    let sent = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), 0) };
    match usize::try_from(sent) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => Err(std::io::Error::other("the kernel took part of the batch")),
        Err(_) => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::nft;
    use cordon_policy::netrules::{NetMatch, NetRule, NetRules, Peers, PortMatch, Proto, Verdict};
    use std::os::fd::FromRawFd;
    use std::process::Command;

    /// A named network namespace of this test, removed when dropped.
    struct Netns(String);

    impl Netns {
        fn new(tag: &str) -> Netns {
            let name = format!("cordon-nft-{}-{tag}", std::process::id());
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
            let ok = Command::new("ip").args(["netns", "add", &name]).status();
            assert!(ok.unwrap().success(), "ip netns add {name}");
            Netns(name)
        }

        /// A netfilter socket of the namespace (made by a thread that
        /// joined it: a network namespace belongs to a thread).
        fn socket(&self) -> OwnedFd {
            let path = format!("/run/netns/{}", self.0);
            std::thread::spawn(move || {
                let ns = std::fs::File::open(&path).unwrap();
                // SAFETY: setns(2) of this thread into a namespace file.
                let joined = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(joined, 0);
                let fd = super::super::nfnl::socket().unwrap();
                // SAFETY: the descriptor was just made and is ours.
                unsafe { OwnedFd::from_raw_fd(fd) }
            })
            .join()
            .unwrap()
        }

        fn nft(&self, args: &[&str], stdin: Option<&str>) -> String {
            use std::io::Write;
            let mut child = Command::new("ip")
                .args(["netns", "exec", &self.0, "nft"])
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("nft (Debian package nftables) for this test");
            let mut input = child.stdin.take().unwrap();
            input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
            drop(input);
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "nft {args:?} in {}: {}\n{}",
                self.0,
                String::from_utf8_lossy(&out.stderr),
                stdin.unwrap_or("")
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        fn listing(&self) -> String {
            self.nft(&["list", "table", "inet", TABLE], None)
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }

    fn rule(name: &str, verdict: Verdict, peers: Peers, ports: Vec<PortMatch>) -> NetRule {
        NetRule {
            name: name.into(),
            verdict,
            peers,
            ports,
        }
    }

    fn nets(list: &[(&str, &[&str])]) -> Peers {
        Peers::Nets(
            list.iter()
                .map(|(net, except)| {
                    NetMatch::new(
                        net.parse().unwrap(),
                        except.iter().map(|e| e.parse().unwrap()).collect(),
                    )
                })
                .collect(),
        )
    }

    fn port(proto: Proto, ports: Option<(u16, u16)>) -> PortMatch {
        PortMatch { proto, ports }
    }

    /// Rule sets with every shape `nft::table` makes.
    fn cases() -> Vec<(NetRules, Vec<IpAddr>)> {
        let many = NetRules {
            default: Verdict::Deny,
            rules: vec![
                rule(
                    "network.egress.allow[0]",
                    Verdict::Allow,
                    nets(&[
                        ("10.0.0.0/8", &["10.9.0.0/16", "10.10.128.0/17"]),
                        ("2001:db8::/64", &[]),
                    ]),
                    vec![
                        port(Proto::Tcp, Some((80, 90))),
                        port(Proto::Udp, Some((53, 53))),
                        port(Proto::Any, Some((443, 443))),
                        port(Proto::Icmp, None),
                    ],
                ),
                rule(
                    "network.egress.allow[1]",
                    Verdict::Allow,
                    nets(&[
                        ("0.0.0.0/0", &[]),
                        ("::/0", &["fe80::/10"]),
                        ("192.0.2.7/32", &[]),
                        ("10.128.0.0/9", &[]),
                        ("2001:db8::1/128", &[]),
                    ]),
                    vec![],
                ),
                rule(
                    "network.egress.allow[2]",
                    Verdict::Allow,
                    Peers::Any,
                    vec![port(Proto::Icmp, None), port(Proto::Any, Some((1, 65535)))],
                ),
                rule(
                    "network.egress.deny[0]",
                    Verdict::Deny,
                    nets(&[("fd00::/8", &["fd00:1::/32", "fd00:2::/32"])]),
                    vec![port(Proto::Tcp, None), port(Proto::Any, None)],
                ),
                rule(
                    "network.egress.allow[3]",
                    Verdict::Allow,
                    Peers::Hosts(vec![cordon_policy::netrules::HostPattern::new(
                        "example.com",
                    )]),
                    vec![],
                ),
            ],
        };
        let open = NetRules {
            default: Verdict::Allow,
            rules: vec![rule(
                "network.blockedHosts[0]",
                Verdict::Deny,
                nets(&[("203.0.113.0/24", &[])]),
                vec![],
            )],
        };
        let hosts: Vec<IpAddr> = vec![
            "192.0.2.2".parse().unwrap(),
            "198.51.100.1".parse().unwrap(),
            "2001:db8:9::2".parse().unwrap(),
        ];
        vec![(many, hosts), (open, Vec::new())]
    }

    #[test]
    #[ignore = "needs root"]
    fn the_kernel_holds_the_table_nft_would_install() {
        for (i, (rules, hosts)) in cases().into_iter().enumerate() {
            let table = nft::table(&rules, &hosts);
            let ours = Netns::new(&format!("{i}-ours"));
            install(&ours.socket(), &table).unwrap();
            let theirs = Netns::new(&format!("{i}-nft"));
            theirs.nft(&["-f", "-"], Some(&table.script()));
            let (a, b) = (ours.listing(), theirs.listing());
            assert_eq!(a, b, "case {i}: netlink vs nft -f of\n{}", table.script());
            // The control: the listing shows the rules (a broken listing
            // would compare equal too).
            assert!(a.contains("comment \"default\""), "{a}");
            assert!(a.contains("policy drop"), "{a}");
        }
    }

    #[test]
    #[ignore = "needs root"]
    fn added_host_addresses_land_in_their_sets() {
        let (rules, _) = cases().remove(1);
        let ours = Netns::new("add-ours");
        install(&ours.socket(), &nft::table(&rules, &[])).unwrap();
        let fresh: Vec<IpAddr> = vec!["10.1.2.3".parse().unwrap(), "fd00::9".parse().unwrap()];
        add_elements(&ours.socket(), &nft::host_address_sets(&fresh)).unwrap();
        let theirs = Netns::new("add-nft");
        theirs.nft(&["-f", "-"], Some(&nft::table(&rules, &fresh).script()));
        assert_eq!(ours.listing(), theirs.listing());
        assert!(ours.listing().contains("10.1.2.3"));
    }

    #[test]
    #[ignore = "needs root"]
    fn a_refused_batch_names_what_and_installs_nothing() {
        let ns = Netns::new("refused");
        let mut table = nft::table(&cases().remove(1).0, &[]);
        // A goto to a chain that does not exist: the kernel refuses it.
        table.chains[1].rules[0].action = Action::Goto("nowhere");
        let e = install(&ns.socket(), &table).unwrap_err();
        assert!(
            e.contains("nf_tables refused rule 0 of chain egress"),
            "{e}"
        );
        // All or nothing: no table at all.
        let listed = Command::new("ip")
            .args(["netns", "exec", &ns.0, "nft", "list", "tables"])
            .output()
            .unwrap();
        assert!(listed.status.success());
        assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "");
        // The control: the same table without the bad rule goes in.
        install(&ns.socket(), &nft::table(&cases().remove(1).0, &[])).unwrap();
        assert!(ns.listing().contains("comment \"default\""));
    }

    #[test]
    fn a_comment_nft_could_not_keep_is_refused() {
        assert!(comment_udata(&"x".repeat(127)).is_ok());
        assert!(comment_udata(&"x".repeat(128)).is_err());
        assert!(comment_udata("a\0b").is_err());
        assert_eq!(comment_udata("d").unwrap(), vec![0, 2, b'd', 0]);
    }
}
