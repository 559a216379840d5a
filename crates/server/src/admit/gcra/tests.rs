use super::*;

const SECOND: u64 = 1_000_000_000;

fn limit(rate: &str, burst: Option<u64>) -> Limit {
    let Ok(rate) = rate.parse::<Rate>() else {
        unreachable!("`{rate}` parses")
    };
    let Ok(limit) = Limit::new(rate, burst) else {
        unreachable!("burst {burst:?} is valid")
    };
    limit
}

/// An injected clock and one key's stored state, as a backend keeps them.
struct Key {
    limit: Limit,
    state: KeyState,
    now: u64,
    block: u64,
}

impl Key {
    fn new(limit: Limit) -> Key {
        Key {
            limit,
            state: KeyState::default(),
            now: 1_000 * SECOND,
            block: 0,
        }
    }

    fn advance(&mut self, nanos: u64) {
        self.now += nanos;
    }

    /// `Ok(())` when admitted, `Err(retry after, in nanoseconds)` when not.
    fn hit(&mut self) -> Result<(), u64> {
        admit(&self.limit, self.block, &mut self.state, self.now)
    }
}

#[test]
fn rates_parse_as_seed_002_writes_them() {
    let cases = [
        ("100/minute", 100, Per::Minute),
        ("10/second", 10, Per::Second),
        ("5000/hour", 5000, Per::Hour),
        ("1/day", 1, Per::Day),
        (" 7 / s ", 7, Per::Second),
        ("30/min", 30, Per::Minute),
        ("100 per minute", 100, Per::Minute),
        ("2/Hours", 2, Per::Hour),
    ];
    for (text, count, per) in cases {
        let parsed = text.parse::<Rate>();
        let Ok(rate) = parsed else {
            unreachable!("{text:?} must parse: {parsed:?}")
        };
        assert_eq!((rate.count.get(), rate.per), (count, per), "{text:?}");
    }
    let Ok(rate) = "100/minute".parse::<Rate>() else {
        unreachable!()
    };
    assert_eq!(rate.to_string(), "100/minute");
}

#[test]
fn malformed_rates_say_how_to_write_one() {
    for text in [
        "100",
        "/minute",
        "x/minute",
        "-1/minute",
        "1.5/second",
        "100/fortnight",
        "",
        "100/",
    ] {
        let error = text.parse::<Rate>().err();
        assert!(
            matches!(error, Some(RateError::Malformed(_))),
            "{text:?} gave {error:?}"
        );
    }
    assert!(matches!("0/minute".parse::<Rate>(), Err(RateError::Zero(_))));
    assert!(matches!("1000001/second".parse::<Rate>(), Err(RateError::TooFast(_))));
    assert!(matches!("99999999999/hour".parse::<Rate>(), Err(RateError::TooFast(_))));
    assert!("1000000/second".parse::<Rate>().is_ok());
    let Ok(rate) = "1/second".parse::<Rate>() else {
        unreachable!()
    };
    assert_eq!(Limit::new(rate, Some(0)), Err(RateError::Burst(0)));
    assert_eq!(
        Limit::new(rate, Some(u64::from(MAX_BURST) + 1)),
        Err(RateError::Burst(1_000_001))
    );
}

#[test]
fn the_interval_and_tolerance_follow_from_rate_and_burst() {
    let l = limit("100/minute", None);
    assert_eq!(l.burst.get(), 100, "the burst defaults to the count");
    assert_eq!(l.interval_nanos(), 600_000_000);
    assert_eq!(l.tolerance_nanos(), 99 * 600_000_000);
    let l = limit("60/minute", Some(3));
    assert_eq!(l.interval(), Duration::from_secs(1));
    assert_eq!(l.tolerance_nanos(), 2 * SECOND);
}

#[test]
fn a_burst_passes_then_the_steady_rate_with_exact_retry_after() {
    // 60/minute with a burst of 3: three at once, then one a second.
    let mut key = Key::new(limit("60/minute", Some(3)));
    assert_eq!(key.hit(), Ok(()));
    assert_eq!(key.hit(), Ok(()));
    assert_eq!(key.hit(), Ok(()));
    assert_eq!(key.hit(), Err(SECOND), "the fourth waits exactly one interval");
    key.advance(SECOND / 4);
    assert_eq!(key.hit(), Err(3 * SECOND / 4));
    assert_eq!(retry_after_seconds(3 * SECOND / 4), 1, "rounded up, never 0");
    key.advance(3 * SECOND / 4);
    assert_eq!(key.hit(), Ok(()), "one interval later one more passes");
    assert_eq!(key.hit(), Err(SECOND));
    // Steady arrivals at exactly the rate all pass, for as long as they keep it.
    for _ in 0..1000 {
        key.advance(SECOND);
        assert_eq!(key.hit(), Ok(()));
    }
    assert_eq!(key.hit(), Err(SECOND));
}

#[test]
fn a_refusal_does_not_spend_budget() {
    let mut key = Key::new(limit("1/second", None));
    assert_eq!(key.hit(), Ok(()));
    for _ in 0..100 {
        assert_eq!(key.hit(), Err(SECOND));
    }
    key.advance(SECOND);
    assert_eq!(
        key.hit(),
        Ok(()),
        "a hundred refusals did not push the next admission back"
    );
}

#[test]
fn an_idle_key_refills_to_the_burst_and_no_further() {
    let mut key = Key::new(limit("100/minute", Some(5)));
    for _ in 0..5 {
        assert_eq!(key.hit(), Ok(()));
    }
    assert!(key.hit().is_err());
    key.advance(3600 * SECOND);
    for _ in 0..5 {
        assert_eq!(key.hit(), Ok(()));
    }
    assert_eq!(key.hit(), Err(600_000_000), "100/minute: one every 600 ms");
}

#[test]
fn retry_after_in_hours_is_exact() {
    // Seed-style slow rate: 3/hour, burst 3. The fourth request waits 20 minutes to the nanosecond.
    let mut key = Key::new(limit("3/hour", None));
    for _ in 0..3 {
        assert_eq!(key.hit(), Ok(()));
    }
    assert_eq!(key.hit(), Err(1200 * SECOND));
    assert_eq!(retry_after_seconds(1200 * SECOND), 1200);
    key.advance(1);
    assert_eq!(retry_after_seconds(1200 * SECOND - 1), 1200);
    assert_eq!(key.hit(), Err(1200 * SECOND - 1));
}

#[test]
fn a_block_refuses_everything_for_its_duration_then_the_whole_burst_is_back() {
    let mut key = Key::new(limit("2/second", None));
    key.block = 60 * SECOND;
    assert_eq!(key.hit(), Ok(()));
    assert_eq!(key.hit(), Ok(()));
    assert_eq!(
        key.hit(),
        Err(60 * SECOND),
        "crossing the threshold blocks for the whole duration"
    );
    key.advance(59 * SECOND);
    assert_eq!(
        key.hit(),
        Err(60 * SECOND),
        "hammering during the block starts it again"
    );
    key.advance(60 * SECOND);
    assert_eq!(key.hit(), Ok(()), "a client that waits out Retry-After passes");
    assert_eq!(key.hit(), Ok(()), "with its whole burst");
    assert_eq!(key.hit(), Err(60 * SECOND), "crossing the threshold again blocks again");
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    assert_eq!(retry_after_seconds(0), 1);
    assert_eq!(retry_after_seconds(1), 1);
    assert_eq!(retry_after_seconds(SECOND), 1);
    assert_eq!(retry_after_seconds(SECOND + 1), 2);
    assert_eq!(retry_after_seconds(3600 * SECOND), 3600);
}

#[test]
fn extreme_values_saturate_instead_of_overflowing() {
    let l = limit("1/day", Some(u64::from(MAX_BURST)));
    assert!(matches!(
        decide(&l, Some(u64::MAX), u64::MAX - 1),
        Verdict::Allow { .. }
    ));
    assert!(matches!(decide(&l, None, u64::MAX), Verdict::Allow { .. }));
    let l = limit("1/day", Some(1));
    let mut state = KeyState {
        tat: Some(u64::MAX),
        blocked_until: None,
    };
    assert_eq!(admit(&l, u64::MAX, &mut state, 0), Err(u64::MAX));
    assert_eq!(admit(&l, u64::MAX, &mut state, u64::MAX - 1), Err(u64::MAX));
}
