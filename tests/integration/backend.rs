//! A runtime's map backend receives every `map_task!` map (issue 10): the task's name, the
//! mapped names, each element's whole inputs, and gives back each element's output.

use std::any::Any;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use maptask::prelude::*;
use maptask::runtime::{
    MapBackend, MapOutcome, MapReport, MapStatus, RemoteMap, RunOptions, Runtime,
};

/// Scales.
#[task]
fn scale_on_backend(x: i64, factor: i64) -> i64 {
    x * factor
}

/// Records what it was given and answers `x * factor + 1` for even `x`, a failure otherwise,
/// so that its outputs cannot come from the engine.
#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<Seen>>,
}

/// The map's name, the task's name, the mapped names and each element's inputs.
type Seen = (String, String, Vec<&'static str>, Vec<(i64, i64)>);

impl MapBackend for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn run_map(
        &self,
        _runtime: &Runtime,
        map: RemoteMap,
        _options: RunOptions,
    ) -> futures::future::BoxFuture<'static, MapOutcome<Box<dyn Any + Send>>> {
        let inputs: Vec<(i64, i64)> = map
            .elements
            .into_iter()
            .map(|e| *e.downcast::<(i64, i64)>().unwrap())
            .collect();
        self.seen.lock().unwrap().push((
            map.spec.name.clone(),
            map.task.to_owned(),
            map.mapped.to_vec(),
            inputs.clone(),
        ));
        let outputs: Vec<Option<Box<dyn Any + Send>>> = inputs
            .iter()
            .map(|&(x, factor)| {
                (x % 2 == 0).then(|| Box::new(x * factor + 1) as Box<dyn Any + Send>)
            })
            .collect();
        let n = outputs.len();
        let report = MapReport::unstarted(
            &map.spec.name,
            n,
            0,
            MapStatus::Succeeded,
            Default::default(),
        );
        async move {
            MapOutcome {
                result: Ok(outputs),
                report,
            }
        }
        .boxed()
    }
}

#[tokio::test]
async fn a_runtime_with_a_backend_hands_it_the_map() {
    let fake = Arc::new(Fake::default());
    let runtime = Runtime::builder().backend(fake.clone()).build();
    let map = map_task!(scale_on_backend, min_successes = 1, factor = 10).with_runtime(runtime);
    let out = map.call(vec![2, 3, 4]).await.unwrap();
    assert_eq!(out, vec![Some(21), None, Some(41)]);
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (name, task, mapped, inputs) = &seen[0];
    assert_eq!(name, map.name());
    assert_eq!(task, <scale_on_backend as Task>::NAME);
    assert_eq!(mapped, &vec!["x"]);
    assert_eq!(inputs, &vec![(2, 10), (3, 10), (4, 10)]);
}
