#[crochet::run_in_reactor]
fn ready() -> u8 {
    1
}

#[crochet::wait_for(timeout = "5s")]
fn waited() {}

fn main() {}
