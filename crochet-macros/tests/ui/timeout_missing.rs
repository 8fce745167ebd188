#[crochet::wait_for]
async fn bare() {}

#[crochet::wait_for(reactor = crochet::global())]
async fn reactor_only() {}

fn main() {}
