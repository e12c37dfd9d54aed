//! Runs the `cflog analyze` worker loop over a real-time log (46-field layout) with the
//! given rules, for instruction counting: `perf stat -e instructions` or
//! `valgrind --tool=callgrind`, which the machine's load does not disturb.
//!
//! usage: cflog-plugin-cost FILE [RULE.wasm|RULE.wat ...]   (no rule: analyze alone)
//! `CFLOG_INTERRUPT=deadline` runs the rules under epoch deadlines instead of fuel.

use std::path::Path;

use cflog_bench::plugins::{analyze_plain, analyze_rules, chunks};
use cflog_core::Schema;
use cflog_engine::wasmtime_rules::WasmRules;
use cflog_plugin_host::{Interrupt, Limits, PluginHost, PluginSet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((file, rules)) = args.split_first() else {
        eprintln!("usage: cflog-plugin-cost FILE [RULE ...]");
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("reading the log");
    let schema = Schema::realtime_release(46).expect("the 46-field layout");
    let cs = chunks(&data, &schema);
    let records = if rules.is_empty() {
        analyze_plain(&cs)
    } else {
        let interrupt = match std::env::var("CFLOG_INTERRUPT").as_deref() {
            Ok("deadline") => Interrupt::Deadline,
            _ => Interrupt::Fuel,
        };
        let host = PluginHost::new(Limits { interrupt, ..Limits::default() }).expect("engine");
        let compiled: Vec<_> = rules.iter().map(|r| host.compile_file(Path::new(r), None).expect("rule")).collect();
        let mut rules = WasmRules::new(PluginSet::instantiate(&host, &compiled).expect("instantiate"));
        let n = analyze_rules(&cs, &mut rules);
        for s in rules.stats() {
            assert_eq!(s.failures, 0, "{s:?}");
        }
        n
    };
    println!("{records}");
}
