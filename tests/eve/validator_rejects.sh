#!/bin/sh
# validator_rejects.sh PYTHON VALIDATOR: the validator passes line 1 of
# testdata/invalid.jsonl and names every other line (extra top-level field,
# dns without version, string flow_id, invalid UTF-8, duplicate key, bad
# timestamp, extra alert field) with exit status 1. Exit 77 when it skips.
here=$(dirname "$0")
out=$("$1" "$2" "$here/testdata/invalid.jsonl")
rc=$?
echo "$out"
[ "$rc" = 77 ] && exit 77
[ "$rc" = 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
echo "$out" | grep -q 'invalid.jsonl:1:' && { echo "line 1 is valid but was rejected"; exit 1; }
for n in 2 3 4 5 6 7 8; do
  echo "$out" | grep -q "invalid.jsonl:$n:" || { echo "line $n was not rejected"; exit 1; }
done
echo "$out" | grep -q '7 of 8 lines invalid' || { echo "wrong failure count"; exit 1; }
exit 0
