//! The step handlers on a real runtime and ledger: amounts, letters, bank results,
//! demands, and what happens when a step runs again. SQLite always; PostgreSQL too when
//! `NAGARE_TEST_PG_URL` names a database (each run in a fresh schema).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::clock::jst;
use nagare_engine::runtime::{
    Actor, Data, Delivery, DeliveryTarget, ItemState, Runtime, TestClock,
};
use nagare_engine::store::{self, Param, Store};
use nagare_steps::formats::zengin::debit::{
    DebitCheck, DebitResult, DebitResultCode, DebitResultRecord, read_request, write_result,
};
use nagare_steps::handlers::common::store_inbound_file;
use nagare_steps::handlers::direct_debit::{bank_profile, customer_no, request_period_debits};
use nagare_steps::handlers::sql::{self, Row};
use nagare_steps::handlers::{HandlerSettings, registry};
use serde_json::{Value, json};

const HEAD: &str = r#"category: 9.試験
pages: [1]
version: 1
lanes:
  - { id: municipal_office, title: 後期高齢担当課, kind: staff, role: municipal_office }
  - { id: bank, title: 金融機関, kind: external }
documents:
  - { id: debit_result_data, title: 口座振替結果データ, kind: file }
"#;

/// 3.4's installment and notice steps, each twice: the second run must change nothing.
const ASSESS: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: split }
  - { id: split, kind: system, lane: municipal_office, name: 期割額算定, handler: assessment.split_installments, next: split_again }
  - { id: split_again, kind: system, lane: municipal_office, name: 期割額算定, handler: assessment.split_installments, next: check }
  - { id: check, kind: system, lane: municipal_office, name: 期割結果確認, handler: assessment.confirm_installments, next: notices }
  - { id: notices, kind: system, lane: municipal_office, name: 通知書作成, handler: assessment.create_decision_notices, next: notices_again }
  - { id: notices_again, kind: system, lane: municipal_office, name: 通知書作成, handler: assessment.create_decision_notices, next: file }
  - { id: file, kind: system, lane: municipal_office, name: 期割結果情報作成, handler: union_exchange.create_installment_file, next: file_check }
  - { id: file_check, kind: system, lane: municipal_office, name: 期割結果情報確認, handler: union_exchange.confirm_installment_targets, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const DEBIT: &str = r#"
nodes:
  - { id: start, kind: start, lane: bank, next: receive }
  - { id: receive, kind: receive, lane: municipal_office, name: 受領, from: bank, document: debit_result_data, correlation: debit_request_no, next: import }
  - { id: import, kind: system, lane: municipal_office, name: 取込, handler: direct_debit.import_results, next: check }
  - { id: check, kind: system, lane: municipal_office, name: 確認, handler: direct_debit.confirm_results, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const DEMAND: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: identify }
  - { id: identify, kind: system, lane: municipal_office, name: 滞納者把握, handler: demand.identify_delinquents, next: review }
  - { id: review, kind: system, lane: municipal_office, name: 滞納者確認, handler: demand.confirm_delinquents, next: letters }
  - { id: letters, kind: system, lane: municipal_office, name: 督促状作成, handler: demand.create_letters, next: letters_again }
  - { id: letters_again, kind: system, lane: municipal_office, name: 督促状作成, handler: demand.create_letters, next: targets }
  - { id: targets, kind: system, lane: municipal_office, name: 対象者確認, handler: demand.confirm_letter_targets, next: dispatch }
  - { id: dispatch, kind: system, lane: municipal_office, name: 発送登録, handler: demand.register_dispatch, next: file }
  - { id: file, kind: system, lane: municipal_office, name: 滞納者情報作成, handler: union_exchange.create_delinquent_file, next: file_check }
  - { id: file_check, kind: system, lane: municipal_office, name: 滞納者情報確認, handler: union_exchange.confirm_delinquent_targets, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

fn at(date: &str) -> DateTime<Utc> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    jst()
        .from_local_datetime(&d.and_hms_opt(9, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

struct Env {
    rt: Runtime,
    store: Arc<dyn Store>,
    clock: Arc<TestClock>,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

async fn pg_url() -> Option<String> {
    let base = std::env::var("NAGARE_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = unique("h").to_lowercase();
    let pool = sqlx::PgPool::connect(&base)
        .await
        .expect("connect to NAGARE_TEST_PG_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

async fn env_on(url: String, dir: Option<TempDir>) -> Env {
    let store = store::open(&url).await.expect("open store");
    let clock = Arc::new(TestClock::new(at("2025-07-01")));
    let sources: Vec<(String, Vec<u8>)> = [
        ("9.1", "期割", ASSESS),
        ("9.2", "振替", DEBIT),
        ("9.3", "督促", DEMAND),
    ]
    .iter()
    .map(|(id, title, nodes)| {
        (
            format!("{id}.yaml"),
            format!("id: \"{id}\"\ntitle: {title}\n{HEAD}{nodes}").into_bytes(),
        )
    })
    .collect();
    let outcome = check_sources(&sources);
    let catalog = outcome.catalog.unwrap_or_else(|| {
        panic!(
            "test flows: {:?}",
            outcome
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        )
    });
    let rt = Runtime::new(Arc::clone(&store), registry(), clock.clone())
        .with_settings(HandlerSettings::sample().to_json());
    rt.register_catalog(&catalog).await.unwrap();
    Env {
        rt,
        store,
        clock,
        _dir: dir,
    }
}

async fn sqlite_env() -> Env {
    let dir = std::env::temp_dir().join(unique("nagare_handlers"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("ledger.db").display());
    env_on(url, Some(TempDir(dir))).await
}

impl Env {
    async fn exec(&self, sql_text: &'static str, params: &[Param]) {
        let mut tx = self.store.begin().await.unwrap();
        sql::execute(&mut tx.db(), sql_text, params).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn rows(&self, sql_text: &'static str, params: &[Param]) -> Vec<Row> {
        let mut tx = self.store.begin().await.unwrap();
        let rows = sql::fetch(&mut tx.db(), sql_text, params).await.unwrap();
        tx.commit().await.unwrap();
        rows
    }

    async fn count(&self, sql_text: &'static str) -> i64 {
        self.rows(sql_text, &[]).await[0].int(0)
    }

    /// A person with an annual premium; `account` adds a 口座振替 account.
    async fn person(&self, n: i64, annual: i64, account: bool) -> String {
        let addressee = format!("{:010}", 100 + n);
        self.exec(
            "INSERT INTO insured_persons (addressee_no, insured_no, name_kanji, name_kana, postal_code, address, birth_date, acquired) \
             VALUES ($1, $2, '見本 太郎', 'ミホン タロウ', '9990001', '見本県見本市架空町1丁目1番1号', '1945-05-05', '2020-05-05')",
            &[Param::Text(addressee.clone()), Param::Text(format!("{:08}", 90_000_000 + n))],
        )
        .await;
        self.exec(
            "INSERT INTO annual_premiums (addressee_no, fiscal_year, annual_yen, decided_on, item_id) VALUES ($1, 2025, $2, '2025-07-01', 0)",
            &[Param::Text(addressee.clone()), Param::Int(annual)],
        )
        .await;
        if account {
            self.exec(
                "INSERT INTO bank_accounts (addressee_no, bank_code, branch_code, account_type, account_number, holder_kana, valid_from) \
                 VALUES ($1, '0001', '001', 1, '1234567', 'ミホン タロウ', '2024-04-01')",
                &[Param::Text(addressee.clone())],
            )
            .await;
        }
        addressee
    }

    async fn start(&self, flow: &str, data: Value) -> i64 {
        let data: Data = data.as_object().cloned().unwrap_or_default();
        self.rt
            .start(flow, "batch", data, &Actor::System)
            .await
            .unwrap()
    }

    async fn settle(&self) {
        while self.rt.run_batch(50).await.unwrap().items > 0 {}
    }

    async fn item(&self, id: i64) -> (ItemState, Data, Option<String>) {
        let item = self.store.item(id).await.unwrap().unwrap();
        (item.state, item.data, item.error)
    }
}

async fn assessment_case(env: Env) {
    let a = env.person(1, 124_400, false).await;
    let b = env.person(2, 95_450, true).await;
    let item = env.start("9.1", json!({"fiscal_year": "2025"})).await;
    env.settle().await;
    let (state, data, error) = env.item(item).await;
    assert_eq!(state, ItemState::Completed, "{error:?}");
    // 124,400 over 9 periods: 13,800 each, the remainder in the first period.
    let rows = env
        .rows(
            "SELECT period, due_date, amount_yen, collection_method FROM installments WHERE addressee_no = $1 ORDER BY period",
            &[Param::Text(a.clone())],
        )
        .await;
    let amounts: Vec<i64> = rows.iter().map(|r| r.int(2)).collect();
    assert_eq!(
        amounts,
        [
            14_000, 13_800, 13_800, 13_800, 13_800, 13_800, 13_800, 13_800, 13_800
        ]
    );
    assert_eq!(rows[0].text(1), "2025-07-31");
    // 2025-08-31 is a Sunday: the due date moves to Monday.
    assert_eq!(rows[1].text(1), "2025-09-01");
    assert_eq!(rows[0].text(3), "ordinary");
    // 95,450 is truncated to 95,400 before the split; B pays by 口座振替.
    let rows = env
        .rows(
            "SELECT CAST(SUM(amount_yen) AS BIGINT), MIN(collection_method) FROM installments WHERE addressee_no = $1",
            &[Param::Text(b.clone())],
        )
        .await;
    assert_eq!(rows[0].int(0), 95_400);
    assert_eq!(rows[0].text(1), "direct_debit");
    // The second split and the second notice run added nothing.
    assert_eq!(env.count("SELECT COUNT(*) FROM installments").await, 18);
    assert_eq!(data["installment_split"]["skipped_persons"], json!(2));
    assert_eq!(
        data["installment_check"]["total_yen"],
        json!(124_400 + 95_400)
    );
    let outbox = env.store.outbox(Some(item)).await.unwrap();
    let notices: Vec<&str> = outbox
        .iter()
        .filter(|e| e.document == "decision_notice")
        .filter_map(|e| e.payload["text"].as_str())
        .collect();
    assert_eq!(notices.len(), 2, "one notice per person, not one per run");
    assert!(
        notices
            .iter()
            .any(|t| t.contains("14,000円") && t.contains("124,400円"))
    );
    assert!(
        notices
            .iter()
            .any(|t| t.contains("指定の口座から振り替えます"))
    );
    assert_eq!(data["decision_notice"]["issued_before"], json!(2));
    // The 期割結果情報 file holds every installment and was checked.
    assert_eq!(data["installment_file_check"]["records"], json!(18));
    assert_eq!(data["installment_file_check"]["total_yen"], json!(219_800));
    // Personal data stays out of the item's data.
    assert!(!Value::Object(data).to_string().contains("見本"));
}

#[tokio::test]
async fn assessment_splits_checks_and_notifies_once_sqlite() {
    assessment_case(sqlite_env().await).await;
}

#[tokio::test]
async fn assessment_splits_checks_and_notifies_once_postgres() {
    let Some(url) = pg_url().await else {
        eprintln!("NAGARE_TEST_PG_URL is not set: PostgreSQL half skipped");
        return;
    };
    assessment_case(env_on(url, None).await).await;
}

/// Answers a request file as the bank would, failing the customers given.
fn bank_answer(request: &[u8], failing: &[String]) -> Vec<u8> {
    let request = read_request(request, &DebitCheck::default()).unwrap();
    let records = request
        .records
        .into_iter()
        .map(|record| {
            let result = if failing.contains(&record.customer_number) {
                DebitResultCode::InsufficientFunds
            } else {
                DebitResultCode::Debited
            };
            DebitResultRecord { record, result }
        })
        .collect();
    write_result(
        &DebitResult {
            header: request.header,
            records,
        },
        &bank_profile(),
    )
    .unwrap()
}

/// Answers a request with every debit made, but one customer number changed.
fn bank_answer_renamed(request: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut request = read_request(request, &DebitCheck::default()).unwrap();
    for r in &mut request.records {
        if customer_no(r.customer_number.parse().unwrap()) == from {
            r.customer_number = to.to_owned();
        }
    }
    let records = request
        .records
        .into_iter()
        .map(|record| DebitResultRecord {
            record,
            result: DebitResultCode::Debited,
        })
        .collect();
    write_result(
        &DebitResult {
            header: request.header,
            records,
        },
        &bank_profile(),
    )
    .unwrap()
}

async fn deliver_result(env: &Env, request_no: &str, bytes: &[u8]) -> i64 {
    let mut tx = env.store.begin().await.unwrap();
    let id = store_inbound_file(
        &mut tx.db(),
        "debit_result_data",
        "result.txt",
        bytes,
        NaiveDate::from_ymd_opt(2025, 8, 5).unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let receipt = env
        .rt
        .deliver(Delivery {
            target: DeliveryTarget::Correlated {
                document: "debit_result_data".into(),
                value: request_no.into(),
            },
            payload: json!({"debit_result_data": id})
                .as_object()
                .cloned()
                .unwrap(),
            delivery_id: None,
            actor: Actor::System,
        })
        .await
        .unwrap();
    env.settle().await;
    receipt.item_id
}

async fn debit_and_demand_case(env: Env) {
    // Three people: C pays by 口座振替 and the bank debits; D's account has no funds;
    // E pays by 納付書 and pays nothing.
    let _c = env.person(3, 124_400, true).await;
    let d = env.person(4, 124_400, true).await;
    let e = env.person(5, 47_300, false).await;
    let split = env.start("9.1", json!({"fiscal_year": 2025})).await;
    env.settle().await;
    assert_eq!(env.item(split).await.0, ItemState::Completed);

    let request = {
        let mut tx = env.store.begin().await.unwrap();
        let file = request_period_debits(
            &mut tx.db(),
            &HandlerSettings::sample().office,
            2025,
            1,
            "D1",
            NaiveDate::from_ymd_opt(2025, 7, 31).unwrap(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        file
    };
    assert_eq!((request.records, request.total_yen), (2, 28_000));
    let d_installment: i64 = env
        .rows(
            "SELECT id FROM installments WHERE addressee_no = $1 AND period = 1",
            &[Param::Text(d.clone())],
        )
        .await[0]
        .int(0);

    // A result naming a customer we never asked is refused whole: nothing is recorded.
    let wrong = env.start("9.2", json!({"debit_request_no": "D1"})).await;
    env.settle().await;
    let tampered = bank_answer_renamed(
        &request.content,
        &customer_no(d_installment),
        &customer_no(999_999),
    );
    deliver_result(&env, "D1", &tampered).await;
    let (state, _, error) = env.item(wrong).await;
    assert_eq!(state, ItemState::Failed);
    assert!(error.unwrap_or_default().contains("振替結果"));
    assert_eq!(env.count("SELECT COUNT(*) FROM receipts").await, 0);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM debit_requests WHERE result_code IS NOT NULL")
            .await,
        0
    );

    // The real result: D is 資金不足.
    let item = env.start("9.2", json!({"debit_request_no": "D1"})).await;
    env.settle().await;
    let answer = bank_answer(&request.content, &[customer_no(d_installment)]);
    deliver_result(&env, "D1", &answer).await;
    let (state, data, error) = env.item(item).await;
    assert_eq!(state, ItemState::Completed, "{error:?}");
    assert_eq!(data["debit_import"]["debited"], json!(1));
    assert_eq!(data["debit_import"]["failed_yen"], json!(14_000));
    assert_eq!(data["debit_result"], json!("口座振替不能"));
    assert_eq!(data["retry_debit"], json!(true));
    let receipts = env
        .rows(
            "SELECT COUNT(*), CAST(SUM(amount_yen) AS BIGINT), MIN(paid_on) FROM receipts",
            &[],
        )
        .await;
    assert_eq!((receipts[0].int(0), receipts[0].int(1)), (1, 14_000));
    assert_eq!(receipts[0].text(2), "2025-07-31");

    // 督促 on 2025-08-20: D's and E's first installments are unpaid, C's is paid.
    env.clock.set(at("2025-08-20"));
    let demand = env.start("9.3", json!({})).await;
    env.settle().await;
    let (state, data, error) = env.item(demand).await;
    assert_eq!(state, ItemState::Completed, "{error:?}");
    let rows = env
        .rows(
            "SELECT i.addressee_no, d.unpaid_yen, d.designated_deadline, d.demand_fee_yen, d.sent_on, d.renewal_effective \
             FROM demands d JOIN installments i ON i.id = d.installment_id ORDER BY i.addressee_no",
            &[],
        )
        .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].text(0), d);
    assert_eq!(rows[0].int(1), 14_000);
    assert_eq!(rows[1].text(0), e);
    // 47,300 → 47,300 / 9 = 5,255 → 5,200 each, the first 5,700.
    assert_eq!(rows[1].int(1), 5_700);
    // Sent 8/20; 10 days on is Saturday 8/30, moved to Monday 9/1. Fee 100 yen.
    assert_eq!(rows[0].text(2), "2025-09-01");
    assert_eq!(rows[0].int(3), 100);
    assert_eq!(rows[0].text(4), "2025-08-20");
    assert_eq!(rows[0].text(5), "2025-08-30");
    // The second letters step wrote nothing more.
    let letters: Vec<String> = env
        .store
        .outbox(Some(demand))
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.payload["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(letters.len(), 2);
    assert!(
        letters
            .iter()
            .any(|l| l.contains("令和7年9月1日") && l.contains("14,000円") && l.contains("100円"))
    );
    assert_eq!(data["demand_letter"]["demanded_before"], json!(2));
    assert_eq!(data["delinquent_file_check"]["records"], json!(2));
    assert_eq!(data["delinquent_file_check"]["total_yen"], json!(19_700));

    // A second 督促 run finds nothing new: each installment is demanded once.
    let again = env.start("9.3", json!({})).await;
    env.settle().await;
    let (_, data, _) = env.item(again).await;
    assert_eq!(data["delinquents"]["installments"], json!(0));
    assert_eq!(env.count("SELECT COUNT(*) FROM demands").await, 2);
}

#[tokio::test]
async fn a_failed_debit_stays_unpaid_and_is_demanded_sqlite() {
    debit_and_demand_case(sqlite_env().await).await;
}

#[tokio::test]
async fn a_failed_debit_stays_unpaid_and_is_demanded_postgres() {
    let Some(url) = pg_url().await else {
        eprintln!("NAGARE_TEST_PG_URL is not set: PostgreSQL half skipped");
        return;
    };
    debit_and_demand_case(env_on(url, None).await).await;
}
