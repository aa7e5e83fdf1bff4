#!/usr/bin/env python3
"""Assigns each operation of an OpenAPI document to a run of .ci/schemathesis.sh.

Usage: schemathesis_runs.py DOC OUT
Writes DOC to OUT with `x-st-run` set on every operation, which the script selects with
`--include-by '/x-st-run == "<run>"'`:
  main  every other operation;
  exit  operations marked `x-spp-terminates`: they end a simulated process for good, so they
        run last, once nothing else needs the process;
  skip  operations answering `text/event-stream`: a stream never ends, so every case would
        only run into the request timeout.
The operations stay in the document, so schemathesis knows every method of each path (its
probes for unsupported methods must not send DELETE to an exit route). Prints the counts and
the skipped operations.
"""
import json
import sys

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def run_of(operation):
    if any("text/event-stream" in (r.get("content") or {}) for r in operation.get("responses", {}).values()):
        return "skip"
    return "exit" if operation.get("x-spp-terminates") else "main"


def main(doc_path, out_path):
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
    counts = {"main": 0, "exit": 0, "skip": 0}
    for path, item in doc["paths"].items():
        for method in (m for m in METHODS if m in item):
            run = run_of(item[method])
            item[method]["x-st-run"] = run
            counts[run] += 1
            if run == "skip":
                print(f"{doc_path}: skipped (text/event-stream never ends): {method.upper()} {path}")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    print(f"{doc_path}: " + ", ".join(f"{n} operations {run}" for run, n in counts.items()))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
