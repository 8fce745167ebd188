//! The expansion both attributes share: an `async fn` becomes a blocking
//! fn that moves its arguments into a closure, and hands the closure to the
//! reactor.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::token::Comma;
use syn::{
    AttrStyle, Attribute, FnArg, ItemFn, Pat, PatIdent, Receiver, ReceiverKind, ReturnType, Safety,
    Signature, Type,
};

use crate::args::{self, Args, Kind};
use crate::output::{self, ResultType};

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
    if let Ok(args) = &args {
        check_output(kind, args, &function.sig.output, &mut errors);
    }
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

/// Refuses `plain` where there is no `Result` to keep, and an output whose
/// sides cannot be named.
fn check_output(kind: Kind, args: &Args, output: &ReturnType, errors: &mut Errors) {
    let output = match output {
        ReturnType::Default => None,
        ReturnType::Type(_, output) => Some(&**output),
    };
    let result = output.and_then(output::result_type);
    match (args.plain, output, result) {
        (Some(plain), _, None) => errors.push(syn::Error::new(
            plain,
            "`plain` keeps a `Result` output as the value, but this fn does not return a \
             `Result` (a type whose path ends in `Result`): its output is the value already; \
             remove `plain`",
        )),
        (None, Some(output), Some(ResultType::Alias))
            if mentions_impl(output.to_token_stream()) =>
        {
            errors.push(syn::Error::new_spanned(
                output,
                format!(
                    "{kind} cannot name the value and error types of this `Result`, which does not \
                     write its error type out and holds an `impl Trait`: write \
                     `Result<T, E>` with both types, or add `plain` to keep the `Result` as the value"
                ),
            ));
        }
        _ => {}
    }
}

/// The generated fn's parameters, the statements that move each argument
/// into the future, and whether any of them borrows (`&self`, `&str`, a
/// type with a lifetime): `#[wait_for]` then runs the future on the
/// caller's thread (`wait_for_ref`), which it never outlives.
struct Arguments {
    params: Punctuated<FnArg, Comma>,
    moves: Vec<TokenStream>,
    borrows: bool,
}

/// Whether `tokens` (a parameter's type) hold a reference or a lifetime
/// other than `'static` (`&'static str` does not borrow). A lifetime that
/// the type hides (`Cow<str>`) is not seen: written `Cow<'_, str>`, it is.
pub(crate) fn borrows(tokens: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let is_static = |at: usize| {
        matches!(tokens.get(at), Some(TokenTree::Punct(tick)) if tick.as_char() == '\'')
            && matches!(tokens.get(at + 1), Some(TokenTree::Ident(ident)) if ident == "static")
    };
    tokens.iter().enumerate().any(|(at, token)| match token {
        TokenTree::Punct(punct) if punct.as_char() == '&' => !is_static(at + 1),
        TokenTree::Punct(punct) if punct.as_char() == '\'' => !is_static(at),
        TokenTree::Group(group) => borrows(group.stream()),
        _ => false,
    })
}

/// Rewrites the parameters: a plain `name: T` (or `mut name: T`) keeps its
/// name; any other pattern gets a fresh name and is destructured inside
/// the future. Every argument is moved into the future, used or not, so
/// that it lives as long as the operation, as in an `async fn`.
fn move_arguments(kind: Kind, inputs: &Punctuated<FnArg, Comma>, errors: &mut Errors) -> Arguments {
    let mut params = Punctuated::new();
    let mut moves = Vec::new();
    let mut borrowed = false;
    for (index, input) in inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                if let Some(message) = borrowed_receiver(kind, receiver) {
                    match kind {
                        Kind::WaitFor => borrowed = true,
                        Kind::RunInReactor => {
                            errors.push(syn::Error::new_spanned(receiver, message))
                        }
                    }
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
                borrowed |= borrows(typed.ty.to_token_stream());
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
    Arguments {
        params,
        moves,
        borrows: borrowed && kind == Kind::WaitFor,
    }
}

/// The message for a receiver the `'static` closure of `#[run_in_reactor]`
/// cannot hold: `&self`, `&mut self`, `self: &Self` (unless the borrow is
/// `'static`). `#[wait_for]` takes them, running on the caller's thread.
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
         which cannot borrow from the caller; take `self: Arc<Self>` (or `self` by value), or use \
         `#[wait_for]`, whose body runs on the caller's thread and may borrow"
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
    let Arguments {
        params,
        moves,
        borrows,
    } = arguments;
    // `::crochet` unless `crate = "…"` names another path to it.
    let krate = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::crochet), ToTokens::to_token_stream);
    // The `Ok` and `Err` types of the typed form, for a `Result` output
    // without `plain`.
    let (arrow, output, fallible) = match &output {
        ReturnType::Default => (quote!(->), quote!(()), None),
        ReturnType::Type(arrow, ty) => {
            let fallible = output::result_type(ty)
                .filter(|_| args.plain.is_none())
                .map(|result| output::sides(ty, &result, &krate));
            (arrow.to_token_stream(), ty.to_token_stream(), fallible)
        }
    };
    // The future's output is the declared type in both forms: a fallible
    // entry point takes a future of `Result<T, E>`.
    let pin_output = pin_output(&output);
    let closure = quote!(move || async move { #pin_output #(#moves)* #block });
    let (returns, entry, arguments) = match kind {
        Kind::RunInReactor => match &fallible {
            None => (
                quote!(#krate::EventualResult<#output>),
                "run_in_reactor",
                closure,
            ),
            Some((ok, err)) => (
                quote!(#krate::EventualResult<#ok, #err>),
                "run_in_reactor_fallible",
                closure,
            ),
        },
        Kind::WaitFor => {
            let nanos = proc_macro2::Literal::u64_suffixed(args.timeout_nanos.unwrap_or_default());
            let arguments = quote!(::core::time::Duration::from_nanos(#nanos), #closure);
            // A future that borrows runs on the caller's thread, which it
            // never outlives.
            let (returns, entry) = match &fallible {
                None => (
                    quote!(::std::result::Result<#output, #krate::WaitError>),
                    if borrows { "wait_for_ref" } else { "wait_for" },
                ),
                Some((ok, err)) => (
                    quote!(::std::result::Result<#ok, #krate::WaitError<#err>>),
                    if borrows {
                        "wait_for_fallible_ref"
                    } else {
                        "wait_for_fallible"
                    },
                ),
            };
            (returns, entry, arguments)
        }
    };
    // The free function of the global reactor, or the method of the same
    // name on the one given.
    let call = match &args.reactor {
        None => {
            let entry = syn::Ident::new(entry, Span::call_site());
            quote!(#krate::#entry(#arguments))
        }
        Some(reactor) => {
            let method = syn::Ident::new(entry, reactor.span());
            quote!((#reactor).#method(#arguments))
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
    fn borrowed(ty: &str) -> bool {
        borrows(
            syn::parse_str::<syn::Type>(ty)
                .expect("a type")
                .to_token_stream(),
        )
    }

    #[test]
    fn references_and_lifetimes_borrow_unless_static() {
        for ty in [
            "&str",
            "&mut Vec<u8>",
            "&'a [u8]",
            "Cow<'_, str>",
            "Option<&T>",
            "&&'static str",
        ] {
            assert!(borrowed(ty), "{ty}");
        }
        for ty in [
            "String",
            "&'static str",
            "Cow<'static, str>",
            "Vec<u8>",
            "Box<dyn Fn() + 'static>",
        ] {
            assert!(!borrowed(ty), "{ty}");
        }
    }

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
            wait.contains("->::std::result::Result<u8,::my_runtime::crochet::WaitError>"),
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

    #[test]
    fn a_result_output_gives_the_typed_form() {
        let item = "async fn parse(text: String) -> Result<u8, ParseIntError> { text.parse() }";
        let run = expanded(Kind::RunInReactor, "", item);
        assert!(
            run.contains("->::crochet::EventualResult<u8,ParseIntError>{"),
            "{run}"
        );
        assert!(
            run.contains("::crochet::run_in_reactor_fallible(move||asyncmove{"),
            "{run}"
        );
        // The future's output is still the declared `Result`.
        assert!(
            run.contains("::core::option::Option::None::<Result<u8,ParseIntError>>"),
            "{run}"
        );
        let wait = expanded(Kind::WaitFor, r#"timeout = "5s""#, item);
        assert!(
            wait.contains("->::std::result::Result<u8,::crochet::WaitError<ParseIntError>>{"),
            "{wait}"
        );
        assert!(
            wait.contains(
                "::crochet::wait_for_fallible(::core::time::Duration::from_nanos(5000000000u64),move||"
            ),
            "{wait}"
        );
    }

    #[test]
    fn a_result_alias_names_its_sides_through_the_fallible_trait() {
        let item = "async fn read() -> io::Result<u8> { Ok(1) }";
        let run = expanded(Kind::RunInReactor, "", item);
        assert!(
            run.contains(
                "->::crochet::EventualResult<<io::Result<u8>as::crochet::__private::Fallible>::Ok,\
                 <io::Result<u8>as::crochet::__private::Fallible>::Err>{"
            ),
            "{run}"
        );
        assert!(run.contains("::crochet::run_in_reactor_fallible("), "{run}");
        let wait = expanded(
            Kind::WaitFor,
            r#"timeout = "5s", crate = "my_runtime::crochet""#,
            item,
        );
        assert!(
            wait.contains(
                "->::std::result::Result<<io::Result<u8>asmy_runtime::crochet::__private::Fallible>::Ok,\
                 my_runtime::crochet::WaitError<<io::Result<u8>asmy_runtime::crochet::__private::Fallible>::Err>>{"
            ),
            "{wait}"
        );
        assert!(
            wait.contains("my_runtime::crochet::wait_for_fallible("),
            "{wait}"
        );
    }

    #[test]
    fn plain_keeps_the_result_as_the_value() {
        let item = "async fn parse(text: String) -> Result<u8, ParseIntError> { text.parse() }";
        let run = expanded(Kind::RunInReactor, "plain", item);
        assert!(
            run.contains("->::crochet::EventualResult<Result<u8,ParseIntError>>{"),
            "{run}"
        );
        assert!(run.contains("::crochet::run_in_reactor(move||"), "{run}");
        let wait = expanded(
            Kind::WaitFor,
            r#"plain, timeout = "5s""#,
            "async fn read() -> io::Result<u8> { Ok(1) }",
        );
        assert!(
            wait.contains("->::std::result::Result<io::Result<u8>,::crochet::WaitError>{"),
            "{wait}"
        );
        assert!(wait.contains("::crochet::wait_for(::core::time"), "{wait}");
        assert!(!wait.contains("Fallible"), "{wait}");
    }

    #[test]
    fn the_typed_form_calls_the_fallible_method_of_a_given_reactor() {
        let item = "async fn parse() -> Result<u8, String> { Ok(1) }";
        let run = expanded(Kind::RunInReactor, "reactor = &NAMED", item);
        assert!(
            run.contains("(&NAMED).run_in_reactor_fallible(move||"),
            "{run}"
        );
        let wait = expanded(
            Kind::WaitFor,
            r#"timeout = "5s", reactor = reactor()"#,
            item,
        );
        assert!(
            wait.contains("(reactor()).wait_for_fallible(::core::time"),
            "{wait}"
        );
        let plain = expanded(
            Kind::WaitFor,
            r#"timeout = "5s", reactor = reactor(), plain"#,
            item,
        );
        assert!(
            plain.contains("(reactor()).wait_for(::core::time"),
            "{plain}"
        );
    }

    #[test]
    fn other_outputs_keep_the_plain_form() {
        for (output, returns) in [
            ("", "->::crochet::EventualResult<()>{"),
            (
                "-> Option<Result<u8, E>>",
                "->::crochet::EventualResult<Option<Result<u8,E>>>{",
            ),
            (
                "-> MyResult<u8>",
                "->::crochet::EventualResult<MyResult<u8>>{",
            ),
        ] {
            let run = expanded(
                Kind::RunInReactor,
                "",
                &format!("async fn f() {output} {{ todo!() }}"),
            );
            assert!(run.contains(returns), "{run}");
            assert!(run.contains("::crochet::run_in_reactor(move||"), "{run}");
        }
    }

    #[test]
    fn misplaced_plain_is_refused() {
        for (args, item, message) in [
            ("plain", "async fn f() -> u8 { 1 }", "remove `plain`"),
            ("plain", "async fn f() {}", "remove `plain`"),
            (
                "plain = true",
                "async fn f() -> Result<u8, E> { Ok(1) }",
                "`plain` takes no value",
            ),
            (
                "plain, plain",
                "async fn f() -> Result<u8, E> { Ok(1) }",
                "`plain` is given twice",
            ),
        ] {
            let run = expanded(Kind::RunInReactor, args, item);
            assert!(run.starts_with("::core::compile_error!"), "{args}: {run}");
            assert!(
                run.contains(&message.split_whitespace().collect::<String>()),
                "{args}: {run}"
            );
        }
    }

    #[test]
    fn an_alias_holding_impl_trait_is_refused() {
        let run = expanded(
            Kind::RunInReactor,
            "",
            "async fn f() -> io::Result<impl Display + Send> { Ok(1) }",
        );
        assert!(run.starts_with("::core::compile_error!"), "{run}");
        assert!(run.contains("`Result<T,E>`withbothtypes"), "{run}");
        let written = expanded(
            Kind::RunInReactor,
            "",
            "async fn f() -> Result<impl Display + Send, E> { Ok(1) }",
        );
        assert!(
            written.contains("->::crochet::EventualResult<implDisplay+Send,E>{"),
            "{written}"
        );
        let plain = expanded(
            Kind::RunInReactor,
            "plain",
            "async fn f() -> io::Result<impl Display + Send> { Ok(1) }",
        );
        assert!(
            plain.contains("->::crochet::EventualResult<io::Result<implDisplay+Send>>{"),
            "{plain}"
        );
    }
}
