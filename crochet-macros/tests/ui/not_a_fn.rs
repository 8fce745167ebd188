#[crochet::run_in_reactor]
struct Rates;

trait Service {
    #[crochet::wait_for(timeout = "5s")]
    async fn without_body(self);
}

fn main() {}
