//! A container image's binary: every task of the `flyte_app` library, run through the Flyte
//! entrypoint (`flyte-app map-execute …` or `flyte-app execute …`).

// Linking the library is what registers its tasks; nothing else in it is called from here.
extern crate flyte_app;

fn main() -> std::process::ExitCode {
    maptask_flyte::entrypoint::main()
}
