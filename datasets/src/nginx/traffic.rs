//! How a request is answered and described: method, protocol, status, size and referer.
//!
//! The weights come from what a small shop's access log looks like: static files mostly 200 and 304,
//! pages with some redirects, an API with the whole 2xx/4xx/5xx range, probes that meet 404, and 499
//! where the client gave up first. Sizes follow nginx's own error pages.

use super::agents::ClientKind;
use super::urls::{Url, UrlKind};
use crate::dice::Dice;

/// The site's own origin, as referers to its pages name it.
const ORIGIN: &[u8] = b"https://shop.example.com";
const SEARCH_REFERERS: &[&[u8]] = &[
    b"https://www.google.com/",
    b"https://www.google.co.uk/",
    b"https://www.bing.com/search?q=teapot+marble&form=QBLH",
    b"https://duckduckgo.com/",
    b"https://search.yahoo.com/",
    b"https://yandex.ru/",
];
const SOCIAL_REFERERS: &[&[u8]] = &[
    b"https://t.co/Xk2pQ9vLmA",
    b"https://www.facebook.com/",
    b"https://l.instagram.com/",
    b"android-app://com.google.android.gm/",
    b"https://news.ycombinator.com/item?id=41234567",
    b"https://www.reddit.com/r/BuyItForLife/comments/1b2c3d/",
];
/// Referers with escapes and non-ASCII, as nginx writes them between the quotes.
const ODD_REFERERS: &[&[u8]] = &[
    b"https://evil.example/\\\"><script>alert(1)</script>",
    b"https://example.org/?q=\\x22quoted\\x22",
    b"file:///C:\\\\Users\\\\guest\\\\page.html",
    b"http://[2001:db8::1]:8080/",
    b"https://\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95/",
    b"",
];

/// The method of a request for a target of `kind`.
pub(crate) fn method(kind: UrlKind, dice: &mut Dice) -> &'static [u8] {
    match kind {
        UrlKind::Static => dice.weighted(&[(97, &b"GET"[..]), (3, b"HEAD")]),
        UrlKind::Page => dice.weighted(&[(95, &b"GET"[..]), (2, b"HEAD"), (3, b"POST")]),
        UrlKind::Api => dice.weighted(&[
            (60, &b"GET"[..]),
            (22, b"POST"),
            (6, b"PUT"),
            (3, b"PATCH"),
            (4, b"DELETE"),
            (5, b"OPTIONS"),
        ]),
        UrlKind::Probe => dice.weighted(&[(80, &b"GET"[..]), (15, b"POST"), (3, b"HEAD"), (2, b"PROPFIND")]),
        UrlKind::Long => b"GET",
        UrlKind::Health => dice.weighted(&[(90, &b"GET"[..]), (10, b"HEAD")]),
    }
}

/// The protocol a client of `kind` speaks.
pub(crate) fn protocol(kind: ClientKind, dice: &mut Dice) -> &'static [u8] {
    match kind {
        ClientKind::Browser => dice.weighted(&[(45, &b"HTTP/2.0"[..]), (54, b"HTTP/1.1"), (1, b"HTTP/1.0")]),
        _ => dice.weighted(&[(90, &b"HTTP/1.1"[..]), (10, b"HTTP/1.0")]),
    }
}

/// The status and body size of the answer to a `method` request for `url`.
pub(crate) fn respond(url: &Url, method: &[u8], dice: &mut Dice) -> (u16, u64) {
    let mut status = match url.kind {
        UrlKind::Static => dice.weighted(&[(800, 200), (160, 304), (20, 404), (10, 206), (10, 499)]),
        UrlKind::Page => dice.weighted(&[
            (850, 200),
            (40, 301),
            (30, 302),
            (30, 304),
            (30, 404),
            (5, 500),
            (5, 502),
            (10, 499),
        ]),
        UrlKind::Api => dice.weighted(&[
            (750, 200),
            (50, 201),
            (40, 204),
            (30, 400),
            (30, 401),
            (10, 403),
            (30, 404),
            (10, 409),
            (10, 422),
            (10, 429),
            (15, 500),
            (5, 502),
            (5, 503),
            (5, 504),
            (10, 499),
        ]),
        UrlKind::Probe => dice.weighted(&[(85, 404), (8, 403), (2, 400), (3, 301), (2, 200)]),
        UrlKind::Long => dice.weighted(&[(60, 200), (25, 414), (10, 400), (5, 499)]),
        UrlKind::Health => dice.weighted(&[(980, 200), (15, 503), (5, 499)]),
    };
    // Only a POST creates; a preflight answers with no content.
    if status == 201 && method != b"POST" {
        status = 200;
    }
    if status == 200 && method == b"OPTIONS" {
        status = 204;
    }
    let size = u64::from(url.size);
    let bytes = match status {
        200 if matches!(url.kind, UrlKind::Static | UrlKind::Health) => size,
        200 => size * dice.between(90, 110) / 100,
        206 => dice.between(1, size.max(1)),
        201 => dice.between(50, 500),
        204 | 304 | 499 => 0,
        301 | 302 => dice.between(162, 178),
        400 => dice.between(150, 157),
        401 | 403 | 404 => dice.between(153, 555),
        414 => dice.pick(&[0, 171]),
        429 => 169,
        _ => dice.between(157, 599),
    };
    (status, if method == b"HEAD" { 0 } else { bytes })
}

/// Writes the referer of a request for `url` by a client of `kind` into `out`.
///
/// `page` is another target, used when the referer is one of the site's own pages.
pub(crate) fn referer(kind: ClientKind, page: &Url, dice: &mut Dice, out: &mut Vec<u8>) {
    out.clear();
    let r = dice.unit();
    match kind {
        ClientKind::Browser => {}
        ClientKind::Scanner => {
            out.extend_from_slice(if r < 0.9 { b"-" } else { dice.pick(ODD_REFERERS) });
            return;
        }
        _ => {
            out.push(b'-');
            return;
        }
    }
    if r < 0.72 {
        out.push(b'-');
    } else if r < 0.87 {
        out.extend_from_slice(ORIGIN);
        if page.kind == UrlKind::Page {
            out.extend_from_slice(&page.target);
        } else {
            out.push(b'/');
        }
    } else if r < 0.95 {
        out.extend_from_slice(dice.pick(SEARCH_REFERERS));
    } else if r < 0.995 {
        out.extend_from_slice(dice.pick(SOCIAL_REFERERS));
    } else {
        out.extend_from_slice(dice.pick(ODD_REFERERS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::line::is_quotable;

    #[test]
    fn referers_fit_between_quotes() {
        assert!(ODD_REFERERS.iter().chain(SEARCH_REFERERS).chain(SOCIAL_REFERERS).all(|r| is_quotable(r)));
    }
}
