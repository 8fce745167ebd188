//! S1–S5: the stash.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use crochet_core::{Error, EventualResult, RetrieveError, StashId, StashPolicy};

use crate::support::{Flag, Gate, Logs, PROMPTLY, assert_timed_out_running, eventually, gated};
use crate::{Fixture, Running};

/// S1: a stash id prints as 32 hexadecimal characters and parses back.
pub fn s1_stash_id_round_trips_through_text(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let id = running
        .run_in_reactor(|| async { 1 })
        .stash()
        .expect("stash");
    let text = id.to_string();
    assert_eq!(text.len(), StashId::TEXT_LEN);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let parsed: StashId = text.parse().expect("parse");
    assert_eq!(parsed, id);
    // `Debug` ends up in logs: an id (a bearer secret) shows its first
    // characters only.
    assert_eq!(format!("{id:?}"), format!("StashId({}…)", &text[..8]));
    let result = running
        .retrieve_result::<i32, Infallible>(parsed)
        .expect("retrieve");
    assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), 1);
}

/// S2: a stashed result comes back once; re-stashing gives a new id.
pub fn s2_retrieve_returns_result_once_and_restash_gives_new_id(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let gate = Gate::new();
    let opened = gate.opened();
    let first = running
        .run_in_reactor(move || async move {
            opened.await;
            "downloaded"
        })
        .stash()
        .expect("stash");
    let pending = running
        .retrieve_result::<&str, Infallible>(first)
        .expect("retrieve");
    assert!(matches!(
        running.retrieve_result::<&str, Infallible>(first),
        Err(RetrieveError::NotFound { id }) if id == first
    ));
    let early = pending.wait_timeout(Duration::from_millis(10));
    assert_timed_out_running(&early, "the retrieved result is still pending");
    let second = pending.stash().expect("stash again");
    assert_ne!(second, first);
    gate.open();
    let result = running
        .retrieve_result::<&str, Infallible>(second)
        .expect("retrieve");
    assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), "downloaded");
}

/// S3: ids are drawn from OS randomness: no collisions, no pattern, every
/// bit used.
pub fn s3_stash_ids_are_unguessable(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let mut ids = Vec::new();
    for _ in 0..2_000 {
        ids.push(running.run_in_reactor(|| async {}).stash().expect("stash"));
    }
    let values: Vec<u128> = ids
        .iter()
        .map(|id| u128::from_str_radix(&id.to_string(), 16).expect("hex"))
        .collect();
    let unique: HashSet<_> = values.iter().collect();
    assert_eq!(unique.len(), values.len(), "colliding ids");
    let steps: HashSet<u128> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    assert!(steps.len() > values.len() / 2, "ids follow a pattern");
    let (mut ones, mut zeros) = (0_u128, 0_u128);
    for value in &values {
        ones |= value;
        zeros |= !value;
    }
    assert_eq!(ones, u128::MAX, "some bit is never set");
    assert_eq!(zeros, u128::MAX, "some bit is always set");
    for id in ids {
        drop(
            running
                .retrieve_result::<(), Infallible>(id)
                .expect("retrieve"),
        );
    }
}

/// S4: unknown, malformed and wrong-type ids are typed errors, and a
/// wrong-type retrieve leaves the entry where it was.
pub fn s4_bad_ids_and_wrong_types_are_typed_and_lose_nothing(fixture: &'static dyn Fixture) {
    let running = Running::start(fixture);
    let id = running
        .run_in_reactor(|| async { 23_u32 })
        .stash()
        .expect("stash");
    match running.retrieve_result::<String, Infallible>(id) {
        Err(RetrieveError::WrongType {
            id: wrong,
            expected,
            found,
        }) => {
            assert_eq!(wrong, id);
            assert_eq!(expected, "alloc::string::String");
            assert_eq!(found, "u32");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    // The operation's error type is part of the result's type: the same
    // value type with another error type is a wrong type too.
    match running.retrieve_result::<u32, std::io::Error>(id) {
        Err(RetrieveError::WrongType {
            id: wrong,
            expected,
            found,
        }) => {
            assert_eq!(wrong, id);
            assert_eq!(expected, "core::result::Result<u32, std::io::error::Error>");
            assert_eq!(found, "u32");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    let kept = running
        .retrieve_result::<u32, Infallible>(id)
        .expect("the entry is still there");
    assert_eq!(kept.wait_timeout(PROMPTLY).expect("value"), 23);

    for malformed in [
        "",
        "abc",
        "zz112233445566778899aabbccddeeff",
        "+0112233445566778899aabbccddeeff",
    ] {
        match malformed.parse::<StashId>() {
            Err(error) => assert_eq!(error.text_len(), malformed.chars().count()),
            other => panic!("{malformed:?}: expected a ParseStashIdError, got {other:?}"),
        }
    }
    let long = "f".repeat(10_000);
    assert_eq!(
        long.parse::<StashId>().map_err(|e| e.text_len()),
        Err(10_000)
    );

    let unknown: StashId = "0123456789abcdef0123456789abcdef"
        .parse()
        .expect("well formed");
    assert!(matches!(
        running.retrieve_result::<u32, Infallible>(unknown),
        Err(RetrieveError::NotFound { id }) if id == unknown
    ));
}

/// S5: a full stash refuses with a typed error that hands the result back;
/// `?` converts it into `StashFull`, which drops, and so cancels, it.
pub fn s5_full_stash_hands_result_back(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    running.set_stash_policy(
        StashPolicy::default()
            .with_capacity(2)
            .with_time_to_live(None),
    );
    let first = running
        .run_in_reactor(|| async { 1 })
        .stash()
        .expect("stash");
    let _second = running
        .run_in_reactor(|| async { 2 })
        .stash()
        .expect("stash");
    let full = running
        .run_in_reactor(|| async { 3 })
        .stash()
        .expect_err("the stash is full");
    assert_eq!(full.capacity(), 2);
    assert_eq!(
        full.to_string(),
        "the stash is full (2 entries); the result was handed back: retrieve results or raise the capacity"
    );
    let handed_back = full.into_result();
    assert_eq!(handed_back.wait_timeout(PROMPTLY).expect("nothing lost"), 3);
    assert!(logs.wait_for(PROMPTLY, &["WARN", "the stash is full"]));

    drop(
        running
            .retrieve_result::<i32, Infallible>(first)
            .expect("retrieve"),
    );
    let third = running
        .run_in_reactor(|| async { 3 })
        .stash()
        .expect("room again");
    let error = Error::from(
        running
            .run_in_reactor(|| async { 4 })
            .stash()
            .expect_err("full again"),
    );
    assert!(
        matches!(error, Error::StashFull { capacity: 2 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the stash is full (2 entries); retrieve results or raise the capacity"
    );
    drop(
        running
            .retrieve_result::<i32, Infallible>(third)
            .expect("retrieve"),
    );

    // `?` on a full stash (the second entry and this one): the conversion
    // cancels the operation (its future is dropped) rather than leaving it
    // running with nobody to see it.
    let _full = running
        .run_in_reactor(|| async { 5 })
        .stash()
        .expect("stash");
    let stash = |result: EventualResult<crate::support::SetOnDrop>| -> Result<StashId, Error> {
        let id = result.stash()?;
        Ok(id)
    };
    // Everything before has ended (and is counted) by now.
    assert!(eventually(PROMPTLY, || running.stats().pending == 0));
    let cancelled_before = running.stats().cancelled;
    let dropped = Flag::new();
    let guard = dropped.on_drop();
    let (_gate, pending) = gated(&running, guard);
    let error = stash(pending).expect_err("full");
    assert!(
        matches!(error, Error::StashFull { capacity: 2 }),
        "{error:?}"
    );
    assert!(
        dropped.wait(PROMPTLY),
        "the unstashable operation was left running"
    );
    assert!(
        eventually(PROMPTLY, || running.stats().cancelled
            == cancelled_before + 1),
        "the refused operation was not counted as cancelled: {}",
        running.stats()
    );
}

/// S5: entries not retrieved within the time-to-live are dropped with a
/// warning, and a failure among them is reported as unobserved.
pub fn s5_expired_entries_are_dropped_and_logged(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    running.set_stash_policy(
        StashPolicy::default()
            .with_capacity(100)
            .with_time_to_live(Some(Duration::from_millis(50))),
    );
    let failed = running.run_in_reactor_fallible(|| async { Err::<u8, _>("expired failure") });
    assert!(eventually(PROMPTLY, || failed.is_finished()));
    let id = failed.stash().expect("stash");
    std::thread::sleep(Duration::from_millis(80));
    let fresh = running
        .run_in_reactor(|| async { 5_u8 })
        .stash()
        .expect("stash");
    assert!(matches!(
        running.retrieve_result::<u8, &str>(id),
        Err(RetrieveError::NotFound { .. })
    ));
    assert_eq!(running.stats().stashed, 1);
    assert_eq!(
        logs.lines_with(&["WARN", "expired"]).len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        logs.lines_with(&["ERROR", "unobserved failure", "expired failure"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    let kept = running
        .retrieve_result::<u8, Infallible>(fresh)
        .expect("fresh entry");
    assert_eq!(kept.wait_timeout(PROMPTLY).expect("value"), 5);
}

/// S5: an entry that leaves the stash unretrieved has its operation
/// cancelled, so that no work runs on with no handle left: when it
/// expires, when the stash refuses it for being full (whether the refusal
/// is dropped or turned into an error), and when shutdown drains it. Each
/// cancel is logged once, at debug level, with the id's prefix only.
pub fn s5_stashed_work_never_outlives_its_entry(fixture: &'static dyn Fixture) {
    let logs = Logs::capture();
    let running = Running::start(fixture);
    running.set_stash_policy(
        StashPolicy::default()
            .with_capacity(1)
            .with_time_to_live(Some(Duration::from_millis(50))),
    );
    let pending_with_flag = || {
        let dropped = Flag::new();
        let guard = dropped.on_drop();
        let (gate, result) = gated(&running, guard);
        (dropped, gate, result)
    };

    // Expired.
    let (expired, _gate, result) = pending_with_flag();
    let id = result.stash().expect("stash");
    std::thread::sleep(Duration::from_millis(80));
    let fresh = running.run_in_reactor(|| async { 0_u8 }).stash();
    assert!(
        expired.wait(PROMPTLY),
        "an expired entry's operation was left running"
    );
    let full_id = id.to_string();
    assert!(
        !logs.text().contains(&full_id),
        "a log line shows a whole stash id: {}",
        logs.text()
    );
    assert!(logs.wait_for(PROMPTLY, &["DEBUG", "cancelled", &full_id[..8]]));
    drop(fresh.map(|id| running.retrieve_result::<u8, Infallible>(id)));

    // Refused for being full: dropped, or turned into an error.
    let _occupant = running
        .run_in_reactor(|| async { 1_u8 })
        .stash()
        .expect("stash");
    let (refused, _gate, result) = pending_with_flag();
    drop(result.stash().expect_err("full"));
    assert!(refused.wait(PROMPTLY), "a refused result was left running");
    let (converted, _gate, result) = pending_with_flag();
    let _: Error = result.stash().expect_err("full").into();
    assert!(
        converted.wait(PROMPTLY),
        "a refused result was left running"
    );
    let cancelled_lines = logs.lines_with(&["DEBUG", "cancelled"]).len();
    assert_eq!(cancelled_lines, 3, "{}", logs.text());
}

/// S5/R6: each reactor keeps its own stash: a library's reactor and the
/// global one never see, count or drain each other's entries.
pub fn s6_each_reactor_keeps_its_own_stash(fixture: &'static dyn Fixture) {
    fixture
        .start(crochet_core::global())
        .expect("setup")
        .keep_forever();
    let library = Running::start(fixture);
    let other = Running::start(fixture);
    let (_gate, pending) = gated(&library, 1_u8);
    let id = pending.stash().expect("stash");
    assert!(
        matches!(
            crochet_core::retrieve_result::<u8, Infallible>(id),
            Err(RetrieveError::NotFound { .. })
        ),
        "the global stash handed out a library reactor's entry"
    );
    assert_eq!(library.stats().stashed, 1);
    assert_eq!(other.stats().stashed, 0);
    assert_eq!(crochet_core::global().stats().stashed, 0);
    let global_id = crochet_core::run_in_reactor(|| async { 2_u8 })
        .stash()
        .expect("stash");
    assert_eq!(library.stats().stashed, 1);
    other.shutdown(PROMPTLY).expect("shutdown");
    crochet_core::shutdown(PROMPTLY).expect("shutdown");
    assert_eq!(
        library.stats().stashed,
        1,
        "another reactor's shutdown drained this one's stash"
    );
    assert_ne!(id, global_id);
    let back = library
        .retrieve_result::<u8, Infallible>(id)
        .expect("its own reactor has it");
    assert!(!back.is_finished());
}
