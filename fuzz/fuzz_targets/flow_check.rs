//! Flow files are edited by people and may be anything: checking must return diagnostics,
//! never panic or hang, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sources = vec![("fuzz.yaml".to_owned(), data.to_vec())];
    let _ = nagare_engine::flow::check_sources(&sources);
});
