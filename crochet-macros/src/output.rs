//! What the attributes make of the declared output: a `Result` gives the
//! typed, fallible form, whose error reaches the waiter as
//! `WaitError::Failed`; anything else, or a `Result` under `plain`, is the
//! value.
//!
//! A macro sees tokens, not types: a `Result` is a return type written as a
//! path whose last segment is `Result` (`Result<T, E>`,
//! `std::result::Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`,
//! `fmt::Result`). An alias named otherwise is a value.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type, TypePath};

/// A `Result` output, as its type is written.
pub(crate) enum ResultType<'a> {
    /// `Result<T, E>`, both types written out: the generated signature
    /// names them as they are.
    Written { ok: &'a Type, err: &'a Type },
    /// A path ending in `Result` that does not write out both types
    /// (`io::Result<T>`, `fmt::Result`): the generated signature names them
    /// through the facade's hidden `Fallible` trait, implemented for
    /// `std::result::Result` only.
    Alias,
}

/// `Some` when `output` is written as a `Result`.
pub(crate) fn result_type(output: &Type) -> Option<ResultType<'_>> {
    let path = match output {
        Type::Path(TypePath {
            qself: None, path, ..
        }) => path,
        // A type passed through a `macro_rules!` fragment (`$ret:ty`)
        // arrives in an invisible group.
        Type::Group(group) => return result_type(&group.elem),
        Type::Paren(paren) => return result_type(&paren.elem),
        _ => return None,
    };
    let last = path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    if let PathArguments::AngleBracketed(arguments) = &last.arguments {
        let mut types = arguments.args.iter().map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        });
        if let (Some(Some(ok)), Some(Some(err)), None) = (types.next(), types.next(), types.next())
        {
            return Some(ResultType::Written { ok, err });
        }
    }
    Some(ResultType::Alias)
}

/// The types of the two sides of `output`, a `Result`, as the generated
/// signature names them; `krate` is the path to crochet.
pub(crate) fn sides(
    output: &Type,
    result: &ResultType<'_>,
    krate: &TokenStream,
) -> (TokenStream, TokenStream) {
    match result {
        ResultType::Written { ok, err } => (quote!(#ok), quote!(#err)),
        ResultType::Alias => {
            let fallible = quote!(#krate::__private::Fallible);
            (
                quote!(<#output as #fallible>::Ok),
                quote!(<#output as #fallible>::Err),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(output: &str) -> Option<String> {
        let output: Type = syn::parse_str(output).expect("a type");
        result_type(&output).map(|result| match result {
            ResultType::Written { ok, err } => {
                format!("{} | {}", quote!(#ok), quote!(#err))
            }
            ResultType::Alias => "alias".to_owned(),
        })
    }

    #[test]
    fn a_result_with_both_types_written_is_read_as_written() {
        for written in [
            "Result<u8, ParseIntError>",
            "std::result::Result<u8, ParseIntError>",
            "::core::result::Result<u8, ParseIntError>",
            "(Result<u8, ParseIntError>)",
        ] {
            assert_eq!(
                classify(written).as_deref(),
                Some("u8 | ParseIntError"),
                "{written}"
            );
        }
    }

    #[test]
    fn a_path_ending_in_result_without_both_types_is_an_alias() {
        for written in [
            "io::Result<u8>",
            "anyhow::Result<Vec<u8>>",
            "fmt::Result",
            "Result",
        ] {
            assert_eq!(classify(written).as_deref(), Some("alias"), "{written}");
        }
    }

    #[test]
    fn other_outputs_are_values() {
        for written in [
            "u8",
            "Option<Result<u8, E>>",
            "Results<u8, E>",
            "MyResult<u8>",
            "<T as Trait>::Result",
            "&'static Result<u8, E>",
            "(Result<u8, E>, u8)",
            "impl Future<Output = Result<u8, E>>",
        ] {
            assert_eq!(classify(written), None, "{written}");
        }
    }

    #[test]
    fn an_alias_names_its_sides_through_the_fallible_trait() {
        let output: Type = syn::parse_str("io::Result<u8>").expect("a type");
        let result = result_type(&output).expect("a result");
        let (ok, err) = sides(&output, &result, &quote!(my_runtime::crochet));
        assert_eq!(
            ok.to_string(),
            quote!(<io::Result<u8> as my_runtime::crochet::__private::Fallible>::Ok).to_string()
        );
        assert_eq!(
            err.to_string(),
            quote!(<io::Result<u8> as my_runtime::crochet::__private::Fallible>::Err).to_string()
        );
    }
}
