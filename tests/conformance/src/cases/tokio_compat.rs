//! Futures of tokio-based crates on every backend: natively on tokio, and
//! inside `async_compat::Compat` on smol and async-std (the facade's
//! `tokio-compat` feature, which turns this module on).

use std::io;
use std::time::{Duration, Instant};

use futures_lite::future;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::PROMPTLY;
use crate::{Fixture, Running};

/// A future that needs tokio's IO driver and timer (a loopback
/// `TcpListener`, a `TcpStream` to it, `tokio::time::sleep`) runs to its
/// end; so does a closure that needs the context when it is called.
pub fn tokio_io_and_timers_work_on_every_backend(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let (reply, slept) = running
        .wait_for_fallible(PROMPTLY, || exchange(Duration::from_millis(20)))
        .unwrap_or_else(|error| panic!("{}: tokio IO in the reactor: {error}", fixture.name()));
    assert_eq!(reply, "pong from tokio");
    assert!(slept >= Duration::from_millis(20), "slept only {slept:?}");

    // The closure runs on a reactor thread too: binding there needs the
    // context already.
    let bound = running.wait_for_fallible(PROMPTLY, || {
        let socket = tokio::net::TcpSocket::new_v4().and_then(|socket| {
            socket.bind("127.0.0.1:0".parse().expect("an address"))?;
            socket.listen(1)
        });
        async move { socket.and_then(|listener| listener.local_addr()) }
    });
    let bound =
        bound.unwrap_or_else(|error| panic!("{}: bind in the closure: {error}", fixture.name()));
    assert!(bound.ip().is_loopback());
}

/// Serves one connection on a fresh loopback listener and reads the reply
/// through a `TcpStream` that first sleeps `pause` on tokio's timer.
async fn exchange(pause: Duration) -> io::Result<(String, Duration)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let serve = async {
        let (mut socket, _) = listener.accept().await?;
        let mut request = [0_u8; 4];
        socket.read_exact(&mut request).await?;
        assert_eq!(&request, b"ping");
        socket.write_all(b"pong from tokio").await?;
        socket.shutdown().await
    };
    let ask = async {
        let mut stream = TcpStream::connect(address).await?;
        let started = Instant::now();
        tokio::time::sleep(pause).await;
        let slept = started.elapsed();
        stream.write_all(b"ping").await?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await?;
        Ok::<_, io::Error>((reply, slept))
    };
    let (served, asked) = future::zip(serve, ask).await;
    served?;
    asked
}
