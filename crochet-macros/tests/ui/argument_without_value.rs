#[crochet::wait_for(timeout)]
async fn no_timeout_value() {}

#[crochet::run_in_reactor(reactor)]
async fn no_reactor_value() {}

#[crochet::run_in_reactor(crate)]
async fn no_crate_value() {}

fn main() {}
