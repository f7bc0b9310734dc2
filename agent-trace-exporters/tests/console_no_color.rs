//! `NO_COLOR` (https://no-color.org) turns automatic colour off. This binary has a single test
//! because it sets an environment variable for the whole process.
#![cfg(feature = "console")]

use agent_trace_exporters::console::ConsoleExporter;

#[test]
fn no_color_disables_automatic_colour_but_not_forced_colour() {
    std::env::set_var("NO_COLOR", "1");
    for e in [
        ConsoleExporter::new(),
        ConsoleExporter::builder().to_stderr().build(),
        ConsoleExporter::builder()
            .to_writer(std::io::sink())
            .build(),
    ] {
        let debug = format!("{e:?}");
        assert!(debug.contains("color: false"), "{debug}");
    }
    let forced = format!("{:?}", ConsoleExporter::builder().color(true).build());
    assert!(forced.contains("color: true"), "{forced}");
}
