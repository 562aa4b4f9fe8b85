//! kubectl-chart: render, diff, apply and roll back Helm charts, as a kubectl plugin.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! chart (load) → values (merge, coalesce, schema) → render (Helm on gotemplate + sprig)
//!   → manifest (split, sort) → diff → apply → release records
//! ```
//!
//! Newcomers: start with [`render::render`], which runs the first three stages for `template`.

pub mod chart;
pub mod gotemplate;
pub mod semver_constraints;
pub mod sprig;
pub mod values;
pub mod yaml;
