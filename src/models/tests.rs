use super::*;
use serde::{Deserialize, Serialize};

string_enum! {
    /// Test enum.
    pub enum Colour {
        /// Red.
        Red => "red",
        /// Blue.
        Blue => "blue",
    }
}

#[test]
fn string_enum_round_trips_and_keeps_unknown() {
    let v: Vec<Colour> = serde_json::from_str(r#"["red","blue","ultraviolet"]"#).unwrap();
    assert_eq!(
        v,
        vec![Colour::Red, Colour::Blue, Colour::Unknown("ultraviolet".into())]
    );
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"["red","blue","ultraviolet"]"#
    );
    assert_eq!(Colour::Unknown("x".into()).to_string(), "x");
}

response_model! {
    /// A model with unknown fields kept.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct Probe {
        /// Required.
        pub id: u64,
        /// Optional, renamed on the wire.
        #[serde(default, rename = "Name", skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// A nested model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inner: Option<Box<Probe>>,
        /// The rest.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

#[test]
fn unknown_fields_land_in_extra_once() {
    let json = r#"{"new":[1,{"a":null}],"id":7,"Name":"n","inner":{"id":8,"deep":true},"flag":false}"#;
    let p: Probe = serde_json::from_str(json).unwrap();
    assert_eq!((p.id, p.name.as_deref()), (7, Some("n")));
    assert_eq!(p.extra.len(), 2, "{:?}", p.extra);
    assert_eq!(p.extra["new"], serde_json::json!([1, {"a": null}]));
    assert_eq!(p.extra["flag"], false);
    // Known keys are not duplicated, and a nested model keeps its own unknown fields.
    assert!(!p.extra.contains_key("id") && !p.extra.contains_key("Name"));
    let inner = p.inner.as_deref().unwrap();
    assert_eq!((inner.id, inner.extra["deep"].as_bool()), (8, Some(true)));
    // Serializing gives the same object back.
    let back = serde_json::to_value(&p).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
    // The same from a `Value` (another deserializer: keys arrive owned).
    let again: Probe = serde_json::from_value(back).unwrap();
    assert_eq!(again, p);
}

#[test]
fn unknown_fields_with_escaped_keys_duplicates_and_from_a_reader() {
    let json = r#"{"id":1,"a\u0062c":2,"x":1,"x":2,"\u0069d2":3}"#;
    for p in [
        serde_json::from_str::<Probe>(json).unwrap(),
        serde_json::from_reader::<_, Probe>(json.as_bytes()).unwrap(),
    ] {
        assert_eq!(p.id, 1);
        assert_eq!(p.extra["abc"], 2);
        assert_eq!(
            p.extra["x"], 2,
            "the last of a repeated unknown key wins, as with flatten"
        );
        assert_eq!(p.extra["id2"], 3);
        assert_eq!(p.extra.len(), 3);
    }
}

#[test]
fn a_number_serde_json_cannot_hold_drops_only_its_unknown_field() {
    let p: Probe = serde_json::from_str(r#"{"huge":1e400,"id":3,"nested":{"n":-1e999},"ok":1.5}"#).unwrap();
    assert_eq!(p.id, 3);
    assert!(!p.extra.contains_key("huge") && !p.extra.contains_key("nested"));
    assert_eq!(p.extra["ok"], 1.5);
    // In a known field it is still an error, as it is anywhere else.
    assert!(serde_json::from_str::<Probe>(r#"{"id":1e400}"#).is_err());
    // Broken JSON inside an unknown field is still an error.
    assert!(serde_json::from_str::<Probe>(r#"{"id":1,"bad":[1,}"#).is_err());
}

#[test]
fn decode_errors_name_the_field_and_refuse_what_flatten_refused() {
    let json = r#"{"id":1,"skip":{"a":[1,2]},"inner":{"id":2,"Name":5}}"#;
    let de = &mut serde_json::Deserializer::from_str(json);
    let err = serde_path_to_error::deserialize::<_, Probe>(de).unwrap_err();
    assert_eq!(err.path().to_string(), "inner.Name");
    let de = &mut serde_json::Deserializer::from_str(r#"[{"id":1},{"id":2,"x":1},{"id":"3"}]"#);
    let err = serde_path_to_error::deserialize::<_, Vec<Probe>>(de).unwrap_err();
    assert_eq!(err.path().to_string(), "[2].id");
    // A missing required field, an array for an object, null: errors, as before.
    assert!(
        serde_json::from_str::<Probe>(r#"{"Name":"n"}"#)
            .unwrap_err()
            .to_string()
            .contains("missing field `id`")
    );
    assert!(serde_json::from_str::<Probe>("[1]").is_err());
    let null = serde_json::from_str::<Probe>("null").unwrap_err().to_string();
    assert!(null.contains("expected struct Probe"), "{null}");
}

#[test]
fn patch_three_states() {
    #[derive(Serialize, Deserialize, Default)]
    struct P {
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        a: Patch<String>,
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        b: Patch<String>,
        #[serde(default, skip_serializing_if = "Patch::is_unchanged")]
        c: Patch<String>,
    }
    let p = P {
        a: Patch::Set("x".into()),
        b: Patch::Clear,
        c: Patch::Unchanged,
    };
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"a":"x","b":null}"#);
    let back: P = serde_json::from_str(r#"{"a":"x","b":null}"#).unwrap();
    assert_eq!(
        (back.a, back.b, back.c),
        (Patch::Set("x".into()), Patch::Clear, Patch::Unchanged)
    );
}

#[test]
fn timestamps_order_by_instant() {
    let t = Timestamp::new;
    assert!(t("2024-03-05T08:00:01Z") < t("2024-03-05T08:00:01.5Z"));
    assert!(t("2024-03-05T10:00:00+03:00") < t("2024-03-05T08:00:01Z"));
    assert!(t("2024-03-05T08:00:01Z") < t("yesterday"));
    // Same instant, other text: not equal, and ordered consistently with `Eq`.
    let (a, b) = (t("2024-03-05T08:00:01Z"), t("2024-03-05T08:00:01.0Z"));
    assert_ne!(a, b);
    assert_ne!(a.cmp(&b), std::cmp::Ordering::Equal);
    assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
    let mut v = [
        t("b"),
        t("2030-01-01T00:00:00Z"),
        t("a"),
        t("2020-01-01T00:00:00+01:00"),
    ];
    v.sort();
    let texts: Vec<&str> = v.iter().map(Timestamp::as_str).collect();
    assert_eq!(
        texts,
        ["2020-01-01T00:00:00+01:00", "2030-01-01T00:00:00Z", "a", "b"]
    );
}

#[cfg(feature = "chrono")]
#[test]
fn timestamp_to_chrono() {
    let c = Timestamp::new("2024-03-05T10:00:01.5+02:00").to_chrono().unwrap();
    assert_eq!(c.to_rfc3339(), "2024-03-05T08:00:01.500+00:00");
}

#[cfg(feature = "time")]
#[test]
fn timestamp_to_time() {
    let t = Timestamp::new("2024-03-05T08:00:01Z").to_time().unwrap();
    assert_eq!(t.unix_timestamp(), 1_709_625_601);
}

#[cfg(feature = "jiff")]
#[test]
fn timestamp_to_jiff() {
    let t = Timestamp::new("2024-03-05T08:00:01Z").to_jiff().unwrap();
    assert_eq!(t.as_second(), 1_709_625_601);
}

/// The parser accepts second 60 and offsets up to ±99:59 on any date from year 0001 to
/// 9999, so an instant can fall past the end of 9999: beyond `time` (without
/// `large-dates`) and `jiff` (whose last instant is 9999-12-30T22:00:00.999999999Z, so
/// that every offset keeps it in 9999). Each conversion answers `None` there, never panics.
#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
#[test]
fn timestamp_conversions_at_the_edges_never_panic() {
    use std::time::UNIX_EPOCH;
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const JIFF_LAST: i64 = LAST - (25 * 3600 + 59 * 60 + 59);
    const OFFSET: i64 = 99 * 3600 + 59 * 60;
    // text => Unix seconds of the instant, if it parses at all
    let cases: &[(&str, Option<i64>)] = &[
        ("9999-12-30T22:00:00.999999999Z", Some(JIFF_LAST)),
        ("9999-12-30T22:00:01Z", Some(JIFF_LAST + 1)),
        ("9999-12-31T23:59:59Z", Some(LAST)),
        ("9999-12-31T23:59:59.999999999Z", Some(LAST)),
        ("9999-12-31T23:59:60Z", Some(LAST + 1)),
        ("9999-12-31T23:59:59-01:00", Some(LAST + 3600)),
        ("9999-12-31T23:59:60.999999999-99:59", Some(LAST + 1 + OFFSET)),
        ("0001-01-01T00:00:00Z", Some(FIRST)),
        ("0001-01-01T00:00:00+99:59", Some(FIRST - OFFSET)),
        ("0001-01-01T00:00:00-99:59", Some(FIRST + OFFSET)),
        ("0000-01-01T00:00:00Z", None),
        ("0000-01-01T00:00:00-99:59", None),
        ("0000-01-01T00:00:00+99:59", None),
    ];
    for &(text, secs) in cases {
        let ts = Timestamp::new(text);
        let parsed = ts.to_system_time().map(|t| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        });
        assert_eq!(parsed, secs, "{text}");
        #[cfg(feature = "chrono")]
        assert_eq!(ts.to_chrono().map(|t| t.timestamp()), secs, "chrono {text}");
        #[cfg(feature = "time")]
        assert_eq!(
            ts.to_time().map(|t| t.unix_timestamp()),
            secs.filter(|&s| s <= LAST),
            "time {text}"
        );
        #[cfg(feature = "jiff")]
        assert_eq!(
            ts.to_jiff().map(|t| t.as_second()),
            secs.filter(|&s| s <= JIFF_LAST),
            "jiff {text}"
        );
    }
}

#[test]
fn timestamp_parses_on_demand() {
    let t: Timestamp = serde_json::from_str(r#""2024-03-05T08:00:01.5Z""#).unwrap();
    assert_eq!(t.as_str(), "2024-03-05T08:00:01.5Z");
    assert!(t.to_system_time().is_some());
    assert!(Timestamp::new("yesterday").to_system_time().is_none());
}
