//! Finding the links of an HTML page: the URL-valued attributes of the tags that load or point at
//! something, resolved against the page (or its `<base href>`) and normalised.
//!
//! This is a scanner, not an HTML parser: it knows tags, attributes, comments, and that the text of
//! `<script>` and `<style>` is not markup. That is all link extraction needs, and it is fast and
//! cannot fail: any bytes give some list of links.

use crate::url::Url;

/// The tags whose attributes hold links, and which attribute.
const LINK_ATTRIBUTES: &[(&str, &str)] = &[
    ("a", "href"),
    ("area", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("iframe", "src"),
    ("frame", "src"),
    ("embed", "src"),
    ("source", "src"),
    ("audio", "src"),
    ("video", "src"),
    ("track", "src"),
];

/// The links of `html`, a page fetched from `page`: resolved against the page's URL (or against its
/// first `<base href>`, itself resolved against the page), normalised ([`Url::normalize`]), only
/// `http` and `https` ones, each once, in the order they first appear.
///
/// The links are the `href` of `a`, `area` and `link` tags and the `src` of `img`, `script`,
/// `iframe`, `frame`, `embed`, `source`, `audio`, `video` and `track` tags. Attribute names and tag
/// names match in any case; values may be double-quoted, single-quoted or
/// unquoted; character references (`&amp;`, `&#47;`, `&#x2F;`, `&quot;`…) are decoded. Links inside
/// comments and in the text of `<script>` and `<style>` elements are not links. Links that do not
/// parse (a bad port) are skipped. Never panics, whatever the bytes.
pub fn extract_links(html: &[u8], page: &Url) -> Vec<Url> {
    // ANCHOR: extract_links
    let mut base: Option<Url> = None;
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    for tag in Tags::new(html) {
        if tag.name.eq_ignore_ascii_case(b"base") {
            if base.is_none() {
                base = tag.attribute(b"href").and_then(|href| page.join(&href).ok());
            }
            continue;
        }
        let Some(&(_, attribute)) =
            LINK_ATTRIBUTES.iter().find(|(name, _)| tag.name.eq_ignore_ascii_case(name.as_bytes()))
        else {
            continue;
        };
        let Some(value) = tag.attribute(attribute.as_bytes()) else { continue };
        let Ok(url) = base.as_ref().unwrap_or(page).join(&value) else { continue };
        let url = url.normalize();
        if matches!(url.scheme(), "http" | "https") && url.host().is_some() && seen.insert(url.clone()) {
            links.push(url);
        }
    }
    links
    // ANCHOR_END: extract_links
}

/// One start tag: its name and its raw attribute text.
struct Tag<'a> {
    name: &'a [u8],
    attributes: &'a [u8],
}

impl Tag<'_> {
    /// The decoded value of the first attribute called `wanted` (any case).
    fn attribute(&self, wanted: &[u8]) -> Option<String> {
        let text = self.attributes;
        let mut i = 0;
        while i < text.len() {
            while i < text.len() && (text[i].is_ascii_whitespace() || text[i] == b'/') {
                i += 1;
            }
            let start = i;
            while i < text.len() && !text[i].is_ascii_whitespace() && !matches!(text[i], b'=' | b'/') {
                i += 1;
            }
            let name = &text[start..i];
            while i < text.len() && text[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value: &[u8] = b"";
            if text.get(i) == Some(&b'=') {
                i += 1;
                while i < text.len() && text[i].is_ascii_whitespace() {
                    i += 1;
                }
                match text.get(i) {
                    Some(&quote @ (b'"' | b'\'')) => {
                        let end =
                            text[i + 1..].iter().position(|&b| b == quote).map_or(text.len(), |p| p + i + 1);
                        value = &text[i + 1..end];
                        i = (end + 1).min(text.len());
                    }
                    _ => {
                        let start = i;
                        while i < text.len() && !text[i].is_ascii_whitespace() {
                            i += 1;
                        }
                        value = &text[start..i];
                    }
                }
            }
            if !name.is_empty() && name.eq_ignore_ascii_case(wanted) {
                return Some(decode_entities(value));
            }
        }
        None
    }
}

/// The start tags of a document, skipping comments, declarations, end tags and raw text.
struct Tags<'a> {
    html: &'a [u8],
    at: usize,
}

impl<'a> Tags<'a> {
    fn new(html: &'a [u8]) -> Self {
        Tags { html, at: 0 }
    }

    /// The position of the first `needle` at or after `from` (ASCII case-insensitive), if any.
    fn find_from(&self, from: usize, needle: &[u8]) -> Option<usize> {
        let hay = self.html.get(from..)?;
        hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| p + from)
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let html = self.html;
        loop {
            let lt = self.find_from(self.at, b"<")?;
            let rest = &html[lt + 1..];
            if rest.starts_with(b"!--") {
                self.at = self.find_from(lt + 4, b"-->").map_or(html.len(), |end| end + 3);
                continue;
            }
            if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
                // `</x>`, `<!DOCTYPE>`, `<?xml?>` or a lone `<` in text.
                self.at = lt + 1;
                if matches!(rest.first(), Some(b'/' | b'!' | b'?')) {
                    self.at = self.find_from(lt, b">").map_or(html.len(), |end| end + 1);
                }
                continue;
            }
            let name_len = rest.iter().position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/');
            let name_end = lt + 1 + name_len.unwrap_or(rest.len());
            let end = tag_end(html, name_end);
            if end == html.len() {
                // A tag cut off by the end of the input is not a tag (browsers drop it too).
                return None;
            }
            let tag = Tag { name: &html[lt + 1..name_end], attributes: &html[name_end..end] };
            self.at = (end + 1).min(html.len());
            for raw in [&b"script"[..], b"style"] {
                if tag.name.eq_ignore_ascii_case(raw) {
                    let closing = [&b"</"[..], raw].concat();
                    self.at = self.find_from(self.at, &closing).unwrap_or(html.len());
                }
            }
            return Some(tag);
        }
    }
}

/// The index of the `>` that ends a tag whose attributes start at `from`; a `>` inside a quoted
/// value does not count. The end of the input when there is none.
fn tag_end(html: &[u8], from: usize) -> usize {
    let mut quote = None;
    let mut after_equals = false;
    for (i, &b) in html.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'>' => return i,
            // Only a quote that starts a value opens a quoted value (`a=b"c` is unquoted).
            None if (b == b'"' || b == b'\'') && after_equals => quote = Some(b),
            None => {}
        }
        if quote.is_none() && !b.is_ascii_whitespace() {
            after_equals = b == b'=';
        }
    }
    html.len()
}

/// Decodes HTML character references in an attribute value; invalid UTF-8 is replaced.
fn decode_entities(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    if !text.contains('&') {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = &*text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match decode_one(rest) {
            Some((ch, used)) => {
                out.push(ch);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the reference at the start of `text` (which starts with `&`): the character and how
/// many bytes it took, the `;` included.
fn decode_one(text: &str) -> Option<(char, usize)> {
    let semi = text.bytes().take(12).position(|b| b == b';')?;
    let name = &text[1..semi];
    let ch = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            _ => return None,
        }
    };
    Some((ch, semi + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_named_and_numeric_references() {
        assert_eq!(decode_entities(b"a?x=1&amp;y=2&#47;&#x2f;&bogus;&"), "a?x=1&y=2//&bogus;&");
    }
}
