//! The container arguments of `map-execute` and `execute`, parsed and written back.
//!
//! ```text
//! <binary> map-execute --inputs {{.input}} --output-prefix {{.outputPrefix}}
//!   --raw-output-data-prefix {{.rawOutputDataPrefix}} --checkpoint-path {{.checkpointOutputPrefix}}
//!   --prev-checkpoint {{.prevCheckpointPrefix}} --resolver maptask -- vars <bound> task-name <name>
//! ```
//!
//! The part before `--` is flytekit's, so that propeller fills the same placeholders. After it
//! comes our loader: `vars` is the task's bound parameter names joined by commas (`""` for
//! none; a Rust identifier never holds a comma), then `task-name`, the registered name. `execute`
//! (a plain task) has no `vars`.

use std::fmt;

/// A parsed command line: one of the entrypoint's subcommands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `map-execute` or `execute`.
    Execute(ExecuteArgs),
    /// `collect`.
    Collect(CollectArgs),
}

impl Command {
    /// Parses the arguments after the binary's name, starting at the subcommand.
    pub fn parse<I, S>(args: I) -> Result<Command, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        if args.first().map(String::as_str) == Some("collect") {
            CollectArgs::parse(args).map(Command::Collect)
        } else {
            ExecuteArgs::parse(args).map(Command::Execute)
        }
    }
}

/// The arguments of `collect`, which assembles a map's output after its elements ran:
/// `collect --output-prefix <uri> --size <n> --min-successes <m> --task-name <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectArgs {
    /// The map's output prefix: elements under `<prefix>/<i>/`, the result at
    /// `<prefix>/outputs.pb`.
    pub output_prefix: String,
    /// The number of elements.
    pub size: usize,
    /// The successes required.
    pub min_successes: usize,
    /// The mapped task's registered name, whose interface names the outputs.
    pub task_name: String,
}

impl CollectArgs {
    /// Parses `collect` and its options.
    ///
    /// ```
    /// use maptask_flyte::entrypoint::args::CollectArgs;
    /// let args = CollectArgs::parse(["collect", "--output-prefix", "s3://b/out", "--size", "3",
    ///     "--min-successes", "2", "--task-name", "app.wf.t"]).unwrap();
    /// assert_eq!((args.size, args.min_successes), (3, 2));
    /// ```
    pub fn parse<I, S>(args: I) -> Result<CollectArgs, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into);
        match args.next().as_deref() {
            Some("collect") => {}
            other => {
                return Err(ArgsError::Subcommand {
                    given: other.map(str::to_owned),
                })
            }
        }
        let [mut prefix, mut size, mut min, mut task] = [None, None, None, None];
        while let Some(option) = args.next() {
            let slot = match option.as_str() {
                "--output-prefix" => &mut prefix,
                "--size" => &mut size,
                "--min-successes" => &mut min,
                "--task-name" => &mut task,
                _ => {
                    return Err(ArgsError::UnknownOption {
                        option,
                        command: "collect",
                    })
                }
            };
            let value = args.next().ok_or_else(|| ArgsError::MissingValue {
                option: option.clone(),
            })?;
            if slot.replace(value).is_some() {
                return Err(ArgsError::Repeated { option });
            }
        }
        let required = |value: Option<String>, option: &'static str| {
            value.ok_or(ArgsError::Missing {
                option,
                command: "collect",
            })
        };
        let number = |value: String, option: &'static str| {
            value
                .parse::<usize>()
                .map_err(|_| ArgsError::NotANumber { option, value })
        };
        Ok(CollectArgs {
            output_prefix: required(prefix, "--output-prefix")?,
            size: number(required(size, "--size")?, "--size")?,
            min_successes: number(required(min, "--min-successes")?, "--min-successes")?,
            task_name: required(task, "--task-name")?,
        })
    }
}

/// The resolver name written after `--resolver`.
pub const RESOLVER: &str = "maptask";

/// Which entrypoint runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `map-execute`: one element of a map task, chosen by the array index.
    Map,
    /// `execute`: a plain task, once.
    Single,
}

impl Mode {
    /// The subcommand: `map-execute` or `execute`.
    pub fn subcommand(self) -> &'static str {
        match self {
            Mode::Map => "map-execute",
            Mode::Single => "execute",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.subcommand())
    }
}

/// The parsed arguments of `map-execute` or `execute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteArgs {
    /// Which entrypoint.
    pub mode: Mode,
    /// `--inputs`: the `inputs.pb` to read.
    pub inputs: String,
    /// `--output-prefix`: where `outputs.pb` or `error.pb` goes (under `<i>/` for a map).
    pub output_prefix: String,
    /// `--raw-output-data-prefix`: accepted for propeller's template; a task here writes no raw
    /// data (offloaded files are not supported), as flytekit's map-execute never does either.
    pub raw_output_data_prefix: Option<String>,
    /// `--checkpoint-path`: accepted for propeller's template; tasks have no checkpoint API.
    pub checkpoint_path: Option<String>,
    /// `--prev-checkpoint`: accepted for propeller's template; tasks have no checkpoint API.
    pub prev_checkpoint: Option<String>,
    /// The bound parameter names (`vars`), sorted as written; only for `map-execute`.
    pub bound: Vec<String>,
    /// The task's registered name.
    pub task_name: String,
}

/// Arguments that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// No subcommand, or an unknown one.
    #[error("expected a subcommand, `map-execute`, `execute` or `collect`, got {}", given.as_deref().map_or("nothing".to_owned(), |g| format!("`{g}`")))]
    Subcommand {
        /// What was given.
        given: Option<String>,
    },
    /// An option that takes a value came last.
    #[error("`{option}` needs a value")]
    MissingValue {
        /// The option.
        option: String,
    },
    /// An option this entrypoint does not know.
    #[error("unknown option `{option}` for `{command}`")]
    UnknownOption {
        /// The option.
        option: String,
        /// The subcommand.
        command: &'static str,
    },
    /// An option given twice.
    #[error("`{option}` is given twice")]
    Repeated {
        /// The option.
        option: String,
    },
    /// A required option or loader key is absent.
    #[error("`{command}` needs `{option}`")]
    Missing {
        /// The option or key.
        option: &'static str,
        /// The subcommand.
        command: &'static str,
    },
    /// A resolver other than ours.
    #[error("`--resolver {given}` is not this binary's; expected `--resolver {RESOLVER}`")]
    Resolver {
        /// The resolver given.
        given: String,
    },
    /// A loader key after `--` this entrypoint does not know.
    #[error("unknown loader argument `{key}` after `--` for `{mode}`; expected {expected}")]
    UnknownLoaderKey {
        /// The key.
        key: String,
        /// The subcommand.
        mode: Mode,
        /// The keys it takes.
        expected: &'static str,
    },
    /// An option that takes a number got something else.
    #[error("`{option}` takes a non-negative integer, got `{value}`")]
    NotANumber {
        /// The option.
        option: &'static str,
        /// What was given.
        value: String,
    },
    /// A malformed bound name in `vars`.
    #[error("`vars {given}`: `{name}` is not a parameter name")]
    BadVar {
        /// The whole `vars` value.
        given: String,
        /// The offending name.
        name: String,
    },
}

impl ExecuteArgs {
    /// Parses the arguments after the binary's name, starting at the subcommand.
    ///
    /// ```
    /// use maptask_flyte::entrypoint::args::{ExecuteArgs, Mode};
    /// let args = ExecuteArgs::parse([
    ///     "map-execute", "--inputs", "in.pb", "--output-prefix", "out", "--resolver", "maptask",
    ///     "--", "vars", "factor", "task-name", "app.wf.scale",
    /// ]).unwrap();
    /// assert_eq!(args.mode, Mode::Map);
    /// assert_eq!(args.bound, ["factor"]);
    /// assert_eq!(args.task_name, "app.wf.scale");
    /// ```
    pub fn parse<I, S>(args: I) -> Result<ExecuteArgs, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into);
        let mode = match args.next().as_deref() {
            Some("map-execute") => Mode::Map,
            Some("execute") => Mode::Single,
            other => {
                return Err(ArgsError::Subcommand {
                    given: other.map(str::to_owned),
                })
            }
        };
        let mut options = Options::default();
        let mut loader = Vec::new();
        while let Some(arg) = args.next() {
            if arg == "--" {
                loader.extend(args.by_ref());
                break;
            }
            let (option, inline) = match arg.split_once('=') {
                Some((o, v)) if o.starts_with("--") => (o.to_owned(), Some(v.to_owned())),
                _ => (arg, None),
            };
            let slot = match option.as_str() {
                "--inputs" => &mut options.inputs,
                "--output-prefix" => &mut options.output_prefix,
                "--raw-output-data-prefix" => &mut options.raw_output_data_prefix,
                "--checkpoint-path" => &mut options.checkpoint_path,
                "--prev-checkpoint" => &mut options.prev_checkpoint,
                "--resolver" => &mut options.resolver,
                _ => {
                    return Err(ArgsError::UnknownOption {
                        option,
                        command: mode.subcommand(),
                    })
                }
            };
            let value = match inline {
                Some(v) => v,
                None => args.next().ok_or_else(|| ArgsError::MissingValue {
                    option: option.clone(),
                })?,
            };
            if slot.replace(value).is_some() {
                return Err(ArgsError::Repeated { option });
            }
        }
        if let Some(resolver) = &options.resolver {
            if resolver != RESOLVER {
                return Err(ArgsError::Resolver {
                    given: resolver.clone(),
                });
            }
        }
        let (vars, task_name) = parse_loader(mode, loader)?;
        let bound = match (mode, vars) {
            (Mode::Map, None) => {
                return Err(ArgsError::Missing {
                    option: "vars",
                    command: mode.subcommand(),
                })
            }
            (Mode::Map, Some(vars)) => parse_vars(&vars)?,
            (Mode::Single, _) => Vec::new(),
        };
        Ok(ExecuteArgs {
            mode,
            inputs: options.inputs.ok_or(ArgsError::Missing {
                option: "--inputs",
                command: mode.subcommand(),
            })?,
            output_prefix: options.output_prefix.ok_or(ArgsError::Missing {
                option: "--output-prefix",
                command: mode.subcommand(),
            })?,
            raw_output_data_prefix: options.raw_output_data_prefix,
            checkpoint_path: options.checkpoint_path,
            prev_checkpoint: options.prev_checkpoint,
            bound,
            task_name: task_name.ok_or(ArgsError::Missing {
                option: "task-name",
                command: mode.subcommand(),
            })?,
        })
    }

    /// The arguments, from the subcommand on, that [`ExecuteArgs::parse`] reads back equal.
    pub fn to_args(&self) -> Vec<String> {
        let mut out = vec![
            self.mode.subcommand().to_owned(),
            "--inputs".to_owned(),
            self.inputs.clone(),
            "--output-prefix".to_owned(),
            self.output_prefix.clone(),
        ];
        for (option, value) in [
            ("--raw-output-data-prefix", &self.raw_output_data_prefix),
            ("--checkpoint-path", &self.checkpoint_path),
            ("--prev-checkpoint", &self.prev_checkpoint),
        ] {
            if let Some(value) = value {
                out.push(option.to_owned());
                out.push(value.clone());
            }
        }
        out.push("--resolver".to_owned());
        out.push(RESOLVER.to_owned());
        out.push("--".to_owned());
        if self.mode == Mode::Map {
            out.push("vars".to_owned());
            out.push(self.bound.join(","));
        }
        out.push("task-name".to_owned());
        out.push(self.task_name.clone());
        out
    }
}

/// The container args of a template, after the binary's path, with propeller's placeholders:
/// what the serializer writes into a `container_array` (mode `Map`) or container task.
///
/// `bound` is sorted, as flytekit sorts its `vars`.
///
/// ```
/// use maptask_flyte::entrypoint::args::{template_args, Mode};
/// let args = template_args(Mode::Map, &["factor"], "app.wf.scale");
/// assert_eq!(args[0], "map-execute");
/// assert_eq!(&args[args.len() - 5..], ["--", "vars", "factor", "task-name", "app.wf.scale"]);
/// ```
pub fn template_args(mode: Mode, bound: &[&str], task_name: &str) -> Vec<String> {
    let mut bound: Vec<String> = bound.iter().map(|s| (*s).to_owned()).collect();
    bound.sort();
    ExecuteArgs {
        mode,
        inputs: "{{.input}}".to_owned(),
        output_prefix: "{{.outputPrefix}}".to_owned(),
        raw_output_data_prefix: Some("{{.rawOutputDataPrefix}}".to_owned()),
        checkpoint_path: Some("{{.checkpointOutputPrefix}}".to_owned()),
        prev_checkpoint: Some("{{.prevCheckpointPrefix}}".to_owned()),
        bound,
        task_name: task_name.to_owned(),
    }
    .to_args()
}

#[derive(Default)]
struct Options {
    inputs: Option<String>,
    output_prefix: Option<String>,
    raw_output_data_prefix: Option<String>,
    checkpoint_path: Option<String>,
    prev_checkpoint: Option<String>,
    resolver: Option<String>,
}

/// Reads `vars <v>` and `task-name <n>` pairs after `--`.
fn parse_loader(
    mode: Mode,
    loader: Vec<String>,
) -> Result<(Option<String>, Option<String>), ArgsError> {
    let expected = match mode {
        Mode::Map => "`vars <names>` and `task-name <name>`",
        Mode::Single => "`task-name <name>`",
    };
    let mut vars = None;
    let mut task_name = None;
    let mut items = loader.into_iter();
    while let Some(key) = items.next() {
        let slot = match (key.as_str(), mode) {
            ("vars", Mode::Map) => &mut vars,
            ("task-name", _) => &mut task_name,
            _ => {
                return Err(ArgsError::UnknownLoaderKey {
                    key,
                    mode,
                    expected,
                })
            }
        };
        let value = items.next().ok_or_else(|| ArgsError::MissingValue {
            option: key.clone(),
        })?;
        if slot.replace(value).is_some() {
            return Err(ArgsError::Repeated { option: key });
        }
    }
    Ok((vars, task_name))
}

/// `""` is no bound name; otherwise comma-separated identifiers.
fn parse_vars(vars: &str) -> Result<Vec<String>, ArgsError> {
    if vars.is_empty() {
        return Ok(Vec::new());
    }
    vars.split(',')
        .map(|name| {
            let ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if ok {
                Ok(name.to_owned())
            } else {
                Err(ArgsError::BadVar {
                    given: vars.to_owned(),
                    name: name.to_owned(),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map_args(tail: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "map-execute",
            "--inputs",
            "/r/inputs.pb",
            "--output-prefix",
            "/r/out",
            "--raw-output-data-prefix",
            "/r/raw",
            "--checkpoint-path",
            "/r/raw/_flytecheckpoints",
            "--prev-checkpoint",
            "\"\"",
            "--resolver",
            "maptask",
            "--",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(tail.iter().map(|s| (*s).to_owned()));
        args
    }

    #[test]
    fn the_fixture_shape_parses() {
        let args = ExecuteArgs::parse(map_args(&["vars", "", "task-name", "app.wf.t"])).unwrap();
        assert_eq!(args.inputs, "/r/inputs.pb");
        assert_eq!(args.output_prefix, "/r/out");
        assert_eq!(args.prev_checkpoint.as_deref(), Some("\"\""));
        assert!(args.bound.is_empty());
        assert_eq!(args.task_name, "app.wf.t");
        let args = ExecuteArgs::parse(map_args(&["vars", "b,factor", "task-name", "x"])).unwrap();
        assert_eq!(args.bound, ["b", "factor"]);
    }

    #[test]
    fn template_args_keep_propellers_placeholders() {
        assert_eq!(
            template_args(Mode::Map, &["z", "a"], "app.t").join(" "),
            "map-execute --inputs {{.input}} --output-prefix {{.outputPrefix}} \
             --raw-output-data-prefix {{.rawOutputDataPrefix}} \
             --checkpoint-path {{.checkpointOutputPrefix}} \
             --prev-checkpoint {{.prevCheckpointPrefix}} --resolver maptask -- \
             vars a,z task-name app.t"
        );
        assert_eq!(
            template_args(Mode::Single, &[], "app.t")[13..],
            ["--", "task-name", "app.t"]
        );
    }

    #[test]
    fn bad_arguments_name_what_is_wrong() {
        let err = |args: Vec<String>| ExecuteArgs::parse(args).unwrap_err().to_string();
        assert_eq!(
            err(vec![]),
            "expected a subcommand, `map-execute`, `execute` or `collect`, got nothing"
        );
        assert_eq!(
            err(vec!["run".into()]),
            "expected a subcommand, `map-execute`, `execute` or `collect`, got `run`"
        );
        assert_eq!(
            err(map_args(&["task-name", "x"])),
            "`map-execute` needs `vars`"
        );
        assert_eq!(
            err(map_args(&["vars", ""])),
            "`map-execute` needs `task-name`"
        );
        assert_eq!(
            err(map_args(&["vars", "a,,b", "task-name", "x"])),
            "`vars a,,b`: `` is not a parameter name"
        );
        assert_eq!(
            err(map_args(&["vars", "", "task-module", "app", "task-name", "x"])),
            "unknown loader argument `task-module` after `--` for `map-execute`; expected `vars <names>` and `task-name <name>`"
        );
        assert_eq!(
            err(vec!["execute".into(), "--inputs".into()]),
            "`--inputs` needs a value"
        );
        assert_eq!(
            err(vec!["execute".into(), "--bogus".into(), "1".into()]),
            "unknown option `--bogus` for `execute`"
        );
        assert_eq!(
            err(vec![
                "execute".into(),
                "--resolver".into(),
                "flytekit.core.legacy_map_task.MapTaskResolver".into()
            ]),
            "`--resolver flytekit.core.legacy_map_task.MapTaskResolver` is not this binary's; expected `--resolver maptask`"
        );
        assert_eq!(
            err(vec![
                "execute".into(),
                "--inputs=a".into(),
                "--inputs".into(),
                "b".into()
            ]),
            "`--inputs` is given twice"
        );
        assert_eq!(
            err(vec![
                "execute".into(),
                "--inputs=a".into(),
                "--".into(),
                "task-name".into(),
                "t".into()
            ]),
            "`execute` needs `--output-prefix`"
        );
    }

    #[test]
    fn collect_arguments() {
        let parse = |args: &[&str]| Command::parse(args.iter().copied());
        let err = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert_eq!(
            parse(&[
                "collect",
                "--task-name",
                "t",
                "--size",
                "3",
                "--min-successes",
                "0",
                "--output-prefix",
                "/o"
            ]),
            Ok(Command::Collect(CollectArgs {
                output_prefix: "/o".into(),
                size: 3,
                min_successes: 0,
                task_name: "t".into()
            }))
        );
        assert_eq!(
            err(&["collect", "--output-prefix", "/o", "--size", "-1"]),
            "`--size` takes a non-negative integer, got `-1`"
        );
        assert_eq!(
            err(&[
                "collect",
                "--size",
                "1",
                "--min-successes",
                "1",
                "--task-name",
                "t"
            ]),
            "`collect` needs `--output-prefix`"
        );
        assert_eq!(
            err(&["collect", "--vars", "a"]),
            "unknown option `--vars` for `collect`"
        );
        assert!(matches!(
            parse(&[
                "execute",
                "--inputs",
                "i",
                "--output-prefix",
                "o",
                "--",
                "task-name",
                "t"
            ]),
            Ok(Command::Execute(_))
        ));
    }

    proptest! {
        /// Every set of bound names, including none, and any paths survive the round trip.
        #[test]
        fn arguments_round_trip(
            map in any::<bool>(),
            bound in proptest::collection::btree_set("[a-z_][a-z0-9_]{0,8}", 0..5),
            inputs in "\\PC{0,20}",
            prefix in "\\PC{0,20}",
            task in "[a-z.]{1,20}",
            prev in proptest::option::of("\\PC{0,6}"),
        ) {
            let mode = if map { Mode::Map } else { Mode::Single };
            let args = ExecuteArgs {
                mode,
                inputs,
                output_prefix: prefix,
                raw_output_data_prefix: None,
                checkpoint_path: Some("c".into()),
                prev_checkpoint: prev,
                bound: if map { bound.into_iter().collect() } else { Vec::new() },
                task_name: task,
            };
            prop_assert_eq!(ExecuteArgs::parse(args.to_args()), Ok(args));
        }
    }
}
