//! Reading a rendered document back into a [`Node`], fast.
//!
//! Every rendered document is parsed back for the typed check and for JSON output. A general
//! YAML parser spends most of its time on what the templates never print (flow collections
//! spanning lines, anchors, tags, folding, multi-line plain scalars). The templates print a small,
//! regular subset: block mappings and sequences indented with spaces, compact `- key: value`
//! items, plain words and quantities, JSON-quoted strings, one-line JSON for passed-through
//! objects, and `|` literal blocks for scripts. [`fast`] reads that subset line by line and builds
//! the value directly. Anything else (a tag, an anchor, a comment, a null, a float, a YAML 1.1
//! boolean, a duplicate key, a folded block, a second document, a tab in the indentation) makes
//! it give up, and the caller falls back to serde-saphyr: the value is always the one
//! serde-saphyr would have produced, which the tests check on every fixture's render.

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
use serde_json::Value;

use super::tree::{Map, Node};
use crate::yaml::{is_keyword, is_name, is_name_byte, is_quantity};

/// The value serde-saphyr would read from `yaml` (its lists and maps in `arena`), or `None`
/// when this reader is not sure.
pub fn fast<'a>(yaml: &'a str, arena: &'a Bump) -> Option<Node<'a>> {
    let mut lines = Vec::with_capacity(yaml.len() / 24);
    for raw in split_lines(yaml) {
        let text = raw.trim_start_matches(' ');
        if text.is_empty() {
            lines.push(Line {
                indent: usize::MAX,
                text: "",
                raw,
            });
            continue;
        }
        lines.push(Line {
            indent: raw.len() - text.len(),
            text,
            raw,
        });
    }
    let mut reader = Reader {
        lines,
        pos: 0,
        arena,
    };
    reader.skip_blank();
    if reader
        .lines
        .get(reader.pos)
        .is_some_and(|l| l.text == "---")
    {
        reader.pos += 1;
        reader.skip_blank();
    }
    let indent = reader.peek()?.indent;
    let value = reader.node(indent, 0)?;
    reader.skip_blank();
    (reader.pos == reader.lines.len()).then_some(value)
}

/// What `str::lines` yields (lines split at `\n`, a `\r` before it dropped, no empty last
/// line), found with `memchr`: the templates' lines are short, and this runs for every one.
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(
        // the last line when the text does not end with a line break
        (!text.is_empty() && !text.ends_with('\n')).then_some(text.len()),
    );
    ends.map(move |end| {
        let line = &text[start..end];
        start = end + 1;
        match text.as_bytes().get(end) {
            Some(b'\n') => line.strip_suffix('\r').unwrap_or(line),
            _ => line,
        }
    })
}

/// One line: its indentation in spaces (`usize::MAX` when blank) and the text after it.
struct Line<'a> {
    indent: usize,
    text: &'a str,
    raw: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    arena: &'a Bump,
}

/// Deeper than any template nests; keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 64;

impl<'a> Reader<'a> {
    fn skip_blank(&mut self) {
        while self.lines.get(self.pos).is_some_and(|l| l.text.is_empty()) {
            self.pos += 1;
        }
    }

    /// The next non-blank line.
    fn peek(&mut self) -> Option<&Line<'a>> {
        self.skip_blank();
        self.lines.get(self.pos)
    }

    /// The block node whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = self.peek()?;
        if line.indent != indent || line.text.starts_with(['#', '\t']) {
            return None;
        }
        if line.text == "-" || line.text.starts_with("- ") {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Node<'a>> {
        let mut items = ArenaVec::new_in(self.arena);
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            if !(line.text == "-" || line.text.starts_with("- ")) {
                // The end of a sequence written at its key's indentation.
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                // `-` alone: the item is the block on the following lines.
                self.pos += 1;
                let inner = self.peek()?.indent;
                if inner <= indent {
                    return None;
                }
                items.push(self.node(inner, depth + 1)?);
                continue;
            }
            // `- x`: the item starts where `x` does, as if it were on a line of its own.
            let inner = line.indent + (line.text.len() - rest.len());
            if entry(rest, self.arena).is_some() || rest.starts_with("- ") {
                self.lines[self.pos].indent = inner;
                self.lines[self.pos].text = rest;
                items.push(self.node(inner, depth + 1)?);
            } else {
                self.pos += 1;
                items.push(self.inline(rest, indent)?);
            }
        }
        Some(Node::Array(items.into_bump_slice()))
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Node<'a>> {
        let mut entries = ArenaVec::new_in(self.arena);
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let (key, rest) = entry(line.text, self.arena)?;
            self.pos += 1;
            let value = if rest.is_empty() {
                // `key:` then a block: deeper, or a sequence at the same indentation.
                let next = self.peek()?;
                let nested = next.indent > indent
                    || (next.indent == indent && (next.text == "-" || next.text.starts_with("- ")));
                if !nested {
                    return None;
                }
                let inner = next.indent;
                self.node(inner, depth + 1)?
            } else {
                self.inline(rest, indent)?
            };
            entries.push((key, value));
        }
        // A repeated key: serde-saphyr decides.
        Map::new(self.arena, entries.into_bump_slice()).map(Node::Object)
    }

    /// A value written on the line of its key or dash: a scalar, one-line JSON, or `|`.
    fn inline(&mut self, text: &'a str, parent: usize) -> Option<Node<'a>> {
        match text.as_bytes()[0] {
            b'|' => self.literal(text, parent),
            b'"' => quoted(text, self.arena).map(Node::String),
            b'{' | b'[' => serde_json::from_str::<Value>(text)
                .ok()
                .filter(|v| integers_only(v, 0))
                .map(|v| Node::from_value(self.arena, &v)),
            _ => scalar(text.trim_end(), self.arena),
        }
    }

    /// A `|` or `|-` literal block: the following lines indented deeper than `parent`.
    fn literal(&mut self, header: &str, parent: usize) -> Option<Node<'a>> {
        let strip = match header {
            "|" => false,
            "|-" => true,
            _ => return None,
        };
        let first = self.lines[self.pos..].iter().find(|l| !l.text.is_empty())?;
        let indent = first.indent;
        if indent <= parent {
            return None;
        }
        let mut text = String::new();
        let mut blanks = 0;
        while let Some(line) = self.lines.get(self.pos) {
            if line.text.is_empty() {
                // A blank line inside the block (a line of spaces only counts as blank too,
                // unless it is longer than the block's indentation).
                if line.raw.len() > indent {
                    return None;
                }
                blanks += 1;
                self.pos += 1;
                continue;
            }
            if line.indent < indent {
                if line.indent > parent {
                    return None;
                }
                break;
            }
            for _ in 0..blanks {
                text.push('\n');
            }
            blanks = 0;
            text.push_str(&line.raw[indent..]);
            text.push('\n');
            self.pos += 1;
        }
        if strip {
            text.pop();
        }
        Some(Node::String(self.arena.alloc_str(&text)))
    }
}

/// A JSON-quoted string: borrowed when it has no escapes, else decoded by serde_json.
fn quoted<'a>(text: &'a str, arena: &'a Bump) -> Option<&'a str> {
    let plain = text.trim_end_matches(' ');
    if let Some(inner) = plain
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|inner| !inner.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20))
    {
        return Some(inner);
    }
    let decoded = serde_json::from_str::<String>(text).ok()?;
    Some(arena.alloc_str(&decoded))
}

/// A mapping line's key and the text after `: ` (empty when the value is on the next lines).
fn entry<'a>(text: &'a str, arena: &'a Bump) -> Option<(&'a str, &'a str)> {
    let (key, rest) = if text.starts_with('"') {
        let end = closing_quote(text)?;
        (quoted(&text[..=end], arena)?, &text[end + 1..])
    } else {
        // A plain key: name characters up to the colon, which serde-saphyr gives as they are
        // unless there are none or they spell null.
        let end = text
            .bytes()
            .position(|b| !is_name_byte(b))
            .unwrap_or(text.len());
        let key = &text[..end];
        if key.is_empty() || matches!(key, "null" | "Null" | "NULL") {
            return None;
        }
        (key, &text[end..])
    };
    let rest = rest.strip_prefix(':')?;
    if rest.is_empty() {
        return Some((key, rest));
    }
    let rest = rest.strip_prefix(' ')?.trim_start_matches(' ');
    if key.is_empty() || rest.starts_with('#') {
        return None;
    }
    Some((key, rest))
}

/// The byte index of the `"` that closes the JSON string `text` starts with.
fn closing_quote(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether a JSON value holds no floats (YAML and JSON agree on everything else it can hold).
fn integers_only(value: &Value, depth: usize) -> bool {
    match value {
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::Array(items) => {
            depth < MAX_DEPTH && items.iter().all(|v| integers_only(v, depth + 1))
        }
        Value::Object(map) => {
            depth < MAX_DEPTH && map.values().all(|v| integers_only(v, depth + 1))
        }
        _ => true,
    }
}

/// A plain scalar's value, when it is certain (never text with a space, `:` or `#`, so never a
/// comment or a mapping): `true`/`false`, unsigned integers without a leading zero, or words and Kubernetes
/// quantities that no YAML 1.1 or 1.2 rule reads as anything but a string.
fn scalar<'a>(text: &'a str, arena: &'a Bump) -> Option<Node<'a>> {
    match text {
        "true" => return Some(Node::Bool(true)),
        "false" => return Some(Node::Bool(false)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if bytes.iter().all(u8::is_ascii_digit) {
        if first == b'0' && bytes.len() > 1 {
            return None;
        }
        return text
            .parse::<u64>()
            .ok()
            .map(|n| Node::Number(arena.alloc(n.into())));
    }
    // Words and paths, and options such as `-c` or `--clean` (a `-` then a letter).
    let option = first == b'-'
        && text
            .trim_start_matches('-')
            .starts_with(|c: char| c.is_ascii_alphabetic());
    if first.is_ascii_alphabetic() || first == b'/' || option {
        // serde-saphyr also reads inf and nan as floats.
        let special = is_keyword(text)
            || ["inf", "infinity", "nan"]
                .iter()
                .any(|word| text.eq_ignore_ascii_case(word));
        return (is_name(text) && !special).then_some(Node::String(text));
    }
    // Not E, an exponent's letter.
    const UNITS: &[&str] = &[
        "m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    is_quantity(text, UNITS).then_some(Node::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saphyr(yaml: &str) -> Option<Value> {
        serde_saphyr::from_str(yaml).ok()
    }

    #[test]
    fn split_lines_is_str_lines() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\r",
            "\r\n",
            "a\r",
            "a\n\r",
            "  x: 1\n\n  - y\n",
            "ü\nß",
        ] {
            let ours: Vec<&str> = split_lines(text).collect();
            assert_eq!(ours, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn agrees_with_serde_saphyr_where_it_answers() {
        for yaml in [
            "a: 1\nb: [\"x\", 2, {\"c\": [true, null]}]\nc: {\"d\": true, \"e\": false}\n",
            "name: db\nspec:\n  size: 1Gi\n  cpu: 500m\n  mem: 0.5Gi\n  port: 5432\n",
            "script: |\n  set -eu\n\n  echo \"$X\"\n    indented\n\n\nnext: |-\n  a\n  b\nlast: x\n",
            "k: /var/lib/postgresql/data\nl: app.kubernetes.io/name\nm: \"\"\n",
            "command:\n- -c\n- --clean\n- \"--if-exists\"\nafter: 1\n",
            "list:\n  - a\n  - 2\n  - - nested\n    - deeper\n  -\n    x: 1\n",
            "empty: {}\nnone: []\n",
            "---\nitems:\n  - name: a\n    value: \"yes\"\n  - name: b\n    env:\n      - name: c\n",
            "\"quoted key\": \"a \\\"b\\\" \\u00e9 \\n\"\n\"x.y/z\":\n  - |\n    one\n    two\n",
            "top:\n  a: b\n\n  c: d\n",
            "a: \"plain words\"  \nb: \"tab\\there\"\n",
        ] {
            let arena = Bump::new();
            let fast = fast(yaml, &arena).unwrap_or_else(|| panic!("fast path declined {yaml:?}"));
            assert_eq!(Some(fast.to_value()), saphyr(yaml), "{yaml}");
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
            "a: [x, y]\n",
            "a: [1.5]\n",
            "a: >-\n  folded\n",
            "a: |2\n   x\n",
            "a: 'single'\n",
            "a: \"open\n  b\"\n",
            "a: b # comment\n",
            "# comment\na: b\n",
            "a:\n\tb: c\n",
            "a:\n  b: c\n d: e\n",
            "a: |\n    x\n  y\n",
            "- a\nb: c\n",
            "a: b\n- c\n",
        ] {
            assert!(fast(yaml, &Bump::new()).is_none(), "{yaml}");
        }
    }

    /// Deeply nested blocks are refused before the stack is at risk.
    #[test]
    fn declines_deep_nesting() {
        let mut yaml = String::new();
        for depth in 0..200 {
            yaml.push_str(&" ".repeat(depth));
            yaml.push_str("a:\n");
        }
        yaml.push_str(&" ".repeat(200));
        yaml.push_str("b: c\n");
        assert!(fast(&yaml, &Bump::new()).is_none());
    }
    /// Every document every fixture renders (each environment too) is read by the fast path,
    /// and to the value serde-saphyr reads: a template that prints something outside the subset
    /// fails here rather than quietly taking the slow path.
    #[test]
    fn agrees_with_serde_saphyr_on_every_fixture_render() {
        let renders = crate::pipeline::fixture_renders();
        for (place, doc) in &renders {
            let arena = Bump::new();
            let fast = fast(&doc.yaml, &arena)
                .unwrap_or_else(|| panic!("fast path declined {place}:\n{}", doc.yaml));
            assert_eq!(Some(fast.to_value()), saphyr(&doc.yaml), "{place}");
        }
        assert!(renders.len() > 60, "{}", renders.len());
    }
}
