//! The world a run draws from, built once per seed: URLs (Zipf-ranked, with HLS
//! renditions and downloads), viewers with their address, edge, country, ASN, agent and
//! TLS, the heavy hitters (a scraper and two crawlers), edges' server addresses and the
//! distributions.

use crate::rng::{Cdf, Rng};
use crate::tables::*;
use crate::text::{alnum_string, cf_encode, hex_string};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Video {
    pub(crate) id: u32,
    pub(crate) kbps: u32,
    pub(crate) seg: u32,
}

#[derive(Debug)]
pub(crate) struct Url {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) cat: Cat,
    pub(crate) site: u8,
    pub(crate) size: u64,
    pub(crate) ctype: &'static str,
    pub(crate) video: Option<Video>,
    pub(crate) etag: u64,
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub(crate) ua: String,
    pub(crate) kind: AgentKind,
    pub(crate) sec_ch_ua: String,
    pub(crate) platform: String,
    pub(crate) mobile: bool,
}

#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) ip: String,
    pub(crate) v6: bool,
    pub(crate) edge: usize,
    pub(crate) country: &'static str,
    pub(crate) asn: u32,
    pub(crate) agent: usize,
    pub(crate) lang: &'static str,
    pub(crate) tls13: bool,
    pub(crate) cipher: &'static str,
    pub(crate) session: String,
}

#[derive(Debug)]
pub(crate) struct Edge {
    pub(crate) code: &'static str,
    pub(crate) s_ip4: Vec<String>,
    pub(crate) s_ip6: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Dist {
    pub(crate) domain: String,
    pub(crate) id: String,
}

pub(crate) fn ipv4(rng: &mut Rng) -> String {
    let a = loop {
        let a = rng.range(1, 223);
        if ![10, 100, 127, 169, 172, 192, 198, 203].contains(&a) {
            break a;
        }
    };
    format!("{a}.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254))
}

pub(crate) fn ipv6(rng: &mut Rng, prefix: &str) -> String {
    let mut s = String::from(prefix);
    let groups: Vec<String> = (0..7).map(|_| format!("{:x}", rng.below(0x1_0000))).collect();
    if rng.chance(0.25) {
        // Zero-compressed form: prefix:a:b:c::d
        s.push_str(&format!(":{}:{}:{}::{}", groups[0], groups[1], groups[2], groups[6]));
    } else {
        for g in &groups {
            s.push(':');
            s.push_str(g);
        }
    }
    s
}

pub(crate) const V6_PREFIXES: &[&str] =
    &["2a02", "2a01", "2001", "2600", "2601", "2603", "2406", "2400", "2409", "240e", "2804", "2c0f", "2a00", "2605"];

#[derive(Debug)]
pub(crate) struct World {
    pub(crate) urls: Vec<Url>,
    pub(crate) url_cdf: Cdf,
    pub(crate) html: Vec<usize>,
    pub(crate) agents: Vec<Agent>,
    pub(crate) clients: Vec<Client>,
    pub(crate) client_cdf: Cdf,
    pub(crate) edges: Vec<Edge>,
    pub(crate) dists: Vec<Dist>,
    pub(crate) missing: Vec<String>,
    pub(crate) session_url: usize,
    pub(crate) scraper: usize,
    pub(crate) googlebot: usize,
    pub(crate) bingbot: usize,
}

impl World {
    pub(crate) fn new(rng: &mut Rng) -> World {
        let lower = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let dists = (0..5)
            .map(|_| Dist {
                domain: format!("d{}.cloudfront.net", alnum_string(rng, 13, lower)),
                id: format!("E{}", alnum_string(rng, 13, upper)),
            })
            .collect();
        let edges: Vec<Edge> = EDGES
            .iter()
            .enumerate()
            .map(|(i, (code, _, _))| {
                let (a, b) = [(18, 64), (13, 32), (3, 160), (108, 156), (54, 230), (52, 84)][i % 6];
                Edge {
                    code,
                    s_ip4: (0..4)
                        .map(|_| format!("{a}.{}.{}.{}", b + rng.below(4), rng.below(256), rng.range(1, 254)))
                        .collect(),
                    s_ip6: (0..4)
                        .map(|_| {
                            format!(
                                "2600:9000:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                                0x2000 + i * 0x40 + rng.below(0x40) as usize,
                                rng.below(0x1_0000),
                                rng.below(0x1_0000),
                                rng.below(0x1_0000),
                                rng.below(0x1_0000),
                                rng.range(1, 0xffff)
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        let agents: Vec<Agent> = AGENTS
            .iter()
            .map(|a| Agent {
                ua: cf_encode(a.ua),
                kind: a.kind,
                sec_ch_ua: a.brands.map(cf_encode).unwrap_or_default(),
                platform: cf_encode(a.platform),
                mobile: a.mobile,
            })
            .collect();
        let urls = build_urls(rng);
        let session_url = urls.iter().position(|u| u.path == "/api/v1/session").expect("the session URL is hot");
        let html = urls.iter().enumerate().filter(|(_, u)| u.cat == Cat::Html).map(|(i, _)| i).collect();
        let url_cdf = Cdf::zipf(urls.len(), 1.1);

        let edge_table: Vec<(usize, u32)> = EDGES.iter().enumerate().map(|(i, e)| (i, e.1)).collect();
        let agent_table: Vec<(usize, u32)> = AGENTS.iter().enumerate().map(|(i, a)| (i, a.weight)).collect();
        let mut clients = Vec::with_capacity(3003);
        for _ in 0..3000 {
            let edge = *rng.pick(&edge_table);
            let country = *rng.pick(EDGES[edge].2);
            let asn = *rng.pick(country_asns(country));
            let agent = *rng.pick(&agent_table);
            let v6 = rng.chance(if AGENTS[agent].mobile { 0.2 } else { 0.11 });
            let ip = if v6 {
                let prefix = V6_PREFIXES[rng.below(V6_PREFIXES.len() as u64) as usize];
                ipv6(rng, prefix)
            } else {
                ipv4(rng)
            };
            clients.push(new_client(rng, ip, v6, edge, country, asn, agent));
        }
        let scraper = clients.len();
        let ip = format!("3.{}.{}.{}", 80 + rng.below(16), rng.below(256), rng.range(1, 254));
        clients.push(new_client(rng, ip, false, 0, "US", 16509, UA_PYTHON));
        let googlebot = clients.len();
        let ip = format!("66.249.66.{}", rng.range(1, 200));
        clients.push(new_client(rng, ip, false, 2, "US", 15169, UA_GOOGLEBOT));
        let bingbot = clients.len();
        let ip = format!("157.55.39.{}", rng.range(1, 250));
        clients.push(new_client(rng, ip, false, 7, "US", 8075, UA_BINGBOT));
        for c in &mut clients[googlebot..] {
            c.tls13 = true;
            c.cipher = "TLS_AES_128_GCM_SHA256";
        }
        // Regular viewers: a mild Zipf (s = 0.6) over the 3,000 (the heavy hitters are drawn apart).
        let client_cdf = Cdf::zipf(3000, 0.6);
        let mut missing: Vec<String> = MISSING_PATHS.iter().map(|p| cf_encode(p)).collect();
        missing.push(cf_encode("/search/\"><script>alert(1)</script>"));
        World {
            urls,
            url_cdf,
            html,
            agents,
            clients,
            client_cdf,
            edges,
            dists,
            missing,
            session_url,
            scraper,
            googlebot,
            bingbot,
        }
    }
}

pub(crate) fn new_client(
    rng: &mut Rng,
    ip: String,
    v6: bool,
    edge: usize,
    country: &'static str,
    asn: u32,
    agent: usize,
) -> Client {
    let tls13 = rng.chance(0.88);
    let cipher = if tls13 { *rng.pick(TLS13_CIPHERS) } else { *rng.pick(TLS12_CIPHERS) };
    let session = format!(
        "{}-{}-4{}-{}{}-{}",
        hex_string(rng, 8),
        hex_string(rng, 4),
        hex_string(rng, 3),
        ["8", "9", "a", "b"][rng.below(4) as usize],
        hex_string(rng, 3),
        hex_string(rng, 12)
    );
    Client { ip, v6, edge, country, asn, agent, lang: country_language(country), tls13, cipher, session }
}

pub(crate) fn object_size(rng: &mut Rng, median: f64, sigma: f64) -> u64 {
    (rng.lognormal(median, sigma) as u64).max(64)
}

pub(crate) fn push_url(urls: &mut Vec<Url>, rng: &mut Rng, cat: Cat, site: u8, raw: &str, ctype: &'static str, size: u64) {
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (cf_encode(p), cf_encode(q)),
        None => (cf_encode(raw), String::new()),
    };
    urls.push(Url { path, query, cat, site, size, ctype, video: None, etag: rng.next_u64() });
}

pub(crate) const SLUG_WORDS: &[&str] = &[
    "winter", "jacket", "trail", "runner", "classic", "leather", "boots", "merino", "wool", "sweater", "linen",
    "shirt", "canvas", "tote", "denim", "rain", "shell", "down", "vest", "hiking", "socks", "cotton", "hoodie",
    "summer", "dress", "ceramic", "mug", "travel", "backpack", "field", "notes",
];

pub(crate) fn slug(rng: &mut Rng) -> String {
    let n = rng.range(2, 4);
    let words: Vec<&str> = (0..n).map(|_| SLUG_WORDS[rng.below(SLUG_WORDS.len() as u64) as usize]).collect();
    words.join("-")
}

pub(crate) fn build_urls(rng: &mut Rng) -> Vec<Url> {
    use Cat::*;
    const JS: &str = "application/javascript";
    const HTML: &str = "text/html;%20charset=utf-8";
    const JSON: &str = "application/json";
    let mut hot: Vec<Url> = Vec::new();
    let h = |rng: &mut Rng| hex_string(rng, 8);
    let app = format!("/assets/app.{}.js", h(rng));
    let vendor = format!("/assets/vendor.{}.js", h(rng));
    let css = format!("/assets/main.{}.css", h(rng));
    let font = format!("/fonts/inter-var.{}.woff2", h(rng));
    push_url(&mut hot, rng, Js, SITE_STATIC, &app, JS, 48_311);
    push_url(&mut hot, rng, Js, SITE_STATIC, &vendor, JS, 97_874);
    push_url(&mut hot, rng, Css, SITE_STATIC, &css, "text/css", 14_203);
    push_url(&mut hot, rng, Html, SITE_WWW, "/", HTML, 38_114);
    push_url(&mut hot, rng, Image, SITE_STATIC, "/images/logo.svg", "image/svg+xml", 4_211);
    push_url(&mut hot, rng, Misc, SITE_WWW, "/favicon.ico", "image/x-icon", 15_086);
    push_url(&mut hot, rng, Api, SITE_API, "/api/v1/session", JSON, 412);
    push_url(&mut hot, rng, Font, SITE_STATIC, &font, "font/woff2", 46_332);
    let mut master = Vec::new();
    push_url(&mut master, rng, Playlist, SITE_MEDIA, "/video/7731/master.m3u8", "application/vnd.apple.mpegurl", 612);
    master[0].video = Some(Video { id: 7731, kbps: 0, seg: 0 });
    hot.append(&mut master);
    push_url(&mut hot, rng, Api, SITE_API, "/api/v1/items?page=1&limit=24", JSON, 9_870);
    push_url(&mut hot, rng, Html, SITE_WWW, "/products", HTML, 41_220);
    push_url(&mut hot, rng, Image, SITE_STATIC, "/images/banners/hero-winter.webp", "image/webp", 88_410);

    let mut rest: Vec<Url> = Vec::new();
    for i in 0..100 {
        let p = format!("/assets/chunk-{}.{}.js", 100 + i, h(rng));
        let size = object_size(rng, 30_000.0, 1.0);
        push_url(&mut rest, rng, Js, SITE_STATIC, &p, JS, size);
    }
    for i in 0..30 {
        let p = format!("/assets/chunk-{}.{}.css", 100 + i, h(rng));
        let size = object_size(rng, 12_000.0, 0.8);
        push_url(&mut rest, rng, Css, SITE_STATIC, &p, "text/css", size);
    }
    for name in ["inter-400", "inter-600", "inter-700", "mono-400", "icons"] {
        for ext in ["woff2", "woff"] {
            let p = format!("/fonts/{name}.{}.{ext}", h(rng));
            let size = object_size(rng, 40_000.0, 0.3);
            push_url(
                &mut rest,
                rng,
                Font,
                SITE_STATIC,
                &p,
                if ext == "woff2" { "font/woff2" } else { "font/woff" },
                size,
            );
        }
    }
    let mut product_ids: Vec<u64> = (0..2300).map(|_| rng.range(1000, 98_000)).collect();
    product_ids.dedup();
    for (n, id) in product_ids.iter().enumerate() {
        let (p, ct, med) = match n % 4 {
            0 | 1 => (format!("/images/p/{id}.jpg"), "image/jpeg", 60_000.0),
            2 => (format!("/images/p/{id}-thumb.webp"), "image/webp", 9_000.0),
            _ => (format!("/images/p/{id}@2x.png"), "image/png", 140_000.0),
        };
        let size = object_size(rng, med, 0.9);
        push_url(&mut rest, rng, Image, SITE_STATIC, &p, ct, size);
    }
    for i in 0..180 {
        let p = format!("/images/icons/{}-{i}.svg", SLUG_WORDS[i % SLUG_WORDS.len()]);
        let size = object_size(rng, 2_500.0, 0.7);
        push_url(&mut rest, rng, Image, SITE_STATIC, &p, "image/svg+xml", size);
    }
    // Viewer-sent escapes and raw characters that CloudFront re-encodes.
    for raw in [
        "/images/gallery/summer sale/banner.jpg",
        "/images/gallery/summer%20sale/banner-2.jpg",
        "/images/press/caf%C3%A9-opening.jpg",
    ] {
        let size = object_size(rng, 120_000.0, 0.5);
        push_url(&mut rest, rng, Image, SITE_STATIC, raw, "image/jpeg", size);
    }
    for i in 0..900 {
        let raw = match i % 9 {
            0..=4 => format!("/products/{}-{}", slug(rng), rng.range(1000, 98_000)),
            5 | 6 => format!("/blog/{}/{}", 2019 + i % 8, slug(rng)),
            7 => format!("/category/{}", SLUG_WORDS[rng.below(SLUG_WORDS.len() as u64) as usize]),
            _ => match i % 5 {
                0 => format!("/search?q={}+{}", SLUG_WORDS[i % 31], SLUG_WORDS[(i / 7) % 31]),
                1 => format!("/search?q={}%20{}&page={}", SLUG_WORDS[i % 31], SLUG_WORDS[(i / 3) % 31], i % 7 + 1),
                2 => format!("/products/{}?utm_source=newsletter&utm_medium=email&utm_campaign=fall-{}", slug(rng), i),
                3 => format!("/category/{}?sort=price&filter={{\"size\":{}}}", SLUG_WORDS[i % 31], 36 + i % 12),
                _ => format!("/blog/{}/{}?ref=home", 2020 + i % 6, slug(rng)),
            },
        };
        let size = object_size(rng, 38_000.0, 0.4);
        push_url(&mut rest, rng, Html, SITE_WWW, &raw, HTML, size);
    }
    for raw in [
        "/search?q=\"gift card\"",
        "/search?q=caf%C3%A9 latte",
        "/blog/2026/caf%C3%A9-guide",
        "/~team/index.html",
        "/downloads/Annual%20Report%202025.pdf",
        "/about",
        "/contact",
        "/cart",
        "/checkout",
        "/account/orders",
    ] {
        let pdf = raw.ends_with(".pdf");
        let (cat, ct, size) =
            if pdf { (Download, "application/pdf", 4_812_553) } else { (Html, HTML, object_size(rng, 30_000.0, 0.3)) };
        push_url(&mut rest, rng, cat, SITE_WWW, raw, ct, size);
    }
    for i in 0..700u64 {
        let raw = match i % 7 {
            0..=2 => format!("/api/v1/items/{}", rng.range(1, 20_000)),
            3 => format!("/api/v1/items?page={}&limit=24", i % 40 + 2),
            4 => format!("/api/v1/reviews?item={}&sort=recent", rng.range(1000, 98_000)),
            5 => format!("/api/v2/recommendations?user={}&n=12", rng.range(100_000, 999_999)),
            _ => match i % 3 {
                0 => format!(
                    "/api/v1/search?q={}%20{}",
                    SLUG_WORDS[(i % 31) as usize],
                    SLUG_WORDS[(i / 5 % 31) as usize]
                ),
                1 => String::from("/api/v1/files/docs%2Freport-2025.pdf"),
                _ => String::from("/api/v1/cart"),
            },
        };
        push_url(&mut rest, rng, Api, SITE_API, &raw, JSON, 0);
    }
    let videos: Vec<u32> = (0..6).map(|_| rng.range(1000, 9999) as u32).collect();
    for &vid in videos.iter().chain([7731].iter()) {
        for kbps in [6000u32, 3000, 1200, 800] {
            let raw = format!("/video/{vid}/{}p/index.m3u8", rendition(kbps));
            push_url(&mut rest, rng, Playlist, SITE_MEDIA, &raw, "application/vnd.apple.mpegurl", 2_400);
            rest.last_mut().expect("just pushed").video = Some(Video { id: vid, kbps, seg: 0 });
        }
    }
    for i in 0..700u32 {
        let vid = if i % 2 == 0 { 7731 } else { videos[(i / 2) as usize % videos.len()] };
        let kbps = [6000u32, 3000, 3000, 1200, 800][(i % 5) as usize];
        let seg = i / 5 + 1;
        let raw = format!("/video/{vid}/{}p/seg-{seg:05}.ts", rendition(kbps));
        let size = (f64::from(kbps) * 1000.0 / 8.0 * 4.004 * (0.8 + 0.4 * rng.unit())) as u64;
        push_url(&mut rest, rng, Segment, SITE_MEDIA, &raw, "video/MP2T", size);
        rest.last_mut().expect("just pushed").video = Some(Video { id: vid, kbps, seg });
    }
    for (name, ct, med) in [
        ("cflog-setup-2.4.1.exe", "application/octet-stream", 48_000_000.0),
        ("cflog-2.4.1-x86_64.tar.gz", "application/gzip", 21_000_000.0),
        ("cflog-2.4.1.dmg", "application/octet-stream", 52_000_000.0),
        ("catalog-fall-2026.pdf", "application/pdf", 9_000_000.0),
        ("press-kit.zip", "application/zip", 120_000_000.0),
        ("datasheet.pdf", "application/pdf", 800_000.0),
    ] {
        let size = object_size(rng, med, 0.1);
        push_url(&mut rest, rng, Download, SITE_MEDIA, &format!("/downloads/{name}"), ct, size);
    }
    for (raw, ct, size) in [
        ("/robots.txt", "text/plain", 68),
        ("/sitemap.xml", "application/xml", 25_410),
        ("/manifest.json", JSON, 612),
        ("/apple-touch-icon.png", "image/png", 9_120),
    ] {
        push_url(&mut rest, rng, Misc, SITE_WWW, raw, ct, size);
    }
    rng.shuffle(&mut rest);
    let mut urls = hot;
    urls.append(&mut rest);
    // A WebSocket endpoint at rank 20 (~0.6 % of requests) and an open redirect at ~300.
    let mut ws = Vec::new();
    push_url(&mut ws, rng, WebSocket, SITE_API, "/ws/live?channel=prices", "-", 0);
    urls.insert(19, ws.remove(0));
    push_url(
        &mut ws,
        rng,
        Redirect,
        SITE_WWW,
        "/r?url=http%3A%2F%2Fpartner.example.net%2Foffer%3Fid%3D7%26src%3Dmail",
        "text/html",
        0,
    );
    urls.insert(299, ws.remove(0));
    urls
}

pub(crate) fn rendition(kbps: u32) -> u32 {
    match kbps {
        6000 => 1080,
        3000 => 720,
        1200 => 480,
        _ => 360,
    }
}
