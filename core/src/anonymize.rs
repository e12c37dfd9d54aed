//! Viewer address truncation (`--anonymize-ip`, the Lambda's `CFLOG_ANONYMIZE_IP`): IPv4 to
//! its /24 network, IPv6 to its /48, as Google Analytics and Matomo do, so an address no
//! longer names a household while country, network and ISP-level questions still work.
//!
//! One function, [`truncate_ip`], used by the report's top clients, `cflog parse` output
//! and the Lambda's enriched records. Unique viewers are counted from the exact address
//! before truncation, so the count stays what it was (the count is a HyperLogLog sketch,
//! which cannot give an address back).
//!
//! ```
//! use cflog_core::anonymize::{truncate_ip, truncated_ip_text};
//! let ip: core::net::IpAddr = "203.0.113.77".parse().unwrap();
//! assert_eq!(truncate_ip(ip).to_string(), "203.0.113.0");
//! assert_eq!(truncated_ip_text(b"2001:db8:85a3:8d3:1319:8a2e:370:7348").unwrap().as_str(), "2001:db8:85a3::");
//! assert!(truncated_ip_text(b"not an address").is_none());
//! ```

use core::fmt::Write;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `ip` with its host part zeroed: the /24 of an IPv4 address, the /48 of an IPv6 one.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is truncated as the IPv4 address it
/// holds, so it is not left with 80 bits of its IPv4 address.
pub fn truncate_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                let [a, b, c, _] = v4.octets();
                return IpAddr::V6(Ipv4Addr::new(a, b, c, 0).to_ipv6_mapped());
            }
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

/// An address as text in a fixed buffer (the longest IPv6 text is 45 bytes), so
/// truncating a logged address allocates nothing.
#[derive(Clone, Copy)]
pub struct IpText {
    buf: [u8; 48],
    len: usize,
}

impl IpText {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only `write_str` fills the buffer, with whole `str`s.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// The text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Debug for IpText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Write for IpText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(core::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The truncated address of a logged address (`c-ip`), as text; `None` when `raw` is not
/// an address.
pub fn truncated_ip_text(raw: &[u8]) -> Option<IpText> {
    crate::grammar::parse_ip(raw).map(|ip| ip_text(truncate_ip(ip)))
}

/// An address as text, without allocating.
pub fn ip_text(ip: IpAddr) -> IpText {
    let mut text = IpText { buf: [0; 48], len: 0 };
    // 48 bytes hold every address's text.
    let _ = write!(text, "{ip}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<alloc::string::String> {
        truncated_ip_text(s.as_bytes()).map(|x| x.as_str().into())
    }

    #[test]
    fn truncation() {
        // Expected values worked out by hand from the prefix lengths.
        assert_eq!(t("192.0.2.1").as_deref(), Some("192.0.2.0"));
        assert_eq!(t("10.255.255.255").as_deref(), Some("10.255.255.0"));
        assert_eq!(t("2001:db8:abcd:12:1:2:3:4").as_deref(), Some("2001:db8:abcd::"));
        assert_eq!(t("2001:db8::1").as_deref(), Some("2001:db8::"));
        assert_eq!(t("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(), Some("ffff:ffff:ffff::"));
        assert_eq!(t("::ffff:198.51.100.23").as_deref(), Some("::ffff:198.51.100.0"));
        assert_eq!(t("-"), None);
        assert_eq!(t("1.2.3"), None);
    }
}
