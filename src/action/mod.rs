//! Stage orchestration: one file per verb, each taking an `XOptions` struct and running the pipeline
//! stages in order (load → values → render → manifests). Nothing here parses flags or prints.

mod base;
mod capabilities;
mod context;
mod create;
mod diff;
mod get;
mod history;
mod lint;
mod list;
pub(crate) mod locate;
mod plan;
mod pull;
mod push;
mod registry;
mod render;
pub mod repo;
mod rollback;
mod search;
mod show;
mod status;
mod template;
mod uninstall;
mod upgrade;

pub use capabilities::PendingCapabilities;
pub use context::Context;
pub use create::{create, create_from_starter};
pub use diff::{diff, DiffOptions, DiffResult};
pub use get::{get, get_values, GetOptions, GetValuesOptions};
pub use history::{history, HistoryOptions, DEFAULT_HISTORY_LIST_MAX};
pub use lint::{cluster_openapi, lint, LintOptions, LintReport};
pub use list::{list, ListOptions, ListedRelease};
pub use locate::{http_client, locate_chart, registry_client, ChartSourceOptions, LocatedChart};
pub use plan::parse_manifest_docs;
pub use pull::{pull, PullOptions, PullResult};
pub use push::{push, PushOptions};
pub use registry::{login, logout, LoginOptions};
pub use render::{render_release, RenderRequest, RenderedRelease};
pub use rollback::{rollback, RollbackOptions};
pub use search::{search_repo, SearchRepoOptions};
pub use show::{show, ShowOptions, ShowPart};
pub use status::{status, StatusOptions};
pub use template::{template, template_to, template_validated, TemplateOptions};
pub use uninstall::{uninstall, UninstallOptions};
pub use upgrade::{upgrade, DryRun, Mode, UpgradeOptions, UpgradeResult};
