//! A long-lived sandbox's server parses exec requests: it must never panic,
//! and what it accepts is a non-empty argv of C strings.
#![no_main]

use cordon_sandbox::lifecycle::protocol::ExecRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ExecRequest::parse(data) {
        Ok(checked) => assert!(!checked.argv.is_empty()),
        Err(e) => assert!(!e.is_empty(), "a refusal without a reason"),
    }
});
