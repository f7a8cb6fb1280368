//! Property: `from_literal(to_literal(v)) == v` for the std types, also through the protobuf
//! bytes, and every literal is of the shape `literal_type` declares.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maptask_core::{Describe, FieldDesc, TypeDesc};
use maptask_flyte::literal::{from_literal, to_literal};
use maptask_flyte::proto::core::Literal;
use proptest::prelude::*;
use prost::Message;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

fn round_trip<T>(value: &T) -> T
where
    T: Describe + Serialize + DeserializeOwned,
{
    let desc = T::type_desc();
    let lit = to_literal(value, &desc).unwrap();
    let lit = Literal::decode(lit.encode_to_vec().as_slice()).unwrap();
    from_literal(&lit, &desc).unwrap()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rec {
    id: u32,
    score: f32,
    name: Option<String>,
    tags: BTreeMap<String, Vec<i16>>,
    when: SystemTime,
    took: Duration,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Unit,
    New(i64),
    Pair(bool, String),
    Named { a: Option<u8> },
}
maptask_core::describe_serde!(Kind);

impl Describe for Rec {
    fn type_desc() -> TypeDesc {
        TypeDesc::Struct {
            name: "Rec".into(),
            fields: vec![
                FieldDesc::new("id", u32::type_desc()),
                FieldDesc::new("score", f32::type_desc()),
                FieldDesc::new("name", Option::<String>::type_desc()),
                FieldDesc::new("tags", BTreeMap::<String, Vec<i16>>::type_desc()),
                FieldDesc::new("when", SystemTime::type_desc()),
                FieldDesc::new("took", Duration::type_desc()),
                FieldDesc::new("kind", Kind::type_desc()),
            ],
        }
    }
}

fn system_time() -> impl Strategy<Value = SystemTime> {
    (0u64..=253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| UNIX_EPOCH + Duration::new(s, n))
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Unit),
        any::<i64>().prop_map(Kind::New),
        (any::<bool>(), ".*").prop_map(|(b, s)| Kind::Pair(b, s)),
        any::<Option<u8>>().prop_map(|a| Kind::Named { a }),
    ]
}

proptest! {
    #[test]
    fn integers(a: i64, b: i32, c: u32, d: i8, e in 0..=i64::MAX as u64) {
        prop_assert_eq!(round_trip(&a), a);
        prop_assert_eq!(round_trip(&b), b);
        prop_assert_eq!(round_trip(&c), c);
        prop_assert_eq!(round_trip(&d), d);
        prop_assert_eq!(round_trip(&e), e);
    }

    #[test]
    fn floats_keep_their_bits(bits: u64, f: f32) {
        let x = f64::from_bits(bits);
        prop_assert_eq!(round_trip(&x).to_bits(), bits);
        prop_assert_eq!(round_trip(&f).to_bits(), f.to_bits());
    }

    #[test]
    fn text(s: String, c: char, b: bool) {
        prop_assert_eq!(round_trip(&s), s.clone());
        prop_assert_eq!(round_trip(&c), c);
        prop_assert_eq!(round_trip(&b), b);
        let p = std::path::PathBuf::from(&s);
        prop_assert_eq!(round_trip(&p), p);
    }

    #[test]
    fn times(t in system_time(), secs in 0..=i64::MAX as u64, nanos in 0u32..1_000_000_000) {
        prop_assert_eq!(round_trip(&t), t);
        let d = Duration::new(secs, nanos);
        prop_assert_eq!(round_trip(&d), d);
    }

    #[test]
    fn containers(
        o: Option<Option<i64>>,
        v in prop::collection::vec(any::<Option<String>>(), 0..20),
        m in prop::collection::hash_map(".{0,8}", prop::collection::vec(any::<bool>(), 0..8), 0..8),
        s in prop::collection::btree_set(any::<i32>(), 0..20),
        nested in prop::collection::vec(
            prop::collection::btree_map(".{0,8}", any::<Option<f64>>(), 0..8),
            0..8,
        ),
    ) {
        // Optional[Optional[T]] is Optional[T]: Some(None) reads back as None.
        prop_assert_eq!(round_trip(&o), o.flatten().map(Some));
        prop_assert_eq!(round_trip(&v), v.clone());
        prop_assert_eq!(round_trip(&m), m.clone());
        prop_assert_eq!(round_trip(&s), s.clone());
        let back = round_trip(&nested);
        prop_assert_eq!(format!("{back:?}"), format!("{nested:?}"));
    }

    #[test]
    fn structs_and_enums(
        id: u32,
        score in -1e30f32..1e30,
        name: Option<String>,
        tags in prop::collection::btree_map(".{0,8}", prop::collection::vec(any::<i16>(), 0..8), 0..8),
        when in system_time(),
        micros in 0u64..=2_000_000_000_000_000,
        kind in kind(),
    ) {
        // A duration inside a struct is float seconds, as in a dataclass: exact to the
        // microsecond up to 2e9 s (63 years).
        let rec = Rec { id, score, name, tags, when, took: Duration::from_micros(micros), kind };
        let back = round_trip(&rec);
        // A date-time inside a struct is isoformat() text: microseconds.
        let when_us = UNIX_EPOCH + Duration::from_micros(rec.when.duration_since(UNIX_EPOCH).unwrap().as_micros() as u64);
        prop_assert_eq!(back, Rec { when: when_us, ..rec });
    }
}
