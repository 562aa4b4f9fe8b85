//! Stage orchestration: one file per verb, each taking an `XOptions` struct and running the pipeline
//! stages in order (load → values → render → manifests). Nothing here parses flags or prints.

mod context;
mod diff;
mod plan;
mod render;
mod template;

pub use context::Context;
pub use diff::{diff, DiffOptions, DiffResult};
pub use plan::{parse_manifest_docs, plan_against_cluster};
pub use render::{render_release, RenderRequest, RenderedRelease};
pub use template::{template, TemplateOptions};
