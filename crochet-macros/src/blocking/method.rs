//! One method of the blocking twin: what the async method becomes, and
//! why some cannot become anything.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::token::Comma;
use syn::{
    Attribute, FnArg, GenericParam, Ident, ImplItemFn, Pat, PatIdent, Receiver, ReceiverKind,
    ReturnType, Safety, Type, TypeImplTrait, TypeParamBound,
};

use super::options::MethodOptions;
use crate::expand::borrows;
use crate::output;

/// What a method of the `impl` becomes in the twin.
pub(crate) enum Plan {
    /// Left out: `#[blocking(skip)]`, or a fn that is neither `async` nor
    /// a stream, nor marked `forward`.
    Skip,
    /// An `async fn`, waited for. `inline_only` where its future may
    /// borrow or need not be `Send` (`wait_for_ref`); otherwise it runs
    /// where `wait_for` runs it (on the caller's thread, or on the
    /// reactor's), and its future must be `Send + 'static`.
    Wait { inline_only: bool },
    /// A fn that returns `impl Stream<Item = T>`: the stream runs on the
    /// reactor, read through an `EventualStream<T>`.
    Stream { item: Box<Type> },
    /// A fn that is not `async`, forwarded as it is (`#[blocking(forward)]`).
    Forward,
}

/// Decides what `method` becomes; an error says why it cannot.
pub(crate) fn plan(method: &ImplItemFn, options: MethodOptions) -> syn::Result<Plan> {
    let sig = &method.sig;
    if options.skip {
        return Ok(Plan::Skip);
    }
    let stream = stream_item(&sig.output);
    if sig.asyncness.is_none() && !options.forward && stream.is_none() {
        return Ok(Plan::Skip);
    }
    if let Safety::Unsafe(unsafety) = &sig.safety {
        return Err(syn::Error::new(
            unsafety.span,
            "`#[crochet::blocking]` does not forward an `unsafe fn`; mark it `#[blocking(skip)]`",
        ));
    }
    check_receiver(method)?;
    if let Some(cfg) = sig.inputs.iter().find_map(|input| match input {
        FnArg::Typed(typed) => typed.attrs.iter().find(|attr| attr.path().is_ident("cfg")),
        FnArg::Receiver(_) => None,
    }) {
        return Err(syn::Error::new_spanned(
            cfg,
            "`#[crochet::blocking]` cannot forward a parameter under `#[cfg]`: the twin's call \
             passes every argument; put the `#[cfg]` on the whole method, or mark it \
             `#[blocking(skip)]`",
        ));
    }
    if sig.asyncness.is_none() {
        if options.inline {
            return Err(at(
                options.span,
                "`inline` is for `async fn`s: this one is not `async`",
            ));
        }
        return Ok(match stream {
            Some(item) if !options.forward => Plan::Stream {
                item: Box::new(item),
            },
            _ => Plan::Forward,
        });
    }
    if options.forward {
        return Err(at(
            options.span,
            "`forward` is for fns that are not `async`: an `async fn` becomes a blocking one already",
        ));
    }
    let generic = sig
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    let borrowed = sig.inputs.iter().any(|input| match input {
        FnArg::Typed(typed) => {
            borrows(typed.ty.to_token_stream()) || matches!(&*typed.ty, Type::ImplTrait(_))
        }
        FnArg::Receiver(_) => false,
    });
    Ok(Plan::Wait {
        inline_only: options.inline || generic || borrowed,
    })
}

fn at(span: Option<Span>, message: &str) -> syn::Error {
    syn::Error::new(span.unwrap_or_else(Span::call_site), message)
}

/// Only `&self` can be forwarded: the twin shares the value.
fn check_receiver(method: &ImplItemFn) -> syn::Result<()> {
    let name = &method.sig.ident;
    let Some(FnArg::Receiver(receiver)) = method.sig.inputs.first() else {
        return Err(syn::Error::new_spanned(
            name,
            format!(
                "`{name}` takes no `self`: the blocking twin has no value to call it on; \
                 mark it `#[blocking(skip)]`, or take `&self`"
            ),
        ));
    };
    let mutable = match &receiver.kind {
        ReceiverKind::Reference(_, _, mutability) => Some(mutability.is_some()),
        // `self: &Self` and `self: &mut Self`; not `self: &Arc<Self>`.
        ReceiverKind::Typed(_, ty) => match &**ty {
            Type::Reference(reference) if matches!(&*reference.elem, Type::Path(path) if path.path.is_ident("Self")) => {
                Some(reference.mutability.is_some())
            }
            _ => None,
        },
        _ => None,
    };
    let (written, advice) = match mutable {
        Some(false) => return Ok(()),
        Some(true) => (
            "`&mut self`".to_owned(),
            "the twin is shared between threads (`Send + Sync`, `Clone`), so it cannot lend \
             `&mut` to the value; take `&self` and keep what changes behind a lock, or mark it \
             `#[blocking(skip)]`",
        ),
        None => (
            match &receiver.kind {
                ReceiverKind::Typed(_, ty) => format!(
                    "`self: {}`",
                    ty.to_token_stream()
                        .to_string()
                        .replace(" < ", "<")
                        .replace(" >", ">")
                        .replace("& ", "&")
                ),
                _ => "`self` by value".to_owned(),
            },
            "the twin shares the value (in an `Arc`) and lends it as `&self` only; take `&self`, \
             or mark it `#[blocking(skip)]`",
        ),
    };
    Err(syn::Error::new_spanned(
        receiver,
        format!("`#[crochet::blocking]` cannot forward `{name}`, which takes {written}: {advice}"),
    ))
}

/// `Some(T)` when `output` is `impl Stream<Item = T> …` (a path ending in
/// `Stream`).
fn stream_item(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::ImplTrait(TypeImplTrait { bounds, .. }) = &**ty else {
        return None;
    };
    bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Stream" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|argument| match argument {
            syn::GenericArgument::AssocType(item) if item.ident == "Item" => Some(item.ty.clone()),
            _ => None,
        })
    })
}

/// What the generated method needs from the twin.
pub(crate) struct Twin<'a> {
    pub(crate) krate: &'a TokenStream,
    pub(crate) self_ty: &'a Type,
    pub(crate) error: Option<&'a syn::Path>,
}

/// The twin's method for `method`, planned as `plan`.
pub(crate) fn generate(method: &ImplItemFn, plan: &Plan, twin: &Twin<'_>) -> TokenStream {
    let sig = &method.sig;
    let name = &sig.ident;
    let krate = twin.krate;
    // The expansion's own names, which no parameter of the user's can
    // shadow or be shadowed by.
    let [inner, stream, closure, outcome] = ["inner", "stream", "closure", "outcome"]
        .map(|local| Ident::new(local, Span::mixed_site()));
    let vis = &method.vis;
    let self_ty = twin.self_ty;
    // `Self` in the async method's signature is the async type; in the
    // twin's, it would be the twin.
    let generics = without_self(sig.generics.to_token_stream(), self_ty);
    let where_clause = without_self(sig.generics.where_clause.to_token_stream(), self_ty);
    let attrs = kept_attributes(&method.attrs);
    let (receiver, params, arguments) = parameters(&sig.inputs);
    let params = without_self(params.to_token_stream(), self_ty);
    let span = sig.ident.span();
    let link = format!(
        "The blocking form of [`{}::{name}`]",
        self_ty.to_token_stream().to_string().replace(' ', "")
    );
    let (returns, body, how) = match plan {
        Plan::Skip => return TokenStream::new(),
        Plan::Forward => {
            let output = without_self(sig.output.to_token_stream(), self_ty);
            return quote_spanned! {span=>
                #(#attrs)*
                #vis fn #name #generics(#receiver, #params) #output #where_clause {
                    self.inner.#name(#arguments)
                }
            };
        }
        Plan::Stream { item } => (
            quote!(#krate::EventualStream<#item>),
            quote_spanned! {span=>
                let #stream = self.inner.#name(#arguments);
                self.reactor.stream_in_reactor(move || #stream)
            },
            ": the stream runs on the reactor, and the iterator reads it here.",
        ),
        Plan::Wait { inline_only } => {
            let output = match &sig.output {
                ReturnType::Default => quote!(()),
                ReturnType::Type(_, ty) => ty.to_token_stream(),
            };
            let fallible = match &sig.output {
                ReturnType::Type(_, ty) => {
                    output::result_type(ty).map(|result| output::sides(ty, &result, krate))
                }
                ReturnType::Default => None,
            };
            let entry = match (fallible.is_some(), inline_only) {
                (false, true) => "wait_for_ref",
                (false, false) => "wait_for",
                (true, true) => "wait_for_fallible_ref",
                (true, false) => "wait_for_fallible",
            };
            let entry = syn::Ident::new(entry, span);
            // Spanned at the method, where an error about its future
            // belongs.
            let helper = respan(quote!(#krate::__private::to_reactor_thread), span);
            let call = if *inline_only {
                quote_spanned! {span=>
                    let #inner = &*self.inner;
                    self.reactor.#entry(self.timeout, || #inner.#name(#arguments))
                }
            } else {
                quote_spanned! {span=>
                    let #inner = ::std::sync::Arc::clone(&self.inner);
                    let #closure = #helper(move || async move {
                        #inner.#name(#arguments).await
                    });
                    self.reactor.#entry(self.timeout, #closure)
                }
            };
            let (returns, body) = match (&fallible, twin.error) {
                (None, _) => (
                    quote!(::std::result::Result<#output, #krate::WaitError>),
                    call,
                ),
                (Some((ok, err)), None) => (
                    quote!(::std::result::Result<#ok, #krate::WaitError<#err>>),
                    call,
                ),
                (Some((ok, _)), Some(error)) => (
                    quote!(::std::result::Result<#ok, #error>),
                    quote_spanned! {span=>
                        let #outcome = { #call };
                        #outcome.map_err(::core::convert::From::from)
                    },
                ),
            };
            let how = if *inline_only {
                ": it runs on the calling thread, in the reactor's runtime context, and a timeout \
                 drops it before the call returns."
            } else {
                ": it runs where the reactor's `wait_for` runs it (on the calling thread, unless \
                 the reactor runs it on its own), and a timeout cancels it."
            };
            (returns, body, how)
        }
    };
    let returns = without_self(returns, self_ty);
    let doc = format!("{link}{how}");
    quote_spanned! {span=>
        #(#attrs)*
        #[doc = ""]
        #[doc = #doc]
        #vis fn #name #generics(#receiver, #params) -> #returns #where_clause {
            #body
        }
    }
}

/// The attributes the twin's method keeps: its docs, `cfg`s and
/// deprecation.
fn kept_attributes(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| {
            // Not `expect`: the twin's method would not meet it.
            ["doc", "cfg", "deprecated", "allow"]
                .iter()
                .any(|name| attr.path().is_ident(name))
        })
        .collect()
}

/// The receiver as written, the other parameters (patterns other than a
/// plain name renamed, `mut` dropped), and the arguments of the call.
fn parameters(
    inputs: &Punctuated<FnArg, Comma>,
) -> (TokenStream, Punctuated<FnArg, Comma>, TokenStream) {
    let mut receiver = TokenStream::new();
    let mut params = Punctuated::new();
    let mut arguments = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(written) => receiver = receiver_tokens(written),
            FnArg::Typed(typed) => {
                let mut param = typed.clone();
                let ident = match &*typed.pat {
                    Pat::Ident(PatIdent {
                        by_ref: None,
                        ident,
                        subpat: None,
                        ..
                    }) => ident.clone(),
                    pattern => format_ident!("__crochet_arg{}", index, span = pattern.span()),
                };
                param.pat = Box::new(Pat::Ident(PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident: ident.clone(),
                    subpat: None,
                }));
                params.push(FnArg::Typed(param));
                arguments.push(ident);
            }
        }
    }
    (receiver, params, quote!(#(#arguments),*))
}

/// `&self` (or `&'a self`, `self: &Self`) as written.
fn receiver_tokens(receiver: &Receiver) -> TokenStream {
    let mut receiver = receiver.clone();
    receiver.attrs.clear();
    receiver.to_token_stream()
}

/// `tokens`, every one of them spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = TokenTree::Group(respanned);
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// `tokens` with every `Self` replaced by `self_ty` (`<self_ty>` before
/// a `::`, so that `Self::Error` stays a path with a generic type).
fn without_self(tokens: TokenStream, self_ty: &Type) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut replaced = TokenStream::new();
    for (at, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "Self" => {
                let ty = respan(self_ty.to_token_stream(), ident.span());
                let path_follows = matches!(tokens.get(at + 1), Some(TokenTree::Punct(colon)) if colon.as_char() == ':');
                if path_follows {
                    replaced.extend(quote!(<#ty>));
                } else {
                    replaced.extend(ty);
                }
            }
            TokenTree::Group(group) => {
                let mut inner =
                    Group::new(group.delimiter(), without_self(group.stream(), self_ty));
                inner.set_span(group.span());
                replaced.extend([TokenTree::Group(inner)]);
            }
            other => replaced.extend([other.clone()]),
        }
    }
    replaced
}
