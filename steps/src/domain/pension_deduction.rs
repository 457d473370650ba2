//! 特別徴収: deductions from pensions in April, June and August (仮徴収) and October,
//! December and February (本徴収), the provisional amounts of new starters, and leveling
//! (平準化) in its two variants.
//!
//! Rules (rules.md §2):
//! - 仮徴収 normally equals the prior year's February deduction (三好市, 小林市).
//! - 本徴収 = (this year's annual amount − 仮徴収 total) over three deductions; December and
//!   February in 100円 units, October takes the remainder (能美市).
//! - New starters: 前年度年額換算 × 2/12 per deduction, truncated to 100円 (宇部市), with 3, 2
//!   or 1 deductions by 資格取得日.
//! - 平準化, August only (土浦市, 猪名川町, 里庄町): August = 前年度年額/2 − April − June.
//! - 平準化, June and August (八代市 formula; 羽島市, 太田市, 美浦村, 小牧市):
//!   ① = 前年度年額/6 truncated to 100円; June = August = (①×3 − April)/2 truncated to 100円.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::DomainError;
use super::calendar::ymd;
use super::money::Yen;

/// Which 仮徴収 deductions leveling (平準化) changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Leveling {
    /// No leveling: 仮徴収 stays at the amounts given.
    None,
    /// Only August is changed.
    August,
    /// June and August are changed.
    JuneAugust,
}

impl Leveling {
    /// Returns the name used on the command line and in settings files.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::August => "august",
            Self::JuneAugust => "june-august",
        }
    }

    /// Every variant with its name, for parsing.
    pub const ALL: [(&'static str, Self); 3] = [
        ("none", Self::None),
        ("august", Self::August),
        ("june-august", Self::JuneAugust),
    ];
}

/// The three 仮徴収 amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provisional {
    /// April.
    pub april: Yen,
    /// June.
    pub june: Yen,
    /// August.
    pub august: Yen,
}

impl Provisional {
    /// Returns the three amounts added up.
    pub fn total(&self) -> Yen {
        self.april + self.june + self.august
    }
}

/// What the schedule is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PensionDeductionInput {
    /// The annual amount leveling assumes: the prior year's annual amount (or, for new
    /// starters, the annualised amount), since this year's is not known before July.
    pub prior_annual: Yen,
    /// This year's annual amount (確定年額).
    pub annual: Yen,
    /// The 仮徴収 amounts before leveling.
    pub provisional: Provisional,
    /// The leveling variant to apply.
    pub leveling: Leveling,
}

/// The six deductions of a fiscal year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PensionDeductionSchedule {
    /// The leveling variant applied.
    pub leveling: Leveling,
    /// The 仮徴収 amounts before leveling.
    pub unleveled: Provisional,
    /// April, June, August, October, December, February.
    pub amounts: [Yen; 6],
    /// April + June + August after leveling.
    pub provisional_total: Yen,
    /// October + December + February.
    pub final_total: Yen,
    /// How much 仮徴収 exceeds the annual amount (special collection stops; the excess is
    /// refunded or appropriated).
    pub excess: Yen,
}

/// The months of the six deductions, in order.
pub const MONTHS: [u32; 6] = [4, 6, 8, 10, 12, 2];

/// Computes the six deductions of a fiscal year.
///
/// # Errors
/// [`DomainError`] for negative or huge amounts or a bad unit.
pub fn schedule(
    input: &PensionDeductionInput,
    unit: Yen,
) -> Result<PensionDeductionSchedule, DomainError> {
    input
        .prior_annual
        .validate("the prior year's annual amount")?;
    input.annual.validate("the annual amount")?;
    input.provisional.april.validate("the April deduction")?;
    input.provisional.june.validate("the June deduction")?;
    input.provisional.august.validate("the August deduction")?;
    unit.validate_unit("the deduction unit")?;

    let given = input.provisional;
    let leveled = match input.leveling {
        Leveling::None => given,
        Leveling::August => {
            let half = Yen(input.prior_annual.0 / 2).floor_to(unit);
            Provisional {
                august: Yen((half - given.april - given.june).0.max(0)),
                ..given
            }
        }
        Leveling::JuneAugust => {
            let sixth = Yen(input.prior_annual.0 / 6).floor_to(unit);
            let each = Yen((sixth.0 * 3 - given.april.0).max(0) / 2).floor_to(unit);
            Provisional {
                june: each,
                august: each,
                ..given
            }
        }
    };
    let provisional_total = leveled.total();
    let (final_amounts, excess) = if provisional_total > input.annual {
        ([Yen::ZERO; 3], provisional_total - input.annual)
    } else {
        let remaining = input.annual - provisional_total;
        let later = Yen(remaining.0 / 3).floor_to(unit);
        ([remaining - later - later, later, later], Yen::ZERO)
    };
    Ok(PensionDeductionSchedule {
        leveling: input.leveling,
        unleveled: given,
        amounts: [
            leveled.april,
            leveled.june,
            leveled.august,
            final_amounts[0],
            final_amounts[1],
            final_amounts[2],
        ],
        provisional_total,
        final_total: final_amounts.iter().sum(),
        excess,
    })
}

/// The 仮徴収 of a new starter, decided by the 資格取得日.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewStarter {
    /// How many 仮徴収 deductions there are: 3 (April, June, August), 2 (June, August),
    /// 1 (August) or 0 (本徴収 from October; July to September by 普通徴収).
    pub deductions: u32,
    /// The amount of each deduction.
    pub amount_each: Yen,
    /// The three amounts, zero in the months without a deduction.
    pub provisional: Provisional,
}

/// Returns the 仮徴収 of someone who became insured in the prior fiscal year or early in
/// this calendar year (宇部市 table): 資格取得日 from prior-year 4/2 to 10/1 → 3 deductions;
/// 10/2 to 12/1 → 2; 12/2 to 2/1 → 1; later → none. Each deduction is
/// `annualised × 2/12`, truncated to the unit.
///
/// # Errors
/// [`DomainError::Invalid`] for a 資格取得日 before the prior year's April 2 (that person is
/// not a new starter: 仮徴収 equals last February's deduction) or after this fiscal year's
/// start; [`DomainError`] for a bad amount or unit.
pub fn new_starter(
    acquired: NaiveDate,
    fiscal_year: i32,
    annualised: Yen,
    unit: Yen,
) -> Result<NewStarter, DomainError> {
    annualised.validate("the annualised amount")?;
    unit.validate_unit("the deduction unit")?;
    let prior = fiscal_year - 1;
    let deductions = if acquired < ymd(prior, 4, 2)? {
        return Err(DomainError::Invalid(format!(
            "a 資格取得日 of {acquired} is before {prior}-04-02: not a new starter in fiscal year \
             {fiscal_year}; 仮徴収 equals the prior February's deduction"
        )));
    } else if acquired <= ymd(prior, 10, 1)? {
        3
    } else if acquired <= ymd(prior, 12, 1)? {
        2
    } else if acquired <= ymd(fiscal_year, 2, 1)? {
        1
    } else if acquired <= ymd(fiscal_year + 1, 3, 31)? {
        0
    } else {
        return Err(DomainError::Invalid(format!(
            "a 資格取得日 of {acquired} is after fiscal year {fiscal_year}"
        )));
    };
    let amount_each = if deductions == 0 {
        Yen::ZERO
    } else {
        Yen(annualised.0 / 6).floor_to(unit)
    };
    let pick = |months_left: u32| {
        if deductions >= months_left {
            amount_each
        } else {
            Yen::ZERO
        }
    };
    Ok(NewStarter {
        deductions,
        amount_each,
        provisional: Provisional {
            april: pick(3),
            june: pick(2),
            august: pick(1),
        },
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn run(
        prior: i64,
        annual: i64,
        prov: [i64; 3],
        leveling: Leveling,
    ) -> PensionDeductionSchedule {
        let input = PensionDeductionInput {
            prior_annual: Yen(prior),
            annual: Yen(annual),
            provisional: Provisional {
                april: Yen(prov[0]),
                june: Yen(prov[1]),
                august: Yen(prov[2]),
            },
            leveling,
        };
        schedule(&input, Yen(100)).unwrap()
    }

    fn amounts(s: &PensionDeductionSchedule) -> [i64; 6] {
        s.amounts.map(Yen::get)
    }

    // 伊予市 https://www.city.iyo.lg.jp/hokennenkin/kurashi/hoken/koki/nenkin/index.html [pub]
    #[test]
    fn iyo_without_leveling() {
        let s = run(42_000, 36_000, [7_000, 7_000, 7_000], Leveling::None);
        assert_eq!(amounts(&s), [7_000, 7_000, 7_000, 5_000, 5_000, 5_000]);
    }

    // 土浦市 https://www.city.tsuchiura.lg.jp/kurashi-tetsuzuki/kokuho-nenkin/koukikoureisha/hokenryo/page018438.html
    // [pub]: before and after 平準化 (8月 = 24,000 − 8,000).
    #[test]
    fn tsuchiura_before_and_after_leveling() {
        let before = run(48_000, 48_000, [4_000, 4_000, 4_000], Leveling::None);
        assert_eq!(
            amounts(&before),
            [4_000, 4_000, 4_000, 12_000, 12_000, 12_000]
        );
        let after = run(48_000, 48_000, [4_000, 4_000, 4_000], Leveling::August);
        assert_eq!(amounts(&after), [4_000, 4_000, 16_000, 8_000, 8_000, 8_000]);
    }

    // 猪名川町 https://www.town.inagawa.lg.jp/iryo_kenko_fukushi/iryo_kenko/koki_koreish_ai/5633.html
    // [pub]: 8月 = 24,600 − 1,600.
    #[test]
    fn inagawa_august_leveling() {
        let s = run(49_200, 49_200, [800, 800, 800], Leveling::August);
        assert_eq!(amounts(&s), [800, 800, 23_000, 8_200, 8_200, 8_200]);
    }

    // 里庄町 (後期, 8月 only) https://www.town.satosho.okayama.jp/soshiki/16/9040.html [pub]:
    // annual 120,000, prior February 16,000 → 8月 28,000, 本徴収 20,000 ×3.
    #[test]
    fn satosho_august_leveling() {
        let s = run(120_000, 120_000, [16_000, 16_000, 16_000], Leveling::August);
        assert_eq!(
            amounts(&s),
            [16_000, 16_000, 28_000, 20_000, 20_000, 20_000]
        );
    }

    // 美浦村 (後期, 6月・8月) https://www.vill.miho.lg.jp/page/page012709.html [pub]:
    // annual 162,000 (assumed equal to the prior year's), prior February 50,000 → 6月・8月
    // 15,500, 本徴収 27,000 ×3; unleveled 本徴収 4,000 ×3.
    #[test]
    fn miho_june_august_leveling() {
        let before = run(162_000, 162_000, [50_000, 50_000, 50_000], Leveling::None);
        assert_eq!(
            amounts(&before),
            [50_000, 50_000, 50_000, 4_000, 4_000, 4_000]
        );
        let after = run(
            162_000,
            162_000,
            [50_000, 50_000, 50_000],
            Leveling::JuneAugust,
        );
        assert_eq!(
            amounts(&after),
            [50_000, 15_500, 15_500, 27_000, 27_000, 27_000]
        );
    }

    // 八代市 (国保税, same formula) https://www.city.yatsushiro.lg.jp/kiji00316783/index.html
    // [pub]: 年額 39,700, April 12,600 → 6月・8月 3,600; 10月 6,700, 12月・2月 6,600.
    // Without leveling (R5): 600 ×3, then 12,700 / 12,600 / 12,600.
    #[test]
    fn yatsushiro_examples() {
        let after = run(
            39_700,
            39_700,
            [12_600, 12_600, 12_600],
            Leveling::JuneAugust,
        );
        assert_eq!(amounts(&after), [12_600, 3_600, 3_600, 6_700, 6_600, 6_600]);
        let r5 = run(39_700, 39_700, [600, 600, 600], Leveling::None);
        assert_eq!(amounts(&r5), [600, 600, 600, 12_700, 12_600, 12_600]);
    }

    // A 国保税 example of August-only leveling (4・6月 40,000, 年税額 180,000 → 8月 10,000,
    // 本徴収 30,000), https://expydoc.com/doc/9641078/ [pub].
    #[test]
    fn expydoc_august_leveling() {
        let s = run(180_000, 180_000, [40_000, 40_000, 40_000], Leveling::August);
        assert_eq!(
            amounts(&s),
            [40_000, 40_000, 10_000, 30_000, 30_000, 30_000]
        );
    }

    #[test]
    fn provisional_beyond_the_annual_amount_is_an_excess() {
        let s = run(100_000, 20_000, [10_000, 10_000, 10_000], Leveling::None);
        assert_eq!(amounts(&s)[3..], [0, 0, 0]);
        assert_eq!(s.excess, Yen(10_000));
        // Leveling never makes August negative.
        let s = run(10_000, 50_000, [8_000, 8_000, 8_000], Leveling::August);
        assert_eq!(s.amounts[2], Yen(0));
    }

    // 宇部市 https://www.city.ube.yamaguchi.jp/faq/kurashi/hoken/kouki_karisantei.html [der
    // inputs]: the number of 仮徴収 by 資格取得日, each 年額換算 × 2/12 truncated to 100円.
    #[test]
    fn new_starters_by_acquisition_date() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let cases = [
            ("2024-04-02", 3),
            ("2024-10-01", 3),
            ("2024-10-02", 2),
            ("2024-12-01", 2),
            ("2024-12-02", 1),
            ("2025-02-01", 1),
            ("2025-02-02", 0),
        ];
        for (acquired, n) in cases {
            let s = new_starter(d(acquired), 2025, Yen(47_300), Yen(100)).unwrap();
            assert_eq!(s.deductions, n, "{acquired}");
        }
        let three = new_starter(d("2024-06-15"), 2025, Yen(47_300), Yen(100)).unwrap();
        assert_eq!(three.amount_each, Yen(7_800)); // 47,300 / 6 = 7,883 → 7,800
        let two = new_starter(d("2024-11-01"), 2025, Yen(47_300), Yen(100)).unwrap();
        assert_eq!(
            two.provisional,
            Provisional {
                april: Yen(0),
                june: Yen(7_800),
                august: Yen(7_800)
            }
        );
        assert!(new_starter(d("2024-04-01"), 2025, Yen(47_300), Yen(100)).is_err());
        assert!(new_starter(d("2026-04-01"), 2025, Yen(47_300), Yen(100)).is_err());
    }

    proptest! {
        #[test]
        fn the_six_deductions_cover_the_annual_amount(
            prior in 0i64..1_000_000,
            annual in 0i64..1_000_000,
            april in 0i64..200_000,
            june in 0i64..200_000,
            leveling in prop::sample::select(vec![Leveling::None, Leveling::August, Leveling::JuneAugust]),
        ) {
            let s = run(prior, annual, [april, june, june], leveling);
            let total: Yen = s.amounts.iter().sum();
            prop_assert!(s.amounts.iter().all(|a| a.0 >= 0));
            prop_assert_eq!(total - s.excess, Yen(annual));
            prop_assert_eq!(s.amounts[4].0 % 100, 0);
            prop_assert_eq!(s.amounts[4], s.amounts[5]);
        }
    }
}
