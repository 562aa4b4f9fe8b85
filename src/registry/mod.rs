//! OCI registries: Helm charts stored as OCI artifacts (`oci://host/path/name:version`).
//!
//! - [`Reference`] parses a reference; [`resolve`] decides which tag Helm would pick;
//! - [`Client`] speaks the distribution API (token/basic auth, tag pages, verified blobs, push);
//! - [`credentials`] reads and writes logins in docker's `config.json` format;
//! - [`manifest`] holds Helm's media types, annotations and config blob;
//! - [`pull`] and [`push`] put them together; pulled blobs go through the content cache
//!   ([`crate::cache`]) so the second use of a chart downloads nothing.
//!
//! All HTTP goes through [`crate::net`]; everything else here is pure and unit-tested.

pub mod auth;
mod client;
pub mod credentials;
pub mod manifest;
mod reference;
pub mod resolve;
mod transfer;

pub use client::{Client, Error, FetchedManifest, MAX_CHART_ARCHIVE, MAX_MANIFEST};
pub use reference::Reference;
pub use transfer::{pull, push, Pulled, Pushed};
