//! Every CloudFront log field, its meaning and its value type.
//!
//! A [`Field`] names a *meaning*, not a column header: the real-time `cs-host` and the
//! standard-log `x-host-header` both carry the viewer's `Host` header, so both resolve to
//! [`Field::ViewerHost`]; the real-time `x-host-header` and the standard `cs(Host)` are the
//! distribution's domain, [`Field::DistributionDomain`]. Resolving names once, at schema
//! time, is what lets every accessor work the same on both formats.

/// How a field's text is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Epoch seconds with an optional fraction (`1607374321.541`, v2 `1738535441`).
    EpochSeconds,
    /// Epoch milliseconds (v2 `timestamp(ms)`).
    EpochMillis,
    /// `YYYY-MM-DD` (UTC).
    Date,
    /// `HH:MM:SS` (UTC).
    Time,
    /// Decimal seconds (`0.140`), read as microseconds.
    Seconds,
    /// Unsigned integer.
    Integer,
    /// Three-digit HTTP status; `000` means the viewer hung up first.
    Status,
    /// One IPv4 or IPv6 address.
    Ip,
    /// A comma-separated list of addresses (`x-forwarded-for`).
    IpList,
    /// An opaque token, not percent-encoded in practice (`GET`, `Hit`, `NRT57-C1`).
    Token,
    /// Percent-encoded text, decoded lazily.
    Encoded,
    /// CMCD boolean (`true`/`false`, `1`/`0`).
    Bool,
    /// A decimal number (CMCD playback rate).
    Decimal,
}

impl Kind {
    /// Whether the value is written as a JSON number by the CLI.
    pub const fn is_numeric(self) -> bool {
        matches!(
            self,
            Kind::EpochSeconds
                | Kind::EpochMillis
                | Kind::Seconds
                | Kind::Integer
                | Kind::Status
                | Kind::Decimal
        )
    }
}

/// The two families of CloudFront logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Real-time logs: Kinesis records, no header, fields in AWS's canonical order.
    RealTime,
    /// Standard (access) logs: W3C files with a `#Fields:` header, legacy and v2.
    Standard,
}

impl Format {
    /// Lower-case name as used on the command line (`realtime`, `standard`).
    pub const fn name(self) -> &'static str {
        match self {
            Format::RealTime => "realtime",
            Format::Standard => "standard",
        }
    }
}

macro_rules! fields {
    ($($(#[$doc:meta])* $variant:ident => $kind:ident,)*) => {
        /// A field's meaning, the same in every format that carries it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// Every field, in declaration order (`Field::ALL[f as usize] == f`).
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];
            /// How many fields there are.
            pub const COUNT: usize = Field::ALL.len();

            /// How the field's text is typed.
            pub const fn kind(self) -> Kind {
                match self { $(Field::$variant => Kind::$kind,)* }
            }
        }
    };
}

fields! {
    /// When the edge finished the response: real-time `timestamp` (epoch.sss) or v2 `timestamp` (epoch seconds).
    Timestamp => EpochSeconds,
    /// v2 `timestamp(ms)`.
    TimestampMs => EpochMillis,
    /// Standard `date`.
    Date => Date,
    /// Standard `time`.
    Time => Time,
    /// v2 `DistributionId`.
    DistributionId => Token,
    /// `c-ip`: the viewer, or a proxy in front of it.
    ClientIp => Ip,
    /// `s-ip`: the CloudFront server.
    ServerIp => Ip,
    /// `time-to-first-byte`, seconds.
    TimeToFirstByte => Seconds,
    /// `sc-status`.
    Status => Status,
    /// `sc-bytes`: bytes sent to the viewer, headers included.
    BytesSent => Integer,
    /// `cs-method`.
    Method => Token,
    /// `cs-protocol`: http, https, ws, wss.
    Protocol => Token,
    /// The viewer's `Host` header: real-time `cs-host`, standard `x-host-header`.
    ViewerHost => Token,
    /// `cs-uri-stem` (real-time: includes `?query`).
    UriStem => Encoded,
    /// `cs-bytes`: bytes in the request, headers included.
    BytesReceived => Integer,
    /// `x-edge-location` (`NRT57-C1`).
    EdgeLocation => Token,
    /// `x-edge-request-id`.
    RequestId => Token,
    /// The distribution's domain: real-time `x-host-header`, standard `cs(Host)`.
    DistributionDomain => Token,
    /// `time-taken`, seconds.
    TimeTaken => Seconds,
    /// `cs-protocol-version`.
    ProtocolVersion => Token,
    /// `c-ip-version`.
    ClientIpVersion => Token,
    /// `cs-user-agent` / `cs(User-Agent)`.
    UserAgent => Encoded,
    /// `cs-referer` / `cs(Referer)`.
    Referer => Encoded,
    /// `cs-cookie` / `cs(Cookie)`.
    Cookie => Encoded,
    /// `cs-uri-query`.
    UriQuery => Encoded,
    /// `x-edge-response-result-type`.
    ResponseResultType => Token,
    /// `x-forwarded-for` (may be a comma list).
    ForwardedFor => IpList,
    /// `ssl-protocol`.
    SslProtocol => Token,
    /// `ssl-cipher`.
    SslCipher => Token,
    /// `x-edge-result-type`.
    ResultType => Token,
    /// `fle-encrypted-fields`.
    FleEncryptedFields => Integer,
    /// `fle-status`.
    FleStatus => Token,
    /// `sc-content-type`.
    ContentType => Encoded,
    /// `sc-content-len`.
    ContentLength => Integer,
    /// `sc-range-start`.
    RangeStart => Integer,
    /// `sc-range-end`.
    RangeEnd => Integer,
    /// `c-port`.
    ClientPort => Integer,
    /// `x-edge-detailed-result-type`.
    DetailedResultType => Token,
    /// `c-country` (ISO 3166-1 alpha-2).
    Country => Token,
    /// `cs-accept-encoding`.
    AcceptEncoding => Encoded,
    /// `cs-accept`.
    Accept => Encoded,
    /// `cache-behavior-path-pattern`.
    CacheBehaviorPathPattern => Encoded,
    /// `cs-headers`: `name:value%0A…`.
    Headers => Encoded,
    /// `cs-header-names`: `name%0A…`.
    HeaderNames => Encoded,
    /// `cs-headers-count`.
    HeadersCount => Integer,
    /// `primary-distribution-id` (continuous deployment).
    PrimaryDistributionId => Token,
    /// `primary-distribution-dns-name`.
    PrimaryDistributionDnsName => Token,
    /// `viewer-request-log-data` (CloudFront Functions `cf.logCustomData()`).
    ViewerRequestLogData => Encoded,
    /// `viewer-response-log-data`.
    ViewerResponseLogData => Encoded,
    /// `origin-fbl`: first-byte latency to the origin, seconds.
    OriginFirstByteLatency => Seconds,
    /// `origin-lbl`: last-byte latency to the origin, seconds.
    OriginLastByteLatency => Seconds,
    /// `asn`: the viewer's autonomous system number.
    Asn => Integer,
    /// CMCD `br`.
    CmcdEncodedBitrate => Decimal,
    /// CMCD `bl`.
    CmcdBufferLength => Decimal,
    /// CMCD `bs`.
    CmcdBufferStarvation => Token,
    /// CMCD `cid`.
    CmcdContentId => Encoded,
    /// CMCD `d`.
    CmcdObjectDuration => Decimal,
    /// CMCD `dl`.
    CmcdDeadline => Decimal,
    /// CMCD `mtp`.
    CmcdMeasuredThroughput => Decimal,
    /// CMCD `nor`.
    CmcdNextObjectRequest => Encoded,
    /// CMCD `nrr`.
    CmcdNextRangeRequest => Encoded,
    /// CMCD `ot`.
    CmcdObjectType => Token,
    /// CMCD `pr`.
    CmcdPlaybackRate => Decimal,
    /// CMCD `rtp`.
    CmcdRequestedMaximumThroughput => Decimal,
    /// CMCD `sf`.
    CmcdStreamingFormat => Token,
    /// CMCD `sid`.
    CmcdSessionId => Encoded,
    /// CMCD `st`.
    CmcdStreamType => Token,
    /// CMCD `su`.
    CmcdStartup => Token,
    /// CMCD `tb`.
    CmcdTopBitrate => Decimal,
    /// CMCD `v`.
    CmcdVersion => Decimal,
    /// `r-host`: the origin that media-quality-aware resiliency selected.
    RHost => Token,
    /// `sr-reason`.
    SrReason => Encoded,
    /// `x-edge-mqcs`: media quality confidence score.
    EdgeMqcs => Integer,
    /// `distribution-tenant-id`.
    DistributionTenantId => Token,
    /// `connection-id`: links to the mTLS connection logs.
    ConnectionId => Token,
}

/// Real-time field names in AWS's canonical delivery order.
///
/// Positions 1–69 follow the AWS field table and the sources in the format reference. AWS
/// has not published the position of `viewer-request-log-data` and
/// `viewer-response-log-data`; one third-party list puts them right after
/// `primary-distribution-dns-name`, and so do we. CMCD values are typed leniently
/// (decimal or text), as AWS's own text for them was not available.
pub const REALTIME_FIELDS: &[(&str, Field)] = &[
    ("timestamp", Field::Timestamp),
    ("c-ip", Field::ClientIp),
    ("s-ip", Field::ServerIp),
    ("time-to-first-byte", Field::TimeToFirstByte),
    ("sc-status", Field::Status),
    ("sc-bytes", Field::BytesSent),
    ("cs-method", Field::Method),
    ("cs-protocol", Field::Protocol),
    ("cs-host", Field::ViewerHost),
    ("cs-uri-stem", Field::UriStem),
    ("cs-bytes", Field::BytesReceived),
    ("x-edge-location", Field::EdgeLocation),
    ("x-edge-request-id", Field::RequestId),
    ("x-host-header", Field::DistributionDomain),
    ("time-taken", Field::TimeTaken),
    ("cs-protocol-version", Field::ProtocolVersion),
    ("c-ip-version", Field::ClientIpVersion),
    ("cs-user-agent", Field::UserAgent),
    ("cs-referer", Field::Referer),
    ("cs-cookie", Field::Cookie),
    ("cs-uri-query", Field::UriQuery),
    ("x-edge-response-result-type", Field::ResponseResultType),
    ("x-forwarded-for", Field::ForwardedFor),
    ("ssl-protocol", Field::SslProtocol),
    ("ssl-cipher", Field::SslCipher),
    ("x-edge-result-type", Field::ResultType),
    ("fle-encrypted-fields", Field::FleEncryptedFields),
    ("fle-status", Field::FleStatus),
    ("sc-content-type", Field::ContentType),
    ("sc-content-len", Field::ContentLength),
    ("sc-range-start", Field::RangeStart),
    ("sc-range-end", Field::RangeEnd),
    ("c-port", Field::ClientPort),
    ("x-edge-detailed-result-type", Field::DetailedResultType),
    ("c-country", Field::Country),
    ("cs-accept-encoding", Field::AcceptEncoding),
    ("cs-accept", Field::Accept),
    ("cache-behavior-path-pattern", Field::CacheBehaviorPathPattern),
    ("cs-headers", Field::Headers),
    ("cs-header-names", Field::HeaderNames),
    ("cs-headers-count", Field::HeadersCount),
    ("primary-distribution-id", Field::PrimaryDistributionId),
    ("primary-distribution-dns-name", Field::PrimaryDistributionDnsName),
    ("viewer-request-log-data", Field::ViewerRequestLogData),
    ("viewer-response-log-data", Field::ViewerResponseLogData),
    ("origin-fbl", Field::OriginFirstByteLatency),
    ("origin-lbl", Field::OriginLastByteLatency),
    ("asn", Field::Asn),
    ("cmcd-encoded-bitrate", Field::CmcdEncodedBitrate),
    ("cmcd-buffer-length", Field::CmcdBufferLength),
    ("cmcd-buffer-starvation", Field::CmcdBufferStarvation),
    ("cmcd-content-id", Field::CmcdContentId),
    ("cmcd-object-duration", Field::CmcdObjectDuration),
    ("cmcd-deadline", Field::CmcdDeadline),
    ("cmcd-measured-throughput", Field::CmcdMeasuredThroughput),
    ("cmcd-next-object-request", Field::CmcdNextObjectRequest),
    ("cmcd-next-range-request", Field::CmcdNextRangeRequest),
    ("cmcd-object-type", Field::CmcdObjectType),
    ("cmcd-playback-rate", Field::CmcdPlaybackRate),
    ("cmcd-requested-maximum-throughput", Field::CmcdRequestedMaximumThroughput),
    ("cmcd-streaming-format", Field::CmcdStreamingFormat),
    ("cmcd-session-id", Field::CmcdSessionId),
    ("cmcd-stream-type", Field::CmcdStreamType),
    ("cmcd-startup", Field::CmcdStartup),
    ("cmcd-top-bitrate", Field::CmcdTopBitrate),
    ("cmcd-version", Field::CmcdVersion),
    ("r-host", Field::RHost),
    ("sr-reason", Field::SrReason),
    ("x-edge-mqcs", Field::EdgeMqcs),
    ("distribution-tenant-id", Field::DistributionTenantId),
    ("connection-id", Field::ConnectionId),
];

/// The 33 fields of the standard (legacy) log, in file order. Older files carry a prefix
/// of this list (19, 23, 24 or 26 columns); the `#Fields:` header says which.
pub const STANDARD_FIELDS: &[(&str, Field)] = &[
    ("date", Field::Date),
    ("time", Field::Time),
    ("x-edge-location", Field::EdgeLocation),
    ("sc-bytes", Field::BytesSent),
    ("c-ip", Field::ClientIp),
    ("cs-method", Field::Method),
    ("cs(Host)", Field::DistributionDomain),
    ("cs-uri-stem", Field::UriStem),
    ("sc-status", Field::Status),
    ("cs(Referer)", Field::Referer),
    ("cs(User-Agent)", Field::UserAgent),
    ("cs-uri-query", Field::UriQuery),
    ("cs(Cookie)", Field::Cookie),
    ("x-edge-result-type", Field::ResultType),
    ("x-edge-request-id", Field::RequestId),
    ("x-host-header", Field::ViewerHost),
    ("cs-protocol", Field::Protocol),
    ("cs-bytes", Field::BytesReceived),
    ("time-taken", Field::TimeTaken),
    ("x-forwarded-for", Field::ForwardedFor),
    ("ssl-protocol", Field::SslProtocol),
    ("ssl-cipher", Field::SslCipher),
    ("x-edge-response-result-type", Field::ResponseResultType),
    ("cs-protocol-version", Field::ProtocolVersion),
    ("fle-status", Field::FleStatus),
    ("fle-encrypted-fields", Field::FleEncryptedFields),
    ("c-port", Field::ClientPort),
    ("time-to-first-byte", Field::TimeToFirstByte),
    ("x-edge-detailed-result-type", Field::DetailedResultType),
    ("sc-content-type", Field::ContentType),
    ("sc-content-len", Field::ContentLength),
    ("sc-range-start", Field::RangeStart),
    ("sc-range-end", Field::RangeEnd),
];

/// Names that only standard logging v2 adds to the W3C layout (it keeps the legacy names
/// such as `cs(Host)` for the rest).
pub const STANDARD_V2_FIELDS: &[(&str, Field)] = &[
    ("timestamp", Field::Timestamp),
    ("DistributionId", Field::DistributionId),
    ("timestamp(ms)", Field::TimestampMs),
    ("origin-fbl", Field::OriginFirstByteLatency),
    ("origin-lbl", Field::OriginLastByteLatency),
    ("asn", Field::Asn),
    ("c-country", Field::Country),
    ("cache-behavior-path-pattern", Field::CacheBehaviorPathPattern),
    ("distribution-tenant-id", Field::DistributionTenantId),
    ("connection-id", Field::ConnectionId),
    ("viewer-request-log-data", Field::ViewerRequestLogData),
    ("viewer-response-log-data", Field::ViewerResponseLogData),
    ("cmcd-encoded-bitrate", Field::CmcdEncodedBitrate),
    ("cmcd-buffer-length", Field::CmcdBufferLength),
    ("cmcd-buffer-starvation", Field::CmcdBufferStarvation),
    ("cmcd-content-id", Field::CmcdContentId),
    ("cmcd-object-duration", Field::CmcdObjectDuration),
    ("cmcd-deadline", Field::CmcdDeadline),
    ("cmcd-measured-throughput", Field::CmcdMeasuredThroughput),
    ("cmcd-next-object-request", Field::CmcdNextObjectRequest),
    ("cmcd-next-range-request", Field::CmcdNextRangeRequest),
    ("cmcd-object-type", Field::CmcdObjectType),
    ("cmcd-playback-rate", Field::CmcdPlaybackRate),
    ("cmcd-requested-maximum-throughput", Field::CmcdRequestedMaximumThroughput),
    ("cmcd-streaming-format", Field::CmcdStreamingFormat),
    ("cmcd-session-id", Field::CmcdSessionId),
    ("cmcd-stream-type", Field::CmcdStreamType),
    ("cmcd-startup", Field::CmcdStartup),
    ("cmcd-top-bitrate", Field::CmcdTopBitrate),
    ("cmcd-version", Field::CmcdVersion),
    ("s-ip", Field::ServerIp),
    ("primary-distribution-id", Field::PrimaryDistributionId),
    ("primary-distribution-dns-name", Field::PrimaryDistributionDnsName),
    ("r-host", Field::RHost),
    ("sr-reason", Field::SrReason),
    ("x-edge-mqcs", Field::EdgeMqcs),
];

/// Field counts of the complete real-time field list in each AWS release, used to infer a
/// layout when a file says nothing about it. Each count is unique, so a count picks one
/// list; every list is the canonical order minus the fields that release did not have yet.
pub const REALTIME_RELEASES: &[RealtimeRelease] = &[
    RealtimeRelease { name: "2020 (first release)", count: 40 },
    RealtimeRelease { name: "2023 (origin-fbl, origin-lbl, asn)", count: 43 },
    RealtimeRelease { name: "2023 (continuous deployment)", count: 45 },
    RealtimeRelease { name: "2024 (s-ip)", count: 46 },
    RealtimeRelease { name: "2024 (CMCD)", count: 64 },
    RealtimeRelease { name: "2025 (media quality)", count: 67 },
    RealtimeRelease { name: "2025 (tenants, mTLS)", count: 69 },
];

/// One AWS release of the real-time field list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeRelease {
    /// What the release added.
    pub name: &'static str,
    /// How many fields its complete list has.
    pub count: usize,
}

impl RealtimeRelease {
    /// Whether `field` is part of this release's complete list.
    pub fn includes(&self, field: Field) -> bool {
        use Field as F;
        let rank = realtime_rank(field).unwrap_or(usize::MAX);
        let headers_count = realtime_rank(F::HeadersCount).unwrap_or(0);
        match self.count {
            40 => rank <= headers_count && field != F::ServerIp,
            43 => {
                (rank <= headers_count && field != F::ServerIp)
                    || matches!(field, F::OriginFirstByteLatency | F::OriginLastByteLatency | F::Asn)
            }
            45 => {
                (rank <= headers_count && field != F::ServerIp)
                    || matches!(
                        field,
                        F::PrimaryDistributionId
                            | F::PrimaryDistributionDnsName
                            | F::OriginFirstByteLatency
                            | F::OriginLastByteLatency
                            | F::Asn
                    )
            }
            46 => rank <= realtime_rank(F::Asn).unwrap_or(0) && !field.is_log_data(),
            64 => rank <= realtime_rank(F::CmcdVersion).unwrap_or(0) && !field.is_log_data(),
            67 => rank <= realtime_rank(F::EdgeMqcs).unwrap_or(0) && !field.is_log_data(),
            69 => rank <= realtime_rank(F::ConnectionId).unwrap_or(0) && !field.is_log_data(),
            _ => false,
        }
    }
}

impl Field {
    fn is_log_data(self) -> bool {
        matches!(self, Field::ViewerRequestLogData | Field::ViewerResponseLogData)
    }

    /// The field's name in `format`, if that format carries it.
    pub fn name(self, format: Format) -> Option<&'static str> {
        let table: &[&[(&str, Field)]] = match format {
            Format::RealTime => &[REALTIME_FIELDS],
            Format::Standard => &[STANDARD_FIELDS, STANDARD_V2_FIELDS],
        };
        table.iter().flat_map(|t| t.iter()).find(|(_, f)| *f == self).map(|(n, _)| *n)
    }

    /// Resolves a field name of `format`.
    pub fn from_name(format: Format, name: &str) -> Option<Field> {
        let table: &[&[(&str, Field)]] = match format {
            Format::RealTime => &[REALTIME_FIELDS],
            Format::Standard => &[STANDARD_FIELDS, STANDARD_V2_FIELDS],
        };
        table.iter().flat_map(|t| t.iter()).find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// A real-time field's position in the canonical delivery order (0-based).
pub fn realtime_rank(field: Field) -> Option<usize> {
    REALTIME_FIELDS.iter().position(|(_, f)| *f == field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_indexed_by_discriminant() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
    }

    #[test]
    fn documented_counts() {
        // 69 positioned + 2 unpositioned real-time names; 33 standard columns.
        assert_eq!(REALTIME_FIELDS.len(), 71);
        assert_eq!(STANDARD_FIELDS.len(), 33);
        let mut names: alloc::vec::Vec<&str> = REALTIME_FIELDS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 71, "real-time names are unique");
    }

    #[test]
    fn release_counts_match_their_lists() {
        for release in REALTIME_RELEASES {
            let n = REALTIME_FIELDS.iter().filter(|(_, f)| release.includes(*f)).count();
            assert_eq!(n, release.count, "{}", release.name);
        }
    }

    #[test]
    fn host_semantics_swap_between_formats() {
        assert_eq!(Field::from_name(Format::RealTime, "cs-host"), Some(Field::ViewerHost));
        assert_eq!(Field::from_name(Format::Standard, "x-host-header"), Some(Field::ViewerHost));
        assert_eq!(Field::from_name(Format::RealTime, "x-host-header"), Some(Field::DistributionDomain));
        assert_eq!(Field::from_name(Format::Standard, "cs(Host)"), Some(Field::DistributionDomain));
    }
}
