//! Finding the links of an HTML page: the URL-valued attributes of the tags that load or point at
//! something, resolved against the page (or its `<base href>`) and normalised.
//!
//! This is a scanner, not an HTML parser: it knows tags, attributes, comments, and that the text of
//! `<script>` and `<style>` is not markup. That is all link extraction needs, and it is fast and
//! cannot fail: any bytes give some list of links.

use crate::url::Url;

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
    todo!("stage 2: scan the tags of the page, take their link attributes, resolve and normalise them")
}

// TODO(stage 2): a scanner over the bytes: find `<`, skip comments (`<!-- … -->`), declarations and
// end tags, read the tag name and its attributes (quoted or not), and skip the text of <script> and
// <style>. Decode character references in the values you keep.
