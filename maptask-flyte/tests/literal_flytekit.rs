//! The literal conversion produces the bytes flytekit 1.16.31 produces for the equivalent
//! Python values, and reads flytekit's bytes back to the Rust value. The expected bytes are in
//! `tests/fixtures/types/flytekit_types.json`, written by `make_types.py` beside it (flytekit's
//! own `TypeEngine`, deterministic protobuf encoding).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maptask_core::{Describe, FieldDesc, TypeDesc, VariantDesc};
use maptask_flyte::literal::{from_literal, literal_type, to_literal};
use maptask_flyte::proto::core::{Literal, LiteralType};
use prost::Message;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Color {
    #[serde(rename = "red")]
    Red,
    #[serde(rename = "green")]
    Green,
}

impl Describe for Color {
    fn type_desc() -> TypeDesc {
        TypeDesc::Enum {
            name: "Color".into(),
            variants: vec![
                VariantDesc::new("red", None),
                VariantDesc::new("green", None),
            ],
        }
    }
}

fn strukt(name: &str, fields: Vec<FieldDesc>) -> TypeDesc {
    TypeDesc::Struct {
        name: name.into(),
        fields,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i64,
    y: f64,
    label: String,
}

impl Describe for Point {
    fn type_desc() -> TypeDesc {
        strukt(
            "Point",
            vec![
                FieldDesc::new("x", i64::type_desc()),
                FieldDesc::new("y", f64::type_desc()),
                FieldDesc::new("label", String::type_desc()),
            ],
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outer {
    p: Point,
    tags: Vec<String>,
    m: BTreeMap<String, i64>,
    o: Option<i64>,
    c: Color,
    t: SystemTime,
    d: Duration,
    b: bool,
    f: f64,
}

impl Describe for Outer {
    fn type_desc() -> TypeDesc {
        strukt(
            "Outer",
            vec![
                FieldDesc::new("p", Point::type_desc()),
                FieldDesc::new("tags", Vec::<String>::type_desc()),
                FieldDesc::new("m", BTreeMap::<String, i64>::type_desc()),
                FieldDesc::new("o", Option::<i64>::type_desc()),
                FieldDesc::new("c", Color::type_desc()),
                FieldDesc::new("t", SystemTime::type_desc()),
                FieldDesc::new("d", Duration::type_desc()),
                FieldDesc::new("b", bool::type_desc()),
                FieldDesc::new("f", f64::type_desc()),
            ],
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    n: i64,
}

impl Describe for Inner {
    fn type_desc() -> TypeDesc {
        strukt("Inner", vec![FieldDesc::new("n", i64::type_desc())])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Deep {
    pts: Vec<Inner>,
    op: Option<Inner>,
    dm: BTreeMap<String, Inner>,
    oo: Option<Vec<Option<f64>>>,
    big: u64,
    neg: i64,
    s: String,
}

impl Describe for Deep {
    fn type_desc() -> TypeDesc {
        strukt(
            "Deep",
            vec![
                FieldDesc::new("pts", Vec::<Inner>::type_desc()),
                FieldDesc::new("op", Option::<Inner>::type_desc()),
                FieldDesc::new("dm", BTreeMap::<String, Inner>::type_desc()),
                FieldDesc::new("oo", Option::<Vec<Option<f64>>>::type_desc()),
                FieldDesc::new("big", u64::type_desc()),
                FieldDesc::new("neg", i64::type_desc()),
                FieldDesc::new("s", String::type_desc()),
            ],
        )
    }
}

/// A serde type with no described shape: an untyped `dict` to flytekit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Untyped {
    a: i64,
    b: Vec<f64>,
}
maptask_core::describe_serde!(Untyped);

fn expected() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/types/flytekit_types.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The type, the literal's bytes, and the read-back of flytekit's literal, for one case.
fn check<T>(cases: &serde_json::Value, name: &str, value: T, same: impl Fn(&T, &T) -> bool)
where
    T: Describe + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let case = &cases[name];
    assert!(
        case.is_object(),
        "{name}: no such case in flytekit_types.json"
    );
    let desc = T::type_desc();
    let ty = literal_type(&desc).unwrap_or_else(|e| panic!("{name}: {e}"));
    // Compared decoded: python-protobuf's "deterministic" order puts map key "tags" before
    // "t" (a prefix), prost's BTreeMap puts it after; the messages are equal.
    let their_ty = LiteralType::decode(unhex(case["type"].as_str().unwrap()).as_slice()).unwrap();
    assert_eq!(ty, their_ty, "{name}: LiteralType");
    let lit = to_literal(&value, &desc).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        hex(&lit.encode_to_vec()),
        case["literal"].as_str().unwrap(),
        "{name}: Literal"
    );
    let theirs = Literal::decode(unhex(case["literal"].as_str().unwrap()).as_slice()).unwrap();
    let back: T = from_literal(&theirs, &desc)
        .unwrap_or_else(|e| panic!("{name}: reading flytekit's literal: {e}"));
    assert!(
        same(&back, &value),
        "{name}: read back {back:?}, wrote {value:?}"
    );
}

fn eq<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b
}

fn bits(a: &f64, b: &f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn at(seconds: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(seconds, nanos)
}

fn point(x: i64, y: f64, label: &str) -> Point {
    Point {
        x,
        y,
        label: label.into(),
    }
}

#[test]
fn primitives_match_flytekit() {
    let c = expected();
    check(&c, "int", 5i64, eq);
    check(&c, "int", 5u8, eq);
    check(&c, "int_neg", -7i32, eq);
    check(&c, "int_max", i64::MAX, eq);
    check(&c, "int_max", i64::MAX as u64, eq);
    check(&c, "int_min", i64::MIN, eq);
    check(&c, "int_min", i128::from(i64::MIN), eq);
    check(&c, "float", 1.5f64, bits);
    check(&c, "float", 1.5f32, eq);
    check(&c, "float_zero", 0.0, bits);
    check(&c, "float_neg_zero", -0.0, bits);
    check(&c, "float_inf", f64::INFINITY, bits);
    check(&c, "float_nan", f64::NAN, bits);
    check(&c, "float_subnormal", 5e-324, bits);
    check(&c, "str", "ab".to_owned(), eq);
    check(&c, "str_empty", String::new(), eq);
    check(&c, "str_unicode", "é✓".to_owned(), eq);
    check(&c, "bool_true", true, eq);
    check(&c, "bool_false", false, eq);
    check(&c, "none", (), eq);
    check(&c, "td", Duration::new(90, 5_000), eq);
    check(&c, "td_zero", Duration::ZERO, eq);
    check(&c, "dt", at(1_704_164_645, 123_456_000), eq);
    check(&c, "dt_epoch", UNIX_EPOCH, eq);
    check(&c, "dt_max", at(253_402_300_799, 999_999_000), eq);
    check(&c, "color", Color::Green, eq);
}

#[test]
fn char_and_path_are_strings() {
    let c = expected();
    check(&c, "str_empty", std::path::PathBuf::new(), eq);
    let lit = to_literal(&'é', &char::type_desc()).unwrap();
    assert_eq!(
        from_literal::<String>(&lit, &String::type_desc()).unwrap(),
        "é"
    );
    assert_eq!(from_literal::<char>(&lit, &char::type_desc()).unwrap(), 'é');
}

#[test]
fn optionals_match_flytekit() {
    let c = expected();
    check(&c, "opt_int", Some(3i64), eq);
    check(&c, "opt_int_none", None::<i64>, eq);
    check(&c, "opt_float", Some(1.0f64), eq);
    check(&c, "opt_bool", Some(true), eq);
    check(&c, "opt_str", Some("x".to_owned()), eq);
    check(&c, "opt_dt", Some(at(1_704_153_600, 0)), eq);
    check(&c, "opt_td", Some(Duration::from_secs(1)), eq);
    check(&c, "opt_list", Some(vec![1i64]), eq);
    check(
        &c,
        "opt_dict",
        Some(BTreeMap::from([("a".to_owned(), 1i64)])),
        eq,
    );
    check(&c, "opt_point", Some(point(1, 2.0, "x")), eq);
    check(&c, "opt_color", Some(Color::Red), eq);
    check(&c, "opt_opt_none", None::<Option<String>>, eq);
    check(&c, "opt_opt_some", Some(Some("x".to_owned())), eq);
    check(&c, "opt_untyped", Some(Untyped { a: 1, b: vec![1.5] }), eq);
    check(&c, "list_opt", vec![Some("a".to_owned()), None], eq);
}

#[test]
fn collections_match_flytekit() {
    let c = expected();
    check(&c, "list_empty", Vec::<i64>::new(), eq);
    check(&c, "list_list", vec![vec![1i64, 2], vec![]], eq);
    check(&c, "dict_empty", BTreeMap::<String, i64>::new(), eq);
    check(
        &c,
        "dict",
        BTreeMap::from([("a".to_owned(), 1i64), ("b".to_owned(), 2)]),
        eq,
    );
    check(
        &c,
        "dict",
        std::collections::HashMap::from([("a".to_owned(), 1i64), ("b".to_owned(), 2)]),
        eq,
    );
    check(
        &c,
        "list_dict",
        vec![BTreeMap::from([("a".to_owned(), 1i64)])],
        eq,
    );
    check(&c, "list_color", vec![Color::Red, Color::Green], eq);
    // A set crosses as a list (flytekit pickles `set`).
    check(
        &c,
        "list_list",
        vec![
            std::collections::BTreeSet::from([1i64, 2]),
            Default::default(),
        ],
        eq,
    );
}

#[test]
fn structs_match_flytekit_dataclasses() {
    let c = expected();
    check(&c, "point", point(3, 1.5, "ab"), eq);
    check(&c, "point_int_float", point(-200, 2.0, &"x".repeat(40)), eq);
    check(&c, "list_point", vec![point(1, 1.0, "a")], eq);
    check(
        &c,
        "dict_point",
        BTreeMap::from([("a".to_owned(), point(1, 2.0, "x"))]),
        eq,
    );
    let outer = Outer {
        p: point(1, 2.0, "p"),
        tags: vec!["a".into()],
        m: BTreeMap::from([("k".to_owned(), -200)]),
        o: None,
        c: Color::Red,
        t: at(1_704_164_645, 123_456_000),
        d: Duration::new(90, 5_000),
        b: true,
        f: 2.0,
    };
    check(&c, "outer", outer, eq);
    let deep = Deep {
        pts: vec![Inner { n: 1 }],
        op: None,
        dm: BTreeMap::from([("k".to_owned(), Inner { n: 2 })]),
        oo: Some(vec![Some(1.0), None]),
        big: 1 << 63,
        neg: i64::MIN,
        s: "x".repeat(40),
    };
    check(&c, "deep", deep, eq);
    check(&c, "untyped", Untyped { a: 1, b: vec![1.5] }, eq);
}
