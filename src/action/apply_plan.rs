//! `apply RELEASE --plan PLAN`: applies a plan saved by `diff --out`, exactly, or refuses.
//!
//! The checks that need no request come first (the file's format, its release, namespace and API
//! server, the chart still on disk); then the normal `apply` runs with the recorded chart and
//! values, and [`super::saved_plan::verify`] stops it after planning and before its first write
//! unless its plan is the saved one. Writing thus goes through the one path every `apply` takes:
//! the release lock, hooks, waits, and the record of the new revision.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;

use super::{
    saved_plan::{self, ClusterId, SavedPlanUse},
    upgrade::{upgrade, Mode, UpgradeOptions, UpgradeResult},
    Context,
};
use crate::apply;

/// Inputs of `apply --plan`: the plan, and the flags that change how it is carried out, never
/// what it does.
#[derive(Clone)]
pub struct ApplyPlanOptions {
    /// Release name, as given on the command line: it must be the plan's.
    pub release: String,
    /// The plan file.
    pub plan: PathBuf,
    /// `--wait`.
    pub wait: bool,
    /// `--wait=STRATEGY`'s readiness rules and `--logs`.
    pub wait_style: crate::apply::WaitStyle,
    /// `--wait-for-jobs`.
    pub wait_for_jobs: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--atomic`.
    pub atomic: bool,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--force-unlock`.
    pub force_unlock: bool,
    /// Where progress goes.
    pub progress: Arc<dyn apply::Progress>,
}

/// Applies the saved plan, or refuses before writing anything.
pub async fn apply_saved_plan(ctx: &Context, opts: &ApplyPlanOptions) -> anyhow::Result<UpgradeResult> {
    let saved = saved_plan::read(&opts.plan)?;
    let (server, context) = ctx.cluster.endpoint();
    saved_plan::check_target(
        &saved,
        &opts.release,
        &ctx.namespace,
        &ClusterId { server, context },
    )
    .with_context(|| format!("refusing saved plan {}", opts.plan.display()))?;
    let chart = PathBuf::from(&saved.chart.path);
    let digest = saved_plan::chart_digest(&chart).with_context(|| {
        format!(
            "refusing saved plan {}: its chart {} cannot be read (the plan is checked by rendering it again)",
            opts.plan.display(),
            chart.display()
        )
    })?;
    let upgrade_opts = UpgradeOptions {
        chart_origin: saved.chart.origin.clone(),
        wait: opts.wait,
        wait_style: opts.wait_style,
        wait_for_jobs: opts.wait_for_jobs,
        timeout: opts.timeout,
        atomic: opts.atomic,
        create_namespace: opts.create_namespace,
        description: opts.description.clone(),
        // The values are the plan's, whole (set below), never the last revision's.
        reset_values: true,
        no_hooks: opts.no_hooks,
        kube_version: saved.kube_version.clone(),
        crds: saved.crds,
        progress: opts.progress.clone(),
        force_unlock: opts.force_unlock,
        ..UpgradeOptions::new(&opts.release, chart, Mode::Apply)
    };
    let chart_changed = (digest != saved.chart.digest).then(|| {
        format!(
            "chart {} changed since the plan was made ({} then, {} now)",
            saved.chart.path, saved.chart.digest, digest
        )
    });
    let upgrade_opts = UpgradeOptions {
        saved_plan: Some(SavedPlanUse::Verify(Arc::new(saved))),
        ..upgrade_opts
    };
    upgrade(ctx, &upgrade_opts).await.map_err(|e| {
        let Some(refusal) = e.downcast_ref::<saved_plan::Refusal>() else {
            // Not a refusal: a failure of the apply itself, reported as any apply reports it.
            return e;
        };
        // A refused render is easier to act on when the chart's own change is named too.
        let render = matches!(refusal, saved_plan::Refusal::RenderChanged(_));
        let e = match chart_changed {
            Some(why) if render => e.context(why),
            _ => e,
        };
        e.context(format!("refusing saved plan {}", opts.plan.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ValuesOptions;
    use crate::{
        action::{diff_and_save, DiffOptions, SavePlanOptions},
        cluster::{Cluster, FakeCluster, Gvk, Patch, WriteOptions},
        diff::ViewOptions,
        release::Status,
    };
    use serde_json::json;

    /// A chart of two ConfigMaps and the plan file's place, in a scratch directory of this test.
    struct Setup {
        dir: PathBuf,
        fake: Arc<FakeCluster>,
        ctx: Context,
    }

    impl Setup {
        fn new(name: &str) -> Setup {
            let dir = std::env::temp_dir().join(format!("kc-apply-plan-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
            std::fs::write(
                dir.join("chart/Chart.yaml"),
                "apiVersion: v2\nname: c\nversion: 1.0.0\n",
            )
            .unwrap();
            std::fs::write(dir.join("chart/values.yaml"), "greeting: hi\n").unwrap();
            std::fs::write(
                dir.join("chart/templates/cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
            )
            .unwrap();
            std::fs::write(
                dir.join("chart/templates/other.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  rev: {{ .Release.Revision | quote }}\n",
            )
            .unwrap();
            let fake = Arc::new(FakeCluster::new("prod"));
            let ctx = Context::with_cluster(fake.clone(), None);
            Setup { dir, fake, ctx }
        }

        fn plan_path(&self) -> PathBuf {
            self.dir.join("web.plan")
        }

        /// `diff web ./chart --set greeting=… --out web.plan`.
        async fn save(&self, greeting: &str) -> crate::diff::Plan {
            self.save_values(ValuesOptions {
                set: vec![format!("greeting={greeting}")],
                ..Default::default()
            })
            .await
        }

        /// `diff web ./chart VALUES --out web.plan`.
        async fn save_values(&self, values: ValuesOptions) -> crate::diff::Plan {
            let opts = DiffOptions {
                release: "web".into(),
                chart: Some(self.dir.join("chart")),
                values,
                revision: None,
                kube_version: None,
                crds: Default::default(),
                patches: Default::default(),
                view: ViewOptions::default(),
            };
            let save = SavePlanOptions {
                out: self.plan_path(),
                chart_origin: None,
            };
            diff_and_save(&self.ctx, &opts, &save).await.unwrap().plan
        }

        fn opts(&self) -> ApplyPlanOptions {
            ApplyPlanOptions {
                release: "web".into(),
                plan: self.plan_path(),
                wait: false,
                wait_style: Default::default(),
                wait_for_jobs: false,
                timeout: Duration::from_secs(5),
                atomic: false,
                create_namespace: false,
                description: None,
                no_hooks: false,
                force_unlock: false,
                progress: Arc::new(apply::NoProgress),
            }
        }

        async fn greeting(&self) -> Value {
            let cm = self
                .fake
                .get(&Gvk::new("v1", "ConfigMap"), Some("prod"), "greeting")
                .await
                .unwrap();
            cm["data"]["greeting"].clone()
        }

        async fn revisions(&self) -> Vec<(u32, Status)> {
            let history = self.ctx.store(None).history_meta("web").await.unwrap();
            history.into_iter().map(|m| (m.revision, m.status)).collect()
        }
    }

    impl Drop for Setup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    use serde_json::Value;

    /// The error of a run that must have been refused.
    fn refused(r: anyhow::Result<UpgradeResult>) -> String {
        match r {
            Ok(done) => panic!("applied revision {}", done.release.revision),
            Err(e) => format!("{e:#}"),
        }
    }

    #[tokio::test]
    async fn a_saved_plan_installs_then_upgrades_as_apply_would() {
        let s = Setup::new("applies");
        let plan = s.save("hello").await;
        assert_eq!(plan.counts().create, 2);
        assert!(
            s.revisions().await.is_empty(),
            "diff --out writes nothing to the cluster"
        );
        let done = apply_saved_plan(&s.ctx, &s.opts()).await.unwrap();
        assert_eq!(
            (done.release.revision, done.release.status),
            (1, Status::Deployed)
        );
        assert_eq!(s.greeting().await, "hello");
        // The record holds the saved values and manifest, as an apply's would.
        let rec = s.ctx.store(None).get("web", 1).await.unwrap();
        assert_eq!(rec.values, json!({"greeting": "hello"}));
        assert!(rec.manifest.contains("greeting: \"hello\""), "{}", rec.manifest);

        // An upgrade planned on revision 1 patches and records revision 2.
        s.save("bye").await;
        let done = apply_saved_plan(&s.ctx, &s.opts()).await.unwrap();
        assert_eq!(done.release.revision, 2);
        assert_eq!(
            done.plan.counts().patch,
            2,
            "greeting, and other's .Release.Revision"
        );
        assert_eq!(s.greeting().await, "bye");
        assert_eq!(
            s.revisions().await,
            vec![(1, Status::Superseded), (2, Status::Deployed)]
        );
    }

    #[tokio::test]
    async fn values_of_every_type_render_again_the_same() {
        // The check renders with the values read back from the file: numbers, nulls, lists and
        // nested maps must come back as they were, or every such plan would be refused.
        let s = Setup::new("values");
        let json =
            r#"extra={"f":1.5,"i":3,"big":12345678901,"n":null,"l":[true,"s",{"k":[]}],"m":{"z":1,"a":{}}}"#;
        let file = s.dir.join("numbers.yaml");
        std::fs::write(&file, "port: 8080\nratio: 0.5\nwhole: 2.0\nhuge: 1e21\n").unwrap();
        s.save_values(ValuesOptions {
            value_files: vec![file.to_string_lossy().into_owned()],
            set_json: vec![json.into()],
            // `--set` makes integers where files and JSON make floats: both must come back.
            set: vec!["greeting=0.10".into(), "list={a,b}".into(), "count=3".into()],
            ..Default::default()
        })
        .await;
        let done = apply_saved_plan(&s.ctx, &s.opts()).await.unwrap();
        assert_eq!(done.release.revision, 1);
        assert_eq!(s.greeting().await, "0.10");
        let rec = s.ctx.store(None).get("web", 1).await.unwrap();
        assert_eq!(rec.values["extra"]["l"][2], json!({"k": []}));
        assert_eq!(rec.values["list"], json!(["a", "b"]));
    }

    #[tokio::test]
    async fn refusals_name_what_changed_and_write_nothing() {
        // Each case: install revision 1, save a plan to greet "bye", change something, apply.
        type Change = fn(&Setup) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;
        let cases: Vec<(&str, Change, &str)> = vec![
            (
                "an object edited through the API (kubectl edit)",
                |s| {
                    Box::pin(async move {
                        let edit = Patch::Merge(json!({"data": {"greeting": "edited"}}));
                        let gvk = Gvk::new("v1", "ConfigMap");
                        s.fake
                            .patch(&gvk, Some("prod"), "greeting", &edit, &WriteOptions::default())
                            .await
                            .unwrap();
                    })
                },
                "live objects changed since the plan was made: ConfigMap prod/greeting (resourceVersion",
            ),
            (
                "another revision recorded since",
                |s| {
                    Box::pin(async move {
                        let opts = s.opts();
                        // Applying the same plan twice: the second finds revision 2.
                        apply_saved_plan(&s.ctx, &opts).await.unwrap();
                    })
                },
                "release web is at revision 2 now, but the plan builds on revision 1",
            ),
            (
                "a template edited",
                |s| {
                    Box::pin(async move {
                        let path = s.dir.join("chart/templates/other.yaml");
                        let text = std::fs::read_to_string(&path).unwrap();
                        std::fs::write(&path, text.replace("rev:", "revision:")).unwrap();
                    })
                },
                "changed since the plan was made (sha256:",
            ),
        ];
        for (name, change, want) in cases {
            let s = Setup::new("refused");
            s.save("hi").await;
            apply_saved_plan(&s.ctx, &s.opts()).await.unwrap();
            s.save("bye").await;
            change(&s).await;
            let before = (s.revisions().await, s.greeting().await);
            let err = refused(apply_saved_plan(&s.ctx, &s.opts()).await);
            assert!(err.starts_with("refusing saved plan"), "{name}: {err}");
            assert!(err.contains(want), "{name}: {err}");
            assert_eq!(
                (s.revisions().await, s.greeting().await),
                before,
                "{name}: nothing written"
            );
        }
    }

    #[tokio::test]
    async fn a_template_change_is_named() {
        let s = Setup::new("template");
        s.save("hi").await;
        let path = s.dir.join("chart/templates/other.yaml");
        std::fs::write(
            &path,
            std::fs::read_to_string(&path)
                .unwrap()
                .replace("rev:", "revision:"),
        )
        .unwrap();
        let err = refused(apply_saved_plan(&s.ctx, &s.opts()).await);
        assert!(
            err.contains("the chart and values no longer produce the planned release: manifest c/templates/other.yaml changed"),
            "{err}"
        );
        assert!(s.revisions().await.is_empty());
    }

    #[tokio::test]
    async fn a_plan_for_another_namespace_is_refused_before_any_request() {
        let s = Setup::new("namespace");
        s.save("hi").await;
        let dev = Context::with_cluster(s.fake.clone(), Some("dev".into()));
        let calls = s.fake.calls().len();
        let err = refused(apply_saved_plan(&dev, &s.opts()).await);
        assert!(
            err.contains(
                "the plan was made for release web in namespace prod, not release web in namespace dev"
            ),
            "{err}"
        );
        assert_eq!(s.fake.calls().len(), calls, "no request");
    }
}
