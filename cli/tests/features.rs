//! A `cflog` built without a feature (`make demo`'s release binary has neither `aws` nor
//! `plugins`) says how to get one with it, instead of clap's generic "unrecognized
//! subcommand". These run with `cargo test -p cflog-cli --no-default-features --test
//! features`; a default build has every feature and nothing to check.

#[cfg(any(not(feature = "aws"), not(feature = "plugins")))]
fn cflog(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

#[cfg(not(feature = "aws"))]
#[test]
fn replay_and_consume_without_the_aws_feature_say_how_to_get_it() {
    for args in [&["replay", "--stream", "s", "x.log"][..], &["consume", "--stream", "s"]] {
        let out = cflog(args);
        assert_eq!(out.status.code(), Some(2), "a usage error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("this cflog was built without the `aws` feature, which `cflog {}` needs", args[0])), "{err}");
        assert!(err.contains("cargo install --path cli --locked"), "{err}");
        assert!(!err.contains("unrecognized subcommand"), "{err}");
    }
}

#[cfg(not(feature = "plugins"))]
#[test]
fn plugin_flag_without_the_plugins_feature_says_how_to_get_it() {
    let out = cflog(&["analyze", "--plugin", "bots.wasm", "x.log"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("this cflog was built without the `plugins` feature, which `--plugin` needs"), "{err}");
    assert!(err.contains("cargo install --path cli --locked"), "{err}");
}
