//! What the cases share: deadlines, fresh processes for cases that touch
//! process-wide state, captured logs, and small synchronisation helpers.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::Fixture;
use crochet_core::OperationState;

/// The hard bound of one in-process case.
pub const CASE_DEADLINE: Duration = Duration::from_secs(60);
/// The hard bound of one case run in a fresh process.
pub const PROCESS_DEADLINE: Duration = Duration::from_secs(90);
/// A generous bound for things that must happen "promptly".
pub const PROMPTLY: Duration = Duration::from_secs(10);

const ISOLATED_VAR: &str = "CROCHET_CONFORMANCE_CASE";

/// How long the stress case runs by default.
pub const STRESS_DEFAULT: Duration = Duration::from_secs(2);
const STRESS_SECS_VAR: &str = "CROCHET_STRESS_SECS";

/// How long the stress case runs: `CROCHET_STRESS_SECS` (seconds, for a
/// soak run), or [`STRESS_DEFAULT`].
pub fn stress_duration() -> Duration {
    std::env::var(STRESS_SECS_VAR)
        .ok()
        .and_then(|secs| secs.parse::<f64>().ok())
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .unwrap_or(STRESS_DEFAULT)
}

/// What a soak run adds to every deadline, so that it is not cut short.
fn soak_allowance() -> Duration {
    stress_duration().saturating_sub(STRESS_DEFAULT)
}

/// Runs `case` on its own thread and fails the test if it does not end
/// within [`CASE_DEADLINE`] (the stuck thread is left behind), plus the
/// length of a soak run beyond the default (see [`stress_duration`]).
pub fn run_inline(fixture: &'static dyn Fixture, case: fn(&'static dyn Fixture)) {
    with_deadline(
        fixture.name(),
        CASE_DEADLINE + soak_allowance(),
        move || {
            case(fixture);
        },
    );
}

/// Runs `test` on a thread of its own (named `conformance-case`) and fails
/// if it does not end within `deadline`, naming `what`: the watchdog of
/// every blocking test (a hung call would otherwise hang the suite; the
/// stuck thread is left behind). A panic in `test` is raised again here.
pub fn with_deadline(what: &str, deadline: Duration, test: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::Builder::new()
        .name("conformance-case".into())
        .spawn(move || {
            test();
            let _ = done_tx.send(());
        })
        .expect("spawn the test thread");
    match done_rx.recv_timeout(deadline) {
        Ok(()) => worker.join().expect("the test thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: re-raise its panic here.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not finish within {deadline:?}")
        }
    }
}

/// Runs `case` in a fresh process (the same test binary, filtered to this
/// one test), because it touches process-wide state: the global reactor,
/// the failure hook, the global `tracing` subscriber, the stash policy.
///
/// `test_path` is `module_path!()::name` of the generated test.
pub fn run_isolated(
    fixture: &'static dyn Fixture,
    test_path: &str,
    case: fn(&'static dyn Fixture),
) {
    in_fresh_process(test_path, || run_inline(fixture, case));
}

/// Runs `body` in a fresh process: the same test binary, filtered to the
/// test at `test_path` (`module_path!()::name`), which calls this again
/// and, finding itself in that process, runs `body`. The child gets
/// [`PROCESS_DEADLINE`] (plus a soak run's extra length); on success its
/// stderr (the summaries and figures that tests print) is echoed, so
/// `--nocapture` shows it.
///
/// For tests outside the suite that need a process of their own (global
/// policy, resident memory).
pub fn in_fresh_process(test_path: &str, body: impl FnOnce()) {
    // Test names in libtest leave out the crate's own name.
    let name = test_path
        .split_once("::")
        .map_or(test_path, |(_, rest)| rest);
    if std::env::var(ISOLATED_VAR).as_deref() == Ok(name) {
        return body();
    }
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ISOLATED_VAR, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the test binary for an isolated case");
    // Drained while the child runs: a child that writes more than a pipe
    // holds (a stress run whose threads all fail, with backtraces) would
    // otherwise block on the full pipe until the deadline.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = PROCESS_DEADLINE + soak_allowance();
    let status = wait_child(&mut child, deadline);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("{name}: isolated case did not finish within {deadline:?}\n{stdout}\n{stderr}");
    };
    assert!(
        status.success(),
        "{name}: isolated case failed ({status})\n{stdout}\n{stderr}"
    );
    // Make sure the child really ran the case (a filter typo runs nothing).
    assert!(
        stdout.contains("1 passed"),
        "{name}: the isolated run did not run exactly this case\n{stdout}\n{stderr}"
    );
    eprint!("{stderr}");
}

/// Reads all of a child's output stream on a thread of its own.
fn drain(stream: Option<impl std::io::Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` to exit within `deadline`; kills it (and returns
/// `None`) otherwise.
pub fn wait_child(
    child: &mut std::process::Child,
    deadline: Duration,
) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child process") {
            return Some(status);
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The threads of this process whose names start with `crochet-`.
pub fn crochet_threads() -> Vec<String> {
    let mut names = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return names;
    };
    for task in tasks.flatten() {
        if let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) {
            let comm = comm.trim();
            if comm.starts_with("crochet-") {
                names.push(comm.to_owned());
            }
        }
    }
    names
}

/// [`crochet_threads`] once it stops changing. A thread starts with its
/// creator's name and renames itself when it runs, so a runtime's helper
/// thread (async-io's, a blocking pool's) is briefly named `crochet-…`.
pub fn settled_crochet_threads() -> Vec<String> {
    let until = Instant::now() + PROMPTLY;
    let mut last = crochet_threads();
    loop {
        thread::sleep(Duration::from_millis(20));
        let now = crochet_threads();
        if now == last || Instant::now() >= until {
            return now;
        }
        last = now;
    }
}

/// The scheduler states (`R` running, `S` sleeping, ...) of this
/// process's threads named `name` (at most 15 bytes, as Linux keeps them).
pub fn thread_states(name: &str) -> Vec<char> {
    let mut states = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return states;
    };
    for task in tasks.flatten() {
        // `pid (comm) S ...`: the name may hold spaces and parentheses, the
        // state follows the last `)`.
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if stat[open + 1..close] == *name {
            if let Some(state) = stat[close + 1..].trim_start().chars().next() {
                states.push(state);
            }
        }
    }
    states
}

/// Keeps panics whose message starts with `marker` off stderr, for cases
/// that panic on purpose thousands of times (each would print a
/// backtrace, and fill the pipe of an isolated run). Other panics print as
/// before. Process-wide: isolated cases only.
pub fn quiet_panics(marker: &'static str) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if !message.is_some_and(|message| message.starts_with(marker)) {
            previous(info);
        }
    }));
}

/// Waits until `condition` holds, for at most `deadline`.
pub fn eventually(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that a wait timed out and left its operation running (it was
/// not cancelled); `what` says what the timeout means where it is asserted.
#[track_caller]
pub fn assert_timed_out_running<T: std::fmt::Debug, E: std::fmt::Debug>(
    waited: &Result<T, crochet_core::WaitError<E>>,
    what: &str,
) {
    assert_timed_out(waited, OperationState::Running, what);
}

/// Asserts that `waited` timed out on work queued for a runtime that was
/// not attached yet (`no_setup`), which says so.
#[track_caller]
pub fn assert_timed_out_awaiting_attach<T: std::fmt::Debug, E: std::fmt::Debug>(
    waited: &Result<T, crochet_core::WaitError<E>>,
    what: &str,
) {
    assert_timed_out(waited, OperationState::AwaitingAttach, what);
}

/// Asserts that `waited` timed out with its operation in `state`.
#[track_caller]
fn assert_timed_out<T: std::fmt::Debug, E: std::fmt::Debug>(
    waited: &Result<T, crochet_core::WaitError<E>>,
    state: OperationState,
    what: &str,
) {
    assert!(
        matches!(
            waited,
            Err(crochet_core::WaitError::Timeout { state: found, .. }) if *found == state
        ),
        "{what}: {waited:?}"
    );
}

/// A boolean that threads can wait to become true.
#[derive(Clone, Default)]
pub struct Flag(Arc<(Mutex<bool>, Condvar)>);

impl Flag {
    pub fn new() -> Self {
        Flag::default()
    }

    pub fn set(&self) {
        let (lock, ready) = &*self.0;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        ready.notify_all();
    }

    pub fn is_set(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the flag; returns whether it is set.
    pub fn wait(&self, timeout: Duration) -> bool {
        let (lock, ready) = &*self.0;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = ready
            .wait_timeout_while(guard, timeout, |set| !*set)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    /// A value that sets the flag when dropped.
    pub fn on_drop(&self) -> SetOnDrop {
        SetOnDrop(self.clone())
    }
}

/// Sets its [`Flag`] when dropped.
pub struct SetOnDrop(Flag);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// A runtime-independent async gate: futures from [`Gate::opened`] stay
/// pending until [`Gate::open`].
#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<(bool, Vec<Waker>)>>);

impl Gate {
    pub fn new() -> Self {
        Gate::default()
    }

    pub fn open(&self) {
        let wakers = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    pub fn opened(&self) -> Opened {
        Opened(self.clone())
    }
}

/// The future of [`Gate::opened`].
pub struct Opened(Gate);

impl Future for Opened {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 {
            Poll::Ready(())
        } else {
            state.1.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A result that stays pending until its gate opens, then yields `value`.
pub fn gated<T: Send + 'static>(
    reactor: &crochet_core::Reactor,
    value: T,
) -> (Gate, crochet_core::EventualResult<T>) {
    let gate = Gate::new();
    let opened = gate.opened();
    let result = reactor.run_in_reactor(move || async move {
        opened.await;
        value
    });
    (gate, result)
}

/// A counter of live values, to check that every future created is
/// dropped.
#[derive(Clone, Default)]
pub struct Live(Arc<AtomicUsize>);

impl Live {
    pub fn new() -> Self {
        Live::default()
    }

    pub fn token(&self) -> LiveToken {
        self.0.fetch_add(1, Ordering::SeqCst);
        LiveToken(self.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One live value of a [`Live`] counter.
pub struct LiveToken(Live);

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Everything logged through `tracing` (or `log`) while installed, for
/// cases that assert on logs. Installs process-wide, so only isolated
/// cases use it.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Installs a global `tracing` subscriber writing here.
    pub fn capture() -> Logs {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("only one log capture per (isolated) process");
        logs
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Lines containing every one of `needles`.
    pub fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| needles.iter().all(|needle| line.contains(needle)))
            .map(str::to_owned)
            .collect()
    }

    /// Waits up to `deadline` for a line with every one of `needles`.
    pub fn wait_for(&self, deadline: Duration, needles: &[&str]) -> bool {
        eventually(deadline, || !self.lines_with(needles).is_empty())
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A loopback address that nothing listens on (it was free a moment ago),
/// and that no other caller in this process gets.
///
/// Below the kernel's ephemeral range (32768 and up by default): a port
/// picked by `bind(…:0)` would be free again between a test's rounds, and
/// another test's outgoing connection or listener could take it then.
pub fn free_address() -> std::net::SocketAddr {
    use std::sync::atomic::AtomicU16;
    const LOW: u16 = 12_000;
    const HIGH: u16 = 32_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    if NEXT.load(Ordering::Relaxed) == 0 {
        // A different start per process, so that two test processes rarely
        // meet on the same ports.
        let start = LOW + (std::process::id() % u32::from(HIGH - LOW)) as u16;
        let _ = NEXT.compare_exchange(0, start, Ordering::Relaxed, Ordering::Relaxed);
    }
    for _ in LOW..HIGH {
        let port = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOW + port.wrapping_sub(LOW) % (HIGH - LOW);
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if std::net::TcpListener::bind(address).is_ok() {
            return address;
        }
    }
    panic!("no free loopback port between {LOW} and {HIGH}");
}

/// A listening port held by an operation. Its destructor takes a few
/// milliseconds before it closes the socket, as a real resource's might
/// (a flush, a goodbye message), then sets its `released` flag: a caller
/// told too early that the operation is gone would find the port still
/// taken.
pub struct HeldPort {
    listener: Option<std::net::TcpListener>,
    released: Flag,
}

impl HeldPort {
    /// Binds `address`; `released` is set once the port is closed again.
    ///
    /// # Panics
    ///
    /// When the port is taken: the previous holder was not released.
    pub fn bind(address: std::net::SocketAddr, released: &Flag) -> HeldPort {
        let listener = std::net::TcpListener::bind(address)
            .unwrap_or_else(|error| panic!("{address} is still taken: {error}"));
        HeldPort {
            listener: Some(listener),
            released: released.clone(),
        }
    }
}

impl Drop for HeldPort {
    fn drop(&mut self) {
        thread::sleep(Duration::from_millis(5));
        drop(self.listener.take());
        self.released.set();
    }
}

/// Asserts that the operation let go of `address`: its port was closed
/// (`released`) before the caller heard of the end, and binding it works.
///
/// A bind may still fail for a moment for a reason that is not the
/// operation's: this test process spawns children (isolated cases), and a
/// child holds copies of every descriptor between its fork and its exec.
/// Binding is retried briefly for that, once `released` proved the
/// operation's part.
pub fn assert_port_free(address: std::net::SocketAddr, released: &Flag, context: &str) {
    assert!(
        released.is_set(),
        "{context}: the end was heard before the port was released"
    );
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        match std::net::TcpListener::bind(address) {
            Ok(_) => return,
            Err(error) if Instant::now() >= until => {
                panic!("{context}: {address} is still held: {error}")
            }
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// A future that holds `held` until it is dropped, even after it has
/// returned `value`.
pub struct Holding<H, T> {
    pub held: H,
    pub value: Option<T>,
}

impl<H: Unpin, T: Unpin> Future for Holding<H, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.get_mut().value.take().expect("polled after Ready"))
    }
}

/// The messages of the failures reported to a process-wide failure hook
/// that [`HookedFailures::install`] set. Process-wide: isolated cases only.
#[derive(Clone, Default)]
pub struct HookedFailures(Arc<Mutex<Vec<String>>>);

impl HookedFailures {
    /// Sets the process-wide failure hook to collect messages here.
    pub fn install() -> HookedFailures {
        let hooked = HookedFailures::default();
        let sink = hooked.clone();
        crochet_core::set_failure_hook(move |failure| {
            sink.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(failure.error().to_string());
        });
        hooked
    }

    /// The messages so far.
    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A backend that is not the fixture's, for the cases about asking for
/// another backend than the one that runs: named `other`, and never to be
/// started (its `start` panics).
#[derive(Debug)]
pub struct OtherBackend;

impl crochet_core::backend::Backend for OtherBackend {
    fn start(self) -> Result<crochet_core::backend::Started, crochet_core::SetupError> {
        panic!("the other backend was started: setup must refuse it or do nothing")
    }

    fn name(&self) -> &'static str {
        "other"
    }
}
