//! Helm's own release storage, for releases Helm 3 or Helm 4 installed: decode its records
//! (Secrets `sh.helm.release.v1.<name>.v<N>`, or ConfigMaps of its `configmap` driver) into ours,
//! re-mark them when we take a release over, and write ours back as Helm records (`export-helm`).
//!
//! [`codec`] is Helm's body encoding (base64, gzip, JSON) and [`convert`] maps Helm's release
//! JSON to [`crate::release::Release`] and back, both pure; [`storage`] reads and writes the
//! objects through [`crate::cluster::Cluster`]. What this module does not do: decide when to
//! take a release over (that is `action::takeover`), or keep Helm's chart templates (our records
//! never store them).

pub mod codec;
pub mod convert;
pub mod storage;

pub use convert::{format_time, parse_time, HELM_OWNER};
pub use storage::{helm_key, Error, HelmRecord, HelmStorage, Kind, Result};
