//! The render half every verb shares: load the chart, resolve values, render, split and sort.
//! `template` prints its result; `diff`, `install` and `upgrade` go on to plan and apply it.

use std::{collections::BTreeMap, path::PathBuf, rc::Rc};

use super::post_render::{decode_output, run_post_renderer, split_output, BuiltinLists, PatchOptions};
use crate::{
    chart::{self, Chart},
    manifest::{self, Hook, Manifest},
    render::{self, Capabilities, Lookup, NoCluster, ReleaseInfo, RenderOptions},
    values::{self, ValuesOptions},
};
use gotemplate::Value;

/// What to render.
#[derive(Clone)]
pub struct RenderRequest {
    /// Chart directory or archive.
    pub chart: PathBuf,
    /// Values files and `--set*` flags.
    pub values: ValuesOptions,
    /// `.Release`.
    pub release: ReleaseInfo,
    /// `.Capabilities`.
    pub capabilities: Capabilities,
    /// `.Capabilities` from the live cluster instead: discovery started before the chart is
    /// loaded, waited for once the chart is ready to render.
    pub discovery: Option<super::capabilities::PendingCapabilities>,
    /// Answers `lookup`; the offline default returns empty maps like `helm template`.
    pub lookup: Rc<dyn Lookup>,
    /// `--reuse-values`: the previous revision's user values, under this run's flags.
    pub base_values: Option<serde_json::Value>,
    /// Whether integers in `base_values` stay integers. A release record's values are read as Helm
    /// reads them for `--reuse-values`, every number a float64; a saved plan's must come back
    /// exactly as they rendered (`--set n=3` is an integer there), or the plan would not match.
    pub base_values_exact: bool,
    /// `--patch`, `--set-image`, `--post-renderer`: applied to the rendered documents.
    pub patches: PatchOptions,
    /// `template --include-crds`: the chart's CRDs go through the post-renderer too, first, as
    /// Helm sends them.
    pub post_render_crds: bool,
    /// `--skip-schema-validation`: do not check the values against `values.schema.json`.
    pub skip_schema_validation: bool,
    /// The process exits once the result is used: what rendering built on the way (parsed
    /// templates, scopes, copies of the values) is left to the OS instead of freed (see
    /// [`RenderOptions::then_exit`]). Only for a one-shot command; each render leaks.
    pub then_exit: bool,
    /// Keep every rendered file when one is not valid YAML ([`InvalidYaml::rendered`]), for
    /// `--debug`.
    pub keep_invalid: bool,
    /// The post-renderer's output is only printed (`template`): Helm's `template` never reads
    /// it, so documents that are not YAML are printed rather than refused, and
    /// [`RenderedRelease::manifests`] is then empty.
    pub post_rendered_unchecked: bool,
}

impl RenderRequest {
    /// A request with offline defaults.
    pub fn new(chart: PathBuf, values: ValuesOptions, release: ReleaseInfo) -> Self {
        RenderRequest {
            chart,
            values,
            release,
            capabilities: Capabilities::default(),
            discovery: None,
            lookup: Rc::new(NoCluster),
            base_values: None,
            base_values_exact: false,
            patches: PatchOptions::default(),
            post_render_crds: false,
            skip_schema_validation: false,
            then_exit: false,
            keep_invalid: false,
            post_rendered_unchecked: false,
        }
    }
}

/// A rendered release, before anything touches a cluster.
pub struct RenderedRelease {
    /// The chart, reduced to its enabled dependencies.
    pub chart: Chart,
    /// Values the user supplied (files and flags merged).
    pub user_values: Value,
    /// Values after coalescing with the chart's defaults.
    pub values: Value,
    /// Non-hook documents in install order.
    pub manifests: Vec<Manifest>,
    /// Hook documents.
    pub hooks: Vec<Hook>,
    /// The top chart's NOTES.txt, rendered.
    pub notes: Option<String>,
    /// The post-renderer's output, verbatim: Helm's release manifest when one ran (`manifests`
    /// are then its documents). UTF-8, unless the request was
    /// [`post_rendered_unchecked`](RenderRequest::post_rendered_unchecked).
    pub post_rendered: Option<Vec<u8>>,
}

impl RenderedRelease {
    /// The manifest text as Helm records it (`---\n# Source: …` documents).
    pub fn manifest_text(&self) -> String {
        if let Some(text) = &self.post_rendered {
            return String::from_utf8_lossy(text).into_owned();
        }
        joined_manifests(&self.manifests)
    }
}

/// Documents joined as Helm joins them for its manifest and for a post-renderer's stdin.
/// A rendered file that is not valid YAML, with, for `--debug`, every file that rendered (Helm's
/// `template --debug` prints them before the error; without it, only the error).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct InvalidYaml {
    /// The first file that is not YAML.
    pub error: manifest::Error,
    /// Every rendered file by template path, when the request kept them.
    pub rendered: Option<BTreeMap<String, String>>,
}

impl InvalidYaml {
    /// The rendered files as Helm's `--debug` writes them: `---`, a `# Source:` line and the
    /// text of each file that is not blank (Helm's order is a Go map's; ours is by path).
    pub fn rendered_text(&self) -> Option<String> {
        let files = self.rendered.as_ref()?;
        let mut out = String::new();
        for (path, text) in files.iter().filter(|(_, t)| !t.trim().is_empty()) {
            out.push_str(&format!("---\n# Source: {path}\n{text}\n"));
        }
        // Helm prints the whole text trimmed, with one line break.
        out.truncate(out.trim_end().len());
        out.push('\n');
        Some(out)
    }
}

fn joined_manifests(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n# Source: ");
        out.push_str(&m.path);
        out.push('\n');
        out.push_str(&m.content);
        out.push('\n');
    }
    out
}

/// Loads, resolves, validates, renders, splits and sorts. Nothing here writes anywhere.
pub fn render_release(req: &RenderRequest) -> anyhow::Result<RenderedRelease> {
    let started = std::time::Instant::now();
    // Patch files are read and checked before anything renders: a bad one costs no render.
    let patches = req.patches.load()?;
    // Helm's lines while loading (each symlink followed) reach stderr as it prints them.
    let loaded = chart::load_reporting(&req.chart, &mut |w| eprintln!("{w}"))?;
    tracing::debug!(elapsed = ?started.elapsed(), "chart loaded");
    let mut user_values = values::merge_user_values(&req.values)?;
    if let Some(base) = &req.base_values {
        // Helm merges --reuse-values with the new flags as it merges value files (the flags'
        // values are always a map, so maps merge and anything else from them wins).
        user_values = values::merge_maps(&Value::from_json(base, req.base_values_exact), &user_values);
    }
    // Helm's warnings (deprecated chart, dangling conditions and imports) reach stderr as it
    // prints them, before anything is rendered.
    let (chart, vals) =
        values::resolve_reporting(loaded, user_values.deep_copy(), &mut |w| eprintln!("{w}"))?;
    if !req.skip_schema_validation {
        values::validate_schema(&chart, &vals)?;
    }
    tracing::debug!(elapsed = ?started.elapsed(), "values resolved");
    let capabilities = match &req.discovery {
        Some(pending) => pending.wait(&chart)?,
        None => req.capabilities.clone(),
    };
    tracing::debug!(elapsed = ?started.elapsed(), "capabilities ready");
    let opts = RenderOptions {
        release: Some(req.release.clone()),
        capabilities,
        strict: false,
        lint: false,
        then_exit: req.then_exit,
    };
    // Render on this thread while another splits and checks each finished file: on large charts
    // the two take about as long as each other, so this nearly halves the wall time.
    let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
    let keep = req.keep_invalid;
    let (notes, scanned) = std::thread::scope(|s| {
        let scanner = s.spawn(move || -> Result<BTreeMap<String, Vec<Manifest>>, InvalidYaml> {
            let mut out = BTreeMap::new();
            // What rendered, kept only for `--debug` (Helm prints it all when a file is not YAML).
            let mut texts = BTreeMap::new();
            let mut failed = None;
            for (path, text) in rx {
                if failed.is_none() {
                    match manifest::scan_file(&path, &text) {
                        // Without `--debug` nothing is kept: no copy of every file's path.
                        Ok(docs) if !keep => {
                            out.insert(path, docs);
                            continue;
                        }
                        Ok(docs) => {
                            out.insert(path.clone(), docs);
                        }
                        Err(error) if !keep => {
                            return Err(InvalidYaml {
                                error,
                                rendered: None,
                            })
                        }
                        Err(error) => failed = Some(error),
                    }
                }
                texts.insert(path, text);
            }
            match failed {
                Some(error) => Err(InvalidYaml {
                    error,
                    rendered: Some(texts),
                }),
                None => Ok(out),
            }
        });
        let notes = render::render_each(&chart, &vals, &opts, req.lookup.clone(), |name, text| {
            // A closed channel means the scanner already failed; its error is reported below.
            let _ = tx.send((name, text));
        });
        drop(tx);
        (notes, scanner.join().expect("document scanner panicked"))
    });
    let notes = notes?;
    tracing::debug!(elapsed = ?started.elapsed(), "rendered");
    let scanned = scanned?;
    let (hooks, mut manifests) = if patches.is_empty() {
        manifest::sort_scanned(scanned)
    } else {
        // Patched before hooks are set apart, so a patch that changes a hook annotation or a
        // kind is sorted by what it made.
        let mut docs: Vec<Manifest> = scanned.into_values().flatten().collect();
        patches.apply(&mut docs, &req.release.namespace, &BuiltinLists::new())?;
        manifest::sort_documents(docs)
    };
    tracing::debug!(elapsed = ?started.elapsed(), "documents parsed and sorted");
    let mut post_rendered = None;
    if let Some(pr) = &req.patches.post_renderer {
        let mut input = String::new();
        if req.post_render_crds {
            let mut crds = Vec::new();
            super::template::crd_objects(&chart, None, &mut crds)?;
            for (path, text) in crds {
                input.push_str(&format!("---\n# Source: {path}\n{text}\n"));
            }
        }
        input.push_str(&joined_manifests(&manifests));
        let out = run_post_renderer(pr, &input)?;
        let out = if req.post_rendered_unchecked {
            // Printed as it is, bytes that are not UTF-8 included, as `helm template` does.
            manifests = std::str::from_utf8(&out)
                .ok()
                .and_then(|text| split_output(pr, text).ok())
                .unwrap_or_default();
            out
        } else {
            let text = decode_output(pr, out)?;
            manifests = split_output(pr, &text)?;
            text.into_bytes()
        };
        post_rendered = Some(out);
        tracing::debug!(elapsed = ?started.elapsed(), "post-rendered");
    }
    Ok(RenderedRelease {
        chart,
        user_values,
        values: vals,
        manifests,
        hooks,
        notes,
        post_rendered,
    })
}
