#[crochet::run_in_reactor(plain)]
async fn not_a_result() -> u8 {
    1
}

#[crochet::wait_for(timeout = "5s", plain)]
async fn no_output() {}

#[crochet::run_in_reactor(plain = true)]
async fn with_a_value() -> Result<u8, String> {
    Ok(1)
}

#[crochet::wait_for(plain, timeout = "5s", plain)]
async fn twice() -> Result<u8, String> {
    Ok(1)
}

#[crochet::run_in_reactor]
async fn alias_with_impl_trait() -> std::io::Result<impl std::fmt::Display + Send> {
    Ok(1)
}

fn main() {}
