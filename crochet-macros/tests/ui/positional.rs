#[crochet::wait_for(5.0)]
async fn python_style() {}

#[crochet::wait_for("5s")]
async fn unnamed() {}

fn main() {}
