//! Conditions on decision branches: minijinja expressions over the work item's data.
//!
//! One small language, documented in docs/flow-format.md, the same as Jinja2 expressions.
//! Undefined fields are an error at evaluation time so that a misspelt field never
//! silently sends a work item down the wrong branch.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `is defined` still works under Strict; everything else that touches a missing
        // field fails loudly.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Conditions are small; a bound on work stops a pathological one.
        env.set_fuel(Some(10_000));
        env
    })
}

/// Checks that a condition parses; returns the parser's message when it does not.
pub fn check(source: &str) -> Result<(), String> {
    environment()
        .compile_expression(source)
        .map(|_| ())
        .map_err(|e| e.detail().map_or_else(|| e.to_string(), str::to_owned))
}

/// Evaluates a condition against the work item's data (a JSON object).
///
/// Returns whether the condition holds, or a message saying why it could not be evaluated.
pub fn evaluate(source: &str, data: &serde_json::Value) -> Result<bool, String> {
    let expr = environment()
        .compile_expression(source)
        .map_err(|e| e.to_string())?;
    let value = expr
        .eval(minijinja::Value::from(minijinja::value::Serde(data)))
        .map_err(|e| e.detail().map_or_else(|| e.to_string(), str::to_owned))?;
    Ok(value.is_true())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_the_documented_forms() {
        let data =
            json!({"has_payment_slip": true, "decision": "認定", "amount": 1200, "result": "1"});
        assert_eq!(evaluate("has_payment_slip", &data), Ok(true));
        assert_eq!(evaluate("not has_payment_slip", &data), Ok(false));
        assert_eq!(evaluate("decision == \"認定\"", &data), Ok(true));
        assert_eq!(evaluate("amount > 0 and has_payment_slip", &data), Ok(true));
        assert_eq!(evaluate("result in [\"0\", \"1\"]", &data), Ok(true));
        assert_eq!(evaluate("missing is defined", &data), Ok(false));
    }

    #[test]
    fn missing_fields_are_errors_not_false() {
        assert!(evaluate("misspelt_field == 1", &json!({})).is_err());
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(check("a ==").is_err());
        assert!(check("a and (b").is_err());
        assert!(check("a == \"x\"").is_ok());
    }
}
