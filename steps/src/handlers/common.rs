//! What every handler needs: the settings in the shape the runtime hands them over, the
//! item's fiscal year, files received and produced, and issued-letter bookkeeping.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use nagare_engine::runtime::{HandlerContext, HandlerError};
use nagare_engine::store::{Db, Param};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::sql::{self, Row};
use crate::domain::settings::Settings;
use crate::notices::{Notices, builtin_sources};

/// The office's own particulars: printed on letters and written in file headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    /// 全国地方公共団体コード (6 digits with the check digit).
    pub municipality_code: String,
    /// The division that answers questions (問合せ先).
    pub office: String,
    pub phone: String,
    /// 口座振替: 委託者コード (10 digits) and 委託者名 (kana) agreed with the bank.
    pub consignor_code: String,
    pub consignor_name: String,
    /// The municipality's collecting account (the header of a debit request).
    pub bank_code: String,
    pub branch_code: String,
    pub account_number: String,
    /// How many times a failed debit is asked again (再振替) before a 納付書 is sent.
    pub redebit_rounds: i64,
}

impl Office {
    /// The sample city's particulars (fictitious codes and numbers).
    pub fn sample() -> Self {
        Self {
            municipality_code: "999997".to_owned(),
            office: "保険年金課 後期高齢者医療係".to_owned(),
            phone: "000-000-0000".to_owned(),
            consignor_code: "1234567890".to_owned(),
            consignor_name: "サンプルシ".to_owned(),
            bank_code: "0001".to_owned(),
            branch_code: "001".to_owned(),
            account_number: "1234567".to_owned(),
            redebit_rounds: 1,
        }
    }
}

/// What the binary hands the runtime as settings: `{"municipal": …, "office": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerSettings {
    pub municipal: Settings,
    pub office: Office,
}

impl HandlerSettings {
    /// The sample city: what `nagare calc` also uses when no settings file is given.
    pub fn sample() -> Self {
        Self {
            municipal: Settings::sample(),
            office: Office::sample(),
        }
    }

    /// The JSON value to give `Runtime::with_settings`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads the runtime's settings; without any (a runtime started without a settings
    /// file) the sample city's are used, as `nagare calc` does.
    ///
    /// # Errors
    /// A permanent error when settings are given but do not have this shape.
    pub fn from_ctx(ctx: &HandlerContext<'_>) -> Result<Self, HandlerError> {
        match ctx.settings() {
            Value::Null => Ok(Self::sample()),
            v => serde_json::from_value(v.clone()).map_err(|e| {
                HandlerError::Permanent(format!("the runtime settings cannot be read: {e}"))
            }),
        }
    }
}

/// Turns a domain error into a permanent step failure (bad data does not heal by retrying).
pub fn permanent(what: &str, err: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(format!("{what}: {err}"))
}

/// The fiscal year the item works on: data `fiscal_year` (number or text), else the fiscal
/// year of today.
pub fn fiscal_year(ctx: &HandlerContext<'_>) -> Result<i32, HandlerError> {
    match ctx.get("fiscal_year") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| HandlerError::Permanent("fiscal_year is not a year".into())),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| HandlerError::Permanent(format!("fiscal_year `{s}` is not a year"))),
        Some(_) => Err(HandlerError::Permanent("fiscal_year is not a year".into())),
        None => {
            let today = ctx.today();
            Ok(crate::domain::calendar::fiscal_year(today))
        }
    }
}

/// Returns an integer data field.
pub fn data_int(ctx: &HandlerContext<'_>, key: &str) -> Option<i64> {
    match ctx.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        Value::Object(o) => o.get("id").and_then(Value::as_i64),
        _ => None,
    }
}

/// Runs a query in the step's transaction.
pub async fn fetch(
    ctx: &mut HandlerContext<'_>,
    sql: &'static str,
    params: &[Param],
) -> Result<Vec<Row>, HandlerError> {
    let mut db = ctx.db().await?;
    Ok(sql::fetch(&mut db, sql, params).await?)
}

/// Reads a received file (`inbound_files`) whose id is in data field `document`.
pub async fn inbound_file(
    ctx: &mut HandlerContext<'_>,
    document: &str,
) -> Result<(i64, String, Vec<u8>), HandlerError> {
    let id = data_int(ctx, document).ok_or_else(|| {
        HandlerError::Permanent(format!(
            "data field `{document}` does not name a received file"
        ))
    })?;
    let rows = fetch(
        ctx,
        "SELECT file_name, content_b64 FROM inbound_files WHERE id = $1",
        &[Param::Int(id)],
    )
    .await?;
    let row = rows.first().ok_or_else(|| {
        HandlerError::Permanent(format!("received file {id} ({document}) does not exist"))
    })?;
    let bytes = B64
        .decode(row.text(1))
        .map_err(|e| permanent("received file content", e))?;
    Ok((id, row.text(0), bytes))
}

/// Stores a received file (the bank's or 広域連合's drop) and returns its id; the id goes
/// into the delivery, the content stays here.
pub async fn store_inbound_file(
    db: &mut Db<'_>,
    document: &str,
    file_name: &str,
    content: &[u8],
    received_on: NaiveDate,
) -> Result<i64, nagare_engine::store::StoreError> {
    let rows = sql::fetch(
        db,
        "INSERT INTO inbound_files (document, file_name, content_b64, received_on) \
         VALUES ($1, $2, $3, $4) RETURNING id",
        &[
            Param::Text(document.to_owned()),
            Param::Text(file_name.to_owned()),
            Param::Text(B64.encode(content)),
            Param::Date(received_on),
        ],
    )
    .await?;
    Ok(rows.first().map_or(0, |r| r.int(0)))
}

/// A file this step produced.
pub struct OutFile<'a> {
    pub document: &'a str,
    pub recipient: &'a str,
    pub file_name: String,
    pub content: Vec<u8>,
    pub records: i64,
    pub total_yen: i64,
}

/// Queues a produced file in the outbox, keeps it in `outbound_files` for the confirming
/// step, and records a reference (never the content) under the document id in the data so
/// that the flow's send node carries it.
pub async fn produce_file(
    ctx: &mut HandlerContext<'_>,
    file: OutFile<'_>,
) -> Result<i64, HandlerError> {
    let b64 = B64.encode(&file.content);
    let outbox_id = ctx
        .outbox(
            file.document,
            Some(file.recipient),
            json!({
                "file_name": file.file_name,
                "records": file.records,
                "total_yen": file.total_yen,
                "content_base64": b64,
            }),
        )
        .await?;
    let item = ctx.item_id();
    let rows = fetch(
        ctx,
        "INSERT INTO outbound_files (item_id, document, file_name, content_b64, records, total_yen, outbox_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        &[
            Param::Int(item),
            Param::Text(file.document.to_owned()),
            Param::Text(file.file_name.clone()),
            Param::Text(b64),
            Param::Int(file.records),
            Param::Int(file.total_yen),
            Param::Int(outbox_id),
        ],
    )
    .await?;
    let id = rows.first().map_or(0, |r| r.int(0));
    ctx.set(
        file.document,
        json!({
            "id": id,
            "outbox_id": outbox_id,
            "file_name": file.file_name,
            "records": file.records,
            "total_yen": file.total_yen,
        }),
    );
    Ok(id)
}

/// Reads back a file this item produced: (file name, content, records, total).
pub async fn produced_file(
    ctx: &mut HandlerContext<'_>,
    document: &str,
) -> Result<(String, Vec<u8>, i64, i64), HandlerError> {
    let id = data_int(ctx, document).ok_or_else(|| {
        HandlerError::Permanent(format!("data field `{document}` names no produced file"))
    })?;
    let rows = fetch(
        ctx,
        "SELECT file_name, content_b64, records, total_yen FROM outbound_files WHERE id = $1",
        &[Param::Int(id)],
    )
    .await?;
    let row = rows
        .first()
        .ok_or_else(|| HandlerError::Permanent(format!("produced file {id} does not exist")))?;
    let bytes = B64
        .decode(row.text(1))
        .map_err(|e| permanent("produced file content", e))?;
    Ok((row.text(0), bytes, row.int(2), row.int(3)))
}

/// Records that a letter (document, key) is issued; returns false when it was issued
/// before, so that the caller does not queue it again.
pub async fn claim_letter(
    ctx: &mut HandlerContext<'_>,
    document: &str,
    key: &str,
) -> Result<bool, HandlerError> {
    let item = ctx.item_id();
    let n = ctx
        .execute(
            "INSERT INTO issued_documents (document, doc_key, item_id) VALUES ($1, $2, $3) \
             ON CONFLICT (document, doc_key) DO NOTHING",
            &[
                Param::Text(document.to_owned()),
                Param::Text(key.to_owned()),
                Param::Int(item),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Notes the outbox entry of an issued letter.
pub async fn letter_sent(
    ctx: &mut HandlerContext<'_>,
    document: &str,
    key: &str,
    outbox_id: i64,
) -> Result<(), HandlerError> {
    ctx.execute(
        "UPDATE issued_documents SET outbox_id = $1 WHERE document = $2 AND doc_key = $3",
        &[
            Param::Int(outbox_id),
            Param::Text(document.to_owned()),
            Param::Text(key.to_owned()),
        ],
    )
    .await?;
    Ok(())
}

/// The compiled built-in templates.
pub fn notices() -> Result<Notices, HandlerError> {
    Notices::from_sources(builtin_sources()).map_err(|errs| {
        HandlerError::Permanent(
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// The municipality block printed on letters.
pub fn municipality_json(s: &HandlerSettings) -> Value {
    json!({
        "name": s.municipal.municipality,
        "office": s.office.office,
        "phone": s.office.phone,
    })
}

/// Parses a ledger date.
pub fn date(text: &str) -> Result<NaiveDate, HandlerError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| HandlerError::Permanent(format!("the ledger holds a bad date `{text}`")))
}

/// A ledger text parameter.
pub fn text(s: impl Into<String>) -> Param {
    Param::Text(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The binary hands settings over as JSON; they must come back exactly.
    #[test]
    fn settings_survive_the_json_round_trip() {
        let s = HandlerSettings::sample();
        let back: HandlerSettings = serde_json::from_value(s.to_json()).unwrap();
        assert_eq!(back, s);
    }
}
