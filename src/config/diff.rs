//! The first place where two JSON values differ: for the round trips through the Kubernetes
//! types, of the config's pass-through fields (validation) and of the rendered objects (manifest).

use serde_json::Value;

/// The first path where `original` has something that `back` lacks or differs in.
pub(crate) fn first_difference(original: &Value, back: &Value) -> Option<String> {
    fn walk(a: &Value, b: &Value, path: &mut String) -> Option<String> {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (key, va) in a {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    let found = match b.get(key) {
                        None => Some(path.clone()),
                        Some(vb) => walk(va, vb, path),
                    };
                    path.truncate(len);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            (Value::Array(a), Value::Array(b)) => {
                if a.len() != b.len() {
                    return Some(path.clone());
                }
                for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let found = walk(va, vb, path);
                    path.truncate(len);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
            _ if a == b => None,
            _ => Some(path.clone()),
        }
    }
    walk(original, back, &mut String::new())
}
