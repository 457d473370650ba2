//! 督促: the latest day to send the 督促状 and the 指定期限 it must carry.
//!
//! Rules (rules.md §4): 地方自治法231条の3① requires a demand "期限を指定して"; the municipal
//! rule sets when it is sent ("納期限後20日以内": 富山市規則6条, 朝来市規則6条) and the
//! 指定期限 ("発付の日から起算して10日を経過した日": 横須賀市規則3条). The 20-day limit is a
//! 訓示規定 (徳島地判S30.12.27), so a late demand is still valid; the result says so rather
//! than refusing it. A 指定期限 on a closed day moves to the next business day when the
//! 休日条例 says so; the 督促手数料 depends on the installment's due date.

use chrono::NaiveDate;
use serde::Serialize;

use super::DomainError;
use super::calendar::{BusinessCalendar, add_days};
use super::money::Yen;
use super::settings::DemandSettings;

/// The deadlines of one demand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DemandDeadline {
    /// The installment's due date.
    pub due_date: NaiveDate,
    /// The latest day to send the 督促状 (due date + `send_within_days`).
    pub send_by: NaiveDate,
    /// The last business day on or before `send_by`, when the office can actually send it.
    pub send_by_business_day: NaiveDate,
    /// The day the 督促状 was (or will be) sent, when given.
    pub sent: Option<NaiveDate>,
    /// Whether it was sent after `send_by` (still valid: the limit is a 訓示規定).
    pub sent_late: Option<bool>,
    /// The 指定期限 as the rule computes it, when the sending day is given.
    pub designated_deadline: Option<NaiveDate>,
    /// The 指定期限 to print, moved off closed days when the settings say so.
    pub designated_deadline_adjusted: Option<NaiveDate>,
    /// The 督促手数料 for this installment.
    pub demand_fee: Yen,
}

/// Computes the deadlines of a demand for an installment.
///
/// # Errors
/// [`DomainError::Invalid`] for a sending day on or before the due date;
/// [`DomainError::OutsideHolidayTable`] when a day cannot be placed in the calendar.
pub fn demand_deadline(
    due_date: NaiveDate,
    sent: Option<NaiveDate>,
    settings: &DemandSettings,
    calendar: &BusinessCalendar<'_>,
) -> Result<DemandDeadline, DomainError> {
    let send_by = add_days(due_date, u64::from(settings.send_within_days))?;
    let send_by_business_day = calendar.previous_business_day(send_by)?;
    let (designated, adjusted) = match sent {
        Some(day) => {
            if day <= due_date {
                return Err(DomainError::Invalid(format!(
                    "a 督促状 can only be sent after the due date {due_date} has passed (got {day})"
                )));
            }
            let designated = add_days(day, u64::from(settings.designated_days))?;
            let adjusted = if settings.designated_to_business_day {
                calendar.next_business_day(designated)?
            } else {
                designated
            };
            (Some(designated), Some(adjusted))
        }
        None => (None, None),
    };
    Ok(DemandDeadline {
        due_date,
        send_by,
        send_by_business_day,
        sent,
        sent_late: sent.map(|day| day > send_by),
        designated_deadline: designated,
        designated_deadline_adjusted: adjusted,
        demand_fee: settings.fee_for(due_date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::Settings;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    // rules.md §4 [der], 横須賀市規則3条
    // (https://www.city.yokosuka.kanagawa.jp/reiki/reiki_honbun/g204RG00001459.html):
    // 督促状 issued 2025-08-20 → 指定期限 2025-08-30 (the 11th day counting the issue day).
    // 2025-08-30 is a Saturday, so a 休日条例 shift gives Monday 9/1.
    #[test]
    fn yokosuka_designated_deadline() {
        let s = Settings::sample();
        let r = demand_deadline(
            d("2025-07-31"),
            Some(d("2025-08-20")),
            &s.demand,
            &s.business_calendar(),
        )
        .unwrap();
        assert_eq!(r.designated_deadline, Some(d("2025-08-30")));
        assert_eq!(r.designated_deadline_adjusted, Some(d("2025-09-01")));
        assert_eq!(r.sent_late, Some(false));
        let mut no_shift = s.demand.clone();
        no_shift.designated_to_business_day = false;
        let r = demand_deadline(
            d("2025-07-31"),
            Some(d("2025-08-20")),
            &no_shift,
            &s.business_calendar(),
        )
        .unwrap();
        assert_eq!(r.designated_deadline_adjusted, Some(d("2025-08-30")));
    }

    // "納期限後20日以内" (富山市規則6条 https://www1.g-reiki.net/toyama/reiki_honbun/r181RG00000845.html):
    // due 2025-07-31 → by 2025-08-20 (a Wednesday); due 2025-09-30 → 10/20 (Monday).
    #[test]
    fn twenty_days_after_the_due_date() {
        let s = Settings::sample();
        let r = demand_deadline(d("2025-07-31"), None, &s.demand, &s.business_calendar()).unwrap();
        assert_eq!(r.send_by, d("2025-08-20"));
        assert_eq!(r.send_by_business_day, d("2025-08-20"));
        assert_eq!(r.demand_fee, Yen(100));
        // due 2025-12-10 → 12/30 falls in the 年末年始 closure → send by 12/26.
        let r = demand_deadline(d("2025-12-10"), None, &s.demand, &s.business_calendar()).unwrap();
        assert_eq!(r.send_by, d("2025-12-30"));
        assert_eq!(r.send_by_business_day, d("2025-12-26"));
    }

    #[test]
    fn late_and_early_demands() {
        let s = Settings::sample();
        let late = demand_deadline(
            d("2025-07-31"),
            Some(d("2025-09-01")),
            &s.demand,
            &s.business_calendar(),
        )
        .unwrap();
        assert_eq!(late.sent_late, Some(true));
        assert!(
            demand_deadline(
                d("2025-07-31"),
                Some(d("2025-07-31")),
                &s.demand,
                &s.business_calendar()
            )
            .is_err()
        );
    }
}
