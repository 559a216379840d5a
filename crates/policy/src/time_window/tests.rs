use super::*;

fn at(text: &str) -> Timestamp {
    let Some(t) = Timestamp::parse_rfc3339(text) else {
        unreachable!("{text} is RFC 3339")
    };
    t
}

fn window(start: &str, end: &str, days: Option<&[u8]>, zone: Option<&str>) -> TimeWindow {
    let (Ok(s), Ok(e)) = (TimeOfDay::parse(start), TimeOfDay::parse(end)) else {
        unreachable!("times parse")
    };
    let Ok(w) = TimeWindow::new(Some((s, e)), days, zone) else {
        unreachable!("window builds")
    };
    w
}

#[test]
fn a_window_across_midnight_counts_the_day_it_opens() {
    // Friday 22:00 to Saturday 06:00 only. 2026-11-20 is a Friday.
    let w = window("22:00", "06:00", Some(&[5]), None);
    assert_eq!(w.contains(at("2026-11-20T23:00:00Z")), Ok(true));
    assert_eq!(w.contains(at("2026-11-21T05:59:00Z")), Ok(true));
    assert_eq!(w.contains(at("2026-11-21T06:00:00Z")), Ok(false));
    assert_eq!(
        w.contains(at("2026-11-20T05:00:00Z")),
        Ok(false),
        "Thursday night is not Friday's window"
    );
    assert_eq!(w.contains(at("2026-11-21T23:00:00Z")), Ok(false));
}

#[test]
fn a_time_zone_moves_the_window_and_the_day() {
    // 09:00–17:00 Monday in Tokyo (UTC+9) is Monday 00:00–08:00 UTC; 2026-11-16 is a Monday.
    let w = window("09:00", "17:00", Some(&[1]), Some("Asia/Tokyo"));
    assert_eq!(w.contains(at("2026-11-16T01:00:00Z")), Ok(true));
    assert_eq!(w.contains(at("2026-11-16T08:00:00Z")), Ok(false));
    assert_eq!(
        w.contains(at("2026-11-15T23:30:00Z")),
        Ok(false),
        "Sunday 23:30 UTC is Monday 08:30 in Tokyo"
    );
    assert_eq!(w.contains(at("2026-11-16T00:00:00Z")), Ok(true));
}

#[test]
fn bad_windows_are_refused() {
    assert!(TimeOfDay::parse("24:00").is_err() && TimeOfDay::parse("9").is_err() && TimeOfDay::parse("09:5").is_err());
    assert!(TimeWindow::new(None, Some(&[0]), None).is_err());
    assert!(TimeWindow::new(None, Some(&[8]), None).is_err());
    assert!(TimeWindow::new(None, None, None).is_err());
    assert!(TimeWindow::new(None, Some(&[1]), Some("Nowhere/Land")).is_err());
}
