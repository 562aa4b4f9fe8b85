//! Tests of records split into parts (issue 5): round trips of big, incompressible records over
//! the fake ConfigMap API, the write order, damage detection, and cleanup on prune, uninstall and
//! after a run that died between writing parts and committing the record.

use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;

use super::*;
use crate::release::{
    codec::tests::contains_in_any_form,
    driver::{keys, ConfigMap, ConfigMapApi, ConfigMapDriver, FakeConfigMapApi},
    record::{ManualClock, Timestamp},
};

const MIB: usize = 1024 * 1024;
const SECRET: &str = "s3cr3t-in-a-big-manifest";

/// A manifest of `bytes` random base64 text: gzip cannot shrink it much, so the encoded record
/// is about as big (base64 of gzip of base64 of random bytes).
fn random_manifest(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes * 3 / 4];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!(
        "apiVersion: v1\nkind: Secret\nstringData:\n  k: {SECRET}\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  blob: {}\n",
        STANDARD.encode(raw)
    )
}

fn opts(op: Operation, manifest: String) -> BeginOptions {
    BeginOptions {
        name: "web".to_string(),
        operation: op,
        chart: ChartRef {
            name: "web".into(),
            version: "1.0.0".into(),
            app_version: String::new(),
            origin: None,
        },
        values: serde_json::json!({}),
        computed_values: serde_json::json!({}),
        manifest,
        hooks: Vec::new(),
        notes: String::new(),
        description: String::new(),
    }
}

fn setup() -> (FakeConfigMapApi, Store) {
    let api = FakeConfigMapApi::new("prod");
    let d: Arc<dyn Driver> = Arc::new(ConfigMapDriver::new(api.clone()));
    let s = Store::new(d, Arc::new(ManualClock::new(Timestamp(0))), "run");
    (api, s)
}

/// Names of the part objects of `release`, sorted.
fn part_names(api: &FakeConfigMapApi) -> Vec<String> {
    api.configmaps()
        .into_keys()
        .filter(|n| n.contains(".part"))
        .collect()
}

async fn deploy(s: &Store, op: Operation, manifest: String) -> Release {
    let p = s.begin(opts(op, manifest)).await.unwrap();
    s.mark_deployed(p, "ok").await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn big_records_round_trip() {
    // (case, manifest size, slices wanted: ceil(encoded / slice size), encoded ≈ manifest size)
    let cases = [("2 MiB", 2 * MIB, 3), ("5 MiB", 5 * MIB, 6)];
    for (case, size, slices) in cases {
        let (api, s) = setup();
        let m1 = random_manifest(size);
        deploy(&s, Operation::Install, m1.clone()).await;

        let cms = api.configmaps();
        let record = &cms["kubectl-chart.web.v1"];
        let head = &record.data[keys::BODY];
        let (m, _) = parts::parse_head(head)
            .unwrap()
            .unwrap_or_else(|| panic!("{case}: record not split"));
        assert_eq!(m.slices, slices, "{case}");
        let want_parts: Vec<String> = (1..slices)
            .map(|k| format!("kubectl-chart.web.v1.part{k}"))
            .collect();
        // Parts were rewritten by mark_deployed under fresh indices; the first ones are gone.
        let rewritten: Vec<String> = (slices..2 * slices - 1)
            .map(|k| format!("kubectl-chart.web.v1.part{k}"))
            .collect();
        let mut got = part_names(&api);
        got.sort_by_key(|n| n.rsplit("part").next().and_then(|k| k.parse::<u32>().ok()));
        assert_eq!(got, rewritten, "{case}: only the committed parts are left");
        for (name, cm) in &cms {
            let size: usize = cm.data.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(size <= MAX_BODY_BYTES, "{case}: {name} holds {size} bytes");
            for v in cm.data.values() {
                assert!(!contains_in_any_form(v, SECRET), "{case}: {name} leaks");
            }
        }
        // Parts are written before the record that refers to them.
        let calls = api.calls();
        let pos = |c: &str| calls.iter().position(|x| x == c);
        let record_created = pos("create kubectl-chart.web.v1").expect("record created");
        for p in &want_parts {
            assert!(
                pos(&format!("create {p}")).expect("part created") < record_created,
                "{case}: {p} after the record: {calls:?}"
            );
        }

        // Reads put it back together; history and list see records only.
        assert_eq!(s.get("web", 1).await.unwrap().manifest, m1, "{case}");
        let m2 = random_manifest(size);
        deploy(&s, Operation::Upgrade, m2.clone()).await;
        let h = s.history("web").await.unwrap();
        let got: Vec<(u32, Status, bool)> = h
            .iter()
            .map(|r| {
                (
                    r.revision,
                    r.status,
                    &r.manifest == if r.revision == 1 { &m1 } else { &m2 },
                )
            })
            .collect();
        assert_eq!(
            got,
            [(1, Status::Superseded, true), (2, Status::Deployed, true)],
            "{case}"
        );
        assert_eq!(s.history_meta("web").await.unwrap().len(), 2, "{case}");
        assert_eq!(s.list().await.unwrap().len(), 1, "{case}");
        assert_eq!(
            part_names(&api).len(),
            2 * (slices as usize - 1),
            "{case}: no stale parts after rewrites: {:?}",
            part_names(&api)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn damaged_records_are_reported() {
    // (case, damage done to part 1 of the committed v1, error wanted)
    type Damage = fn(&ConfigMap) -> Option<ConfigMap>;
    let cases: [(&str, Damage, &str); 3] = [
        (
            "missing part",
            |_| None,
            "release record kubectl-chart.web.v1 is damaged: its part kubectl-chart.web.v1.part3 \
             is missing (2 of 3 slices)",
        ),
        (
            "modified part",
            |cm| {
                let mut cm = cm.clone();
                let t = cm.data.get_mut(keys::PART).unwrap();
                let flipped = if t.ends_with('A') { "B" } else { "A" };
                t.replace_range(t.len() - 1.., flipped);
                Some(cm)
            },
            "release record kubectl-chart.web.v1 is damaged: its 3 slices put together have \
             sha256",
        ),
        (
            "part from another write",
            |cm| {
                let mut cm = cm.clone();
                cm.data.insert(keys::PART.into(), "S0NS".repeat(1000));
                Some(cm)
            },
            "a part was modified or replaced",
        ),
    ];
    for (case, damage, want) in cases {
        let (api, s) = setup();
        deploy(&s, Operation::Install, random_manifest(2 * MIB)).await;
        let victim = "kubectl-chart.web.v1.part3";
        let cm = api.configmaps().remove(victim).expect("part 3 exists");
        match damage(&cm) {
            None => api.delete(victim, None).await.unwrap(),
            Some(new) => {
                api.update(&ConfigMap {
                    resource_version: None,
                    ..new
                })
                .await
                .unwrap();
            }
        }
        let err = s.get("web", 1).await.unwrap_err().to_string();
        assert!(err.contains(want), "{case}: {err}");
        let err = s.history("web").await.unwrap_err().to_string();
        assert!(err.contains("is damaged"), "{case}: {err}");
        // metadata needs no body, so history tables still work
        assert_eq!(s.history_meta("web").await.unwrap().len(), 1, "{case}");
    }
}

#[tokio::test(start_paused = true)]
async fn pruning_and_uninstall_remove_parts() {
    let (api, s) = setup();
    let s = s.with_history_max(2);
    for op in [Operation::Install, Operation::Upgrade, Operation::Upgrade] {
        deploy(&s, op, random_manifest(2 * MIB)).await;
    }
    let revisions: Vec<u32> = s
        .history_meta("web")
        .await
        .unwrap()
        .iter()
        .map(|m| m.revision)
        .collect();
    assert_eq!(revisions, [2, 3], "history max 2");
    let parts = part_names(&api);
    assert!(
        parts.iter().all(|p| !p.starts_with("kubectl-chart.web.v1.")),
        "parts of pruned v1 remain: {parts:?}"
    );
    assert_eq!(parts.len(), 4, "{parts:?}");

    // An unchanged upgrade reads the history without bodies and prunes v2 with its parts.
    let unchanged = opts(Operation::Upgrade, random_manifest(2 * MIB));
    match s.record_unchanged(unchanged, "unchanged", 4).await.unwrap() {
        Unchanged::Recorded(r) => assert_eq!(r.revision, 4),
        Unchanged::NeedsLock(_) => panic!("no lock needed"),
    }
    let parts = part_names(&api);
    assert!(
        parts.iter().all(|p| !p.starts_with("kubectl-chart.web.v2.")),
        "parts of pruned v2 remain: {parts:?}"
    );
    assert_eq!(parts.len(), 4, "{parts:?}");
    api.delete("kubectl-chart.web.v4", None).await.unwrap();
    for p in part_names(&api)
        .iter()
        .filter(|p| p.starts_with("kubectl-chart.web.v4."))
    {
        api.delete(p, None).await.unwrap();
    }

    // A run that died after writing parts for v4 and before committing it.
    api.create(&ConfigMap {
        name: "kubectl-chart.web.v4.part1".into(),
        labels: [
            ("owner", "kubectl-chart"),
            ("name", "web"),
            (keys::PART_OF_VERSION, "4"),
            (keys::PART_INDEX, "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        data: [(keys::PART.to_string(), "junk".to_string())].into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let p = s.begin_uninstall("web").await.unwrap();
    s.finish_uninstall(p, false).await.unwrap();
    assert_eq!(
        api.configmaps().into_keys().collect::<Vec<_>>(),
        Vec::<String>::new(),
        "nothing left after uninstall"
    );
}

#[tokio::test(start_paused = true)]
async fn parts_left_by_a_dead_run_do_not_block_the_revision() {
    let (api, s) = setup();
    // The dead run wrote v1's parts 1 and 2 and never created the record.
    for k in [1u32, 2] {
        s.driver.create_part("web", 1, k, "stale").await.unwrap();
    }
    let m = random_manifest(2 * MIB);
    let p = s.begin(opts(Operation::Install, m.clone())).await.unwrap();
    let head = api.configmaps()["kubectl-chart.web.v1"].data[keys::BODY].clone();
    let (manifest, _) = parts::parse_head(&head).unwrap().unwrap();
    assert_eq!(manifest.first, 3, "fresh indices above the stale ones");
    assert_eq!(s.get("web", 1).await.unwrap().manifest, m);
    assert_eq!(
        part_names(&api),
        ["kubectl-chart.web.v1.part3", "kubectl-chart.web.v1.part4"],
        "stale parts removed once the record is committed"
    );
    s.mark_deployed(p, "ok").await.unwrap();
    assert_eq!(s.get("web", 1).await.unwrap().status, Status::Deployed);
}

#[tokio::test(start_paused = true)]
async fn small_records_stay_whole() {
    let (api, s) = setup();
    deploy(&s, Operation::Install, "kind: ConfigMap\n".into()).await;
    assert!(part_names(&api).is_empty());
    assert!(
        !api.calls().iter().any(|c| c.contains("part-of-version")),
        "no extra calls for small records: {:?}",
        api.calls()
    );
}
