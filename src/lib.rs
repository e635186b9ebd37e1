//! teamsync: keep SaaS team, group and campaign membership equal to YAML in git.
//!
//! Arrows point one way: `cli → {config, plan, apply, render, import} → model`;
//! `report → {config, model}`;
//! `providers → model, diag`; `sandbox` imports nothing of ours but `diag`-free helpers,
//! so that it can disagree with the clients. `model` and `diag` import nothing of ours.

pub mod apply;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod engine;
pub mod import;
pub mod live;
pub mod model;
pub mod plan;
pub mod providers;
pub mod render;
pub mod report;
pub mod sandbox;
