//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) loads the file with no network, the page draws the selected trace's spans and
//! says how many on `<body data-rendered-spans>`, and a screenshot is taken.
//!
//! Without Chromium the tests print a note and pass, unless `AGENT_TRACE_REQUIRE_CHROMIUM=1`
//! (CI sets it), where a missing browser fails.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The most a Chromium run may take before it is killed (a hang must not stall CI).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Chromium, or `None` (with a note) when it is missing and not required.
fn browser_or_skip() -> Option<PathBuf> {
    match chromium() {
        Some(p) => Some(p),
        None if std::env::var("AGENT_TRACE_REQUIRE_CHROMIUM").as_deref() == Ok("1") => {
            panic!("AGENT_TRACE_REQUIRE_CHROMIUM=1 but no `chromium` on PATH: apt-get install chromium")
        }
        None => {
            eprintln!("note: no `chromium` on PATH; the browser test of the HTML report is skipped (set AGENT_TRACE_REQUIRE_CHROMIUM=1 to make this a failure)");
            None
        }
    }
}

/// Runs headless Chromium with `args` on `url`, killing it past the timeout; returns stdout.
fn headless(browser: &Path, profile: &Path, args: &[&str], url: &str) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

fn body_attr(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    Some(body[start..start + body[start..].find('"')?].to_owned())
}

fn span_count(path: &str, trace_id: Option<&str>) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["object"] == "trace.span")
        .filter(|v| trace_id.is_none_or(|t| v["trace_id"] == t))
        .count()
}

fn write_report(dir: &tempfile::TempDir, input: &str) -> PathBuf {
    let out = at(dir, "report.html");
    let o = run(&["report", input, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn the_report_renders_every_span_in_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let started = Instant::now();
    let dir = tempdir();
    let html = write_report(&dir, &sdk());
    let url = format!("file://{}", html.display());
    let dom = headless(&browser, &at(&dir, "profile"), &["--dump-dom"], &url);
    let rendered = body_attr(&dom, "data-rendered-spans").expect("the page ran its script");
    assert_eq!(
        rendered,
        span_count(&sdk(), None).to_string(),
        "spans drawn"
    );
    assert_eq!(
        body_attr(&dom, "data-trace-id").as_deref(),
        Some("trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff")
    );
    // The timeline's labels, the trace list and the statistics made it into the DOM.
    for text in [
        "Triage → Billing",
        "✗ refund",
        "peers_check_workflow",
        "Critical path of peers_check_workflow",
        "1× Error running tool",
        "gpt-4o-mini",
    ] {
        assert!(dom.contains(text), "{text} not in the rendered page");
    }

    // A screenshot: a real PNG of the requested size.
    let png = at(&dir, "report.png");
    headless(
        &browser,
        &at(&dir, "profile"),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,900",
            "--hide-scrollbars",
        ],
        &url,
    );
    let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
    assert!(bytes.len() > 10_000, "{} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 900));
    if let Some(keep) = std::env::var_os("AGENT_TRACE_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
    eprintln!("browser test took {:?}", started.elapsed());
}

#[test]
fn the_address_selects_a_trace_of_our_files() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempdir();
    let html = write_report(&dir, &ours());
    let rows: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["list", "--json", &ours()]))).unwrap();
    let id = rows[1]["id"].as_str().unwrap();
    let url = format!("file://{}#trace={id}", html.display());
    let dom = headless(&browser, &at(&dir, "profile"), &["--dump-dom"], &url);
    assert_eq!(body_attr(&dom, "data-trace-id").as_deref(), Some(id));
    assert_eq!(
        body_attr(&dom, "data-rendered-spans"),
        Some(span_count(&ours(), Some(id)).to_string())
    );
    assert!(dom.contains("refund service timed out"));
}
