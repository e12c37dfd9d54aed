//! Verified crawlers: a request whose user agent claims a well-known crawler and whose
//! client sits in that crawler operator's own autonomous system (the real-time `asn`
//! field). This is the check a log line allows without network access; the operators'
//! own method is reverse DNS (or their published address lists), which a Lambda in the
//! request path should not wait for. It is weaker than reverse DNS in one way: anyone who
//! can send from the operator's AS (a tenant of a cloud the operator runs in that AS)
//! passes. A claim from any other AS is a spoofer and is not verified.
//!
//! [`CRAWLERS`] is the one table of claims and ASNs; the WAF sink's
//! `CFLOG_WAF_ALLOW_VERIFIED_BOTS` allow-list is its user.

/// A crawler operator: the user agent tokens of its crawlers and the ASNs they crawl from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crawler {
    /// The operator, for logs (`google`, `bing`, ...).
    pub name: &'static str,
    /// Lower-case tokens, any of which in a user agent (ASCII case-insensitively) claims
    /// this operator's crawler.
    pub tokens: &'static [&'static str],
    /// The autonomous systems its crawlers send from.
    pub asns: &'static [u32],
}

/// The crawlers verified by AS. An operator that crawls from other networks' address space
/// has no row (DuckDuckBot, whose published addresses are hosting providers', is not
/// here): its requests are never verified, and the operator allow-lists it by CIDR.
pub const CRAWLERS: &[Crawler] = &[
    // Google: "Verifying Googlebot and other Google crawlers"
    // (developers.google.com/search/docs/crawling-indexing/verifying-googlebot) gives
    // reverse DNS to googlebot.com / google.com and the lists googlebot.json and
    // special-crawlers.json; those ranges are announced by Google's AS15169.
    // User-triggered fetchers (Feedfetcher, Read Aloud) are left out: they are not crawlers.
    Crawler {
        name: "google",
        tokens: &[
            "googlebot",
            "adsbot-google",
            "mediapartners-google",
            "google-inspectiontool",
            "googleother",
            "storebot-google",
        ],
        asns: &[15169],
    },
    // Microsoft: "Verifying Bingbot" (bing.com/webmasters/help/how-to-verify-bingbot-3905dc26)
    // gives reverse DNS to search.msn.com and the list bing.com/toolbox/bingbot.json, in
    // Microsoft's AS8075.
    Crawler {
        name: "bing",
        tokens: &["bingbot", "msnbot", "bingpreview", "adidxbot"],
        asns: &[8075],
    },
    // Apple: "About Applebot" (support.apple.com/en-us/119829) gives reverse DNS to
    // applebot.apple.com; Applebot crawls from Apple's 17.0.0.0/8, AS714.
    Crawler {
        name: "apple",
        tokens: &["applebot"],
        asns: &[714],
    },
    // Yandex: "How to check that a robot belongs to Yandex"
    // (yandex.com/support/webmaster/robot-workings/check-yandex-robots.html) gives reverse
    // DNS to yandex.ru / yandex.net / yandex.com; its robots send from AS13238. Every
    // Yandex robot's user agent carries `yandex.com/bots`.
    Crawler {
        name: "yandex",
        tokens: &["yandexbot", "yandex.com/bots"],
        asns: &[13238],
    },
    // Baidu documents reverse DNS to baidu.com / baidu.jp only; AS55967 is Baidu's own.
    // Baiduspider is also seen from carriers' address space: those requests are not
    // verified here.
    Crawler {
        name: "baidu",
        tokens: &["baiduspider"],
        asns: &[55967],
    },
    // Meta: "Meta Web Crawlers" (developers.facebook.com/docs/sharing/webmasters/web-crawlers)
    // lists its crawlers' addresses as the routes of AS32934
    // (`whois -h whois.radb.net -- '-i origin AS32934'`).
    Crawler {
        name: "meta",
        tokens: &[
            "facebookexternalhit",
            "facebookcatalog",
            "meta-externalagent",
        ],
        asns: &[32934],
    },
];

/// The operator whose crawler a decoded user agent claims to be, if any.
pub fn claimed_crawler(user_agent: &str) -> Option<&'static Crawler> {
    let hay = user_agent.as_bytes();
    CRAWLERS.iter().find(|c| {
        c.tokens
            .iter()
            .any(|t| contains_ignore_ascii_case(hay, t.as_bytes()))
    })
}

/// The operator whose crawler sent a request: its decoded user agent claims the crawler
/// and `asn` (the client's autonomous system) is the operator's. `None` for no claim, an
/// unknown AS, or a claim from another AS (a spoofer).
pub fn verified_crawler(user_agent: &str, asn: Option<u32>) -> Option<&'static Crawler> {
    let asn = asn?;
    claimed_crawler(user_agent).filter(|c| c.asns.contains(&asn))
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const GOOGLEBOT_PHONE: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const BINGBOT: &str = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)";
    const APPLEBOT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)";
    const YANDEX_IMAGES: &str =
        "Mozilla/5.0 (compatible; YandexImages/3.0; +http://yandex.com/bots)";
    const BAIDU: &str =
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";
    const FACEBOOK: &str =
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
    const DUCKDUCKBOT: &str = "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)";
    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    #[test]
    fn a_claim_from_the_operators_as_is_verified() {
        // (user agent, AS) → operator, the ASNs from the operators' documents cited above.
        for (ua, asn, name) in [
            (GOOGLEBOT, 15169, "google"),
            (GOOGLEBOT_PHONE, 15169, "google"),
            (BINGBOT, 8075, "bing"),
            (APPLEBOT, 714, "apple"),
            (YANDEX_IMAGES, 13238, "yandex"),
            (BAIDU, 55967, "baidu"),
            (FACEBOOK, 32934, "meta"),
        ] {
            assert_eq!(
                verified_crawler(ua, Some(asn)).map(|c| c.name),
                Some(name),
                "{ua}"
            );
        }
    }

    #[test]
    fn a_claim_from_another_as_or_no_as_is_not_verified() {
        // Googlebot from a hosting provider (AS16509, Amazon) or from Bing's AS.
        assert_eq!(verified_crawler(GOOGLEBOT, Some(16509)), None);
        assert_eq!(verified_crawler(GOOGLEBOT, Some(8075)), None);
        assert_eq!(verified_crawler(BINGBOT, Some(15169)), None);
        // No `asn` in the layout, or `-`.
        assert_eq!(verified_crawler(GOOGLEBOT, None), None);
        // The claim itself is still seen.
        assert_eq!(claimed_crawler(GOOGLEBOT).map(|c| c.name), Some("google"));
    }

    #[test]
    fn no_claim_is_never_verified() {
        // A browser or an empty user agent from Google's own AS is not a crawler.
        assert_eq!(verified_crawler(CHROME, Some(15169)), None);
        assert_eq!(verified_crawler("-", Some(15169)), None);
        assert_eq!(verified_crawler("", Some(15169)), None);
        // DuckDuckBot has no AS of its own, so no row.
        assert_eq!(claimed_crawler(DUCKDUCKBOT), None);
    }

    #[test]
    fn tokens_are_lower_case_and_every_operator_has_an_as() {
        for c in CRAWLERS {
            assert!(!c.asns.is_empty(), "{}", c.name);
            for t in c.tokens {
                assert_eq!(*t, t.to_ascii_lowercase(), "{}", c.name);
            }
        }
        assert_eq!(
            claimed_crawler("MOZILLA/5.0 (COMPATIBLE; GOOGLEBOT/2.1)").map(|c| c.name),
            Some("google")
        );
    }
}
