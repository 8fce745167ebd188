use std::sync::Arc;

struct Client;

#[crochet::blocking]
impl Client {
    async fn exclusive(&mut self) -> u8 {
        1
    }

    async fn consumed(self) -> u8 {
        2
    }

    async fn shared(self: Arc<Self>) -> u8 {
        3
    }

    async fn connect(address: String) -> Client {
        let _ = address;
        Client
    }

    async fn reactor(&self) -> u8 {
        4
    }

    #[blocking(forward)]
    async fn marked(&self) -> u8 {
        5
    }

    async fn borrowed_arc(self: &Arc<Self>) -> u8 {
        11
    }

    async fn configured(&self, #[cfg(test)] verbose: bool) -> u8 {
        12
    }

    #[blocking(loud)]
    async fn unknown(&self) -> u8 {
        6
    }

    // Fine: left out.
    #[blocking(skip)]
    async fn left_out(&mut self) -> u8 {
        7
    }

    // Fine: not async, left out.
    fn helper(&mut self) {}
}

trait Api {
    async fn get(&self) -> u8;
}

#[crochet::blocking]
impl Api for Client {
    async fn get(&self) -> u8 {
        8
    }
}

struct Generic<T>(T);

#[crochet::blocking]
impl<T: Send + Sync> Generic<T> {
    async fn get(&self) -> u8 {
        9
    }
}

struct Other;

#[crochet::blocking(nme = "Twin")]
impl Other {
    async fn get(&self) -> u8 {
        10
    }
}

fn main() {}
