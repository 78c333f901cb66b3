//! The URL population: every request target a generated log can contain, ranked by popularity.
//!
//! Rank 0 is the most requested. The mix follows a small web shop: static assets, pages, a JSON API
//! with query strings, percent-encoded names, vulnerability probes, a few targets carrying escaped
//! quotes or backslashes as nginx logs them, and a few very long (2–8 KB) tracking URLs.

use std::collections::HashSet;

use crate::dice::Dice;

/// What a target serves; it drives the method, status and size of the requests for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UrlKind {
    Static,
    Page,
    Api,
    Probe,
    Long,
    /// The health-check endpoint, which only monitors request.
    Health,
}

/// One member of the population.
#[derive(Clone, Debug)]
pub(crate) struct Url {
    pub target: Box<[u8]>,
    pub kind: UrlKind,
    /// Typical body size of a 200 answer.
    pub size: u32,
}

const WORDS: &[&str] = &[
    "alpine", "amber", "anchor", "atlas", "autumn", "basil", "beacon", "birch", "blossom", "breeze",
    "canyon", "cedar", "cobalt", "comet", "coral", "cotton", "crimson", "dawn", "delta", "ember", "falcon",
    "fern", "fjord", "glacier", "granite", "harbor", "hazel", "indigo", "ivory", "jasmine", "juniper",
    "lagoon", "lantern", "linen", "lotus", "maple", "marble", "meadow", "mesa", "mint", "nebula", "nomad",
    "oasis", "olive", "onyx", "orchid", "pebble", "pine", "prairie", "quartz", "raven", "reef", "river",
    "saffron", "sage", "sierra", "slate", "spruce", "summit", "tundra", "velvet", "willow", "zephyr",
    "kettle", "teapot", "lamp", "chair", "desk", "shelf", "sofa",
];
const RESOURCES: &[&str] = &[
    "users",
    "orders",
    "products",
    "carts",
    "sessions",
    "reviews",
    "invoices",
    "shipments",
    "coupons",
    "addresses",
    "payments",
    "notifications",
    "wishlists",
    "categories",
    "inventory",
];
const SUBRESOURCES: &[&str] = &["items", "history", "status", "comments", "events", "refunds"];
const CATEGORIES: &[&str] =
    &["kitchen", "garden", "office", "outdoor", "lighting", "bedding", "bath", "toys", "books", "tools"];
const PROBES: &[&str] = &[
    "/wp-login.php",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/.aws/credentials",
    "/phpmyadmin/index.php",
    "/admin/config.php",
    "/cgi-bin/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/actuator/env",
    "/boaform/admin/formLogin",
    "/HNAP1/",
    "/server-status",
    "/solr/admin/info/system?wt=json",
    "/index.php?s=/Index/\\x5Cthink\\x5Capp/invokefunction",
    "/owa/auth/logon.aspx",
    "/.DS_Store",
    "/config.json",
    "/backup.sql.gz",
];
const PROBE_DIRS: &[&str] = &["", "/wp", "/blog", "/old", "/backup", "/test", "/site", "/new"];
const ENCODED: &[&str] = &[
    "/wiki/Stra%C3%9Fe",
    "/wiki/Caf%C3%A9",
    "/wiki/Na%C3%AFve_Bayes",
    "/tag/%E4%B8%AD%E6%96%87",
    "/tag/%CE%95%CE%BB%CE%BB%CE%B7%CE%BD%CE%B9%CE%BA%CE%AC",
    "/search?q=caf%C3%A9+cr%C3%A8me&lang=fr",
    "/files/Annual%20Report%202025.pdf",
    "/download?file=report%2B2025%2Fq1.csv",
    "/search?q=100%25+cotton",
    "/redirect?to=https%3A%2F%2Fexample.org%2F%3Fa%3D1%26b%3D2",
];
const ESCAPED: &[&str] = &[
    "/search?q=\\\"{w}\\\"",
    "/search?q=\\x22{w}\\x22&sort=asc",
    "/files/C:\\\\Users\\\\{w}\\\\notes.txt",
    "/api/v1/search?q={w}\\x5C{w}",
];

/// Builds a population of `n` distinct targets; the same dice give the same population.
pub(crate) fn population(n: usize, dice: &mut Dice) -> Vec<Url> {
    let mut seen: HashSet<Box<[u8]>> = HashSet::with_capacity(n);
    let mut urls = Vec::with_capacity(n);
    for rank in 0..n {
        let mut url = match rank {
            0 => fixed("/", UrlKind::Page, 14_230),
            1 => fixed("/favicon.ico", UrlKind::Static, 15_086),
            2 => fixed("/static/css/main.4f8a1c2e.css", UrlKind::Static, 48_512),
            3 => fixed("/static/js/app.9b3d7e01.js", UrlKind::Static, 312_044),
            4 => fixed("/healthz", UrlKind::Health, 2),
            _ => draw(dice),
        };
        let mut tries = 0;
        while seen.contains(&url.target) {
            tries += 1;
            url = if tries < 8 { draw(dice) } else { fixed(&format!("/p/{rank}"), UrlKind::Page, 9_000) };
        }
        seen.insert(url.target.clone());
        urls.push(url);
    }
    urls
}

fn fixed(target: &str, kind: UrlKind, size: u32) -> Url {
    Url { target: target.as_bytes().into(), kind, size }
}

fn draw(dice: &mut Dice) -> Url {
    #[derive(Clone, Copy)]
    enum Shape {
        Asset,
        Page,
        Api,
        Probe,
        Encoded,
        Escaped,
        Long,
    }
    let shape = dice.weighted(&[
        (380, Shape::Asset),
        (280, Shape::Page),
        (260, Shape::Api),
        (40, Shape::Probe),
        (30, Shape::Encoded),
        (6, Shape::Escaped),
        (4, Shape::Long),
    ]);
    let w = |dice: &mut Dice| dice.pick(WORDS);
    let hex = |dice: &mut Dice| dice.between(0, u64::from(u32::MAX));
    let (target, kind, size) = match shape {
        Shape::Asset => match dice.below(6) {
            0 => (
                format!("/static/js/{}.{:08x}.js", w(dice), hex(dice)),
                UrlKind::Static,
                dice.between(8_000, 400_000),
            ),
            1 => (
                format!("/static/css/{}.{:08x}.css", w(dice), hex(dice)),
                UrlKind::Static,
                dice.between(2_000, 90_000),
            ),
            2 => {
                let ext = dice.pick(&["png", "jpg", "webp", "svg", "gif"]);
                (
                    format!("/assets/img/{}-{}.{ext}", w(dice), dice.between(1, 999)),
                    UrlKind::Static,
                    dice.between(1_500, 250_000),
                )
            }
            3 => {
                let variant = dice.pick(&["thumb", "large", "zoom", "card"]);
                (
                    format!("/images/products/{}/{variant}.jpg", dice.between(10_000, 999_999)),
                    UrlKind::Static,
                    dice.between(4_000, 600_000),
                )
            }
            4 => {
                let weight = dice.pick(&["400", "500", "700", "italic"]);
                (format!("/fonts/{}-{weight}.woff2", w(dice)), UrlKind::Static, dice.between(18_000, 90_000))
            }
            _ => (
                format!("/media/video/{}-{}.mp4", w(dice), dice.between(1, 99)),
                UrlKind::Static,
                dice.between(1_000_000, 90_000_000),
            ),
        },
        Shape::Page => match dice.below(7) {
            0 => (
                format!(
                    "/blog/{}/{:02}/{}-{}-{}",
                    dice.between(2019, 2026),
                    dice.between(1, 12),
                    w(dice),
                    w(dice),
                    w(dice)
                ),
                UrlKind::Page,
                dice.between(12_000, 90_000),
            ),
            1 => (
                format!("/products/{}-{}-{}", w(dice), w(dice), dice.between(100, 99_999)),
                UrlKind::Page,
                dice.between(20_000, 120_000),
            ),
            2 => (
                format!("/category/{}?page={}", dice.pick(CATEGORIES), dice.between(1, 40)),
                UrlKind::Page,
                dice.between(15_000, 80_000),
            ),
            3 => (
                format!(
                    "/category/{}?page={}&sort={}",
                    dice.pick(CATEGORIES),
                    dice.between(1, 40),
                    dice.pick(&["price", "-price", "new", "rating"])
                ),
                UrlKind::Page,
                dice.between(15_000, 80_000),
            ),
            4 => (format!("/docs/{}/{}.html", w(dice), w(dice)), UrlKind::Page, dice.between(5_000, 60_000)),
            5 => (
                format!("/search?q={}+{}&page={}", w(dice), w(dice), dice.between(1, 5)),
                UrlKind::Page,
                dice.between(9_000, 40_000),
            ),
            _ => (
                format!("/u/{}{}/profile", w(dice), dice.between(1, 9_999)),
                UrlKind::Page,
                dice.between(7_000, 30_000),
            ),
        },
        Shape::Api => match dice.below(5) {
            0 => (
                format!("/api/v1/{}/{}", dice.pick(RESOURCES), dice.between(1, 999_999)),
                UrlKind::Api,
                dice.between(200, 4_000),
            ),
            1 => (
                format!(
                    "/api/v1/{}/{}/{}",
                    dice.pick(RESOURCES),
                    dice.between(1, 99_999),
                    dice.pick(SUBRESOURCES)
                ),
                UrlKind::Api,
                dice.between(100, 9_000),
            ),
            2 => (
                format!(
                    "/api/v2/{}?limit={}&offset={}",
                    dice.pick(RESOURCES),
                    dice.pick(&[10, 20, 50, 100]),
                    dice.between(0, 200) * 10
                ),
                UrlKind::Api,
                dice.between(1_000, 60_000),
            ),
            3 => (
                format!(
                    "/api/v2/{}?status={}&fields=id,name,updated_at",
                    dice.pick(RESOURCES),
                    dice.pick(&["open", "closed", "pending", "all"])
                ),
                UrlKind::Api,
                dice.between(500, 30_000),
            ),
            _ => (
                format!("/api/v1/search?q={}&lang={}", w(dice), dice.pick(&["en", "de", "fr", "zh", "el"])),
                UrlKind::Api,
                dice.between(300, 20_000),
            ),
        },
        Shape::Probe => {
            let probe = dice.pick(PROBES);
            let dir = dice.pick(PROBE_DIRS);
            let target = if dice.chance(0.5) {
                format!("{dir}{probe}")
            } else {
                format!(
                    "{dir}{probe}{}{}",
                    if probe.contains('?') { '&' } else { '?' },
                    dice.between(1, 99_999)
                )
            };
            (target, UrlKind::Probe, dice.between(150, 600))
        }
        Shape::Encoded => {
            let base = dice.pick(ENCODED);
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}ref={}", dice.between(1, 9_999)), UrlKind::Page, dice.between(5_000, 50_000))
        }
        Shape::Escaped => {
            let template = dice.pick(ESCAPED);
            (template.replace("{w}", w(dice)), UrlKind::Page, dice.between(3_000, 20_000))
        }
        Shape::Long => (long_target(dice), UrlKind::Long, dice.between(200, 3_000)),
    };
    Url { target: target.into_bytes().into_boxed_slice(), kind, size: size as u32 }
}

/// A 2–8 KB tracking or search URL, like the ones that earn nginx's 414.
fn long_target(dice: &mut Dice) -> String {
    const SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let len = dice.between(2_048, 8_192) as usize;
    let mut s = String::with_capacity(len + 64);
    if dice.chance(0.5) {
        s.push_str("/api/v1/collect?v=2&payload=");
        while s.len() < len {
            s.push(dice.pick(SAFE) as char);
        }
    } else {
        s.push_str("/search?utm_source=newsletter&utm_medium=email");
        let mut i = 0;
        while s.len() < len {
            s.push_str(&format!("&f{i}={}", dice.pick(WORDS)));
            i += 1;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::line::is_quotable;

    #[test]
    fn population_is_distinct_and_deterministic() {
        let a = population(5_000, &mut Dice::new(1, 9));
        let b = population(5_000, &mut Dice::new(1, 9));
        assert_eq!(a.len(), 5_000);
        let distinct: HashSet<_> = a.iter().map(|u| &u.target).collect();
        assert_eq!(distinct.len(), 5_000);
        assert!(a.iter().zip(&b).all(|(x, y)| x.target == y.target));
        assert!(a.iter().any(|u| u.kind == UrlKind::Long));
    }

    #[test]
    fn targets_have_no_raw_quote_space_or_newline() {
        for url in population(20_000, &mut Dice::new(2, 9)) {
            assert!(url.target.starts_with(b"/"));
            assert!(is_quotable(&url.target));
            assert!(!url.target.contains(&b' '));
            if url.kind == UrlKind::Long {
                assert!((2_048..=8_300).contains(&url.target.len()));
            }
        }
    }
}
