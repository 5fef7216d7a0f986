//! Config parsing and policy resolution must never panic, whatever the input:
//! every refusal is a `PolicyError` with a code and a message that names what
//! is wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match cordon_policy::parse_config(data) {
        Ok(config) => {
            if let Err(e) = cordon_policy::resolve_one_shot(&config, cordon_policy::Caller::current()) {
                assert!(!e.message.is_empty(), "a refusal without a reason");
            }
        }
        Err(e) => assert!(!e.message.is_empty(), "a refusal without a reason"),
    }
});
