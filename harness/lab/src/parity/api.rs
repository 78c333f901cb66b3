//! The items of one source file, as `syn` parses it: what a student's crate and its reference must
//! agree on.
//!
//! An item's *signature* is its tokens without function bodies, without `mut` on parameters, without
//! the attributes that only steer lints, inlining or panic locations, and without its docs; its *docs*
//! are its `///` comments. Fields, enum variants and the items of `impl` and `trait` blocks are items
//! of their own. Two files match when every public item is in both, and every item in both (public or
//! not: the skeleton's scaffolding must describe the reference's design) has the same signature and
//! docs. A private item on one side only is that side's own design; test modules are not read.

use std::collections::{BTreeMap, BTreeSet};

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, Fields, ImplItem, Item, TraitItem, Type, Visibility};

/// One item of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiItem {
    /// What the item is, unique in its file: `fn parse_line`, `impl Follower::fn open`,
    /// `struct Config.jobs`, `enum Error::Io`, `impl Display for Error`.
    pub key: String,
    /// The line the item starts on, for messages.
    pub line: usize,
    /// Its tokens without bodies, docs and lint attributes.
    pub signature: String,
    /// Its doc comment, one string.
    pub docs: String,
    /// Whether the item is `pub`: one only one side has is a difference.
    pub public: bool,
    /// For an `impl` block or an item inside one, the name of the type it is for: such an item is public
    /// only when that type is public too.
    pub self_type: Option<String>,
}

/// A file's items by key, and its module doc (`//!`).
#[derive(Debug, Default)]
pub struct PublicApi {
    /// The file's `//!` comment.
    pub module_docs: String,
    /// The items, by key.
    pub items: BTreeMap<String, ApiItem>,
    /// The names of the public types (structs, enums, unions, traits, type aliases).
    pub types: BTreeSet<String>,
}

impl PublicApi {
    /// Parses `source` and collects its public items.
    ///
    /// # Errors
    ///
    /// The parser's error when `source` is not valid Rust.
    pub fn parse(source: &str) -> syn::Result<PublicApi> {
        let file = syn::parse_file(source)?;
        let mut api = PublicApi { module_docs: docs_of(&file.attrs), ..PublicApi::default() };
        api.collect(&file.items, "");
        Ok(api)
    }

    fn push(
        &mut self,
        key: String,
        line: usize,
        public: bool,
        signature: String,
        docs: String,
        self_type: Option<String>,
    ) {
        let mut unique = key.clone();
        let mut count = 1;
        // The same key twice is an item under two `#[cfg]`s: keep both, numbered.
        while self.items.contains_key(&unique) {
            count += 1;
            unique = format!("{key} #{count}");
        }
        self.items.insert(unique.clone(), ApiItem { key: unique, line, signature, docs, public, self_type });
    }

    fn collect(&mut self, items: &[Item], module: &str) {
        for item in items {
            self.collect_item(item, module);
        }
    }

    fn collect_item(&mut self, item: &Item, module: &str) {
        let line = item.span().start().line;
        match item {
            Item::Fn(f) => {
                let mut f = f.clone();
                let docs = take_docs(&mut f.attrs);
                *f.block = empty_block();
                forget_mut_parameters(&mut f.sig);
                let public = is_public(&f.vis);
                self.push(format!("{module}fn {}", f.sig.ident), line, public, tokens(&f), docs, None);
            }
            Item::Struct(s) => {
                let mut s = s.clone();
                let docs = take_docs(&mut s.attrs);
                let public = is_public(&s.vis);
                let name = format!("{module}struct {}", s.ident);
                self.named_type(public, &s.ident);
                self.fields(&name, &s.fields, public, false);
                s.fields = without_fields(&s.fields);
                self.push(name, line, public, tokens(&s), docs, None);
            }
            Item::Union(u) => {
                let mut u = u.clone();
                let docs = take_docs(&mut u.attrs);
                let public = is_public(&u.vis);
                let name = format!("{module}union {}", u.ident);
                self.named_type(public, &u.ident);
                self.fields(&name, &Fields::Named(u.fields.clone()), public, false);
                u.fields.named.clear();
                self.push(name, line, public, tokens(&u), docs, None);
            }
            Item::Enum(e) => {
                let mut e = e.clone();
                let docs = take_docs(&mut e.attrs);
                let public = is_public(&e.vis);
                let name = format!("{module}enum {}", e.ident);
                self.named_type(public, &e.ident);
                for variant in &mut e.variants {
                    let variant_name = format!("{name}::{}", variant.ident);
                    let variant_docs = take_docs(&mut variant.attrs);
                    // A variant's fields are as public as its enum.
                    self.fields(&variant_name, &variant.fields, public, true);
                    variant.fields = without_fields(&variant.fields);
                    let variant_line = variant.span().start().line;
                    self.push(variant_name, variant_line, public, tokens(&*variant), variant_docs, None);
                }
                e.variants.clear();
                self.push(name, line, public, tokens(&e), docs, None);
            }
            Item::Trait(t) => {
                let mut t = t.clone();
                let docs = take_docs(&mut t.attrs);
                let public = is_public(&t.vis);
                let name = format!("{module}trait {}", t.ident);
                self.named_type(public, &t.ident);
                for trait_item in &mut t.items {
                    let item_line = trait_item.span().start().line;
                    let (kind, ident, attrs) = match trait_item {
                        TraitItem::Fn(f) => {
                            f.default = None;
                            f.semi_token = Some(Default::default());
                            forget_mut_parameters(&mut f.sig);
                            ("fn", f.sig.ident.to_string(), &mut f.attrs)
                        }
                        TraitItem::Const(c) => ("const", c.ident.to_string(), &mut c.attrs),
                        TraitItem::Type(ty) => ("type", ty.ident.to_string(), &mut ty.attrs),
                        _ => continue,
                    };
                    let item_docs = take_docs(attrs);
                    let key = format!("{name}::{kind} {ident}");
                    self.push(key, item_line, public, tokens(&*trait_item), item_docs, None);
                }
                t.items.clear();
                self.push(name, line, public, tokens(&t), docs, None);
            }
            Item::Impl(block) => self.collect_impl(block, module, line),
            Item::Mod(m) => {
                if is_test_only(&m.attrs) {
                    return;
                }
                let name = format!("{module}mod {}", m.ident);
                if is_public(&m.vis) {
                    let mut header = m.clone();
                    let docs = take_docs(&mut header.attrs);
                    header.content = None;
                    header.semi = Some(Default::default());
                    self.push(name.clone(), line, true, tokens(&header), docs, None);
                }
                if let Some((_, items)) = &m.content {
                    self.collect(items, &format!("{name}::"));
                }
            }
            Item::Const(c) => {
                let mut c = c.clone();
                let docs = take_docs(&mut c.attrs);
                let public = is_public(&c.vis);
                self.push(format!("{module}const {}", c.ident), line, public, tokens(&c), docs, None);
            }
            Item::Static(s) => {
                let mut s = s.clone();
                let docs = take_docs(&mut s.attrs);
                let public = is_public(&s.vis);
                self.push(format!("{module}static {}", s.ident), line, public, tokens(&s), docs, None);
            }
            Item::Type(ty) => {
                let mut ty = ty.clone();
                let docs = take_docs(&mut ty.attrs);
                let public = is_public(&ty.vis);
                self.named_type(public, &ty.ident);
                self.push(format!("{module}type {}", ty.ident), line, public, tokens(&ty), docs, None);
            }
            // Private imports are how a file is written, not what it offers.
            Item::Use(u) if is_public(&u.vis) => {
                let mut u = u.clone();
                let docs = take_docs(&mut u.attrs);
                let key = format!("{module}use {}", u.tree.to_token_stream());
                self.push(key, line, true, tokens(&u), docs, None);
            }
            Item::Macro(m) if m.attrs.iter().any(|attr| attr.path().is_ident("macro_export")) => {
                let mut m = m.clone();
                let docs = take_docs(&mut m.attrs);
                let name = m.ident.as_ref().map_or_else(|| "?".to_owned(), ToString::to_string);
                self.push(format!("{module}macro {name}"), line, true, tokens(&m), docs, None);
            }
            _ => {}
        }
    }

    fn named_type(&mut self, public: bool, ident: &syn::Ident) {
        if public {
            self.types.insert(ident.to_string());
        }
    }

    /// An `impl` block: a trait impl is one item (its header and associated types and constants); an
    /// inherent impl contributes its functions, constants and types, one item each.
    fn collect_impl(&mut self, block: &syn::ItemImpl, module: &str, line: usize) {
        if is_test_only(&block.attrs) {
            return;
        }
        let self_type = type_name(&block.self_ty);
        let self_ty = block.self_ty.to_token_stream().to_string();
        if let Some((path, _)) = &block.trait_ {
            let mut header = block.clone();
            let docs = take_docs(&mut header.attrs);
            // A trait's methods are the trait's to declare; what the impl itself decides is its
            // header and its associated types and constants.
            header.items.retain_mut(|item| match item {
                ImplItem::Type(ty) => {
                    take_docs(&mut ty.attrs);
                    true
                }
                ImplItem::Const(c) => {
                    take_docs(&mut c.attrs);
                    true
                }
                _ => false,
            });
            let key = format!("{module}impl {} for {self_ty}", path.to_token_stream());
            self.push(key, line, true, tokens(&header), docs, Some(self_type));
            return;
        }
        for item in &block.items {
            let item_line = item.span().start().line;
            let mut item = item.clone();
            let (kind, ident, public, docs) = match &mut item {
                ImplItem::Fn(f) => {
                    f.block = empty_block();
                    forget_mut_parameters(&mut f.sig);
                    ("fn", f.sig.ident.to_string(), is_public(&f.vis), take_docs(&mut f.attrs))
                }
                ImplItem::Const(c) => {
                    ("const", c.ident.to_string(), is_public(&c.vis), take_docs(&mut c.attrs))
                }
                ImplItem::Type(ty) => {
                    ("type", ty.ident.to_string(), is_public(&ty.vis), take_docs(&mut ty.attrs))
                }
                _ => continue,
            };
            // The block's generics and bounds are part of every item's signature.
            let mut header = block.clone();
            header.attrs.retain(|attr| !is_doc(attr) && !is_free_to_differ(attr));
            header.items = vec![item];
            let key = format!("{module}impl {self_ty}::{kind} {ident}");
            self.push(key, item_line, public, tokens(&header), docs, Some(self_type.clone()));
        }
    }

    /// The fields of a struct, union or enum variant, one item each (`all_public`: an enum variant's
    /// fields are as public as the enum).
    fn fields(&mut self, owner: &str, fields: &Fields, owner_public: bool, all_public: bool) {
        for (index, field) in fields.iter().enumerate() {
            let public = owner_public && (all_public || is_public(&field.vis));
            let mut field = field.clone();
            let docs = take_docs(&mut field.attrs);
            let name = field.ident.as_ref().map_or_else(|| index.to_string(), ToString::to_string);
            let line = field.span().start().line;
            self.push(format!("{owner}.{name}"), line, public, tokens(&field), docs, None);
        }
    }
}

/// `pub`, not `pub(crate)` or private.
fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// `#[cfg(test)]`: an item that is not part of the crate the student builds.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && attr.meta.to_token_stream().to_string().replace(' ', "") == "cfg(test)"
    })
}

fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}

/// Attributes that steer lints, inlining or panics' locations: free to differ between a skeleton and
/// its reference (a skeleton silences unused-variable warnings that a solution never has).
fn is_free_to_differ(attr: &Attribute) -> bool {
    let path = attr.path();
    let first = path.segments.first().map(|segment| segment.ident.to_string()).unwrap_or_default();
    matches!(
        first.as_str(),
        "allow"
            | "expect"
            | "warn"
            | "deny"
            | "forbid"
            | "inline"
            | "track_caller"
            | "cold"
            | "rustfmt"
            | "clippy"
    )
}

/// Removes the doc attributes from `attrs`, with the ones free to differ, and returns the doc text.
fn take_docs(attrs: &mut Vec<Attribute>) -> String {
    let docs = docs_of(attrs);
    attrs.retain(|attr| !is_doc(attr) && !is_free_to_differ(attr));
    docs
}

/// The text of the doc attributes in `attrs`, a line each.
fn docs_of(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| is_doc(attr))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(pair) => match &pair.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) => Some(text.value()),
                other => Some(other.to_token_stream().to_string()),
            },
            _ => None,
        })
        .collect();
    lines.join("\n")
}

/// `fields` emptied, keeping only their kind (named, tuple or unit): each field is an item of its own.
fn without_fields(fields: &Fields) -> Fields {
    let mut fields = fields.clone();
    match &mut fields {
        Fields::Named(named) => named.named.clear(),
        Fields::Unnamed(unnamed) => unnamed.unnamed.clear(),
        Fields::Unit => {}
    }
    fields
}

/// `mut` on a by-value parameter is the body's business, not the caller's: `fn f(mut x: u8)` and
/// `fn f(x: u8)` have one signature.
fn forget_mut_parameters(sig: &mut syn::Signature) {
    for input in &mut sig.inputs {
        match input {
            syn::FnArg::Typed(typed) => {
                if let syn::Pat::Ident(binding) = &mut *typed.pat {
                    binding.mutability = None;
                }
            }
            // `mut self`; `&mut self` is the receiver's kind, kept.
            syn::FnArg::Receiver(receiver) => receiver.mutability = None,
        }
    }
}

fn empty_block() -> syn::Block {
    syn::parse_quote!({})
}

fn tokens(item: &impl ToTokens) -> String {
    item.to_token_stream().to_string()
}

/// The name an `impl` block is for: the last segment of a path type, else the type's tokens.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| ty.to_token_stream().to_string(), |segment| segment.ident.to_string()),
        Type::Reference(reference) => type_name(&reference.elem),
        _ => ty.to_token_stream().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(source: &str) -> PublicApi {
        PublicApi::parse(source).unwrap()
    }

    fn keys(source: &str) -> Vec<String> {
        api(source).items.into_keys().collect()
    }

    fn signature(source: &str, key: &str) -> String {
        api(source).items[key].signature.clone()
    }

    #[test]
    fn bodies_mut_bindings_and_lint_attributes_do_not_count() {
        let skeleton = "/// Adds.\n#[allow(unused_variables)]\npub fn add(a: u8, b: u8) -> u8 { todo!() }";
        let solution = "/// Adds.\n#[inline]\npub fn add(mut a: u8, b: u8) -> u8 {\n    a += b;\n    a\n}";
        assert_eq!(api(skeleton).items, api(solution).items);
        let method =
            |receiver: &str| signature(&format!("impl S {{ pub fn f({receiver}) {{}} }}"), "impl S::fn f");
        assert_eq!(method("self"), method("mut self"));
        assert_ne!(method("&self"), method("&mut self"));
    }

    #[test]
    fn signatures_and_docs_count() {
        let one = api("/// Adds.\npub fn add(a: u8, b: u8) -> u8 { a + b }");
        let other_sig = api("/// Adds.\npub fn add(a: u16, b: u8) -> u8 { todo!() }");
        let other_doc = api("/// Sums.\npub fn add(a: u8, b: u8) -> u8 { todo!() }");
        let crate_only = api("/// Adds.\npub(crate) fn add(a: u8, b: u8) -> u8 { a + b }");
        assert_ne!(one.items["fn add"].signature, other_sig.items["fn add"].signature);
        assert_eq!(one.items["fn add"].signature, other_doc.items["fn add"].signature);
        assert_ne!(one.items["fn add"].docs, other_doc.items["fn add"].docs);
        assert_ne!(one.items["fn add"].signature, crate_only.items["fn add"].signature);
        assert!(one.items["fn add"].public && !crate_only.items["fn add"].public);
    }

    #[test]
    fn every_item_is_read_but_tests_and_private_imports() {
        let source = "use std::io;\nfn helper() {}\npub(crate) fn shared() {}\n#[cfg(test)]\nmod tests { pub fn t() {} }\n\
                      pub struct S { pub a: u8, b: u8 }\nimpl S { pub fn new() -> S { todo!() } fn private() {} }";
        assert_eq!(
            keys(source),
            [
                "fn helper",
                "fn shared",
                "impl S::fn new",
                "impl S::fn private",
                "struct S",
                "struct S.a",
                "struct S.b"
            ]
        );
        let api = api(source);
        let public: Vec<&str> =
            api.items.values().filter(|item| item.public).map(|item| item.key.as_str()).collect();
        assert_eq!(public, ["impl S::fn new", "struct S", "struct S.a"]);
    }

    #[test]
    fn enum_variants_and_their_fields_are_items() {
        let source = "/// E.\npub enum E {\n    /// A.\n    A { /// x.\n x: u8 },\n    B(u16),\n}";
        assert_eq!(keys(source), ["enum E", "enum E::A", "enum E::A.x", "enum E::B", "enum E::B.0"]);
        let api = api(source);
        assert_eq!(api.items["enum E::A.x"].docs, " x.");
        assert!(api.items["enum E::B.0"].public, "a public enum's variant fields are public");
    }

    #[test]
    fn trait_impls_are_one_item_with_their_associated_types() {
        let one = api("impl Iterator for I { type Item = u8; fn next(&mut self) -> Option<u8> { None } }");
        let other =
            api("impl Iterator for I { type Item = u16; fn next(&mut self) -> Option<u16> { todo!() } }");
        let key = "impl Iterator for I";
        assert_eq!(one.items[key].self_type.as_deref(), Some("I"));
        assert_ne!(one.items[key].signature, other.items[key].signature);
    }

    #[test]
    fn module_docs_and_public_types() {
        let api = api("//! The module.\npub struct S;\npub enum E { A }\nstruct Private;\npub fn f() {}");
        assert_eq!(api.module_docs, " The module.");
        assert_eq!(api.types.iter().collect::<Vec<_>>(), ["E", "S"]);
    }

    #[test]
    fn inline_modules_prefix_their_items() {
        assert_eq!(keys("pub mod inner { pub fn f() {} }"), ["mod inner", "mod inner::fn f"]);
    }

    #[test]
    fn invalid_rust_is_an_error() {
        assert!(PublicApi::parse("pub fn (").is_err());
    }
}
