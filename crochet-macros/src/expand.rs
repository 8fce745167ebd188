//! The expansion both attributes share: an `async fn` becomes a blocking
//! fn that moves its arguments into a closure, and hands the closure to the
//! reactor.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::token::Comma;
use syn::{
    AttrStyle, Attribute, FnArg, ItemFn, Pat, PatIdent, Receiver, ReceiverKind, ReturnType, Safety,
    Signature, Type,
};

use crate::args::{self, Args, Kind};

/// Expands `#[run_in_reactor]` or `#[wait_for]` on `item`.
///
/// On any error, the output is the compile errors and `item` unchanged, so
/// that the errors are about the attribute rather than about a function
/// that went missing.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                format!("{kind} goes on an `async fn` with a body"),
            );
            return with_item(error, item);
        }
    };
    let args = args::parse(kind, args);
    let mut errors = Errors::default();
    check_signature(kind, &function.sig, &mut errors);
    let arguments = move_arguments(kind, &function.sig.inputs, &mut errors);
    match (args, errors.0) {
        (Ok(args), None) => generate(kind, &args, function, arguments),
        (Ok(_), Some(error)) => with_item(error, item),
        (Err(mut error), others) => {
            if let Some(others) = others {
                error.combine(others);
            }
            with_item(error, item)
        }
    }
}

fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = error.to_compile_error();
    tokens.extend(item);
    tokens
}

/// Compile errors, collected so that the user sees all of them at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }
}

/// Refuses what a blocking fn made from an `async fn` cannot be.
fn check_signature(kind: Kind, sig: &Signature, errors: &mut Errors) {
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!(
                "{kind} goes on an `async fn`: it runs the function's body as a future in the reactor; \
                 make this function `async`"
            ),
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("{kind} cannot make a `const fn`"),
        ));
    }
    if let Safety::Unsafe(unsafety) = &sig.safety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!(
                "{kind} does not take an `unsafe fn`: its body would run on the reactor thread, \
                 away from the caller's safety contract; use `unsafe` blocks inside a safe fn"
            ),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("{kind} does not take an `extern` fn"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("{kind} does not take a variadic fn"),
        ));
    }
}

/// The generated fn's parameters, and the statements that move each
/// argument into the future.
struct Arguments {
    params: Punctuated<FnArg, Comma>,
    moves: Vec<TokenStream>,
}

/// Rewrites the parameters: a plain `name: T` (or `mut name: T`) keeps its
/// name; any other pattern gets a fresh name and is destructured inside
/// the future. Every argument is moved into the future, used or not, so
/// that it lives as long as the operation, as in an `async fn`.
fn move_arguments(kind: Kind, inputs: &Punctuated<FnArg, Comma>, errors: &mut Errors) -> Arguments {
    let mut params = Punctuated::new();
    let mut moves = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                if let Some(message) = borrowed_receiver(kind, receiver) {
                    errors.push(syn::Error::new_spanned(receiver, message));
                }
                let self_token = &receiver.self_token;
                // `self` cannot be rebound with `let`; borrowing it makes
                // the `move` block capture it, by value.
                moves.push(quote!(let _ = &#self_token;));
                params.push(input.clone());
            }
            FnArg::Typed(typed) => {
                let cfgs = typed
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("cfg"));
                let mut param = typed.clone();
                match &*typed.pat {
                    Pat::Ident(PatIdent {
                        by_ref: None,
                        mutability,
                        ident,
                        subpat: None,
                        ..
                    }) => {
                        // `mut` belongs to the binding inside the future.
                        if let Pat::Ident(pat) = &mut *param.pat {
                            pat.mutability = None;
                        }
                        moves.push(quote!(#(#cfgs)* let #mutability #ident = #ident;));
                    }
                    pattern => {
                        let name =
                            format_ident!("__crochet_arg{}", index, span = Span::mixed_site());
                        param.pat = Box::new(Pat::Ident(PatIdent {
                            attrs: Vec::new(),
                            by_ref: None,
                            mutability: None,
                            ident: name.clone(),
                            subpat: None,
                        }));
                        // `let _ = arg;` would not move the argument in.
                        let binding = match pattern {
                            Pat::Wild(_) => name.to_token_stream(),
                            pattern => pattern.to_token_stream(),
                        };
                        moves.push(quote!(#(#cfgs)* let #binding = #name;));
                    }
                }
                params.push(FnArg::Typed(param));
            }
        }
    }
    Arguments { params, moves }
}

/// The message for a receiver the `'static` closure cannot hold: `&self`,
/// `&mut self`, `self: &Self` (unless the borrow is `'static`).
fn borrowed_receiver(kind: Kind, receiver: &Receiver) -> Option<String> {
    let (lifetime, mutable) = match &receiver.kind {
        ReceiverKind::Reference(_, lifetime, mutability) => (lifetime, mutability.is_some()),
        ReceiverKind::Typed(_, ty) => match &**ty {
            Type::Reference(reference) => (&reference.lifetime, reference.mutability.is_some()),
            _ => return None,
        },
        _ => return None,
    };
    if lifetime
        .as_ref()
        .is_some_and(|lifetime| lifetime.ident == "static")
    {
        return None;
    }
    let written = if mutable { "&mut self" } else { "&self" };
    Some(format!(
        "{kind} cannot take `{written}`: the body runs on the reactor thread in a `'static` closure, \
         which cannot borrow from the caller; take `self: Arc<Self>` (or `self` by value) instead"
    ))
}

fn generate(kind: Kind, args: &Args, function: ItemFn, arguments: Arguments) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = function;
    // syn keeps the body's inner attributes (`#![allow(…)]`) with the
    // outer ones; they go back at the top of the new body.
    let (inner, outer): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Inner(_)));
    let Signature {
        fn_token,
        ident,
        generics,
        output,
        ..
    } = sig;
    let where_clause = &generics.where_clause;
    let Arguments { params, moves } = arguments;
    let (arrow, output) = match output {
        ReturnType::Default => (quote!(->), quote!(())),
        ReturnType::Type(arrow, output) => (arrow.to_token_stream(), output.to_token_stream()),
    };
    // `::crochet` unless `crate = "…"` names another path to it.
    let krate = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::crochet), ToTokens::to_token_stream);
    let pin_output = pin_output(&output);
    let closure = quote!(move || async move { #pin_output #(#moves)* #block });
    let method = |name: &str| {
        let span = args
            .reactor
            .as_ref()
            .map_or_else(Span::call_site, Spanned::span);
        syn::Ident::new(name, span)
    };
    let (returns, call) = match kind {
        Kind::RunInReactor => {
            let returns = quote!(#krate::EventualResult<#output>);
            let call = match &args.reactor {
                None => quote!(#krate::run_in_reactor(#closure)),
                Some(reactor) => {
                    let method = method("run_in_reactor");
                    quote!((#reactor).#method(#closure))
                }
            };
            (returns, call)
        }
        Kind::WaitFor => {
            let returns = quote!(::std::result::Result<#output, #krate::Error>);
            let nanos = proc_macro2::Literal::u64_suffixed(args.timeout_nanos.unwrap_or_default());
            let timeout = quote!(::core::time::Duration::from_nanos(#nanos));
            let call = match &args.reactor {
                None => quote!(#krate::wait_for(#timeout, #closure)),
                Some(reactor) => {
                    let method = method("wait_for");
                    quote!((#reactor).#method(#timeout, #closure))
                }
            };
            (returns, call)
        }
    };
    quote! {
        #(#outer)*
        #vis #fn_token #ident #generics(#params) #arrow #returns #where_clause {
            #(#inner)*
            #call
        }
    }
}

/// A statement that fixes the future's output to the declared type before
/// the body, so that the body's values are coerced to it (`Box::new(x)` to
/// `Box<dyn Trait>`) as in an `async fn`. An `async` block has no return
/// type to declare; a `return` of the declared type, never run, does it.
/// `impl Trait` cannot be named there: such outputs are left to inference.
fn pin_output(output: &TokenStream) -> TokenStream {
    if mentions_impl(output.clone()) {
        return TokenStream::new();
    }
    let value = syn::Ident::new("__crochet_output", Span::mixed_site());
    quote! {
        if let ::core::option::Option::Some(#value) = ::core::option::Option::None::<#output> {
            #[allow(unreachable_code)]
            return #value;
        }
    }
}

fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => ident == "impl",
        proc_macro2::TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion as text, without whitespace, so that a test reads the
    /// tokens rather than `TokenStream`'s spacing.
    fn expanded(kind: Kind, args: &str, item: &str) -> String {
        let args = args.parse().expect("the arguments lex");
        let item = item.parse().expect("the item lexes");
        expand(kind, args, item)
            .to_string()
            .split_whitespace()
            .collect()
    }

    #[test]
    fn crate_argument_replaces_every_mention_of_crochet() {
        let run = expanded(
            Kind::RunInReactor,
            r#"crate = "my_runtime::crochet""#,
            "async fn answer() -> u8 { 42 }",
        );
        assert!(
            run.contains("->my_runtime::crochet::EventualResult<u8>"),
            "{run}"
        );
        assert!(
            run.contains("my_runtime::crochet::run_in_reactor(move||"),
            "{run}"
        );
        assert!(
            !run.replace("my_runtime::crochet::", "")
                .contains("crochet::"),
            "{run}"
        );
        let wait = expanded(
            Kind::WaitFor,
            r#"timeout = "1s", crate = "::my_runtime::crochet""#,
            "async fn answer() -> u8 { 42 }",
        );
        assert!(
            wait.contains("->::std::result::Result<u8,::my_runtime::crochet::Error>"),
            "{wait}"
        );
        assert!(wait.contains("::my_runtime::crochet::wait_for("), "{wait}");
    }

    #[test]
    fn without_crate_argument_the_expansion_names_crochet() {
        let run = expanded(Kind::RunInReactor, "", "async fn answer() -> u8 { 42 }");
        assert!(run.contains("->::crochet::EventualResult<u8>"), "{run}");
        assert!(run.contains("::crochet::run_in_reactor(move||"), "{run}");
    }

    #[test]
    fn crate_argument_must_be_a_path_in_a_string() {
        for args in [
            r#"crate = "not a path""#,
            r#"crate = """#,
            r#"crate = "crochet::""#,
            r#"crate = "crochet<u8>""#,
            "crate = crochet",
            r#"crate = "crochet", crate = "crochet""#,
        ] {
            let run = expanded(Kind::RunInReactor, args, "async fn answer() {}");
            assert!(run.starts_with("::core::compile_error!"), "{args}: {run}");
        }
    }
}
