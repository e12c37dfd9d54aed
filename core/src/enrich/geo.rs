//! Where a CloudFront edge location is.
//!
//! `x-edge-location` values such as `NRT57-C1`, `IAD12-P4` or `LAX1` start with the
//! IATA code of the airport nearest the point of presence; that is the only geography a
//! log line carries about the edge, so turning it into a city, country and region is a
//! table lookup. The table is generated from the `airportsdata` package by
//! `tools/gen_airports.py` and committed, so the build needs no network and no Python.

use super::airports_generated::{AIRPORTS, COUNTRY_REGIONS};

/// A broad area of the world, for grouping edge locations in reports.
///
/// Derived from the ISO country code alone (the mapping lives in
/// `tools/gen_airports.py` and is generated into the crate). It follows continents,
/// with two departures that match how CDN traffic is usually reported:
///
/// * [`Region::MiddleEast`] is the Arab states of Western Asia plus Iran and Israel
///   (AE, BH, IL, IQ, IR, JO, KW, LB, OM, PS, QA, SA, SY, YE). Egypt stays in Africa.
/// * Russia, Turkey and Cyprus are [`Region::Europe`], where their main edge locations
///   sit; the Caucasus and Central Asia are [`Region::Asia`].
///
/// Central America and the Caribbean are [`Region::NorthAmerica`]; Pacific islands,
/// including US and French territories there (GU, MP, PF, ...), are
/// [`Region::Oceania`]. Overseas parts of a country that shares its code with the
/// mainland (Hawaii, the Canaries) take the mainland's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// Canada, the United States, Mexico, Central America, the Caribbean, Greenland.
    NorthAmerica,
    /// South America, including French Guiana and the Falklands.
    SouthAmerica,
    /// Europe, including Russia, Turkey and Cyprus.
    Europe,
    /// Asia east of Iran, plus the Caucasus and Central Asia.
    Asia,
    /// Australia, New Zealand and the Pacific islands.
    Oceania,
    /// Africa, including Egypt and the Indian Ocean islands (MU, RE, SC, ...).
    Africa,
    /// The Gulf states, the Levant, Iraq, Iran and Yemen.
    MiddleEast,
    /// Antarctica and the sub-Antarctic islands: a handful of runways in the data, kept
    /// so that every airport has a region rather than forcing one onto a neighbour.
    Antarctica,
}

impl Region {
    /// Every region, in declaration order, for building per-region reports.
    pub const ALL: [Region; 8] = [
        Region::NorthAmerica,
        Region::SouthAmerica,
        Region::Europe,
        Region::Asia,
        Region::Oceania,
        Region::Africa,
        Region::MiddleEast,
        Region::Antarctica,
    ];

    /// A stable English label, for reports and JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Region::NorthAmerica => "North America",
            Region::SouthAmerica => "South America",
            Region::Europe => "Europe",
            Region::Asia => "Asia",
            Region::Oceania => "Oceania",
            Region::Africa => "Africa",
            Region::MiddleEast => "Middle East",
            Region::Antarctica => "Antarctica",
        }
    }

    /// The region of an ISO 3166-1 alpha-2 country code (upper case, plus `XK` for
    /// Kosovo), or `None` for a code the table does not know.
    pub fn of_country(country: &str) -> Option<Region> {
        COUNTRY_REGIONS
            .binary_search_by(|&(cc, _)| cc.cmp(country))
            .ok()
            .map(|i| COUNTRY_REGIONS[i].1)
    }
}

/// An airport (or IATA metropolitan-area code) that an edge location is named after.
///
/// Not `Eq`/`Hash`: the coordinates are floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Airport {
    /// Three-letter IATA code, upper case.
    pub iata: &'static str,
    /// The city the airport serves, as airportsdata spells it (UTF-8, may have
    /// diacritics); for the few airports without a city, the airport's name.
    pub city: &'static str,
    /// ISO 3166-1 alpha-2 country code, upper case (`XK` for Kosovo).
    pub country: &'static str,
    /// The country's [`Region`].
    pub region: Region,
    /// The airport's latitude, WGS 84 degrees (−90 to 90), to 5 decimals; for a
    /// metropolitan-area code, that of its first airport in the table.
    pub latitude: f64,
    /// The airport's longitude, WGS 84 degrees (−180 to 180), to 5 decimals.
    pub longitude: f64,
}

/// The IATA code an edge location starts with: its first three bytes when they are
/// ASCII upper-case letters followed by a digit (`NRT57-C1` → `NRT`).
///
/// Only the prefix is checked, not the whole `AAA9(-A9)` shape, because AWS has added
/// suffix styles over the years and the prefix is what carries the geography. Returns
/// `None` for `-`, empty or malformed values rather than guessing.
pub fn iata_prefix(edge_location: &str) -> Option<&str> {
    match edge_location.as_bytes() {
        [a, b, c, d, ..]
            if a.is_ascii_uppercase()
                && b.is_ascii_uppercase()
                && c.is_ascii_uppercase()
                && d.is_ascii_digit() =>
        {
            edge_location.get(..3)
        }
        _ => None,
    }
}

/// Looks up a three-letter IATA code (ASCII case-insensitive) in the airport table.
///
/// Besides airports, the table holds IATA metropolitan-area codes (`LON`, `NYC`,
/// `TYO`, ...) that no airport uses, so a city-level code still resolves.
pub fn airport(iata: &str) -> Option<Airport> {
    let bytes = iata.as_bytes();
    if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    // Upper-case into a stack buffer: the table is upper case and this runs per record,
    // so no allocation.
    let upper = [
        bytes[0].to_ascii_uppercase(),
        bytes[1].to_ascii_uppercase(),
        bytes[2].to_ascii_uppercase(),
    ];
    let code = core::str::from_utf8(&upper).ok()?;
    let i = AIRPORTS.binary_search_by(|&(c, ..)| c.cmp(code)).ok()?;
    let (iata, city, country, region, latitude, longitude) = AIRPORTS[i];
    Some(Airport {
        iata,
        city,
        country,
        region,
        latitude,
        longitude,
    })
}

/// Where an `x-edge-location` value is: [`iata_prefix`] then [`airport`].
///
/// `None` when the value has no IATA-shaped prefix or the code is not in the table (a
/// new or internal AWS code); callers should count those as "unknown" rather than drop
/// the record.
pub fn edge_geo(edge_location: &str) -> Option<Airport> {
    airport(iata_prefix(edge_location)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_unique_and_well_formed() {
        for w in AIRPORTS.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "AIRPORTS not strictly sorted at {} / {}",
                w[0].0,
                w[1].0
            );
        }
        for w in COUNTRY_REGIONS.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "COUNTRY_REGIONS not strictly sorted at {}",
                w[1].0
            );
        }
        for &(code, city, country, region, lat, lon) in AIRPORTS {
            assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon), "{code}: ({lat}, {lon})");
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "bad code {code:?}"
            );
            assert!(!city.is_empty(), "{code} has no city");
            assert!(
                country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}: bad country {country:?}"
            );
            // The per-airport region must agree with the country mapping, so both
            // tables tell one story.
            assert_eq!(
                Region::of_country(country),
                Some(region),
                "{code} in {country}"
            );
        }
        // The table is the whole point of the module; a generator run that lost most
        // rows would otherwise pass silently.
        assert!(AIRPORTS.len() > 5000, "only {} airports", AIRPORTS.len());
    }

    #[test]
    fn spot_checks() {
        let nrt = airport("NRT").unwrap();
        assert_eq!(
            (nrt.iata, nrt.city, nrt.country, nrt.region),
            ("NRT", "Tokyo", "JP", Region::Asia)
        );

        let iad = airport("IAD").unwrap();
        assert_eq!((iad.country, iad.region), ("US", Region::NorthAmerica));
        let fra = airport("FRA").unwrap();
        assert_eq!((fra.country, fra.region), ("DE", Region::Europe));
        let gru = airport("GRU").unwrap();
        assert_eq!((gru.country, gru.region), ("BR", Region::SouthAmerica));
        let syd = airport("SYD").unwrap();
        assert_eq!((syd.country, syd.region), ("AU", Region::Oceania));
        let jnb = airport("JNB").unwrap();
        assert_eq!((jnb.country, jnb.region), ("ZA", Region::Africa));
        let dxb = airport("DXB").unwrap();
        assert_eq!((dxb.country, dxb.region), ("AE", Region::MiddleEast));
        assert_eq!(airport("LHR").unwrap().country, "GB");
        assert_eq!(airport("LHR").unwrap().region, Region::Europe);

        // Edge locations AWS really uses whose codes are less obvious.
        assert_eq!(airport("HIO").unwrap().country, "US"); // Hillsboro, Oregon
        assert_eq!(airport("QRO").unwrap().country, "MX"); // Querétaro
        assert_eq!(airport("FJR").unwrap().city, "Fujairah"); // city from the name
        assert_eq!(airport("IST").unwrap().region, Region::Europe);
        assert_eq!(airport("TLV").unwrap().region, Region::MiddleEast);
        assert_eq!(airport("CAI").unwrap().region, Region::Africa);

        // Metropolitan-area codes that no airport uses.
        assert_eq!(airport("LON").unwrap().country, "GB");
        assert_eq!(airport("TYO").unwrap().city, "Tokyo");

        assert_eq!(airport("nrt").unwrap().iata, "NRT");
        assert_eq!(airport("NR"), None);
        assert_eq!(airport("NRTX"), None);
        assert_eq!(airport("N1T"), None);
        assert_eq!(airport("ÑRT"), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(iata_prefix("NRT57-C1"), Some("NRT"));
        assert_eq!(iata_prefix("IAD12-P4"), Some("IAD"));
        assert_eq!(iata_prefix("LAX1"), Some("LAX"));
        assert_eq!(iata_prefix("SEA900-P1"), Some("SEA"));
        assert_eq!(iata_prefix("NRT"), None);
        assert_eq!(iata_prefix("nrt57-C1"), None);
        assert_eq!(iata_prefix("NR57"), None);
        assert_eq!(iata_prefix("-"), None);
        assert_eq!(iata_prefix(""), None);
        assert_eq!(iata_prefix("bad"), None);
        // Multi-byte UTF-8 must not panic on a char boundary.
        assert_eq!(iata_prefix("ÑRT5"), None);
    }

    #[test]
    fn edge_locations() {
        let sea = edge_geo("SEA900-P1").unwrap();
        assert_eq!(
            (sea.iata, sea.city, sea.region),
            ("SEA", "Seattle", Region::NorthAmerica)
        );
        assert_eq!(edge_geo("NRT57-C1").unwrap().city, "Tokyo");
        // Narita is east of Tokyo, Seattle-Tacoma south of Seattle: the airport's point.
        let nrt = edge_geo("NRT57-C1").unwrap();
        assert!((nrt.latitude - 35.76).abs() < 0.01 && (nrt.longitude - 140.39).abs() < 0.01);
        assert!((sea.latitude - 47.45).abs() < 0.01 && (sea.longitude + 122.31).abs() < 0.01);
        // A metropolitan-area code takes its first airport's point (LON: London City).
        let lon = airport("LON").unwrap();
        assert!((lon.latitude - 51.5).abs() < 0.1 && lon.longitude.abs() < 0.5);
        assert_eq!(edge_geo("FRA56-P7").unwrap().country, "DE");
        assert_eq!(edge_geo("bad"), None);
        assert_eq!(edge_geo("-"), None);
        // Well-formed but not an assigned code.
        assert_eq!(edge_geo("QQQ1"), None);
    }

    #[test]
    fn regions() {
        assert_eq!(Region::of_country("RU"), Some(Region::Europe));
        assert_eq!(Region::of_country("EG"), Some(Region::Africa));
        assert_eq!(Region::of_country("GU"), Some(Region::Oceania));
        assert_eq!(Region::of_country("JM"), Some(Region::NorthAmerica));
        assert_eq!(Region::of_country("us"), None);
        assert_eq!(Region::of_country("ZZ"), None);
        for (i, r) in Region::ALL.iter().enumerate() {
            assert!(!r.name().is_empty());
            assert!(Region::ALL[..i].iter().all(|o| o.name() != r.name()));
            // Every region is reachable from some country.
            assert!(
                COUNTRY_REGIONS.iter().any(|&(_, cr)| cr == *r),
                "{r:?} unused"
            );
        }
    }
}
