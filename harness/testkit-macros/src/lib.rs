//! `#[testkit::test]`: the attribute every graded test is written with.
//!
//! It is the standard `#[test]` (or `#[tokio::test]`, with `tokio` as its first argument) around the
//! same body, with two calls added: [`started`] before the body and [`finished`] after it. Under
//! `cargo lab`'s runner those two prove to the grader that the test ran to its end: a process that
//! exits early, aborts, or prints libtest's "test result: ok" itself cannot produce that proof. Under
//! a plain `cargo test` both calls do nothing.
//!
//! [`started`]: ../testkit/verdict/fn.started.html
//! [`finished`]: ../testkit/verdict/fn.finished.html

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{ItemFn, Meta, Token, parse_macro_input};

/// A graded test: `#[test]`, `#[test(tokio)]` or `#[test(tokio, flavor = "multi_thread", ...)]`
/// (the arguments after `tokio` are `#[tokio::test]`'s).
///
/// Import it in a test file with `use testkit::test;`: it then stands for the built-in `#[test]`,
/// also inside `proptest!`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = parse_macro_input!(item as ItemFn);
    let args = match Punctuated::<Meta, Token![,]>::parse_terminated.parse(args) {
        Ok(args) => args,
        Err(err) => return err.to_compile_error().into(),
    };
    let mut args = args.into_iter();
    let tokio = match args.next() {
        None => false,
        Some(Meta::Path(path)) if path.is_ident("tokio") => true,
        Some(other) => {
            return syn::Error::new_spanned(
                other,
                "expected `tokio` or nothing: #[test] or #[test(tokio, ...)]",
            )
            .to_compile_error()
            .into();
        }
    };
    let tokio_args: Vec<Meta> = args.collect();
    let is_async = function.sig.asyncness.is_some();
    if is_async != tokio {
        let why =
            if is_async { "an async test needs #[test(tokio)]" } else { "#[test(tokio)] needs an async fn" };
        return syn::Error::new_spanned(&function.sig, why).to_compile_error().into();
    }

    let mut function = function;
    let block = &function.block;
    let output = match &function.sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    // The body runs in a closure (or an async block), so that a `return` in it still ends the body
    // and the result passes through `finished` on the way out.
    let body = if is_async {
        quote! {{
            ::testkit::verdict::started();
            #[allow(clippy::let_unit_value)]
            let result: #output = async move #block.await;
            ::testkit::verdict::finished(&result);
            result
        }}
    } else {
        quote! {{
            ::testkit::verdict::started();
            #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
            let result: #output = (move || -> #output #block)();
            ::testkit::verdict::finished(&result);
            result
        }}
    };
    let harness =
        if tokio { quote!(#[::tokio::test(#(#tokio_args),*)]) } else { quote!(#[::core::prelude::v1::test]) };
    function.block = match syn::parse2(body) {
        Ok(block) => Box::new(block),
        Err(err) => return err.to_compile_error().into(),
    };
    quote! {
        #harness
        #function
    }
    .into()
}
