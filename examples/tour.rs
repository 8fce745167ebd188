//! A guided tour of crochet, self-contained on loopback: each step prints
//! one line saying what happened and how long it took.
//!
//! ```text
//! cargo run --example tour
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crochet::EventualResult;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECOND: Duration = Duration::from_secs(1);

fn step(number: u32, name: &str, started: Instant, what: impl std::fmt::Display) {
    let took = started.elapsed();
    println!("{number:>2}. {name:<28} {what} ({took:.1?})");
}

/// A loopback echo server, started inside the reactor.
async fn echo_server() -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0_u8; 1024];
                while let Ok(read) = socket.read(&mut buffer).await {
                    if read == 0 || socket.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(address)
}

async fn echo(address: std::net::SocketAddr, text: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(text.as_bytes()).await?;
    let mut reply = vec![0_u8; text.len()];
    stream.read_exact(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // crochet logs through `tracing`; show its events here.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stdout)
        .init();

    println!("crochet tour: blocking code calling async code in a background reactor\n");

    let started = Instant::now();
    crochet::setup()?;
    crochet::setup()?; // any library may call it again: nothing happens
    let guard = crochet::shutdown_guard(5 * SECOND);
    let thread = crochet::wait_for(SECOND, || async {
        std::thread::current().name().unwrap_or_default().to_owned()
    })?;
    step(
        1,
        "setup()",
        started,
        format_args!("reactor running on thread `{thread}`"),
    );

    let started = Instant::now();
    let address = crochet::wait_for_fallible(5 * SECOND, echo_server)?;
    let reply = crochet::run_in_reactor_fallible(move || echo(address, "hello, reactor"));
    let reply = reply.wait_timeout(5 * SECOND)?;
    step(
        2,
        "run_in_reactor + wait",
        started,
        format_args!("echo server at {address} replied {reply:?}"),
    );

    let started = Instant::now();
    let slow = crochet::run_in_reactor(|| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        "worth the wait"
    });
    let early = slow.wait_timeout(Duration::from_millis(20));
    let later = slow.wait_timeout(5 * SECOND)?;
    step(
        3,
        "wait_timeout",
        started,
        format_args!(
            "first wait: {}; second wait: {later:?}",
            early.expect_err("the first wait times out")
        ),
    );

    let started = Instant::now();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let (running, is_running) = std::sync::mpsc::channel();
    let endless = crochet::run_in_reactor(move || {
        let _ = running.send(());
        async move {
            let _on_drop = SetOnDrop(flag);
            std::future::pending::<()>().await;
        }
    });
    // Cancel once it runs: cancelling work that never started has no
    // future to drop.
    is_running.recv_timeout(SECOND)?;
    endless.cancel();
    // The waiter hears `Cancelled` once the reactor has dropped the future.
    let outcome = endless.wait_timeout(SECOND).expect_err("cancelled");
    step(
        4,
        "cancel()",
        started,
        format_args!(
            "{outcome}; future dropped: {}",
            dropped.load(Ordering::SeqCst)
        ),
    );

    let started = Instant::now();
    let timed_out = crochet::wait_for(Duration::from_millis(50), || async {
        tokio::time::sleep(10 * SECOND).await;
    });
    step(
        5,
        "wait_for(50ms, …)",
        started,
        timed_out.expect_err("times out"),
    );

    let started = Instant::now();
    let id = crochet::run_in_reactor(|| async { "a result parked for a later request" }).stash()?;
    let cookie = id.to_string();
    let retrieved: EventualResult<&str> = crochet::retrieve_result(cookie.parse()?)?;
    let retrieved = retrieved.wait_timeout(SECOND)?;
    let again =
        crochet::retrieve_result::<&str, Infallible>(cookie.parse()?).expect_err("only once");
    step(
        6,
        "stash + retrieve_result",
        started,
        format_args!("id {cookie} gave {retrieved:?}, then {again:?}"),
    );

    let started = Instant::now();
    let lost = crochet::run_in_reactor_fallible(|| async {
        Err::<(), _>("nobody waited for this failure")
    });
    while !lost.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(lost); // the log line above this step is crochet reporting it
    step(
        7,
        "unobserved failure",
        started,
        "dropped unwaited: logged once at error level",
    );

    let started = Instant::now();
    let first = crochet::run_in_reactor(|| async { 20 });
    let second = crochet::run_in_reactor(move || async move {
        // Async code awaits the very same handle type.
        first.await.map(|value| value + 22)
    });
    step(
        8,
        ".await in async code",
        started,
        format_args!("got {}", second.wait_timeout(SECOND)??),
    );

    let started = Instant::now();
    let pending = crochet::run_in_reactor(std::future::pending::<()>);
    let waiter = std::thread::spawn(move || pending.wait());
    std::thread::sleep(Duration::from_millis(20));
    drop(guard); // shuts down: every waiter wakes
    let woke = waiter.join().expect("waiter thread").expect_err("stopped");
    step(
        9,
        "shutdown",
        started,
        format_args!("a blocked waiter woke with: {woke}"),
    );

    println!("\nall steps done");
    Ok(())
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
