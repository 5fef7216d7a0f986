//! The filtering proxy's HTTP head reader gets bytes the sandbox chose: it
//! must never panic, must answer what it refuses with a 4xx status, must
//! say where a complete head ends inside what it was given, and the head it
//! sends upstream must name the judged host and close the connection.
#![no_main]

use cordon_sandbox::net::proxy::http::{parse, Target, HEAD_LIMIT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(None) => assert!(data.len() <= HEAD_LIMIT, "an endless head is refused"),
        Ok(Some((target, end))) => {
            assert!(end <= data.len() && end <= HEAD_LIMIT);
            match target {
                Target::Connect { host, port } => assert!(!host.is_empty() && port != 0),
                Target::Plain { host, port, head } => {
                    assert!(!host.is_empty() && port != 0);
                    assert!(head.ends_with(b"Connection: close\r\n\r\n"));
                    let host_lines = head
                        .split(|b| *b == b'\n')
                        .filter(|l| l.len() >= 5 && l[..5].eq_ignore_ascii_case(b"host:"))
                        .count();
                    assert_eq!(host_lines, 1, "exactly the judged Host header");
                }
            }
        }
        Err(refused) => assert!((400..500).contains(&refused.status)),
    }
});
