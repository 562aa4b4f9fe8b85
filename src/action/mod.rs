//! Stage orchestration: one file per verb, each taking an `XOptions` struct and running the pipeline
//! stages in order (load → values → render → manifests). Nothing here parses flags or prints.

mod context;
mod template;

pub use context::Context;
pub use template::{template, TemplateOptions};
