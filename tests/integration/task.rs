//! `#[task]`: the typed description next to the function (issue 2).
//!
//! Names, Rust types, type descriptions and declaration order of the parameters; the output
//! description of `T`, `()` and `Result<T, E>` tasks; every metadata option; `NAME`, `PARAMS`,
//! `DOC` and `EXECUTION`; and `Task::call` / `Task::call_blocking` running the function.

use std::collections::HashMap;
use std::time::Duration;

use maptask::prelude::*;
use maptask::{Execution, FailureKind, Interface, Metadata, Param, Resources, TypeDesc};

// ---------------------------------------------------------------------------------------------
// Type-description helpers.

fn int(bits: u8, signed: bool) -> TypeDesc {
    TypeDesc::Integer { bits, signed }
}

fn i64_desc() -> TypeDesc {
    int(64, true)
}

fn list(of: TypeDesc) -> TypeDesc {
    TypeDesc::List { of: Box::new(of) }
}

fn optional(of: TypeDesc) -> TypeDesc {
    TypeDesc::Optional { of: Box::new(of) }
}

fn map_of(of: TypeDesc) -> TypeDesc {
    TypeDesc::Map { of: Box::new(of) }
}

fn param(name: &'static str, rust_type: &'static str, ty: TypeDesc) -> Param {
    Param {
        name,
        rust_type,
        ty,
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks under test.

/// A user type carried through serde.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    x: i64,
    y: i64,
}
maptask::describe_serde!(Point);

/// Takes one parameter of each supported kind.
///
/// Second paragraph of the doc.
#[task]
fn many_kinds(
    count: i64,
    label: String,
    samples: Vec<f64>,
    level: Option<u8>,
    totals: HashMap<String, i64>,
    wait: Duration,
    origin: Point,
) -> usize {
    let _ = (count, label, level, totals, wait, origin);
    samples.len()
}

#[task]
fn nested_types(
    rows: Vec<Vec<i64>>,
    maybe_names: Option<Vec<String>>,
    flags: std::collections::BTreeMap<String, bool>,
    pair: (i32, f32),
    full_path: std::time::Duration,
) -> Vec<Option<u64>> {
    let _ = (rows, maybe_names, flags, pair, full_path);
    Vec::new()
}

/// Squares.
#[task]
fn square(x: i64) -> i64 {
    x * x
}

/// Says hello.
#[task]
async fn greet(name: String) -> String {
    format!("hello {name}")
}

#[task]
fn log_line(_line: String) {}

#[task]
#[allow(clippy::unused_unit)]
fn explicit_unit(_x: i64) -> () {}

#[task]
fn answer() -> i64 {
    42
}

#[derive(Debug)]
struct Odd(i64);

impl std::fmt::Display for Odd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is odd", self.0)
    }
}

impl std::error::Error for Odd {}

#[task]
fn half(x: i64) -> Result<i64, Odd> {
    if x % 2 == 0 {
        Ok(x / 2)
    } else {
        Err(Odd(x))
    }
}

#[task]
async fn half_async(x: i64) -> Result<i64, Odd> {
    if x % 2 == 0 {
        Ok(x / 2)
    } else {
        Err(Odd(x))
    }
}

#[task]
fn io_len(path: String) -> std::io::Result<usize> {
    if path.is_empty() {
        Err(std::io::Error::other("empty path"))
    } else {
        Ok(path.len())
    }
}

#[task]
fn permanent_fail(x: i64) -> Result<i64, TaskError> {
    if x < 0 {
        Err(TaskError::permanent_msg(format!("{x} is negative")))
    } else {
        Err(TaskError::msg(format!("{x} is not negative")))
    }
}

#[task]
fn permanent_wrapped(x: i64) -> Result<i64, TaskError> {
    Err(TaskError::permanent(Odd(x)))
}

// One task per option, so each value is checked alone.
#[task(retries = 4)]
fn opt_retries(x: i64) -> i64 {
    x
}

#[task(timeout = "1m30s")]
fn opt_timeout(x: i64) -> i64 {
    x
}

#[task(timeout = "250ms")]
fn opt_timeout_ms(x: i64) -> i64 {
    x
}

#[task(cache = "1.2")]
fn opt_cache(x: i64) -> i64 {
    x
}

#[task(interruptible = true)]
fn opt_interruptible(x: i64) -> i64 {
    x
}

#[task(interruptible = false)]
fn opt_not_interruptible(x: i64) -> i64 {
    x
}

#[task(name = "etl.clean")]
fn opt_name(x: i64) -> i64 {
    x
}

#[task(requests(cpu = "500m", mem = "1Gi", gpu = "1"))]
fn opt_requests(x: i64) -> i64 {
    x
}

#[task(limits(cpu = "2", mem = "4Gi"))]
fn opt_limits(x: i64) -> i64 {
    x
}

#[task(env(RUST_LOG = "debug", MODE = "fast"))]
fn opt_env(x: i64) -> i64 {
    x
}

#[task(crate = maptask)]
fn opt_crate(x: i64) -> i64 {
    x
}

/// Everything at once.
#[task(
    retries = 2,
    timeout = "30s",
    cache = "1.0",
    interruptible = true,
    name = "all.options",
    requests(cpu = "250m"),
    limits(mem = "2Gi", gpu = "2"),
    env(A = "1")
)]
async fn all_options(x: i64) -> i64 {
    x
}

mod outer {
    pub mod inner {
        use maptask::task;

        /// Nested.
        #[task]
        pub fn render(x: i64) -> String {
            x.to_string()
        }
    }

    pub mod other {
        use maptask::task;

        /// Same function name, other module.
        #[task]
        pub fn render(word: String, times: usize) -> String {
            word.repeat(times)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters: names, Rust types, descriptions, order.

#[test]
fn parameters_are_described_in_declaration_order() {
    let interface = <many_kinds as Task>::interface();
    assert_eq!(
        interface.inputs,
        vec![
            param("count", "i64", i64_desc()),
            param("label", "String", TypeDesc::String),
            param("samples", "Vec<f64>", list(TypeDesc::Float { bits: 64 })),
            param("level", "Option<u8>", optional(int(8, false))),
            param("totals", "HashMap<String, i64>", map_of(i64_desc())),
            param("wait", "Duration", TypeDesc::Duration),
            param(
                "origin",
                "Point",
                TypeDesc::Opaque {
                    name: "Point".to_owned()
                }
            ),
        ]
    );
    assert_eq!(
        interface.input_names(),
        vec!["count", "label", "samples", "level", "totals", "wait", "origin"]
    );
    assert_eq!(
        <many_kinds as Task>::PARAMS,
        &["count", "label", "samples", "level", "totals", "wait", "origin"]
    );
    assert_eq!(interface.output, int(64, false));
    assert_eq!(interface.output_rust_type, "usize");
    assert_eq!(
        interface.input("level").map(|p| p.rust_type),
        Some("Option<u8>")
    );
    assert!(interface.input("nope").is_none());
}

#[test]
fn nested_and_path_types_are_described() {
    let interface = <nested_types as Task>::interface();
    assert_eq!(
        interface.inputs,
        vec![
            param("rows", "Vec<Vec<i64>>", list(list(i64_desc()))),
            param(
                "maybe_names",
                "Option<Vec<String>>",
                optional(list(TypeDesc::String))
            ),
            param(
                "flags",
                "std::collections::BTreeMap<String, bool>",
                map_of(TypeDesc::Bool)
            ),
            param(
                "pair",
                "(i32, f32)",
                TypeDesc::Tuple {
                    of: vec![int(32, true), TypeDesc::Float { bits: 32 }]
                }
            ),
            param("full_path", "std::time::Duration", TypeDesc::Duration),
        ]
    );
    assert_eq!(interface.output, list(optional(int(64, false))));
    assert_eq!(interface.output_rust_type, "Vec<Option<u64>>");
}

#[test]
fn type_descriptions_render_readably() {
    let rendered: Vec<String> = <many_kinds as Task>::interface()
        .inputs
        .iter()
        .map(|p| p.ty.to_string())
        .collect();
    assert_eq!(
        rendered,
        vec![
            "i64",
            "string",
            "list<f64>",
            "optional<u8>",
            "map<string, i64>",
            "duration",
            "serde Point"
        ]
    );
}

#[test]
fn type_descriptions_come_from_describe() {
    assert_eq!(
        <Vec<Option<i64>> as Describe>::type_desc(),
        list(optional(i64_desc()))
    );
    assert_eq!(
        <HashMap<String, Point> as Describe>::type_desc(),
        map_of(TypeDesc::Opaque {
            name: "Point".into()
        })
    );
    assert_eq!(<() as Describe>::type_desc(), TypeDesc::Unit);
    assert_eq!(<bool as Describe>::type_desc(), TypeDesc::Bool);
    assert_eq!(<u16 as Describe>::type_desc(), int(16, false));
}

// ---------------------------------------------------------------------------------------------
// Outputs: T, (), Result<T, E>.

#[test]
fn output_of_a_plain_value_task() {
    let interface = <square as Task>::interface();
    assert_eq!(interface.inputs, vec![param("x", "i64", i64_desc())]);
    assert_eq!(interface.output, i64_desc());
    assert_eq!(interface.output_rust_type, "i64");
    let _: <square as Task>::Output = 1i64;
    let _: <square as Task>::Inputs = (1i64,);
}

#[test]
fn output_of_unit_tasks() {
    for interface in [
        <log_line as Task>::interface(),
        <explicit_unit as Task>::interface(),
    ] {
        assert_eq!(interface.output, TypeDesc::Unit);
        assert_eq!(interface.output_rust_type, "()");
    }
    let _: <log_line as Task>::Output = ();
    let _: <explicit_unit as Task>::Output = ();
}

#[test]
fn output_of_result_tasks_is_the_ok_type() {
    let interface = <half as Task>::interface();
    assert_eq!(interface.output, i64_desc());
    assert_eq!(interface.output_rust_type, "Result<i64, Odd>");
    let _: <half as Task>::Output = 1i64;

    let io = <io_len as Task>::interface();
    assert_eq!(io.output, int(64, false));
    assert_eq!(io.output_rust_type, "std::io::Result<usize>");
    let _: <io_len as Task>::Output = 1usize;
}

#[test]
fn a_task_with_no_parameters() {
    let interface = <answer as Task>::interface();
    assert!(interface.inputs.is_empty());
    assert!(<answer as Task>::PARAMS.is_empty());
    assert_eq!(interface.output, i64_desc());
    let _: <answer as Task>::Inputs = ();
}

// ---------------------------------------------------------------------------------------------
// Metadata.

#[test]
fn a_bare_task_has_default_metadata() {
    assert_eq!(<square as Task>::METADATA, Metadata::DEFAULT);
    let m = <square as Task>::METADATA;
    assert_eq!(m.retries, 0);
    assert_eq!(m.timeout, None);
    assert_eq!(m.cache_version, None);
    assert!(!m.interruptible);
    assert!(m.requests.is_empty());
    assert!(m.limits.is_empty());
    assert!(m.env.is_empty());
}

#[test]
fn each_option_sets_its_metadata_value() {
    assert_eq!(
        <opt_retries as Task>::METADATA,
        Metadata {
            retries: 4,
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <opt_timeout as Task>::METADATA,
        Metadata {
            timeout: Some(Duration::from_secs(90)),
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <opt_timeout_ms as Task>::METADATA.timeout,
        Some(Duration::from_millis(250))
    );
    assert_eq!(
        <opt_cache as Task>::METADATA,
        Metadata {
            cache_version: Some("1.2"),
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <opt_interruptible as Task>::METADATA,
        Metadata {
            interruptible: true,
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(<opt_not_interruptible as Task>::METADATA, Metadata::DEFAULT);
    assert_eq!(<opt_name as Task>::METADATA, Metadata::DEFAULT);
    assert_eq!(<opt_name as Task>::NAME, "etl.clean");
    assert_eq!(
        <opt_requests as Task>::METADATA,
        Metadata {
            requests: Resources {
                cpu: Some("500m"),
                mem: Some("1Gi"),
                gpu: Some("1"),
            },
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <opt_limits as Task>::METADATA,
        Metadata {
            limits: Resources {
                cpu: Some("2"),
                mem: Some("4Gi"),
                gpu: None,
            },
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <opt_env as Task>::METADATA,
        Metadata {
            env: &[("RUST_LOG", "debug"), ("MODE", "fast")],
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(<opt_crate as Task>::METADATA, Metadata::DEFAULT);
    assert_eq!(
        <opt_crate as Task>::NAME,
        concat!(module_path!(), "::opt_crate")
    );
    assert_eq!(opt_crate(5), 5);
}

#[test]
fn all_options_together() {
    assert_eq!(
        <all_options as Task>::METADATA,
        Metadata {
            retries: 2,
            timeout: Some(Duration::from_secs(30)),
            cache_version: Some("1.0"),
            cache_ignore: &[],
            interruptible: true,
            requests: Resources {
                cpu: Some("250m"),
                mem: None,
                gpu: None,
            },
            limits: Resources {
                cpu: None,
                mem: Some("2Gi"),
                gpu: Some("2"),
            },
            env: &[("A", "1")],
        }
    );
    assert_eq!(<all_options as Task>::NAME, "all.options");
    assert_eq!(<all_options as Task>::DOC, "Everything at once.");
    assert_eq!(<all_options as Task>::EXECUTION, Execution::Async);
}

// ---------------------------------------------------------------------------------------------
// NAME, PARAMS, DOC, EXECUTION.

#[test]
fn names_follow_the_module_path() {
    assert_eq!(module_path!(), "integration::task");
    assert_eq!(<square as Task>::NAME, concat!(module_path!(), "::square"));
    assert_eq!(<greet as Task>::NAME, concat!(module_path!(), "::greet"));
    assert_eq!(
        <outer::inner::render as Task>::NAME,
        concat!(module_path!(), "::outer::inner::render")
    );
    assert_eq!(
        <outer::other::render as Task>::NAME,
        concat!(module_path!(), "::outer::other::render")
    );
}

#[test]
fn same_function_name_in_two_modules_gives_two_tasks() {
    assert_eq!(<outer::inner::render as Task>::PARAMS, &["x"]);
    assert_eq!(<outer::other::render as Task>::PARAMS, &["word", "times"]);
    assert_ne!(
        <outer::inner::render as Task>::NAME,
        <outer::other::render as Task>::NAME
    );
    assert_eq!(<outer::inner::render as Task>::DOC, "Nested.");
    assert_eq!(
        <outer::other::render as Task>::DOC,
        "Same function name, other module."
    );
    assert_eq!(outer::inner::render(7), "7");
    assert_eq!(outer::other::render("ab".into(), 2), "abab");
}

#[test]
fn doc_comments_are_kept() {
    assert_eq!(<square as Task>::DOC, "Squares.");
    assert_eq!(
        <many_kinds as Task>::DOC,
        "Takes one parameter of each supported kind.\n\nSecond paragraph of the doc."
    );
    assert_eq!(<log_line as Task>::DOC, "");
}

#[test]
fn execution_follows_async_or_not() {
    assert_eq!(<square as Task>::EXECUTION, Execution::Blocking);
    assert_eq!(<half as Task>::EXECUTION, Execution::Blocking);
    assert_eq!(<greet as Task>::EXECUTION, Execution::Async);
    assert_eq!(<half_async as Task>::EXECUTION, Execution::Async);
}

#[test]
fn params_match_the_interface() {
    fn check<T: Task>() {
        assert_eq!(
            T::PARAMS.to_vec(),
            T::interface().input_names(),
            "{}",
            T::NAME
        );
    }
    check::<many_kinds>();
    check::<nested_types>();
    check::<square>();
    check::<greet>();
    check::<answer>();
    check::<outer::other::render>();
    check::<external_tasks::double>();
    check::<external_tasks::repeat>();
}

// ---------------------------------------------------------------------------------------------
// A task from another crate.

#[test]
fn a_task_from_another_crate_is_described_here() {
    type Double = external_tasks::double;
    assert_eq!(<Double as Task>::NAME, "external_tasks::double");
    assert_eq!(<Double as Task>::PARAMS, &["x"]);
    assert_eq!(<Double as Task>::DOC, "Doubles a number.");
    assert_eq!(<Double as Task>::EXECUTION, Execution::Blocking);
    assert_eq!(
        <Double as Task>::METADATA,
        Metadata {
            retries: 3,
            ..Metadata::DEFAULT
        }
    );
    assert_eq!(
        <Double as Task>::interface(),
        Interface {
            inputs: vec![param("x", "i64", i64_desc())],
            output: i64_desc(),
            output_rust_type: "i64",
        }
    );
    assert_eq!(external_tasks::double(21), 42);

    // Re-exported at the root and reachable by its full path: the same task.
    assert_eq!(<external_tasks::repeat as Task>::NAME, "text.repeat");
    assert_eq!(<external_tasks::text::repeat as Task>::NAME, "text.repeat");
    assert_eq!(
        <external_tasks::repeat as Task>::EXECUTION,
        Execution::Async
    );
    assert_eq!(
        <external_tasks::text::repeat as Task>::interface().inputs,
        vec![
            param("word", "String", TypeDesc::String),
            param("times", "usize", int(64, false)),
        ]
    );

    let div = <external_tasks::checked_div as Task>::interface();
    assert_eq!(div.output, i64_desc());
    assert_eq!(div.output_rust_type, "Result<i64, maptask::TaskError>");
    assert_eq!(
        <external_tasks::checked_div as Task>::METADATA,
        Metadata {
            timeout: Some(Duration::from_secs(1)),
            cache_version: Some("2"),
            ..Metadata::DEFAULT
        }
    );
}

// ---------------------------------------------------------------------------------------------
// The function stays a function; Task::call and Task::call_blocking run it.

#[test]
fn tasks_stay_plain_functions() {
    assert_eq!(square(3), 9);
    assert_eq!(
        futures::executor::block_on(greet("ann".into())),
        "hello ann"
    );
    assert_eq!(half(4).unwrap(), 2);
    assert_eq!(half(3).unwrap_err().to_string(), "3 is odd");
    log_line("x".into());
    assert_eq!(answer(), 42);
}

#[tokio::test]
async fn call_runs_sync_and_async_tasks() {
    assert_eq!(<square as Task>::call((7,)).await, Ok(49));
    assert_eq!(
        <greet as Task>::call(("bo".into(),)).await,
        Ok("hello bo".to_owned())
    );
    assert_eq!(<answer as Task>::call(()).await, Ok(42));
    assert_eq!(<log_line as Task>::call(("x".into(),)).await, Ok(()));
    assert_eq!(<half_async as Task>::call((10,)).await, Ok(5));
    assert_eq!(
        <external_tasks::repeat as Task>::call(("ab".into(), 3)).await,
        Ok("ababab".to_owned())
    );
    // The future is 'static and Send: it can be spawned.
    let handle = tokio::spawn(<square as Task>::call((5,)));
    assert_eq!(handle.await.unwrap(), Ok(25));
}

#[test]
fn call_blocking_runs_sync_and_async_tasks() {
    assert_eq!(<square as Task>::call_blocking((7,)), Ok(49));
    assert_eq!(
        <greet as Task>::call_blocking(("bo".into(),)),
        Ok("hello bo".to_owned())
    );
    assert_eq!(<answer as Task>::call_blocking(()), Ok(42));
    assert_eq!(<half_async as Task>::call_blocking((10,)), Ok(5));
    assert_eq!(<external_tasks::double as Task>::call_blocking((4,)), Ok(8));
    assert_eq!(
        <external_tasks::checked_div as Task>::call_blocking((9, 3)),
        Ok(3)
    );
}

#[tokio::test]
async fn an_err_becomes_a_task_error_with_its_message() {
    for error in [
        <half as Task>::call((3,)).await.unwrap_err(),
        <half as Task>::call_blocking((3,)).unwrap_err(),
        <half_async as Task>::call((3,)).await.unwrap_err(),
    ] {
        assert_eq!(error.message(), "3 is odd");
        assert_eq!(error.to_string(), "3 is odd");
        assert_eq!(error.kind(), FailureKind::Error);
        assert!(!error.is_permanent(), "a returned Err is retryable");
        // The wrapped error is reachable, and is not repeated as a source.
        assert!(error.downcast_ref::<Odd>().is_some());
        assert!(error.source().is_none());
    }
    let io = <io_len as Task>::call_blocking((String::new(),)).unwrap_err();
    assert_eq!(io.message(), "empty path");
    assert!(!io.is_permanent());
    assert_eq!(<io_len as Task>::call_blocking(("abc".into(),)), Ok(3));
}

#[tokio::test]
async fn a_task_error_passes_through_with_its_permanence() {
    let permanent = <permanent_fail as Task>::call((-1,)).await.unwrap_err();
    assert!(permanent.is_permanent());
    assert_eq!(permanent.message(), "-1 is negative");
    assert_eq!(permanent.kind(), FailureKind::Error);

    let retryable = <permanent_fail as Task>::call_blocking((1,)).unwrap_err();
    assert!(!retryable.is_permanent());
    assert_eq!(retryable.message(), "1 is not negative");

    let wrapped = <permanent_wrapped as Task>::call_blocking((5,)).unwrap_err();
    assert!(wrapped.is_permanent());
    assert_eq!(wrapped.message(), "5 is odd");
    assert!(wrapped.downcast_ref::<Odd>().is_some());
    assert!(wrapped.source().is_none());

    let div = <external_tasks::checked_div as Task>::call((1, 0))
        .await
        .unwrap_err();
    assert!(div.is_permanent());
    assert_eq!(div.message(), "division by zero");
}
