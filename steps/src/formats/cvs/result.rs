//! コンビニ収納 payment result files (速報 / 確報 / 取消), keyed by the 44-digit barcode.
//!
//! There is no public cross-vendor format: each 収納代行業者 ships its own. Readers
//! therefore implement [`PaymentResultReader`], and each vendor is one small adapter that
//! turns its file into [`PaymentResult`]s; the checks common to every vendor (barcode
//! check digit, amount equal to the barcode's, duplicates, unknown barcodes) live in
//! [`check_results`]. [`NagareCsv`] is our documented CSV layout (docs/formats/cvs.md).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::barcode::{Barcode, DEFAULT_MAX_AMOUNT_YEN};
use crate::formats::csv_layout::{
    self, Column, ColumnKind, CsvLayout, CsvOptions, FieldValue, Record,
};
use crate::formats::error::{FormatError, Position, Problem, ProblemKind, finish};
use crate::formats::text::TextEncoding;

/// Which report a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// 速報: the store accepted the payment (money not yet remitted).
    Preliminary,
    /// 確報: confirmed, remitted with the settlement.
    Confirmed,
    /// 取消: an earlier 速報 was cancelled.
    Cancelled,
}

impl ResultKind {
    fn code(self) -> &'static str {
        match self {
            Self::Preliminary => "1",
            Self::Confirmed => "2",
            Self::Cancelled => "3",
        }
    }

    fn from_code(s: &str) -> Option<Self> {
        match s {
            "1" => Some(Self::Preliminary),
            "2" => Some(Self::Confirmed),
            "3" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// One payment reported by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentResult {
    /// 速報 / 確報 / 取消.
    pub kind: ResultKind,
    /// 収納日.
    pub paid_on: NaiveDate,
    /// 収納時刻 `HHMM`, when the agent reports it.
    #[serde(default)]
    pub paid_time: Option<String>,
    /// The 44 barcode digits: the key that ties the payment to the 納付書.
    pub barcode: String,
    /// 金額 in yen; must equal the barcode's amount.
    pub amount_yen: i64,
    /// コンビニ本部コード.
    #[serde(default)]
    pub chain_code: Option<String>,
    /// 店舗コード.
    #[serde(default)]
    pub store_code: Option<String>,
    /// 振込予定日 (確報 only).
    #[serde(default)]
    pub remit_on: Option<NaiveDate>,
}

/// What a reader checks beyond the layout.
#[derive(Debug, Clone)]
pub struct ResultCheck {
    /// Barcodes we issued; a result for another barcode is refused. `None` skips it.
    pub known_barcodes: Option<HashSet<String>>,
    /// The agent's amount limit, as used when the barcodes were printed.
    pub max_amount_yen: i64,
}

impl Default for ResultCheck {
    fn default() -> Self {
        Self {
            known_barcodes: None,
            max_amount_yen: DEFAULT_MAX_AMOUNT_YEN,
        }
    }
}

/// A vendor's result file format.
pub trait PaymentResultReader {
    /// The adapter's name (the `cvs-result` kind option).
    fn name(&self) -> &'static str;

    /// Reads a file: every result, or every problem (record numbers are the file's).
    fn read(&self, input: &[u8], check: &ResultCheck) -> Result<Vec<PaymentResult>, FormatError>;
}

/// Checks that apply to every vendor: the barcode is valid, the amount is the barcode's,
/// the same (barcode, kind) does not appear twice, and the barcode is one of ours.
/// `records` pairs each result with its record number in the file.
pub fn check_results(records: &[(usize, PaymentResult)], check: &ResultCheck) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<(&str, ResultKind), usize> = HashMap::new();
    for (no, r) in records {
        let key = Some(r.barcode.clone());
        match Barcode::parse(&r.barcode, *no, check.max_amount_yen) {
            Ok(b) => {
                if b.amount_yen != r.amount_yen {
                    problems.push(
                        Problem::new(
                            *no,
                            "amount_yen",
                            Position::Whole,
                            ProblemKind::InvalidValue(format!(
                                "amount {} differs from the barcode's {}",
                                r.amount_yen, b.amount_yen
                            )),
                        )
                        .with_key(key.clone()),
                    );
                }
            }
            Err(ps) => problems.extend(ps.into_iter().map(|p| {
                let field = format!("barcode.{}", p.field);
                Problem {
                    field: field.into(),
                    ..p
                }
                .with_key(key.clone())
            })),
        }
        if let Some(first) = seen.insert((r.barcode.as_str(), r.kind), *no) {
            problems.push(
                Problem::new(
                    *no,
                    "barcode",
                    Position::Whole,
                    ProblemKind::Duplicate { first },
                )
                .with_key(key.clone()),
            );
        }
        if let Some(known) = &check.known_barcodes
            && !known.contains(&r.barcode)
        {
            problems.push(
                Problem::new(*no, "barcode", Position::Whole, ProblemKind::UnknownKey)
                    .with_key(key.clone()),
            );
        }
    }
    problems
}

/// Our CSV layout for result files (docs/formats/cvs.md). It follows the column order of
/// a public 収納代行業者 test fixture, with codes 1/2/3 for 速報/確報/取消.
pub const NAGARE_CSV_LAYOUT: CsvLayout = CsvLayout {
    kind: "cvs-result",
    title: "コンビニ収納結果",
    direction: "収納代行業者 → municipal_office",
    columns: &[
        Column::req(
            "kind",
            "種別",
            ColumnKind::Code(&[("1", "速報"), ("2", "確報"), ("3", "取消")]),
        ),
        Column::req("paid_on", "収納日", ColumnKind::Date),
        Column::opt(
            "paid_time",
            "収納時刻",
            ColumnKind::Digits { min: 4, max: 4 },
        ),
        Column::req(
            "barcode",
            "バーコード情報",
            ColumnKind::Digits { min: 44, max: 44 },
        ),
        Column::req("amount_yen", "金額", ColumnKind::Amount { signed: false }),
        Column::opt(
            "chain_code",
            "コンビニ本部コード",
            ColumnKind::Text { max_chars: 10 },
        ),
        Column::opt(
            "store_code",
            "コンビニ店舗コード",
            ColumnKind::Text { max_chars: 10 },
        ),
        Column::opt("remit_on", "振込予定日", ColumnKind::Date),
    ],
    // Duplicates are checked on (barcode, kind) by check_results, with its own message.
    key: &[],
};

/// The adapter for [`NAGARE_CSV_LAYOUT`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NagareCsv {
    /// File encoding.
    pub encoding: TextEncoding,
}

fn opt_text(r: &Record, name: &str) -> Option<String> {
    r.text(name).map(str::to_owned)
}

impl NagareCsv {
    /// Writes results in this layout (for tests and for re-creating a file by hand).
    pub fn write(&self, results: &[PaymentResult]) -> Result<Vec<u8>, FormatError> {
        let text = |s: &Option<String>| s.clone().map_or(FieldValue::Null, FieldValue::Text);
        let date = |d: Option<NaiveDate>| d.map_or(FieldValue::Null, FieldValue::Date);
        let records: Vec<Record> = results
            .iter()
            .map(|r| {
                let mut m = std::collections::BTreeMap::new();
                m.insert("kind".into(), FieldValue::Text(r.kind.code().into()));
                m.insert("paid_on".into(), FieldValue::Date(r.paid_on));
                m.insert("paid_time".into(), text(&r.paid_time));
                m.insert("barcode".into(), FieldValue::Text(r.barcode.clone()));
                m.insert("amount_yen".into(), FieldValue::Int(r.amount_yen));
                m.insert("chain_code".into(), text(&r.chain_code));
                m.insert("store_code".into(), text(&r.store_code));
                m.insert("remit_on".into(), date(r.remit_on));
                Record(m)
            })
            .collect();
        csv_layout::write(
            &NAGARE_CSV_LAYOUT,
            &records,
            &CsvOptions {
                encoding: self.encoding,
            },
        )
    }
}

impl PaymentResultReader for NagareCsv {
    fn name(&self) -> &'static str {
        "nagare-csv"
    }

    fn read(&self, input: &[u8], check: &ResultCheck) -> Result<Vec<PaymentResult>, FormatError> {
        let opts = CsvOptions {
            encoding: self.encoding,
        };
        let records = csv_layout::read(&NAGARE_CSV_LAYOUT, input, &opts)?;
        // Row numbers: the header is row 1, and the CSV reader only returns complete
        // rows, so data row i is row i + 2 unless a cell spans lines (then the numbers
        // in csv_layout's own errors are exact, and these are an approximation).
        let numbered: Vec<(usize, PaymentResult)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                Some((
                    i + 2,
                    PaymentResult {
                        kind: ResultKind::from_code(r.text("kind")?)?,
                        paid_on: r.date("paid_on")?,
                        paid_time: opt_text(r, "paid_time"),
                        barcode: r.text("barcode")?.to_owned(),
                        amount_yen: r.int("amount_yen")?,
                        chain_code: opt_text(r, "chain_code"),
                        store_code: opt_text(r, "store_code"),
                        remit_on: r.date("remit_on"),
                    },
                ))
            })
            .collect();
        let problems = check_results(&numbered, check);
        finish(numbered.into_iter().map(|(_, r)| r).collect(), problems)
    }
}
