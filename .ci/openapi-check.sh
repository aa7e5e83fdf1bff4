#!/bin/sh
# The OpenAPI documents: valid OpenAPI 3.1 (openapi-spec-validator) and identical to
# what docs/openapi/generate.py writes. Needs: pip install openapi-spec-validator.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp docs/openapi/generate.py "$tmp/"
python3 "$tmp/generate.py"
for doc in agent.json gateway.json; do
    if ! cmp -s "$tmp/$doc" "docs/openapi/$doc"; then
        echo "docs/openapi/$doc differs from generate.py's output: run python3 docs/openapi/generate.py" >&2
        exit 1
    fi
    openapi-spec-validator "docs/openapi/$doc"
done
