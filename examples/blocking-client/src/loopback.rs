//! A small HTTP/1.1 server on loopback, for the example's demo, its tests
//! and crochet-bench: keep-alive, a short body, a thread per connection,
//! `/slow/MS` to answer after MS milliseconds, `POST /echo` to answer with
//! the request's body, and `/download/N` to send N bytes in chunks. It
//! stops when dropped.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// What `/` answers.
pub const BODY: &str = "hello from the loopback server\n";

/// The size of each chunk of a `/download/N` answer (the last may be
/// shorter).
pub const CHUNK: usize = 1024;

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
    loop {
        let Some(request) = read_request(&mut reader, stop)? else {
            return Ok(());
        };
        if let Some(millis) = request.path.strip_prefix("/slow/") {
            thread::sleep(Duration::from_millis(millis.parse().unwrap_or(0)));
        }
        let path = request.path.as_str();
        if path == "/" || path.starts_with("/slow/") {
            respond(&mut writer, "200 OK", "text/plain", BODY.as_bytes())?;
        } else if request.method == "POST" && path == "/echo" {
            respond(&mut writer, "200 OK", "application/json", &request.body)?;
        } else if let Some(size) = path.strip_prefix("/download/") {
            download(&mut writer, size.parse().unwrap_or(0))?;
        } else {
            respond(&mut writer, "404 Not Found", "text/plain", b"")?;
        }
    }
}

/// What the server reads of a request.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// The next request: its line, its headers up to the blank line, and its
/// body by `content-length`; `None` when the connection closes or the
/// server stops.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    stop: &AtomicBool,
) -> io::Result<Option<Request>> {
    let mut request_line = None;
    let mut length = 0;
    let mut line = String::new();
    loop {
        // On a timeout `line` keeps what was read of it, and the next read
        // goes on from there.
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                continue;
            }
            Err(error) => return Err(error),
        }
        let header_end = line == "\r\n" || line == "\n";
        if request_line.is_none() {
            request_line = Some(line.clone());
        } else if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        line.clear();
        if header_end {
            break;
        }
    }
    let request_line = request_line.unwrap_or_default();
    let mut words = request_line.split(' ');
    let method = words.next().unwrap_or("GET").to_owned();
    let path = words.next().unwrap_or("/").to_owned();
    let mut body = Vec::new();
    if length > 0 {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request { method, path, body }))
}

/// One write for the whole answer: the client sees it arrive at once.
fn respond(writer: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> io::Result<()> {
    let mut answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    writer.write_all(&answer)
}

/// `size` bytes of `x`, in chunks of [`CHUNK`] (chunked encoding), each
/// written on its own.
fn download(writer: &mut TcpStream, size: usize) -> io::Result<()> {
    writer.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")?;
    let chunk = [b'x'; CHUNK];
    let mut left = size;
    while left > 0 {
        let length = left.min(CHUNK);
        writer.write_all(format!("{length:x}\r\n").as_bytes())?;
        writer.write_all(&chunk[..length])?;
        writer.write_all(b"\r\n")?;
        left -= length;
    }
    writer.write_all(b"0\r\n\r\n")
}
