//! Rendering: the view model through the embedded templates, each document checked.

pub mod context;
pub mod readback;
pub mod redis;
pub mod targets;
pub mod tree;

use std::sync::OnceLock;

use minijinja::value::ValueKind;
use minijinja::{Environment, Template, UndefinedBehavior};
use serde_json::Value;

use crate::config::Config;
use crate::config::vars::Vars;
use crate::error::Error;
use crate::manifest;
pub use context::Context;
use tree::Node;

/// Declares every object template once: its `TemplateId` variant and its file, embedded.
macro_rules! templates {
    ($($id:ident => $file:literal,)*) => {
        /// Every template, named by a constant instead of a string that could be mistyped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum TemplateId {
            $($id,)*
        }

        impl TemplateId {
            pub const ALL: &[TemplateId] = &[$(TemplateId::$id,)*];

            pub fn file(self) -> &'static str {
                match self {
                    $(TemplateId::$id => $file,)*
                }
            }

            fn source(self) -> &'static str {
                match self {
                    $(TemplateId::$id => include_str!(concat!("../../templates/", $file)),)*
                }
            }

            /// The kind of object the template renders, read from its `kind:` line.
            pub fn kind(self) -> Option<&'static str> {
                self.source()
                    .lines()
                    .find_map(|line| line.strip_prefix("kind: "))
                    .map(str::trim)
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
    RedisHeadlessService => "redis/service-headless.yaml.j2",
    RedisService => "redis/service.yaml.j2",
    RedisStatefulSet => "redis/statefulset.yaml.j2",
    RedisNetworkPolicy => "redis/networkpolicy.yaml.j2",
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
];

/// The shell scripts pgstate puts in objects, as written (the Redis probe with port 0): the
/// boundary oracle checks that every script rendered is one of these, whatever the config.
pub fn embedded_scripts() -> Vec<String> {
    // Each shell partial as the templates include it (its own includes resolved); none of them
    // prints a value.
    let mut scripts: Vec<String> = SHARED
        .iter()
        .filter(|(name, _)| name.ends_with(".sh"))
        .filter_map(|(name, _)| compiled(name).ok()?.render(()).ok())
        .collect();
    scripts.push(redis::start_script());
    scripts.push(redis::probe_script(0));
    scripts
}

/// The template that renders a config's objects: it imports the shared macros once as `c` and
/// includes each object template.
const OBJECTS: &str = "objects.yaml.j2";

/// What ends each object in the output of [`OBJECTS`]: a control character that a printed
/// value never contains (the formatter JSON-quotes such strings) and no template contains. An
/// ASCII byte, so it never occurs inside the bytes of another character.
const END: u8 = 0x1e;

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
        env.add_filter("indent", indent);
        // YAML templates print every value through `print_value` (also behind `mapping` and
        // `sequence`); the shell partials they include keep minijinja's own formatting.
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
    let input = strip_line_break(input);
    let mut out = String::with_capacity(input.len() + width * 8);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', input.as_bytes()) {
        out.push_str(&input[start..=end]);
        start = end + 1;
        let line = &input[start..];
        if !(line.is_empty() || line.starts_with('\n') || line.starts_with("\r\n") || line == "\r")
        {
            out.extend(std::iter::repeat_n(' ', width));
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

/// serde_json's compact output, but with every character that YAML 1.1 and YAML 1.2 would
/// read differently (or not at all) written as a `\u` escape: DEL, the C1 controls (NEL is a
/// line break to YAML 1.1), the line and paragraph separators, the byte order mark and the
/// non-characters U+FFFE and U+FFFF. serde_json already escapes the C0 controls. Both YAML
/// versions read `\uXXXX` in a double-quoted string as that character.
struct YamlSafe;

/// Whether a character is written as an escape by [`YamlSafe`].
pub fn needs_yaml_escape(ch: char) -> bool {
    matches!(
        ch,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

impl serde_json::ser::Formatter for YamlSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if needs_yaml_escape(ch) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(ch))?;
                start = i + ch.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// A value as one line of JSON that reads back as the same value under YAML 1.1 and 1.2.
pub fn yaml_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, YamlSafe);
    value.serialize(&mut ser)?;
    // serde_json writes only UTF-8, and the escapes are ASCII.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// How the YAML templates print a value: marked-safe strings as they are, other strings plain
/// when that is safe (see [`plain_is_safe`]) and JSON-quoted otherwise, anything else (numbers,
/// booleans, none, lists, maps) as one-line JSON.
fn print_value(
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
fn compiled(name: &str) -> Result<Template<'static, 'static>, Error> {
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

/// The YAML of each template of `ids`, rendered with `view` in one run of [`OBJECTS`].
fn render_objects(ids: &[TemplateId], view: &minijinja::Value) -> Result<Vec<String>, Error> {
    let names: Vec<&str> = ids.iter().map(|id| id.file()).collect();
    let ctx = minijinja::context! { objects => &names, ..view.clone() };
    let text = compiled(OBJECTS)?
        .render(ctx)
        .map_err(|e| Error::Bug(format!("template {} failed: {e:#}", names.join(", "))))?;
    let mut yamls = Vec::with_capacity(ids.len() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(END, text.as_bytes()) {
        yamls.push(text[start..end].to_owned());
        start = end + 1;
    }
    yamls.push(text[start..].to_owned());
    // Each object ends with END: the last piece is empty.
    if yamls.pop().as_deref() != Some("") || yamls.len() != ids.len() {
        return Err(Error::Bug(format!(
            "templates {} printed {} objects",
            names.join(", "),
            yamls.len()
        )));
    }
    Ok(yamls)
}

/// Whether a string reads back as the same string when printed as a plain YAML scalar, under
/// YAML 1.2 and under the YAML 1.1 rules kubectl's parser still applies (yes/no/on/off, octal,
/// sexagesimal). Anything else is printed JSON-quoted by the auto-escaper. The reader of the
/// templates' output (readback.rs) applies the same rules, from the same helpers.
pub fn plain_is_safe(text: &str) -> bool {
    const UNITS: &[&str] = &[
        "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    match text.as_bytes().first() {
        Some(first) if first.is_ascii_alphabetic() || *first == b'/' => {
            is_name(text) && !is_keyword(text)
        }
        _ => is_quantity(text, UNITS),
    }
}

/// The characters of plain names, paths, label keys and quantities: letters, digits, `._/-`.
pub(crate) fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

/// [`is_name_byte`] of every byte, looked up once per character of every key and word read back.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-');
        b += 1;
    }
    table
};

/// Non-empty, and only [`is_name_byte`] characters.
pub(crate) fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_name_byte)
}

/// A word YAML 1.1 or 1.2 reads as a boolean or null, in any case.
pub(crate) fn is_keyword(text: &str) -> bool {
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
}

/// A Kubernetes quantity such as 500m, 1Gi or 0.5: digits, at most one inner dot, one of `units`.
pub(crate) fn is_quantity(text: &str, units: &[&str]) -> bool {
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    text.starts_with(|c: char| c.is_ascii_digit())
        && number.matches('.').count() <= 1
        && !number.ends_with('.')
        && units.contains(&unit)
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: String,
    pub name: String,
    /// The YAML as the template printed it (what `render` writes).
    pub yaml: String,
    /// The same object parsed, for the typed check and JSON output.
    pub value: Value,
}

impl Document {
    /// The file name used by `--out-dir`, e.g. `statefulset-postgresql.yaml`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }
}

/// Where a kind of object goes in the output: Helm's install order, so that `kubectl apply`
/// creates the NetworkPolicies, Secrets, ConfigMaps, volumes and Services before the workloads
/// that need them. A stream cut short (a failed apply) then never leaves a running database
/// without its policy. Custom resources come last.
pub fn install_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "NetworkPolicy" => 1,
        "Secret" => 2,
        "ConfigMap" => 3,
        "PersistentVolume" => 4,
        "PersistentVolumeClaim" => 5,
        "Service" => 6,
        "StatefulSet" => 7,
        "Deployment" => 8,
        "Job" => 9,
        "CronJob" => 10,
        _ => 11,
    }
}

/// Which objects a config renders, in output order: [`install_rank`], and within a kind the
/// database's before Redis's.
pub fn templates_for(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = ordered_templates(ctx);
    ids.sort_by_key(|id| install_rank(id.kind().unwrap_or_default()));
    ids
}

fn ordered_templates(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = database_templates(ctx);
    if let Some(redis) = &ctx.redis {
        // Redis runs in the cluster whatever runs the database.
        if redis.secret.data.is_some() {
            ids.push(TemplateId::RedisSecret);
        }
        ids.extend([
            TemplateId::RedisConfig,
            TemplateId::RedisHeadlessService,
            TemplateId::RedisService,
            TemplateId::RedisStatefulSet,
        ]);
        if redis.policy_from.is_some() {
            ids.push(TemplateId::RedisNetworkPolicy);
        }
    }
    ids
}

fn database_templates(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = Vec::new();
    if ctx.secret.data.is_some() {
        ids.push(TemplateId::Secret);
    }
    if ctx.initdb.is_some() {
        ids.push(TemplateId::InitdbConfigMap);
    }
    if ctx.hba.is_some() {
        ids.push(TemplateId::HbaConfigMap);
    }
    if ctx.tls.as_ref().is_some_and(|t| t.certificate.is_some()) {
        ids.push(TemplateId::Certificate);
    }
    if ctx.local_volume.is_some() {
        ids.push(TemplateId::PersistentVolume);
    }
    if let Some(cnpg) = &ctx.cnpg {
        if cnpg.backup.is_some() {
            ids.push(TemplateId::CnpgObjectStore);
        }
        ids.push(TemplateId::CnpgCluster);
        if cnpg.backup.is_some() {
            ids.push(TemplateId::CnpgScheduledBackup);
        }
        if cnpg.pooler.is_some() {
            ids.push(TemplateId::CnpgPooler);
        }
    }
    if ctx.percona.is_some() {
        ids.push(TemplateId::PerconaCluster);
    }
    if ctx.external.is_some() {
        ids.push(TemplateId::ExternalService);
    }
    if ctx.target != "statefulset" {
        // The operator or the provider runs the database; the app's policy is still ours.
        if ctx.app.is_some() {
            ids.push(TemplateId::Deployment);
            if ctx.app_policy {
                ids.push(TemplateId::AppNetworkPolicy);
            }
        }
        return ids;
    }
    if ctx.backup.as_ref().is_some_and(|b| b.render_claim) {
        ids.push(TemplateId::BackupClaim);
    }
    ids.extend([
        TemplateId::HeadlessService,
        TemplateId::Service,
        TemplateId::StatefulSet,
    ]);
    if let Some(backup) = &ctx.backup {
        ids.push(TemplateId::BackupCronJob);
        if backup.drill.is_some() {
            ids.push(TemplateId::DrillCronJob);
        }
    }
    if ctx.app.is_some() {
        ids.push(TemplateId::Deployment);
    }
    if ctx
        .metrics
        .as_ref()
        .is_some_and(|m| m.service_monitor.is_some())
    {
        ids.push(TemplateId::ServiceMonitor);
    }
    if ctx.network_policy.is_some() {
        ids.push(TemplateId::NetworkPolicy);
        if ctx.app.is_some() {
            ids.push(TemplateId::AppNetworkPolicy);
        }
        if ctx.backup.is_some() {
            ids.push(TemplateId::BackupNetworkPolicy);
        }
    }
    ids
}

/// Renders one template with a view (see [`view`]) and checks the object it produced.
pub fn render_template(id: TemplateId, view: &minijinja::Value) -> Result<Document, Error> {
    let yaml = render_objects(&[id], view)?.pop().unwrap_or_default();
    checked(id, yaml, Want::Json, &mut |_, _, _| {})
}

/// Whether a rendered [`Document`] carries its parsed value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Only the printed YAML; `value` is null.
    Yaml,
    /// The YAML and the value (for JSON output).
    Json,
}

/// Reads the YAML template `id` printed back and checks it against its Kubernetes type; `seen`
/// gets the kind, name and tree of the object.
fn checked(
    id: TemplateId,
    yaml: String,
    want: Want,
    seen: &mut dyn FnMut(&str, &str, &Node),
) -> Result<Document, Error> {
    // The templates' regular YAML is read by a fast reader; anything it is not sure of goes
    // through serde-saphyr, so the tree is the same either way (see readback.rs).
    let arena = bumpalo::Bump::with_capacity(yaml.len() * 4);
    let tree: Node = match readback::fast(&yaml, &arena) {
        Some(tree) => tree,
        None => {
            let value = serde_saphyr::from_str::<Value>(&yaml).map_err(|e| {
                Error::Bug(format!(
                    "template {} printed YAML that does not parse: {e}\n{yaml}",
                    id.file()
                ))
            })?;
            Node::from_value(&arena, &value)
        }
    };
    manifest::check(&tree).map_err(|e| Error::Bug(format!("template {}: {e}", id.file())))?;
    let kind = tree["kind"].as_str().unwrap_or_default().to_owned();
    let name = tree["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    seen(&kind, &name, &tree);
    let value = match want {
        Want::Json => tree.to_value(),
        Want::Yaml => Value::Null,
    };
    drop(arena);
    Ok(Document {
        kind,
        name,
        yaml,
        value,
    })
}

/// What the templates see: the context converted once, shared by every template of a config.
pub fn view<S: serde::Serialize>(ctx: &S) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

/// Renders every object of one config.
pub fn render(config: &Config, vars: &dyn Vars) -> Result<Vec<Document>, Error> {
    render_with(config, vars, Want::Json, &mut |_, _, _| {})
}

/// [`render`], with the value only if `want` says so; `seen` gets each object's kind, name and
/// tree as it is checked.
pub fn render_with(
    config: &Config,
    vars: &dyn Vars,
    want: Want,
    seen: &mut dyn FnMut(&str, &str, &Node),
) -> Result<Vec<Document>, Error> {
    let init_files = config.postgres.init_sql.iter().flat_map(|i| &i.files);
    if let Some(file) = init_files.into_iter().find(|f| f.text.is_none()) {
        return Err(Error::Bug(format!(
            "the init SQL file {} was not read before rendering",
            file.path
        )));
    }
    let ctx = Context::new(config, vars);
    let view = view(&ctx);
    let ids = templates_for(&ctx);
    let yamls = render_objects(&ids, &view)?;
    ids.into_iter()
        .zip(yamls)
        .map(|(id, yaml)| checked(id, yaml, want, seen))
        .collect()
}

#[derive(serde::Serialize)]
struct RestoreView<'a> {
    #[serde(flatten)]
    ctx: &'a Context,
    restore: Restore,
}

#[derive(serde::Serialize)]
struct Restore {
    name: String,
    env: Vec<context::EnvVar>,
    /// The bucket's key the download step fetches first (or "latest"); none: from the volume.
    s3_key: Option<String>,
}

/// Where a restore reads its dump.
pub enum RestoreSource {
    /// A file name on the backup volume, or "latest".
    Volume(String),
    /// A key in the bucket of `backup.s3`, or "latest".
    Bucket(String),
}

/// A Job that restores a dump, after the NetworkPolicy that closes backup and restore pods to
/// ingress (so the Job is safe on its own). From the bucket, a download step comes first and
/// the backup volume is an empty folder: it works on a new cluster without the old claim.
pub fn restore_job(
    config: &Config,
    source: &RestoreSource,
    vars: &dyn Vars,
) -> Result<Vec<Document>, Error> {
    if config.target != crate::config::model::Target::Statefulset {
        return Err(Error::Usage(format!(
            "restore reads pg_dump files of the statefulset target; with `target: {}` restore with the operator's or the provider's own recovery",
            crate::config::names::target_name(config.target)
        )));
    }
    let ctx = Context::new(config, vars);
    let Some(backup) = &ctx.backup else {
        return Err(Error::Usage(
            "restore reads dumps from the backup volume, and this config has no `backup:`".into(),
        ));
    };
    let mut env: Vec<context::EnvVar> = backup
        .env
        .iter()
        .filter(|e| !matches!(e.name.as_str(), "FORMAT" | "KEEP" | "COMPRESSION"))
        .map(|e| context::EnvVar {
            name: e.name.clone(),
            value: e.value.clone(),
            secret: None,
        })
        .collect();
    let (dump, s3_key) = match source {
        RestoreSource::Volume(dump) => (dump.clone(), None),
        RestoreSource::Bucket(key) => {
            if backup.s3.is_none() {
                return Err(Error::Usage(
                    "restore from s3:// reads the bucket of `backup.s3`, and this config has none"
                        .into(),
                ));
            }
            let name = key.rsplit('/').next().unwrap_or(key).to_owned();
            (name, Some(key.clone()))
        }
    };
    env.push(context::EnvVar {
        name: "DUMP".into(),
        value: Some(context::literal(&dump)),
        secret: None,
    });
    env.push(context::EnvVar {
        name: "JOBS".into(),
        value: Some(context::RESTORE_JOBS.into()),
        secret: None,
    });
    let view = RestoreView {
        restore: Restore {
            name: format!("{}-restore", config.name),
            env,
            s3_key,
        },
        ctx: &ctx,
    };
    let mut docs = Vec::new();
    if ctx.network_policy.is_some() {
        docs.push(render_template(
            TemplateId::BackupNetworkPolicy,
            &self::view(&ctx),
        )?);
    }
    docs.push(render_template(TemplateId::RestoreJob, &self::view(&view))?);
    Ok(docs)
}

/// Every document every fixture renders, each environment too, named by file, environment
/// and kind: the tests of the fast paths run over all of them.
#[cfg(test)]
pub(crate) fn fixture_renders() -> Vec<(String, Document)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> = ["", "course"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("fixtures"))
        .map(|entry| entry.expect("fixture").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let vars = crate::config::vars::ProcessEnv::default();
    let mut renders = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("fixture");
        for env in [None, Some("prod")] {
            let id = crate::error::SourceId(0);
            let Ok(mut loaded) = crate::config::load(id, &text, env, &vars) else {
                assert!(env.is_some(), "{} loads", path.display());
                continue;
            };
            let found = crate::config::read_init_files(&mut loaded, path.parent());
            assert!(found.is_empty(), "{}: {found:?}", path.display());
            for doc in render(&loaded.config, &vars).expect("renders") {
                renders.push((format!("{} {env:?} {}", path.display(), doc.kind), doc));
            }
        }
    }
    renders
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

    #[test]
    fn only_unambiguous_strings_are_printed_plain() {
        for plain in [
            "postgresql",
            "ReadWriteOnce",
            "1Gi",
            "500m",
            "/var/lib/postgresql/data",
            "app.kubernetes.io/name",
            "PG_HOST",
        ] {
            assert!(plain_is_safe(plain), "{plain}");
        }
        for quoted in [
            "", "yes", "No", "ON", "off", "y", "true", "null", "~", "0755", "1e3", "1:20", "2",
            "1.5", "1_000", "a: b", "a #c", "-x", ".inf", "*a", "&a", "!x", "@d", "%x", "a b", "é",
            "1.Gi", "5432",
        ] {
            assert!(!plain_is_safe(quoted), "{quoted}");
        }
    }

    /// The character that ends each object in the one run of the object templates cannot come
    /// from a config: the config refuses it, and a value holding it all the same is printed
    /// quoted, and every object comes back whole.
    #[test]
    fn a_value_with_the_end_character_stays_inside_its_object() {
        let vars = crate::config::vars::ProcessEnv::default();
        let text =
            "name: shop\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {NOTE: \"a\\u001eb\"}\n";
        let refused = crate::config::load(crate::error::SourceId(0), text, None, &vars)
            .expect_err("a control character is refused");
        assert_eq!(refused[0].path, "app.env.NOTE");
        let text = "name: shop\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {NOTE: ab}\n";
        let mut loaded =
            crate::config::load(crate::error::SourceId(0), text, None, &vars).expect("loads");
        if let Some(app) = loaded.config.app.as_mut() {
            app.env.insert("NOTE".into(), "a\u{1e}b".into());
        }
        let plain = render(&loaded.config, &vars).expect("renders");
        let ids = templates_for(&Context::new(&loaded.config, &vars));
        assert_eq!(plain.len(), ids.len());
        let app = plain.iter().find(|d| d.kind == "Deployment").expect("app");
        assert!(!app.yaml.contains(char::from(END)), "{}", app.yaml);
        let env = &app.value["spec"]["template"]["spec"]["containers"][0]["env"];
        let note = env
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "NOTE");
        assert_eq!(note.map(|e| &e["value"]), Some(&Value::from("a\u{1e}b")));
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
