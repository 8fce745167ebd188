//! S1, S3–S5 against hostile input: whatever text comes back in a cookie,
//! parsing and retrieving give typed errors and never panic; ids round-trip
//! and cannot be predicted; a flood cannot push the stash past its policy.
//!
//! The policy cases change process-wide settings, so each runs in a fresh
//! process. (The conformance suite's `s5_*` cases cover the full stash and
//! expiry one result at a time; these add concurrency and the interplay of
//! the two bounds.)
#![cfg(feature = "tokio")]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use std::convert::Infallible;

use crochet_conformance::support::{Logs, PROMPTLY, in_fresh_process};
use crochet_core::{Error, RetrieveError, StashId, StashPolicy};
use proptest::prelude::*;

/// `len` hexadecimal digits, in either case.
fn hex_digits(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"0123456789abcdefABCDEF".to_vec()),
        len,
    )
    .prop_map(|digits| digits.into_iter().map(char::from).collect())
}

/// Almost an id: 31 to 33 digits, with a sign, a `0x`, whitespace or a
/// stray character around them.
fn near_miss() -> impl Strategy<Value = String> {
    let prefixes = vec![
        "", "", "+", "-", " ", "\t", "\n", "0x", "\u{feff}", "\u{a0}",
    ];
    let suffixes = vec!["", "", " ", "\n", "\r\n", "\0", "é", "g"];
    (
        hex_digits(31..=33),
        prop::sample::select(prefixes),
        prop::sample::select(suffixes),
    )
        .prop_map(|(digits, prefix, suffix)| format!("{prefix}{digits}{suffix}"))
}

/// 32 characters, one of them something that is not ASCII hex but may
/// pass for it (fullwidth and Arabic-Indic digits, a zero-width space).
fn one_character_off() -> impl Strategy<Value = String> {
    let strays = vec!['g', 'G', 'x', ' ', '\0', '０', 'ａ', '٣', 'é', '\u{200b}'];
    (
        hex_digits(32..=32),
        0..32_usize,
        prop::sample::select(strays),
    )
        .prop_map(|(digits, at, stray)| {
            let mut chars: Vec<char> = digits.chars().collect();
            chars[at] = stray;
            chars.into_iter().collect()
        })
}

/// Very long text: one character, or hex digits, repeated.
fn very_long() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<char>(), 33..100_000_usize).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        (hex_digits(1..=4), 9..25_000_usize).prop_map(|(digits, n)| digits.repeat(n)),
    ]
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,64}",
        "[0-9a-fA-F+\\- \\t\\n]{0,40}",
        // 32 bytes, 16 characters: the length check must not count bytes
        // as characters.
        "[\\u{80}-\\u{7ff}]{16}",
        near_miss(),
        one_character_off(),
        very_long(),
        // Well formed, mixed case.
        hex_digits(32..=32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// S4: any text either parses (exactly 32 ASCII hexadecimal
    /// characters, either case) and then retrieves as a typed
    /// `RetrieveError::NotFound`, or is a typed `ParseStashIdError` that
    /// counts its characters; nothing panics.
    #[test]
    fn s4_hostile_text_gives_only_typed_errors(text in hostile_text()) {
        let well_formed = text.len() == StashId::TEXT_LEN
            && text.bytes().all(|byte| byte.is_ascii_hexdigit());
        match text.parse::<StashId>() {
            Ok(id) => {
                prop_assert!(well_formed, "{:?} parsed as {:?}", text, id);
                prop_assert_eq!(id.to_string(), text.to_ascii_lowercase());
                match crochet_core::retrieve_result::<u8, Infallible>(id) {
                    Err(RetrieveError::NotFound { id: missing }) => prop_assert_eq!(missing, id),
                    other => prop_assert!(false, "{:?}: retrieved {:?}", text, other),
                }
            }
            Err(error) => {
                prop_assert!(!well_formed, "{:?} refused", text);
                let len = error.text_len();
                prop_assert_eq!(len, text.chars().count());
                let says = format!("got {len} characters");
                prop_assert!(error.to_string().contains(&says), "{}", error);
            }
        }
    }

    /// S1: every 128-bit id round-trips through its text, which is 32
    /// lowercase digits; the uppercase text parses to the same id.
    #[test]
    fn s1_every_id_round_trips_through_text(
        bits in prop_oneof![Just(0_u128), Just(1), Just(u128::MAX), any::<u128>()],
    ) {
        let text = format!("{bits:032x}");
        let id: StashId = text.parse().map_err(|error| TestCaseError::fail(format!("{error}")))?;
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(format!("{id:?}"), format!("StashId({}…)", &text[..8]));
        let again: StashId = id.to_string().parse().map_err(|error| TestCaseError::fail(format!("{error}")))?;
        prop_assert_eq!(again, id);
        let shouted: StashId = text
            .to_ascii_uppercase()
            .parse()
            .map_err(|error| TestCaseError::fail(format!("{error}")))?;
        prop_assert_eq!(shouted, id);
    }
}

/// S3: ids stashed in one process cannot be predicted from each other: no
/// collisions, no repeated step or XOR between consecutive ids (a counter
/// repeats its step; a linear generator's low bits cycle), every bit fair.
#[test]
fn s3_ids_from_one_process_are_unpredictable() {
    const IDS: usize = 10_000;
    crochet_core::setup_with(crochet_tokio::Tokio::builder()).expect("setup");
    let ids: Vec<StashId> = (0..IDS)
        .map(|_| {
            crochet_core::run_in_reactor(|| async {})
                .stash()
                .expect("stash")
        })
        .collect();
    let values: Vec<u128> = ids
        .iter()
        .map(|id| u128::from_str_radix(&id.to_string(), 16).expect("hex"))
        .collect();
    let unique: HashSet<u128> = values.iter().copied().collect();
    assert_eq!(unique.len(), IDS, "colliding ids");
    let steps: HashSet<u128> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    assert_eq!(
        steps.len(),
        IDS - 1,
        "a step between consecutive ids repeats"
    );
    let xors: HashSet<u128> = values.windows(2).map(|w| w[1] ^ w[0]).collect();
    assert_eq!(xors.len(), IDS - 1, "an XOR of consecutive ids repeats");
    for bit in 0..128 {
        let bits: Vec<bool> = values.iter().map(|v| v >> bit & 1 == 1).collect();
        // 10,000 fair bits: one standard deviation is 0.5%, so 45–55% is
        // ten of them.
        let set = bits.iter().filter(|set| **set).count();
        assert!(
            (IDS * 45 / 100..=IDS * 55 / 100).contains(&set),
            "bit {bit} is set in {set} of {IDS} ids"
        );
        for period in 1..=64 {
            assert!(
                bits.iter().zip(&bits[period..]).any(|(a, b)| a != b),
                "bit {bit} repeats with period {period}"
            );
        }
    }
    for id in ids {
        drop(crochet_core::retrieve_result::<(), Infallible>(id).expect("retrieve"));
    }
}

/// S5: many threads flooding a small stash at once get exactly its
/// capacity in; every other result is handed back whole with a typed
/// `NotStashed` (and a warning each); the stash never holds more.
#[test]
fn s5_flooded_stash_admits_exactly_its_capacity() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::s5_flooded_stash_admits_exactly_its_capacity"
        ),
        || {
            const CAPACITY: usize = 100;
            const THREADS: usize = 8;
            const EACH: usize = 64;
            let logs = Logs::capture();
            crochet_core::setup_with(crochet_tokio::Tokio::builder()).expect("setup");
            crochet_core::set_stash_policy(
                StashPolicy::default()
                    .with_capacity(CAPACITY)
                    .with_time_to_live(None),
            );
            let done = Arc::new(AtomicBool::new(false));
            let sampler = {
                let done = Arc::clone(&done);
                thread::spawn(move || {
                    let mut most = 0;
                    while !done.load(Ordering::SeqCst) {
                        most = most.max(crochet_core::stash_len());
                        thread::yield_now();
                    }
                    most
                })
            };
            let start = Arc::new(Barrier::new(THREADS));
            let floods: Vec<_> = (0..THREADS)
                .map(|thread| {
                    let start = Arc::clone(&start);
                    thread::spawn(move || {
                        start.wait();
                        let mut admitted = Vec::new();
                        let mut refused = 0;
                        for index in 0..EACH {
                            let value = thread * EACH + index;
                            match crochet_core::run_in_reactor(move || async move { value }).stash()
                            {
                                Ok(id) => admitted.push((id, value)),
                                Err(full) => {
                                    assert_eq!(full.capacity(), CAPACITY);
                                    let back = full.into_result();
                                    assert_eq!(
                                        back.wait_timeout(PROMPTLY).expect("handed back"),
                                        value
                                    );
                                    refused += 1;
                                }
                            }
                        }
                        (admitted, refused)
                    })
                })
                .collect();
            let mut admitted = Vec::new();
            let mut refused = 0;
            for flood in floods {
                let (some, more) = flood.join().expect("a flooding thread");
                admitted.extend(some);
                refused += more;
            }
            done.store(true, Ordering::SeqCst);
            let most = sampler.join().expect("the sampler");
            assert_eq!(admitted.len(), CAPACITY);
            assert_eq!(refused, THREADS * EACH - CAPACITY);
            assert_eq!(crochet_core::stash_len(), CAPACITY);
            assert!(most <= CAPACITY, "the stash held {most} entries");
            assert_eq!(
                logs.lines_with(&["WARN", "the stash is full"]).len(),
                refused,
                "{}",
                logs.text()
            );
            for (id, value) in admitted {
                let result =
                    crochet_core::retrieve_result::<usize, Infallible>(id).expect("retrieve");
                assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), value);
            }
            assert_eq!(crochet_core::stash_len(), 0);
        },
    );
}

/// S5: lowering the capacity below what is stashed evicts nothing (as
/// documented); stashing is refused until retrievals bring the stash
/// under the new capacity.
#[test]
fn s5_lowered_capacity_keeps_entries_and_refuses_new_ones() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::s5_lowered_capacity_keeps_entries_and_refuses_new_ones"
        ),
        || {
            crochet_core::setup_with(crochet_tokio::Tokio::builder()).expect("setup");
            crochet_core::set_stash_policy(
                StashPolicy::default()
                    .with_capacity(10)
                    .with_time_to_live(None),
            );
            let stash =
                |value: u32| crochet_core::run_in_reactor(move || async move { value }).stash();
            let mut ids: Vec<(StashId, u32)> = (0..5)
                .map(|value| (stash(value).expect("room"), value))
                .collect();
            crochet_core::set_stash_policy(
                StashPolicy::default()
                    .with_capacity(2)
                    .with_time_to_live(None),
            );
            assert_eq!(
                crochet_core::stash_len(),
                5,
                "lowering the capacity evicted"
            );
            let retrieve = |(id, value): (StashId, u32)| {
                let result = crochet_core::retrieve_result::<u32, Infallible>(id).expect("kept");
                assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), value);
            };
            for _ in 0..3 {
                let full = stash(99).expect_err("over the new capacity");
                assert_eq!(full.capacity(), 2);
                assert_eq!(
                    full.into_result()
                        .wait_timeout(PROMPTLY)
                        .expect("handed back"),
                    99
                );
                retrieve(ids.pop().expect("an entry"));
            }
            assert_eq!(crochet_core::stash_len(), 2);
            let refused = stash(99).map_err(Error::from).err();
            assert!(
                matches!(refused, Some(Error::StashFull { capacity: 2 })),
                "{refused:?}"
            );
            retrieve(ids.pop().expect("an entry"));
            ids.push((stash(7).expect("room again"), 7));
            ids.into_iter().for_each(retrieve);
            assert_eq!(crochet_core::stash_len(), 0);
        },
    );
}

/// S5: in a full stash, entries past their time-to-live are swept before
/// the capacity applies: they make room (each logged), and their ids are
/// gone.
#[test]
fn s5_expired_entries_make_room_in_a_full_stash() {
    in_fresh_process(
        concat!(
            module_path!(),
            "::s5_expired_entries_make_room_in_a_full_stash"
        ),
        || {
            const TTL: Duration = Duration::from_millis(300);
            let logs = Logs::capture();
            crochet_core::setup_with(crochet_tokio::Tokio::builder()).expect("setup");
            crochet_core::set_stash_policy(
                StashPolicy::default()
                    .with_capacity(2)
                    .with_time_to_live(Some(TTL)),
            );
            let stash =
                |value: u32| crochet_core::run_in_reactor(move || async move { value }).stash();
            let old = [stash(1).expect("room"), stash(2).expect("room")];
            let full = stash(3).expect_err("full, nothing expired yet");
            assert_eq!(
                full.into_result()
                    .wait_timeout(PROMPTLY)
                    .expect("handed back"),
                3
            );
            thread::sleep(TTL + Duration::from_millis(100));
            let fresh = stash(4).expect("the expired entries made room");
            assert_eq!(crochet_core::stash_len(), 1);
            for id in old {
                let gone = crochet_core::retrieve_result::<u32, Infallible>(id).err();
                assert!(
                    matches!(gone, Some(RetrieveError::NotFound { id: missing }) if missing == id),
                    "{gone:?}"
                );
            }
            assert_eq!(
                logs.lines_with(&["WARN", "expired"]).len(),
                2,
                "{}",
                logs.text()
            );
            let result =
                crochet_core::retrieve_result::<u32, Infallible>(fresh).expect("the fresh entry");
            assert_eq!(result.wait_timeout(PROMPTLY).expect("value"), 4);
        },
    );
}
