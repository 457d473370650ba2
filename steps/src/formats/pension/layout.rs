//! The ONE table of the 年金特別徴収 500-byte layout.
//!
//! The header and trailer follow the public MHLW text (the trailer is official; the
//! header matches it and a vendor's published code). The data record is **ours**: the
//! field order is a vendor's published source, the lengths of the kanji fields (50 + 110
//! bytes, which make the record 500) and the shift codes (`ESC $ B` / `ESC ( B`, with
//! JIS X 0208 between them) are our choice until the 媒体作成仕様書 is obtained from the
//! 国保中央会/国保連. To adopt the official layout, replace [`DATA`] (and, if needed, the
//! kinds in [`KINDS`]) here; the reader, writer, JSON form and CLI follow the table.
//! docs/formats/pension.md documents every field.

use crate::formats::fixed::{Field, FieldKind};

/// Record length.
pub const RECORD_LEN: usize = 500;

/// Shift-in to JIS X 0208 (`ESC $ B`).
pub const KI: &[u8] = b"\x1B$B";
/// Shift-out back to single-byte (`ESC ( B`).
pub const KO: &[u8] = b"\x1B(B";

/// How a field's value appears in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Not a value: constant bytes or filler.
    Fixed,
    /// Digits kept as a string (codes, numbers with leading zeros).
    Code,
    /// `YYYYMMDD` (西暦); all spaces or all zeros mean "none".
    Date,
    /// Yen, zero-filled.
    Amount,
    /// Half-width (JIS X 0201) text.
    Text,
    /// Double-byte JIS X 0208 text.
    Kanji,
}

/// A field of the data record with its value type and whether it must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PensionField {
    /// Byte layout.
    pub field: Field,
    /// Value type.
    pub value: Value,
    /// Whether a blank is an error.
    pub required: bool,
}

impl PensionField {
    const fn new(field: Field, value: Value, required: bool) -> Self {
        Self {
            field,
            value,
            required,
        }
    }
}

/// Header record (レコード区分 1).
pub const HEADER: &[Field] = &[
    Field::new(
        "record_kind",
        "レコード区分",
        1,
        1,
        FieldKind::Constant(b"1"),
    ),
    Field::new("municipality_code", "市町村コード", 2, 5, FieldKind::Digits),
    Field::new(
        "payer_code",
        "特別徴収義務者コード",
        7,
        3,
        FieldKind::Digits,
    ),
    Field::new("notice_code", "通知内容コード", 10, 2, FieldKind::Digits),
    Field::new("medium_code", "媒体コード", 12, 1, FieldKind::Digits),
    Field::new(
        "system_code",
        "特別徴収制度コード",
        13,
        1,
        FieldKind::Digits,
    ),
    Field::new("created_on", "作成年月日", 14, 8, FieldKind::Digits),
    Field::new("reserve", "予備", 22, 479, FieldKind::Filler),
];

/// Trailer record (レコード区分 3), as published by MHLW.
pub const TRAILER: &[Field] = &[
    Field::new(
        "record_kind",
        "レコード区分",
        1,
        1,
        FieldKind::Constant(b"3"),
    ),
    Field::new("municipality_code", "市町村コード", 2, 5, FieldKind::Digits),
    Field::new(
        "payer_code",
        "特別徴収義務者コード",
        7,
        3,
        FieldKind::Digits,
    ),
    Field::new("notice_code", "通知内容コード", 10, 2, FieldKind::Digits),
    Field::new("reserve_1", "予備", 12, 1, FieldKind::Filler),
    Field::new(
        "system_code",
        "特別徴収制度コード",
        13,
        1,
        FieldKind::Digits,
    ),
    Field::new("created_on", "作成年月日", 14, 8, FieldKind::Digits),
    Field::new("total_count", "合計件数", 22, 9, FieldKind::Digits),
    Field::new("amount_1_total_yen", "合計金額1", 31, 11, FieldKind::Digits),
    Field::new("amount_2_total_yen", "合計金額2", 42, 11, FieldKind::Digits),
    Field::new("amount_3_total_yen", "合計金額3", 53, 11, FieldKind::Digits),
    Field::new("reserve_2", "予備", 64, 437, FieldKind::Filler),
];

/// Data record (レコード区分 2): OUR layout, see the module documentation.
pub const DATA: &[PensionField] = &[
    PensionField::new(
        Field::new(
            "record_kind",
            "レコード区分",
            1,
            1,
            FieldKind::Constant(b"2"),
        ),
        Value::Fixed,
        true,
    ),
    PensionField::new(
        Field::new("municipality_code", "市町村コード", 2, 5, FieldKind::Digits),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new(
            "payer_code",
            "特別徴収義務者コード",
            7,
            3,
            FieldKind::Digits,
        ),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("notice_code", "通知内容コード", 10, 2, FieldKind::Digits),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("reserve_1", "予備", 12, 1, FieldKind::Filler),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new(
            "system_code",
            "特別徴収制度コード",
            13,
            1,
            FieldKind::Digits,
        ),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("created_on", "作成年月日", 14, 8, FieldKind::Digits),
        Value::Date,
        true,
    ),
    PensionField::new(
        Field::new(
            "basic_pension_no",
            "基礎年金番号",
            22,
            10,
            FieldKind::Digits,
        ),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("pension_code", "年金コード", 32, 4, FieldKind::Digits),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("reserve_2", "予備", 36, 3, FieldKind::Filler),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new("birth_date", "生年月日", 39, 8, FieldKind::Digits),
        Value::Date,
        true,
    ),
    PensionField::new(
        Field::new("sex", "性別", 47, 1, FieldKind::Digits),
        Value::Code,
        true,
    ),
    PensionField::new(
        Field::new("name_kana", "カナ氏名", 48, 25, FieldKind::Text),
        Value::Text,
        true,
    ),
    PensionField::new(
        Field::new(
            "shift_code_1",
            "シフトコード1",
            73,
            3,
            FieldKind::Constant(KI),
        ),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new("name_kanji", "漢字氏名", 76, 50, FieldKind::Kanji),
        Value::Kanji,
        false,
    ),
    PensionField::new(
        Field::new(
            "shift_code_2",
            "シフトコード2",
            126,
            3,
            FieldKind::Constant(KO),
        ),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new("postal_code", "郵便番号", 129, 7, FieldKind::Digits),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("address_kana", "カナ住所", 136, 80, FieldKind::Text),
        Value::Text,
        false,
    ),
    PensionField::new(
        Field::new(
            "shift_code_3",
            "シフトコード3",
            216,
            3,
            FieldKind::Constant(KI),
        ),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new("address_kanji", "漢字住所", 219, 110, FieldKind::Kanji),
        Value::Kanji,
        false,
    ),
    PensionField::new(
        Field::new(
            "shift_code_4",
            "シフトコード4",
            329,
            3,
            FieldKind::Constant(KO),
        ),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new("category_code", "各種区分", 332, 2, FieldKind::Digits),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("result_code", "処理結果", 334, 2, FieldKind::Digits),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new(
            "late_stage_transfer_code",
            "後期移管コード",
            336,
            1,
            FieldKind::Digits,
        ),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("event_date", "各種年月日", 337, 8, FieldKind::Digits),
        Value::Date,
        false,
    ),
    PensionField::new(
        Field::new("amount_1_yen", "金額1", 345, 11, FieldKind::Digits),
        Value::Amount,
        true,
    ),
    PensionField::new(
        Field::new("amount_2_yen", "金額2", 356, 11, FieldKind::Digits),
        Value::Amount,
        true,
    ),
    PensionField::new(
        Field::new("amount_3_yen", "金額3", 367, 11, FieldKind::Digits),
        Value::Amount,
        true,
    ),
    PensionField::new(
        Field::new("reserve_3", "予備", 378, 58, FieldKind::Filler),
        Value::Fixed,
        false,
    ),
    PensionField::new(
        Field::new(
            "mutual_aid_cert_no",
            "共済年金証書記号番号",
            436,
            15,
            FieldKind::Text,
        ),
        Value::Text,
        false,
    ),
    PensionField::new(
        Field::new(
            "ltc_insured_no",
            "介護被保険者番号",
            451,
            10,
            FieldKind::Digits,
        ),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new(
            "personal_code_kind",
            "個人コード区分",
            461,
            1,
            FieldKind::Digits,
        ),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("personal_code", "個人コード", 462, 16, FieldKind::Text),
        Value::Text,
        false,
    ),
    PensionField::new(
        Field::new(
            "ltc_address_exception",
            "介護住所地特例",
            478,
            1,
            FieldKind::Digits,
        ),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("captured_on", "捕捉年月日", 479, 8, FieldKind::Digits),
        Value::Date,
        false,
    ),
    PensionField::new(
        Field::new("waiting_flag", "待機フラグ", 487, 1, FieldKind::Digits),
        Value::Code,
        false,
    ),
    PensionField::new(
        Field::new("reserve_4", "予備", 488, 13, FieldKind::Filler),
        Value::Fixed,
        false,
    ),
];

/// A pension file kind: the notice it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PensionKind {
    /// Command-line name.
    pub kind: &'static str,
    /// Japanese title.
    pub title: &'static str,
    /// Who sends it.
    pub direction: &'static str,
    /// 通知内容コード the header must carry, where known (`00` is MHLW's); `None` where
    /// the code list is not yet confirmed, so no check is made.
    pub notice_code: Option<&'static str>,
    /// Whether 基礎年金番号 + 年金コード must be unique in the file (one record per
    /// person); 異動 and result files may hold several records per person.
    pub unique_person: bool,
}

/// The five kinds.
pub const KINDS: &[PensionKind] = &[
    PensionKind {
        kind: "pension-target",
        title: "特別徴収対象者情報",
        direction: "pension_insurer → municipal_office",
        notice_code: Some("00"),
        unique_person: true,
    },
    PensionKind {
        kind: "pension-request",
        title: "特別徴収依頼情報",
        direction: "municipal_office → pension_insurer",
        notice_code: None,
        unique_person: true,
    },
    PensionKind {
        kind: "pension-change",
        title: "各種異動情報",
        direction: "municipal_office → pension_insurer",
        notice_code: None,
        unique_person: false,
    },
    PensionKind {
        kind: "pension-request-result",
        title: "依頼処理結果",
        direction: "pension_insurer → municipal_office",
        notice_code: None,
        unique_person: false,
    },
    PensionKind {
        kind: "pension-deduction-result",
        title: "特別徴収結果",
        direction: "pension_insurer → municipal_office",
        notice_code: None,
        unique_person: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fixed::check_layout;

    #[test]
    fn tables_cover_500_bytes() {
        check_layout(HEADER, RECORD_LEN).unwrap();
        check_layout(TRAILER, RECORD_LEN).unwrap();
        let data: Vec<Field> = DATA.iter().map(|f| f.field).collect();
        check_layout(&data, RECORD_LEN).unwrap();
    }
}
