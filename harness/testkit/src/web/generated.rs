//! A generated site of many linked pages with known link depths, for crawler tests and benchmarks.
//!
//! Pages are `/` and `/p/N.html` or `/s/D/p/N.html` (so relative links climb directories). A random
//! spanning tree from `/` makes every page reachable; extra random links make the graph dense. Links
//! come in every form a crawler must normalise: path-absolute, relative (`5.html`, `../../p/5.html`),
//! with `./` and `..` segments, with fragments, repeated, in mixed-case tags with double, single or no
//! quotes; plus links a same-host crawler must not follow (other hosts, `mailto:`, `javascript:`)
//! and `<img>` tags pointing at a few small PNG files.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

use super::{Route, Site};

/// The content type of the generated pages.
const HTML: &str = "text/html; charset=utf-8";
/// The content type of the generated images.
const PNG: &str = "image/png";
/// How many images a site has (fewer when it has fewer pages).
const IMAGES: usize = 4;
/// A valid 1×1 transparent PNG.
const PIXEL: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
/// Links a same-host crawler must leave alone, one per page in turn.
const FOREIGN: [&str; 4] = [
    "http://example.invalid/x",
    "https://example.invalid/y.html",
    "//example.invalid/protocol-relative",
    "HTTP://EXAMPLE.INVALID/upper",
];
const WORDS: [&str; 12] =
    ["lorem", "ipsum", "dolor", "sit", "amet", "crawl", "link", "page", "depth", "fetch", "queue", "graph"];

/// The shape of a generated site. The same spec gives the same site on every machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteSpec {
    /// Number of HTML pages, the root `/` (which is `/index.html`'s content) included.
    pub pages: usize,
    /// Links per page (to other pages of the site, some relative, some absolute, some with
    /// fragments or dot segments, some repeated), plus a few to other hosts and to non-HTML files.
    pub links_per_page: usize,
    /// Approximate size of each page's HTML in bytes (padding text makes up the rest).
    pub page_bytes: usize,
    /// The random seed.
    pub seed: u64,
}

/// A generated site: its pages as files, and the depth (fewest links from `/`) of every page.
#[derive(Debug, Clone)]
pub struct GeneratedSite {
    /// Path (`/p/123.html`, `/`, `/img/…`) to its bytes and content type.
    pub files: BTreeMap<String, (Vec<u8>, &'static str)>,
    /// Normalised path of each HTML page to its link depth from `/` (the root has depth 0).
    pub depth: BTreeMap<String, usize>,
}

impl SiteSpec {
    /// Builds the site.
    ///
    /// Page `N`'s links always include its children in a random spanning tree rooted at `/`, so a
    /// page may have more than `links_per_page` links; the rest are random pages of the site.
    pub fn generate(&self) -> GeneratedSite {
        let pages = self.pages.max(1);
        let mut rng = SplitMix64(self.seed);
        // A random recursive tree: each page's parent is an earlier page.
        let mut targets: Vec<Vec<usize>> = vec![Vec::new(); pages];
        for page in 1..pages {
            let parent = rng.below(page);
            targets[parent].push(page);
        }
        for links in &mut targets {
            while links.len() < self.links_per_page {
                links.push(rng.below(pages));
            }
            rng.shuffle(links);
        }
        let images = IMAGES.min(pages);
        let mut files = BTreeMap::new();
        for (page, links) in targets.iter().enumerate() {
            let html = render(page, links, images, self.page_bytes, &mut rng);
            files.insert(page_path(page), (html.into_bytes(), HTML));
        }
        for image in 0..images {
            files.insert(format!("/img/{image}.png"), (PIXEL.to_vec(), PNG));
        }
        let depth = depths(&targets).into_iter().enumerate().map(|(page, d)| (page_path(page), d)).collect();
        GeneratedSite { files, depth }
    }
}

impl GeneratedSite {
    /// The pages at depth `max_depth` or less: what a crawl limited to that depth must fetch.
    pub fn pages_within(&self, max_depth: usize) -> Vec<String> {
        self.depth.iter().filter(|&(_, &d)| d <= max_depth).map(|(p, _)| p.clone()).collect()
    }

    /// The site as routes for a [`WebServer`](super::WebServer); the root's page is also served at
    /// `/index.html` (no generated link points there).
    pub fn to_site(&self) -> Site {
        let mut site = Site::new();
        for (path, (bytes, content_type)) in &self.files {
            site = site.route(path, Route::ok(content_type, bytes.clone()));
        }
        if let Some((bytes, content_type)) = self.files.get("/") {
            site = site.route("/index.html", Route::ok(content_type, bytes.clone()));
        }
        site
    }

    /// Writes the files under `dir` (`/` as `index.html`), for a real web server such as nginx.
    ///
    /// # Errors
    ///
    /// When a file cannot be written.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (path, (bytes, _)) in &self.files {
            let relative = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
            let file = dir.join(relative);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(file, bytes)?;
        }
        Ok(())
    }
}

/// The path of page `page`: `/` for the root, then a few directories so relative links climb.
fn page_path(page: usize) -> String {
    match page {
        0 => "/".to_owned(),
        n if n % 4 == 0 => format!("/p/{n}.html"),
        n => format!("/s/{}/p/{n}.html", n % 4),
    }
}

/// The directory segments of a path (`/s/1/p/3.html` → `["s", "1", "p"]`).
fn dir_segments(path: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = path.split('/').skip(1).collect();
    segments.pop();
    segments
}

/// A relative reference from the page at `from` to the path `to`.
fn relative(from: &str, to: &str) -> String {
    let from = dir_segments(from);
    let to: Vec<&str> = to.split('/').skip(1).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count().min(to.len() - 1);
    let up = "../".repeat(from.len() - common);
    let rest = to[common..].join("/");
    if up.is_empty() && rest.is_empty() { "./".to_owned() } else { up + &rest }
}

/// One way of writing a link from `from` to page `to`, chosen at random.
fn href(from: &str, to: usize, rng: &mut SplitMix64) -> String {
    let target = page_path(to);
    match rng.below(7) {
        0 | 1 => target,
        2 => relative(from, &target),
        3 => format!("./{}", relative(from, &target)),
        4 => format!("{target}#top"),
        5 => format!("{}#s{}", relative(from, &target), rng.below(9)),
        _ => format!("/q/..{target}"),
    }
}

/// An `<a>` tag with random letter case and quoting (unquoted only where the value allows it).
fn anchor(href: &str, text: &str, rng: &mut SplitMix64) -> String {
    let (a, attr) = match rng.below(4) {
        0 => ("A", "HREF"),
        1 => ("a", "Href"),
        _ => ("a", "href"),
    };
    let value = match rng.below(3) {
        0 => format!("'{href}'"),
        1 if !href.is_empty() && !href.contains(['\'', '"', ' ', '=', '<', '>', '`']) => href.to_owned(),
        _ => format!("\"{href}\""),
    };
    let class = if rng.below(3) == 0 { " class=\"nav\"" } else { "" };
    format!("<{a}{class} {attr}={value}>{text}</{a}>")
}

/// The HTML of one page.
fn render(page: usize, links: &[usize], images: usize, page_bytes: usize, rng: &mut SplitMix64) -> String {
    let path = page_path(page);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Page {page}</title></head>\n\
         <BODY>\n<h1 id=\"top\">Page {page}</h1>\n<ul>\n"
    );
    for &to in links {
        let link = anchor(&href(&path, to, rng), &format!("page {to}"), rng);
        let _ = writeln!(html, "<li>{link}</li>");
        if rng.below(8) == 0 {
            // The same link again, written the same way: a crawler must not fetch it twice.
            let _ = writeln!(html, "<li>{link} (again)</li>");
        }
    }
    html.push_str("</ul>\n");
    let _ = writeln!(html, "<p>{}</p>", anchor(FOREIGN[page % FOREIGN.len()], "elsewhere", rng));
    if page % 5 == 0 {
        let _ = writeln!(html, "<p><a href=\"mailto:someone@example.invalid\">mail</a>");
        let _ = writeln!(html, "<a href=\"javascript:void(0)\">script</a></p>");
    }
    let _ = writeln!(html, "<IMG SRC=\"/img/{}.png\" alt=\"a pixel\">", page % images);
    html.push_str("<p>");
    while html.len() + 20 < page_bytes {
        html.push_str(WORDS[rng.below(WORDS.len())]);
        html.push(' ');
    }
    html.push_str("</p>\n</BODY></html>\n");
    html
}

/// Breadth-first link depths from page 0.
fn depths(targets: &[Vec<usize>]) -> Vec<usize> {
    let mut depth = vec![usize::MAX; targets.len()];
    depth[0] = 0;
    let mut queue = VecDeque::from([0]);
    while let Some(page) = queue.pop_front() {
        for &next in &targets[page] {
            if depth[next] == usize::MAX {
                depth[next] = depth[page] + 1;
                queue.push_back(next);
            }
        }
    }
    depth
}

/// SplitMix64: a tiny, well-mixed generator whose output is fixed forever by its definition, so the
/// same seed gives the same site on every machine and release.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references_climb_and_descend() {
        assert_eq!(relative("/s/1/p/3.html", "/p/8.html"), "../../../p/8.html");
        assert_eq!(relative("/s/1/p/3.html", "/s/1/p/5.html"), "5.html");
        assert_eq!(relative("/s/1/p/3.html", "/s/2/p/6.html"), "../../2/p/6.html");
        assert_eq!(relative("/", "/s/2/p/6.html"), "s/2/p/6.html");
        assert_eq!(relative("/p/4.html", "/"), "../");
        assert_eq!(relative("/", "/"), "./");
    }

    #[test]
    fn splitmix_matches_its_reference_output() {
        // The first output for seed 1234567 from the reference implementation.
        assert_eq!(SplitMix64(1_234_567).next(), 6_457_827_717_110_365_317);
    }
}
