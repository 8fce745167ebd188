#[crochet::run_in_reactor(timeout = "5s")]
async fn timed() -> u8 {
    1
}

fn main() {}
