//! Date rules of flows (`due` on manual tasks, `wait` on timers) evaluated for a work item.
//!
//! Business days (`bd`) skip Saturdays and Sundays only: the calendar with national holidays
//! and the 12/29–1/3 closure is written in `steps` and is not yet wired in here.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde_json::Value;

use super::model::Data;
use crate::flow::{DateBase, DateRule, PeriodUnit};

/// Returns the date a rule gives for an item that entered the node on `entered`.
/// Which days the office works, for `bd` (business day) periods. The engine itself knows
/// only weekends ([`WeekendsOnly`]); the office's calendar (national holidays, 年末年始,
/// closure days of the municipality's ordinance) belongs to the domain crate, and the
/// program that knows the municipality's settings hands it to the runtime
/// (`Runtime::with_calendar`).
pub trait OfficeCalendar: Send + Sync {
    /// Whether the office works on `date`; an error when the calendar does not cover the
    /// date (a holiday table ends somewhere), which fails the step instead of guessing.
    fn is_business_day(&self, date: NaiveDate) -> Result<bool, String>;
}

/// Monday to Friday are business days; nothing else is known.
#[derive(Clone, Copy, Debug, Default)]
pub struct WeekendsOnly;

impl OfficeCalendar for WeekendsOnly {
    fn is_business_day(&self, date: NaiveDate) -> Result<bool, String> {
        Ok(!matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
    }
}

pub fn resolve(
    rule: &DateRule,
    data: &Data,
    entered: NaiveDate,
    calendar: &dyn OfficeCalendar,
) -> Result<NaiveDate, String> {
    match rule {
        DateRule::Until { field } => date_field(data, field),
        DateRule::After { amount, unit, from } => {
            let base = match from {
                DateBase::Entered => entered,
                DateBase::Field(field) => date_field(data, field)?,
            };
            add(base, *amount, *unit, calendar)?
                .ok_or_else(|| format!("the date {base} plus {amount} {unit:?} is out of range"))
        }
    }
}

fn date_field(data: &Data, field: &str) -> Result<NaiveDate, String> {
    match data.get(field) {
        Some(Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("data field `{field}` is not a date (YYYY-MM-DD)")),
        Some(_) => Err(format!("data field `{field}` is not a date (YYYY-MM-DD)")),
        None => Err(format!(
            "data field `{field}` is missing; it should hold a date"
        )),
    }
}

fn add(
    base: NaiveDate,
    amount: u32,
    unit: PeriodUnit,
    calendar: &dyn OfficeCalendar,
) -> Result<Option<NaiveDate>, String> {
    Ok(match unit {
        PeriodUnit::Days => base.checked_add_days(Days::new(u64::from(amount))),
        PeriodUnit::Months => base.checked_add_months(Months::new(amount)),
        PeriodUnit::BusinessDays => {
            let mut date = base;
            let mut left = amount;
            while left > 0 {
                let Some(next) = date.succ_opt() else {
                    return Ok(None);
                };
                date = next;
                if calendar.is_business_day(date)? {
                    left -= 1;
                }
            }
            Some(date)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn data(v: Value) -> Data {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn periods_after_a_field_or_the_entry() {
        let rule = DateRule::After {
            amount: 20,
            unit: PeriodUnit::Days,
            from: DateBase::Field("due_date".into()),
        };
        assert_eq!(
            resolve(
                &rule,
                &data(json!({"due_date": "2026-05-01"})),
                d("2026-01-01"),
                &WeekendsOnly
            ),
            Ok(d("2026-05-21"))
        );
        let rule = DateRule::After {
            amount: 1,
            unit: PeriodUnit::Months,
            from: DateBase::Entered,
        };
        assert_eq!(
            resolve(&rule, &Data::new(), d("2026-01-31"), &WeekendsOnly),
            Ok(d("2026-02-28"))
        );
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2026-11-27 is a Friday.
        let rule = DateRule::After {
            amount: 3,
            unit: PeriodUnit::BusinessDays,
            from: DateBase::Entered,
        };
        assert_eq!(
            resolve(&rule, &Data::new(), d("2026-11-27"), &WeekendsOnly),
            Ok(d("2026-12-02"))
        );
    }

    /// A calendar that knows one holiday and ends on a given day.
    struct Office {
        holiday: NaiveDate,
        covered_until: NaiveDate,
    }

    impl OfficeCalendar for Office {
        fn is_business_day(&self, date: NaiveDate) -> Result<bool, String> {
            if date > self.covered_until {
                return Err(format!("the calendar ends before {date}"));
            }
            Ok(date != self.holiday && WeekendsOnly.is_business_day(date)?)
        }
    }

    #[test]
    fn business_days_follow_the_office_calendar() {
        // From Friday 2026-11-20: Monday 11-23 is 勤労感謝の日, so 3 business days end on
        // Thursday 11-26 (weekends only would say Wednesday 11-25).
        let rule = DateRule::After {
            amount: 3,
            unit: PeriodUnit::BusinessDays,
            from: DateBase::Entered,
        };
        let office = Office {
            holiday: d("2026-11-23"),
            covered_until: d("2026-12-31"),
        };
        assert_eq!(
            resolve(&rule, &Data::new(), d("2026-11-20"), &WeekendsOnly),
            Ok(d("2026-11-25"))
        );
        assert_eq!(
            resolve(&rule, &Data::new(), d("2026-11-20"), &office),
            Ok(d("2026-11-26"))
        );
        // Past the end of the calendar: an error, not a guess.
        assert!(
            resolve(&rule, &Data::new(), d("2026-12-30"), &office)
                .unwrap_err()
                .contains("calendar ends")
        );
    }

    #[test]
    fn missing_or_malformed_fields_are_errors() {
        let rule = DateRule::Until {
            field: "next".into(),
        };
        assert!(
            resolve(&rule, &Data::new(), d("2026-01-01"), &WeekendsOnly)
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            resolve(
                &rule,
                &data(json!({"next": 3})),
                d("2026-01-01"),
                &WeekendsOnly
            )
            .unwrap_err()
            .contains("not a date")
        );
        assert_eq!(
            resolve(
                &rule,
                &data(json!({"next": "2026-02-03"})),
                d("2026-01-01"),
                &WeekendsOnly
            ),
            Ok(d("2026-02-03"))
        );
    }
}
