//! teamsync: keep SaaS team, group and campaign membership equal to YAML in git.
//!
//! Arrows point one way, from `cli` through `commands` and `engine` down to `model`;
//! `model`, `diag` and `sandbox` import nothing of ours. The flow from YAML to request and
//! the full set of arrows: `docs/architecture.md` (`tests/architecture.rs` checks them).

pub mod changeset;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod engine;
pub mod model;
pub mod providers;
pub mod render;
pub mod review;
pub mod sandbox;
