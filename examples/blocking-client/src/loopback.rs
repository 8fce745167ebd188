//! A small HTTP/1.1 server on loopback, for the example's demo, its tests
//! and crochet-bench: keep-alive, a short body, a thread per connection,
//! and `/slow/MS` to answer after MS milliseconds. It stops when dropped.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// What `/` answers.
pub const BODY: &str = "hello from the loopback server\n";

/// How often an idle connection thread looks at the stop flag.
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// A running server; dropping it stops it.
#[derive(Debug)]
pub struct Server {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on `127.0.0.1`, on a port the system picks.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound or the thread started.
    pub fn start() -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("loopback-http".into())
                .spawn(move || accept(&listener, &stop))?
        };
        Ok(Server {
            address,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> reqwest::Url {
        format!("http://{}/", self.address)
            .parse()
            .expect("a loopback URL")
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        drop(TcpStream::connect(self.address));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(listener: &TcpListener, stop: &Arc<AtomicBool>) {
    for connection in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(connection) = connection else { continue };
        let stop = Arc::clone(stop);
        // Connection threads end with their connection, or at the next
        // idle check after the server stops.
        let _ = thread::Builder::new()
            .name("loopback-http-conn".into())
            .spawn(move || drop(serve(connection, &stop)));
    }
}

/// Answers requests on one connection until it closes or the server stops.
fn serve(connection: TcpStream, stop: &AtomicBool) -> io::Result<()> {
    connection.set_nodelay(true)?;
    connection.set_read_timeout(Some(IDLE_CHECK))?;
    let mut writer = connection.try_clone()?;
    let mut reader = BufReader::new(connection);
    let mut line = String::new();
    loop {
        // The request line, then headers up to the blank line; a GET has
        // no body.
        let mut path = None;
        loop {
            // On a timeout `line` keeps what was read of it, and the next
            // read goes on from there.
            match reader.read_line(&mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if stop.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    continue;
                }
                Err(error) => return Err(error),
            }
            let header_end = line == "\r\n" || line == "\n";
            if path.is_none() {
                path = Some(line.split(' ').nth(1).unwrap_or("/").to_owned());
            }
            line.clear();
            if header_end {
                break;
            }
        }
        let path = path.unwrap_or_default();
        if let Some(millis) = path.strip_prefix("/slow/") {
            thread::sleep(Duration::from_millis(millis.parse().unwrap_or(0)));
        }
        let response = if path == "/" || path.starts_with("/slow/") {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{BODY}",
                BODY.len()
            )
        } else {
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_owned()
        };
        writer.write_all(response.as_bytes())?;
    }
}
