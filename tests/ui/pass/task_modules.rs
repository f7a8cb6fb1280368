//! Tasks in nested modules, two with the same function name, at the crate root, re-exported.
use maptask::prelude::*;

#[task]
fn render(x: i64) -> String {
    x.to_string()
}

mod images {
    pub mod resize {
        use maptask::task;
        #[task]
        pub fn render(width: u32, height: u32) -> u64 {
            u64::from(width) * u64::from(height)
        }
    }
}

mod text {
    use maptask::task;
    #[task]
    pub(crate) fn crate_visible(x: i64) -> i64 {
        x
    }
    pub mod inner {
        #[maptask::task]
        pub(super) fn parent_visible(x: i64) -> i64 {
            x
        }
    }
    pub fn parent_map_name() -> String {
        maptask::map_task!(inner::parent_visible).name().to_owned()
    }
    #[task]
    pub fn render(s: String) -> String {
        s.to_uppercase()
    }
    #[task]
    fn private_task(x: i64) -> i64 {
        x
    }
    pub fn private_name() -> &'static str {
        <private_task as maptask::Task>::NAME
    }
}

pub use images::resize::render as render_image;

fn main() {
    assert_eq!(<render as Task>::NAME, concat!(module_path!(), "::render"));
    assert_eq!(<images::resize::render as Task>::NAME, concat!(module_path!(), "::images::resize::render"));
    assert_eq!(<crate::text::render as Task>::NAME, concat!(module_path!(), "::text::render"));
    assert_eq!(<render_image as Task>::PARAMS, &["width", "height"]);
    assert_eq!(text::private_name(), concat!(module_path!(), "::text::private_task"));
    assert_eq!(images::resize::render(2, 3), 6);
    assert_eq!(text::render("a".into()), "A");
    let _by_path = map_task!(crate::images::resize::render, height = 2);
    let _by_alias = map_task!(render_image, width = 2);
    let _root = map_task!(render);
    let _crate_visible = map_task!(text::crate_visible);
    assert!(text::parent_map_name().ends_with("text::inner::parent_visible.map"));
    fn local() {
        // A task inside a function body is reachable from that body.
        #[task]
        fn nested(x: i64) -> i64 {
            x + 1
        }
        let _ = map_task!(nested, concurrency = 1);
        assert_eq!(nested(1), 2);
    }
    local();
}
