//! YAML text -> a [`Node`] tree, on serde-saphyr's event parser: places kept, anchors
//! expanded within bounds (depth, node count), duplicate keys and tabs refused with a hint.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{Kind, Node};
use crate::error::{Diagnostic, Location, SourceId};

/// Nesting deeper than this is not a config anyone writes; refusing it keeps every later
/// recursive walk bounded.
pub(crate) const MAX_DEPTH: usize = 64;
/// Total nodes a document may expand to (aliases included): a guard against alias bombs.
pub(crate) const MAX_NODES: usize = 100_000;

/// Parses one YAML document into a node tree. An empty file is an empty map.
pub fn parse(source: SourceId, text: &str) -> Result<Node, Diagnostic> {
    let mut builder = Builder {
        source,
        text,
        anchors: Vec::new(),
        nodes: 0,
    };
    builder.document()
}

struct Builder<'a> {
    source: SourceId,
    text: &'a str,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
}

enum Frame {
    Seq(Location, usize, Vec<Node>),
    Map(Location, usize, Vec<(Node, Node)>, Option<Node>),
}

impl Builder<'_> {
    fn loc(&self, span: &serde_saphyr::granit_parser::Span) -> Location {
        let start = span.start;
        let end = span.end;
        let len = if end.line() == start.line() {
            end.col().saturating_sub(start.col()).max(1)
        } else {
            1
        };
        Location::new(self.source, start.line(), start.col() + 1, len)
    }

    fn scan_error(&self, err: &ScanError) -> Diagnostic {
        let mark = err.marker();
        let (mut line, mut col) = (mark.line(), mark.col() + 1);
        let info = err.info();
        let text_of = |line: usize| self.text.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let from_mark: String = text_of(line).chars().skip(col - 1).collect();
        let (message, help): (String, String) = if info.contains("tab") {
            // The scanner may stop on the line before the one a tab indents.
            if let Some(at) = indenting_tab(self.text, line) {
                (line, col) = at;
                (
                    "a tab indents this line".to_owned(),
                    "YAML indents with spaces, never tabs; replace the tab with spaces".into(),
                )
            } else {
                (
                    info,
                    "YAML separates with spaces; replace the tab with spaces".into(),
                )
            }
        } else if info.contains("unknown anchor") {
            let word: String = from_mark
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
                .collect();
            (
                format!("`{word}` reads as an alias, and no anchor defines it"),
                quote_hint(text_of(line), col),
            )
        } else if let Some(ch) = from_mark.chars().next().filter(|c| matches!(c, '@' | '`'))
            && info.contains("unexpected character")
        {
            (
                format!("a plain value cannot start with `{ch}`"),
                quote_hint(text_of(line), col),
            )
        } else if info.contains("mapping values are not allowed") {
            let here = text_of(line);
            let before: String = here.chars().take(col - 1).collect();
            let key = before.trim_start();
            let indent = before.len() - key.len();
            let lines: Vec<&str> = self.text.lines().take(line.saturating_sub(1)).collect();
            let above = lines.iter().rev().find(|l| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('#')
            });
            let deeper = !key.is_empty()
                && !key.contains(": ")
                && !key.starts_with("- ")
                && above.is_some_and(|a| {
                    let a_indent = a.len() - a.trim_start().len();
                    indent > a_indent && !a.trim_end().ends_with(':')
                });
            if deeper {
                col = indent + 1;
                (
                    "this line is indented deeper than the key above it, so YAML reads it as part of that value".to_owned(),
                    "line up the keys of one map at the same indentation".into(),
                )
            } else {
                (
                    info,
                    "a value that contains \": \" must be quoted, e.g. key: \"a: b\"".into(),
                )
            }
        } else if info.contains("did not find expected key")
            || info.contains("did not find expected '-'")
        {
            (
                "this line's indentation matches no map or list above it".to_owned(),
                "line up the keys of one map (and the items of one list) at the same indentation"
                    .into(),
            )
        } else if info.contains("unclosed quote") {
            (info, "add the closing quote".into())
        } else if info.contains("unclosed bracket") {
            let close = if info.contains('[') { ']' } else { '}' };
            (
                info,
                format!("add the closing `{close}`, or write the items one per line"),
            )
        } else {
            (
                info,
                "check the indentation and quoting on this line and the one above".into(),
            )
        };
        let loc = Location::new(self.source, line, col, 1);
        Diagnostic::new(loc, format!("this is not valid YAML: {message}")).with_help(help)
    }

    fn document(&mut self) -> Result<Node, Diagnostic> {
        let mut parser = Parser::new_from_str(self.text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        let mut documents = 0usize;
        let empty = Location::new(self.source, 1, 1, 1);
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| self.scan_error(&e))?;
            let loc = self.loc(&span);
            let finished: Option<(Node, usize)> = match event {
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => None,
                Event::Anchor(..) => None,
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(Diagnostic::new(
                            loc,
                            "a config file holds one YAML document, this is a second one",
                        )
                        .with_help(
                            "put each database in its own file and pass them with -c, \
                             or remove the `---` line",
                        ));
                    }
                    None
                }
                Event::Alias(id) => {
                    let target = self
                        .anchors
                        .iter()
                        .rev()
                        .find(|(a, _)| *a == id)
                        .map(|(_, n)| n.clone());
                    let Some(mut node) = target else {
                        return Err(Diagnostic::new(loc, "this alias names no anchor above it")
                            .with_help("define the anchor (&name) before its alias (*name)"));
                    };
                    self.count(loc, count_nodes(&node))?;
                    node.loc = loc;
                    Some((node, 0))
                }
                Event::Scalar(text, style, anchor, _tag) => {
                    self.count(loc, 1)?;
                    let plain = matches!(style, ScalarStyle::Plain);
                    let mut text = match text {
                        Cow::Borrowed(s) => s.to_owned(),
                        Cow::Owned(s) => s,
                    };
                    // The parser reports a key with nothing after it as `~`; keep it empty, so
                    // that rules can tell `backup:` from `backup: null`.
                    if plain && text == "~" && span.start.index() == span.end.index() {
                        text.clear();
                    }
                    Some((
                        Node {
                            loc,
                            kind: Kind::Scalar { text, plain },
                        },
                        anchor,
                    ))
                }
                Event::SequenceStart(_, anchor, _) => {
                    self.push(&mut stack, loc)?;
                    stack.push(Frame::Seq(loc, anchor, Vec::new()));
                    None
                }
                Event::MappingStart(_, anchor, _) => {
                    self.push(&mut stack, loc)?;
                    stack.push(Frame::Map(loc, anchor, Vec::new(), None));
                    None
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Seq(loc, anchor, items)) => Some((
                        Node {
                            loc,
                            kind: Kind::Seq(items),
                        },
                        anchor,
                    )),
                    _ => return Err(Diagnostic::new(loc, "unbalanced YAML sequence")),
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Map(loc, anchor, entries, None)) => Some((
                        Node {
                            loc,
                            kind: Kind::Map(entries),
                        },
                        anchor,
                    )),
                    _ => return Err(Diagnostic::new(loc, "unbalanced YAML mapping")),
                },
                _ => None,
            };
            let Some((node, anchor)) = finished else {
                continue;
            };
            if anchor != 0 {
                self.anchors.push((anchor, node.clone()));
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq(_, _, items)) => items.push(node),
                Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                    None => {
                        if !matches!(node.kind, Kind::Scalar { .. }) {
                            return Err(Diagnostic::new(
                                node.loc,
                                "a map key must be a plain name, not a list or a map",
                            )
                            .with_help(
                                "write the key as a name followed by `:`, e.g. `storage:`",
                            ));
                        }
                        // `image` and "image" are the same key to everything that reads it.
                        if let Some((first, _)) =
                            entries.iter().find(|(k, _)| k.as_str() == node.as_str())
                        {
                            let key = node.as_str().unwrap_or_default();
                            return Err(Diagnostic::new(
                                node.loc,
                                format!("the key `{key}` appears twice in the same map"),
                            )
                            .with_help(format!(
                                "keep one of them; the first is at line {}",
                                first.loc.line
                            )));
                        }
                        *pending = Some(node);
                    }
                    Some(key) => entries.push((key, node)),
                },
            }
        }
        match root {
            None => Ok(Node {
                loc: empty,
                kind: Kind::Map(Vec::new()),
            }),
            Some(node) if node.is_null() => Ok(Node {
                loc: node.loc,
                kind: Kind::Map(Vec::new()),
            }),
            Some(node) => Ok(node),
        }
    }

    fn count(&mut self, loc: Location, n: usize) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::new(
                loc,
                format!("this document expands to more than {MAX_NODES} values"),
            )
            .with_help("a pgstate config is small; aliases that repeat aliases (a \"YAML bomb\") are refused"));
        }
        Ok(())
    }

    fn push(&mut self, stack: &mut [Frame], loc: Location) -> Result<(), Diagnostic> {
        self.count(loc, 1)?;
        if stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::new(
                loc,
                format!("the YAML is nested more than {MAX_DEPTH} levels deep here"),
            )
            .with_help("a pgstate config is only a few levels deep; check the indentation"));
        }
        Ok(())
    }
}

/// How to quote the value that starts at `col` of `line`, e.g. `schedule: "*/30 * * * *"`.
fn quote_hint(line: &str, col: usize) -> String {
    let key: String = line.chars().take(col - 1).collect();
    let value: String = line.chars().skip(col - 1).collect();
    let value = value.split(" #").next().unwrap_or_default().trim_end();
    let key = key.trim();
    if value.contains('"') || !(key.is_empty() || key.ends_with(':') || key.ends_with('-')) {
        return "quote the value, e.g. schedule: \"@daily\"".to_owned();
    }
    let sep = if key.is_empty() { "" } else { " " };
    format!(
        "a value that starts with `{}` must be quoted: {key}{sep}\"{value}\"",
        value.chars().next().unwrap_or('"')
    )
}

/// The first tab in the indentation of `line` or one of the two lines after it, as (line, col).
fn indenting_tab(text: &str, line: usize) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .take(3)
        .find_map(|(i, l)| {
            let indent = l.len() - l.trim_start_matches([' ', '\t']).len();
            l[..indent].find('\t').map(|col| (i + 1, col + 1))
        })
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        Kind::Scalar { .. } => 1,
        Kind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Kind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::node::merge;
    use crate::config::node::tests::p;

    #[test]
    fn keeps_lines_and_columns() {
        let node = p("a:\n  b: 1\n").expect("valid");
        let b = node.get("a").and_then(|a| a.get("b")).expect("b");
        assert_eq!((b.loc.line, b.loc.col), (2, 6));
    }

    #[test]
    fn an_empty_value_is_empty_not_a_tilde() {
        let node = p("a:\nb: ~\n").expect("valid");
        assert_eq!(node.get("a").and_then(Node::as_str), Some(""));
        assert_eq!(node.get("b").and_then(Node::as_str), Some("~"));
        assert!(node.get("a").is_some_and(Node::is_null));
    }

    #[test]
    fn keys_are_the_same_however_quoted() {
        let err = p("a: 1\n\"a\": 2\n").expect_err("duplicate");
        assert!(err.message.contains("appears twice"), "{}", err.message);
        let mut base = p("a: 1\n").expect("base");
        merge(&mut base, p("'a': 2\n").expect("over"));
        assert_eq!(base.as_map().map(<[_]>::len), Some(1));
    }

    #[test]
    fn a_tab_is_found_on_the_line_it_indents() {
        let err = p("postgres:\n  port: 5432\n\tuser: x\n").expect_err("tab");
        assert_eq!((err.loc.line, err.loc.col), (3, 1), "{}", err.message);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = p("a: 1\na: 2\n").expect_err("duplicate");
        assert!(err.message.contains("appears twice"), "{}", err.message);
        assert_eq!(err.loc.line, 2);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            yaml.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = p(&yaml).expect_err("bomb");
        assert!(err.message.contains("expands"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let yaml = "[".repeat(10_000);
        assert!(p(&yaml).is_err());
    }
}
