//! The modelled web property's static tables: content categories and their cache
//! behaviour, edge locations with their countries, ASNs and languages per country, the
//! user agents (browsers, bots, apps, tools), the four sites, referers, TLS ciphers and
//! the paths scanners ask for.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cat {
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
    pub(crate) fn hit_rate(self) -> f64 {
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

    pub(crate) fn behavior(self) -> &'static str {
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
    pub(crate) fn browser_accept(self) -> (&'static str, &'static str, &'static str) {
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
pub(crate) type EdgeRow = (&'static str, u32, &'static [(&'static str, u32)]);

pub(crate) const EDGES: &[EdgeRow] = &[
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
pub(crate) fn country_asns(cc: &str) -> &'static [(u32, u32)] {
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

pub(crate) fn country_language(cc: &str) -> &'static str {
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
pub(crate) enum AgentKind {
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
    pub(crate) fn is_browser(self) -> bool {
        matches!(self, AgentKind::Chromium | AgentKind::Firefox | AgentKind::Safari)
    }
}

/// One user agent: raw UA, kind, pool weight, `sec-ch-ua` brand list (Chromium only),
/// platform (Chromium only; `None` on mobile means `?1`).
pub(crate) struct AgentRow {
    pub(crate) ua: &'static str,
    pub(crate) kind: AgentKind,
    pub(crate) weight: u32,
    pub(crate) brands: Option<&'static str>,
    pub(crate) platform: &'static str,
    pub(crate) mobile: bool,
}

pub(crate) const CHROME_BRANDS: &str = r#""Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99""#;
pub(crate) const EDGE_BRANDS: &str = r#""Chromium";v="142", "Microsoft Edge";v="142", "Not_A Brand";v="99""#;
pub(crate) const SAMSUNG_BRANDS: &str = r#""Chromium";v="130", "Samsung Internet";v="28.0", "Not?A_Brand";v="99""#;

pub(crate) const AGENTS: &[AgentRow] = &[
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

pub(crate) const UA_GOOGLEBOT: usize = 10;
pub(crate) const UA_BINGBOT: usize = 11;
pub(crate) const UA_PYTHON: usize = 17;

/// The viewer hosts (`cs-host`); site `i` is served by distribution `i`.
pub(crate) const SITES: &[&str] = &["www.example.com", "static.example.net", "media.example.com", "api.example.com"];
pub(crate) const SITE_WWW: u8 = 0;
pub(crate) const SITE_STATIC: u8 = 1;
pub(crate) const SITE_MEDIA: u8 = 2;
pub(crate) const SITE_API: u8 = 3;
/// Distribution index of the continuous-deployment staging copy of `www`.
pub(crate) const DIST_STAGING: usize = 4;

pub(crate) const EXTERNAL_REFERERS: &[(&str, u32)] = &[
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

pub(crate) const TLS13_CIPHERS: &[(&str, u32)] =
    &[("TLS_AES_128_GCM_SHA256", 80), ("TLS_AES_256_GCM_SHA384", 12), ("TLS_CHACHA20_POLY1305_SHA256", 8)];
pub(crate) const TLS12_CIPHERS: &[(&str, u32)] =
    &[("ECDHE-RSA-AES128-GCM-SHA256", 70), ("ECDHE-RSA-AES256-GCM-SHA384", 20), ("ECDHE-RSA-CHACHA20-POLY1305", 10)];

pub(crate) const MISSING_PATHS: &[&str] = &[
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
