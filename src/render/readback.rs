//! Reading a rendered document back into a JSON value, fast.
//!
//! Every rendered document is parsed back for the typed check and for JSON output. Going through
//! serde-saphyr's `Deserializer` into `serde_json::Value` cost about 60% of a render (its event
//! buffering, budget and alias bookkeeping, and serde's visitor layers). What the templates print
//! is a small, regular subset of YAML, so this module builds the value straight from the same
//! parser's events (granit-parser, the parser under serde-saphyr) and resolves scalars itself,
//! but only where the meaning is beyond doubt. Anything else (a tag, an anchor or alias, a
//! duplicate or non-string key, a plain scalar that could be a null, a float or a YAML 1.1
//! boolean, a second document) makes [`fast`] give up, and the caller falls back to
//! serde-saphyr: the value is always the one serde-saphyr would have produced.

use serde_json::{Map, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// The value serde-saphyr would read from `yaml`, or `None` when this reader is not sure.
pub fn fast(yaml: &str) -> Option<Value> {
    enum Frame {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }
    let mut parser = Parser::new_from_str(yaml);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    let mut documents = 0;
    while let Some(event) = parser.next_event() {
        let (event, _span) = event.ok()?;
        let value = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::Scalar(text, style, 0, None) => {
                if let Some(Frame::Map(_, key @ None)) = stack.last_mut() {
                    *key = Some(map_key(&text, style)?.to_owned());
                    continue;
                }
                scalar(&text, style)?
            }
            Event::SequenceStart(_, 0, None) => {
                stack.push(Frame::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(_, 0, None) => {
                stack.push(Frame::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Frame::Seq(items) => Value::Array(items),
                Frame::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Frame::Map(entries, None) => Value::Object(entries),
                Frame::Map(_, Some(_)) | Frame::Seq(_) => return None,
            },
            // Tags, anchors, aliases, comments: not something the templates print.
            _ => return None,
        };
        match stack.last_mut() {
            None if root.is_none() => root = Some(value),
            None => return None,
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(entries, key)) => {
                let key = key.take()?;
                if entries.insert(key, value).is_some() {
                    return None;
                }
            }
        }
    }
    if stack.is_empty() { root } else { None }
}

/// A map key whose text is certainly what serde-saphyr gives `serde_json::Value` as the key.
fn map_key(text: &str, style: ScalarStyle) -> Option<&str> {
    let plain_name = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !matches!(text, "null" | "Null" | "NULL");
    match style {
        ScalarStyle::Plain if plain_name => Some(text),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted if !text.is_empty() => Some(text),
        _ => None,
    }
}

/// A scalar's value, when it is certain: quoted and block scalars are strings; plain ones are
/// `true`/`false`, unsigned integers without a leading zero, or words and Kubernetes
/// quantities that no YAML 1.1 or 1.2 rule reads as anything but a string.
fn scalar(text: &str, style: ScalarStyle) -> Option<Value> {
    if !matches!(style, ScalarStyle::Plain) {
        return Some(Value::String(text.to_owned()));
    }
    match text {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if bytes.iter().all(u8::is_ascii_digit) {
        if first == b'0' && bytes.len() > 1 {
            return None;
        }
        return text.parse::<u64>().ok().map(Value::from);
    }
    // Words and paths, and options such as `-c` or `--clean` (a `-` then a letter).
    let option = first == b'-'
        && text
            .trim_start_matches('-')
            .starts_with(|c: char| c.is_ascii_alphabetic());
    if first.is_ascii_alphabetic() || first == b'/' || option {
        let lower = text.to_ascii_lowercase();
        let special = matches!(
            lower.as_str(),
            "y" | "n"
                | "yes"
                | "no"
                | "on"
                | "off"
                | "true"
                | "false"
                | "null"
                | "inf"
                | "infinity"
                | "nan"
        );
        let word = bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'));
        return (word && !special).then(|| Value::String(text.to_owned()));
    }
    // 500m, 1Gi, 0.5: digits, at most one inner dot, then a unit (not E, an exponent's letter).
    const UNITS: &[&str] = &[
        "m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let quantity = first.is_ascii_digit()
        && number.matches('.').count() <= 1
        && !number.ends_with('.')
        && UNITS.contains(&unit);
    quantity.then(|| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saphyr(yaml: &str) -> Option<Value> {
        serde_saphyr::from_str(yaml).ok()
    }

    #[test]
    fn agrees_with_serde_saphyr_where_it_answers() {
        for yaml in [
            "a: 1\nb: [x, \"y\", 'z']\nc: {d: true, e: false}\n",
            "name: db\nspec:\n  size: 1Gi\n  cpu: 500m\n  mem: 0.5Gi\n  port: 5432\n",
            "script: |\n  set -eu\n  echo \"$X\"\nfolded: >-\n  a\n  b\n",
            "k: /var/lib/postgresql/data\nl: app.kubernetes.io/name\nm: \"\"\n",
            "command: [-c, --clean, --if-exists, -Fc]\n",
            "list:\n  - a\n  - 2\n  - - nested\n",
            "empty: {}\nnone: []\n",
        ] {
            let fast = fast(yaml).unwrap_or_else(|| panic!("fast path declined {yaml:?}"));
            assert_eq!(Some(fast), saphyr(yaml), "{yaml}");
        }
    }

    #[test]
    fn declines_what_it_is_not_sure_of() {
        for yaml in [
            "a: yes\n",
            "a: on\n",
            "a: ~\n",
            "a: null\n",
            "a:\n",
            "a: 0755\n",
            "a: 1.5\n",
            "a: 1e3\n",
            "a: 1E\n",
            "a: -1\n",
            "a: .inf\n",
            "a: inf\n",
            "a: !!str 1\n",
            "a: &x 1\nb: *x\n",
            "a: 1\na: 2\n",
            "? [a]\n: 1\n",
            "a: 1\n---\nb: 2\n",
            "<<: {a: 1}\n",
            "a: 99999999999999999999999\n",
            "a: b c\n",
        ] {
            assert_eq!(fast(yaml), None, "{yaml}");
        }
    }

    #[test]
    fn agrees_with_serde_saphyr_on_every_fixture_render() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut checked = 0;
        for name in ["calculator", "tfvisualizer", "healthcare"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}.yaml")).expect("fixture");
            let loaded = crate::config::load(
                crate::error::SourceId(0),
                &text,
                None,
                &crate::config::validate::ProcessEnv,
            )
            .expect("fixture loads");
            let docs = super::super::render(&loaded.config, &crate::config::validate::ProcessEnv)
                .expect("renders");
            for doc in docs {
                let fast = fast(&doc.yaml).unwrap_or_else(|| {
                    let odd: Vec<&str> = doc
                        .yaml
                        .lines()
                        .filter(|l| fast(&l.trim_start().replacen("- ", "x: ", 1)).is_none())
                        .collect();
                    panic!("fast path declined {name} {}: {odd:#?}", doc.kind)
                });
                assert_eq!(Some(fast), saphyr(&doc.yaml), "{name} {}", doc.kind);
                checked += 1;
            }
        }
        assert!(checked > 20);
    }
}
