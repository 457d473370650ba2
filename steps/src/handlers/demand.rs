//! 4.7 督促: who has not paid installments past their due date, the 督促状 with its 指定期限
//! and 督促手数料, and the record of sending (which renews the prescription period).

use std::collections::HashSet;

use async_trait::async_trait;
use nagare_engine::runtime::{Handler, HandlerContext, HandlerError};
use nagare_engine::store::Param;
use serde_json::json;

use super::assessment::postal;
use super::common::{
    self, HandlerSettings, claim_letter, date, fetch, letter_sent, permanent, text,
};
use crate::domain::calendar::add_days;
use crate::domain::demand::demand_deadline;

/// 001 滞納者把握: installments due before today, not fully paid and not yet demanded.
/// 特別徴収 installments are withheld from pensions and never demanded.
pub struct IdentifyDelinquents;

#[async_trait]
impl Handler for IdentifyDelinquents {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let today = ctx.today();
        let item = ctx.item_id();
        // Unpaid: the amount less its receipts, cast so that it reads as i64 on both databases.
        let rows = fetch(
            ctx,
            "SELECT i.id, CAST(i.amount_yen - COALESCE((SELECT SUM(r.amount_yen) FROM receipts r WHERE r.installment_id = i.id), 0) AS BIGINT), i.addressee_no \
             FROM installments i WHERE i.due_date < $1 AND i.collection_method <> 'pension' \
             AND NOT EXISTS (SELECT 1 FROM demands d WHERE d.installment_id = i.id) ORDER BY i.id",
            &[text(today.to_string())],
        )
        .await?;
        let (mut count, mut total) = (0, 0_i64);
        let mut persons = HashSet::new();
        for r in rows {
            let unpaid = r.int(1);
            if unpaid <= 0 {
                continue;
            }
            let n = ctx
                .execute(
                    "INSERT INTO demand_candidates (item_id, installment_id, unpaid_yen) VALUES ($1, $2, $3) \
                     ON CONFLICT (item_id, installment_id) DO NOTHING",
                    &[Param::Int(item), Param::Int(r.int(0)), Param::Int(unpaid)],
                )
                .await?;
            if n == 1 {
                count += 1;
                total += unpaid;
                persons.insert(r.text(2));
            }
        }
        ctx.set(
            "delinquents",
            json!({"as_of": today.to_string(), "installments": count,
                   "persons": persons.len(), "unpaid_yen": total}),
        );
        Ok(())
    }
}

/// 002 督促・滞納者確認: looks at each candidate again as of today: payments that arrived
/// since are taken off (a paid installment is dropped), the rest is confirmed.
pub struct ConfirmDelinquents;

#[async_trait]
impl Handler for ConfirmDelinquents {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT c.installment_id, c.unpaid_yen, \
             CAST(i.amount_yen - COALESCE((SELECT SUM(r.amount_yen) FROM receipts r WHERE r.installment_id = i.id), 0) AS BIGINT) \
             FROM demand_candidates c JOIN installments i ON i.id = c.installment_id WHERE c.item_id = $1",
            &[Param::Int(item)],
        )
        .await?;
        let (mut confirmed, mut dropped, mut changed, mut total) = (0, 0, 0, 0_i64);
        for r in rows {
            let (id, before, now) = (r.int(0), r.int(1), r.int(2));
            if now <= 0 {
                ctx.execute(
                    "DELETE FROM demand_candidates WHERE item_id = $1 AND installment_id = $2",
                    &[Param::Int(item), Param::Int(id)],
                )
                .await?;
                dropped += 1;
                continue;
            }
            if now != before {
                changed += 1;
            }
            ctx.execute(
                "UPDATE demand_candidates SET unpaid_yen = $1, confirmed = 1 WHERE item_id = $2 AND installment_id = $3",
                &[Param::Int(now), Param::Int(item), Param::Int(id)],
            )
            .await?;
            confirmed += 1;
            total += now;
        }
        ctx.set(
            "delinquent_check",
            json!({"confirmed": confirmed, "paid_since": dropped,
                   "partly_paid_since": changed, "unpaid_yen": total}),
        );
        Ok(())
    }
}

/// 003 督促状・納付書作成: one 督促状 per unpaid installment (a demand is made per 期別),
/// with the 指定期限 and 督促手数料 of `domain::demand`, rendered from
/// `demand_letter.txt.j2`; the 納付書 for unpaid amount plus fee goes with it.
pub struct CreateLetters;

#[async_trait]
impl Handler for CreateLetters {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let notices = common::notices()?;
        let calendar = s.municipal.business_calendar();
        let today = ctx.today();
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT c.installment_id, c.unpaid_yen, i.fiscal_year, i.period, i.due_date, \
             p.addressee_no, p.name_kanji, p.postal_code, p.address \
             FROM demand_candidates c JOIN installments i ON i.id = c.installment_id \
             JOIN insured_persons p ON p.addressee_no = i.addressee_no \
             WHERE c.item_id = $1 AND c.confirmed = 1 ORDER BY p.addressee_no, i.fiscal_year, i.period",
            &[Param::Int(item)],
        )
        .await?;
        let municipality = common::municipality_json(&s);
        let (mut letters, mut unpaid_total, mut fees, mut late, mut before) =
            (0, 0_i64, 0_i64, 0, 0);
        for r in rows {
            let (installment, unpaid, addressee) = (r.int(0), r.int(1), r.text(5));
            let due = date(&r.text(4))?;
            let deadline = demand_deadline(due, Some(today), &s.municipal.demand, &calendar)
                .map_err(|e| permanent(&format!("督促 of installment {installment}"), e))?;
            let designated = deadline
                .designated_deadline_adjusted
                .ok_or_else(|| HandlerError::Permanent("no 指定期限 was computed".into()))?;
            let fee = deadline.demand_fee.0;
            let n = ctx
                .execute(
                    "INSERT INTO demands (installment_id, item_id, unpaid_yen, issued_on, designated_deadline, demand_fee_yen) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (installment_id) DO NOTHING",
                    &[
                        Param::Int(installment),
                        Param::Int(item),
                        Param::Int(unpaid),
                        text(today.to_string()),
                        text(designated.to_string()),
                        Param::Int(fee),
                    ],
                )
                .await?;
            let key = installment.to_string();
            if n == 0 || !claim_letter(ctx, "demand_letter", &key).await? {
                before += 1;
                continue;
            }
            let data = json!({
                "municipality": municipality,
                "issued_on": today.to_string(),
                "recipient": {"postal_code": postal(&r.text(7)), "address": r.text(8), "name": r.text(6)},
                "deadline": designated.to_string(),
                "addressee_no": addressee,
                "installments": [{"fiscal_year": r.int(2), "period": r.int(3),
                                  "due_date": due.to_string(), "unpaid": unpaid}],
                "total_unpaid": unpaid,
                "demand_fee": fee,
            });
            let letter = notices
                .render("demand_letter.txt.j2", &data)
                .map_err(|e| permanent("督促状", e))?;
            let id = ctx
                .outbox(
                    "demand_letter",
                    Some(&addressee),
                    json!({
                        "template": "demand_letter.txt.j2",
                        "addressee_no": addressee,
                        "installment_id": installment,
                        "designated_deadline": designated.to_string(),
                        "demand_fee_yen": fee,
                        "text": letter,
                        "payment_slip": {"amount_yen": unpaid + fee, "pay_by": designated.to_string()},
                    }),
                )
                .await?;
            letter_sent(ctx, "demand_letter", &key, id).await?;
            letters += 1;
            unpaid_total += unpaid;
            fees += fee;
            if deadline.sent_late == Some(true) {
                late += 1;
            }
        }
        ctx.set(
            "demand_letter",
            json!({"letters": letters, "unpaid_yen": unpaid_total, "demand_fees_yen": fees,
                   "sent_after_limit": late, "demanded_before": before}),
        );
        ctx.set("payment_slip", json!({"slips": letters}));
        Ok(())
    }
}

/// 004 督促状・納付書作成対象者確認: every confirmed candidate has its demand and letter, and
/// the amounts agree.
pub struct ConfirmLetterTargets;

#[async_trait]
impl Handler for ConfirmLetterTargets {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let item = ctx.item_id();
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN d.installment_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN d.item_id = c.item_id AND d.unpaid_yen <> c.unpaid_yen THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN d.item_id = c.item_id AND l.outbox_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM demand_candidates c LEFT JOIN demands d ON d.installment_id = c.installment_id \
             LEFT JOIN issued_documents l ON l.document = 'demand_letter' AND l.doc_key = CAST(c.installment_id AS TEXT) \
             WHERE c.item_id = $1 AND c.confirmed = 1",
            &[Param::Int(item)],
        )
        .await?;
        let r = rows.first().cloned().unwrap_or(super::sql::Row(Vec::new()));
        let (targets, missing, differing, unsent) = (r.int(0), r.int(1), r.int(2), r.int(3));
        if missing + differing + unsent > 0 {
            return Err(HandlerError::Permanent(format!(
                "of {targets} targets, {missing} have no demand, {differing} a different amount, {unsent} no letter"
            )));
        }
        let rows = fetch(
            ctx,
            "SELECT COUNT(*), CAST(COALESCE(SUM(unpaid_yen), 0) AS BIGINT), CAST(COALESCE(SUM(demand_fee_yen), 0) AS BIGINT) \
             FROM demands WHERE item_id = $1",
            &[Param::Int(item)],
        )
        .await?;
        let r = rows.first().cloned().unwrap_or(super::sql::Row(Vec::new()));
        ctx.set(
            "letter_check",
            json!({"targets": targets, "demands": r.int(0), "unpaid_yen": r.int(1), "demand_fees_yen": r.int(2)}),
        );
        Ok(())
    }
}

/// 005 督促発送情報登録: records the sending day of this run's letters and the day the
/// 時効の更新 takes effect (sending day + `demand_renewal_days`, 地方税法18条の2①2号).
pub struct RegisterDispatch;

#[async_trait]
impl Handler for RegisterDispatch {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let s = HandlerSettings::from_ctx(ctx)?;
        let today = ctx.today();
        let renewal = add_days(
            today,
            u64::from(s.municipal.prescription.demand_renewal_days),
        )
        .map_err(|e| permanent("時効の更新", e))?;
        let item = ctx.item_id();
        let n = ctx
            .execute(
                "UPDATE demands SET sent_on = $1, renewal_effective = $2 WHERE item_id = $3 AND sent_on IS NULL",
                &[text(today.to_string()), text(renewal.to_string()), Param::Int(item)],
            )
            .await?;
        ctx.set(
            "dispatch",
            json!({"sent_on": today.to_string(), "letters": n, "prescription_renewed_on": renewal.to_string()}),
        );
        Ok(())
    }
}
