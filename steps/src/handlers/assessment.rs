//! 3.4 確定賦課: premiums from the 広域連合 into the ledger, installments, the checks, the
//! 保険料決定通知書兼納入通知書 per person.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use nagare_engine::runtime::{Handler, HandlerContext, HandlerError};
use nagare_engine::store::Param;
use serde_json::{Value, json};

use super::common::{
    self, HandlerSettings, claim_letter, fetch, fiscal_year, inbound_file, letter_sent, permanent,
    text,
};
use crate::domain::Yen;
use crate::domain::installments::{self, SplitRules};
use crate::formats::csv_layout::CsvOptions;
use crate::formats::union::{self, layouts};

/// 005 保険料情報登録: reads the 広域連合's 保険料情報 file (data `premium_info` names the
/// received file) and records each person's annual premium. All or nothing: a record for an
/// unknown person or another fiscal year stops the step before anything is written.
pub struct RegisterPremiums;

#[async_trait]
impl Handler for RegisterPremiums {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let fy = fiscal_year(ctx)?;
        let (file_id, file_name, bytes) = inbound_file(ctx, "premium_info").await?;
        let records = union::read(&layouts::PREMIUM, &bytes, &CsvOptions::default())
            .map_err(|e| permanent(&format!("保険料情報 {file_name}"), e))?;
        let persons: HashMap<String, String> = fetch(
            ctx,
            "SELECT addressee_no, insured_no FROM insured_persons",
            &[],
        )
        .await?
        .into_iter()
        .map(|r| (r.text(0), r.text(1)))
        .collect();
        let mut problems = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let no = i + 1;
            let addressee = r.text("addressee_no").unwrap_or_default();
            match persons.get(addressee) {
                None => problems.push(format!("record {no}: unknown addressee_no {addressee}")),
                Some(insured) if Some(insured.as_str()) != r.text("insured_no") => {
                    problems.push(format!(
                        "record {no}: insured_no does not match addressee_no {addressee}"
                    ));
                }
                Some(_) => {}
            }
            if r.text("fiscal_year") != Some(fy.to_string().as_str()) {
                problems.push(format!("record {no}: fiscal year is not {fy}"));
            }
        }
        if !problems.is_empty() {
            let n = problems.len();
            problems.truncate(10);
            return Err(HandlerError::Permanent(format!(
                "保険料情報 {file_name}: {n} problem(s), nothing registered: {}",
                problems.join("; ")
            )));
        }
        let item = ctx.item_id();
        let mut total = 0_i64;
        for r in &records {
            let annual = r.int("annual_premium_yen").unwrap_or(0);
            let decided = r
                .date("decided_on")
                .map(|d| d.to_string())
                .unwrap_or_default();
            total += annual;
            ctx.execute(
                "INSERT INTO annual_premiums (addressee_no, fiscal_year, annual_yen, decided_on, item_id) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (addressee_no, fiscal_year) DO UPDATE SET annual_yen = excluded.annual_yen, \
                 decided_on = excluded.decided_on, item_id = excluded.item_id",
                &[
                    text(r.text("addressee_no").unwrap_or_default()),
                    Param::Int(i64::from(fy)),
                    Param::Int(annual),
                    text(decided),
                    Param::Int(item),
                ],
            )
            .await?;
        }
        ctx.set(
            "premiums_registered",
            json!({"file": file_id, "records": records.len(), "total_yen": total}),
        );
        Ok(())
    }
}

/// 006 保険料情報更新対象者確認: the ledger now holds what the file said, and who among the
/// insured of the year has no premium.
pub struct ConfirmPremiumTargets;

#[async_trait]
impl Handler for ConfirmPremiumTargets {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let fy = fiscal_year(ctx)?;
        let item = ctx.item_id();
        let expected = ctx
            .get("premiums_registered")
            .cloned()
            .unwrap_or(Value::Null);
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), CAST(COALESCE(SUM(annual_yen), 0) AS BIGINT) FROM annual_premiums \
             WHERE fiscal_year = $1 AND item_id = $2",
            &[Param::Int(i64::from(fy)), Param::Int(item)],
        )
        .await?;
        let (count, total) = rows.first().map_or((0, 0), |r| (r.int(0), r.int(1)));
        let want_count = expected.get("records").and_then(Value::as_i64).unwrap_or(0);
        let want_total = expected
            .get("total_yen")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if count != want_count || total != want_total {
            return Err(HandlerError::Permanent(format!(
                "the ledger holds {count} premiums totalling {total} yen for this run, the file {want_count} totalling {want_total} yen"
            )));
        }
        let fy_start = format!("{fy}-04-01");
        let fy_end = format!("{}-03-31", fy + 1);
        let rows = fetch(
            ctx,
            "SELECT COUNT(*) FROM insured_persons p WHERE p.acquired <= $1 \
             AND (p.lost IS NULL OR p.lost > $2) \
             AND NOT EXISTS (SELECT 1 FROM annual_premiums a WHERE a.addressee_no = p.addressee_no AND a.fiscal_year = $3)",
            &[text(fy_end), text(fy_start), Param::Int(i64::from(fy))],
        )
        .await?;
        let missing = rows.first().map_or(0, |r| r.int(0));
        ctx.set(
            "premium_check",
            json!({"persons": count, "total_yen": total, "insured_without_premium": missing}),
        );
        Ok(())
    }
}

/// 010 期割額算定: splits each annual premium of the year into the municipality's periods
/// with their due dates; 口座振替 where the person has a registered account, else 納付書.
/// A person who already has installments for the year is left alone (changes go through
/// 3.5 異動賦課), so running the step again adds nothing.
pub struct SplitInstallments;

#[async_trait]
impl Handler for SplitInstallments {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let fy = fiscal_year(ctx)?;
        let oc = &s.municipal.ordinary_collection;
        let rules = SplitRules::from(oc);
        let periods = u32::try_from(oc.due_dates.len()).unwrap_or(0);
        let calendar = s.municipal.business_calendar();
        let rows = fetch(
            ctx,
            "SELECT a.addressee_no, a.annual_yen, \
             (SELECT COUNT(*) FROM bank_accounts b WHERE b.addressee_no = a.addressee_no), \
             (SELECT COUNT(*) FROM installments i WHERE i.addressee_no = a.addressee_no AND i.fiscal_year = a.fiscal_year) \
             FROM annual_premiums a WHERE a.fiscal_year = $1 ORDER BY a.addressee_no",
            &[Param::Int(i64::from(fy))],
        )
        .await?;
        let item = ctx.item_id();
        let (mut persons, mut created, mut total, mut debit, mut ordinary, mut skipped) =
            (0, 0, 0_i64, 0, 0, 0);
        for r in rows {
            let (addressee, annual, has_account, existing) =
                (r.text(0), r.int(1), r.int(2) > 0, r.int(3));
            if existing > 0 || annual == 0 {
                skipped += 1;
                continue;
            }
            let split = installments::split(Yen(annual), periods, &rules)
                .map_err(|e| permanent(&format!("期割 of {addressee}"), e))?;
            let due = installments::with_due_dates(&split.amounts, fy, oc, &calendar)
                .map_err(|e| permanent("due dates", e))?;
            let method = if has_account {
                debit += 1;
                "direct_debit"
            } else {
                ordinary += 1;
                "ordinary"
            };
            for d in due {
                ctx.execute(
                    "INSERT INTO installments (addressee_no, fiscal_year, period, due_date, amount_yen, collection_method, item_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (addressee_no, fiscal_year, period) DO NOTHING",
                    &[
                        text(addressee.clone()),
                        Param::Int(i64::from(fy)),
                        Param::Int(i64::from(d.period)),
                        text(d.due_date.to_string()),
                        Param::Int(d.amount.0),
                        text(method),
                        Param::Int(item),
                    ],
                )
                .await?;
                created += 1;
                total += d.amount.0;
            }
            persons += 1;
        }
        ctx.set(
            "installment_split",
            json!({
                "persons": persons, "installments": created, "total_yen": total,
                "direct_debit_persons": debit, "ordinary_persons": ordinary,
                "skipped_persons": skipped,
            }),
        );
        Ok(())
    }
}

/// 011 期割結果確認: for every premium of the year, the installments add up to the annual
/// amount (truncated to the settings' unit), there are as many as the periods, none is
/// negative. Any mismatch stops the flow before notices are printed.
pub struct ConfirmInstallments;

#[async_trait]
impl Handler for ConfirmInstallments {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let fy = fiscal_year(ctx)?;
        let periods = i64::try_from(s.municipal.ordinary_collection.due_dates.len()).unwrap_or(0);
        let unit = s.municipal.ordinary_collection.annual_unit;
        let rows = fetch(
            ctx,
            "SELECT a.addressee_no, a.annual_yen, COUNT(i.id), \
             CAST(COALESCE(SUM(i.amount_yen), 0) AS BIGINT), CAST(COALESCE(MIN(i.amount_yen), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN i.collection_method = 'direct_debit' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM annual_premiums a LEFT JOIN installments i \
             ON i.addressee_no = a.addressee_no AND i.fiscal_year = a.fiscal_year \
             WHERE a.fiscal_year = $1 GROUP BY a.addressee_no, a.annual_yen ORDER BY a.addressee_no",
            &[Param::Int(i64::from(fy))],
        )
        .await?;
        let mut bad = Vec::new();
        let (mut persons, mut count, mut total, mut debit) = (0, 0, 0_i64, 0);
        for r in &rows {
            let (addressee, annual, n, sum, min) =
                (r.text(0), r.int(1), r.int(2), r.int(3), r.int(4));
            let expected = Yen(annual).floor_to(unit).0;
            if annual > 0 && (n != periods || sum != expected || min < 0) {
                bad.push(format!(
                    "{addressee}: {n} installments totalling {sum} yen for an annual {expected} yen"
                ));
            }
            persons += 1;
            count += n;
            total += sum;
            if r.int(5) > 0 {
                debit += 1;
            }
        }
        if !bad.is_empty() {
            let n = bad.len();
            bad.truncate(10);
            return Err(HandlerError::Permanent(format!(
                "{n} person(s) with wrong installments: {}",
                bad.join("; ")
            )));
        }
        ctx.set(
            "installment_check",
            json!({"persons": persons, "installments": count, "total_yen": total,
                   "direct_debit_persons": debit, "ordinary_persons": persons - debit}),
        );
        Ok(())
    }
}

/// Prints a 7-digit postal code as 123-4567.
pub(crate) fn postal(code: &str) -> String {
    if code.len() == 7 {
        format!("{}-{}", &code[..3], &code[3..])
    } else {
        code.to_owned()
    }
}

/// 014 保険料決定（変更）通知書兼納入通知書・納付書作成: one notice per person with
/// installments this year, rendered from `payment_notice.txt.j2` into the outbox.
pub struct CreateDecisionNotices;

#[async_trait]
impl Handler for CreateDecisionNotices {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let fy = fiscal_year(ctx)?;
        let notices = common::notices()?;
        let today = ctx.today();
        let rows = fetch(
            ctx,
            "SELECT i.addressee_no, i.period, i.due_date, i.amount_yen, i.collection_method \
             FROM installments i WHERE i.fiscal_year = $1 AND i.collection_method <> 'pension' \
             ORDER BY i.addressee_no, i.period",
            &[Param::Int(i64::from(fy))],
        )
        .await?;
        let mut by_person: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut debit: HashMap<String, bool> = HashMap::new();
        for r in &rows {
            by_person.entry(r.text(0)).or_default().push(json!({
                "period": r.int(1), "due_date": r.text(2), "amount": r.int(3),
            }));
            debit.insert(r.text(0), r.text(4) == "direct_debit");
        }
        let persons = fetch(
            ctx,
            "SELECT p.addressee_no, p.name_kanji, p.postal_code, p.address FROM insured_persons p \
             WHERE EXISTS (SELECT 1 FROM installments i WHERE i.addressee_no = p.addressee_no AND i.fiscal_year = $1) \
             ORDER BY p.addressee_no",
            &[Param::Int(i64::from(fy))],
        )
        .await?;
        let municipality = common::municipality_json(&s);
        let (mut letters, mut already) = (0, 0);
        for p in persons {
            let addressee = p.text(0);
            let Some(rows) = by_person.remove(&addressee) else {
                continue;
            };
            let key = format!("{fy}:{addressee}");
            if !claim_letter(ctx, "decision_notice", &key).await? {
                already += 1;
                continue;
            }
            let annual: i64 = rows
                .iter()
                .filter_map(|r| r.get("amount").and_then(Value::as_i64))
                .sum();
            let data = json!({
                "municipality": municipality,
                "issued_on": today.to_string(),
                "recipient": {"postal_code": postal(&p.text(2)), "address": p.text(3), "name": p.text(1)},
                "fiscal_year": fy,
                "addressee_no": addressee,
                "annual": annual,
                "installments": rows,
                "direct_debit": debit.get(&addressee).copied().unwrap_or(false),
            });
            let letter = notices
                .render("payment_notice.txt.j2", &data)
                .map_err(|e| permanent("納入通知書", e))?;
            let id = ctx
                .outbox(
                    "decision_notice",
                    Some(&addressee),
                    json!({"template": "payment_notice.txt.j2", "addressee_no": addressee,
                           "fiscal_year": fy, "text": letter}),
                )
                .await?;
            letter_sent(ctx, "decision_notice", &key, id).await?;
            letters += 1;
        }
        ctx.set(
            "decision_notice",
            json!({"letters": letters, "issued_before": already}),
        );
        Ok(())
    }
}
