//! Conversion of names to the 全銀 character set (half-width katakana, upper-case ASCII,
//! digits and a few symbols).
//!
//! Steps, in order: NFKC (full-width ASCII → ASCII, half-width kana → full-width so that
//! every input takes one path), lower → upper case, hiragana → katakana, small kana →
//! large (キュウ → ｷﾕｳ), voiced kana split into base + ﾞ/ﾟ (ガ → ｶﾞ, ヴ → ｳﾞ), long vowel and
//! dashes → `-`, then a per-bank whitelist. A character that is still not allowed is an
//! error: never a silent `?`.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Full-width katakana in the order of the half-width block U+FF66..=U+FF9D.
const FULL_ORDER: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

/// Characters the 全銀 rule allows in name fields, before any per-bank extras.
fn base_allowed(ch: char) -> bool {
    matches!(ch,
        '0'..='9' | 'A'..='Z' | ' ' | '(' | ')' | '-' | '.' | '/'
        | '\u{FF66}' // ｦ
        | '\u{FF71}'..='\u{FF9D}' // ｱ..ﾝ
        | '\u{FF9E}' | '\u{FF9F}') // ﾞ ﾟ
}

/// The set of characters a bank accepts in name fields.
///
/// The 全銀 base set is always allowed; banks differ on a few symbols (`,` `¥` `｢` `｣`),
/// so those are configured per bank in `extra` as half-width characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenginCharset {
    /// Additional half-width characters this bank accepts.
    #[serde(default)]
    pub extra: Vec<char>,
}

impl ZenginCharset {
    /// The 全銀 base set only.
    pub fn standard() -> Self {
        Self::default()
    }

    /// True when the (already converted) character may be written.
    pub fn allows(&self, ch: char) -> bool {
        base_allowed(ch) || self.extra.contains(&ch)
    }
}

/// A character that cannot be written in the bank character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("character {ch:?} cannot be written in the 全銀 character set")]
pub struct Unrepresentable {
    /// The offending character (after NFKC).
    pub ch: char,
}

fn small_to_large(ch: char) -> char {
    match ch {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        // Archaic kana that banks register under their modern reading.
        'ヰ' => 'イ',
        'ヱ' => 'エ',
        other => other,
    }
}

fn full_to_half(ch: char) -> Option<char> {
    match ch {
        '\u{3099}' => Some('\u{FF9E}'),
        '\u{309A}' => Some('\u{FF9F}'),
        // Punctuation with half-width forms; only banks that list them accept them.
        '。' => Some('\u{FF61}'),
        '「' => Some('\u{FF62}'),
        '」' => Some('\u{FF63}'),
        '、' => Some('\u{FF64}'),
        _ => FULL_ORDER
            .chars()
            .position(|c| c == ch)
            .and_then(|i| char::from_u32(0xFF66 + i as u32)),
    }
}

/// Converts a name to the 全銀 character set, or names the first character that cannot
/// be represented. Leading and trailing spaces are removed. The conversion is idempotent:
/// converting its own output gives the same string.
pub fn to_zengin(input: &str, charset: &ZenginCharset) -> Result<String, Unrepresentable> {
    let mut out = String::with_capacity(input.len());
    for ch in input.nfkc() {
        let ch = match ch {
            'a'..='z' => ch.to_ascii_uppercase(),
            // Hiragana → katakana: the blocks are parallel, 0x60 apart.
            '\u{3041}'..='\u{3096}' => char::from_u32(u32::from(ch) + 0x60).unwrap_or(ch),
            // Long vowel mark and dash look-alikes.
            'ー' | '−' | '‐' | '‑' | '‒' | '–' | '—' | '―' => '-',
            // Middle dot between the parts of a foreign name: banks register it as '.'.
            '・' => '.',
            _ => ch,
        };
        let ch = small_to_large(ch);
        let mut failed = None;
        unicode_normalization::char::decompose_canonical(ch, |part| {
            let conv = if part.is_ascii() {
                Some(part)
            } else {
                full_to_half(small_to_large(part))
            };
            match conv {
                Some(c) if charset.allows(c) => out.push(c),
                // A half-width extra the bank allows (｢ ｣ ¥ …) that is not kana.
                _ if charset.allows(part) => out.push(part),
                _ => {
                    failed.get_or_insert(ch);
                }
            }
        });
        if let Some(ch) = failed {
            return Err(Unrepresentable { ch });
        }
    }
    Ok(out.trim_matches(' ').to_owned())
}

/// Converts a name and cuts it to at most `max_bytes` bytes (one byte per character in
/// JIS X 0201). Used only for bank and branch names, which banks accept shortened; a
/// person's name that does not fit is an error instead.
pub fn to_zengin_truncated(
    input: &str,
    charset: &ZenginCharset,
    max_bytes: usize,
) -> Result<String, Unrepresentable> {
    let s = to_zengin(input, charset)?;
    Ok(s.chars()
        .take(max_bytes)
        .collect::<String>()
        .trim_end()
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn conv(s: &str) -> Result<String, Unrepresentable> {
        to_zengin(s, &ZenginCharset::standard())
    }

    #[test]
    fn voiced_and_small_kana() {
        assert_eq!(conv("ヤマダ　タロウ").unwrap(), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert_eq!(conv("きゅうしゅう").unwrap(), "ｷﾕｳｼﾕｳ");
        assert_eq!(conv("パソコン").unwrap(), "ﾊﾟｿｺﾝ");
        assert_eq!(conv("ヴァイオリン").unwrap(), "ｳﾞｱｲｵﾘﾝ");
        assert_eq!(conv("ケーキ").unwrap(), "ｹ-ｷ");
        assert_eq!(conv("ｶﾞｯｺｳ").unwrap(), "ｶﾞﾂｺｳ");
        assert_eq!(conv("ヲ").unwrap(), "ｦ");
    }

    #[test]
    fn ascii_and_symbols() {
        assert_eq!(conv("ＡＢＣ商").unwrap_err().ch, '商');
        assert_eq!(conv("ｊｏｈｎ (Smith)").unwrap(), "JOHN (SMITH)");
        assert_eq!(conv("スミス・ジョン").unwrap(), "ｽﾐｽ.ｼﾞﾖﾝ");
        assert_eq!(conv("A,B").unwrap_err().ch, ',');
        let comma = ZenginCharset { extra: vec![','] };
        assert_eq!(to_zengin("A,B", &comma).unwrap(), "A,B");
        let brackets = ZenginCharset {
            extra: vec!['｢', '｣'],
        };
        assert_eq!(to_zengin("「カ」", &brackets).unwrap(), "｢ｶ｣");
        assert_eq!(conv("「カ」").unwrap_err().ch, '「');
        assert_eq!(conv("山田").unwrap_err().ch, '山');
        assert_eq!(conv("ﾔﾏﾀﾞ?").unwrap_err().ch, '?');
    }

    #[test]
    fn truncation_only_for_bank_names() {
        let s = to_zengin_truncated(
            "トウキヨウエイギヨウブシテン",
            &ZenginCharset::standard(),
            15,
        )
        .unwrap();
        assert_eq!(s.chars().count(), 15);
    }

    proptest! {
        #[test]
        fn output_is_in_charset_and_idempotent(s in "[ぁ-ゖァ-ヺーａ-ｚＡ-Ｚ０-９a-zA-Z0-9 　ｦ-ﾟ().\\-/]{0,40}") {
            let cs = ZenginCharset::standard();
            if let Ok(out) = to_zengin(&s, &cs) {
                prop_assert!(out.chars().all(|c| cs.allows(c)), "{out:?}");
                prop_assert_eq!(to_zengin(&out, &cs).unwrap(), out);
            }
        }

        #[test]
        fn every_katakana_converts(s in "[ァ-ヶー]{1,30}") {
            prop_assert!(conv(&s).is_ok());
        }
    }
}
