#!/usr/bin/env bash
# deploy/ansible: the playbook parses, the template renders a config that
# Vigie accepts (with the lists of this tree), strings are escaped for TOML,
# a policy naming an app with no list is refused by vigie's check (what the
# play's check task runs), and an exception without a ticket is refused by the
# play's pre-task. Runs only local actions; skips (77) without ansible-core.
#   ansible_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
A=$SOURCE_DIR/deploy/ansible
command -v ansible-playbook >/dev/null || { echo "SKIP: ansible-playbook not installed (Debian ansible-core)"; exit 77; }
T=$(mktemp -d /tmp/vigie-ansible.XXXXXX)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
export ANSIBLE_LOCAL_TEMP=$T/tmp ANSIBLE_REMOTE_TEMP=$T/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "PASS $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# render OUT [extra -e files...]: the template with group_vars/gateways.yml
render() {
  local out=$1; shift
  local extra=()
  for f in "$@"; do extra+=(-e "@$f"); done
  ansible localhost -i localhost, -c local -m ansible.builtin.template \
    -a "src=$A/templates/vigie.toml.j2 dest=$out" -e "@$A/group_vars/gateways.yml" "${extra[@]}" \
    -e "vigie_lists_dir=$SOURCE_DIR/lists/apps" > "$T/render.log" 2>&1
}

out=$(cd "$A" && ansible-playbook --syntax-check -i inventory.example site.yml 2>&1) &&
  pass "ansible-playbook --syntax-check site.yml" || fail "syntax check: $out"

if render "$T/vigie.toml"; then
  out=$("$VIGIE" check-config --config "$T/vigie.toml" 2>&1) && [[ $out == *": ok "* ]] &&
    pass "group_vars/gateways.yml renders a config vigie accepts: '$out'" || fail "rendered config refused: $out"
else fail "render: $(tail -5 "$T/render.log")"; fi

# Strings with TOML metacharacters stay strings (to_json escaping).
cat > "$T/quotes.yml" <<'YML'
vigie_exceptions:
  - id: 'odd "name" \ here'
    devices: ["10.20.5.17/32"]
    apps: [twitter]
    until: "2099-12-31"
    reason: "line one\nline two, a \"quote\" and a backslash \\"
    ticket: SEC-9
YML
if render "$T/quotes.toml" "$T/quotes.yml"; then
  out=$("$VIGIE" check-config --config "$T/quotes.toml" 2>&1) && [[ $out == *"1 exceptions"* ]] &&
    pass "quotes, backslashes and newlines in exception strings render as valid TOML" || fail "quotes: $out"
  out=$("$VIGIE" lookup --config "$T/quotes.toml" --src 10.20.5.17 www.twitter.com 2>&1)
  [[ $out == *'odd "name" \ here'* || $out == *'odd \"name\" \\ here'* ]] &&
    pass "the exception id round-trips through the template: vigie lookup names it" || fail "lookup: $out"
else fail "render quotes: $(tail -5 "$T/render.log")"; fi

# The play's check task runs this command: a policy naming an app with no
# list must fail it, with file:line.
printf 'vigie_policies:\n  - {apps: [tiktok, nosuchapp], action: block}\n' > "$T/badapp.yml"
if render "$T/badapp.toml" "$T/badapp.yml"; then
  out=$("$VIGIE" check-config --config "$T/badapp.toml" 2>&1); rc=$?
  [ $rc -ne 0 ] && [[ $out == *badapp.toml:[0-9]*nosuchapp* ]] &&
    pass "a policy naming an app with no list is refused by the check: '$out'" || fail "bad app accepted: rc $rc $out"
else fail "render badapp: $(tail -5 "$T/render.log")"; fi

# The pre-task refuses an exception without a ticket (only that task runs:
# --tags exceptions, on localhost).
printf '[gateways]\nlocalhost ansible_connection=local ansible_become=false\n' > "$T/inventory"
printf 'vigie_exceptions:\n  - {id: no-ticket, devices: ["10.0.0.1/32"], apps: [twitter], until: "2099-01-01", reason: x}\n' > "$T/noticket.yml"
out=$(cd "$A" && ansible-playbook -i "$T/inventory" site.yml --tags exceptions -e "@$T/noticket.yml" 2>&1); rc=$?
[ $rc -ne 0 ] && [[ $out == *"exception no-ticket: needs"* ]] &&
  pass "an exception without a ticket stops the play before anything is installed" ||
  fail "no-ticket exception: rc $rc $(echo "$out" | tail -5)"
out=$(cd "$A" && ansible-playbook -i "$T/inventory" site.yml --tags exceptions 2>&1); rc=$?
[ $rc -eq 0 ] && pass "the shipped exceptions pass the pre-task" || fail "shipped exceptions: rc $rc $(echo "$out" | tail -5)"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
