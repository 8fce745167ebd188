//! The timeout syntax of `#[wait_for(timeout = "…")]`: a number and a
//! unit, read at compile time into nanoseconds.

const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;
const NANOS_PER_MINUTE: u128 = 60 * NANOS_PER_SECOND;

const SYNTAX: &str = "write a number and a unit, such as \"250ms\", \"5s\", \"1.5s\" or \"2m\"";

/// Reads a timeout such as `"250ms"`, `"5s"`, `"1.5s"` or `"2m"` into
/// nanoseconds.
///
/// The number is an integer or a decimal (digits on both sides of the
/// point), the unit `ms`, `s` or `m`, with optional spaces between them.
/// The value must be more than zero and a whole number of nanoseconds that
/// fits a `u64`. The error is the message for the compile error.
pub(crate) fn parse_timeout(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("the timeout is empty: {SYNTAX}"));
    }
    if trimmed.starts_with('-') {
        return Err(format!(
            "the timeout `{text}` is negative: it must be more than zero"
        ));
    }
    let number_len = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(number_len);
    let unit = unit.trim_start();
    let Some((whole, fraction)) =
        split_number(number).filter(|_| unit.chars().all(|c| c.is_ascii_alphabetic()))
    else {
        return Err(format!("`{text}` is not a timeout: {SYNTAX}"));
    };
    let unit_nanos = match unit {
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => NANOS_PER_MINUTE,
        "" => {
            return Err(format!(
                "the timeout `{text}` has no unit: write \"{number}s\" for seconds, or use `ms` or `m`"
            ));
        }
        other => {
            return Err(format!(
                "unknown unit `{other}` in the timeout `{text}`: use `ms`, `s` or `m`"
            ));
        }
    };
    let too_long = || {
        format!(
            "the timeout `{text}` is too long: the most is {}ns, about 584 years",
            u64::MAX
        )
    };
    // Leading zeros of the whole part and trailing zeros of the fraction
    // change nothing; past that, the digit counts bound the arithmetic
    // below, which stays within u128.
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if whole.len() > 20 {
        return Err(too_long());
    }
    // A unit is at most 6 * 10^10 ns, so a fraction of 12 or more digits
    // (the last one not zero) is never a whole number of nanoseconds.
    if fraction.len() >= 12 {
        return Err(format!(
            "the timeout `{text}` is finer than a nanosecond, the precision of a `Duration`"
        ));
    }
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_long())?
    };
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| too_long())?
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let fraction_nanos = fraction_value * unit_nanos;
    if fraction_nanos % scale != 0 {
        return Err(format!(
            "the timeout `{text}` is finer than a nanosecond, the precision of a `Duration`"
        ));
    }
    let nanos = whole_value * unit_nanos + fraction_nanos / scale;
    if nanos == 0 {
        return Err(format!(
            "the timeout `{text}` is zero: it must be more than zero (on timeout the call is cancelled)"
        ));
    }
    u64::try_from(nanos).map_err(|_| too_long())
}

/// Splits `12.5` into `("12", "5")` and `12` into `("12", "")`; `None`
/// unless there are digits before the point and, if there is a point,
/// after it.
fn split_number(number: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => {
            if fraction.is_empty() {
                return None;
            }
            (whole, fraction)
        }
        None => (number, ""),
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    (!whole.is_empty() && digits(whole) && digits(fraction)).then_some((whole, fraction))
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn integers_in_each_unit() {
        assert_eq!(parse_timeout("250ms"), Ok(250 * MS));
        assert_eq!(parse_timeout("5s"), Ok(5 * S));
        assert_eq!(parse_timeout("2m"), Ok(120 * S));
        assert_eq!(parse_timeout("1ms"), Ok(MS));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_timeout("1.5s"), Ok(1_500 * MS));
        assert_eq!(parse_timeout("0.25m"), Ok(15 * S));
        assert_eq!(parse_timeout("0.5ms"), Ok(500_000));
        assert_eq!(parse_timeout("0.000000001s"), Ok(1));
        assert_eq!(parse_timeout("1.50s"), Ok(1_500 * MS));
        assert_eq!(parse_timeout("0.00000000005m"), Ok(3));
    }

    #[test]
    fn spaces_around_and_between_are_allowed() {
        assert_eq!(parse_timeout("5 s"), Ok(5 * S));
        assert_eq!(parse_timeout(" 250 ms "), Ok(250 * MS));
        assert_eq!(parse_timeout("007s"), Ok(7 * S));
    }

    #[test]
    fn the_largest_timeout_fits_a_u64_of_nanoseconds() {
        assert_eq!(parse_timeout("18446744073.709551615s"), Ok(u64::MAX));
        let error = parse_timeout("18446744073.709551616s").unwrap_err();
        assert!(error.contains("too long"), "{error}");
        let error = parse_timeout("99999999999999999999999999m").unwrap_err();
        assert!(error.contains("too long"), "{error}");
    }

    #[test]
    fn zero_and_negative_timeouts_are_refused() {
        for text in ["0s", "0ms", "0.0m", "000s"] {
            let error = parse_timeout(text).unwrap_err();
            assert!(error.contains("is zero"), "{text}: {error}");
        }
        let error = parse_timeout("-1s").unwrap_err();
        assert!(error.contains("is negative"), "{error}");
    }

    #[test]
    fn a_missing_or_unknown_unit_is_named() {
        assert_eq!(
            parse_timeout("5").unwrap_err(),
            "the timeout `5` has no unit: write \"5s\" for seconds, or use `ms` or `m`"
        );
        assert_eq!(
            parse_timeout("5 parsecs").unwrap_err(),
            "unknown unit `parsecs` in the timeout `5 parsecs`: use `ms`, `s` or `m`"
        );
        for text in ["5sec", "5h", "5 S", "5us"] {
            let error = parse_timeout(text).unwrap_err();
            assert!(error.starts_with("unknown unit"), "{text}: {error}");
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for text in [
            "s", "ms", ".5s", "5.s", "1.2.3s", "+5s", "1e3s", "5s5", "inf", "NaN", "five s",
            "0x10s",
        ] {
            let error = parse_timeout(text).unwrap_err();
            assert!(error.contains("is not a timeout"), "{text}: {error}");
        }
        assert!(
            parse_timeout("")
                .unwrap_err()
                .starts_with("the timeout is empty")
        );
        assert!(
            parse_timeout("   ")
                .unwrap_err()
                .starts_with("the timeout is empty")
        );
    }

    #[test]
    fn precision_finer_than_a_nanosecond_is_refused() {
        for text in [
            "0.0000000001s",
            "1.0000000005s",
            "0.0000001ms",
            "0.1234567891234s",
        ] {
            let error = parse_timeout(text).unwrap_err();
            assert!(error.contains("finer than a nanosecond"), "{text}: {error}");
        }
    }
}
