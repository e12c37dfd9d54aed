//! A `cflog` built without a feature (`make demo`'s release binary leaves out the AWS SDK and
//! wasmtime to save build time) still recognises that feature's subcommands and flags, so
//! it can say how to get them instead of clap's generic "unrecognized subcommand".

/// Subcommands and flags that a feature brings: (word on the command line, feature).
const GATED: &[(&str, &str)] = &[("replay", "aws"), ("consume", "aws"), ("--stream", "aws"), ("s3://", "aws"), ("--plugin", "plugins")];

/// Whether this binary was built with `feature`.
pub fn enabled(feature: &str) -> bool {
    const BUILT: &[(&str, bool)] = &[("aws", cfg!(feature = "aws")), ("plugins", cfg!(feature = "plugins"))];
    BUILT.iter().find(|(name, _)| *name == feature).is_none_or(|(_, on)| *on)
}

/// The message for command-line `args` (without the program name) that use a subcommand or
/// flag of a feature that `enabled` says is missing; `None` when they use none.
pub fn missing_feature(args: &[String], enabled: impl Fn(&str) -> bool) -> Option<String> {
    let args: Vec<&str> = args.iter().map(String::as_str).take_while(|a| *a != "--").collect();
    let subcommand = args.iter().find(|a| !a.starts_with('-'));
    GATED.iter().filter(|(_, feature)| !enabled(feature)).find_map(|&(word, feature)| {
        let used = if word.ends_with("://") {
            args.iter().any(|a| a.starts_with(word))
        } else if word.starts_with("--") {
            args.iter().any(|a| *a == word || a.strip_prefix(word).is_some_and(|rest| rest.starts_with('=')))
        } else {
            subcommand == Some(&word)
        };
        let what = if word.ends_with("://") {
            format!("an `{word}` input")
        } else if word.starts_with("--") {
            format!("`{word}`")
        } else {
            format!("`cflog {word}`")
        };
        used.then(|| {
            format!(
                "this cflog was built without the `{feature}` feature, which {what} needs. A cflog with every feature: \
                 `cargo install --path cli --locked` in the cflog repository (or `make debug-bins`, which builds \
                 $CARGO_TARGET_DIR/debug/cflog)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn names_the_missing_feature_and_the_way_to_get_it() {
        let none = |_: &str| false;
        let msg = missing_feature(&args("replay --stream s f.log"), none).unwrap();
        assert!(msg.contains("without the `aws` feature, which `cflog replay` needs"), "{msg}");
        assert!(msg.contains("cargo install --path cli --locked"), "{msg}");
        assert!(missing_feature(&args("consume --stream s"), none).unwrap().contains("`cflog consume`"));
        let msg = missing_feature(&args("analyze --plugin=bots.wasm x.log"), none).unwrap();
        assert!(msg.contains("`plugins` feature, which `--plugin` needs"), "{msg}");
        assert!(missing_feature(&args("analyze --plugins x.log"), none).is_none());
        assert!(missing_feature(&args("analyze -- --plugin"), none).is_none());
        assert!(missing_feature(&args("analyze x.log"), none).is_none());
        assert!(missing_feature(&args("replay --stream s f.log"), |_| true).is_none());
        let msg = missing_feature(&args("analyze s3://b/logs/"), none).unwrap();
        assert!(msg.contains("`aws` feature, which an `s3://` input needs"), "{msg}");
    }
}
