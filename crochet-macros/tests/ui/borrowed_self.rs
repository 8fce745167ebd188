use std::sync::Arc;

struct Rates {
    rate: f64,
}

impl Rates {
    #[crochet::run_in_reactor]
    async fn shared(&self) -> f64 {
        self.rate
    }

    // Fine: `#[wait_for]` runs its body on the caller's thread.
    #[crochet::wait_for(timeout = "5s")]
    async fn exclusive(&mut self) -> f64 {
        self.rate
    }

    #[crochet::run_in_reactor]
    async fn explicit(self: &Self) -> f64 {
        self.rate
    }

    // Fine: the closure owns an `Arc`.
    #[crochet::run_in_reactor]
    async fn owned(self: Arc<Self>) -> f64 {
        self.rate
    }
}

fn main() {}
