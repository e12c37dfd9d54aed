//! The `--suspect-*` flags of `cflog analyze` and `cflog merge`: the thresholds of
//! `cflog_core::suspicious`, the same rules (and defaults) the Lambda applies live.

use cflog_core::suspicious::SuspectThresholds;

/// Suspicious-client thresholds (per minute; scaled with the window width).
#[derive(Debug, Clone, clap::Args)]
pub struct SuspectArgs {
    /// Requests per minute from one address that make it suspicious (a flood).
    #[arg(long, value_name = "N", default_value_t = SuspectThresholds::default().flood_per_min)]
    pub suspect_flood: u64,
    /// Requests per minute from one address before the 4xx/404 share rules apply.
    #[arg(long, value_name = "N", default_value_t = SuspectThresholds::default().share_floor_per_min)]
    pub suspect_floor: u64,
    /// 4xx share (percent) that makes an address past the floor suspicious.
    #[arg(long = "suspect-4xx", value_name = "PERCENT", default_value_t = SuspectThresholds::default().max_4xx_percent)]
    pub suspect_4xx: u32,
    /// 404 share (percent) that makes an address past the floor suspicious.
    #[arg(long = "suspect-404", value_name = "PERCENT", default_value_t = SuspectThresholds::default().max_404_percent)]
    pub suspect_404: u32,
    /// Requests per minute tagged `threat=…` (the security rule, --plugin) that make an
    /// address suspicious.
    #[arg(long, value_name = "N", default_value_t = SuspectThresholds::default().tagged_per_min)]
    pub suspect_threat: u64,
    /// ASN thresholds are the address request numbers times this.
    #[arg(long, value_name = "N", default_value_t = SuspectThresholds::default().asn_factor)]
    pub suspect_asn_factor: u64,
}

impl SuspectArgs {
    /// The thresholds these flags give.
    pub fn thresholds(&self) -> SuspectThresholds {
        SuspectThresholds {
            flood_per_min: self.suspect_flood,
            share_floor_per_min: self.suspect_floor,
            max_4xx_percent: self.suspect_4xx,
            max_404_percent: self.suspect_404,
            tagged_per_min: self.suspect_threat,
            asn_factor: self.suspect_asn_factor,
        }
    }
}
