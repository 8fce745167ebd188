// NOT COMPILED (no target names this file). The typed form of
// `#[crochet::run_in_reactor]` and `#[crochet::wait_for]` on an `async fn`
// that returns a `Result`, end to end. It needs the core's
// `EventualResult<T, E>`, `WaitError<E>`, `run_in_reactor_fallible` and
// `wait_for_fallible` (issue 13). Once they land:
//
// 1. append everything below the `---- move from here ----` line to
//    tests/macros.rs, and add to that file's imports:
//        use std::io;
//        use crochet::WaitError;
//    (`ParseIntError`, `StdError`, `Arc`, `EventualResult`, `Reactor`,
//    `NAMED`, `idle()`, `reexport`, `setup()`, `PROMPTLY`, `Gate`,
//    `Opened`, `Flag`, `SetOnDrop` are already there);
// 2. in tests/macros.rs, the three fns that keep the old nested form with
//    `plain` (`parse_sum`, `parse_one`, `calls_a_blocking_fn_in_the_reactor`)
//    can stay as they are: they pin `plain`. `calls_a_blocking_fn_in_the_reactor`
//    returns `Result<u8, Error>` and calls `blocks()`, whose plain
//    `#[wait_for]` then returns `Result<u8, WaitError>`: declare it
//    `Result<u8, WaitError>` and compare `Err(WaitError::WaitInReactor { .. })`;
// 3. delete this file.
//
// ---- move from here ----

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
    assert_eq!(inner.map_err(|error| error.kind()), Err(io::ErrorKind::NotFound));
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
            Err(WaitError::Timeout { cancelled: true, .. })
        ),
        "expected a timeout"
    );
    gate.open();
    assert!(matches!(
        parse_on_idle().wait_timeout(PROMPTLY),
        Err(WaitError::NotSetUp)
    ));
    match named_failure() {
        Err(WaitError::Failed(thread)) => assert_eq!(thread, "crochet-named"),
        other => panic!("expected the fn's own error, got {other:?}"),
    }
}

impl Counter {
    /// A method, generic over its error, in the typed form.
    #[crochet::run_in_reactor]
    async fn checked<E: From<&'static str> + Send + 'static>(self, limit: u32) -> Result<u32, E> {
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
    match (Counter { count: 50 }).checked::<String>(10).wait_timeout(PROMPTLY) {
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
    if ok { Ok(Box::new(42)) } else { Err("no".to_owned()) }
}

#[test]
fn w7_typed_form_coerces_the_body_to_the_declared_type() {
    setup();
    assert_eq!(boxed_or_not(true).expect("boxed").to_string(), "42");
    assert!(matches!(boxed_or_not(false), Err(WaitError::Failed(no)) if no == "no"));
}
