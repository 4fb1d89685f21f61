//! The template environment: every embedded template named by a `TemplateId`, the shared
//! partials, and the minijinja environment with pgstate's printer, functions and filters.
//! Over 500 lines with its tests, which hold the printer and `indent` to minijinja's own.

use std::sync::OnceLock;

use minijinja::value::ValueKind;
use minijinja::{Environment, Template, UndefinedBehavior};

use super::blocks;
use crate::error::Error;
use crate::yaml::{plain_is_safe, yaml_json};

/// Declares every object template once: its `TemplateId` variant and its file, embedded.
macro_rules! templates {
    ($($id:ident => $file:literal,)*) => {
        /// Every template, named by a constant instead of a string that could be mistyped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum TemplateId {
            $($id,)*
        }

        impl TemplateId {
            pub(crate) const ALL: &[TemplateId] = &[$(TemplateId::$id,)*];

            pub(crate) fn file(self) -> &'static str {
                match self {
                    $(TemplateId::$id => $file,)*
                }
            }

            fn source(self) -> &'static str {
                match self {
                    $(TemplateId::$id => include_str!(concat!("../../templates/", $file)),)*
                }
            }

            /// The kind of object the template renders, read from its `kind:` line (once a
            /// process: the order of every config's objects asks for it).
            pub(crate) fn kind(self) -> Option<&'static str> {
                static KINDS: OnceLock<Vec<Option<&'static str>>> = OnceLock::new();
                let kind = |id: &TemplateId| {
                    let mut lines = id.source().lines();
                    lines.find_map(|line| line.strip_prefix("kind: ")).map(str::trim)
                };
                KINDS.get_or_init(|| TemplateId::ALL.iter().map(kind).collect())[self as usize]
            }
        }
    };
}

templates! {
    Secret => "secret.yaml.j2",
    InitdbConfigMap => "configmap-initdb.yaml.j2",
    HbaConfigMap => "configmap-hba.yaml.j2",
    Certificate => "certificate.yaml.j2",
    PersistentVolume => "persistentvolume.yaml.j2",
    BackupClaim => "backup-pvc.yaml.j2",
    HeadlessService => "service-headless.yaml.j2",
    Service => "service.yaml.j2",
    StatefulSet => "statefulset.yaml.j2",
    BackupCronJob => "backup-cronjob.yaml.j2",
    DrillCronJob => "drill-cronjob.yaml.j2",
    Deployment => "deployment.yaml.j2",
    NetworkPolicy => "networkpolicy.yaml.j2",
    ServiceMonitor => "servicemonitor.yaml.j2",
    AppNetworkPolicy => "networkpolicy-app.yaml.j2",
    BackupNetworkPolicy => "networkpolicy-backup.yaml.j2",
    RestoreJob => "restore-job.yaml.j2",
    UpgradeJob => "upgrade/job.yaml.j2",
    UpgradeNetworkPolicy => "upgrade/networkpolicy.yaml.j2",
    PerconaUpgrade => "percona/upgrade.yaml.j2",
    CnpgObjectStore => "cloudnativepg/objectstore.yaml.j2",
    CnpgCluster => "cloudnativepg/cluster.yaml.j2",
    CnpgScheduledBackup => "cloudnativepg/scheduledbackup.yaml.j2",
    CnpgPooler => "cloudnativepg/pooler.yaml.j2",
    PerconaCluster => "percona/perconapgcluster.yaml.j2",
    ExternalService => "external/service.yaml.j2",
    RedisSecret => "redis/secret.yaml.j2",
    RedisConfig => "redis/configmap.yaml.j2",
    RedisHeadlessService => "service-headless.yaml.j2",
    RedisService => "service.yaml.j2",
    RedisStatefulSet => "statefulset.yaml.j2",
    RedisNetworkPolicy => "networkpolicy.yaml.j2",
}

impl TemplateId {
    /// The workload an object template renders as `w` (see templates/objects.yaml.j2): Redis's
    /// for the Redis objects, else the database's.
    pub(super) fn workload(self) -> &'static str {
        match self {
            TemplateId::RedisSecret
            | TemplateId::RedisConfig
            | TemplateId::RedisHeadlessService
            | TemplateId::RedisService
            | TemplateId::RedisStatefulSet
            | TemplateId::RedisNetworkPolicy => "redis",
            _ => "database",
        }
    }
}

/// The templates that are not objects: the one that renders a config's objects ([`OBJECTS`])
/// and the shared blocks the object templates import or include.
const SHARED: &[(&str, &str)] = &[
    (OBJECTS, include_str!("../../templates/objects.yaml.j2")),
    (
        "partials/common.yaml.j2",
        include_str!("../../templates/partials/common.yaml.j2"),
    ),
    (
        "partials/job-pod.yaml.j2",
        include_str!("../../templates/partials/job-pod.yaml.j2"),
    ),
    (
        "partials/backup.sh",
        include_str!("../../templates/partials/backup.sh"),
    ),
    (
        "partials/restore.sh",
        include_str!("../../templates/partials/restore.sh"),
    ),
    (
        "partials/dump-check-start.sh",
        include_str!("../../templates/partials/dump-check-start.sh"),
    ),
    (
        "partials/roles.sh",
        include_str!("../../templates/partials/roles.sh"),
    ),
    (
        "partials/start.sh",
        include_str!("../../templates/partials/start.sh"),
    ),
    (
        "partials/upgrade-common.sh",
        include_str!("../../templates/partials/upgrade-common.sh"),
    ),
    (
        "partials/upgrade-link.sh",
        include_str!("../../templates/partials/upgrade-link.sh"),
    ),
    (
        "partials/upgrade-rollback.sh",
        include_str!("../../templates/partials/upgrade-rollback.sh"),
    ),
    (
        "partials/upgrade-dump.sh",
        include_str!("../../templates/partials/upgrade-dump.sh"),
    ),
    (
        "partials/upgrade-restore.sh",
        include_str!("../../templates/partials/upgrade-restore.sh"),
    ),
    (
        "partials/upgrade-after.sh",
        include_str!("../../templates/partials/upgrade-after.sh"),
    ),
    (
        "partials/table-rows.sh",
        include_str!("../../templates/partials/table-rows.sh"),
    ),
    (
        "partials/check-rows.sh",
        include_str!("../../templates/partials/check-rows.sh"),
    ),
    (
        "partials/s3.sh",
        include_str!("../../templates/partials/s3.sh"),
    ),
    (
        "partials/s3-check.sh",
        include_str!("../../templates/partials/s3-check.sh"),
    ),
    (
        "partials/upload.sh",
        include_str!("../../templates/partials/upload.sh"),
    ),
    (
        "partials/download.sh",
        include_str!("../../templates/partials/download.sh"),
    ),
    (
        "partials/drill.sh",
        include_str!("../../templates/partials/drill.sh"),
    ),
    (
        "redis/redis.conf",
        include_str!("../../templates/redis/redis.conf"),
    ),
    (
        "redis/start.sh",
        include_str!("../../templates/redis/start.sh"),
    ),
    (
        "redis/probe.sh",
        include_str!("../../templates/redis/probe.sh"),
    ),
];

/// The shell scripts pgstate puts in objects, as written (the Redis probe with port 0): the
/// boundary oracle checks that every script rendered is one of these, whatever the config.
pub(crate) fn embedded_scripts() -> Vec<String> {
    // Each shell partial as the templates include it (its own includes resolved); none of them
    // prints a value from the config but Redis's port.
    let ctx = minijinja::context! {
        redis => minijinja::context! { port => 0 },
        paths => super::view(&super::context::PATHS),
    };
    SHARED
        .iter()
        .filter(|(name, _)| name.ends_with(".sh"))
        .filter_map(|(name, _)| compiled(name).ok()?.render(&ctx).ok())
        .collect()
}

/// The template that renders a config's objects: it imports the shared macros once as `c` and
/// includes each object template.
pub(super) const OBJECTS: &str = "objects.yaml.j2";

/// What ends each object in the output of [`OBJECTS`]: a control character that a printed
/// value never contains (the formatter JSON-quotes such strings) and no template contains. An
/// ASCII byte, so it never occurs inside the bytes of another character.
pub(crate) const END: u8 = 0x1e;

/// The template environment, made once per process. Templates are compiled on first use (a run
/// compiles only what it renders), by the environment's loader, which knows every embedded one.
pub fn environment() -> Result<&'static Environment<'static>, Error> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_loader(|name| Ok(source(name).map(str::to_owned)));
        env.add_global(
            "end",
            minijinja::Value::from_safe_string(char::from(END).to_string()),
        );
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| format!("template syntax: {e}"))?;
        env.set_syntax(syntax);
        env.add_function("mapping", mapping);
        env.add_function("sequence", sequence);
        env.add_function("block", block);
        env.add_function("mounts", blocks::mounts);
        env.add_function("volumes", blocks::volumes);
        env.add_function("probes", blocks::probes);
        env.add_filter("indent", indent);
        // YAML templates print every value through `print_value` (also behind `mapping`,
        // `sequence` and the workload's blocks); the shell partials they include keep minijinja's own formatting.
        env.set_formatter(|out, state, value| match state.auto_escape() {
            minijinja::AutoEscape::Json => print_value(out, value),
            _ => minijinja::escape_formatter(out, state, value),
        });
        Ok(env)
    })
    .as_ref()
    .map_err(|e| Error::Bug(e.clone()))
}

/// A map's `key: value` lines, printed as `{{ key }}: {{ value }}` would print them. A function
/// in Rust rather than a template macro: it runs for every label set and list of every object.
fn mapping(items: minijinja::Value) -> Result<minijinja::Value, minijinja::Error> {
    // Room for the usual label line, so the string is not grown line by line.
    let mut out = String::with_capacity(items.len().unwrap_or(0) * 48);
    for key in items.try_iter()? {
        let value = items.get_item(&key)?;
        print_value(&mut out, &key)?;
        out.push_str(": ");
        print_value(&mut out, &value)?;
        out.push('\n');
    }
    Ok(minijinja::Value::from_safe_string(out))
}

/// A list's `- item` lines, printed as `- {{ item }}` would print them.
fn sequence(items: minijinja::Value) -> Result<minijinja::Value, minijinja::Error> {
    let mut out = String::with_capacity(items.len().unwrap_or(0) * 24);
    for item in items.try_iter()? {
        out.push_str("- ");
        print_value(&mut out, &item)?;
        out.push('\n');
    }
    Ok(minijinja::Value::from_safe_string(out))
}

/// `text|indent(width)`: every line but the first moved right by `width` spaces, blank lines
/// left empty, one final line break dropped; what minijinja's built-in `indent` does with one
/// argument, without its per-line formatting (it runs for every block of every object).
fn indent(text: minijinja::Value, width: usize) -> Result<minijinja::Value, minijinja::Error> {
    fn strip_line_break(text: &str) -> &str {
        let text = text.strip_suffix('\n').unwrap_or(text);
        text.strip_suffix('\r').unwrap_or(text)
    }
    let owned;
    let input = match text.as_str() {
        Some(s) => s,
        None => {
            owned = text.to_string();
            &owned
        }
    };
    const SPACES: &str = "                                                                ";
    let input = strip_line_break(input);
    let mut out = String::with_capacity(input.len() + width * 8);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', input.as_bytes()) {
        out.push_str(&input[start..=end]);
        start = end + 1;
        let line = &input[start..];
        if !(line.is_empty() || line.starts_with('\n') || line.starts_with("\r\n") || line == "\r")
        {
            // One copy, not a `char` at a time: every line of every block is indented.
            match SPACES.get(..width) {
                Some(spaces) => out.push_str(spaces),
                None => out.extend(std::iter::repeat_n(' ', width)),
            }
        }
    }
    out.push_str(&input[start..]);
    if out.ends_with('\r') {
        out.pop();
    }
    Ok(if text.is_safe() {
        minijinja::Value::from_safe_string(out)
    } else {
        minijinja::Value::from(out)
    })
}

/// A script as a `|` literal block (`|-` without a final line break), to be placed with
/// `|indent(n)`; JSON-quoted when a literal block could not hold it exactly (a first line
/// that starts with a space, lines of spaces only, several final line breaks, a carriage
/// return, control characters, or the line breaks of YAML 1.1).
fn block(text: &str) -> Result<minijinja::Value, minijinja::Error> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let first = body.lines().find(|l| !l.is_empty()).unwrap_or_default();
    let literal = !body.is_empty()
        && !body.ends_with('\n')
        && !first.starts_with([' ', '\t'])
        && !body.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
        && body.lines().all(|l| l.is_empty() || !l.trim().is_empty());
    let out = if literal {
        let header = if body.len() < text.len() { "|" } else { "|-" };
        format!("{header}\n{body}")
    } else {
        yaml_json(text).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
        })?
    };
    Ok(minijinja::Value::from_safe_string(out))
}

/// How the YAML templates print a value: marked-safe strings as they are, other strings plain
/// when that is safe (see [`plain_is_safe`]) and JSON-quoted otherwise, anything else (numbers,
/// booleans, none, lists, maps) as one-line JSON.
pub(super) fn print_value(
    out: &mut impl std::fmt::Write,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let json = |e: serde_json::Error| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
    };
    match value.as_str() {
        Some(text) if value.is_safe() || plain_is_safe(text) => out.write_str(text)?,
        Some(text) => out.write_str(&yaml_json(text).map_err(json)?)?,
        // Ports, counts, UIDs and flags, the values printed most after strings, without a
        // JSON string made for each: the text serde_json prints for them.
        None => match (value.kind(), value.as_i64()) {
            (ValueKind::Bool, _) => {
                out.write_str(if value.is_true() { "true" } else { "false" })?
            }
            (ValueKind::Number, Some(n)) if value.is_integer() => write!(out, "{n}")?,
            // JSON for the rest: `true`, not minijinja's `True`.
            _ => out.write_str(&yaml_json(value).map_err(json)?)?,
        },
    }
    Ok(())
}

/// The embedded template `name`, compiled the first time a run needs it and kept for the
/// process.
pub(super) fn compiled(name: &str) -> Result<Template<'static, 'static>, Error> {
    environment()?
        .get_template(name)
        .map_err(|e| Error::Bug(format!("template {name} does not compile: {e:#}")))
}

/// The embedded source of the template `name`: an object template or one of [`SHARED`].
fn source(name: &str) -> Option<&'static str> {
    TemplateId::ALL
        .iter()
        .find(|id| id.file() == name)
        .map(|id| id.source())
        .or_else(|| SHARED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_the_same_inline_and_through_mapping_and_sequence() {
        let env = environment().expect("environment");
        let source = "a: {{ t }}\nb: {{ n }}\nc: {{ s }}\nd: {{ w }}\n---\n{{ mapping(m) }}---\n{{ sequence(l) }}";
        let template = env
            .template_from_named_str("values.yaml.j2", source)
            .expect("compiles");
        let ctx = minijinja::context! {
            t => true, n => 5432, s => "yes", w => "word",
            m => minijinja::context! { a => true, b => 5432, c => "yes", d => "word" },
            l => vec![minijinja::Value::from(true), 5432.into(), "yes".into(), "word".into()],
        };
        let out = template.render(ctx).expect("renders");
        let [inline, map, list]: [&str; 3] = out
            .split("---\n")
            .collect::<Vec<_>>()
            .try_into()
            .expect("three parts");
        assert_eq!(inline, "a: true\nb: 5432\nc: \"yes\"\nd: word\n");
        assert_eq!(map, inline);
        assert_eq!(list, "- true\n- 5432\n- \"yes\"\n- word\n");
    }

    /// Numbers and flags are printed without serde_json, and must print as it would.
    #[test]
    fn non_strings_print_as_json() {
        let values: Vec<minijinja::Value> = vec![
            true.into(),
            false.into(),
            0.into(),
            (-7i64).into(),
            i64::MAX.into(),
            i64::MIN.into(),
            u64::MAX.into(),
            i128::MIN.into(),
            2.0f64.into(),
            0.5f64.into(),
            (-1e300f64).into(),
            minijinja::Value::from(()),
            minijinja::Value::from(vec![1, 2]),
        ];
        for value in values {
            let mut ours = String::new();
            print_value(&mut ours, &value).expect("prints");
            let json = serde_json::to_string(&value).expect("serializes");
            assert_eq!(ours, json, "{value:?}");
        }
    }

    #[test]
    fn indent_prints_what_the_built_in_filter_prints() {
        let mut ours = minijinja::Environment::new();
        ours.add_filter("indent", indent);
        let mut theirs = minijinja::Environment::new();
        theirs.add_filter("indent", minijinja::filters::indent);
        // Each printed value says whether it is marked safe (the formatter prints safe strings plain).
        for env in [&mut ours, &mut theirs] {
            env.set_formatter(|out, _, value| {
                let mark = if value.is_safe() { "safe:" } else { "text:" };
                write!(out, "{mark}{value}").map_err(minijinja::Error::from)
            });
        }
        let source = "[{{ text|indent(n) }}] [{{ (text|safe)|indent(n) }}] [{{ 7|indent(n) }}]";
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\nb\n",
            "a\n\nb\n\n",
            "\n",
            "\n\n",
            "a\r\nb\r\n",
            "a\n\r\nb",
            "x\r",
            "  lead\n  more",
            "a <b> & 'c'\n\"d\"",
            "ü\nß\n",
        ] {
            for n in [0, 2, 12] {
                let ctx = minijinja::context! { text, n };
                let want = theirs.render_str(source, &ctx).expect("built-in");
                assert_eq!(
                    ours.render_str(source, &ctx).expect("ours"),
                    want,
                    "{text:?}"
                );
            }
        }
    }

    /// `kind()` finds a template's kind at its place in `ALL`.
    #[test]
    fn all_lists_the_templates_in_their_order() {
        for (i, id) in TemplateId::ALL.iter().enumerate() {
            assert_eq!(*id as usize, i, "{id:?}");
        }
    }

    #[test]
    fn every_template_is_embedded_and_compiles() {
        let objects = TemplateId::ALL.iter().map(|id| id.file());
        for name in objects.chain(SHARED.iter().map(|(name, _)| *name)) {
            if let Err(e) = compiled(name) {
                panic!("{name}: {e}");
            }
        }
    }
}
