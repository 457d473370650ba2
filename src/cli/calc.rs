//! `nagare calc`: the domain calculators, one subcommand each, printing one JSON object.
//!
//! Staff and scripts rely on these forms, so they are a contract: each subcommand prints
//! exactly one JSON object on standard output and exits 0, or prints an error on standard
//! error and exits 2 (bad arguments, a date outside the rate or holiday tables, an invalid
//! settings file). Dates are accepted as `2025-08-31` or as 和暦 (`令和7年8月31日`, `R7.8.31`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{Datelike, NaiveDate};
use nagare_steps::domain::appropriation::{Debt, appropriate};
use nagare_steps::domain::calendar::{
    BusinessCalendar, Direction, HolidayTable, fiscal_year, pension_payday,
};
use nagare_steps::domain::demand::demand_deadline;
use nagare_steps::domain::installments::{SplitRules, recalculate, split, with_due_dates};
use nagare_steps::domain::late_fee::{LateFeeInput, Payment, late_fee};
use nagare_steps::domain::pension_deduction::{
    Leveling, MONTHS, PensionDeductionInput, Provisional, new_starter, schedule,
};
use nagare_steps::domain::prescription::{Renewal, claim_prescription, refund_prescription};
use nagare_steps::domain::proration::{LossEvent, age_reaching_date, prorate};
use nagare_steps::domain::rates::RateTable;
use nagare_steps::domain::refund_interest::{
    OverpaymentKind, RefundInterestInput, refund_interest,
};
use nagare_steps::domain::settings::{self, Settings};
use nagare_steps::domain::wareki::{self, Wareki};
use nagare_steps::domain::{DomainError, Yen};
use serde_json::{Value, json};

use super::EXIT_USAGE;

/// Arguments of `nagare calc`.
#[derive(clap::Args)]
pub struct CalcArgs {
    /// Municipal settings file (YAML, see examples/settings/city.yaml); without it the
    /// sample city's settings are used
    #[arg(long, global = true, value_name = "FILE")]
    settings: Option<PathBuf>,
    #[command(subcommand)]
    command: CalcCommand,
}

#[derive(clap::Subcommand)]
enum CalcCommand {
    /// Split an annual premium into 普通徴収 installments, or re-split it after a change
    Installments(InstallmentsArgs),
    /// Compute the six 特別徴収 deductions (April to February), with leveling
    PensionDeduction(PensionDeductionArgs),
    /// Compute the months liable in a fiscal year and the prorated annual amount
    MonthlyProration(ProrationArgs),
    /// Compute the 延滞金 of one installment, with every segment
    LateFee(LateFeeArgs),
    /// Compute the 還付加算金 of one refund, with every segment
    RefundInterest(RefundInterestArgs),
    /// Apply an overpayment to unpaid installments and late fees, and give what is left
    Appropriation(AppropriationArgs),
    /// Give the day a claim (or a refund right) is prescribed
    Prescription(PrescriptionArgs),
    /// Give the latest day to send the 督促状 and the 指定期限 it carries
    DemandDeadline(DemandArgs),
    /// Move a date off closed days (forward for due dates, backward with --backward)
    DueDate(DueDateArgs),
    /// Give the pension payday of an even month (YYYY-MM)
    PensionPayday {
        /// The month, such as 2025-06
        month: String,
    },
    /// Convert a date to 和暦 (2019-05-01 → 令和元年5月1日) or back
    Wareki {
        /// A date as YYYY-MM-DD, or a 和暦 date such as 令和元年5月1日 or R1.5.1
        date: String,
    },
}

#[derive(clap::Args)]
struct InstallmentsArgs {
    /// The annual amount in yen
    #[arg(long, allow_negative_numbers = true)]
    annual: i64,
    /// Number of periods (default: the number of due dates in the settings)
    #[arg(long)]
    periods: Option<u32>,
    /// Unit of the periods that do not take the remainder (default: settings)
    #[arg(long, allow_negative_numbers = true)]
    unit: Option<i64>,
    /// Amounts of the first periods, already due or paid, that stay as they are
    /// (comma-separated): re-split the rest after a change of the annual amount
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    fixed: Vec<i64>,
    /// Fiscal year: add each period's due date from the settings
    #[arg(long)]
    fiscal_year: Option<i32>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LevelingArg {
    None,
    August,
    JuneAugust,
}

impl From<LevelingArg> for Leveling {
    fn from(arg: LevelingArg) -> Self {
        match arg {
            LevelingArg::None => Self::None,
            LevelingArg::August => Self::August,
            LevelingArg::JuneAugust => Self::JuneAugust,
        }
    }
}

#[derive(clap::Args)]
struct PensionDeductionArgs {
    /// The annual amount leveling assumes: the prior year's annual amount (for new
    /// starters, the annualised amount)
    #[arg(long, allow_negative_numbers = true)]
    prior_annual: i64,
    /// This year's annual amount
    #[arg(long, allow_negative_numbers = true)]
    annual: i64,
    /// April 仮徴収 (usually the prior February's deduction)
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "acquired"
    )]
    april: Option<i64>,
    /// June 仮徴収
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "acquired"
    )]
    june: Option<i64>,
    /// August 仮徴収 before leveling (default: the June amount)
    #[arg(long, allow_negative_numbers = true)]
    august: Option<i64>,
    /// Leveling (平準化) variant (default: settings)
    #[arg(long, value_enum)]
    leveling: Option<LevelingArg>,
    /// 資格取得日 of a new starter: 仮徴収 comes from --prior-annual by the 宇部市 table
    #[arg(long, value_parser = parse_date, conflicts_with_all = ["april", "june", "august"], requires = "fiscal_year")]
    acquired: Option<NaiveDate>,
    /// Fiscal year: needed with --acquired, and adds each deduction's payday
    #[arg(long)]
    fiscal_year: Option<i32>,
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("start").args(["birth", "acquired"]))]
#[command(group = clap::ArgGroup::new("end").args(["death", "moved_out", "lost"]))]
struct ProrationArgs {
    /// Fiscal year (April to March)
    #[arg(long)]
    fiscal_year: i32,
    /// The full annual amount in yen
    #[arg(long, allow_negative_numbers = true)]
    annual: i64,
    /// Date of birth: insured from the 75th birthday
    #[arg(long, value_parser = parse_date)]
    birth: Option<NaiveDate>,
    /// 資格取得日, for any other acquisition (転入, 障害認定)
    #[arg(long, value_parser = parse_date)]
    acquired: Option<NaiveDate>,
    /// Date of death: status lost the next day
    #[arg(long, value_parser = parse_date)]
    death: Option<NaiveDate>,
    /// Date of moving out of the area: status lost the next day
    #[arg(long, value_parser = parse_date)]
    moved_out: Option<NaiveDate>,
    /// 資格喪失日, for any other loss
    #[arg(long, value_parser = parse_date)]
    lost: Option<NaiveDate>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SwitchMonths {
    #[value(name = "1")]
    One,
    #[value(name = "3")]
    Three,
}

#[derive(clap::Args)]
struct LateFeeArgs {
    /// The installment's principal in yen
    #[arg(long, allow_negative_numbers = true)]
    principal: i64,
    /// Its due date (納期限)
    #[arg(long, value_parser = parse_date)]
    due: NaiveDate,
    /// Day the (rest of the) principal was paid in full
    #[arg(long, value_parser = parse_date)]
    paid: Option<NaiveDate>,
    /// A partial payment, DATE:AMOUNT (repeatable)
    #[arg(long = "payment", value_parser = parse_payment)]
    payments: Vec<Payment>,
    /// Day to compute up to while the principal is not fully paid
    #[arg(long, value_parser = parse_date)]
    until: Option<NaiveDate>,
    /// Months of the lower rate: 1 or 3 (default: settings)
    #[arg(long, value_enum)]
    switch_months: Option<SwitchMonths>,
    /// Drop yen fractions in each segment: true or false (default: settings)
    #[arg(long)]
    truncate_segments: Option<bool>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    /// 過納 after a 更正・賦課決定
    Overpaid,
    /// 誤納, such as a double payment
    Erroneous,
    /// 過納 after a 更正の請求
    CorrectionRequest,
}

impl From<KindArg> for OverpaymentKind {
    fn from(arg: KindArg) -> Self {
        match arg {
            KindArg::Overpaid => Self::Overpaid,
            KindArg::Erroneous => Self::Erroneous,
            KindArg::CorrectionRequest => Self::CorrectionRequest,
        }
    }
}

#[derive(clap::Args)]
struct RefundInterestArgs {
    /// The amount refunded in yen
    #[arg(long, allow_negative_numbers = true)]
    amount: i64,
    /// Why it was overpaid
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Day it was paid
    #[arg(long, value_parser = parse_date)]
    paid: NaiveDate,
    /// Day the refund payment was decided (支出決定日) or the appropriation made
    #[arg(long, value_parser = parse_date)]
    decided: NaiveDate,
    /// Due date of what was paid (counts from it when paid early)
    #[arg(long, value_parser = parse_date)]
    due: Option<NaiveDate>,
    /// Day of the 更正の請求 (with --kind correction-request)
    #[arg(long, value_parser = parse_date)]
    requested: Option<NaiveDate>,
    /// Day of the 更正 (with --kind correction-request)
    #[arg(long, value_parser = parse_date)]
    corrected: Option<NaiveDate>,
    /// Day the appropriation became possible (充当適状), when earlier than --decided
    #[arg(long, value_parser = parse_date)]
    appropriation_ready: Option<NaiveDate>,
    /// Day a refund notice was sent
    #[arg(long, value_parser = parse_date)]
    notice_sent: Option<NaiveDate>,
    /// Day the refund was claimed after the notice
    #[arg(long, value_parser = parse_date, requires = "notice_sent")]
    claimed: Option<NaiveDate>,
}

#[derive(clap::Args)]
struct AppropriationArgs {
    /// The overpayment in yen
    #[arg(long, allow_negative_numbers = true)]
    amount: i64,
    /// Day the overpayment arose
    #[arg(long, value_parser = parse_date)]
    arisen: NaiveDate,
    /// An unpaid installment, DUE:PRINCIPAL or DUE:PRINCIPAL:LATEFEE when its late fee is
    /// already known (repeatable)
    #[arg(long = "debt", value_parser = parse_debt)]
    debts: Vec<Debt>,
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("what").args(["due", "refund_arisen"]).required(true))]
struct PrescriptionArgs {
    /// Due date of the claim
    #[arg(long, value_parser = parse_date)]
    due: Option<NaiveDate>,
    /// Day a 督促状 was sent (repeatable)
    #[arg(long = "demand-sent", value_parser = parse_date, requires = "due")]
    demands: Vec<NaiveDate>,
    /// Day the debt was acknowledged: a partial payment, a 分納誓約 (repeatable)
    #[arg(long = "acknowledged", value_parser = parse_date, requires = "due")]
    acknowledged: Vec<NaiveDate>,
    /// Day enforcement was suspended (執行停止)
    #[arg(long, value_parser = parse_date, requires = "due")]
    enforcement_suspended: Option<NaiveDate>,
    /// Day an overpayment arose: give when the refund right is prescribed instead
    #[arg(long, value_parser = parse_date)]
    refund_arisen: Option<NaiveDate>,
}

#[derive(clap::Args)]
struct DemandArgs {
    /// Due date of the installment
    #[arg(long, value_parser = parse_date)]
    due: NaiveDate,
    /// Day the 督促状 is sent
    #[arg(long, value_parser = parse_date)]
    sent: Option<NaiveDate>,
}

#[derive(clap::Args)]
struct DueDateArgs {
    /// The date to adjust
    #[arg(value_parser = parse_date)]
    date: NaiveDate,
    /// Move to the previous business day instead of the next
    #[arg(long)]
    backward: bool,
    /// Use the banks' calendar (weekends, holidays, 12/31 to 1/3) instead of the office's
    #[arg(long)]
    banks: bool,
}

/// Runs `nagare calc` and returns the exit status.
pub fn run(args: CalcArgs) -> ExitCode {
    let settings = match load_settings(args.settings.as_deref()) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match compute(args.command, &settings) {
        Ok(value) => match serde_json::to_string_pretty(&value) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: cannot write the result as JSON: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn load_settings(path: Option<&Path>) -> Result<Settings, String> {
    let Some(path) = path else {
        return Ok(Settings::sample());
    };
    let bytes = std::fs::read(path).map_err(|err| {
        format!(
            "error: cannot read the settings file {}: {err}",
            path.display()
        )
    })?;
    settings::from_yaml(&path.display().to_string(), &bytes).map_err(|diags| {
        let mut out = String::new();
        for diag in &diags {
            out.push_str(&diag.to_string());
            if let Some(help) = &diag.help {
                out.push_str("\n  help: ");
                out.push_str(help);
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "error: the settings file {} has {} problem(s)",
            path.display(),
            diags.len()
        ));
        out
    })
}

fn compute(command: CalcCommand, settings: &Settings) -> Result<Value, DomainError> {
    match command {
        CalcCommand::Installments(a) => installments(a, settings),
        CalcCommand::PensionDeduction(a) => pension_deduction(a, settings),
        CalcCommand::MonthlyProration(a) => monthly_proration(a, settings),
        CalcCommand::LateFee(a) => late_fee_cmd(a, settings),
        CalcCommand::RefundInterest(a) => refund_interest_cmd(a, settings),
        CalcCommand::Appropriation(a) => {
            let result = appropriate(
                Yen(a.amount),
                a.arisen,
                &a.debts,
                &settings.late_fee,
                RateTable::official(),
            )?;
            to_json(&result)
        }
        CalcCommand::Prescription(a) => prescription(a, settings),
        CalcCommand::DemandDeadline(a) => {
            let result = demand_deadline(
                a.due,
                a.sent,
                &settings.demand,
                &settings.business_calendar(),
            )?;
            let mut value = to_json(&result)?;
            if let Some(deadline) = result.designated_deadline_adjusted {
                value["designated_deadline_wareki"] = json!(wareki::format(deadline)?);
            }
            Ok(value)
        }
        CalcCommand::DueDate(a) => {
            let calendar = if a.banks {
                BusinessCalendar::banks(HolidayTable::official())
            } else {
                settings.business_calendar()
            };
            let direction = if a.backward {
                Direction::Backward
            } else {
                Direction::Forward
            };
            let adjustment = calendar.adjust(a.date, direction)?;
            let mut value = to_json(&adjustment)?;
            value["adjusted_wareki"] = json!(wareki::format(adjustment.adjusted)?);
            Ok(value)
        }
        CalcCommand::PensionPayday { month } => {
            let (year, month) = parse_year_month(&month)?;
            to_json(&pension_payday(HolidayTable::official(), year, month)?)
        }
        CalcCommand::Wareki { date } => wareki_cmd(&date),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, DomainError> {
    serde_json::to_value(value)
        .map_err(|err| DomainError::Invalid(format!("cannot serialise the result: {err}")))
}

fn installments(a: InstallmentsArgs, settings: &Settings) -> Result<Value, DomainError> {
    let oc = &settings.ordinary_collection;
    let periods = a
        .periods
        .unwrap_or_else(|| u32::try_from(oc.due_dates.len()).unwrap_or(u32::MAX));
    let rules = SplitRules {
        unit: a.unit.map_or(oc.installment_unit, Yen),
        ..SplitRules::from(oc)
    };
    let fixed: Vec<Yen> = a.fixed.into_iter().map(Yen).collect();
    let mut value = if fixed.is_empty() {
        let result = split(Yen(a.annual), periods, &rules)?;
        to_json(&result)?
    } else {
        let result = recalculate(Yen(a.annual), periods, &fixed, &rules)?;
        to_json(&result)?
    };
    value["periods"] = json!(periods);
    value["unit"] = json!(rules.unit);
    value["remainder_to"] = to_json(&rules.remainder_to)?;
    if let Some(year) = a.fiscal_year {
        let amounts: Vec<Yen> = serde_json::from_value(value["amounts"].clone())
            .map_err(|err| DomainError::Invalid(err.to_string()))?;
        let due = with_due_dates(&amounts, year, oc, &settings.business_calendar())?;
        value["fiscal_year"] = json!(year);
        value["installments"] = to_json(&due)?;
    }
    Ok(value)
}

fn pension_deduction(a: PensionDeductionArgs, settings: &Settings) -> Result<Value, DomainError> {
    let unit = settings.pension_deduction.unit;
    let mut leveling = a
        .leveling
        .map_or(settings.pension_deduction.leveling, Leveling::from);
    let (provisional, new_starter_json) = match (a.acquired, a.fiscal_year) {
        (Some(acquired), Some(year)) => {
            let starter = new_starter(acquired, year, Yen(a.prior_annual), unit)?;
            // New starters' amounts come from the annualised amount: leveling is for
            // continuing deductions and is not applied to them.
            leveling = Leveling::None;
            (starter.provisional, Some(to_json(&starter)?))
        }
        _ => {
            let june = Yen(a.june.unwrap_or_default());
            let provisional = Provisional {
                april: Yen(a.april.unwrap_or_default()),
                june,
                august: a.august.map_or(june, Yen),
            };
            (provisional, None)
        }
    };
    let input = PensionDeductionInput {
        prior_annual: Yen(a.prior_annual),
        annual: Yen(a.annual),
        provisional,
        leveling,
    };
    let result = schedule(&input, unit)?;
    let mut value = to_json(&result)?;
    value["prior_annual"] = json!(input.prior_annual);
    value["annual"] = json!(input.annual);
    value["months"] = json!(MONTHS);
    if let Some(starter) = new_starter_json {
        value["new_starter"] = starter;
    }
    if let Some(year) = a.fiscal_year {
        let mut deductions = Vec::with_capacity(6);
        for (i, (month, amount)) in MONTHS.iter().zip(result.amounts).enumerate() {
            let calendar_year = if *month >= 4 { year } else { year + 1 };
            let payday = pension_payday(HolidayTable::official(), calendar_year, *month)?;
            deductions.push(json!({
                "month": format!("{calendar_year:04}-{month:02}"),
                "kind": if i < 3 { "provisional" } else { "final" },
                "payday": payday.adjusted,
                "amount": amount,
            }));
        }
        value["fiscal_year"] = json!(year);
        value["deductions"] = json!(deductions);
    }
    Ok(value)
}

fn monthly_proration(a: ProrationArgs, settings: &Settings) -> Result<Value, DomainError> {
    let acquired = match (a.birth, a.acquired) {
        (Some(birth), _) => Some(age_reaching_date(birth)?),
        (None, acquired) => acquired,
    };
    let loss = match (a.death, a.moved_out, a.lost) {
        (Some(d), _, _) => Some(LossEvent::Death(d)),
        (_, Some(d), _) => Some(LossEvent::MovedOut(d)),
        (_, _, Some(d)) => Some(LossEvent::Lost(d)),
        _ => None,
    };
    let lost = loss.map(LossEvent::loss_date).transpose()?;
    let result = prorate(
        a.fiscal_year,
        Yen(a.annual),
        acquired,
        lost,
        settings.proration.unit,
    )?;
    let mut value = to_json(&result)?;
    if let Some(event) = loss {
        value["loss_event"] = to_json(&event)?;
    }
    Ok(value)
}

fn late_fee_cmd(a: LateFeeArgs, settings: &Settings) -> Result<Value, DomainError> {
    let mut rules = settings.late_fee.clone();
    if let Some(months) = a.switch_months {
        rules.switch_months = match months {
            SwitchMonths::One => 1,
            SwitchMonths::Three => 3,
        };
    }
    if let Some(truncate) = a.truncate_segments {
        rules.truncate_segments = truncate;
    }
    Yen(a.principal).validate("the principal")?;
    let mut payments = a.payments;
    if let Some(paid) = a.paid {
        if let Some(later) = payments.iter().find(|p| p.date > paid) {
            return Err(DomainError::DatesOutOfOrder {
                earlier_what: "a partial payment",
                earlier: later.date,
                later_what: "the day of full payment (--paid)",
                later: paid,
            });
        }
        let partial: Yen = payments.iter().map(|p| p.amount).sum();
        if partial > Yen(a.principal) {
            return Err(DomainError::Invalid(format!(
                "the partial payments ({}) exceed the principal ({})",
                partial.get(),
                a.principal
            )));
        }
        payments.push(Payment {
            date: paid,
            amount: Yen(a.principal) - partial,
        });
    }
    let input = LateFeeInput {
        principal: Yen(a.principal),
        due_date: a.due,
        payments,
        until: a.until,
    };
    to_json(&late_fee(&input, &rules, RateTable::official())?)
}

fn refund_interest_cmd(a: RefundInterestArgs, settings: &Settings) -> Result<Value, DomainError> {
    let input = RefundInterestInput {
        amount: Yen(a.amount),
        kind: a.kind.into(),
        paid: a.paid,
        due_date: a.due,
        requested: a.requested,
        corrected: a.corrected,
        decided: a.decided,
        appropriation_ready: a.appropriation_ready,
        notice_sent: a.notice_sent,
        claimed: a.claimed,
    };
    to_json(&refund_interest(
        &input,
        &settings.refund_interest,
        RateTable::official(),
    )?)
}

fn prescription(a: PrescriptionArgs, settings: &Settings) -> Result<Value, DomainError> {
    match (a.due, a.refund_arisen) {
        (Some(due), None) => {
            let renewals: Vec<Renewal> = a
                .demands
                .into_iter()
                .map(Renewal::DemandSent)
                .chain(a.acknowledged.into_iter().map(Renewal::Acknowledged))
                .collect();
            to_json(&claim_prescription(
                due,
                &renewals,
                a.enforcement_suspended,
                &settings.prescription,
            )?)
        }
        (None, Some(arisen)) => to_json(&refund_prescription(arisen, &settings.prescription)?),
        _ => Err(DomainError::Invalid(
            "give either --due (a claim) or --refund-arisen (a refund right), not both".to_owned(),
        )),
    }
}

fn wareki_cmd(text: &str) -> Result<Value, DomainError> {
    let date = match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(date) => date,
        Err(_) => wareki::parse(text)?,
    };
    let w = Wareki::from_date(date)?;
    Ok(json!({
        "date": date,
        "wareki": w.to_string(),
        "era": w.era.name(),
        "era_year": w.year,
        "jis_x0301": w.jis_x0301(),
        "fiscal_year": fiscal_year(date),
        "weekday": date.weekday().to_string(),
    }))
}

/// Reads a date as `YYYY-MM-DD` or as 和暦.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(date);
    }
    if text.trim().starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a date: write it as 2025-08-31 or 令和7年8月31日"
        ));
    }
    wareki::parse(text).map_err(|err| err.to_string())
}

fn parse_amount(text: &str) -> Result<i64, String> {
    text.trim()
        .replace(',', "")
        .parse::<i64>()
        .map_err(|_| format!("`{text}` is not a whole number of yen"))
}

/// Reads `DATE:AMOUNT`.
fn parse_payment(text: &str) -> Result<Payment, String> {
    let (date, amount) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("`{text}` is not DATE:AMOUNT, such as 2025-09-30:5000"))?;
    Ok(Payment {
        date: parse_date(date)?,
        amount: Yen(parse_amount(amount)?),
    })
}

/// Reads `DUE:PRINCIPAL` or `DUE:PRINCIPAL:LATEFEE`.
fn parse_debt(text: &str) -> Result<Debt, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (due, principal, fee) = match parts[..] {
        [due, principal] => (due, principal, None),
        [due, principal, fee] => (due, principal, Some(fee)),
        _ => {
            return Err(format!(
                "`{text}` is not DUE:PRINCIPAL or DUE:PRINCIPAL:LATEFEE, such as 2025-09-30:15000"
            ));
        }
    };
    let due_date = parse_date(due)?;
    Ok(Debt {
        label: format!("due {due_date}"),
        due_date,
        principal: Yen(parse_amount(principal)?),
        late_fee: fee.map(parse_amount).transpose()?.map(Yen),
    })
}

fn parse_year_month(text: &str) -> Result<(i32, u32), DomainError> {
    let bad = || DomainError::Invalid(format!("`{text}` is not a month: write it as 2025-06"));
    let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
    Ok((
        year.parse().map_err(|_| bad())?,
        month.parse().map_err(|_| bad())?,
    ))
}
