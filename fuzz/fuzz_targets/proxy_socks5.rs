//! The filtering proxy's SOCKS5 handshake reads bytes the sandbox chose: it
//! must never panic or read past what it was sent, and a destination it
//! returns has a port.
#![no_main]

use std::io::{Read, Write};

use cordon_sandbox::net::proxy::socks5::handshake;
use libfuzzer_sys::fuzz_target;

/// Reads from the input, discards what is written.
struct Stream<'a>(&'a [u8]);

impl Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut stream = Stream(data);
    if let Ok((host, _port)) = handshake(&mut stream) {
        // A name is at most 255 bytes on the wire (invalid UTF-8 is replaced).
        assert!(host.chars().count() <= 255);
    }
});
