//! The SOCKS5 side of the filtering proxy (RFC 1928, no authentication,
//! CONNECT only): the greeting and the request, read from any byte stream
//! the sandbox controls. Fuzzed by `fuzz/fuzz_targets/proxy_socks5.rs`.

use std::io::{Read, Write};
use std::net::IpAddr;

/// Reply codes this proxy sends.
pub mod reply {
    pub const SUCCEEDED: u8 = 0;
    pub const NOT_ALLOWED: u8 = 2;
    pub const REFUSED: u8 = 5;
    pub const COMMAND_NOT_SUPPORTED: u8 = 7;
    pub const ADDRESS_NOT_SUPPORTED: u8 = 8;
}

/// Why a handshake ended without a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// The stream ended or failed; nothing more to say.
    Closed,
    /// The client offers no method we take (answered with 0xff).
    NoAcceptableMethod,
    /// Answered with this reply code.
    Answered(u8),
}

/// Send a reply with code `code` and an all-zero IPv4 bound address.
pub fn send_reply(stream: &mut impl Write, code: u8) {
    let _ = stream.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

fn read<const N: usize>(stream: &mut impl Read) -> Result<[u8; N], Failed> {
    let mut buf = [0u8; N];
    stream.read_exact(&mut buf).map_err(|_| Failed::Closed)?;
    Ok(buf)
}

fn read_vec(stream: &mut impl Read, len: u8) -> Result<Vec<u8>, Failed> {
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).map_err(|_| Failed::Closed)?;
    Ok(buf)
}

/// After the version byte (5, already read): the greeting, our method
/// choice, and the request. Returns the destination host (an address in
/// text, or a name) and port.
pub fn handshake<S: Read + Write>(stream: &mut S) -> Result<(String, u16), Failed> {
    // Greeting: NMETHODS METHODS...
    let [n] = read::<1>(stream)?;
    let methods = read_vec(stream, n)?;
    if !methods.contains(&0) {
        let _ = stream.write_all(&[5, 0xff]);
        return Err(Failed::NoAcceptableMethod);
    }
    stream.write_all(&[5, 0]).map_err(|_| Failed::Closed)?;
    // Request: VER CMD RSV ATYP DST.ADDR DST.PORT
    let head = read::<4>(stream)?;
    if head[1] != 1 {
        send_reply(stream, reply::COMMAND_NOT_SUPPORTED);
        return Err(Failed::Answered(reply::COMMAND_NOT_SUPPORTED));
    }
    let host = match head[3] {
        1 => IpAddr::from(read::<4>(stream)?).to_string(),
        4 => IpAddr::from(read::<16>(stream)?).to_string(),
        3 => {
            let [len] = read::<1>(stream)?;
            String::from_utf8_lossy(&read_vec(stream, len)?).into_owned()
        }
        _ => {
            send_reply(stream, reply::ADDRESS_NOT_SUPPORTED);
            return Err(Failed::Answered(reply::ADDRESS_NOT_SUPPORTED));
        }
    };
    let port = u16::from_be_bytes(read::<2>(stream)?);
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads from a script, collects what is written.
    struct Script<'a> {
        input: &'a [u8],
        output: Vec<u8>,
    }

    impl Read for Script<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(input: &[u8]) -> (Result<(String, u16), Failed>, Vec<u8>) {
        let mut s = Script {
            input,
            output: Vec::new(),
        };
        (handshake(&mut s), s.output)
    }

    #[test]
    fn a_connect_by_name_and_by_address() {
        let (r, out) = run(b"\x01\x00\x05\x01\x00\x03\x06a.test\x01\xbb");
        assert_eq!(r, Ok(("a.test".into(), 443)));
        assert_eq!(out, [5, 0]);
        let (r, _) = run(b"\x01\x00\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x50");
        assert_eq!(r, Ok(("10.0.0.1".into(), 80)));
    }

    #[test]
    fn refusals_are_answered() {
        assert_eq!(run(b"\x01\x02").0, Err(Failed::NoAcceptableMethod));
        assert_eq!(
            run(b"\x01\x00\x05\x02\x00\x01").0,
            Err(Failed::Answered(reply::COMMAND_NOT_SUPPORTED))
        );
        assert_eq!(
            run(b"\x01\x00\x05\x01\x00\x09").0,
            Err(Failed::Answered(reply::ADDRESS_NOT_SUPPORTED))
        );
        assert_eq!(run(b"\x05\x00").0, Err(Failed::Closed), "short greeting");
    }
}
