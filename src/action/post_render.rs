//! The stage between render and manifests: built-in patches (`--patch`, `--set-image`) and the
//! post-renderer process (`--post-renderer PATH [--post-renderer-args ARG]…`).
//!
//! The post-renderer follows Helm 3.17's contract (`pkg/postrender/exec.go` and
//! `pkg/action/action.go` `renderResources`): the non-hook manifests (and, for `template
//! --include-crds`, the chart's CRDs first) are joined as `---\n# Source: PATH\n…\n` documents
//! and written to its stdin; its stdout replaces them as the release manifest, verbatim (what
//! `template` prints and what the revision records). Hooks never go through it. PATH is looked up
//! as Go's `exec.LookPath` does (a name without `/` on `$PATH`). A non-zero exit is an error that
//! carries its stderr; unlike Helm, a post-renderer that runs longer than `--post-renderer-timeout`
//! is killed, and output that is not YAML is an error, before anything is written.
//!
//! Built-in patches run first (on hooks too), then the post-renderer sees their result.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};

use crate::{
    diff::{Gvk, ListType, MergeKeys},
    manifest::{
        self,
        patch::{ListMerge, ListMerges, PatchSet},
        Manifest,
    },
};

/// How long a post-renderer may run by default.
pub const DEFAULT_POST_RENDERER_TIMEOUT: Duration = Duration::from_secs(300);

/// `--patch`, `--set-image` and `--post-renderer*`.
#[derive(Debug, Clone, Default)]
pub struct PatchOptions {
    /// `--patch FILE`, in order.
    pub patch_files: Vec<PathBuf>,
    /// `--set-image NAME=REF`, in order.
    pub set_image: Vec<String>,
    /// `--post-renderer`.
    pub post_renderer: Option<PostRenderer>,
}

impl PatchOptions {
    /// Whether any patch or post-renderer is asked for.
    pub fn is_empty(&self) -> bool {
        self.patch_files.is_empty() && self.set_image.is_empty() && self.post_renderer.is_none()
    }

    /// Reads the patch files and checks every entry and `--set-image` flag.
    pub fn load(&self) -> anyhow::Result<PatchSet> {
        let mut files = Vec::with_capacity(self.patch_files.len());
        for path in &self.patch_files {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading patch file {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
        Ok(PatchSet::load(&files, &self.set_image)?)
    }
}

/// An executable that rewrites the rendered manifests.
#[derive(Debug, Clone)]
pub struct PostRenderer {
    /// As given: a path, or a name looked up on `$PATH`.
    pub path: String,
    /// Where [`PostRenderer::find`] found it: absolute, as Helm runs it.
    pub exe: PathBuf,
    /// `--post-renderer-args`, in order.
    pub args: Vec<String>,
    /// `--post-renderer-timeout`.
    pub timeout: Duration,
}

impl PostRenderer {
    /// Finds the executable (see [`look_path`]) while the flags are read, as Helm does: a
    /// post-renderer that is missing or not executable is a flag error, reported before any chart
    /// is fetched or rendered.
    pub fn find(path: String, args: Vec<String>, timeout: Duration) -> anyhow::Result<PostRenderer> {
        Ok(PostRenderer {
            exe: look_path(&path)?,
            path,
            args,
            timeout,
        })
    }
}

/// The built-in merge keys (`diff::MergeKeys::builtin`) as strategic merge needs them.
pub(crate) struct BuiltinLists(MergeKeys);

impl BuiltinLists {
    pub(crate) fn new() -> BuiltinLists {
        BuiltinLists(MergeKeys::builtin())
    }
}

impl ListMerges for BuiltinLists {
    fn list_merge(&self, api_version: &str, kind: &str, path: &[&str]) -> ListMerge {
        match self.0.lookup(&Gvk::from_api_version(api_version, kind), path) {
            ListType::Atomic => ListMerge::Replace,
            ListType::Set => ListMerge::Set,
            ListType::Map(keys) => ListMerge::Keys(keys),
        }
    }
}

/// An executable bit is set (Go's `LookPath` check on Unix; elsewhere any file runs).
#[cfg(unix)]
fn is_executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

/// Go's `exec.LookPath`: a path with a `/` is used as it is, a bare name is searched on `$PATH`;
/// either must be an executable file. Returns the absolute path, as Helm runs it. Errors are
/// Helm's flag error around Go's (`exec: "x": permission denied`).
fn look_path(name: &str) -> anyhow::Result<PathBuf> {
    let executable = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file() && is_executable(&m));
    let refused = |why: String| {
        anyhow::anyhow!(
            "invalid argument {q} for \"--post-renderer\" flag: unable to find binary at {name}: exec: {q}: {why}",
            q = gotemplate::gofmt::quote(name)
        )
    };
    let found = if name.contains('/') {
        let p = PathBuf::from(name);
        match std::fs::metadata(&p) {
            Err(e) => return Err(refused(format!("stat {name}: {}", crate::chart::io_text(&e)))),
            Ok(m) if m.is_dir() => return Err(refused("is a directory".into())),
            Ok(_) if !executable(&p) => return Err(refused("permission denied".into())),
            Ok(_) => p,
        }
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| executable(p))
            .ok_or_else(|| refused("executable file not found in $PATH".into()))?
    };
    std::path::absolute(&found).with_context(|| format!("--post-renderer: resolving {name}"))
}

/// Runs the post-renderer on `input` and returns its stdout, verbatim: as in Helm, bytes that are
/// not UTF-8 are not an error here (`template` prints them; [`decode_output`] refuses them where
/// the output is parsed). Its stderr is shown only in the error of a failed run, as Helm does.
pub fn run_post_renderer(pr: &PostRenderer, input: &str) -> anyhow::Result<Vec<u8>> {
    run(pr, input).map_err(|e| PostRenderFailed(format!("{e:#}")).into())
}

/// A post-renderer that was found but failed to run or exited with an error. Helm has created
/// the release it renders by then, so `template` prints its `--debug` hint after this error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PostRenderFailed(String);

fn run(pr: &PostRenderer, input: &str) -> anyhow::Result<Vec<u8>> {
    let shown = pr.exe.display().to_string();
    let mut child = Command::new(&pr.exe)
        .args(&pr.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("error while running post render on files: starting {shown}"))?;
    // Stdin, stdout and stderr each on their own thread: a post-renderer that writes before it
    // has read everything (kustomize does not, `sed` does) would otherwise deadlock on a full pipe.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let input = input.to_string();
    // A post-renderer may exit without reading its input (a broken pipe is then expected).
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + pr.timeout;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for the post-renderer")? {
            break status;
        }
        if Instant::now() >= deadline {
            // Killed, then reaped: the reader threads see end of file (unless a grandchild
            // keeps the pipes open, which is why they are not joined).
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "error while running post render on files: {shown} did not finish within {:?} \
                 (--post-renderer-timeout); it was killed and nothing was applied",
                pr.timeout
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        bail!("error while running post render on files: error while running command {shown}. error output:\n{stderr}: {how}");
    }
    out_reader
        .join()
        .expect("stdout reader panicked")
        .context("reading the post-renderer's output")
}

/// The post-renderer's output as text, for the verbs that parse it. Helm's YAML reader refuses
/// bytes that are not UTF-8 anywhere in a document (comments too: `yaml: invalid trailing UTF-8
/// octet`); the error here names the document and line of the first one.
pub fn decode_output(pr: &PostRenderer, out: Vec<u8>) -> anyhow::Result<String> {
    String::from_utf8(out).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // The documents before it, the bad byte's own counted by a stand-in for it (else a bad
        // byte right after a separator would be counted in the document before).
        let document = manifest::split_document_bytes(&[before, b"?"].concat()).len();
        anyhow::anyhow!(
            "post-renderer {} printed bytes that are not UTF-8 (document {document}, line {line} of \
             its output); nothing was applied",
            pr.path
        )
    })
}

/// The post-renderer's output as manifests in install order, each document checked to be YAML.
/// A document that starts with a `# Source: PATH` line keeps that path; others are named by
/// their position.
pub fn split_output(pr: &PostRenderer, out: &str) -> anyhow::Result<Vec<Manifest>> {
    let mut docs = Vec::new();
    for (i, doc) in manifest::split_documents(out).into_iter().enumerate() {
        let (path, content) = match doc.strip_prefix("# Source: ").and_then(|r| r.split_once('\n')) {
            Some((path, rest)) => (path.to_string(), rest.trim_start_matches('\n').to_string()),
            None => (
                format!("(post-renderer output, document {})", i + 1),
                doc.to_string(),
            ),
        };
        // One pass over the events both validates the syntax and reads what the sort needs.
        let h = crate::yaml::scan_head(&content, &path).with_context(|| {
            format!(
                "post-renderer {} printed invalid YAML (document {}); nothing was applied",
                pr.path,
                i + 1
            )
        })?;
        docs.push(Manifest {
            path,
            content,
            head: manifest::Head {
                api_version: h.api_version,
                kind: h.kind,
                name: h.name,
                annotations: h.annotations,
            },
        });
    }
    // In install order, all of them plain manifests: a hook annotation in a post-renderer's
    // output means nothing to Helm either (it installs whatever the output holds).
    docs.sort_by(|a, b| manifest::compare_install_order(&a.head.kind, &b.head.kind));
    Ok(docs)
}

#[cfg(test)]
mod tests;
