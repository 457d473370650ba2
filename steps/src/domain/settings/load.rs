//! Reading [`Settings`] from YAML with the engine's spanned tree, so that a settings file
//! gets the same diagnostics as a flow file: every problem at once, each with its code,
//! file, line and column.
//!
//! Fields that vary between municipalities and have no safe default are required
//! (`municipality`, the due dates, the late-fee switch-over and per-segment truncation, the
//! leveling variant, the 督促手数料). The others default to the statutory or usual values of
//! [`Settings::sample`], as documented in `docs/calculations.md`.

use std::sync::Arc;

use chrono::NaiveDate;
use nagare_engine::diagnostic::{Diagnostic, SourceFile, Span};
use nagare_engine::yaml::{self, MapReader, Node, Spanned, Value};

use super::{
    AnnualPeriod, CalendarSettings, DemandFee, DemandSettings, DueDateRule, DueDay,
    LateFeeSettings, OrdinaryCollectionSettings, PensionDeductionSettings, PrescriptionSettings,
    ProrationSettings, RefundInterestSettings, RemainderPeriod, Settings,
};
use crate::domain::calendar::MonthDay;
use crate::domain::money::Yen;
use crate::domain::pension_deduction::Leveling;

/// Codes of problems specific to settings files (YAML-level problems use `YAML0001…`).
pub mod codes {
    /// A value is outside the range the rule allows (a unit under 1円, a switch-over other
    /// than 1 or 3 months, a period of 0 years).
    pub const OUT_OF_RANGE: &str = "SET0001";
    /// A date or a month-and-day does not exist or is not written as `YYYY-MM-DD` / `MM-DD`.
    pub const BAD_DATE: &str = "SET0002";
    /// The 普通徴収 due dates are missing, too many, or not in fiscal-year order.
    pub const DUE_DATES: &str = "SET0003";
    /// The 督促手数料 rules are not in order of the due dates they start from.
    pub const DEMAND_FEES: &str = "SET0004";
}

/// Reads settings from the bytes of a YAML file; `path` is only used in messages.
///
/// # Errors
/// Every problem found, sorted by position.
pub fn from_yaml(path: &str, bytes: &[u8]) -> Result<Settings, Vec<Diagnostic>> {
    let (file, tree) = yaml::parse_bytes(path, bytes);
    let root = tree?;
    let mut diags = Vec::new();
    let settings = read_settings(&file, &root, &mut diags);
    match settings {
        Some(settings) if diags.is_empty() => Ok(settings),
        _ => {
            if diags.is_empty() {
                // Every path that rejects a field records why; this keeps the promise that an
                // error always comes with at least one diagnostic.
                diags.push(Diagnostic::error(
                    yaml::codes::FILE,
                    &file,
                    Span::default(),
                    "the settings file could not be read",
                ));
            }
            nagare_engine::diagnostic::sort(&mut diags);
            Err(diags)
        }
    }
}

/// Reads one field after another, recording problems and falling back to the sample so
/// that every section is checked in one pass.
struct Reader<'a> {
    file: &'a Arc<SourceFile>,
    ok: bool,
}

impl<'a> Reader<'a> {
    fn error(&mut self, code: &'static str, span: Span, message: String) -> Diagnostic {
        self.ok = false;
        Diagnostic::error(code, self.file, span, message)
    }

    fn section(
        &mut self,
        parent: &mut MapReader<'a>,
        name: &'static str,
        required: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<MapReader<'a>> {
        let node = if required {
            parent.required(name, diags)
        } else {
            parent.optional(name)
        };
        let Some(node) = node else {
            if required {
                self.ok = false;
            }
            return None;
        };
        let reader = MapReader::new(self.file, node, format!("the `{name}` section"), diags);
        if reader.is_none() {
            self.ok = false;
        }
        reader
    }

    fn yen(
        &mut self,
        map: &mut MapReader<'a>,
        name: &'static str,
        default: Yen,
        minimum: i64,
        diags: &mut Vec<Diagnostic>,
    ) -> Yen {
        let Some(node) = map.optional(name) else {
            return default;
        };
        match node.value {
            Value::Int(v) if (minimum..=Yen::MAX_INPUT.get()).contains(&v) => Yen(v),
            Value::Int(v) => {
                let d = self
                    .error(
                        codes::OUT_OF_RANGE,
                        node.span,
                        format!(
                            "`{name}` must be between {minimum} and {} yen, not {v}",
                            Yen::MAX_INPUT.get()
                        ),
                    )
                    .with_label("out of range");
                diags.push(d);
                default
            }
            ref other => {
                self.ok = false;
                diags.push(yaml::wrong_type(
                    self.file,
                    node,
                    name,
                    "a whole number of yen",
                    other,
                ));
                default
            }
        }
    }

    fn count(
        &mut self,
        map: &mut MapReader<'a>,
        name: &'static str,
        default: Option<u32>,
        range: std::ops::RangeInclusive<u32>,
        diags: &mut Vec<Diagnostic>,
    ) -> u32 {
        let before = diags.len();
        let value = match default {
            Some(_) => map.optional_u32(name, diags),
            None => map.required_u32(name, diags),
        };
        if diags.len() > before {
            self.ok = false;
        }
        match value {
            Some(v) if range.contains(&v.value) => v.value,
            Some(v) => {
                let d = self
                    .error(
                        codes::OUT_OF_RANGE,
                        v.span,
                        format!(
                            "`{name}` must be {} to {}, not {}",
                            range.start(),
                            range.end(),
                            v.value
                        ),
                    )
                    .with_label("out of range");
                diags.push(d);
                default.unwrap_or(*range.start())
            }
            None => default.unwrap_or(*range.start()),
        }
    }

    fn flag(
        &mut self,
        map: &mut MapReader<'a>,
        name: &'static str,
        default: Option<bool>,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let before = diags.len();
        let value = if default.is_some() {
            map.optional_bool(name, diags)
        } else {
            map.required(name, diags).and_then(|node| match node.value {
                Value::Bool(b) => Some(Spanned::new(b, node.span)),
                ref other => {
                    diags.push(yaml::wrong_type(
                        self.file,
                        node,
                        name,
                        "`true` or `false`",
                        other,
                    ));
                    None
                }
            })
        };
        if diags.len() > before {
            self.ok = false;
        }
        value.map_or(default.unwrap_or(false), |v| v.value)
    }

    fn date(&mut self, node: &Node, field: &str, diags: &mut Vec<Diagnostic>) -> Option<NaiveDate> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            other => {
                self.ok = false;
                let mut d = yaml::wrong_type(
                    self.file,
                    node,
                    field,
                    "a date written as \"YYYY-MM-DD\"",
                    other,
                );
                if matches!(other, Value::Int(_)) {
                    d = d.with_help("write the date in quotes: \"2024-04-01\"");
                }
                diags.push(d);
                return None;
            }
        };
        if let Ok(date) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            return Some(date);
        }
        let d = self
            .error(
                codes::BAD_DATE,
                node.span,
                format!("`{text}` is not a date"),
            )
            .with_label("expected YYYY-MM-DD")
            .with_help("write the date as \"2024-04-01\"");
        diags.push(d);
        None
    }

    fn month_day(
        &mut self,
        node: &Node,
        field: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<MonthDay> {
        let Some(text) = yaml::string(self.file, node, field, diags) else {
            self.ok = false;
            return None;
        };
        let parsed = text
            .split_once('-')
            .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
            .and_then(|(m, d)| MonthDay::new(m, d).ok());
        if parsed.is_none() {
            let d = self
                .error(
                    codes::BAD_DATE,
                    node.span,
                    format!("`{}` is not a month and day", text.value),
                )
                .with_label("expected MM-DD")
                .with_help("write the day as \"12-29\"");
            diags.push(d);
        }
        parsed
    }

    fn word<T: Copy>(
        &mut self,
        map: &mut MapReader<'a>,
        name: &'static str,
        allowed: &[(&'static str, T)],
        default: Option<T>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        let before = diags.len();
        let text = if default.is_some() {
            map.optional_str(name, diags)
        } else {
            map.required_str(name, diags)
        };
        let value = text.and_then(|t| yaml::one_of(self.file, &t, name, allowed, diags));
        if diags.len() > before {
            self.ok = false;
        }
        value.or(default)
    }
}

fn read_settings(
    file: &Arc<SourceFile>,
    root: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<Settings> {
    let sample = Settings::sample();
    let mut r = Reader { file, ok: true };
    let mut top = MapReader::new(file, root, "the settings file", diags)?;

    let municipality = top.required_str("municipality", diags);
    if municipality.is_none() {
        r.ok = false;
    }
    let calendar = match r.section(&mut top, "calendar", false, diags) {
        Some(mut map) => {
            let value = read_calendar(&mut r, &mut map, &sample.calendar, diags);
            map.finish(diags);
            value
        }
        None => sample.calendar.clone(),
    };
    let ordinary_collection = match r.section(&mut top, "ordinary_collection", true, diags) {
        Some(mut map) => {
            let value = read_ordinary(&mut r, &mut map, &sample.ordinary_collection, diags);
            map.finish(diags);
            value
        }
        None => sample.ordinary_collection.clone(),
    };
    let pension_deduction = match r.section(&mut top, "pension_deduction", true, diags) {
        Some(mut map) => {
            let unit = r.yen(&mut map, "unit", sample.pension_deduction.unit, 1, diags);
            let leveling = r
                .word(&mut map, "leveling", &Leveling::ALL, None, diags)
                .unwrap_or(sample.pension_deduction.leveling);
            map.finish(diags);
            PensionDeductionSettings { unit, leveling }
        }
        None => sample.pension_deduction.clone(),
    };
    let proration = match r.section(&mut top, "proration", false, diags) {
        Some(mut map) => {
            let unit = r.yen(&mut map, "unit", sample.proration.unit, 1, diags);
            map.finish(diags);
            ProrationSettings { unit }
        }
        None => sample.proration.clone(),
    };
    let late_fee = match r.section(&mut top, "late_fee", true, diags) {
        Some(mut map) => {
            let value = read_late_fee(&mut r, &mut map, &sample.late_fee, diags);
            map.finish(diags);
            value
        }
        None => sample.late_fee.clone(),
    };
    let refund_interest = match r.section(&mut top, "refund_interest", false, diags) {
        Some(mut map) => {
            let s = &sample.refund_interest;
            let value = RefundInterestSettings {
                minimum_amount: r.yen(&mut map, "minimum_amount", s.minimum_amount, 0, diags),
                amount_unit: r.yen(&mut map, "amount_unit", s.amount_unit, 1, diags),
                minimum_interest: r.yen(&mut map, "minimum_interest", s.minimum_interest, 0, diags),
                interest_unit: r.yen(&mut map, "interest_unit", s.interest_unit, 1, diags),
                count_from_due_when_paid_early: r.flag(
                    &mut map,
                    "count_from_due_when_paid_early",
                    Some(s.count_from_due_when_paid_early),
                    diags,
                ),
                unclaimed_notice_days: r.count(
                    &mut map,
                    "unclaimed_notice_days",
                    Some(s.unclaimed_notice_days),
                    1..=366,
                    diags,
                ),
            };
            map.finish(diags);
            value
        }
        None => sample.refund_interest.clone(),
    };
    let demand = match r.section(&mut top, "demand", true, diags) {
        Some(mut map) => {
            let value = read_demand(&mut r, &mut map, &sample.demand, diags);
            map.finish(diags);
            value
        }
        None => sample.demand.clone(),
    };
    let prescription = match r.section(&mut top, "prescription", false, diags) {
        Some(mut map) => {
            let s = &sample.prescription;
            let value = PrescriptionSettings {
                years: r.count(&mut map, "years", Some(s.years), 1..=20, diags),
                demand_renewal_days: r.count(
                    &mut map,
                    "demand_renewal_days",
                    Some(s.demand_renewal_days),
                    0..=60,
                    diags,
                ),
                enforcement_suspension_years: r.count(
                    &mut map,
                    "enforcement_suspension_years",
                    Some(s.enforcement_suspension_years),
                    1..=20,
                    diags,
                ),
            };
            map.finish(diags);
            value
        }
        None => sample.prescription.clone(),
    };
    top.finish(diags);
    if !r.ok || !diags.is_empty() {
        return None;
    }
    Some(Settings {
        municipality: municipality?.value,
        calendar,
        ordinary_collection,
        pension_deduction,
        proration,
        late_fee,
        refund_interest,
        demand,
        prescription,
    })
}

fn read_calendar<'a>(
    r: &mut Reader<'a>,
    map: &mut MapReader<'a>,
    default: &CalendarSettings,
    diags: &mut Vec<Diagnostic>,
) -> CalendarSettings {
    let annual_closures = match map.optional("annual_closures") {
        None => default.annual_closures.clone(),
        Some(node) => yaml::seq(r.file, node, "annual_closures", diags)
            .iter()
            .filter_map(|item| {
                let mut m = MapReader::new(r.file, item, "an annual closure", diags)?;
                let from = m
                    .required("from", diags)
                    .and_then(|n| r.month_day(n, "from", diags));
                let to = m
                    .required("to", diags)
                    .and_then(|n| r.month_day(n, "to", diags));
                m.finish(diags);
                Some(AnnualPeriod {
                    from: from?,
                    to: to?,
                })
            })
            .collect(),
    };
    let closed_dates = map
        .optional_seq("closed_dates", diags)
        .iter()
        .filter_map(|node| r.date(node, "closed_dates", diags))
        .collect();
    CalendarSettings {
        annual_closures,
        closed_dates,
    }
}

fn read_ordinary<'a>(
    r: &mut Reader<'a>,
    map: &mut MapReader<'a>,
    default: &OrdinaryCollectionSettings,
    diags: &mut Vec<Diagnostic>,
) -> OrdinaryCollectionSettings {
    let before = diags.len();
    let items = map.required_seq("due_dates", diags);
    let list_span = map.optional("due_dates").map_or(map.span(), |n| n.span);
    let mut due_dates: Vec<(DueDateRule, Span)> = Vec::new();
    for item in items {
        let Some(mut m) = MapReader::new(r.file, item, "a due date", diags) else {
            continue;
        };
        let month = m.required_u32("month", diags);
        let day = m.required("day", diags);
        m.finish(diags);
        let (Some(month), Some(day)) = (month, day) else {
            continue;
        };
        if !(1..=12).contains(&month.value) {
            let d = r
                .error(
                    codes::BAD_DATE,
                    month.span,
                    format!("month {} does not exist", month.value),
                )
                .with_label("expected 1 to 12");
            diags.push(d);
            continue;
        }
        let rule_day = match &day.value {
            Value::Str(s) if s == "end" => Some(DueDay::EndOfMonth),
            // 29 February is refused: in common years it does not exist; `end` is meant.
            Value::Int(v)
                if u32::try_from(*v).is_ok_and(|v| {
                    v >= 1 && MonthDay::new(month.value, v).is_ok() && !(month.value == 2 && v > 28)
                }) =>
            {
                Some(DueDay::Day(u32::try_from(*v).unwrap_or(1)))
            }
            Value::Int(v) => {
                let d = r
                    .error(
                        codes::BAD_DATE,
                        day.span,
                        format!(
                            "day {v} does not exist in month {} of every year",
                            month.value
                        ),
                    )
                    .with_label("not a day of this month")
                    .with_help("use `end` for the last day of the month");
                diags.push(d);
                None
            }
            other => {
                r.ok = false;
                diags.push(
                    yaml::wrong_type(r.file, day, "day", "a day of the month or `end`", other)
                        .with_help("write `day: 31` or `day: end`"),
                );
                None
            }
        };
        if let Some(day_rule) = rule_day {
            due_dates.push((
                DueDateRule {
                    month: month.value,
                    day: day_rule,
                },
                item.span,
            ));
        }
    }
    if diags.len() > before {
        r.ok = false;
    }
    if items.is_empty() && map.optional("due_dates").is_some() {
        let d = r
            .error(
                codes::DUE_DATES,
                list_span,
                "`due_dates` lists no period".to_owned(),
            )
            .with_help("list one `{ month: 7, day: end }` per 普通徴収 period, first period first");
        diags.push(d);
    }
    if due_dates.len() > 12 {
        let d = r.error(
            codes::DUE_DATES,
            list_span,
            format!(
                "`due_dates` lists {} periods; at most 12 are possible",
                due_dates.len()
            ),
        );
        diags.push(d);
    }
    for pair in due_dates.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.0.fiscal_month_index() <= a.0.fiscal_month_index() {
            let d = r
                .error(
                    codes::DUE_DATES,
                    b.1,
                    format!(
                        "the period due in month {} comes after one due in month {}",
                        b.0.month, a.0.month
                    ),
                )
                .with_label("out of fiscal-year order")
                .with_related(a.1, "previous period")
                .with_help("list the periods from April to March, one per month");
            diags.push(d);
        }
    }
    OrdinaryCollectionSettings {
        due_dates: due_dates.into_iter().map(|(rule, _)| rule).collect(),
        annual_unit: r.yen(map, "annual_unit", default.annual_unit, 1, diags),
        installment_unit: r.yen(map, "installment_unit", default.installment_unit, 1, diags),
        remainder_to: r
            .word(
                map,
                "remainder_to",
                &[
                    ("first", RemainderPeriod::First),
                    ("last", RemainderPeriod::Last),
                ],
                Some(default.remainder_to),
                diags,
            )
            .unwrap_or(default.remainder_to),
    }
}

fn read_late_fee<'a>(
    r: &mut Reader<'a>,
    map: &mut MapReader<'a>,
    default: &LateFeeSettings,
    diags: &mut Vec<Diagnostic>,
) -> LateFeeSettings {
    let before = diags.len();
    let switch = map.required_u32("switch_months", diags);
    let switch_months = match switch {
        Some(v) if v.value == 1 || v.value == 3 => v.value,
        Some(v) => {
            let d = r
                .error(
                    codes::OUT_OF_RANGE,
                    v.span,
                    format!("`switch_months` must be 1 or 3, not {}", v.value),
                )
                .with_label("not 1 or 3")
                .with_help("the ordinances seen use 1か月 (地方税法 model) or 3か月");
            diags.push(d);
            default.switch_months
        }
        None => default.switch_months,
    };
    if diags.len() > before {
        r.ok = false;
    }
    LateFeeSettings {
        switch_months,
        minimum_principal: r.yen(
            map,
            "minimum_principal",
            default.minimum_principal,
            0,
            diags,
        ),
        principal_unit: r.yen(map, "principal_unit", default.principal_unit, 1, diags),
        minimum_fee: r.yen(map, "minimum_fee", default.minimum_fee, 0, diags),
        fee_unit: r.yen(map, "fee_unit", default.fee_unit, 1, diags),
        truncate_segments: r.flag(map, "truncate_segments", None, diags),
    }
}

fn read_demand<'a>(
    r: &mut Reader<'a>,
    map: &mut MapReader<'a>,
    default: &DemandSettings,
    diags: &mut Vec<Diagnostic>,
) -> DemandSettings {
    let before = diags.len();
    let items = map.required_seq("fees", diags);
    let mut fees: Vec<(DemandFee, Span)> = Vec::new();
    for item in items {
        let Some(mut m) = MapReader::new(r.file, item, "a 督促手数料 rule", diags) else {
            continue;
        };
        let due_from = m.optional("due_from").map(|n| r.date(n, "due_from", diags));
        let amount = r.yen(&mut m, "amount", Yen::ZERO, 0, diags);
        if m.optional("amount").is_none() {
            r.ok = false;
            m.required("amount", diags);
        }
        m.finish(diags);
        match due_from {
            Some(None) => {}
            Some(Some(date)) => fees.push((
                DemandFee {
                    due_from: Some(date),
                    amount,
                },
                item.span,
            )),
            None => fees.push((
                DemandFee {
                    due_from: None,
                    amount,
                },
                item.span,
            )),
        }
    }
    if diags.len() > before {
        r.ok = false;
    }
    for (i, pair) in fees.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        let in_order = match (a.0.due_from, b.0.due_from) {
            (None, Some(_)) => i == 0,
            (Some(x), Some(y)) => x < y,
            (_, None) => false,
        };
        if !in_order {
            let d = r
                .error(codes::DEMAND_FEES, b.1, "the 督促手数料 rules are not in order of `due_from`".to_owned())
                .with_label("out of order")
                .with_related(a.1, "previous rule")
                .with_help("put the rule without `due_from` first, then the others from the oldest `due_from` on");
            diags.push(d);
        }
    }
    DemandSettings {
        send_within_days: r.count(
            map,
            "send_within_days",
            Some(default.send_within_days),
            1..=366,
            diags,
        ),
        designated_days: r.count(
            map,
            "designated_days",
            Some(default.designated_days),
            1..=366,
            diags,
        ),
        designated_to_business_day: r.flag(
            map,
            "designated_to_business_day",
            Some(default.designated_to_business_day),
            diags,
        ),
        fees: fees.into_iter().map(|(fee, _)| fee).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../../examples/settings/city.yaml");

    fn load(text: &str) -> Result<Settings, Vec<Diagnostic>> {
        from_yaml("city.yaml", text.as_bytes())
    }

    fn codes_of(text: &str) -> Vec<(&'static str, (usize, usize))> {
        load(text)
            .unwrap_err()
            .iter()
            .map(|d| (d.code, d.line_column()))
            .collect()
    }

    #[test]
    fn the_documented_example_is_the_sample_city() {
        assert_eq!(load(SAMPLE).unwrap(), Settings::sample());
    }

    const MINIMAL: &str = "\
municipality: 瀬戸市
ordinary_collection:
  due_dates:
    - { month: 8, day: 10 }
    - { month: 9, day: 10 }
pension_deduction:
  leveling: june-august
late_fee:
  switch_months: 3
  truncate_segments: true
demand:
  fees:
    - { amount: 100 }
    - { due_from: \"2024-04-01\", amount: 0 }
";

    #[test]
    fn optional_sections_take_the_statutory_defaults() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(s.municipality, "瀬戸市");
        assert_eq!(
            s.ordinary_collection.due_dates[0],
            DueDateRule {
                month: 8,
                day: DueDay::Day(10)
            }
        );
        assert_eq!(s.late_fee.switch_months, 3);
        assert!(s.late_fee.truncate_segments);
        assert_eq!(s.pension_deduction.leveling, Leveling::JuneAugust);
        assert_eq!(s.refund_interest, Settings::sample().refund_interest);
        assert_eq!(s.demand.fees.len(), 2);
        assert_eq!(s.calendar, Settings::sample().calendar);
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = MINIMAL
            .replace("switch_months: 3", "switch_months: 2")
            .replace("{ month: 9, day: 10 }", "{ month: 7, day: 31 }")
            .replace("leveling: june-august", "leveling: juneaugust")
            .replace("\"2024-04-01\"", "\"2024-04-31\"")
            + "proration:\n  unit: 0\n  rounding: down\n";
        assert_eq!(
            codes_of(&text),
            [
                (codes::DUE_DATES, (5, 7)),
                ("YAML0008", (7, 13)),
                (codes::OUT_OF_RANGE, (9, 18)),
                (codes::BAD_DATE, (14, 19)),
                (codes::OUT_OF_RANGE, (16, 9)),
                ("YAML0005", (17, 3)),
            ]
        );
    }

    #[test]
    fn required_fields_and_bad_values_are_named() {
        let missing = "municipality: x\nordinary_collection:\n  due_dates: []\npension_deduction: {}\nlate_fee: {}\ndemand: {}\n";
        let got: Vec<&str> = load(missing).unwrap_err().iter().map(|d| d.code).collect();
        assert!(got.contains(&codes::DUE_DATES), "{got:?}");
        assert_eq!(
            got.iter().filter(|c| **c == "YAML0006").count(),
            4,
            "{got:?}"
        );
        let feb = MINIMAL.replace("{ month: 9, day: 10 }", "{ month: 2, day: 29 }");
        assert_eq!(codes_of(&feb), [(codes::BAD_DATE, (5, 24))]);
        let closure = format!(
            "{MINIMAL}calendar:\n  annual_closures:\n    - {{ from: \"12-32\", to: \"01-03\" }}\n"
        );
        assert_eq!(codes_of(&closure), [(codes::BAD_DATE, (17, 15))]);
        let fees = MINIMAL.replace(
            "    - { amount: 100 }\n    - { due_from: \"2024-04-01\", amount: 0 }\n",
            "    - { due_from: \"2024-04-01\", amount: 0 }\n    - { amount: 100 }\n",
        );
        assert_eq!(codes_of(&fees), [(codes::DEMAND_FEES, (14, 7))]);
        let typed = MINIMAL.replace("truncate_segments: true", "truncate_segments: yes");
        assert_eq!(codes_of(&typed), [("YAML0007", (10, 22))]);
        assert_eq!(codes_of("- a\n"), [("YAML0007", (1, 1))]);
    }
}
