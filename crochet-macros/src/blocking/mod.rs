//! `#[crochet::blocking]`: a blocking twin of a type, made from the
//! `async` methods of one of its `impl` blocks.
//!
//! The `impl` is emitted as written (without its `#[blocking(…)]`
//! markers), followed by the twin: a type that shares the value (an
//! `Arc`), a `Reactor` and a timeout, its constructors and accessors, and
//! one blocking method per async method.

mod method;
mod options;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{ImplItem, ItemImpl, Type};

use self::method::{Plan, Twin};
use self::options::Options;

/// The names the twin defines itself: a method of the same name cannot
/// be forwarded.
const OWN_NAMES: [&str; 7] = [
    "from_async",
    "from_arc",
    "with_reactor",
    "get_ref",
    "reactor",
    "timeout",
    "set_timeout",
];

/// Expands `#[crochet::blocking(args)]` on `item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut block = match syn::parse2::<ItemImpl>(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[crochet::blocking]` goes on an inherent `impl` block of async methods",
            );
            return with(error, item);
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    let options = options::parse(args).map_err(&mut push).ok();
    if let Some((path, _)) = &block.trait_ {
        push(syn::Error::new_spanned(
            path,
            "`#[crochet::blocking]` goes on an inherent `impl` block, not on a trait's: \
             the twin's methods are its own",
        ));
    }
    if !block.generics.params.is_empty() {
        push(syn::Error::new_spanned(
            &block.generics,
            "`#[crochet::blocking]` takes an `impl` without generics: write the twin of one \
             concrete type (`impl Client<Tcp>`)",
        ));
    }
    let mut plans = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let plan = options::take_method_options(&mut method.attrs)
            .and_then(|options| method::plan(method, options));
        match plan {
            Ok(Plan::Skip) => {}
            Ok(plan) => {
                let name = method.sig.ident.to_string();
                if OWN_NAMES.contains(&name.as_str()) {
                    push(syn::Error::new_spanned(
                        &method.sig.ident,
                        format!(
                            "the blocking twin has a method `{name}` of its own (its methods are \
                             {}): rename this one, or mark it `#[blocking(skip)]`",
                            OWN_NAMES.join(", ")
                        ),
                    ));
                }
                plans.push((method.clone(), plan));
            }
            Err(error) => push(error),
        }
    }
    let name = twin_name(&block.self_ty, options.as_ref());
    match (errors, options, name) {
        (None, Some(options), Some(name)) => {
            let twin = twin(&block.self_ty, &name, &options, &plans);
            quote!(#block #twin)
        }
        (errors, _, name) => {
            let mut error = errors
                .unwrap_or_else(|| syn::Error::new(Span::call_site(), "the twin cannot be named"));
            if name.is_none() {
                error.combine(syn::Error::new_spanned(
                    &block.self_ty,
                    "name the blocking twin: `#[crochet::blocking(name = \"BlockingClient\")]`",
                ));
            }
            with(error, block.into_token_stream())
        }
    }
}

fn with(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = error.to_compile_error();
    tokens.extend(item);
    tokens
}

/// `name = "…"`, or `Blocking` and the type's name.
fn twin_name(self_ty: &Type, options: Option<&Options>) -> Option<syn::Ident> {
    if let Some(name) = options.and_then(|options| options.name.clone()) {
        return Some(name);
    }
    let Type::Path(path) = self_ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    Some(format_ident!("Blocking{}", last.ident))
}

/// The twin: its type, constructors, accessors and methods.
fn twin(
    self_ty: &Type,
    name: &syn::Ident,
    options: &Options,
    plans: &[(syn::ImplItemFn, Plan)],
) -> TokenStream {
    let krate = options
        .krate
        .as_ref()
        .map_or_else(|| quote!(::crochet), ToTokens::to_token_stream);
    let vis = options
        .vis
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(pub));
    let shown = self_ty.to_token_stream().to_string().replace(' ', "");
    let context = Twin {
        krate: &krate,
        self_ty,
        error: options.error.as_ref(),
    };
    let methods = plans
        .iter()
        .map(|(method, plan)| method::generate(method, plan, &context));
    let type_doc = format!(
        "The blocking twin of [`{shown}`], made by `#[crochet::blocking]`: each of its async \
         methods, run on a crochet reactor and waited for here, within a timeout that cancels \
         the operation."
    );
    let (default_timeout, with_reactor) = match options.timeout_nanos {
        None => (TokenStream::new(), TokenStream::new()),
        Some(nanos) => {
            let nanos = proc_macro2::Literal::u64_suffixed(nanos);
            (
                quote! {
                    /// The timeout of [`Self::with_reactor`]: how long each call waits
                    /// unless told otherwise.
                    pub const DEFAULT_TIMEOUT: ::core::time::Duration =
                        ::core::time::Duration::from_nanos(#nanos);
                },
                quote! {
                    /// Runs `inner`'s methods on `reactor`, each call waiting at most
                    /// [`Self::DEFAULT_TIMEOUT`].
                    pub fn with_reactor(inner: #self_ty, reactor: #krate::Reactor) -> Self {
                        Self::from_async(inner, reactor, Self::DEFAULT_TIMEOUT)
                    }
                },
            )
        }
    };
    let debug_name = name.to_string();
    quote! {
        #[doc = #type_doc]
        ///
        /// It shares the value (cloning the twin clones an `Arc`), and is
        /// `Send + Sync` when the value is.
        #vis struct #name {
            inner: ::std::sync::Arc<#self_ty>,
            reactor: #krate::Reactor,
            timeout: ::core::time::Duration,
        }

        impl ::core::clone::Clone for #name {
            fn clone(&self) -> Self {
                Self {
                    inner: ::std::sync::Arc::clone(&self.inner),
                    reactor: ::core::clone::Clone::clone(&self.reactor),
                    timeout: self.timeout,
                }
            }
        }

        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#debug_name)
                    .field("reactor", &self.reactor)
                    .field("timeout", &self.timeout)
                    .finish_non_exhaustive()
            }
        }

        impl #name {
            #default_timeout

            /// Runs `inner`'s methods on `reactor`, each call waiting at most
            /// `timeout` (a huge one means "forever").
            pub fn from_async(
                inner: #self_ty,
                reactor: #krate::Reactor,
                timeout: ::core::time::Duration,
            ) -> Self {
                Self::from_arc(::std::sync::Arc::new(inner), reactor, timeout)
            }

            /// As [`Self::from_async`], sharing a value already in an `Arc`.
            pub fn from_arc(
                inner: ::std::sync::Arc<#self_ty>,
                reactor: #krate::Reactor,
                timeout: ::core::time::Duration,
            ) -> Self {
                Self { inner, reactor, timeout }
            }

            #with_reactor

            /// The async value, for async code.
            pub fn get_ref(&self) -> &#self_ty {
                &self.inner
            }

            /// The reactor the calls run on.
            pub fn reactor(&self) -> &#krate::Reactor {
                &self.reactor
            }

            /// How long each call waits before it cancels the operation.
            pub fn timeout(&self) -> ::core::time::Duration {
                self.timeout
            }

            /// Sets how long each call of this twin (not of its clones made
            /// before) waits.
            pub fn set_timeout(&mut self, timeout: ::core::time::Duration) {
                self.timeout = timeout;
            }

            #(#methods)*
        }
    }
}
