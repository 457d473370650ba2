//! Strict character encodings: JIS X 0201 for fixed-width bank and pension fields,
//! Shift_JIS / UTF-8 for CSV files, JIS X 0208 (ISO-2022-JP double-byte) for the pension
//! kanji fields.
//!
//! Nothing here ever substitutes a character: `encoding_rs`'s convenience `encode` would
//! turn an unmappable character into `&#NNNN;` and `decode` would turn bad bytes into
//! U+FFFD, so only the `*_without_replacement` entry points are used and every failure is
//! reported with its position.

use encoding_rs::{DecoderResult, EncoderResult, Encoding};

/// Text encoding of a CSV file, chosen per exchange partner.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8 without BOM (a BOM is accepted and skipped on input).
    #[default]
    Utf8,
    /// WHATWG Shift_JIS (Windows-31J / CP932, including the NEC and IBM extensions).
    ShiftJis,
}

impl TextEncoding {
    /// Display name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::ShiftJis => "Shift_JIS",
        }
    }

    /// Parses `utf-8`/`utf8` or `shift_jis`/`sjis`/`cp932`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "utf_8" | "utf8" => Some(Self::Utf8),
            "shift_jis" | "sjis" | "cp932" | "windows_31j" => Some(Self::ShiftJis),
            _ => None,
        }
    }

    fn encoding(self) -> &'static Encoding {
        match self {
            Self::Utf8 => encoding_rs::UTF_8,
            Self::ShiftJis => encoding_rs::SHIFT_JIS,
        }
    }

    /// Decodes the whole input; on malformed input returns the 0-based byte offset of the
    /// first bad sequence.
    pub fn decode(self, bytes: &[u8]) -> Result<String, usize> {
        let bytes = match self {
            Self::Utf8 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
            Self::ShiftJis => bytes,
        };
        decode_strict(self.encoding(), bytes)
    }

    /// Encodes the text; on an unmappable character returns it.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, char> {
        match self {
            Self::Utf8 => Ok(text.as_bytes().to_vec()),
            Self::ShiftJis => {
                let mapped: String = text.chars().map(jis_to_cp932).collect();
                encode_strict(self.encoding(), &mapped)
            }
        }
    }
}

/// Maps the characters where JIS X 0208 and CP932 decoders disagree to the code points
/// the WHATWG Shift_JIS encoder knows. They are the *same* JIS code points (e.g. 0x8160
/// 〜), produced by systems that follow the JIS mapping, so this is not a substitution:
/// without it an address such as "1〜3" typed on such a system could not be written.
fn jis_to_cp932(ch: char) -> char {
    match ch {
        '\u{301C}' => '\u{FF5E}', // WAVE DASH → FULLWIDTH TILDE
        '\u{2016}' => '\u{2225}', // DOUBLE VERTICAL LINE → PARALLEL TO
        '\u{00A2}' => '\u{FFE0}', // CENT SIGN
        '\u{00A3}' => '\u{FFE1}', // POUND SIGN
        '\u{00AC}' => '\u{FFE2}', // NOT SIGN
        '\u{2014}' => '\u{2015}', // EM DASH → HORIZONTAL BAR
        other => other,
    }
}

fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, usize> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3),
    );
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        // The decoder reports the malformed sequence as ending `consumed_after` bytes
        // before `read`; step back to its first byte.
        DecoderResult::Malformed(bad, after) => {
            Err(read.saturating_sub(usize::from(bad) + usize::from(after)))
        }
        // Cannot happen with a buffer sized by max_utf8_buffer_length; report the spot
        // rather than panic.
        DecoderResult::OutputFull => Err(read),
    }
}

fn encode_strict(encoding: &'static Encoding, text: &str) -> Result<Vec<u8>, char> {
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(
        encoder
            .max_buffer_length_from_utf8_without_replacement(text.len())
            .unwrap_or(text.len() * 2 + 16),
    );
    let (result, _read) = encoder.encode_from_utf8_to_vec_without_replacement(text, &mut out, true);
    match result {
        EncoderResult::InputEmpty => Ok(out),
        EncoderResult::Unmappable(ch) => Err(ch),
        // Unreachable with the capacity above; treat it as the first character failing.
        EncoderResult::OutputFull => Err(text.chars().next().unwrap_or('\u{FFFD}')),
    }
}

/// Decodes one JIS X 0201 byte (8-bit, as 全銀 コード区分 0 and the pension files use).
///
/// 0x5C is YEN SIGN and 0x7E is OVERLINE in JIS X 0201 Roman, unlike ASCII; control
/// bytes and 0x80–0xA0 / 0xE0–0xFF (Shift_JIS lead bytes) are not characters here.
pub fn jis_x0201_decode(byte: u8) -> Option<char> {
    match byte {
        0x5C => Some('¥'),
        0x7E => Some('‾'),
        0x20..=0x7E => Some(char::from(byte)),
        0xA1..=0xDF => char::from_u32(u32::from(byte) - 0xA1 + 0xFF61),
        _ => None,
    }
}

/// Encodes one character as a JIS X 0201 byte, if it has one.
pub fn jis_x0201_encode(ch: char) -> Option<u8> {
    match ch {
        '¥' => Some(0x5C),
        '‾' => Some(0x7E),
        '\\' | '~' => None,
        ' '..='}' => u8::try_from(u32::from(ch)).ok(),
        '\u{FF61}'..='\u{FF9F}' => u8::try_from(u32::from(ch) - 0xFF61 + 0xA1).ok(),
        _ => None,
    }
}

/// Double-byte JIS X 0208 space, used to pad the pension kanji fields.
pub const JIS_X0208_SPACE: [u8; 2] = [0x21, 0x21];

/// Encodes text as bare JIS X 0208 row/cell pairs (the bytes between `ESC $ B` and
/// `ESC ( B` in ISO-2022-JP). ASCII is widened to its full-width form first, because the
/// field holds double-byte characters only.
pub fn jis_x0208_encode(text: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        let wide = match ch {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(u32::from(ch) - 0x21 + 0xFF01).unwrap_or(ch),
            other => other,
        };
        let bytes =
            encode_strict(encoding_rs::ISO_2022_JP, wide.encode_utf8(&mut buf)).map_err(|_| ch)?;
        // A character in JIS X 0208 comes out as ESC $ B, two bytes, ESC ( B; anything
        // else (half-width katakana mode, JIS X 0212 …) is not allowed in the field.
        match bytes.as_slice() {
            [0x1B, b'$', b'B', a, b, 0x1B, b'(', b'B'] => out.extend_from_slice(&[*a, *b]),
            _ => return Err(ch),
        }
    }
    Ok(out)
}

/// Decodes bare JIS X 0208 pairs. Returns the 0-based offset of the first bad pair.
pub fn jis_x0208_decode(bytes: &[u8]) -> Result<String, usize> {
    if let Some(pos) = bytes.iter().position(|b| !(0x21..=0x7E).contains(b)) {
        return Err(pos);
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(bytes.len() - 1);
    }
    let mut wrapped = Vec::with_capacity(bytes.len() + 6);
    wrapped.extend_from_slice(b"\x1B$B");
    wrapped.extend_from_slice(bytes);
    wrapped.extend_from_slice(b"\x1B(B");
    decode_strict(encoding_rs::ISO_2022_JP, &wrapped).map_err(|p| p.saturating_sub(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_jis_rejects_unmappable_instead_of_numeric_reference() {
        assert_eq!(
            TextEncoding::ShiftJis.encode("髙橋"),
            Ok(vec![0xFB, 0xFC, 0x8B, 0xB4])
        );
        assert_eq!(TextEncoding::ShiftJis.encode("a😀"), Err('😀'));
    }

    #[test]
    fn shift_jis_decode_reports_offset_of_bad_byte() {
        assert_eq!(
            TextEncoding::ShiftJis.decode(b"ab\x82\xA0c"),
            Ok("abあc".into())
        );
        // 0x82 followed by 0x20 is not a valid pair.
        assert_eq!(TextEncoding::ShiftJis.decode(b"abc\x82 d"), Err(3));
        assert_eq!(TextEncoding::Utf8.decode(b"ok\xFFno"), Err(2));
    }

    #[test]
    fn wave_dash_and_minus_round_trip_as_cp932() {
        // CP932 maps 0x8160 to U+FF5E FULLWIDTH TILDE and 0x817C to U+FF0D; the JIS
        // mapping's WAVE DASH U+301C and MINUS SIGN U+2212 still encode (to the same
        // bytes) and decode as the CP932 characters.
        let bytes = TextEncoding::ShiftJis.encode("〜−").unwrap();
        assert_eq!(bytes, vec![0x81, 0x60, 0x81, 0x7C]);
        assert_eq!(TextEncoding::ShiftJis.decode(&bytes).unwrap(), "～－");
        // NEC special character ① and IBM extension 髙 round-trip.
        let s = "①髙";
        let b = TextEncoding::ShiftJis.encode(s).unwrap();
        assert_eq!(TextEncoding::ShiftJis.decode(&b).unwrap(), s);
    }

    #[test]
    fn jis_x0201_covers_only_its_characters() {
        assert_eq!(jis_x0201_decode(0xB1), Some('ｱ'));
        assert_eq!(jis_x0201_decode(0x5C), Some('¥'));
        assert_eq!(jis_x0201_decode(0x82), None);
        assert_eq!(jis_x0201_decode(0x0A), None);
        for b in (0x20..=0x7Eu8).chain(0xA1..=0xDF) {
            let ch = jis_x0201_decode(b).unwrap();
            assert_eq!(jis_x0201_encode(ch), Some(b), "byte {b:#x}");
        }
        assert_eq!(jis_x0201_encode('ア'), None);
    }

    #[test]
    fn jis_x0208_round_trip_and_rejects() {
        let b = jis_x0208_encode("山田 太郎1").unwrap();
        assert_eq!(b.len(), 12);
        assert_eq!(&b[4..6], &JIS_X0208_SPACE);
        assert_eq!(jis_x0208_decode(&b).unwrap(), "山田　太郎１");
        // The WHATWG index behind ISO-2022-JP includes the NEC/IBM rows, as CP932 does.
        assert_eq!(jis_x0208_encode("髙"), Ok(vec![0x7C, 0x62]));
        assert_eq!(jis_x0208_encode("a😀"), Err('😀'));
        assert_eq!(jis_x0208_decode(&[0x30, 0x21, 0x80, 0x21]), Err(2));
        assert!(jis_x0208_decode(&[0x30]).is_err());
    }
}
