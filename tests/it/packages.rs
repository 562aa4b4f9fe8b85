//! The package manager end to end: charts from real OCI registries and chart repositories,
//! through the real binary, with helm as the oracle. One test binary for all of it, a module per
//! kind of source.

mod oci;

mod edge;

mod repo;

mod deps;
