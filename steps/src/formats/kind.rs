//! One entry point per file kind name (`zengin-debit`, `union-receipt` …): read a file to
//! JSON, or write a file from JSON. The command line (`nagare file`) and the fuzz targets
//! use this, so every kind is reachable the same way.

use std::collections::HashSet;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::csv_layout::{self, CsvOptions};
use super::cvs::barcode::{self, Barcode, DEFAULT_MAX_AMOUNT_YEN};
use super::cvs::result::{NagareCsv, PaymentResult, PaymentResultReader, ResultCheck};
use super::error::FormatError;
use super::pension::{self, PensionCheck};
use super::text::TextEncoding;
use super::union;
use super::zengin::BankProfile;
use super::zengin::debit::{self, DebitCheck};
use super::zengin::transfer::{self, TransferCheck};

/// Options shared by all kinds; each kind uses the ones that apply to it.
#[derive(Debug, Clone)]
pub struct KindOptions {
    /// Encoding of CSV kinds (`union-*`, `cvs-result`).
    pub encoding: TextEncoding,
    /// Expected 委託者コード (全銀 kinds).
    pub consignor_code: Option<String>,
    /// Expected 市町村コード (pension kinds, 5 digits).
    pub municipality_code: Option<String>,
    /// Keys we issued (顧客番号 for `zengin-debit-result`, barcodes for `cvs-result`).
    pub known_keys: Option<HashSet<String>>,
    /// Output profile of the bank (全銀 and pension writers use its record style).
    pub profile: BankProfile,
    /// Convenience-store amount limit.
    pub max_amount_yen: i64,
}

impl Default for KindOptions {
    fn default() -> Self {
        Self {
            encoding: TextEncoding::Utf8,
            consignor_code: None,
            municipality_code: None,
            known_keys: None,
            profile: BankProfile::default(),
            max_amount_yen: DEFAULT_MAX_AMOUNT_YEN,
        }
    }
}

/// Why a kind could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KindError {
    /// The kind name is not known.
    #[error("unknown file kind {0:?}; known kinds: {known}", known = names().join(", "))]
    UnknownKind(String),
    /// The input JSON does not have the shape of the kind's records.
    #[error("input JSON does not match the {kind} record shape: {message}")]
    Json {
        /// The kind.
        kind: String,
        /// serde's message (names the field, never a value).
        message: String,
    },
    /// The file or the records break the layout.
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// Every kind with its Japanese title.
pub fn all() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("zengin-debit", "口座振替依頼 (全銀 種別91)"),
        ("zengin-debit-result", "口座振替結果 (全銀 種別91)"),
        ("zengin-transfer", "総合振込 (全銀 種別21)"),
        ("cvs-barcode", "コンビニ収納バーコード (GS1-128 AI 91)"),
        ("cvs-result", "コンビニ収納結果 (速報/確報/取消)"),
    ];
    v.extend(pension::layout::KINDS.iter().map(|k| (k.kind, k.title)));
    v.extend(union::all().iter().map(|l| (l.kind, l.title)));
    v
}

/// Every kind name.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|(k, _)| k).collect()
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    // Our record types serialize to plain JSON (strings, integers, maps); this cannot
    // fail, and a Null would show up in tests rather than crash staff's command.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn from_json<T: DeserializeOwned>(kind: &str, v: &serde_json::Value) -> Result<T, KindError> {
    T::deserialize(v).map_err(|e| KindError::Json {
        kind: kind.to_owned(),
        message: e.to_string(),
    })
}

/// Reads a file of `kind` and returns its records as JSON; all-or-nothing.
pub fn read_to_json(
    kind: &str,
    input: &[u8],
    opts: &KindOptions,
) -> Result<serde_json::Value, KindError> {
    let debit_check = || DebitCheck {
        consignor_code: opts.consignor_code.clone(),
        known_customers: opts.known_keys.clone(),
    };
    Ok(match kind {
        "zengin-debit" => to_json(&debit::read_request(input, &debit_check())?),
        "zengin-debit-result" => {
            let r = debit::read_result(input, &debit_check())?;
            serde_json::json!({
                "header": to_json(&r.header),
                "records": to_json(&r.records),
                "totals": to_json(&r.totals()),
            })
        }
        "zengin-transfer" => to_json(&transfer::read_request(
            input,
            &TransferCheck {
                consignor_code: opts.consignor_code.clone(),
            },
        )?),
        "cvs-barcode" => to_json(&barcode::read_list(input, opts.max_amount_yen)?),
        "cvs-result" => {
            let check = ResultCheck {
                known_barcodes: opts.known_keys.clone(),
                max_amount_yen: opts.max_amount_yen,
            };
            to_json(
                &NagareCsv {
                    encoding: opts.encoding,
                }
                .read(input, &check)?,
            )
        }
        _ => {
            if let Some(k) = pension::kind(kind) {
                let check = PensionCheck {
                    municipality_code: opts.municipality_code.clone(),
                };
                to_json(&pension::read(k, input, &check)?)
            } else if let Some(layout) = union::layout(kind) {
                let records = union::read(
                    layout,
                    input,
                    &CsvOptions {
                        encoding: opts.encoding,
                    },
                )?;
                serde_json::json!({ "records": to_json(&records) })
            } else {
                return Err(KindError::UnknownKind(kind.to_owned()));
            }
        }
    })
}

/// Writes a file of `kind` from JSON in the shape [`read_to_json`] returns.
pub fn write_from_json(
    kind: &str,
    json: &serde_json::Value,
    opts: &KindOptions,
) -> Result<Vec<u8>, KindError> {
    Ok(match kind {
        "zengin-debit" => debit::write_request(&from_json(kind, json)?, &opts.profile)?,
        "zengin-debit-result" => {
            // `totals` as printed by `show` is accepted and ignored: it is recomputed.
            let mut v = json.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("totals");
            }
            debit::write_result(&from_json(kind, &v)?, &opts.profile)?
        }
        "zengin-transfer" => transfer::write_request(&from_json(kind, json)?, &opts.profile)?,
        "cvs-barcode" => {
            let list: Vec<Barcode> = from_json(kind, json)?;
            barcode::write_list(&list, opts.max_amount_yen)?
        }
        "cvs-result" => {
            let list: Vec<PaymentResult> = from_json(kind, json)?;
            NagareCsv {
                encoding: opts.encoding,
            }
            .write(&list)?
        }
        _ => {
            if let Some(k) = pension::kind(kind) {
                let file = pension::file_from_json(json)?;
                pension::write(k, &file, opts.profile.style)?
            } else if let Some(layout) = union::layout(kind) {
                let rows = json
                    .get("records")
                    .and_then(serde_json::Value::as_array)
                    .ok_or_else(|| KindError::Json {
                        kind: kind.to_owned(),
                        message: "expected {\"records\": [...]}".into(),
                    })?;
                let records = csv_layout::records_from_json(layout, rows)?;
                union::write(
                    layout,
                    &records,
                    &CsvOptions {
                        encoding: opts.encoding,
                    },
                )?
            } else {
                return Err(KindError::UnknownKind(kind.to_owned()));
            }
        }
    })
}
