//! `--window`: a time window's width as the CLI's commands take it (`30s`, `1m`, `1d`).

/// Parses a window width: `500ms`, `30s`, `1m`, `5m`, `1h`, `1d`, or a number of seconds.
pub fn parse_window(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, unit) = t.find(|c: char| !c.is_ascii_digit()).map_or((t, "s"), |i| t.split_at(i));
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a window such as 30s, 1m, 5m, 1h, 1d"))?;
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s, m, h or d)")),
    };
    // Window starts are i64 milliseconds.
    let ms = n.checked_mul(unit_ms).filter(|ms| *ms <= i64::MAX as u64).ok_or_else(|| format!("{text:?} is too long a window"))?;
    if ms == 0 {
        return Err("the window must be longer than 0".into());
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("1m"), Ok(60_000));
        assert_eq!(parse_window("30s"), Ok(30_000));
        assert_eq!(parse_window("90"), Ok(90_000));
        assert_eq!(parse_window("1h"), Ok(3_600_000));
        assert_eq!(parse_window("1d"), Ok(86_400_000));
        assert_eq!(parse_window("2d"), Ok(172_800_000));
        assert!(parse_window("999999999999d").is_err());
        assert_eq!(parse_window("250ms"), Ok(250));
        assert!(parse_window("0s").is_err());
        assert!(parse_window("5x").is_err());
    }
}
