//! Ported public test tables (Go's text/template, Sprig, Helm's engine, funcs, strvals and chartutil),
//! each case run through the library's render stage exactly as `kubectl chart template` runs a chart:
//! load, merge user values, coalesce, schema check, render.
//!
//! Every `fixtures/suites/*.yaml` file is one suite: a list of cases.
//!
//! ```yaml
//! - name: range assigns to an outer variable     # unique within the file
//!   template: '{{$i := 0}}{{range $i = .Values.AI}}{{end}}{{$i}}'   # becomes templates/case.yaml
//!   values: 'AI: [3, 4, 5]'                       # optional: values.yaml, as text (YAML 1.1 as Helm reads it)
//!   set: ['n=5']                                  # optional: --set (also set_string, set_json, set_literal)
//!   templates: {_h.tpl: '{{define "x"}}x{{end}}'} # optional: more files under templates/
//!   files: {files/a.txt: 'hello'}                 # optional: more chart files (for .Files)
//!   want: '5'                                     # the rendered templates/case.yaml ...
//!   error: 'range can''t iterate over 3'          # ... or a substring of the error
//! ```
//!
//! The chart is named `suite`, the release `rel` in namespace `ns`. `want` is what helm v3.17.2
//! prints for the same chart (`fixtures/suites/check-with-helm.py` runs every case through helm and
//! reports each disagreement; CI runs it), so a case states Helm's behaviour, not ours.

use std::{collections::BTreeMap, fs, path::Path, rc::Rc};

use kubectl_chart::{
    chart,
    render::{self, NoCluster, ReleaseInfo, RenderOptions},
    values::{self, ValuesOptions},
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    template: String,
    #[serde(default)]
    values: Option<String>,
    #[serde(default)]
    set: Vec<String>,
    #[serde(default)]
    set_string: Vec<String>,
    #[serde(default)]
    set_json: Vec<String>,
    #[serde(default)]
    set_literal: Vec<String>,
    #[serde(default)]
    templates: BTreeMap<String, String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    want: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// What one case gave: the rendered text or the error message.
fn run_case(dir: &Path, case: &Case) -> Result<String, String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("templates")).map_err(|e| e.to_string())?;
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write case file");
    };
    write("Chart.yaml", "apiVersion: v2\nname: suite\nversion: 0.1.0\n");
    write("values.yaml", case.values.as_deref().unwrap_or(""));
    write("templates/case.yaml", &case.template);
    for (name, text) in &case.templates {
        write(&format!("templates/{name}"), text);
    }
    for (name, text) in &case.files {
        write(name, text);
    }
    let loaded = chart::load(dir).map_err(|e| e.to_string())?;
    let user = values::merge_user_values(&ValuesOptions {
        set: case.set.clone(),
        set_string: case.set_string.clone(),
        set_json: case.set_json.clone(),
        set_literal: case.set_literal.clone(),
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let (chart, vals) = values::resolve(loaded, user).map_err(|e| e.to_string())?;
    values::validate_schema(&chart, &vals).map_err(|e| e.to_string())?;
    let opts = RenderOptions {
        release: Some(ReleaseInfo {
            name: "rel".into(),
            namespace: "ns".into(),
            revision: 1,
            is_upgrade: false,
        }),
        ..Default::default()
    };
    let out = render::render(&chart, &vals, &opts, Rc::new(NoCluster)).map_err(|e| e.to_string())?;
    Ok(out
        .files
        .get("suite/templates/case.yaml")
        .cloned()
        .unwrap_or_default())
}

#[test]
fn ported_suites_render_as_helm_does() {
    // The binary renders on its 8 MiB main thread; test threads get 2 MiB, too little for the
    // recursion-limit cases (1000 nested `include`s) in a debug build.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(run_suites)
        .expect("spawn suite thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn run_suites() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/suites");
    let mut suites: Vec<_> = fs::read_dir(&root)
        .expect("fixtures/suites")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    suites.sort();
    let work = std::env::temp_dir().join(format!("kc-suites-{}", std::process::id()));
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for path in &suites {
        let suite = path.file_stem().expect("stem").to_string_lossy().to_string();
        let text = fs::read_to_string(path).expect("read suite");
        let cases: Vec<Case> =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut seen = std::collections::BTreeSet::new();
        let mut passed = 0;
        for case in &cases {
            assert!(
                seen.insert(case.name.as_str()),
                "{suite}: duplicate case name {:?}",
                case.name
            );
            assert!(
                case.want.is_some() != case.error.is_some(),
                "{suite}: {:?} needs exactly one of want and error",
                case.name
            );
            let got = run_case(&work.join("suite"), case);
            let ok = match (&case.want, &case.error, &got) {
                // Helm trims each document it prints, so `want` is known only up to surrounding
                // whitespace (check-with-helm.py compares the same way).
                (Some(want), _, Ok(out)) => want.trim() == out.trim(),
                (_, Some(err), Err(msg)) => msg.contains(err.as_str()),
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{suite}: {}\n  template: {:?}\n  want: {}\n  got:  {}",
                    case.name,
                    case.template,
                    match (&case.want, &case.error) {
                        (Some(w), _) => format!("{w:?}"),
                        (_, e) => format!("error containing {:?}", e.as_deref().unwrap_or("")),
                    },
                    match &got {
                        Ok(out) => format!("{out:?}"),
                        Err(e) => format!("error {e:?}"),
                    }
                ));
            }
        }
        table.push((suite, passed, cases.len()));
    }
    let _ = fs::remove_dir_all(&work);
    eprintln!("{:<32} {:>7} {:>7}", "suite", "passed", "cases");
    for (suite, passed, total) in &table {
        eprintln!("{suite:<32} {passed:>7} {total:>7}");
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ from Helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
