use super::*;
use crate::assemble::{build, Assembler, Orphans};
use crate::input::Diagnostics;
use crate::parse::{Record, SpanLine, TraceLine};

fn span(id: &str, parent: Option<&str>, start: i64, end: i64) -> SpanLine {
    SpanLine {
        id: id.into(),
        trace_id: "trace_t".into(),
        parent_id: parent.map(Into::into),
        start,
        end,
        kind: "function",
        name: id.into(),
        model: None,
        tokens: None,
        error: None,
        raw: None,
        line: 0,
    }
}

fn tree(spans: Vec<SpanLine>) -> Trace {
    build(None, "trace_t", spans, 0, Orphans::Skip, &mut |s, _| {
        panic!("unexpected orphan {}", s.id)
    })
}

fn names(t: &Trace, steps: &[Step]) -> Vec<(String, i64)> {
    steps
        .iter()
        .map(|s| (t.spans[s.span].id.clone(), s.on_path))
        .collect()
}

fn own(t: &Trace, id: &str) -> i64 {
    let i = t.spans.iter().position(|s| s.id == id).unwrap();
    self_times(t)[i]
}

#[test]
fn union_counts_overlaps_once_and_clips() {
    assert_eq!(
        union_len([(10, 30), (20, 50), (60, 70)].into_iter(), 0, 100),
        50
    );
    assert_eq!(union_len([(0, 10), (10, 20)].into_iter(), 0, 100), 20);
    assert_eq!(union_len([(-50, 10), (90, 200)].into_iter(), 0, 100), 20);
    assert_eq!(union_len([(5, 5), (30, 20)].into_iter(), 0, 100), 0);
    assert_eq!(union_len(std::iter::empty(), 0, 100), 0);
    assert_eq!(union_len([(0, 100), (10, 20)].into_iter(), 0, 100), 100);
}

#[test]
fn self_time_subtracts_children_counting_parallel_ones_once() {
    let t = tree(vec![
        span("root", None, 0, 100),
        span("a", Some("root"), 10, 30),
        span("b", Some("root"), 20, 50),
        span("c", Some("root"), 60, 70),
        span("a1", Some("a"), 12, 18),
    ]);
    assert_eq!(own(&t, "root"), 50);
    assert_eq!(own(&t, "a"), 14);
    assert_eq!(own(&t, "a1"), 6);
    // A child running past its parent is clipped to the parent.
    let t = tree(vec![span("p", None, 0, 10), span("late", Some("p"), 5, 50)]);
    assert_eq!(own(&t, "p"), 5);
}

#[test]
fn critical_path_of_sequential_children_walks_all_of_them() {
    let t = tree(vec![
        span("root", None, 0, 100),
        span("a", Some("root"), 0, 40),
        span("b", Some("root"), 40, 90),
    ]);
    let path = critical_path(&t);
    assert_eq!(
        names(&t, &path),
        [("root".into(), 10), ("a".into(), 40), ("b".into(), 50)]
    );
    assert_eq!(path.iter().map(|s| s.on_path).sum::<i64>(), 100);
}

#[test]
fn critical_path_takes_the_parallel_child_that_ends_last() {
    let t = tree(vec![
        span("root", None, 0, 100),
        span("fast", Some("root"), 0, 60),
        span("slow", Some("root"), 0, 80),
        span("slow.inner", Some("slow"), 50, 75),
    ]);
    let path = critical_path(&t);
    assert_eq!(
        names(&t, &path),
        [
            ("root".into(), 20),
            ("slow".into(), 55),
            ("slow.inner".into(), 25)
        ]
    );
}

#[test]
fn critical_path_steps_back_before_a_child_that_started_late() {
    // b ends last; before b started, a (which overlaps c) is the one ending last.
    let t = tree(vec![
        span("root", None, 0, 100),
        span("a", Some("root"), 0, 50),
        span("c", Some("root"), 0, 30),
        span("b", Some("root"), 40, 100),
    ]);
    assert_eq!(
        names(&t, &critical_path(&t)),
        [("root".into(), 0), ("a".into(), 40), ("b".into(), 60)]
    );
}

#[test]
fn critical_path_over_several_top_level_spans_and_gaps() {
    let t = tree(vec![
        span("first", None, 0, 10),
        span("second", None, 30, 60),
    ]);
    let path = critical_path(&t);
    assert_eq!(
        names(&t, &path),
        [("first".into(), 10), ("second".into(), 30)]
    );
    assert_eq!(t.duration(), 60);
}

#[test]
fn critical_path_of_an_empty_trace_is_empty() {
    let t = tree(vec![]);
    assert!(critical_path(&t).is_empty());
    assert_eq!(t.duration(), 0);
}

#[test]
fn percentiles_by_nearest_rank() {
    let v: Vec<i64> = (1..=100).collect();
    assert_eq!(percentile(&v, 50.0), 50);
    assert_eq!(percentile(&v, 95.0), 95);
    assert_eq!(percentile(&v, 99.0), 99);
    assert_eq!(percentile(&v, 100.0), 100);
    assert_eq!(percentile(&v, 0.0), 1);
    assert_eq!(percentile(&[7], 99.0), 7);
    assert_eq!(percentile(&[], 50.0), 0);
    let v = [10, 20, 30, 40];
    assert_eq!(percentile(&v, 50.0), 20);
    assert_eq!(percentile(&v, 51.0), 30);
}

#[test]
fn durations_for_people() {
    assert_eq!(human(999), "0µs");
    assert_eq!(human(5_000), "5µs");
    assert_eq!(human(12_340_000), "12.3ms");
    assert_eq!(human(4_560_000_000), "4.56s");
    assert_eq!(human(123_000_000_000), "2m03s");
    assert_eq!(human(-5), "0µs");
}

#[test]
fn orphans_are_reported_with_their_descendants_and_skipped() {
    let mut seen = Vec::new();
    let t = build(
        None,
        "trace_t",
        vec![
            span("root", None, 0, 100),
            span("lost", Some("gone"), 10, 20),
            span("lost.child", Some("lost"), 11, 12),
            span("loop1", Some("loop2"), 0, 1),
            span("loop2", Some("loop1"), 0, 1),
            span("self", Some("self"), 0, 1),
        ],
        0,
        Orphans::Skip,
        &mut |s, below| seen.push((s.id.clone(), below)),
    );
    assert_eq!(t.spans.len(), 1);
    assert!(seen.contains(&("lost".into(), 1)));
    assert!(seen.contains(&("self".into(), 0)));
    // A cycle is reported (each of its spans, as it has no reachable parent).
    assert!(seen.iter().any(|(id, _)| id.starts_with("loop")));
    assert!(!seen.iter().any(|(id, _)| id == "lost.child"));
}

#[test]
fn adopted_orphans_show_at_the_top_level() {
    let t = build(
        None,
        "trace_t",
        vec![
            span("child", Some("not-yet"), 0, 5),
            span("kid", Some("child"), 1, 2),
        ],
        0,
        Orphans::Adopt,
        &mut |_, _| panic!("adopting reports nothing"),
    );
    assert_eq!(t.depth, [0, 1]);
    assert_eq!(t.parent, [None, Some(0)]);
}

#[test]
fn a_very_deep_chain_does_not_overflow_the_stack() {
    let n = 100_000;
    let mut spans = vec![span("s0", None, 0, 2 * n)];
    for i in 1..n {
        spans.push(span(
            &format!("s{i}"),
            Some(&format!("s{}", i - 1)),
            i,
            2 * n - i,
        ));
    }
    let t = tree(spans);
    assert_eq!(t.spans.len(), n as usize);
    assert_eq!(critical_path(&t).len(), n as usize);
    assert_eq!(self_times(&t).iter().sum::<i64>(), 2 * n);
}

#[test]
fn agents_are_inherited_from_the_nearest_agent_ancestor() {
    let mut a = span("a", None, 0, 10);
    a.kind = "agent";
    a.name = "Triage".into();
    let t = tree(vec![
        a,
        span("f", Some("a"), 1, 2),
        span("g", Some("f"), 1, 2),
        span("x", None, 0, 1),
    ]);
    assert_eq!(
        t.agents(),
        [Some("Triage"), Some("Triage"), Some("Triage"), None]
    );
}

fn trace_line(id: &str, ended: bool) -> Record {
    Record::Trace(TraceLine {
        id: id.into(),
        workflow_name: "wf".into(),
        group_id: None,
        started_at: ended.then_some(0),
        ended_at: ended.then_some(100),
    })
}

fn span_rec(id: &str, parent: Option<&str>) -> Record {
    Record::Span(Box::new(span(id, parent, 1, 2)))
}

#[test]
fn a_trace_completes_when_its_ended_record_arrives_after_its_spans() {
    let mut asm = Assembler::new(vec!["f".into()]);
    let mut diag = Diagnostics::new(true);
    assert!(asm
        .push(0, span_rec("child", Some("root")), &mut diag)
        .is_none());
    assert!(asm.push(0, span_rec("root", None), &mut diag).is_none());
    let t = asm.push(0, trace_line("trace_t", true), &mut diag).unwrap();
    assert_eq!((t.spans.len(), t.start, t.end), (2, 0, 100));
    // A span of a completed trace is reported and skipped.
    assert!(asm.push(0, span_rec("late", None), &mut diag).is_none());
    assert_eq!(diag.count(), 1);
    assert!(asm.finish(&mut diag).is_empty());
}

#[test]
fn sdk_traces_without_times_complete_at_the_end() {
    let mut asm = Assembler::new(vec!["f".into()]);
    let mut diag = Diagnostics::new(true);
    assert!(asm
        .push(0, trace_line("trace_t", false), &mut diag)
        .is_none());
    assert!(asm.push(0, span_rec("root", None), &mut diag).is_none());
    assert!(asm.push(0, span_rec("root", None), &mut diag).is_none()); // duplicate
    let done = asm.finish(&mut diag);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].spans.len(), 1);
    assert_eq!(diag.count(), 1);
}
