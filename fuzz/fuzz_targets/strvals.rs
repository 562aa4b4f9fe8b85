//! The `--set`, `--set-string`, `--set-json` and `--set-literal` parsers on arbitrary text: any
//! result is fine, an error included; a panic, an abort or a stack overflow is a bug.
#![no_main]

use gotemplate::Value;
use kubectl_chart::values::strvals::{parse_into, parse_literal_into, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.to_string();
    // On a thread with the binary's 1 GiB stack (src/main.rs): `a[0][0]...` builds lists nested
    // tens of thousands deep, which Helm takes, and freeing them recurses.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let fresh = || Value::new_map().as_map().cloned().expect("a map");
            let _ = parse_into(&text, &fresh(), Reader::Typed { strings: false });
            let _ = parse_into(&text, &fresh(), Reader::Typed { strings: true });
            let _ = parse_into(&text, &fresh(), Reader::Json);
            let _ = parse_literal_into(&text, &fresh());
            // Several flags write into one map, as repeated `--set` flags do.
            let m = fresh();
            for part in text.split('\n') {
                let _ = parse_into(part, &m, Reader::Typed { strings: false });
            }
        })
        .expect("spawn the parse thread")
        .join()
        .expect("the parse thread panicked");
});
