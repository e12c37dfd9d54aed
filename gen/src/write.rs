//! A drawn record as one log line: each column of the schema in order (real-time
//! timestamps with milliseconds, standard `date` and `time`, v2 columns, `-` for absent
//! values and unknown columns), CMCD fields from the record's CMCD values.

use cflog_core::{Field, Format};

use crate::generator::Generator;
use crate::record::{Cmcd, Rec};
use crate::tables::{DIST_STAGING, SITE_WWW, SITES};
use crate::text::*;

impl Generator<'_> {
    pub(crate) fn write_record(&self, rec: &Rec, plan: &[Option<Field>], buf: &mut Vec<u8>) {
        let realtime = self.opts.format == Format::RealTime;
        let w = &self.world;
        let client = &w.clients[rec.client];
        let edge = &w.edges[client.edge];
        for (i, field) in plan.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            let Some(field) = *field else {
                buf.push(b'-');
                continue;
            };
            match field {
                Field::Timestamp => {
                    push_i64(buf, rec.ts_ms.div_euclid(1000));
                    if realtime {
                        buf.push(b'.');
                        push_padded(buf, rec.ts_ms.rem_euclid(1000) as u64, 3);
                    }
                }
                Field::TimestampMs => push_i64(buf, rec.ts_ms),
                Field::Date => {
                    let (y, m, d) = cflog_core::grammar::civil_from_days(rec.ts_ms.div_euclid(86_400_000));
                    push_padded(buf, y as u64, 4);
                    buf.push(b'-');
                    push_padded(buf, m, 2);
                    buf.push(b'-');
                    push_padded(buf, d, 2);
                }
                Field::Time => {
                    let s = rec.ts_ms.rem_euclid(86_400_000) as u64 / 1000;
                    push_padded(buf, s / 3600, 2);
                    buf.push(b':');
                    push_padded(buf, s / 60 % 60, 2);
                    buf.push(b':');
                    push_padded(buf, s % 60, 2);
                }
                Field::DistributionId => buf.extend_from_slice(w.dists[rec.dist].id.as_bytes()),
                Field::ClientIp => buf.extend_from_slice(client.ip.as_bytes()),
                Field::ServerIp => {
                    let ips = if client.v6 { &edge.s_ip6 } else { &edge.s_ip4 };
                    buf.extend_from_slice(ips[rec.s_ip].as_bytes());
                }
                Field::TimeToFirstByte => push_opt_secs3(buf, rec.ttfb),
                Field::Status => push_padded(buf, u64::from(rec.status), 3),
                Field::BytesSent => push_u64(buf, rec.sc_bytes),
                Field::Method => buf.extend_from_slice(rec.method.as_bytes()),
                Field::Protocol => buf.extend_from_slice(rec.protocol.as_bytes()),
                Field::ViewerHost => buf.extend_from_slice(SITES[rec.site].as_bytes()),
                Field::UriStem => {
                    buf.extend_from_slice(&rec.path);
                    if realtime && !rec.query.is_empty() {
                        buf.push(b'?');
                        buf.extend_from_slice(&rec.query);
                    }
                }
                Field::BytesReceived => push_u64(buf, rec.cs_bytes),
                Field::EdgeLocation => buf.extend_from_slice(edge.code.as_bytes()),
                Field::RequestId => buf.extend_from_slice(&rec.request_id),
                Field::DistributionDomain => buf.extend_from_slice(w.dists[rec.dist].domain.as_bytes()),
                Field::TimeTaken => push_secs3(buf, rec.taken),
                Field::ProtocolVersion => buf.extend_from_slice(rec.proto_ver.as_bytes()),
                Field::ClientIpVersion => buf.extend_from_slice(if client.v6 { b"IPv6" } else { b"IPv4" }),
                Field::UserAgent => buf.extend_from_slice(w.agents[client.agent].ua.as_bytes()),
                Field::Referer => push_or_dash(buf, &rec.referer),
                Field::Cookie => push_or_dash(buf, &rec.cookie),
                Field::UriQuery => push_or_dash(buf, &rec.query),
                Field::ResponseResultType => buf.extend_from_slice(rec.response_result.as_bytes()),
                Field::ForwardedFor => push_or_dash(buf, &rec.xff),
                Field::SslProtocol => {
                    buf.extend_from_slice(match (rec.tls, client.tls13) {
                        (false, _) => b"-",
                        (true, true) => b"TLSv1.3",
                        (true, false) => b"TLSv1.2",
                    });
                }
                Field::SslCipher => buf.extend_from_slice(if rec.tls { client.cipher.as_bytes() } else { b"-" }),
                Field::ResultType => buf.extend_from_slice(rec.result.as_bytes()),
                Field::ContentType => buf.extend_from_slice(rec.content_type.as_bytes()),
                Field::ContentLength => push_opt_u64(buf, rec.content_len),
                Field::RangeStart => push_opt_u64(buf, rec.range.map(|r| r.0)),
                Field::RangeEnd => push_opt_u64(buf, rec.range.map(|r| r.1)),
                Field::ClientPort => push_u64(buf, rec.port),
                Field::DetailedResultType => buf.extend_from_slice(rec.detailed.as_bytes()),
                Field::Country => buf.extend_from_slice(client.country.as_bytes()),
                Field::AcceptEncoding => buf.extend_from_slice(rec.accept_encoding.as_bytes()),
                Field::Accept => buf.extend_from_slice(rec.accept.as_bytes()),
                Field::CacheBehaviorPathPattern => buf.extend_from_slice(rec.behavior.as_bytes()),
                Field::Headers => buf.extend_from_slice(&rec.hdr.values),
                Field::HeaderNames => buf.extend_from_slice(&rec.hdr.names),
                Field::HeadersCount => push_u64(buf, rec.hdr.count),
                Field::PrimaryDistributionId if rec.dist == DIST_STAGING => {
                    buf.extend_from_slice(w.dists[usize::from(SITE_WWW)].id.as_bytes());
                }
                Field::PrimaryDistributionDnsName if rec.dist == DIST_STAGING => {
                    buf.extend_from_slice(w.dists[usize::from(SITE_WWW)].domain.as_bytes());
                }
                Field::OriginFirstByteLatency => push_opt_secs3(buf, rec.ofbl),
                Field::OriginLastByteLatency => push_opt_secs3(buf, rec.olbl),
                Field::Asn => push_u64(buf, u64::from(client.asn)),
                f => match rec.cmcd {
                    Some(c) => write_cmcd(buf, f, &c, &client.session),
                    None => buf.push(b'-'),
                },
            }
        }
        buf.push(b'\n');
    }
}

pub(crate) fn write_cmcd(buf: &mut Vec<u8>, field: Field, c: &Cmcd, session: &str) {
    let segment = !c.manifest;
    match field {
        Field::CmcdEncodedBitrate if segment => push_u64(buf, u64::from(c.bitrate)),
        Field::CmcdBufferLength if segment => push_u64(buf, u64::from(c.buffer_ms)),
        Field::CmcdBufferStarvation if c.starved => buf.extend_from_slice(b"true"),
        Field::CmcdContentId => {
            buf.extend_from_slice(b"video-");
            push_u64(buf, u64::from(c.content));
        }
        Field::CmcdObjectDuration if segment => push_u64(buf, u64::from(c.duration_ms)),
        Field::CmcdDeadline if segment => push_u64(buf, u64::from(c.deadline_ms)),
        Field::CmcdMeasuredThroughput => push_u64(buf, u64::from(c.throughput)),
        Field::CmcdNextObjectRequest if segment => {
            buf.extend_from_slice(b"seg-");
            push_padded(buf, u64::from(c.next_seg), 5);
            buf.extend_from_slice(b".ts");
        }
        Field::CmcdObjectType => buf.extend_from_slice(if c.manifest { b"m" } else { b"v" }),
        Field::CmcdPlaybackRate => buf.push(b'1'),
        Field::CmcdRequestedMaximumThroughput if segment => buf.extend_from_slice(b"15000"),
        Field::CmcdStreamingFormat => buf.push(b'h'),
        Field::CmcdSessionId => buf.extend_from_slice(session.as_bytes()),
        Field::CmcdStreamType => buf.push(b'v'),
        Field::CmcdStartup if c.startup => buf.extend_from_slice(b"true"),
        Field::CmcdTopBitrate => buf.extend_from_slice(b"6000"),
        Field::CmcdVersion => buf.push(b'1'),
        _ => buf.push(b'-'),
    }
}
