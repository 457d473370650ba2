//! 年金特別徴収 exchange files: 500-byte records, one header (1), data (2) and one trailer
//! (3) per municipality. The layout lives in ONE table, [`layout`]; this module only
//! interprets it.

pub mod layout;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::csv_layout::{FieldValue, Record};
use super::error::{FormatError, Position, Problem, ProblemKind, finish};
use super::fixed::{
    Field, FieldKind, FieldReader, FieldWriter, RecordStyle, join_records, show_byte, split_records,
};
use layout::{DATA, HEADER, KINDS, PensionKind, RECORD_LEN, TRAILER, Value};

/// The header of a pension file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PensionHeader {
    /// 市町村コード: 2-digit prefecture + 3-digit municipality, no check digit.
    pub municipality_code: String,
    /// 特別徴収義務者コード (3 digits: the pension insurer).
    pub payer_code: String,
    /// 通知内容コード (2 digits).
    pub notice_code: String,
    /// 媒体コード (1 digit).
    pub medium_code: String,
    /// 特別徴収制度コード (1 digit).
    pub system_code: String,
    /// 作成年月日.
    pub created_on: NaiveDate,
}

/// A pension file: header and data records (the trailer is computed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PensionFile {
    /// Header.
    pub header: PensionHeader,
    /// Data records, keyed by the field names of [`layout::DATA`].
    pub records: Vec<Record>,
}

/// What a reader checks beyond the layout.
#[derive(Debug, Clone, Default)]
pub struct PensionCheck {
    /// Our 5-digit 市町村コード: a file for another municipality is refused.
    pub municipality_code: Option<String>,
}

/// The kind with this command-line name.
pub fn kind(name: &str) -> Option<&'static PensionKind> {
    KINDS.iter().find(|k| k.kind == name)
}

fn date_of(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

fn read_header(
    rec: &[u8],
    no: usize,
    kind: &PensionKind,
    check: &PensionCheck,
    problems: &mut Vec<Problem>,
) -> Option<PensionHeader> {
    let mut r = FieldReader::new(rec, no, problems);
    r.check_fixed_parts(HEADER);
    let m = r.digits(&HEADER[1]);
    if let (Some(found), Some(expected)) = (&m, &check.municipality_code)
        && found != expected
    {
        r.report(
            &HEADER[1],
            ProblemKind::WrongOwner {
                expected: format!("市町村 {expected}"),
                found: format!("市町村 {found}"),
            },
        );
    }
    let payer = r.digits(&HEADER[2]);
    let notice = r.digits(&HEADER[3]);
    if let (Some(found), Some(expected)) = (&notice, kind.notice_code)
        && found != expected
    {
        r.report(
            &HEADER[3],
            ProblemKind::InvalidValue(format!(
                "{} files carry 通知内容コード {expected}, found {found}",
                kind.kind
            )),
        );
    }
    let medium = r.digits(&HEADER[4]);
    let system = r.digits(&HEADER[5]);
    let created = r.digits(&HEADER[6]).and_then(|d| {
        let v = date_of(&d);
        if v.is_none() {
            r.report(
                &HEADER[6],
                ProblemKind::InvalidValue("not a date YYYYMMDD".into()),
            );
        }
        v
    });
    Some(PensionHeader {
        municipality_code: m?,
        payer_code: payer?,
        notice_code: notice?,
        medium_code: medium?,
        system_code: system?,
        created_on: created?,
    })
}

fn read_data(rec: &[u8], no: usize, problems: &mut Vec<Problem>) -> Option<Record> {
    let mut r = FieldReader::new(rec, no, problems);
    let fields: Vec<Field> = DATA.iter().map(|f| f.field).collect();
    r.check_fixed_parts(&fields);
    // The key (基礎年金番号 + 年金コード) is not attached to problems: 基礎年金番号 is an
    // identifier of the person that must not reach logs; the record number suffices.
    let mut out = BTreeMap::new();
    let mut ok = true;
    for pf in DATA {
        let f = &pf.field;
        let v = match pf.value {
            Value::Fixed => continue,
            Value::Code => {
                let d = if pf.required {
                    r.digits(f)
                } else {
                    r.digits_or_blank(f)
                };
                d.map(|d| {
                    if d.is_empty() {
                        FieldValue::Null
                    } else {
                        FieldValue::Text(d)
                    }
                })
            }
            Value::Date => r.digits_or_blank(f).and_then(|d| {
                if d.is_empty() || d.bytes().all(|b| b == b'0') {
                    if pf.required {
                        r.report(f, ProblemKind::Missing("date"));
                        None
                    } else {
                        Some(FieldValue::Null)
                    }
                } else if let Some(date) = date_of(&d) {
                    Some(FieldValue::Date(date))
                } else {
                    r.report(f, ProblemKind::InvalidValue("not a date YYYYMMDD".into()));
                    None
                }
            }),
            Value::Amount => r.number(f).map(FieldValue::Int),
            Value::Text => r.text(f).map(|t| {
                if t.is_empty() {
                    FieldValue::Null
                } else {
                    FieldValue::Text(t)
                }
            }),
            Value::Kanji => r.kanji(f).map(|t| {
                if t.is_empty() {
                    FieldValue::Null
                } else {
                    FieldValue::Text(t)
                }
            }),
        };
        match v {
            Some(FieldValue::Null) if pf.required => {
                r.report(f, ProblemKind::Missing("a required value"));
                ok = false;
            }
            Some(v) => {
                out.insert(f.name.to_owned(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(Record(out))
}

/// Reads a pension file of the given kind: every record, or every problem.
pub fn read(
    kind: &PensionKind,
    input: &[u8],
    check: &PensionCheck,
) -> Result<PensionFile, FormatError> {
    let records = split_records(input, RECORD_LEN)
        .map_err(|p| FormatError::Invalid(super::error::Problems(p)))?;
    let mut problems = Vec::new();
    let mut header = None;
    let mut header_no = 0;
    let mut data = Vec::new();
    let mut data_count = 0;
    let mut trailer = None;
    let kind_field = &HEADER[0];
    for (i, rec) in records.iter().enumerate() {
        let no = i + 1;
        let unexpected = |expected: &'static str| {
            Problem::new(
                no,
                kind_field.name,
                kind_field.position(),
                ProblemKind::UnexpectedRecord {
                    found: show_byte(rec[0]),
                    expected,
                },
            )
        };
        match rec[0] {
            _ if trailer.is_some() => problems.push(unexpected(
                "nothing after the trailer (one municipality per file)",
            )),
            b'1' if no == 1 => {
                header_no = no;
                header = read_header(rec, no, kind, check, &mut problems);
            }
            b'1' => problems.push(unexpected("one header (1) as the first record")),
            b'2' if no > 1 => {
                data_count += 1;
                if let Some(r) = read_data(rec, no, &mut problems) {
                    data.push((no, r));
                }
            }
            b'3' if no > 1 => trailer = Some((no, *rec)),
            b'2' | b'3' => problems.push(unexpected("a header (1) first")),
            other => problems.push(Problem::new(
                no,
                kind_field.name,
                kind_field.position(),
                ProblemKind::UnknownRecordType {
                    found: show_byte(other),
                },
            )),
        }
    }
    if header_no == 0 {
        problems.push(Problem::file(ProblemKind::Missing("header record (1)")));
    }
    if trailer.is_none() {
        problems.push(Problem::file(ProblemKind::Missing("trailer record (3)")));
    }
    // Each data record must belong to the header's municipality, notice and system.
    if let Some(h) = &header {
        for (no, r) in &data {
            for (name, expected) in [
                ("municipality_code", &h.municipality_code),
                ("payer_code", &h.payer_code),
                ("notice_code", &h.notice_code),
                ("system_code", &h.system_code),
            ] {
                if r.text(name) != Some(expected.as_str()) {
                    let f = DATA.iter().find(|f| f.field.name == name).map(|f| f.field);
                    problems.push(Problem::new(
                        *no,
                        name,
                        f.map_or(Position::Whole, |f| f.position()),
                        ProblemKind::InvalidValue("differs from the header".into()),
                    ));
                }
            }
        }
    }
    if kind.unique_person {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for (no, r) in &data {
            let key = (
                r.text("basic_pension_no").unwrap_or_default().to_owned(),
                r.text("pension_code").unwrap_or_default().to_owned(),
            );
            if let Some(first) = seen.get(&key) {
                problems.push(Problem::new(
                    *no,
                    "basic_pension_no+pension_code",
                    Position::Whole,
                    ProblemKind::Duplicate { first: *first },
                ));
            } else {
                seen.insert(key, *no);
            }
        }
    }
    if let (Some((no, rec)), Some(h)) = (trailer, &header) {
        let mut r = FieldReader::new(rec, no, &mut problems);
        r.check_fixed_parts(TRAILER);
        for (f, expected) in [
            (&TRAILER[1], &h.municipality_code),
            (&TRAILER[2], &h.payer_code),
            (&TRAILER[3], &h.notice_code),
            (&TRAILER[5], &h.system_code),
        ] {
            if let Some(v) = r.digits(f)
                && &v != expected
            {
                r.report(
                    f,
                    ProblemKind::InvalidValue("differs from the header".into()),
                );
            }
        }
        if let Some(d) = r.digits(&TRAILER[6])
            && date_of(&d).is_none()
        {
            r.report(
                &TRAILER[6],
                ProblemKind::InvalidValue("not a date YYYYMMDD".into()),
            );
        }
        if data.len() == data_count {
            let count = r.number(&TRAILER[7]);
            super::zengin::check_total(&mut r, &TRAILER[7], count, data.len() as i64);
            for (i, f) in TRAILER[8..11].iter().enumerate() {
                let name = format!("amount_{}_yen", i + 1);
                let sum = data
                    .iter()
                    .map(|(_, d)| d.int(&name).unwrap_or(0))
                    .fold(0i64, i64::saturating_add);
                let declared = r.number(f);
                super::zengin::check_total(&mut r, f, declared, sum);
            }
        }
    }
    let file = PensionFile {
        header: header.unwrap_or(PensionHeader {
            municipality_code: String::new(),
            payer_code: String::new(),
            notice_code: String::new(),
            medium_code: String::new(),
            system_code: String::new(),
            created_on: NaiveDate::MIN,
        }),
        records: data.into_iter().map(|(_, r)| r).collect(),
    };
    finish(file, problems)
}

fn value_text(v: &FieldValue) -> Option<String> {
    match v {
        FieldValue::Null => None,
        FieldValue::Text(t) => Some(t.clone()),
        FieldValue::Int(i) => Some(i.to_string()),
        FieldValue::Date(d) => Some(d.format("%Y%m%d").to_string()),
    }
}

/// Writes a pension file: header, data, computed trailer. Fields that repeat the header
/// (市町村コード, 義務者コード, 通知内容コード, 制度コード, 作成年月日) are taken from
/// the header when a record leaves them out.
pub fn write(
    kind: &PensionKind,
    file: &PensionFile,
    style: RecordStyle,
) -> Result<Vec<u8>, FormatError> {
    let mut problems = Vec::new();
    let h = &file.header;
    let mut out = Vec::with_capacity(file.records.len() + 2);
    {
        let mut w = FieldWriter::new(RECORD_LEN, 0, None, &mut problems);
        w.fixed_parts(HEADER);
        w.exact_digits(&HEADER[1], &h.municipality_code);
        w.exact_digits(&HEADER[2], &h.payer_code);
        w.exact_digits(&HEADER[3], &h.notice_code);
        if let Some(code) = kind.notice_code
            && code != h.notice_code
        {
            w.report(
                &HEADER[3],
                ProblemKind::InvalidValue(format!(
                    "{} files carry 通知内容コード {code}",
                    kind.kind
                )),
            );
        }
        w.exact_digits(&HEADER[4], &h.medium_code);
        w.exact_digits(&HEADER[5], &h.system_code);
        w.exact_digits(&HEADER[6], &h.created_on.format("%Y%m%d").to_string());
        out.push(w.finish());
    }
    for p in &mut problems {
        p.field = format!("header.{}", p.field).into();
    }
    let inherited = [
        ("municipality_code", h.municipality_code.clone()),
        ("payer_code", h.payer_code.clone()),
        ("notice_code", h.notice_code.clone()),
        ("system_code", h.system_code.clone()),
        ("created_on", h.created_on.format("%Y%m%d").to_string()),
    ];
    let mut sums = [0i64; 3];
    for (i, rec) in file.records.iter().enumerate() {
        let mut w = FieldWriter::new(RECORD_LEN, i + 1, None, &mut problems);
        for k in rec.0.keys() {
            if !DATA
                .iter()
                .any(|f| f.value != Value::Fixed && f.field.name == k)
            {
                w.report(
                    &DATA[0].field,
                    ProblemKind::InvalidValue(format!("unknown field {k}")),
                );
            }
        }
        for pf in DATA {
            let f = &pf.field;
            if let FieldKind::Constant(c) = f.kind {
                // Constants are part of the layout, not of the record.
                let _ = c;
                continue;
            }
            let given = rec.0.get(f.name).and_then(value_text);
            let value = given.or_else(|| {
                inherited
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map(|(_, v)| v.clone())
            });
            match (pf.value, value) {
                (Value::Fixed, _) => {}
                (_, None) if pf.required => w.report(f, ProblemKind::Missing("a required value")),
                (Value::Amount, None) => w.number(f, 0),
                (_, None) => {}
                (Value::Code, Some(v)) => {
                    if v.len() == f.len {
                        w.exact_digits(f, &v);
                    } else {
                        w.report(
                            f,
                            ProblemKind::InvalidValue(format!("expected {} digits", f.len)),
                        );
                    }
                }
                (Value::Date, Some(v)) => {
                    if date_of(&v).is_some() {
                        w.exact_digits(f, &v);
                    } else {
                        w.report(f, ProblemKind::InvalidValue("not a date".into()));
                    }
                }
                (Value::Amount, Some(v)) => match v.parse::<i64>() {
                    Ok(n) => {
                        w.number(f, n);
                        if let Some(idx) = ["amount_1_yen", "amount_2_yen", "amount_3_yen"]
                            .iter()
                            .position(|n| *n == f.name)
                        {
                            sums[idx] = sums[idx].saturating_add(n);
                        }
                    }
                    Err(_) => w.report(f, ProblemKind::InvalidValue("not an amount".into())),
                },
                (Value::Text, Some(v)) => w.text(f, &v),
                (Value::Kanji, Some(v)) => w.kanji(f, &v),
            }
        }
        w.fixed_parts(&DATA.iter().map(|f| f.field).collect::<Vec<_>>());
        out.push(w.finish());
    }
    {
        let mut w = FieldWriter::new(RECORD_LEN, 0, None, &mut problems);
        w.fixed_parts(TRAILER);
        w.exact_digits(&TRAILER[1], &h.municipality_code);
        w.exact_digits(&TRAILER[2], &h.payer_code);
        w.exact_digits(&TRAILER[3], &h.notice_code);
        w.exact_digits(&TRAILER[5], &h.system_code);
        w.exact_digits(&TRAILER[6], &h.created_on.format("%Y%m%d").to_string());
        w.number(&TRAILER[7], file.records.len() as i64);
        for (f, s) in TRAILER[8..11].iter().zip(sums) {
            w.number(f, s);
        }
        out.push(w.finish());
    }
    finish(join_records(&out, style), problems)
}

/// Builds a [`PensionFile`] from JSON `{"header": {...}, "records": [{...}]}` (the form
/// `show --format json` prints), checking value types against the layout table.
pub fn file_from_json(value: &serde_json::Value) -> Result<PensionFile, FormatError> {
    let mut problems = Vec::new();
    let header = match value.get("header").map(PensionHeader::deserialize) {
        Some(Ok(h)) => Some(h),
        Some(Err(e)) => {
            problems.push(Problem::new(
                0,
                "header",
                Position::Whole,
                ProblemKind::InvalidValue(e.to_string()),
            ));
            None
        }
        None => {
            problems.push(Problem::file(ProblemKind::Missing("header")));
            None
        }
    };
    let mut records = Vec::new();
    let rows = value
        .get("records")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, row) in rows.iter().enumerate() {
        let Some(obj) = row.as_object() else {
            problems.push(Problem::new(
                i + 1,
                "record",
                Position::Whole,
                ProblemKind::InvalidValue("expected a JSON object".into()),
            ));
            continue;
        };
        let mut rec = BTreeMap::new();
        for (k, v) in obj {
            let Some(pf) = DATA
                .iter()
                .find(|f| f.field.name == k && f.value != Value::Fixed)
            else {
                problems.push(Problem::new(
                    i + 1,
                    k.clone(),
                    Position::Whole,
                    ProblemKind::InvalidValue("unknown field".into()),
                ));
                continue;
            };
            let fv = match (pf.value, v) {
                (_, serde_json::Value::Null) => Some(FieldValue::Null),
                (Value::Amount, serde_json::Value::Number(n)) => n.as_i64().map(FieldValue::Int),
                (Value::Date, serde_json::Value::String(s)) => {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .map(FieldValue::Date)
                }
                (Value::Code | Value::Text | Value::Kanji, serde_json::Value::String(s)) => {
                    Some(FieldValue::Text(s.clone()))
                }
                _ => None,
            };
            match fv {
                Some(fv) => {
                    rec.insert(k.clone(), fv);
                }
                None => problems.push(Problem::new(
                    i + 1,
                    k.clone(),
                    pf.field.position(),
                    ProblemKind::InvalidValue("wrong JSON type for this field".into()),
                )),
            }
        }
        records.push(Record(rec));
    }
    match header {
        Some(header) => finish(PensionFile { header, records }, problems),
        None => Err(FormatError::Invalid(super::error::Problems(problems))),
    }
}
