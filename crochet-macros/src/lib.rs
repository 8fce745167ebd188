//! Attribute macros that turn an `async fn` into a blocking fn whose body
//! runs in crochet's reactor: Python crochet's `@run_in_reactor` and
//! `@wait_for` decorators, for Rust.
//!
//! Use them through the `crochet` crate (its `macros` feature, on by
//! default) as `#[crochet::run_in_reactor]` and
//! `#[crochet::wait_for(timeout = "5s")]`. Blocking code calls the result
//! like any fn and gets an `EventualResult` at once, or the value within
//! the timeout.
//!
//! ```
//! use std::time::Duration;
//!
//! /// Runs in the reactor; callers get an `EventualResult` at once.
//! #[crochet::run_in_reactor]
//! async fn download(url: String) -> usize {
//!     tokio::time::sleep(Duration::from_millis(10)).await; // stands for a request
//!     url.len()
//! }
//!
//! /// Runs in the reactor; callers block for at most 5 seconds.
//! #[crochet::wait_for(timeout = "5s")]
//! async fn add(a: u32, b: u32) -> u32 {
//!     a + b
//! }
//!
//! crochet::setup()?;
//! let page = download("http://example.com/".to_owned()); // returns at once
//! assert_eq!(add(40, 2)?, 42);
//! assert_eq!(page.wait_timeout(Duration::from_secs(5))?, 19);
//! # Ok::<(), crochet::Error>(())
//! ```
//!
//! The generated code names `::crochet`, so these macros are meant to be
//! used through the `crochet` crate, not on their own. Code that reaches
//! crochet through a re-export (a crate of your own that re-exports it)
//! names that path with `crate = "…"`, as with tokio's attributes.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod args;
mod blocking;
mod duration;
mod expand;
mod output;

use proc_macro::TokenStream;

use crate::args::Kind;

/// Makes an `async fn` a blocking fn that runs its body in the reactor and
/// returns an `EventualResult` at once, like Python crochet's
/// `@run_in_reactor`.
///
/// The generated fn keeps the name, visibility, generics, where-clause,
/// parameters, doc comments and other attributes; it is no longer `async`,
/// and returns `crochet::EventualResult<T>` where the `async fn` returned
/// `T` (`()` when it names no return type), or
/// `crochet::EventualResult<T, E>` where it returned `Result<T, E>` ([the
/// typed form](#fallible-functions)). A call moves every argument into a
/// closure that is called on a reactor thread, so the body may use the
/// runtime's context (spawn tasks, timers, IO types), and returns without
/// waiting. The caller can then wait for the result with a
/// timeout, cancel it, stash it, or `.await` it.
///
/// The body runs on another thread, after the call has returned, so the
/// arguments and the output must be `Send + 'static`: pass owned values
/// (`String`, `Arc<…>`), not borrows. Every argument is moved into the
/// operation, used or not, and lives as long as it, as with an `async fn`.
/// A panic in the body becomes `WaitError::Panicked` on the result; submission
/// problems (`WaitError::NotSetUp`, `WaitError::ReactorStopped`) are in the result
/// too, so the generated fn itself never fails.
///
/// # Expansion
///
/// ```
/// #[crochet::run_in_reactor]
/// pub async fn page(id: u32, (x, y): (u8, u8)) -> String {
///     format!("page {id} at {x},{y}")
/// }
/// # crochet::setup()?;
/// # assert_eq!(page(7, (1, 2)).wait_timeout(std::time::Duration::from_secs(5))?, "page 7 at 1,2");
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// is the same as the following, give or take a statement that is never
/// run and pins the future's output type to `String`, so that the body's
/// values are coerced to it as in an `async fn`. A parameter written as a
/// pattern gets a fresh name, and is destructured in the future:
///
/// ```
/// pub fn page(id: u32, arg1: (u8, u8)) -> crochet::EventualResult<String> {
///     crochet::run_in_reactor(move || async move {
///         let id = id;
///         let (x, y) = arg1;
///         {
///             format!("page {id} at {x},{y}")
///         }
///     })
/// }
/// # crochet::setup()?;
/// # assert_eq!(page(7, (1, 2)).wait_timeout(std::time::Duration::from_secs(5))?, "page 7 at 1,2");
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// # Fallible functions
///
/// An `async fn` that returns a `Result` gives the typed form: the
/// generated fn returns `crochet::EventualResult<T, E>` and submits its
/// body with `crochet::run_in_reactor_fallible`. A wait then returns the
/// value, or the function's own error, owned and typed, as
/// `Err(WaitError::Failed(e))`, beside crochet's own outcomes (a timeout, a
/// panic, a cancellation): no `wait()??`, no erased error. An `Err` that
/// nobody waits for is reported like any failure nobody observed (through
/// the failure hook, or logged).
///
/// The attribute reads the return type as it is written: a `Result` is a
/// path whose last segment is `Result`, such as `Result<T, E>`,
/// `std::result::Result<T, E>`, `io::Result<T>` or `anyhow::Result<T>`.
/// An alias of another name (`type Fetched = Result<…>`) is a plain output.
/// With both types written out, the generated fn names them; otherwise
/// (`io::Result<T>`) it names them through a hidden trait implemented for
/// `std::result::Result`, so `io::Result<T>` gives
/// `EventualResult<T, io::Error>`, and a type of your own named `Result`
/// is a compile error that suggests `plain`. The argument `plain` keeps the
/// `Result` as the value: `EventualResult<Result<T, E>>`, whose waits
/// return `Ok(Err(e))` for the function's error.
///
/// ```
/// use std::num::ParseIntError;
/// use std::time::Duration;
/// use crochet::WaitError;
///
/// #[crochet::run_in_reactor]
/// async fn parse(text: String) -> Result<u8, ParseIntError> {
///     text.trim().parse()
/// }
///
/// crochet::setup()?;
/// let parsed: crochet::EventualResult<u8, ParseIntError> = parse(" 42 ".to_owned());
/// assert_eq!(parsed.wait_timeout(Duration::from_secs(5)).ok(), Some(42));
/// match parse("x".to_owned()).wait_timeout(Duration::from_secs(5)) {
///     Err(WaitError::Failed(error)) => assert_eq!(error, "x".parse::<u8>().unwrap_err()),
///     other => panic!("expected the parse error, got {other:?}"),
/// }
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// The fallible `parse` above is the same as:
///
/// ```
/// # use std::num::ParseIntError;
/// pub fn parse(text: String) -> crochet::EventualResult<u8, ParseIntError> {
///     crochet::run_in_reactor_fallible(move || async move {
///         let text = text;
///         {
///             text.trim().parse()
///         }
///     })
/// }
/// # crochet::setup()?;
/// # assert_eq!(parse("42".to_owned()).wait_timeout(std::time::Duration::from_secs(5)).ok(), Some(42));
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// # Arguments
///
/// - `reactor = <expr>`: runs on this reactor instead of the global one.
///   `<expr>` is a `&crochet::Reactor`, such as a call to a fn returning
///   `&'static Reactor`, or a `static` that holds (or dereferences to) a
///   `Reactor`. The call becomes `(<expr>).run_in_reactor(closure)`
///   (`(<expr>).run_in_reactor_fallible(closure)` in the typed form); the
///   expression is evaluated at every call, before the arguments are moved
///   into the closure, so it must not borrow them.
/// - `crate = "…"`: the path to the `crochet` crate, for code that reaches
///   it through a re-export, such as `crate = "my_runtime::crochet"`. The
///   generated code names `::crochet` otherwise. The value is a string
///   literal holding a path (`::crochet`, `crate::reexport::crochet`),
///   without generic arguments; a path that does not resolve is reported at
///   the literal.
/// - `plain`: on an `async fn` that returns a `Result`, keeps the `Result`
///   as the value, `EventualResult<Result<T, E>>`, instead of [the typed
///   form](#fallible-functions).
///
/// # Methods
///
/// A method takes `self: Arc<Self>` (or `self` by value): the operation
/// owns its `self`, as it owns every argument. `&self` and `&mut self` are
/// refused, since the operation outlives the call.
///
/// # Errors
///
/// Compile errors, pointing at the offending tokens, for:
///
/// - a fn that is not `async`, or that is `unsafe`, `const` or `extern`;
/// - `&self` or `&mut self`;
/// - an argument other than `reactor`, `crate` and `plain`, or one given
///   twice;
/// - a `crate` that is not a string literal holding a path;
/// - `plain` on a fn that does not return a `Result`, or with a value;
/// - a `Result` alias that does not write out its error type and holds an
///   `impl Trait` (`io::Result<impl Display>`), whose types cannot be
///   named: write `Result<T, E>` out, or add `plain`;
/// - a `timeout`: `#[run_in_reactor]` does not wait (use
///   [`macro@wait_for`], or `wait_timeout` on the result).
///
/// # Examples
///
/// A service that refreshes an exchange rate in the reactor, and a sync
/// caller that waits for it:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// struct Rates {
///     latest: Mutex<Option<f64>>,
/// }
///
/// impl Rates {
///     /// Fetches a fresh rate and keeps it.
///     #[crochet::run_in_reactor]
///     async fn refresh(self: Arc<Self>) -> f64 {
///         tokio::time::sleep(Duration::from_millis(10)).await; // stands for a request
///         let rate = 1.08;
///         *self.latest.lock().unwrap() = Some(rate);
///         rate
///     }
/// }
///
/// crochet::setup()?;
/// let rates = Arc::new(Rates { latest: Mutex::new(None) });
/// let refreshed = Arc::clone(&rates).refresh(); // returns at once
/// assert_eq!(refreshed.wait_timeout(Duration::from_secs(5))?, 1.08);
/// assert_eq!(*rates.latest.lock().unwrap(), Some(1.08));
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// On a reactor of its own rather than the global one:
///
/// ```
/// use std::sync::LazyLock;
/// use std::time::Duration;
/// use crochet::Reactor;
///
/// static BACKGROUND: LazyLock<Reactor> = LazyLock::new(|| {
///     Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("the reactor starts")
/// });
///
/// #[crochet::run_in_reactor(reactor = &BACKGROUND)]
/// async fn thread_name() -> Option<String> {
///     std::thread::current().name().map(str::to_owned)
/// }
///
/// let name = thread_name().wait_timeout(Duration::from_secs(5))?;
/// assert_eq!(name.as_deref(), Some("crochet-tokio"));
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// Through a re-export, for a crate whose users do not depend on crochet
/// themselves:
///
/// ```
/// use std::time::Duration;
///
/// /// Stands for a crate of your own, `my_runtime`, that re-exports crochet.
/// mod my_runtime {
///     pub use ::crochet;
/// }
///
/// #[my_runtime::crochet::run_in_reactor(crate = "my_runtime::crochet")]
/// async fn answer() -> u32 {
///     42
/// }
///
/// my_runtime::crochet::setup()?;
/// assert_eq!(answer().wait_timeout(Duration::from_secs(5))?, 42);
/// # Ok::<(), crochet::Error>(())
/// ```
#[proc_macro_attribute]
pub fn run_in_reactor(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::RunInReactor, args.into(), item.into()).into()
}

/// Makes an `async fn` a blocking fn that runs its body in the reactor and
/// waits for the result, for at most a timeout, like Python crochet's
/// `@wait_for(timeout=…)`.
///
/// The generated fn keeps the name, visibility, generics, where-clause,
/// parameters, doc comments and other attributes; it is no longer `async`,
/// and returns `Result<T, crochet::WaitError>` where the `async fn` returned
/// `T` (`()` when it names no return type), or
/// `Result<T, crochet::WaitError<E>>` where it returned `Result<T, E>`
/// ([the typed form](#fallible-functions)). A call moves every argument
/// into a closure and hands it to `crochet::wait_for`, which runs the body
/// on the calling thread inside the reactor's runtime context (so the body
/// may use the runtime's timers, IO and `spawn`), and blocks until the
/// future is done or the timeout runs out. On timeout the operation is
/// cancelled: its future is dropped, and the call returns
/// `WaitError::Timeout { state: OperationState::Cancelled, .. }`.
///
/// Owned arguments and the output must be `Send + 'static`, every
/// argument lives as long as the operation, and a panic in the body
/// becomes `WaitError::Panicked`. Arguments that borrow are taken too:
/// see [Borrowed arguments](#borrowed-arguments).
///
/// # Expansion
///
/// ```
/// #[crochet::wait_for(timeout = "1.5s")]
/// pub async fn add(a: u32, b: u32) -> u32 {
///     a + b
/// }
/// # crochet::setup()?;
/// # assert_eq!(add(40, 2)?, 42);
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// is the same as the following (give or take the statement that pins the
/// output type, as for [`macro@run_in_reactor`]); the timeout is read at
/// compile time:
///
/// ```
/// pub fn add(a: u32, b: u32) -> Result<u32, crochet::WaitError> {
///     crochet::wait_for(core::time::Duration::from_nanos(1_500_000_000), move || async move {
///         let a = a;
///         let b = b;
///         {
///             a + b
///         }
///     })
/// }
/// # crochet::setup()?;
/// # assert_eq!(add(40, 2)?, 42);
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// # Fallible functions
///
/// As with [`macro@run_in_reactor`], an `async fn` that returns a `Result`
/// (a path whose last segment is `Result`: `Result<T, E>`,
/// `io::Result<T>`, ...) gives the typed form: the generated fn returns
/// `Result<T, crochet::WaitError<E>>`, through `crochet::wait_for_fallible`,
/// and the function's own error comes back owned as
/// `Err(WaitError::Failed(e))`, beside a timeout or a panic. `plain` keeps
/// the `Result` as the value instead: `Result<Result<T, E>, …>`.
///
/// ```
/// use std::io;
/// use crochet::WaitError;
///
/// #[crochet::wait_for(timeout = "5s")]
/// async fn read_config(path: String) -> io::Result<String> {
///     Err(io::Error::new(io::ErrorKind::NotFound, format!("{path}: not found")))
/// }
///
/// crochet::setup()?;
/// match read_config("app.toml".to_owned()) {
///     Ok(text) => println!("{text}"),
///     Err(WaitError::Failed(error)) => assert_eq!(error.kind(), io::ErrorKind::NotFound),
///     Err(other) => panic!("crochet: {other}"),
/// }
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// # Arguments
///
/// - `timeout = "…"` (required): a string literal, a number and a unit:
///   `"250ms"`, `"5s"`, `"1.5s"`, `"2m"`. The number is an integer or a
///   decimal; the unit `ms`, `s` or `m`. It must be more than zero, a
///   whole number of nanoseconds, and at most `u64::MAX` nanoseconds
///   (about 584 years). Python's `timeout=5.0` is `timeout = "5s"` here.
/// - `reactor = <expr>`: runs on this reactor instead of the global one.
///   `<expr>` is a `&crochet::Reactor`, such as a call to a fn returning
///   `&'static Reactor`, or a `static` that holds (or dereferences to) a
///   `Reactor`. The call becomes `(<expr>).wait_for(timeout, closure)`
///   (`(<expr>).wait_for_fallible(timeout, closure)` in the typed form);
///   the expression is evaluated at every call, before the arguments are
///   moved into the closure, so it must not borrow them.
/// - `crate = "…"`: the path to the `crochet` crate, for code that reaches
///   it through a re-export, as for [`macro@run_in_reactor`]:
///   `#[my_runtime::crochet::wait_for(timeout = "5s", crate = "my_runtime::crochet")]`.
/// - `plain`: on an `async fn` that returns a `Result`, keeps the `Result`
///   as the value instead of [the typed form](#fallible-functions).
///
/// # Borrowed arguments
///
/// Where a parameter borrows (`&self`, `&mut self`, `&str`, `&[u8]`, a
/// type with a lifetime other than `'static`; write a hidden one out, as
/// `Cow<'_, str>`), the call goes through
/// `crochet::wait_for_ref` (`wait_for_fallible_ref` in the typed form)
/// instead: the future always runs on the calling thread, which it never
/// outlives, and need not be `Send`. Then the call returns
/// `WaitError::NotSetUp` before a runtime is attached, rather than wait for
/// one, and `Reactor::set_wait_for_inline(false)` does not move it to the
/// reactor's thread. The output must still be `Send + 'static`.
///
/// ```
/// struct Greeter {
///     greeting: String,
/// }
///
/// impl Greeter {
///     #[crochet::wait_for(timeout = "5s")]
///     async fn greet(&self, name: &str) -> String {
///         format!("{}, {name}!", self.greeting)
///     }
/// }
///
/// crochet::setup()?;
/// let greeter = Greeter { greeting: "Hello".to_owned() };
/// assert_eq!(greeter.greet("world")?, "Hello, world!");
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// # Methods
///
/// A method takes `&self`, `&mut self` (as [borrowed
/// arguments](#borrowed-arguments)), `self: Arc<Self>` or `self` by value.
///
/// # Errors
///
/// Compile errors, pointing at the offending tokens, for:
///
/// - a missing `timeout`, or one that is not a string literal, has no unit
///   or an unknown one, is malformed, zero, negative, finer than a
///   nanosecond or too long;
/// - a fn that is not `async`, or that is `unsafe`, `const` or `extern`;
/// - an argument other than `timeout`, `reactor`, `crate` and `plain`, or
///   one given twice;
/// - a `crate` that is not a string literal holding a path;
/// - `plain` on a fn that does not return a `Result`, or with a value;
/// - a `Result` alias that does not write out its error type and holds an
///   `impl Trait`, as for [`macro@run_in_reactor`].
///
/// At run time, the generated fn returns the errors of
/// `crochet::wait_for`: `WaitError::Timeout` (the operation was cancelled),
/// `WaitError::Panicked`, `WaitError::NotSetUp`, `WaitError::ReactorStopped`,
/// `WaitError::WaitInReactor`...
///
/// # Blocking
///
/// The generated fn blocks its caller for up to the timeout. It is for
/// blocking code: called on a reactor thread (in async code run by
/// crochet), it returns `WaitError::WaitInReactor` at once rather than
/// deadlock; await an `EventualResult` there instead.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet::WaitError;
///
/// /// Waits for a reply that takes too long.
/// #[crochet::wait_for(timeout = "50ms")]
/// async fn slow_reply() -> &'static str {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     "too late"
/// }
///
/// crochet::setup()?;
/// match slow_reply() {
///     Err(WaitError::Timeout { state, .. }) => assert!(state.is_cancelled()),
///     other => panic!("expected a timeout, got {other:?}"),
/// }
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// A method, on a reactor given by a function:
///
/// ```
/// use std::sync::{Arc, OnceLock};
/// use crochet::Reactor;
///
/// fn reactor() -> &'static Reactor {
///     static REACTOR: OnceLock<Reactor> = OnceLock::new();
///     REACTOR.get_or_init(|| {
///         Reactor::start(crochet::backends::tokio::Tokio::builder()).expect("the reactor starts")
///     })
/// }
///
/// struct Greeter {
///     greeting: String,
/// }
///
/// impl Greeter {
///     #[crochet::wait_for(timeout = "5s", reactor = reactor())]
///     async fn greet(self: Arc<Self>, name: String) -> String {
///         format!("{}, {name}!", self.greeting)
///     }
/// }
///
/// let greeter = Arc::new(Greeter { greeting: "Hello".to_owned() });
/// assert_eq!(greeter.greet("world".to_owned())?, "Hello, world!");
/// # Ok::<(), crochet::Error>(())
/// ```
#[proc_macro_attribute]
pub fn wait_for(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::WaitFor, args.into(), item.into()).into()
}

/// Makes a blocking twin of a type from the async methods of one of its
/// `impl` blocks: a library writes its async API once and ships the
/// blocking one beside it, as `reqwest::blocking` does by hand.
///
/// ```
/// use std::time::Duration;
///
/// /// The async API.
/// pub struct Greeter {
///     greeting: String,
/// }
///
/// #[crochet::blocking(name = "BlockingGreeter", timeout = "5s")]
/// impl Greeter {
///     /// Greets `name`, after a moment.
///     pub async fn greet(&self, name: &str) -> String {
///         tokio::time::sleep(Duration::from_millis(1)).await;
///         format!("{}, {name}!", self.greeting)
///     }
///
///     /// Parses a count.
///     pub async fn count(&self, text: String) -> Result<u32, std::num::ParseIntError> {
///         text.parse()
///     }
/// }
///
/// let reactor = crochet::Reactor::start(crochet::default_backend())?;
/// let greeter = Greeter { greeting: "Hello".to_owned() };
/// let blocking = BlockingGreeter::with_reactor(greeter, reactor);
/// assert_eq!(blocking.greet("world")?, "Hello, world!");
/// assert!(matches!(blocking.count("x".to_owned()), Err(crochet::WaitError::Failed(_))));
/// # Ok::<(), crochet::Error>(())
/// ```
///
/// The `impl` stays as written. Beside it comes the twin, a type that
/// shares the value (an `Arc`), a [`Reactor`] and a timeout:
///
/// - `from_async(value, reactor, timeout)`, `from_arc(arc, reactor, timeout)`,
///   and with `timeout = "…"`, `with_reactor(value, reactor)` and the
///   constant `DEFAULT_TIMEOUT`; `get_ref()` (the async value), `reactor()`,
///   `timeout()` and `set_timeout(…)`. `new` is left to the author (a
///   library's `Client::new(url)`, in an `impl` of the twin of its own).
/// - One method per `async fn m(&self, …)`, of the same name, arguments,
///   visibility and docs, that blocks until the async method ends or the
///   timeout runs out; on timeout the operation is cancelled: its future is
///   dropped before the call returns. It returns `Result<T, WaitError>`
///   where the async method returned `T`, and `Result<T, WaitError<E>>`
///   where it returned `Result<T, E>` (or `Result<T, X>` with
///   `error = "X"`, for an error type with a `From<WaitError<E>>`).
/// - One method per fn returning `impl Stream<Item = T> + Send + 'static`
///   (not `async`): the stream is made on the calling thread, outside the
///   runtime's context (make it lazily, as `futures_lite::stream::unfold`
///   does: a timer or socket made there at once would find no runtime),
///   runs on the reactor, and is read through an [`EventualStream<T>`], a
///   blocking iterator.
/// - Other fns that are not `async` are left out, unless marked
///   `#[blocking(forward)]`: then the twin forwards them as they are.
///
/// The twin is `Clone`, and `Send + Sync` when the value is; it is the
/// twin of one value, which async code reaches with `get_ref()`.
///
/// # Where each call runs
///
/// A method whose arguments borrow (`&str`, `&[u8]`, a type with a
/// lifetime other than `'static`; write a hidden one out, as
/// `Cow<'_, str>`), take `impl Trait`, or that is generic, or marked
/// `#[blocking(inline)]`, runs through `Reactor::wait_for_ref`: its future
/// runs on the calling thread, in the reactor's runtime context, and need
/// not be `Send`. Every other method runs through `Reactor::wait_for`:
/// on the calling thread too, unless the reactor runs it on its own
/// thread (`Reactor::set_wait_for_inline(false)`, or a backend that cannot
/// poll its futures elsewhere), so its future must be `Send + 'static`:
/// mark a method whose future is not `#[blocking(inline)]`.
///
/// # Arguments
///
/// - `name = "…"`: the twin's name; `Blocking` and the type's name unless
///   told.
/// - `vis = "…"`: the twin's visibility, `pub` unless told.
/// - `timeout = "…"`: a default timeout, as for [`macro@wait_for`]:
///   `with_reactor` and `DEFAULT_TIMEOUT`.
/// - `error = "…"`: the error type of fallible methods, instead of
///   `WaitError<E>`; it needs a `From<WaitError<E>>`.
/// - `crate = "…"`: the path to the `crochet` crate, as for the other
///   attributes.
///
/// On a method: `#[blocking(skip)]` leaves it out, `#[blocking(forward)]`
/// forwards a fn that is not `async`, `#[blocking(inline)]` runs an async
/// one on the calling thread only.
///
/// # Errors
///
/// Compile errors, pointing at the offending tokens, for an `impl` of a
/// trait or with generics, and for an async method (or one marked
/// `forward`, or returning a stream) that takes `&mut self` (the twin is
/// shared), `self` by value or no `self`, that is `unsafe`, or whose name
/// is one of the twin's own (`from_async`, `from_arc`, `with_reactor`,
/// `get_ref`, `reactor`, `timeout`, `set_timeout`); and, from the compiler,
/// for a method whose future is not `Send` where the reactor's thread may
/// run it (the message names `to_reactor_thread`; mark the method
/// `#[blocking(inline)]`). At run time, the twin's methods return the
/// errors of `Reactor::wait_for` and `Reactor::wait_for_ref`.
///
/// [`Reactor`]: https://docs.rs/crochet/latest/crochet/struct.Reactor.html
/// [`EventualStream<T>`]: https://docs.rs/crochet/latest/crochet/struct.EventualStream.html
#[proc_macro_attribute]
pub fn blocking(args: TokenStream, item: TokenStream) -> TokenStream {
    blocking::expand(args.into(), item.into()).into()
}
