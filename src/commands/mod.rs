//! The command bodies, one file per command; each runs the pipeline as far as it needs.

pub mod restore;
