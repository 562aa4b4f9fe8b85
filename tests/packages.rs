//! The package manager end to end: charts from real OCI registries and chart repositories,
//! through the real binary, with helm as the oracle. One test binary for all of it, a module per
//! kind of source.

#[allow(dead_code)]
mod support;

#[path = "packages/oci.rs"]
mod oci;

#[path = "packages/edge.rs"]
mod edge;

#[path = "packages/repo.rs"]
mod repo;

#[path = "packages/deps.rs"]
mod deps;
