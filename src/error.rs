//! One error type for the whole tool, and diagnostics that point into the config.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

/// How many characters of a source line a diagnostic shows.
const SHOWN_CHARS: usize = 160;

/// Characters no config value may hold: NUL and the other C0 controls but tab and line breaks,
/// DEL, the C1 controls (NEL among them), the line and paragraph separators and the byte order
/// mark (YAML 1.1 and 1.2 read those differently), non-characters, and the bidirectional
/// overrides that make text read differently from what it is.
pub(crate) fn is_forbidden_control(ch: char) -> bool {
    matches!(ch,
        '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with every control character (and every invisible character that changes how text
/// reads: line and paragraph separators, the byte order mark, bidirectional overrides) written
/// as `\u{..}`, so that a value quoted in a message cannot move the cursor, start a line of
/// its own (a `::warning` command in a GitHub log) or hide what follows. Tabs stay when `tabs`.
pub(crate) fn visible(text: &str, tabs: bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| (c.is_control() && !(tabs && c == '\t')) || is_forbidden_control(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Which loaded file a location is in (an index into [`Sources`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// A place in a source file: 1-based line and column, and how many characters to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub(crate) source: SourceId,
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) len: usize,
}

impl Location {
    pub fn new(source: SourceId, line: usize, col: usize, len: usize) -> Self {
        Location {
            source,
            line,
            col,
            len,
        }
    }
}

/// The files a run has read, so that a diagnostic can show its line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<(String, String)>,
}

impl Sources {
    pub(crate) fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.files.push((name.into(), text.into()));
        SourceId(u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX))
    }

    pub(crate) fn name(&self, id: SourceId) -> &str {
        self.files
            .get(id.0 as usize)
            .map_or("<unknown>", |(name, _)| name.as_str())
    }

    pub(crate) fn text(&self, id: SourceId) -> &str {
        self.files
            .get(id.0 as usize)
            .map_or("", |(_, text)| text.as_str())
    }
}

/// One problem in a config: where, which key, what is wrong, and what would be right.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub(crate) loc: Location,
    /// The key path, e.g. `postgres.storage.size`; empty for the document itself.
    pub path: String,
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(loc: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            loc,
            path: String::new(),
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Renders the diagnostic the way compilers do: message, file:line:col, the line, a caret.
    pub(crate) fn render(&self, sources: &Sources) -> String {
        self.render_as(sources, "error", &[])
    }

    /// Renders under another label (e.g. `warning[PGS001]`), with extra `= name: text` lines.
    pub(crate) fn render_as(
        &self,
        sources: &Sources,
        label: &str,
        notes: &[(&str, &str)],
    ) -> String {
        let mut out = String::new();
        let message = visible(&self.message, false);
        if self.path.is_empty() {
            let _ = writeln!(out, "{label}: {message}");
        } else {
            let _ = writeln!(out, "{label}: {}: {message}", visible(&self.path, false));
        }
        let name = visible(sources.name(self.loc.source), false);
        let _ = writeln!(out, "  --> {}:{}:{}", name, self.loc.line, self.loc.col);
        let text = sources.text(self.loc.source);
        if let Some(line) = text.lines().nth(self.loc.line.saturating_sub(1)) {
            let number = self.loc.line.to_string();
            let pad = " ".repeat(number.len());
            // A long line is shown as a window around the column, so the caret stays on it.
            let before = self.loc.col.saturating_sub(1);
            let skip = if before > SHOWN_CHARS / 2 {
                before - SHOWN_CHARS / 4
            } else {
                0
            };
            let window: String = line.chars().skip(skip).take(SHOWN_CHARS).collect();
            let mut shown = visible(&window, true).into_owned();
            // One space under each character as shown (an escaped one is several wide).
            let mut caret_at = String::new();
            for c in line.chars().skip(skip).take(before - skip) {
                match c {
                    '\t' => caret_at.push('\t'),
                    c => {
                        let width = visible(c.encode_utf8(&mut [0; 4]), true).chars().count();
                        caret_at.extend(std::iter::repeat_n(' ', width));
                    }
                }
            }
            if skip > 0 {
                shown.insert_str(0, "...");
                caret_at.insert_str(0, "   ");
            }
            if line.chars().count() > skip + SHOWN_CHARS {
                shown.push_str("...");
            }
            let width = self.loc.len.clamp(1, 80);
            let _ = writeln!(out, " {pad} |");
            let _ = writeln!(out, " {number} | {shown}");
            let _ = writeln!(out, " {pad} | {caret_at}{}", "^".repeat(width));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {}", visible(help, false));
        }
        for (name, text) in notes {
            let _ = writeln!(out, "  = {name}: {}", visible(text, false));
        }
        out
    }
}

/// Everything that can stop a run, each with the exit code the spec gives it.
#[derive(Debug)]
pub enum Error {
    /// The config is wrong; every problem found, with the files they point into. Exit 2.
    Config {
        sources: Sources,
        diagnostics: Vec<Diagnostic>,
    },
    /// The command line is wrong, or a value it names is. Exit 2.
    Usage(String),
    /// Reading or writing a file failed. Exit 3.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A rendered object does not survive its Kubernetes type: a template is wrong. Exit 4.
    Bug(String),
}

impl Error {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. } | Error::Usage(_) => 2,
            Error::Io { .. } => 3,
            Error::Bug(_) => 4,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config {
                sources,
                diagnostics,
            } => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}", d.render(sources))?;
                }
                if diagnostics.len() > 1 {
                    writeln!(f, "\n{} errors in the config", diagnostics.len())?;
                }
                Ok(())
            }
            Error::Usage(msg) => writeln!(f, "error: {}", visible(msg, false)),
            Error::Io {
                path,
                action,
                source,
            } => writeln!(
                f,
                "error: could not {action} {}: {}",
                visible(&path.display().to_string(), false),
                visible(&source.to_string(), false)
            ),
            Error::Bug(msg) => writeln!(
                f,
                "error: this is a bug in pgstate, not in your config: {msg}\n  = help: please report it with the config that caused it"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Levenshtein distance, for "did you mean" hints.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            let cost = usize::from(!ca.eq_ignore_ascii_case(cb));
            row[j + 1] = (prev + cost).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1) || c.eq_ignore_ascii_case(word))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("storag", &["storage", "settings"]), Some("storage"));
        assert_eq!(closest("STORAGE", &["storage"]), Some("storage"));
        assert_eq!(closest("banana", &["storage", "settings"]), None);
    }

    #[test]
    fn renders_line_and_caret() {
        let mut sources = Sources::default();
        let id = sources.add("pgstate.yaml", "postgres:\n  storag: {}\n");
        let d = Diagnostic::new(Location::new(id, 2, 3, 6), "unknown key `storag`")
            .with_path("postgres.storag")
            .with_help("did you mean `storage`?");
        let text = d.render(&sources);
        assert!(text.contains("--> pgstate.yaml:2:3"), "{text}");
        assert!(
            text.contains(" 2 |   storag: {}\n   |   ^^^^^^\n"),
            "{text}"
        );
    }

    #[test]
    fn long_lines_are_shown_around_the_caret() {
        let mut sources = Sources::default();
        let line = format!("labels: {{{}: b, c: 'd e'}}", "a".repeat(250));
        let id = sources.add("pgstate.yaml", line.clone());
        let col = line.find("'d e'").expect("value") + 1;
        let d = Diagnostic::new(Location::new(id, 1, col, 5), "bad value");
        let text = d.render(&sources);
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[3].find("'d e'").expect("the value is shown");
        let caret = lines[4].find('^').expect("a caret");
        assert_eq!(shown, caret, "{text}");
        assert!(lines[3].contains(" | ..."), "{text}");
    }
}
