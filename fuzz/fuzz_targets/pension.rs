//! Fuzz target: the 年金特別徴収 reader (every kind) must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagare_steps::formats::kind::{KindOptions, read_to_json};

fuzz_target!(|data: &[u8]| {
    for k in nagare_steps::formats::pension::layout::KINDS {
        let _ = read_to_json(k.kind, data, &KindOptions::default());
    }
});
