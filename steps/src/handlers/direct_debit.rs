//! 4.3 収納消込（口座振替）: the debit request we send, the bank's 振替結果 read back into
//! receipts, 口座振替不能通知書, 再振替 and 納付書 for what could not be debited.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::NaiveDate;
use nagare_engine::runtime::Handler;
use nagare_engine::runtime::{HandlerContext, HandlerError};
use nagare_engine::store::{Db, Param};
use serde_json::{Value, json};

use super::assessment::postal;
use super::common::{
    self, HandlerSettings, Office, OutFile, claim_letter, date, fetch, inbound_file, letter_sent,
    permanent, produce_file, text,
};
use super::sql::{self, Row};
use crate::domain::calendar::add_days;
use crate::formats::zengin::debit::{
    DebitCheck, DebitRecord, DebitRequest, DebitResultCode, normalize_customer_number, read_result,
    write_request,
};
use crate::formats::zengin::{AccountType, BankProfile, NewCode, ZenginHeader};

/// A debit request file as written.
#[derive(Clone, Debug)]
pub struct DebitFile {
    pub request_no: String,
    pub file_name: String,
    pub content: Vec<u8>,
    pub records: i64,
    pub total_yen: i64,
}

/// The 顧客番号 of an installment: its ledger id, zero-filled; the bank returns it unchanged,
/// which is how a result finds its installment.
pub fn customer_no(installment_id: i64) -> String {
    normalize_customer_number(&installment_id.to_string())
}

/// The profile our bank files use: the standard one, with bank and branch names filled in
/// from the code table.
pub fn bank_profile() -> BankProfile {
    BankProfile {
        fill_bank_names: true,
        ..BankProfile::default()
    }
}

/// Rows: installment id, amount, bank, branch, account type, account number, holder kana.
async fn write_debit_file(
    db: &mut Db<'_>,
    office: &Office,
    request_no: &str,
    round: i64,
    debit_date: NaiveDate,
    rows: &[Row],
) -> Result<DebitFile, HandlerError> {
    let mut records = Vec::with_capacity(rows.len());
    let mut total = 0;
    for r in rows {
        let (installment, amount) = (r.int(0), r.int(1));
        let customer = customer_no(installment);
        sql::execute(
            db,
            "INSERT INTO debit_requests (request_no, customer_no, installment_id, amount_yen, debit_date, round) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_no, customer_no) DO NOTHING",
            &[
                text(request_no),
                text(customer.clone()),
                Param::Int(installment),
                Param::Int(amount),
                text(debit_date.to_string()),
                Param::Int(round),
            ],
        )
        .await?;
        total += amount;
        records.push(DebitRecord {
            bank_code: r.text(2),
            bank_name: String::new(),
            branch_code: r.text(3),
            branch_name: String::new(),
            account_type: u8::try_from(r.int(4))
                .ok()
                .and_then(AccountType::from_code)
                .unwrap_or(AccountType::Ordinary),
            account_number: r.text(5),
            payer_name: r.text(6),
            amount_yen: amount,
            new_code: NewCode::Other,
            customer_number: customer,
        });
    }
    let request = DebitRequest {
        header: ZenginHeader {
            consignor_code: office.consignor_code.clone(),
            consignor_name: office.consignor_name.clone(),
            date: debit_date.format("%m%d").to_string(),
            bank_code: office.bank_code.clone(),
            bank_name: String::new(),
            branch_code: office.branch_code.clone(),
            branch_name: String::new(),
            account_type: AccountType::Ordinary,
            account_number: office.account_number.clone(),
        },
        records,
    };
    let content =
        write_request(&request, &bank_profile()).map_err(|e| permanent("口座振替依頼データ", e))?;
    Ok(DebitFile {
        request_no: request_no.to_owned(),
        file_name: format!("口座振替依頼_{request_no}.txt"),
        content,
        records: i64::try_from(rows.len()).unwrap_or(i64::MAX),
        total_yen: total,
    })
}

/// Writes the debit request of one period: every 口座振替 installment of the period with
/// something left to pay, and records what was asked under `request_no`.
///
/// # Errors
/// A store error, or a permanent error when the file cannot be written (an unknown bank
/// code, a name outside the 全銀 characters).
pub async fn request_period_debits(
    db: &mut Db<'_>,
    office: &Office,
    fiscal_year: i32,
    period: i64,
    request_no: &str,
    debit_date: NaiveDate,
) -> Result<DebitFile, HandlerError> {
    let rows = sql::fetch(
        db,
        "SELECT i.id, CAST(i.amount_yen - COALESCE((SELECT SUM(r.amount_yen) FROM receipts r WHERE r.installment_id = i.id), 0) AS BIGINT), \
         b.bank_code, b.branch_code, b.account_type, b.account_number, b.holder_kana \
         FROM installments i JOIN bank_accounts b ON b.addressee_no = i.addressee_no \
         WHERE i.fiscal_year = $1 AND i.period = $2 AND i.collection_method = 'direct_debit' ORDER BY i.id",
        &[Param::Int(i64::from(fiscal_year)), Param::Int(period)],
    )
    .await?;
    let rows: Vec<Row> = rows.into_iter().filter(|r| r.int(1) > 0).collect();
    write_debit_file(db, office, request_no, 1, debit_date, &rows).await
}

fn request_no(ctx: &HandlerContext<'_>) -> Result<String, HandlerError> {
    match ctx.get("debit_request_no") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(HandlerError::Permanent(
            "data field `debit_request_no` is missing".into(),
        )),
    }
}

fn round(ctx: &HandlerContext<'_>) -> i64 {
    common::data_int(ctx, "debit_round").unwrap_or(1)
}

/// 001 口座振替依頼結果取込: reads the bank's 振替結果 (data `debit_result_data` names the
/// received file) with `formats::zengin`. All or nothing: a result for a customer we did not
/// ask, an amount that differs, a missing result, or any format problem stops the step and
/// nothing is recorded. Each 振替済 (code 0) becomes a receipt dated the debit day.
pub struct ImportResults;

#[async_trait]
impl Handler for ImportResults {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let request_no = request_no(ctx)?;
        let (_, file_name, bytes) = inbound_file(ctx, "debit_result_data").await?;
        let asked: HashMap<String, (i64, i64, String)> = fetch(
            ctx,
            "SELECT customer_no, installment_id, amount_yen, debit_date FROM debit_requests WHERE request_no = $1",
            &[text(request_no.clone())],
        )
        .await?
        .into_iter()
        .map(|r| (r.text(0), (r.int(1), r.int(2), r.text(3))))
        .collect();
        if asked.is_empty() {
            return Err(HandlerError::Permanent(format!(
                "no debit was requested under {request_no}"
            )));
        }
        let check = DebitCheck {
            consignor_code: Some(s.office.consignor_code.clone()),
            known_customers: Some(asked.keys().cloned().collect::<HashSet<_>>()),
        };
        let result = read_result(&bytes, &check)
            .map_err(|e| permanent(&format!("振替結果 {file_name}"), e))?;
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        for (i, rec) in result.records.iter().enumerate() {
            let customer = normalize_customer_number(&rec.record.customer_number);
            match asked.get(&customer) {
                Some((_, amount, _)) if *amount != rec.record.amount_yen => problems.push(format!(
                    "record {}: amount {} differs from the {} yen asked",
                    i + 1,
                    rec.record.amount_yen,
                    amount
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "record {}: customer {customer} was not asked",
                    i + 1
                )),
            }
            if !seen.insert(customer.clone()) {
                problems.push(format!(
                    "record {}: customer {customer} appears twice",
                    i + 1
                ));
            }
        }
        let missing = asked.keys().filter(|k| !seen.contains(*k)).count();
        if missing > 0 {
            problems.push(format!("{missing} requested debit(s) have no result"));
        }
        if !problems.is_empty() {
            let n = problems.len();
            problems.truncate(10);
            return Err(HandlerError::Permanent(format!(
                "振替結果 {file_name}: {n} problem(s), nothing recorded: {}",
                problems.join("; ")
            )));
        }
        let item = ctx.item_id();
        let (mut ok, mut ok_yen, mut failed, mut failed_yen) = (0, 0_i64, 0, 0_i64);
        for rec in &result.records {
            let customer = normalize_customer_number(&rec.record.customer_number);
            let (installment, amount, debit_date) = &asked[&customer];
            ctx.execute(
                "UPDATE debit_requests SET result_code = $1 WHERE request_no = $2 AND customer_no = $3",
                &[
                    Param::Int(i64::from(rec.result.code())),
                    text(request_no.clone()),
                    text(customer.clone()),
                ],
            )
            .await?;
            if rec.result.is_debited() {
                ctx.execute(
                    "INSERT INTO receipts (installment_id, paid_on, amount_yen, source, reference, item_id) \
                     VALUES ($1, $2, $3, 'direct_debit', $4, $5) ON CONFLICT (source, reference) DO NOTHING",
                    &[
                        Param::Int(*installment),
                        text(debit_date.clone()),
                        Param::Int(*amount),
                        text(format!("{request_no}/{customer}")),
                        Param::Int(item),
                    ],
                )
                .await?;
                ok += 1;
                ok_yen += amount;
            } else {
                failed += 1;
                failed_yen += amount;
            }
        }
        ctx.set(
            "debit_import",
            json!({"file_name": file_name, "records": result.records.len(),
                   "debited": ok, "debited_yen": ok_yen, "failed": failed, "failed_yen": failed_yen}),
        );
        Ok(())
    }
}

/// 002 口座振替依頼結果確認: every request has its result and every 振替済 its receipt;
/// sets `debit_result` (領収済 when nothing failed) for the flow's decision and
/// `retry_debit` when failures may be asked again (up to the office's 再振替 rounds).
pub struct ConfirmResults;

#[async_trait]
impl Handler for ConfirmResults {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let request_no = request_no(ctx)?;
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN q.result_code IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN q.result_code = 0 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN q.result_code <> 0 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN q.result_code <> 0 THEN q.amount_yen ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN q.result_code = 0 AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.source = 'direct_debit' \
               AND r.reference = q.request_no || '/' || q.customer_no) THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM debit_requests q WHERE q.request_no = $1",
            &[text(request_no.clone())],
        )
        .await?;
        let r = rows.first().cloned().unwrap_or(Row(Vec::new()));
        let (total, open, debited, failed, failed_yen, no_receipt) =
            (r.int(0), r.int(1), r.int(2), r.int(3), r.int(4), r.int(5));
        if open > 0 || no_receipt > 0 {
            return Err(HandlerError::Permanent(format!(
                "{request_no}: {open} of {total} requests have no result, {no_receipt} debits no receipt"
            )));
        }
        let round = round(ctx);
        ctx.set(
            "debit_result",
            json!(if failed == 0 {
                "領収済"
            } else {
                "口座振替不能"
            }),
        );
        ctx.set(
            "retry_debit",
            json!(failed > 0 && round <= s.office.redebit_rounds),
        );
        ctx.set(
            "debit_check",
            json!({"requests": total, "debited": debited, "failed": failed, "failed_yen": failed_yen, "round": round}),
        );
        Ok(())
    }
}

/// Failed debits of the item's request with the person and installment.
async fn failures(
    ctx: &mut HandlerContext<'_>,
    request_no: &str,
) -> Result<Vec<Row>, HandlerError> {
    fetch(
        ctx,
        "SELECT q.customer_no, q.installment_id, q.amount_yen, q.debit_date, q.result_code, \
         i.fiscal_year, i.period, i.due_date, p.addressee_no, p.name_kanji, p.postal_code, p.address \
         FROM debit_requests q JOIN installments i ON i.id = q.installment_id \
         JOIN insured_persons p ON p.addressee_no = i.addressee_no \
         WHERE q.request_no = $1 AND q.result_code <> 0 ORDER BY q.customer_no",
        &[text(request_no)],
    )
    .await
}

/// The day a failed debit is asked again: ten days on, moved to a business day.
fn redebit_date(s: &HandlerSettings, today: NaiveDate) -> Result<NaiveDate, HandlerError> {
    let day = add_days(today, 10).map_err(|e| permanent("再振替日", e))?;
    s.municipal
        .business_calendar()
        .next_business_day(day)
        .map_err(|e| permanent("再振替日", e))
}

/// 003 口座振替不能通知書作成: one notice per failed debit, saying why (the bank's result
/// code) and whether it will be debited again or a 納付書 follows.
pub struct CreateFailureNotices;

#[async_trait]
impl Handler for CreateFailureNotices {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let notices = common::notices()?;
        let request_no = request_no(ctx)?;
        let today = ctx.today();
        let redebit = ctx
            .get("retry_debit")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let redebit_on = redebit_date(&s, today)?;
        let municipality = common::municipality_json(&s);
        let mut letters = 0;
        for r in failures(ctx, &request_no).await? {
            let key = format!("{request_no}/{}", r.text(0));
            if !claim_letter(ctx, "debit_failure_notice", &key).await? {
                continue;
            }
            let reason = u8::try_from(r.int(4))
                .ok()
                .and_then(DebitResultCode::from_code)
                .map_or("その他", DebitResultCode::meaning_ja);
            let data = json!({
                "municipality": municipality,
                "issued_on": today.to_string(),
                "recipient": {"postal_code": postal(&r.text(10)), "address": r.text(11), "name": r.text(9)},
                "addressee_no": r.text(8),
                "fiscal_year": r.int(5), "period": r.int(6), "due_date": r.text(7),
                "amount": r.int(2), "debit_date": r.text(3), "reason": reason,
                "redebit": redebit, "redebit_date": redebit_on.to_string(),
            });
            let letter = notices
                .render("debit_failure_notice.txt.j2", &data)
                .map_err(|e| permanent("口座振替不能通知書", e))?;
            let id = ctx
                .outbox(
                    "debit_failure_notice",
                    Some(&r.text(8)),
                    json!({"template": "debit_failure_notice.txt.j2", "addressee_no": r.text(8),
                           "installment_id": r.int(1), "text": letter}),
                )
                .await?;
            letter_sent(ctx, "debit_failure_notice", &key, id).await?;
            letters += 1;
        }
        ctx.set("debit_failure_notice", json!({"letters": letters}));
        Ok(())
    }
}

/// 005 口座再振替依頼: asks the bank again for the failed debits, as a new request whose
/// number the flow then waits for.
pub struct RequestRetry;

#[async_trait]
impl Handler for RequestRetry {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let old = request_no(ctx)?;
        let round = round(ctx) + 1;
        let base = old.split("-R").next().unwrap_or(&old).to_owned();
        let new_no = format!("{base}-R{round}");
        let debit_on = redebit_date(&s, ctx.today())?;
        let rows = fetch(
            ctx,
            "SELECT q.installment_id, q.amount_yen, b.bank_code, b.branch_code, b.account_type, b.account_number, b.holder_kana \
             FROM debit_requests q JOIN installments i ON i.id = q.installment_id \
             JOIN bank_accounts b ON b.addressee_no = i.addressee_no \
             WHERE q.request_no = $1 AND q.result_code <> 0 ORDER BY q.installment_id",
            &[text(old.clone())],
        )
        .await?;
        let file = {
            let mut db = ctx.db().await?;
            write_debit_file(&mut db, &s.office, &new_no, round, debit_on, &rows).await?
        };
        produce_file(
            ctx,
            OutFile {
                document: "debit_request_data",
                recipient: "bank",
                file_name: file.file_name,
                content: file.content,
                records: file.records,
                total_yen: file.total_yen,
            },
        )
        .await?;
        ctx.set("debit_request_no", json!(new_no));
        ctx.set("debit_round", json!(round));
        ctx.set("debit_date", json!(debit_on.to_string()));
        Ok(())
    }
}

/// 004 口座振替不能納付書出力: a 納付書 for each debit that failed for good.
pub struct PrintFailurePaymentSlips;

#[async_trait]
impl Handler for PrintFailurePaymentSlips {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let notices = common::notices()?;
        let request_no = request_no(ctx)?;
        let municipality = common::municipality_json(&s);
        let (mut slips, mut total) = (0, 0_i64);
        for r in failures(ctx, &request_no).await? {
            let key = format!("{request_no}/{}", r.text(0));
            if !claim_letter(ctx, "payment_slip", &key).await? {
                continue;
            }
            let due = date(&r.text(7))?;
            let data = json!({
                "municipality": municipality,
                "recipient": {"name": r.text(9)},
                "addressee_no": r.text(8),
                "fiscal_year": r.int(5), "period": r.int(6), "due_date": due.to_string(),
                "amount": r.int(2),
            });
            let slip = notices
                .render("payment_slip.txt.j2", &data)
                .map_err(|e| permanent("納付書", e))?;
            let id = ctx
                .outbox(
                    "payment_slip",
                    Some(&r.text(8)),
                    json!({"template": "payment_slip.txt.j2", "addressee_no": r.text(8),
                           "installment_id": r.int(1), "amount_yen": r.int(2), "text": slip}),
                )
                .await?;
            letter_sent(ctx, "payment_slip", &key, id).await?;
            slips += 1;
            total += r.int(2);
        }
        ctx.set("payment_slip", json!({"slips": slips, "total_yen": total}));
        // What the 4.2 収納消込（自主納付） flow called next needs: the slips are paid at banks
        // and convenience stores, whose 収納 data will quote the slip batch number.
        ctx.set("payment_channel", json!("金融機関・コンビニ"));
        ctx.set("payment_slip_no", json!(request_no));
        Ok(())
    }
}
