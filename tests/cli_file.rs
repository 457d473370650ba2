//! `nagare file check|show|write|kinds`: exit codes and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_nagare");

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nagare-cli-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nagare(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const DEBIT_JSON: &str = r#"{
  "header": {
    "consignor_code": "1234567890", "consignor_name": "ナガレシ コウキコウレイ", "date": "0627",
    "bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
    "account_number": "1234567"
  },
  "records": [
    {"bank_code": "0005", "branch_code": "001", "account_type": "ordinary",
     "account_number": "7654321", "payer_name": "ヤマダ タロウ", "amount_yen": 12300,
     "new_code": "first", "customer_number": "00000000012025070101"},
    {"bank_code": "9900", "branch_code": "018", "account_type": "ordinary",
     "account_number": "12345", "payer_name": "スズキ ハナコ", "amount_yen": 4500,
     "customer_number": "00000000022025070101"}
  ]
}"#;

fn write_debit(dir: &TempDir) -> PathBuf {
    let input = dir.file("debit.json", DEBIT_JSON.as_bytes());
    let out = nagare(&["file", "write", "zengin-debit", "--input", path(&input)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 5 * 122);
    dir.file("debit.dat", &out.stdout)
}

#[test]
fn write_check_show_and_write_again_is_byte_exact() {
    let dir = TempDir::new("roundtrip");
    let file = write_debit(&dir);
    let out = nagare(&["file", "check", "zengin-debit", path(&file)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "ok: 2 record(s)\n");

    let out = nagare(&[
        "file",
        "show",
        "zengin-debit",
        path(&file),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["records"][0]["payer_name"], "ﾔﾏﾀﾞ ﾀﾛｳ");
    assert_eq!(json["records"][1]["account_number"], "0012345");
    let shown = dir.file("shown.json", &out.stdout);
    let again = nagare(&["file", "write", "zengin-debit", "--input", path(&shown)]);
    assert_eq!(again.stdout, std::fs::read(&file).unwrap());

    let out = nagare(&["file", "show", "zengin-debit", path(&file)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("1: account_number=7654321"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let dir = TempDir::new("problems");
    let file = write_debit(&dir);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[122 + 80] = b'X'; // record 2, 引落金額
    bytes[2 * 122 + 50] = 0x82; // record 3, 預金者名: a Shift_JIS lead byte
    let bad = dir.file("bad.dat", &bytes);
    let out = nagare(&["file", "check", "zengin-debit", path(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("record 2, field amount_yen, bytes 81-90"),
        "{text}"
    );
    assert!(
        text.contains("record 3, field payer_name, bytes 51-80"),
        "{text}"
    );
    assert!(text.contains("2 problem(s) found"), "{text}");
    // Show refuses an invalid file the same way.
    let out = nagare(&["file", "show", "zengin-debit", path(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn wrong_consignor_and_unknown_customer() {
    let dir = TempDir::new("owner");
    let file = write_debit(&dir);
    let out = nagare(&[
        "file",
        "check",
        "zengin-debit",
        path(&file),
        "--consignor",
        "0000000001",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("record 1, field consignor_code"));
    let keys = dir.file("keys.txt", b"12025070101\n");
    let out = nagare(&[
        "file",
        "check",
        "zengin-debit-result",
        path(&file),
        "--known-keys",
        path(&keys),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("record 3, field customer_number, bytes 92-111 (key 00000000022025070101): no request of ours has this key"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn cannot_run_exits_2() {
    let dir = TempDir::new("usage");
    let file = write_debit(&dir);
    let out = nagare(&["file", "check", "zengin-debit", "/nonexistent/x.dat"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nagare(&["file", "check", "no-such-kind", path(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown file kind"));
    let out = nagare(&[
        "file",
        "check",
        "zengin-debit",
        path(&file),
        "--max-bytes",
        "100",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("above the limit of 100 bytes"),
        "{}",
        stderr(&out)
    );
    let bad_json = dir.file("bad.json", b"{");
    let out = nagare(&["file", "write", "zengin-debit", "--input", path(&bad_json)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn write_refuses_unrepresentable_names_with_exit_1() {
    let dir = TempDir::new("kana");
    let json = DEBIT_JSON.replace("スズキ ハナコ", "鈴木 花子");
    let input = dir.file("debit.json", json.as_bytes());
    let out = nagare(&["file", "write", "zengin-debit", "--input", path(&input)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is written");
    assert!(
        stderr(&out).contains("record 2, field payer_name, bytes 51-80 (key 00000000022025070101)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn union_file_in_shift_jis_and_line_ending_options() {
    let dir = TempDir::new("union");
    let json = r#"{"records": [{
        "municipality_code": "131016", "insured_no": "12345678", "fiscal_year": "2025",
        "installment": "1", "received_on": "2025-07-31", "amount_yen": 12300,
        "channel": "2", "receipt_no": "1"
    }]}"#;
    let input = dir.file("receipt.json", json.as_bytes());
    let out = nagare(&[
        "file",
        "write",
        "union-receipt",
        "--input",
        path(&input),
        "--encoding",
        "shift_jis",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The header row is Shift_JIS: 市 is 0x8E 0x73.
    assert_eq!(&out.stdout[..2], b"\x8E\x73");
    let file = dir.file("receipt.csv", &out.stdout);
    let ok = nagare(&[
        "file",
        "check",
        "union-receipt",
        path(&file),
        "--encoding",
        "shift_jis",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let wrong = nagare(&["file", "check", "union-receipt", path(&file)]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stdout(&wrong).contains("invalid UTF-8 byte sequence"));

    let input = dir.file("debit.json", DEBIT_JSON.as_bytes());
    let out = nagare(&[
        "file",
        "write",
        "zengin-debit",
        "--input",
        path(&input),
        "--line-ending",
        "none",
        "--eof",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), 5 * 120 + 1);
    assert_eq!(out.stdout.last(), Some(&0x1A));
}
