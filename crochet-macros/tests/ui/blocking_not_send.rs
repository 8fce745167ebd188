use std::rc::Rc;

pub struct Client;

#[crochet::blocking]
impl Client {
    // Owned arguments: the reactor's thread may run it, so its future
    // must be `Send`; `#[blocking(inline)]` would run it here only.
    pub async fn count(&self, n: u32) -> u32 {
        let local = Rc::new(n);
        std::future::ready(()).await;
        *local
    }
}

fn main() {}
