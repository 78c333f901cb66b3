//! Stage 2: URLs and links. Parsing a URL, resolving a link against its page exactly as RFC 3986
//! section 5 says (its own examples are the test vectors), normalising, and finding the links of
//! an HTML page.

mod common;

use common::url;
use crawler::{Url, UrlError, extract_links};
use proptest::prelude::*;
use testkit::test;

/// RFC 3986 section 5.4.1: references resolved against `http://a/b/c/d;p?q`.
const NORMAL: &[(&str, &str)] = &[
    ("g:h", "g:h"),
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
];

/// RFC 3986 section 5.4.2, for a strict parser.
const ABNORMAL: &[(&str, &str)] = &[
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g#s/./x"),
    ("g#s/../x", "http://a/b/c/g#s/../x"),
    ("http:g", "http:g"),
];

#[test]
fn resolves_the_rfc_3986_normal_examples() {
    let base = url("http://a/b/c/d;p?q");
    for (reference, expected) in NORMAL {
        let resolved = base.join(reference).unwrap_or_else(|err| panic!("{reference:?}: {err}"));
        assert_eq!(resolved.to_string(), *expected, "resolving {reference:?}");
    }
}

#[test]
fn resolves_the_rfc_3986_abnormal_examples() {
    let base = url("http://a/b/c/d;p?q");
    for (reference, expected) in ABNORMAL {
        let resolved = base.join(reference).unwrap_or_else(|err| panic!("{reference:?}: {err}"));
        assert_eq!(resolved.to_string(), *expected, "resolving {reference:?}");
    }
}

#[test]
fn parses_the_parts_of_a_url() {
    let u = url("http://Example.com:8080/a/b.html?x=1&y=2#frag");
    assert_eq!(u.scheme(), "http", "the scheme of {u}");
    assert_eq!(u.host(), Some("Example.com"), "the host of {u}");
    assert_eq!((u.port(), u.port_or_default()), (Some(8080), Some(8080)), "the port of {u}");
    assert_eq!(u.path(), "/a/b.html", "the path of {u}");
    assert_eq!(u.query(), Some("x=1&y=2"), "the query of {u}");
    assert_eq!(u.fragment(), Some("frag"), "the fragment of {u}");
    assert_eq!(u.request_target(), "/a/b.html?x=1&y=2", "the request target of {u}");
    assert_eq!(
        u.to_string(),
        "http://Example.com:8080/a/b.html?x=1&y=2#frag",
        "parsing alone changes nothing"
    );

    let u = url("http://[::1]:9000");
    assert_eq!((u.host(), u.port(), u.path()), (Some("[::1]"), Some(9000), ""), "(host, port, path) of {u}");
    assert_eq!(u.request_target(), "/", "an empty path is requested as /");
    let u = url("http://h.test?q");
    assert_eq!(
        (u.path(), u.query(), u.port_or_default()),
        ("", Some("q"), Some(80)),
        "(path, query, port) of {u}"
    );
    let u = url("mailto:someone@example.com");
    assert_eq!(
        (u.scheme(), u.host(), u.path()),
        ("mailto", None, "someone@example.com"),
        "(scheme, host, path) of {u}"
    );
}

#[test]
fn rejects_what_is_not_an_absolute_url() {
    for text in ["/just/a/path", "example.com/x"] {
        let parsed = Url::parse(text);
        assert!(
            matches!(parsed, Err(UrlError::NoScheme { .. })),
            "{text:?} parsed as {parsed:?}, not NoScheme"
        );
    }
    assert!(
        matches!(Url::parse("1http://x/"), Err(UrlError::NoScheme { .. })),
        "a scheme starts with a letter"
    );
    // `u16::from_str` takes "+80"; a port is digits only.
    for text in ["http://h:99999/", "http://h:8o/", "http://h:+80/"] {
        let parsed = Url::parse(text);
        assert!(
            matches!(parsed, Err(UrlError::BadPort { .. })),
            "{text:?} parsed as {parsed:?}, not BadPort"
        );
    }
    let parsed = Url::parse("http://user:pw@h/");
    assert!(matches!(parsed, Err(UrlError::UserInfo { .. })), "\"http://user:pw@h/\" parsed as {parsed:?}");
    let err = Url::parse("http://h:99999/").unwrap_err();
    assert!(err.to_string().contains("99999"), "the message names the bad part: {err}");
}

#[test]
fn encodes_what_may_not_appear_in_a_url() {
    let u = url("  http://h.test/a b/\u{e9}t\u{e9}.html?q=\"x\"&r=<y>\n ");
    assert_eq!(
        u.to_string(),
        "http://h.test/a%20b/%C3%A9t%C3%A9.html?q=%22x%22&r=%3Cy%3E",
        "a URL with spaces, non-ASCII letters, quotes and angle brackets, parsed and printed"
    );
    let u = url("http://h.test/100%/ok%41/%zz");
    assert_eq!(u.path(), "/100%25/ok%41/%25zz", "a % that starts no escape is itself escaped");
    let u = url("http://h.test/a%4");
    assert_eq!(u.normalize().path(), "/a%254", "a % with one hex digit at the end starts no escape");
    let u = url("http://h.test/a\t/b\r\n/c");
    assert_eq!(u.path(), "/a/b/c", "tabs and newlines are dropped, as browsers do");
}

#[test]
fn removes_dot_segments_as_rfc_3986_does() {
    // RFC 3986, section 5.2.4, including the paths that are nothing but dots.
    let cases = [
        ("/a/b/c/./../../g", "/a/g"),
        ("mid/content=5/../6", "mid/6"),
        ("/a/..", "/"),
        ("/.", "/"),
        (".", ""),
        ("..", ""),
        ("../a", "a"),
        ("./a", "a"),
    ];
    for (path, expected) in cases {
        assert_eq!(crawler::url::remove_dot_segments(path), expected, "remove_dot_segments({path:?})");
    }
}

#[test]
fn normalises_to_one_spelling_per_page() {
    let cases = [
        ("HTTP://Example.COM:80/a/./b/../c/%7e%2f?Q=%aa#frag", "http://example.com/a/c/%7E%2F?Q=%AA"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("http://example.com:/x", "http://example.com/x"),
        ("http://[::1]:80/", "http://[::1]/"),
        ("http://h.test/A/B/", "http://h.test/A/B/"),
        ("http://h.test/a/../../..", "http://h.test/"),
        ("http://h.test/?", "http://h.test/?"),
        ("https://h.test:443/x", "https://h.test/x"),
        ("http://h.test:443/x", "http://h.test:443/x"),
    ];
    for (input, expected) in cases {
        assert_eq!(url(input).normalize().to_string(), expected, "normalising {input:?}");
    }
    assert_eq!(
        url("http://H.test/a/b/../c#x").normalize(),
        url("http://h.test:80/a/./c").normalize(),
        "two spellings of one page are equal once normalised"
    );
}

const PAGE: &str = r##"<!DOCTYPE html>
<html><head>
<LINK REL=stylesheet HREF="/style.css">
<script src='/app.js'></script>
<script>var s = '<a href="/not-a-link-in-script">'; if (a < b) {}</script>
<style>a[href="/not-in-style"] { color: red }</style>
</head><body>
<!-- <a href="/commented-out">no</a> -->
<a href=relative.html>unquoted</a>
<A hReF = "../up.html#section">spaces around =</a>
<a href="/q?a=1&amp;b=2">entity</a>
<a href="&#47;numeric&#x2F;refs">numeric</a>
<img alt="x > y" src="/img/a.png">
<iframe src="frame.html"></iframe>
<map><area shape=rect href="/area"></map>
<a href="mailto:x@example.com">mail</a>
<a href="javascript:void(0)">js</a>
<a href="#top">fragment only</a>
<a href="http://Other.example:80/x">other host</a>
<a href="relative.html">duplicate</a>
<a href = " spaced.html ">spaces inside the quotes</a>
<a name="no-href">anchor</a>
<div data-href="/not-a-link-attribute">x</div>
<p title="<a href='/in-an-attribute'>">text</p>
<a href="a b.html">space</a>
</body></html>
"##;

#[test]
fn finds_the_links_of_a_page() {
    let page = url("http://h.test/dir/page.html");
    let links: Vec<String> = extract_links(PAGE.as_bytes(), &page).iter().map(Url::to_string).collect();
    assert_eq!(
        links,
        [
            "http://h.test/style.css",
            "http://h.test/app.js",
            "http://h.test/dir/relative.html",
            "http://h.test/up.html",
            "http://h.test/q?a=1&b=2",
            "http://h.test/numeric/refs",
            "http://h.test/img/a.png",
            "http://h.test/dir/frame.html",
            "http://h.test/area",
            "http://h.test/dir/page.html",
            "http://other.example/x",
            "http://h.test/dir/spaced.html",
            "http://h.test/dir/a%20b.html",
        ],
        "in order, each once, resolved and normalised; no mailto: or javascript:, nothing from \
         comments, scripts, styles or other attributes"
    );
}

#[test]
fn a_base_element_changes_what_links_are_relative_to() {
    let page = url("http://h.test/dir/page.html");
    let html = br#"<html><head><base href="../other/"><base href="http://ignored.test/"></head>
        <body><a href="x.html">x</a><a href="/root">root</a><img src=//cdn.test/i.png></body></html>"#;
    let links: Vec<String> = extract_links(html, &page).iter().map(Url::to_string).collect();
    assert_eq!(
        links,
        ["http://h.test/other/x.html", "http://h.test/root", "http://cdn.test/i.png"],
        "the first <base href> counts, resolved against the page"
    );
}

#[test]
fn survives_broken_markup() {
    let page = url("http://h.test/");
    let cases: [(&[u8], &[&str]); 6] = [
        (b"<a href=\"/unterminated", &[]),
        (b"<a href=/ok>x</a><!-- never closed <a href=/hidden>", &["http://h.test/ok"]),
        (b"<script>never closed <a href=/hidden>", &[]),
        (b"a < b and <a href=/ok2>", &["http://h.test/ok2"]),
        (b"<a href=\"/\xff\xfe\">bytes</a>", &["http://h.test/%EF%BF%BD%EF%BF%BD"]),
        (b"<a href=\"http://h.test:99999/\">bad port</a><a href='/fine'>", &["http://h.test/fine"]),
    ];
    for (html, expected) in cases {
        let links: Vec<String> = extract_links(html, &page).iter().map(Url::to_string).collect();
        assert_eq!(links, expected, "the links in \"{}\"", html.escape_ascii());
    }
}

#[test]
fn attributes_are_read_as_a_browser_reads_them() {
    let page = url("http://h.test/");
    let cases: [(&[u8], &[&str], &str); 5] = [
        (
            b"<a name=\"top\" ><a class=x /><a href=\"/after\" >",
            &["http://h.test/after"],
            "space and / before >",
        ),
        (b"<a title=\"a=\" href=\"/good\">", &["http://h.test/good"], "a value that ends in ="),
        (b"<a href= \"/q>r\">", &["http://h.test/q%3Er"], "a quoted value after \"= \", holding >"),
        (
            b"<a href=\"/e?v=&lt;&gt;&quot;&apos;&nbsp;&amp;\">",
            &["http://h.test/e?v=%3C%3E%22'%C2%A0&"],
            "the named character references",
        ),
        (b"<A HREF='/upper'>", &["http://h.test/upper"], "names in capitals, single quotes"),
    ];
    for (html, expected, what) in cases {
        let links: Vec<String> = extract_links(html, &page).iter().map(Url::to_string).collect();
        assert_eq!(links, expected, "{what}: the links in \"{}\"", html.escape_ascii());
    }
}

fn url_strategy() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["http", "HTTP", "Http"]);
    let host = "[a-zA-Z0-9][a-zA-Z0-9.-]{0,8}";
    let port = prop::option::of(prop::sample::select(vec![80u16, 8080, 1, 65535]));
    let segment =
        prop::sample::select(vec!["", ".", "..", "a", "B", "%2f", "%aB", "x.html", "~u", "a b", "%"]);
    let path = prop::collection::vec(segment, 0..7);
    let query = prop::option::of("[a-z=&%./A-F0-9]{0,8}");
    let fragment = prop::option::of("[a-z./]{0,5}");
    (scheme, host, port, path, query, fragment).prop_map(|(scheme, host, port, path, query, fragment)| {
        let mut text = format!("{scheme}://{host}");
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        for segment in path {
            text.push('/');
            text.push_str(segment);
        }
        if let Some(query) = query {
            text.push('?');
            text.push_str(&query);
        }
        if let Some(fragment) = fragment {
            text.push('#');
            text.push_str(&fragment);
        }
        text
    })
}

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn normalising_twice_changes_nothing(text in url_strategy()) {
        let once = url(&text).normalize();
        prop_assert_eq!(once.normalize(), once.clone(), "{} normalised again", once);
        prop_assert_eq!(url(&once.to_string()), once.clone(), "the normal form reads back as itself");
        prop_assert!(once.path().starts_with('/'), "the path of {} starts with /", once);
        prop_assert!(once.fragment().is_none(), "the normal form {} has no fragment", once);
        prop_assert!(!once.path().split('/').any(|s| s == "." || s == ".."), "no dot segments in {}", once);
    }

    #[test]
    fn resolving_any_reference_never_panics(base in url_strategy(), reference in "\\PC{0,30}") {
        if let Ok(joined) = url(&base).join(&reference) {
            let normal = joined.normalize();
            prop_assert_eq!(normal.normalize(), normal.clone(), "{} normalised again", normal);
        }
    }

    #[test]
    fn no_bytes_make_link_extraction_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = extract_links(&bytes, &url("http://h.test/a/b"));
    }

    #[test]
    fn links_from_tag_soup_are_normalised_http_urls(pieces in proptest::collection::vec(
        prop::sample::select(vec![
            "<a", "<A", " href=", " HREF=", "\"", "'", ">", "<!--", "-->", "<script>", "</script>",
            "<base href=", "&amp;", "&#", "x", "/", "../", " ", "=", "<", "\u{e9}", "http://o.test", "#f", "?q",
        ]),
        0..40,
    )) {
        let html = pieces.concat();
        for link in extract_links(html.as_bytes(), &url("http://h.test/a/b")) {
            prop_assert_eq!(link.normalize(), link.clone(), "links come out normalised");
            prop_assert!(matches!(link.scheme(), "http" | "https"), "the scheme of link {} in {:?}", link, html);
        }
    }
}
