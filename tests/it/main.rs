//! The integration tests, as one binary (ripgrep's layout): one link instead of one per file, and
//! one Kubernetes control plane for all of them (`support::k8s`, started by the first test that
//! needs it, with the fake kubelet), each test in a namespace of its own.
//!
//! Run one area with a filter: `cargo test --test it lifecycle::`, `cargo test --test it
//! template::suites`.

#[macro_use]
mod support;

mod allkinds;
mod apply;
mod cluster;
mod conformance;
mod kill9;
mod lifecycle;
mod oracle;
mod packages;
mod plugin;
mod release_read;
mod reliability;
mod template;
