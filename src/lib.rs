//! pgstate: one small, typed YAML file in; the Kubernetes manifests that run PostgreSQL out.

mod bitnami;
pub mod cli;
pub mod collide;
pub mod commands;
pub mod config;
mod drift;
pub mod error;
#[cfg(test)]
mod layers;
pub mod manifest;
pub mod output;
pub mod pipeline;
mod pool;
pub mod readback;
pub mod render;
mod run;
mod select;
pub mod yaml;

pub use run::run;
