//! The chart archive loader on arbitrary bytes (gzip, tar, then the chart files), then values
//! resolution: any result is fine, an error included; a panic or a blow-up is a bug.
#![no_main]

use gotemplate::Value;
use kubectl_chart::{chart::loader::load_archive, values};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(chart) = load_archive(data) else { return };
    let _ = values::resolve(chart, Value::Nil);
});
