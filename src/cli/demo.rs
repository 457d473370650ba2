//! `nagare demo`: a year of municipal work on synthetic people, end to end through the
//! runtime and the real step handlers: 確定賦課 (3.4), a 口座振替 with its 振替結果 and
//! 再振替 (4.3), and 督促 (4.7), on a fixed clock so that every run prints the same.
//!
//! Everything about the people is invented (見本 太郎, 見本県見本市架空町 …) and generated
//! from the seed. Work the flows draw in other lanes (the 広域連合's assessment, the bank)
//! is played by this command: it produces their files and delivers them to the waiting
//! work items. Steps whose handlers are not implemented (所得・課税, 特別徴収) are skipped
//! by the scripted clerk with a recorded reason, as staff would with `nagare skip`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use clap::Args;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::clock::jst;
use nagare_engine::runtime::{
    Actor, Clock, Data, Delivery, DeliveryTarget, ItemState, Runtime, TestClock, TokenState, Wait,
};
use nagare_engine::store::{self, ItemFilter, Param, Store};
use nagare_steps::formats::csv_layout::{CsvOptions, FieldValue, Record};
use nagare_steps::formats::union::{self, layouts};
use nagare_steps::formats::zengin::debit::{
    DebitCheck, DebitResult, DebitResultCode, DebitResultRecord, read_request, write_result,
};
use nagare_steps::handlers::HandlerSettings;
use nagare_steps::handlers::common::store_inbound_file;
use nagare_steps::handlers::direct_debit::{bank_profile, request_period_debits};
use nagare_steps::handlers::sql::{self, Row};
use serde_json::{Value, json};

use super::check::read_flow_sources;

/// Arguments of `nagare demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Database URL; default: the SQLite file nagare-demo.db here, recreated each run.
    /// A PostgreSQL database must be empty.
    #[arg(long)]
    pub db: Option<String>,
    /// Number of synthetic insured persons
    #[arg(long, default_value_t = 1000)]
    pub persons: usize,
    /// Seed of the synthetic data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder or file of flows
    #[arg(long, default_value = "flows")]
    pub flows: PathBuf,
    /// Folder the outbound files and letters are written to
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

const CLERK: &str = "demo-clerk";
const FISCAL_YEAR: i32 = 2025;

/// Runs the demo and prints its summary.
pub fn run(args: DemoArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    match rt.block_on(demo(&args)) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(super::EXIT_PROBLEMS)
        }
    }
}

/// A deterministic generator (splitmix64): the same seed gives the same people.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn at(date: &str, hour: u32) -> Result<DateTime<Utc>, String> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| e.to_string())?;
    let local = d.and_hms_opt(hour, 0, 0).ok_or("bad hour")?;
    jst()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{date} {hour}:00 is not a time in Japan"))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

struct Demo {
    rt: Runtime,
    store: Arc<dyn Store>,
    clock: Arc<TestClock>,
    settings: HandlerSettings,
    rng: Rng,
    out: PathBuf,
    skipped: Vec<String>,
}

async fn demo(args: &DemoArgs) -> Result<String, String> {
    let started = std::time::Instant::now();
    let url = match &args.db {
        Some(url) => url.clone(),
        None => {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("nagare-demo.db{suffix}"));
            }
            "sqlite://nagare-demo.db".to_owned()
        }
    };
    let sources = read_flow_sources(std::slice::from_ref(&args.flows)).map_err(err)?;
    let outcome = check_sources(&sources);
    let catalog = outcome.catalog.ok_or_else(|| {
        format!(
            "the flows under {} have errors; run `nagare check {}`",
            args.flows.display(),
            args.flows.display()
        )
    })?;
    let store = store::open(&url).await.map_err(err)?;
    let clock = Arc::new(TestClock::new(at("2025-07-01", 9)?));
    let settings = HandlerSettings::sample();
    let rt = Runtime::new(
        Arc::clone(&store),
        crate::handlers::registry(),
        clock.clone(),
    )
    .with_settings(settings.to_json())
    .with_calendar(Arc::new(settings.municipal.business_calendar()));
    rt.register_catalog(&catalog).await.map_err(err)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut d = Demo {
        rt,
        store,
        clock,
        settings,
        rng: Rng(args.seed),
        out: args.out.clone(),
        skipped: Vec::new(),
    };
    d.ensure_empty(&url).await?;
    d.seed_people(args.persons).await?;
    d.annual_assessment().await?;
    d.counter_payments().await?;
    d.direct_debit().await?;
    d.demand().await?;
    let summary = d.summary(&url, args.persons, started).await?;
    Ok(summary)
}

/// Given names with their readings; the family name is always 見本 (ミホン), "sample".
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("和子", "カズコ"),
    ("次郎", "ジロウ"),
    ("幸子", "サチコ"),
    ("三郎", "サブロウ"),
    ("節子", "セツコ"),
    ("四郎", "シロウ"),
    ("洋子", "ヨウコ"),
];

impl Demo {
    async fn with_db<T>(
        &self,
        f: impl AsyncFnOnce(&mut store::Db<'_>) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut tx = self.store.begin().await.map_err(err)?;
        let result = {
            let mut db = tx.db();
            f(&mut db).await
        };
        match result {
            Ok(v) => {
                tx.commit().await.map_err(err)?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn query(&self, sql_text: &'static str, params: &[Param]) -> Result<Vec<Row>, String> {
        let params = params.to_vec();
        self.with_db(async move |db| sql::fetch(db, sql_text, &params).await.map_err(err))
            .await
    }

    fn today(&self) -> NaiveDate {
        nagare_engine::runtime::clock::civil_date(Clock::now(&*self.clock))
    }

    /// The resident register's part of the ledger: insured persons and, for about 60 %,
    /// a 口座振替 account.
    /// Refuses to run on a database that already holds work or people: the demo's synthetic
    /// data must never mix with real records.
    async fn ensure_empty(&self, url: &str) -> Result<(), String> {
        self.with_db(async move |db| {
            let rows = sql::fetch(
                db,
                "SELECT (SELECT COUNT(*) FROM work_items) + (SELECT COUNT(*) FROM insured_persons)",
                &[],
            )
            .await
            .map_err(err)?;
            if rows.first().map_or(0, |r| r.int(0)) > 0 {
                return Err(format!(
                    "{url} already holds work items or insured persons; the demo needs an empty database \
                     (leave out --db and NAGARE_DB to use a fresh nagare-demo.db)"
                ));
            }
            Ok(())
        })
        .await
    }

    async fn seed_people(&mut self, n: usize) -> Result<(), String> {
        let mut people = Vec::with_capacity(n);
        for i in 1..=n {
            let (given, kana) = GIVEN[self.rng.below(GIVEN.len() as u64) as usize];
            let year = 1930 + self.rng.below(20) as i32;
            let birth = NaiveDate::from_ymd_opt(
                year,
                1 + self.rng.below(12) as u32,
                1 + self.rng.below(28) as u32,
            )
            .ok_or("bad birth date")?;
            let turned_75 = birth.with_year(year + 75).unwrap_or(birth);
            let acquired = turned_75.max(NaiveDate::from_ymd_opt(2008, 4, 1).ok_or("date")?);
            let address = format!(
                "見本県見本市架空町{}丁目{}番{}号",
                1 + self.rng.below(9),
                1 + self.rng.below(30),
                1 + self.rng.below(20)
            );
            let debit = self.rng.chance(60);
            people.push((
                format!("{:010}", 8_000_000 + i),
                format!("{:08}", 90_000_000 + i),
                format!("見本 {given}"),
                format!("ミホン {kana}"),
                format!("999{:04}", self.rng.below(10_000)),
                address,
                birth,
                acquired,
                debit.then(|| format!("{:07}", self.rng.below(10_000_000))),
            ));
        }
        self.with_db(async move |db| {
            for p in &people {
                sql::execute(
                    db,
                    "INSERT INTO insured_persons (addressee_no, insured_no, name_kanji, name_kana, postal_code, address, birth_date, acquired) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        Param::Text(p.0.clone()),
                        Param::Text(p.1.clone()),
                        Param::Text(p.2.clone()),
                        Param::Text(p.3.clone()),
                        Param::Text(p.4.clone()),
                        Param::Text(p.5.clone()),
                        Param::Text(p.6.to_string()),
                        Param::Text(p.7.to_string()),
                    ],
                )
                .await
                .map_err(err)?;
                if let Some(account) = &p.8 {
                    sql::execute(
                        db,
                        "INSERT INTO bank_accounts (addressee_no, bank_code, branch_code, account_type, account_number, holder_kana, valid_from) \
                         VALUES ($1, '0001', '001', 1, $2, $3, '2024-04-01')",
                        &[Param::Text(p.0.clone()), Param::Text(account.clone()), Param::Text(p.3.clone())],
                    )
                    .await
                    .map_err(err)?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Runs batches until nothing is runnable; a step whose handler is not implemented is
    /// skipped by the clerk with the reason recorded, any other failure stops the demo.
    async fn settle(&mut self) -> Result<(), String> {
        let progress = super::progress::Progress::spinner("demo: running system steps");
        let mut done = 0;
        loop {
            let report = self.rt.run_batch(100).await.map_err(err)?;
            if report.items > 0 {
                done += report.items;
                progress.show(format!("{done} work item run(s)"));
                continue;
            }
            let failed = self
                .store
                .items(&ItemFilter {
                    state: Some(ItemState::Failed),
                    ..ItemFilter::default()
                })
                .await
                .map_err(err)?;
            if failed.is_empty() {
                return Ok(());
            }
            for item in failed {
                let error = item.error.clone().unwrap_or_default();
                if !error.contains("no handler is registered") {
                    return Err(format!(
                        "work item {} ({} {}) failed: {error}",
                        item.id, item.flow_id, item.subject
                    ));
                }
                let node = self
                    .store
                    .tokens(item.id)
                    .await
                    .map_err(err)?
                    .into_iter()
                    .find(|t| t.state == TokenState::Failed)
                    .map(|t| t.node)
                    .unwrap_or_default();
                self.rt
                    .skip(
                        item.id,
                        &Actor::User(CLERK.to_owned()),
                        "この工程は本システムで未実装（デモにデータなし）: 担当者確認のうえ通過",
                    )
                    .await
                    .map_err(err)?;
                self.skipped.push(format!("{} {node}", item.flow_id));
            }
        }
    }

    async fn deliver(&self, target: DeliveryTarget, payload: Value) -> Result<(), String> {
        let payload: Data = payload.as_object().cloned().unwrap_or_default();
        self.rt
            .deliver(Delivery {
                target,
                payload,
                delivery_id: None,
                actor: Actor::System,
            })
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Delivers what the other lanes of 3.4 send while the item waits for them.
    async fn play_other_lanes(&mut self, item: i64, premium_file: i64) -> Result<(), String> {
        let fy = FISCAL_YEAR.to_string();
        loop {
            self.settle().await?;
            let waiting: Vec<String> = self
                .store
                .tokens(item)
                .await
                .map_err(err)?
                .into_iter()
                .filter(|t| {
                    t.state == TokenState::Waiting
                        && matches!(t.wait, Some(Wait::Message | Wait::External))
                })
                .map(|t| t.node)
                .collect();
            let Some(node) = waiting.first() else {
                return Ok(());
            };
            let correlated = |document: &str| DeliveryTarget::Correlated {
                document: document.to_owned(),
                value: fy.clone(),
            };
            let (target, payload) = match node.as_str() {
                // No 所得・課税 changes are simulated.
                "receive_income_tax_changes" => (correlated("income_tax_change_info"), json!({})),
                "union_assesses_premiums" => (
                    DeliveryTarget::Item {
                        item_id: item,
                        node: node.clone(),
                    },
                    json!({}),
                ),
                "receive_premium_info" => (
                    correlated("premium_info"),
                    json!({"premium_info": premium_file}),
                ),
                "receive_pension_deduction_targets" => {
                    (correlated("pension_deduction_target_info"), json!({}))
                }
                "receive_ltc_deduction_extension" => {
                    (correlated("ltc_deduction_extension_info"), json!({}))
                }
                "pension_window_receives_requests" => (
                    DeliveryTarget::Item {
                        item_id: item,
                        node: node.clone(),
                    },
                    json!({}),
                ),
                other => {
                    return Err(format!(
                        "3.4 waits at `{other}`, which the demo does not play"
                    ));
                }
            };
            self.deliver(target, payload).await?;
        }
    }

    /// The 広域連合's 保険料情報 (its assessment is outside this system): 均等割 with the
    /// statutory 7/5/2割 reductions for some, 所得割 for the others.
    fn premium_file(&mut self, people: &[Row]) -> Result<Vec<u8>, String> {
        const PER_CAPITA: i64 = 47_300;
        let mut records = Vec::with_capacity(people.len());
        for p in people {
            let roll = self.rng.below(100);
            let (per_capita, income, reduction) = match roll {
                0..40 => (PER_CAPITA * 3 / 10, 0, Some("7")),
                40..60 => (PER_CAPITA / 2, 0, Some("5")),
                60..70 => (PER_CAPITA * 8 / 10, 0, Some("2")),
                _ => (PER_CAPITA, self.rng.below(3_000) as i64 * 100, None),
            };
            let annual = ((per_capita + income) / 100 * 100).min(800_000);
            let text = |s: String| FieldValue::Text(s);
            records.push(Record(BTreeMap::from([
                (
                    "municipality_code".to_owned(),
                    text(self.settings.office.municipality_code.clone()),
                ),
                ("insured_no".to_owned(), text(p.text(1))),
                ("addressee_no".to_owned(), text(p.text(0))),
                ("fiscal_year".to_owned(), text(FISCAL_YEAR.to_string())),
                ("assessment_kind".to_owned(), text("2".to_owned())),
                ("decided_on".to_owned(), FieldValue::Date(self.today())),
                ("per_capita_yen".to_owned(), FieldValue::Int(per_capita)),
                ("income_based_yen".to_owned(), FieldValue::Int(income)),
                (
                    "reduction_code".to_owned(),
                    reduction.map_or(FieldValue::Null, |r| text(r.to_owned())),
                ),
                ("annual_premium_yen".to_owned(), FieldValue::Int(annual)),
            ])));
        }
        union::write(&layouts::PREMIUM, &records, &CsvOptions::default()).map_err(err)
    }

    async fn annual_assessment(&mut self) -> Result<(), String> {
        let people = self
            .query(
                "SELECT addressee_no, insured_no FROM insured_persons ORDER BY addressee_no",
                &[],
            )
            .await?;
        let file = self.premium_file(&people)?;
        let today = self.today();
        let name = format!("保険料情報_{FISCAL_YEAR}.csv");
        let file_id = self
            .with_db(async |db| {
                store_inbound_file(db, "premium_info", &name, &file, today)
                    .await
                    .map_err(err)
            })
            .await?;
        let item = self
            .rt
            .start(
                "3.4",
                &format!("確定賦課 {FISCAL_YEAR}年度"),
                json!({"fiscal_year": FISCAL_YEAR.to_string()})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                &Actor::User(CLERK.to_owned()),
            )
            .await
            .map_err(err)?;
        self.play_other_lanes(item, file_id).await
    }

    /// Most people paying by 納付書 pay the first period at a counter before its due date.
    /// 4.2 収納消込（自主納付） is not part of the demo, so these receipts are entered here
    /// and marked as synthetic.
    async fn counter_payments(&mut self) -> Result<(), String> {
        self.clock.set(at("2025-07-25", 9)?);
        let rows = self
            .query(
                "SELECT id, amount_yen FROM installments WHERE fiscal_year = $1 AND period = 1 \
                 AND collection_method = 'ordinary' ORDER BY id",
                &[Param::Int(i64::from(FISCAL_YEAR))],
            )
            .await?;
        let paid: Vec<(i64, i64)> = rows
            .iter()
            .filter(|_| self.rng.chance(85))
            .map(|r| (r.int(0), r.int(1)))
            .collect();
        self.with_db(async move |db| {
            for (id, amount) in &paid {
                sql::execute(
                    db,
                    "INSERT INTO receipts (installment_id, paid_on, amount_yen, source, reference, item_id) \
                     VALUES ($1, '2025-07-25', $2, 'counter', $3, 0)",
                    &[Param::Int(*id), Param::Int(*amount), Param::Text(format!("demo-synthetic/{id}"))],
                )
                .await
                .map_err(err)?;
            }
            Ok(())
        })
        .await
    }

    /// Plays the bank: reads our request and answers it, `fail_percent` of the debits
    /// failing (mostly 資金不足).
    fn bank_result(&mut self, request: &[u8], fail_percent: u64) -> Result<Vec<u8>, String> {
        let request = read_request(request, &DebitCheck::default()).map_err(err)?;
        let records = request
            .records
            .into_iter()
            .map(|record| {
                let result = if self.rng.chance(fail_percent) {
                    if self.rng.chance(80) {
                        DebitResultCode::InsufficientFunds
                    } else {
                        DebitResultCode::NoAccount
                    }
                } else {
                    DebitResultCode::Debited
                };
                DebitResultRecord { record, result }
            })
            .collect();
        let result = DebitResult {
            header: request.header,
            records,
        };
        write_result(&result, &bank_profile()).map_err(err)
    }

    fn write_out(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let path = self.out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    async fn deliver_bank_result(
        &mut self,
        request_no: &str,
        file: &[u8],
        fail: u64,
    ) -> Result<(), String> {
        let result = self.bank_result(file, fail)?;
        let name = format!("振替結果_{request_no}.txt");
        self.write_out(&name, &result)?;
        let today = self.today();
        let id = self
            .with_db(async |db| {
                store_inbound_file(db, "debit_result_data", &name, &result, today)
                    .await
                    .map_err(err)
            })
            .await?;
        self.deliver(
            DeliveryTarget::Correlated {
                document: "debit_result_data".to_owned(),
                value: request_no.to_owned(),
            },
            json!({"debit_result_data": id}),
        )
        .await?;
        self.settle().await
    }

    async fn direct_debit(&mut self) -> Result<(), String> {
        // The request for period 1 goes to the bank ahead of the due date.
        self.clock.set(at("2025-07-15", 9)?);
        let request_no = "D2025-01".to_owned();
        let office = self.settings.office.clone();
        let due = self
            .query(
                "SELECT MIN(due_date) FROM installments WHERE fiscal_year = $1 AND period = 1",
                &[Param::Int(i64::from(FISCAL_YEAR))],
            )
            .await?
            .first()
            .map(|r| r.text(0))
            .unwrap_or_default();
        let debit_date = NaiveDate::parse_from_str(&due, "%Y-%m-%d").map_err(err)?;
        let no = request_no.clone();
        let file = self
            .with_db(async move |db| {
                request_period_debits(db, &office, FISCAL_YEAR, 1, &no, debit_date)
                    .await
                    .map_err(err)
            })
            .await?;
        self.write_out(&file.file_name, &file.content)?;
        self.rt
            .start(
                "4.3",
                &format!("口座振替 {request_no}"),
                json!({"debit_request_no": request_no, "fiscal_year": FISCAL_YEAR.to_string(), "debit_round": 1})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                &Actor::User(CLERK.to_owned()),
            )
            .await
            .map_err(err)?;
        self.settle().await?;
        // The bank's result a few days after the debit day.
        self.clock.set(at("2025-08-05", 9)?);
        self.deliver_bank_result(&request_no, &file.content, 6)
            .await?;
        // The 再振替 the flow asked for, answered by the bank in turn.
        let retry = self
            .query(
                "SELECT request_no FROM debit_requests WHERE round = 2 ORDER BY request_no LIMIT 1",
                &[],
            )
            .await?;
        if let Some(row) = retry.first() {
            let retry_no = row.text(0);
            let content = self
                .query(
                    "SELECT content_b64 FROM outbound_files WHERE document = 'debit_request_data' ORDER BY id DESC LIMIT 1",
                    &[],
                )
                .await?
                .first()
                .map(|r| r.text(0))
                .unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content)
                .map_err(err)?;
            self.clock.set(at("2025-08-19", 9)?);
            self.deliver_bank_result(&retry_no, &bytes, 50).await?;
        }
        Ok(())
    }

    async fn demand(&mut self) -> Result<(), String> {
        // Twenty days after the first due date: the last day to send 督促状 for it.
        self.clock.set(at("2025-08-20", 9)?);
        let today = self.today();
        self.rt
            .start(
                "4.7",
                &format!("督促 {today}"),
                Data::new(),
                &Actor::User(CLERK.to_owned()),
            )
            .await
            .map_err(err)?;
        self.settle().await
    }

    async fn summary(
        &self,
        url: &str,
        persons: usize,
        started: std::time::Instant,
    ) -> Result<String, String> {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "nagare demo: {} synthetic insured persons, fiscal year {FISCAL_YEAR}, clock ends {}",
            persons,
            self.today()
        );
        let _ = writeln!(w, "database: {url}");
        let _ = writeln!(w, "\n== work items ==");
        let items = self
            .query("SELECT flow_id, state, COUNT(*) FROM work_items GROUP BY flow_id, state ORDER BY flow_id, state", &[])
            .await?;
        for r in &items {
            let _ = writeln!(w, "items {} {}: {}", r.text(0), r.text(1), r.int(2));
        }
        let transitions = self.query("SELECT COUNT(*) FROM transitions", &[]).await?;
        let _ = writeln!(
            w,
            "transitions: {}",
            transitions.first().map_or(0, |r| r.int(0))
        );
        let _ = writeln!(
            w,
            "skipped steps (handler not implemented): {}",
            self.skipped.len()
        );
        for node in &self.skipped {
            let _ = writeln!(w, "  skipped {node}");
        }
        let _ = writeln!(w, "\n== ledger ==");
        let one = async |sql_text: &'static str| -> Result<(i64, i64), String> {
            let rows = self.query(sql_text, &[]).await?;
            Ok(rows.first().map_or((0, 0), |r| (r.int(0), r.int(1))))
        };
        let (n, t) = one(
            "SELECT COUNT(*), CAST(COALESCE(SUM(annual_yen), 0) AS BIGINT) FROM annual_premiums",
        )
        .await?;
        let _ = writeln!(w, "annual premiums: {n} totalling {t} yen");
        let (n, t) =
            one("SELECT COUNT(*), CAST(COALESCE(SUM(amount_yen), 0) AS BIGINT) FROM installments")
                .await?;
        let _ = writeln!(w, "installments: {n} totalling {t} yen");
        let rows = self
            .query("SELECT collection_method, COUNT(*), CAST(SUM(amount_yen) AS BIGINT) FROM installments GROUP BY collection_method ORDER BY 1", &[])
            .await?;
        for r in &rows {
            let _ = writeln!(
                w,
                "installments {}: {} totalling {} yen",
                r.text(0),
                r.int(1),
                r.int(2)
            );
        }
        let (n, t) = one(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_yen), 0) AS BIGINT) FROM debit_requests",
        )
        .await?;
        let _ = writeln!(w, "debit requests: {n} totalling {t} yen");
        let rows = self
            .query("SELECT request_no, CAST(SUM(CASE WHEN result_code = 0 THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN result_code <> 0 THEN 1 ELSE 0 END) AS BIGINT) FROM debit_requests GROUP BY request_no ORDER BY 1", &[])
            .await?;
        for r in &rows {
            let _ = writeln!(
                w,
                "debit {}: debited {}, failed {}",
                r.text(0),
                r.int(1),
                r.int(2)
            );
        }
        let rows = self
            .query("SELECT source, COUNT(*), CAST(SUM(amount_yen) AS BIGINT) FROM receipts GROUP BY source ORDER BY 1", &[])
            .await?;
        for r in &rows {
            let note = if r.text(0) == "counter" {
                " (synthetic, 4.2 not run)"
            } else {
                ""
            };
            let _ = writeln!(
                w,
                "receipts {}: {} totalling {} yen{note}",
                r.text(0),
                r.int(1),
                r.int(2)
            );
        }
        let (n, t) =
            one("SELECT COUNT(*), CAST(COALESCE(SUM(unpaid_yen), 0) AS BIGINT) FROM demands")
                .await?;
        let (fees, sent) = one("SELECT CAST(COALESCE(SUM(demand_fee_yen), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN sent_on IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) FROM demands").await?;
        let _ = writeln!(
            w,
            "demands: {n} for {t} yen unpaid, demand fees {fees} yen, sent {sent}"
        );
        let (n, t) = one(
            "SELECT COUNT(*), CAST(COALESCE(SUM(i.amount_yen - COALESCE((SELECT SUM(r.amount_yen) FROM receipts r WHERE r.installment_id = i.id), 0)), 0) AS BIGINT) \
             FROM installments i WHERE i.due_date < '2025-08-20' AND i.amount_yen > COALESCE((SELECT SUM(r.amount_yen) FROM receipts r WHERE r.installment_id = i.id), 0)",
        )
        .await?;
        let _ = writeln!(w, "unpaid past due on the demand day: {n} for {t} yen");

        let _ = writeln!(w, "\n== outbox ==");
        let entries = self.store.outbox(None).await.map_err(err)?;
        // Per document: letters, files, and the records of the flow's send nodes.
        let mut by_doc: BTreeMap<String, [usize; 3]> = BTreeMap::new();
        let mut letters: BTreeMap<String, String> = BTreeMap::new();
        let mut files = Vec::new();
        for e in &entries {
            let kind = if e.payload.get("text").is_some() {
                0
            } else if e.payload.get("content_base64").is_some() {
                1
            } else {
                2
            };
            by_doc.entry(e.document.clone()).or_default()[kind] += 1;
            if let Some(text) = e.payload.get("text").and_then(Value::as_str) {
                let all = letters.entry(e.document.clone()).or_default();
                all.push_str(text);
                all.push_str("\n\u{c}\n");
            }
            if let (Some(name), Some(b64)) = (
                e.payload.get("file_name").and_then(Value::as_str),
                e.payload.get("content_base64").and_then(Value::as_str),
            ) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(err)?;
                files.push(self.write_out(name, &bytes)?);
            }
        }
        for (doc, [letters, files, sends]) in &by_doc {
            let _ = writeln!(
                w,
                "outbox {doc}: {letters} letters, {files} files, {sends} send records"
            );
        }
        for (doc, text) in &letters {
            let path = self.write_out(&format!("{doc}.txt"), text.as_bytes())?;
            let _ = writeln!(w, "letters {doc} written to {}", path.display());
        }
        for f in &files {
            let _ = writeln!(w, "file written to {}", f.display());
        }
        if let Some(letter) = entries
            .iter()
            .find(|e| e.document == "demand_letter")
            .and_then(|e| e.payload.get("text").and_then(Value::as_str))
        {
            let _ = writeln!(w, "\n== sample 督促状 (synthetic person) ==\n{letter}");
        }
        let audit = self.rt.verify_audit().await.map_err(err)?;
        let _ = writeln!(
            w,
            "\n== audit verify ==\naudit: {} items, {} transitions, {} problems: {}",
            audit.items,
            audit.transitions,
            audit.problems.len(),
            if audit.problems.is_empty() {
                "ok"
            } else {
                "BROKEN"
            }
        );
        let _ = writeln!(w, "elapsed: {:.1} s", started.elapsed().as_secs_f64());
        if !audit.problems.is_empty() {
            return Err(format!("{s}\nthe audit chain is broken"));
        }
        Ok(s)
    }
}
