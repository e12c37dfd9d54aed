//! Before `cflog replay`, `consume` (or any command that talks to AWS) builds an SDK
//! client: is there a region and a source of credentials? Without one, the SDK's default
//! chain ends at the EC2 instance metadata service and retries it with warnings for
//! seconds before failing with a message about IMDS; this check says plainly what is
//! missing instead. It reads only what the SDK's chain reads before IMDS: environment
//! variables and the shared config and credentials files.

use std::path::PathBuf;

/// Why AWS cannot be reached from this environment, or `None` when a region and a
/// credential source are configured. `get` reads environment variables; `home` is the
/// home directory (for `~/.aws/config` and `~/.aws/credentials`).
pub fn missing_setup(get: impl Fn(&str) -> Option<String>, home: Option<PathBuf>) -> Option<String> {
    let set = |k: &str| get(k).is_some_and(|v| !v.trim().is_empty());
    let profile = get("AWS_PROFILE").filter(|p| !p.is_empty()).unwrap_or_else(|| "default".to_string());
    let file = |var: &str, default: &str| get(var).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)));
    let config = file("AWS_CONFIG_FILE", "config").and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials").and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let config_section = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
    let config_keys = section_keys(&config, &config_section);
    let credential_keys = section_keys(&credentials, &profile);

    let region = set("AWS_REGION") || set("AWS_DEFAULT_REGION") || config_keys.iter().any(|k| k == "region");
    // Opting in to the instance metadata service (an EC2 instance role).
    let imds = get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("false"));
    const PROFILE_SOURCES: [&str; 7] =
        ["aws_access_key_id", "role_arn", "credential_process", "sso_session", "sso_start_url", "credential_source", "web_identity_token_file"];
    let creds = (set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY"))
        || set("AWS_WEB_IDENTITY_TOKEN_FILE")
        || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        || credential_keys.iter().chain(&config_keys).any(|k| PROFILE_SOURCES.contains(&k.as_str()))
        || imds;
    if region && creds {
        return None;
    }
    let what = match (region, creds) {
        (false, false) => "no AWS region or credentials",
        (false, true) => "no AWS region",
        _ => "no AWS credentials",
    };
    Some(format!(
        "{what} (looked at the environment and profile {profile:?} in ~/.aws/config and ~/.aws/credentials). Set AWS_REGION \
         and credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values do for a local endpoint \
         such as moto). On EC2 with an instance role, set AWS_EC2_METADATA_DISABLED=false to use the instance metadata service."
    ))
}

/// [`missing_setup`] for this process.
pub fn check() -> anyhow::Result<()> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match missing_setup(|k| std::env::var(k).ok(), home) {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(()),
    }
}

/// The keys of `[section]` in an INI-style AWS file.
fn section_keys(text: &str, section: &str) -> Vec<String> {
    let mut inside = false;
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            inside = line[1..line.len() - 1].trim() == section;
        } else if inside && let Some((k, _)) = line.split_once('=') {
            keys.push(k.trim().to_ascii_lowercase());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn check(vars: &[(&str, &str)], files: &[(&str, &str)]) -> Option<String> {
        let home = std::env::temp_dir().join(format!("cflog-aws-env-{}-{}", std::process::id(), vars.len() * 10 + files.len()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        for (name, text) in files {
            std::fs::write(home.join(".aws").join(name), text).unwrap();
        }
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let r = missing_setup(|k| vars.get(k).cloned(), Some(home.clone()));
        let _ = std::fs::remove_dir_all(&home);
        r
    }

    #[test]
    fn what_counts_as_configured() {
        assert!(check(&[], &[]).unwrap().starts_with("no AWS region or credentials"));
        assert!(check(&[("AWS_REGION", "eu-west-1")], &[]).unwrap().starts_with("no AWS credentials"));
        assert!(check(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")], &[]).unwrap().starts_with("no AWS region ("));
        assert_eq!(check(&[("AWS_DEFAULT_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")], &[]), None);
        assert_eq!(check(&[("AWS_REGION", "x"), ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds")], &[]), None);
        assert_eq!(check(&[("AWS_REGION", "x"), ("AWS_EC2_METADATA_DISABLED", "false")], &[]), None);
        // Profiles: [default] in both files, or a named profile.
        let files = [("config", "[default]\nregion = us-east-1\n"), ("credentials", "[default]\naws_access_key_id = a\naws_secret_access_key = b\n")];
        assert_eq!(check(&[], &files), None);
        assert!(check(&[("AWS_PROFILE", "work")], &files).is_some());
        let named = [("config", "[profile work]\nregion = us-east-1\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n")];
        assert_eq!(check(&[("AWS_PROFILE", "work")], &named), None);
    }
}
