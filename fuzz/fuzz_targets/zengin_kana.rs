//! Fuzz target: the 全銀 kana converter never panics, its output is always in the
//! character set, and converting its output again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nagare_steps::formats::zengin::kana::{ZenginCharset, to_zengin};

fuzz_target!(|s: &str| {
    let cs = ZenginCharset::standard();
    if let Ok(out) = to_zengin(s, &cs) {
        assert!(out.chars().all(|c| cs.allows(c)));
        assert_eq!(to_zengin(&out, &cs).as_deref(), Ok(out.as_str()));
    }
});
