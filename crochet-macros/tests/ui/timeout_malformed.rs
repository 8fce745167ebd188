#[crochet::wait_for(timeout = "5")]
async fn no_unit() {}

#[crochet::wait_for(timeout = "5 parsecs")]
async fn unknown_unit() {}

#[crochet::wait_for(timeout = "-1s")]
async fn negative() {}

#[crochet::wait_for(timeout = "0s")]
async fn zero() {}

#[crochet::wait_for(timeout = "")]
async fn empty() {}

#[crochet::wait_for(timeout = "1.5.2s")]
async fn malformed() {}

#[crochet::wait_for(timeout = "0.0000000001s")]
async fn too_fine() {}

#[crochet::wait_for(timeout = "999999999999m")]
async fn too_long() {}

#[crochet::wait_for(timeout = 5.0)]
async fn python_seconds() {}

const FIVE_SECONDS: &str = "5s";

#[crochet::wait_for(timeout = FIVE_SECONDS)]
async fn not_a_literal() {}

fn main() {}
