//! Fuzz target: the payment result reader (UTF-8 and Shift_JIS) must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagare_steps::formats::kind::{KindOptions, read_to_json};

fuzz_target!(|data: &[u8]| {
    let mut opts = KindOptions::default();
    let _ = read_to_json("cvs-result", data, &opts);
    opts.encoding = nagare_steps::formats::TextEncoding::ShiftJis;
    let _ = read_to_json("cvs-result", data, &opts);
});
