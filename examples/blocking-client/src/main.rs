//! The blocking client at work: a loopback server, one client shared by
//! many threads, a JSON post, a streamed download, and a timeout that
//! cancels.
//!
//! ```text
//! cargo run -p blocking-client-example
//! cargo run -p blocking-client-example -- --threads 32 --requests 100
//! ```

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use blocking_client::{blocking, loopback};

const USAGE: &str = "usage: blocking-client [--threads N] [--requests N]";

fn main() -> ExitCode {
    let (threads, requests) = match parse_args(std::env::args().skip(1)) {
        Ok(counts) => counts,
        Err(message) => {
            eprintln!("error: {message}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(threads, requests) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(threads: usize, requests: usize) -> Result<(), Box<dyn std::error::Error>> {
    let server = loopback::Server::start()?;
    let client = blocking::Client::builder(server.url())
        .timeout(Duration::from_millis(500))
        .build()?;

    let started = Instant::now();
    let answered = thread::scope(|scope| {
        let callers: Vec<_> = (0..threads)
            .map(|_| {
                let client = client.clone();
                scope.spawn(move || {
                    (0..requests).try_fold(0_usize, |answered, _| {
                        client
                            .get("/")
                            .map(|body| answered + usize::from(body == loopback::BODY))
                    })
                })
            })
            .collect();
        callers
            .into_iter()
            .map(|caller| caller.join().expect("a calling thread panicked"))
            .sum::<Result<usize, _>>()
    })?;
    let elapsed = started.elapsed();
    println!(
        "{answered} requests from {threads} threads answered in {:.0} ms ({:.0} requests/s)",
        elapsed.as_secs_f64() * 1e3,
        answered as f64 / elapsed.as_secs_f64()
    );

    let echoed = client.post_json("/echo", r#"{"hello": "crochet"}"#)?;
    println!("posted and echoed: {echoed}");
    let (mut chunks, mut bytes) = (0, 0);
    for chunk in client.download("/download/100000") {
        bytes += chunk??.len();
        chunks += 1;
    }
    println!("downloaded {bytes} bytes in {chunks} chunks, read as they arrived");

    // The server takes 2 s to answer this one: the call gives up after the
    // client's 500 ms, and the request is cancelled, not left running.
    let started = Instant::now();
    match client.get("/slow/2000") {
        Err(error) if error.is_timeout() => println!(
            "slow request: {error} (after {:.0} ms)",
            started.elapsed().as_secs_f64() * 1e3
        ),
        other => return Err(format!("the slow request should time out, got {other:?}").into()),
    }
    Ok(())
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<(usize, usize), String> {
    let (mut threads, mut requests) = (32, 100);
    let mut args = args;
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--threads" => &mut threads,
            "--requests" => &mut requests,
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        *target = value.parse().map_err(|_| format!("bad {arg} {value:?}"))?;
    }
    Ok((threads, requests))
}
