//! Synthetic CloudFront logs for demos, tests and benchmarks.
//!
//! [`generate`] writes real-time records (TAB-separated, one per line, no header) or a
//! standard W3C log (`#Version`/`#Fields` header, then TAB-separated rows) from a seeded
//! model of a small web property: four sites behind four distributions (plus a
//! continuous-deployment staging copy of one), ~5,000 URLs drawn from a Zipf law, a few
//! thousand viewers with a scraper and two crawlers among the heavy hitters, ~26 edge
//! locations with matching countries and ASNs, realistic status/cache mixes and
//! lognormal latencies.
//!
//! The output is a pure function of [`GenOptions`]: the PRNG (xoshiro256**) is
//! implemented here, integers are formatted by hand, and the only transcendental
//! functions come from the pure-Rust `libm` crate, so the bytes do not depend on the
//! platform's C math library or on the Rust release.

use std::io::{self, Write};

use cflog_core::{Field, Format, Schema};

/// 2026-11-01T00:00:00Z in epoch milliseconds, the default start of the generated traffic.
pub const DEFAULT_START_MS: i64 = 1_793_491_200_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Real-time records or a standard (W3C) log.
    pub format: Format,
    /// The columns to write. `None`: the 46-field real-time release
    /// ([`Schema::realtime_release`]`(46)`) or the 33-column standard layout
    /// ([`Schema::standard_default`]). Its format must match `format`.
    pub schema: Option<Schema>,
    /// How many records.
    pub lines: u64,
    /// PRNG seed: the same options always give the same bytes.
    pub seed: u64,
    /// Time of the first request, epoch milliseconds (UTC); from 1970 to year 9999.
    pub start_ms: i64,
    /// Mean request rate; inter-arrival times are exponential.
    pub requests_per_second: f64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            format: Format::RealTime,
            schema: None,
            lines: 1000,
            seed: 1,
            start_ms: DEFAULT_START_MS,
            requests_per_second: 200.0,
        }
    }
}

impl GenOptions {
    /// The schema that will be written: the given one or the format's default.
    pub fn effective_schema(&self) -> Schema {
        match (&self.schema, self.format) {
            (Some(s), _) => s.clone(),
            (None, Format::RealTime) => Schema::realtime_release(46).expect("release 46 exists"),
            (None, Format::Standard) => Schema::standard_default(),
        }
    }
}

/// Writes `opts.lines` generated records to `out` (flushed at the end).
///
/// Output is assembled in an internal 64 KiB buffer and handed to `out` in large
/// `write_all` calls; wrap files or stdout in a `BufWriter` anyway if they are written
/// elsewhere too.
pub fn generate<W: Write>(opts: &GenOptions, mut out: W) -> io::Result<()> {
    let schema = opts.effective_schema();
    if schema.format() != opts.format {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the schema is a {} schema but the format is {}", schema.format().name(), opts.format.name()),
        ));
    }
    if !(0..MAX_START_MS).contains(&opts.start_ms) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "start_ms must be between 1970 and year 9999"));
    }
    if !(opts.requests_per_second.is_finite() && opts.requests_per_second > 0.0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "requests_per_second must be a positive number"));
    }
    let plan: Vec<Option<Field>> = schema.columns().iter().map(|c| c.field).collect();
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8192);
    if opts.format == Format::Standard {
        buf.extend_from_slice(b"#Version: 1.0\n#Fields:");
        for name in schema.names() {
            buf.push(b' ');
            buf.extend_from_slice(name.as_bytes());
        }
        buf.push(b'\n');
    }
    let mut g = Generator::new(opts);
    let mut rec = Rec::default();
    for _ in 0..opts.lines {
        g.next_record(&mut rec);
        g.write_record(&rec, &plan, &mut buf);
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

const FLUSH_AT: usize = 64 * 1024;

/// 9000-01-01T00:00:00Z: leaves room for the traffic to run on without reaching year 10000.
const MAX_START_MS: i64 = 221_845_392_000_000;

// ---------------------------------------------------------------------------------------
// PRNG and distributions

/// xoshiro256** seeded through SplitMix64.
#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        Rng { s, spare: None }
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`), by the multiply-shift method.
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Marsaglia's polar method: only `ln` and `sqrt`).
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * libm::log(s) / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// Lognormal with the given median and shape.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.normal())
    }

    /// Exponential with the given mean.
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit())
    }

    fn pick<'t, T>(&mut self, table: &'t [(T, u32)]) -> &'t T {
        let total: u32 = table.iter().map(|(_, w)| *w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in table {
            if r < *w {
                return item;
            }
            r -= *w;
        }
        &table[table.len() - 1].0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A discrete distribution over `0..n` from integer weights, sampled by binary search.
#[derive(Debug, Clone)]
struct Cdf {
    cum: Vec<u64>,
}

impl Cdf {
    fn new(weights: impl IntoIterator<Item = u64>) -> Cdf {
        let mut total = 0u64;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Cdf { cum }
    }

    /// Zipf weights `k^-s`, k = 1..=n, scaled to integers (via pure-Rust `libm`).
    fn zipf(n: usize, s: f64) -> Cdf {
        Cdf::new((1..=n).map(|k| (libm::exp(-s * libm::log(k as f64)) * (1u64 << 40) as f64) as u64 + 1))
    }

    #[inline]
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cum.last().expect("non-empty distribution");
        let r = rng.below(total);
        self.cum.partition_point(|&c| c <= r)
    }
}

// ---------------------------------------------------------------------------------------
// Text helpers

/// CloudFront's log encoding: bytes 0–32, 127 and above, and `<>"#%{}|\^~[]`, backtick
/// and `'` become `%XX`. A viewer's own `%XX` escapes therefore come out as `%25XX`.
fn cf_encode(raw: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(raw.len() + 16);
    for &b in raw.as_bytes() {
        let escape = b <= 32 || b >= 127 || b"<>\"#%{}|\\^~[]`'".contains(&b);
        if escape {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

#[inline]
fn push_u64(buf: &mut Vec<u8>, n: u64) {
    cflog_core::json::write_u64(buf, n);
}

#[inline]
fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `n` zero-padded to `width` digits (n must fit).
#[inline]
fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut n = n;
    for i in (20 - width..20).rev() {
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.extend_from_slice(&tmp[20 - width..]);
}

/// Milliseconds as decimal seconds with exactly three decimals (`0.140`).
#[inline]
fn push_secs3(buf: &mut Vec<u8>, ms: u64) {
    push_u64(buf, ms / 1000);
    buf.push(b'.');
    push_padded(buf, ms % 1000, 3);
}

#[inline]
fn push_opt_secs3(buf: &mut Vec<u8>, ms: Option<u64>) {
    match ms {
        Some(ms) => push_secs3(buf, ms),
        None => buf.push(b'-'),
    }
}

#[inline]
fn push_opt_u64(buf: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => push_u64(buf, n),
        None => buf.push(b'-'),
    }
}

#[inline]
fn push_or_dash(buf: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() { buf.push(b'-') } else { buf.extend_from_slice(s) }
}


fn hex_string(rng: &mut Rng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..len).map(|_| HEX[rng.below(16) as usize] as char).collect()
}

fn alnum_string(rng: &mut Rng, len: usize, alphabet: &[u8]) -> String {
    (0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize] as char).collect()
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 40 random bytes as URL-safe base64: 54 characters and `==` (an `x-edge-request-id`).
fn request_id(rng: &mut Rng, out: &mut [u8; 56]) {
    let mut bytes = [0u8; 40];
    for chunk in bytes.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let mut o = 0;
    for g in bytes[..39].chunks_exact(3) {
        let n = (u32::from(g[0]) << 16) | (u32::from(g[1]) << 8) | u32::from(g[2]);
        for shift in [18, 12, 6, 0] {
            out[o] = B64URL[((n >> shift) & 63) as usize];
            o += 1;
        }
    }
    let last = bytes[39];
    out[52] = B64URL[usize::from(last >> 2)];
    out[53] = B64URL[usize::from((last & 3) << 4)];
    out[54] = b'=';
    out[55] = b'=';
}

// ---------------------------------------------------------------------------------------
// The world: static tables

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Html,
    Js,
    Css,
    Image,
    Font,
    Api,
    Segment,
    Playlist,
    Download,
    WebSocket,
    Redirect,
    Misc,
}

impl Cat {
    /// Share of cacheable GETs that are edge hits.
    fn hit_rate(self) -> f64 {
        match self {
            Cat::Js | Cat::Css | Cat::Font => 0.95,
            Cat::Image => 0.9,
            Cat::Segment => 0.88,
            Cat::Misc => 0.85,
            Cat::Download => 0.75,
            Cat::Playlist => 0.55,
            Cat::Html => 0.55,
            Cat::Api => 0.2,
            Cat::WebSocket | Cat::Redirect => 0.0,
        }
    }

    fn behavior(self) -> &'static str {
        match self {
            Cat::Js | Cat::Css => "/assets/*",
            Cat::Font => "/fonts/*",
            Cat::Image => "/images/*",
            Cat::Api => "/api/*",
            Cat::Segment | Cat::Playlist => "/video/*",
            Cat::Download => "/downloads/*",
            Cat::WebSocket => "/ws/*",
            Cat::Html | Cat::Redirect | Cat::Misc => "*",
        }
    }

    /// `(accept, sec-fetch-dest, sec-fetch-mode)` a browser sends for this kind of URL.
    fn browser_accept(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Cat::Html | Cat::Redirect => (
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
                "document",
                "navigate",
            ),
            Cat::Image | Cat::Misc => {
                ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "image", "no-cors")
            }
            Cat::Css => ("text/css,*/*;q=0.1", "style", "no-cors"),
            Cat::Js => ("*/*", "script", "no-cors"),
            Cat::Font => ("*/*", "font", "cors"),
            Cat::Api => ("application/json,%20text/plain,%20*/*", "empty", "cors"),
            Cat::Segment | Cat::Playlist | Cat::Download => ("*/*", "empty", "cors"),
            Cat::WebSocket => ("-", "websocket", "websocket"),
        }
    }
}

/// (edge location, weight, countries with weights).
type EdgeRow = (&'static str, u32, &'static [(&'static str, u32)]);

const EDGES: &[EdgeRow] = &[
    ("IAD12-P4", 12, &[("US", 95), ("CA", 5)]),
    ("EWR53-C1", 6, &[("US", 95), ("CA", 5)]),
    ("ORD52-C4", 6, &[("US", 92), ("CA", 8)]),
    ("LAX3-C3", 5, &[("US", 85), ("MX", 15)]),
    ("LAX54-P1", 2, &[("US", 80), ("MX", 20)]),
    ("SFO5-C3", 4, &[("US", 95), ("CA", 5)]),
    ("SFO53-P9", 2, &[("US", 100)]),
    ("SEA19-C1", 4, &[("US", 75), ("CA", 25)]),
    ("FRA56-P5", 7, &[("DE", 70), ("AT", 10), ("CH", 10), ("CZ", 10)]),
    ("LHR61-C2", 7, &[("GB", 88), ("IE", 12)]),
    ("CDG52-P2", 4, &[("FR", 85), ("BE", 15)]),
    ("AMS54-C1", 3, &[("NL", 80), ("BE", 20)]),
    ("MAD56-C2", 2, &[("ES", 85), ("PT", 15)]),
    ("WAW51-P4", 2, &[("PL", 100)]),
    ("NRT57-C1", 6, &[("JP", 100)]),
    ("ICN54-C3", 2, &[("KR", 100)]),
    ("HKG54-C1", 2, &[("HK", 60), ("TW", 25), ("CN", 15)]),
    ("SIN2-C1", 3, &[("SG", 30), ("MY", 20), ("ID", 25), ("TH", 15), ("VN", 10)]),
    ("SYD62-P1", 2, &[("AU", 85), ("NZ", 15)]),
    ("BOM52-C1", 3, &[("IN", 100)]),
    ("MAA51-P1", 1, &[("IN", 100)]),
    ("GRU3-C1", 3, &[("BR", 100)]),
    ("EZE50-P4", 1, &[("AR", 85), ("CL", 15)]),
    ("JNB50-C1", 1, &[("ZA", 85), ("NG", 10), ("KE", 5)]),
    ("DXB50-C1", 1, &[("AE", 60), ("SA", 40)]),
    ("TLV50-C2", 1, &[("IL", 100)]),
];

/// Viewer ASNs per country (eyeball networks, with some cloud and VPN egress).
fn country_asns(cc: &str) -> &'static [(u32, u32)] {
    match cc {
        "US" => &[
            (7922, 25),
            (701, 15),
            (7018, 15),
            (20115, 10),
            (21928, 15),
            (16509, 6),
            (15169, 4),
            (8075, 4),
            (13335, 4),
            (14061, 2),
        ],
        "CA" => &[(812, 50), (577, 50)],
        "MX" => &[(8151, 100)],
        "DE" => &[(3320, 50), (3209, 25), (6805, 15), (24940, 6), (13335, 4)],
        "AT" => &[(8447, 100)],
        "CH" => &[(3303, 100)],
        "CZ" => &[(5610, 100)],
        "GB" => &[(2856, 45), (5089, 30), (5607, 25)],
        "IE" => &[(5466, 100)],
        "FR" => &[(3215, 60), (12322, 40)],
        "BE" => &[(5432, 100)],
        "NL" => &[(1136, 55), (33915, 45)],
        "ES" => &[(3352, 100)],
        "PT" => &[(3243, 100)],
        "PL" => &[(5617, 100)],
        "JP" => &[(2516, 40), (4713, 35), (17676, 25)],
        "KR" => &[(4766, 60), (9318, 40)],
        "HK" => &[(4760, 100)],
        "TW" => &[(3462, 100)],
        "CN" => &[(4134, 60), (4837, 40)],
        "SG" => &[(9506, 100)],
        "MY" => &[(4788, 100)],
        "ID" => &[(7713, 100)],
        "TH" => &[(7470, 100)],
        "VN" => &[(7552, 100)],
        "AU" => &[(1221, 60), (4804, 40)],
        "NZ" => &[(9500, 100)],
        "IN" => &[(9498, 50), (55836, 50)],
        "BR" => &[(28573, 55), (18881, 45)],
        "AR" => &[(7303, 100)],
        "CL" => &[(7418, 100)],
        "ZA" => &[(37457, 60), (3741, 40)],
        "NG" => &[(29465, 100)],
        "KE" => &[(33771, 100)],
        "AE" => &[(5384, 100)],
        "SA" => &[(25019, 100)],
        "IL" => &[(8551, 100)],
        _ => &[(16509, 100)],
    }
}

fn country_language(cc: &str) -> &'static str {
    match cc {
        "US" | "CA" => "en-US,en;q=0.9",
        "GB" | "IE" | "AU" | "NZ" | "ZA" | "NG" | "KE" | "SG" | "IN" => "en-GB,en;q=0.9",
        "MX" | "AR" | "CL" | "ES" => "es-ES,es;q=0.9,en;q=0.8",
        "DE" | "AT" | "CH" => "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
        "CZ" => "cs-CZ,cs;q=0.9,en;q=0.8",
        "FR" | "BE" => "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
        "NL" => "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7",
        "PT" | "BR" => "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
        "PL" => "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7",
        "JP" => "ja,en-US;q=0.9,en;q=0.8",
        "KR" => "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
        "HK" | "TW" => "zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7",
        "CN" => "zh-CN,zh;q=0.9",
        "MY" | "ID" | "TH" | "VN" => "en-US,en;q=0.9",
        "AE" | "SA" => "ar,en-US;q=0.9,en;q=0.8",
        "IL" => "he-IL,he;q=0.9,en-US;q=0.8,en;q=0.7",
        _ => "en-US,en;q=0.9",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgentKind {
    Chromium,
    Firefox,
    Safari,
    Googlebot,
    Bingbot,
    OtherBot,
    Curl,
    Python,
    GoHttp,
    App,
}

impl AgentKind {
    fn is_browser(self) -> bool {
        matches!(self, AgentKind::Chromium | AgentKind::Firefox | AgentKind::Safari)
    }
}

/// One user agent: raw UA, kind, pool weight, `sec-ch-ua` brand list (Chromium only),
/// platform (Chromium only; `None` on mobile means `?1`).
struct AgentRow {
    ua: &'static str,
    kind: AgentKind,
    weight: u32,
    brands: Option<&'static str>,
    platform: &'static str,
    mobile: bool,
}

const CHROME_BRANDS: &str = r#""Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99""#;
const EDGE_BRANDS: &str = r#""Chromium";v="142", "Microsoft Edge";v="142", "Not_A Brand";v="99""#;
const SAMSUNG_BRANDS: &str = r#""Chromium";v="130", "Samsung Internet";v="28.0", "Not?A_Brand";v="99""#;

const AGENTS: &[AgentRow] = &[
    AgentRow {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        kind: AgentKind::Chromium,
        weight: 22,
        brands: Some(CHROME_BRANDS),
        platform: "\"Windows\"",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        kind: AgentKind::Chromium,
        weight: 9,
        brands: Some(CHROME_BRANDS),
        platform: "\"macOS\"",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
        kind: AgentKind::Chromium,
        weight: 15,
        brands: Some(CHROME_BRANDS),
        platform: "\"Android\"",
        mobile: true,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
        kind: AgentKind::Chromium,
        weight: 6,
        brands: Some(EDGE_BRANDS),
        platform: "\"Windows\"",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
        kind: AgentKind::Chromium,
        weight: 2,
        brands: Some(SAMSUNG_BRANDS),
        platform: "\"Android\"",
        mobile: true,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        kind: AgentKind::Firefox,
        weight: 5,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        kind: AgentKind::Firefox,
        weight: 1,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
        kind: AgentKind::Safari,
        weight: 6,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        kind: AgentKind::Safari,
        weight: 14,
        brands: None,
        platform: "",
        mobile: true,
    },
    AgentRow {
        ua: "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        kind: AgentKind::Safari,
        weight: 2,
        brands: None,
        platform: "",
        mobile: true,
    },
    AgentRow {
        ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        kind: AgentKind::Googlebot,
        weight: 0,
        brands: None,
        platform: "",
        mobile: true,
    },
    AgentRow {
        ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        kind: AgentKind::Bingbot,
        weight: 0,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        kind: AgentKind::OtherBot,
        weight: 2,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        kind: AgentKind::OtherBot,
        weight: 2,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        kind: AgentKind::OtherBot,
        weight: 2,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow { ua: "curl/8.11.1", kind: AgentKind::Curl, weight: 2, brands: None, platform: "", mobile: false },
    AgentRow { ua: "curl/7.81.0", kind: AgentKind::Curl, weight: 1, brands: None, platform: "", mobile: false },
    AgentRow {
        ua: "python-requests/2.32.3",
        kind: AgentKind::Python,
        weight: 2,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow {
        ua: "Go-http-client/2.0",
        kind: AgentKind::GoHttp,
        weight: 2,
        brands: None,
        platform: "",
        mobile: false,
    },
    AgentRow { ua: "okhttp/4.12.0", kind: AgentKind::App, weight: 7, brands: None, platform: "", mobile: true },
    AgentRow {
        ua: "ExampleShop/5.12.0 (com.example.shop; build:5120; iOS 18.7.0) Alamofire/5.9.1",
        kind: AgentKind::App,
        weight: 6,
        brands: None,
        platform: "",
        mobile: true,
    },
];

const UA_GOOGLEBOT: usize = 10;
const UA_BINGBOT: usize = 11;
const UA_PYTHON: usize = 17;

/// The viewer hosts (`cs-host`); site `i` is served by distribution `i`.
const SITES: &[&str] = &["www.example.com", "static.example.net", "media.example.com", "api.example.com"];
const SITE_WWW: u8 = 0;
const SITE_STATIC: u8 = 1;
const SITE_MEDIA: u8 = 2;
const SITE_API: u8 = 3;
/// Distribution index of the continuous-deployment staging copy of `www`.
const DIST_STAGING: usize = 4;

const EXTERNAL_REFERERS: &[(&str, u32)] = &[
    ("https://www.google.com/", 50),
    ("https://www.bing.com/", 8),
    ("https://duckduckgo.com/", 5),
    ("https://t.co/", 6),
    ("https://www.facebook.com/", 6),
    ("https://l.instagram.com/", 4),
    ("https://www.reddit.com/", 4),
    ("android-app://com.google.android.gm/", 3),
    ("https://news.ycombinator.com/", 2),
];

const TLS13_CIPHERS: &[(&str, u32)] =
    &[("TLS_AES_128_GCM_SHA256", 80), ("TLS_AES_256_GCM_SHA384", 12), ("TLS_CHACHA20_POLY1305_SHA256", 8)];
const TLS12_CIPHERS: &[(&str, u32)] =
    &[("ECDHE-RSA-AES128-GCM-SHA256", 70), ("ECDHE-RSA-AES256-GCM-SHA384", 20), ("ECDHE-RSA-CHACHA20-POLY1305", 10)];

const MISSING_PATHS: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/xmlrpc.php",
    "/wp-admin/setup-config.php",
    "/.git/config",
    "/apple-touch-icon-precomposed.png",
    "/old/catalog.html",
    "/images/p/99999.jpg",
    "/assets/app.0d1e2f3a.js",
    "/cgi-bin/luci/;stok=/locale",
];

// ---------------------------------------------------------------------------------------
// The world: pools built once per run

#[derive(Debug, Clone, Copy)]
struct Video {
    id: u32,
    kbps: u32,
    seg: u32,
}

#[derive(Debug)]
struct Url {
    path: String,
    query: String,
    cat: Cat,
    site: u8,
    size: u64,
    ctype: &'static str,
    video: Option<Video>,
    etag: u64,
}

#[derive(Debug)]
struct Agent {
    ua: String,
    kind: AgentKind,
    sec_ch_ua: String,
    platform: String,
    mobile: bool,
}

#[derive(Debug)]
struct Client {
    ip: String,
    v6: bool,
    edge: usize,
    country: &'static str,
    asn: u32,
    agent: usize,
    lang: &'static str,
    tls13: bool,
    cipher: &'static str,
    session: String,
}

#[derive(Debug)]
struct Edge {
    code: &'static str,
    s_ip4: Vec<String>,
    s_ip6: Vec<String>,
}

#[derive(Debug)]
struct Dist {
    domain: String,
    id: String,
}

fn ipv4(rng: &mut Rng) -> String {
    let a = loop {
        let a = rng.range(1, 223);
        if ![10, 100, 127, 169, 172, 192, 198, 203].contains(&a) {
            break a;
        }
    };
    format!("{a}.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254))
}

fn ipv6(rng: &mut Rng, prefix: &str) -> String {
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

const V6_PREFIXES: &[&str] =
    &["2a02", "2a01", "2001", "2600", "2601", "2603", "2406", "2400", "2409", "240e", "2804", "2c0f", "2a00", "2605"];

#[derive(Debug)]
struct World {
    urls: Vec<Url>,
    url_cdf: Cdf,
    html: Vec<usize>,
    agents: Vec<Agent>,
    clients: Vec<Client>,
    client_cdf: Cdf,
    edges: Vec<Edge>,
    dists: Vec<Dist>,
    missing: Vec<String>,
    session_url: usize,
    scraper: usize,
    googlebot: usize,
    bingbot: usize,
}

impl World {
    fn new(rng: &mut Rng) -> World {
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

fn new_client(
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

fn object_size(rng: &mut Rng, median: f64, sigma: f64) -> u64 {
    (rng.lognormal(median, sigma) as u64).max(64)
}

fn push_url(urls: &mut Vec<Url>, rng: &mut Rng, cat: Cat, site: u8, raw: &str, ctype: &'static str, size: u64) {
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (cf_encode(p), cf_encode(q)),
        None => (cf_encode(raw), String::new()),
    };
    urls.push(Url { path, query, cat, site, size, ctype, video: None, etag: rng.next_u64() });
}

const SLUG_WORDS: &[&str] = &[
    "winter", "jacket", "trail", "runner", "classic", "leather", "boots", "merino", "wool", "sweater", "linen",
    "shirt", "canvas", "tote", "denim", "rain", "shell", "down", "vest", "hiking", "socks", "cotton", "hoodie",
    "summer", "dress", "ceramic", "mug", "travel", "backpack", "field", "notes",
];

fn slug(rng: &mut Rng) -> String {
    let n = rng.range(2, 4);
    let words: Vec<&str> = (0..n).map(|_| SLUG_WORDS[rng.below(SLUG_WORDS.len() as u64) as usize]).collect();
    words.join("-")
}

fn build_urls(rng: &mut Rng) -> Vec<Url> {
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

fn rendition(kbps: u32) -> u32 {
    match kbps {
        6000 => 1080,
        3000 => 720,
        1200 => 480,
        _ => 360,
    }
}

// ---------------------------------------------------------------------------------------
// One record

#[derive(Debug, Clone, Copy)]
struct Cmcd {
    bitrate: u32,
    buffer_ms: u32,
    starved: bool,
    content: u32,
    duration_ms: u32,
    deadline_ms: u32,
    throughput: u32,
    next_seg: u32,
    manifest: bool,
    startup: bool,
}

/// `cs-headers`, `cs-header-names` and `cs-headers-count` being built.
#[derive(Debug, Default)]
struct Headers {
    values: Vec<u8>,
    names: Vec<u8>,
    count: u64,
    full: bool,
}

/// The 800-byte cap CloudFront applies to `cs-headers` and `cs-header-names`. Whole
/// headers that do not fit are left out of `cs-headers` (their names still count).
const HEADERS_CAP: usize = 800;

impl Headers {
    fn clear(&mut self) {
        self.values.clear();
        self.names.clear();
        self.count = 0;
        self.full = false;
    }

    /// A header with its (already encoded) value.
    fn add(&mut self, name: &str, value: &[u8]) {
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
    fn add_name(&mut self, name: &str) {
        self.count += 1;
        if self.names.len() + name.len() + 3 <= HEADERS_CAP {
            self.names.extend_from_slice(name.as_bytes());
            self.names.extend_from_slice(b"%0A");
        }
    }
}

#[derive(Debug)]
struct Rec {
    ts_ms: i64,
    client: usize,
    s_ip: usize,
    ttfb: Option<u64>,
    taken: u64,
    ofbl: Option<u64>,
    olbl: Option<u64>,
    status: u16,
    sc_bytes: u64,
    cs_bytes: u64,
    method: &'static str,
    protocol: &'static str,
    proto_ver: &'static str,
    site: usize,
    dist: usize,
    path: Vec<u8>,
    query: Vec<u8>,
    request_id: [u8; 56],
    referer: Vec<u8>,
    cookie: Vec<u8>,
    xff: Vec<u8>,
    result: &'static str,
    response_result: &'static str,
    detailed: &'static str,
    tls: bool,
    content_type: &'static str,
    content_len: Option<u64>,
    range: Option<(u64, u64)>,
    port: u64,
    accept: &'static str,
    accept_encoding: &'static str,
    behavior: &'static str,
    hdr: Headers,
    scratch: Vec<u8>,
    cmcd: Option<Cmcd>,
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
enum Outcome {
    Ok,
    HungUp,
    HttpsRedirect,
    Client4xx,
    Server5xx,
}

#[derive(Debug)]
struct Generator<'o> {
    opts: &'o GenOptions,
    rng: Rng,
    world: World,
    clock_ms: f64,
    mean_gap_ms: f64,
}

/// Appends a page of `www` (popular pages more often) as a referer.
fn internal_referer(w: &World, rng: &mut Rng, out: &mut Vec<u8>) {
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
    fn new(opts: &'o GenOptions) -> Generator<'o> {
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

    fn next_record(&mut self, rec: &mut Rec) {
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

        // Request headers, in the order each client sends them.
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

        // Request size: request line + headers (HPACK/QPACK shrink them) + body.
        let raw = (rec.method.len() + rec.path.len() + rec.query.len() + 12 + h.values.len()) as u64;
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

    fn write_record(&self, rec: &Rec, plan: &[Option<Field>], buf: &mut Vec<u8>) {
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

fn write_cmcd(buf: &mut Vec<u8>, field: Field, c: &Cmcd, session: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_core::grammar::{
        parse_date_days, parse_epoch_seconds_ms, parse_ip, parse_seconds_us, parse_status, parse_time_ms, parse_u64,
    };

    fn run(opts: &GenOptions) -> Vec<u8> {
        let mut out = Vec::new();
        generate(opts, &mut out).expect("generation succeeds");
        out
    }

    fn realtime(lines: u64, seed: u64) -> GenOptions {
        GenOptions { lines, seed, ..GenOptions::default() }
    }

    fn standard(lines: u64, seed: u64) -> GenOptions {
        GenOptions { format: Format::Standard, lines, seed, ..GenOptions::default() }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("output is UTF-8")
    }

    /// The default 46-field real-time schema's names, and the rows split into fields.
    fn rows(out: &[u8]) -> (Vec<String>, Vec<Vec<&str>>) {
        let names = Schema::realtime_release(46).unwrap().names().map(String::from).collect();
        let rows = text(out).lines().map(|l| l.split('\t').collect()).collect();
        (names, rows)
    }

    fn col(names: &[String], name: &str) -> usize {
        names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = run(&realtime(2_000, 42));
        assert_eq!(a, run(&realtime(2_000, 42)));
        assert_ne!(a, run(&realtime(2_000, 43)));
        let s = run(&standard(2_000, 42));
        assert_eq!(s, run(&standard(2_000, 42)));
        assert_ne!(s, run(&standard(2_000, 43)));
        // A prefix of a longer run is the shorter run.
        let longer = run(&realtime(3_000, 42));
        assert!(longer.starts_with(&a));
    }

    #[test]
    fn golden_digest_is_stable() {
        // Guards the determinism promise: any change to the model changes this value, so
        // update it deliberately (and only with a reason).
        let out = run(&realtime(500, 1));
        let digest =
            out.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        assert_eq!(digest, GOLDEN_FNV1A_500_SEED1, "output changed; got {digest:#018x}");
    }

    const GOLDEN_FNV1A_500_SEED1: u64 = 0x9f4e_a28c_0669_07c1;

    #[test]
    fn realtime_lines_have_every_field() {
        let schema = Schema::realtime_release(46).unwrap();
        let out = run(&realtime(5_000, 3));
        assert!(out.ends_with(b"\n"));
        let mut count = 0;
        for line in out.split_inclusive(|&b| b == b'\n') {
            assert!(line.ends_with(b"\n"));
            let body = &line[..line.len() - 1];
            let fields: Vec<&[u8]> = body.split(|&b| b == b'\t').collect();
            assert_eq!(fields.len(), schema.len(), "{}", text(line));
            for f in &fields {
                assert!(!f.is_empty(), "empty value in {}", text(line));
                assert!(!f.iter().any(|&b| b == b' ' || b == b'\r' || b >= 127), "unencoded byte in {}", text(f));
            }
            count += 1;
        }
        assert_eq!(count, 5_000);
    }

    #[test]
    fn realtime_line_length_is_about_a_kilobyte() {
        for seed in [1, 2, 3] {
            let out = run(&realtime(10_000, seed));
            let avg = out.len() as f64 / 10_000.0;
            assert!((800.0..=1300.0).contains(&avg), "seed {seed}: average line is {avg} bytes");
        }
    }

    #[test]
    fn standard_has_the_w3c_header_and_33_columns() {
        let out = run(&standard(2_000, 5));
        let t = text(&out);
        let mut lines = t.lines();
        assert_eq!(lines.next(), Some("#Version: 1.0"));
        let fields = lines.next().unwrap();
        let names: Vec<&str> = fields.strip_prefix("#Fields: ").expect("a #Fields: line").split(' ').collect();
        let expected = Schema::standard_default();
        assert!(names.iter().copied().eq(expected.names()), "{names:?}");
        assert_eq!(names.len(), 33);
        let parsed = Schema::from_w3c_fields(fields.as_bytes()).unwrap().unwrap();
        assert_eq!(parsed, Schema::standard_default());
        let mut n = 0;
        let mut last_day = 0;
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 33, "{line}");
            let day = parse_date_days(f[0].as_bytes()).expect("date");
            assert!(day >= DEFAULT_START_MS / 86_400_000);
            last_day = last_day.max(day);
            assert!(parse_time_ms(f[1].as_bytes()).is_some(), "time {}", f[1]);
            assert_eq!(f[1].len(), 8);
            assert!(f[6].ends_with(".cloudfront.net"), "cs(Host) is the distribution: {}", f[6]);
            assert!(!f[15].ends_with(".cloudfront.net"), "x-host-header is the viewer's Host: {}", f[15]);
            assert!(!f[7].contains('?'), "standard cs-uri-stem is the path only: {}", f[7]);
            assert!(parse_status(f[8].as_bytes()).is_some());
            n += 1;
        }
        assert_eq!(n, 2_000);
        assert_eq!(last_day, DEFAULT_START_MS / 86_400_000, "2,000 lines at 200/s stay on the first day");
    }

    #[test]
    fn standard_date_and_time_match_the_clock() {
        let start = DEFAULT_START_MS + 86_400_000 * 60 + 3_723_000; // 2026-12-31T01:02:03Z
        let opts = GenOptions { start_ms: start, ..standard(1, 1) };
        let out = run(&opts);
        let row = text(&out).lines().nth(2).unwrap();
        assert!(row.starts_with("2026-12-31\t01:02:0"), "{row}");
        assert_eq!(cflog_core::grammar::civil_from_days(0), (1970, 1, 1));
        assert_eq!(cflog_core::grammar::civil_from_days(20_758), (2026, 11, 1));
        assert_eq!(cflog_core::grammar::civil_from_days(-1), (1969, 12, 31));
        assert_eq!(cflog_core::grammar::civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn timestamps_parse_and_are_mostly_in_order() {
        let out = run(&realtime(10_000, 9));
        let mut max_seen = i64::MIN;
        let mut behind = 0;
        for line in text(&out).lines() {
            let ts = line.split('\t').next().unwrap();
            let (_, frac) = ts.split_once('.').expect("a fraction");
            assert_eq!(frac.len(), 3, "{ts}");
            let ms = parse_epoch_seconds_ms(ts.as_bytes()).expect("epoch.sss");
            assert!(ms >= DEFAULT_START_MS);
            if ms < max_seen {
                behind += 1;
                assert!(max_seen - ms <= 5_000, "out of order by {} ms", max_seen - ms);
            }
            max_seen = max_seen.max(ms);
        }
        assert!(behind > 50 && behind < 1_000, "{behind} records out of order");
        // 10,000 requests at 200/s span about 50 s.
        let span = max_seen - DEFAULT_START_MS;
        assert!((45_000..=55_000).contains(&span), "span {span} ms");
    }

    #[test]
    fn status_mix() {
        let out = run(&realtime(10_000, 11));
        let (names, rows) = rows(&out);
        let (st, rt, dt) =
            (col(&names, "sc-status"), col(&names, "x-edge-result-type"), col(&names, "x-edge-detailed-result-type"));
        let mut by_class = [0u32; 6];
        let (mut s304, mut s206, mut s000, mut hits) = (0, 0, 0, 0);
        for r in &rows {
            let s = parse_status(r[st].as_bytes()).expect("status");
            by_class[usize::from(s / 100)] += 1;
            match s {
                304 => s304 += 1,
                206 => s206 += 1,
                0 => {
                    s000 += 1;
                    assert_eq!((r[rt], r[dt]), ("Error", "ClientHungUpRequest"));
                }
                _ => {}
            }
            if r[rt] == "Hit" {
                hits += 1;
            }
        }
        let pct = |n: u32| f64::from(n) / 100.0;
        assert!((85.0..=91.5).contains(&pct(by_class[2])), "2xx {}%", pct(by_class[2]));
        assert!((3.5..=7.0).contains(&pct(by_class[4])), "4xx {}%", pct(by_class[4]));
        assert!((0.5..=1.8).contains(&pct(by_class[5])), "5xx {}%", pct(by_class[5]));
        assert!((2.5..=7.0).contains(&pct(s304)), "304 {}%", pct(s304));
        assert!(s206 > 20, "206: {s206}");
        assert!(s000 > 5 && pct(s000) < 1.0, "000: {s000}");
        assert!((58.0..=75.0).contains(&pct(hits)), "Hit {}%", pct(hits));
    }

    #[test]
    fn realtime_fields_are_consistent() {
        let out = run(&realtime(20_000, 13));
        let (names, rows) = rows(&out);
        let c = |n: &str| col(&names, n);
        let secs = |v: &str| parse_seconds_us(v.as_bytes()).unwrap_or_else(|| panic!("seconds {v}"));
        let (mut v6, mut xff_list, mut bing, mut staging, mut shield) = (0, 0, 0, 0, 0);
        for r in &rows {
            // Addresses and their version.
            let ip = parse_ip(r[c("c-ip")].as_bytes()).expect("c-ip");
            assert_eq!(r[c("c-ip-version")], if ip.is_ipv6() { "IPv6" } else { "IPv4" });
            assert_eq!(parse_ip(r[c("s-ip")].as_bytes()).expect("s-ip").is_ipv6(), ip.is_ipv6());
            v6 += usize::from(ip.is_ipv6());
            let xff = r[c("x-forwarded-for")];
            if xff != "-" {
                for a in xff.split(',') {
                    assert!(parse_ip(a.as_bytes()).is_some(), "xff {xff}");
                }
                xff_list += usize::from(xff.contains(','));
            }
            // Latencies.
            let taken = secs(r[c("time-taken")]);
            let ttfb = r[c("time-to-first-byte")];
            if ttfb != "-" {
                assert!(secs(ttfb) <= taken, "ttfb {ttfb} > time-taken");
            }
            let (fbl, lbl) = (r[c("origin-fbl")], r[c("origin-lbl")]);
            assert_eq!(fbl == "-", lbl == "-");
            if fbl != "-" {
                assert!(secs(fbl) <= secs(lbl));
                assert!(secs(lbl) <= taken);
            }
            if r[c("x-edge-response-result-type")] == "Hit" {
                assert_eq!(fbl, "-", "no origin latency on a Hit");
            }
            shield += usize::from(r[c("x-edge-detailed-result-type")] == "OriginShieldHit");
            // TLS only on https/wss.
            let tls = matches!(r[c("cs-protocol")], "https" | "wss");
            assert_eq!(r[c("ssl-protocol")] != "-", tls);
            assert_eq!(r[c("ssl-cipher")] != "-", tls);
            if r[c("cs-protocol-version")] == "HTTP/3.0" {
                assert_eq!(r[c("ssl-protocol")], "TLSv1.3");
            }
            // URI: the real-time stem carries the query.
            let (stem, query) = (r[c("cs-uri-stem")], r[c("cs-uri-query")]);
            if query == "-" {
                assert!(!stem.contains('?'), "{stem}");
            } else {
                assert!(stem.ends_with(&format!("?{query}")), "{stem} vs {query}");
            }
            // Ids, hosts.
            let id = r[c("x-edge-request-id")];
            assert_eq!(id.len(), 56);
            assert!(id.ends_with("=="));
            assert!(id[..54].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(r[c("x-host-header")].starts_with('d') && r[c("x-host-header")].ends_with(".cloudfront.net"));
            assert!(!r[c("cs-host")].ends_with(".cloudfront.net"));
            if r[c("primary-distribution-id")] != "-" {
                staging += 1;
                assert_ne!(r[c("primary-distribution-dns-name")], r[c("x-host-header")]);
            }
            // Headers.
            let (hv, hn) = (r[c("cs-headers")], r[c("cs-header-names")]);
            assert!(hv.ends_with("%0A") && hn.ends_with("%0A"));
            assert!(hv.len() <= 800 && hn.len() <= 800);
            assert!(hv.starts_with(&format!("host:{}%0A", r[c("cs-host")])));
            assert_eq!(parse_u64(r[c("cs-headers-count")].as_bytes()), Some(hn.matches("%0A").count() as u64));
            // Ranges.
            let (rs, re) = (r[c("sc-range-start")], r[c("sc-range-end")]);
            assert_eq!(rs == "-", re == "-");
            if rs != "-" {
                assert_eq!(r[c("sc-status")], "206");
                let (a, b) = (parse_u64(rs.as_bytes()).unwrap(), parse_u64(re.as_bytes()).unwrap());
                assert!(a <= b);
                assert_eq!(parse_u64(r[c("sc-content-len")].as_bytes()), Some(b - a + 1));
            }
            let port = parse_u64(r[c("c-port")].as_bytes()).unwrap();
            assert!((1024..=65_535).contains(&port));
            assert!(parse_u64(r[c("asn")].as_bytes()).is_some());
            assert_eq!(r[c("c-country")].len(), 2);
            assert!(r[c("x-edge-location")].contains('-'));
            let ua = r[c("cs-user-agent")];
            if ua.contains("bingbot") {
                bing += 1;
                assert!(ua.contains("+http://www.bing.com/bingbot.htm"), "{ua}");
            }
        }
        let n = rows.len() as f64;
        assert!((0.08..0.25).contains(&(v6 as f64 / n)), "IPv6 share {}", v6 as f64 / n);
        assert!(xff_list > 0 && bing > 0 && staging > 0 && shield > 0);
    }

    #[test]
    fn urls_follow_a_zipf_law_and_carry_escapes() {
        let out = run(&realtime(20_000, 17));
        let (names, rows) = rows(&out);
        let stem = col(&names, "cs-uri-stem");
        let mut counts = std::collections::HashMap::new();
        for r in &rows {
            *counts.entry(r[stem]).or_insert(0u32) += 1;
        }
        let mut freq: Vec<u32> = counts.values().copied().collect();
        freq.sort_unstable_by(|a, b| b.cmp(a));
        assert!(counts.len() > 2_000, "{} distinct URLs", counts.len());
        assert!(freq[0] > 20 * freq[50], "head {} vs rank 50 {}", freq[0], freq[50]);
        let all = text(&out);
        for needle in ["%20", "%2520", "%253A%252F%252F", "%22", "%0A", "?"] {
            assert!(all.contains(needle), "no {needle} in the output");
        }
    }

    #[test]
    fn custom_schema_writes_exactly_its_fields() {
        let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
        let opts = GenOptions { schema: Some(schema), ..realtime(1_000, 21) };
        let out = run(&opts);
        for line in text(&out).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 3, "{line}");
            assert!(parse_epoch_seconds_ms(f[0].as_bytes()).is_some());
            assert!(parse_ip(f[1].as_bytes()).is_some());
            assert!(parse_status(f[2].as_bytes()).is_some());
        }
        assert_eq!(text(&out).lines().count(), 1_000);
    }

    #[test]
    fn every_realtime_field_can_be_generated() {
        let schema = Schema::realtime_all();
        let n = schema.len();
        let cmcd = schema.column_of(Field::CmcdObjectType).unwrap();
        let opts = GenOptions { schema: Some(schema), ..realtime(5_000, 23) };
        let out = run(&opts);
        let mut with_cmcd = 0;
        for line in text(&out).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), n);
            with_cmcd += usize::from(f[cmcd] != "-");
        }
        assert!(with_cmcd > 0 && with_cmcd < 1_000, "{with_cmcd} records with CMCD");
    }

    #[test]
    fn standard_v2_and_unknown_columns() {
        let schema =
            Schema::standard(&["date", "time", "timestamp", "timestamp(ms)", "x-future", "DistributionId", "asn"])
                .unwrap();
        let opts = GenOptions { schema: Some(schema), ..standard(100, 1) };
        let out = run(&opts);
        let t = text(&out);
        assert!(t.lines().nth(1).unwrap() == "#Fields: date time timestamp timestamp(ms) x-future DistributionId asn");
        for line in t.lines().skip(2) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 7);
            assert!(!f[2].contains('.'), "v2 timestamp has no fraction: {}", f[2]);
            let ms = parse_u64(f[3].as_bytes()).unwrap() as i64;
            assert_eq!(parse_u64(f[2].as_bytes()).unwrap() as i64, ms / 1000);
            let day_ms =
                parse_date_days(f[0].as_bytes()).unwrap() * 86_400_000 + parse_time_ms(f[1].as_bytes()).unwrap();
            assert_eq!(day_ms, ms / 1000 * 1000);
            assert_eq!(f[4], "-");
            assert!(f[5].starts_with('E') && f[5].len() == 14);
        }
    }

    #[test]
    fn bad_options_are_rejected() {
        let opts = GenOptions { schema: Some(Schema::standard_default()), ..realtime(1, 1) };
        assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let opts = GenOptions { requests_per_second: 0.0, ..realtime(1, 1) };
        assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let opts = GenOptions { requests_per_second: f64::NAN, ..realtime(1, 1) };
        assert!(generate(&opts, Vec::new()).is_err());
        let opts = GenOptions { start_ms: -1, ..realtime(1, 1) };
        assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(run(&realtime(0, 1)).is_empty());
        assert_eq!(run(&standard(0, 1)).iter().filter(|&&b| b == b'\n').count(), 2);
    }

    #[test]
    fn helpers() {
        let mut b = Vec::new();
        push_secs3(&mut b, 0);
        b.push(b' ');
        push_secs3(&mut b, 1_234_567);
        b.push(b' ');
        push_u64(&mut b, u64::MAX);
        b.push(b' ');
        push_i64(&mut b, -42);
        assert_eq!(text(&b), "0.000 1234.567 18446744073709551615 -42");
        assert_eq!(cf_encode("a b\"%~+/é"), "a%20b%22%25%7E+/%C3%A9");
        let mut id = [0u8; 56];
        request_id(&mut Rng::new(1), &mut id);
        // The last character before the padding encodes 2 bits followed by 4 zero bits.
        assert!(b"AQgw".contains(&id[53]), "{}", text(&id));
    }
}
