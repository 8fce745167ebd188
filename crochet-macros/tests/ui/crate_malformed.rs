#[crochet::run_in_reactor(crate = "not a path")]
async fn spaces() {}

#[crochet::run_in_reactor(crate = "")]
async fn empty() {}

#[crochet::wait_for(timeout = "5s", crate = "crochet::")]
async fn trailing_colons() {}

#[crochet::wait_for(timeout = "5s", crate = "crochet<u8>")]
async fn generic_arguments() {}

#[crochet::run_in_reactor(crate = my_runtime::crochet)]
async fn unquoted() {}

fn main() {}
