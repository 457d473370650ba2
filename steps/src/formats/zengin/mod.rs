//! 全銀協 (Zengin) 120-byte bank files: 預金口座振替 (種別 91) requests and results, and
//! 総合振込 (種別 21) for refunds.
//!
//! Layouts, field by field with sources, are in `docs/formats/zengin.md`. Shared here:
//! the header record (identical in 91 and 21), the record-order check, the per-bank
//! output profile and the enums used by both kinds.

pub mod bank_codes;
pub mod debit;
pub mod kana;
pub mod transfer;

use serde::{Deserialize, Serialize};

use super::error::{Position, Problem, ProblemKind};
use super::fixed::{Field, FieldKind, FieldReader, FieldWriter, RecordStyle, show_byte};
use bank_codes::{BankDirectory, CodeError, NAME_BYTES};
use kana::{ZenginCharset, to_zengin, to_zengin_truncated};

/// Length of every 全銀 record.
pub const RECORD_LEN: usize = 120;

/// Header record (データ区分 1), the same for 種別 91 and 21.
pub const HEADER: &[Field] = &[
    Field::new("data_kind", "データ区分", 1, 1, FieldKind::Constant(b"1")),
    Field::new("kind_code", "種別コード", 2, 2, FieldKind::Digits),
    Field::new("code_division", "コード区分", 4, 1, FieldKind::Digits),
    Field::new(
        "consignor_code",
        "委託者コード/振込依頼人コード",
        5,
        10,
        FieldKind::Digits,
    ),
    Field::new(
        "consignor_name",
        "委託者名/振込依頼人名",
        15,
        40,
        FieldKind::Text,
    ),
    Field::new("date", "引落日/振込指定日 (MMDD)", 55, 4, FieldKind::Digits),
    Field::new(
        "bank_code",
        "取引銀行番号/仕向銀行番号",
        59,
        4,
        FieldKind::Digits,
    ),
    Field::new(
        "bank_name",
        "取引銀行名/仕向銀行名",
        63,
        15,
        FieldKind::Text,
    ),
    Field::new(
        "branch_code",
        "取引支店番号/仕向支店番号",
        78,
        3,
        FieldKind::Digits,
    ),
    Field::new(
        "branch_name",
        "取引支店名/仕向支店名",
        81,
        15,
        FieldKind::Text,
    ),
    Field::new("account_type", "預金種目(委託者)", 96, 1, FieldKind::Digits),
    Field::new(
        "account_number",
        "口座番号(委託者)",
        97,
        7,
        FieldKind::Digits,
    ),
    Field::new("filler", "ダミー", 104, 17, FieldKind::Filler),
];

/// End record (データ区分 9).
pub const END: &[Field] = &[
    Field::new("data_kind", "データ区分", 1, 1, FieldKind::Constant(b"9")),
    Field::new("filler", "ダミー", 2, 119, FieldKind::Filler),
];

pub(crate) const H_KIND: &Field = &HEADER[1];
pub(crate) const H_CODE_DIVISION: &Field = &HEADER[2];
pub(crate) const H_CONSIGNOR_CODE: &Field = &HEADER[3];
pub(crate) const H_CONSIGNOR_NAME: &Field = &HEADER[4];
pub(crate) const H_DATE: &Field = &HEADER[5];
pub(crate) const H_BANK_CODE: &Field = &HEADER[6];
pub(crate) const H_BANK_NAME: &Field = &HEADER[7];
pub(crate) const H_BRANCH_CODE: &Field = &HEADER[8];
pub(crate) const H_BRANCH_NAME: &Field = &HEADER[9];
pub(crate) const H_ACCOUNT_TYPE: &Field = &HEADER[10];
pub(crate) const H_ACCOUNT_NUMBER: &Field = &HEADER[11];

/// 預金種目.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// 1 普通預金.
    Ordinary,
    /// 2 当座預金.
    Current,
    /// 3 納税準備預金 (口座振替 only).
    TaxReserve,
    /// 4 貯蓄預金 (総合振込 only).
    Savings,
    /// 9 その他.
    Other,
}

impl AccountType {
    /// The code written in the file.
    pub fn code(self) -> u8 {
        match self {
            Self::Ordinary => 1,
            Self::Current => 2,
            Self::TaxReserve => 3,
            Self::Savings => 4,
            Self::Other => 9,
        }
    }

    /// Parses the code written in the file.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Ordinary,
            2 => Self::Current,
            3 => Self::TaxReserve,
            4 => Self::Savings,
            9 => Self::Other,
            _ => return None,
        })
    }
}

/// 新規コード.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewCode {
    /// 0 その他.
    #[default]
    Other,
    /// 1 第1回引落分 / 新規.
    First,
    /// 2 変更分 (bank, branch, account type or number changed).
    Changed,
}

impl NewCode {
    /// The code written in the file.
    pub fn code(self) -> u8 {
        match self {
            Self::Other => 0,
            Self::First => 1,
            Self::Changed => 2,
        }
    }

    /// Parses the code written in the file.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Other,
            1 => Self::First,
            2 => Self::Changed,
            _ => return None,
        })
    }
}

/// How files for one bank are written; configured per bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankProfile {
    /// Line endings and EOF byte.
    #[serde(default)]
    pub style: RecordStyle,
    /// Symbols this bank accepts beyond the 全銀 base set.
    #[serde(default)]
    pub charset: ZenginCharset,
    /// Refuse bank/branch codes that are not in the committed data set.
    #[serde(default = "yes")]
    pub validate_codes: bool,
    /// Fill empty bank and branch names from the data set.
    #[serde(default)]
    pub fill_bank_names: bool,
}

fn yes() -> bool {
    true
}

impl Default for BankProfile {
    fn default() -> Self {
        Self {
            style: RecordStyle::default(),
            charset: ZenginCharset::standard(),
            validate_codes: true,
            fill_bank_names: false,
        }
    }
}

/// The header record of a 全銀 file (委託者 for 91, 振込依頼人 for 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenginHeader {
    /// 委託者コード / 振込依頼人コード: 10 digits assigned by the bank.
    pub consignor_code: String,
    /// 委託者名 / 振込依頼人名: kana, converted to the 全銀 set on write (≤ 40 bytes).
    pub consignor_name: String,
    /// 引落日 / 振込指定日 as `MMDD`; the format has no year.
    pub date: String,
    /// 取引銀行番号 / 仕向銀行番号 (4 digits).
    pub bank_code: String,
    /// 取引銀行名 (optional at most banks).
    #[serde(default)]
    pub bank_name: String,
    /// 取引支店番号 (3 digits).
    pub branch_code: String,
    /// 取引支店名 (optional).
    #[serde(default)]
    pub branch_name: String,
    /// 預金種目 of the consignor's account.
    pub account_type: AccountType,
    /// 口座番号 of the consignor's account (7 digits).
    pub account_number: String,
}

/// Checks a `MMDD` date (29 February allowed: the year is not in the file).
pub(crate) fn valid_mmdd(s: &str) -> bool {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (m, d) = (s[..2].parse::<u32>(), s[2..].parse::<u32>());
    matches!((m, d), (Ok(m), Ok(d)) if chrono::NaiveDate::from_ymd_opt(2000, m, d).is_some())
}

/// Reads a one-digit field as a code.
pub(crate) fn code_digit(r: &mut FieldReader<'_>, f: &Field) -> Option<u8> {
    r.digits(f).and_then(|d| d.parse::<u8>().ok())
}

pub(crate) fn read_account_type(r: &mut FieldReader<'_>, f: &Field) -> Option<AccountType> {
    let code = code_digit(r, f)?;
    let t = AccountType::from_code(code);
    if t.is_none() {
        r.report(
            f,
            ProblemKind::UnknownCode {
                found: code.to_string(),
            },
        );
    }
    t
}

pub(crate) fn read_new_code(r: &mut FieldReader<'_>, f: &Field) -> Option<NewCode> {
    let code = code_digit(r, f)?;
    let t = NewCode::from_code(code);
    if t.is_none() {
        r.report(
            f,
            ProblemKind::UnknownCode {
                found: code.to_string(),
            },
        );
    }
    t
}

/// Reads the header; `kind_code` is `"91"` or `"21"`.
pub(crate) fn read_header(
    rec: &[u8],
    no: usize,
    kind_code: &str,
    expected_consignor: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<ZenginHeader> {
    let mut r = FieldReader::new(rec, no, problems);
    r.check_fixed_parts(HEADER);
    if let Some(k) = r.digits(H_KIND)
        && k != kind_code
    {
        r.report(H_KIND, ProblemKind::UnknownCode { found: k });
    }
    if let Some(c) = r.digits(H_CODE_DIVISION)
        && c != "0"
    {
        // 1 is EBCDIC, used only by host-era banks; we have no table for its kana.
        r.report(
            H_CODE_DIVISION,
            ProblemKind::InvalidValue(format!("コード区分 {c} is not supported; only 0 (JIS) is")),
        );
    }
    let consignor_code = r.digits(H_CONSIGNOR_CODE);
    if let (Some(found), Some(expected)) = (&consignor_code, expected_consignor)
        && found != expected
    {
        r.report(
            H_CONSIGNOR_CODE,
            ProblemKind::WrongOwner {
                expected: format!("委託者 {expected}"),
                found: format!("委託者 {found}"),
            },
        );
    }
    let consignor_name = r.text(H_CONSIGNOR_NAME);
    let date = r.digits(H_DATE);
    if let Some(d) = &date
        && !valid_mmdd(d)
    {
        r.report(
            H_DATE,
            ProblemKind::InvalidValue("not a valid MMDD date".into()),
        );
    }
    let bank_code = r.digits(H_BANK_CODE);
    let bank_name = r.text(H_BANK_NAME);
    let branch_code = r.digits(H_BRANCH_CODE);
    let branch_name = r.text(H_BRANCH_NAME);
    let account_type = read_account_type(&mut r, H_ACCOUNT_TYPE);
    let account_number = r.digits(H_ACCOUNT_NUMBER);
    Some(ZenginHeader {
        consignor_code: consignor_code?,
        consignor_name: consignor_name?,
        date: date?,
        bank_code: bank_code?,
        bank_name: bank_name?,
        branch_code: branch_code?,
        branch_name: branch_name?,
        account_type: account_type?,
        account_number: account_number?,
    })
}

/// Writes a bank/branch code pair and their names, validating against the data set.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_bank(
    w: &mut FieldWriter<'_>,
    profile: &BankProfile,
    fields: [&Field; 4],
    bank_code: &str,
    bank_name: &str,
    branch_code: &str,
    branch_name: &str,
) {
    let [f_bank, f_bank_name, f_branch, f_branch_name] = fields;
    w.exact_digits(f_bank, bank_code);
    w.exact_digits(f_branch, branch_code);
    let dir = BankDirectory::embedded();
    let found = dir.validate(bank_code, branch_code);
    if profile.validate_codes {
        match &found {
            Err(CodeError::UnknownBank(_)) => {
                w.report(
                    f_bank,
                    ProblemKind::InvalidValue("unknown bank code".into()),
                );
            }
            Err(CodeError::UnknownBranch { .. }) => {
                w.report(
                    f_branch,
                    ProblemKind::InvalidValue("unknown branch code for this bank".into()),
                );
            }
            Ok(_) => {}
        }
    }
    let (bank_name, branch_name) = match (&found, profile.fill_bank_names) {
        (Ok((b, br)), true) => (
            if bank_name.is_empty() {
                b.zengin_name().unwrap_or_default()
            } else {
                bank_name.to_owned()
            },
            if branch_name.is_empty() {
                br.zengin_name().unwrap_or_default()
            } else {
                branch_name.to_owned()
            },
        ),
        _ => (bank_name.to_owned(), branch_name.to_owned()),
    };
    write_bank_name(w, profile, f_bank_name, &bank_name);
    write_bank_name(w, profile, f_branch_name, &branch_name);
}

fn write_bank_name(w: &mut FieldWriter<'_>, profile: &BankProfile, f: &Field, name: &str) {
    match to_zengin_truncated(name, &profile.charset, NAME_BYTES) {
        Ok(s) => w.text(f, &s),
        Err(e) => w.report(
            f,
            ProblemKind::Unrepresentable {
                ch: e.ch,
                charset: "the 全銀 character set",
            },
        ),
    }
}

/// Converts a name (person or consignor) and writes it; a name that does not fit or
/// cannot be represented is an error, never cut or replaced.
pub(crate) fn write_name(w: &mut FieldWriter<'_>, profile: &BankProfile, f: &Field, name: &str) {
    match to_zengin(name, &profile.charset) {
        Ok(s) if s.is_empty() => w.report(f, ProblemKind::Missing("name")),
        Ok(s) => w.text(f, &s),
        Err(e) => w.report(
            f,
            ProblemKind::Unrepresentable {
                ch: e.ch,
                charset: "the 全銀 character set",
            },
        ),
    }
}

/// Writes the header record.
pub(crate) fn write_header(
    h: &ZenginHeader,
    kind_code: &str,
    profile: &BankProfile,
    problems: &mut Vec<Problem>,
) -> Vec<u8> {
    let start = problems.len();
    let mut w = FieldWriter::new(RECORD_LEN, 0, None, problems);
    w.fixed_parts(HEADER);
    w.exact_digits(H_KIND, kind_code);
    w.exact_digits(H_CODE_DIVISION, "0");
    w.exact_digits(H_CONSIGNOR_CODE, &h.consignor_code);
    write_name(&mut w, profile, H_CONSIGNOR_NAME, &h.consignor_name);
    if valid_mmdd(&h.date) {
        w.exact_digits(H_DATE, &h.date);
    } else {
        w.report(
            H_DATE,
            ProblemKind::InvalidValue("expected a valid MMDD date".into()),
        );
    }
    // The consignor's own account is at a bank we have a contract with, so it is
    // validated like any other; its names are optional.
    write_bank(
        &mut w,
        profile,
        [H_BANK_CODE, H_BANK_NAME, H_BRANCH_CODE, H_BRANCH_NAME],
        &h.bank_code,
        &h.bank_name,
        &h.branch_code,
        &h.branch_name,
    );
    w.exact_digits(H_ACCOUNT_TYPE, &h.account_type.code().to_string());
    w.digits(H_ACCOUNT_NUMBER, &h.account_number);
    let rec = w.finish();
    // Header problems are not tied to an input record: name them `header.<field>`.
    for p in &mut problems[start..] {
        p.field = format!("header.{}", p.field).into();
    }
    rec
}

/// Writes the end record.
pub(crate) fn end_record() -> Vec<u8> {
    let mut rec = vec![b' '; RECORD_LEN];
    rec[0] = b'9';
    rec
}

/// Records of one file sorted into their sections, with record numbers (1-based).
pub(crate) struct Sections<'a> {
    pub header: Option<(usize, &'a [u8])>,
    pub data: Vec<(usize, &'a [u8])>,
    pub trailer: Option<(usize, &'a [u8])>,
}

/// Checks the record order header, data*, trailer, end and sorts the records.
///
/// Only one header group is accepted: a file with a second header (a multi-consignor
/// file) is refused, since ours always hold exactly one consignor.
pub(crate) fn sections<'a>(records: &[&'a [u8]], problems: &mut Vec<Problem>) -> Sections<'a> {
    let mut s = Sections {
        header: None,
        data: Vec::new(),
        trailer: None,
    };
    let mut seen_end = false;
    let f = &HEADER[0];
    for (i, rec) in records.iter().enumerate() {
        let no = i + 1;
        let unexpected = |expected: &'static str| {
            Problem::new(
                no,
                f.name,
                f.position(),
                ProblemKind::UnexpectedRecord {
                    found: show_byte(rec[0]),
                    expected,
                },
            )
        };
        if seen_end {
            problems.push(unexpected("nothing after the end record (9)"));
            continue;
        }
        match rec[0] {
            b'1' if s.header.is_none() && no == 1 => s.header = Some((no, rec)),
            b'1' => problems.push(unexpected("one header (1) as the first record only")),
            b'2' if s.header.is_some() && s.trailer.is_none() => s.data.push((no, rec)),
            b'2' => problems.push(unexpected("data (2) between header and trailer")),
            b'8' if s.header.is_some() && s.trailer.is_none() => s.trailer = Some((no, rec)),
            b'8' => problems.push(unexpected("one trailer (8) after the data records")),
            b'9' if s.trailer.is_some() => {
                let mut r = FieldReader::new(rec, no, problems);
                r.check_fixed_parts(END);
                seen_end = true;
            }
            b'9' => problems.push(unexpected("end (9) after the trailer")),
            other => problems.push(Problem::new(
                no,
                f.name,
                f.position(),
                ProblemKind::UnknownRecordType {
                    found: show_byte(other),
                },
            )),
        }
    }
    if s.header.is_none() {
        problems.push(Problem::file(ProblemKind::Missing("header record (1)")));
    }
    if s.trailer.is_none() {
        problems.push(Problem::file(ProblemKind::Missing("trailer record (8)")));
    }
    if !seen_end {
        problems.push(Problem::file(ProblemKind::Missing("end record (9)")));
    }
    s
}

/// Reports a trailer total that does not match.
pub(crate) fn check_total(
    r: &mut FieldReader<'_>,
    f: &Field,
    declared: Option<i64>,
    computed: i64,
) {
    if let Some(declared) = declared
        && declared != computed
    {
        r.report(f, ProblemKind::TotalMismatch { declared, computed });
    }
}

/// Position of a whole record, for problems not tied to one field.
pub(crate) fn whole(no: usize, field: &'static str, kind: ProblemKind) -> Problem {
    Problem::new(no, field, Position::Whole, kind)
}

/// Sample data shared by the unit tests of the 全銀 modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::debit::{DebitRecord, DebitRequest};
    use super::*;

    pub(crate) fn sample_header() -> ZenginHeader {
        ZenginHeader {
            consignor_code: "1234567890".into(),
            consignor_name: "ナガレシ コウキコウレイシヤイリヨウ".into(),
            date: "0627".into(),
            bank_code: "0001".into(),
            bank_name: "ﾐｽﾞﾎ".into(),
            branch_code: "001".into(),
            branch_name: "ﾄｳｷﾖｳ".into(),
            account_type: AccountType::Ordinary,
            account_number: "1234567".into(),
        }
    }

    pub(crate) fn sample_request() -> DebitRequest {
        let mut header = sample_header();
        header.consignor_name = "ﾅｶﾞﾚｼ ｺｳｷｺｳﾚｲｼﾔｲﾘﾖｳ".into();
        DebitRequest {
            header,
            records: vec![
                DebitRecord {
                    bank_code: "0005".into(),
                    bank_name: "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".into(),
                    branch_code: "001".into(),
                    branch_name: String::new(),
                    account_type: AccountType::Ordinary,
                    account_number: "7654321".into(),
                    payer_name: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
                    amount_yen: 12_300,
                    new_code: NewCode::First,
                    customer_number: "00000000012025070101".into(),
                },
                DebitRecord {
                    bank_code: "9900".into(),
                    bank_name: String::new(),
                    branch_code: "018".into(),
                    branch_name: String::new(),
                    account_type: AccountType::Ordinary,
                    account_number: "0012345".into(),
                    payer_name: "ｽｽﾞｷ ﾊﾅｺ".into(),
                    amount_yen: 4_500,
                    new_code: NewCode::Other,
                    customer_number: "00000000022025070101".into(),
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fixed::check_layout;

    #[test]
    fn shared_layouts_cover_120_bytes() {
        check_layout(HEADER, RECORD_LEN).unwrap();
        check_layout(END, RECORD_LEN).unwrap();
    }

    #[test]
    fn mmdd() {
        assert!(valid_mmdd("0229"));
        assert!(valid_mmdd("1231"));
        assert!(!valid_mmdd("1301"));
        assert!(!valid_mmdd("0431"));
        assert!(!valid_mmdd("12a1"));
    }
}
