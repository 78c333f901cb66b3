//! The generated site: deterministic, fully reachable, depths that match its links, and files that
//! survive a trip through the server and through a directory.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::TcpStream;

use testkit::web::{GeneratedSite, SiteSpec, WebServer};

fn spec(pages: usize, links_per_page: usize, seed: u64) -> SiteSpec {
    SiteSpec { pages, links_per_page, page_bytes: 1500, seed }
}

/// The `href` values of the `<a>` tags of a page, found the way a simple crawler would.
fn hrefs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<a ") {
        let tag_start = at + i;
        let tag_end = tag_start + lower[tag_start..].find('>').unwrap();
        let tag = &html[tag_start..tag_end];
        let href_at = tag.to_ascii_lowercase().find("href=").unwrap() + 5;
        let value = &tag[href_at..];
        let href = match value.chars().next().unwrap() {
            q @ ('"' | '\'') => value[1..].split(q).next().unwrap(),
            _ => value.split([' ', '>']).next().unwrap(),
        };
        out.push(href.to_owned());
        at = tag_end;
    }
    out
}

/// Resolves `href` against the page at `base` (a path), RFC 3986 style; `None` for other hosts and
/// schemes.
fn resolve(base: &str, href: &str) -> Option<String> {
    let href = href.split('#').next().unwrap();
    if href.starts_with("//") || href.split('/').next().unwrap().contains(':') {
        return None;
    }
    let merged = if href.starts_with('/') {
        href.to_owned()
    } else {
        format!("{}{href}", &base[..=base.rfind('/').unwrap()])
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = merged.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    Some(format!("/{}", out.join("/")))
}

/// Depths found by parsing the pages and following their links breadth-first.
fn crawl_depths(site: &GeneratedSite) -> BTreeMap<String, usize> {
    let mut depth = BTreeMap::from([("/".to_owned(), 0)]);
    let mut queue = VecDeque::from(["/".to_owned()]);
    while let Some(path) = queue.pop_front() {
        let (bytes, content_type) = &site.files[&path];
        assert!(content_type.starts_with("text/html"), "{path} is {content_type}");
        for href in hrefs(std::str::from_utf8(bytes).unwrap()) {
            let Some(next) = resolve(&path, &href) else { continue };
            assert!(site.files.contains_key(&next), "{path} links to {href:?}, a missing {next}");
            if !depth.contains_key(&next) {
                depth.insert(next.clone(), depth[&path] + 1);
                queue.push_back(next);
            }
        }
    }
    depth
}

#[test]
fn resolver_in_this_test_is_sound() {
    assert_eq!(resolve("/s/1/p/3.html", "../../../p/8.html#x").as_deref(), Some("/p/8.html"));
    assert_eq!(resolve("/s/1/p/3.html", "./5.html").as_deref(), Some("/s/1/p/5.html"));
    assert_eq!(resolve("/p/4.html", "../").as_deref(), Some("/"));
    assert_eq!(resolve("/", "/q/../p/4.html").as_deref(), Some("/p/4.html"));
    assert_eq!(resolve("/", "mailto:x@y"), None);
    assert_eq!(resolve("/", "//example.invalid/x"), None);
}

#[test]
fn same_spec_gives_the_same_site() {
    let a = spec(200, 5, 42).generate();
    let b = spec(200, 5, 42).generate();
    assert_eq!(a.files, b.files);
    assert_eq!(a.depth, b.depth);
    assert_ne!(a.files, spec(200, 5, 43).generate().files);
}

#[test]
fn every_page_is_reachable_at_its_recorded_depth() {
    for (pages, links, seed) in [(1, 0, 1), (2, 0, 2), (50, 1, 3), (300, 4, 4), (1000, 8, 5)] {
        let site = spec(pages, links, seed).generate();
        assert_eq!(site.depth.len(), pages);
        assert_eq!(crawl_depths(&site), site.depth, "pages {pages} links {links} seed {seed}");
        let html: BTreeSet<&String> =
            site.files.iter().filter(|(_, (_, t))| t.starts_with("text/html")).map(|(p, _)| p).collect();
        assert_eq!(html, site.depth.keys().collect());
    }
}

#[test]
fn pages_have_roughly_the_asked_size_and_every_link_form() {
    let site = SiteSpec { pages: 100, links_per_page: 10, page_bytes: 4000, seed: 9 }.generate();
    let all: String = site
        .files
        .values()
        .filter(|(_, t)| t.starts_with("text/html"))
        .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
        .collect();
    for (bytes, content_type) in site.files.values() {
        if content_type.starts_with("text/html") {
            assert!((4000..6000).contains(&bytes.len()), "{}", bytes.len());
        }
    }
    for form in [
        "href=\"../",
        "HREF=",
        "href='",
        "href=/",
        "#top",
        "./",
        "/q/..",
        "mailto:",
        "javascript:",
        "//example.invalid",
        "<IMG SRC=\"/img/",
    ] {
        assert!(all.contains(form), "no {form}");
    }
    assert!(site.files.keys().any(|p| p.starts_with("/img/")));
}

#[test]
fn a_small_site_has_the_hand_checked_depths() {
    let site = spec(6, 1, 7).generate();
    let links: Vec<(String, Vec<String>)> = site
        .depth
        .keys()
        .map(|p| {
            let html = std::str::from_utf8(&site.files[p].0).unwrap();
            (p.clone(), hrefs(html).iter().filter_map(|h| resolve(p, h)).collect())
        })
        .collect();
    let expected: BTreeMap<String, usize> = EXPECTED_SMALL.iter().map(|&(p, d)| (p.to_owned(), d)).collect();
    assert_eq!(site.depth, expected, "links: {links:#?}");
}

/// Worked out by hand from the links of `spec(6, 1, 7)` (the assertion message prints them):
/// `/` links to 1, 2 and 3 (its tree children); 2 and 4 link to 5, 3 links to 4, 1 back to `/`.
const EXPECTED_SMALL: [(&str, usize); 6] = [
    ("/", 0),
    ("/s/1/p/1.html", 1),
    ("/s/2/p/2.html", 1),
    ("/s/3/p/3.html", 1),
    ("/p/4.html", 2),
    ("/s/1/p/5.html", 2),
];

#[test]
fn write_to_round_trips() {
    let site = spec(40, 3, 11).generate();
    let dir = testkit::scratch_dir();
    site.write_to(dir.path()).unwrap();
    for (path, (bytes, _)) in &site.files {
        let file = if path == "/" { dir.path().join("index.html") } else { dir.path().join(&path[1..]) };
        assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
    }
}

#[test]
fn to_site_serves_every_file_and_the_index() {
    let site = spec(30, 3, 12).generate();
    let server = WebServer::start(site.to_site());
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut paths: Vec<&str> = site.files.keys().map(String::as_str).collect();
    paths.push("/index.html");
    for path in &paths {
        write!(stream, "GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    }
    stream.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), paths.len() + 1);
    assert!(text.contains("Content-Type: image/png\r\n"));
    let records = server.requests();
    assert_eq!(records.len(), paths.len() + 1);
    assert!(records.iter().all(|r| r.status == 200));
}

#[test]
fn serves_a_large_site_to_many_connections() {
    const CONNECTIONS: usize = 32;
    let start = std::time::Instant::now();
    let site = SiteSpec { pages: 10_000, links_per_page: 8, page_bytes: 2048, seed: 1 }.generate();
    let generated = start.elapsed();
    let server = WebServer::start(site.to_site());
    let paths: Vec<String> = site.depth.keys().cloned().collect();
    let start = std::time::Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|w| {
            let mine: Vec<String> = paths.iter().skip(w).step_by(CONNECTIONS).cloned().collect();
            let addr = server.addr();
            std::thread::spawn(move || {
                let mut stream = std::io::BufReader::new(TcpStream::connect(addr).unwrap());
                let mut bytes = 0;
                for path in mine {
                    // One write: a request split over several writes meets Nagle and delayed ACKs.
                    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
                    stream.get_mut().write_all(request.as_bytes()).unwrap();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        std::io::BufRead::read_line(&mut stream, &mut line).unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.strip_prefix("Content-Length: ") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).unwrap();
                    bytes += length;
                }
                bytes
            })
        })
        .collect();
    let bytes: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let served = start.elapsed();
    eprintln!("generated in {generated:?}; served {} pages ({bytes} bytes) in {served:?}", paths.len());
    assert_eq!(server.requests().len(), 10_000);
    assert!(server.max_in_flight() <= CONNECTIONS);
}
