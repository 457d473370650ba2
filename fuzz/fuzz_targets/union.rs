//! Fuzz target: the 広域連合 CSV reader (every layout, both encodings) must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagare_steps::formats::kind::{KindOptions, read_to_json};

fuzz_target!(|data: &[u8]| {
    let mut opts = KindOptions::default();
    for enc in [
        nagare_steps::formats::TextEncoding::Utf8,
        nagare_steps::formats::TextEncoding::ShiftJis,
    ] {
        opts.encoding = enc;
        for l in nagare_steps::formats::union::all() {
            let _ = read_to_json(l.kind, data, &opts);
        }
    }
});
