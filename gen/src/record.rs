//! One record as it is being drawn: every value a line needs (`Rec`, reused from record
//! to record so its buffers are allocated once), its CMCD values and the outcome class.

use crate::headers::Headers;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cmcd {
    pub(crate) bitrate: u32,
    pub(crate) buffer_ms: u32,
    pub(crate) starved: bool,
    pub(crate) content: u32,
    pub(crate) duration_ms: u32,
    pub(crate) deadline_ms: u32,
    pub(crate) throughput: u32,
    pub(crate) next_seg: u32,
    pub(crate) manifest: bool,
    pub(crate) startup: bool,
}

#[derive(Debug)]
pub(crate) struct Rec {
    pub(crate) ts_ms: i64,
    pub(crate) client: usize,
    pub(crate) s_ip: usize,
    pub(crate) ttfb: Option<u64>,
    pub(crate) taken: u64,
    pub(crate) ofbl: Option<u64>,
    pub(crate) olbl: Option<u64>,
    pub(crate) status: u16,
    pub(crate) sc_bytes: u64,
    pub(crate) cs_bytes: u64,
    pub(crate) method: &'static str,
    pub(crate) protocol: &'static str,
    pub(crate) proto_ver: &'static str,
    pub(crate) site: usize,
    pub(crate) dist: usize,
    pub(crate) path: Vec<u8>,
    pub(crate) query: Vec<u8>,
    pub(crate) request_id: [u8; 56],
    pub(crate) referer: Vec<u8>,
    pub(crate) cookie: Vec<u8>,
    pub(crate) xff: Vec<u8>,
    pub(crate) result: &'static str,
    pub(crate) response_result: &'static str,
    pub(crate) detailed: &'static str,
    pub(crate) tls: bool,
    pub(crate) content_type: &'static str,
    pub(crate) content_len: Option<u64>,
    pub(crate) range: Option<(u64, u64)>,
    pub(crate) port: u64,
    pub(crate) accept: &'static str,
    pub(crate) accept_encoding: &'static str,
    pub(crate) behavior: &'static str,
    pub(crate) hdr: Headers,
    pub(crate) scratch: Vec<u8>,
    pub(crate) cmcd: Option<Cmcd>,
}

impl Default for Rec {
    fn default() -> Self {
        Rec {
            ts_ms: 0,
            client: 0,
            s_ip: 0,
            ttfb: None,
            taken: 0,
            ofbl: None,
            olbl: None,
            status: 200,
            sc_bytes: 0,
            cs_bytes: 0,
            method: "GET",
            protocol: "https",
            proto_ver: "HTTP/2.0",
            site: 0,
            dist: 0,
            path: Vec::with_capacity(128),
            query: Vec::with_capacity(128),
            request_id: [b'A'; 56],
            referer: Vec::with_capacity(128),
            cookie: Vec::with_capacity(64),
            xff: Vec::with_capacity(64),
            result: "Hit",
            response_result: "Hit",
            detailed: "Hit",
            tls: true,
            content_type: "-",
            content_len: None,
            range: None,
            port: 0,
            accept: "-",
            accept_encoding: "-",
            behavior: "*",
            hdr: Headers { values: Vec::with_capacity(1024), names: Vec::with_capacity(256), count: 0, full: false },
            scratch: Vec::with_capacity(64),
            cmcd: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    HungUp,
    HttpsRedirect,
    Client4xx,
    Server5xx,
}
