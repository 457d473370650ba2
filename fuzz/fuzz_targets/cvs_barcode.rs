//! Fuzz target: the barcode list reader must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagare_steps::formats::kind::{KindOptions, read_to_json};

fuzz_target!(|data: &[u8]| {
    let _ = read_to_json("cvs-barcode", data, &KindOptions::default());
});
