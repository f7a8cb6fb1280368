//! `inputs.pb` is data from outside the process: decoding it as any task's inputs never panics
//! and never allocates without bound, whatever the bytes. Property tests over arbitrary bytes
//! and over mutations of the fixture files, with a bounded number of cases, plus the extremes:
//! literals nested far past prost's limit and lengths declared far past the buffer.

use std::time::{Duration, Instant};

use maptask::registry;
use maptask_flyte::entrypoint::{decode_inputs, InputsFailure};
use proptest::prelude::*;

/// Every task of the app, with its bound names (as the maps of the fixtures and the interop test
/// bind them).
const TASKS: [(&str, &[&str]); 10] = [
    ("app.wf.my_mappable_task", &[]),
    ("app.wf.scale", &["factor"]),
    ("app.wf.my_flaky_task", &[]),
    ("interop.square", &[]),
    ("interop.inverse", &[]),
    ("interop.lookup", &["table"]),
    ("interop.double_opt", &[]),
    ("interop.next_day", &[]),
    ("interop.shift", &["dx"]),
    ("interop.panics", &[]),
];

/// Decodes `bytes` for every task, as a map element and as a plain task; only the absence of a
/// panic matters, and the time it takes.
fn decode_everywhere(bytes: &[u8]) {
    for (task, bound) in TASKS {
        let entry = registry::find(task).unwrap();
        let bound: Vec<String> = bound.iter().map(|s| (*s).to_owned()).collect();
        for index in [0, 1, 2, usize::MAX] {
            match decode_inputs(&entry, "inputs.pb", bytes, Some((&bound, index))) {
                Ok(_) | Err(InputsFailure::Bad(_)) | Err(InputsFailure::PastEnd(_)) => {}
            }
        }
        let _ = decode_inputs(&entry, "inputs.pb", bytes, None);
    }
}

fn fixture_inputs() -> Vec<Vec<u8>> {
    [
        "inputs/my_mappable_task.inputs.pb",
        "inputs/scale.inputs.pb",
        "runs/scale/out/0/outputs.pb",
        "aggregate/my_flaky_task.outputs_k8s_array.pb",
        "templates/map_my_mappable_task.task_template.pb",
    ]
    .iter()
    .map(|f| crate::common::fixture(f))
    .collect()
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    /// Overwrites 10 bytes with a varint of a huge length.
    HugeLength(usize),
    /// Splices a copy of a slice into another place, repeating structure.
    Splice(usize, usize, usize),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, x) => {
                if let Some(b) = bytes.get_mut(i % len) {
                    *b ^= x;
                }
            }
            Mutation::Insert(i, x) => bytes.insert((i % len).min(bytes.len()), x),
            Mutation::Remove(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % len);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::HugeLength(i) => {
                let at = (i % len).min(bytes.len());
                let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
                bytes.splice(at..(at + huge.len()).min(bytes.len()), huge);
            }
            Mutation::Splice(from, n, to) => {
                let from = from % len;
                let end = (from + n % 64).min(bytes.len());
                let piece: Vec<u8> = bytes.get(from..end).unwrap_or_default().to_vec();
                let to = (to % len).min(bytes.len());
                bytes.splice(to..to, piece);
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::HugeLength),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, c)| Mutation::Splice(a, b, c)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_everywhere(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..5usize,
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let bytes = mutate(fixture_inputs()[which].clone(), &mutations);
        decode_everywhere(&bytes);
    }
}

/// Appends a varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field `tag` holding `body`.
fn field(tag: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(tag << 3 | 2), &mut out);
    varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

#[test]
fn literals_nested_far_past_the_limit_are_an_error_not_a_crash() {
    // a = collection(collection(…(collection[])…)), 100,000 levels: Literal.collection is field
    // 2, LiteralCollection.literals field 1, LiteralMap.literals a map of field 1 with key 1 and
    // value 2.
    let mut literal = Vec::new();
    for _ in 0..100_000 {
        literal = field(2, &field(1, &literal));
    }
    let mut entry = field(1, b"a");
    entry.extend(field(2, &literal));
    let bytes = field(1, &entry);
    let started = Instant::now();
    let entry = registry::find("app.wf.my_mappable_task").unwrap();
    match decode_inputs(&entry, "inputs.pb", &bytes, Some((&[], 0))) {
        Err(InputsFailure::Bad(failure)) => {
            assert_eq!(failure.code, "SYSTEM:CorruptInputs");
            assert!(
                failure.message.contains("recursion limit reached"),
                "{}",
                failure.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn lengths_declared_past_the_buffer_allocate_nothing() {
    // `a` declared as a 2^62-byte literal, and a string declared as 2^40 bytes.
    let mut bytes = Vec::new();
    varint(1 << 3 | 2, &mut bytes);
    varint(1 << 62, &mut bytes);
    bytes.extend_from_slice(b"short");
    let entry = registry::find("app.wf.my_mappable_task").unwrap();
    assert!(matches!(
        decode_inputs(&entry, "inputs.pb", &bytes, Some((&[], 0))),
        Err(InputsFailure::Bad(_))
    ));
    let mut bytes = field(1, b"a");
    varint(2 << 3 | 2, &mut bytes);
    varint(1 << 40, &mut bytes);
    assert!(matches!(
        decode_inputs(&entry, "inputs.pb", &bytes, Some((&[], 0))),
        Err(InputsFailure::Bad(_))
    ));
}

#[test]
fn a_msgpack_blob_nested_far_past_any_limit_is_an_error_not_a_crash() {
    use maptask_flyte::proto::core::{
        literal, scalar, Binary, Literal, LiteralCollection, LiteralMap, Scalar,
    };
    use prost::Message;
    // A `Point` whose msgpack is an array in an array in … 1,000,000 levels deep.
    let mut blob = vec![0x91; 1_000_000];
    blob.push(0xc0);
    let point = Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Binary(Binary {
                value: blob,
                tag: "msgpack".to_owned(),
            })),
        }))),
        ..Literal::default()
    };
    let p = Literal {
        value: Some(literal::Value::Collection(LiteralCollection {
            literals: vec![point],
        })),
        ..Literal::default()
    };
    let dx = Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Primitive(
                maptask_flyte::proto::core::Primitive {
                    value: Some(maptask_flyte::proto::core::primitive::Value::Integer(1)),
                },
            )),
        }))),
        ..Literal::default()
    };
    let bytes = LiteralMap {
        literals: [("p".to_owned(), p), ("dx".to_owned(), dx)]
            .into_iter()
            .collect(),
    }
    .encode_to_vec();
    let entry = registry::find("interop.shift").unwrap();
    let bound = ["dx".to_owned()];
    let started = Instant::now();
    match decode_inputs(&entry, "inputs.pb", &bytes, Some((&bound, 0))) {
        Err(InputsFailure::Bad(failure)) => assert_eq!(failure.code, "USER:BadInputs"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}
