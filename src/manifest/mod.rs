//! What pgstate knows of Kubernetes objects: the typed round trip every rendered object goes
//! through (verify.rs; crd.rs types the custom resources, same.rs compares without a second
//! tree), and the config lint (lint.rs).

pub(crate) mod crd;
pub mod lint;
mod same;
mod verify;

pub use verify::verify;
