//! 全銀 files: round trips, cross-checks with the independent `zengin-fmt` crate, and
//! hostile input.

use std::collections::HashSet;

use nagare_steps::formats::fixed::{LineEnding, RecordStyle};
use nagare_steps::formats::zengin::debit::{
    self, DebitCheck, DebitRecord, DebitRequest, DebitResult, DebitResultCode, DebitResultRecord,
};
use nagare_steps::formats::zengin::transfer::{
    self, TransferCheck, TransferKind, TransferRecord, TransferRequest,
};
use nagare_steps::formats::zengin::{AccountType, BankProfile, NewCode, ZenginHeader};
use nagare_steps::formats::{FormatError, Limits, Position, Problem, ProblemKind};

fn header() -> ZenginHeader {
    ZenginHeader {
        consignor_code: "1234567890".into(),
        consignor_name: "ﾅｶﾞﾚｼ ｺｳｷｺｳﾚｲｼﾔｲﾘﾖｳ".into(),
        date: "0627".into(),
        bank_code: "0001".into(),
        bank_name: "ﾐｽﾞﾎ".into(),
        branch_code: "001".into(),
        branch_name: "ﾄｳｷﾖｳ".into(),
        account_type: AccountType::Ordinary,
        account_number: "1234567".into(),
    }
}

fn debit_record(i: u32, name: &str, amount: i64) -> DebitRecord {
    DebitRecord {
        bank_code: "0005".into(),
        bank_name: "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".into(),
        branch_code: "001".into(),
        branch_name: "ﾎﾝﾃﾝ".into(),
        account_type: AccountType::Ordinary,
        account_number: format!("{:07}", 1_000_000 + i),
        payer_name: name.into(),
        amount_yen: amount,
        new_code: if i == 0 {
            NewCode::First
        } else {
            NewCode::Other
        },
        customer_number: format!("{:020}", 2_025_070_100 + u64::from(i)),
    }
}

fn request() -> DebitRequest {
    DebitRequest {
        header: header(),
        records: vec![
            debit_record(0, "ﾔﾏﾀﾞ ﾀﾛｳ", 12_300),
            debit_record(1, "ｽｽﾞｷ ﾊﾅｺ", 4_500),
            debit_record(2, "ｻﾄｳ ｼﾞﾕﾝｲﾁ", 98_700),
        ],
    }
}

fn result_file() -> DebitResult {
    let codes = [
        DebitResultCode::Debited,
        DebitResultCode::InsufficientFunds,
        DebitResultCode::Debited,
    ];
    DebitResult {
        header: header(),
        records: request()
            .records
            .into_iter()
            .zip(codes)
            .map(|(record, result)| DebitResultRecord { record, result })
            .collect(),
    }
}

fn problems(err: FormatError) -> Vec<Problem> {
    match err {
        FormatError::Invalid(p) => p.0,
        other => panic!("expected problems, got {other}"),
    }
}

fn none() -> DebitCheck {
    DebitCheck::default()
}

// ---------------------------------------------------------------- round trips

#[test]
fn debit_request_round_trip_is_byte_exact() {
    let req = request();
    let bytes = debit::write_request(&req, &BankProfile::default()).unwrap();
    assert_eq!(bytes.len(), 6 * 122);
    let back = debit::read_request(&bytes, &none()).unwrap();
    assert_eq!(back, req);
    assert_eq!(
        debit::write_request(&back, &BankProfile::default()).unwrap(),
        bytes
    );
}

#[test]
fn full_width_names_are_converted_on_write() {
    let mut req = request();
    req.header.consignor_name = "ナガレシ　コウキコウレイシャイリョウ".into();
    req.records[0].payer_name = "やまだ　たろう".into();
    req.records[1].payer_name = "スズキ　ハナコ".into();
    req.records[2].payer_name = "サトウ　ジュンイチ".into();
    let bytes = debit::write_request(&req, &BankProfile::default()).unwrap();
    let back = debit::read_request(&bytes, &none()).unwrap();
    assert_eq!(back, request());
    // ﾀﾞ is two bytes: ﾀ (0xC0) then ﾞ (0xDE), at bytes 51.. of the first data record.
    let rec = &bytes[122..242];
    assert_eq!(&rec[50..59], b"\xD4\xCF\xC0\xDE \xC0\xDB\xB3 ");
}

#[test]
fn debit_result_round_trip_with_totals() {
    let res = result_file();
    let bytes = debit::write_result(&res, &BankProfile::default()).unwrap();
    let back = debit::read_result(&bytes, &none()).unwrap();
    assert_eq!(back, res);
    let t = back.totals();
    assert_eq!((t.total_count, t.total_amount_yen), (3, 115_500));
    assert_eq!((t.debited_count, t.debited_amount_yen), (2, 111_000));
    assert_eq!((t.failed_count, t.failed_amount_yen), (1, 4_500));
    let by = back.by_customer();
    assert_eq!(
        by["00000000002025070101"].result,
        DebitResultCode::InsufficientFunds
    );
    assert_eq!(by["00000000002025070101"].result.meaning_ja(), "資金不足");
}

#[test]
fn transfer_round_trip() {
    let req = transfer_request();
    let bytes = transfer::write_request(&req, &BankProfile::default()).unwrap();
    let back = transfer::read_request(&bytes, &TransferCheck::default()).unwrap();
    assert_eq!(back, req);
    assert_eq!(
        transfer::write_request(&back, &BankProfile::default()).unwrap(),
        bytes
    );
    // 手形交換所番号 is written as 0000 when unused.
    assert_eq!(&bytes[122 + 38..122 + 42], b"0000");
}

fn transfer_request() -> TransferRequest {
    TransferRequest {
        header: header(),
        records: vec![
            TransferRecord {
                bank_code: "0005".into(),
                bank_name: "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".into(),
                branch_code: "001".into(),
                branch_name: "ﾎﾝﾃﾝ".into(),
                clearing_house_no: String::new(),
                account_type: AccountType::Ordinary,
                account_number: "7654321".into(),
                recipient_name: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
                amount_yen: 3_200,
                new_code: NewCode::Other,
                customer_code_1: "0000000123".into(),
                customer_code_2: "0000002025".into(),
                edi_info: None,
                transfer_kind: TransferKind::Telegraphic,
            },
            TransferRecord {
                bank_code: "0001".into(),
                bank_name: "ﾐｽﾞﾎ".into(),
                branch_code: "001".into(),
                branch_name: "ﾄｳｷﾖｳ".into(),
                clearing_house_no: String::new(),
                account_type: AccountType::Current,
                account_number: "0000001".into(),
                recipient_name: "ｽｽﾞｷ ﾊﾅｺ".into(),
                amount_yen: 15_000,
                new_code: NewCode::First,
                customer_code_1: String::new(),
                customer_code_2: String::new(),
                edi_info: Some("REFUND 2025 0007".into()),
                transfer_kind: TransferKind::Unspecified,
            },
        ],
    }
}

#[test]
fn every_record_style_is_accepted_on_input() {
    let req = request();
    for line_ending in [LineEnding::None, LineEnding::Crlf, LineEnding::Lf] {
        for eof in [false, true] {
            let profile = BankProfile {
                style: RecordStyle { line_ending, eof },
                ..BankProfile::default()
            };
            let bytes = debit::write_request(&req, &profile).unwrap();
            assert_eq!(bytes.last() == Some(&0x1A), eof);
            assert_eq!(debit::read_request(&bytes, &none()).unwrap(), req);
        }
    }
}

#[test]
fn bank_names_filled_from_the_data_set() {
    let mut req = request();
    req.records[0].bank_name.clear();
    req.records[0].branch_name.clear();
    let profile = BankProfile {
        fill_bank_names: true,
        ..BankProfile::default()
    };
    let bytes = debit::write_request(&req, &profile).unwrap();
    let back = debit::read_request(&bytes, &none()).unwrap();
    assert_eq!(back.records[0].bank_name, "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ");
    assert!(!back.records[0].branch_name.is_empty());
}

// ---------------------------------------------------------------- zengin-fmt peer

fn fmt_output(line_ending: zengin_fmt::LineEnding, eof: bool) -> zengin_fmt::OutputFormat {
    zengin_fmt::OutputFormat {
        encoding: zengin_fmt::Encoding::Jis,
        line_ending,
        eof,
    }
}

#[test]
fn peer_parses_our_debit_request_with_identical_values() {
    let req = request();
    let bytes = debit::write_request(&req, &BankProfile::default()).unwrap();
    let peer = zengin_fmt::parse_account_transfer(&bytes).unwrap();
    let h = &peer.header;
    assert_eq!(h.kind_code, 91);
    assert_eq!(h.collector_code, req.header.consignor_code);
    assert_eq!(h.collector_name, req.header.consignor_name);
    assert_eq!(h.collection_date, req.header.date);
    assert_eq!(h.bank_code, req.header.bank_code);
    assert_eq!(h.bank_name, req.header.bank_name);
    assert_eq!(h.branch_code, req.header.branch_code);
    assert_eq!(h.branch_name, req.header.branch_name);
    assert_eq!(h.account_type, req.header.account_type.code());
    assert_eq!(h.account_number, req.header.account_number);
    assert_eq!(peer.details.len(), req.records.len());
    for (p, o) in peer.details.iter().zip(&req.records) {
        assert_eq!(p.bank_code, o.bank_code);
        assert_eq!(p.bank_name, o.bank_name);
        assert_eq!(p.branch_code, o.branch_code);
        assert_eq!(p.branch_name, o.branch_name);
        assert_eq!(p.account_type, o.account_type.code());
        assert_eq!(p.account_number, o.account_number);
        assert_eq!(p.payer_name, o.payer_name);
        assert_eq!(p.amount, o.amount_yen as u64);
        assert_eq!(p.new_code, o.new_code.code().to_string());
        assert_eq!(p.customer_number, o.customer_number);
    }
    assert_eq!(peer.trailer.record_count, 3);
    assert_eq!(peer.trailer.total_amount, 115_500);
}

#[test]
fn peer_parses_our_debit_result_with_identical_values() {
    let res = result_file();
    let bytes = debit::write_result(&res, &BankProfile::default()).unwrap();
    let peer = zengin_fmt::parse_account_transfer_result(&bytes).unwrap();
    for (p, o) in peer.details.iter().zip(&res.records) {
        assert_eq!(p.customer_number, o.record.customer_number);
        assert_eq!(p.result_code, o.result.code());
        assert_eq!(p.account_holder_name, o.record.payer_name);
        assert_eq!(p.amount, o.record.amount_yen as u64);
    }
    let t = res.totals();
    assert_eq!(i64::from(peer.trailer.success_count), t.debited_count);
    assert_eq!(peer.trailer.success_amount as i64, t.debited_amount_yen);
    assert_eq!(i64::from(peer.trailer.failure_count), t.failed_count);
    assert_eq!(peer.trailer.failure_amount as i64, t.failed_amount_yen);
}

#[test]
fn we_parse_peer_debit_output() {
    let req = request();
    let bytes = debit::write_request(&req, &BankProfile::default()).unwrap();
    let peer_file = zengin_fmt::parse_account_transfer(&bytes).unwrap();
    for (le, eof) in [
        (zengin_fmt::LineEnding::None, false),
        (zengin_fmt::LineEnding::Crlf, true),
        (zengin_fmt::LineEnding::Lf, false),
    ] {
        let peer_bytes = zengin_fmt::to_bytes_as(
            &peer_file,
            zengin_fmt::FileType::AccountTransfer,
            fmt_output(le, eof),
        )
        .unwrap();
        assert_eq!(debit::read_request(&peer_bytes, &none()).unwrap(), req);
    }
    let res = result_file();
    let bytes = debit::write_result(&res, &BankProfile::default()).unwrap();
    let peer_res = zengin_fmt::parse_account_transfer_result(&bytes).unwrap();
    let peer_bytes = zengin_fmt::to_bytes_as(
        &peer_res,
        zengin_fmt::FileType::AccountTransferResult,
        fmt_output(zengin_fmt::LineEnding::Crlf, false),
    )
    .unwrap();
    assert_eq!(debit::read_result(&peer_bytes, &none()).unwrap(), res);
}

#[test]
fn transfer_cross_check_both_ways() {
    let req = transfer_request();
    let bytes = transfer::write_request(&req, &BankProfile::default()).unwrap();
    let peer = zengin_fmt::parse_general_transfer(&bytes).unwrap();
    assert_eq!(peer.header.kind_code, 21);
    assert_eq!(peer.header.remitter_code, req.header.consignor_code);
    assert_eq!(peer.header.transfer_date, req.header.date);
    for (p, o) in peer.details.iter().zip(&req.records) {
        assert_eq!(p.bank_code, o.bank_code);
        assert_eq!(p.branch_code, o.branch_code);
        assert_eq!(p.account_type, o.account_type.code());
        assert_eq!(p.account_number, o.account_number);
        assert_eq!(p.recipient_name, o.recipient_name);
        assert_eq!(p.amount, o.amount_yen as u64);
        assert_eq!(p.customer_code1, o.customer_code_1);
        assert_eq!(p.customer_code2, o.customer_code_2);
        assert_eq!(p.edi_info, o.edi_info.clone().unwrap_or_default());
    }
    assert_eq!(peer.trailer.total_count, 2);
    assert_eq!(peer.trailer.total_amount, 18_200);
    let peer_bytes = zengin_fmt::to_bytes_as(
        &peer,
        zengin_fmt::FileType::GeneralTransfer,
        fmt_output(zengin_fmt::LineEnding::None, true),
    )
    .unwrap();
    assert_eq!(
        transfer::read_request(&peer_bytes, &TransferCheck::default()).unwrap(),
        req
    );
}

// ---------------------------------------------------------------- hostile input

fn crlf_request() -> Vec<u8> {
    debit::write_request(&request(), &BankProfile::default()).unwrap()
}

/// Record `no` (1-based) of a CRLF file, mutable.
fn rec(bytes: &mut [u8], no: usize) -> &mut [u8] {
    &mut bytes[(no - 1) * 122..(no - 1) * 122 + 120]
}

#[test]
fn truncated_file_is_refused_with_record_number() {
    let plain = debit::write_request(
        &request(),
        &BankProfile {
            style: RecordStyle {
                line_ending: LineEnding::None,
                eof: false,
            },
            ..BankProfile::default()
        },
    )
    .unwrap();
    let cut = &plain[..plain.len() - 50];
    let p = problems(debit::read_request(cut, &none()).unwrap_err());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].record, 6);
    assert_eq!(
        p[0].kind,
        ProblemKind::Truncated {
            expected: 120,
            found: 70
        }
    );
}

#[test]
fn wrong_record_lengths_are_all_listed() {
    let mut bytes = crlf_request();
    // Drop one byte from record 2 and add one to record 4.
    bytes.remove(122 + 10);
    bytes.insert(3 * 122 - 1 + 5, b' ');
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    let recs: Vec<(usize, &ProblemKind)> = p.iter().map(|p| (p.record, &p.kind)).collect();
    assert_eq!(
        recs,
        vec![
            (
                2,
                &ProblemKind::RecordLength {
                    expected: 120,
                    found: 119
                }
            ),
            (
                4,
                &ProblemKind::RecordLength {
                    expected: 120,
                    found: 121
                }
            ),
        ]
    );
}

#[test]
fn bad_totals_name_the_trailer_field() {
    let mut bytes = crlf_request();
    rec(&mut bytes, 5)[7..19].copy_from_slice(b"000000115501");
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].record, 5);
    assert_eq!(p[0].field, "total_amount_yen");
    assert_eq!(p[0].position, Position::Bytes { start: 8, end: 19 });
    assert_eq!(
        p[0].kind,
        ProblemKind::TotalMismatch {
            declared: 115_501,
            computed: 115_500
        }
    );
    // In a result file the 振替済 totals must match the code-0 records.
    let mut res = debit::write_result(&result_file(), &BankProfile::default()).unwrap();
    rec(&mut res, 5)[19..25].copy_from_slice(b"000003");
    let p = problems(debit::read_result(&res, &none()).unwrap_err());
    assert_eq!(p[0].field, "debited_count");
}

#[test]
fn unknown_record_type_and_bad_order() {
    let mut bytes = crlf_request();
    rec(&mut bytes, 3)[0] = b'5';
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert_eq!(p[0].record, 3);
    assert_eq!(
        p[0].kind,
        ProblemKind::UnknownRecordType { found: "5".into() }
    );
    // A data record after the trailer.
    let mut bytes = crlf_request();
    let data = rec(&mut bytes, 2).to_vec();
    bytes.extend_from_slice(&data);
    bytes.extend_from_slice(b"\r\n");
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert!(
        p.iter()
            .any(|p| p.record == 7 && matches!(p.kind, ProblemKind::UnexpectedRecord { .. }))
    );
}

#[test]
fn invalid_shift_jis_bytes_in_a_name_field() {
    let mut bytes = crlf_request();
    // あ in Shift_JIS (0x82 0xA0) is not a JIS X 0201 character.
    rec(&mut bytes, 3)[50..52].copy_from_slice(b"\x82\xA0");
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].record, 3);
    assert_eq!(p[0].field, "payer_name");
    assert_eq!(p[0].position, Position::Bytes { start: 51, end: 80 });
    assert_eq!(
        p[0].kind,
        ProblemKind::InvalidByte {
            byte: 0x82,
            offset: 51
        }
    );
    assert_eq!(p[0].key.as_deref(), Some("00000000002025070101"));
    // The message shows the key, never the name.
    assert!(!p[0].to_string().contains("ｽｽﾞｷ"));
}

#[test]
fn header_for_another_consignor() {
    let bytes = crlf_request();
    let check = DebitCheck {
        consignor_code: Some("9999999999".into()),
        known_customers: None,
    };
    let p = problems(debit::read_request(&bytes, &check).unwrap_err());
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].record, p[0].field.as_ref()), (1, "consignor_code"));
    assert!(matches!(p[0].kind, ProblemKind::WrongOwner { .. }));
}

#[test]
fn result_for_unknown_customer_and_duplicates() {
    let mut res = result_file();
    res.records[2].record.customer_number = "77".into();
    let bytes = debit::write_result(&res, &BankProfile::default()).unwrap();
    let known: HashSet<String> = request()
        .records
        .iter()
        .map(|r| r.customer_number.trim_start_matches('0').to_owned())
        .collect();
    let check = DebitCheck {
        consignor_code: Some("1234567890".into()),
        known_customers: Some(known),
    };
    let p = problems(debit::read_result(&bytes, &check).unwrap_err());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].record, 4);
    assert_eq!(p[0].kind, ProblemKind::UnknownKey);
    assert_eq!(p[0].key.as_deref(), Some("00000000000000000077"));

    // Duplicate record: the writer refuses it, and so does the reader.
    let mut dup = result_file();
    dup.records[1] = dup.records[0].clone();
    let p = problems(debit::write_result(&dup, &BankProfile::default()).unwrap_err());
    assert!(matches!(p[0].kind, ProblemKind::Duplicate { first: 1 }));
    let mut bytes = debit::write_result(&result_file(), &BankProfile::default()).unwrap();
    let first = rec(&mut bytes, 2).to_vec();
    rec(&mut bytes, 3)[91..111].copy_from_slice(&first[91..111]);
    let p = problems(debit::read_result(&bytes, &none()).unwrap_err());
    assert!(
        p.iter()
            .any(|p| p.record == 3 && p.kind == ProblemKind::Duplicate { first: 2 })
    );
}

#[test]
fn unknown_result_code_and_request_with_results() {
    let mut bytes = debit::write_result(&result_file(), &BankProfile::default()).unwrap();
    rec(&mut bytes, 2)[111] = b'5';
    let p = problems(debit::read_result(&bytes, &none()).unwrap_err());
    assert!(
        p.iter().any(|p| p.field == "result_code"
            && p.kind == ProblemKind::UnknownCode { found: "5".into() })
    );
    let bytes = debit::write_result(&result_file(), &BankProfile::default()).unwrap();
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert!(p.iter().any(|p| p.record == 3 && p.field == "result_code"));
}

#[test]
fn all_problems_are_reported_and_nothing_is_returned() {
    let mut bytes = crlf_request();
    rec(&mut bytes, 2)[80] = b'X'; // amount
    rec(&mut bytes, 3)[42] = b'7'; // account type
    rec(&mut bytes, 4)[115] = b'Z'; // filler
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    let fields: Vec<(usize, &str)> = p.iter().map(|p| (p.record, p.field.as_ref())).collect();
    assert_eq!(
        fields,
        vec![(2, "amount_yen"), (3, "account_type"), (4, "filler_2")]
    );
}

#[test]
fn ebcdic_and_missing_records() {
    let mut bytes = crlf_request();
    rec(&mut bytes, 1)[3] = b'1';
    let p = problems(debit::read_request(&bytes, &none()).unwrap_err());
    assert_eq!(p[0].field, "code_division");
    let bytes = crlf_request();
    let p = problems(debit::read_request(&bytes[..122 * 4], &none()).unwrap_err());
    assert!(
        p.iter()
            .any(|p| p.kind == ProblemKind::Missing("trailer record (8)"))
    );
    assert!(
        p.iter()
            .any(|p| p.kind == ProblemKind::Missing("end record (9)"))
    );
    let p = problems(debit::read_request(b"", &none()).unwrap_err());
    assert_eq!(p[0].kind, ProblemKind::Empty);
}

#[test]
fn unrepresentable_name_names_the_persons_record() {
    let mut req = request();
    req.records[1].payer_name = "鈴木花子".into();
    req.records[2].payer_name = "ｻﾄｳ?".into();
    let p = problems(debit::write_request(&req, &BankProfile::default()).unwrap_err());
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].record, 2);
    assert_eq!(p[0].field, "payer_name");
    assert_eq!(p[0].key.as_deref(), Some("00000000002025070101"));
    assert!(matches!(
        p[0].kind,
        ProblemKind::Unrepresentable { ch: '鈴', .. }
    ));
    assert_eq!(p[1].record, 3);
    assert!(matches!(
        p[1].kind,
        ProblemKind::Unrepresentable { ch: '?', .. }
    ));
    // A name too long for 30 bytes is an error, never cut.
    let mut req = request();
    req.records[0].payer_name = "ｱ".repeat(31);
    let p = problems(debit::write_request(&req, &BankProfile::default()).unwrap_err());
    assert_eq!(p[0].kind, ProblemKind::TooLong { max: 30, found: 31 });
}

#[test]
fn writer_validates_bank_codes_and_amounts() {
    let mut req = request();
    req.records[0].bank_code = "0002".into();
    req.records[1].branch_code = "999".into();
    req.records[2].amount_yen = 0;
    let p = problems(debit::write_request(&req, &BankProfile::default()).unwrap_err());
    let fields: Vec<(usize, &str)> = p.iter().map(|p| (p.record, p.field.as_ref())).collect();
    assert_eq!(
        fields,
        vec![(1, "bank_code"), (2, "branch_code"), (3, "amount_yen")]
    );
    // With validation off (a bank newer than our data set), the codes pass.
    let mut req = request();
    req.records[0].bank_code = "0002".into();
    let profile = BankProfile {
        validate_codes: false,
        ..BankProfile::default()
    };
    assert!(debit::write_request(&req, &profile).is_ok());
}

#[test]
fn transfer_hostile_input() {
    let good = transfer::write_request(&transfer_request(), &BankProfile::default()).unwrap();
    let mut bytes = good.clone();
    rec(&mut bytes, 4)[1..7].copy_from_slice(b"000003");
    let p = problems(transfer::read_request(&bytes, &TransferCheck::default()).unwrap_err());
    assert_eq!((p[0].record, p[0].field.as_ref()), (4, "total_count"));
    let check = TransferCheck {
        consignor_code: Some("0000000001".into()),
    };
    let p = problems(transfer::read_request(&good, &check).unwrap_err());
    assert!(matches!(p[0].kind, ProblemKind::WrongOwner { .. }));
    let mut bytes = good.clone();
    rec(&mut bytes, 2)[111] = b'5';
    let p = problems(transfer::read_request(&bytes, &TransferCheck::default()).unwrap_err());
    assert_eq!(p[0].field, "transfer_kind");
    let mut dup = transfer_request();
    dup.records[1].edi_info = None;
    dup.records[1].customer_code_1 = "123".into();
    let p = problems(transfer::write_request(&dup, &BankProfile::default()).unwrap_err());
    assert!(matches!(p[0].kind, ProblemKind::Duplicate { first: 1 }));
}

#[test]
fn huge_file_is_refused_before_reading() {
    let dir = std::env::temp_dir().join(format!("nagare-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.dat");
    let f = std::fs::File::create(&path).unwrap();
    // A sparse 2 GiB file: no data blocks are written.
    f.set_len(2 * 1024 * 1024 * 1024).unwrap();
    drop(f);
    let err = nagare_steps::formats::read_file(&path, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, FormatError::TooLarge { size, limit } if size == 2 << 30 && limit == 256 << 20),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // A stream of unknown size stops one byte past the limit.
    let limits = Limits { max_bytes: 1_000 };
    let err = nagare_steps::formats::read_limited(std::io::repeat(b'2'), &limits).unwrap_err();
    assert!(matches!(err, FormatError::TooLarge { size: 1_001, .. }));
    let ok = nagare_steps::formats::read_limited(&b"abc"[..], &limits).unwrap();
    assert_eq!(ok, b"abc");
}
