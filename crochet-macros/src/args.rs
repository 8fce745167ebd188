//! The arguments of the two attributes: `timeout = "…"`,
//! `reactor = <expr>`, `crate = "…"` and `plain`.

use std::fmt;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Token};

use crate::duration::parse_timeout;

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    RunInReactor,
    WaitFor,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::RunInReactor => "`#[run_in_reactor]`",
            Kind::WaitFor => "`#[wait_for]`",
        })
    }
}

/// The parsed arguments of an attribute.
pub(crate) struct Args {
    /// The timeout of `#[wait_for]`, in nanoseconds; always set for it.
    pub(crate) timeout_nanos: Option<u64>,
    /// The reactor to use instead of the global one.
    pub(crate) reactor: Option<Expr>,
    /// The path to the `crochet` crate, for `::crochet` in the expansion.
    pub(crate) krate: Option<Path>,
    /// Where `plain` is written, if it is: a `Result` output stays the
    /// value, instead of giving the typed form.
    pub(crate) plain: Option<Span>,
}

impl Kind {
    /// The arguments this attribute takes, for the messages that list them.
    fn expected(self) -> &'static str {
        match self {
            Kind::RunInReactor => "`reactor = <expr>`, `crate = \"…\"` and `plain`",
            Kind::WaitFor => "`timeout = \"…\"`, `reactor = <expr>`, `crate = \"…\"` and `plain`",
        }
    }
}

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Args> {
    if let Some(TokenTree::Literal(literal)) = tokens.clone().into_iter().next() {
        // Python's `@wait_for(5.0)` passes the timeout by position.
        let message = match kind {
            Kind::RunInReactor => format!(
                "`#[run_in_reactor]` takes no value here; its arguments are {}",
                kind.expected()
            ),
            Kind::WaitFor => format!(
                "name the timeout, with a unit: `#[wait_for(timeout = {})]`",
                suggested_timeout(&literal)
            ),
        };
        return Err(syn::Error::new(literal.span(), message));
    }
    let mut timeout_nanos = None;
    let mut reactor = None;
    let mut krate = None;
    let mut plain = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("timeout") {
            if kind == Kind::RunInReactor {
                return Err(meta.error(
                    "`#[run_in_reactor]` takes no `timeout`: it returns an `EventualResult` at once; \
                     use `#[wait_for(timeout = \"…\")]` to block for the result, \
                     or `wait_timeout` on the `EventualResult`",
                ));
            }
            if timeout_nanos.is_some() {
                return Err(meta.error("`timeout` is given twice"));
            }
            require_value(&meta, "`timeout = \"5s\"`")?;
            timeout_nanos = Some(parse_timeout_value(&meta)?);
            Ok(())
        } else if meta.path.is_ident("reactor") {
            if reactor.is_some() {
                return Err(meta.error("`reactor` is given twice"));
            }
            require_value(
                &meta,
                "`reactor = <expr>`, such as `reactor = crochet::global()`",
            )?;
            reactor = Some(meta.value()?.parse::<Expr>()?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            if krate.is_some() {
                return Err(meta.error("`crate` is given twice"));
            }
            require_value(&meta, "`crate = \"path::to::crochet\"`")?;
            krate = Some(parse_crate_value(&meta)?);
            Ok(())
        } else if meta.path.is_ident("plain") {
            if plain.is_some() {
                return Err(meta.error("`plain` is given twice"));
            }
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error("`plain` takes no value: write `plain` alone"));
            }
            plain = Some(meta.path.span());
            Ok(())
        } else {
            let expected = kind.expected();
            let name = meta
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            Err(meta.error(format!(
                "unknown argument `{name}`: {kind} takes {expected}"
            )))
        }
    });
    parser.parse2(tokens)?;
    if kind == Kind::WaitFor && timeout_nanos.is_none() {
        return Err(syn::Error::new(
            Span::call_site(),
            "`#[wait_for]` needs a timeout, such as `#[wait_for(timeout = \"5s\")]`",
        ));
    }
    Ok(Args {
        timeout_nanos,
        reactor,
        krate,
        plain,
    })
}

/// Refuses a bare `timeout` or `reactor`, at its name rather than at the
/// end of the attribute.
pub(crate) fn require_value(meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        return Ok(());
    }
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    Err(meta.error(format!("`{name}` needs a value: {example}")))
}

/// The value of `crate = "…"`: a string literal holding a path such as
/// `my_reexport::crochet` or `::crochet`, without generic arguments. The
/// path's tokens take the literal's span, so that a path that does not
/// resolve is reported at the literal.
pub(crate) fn parse_crate_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let value: Expr = meta.value()?.parse()?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    }) = &value
    else {
        // tokio's `crate = "…"` is a string too; a bare path is a common slip.
        return Err(syn::Error::new_spanned(
            &value,
            format!(
                "the crate path is a string literal: write `crate = \"{}\"`",
                value.to_token_stream().to_string().replace(' ', "")
            ),
        ));
    };
    text.parse_with(Path::parse_mod_style)
        .map_err(|error| not_a_path(text, &error))
}

fn not_a_path(text: &LitStr, error: &syn::Error) -> syn::Error {
    syn::Error::new(
        text.span(),
        format!(
            "`crate = {:?}` is not a path ({error}): name the `crochet` crate as it is \
             reachable here, such as `crate = \"my_reexport::crochet\"`",
            text.value()
        ),
    )
}

/// `"5s"` for `"5s"` or `5`, `"5.0s"` for `5.0`: what to write instead of
/// a positional timeout.
fn suggested_timeout(literal: &proc_macro2::Literal) -> String {
    match Lit::new(literal.clone()) {
        Lit::Str(text) => format!("{:?}", text.value()),
        Lit::Int(int) => format!("\"{}s\"", int.base10_digits()),
        Lit::Float(float) => format!("\"{}s\"", float.base10_digits()),
        _ => "\"5s\"".to_owned(),
    }
}

/// The value of `timeout = "…"`, in nanoseconds.
pub(crate) fn parse_timeout_value(meta: &ParseNestedMeta<'_>) -> syn::Result<u64> {
    let value: Expr = meta.value()?.parse()?;
    match &value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => parse_timeout(&text.value()).map_err(|message| syn::Error::new(text.span(), message)),
        // Python's `@wait_for(timeout=5.0)` counts seconds; say how to
        // write the same here.
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => Err(in_seconds(int, int.base10_digits())),
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => Err(in_seconds(float, float.base10_digits())),
        _ => Err(syn::Error::new_spanned(
            &value,
            "the timeout is a string literal with a unit, such as `timeout = \"5s\"`",
        )),
    }
}

fn in_seconds(number: impl ToTokens, digits: &str) -> syn::Error {
    syn::Error::new_spanned(
        number,
        format!("the timeout is a string with a unit: write `timeout = \"{digits}s\"` for seconds"),
    )
}
