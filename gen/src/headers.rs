//! The request headers a viewer sends, as CloudFront logs them: each kind of client's
//! headers in its own order, with the 800-byte cap on `cs-headers` and `cs-header-names`.

use crate::record::Rec;
use crate::rng::Rng;
use crate::tables::{AgentKind, Cat, SITE_WWW, SITES};
use crate::text::{B64URL, push_u64};
use crate::world::{Agent, Client};

/// `cs-headers`, `cs-header-names` and `cs-headers-count` being built.
#[derive(Debug, Default)]
pub(crate) struct Headers {
    pub(crate) values: Vec<u8>,
    pub(crate) names: Vec<u8>,
    pub(crate) count: u64,
    pub(crate) full: bool,
}

/// The 800-byte cap CloudFront applies to `cs-headers` and `cs-header-names`. Whole
/// headers that do not fit are left out of `cs-headers` (their names still count).
pub(crate) const HEADERS_CAP: usize = 800;

impl Headers {
    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.names.clear();
        self.count = 0;
        self.full = false;
    }

    /// A header with its (already encoded) value.
    pub(crate) fn add(&mut self, name: &str, value: &[u8]) {
        self.add_name(name);
        let need = name.len() + 1 + value.len() + 3;
        if !self.full && self.values.len() + need <= HEADERS_CAP {
            self.values.extend_from_slice(name.as_bytes());
            self.values.push(b':');
            self.values.extend_from_slice(value);
            self.values.extend_from_slice(b"%0A");
        } else {
            self.full = true;
        }
    }

    /// A header that is listed and counted but whose value is not logged (as seen with
    /// `cookie`).
    pub(crate) fn add_name(&mut self, name: &str) {
        self.count += 1;
        if self.names.len() + name.len() + 3 <= HEADERS_CAP {
            self.names.extend_from_slice(name.as_bytes());
            self.names.extend_from_slice(b"%0A");
        }
    }
}

/// Request headers, in the order each client sends them (`cs-headers`, `cs-header-names`,
/// `cs-headers-count`, `accept`, `accept-encoding`); returns the request body's size.
pub(crate) fn request_headers(rec: &mut Rec, rng: &mut Rng, client: &Client, agent: &Agent, cat: Cat, conditional: bool, etag: u64) -> u64 {
    let kind = agent.kind;
    let host = SITES[rec.site].as_bytes();
    let h = &mut rec.hdr;
    h.clear();
    rec.accept = "-";
    rec.accept_encoding = "-";
    let (b_accept, dest, mode) = cat.browser_accept();
    let fetch_site: &[u8] = if rec.referer.is_empty() {
        b"none"
    } else if rec.referer.starts_with(b"https://www.example.com") {
        if rec.site == usize::from(SITE_WWW) { b"same-origin" } else { b"same-site" }
    } else {
        b"cross-site"
    };
    let ws = cat == Cat::WebSocket;
    let has_body = matches!(rec.method, "POST" | "PUT" | "PATCH");
    let cors = has_body || rec.method == "OPTIONS" || ws;
    let h2 = matches!(rec.proto_ver, "HTTP/2.0" | "HTTP/3.0");
    h.add("host", host);
    match kind {
        AgentKind::Chromium | AgentKind::Firefox | AgentKind::Safari => {
            rec.accept = b_accept;
            rec.accept_encoding =
                if kind == AgentKind::Safari { "gzip,%20deflate,%20br" } else { "gzip,%20deflate,%20br,%20zstd" };
            let accept = b_accept.as_bytes();
            if ws {
                h.add("upgrade", b"websocket");
                h.add("connection", b"Upgrade");
            }
            match kind {
                AgentKind::Chromium => {
                    h.add("sec-ch-ua-platform", agent.platform.as_bytes());
                    h.add("user-agent", agent.ua.as_bytes());
                    h.add("sec-ch-ua", agent.sec_ch_ua.as_bytes());
                    h.add("sec-ch-ua-mobile", if agent.mobile { b"?1" } else { b"?0" });
                    if !ws {
                        h.add("accept", accept);
                    }
                    if cors {
                        h.add("origin", b"https://www.example.com");
                    }
                    h.add("sec-fetch-site", fetch_site);
                    h.add("sec-fetch-mode", mode.as_bytes());
                    h.add("sec-fetch-dest", dest.as_bytes());
                    if !rec.referer.is_empty() {
                        h.add("referer", &rec.referer);
                    }
                    h.add("accept-encoding", rec.accept_encoding.as_bytes());
                    h.add("accept-language", client.lang.as_bytes());
                }
                AgentKind::Firefox => {
                    h.add("user-agent", agent.ua.as_bytes());
                    if !ws {
                        h.add("accept", accept);
                    }
                    h.add("accept-language", client.lang.as_bytes());
                    h.add("accept-encoding", rec.accept_encoding.as_bytes());
                    if !rec.referer.is_empty() {
                        h.add("referer", &rec.referer);
                    }
                    if cors {
                        h.add("origin", b"https://www.example.com");
                    }
                    h.add("sec-fetch-dest", dest.as_bytes());
                    h.add("sec-fetch-mode", mode.as_bytes());
                    h.add("sec-fetch-site", fetch_site);
                }
                _ => {
                    h.add("sec-fetch-dest", dest.as_bytes());
                    h.add("user-agent", agent.ua.as_bytes());
                    if !ws {
                        h.add("accept", accept);
                    }
                    if !rec.referer.is_empty() {
                        h.add("referer", &rec.referer);
                    }
                    if cors {
                        h.add("origin", b"https://www.example.com");
                    }
                    h.add("sec-fetch-site", fetch_site);
                    h.add("sec-fetch-mode", mode.as_bytes());
                    h.add("accept-language", client.lang.as_bytes());
                    h.add("accept-encoding", rec.accept_encoding.as_bytes());
                }
            }
            if !rec.cookie.is_empty() {
                h.add_name("cookie");
            }
            if h2 {
                h.add("priority", if dest == "document" { b"u=0,%20i" } else { b"u=1" });
            }
            if ws {
                rec.accept = "-";
            }
        }
        AgentKind::Googlebot | AgentKind::Bingbot | AgentKind::OtherBot => {
            rec.accept = if kind == AgentKind::Googlebot {
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
            } else {
                "*/*"
            };
            rec.accept_encoding =
                if kind == AgentKind::Bingbot { "gzip,%20deflate" } else { "gzip,%20deflate,%20br" };
            h.add("user-agent", agent.ua.as_bytes());
            h.add("accept", rec.accept.as_bytes());
            h.add("accept-encoding", rec.accept_encoding.as_bytes());
            match kind {
                AgentKind::Googlebot => h.add("from", b"googlebot(at)googlebot.com"),
                AgentKind::Bingbot => h.add("from", b"bingbot(at)microsoft.com"),
                _ => {}
            }
        }
        AgentKind::Curl => {
            rec.accept = "*/*";
            h.add("user-agent", agent.ua.as_bytes());
            h.add("accept", b"*/*");
        }
        AgentKind::Python => {
            rec.accept = "*/*";
            rec.accept_encoding = "gzip,%20deflate";
            h.add("user-agent", agent.ua.as_bytes());
            h.add("accept-encoding", b"gzip,%20deflate");
            h.add("accept", b"*/*");
            if !h2 {
                h.add("connection", b"keep-alive");
            }
        }
        AgentKind::GoHttp => {
            rec.accept_encoding = "gzip";
            h.add("user-agent", agent.ua.as_bytes());
            h.add("accept-encoding", b"gzip");
        }
        AgentKind::App => {
            rec.accept = "application/json";
            rec.accept_encoding = "gzip";
            h.add("user-agent", agent.ua.as_bytes());
            h.add("accept", b"application/json");
            h.add("accept-encoding", b"gzip");
            h.add("accept-language", client.lang.as_bytes());
            h.add("x-app-version", b"5.12.0");
            h.add_name("authorization");
            if !rec.cookie.is_empty() {
                h.add_name("cookie");
            }
        }
    }
    let sc = &mut rec.scratch;
    let req_body = if has_body { rng.range(40, 2_000) } else { 0 };
    if has_body {
        h.add("content-type", b"application/json");
        sc.clear();
        push_u64(sc, req_body);
        h.add("content-length", sc);
    }
    if rec.method == "OPTIONS" {
        h.add("access-control-request-method", b"POST");
        h.add("access-control-request-headers", b"content-type");
    }
    if ws {
        sc.clear();
        for _ in 0..2 {
            let v = rng.next_u64();
            for s in (0..60).step_by(6).take(11) {
                sc.push(B64URL[((v >> s) & 63) as usize]);
            }
        }
        sc.extend_from_slice(b"==");
        h.add("sec-websocket-key", sc);
        h.add("sec-websocket-version", b"13");
    }
    if conditional {
        sc.clear();
        sc.extend_from_slice(b"%22");
        for s in (0..64).step_by(4) {
            sc.push(b"0123456789abcdef"[((etag >> s) & 15) as usize]);
        }
        sc.extend_from_slice(b"%22");
        h.add("if-none-match", sc);
    }
    if let Some((start, end)) = rec.range {
        sc.clear();
        sc.extend_from_slice(b"bytes=");
        push_u64(sc, start);
        sc.push(b'-');
        push_u64(sc, end);
        h.add("range", sc);
    }
    if !rec.xff.is_empty() {
        h.add("x-forwarded-for", &rec.xff);
    }
    req_body
}
