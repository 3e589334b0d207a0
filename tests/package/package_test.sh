#!/bin/sh
# The .deb (issue 12), checked without installing it: cpack builds it, dpkg-deb
# extracts it, and each check reads the extracted tree.
#
#   package_test.sh build BUILD_DIR OUT_DIR VERSION   $CPACK (default cpack) -> OUT_DIR/vigie_<VERSION>_<arch>.deb,
#                                                     extracted into OUT_DIR/root
#   package_test.sh layout OUT_DIR          files where the FHS and the unit expect them
#   package_test.sh control OUT_DIR         conffiles = every file under /etc, postinst
#                                           creates the user, Depends from shlibdeps
#   package_test.sh check-config OUT_DIR    the extracted binary accepts the extracted config
#                                           and its lists (and only those)
#   package_test.sh man OUT_DIR             vigie.8 renders with no groff/man warning
#   package_test.sh systemd OUT_DIR         systemd-analyze verify on the unit (77: skipped)
#   package_test.sh logrotate OUT_DIR       logrotate parses /etc/logrotate.d/vigie (77: skipped)
#
# Exit status: 0 pass, 1 fail (with the reason on stderr), 77 skipped.
set -eu

fail() {
  echo "package_test: FAIL: $*" >&2
  exit 1
}
skip() {
  echo "package_test: SKIP: $*" >&2
  exit 77
}

cmd=$1
out=$2
root=$out/root

case $cmd in
  build)
    build=$2
    out=$3
    version=$4
    root=$out/root
    rm -rf "$out"
    mkdir -p "$out"
    "${CPACK:-cpack}" --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
      { cat "$out/cpack.log" >&2; fail "cpack failed"; }
    deb="$out/vigie_${version}_$(dpkg --print-architecture).deb"
    [ -f "$deb" ] || fail "no $deb (cpack made: $(ls "$out"))"
    dpkg-deb -x "$deb" "$root"
    ln -sf "$deb" "$out/vigie.deb"
    ;;

  layout)
    for f in usr/bin/vigie usr/share/vigie/rules/vigie-iptables.sh; do
      [ -x "$root/$f" ] || fail "/$f missing or not executable"
    done
    for f in etc/vigie/vigie.toml etc/vigie/lists/apps/tiktok.list etc/logrotate.d/vigie \
      lib/systemd/system/vigie.service usr/share/vigie/rules/vigie.nft \
      usr/share/man/man8/vigie.8.gz usr/share/doc/vigie/README.md; do
      [ -f "$root/$f" ] || fail "/$f missing"
    done
    # Nothing under the prefix that belongs in /etc, nothing from the build host.
    [ ! -e "$root/usr/etc" ] || fail "/usr/etc exists: config installed under the prefix"
    [ ! -e "$root/usr/local" ] || fail "/usr/local exists: installed with the wrong prefix"
    # The packaged config: lists beside it, decisions in the unit's log directory.
    grep -q '^dir = "lists/apps"' "$root/etc/vigie/vigie.toml" ||
      fail "/etc/vigie/vigie.toml: [lists] dir is not lists/apps"
    grep -q '^path = "/var/log/vigie/decisions.jsonl"' "$root/etc/vigie/vigie.toml" ||
      fail "/etc/vigie/vigie.toml: [log] path is not /var/log/vigie/decisions.jsonl"
    grep -q '^ReadWritePaths=/var/log/vigie$' "$root/lib/systemd/system/vigie.service" ||
      fail "the unit cannot write the config's log directory"
    ;;

  control)
    info=$(dpkg-deb -I "$out/vigie.deb")
    ctl=$out/control
    rm -rf "$ctl"
    dpkg-deb -e "$out/vigie.deb" "$ctl"
    # Every file under /etc is a conffile, and every conffile is in the package.
    (cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$out/etc-files"
    sort "$ctl/conffiles" >"$out/conffiles"
    diff -u "$out/etc-files" "$out/conffiles" >&2 ||
      fail "conffiles differ from the files under /etc (- in the package only, + in conffiles only)"
    echo "$info" | grep -q ' conffiles ' || fail "dpkg-deb -I shows no conffiles"
    for s in postinst prerm postrm; do
      [ -x "$ctl/$s" ] || fail "no executable $s"
      sh -n "$ctl/$s" || fail "$s: shell syntax"
    done
    grep -q 'adduser --system' "$ctl/postinst" || fail "postinst creates no system user"
    grep -q 'addgroup --system --quiet vigie' "$ctl/postinst" || fail "postinst creates no vigie group"
    grep -q 'install -d -o vigie -g adm -m 2750 /var/log/vigie' "$ctl/postinst" ||
      fail "postinst does not create /var/log/vigie for vigie"
    grep -q '/run/systemd/system' "$ctl/postinst" || fail "postinst calls systemctl without checking for systemd"
    grep -q 'systemctl stop vigie.service' "$ctl/prerm" || fail "prerm does not stop the service"
    deps=$(dpkg-deb -f "$out/vigie.deb" Depends)
    for d in adduser libc6 libpcap0.8 libnetfilter-queue1 libstdc++6; do
      echo "$deps" | grep -q "$d" || fail "Depends lacks $d (shlibdeps?): $deps"
    done
    ;;

  check-config)
    vigie=$root/usr/bin/vigie
    conf=$root/etc/vigie/vigie.toml
    # From / so that nothing relative to the working directory helps.
    msg=$(cd / && "$vigie" check-config --config "$conf" 2>&1) || fail "check-config: $msg"
    echo "$msg" | grep -q "^$conf: ok" || fail "check-config said: $msg"
    # The same through VIGIE_CONFIG, as the default config would be found.
    msg=$(cd / && VIGIE_CONFIG=$conf "$vigie" check-config 2>&1) || fail "VIGIE_CONFIG check-config: $msg"
    # The lists come from the extracted tree, not from the build host or a live /etc.
    got=$(cd / && "$vigie" lookup --config "$conf" www.tiktok.com)
    echo "$got" | grep -q "block.*($root/etc/vigie/lists/apps/tiktok.list:" ||
      fail "lookup does not block tiktok from the packaged list: $got"
    # What an operator hits when checking a copy of the config without its lists:
    # a clear error naming the missing directory, not a pass.
    mkdir -p "$out/alone"
    cp "$conf" "$out/alone/vigie.toml"
    if msg=$(cd / && "$vigie" check-config --config "$out/alone/vigie.toml" 2>&1); then
      fail "a config copied without its lists passed: $msg"
    fi
    echo "$msg" | grep -q "$out/alone/vigie.toml:.*$out/alone/lists/apps" ||
      fail "unclear error for a config without lists: $msg"
    ;;

  man)
    page=$out/vigie.8
    gzip -dc "$root/usr/share/man/man8/vigie.8.gz" >"$page"
    warn=$(groff -ww -man -z "$page" 2>&1) || fail "groff: $warn"
    [ -z "$warn" ] || fail "groff warnings: $warn"
    warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man -l: $warn"
    [ -z "$warn" ] || fail "man warnings: $warn"
    text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
    for want in "vigie check-config" "SIGHUP" "/etc/vigie/vigie.toml" "VIGIE_CONFIG"; do
      echo "$text" | grep -q -- "$want" || fail "rendered man page lacks '$want'"
    done
    ;;

  systemd)
    command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (apt-get install systemd)"
    # verify checks that ExecStart's binary exists and that man:vigie(8)
    # resolves: point both at the extracted tree (the unit is otherwise unchanged).
    mkdir -p "$out/unit"
    sed "s|/usr/bin/vigie|$root/usr/bin/vigie|g" "$root/lib/systemd/system/vigie.service" \
      >"$out/unit/vigie.service"
    msg=$(MANPATH=$root/usr/share/man systemd-analyze verify "$out/unit/vigie.service" 2>&1) ||
      fail "systemd-analyze verify: $msg"
    # Unknown keys and bad values are only warnings for verify: none allowed.
    [ -z "$msg" ] || fail "systemd-analyze verify warnings: $msg"
    score=$(systemd-analyze security --offline=yes "$out/unit/vigie.service" 2>&1 | tail -n 1)
    echo "$score"
    echo "$score" | grep -Eq 'level for vigie.service: [0-2]\.[0-9] OK' ||
      fail "security exposure above 2.9 (or not OK): $score"
    ;;

  logrotate)
    command -v logrotate >/dev/null || skip "logrotate not installed"
    # The vigie user does not exist on a build host: parse a copy owned by root.
    sed 's/create 0640 vigie adm/create 0640 root adm/' "$root/etc/logrotate.d/vigie" >"$out/logrotate.conf"
    msg=$(logrotate -d -s "$out/logrotate.state" "$out/logrotate.conf" 2>&1) || fail "logrotate: $msg"
    ! echo "$msg" | grep -q '^error' || fail "logrotate: $msg"
    echo "$msg" | grep -q 'rotating pattern: /var/log/vigie/\*.jsonl' || fail "logrotate read no rule: $msg"
    ;;

  *)
    echo "package_test: unknown check $cmd" >&2
    exit 2
    ;;
esac
