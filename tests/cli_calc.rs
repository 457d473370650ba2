//! The `nagare calc` command line is a contract that staff and scripts rely on: every form
//! listed in issue 6 prints one JSON object and exits 0, and bad arguments exit 2 with a
//! clear message. The worked examples come from rules.md, with their sources named.

use std::process::{Command, Output};

use serde_json::{Value, json};

fn nagare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nagare"))
        .arg("calc")
        .args(args)
        .output()
        .expect("the nagare binary runs")
}

/// Runs a form that must succeed and returns its one JSON object.
fn ok(args: &[&str]) -> Value {
    let out = nagare(args);
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON value ({e}): {stdout}"));
    assert!(value.is_object(), "{args:?}: not an object: {stdout}");
    value
}

/// Runs a form that must be refused and returns its error text.
fn usage_error(args: &[&str]) -> String {
    let out = nagare(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout on error");
    String::from_utf8(out.stderr).expect("UTF-8 errors")
}

// 瀬戸市 rule (rules.md §1): 124,400 over 9 → 14,000 then 13,800 ×8.
#[test]
fn installments() {
    let v = ok(&["installments", "--annual", "124400", "--periods", "9"]);
    assert_eq!(
        v["amounts"],
        json!([
            14000, 13800, 13800, 13800, 13800, 13800, 13800, 13800, 13800
        ])
    );
    let v = ok(&[
        "installments",
        "--annual",
        "124400",
        "--periods",
        "9",
        "--unit",
        "100",
    ]);
    assert_eq!(v["amounts"][0], json!(14000));
    assert_eq!(v["annual"], json!(124400));
}

// 茅ヶ崎 R5 due dates (rules.md §8) from the sample settings file.
#[test]
fn installments_with_due_dates_and_a_settings_file() {
    let v = ok(&[
        "installments",
        "--annual",
        "124400",
        "--fiscal-year",
        "2023",
        "--settings",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/settings/city.yaml"),
    ]);
    assert_eq!(v["installments"][2]["due_date"], json!("2023-10-02"));
    assert_eq!(v["installments"][5]["due_date"], json!("2024-01-04"));
    assert_eq!(v["installments"][8]["due_date"], json!("2024-04-01"));
    let v = ok(&[
        "installments",
        "--annual",
        "150000",
        "--periods",
        "9",
        "--fixed",
        "14000,13800,13800",
    ]);
    assert_eq!(v["amounts"][3], json!(18400));
}

// 土浦市 (rules.md §2): before and after 平準化 of August only.
#[test]
fn pension_deduction() {
    let base = [
        "pension-deduction",
        "--prior-annual",
        "48000",
        "--annual",
        "48000",
        "--april",
        "4000",
        "--june",
        "4000",
    ];
    let none = ok(&[&base[..], &["--leveling", "none"]].concat());
    assert_eq!(
        none["amounts"],
        json!([4000, 4000, 4000, 12000, 12000, 12000])
    );
    let august = ok(&[&base[..], &["--leveling", "august"]].concat());
    assert_eq!(
        august["amounts"],
        json!([4000, 4000, 16000, 8000, 8000, 8000])
    );
    // 美浦村: June and August.
    let miho = ok(&[
        "pension-deduction",
        "--prior-annual",
        "162000",
        "--annual",
        "162000",
        "--april",
        "50000",
        "--june",
        "50000",
        "--leveling",
        "june-august",
    ]);
    assert_eq!(
        miho["amounts"],
        json!([50000, 15500, 15500, 27000, 27000, 27000])
    );
    // The default variant comes from the settings (the sample city levels August).
    assert_eq!(ok(&base)["amounts"], august["amounts"]);
}

#[test]
fn pension_deduction_for_a_new_starter_with_paydays() {
    let v = ok(&[
        "pension-deduction",
        "--prior-annual",
        "47300",
        "--annual",
        "47300",
        "--acquired",
        "2024-11-01",
        "--fiscal-year",
        "2025",
    ]);
    assert_eq!(v["new_starter"]["deductions"], json!(2));
    assert_eq!(v["amounts"][0], json!(0));
    assert_eq!(v["amounts"][1], json!(7800));
    // 2025-06-15 is a Sunday: paid on Friday 6/13.
    assert_eq!(v["deductions"][1]["payday"], json!("2025-06-13"));
}

// 品川区 (rules.md §3, 3か月): 2,848 → 2,800, with both segments.
#[test]
fn late_fee() {
    let v = ok(&[
        "late-fee",
        "--principal",
        "100000",
        "--due",
        "2021-04-30",
        "--paid",
        "2021-10-31",
        "--switch-months",
        "3",
    ]);
    assert_eq!(v["late_fee"], json!(2800));
    let segments = v["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[0]["from"], json!("2021-05-01"));
    assert_eq!(segments[0]["to"], json!("2021-07-31"));
    assert_eq!(segments[0]["days"], json!(92));
    assert_eq!(segments[0]["rate"], json!("2.5"));
    assert_eq!(segments[1]["rate"], json!("8.8"));
    // 矢吹町 (1か月, per-segment truncation): 1,060 → 1,000.
    let v = ok(&[
        "late-fee",
        "--principal",
        "64300",
        "--due",
        "2022-08-01",
        "--paid",
        "2022-11-01",
        "--switch-months",
        "1",
        "--truncate-segments",
        "true",
    ]);
    assert_eq!(v["late_fee"], json!(1000));
    // 1 month (the sample's default) splits differently from 3 months.
    let v = ok(&[
        "late-fee",
        "--principal",
        "100000",
        "--due",
        "2021-04-30",
        "--paid",
        "2021-10-31",
    ]);
    assert_eq!(v["switch_date"], json!("2021-05-31"));
}

#[test]
fn late_fee_with_partial_payments() {
    let v = ok(&[
        "late-fee",
        "--principal",
        "100000",
        "--due",
        "2022-08-01",
        "--payment",
        "2022-10-15:30500",
        "--until",
        "2023-03-31",
    ]);
    assert_eq!(v["unpaid_principal"], json!(69500));
    assert_eq!(v["end_date"], json!("2023-03-31"));
}

// rules.md §5 [der]: 過納 152,800 → 1,000円 with two segments.
#[test]
fn refund_interest() {
    let v = ok(&[
        "refund-interest",
        "--amount",
        "152800",
        "--kind",
        "overpaid",
        "--paid",
        "2025-07-31",
        "--decided",
        "2026-03-31",
    ]);
    assert_eq!(v["refund_interest"], json!(1000));
    assert_eq!(v["segments"][0]["days"], json!(153));
    assert_eq!(v["segments"][1]["days"], json!(90));
}

#[test]
fn due_date_and_wareki() {
    // 2025-08-31 is a Sunday.
    assert_eq!(
        ok(&["due-date", "2025-08-31"])["adjusted"],
        json!("2025-09-01")
    );
    assert_eq!(
        ok(&["due-date", "2025-08-31", "--backward"])["adjusted"],
        json!("2025-08-29")
    );
    assert_eq!(
        ok(&["wareki", "2019-05-01"])["wareki"],
        json!("令和元年5月1日")
    );
    assert_eq!(
        ok(&["wareki", "令和元年5月1日"])["date"],
        json!("2019-05-01")
    );
    assert_eq!(ok(&["wareki", "R1.5.1"])["date"], json!("2019-05-01"));
    assert_eq!(
        ok(&["wareki", "2019-04-30"])["wareki"],
        json!("平成31年4月30日")
    );
    assert_eq!(
        ok(&["pension-payday", "2025-06"])["adjusted"],
        json!("2025-06-13")
    );
}

// rules.md §7 [der]: due 2023-07-31 → prescribed at the end of 2025-07-31.
#[test]
fn prescription() {
    let v = ok(&["prescription", "--due", "2023-07-31"]);
    assert_eq!(v["prescribed_at_end_of"], json!("2025-07-31"));
    assert_eq!(v["write_off_fiscal_year"], json!(2025));
    let v = ok(&[
        "prescription",
        "--due",
        "2023-07-31",
        "--demand-sent",
        "2023-08-20",
    ]);
    assert_eq!(v["prescribed_at_end_of"], json!("2025-08-30"));
    // 和暦 is accepted wherever a date is; 3 years of 執行停止 race the 2-year limit.
    let v = ok(&[
        "prescription",
        "--due",
        "令和5年7月31日",
        "--enforcement-suspended",
        "2023-09-01",
    ]);
    assert_eq!(v["ended_by"], json!("prescription"));
    assert_eq!(
        v["enforcement_suspension"]["extinguished_on"],
        json!("2026-09-02")
    );
    let v = ok(&["prescription", "--refund-arisen", "2025-07-31"]);
    assert_eq!(v["prescribed_at_end_of"], json!("2027-07-31"));
}

#[test]
fn demand_deadline_proration_and_appropriation() {
    // 横須賀 rule (rules.md §4): sent 2025-08-20 → 指定期限 8/30, a Saturday → 9/1.
    let v = ok(&[
        "demand-deadline",
        "--due",
        "2025-07-31",
        "--sent",
        "2025-08-20",
    ]);
    assert_eq!(v["designated_deadline"], json!("2025-08-30"));
    assert_eq!(v["designated_deadline_adjusted"], json!("2025-09-01"));
    assert_eq!(v["send_by"], json!("2025-08-20"));
    // rules.md §9: born 1950-11-15 → 5 months, 19,700.
    let v = ok(&[
        "monthly-proration",
        "--fiscal-year",
        "2025",
        "--annual",
        "47300",
        "--birth",
        "1950-11-15",
    ]);
    assert_eq!(
        (v["months"].clone(), v["prorated"].clone()),
        (json!(5), json!(19700))
    );
    let v = ok(&[
        "monthly-proration",
        "--fiscal-year",
        "2025",
        "--annual",
        "47300",
        "--death",
        "2025-07-31",
    ]);
    assert_eq!(v["months"], json!(4));
    // rules.md §6: principal first, then its late fee, then the next installment.
    let v = ok(&[
        "appropriation",
        "--amount",
        "20000",
        "--arisen",
        "2025-10-15",
        "--debt",
        "2025-10-31:13800",
        "--debt",
        "2025-09-30:15000:1000",
    ]);
    let applied: Vec<i64> = v["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["applied"].as_i64().unwrap())
        .collect();
    assert_eq!(applied, [15000, 1000, 4000]);
    assert_eq!(v["refund"], json!(0));
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["installments", "--annual", "-100", "--periods", "9"],
            "must not be negative",
        ),
        (
            &[
                "late-fee",
                "--principal",
                "100000",
                "--due",
                "2021-04-30",
                "--paid",
                "2021-04-01",
            ],
            "before the due date",
        ),
        (
            &[
                "late-fee",
                "--principal",
                "-1",
                "--due",
                "2021-04-30",
                "--paid",
                "2021-05-01",
            ],
            "must not be negative",
        ),
        (
            &[
                "late-fee",
                "--principal",
                "100000",
                "--due",
                "2026-11-30",
                "--paid",
                "2027-02-01",
            ],
            "rate table covers 2000 to 2026",
        ),
        (
            &[
                "late-fee",
                "--principal",
                "100000",
                "--due",
                "2021-04-30",
                "--paid",
                "2021-10-31",
                "--switch-months",
                "2",
            ],
            "possible values",
        ),
        (&["wareki", "慶応3年1月1日"], "unknown era"),
        (&["wareki", "平成31年5月1日"], "平成 ended on 2019-04-30"),
        (&["due-date", "2030-01-01"], "outside the holiday table"),
        (
            &[
                "refund-interest",
                "--amount",
                "152800",
                "--kind",
                "overpaid",
                "--paid",
                "2026-07-31",
                "--decided",
                "2027-03-31",
            ],
            "rate table",
        ),
    ];
    for (args, expected) in cases {
        let err = usage_error(args);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(usage_error(&["prescription"]).contains("--due"));
    assert!(
        usage_error(&[
            "installments",
            "--annual",
            "1000",
            "--settings",
            "/nonexistent/city.yaml"
        ])
        .contains("cannot read")
    );
}

#[test]
fn an_invalid_settings_file_is_reported_like_a_flow() {
    let dir = std::env::temp_dir().join(format!("nagare-cli-calc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(
        &path,
        "municipality: x\nordinary_collection:\n  due_dates: [{ month: 7, day: end }]\npension_deduction:\n  leveling: agust\nlate_fee:\n  switch_months: 2\n  truncate_segments: false\ndemand:\n  fees: [{ amount: 100 }]\n",
    )
    .unwrap();
    let err = usage_error(&[
        "installments",
        "--annual",
        "1000",
        "--settings",
        path.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.contains("bad.yaml:5:13: error[YAML0008]"), "{err}");
    assert!(err.contains("did you mean `august`?"), "{err}");
    assert!(err.contains("bad.yaml:7:18: error[SET0001]"), "{err}");
}
