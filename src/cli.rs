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
    after_help = "Examples:\n  pgstate render > k8s-files/postgresql.yml\n  pgstate render -c pgstate.yaml --out-dir k8s-files\n  pgstate render | kubectl apply -f -\n\nExit codes: 0 ok, 1 findings, 2 bad config or usage, 3 I/O failed, 4 a bug in pgstate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the manifests (stdout by default)
    #[command(after_help = "Examples:\n  pgstate render                      # ./pgstate.yaml, or the built-in example\n  pgstate render -c db.yaml -o k8s-files/postgresql.yml\n  pgstate render --env prod --out-dir k8s-files\n  pgstate render --only StatefulSet,Service --format json")]
    Render(RenderArgs),
    /// Write a Job that restores a dump from the backup volume
    #[command(after_help = "Examples:\n  pgstate restore --latest | kubectl apply -f -\n  pgstate restore --from postgresql-20260101T020000Z-00.dump > restore.yaml")]
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config file, or a folder of them (repeatable); default ./pgstate.yaml, else the built-in example
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Vec<PathBuf>,
    /// Merge `environments.<ENV>` over the config
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Only these kinds, e.g. StatefulSet,Service
    #[arg(long, value_delimiter = ',', value_name = "KIND,..")]
    pub only: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write to this file (atomically) instead of stdout
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Write one file per object and a kustomization.yaml into this folder (atomically)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The dump's file name on the backup volume
    #[arg(long, value_name = "DUMP", required_unless_present = "latest", conflicts_with = "latest")]
    pub from: Option<String>,
    /// Restore the newest dump
    #[arg(long)]
    pub latest: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}
