#!/bin/sh
# The OpenAPI documents: valid OpenAPI 3.1 (openapi-spec-validator) and identical to
# what docs/openapi/generate.py writes; docs/api-reference.md identical to what
# docs/openapi/reference.py makes of them. Needs: pip install openapi-spec-validator.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp docs/openapi/generate.py "$tmp/"
python3 "$tmp/generate.py"
python3 docs/openapi/reference.py "$tmp"
if ! cmp -s "$tmp/api-reference.md" docs/api-reference.md; then
    echo "docs/api-reference.md differs from reference.py's output: run python3 docs/openapi/reference.py" >&2
    exit 1
fi
for doc in agent.json gateway.json; do
    if ! cmp -s "$tmp/$doc" "docs/openapi/$doc"; then
        echo "docs/openapi/$doc differs from generate.py's output: run python3 docs/openapi/generate.py" >&2
        exit 1
    fi
    openapi-spec-validator "docs/openapi/$doc"
done
