//! `Generator`: draws each record from the world: when (a Poisson process, a few records
//! late), who, what, how (method, protocol, HTTP version), the outcome (status, result
//! types, body size), latencies, referer, cookie and `x-forwarded-for`, request and
//! response sizes, the request id and CMCD.

use crate::GenOptions;
use crate::headers::request_headers;
use crate::record::{Cmcd, Outcome, Rec};
use crate::rng::Rng;
use crate::tables::*;
use crate::text::{B64URL, push_u64, request_id};
use crate::world::*;

#[derive(Debug)]
pub(crate) struct Generator<'o> {
    pub(crate) opts: &'o GenOptions,
    pub(crate) rng: Rng,
    pub(crate) world: World,
    pub(crate) clock_ms: f64,
    pub(crate) mean_gap_ms: f64,
}

/// Appends a page of `www` (popular pages more often) as a referer.
pub(crate) fn internal_referer(w: &World, rng: &mut Rng, out: &mut Vec<u8>) {
    let u = rng.unit();
    let i = w.html[((u * u) * w.html.len() as f64) as usize % w.html.len()];
    let url = &w.urls[i];
    out.extend_from_slice(b"https://www.example.com");
    out.extend_from_slice(url.path.as_bytes());
    if !url.query.is_empty() {
        out.push(b'?');
        out.extend_from_slice(url.query.as_bytes());
    }
}

impl<'o> Generator<'o> {
    pub(crate) fn new(opts: &'o GenOptions) -> Generator<'o> {
        let mut world_rng = Rng::new(opts.seed ^ 0x5EED_C10D_F0C4_0001);
        let world = World::new(&mut world_rng);
        Generator {
            opts,
            rng: Rng::new(opts.seed),
            world,
            clock_ms: 0.0,
            mean_gap_ms: 1000.0 / opts.requests_per_second,
        }
    }

    pub(crate) fn next_record(&mut self, rec: &mut Rec) {
        let Generator { opts, rng, world: w, clock_ms, mean_gap_ms } = self;

        // When: a Poisson process, with a few records delivered out of order.
        *clock_ms += rng.exponential(*mean_gap_ms);
        let mut ts = opts.start_ms + *clock_ms as i64;
        if rng.chance(0.03) {
            ts = (ts - rng.range(1, 4000) as i64).max(opts.start_ms);
        }
        rec.ts_ms = ts;

        // Who.
        let roll = rng.unit();
        let ci = if roll < 0.045 {
            w.scraper
        } else if roll < 0.065 {
            w.googlebot
        } else if roll < 0.075 {
            w.bingbot
        } else {
            w.client_cdf.sample(rng)
        };
        let client = &w.clients[ci];
        let agent = &w.agents[client.agent];
        let kind = agent.kind;
        let browser = kind.is_browser();
        let scraper = ci == w.scraper;
        rec.client = ci;
        rec.s_ip = rng.below(4) as usize;
        rec.port = if rng.chance(0.7) { rng.range(32_768, 60_999) } else { rng.range(49_152, 65_535) };

        // What. The scraper walks the item API; mobile apps mostly call the API.
        let mut ui = w.url_cdf.sample(rng);
        if kind == AgentKind::App && w.urls[ui].cat != Cat::Api && rng.chance(0.6) {
            ui = w.session_url;
        }
        let scraping = scraper && rng.chance(0.7);
        rec.path.clear();
        rec.query.clear();
        let (cat, site, size, ctype, video, etag) = if scraping {
            rec.path.extend_from_slice(b"/api/v1/items/");
            push_u64(&mut rec.path, rng.range(1, 250_000));
            rec.query.extend_from_slice(b"fields=all");
            (Cat::Api, SITE_API, 0, "application/json", None, 0)
        } else {
            let u = &w.urls[ui];
            rec.path.extend_from_slice(u.path.as_bytes());
            rec.query.extend_from_slice(u.query.as_bytes());
            (u.cat, u.site, u.size, u.ctype, u.video, u.etag)
        };
        rec.site = usize::from(site);
        rec.dist = if site == SITE_WWW && rng.chance(0.04) { DIST_STAGING } else { usize::from(site) };
        rec.behavior = cat.behavior();

        // How.
        rec.method = match cat {
            Cat::Api if browser => {
                *rng.pick(&[("GET", 700), ("POST", 170), ("OPTIONS", 90), ("PUT", 20), ("DELETE", 15), ("PATCH", 5)])
            }
            Cat::Api => *rng.pick(&[("GET", 780), ("POST", 180), ("PUT", 20), ("DELETE", 15), ("PATCH", 5)]),
            Cat::WebSocket => "GET",
            _ => *rng.pick(&[("GET", 960), ("HEAD", 40)]),
        };
        rec.protocol = if cat == Cat::WebSocket {
            if rng.chance(0.97) { "wss" } else { "ws" }
        } else if rng.chance(0.04) {
            "http"
        } else {
            "https"
        };
        rec.tls = matches!(rec.protocol, "https" | "wss");
        rec.proto_ver = if !rec.tls {
            if rng.chance(0.95) { "HTTP/1.1" } else { "HTTP/1.0" }
        } else if cat == Cat::WebSocket {
            "HTTP/1.1"
        } else {
            match kind {
                AgentKind::Chromium | AgentKind::Firefox | AgentKind::Safari => {
                    let v = *rng.pick(&[("HTTP/2.0", 62), ("HTTP/3.0", 22), ("HTTP/1.1", 16)]);
                    if v == "HTTP/3.0" && !client.tls13 { "HTTP/2.0" } else { v }
                }
                AgentKind::Googlebot | AgentKind::Bingbot => *rng.pick(&[("HTTP/2.0", 70), ("HTTP/1.1", 30)]),
                AgentKind::Curl => *rng.pick(&[("HTTP/2.0", 50), ("HTTP/1.1", 50)]),
                AgentKind::App | AgentKind::GoHttp => "HTTP/2.0",
                AgentKind::Python | AgentKind::OtherBot => "HTTP/1.1",
            }
        };

        // Outcome class.
        let p4xx = if scraper {
            0.25
        } else if ci == w.googlebot {
            0.09
        } else {
            0.041
        };
        let outcome = if rng.chance(0.003) {
            Outcome::HungUp
        } else if rec.protocol == "http" && rng.chance(0.3) {
            Outcome::HttpsRedirect
        } else if rng.chance(0.0105) {
            Outcome::Server5xx
        } else if rng.chance(p4xx) {
            Outcome::Client4xx
        } else {
            Outcome::Ok
        };
        if outcome == Outcome::Client4xx && !scraper && rng.chance(0.5) {
            // Many 4xx concentrate on paths that do not exist (scanners, stale links).
            rec.path.clear();
            rec.query.clear();
            rec.path.extend_from_slice(w.missing[rng.below(w.missing.len() as u64) as usize].as_bytes());
        }

        let cacheable = matches!(rec.method, "GET" | "HEAD") && cat.hit_rate() > 0.0;
        let conditional = outcome == Outcome::Ok
            && cacheable
            && rec.method == "GET"
            && (browser || kind == AgentKind::Googlebot)
            && cat != Cat::Api
            && rng.chance(0.065);
        let ranged = outcome == Outcome::Ok
            && rec.method == "GET"
            && !conditional
            && match cat {
                Cat::Segment => rng.chance(0.12),
                Cat::Download => rng.chance(0.6),
                _ => false,
            };

        // Size of the full response body.
        let full = match cat {
            Cat::Api if scraping => object_size(rng, 2_600.0, 0.4),
            Cat::Api => match rec.method {
                "GET" => object_size(rng, 1_800.0, 1.2),
                "OPTIONS" | "DELETE" => 0,
                _ => object_size(rng, 300.0, 0.8),
            },
            _ => size,
        };

        // Status, result types, response body.
        let mut status: u16;
        let mut result: &'static str;
        let mut detailed: &'static str;
        let mut body: u64;
        let mut content_type = ctype;
        let mut content_len: Option<u64>;
        let origin: bool; // whether the edge went to the origin (origin-fbl/lbl are set)
        let mut origin_ms = (145.0, 0.8); // origin first-byte latency: median, sigma
        rec.range = None;
        match outcome {
            Outcome::HungUp => {
                status = 0;
                (result, detailed) = ("Error", "ClientHungUpRequest");
                body = 0;
                content_type = "-";
                content_len = None;
                origin = false;
            }
            Outcome::HttpsRedirect => {
                status = 301;
                (result, detailed) = ("Redirect", "Redirect");
                body = 167;
                content_type = "text/html";
                content_len = Some(167);
                origin = false;
            }
            Outcome::Server5xx => {
                let r = rng.unit();
                result = "Error";
                if r < 0.42 {
                    status = 502;
                    detailed = *rng.pick(&[
                        ("OriginConnectError", 45),
                        ("OriginCommError", 25),
                        ("OriginDnsError", 5),
                        ("Error", 25),
                    ]);
                } else if r < 0.68 {
                    status = 503;
                    detailed = *rng.pick(&[("Error", 80), ("LimitExceeded", 12), ("CapacityExceeded", 8)]);
                    if detailed != "Error" {
                        result = detailed;
                    }
                } else {
                    status = 504;
                    detailed = *rng.pick(&[("OriginCommError", 40), ("OriginReadError", 30), ("Error", 30)]);
                }
                body = 915;
                content_type = "text/html";
                content_len = Some(body);
                origin = detailed == "Error";
            }
            Outcome::Client4xx => {
                status = if scraper {
                    *rng.pick(&[(429, 85), (403, 15)])
                } else {
                    *rng.pick(&[(404, 62), (403, 22), (429, 10), (400, 6)])
                };
                result = "Error";
                detailed = match status {
                    403 if rng.chance(0.08) => "ClientGeoBlocked",
                    400 => *rng.pick(&[("InvalidRequestHeader", 50), ("InvalidRequest", 50)]),
                    _ => "Error",
                };
                body = match status {
                    404 => 1_245,
                    403 => 919,
                    429 => 139,
                    _ => 915,
                };
                content_type = if cat == Cat::Api { "application/json" } else { "text/html" };
                content_len = Some(body);
                origin = matches!(status, 404 | 403) && detailed == "Error" && rng.chance(0.7);
            }
            Outcome::Ok => {
                body = full;
                content_len = Some(full);
                if cat == Cat::WebSocket {
                    status = 101;
                    (result, detailed) = ("Miss", "Miss");
                    body = object_size(rng, 40_000.0, 1.5);
                    content_type = "-";
                    content_len = None;
                    origin = true;
                    origin_ms = (60.0, 0.6);
                } else if cat == Cat::Redirect {
                    status = 302;
                    (result, detailed) = ("Miss", "Miss");
                    content_type = "text/html;%20charset=utf-8";
                    body = 0;
                    content_len = Some(0);
                    origin = true;
                } else if !cacheable {
                    status = match rec.method {
                        "OPTIONS" | "DELETE" => 204,
                        "POST" if rng.chance(0.3) => 201,
                        _ => 200,
                    };
                    (result, detailed) = ("Miss", "Miss");
                    if status == 204 {
                        content_type = "-";
                        content_len = None;
                        body = 0;
                    }
                    origin = true;
                    origin_ms = (120.0, 0.7);
                } else {
                    let r = rng.unit();
                    let hit = cat.hit_rate();
                    if r < hit {
                        (result, detailed) = ("Hit", "Hit");
                        origin = false;
                    } else if r < hit + (1.0 - hit) * 0.12 {
                        (result, detailed) = ("RefreshHit", "RefreshHit");
                        origin = true;
                        origin_ms = (70.0, 0.6);
                    } else if cat != Cat::Api && rng.chance(0.35) {
                        (result, detailed) = ("Miss", "OriginShieldHit");
                        origin = true;
                        origin_ms = (28.0, 0.6);
                    } else {
                        (result, detailed) = ("Miss", "Miss");
                        origin = true;
                        if cat == Cat::Api {
                            origin_ms = (120.0, 0.7);
                        }
                    }
                    status = 200;
                    if conditional {
                        status = 304;
                        body = 0;
                        content_type = "-";
                        content_len = None;
                    } else if ranged && full > 2 {
                        let chunk: u64 = if cat == Cat::Download { 1 << 20 } else { 1 << 18 };
                        let start = if full > chunk { rng.below(full / chunk) * chunk } else { rng.below(full / 2) };
                        let end = (start + chunk - 1).min(full - 1);
                        rec.range = Some((start, end));
                        status = 206;
                        body = end - start + 1;
                        content_len = Some(body);
                    } else if cat == Cat::Api && rng.chance(0.5) {
                        content_len = None; // chunked
                    }
                }
                if rec.method == "HEAD" {
                    body = 0; // Content-Length still announces the object
                }
            }
        }
        let origin_bytes = if rec.method == "HEAD" || status == 304 { 0 } else { body };
        let response_result = result;
        // The viewer went away mid-response: Error, though the response itself was fine.
        let cut_short = (matches!(cat, Cat::Segment | Cat::Download) && rng.chance(0.02)) || rng.chance(0.001);
        if outcome == Outcome::Ok && body > 0 && status != 101 && cut_short {
            result = "Error";
            detailed = "ClientCommError";
            body = rng.below(body) + 1;
        }
        rec.status = status;
        rec.result = result;
        rec.response_result = response_result;
        rec.detailed = detailed;
        rec.content_type = content_type;
        rec.content_len = content_len;

        // Latencies in fractional milliseconds, rounded once at the end (rounding is
        // monotonic, so ttfb <= time-taken and fbl <= lbl survive it).
        let viewer_rate = rng.lognormal(5_000.0, 0.8); // bytes per ms (~40 Mbit/s)
        let xfer = body as f64 / viewer_rate;
        let mut ttfb = None;
        let mut fbl_lbl = None;
        let taken = match outcome {
            Outcome::HungUp => rng.lognormal(400.0, 1.5),
            Outcome::HttpsRedirect => {
                let t = rng.lognormal(1.0, 0.6);
                ttfb = Some(t);
                t + rng.lognormal(3.0, 0.8)
            }
            _ if cat == Cat::WebSocket && status == 101 => {
                let f = rng.lognormal(origin_ms.0, origin_ms.1);
                let session = f + rng.lognormal(90_000.0, 1.4);
                fbl_lbl = Some((f, session - 1.0));
                ttfb = Some(f + 1.0);
                session
            }
            _ if origin => {
                let f = rng.lognormal(origin_ms.0, origin_ms.1);
                let l = f + origin_bytes as f64 / rng.lognormal(30_000.0, 0.7) + rng.lognormal(0.8, 0.5);
                fbl_lbl = Some((f, l));
                let t = f + rng.lognormal(1.5, 0.5);
                ttfb = Some(t);
                t.max(l) + rng.lognormal(12.0, 1.0) + xfer * 0.7
            }
            Outcome::Server5xx => {
                let t = match detailed {
                    "OriginConnectError" => rng.lognormal(2_000.0, 1.2).min(10_200.0),
                    "OriginDnsError" => rng.lognormal(60.0, 0.8),
                    "OriginCommError" | "OriginReadError" => 30_000.0 + rng.lognormal(40.0, 1.0),
                    _ => rng.lognormal(2.0, 0.5),
                };
                ttfb = Some(t);
                t + rng.lognormal(2.0, 0.5)
            }
            _ => {
                let t = rng.lognormal(2.0, 0.9);
                ttfb = Some(t);
                t + rng.lognormal(14.0, 1.0) + xfer
            }
        };
        let ms = |x: f64| x.round() as u64;
        rec.taken = ms(taken);
        rec.ttfb = ttfb.map(ms);
        rec.ofbl = fbl_lbl.map(|(f, _)| ms(f));
        rec.olbl = fbl_lbl.map(|(_, l)| ms(l));

        // Referer, cookie, x-forwarded-for.
        rec.referer.clear();
        rec.cookie.clear();
        rec.xff.clear();
        if browser {
            let external = match cat {
                Cat::Html | Cat::Redirect => rng.unit(),
                Cat::Download | Cat::Misc => 0.4 + 0.35 * rng.unit(),
                _ => 0.4 + 0.36 * rng.unit() / 0.96,
            };
            if external < 0.4 {
                rec.referer.extend_from_slice(rng.pick(EXTERNAL_REFERERS).as_bytes());
            } else if external < 0.75 {
                internal_referer(w, rng, &mut rec.referer);
            }
        }
        if (browser && rng.chance(0.05)) || (kind == AgentKind::App && rng.chance(0.5)) {
            rec.cookie.extend_from_slice(b"sid=");
            for _ in 0..2 {
                let v = rng.next_u64();
                for s in (0..60).step_by(6) {
                    rec.cookie.push(B64URL[((v >> s) & 63) as usize]);
                }
            }
            rec.cookie.extend_from_slice(b";%20consent=1;%20theme=");
            rec.cookie.extend_from_slice(if rng.chance(0.3) { b"dark" } else { b"light" });
        }
        let xr = rng.unit();
        if xr < 0.08 {
            rec.xff.extend_from_slice(ipv4(rng).as_bytes());
            if xr < 0.02 {
                rec.xff.push(b',');
                rec.xff.extend_from_slice(ipv4(rng).as_bytes());
            }
        }

        let req_body = request_headers(rec, rng, client, agent, cat, conditional, etag);
        let h2 = matches!(rec.proto_ver, "HTTP/2.0" | "HTTP/3.0");


        // Request size: request line + headers (HPACK/QPACK shrink them) + body.
        let raw = (rec.method.len() + rec.path.len() + rec.query.len() + 12 + rec.hdr.values.len()) as u64;
        rec.cs_bytes = if h2 { raw * 2 / 5 + 9 } else { raw } + req_body;
        let resp_headers = if h2 { rng.range(120, 360) } else { rng.range(260, 620) };
        rec.sc_bytes = if status == 0 { 0 } else { resp_headers + body };

        request_id(rng, &mut rec.request_id);

        // CMCD, from the half of the HLS players that send it.
        rec.cmcd = None;
        if let Some(v) = video
            && browser
            && ci % 2 == 0
        {
            let buffer_ms = rng.lognormal(12_000.0, 0.6) as u32 / 100 * 100;
            rec.cmcd = Some(Cmcd {
                bitrate: v.kbps,
                buffer_ms,
                starved: rng.chance(0.03),
                content: v.id,
                duration_ms: 4004,
                deadline_ms: buffer_ms,
                throughput: (rng.lognormal(25_000.0, 0.7) as u32 / 100 * 100).max(100),
                next_seg: v.seg + 1,
                manifest: cat == Cat::Playlist,
                startup: v.seg <= 2,
            });
        }
    }
}
