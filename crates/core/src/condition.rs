//! Conditions as people read them: the keys a sweep's conditions use and their values as text,
//! shared by the CSV, the plots and the report.

use serde_json::{Map, Value};

/// The condition keys in order of first appearance across conditions.
pub(crate) fn condition_keys(conditions: &[Map<String, Value>]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for condition in conditions {
        for key in condition.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// A condition value as text: strings bare, numbers and booleans as JSON, null empty.
pub(crate) fn condition_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
