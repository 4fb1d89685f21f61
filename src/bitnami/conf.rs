//! The text formats a Bitnami values file carries: postgresql.conf (`primary.configuration`,
//! `primary.extendedConfiguration`) and pg_hba.conf (`primary.pgHbaConfiguration`).

/// One `name = value` line of a postgresql.conf text; `line` counts from 0 in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Setting {
    pub(super) line: usize,
    pub(super) name: String,
    pub(super) value: String,
}

/// A line that is not a setting, a comment or blank: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConfError {
    pub(super) line: usize,
    pub(super) col: usize,
    pub(super) message: String,
}

/// An `include` directive (pgstate cannot follow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Include {
    pub(super) line: usize,
    pub(super) directive: String,
    pub(super) target: String,
}

#[derive(Debug, Default)]
pub(super) struct Conf {
    pub(super) settings: Vec<Setting>,
    pub(super) includes: Vec<Include>,
}

/// Parses postgresql.conf text as the server does: `name = value` or `name value`, `#` starts
/// a comment outside quotes, a value is one word or a single-quoted string (`''` or `\'` for a
/// quote, backslash escapes), names are case-insensitive. The last of a repeated name wins, as
/// in the server; the order of first appearance is kept.
pub(super) fn parse_conf(text: &str) -> Result<Conf, ConfError> {
    let mut conf = Conf::default();
    for (n, raw) in text.lines().enumerate() {
        let line: Vec<char> = raw.chars().collect();
        let mut i = skip_space(&line, 0);
        if i >= line.len() || line[i] == '#' {
            continue;
        }
        let start = i;
        while i < line.len() && is_name_char(line[i]) {
            i += 1;
        }
        if i == start || !(line[start].is_ascii_alphabetic() || line[start] == '_') {
            return Err(ConfError {
                line: n,
                col: start,
                message: "a postgresql.conf line starts with a parameter name".into(),
            });
        }
        let name: String = line[start..i].iter().collect::<String>().to_lowercase();
        i = skip_space(&line, i);
        let mut had_equals = false;
        if i < line.len() && line[i] == '=' {
            had_equals = true;
            i = skip_space(&line, i + 1);
        }
        let value_col = i;
        let value = if i < line.len() && line[i] == '\'' {
            let (value, end) = quoted(&line, i).ok_or_else(|| ConfError {
                line: n,
                col: i,
                message: format!("the value of `{name}` has no closing quote"),
            })?;
            i = end;
            value
        } else {
            let from = i;
            while i < line.len() && !line[i].is_whitespace() && line[i] != '#' {
                i += 1;
            }
            line[from..i].iter().collect()
        };
        i = skip_space(&line, i);
        if i < line.len() && line[i] != '#' {
            return Err(ConfError {
                line: n,
                col: i,
                message: format!(
                    "unexpected text after the value of `{name}`; a value with spaces is written in single quotes"
                ),
            });
        }
        if value.is_empty() && !had_equals {
            return Err(ConfError {
                line: n,
                col: value_col,
                message: format!("`{name}` has no value"),
            });
        }
        if matches!(
            name.as_str(),
            "include" | "include_if_exists" | "include_dir"
        ) {
            conf.includes.push(Include {
                line: n,
                directive: name,
                target: value,
            });
            continue;
        }
        match conf.settings.iter_mut().find(|s| s.name == name) {
            Some(existing) => {
                existing.value = value;
                existing.line = n;
            }
            None => conf.settings.push(Setting {
                line: n,
                name,
                value,
            }),
        }
    }
    Ok(conf)
}

fn skip_space(line: &[char], mut i: usize) -> usize {
    while i < line.len() && line[i].is_whitespace() {
        i += 1;
    }
    i
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// A single-quoted value starting at `start`: its text and the index after the closing quote.
fn quoted(line: &[char], start: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < line.len() {
        match line[i] {
            '\'' if line.get(i + 1) == Some(&'\'') => {
                out.push('\'');
                i += 2;
            }
            '\'' => return Some((out, i + 1)),
            '\\' if i + 1 < line.len() => {
                let next = line[i + 1];
                out.push(match next {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    other => other,
                });
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

/// One pg_hba.conf rule, in the shape of pgstate's `postgres.hba` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HbaRule {
    pub(super) line: usize,
    pub(super) kind: String,
    pub(super) database: String,
    pub(super) user: String,
    pub(super) address: Option<String>,
    pub(super) method: String,
    pub(super) options: Vec<String>,
}

const HBA_TYPES: &[&str] = &[
    "local",
    "host",
    "hostssl",
    "hostnossl",
    "hostgssenc",
    "hostnogssenc",
];

/// Parses pg_hba.conf rules: `local DATABASE USER METHOD [OPTIONS]` and
/// `host* DATABASE USER ADDRESS [MASK] METHOD [OPTIONS]`; comments and blank lines skipped.
pub(super) fn parse_hba(text: &str) -> Result<Vec<HbaRule>, ConfError> {
    let mut rules = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let body = raw.split('#').next().unwrap_or_default();
        let words: Vec<&str> = body.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let col = raw.len() - raw.trim_start().len();
        let kind = words[0].to_owned();
        if !HBA_TYPES.contains(&kind.as_str()) {
            return Err(ConfError {
                line: n,
                col,
                message: format!(
                    "`{kind}` is not a pg_hba connection type (local, host, hostssl, hostnossl, hostgssenc, hostnogssenc)"
                ),
            });
        }
        let local = kind == "local";
        let need = if local { 4 } else { 5 };
        if words.len() < need {
            return Err(ConfError {
                line: n,
                col,
                message: if local {
                    "a `local` rule has a database, a user and a method".into()
                } else {
                    format!("a `{kind}` rule has a database, a user, an address and a method")
                },
            });
        }
        let (address, rest) = if local {
            (None, &words[3..])
        } else if words.len() > 5 && words[4].contains('.') && !words[3].contains('/') {
            // An address and a separate netmask: pgstate's rules take CIDR.
            (Some(format!("{} {}", words[3], words[4])), &words[5..])
        } else {
            (Some(words[3].to_owned()), &words[4..])
        };
        rules.push(HbaRule {
            line: n,
            kind,
            database: words[1].to_owned(),
            user: words[2].to_owned(),
            address,
            method: rest[0].to_owned(),
            options: rest[1..].iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_reads_quotes_comments_units_and_both_separators() {
        let conf = parse_conf(
            "# tuning\nmax_connections = 200   # more clients\nshared_buffers 256MB\nlog_line_prefix = '%m [%p] it''s # not a comment'\nSEARCH_PATH='\"$user\", public'\nwork_mem=4MB\nwork_mem = 8MB\n",
        )
        .expect("valid");
        let got: Vec<(&str, &str)> = conf
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("max_connections", "200"),
                ("shared_buffers", "256MB"),
                ("log_line_prefix", "%m [%p] it's # not a comment"),
                ("search_path", "\"$user\", public"),
                ("work_mem", "8MB"),
            ]
        );
        assert_eq!(conf.settings[4].line, 6, "the last assignment wins");
    }

    #[test]
    fn conf_errors_point_at_the_line() {
        let err = parse_conf("a = 1\nb = 'open\n").expect_err("unclosed");
        assert_eq!((err.line, err.col), (1, 4), "{}", err.message);
        let err = parse_conf("x = two words\n").expect_err("two words");
        assert_eq!(err.line, 0);
        let err = parse_conf("= 3\n").expect_err("no name");
        assert!(err.message.contains("parameter name"), "{}", err.message);
    }

    #[test]
    fn conf_keeps_includes_apart() {
        let conf = parse_conf("include_dir 'conf.d'\nfsync = on\n").expect("valid");
        assert_eq!(conf.includes.len(), 1);
        assert_eq!(conf.includes[0].target, "conf.d");
        assert_eq!(conf.settings.len(), 1);
    }

    #[test]
    fn hba_rules_read_local_host_and_masks() {
        let rules = parse_hba(
            "# TYPE DATABASE USER ADDRESS METHOD\nlocal all all trust\nhost all all 0.0.0.0/0 scram-sha-256\nhostssl app app 10.0.0.0 255.0.0.0 md5 clientcert=verify-ca\n",
        )
        .expect("valid");
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].address, None);
        assert_eq!(rules[1].address.as_deref(), Some("0.0.0.0/0"));
        assert_eq!(rules[2].address.as_deref(), Some("10.0.0.0 255.0.0.0"));
        assert_eq!(rules[2].options, vec!["clientcert=verify-ca".to_owned()]);
        assert!(parse_hba("hots all all 0.0.0.0/0 md5\n").is_err());
        assert!(parse_hba("host all all md5\n").is_err());
    }
}
