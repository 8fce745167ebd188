//! R9 and E8: the process around the reactor (fork, Ctrl-C).
//!
//! Both need two libc calls that std does not offer: `fork()` for R9, and
//! resetting SIGINT to its default disposition (and sending it) for E8.
#![allow(unsafe_code)] // fork, waitpid, signal and kill have no safe std API

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crochet_core::{Reactor, WaitError};

use crate::Fixture;
use crate::support::{Gate, PROMPTLY, wait_child};

/// R9: in a child created by `fork()` after setup, a wait returns a typed
/// `Forked` error (before it parks for threads that do not exist there, or
/// within 100 ms when its thread asked moments before the fork: a thread
/// asks at most every 100 ms, so that a wait does not pay a syscall each),
/// instead of hanging.
pub fn r9_forked_child_gets_a_forked_error(fixture: &'static dyn Fixture) {
    fixture
        .start_managed(crochet_core::global())
        .expect("setup");
    assert_eq!(
        crochet_core::wait_for(PROMPTLY, || async { 1 }).expect("run"),
        1
    );
    let parent = std::process::id();

    // SAFETY: the child only checks crochet's answers (crochet's own locks
    // are taken only when free, or after the fork check, on the `Forked`
    // path) and leaves with `_exit`, running no destructors or atexit
    // handlers.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let result = crochet_core::run_in_reactor(|| async { 2 });
        let submitted = matches!(
            result.wait_timeout(PROMPTLY),
            Err(WaitError::Forked { parent: p, child }) if p == parent && child == std::process::id()
        );
        let waited = matches!(
            crochet_core::wait_for(PROMPTLY, || async { 3 }),
            Err(WaitError::Forked { .. })
        ) && matches!(
            crochet_core::wait_for_ref(PROMPTLY, || async { 3 }),
            Err(WaitError::Forked { .. })
        );
        std::mem::forget(result);
        // The parent's threads are not here: shutdown must not wait for
        // them, even without a bound.
        let started = std::time::Instant::now();
        let stopped = crochet_core::global()
            .shutdown(std::time::Duration::MAX)
            .is_ok()
            && started.elapsed() < PROMPTLY;
        let code = if submitted && waited && stopped { 0 } else { 1 };
        // SAFETY: ends the forked child at once, as a fork child must.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out
    // pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit normally");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child did not get Forked errors"
    );
    // The parent is unaffected.
    assert_eq!(
        crochet_core::wait_for(PROMPTLY, || async { 4 }).expect("run"),
        4
    );
}

const SIGINT_CHILD: &str = "CROCHET_CONFORMANCE_SIGINT_CHILD";
const WAITING: &str = "crochet-conformance: waiting forever";

/// E8: a process blocked in `wait()` without a timeout still dies on
/// Ctrl-C (SIGINT) with default handling: crochet swallows no signal.
pub fn e8_sigint_kills_process_blocked_in_wait(fixture: &'static dyn Fixture) {
    if std::env::var_os(SIGINT_CHILD).is_some() {
        return block_forever(fixture);
    }
    let name = std::env::var("CROCHET_CONFORMANCE_CASE").expect("run as an isolated case");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env("CROCHET_CONFORMANCE_CASE", &name)
        .env(SIGINT_CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("stdout");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(WAITING) {
                let _ = ready_tx.send(());
            }
        }
    });
    ready_rx
        .recv_timeout(PROMPTLY)
        .expect("the child started waiting");
    // Let it get from the print into the blocking wait.
    thread::sleep(Duration::from_millis(200));
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends SIGINT to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = wait_child(&mut child, PROMPTLY).expect("the child did not die on SIGINT");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status}");
}

fn block_forever(fixture: &'static dyn Fixture) {
    // The test harness may have inherited an ignored SIGINT (a background
    // job of a non-interactive shell): the claim is about the default
    // disposition, so establish it.
    // SAFETY: installs the default disposition; no handler code runs.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
    fixture
        .start_managed(crochet_core::global())
        .expect("setup");
    let gate = Gate::new();
    let opened = gate.opened();
    let never = crochet_core::run_in_reactor(move || opened);
    println!("{WAITING}");
    let outcome = never.wait();
    panic!("wait returned instead of blocking: {outcome:?}");
}

/// R9: a child forked while other threads were busy with crochet's locks
/// (every shard of the registry, the reactor's lifecycle, the stash) never
/// blocks on a lock that one of those threads held at the fork: its wait
/// gets `Forked`, its stats, stash and retrieve answer, and it shuts down
/// promptly, fork after fork. (The runtime's own locks are the runtime's:
/// the busy threads do not spawn onto it.)
pub fn r9_forked_child_never_blocks_on_a_lock_held_at_fork(fixture: &'static dyn Fixture) {
    fixture
        .start_managed(crochet_core::global())
        .expect("setup");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..16)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Each takes every shard lock and the lifecycle lock,
                    // and the stash's lock twice.
                    let _ = crochet_core::global().stats();
                    let _ = format!("{:?}", crochet_core::global());
                    let _ = crochet_core::stash_len();
                    let _ = crochet_core::retrieve_result::<u8, std::convert::Infallible>(
                        "00112233445566778899aabbccddeeff".parse().expect("an id"),
                    );
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    for round in 0..20 {
        // SAFETY: the child only uses crochet (whose fork paths take no lock
        // another thread could hold) and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let waited = crochet_core::run_in_reactor(|| async { 1 }).wait_timeout(PROMPTLY);
            let forked = matches!(waited, Err(WaitError::Forked { .. }));
            // Each returns (what it says does not matter here).
            let _ = crochet_core::global().stats();
            let _ = crochet_core::stash_len();
            let _ = crochet_core::retrieve_result::<u8, std::convert::Infallible>(
                "00112233445566778899aabbccddeeff".parse().expect("an id"),
            );
            let stopped = crochet_core::global().shutdown(Duration::MAX).is_ok();
            if !(forked && stopped) {
                eprintln!("child: waited {waited:?}, stopped {stopped}");
            }
            // SAFETY: ends the forked child at once.
            unsafe { libc::_exit(if forked && stopped { 0 } else { 1 }) };
        }
        let status = wait_pid(pid, PROMPTLY);
        assert_eq!(
            status,
            Some(0),
            "round {round}: the child hung or did not get Forked"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for thread in busy {
        thread.join().expect("busy thread");
    }
}

/// A value whose clone, once armed, says so and then blocks its thread
/// for a while: a `SharedResult` clones under its result's lock, so the
/// lock is held, deterministically, for that long.
#[derive(Debug)]
struct SlowClone {
    armed: Arc<AtomicBool>,
    cloning: std::sync::mpsc::Sender<()>,
}

impl Clone for SlowClone {
    fn clone(&self) -> Self {
        if self.armed.load(Ordering::SeqCst) {
            let _ = self.cloning.send(());
            thread::sleep(Duration::from_secs(3));
        }
        SlowClone {
            armed: Arc::clone(&self.armed),
            cloning: self.cloning.clone(),
        }
    }
}

/// R9/A4: a child forked while a parent thread held a result's lock (its
/// shared value being cloned) never blocks on it: `cancel` returns at
/// once, dropping a handle does not hang, and every kind of wait on it
/// (a blocking wait, `try_result`, `wait_any`, a `WaitSet`, an `.await`)
/// answers `Forked`; a stream read (which has a lock of its own) answers
/// `Forked` too, bounded or not, instead of timing out or hanging.
pub fn r9_a_forked_child_never_blocks_on_a_result_lock_held_at_the_fork(
    fixture: &'static dyn Fixture,
) {
    let reactor = Reactor::new();
    fixture.start_managed(&reactor).expect("setup");
    let armed = Arc::new(AtomicBool::new(false));
    let (cloning, cloned) = std::sync::mpsc::channel();
    let value = SlowClone {
        armed: Arc::clone(&armed),
        cloning,
    };
    let shared = reactor
        .run_in_reactor(move || async move { value })
        .shared();
    assert!(shared.wait_timeout(PROMPTLY).is_ok(), "the value");
    let mut stream = reactor.stream_in_reactor(futures_lite::stream::pending::<u32>);
    armed.store(true, Ordering::SeqCst);
    let holder = {
        let shared = shared.clone();
        thread::spawn(move || drop(shared.wait_timeout(PROMPTLY)))
    };
    cloned.recv_timeout(PROMPTLY).expect("the clone began");
    // SAFETY: the child only uses crochet, whose fork paths take a busy
    // lock only after the fork check, and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let started = std::time::Instant::now();
        let forked = |outcome: &dyn std::fmt::Debug| format!("{outcome:?}").contains("Forked");
        let mut failures = Vec::new();
        let cancelled = shared.cancel();
        if cancelled {
            failures.push("cancel said it cancelled a finished result".to_owned());
        }
        let waited = shared.wait_timeout(PROMPTLY);
        let tried = shared.try_result();
        let any = crochet_core::wait_any(PROMPTLY, [&shared]);
        let set = crochet_core::WaitSet::new([shared.clone()]).wait_next_timeout(PROMPTLY);
        let awaited = futures_lite::future::block_on(shared.clone());
        drop(shared.clone());
        let bounded = stream.next_timeout(PROMPTLY);
        let unbounded = stream.next();
        for (what, outcome) in [
            ("wait", &waited as &dyn std::fmt::Debug),
            ("try_result", &tried),
            ("wait_any", &any),
            ("WaitSet", &set),
            (".await", &awaited),
            ("stream next_timeout", &bounded),
            ("stream next", &unbounded),
        ] {
            if !forked(outcome) {
                failures.push(format!("{what}: {outcome:?}"));
            }
        }
        let took = started.elapsed();
        if took > Duration::from_secs(2) {
            failures.push(format!("the child took {took:?}"));
        }
        if !failures.is_empty() {
            eprintln!("child: {failures:?}");
        }
        std::mem::forget(stream);
        std::mem::forget(shared);
        // SAFETY: ends the forked child at once.
        unsafe { libc::_exit(if failures.is_empty() { 0 } else { 1 }) };
    }
    let status = wait_pid(pid, PROMPTLY);
    assert_eq!(
        status,
        Some(0),
        "{}: the child hung on a lock, or did not get Forked",
        fixture.name()
    );
    holder.join().expect("the holding thread");
    drop(stream);
    reactor.shutdown(PROMPTLY).expect("shutdown");
}

/// Waits for child `pid` for at most `deadline`: its exit code, or `None`
/// (after killing it) when it did not exit normally in time.
fn wait_pid(pid: libc::pid_t, deadline: Duration) -> Option<i32> {
    let until = std::time::Instant::now() + deadline;
    loop {
        let mut status = 0;
        // SAFETY: polls the child forked by the caller; `status` is a valid
        // out pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited == pid {
            return libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        }
        if std::time::Instant::now() >= until {
            // SAFETY: kills and reaps our own stuck child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}
