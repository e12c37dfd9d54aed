//! The per-dimension aggregates of a summary: exact breakdowns, heavy hitters and latency
//! sketches, and how each dimension's keys are shown in the report ([`Keys`]), so no
//! behaviour depends on matching a dimension's name.

use super::{Extract, Summary};
use crate::agg::{CounterMap, HashedKey, LatencySketch, Sums, TopK};
use crate::enrich::ua::UaClass;
use crate::field::Field;
use crate::record::Record;

/// How a dimension's keys are shown in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keys {
    /// As logged.
    AsLogged,
    /// Percent-decoded (URIs, referers, user agents, content types are logged encoded).
    Decoded,
    /// Edge location codes, shown with the city, country and region of their airport.
    EdgeLocation,
}

/// Latency sketches for the four timing fields, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latencies {
    /// `time-taken`.
    pub time_taken: LatencySketch,
    /// `time-to-first-byte`.
    pub ttfb: LatencySketch,
    /// `origin-fbl`.
    pub origin_fbl: LatencySketch,
    /// `origin-lbl`.
    pub origin_lbl: LatencySketch,
}

/// Heavy hitters per dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Tops {
    /// Request paths (encoded as logged, without the query).
    pub uri: TopK,
    /// Viewer addresses.
    pub client_ip: TopK,
    /// Referers (encoded as logged).
    pub referer: TopK,
    /// User agents (encoded as logged).
    pub user_agent: TopK,
    /// Edge locations.
    pub edge_location: TopK,
    /// Viewer countries.
    pub country: TopK,
    /// Viewer autonomous systems.
    pub asn: TopK,
    /// Distributions (domain, or v2 `DistributionId`).
    pub distribution: TopK,
}

impl Tops {
    pub(super) fn new(k: usize) -> Self {
        Tops {
            uri: TopK::with_capacity(k),
            client_ip: TopK::with_capacity(k),
            referer: TopK::with_capacity(k),
            user_agent: TopK::with_capacity(k),
            edge_location: TopK::with_capacity(k),
            country: TopK::with_capacity(k),
            asn: TopK::with_capacity(k),
            distribution: TopK::with_capacity(k),
        }
    }

    pub(super) fn all(&self) -> [(&'static str, Keys, &TopK); 8] {
        [
            ("uri", Keys::Decoded, &self.uri),
            ("client_ip", Keys::AsLogged, &self.client_ip),
            ("referer", Keys::Decoded, &self.referer),
            ("user_agent", Keys::Decoded, &self.user_agent),
            ("edge_location", Keys::EdgeLocation, &self.edge_location),
            ("country", Keys::AsLogged, &self.country),
            ("asn", Keys::AsLogged, &self.asn),
            ("distribution", Keys::AsLogged, &self.distribution),
        ]
    }

    pub(super) fn all_mut(&mut self) -> [&mut TopK; 8] {
        [
            &mut self.uri,
            &mut self.client_ip,
            &mut self.referer,
            &mut self.user_agent,
            &mut self.edge_location,
            &mut self.country,
            &mut self.asn,
            &mut self.distribution,
        ]
    }
}

/// Exact breakdowns, each capped with an `(other)` bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdowns {
    /// Per status code.
    pub status: CounterMap,
    /// `x-edge-result-type`.
    pub result_type: CounterMap,
    /// `x-edge-detailed-result-type`.
    pub detailed_result_type: CounterMap,
    /// `cs-protocol`.
    pub protocol: CounterMap,
    /// `cs-protocol-version`.
    pub http_version: CounterMap,
    /// `cs-method`.
    pub method: CounterMap,
    /// `sc-content-type` (encoded as logged).
    pub content_type: CounterMap,
    /// User-agent class: browser, bot, tool, other.
    pub user_agent_class: CounterMap,
    /// Browser family.
    pub browser: CounterMap,
    /// Edge region, from the edge location's airport.
    pub edge_region: CounterMap,
}

impl Breakdowns {
    pub(super) fn new(cap: usize) -> Self {
        Breakdowns {
            status: CounterMap::with_cap(cap),
            result_type: CounterMap::with_cap(cap),
            detailed_result_type: CounterMap::with_cap(cap),
            protocol: CounterMap::with_cap(cap),
            http_version: CounterMap::with_cap(cap),
            method: CounterMap::with_cap(cap),
            content_type: CounterMap::with_cap(cap),
            user_agent_class: CounterMap::with_cap(cap),
            browser: CounterMap::with_cap(cap),
            edge_region: CounterMap::with_cap(cap),
        }
    }

    pub(super) fn all(&self) -> [(&'static str, Keys, &CounterMap); 10] {
        [
            ("status", Keys::AsLogged, &self.status),
            ("result_type", Keys::AsLogged, &self.result_type),
            ("detailed_result_type", Keys::AsLogged, &self.detailed_result_type),
            ("protocol", Keys::AsLogged, &self.protocol),
            ("http_version", Keys::AsLogged, &self.http_version),
            ("method", Keys::AsLogged, &self.method),
            ("content_type", Keys::Decoded, &self.content_type),
            ("user_agent_class", Keys::AsLogged, &self.user_agent_class),
            ("browser", Keys::AsLogged, &self.browser),
            ("edge_region", Keys::AsLogged, &self.edge_region),
        ]
    }

    pub(super) fn all_mut(&mut self) -> [&mut CounterMap; 10] {
        [
            &mut self.status,
            &mut self.result_type,
            &mut self.detailed_result_type,
            &mut self.protocol,
            &mut self.http_version,
            &mut self.method,
            &mut self.content_type,
            &mut self.user_agent_class,
            &mut self.browser,
            &mut self.edge_region,
        ]
    }
}

impl Summary {
    /// Counts one record, whose values `x` were checked, in the whole-run aggregates:
    /// breakdowns, whole-run latencies (`time-taken` of a record with a time is counted with
    /// its window, in [`Summary::add`]), top lists, unique viewers. `client_key` and `asn`
    /// are the keys the record's client is counted by.
    #[inline(always)]
    pub(super) fn add_whole_run(&mut self, record: &Record<'_>, x: &Extract<'_>, sums: Sums, client_key: Option<HashedKey<'_>>, asn: Option<HashedKey<'_>>) {
        let b = &mut self.breakdowns;
        if let Some(status) = x.status {
            let digits = [b'0' + (status / 100 % 10) as u8, b'0' + (status / 10 % 10) as u8, b'0' + (status % 10) as u8];
            b.status.add(&digits, 1);
        }
        if let Some(rt) = x.result_type {
            // The log text, which is what `ResultType::as_str` gives back.
            b.result_type.add(rt, 1);
        }
        if let Some(d) = x.detailed {
            b.detailed_result_type.add(d, 1);
        }
        // Written out rather than a loop over (field, counter) pairs: the loop cost more
        // than the adds it saved writing (issue 13).
        if let Some(v) = record.encoded_once(Field::Protocol) {
            b.protocol.add(&v, 1);
        }
        if let Some(v) = record.encoded_once(Field::ProtocolVersion) {
            b.http_version.add(&v, 1);
        }
        if let Some(v) = record.encoded_once(Field::Method) {
            b.method.add(&v, 1);
        }
        if let Some(v) = record.encoded_once(Field::ContentType) {
            b.content_type.add(&v, 1);
        }
        // Keys are kept encoded once, whatever the file's era (see `Record::encoded_once`).
        if let Some(ua) = record.encoded_once(Field::UserAgent) {
            let ua = HashedKey::new(&ua);
            // Counted in the top list by the classification memo, which knows its slot.
            let (class, family) = self.cache.classify(ua, &mut self.top.user_agent, sums);
            b.user_agent_class.add(class.name().as_bytes(), 1);
            if class == UaClass::Browser {
                b.browser.add(family.name().as_bytes(), 1);
            }
        }
        if let Some(edge) = x.edge {
            // Counted in the top list by the region memo, as the user agent above.
            let region = self.cache.region(HashedKey::new(edge), &mut self.top.edge_location, sums);
            b.edge_region.add(region.as_bytes(), 1);
        }
        // `time-taken` goes to the window's sketch too, in `add`, or alone when there is no window.
        if x.ts.is_none()
            && let Some(tt) = x.time_taken
        {
            self.latency.time_taken.add(tt);
        }
        if let Some(v) = x.ttfb {
            self.latency.ttfb.add(v);
        }
        if let Some(v) = x.origin_fbl {
            self.latency.origin_fbl.add(v);
        }
        if let Some(v) = x.origin_lbl {
            self.latency.origin_lbl.add(v);
        }
        if let Some(path) = record.uri_path_encoded_once() {
            self.top.uri.add_with(&path, 1, sums);
        }
        if let Some(ip) = x.client_ip {
            let mut octets = [0u8; 16];
            let bytes: &[u8] = match ip {
                core::net::IpAddr::V4(v4) => {
                    octets[..4].copy_from_slice(&v4.octets());
                    &octets[..4]
                }
                core::net::IpAddr::V6(v6) => {
                    octets = v6.octets();
                    &octets
                }
            };
            self.unique_viewers.add_bytes(bytes);
        }
        if let Some(key) = client_key {
            self.top.client_ip.add_hashed(key, 1, sums);
        }
        if let Some(referer) = record.encoded_once(Field::Referer) {
            self.top.referer.add_with(&referer, 1, sums);
        }
        if let Some(country) = x.country {
            self.top.country.add_with(country, 1, sums);
        }
        if let Some(asn) = asn {
            self.top.asn.add_hashed(asn, 1, sums);
        }
        if let Some(d) = record.raw(Field::DistributionDomain).or_else(|| record.raw(Field::DistributionId)) {
            self.top.distribution.add_with(d, 1, sums);
        }
    }
}
