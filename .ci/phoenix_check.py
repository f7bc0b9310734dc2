"""Checks that Phoenix stored the `otlp` example's spans: count, parents, names, token counts.

Polls Phoenix's REST API (`GET /v1/projects/{project}/spans`) until the expected number of
spans is there (Phoenix inserts asynchronously), then checks each trace's tree. Standard
library only. Exit status 0 when everything matches, 1 otherwise.
"""

import argparse
import collections
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# What one run of the example's workflow produces: name -> parent name (None: root).
EXPECTED_TREE = [
    ("invoke_workflow customer-support", None),
    ("invoke_agent Triage", "invoke_workflow customer-support"),
    ("guardrail no_pii", "invoke_agent Triage"),
    ("chat gpt-4o-mini", "invoke_agent Triage"),
    ("handoff Triage -> Billing", "invoke_agent Triage"),
    ("invoke_agent Billing", "invoke_workflow customer-support"),
    ("chat gpt-4o", "invoke_agent Billing"),
    ("chat gpt-4o", "invoke_agent Billing"),
    ("execute_tool lookup_invoice", "invoke_agent Billing"),
    ("execute_tool issue_refund", "invoke_agent Billing"),
    ("execute_tool issue_refund", "invoke_agent Billing"),
]
# (model, input tokens, output tokens) of the generations of one run.
EXPECTED_USAGE = sorted([("gpt-4o-mini", 42, 6), ("gpt-4o", 180, 24), ("gpt-4o", 220, 40)])


def fetch_spans(base, project):
    spans, cursor = [], None
    while True:
        query = {"limit": "1000"}
        if cursor:
            query["cursor"] = cursor
        url = f"{base}/v1/projects/{urllib.parse.quote(project)}/spans?" + urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                page = json.load(response)
        except urllib.error.HTTPError as e:
            if e.code == 404:  # the project appears with its first span
                return []
            raise
        spans.extend(page.get("data", []))
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def attr(span, key):
    """An attribute, whether Phoenix returns keys flat (`a.b`) or nested ({"a": {"b": …}})."""
    attributes = span.get("attributes") or {}
    if key in attributes:
        return attributes[key]
    node = attributes
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check(spans, expect):
    problems = []
    if len(spans) != expect:
        problems.append(f"expected {expect} spans, Phoenix has {len(spans)}")
    by_trace = collections.defaultdict(list)
    for s in spans:
        by_trace[s["context"]["trace_id"]].append(s)
    runs = expect // len(EXPECTED_TREE)
    if runs == 0:
        problems.append("nothing to check: expected no spans")
    if len(by_trace) != runs:
        problems.append(f"expected {runs} traces, found {len(by_trace)}")
    for trace_id, members in by_trace.items():
        ids = {s["context"]["span_id"]: s for s in members}
        tree = []
        for s in members:
            parent = s.get("parent_id")
            if parent and parent not in ids:
                problems.append(f"{trace_id}: span {s['name']!r} has parent {parent} not in the trace")
                continue
            tree.append((s["name"], ids[parent]["name"] if parent else None))
        if sorted(tree, key=str) != sorted(EXPECTED_TREE, key=str):
            problems.append(f"{trace_id}: tree {sorted(tree, key=str)} != {sorted(EXPECTED_TREE, key=str)}")
        usage = sorted(
            (attr(s, "gen_ai.request.model"), attr(s, "gen_ai.usage.input_tokens"), attr(s, "gen_ai.usage.output_tokens"))
            for s in members
            if s["name"].startswith("chat ")
        )
        if usage != EXPECTED_USAGE:
            problems.append(f"{trace_id}: token counts {usage} != {EXPECTED_USAGE}")
        # Every span carries its conversation id: the trace's start record reaches the
        # exporter before the trace's spans.
        missing = [s["name"] for s in members if not attr(s, "gen_ai.conversation.id")]
        if missing:
            problems.append(f"{trace_id}: spans without gen_ai.conversation.id: {missing}")
        errors = [s for s in members if s.get("status_code") == "ERROR"]
        if len(errors) != 1 or errors[0]["name"] != "execute_tool issue_refund":
            problems.append(f"{trace_id}: expected one failed issue_refund, got {[s['name'] for s in errors]}")
    return problems


def synthetic_run(trace_id):
    """The spans of one correct run, as Phoenix's REST API returns them (for --self-test)."""
    ids = {}
    spans = []
    usage = iter(sorted(EXPECTED_USAGE, key=lambda u: u[1]))
    for i, (name, parent) in enumerate(EXPECTED_TREE):
        span_id = f"{trace_id}-{i}"
        ids.setdefault(name, span_id)
        attributes = {"gen_ai.conversation.id": f"conv-{trace_id}"}
        if name.startswith("chat "):
            model, tokens_in, tokens_out = next(u for u in usage if name.endswith(u[0]))
            attributes.update({"gen_ai.request.model": model, "gen_ai.usage.input_tokens": tokens_in,
                               "gen_ai.usage.output_tokens": tokens_out})
        spans.append({"name": name, "context": {"trace_id": trace_id, "span_id": span_id},
                      "parent_id": ids[parent] if parent else None, "attributes": attributes,
                      "status_code": "ERROR" if name == "execute_tool issue_refund" and "ERROR" not in
                      [s.get("status_code") for s in spans] else "OK"})
    return spans


def self_test():
    """The check must pass on what a correct run stores and fail on anything less: no spans
    (an example that exported nothing), one span missing, one trace missing, a wrong parent."""
    good = synthetic_run("t1") + synthetic_run("t2")
    expect = 2 * len(EXPECTED_TREE)
    failures = []
    if check(good, expect):
        failures.append(f"a correct run is rejected: {check(good, expect)}")
    bad_cases = {
        "no spans": [],
        "one span missing": good[:-1],
        "one trace missing": good[: len(EXPECTED_TREE)],
        "a wrong parent": [dict(s, parent_id=None) if i == 3 else s for i, s in enumerate(good)],
    }
    for what, spans in bad_cases.items():
        if not check(spans, expect):
            failures.append(f"{what} passes the check")
    for f in failures:
        print(f"phoenix_check: SELF-TEST FAILED: {f}", file=sys.stderr)
    if not failures:
        print(f"phoenix_check: self-test OK (1 good case, {len(bad_cases)} bad cases)")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--traces", type=int, required=True,
                        help="traces the example runs (pinned here, not read from its output)")
    parser.add_argument("--exported-items", type=int, required=True,
                        help="items the example says it exported (a cross-check)")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    # Each trace is the tree below in Phoenix; its items at the exporter are the tree's spans
    # less the workflow span, plus the trace's record at its start and at its end.
    args.expect = args.traces * len(EXPECTED_TREE)
    items_per_trace = len(EXPECTED_TREE) - 1 + 2
    if args.exported_items != args.traces * items_per_trace:
        print(f"phoenix_check: FAIL: the example exported {args.exported_items} items, expected "
              f"{args.traces * items_per_trace} ({args.traces} traces of {items_per_trace})")
        return 1

    deadline = time.monotonic() + args.timeout
    spans, delay = [], 0.2
    while True:
        spans = fetch_spans(args.url, args.project)
        if len(spans) >= args.expect or time.monotonic() > deadline:
            break
        time.sleep(delay)
        delay = min(delay * 2, 3)
    problems = check(spans, args.expect)

    print(f"phoenix_check: project {args.project!r}: {len(spans)} spans in "
          f"{len({s['context']['trace_id'] for s in spans})} traces")
    sample = next((s for s in spans if s["name"].startswith("chat ")), spans[0] if spans else None)
    if sample:
        print(f"phoenix_check: sample span {sample['name']!r} (kind {sample.get('span_kind')}, "
              f"status {sample.get('status_code')}, parent {sample.get('parent_id')}):")
        print(json.dumps(sample.get("attributes"), indent=2, sort_keys=True))
    for p in problems:
        print(f"phoenix_check: PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
