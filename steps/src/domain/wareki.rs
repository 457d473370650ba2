//! 和暦: Japanese era dates, printed as on notices (令和7年4月1日, with 元年 for year one)
//! and read back from the forms staff type (令和元年5月1日, R7.4.1, 平成31年4月30日, ㋿7年…).
//!
//! Era start dates are those of JIS X 0301 (明治 1868-01-25, 大正 1912-07-30, 昭和 1926-12-25,
//! 平成 1989-01-08, 令和 2019-05-01). Dates before 1873 are converted by year offset as
//! JIS X 0301 does, not by the lunisolar calendar then in use.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::DomainError;

/// One of the five modern eras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Era {
    /// 明治, from 1868-01-25.
    Meiji,
    /// 大正, from 1912-07-30.
    Taisho,
    /// 昭和, from 1926-12-25.
    Showa,
    /// 平成, from 1989-01-08.
    Heisei,
    /// 令和, from 2019-05-01.
    Reiwa,
}

/// Every era with its first day, oldest first.
const ERAS: [(Era, i32, u32, u32); 5] = [
    (Era::Meiji, 1868, 1, 25),
    (Era::Taisho, 1912, 7, 30),
    (Era::Showa, 1926, 12, 25),
    (Era::Heisei, 1989, 1, 8),
    (Era::Reiwa, 2019, 5, 1),
];

impl Era {
    /// Returns the era's name in kanji: 令和.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Meiji => "明治",
            Self::Taisho => "大正",
            Self::Showa => "昭和",
            Self::Heisei => "平成",
            Self::Reiwa => "令和",
        }
    }

    /// Returns the era's one-letter code of JIS X 0301: R, H, S, T, M.
    pub const fn letter(self) -> char {
        match self {
            Self::Meiji => 'M',
            Self::Taisho => 'T',
            Self::Showa => 'S',
            Self::Heisei => 'H',
            Self::Reiwa => 'R',
        }
    }

    /// Returns the era's first day.
    pub fn start(self) -> NaiveDate {
        let (_, y, m, d) = ERAS[self.index()];
        // The table above holds valid dates only; the unit tests build each one.
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// Returns the era's last day, or `None` for the current era.
    pub fn end(self) -> Option<NaiveDate> {
        let (_, y, m, d) = *ERAS.get(self.index() + 1)?;
        NaiveDate::from_ymd_opt(y, m, d).and_then(|next| next.pred_opt())
    }

    const fn index(self) -> usize {
        match self {
            Self::Meiji => 0,
            Self::Taisho => 1,
            Self::Showa => 2,
            Self::Heisei => 3,
            Self::Reiwa => 4,
        }
    }

    fn all() -> impl DoubleEndedIterator<Item = Self> {
        ERAS.iter().map(|(era, ..)| *era)
    }
}

/// A date in the Japanese era calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Wareki {
    /// The era.
    pub era: Era,
    /// The year of the era, 1 for 元年.
    pub year: u32,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month.
    pub day: u32,
}

impl Wareki {
    /// Converts a Gregorian date.
    ///
    /// # Errors
    /// [`DomainError::DateOutOfRange`] for dates before 明治 (1868-01-25).
    pub fn from_date(date: NaiveDate) -> Result<Self, DomainError> {
        let era = Era::all().rev().find(|era| era.start() <= date).ok_or(
            DomainError::DateOutOfRange {
                date,
                reason: "和暦 dates start with 明治 on 1868-01-25",
            },
        )?;
        let year = u32::try_from(date.year() - era.start().year() + 1).unwrap_or(1);
        Ok(Self {
            era,
            year,
            month: date.month(),
            day: date.day(),
        })
    }

    /// Converts back to a Gregorian date, checking that the date lies within its era.
    ///
    /// # Errors
    /// [`DomainError::InvalidWareki`] when the day does not exist or is outside the era.
    pub fn to_date(self) -> Result<NaiveDate, DomainError> {
        let invalid = |reason: String| DomainError::InvalidWareki {
            text: self.to_string(),
            reason,
        };
        if self.year == 0 {
            return Err(invalid(
                "the first year of an era is 元年 (1), not 0".to_owned(),
            ));
        }
        let year = i32::try_from(self.year)
            .ok()
            .and_then(|y| y.checked_add(self.era.start().year() - 1))
            .ok_or_else(|| invalid("the year is too large".to_owned()))?;
        let date = NaiveDate::from_ymd_opt(year, self.month, self.day).ok_or_else(|| {
            invalid(format!(
                "{year}-{:02}-{:02} does not exist",
                self.month, self.day
            ))
        })?;
        if date < self.era.start() {
            return Err(invalid(format!(
                "{} began on {}",
                self.era.name(),
                self.era.start()
            )));
        }
        if let Some(end) = self.era.end()
            && date > end
        {
            return Err(invalid(format!("{} ended on {end}", self.era.name())));
        }
        Ok(date)
    }

    /// Returns the JIS X 0301 form, such as `R01.05.01`.
    pub fn jis_x0301(&self) -> String {
        format!(
            "{}{:02}.{:02}.{:02}",
            self.era.letter(),
            self.year,
            self.month,
            self.day
        )
    }
}

impl fmt::Display for Wareki {
    /// Writes the form printed on notices: 令和元年5月1日, 令和7年4月1日.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.era.name())?;
        if self.year == 1 {
            f.write_str("元")?;
        } else {
            write!(f, "{}", self.year)?;
        }
        write!(f, "年{}月{}日", self.month, self.day)
    }
}

/// Formats a date as on notices: 令和7年4月1日.
///
/// # Errors
/// [`DomainError::DateOutOfRange`] for dates before 明治.
pub fn format(date: NaiveDate) -> Result<String, DomainError> {
    Ok(Wareki::from_date(date)?.to_string())
}

/// Reads a 和暦 date and returns the Gregorian date.
///
/// Accepted: the era in kanji (令和), abbreviated (令) or as a JIS X 0301 letter (R, r);
/// the year as digits or 元; then `年`/`月`/`日`, or `.`, `/` or `-` between the numbers.
/// Full-width digits and the era ligatures (㋿, ㍻, ㍼, ㍽, ㍾) are accepted.
///
/// # Errors
/// [`DomainError::UnknownEra`] for an era that is not one of the five, and
/// [`DomainError::InvalidWareki`] for anything else that is not a valid date.
pub fn parse(text: &str) -> Result<NaiveDate, DomainError> {
    parse_wareki(text)?.to_date()
}

/// Reads a 和暦 date into its parts without converting it; see [`parse`].
///
/// # Errors
/// As [`parse`], except that the date is not checked against its era.
pub fn parse_wareki(text: &str) -> Result<Wareki, DomainError> {
    let normalized: String = text.trim().nfkc().collect();
    let invalid = |reason: &str| DomainError::InvalidWareki {
        text: text.trim().to_owned(),
        reason: reason.to_owned(),
    };
    let (era, rest) = split_era(&normalized)?;
    let mut numbers = Vec::with_capacity(3);
    let mut chars = rest.chars().peekable();
    let mut separators = String::new();
    while numbers.len() < 3 {
        let mut digits = String::new();
        if numbers.is_empty() && chars.peek() == Some(&'元') {
            chars.next();
            digits.push('1');
        } else {
            while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
                digits.push(c);
                chars.next();
            }
        }
        if digits.is_empty() || digits.len() > 4 {
            return Err(invalid("expected the year, month and day as numbers"));
        }
        numbers.push(digits.parse::<u32>().map_err(|_| invalid("bad number"))?);
        match chars.next() {
            Some(sep @ ('年' | '月' | '日' | '.' | '/' | '-')) => separators.push(sep),
            None if numbers.len() == 3 => {}
            None => return Err(invalid("the date is incomplete")),
            Some(_) => return Err(invalid("unexpected character after a number")),
        }
    }
    let trailing: String = chars.collect();
    let well_formed = matches!(separators.as_str(), "年月日" | "年月" | ".." | "//" | "--");
    if !trailing.trim().is_empty() || !well_formed {
        return Err(invalid(
            "write it as 令和7年4月1日 or R7.4.1 (separators must not be mixed)",
        ));
    }
    Ok(Wareki {
        era,
        year: numbers[0],
        month: numbers[1],
        day: numbers[2],
    })
}

/// Splits the era off the front of normalized text.
fn split_era(text: &str) -> Result<(Era, &str), DomainError> {
    for era in Era::all() {
        if let Some(rest) = text.strip_prefix(era.name()) {
            return Ok((era, rest));
        }
    }
    let mut chars = text.chars();
    let first = chars.next().ok_or_else(|| DomainError::InvalidWareki {
        text: String::new(),
        reason: "the text is empty".to_owned(),
    })?;
    let era = match first {
        '令' | 'R' | 'r' => Some(Era::Reiwa),
        '平' | 'H' | 'h' => Some(Era::Heisei),
        '昭' | 'S' | 's' => Some(Era::Showa),
        '大' | 'T' | 't' => Some(Era::Taisho),
        '明' | 'M' | 'm' => Some(Era::Meiji),
        _ => None,
    };
    let rest = chars.as_str();
    match era {
        // A single letter or kanji is an era only when the year follows directly.
        Some(era) if rest.starts_with(|c: char| c.is_ascii_digit() || c == '元') => {
            Ok((era, rest))
        }
        _ => {
            let name: String = text
                .chars()
                .take_while(|c| !c.is_ascii_digit() && *c != '元')
                .collect();
            if name.is_empty() {
                Err(DomainError::InvalidWareki {
                    text: text.to_owned(),
                    reason: "it does not start with an era such as 令和 or R".to_owned(),
                })
            } else {
                Err(DomainError::UnknownEra(name))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn eras_start_and_end_on_the_right_days() {
        for (era, y, m, day) in ERAS {
            assert_eq!(era.start(), NaiveDate::from_ymd_opt(y, m, day).unwrap());
        }
        assert_eq!(Era::Heisei.end(), Some(d("2019-04-30")));
        assert_eq!(Era::Showa.end(), Some(d("1989-01-07")));
        assert_eq!(Era::Reiwa.end(), None);
    }

    // The era boundaries to the day (formats.md §3; 改元 dates are public facts).
    #[test]
    fn boundaries_are_exact() {
        let cases = [
            ("2019-04-30", "平成31年4月30日"),
            ("2019-05-01", "令和元年5月1日"),
            ("1989-01-07", "昭和64年1月7日"),
            ("1989-01-08", "平成元年1月8日"),
            ("1926-12-24", "大正15年12月24日"),
            ("1926-12-25", "昭和元年12月25日"),
            ("1912-07-29", "明治45年7月29日"),
            ("1912-07-30", "大正元年7月30日"),
            ("2025-04-01", "令和7年4月1日"),
            ("1950-11-15", "昭和25年11月15日"),
        ];
        for (iso, text) in cases {
            assert_eq!(format(d(iso)).unwrap(), text, "{iso}");
            assert_eq!(parse(text).unwrap(), d(iso), "{text}");
        }
        assert!(format(d("1868-01-24")).is_err());
    }

    #[test]
    fn staff_forms_are_read() {
        let want = d("2025-04-01");
        for text in [
            "令和7年4月1日",
            "令7年4月1日",
            "R7.4.1",
            "r07.04.01",
            "R7/4/1",
            "R7-4-1",
            "令和７年４月１日",
            "㋿7年4月1日",
            " 令和7年4月1日 ",
            "令和7年4月1",
        ] {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(parse("令和1年5月1日").unwrap(), d("2019-05-01"));
        assert_eq!(parse("㍻元年1月8日").unwrap(), d("1989-01-08"));
        assert_eq!(
            Wareki::from_date(d("2019-05-01")).unwrap().jis_x0301(),
            "R01.05.01"
        );
    }

    #[test]
    fn dates_outside_their_era_are_refused() {
        for text in [
            "平成31年5月1日",
            "昭和64年1月8日",
            "令和元年4月30日",
            "大正元年7月29日",
            "令和7年2月29日",
            "令和0年1月1日",
        ] {
            assert!(
                matches!(parse(text), Err(DomainError::InvalidWareki { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_eras_are_named() {
        assert_eq!(
            parse("慶応3年1月1日"),
            Err(DomainError::UnknownEra("慶応".to_owned()))
        );
        assert_eq!(
            parse("X7.4.1"),
            Err(DomainError::UnknownEra("X".to_owned()))
        );
        assert!(matches!(
            parse("2025年4月1日"),
            Err(DomainError::InvalidWareki { .. })
        ));
        assert!(matches!(
            parse("令和7年4月"),
            Err(DomainError::InvalidWareki { .. })
        ));
        assert!(matches!(
            parse("R7.4/1"),
            Err(DomainError::InvalidWareki { .. })
        ));
        assert!(matches!(parse(""), Err(DomainError::InvalidWareki { .. })));
    }

    proptest! {
        #[test]
        fn every_date_round_trips(days in 0i64..(365 * 200)) {
            let date = d("1868-01-25") + chrono::Duration::days(days);
            let text = format(date).unwrap();
            prop_assert_eq!(parse(&text).unwrap(), date);
            let jis = Wareki::from_date(date).unwrap().jis_x0301();
            prop_assert_eq!(parse(&jis).unwrap(), date);
        }
    }
}
