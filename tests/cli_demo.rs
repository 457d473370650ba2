//! `nagare demo` end to end: it runs, exits 0, and its summary adds up.

use std::collections::HashMap;
use std::process::Command;

/// Parses `… N totalling T yen` and `… N for T yen …` lines into (N, T).
fn count_total(line: &str) -> (i64, i64) {
    let numbers: Vec<i64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let n = numbers.len();
    // The last two numbers of the line are the count and the total.
    (numbers[n - 2], numbers[n - 1])
}

fn run(dir: &std::path::Path, seed: &str) -> String {
    let flows = concat!(env!("CARGO_MANIFEST_DIR"), "/flows");
    let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
        .current_dir(dir)
        .args(["demo", "--persons", "50", "--seed", seed, "--flows", flows])
        .output()
        .expect("run nagare demo");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        out.status.success(),
        "nagare demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_demo_runs_and_its_numbers_agree() {
    let dir = std::env::temp_dir().join(format!("nagare_demo_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = run(&dir, "7");
    let lines: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once(": ")).collect();
    let get = |key: &str| -> &str {
        lines
            .get(key)
            .copied()
            .unwrap_or_else(|| panic!("no `{key}` in the summary:\n{text}"))
    };
    assert_eq!(get("items 3.4 completed"), "1");
    assert_eq!(get("items 4.7 completed"), "1");
    let (premiums, premium_total) = count_total(get("annual premiums"));
    let (installments, installment_total) = count_total(get("installments"));
    assert_eq!(premiums, 50);
    // Every synthetic premium is a multiple of 100 yen: the installments add up to it.
    assert_eq!(installments, 50 * 9);
    assert_eq!(installment_total, premium_total);
    let (debit_n, debit_total) = count_total(get("installments direct_debit"));
    let (slip_n, slip_total) = count_total(get("installments ordinary"));
    assert_eq!(debit_n + slip_n, installments);
    assert_eq!(debit_total + slip_total, installment_total);
    // Every demand letter is for an installment still unpaid on the demand day, and
    // every such installment has its letter.
    let demands = get("demands");
    let unpaid = get("unpaid past due on the demand day");
    let demand_count: i64 = demands.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(
        (
            demand_count,
            count_total(&demands[..demands.find(" yen unpaid").unwrap() + 4]).1
        ),
        count_total(unpaid)
    );
    assert!(demands.ends_with(&format!("sent {demand_count}")));
    assert!(get("outbox demand_letter").starts_with(&format!("{demand_count} letters")));
    assert!(get("outbox decision_notice").starts_with("50 letters"));
    assert!(get("audit").ends_with("0 problems: ok"));
    assert!(
        text.contains("見本 "),
        "the sample letter names a synthetic person"
    );
    assert!(dir.join("out/期割結果情報_2025.csv").exists());
    assert!(dir.join("nagare-demo.db").exists());
    // The same seed gives the same run (the clock is fixed).
    let again = run(&dir, "7");
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with("elapsed"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&text), strip(&again));
    let _ = std::fs::remove_dir_all(&dir);
}
