"""Reading Vigie list files and the Public Suffix List, for the list tests.

Only what the tests need: the entry kinds of lists/list_loader.h (plain,
full:, ip:, label patterns with one '*' in the leftmost label, hosts /
adblock / dnsmasq / domain: forms) and the PSL algorithm of
https://github.com/publicsuffix/list/wiki/Format (rules, '*.' wildcards,
'!' exceptions, the implicit '*' rule). The authoritative parser is the C++
loader; `vigie check-config` is run beside these checks.
"""
import os
import re

DEFAULT_PSL = "/usr/share/publicsuffix/public_suffix_list.dat"

_HOSTS_ADDR = re.compile(r"^[0-9a-fA-F:.]+$")


class Entry:
    """One entry of a list file: kind is 'domain', 'full', 'pattern' or 'ip'."""

    def __init__(self, kind, value, file, line):
        self.kind, self.value, self.file, self.line = kind, value, file, line

    def where(self):
        return f"{self.file}:{self.line}"


def read_list(path):
    """Returns (header comment lines, entries) of one list file."""
    header, entries, in_header = [], [], True
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if raw.lstrip().startswith("#"):
                if in_header:
                    header.append(raw.rstrip("\n"))
                continue
            if not line:
                continue
            in_header = False
            for kind, value in _parse(line):
                entries.append(Entry(kind, value, path, number))
    return header, entries


def _parse(line):
    if line.startswith("ip:"):
        return [("ip", line[3:])]
    if line.startswith("full:"):
        return [("full", line[5:].lower().rstrip("."))]
    if line.startswith("domain:"):
        line = line[7:]
    elif line.startswith("||"):
        line = line[2:].split("^", 1)[0]
    elif line.startswith(("address=/", "server=/")):
        line = line.split("/")[1]
    else:
        words = line.split()
        if len(words) > 1 and _HOSTS_ADDR.match(words[0]):
            return [("domain", w.lower().rstrip(".")) for w in words[1:]]
    value = line.lower().rstrip(".")
    return [("pattern" if "*" in value else "domain", value)]


def app_lists(lists_dir):
    """{app id: path} of every *.list file of lists_dir."""
    return {name[:-5]: os.path.join(lists_dir, name)
            for name in sorted(os.listdir(lists_dir)) if name.endswith(".list")}


def read_shared_parents(path):
    """Domains of lists/shared_parents.list: one a line, # comments."""
    parents = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip().lower().rstrip(".")
            if line:
                parents.append(line)
    return parents


def pattern_matches(pattern, name):
    """Label pattern semantics: one '*' in the leftmost label (matching one or
    more characters, never a dot), the rest exact; never the parent itself."""
    first, _, parent = pattern.partition(".")
    label, _, rest = name.partition(".")
    if rest != parent or not label:
        return False
    prefix, _, suffix = first.partition("*")
    return (len(label) > len(prefix) + len(suffix) and label.startswith(prefix)
            and label.endswith(suffix))


class PublicSuffixList:
    def __init__(self, path=DEFAULT_PSL):
        self.rules, self.wildcards, self.exceptions = set(), set(), set()
        with open(path, encoding="utf-8") as f:
            for raw in f:
                rule = raw.strip().split()[0] if raw.strip() else ""
                if not rule or rule.startswith("//"):
                    continue
                rule = _to_ascii(rule)
                if rule is None:
                    continue
                if rule.startswith("!"):
                    self.exceptions.add(rule[1:])
                elif rule.startswith("*."):
                    self.wildcards.add(rule[2:])
                else:
                    self.rules.add(rule)
        if not self.rules:
            raise ValueError(f"{path}: no rules")

    def public_suffix(self, name):
        """The longest public suffix of name (PSL algorithm)."""
        labels = name.split(".")
        best = labels[-1]  # implicit "*" rule
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.exceptions:
                return ".".join(labels[i + 1:])
            if candidate in self.rules and candidate.count(".") + 1 > best.count(".") + 1:
                best = candidate
            parent = ".".join(labels[i + 1:])
            if i + 1 < len(labels) and parent in self.wildcards:
                if candidate.count(".") + 1 > best.count(".") + 1:
                    best = candidate
        return best

    def is_public_suffix(self, name):
        return self.public_suffix(name) == name

    def registrable(self, name):
        """eTLD+1 of name, or None when name is itself a public suffix."""
        suffix = self.public_suffix(name)
        if suffix == name:
            return None
        head = name[: -len(suffix) - 1]
        return head.rsplit(".", 1)[-1] + "." + suffix


def _to_ascii(rule):
    prefix = ""
    if rule[0] in "!":
        prefix, rule = "!", rule[1:]
    if rule.startswith("*."):
        prefix, rule = prefix + "*.", rule[2:]
    try:
        rule.encode("ascii")
        return prefix + rule.lower()
    except UnicodeEncodeError:
        try:
            return prefix + rule.encode("idna").decode("ascii")
        except UnicodeError:
            return None
