#[crochet::wait_for(timeout = "5s", timeout = "10s")]
async fn two_timeouts() {}

#[crochet::run_in_reactor(reactor = crochet::global(), reactor = crochet::global())]
async fn two_reactors() {}

#[crochet::wait_for(timeout = "5s", crate = "crochet", crate = "::crochet")]
async fn two_crates() {}

fn main() {}
