//! `test RELEASE`: run the newest revision's `helm.sh/hook: test` hooks as `helm test` does —
//! by weight, then name, one at a time, each waited for, the first failure ending the run, with
//! their delete policies — and report each one's phase and, with `--logs`, each test pod's log.
//!
//! The results are written back into the newest record, as Helm does (so `status` shows them);
//! a release still in Helm's storage, or one whose newest revision another run is still writing
//! (pending), is only read. One difference on purpose: a log the cluster
//! cannot serve (a node that keeps none) is reported in place of that log instead of failing the
//! command, where Helm stops at the first such error.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context as _;

use super::{get, transaction::recorded_hooks, Context, GetOptions};
use crate::{
    apply::{self, Event, HookEvent, HookOptions, HookPhase, Progress},
    release::{HookRun, Release, Timestamp},
};

/// Inputs of `test`.
#[derive(Clone)]
pub struct TestOptions {
    /// Release name.
    pub release: String,
    /// `--filter name=NAME` / `!name=NAME` (Helm's attribute filters; `name` is the only one).
    pub filters: Vec<String>,
    /// `--timeout` for each test.
    pub timeout: Duration,
    /// `--logs`: read each test pod's log after the tests ran (before any cleanup Helm would do
    /// after them; delete policies have run by then, as in Helm).
    pub logs: bool,
    /// Where hook progress goes.
    pub progress: Arc<dyn Progress>,
}

/// What a test run found.
pub struct TestResult {
    /// The release as recorded afterwards: its test hooks' `last_run` set for those that ran
    /// (Helm's order: the hooks a filter skipped first, then the others).
    pub release: Release,
    /// The first failing test, if one failed (the command then fails).
    pub failure: Option<anyhow::Error>,
    /// With `--logs`: one entry per selected test hook, by weight.
    pub logs: Vec<PodLog>,
}

/// The log of one test pod, or why it could not be read.
pub struct PodLog {
    /// The hook's (pod's) name.
    pub pod: String,
    /// The log text, or the cluster's reason for not serving it.
    pub log: Result<String, String>,
}

/// `--filter` parsed: names to run only, and names to leave out.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filters {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filters {
    fn parse(filters: &[String]) -> anyhow::Result<Filters> {
        let mut out = Filters::default();
        for f in filters {
            if let Some(name) = f.strip_prefix("!name=") {
                out.exclude.push(name.to_string());
            } else if let Some(name) = f.strip_prefix("name=") {
                out.include.push(name.to_string());
            } else {
                // Helm ignores such a filter silently, which runs tests the user meant to leave out.
                anyhow::bail!("invalid --filter {f:?}: use name=NAME or !name=NAME");
            }
        }
        Ok(out)
    }

    /// Whether the hook named `name` runs (Helm applies the exclusions, then the inclusions).
    fn selects(&self, name: &str) -> bool {
        let name = name.to_string();
        !self.exclude.contains(&name) && (self.include.is_empty() || self.include.contains(&name))
    }
}

/// Runs the tests of the newest revision of `opts.release`.
pub async fn test(ctx: &Context, opts: &TestOptions) -> anyhow::Result<TestResult> {
    let filters = Filters::parse(&opts.filters)?;
    let store = ctx.store(None);
    crate::release::validate_name(&opts.release).map_err(anyhow::Error::msg)?;
    // Our newest record, to write the results back into; a release only Helm's storage holds
    // (not taken over: `test` is no write of the release) is read from there and left as it is.
    let stored = store.newest(&opts.release).await?;
    let mut release = match &stored {
        Some(s) => store.read(s).await?,
        None => {
            get(
                ctx,
                &GetOptions {
                    release: opts.release.clone(),
                    revision: None,
                },
            )
            .await?
        }
    };
    let is_test = |h: &crate::release::Hook| {
        h.events
            .iter()
            .any(|e| HookEvent::parse(e) == Some(HookEvent::Test))
    };
    // Helm puts the hooks a filter skipped first, then the others, each part in recorded order.
    let (skipped, selected): (Vec<_>, Vec<_>) = std::mem::take(&mut release.hooks)
        .into_iter()
        .partition(|h| !filters.selects(&h.name));
    release.hooks = skipped;
    let first_selected = release.hooks.len();
    release.hooks.extend(selected);

    // Each hook's start and end, in the order run_hooks runs them, told by its progress events.
    type Started = (Timestamp, Option<(Timestamp, HookPhase)>);
    let seen: Arc<Mutex<Vec<Started>>> = Arc::default();
    let progress = {
        let (seen, clock, inner) = (seen.clone(), ctx.clock.clone(), opts.progress.clone());
        move |e: &Event| {
            match e {
                Event::HookStarted { .. } => lock(&seen).push((clock.now(), None)),
                Event::HookFinished { phase, .. } => {
                    if let Some(last) = lock(&seen).last_mut() {
                        last.1 = Some((clock.now(), *phase));
                    }
                }
                _ => {}
            }
            inner.event(e);
        }
    };
    let hook_opts = HookOptions {
        timeout: opts.timeout,
        progress: Arc::new(progress),
        ..Default::default()
    };
    let hooks = recorded_hooks(&release.hooks[first_selected..]);
    let failure = apply::run_hooks(&*ctx.cluster, &hooks, HookEvent::Test, &hook_opts)
        .await
        .err()
        .map(|e| anyhow::Error::new(e).context(format!("testing release {}", opts.release)));

    // run_hooks runs the test hooks by weight, then name: the n-th start is the n-th of those.
    let mut order: Vec<usize> = (first_selected..release.hooks.len())
        .filter(|&i| is_test(&release.hooks[i]))
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&release.hooks[a], &release.hooks[b]);
        a.weight.cmp(&b.weight).then_with(|| a.name.cmp(&b.name))
    });
    for (&i, (started, end)) in order.iter().zip(lock(&seen).iter()) {
        release.hooks[i].last_run = Some(HookRun {
            started_at: *started,
            completed_at: end.map(|(t, _)| t),
            phase: match end {
                Some((_, HookPhase::Succeeded)) => "Succeeded",
                Some((_, HookPhase::Failed)) => "Failed",
                None => "Running",
            }
            .to_string(),
        });
    }

    // A pending record belongs to a run under way: rewriting it would make that run's own
    // final write conflict, so the results are then only reported.
    if let Some(s) = stored.as_ref().filter(|s| !s.meta.status.is_pending()) {
        store
            .record_hook_runs(s, &release)
            .await
            .with_context(|| format!("recording the test results of release {}", opts.release))?;
    }

    let mut logs = Vec::new();
    if opts.logs {
        // As Helm's GetPodLogs: every selected test hook by weight, read as a pod's log.
        for &i in &order {
            let pod = release.hooks[i].name.clone();
            let log = ctx
                .cluster
                .pod_log(&ctx.namespace, &pod, None, None)
                .await
                .map_err(|e| e.to_string());
            logs.push(PodLog { pod, log });
        }
    }
    Ok(TestResult {
        release,
        failure,
        logs,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_helm() {
        // (filters, names selected out of a, b, c)
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &["a", "b", "c"]),
            (&["name=a"], &["a"]),
            (&["name=a", "name=c"], &["a", "c"]),
            (&["!name=b"], &["a", "c"]),
            // Exclusion wins over inclusion of the same name.
            (&["name=a", "!name=a", "name=b"], &["b"]),
        ];
        for (filters, want) in cases {
            let f =
                Filters::parse(&filters.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("parse");
            let got: Vec<&str> = ["a", "b", "c"].into_iter().filter(|n| f.selects(n)).collect();
            assert_eq!(&got, want, "{filters:?}");
        }
        for bad in ["kind=Pod", "a", "!kind=x"] {
            let err = Filters::parse(&[bad.to_string()]).expect_err(bad).to_string();
            assert!(err.contains(&format!("invalid --filter {bad:?}")), "{err}");
        }
    }
}
