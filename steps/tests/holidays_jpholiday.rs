//! Cross-checks the committed holiday table (`steps/data/holidays.csv`, from the Cabinet
//! Office list) against an independent, rule-based implementation: PyPI `jpholiday`.
//!
//! The test needs Python 3 with jpholiday installed and fails, saying how to install it,
//! when it is missing: `python3 -m pip install jpholiday==1.0.3` (CI does this in `.ci/run`).

use std::collections::BTreeMap;
use std::process::Command;

use chrono::NaiveDate;
use nagare_steps::domain::calendar::HolidayTable;

const INSTALL: &str = "python3 -m pip install jpholiday==1.0.3";

/// Lists every holiday jpholiday knows in a range of years as `YYYY-MM-DD,name` lines.
/// jpholiday takes about 70 ms of CPU per year, so the years are spread over all cores.
const SCRIPT: &str = r#"
import multiprocessing, sys
try:
    import jpholiday
except ImportError:
    sys.exit(3)
def year(y):
    return [f"{d.isoformat()},{n}" for d, n in jpholiday.year_holidays(y)]
if __name__ == "__main__":
    with multiprocessing.Pool() as pool:
        for lines in pool.map(year, range(int(sys.argv[1]), int(sys.argv[2]) + 1)):
            print("\n".join(lines))
"#;

fn jpholiday(first: i32, last: i32) -> BTreeMap<NaiveDate, String> {
    let output = Command::new("python3")
        .args(["-c", SCRIPT, &first.to_string(), &last.to_string()])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); install Python 3 and then: {INSTALL}")
        });
    assert!(
        output.status.code() != Some(3),
        "PyPI jpholiday is not installed; install it with: {INSTALL}"
    );
    assert!(
        output.status.success(),
        "the jpholiday script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("jpholiday prints UTF-8")
        .lines()
        .map(|line| {
            let (date, name) = line.split_once(',').expect("date,name");
            (date.parse().expect("ISO date"), name.to_owned())
        })
        .collect()
}

/// Days jpholiday 1.0.3 lists by rules that did not yet exist on that day, so the Cabinet
/// Office list rightly does not have them: the 国民の休日 rule (祝日法3条3項) came with the
/// amendment in force from 1985-12-27, and 振替休日 (3条2項) with the one in force from
/// 1973-04-12. The Cabinet Office list is the authority; these are jpholiday's errors.
fn rule_not_yet_in_force(date: NaiveDate, name: &str) -> bool {
    let before = |y, m, d| date < NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    (name.contains("国民の休日") && before(1985, 12, 27))
        || (name.contains("振替休日") && before(1973, 4, 12))
}

#[test]
fn holiday_table_matches_jpholiday() {
    let table = HolidayTable::official();
    let (first, last) = (table.first(), table.last());
    let theirs = jpholiday(
        chrono::Datelike::year(&first),
        chrono::Datelike::year(&last),
    );
    let ours: BTreeMap<NaiveDate, &str> = table.iter().collect();

    let missing_here: Vec<String> = theirs
        .iter()
        .filter(|(date, name)| !ours.contains_key(*date) && !rule_not_yet_in_force(**date, name))
        .map(|(date, name)| format!("{date} {name}"))
        .collect();
    let missing_there: Vec<String> = ours
        .iter()
        .filter(|(date, _)| !theirs.contains_key(*date))
        .map(|(date, name)| format!("{date} {name}"))
        .collect();
    assert!(
        missing_here.is_empty() && missing_there.is_empty(),
        "the holiday table and jpholiday disagree\n  only in jpholiday: {missing_here:?}\n  only in the table: {missing_there:?}"
    );
    // Guard against an empty comparison: the two sources share about 1,000 days.
    assert!(ours.len() > 1_000 && theirs.len() > 1_000);
    let excused = theirs
        .iter()
        .filter(|(date, name)| rule_not_yet_in_force(**date, name))
        .count();
    assert!(
        excused < 40,
        "{excused} jpholiday days excused; the exception rule is too broad"
    );
}
