//! kubectl-chart: render, diff, apply and roll back Helm charts, as a kubectl plugin.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! chart (load) → values (merge, coalesce, schema) → render (Helm on gotemplate + sprig)
//!   → manifest (split, sort) → diff → apply → release records
//! ```
//!
//! Newcomers: start with [`action::template`], which runs the first stages for `kubectl chart
//! template`, and [`render::render`], Helm's engine.

pub mod action;
pub mod apply;
pub mod cache;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod digest;
pub mod error;
pub mod helmpath;
pub mod lint;
pub mod manifest;
pub mod net;
pub mod output;
pub mod registry;
pub mod release;
pub mod render;
pub mod repo;
#[cfg(test)]
mod testing;
pub mod values;
pub mod yaml;
