//! Read an async stream from a blocking thread, as an iterator with
//! timeouts: lines from a TCP socket, read in the reactor by tokio.
//!
//! ```text
//! cargo run --example stream_lines
//! cargo run --example stream_lines -- --lines 20 --interval-ms 50 --timeout-ms 100
//! ```
//!
//! A loopback server in the reactor sends `--lines` lines, one every
//! `--interval-ms`, with a longer pause halfway. The blocking `main` thread
//! reads them through `crochet::stream_in_reactor`, waiting at most
//! `--timeout-ms` for each: a wait that times out loses nothing, the line
//! that arrives later is the next one read. It prints each line, the
//! reactor's statistics every 5 lines, and at the end.

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_lite::stream;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: stream_lines [--lines N] [--interval-ms MS] [--timeout-ms MS]";

/// How long the reader waits for a line, in all, before it gives up.
const GIVE_UP: Duration = Duration::from_secs(10);

struct Options {
    lines: u32,
    interval: Duration,
    timeout: Duration,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), Box<dyn Error>> {
    crochet::setup()?;
    let _shutdown = crochet::shutdown_guard(Duration::from_secs(5));
    let started = Instant::now();

    let Options {
        lines: count,
        interval,
        timeout,
    } = options;
    let address =
        crochet::wait_for_fallible(Duration::from_secs(5), move || line_server(count, interval))?;
    // tokio's sockets are made in the reactor, then handed to the stream.
    let socket =
        crochet::wait_for_fallible(Duration::from_secs(5), move || TcpStream::connect(address))?;
    println!("reading {count} lines from {address}, waiting at most {timeout:?} for each");

    let mut lines = crochet::stream_in_reactor(move || {
        // Each line as `Ok`; an error ends the stream after it is yielded.
        stream::unfold(Some(BufReader::new(socket).lines()), |lines| async move {
            let mut lines = lines?;
            match lines.next_line().await {
                Ok(Some(line)) => Some((Ok(line), Some(lines))),
                Ok(None) => None,
                Err(error) => Some((Err(error), None)),
            }
        })
    });

    let mut received = 0_u32;
    let mut last = Instant::now();
    loop {
        match lines.next_timeout(timeout) {
            Ok(Some(Ok(line))) => {
                received += 1;
                last = Instant::now();
                println!("{line} (at {:.1?})", started.elapsed());
                if received % 5 == 0 && received != count {
                    println!("stats: {}", crochet::global().stats());
                }
            }
            Ok(Some(Err(error))) => {
                return Err(format!("reading line {}: {error}", received + 1).into());
            }
            Ok(None) => break,
            Err(error) if error.is_timeout() => {
                if last.elapsed() >= GIVE_UP {
                    return Err(format!("no line for {GIVE_UP:?}; giving up").into());
                }
                println!("(no line within {timeout:?}; still waiting, nothing is lost)");
            }
            Err(error) => return Err(error.into()),
        }
    }
    println!("received {received} lines in {:.1?}", started.elapsed());
    println!("stats: {}", crochet::global().stats());
    if received != count {
        return Err(format!("expected {count} lines, got {received}").into());
    }
    Ok(())
}

/// A loopback server, in the reactor, that sends `count` lines to its
/// first client, one every `interval`, pausing four intervals halfway.
async fn line_server(count: u32, interval: Duration) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        for number in 1..=count {
            let pause = if number == count / 2 + 1 {
                interval * 4
            } else {
                interval
            };
            tokio::time::sleep(pause).await;
            let line = format!("line {number} of {count}\n");
            if socket.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    Ok(address)
}

/// Parses the arguments: `Ok(None)` for `--help`, `Err` with a one-line
/// message for anything it does not understand.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        lines: 10,
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(250),
    };
    while let Some(arg) = args.next() {
        let mut number = || {
            let text = args.next().ok_or(format!("{arg} needs a number"))?;
            text.parse::<u32>()
                .map_err(|_| format!("{arg} needs a whole number, not `{text}`"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--lines" => options.lines = number()?,
            "--interval-ms" => options.interval = Duration::from_millis(number()?.into()),
            "--timeout-ms" => options.timeout = Duration::from_millis(number()?.into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(options))
}
