//! The command line: clap derive types only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pgstate",
    version,
    about = "Turns one small YAML file into hardened Kubernetes manifests for PostgreSQL",
    long_about = "Turns one small, typed YAML file (pgstate.yaml) into the Kubernetes manifests that run \
PostgreSQL: a hardened StatefulSet with its volume claim, Services, the password Secret, a backup \
CronJob with retention, and the app's Deployment wired to the database.",
    after_help = "Examples:\n  pgstate render > k8s-files/postgresql.yml\n  pgstate render -c pgstate.yaml --out-dir k8s-files\n  pgstate render | kubectl apply -f -\n\nExit codes: 0 ok, 1 findings (check, drift, diff), 2 bad config or usage, 3 kubectl or I/O failed, 4 a bug in pgstate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Let `password.fromEnv` read this variable too (repeatable); without it a config reads
    /// only variables starting with PGSTATE_
    #[arg(long = "allow-env", value_name = "VAR", global = true)]
    pub(crate) allow_env: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the manifests (stdout by default)
    #[command(
        after_help = "Examples:\n  pgstate render                      # ./pgstate.yaml, or the built-in example\n  pgstate render -c db.yaml -o k8s-files/postgresql.yml\n  pgstate render --env prod --out-dir k8s-files\n  pgstate render --only StatefulSet,Service --format json"
    )]
    Render(RenderArgs),
    /// The CI step: config errors, lint findings, and the rendered objects' check
    #[command(
        after_help = "Examples:\n  pgstate check\n  pgstate check --deny-warnings --format github\n  pgstate check -c databases/ --env prod --format json\n\nExit codes: 0 clean (warnings allowed), 1 findings (or warnings with --deny-warnings), 2 invalid config."
    )]
    Check(CheckArgs),
    /// Print the JSON Schema of the config, for editors
    #[command(after_help = "Examples:\n  pgstate schema > pgstate.schema.json")]
    Schema,
    /// Pipe the render to `kubectl apply --server-side --field-manager=pgstate -f -`
    #[command(
        after_help = "With no config found, apply refuses to send the built-in example unless --example is given.\n\nExamples:\n  pgstate apply --dry-run server\n  pgstate apply --env prod --context prod-cluster\n  pgstate apply -- --prune --selector app.kubernetes.io/managed-by=pgstate"
    )]
    Apply(ApplyArgs),
    /// Show what `apply` would change (`kubectl diff`); exit 1 when something would
    #[command(
        after_help = "Examples:\n  pgstate diff\n  pgstate diff --env prod --context prod-cluster"
    )]
    Diff(DiffArgs),
    /// How an app connects: host, port, database, user, and where the password lives
    #[command(
        after_help = "Examples:\n  pgstate connection\n  pgstate connection --format url\n  pgstate connection --env prod --format yaml"
    )]
    Connection(ConnectionArgs),
    /// A Secret manifest for the password (stdout only)
    #[command(
        after_help = "Examples:\n  pgstate secret --generate | kubectl apply -f -\n  PG_PASSWORD=... pgstate secret --from-env PG_PASSWORD | kubectl apply -f -"
    )]
    Secret(SecretArgs),
    /// A picture of the objects and who talks to whom
    #[command(
        after_help = "Examples:\n  pgstate graph > objects.mmd\n  pgstate graph --format dot | dot -Tsvg > objects.svg"
    )]
    Graph(GraphArgs),
    /// Write a commented starting config
    #[command(
        after_help = "Examples:\n  pgstate init\n  pgstate init --preset healthcare -o db.yaml\n  pgstate init -o - | less\n  pgstate init --from-bitnami values.yaml --release shop -o pgstate.yaml"
    )]
    Init(InitArgs),
    /// Shell completions
    #[command(
        after_help = "Examples:\n  pgstate completions bash > /etc/bash_completion.d/pgstate\n  pgstate completions zsh > \"${fpath[1]}/_pgstate\""
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write a Job that restores a dump from the backup volume or the bucket
    #[command(
        after_help = "Examples:\n  pgstate restore --latest | kubectl apply -f -\n  pgstate restore --from postgresql-20260101T020000Z-00.dump > restore.yaml\n  pgstate restore --from s3://my-backups/postgresql/postgresql-20260101T020000Z-00.dump | kubectl apply -f -"
    )]
    Restore(RestoreArgs),
    /// Write what moves the database to the PostgreSQL major version of `postgres.image`
    #[command(
        after_help = "Examples:\n  pgstate upgrade --from 15 > upgrade.yaml          # pg_upgrade --link, seconds\n  pgstate upgrade --from 15 --method dump > upgrade.yaml\n  pgstate upgrade --from 15 --rollback > rollback.yaml\n\nThe runbook with every kubectl step: docs/upgrade.md."
    )]
    Upgrade(UpgradeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// Config file, or a folder of them (repeatable); default ./pgstate.yaml, else the built-in example
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Vec<PathBuf>,
    /// Merge `environments.<ENV>` over the config
    #[arg(long, value_name = "ENV")]
    pub(crate) env: Option<String>,
    /// Only the database with this name, of several (NAME or NAMESPACE/NAME; repeatable)
    #[arg(long = "name", value_name = "NAME")]
    pub(crate) names: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Only these kinds, e.g. StatefulSet,Service
    #[arg(long, value_delimiter = ',', value_name = "KIND,..")]
    pub(crate) only: Vec<String>,
    /// Do not write: exit 1 with a diff when the files on disk differ from the render
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub(crate) deny_warnings: bool,
    /// The PostgreSQL major version deployed now: a config with another one is an error (PGS020)
    #[arg(long, value_name = "MAJOR", value_parser = clap::value_parser!(i64).range(1..100))]
    pub(crate) deployed_major: Option<i64>,
    /// Output format (github: workflow annotations on the config's lines)
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub(crate) format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    Human,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// Only pretend: `server` = server-side apply that the API server checks and discards;
    /// `client` = kubectl's client-side apply preview (kubectl does not allow it with
    /// server-side apply)
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) dry_run: Option<DryRun>,
    /// With no config found, apply the built-in example on purpose (refused otherwise)
    #[arg(long)]
    pub(crate) example: bool,
    #[command(flatten)]
    pub(crate) kubectl: KubectlArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    #[command(flatten)]
    pub(crate) kubectl: KubectlArgs,
}

#[derive(Debug, Args)]
pub(crate) struct KubectlArgs {
    /// The kubeconfig context to use
    #[arg(long, value_name = "CONTEXT")]
    pub(crate) context: Option<String>,
    /// Passed to kubectl as --namespace (the objects carry their own namespace)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// More kubectl arguments, after `--`
    #[arg(last = true, value_name = "KUBECTL ARGS")]
    pub(crate) extra: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DryRun {
    Server,
    Client,
}

#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    #[arg(long, value_enum, default_value_t = ConnectionFormat::Env)]
    pub(crate) format: ConnectionFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ConnectionFormat {
    Env,
    Url,
    Yaml,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["generate", "from_env"])))]
pub(crate) struct SecretArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// A new random password (32 bytes from the OS, URL-safe)
    #[arg(long)]
    pub(crate) generate: bool,
    /// Read the password from this environment variable
    #[arg(long, value_name = "VAR")]
    pub(crate) from_env: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Which user story to start from
    #[arg(long, value_enum, default_value_t = Preset::Calculator)]
    pub(crate) preset: Preset,
    /// Where to write it (`-` for stdout)
    #[arg(short = 'o', long, value_name = "FILE", default_value = "pgstate.yaml")]
    pub(crate) output: PathBuf,
    /// Overwrite an existing file
    #[arg(long)]
    pub(crate) force: bool,
    /// Write the config equivalent to a Bitnami PostgreSQL chart's values file; what has no
    /// equivalent is listed on stderr
    #[arg(long, value_name = "VALUES.yaml", conflicts_with = "preset")]
    pub(crate) from_bitnami: Option<PathBuf>,
    /// The Helm release's name, from which the chart named its objects
    #[arg(long, value_name = "NAME", requires = "from_bitnami")]
    pub(crate) release: Option<String>,
    /// pgstate's name for the database (default: the release's fullname and `-pg`)
    #[arg(long, value_name = "NAME", requires = "from_bitnami")]
    pub(crate) name: Option<String>,
    /// The namespace to write (default: namespaceOverride, else `default`)
    #[arg(long, value_name = "NAMESPACE", requires = "from_bitnami")]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Preset {
    /// One database and the backend that uses it
    Calculator,
    /// Sized for production, with a nightly backup
    Tfvisualizer,
    /// A local disk on one node, backups before a migration
    Healthcare,
    /// Two instances under the Percona operator (switch `target` to cloudnativepg if you run that)
    Ha,
}

#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub(crate) format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Write to this file (atomically) instead of stdout
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "out_dir")]
    pub(crate) output: Option<PathBuf>,
    /// Write one file per object and a kustomization.yaml into this folder (atomically)
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// The dump: its file name on the backup volume, or s3://BUCKET/KEY in the bucket of
    /// backup.s3 (or --latest)
    #[arg(long, value_name = "DUMP", conflicts_with = "latest")]
    pub(crate) from: Option<String>,
    /// Restore the newest dump (in the bucket when backup.s3 is set, else on the volume)
    #[arg(long)]
    pub(crate) latest: bool,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct UpgradeArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// The major version the database runs now, e.g. 15
    #[arg(long, value_name = "MAJOR")]
    pub(crate) from: String,
    /// link: pg_upgrade --link on the same volume (default); dump: dump and restore
    #[arg(long, value_enum, value_name = "METHOD")]
    pub(crate) method: Option<UpgradeMethod>,
    /// The image of the link Job (default tianon/postgres-upgrade:OLD-to-NEW), e.g. pinned by digest
    #[arg(long, value_name = "IMAGE")]
    pub(crate) image: Option<String>,
    /// Instead: the Job that puts the kept old data directory back
    #[arg(long)]
    pub(crate) rollback: bool,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum UpgradeMethod {
    Link,
    Dump,
}
