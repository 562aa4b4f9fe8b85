//! Renders arbitrary template text over arbitrary values through Helm's whole engine: the chart
//! loader, values decoding and coalescing, the Go-template lexer, parser and executor, Sprig and
//! Helm's functions, and handlebars for `.hbs` templates.
//!
//! Input: `TEMPLATE \0 VALUES_YAML`; a first byte of `#` makes the template `t.yaml.hbs`. Any
//! result is fine, an error included; a panic, an abort, a stack overflow or a hang is a bug.
#![no_main]

use std::rc::Rc;

use kubectl_chart::{
    chart::loader::{load_files, BufferedFile},
    render::{self, NoCluster, RenderOptions},
    values,
};
use libfuzzer_sys::fuzz_target;

/// Number literals over this many digits make loops (`until`, `repeat`, `untilStep`) legitimately
/// long-running, as they are in Helm; the fuzzer would report them as hangs. Their bounds are
/// covered by unit tests instead.
const MAX_DIGITS: usize = 5;

fn too_slow(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run > MAX_DIGITS {
            return true;
        }
    }
    false
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if too_slow(text) {
        return;
    }
    let (tmpl, vals) = text.split_once('\0').unwrap_or((text, ""));
    let name = if tmpl.starts_with('#') {
        "templates/t.yaml.hbs"
    } else {
        "templates/t.yaml"
    };
    let files = vec![
        BufferedFile {
            name: "Chart.yaml".into(),
            data: b"apiVersion: v2\nname: f\nversion: 0.1.0\n".to_vec(),
        },
        BufferedFile {
            name: "values.yaml".into(),
            data: vals.as_bytes().to_vec(),
        },
        BufferedFile {
            name: "templates/_h.tpl".into(),
            data: b"{{define \"h\"}}[{{.}}]{{end}}".to_vec(),
        },
        BufferedFile {
            name: "templates/_p.hbs".into(),
            data: b"<{{Values.a}}>".to_vec(),
        },
        BufferedFile {
            name: name.into(),
            data: tmpl.as_bytes().to_vec(),
        },
    ];
    // On a thread with the binary's 1 GiB stack (src/main.rs): a value nested tens of thousands
    // deep, which Helm renders, is freed by recursive drops there too.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let Ok(chart) = load_files(files) else { return };
            let Ok((chart, vals)) = values::resolve(chart, gotemplate::Value::Nil) else {
                return;
            };
            let _ = render::render(&chart, &vals, &RenderOptions::default(), Rc::new(NoCluster));
        })
        .expect("spawn the render thread")
        .join()
        .expect("the render thread panicked");
});
