//! Field-set specs: how an operator names a real-time log config's fields.

/// A parsed field-set spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsSpec {
    /// The field names, in the order given.
    pub names: Vec<String>,
    /// The sampling rate, when the spec was a real-time log config.
    pub sampling_rate: Option<u32>,
}

/// Why a field-set spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// It starts like JSON and does not parse.
    #[error("the field set looks like JSON but does not parse: {0}")]
    Json(String),
    /// JSON without a field list.
    #[error("the field set JSON has no \"Fields\" list (expected the output of `aws cloudfront get-realtime-log-config`)")]
    NoFields,
    /// A field name that is not a string.
    #[error("the field set JSON: every field name must be a string")]
    NotAString,
    /// No names at all.
    #[error("the field set is empty")]
    Empty,
}

/// Reads a field-set spec: `a,b c` (commas or whitespace), or JSON:
/// `get-realtime-log-config` output, a `RealtimeLogConfig` object, `{"Fields": [...]}`, or
/// a plain array of names (the sampling rate comes from `SamplingRate` when present).
pub fn parse_fields_spec(text: &str) -> Result<FieldsSpec, SpecError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let json: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| SpecError::Json(e.to_string()))?;
        let config = json.get("RealtimeLogConfig").unwrap_or(&json);
        let fields = if config.is_array() { Some(config) } else { config.get("Fields") };
        let fields = fields.and_then(|f| f.as_array()).ok_or(SpecError::NoFields)?;
        let names = fields
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or(SpecError::NotAString))
            .collect::<Result<Vec<_>, _>>()?;
        let sampling_rate = config.get("SamplingRate").and_then(|v| v.as_u64()).map(|n| n as u32);
        return Ok(FieldsSpec { names, sampling_rate });
    }
    let names: Vec<String> =
        trimmed.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if names.is_empty() {
        return Err(SpecError::Empty);
    }
    Ok(FieldsSpec { names, sampling_rate: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_forms() {
        assert_eq!(parse_fields_spec("timestamp, c-ip sc-status").unwrap().names, ["timestamp", "c-ip", "sc-status"]);
        // The shape of `aws cloudfront get-realtime-log-config` output (AWS CLI reference).
        let json = r#"{"RealtimeLogConfig":{"ARN":"arn:aws:cloudfront::1:realtime-log-config/x","Name":"x","SamplingRate":5,"EndPoints":[],"Fields":["sc-status","timestamp"]}}"#;
        let spec = parse_fields_spec(json).unwrap();
        assert_eq!(spec.names, ["sc-status", "timestamp"]);
        assert_eq!(spec.sampling_rate, Some(5));
        assert_eq!(parse_fields_spec(r#"["c-ip"]"#).unwrap().names, ["c-ip"]);
        assert_eq!(parse_fields_spec(r#"{"Name":"x"}"#), Err(SpecError::NoFields));
        assert_eq!(parse_fields_spec(r#"[1]"#), Err(SpecError::NotAString));
        assert!(matches!(parse_fields_spec("{nope"), Err(SpecError::Json(_))));
        assert_eq!(parse_fields_spec("  "), Err(SpecError::Empty));
    }
}
