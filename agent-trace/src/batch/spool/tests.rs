use super::*;
use crate::model::{SpanData, SpanRecord};
use crate::processor::{BoxFuture, ExportError};
use crate::TraceId;

struct Plain;

impl TracingExporter for Plain {
    fn name(&self) -> &str {
        "plain"
    }
    fn export<'a>(&'a self, _: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Keeps a function span's name, drops its input and output.
struct Private;

impl TracingExporter for Private {
    fn name(&self) -> &str {
        "private"
    }
    fn export<'a>(&'a self, _: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async { Ok(()) })
    }
    fn redact_for_spool(&self, item: &mut ExportItem) {
        if let ExportItem::Span(s) = item {
            if let SpanData::Function(f) = &mut s.data {
                f.input = None;
                f.output = None;
            }
        }
    }
}

fn item() -> ExportItem {
    let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("s"));
    // JSON keeps microseconds, as the OpenAI format does.
    r.started_at = crate::Timestamp::from_unix_nanos(r.started_at.unix_nanos() / 1000 * 1000);
    ExportItem::Span(r)
}

fn open(dir: &Path, max: u64) -> Spool {
    Spool::open(dir, max, Arc::new(Plain)).unwrap()
}

fn segments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("seg-"))
        .collect();
    names.sort();
    names
}

#[test]
fn keeps_order_across_reopen_and_respects_cap() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let a = vec![item(), item()];
    let b = vec![item()];
    {
        let mut s = open(dir, 1 << 20);
        s.push(&a).unwrap();
        s.push(&b).unwrap();
    }
    fs::write(dir.join("seg-00000000000000000099.jsonl.tmp"), "partial").unwrap();
    let mut s = open(dir, 1 << 20);
    assert_eq!(s.items(), 3);
    assert!(!dir.join("seg-00000000000000000099.jsonl.tmp").exists());
    assert_eq!(s.front().unwrap().unwrap().0, a);
    s.pop_front();
    assert_eq!(s.front().unwrap().unwrap().0, b);
    s.pop_front();
    assert!(s.is_empty());
    drop(s);
    let mut tiny = open(dir, 10);
    assert!(matches!(tiny.push(&a), Err(SpoolError::Full { .. })));
    // Refused: no file left behind.
    assert!(segments(dir).is_empty(), "{:?}", segments(dir));
}

#[test]
fn the_cap_counts_blocks_on_disk_not_json_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let one = vec![item()];
    let json_len = serde_json::to_string(&one[0]).unwrap().len() as u64 + 1;
    let mut s = open(dir.path(), 1 << 20);
    s.push(&one).unwrap();
    let on_disk = fs::File::open(dir.path().join(dir::segment_name(0)))
        .and_then(|f| dir::disk_bytes(&f))
        .unwrap();
    assert!(on_disk >= json_len, "{on_disk} < {json_len}");
    assert_eq!(s.bytes, on_disk);
    drop(s);
    // Room for ten segments by their JSON length, for fewer by their blocks.
    let mut s = open(dir.path(), on_disk + 10 * json_len);
    let mut pushed = 0;
    while s.push(&one).is_ok() {
        pushed += 1;
    }
    assert!(
        pushed < 10,
        "{pushed} segments in a cap of ten JSON lengths"
    );
    assert!(s.bytes <= s.max_bytes);
}

#[test]
fn lines_that_are_not_utf8_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let batch = vec![item(), item(), item()];
    {
        let mut s = open(dir.path(), 1 << 20);
        s.push(&batch).unwrap();
    }
    let path = dir.path().join(dir::segment_name(0));
    let text = fs::read(&path).unwrap();
    let mut damaged = b"{\"object\":\"trace.span\",\"id\":\"\xff\xfe\"}\n".to_vec();
    damaged.extend_from_slice(&text);
    fs::write(&path, damaged).unwrap();
    let s = open(dir.path(), 1 << 20);
    assert_eq!(s.items(), 4);
    let (items, bad) = s.front().unwrap().unwrap();
    assert_eq!((items, bad), (batch, 1));
}

#[test]
fn an_unreadable_segment_is_set_aside_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let batch = vec![item(), item()];
    {
        let mut s = open(dir.path(), 1 << 20);
        s.push(&batch).unwrap();
        s.push(&batch).unwrap();
    }
    // A directory where a segment file should be: reading it fails (also for root, which
    // permissions would not stop).
    let bad = dir.path().join(dir::segment_name(0));
    fs::remove_file(&bad).unwrap();
    fs::create_dir(&bad).unwrap();
    let s = open(dir.path(), 1 << 20);
    assert_eq!(s.skipped_segments(), 1);
    assert_eq!(s.items(), 2);
    assert!(dir
        .path()
        .join(format!("{}.bad", dir::segment_name(0)))
        .exists());
    drop(s);
    // Set aside: not reported again.
    assert_eq!(open(dir.path(), 1 << 20).skipped_segments(), 0);
}

#[test]
fn a_second_spool_on_the_directory_writes_elsewhere_and_its_orphans_are_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (vec![item()], vec![item(), item()]);
    let mut first = open(dir.path(), 1 << 20);
    let mut second = open(dir.path(), 1 << 20);
    assert!(!first.private && second.private);
    first.push(&a).unwrap();
    second.push(&b).unwrap();
    assert_ne!(first.root, second.root);
    // While the second one lives, a third sees its directory as taken.
    let third = open(dir.path(), 1 << 20);
    assert_eq!(third.items(), 0);
    drop(third);
    drop(second);
    drop(first);
    // Both gone: the next one owns the directory and adopts the orphan's segments.
    let mut next = open(dir.path(), 1 << 20);
    assert!(!next.private);
    assert_eq!(next.items(), 3);
    assert_eq!(next.front().unwrap().unwrap().0, a);
    next.pop_front();
    assert_eq!(next.front().unwrap().unwrap().0, b);
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("proc-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_empty_private_directory_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), 1 << 20);
    let second = open(dir.path(), 1 << 20);
    let root = second.root.clone();
    assert!(root.exists());
    drop(second);
    assert!(!root.exists());
    drop(first);
}

#[test]
fn the_exporters_redaction_applies_before_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), 1 << 20, Arc::new(Private)).unwrap();
    let f = crate::model::FunctionSpanData {
        name: "lookup".into(),
        input: Some("my card number".into()),
        output: Some("the secret answer".into()),
        ..Default::default()
    };
    let span = SpanRecord::new(TraceId::random(), None, SpanData::Function(f));
    s.push(&[ExportItem::Span(span)]).unwrap();
    let text = fs::read_to_string(dir.path().join(dir::segment_name(0))).unwrap();
    assert!(text.contains("lookup"), "{text}");
    assert!(
        !text.contains("card number") && !text.contains("secret answer"),
        "{text}"
    );
}

#[test]
fn a_panicking_redaction_spools_nothing() {
    struct Bad;
    impl TracingExporter for Bad {
        fn name(&self) -> &str {
            "bad"
        }
        fn export<'a>(&'a self, _: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
            Box::pin(async { Ok(()) })
        }
        fn redact_for_spool(&self, _: &mut ExportItem) {
            panic!("redaction bug");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), 1 << 20, Arc::new(Bad)).unwrap();
    assert!(matches!(
        s.push(&[item()]),
        Err(SpoolError::Redaction { .. })
    ));
    assert!(segments(dir.path()).is_empty());
}
