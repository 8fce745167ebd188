//! W7: misuse of `#[run_in_reactor]` and `#[wait_for]` is a compile error
//! that says what is wrong and points at it. The expected messages are the
//! `.stderr` files beside each case in `tests/ui/`; regenerate them with
//! `TRYBUILD=overwrite cargo test --test macros_ui` after a deliberate
//! change, and read the diff.

#[test]
fn w7_misuse_is_a_compile_error_at_the_offending_tokens() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
