//! Type descriptions: the std types a task can take, and `#[derive(Describe)]` on user types
//! (issue 13), checked through `Describe` and through a task's interface.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use maptask::prelude::*;
use maptask::{FieldDesc, Param, TypeDesc, VariantDesc};
use serde::{Deserialize, Serialize};

fn int(bits: u8, signed: bool) -> TypeDesc {
    TypeDesc::Integer { bits, signed }
}

fn set(of: TypeDesc) -> TypeDesc {
    TypeDesc::Set { of: Box::new(of) }
}

fn list(of: TypeDesc) -> TypeDesc {
    TypeDesc::List { of: Box::new(of) }
}

fn field(name: &str, ty: TypeDesc) -> FieldDesc {
    FieldDesc::new(name, ty)
}

fn strukt(name: &str, fields: Vec<FieldDesc>) -> TypeDesc {
    TypeDesc::Struct {
        name: name.to_owned(),
        fields,
    }
}

fn opaque(name: &str) -> TypeDesc {
    TypeDesc::Opaque {
        name: name.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// std types as task parameters.

#[task]
#[allow(clippy::too_many_arguments)]
fn std_kinds(
    path: PathBuf,
    tags: HashSet<String>,
    ordered: BTreeSet<u32>,
    initial: char,
    shared: Arc<String>,
    boxed: Box<i64>,
    big: i128,
    huge: u128,
    at: SystemTime,
) -> HashSet<PathBuf> {
    let _ = (tags, ordered, initial, shared, boxed, big, huge, at);
    HashSet::from([path])
}

#[test]
fn std_types_describe_as_their_kind() {
    let interface = <std_kinds as Task>::interface();
    let described: Vec<(&str, &str, TypeDesc)> = interface
        .inputs
        .iter()
        .map(|p: &Param| (p.name, p.rust_type, p.ty.clone()))
        .collect();
    assert_eq!(
        described,
        vec![
            ("path", "PathBuf", TypeDesc::Path),
            ("tags", "HashSet<String>", set(TypeDesc::String)),
            ("ordered", "BTreeSet<u32>", set(int(32, false))),
            ("initial", "char", TypeDesc::Char),
            ("shared", "Arc<String>", TypeDesc::String),
            ("boxed", "Box<i64>", int(64, true)),
            ("big", "i128", int(128, true)),
            ("huge", "u128", int(128, false)),
            ("at", "SystemTime", TypeDesc::DateTime),
        ]
    );
    assert_eq!(interface.output, set(TypeDesc::Path));
    assert_eq!(interface.output.to_string(), "set<path>");
}

#[test]
fn a_task_with_std_parameters_still_runs() {
    let out = std_kinds(
        PathBuf::from("/tmp/a"),
        HashSet::new(),
        BTreeSet::new(),
        'x',
        Arc::new(String::new()),
        Box::new(1),
        -1,
        1,
        SystemTime::UNIX_EPOCH,
    );
    assert_eq!(out, HashSet::from([PathBuf::from("/tmp/a")]));
}

// ---------------------------------------------------------------------------------------------
// Derived descriptions.

/// Named fields, serde names, a skipped field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    order_id: u64,
    #[serde(rename = "qty")]
    quantity: u32,
    #[serde(skip)]
    scratch: Vec<u8>,
    #[serde(skip_serializing, default)]
    write_only: bool,
    r#type: String,
    tags: HashSet<String>,
}

/// A newtype: written as its field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Meters(f64);

/// A tuple struct of two fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Span2(u8, i8);

/// A unit struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Nothing;

/// Every kind of variant, renamed by rule, with one renamed and one skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[serde(rename_all = "snake_case", rename_all_fields = "UPPERCASE")]
pub enum Event {
    Started,
    TimedOut(u64),
    Moved(i32, i32),
    Renamed {
        old_name: String,
        new_name: String,
    },
    #[serde(rename = "gone")]
    Deleted,
    #[serde(skip)]
    Internal,
}

/// A foreign type by name, through a newtype.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[describe(opaque)]
pub struct Ip(std::net::IpAddr);

/// A foreign type by name, as one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Host {
    name: String,
    #[describe(opaque)]
    ip: std::net::IpAddr,
}

/// Flattening, transparent, generic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Envelope<T> {
    id: u64,
    #[serde(flatten)]
    body: Host,
    payload: T,
}

/// A transparent struct with named fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[serde(transparent)]
pub struct Wrapped {
    inner: Vec<char>,
}

/// Written and read through another type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[serde(into = "String", try_from = "String")]
pub struct Email {
    user: String,
    domain: String,
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        format!("{}@{}", email.user, email.domain)
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(text: String) -> Result<Email, String> {
        let (user, domain) = text.split_once('@').ok_or("no @")?;
        Ok(Email {
            user: user.into(),
            domain: domain.into(),
        })
    }
}

/// A type that contains itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
pub struct Tree {
    label: String,
    children: Vec<Tree>,
}

#[test]
fn a_struct_is_described_by_its_serde_fields_in_order() {
    assert_eq!(
        Order::type_desc(),
        strukt(
            "Order",
            vec![
                field("orderId", int(64, false)),
                field("qty", int(32, false)),
                field("type", TypeDesc::String),
                field("tags", set(TypeDesc::String)),
            ]
        )
    );
    assert_eq!(Order::type_desc().to_string(), "struct Order");

    // The names are the ones serde writes.
    let order = Order {
        order_id: 1,
        quantity: 2,
        scratch: vec![1],
        write_only: true,
        r#type: "t".into(),
        tags: HashSet::new(),
    };
    let json = serde_json::to_value(&order).expect("an order serializes");
    let written: Vec<&String> = json.as_object().expect("an object").keys().collect();
    let TypeDesc::Struct { fields, .. } = Order::type_desc() else {
        panic!("Order is a struct")
    };
    let mut described: Vec<&String> = fields.iter().map(|f| &f.name).collect();
    described.sort();
    let mut written = written;
    written.sort();
    assert_eq!(described, written);
}

#[test]
fn newtype_tuple_and_unit_structs_are_described_as_serde_writes_them() {
    assert_eq!(Meters::type_desc(), TypeDesc::Float { bits: 64 });
    assert_eq!(
        Span2::type_desc(),
        TypeDesc::Tuple {
            of: vec![int(8, false), int(8, true)]
        }
    );
    assert_eq!(Nothing::type_desc(), TypeDesc::Unit);
    assert_eq!(Wrapped::type_desc(), list(TypeDesc::Char));
    assert_eq!(Email::type_desc(), TypeDesc::String);
}

#[test]
fn an_enum_is_described_by_its_variants() {
    assert_eq!(
        Event::type_desc(),
        TypeDesc::Enum {
            name: "Event".into(),
            variants: vec![
                VariantDesc::new("started", None),
                VariantDesc::new("timed_out", Some(int(64, false))),
                VariantDesc::new(
                    "moved",
                    Some(TypeDesc::Tuple {
                        of: vec![int(32, true), int(32, true)]
                    })
                ),
                VariantDesc::new(
                    "renamed",
                    Some(strukt(
                        "Renamed",
                        vec![
                            field("OLD_NAME", TypeDesc::String),
                            field("NEW_NAME", TypeDesc::String)
                        ]
                    ))
                ),
                VariantDesc::new("gone", None),
            ],
        }
    );
    // serde writes the names described, and refuses the skipped variant.
    assert_eq!(
        serde_json::to_string(&Event::TimedOut(3)).expect("serializes"),
        r#"{"timed_out":3}"#
    );
    assert!(serde_json::to_string(&Event::Internal).is_err());
}

#[test]
fn foreign_types_come_in_by_name() {
    assert_eq!(Ip::type_desc(), opaque("Ip"));
    assert_eq!(
        Host::type_desc(),
        strukt(
            "Host",
            vec![
                field("name", TypeDesc::String),
                field("ip", opaque("std::net::IpAddr"))
            ]
        )
    );
}

#[test]
fn flattened_fields_take_the_fields_place_and_generics_are_described() {
    assert_eq!(
        Envelope::<Meters>::type_desc(),
        strukt(
            "Envelope",
            vec![
                field("id", int(64, false)),
                field("name", TypeDesc::String),
                field("ip", opaque("std::net::IpAddr")),
                field("payload", TypeDesc::Float { bits: 64 }),
            ]
        )
    );
}

#[test]
fn a_recursive_type_is_described_once() {
    assert_eq!(
        Tree::type_desc(),
        strukt(
            "Tree",
            vec![
                field("label", TypeDesc::String),
                field("children", list(opaque("Tree")))
            ]
        )
    );
    // The guard is per description: a second one starts afresh.
    assert_eq!(Tree::type_desc(), Tree::type_desc());
}

/// Derived types as task inputs and outputs, mapped.
#[task]
fn ship(order: Order, events: Vec<Event>, by: HashMap<String, Meters>) -> Option<Event> {
    let _ = (order, by);
    events.into_iter().last()
}

#[test]
fn derived_types_are_task_parameters() {
    let interface = <ship as Task>::interface();
    assert_eq!(interface.inputs[0].ty, Order::type_desc());
    assert_eq!(interface.inputs[1].ty, list(Event::type_desc()));
    assert_eq!(
        interface.inputs[2].ty,
        TypeDesc::Map {
            of: Box::new(TypeDesc::Float { bits: 64 })
        }
    );
    assert_eq!(interface.output, Event::type_desc().optional_of());
}

#[tokio::test]
async fn derived_types_cross_a_map() -> Result<(), MapError> {
    let order = Order {
        order_id: 1,
        quantity: 2,
        scratch: vec![],
        write_only: false,
        r#type: "t".into(),
        tags: HashSet::new(),
    };
    let out = map_task!(ship, order = order, by = HashMap::new())
        .call(vec![vec![Event::Started], vec![]])
        .await?;
    assert_eq!(out, vec![Some(Event::Started), None]);
    Ok(())
}
