//! The options of `#[crochet::blocking(…)]` on the `impl`, and of
//! `#[blocking(…)]` on one of its methods.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Path, Token, Visibility};

use crate::args::{parse_crate_value, parse_timeout_value, require_value};

/// What the attribute on the `impl` says.
pub(crate) struct Options {
    /// The blocking twin's name (`name = "…"`).
    pub(crate) name: Option<Ident>,
    /// Its visibility (`vis = "…"`); `pub` unless told.
    pub(crate) vis: Option<Visibility>,
    /// Its default timeout (`timeout = "…"`), in nanoseconds.
    pub(crate) timeout_nanos: Option<u64>,
    /// The error type fallible methods return instead of `WaitError<E>`
    /// (`error = "…"`), which has a `From<WaitError<E>>`.
    pub(crate) error: Option<Path>,
    /// The path to crochet (`crate = "…"`).
    pub(crate) krate: Option<Path>,
}

const EXPECTED: &str =
    "`name = \"…\"`, `vis = \"…\"`, `timeout = \"…\"`, `error = \"…\"` and `crate = \"…\"`";

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Options> {
    let mut options = Options {
        name: None,
        vis: None,
        timeout_nanos: None,
        error: None,
        krate: None,
    };
    let parser = syn::meta::parser(|meta| {
        let once = |given: bool, meta: &ParseNestedMeta<'_>, example: &str| {
            if given {
                let name = meta.path.get_ident().map(ToString::to_string);
                return Err(meta.error(format!("`{}` is given twice", name.unwrap_or_default())));
            }
            require_value(meta, example)
        };
        if meta.path.is_ident("name") {
            once(options.name.is_some(), &meta, "`name = \"BlockingClient\"`")?;
            options.name = Some(string(&meta)?.parse()?);
        } else if meta.path.is_ident("vis") {
            once(options.vis.is_some(), &meta, "`vis = \"pub(crate)\"`")?;
            options.vis = Some(string(&meta)?.parse()?);
        } else if meta.path.is_ident("timeout") {
            once(
                options.timeout_nanos.is_some(),
                &meta,
                "`timeout = \"30s\"`",
            )?;
            options.timeout_nanos = Some(parse_timeout_value(&meta)?);
        } else if meta.path.is_ident("error") {
            once(options.error.is_some(), &meta, "`error = \"crate::Error\"`")?;
            options.error = Some(string(&meta)?.parse_with(Path::parse_mod_style)?);
        } else if meta.path.is_ident("crate") {
            once(
                options.krate.is_some(),
                &meta,
                "`crate = \"path::to::crochet\"`",
            )?;
            options.krate = Some(parse_crate_value(&meta)?);
        } else {
            return Err(meta.error(format!(
                "unknown argument: `#[crochet::blocking]` takes {EXPECTED}"
            )));
        }
        Ok(())
    });
    parser.parse2(tokens)?;
    Ok(options)
}

/// A string literal value, as the other options are written.
fn string(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text),
        other => Err(syn::Error::new_spanned(
            other,
            "the value is a string literal, such as `name = \"BlockingClient\"`",
        )),
    }
}

/// What `#[blocking(…)]` on a method says.
#[derive(Clone, Copy, Default)]
pub(crate) struct MethodOptions {
    /// Leave the method out of the twin.
    pub(crate) skip: bool,
    /// Forward a method that is not `async` as it is.
    pub(crate) forward: bool,
    /// Run the future on the caller's thread only, even where its
    /// arguments are owned: it need not be `Send`.
    pub(crate) inline: bool,
    /// Where the attribute was written, for messages.
    pub(crate) span: Option<Span>,
}

/// Takes `#[blocking(…)]` out of `attrs`, and parses it.
pub(crate) fn take_method_options(attrs: &mut Vec<Attribute>) -> syn::Result<MethodOptions> {
    let mut options = MethodOptions::default();
    let mut result = Ok(());
    attrs.retain(|attr| {
        if !attr.path().is_ident("blocking") {
            return true;
        }
        options.span = Some(attr.span());
        let parsed = attr.parse_nested_meta(|meta| {
            let flag = if meta.path.is_ident("skip") {
                &mut options.skip
            } else if meta.path.is_ident("forward") {
                &mut options.forward
            } else if meta.path.is_ident("inline") {
                &mut options.inline
            } else {
                return Err(meta.error(
                    "unknown argument: `#[blocking]` on a method takes `skip`, `forward` or `inline`",
                ));
            };
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error("takes no value"));
            }
            *flag = true;
            Ok(())
        });
        if let Err(error) = parsed {
            match &mut result {
                Ok(()) => result = Err(error),
                Err(errors) => errors.combine(error),
            }
        }
        false
    });
    result.map(|()| options)
}
