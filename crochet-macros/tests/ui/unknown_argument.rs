#[crochet::wait_for(timeout = "5s", retries = 3)]
async fn retried() {}

#[crochet::run_in_reactor(reactr = crochet::global())]
async fn misspelt() {}

#[crochet::run_in_reactor(crochet::global())]
async fn positional() {}

fn main() {}
