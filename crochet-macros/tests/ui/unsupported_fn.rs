#[crochet::run_in_reactor]
async unsafe fn unsafe_fn() {}

#[crochet::run_in_reactor]
async extern "C" fn extern_fn() {}

#[crochet::wait_for(timeout = "5s")]
const async fn const_fn() {}

fn main() {}
