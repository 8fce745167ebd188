//! W7: `#[crochet::run_in_reactor]` and `#[crochet::wait_for]` on free
//! functions and methods, end to end on the real tokio reactor.
//!
//! Every test calls `crochet::setup()` (idempotent) and bounds each
//! blocking wait with a timeout: the macros' own, or `PROMPTLY`.
#![cfg(all(feature = "macros", feature = "tokio"))]

use std::error::Error as StdError;
use std::fmt::Display;
use std::io;
use std::num::ParseIntError;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crochet::OperationState;
use crochet::backends::tokio::Tokio;
use crochet::{EventualResult, Reactor, WaitError};
use crochet_conformance::support::{Flag, Gate, Opened, PROMPTLY, SetOnDrop, eventually};

fn setup() {
    crochet::setup().expect("the global reactor starts");
}

fn thread_name() -> Option<String> {
    std::thread::current().name().map(str::to_owned)
}

/// Runs in the reactor: the caller gets a handle at once.
#[crochet::run_in_reactor]
async fn gated_greeting(opened: Opened, name: String) -> String {
    opened.await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    format!("hello {name} from {}", thread_name().unwrap_or_default())
}

#[test]
fn w7_run_in_reactor_fn_returns_at_once_and_runs_on_the_reactor_thread() {
    setup();
    let gate = Gate::new();
    let greeting: EventualResult<String> = gated_greeting(gate.opened(), "world".to_owned());
    assert!(!greeting.is_finished(), "the body waits for the gate");
    gate.open();
    assert_eq!(
        greeting.wait_timeout(PROMPTLY).expect("the greeting"),
        "hello world from crochet-tokio"
    );
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

/// Arguments of several types and patterns.
#[crochet::wait_for(timeout = "10s")]
async fn describe(
    label: &'static str,
    mut words: Vec<String>,
    (count, scale): (u32, f64),
    Point { x, y }: Point,
    shared: Arc<Mutex<Vec<u8>>>,
    [first, .., last]: [u8; 4],
) -> String {
    words.push(label.to_owned());
    shared
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(first + last);
    format!(
        "{} {} {x},{y} {first}..{last}",
        words.join("+"),
        f64::from(count) * scale
    )
}

#[test]
fn w7_arguments_of_several_types_and_patterns_are_moved_in() {
    setup();
    let shared = Arc::new(Mutex::new(Vec::new()));
    let text = describe(
        "c",
        vec!["a".to_owned(), "b".to_owned()],
        (3, 0.5),
        Point { x: 1, y: -2 },
        Arc::clone(&shared),
        [1, 2, 3, 4],
    )
    .expect("the description");
    assert_eq!(text, "a+b+c 1.5 1,-2 1..4");
    assert_eq!(*shared.lock().unwrap_or_else(PoisonError::into_inner), [5]);
}

/// Neither guard is used by the body; both must live as long as the
/// operation, as an `async fn`'s arguments do.
#[crochet::run_in_reactor]
async fn hold(_: SetOnDrop, _named: SetOnDrop, opened: Opened) {
    opened.await;
}

#[test]
fn w7_unused_and_wildcard_arguments_live_as_long_as_the_operation() {
    setup();
    let (wildcard, named) = (Flag::new(), Flag::new());
    let gate = Gate::new();
    let held = hold(wildcard.on_drop(), named.on_drop(), gate.opened());
    assert!(
        !wildcard.wait(Duration::from_millis(50)),
        "dropped while running"
    );
    assert!(!named.is_set(), "dropped while running");
    gate.open();
    held.wait_timeout(PROMPTLY).expect("the operation ends");
    assert!(wildcard.wait(PROMPTLY) && named.wait(PROMPTLY));
}

#[crochet::wait_for(timeout = "50ms")]
async fn never_done(_dropped: SetOnDrop, opened: Opened) -> &'static str {
    opened.await;
    "too late"
}

#[test]
fn w7_wait_for_fn_times_out_cancels_and_drops_the_future() {
    setup();
    let dropped = Flag::new();
    let gate = Gate::new();
    let started = Instant::now();
    let outcome = never_done(dropped.on_drop(), gate.opened());
    assert!(
        matches!(
            outcome,
            Err(WaitError::Timeout { after, state: OperationState::Cancelled }) if after >= Duration::from_millis(50) && after <= started.elapsed()
        ),
        "{outcome:?}"
    );
    assert!(started.elapsed() < PROMPTLY);
    assert!(
        dropped.wait(PROMPTLY),
        "the timed-out future was not dropped"
    );
    gate.open();
}

#[crochet::wait_for(timeout = "10s")]
async fn no_return_type(done: Arc<Flag>) {
    done.set();
}

#[test]
fn w7_a_missing_return_type_means_unit() {
    setup();
    let done = Arc::new(Flag::new());
    let unit: Result<(), WaitError> = no_return_type(Arc::clone(&done));
    assert!(unit.is_ok(), "{unit:?}");
    assert!(done.is_set());
}

/// The exchange-rate service of the seed's example.
struct Rates {
    latest: Mutex<Option<f64>>,
}

impl Rates {
    #[crochet::run_in_reactor]
    async fn refresh(self: Arc<Self>, rate: f64) -> f64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(rate);
        rate
    }

    #[crochet::wait_for(timeout = "10s")]
    async fn latest(self: Arc<Self>) -> Option<f64> {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[test]
fn w7_methods_on_self_arc_run_in_the_reactor() {
    setup();
    let rates = Arc::new(Rates {
        latest: Mutex::new(None),
    });
    assert_eq!(Arc::clone(&rates).latest().expect("no rate yet"), None);
    let refreshed = Arc::clone(&rates).refresh(1.08);
    assert_eq!(refreshed.wait_timeout(PROMPTLY).expect("the rate"), 1.08);
    assert_eq!(Arc::clone(&rates).latest().expect("the rate"), Some(1.08));
}

#[derive(Clone)]
struct Counter {
    count: u32,
}

impl Counter {
    #[crochet::wait_for(timeout = "10s")]
    async fn bumped(mut self, by: u32) -> u32 {
        self.count += by;
        self.count
    }

    #[crochet::run_in_reactor]
    async fn kept_alive(self, opened: Opened, dropped: Arc<Flag>) {
        let _ = self.count;
        opened.await;
        dropped.set();
    }
}

#[test]
fn w7_methods_on_self_by_value_own_it() {
    setup();
    let counter = Counter { count: 40 };
    assert_eq!(counter.clone().bumped(2).expect("bumped"), 42);
    assert_eq!(counter.count, 40, "the method had its own copy");
    let (gate, done) = (Gate::new(), Arc::new(Flag::new()));
    let kept = counter.kept_alive(gate.opened(), Arc::clone(&done));
    gate.open();
    kept.wait_timeout(PROMPTLY).expect("done");
    assert!(done.is_set());
}

/// A store whose blocking methods borrow: `&self`, `&mut self`, `&str`,
/// `&[u8]`; `#[wait_for]` runs them on the caller's thread.
struct Store {
    entries: Vec<(String, Vec<u8>)>,
}

impl Store {
    #[crochet::wait_for(timeout = "10s")]
    async fn put(&mut self, key: &str, value: &[u8]) -> usize {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.entries.push((key.to_owned(), value.to_vec()));
        self.entries.len()
    }

    #[crochet::wait_for(timeout = "10s")]
    async fn get(&self, key: &str) -> Result<Vec<u8>, io::Error> {
        let found = self.entries.iter().find(|(k, _)| k == key);
        found
            .map(|(_, value)| value.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, key.to_owned()))
    }

    #[crochet::wait_for(timeout = "20ms")]
    async fn hang<'a>(&self, key: std::borrow::Cow<'a, str>, dropped: SetOnDrop) -> usize {
        let _dropped = dropped;
        tokio::time::sleep(Duration::from_secs(60)).await;
        key.len()
    }
}

#[test]
fn w7_wait_for_takes_borrowed_arguments() {
    setup();
    let mut store = Store {
        entries: Vec::new(),
    };
    let key = String::from("answer");
    assert_eq!(store.put(&key, &[4, 2]).expect("put"), 1);
    assert_eq!(store.get("answer").expect("get"), vec![4, 2]);
    match store.get("missing") {
        Err(WaitError::Failed(error)) => assert_eq!(error.kind(), io::ErrorKind::NotFound),
        other => panic!("expected the typed failure, got {other:?}"),
    }
    let dropped = Flag::new();
    match store.hang(key.as_str().into(), dropped.on_drop()) {
        Err(WaitError::Timeout { state, .. }) => assert_eq!(state, OperationState::Cancelled),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        dropped.is_set(),
        "the future was dropped before the call returned"
    );
}

static NAMED: LazyLock<Reactor> = LazyLock::new(|| {
    Reactor::start(Tokio::builder().thread_name("crochet-named")).expect("the reactor starts")
});

/// Never set up: work sent to it fails with `NotSetUp`, whatever the
/// global reactor does.
fn idle() -> &'static Reactor {
    static IDLE: LazyLock<Reactor> = LazyLock::new(Reactor::new);
    &IDLE
}

#[crochet::run_in_reactor(reactor = &NAMED)]
async fn name_on_named() -> Option<String> {
    thread_name()
}

#[crochet::wait_for(reactor = NAMED, timeout = "10s")]
async fn name_on_named_waited() -> Option<String> {
    thread_name()
}

#[crochet::run_in_reactor(reactor = idle())]
async fn on_idle() -> u8 {
    1
}

#[crochet::wait_for(timeout = "10s", reactor = idle())]
async fn on_idle_waited() -> u8 {
    1
}

#[test]
fn w7_reactor_argument_targets_an_explicit_reactor() {
    setup();
    let named = Some("crochet-named".to_owned());
    assert_eq!(
        name_on_named().wait_timeout(PROMPTLY).expect("the name"),
        named
    );
    // `wait_for` runs its future on the caller's thread: that it went to
    // the named reactor, its counters say.
    let before = NAMED.stats().submitted;
    assert_eq!(name_on_named_waited().expect("the name"), thread_name());
    assert_eq!(NAMED.stats().submitted, before + 1, "not the named reactor");
    let idle = on_idle().wait_timeout(PROMPTLY);
    assert!(matches!(idle, Err(WaitError::NotSetUp)), "{idle:?}");
    let idle = on_idle_waited();
    assert!(matches!(idle, Err(WaitError::NotSetUp)), "{idle:?}");
}

/// A generic fn with a where-clause.
#[crochet::wait_for(timeout = "10s")]
async fn largest<T>(items: Vec<T>) -> Option<T>
where
    T: Ord + Send + 'static,
{
    items.into_iter().max()
}

#[crochet::run_in_reactor]
async fn shown<D: Display + Send + 'static>(value: D) -> String {
    value.to_string()
}

#[test]
fn w7_generic_fns_work() {
    setup();
    assert_eq!(largest(vec![3, 9, 4]).expect("the max"), Some(9));
    assert_eq!(largest(vec!["b", "a"]).expect("the max"), Some("b"));
    assert_eq!(largest(Vec::<u8>::new()).expect("no max"), None);
    assert_eq!(shown(1.5).wait_timeout(PROMPTLY).expect("shown"), "1.5");
}

mod service {
    use std::sync::Arc;

    /// Visible to the parent module only: the visibility is kept.
    #[crochet::wait_for(timeout = "10s")]
    #[inline]
    #[must_use = "the sum is the point"]
    #[allow(clippy::needless_return)] // kept on the generated fn
    pub(super) async fn sum(values: Arc<[u32]>) -> u32 {
        return values.iter().sum();
    }

    // Only one of these two definitions exists: the `cfg` is kept.
    #[cfg(any())]
    #[crochet::wait_for(timeout = "10s")]
    pub(super) async fn configured() -> &'static str {
        "compiled out"
    }

    #[cfg(not(any()))]
    #[crochet::wait_for(timeout = "10s")]
    pub(super) async fn configured() -> &'static str {
        "compiled in"
    }

    #[deprecated = "kept on the generated fn"]
    #[crochet::run_in_reactor]
    pub(super) async fn old() {}

    /// The body's inner attributes still apply to it.
    #[crochet::wait_for(timeout = "10s")]
    pub(super) async fn with_inner_attribute() -> u8 {
        #![expect(unused_variables, reason = "the point: the expectation is met")]
        let unused = 1;
        2
    }
}

#[test]
fn w7_visibility_and_attributes_are_kept() {
    setup();
    assert_eq!(service::sum(Arc::from([1, 2, 3])).expect("the sum"), 6);
    assert_eq!(service::configured().expect("configured"), "compiled in");
    // An unmet expectation is a warning: `old` must still be deprecated.
    #[expect(deprecated, reason = "the point: the generated fn is deprecated")]
    let old = service::old();
    old.wait_timeout(PROMPTLY).expect("done");
    assert_eq!(service::with_inner_attribute().expect("run"), 2);
}

/// `?` in the body converts errors into the declared type, as in an
/// `async fn`. `plain` keeps the `Result` as the value (the typed form is
/// tested apart).
#[crochet::wait_for(timeout = "10s", plain)]
async fn parse_sum(a: String, b: String) -> Result<u32, Box<dyn StdError + Send + Sync>> {
    let a: u32 = a.parse()?;
    let b: u32 = b.trim().parse::<u32>()?;
    if b == 0 {
        return Err("b is zero".into());
    }
    Ok(a + b)
}

#[crochet::run_in_reactor(plain)]
async fn parse_one(text: String) -> Result<u8, ParseIntError> {
    Ok(text.parse::<u8>()? + 1)
}

#[test]
fn w7_question_mark_and_early_return_work_in_the_body() {
    setup();
    assert_eq!(
        parse_sum("40".into(), " 2".into())
            .expect("no crochet error")
            .ok(),
        Some(42)
    );
    let zero = parse_sum("1".into(), "0".into()).expect("no crochet error");
    assert_eq!(zero.map_err(|e| e.to_string()), Err("b is zero".to_owned()));
    assert!(
        parse_sum("x".into(), "1".into())
            .expect("no crochet error")
            .is_err()
    );
    let parsed = parse_one("41".to_owned()).wait_timeout(PROMPTLY);
    assert_eq!(parsed.expect("no crochet error"), Ok(42));
}

/// The tail is coerced to the declared type, as in an `async fn`.
#[crochet::wait_for(timeout = "10s")]
async fn boxed() -> Box<dyn Display + Send> {
    Box::new(42)
}

#[test]
fn w7_the_body_is_coerced_to_the_declared_type() {
    setup();
    assert_eq!(boxed().expect("boxed").to_string(), "42");
}

#[crochet::run_in_reactor]
async fn panics(message: &'static str) -> u8 {
    panic!("{message}");
}

#[test]
fn w7_a_panic_in_the_body_is_an_error_on_the_result() {
    setup();
    match panics("boom").wait_timeout(PROMPTLY) {
        Err(WaitError::Panicked(panic)) => assert_eq!(panic.message(), "boom"),
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[crochet::wait_for(timeout = "10s")]
async fn blocks() -> u8 {
    1
}

#[crochet::run_in_reactor(plain)]
async fn calls_a_blocking_fn_in_the_reactor() -> Result<u8, WaitError> {
    blocks()
}

#[test]
fn w7_a_wait_for_fn_called_in_the_reactor_is_refused() {
    setup();
    let outcome = calls_a_blocking_fn_in_the_reactor()
        .wait_timeout(PROMPTLY)
        .expect("the operation ends");
    assert!(
        matches!(outcome, Err(WaitError::WaitInReactor { .. })),
        "{outcome:?}"
    );
    assert!(eventually(PROMPTLY, || crochet::global()
        .pending_operations()
        == 0));
}

/// An `impl Trait` output cannot be named inside the body; it is inferred.
#[crochet::run_in_reactor]
async fn doubled(n: u8) -> impl Display + Send + 'static {
    n * 2
}

/// A body that is not written yet compiles without warnings.
#[crochet::wait_for(timeout = "10s")]
#[allow(dead_code)] // never called: it would panic
async fn unfinished(n: u8) -> u8 {
    todo!("use {n}")
}

#[test]
fn w7_impl_trait_outputs_work() {
    setup();
    let shown = doubled(21).wait_timeout(PROMPTLY).expect("doubled");
    assert_eq!(shown.to_string(), "42");
}

/// Stands for a crate that re-exports crochet to its users, who reach it
/// only through this path.
mod reexport {
    pub(crate) use ::crochet;
}

#[reexport::crochet::run_in_reactor(crate = "reexport::crochet")]
async fn incremented_through_a_reexport(n: u8) -> u8 {
    n + 1
}

#[reexport::crochet::wait_for(timeout = "10s", crate = "reexport::crochet", reactor = &NAMED)]
async fn name_through_a_reexport() -> Option<String> {
    thread_name()
}

impl Counter {
    #[reexport::crochet::wait_for(crate = "self::reexport::crochet", timeout = "10s")]
    async fn doubled_through_a_reexport(self) -> u32 {
        self.count * 2
    }
}

#[test]
fn w7_crate_argument_reaches_crochet_through_a_reexport() {
    setup();
    let incremented: reexport::crochet::EventualResult<u8> = incremented_through_a_reexport(41);
    assert_eq!(incremented.wait_timeout(PROMPTLY).expect("incremented"), 42);
    let before = NAMED.stats().submitted;
    assert_eq!(name_through_a_reexport().expect("the name"), thread_name());
    assert_eq!(NAMED.stats().submitted, before + 1, "not the named reactor");
    assert_eq!(
        Counter { count: 21 }
            .doubled_through_a_reexport()
            .expect("doubled"),
        42
    );
}

/// The typed form: the fn's own error comes back owned, as
/// `WaitError::Failed`, not nested in `Ok`.
#[crochet::run_in_reactor]
async fn parse_typed(text: String) -> Result<u8, ParseIntError> {
    Ok(text.parse::<u8>()? + 1)
}

#[test]
fn w7_run_in_reactor_on_a_result_fn_gives_the_typed_form() {
    setup();
    let parsed: EventualResult<u8, ParseIntError> = parse_typed("41".to_owned());
    assert_eq!(parsed.wait_timeout(PROMPTLY).expect("parsed"), 42);
    let failed: EventualResult<u8, ParseIntError> = parse_typed("x".to_owned());
    match failed.wait_timeout(PROMPTLY) {
        Err(WaitError::Failed(error)) => {
            let owned: ParseIntError = error;
            assert_eq!(owned, "x".parse::<u8>().unwrap_err());
        }
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

/// A one-argument alias: the error type is not written out.
#[crochet::run_in_reactor]
async fn read_missing(found: bool) -> io::Result<u8> {
    if found {
        Ok(7)
    } else {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such page"))
    }
}

#[test]
fn w7_run_in_reactor_on_an_io_result_alias_gives_the_typed_form() {
    setup();
    let found: EventualResult<u8, io::Error> = read_missing(true);
    assert_eq!(found.wait_timeout(PROMPTLY).expect("found"), 7);
    match read_missing(false).wait_timeout(PROMPTLY) {
        Err(WaitError::Failed(error)) => {
            let owned: io::Error = error;
            assert_eq!(owned.kind(), io::ErrorKind::NotFound);
            assert_eq!(owned.to_string(), "no such page");
        }
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

/// `?` still converts into the declared error type, which comes back
/// typed.
#[crochet::wait_for(timeout = "10s")]
async fn parse_sum_typed(a: String, b: String) -> Result<u32, Box<dyn StdError + Send + Sync>> {
    let a: u32 = a.parse()?;
    let b: u32 = b.trim().parse::<u32>()?;
    if b == 0 {
        return Err("b is zero".into());
    }
    Ok(a + b)
}

#[test]
fn w7_wait_for_on_a_result_fn_gives_the_typed_form() {
    setup();
    let sum: Result<u32, WaitError<Box<dyn StdError + Send + Sync>>> =
        parse_sum_typed("40".into(), " 2".into());
    assert_eq!(sum.expect("the sum"), 42);
    match parse_sum_typed("1".into(), "0".into()) {
        Err(WaitError::Failed(error)) => assert_eq!(error.to_string(), "b is zero"),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
    match parse_sum_typed("x".into(), "1".into()) {
        Err(WaitError::Failed(error)) => assert!(error.is::<ParseIntError>(), "{error}"),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

#[crochet::wait_for(timeout = "10s")]
async fn read_missing_waited(found: bool) -> std::io::Result<u8> {
    if found {
        Ok(7)
    } else {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such page"))
    }
}

/// An alias of one's own with one argument, as `anyhow::Result<T>` is.
mod fallible {
    pub(super) type Result<T> = std::result::Result<T, String>;
}

#[crochet::wait_for(timeout = "10s")]
async fn refused(reason: &'static str) -> fallible::Result<()> {
    Err(reason.to_owned())
}

#[test]
fn w7_wait_for_on_result_aliases_gives_the_typed_form() {
    setup();
    let found: Result<u8, WaitError<io::Error>> = read_missing_waited(true);
    assert_eq!(found.expect("found"), 7);
    match read_missing_waited(false) {
        Err(WaitError::Failed(error)) => assert_eq!(error.kind(), io::ErrorKind::NotFound),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
    let refusal: Result<(), WaitError<String>> = refused("no");
    match refusal {
        Err(WaitError::Failed(reason)) => assert_eq!(reason, "no"),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

/// `plain` keeps the `Result` as the value: the old, nested form.
#[crochet::run_in_reactor(plain)]
async fn parse_plain(text: String) -> Result<u8, ParseIntError> {
    text.parse()
}

#[crochet::wait_for(timeout = "10s", plain)]
async fn read_plain(found: bool) -> io::Result<u8> {
    if found {
        Ok(7)
    } else {
        Err(io::ErrorKind::NotFound.into())
    }
}

#[test]
fn w7_plain_keeps_the_result_as_the_value() {
    setup();
    let parsed: EventualResult<Result<u8, ParseIntError>> = parse_plain("x".to_owned());
    let inner = parsed.wait_timeout(PROMPTLY).expect("no crochet error");
    assert_eq!(inner, Err("x".parse::<u8>().unwrap_err()));
    let read: Result<io::Result<u8>, WaitError> = read_plain(false);
    let inner = read.expect("no crochet error");
    assert_eq!(
        inner.map_err(|error| error.kind()),
        Err(io::ErrorKind::NotFound)
    );
    assert_eq!(read_plain(true).expect("no crochet error").ok(), Some(7));
}

/// crochet's own outcomes stay apart from the fn's error in the typed form.
#[crochet::wait_for(timeout = "50ms")]
async fn never_parsed(opened: Opened) -> Result<u8, ParseIntError> {
    opened.await;
    Ok(1)
}

#[crochet::run_in_reactor(reactor = idle())]
async fn parse_on_idle() -> Result<u8, ParseIntError> {
    Ok(1)
}

#[crochet::wait_for(reactor = &NAMED, timeout = "10s")]
async fn named_failure() -> Result<u8, String> {
    Err(thread_name().unwrap_or_default())
}

#[test]
fn w7_typed_form_keeps_crochet_outcomes_apart_and_takes_a_reactor() {
    setup();
    let gate = Gate::new();
    assert!(
        matches!(
            never_parsed(gate.opened()),
            Err(WaitError::Timeout {
                state: OperationState::Cancelled,
                ..
            })
        ),
        "expected a timeout"
    );
    gate.open();
    assert!(matches!(
        parse_on_idle().wait_timeout(PROMPTLY),
        Err(WaitError::NotSetUp)
    ));
    let before = NAMED.stats().submitted;
    match named_failure() {
        // Run on the caller's thread (`wait_for` runs inline), for the
        // named reactor.
        Err(WaitError::Failed(thread)) => assert_eq!(Some(thread), thread_name()),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
    assert_eq!(NAMED.stats().submitted, before + 1, "not the named reactor");
}

impl Counter {
    /// A method, generic over its error, in the typed form.
    #[crochet::run_in_reactor]
    async fn checked<E>(self, limit: u32) -> Result<u32, E>
    where
        E: From<&'static str> + Into<Box<dyn StdError + Send + Sync>> + Send + 'static,
    {
        if self.count > limit {
            Err(E::from("over the limit"))
        } else {
            Ok(self.count)
        }
    }
}

#[reexport::crochet::wait_for(timeout = "10s", crate = "reexport::crochet")]
async fn read_through_a_reexport() -> io::Result<u8> {
    Err(io::ErrorKind::Interrupted.into())
}

#[test]
fn w7_typed_form_works_on_generic_methods_and_through_a_reexport() {
    setup();
    let checked: EventualResult<u32, String> = Counter { count: 5 }.checked(10);
    assert_eq!(checked.wait_timeout(PROMPTLY).expect("under"), 5);
    match (Counter { count: 50 })
        .checked::<String>(10)
        .wait_timeout(PROMPTLY)
    {
        Err(WaitError::Failed(error)) => assert_eq!(error, "over the limit"),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
    match read_through_a_reexport() {
        Err(WaitError::Failed(error)) => assert_eq!(error.kind(), io::ErrorKind::Interrupted),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

/// The body is still coerced to the declared type, whose `Ok` side is a
/// trait object here.
#[crochet::wait_for(timeout = "10s")]
async fn boxed_or_not(ok: bool) -> Result<Box<dyn Display + Send>, String> {
    if ok {
        Ok(Box::new(42))
    } else {
        Err("no".to_owned())
    }
}

#[test]
fn w7_typed_form_coerces_the_body_to_the_declared_type() {
    setup();
    assert_eq!(boxed_or_not(true).expect("boxed").to_string(), "42");
    assert!(matches!(boxed_or_not(false), Err(WaitError::Failed(no)) if no == "no"));
}
