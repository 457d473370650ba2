//! 総合振込 (種別 21): the transfer file we send for refunds (還付金口座振込).
//!
//! The refund's key goes into 顧客コード1 (10 digits), which the bank returns on its
//! 振込不能 notices; 顧客コード2 is free for a second reference. EDI情報 (識別表示 `Y`) is
//! read and written for completeness but not used by the refund flow.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{
    AccountType, BankProfile, NewCode, RECORD_LEN, ZenginHeader, check_total, end_record,
    read_account_type, read_header, read_new_code, sections, whole, write_bank, write_header,
    write_name,
};
use crate::formats::error::{FormatError, Problem, ProblemKind, finish};
use crate::formats::fixed::{
    Field, FieldKind, FieldReader, FieldWriter, join_records, split_records,
};

/// Data record (データ区分 2) of 種別 21. Bytes 92–111 hold either 顧客コード1 and 2 or,
/// when 識別表示 is `Y`, EDI情報; the table lists the customer codes, and
/// [`EDI_INFO`] describes the alternative.
pub const DATA: &[Field] = &[
    Field::new("data_kind", "データ区分", 1, 1, FieldKind::Constant(b"2")),
    Field::new("bank_code", "被仕向銀行番号", 2, 4, FieldKind::Digits),
    Field::new("bank_name", "被仕向銀行名", 6, 15, FieldKind::Text),
    Field::new("branch_code", "被仕向支店番号", 21, 3, FieldKind::Digits),
    Field::new("branch_name", "被仕向支店名", 24, 15, FieldKind::Text),
    Field::new(
        "clearing_house_no",
        "手形交換所番号",
        39,
        4,
        FieldKind::Digits,
    ),
    Field::new("account_type", "預金種目", 43, 1, FieldKind::Digits),
    Field::new("account_number", "口座番号", 44, 7, FieldKind::Digits),
    Field::new("recipient_name", "受取人名", 51, 30, FieldKind::Text),
    Field::new("amount_yen", "振込金額", 81, 10, FieldKind::Digits),
    Field::new("new_code", "新規コード", 91, 1, FieldKind::Digits),
    Field::new("customer_code_1", "顧客コード1", 92, 10, FieldKind::Digits),
    Field::new("customer_code_2", "顧客コード2", 102, 10, FieldKind::Digits),
    Field::new("transfer_kind", "振込指定区分", 112, 1, FieldKind::Text),
    Field::new("identification", "識別表示", 113, 1, FieldKind::Text),
    Field::new("filler", "ダミー", 114, 7, FieldKind::Filler),
];

/// EDI情報 (bytes 92–111), used instead of the customer codes when 識別表示 is `Y`.
pub const EDI_INFO: &Field = &Field::new("edi_info", "EDI情報", 92, 20, FieldKind::Text);

/// Trailer record (データ区分 8) of 種別 21.
pub const TRAILER: &[Field] = &[
    Field::new("data_kind", "データ区分", 1, 1, FieldKind::Constant(b"8")),
    Field::new("total_count", "合計件数", 2, 6, FieldKind::Digits),
    Field::new("total_amount_yen", "合計金額", 8, 12, FieldKind::Digits),
    Field::new("filler", "ダミー", 20, 101, FieldKind::Filler),
];

const D_BANK: &Field = &DATA[1];
const D_BANK_NAME: &Field = &DATA[2];
const D_BRANCH: &Field = &DATA[3];
const D_BRANCH_NAME: &Field = &DATA[4];
const D_CLEARING: &Field = &DATA[5];
const D_ACCOUNT_TYPE: &Field = &DATA[6];
const D_ACCOUNT_NUMBER: &Field = &DATA[7];
const D_NAME: &Field = &DATA[8];
const D_AMOUNT: &Field = &DATA[9];
const D_NEW_CODE: &Field = &DATA[10];
const D_CODE1: &Field = &DATA[11];
const D_CODE2: &Field = &DATA[12];
const D_KIND: &Field = &DATA[13];
const D_IDENT: &Field = &DATA[14];

/// 振込指定区分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Blank: the bank's default.
    #[default]
    Unspecified,
    /// 7 電信扱い.
    Telegraphic,
    /// 8 文書扱い.
    Document,
}

impl TransferKind {
    fn to_text(self) -> &'static str {
        match self {
            Self::Unspecified => "",
            Self::Telegraphic => "7",
            Self::Document => "8",
        }
    }

    fn from_text(s: &str) -> Option<Self> {
        match s {
            "" => Some(Self::Unspecified),
            "7" => Some(Self::Telegraphic),
            "8" => Some(Self::Document),
            _ => None,
        }
    }
}

/// One transfer (one refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRecord {
    /// 被仕向銀行番号 (4 digits).
    pub bank_code: String,
    /// 被仕向銀行名 (optional).
    #[serde(default)]
    pub bank_name: String,
    /// 被仕向支店番号 (3 digits).
    pub branch_code: String,
    /// 被仕向支店名 (optional).
    #[serde(default)]
    pub branch_name: String,
    /// 手形交換所番号: unused, written as `0000` when empty; read back empty when it is
    /// `0000` or blank.
    #[serde(default)]
    pub clearing_house_no: String,
    /// 預金種目.
    pub account_type: AccountType,
    /// 口座番号 (up to 7 digits, zero-filled).
    pub account_number: String,
    /// 受取人名: kana; converted to the 全銀 set on write.
    pub recipient_name: String,
    /// 振込金額 in yen.
    pub amount_yen: i64,
    /// 新規コード.
    #[serde(default)]
    pub new_code: NewCode,
    /// 顧客コード1: our refund key, up to 10 digits (zero-filled on write, read back as
    /// 10 digits); empty leaves the field blank.
    #[serde(default)]
    pub customer_code_1: String,
    /// 顧客コード2, up to 10 digits, like 顧客コード1.
    #[serde(default)]
    pub customer_code_2: String,
    /// EDI情報 (≤ 20 characters); when set, the customer codes must be empty.
    #[serde(default)]
    pub edi_info: Option<String>,
    /// 振込指定区分.
    #[serde(default)]
    pub transfer_kind: TransferKind,
}

/// A 総合振込 file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Header (振込依頼人, 振込指定日, the paying account).
    pub header: ZenginHeader,
    /// One record per transfer; the trailer is computed.
    pub records: Vec<TransferRecord>,
}

/// What the reader checks beyond the layout.
#[derive(Debug, Clone, Default)]
pub struct TransferCheck {
    /// Our 振込依頼人コード.
    pub consignor_code: Option<String>,
}

fn read_record(no: usize, rec: &[u8], problems: &mut Vec<Problem>) -> Option<TransferRecord> {
    let mut r = FieldReader::new(rec, no, problems);
    let ident = r.text(D_IDENT);
    let (code1, code2, edi) = if ident.as_deref() == Some("Y") {
        (
            Some(String::new()),
            Some(String::new()),
            r.text(EDI_INFO).map(Some),
        )
    } else {
        if let Some(i) = &ident
            && !i.is_empty()
        {
            r.report(D_IDENT, ProblemKind::UnknownCode { found: i.clone() });
        }
        let c1 = r.digits_or_blank(D_CODE1);
        r.set_key(c1.clone().filter(|c| !c.is_empty()));
        (c1, r.digits_or_blank(D_CODE2), Some(None))
    };
    r.check_fixed_parts(DATA);
    let bank_code = r.digits(D_BANK);
    let bank_name = r.text(D_BANK_NAME);
    let branch_code = r.digits(D_BRANCH);
    let branch_name = r.text(D_BRANCH_NAME);
    let clearing = r
        .digits_or_blank(D_CLEARING)
        .map(|c| if c == "0000" { String::new() } else { c });
    let account_type = read_account_type(&mut r, D_ACCOUNT_TYPE);
    let account_number = r.digits(D_ACCOUNT_NUMBER);
    let recipient_name = r.text(D_NAME);
    let amount_yen = r.number(D_AMOUNT);
    let new_code = read_new_code(&mut r, D_NEW_CODE);
    let kind = r.text(D_KIND).and_then(|k| {
        let t = TransferKind::from_text(&k);
        if t.is_none() {
            r.report(D_KIND, ProblemKind::UnknownCode { found: k });
        }
        t
    });
    Some(TransferRecord {
        bank_code: bank_code?,
        bank_name: bank_name?,
        branch_code: branch_code?,
        branch_name: branch_name?,
        clearing_house_no: clearing?,
        account_type: account_type?,
        account_number: account_number?,
        recipient_name: recipient_name?,
        amount_yen: amount_yen?,
        new_code: new_code?,
        customer_code_1: code1?,
        customer_code_2: code2?,
        edi_info: edi?,
        transfer_kind: kind?,
    })
}

/// Reads a 総合振込 file: layout, record order, totals, consignor, and duplicate
/// 顧客コード1 values.
pub fn read_request(input: &[u8], check: &TransferCheck) -> Result<TransferRequest, FormatError> {
    let mut problems = Vec::new();
    let records = match split_records(input, RECORD_LEN) {
        Ok(r) => r,
        Err(p) => return finish(empty(), p),
    };
    let s = sections(&records, &mut problems);
    let header = s.header.and_then(|(no, rec)| {
        read_header(
            rec,
            no,
            "21",
            check.consignor_code.as_deref(),
            &mut problems,
        )
    });
    let mut out = Vec::with_capacity(s.data.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (no, rec) in &s.data {
        if let Some(r) = read_record(*no, rec, &mut problems) {
            if !r.customer_code_1.is_empty() {
                if let Some(first) = seen.get(&r.customer_code_1) {
                    problems.push(
                        Problem::new(
                            *no,
                            D_CODE1.name,
                            D_CODE1.position(),
                            ProblemKind::Duplicate { first: *first },
                        )
                        .with_key(Some(r.customer_code_1.clone())),
                    );
                } else {
                    seen.insert(r.customer_code_1.clone(), *no);
                }
            }
            out.push(r);
        }
    }
    if s.data.is_empty() && s.header.is_some() {
        problems.push(Problem::file(ProblemKind::Missing("data records (2)")));
    }
    if let Some((no, rec)) = s.trailer
        && out.len() == s.data.len()
    {
        let mut r = FieldReader::new(rec, no, &mut problems);
        r.check_fixed_parts(TRAILER);
        let count = r.number(&TRAILER[1]);
        check_total(&mut r, &TRAILER[1], count, out.len() as i64);
        let amount = r.number(&TRAILER[2]);
        let sum = out
            .iter()
            .map(|t| t.amount_yen)
            .fold(0i64, i64::saturating_add);
        check_total(&mut r, &TRAILER[2], amount, sum);
    }
    finish(
        TransferRequest {
            header: header.unwrap_or_else(|| empty().header),
            records: out,
        },
        problems,
    )
}

fn empty() -> TransferRequest {
    TransferRequest {
        header: ZenginHeader {
            consignor_code: String::new(),
            consignor_name: String::new(),
            date: String::new(),
            bank_code: String::new(),
            bank_name: String::new(),
            branch_code: String::new(),
            branch_name: String::new(),
            account_type: AccountType::Ordinary,
            account_number: String::new(),
        },
        records: Vec::new(),
    }
}

fn write_customer_code(w: &mut FieldWriter<'_>, profile: &BankProfile, f: &Field, v: &str) {
    if v.is_empty() {
        return;
    }
    match super::kana::to_zengin(v, &profile.charset) {
        Ok(s) if s == v => w.text(f, &s),
        // EDI情報 is matched byte for byte by the recipient, so it is never converted:
        // it must already be in the 全銀 set.
        Ok(_) => w.report(
            f,
            ProblemKind::InvalidValue(
                "reference codes must already be upper-case half-width characters".into(),
            ),
        ),
        Err(e) => w.report(
            f,
            ProblemKind::Unrepresentable {
                ch: e.ch,
                charset: "the 全銀 character set",
            },
        ),
    }
}

fn write_record(
    index: usize,
    t: &TransferRecord,
    profile: &BankProfile,
    problems: &mut Vec<Problem>,
) -> Vec<u8> {
    let key = Some(t.customer_code_1.clone()).filter(|k| !k.is_empty());
    let mut w = FieldWriter::new(RECORD_LEN, index + 1, key, problems);
    w.fixed_parts(DATA);
    write_bank(
        &mut w,
        profile,
        [D_BANK, D_BANK_NAME, D_BRANCH, D_BRANCH_NAME],
        &t.bank_code,
        &t.bank_name,
        &t.branch_code,
        &t.branch_name,
    );
    if t.clearing_house_no.is_empty() {
        w.exact_digits(D_CLEARING, "0000");
    } else {
        w.exact_digits(D_CLEARING, &t.clearing_house_no);
    }
    w.exact_digits(D_ACCOUNT_TYPE, &t.account_type.code().to_string());
    w.digits(D_ACCOUNT_NUMBER, &t.account_number);
    write_name(&mut w, profile, D_NAME, &t.recipient_name);
    if t.amount_yen <= 0 || t.amount_yen > super::debit::MAX_AMOUNT_YEN {
        w.report(
            D_AMOUNT,
            ProblemKind::InvalidValue("amount must be 1..=9999999999 yen".into()),
        );
    } else {
        w.number(D_AMOUNT, t.amount_yen);
    }
    w.exact_digits(D_NEW_CODE, &t.new_code.code().to_string());
    match &t.edi_info {
        Some(edi) => {
            if !t.customer_code_1.is_empty() || !t.customer_code_2.is_empty() {
                w.report(
                    EDI_INFO,
                    ProblemKind::InvalidValue(
                        "EDI情報 and 顧客コード share bytes 92-111; set only one".into(),
                    ),
                );
            }
            write_customer_code(&mut w, profile, EDI_INFO, edi);
            w.text(D_IDENT, "Y");
        }
        None => {
            // N(10): right-aligned, zero-filled; left blank when unused.
            for (f, v) in [(D_CODE1, &t.customer_code_1), (D_CODE2, &t.customer_code_2)] {
                if !v.is_empty() {
                    w.digits(f, v);
                }
            }
        }
    }
    w.text(D_KIND, t.transfer_kind.to_text());
    w.finish()
}

/// Writes a 総合振込 file.
pub fn write_request(
    request: &TransferRequest,
    profile: &BankProfile,
) -> Result<Vec<u8>, FormatError> {
    let mut problems = Vec::new();
    if request.records.is_empty() {
        problems.push(Problem::file(ProblemKind::Missing("records to write")));
    }
    let mut out = Vec::with_capacity(request.records.len() + 3);
    out.push(write_header(&request.header, "21", profile, &mut problems));
    let mut seen = HashMap::new();
    let mut total = 0i64;
    for (i, t) in request.records.iter().enumerate() {
        out.push(write_record(i, t, profile, &mut problems));
        total = total.saturating_add(t.amount_yen);
        // Compare as written (zero-filled), so "123" and "0000000123" are the same key.
        let key = format!("{:0>10}", t.customer_code_1);
        if !t.customer_code_1.is_empty()
            && let Some(first) = seen.insert(key.clone(), i + 1)
        {
            problems.push(
                whole(i + 1, "customer_code_1", ProblemKind::Duplicate { first })
                    .with_key(Some(key)),
            );
        }
    }
    let mut w = FieldWriter::new(RECORD_LEN, 0, None, &mut problems);
    w.fixed_parts(TRAILER);
    w.number(&TRAILER[1], request.records.len() as i64);
    w.number(&TRAILER[2], total);
    out.push(w.finish());
    out.push(end_record());
    finish(join_records(&out, profile.style), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fixed::check_layout;

    #[test]
    fn layouts_cover_120_bytes() {
        check_layout(DATA, RECORD_LEN).unwrap();
        check_layout(TRAILER, RECORD_LEN).unwrap();
    }

    #[test]
    fn transfer_kind_codes() {
        for k in [
            TransferKind::Unspecified,
            TransferKind::Telegraphic,
            TransferKind::Document,
        ] {
            assert_eq!(TransferKind::from_text(k.to_text()), Some(k));
        }
        assert_eq!(TransferKind::from_text("9"), None);
    }
}
