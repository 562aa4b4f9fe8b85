//! `template`: render a chart locally, exactly as `helm template` prints it.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context as _};

use super::{
    capabilities::PendingCapabilities,
    render::{render_release, InvalidYaml, RenderRequest, RenderedRelease},
};
use crate::{
    chart, manifest,
    render::{Capabilities, ReleaseInfo},
    values::ValuesOptions,
};

/// Inputs of `template`.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    /// Release name (`.Release.Name`).
    pub release_name: String,
    /// Release namespace (`.Release.Namespace`).
    pub namespace: String,
    /// Chart directory or archive.
    pub chart: PathBuf,
    /// Values files and `--set*` flags.
    pub values: ValuesOptions,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// `--show-only` templates (paths relative to the chart, globs allowed).
    pub show_only: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--skip-crds` (wins over `--include-crds`).
    pub skip_crds: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--output-dir`: write files there instead of returning one stream.
    pub output_dir: Option<PathBuf>,
    /// `--patch`, `--set-image`, `--post-renderer`.
    pub patches: super::PatchOptions,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// `--debug`: when a rendered file is not valid YAML, write every rendered file before the
    /// error, as Helm does.
    pub debug: bool,
}

/// Renders and returns what `helm template` prints (empty when written to `output_dir`).
pub fn template(opts: &TemplateOptions) -> anyhow::Result<String> {
    printed(|out| template_to(opts, out))
}

/// [`template`], written to `out` as it is formatted instead of gathered first (argo-cd prints
/// 1.9 MB: gathering it cost a copy and as many fresh pages).
pub fn template_to(opts: &TemplateOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    render_and_print(opts, out, false)
}

/// [`template_to`] for a process that exits as soon as the output is flushed (the binary's
/// `template`): the chart, values, parsed templates and rendered text are left to the OS instead
/// of freed one allocation at a time, a tenth of the time on large charts (umbrella, conditional).
/// Anything that renders more than once in a process (tests, benches, a server) must call
/// [`template_to`]: each call here leaks everything it rendered.
pub fn template_then_exit(opts: &TemplateOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    render_and_print(opts, out, true)
}

fn render_and_print(opts: &TemplateOptions, out: &mut dyn Write, then_exit: bool) -> anyhow::Result<()> {
    check_flags(opts)?;
    let mut caps = Capabilities::default().with_extra_api_versions(&opts.api_versions);
    if let Some(v) = &opts.kube_version {
        caps = caps.with_kube_version(v).map_err(anyhow::Error::msg)?;
    }
    let mut req = request(opts, caps);
    req.then_exit = then_exit;
    req.post_rendered_unchecked = true;
    let rendered = render_release(&req).map_err(|e| rendered_anyway(e, out, opts.debug))?;
    let printed = print_to(opts, &rendered, out);
    if then_exit {
        std::mem::forget(rendered);
    }
    printed
}

fn request(opts: &TemplateOptions, caps: Capabilities) -> RenderRequest {
    let release = ReleaseInfo {
        name: opts.release_name.clone(),
        namespace: opts.namespace.clone(),
        revision: 1,
        is_upgrade: opts.is_upgrade,
    };
    let mut req = RenderRequest::new(opts.chart.clone(), opts.values.clone(), release);
    req.capabilities = caps;
    req.patches = opts.patches.clone();
    req.post_render_crds = opts.include_crds && !opts.skip_crds;
    req.skip_schema_validation = opts.skip_schema_validation;
    req.keep_invalid = opts.debug;
    req
}

/// `template --validate`: render against the live cluster (`.Capabilities` from its discovery,
/// real `lookup`), then check that every kind is served and that namespaces fit the kinds' scope
/// (namespaced objects in the release namespace, cluster-scoped ones without one). All problems
/// are reported together; nothing is written.
///
/// As in Helm, `--kube-version` and `--api-versions` only apply offline: with `--validate` the
/// server's answer is used as it is.
pub async fn template_validated(
    ctx: &super::Context,
    opts: &TemplateOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    check_flags(opts)?;
    let discovery = PendingCapabilities::start(ctx.cluster.clone()).await;
    if opts.kube_version.is_some() || !opts.api_versions.is_empty() {
        tracing::warn!(
            "--kube-version and --api-versions are ignored with --validate: the cluster's are used"
        );
    }
    let mut req = request(opts, Capabilities::default());
    req.discovery = Some(discovery);
    req.lookup = std::rc::Rc::new(crate::cluster::ClusterLookup::new(
        ctx.cluster.clone(),
        tokio::runtime::Handle::current(),
    ));
    let rendered = render_release(&req).map_err(|e| rendered_anyway(e, out, opts.debug))?;
    let mut problems = Vec::new();
    for m in rendered
        .manifests
        .iter()
        .chain(rendered.hooks.iter().map(|h| &h.manifest))
    {
        let what = format!("{} {:?} (from {})", m.head.kind, m.head.name, m.path);
        let doc = super::plan::parse_manifest_docs(&m.content, &m.path)?;
        let Some(doc) = doc.first() else { continue };
        let gvk = match crate::cluster::Gvk::of(doc) {
            Ok(g) => g,
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                continue;
            }
        };
        let namespace = doc.pointer("/metadata/namespace").and_then(|v| v.as_str());
        match ctx.cluster.resolve(&gvk).await {
            Ok(info) if info.namespaced => {
                if let Some(ns) = namespace.filter(|ns| *ns != opts.namespace) {
                    problems.push(format!(
                        "{what}: in namespace {ns}, not the release namespace {}",
                        opts.namespace
                    ));
                }
            }
            Ok(_) => {
                if let Some(ns) = namespace {
                    problems.push(format!(
                        "{what}: {} is cluster-scoped but sets namespace {ns}",
                        gvk.kind
                    ));
                }
            }
            Err(crate::cluster::Error::UnknownKind(_)) => {
                problems.push(format!(
                    "{what}: the cluster does not serve {} {}",
                    gvk.api_version(),
                    gvk.kind
                ));
            }
            Err(e) => return Err(e).context("discovery"),
        }
    }
    if !problems.is_empty() {
        bail!("validation failed:\n- {}", problems.join("\n- "));
    }
    print_to(opts, &rendered, out)
}

/// `helm template`'s hint after an error from rendering the chart or reading what it rendered
/// (from the point where Helm has created the release it renders), kept so that the whole error
/// text is Helm's.
fn debug_hint(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<crate::render::Error>().is_some()
        || e.downcast_ref::<InvalidYaml>().is_some()
        || e.downcast_ref::<super::PostRenderFailed>().is_some()
    {
        anyhow::anyhow!("{e:#}\n\nUse --debug flag to render out invalid YAML")
    } else {
        e
    }
}

/// A render's error as Helm's `template` reports it: with `--debug`, what rendered is written to
/// `out` first when a file is not valid YAML (and Helm prints no hint then); without it, the hint.
/// After any other error from where Helm has created the release (a template's, a failed
/// post-renderer), Helm's `--debug` prints the release's empty manifest: a line break.
fn rendered_anyway(e: anyhow::Error, out: &mut dyn Write, debug: bool) -> anyhow::Error {
    if !debug {
        return debug_hint(e);
    }
    let released = e.downcast_ref::<crate::render::Error>().is_some()
        || e.downcast_ref::<super::PostRenderFailed>().is_some();
    let text = e
        .downcast_ref::<InvalidYaml>()
        .and_then(InvalidYaml::rendered_text)
        .or_else(|| released.then(|| "\n".to_string()));
    match text.map(|t| out.write_all(t.as_bytes())) {
        Some(Err(io)) => io.into(),
        _ => e,
    }
}

/// Flag combinations refused before anything renders.
fn check_flags(opts: &TemplateOptions) -> anyhow::Result<()> {
    // Helm writes the files before it runs the post-renderer, and then drops its output: refused
    // rather than silently ignoring the post-renderer.
    if opts.output_dir.is_some() && opts.patches.post_renderer.is_some() {
        bail!("--output-dir cannot be combined with --post-renderer (helm ignores the post-renderer's output there)");
    }
    Ok(())
}

/// What `print` writes, as a string.
fn printed(print: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<String> {
    let mut out = Vec::new();
    print(&mut out)?;
    Ok(String::from_utf8(out)?)
}

/// Formats the rendered release as `helm template` does into `out` (or writes the files, with
/// `--output-dir`).
fn print_to(opts: &TemplateOptions, rendered: &RenderedRelease, out: &mut dyn Write) -> anyhow::Result<()> {
    let RenderedRelease {
        chart,
        manifests,
        hooks,
        post_rendered,
        ..
    } = rendered;
    // (path, text) in Helm's print order: CRDs when asked, manifests, then hooks. Borrowed, and the
    // output sized once: on large charts (argo-cd prints 1.9 MB) copies and regrowth of this text
    // were a tenth of the main thread's time, mostly the kernel zeroing fresh pages.
    let mut crds: Vec<(String, String)> = Vec::new();
    // Post-rendered, the CRDs and manifests are the post-renderer's output (Helm prints it
    // trimmed, then a line break, then the hooks).
    let head = post_rendered
        .as_ref()
        .map(|text| gotemplate::gostr::trim_space_bytes(text));
    if opts.include_crds && !opts.skip_crds && head.is_none() {
        crd_objects(chart, None, &mut crds)?;
    }
    let mut docs: Vec<(&str, &str)> = crds.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    if head.is_none() {
        docs.extend(manifests.iter().map(|m| (m.path.as_str(), m.content.as_str())));
    }
    if !opts.no_hooks {
        for h in hooks {
            if opts.skip_tests && h.events.iter().any(|e| e == "test" || e == "test-success") {
                continue;
            }
            docs.push((&h.manifest.path, &h.manifest.content));
        }
    }

    if let Some(dir) = &opts.output_dir {
        return write_output_dir(dir, &docs);
    }
    let write = |out: &mut dyn Write| -> anyhow::Result<()> {
        if let Some(h) = head {
            out.write_all(h)?;
            out.write_all(b"\n")?;
        }
        write_docs(&docs, out)
    };
    if opts.show_only.is_empty() {
        return write(out);
    }
    // Bytes, not text: a post-renderer's output need not be UTF-8, and Helm prints it as it is.
    let mut all = Vec::new();
    write(&mut all)?;
    out.write_all(&show_only(&all, &opts.show_only)?)?;
    Ok(())
}

/// Documents as `helm template` prints them: `---`, a `# Source:` line, the text.
fn write_docs(docs: &[(&str, &str)], out: &mut dyn Write) -> anyhow::Result<()> {
    for (path, text) in docs {
        out.write_all(b"---\n# Source: ")?;
        out.write_all(path.as_bytes())?;
        out.write_all(b"\n")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The `crds/` files of the chart and its subcharts (Helm's `CRDObjects`): `.yaml`, `.yml` and `.json`
/// files, named by their path under the chart's full path. Their bodies are read here when the
/// loader deferred them (`template` prints them only with `--include-crds`).
pub(super) fn crd_objects(
    chart: &chart::Chart,
    parent: Option<&str>,
    out: &mut Vec<(String, String)>,
) -> Result<(), chart::Error> {
    let full = match parent {
        None => chart.name().to_string(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    for f in &chart.crds {
        if [".yaml", ".yml", ".json"].iter().any(|ext| f.name.ends_with(ext)) {
            out.push((
                format!("{full}/{}", f.name),
                String::from_utf8_lossy(f.data.bytes()?).into_owned(),
            ));
        }
    }
    for dep in &chart.dependencies {
        crd_objects(dep, Some(&full), out)?;
    }
    Ok(())
}

/// `--show-only`: keep the documents whose template path (after the chart name) matches a pattern,
/// in the order of the patterns, as Helm does; a pattern matching nothing is an error.
fn show_only(all: &[u8], patterns: &[String]) -> anyhow::Result<Vec<u8>> {
    let docs = manifest::split_document_bytes(all);
    let mut out = Vec::new();
    for pat in patterns {
        let pat = pat.replace('\\', "/");
        let mut found = false;
        for d in &docs {
            let Some(path) = source_path(d) else {
                continue;
            };
            if path_match(&pat, path) {
                out.extend_from_slice(b"---\n");
                out.extend_from_slice(d);
                out.push(b'\n');
                found = true;
            }
        }
        if !found {
            bail!("could not find template {pat} in chart");
        }
    }
    Ok(out)
}

/// The template path a document names, as Helm's `# Source: [^/]+/(.+)` finds it: the first
/// `# Source: ` anywhere in the document (not only at a line's start) followed by a chart name,
/// a `/` and a path, which runs to the end of its line (a `\r` included).
fn source_path(doc: &[u8]) -> Option<&[u8]> {
    const MARK: &[u8] = b"# Source: ";
    memchr::memmem::find_iter(doc, MARK).find_map(|at| {
        let rest = &doc[at + MARK.len()..];
        let slash = rest.iter().position(|&b| b == b'/').filter(|&i| i > 0)?;
        let path = rest[slash + 1..].split(|&b| b == b'\n').next()?;
        (!path.is_empty()).then_some(path)
    })
}

/// Go's `filepath.Match`: `*` and `?` within a segment, `[...]` classes; the whole path must match.
fn path_match(pattern: &str, path: &[u8]) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len())
                .take_while(|&n| n == 0 || s[n - 1] != b'/')
                .any(|n| go(&p[1..], &s[n..])),
            Some(b'?') => s.first().is_some_and(|&c| c != b'/') && go(&p[1..], &s[1..]),
            Some(b'[') => {
                let Some(end) = p.iter().position(|&c| c == b']') else {
                    return false;
                };
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some(b'^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let Some(&c) = s.first() else { return false };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == b'-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != neg && go(&p[end + 1..], &s[1..])
            }
            Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&p[2..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path)
}

/// `--output-dir`: one file per template path, documents of the same path appended (Helm's writeToFile).
fn write_output_dir(dir: &Path, docs: &[(&str, &str)]) -> anyhow::Result<()> {
    let mut written = std::collections::HashSet::new();
    for (path, text) in docs {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating `{}`", parent.display()))?;
        }
        let chunk = format!("---\n# Source: {path}\n{text}\n");
        if written.insert(*path) {
            fs::write(&target, chunk).with_context(|| format!("writing `{}`", target.display()))?;
        } else {
            use std::io::Write as _;
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(&target)
                .with_context(|| format!("appending to `{}`", target.display()))?;
            f.write_all(chunk.as_bytes())
                .with_context(|| format!("appending to `{}`", target.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{path_match, source_path};

    #[test]
    fn source_path_is_found_as_helms_regexp_finds_it() {
        // (case, document, path): what `# Source: [^/]+/(.+)` captures in Go.
        type Case = (&'static str, &'static [u8], Option<&'static [u8]>);
        let cases: [Case; 7] = [
            (
                "at the top",
                b"# Source: c/templates/a.yaml\nx: 1",
                Some(b"templates/a.yaml"),
            ),
            (
                "after text on a line",
                b"a: b # Source: c/t/a.yaml\n",
                Some(b"t/a.yaml"),
            ),
            (
                "the first of two",
                b"# Source: c/a.yaml\n# Source: c/b.yaml",
                Some(b"a.yaml"),
            ),
            ("\\r kept", b"# Source: c/a.yaml\r\nx: 1", Some(b"a.yaml\r")),
            (
                "no chart name: the next one",
                b"# Source: /a\n# Source: c/b",
                Some(b"b"),
            ),
            ("chart name across a line break", b"# Source: c\nd/e", Some(b"e")),
            ("no path", b"# Source: c/\nx: 1", None),
        ];
        for (name, doc, want) in cases {
            assert_eq!(source_path(doc), want, "{name}");
        }
    }

    #[test]
    fn show_only_patterns_match_like_filepath_match() {
        let cases = [
            ("exact", "templates/a.yaml", "templates/a.yaml", true),
            ("star in segment", "templates/*.yaml", "templates/a.yaml", true),
            (
                "star stops at slash",
                "templates/*",
                "templates/sub/a.yaml",
                false,
            ),
            ("class", "templates/[ab].yaml", "templates/b.yaml", true),
            ("no prefix match", "templates", "templates/a.yaml", false),
        ];
        for (name, p, s, want) in cases {
            assert_eq!(path_match(p, s.as_bytes()), want, "{name}");
        }
    }
}
