//! Files for the 広域連合 (期割結果情報, 滞納者情報, 収納情報): each "作成" step writes the
//! file with `formats::union` into the outbox, each "確認" step reads it back with the same
//! reader and checks its record count and total against the ledger.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use nagare_engine::runtime::{Handler, HandlerContext, HandlerError};
use nagare_engine::store::Param;
use serde_json::json;

use super::common::{
    HandlerSettings, OutFile, fetch, fiscal_year, permanent, produce_file, produced_file,
};
use super::sql::Row;
use crate::formats::csv_layout::{CsvLayout, CsvOptions, FieldValue, Record};
use crate::formats::union::{self, layouts};

fn t(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

fn d(s: &str) -> Result<FieldValue, HandlerError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(FieldValue::Date)
        .map_err(|_| HandlerError::Permanent(format!("the ledger holds a bad date `{s}`")))
}

fn record(cells: Vec<(&str, FieldValue)>) -> Record {
    Record(
        cells
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Writes records and queues the file.
async fn write_file(
    ctx: &mut HandlerContext<'_>,
    layout: &CsvLayout,
    document: &str,
    file_name: String,
    records: &[Record],
    total: i64,
) -> Result<(), HandlerError> {
    let bytes = union::write(layout, records, &CsvOptions::default())
        .map_err(|e| permanent(layout.title, e))?;
    produce_file(
        ctx,
        OutFile {
            document,
            recipient: "union",
            file_name,
            content: bytes,
            records: i64::try_from(records.len()).unwrap_or(i64::MAX),
            total_yen: total,
        },
    )
    .await?;
    Ok(())
}

/// Reads a produced file back and checks it against the ledger's count and total.
async fn confirm_file(
    ctx: &mut HandlerContext<'_>,
    layout: &CsvLayout,
    document: &str,
    amount_column: &str,
    ledger: (i64, i64),
    report_key: &str,
) -> Result<(), HandlerError> {
    let (file_name, bytes, records, total) = produced_file(ctx, document).await?;
    let read = union::read(layout, &bytes, &CsvOptions::default()).map_err(|e| {
        permanent(
            &format!("{} {file_name} does not read back", layout.title),
            e,
        )
    })?;
    let count = i64::try_from(read.len()).unwrap_or(i64::MAX);
    let sum: i64 = read.iter().filter_map(|r| r.int(amount_column)).sum();
    if (count, sum) != ledger || (records, total) != ledger {
        return Err(HandlerError::Permanent(format!(
            "{} {file_name}: the file holds {count} records totalling {sum} yen, the ledger {} totalling {} yen",
            layout.title, ledger.0, ledger.1
        )));
    }
    ctx.set(
        report_key,
        json!({"file_name": file_name, "records": count, "total_yen": sum}),
    );
    Ok(())
}

const INSTALLMENT_ROWS: &str = "SELECT p.insured_no, i.addressee_no, i.fiscal_year, i.period, i.collection_method, i.due_date, i.amount_yen \
     FROM installments i JOIN insured_persons p ON p.addressee_no = i.addressee_no \
     WHERE i.fiscal_year = $1 ORDER BY i.addressee_no, i.period";

/// 015 広域連合送付期割結果情報作成.
pub struct CreateInstallmentFile;

#[async_trait]
impl Handler for CreateInstallmentFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let fy = fiscal_year(ctx)?;
        let rows = fetch(ctx, INSTALLMENT_ROWS, &[Param::Int(i64::from(fy))]).await?;
        let mut records = Vec::with_capacity(rows.len());
        let mut total = 0;
        for r in &rows {
            // 口座振替 is a way of paying 普通徴収; only 特別徴収 has its own code.
            let method = if r.text(4) == "pension" { "1" } else { "2" };
            total += r.int(6);
            records.push(record(vec![
                ("municipality_code", t(&s.office.municipality_code)),
                ("insured_no", t(r.text(0))),
                ("addressee_no", t(r.text(1))),
                ("fiscal_year", t(r.text(2))),
                ("installment", t(r.text(3))),
                ("collection_method", t(method)),
                ("due_date", d(&r.text(5))?),
                ("amount_yen", FieldValue::Int(r.int(6))),
            ]));
        }
        let name = format!("期割結果情報_{fy}.csv");
        write_file(
            ctx,
            &layouts::INSTALLMENT_SPLIT,
            "installment_result_info",
            name,
            &records,
            total,
        )
        .await
    }
}

/// 016 広域連合送付期割対象者確認.
pub struct ConfirmInstallmentFile;

#[async_trait]
impl Handler for ConfirmInstallmentFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let fy = fiscal_year(ctx)?;
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_yen), 0) AS BIGINT) FROM installments WHERE fiscal_year = $1",
            &[Param::Int(i64::from(fy))],
        )
        .await?;
        let ledger = rows.first().map_or((0, 0), |r| (r.int(0), r.int(1)));
        confirm_file(
            ctx,
            &layouts::INSTALLMENT_SPLIT,
            "installment_result_info",
            "amount_yen",
            ledger,
            "installment_file_check",
        )
        .await
    }
}

const DEMAND_ROWS: &str = "SELECT p.insured_no, i.addressee_no, i.fiscal_year, i.period, i.due_date, d.unpaid_yen, d.sent_on \
     FROM demands d JOIN installments i ON i.id = d.installment_id \
     JOIN insured_persons p ON p.addressee_no = i.addressee_no \
     WHERE d.item_id = $1 ORDER BY i.addressee_no, i.fiscal_year, i.period";

/// 4.7 006 広域連合送付滞納者情報作成: the installments this 督促 run demanded.
pub struct CreateDelinquentFile;

#[async_trait]
impl Handler for CreateDelinquentFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let item = ctx.item_id();
        let rows: Vec<Row> = fetch(ctx, DEMAND_ROWS, &[Param::Int(item)]).await?;
        let mut records = Vec::with_capacity(rows.len());
        let mut total = 0;
        for r in &rows {
            total += r.int(5);
            let sent = match r.opt_text(6) {
                Some(day) => d(&day)?,
                None => FieldValue::Null,
            };
            records.push(record(vec![
                ("municipality_code", t(&s.office.municipality_code)),
                ("insured_no", t(r.text(0))),
                ("addressee_no", t(r.text(1))),
                ("fiscal_year", t(r.text(2))),
                ("installment", t(r.text(3))),
                ("due_date", d(&r.text(4))?),
                ("unpaid_yen", FieldValue::Int(r.int(5))),
                ("demand_date", sent),
            ]));
        }
        let name = format!("滞納者情報_{}_{item}.csv", ctx.today().format("%Y%m%d"));
        write_file(
            ctx,
            &layouts::DELINQUENT,
            "delinquent_info",
            name,
            &records,
            total,
        )
        .await
    }
}

/// 4.7 007 広域連合送付滞納者確認.
pub struct ConfirmDelinquentFile;

#[async_trait]
impl Handler for ConfirmDelinquentFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), CAST(COALESCE(SUM(unpaid_yen), 0) AS BIGINT) FROM demands WHERE item_id = $1",
            &[Param::Int(item)],
        )
        .await?;
        let ledger = rows.first().map_or((0, 0), |r| (r.int(0), r.int(1)));
        confirm_file(
            ctx,
            &layouts::DELINQUENT,
            "delinquent_info",
            "unpaid_yen",
            ledger,
            "delinquent_file_check",
        )
        .await
    }
}

/// 収納区分 of the 収納情報 file for a receipt source.
fn channel(source: &str) -> &'static str {
    match source {
        "counter" => "1",
        "direct_debit" => "2",
        "convenience_store" => "3",
        "pension" => "4",
        "appropriation" => "5",
        _ => "9",
    }
}

/// 広域連合送付収納情報作成 (4.2 / 4.3): the receipts this item recorded.
pub struct CreateReceiptFile;

#[async_trait]
impl Handler for CreateReceiptFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT p.insured_no, i.fiscal_year, i.period, r.paid_on, r.amount_yen, r.source, r.id \
             FROM receipts r JOIN installments i ON i.id = r.installment_id \
             JOIN insured_persons p ON p.addressee_no = i.addressee_no \
             WHERE r.item_id = $1 ORDER BY r.id",
            &[Param::Int(item)],
        )
        .await?;
        let mut records = Vec::with_capacity(rows.len());
        let mut total = 0;
        for r in &rows {
            total += r.int(4);
            records.push(record(vec![
                ("municipality_code", t(&s.office.municipality_code)),
                ("insured_no", t(r.text(0))),
                ("fiscal_year", t(r.text(1))),
                ("installment", t(r.text(2))),
                ("received_on", d(&r.text(3))?),
                ("amount_yen", FieldValue::Int(r.int(4))),
                ("channel", t(channel(&r.text(5)))),
                ("receipt_no", t(r.text(6))),
            ]));
        }
        let name = format!("収納情報_{}_{item}.csv", ctx.today().format("%Y%m%d"));
        write_file(
            ctx,
            &layouts::RECEIPT,
            "receipt_info",
            name,
            &records,
            total,
        )
        .await
    }
}

/// 広域連合送付収納対象者確認 (4.2 / 4.3).
pub struct ConfirmReceiptFile;

#[async_trait]
impl Handler for ConfirmReceiptFile {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_yen), 0) AS BIGINT) FROM receipts WHERE item_id = $1",
            &[Param::Int(item)],
        )
        .await?;
        let ledger = rows.first().map_or((0, 0), |r| (r.int(0), r.int(1)));
        confirm_file(
            ctx,
            &layouts::RECEIPT,
            "receipt_info",
            "amount_yen",
            ledger,
            "receipt_file_check",
        )
        .await
    }
}
