//! Notices (帳票) and outbound text produced from minijinja templates in `templates/`.
//!
//! Templates are given as text (the caller reads the folder), compiled once, and rendered
//! with strict undefined handling: a misspelt field is an error naming the template and
//! line, never an empty gap on a letter that goes to a resident. Two filters print the way
//! notices do: `yen` (`124,400円`), `wareki` (`令和7年8月20日`) and `nendo` (2025 → `令和7年度`).

use chrono::NaiveDate;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

use crate::domain::{Yen, wareki};

/// Why a notice could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// A template does not compile.
    #[error("template {name} line {line}: {message}")]
    Template {
        name: String,
        line: usize,
        message: String,
    },
    /// Rendering failed (a missing field, a value the filters cannot print).
    #[error("rendering {name} failed at line {line}: {message}")]
    Render {
        name: String,
        line: usize,
        message: String,
    },
    /// No template has this name.
    #[error("no template named {0}")]
    Unknown(String),
}

/// The compiled templates.
pub struct Notices {
    env: Environment<'static>,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notices").finish_non_exhaustive()
    }
}

fn yen(value: i64) -> String {
    Yen(value).to_string()
}

fn wareki_filter(value: &str) -> Result<String, Error> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("wareki expects a date YYYY-MM-DD, got {value:?}"),
        )
    })?;
    wareki::format(date).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// Prints a fiscal year as notices do: 2025 → 令和7年度 (the era of its April 1st).
fn nendo(year: i32) -> Result<String, Error> {
    let april = NaiveDate::from_ymd_opt(year, 4, 1).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("no fiscal year {year}"),
        )
    })?;
    let date = wareki::format(april)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let era_year = date.split_inclusive('年').next().unwrap_or(&date);
    Ok(format!("{era_year}度"))
}

fn describe(err: &Error) -> (usize, String) {
    let message = err
        .detail()
        .map_or_else(|| err.kind().to_string(), str::to_owned);
    (err.line().unwrap_or(0), message)
}

impl Notices {
    /// Compiles templates given as (name, source); reports every template that fails.
    ///
    /// # Errors
    /// One [`NoticeError::Template`] per template that does not compile.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Self, Vec<NoticeError>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Templates are edited by staff; a bound on work keeps a runaway loop from hanging a batch.
        env.set_fuel(Some(1_000_000));
        env.add_filter("yen", yen);
        env.add_filter("wareki", wareki_filter);
        env.add_filter("nendo", nendo);
        let mut errors = Vec::new();
        for (name, source) in sources {
            if let Err(err) = env.add_template_owned(name.clone(), source) {
                let (line, message) = describe(&err);
                errors.push(NoticeError::Template {
                    name,
                    line,
                    message,
                });
            }
        }
        if errors.is_empty() {
            Ok(Self { env })
        } else {
            Err(errors)
        }
    }

    /// Renders a template with the given data.
    ///
    /// # Errors
    /// [`NoticeError::Unknown`] for a template that does not exist, [`NoticeError::Render`]
    /// when the data lacks a field the template uses or holds a value it cannot print.
    pub fn render(&self, name: &str, data: &serde_json::Value) -> Result<String, NoticeError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|_| NoticeError::Unknown(name.to_owned()))?;
        template
            .render(Value::from(minijinja::value::Serde(data)))
            .map_err(|err| {
                let (line, message) = describe(&err);
                NoticeError::Render {
                    name: name.to_owned(),
                    line,
                    message,
                }
            })
    }

    /// Returns the names of the compiled templates, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.env.templates().map(|(n, _)| n.to_owned()).collect();
        names.sort();
        names
    }
}

/// The templates shipped in `templates/`, compiled into the binary so a deployment
/// always has them; a municipality may replace them by pointing the settings at a folder.
pub fn builtin_sources() -> Vec<(String, String)> {
    [
        (
            "demand_letter.txt.j2",
            include_str!("../../templates/demand_letter.txt.j2"),
        ),
        (
            "payment_notice.txt.j2",
            include_str!("../../templates/payment_notice.txt.j2"),
        ),
        (
            "debit_failure_notice.txt.j2",
            include_str!("../../templates/debit_failure_notice.txt.j2"),
        ),
        (
            "payment_slip.txt.j2",
            include_str!("../../templates/payment_slip.txt.j2"),
        ),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_owned(), s.to_owned()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn demand_data() -> serde_json::Value {
        json!({
            "municipality": {"name": "見本市", "office": "保険年金課", "phone": "000-000-0000"},
            "issued_on": "2025-08-20",
            "deadline": "2025-08-30",
            "recipient": {"postal_code": "000-0000", "address": "見本市一丁目1番1号", "name": "見本 太郎"},
            "addressee_no": "0000000001",
            "installments": [
                {"fiscal_year": 2025, "period": 1, "due_date": "2025-07-31", "unpaid": 14000},
                {"fiscal_year": 2025, "period": 2, "due_date": "2025-09-01", "unpaid": 13800}
            ],
            "total_unpaid": 27800,
            "demand_fee": 100
        })
    }

    #[test]
    fn demand_letter_prints_amounts_and_dates_as_notices_do() {
        let notices = Notices::from_sources(builtin_sources()).unwrap();
        let text = notices
            .render("demand_letter.txt.j2", &demand_data())
            .unwrap();
        assert!(text.contains("令和7年8月30日（指定期限）"), "{text}");
        assert!(
            text.contains("令和7年度 第1期 令和7年7月31日  14,000円"),
            "{text}"
        );
        assert!(text.contains("27,800円"), "{text}");
        assert!(text.contains("督促手数料"), "{text}");
    }

    #[test]
    fn a_missing_field_is_an_error_not_a_blank() {
        let notices = Notices::from_sources(builtin_sources()).unwrap();
        let mut data = demand_data();
        data.as_object_mut().unwrap().remove("deadline");
        let err = notices.render("demand_letter.txt.j2", &data).unwrap_err();
        assert!(
            matches!(err, NoticeError::Render { line, .. } if line > 0),
            "{err}"
        );
    }

    #[test]
    fn broken_templates_are_all_reported() {
        let errs = Notices::from_sources(vec![
            ("a.j2".into(), "{{ x ".into()),
            ("b.j2".into(), "{% for %}".into()),
            ("c.j2".into(), "fine {{ x }}".into()),
        ])
        .unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn wareki_filter_rejects_non_dates() {
        let notices =
            Notices::from_sources(vec![("t.j2".into(), "{{ d | wareki }}".into())]).unwrap();
        assert!(notices.render("t.j2", &json!({"d": "昨日"})).is_err());
        assert_eq!(
            notices.render("t.j2", &json!({"d": "2019-05-01"})).unwrap(),
            "令和元年5月1日"
        );
    }
}
