//! Municipal settings: every choice that the municipality's ordinance or rules make.
//!
//! The 広域連合 sets the premium itself, but the municipality sets the 普通徴収 periods and
//! due dates, rounding units, 督促手数料, the late-fee switch-over and the other values
//! below (rules.md §0). They are read from a YAML file (see `examples/settings/city.yaml`
//! and `docs/calculations.md`); [`Settings::sample`] is the typical city used when no file
//! is given.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::DomainError;
use super::calendar::{self, AnnualPeriod, BusinessCalendar, HolidayTable, MonthDay};
use super::money::Yen;
use super::pension_deduction::Leveling;

mod load;

pub use load::{codes, from_yaml};

/// Every municipal choice the calculators need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The municipality's name, for display only.
    pub municipality: String,
    /// Days the office is closed besides weekends and national holidays.
    pub calendar: CalendarSettings,
    /// 普通徴収: periods, due dates and rounding.
    pub ordinary_collection: OrdinaryCollectionSettings,
    /// 特別徴収: rounding and leveling.
    pub pension_deduction: PensionDeductionSettings,
    /// 月割: rounding of prorated annual amounts.
    pub proration: ProrationSettings,
    /// 延滞金.
    pub late_fee: LateFeeSettings,
    /// 還付加算金.
    pub refund_interest: RefundInterestSettings,
    /// 督促.
    pub demand: DemandSettings,
    /// 時効 and 執行停止.
    pub prescription: PrescriptionSettings,
}

/// Days the office is closed besides weekends and national holidays (休日条例).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSettings {
    /// Stretches closed every year, usually 12/29 to 1/3 (年末年始).
    pub annual_closures: Vec<AnnualPeriod>,
    /// One-off closure dates.
    pub closed_dates: Vec<NaiveDate>,
}

/// The day of the month of a due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DueDay {
    /// A fixed day of the month (瀬戸市: the 10th).
    Day(u32),
    /// The last day of the month (月末).
    EndOfMonth,
}

/// The due date of one 普通徴収 period, as the ordinance states it (before any move for
/// closed days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDateRule {
    /// Month, 1 to 12; January to March belong to the next calendar year of the fiscal year.
    pub month: u32,
    /// Day of the month.
    pub day: DueDay,
}

impl DueDateRule {
    /// Returns the ordinance due date of this period in a fiscal year.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] when the day does not exist in that month.
    pub fn date_in(&self, fiscal_year: i32) -> Result<NaiveDate, DomainError> {
        let year = if self.month >= 4 {
            fiscal_year
        } else {
            fiscal_year + 1
        };
        match self.day {
            DueDay::Day(day) => calendar::ymd(year, self.month, day),
            DueDay::EndOfMonth => calendar::last_day_of_month(year, self.month),
        }
    }

    /// Returns the position of the month in the fiscal year (April = 0, March = 11).
    pub fn fiscal_month_index(&self) -> u32 {
        (self.month + 8) % 12
    }
}

/// Which period takes the remainder of an annual amount split into installments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemainderPeriod {
    /// The first period (瀬戸市, 能美市: "端数は第1期に加算").
    First,
    /// The last period (not seen in the sources, but allowed by some ordinances).
    Last,
}

/// 普通徴収 settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdinaryCollectionSettings {
    /// The due date of each period, first period first.
    pub due_dates: Vec<DueDateRule>,
    /// Unit the annual amount is truncated to (100円未満切捨て).
    pub annual_unit: Yen,
    /// Unit of the periods that do not take the remainder.
    pub installment_unit: Yen,
    /// Which period takes the remainder.
    pub remainder_to: RemainderPeriod,
}

/// 特別徴収 settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionDeductionSettings {
    /// Unit of the deductions that do not take the remainder (12月・2月 in 100円).
    pub unit: Yen,
    /// The leveling variant used when none is asked for explicitly.
    pub leveling: Leveling,
}

/// 月割 settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProrationSettings {
    /// Unit the prorated annual amount is truncated to.
    pub unit: Yen,
}

/// 延滞金 settings (municipal ordinance, modelled on 地方税法).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateFeeSettings {
    /// Months after the due date during which the lower rate applies: 1 or 3.
    pub switch_months: u32,
    /// A principal under this amount bears no late fee (2,000円).
    pub minimum_principal: Yen,
    /// The principal is truncated to this unit (1,000円).
    pub principal_unit: Yen,
    /// A late fee under this amount is not charged (1,000円).
    pub minimum_fee: Yen,
    /// The late fee is truncated to this unit (100円).
    pub fee_unit: Yen,
    /// Whether the fraction of a yen is dropped in each segment before summing
    /// (福岡市, 豊橋市, 矢吹町) rather than only from the total.
    pub truncate_segments: bool,
}

/// 還付加算金 settings (地方税法17条の4 as applied by the municipal rule).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundInterestSettings {
    /// A refund under this amount bears no interest (2,000円).
    pub minimum_amount: Yen,
    /// The refund is truncated to this unit (1,000円).
    pub amount_unit: Yen,
    /// Interest under this amount is not added (1,000円).
    pub minimum_interest: Yen,
    /// Interest is truncated to this unit (100円).
    pub interest_unit: Yen,
    /// Whether a 過納 paid before its due date counts from the due date (17条の4①1号括弧書).
    pub count_from_due_when_paid_early: bool,
    /// Days after a refund notice after which unclaimed days stop counting (17条の4②: 30).
    pub unclaimed_notice_days: u32,
}

/// One 督促手数料 amount and the due dates it applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandFee {
    /// The fee applies to installments due on or after this date (`None`: all of them).
    pub due_from: Option<NaiveDate>,
    /// The fee; 0 where it has been abolished (甲斐市 from 納期限 R6.4.1).
    pub amount: Yen,
}

/// 督促 settings (地方自治法231条の3 and the municipal rule).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandSettings {
    /// The 督促状 is sent within this many days after the due date (20: 富山市, 朝来市).
    pub send_within_days: u32,
    /// The 指定期限 is the day this many days after the sending day counted from it
    /// ("発付の日から起算して10日を経過した日": 10).
    pub designated_days: u32,
    /// Whether a 指定期限 on a closed day moves to the next business day (休日条例).
    pub designated_to_business_day: bool,
    /// The 督促手数料 by due date, oldest rule first.
    pub fees: Vec<DemandFee>,
}

impl DemandSettings {
    /// Returns the 督促手数料 for an installment with the given due date.
    pub fn fee_for(&self, due_date: NaiveDate) -> Yen {
        self.fees
            .iter()
            .rev()
            .find(|fee| fee.due_from.is_none_or(|from| due_date >= from))
            .map_or(Yen::ZERO, |fee| fee.amount)
    }
}

/// 時効 and 執行停止 settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescriptionSettings {
    /// Years until a claim or a refund right is prescribed (法160条1項: 2).
    pub years: u32,
    /// Days after sending the 督促状 on which the renewal takes effect (地方税法18条の2①2号,
    /// applied "地方税の例により": 10; 0 renews on the sending day).
    pub demand_renewal_days: u32,
    /// Years of continuous 執行停止 after which the debt is extinguished (地方税法15条の7④: 3).
    pub enforcement_suspension_years: u32,
}

impl Settings {
    /// Returns the settings of a typical city: 9 periods from July to March due at the end of
    /// each month, 100円 units with the remainder in the first period, leveling of August
    /// only, the 1-month late-fee switch-over, a 100円 督促手数料 and the 12/29–1/3 closure.
    pub fn sample() -> Self {
        let month_end = |month| DueDateRule {
            month,
            day: DueDay::EndOfMonth,
        };
        Self {
            municipality: "サンプル市".to_owned(),
            calendar: CalendarSettings {
                annual_closures: vec![AnnualPeriod {
                    from: MonthDay { month: 12, day: 29 },
                    to: MonthDay { month: 1, day: 3 },
                }],
                closed_dates: Vec::new(),
            },
            ordinary_collection: OrdinaryCollectionSettings {
                due_dates: [7, 8, 9, 10, 11, 12, 1, 2, 3]
                    .into_iter()
                    .map(month_end)
                    .collect(),
                annual_unit: Yen(100),
                installment_unit: Yen(100),
                remainder_to: RemainderPeriod::First,
            },
            pension_deduction: PensionDeductionSettings {
                unit: Yen(100),
                leveling: Leveling::August,
            },
            proration: ProrationSettings { unit: Yen(100) },
            late_fee: LateFeeSettings {
                switch_months: 1,
                minimum_principal: Yen(2000),
                principal_unit: Yen(1000),
                minimum_fee: Yen(1000),
                fee_unit: Yen(100),
                truncate_segments: false,
            },
            refund_interest: RefundInterestSettings {
                minimum_amount: Yen(2000),
                amount_unit: Yen(1000),
                minimum_interest: Yen(1000),
                interest_unit: Yen(100),
                count_from_due_when_paid_early: true,
                unclaimed_notice_days: 30,
            },
            demand: DemandSettings {
                send_within_days: 20,
                designated_days: 10,
                designated_to_business_day: true,
                fees: vec![DemandFee {
                    due_from: None,
                    amount: Yen(100),
                }],
            },
            prescription: PrescriptionSettings {
                years: 2,
                demand_renewal_days: 10,
                enforcement_suspension_years: 3,
            },
        }
    }

    /// Returns the office's business calendar: weekends, national holidays and the
    /// municipality's closures.
    pub fn business_calendar(&self) -> BusinessCalendar<'static> {
        BusinessCalendar::new(
            HolidayTable::official(),
            &self.calendar.annual_closures,
            &self.calendar.closed_dates,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn due_date_rules_place_january_to_march_in_the_next_year() {
        let s = Settings::sample();
        let dates: Vec<NaiveDate> = s
            .ordinary_collection
            .due_dates
            .iter()
            .map(|r| r.date_in(2023).unwrap())
            .collect();
        assert_eq!(dates[0], d("2023-07-31"));
        assert_eq!(dates[7], d("2024-02-29"));
        assert_eq!(dates[8], d("2024-03-31"));
        let tenth = DueDateRule {
            month: 2,
            day: DueDay::Day(10),
        };
        assert_eq!(tenth.date_in(2024).unwrap(), d("2025-02-10"));
        assert_eq!(tenth.fiscal_month_index(), 10);
    }

    // 甲斐市 (rules.md §4): 100円, abolished for 納期限 on or after R6.4.1.
    #[test]
    fn demand_fee_follows_the_due_date() {
        let demand = DemandSettings {
            fees: vec![
                DemandFee {
                    due_from: None,
                    amount: Yen(100),
                },
                DemandFee {
                    due_from: Some(d("2024-04-01")),
                    amount: Yen(0),
                },
            ],
            ..Settings::sample().demand
        };
        assert_eq!(demand.fee_for(d("2024-03-31")), Yen(100));
        assert_eq!(demand.fee_for(d("2024-04-01")), Yen(0));
        assert_eq!(Settings::sample().demand.fee_for(d("2030-01-01")), Yen(100));
    }
}
