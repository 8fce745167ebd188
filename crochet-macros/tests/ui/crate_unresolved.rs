mod my_runtime {}

// The path must lead to crochet: the error points at the literal.
#[crochet::run_in_reactor(crate = "my_runtime::crochet")]
async fn through_a_missing_reexport() -> u8 {
    1
}

fn main() {}
