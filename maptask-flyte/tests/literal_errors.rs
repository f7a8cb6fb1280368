//! What cannot convert fails with an error that names the value and the expected type; what
//! Flyte itself writes around map tasks (bare values, bare nils) reads back.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maptask_core::{Describe, TypeDesc};
use maptask_flyte::literal::{from_literal, literal_type, to_literal, LiteralError};
use maptask_flyte::proto::core::{
    literal, primitive, scalar, Binary, Literal, LiteralMap, Primitive, Scalar,
};
use prost::Message;

fn prim(v: primitive::Value) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Primitive(Primitive { value: Some(v) })),
        }))),
        ..Literal::default()
    }
}

fn fixture(path: &str) -> LiteralMap {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    LiteralMap::decode(bytes.as_slice()).unwrap()
}

#[test]
fn integers_outside_i64_are_errors_not_wraps() {
    let err = to_literal(&u64::MAX, &u64::type_desc()).unwrap_err();
    assert_eq!(
        err,
        LiteralError::IntegerOutOfRange {
            value: u64::MAX.to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "integer 18446744073709551615 does not fit Flyte's 64-bit signed integer"
    );
    assert!(matches!(
        to_literal(&(1u128 << 70), &u128::type_desc()),
        Err(LiteralError::IntegerOutOfRange { .. })
    ));
    assert!(matches!(
        to_literal(&i128::MIN, &i128::type_desc()),
        Err(LiteralError::IntegerOutOfRange { .. })
    ));
    let err = to_literal(&vec![1u64, u64::MAX], &Vec::<u64>::type_desc()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at [1]: integer 18446744073709551615 does not fit Flyte's 64-bit signed integer"
    );
    // Reading: a negative integer into an unsigned type is serde's range error.
    let err =
        from_literal::<u8>(&prim(primitive::Value::Integer(-1)), &u8::type_desc()).unwrap_err();
    assert!(err.to_string().contains("-1"), "{err}");
    assert!(from_literal::<u8>(&prim(primitive::Value::Integer(256)), &u8::type_desc()).is_err());
}

#[test]
fn a_literal_of_another_kind_names_both() {
    let lit = prim(primitive::Value::StringValue("1".into()));
    let err = from_literal::<i64>(&lit, &i64::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), r#"expected i64, found string "1""#);
    // No coercion of an integer into a float, unlike flytekit's reader.
    let err =
        from_literal::<f64>(&prim(primitive::Value::Integer(1)), &f64::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), "expected f64, found integer 1");
    let list = to_literal(&vec!["a".to_owned()], &Vec::<String>::type_desc()).unwrap();
    let err = from_literal::<Vec<i64>>(&list, &Vec::<i64>::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), r#"at [0]: expected i64, found string "a""#);
    let map = to_literal(
        &BTreeMap::from([("k".to_owned(), vec![true])]),
        &BTreeMap::<String, Vec<bool>>::type_desc(),
    )
    .unwrap();
    let err = from_literal::<BTreeMap<String, Vec<String>>>(
        &map,
        &BTreeMap::<String, Vec<String>>::type_desc(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"at ["k"][0]: expected string, found boolean true"#
    );
    let err = from_literal::<char>(
        &prim(primitive::Value::StringValue("ab".into())),
        &char::type_desc(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"expected one character, found string "ab""#
    );
    // A value whose serde shape disagrees with its description.
    let err = to_literal(&"x", &i64::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), r#"expected i64, found string "x""#);
}

#[test]
fn floats_read_into_f32_must_fit() {
    let err = from_literal::<f32>(
        &prim(primitive::Value::FloatValue(1e300)),
        &f32::type_desc(),
    )
    .unwrap_err();
    assert_eq!(err, LiteralError::FloatOutOfRange { value: 1e300 });
    let inf = from_literal::<f32>(
        &prim(primitive::Value::FloatValue(f64::NEG_INFINITY)),
        &f32::type_desc(),
    )
    .unwrap();
    assert_eq!(inf, f32::NEG_INFINITY);
}

#[test]
fn times_outside_what_both_sides_hold_are_errors() {
    // timedelta(seconds=-1, microseconds=5), as flytekit writes it.
    let negative = prim(primitive::Value::Duration(prost_types::Duration {
        seconds: 0,
        nanos: -999_995_000,
    }));
    let err = from_literal::<Duration>(&negative, &Duration::type_desc()).unwrap_err();
    assert!(
        matches!(
            err,
            LiteralError::DurationOutOfRange {
                seconds: -1,
                nanos: 5_000,
                ..
            }
        ),
        "{err}"
    );
    let too_late = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
    let err = to_literal(&too_late, &SystemTime::type_desc()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "date-time at 253402300800 s from the Unix epoch is outside years 1 to 9999"
    );
    // 1969-12-31T23:59:59.999999Z: flytekit's seconds -1, nanos 999999000.
    let before = prim(primitive::Value::Datetime(prost_types::Timestamp {
        seconds: -1,
        nanos: 999_999_000,
    }));
    let err = from_literal::<SystemTime>(&before, &SystemTime::type_desc()).unwrap_err();
    assert!(err.to_string().contains("before the epoch"), "{err}");
    // ... but a date crate reading RFC 3339 text gets it.
    assert_eq!(
        from_literal::<String>(&before, &TypeDesc::DateTime).unwrap(),
        "1969-12-31T23:59:59.999999Z"
    );
    let err = to_literal(&"2024-01-02T00:00:00", &TypeDesc::DateTime).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`2024-01-02T00:00:00` is not an RFC 3339 date-time with an offset"
    );
}

#[test]
fn rfc3339_text_is_a_datetime() {
    let lit = to_literal(&"2024-01-02T01:00:00.5+01:00", &TypeDesc::DateTime).unwrap();
    let t: SystemTime = from_literal(&lit, &TypeDesc::DateTime).unwrap();
    assert_eq!(t, UNIX_EPOCH + Duration::new(1_704_153_600, 500_000_000));
    assert_eq!(
        from_literal::<String>(&lit, &TypeDesc::DateTime).unwrap(),
        "2024-01-02T00:00:00.5Z"
    );
}

#[test]
fn an_optional_of_unit_has_no_type() {
    let err = literal_type(&Option::<()>::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), "`optional<unit>` cannot cross to Flyte: `()` is already Flyte's none, an optional of it has no type");
}

#[test]
fn corrupt_msgpack_is_an_error() {
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    struct P {
        x: i64,
    }
    maptask_core::describe_serde!(P);
    let lit = to_literal(&P { x: 1 }, &P::type_desc()).unwrap();
    let Some(literal::Value::Scalar(s)) = &lit.value else {
        panic!()
    };
    let Some(scalar::Value::Binary(Binary { value, tag })) = &s.value else {
        panic!()
    };
    assert_eq!(
        (value.as_slice(), tag.as_str()),
        (&[0x81, 0xa1, b'x', 0x01][..], "msgpack")
    );
    let with = |bytes: Vec<u8>| Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Binary(Binary {
                value: bytes,
                tag: "msgpack".into(),
            })),
        }))),
        ..Literal::default()
    };
    let err = from_literal::<P>(&with(vec![0x81, 0xa1, b'x']), &P::type_desc()).unwrap_err();
    assert!(matches!(err, LiteralError::Msgpack(_)), "{err}");
    let err = from_literal::<P>(&with(vec![0x81, 0xa1, b'x', 1, 2]), &P::type_desc()).unwrap_err();
    assert_eq!(err.to_string(), "msgpack payload: 1 bytes after the value");
    // 200 nested arrays: refused, not a stack overflow.
    let mut deep = vec![0x91; 200];
    deep.push(0xc0);
    assert!(matches!(
        from_literal::<P>(&with(deep), &P::type_desc()),
        Err(LiteralError::Msgpack(_))
    ));
    // Another tag is not msgpack.
    let mut other = with(vec![0x81, 0xa1, b'x', 1]);
    if let Some(literal::Value::Scalar(s)) = &mut other.value {
        if let Some(scalar::Value::Binary(b)) = &mut s.value {
            b.tag = "json".into();
        }
    }
    let err = from_literal::<P>(&other, &P::type_desc()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"expected serde P, found binary of 4 bytes tagged "json""#
    );
}

#[test]
fn what_the_k8s_array_plugin_assembles_reads_back() {
    let desc = Vec::<Option<String>>::type_desc();
    // union, bare nil, union
    let agg = fixture("aggregate/my_flaky_task.outputs_k8s_array.pb");
    let v: Vec<Option<String>> = from_literal(&agg.literals["o0"], &desc).unwrap();
    assert_eq!(v, [Some("1".to_owned()), None, Some("3".to_owned())]);
    // bare string, bare nil, bare string
    let agg = fixture("aggregate/my_flaky_plain_task.outputs_k8s_array.pb");
    let v: Vec<Option<String>> = from_literal(&agg.literals["o0"], &desc).unwrap();
    assert_eq!(v, [Some("1".to_owned()), None, Some("3".to_owned())]);
    let agg = fixture("aggregate/scale.outputs_k8s_array.pb");
    let v: Vec<i64> = from_literal(&agg.literals["o0"], &Vec::<i64>::type_desc()).unwrap();
    assert_eq!(v, [10, 20, 30]);
}

#[test]
fn flytekit_inputs_read_back() {
    let inputs = fixture("inputs/scale.inputs.pb");
    let x: Vec<i64> = from_literal(&inputs.literals["x"], &Vec::<i64>::type_desc()).unwrap();
    let factor: i64 = from_literal(&inputs.literals["factor"], &i64::type_desc()).unwrap();
    assert_eq!((x, factor), (vec![1, 2, 3], 10));
    // The element output of the seed task is union-wrapped; this writes the same bytes.
    let out = fixture("runs/my_mappable_task/out/0/outputs.pb");
    let ours = to_literal(&Some("1".to_owned()), &Option::<String>::type_desc()).unwrap();
    assert_eq!(out.literals["o0"], ours);
}

#[test]
fn chrono_date_times_cross_as_date_times() {
    use chrono::{DateTime, TimeZone, Utc};
    let desc = DateTime::<Utc>::type_desc();
    assert_eq!(desc, TypeDesc::DateTime);
    let t = Utc.timestamp_opt(1_704_164_645, 123_456_789).unwrap();
    let lit = to_literal(&t, &desc).unwrap();
    // The same literal as the SystemTime of that instant.
    let st = UNIX_EPOCH + Duration::new(1_704_164_645, 123_456_789);
    assert_eq!(lit, to_literal(&st, &SystemTime::type_desc()).unwrap());
    assert_eq!(from_literal::<DateTime<Utc>>(&lit, &desc).unwrap(), t);
    // Before the epoch, which SystemTime cannot read through serde.
    let early = Utc.timestamp_opt(-1, 999_999_000).unwrap();
    let lit = to_literal(&early, &desc).unwrap();
    assert_eq!(from_literal::<DateTime<Utc>>(&lit, &desc).unwrap(), early);
    // Inside a struct: Python's isoformat() text in the msgpack, as for a dataclass field.
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Event {
        at: DateTime<Utc>,
    }
    let desc = TypeDesc::Struct {
        name: "Event".into(),
        fields: vec![maptask_core::FieldDesc::new("at", TypeDesc::DateTime)],
    };
    let event = Event {
        at: Utc.timestamp_opt(1_704_153_600, 5_000).unwrap(),
    };
    let lit = to_literal(&event, &desc).unwrap();
    let Some(literal::Value::Scalar(s)) = &lit.value else {
        panic!()
    };
    let Some(scalar::Value::Binary(b)) = &s.value else {
        panic!()
    };
    assert_eq!(b.value[..6], [0x81, 0xa2, b'a', b't', 0xd9, 32]);
    assert_eq!(&b.value[6..], b"2024-01-02T00:00:00.000005+00:00");
    assert_eq!(from_literal::<Event>(&lit, &desc).unwrap(), event);
}
