//! コンビニ, 年金特別徴収 and 広域連合 files: round trips and hostile input; and a
//! "never panics" property over every reader.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use nagare_steps::formats::csv_layout::{self, CsvOptions, FieldValue, Record};
use nagare_steps::formats::cvs::barcode::{Barcode, free_field};
use nagare_steps::formats::cvs::result::{
    NagareCsv, PaymentResult, PaymentResultReader, ResultCheck, ResultKind,
};
use nagare_steps::formats::fixed::RecordStyle;
use nagare_steps::formats::kind::{self, KindOptions};
use nagare_steps::formats::pension::{self, PensionCheck, PensionFile, PensionHeader};
use nagare_steps::formats::{FormatError, Position, Problem, ProblemKind, TextEncoding, union};
use proptest::prelude::*;

fn problems(err: FormatError) -> Vec<Problem> {
    match err {
        FormatError::Invalid(p) => p.0,
        other => panic!("expected problems, got {other}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

// ---------------------------------------------------------------- コンビニ

fn barcode(notice: &str, amount: i64) -> String {
    Barcode {
        company_code: "929023".into(),
        free_field: free_field("12345", notice, 2025, 1).unwrap(),
        reissue: 0,
        deadline: Some(date(2025, 7, 31)),
        stamp_flag: 0,
        amount_yen: amount,
    }
    .encode(300_000)
    .unwrap()
}

fn payments() -> Vec<PaymentResult> {
    vec![
        PaymentResult {
            kind: ResultKind::Preliminary,
            paid_on: date(2025, 7, 10),
            paid_time: Some("1532".into()),
            barcode: barcode("0000000001", 12_300),
            amount_yen: 12_300,
            chain_code: Some("001".into()),
            store_code: Some("123456".into()),
            remit_on: None,
        },
        PaymentResult {
            kind: ResultKind::Confirmed,
            paid_on: date(2025, 7, 10),
            paid_time: None,
            barcode: barcode("0000000001", 12_300),
            amount_yen: 12_300,
            chain_code: Some("001".into()),
            store_code: Some("123456".into()),
            remit_on: Some(date(2025, 7, 25)),
        },
        PaymentResult {
            kind: ResultKind::Cancelled,
            paid_on: date(2025, 7, 11),
            paid_time: Some("0905".into()),
            barcode: barcode("0000000002", 4_500),
            amount_yen: 4_500,
            chain_code: None,
            store_code: None,
            remit_on: None,
        },
    ]
}

#[test]
fn cvs_result_round_trip_in_both_encodings() {
    for encoding in [TextEncoding::Utf8, TextEncoding::ShiftJis] {
        let adapter = NagareCsv { encoding };
        let bytes = adapter.write(&payments()).unwrap();
        let back = adapter.read(&bytes, &ResultCheck::default()).unwrap();
        assert_eq!(back, payments());
        assert_eq!(adapter.name(), "nagare-csv");
    }
}

#[test]
fn cvs_result_hostile_input() {
    let adapter = NagareCsv::default();
    let good = String::from_utf8(adapter.write(&payments()).unwrap()).unwrap();
    let b1 = barcode("0000000001", 12_300);
    // Wrong check digit on row 3, and an amount that differs from the barcode on row 2.
    let mut bad_cd = b1.clone().into_bytes();
    bad_cd[43] = if bad_cd[43] == b'0' { b'1' } else { b'0' };
    let bad_cd = String::from_utf8(bad_cd).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replace(",12300,", ",12400,");
    lines[2] = lines[2].replace(&b1, &bad_cd);
    let text = lines.join("\r\n");
    let p = problems(
        adapter
            .read(text.as_bytes(), &ResultCheck::default())
            .unwrap_err(),
    );
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!((p[0].record, p[0].field.as_ref()), (2, "amount_yen"));
    assert_eq!(
        (p[1].record, p[1].field.as_ref()),
        (3, "barcode.check_digit")
    );
    assert_eq!(p[1].position, Position::Bytes { start: 44, end: 44 });

    // A duplicate and an unknown barcode.
    let mut dup = payments();
    dup.push(dup[0].clone());
    let bytes = adapter.write(&dup).unwrap();
    let known: HashSet<String> = [barcode("0000000001", 12_300)].into_iter().collect();
    let check = ResultCheck {
        known_barcodes: Some(known),
        ..ResultCheck::default()
    };
    let p = problems(adapter.read(&bytes, &check).unwrap_err());
    assert!(
        p.iter()
            .any(|p| p.record == 4 && p.kind == ProblemKind::UnknownKey)
    );
    assert!(
        p.iter()
            .any(|p| p.record == 5 && p.kind == ProblemKind::Duplicate { first: 2 })
    );

    // Invalid Shift_JIS bytes, wrong column count, unknown kind code.
    let sjis = NagareCsv {
        encoding: TextEncoding::ShiftJis,
    };
    let mut bytes = sjis.write(&payments()).unwrap();
    let at = bytes.len() - 3;
    bytes[at] = 0x82;
    bytes[at + 1] = b',';
    let p = problems(sjis.read(&bytes, &ResultCheck::default()).unwrap_err());
    assert_eq!(p[0].record, 4);
    assert_eq!(
        p[0].kind,
        ProblemKind::InvalidEncoding {
            encoding: "Shift_JIS"
        }
    );
    let text = good.replacen("\r\n1,", "\r\n7,", 1);
    let p = problems(
        adapter
            .read(text.as_bytes(), &ResultCheck::default())
            .unwrap_err(),
    );
    assert_eq!((p[0].record, p[0].field.as_ref()), (2, "kind"));
    assert_eq!(p[0].position, Position::Column { column: 1 });
    let text = format!("{good}1,20250710\r\n");
    let p = problems(
        adapter
            .read(text.as_bytes(), &ResultCheck::default())
            .unwrap_err(),
    );
    assert_eq!(
        p[0].kind,
        ProblemKind::ColumnCount {
            expected: 8,
            found: 2
        }
    );
}

// ---------------------------------------------------------------- 広域連合

fn t(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn sample_records(layout: &csv_layout::CsvLayout) -> Vec<Record> {
    // Build two valid records for any layout from its column rules, so that every kind
    // is exercised without a hand-written fixture per kind.
    (0..2)
        .map(|i| {
            let mut m = BTreeMap::new();
            for c in layout.columns {
                let v = match c.kind {
                    csv_layout::ColumnKind::Text { .. } => t(if i == 0 {
                        "山田　太郎"
                    } else {
                        "髙橋 はな, \"二\""
                    }),
                    csv_layout::ColumnKind::Digits { min, .. } => {
                        t(&format!("{:0>min$}", 10 + i, min = min.max(2)))
                    }
                    csv_layout::ColumnKind::Amount { signed } => {
                        FieldValue::Int(if signed && i == 1 { -5_000 } else { 80_000 })
                    }
                    csv_layout::ColumnKind::Date => FieldValue::Date(date(2025, 4, 1 + i as u32)),
                    csv_layout::ColumnKind::Code(codes) => t(codes[i % codes.len()].0),
                };
                m.insert(c.name.to_owned(), v);
            }
            Record(m)
        })
        .collect()
}

#[test]
fn every_union_kind_round_trips_in_both_encodings() {
    for layout in union::all() {
        let records = sample_records(layout);
        for encoding in [TextEncoding::Utf8, TextEncoding::ShiftJis] {
            let opts = CsvOptions { encoding };
            let bytes = union::write(layout, &records, &opts).unwrap();
            let back = union::read(layout, &bytes, &opts).unwrap();
            assert_eq!(back, records, "{}", layout.kind);
            assert_eq!(union::write(layout, &back, &opts).unwrap(), bytes);
        }
    }
}

#[test]
fn union_hostile_input() {
    let layout = union::layout("union-receipt").unwrap();
    let opts = CsvOptions::default();
    let records = sample_records(layout);
    let good = String::from_utf8(union::write(layout, &records, &opts).unwrap()).unwrap();
    // Header row of another kind.
    let other = union::layout("union-premium").unwrap();
    let p = problems(union::read(other, good.as_bytes(), &opts).unwrap_err());
    assert_eq!((p[0].record, p[0].field.as_ref()), (1, "header"));
    // Duplicate key, bad date, bad amount: all listed.
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines.push(lines[1].clone());
    lines[2] = lines[2].replace("20250402", "20250231");
    let text = lines.join("\r\n");
    let p = problems(union::read(layout, text.as_bytes(), &opts).unwrap_err());
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!((p[0].record, p[0].field.as_ref()), (3, "received_on"));
    assert_eq!(
        (p[1].record, &p[1].kind),
        (4, &ProblemKind::Duplicate { first: 2 })
    );
    // A character Shift_JIS cannot hold is refused on write, naming record and column.
    let layout = union::layout("union-unregistered-resident").unwrap();
    let mut records = sample_records(layout);
    records[1].0.insert("name".into(), t("𠮷野 太郎"));
    let p = problems(
        union::write(
            layout,
            &records,
            &CsvOptions {
                encoding: TextEncoding::ShiftJis,
            },
        )
        .unwrap_err(),
    );
    assert_eq!(p[0].record, 2);
    assert_eq!(p[0].field, "name");
    assert_eq!(p[0].position, Position::Column { column: 3 });
    assert!(matches!(
        p[0].kind,
        ProblemKind::Unrepresentable { ch: '𠮷', .. }
    ));
    // The same name is fine in UTF-8.
    assert!(union::write(layout, &records, &CsvOptions::default()).is_ok());
}

// ---------------------------------------------------------------- 年金特別徴収

fn pension_file() -> PensionFile {
    let header = PensionHeader {
        municipality_code: "13101".into(),
        payer_code: "001".into(),
        notice_code: "00".into(),
        medium_code: "1".into(),
        system_code: "2".into(),
        created_on: date(2025, 5, 20),
    };
    let person = |i: usize, name: &str, kanji: Option<&str>, amount: i64| {
        let mut m: BTreeMap<String, FieldValue> = BTreeMap::new();
        for (k, v) in [
            ("municipality_code", t("13101")),
            ("payer_code", t("001")),
            ("notice_code", t("00")),
            ("system_code", t("2")),
            ("created_on", FieldValue::Date(date(2025, 5, 20))),
            ("basic_pension_no", t(&format!("12345678{i:02}"))),
            ("pension_code", t("1150")),
            ("birth_date", FieldValue::Date(date(1948, 3, 1 + i as u32))),
            ("sex", t("1")),
            ("name_kana", t(name)),
            ("name_kanji", kanji.map_or(FieldValue::Null, t)),
            ("postal_code", t("1000001")),
            ("address_kana", t("ﾄｳｷﾖｳﾄ ﾁﾖﾀﾞｸ")),
            ("address_kanji", t("東京都千代田区千代田１－１")),
            ("category_code", FieldValue::Null),
            ("result_code", FieldValue::Null),
            ("late_stage_transfer_code", FieldValue::Null),
            ("event_date", FieldValue::Null),
            ("amount_1_yen", FieldValue::Int(amount)),
            ("amount_2_yen", FieldValue::Int(0)),
            ("amount_3_yen", FieldValue::Int(amount * 2)),
            ("mutual_aid_cert_no", FieldValue::Null),
            ("ltc_insured_no", t("0000012345")),
            ("personal_code_kind", FieldValue::Null),
            ("personal_code", FieldValue::Null),
            ("ltc_address_exception", FieldValue::Null),
            ("captured_on", FieldValue::Null),
            ("waiting_flag", FieldValue::Null),
        ] {
            m.insert(k.into(), v);
        }
        Record(m)
    };
    PensionFile {
        header,
        records: vec![
            person(1, "ﾔﾏﾀﾞ ﾀﾛｳ", Some("山田　太郎"), 1_830_000),
            person(2, "ｽｽﾞｷ ﾊﾅｺ", None, 960_000),
        ],
    }
}

#[test]
fn pension_round_trip_for_every_kind() {
    for k in pension::layout::KINDS {
        let file = pension_file();
        let bytes = pension::write(k, &file, RecordStyle::default()).unwrap();
        assert_eq!(bytes.len(), 4 * 502);
        let back = pension::read(k, &bytes, &PensionCheck::default()).unwrap();
        assert_eq!(back, file, "{}", k.kind);
        // Trailer (official): count at 22-30, 金額1 total at 31-41.
        let trailer = &bytes[3 * 502..3 * 502 + 500];
        assert_eq!(&trailer[21..30], b"000000002");
        assert_eq!(&trailer[30..41], b"00002790000");
        // JSON round trip as the CLI does it.
        let json = serde_json::to_value(&back).unwrap();
        let again = pension::file_from_json(&json).unwrap();
        assert_eq!(
            pension::write(k, &again, RecordStyle::default()).unwrap(),
            bytes
        );
    }
}

#[test]
fn pension_hostile_input() {
    let k = pension::kind("pension-target").unwrap();
    let good = pension::write(k, &pension_file(), RecordStyle::default()).unwrap();
    let r = |no: usize| (no - 1) * 502;
    // Bad trailer total.
    let mut bytes = good.clone();
    let at = r(4) + 30;
    bytes[at..at + 11].copy_from_slice(b"00002790001");
    let p = problems(pension::read(k, &bytes, &PensionCheck::default()).unwrap_err());
    assert_eq!(
        (p[0].record, p[0].field.as_ref()),
        (4, "amount_1_total_yen")
    );
    // Another municipality.
    let check = PensionCheck {
        municipality_code: Some("13102".into()),
    };
    let p = problems(pension::read(k, &good, &check).unwrap_err());
    assert!(matches!(p[0].kind, ProblemKind::WrongOwner { .. }));
    // Invalid bytes inside the kanji field, and a broken shift code.
    let mut bytes = good.clone();
    bytes[r(2) + 80] = 0x82;
    bytes[r(3) + 73] = b'X';
    let p = problems(pension::read(k, &bytes, &PensionCheck::default()).unwrap_err());
    let f: Vec<(usize, &str)> = p.iter().map(|p| (p.record, p.field.as_ref())).collect();
    assert_eq!(f, vec![(2, "name_kanji"), (3, "shift_code_1")]);
    // Duplicate person, and a wrong record type.
    let mut dup = pension_file();
    dup.records[1] = dup.records[0].clone();
    let bytes = pension::write(k, &dup, RecordStyle::default()).unwrap();
    let p = problems(pension::read(k, &bytes, &PensionCheck::default()).unwrap_err());
    assert_eq!(p[0].kind, ProblemKind::Duplicate { first: 2 });
    let mut bytes = good.clone();
    bytes[r(3)] = b'7';
    let p = problems(pension::read(k, &bytes, &PensionCheck::default()).unwrap_err());
    assert_eq!(
        p[0].kind,
        ProblemKind::UnknownRecordType { found: "7".into() }
    );
    // A target file must carry 通知内容コード 00.
    let mut other = pension_file();
    other.header.notice_code = "01".into();
    assert!(pension::write(k, &other, RecordStyle::default()).is_err());
    // Kanji outside JIS X 0208 is refused on write.
    let mut bad = pension_file();
    bad.records[0].0.insert("name_kanji".into(), t("𠮷田"));
    let p = problems(pension::write(k, &bad, RecordStyle::default()).unwrap_err());
    assert_eq!((p[0].record, p[0].field.as_ref()), (1, "name_kanji"));
}

// ---------------------------------------------------------------- every reader

fn zengin_header() -> serde_json::Value {
    serde_json::json!({
        "consignor_code": "1234567890", "consignor_name": "ナガレシ", "date": "0627",
        "bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
        "account_number": "1234567"
    })
}

fn zengin_debit_record() -> serde_json::Value {
    serde_json::json!({
        "bank_code": "0005", "branch_code": "001", "account_type": "ordinary",
        "account_number": "7654321", "payer_name": "ヤマダ タロウ", "amount_yen": 12300,
        "customer_number": "1"
    })
}

fn valid_samples() -> Vec<(&'static str, Vec<u8>)> {
    let opts = KindOptions::default();
    let mut v = Vec::new();
    for (name, _) in kind::all() {
        let json = match name {
            n if n.starts_with("union-") => serde_json::json!({
                "records": serde_json::to_value(sample_records(union::layout(n).unwrap())).unwrap()
            }),
            n if n.starts_with("pension-") => serde_json::to_value(pension_file()).unwrap(),
            "cvs-result" => serde_json::to_value(payments()).unwrap(),
            "cvs-barcode" => serde_json::json!([{
                "company_code": "929023", "free_field": "123450000000001202501",
                "reissue": 0, "deadline": "2025-07-31", "amount_yen": 12300
            }]),
            "zengin-debit" => serde_json::json!({
                "header": zengin_header(),
                "records": [zengin_debit_record()],
            }),
            "zengin-debit-result" => serde_json::json!({
                "header": zengin_header(),
                "records": [{"record": zengin_debit_record(), "result": "insufficient_funds"}],
            }),
            "zengin-transfer" => serde_json::json!({
                "header": zengin_header(),
                "records": [{
                    "bank_code": "0005", "branch_code": "001", "account_type": "ordinary",
                    "account_number": "7654321", "recipient_name": "ヤマダ タロウ",
                    "amount_yen": 3200, "customer_code_1": "1"
                }],
            }),
            other => panic!("no sample for kind {other}"),
        };
        let bytes =
            kind::write_from_json(name, &json, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        // And the reader accepts what the writer produced.
        kind::read_to_json(name, &bytes, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        v.push((name, bytes));
    }
    v
}

#[test]
fn every_kind_writes_and_reads_through_the_registry() {
    let samples = valid_samples();
    assert_eq!(samples.len(), kind::all().len());
    let err = kind::read_to_json("nope", b"", &KindOptions::default()).unwrap_err();
    assert!(err.to_string().contains("zengin-debit"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// No reader panics on arbitrary bytes.
    #[test]
    fn readers_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        for (name, _) in kind::all() {
            let _ = kind::read_to_json(name, &bytes, &KindOptions::default());
        }
    }

    /// No reader panics on a valid file with bytes flipped, cut or extended; and a
    /// changed file is either refused or still reads (never half).
    #[test]
    fn readers_never_panic_on_mutated_files(
        seed in any::<u64>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let samples = valid_samples();
        let (name, mut bytes) = samples[(seed as usize) % samples.len()].clone();
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        let _ = kind::read_to_json(name, &bytes, &KindOptions::default());
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = kind::read_to_json(name, &bytes, &KindOptions::default());
    }
}
